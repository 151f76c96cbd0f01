/*
 * material.c: a slot's files read as smtpd reads them (tls_certkey.c),
 * each name walked safely as written: its keys, each with the chain that
 * follows it.  smtpd_tls_chain_files and SNI entries are one stream over
 * their files (each private key starts a group, the certificates after
 * it are its chain, leaf first); a legacy pair is a chain file, leaf
 * first, and a key file.  A file this run is about to write is read as
 * it will be: the new bundle.
 */
#ifndef MATERIAL_H
#define MATERIAL_H

#include <stddef.h>

#include "pem.h"

struct file;
struct slot;

struct chain;

/* A bundle this run writes, and what it will hold. */
struct pending {
	const struct file	*bundle;	/* walked */
	const struct file	*key;	/* its key file; NULL: in the bundle */
	const unsigned char	*pem;	/* the new bundle; NULL: refused */
	size_t			 len;
	const struct chain	*chain;	/* as assembled (even refused), or
					   NULL */
	const char		*keysrc;	/* where its key comes from */
};

/* One key and the certificates after it. */
struct group {
	struct key	 key;
	struct pool	 pool;
	char		*keysrc;	/* the key's file */
	char		**srcs;		/* the files its pieces came from */
	size_t		  nsrcs;
	const char	*leafsrc;	/* the leaf's file, else the key's */
	int		 covered;	/* its set judged it: list it only */
	int		 stream;	/* from a stream, not a legacy pair */
};

struct material {
	struct group	*g;
	size_t		 n;
	char		**secure;	/* "SHA256 PATH": to make root's */
	size_t		 nsecure;
	int		 skipped;	/* a refused bundle: said already */
	const struct pending *refused;	/* ... the first one met */
	char		 stored[65];	/* a stream: SHA-256 of what postmap -F
					   stores of it (its files, "\n"
					   between), in hex; "" if unread */
};

/* 0, or -1 when something cannot be read as smtpd reads it (logged). */
int	material_load(const struct slot *, const struct pending *, size_t n,
	    struct material *);
void	material_free(struct material *);

#endif /* MATERIAL_H */
