/*
 * Fault injection for the helper's disk writes, loaded with LD_PRELOAD by
 * tests/cli/crash-safety.bats (test code only; nothing of it is in the
 * helper).
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
 *   FAULT_TRACE=FILE     append one line per point with its arguments:
 *                        "openat PATH FLAGS MODE = RESULT", "fchmod PATH
 *                        MODE", "fsync PATH", ... (PATH of a descriptor
 *                        from /proc/self/fd), to check the writer's order
 *   FAULT_PLANT=N        before each of the first N openat(O_CREAT),
 *   FAULT_PLANT_TARGET=T plant that very name (owned by nobody): a
 *                        symbolic link to T, then a regular file, in turn
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
static char	*trace_path, *plant_target;
static long	 plants, planted;

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
	trace_path = getenv("FAULT_TRACE");
	if ((e = getenv("FAULT_PLANT")) != NULL)
		plants = atol(e);
	plant_target = getenv("FAULT_PLANT_TARGET");
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

/* FAULT_TRACE: one line per call, with its arguments. */
static void
trace(const char *fmt, ...)
{
	va_list	 ap;
	FILE	*f;

	if (trace_path == NULL || (f = fopen(trace_path, "a")) == NULL)
		return;
	va_start(ap, fmt);
	vfprintf(f, fmt, ap);
	va_end(ap);
	fputc('\n', f);
	fclose(f);
}

/* The path a descriptor stands for, or "fd N". */
static const char *
fd_path(int fd, char *buf, size_t size)
{
	char	proc[64];
	ssize_t	n;

	snprintf(proc, sizeof(proc), "/proc/self/fd/%d", fd);
	if ((n = readlink(proc, buf, size - 1)) == -1)
		snprintf(buf, size, "fd %d", fd);
	else
		buf[n] = '\0';
	return buf;
}

/* DIRFD + PATH as one path, for the trace and for planting. */
static const char *
at_path(int dirfd, const char *path, char *buf, size_t size)
{
	char	dir[4096];

	if (path[0] == '/' || dirfd == AT_FDCWD)
		snprintf(buf, size, "%s", path);
	else
		snprintf(buf, size, "%s/%s", fd_path(dirfd, dir, sizeof(dir)),
		    path);
	return buf;
}

static const char *
open_flags(int flags, char *buf, size_t size)
{
	static const struct { int bit; const char *name; } names[] = {
		{ O_WRONLY, "O_WRONLY" }, { O_RDWR, "O_RDWR" },
		{ O_CREAT, "O_CREAT" }, { O_EXCL, "O_EXCL" },
		{ O_TRUNC, "O_TRUNC" }, { O_APPEND, "O_APPEND" },
		{ O_NOFOLLOW, "O_NOFOLLOW" }, { O_CLOEXEC, "O_CLOEXEC" },
		{ O_NONBLOCK, "O_NONBLOCK" }, { O_NOCTTY, "O_NOCTTY" },
		{ O_DIRECTORY, "O_DIRECTORY" }, { O_PATH, "O_PATH" },
		{ O_SYNC, "O_SYNC" }, { __O_TMPFILE, "__O_TMPFILE" },
	};
	size_t	i;

	snprintf(buf, size, "%s", (flags & O_ACCMODE) == O_RDONLY ?
	    "O_RDONLY" : "");
	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		if ((flags & names[i].bit) != names[i].bit)
			continue;
		flags &= ~names[i].bit;
		snprintf(buf + strlen(buf), size - strlen(buf), "%s%s",
		    *buf ? "|" : "", names[i].name);
	}
	if (flags != 0)
		snprintf(buf + strlen(buf), size - strlen(buf), "|%#x", flags);
	return buf;
}

