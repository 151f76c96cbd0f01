/*
 * Safe paths.  The helper runs as root from start_pre, like OpenRC's
 * checkpath, so it avoids checkpath's old holes (CVE-2018-21269): a path
 * is walked one component at a time from "/", each opened with
 * O_PATH|O_NOFOLLOW and checked through its descriptor.  A directory on
 * the way must be owned by root and writable by no one else (OpenSSH's
 * StrictModes rule); the one exception is a root-owned sticky directory
 * such as /tmp, where only root-owned entries are trusted, because no one
 * else can rename or remove them.  Symbolic links are followed only from
 * such safe directories.  The file at the end is opened with O_NOFOLLOW and
 * checked with fstat, and ownership and mode are changed through that
 * same descriptor, never by name.
 */
#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "common.h"
#include "finding.h"
#include "secure.h"
#include "write.h"

#define DIR_FIX	"chown root:root %s && chmod go-w %s"

static int	walk_quietly(struct file *, const char *);

struct walk {
	int	 dirfd;
	int	 shared;		/* dirfd is a sticky, world-writable dir */
	char	 where[PATH_MAX];	/* resolved path of dirfd */
	char	 rest[2 * PATH_MAX];	/* components still to walk */
	int	 links;
	int	 quiet;		/* problems said only under -v */
};

void
file_init(struct file *f)
{
	memset(f, 0, sizeof(*f));
	f->dirfd = f->fd = -1;
}

/* A user's name for messages, or the number when it has none. */
const char *
user_name(uid_t uid)
{
	static char	 num[32];
	struct passwd	*pw;

	if ((pw = getpwuid(uid)) != NULL)
		return pw->pw_name;
	snprintf(num, sizeof(num), "%u", (unsigned)uid);
	return num;
}

/*
 * A walk's problem: reported, or when the walk is quiet (the caller does
 * without the file, e.g. the cache) only said under -v.
 */
static void __attribute__((format(printf, 4, 5)))
walk_problem(const struct walk *w, int ex, const char *path, const char *fmt,
    ...)
{
	va_list	ap;

	va_start(ap, fmt);
	if (w->quiet)
		vdebug(path, fmt, ap);
	else
		vproblem(ex, path, fmt, ap);
	va_end(ap);
}

/* May we trust a directory?  Sets w->shared for sticky shared ones. */
static int
check_dir(struct walk *w, const struct stat *st)
{
	if (st->st_uid != 0) {
		walk_problem(w, EX_NOPERM, w->where, "directory is owned by "
		    "%s, not root, so that user could replace the files below "
		    "it" FIX "fix: " DIR_FIX "", user_name(st->st_uid), w->where,
		    w->where);
		return -1;
	}
	w->shared = 0;
	if (st->st_mode & (S_IWGRP | S_IWOTH)) {
		if ((st->st_mode & S_ISVTX) && (st->st_mode & S_IWOTH)) {
			w->shared = 1;
			return 0;
		}
		walk_problem(w, EX_NOPERM, w->where, "directory is writable by "
		    "%s, so others could replace the files below it" FIX "fix: "
		    DIR_FIX "", st->st_mode & S_IWOTH ? "everyone" :
		    "its group", w->where, w->where);
		return -1;
	}
	return 0;
}

static void
append(char *where, size_t size, const char *comp)
{
	size_t	len = strlen(where);

	if (len > 0 && where[len - 1] != '/')
		strlcat(where, "/", size);
	strlcat(where, comp, size);
}

static void
go_up(char *where)
{
	char	*slash = strrchr(where, '/');

	if (slash == where)
		where[1] = '\0';
	else if (slash != NULL)
		*slash = '\0';
}

/* Start again at "/" (an absolute path or link). */
static int
walk_root(struct walk *w)
{
	struct stat	st;

	if (w->dirfd != -1)
		close(w->dirfd);
	strlcpy(w->where, "/", sizeof(w->where));
	if ((w->dirfd = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC)) == -1 ||
	    fstat(w->dirfd, &st) == -1) {
		walk_problem(w, EX_OSERR, "/", "cannot open: %s",
		    strerror(errno));
		return -1;
	}
	return check_dir(w, &st);
}

