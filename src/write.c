/*
 * The one way this program writes a file: a temporary in the same
 * directory, created 0600 under umask 077 and owned by root before a byte
 * is written; write, fsync, rename over the real name, fsync the
 * directory.  A reader (a fresh smtpd) sees the old file or the whole new
 * one, never half of it, and a crash at any point leaves one of the two.
 */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <unistd.h>

#include "common.h"
#include "finding.h"
#include "secure.h"
#include "write.h"

#define TMP_TRIES	16

#define TMP_SUFFIX	8		/* hex digits after ".NAME." */

/* ".NAME." (NAME shortened so that the whole fits NAME_MAX). */
static void
temp_prefix(const char *name, char *buf, size_t size)
{
	snprintf(buf, size, ".%.*s.", NAME_MAX - TMP_SUFFIX - 2, name);
}

/* ".NAME.XXXXXXXX" beside NAME, opened O_EXCL: never an existing file. */
static int
create_temp(int dirfd, const char *name, char *tmp, size_t size)
{
	unsigned char	rnd[TMP_SUFFIX / 2];
	char		prefix[NAME_MAX - TMP_SUFFIX + 1];
	mode_t		old;
	int		fd = -1, i;

	temp_prefix(name, prefix, sizeof(prefix));
	old = umask(077);
	for (i = 0; i < TMP_TRIES; i++) {
		arc4random_buf(rnd, sizeof(rnd));
		snprintf(tmp, size, "%s%02x%02x%02x%02x", prefix, rnd[0],
		    rnd[1], rnd[2], rnd[3]);
		fd = openat(dirfd, tmp, O_WRONLY | O_CREAT | O_EXCL |
		    O_NOFOLLOW | O_CLOEXEC, 0600);
		if (fd != -1 || errno != EEXIST)
			break;
	}
	umask(old);
	return fd;
}

int
write_all(int fd, const void *buf, size_t len)
{
	const unsigned char	*p = buf;
	ssize_t			 w;

	while (len > 0) {
		if ((w = write(fd, p, len)) == -1) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		p += w;
		len -= w;
	}
	return 0;
}

/*
 * A private copy of BUF beside NAME, complete and on disk: created 0600
 * under umask 077, made root:root before a byte is written, flushed.  Its
 * name in TMP; TMP is "" unless the file exists, and then the caller
 * removes it on failure (it decides what else to do with it: rename it
 * into place, or hand it to postmap).  On failure *step says which step
 * failed, errno why.
 */
int
write_temp(int dirfd, const char *name, const unsigned char *buf,
    size_t len, char tmp[NAME_MAX + 1], const char **step)
{
	int	fd, rc = -1, saved;

	tmp[0] = '\0';
	*step = "cannot create a temporary file beside it";
	if ((fd = create_temp(dirfd, name, tmp, NAME_MAX + 1)) == -1) {
		tmp[0] = '\0';
		return -1;
	}
	*step = "cannot make the new file root:root 0600";
	if (fchown(fd, 0, 0) == -1 || fchmod(fd, 0600) == -1)
		goto out;
	*step = "cannot write the new file";
	if (write_all(fd, buf, len) == -1)
		goto out;
	*step = "cannot flush the new file to disk";
	if (fsync(fd) == -1)
		goto out;
	*step = "cannot close the new file";
	if (close(fd) == -1) {
		fd = -1;
		goto out;
	}
	fd = -1;
	rc = 0;
out:
	saved = errno;
	if (fd != -1)
		close(fd);
	errno = saved;
	return rc;
}

/*
 * Replace NAME in DIRFD by BUF.  On failure *step says which step failed
 * (errno is its reason); up to the rename the old file is untouched.
 * LAST, when given, is asked once the new file is complete, right before
 * the rename: -1 (with *step and errno set) keeps the old file.
 */
int
write_replace(int dirfd, const char *name, const unsigned char *buf,
    size_t len, const char **step)
{
	return write_replace_if(dirfd, name, buf, len, step, NULL, NULL);
}

