/*
 * src/chain.c: the bundle is the leaf, then each issuer in order, from
 * inputs in any order (chain_build), written out as PEM (chain_pem).
 */
#include <openssl/pem.h>

#include <stdlib.h>
#include <string.h>

#include "../../src/chain.h"
#include "../../src/pem.h"
#include "harness/unit.h"

static struct pki	root, inter1, inter2, leaf, other, unrelated;

static void
pki_up(void)
{
	if (root.cert != NULL)
		return;
	root = pki_make("root", "ec", PKI_CA, NULL);
	inter1 = pki_make("inter1", "ec", PKI_CA, &root);
	inter2 = pki_make("inter2", "ec", PKI_CA, &inter1);
	leaf = pki_make("mail.example.org", "ec", PKI_SERVER, &inter2);
	other = pki_make("other.example.org", "ec", PKI_SERVER, &inter2);
	unrelated = pki_make("unrelated", "ec", PKI_CA, NULL);
}

/* Add certificate X to POOL as if read from SRC. */
static void
add(struct pool *pool, X509 *x, const char *src)
{
	struct buf	 b = { 0 };
	struct key	 key = { 0 };

	buf_cert(&b, x);
	if (pem_load(src, b.p, b.len, pool, &key, 0) != 0)
		unit_fail(__FILE__, __LINE__, "pem_load of a certificate");
	buf_free(&b);
}

/* The chain is exactly these certificates, in this order. */
static void
check_chain(int line, const struct chain *c, X509 *const *want, size_t n)
{
	size_t	i;

	if (c->n != n) {
		unit_fail(__FILE__, line, "chain of %zu, want %zu", c->n, n);
		return;
	}
	for (i = 0; i < n; i++)
		if (X509_cmp(c->x509[i], want[i]) != 0)
			unit_fail(__FILE__, line, "certificate %zu is not the "
			    "one wanted", i);
}
#define CHECK_CHAIN(c, ...) do { \
	X509 *w_[] = { __VA_ARGS__ }; \
	check_chain(__LINE__, (c), w_, sizeof(w_) / sizeof(w_[0])); \
} while (0)

static void
issuers_given_in_any_order_are_put_in_issuing_order(void)
{
	static const char	*srcs[] = { "cert.pem", "chain.pem" };
	struct pool		 pool = { 0 };
	struct key		 key = { .pkey = NULL };
	struct chain		 c;

	pki_up();
	key.pkey = leaf.key;
	add(&pool, leaf.cert, srcs[0]);
	add(&pool, root.cert, srcs[1]);
	add(&pool, inter1.cert, srcs[1]);
	add(&pool, inter2.cert, srcs[1]);
	CHECK_INT(chain_build(&pool, &key, srcs[0], srcs, 2, 0, &c), 0);
	CHECK_CHAIN(&c, leaf.cert, inter2.cert, inter1.cert);
	/* The self-signed root is left out, and kept for the verdict. */
	CHECK(c.root != NULL && X509_cmp(c.root, root.cert) == 0);
	CHECK_STR(c.root_src, "chain.pem");
	CHECK_INT(chain_build(&pool, &key, srcs[0], srcs, 2, 1, &c), 0);
	CHECK_CHAIN(&c, leaf.cert, inter2.cert, inter1.cert, root.cert);
	CHECK(c.root == NULL);
	CHECK_SILENT();
	pool_free(&pool);
}

