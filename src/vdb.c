/*
 * Was the installed Postfix built with TLS?  Gentoo's answer is the USE
 * file of mail-mta/postfix in the installed-package database,
 * ${ROOT}/var/db/pkg/mail-mta/postfix-VERSION/USE: enabled flags,
 * space-separated, implicit ones included.
 *
 * Portage makes only directories and regular files there.  Everything
 * below ROOT is opened one name at a time without following a symbolic
 * link, and files without blocking: a link planted there is not followed
 * and a FIFO does not hang the start of Postfix; either is refused.
 */
#include <sys/stat.h>

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sysexits.h>
#include <unistd.h>

#include "common.h"
#include "finding.h"
#include "secure.h"
#include "vdb.h"

#define MAX_USE		65536
#define SSL_FIX		"echo 'mail-mta/postfix ssl' >> " \
			"/etc/portage/package.use/postfix && " \
			"emerge --oneshot mail-mta/postfix"
#define REEMERGE	"re-emerge mail-mta/postfix"

/* "postfix-3.8.4-r1" is ours; "postfix-logwatch-1.0" or "-MERGING-..." not. */
static int
is_postfix_entry(const char *name)
{
	return !strncmp(name, "postfix-", 8) && isdigit((unsigned char)name[8]);
}

static int
has_token(char *text, const char *token)
{
	char	*word, *p = text;

	while ((word = strsep(&p, " \t\n")) != NULL)
		if (!strcmp(word, token))
			return 1;
	return 0;
}

/* What NAME in DIRFD is, for a refusal: "is a symbolic link", ... */
static const char *
what_is(int dirfd, const char *name)
{
	struct stat	st;

	if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) == -1)
		return strerror(errno);
	if (S_ISLNK(st.st_mode))
		return "is a symbolic link";
	if (S_ISDIR(st.st_mode))
		return "is a directory";
	if (S_ISFIFO(st.st_mode))
		return "is a FIFO";
	if (S_ISCHR(st.st_mode) || S_ISBLK(st.st_mode))
		return "is a device";
	if (S_ISSOCK(st.st_mode))
		return "is a socket";
	return "is a regular file";
}

/*
 * Open NAME in DIRFD as a directory, not following a link.  -1 with errno
 * ENOENT when absent; -1 after reporting anything else (DISPLAY names it).
 */
static int
open_dir(int dirfd, const char *name, const char *display)
{
	int	fd, saved;

	fd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
	    O_NONBLOCK | O_CLOEXEC);
	if (fd != -1 || errno == ENOENT)
		return fd;
	saved = errno;
	if (saved == ENOTDIR || saved == ELOOP)
		problem(EX_NOPERM, display, "%s, not a directory; Portage never "
		    "makes one there" FIX "%s", what_is(dirfd, name), REEMERGE);
	else
		problem(EX_NOINPUT, display, "cannot read Gentoo's package "
		    "database: %s", strerror(saved));
	errno = saved;
	return -1;	/* logged */
}

