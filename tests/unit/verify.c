/*
 * src/verify.c: the chain verifies as a TLS server's for a client at
 * OpenSSL security level 2 (verify_chain), the key is the leaf's and
 * usable (verify_key), the leaf covers a name (verify_names).
 *
 * Trust anchors must be root's (the helper refuses any other owner), so
 * verify_chain's cases run as root only and say so elsewhere: CI runs
 * them, an ebuild's src_test (the portage user) skips them.
 */
#include <openssl/core_names.h>
#include <openssl/param_build.h>
#include <openssl/pem.h>

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../../src/chain.h"
#include "../../src/pem.h"
#include "../../src/verify.h"
#include "harness/unit.h"

static struct pki	root, inter, leaf, rsa1024;
static char		dir[64], cafile[96];
static struct trust	anchors = { cafile, NULL };	/* POSTFIX_TLS_CAFILE */

static void
pki_up(void)
{
	if (root.cert != NULL)
		return;
	root = pki_make("root", "ec", PKI_CA, NULL);
	inter = pki_make("inter", "ec", PKI_CA, &root);
	leaf = pki_make("mail.example.org", "ec", PKI_SERVER, &inter);
	rsa1024 = pki_make("weak.example.org", "rsa:1024", PKI_SERVER, &inter);
}

/*
 * The PKI, and as root the test root as POSTFIX_TLS_CAFILE: root's, in a
 * directory of root's (as the helper wants trust anchors).
 */
static void
setup(void)
{
	struct buf	 b = { 0 };
	FILE		*f;

	pki_up();
	if (!unit_is_root())
		return;
	snprintf(dir, sizeof(dir), "/tmp/pts-unit.XXXXXX");
	if (mkdtemp(dir) == NULL)
		abort();
	snprintf(cafile, sizeof(cafile), "%s/root.pem", dir);
	buf_cert(&b, root.cert);
	if ((f = fopen(cafile, "w")) == NULL || fwrite(b.p, 1, b.len, f) !=
	    b.len || fclose(f) != 0)
		abort();
	buf_free(&b);
}

static int
anchors_up(void)
{
	if (cafile[0] != '\0')
		return 0;
	unit_skip("trust anchors must be root's (runs as root in CI)");
	return -1;
}

/* A chain of the given certificates, leaf first (borrowed). */
static struct chain
chain_of(X509 *leafx, X509 *ca1, X509 *ca2)
{
	struct chain	c;

	memset(&c, 0, sizeof(c));
	c.x509[c.n++] = leafx;
	if (ca1 != NULL)
		c.x509[c.n++] = ca1;
	if (ca2 != NULL)
		c.x509[c.n++] = ca2;
	return c;
}

static void
a_good_chain_verifies(void)
{
	struct chain	c;

	if (anchors_up() == -1)
		return;
	c = chain_of(leaf.cert, inter.cert, NULL);
	CHECK_INT(verify_chain(&c, &anchors, "good.pem"), 0);
	CHECK_SILENT();
}

static void
a_missing_intermediate_is_named_with_its_issuer(void)
{
	struct chain	c;

	if (anchors_up() == -1)
		return;
	c = chain_of(leaf.cert, NULL, NULL);
	CHECK_INT(verify_chain(&c, &anchors, "nointer.pem"), -1);
	CHECK_SAID("nointer.pem: certificate chain does not verify as a TLS "
	    "server: unable to get local issuer certificate at depth 0");
	CHECK_SAID("whose issuer is /O=Test/CN=inter");
	CHECK_SAID("add your CA's chain file to POSTFIX_TLS_CHAIN");
}

static void
expired_and_not_yet_valid_leaves_are_refused(void)
{
	struct chain	 c;
	X509		*old, *future;

	if (anchors_up() == -1)
		return;
	old = pki_cert("old.example.org", leaf.key, PKI_SERVER, &inter, -400,
	    -1, NULL);
	future = pki_cert("future.example.org", leaf.key, PKI_SERVER, &inter,
	    2, 365, NULL);
	c = chain_of(old, inter.cert, NULL);
	CHECK_INT(verify_chain(&c, &anchors, "old.pem"), -1);
	CHECK_SAID("old.pem: certificate chain does not verify as a TLS "
	    "server: certificate has expired");
	CHECK_SAID("(renew the certificate)");
	c = chain_of(future, inter.cert, NULL);
	CHECK_INT(verify_chain(&c, &anchors, "future.pem"), -1);
	CHECK_SAID("future.pem: certificate chain does not verify as a TLS "
	    "server: certificate is not yet valid");
	X509_free(old);
	X509_free(future);
}

