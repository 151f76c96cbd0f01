/*
 * Verification.  First what "openssl verify -purpose sslserver" checks
 * (X509_verify_cert with the SSL-server purpose, at the current time,
 * against the trust anchors), then what it does not check but Postfix
 * and its peers need: the key matches and has no passphrase, the leaf is
 * no CA, and no key or signature that a peer at OpenSSL security level 2
 * rejects.  Trust anchors come from a hashed directory, looked up lazily
 * per issuer, so the system's whole CA bundle is never parsed.
 */
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>
#include <openssl/tls1.h>

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <sysexits.h>
#include <time.h>

#include "chain.h"
#include "common.h"
#include "finding.h"
#include "pem.h"
#include "secure.h"
#include "verify.h"

#define MIN_BITS	2048
#define AUTH_LEVEL	2	/* OpenSSL's default client security level */

static void
subject_of(X509 *x, char *buf, size_t size)
{
	X509_NAME_oneline(X509_get_subject_name(x), buf, size);
}

static void
date_of(const ASN1_TIME *t, char *buf, size_t size)
{
	struct tm	tm;

	if (ASN1_TIME_to_tm(t, &tm) == 1)
		strftime(buf, size, "%Y-%m-%d %H:%M UTC", &tm);
	else
		strlcpy(buf, "an unreadable date", size);
}

/* Is the error an issuer that is missing (or wrong) in the chain? */
static int
missing_issuer(int err)
{
	return err == X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT ||
	    err == X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY ||
	    err == X509_V_ERR_UNABLE_TO_VERIFY_LEAF_SIGNATURE;
}

/* What to do about a verification error, in an admin's words. */
const char *
verify_fix(int err)
{
	switch (err) {
	case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT:
	case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY:
	case X509_V_ERR_UNABLE_TO_VERIFY_LEAF_SIGNATURE:
		return "an intermediate CA certificate is missing or wrong: "
		    "add your CA's chain file to POSTFIX_TLS_CHAIN";
	case X509_V_ERR_CERT_HAS_EXPIRED:
		return "renew the certificate";
	case X509_V_ERR_CERT_NOT_YET_VALID:
		return "check the system clock, or deploy it once it is valid";
	case X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT:
		return "self-signed certificates are refused by verifying "
		    "peers: get one from a CA";
	case X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN:
		return "the root CA is not trusted here: add it to the system "
		    "store or to POSTFIX_TLS_CAFILE";
	case X509_V_ERR_INVALID_PURPOSE:
		return "the certificate is not for TLS servers: reissue it "
		    "with extendedKeyUsage serverAuth";
	case X509_V_ERR_INVALID_CA:
		return "a certificate in the issuer position is not a CA";
	case X509_V_ERR_EE_KEY_TOO_SMALL:
	case X509_V_ERR_CA_KEY_TOO_SMALL:
	case X509_V_ERR_CA_MD_TOO_WEAK:
		return "verifying peers (OpenSSL security level 2) refuse keys "
		    "under 112 bits of security (RSA-2048, P-256) and SHA-1 "
		    "signatures, the trust anchor's too: use a CA that "
		    "issues from a stronger chain";
	case X509_V_ERR_PERMITTED_VIOLATION:
	case X509_V_ERR_EXCLUDED_VIOLATION:
		return "the CA may not issue for these names (name "
		    "constraints): reissue under a CA that may";
	default:
		return "see openssl verify -purpose sslserver";
	}
}

/*
 * Trust anchors are inputs like any other, and the most dangerous ones:
 * whoever can write one can make any certificate trusted.  They are read
 * through secure.c's walk (no link from a directory someone else controls,
 * regular files only, never blocking on a FIFO) and must be root's and
 * writable by no one else.
 */
struct anchors {
	const char	*dir;		/* hashed directory, looked up lazily */
	const char	*what;		/* the setting that named it */
	int		 failed;	/* a problem was reported */
};


