/*
 * Certificates and keys out of PEM files.  Every block is read with
 * OpenSSL's own PEM reader into secure memory; certificates go into one
 * pool whatever file they came from, and the first private key is kept.
 * Junk between blocks is skipped (as OpenSSL does); a file with no usable
 * block, a DER file or a damaged block is a problem named here.
 */
#include <openssl/decoder.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>

#include "extern.h"

#define BEGIN_MARK	"-----BEGIN "

static size_t
count_marks(const unsigned char *buf, size_t len)
{
	const unsigned char	*p = buf, *end = buf + len, *hit;
	size_t			 n = 0;

	while ((hit = memmem(p, end - p, BEGIN_MARK, strlen(BEGIN_MARK)))) {
		n++;
		p = hit + strlen(BEGIN_MARK);
	}
	return n;
}

static int
is_key_block(const char *name)
{
	size_t	len = strlen(name);

	return len >= 11 && !strcmp(name + len - 11, "PRIVATE KEY");
}

static int
pool_add(struct pool *pool, X509 *x, const char *path)
{
	struct cert	*c;
	int		 ok = 0;

	if (pool->n == MAX_CERTS) {
		problem(EX_DATAERR, path, "more than %d certificates in all "
		    "inputs (pass only the chain, not a whole CA bundle)",
		    MAX_CERTS);
		return -1;
	}
	if (pool->n == pool->cap) {
		size_t	 cap = pool->cap ? pool->cap * 2 : 16;

		if ((c = reallocarray(pool->certs, cap, sizeof(*c))) == NULL) {
			problem(EX_OSERR, NULL, "out of memory");
			return -1;
		}
		pool->certs = c;
		pool->cap = cap;
	}
	c = &pool->certs[pool->n];
	c->x509 = x;
	c->src = path;
	c->seq = pool->n;
	c->subject = X509_NAME_hash_ex(X509_get_subject_name(x), NULL, NULL,
	    &ok);
	if (!ok) {
		crypto_problem(EX_DATAERR, path, "cannot hash a certificate's "
		    "subject");
		return -1;
	}
	pool->n++;
	return 0;
}

static int
add_cert(struct pool *pool, const char *name, const unsigned char *data,
    long len, const char *path, int block)
{
	const unsigned char	*p = data;
	X509			*x;

	if (!strcmp(name, PEM_STRING_X509_TRUSTED))
		x = d2i_X509_AUX(NULL, &p, len);
	else
		x = d2i_X509(NULL, &p, len);
	if (x == NULL) {
		crypto_problem(EX_DATAERR, path, block == 1 ?
		    "the certificate cannot be parsed (damaged file?)" :
		    "a certificate in this file cannot be parsed (damaged?)");
		return -1;
	}
	if (pool_add(pool, x, path) == -1) {
		X509_free(x);
		return -1;
	}
	return 0;
}

/*
 * The decoders of the one key type a block names: a PKCS#8 block ("PRIVATE
 * KEY") by its algorithm's OID, a traditional one ("RSA PRIVATE KEY", "EC
 * PRIVATE KEY") by its PEM name.  0 if the block does not say.
 */
static int
key_type(const char *name, const unsigned char *data, long len,
    char *type, size_t size, const char **structure)
{
	PKCS8_PRIV_KEY_INFO	*p8;
	const ASN1_OBJECT	*alg;
	const unsigned char	*p = data;
	int			 ok;

	if (strcmp(name, PEM_STRING_PKCS8INF)) {
		*structure = "type-specific";	/* the type is the first word */
		if (strlcpy(type, name, size) >= size)
			return 0;
		type[strcspn(type, " ")] = '\0';
		return type[0] != '\0';
	}
	*structure = "PrivateKeyInfo";
	if ((p8 = d2i_PKCS8_PRIV_KEY_INFO(NULL, &p, len)) == NULL)
		return 0;
	ok = PKCS8_pkey_get0(&alg, NULL, NULL, NULL, p8) &&
	    OBJ_obj2txt(type, size, alg, 1) > 0;
	PKCS8_PRIV_KEY_INFO_free(p8);
	return ok;
}

/*
 * A private key decoded by the decoders of the type its block names.
 * OpenSSL 3.0's d2i_AutoPrivateKey first sets up every decoder it has to
 * find the type out: a quarter of all the instructions of a restart,
 * twice what decoding costs once the type is known.  A block that does
 * not say, or a failure here, goes its general way: the verdict stays
 * its own.
 */
static EVP_PKEY *
decode_key(const char *name, const unsigned char *data, long len)
{
	OSSL_DECODER_CTX	*dctx;
	const unsigned char	*p = data;
	const char		*structure;
	EVP_PKEY		*pkey = NULL;
	size_t			 left = len;
	char			 type[80];

	if (key_type(name, data, len, type, sizeof(type), &structure) &&
	    (dctx = OSSL_DECODER_CTX_new_for_pkey(&pkey, "DER", structure,
	    type, EVP_PKEY_KEYPAIR, NULL, NULL)) != NULL) {
		if (!OSSL_DECODER_from_data(dctx, &p, &left)) {
			EVP_PKEY_free(pkey);
			pkey = NULL;
		}
		OSSL_DECODER_CTX_free(dctx);
	}
	if (pkey == NULL) {
		ERR_clear_error();
		p = data;
		pkey = d2i_AutoPrivateKey(NULL, &p, len);
	}
	return pkey;
}