/*
 * Next component of w->rest into comp (NAME_MAX + 1 bytes); 1 if it was the
 * last one, -1 with errno ENAMETOOLONG for a component the kernel would
 * refuse (never cut it in two: the rest would name another file).
 */
static int
next_component(struct walk *w, char *comp)
{
	char	*p = w->rest, *slash;
	size_t	 n;

	p += strspn(p, "/");
	slash = strchr(p, '/');
	n = slash ? (size_t)(slash - p) : strlen(p);
	if (n > NAME_MAX) {
		errno = ENAMETOOLONG;
		return -1;
	}
	memcpy(comp, p, n);
	comp[n] = '\0';
	p += n;
	p += strspn(p, "/");
	memmove(w->rest, p, strlen(p) + 1);
	return w->rest[0] == '\0';
}

/* Replace the link at comp by its target in front of the rest. */
static int
follow_link(struct walk *w, int linkfd, const struct stat *st,
    const char *comp)
{
	char	target[PATH_MAX], display[PATH_MAX], rest[2 * PATH_MAX];
	ssize_t	n;

	strlcpy(display, w->where, sizeof(display));
	append(display, sizeof(display), comp);
	if (w->shared && st->st_uid != 0) {
		walk_problem(w, EX_NOPERM, display, "symbolic link owned by %s "
		    "in a shared directory; refusing to follow it" FIX "replace it "
		    "with a link owned by root in a directory only root can "
		    "write", user_name(st->st_uid));
		return -1;
	}
	if (++w->links > MAX_SYMLINKS) {
		walk_problem(w, EX_NOPERM, display, "too many levels of "
		    "symbolic links" FIX "a loop?");
		return -1;
	}
	if ((n = readlinkat(linkfd, "", target, sizeof(target) - 1)) == -1) {
		walk_problem(w, EX_NOINPUT, display, "cannot read symbolic "
		    "link: %s", strerror(errno));
		return -1;
	}
	target[n] = '\0';
	if (snprintf(rest, sizeof(rest), "%s%s%s", target, *w->rest ? "/" :
	    "", w->rest) >= (int)sizeof(rest)) {
		walk_problem(w, EX_NOINPUT, display, "path too long");
		return -1;
	}
	strlcpy(w->rest, rest, sizeof(w->rest));
	debug("%s: symbolic link to %s", display, target);
	if (target[0] == '/')
		return walk_root(w);
	return 0;
}

/* Step into directory comp, or ".." out of the current one. */
static int
enter_dir(struct walk *w, int fd, const struct stat *st, const char *comp)
{
	if (!strcmp(comp, ".."))
		go_up(w->where);
	else
		append(w->where, sizeof(w->where), comp);
	if (w->shared && st->st_uid != 0 && strcmp(comp, "..")) {
		walk_problem(w, EX_NOPERM, w->where, "directory is owned by %s "
		    "inside a shared directory" FIX "move the files to a directory "
		    "owned by root", user_name(st->st_uid));
		return -1;
	}
	close(w->dirfd);
	w->dirfd = fd;
	return check_dir(w, st);
}

/*
 * Resolve path to a checked directory and a final name in it.  Returns 0
 * and fills f->dirfd, f->name, or -1 after reporting why.
 */
