/*
 * Children under a deadline (child.h).  SIGCHLD is kept blocked in this
 * process, so the wait is sigtimedwait for it between waitpid(WNOHANG)s:
 * woken when any child ends, never blocked past the deadline, and no
 * signal handler anywhere.  The children start with no signal blocked.
 */
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "child.h"

long long
now_ms(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/*
 * SIGCHLD blocked from the first child on: sigtimedwait takes it.  Its
 * disposition is the default whatever the caller left (ignored, the
 * kernel would reap the children and their statuses be lost).
 */
static void
block_sigchld(void)
{
	sigset_t	set;

	signal(SIGCHLD, SIG_DFL);
	sigemptyset(&set);
	sigaddset(&set, SIGCHLD);
	sigprocmask(SIG_BLOCK, &set, NULL);
}

int
child_start(struct child *c, const char *path, char *const argv[],
    char *const envp[], int merge, int dirfd, mode_t mask)
{
	posix_spawn_file_actions_t	fa;
	posix_spawnattr_t		attr;
	sigset_t			none;
	mode_t				old;
	int				err;

	c->pid = -1;
	c->out = c->err = -1;
	if ((c->out = memfd_create("child-stdout", MFD_CLOEXEC)) == -1 ||
	    (!merge && (c->err = memfd_create("child-stderr",
	    MFD_CLOEXEC)) == -1)) {
		err = errno;
		child_close(c);
		return -err;
	}
	if ((err = posix_spawn_file_actions_init(&fa)) != 0) {
		child_close(c);
		return err;
	}
	if ((err = posix_spawn_file_actions_addopen(&fa, STDIN_FILENO,
	    "/dev/null", O_RDONLY, 0)) == 0 &&
	    (err = posix_spawn_file_actions_adddup2(&fa, c->out,
	    STDOUT_FILENO)) == 0 &&
	    (err = posix_spawn_file_actions_adddup2(&fa, merge ? c->out :
	    c->err, STDERR_FILENO)) == 0 && dirfd != -1)
		err = posix_spawn_file_actions_addfchdir_np(&fa, dirfd);
	block_sigchld();
	sigemptyset(&none);
	if (err == 0 && (err = posix_spawnattr_init(&attr)) == 0) {
		if ((err = posix_spawnattr_setsigmask(&attr, &none)) == 0)
			err = posix_spawnattr_setflags(&attr,
			    POSIX_SPAWN_SETSIGMASK);
		old = umask(mask);
		if (err == 0)
			err = posix_spawn(&c->pid, path, &fa, &attr, argv,
			    envp != NULL ? envp : environ);
		umask(old);
		posix_spawnattr_destroy(&attr);
	}
	posix_spawn_file_actions_destroy(&fa);
	if (err != 0) {
		c->pid = -1;
		child_close(c);
	}
	return err;
}

/* Until the child ends or DEADLINE passes: 1 ended, 0 not. */
static int
ended_by(struct child *c, long long deadline, int *status)
{
	struct timespec	ts;
	sigset_t	set;
	long long	left;
	pid_t		r;

	sigemptyset(&set);
	sigaddset(&set, SIGCHLD);
	for (;;) {
		if ((r = waitpid(c->pid, status, WNOHANG)) == c->pid)
			return 1;
		if (r == -1 && errno != EINTR) {
			*status = -1;	/* gone unseen: no success */
			return 1;
		}
		if ((left = deadline - now_ms()) <= 0)
			return 0;
		if (left > 1000)
			left = 1000;
		ts.tv_sec = left / 1000;
		ts.tv_nsec = (left % 1000) * 1000000;
		(void)sigtimedwait(&set, NULL, &ts);
	}
}

int
child_wait(struct child *c, long long deadline, int *status)
{
	*status = 0;
	if (c->pid == -1)
		return 0;
	if (ended_by(c, deadline, status)) {
		c->pid = -1;
		return 0;
	}
	kill(c->pid, SIGKILL);
	while (waitpid(c->pid, status, 0) == -1 && errno == EINTR)
		;
	c->pid = -1;
	return -1;
}

void
child_said(const struct child *c, char *buf, size_t size)
{
	ssize_t	r;
	int	fd = c->err != -1 ? c->err : c->out;

	buf[0] = '\0';
	if (fd != -1 && (r = pread(fd, buf, size - 1, 0)) > 0) {
		buf[r] = '\0';
		buf[strcspn(buf, "\n")] = '\0';
	}
}

/* Its files closed; a child never waited for is killed and reaped. */
void
child_close(struct child *c)
{
	int	status;

	if (c->pid != -1) {
		kill(c->pid, SIGKILL);
		while (waitpid(c->pid, &status, 0) == -1 && errno == EINTR)
			;
		c->pid = -1;
	}
	if (c->out != -1)
		close(c->out);
	if (c->err != -1)
		close(c->err);
	c->out = c->err = -1;
}