static void
a_client_certificate_or_a_ca_as_leaf_is_refused(void)
{
	struct chain	 c;
	X509		*client;

	if (anchors_up() == -1)
		return;
	client = pki_cert("client.example.org", leaf.key, PKI_CLIENT, &inter,
	    -1, 365, NULL);
	c = chain_of(client, inter.cert, NULL);
	CHECK_INT(verify_chain(&c, &anchors, "client.pem"), -1);
	CHECK_SAID("client.pem: certificate chain does not verify as a TLS "
	    "server: unsuitable certificate purpose at depth 0");
	CHECK_SAID("reissue it with extendedKeyUsage serverAuth");
	c = chain_of(inter.cert, NULL, NULL);
	CHECK_INT(verify_chain(&c, &anchors, "ca.pem"), -1);
	CHECK_SAID("ca.pem: the first certificate, /O=Test/CN=inter, is a CA "
	    "certificate, not a server certificate");
	X509_free(client);
}

static void
weak_keys_and_sha1_signatures_are_refused_with_their_fix(void)
{
	struct chain	 c;
	X509		*sha1;

	if (anchors_up() == -1)
		return;
	c = chain_of(rsa1024.cert, inter.cert, NULL);
	CHECK_INT(verify_chain(&c, &anchors, "weak.pem"), -1);
	CHECK_SAID("weak.pem: /O=Test/CN=weak.example.org has a 1024-bit RSA "
	    "key; verifying peers refuse keys under 2048 bits");
	sha1 = pki_cert("sha1.example.org", leaf.key, PKI_SERVER, &inter, -1,
	    365, EVP_sha1());
	c = chain_of(sha1, inter.cert, NULL);
	CHECK_INT(verify_chain(&c, &anchors, "sha1.pem"), -1);
	CHECK_SAID("sha1.pem: /O=Test/CN=sha1.example.org is signed with SHA1");
	X509_free(sha1);
}

static void
a_leaf_on_a_curve_clients_refuse_is_refused(void)
{
	struct chain	 c;
	struct pki	 k;

	if (anchors_up() == -1)
		return;
	k = pki_make("k256.example.org", "ec:secp256k1", PKI_SERVER, &inter);
	c = chain_of(k.cert, inter.cert, NULL);
	CHECK_INT(verify_chain(&c, &anchors, "k256.pem"), -1);
	CHECK_SAID("k256.pem: /O=Test/CN=k256.example.org has an EC key on "
	    "curve secp256k1, which default TLS clients");
	pki_free(&k);
	/* The curves clients offer are taken. */
	k = pki_make("p384.example.org", "ec:P-384", PKI_SERVER, &inter);
	c = chain_of(k.cert, inter.cert, NULL);
	CHECK_INT(verify_chain(&c, &anchors, "p384.pem"), 0);
	pki_free(&k);
}

static void
an_untrusted_root_is_refused(void)
{
	struct chain	c;
	struct pki	other, l;

	if (anchors_up() == -1)
		return;
	other = pki_make("otherroot", "ec", PKI_CA, NULL);
	l = pki_make("mail.example.org", "ec", PKI_SERVER, &other);
	c = chain_of(l.cert, NULL, NULL);
	c.root = other.cert;	/* left out of the bundle, still offered */
	CHECK_INT(verify_chain(&c, &anchors, "untrusted.pem"), -1);
	CHECK_SAID("untrusted.pem: certificate chain does not verify as a TLS "
	    "server: self-signed certificate in certificate chain");
	pki_free(&other);
	pki_free(&l);
}

/* A key from PKI with the key material of KEY, as struct key holds it. */
static struct key
key_of(EVP_PKEY *pkey)
{
	struct key	k;

	memset(&k, 0, sizeof(k));
	k.pkey = pkey;
	k.count = 1;
	k.block = 1;
	return k;
}