/* FAULT_PLANT: someone else got the name first (a link, then a file). */
static void
plant(const char *path)
{
	FILE	*f;

	if (planted >= plants)
		return;
	if (++planted % 2 == 0 || plant_target == NULL) {
		if ((f = fopen(path, "wx")) != NULL) {
			fputs("planted\n", f);
			fclose(f);
		}
		chmod(path, 0644);
		trace("plant %s file", path);
	} else {
		symlink(plant_target, path);
		trace("plant %s symlink", path);
	}
	lchown(path, 65534, 65534);
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
	int	fd, saved;
	char	where[4096], how[256];
	REAL(int, openat, int, const char *, int, ...);

	if (flags & (O_CREAT | O_TMPFILE)) {
		va_start(ap, flags);
		mode = va_arg(ap, mode_t);
		va_end(ap);
	}
	maybe_swap(path, flags);
	if (flags & O_CREAT)
		plant(at_path(dirfd, path, where, sizeof(where)));
	if ((flags & (O_CREAT | O_WRONLY | O_RDWR)) && fault("openat"))
		fd = -1;
	else
		fd = real_openat(dirfd, path, flags, mode);
	saved = errno;
	if (flags & (O_CREAT | O_WRONLY | O_RDWR))
		trace("openat %s %s %04o = %s",
		    at_path(dirfd, path, where, sizeof(where)),
		    open_flags(flags, how, sizeof(how)), (unsigned)mode,
		    fd >= 0 ? "ok" : strerrorname_np(saved));
	if (fd >= 0 && fd < (int)sizeof(written))
		written[fd] = (flags & (O_WRONLY | O_RDWR)) != 0;
	errno = saved;
	return fd;
}

int openat64(int, const char *, int, ...) __attribute__((alias("openat")));

ssize_t
write(int fd, const void *buf, size_t len)
{
	char		where[4096];
	struct stat	st;
	REAL(ssize_t, write, int, const void *, size_t);

	/* Not a disk write: the terminal, the DNS lookup's pipe (dns.c). */
	if (fd <= 2 || (fstat(fd, &st) == 0 && (S_ISFIFO(st.st_mode) ||
	    S_ISSOCK(st.st_mode))))
		return real_write(fd, buf, len);
	trace("write %s %zu", fd_path(fd, where, sizeof(where)), len);
	if (fault("write"))
		return -1;
	return real_write(fd, buf, len);
}

int
fsync(int fd)
{
	char	where[4096];
	REAL(int, fsync, int);

	trace("fsync %s", fd_path(fd, where, sizeof(where)));
	return fault("fsync") ? -1 : real_fsync(fd);
}

int
fchown(int fd, uid_t uid, gid_t gid)
{
	char	where[4096];
	REAL(int, fchown, int, uid_t, gid_t);

	trace("fchown %s %d:%d", fd_path(fd, where, sizeof(where)), (int)uid,
	    (int)gid);
	return fault("fchown") ? -1 : real_fchown(fd, uid, gid);
}

int
fchmod(int fd, mode_t mode)
{
	char	where[4096];
	REAL(int, fchmod, int, mode_t);

	trace("fchmod %s %04o", fd_path(fd, where, sizeof(where)),
	    (unsigned)mode);
	return fault("fchmod") ? -1 : real_fchmod(fd, mode);
}

int
renameat(int olddir, const char *old, int newdir, const char *new)
{
	char	from[4096], to[4096];
	REAL(int, renameat, int, const char *, int, const char *);

	trace("renameat %s %s", at_path(olddir, old, from, sizeof(from)),
	    at_path(newdir, new, to, sizeof(to)));
	return fault("renameat") ? -1 : real_renameat(olddir, old, newdir, new);
}

int
unlinkat(int dirfd, const char *path, int flags)
{
	char	where[4096];
	REAL(int, unlinkat, int, const char *, int);

	trace("unlinkat %s", at_path(dirfd, path, where, sizeof(where)));
	return fault("unlinkat") ? -1 : real_unlinkat(dirfd, path, flags);
}

int
close(int fd)
{
	char	where[4096];
	REAL(int, close, int);

	if (fd >= 0 && fd < (int)sizeof(written) && written[fd]) {
		trace("close %s", fd_path(fd, where, sizeof(where)));
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