static void
the_leaf_is_the_certificate_of_the_key_wherever_it_is(void)
{
	static const char	*srcs[] = { "cert.pem", "chain.pem" };
	struct pool		 pool = { 0 };
	struct key		 key = { .pkey = NULL };
	struct chain		 c;

	pki_up();
	key.pkey = leaf.key;
	/* The leaf file starts with a CA; the leaf is in the chain file. */
	add(&pool, inter2.cert, srcs[0]);
	add(&pool, inter1.cert, srcs[1]);
	add(&pool, leaf.cert, srcs[1]);
	CHECK_INT(chain_build(&pool, &key, srcs[0], srcs, 2, 0, &c), 0);
	CHECK_CHAIN(&c, leaf.cert, inter2.cert, inter1.cert);
	pool_free(&pool);
	/* Another server's certificate first in the leaf file. */
	add(&pool, other.cert, srcs[0]);
	add(&pool, leaf.cert, srcs[0]);
	add(&pool, inter2.cert, srcs[1]);
	CHECK_INT(chain_build(&pool, &key, srcs[0], srcs, 2, 0, &c), 0);
	CHECK_CHAIN(&c, leaf.cert, inter2.cert);
	pool_free(&pool);
	/* No key: the leaf file's first certificate that is no CA. */
	key.pkey = NULL;
	add(&pool, inter2.cert, srcs[0]);
	add(&pool, leaf.cert, srcs[0]);
	CHECK_INT(chain_build(&pool, &key, srcs[0], srcs, 1, 0, &c), 0);
	CHECK_CHAIN(&c, leaf.cert, inter2.cert);
	pool_free(&pool);
}

static void
a_root_that_issued_the_leaf_itself_is_left_out_too(void)
{
	static const char	*srcs[] = { "cert.pem" };
	struct pool		 pool = { 0 };
	struct key		 key = { .pkey = NULL };
	struct chain		 c;
	struct pki		 direct;

	pki_up();
	direct = pki_make("direct.example.org", "ec", PKI_SERVER, &root);
	key.pkey = direct.key;
	add(&pool, direct.cert, srcs[0]);
	add(&pool, root.cert, srcs[0]);
	CHECK_INT(chain_build(&pool, &key, srcs[0], srcs, 1, 0, &c), 0);
	CHECK_CHAIN(&c, direct.cert);
	CHECK(c.root != NULL);
	pool_free(&pool);
	/* A self-signed leaf alone is the chain: nothing is left out. */
	key.pkey = unrelated.key;
	add(&pool, unrelated.cert, srcs[0]);
	CHECK_INT(chain_build(&pool, &key, srcs[0], srcs, 1, 0, &c), 0);
	CHECK_CHAIN(&c, unrelated.cert);
	CHECK(c.root == NULL);
	pool_free(&pool);
	pki_free(&direct);
}

static void
certificates_off_the_path_are_left_out_with_a_note(void)
{
	static const char	*srcs[] = { "cert.pem", "extra.pem" };
	struct pool		 pool = { 0 };
	struct key		 key = { .pkey = NULL };
	struct chain		 c;

	pki_up();
	key.pkey = leaf.key;
	add(&pool, leaf.cert, srcs[0]);
	add(&pool, unrelated.cert, srcs[1]);
	add(&pool, inter2.cert, srcs[1]);
	CHECK_INT(chain_build(&pool, &key, srcs[0], srcs, 2, 0, &c), 0);
	CHECK_CHAIN(&c, leaf.cert, inter2.cert);
	CHECK_SAID("note: extra.pem: left out 1 certificate not on the "
	    "leaf's path");
	pool_free(&pool);
}

static void
a_valid_issuer_is_preferred_to_its_expired_twin(void)
{
	static const char	*srcs[] = { "cert.pem" };
	struct pool		 pool = { 0 };
	struct key		 key = { .pkey = NULL };
	struct chain		 c;
	X509			*expired;

	pki_up();
	key.pkey = leaf.key;
	/* inter2 again, same name and key, expired; listed first. */
	expired = pki_cert("inter2", inter2.key, PKI_CA, &inter1, -400, -30,
	    NULL);
	add(&pool, leaf.cert, srcs[0]);
	add(&pool, expired, srcs[0]);
	add(&pool, inter2.cert, srcs[0]);
	CHECK_INT(chain_build(&pool, &key, srcs[0], srcs, 1, 0, &c), 0);
	CHECK_CHAIN(&c, leaf.cert, inter2.cert);
	pool_free(&pool);
	/* Only the expired one: it is taken (the verdict says why). */
	add(&pool, leaf.cert, srcs[0]);
	add(&pool, expired, srcs[0]);
	CHECK_INT(chain_build(&pool, &key, srcs[0], srcs, 1, 0, &c), 0);
	CHECK_CHAIN(&c, leaf.cert, expired);
	pool_free(&pool);
	X509_free(expired);
}

