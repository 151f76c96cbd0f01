/*
 * The hand-off from an unprivileged ACME client to root (handoff.h has
 * the design, SECURITY.md the attacker model: the client's user).
 */
#include <sys/file.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <unistd.h>

#include "child.h"
#include "command.h"
#include "common.h"
#include "conf.h"
#include "finding.h"
#include "handoff.h"
#include "renew.h"
#include "secure.h"
#include "write.h"

#ifndef SPOOLDIR
#define SPOOLDIR	"/var/spool/" PROG
#endif
#define REQUEST_MAGIC	PROG " request 1\n"
#define READ_SECONDS	10	/* to hand the client's files over, all told */
#define MAX_SCAN	4096	/* spool entries looked at by one run */
#define MAX_TREE	256	/* entries of a directory left in the spool */
#define SPOOL_FIX	"install -d -m 1730 -o root -g CLIENTGROUP %s"
#define REQUEST_PREFIX	"request."

/* A request: the client's files, named as the client named them. */
struct request {
	uid_t		 uid;
	gid_t		 gid;
	char		 from[NAME_MAX + 1];	/* the request's name */
	struct setconf	 files;
	unsigned char	*buf[MAX_INPUTS + 2];	/* cert, key, chain... */
	size_t		 len[MAX_INPUTS + 2];
};

/* ROOT's spool directory. */
static void
spool_dir(const char *root, char *buf, size_t size)
{
	size_t	len = strlen(root);

	while (len > 0 && root[len - 1] == '/')
		len--;
	snprintf(buf, size, "%.*s%s", (int)len, root, SPOOLDIR);
}

/*
 * Does NAME hold a control byte?  Root prints the names a request gives:
 * a newline, an escape or a carriage return there would forge lines in
 * root's output, cron's mail and the journal.
 */
static int
has_control(const char *name)
{
	for (; *name != '\0'; name++)
		if ((unsigned char)*name < 0x20 || *name == 0x7f)
			return 1;
	return 0;
}

/*
 * The uid a spool entry's name gives ("request.UID", decimal, as
 * --request names it): 1, or 0 when the name is not one.  Each user has
 * one such name, so the requests waiting are at most the client group's
 * members.
 */
static int
request_uid(const char *name, uid_t *uid)
{
	const char	*digits = name + strlen(REQUEST_PREFIX), *p, *e;
	long long	 n;

	if (strncmp(name, REQUEST_PREFIX, strlen(REQUEST_PREFIX)) ||
	    *digits == '\0' || *digits == '0')
		return 0;
	for (p = digits; *p != '\0'; p++)
		if (*p < '0' || *p > '9')
			return 0;
	n = strtonum(digits, 1, UINT_MAX - 1, &e);
	if (e != NULL)
		return 0;
	*uid = (uid_t)n;
	return 1;
}

/* The request's text: absolute names, one a line, none with a newline. */
static char *
request_text(const struct setconf *nf)
{
	const char	*v[MAX_INPUTS + 2], *w[MAX_INPUTS + 2];
	char		 abs[MAX_INPUTS + 2][PATH_MAX], *text = NULL;
	size_t		 n = 0, i, len = 0;
	FILE		*f;

	if (nf->nchain > MAX_REQUEST_CHAIN) {
		problem(EX_USAGE, NULL, "a request names at most %d --chain "
		    "files" FIX "put the chain in one file", MAX_REQUEST_CHAIN);
		return NULL;	/* logged */
	}
	v[n] = nf->cert, w[n++] = "cert";
	v[n] = nf->key, w[n++] = "key";
	for (i = 0; i < nf->nchain; i++)
		v[n] = nf->chain[i], w[n++] = "chain";
	if ((f = open_memstream(&text, &len)) == NULL)
		oom();
	fputs(REQUEST_MAGIC, f);
	for (i = 0; i < n; i++) {
		if (has_control(v[i])) {
			problem(EX_USAGE, NULL, "a name with a control character "
			    "(a newline, an escape) cannot be handed over" FIX
			    "rename the file");
			fclose(f);
			free(text);
			return NULL;	/* logged */
		}
		fprintf(f, "%s %s\n", w[i], path_absolute(v[i], abs[i]));
	}
	if (fclose(f) != 0)
		oom();
	return text;
}

