/*
 * Certificates and keys out of PEM files.  Every block is read with
 * OpenSSL's own PEM reader into secure memory; certificates go into one
 * pool whatever file they came from; the private key is read as Postfix
 * reads smtpd_tls_key_file, and what it cannot load is refused.
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

#include "common.h"
#include "finding.h"
#include "pem.h"

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

/* Labels smtpd's chain loader takes as certificates (tls_certkey.c). */
static int
is_cert_block(const char *name)
{
	return !strcmp(name, PEM_STRING_X509) ||
	    !strcmp(name, PEM_STRING_X509_OLD);
}

/*
 * Where the next block whose label IS (is_key_block, is_cert_block)
 * begins, at or after FROM (LEN when none does).
 */
static size_t
next_block(const unsigned char *buf, size_t len, size_t from,
    int (*is)(const char *))
{
	const unsigned char	*p = buf + from, *end = buf + len, *hit, *eol;
	char			 label[80];
	size_t			 n, mark = strlen(BEGIN_MARK);

	while (p < end && (hit = memmem(p, end - p, BEGIN_MARK, mark))) {
		p = hit + mark;
		if (hit != buf && hit[-1] != '\n')
			continue;	/* not at a line's start */
		if ((eol = memmem(p, end - p, "-----", 5)) == NULL)
			break;
		if ((n = eol - p) < sizeof(label)) {
			memcpy(label, p, n);
			label[n] = '\0';
			if (is(label))
				return hit - buf;
		}
	}
	return len;
}

/*
 * Where the next private key block begins: the cut between key-and-chain
 * groups of a file read as smtpd_tls_chain_files are read, where every
 * key starts a new group.
 */
size_t
pem_next_key(const unsigned char *buf, size_t len, size_t from)
{
	return next_block(buf, len, from, is_key_block);
}

/* Does BUF hold a block smtpd would take as a certificate? */
int
pem_has_cert(const unsigned char *buf, size_t len)
{
	return next_block(buf, len, 0, is_cert_block) < len;
}

