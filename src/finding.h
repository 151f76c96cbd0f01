/*
 * finding.c: what a run found, as records.  A finding is {severity, exit
 * status, identity, file, text, fix}; an identity listed is the facts of
 * one chain served (check's chain view, check --json).  Every stage
 * adds to the one run-wide list in the order it works and says its
 * verdict by its return value; the exit status, the order, the removal
 * of repeats and every rendering (render.c) come from the list.
 *
 * A message's format names its fix after FIX:
 *	problem(EX_DATAERR, path, "private key is protected by a passphrase"
 *	    FIX "remove it: openssl pkey -in %s -out %s", path, path);
 * is rendered "PATH: private key is ... passphrase (remove it: ...)".
 */
#ifndef FINDING_H
#define FINDING_H

#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>

#define FIX		"\036"	/* in a format: the fix follows */

#define FND_NOTE	0	/* what was, or would be, changed: stdout */
#define FND_WARNING	1
#define FND_PROBLEM	2

struct finding {
	int	 severity;	/* FND_* */
	int	 ex;		/* a problem's exit status, else 0 */
	char	*identity;	/* what Postfix loads it as, or NULL */
	char	*file;		/* or NULL */
	char	*text;
	char	*fix;		/* or NULL */
};

/* An identity served, with its leaf's facts (check --json). */
struct listing {
	char		*name, *file, *key;
	char		*subject, *issuer, *not_after, *key_type, *sig_alg;
	char		**names;
	size_t		  nnames;
	long long	  days_left, key_bits, chain_len;
	long long	  lifetime, secs_left;	/* seconds; lifetime 0: unread */
	char		 *dane;		/* its DANE verdict, or NULL */
	int		  dane_validated;
};

void	findings_init(int verbose);
int	verbose(void);

void	problem(int ex, const char *file, const char *fmt, ...)
	    __attribute__((format(printf, 3, 4)));
void	warning(const char *file, const char *fmt, ...)
	    __attribute__((format(printf, 2, 3)));
void	note(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void	crypto_problem(int ex, const char *file, const char *what);
void	vproblem(int ex, const char *file, const char *fmt, va_list);
void	vwarning(const char *file, const char *fmt, va_list);
/* A problem said only under -v (a file the run can do without). */
void	vdebug(const char *file, const char *fmt, va_list);
void	debug(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/*
 * The list's length now: findings said from here on can be attributed to
 * the identity being read (findings_attribute), or dropped (a second
 * reading of files judged before), or taken out to be put back later in
 * their turn (work done ahead of its turn, findings_take/_put).
 */
size_t	findings_mark(void);
void	findings_attribute(size_t from, const char *identity);
void	findings_drop(size_t from);
struct findings *findings_take(size_t from);
void	findings_put(struct findings *);

/* An identity listed, and later its DANE verdict. */
void	listing_add(const struct listing *);
void	listing_dane(const char *identity, const char *verdict, int validated);

/*
 * A worker process's findings and listings since MARK, written to F; the
 * parent reads them back in their turn (-1: garbled).
 */
int	findings_export(FILE *, size_t mark, size_t listing_mark);
size_t	listings_mark(void);
int	findings_import(const char *text, size_t len);

/* The run's verdict: the first problem's exit status, or 0. */
int	findings_status(void);
const struct finding *findings_all(size_t *n);
const struct listing *listings_all(size_t *n);
void	findings_free(void);

#endif /* FINDING_H */