static int
resolve(struct file *f, const char *path, int quiet)
{
	struct walk	 w;		/* 12 KiB: its names set, not cleared */
	struct stat	 st;
	char		 comp[NAME_MAX + 1], cwd[PATH_MAX];
	int		 fd = -1, last, rc = -1;

	w.dirfd = -1;
	w.shared = w.links = 0;
	w.quiet = quiet;
	w.where[0] = w.rest[0] = '\0';
	if (path[0] != '/' && getcwd(cwd, sizeof(cwd)) == NULL) {
		walk_problem(&w, EX_OSERR, path, "cannot find the current "
		    "directory: %s", strerror(errno));
		return -1;
	}
	if (strlen(path) >= PATH_MAX || snprintf(w.rest, sizeof(w.rest),
	    "%s%s%s", path[0] == '/' ? "" : cwd, path[0] == '/' ? "" : "/",
	    path) >= (int)sizeof(w.rest)) {
		/* Too long for one line too: its start names it. */
		walk_problem(&w, EX_NOINPUT, NULL, "%.100s...: %s" FIX "the whole "
		    "name is longer than %d bytes; shorten it", path,
		    strerror(ENAMETOOLONG), PATH_MAX - 1);
		return -1;
	}
	if (walk_root(&w) == -1)
		goto out;
	for (;;) {
		if ((last = next_component(&w, comp)) == -1) {
			walk_problem(&w, EX_NOINPUT, path, "%s" FIX "a name in it "
			    "is longer than %d bytes; shorten it",
			    strerror(errno), NAME_MAX);
			goto out;
		}
		if (comp[0] == '\0' || !strcmp(comp, ".")) {
			if (last) {
				walk_problem(&w, EX_USAGE, path, "names a "
				    "directory, not a file");
				goto out;
			}
			continue;
		}
		fd = openat(w.dirfd, comp, O_PATH | O_NOFOLLOW | O_CLOEXEC);
		if (fd == -1 && errno == ENOENT && last)
			break;		/* absent final name: caller decides */
		if (fd == -1 || fstat(fd, &st) == -1) {
			append(w.where, sizeof(w.where), comp);
			walk_problem(&w, EX_NOINPUT, w.where, "%s",
			    strerror(errno));
			goto out;
		}
		if (S_ISLNK(st.st_mode)) {
			if (follow_link(&w, fd, &st, comp) == -1)
				goto out;
		} else if (S_ISDIR(st.st_mode) && !last) {
			if (enter_dir(&w, fd, &st, comp) == -1) {
				fd = -1;
				goto out;
			}
			fd = -1;
			continue;
		} else if (last)
			break;
		else {
			append(w.where, sizeof(w.where), comp);
			walk_problem(&w, EX_NOINPUT, w.where, "not a directory"
			    );
			goto out;
		}
		close(fd);
		fd = -1;
	}
	if (fstat(w.dirfd, &st) == -1) {
		walk_problem(&w, EX_IOERR, w.where, "cannot stat: %s",
		    strerror(errno));
		goto out;
	}
	f->dir_dev = st.st_dev;
	f->dir_ino = st.st_ino;
	f->dirfd = w.dirfd;
	w.dirfd = -1;
	f->shared = w.shared;
	strlcpy(f->name, comp, sizeof(f->name));
	strlcpy(f->real, w.where, sizeof(f->real));
	append(f->real, sizeof(f->real), comp);
	rc = 0;
out:
	if (fd != -1)
		close(fd);
	if (w.dirfd != -1)
		close(w.dirfd);
	return rc;
}

/* The final object must be a lone regular file we may trust. */
static int
check_file(struct file *f)
{
	const char	*what = NULL;

	if (S_ISDIR(f->st.st_mode))
		what = "is a directory";
	else if (S_ISFIFO(f->st.st_mode))
		what = "is a FIFO";
	else if (S_ISCHR(f->st.st_mode) || S_ISBLK(f->st.st_mode))
		what = "is a device";
	else if (S_ISSOCK(f->st.st_mode))
		what = "is a socket";
	else if (!S_ISREG(f->st.st_mode))
		what = "is not a regular file";
	if (what != NULL) {
		problem(EX_NOPERM, f->real, "%s, not a regular file"
		    FIX "replace it with a regular file", what);
		return -1;
	}
	if (f->st.st_nlink > 1) {
		problem(EX_NOPERM, f->real, "has %ju hard links; another name "
		    "could be used to read or swap it" FIX "make a private copy: "
		    "cp -p %s %s.new && mv %s.new %s",
		    (uintmax_t)f->st.st_nlink, f->real, f->real, f->real,
		    f->real);
		return -1;
	}
	if (f->shared && f->st.st_uid != 0) {
		problem(EX_NOPERM, f->real, "owned by %s in a shared "
		    "directory; anyone could have put it there" FIX "move it to a "
		    "directory owned by root", user_name(f->st.st_uid));
		return -1;
	}
	return 0;
}

