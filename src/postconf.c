/*
 * Ask Postfix itself which TLS settings it will use: one call of
 * "postconf -c DIR -x -h NAME...", so that $name references, defaults and
 * legacy parameters resolve exactly as in Postfix.  It is started first
 * and collected later (postconf_start, postconf_finish): it costs more
 * than all of our own work, which runs meanwhile.
 */
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <unistd.h>

#include "cache.h"
#include "child.h"
#include "common.h"
#include "finding.h"
#include "postconf.h"

#define MAX_OUTPUT	(1024 * 1024)

const char *const pc_names[PC_NPARAMS] = {
	[PC_LEVEL] = "smtpd_tls_security_level",
	[PC_USE_TLS] = "smtpd_use_tls",
	[PC_ENFORCE_TLS] = "smtpd_enforce_tls",
	[PC_CERT] = "smtpd_tls_cert_file",
	[PC_KEY] = "smtpd_tls_key_file",
	[PC_ECCERT] = "smtpd_tls_eccert_file",
	[PC_ECKEY] = "smtpd_tls_eckey_file",
	[PC_DCERT] = "smtpd_tls_dcert_file",
	[PC_DKEY] = "smtpd_tls_dkey_file",
	[PC_CHAIN_FILES] = "smtpd_tls_chain_files",
	[PC_AUTH_ONLY] = "smtpd_tls_auth_only",
	[PC_SASL] = "smtpd_sasl_auth_enable",
	[PC_MYHOSTNAME] = "myhostname",
	[PC_SNI_MAPS] = "tls_server_sni_maps",
	[PC_WRAPPER] = "smtpd_tls_wrappermode",
	[PC_INET_INTERFACES] = "inet_interfaces",
	[PC_INET_PROTOCOLS] = "inet_protocols",
	[PC_KNOWN_PORTS] = "known_tcp_ports",
	[PC_PSCREEN_LEVEL] = "postscreen_tls_security_level",
	[PC_TP_CERT] = "tlsproxy_tls_cert_file",
	[PC_TP_KEY] = "tlsproxy_tls_key_file",
	[PC_TP_ECCERT] = "tlsproxy_tls_eccert_file",
	[PC_TP_ECKEY] = "tlsproxy_tls_eckey_file",
	[PC_TP_DCERT] = "tlsproxy_tls_dcert_file",
	[PC_TP_DKEY] = "tlsproxy_tls_dkey_file",
	[PC_TP_CHAIN_FILES] = "tlsproxy_tls_chain_files",
	[PC_SMTP_CERT] = "smtp_tls_cert_file",
	[PC_SMTP_KEY] = "smtp_tls_key_file",
	[PC_SMTP_ECCERT] = "smtp_tls_eccert_file",
	[PC_SMTP_ECKEY] = "smtp_tls_eckey_file",
	[PC_SMTP_DCERT] = "smtp_tls_dcert_file",
	[PC_SMTP_DKEY] = "smtp_tls_dkey_file",
	[PC_SMTP_CHAIN_FILES] = "smtp_tls_chain_files",
	[PC_LMTP_CERT] = "lmtp_tls_cert_file",
	[PC_LMTP_KEY] = "lmtp_tls_key_file",
	[PC_LMTP_ECCERT] = "lmtp_tls_eccert_file",
	[PC_LMTP_ECKEY] = "lmtp_tls_eckey_file",
	[PC_LMTP_DCERT] = "lmtp_tls_dcert_file",
	[PC_LMTP_DKEY] = "lmtp_tls_dkey_file",
	[PC_LMTP_CHAIN_FILES] = "lmtp_tls_chain_files",
	[PC_TPC_CERT] = "tlsproxy_client_cert_file",
	[PC_TPC_KEY] = "tlsproxy_client_key_file",
	[PC_TPC_ECCERT] = "tlsproxy_client_eccert_file",
	[PC_TPC_ECKEY] = "tlsproxy_client_eckey_file",
	[PC_TPC_DCERT] = "tlsproxy_client_dcert_file",
	[PC_TPC_DKEY] = "tlsproxy_client_dkey_file",
	[PC_TPC_CHAIN_FILES] = "tlsproxy_client_chain_files",
	[PC_QUEUE_DIR] = "queue_directory",
};

