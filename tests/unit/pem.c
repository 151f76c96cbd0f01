/*
 * src/pem.c: certificates and keys out of a file's bytes (pem_load), and
 * the cut between key-and-chain groups (pem_next_key).  The bytes are
 * always a block of exactly their length: a read past the end is a
 * finding of the ASan and valgrind passes.
 */
#include <openssl/pem.h>

#include <stdlib.h>
#include <string.h>

#include "../../src/pem.h"
#include "harness/unit.h"

/*
 * A PEM key's first line, label only (no key is in this file: every key
 * is made at run time, harness/pki.c).  Split so that a scan for
 * committed keys does not take the label for one.
 */
#define BEGIN_KEY_LINE	"-----BEGIN " "PRIVATE KEY-----"

static struct pki	root, inter, leaf, other;

static void
pki_up(void)
{
	if (root.cert != NULL)
		return;
	root = pki_make("root", "ec", PKI_CA, NULL);
	inter = pki_make("inter", "ec", PKI_CA, &root);
	leaf = pki_make("mail.example.org", "ec", PKI_SERVER, &inter);
	other = pki_make("other.example.org", "ec", PKI_SERVER, &inter);
}

/* pem_load over the first LEN bytes of B (all of them: LEN -1). */
static int
load(const char *path, const struct buf *b, long len, struct pool *pool,
    struct key *key, int want_key)
{
	size_t		 n = len < 0 ? b->len : (size_t)len;
	unsigned char	*bytes = buf_exact(b, n);
	int		 rc;

	rc = pem_load(path, bytes, n, pool, key, want_key);
	free(bytes);
	return rc;
}

/* Where TEXT first occurs in B. */
static size_t
at(const struct buf *b, const char *text, size_t from)
{
	unsigned char	*hit = memmem(b->p + from, b->len - from, text,
	    strlen(text));

	return hit ? (size_t)(hit - b->p) : (size_t)-1;
}

static void
a_chain_file_gives_its_certificates_in_file_order(void)
{
	struct buf	b = { 0 };
	struct pool	pool = { 0 };
	struct key	key = { 0 };

	pki_up();
	buf_cert(&b, leaf.cert);
	buf_str(&b, "junk between blocks is passed over\n");
	buf_cert(&b, inter.cert);
	buf_cert(&b, root.cert);
	CHECK_INT(load("chain.pem", &b, -1, &pool, &key, 0), 0);
	CHECK_INT(pool.n, 3);
	if (pool.n == 3) {
		CHECK_INT(X509_cmp(pool.certs[0].x509, leaf.cert), 0);
		CHECK_INT(X509_cmp(pool.certs[2].x509, root.cert), 0);
		CHECK_STR(pool.certs[1].src, "chain.pem");
		CHECK_INT(pool.certs[2].seq, 2);
	}
	CHECK(key.pkey == NULL);
	CHECK_SILENT();
	pool_free(&pool);
	buf_free(&b);
}

static void
a_key_file_gives_its_key(void)
{
	struct buf	b = { 0 };
	struct pool	pool = { 0 };
	struct key	key = { 0 };

	pki_up();
	buf_key(&b, leaf.key);
	CHECK_INT(load("key.pem", &b, -1, &pool, &key, 1), 0);
	CHECK(key.pkey != NULL && EVP_PKEY_eq(key.pkey, leaf.key) == 1);
	CHECK_INT(key.count, 1);
	CHECK_INT(key.encrypted, 0);
	CHECK_INT(pool.n, 0);
	key_free(&key);
	buf_free(&b);
}

static void
of_two_keys_the_first_is_taken_and_both_are_counted(void)
{
	struct buf	b = { 0 };
	struct pool	pool = { 0 };
	struct key	key = { 0 };

	pki_up();
	buf_key(&b, leaf.key);
	buf_key(&b, other.key);
	CHECK_INT(load("twokeys.pem", &b, -1, &pool, &key, 1), 0);
	CHECK(key.pkey != NULL && EVP_PKEY_eq(key.pkey, leaf.key) == 1);
	CHECK_INT(key.count, 2);
	CHECK_INT(key.block, 1);
	key_free(&key);
	buf_free(&b);
}

