/*
 * postfix-tls-setup: what every module shares: the program's name and
 * paths, the documented limits, the one way to get memory and the one
 * way to cut a Postfix list (util.c).
 */
#ifndef COMMON_H
#define COMMON_H

#include <sys/types.h>

#include <limits.h>
#include <stddef.h>

#define PROG		"postfix-tls-setup"
#ifndef VERSION
#define VERSION		"0.0.0"
#endif
#ifndef POSTCONF_PATH
#define POSTCONF_PATH	"/usr/sbin/postconf"
#endif
#ifndef POSTMAP_PATH
#define POSTMAP_PATH	"/usr/sbin/postmap"
#endif
#ifndef SYSCONFDIR
#define SYSCONFDIR	"/etc"		/* a Gentoo Prefix: EPREFIX/etc */
#endif
#define DEFAULT_CONF	SYSCONFDIR "/conf.d/postfix-tls-setup"
#define DEFAULT_CONFDIR	SYSCONFDIR "/postfix"

/* Documented limits (see the man page): beyond them the helper refuses. */
#define MAX_FILE_SIZE	(8 * 1024 * 1024)	/* bytes per input file */
#define MAX_CERTS	4096			/* certificates per run */
#define MAX_CHAIN_LEN	16			/* leaf + issuers in the bundle */
#define MAX_INPUTS	64			/* chain files per run */
#define MAX_SYMLINKS	32			/* links followed per path */
#define MAX_SETS	4			/* bundles deployed per run */

/*
 * Memory (util.c): out of memory, the run ends at once with EX_OSERR
 * (UNKNOWN for --nagios), having written nothing it had not finished:
 * every write is a rename of a complete file.
 */
void	*xmalloc(size_t);
void	*xcalloc(size_t, size_t);
void	*xreallocarray(void *, size_t, size_t);
char	*xstrdup(const char *);
char	*xstrndup(const char *, size_t);
char	*xasprintf(const char *, ...) __attribute__((format(printf, 1, 2)));
void	 oom_handler(void (*)(void));
void	 oom(void) __attribute__((noreturn));
/*
 * Descriptors 0, 1 and 2 open (on /dev/null when the caller closed one),
 * so no file this run opens takes their place: a child's output would go
 * where its standard input is put.
 */
void	 std_fds_open(void);

/*
 * A Postfix list (Postfix's mystrtok with CHARS_COMMA_SP): the next
 * element after *cursor, its length in *len, *cursor moved past it; NULL
 * at the end.  With PLIST_BRACES, braces group (mystrtokq: inline:{...});
 * an unbalanced brace ends the list with *len = 0 and *unbalanced set.
 */
#define PLIST_SEP	", \t\r\n"
#define PLIST_PLAIN	0
#define PLIST_BRACES	1
const char *plist_next(const char **cursor, size_t *len, int flags,
	    int *unbalanced);
/* The Nth element (from 1) into BUF; 0, or -1 when absent or too long. */
int	 plist_nth(const char *list, size_t n, char *buf, size_t size);

/* Yes in Postfix's sense (its boolean parameters): "yes", any case. */
int	 pf_yes(const char *);

#endif /* COMMON_H */
