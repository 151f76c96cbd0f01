/*
 * The floor for bench/run.sh and bench/sni.sh: the least a correct check
 * must do, with nothing else — for each identity load the chain and the
 * key, X509_verify_cert with the SSL-server purpose,
 * X509_check_private_key; and one postconf call (two with -P: main.cf's
 * values, then master.cf's -o overrides, as a check of master.cf's
 * services must ask).  No paths checked, no package database, no main.cf
 * logic, no writing.  One identity at a time: nothing is held across.
 * usage: floor [-P] [-f LIST] CAFILE LEAF CHAIN KEY [LEAF CHAIN KEY ...]
 *            POSTCONF_DIR
 * LIST names more identities, one file per line holding key, leaf and
 * chain (as smtpd_tls_chain_files and SNI files do).  A file may stand
 * for LEAF, CHAIN and KEY at once: it is read once, its first certificate
 * is the leaf.  Keys are read as Postfix reads them
 * (PEM_read_bio_PrivateKey), which in OpenSSL 3.0 costs most of the
 * time per identity: see bench/sni.sh.
 */
#include <sys/wait.h>

#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include <stdio.h>
#include <string.h>
#include <unistd.h>

static int
postconf(const char *dir, int master)
{
	int	status;
	pid_t	pid;

	if ((pid = fork()) == 0) {
		if (master)
			execl("/usr/sbin/postconf", "postconf", "-c", dir,
			    "-Px", (char *)NULL);
		else
			execl("/usr/sbin/postconf", "postconf", "-c", dir,
			    "-xh", "smtpd_tls_cert_file", (char *)NULL);
		_exit(127);
	}
	return pid > 0 && waitpid(pid, &status, 0) == pid &&
	    WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : -1;
}

/* Load leaf, chain and key; a file standing for all three is read once. */
static int
load(const char *leafpath, const char *chainpath, const char *keypath,
    X509 **leaf, STACK_OF(X509) *chain, EVP_PKEY **key)
{
	BIO	*b;
	X509	*x;
	int	 one = !strcmp(leafpath, chainpath) && !strcmp(leafpath, keypath);

	if ((b = BIO_new_file(keypath, "r")) == NULL)
		return 0;
	*key = PEM_read_bio_PrivateKey(b, NULL, NULL, NULL);
	if (!one) {
		BIO_free(b);
		if ((b = BIO_new_file(chainpath, "r")) == NULL)
			return 0;
	}
	while ((x = PEM_read_bio_X509(b, NULL, NULL, NULL)) != NULL)
		sk_X509_push(chain, x);
	BIO_free(b);
	if (one)	/* the first certificate after the key is the leaf */
		*leaf = sk_X509_shift(chain);
	else if ((b = BIO_new_file(leafpath, "r")) != NULL) {
		*leaf = PEM_read_bio_X509(b, NULL, NULL, NULL);
		BIO_free(b);
	}
	return *leaf != NULL && *key != NULL;
}

/* One identity: 1 if it checks out. */
static int
identity(X509_STORE *store, const char *leafpath, const char *chainpath,
    const char *keypath)
{
	X509_STORE_CTX	*ctx = X509_STORE_CTX_new();
	STACK_OF(X509)	*chain = sk_X509_new_null();
	X509		*leaf = NULL;
	EVP_PKEY	*key = NULL;
	int		 ok = 0;

	if (load(leafpath, chainpath, keypath, &leaf, chain, &key) &&
	    ctx != NULL && X509_STORE_CTX_init(ctx, store, leaf, chain)) {
		X509_STORE_CTX_set_purpose(ctx, X509_PURPOSE_SSL_SERVER);
		ok = X509_verify_cert(ctx) == 1 &&
		    X509_check_private_key(leaf, key) == 1;
	}
	X509_STORE_CTX_free(ctx);
	sk_X509_pop_free(chain, X509_free);
	X509_free(leaf);
	EVP_PKEY_free(key);
	return ok;
}

int
main(int argc, char *argv[])
{
	X509_STORE	*store = X509_STORE_new();
	const char	*list = NULL, *dir;
	char		 line[4096];
	FILE		*f;
	int		 c, i, ok = 1, master = 0;

	while ((c = getopt(argc, argv, "Pf:")) != -1)
		switch (c) {
		case 'P':
			master = 1;
			break;
		case 'f':
			list = optarg;
			break;
		default:
			return 2;
		}
	argc -= optind;
	argv += optind;
	if (argc < 5 || (argc - 2) % 3 != 0 ||
	    !X509_STORE_load_file(store, argv[0]))
		return 2;
	dir = argv[argc - 1];
	for (i = 1; i + 2 < argc - 1; i += 3)
		if (!identity(store, argv[i], argv[i + 1], argv[i + 2]))
			ok = 0;
	if (list != NULL) {
		if ((f = fopen(list, "r")) == NULL)
			return 2;
		while (fgets(line, sizeof(line), f) != NULL) {
			line[strcspn(line, "\n")] = '\0';
			if (*line != '\0' && !identity(store, line, line, line))
				ok = 0;
		}
		fclose(f);
	}
	if (postconf(dir, 0) == -1 || (master && postconf(dir, 1) == -1))
		ok = 0;
	X509_STORE_free(store);
	return ok ? 0 : 1;
}