/* Open an anchor file and refuse it unless only root can change it. */
static int
anchor_open(struct file *f, const char *path, int may_be_absent,
    const char *what)
{
	if (file_open(f, path, may_be_absent) == -1)
		return -1;	/* logged */
	if (f->fd == -1)
		return 0;
	if (f->st.st_uid != 0) {
		problem(EX_NOPERM, f->real, "trust anchors (%s) owned by %s, "
		    "not root: that user can make any certificate trusted"
		    FIX "fix: chown root:root %s", what, user_name(f->st.st_uid),
		    f->real);
		return -1;
	}
	if (f->st.st_mode & (S_IWGRP | S_IWOTH)) {
		problem(EX_NOPERM, f->real, "trust anchors (%s) writable by "
		    "%s: they can make any certificate trusted" FIX "fix: chmod "
		    "go-w %s", what, f->st.st_mode & S_IWOTH ? "everyone" :
		    "its group", f->real);
		return -1;
	}
	return 0;
}

/*
 * Add the certificates of an anchor file to the store; how many were
 * added, or -1 after reporting why none could be.
 */
static int
anchor_add(X509_STORE *store, const char *path, const char *what,
    int may_be_absent)
{
	struct file		  f;
	STACK_OF(X509_INFO)	 *infos = NULL;
	X509_INFO		 *info;
	BIO			 *bio = NULL;
	unsigned char		 *buf = NULL;
	size_t			  len = 0;
	int			  i, n = 0, rc = -1;

	file_init(&f);
	if (anchor_open(&f, path, may_be_absent, what) == -1 ||
	    (f.fd != -1 && file_read(&f, &buf, &len) == -1))
		goto out;	/* logged */
	if (f.fd == -1) {
		rc = 0;
		goto out;
	}
	if ((bio = BIO_new_mem_buf(buf, len)) == NULL) {
		crypto_problem(EX_OSERR, f.real, "cannot read trust anchors");
		goto out;
	}
	/* As X509_STORE_load_file reads it: PEM, certificates in any order. */
	infos = PEM_X509_INFO_read_bio(bio, NULL, NULL, NULL);
	for (i = 0; infos != NULL && i < sk_X509_INFO_num(infos); i++) {
		info = sk_X509_INFO_value(infos, i);
		if (info->x509 == NULL)
			continue;
		if (!X509_STORE_add_cert(store, info->x509)) {
			crypto_problem(EX_SOFTWARE, f.real, "cannot add a "
			    "trust anchor");
			goto out;
		}
		n++;
	}
	if (infos == NULL && !may_be_absent) {
		crypto_problem(EX_DATAERR, f.real, "cannot load trust "
		    "anchors (is it a PEM file of CA certificates?)");
		goto out;
	}
	ERR_clear_error();
	rc = n;
out:
	sk_X509_INFO_pop_free(infos, X509_INFO_free);
	BIO_free(bio);
	free(buf);
	file_close(&f);
	return rc;
}

/*
 * The hashed directory, as OpenSSL's own by_dir looks it up: for a
 * subject, the files DIR/HASH.0, HASH.1, ... up to the first absent one,
 * each opened through the walk, so the system's bundle is never parsed
 * whole.  A file that cannot be trusted fails the lookup (reported).
 */
static int
anchors_by_subject(X509_LOOKUP *lu, X509_LOOKUP_TYPE type,
    const X509_NAME *name, X509_OBJECT *ret)
{
	struct anchors	*a = X509_LOOKUP_get_method_data(lu);
	X509_STORE	*store = X509_LOOKUP_get_store(lu);
	X509_OBJECT	*found;
	char		 path[PATH_MAX];
	unsigned long	 hash;
	int		 i, n;

	if (type != X509_LU_X509 || a == NULL || a->failed)
		return 0;
	hash = X509_NAME_hash_ex(name, NULL, NULL, NULL);
	for (i = 0; ; i++) {
		if (snprintf(path, sizeof(path), "%s/%08lx.%d", a->dir, hash,
		    i) >= (int)sizeof(path)) {
			problem(EX_USAGE, a->dir, "path too long" FIX "%s",
			    a->what);
			a->failed = 1;
			return 0;
		}
		if ((n = anchor_add(store, path, a->what, 1)) == -1) {
			a->failed = 1;
			return 0;	/* logged */
		}
		if (n == 0)
			break;
	}
	if ((found = X509_OBJECT_retrieve_by_subject(
	    X509_STORE_get0_objects(store), type, name)) == NULL)
		return 0;
	/* ret borrows the store's reference; the caller takes its own. */
	if (!X509_OBJECT_set1_X509(ret, X509_OBJECT_get0_X509(found)))
		return 0;
	X509_free(X509_OBJECT_get0_X509(found));
	return 1;
}

