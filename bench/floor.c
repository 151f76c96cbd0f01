/*
 * The floor for bench/run.sh: the least a correct check must do, with
 * nothing else — load the chain and the key, X509_verify_cert with the
 * SSL-server purpose, X509_check_private_key, and one postconf call.
 * No paths checked, no package database, no main.cf logic, no writing.
 * usage: floor CAFILE LEAF CHAIN KEY POSTCONF_DIR
 */
#include <sys/wait.h>

#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include <stdio.h>
#include <unistd.h>

static int
postconf(const char *dir)
{
	int	status;
	pid_t	pid;

	if ((pid = fork()) == 0) {
		execl("/usr/sbin/postconf", "postconf", "-c", dir, "-xh",
		    "smtpd_tls_cert_file", (char *)NULL);
		_exit(127);
	}
	return pid > 0 && waitpid(pid, &status, 0) == pid &&
	    WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : -1;
}

int
main(int argc, char *argv[])
{
	X509_STORE	*store = X509_STORE_new();
	X509_STORE_CTX	*ctx = X509_STORE_CTX_new();
	STACK_OF(X509)	*chain = sk_X509_new_null();
	X509		*leaf, *x;
	EVP_PKEY	*key;
	FILE		*f;
	int		 ok;

	if (argc != 6 || !X509_STORE_load_file(store, argv[1]))
		return 2;
	f = fopen(argv[2], "r");
	leaf = PEM_read_X509(f, NULL, NULL, NULL);
	fclose(f);
	f = fopen(argv[3], "r");
	while ((x = PEM_read_X509(f, NULL, NULL, NULL)) != NULL)
		sk_X509_push(chain, x);
	fclose(f);
	f = fopen(argv[4], "r");
	key = PEM_read_PrivateKey(f, NULL, NULL, NULL);
	fclose(f);
	X509_STORE_CTX_init(ctx, store, leaf, chain);
	X509_STORE_CTX_set_purpose(ctx, X509_PURPOSE_SSL_SERVER);
	ok = X509_verify_cert(ctx) == 1 && X509_check_private_key(leaf, key) == 1;
	if (postconf(argv[5]) == -1)
		ok = 0;
	X509_STORE_CTX_free(ctx);
	X509_STORE_free(store);
	sk_X509_pop_free(chain, X509_free);
	X509_free(leaf);
	EVP_PKEY_free(key);
	return ok ? 0 : 1;
}
