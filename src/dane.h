/*
 * dane.c: the records to publish (tlsa), and the guard: a chain DANE
 * senders may get on port 25 that no published TLSA record matches is
 * refused before it is served.  Whether a record matches is OpenSSL's
 * verdict (the DANE code Postfix's own smtp client runs); the policy
 * (enforce, warn, auto, which AD bit counts, the rollover warning) is
 * ours.
 */
#ifndef DANE_H
#define DANE_H

#include <stddef.h>

#include <openssl/x509.h>

#include "common.h"

struct settings;
struct postfix;
struct chain;

/* A chain a DANE sender may get, and whose it is. */
struct dane_chain {
	char	*who;		/* the identity, for messages */
	X509	*x509[MAX_CHAIN_LEN];
	size_t	 n;
};

/* The chains served for one MX host name. */
struct chains {
	char			*name;
	struct dane_chain	*v;
	size_t			 n;
};

/* WHO's chain C, once (the same leaf for the same identity is one). */
void	chains_add(struct chains *, const char *who, const struct chain *);
void	chains_free(struct chains *);

/* The MX host names: POSTFIX_TLS_DANE_NAMES, else myhostname. */
int	dane_names(const struct settings *, const struct postfix *,
	    char ***names, size_t *n);
void	dane_names_free(char **names, size_t n);

/* tlsa: each record to publish, once a name. */
int	dane_print(const struct chains *, size_t n);
/*
 * The guard over N names' chains; CHECK adds the rollover warning.  The
 * lookup of the N names (as dane_names gives them) is started early, so
 * it runs while the caller works; dane_guard starts it right away.
 */
struct dane_lookup;
struct dane_lookup *dane_lookup_start(const struct settings *, char **names,
	    size_t n);
void	dane_lookup_abandon(struct dane_lookup *);
int	dane_guard_lookup(const struct settings *, struct dane_lookup *,
	    const struct chains *, size_t n, int check);
int	dane_guard(const struct settings *, const struct chains *, size_t n,
	    int check);

#endif /* DANE_H */