const struct pc_files pc_files[PCF_N] = {
	[PCF_SMTPD] = { PC_CHAIN_FILES, { PC_CERT, PC_ECCERT, PC_DCERT },
	    { PC_KEY, PC_ECKEY, PC_DKEY } },
	[PCF_TLSPROXY] = { PC_TP_CHAIN_FILES, { PC_TP_CERT, PC_TP_ECCERT,
	    PC_TP_DCERT }, { PC_TP_KEY, PC_TP_ECKEY, PC_TP_DKEY } },
	[PCF_SMTP] = { PC_SMTP_CHAIN_FILES, { PC_SMTP_CERT, PC_SMTP_ECCERT,
	    PC_SMTP_DCERT }, { PC_SMTP_KEY, PC_SMTP_ECKEY, PC_SMTP_DKEY } },
	[PCF_LMTP] = { PC_LMTP_CHAIN_FILES, { PC_LMTP_CERT, PC_LMTP_ECCERT,
	    PC_LMTP_DCERT }, { PC_LMTP_KEY, PC_LMTP_ECKEY, PC_LMTP_DKEY } },
	[PCF_TP_CLIENT] = { PC_TPC_CHAIN_FILES, { PC_TPC_CERT, PC_TPC_ECCERT,
	    PC_TPC_DCERT }, { PC_TPC_KEY, PC_TPC_ECKEY, PC_TPC_DKEY } },
};

void
pc_file_params(int pcf, enum pc_param out[PCF_NFILES])
{
	int	k;

	out[0] = pc_files[pcf].chain;
	for (k = 0; k < 3; k++) {
		out[1 + 2 * k] = pc_files[pcf].cert[k];
		out[2 + 2 * k] = pc_files[pcf].key[k];
	}
}

/*
 * The three questions run side by side (child.c: no shell, output in
 * memory files, so postconf never waits for us while we do our own
 * work): main.cf's values (-xh), master.cf's services (-F, for which
 * run smtpd) and their -o overrides (-Px, $name expanded as Postfix
 * does).
 */
static int
spawn(struct postfix *pf, enum pc_ask ask)
{
	const char	*argv[5 + PC_NPARAMS];
	int		 i, n = 0;

	argv[n++] = POSTCONF_PATH;
	argv[n++] = "-c";
	argv[n++] = pf->dir;
	if (ask == ASK_VALUES) {
		argv[n++] = "-xh";
		for (i = 0; i < PC_NPARAMS; i++)
			argv[n++] = pc_names[i];
	} else if (ask == ASK_SERVICES) {
		argv[n++] = "-F";
		argv[n++] = "*/*/command";
	} else
		argv[n++] = "-Px";
	argv[n] = NULL;
	return child_start(&pf->ask[ask], POSTCONF_PATH, (char *const *)argv,
	    NULL, 0, -1, 022);
}

/* The whole of a memory file, NUL-terminated. */
static int
read_all(int fd, char **out)
{
	struct stat	 st;
	char		*buf;
	ssize_t		 r;

	if (fstat(fd, &st) == -1)
		return -1;
	if (st.st_size > MAX_OUTPUT) {
		errno = EFBIG;
		return -1;
	}
	if ((buf = malloc(st.st_size + 1)) == NULL)
		return -1;
	if ((r = pread(fd, buf, st.st_size, 0)) != st.st_size) {
		if (r >= 0)
			errno = EIO;
		free(buf);
		return -1;
	}
	buf[r] = '\0';
	*out = buf;
	return 0;
}

/* Postconf's own complaint, first line only, for our one-line message. */
static void
postconf_failed(const struct child *c, const char *confdir, const char *why)
{
	char	msg[512];

	child_said(c, msg, sizeof(msg));
	problem(EX_CONFIG, confdir, "cannot read Postfix's settings: %s%s%s"
	    FIX "check that Postfix is installed and %s/main.cf exists: "
	    "postconf -c %s -n", why, *msg ? ": " : "", msg, confdir,
	    confdir);
}

