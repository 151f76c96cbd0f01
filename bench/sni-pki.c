/*
 * The SNI test PKI for bench/sni.sh, made at bench time (no key is ever
 * committed): the openssl CLI takes minutes for 10,000 keys, libcrypto
 * a few seconds.
 * usage: sni-pki DIR N
 * In DIR (which must exist): root.pem (the trust anchor), inter.pem (the
 * intermediate, for openssl verify -untrusted), main.pem (the main
 * identity, mail.example.net), d1.pem .. dN.pem (d<i>.example.net), each
 * a key then its leaf then the intermediate, as smtpd_tls_chain_files
 * and postmap -F files hold them, and sni, the postmap source naming
 * them.  Everything P-256 and SHA-256; leaves valid from a day ago for
 * 90 days, CAs for ten years.  Files are written mode 0600.  The domains
 * are shared out among one child process per online CPU.
 */
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509v3.h>

#define DAY	(24 * 60 * 60L)

static const char	*dir;
static EVP_PKEY_CTX	*keygen;	/* P-256, set up once */

static void __attribute__((noreturn))
fail(const char *what)
{
	fprintf(stderr, "sni-pki: %s failed", what);
	if (errno != 0)
		fprintf(stderr, ": %s", strerror(errno));
	fputc('\n', stderr);
	ERR_print_errors_fp(stderr);
	exit(1);
}

static EVP_PKEY *
new_key(void)
{
	EVP_PKEY	*k = NULL;

	if (EVP_PKEY_generate(keygen, &k) != 1)
		fail("P-256 key generation");
	return k;
}

static void
add_ext(X509 *x, X509V3_CTX *ctx, int nid, const char *value)
{
	X509_EXTENSION	*e;

	if ((e = X509V3_EXT_conf_nid(NULL, ctx, nid, value)) == NULL ||
	    !X509_add_ext(x, e, -1))
		fail(value);
	X509_EXTENSION_free(e);
}

/*
 * A certificate for key, named cn, issued by issuer/ikey (NULL: self
 * signed).  ca: a CA (pathlen 0 when issued by another CA); else a
 * server leaf for the DNS name cn.
 */
static X509 *
new_cert(EVP_PKEY *key, const char *cn, X509 *issuer, EVP_PKEY *ikey,
    int ca, long days)
{
	X509		*x = X509_new();
	X509_NAME	*name = X509_NAME_new();
	X509V3_CTX	 ctx;
	ASN1_INTEGER	*serial;
	BIGNUM		*bn = BN_new();
	unsigned char	 r[16];
	char		 san[300];

	if (x == NULL || name == NULL || bn == NULL)
		fail("allocation");
	/* A random positive 127-bit serial, as CAs make them. */
	if (RAND_bytes(r, sizeof(r)) != 1)
		fail("RAND_bytes");
	r[0] &= 0x7f;
	r[0] |= 0x40;
	if (BN_bin2bn(r, sizeof(r), bn) == NULL ||
	    (serial = BN_to_ASN1_INTEGER(bn, NULL)) == NULL)
		fail("serial");
	if (!X509_set_version(x, X509_VERSION_3) ||
	    !X509_set_serialNumber(x, serial) ||
	    !X509_NAME_add_entry_by_txt(name, "O", MBSTRING_ASC,
	    (const unsigned char *)"SNI bench", -1, -1, 0) ||
	    !X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
	    (const unsigned char *)cn, -1, -1, 0) ||
	    !X509_set_subject_name(x, name) ||
	    !X509_set_issuer_name(x, issuer ? X509_get_subject_name(issuer) :
	    name) ||
	    X509_gmtime_adj(X509_getm_notBefore(x), -DAY) == NULL ||
	    X509_gmtime_adj(X509_getm_notAfter(x), days * DAY) == NULL ||
	    !X509_set_pubkey(x, key))
		fail("certificate fields");
	ASN1_INTEGER_free(serial);
	BN_free(bn);
	X509_NAME_free(name);
	X509V3_set_ctx(&ctx, issuer ? issuer : x, x, NULL, NULL, 0);
	if (ca) {
		add_ext(x, &ctx, NID_basic_constraints, issuer ?
		    "critical,CA:TRUE,pathlen:0" : "critical,CA:TRUE");
		add_ext(x, &ctx, NID_key_usage, "critical,keyCertSign,cRLSign");
	} else {
		snprintf(san, sizeof(san), "DNS:%s", cn);
		add_ext(x, &ctx, NID_basic_constraints, "critical,CA:FALSE");
		add_ext(x, &ctx, NID_key_usage, "critical,digitalSignature");
		add_ext(x, &ctx, NID_ext_key_usage, "serverAuth");
		add_ext(x, &ctx, NID_subject_alt_name, san);
	}
	add_ext(x, &ctx, NID_subject_key_identifier, "hash");
	if (issuer != NULL)
		add_ext(x, &ctx, NID_authority_key_identifier, "keyid:always");
	if (!X509_sign(x, ikey ? ikey : key, EVP_sha256()))
		fail("signing");
	return x;
}

