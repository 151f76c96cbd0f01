/*
 * Assemble the bundle: the leaf first, then each issuer in order, as
 * Postfix and every TLS peer expect.  The inputs may come in any order and
 * be split across files; issuers are found by subject hash and confirmed
 * with X509_check_issued() (names, key identifiers, key usage), never by
 * comparing strings.  Lookup is a binary search over the pool sorted by
 * subject hash, so a CA bundle with thousands of certificates as input
 * costs n log n, not n squared.
 */
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include <stdlib.h>
#include <string.h>
#include <sysexits.h>

#include "chain.h"
#include "common.h"
#include "finding.h"
#include "pem.h"

static int
by_subject(const void *a, const void *b)
{
	const struct cert	*x = a, *y = b;

	if (x->subject != y->subject)
		return x->subject < y->subject ? -1 : 1;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

static int
is_self_signed(X509 *x)
{
	return X509_self_signed(x, 0) == 1;
}

static int
on_chain(const struct chain *c, X509 *x)
{
	size_t	i;

	for (i = 0; i < c->n; i++)
		if (X509_cmp(c->x509[i], x) == 0)
			return 1;
	return 0;
}

static int
key_matches(X509 *x, const struct key *key)
{
	return key->pkey != NULL && EVP_PKEY_eq(X509_get0_pubkey(x),
	    key->pkey) == 1;
}

/*
 * The leaf: the certificate the private key belongs to, looked for in
 * the leaf file first (where it nearly always is: comparing keys decodes
 * each certificate's public key, too costly to do for a whole CA bundle
 * first), then among the other inputs; failing that, the first non-CA
 * certificate of the leaf file; failing that, its first certificate.
 */
static X509 *
find_leaf(const struct pool *pool, const struct key *key,
    const char *leafsrc)
{
	X509	*first = NULL, *first_ee = NULL;
	size_t	 i;

	for (i = 0; i < pool->n; i++) {
		if (pool->certs[i].src != leafsrc)
			continue;
		if (key_matches(pool->certs[i].x509, key))
			return pool->certs[i].x509;
		if (first == NULL)
			first = pool->certs[i].x509;
		if (first_ee == NULL && X509_check_ca(pool->certs[i].x509) == 0)
			first_ee = pool->certs[i].x509;
	}
	for (i = 0; i < pool->n; i++)
		if (pool->certs[i].src != leafsrc &&
		    key_matches(pool->certs[i].x509, key))
			return pool->certs[i].x509;
	return first_ee ? first_ee : first;
}

/*
 * The issuer of x among the pool (sorted by subject): a currently valid
 * one first, so that an expired cross-signed twin is not preferred.
 */
static X509 *
find_issuer(const struct pool *pool, const struct chain *c, X509 *x)
{
	struct cert	 probe = { .seq = 0 };
	struct cert	*lo;
	X509		*expired = NULL, *cand;
	size_t		 i;
	int		 ok = 0;

	probe.subject = X509_NAME_hash_ex(X509_get_issuer_name(x), NULL, NULL,
	    &ok);
	if (!ok)
		return NULL;
	/* First entry with that hash: seq 0 sorts before any real one. */
	lo = pool->certs;
	for (size_t n = pool->n; n > 0;) {
		size_t	half = n / 2;

		if (by_subject(&lo[half], &probe) < 0) {
			lo += half + 1;
			n -= half + 1;
		} else
			n = half;
	}
	for (i = lo - pool->certs; i < pool->n &&
	    pool->certs[i].subject == probe.subject; i++) {
		cand = pool->certs[i].x509;
		if (cand == x || on_chain(c, cand) ||
		    X509_check_issued(cand, x) != X509_V_OK)
			continue;
		if (X509_cmp_current_time(X509_get0_notAfter(cand)) > 0)
			return cand;
		if (expired == NULL)
			expired = cand;
	}
	return expired;
}

static const char *
source_of(const struct pool *pool, X509 *x)
{
	size_t	i;

	for (i = 0; i < pool->n; i++)
		if (pool->certs[i].x509 == x)
			return pool->certs[i].src;
	return "?";
}

static int
left_out(const struct chain *c, X509 *x)
{
	return !on_chain(c, x) && (c->root == NULL || X509_cmp(c->root, x));
}

/* Certificates that are not on the leaf's path: one note per file. */
static void
note_left_out(const struct pool *pool, const struct chain *c,
    const char *const *srcs, size_t nsrcs)
{
	char	subject[256];
	size_t	i, s, count;

	for (s = 0; s < nsrcs; s++) {
		for (i = count = 0; i < pool->n; i++) {
			if (pool->certs[i].src != srcs[s] ||
			    !left_out(c, pool->certs[i].x509))
				continue;
			count++;
			if (!verbose())
				continue;
			X509_NAME_oneline(X509_get_subject_name(
			    pool->certs[i].x509), subject, sizeof(subject));
			debug("%s: left out %s", srcs[s], subject);
		}
		if (count > 0)
			note("note: %s: left out %zu certificate%s not on "
			    "the leaf's path", srcs[s], count,
			    count > 1 ? "s" : "");
	}
}

int
chain_build(struct pool *pool, const struct key *key, const char *leafsrc,
    const char *const *srcs, size_t nsrcs, int include_root,
    struct chain *c)
{
	X509	*x, *issuer;

	memset(c, 0, sizeof(*c));
	if ((x = find_leaf(pool, key, leafsrc)) == NULL) {
		problem(EX_DATAERR, leafsrc, "no certificate found in the "
		    "certificate file" FIX "expected the server's certificate "
		    "first");
		return -1;
	}
	qsort(pool->certs, pool->n, sizeof(*pool->certs), by_subject);
	c->x509[c->n++] = x;
	while (!is_self_signed(x) && (issuer = find_issuer(pool, c, x))) {
		if (c->n == MAX_CHAIN_LEN) {
			problem(EX_DATAERR, leafsrc, "the certificate chain is "
			    "longer than %d certificates" FIX "a loop of "
			    "cross-signed CAs?", MAX_CHAIN_LEN);
			return -1;
		}
		c->x509[c->n++] = x = issuer;
	}
	if (c->n > 1 && is_self_signed(x) && !include_root) {
		c->n--;
		c->root = x;
		c->root_src = source_of(pool, x);
	}
	note_left_out(pool, c, srcs, nsrcs);
	return 0;
}

/* The bundle's bytes: the key first when it lives in the bundle. */
int
chain_pem(const struct chain *c, const struct key *key_first,
    unsigned char **bufp, size_t *lenp)
{
	BIO	*bio;
	char	*data;
	long	 len;
	size_t	 i;
	int	 rc = -1;

	if ((bio = BIO_new(BIO_s_secmem())) == NULL)
		goto out;
	if (key_first != NULL && !PEM_write_bio_PrivateKey(bio,
	    key_first->pkey, NULL, NULL, 0, NULL, NULL))
		goto out;
	for (i = 0; i < c->n; i++)
		if (!PEM_write_bio_X509(bio, c->x509[i]))
			goto out;
	if ((len = BIO_get_mem_data(bio, &data)) <= 0 ||
	    (*bufp = malloc(len)) == NULL)
		goto out;
	memcpy(*bufp, data, len);
	*lenp = len;
	rc = 0;
out:
	if (rc == -1)
		crypto_problem(EX_SOFTWARE, NULL, "cannot encode the bundle");
	BIO_free(bio);
	return rc;
}