/* postconf's output, or the cache's copy of it: one line per parameter. */
int
postconf_parse(char *text, struct postfix *pf)
{
	char	*line, *next = text;
	int	 i, lines = 0;

	for (line = text; (line = strchr(line, '\n')) != NULL; line++)
		lines++;
	if (lines != PC_NPARAMS)
		return -1;
	for (i = 0; i < PC_NPARAMS; i++) {
		line = strsep(&next, "\n");
		if ((pf->v[i] = strdup(line)) == NULL)
			return -1;
	}
	return 0;
}

/*
 * The cache's copy of all the answers (main.cf's values, the services,
 * their -o, the services' own values): each as its byte count on a line
 * of its own, then its bytes.
 */
char *
postconf_cache_text(const struct postfix *pf, size_t *len)
{
	char	*text = NULL, *values = NULL;
	size_t	 vlen = 0;
	FILE	*f;
	int	 i;

	if ((f = open_memstream(&values, &vlen)) == NULL)
		return NULL;
	for (i = 0; i < PC_NPARAMS; i++)
		fprintf(f, "%s\n", pf->v[i]);
	if (fclose(f) != 0 || (f = open_memstream(&text, len)) == NULL) {
		free(values);
		return NULL;
	}
	fprintf(f, "%zu\n%s%zu\n%s%zu\n%s%zu\n%s", vlen, values,
	    strlen(pf->services), pf->services, strlen(pf->overrides),
	    pf->overrides, pf->svcvalues ? strlen(pf->svcvalues) : 0,
	    pf->svcvalues ? pf->svcvalues : "");
	free(values);
	if (fclose(f) != 0) {
		free(text);
		return NULL;
	}
	return text;
}

/* One section of the cache's copy: *out is a copy, *p moves past it. */
static int
cache_section(char **p, char **out)
{
	const char	*errstr;
	char		*nl;
	long long	 n;

	if ((nl = strchr(*p, '\n')) == NULL)
		return -1;
	*nl = '\0';
	n = strtonum(*p, 0, MAX_OUTPUT, &errstr);
	if (errstr != NULL || strlen(nl + 1) < (size_t)n)
		return -1;
	if ((*out = strndup(nl + 1, n)) == NULL)
		return -1;
	*p = nl + 1 + n;
	return 0;
}

int
postconf_parse_cache(char *text, struct postfix *pf)
{
	char	*values = NULL;
	int	 rc = -1;

	if (cache_section(&text, &values) == 0 &&
	    postconf_parse(values, pf) == 0 &&
	    cache_section(&text, &pf->services) == 0 &&
	    cache_section(&text, &pf->overrides) == 0 &&
	    cache_section(&text, &pf->svcvalues) == 0 && *text == '\0')
		rc = 0;
	free(values);
	return rc;
}

static int
master_exists(const char *confdir)
{
	char	path[PATH_MAX];

	if ((size_t)snprintf(path, sizeof(path), "%s/master.cf", confdir) >=
	    sizeof(path))
		return 1;	/* let postconf say what is wrong */
	return access(path, F_OK) == 0 || errno != ENOENT;
}

/*
 * Start postconf now and collect its answer later, so that it runs while
 * we read the input files (it costs more than all our own work).
 * Nothing is said here: problems wait for postconf_finish, in order.
 */
void
postconf_start(const char *confdir, const char *cache, struct postfix *pf)
{
	int	i;

	memset(pf, 0, sizeof(*pf));
	pf->dir = confdir;
	for (i = 0; i < ASK_N; i++) {
		pf->ask[i].pid = -1;
		pf->ask[i].out = pf->ask[i].err = -1;
	}
	pf->cache = cache;
	if (cache != NULL && geteuid() != 0) {
		debug("postconf cache %s: used only when run as root", cache);
		pf->cache = cache = NULL;
	}
	if (cache != NULL && cache_key(confdir, pf->key) == -1) {
		debug("postconf cache: cannot digest %s's configuration",
		    confdir);
		pf->key[0] = '\0';
	}
	if (pf->key[0] != '\0' && cache_get(pf) == 0) {
		/* No master.cf, no services: as when asked (the same view). */
		pf->no_master = *pf->services == '\0';
		pf->cached = 1;
		return;
	}
	/* No master.cf, no services: postconf -F and -P would only fail. */
	pf->no_master = faccessat(AT_FDCWD, confdir, F_OK, 0) == 0 &&
	    !master_exists(confdir);
	pf->deadline = now_ms() + POSTCONF_DEADLINE_MS;
	for (i = 0; i < ASK_N && pf->spawn_errno == 0; i++)
		if (i == ASK_VALUES || !pf->no_master)
			pf->spawn_errno = spawn(pf, i);
}