/* Look up anchors lazily in a; meth is freed by the caller. */
static int
anchors_dir(X509_STORE *store, X509_LOOKUP_METHOD **meth, struct anchors *a)
{
	X509_LOOKUP	*lu;

	if ((*meth = X509_LOOKUP_meth_new("postfix-tls-setup dir")) == NULL ||
	    !X509_LOOKUP_meth_set_get_by_subject(*meth, anchors_by_subject) ||
	    (lu = X509_STORE_add_lookup(store, *meth)) == NULL ||
	    !X509_LOOKUP_set_method_data(lu, a)) {
		crypto_problem(EX_SOFTWARE, a->dir, "cannot set up the trust "
		    "anchor directory");
		return -1;
	}
	return 0;
}

static int
load_anchors(X509_STORE *store, X509_LOOKUP_METHOD **meth, struct anchors *a,
    const char *cafile, const char *capath)
{
	const char	*dir = X509_get_default_cert_dir();
	const char	*file = X509_get_default_cert_file();
	struct stat	 st;
	int		 n;

	if (cafile != NULL) {
		if ((n = anchor_add(store, cafile, "POSTFIX_TLS_CAFILE", 0)) ==
		    -1)
			return -1;	/* logged */
		if (n == 0) {
			problem(EX_DATAERR, cafile, "holds no certificate"
			    FIX "POSTFIX_TLS_CAFILE must name a PEM file of CA "
			    "certificates");
			return -1;
		}
	}
	if (capath != NULL) {
		a->dir = capath;
		a->what = "POSTFIX_TLS_CAPATH";
		return anchors_dir(store, meth, a);
	}
	if (cafile != NULL)
		return 0;
	/* The system store: the hashed directory, or else the bundle. */
	if (stat(dir, &st) == 0 && S_ISDIR(st.st_mode)) {
		a->dir = dir;
		a->what = "the system's trust store";
		return anchors_dir(store, meth, a);
	}
	if ((n = anchor_add(store, file, "the system's trust store", 1)) == -1)
		return -1;	/* logged */
	if (n == 0) {
		problem(EX_NOINPUT, file, "cannot load the system's trust "
		    "anchors" FIX "install app-misc/ca-certificates or set "
		    "POSTFIX_TLS_CAFILE");
		return -1;
	}
	return 0;
}

/* Verification errors that check_strength names better, when it does. */
static int
is_weak_error(int err)
{
	return err == X509_V_ERR_EE_KEY_TOO_SMALL ||
	    err == X509_V_ERR_CA_KEY_TOO_SMALL ||
	    err == X509_V_ERR_CA_MD_TOO_WEAK;
}