/* 1: ssl enabled, 0: not, -1: unreadable or not Portage's (reported). */
static int
entry_has_ssl(int catfd, const char *entry, const char *catpath)
{
	char		 use[MAX_USE + 1], path[PATH_MAX];
	struct stat	 st;
	size_t		 len = 0;
	ssize_t		 r = 0;
	int		 entfd, fd = -1, rc = -1;

	snprintf(path, sizeof(path), "%s/%s", catpath, entry);
	if ((entfd = open_dir(catfd, entry, path)) == -1) {
		if (errno == ENOENT)	/* gone since readdir */
			problem(EX_NOINPUT, path, "cannot read Gentoo's record "
			    "of the installed Postfix: %s" FIX "is emerge running? "
			    "try again when it is done", strerror(errno));
		return -1;	/* logged */
	}
	strlcat(path, "/USE", sizeof(path));
	if ((fd = openat(entfd, "USE", O_RDONLY | O_NOFOLLOW | O_NONBLOCK |
	    O_NOCTTY | O_CLOEXEC)) == -1 && errno != ELOOP) {
		problem(EX_NOINPUT, path, "cannot read Gentoo's record of the "
		    "installed Postfix: %s (%s)", strerror(errno), REEMERGE);
		goto out;
	}
	if (fd == -1 || fstat(fd, &st) == -1 || !S_ISREG(st.st_mode)) {
		problem(EX_NOPERM, path, "%s, not a regular file; Portage never "
		    "makes one there" FIX "%s", what_is(entfd, "USE"), REEMERGE);
		goto out;
	}
	if (st.st_size > MAX_USE) {
		problem(EX_NOINPUT, path, "is %jd bytes, more than a USE file "
		    "can be" FIX "%s", (intmax_t)st.st_size, REEMERGE);
		goto out;
	}
	while (len < MAX_USE) {
		if ((r = read(fd, use + len, MAX_USE - len)) == -1 &&
		    errno == EINTR)
			continue;
		if (r <= 0)
			break;
		len += r;
	}
	if (r == -1) {
		problem(EX_NOINPUT, path, "cannot read: %s", strerror(errno));
		goto out;
	}
	use[len] = '\0';
	rc = has_token(use, "ssl");
out:
	if (fd != -1)
		close(fd);
	close(entfd);
	return rc;
}

/*
 * ROOT/var/db/pkg/mail-mta, one name at a time, no links.  -1 with errno
 * ENOENT when some part is absent (no Postfix installed); -1 after
 * reporting anything else.
 */
static int
open_category(const char *root, char *catpath, size_t size)
{
	static const char *const parts[] = { "var", "db", "pkg", "mail-mta" };
	size_t	 i, len = strlen(root);
	int	 fd, next;

	while (len > 1 && root[len - 1] == '/')
		len--;
	snprintf(catpath, size, "%.*s", (int)len, root);
	if ((fd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) == -1) {
		problem(EX_NOINPUT, root, "cannot open the root of Gentoo's "
		    "package database: %s" FIX "check --root", strerror(errno));
		return -1;	/* logged */
	}
	for (i = 0; i < sizeof(parts) / sizeof(parts[0]); i++) {
		if (strcmp(catpath, "/"))
			strlcat(catpath, "/", size);
		strlcat(catpath, parts[i], size);
		next = open_dir(fd, parts[i], catpath);
		close(fd);
		if ((fd = next) == -1)
			return -1;	/* logged, or ENOENT */
	}
	return fd;
}

int
vdb_check_ssl(const char *root)
{
	char		 catpath[PATH_MAX];
	struct dirent	*de;
	DIR		*dir = NULL;
	int		 catfd, found = 0, rc = -1, ssl;

	if ((catfd = open_category(root, catpath, sizeof(catpath))) == -1 &&
	    errno != ENOENT)
		goto out;	/* logged */
	if (catfd != -1 && (dir = fdopendir(catfd)) == NULL) {
		problem(EX_NOINPUT, catpath, "cannot read Gentoo's package "
		    "database: %s", strerror(errno));
		close(catfd);
		goto out;
	}
	while (dir != NULL && (de = readdir(dir)) != NULL) {
		if (!is_postfix_entry(de->d_name))
			continue;
		if ((ssl = entry_has_ssl(dirfd(dir), de->d_name,
		    catpath)) == -1)
			goto out;	/* logged */
		found++;
		if (!ssl) {
			problem(EX_UNAVAILABLE, catpath, "mail-mta/%s was "
			    "built without the ssl USE flag, so Postfix cannot "
			    "serve TLS" FIX "%s", de->d_name, SSL_FIX);
			goto out;
		}
		debug("mail-mta/%s has the ssl USE flag", de->d_name);
	}
	if (!found) {
		problem(EX_UNAVAILABLE, catpath, "Postfix is not installed"
		    FIX "no mail-mta/postfix in the package database; "
		    "emerge mail-mta/postfix with USE=ssl");
		goto out;
	}
	rc = 0;
out:
	if (dir != NULL)
		closedir(dir);
	return rc;
}