/*
 * One child's answer, whole, in *text; -1 when reported.  Past its
 * deadline postconf is killed: a main.cf that never ends (a FIFO) must
 * not hold a start.
 */
static int
answer(struct child *c, const char *dir, long long deadline, char **text)
{
	int	status;

	if (child_wait(c, deadline, &status) == -1) {
		postconf_failed(c, dir, "postconf did not finish within "
		    POSTCONF_DEADLINE_TEXT);
		return -1;
	}
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		postconf_failed(c, dir, "postconf failed");
		return -1;
	}
	if (read_all(c->out, text) == -1) {
		problem(EX_IOERR, NULL, "reading postconf's output: %s",
		    strerror(errno));
		return -1;
	}
	return 0;
}

int
postconf_finish(struct postfix *pf)
{
	char	*text = NULL, key[65];
	int	 rc = -1;

	if (pf->cached)
		return 0;
	if (pf->spawn_errno < 0) {
		problem(EX_OSERR, NULL, "cannot create a memory file for "
		    "postconf's output: %s", strerror(-pf->spawn_errno));
		goto out;
	}
	if (pf->spawn_errno != 0) {
		problem(EX_CONFIG, pf->dir, "cannot read Postfix's settings: "
		    "postconf could not be run: %s: %s" FIX "check that Postfix is "
		    "installed", POSTCONF_PATH, strerror(pf->spawn_errno));
		goto out;
	}
	if (answer(&pf->ask[ASK_VALUES], pf->dir, pf->deadline, &text) == -1)
		goto out;
	if (postconf_parse(text, pf) == -1) {
		postconf_failed(&pf->ask[ASK_VALUES], pf->dir, "postconf "
		    "printed fewer values than asked (Postfix older than 3.6?)");
		goto out;
	}
	if (pf->no_master && ((pf->services = strdup("")) == NULL ||
	    (pf->overrides = strdup("")) == NULL)) {
		problem(EX_OSERR, NULL, "out of memory");
		goto out;
	}
	if (!pf->no_master && (answer(&pf->ask[ASK_SERVICES], pf->dir, pf->deadline,
	    &pf->services) == -1 ||
	    answer(&pf->ask[ASK_OVERRIDES], pf->dir,
	    pf->deadline, &pf->overrides) == -1))
		goto out;
	rc = 0;
	/* Kept only if nothing changed while postconf was reading. */
	pf->keep = pf->key[0] != '\0' && cache_key(pf->dir, key) == 0 &&
	    !strcmp(key, pf->key);
out:
	free(text);
	return rc;
}

/*
 * At the end of a run that found no problem: keep postconf's answer for
 * the next run (POSTFIX_TLS_CACHE).  A refused run writes nothing.
 */
void
postconf_keep(const struct postfix *pf)
{
	if (pf->keep && !pf->cached)
		cache_put(pf);
}

void
postconf_free(struct postfix *pf)
{
	int	i;

	if (pf->dir == NULL)	/* never started */
		return;
	for (i = 0; i < ASK_N; i++) {
		child_close(&pf->ask[i]);	/* killed if never asked */
	}
	postconf_free_values(pf);
}

void
postconf_free_values(struct postfix *pf)
{
	int	i;

	for (i = 0; i < PC_NPARAMS; i++) {
		free(pf->v[i]);
		pf->v[i] = NULL;
	}
	free(pf->services);
	free(pf->overrides);
	free(pf->svcvalues);
	pf->services = pf->overrides = pf->svcvalues = NULL;
}

/*
 * A service's own values: main.cf's parameters as smtpd sees them under
 * the service's -o settings (postconf -xh -o NAME=VALUE ... NAMES).  A
 * main.cf value that refers to a name the service sets resolves as in
 * that service: smtpd_tls_key_file's default, $smtpd_tls_cert_file, or
 * an admin's "$keydir/key.pem" under -o keydir=...  Every such service
 * is asked side by side; the answers are kept in the cache with the
 * rest, so an unchanged restart asks nothing.
 */