/*
 * A chain of DEPTH certificates: a leaf under DEPTH - 2 intermediates
 * under a self-signed root.  Returns 0 or chain_build's -1.
 */
static int
chain_of(size_t depth, int include_root, struct chain *c, struct pool *pool)
{
	static const char	*src = "deep.pem";
	struct pki		 ca[20];
	struct pki		 l;
	struct key		 key = { .pkey = NULL };
	char			 name[32];
	size_t			 i;
	int			 rc;

	ca[0] = pki_make("deep root", "ec", PKI_CA, NULL);
	for (i = 1; i + 1 < depth; i++) {
		snprintf(name, sizeof(name), "deep%zu", i);
		ca[i] = pki_make(name, "ec", PKI_CA, &ca[i - 1]);
	}
	l = pki_make("deep.example.org", "ec", PKI_SERVER, &ca[depth - 2]);
	key.pkey = l.key;
	add(pool, l.cert, src);
	for (i = 0; i + 1 < depth; i++)
		add(pool, ca[i].cert, src);
	rc = chain_build(pool, &key, src, &src, 1, include_root, c);
	for (i = 0; i + 1 < depth; i++)
		pki_free(&ca[i]);
	pki_free(&l);
	return rc;
}

static void
a_chain_of_sixteen_is_taken_and_one_of_seventeen_refused(void)
{
	struct pool	pool = { 0 };
	struct chain	c;

	/* 16 with the root: the root left out, 15 served. */
	CHECK_INT(chain_of(16, 0, &c, &pool), 0);
	CHECK_INT(c.n, 15);
	CHECK(c.root != NULL);
	pool_free(&pool);
	/* 16 with the root served: still within the limit. */
	CHECK_INT(chain_of(16, 1, &c, &pool), 0);
	CHECK_INT(c.n, 16);
	pool_free(&pool);
	/* 17: one more issuer than fits. */
	CHECK_INT(chain_of(17, 0, &c, &pool), -1);
	CHECK_SAID("deep.pem: the certificate chain is longer than 16 "
	    "certificates");
	pool_free(&pool);
}

static void
cross_signed_cas_in_a_loop_end_at_the_limit(void)
{
	static const char	*src = "loop.pem";
	struct pki		 a, b, l;
	X509			*a_by_b, *b_by_a;
	struct pool		 pool = { 0 };
	struct key		 key = { .pkey = NULL };
	struct chain		 c;

	a = pki_make("loopa", "ec", PKI_CA, NULL);
	b = pki_make("loopb", "ec", PKI_CA, NULL);
	a_by_b = pki_cert("loopa", a.key, PKI_CA, &b, -1, 365, NULL);
	b_by_a = pki_cert("loopb", b.key, PKI_CA, &a, -1, 365, NULL);
	l = pki_make("loop.example.org", "ec", PKI_SERVER, &a);
	key.pkey = l.key;
	add(&pool, l.cert, src);
	add(&pool, a_by_b, src);
	add(&pool, b_by_a, src);
	/* Each certificate is on the path once: it ends, never runs on. */
	CHECK_INT(chain_build(&pool, &key, src, &src, 1, 0, &c), 0);
	CHECK_INT(c.n, 3);
	pool_free(&pool);
	X509_free(a_by_b);
	X509_free(b_by_a);
	pki_free(&a);
	pki_free(&b);
	pki_free(&l);
}

static void
no_certificate_at_all_is_refused(void)
{
	static const char	*src = "none.pem";
	struct pool		 pool = { 0 };
	struct key		 key = { .pkey = NULL };
	struct chain		 c;

	pki_up();
	key.pkey = leaf.key;
	CHECK_INT(chain_build(&pool, &key, src, &src, 1, 0, &c), -1);
	CHECK_SAID("none.pem: no certificate found in the certificate file");
}