/*
 * As the client's user: TEXT as the spool's NAME, whole (a temporary
 * renamed over it).  Not write.c's writer: the client may not list the
 * spool (1730), so it cannot open it to flush it; a request lost in a
 * crash is asked again at the next renewal.  0, or -1 with errno.
 */
static int
spool_put(int dirfd, const char *name, const char *text)
{
	char	tmp[48];
	int	fd, rc = -1, saved;

	snprintf(tmp, sizeof(tmp), ".%s.%ld", name, (long)getpid());
	if ((fd = openat(dirfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW |
	    O_CLOEXEC, 0600)) == -1)
		return -1;
	if (write_all(fd, text, strlen(text)) == 0 && fsync(fd) == 0 &&
	    renameat(dirfd, tmp, dirfd, name) == 0)
		rc = 0;
	saved = errno;
	close(fd);
	if (rc == -1)
		unlinkat(dirfd, tmp, 0);
	errno = saved;
	return rc;
}

/* As the client's user: the request written into the spool. */
static int
request_put(const struct command *c)
{
	char	dir[PATH_MAX], name[32], *text;
	int	dirfd, rc = -1;

	if ((text = request_text(c->renew)) == NULL)
		return -1;	/* logged */
	spool_dir(c->root, dir, sizeof(dir));
	if ((dirfd = open(dir, O_PATH | O_DIRECTORY | O_NOFOLLOW |
	    O_CLOEXEC)) == -1) {
		problem(EX_IOERR, dir, "cannot open the spool: %s" FIX
		    SPOOL_FIX ", with the client's user in CLIENTGROUP",
		    strerror(errno), dir);
		goto out;
	}
	snprintf(name, sizeof(name), "request.%u", (unsigned)getuid());
	if (spool_put(dirfd, name, text) == -1) {
		problem(EX_IOERR, dir, "the request could not be written: "
		    "%s" FIX SPOOL_FIX ", with the client's user in "
		    "CLIENTGROUP", strerror(errno), dir);
		goto out;
	}
	note("asked for the renewal: %s/%s; root's renew --pending deploys "
	    "it", dir, name);
	rc = 0;
out:
	if (dirfd != -1)
		close(dirfd);
	free(text);
	return rc;	/* logged */
}

/*
 * Root's spool: root's; others have no access, its group may not list it
 * (nor open it to hold its lock: only root can take that) and, when the
 * group may write, it is sticky (a client removes no other client's
 * request).  Locked: one --pending at a time.  Its descriptor, or -1
 * (logged); -2: busy.
 */
static int
spool_open(const char *dir)
{
	struct stat	st;
	int		fd;

	if ((fd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
	    O_CLOEXEC)) == -1) {
		if (errno == ENOENT)
			return -2;	/* no spool: no requests */
		problem(EX_NOINPUT, dir, "cannot open the spool: %s",
		    strerror(errno));
		return -1;
	}
	if (fstat(fd, &st) == -1 || st.st_uid != 0 || (st.st_mode & (S_IRWXO |
	    S_IRGRP)) || ((st.st_mode & S_IWGRP) && !(st.st_mode & S_ISVTX))) {
		problem(EX_NOPERM, dir, "the spool is not root's, or others "
		    "could list it or remove its requests (owner %s, mode "
		    "%04o)" FIX
		    SPOOL_FIX, user_name(st.st_uid),
		    (unsigned)(st.st_mode & 07777), dir);
		close(fd);
		return -1;
	}
	if (flock(fd, LOCK_EX | LOCK_NB) == -1) {
		note("%s: another renew --pending is at work", dir);
		close(fd);
		return -2;
	}
	return fd;
}

/* One line's value, when it starts with WORD and a blank. */
static const char *
value_of(const char *line, const char *word)
{
	size_t	len = strlen(word);

	return !strncmp(line, word, len) && line[len] == ' ' &&
	    line[len + 1] == '/' ? line + len + 1 : NULL;
}

