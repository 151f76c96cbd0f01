/*
 * Was the installed Postfix built with TLS?  Gentoo's answer is the USE
 * file of mail-mta/postfix in the installed-package database,
 * ${ROOT}/var/db/pkg/mail-mta/postfix-VERSION/USE: enabled flags,
 * space-separated, implicit ones included.
 */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sysexits.h>
#include <unistd.h>

#include "extern.h"

#define MAX_USE		65536
#define SSL_FIX		"echo 'mail-mta/postfix ssl' >> " \
			"/etc/portage/package.use/postfix && " \
			"emerge --oneshot mail-mta/postfix"

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

/* 1: ssl enabled, 0: not, -1: unreadable (reported). */
static int
entry_has_ssl(int catfd, const char *entry, const char *catpath)
{
	char	 use[MAX_USE + 1], rel[NAME_MAX + 8], path[PATH_MAX];
	ssize_t	 r;
	int	 fd;

	snprintf(rel, sizeof(rel), "%s/USE", entry);
	snprintf(path, sizeof(path), "%s/%s", catpath, rel);
	if ((fd = openat(catfd, rel, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)) ==
	    -1) {
		problem(EX_NOINPUT, path, "cannot read Gentoo's record of the "
		    "installed Postfix: %s (re-emerge mail-mta/postfix)",
		    strerror(errno));
		return -1;
	}
	r = read(fd, use, MAX_USE);
	close(fd);
	if (r == -1) {
		problem(EX_NOINPUT, path, "cannot read: %s", strerror(errno));
		return -1;
	}
	use[r] = '\0';
	return has_token(use, "ssl");
}

int
vdb_check_ssl(const char *root)
{
	char		 catpath[PATH_MAX];
	struct dirent	*de;
	DIR		*dir = NULL;
	int		 found = 0, rc = -1, ssl;

	snprintf(catpath, sizeof(catpath), "%s%svar/db/pkg/mail-mta", root,
	    root[strlen(root) - 1] == '/' ? "" : "/");
	if ((dir = opendir(catpath)) == NULL && errno != ENOENT) {
		problem(EX_NOINPUT, catpath, "cannot read Gentoo's package "
		    "database: %s", strerror(errno));
		goto out;
	}
	while (dir != NULL && (de = readdir(dir)) != NULL) {
		if (!is_postfix_entry(de->d_name))
			continue;
		found++;
		if ((ssl = entry_has_ssl(dirfd(dir), de->d_name,
		    catpath)) == -1)
			goto out;
		if (!ssl) {
			problem(EX_UNAVAILABLE, catpath, "mail-mta/%s was "
			    "built without the ssl USE flag, so Postfix cannot "
			    "serve TLS (%s)", de->d_name, SSL_FIX);
			goto out;
		}
		debug("mail-mta/%s has the ssl USE flag", de->d_name);
	}
	if (!found) {
		problem(EX_UNAVAILABLE, catpath, "Postfix is not installed "
		    "(no mail-mta/postfix in the package database; "
		    "emerge mail-mta/postfix with USE=ssl)");
		goto out;
	}
	rc = 0;
out:
	if (dir != NULL)
		closedir(dir);
	return rc;
}
