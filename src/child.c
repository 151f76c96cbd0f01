/*
 * Children under a deadline (child.h).  The wait is a poll on a pidfd
 * (Linux 5.3 and later), or else short sleeps between waitpid(WNOHANG):
 * either way the helper itself never blocks past the deadline.
 */
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
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

int
child_start(struct child *c, const char *path, char *const argv[], int merge,
    int dirfd, mode_t mask)
{
	posix_spawn_file_actions_t	fa;
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
	old = umask(mask);
	if (err == 0)
		err = posix_spawn(&c->pid, path, &fa, NULL, argv, environ);
	umask(old);
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
	struct pollfd	pfd;
	long long	left;
	pid_t		r;
	int		pidfd;

	pidfd = (int)syscall(SYS_pidfd_open, c->pid, 0);
	for (;;) {
		if ((r = waitpid(c->pid, status, WNOHANG)) == c->pid ||
		    (r == -1 && errno != EINTR))
			break;
		if ((left = deadline - now_ms()) <= 0) {
			r = 0;
			break;
		}
		if (pidfd != -1) {
			pfd.fd = pidfd;
			pfd.events = POLLIN;
			(void)poll(&pfd, 1, left > 1000 ? 1000 : (int)left);
		} else
			usleep(left > 10 ? 10000 : left * 1000);
	}
	if (pidfd != -1)
		close(pidfd);
	return r != 0;
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