/* The request's text as files: 0, or -1 (logged). */
static int
request_parse(const char *path, char *text, struct request *rq)
{
	struct setconf	*nf = &rq->files;
	char		*line, *next;
	const char	*v;

	if (strncmp(text, REQUEST_MAGIC, strlen(REQUEST_MAGIC)))
		goto bad;
	for (line = text + strlen(REQUEST_MAGIC); *line; line = next) {
		if ((next = strchr(line, '\n')) == NULL)
			goto bad;
		*next++ = '\0';
		if (has_control(line))
			goto bad;	/* never printed: see has_control */
		if ((v = value_of(line, "cert")) != NULL && nf->cert == NULL)
			nf->cert = xstrdup(v);
		else if ((v = value_of(line, "key")) != NULL && nf->key == NULL)
			nf->key = xstrdup(v);
		else if ((v = value_of(line, "chain")) != NULL &&
		    nf->nchain < MAX_REQUEST_CHAIN)
			nf->chain[nf->nchain++] = xstrdup(v);
		else
			goto bad;
	}
	if (nf->cert != NULL && nf->key != NULL)
		return 0;
bad:
	problem(EX_DATAERR, path, "is not a renewal request (" PROG " renew "
	    "--request writes them)" FIX "ask again with " PROG " renew "
	    "--request --cert ... --key ...");
	return -1;
}

/*
 * Request NAME taken out of the spool: checked, read, removed.  0, or -1
 * (logged).
 */
static int
request_take(int dirfd, const char *dir, const char *name, struct request *rq)
{
	struct stat	 st;
	char		 path[PATH_MAX + NAME_MAX + 8], *text = NULL;
	ssize_t		 n = -1;
	uid_t		 named = 0;
	int		 fd, rc = -1;

	if (snprintf(path, sizeof(path), "%s/%s", dir, name) >=
	    (int)sizeof(path))
		path[sizeof(path) - 1] = '\0';	/* for messages only */
	strlcpy(rq->from, name, sizeof(rq->from));
	fd = openat(dirfd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK |
	    O_NOCTTY | O_CLOEXEC);
	if (fd == -1 || fstat(fd, &st) == -1) {
		problem(EX_NOPERM, path, "request refused: %s", errno == ELOOP ?
		    "it is a symbolic link" : strerror(errno));
		goto out;
	}
	request_uid(name, &named);	/* listed: it is a request's name */
	if (!S_ISREG(st.st_mode) || st.st_nlink != 1 || st.st_uid == 0 ||
	    st.st_uid != named || (st.st_mode & 077) ||
	    st.st_size > MAX_REQUEST) {
		problem(EX_NOPERM, path, "request refused: %s", !S_ISREG(
		    st.st_mode) ? "not a regular file" : st.st_nlink != 1 ?
		    "it has other names (hard links)" : st.st_uid == 0 ?
		    "root's own (root runs renew itself)" : st.st_uid != named ?
		    "its owner is not the user its name gives" :
		    (st.st_mode & 077) ? "others could write or read it (a "
		    "request is its user's alone, 0600)" : "too long");
		goto out;
	}
	rq->uid = st.st_uid;
	rq->gid = st.st_gid;
	text = xmalloc(MAX_REQUEST + 1);
	if ((n = read(fd, text, MAX_REQUEST + 1)) < 0 || n > MAX_REQUEST) {
		problem(EX_IOERR, path, "request refused: %s", n < 0 ?
		    strerror(errno) : "it grew while it was read");
		goto out;
	}
	text[n] = '\0';
	if (memchr(text, '\0', n) != NULL) {
		problem(EX_DATAERR, path, "request refused: a NUL byte");
		goto out;
	}
	rc = request_parse(path, text, rq);
out:
	free(text);
	if (fd != -1)
		close(fd);
	return rc;	/* logged */
}

/* In the child: become the request's owner, for good.  0, or -1. */
static int
become(const struct request *rq)
{
	struct passwd	*pw = getpwuid(rq->uid);
	gid_t		 gid = pw != NULL ? pw->pw_gid : rq->gid;

	if ((pw != NULL ? initgroups(pw->pw_name, gid) : setgroups(0, NULL))
	    == -1 || setresgid(gid, gid, gid) == -1 ||
	    setresuid(rq->uid, rq->uid, rq->uid) == -1)
		return -1;
	if (setresuid(0, 0, 0) == 0 || geteuid() == 0)
		return -1;	/* still root: never read as root */
	/*
	 * The client's user may signal this process (it is hers now), not
	 * trace it or read its memory: not dumpable, whatever
	 * fs.suid_dumpable says.
	 */
	return prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
}

/*
 * In the child, as the client's user: file PATH as a frame on OUT ("F",
 * length, bytes), or why not ("E", the reason's length, the reason).
 */
