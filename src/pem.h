/* pem.c: certificates and keys out of PEM files. */
#ifndef PEM_H
#define PEM_H

#include <stddef.h>

#include <openssl/evp.h>
#include <openssl/x509.h>

struct cert {
	X509		*x509;
	const char	*src;		/* file it came from */
	unsigned long	 subject;	/* X509_NAME_hash of the subject */
	size_t		 seq;		/* order of appearance */
};
struct pool {
	struct cert	*certs;
	size_t		 n, cap;
	int		 served;	/* read as smtpd reads it: POOL_* */
};
#define POOL_INPUT	0	/* an input: any certificate block */
#define POOL_STREAM	1	/* chain files, SNI: no TRUSTED CERTIFICATE */
#define POOL_PAIR	2	/* a cert file: TRUSTED only as the leaf */
struct key {
	EVP_PKEY	*pkey;
	const char	*src;
	int		 encrypted;
	int		 count;		/* private keys seen in src */
	size_t		 block;		/* PEM block of the first one */
};

int	pem_load(const char *path, const unsigned char *buf, size_t len,
	    struct pool *, struct key *, int want_key);
size_t	pem_next_key(const unsigned char *buf, size_t len, size_t from);
int	pem_has_cert(const unsigned char *buf, size_t len);
void	pem_done(void);
void	pool_free(struct pool *);
void	key_free(struct key *);

#endif /* PEM_H */