static int
run_verify(X509_STORE *store, const struct chain *c, const char *leafsrc,
    const struct anchors *a, int weak_said, int purpose)
{
	X509_STORE_CTX	*ctx = NULL;
	STACK_OF(X509)	*untrusted = NULL;
	X509		*x;
	char		 subject[256], issuer[256];
	size_t		 i;
	int		 err, rc = -1;

	if ((ctx = X509_STORE_CTX_new()) == NULL ||
	    (untrusted = sk_X509_new_null()) == NULL)
		goto oom;
	for (i = 1; i < c->n; i++)
		if (!sk_X509_push(untrusted, c->x509[i]))
			goto oom;
	/* A root left out of the bundle still tells why trust fails. */
	if (c->root != NULL && !sk_X509_push(untrusted, c->root))
		goto oom;
	if (!X509_STORE_CTX_init(ctx, store, c->x509[0], untrusted) ||
	    !X509_STORE_CTX_set_purpose(ctx, purpose))
		goto oom;
	/*
	 * Security level 2, as a default client: no key under 112 bits of
	 * security, no SHA-1, anywhere on the path, the trust anchor too
	 * (openssl verify -auth_level 2).
	 */
	X509_VERIFY_PARAM_set_auth_level(X509_STORE_CTX_get0_param(ctx),
	    AUTH_LEVEL);
	if (X509_verify_cert(ctx) == 1) {
		rc = 0;
		goto out;
	}
	if (a->failed)
		goto out;	/* an anchor was refused: that is the problem */
	err = X509_STORE_CTX_get_error(ctx);
	if (weak_said && is_weak_error(err))
		goto out;	/* check_strength said which, with its fix */
	subject[0] = issuer[0] = '\0';
	if ((x = X509_STORE_CTX_get_current_cert(ctx)) != NULL) {
		subject_of(x, subject, sizeof(subject));
		if (err == X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY ||
		    err == X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT)
			X509_NAME_oneline(X509_get_issuer_name(x), issuer,
			    sizeof(issuer));
	}
	if (purpose == X509_PURPOSE_SSL_SERVER)
		problem(EX_DATAERR, leafsrc, "certificate chain does not verify "
		    "as a TLS server: %s at depth %d, %s%s%s" FIX "%s",
		    X509_verify_cert_error_string(err),
		    X509_STORE_CTX_get_error_depth(ctx), subject,
		    *issuer ? ", whose issuer is " : "", issuer, verify_fix(err));
	else
		warning(leafsrc, "certificate chain does not verify as a TLS "
		    "client: %s at depth %d, %s%s%s; a relay that checks client "
		    "certificates against the public CAs refuses it" FIX "%s",
		    X509_verify_cert_error_string(err),
		    X509_STORE_CTX_get_error_depth(ctx), subject,
		    *issuer ? ", whose issuer is " : "", issuer,
		    missing_issuer(err) ? "put the intermediate CA "
		    "certificates after the leaf in that file, or use a "
		    "certificate from a CA the relay trusts" : verify_fix(err));
	goto out;
oom:
	crypto_problem(EX_SOFTWARE, leafsrc, "cannot set up verification");
out:
	ERR_clear_error();
	sk_X509_free(untrusted);
	X509_STORE_CTX_free(ctx);
	return rc;
}

/*
 * The leaf key types a default OpenSSL client (security level 2) makes a
 * handshake with, measured with s_server/s_client (tests/world/key-formats.bats): RSA
 * and RSA-PSS (of MIN_BITS and more, checked apart), EC on the curves it
 * offers, Ed25519, Ed448.  DSA, other curves (secp224r1, brainpool,
 * secp256k1, ...) and anything unknown fail every handshake.  NULL when
 * usable, else what the key is, in buf.
 */
static const char *
unusable_leaf_key(EVP_PKEY *pk, char *buf, size_t size)
{
	static const char *const curves[] = { "prime256v1", "secp384r1",
	    "secp521r1" };
	char	group[64];
	size_t	i;

	if (pk == NULL)
		return "an unreadable key";
	switch (EVP_PKEY_get_base_id(pk)) {
	case EVP_PKEY_RSA:
	case EVP_PKEY_RSA_PSS:
	case EVP_PKEY_ED25519:
	case EVP_PKEY_ED448:
		return NULL;
	case EVP_PKEY_EC:
		if (!EVP_PKEY_get_group_name(pk, group, sizeof(group), NULL)) {
			ERR_clear_error();
			return "an EC key with explicit curve parameters";
		}
		for (i = 0; i < sizeof(curves) / sizeof(curves[0]); i++)
			if (!strcmp(group, curves[i]))
				return NULL;
		snprintf(buf, size, "an EC key on curve %s", group);
		return buf;
	default:
		snprintf(buf, size, "a %s key", EVP_PKEY_get0_type_name(pk) ?
		    EVP_PKEY_get0_type_name(pk) : "unknown");
		return buf;
	}
}

/* A weakness: a problem in what is served, a warning in a client's. */
static void __attribute__((format(printf, 3, 4)))
weak(int refuse, const char *src, const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	if (refuse)
		vproblem(EX_DATAERR, src, fmt, ap);
	else
		vwarning(src, fmt, ap);
	va_end(ap);
}