static int
send_file(int out, const char *path, int is_key)
{
	unsigned char	*buf = NULL;
	char		 why[256] = "";
	struct stat	 st;
	uint64_t	 len = 0;
	ssize_t		 n = 0;
	int		 fd;

	if ((fd = open(path, O_RDONLY | O_NONBLOCK | O_NOCTTY |
	    O_CLOEXEC)) == -1 || fstat(fd, &st) == -1)
		snprintf(why, sizeof(why), "the client's user cannot read it: "
		    "%s", strerror(errno));
	else if (!S_ISREG(st.st_mode))
		snprintf(why, sizeof(why), "not a regular file (a FIFO, a "
		    "device, a directory?)");
	else if (is_key && st.st_uid == 0)
		snprintf(why, sizeof(why), "a key of root's is never handed "
		    "over by a client");
	else if ((buf = malloc(MAX_HANDOFF_FILE + 1)) == NULL)
		snprintf(why, sizeof(why), "out of memory");
	else {
		while (len <= MAX_HANDOFF_FILE && (n = read(fd, buf + len,
		    MAX_HANDOFF_FILE + 1 - len)) > 0)
			len += n;
		if (n < 0)
			snprintf(why, sizeof(why), "%s", strerror(errno));
		else if (len > MAX_HANDOFF_FILE)
			snprintf(why, sizeof(why), "more than the limit of %d "
			    "bytes", MAX_HANDOFF_FILE);
	}
	if (fd != -1)
		close(fd);
	if (why[0] != '\0') {
		len = strlen(why);
		n = write_all(out, "E", 1) == 0 && write_all(out, &len,
		    sizeof(len)) == 0 && write_all(out, why, len) == 0;
	} else
		n = write_all(out, "F", 1) == 0 && write_all(out, &len,
		    sizeof(len)) == 0 && write_all(out, buf, len) == 0;
	freezero(buf, MAX_HANDOFF_FILE + 1);
	return n ? 0 : -1;
}

/*
 * In the child: every file of request SELF of ALL, in order; never
 * returns.  The files of the requests read before it (other clients',
 * maybe) are wiped from its copy of memory first.
 */
static void __attribute__((noreturn))
reader(int out, struct request *all, size_t self)
{
	const struct request	*rq = &all[self];
	size_t			 i, k;
	int			 ok;

	for (k = 0; k < self; k++)
		for (i = 0; i < MAX_INPUTS + 2; i++) {
			freezero(all[k].buf[i], all[k].len[i] + 1);
			all[k].buf[i] = NULL;
		}
	/* Nothing of root's open in here but the pipe. */
	if (dup2(out, 3) == -1)
		_exit(1);
	out = 3;
	close_range(4, ~0U, 0);
	alarm(READ_SECONDS);	/* the parent's deadline is the one that holds */
	ok = become(rq) == 0 && send_file(out, rq->files.cert, 0) == 0 &&
	    send_file(out, rq->files.key, 1) == 0;
	for (i = 0; ok && i < rq->files.nchain; i++)
		ok = send_file(out, rq->files.chain[i], 0) == 0;
	_exit(ok ? 0 : 1);
}

/*
 * Exactly LEN bytes from FD by DEADLINE (now_ms), or -1 (errno ETIMEDOUT
 * past it).  The reader is the client's user's to stop (SIGSTOP holds its
 * alarm too): only this deadline bounds the wait.
 */