/*
 * The walk, saying nothing, and the file's identity only (O_PATH: nothing
 * is opened for reading): 0 when both worked, or the name is absent.
 */
static int
walk_quietly(struct file *f, const char *path)
{
	f->path = xstrdup(path);
	if (resolve(f, path, 1) == -1)
		return -1;
	if ((f->fd = openat(f->dirfd, f->name, O_PATH | O_NOFOLLOW |
	    O_CLOEXEC)) == -1)
		return errno == ENOENT ? 0 : -1;
	return fstat(f->fd, &f->st);
}

/*
 * What a name leads to: a file (device, inode) or an absent name in a
 * directory (its device, inode, the name).  Remembered for the run from
 * every walk (file_open, or a quiet one for path_same): settings and
 * main.cf name the same files again and again.  Forgotten whenever this
 * run renames a file into place (write.c).
 */
struct ident {
	char	*path;
	int	 ok, present;
	dev_t	 dev, ddev;
	ino_t	 ino, dino;
	char	 name[NAME_MAX + 1];
};
#define MAX_IDENTS	64
static struct ident	 idents[MAX_IDENTS];
static size_t		 nidents;

static struct ident *
ident_find(const char *path)
{
	size_t	i;

	for (i = 0; i < nidents && i < MAX_IDENTS; i++)
		if (!strcmp(idents[i].path, path))
			return &idents[i];
	return NULL;
}

/* PATH walked to F (OK), remembered in place of what was before. */
static struct ident *
ident_note(const char *path, const struct file *f, int ok)
{
	struct ident	*id;

	if ((id = ident_find(path)) == NULL)
		id = &idents[nidents++ % MAX_IDENTS];
	free(id->path);
	memset(id, 0, sizeof(*id));
	id->path = xstrdup(path);
	if ((id->ok = ok)) {
		id->present = f->fd != -1;
		id->dev = f->st.st_dev;
		id->ino = f->st.st_ino;
		id->ddev = f->dir_dev;
		id->dino = f->dir_ino;
		strlcpy(id->name, f->name, sizeof(id->name));
	}
	return id;
}

void
idents_forget(void)
{
	size_t	i;

	for (i = 0; i < MAX_IDENTS; i++)
		free(idents[i].path);
	memset(idents, 0, sizeof(idents));
	nidents = 0;
}

static const struct ident *
ident_of(const char *path)
{
	const struct ident	*id;
	struct file		 f;

	if ((id = ident_find(path)) != NULL)
		return id;
	file_init(&f);
	id = ident_note(path, &f, walk_quietly(&f, path) == 0);
	file_close(&f);
	return id;
}

int
file_open(struct file *f, const char *path, int may_be_absent)
{
	int	flags = O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY |
		    O_CLOEXEC;

	if ((f->path = strdup(path)) == NULL) {
		problem(EX_OSERR, NULL, "out of memory");
		return -1;
	}
	if (resolve(f, path, 0) == -1)
		return -1;
	/* O_NOFOLLOW: a name swapped for a link since resolve() fails here. */
	if ((f->fd = openat(f->dirfd, f->name, flags)) == -1) {
		if (errno == ENOENT && may_be_absent) {
			ident_note(path, f, 1);
			return 0;
		}
		if (errno == ELOOP)
			problem(EX_NOPERM, f->real, "became a symbolic link "
			    "while being checked; refusing it" FIX "is someone "
			    "changing this directory?");
		else if (errno == ENOENT)
			problem(EX_NOINPUT, f->real, "%s" FIX "check the file "
			    "name in main.cf or " DEFAULT_CONF, strerror(errno));
		else
			problem(EX_NOINPUT, f->real, "%s", strerror(errno));
		return -1;
	}
	if (fstat(f->fd, &f->st) == -1) {
		problem(EX_IOERR, f->real, "cannot stat: %s", strerror(errno));
		return -1;
	}
	if (check_file(f) == -1)
		return -1;	/* logged */
	ident_note(path, f, 1);
	return 0;
}

