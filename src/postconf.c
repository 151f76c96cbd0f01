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
};

/*
 * posix_spawn: no copy of our address space, and a failed exec comes
 * back as its errno.  Both outputs go to memory files, so postconf never
 * waits for us while we do our own work.
 */
static int
spawn(struct postfix *pf)
{
	const char			*argv[5 + PF_NPARAMS];
	posix_spawn_file_actions_t	 fa;
	pid_t				 pid;
	int				 i, n = 0, rc;

	argv[n++] = POSTCONF_PATH;
	argv[n++] = "-c";
	argv[n++] = pf->dir;
	argv[n++] = "-xh";
	for (i = 0; i < PF_NPARAMS; i++)
		argv[n++] = pf_names[i];
	argv[n] = NULL;

	if ((rc = posix_spawn_file_actions_init(&fa)) != 0)
		return rc;
	if ((rc = posix_spawn_file_actions_adddup2(&fa, pf->outfd,
	    STDOUT_FILENO)) == 0 && (rc = posix_spawn_file_actions_adddup2(&fa,
	    pf->errfd, STDERR_FILENO)) == 0)
		rc = posix_spawn(&pid, POSTCONF_PATH, &fa, NULL,
		    (char *const *)argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	if (rc == 0)
		pf->pid = pid;	/* unspecified after a failure */
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
 * Start postconf now and collect its answer later, so that it runs while
 * we read the input files (it costs more than all our own work).
 * Nothing is said here: problems wait for postconf_finish, in order.
 */
void
postconf_start(const char *confdir, const char *cache, struct postfix *pf)
{
	memset(pf, 0, sizeof(*pf));
	pf->dir = confdir;
	pf->pid = -1;
	pf->outfd = pf->errfd = -1;
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
	if ((pf->outfd = memfd_create("postconf-stdout", MFD_CLOEXEC)) == -1 ||
	    (pf->errfd = memfd_create("postconf-stderr", MFD_CLOEXEC)) == -1)
		pf->spawn_errno = errno;
	else
		pf->spawn_errno = spawn(pf);
}

/* Wait for postconf; its status, or -1 when it could not be waited for. */
static int
reap(struct postfix *pf)
{
	int	status;

	if (pf->pid == -1)
		return -1;
	while (waitpid(pf->pid, &status, 0) == -1)
		if (errno != EINTR) {
			pf->pid = -1;
			return -1;
		}
	pf->pid = -1;
	return status;
}

int
postconf_finish(struct postfix *pf)
{
	char	*text = NULL, key[65];
	int	 status, rc = -1;

	if (pf->cached)
		return maincf_file_names(pf);
	if (pf->errfd == -1) {
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
	status = reap(pf);
	if (status == -1 || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		postconf_failed(pf->errfd, pf->dir, "postconf failed");
		goto out;
	}
	if (read_all(pf->outfd, &text) == -1) {
		problem(EX_IOERR, NULL, "reading postconf's output: %s",
		    strerror(errno));
		goto out;
	}
	if (postconf_parse(text, pf) == -1) {
		postconf_failed(pf->errfd, pf->dir, "postconf printed fewer "
		    "values than asked (Postfix older than 3.4?)");
		goto out;
	}
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
	if (pf->dir == NULL)	/* never started */
		return;
	reap(pf);	/* when we stopped before asking for its answer */
	if (pf->outfd != -1)
		close(pf->outfd);
	if (pf->errfd != -1)
		close(pf->errfd);
	pf->outfd = pf->errfd = -1;
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
}