static int
get_all(int fd, void *buf, size_t len, long long deadline)
{
	struct pollfd	 pfd = { .fd = fd, .events = POLLIN };
	char		*p = buf;
	long long	 left;
	ssize_t		 n;

	while (len > 0) {
		if ((left = deadline - now_ms()) <= 0) {
			errno = ETIMEDOUT;
			return -1;
		}
		if ((n = poll(&pfd, 1, (int)left)) == -1 && errno != EINTR)
			return -1;
		if (n <= 0)
			continue;	/* EINTR, or the deadline: above */
		if ((n = read(fd, p, len)) == -1 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		p += n;
		len -= n;
	}
	return 0;
}

/* Why the reader's frames stopped: said for request RQ's file PATH. */
static void
cut_short(const struct request *rq, const char *path)
{
	if (errno == ETIMEDOUT)
		problem(EX_TEMPFAIL, path, "request %s refused: the client's "
		    "files were not handed over within %d s (its user %s "
		    "stopped or slowed the reader, which was killed)" FIX
		    "ask again with " PROG " renew --request", rq->from,
		    READ_SECONDS, user_name(rq->uid));
	else
		problem(EX_NOPERM, path, "request %s refused: the client's "
		    "files could not be read as its user %s", rq->from,
		    user_name(rq->uid));
}

/*
 * The client's file I of the request, from the child, by DEADLINE: 0, or
 * -1 (logged).
 */
static int
receive_file(int in, struct request *rq, size_t i, const char *path,
    long long deadline)
{
	char		 kind, why[257];
	uint64_t	 len;

	if (get_all(in, &kind, 1, deadline) == -1 ||
	    get_all(in, &len, sizeof(len), deadline) == -1) {
		cut_short(rq, path);
		return -1;
	}
	if ((kind != 'F' && kind != 'E') || len > (kind == 'F' ?
	    MAX_HANDOFF_FILE : sizeof(why) - 1)) {
		errno = EPROTO;
		cut_short(rq, path);
		return -1;
	}
	if (kind == 'E') {
		why[get_all(in, why, len, deadline) == 0 ? len : 0] = '\0';
		problem(EX_NOPERM, path, "request %s refused: %s", rq->from,
		    why);
		return -1;
	}
	rq->buf[i] = xmalloc(len + 1);
	rq->len[i] = len;
	if (get_all(in, rq->buf[i], len, deadline) == -1) {
		cut_short(rq, path);
		return -1;
	}
	return 0;
}

/*
 * The files of request SELF of ALL, read as its client's user: 0, or -1
 * (logged).
 */
static int
request_read(struct request *all, size_t self)
{
	struct request		*rq = &all[self];
	const struct setconf	*nf = &rq->files;
	long long		 deadline = now_ms() + READ_SECONDS * 1000LL;
	size_t			 i;
	pid_t			 pid;
	int			 p[2], rc = 0, status;

	if (pipe2(p, O_CLOEXEC) == -1 || (pid = fork()) == -1) {
		problem(EX_OSERR, NULL, "cannot start the reader: %s",
		    strerror(errno));
		return -1;
	}
	if (pid == 0) {
		close(p[0]);
		reader(p[1], all, self);
	}
	close(p[1]);
	if (receive_file(p[0], rq, 0, nf->cert, deadline) == -1 ||
	    receive_file(p[0], rq, 1, nf->key, deadline) == -1)
		rc = -1;	/* logged */
	for (i = 0; rc == 0 && i < nf->nchain; i++)
		rc = receive_file(p[0], rq, i + 2, nf->chain[i], deadline);
	close(p[0]);
	kill(pid, SIGKILL);	/* done with it, stopped or not */
	while (waitpid(pid, &status, 0) == -1 && errno == EINTR)
		;
	return rc;	/* logged */
}

/* The copies, root's alone, renewed from; -1 (logged) when not staged. */
static int
request_stage(const struct command *c, struct request *rq)
{
	char		 dir[PATH_MAX], name[32], *path[MAX_INPUTS + 2];
	const char	*step;
	struct setconf	 staged;
	struct command	 d;
	size_t		 i, n = 2 + rq->files.nchain;
	int		 state, dirfd = -1, rc = -1;

	memset(&staged, 0, sizeof(staged));
	memset(path, 0, sizeof(path));
	renew_state_dir(c->root, dir, sizeof(dir));
	if ((state = dir_open(dir, 1)) == -1 || (mkdirat(state, "handoff",
	    0700) == -1 && errno != EEXIST) || (dirfd = openat(state,
	    "handoff", O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)) ==
	    -1) {
		problem(EX_IOERR, dir, "cannot stage the client's files "
		    "in a directory of root's alone" FIX "mkdir -m 0700 %s",
		    dir);
		goto out;
	}
	strlcat(dir, "/handoff", sizeof(dir));
	for (i = 0; i < n; i++) {
		snprintf(name, sizeof(name), "file-%zu.pem", i);
		path[i] = xasprintf("%s/%s", dir, name);
		if (write_replace(dirfd, name, rq->buf[i], rq->len[i], &step)
		    == -1) {
			problem(EX_IOERR, path[i], "%s: %s", step,
			    strerror(errno));
			goto out;
		}
	}
	staged.cert = path[0];
	staged.key = path[1];
	for (i = 2; i < n; i++)
		staged.chain[staged.nchain++] = path[i];
	d = *c;
	d.renew = &staged;
	rc = renew_command(&d) == 0 ? 0 : -2;	/* logged and recorded */
out:
	for (i = 0; i < n; i++) {
		snprintf(name, sizeof(name), "file-%zu.pem", i);
		if (dirfd != -1)
			unlinkat(dirfd, name, 0);
		free(path[i]);
	}
	if (dirfd != -1)
		close(dirfd);
	if (state != -1)
		close(state);
	return rc;
}

static void
request_free(struct request *rq)
{
	size_t	i;

	for (i = 0; i < MAX_INPUTS + 2; i++)
		freezero(rq->buf[i], rq->len[i] + 1);
	free(rq->files.cert);
	free(rq->files.key);
	for (i = 0; i < rq->files.nchain; i++)
		free(rq->files.chain[i]);
	memset(rq, 0, sizeof(*rq));
}

/*
 * Directory NAME of DIRFD, OWNER's, emptied (BUDGET entries at most, all
 * told) and removed: a client's directory in the spool would otherwise
 * stay there for good.  Only directories of OWNER are entered, never
 * through a link: root removes nothing OWNER could not remove herself.
 */
static int
tree_remove(int dirfd, const char *name, uid_t owner, int depth, int *budget)
{
	struct dirent	*e;
	struct stat	 st;
	DIR		*d;
	int		 fd;

	if ((fd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
	    O_NONBLOCK | O_CLOEXEC)) == -1)
		return -1;
	if (fstat(fd, &st) == -1 || st.st_uid != owner || owner == 0 ||
	    (d = fdopendir(fd)) == NULL) {
		close(fd);
		return -1;
	}
	while (*budget > 0 && (e = readdir(d)) != NULL) {
		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		(*budget)--;
		if (unlinkat(fd, e->d_name, 0) == -1 && errno == EISDIR &&
		    depth < 4)
			tree_remove(fd, e->d_name, owner, depth + 1, budget);
	}
	closedir(d);
	return unlinkat(dirfd, name, AT_REMOVEDIR);
}