/*
 * A directory of root's alone (root-owned, no access for anyone else),
 * made 0700 if absent and CREATE: walked like every file (file_open), then
 * made and opened relative to its checked parent without following a
 * link, and checked through its descriptor.  Its one user, the postconf
 * cache, does without it when it is unsafe: nothing is reported, the
 * reason is said under -v.  The descriptor, or -1.
 */
int
dir_open(const char *path, int create)
{
	struct file	 f;
	struct stat	 st;
	char		 name[PATH_MAX];
	size_t		 len;
	int		 fd = -1;

	file_init(&f);
	len = strlcpy(name, path, sizeof(name));
	while (len > 1 && name[len - 1] == '/')	/* as a file's name */
		name[--len] = '\0';
	if (len >= sizeof(name) || resolve(&f, name, 1) == -1)
		goto out;
	if (create && mkdirat(f.dirfd, f.name, 0700) == -1 && errno != EEXIST) {
		debug("%s: cannot make the directory: %s", f.real,
		    strerror(errno));
		goto out;
	}
	if ((fd = openat(f.dirfd, f.name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
	    O_CLOEXEC)) == -1 || fstat(fd, &st) == -1) {
		debug("%s: %s", f.real, strerror(errno));
		goto out;
	}
	if (st.st_uid != 0 || (st.st_mode & 077) != 0) {
		debug("%s: not root's alone (owner %s, mode %04o)", f.real,
		    user_name(st.st_uid), (unsigned)(st.st_mode & 07777));
		close(fd);
		fd = -1;
	}
out:
	file_close(&f);
	return fd;
}

int
file_read(struct file *f, unsigned char **bufp, size_t *lenp)
{
	unsigned char	*buf;
	size_t		 len = 0, size = f->st.st_size;
	ssize_t		 r;

	if (f->st.st_size > MAX_FILE_SIZE) {
		problem(EX_DATAERR, f->real, "file is %jd bytes, more than the "
		    "limit of %d bytes" FIX "is it the right file?",
		    (intmax_t)f->st.st_size, MAX_FILE_SIZE);
		return -1;
	}
	if ((buf = malloc(size + 1)) == NULL) {
		problem(EX_OSERR, NULL, "out of memory");
		return -1;
	}
	while (len < size) {
		r = pread(f->fd, buf + len, size - len, len);
		if (r == -1 && errno == EINTR)
			continue;
		if (r == -1) {
			problem(EX_IOERR, f->real, "cannot read: %s",
			    strerror(errno));
			freezero(buf, size + 1);
			return -1;
		}
		if (r == 0)
			break;
		len += r;
	}
	buf[len] = '\0';
	*bufp = buf;
	*lenp = len;
	return 0;
}

/* The SHA-256 of BUF in hex: what was checked, to know it again. */
int
file_digest(const unsigned char *buf, size_t len, char hex[65])
{
	unsigned char	d[EVP_MAX_MD_SIZE];
	unsigned int	n = 0, i;

	if (!EVP_Digest(buf, len, d, &n, EVP_sha256(), NULL) || n != 32)
		return -1;
	for (i = 0; i < n; i++)
		snprintf(hex + 2 * i, 3, "%02x", d[i]);
	return 0;
}

/*
 * A run-state file's name for a configuration directory: PREFIX and the
 * first 16 hex digits of the SHA-256 of CONFDIR (the postconf cache's,
 * the renewal record's).
 */