static void
the_key_must_be_the_leafs_readable_and_unencrypted(void)
{
	struct chain	c;
	struct key	k;
	struct pki	other;

	pki_up();
	other = pki_make("other", "ec", PKI_SERVER, &inter);
	c = chain_of(leaf.cert, inter.cert, NULL);
	k = key_of(leaf.key);
	CHECK_INT(verify_key(&c, &k, "key.pem", "cert.pem"), 0);
	CHECK_SILENT();
	k = key_of(other.key);
	CHECK_INT(verify_key(&c, &k, "otherkey.pem", "cert.pem"), -1);
	CHECK_SAID("otherkey.pem: private key does not match public key in "
	    "certificate cert.pem");
	k = key_of(NULL);
	k.encrypted = 1;
	CHECK_INT(verify_key(&c, &k, "encrypted.pem", "cert.pem"), -1);
	CHECK_SAID("encrypted.pem: private key is protected by a passphrase");
	k = key_of(NULL);
	k.count = 0;
	CHECK_INT(verify_key(&c, &k, "nokey.pem", "cert.pem"), -1);
	CHECK_SAID("nokey.pem: no private key found");
	k = key_of(NULL);
	CHECK_INT(verify_key(&c, &k, "damaged.pem", "cert.pem"), -1);
	CHECK_SAID("damaged.pem: the private key cannot be parsed");
	/* Two keys: the first is used, and that is said. */
	k = key_of(leaf.key);
	k.count = 2;
	CHECK_INT(verify_key(&c, &k, "twokeys.pem", "cert.pem"), 0);
	CHECK_SAID("warning: twokeys.pem: holds 2 private keys; only the first "
	    "is used");
	pki_free(&other);
}

/*
 * KEY with its secret part damaged and its public part as it was: what
 * X509_check_private_key still calls a match.  EC: the private scalar
 * plus one.  RSA: d, dp and dq plus two (CRT signing falls back to d
 * when its result does not verify).  Ed25519: a bit of the secret
 * flipped.
 */
static EVP_PKEY *
damaged(EVP_PKEY *key)
{
	static const char *const rsa_bad[] = { OSSL_PKEY_PARAM_RSA_D,
	    OSSL_PKEY_PARAM_RSA_EXPONENT1, OSSL_PKEY_PARAM_RSA_EXPONENT2 };
	static const char *const rsa_keep[] = { OSSL_PKEY_PARAM_RSA_N,
	    OSSL_PKEY_PARAM_RSA_E, OSSL_PKEY_PARAM_RSA_FACTOR1,
	    OSSL_PKEY_PARAM_RSA_FACTOR2, OSSL_PKEY_PARAM_RSA_COEFFICIENT1 };
	OSSL_PARAM_BLD	*bld = OSSL_PARAM_BLD_new();
	OSSL_PARAM	*params;
	EVP_PKEY_CTX	*ctx;
	EVP_PKEY	*out = NULL;
	BIGNUM		*bn[8] = { NULL };
	unsigned char	 pub[256], sec[64];	/* referenced by bld */
	char		 group[64];
	size_t		 i, n = 0, publen, seclen;
	int		 id = EVP_PKEY_get_base_id(key);
	int		 rsa = id == EVP_PKEY_RSA;
	const char	*type = rsa ? "RSA" : id == EVP_PKEY_EC ? "EC" : "ED25519";

	if (id == EVP_PKEY_ED25519) {
		EVP_PKEY_get_octet_string_param(key, OSSL_PKEY_PARAM_PUB_KEY,
		    pub, sizeof(pub), &publen);
		OSSL_PARAM_BLD_push_octet_string(bld, OSSL_PKEY_PARAM_PUB_KEY,
		    pub, publen);
		EVP_PKEY_get_octet_string_param(key, OSSL_PKEY_PARAM_PRIV_KEY,
		    sec, sizeof(sec), &seclen);
		sec[0] ^= 1;
		OSSL_PARAM_BLD_push_octet_string(bld, OSSL_PKEY_PARAM_PRIV_KEY,
		    sec, seclen);
	} else if (rsa) {
		for (i = 0; i < 5; i++) {
			EVP_PKEY_get_bn_param(key, rsa_keep[i], &bn[n]);
			OSSL_PARAM_BLD_push_BN(bld, rsa_keep[i], bn[n++]);
		}
		for (i = 0; i < 3; i++) {
			EVP_PKEY_get_bn_param(key, rsa_bad[i], &bn[n]);
			BN_add_word(bn[n], 2);
			OSSL_PARAM_BLD_push_BN(bld, rsa_bad[i], bn[n++]);
		}
	} else {
		EVP_PKEY_get_utf8_string_param(key, OSSL_PKEY_PARAM_GROUP_NAME,
		    group, sizeof(group), NULL);
		EVP_PKEY_get_octet_string_param(key, OSSL_PKEY_PARAM_PUB_KEY,
		    pub, sizeof(pub), &publen);
		EVP_PKEY_get_bn_param(key, OSSL_PKEY_PARAM_PRIV_KEY, &bn[n]);
		BN_add_word(bn[n], 1);
		OSSL_PARAM_BLD_push_utf8_string(bld,
		    OSSL_PKEY_PARAM_GROUP_NAME, group, 0);
		OSSL_PARAM_BLD_push_octet_string(bld, OSSL_PKEY_PARAM_PUB_KEY,
		    pub, publen);
		OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_PRIV_KEY, bn[n++]);
	}
	params = OSSL_PARAM_BLD_to_param(bld);
	ctx = EVP_PKEY_CTX_new_from_name(NULL, type, NULL);
	if (EVP_PKEY_fromdata_init(ctx) != 1 || EVP_PKEY_fromdata(ctx, &out,
	    EVP_PKEY_KEYPAIR, params) != 1)
		unit_fail(__FILE__, __LINE__, "cannot make a damaged key");
	EVP_PKEY_CTX_free(ctx);
	OSSL_PARAM_free(params);
	OSSL_PARAM_BLD_free(bld);
	for (i = 0; i < n; i++)
		BN_clear_free(bn[i]);
	OPENSSL_cleanse(sec, sizeof(sec));
	return out;
}

