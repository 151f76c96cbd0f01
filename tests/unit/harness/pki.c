/*
 * Test PKI for the unit tier, made in memory with OpenSSL's API at run
 * time (as tests/pki.bash makes it with the CLI for the other tiers).
 * EC P-256 keys unless a test needs another: they take microseconds, and
 * the unit tier also runs under valgrind.
 */
#include <openssl/ec.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509v3.h>

#include <stdlib.h>
#include <string.h>

#include "unit.h"

EVP_PKEY *
pki_key(const char *spec)
{
	EVP_PKEY	*k = NULL;

	if (!strcmp(spec, "ec"))
		k = EVP_EC_gen("P-256");
	else if (!strncmp(spec, "ec:", 3))
		k = EVP_EC_gen(spec + 3);
	else if (!strncmp(spec, "rsa:", 4))
		k = EVP_RSA_gen(atoi(spec + 4));
	else if (!strcmp(spec, "ed25519"))
		k = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
	if (k == NULL) {
		fprintf(stdout, "Bail out! pki_key %s failed\n", spec);
		exit(2);
	}
	return k;
}

static void
ext(X509 *x, X509 *issuer, int nid, const char *value)
{
	X509V3_CTX	 ctx;
	X509_EXTENSION	*e;

	X509V3_set_ctx(&ctx, issuer ? issuer : x, x, NULL, NULL, 0);
	if ((e = X509V3_EXT_conf_nid(NULL, &ctx, nid, value)) == NULL ||
	    !X509_add_ext(x, e, -1)) {
		fprintf(stdout, "Bail out! extension %s\n", value);
		exit(2);
	}
	X509_EXTENSION_free(e);
}

X509 *
pki_cert(const char *cn, EVP_PKEY *key, int profile, const struct pki *issuer,
    long from_days, long to_days, const EVP_MD *md)
{
	X509		*x = X509_new(), *ix = issuer ? issuer->cert : NULL;
	X509_NAME	*name = X509_NAME_new();
	unsigned char	 serial[8];
	char		 san[300];
	BIGNUM		*bn;

	RAND_bytes(serial, sizeof(serial));
	serial[0] &= 0x7f;
	bn = BN_bin2bn(serial, sizeof(serial), NULL);
	X509_set_version(x, X509_VERSION_3);
	BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(x));
	BN_free(bn);
	X509_NAME_add_entry_by_txt(name, "O", MBSTRING_ASC,
	    (const unsigned char *)"Test", -1, -1, 0);
	X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
	    (const unsigned char *)cn, -1, -1, 0);
	X509_set_subject_name(x, name);
	X509_set_issuer_name(x, ix ? X509_get_subject_name(ix) : name);
	X509_NAME_free(name);
	X509_gmtime_adj(X509_getm_notBefore(x), from_days * 86400);
	X509_gmtime_adj(X509_getm_notAfter(x), to_days * 86400);
	X509_set_pubkey(x, key);
	ext(x, ix, NID_subject_key_identifier, "hash");
	if (ix != NULL)
		ext(x, ix, NID_authority_key_identifier, "keyid:always");
	switch (profile) {
	case PKI_CA:
		ext(x, ix, NID_basic_constraints, "critical,CA:TRUE");
		ext(x, ix, NID_key_usage, "critical,keyCertSign,cRLSign");
		break;
	case PKI_SERVER:
	case PKI_CLIENT:
		ext(x, ix, NID_basic_constraints, "CA:FALSE");
		ext(x, ix, NID_key_usage, "critical,digitalSignature");
		ext(x, ix, NID_ext_key_usage, profile == PKI_SERVER ?
		    "serverAuth" : "clientAuth");
		snprintf(san, sizeof(san), "DNS:%s", cn);
		ext(x, ix, NID_subject_alt_name, san);
		break;
	}
	if (EVP_PKEY_get_base_id(ix ? issuer->key : key) == EVP_PKEY_ED25519)
		md = NULL;
	else if (md == NULL)
		md = EVP_sha256();
	if (!X509_sign(x, ix ? issuer->key : key, md)) {
		fprintf(stdout, "Bail out! signing %s failed\n", cn);
		exit(2);
	}
	return x;
}

struct pki
pki_make(const char *cn, const char *spec, int profile,
    const struct pki *issuer)
{
	struct pki	p;

	p.key = pki_key(spec);
	p.cert = pki_cert(cn, p.key, profile, issuer, -1, 365, NULL);
	return p;
}

void
pki_free(struct pki *p)
{
	EVP_PKEY_free(p->key);
	X509_free(p->cert);
	memset(p, 0, sizeof(*p));
}

void
buf_add(struct buf *b, const void *data, size_t len)
{
	if ((b->p = realloc(b->p, b->len + len + 1)) == NULL)
		abort();
	memcpy(b->p + b->len, data, len);
	b->len += len;
	b->p[b->len] = '\0';
}

void
buf_str(struct buf *b, const char *s)
{
	buf_add(b, s, strlen(s));
}

/* What a BIO holds, appended. */
static void
buf_bio(struct buf *b, BIO *bio)
{
	char	*data;
	long	 len = BIO_get_mem_data(bio, &data);

	buf_add(b, data, len);
	BIO_free(bio);
}

void
buf_cert(struct buf *b, X509 *x)
{
	BIO	*bio = BIO_new(BIO_s_mem());

	PEM_write_bio_X509(bio, x);
	buf_bio(b, bio);
}

/* The key as PKCS#8 ("PRIVATE KEY"), as openssl genpkey writes it. */
void
buf_key(struct buf *b, EVP_PKEY *k)
{
	BIO	*bio = BIO_new(BIO_s_mem());

	PEM_write_bio_PrivateKey(bio, k, NULL, NULL, 0, NULL, NULL);
	buf_bio(b, bio);
}

/* The first LEN bytes in a block of exactly that size. */
unsigned char *
buf_exact(const struct buf *b, size_t len)
{
	unsigned char	*p = malloc(len ? len : 1);

	if (p == NULL)
		abort();
	if (len > 0)
		memcpy(p, b->p, len);
	return p;
}

void
buf_free(struct buf *b)
{
	free(b->p);
	memset(b, 0, sizeof(*b));
}
