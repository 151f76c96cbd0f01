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

#include "extern.h"

#define MAX_OUTPUT	(1024 * 1024)

const char *const pf_names[PF_NPARAMS] = {
	[PF_LEVEL] = "smtpd_tls_security_level",
	[PF_USE_TLS] = "smtpd_use_tls",
	[PF_ENFORCE_TLS] = "smtpd_enforce_tls",
	[PF_CERT] = "smtpd_tls_cert_file",
	[PF_KEY] = "smtpd_tls_key_file",
	[PF_ECCERT] = "smtpd_tls_eccert_file",
	[PF_ECKEY] = "smtpd_tls_eckey_file",
	[PF_DCERT] = "smtpd_tls_dcert_file",
	[PF_DKEY] = "smtpd_tls_dkey_file",
	[PF_CHAIN_FILES] = "smtpd_tls_chain_files",
	[PF_AUTH_ONLY] = "smtpd_tls_auth_only",
	[PF_SASL] = "smtpd_sasl_auth_enable",
	[PF_MYHOSTNAME] = "myhostname",
	[PF_SNI_MAPS] = "tls_server_sni_maps",
	[PF_WRAPPER] = "smtpd_tls_wrappermode",
	[PF_INET_INTERFACES] = "inet_interfaces",
	[PF_INET_PROTOCOLS] = "inet_protocols",
};

/*
 * posix_spawn: no copy of our address space, and a failed exec comes
 * back as its errno.  Both outputs go to memory files, so postconf never
 * waits for us while we do our own work.  The three questions run side
 * by side: main.cf's values (-xh), master.cf's services (-F, for which
 * run smtpd) and their -o overrides (-Px, $name expanded as Postfix
 * does).
 */