static void
a_traditional_key_after_its_chain_is_read_as_postfix_reads_it(void)
{
	struct buf	 b = { 0 };
	struct pool	 pool = { 0 };
	struct key	 key = { 0 };
	BIO		*bio = BIO_new(BIO_s_mem());
	char		*data;
	long		 len;

	pki_up();
	buf_cert(&b, leaf.cert);
	buf_cert(&b, inter.cert);
	PEM_write_bio_PrivateKey_traditional(bio, leaf.key, NULL, NULL, 0,
	    NULL, NULL);
	len = BIO_get_mem_data(bio, &data);
	buf_add(&b, data, len);
	CHECK_INT(load("bundle.pem", &b, -1, &pool, &key, 1), 0);
	CHECK_INT(pool.n, 2);
	CHECK_INT(key.count, 1);
	CHECK_INT(key.block, 3);
	CHECK(key.pkey != NULL && EVP_PKEY_eq(key.pkey, leaf.key) == 1);
	pool_free(&pool);
	key_free(&key);
	buf_free(&b);
	BIO_free(bio);
}

static void
an_encrypted_key_is_marked_and_not_decrypted(void)
{
	struct buf	 b = { 0 };
	struct pool	 pool = { 0 };
	struct key	 key = { 0 };
	BIO		*bio = BIO_new(BIO_s_mem());
	char		*data;
	long		 len;

	pki_up();
	PEM_write_bio_PKCS8PrivateKey(bio, leaf.key, EVP_aes_128_cbc(), NULL,
	    0, NULL, "secret");
	len = BIO_get_mem_data(bio, &data);
	buf_add(&b, data, len);
	CHECK_INT(load("encrypted.pem", &b, -1, &pool, &key, 1), 0);
	CHECK_INT(key.encrypted, 1);
	CHECK(key.pkey == NULL);
	CHECK_INT(key.count, 1);
	buf_free(&b);
	BIO_free(bio);
}

static void
a_file_cut_off_inside_a_block_is_refused_naming_the_block(void)
{
	struct buf	b = { 0 };
	struct pool	pool = { 0 };
	struct key	key = { 0 };
	size_t		second;

	pki_up();
	buf_cert(&b, leaf.cert);
	buf_cert(&b, inter.cert);
	second = at(&b, "-----BEGIN", 1);
	/* Cut in the middle of the second block's base64. */
	CHECK_INT(load("cut.pem", &b, second + 100, &pool, &key, 0), -1);
	CHECK_SAID("cut.pem: PEM block 2 is damaged or cut off");
	pool_free(&pool);
	/* Cut inside the END line: the same. */
	CHECK_INT(load("cutend.pem", &b, b.len - 5, &pool, &key, 0), -1);
	CHECK_SAID("cutend.pem: PEM block 2 is damaged or cut off");
	pool_free(&pool);
	/* Without the last newline, the file is whole. */
	CHECK_INT(load("nonl.pem", &b, b.len - 1, &pool, &key, 0), 0);
	CHECK_INT(pool.n, 2);
	pool_free(&pool);
	buf_free(&b);
}

/* A PEM block of LABEL holding DER and two bytes after it. */
static void
buf_excess(struct buf *b, const char *label, const unsigned char *der,
    int len)
{
	unsigned char	*all = malloc(len + 2);
	BIO		*bio = BIO_new(BIO_s_mem());
	char		*data;
	long		 n;

	memcpy(all, der, len);
	all[len] = 0;
	all[len + 1] = 0;
	PEM_write_bio(bio, label, "", all, len + 2);
	n = BIO_get_mem_data(bio, &data);
	buf_add(b, data, n);
	BIO_free(bio);
	free(all);
}

