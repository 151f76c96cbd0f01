/*
 * secure.c: safe paths, ownership and mode, through descriptors.  Every
 * name is walked from / one component at a time (openat O_NOFOLLOW), and
 * every directory on the way must be root's and writable by no one else,
 * or a root-owned sticky directory where only root's entries count.
 */
#ifndef SECURE_H
#define SECURE_H

#include <sys/stat.h>
#include <sys/types.h>

#include <limits.h>
#include <stddef.h>

struct file {
	char		*path;		/* as the admin named it */
	int		 dirfd;		/* checked directory holding it */
	char		 name[NAME_MAX + 1];	/* final name in dirfd */
	char		 real[PATH_MAX];	/* resolved path, for messages */
	int		 shared;	/* dirfd is a sticky shared dir */
	int		 fd;		/* the file itself, -1 if absent */
	struct stat	 st;
	dev_t		 dir_dev;	/* dirfd's, to know an absent file */
	ino_t		 dir_ino;
};

void	file_init(struct file *);
/* Walk PATH safely and open it; 0, or -1 (logged).  Absent: fd -1. */
int	file_open(struct file *, const char *path, int may_be_absent);
int	dir_open(const char *path, int create);
int	file_read(struct file *, unsigned char **buf, size_t *len);
/* Do two walked names lead to one file (or one absent name)? */
int	file_same(const struct file *, const struct file *);
/* Do two names lead to one file (walked, never by stat)?  -1: unsafe. */
int	path_same(const char *, const char *);
/* Forget what names led to: a file was renamed into place (write.c). */
void	idents_forget(void);
/* Does it still hold BUF?  1 yes, 0 no, -1 (logged) unreadable. */
int	file_unchanged(struct file *, const unsigned char *buf, size_t len);
/* Is it root:root 0600 already? */
int	file_private(const struct file *);
/*
 * Make F root's alone: when it is not root:root 0600 already, a new
 * root:root 0600 file holding BUF (the bytes that were checked) is
 * renamed over its name, so no one keeps a descriptor to what root then
 * reads.  check (!apply) says what deploy would do.
 */
int	file_make_private(struct file *, const unsigned char *buf, size_t len,
	    int apply);
int	file_digest(const unsigned char *buf, size_t len, char hex[65]);
/* Root-only run-state files named for a configuration directory. */
void	state_file_name(const char *prefix, const char *confdir, char *name,
	    size_t size);
int	state_file_read(int dirfd, const char *name, char *buf, size_t size);
const char *user_name(uid_t uid);
const char *path_absolute(const char *path, char buf[PATH_MAX]);
void	file_close(struct file *);

#endif /* SECURE_H */
