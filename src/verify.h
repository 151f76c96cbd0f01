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

/*
 * Expiry thresholds that fit any lifetime: a leaf is due (warned about,
 * or critical for a monitor) once it has fewer than DAYS whole days left
 * AND less than NUM/DEN of its lifetime (notAfter - notBefore) left, the
 * later of the two moments, so a 6-day leaf is not in warning all its
 * life under a 30-day count.  POSTFIX_TLS_WARN_LIFETIME and _CRIT_
 * (verify_fractions, once, before any judging); 1/3 and 1/6 until then.
 */
struct fraction {
	int	num, den;
};
void	verify_fractions(const int warn[2], const int crit[2]);
struct fraction verify_fraction(int crit);
/* X's lifetime and seconds left until its notAfter: 0, or -1 unreadable. */
int	verify_lifetime(X509 *, long long *lifetime, long long *left);
/* Seconds left below which a leaf of LIFETIME seconds is due. */
long long verify_due_at(long long lifetime, int days, int crit);
/* Is LEFT below it (LIFETIME 0: unknown, the day count alone)? */
int	verify_due(long long lifetime, long long left, int days, int crit);
/* Does the fraction, not the day count, set the moment? */
int	verify_by_fraction(long long lifetime, int days, int crit);
void	verify_host(const struct chain *, const char *leafsrc,
	    const char *host, const char *host_what);
const char *verify_fix(int err);
int	verify_names(X509 *, const char *host);
X509_STORE *verify_store(const struct trust *);
void	verify_done(void);

#endif /* VERIFY_H */