static void
excess_data_after_a_certificate_or_key_is_refused_as_postfix_does(void)
{
	struct buf	 b = { 0 }, k = { 0 };
	struct pool	 pool = { 0 };
	struct key	 key = { 0 };
	unsigned char	*der = NULL;
	int		 len;

	pki_up();
	buf_cert(&b, leaf.cert);
	len = i2d_X509(inter.cert, &der);
	buf_excess(&b, "CERTIFICATE", der, len);
	OPENSSL_free(der);
	CHECK_INT(load("excess.pem", &b, -1, &pool, &key, 0), -1);
	CHECK_SAID("excess.pem: the certificate in PEM block 2 has excess data");
	pool_free(&pool);

	der = NULL;
	len = i2d_PrivateKey(leaf.key, &der);
	buf_excess(&k, "EC PRIVATE KEY", der, len);
	OPENSSL_free(der);
	CHECK_INT(load("excesskey.pem", &k, -1, &pool, &key, 1), -1);
	CHECK_SAID("excesskey.pem: the private key (PEM block 1) has excess "
	    "data after its end");
	key_free(&key);
	buf_free(&b);
	buf_free(&k);
}

static void
empty_der_and_foreign_files_are_each_explained(void)
{
	struct buf	 b = { 0 };
	struct pool	 pool = { 0 };
	struct key	 key = { 0 };
	unsigned char	*der = NULL;
	int		 len;

	pki_up();
	CHECK_INT(load("empty.pem", &b, 0, &pool, &key, 0), -1);
	CHECK_SAID("empty.pem: file is empty (expected PEM blocks: "
	    "-----BEGIN CERTIFICATE-----)");
	CHECK_INT(load("emptykey.pem", &b, 0, &pool, &key, 1), -1);
	CHECK_SAID(BEGIN_KEY_LINE);
	len = i2d_X509(leaf.cert, &der);
	buf_add(&b, der, len);
	OPENSSL_free(der);
	CHECK_INT(load("der.pem", &b, -1, &pool, &key, 0), -1);
	CHECK_SAID("der.pem: file is in DER (binary) form");
	/* The same DER with one byte too many is not DER: no such advice. */
	buf_add(&b, "", 1);
	CHECK_INT(load("der1.pem", &b, -1, &pool, &key, 0), -1);
	CHECK_SAID("der1.pem: no PEM certificate found");
	buf_free(&b);
	buf_str(&b, "0 is a digit, not a SEQUENCE\n");
	CHECK_INT(load("text.pem", &b, -1, &pool, &key, 0), -1);
	CHECK_SAID("text.pem: no PEM certificate found");
	buf_free(&b);
}

static void
a_trusted_certificate_is_taken_only_where_smtpd_takes_it(void)
{
	struct buf	 b = { 0 };
	struct pool	 pool = { 0 };
	struct key	 key = { 0 };
	BIO		*bio = BIO_new(BIO_s_mem());
	char		*data;
	long		 len;

	pki_up();
	PEM_write_bio_X509_AUX(bio, leaf.cert);
	len = BIO_get_mem_data(bio, &data);
	buf_add(&b, data, len);
	buf_cert(&b, inter.cert);
	/* An input: any certificate block. */
	CHECK_INT(load("in.pem", &b, -1, &pool, &key, 0), 0);
	CHECK_INT(pool.n, 2);
	pool_free(&pool);
	/* A cert file: TRUSTED only as its first certificate. */
	pool.served = POOL_PAIR;
	CHECK_INT(load("pair.pem", &b, -1, &pool, &key, 0), 0);
	CHECK_INT(pool.n, 2);
	CHECK_SILENT();
	pool_free(&pool);
	/* ... and passed over after another. */
	buf_free(&b);
	buf_cert(&b, inter.cert);
	buf_add(&b, data, len);
	pool.served = POOL_PAIR;
	CHECK_INT(load("pair2.pem", &b, -1, &pool, &key, 0), 0);
	CHECK_INT(pool.n, 1);
	CHECK_SAID("pair2.pem: PEM block 2, a TRUSTED CERTIFICATE, is passed "
	    "over");
	pool_free(&pool);
	/* Chain files: never; said, and passed over. */
	pool.served = POOL_STREAM;
	CHECK_INT(load("stream.pem", &b, -1, &pool, &key, 0), 0);
	CHECK_INT(pool.n, 1);
	CHECK_SAID("stream.pem: PEM block 2, a TRUSTED CERTIFICATE, is passed "
	    "over");
	pool_free(&pool);
	buf_free(&b);
	BIO_free(bio);
}