static int
spawn_service(struct postfix *pf, struct svcask *a)
{
	const char	**argv;
	size_t		  i, n = 0;
	int		  rc;

	argv = xreallocarray(NULL, 5 + 2 * a->no + PC_NPARAMS, sizeof(*argv));
	argv[n++] = POSTCONF_PATH;
	argv[n++] = "-c";
	argv[n++] = pf->dir;
	argv[n++] = "-xh";
	for (i = 0; i < a->no; i++) {
		argv[n++] = "-o";
		argv[n++] = a->o[i];
	}
	for (i = 0; i < PC_NPARAMS; i++)
		argv[n++] = pc_names[i];
	argv[n] = NULL;
	rc = child_start(&a->ch, POSTCONF_PATH, (char *const *)argv, NULL, 0,
	    -1, 022);
	free(argv);
	return rc;
}

/* The cached answer for a->svc: "SVC\n" then PC_NPARAMS lines. */
static int
cached_service(const struct postfix *pf, struct svcask *a)
{
	const char	*p = pf->svcvalues, *nl;
	size_t		 len = strlen(a->svc);
	int		 i;

	for (; p != NULL && *p != '\0'; p = nl + 1) {
		if ((nl = strchr(p, '\n')) == NULL)
			return -1;
		if ((size_t)(nl - p) != len || strncmp(p, a->svc, len))
			continue;
		for (i = 0; i < PC_NPARAMS; i++) {
			p = nl + 1;
			if ((nl = strchr(p, '\n')) == NULL ||
			    (a->v[i] = strndup(p, nl - p)) == NULL)
				return -1;
		}
		return 0;
	}
	return -1;
}

/* A service's answer, read and added to what the cache will keep. */
static int
collect_service(struct postfix *pf, struct svcask *a, long long deadline)
{
	struct postfix	 one;
	char		*text = NULL, *all = NULL;
	int		 i, rc = -1;

	if (answer(&a->ch, pf->dir, deadline, &text) == -1)
		return -1;	/* logged */
	memset(&one, 0, sizeof(one));
	if (postconf_parse(text, &one) == -1) {
		postconf_failed(&a->ch, pf->dir, "postconf answered for "
		    "a master.cf service what it could not have");
		goto out;
	}
	for (i = 0; i < PC_NPARAMS; i++) {
		a->v[i] = one.v[i];
		one.v[i] = NULL;
	}
	if (asprintf(&all, "%s%s\n", pf->svcvalues ? pf->svcvalues : "",
	    a->svc) == -1)
		goto oom;
	free(pf->svcvalues);
	pf->svcvalues = all;
	for (i = 0; i < PC_NPARAMS; i++) {
		if (asprintf(&all, "%s%s\n", pf->svcvalues, a->v[i]) == -1)
			goto oom;
		free(pf->svcvalues);
		pf->svcvalues = all;
	}
	rc = 0;
	goto out;
oom:
	problem(EX_OSERR, NULL, "out of memory");
out:
	postconf_free_values(&one);
	free(text);
	return rc;
}

int
postconf_services(struct postfix *pf, struct svcask *a, size_t n)
{
	long long	deadline = now_ms() + POSTCONF_DEADLINE_MS;
	size_t		i;
	int		err, rc = 0;

	for (i = 0; i < n; i++) {
		a[i].ch.pid = -1;
		a[i].ch.out = a[i].ch.err = -1;
		if (a[i].no == 0 || cached_service(pf, &a[i]) == 0)
			continue;	/* main.cf's values, or known */
		if ((err = spawn_service(pf, &a[i])) < 0) {
			problem(EX_OSERR, NULL, "cannot create a memory file for "
			    "postconf's output: %s", strerror(-err));
			rc = -1;
		} else if (err != 0) {
			problem(EX_CONFIG, pf->dir, "cannot read the settings "
			    "of %s: postconf could not be run: %s: %s", a[i].svc,
			    POSTCONF_PATH, strerror(err));
			rc = -1;
		}
	}
	for (i = 0; i < n; i++) {
		if (a[i].ch.pid != -1 && collect_service(pf, &a[i],
		    deadline) == -1)
			rc = -1;	/* logged */
		child_close(&a[i].ch);
	}
	return rc;
}
