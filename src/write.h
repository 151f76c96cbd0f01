/* write.c: the one way a file is written. */
#ifndef WRITE_H
#define WRITE_H

#include <limits.h>
#include <stddef.h>

struct file;

/* BUF as F's new content: a temporary beside it, renamed over it. */
int	write_atomic(struct file *, const unsigned char *buf, size_t len);
int	write_temp(int dirfd, const char *name, const unsigned char *buf,
	    size_t len, char tmp[NAME_MAX + 1], const char **step);
int	write_replace(int dirfd, const char *name, const unsigned char *buf,
	    size_t len, const char **step);
/* The same, asking LAST right before the rename (-1: keep the old). */
int	write_replace_if(int dirfd, const char *name,
	    const unsigned char *buf, size_t len, const char **step,
	    int (*last)(void *, const char **), void *arg);
/* All of BUF to FD (a pipe, a file), retried on EINTR: 0, or -1. */
int	write_all(int fd, const void *buf, size_t len);
/* Temporaries a killed run left beside F removed (deploy only). */
int	write_cleanup(struct file *, int apply);

#endif /* WRITE_H */
