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

void
log_init(int q, int v)
{
	quiet = q;
	verbose_flag = v;
	openlog(PROG, LOG_PID, LOG_MAIL);
}

static void
emit(int prio, int to_stderr, const char *tag, const char *path,
    const char *fmt, va_list ap)
{
	char	msg[2048];

	vsnprintf(msg, sizeof(msg), fmt, ap);
	if (to_stderr)
		fprintf(stderr, "%s: %s%s%s%s\n", PROG, tag,
		    path ? path : "", path ? ": " : "", msg);
	syslog(prio, "%s%s%s%s", tag, path ? path : "", path ? ": " : "", msg);
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
	if (nproblems++ == 0)
		first_status = ex;
	va_start(ap, fmt);
	emit(LOG_ERR, 1, "", path, fmt, ap);
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
	emit(LOG_WARNING, !quiet, "warning: ", path, fmt, ap);
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
