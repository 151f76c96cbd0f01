/*
 * Messages.  A problem is one line "postfix-tls-setup: FILE: what is wrong
 * (how to fix it)" on stderr and in syslog (facility mail, where Postfix
 * logs too).  The first problem decides the exit status.
 */
#include <openssl/err.h>

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <syslog.h>

#include "extern.h"

static int	quiet, verbose_flag;
static int	nproblems, first_status;

/*
 * Held lines: work done ahead of its turn (the input files, read while
 * postconf runs) says what it found after the stages before it, so the
 * order of the lines, and the exit status, are those of a run in order.
 */
struct held {
	int	 prio, to_stderr, ex;	/* ex: a problem's status, else 0 */
	char	*line;
};
static struct held	*held;
static size_t		 nheld;
static int		 holding;

void
log_init(int q, int v)
{
	quiet = q;
	verbose_flag = v;
	openlog(PROG, LOG_PID, LOG_MAIL);
}

static void
say(int prio, int to_stderr, int ex, const char *line)
{
	if (ex != 0 && first_status == 0)
		first_status = ex;
	if (to_stderr)
		fprintf(stderr, "%s: %s\n", PROG, line);
	syslog(prio, "%s", line);
}

/* Say a line now, or keep it for log_release when holding. */
static void
emit(int prio, int to_stderr, int ex, const char *tag, const char *path,
    const char *fmt, va_list ap)
{
	char		 msg[2048], line[2560];
	struct held	*h;

	vsnprintf(msg, sizeof(msg), fmt, ap);
	snprintf(line, sizeof(line), "%s%s%s%s", tag, path ? path : "",
	    path ? ": " : "", msg);
	if (holding && (h = reallocarray(held, nheld + 1, sizeof(*held))) !=
	    NULL) {
		held = h;
		if ((h[nheld].line = strdup(line)) != NULL) {
			h[nheld].prio = prio;
			h[nheld].to_stderr = to_stderr;
			h[nheld++].ex = ex;
			return;
		}
	}
	say(prio, to_stderr, ex, line);	/* out of memory: now, not never */
}

void
log_hold(void)
{
	holding = 1;
}

/* Say what was held, after everything said since. */
void
log_release(void)
{
	size_t	i;

	holding = 0;
	for (i = 0; i < nheld; i++) {
		say(held[i].prio, held[i].to_stderr, held[i].ex, held[i].line);
		free(held[i].line);
	}
	free(held);
	held = NULL;
	nheld = 0;
}

/* Stop holding; what was held waits for log_release. */
void
log_unhold(void)
{
	holding = 0;
}

/*
 * One line per problem: a directory that is unsafe for three files is
 * one problem.  Remember what was said (a hash of it) and say it once.
 */
static int
said_before(int prio, const char *path, const char *fmt, va_list ap)
{
	static unsigned long	 said[64];
	static size_t		 nsaid;
	char			 msg[2048];
	unsigned long		 h = 5381 + prio;
	const char		*p;
	size_t			 i;

	vsnprintf(msg, sizeof(msg), fmt, ap);
	for (p = path ? path : ""; *p; p++)
		h = h * 33 + (unsigned char)*p;
	for (p = msg; *p; p++)
		h = h * 33 + (unsigned char)*p;
	for (i = 0; i < nsaid; i++)
		if (said[i] == h)
			return 1;
	if (nsaid < sizeof(said) / sizeof(said[0]))
		said[nsaid++] = h;
	return 0;
}

void
problem(int ex, const char *path, const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	if (said_before(LOG_ERR, path, fmt, ap)) {
		va_end(ap);
		return;
	}
	va_end(ap);
	nproblems++;
	va_start(ap, fmt);
	emit(LOG_ERR, 1, ex, "", path, fmt, ap);
	va_end(ap);
}

/*
 * An OpenSSL failure: say what we were doing and OpenSSL's own reason,
 * never the data (which may be key material).
 */
void
crypto_problem(int ex, const char *path, const char *what)
{
	unsigned long	 e = ERR_peek_last_error();
	const char	*reason = e ? ERR_reason_error_string(e) : NULL;

	problem(ex, path, "%s (%s)", what, reason ? reason : "unknown error");
	ERR_clear_error();
}

void
warning(const char *path, const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	if (said_before(LOG_WARNING, path, fmt, ap)) {
		va_end(ap);
		return;
	}
	va_end(ap);
	va_start(ap, fmt);
	emit(LOG_WARNING, !quiet, 0, "warning: ", path, fmt, ap);
	va_end(ap);
}

/* What was changed, or what check would change: stdout, for the admin. */
void
report(const char *fmt, ...)
{
	va_list	ap;

	if (quiet)
		return;
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	fflush(stdout);
}

void
debug(const char *fmt, ...)
{
	va_list	ap;

	if (!verbose_flag)
		return;
	fprintf(stderr, "%s: ", PROG);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

int
verbose(void)
{
	return verbose_flag;
}

int
problems(void)
{
	return nproblems;
}

int
exit_status(void)
{
	return nproblems ? first_status : 0;
}