static int
spawn(struct postfix *pf, enum pf_ask ask)
{
	const char			*argv[5 + PF_NPARAMS];
	posix_spawn_file_actions_t	 fa;
	pid_t				 pid;
	int				 i, n = 0, rc;

	argv[n++] = POSTCONF_PATH;
	argv[n++] = "-c";
	argv[n++] = pf->dir;
	if (ask == ASK_VALUES) {
		argv[n++] = "-xh";
		for (i = 0; i < PF_NPARAMS; i++)
			argv[n++] = pf_names[i];
	} else if (ask == ASK_SERVICES) {
		argv[n++] = "-F";
		argv[n++] = "*/*/command";
	} else
		argv[n++] = "-Px";
	argv[n] = NULL;

	if ((rc = posix_spawn_file_actions_init(&fa)) != 0)
		return rc;
	if ((rc = posix_spawn_file_actions_adddup2(&fa, pf->outfd[ask],
	    STDOUT_FILENO)) == 0 && (rc = posix_spawn_file_actions_adddup2(&fa,
	    pf->errfd[ask], STDERR_FILENO)) == 0)
		rc = posix_spawn(&pid, POSTCONF_PATH, &fa, NULL,
		    (char *const *)argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	if (rc == 0)
		pf->pid[ask] = pid;	/* unspecified after a failure */
	return rc;
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
postconf_failed(int errfd, const char *confdir, const char *why)
{
	char	msg[512] = "";
	ssize_t	r;

	if ((r = pread(errfd, msg, sizeof(msg) - 1, 0)) > 0) {
		msg[r] = '\0';
		msg[strcspn(msg, "\n")] = '\0';
	}
	problem(EX_CONFIG, confdir, "cannot read Postfix's settings: %s%s%s "
	    "(check that Postfix is installed and %s/main.cf exists: "
	    "postconf -c %s -n)", why, *msg ? ": " : "", msg, confdir,
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
	if (lines != PF_NPARAMS)
		return -1;
	for (i = 0; i < PF_NPARAMS; i++) {
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
	for (i = 0; i < PF_NPARAMS; i++)
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
		pf->pid[i] = -1;
		pf->outfd[i] = pf->errfd[i] = -1;
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
		pf->cached = 1;
		return;
	}
	/* No master.cf, no services: postconf -F and -P would only fail. */
	pf->no_master = faccessat(AT_FDCWD, confdir, F_OK, 0) == 0 &&
	    !master_exists(confdir);
	for (i = 0; i < ASK_N && pf->spawn_errno == 0; i++) {
		if (i != ASK_VALUES && pf->no_master)
			continue;
		if ((pf->outfd[i] = memfd_create("postconf-stdout",
		    MFD_CLOEXEC)) == -1 || (pf->errfd[i] =
		    memfd_create("postconf-stderr", MFD_CLOEXEC)) == -1) {
			pf->spawn_errno = errno;
			pf->no_memfd = 1;
		}
		else
			pf->spawn_errno = spawn(pf, i);
	}
}

/* Wait for postconf; its status, or -1 when it could not be waited for. */
static int
reap(pid_t *pid)
{
	int	status;

	if (*pid == -1)
		return -1;
	while (waitpid(*pid, &status, 0) == -1)
		if (errno != EINTR) {
			*pid = -1;
			return -1;
		}
	*pid = -1;
	return status;
}

/* One question's answer, whole, in *text; -1 when reported. */
static int
answer(struct postfix *pf, enum pf_ask ask, char **text)
{
	int	status = reap(&pf->pid[ask]);

	if (status == -1 || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		postconf_failed(pf->errfd[ask], pf->dir, "postconf failed");
		return -1;
	}
	if (read_all(pf->outfd[ask], text) == -1) {
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
		return maincf_file_names(pf);
	if (pf->no_memfd) {
		problem(EX_OSERR, NULL, "cannot create a memory file for "
		    "postconf's output: %s", strerror(pf->spawn_errno));
		goto out;
	}
	if (pf->spawn_errno != 0) {
		problem(EX_CONFIG, pf->dir, "cannot read Postfix's settings: "
		    "postconf could not be run: %s: %s (check that Postfix is "
		    "installed)", POSTCONF_PATH, strerror(pf->spawn_errno));
		goto out;
	}
	if (answer(pf, ASK_VALUES, &text) == -1)
		goto out;
	if (postconf_parse(text, pf) == -1) {
		postconf_failed(pf->errfd[ASK_VALUES], pf->dir, "postconf "
		    "printed fewer values than asked (Postfix older than 3.4?)");
		goto out;
	}
	if (pf->no_master && ((pf->services = strdup("")) == NULL ||
	    (pf->overrides = strdup("")) == NULL)) {
		problem(EX_OSERR, NULL, "out of memory");
		goto out;
	}
	if (!pf->no_master && (answer(pf, ASK_SERVICES, &pf->services) == -1 ||
	    answer(pf, ASK_OVERRIDES, &pf->overrides) == -1))
		goto out;
	rc = maincf_file_names(pf);
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
		reap(&pf->pid[i]);	/* when we stopped before asking */
		if (pf->outfd[i] != -1)
			close(pf->outfd[i]);
		if (pf->errfd[i] != -1)
			close(pf->errfd[i]);
		pf->outfd[i] = pf->errfd[i] = -1;
	}
	postconf_free_values(pf);
}

void
postconf_free_values(struct postfix *pf)
{
	int	i;

	for (i = 0; i < PF_NPARAMS; i++) {
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
	posix_spawn_file_actions_t	 fa;
	const char			**argv;
	size_t				 i, n = 0;
	int				 rc;

	if ((argv = reallocarray(NULL, 5 + 2 * a->no + PF_NPARAMS,
	    sizeof(*argv))) == NULL)
		return ENOMEM;
	argv[n++] = POSTCONF_PATH;
	argv[n++] = "-c";
	argv[n++] = pf->dir;
	argv[n++] = "-xh";
	for (i = 0; i < a->no; i++) {
		argv[n++] = "-o";
		argv[n++] = a->o[i];
	}
	for (i = 0; i < PF_NPARAMS; i++)
		argv[n++] = pf_names[i];
	argv[n] = NULL;
	if ((a->outfd = memfd_create("postconf-service", MFD_CLOEXEC)) == -1 ||
	    (a->errfd = memfd_create("postconf-stderr", MFD_CLOEXEC)) == -1) {
		free(argv);
		return errno;
	}
	if ((rc = posix_spawn_file_actions_init(&fa)) == 0) {
		if ((rc = posix_spawn_file_actions_adddup2(&fa, a->outfd,
		    STDOUT_FILENO)) == 0 && (rc =
		    posix_spawn_file_actions_adddup2(&fa, a->errfd,
		    STDERR_FILENO)) == 0)
			rc = posix_spawn(&a->pid, POSTCONF_PATH, &fa, NULL,
			    (char *const *)argv, environ);
		posix_spawn_file_actions_destroy(&fa);
	}
	free(argv);
	return rc;
}

/* The cached answer for a->svc: "SVC\n" then PF_NPARAMS lines. */
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
		for (i = 0; i < PF_NPARAMS; i++) {
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
collect_service(struct postfix *pf, struct svcask *a)
{
	struct postfix	 one;
	char		*text = NULL, *all = NULL;
	int		 status, i, rc = -1;

	status = reap(&a->pid);
	if (status == -1 || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		postconf_failed(a->errfd, pf->dir, "postconf failed");
		return -1;
	}
	memset(&one, 0, sizeof(one));
	if (read_all(a->outfd, &text) == -1 || postconf_parse(text, &one) ==
	    -1) {
		postconf_failed(a->errfd, pf->dir, "postconf answered for "
		    "a master.cf service what it could not have");
		goto out;
	}
	for (i = 0; i < PF_NPARAMS; i++) {
		a->v[i] = one.v[i];
		one.v[i] = NULL;
	}
	if (asprintf(&all, "%s%s\n", pf->svcvalues ? pf->svcvalues : "",
	    a->svc) == -1)
		goto oom;
	free(pf->svcvalues);
	pf->svcvalues = all;
	for (i = 0; i < PF_NPARAMS; i++) {
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
	size_t	i;
	int	err, rc = 0;

	for (i = 0; i < n; i++) {
		a[i].pid = -1;
		a[i].outfd = a[i].errfd = -1;
		if (a[i].no == 0 || cached_service(pf, &a[i]) == 0)
			continue;	/* main.cf's values, or known */
		if ((err = spawn_service(pf, &a[i])) != 0) {
			problem(EX_CONFIG, pf->dir, "cannot read the settings "
			    "of %s: postconf could not be run: %s: %s", a[i].svc,
			    POSTCONF_PATH, strerror(err));
			rc = -1;
		}
	}
	for (i = 0; i < n; i++) {
		if (a[i].pid != -1 && collect_service(pf, &a[i]) == -1)
			rc = -1;	/* logged */
		reap(&a[i].pid);
		if (a[i].outfd != -1)
			close(a[i].outfd);
		if (a[i].errfd != -1)
			close(a[i].errfd);
	}
	return rc;
}