/* Write DIR/name, mode 0600, from a memory BIO, in one go. */
static void
put(const char *name, BIO *mem)
{
	char	 path[PATH_MAX], *p;
	long	 len = BIO_get_mem_data(mem, &p);
	int	 fd;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	if ((fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW |
	    O_CLOEXEC, 0600)) == -1 || fchmod(fd, 0600) == -1 ||
	    write(fd, p, len) != len || close(fd) == -1)
		fail(path);
	(void)BIO_reset(mem);
}

/* DIR/file: key (PKCS#8), then the leaf for cn, then the intermediate. */
static void
identity(BIO *mem, const char *file, const char *cn, X509 *inter,
    EVP_PKEY *ikey, const char *interpem, long interlen)
{
	EVP_PKEY	*k = new_key();
	X509		*leaf = new_cert(k, cn, inter, ikey, 0, 90);

	if (!PEM_write_bio_PrivateKey(mem, k, NULL, NULL, 0, NULL, NULL) ||
	    !PEM_write_bio_X509(mem, leaf) ||
	    BIO_write(mem, interpem, interlen) != interlen)
		fail("PEM");
	put(file, mem);
	X509_free(leaf);
	EVP_PKEY_free(k);
}

int
main(int argc, char *argv[])
{
	BIO		*mem = BIO_new(BIO_s_mem()), *inter_mem = BIO_new(BIO_s_mem());
	BIO		*sni = BIO_new(BIO_s_mem());
	EVP_PKEY	*rkey, *ikey;
	X509		*root, *inter;
	char		*interpem, *end, file[64], cn[64];
	long		 interlen, n, i, w, workers;
	pid_t		 pid;
	int		 status, ok = 1;

	if (argc != 3 || (n = strtol(argv[2], &end, 10)) < 0 || *end != '\0' ||
	    n > 1000000) {
		fprintf(stderr, "usage: sni-pki DIR N\n");
		return 64;
	}
	dir = argv[1];
	if (mem == NULL || inter_mem == NULL || sni == NULL ||
	    (keygen = EVP_PKEY_CTX_new_from_name(NULL, "EC", NULL)) == NULL ||
	    EVP_PKEY_keygen_init(keygen) != 1 ||
	    EVP_PKEY_CTX_set_group_name(keygen, "P-256") != 1)
		fail("set-up");

	rkey = new_key();
	root = new_cert(rkey, "SNI bench root", NULL, NULL, 1, 3650);
	if (!PEM_write_bio_X509(mem, root))
		fail("PEM");
	put("root.pem", mem);
	ikey = new_key();
	inter = new_cert(ikey, "SNI bench intermediate", root, rkey, 1, 3650);
	if (!PEM_write_bio_X509(inter_mem, inter))
		fail("PEM");
	interlen = BIO_get_mem_data(inter_mem, &interpem);
	if (BIO_write(mem, interpem, interlen) != interlen)
		fail("PEM");
	put("inter.pem", mem);

	identity(mem, "main.pem", "mail.example.net", inter, ikey, interpem,
	    interlen);
	/* The sni file, in order; the domains' files by the workers. */
	for (i = 1; i <= n; i++)
		if (BIO_printf(sni, "d%ld.example.net %s/d%ld.pem\n", i, dir, i) <=
		    0)
			fail("sni line");
	if ((workers = sysconf(_SC_NPROCESSORS_ONLN)) < 1)
		workers = 1;
	for (w = 0; w < workers; w++) {
		if ((pid = fork()) == -1)
			fail("fork");
		if (pid != 0)
			continue;
		/* Each child draws its own keys: no state shared with others. */
		if (RAND_poll() != 1)
			fail("RAND_poll");
		for (i = 1 + w; i <= n; i += workers) {
			snprintf(file, sizeof(file), "d%ld.pem", i);
			snprintf(cn, sizeof(cn), "d%ld.example.net", i);
			identity(mem, file, cn, inter, ikey, interpem, interlen);
		}
		_exit(0);
	}
	for (w = 0; w < workers; w++)
		if (wait(&status) == -1 || !WIFEXITED(status) ||
		    WEXITSTATUS(status) != 0)
			ok = 0;
	if (!ok) {
		errno = 0;
		fail("a worker");
	}
	put("sni", sni);

	X509_free(root);
	X509_free(inter);
	EVP_PKEY_free(rkey);
	EVP_PKEY_free(ikey);
	EVP_PKEY_CTX_free(keygen);
	BIO_free(mem);
	BIO_free(inter_mem);
	BIO_free(sni);
	return 0;
}
