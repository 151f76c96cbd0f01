/*
 * child.c: the programs this helper runs (postconf, postmap), each with
 * no shell, its output in a memory file, and under a deadline: past it
 * the child is killed, so no file it was made to read (a FIFO swapped in
 * behind a checked name) can hold a start forever.
 */
#ifndef CHILD_H
#define CHILD_H

#include <sys/types.h>

struct child {
	pid_t	pid;		/* -1 once reaped */
	int	out, err;	/* memory files: stdout, stderr (may be one) */
};

/*
 * Start PATH with ARGV and ENVP (NULL: ours), stdin /dev/null, stdout and
 * stderr in memory files (one when MERGE), in directory DIRFD (-1: ours),
 * under UMASK.
 * 0, an errno when it could not be run, or minus one when its output
 * could not be kept (no memory file: a system error).
 */
int	child_start(struct child *, const char *path, char *const argv[],
	    char *const envp[], int merge, int dirfd, mode_t umask);
/*
 * Wait for it until DEADLINE (CLOCK_MONOTONIC milliseconds); past it, kill
 * it.  Its wait status in *status; 0, or -1 when it was killed.
 */
int	child_wait(struct child *, long long deadline, int *status);
/* The first line it wrote (stderr, or the merged output), for a message. */
void	child_said(const struct child *, char *buf, size_t size);
void	child_close(struct child *);
long long now_ms(void);

#endif /* CHILD_H */
