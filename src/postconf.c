/*
 * Ask Postfix itself which TLS settings it will use: one call of
 * "postconf -c DIR -x -h NAME...", so that $name references, defaults and
 * legacy parameters resolve exactly as in Postfix.
 */
#include <sys/mman.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
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

static pid_t
spawn(const char *confdir, int outfd, int errfd)
{
	const char	*argv[5 + PF_NPARAMS];
	pid_t		 pid;
	int		 i, n = 0;

	argv[n++] = POSTCONF_PATH;
	argv[n++] = "-c";
	argv[n++] = confdir;
	argv[n++] = "-xh";
	for (i = 0; i < PF_NPARAMS; i++)
		argv[n++] = pf_names[i];
	argv[n] = NULL;

	if ((pid = fork()) != 0)
		return pid;
	if (dup2(outfd, STDOUT_FILENO) == -1 ||
	    dup2(errfd, STDERR_FILENO) == -1)
		_exit(127);
	execv(POSTCONF_PATH, (char *const *)argv);
	dprintf(errfd, "cannot run %s: %s", POSTCONF_PATH, strerror(errno));
	_exit(127);
}

static int
read_all(int fd, char **out, size_t *outlen)
{
	char	*buf = NULL, *nbuf;
	size_t	 len = 0, cap = 0;
	ssize_t	 r;

	for (;;) {
		if (len + 1 >= cap) {
			if (cap >= MAX_OUTPUT) {
				free(buf);
				errno = EFBIG;
				return -1;
			}
			cap = cap ? cap * 2 : 4096;
			if ((nbuf = realloc(buf, cap)) == NULL) {
				free(buf);
				return -1;
			}
			buf = nbuf;
		}
		r = read(fd, buf + len, cap - len - 1);
		if (r == -1 && errno == EINTR)
			continue;
		if (r == -1) {
			free(buf);
			return -1;
		}
		if (r == 0)
			break;
		len += r;
	}
	buf[len] = '\0';
	*out = buf;
	*outlen = len;
	return 0;
}

/* Postconf's own complaint, first line only, for our one-line message. */
static void
postconf_failed(int errfd, const char *confdir, const char *why)
{
	char	msg[512] = "";
	ssize_t	r;

	if (lseek(errfd, 0, SEEK_SET) == 0 &&
	    (r = pread(errfd, msg, sizeof(msg) - 1, 0)) > 0) {
		msg[r] = '\0';
		msg[strcspn(msg, "\n")] = '\0';
	}
	problem(EX_CONFIG, confdir, "cannot read Postfix's settings: %s%s%s "
	    "(check that Postfix is installed and %s/main.cf exists: "
	    "postconf -c %s -n)", why, *msg ? ": " : "", msg, confdir,
	    confdir);
}

static int
split_lines(char *text, struct postfix *pf)
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

int
postconf_query(const char *confdir, struct postfix *pf)
{
	char	*text = NULL;
	size_t	 len;
	int	 pipefd[2] = { -1, -1 }, errfd = -1, status, rc = -1;
	pid_t	 pid;

	memset(pf, 0, sizeof(*pf));
	pf->dir = confdir;
	if ((errfd = memfd_create("postconf-stderr", MFD_CLOEXEC)) == -1 ||
	    pipe2(pipefd, O_CLOEXEC) == -1) {
		problem(EX_OSERR, NULL, "cannot create a pipe: %s",
		    strerror(errno));
		goto out;
	}
	if ((pid = spawn(confdir, pipefd[1], errfd)) == -1) {
		problem(EX_OSERR, NULL, "cannot fork: %s", strerror(errno));
		goto out;
	}
	close(pipefd[1]);
	pipefd[1] = -1;
	if (read_all(pipefd[0], &text, &len) == -1) {
		problem(EX_IOERR, NULL, "reading postconf's output: %s",
		    strerror(errno));
		waitpid(pid, &status, 0);
		goto out;
	}
	while (waitpid(pid, &status, 0) == -1 && errno == EINTR)
		continue;
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		postconf_failed(errfd, confdir, WIFEXITED(status) &&
		    WEXITSTATUS(status) == 127 ? "postconf could not be run" :
		    "postconf failed");
		goto out;
	}
	if (split_lines(text, pf) == -1) {
		postconf_failed(errfd, confdir, "postconf printed fewer "
		    "values than asked (Postfix older than 3.4?)");
		goto out;
	}
	rc = 0;
out:
	free(text);
	if (pipefd[0] != -1)
		close(pipefd[0]);
	if (pipefd[1] != -1)
		close(pipefd[1]);
	if (errfd != -1)
		close(errfd);
	return rc;
}

void
postconf_free(struct postfix *pf)
{
	int	i;

	for (i = 0; i < PF_NPARAMS; i++)
		free(pf->v[i]);
}