static void
add_key(struct key *key, const char *name, const char *header,
    const unsigned char *data, long len, const char *path)
{
	if (key->count++ > 0)
		return;		/* the first key is the one Postfix takes */
	key->src = path;
	if (!strcmp(name, PEM_STRING_PKCS8) || strstr(header, "ENCRYPTED")) {
		key->encrypted = 1;
		return;
	}
	if ((key->pkey = decode_key(name, data, len)) == NULL)
		ERR_clear_error();	/* reported by verify_key() */
}

static const char *
der_fix(int want_key)
{
	return want_key ? "openssl pkey -inform DER -in FILE -out FILE.pem" :
	    "openssl x509 -inform DER -in FILE -out FILE.pem";
}

/*
 * A DER certificate or key is one SEQUENCE that fills the file.  Text that
 * merely starts with the digit 0 (0x30, the SEQUENCE tag too) is not.
 */
static int
looks_der(const unsigned char *buf, size_t len)
{
	const unsigned char	*p = buf;
	long			 body;
	int			 tag, class, ok;

	if (len < 2 || len > LONG_MAX || buf[0] != 0x30)
		return 0;
	ok = ASN1_get_object(&p, &body, &tag, &class, len) ==
	    V_ASN1_CONSTRUCTED && tag == V_ASN1_SEQUENCE &&
	    (size_t)(p - buf) + body == len;
	ERR_clear_error();
	return ok;
}

/* Say why a file that yielded nothing yielded nothing. */
static void
explain_empty(const char *path, const unsigned char *buf, size_t len,
    int want_key)
{
	if (len == 0)
		problem(EX_DATAERR, path, "file is empty (expected PEM "
		    "blocks: -----BEGIN %s-----)", want_key ? "PRIVATE KEY" :
		    "CERTIFICATE");
	else if (looks_der(buf, len))
		problem(EX_DATAERR, path, "file is in DER (binary) form; "
		    "Postfix needs PEM (convert it: %s)", der_fix(want_key));
	else
		problem(EX_DATAERR, path, "no PEM %s found (is it the right "
		    "file?)", want_key ? "private key or certificate" :
		    "certificate");
}

/*
 * Read all PEM blocks of one file.  Certificates go to the pool; with
 * want_key, private keys go to key.  Returns 0 or -1 (reported).
 */
int
pem_load(const char *path, const unsigned char *buf, size_t len,
    struct pool *pool, struct key *key, int want_key)
{
	BIO		*bio;
	char		*name = NULL, *header = NULL;
	unsigned char	*data = NULL;
	long		 dlen;
	size_t		 blocks = 0, certs = 0, marks;
	int		 rc = 0;

	marks = count_marks(buf, len);
	if ((bio = BIO_new_mem_buf(buf, len)) == NULL) {
		crypto_problem(EX_OSERR, path, "out of memory");
		return -1;
	}
	while (rc == 0 && PEM_read_bio_ex(bio, &name, &header, &data, &dlen,
	    PEM_FLAG_SECURE | PEM_FLAG_EAY_COMPATIBLE) == 1) {
		blocks++;
		if (!strcmp(name, PEM_STRING_X509) ||
		    !strcmp(name, PEM_STRING_X509_OLD) ||
		    !strcmp(name, PEM_STRING_X509_TRUSTED)) {
			rc = add_cert(pool, name, data, dlen, path, blocks);
			certs++;
		} else if (is_key_block(name) && want_key)
			add_key(key, name, header, data, dlen, path);
		else if (is_key_block(name))
			debug("%s: private key ignored here (the key is read "
			    "from POSTFIX_TLS_KEY)", path);
		else
			debug("%s: %s block ignored", path, name);
		OPENSSL_secure_clear_free(data, dlen);
		OPENSSL_secure_free(header);
		OPENSSL_secure_free(name);
		name = header = NULL;
		data = NULL;
	}
	ERR_clear_error();
	BIO_free(bio);
	if (rc == 0 && blocks < marks) {
		problem(EX_DATAERR, path, "PEM block %zu is damaged or cut "
		    "off (truncated file? restore it from its source)",
		    blocks + 1);
		rc = -1;
	} else if (rc == 0 && certs == 0 && (!want_key || key->count == 0)) {
		explain_empty(path, buf, len, want_key);
		rc = -1;
	}
	return rc;
}

void
pool_free(struct pool *pool)
{
	size_t	i;

	for (i = 0; i < pool->n; i++)
		X509_free(pool->certs[i].x509);
	free(pool->certs);
	memset(pool, 0, sizeof(*pool));
}

void
key_free(struct key *key)
{
	EVP_PKEY_free(key->pkey);
	memset(key, 0, sizeof(*key));
}