static void
the_next_key_is_found_at_line_starts_only(void)
{
	struct buf	b = { 0 };
	size_t		k1, k2, end;

	pki_up();
	buf_key(&b, leaf.key);
	buf_cert(&b, leaf.cert);
	buf_str(&b, "# not a cut: " BEGIN_KEY_LINE "\n");
	k2 = b.len;
	buf_key(&b, other.key);
	buf_cert(&b, other.cert);
	end = b.len;
	k1 = 0;
	CHECK_INT(pem_next_key(b.p, b.len, 0), k1);
	CHECK_INT(pem_next_key(b.p, b.len, 1), k2);
	CHECK_INT(pem_next_key(b.p, b.len, k2), k2);
	CHECK_INT(pem_next_key(b.p, b.len, k2 + 1), end);
	CHECK_INT(pem_next_key(b.p, b.len, end), end);
	buf_free(&b);
}

static void
every_private_key_label_starts_a_group_and_no_other_does(void)
{
	static const char *const keys[] = { "PRIVATE KEY",
	    "ENCRYPTED PRIVATE KEY", "RSA PRIVATE KEY", "EC PRIVATE KEY",
	    "ANY PRIVATE KEY" };
	static const char *const others[] = { "CERTIFICATE", "PUBLIC KEY",
	    "PRIVATE KEYS", "X509 CRL" };
	struct buf	b = { 0 };
	char		line[80];
	size_t		i;

	for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		buf_str(&b, "x\n");
		snprintf(line, sizeof(line), "-----BEGIN %s-----\n", keys[i]);
		buf_str(&b, line);
		CHECK_INT(pem_next_key(b.p, b.len, 0), 2);
		buf_free(&b);
	}
	for (i = 0; i < sizeof(others) / sizeof(others[0]); i++) {
		snprintf(line, sizeof(line), "-----BEGIN %s-----\n", others[i]);
		buf_str(&b, line);
		CHECK_INT(pem_next_key(b.p, b.len, 0), b.len);
		buf_free(&b);
	}
}

static void
a_begin_line_cut_off_by_the_end_of_the_bytes_is_no_cut(void)
{
	struct buf	 b = { 0 };
	unsigned char	*bytes;
	size_t		 n;

	buf_str(&b, BEGIN_KEY_LINE "\n");
	/* Every shorter prefix: no label closes, so no key starts. */
	for (n = 0; n < b.len; n++) {
		bytes = buf_exact(&b, n);
		CHECK_INT(pem_next_key(bytes, n, 0),
		    n >= strlen(BEGIN_KEY_LINE) ? 0 : n);
		free(bytes);
	}
	buf_free(&b);
}

static void
cleanup(void)
{
	pki_free(&root);
	pki_free(&inter);
	pki_free(&leaf);
	pki_free(&other);
	pem_done();
}

static const struct unit_test tests[] = {
	{ "a chain file gives its certificates in file order",
	    a_chain_file_gives_its_certificates_in_file_order },
	{ "a key file gives its key", a_key_file_gives_its_key },
	{ "of two keys the first is taken and both are counted",
	    of_two_keys_the_first_is_taken_and_both_are_counted },
	{ "a traditional key after its chain is read as Postfix reads it",
	    a_traditional_key_after_its_chain_is_read_as_postfix_reads_it },
	{ "an encrypted key is marked, not decrypted",
	    an_encrypted_key_is_marked_and_not_decrypted },
	{ "a file cut off inside a block is refused, naming the block",
	    a_file_cut_off_inside_a_block_is_refused_naming_the_block },
	{ "excess data after a certificate or a key is refused as Postfix does",
	    excess_data_after_a_certificate_or_key_is_refused_as_postfix_does },
	{ "empty, DER and foreign files are each explained",
	    empty_der_and_foreign_files_are_each_explained },
	{ "a TRUSTED CERTIFICATE is taken only where smtpd takes it",
	    a_trusted_certificate_is_taken_only_where_smtpd_takes_it },
	{ "the next key is found at line starts only",
	    the_next_key_is_found_at_line_starts_only },
	{ "every private key label starts a group, and no other label does",
	    every_private_key_label_starts_a_group_and_no_other_does },
	{ "a BEGIN line cut off by the end of the bytes is no cut",
	    a_begin_line_cut_off_by_the_end_of_the_bytes_is_no_cut },
};

UNIT_MAIN("pem", tests, pki_up, cleanup)
