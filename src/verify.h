/*
 * verify.c: what "openssl verify -purpose sslserver" checks and what
 * Postfix and its peers need beyond it (key matches, no passphrase, no
 * weak key or signature, no must-staple), and for a client certificate
 * what a relay that checks one would say.
 */
#ifndef VERIFY_H
#define VERIFY_H

#include <openssl/x509.h>

struct chain;
struct key;

/* Where trust comes from: POSTFIX_TLS_CAFILE / CAPATH, or the system. */
struct trust {
	const char	*cafile, *capath;
};

/* A server chain: 0, or -1 (logged). */
int	verify_chain(const struct chain *, const struct trust *,
	    const char *leafsrc);
/* A client chain: what a relay would refuse, as warnings. */
void	verify_client(const struct chain *, const struct trust *,
	    const char *leafsrc, const char *param);
int	verify_key(const struct chain *, const struct key *,
	    const char *keypath, const char *leafsrc);
void	verify_warn(const struct chain *, const char *leafsrc,
	    const char *host, const char *host_what, int warn_days);
void	verify_host(const struct chain *, const char *leafsrc,
	    const char *host, const char *host_what);
const char *verify_fix(int err);
int	verify_names(X509 *, const char *host);
X509_STORE *verify_store(const struct trust *);
void	verify_done(void);

#endif /* VERIFY_H */