/* Spool entry NAME removed, whatever it is: 0, or -1 (errno). */
static int
entry_remove(int dirfd, const char *name)
{
	struct stat	st;
	int		budget = MAX_TREE;

	if (unlinkat(dirfd, name, 0) == 0 || errno == ENOENT)
		return 0;
	if (errno != EISDIR || fstatat(dirfd, name, &st,
	    AT_SYMLINK_NOFOLLOW) == -1)
		return -1;
	return tree_remove(dirfd, name, st.st_uid, 0, &budget);
}

/*
 * One request taken out of the spool and the files of request SELF of
 * ALL read: 0, or -1 (logged, recorded).
 */
static int
request_one(const struct command *c, int dirfd, const char *dir,
    const char *name, struct request *all, size_t self)
{
	struct request	*rq = &all[self];
	int		 taken, rc = -1;

	taken = request_take(dirfd, dir, name, rq);
	/* Taken out at once: a refused request is never tried again. */
	if (entry_remove(dirfd, name) == -1)
		warning(dir, "request %s could not be removed: %s", name,
		    strerror(errno));
	if (taken == 0) {
		note("request %s from %s: --cert %s --key %s", name,
		    user_name(rq->uid), rq->files.cert, rq->files.key);
		rc = request_read(all, self);
	}
	if (rc == -1)
		renew_record(c->root, c->confdir, "refused");
	return rc;	/* logged */
}

/*
 * An entry the path unit wakes root for (request.[0-9]*): is it UID's
 * request, named and owned so?  1 yes, 0 not a request (removed by the
 * caller: it would wake the path unit for good), -1 gone.
 */
static int
spool_entry(int dirfd, const char *name)
{
	struct stat	st;
	uid_t		uid;

	if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) == -1)
		return -1;
	return request_uid(name, &uid) && st.st_uid == uid;
}

/*
 * The requests waiting in the spool, MAX_REQUESTS at most (the rest wait
 * for the next run): their number, or -1 (logged).  Entries named like a
 * request that are not their user's (a directory aside, a name taken
 * from another user) are removed and counted in *JUNK; every other name
 * (a request being written) is left alone.
 */