void
state_file_name(const char *prefix, const char *confdir, char *name,
    size_t size)
{
	char	hex[65] = "";

	(void)file_digest((const unsigned char *)confdir, strlen(confdir), hex);
	snprintf(name, size, "%s%.16s", prefix, hex);
}

/*
 * A small run-state file in DIRFD, read only when it is root's alone, one
 * regular file of one link and shorter than SIZE: its text in BUF
 * (NUL-terminated), 0; -1 when there is none usable.
 */
int
state_file_read(int dirfd, const char *name, char *buf, size_t size)
{
	struct stat	st;
	ssize_t		r = -1;
	int		fd;

	if ((fd = openat(dirfd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK |
	    O_CLOEXEC)) == -1)
		return -1;
	if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_nlink == 1 &&
	    st.st_uid == 0 && (st.st_mode & 077) == 0 &&
	    st.st_size < (off_t)size)
		r = read(fd, buf, size - 1);
	close(fd);
	if (r < 0)
		return -1;
	buf[r] = '\0';
	return 0;
}

/*
 * PATH as an absolute name (the working directory in front of a relative
 * one, a leading "./" dropped), in BUF; PATH itself if it cannot be.  For
 * fixes to paste into main.cf, and to compare names of absent files.
 */
const char *
path_absolute(const char *path, char buf[PATH_MAX])
{
	char	cwd[PATH_MAX];

	if (*path == '/' || getcwd(cwd, sizeof(cwd)) == NULL)
		return path;
	while (path[0] == '.' && path[1] == '/')
		path += 2 + strspn(path + 2, "/");
	if (snprintf(buf, PATH_MAX, "%s%s%s", cwd, strcmp(cwd, "/") ? "/" :
	    "", path) >= PATH_MAX)
		return path;
	return buf;
}

/*
 * Do two walked names lead to one file?  By what the walk opened: the
 * file's device and inode, or for a name that does not exist yet, its
 * directory's and its name.  Never by name alone: a link through a
 * directory someone else owns was refused by the walk already.
 */
int
file_same(const struct file *a, const struct file *b)
{
	if (a->dirfd == -1 || b->dirfd == -1)
		return 0;
	if (a->fd != -1 && b->fd != -1)
		return a->st.st_dev == b->st.st_dev &&
		    a->st.st_ino == b->st.st_ino;
	return a->fd == -1 && b->fd == -1 && a->dir_dev == b->dir_dev &&
	    a->dir_ino == b->dir_ino && !strcmp(a->name, b->name);
}

/*
 * Do two names (from settings and main.cf) lead to one file?  1 for the
 * same absolute name, or the same file by a walk of each; 0 when not; -1
 * (logged) when a name cannot be walked safely: it leads nowhere root
 * may go, whatever file it ends at.
 */
int
path_same(const char *a, const char *b)
{
	struct ident		 x;
	const struct ident	*y;
	struct file		 f;
	char			 abuf[PATH_MAX], bbuf[PATH_MAX];
	int			 r;

	if (a == NULL || b == NULL || *a == '\0' || *b == '\0')
		return 0;
	if (!strcmp(path_absolute(a, abuf), path_absolute(b, bbuf)))
		return 1;
	/*
	 * A's by value: B's walk may take the memo's oldest entry, A's
	 * (then both would be B, "the same file").  Its name is not kept.
	 */
	x = *ident_of(a);
	x.path = NULL;
	y = ident_of(b);
	if (!x.ok || !y->ok) {
		file_init(&f);
		r = file_open(&f, x.ok ? b : a, 1);	/* says why */
		file_close(&f);
		return r == 0 ? 0 : -1;
	}
	if (x.present != y->present)
		return 0;
	if (x.present)
		return x.dev == y->dev && x.ino == y->ino;
	return x.ddev == y->ddev && x.dino == y->dino &&
	    !strcmp(x.name, y->name);
}

/*
 * Does F still hold BUF (what was checked)?  Read again through the
 * descriptor that was checked: 1 yes, 0 no, -1 (logged) when unreadable.
 */