/* The PEM blocks of BUF, in order, as subjects' CNs and "key". */
static void
check_pem(int line, const unsigned char *buf, size_t len, const char *want)
{
	BIO	*bio = BIO_new_mem_buf(buf, len);
	char	*name, *header, got[512] = "", cn[64];
	X509	*x;
	const unsigned char *p;
	unsigned char	*data;
	long	 dlen;

	while (PEM_read_bio(bio, &name, &header, &data, &dlen) == 1) {
		if (strstr(name, "PRIVATE KEY"))
			strcat(got, "key ");
		else {
			p = data;
			x = d2i_X509(NULL, &p, dlen);
			cn[0] = '\0';
			if (x != NULL)
				X509_NAME_get_text_by_NID(X509_get_subject_name(x),
				    NID_commonName, cn, sizeof(cn));
			strcat(got, cn);
			strcat(got, " ");
			X509_free(x);
		}
		OPENSSL_free(name);
		OPENSSL_free(header);
		OPENSSL_free(data);
	}
	BIO_free(bio);
	if (strcmp(got, want))
		unit_fail(__FILE__, line, "bundle holds \"%s\", want \"%s\"",
		    got, want);
}

static void
the_bundle_is_the_chain_in_order_with_the_key_first_when_asked(void)
{
	static const char	*srcs[] = { "cert.pem" };
	struct pool		 pool = { 0 };
	struct key		 key = { .pkey = NULL };
	struct chain		 c;
	unsigned char		*buf = NULL;
	size_t			 len = 0;

	pki_up();
	key.pkey = leaf.key;
	add(&pool, inter1.cert, srcs[0]);
	add(&pool, inter2.cert, srcs[0]);
	add(&pool, leaf.cert, srcs[0]);
	CHECK_INT(chain_build(&pool, &key, srcs[0], srcs, 1, 0, &c), 0);
	CHECK_INT(chain_pem(&c, NULL, &buf, &len), 0);
	check_pem(__LINE__, buf, len, "mail.example.org inter2 inter1 ");
	free(buf);
	buf = NULL;
	CHECK_INT(chain_pem(&c, &key, &buf, &len), 0);
	check_pem(__LINE__, buf, len, "key mail.example.org inter2 inter1 ");
	free(buf);
	pool_free(&pool);
}

static void
cleanup(void)
{
	pki_free(&root);
	pki_free(&inter1);
	pki_free(&inter2);
	pki_free(&leaf);
	pki_free(&other);
	pki_free(&unrelated);
	pem_done();
}

static const struct unit_test tests[] = {
	{ "issuers given in any order are put in issuing order",
	    issuers_given_in_any_order_are_put_in_issuing_order },
	{ "the leaf is the certificate of the key, wherever it is",
	    the_leaf_is_the_certificate_of_the_key_wherever_it_is },
	{ "a root that issued the leaf itself is left out too",
	    a_root_that_issued_the_leaf_itself_is_left_out_too },
	{ "certificates off the leaf's path are left out",
	    certificates_off_the_path_are_left_out_with_a_note },
	{ "a valid issuer is preferred to its expired twin",
	    a_valid_issuer_is_preferred_to_its_expired_twin },
	{ "a chain of 16 is taken, one of 17 refused",
	    a_chain_of_sixteen_is_taken_and_one_of_seventeen_refused },
	{ "cross-signed CAs in a loop end, never run on",
	    cross_signed_cas_in_a_loop_end_at_the_limit },
	{ "no certificate at all is refused",
	    no_certificate_at_all_is_refused },
	{ "the bundle is the chain in order, the key first when asked",
	    the_bundle_is_the_chain_in_order_with_the_key_first_when_asked },
};

UNIT_MAIN("chain", tests, pki_up, cleanup)