int
write_replace_if(int dirfd, const char *name, const unsigned char *buf,
    size_t len, const char **step, int (*last)(void *, const char **),
    void *arg)
{
	char	tmp[NAME_MAX + 1] = "";
	int	dfd = -1, rc = -1, saved;

	*step = "cannot open its directory";
	if ((dfd = openat(dirfd, ".", O_RDONLY | O_DIRECTORY |
	    O_CLOEXEC)) == -1)
		goto out;
	if (write_temp(dirfd, name, buf, len, tmp, step) == -1)
		goto out;
	if (last != NULL && last(arg, step) == -1)
		goto out;
	*step = "cannot rename the new file into place";
	if (renameat(dirfd, tmp, dirfd, name) == -1)
		goto out;
	tmp[0] = '\0';
	idents_forget();	/* NAME leads to another file now */
	*step = "cannot flush its directory to disk";
	if (fsync(dfd) == -1)
		goto out;
	rc = 0;
out:
	saved = errno;
	if (tmp[0] != '\0')
		unlinkat(dirfd, tmp, 0);
	if (dfd != -1)
		close(dfd);
	errno = saved;
	return rc;
}

int
write_atomic(struct file *f, const unsigned char *buf, size_t len)
{
	const char	*step;

	if (write_replace(f->dirfd, f->name, buf, len, &step) == 0)
		return 0;
	/* Up to the rename the old file is untouched. */
	problem(EX_IOERR, f->real, "%s: %s%s", step, strerror(errno),
	    strcmp(step, "cannot flush its directory to disk") ?
	    " (the previous file is unchanged)" : "");
	return -1;
}

static int
is_our_temp(const char *entry, const char *prefix)
{
	size_t	n = strlen(prefix), i;

	if (strncmp(entry, prefix, n) || strlen(entry + n) != TMP_SUFFIX)
		return 0;
	for (i = n; entry[i] != '\0'; i++)
		if (!isxdigit((unsigned char)entry[i]) ||
		    isupper((unsigned char)entry[i]))
			return 0;
	return 1;
}

/*
 * Our temporary, or a file postmap made of one when rebuilding an SNI
 * map (sni.c): ".NAME.XXXXXXXX.db" (hash, btree), ".lmdb", ".cdb", cdb's
 * own ".cdb.tmp", and Berkeley DB's "__db." in front of the ".db" one.
 */
static int
is_ours(const char *entry, const char *prefix)
{
	static const char *const suffixes[] = {
		"", ".db", ".lmdb", ".cdb", ".cdb.tmp"
	};
	char	base[NAME_MAX + 1];
	size_t	i, n, s;

	if (!strncmp(entry, "__db.", 5))
		entry += 5;
	n = strlen(entry);
	for (i = 0; i < sizeof(suffixes) / sizeof(suffixes[0]); i++) {
		s = strlen(suffixes[i]);
		if (n <= s || n - s >= sizeof(base) ||
		    strcmp(entry + n - s, suffixes[i]))
			continue;
		memcpy(base, entry, n - s);
		base[n - s] = '\0';
		if (is_our_temp(base, prefix))
			return 1;
	}
	return 0;
}

/*
 * A run killed between creating its temporary and renaming it leaves the
 * temporary behind: remove ours (exact name pattern, root's, a regular
 * file with one link) before writing again.
 */
int
write_cleanup(struct file *f, int apply)
{
	char		 prefix[NAME_MAX + 1];
	struct dirent	*de;
	struct stat	 st;
	DIR		*dir = NULL;
	int		 dfd, rc = 0;

	temp_prefix(f->name, prefix, sizeof(prefix));
	if ((dfd = openat(f->dirfd, ".", O_RDONLY | O_DIRECTORY |
	    O_CLOEXEC)) == -1 || (dir = fdopendir(dfd)) == NULL) {
		if (dfd != -1)
			close(dfd);
		return 0;	/* nothing to clean that we could see */
	}
	while ((de = readdir(dir)) != NULL) {
		if (!is_ours(de->d_name, prefix) ||
		    fstatat(dfd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) == -1 ||
		    !S_ISREG(st.st_mode) || st.st_uid != 0 || st.st_nlink != 1)
			continue;
		if (!apply)
			note("would remove %s, left by an interrupted run",
			    de->d_name);
		else if (unlinkat(dfd, de->d_name, 0) == -1) {
			problem(EX_IOERR, f->real, "cannot remove %s, left by "
			    "an interrupted run: %s", de->d_name,
			    strerror(errno));
			rc = -1;
		} else
			note("removed %s, left by an interrupted run",
			    de->d_name);
	}
	closedir(dir);
	return rc;
}
