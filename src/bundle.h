/*
 * bundle.c: the bundles deploy writes.  Set 1 is POSTFIX_TLS_CERT, _KEY,
 * _CHAIN, _BUNDLE; set N their _N forms.  Each set's leaf, key and CA
 * files are read, the chain is put in order (chain.c) and verified, and
 * the new bundle is assembled in memory; it is written only once every
 * check of the run passed.  Without settings, set 1 is main.cf's own
 * files, fixed in place.
 */
#ifndef BUNDLE_H
#define BUNDLE_H

#include <stddef.h>

#include "chain.h"
#include "common.h"
#include "material.h"
#include "pem.h"
#include "secure.h"

struct settings;
struct setconf;
struct postfix;
struct trust;

struct set {
	int		 n;		/* 1, 2, ... as in the names */
	const struct setconf *conf;
	const char	*bundle;	/* the file we write */
	char		 chain_file[PATH_MAX];	/* Nth smtpd_tls_chain_files */
	const char	*leafsrc;	/* where the leaf comes from */
	const char	*keypath;
	int		 key_in_bundle;
	struct file	 in[MAX_INPUTS + 2];	/* distinct input files */
	int		 in_ok[MAX_INPUTS + 2];	/* read and parsed */
	size_t		 nin;
	struct file	*keyf;		/* one of in[] */
	unsigned char	*keybuf;	/* the key file as checked */
	size_t		 keylen;
	struct file	 bundlef;
	struct pool	 pool;
	struct key	 key;
	struct chain	 chain;
	int		 chain_ok;	/* built; the checks ran on it */
	int		 early;		/* checked while postconf ran */
	int		 inputs_rc;	/* check_inputs' verdict */
	unsigned char	*pem;		/* the new bundle, when all passed */
	size_t		 pemlen;
};

struct sets {
	struct set	*v[MAX_SETS];
	size_t		 n;
	int		 include_root;
	int		 warn_days;
	const struct trust *trust;
};

/* Set 1 always, set N when any POSTFIX_TLS_*_N is given. */
void	sets_make(const struct settings *, const struct trust *,
	    struct sets *);
/* The inputs of sets that need nothing from Postfix, read now. */
void	sets_check_early(struct sets *);
/* Which file each set writes, its leaf and key: 0, or -1 (logged). */
int	sets_choose(struct sets *, const struct postfix *);
/* Each set read, verified and assembled: 0, or -1 (logged). */
int	sets_check(struct sets *, const struct postfix *);
/* What the slots will read in place of the files the sets write. */
size_t	sets_pending(const struct sets *, struct pending *);
/*
 * Everything passed: the sets' key files root's alone (or said), except
 * a renewal's: CLIENT's key (renew's files, or NULL) stays the client's.
 */
int	sets_secure_keys(struct sets *, int apply,
	    const struct setconf *client);
/* Is PATH one of the sets' key files? */
int	sets_is_key(const struct sets *, const char *path);
/* Then the bundles written (or what would be, said). */
int	sets_write(struct sets *, int apply);
void	sets_free(struct sets *);

#endif /* BUNDLE_H */