static void
a_damaged_secret_part_is_refused_whatever_the_algorithm(void)
{
	struct chain	 c;
	struct key	 k;
	EVP_PKEY	*bad;
	struct pki	 ed;

	pki_up();
	c = chain_of(leaf.cert, inter.cert, NULL);
	bad = damaged(leaf.key);
	CHECK(X509_check_private_key(leaf.cert, bad) == 1);
	k = key_of(bad);
	CHECK_INT(verify_key(&c, &k, "damaged-ec.pem", "cert.pem"), -1);
	CHECK_SAID("damaged-ec.pem: the private key's secret part does not "
	    "fit its public part");
	EVP_PKEY_free(bad);

	c = chain_of(rsa1024.cert, inter.cert, NULL);
	k = key_of(rsa1024.key);
	CHECK_INT(verify_key(&c, &k, "rsa.pem", "cert.pem"), 0);
	bad = damaged(rsa1024.key);
	CHECK(X509_check_private_key(rsa1024.cert, bad) == 1);
	k = key_of(bad);
	CHECK_INT(verify_key(&c, &k, "damaged-rsa.pem", "cert.pem"), -1);
	CHECK_SAID("damaged-rsa.pem: the private key's secret part does not "
	    "fit its public part");
	EVP_PKEY_free(bad);

	ed = pki_make("ed.example.org", "ed25519", PKI_SERVER, &inter);
	c = chain_of(ed.cert, inter.cert, NULL);
	k = key_of(ed.key);
	CHECK_INT(verify_key(&c, &k, "ed.pem", "cert.pem"), 0);
	bad = damaged(ed.key);
	CHECK(X509_check_private_key(ed.cert, bad) == 1);
	k = key_of(bad);
	CHECK_INT(verify_key(&c, &k, "damaged-ed.pem", "cert.pem"), -1);
	CHECK_SAID("damaged-ed.pem: the private key's secret part does not "
	    "fit its public part");
	EVP_PKEY_free(bad);
	pki_free(&ed);
}

static void
names_match_as_clients_match_them(void)
{
	pki_up();
	CHECK_INT(verify_names(leaf.cert, "mail.example.org"), 1);
	CHECK_INT(verify_names(leaf.cert, "MAIL.Example.ORG"), 1);
	CHECK_INT(verify_names(leaf.cert, "example.org"), 0);
	CHECK_INT(verify_names(leaf.cert, "other.example.org"), 0);
	CHECK_INT(verify_names(leaf.cert, "mail.example.org.evil"), 0);
}

static void
a_wildcard_covers_one_label_only(void)
{
	struct pki	w;

	pki_up();
	w = pki_make("*.example.org", "ec", PKI_SERVER, &inter);
	CHECK_INT(verify_names(w.cert, "mail.example.org"), 1);
	CHECK_INT(verify_names(w.cert, "a.mail.example.org"), 0);
	CHECK_INT(verify_names(w.cert, "example.org"), 0);
	pki_free(&w);
}