static int
spool_list(int dirfd, const char *dir, char names[][NAME_MAX + 1],
    int *junk)
{
	struct dirent	*e;
	DIR		*d;
	int		 fd, n = 0, seen = 0, more = 0, is;

	*junk = 0;
	if ((fd = dup(dirfd)) == -1 || (d = fdopendir(fd)) == NULL) {
		problem(EX_OSERR, dir, "cannot list the spool: %s",
		    strerror(errno));
		return -1;
	}
	rewinddir(d);	/* the copy shares its offset with DIRFD */
	while (seen++ < MAX_SCAN && (e = readdir(d)) != NULL) {
		if (strncmp(e->d_name, REQUEST_PREFIX, strlen(REQUEST_PREFIX)) ||
		    e->d_name[strlen(REQUEST_PREFIX)] < '0' ||
		    e->d_name[strlen(REQUEST_PREFIX)] > '9')
			continue;	/* not the path unit's to wake for */
		if ((is = spool_entry(dirfd, e->d_name)) == 0) {
			entry_remove(dirfd, e->d_name);
			(*junk)++;
		} else if (is == 1 && n < MAX_REQUESTS)
			strlcpy(names[n++], e->d_name, NAME_MAX + 1);
		else if (is == 1)
			more++;
	}
	closedir(d);
	if (more > 0)
		warning(dir, "%d more requests wait than one run takes (%d): "
		    "the next run takes them", more, MAX_REQUESTS);
	return n;
}

/*
 * What the run has said so far, set aside while one request is judged:
 * deploy and renew judge by the run's findings, and one client's refused
 * request (an attacker's, maybe) must not refuse another's renewal, nor
 * be recorded as its reason.
 */
static struct findings *
aside(void)
{
	return findings_take(0);
}

/* Back in their turn: what was set aside, then what the request said. */
static void
back(struct findings *held)
{
	struct findings	*mine = findings_take(0);

	findings_put(held);
	findings_put(mine);
}

/*
 * Every request's files read first, then each renewed: the readers are
 * forks of this process, and none starts once a renewal has read a key
 * (the old bundle holds one) into its memory.  Each request is judged on
 * its own.
 */
static int
requests_run(const struct command *c, int dirfd, const char *dir,
    char names[][NAME_MAX + 1], int n)
{
	struct request	*rq = xcalloc(n, sizeof(*rq));
	int		 i, rc = 0, *ok = xcalloc(n, sizeof(*ok));

	struct findings	*held;

	for (i = 0; i < n; i++) {
		held = aside();
		ok[i] = request_one(c, dirfd, dir, names[i], rq, i) == 0;
		back(held);
		if (!ok[i])
			rc = -1;	/* logged */
	}
	for (i = 0; i < n; i++) {
		held = aside();
		if (ok[i] && request_stage(c, &rq[i]) != 0)
			rc = -1;	/* logged, recorded */
		back(held);
		request_free(&rq[i]);
	}
	free(ok);
	free(rq);
	return rc;
}

/* renew --pending, as root: every waiting request. */
static int
pending(const struct command *c)
{
	char	dir[PATH_MAX], names[MAX_REQUESTS][NAME_MAX + 1];
	int	dirfd, n, junk, rc = 0;

	spool_dir(c->root, dir, sizeof(dir));
	if ((dirfd = spool_open(dir)) < 0)
		return dirfd == -2 ? 0 : -1;	/* logged */
	if ((n = spool_list(dirfd, dir, names, &junk)) == -1)
		rc = -1;	/* logged */
	if (junk > 0)
		problem(EX_NOPERM, dir, "removed %d entries named like a "
		    "request that were not one (a request is request.UID, a "
		    "file of user UID's): a client's user put them there", junk);
	if (n == 0 && junk == 0)
		note("%s: no renewal request waits", dir);
	else if (n > 0)
		rc = requests_run(c, dirfd, dir, names, n);
	close(dirfd);
	return rc;
}

int
handoff_command(const struct command *c)
{
	if (c->handoff == HANDOFF_PENDING)
		return pending(c);
	if (c->renew->cert == NULL || c->renew->key == NULL) {
		problem(EX_USAGE, NULL, "renew --request needs the client's "
		    "new files: --cert and --key (and --chain, unless --cert "
		    "holds the chain)");
		return -1;	/* logged */
	}
	return request_put(c);
}
