/*
 * Fault injection for the helper's disk writes, loaded with LD_PRELOAD by
 * tests/fault.bats (test code only; nothing of it is in the helper).
 *
 * Every call that changes the disk is a numbered fault point: openat()
 * creating or opening for writing, write() to a file, fsync(), fchown(),
 * fchmod(), renameat(), unlinkat(), close() of a written file.
 *   FAULT_LOG=FILE       append "N call" for each point (to count them)
 *   FAULT_AT=N           make point N fail ...
 *   FAULT_ERR=NAME       ... with ENOSPC, EIO or EACCES, or KILL the process
 *   FAULT_SWAP_NAME=B    before the first plain (not O_PATH) openat() of
 *   FAULT_SWAP_FROM=P    a name B, rename(P, Q): a file swapped for a
 *   FAULT_SWAP_TO=Q      symbolic link between check and use
 * The variables are read once and LD_PRELOAD is dropped, so that the
 * programs the helper runs (postconf) are not affected.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static long	 at = -1, count;
static int	 fail_errno, kill_it;
static char	*log_path, *swap_name, *swap_from, *swap_to;
static char	 written[1024];		/* fds opened for writing */

__attribute__((constructor)) static void
init(void)
{
	const char	*e;

	if ((e = getenv("FAULT_AT")) != NULL)
		at = atol(e);
	if ((e = getenv("FAULT_ERR")) != NULL) {
		if (!strcmp(e, "KILL"))
			kill_it = 1;
		else if (!strcmp(e, "ENOSPC"))
			fail_errno = ENOSPC;
		else if (!strcmp(e, "EACCES"))
			fail_errno = EACCES;
		else
			fail_errno = EIO;
	}
	log_path = getenv("FAULT_LOG");
	swap_name = getenv("FAULT_SWAP_NAME");
	swap_from = getenv("FAULT_SWAP_FROM");
	swap_to = getenv("FAULT_SWAP_TO");
	unsetenv("LD_PRELOAD");
}

/* 1 when this call must fail (errno set); may not return (KILL). */
static int
fault(const char *what)
{
	FILE	*f;

	count++;
	if (log_path != NULL && (f = fopen(log_path, "a")) != NULL) {
		fprintf(f, "%ld %s\n", count, what);
		fclose(f);
	}
	if (count != at)
		return 0;
	if (kill_it)
		raise(SIGKILL);
	errno = fail_errno;
	return 1;
}

#define REAL(type, name, ...) \
	static type (*real_##name)(__VA_ARGS__); \
	if (real_##name == NULL) \
		real_##name = (type (*)(__VA_ARGS__))dlsym(RTLD_NEXT, #name)

static void
maybe_swap(const char *path, int flags)
{
	const char	*base = strrchr(path, '/');

	base = base ? base + 1 : path;
	if (swap_name == NULL || (flags & O_PATH) || strcmp(base, swap_name))
		return;
	rename(swap_from, swap_to);
	swap_name = NULL;
}

int
openat(int dirfd, const char *path, int flags, ...)
{
	va_list	ap;
	mode_t	mode = 0;
	int	fd;
	REAL(int, openat, int, const char *, int, ...);

	if (flags & (O_CREAT | O_TMPFILE)) {
		va_start(ap, flags);
		mode = va_arg(ap, mode_t);
		va_end(ap);
	}
	maybe_swap(path, flags);
	if ((flags & (O_CREAT | O_WRONLY | O_RDWR)) && fault("openat"))
		return -1;
	fd = real_openat(dirfd, path, flags, mode);
	if (fd >= 0 && fd < (int)sizeof(written))
		written[fd] = (flags & (O_WRONLY | O_RDWR)) != 0;
	return fd;
}

int openat64(int, const char *, int, ...) __attribute__((alias("openat")));

ssize_t
write(int fd, const void *buf, size_t len)
{
	REAL(ssize_t, write, int, const void *, size_t);

	if (fd > 2 && fault("write"))
		return -1;
	return real_write(fd, buf, len);
}

int
fsync(int fd)
{
	REAL(int, fsync, int);

	return fault("fsync") ? -1 : real_fsync(fd);
}

int
fchown(int fd, uid_t uid, gid_t gid)
{
	REAL(int, fchown, int, uid_t, gid_t);

	return fault("fchown") ? -1 : real_fchown(fd, uid, gid);
}

int
fchmod(int fd, mode_t mode)
{
	REAL(int, fchmod, int, mode_t);

	return fault("fchmod") ? -1 : real_fchmod(fd, mode);
}

int
renameat(int olddir, const char *old, int newdir, const char *new)
{
	REAL(int, renameat, int, const char *, int, const char *);

	return fault("renameat") ? -1 : real_renameat(olddir, old, newdir, new);
}

int
unlinkat(int dirfd, const char *path, int flags)
{
	REAL(int, unlinkat, int, const char *, int);

	return fault("unlinkat") ? -1 : real_unlinkat(dirfd, path, flags);
}

int
close(int fd)
{
	REAL(int, close, int);

	if (fd >= 0 && fd < (int)sizeof(written) && written[fd]) {
		written[fd] = 0;
		if (fault("close")) {
			real_close(fd);
			return -1;
		}
	}
	return real_close(fd);
}

/*
 * FAULT_TRUST_STORE=1: the trust store cannot be set up.  The calls with
 * which the helper adds a lookup to its X509_STORE (X509_STORE_add_lookup,
 * and X509_STORE_load_path, which the helper once called) fail as they do
 * out of memory, without an OpenSSL error queued.  Not a counted point.
 * Declared without OpenSSL's headers: the shim is built without them.
 */
static int
trust_store_fails(void)
{
	const char	*e = getenv("FAULT_TRUST_STORE");

	return e != NULL && !strcmp(e, "1");
}

void *
X509_STORE_add_lookup(void *store, const void *method)
{
	REAL(void *, X509_STORE_add_lookup, void *, const void *);

	return trust_store_fails() ? NULL :
	    real_X509_STORE_add_lookup(store, method);
}

int
X509_STORE_load_path(void *store, const char *path)
{
	REAL(int, X509_STORE_load_path, void *, const char *);

	return trust_store_fails() ? 0 : real_X509_STORE_load_path(store, path);
}
