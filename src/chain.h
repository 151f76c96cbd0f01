/* chain.c: put the leaf first and its issuers in order. */
#ifndef CHAIN_H
#define CHAIN_H

#include <stddef.h>

#include <openssl/x509.h>

#include "common.h"

struct pool;
struct key;

struct chain {
	X509		*x509[MAX_CHAIN_LEN];
	size_t		 n;
	X509		*root;		/* a self-signed root left out, or NULL */
	const char	*root_src;
};

int	chain_build(struct pool *, const struct key *, const char *leafsrc,
	    const char *const *srcs, size_t nsrcs, int include_root,
	    struct chain *);
int	chain_pem(const struct chain *, const struct key *key_first,
	    unsigned char **buf, size_t *len);

#endif /* CHAIN_H */
