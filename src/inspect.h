/*
 * inspect.c: a certificate's facts, once, for the chain view (check,
 * deploy -v) and for check --json.  Strings are printable ASCII.
 */
#ifndef INSPECT_H
#define INSPECT_H

#include <stddef.h>

#include <openssl/x509.h>

struct chain;

struct facts {
	char		*subject, *issuer;	/* RFC 2253, one line */
	char		**names;	/* DNS subjectAltNames */
	size_t		  nnames;
	int		  dated;	/* not_after and days_left were read */
	char		  not_after[24];	/* 2027-03-01T12:00:00Z */
	long long	  days_left;	/* whole days, negative once expired */
	const char	 *key_type;	/* "RSA", "ECDSA", "Ed25519", ... */
	int		  key_bits;
	char		  sig_alg[80];	/* "ecdsa-with-SHA256", ... */
	int		  self_signed;
};

const char *key_type_name(int evp_pkey_id);
/* The leaf's algorithm as a slot: RSA-PSS is RSA's. */
int	key_slot_of(X509 *);
int	facts_of(X509 *, struct facts *);
void	facts_free(struct facts *);
/* The chain, one certificate a few lines, as notes. */
void	facts_tree(const struct chain *, const struct facts *leaf);

#endif /* INSPECT_H */