int
file_unchanged(struct file *f, const unsigned char *buf, size_t len)
{
	struct stat	 st;
	unsigned char	*now = NULL;
	size_t		 nowlen = 0;
	int		 same;

	if (fstat(f->fd, &st) == -1) {
		problem(EX_IOERR, f->real, "cannot stat: %s", strerror(errno));
		return -1;
	}
	f->st = st;
	if (file_read(f, &now, &nowlen) == -1)
		return -1;	/* logged */
	same = nowlen == len && memcmp(now, buf, len) == 0;
	freezero(now, nowlen + 1);
	return same;
}

int
file_private(const struct file *f)
{
	return f->fd != -1 && f->st.st_uid == 0 && f->st.st_gid == 0 &&
	    (f->st.st_mode & 07777) == 0600;
}

/* Right before the copy takes the name: does the file still hold it? */
struct still {
	struct file		*f;
	const unsigned char	*buf;
	size_t			 len;
	int			 changed;
};

static int
still_checked(void *arg, const char **step)
{
	struct still	*s = arg;
	int		 r = file_unchanged(s->f, s->buf, s->len);

	if (r == 1)
		return 0;
	s->changed = r == 0;
	*step = "it changed while it was being checked";
	errno = EAGAIN;
	return -1;
}

/*
 * Root's alone, and no one else's descriptor to it: a file someone else
 * owned (or could write) may still be open for writing by them, and a
 * chown in place would hand root a file they can rewrite.  So the bytes
 * that were checked go into a new root:root 0600 file, renamed over the
 * name (write.c); the old inode is left to whoever holds it.  Right
 * before the rename the file is read again: one its owner rewrote since
 * the check is refused, not overwritten.
 */
int
file_make_private(struct file *f, const unsigned char *buf, size_t len,
    int apply)
{
	struct still	 still = { f, buf, len, 0 };
	const char	*step;
	struct stat	 st;

	if (file_private(f))
		return 0;
	if (!apply) {
		note("would replace %s with a root:root 0600 copy of what was "
		    "checked (it is %u:%u %04o)", f->real,
		    (unsigned)f->st.st_uid, (unsigned)f->st.st_gid,
		    (unsigned)(f->st.st_mode & 07777));
		return 0;
	}
	if (write_replace_if(f->dirfd, f->name, buf, len, &step, still_checked,
	    &still) == -1) {
		if (still.changed)
			problem(EX_NOPERM, f->real, "changed while it was being "
			    "checked (by its owner?), so it was left as it is"
			    FIX "find out who writes it, then run again");
		else if (strcmp(step, "it changed while it was being checked"))
			problem(EX_IOERR, f->real, "cannot make it root's alone: "
			    "%s: %s%s", step, strerror(errno), strcmp(step,
			    "cannot flush its directory to disk") ? " (the file "
			    "is unchanged)" : "");
		return -1;	/* logged */
	}
	note("replaced %s with a root:root 0600 copy of what was checked (it "
	    "was %u:%u %04o)", f->real, (unsigned)f->st.st_uid,
	    (unsigned)f->st.st_gid, (unsigned)(f->st.st_mode & 07777));
	/* The name is the new file now: look at it through a new descriptor. */
	if (f->fd != -1)
		close(f->fd);
	f->fd = openat(f->dirfd, f->name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK |
	    O_CLOEXEC);
	if (f->fd == -1 || fstat(f->fd, &st) == -1 || !S_ISREG(st.st_mode) ||
	    st.st_uid != 0 || (st.st_mode & 07777) != 0600 ||
	    st.st_nlink != 1) {
		problem(EX_NOPERM, f->real, "is not root's alone right after "
		    "being replaced: something else changed it meanwhile"
		    FIX "find out what, then run again");
		return -1;	/* logged */
	}
	f->st = st;
	return 0;
}

void
file_close(struct file *f)
{
	if (f->fd != -1)
		close(f->fd);
	if (f->dirfd != -1)
		close(f->dirfd);
	free(f->path);
	file_init(f);
}