/* Keys and signatures a peer at OpenSSL security level 2 refuses. */
static int
check_strength(const struct chain *c, const char *leafsrc, int refuse)
{
	char		 subject[256], kind[96];
	const char	*what;
	size_t		 i;
	int		 id, bits, mdnid, rc = 0;

	for (i = 0; i < c->n; i++) {
		EVP_PKEY	*pk = X509_get0_pubkey(c->x509[i]);

		subject_of(c->x509[i], subject, sizeof(subject));
		id = pk ? EVP_PKEY_get_base_id(pk) : NID_undef;
		bits = pk ? EVP_PKEY_get_bits(pk) : 0;
		if (i == 0 && (what = unusable_leaf_key(pk, kind,
		    sizeof(kind))) != NULL) {
			weak(refuse, leafsrc, "%s has %s, which "
			    "default TLS clients (OpenSSL security level 2) do "
			    "not accept: every handshake fails" FIX "reissue it "
			    "with a P-256 or RSA-2048 key", subject, what);
			rc = -1;
		}
		if ((id == EVP_PKEY_RSA || id == EVP_PKEY_RSA_PSS ||
		    id == EVP_PKEY_DSA) && bits < MIN_BITS) {
			weak(refuse, leafsrc, "%s has a %d-bit %s key; "
			    "verifying peers refuse keys under %d bits"
			    FIX "reissue it with a key of at least %d bits",
			    subject, bits, id == EVP_PKEY_DSA ? "DSA" : "RSA",
			    MIN_BITS, MIN_BITS);
			rc = -1;
		}
		if (X509_self_signed(c->x509[i], 0) == 1)
			continue;	/* its own signature is never checked */
		if (X509_get_signature_info(c->x509[i], &mdnid, NULL, NULL,
		    NULL) && (mdnid == NID_sha1 || mdnid == NID_md5)) {
			weak(refuse, leafsrc, "%s is signed with %s; "
			    "verifying peers refuse such signatures" FIX "reissue "
			    "it signed with SHA-256", subject,
			    OBJ_nid2sn(mdnid));
			rc = -1;
		}
	}
	return rc;
}

/*
 * The trust store, set up once per run and shared by every identity
 * checked (ten thousand SNI domains need one store, not ten thousand):
 * its anchors are looked up lazily, and a refused anchor is said once.
 */
static struct {
	X509_STORE		*store;
	X509_LOOKUP_METHOD	*meth;
	struct anchors		 a;
	int			 tried, ok, said;
} trust;

static X509_STORE *
trust_store(const char *cafile, const char *capath, const char *leafsrc)
{
	if (!trust.tried) {
		trust.tried = 1;
		if ((trust.store = X509_STORE_new()) == NULL)
			crypto_problem(EX_SOFTWARE, leafsrc, "cannot set up "
			    "verification");
		else
			trust.ok = load_anchors(trust.store, &trust.meth,
			    &trust.a, cafile, capath) == 0;
	}
	return trust.ok ? trust.store : NULL;
}

/* Does the leaf cover HOST ("." first: any name under it)? */
int
verify_names(X509 *x, const char *host)
{
	GENERAL_NAMES	*names;
	const char	*dns;
	size_t		 hlen = strlen(host), len;
	int		 i, hit = 0;

	if (*host != '.')
		return X509_check_host(x, host, 0, 0, NULL) == 1;
	names = X509_get_ext_d2i(x, NID_subject_alt_name, NULL, NULL);
	for (i = 0; !hit && i < sk_GENERAL_NAME_num(names); i++) {
		GENERAL_NAME	*g = sk_GENERAL_NAME_value(names, i);

		if (g->type != GEN_DNS)
			continue;
		dns = (const char *)ASN1_STRING_get0_data(g->d.dNSName);
		len = ASN1_STRING_length(g->d.dNSName);
		hit = len > hlen && !strncasecmp(dns + len - hlen, host, hlen);
	}
	GENERAL_NAMES_free(names);
	return hit;
}

/* The run's trust store, for the post-start handshakes (probe.c). */
X509_STORE *
verify_store(const struct trust *t)
{
	return trust_store(t->cafile, t->capath, t->cafile != NULL ?
	    t->cafile : t->capath);
}

void
verify_done(void)
{
	X509_STORE_free(trust.store);
	X509_LOOKUP_meth_free(trust.meth);
	memset(&trust, 0, sizeof(trust));
}

/*
 * OCSP Must-Staple (the TLS Feature extension asking for status_request):
 * Postfix never staples an OCSP response, and a client that honours the
 * extension refuses the server without one.
 */