static int
pool_add(struct pool *pool, X509 *x, const char *path)
{
	struct cert	*c;
	int		 ok = 0;

	if (pool->n == MAX_CERTS) {
		problem(EX_DATAERR, path, "more than %d certificates in all "
		    "inputs" FIX "pass only the chain, not a whole CA bundle",
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

/*
 * Certificates seen this run, by their DER: SNI domains and services
 * mostly share their intermediates, and OpenSSL 3.0's d2i_X509 decodes
 * the public key through its decoders (a third of the work of a domain).
 * The same bytes are the same certificate: parsed once, referenced after.
 */
#define SEEN_CERTS	16
static struct {
	unsigned char	*der;
	long		 len;
	X509		*x509;
}			seen[SEEN_CERTS];
static size_t		nseen_next;

static X509 *
seen_cert(const unsigned char *data, long len)
{
	size_t	i;

	for (i = 0; i < SEEN_CERTS; i++)
		if (seen[i].x509 != NULL && seen[i].len == len &&
		    !memcmp(seen[i].der, data, len) &&
		    X509_up_ref(seen[i].x509))
			return seen[i].x509;
	return NULL;
}

static void
remember_cert(const unsigned char *data, long len, X509 *x)
{
	size_t	i = nseen_next++ % SEEN_CERTS;

	X509_free(seen[i].x509);
	free(seen[i].der);
	seen[i].x509 = NULL;
	if ((seen[i].der = malloc(len)) == NULL || !X509_up_ref(x)) {
		free(seen[i].der);
		seen[i].der = NULL;
		return;
	}
	memcpy(seen[i].der, data, len);
	seen[i].len = len;
	seen[i].x509 = x;
}

static int
add_cert(struct pool *pool, const char *name, const unsigned char *data,
    long len, const char *path, int block)
{
	const unsigned char	*p = data;
	X509			*x;
	int			 aux = !strcmp(name, PEM_STRING_X509_TRUSTED);

	if (!aux && (x = seen_cert(data, len)) != NULL)
		return pool_add(pool, x, path) == 0 ? 0 : (X509_free(x), -1);
	if (aux)
		x = d2i_X509_AUX(NULL, &p, len);
	else
		x = d2i_X509(NULL, &p, len);
	if (x == NULL) {
		crypto_problem(EX_DATAERR, path, block == 1 ?
		    "the certificate cannot be parsed (damaged file?)" :
		    "a certificate in this file cannot be parsed (damaged?)");
		return -1;
	}
	if (p != data + len) {	/* as Postfix's tls_certkey.c refuses */
		problem(EX_DATAERR, path, "the certificate in PEM block %d has "
		    "excess data after its end; Postfix refuses it" FIX "restore "
		    "the file from its source", block);
		X509_free(x);
		return -1;
	}
	if (pool_add(pool, x, path) == -1) {
		X509_free(x);
		return -1;
	}
	if (!aux)
		remember_cert(data, len, x);
	return 0;
}

/*
 * A DER object that ends before its PEM block does: bytes after it are
 * "excess data", which Postfix's own loader refuses (tls_certkey.c).
 * Where a d2i decoder stops is the end of the outermost TLV.
 */
static int
has_excess(const unsigned char *data, long len)
{
	const unsigned char	*p = data;
	long			 body;
	int			 tag, class, ret;

	ret = ASN1_get_object(&p, &body, &tag, &class, len);
	ERR_clear_error();
	if (ret & 0x80 || ret == 0x21)
		return 0;	/* not DER at all (or indefinite): no verdict */
	return (p - data) + body < len;
}

/*
 * The decoders of the one key type a block names: a PKCS#8 block ("PRIVATE
 * KEY") by its algorithm's OID, a traditional one ("RSA PRIVATE KEY", "EC
 * PRIVATE KEY", "DSA PRIVATE KEY") by its PEM name.  0 if the block does
 * not say.
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
 * A decoder context per key type and structure, set up once a run:
 * OSSL_DECODER_CTX_new_for_pkey costs three times the decoding itself,
 * paid once per key of ten thousand SNI domains otherwise.  The context
 * puts each key it decodes into its pkey.
 */
#define MAX_DECODERS	8
static struct decoder {
	char			 structure[24], type[80];
	OSSL_DECODER_CTX	*ctx;
	EVP_PKEY		*pkey;
}			decoders[MAX_DECODERS];
static size_t		ndecoders;

static struct decoder *
decoder_for(const char *structure, const char *type)
{
	struct decoder	*d;
	size_t		 i;

	for (i = 0; i < ndecoders; i++)
		if (!strcmp(decoders[i].structure, structure) &&
		    !strcmp(decoders[i].type, type))
			return &decoders[i];
	if (ndecoders == MAX_DECODERS)
		return NULL;	/* read_key decides, the slow way */
	d = &decoders[ndecoders];
	strlcpy(d->structure, structure, sizeof(d->structure));
	strlcpy(d->type, type, sizeof(d->type));
	if ((d->ctx = OSSL_DECODER_CTX_new_for_pkey(&d->pkey, "DER",
	    structure, type, EVP_PKEY_KEYPAIR, NULL, NULL)) == NULL)
		return NULL;
	ndecoders++;
	return d;
}

/*
 * The fast way to the key, taken only where it is the way OpenSSL's PEM
 * reader goes too: the first block after none or only certificates
 * (which it passes over), no header, a name its PEM decoder maps to one
 * key type.  OpenSSL 3.0's d2i_AutoPrivateKey and PEM_read_bio_PrivateKey
 * first set up every decoder they have to find the type out: a quarter
 * of all the instructions of a restart, twice what decoding costs once
 * the type is known.  NULL when the block is not such a one or does not
 * decode so: read_key then decides.
 */
static EVP_PKEY *
decode_key(const char *name, const char *header, const unsigned char *data,
    long len)
{
	struct decoder		*d;
	const unsigned char	*p = data;
	const char		*structure;
	EVP_PKEY		*pkey = NULL;
	size_t			 left = len;
	char			 type[80];

	if (*header != '\0' || (strcmp(name, PEM_STRING_PKCS8INF) &&
	    strcmp(name, PEM_STRING_RSA) && strcmp(name,
	    PEM_STRING_ECPRIVATEKEY) && strcmp(name, PEM_STRING_DSA)))
		return NULL;
	if (key_type(name, data, len, type, sizeof(type), &structure) &&
	    (d = decoder_for(structure, type)) != NULL) {
		d->pkey = NULL;
		if (!OSSL_DECODER_from_data(d->ctx, &p, &left)) {
			EVP_PKEY_free(d->pkey);
			d->pkey = NULL;
		}
		pkey = d->pkey;
		d->pkey = NULL;
	}
	ERR_clear_error();
	return pkey;
}

void
pem_done(void)
{
	size_t	i;

	for (i = 0; i < SEEN_CERTS; i++) {
		X509_free(seen[i].x509);
		free(seen[i].der);
	}
	memset(seen, 0, sizeof(seen));
	for (i = 0; i < ndecoders; i++)
		OSSL_DECODER_CTX_free(decoders[i].ctx);
	ndecoders = 0;
}

/* Asked for a passphrase: the key is encrypted; never give one. */
static int
no_passphrase(char *buf, int size, int rwflag, void *asked)
{
	(void)buf;
	(void)size;
	(void)rwflag;
	*(int *)asked = 1;
	return -1;
}

/*
 * The key exactly as Postfix loads smtpd_tls_key_file: OpenSSL's
 * PEM_read_bio_PrivateKey over the whole file, which honours the PEM
 * label and headers (measured against smtpd 3.7: tests/world/key-formats.bats).
 */
static EVP_PKEY *
read_key(const unsigned char *buf, size_t len, int *encrypted)
{
	BIO		*bio;
	EVP_PKEY	*pkey = NULL;
	int		 asked = 0;

	if ((bio = BIO_new_mem_buf(buf, len)) != NULL) {
		pkey = PEM_read_bio_PrivateKey(bio, NULL, no_passphrase,
		    &asked);
		BIO_free(bio);
	}
	ERR_clear_error();
	*encrypted = pkey == NULL && asked;
	return pkey;
}

/*
 * The PEM label that fits the key inside a block: "PRIVATE KEY" for
 * PKCS#8, the type's own for a traditional RSA, EC or DSA key.  NULL
 * when the content is no key at all (a damaged file: verify_key says so).
 */
static const char *
fitting_label(const unsigned char *data, long len, char *kind, size_t size)
{
	PKCS8_PRIV_KEY_INFO	*p8;
	EVP_PKEY		*pkey;
	const unsigned char	*p = data;
	const char		*label = NULL;

	if ((p8 = d2i_PKCS8_PRIV_KEY_INFO(NULL, &p, len)) != NULL) {
		PKCS8_PRIV_KEY_INFO_free(p8);
		label = PEM_STRING_PKCS8INF;
	}
	p = data;
	if ((pkey = d2i_AutoPrivateKey(NULL, &p, len)) == NULL) {
		ERR_clear_error();
		return NULL;
	}
	strlcpy(kind, EVP_PKEY_get0_type_name(pkey), size);
	if (label == NULL && EVP_PKEY_get_base_id(pkey) == EVP_PKEY_RSA)
		label = PEM_STRING_RSA;
	else if (label == NULL && EVP_PKEY_get_base_id(pkey) == EVP_PKEY_EC)
		label = PEM_STRING_ECPRIVATEKEY;
	else if (label == NULL && EVP_PKEY_get_base_id(pkey) == EVP_PKEY_DSA)
		label = PEM_STRING_DSA;
	EVP_PKEY_free(pkey);
	return label;
}

/* The first header line, printable, for a message. */
static void
first_line(const char *header, char *buf, size_t size)
{
	size_t	i;

	for (i = 0; i + 1 < size && header[i] != '\0' &&
	    header[i] != '\n' && header[i] != '\r'; i++)
		buf[i] = header[i] >= 0x20 && header[i] < 0x7f ? header[i] :
		    '?';
	buf[i] = '\0';
}

/*
 * Why Postfix cannot load a key block that is no damaged one: a header
 * other than an encryption one, a label that does not fit the key.
 * Returns -1 when said, 0 when nothing more specific is known.
 */
static int
explain_key(const char *name, const char *header, const unsigned char *data,
    long len, const char *path)
{
	const char	*label;
	char		 kind[32], line[64];

	if (*header != '\0') {
		first_line(header, line, sizeof(line));
		problem(EX_DATAERR, path, "the private key's PEM block has a "
		    "header (%s) that is no encryption header; Postfix cannot "
		    "load it" FIX "delete the lines after the BEGIN line up to "
		    "and including the blank line", line);
		return -1;
	}
	if ((label = fitting_label(data, len, kind, sizeof(kind))) != NULL &&
	    strcmp(label, name)) {
		problem(EX_DATAERR, path, "the private key's PEM label \"%s\" "
		    "does not fit the %s key inside; Postfix cannot load it"
		    FIX "make its BEGIN and END lines say \"%s\"", name, kind,
		    label);
		return -1;
	}
	return 0;
}

/* The first private key block of the key file: what Postfix will take. */
static int
add_key(struct key *key, const char *name, const char *header,
    const unsigned char *data, long len, const char *path, size_t block,
    int after_certs)
{
	if (key->count++ > 0)
		return 0;	/* the first key is the one Postfix takes */
	key->src = path;
	key->block = block;
	if (!strcmp(name, PEM_STRING_PKCS8) || strstr(header, "ENCRYPTED"))
		return 0;	/* its content is no DER until decrypted */
	if (has_excess(data, len)) {
		problem(EX_DATAERR, path, "the private key (PEM block %zu) "
		    "has excess data after its end; Postfix refuses it"
		    FIX "write it out afresh: openssl pkey -in %s -out %s",
		    block, path, path);
		return -1;
	}
	if (after_certs)
		key->pkey = decode_key(name, header, data, len);
	return 0;
}

/*
 * A key file whose first key did not decode the fast way is read as
 * Postfix reads it.  A key Postfix cannot load is explained when it can
 * be, from its block read once more (a rare path: no copy is kept).
 */
static int
finish_key(struct key *key, const unsigned char *buf, size_t len,
    const char *path)
{
	BIO		*bio;
	char		*name = NULL, *header = NULL;
	unsigned char	*data = NULL;
	long		 dlen;
	size_t		 block = 0;
	int		 rc = 0;

	if (key->pkey != NULL || key->count == 0)
		return 0;
	if ((key->pkey = read_key(buf, len, &key->encrypted)) != NULL ||
	    key->encrypted)
		return 0;	/* the passphrase is reported by verify_key() */
	if ((bio = BIO_new_mem_buf(buf, len)) == NULL)
		return 0;
	while (PEM_read_bio_ex(bio, &name, &header, &data, &dlen,
	    PEM_FLAG_SECURE | PEM_FLAG_EAY_COMPATIBLE) == 1) {
		if (++block == key->block)
			rc = explain_key(name, header, data, dlen, path);
		OPENSSL_secure_clear_free(data, dlen);
		OPENSSL_secure_free(header);
		OPENSSL_secure_free(name);
		name = header = NULL;
		data = NULL;
		if (block == key->block)
			break;
	}
	ERR_clear_error();
	BIO_free(bio);
	return rc;	/* logged when -1 */
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
		problem(EX_DATAERR, path, "file is empty" FIX "expected PEM "
		    "blocks: -----BEGIN %s-----", want_key ? "PRIVATE KEY" :
		    "CERTIFICATE");
	else if (looks_der(buf, len))
		problem(EX_DATAERR, path, "file is in DER (binary) form; "
		    "Postfix needs PEM" FIX "convert it: %s", der_fix(want_key));
	else
		problem(EX_DATAERR, path, "no PEM %s found" FIX "is it the right "
		    "file?", want_key ? "private key or certificate" :
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
		if (!strcmp(name, PEM_STRING_X509_TRUSTED) &&
		    (pool->served == POOL_STREAM || (pool->served ==
		    POOL_PAIR && pool->n > 0)))
			warning(path, "PEM block %zu, a TRUSTED CERTIFICATE, "
			    "is passed over, as smtpd passes it over here"
			    FIX "write it as a plain certificate: openssl x509 "
			    "-in FILE -out FILE.new", blocks);
		else if (is_cert_block(name) ||
		    !strcmp(name, PEM_STRING_X509_TRUSTED)) {
			rc = add_cert(pool, name, data, dlen, path, blocks);
			certs++;
		} else if (is_key_block(name) && want_key)
			rc = add_key(key, name, header, data, dlen, path,
			    blocks, blocks == certs + 1);
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
		    "off" FIX "truncated file? restore it from its source",
		    blocks + 1);
		rc = -1;
	} else if (rc == 0 && certs == 0 && (!want_key || key->count == 0)) {
		explain_empty(path, buf, len, want_key);
		rc = -1;
	} else if (rc == 0 && want_key)
		rc = finish_key(key, buf, len, path);
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