static void
a_dot_name_is_covered_by_any_name_under_it_but_not_itself(void)
{
	struct pki	apex, dotted, x;

	pki_up();
	CHECK_INT(verify_names(leaf.cert, ".example.org"), 1);
	CHECK_INT(verify_names(leaf.cert, ".EXAMPLE.org"), 1);
	CHECK_INT(verify_names(leaf.cert, ".mail.example.org"), 0);
	CHECK_INT(verify_names(leaf.cert, ".org.example"), 0);
	apex = pki_make("example.org", "ec", PKI_SERVER, &inter);
	CHECK_INT(verify_names(apex.cert, ".example.org"), 0);
	/* A name exactly as long as the dot name, ending the same. */
	dotted = pki_make(".example.org", "ec", PKI_SERVER, &inter);
	CHECK_INT(verify_names(dotted.cert, ".example.org"), 0);
	/* Ending the same without the dot is another domain. */
	x = pki_make("mailexample.org", "ec", PKI_SERVER, &inter);
	CHECK_INT(verify_names(x.cert, ".example.org"), 0);
	pki_free(&apex);
	pki_free(&dotted);
	pki_free(&x);
}

static void
cleanup(void)
{
	pki_free(&root);
	pki_free(&inter);
	pki_free(&leaf);
	pki_free(&rsa1024);
	verify_done();
	if (cafile[0] != '\0') {
		unlink(cafile);
		rmdir(dir);
	}
}

/*
 * The expiry moment: the later of the day count and the fraction of the
 * lifetime, exact to the second (LEFT * DEN < LIFETIME * NUM), and 1/1
 * or an unknown lifetime leave the day count alone.
 */
static void
the_expiry_moment_is_the_later_of_days_and_fraction(void)
{
	static const int	third[2] = { 1, 3 }, sixth[2] = { 1, 6 },
				whole[2] = { 1, 1 }, two7[2] = { 2, 7 };
	long long		six = 6 * 86400LL;

	verify_fractions(third, sixth);
	CHECK_INT(verify_due_at(six, 30, 0), 2 * 86400);
	CHECK_INT(verify_due_at(six, 7, 1), 86400);
	CHECK_INT(verify_due_at(45 * 86400LL, 7, 1), 7 * 86400);
	CHECK_INT(verify_due_at(90 * 86400LL, 30, 0), 30 * 86400);
	CHECK_INT(verify_due_at(0, 30, 0), 30 * 86400);
	CHECK(!verify_due(six, 2 * 86400, 30, 0));
	CHECK(verify_due(six, 2 * 86400 - 1, 30, 0));
	CHECK(verify_by_fraction(six, 30, 0));
	CHECK(!verify_by_fraction(90 * 86400LL, 30, 0));
	CHECK(!verify_by_fraction(0, 30, 0));
	/* 7 seconds, 2/7: due below 2 seconds left, not at 2. */
	verify_fractions(two7, whole);
	CHECK_INT(verify_due_at(7, 1, 0), 2);
	CHECK_INT(verify_due_at(8, 1, 0), 3);	/* 16/7 rounded up */
	CHECK(verify_due(8, 2, 1, 0) && !verify_due(8, 3, 1, 0));
	CHECK_INT(verify_due_at(six, 30, 1), 30 * 86400);
	CHECK(!verify_by_fraction(six, 30, 1));
	verify_fractions(third, sixth);
	CHECK_INT(verify_fraction(0).den, 3);
	CHECK_INT(verify_fraction(1).den, 6);
}

static const struct unit_test tests[] = {
	{ "the expiry moment is the later of the day count and the fraction",
	    the_expiry_moment_is_the_later_of_days_and_fraction },
	{ "a good chain verifies", a_good_chain_verifies },
	{ "a missing intermediate is named with its issuer and the fix",
	    a_missing_intermediate_is_named_with_its_issuer },
	{ "expired and not yet valid leaves are refused",
	    expired_and_not_yet_valid_leaves_are_refused },
	{ "a client certificate, or a CA as leaf, is refused",
	    a_client_certificate_or_a_ca_as_leaf_is_refused },
	{ "RSA-1024 and SHA-1 are refused with their fix",
	    weak_keys_and_sha1_signatures_are_refused_with_their_fix },
	{ "a leaf on a curve default clients refuse is refused",
	    a_leaf_on_a_curve_clients_refuse_is_refused },
	{ "a chain to an untrusted root is refused",
	    an_untrusted_root_is_refused },
	{ "the key must be the leaf's, readable and unencrypted",
	    the_key_must_be_the_leafs_readable_and_unencrypted },
	{ "a key whose secret part is damaged is refused, RSA, EC and Ed25519 alike",
	    a_damaged_secret_part_is_refused_whatever_the_algorithm },
	{ "names match as clients match them",
	    names_match_as_clients_match_them },
	{ "a wildcard covers one label only", a_wildcard_covers_one_label_only },
	{ "a .domain is covered by any name under it, not by itself",
	    a_dot_name_is_covered_by_any_name_under_it_but_not_itself },
};

UNIT_MAIN("verify", tests, setup, cleanup)