static int
must_staple(X509 *leaf, const char *leafsrc)
{
	STACK_OF(ASN1_INTEGER)	*features;
	char			 subject[256];
	int			 i, yes = 0;

	features = X509_get_ext_d2i(leaf, NID_tlsfeature, NULL, NULL);
	for (i = 0; i < sk_ASN1_INTEGER_num(features); i++)
		if (ASN1_INTEGER_get(sk_ASN1_INTEGER_value(features, i)) ==
		    TLSEXT_TYPE_status_request)
			yes = 1;
	sk_ASN1_INTEGER_pop_free(features, ASN1_INTEGER_free);
	ERR_clear_error();
	if (!yes)
		return 0;
	subject_of(leaf, subject, sizeof(subject));
	problem(EX_DATAERR, leafsrc, "%s demands OCSP stapling (the TLS Feature "
	    "status_request, \"must-staple\"), which Postfix never does, so "
	    "clients that honour it refuse every handshake" FIX "reissue it "
	    "without must-staple, e.g. certbot without --must-staple",
	    subject);
	return -1;
}

int
verify_chain(const struct chain *c, const struct trust *t,
    const char *leafsrc)
{
	X509_STORE	*store;
	char		 subject[256];
	int		 rc = -1, weak;

	/* First what is weak in the bundle: named with its fix, once. */
	weak = check_strength(c, leafsrc, 1) == -1;
	if ((store = trust_store(t->cafile, t->capath, leafsrc)) != NULL) {
		rc = run_verify(store, c, leafsrc, &trust.a, weak,
		    X509_PURPOSE_SSL_SERVER);
		if (trust.a.failed)	/* an anchor was refused: logged */
			rc = -1;
	} else if (!trust.said) {	/* never silently */
		problem(EX_SOFTWARE, leafsrc, "no trust anchors to verify "
		    "against");
		trust.said = 1;
	}
	if (X509_check_ca(c->x509[0]) != 0) {
		subject_of(c->x509[0], subject, sizeof(subject));
		problem(EX_DATAERR, leafsrc, "the first certificate, %s, is a "
		    "CA certificate, not a server certificate" FIX "put the "
		    "server's own certificate first", subject);
		rc = -1;
	}
	if (must_staple(c->x509[0], leafsrc) == -1)
		rc = -1;	/* logged */
	if (weak)
		rc = -1;	/* logged */
	return rc;
}

/*
 * A client certificate (smtp_tls_cert_file, ...) is sent to relays that
 * ask for one; whether they trust its CA only they know.  What a
 * verifying relay at security level 2 would refuse is a warning.
 */
void
verify_client(const struct chain *c, const struct trust *t,
    const char *leafsrc, const char *param)
{
	X509_STORE	*store;
	uint32_t	 xku;
	int		 weak_said;

	weak_said = check_strength(c, leafsrc, 0) == -1;
	if ((X509_get_extension_flags(c->x509[0]) & EXFLAG_XKUSAGE) != 0) {
		xku = X509_get_extended_key_usage(c->x509[0]);
		if ((xku & XKU_SSL_CLIENT) == 0) {
			warning(leafsrc, "the certificate's extendedKeyUsage "
			    "lacks clientAuth, so a relay that requires client "
			    "certificates refuses it (%s); Let's Encrypt stopped "
			    "including clientAuth in 2026" FIX "use a "
			    "certificate issued for client authentication for "
			    "%s", param, param);
			return;
		}
	}
	if ((store = trust_store(t->cafile, t->capath, leafsrc)) != NULL)
		run_verify(store, c, leafsrc, &trust.a, weak_said,
		    X509_PURPOSE_SSL_CLIENT);
}

/*
 * RSA: sign with the secret part, verify with the public one, as a
 * handshake does.  OpenSSL's pairwise check of an RSA key also tests its
 * primes (about 70 ms for RSA-2048 here); this round trip catches the
 * same damage for about 1 ms.  1 when it fits, 0 when not, -2 when this
 * key cannot be tried this way.
 */
static int
rsa_round_trip(EVP_PKEY *pkey)
{
	static const unsigned char	 msg[] = "postfix-tls-setup";
	unsigned char			 sig[1024];
	size_t				 len = sizeof(sig);
	EVP_MD_CTX			*ctx;
	int				 r = -2;

	if (EVP_PKEY_get_size(pkey) > (int)sizeof(sig) ||
	    (ctx = EVP_MD_CTX_new()) == NULL)
		return -2;
	if (EVP_DigestSignInit(ctx, NULL, EVP_sha256(), NULL, pkey) == 1) {
		r = EVP_DigestSign(ctx, sig, &len, msg, sizeof(msg)) == 1 &&
		    EVP_DigestVerifyInit(ctx, NULL, EVP_sha256(), NULL,
		    pkey) == 1 && EVP_DigestVerify(ctx, sig, len, msg,
		    sizeof(msg)) == 1;
	}
	EVP_MD_CTX_free(ctx);
	return r;
}

/*
 * X509_check_private_key compares the public halves only: a key whose
 * secret part was damaged still "matches", and smtpd then fails every
 * handshake.  A pairwise check (sign or derive with the secret part,
 * check with the public one) tells; a type without one passes.
 */
static int
halves_fit(EVP_PKEY *pkey)
{
	EVP_PKEY_CTX	*ctx;
	int		 r = -2;

	if (EVP_PKEY_get_base_id(pkey) == EVP_PKEY_RSA)
		r = rsa_round_trip(pkey);
	if (r == -2 && (ctx = EVP_PKEY_CTX_new_from_pkey(NULL, pkey, NULL)) !=
	    NULL) {
		r = EVP_PKEY_pairwise_check(ctx);
		EVP_PKEY_CTX_free(ctx);
	}
	ERR_clear_error();
	return r == 1 || r == -2;	/* -2: not supported for this type */
}

int
verify_key(const struct chain *c, const struct key *key, const char *keypath,
    const char *leafsrc)
{
	if (key->encrypted) {
		problem(EX_DATAERR, keypath, "private key is protected by a "
		    "passphrase; Postfix cannot use it" FIX "remove it: openssl "
		    "pkey -in %s -out %s", keypath, keypath);
		return -1;
	}
	if (key->count == 0) {
		problem(EX_DATAERR, keypath, "no private key found" FIX "expected "
		    "a PEM \"PRIVATE KEY\" block");
		return -1;
	}
	if (key->pkey == NULL) {
		problem(EX_DATAERR, keypath, "the private key cannot be "
		    "parsed" FIX "damaged file?");
		return -1;
	}
	if (key->count > 1)
		warning(keypath, "holds %d private keys; only the first is "
		    "used", key->count);
	if (X509_check_private_key(c->x509[0], key->pkey) != 1) {
		ERR_clear_error();
		problem(EX_DATAERR, keypath, "private key does not match "
		    "public key in certificate %s" FIX "use the key the "
		    "certificate was issued for", leafsrc);
		return -1;
	}
	if (!halves_fit(key->pkey)) {
		problem(EX_DATAERR, keypath, "the private key's secret part "
		    "does not fit its public part, so every handshake would "
		    "fail" FIX "the file is damaged: restore it from its source, "
		    "or issue a certificate for a new key");
		return -1;
	}
	return 0;
}

/* The leaf does not name HOST, the name peers ask for: a warning. */
void
verify_host(const struct chain *c, const char *leafsrc, const char *host,
    const char *host_what)
{
	if (host != NULL && *host != '\0' && !verify_names(c->x509[0], host))
		warning(leafsrc, "%s %s is not among the certificate's names; "
		    "peers that check the name will refuse it" FIX "add it to the "
		    "certificate%s", host_what, host, strcmp(host_what,
		    "myhostname") ? "" : ", or set myhostname");
}

/*
 * Warnings about a chain that works today: it expires soon, or does not
 * name HOST, the name peers ask for (myhostname, or an SNI domain; a
 * ".example.org" SNI key stands for every name under example.org, so
 * then any DNS name under it will do).
 */
static struct fraction	fractions[2] = { { 1, 3 }, { 1, 6 } };

void
verify_fractions(const int warn[2], const int crit[2])
{
	fractions[0].num = warn[0];
	fractions[0].den = warn[1];
	fractions[1].num = crit[0];
	fractions[1].den = crit[1];
}

struct fraction
verify_fraction(int crit)
{
	return fractions[crit != 0];
}

int
verify_lifetime(X509 *x, long long *lifetime, long long *left)
{
	int	days, secs;

	*lifetime = *left = 0;
	if (ASN1_TIME_diff(&days, &secs, X509_get0_notBefore(x),
	    X509_get0_notAfter(x)) != 1)
		return -1;
	*lifetime = (long long)days * 86400 + secs;
	if (ASN1_TIME_diff(&days, &secs, NULL, X509_get0_notAfter(x)) != 1) {
		*lifetime = 0;
		return -1;
	}
	*left = (long long)days * 86400 + secs;
	return 0;
}

/*
 * The fraction's moment, in seconds left, rounded up: LEFT is below
 * NUM/DEN of LIFETIME exactly when LEFT * DEN < LIFETIME * NUM, that is
 * when LEFT < ceil(LIFETIME * NUM / DEN) (both whole numbers).
 */
static long long
fraction_at(long long lifetime, struct fraction f)
{
	return (lifetime * f.num + f.den - 1) / f.den;
}

/* Is there a fraction to apply? 1/1 (or no lifetime) leaves the days. */
static int
by_fraction(long long lifetime, struct fraction f)
{
	return lifetime > 0 && f.num < f.den;
}

long long
verify_due_at(long long lifetime, int days, int crit)
{
	long long	by_days = (long long)days * 86400, at;

	if (!by_fraction(lifetime, fractions[crit != 0]))
		return by_days;
	at = fraction_at(lifetime, fractions[crit != 0]);
	return at < by_days ? at : by_days;
}

int
verify_due(long long lifetime, long long left, int days, int crit)
{
	return left < verify_due_at(lifetime, days, crit);
}

int
verify_by_fraction(long long lifetime, int days, int crit)
{
	return by_fraction(lifetime, fractions[crit != 0]) &&
	    fraction_at(lifetime, fractions[crit != 0]) < (long long)days *
	    86400;
}

/* "6-day", "12-hour": a lifetime as the messages say it. */
static void
lifetime_text(long long lifetime, char *buf, size_t size)
{
	if (lifetime >= 86400)
		snprintf(buf, size, "%lld-day", lifetime / 86400);
	else
		snprintf(buf, size, "%lld-hour", lifetime / 3600);
}

/*
 * The expiry warning: fewer than WARN_DAYS whole days and less than the
 * warning fraction of the lifetime left; the message names the setting
 * that set the moment.
 */
static void
warn_expiry(X509 *leaf, const char *leafsrc, int warn_days)
{
	struct fraction	 f = fractions[0];
	long long	 lifetime, left;
	char		 date[64], life[32];
	int		 days;

	if (verify_lifetime(leaf, &lifetime, &left) == -1 || left <= 0 ||
	    !verify_due(lifetime, left, warn_days, 0))
		return;
	days = (int)(left / 86400);
	date_of(X509_get0_notAfter(leaf), date, sizeof(date));
	if (!verify_by_fraction(lifetime, warn_days, 0)) {
		warning(leafsrc, "certificate expires in %d day%s, on %s"
		    FIX "renew it soon; POSTFIX_TLS_WARN_DAYS=%d", days,
		    days == 1 ? "" : "s", date, warn_days);
		return;
	}
	lifetime_text(lifetime, life, sizeof(life));
	warning(leafsrc, "certificate expires in %d day%s, on %s, with less "
	    "than %d/%d of its %s lifetime left" FIX "renew it soon; "
	    "POSTFIX_TLS_WARN_LIFETIME=%d/%d", days, days == 1 ? "" : "s",
	    date, f.num, f.den, life, f.num, f.den);
}

void
verify_warn(const struct chain *c, const char *leafsrc, const char *host,
    const char *host_what, int warn_days)
{
	char	 subject[256];

	warn_expiry(c->x509[0], leafsrc, warn_days);
	verify_host(c, leafsrc, host, host_what);
	if (c->root != NULL) {
		subject_of(c->root, subject, sizeof(subject));
		warning(c->root_src, "the root CA %s was given and left out "
		    "of the bundle, as peers must have it already" FIX "set "
		    "POSTFIX_TLS_INCLUDE_ROOT=yes to send it anyway", subject);
	}
}
