/*
 * Messages.  A problem is one line "postfix-tls-setup: FILE: what is wrong
 * (how to fix it)" on stderr and in syslog (facility mail, where Postfix
 * logs too).  The first problem decides the exit status.
 */
#include <openssl/err.h>

#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <stdlib.h>
#include <syslog.h>
#include <sysexits.h>

#include "extern.h"

static int	quiet, verbose_flag, muted;
static int	nproblems, first_status, first_called;

/*
 * Held lines: work done ahead of its turn (the input files, read while
 * postconf runs) says what it found after the stages before it, so the
 * order of the lines, and the exit status, are those of a run in order.
 * Notes (report) are held too: they go to stdout.
 */
struct held {
	int	 prio, to_stderr, to_stdout, ex;	/* ex: a problem's */
	char	*line;
	int	 record;	/* an identity's record (monitor.c) */
	int	 tag, ctx, path;	/* lengths of line's parts, -1: none */
};
static struct held	*held;
static size_t		 nheld;
static int		 holding;

/* The identity being checked ("submission/inet (master.cf)"), or NULL. */
static const char	*context;

/*
 * What was said, per severity, as whole lines: a repeat is said once,
 * and a problem is never taken for a warning.
 */
struct said {
	char	**line;
	size_t	  n;
};
static struct said	said_problems, said_warnings;

void
log_init(int q, int v)
{
	quiet = q;
	verbose_flag = v;
	openlog(PROG, LOG_PID, LOG_MAIL);
}

/*
 * check --json, --nagios: the monitor takes a problem or warning in its
 * parts ("TAG IDENTITY: PATH: MESSAGE", cut where vsay joined them, so a
 * ": " in a file name cuts nothing) and every identity's record; lines
 * for people (report) are left out.
 */
static void
take(const struct held *h)
{
	const char	*p = h->line;
	char		*ctx = NULL, *path = NULL;

	if (h->record) {
		if (monitor_take_identity(h->line) == -1)
			problem(EX_SOFTWARE, NULL, "internal error: a garbled "
			    "identity record (please report this)");
		return;
	}
	if (h->to_stdout)
		return;
	p += h->tag > 0 ? h->tag : 0;
	if (h->ctx >= 0) {
		ctx = strndup(p, h->ctx);
		p += h->ctx + 2;
	}
	if (h->path >= 0) {
		path = strndup(p, h->path);
		p += h->path + 2;
	}
	monitor_finding(h->ex != 0, ctx, path, p);
	free(ctx);
	free(path);
}

static void
say(const struct held *h)
{
	if (h->ex != 0 && first_status == 0)
		first_status = h->ex;
	if (monitor_active()) {
		take(h);
		return;
	}
	if (h->to_stdout) {
		printf("%s\n", h->line);
		fflush(stdout);
		return;
	}
	if (h->to_stderr)
		fprintf(stderr, "%s: %s\n", PROG, h->line);
	syslog(h->prio, "%s", h->line);
}

/*
 * Was this exact line said before at this severity?  Remembers it if
 * not.  Out of memory it answers no: a repeat is better than silence.
 */
static int
said_before(struct said *s, const char *line)
{
	char	**l;
	size_t	  i;

	for (i = 0; i < s->n; i++)
		if (!strcmp(s->line[i], line))
			return 1;
	if ((l = reallocarray(s->line, s->n + 1, sizeof(*l))) != NULL) {
		s->line = l;
		if ((l[s->n] = strdup(line)) != NULL)
			s->n++;
	}
	return 0;
}

/* Say a line now, or keep a copy for log_release when holding. */
static void
emit(const struct held *h)
{
	struct held	*a;

	if (holding && (a = reallocarray(held, nheld + 1, sizeof(*held))) !=
	    NULL) {
		held = a;
		held[nheld] = *h;
		if ((held[nheld].line = strdup(h->line)) != NULL) {
			nheld++;
			return;
		}
	}
	say(h);		/* out of memory: now, not never */
}

/*
 * Problems and warnings about one of several identities Postfix serves
 * name it first ("IDENTITY: PATH: MESSAGE"), until log_context(NULL).
 */
void
log_context(const char *who)
{
	context = who;
}

/*
 * Format "TAG [IDENTITY: ]PATH: MESSAGE" whole (no length limit: two lines that
 * differ only at their end stay two lines) and say it unless the same
 * severity said it already (seen is NULL for lines said every time).
 */
static void
vsay(struct said *seen, struct held *h, const char *tag, const char *path,
    const char *fmt, va_list ap)
{
	char	*msg = NULL, *line = NULL;

	if (vasprintf(&msg, fmt, ap) == -1)
		msg = NULL;
	if (msg == NULL || asprintf(&line, "%s%s%s%s%s%s", tag,
	    seen && context ? context : "", seen && context ? ": " : "",
	    path ? path : "", path ? ": " : "", msg) == -1)
		line = NULL;
	h->line = line != NULL ? line : "out of memory";
	h->tag = line != NULL ? (int)strlen(tag) : -1;
	h->ctx = line != NULL && seen && context ? (int)strlen(context) : -1;
	h->path = line != NULL && path ? (int)strlen(path) : -1;
	if (seen == NULL || line == NULL || !said_before(seen, line))
		emit(h);
	free(msg);
	free(line);
}

/*
 * Muted, nothing is said or counted: the probe reads the files again
 * only to know their leaves, and what is wrong with them was said by
 * the deploy before the start.
 */
void
log_mute(int on)
{
	muted = on;
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
		say(&held[i]);
		free(held[i].line);
	}
	free(held);
	held = NULL;
	nheld = 0;
}

/*
 * A worker's lines (workers.c): a worker process holds all it says and
 * hands it over, with how many problems it counted, to be said by the
 * parent in its turn, as if the parent had found it.  One record per
 * line: "KIND PRIO EX LENGTH TAG CTX PATH\nLINE" (KIND R, P, W, or I for
 * an identity's record; TAG CTX PATH the lengths of the line's parts).
 */
int
log_export(FILE *f)
{
	size_t	i;

	fprintf(f, "N %d %d\n", nproblems, first_called);
	for (i = 0; i < nheld; i++)
		fprintf(f, "%c %d %d %zu %d %d %d\n%s", held[i].record ? 'I' :
		    held[i].to_stdout ? 'R' : held[i].ex != 0 ? 'P' : 'W',
		    held[i].prio, held[i].ex, strlen(held[i].line),
		    held[i].tag, held[i].ctx, held[i].path, held[i].line);
	return ferror(f) ? -1 : 0;
}

/* Do a line's parts (lengths, -1: none) fit in its LEN bytes? */
static int
parts_fit(size_t len, int tag, int ctx, int path)
{
	size_t	need = 0;

	if (tag > INT_MAX / 4 || ctx > INT_MAX / 4 || path > INT_MAX / 4)
		return 0;
	need += tag > 0 ? (size_t)tag : 0;
	need += ctx >= 0 ? (size_t)ctx + 2 : 0;
	need += path >= 0 ? (size_t)path + 2 : 0;
	return need <= len;
}

/*
 * Say a worker's lines, counted and filtered as our own: how many
 * problems it had, or -1 if its text is garbled.
 */
int
log_import(const char *text)
{
	struct held	 h;
	char		 kind, *line;
	size_t		 len;
	int		 n, first, prio, ex, used, tag, ctx, path;

	if (sscanf(text, "N %d %d\n%n", &n, &first, &used) != 2)
		return -1;
	if (n < 0)
		return -1;
	nproblems += n;
	if (first_called == 0)
		first_called = first;
	for (text += used; *text != '\0'; text += used + len) {
		/* The newline by hand: "\n" in a format skips a line's
		 * leading blanks too (the chain view's lines start so). */
		if (sscanf(text, "%c %d %d %zu %d %d %d%n", &kind, &prio, &ex,
		    &len, &tag, &ctx, &path, &used) != 7 ||
		    text[used++] != '\n' || strlen(text + used) < len ||
		    !parts_fit(len, tag, ctx, path) ||
		    (line = strndup(text + used, len)) == NULL)
			return -1;
		memset(&h, 0, sizeof(h));
		h.prio = prio;
		h.ex = ex;
		h.to_stdout = kind == 'R';
		h.to_stderr = kind == 'P' || (kind == 'W' && !quiet);
		h.record = kind == 'I';
		h.tag = tag;
		h.ctx = ctx;
		h.path = path;
		h.line = line;
		if (kind == 'R' || kind == 'I' ||
		    !said_before(kind == 'P' ? &said_problems :
		    &said_warnings, line))
			emit(&h);
		free(line);
	}
	return n;
}

/* Stop holding; what was held waits for log_release. */
void
log_unhold(void)
{
	holding = 0;
}

/*
 * One line per problem: a directory that is unsafe for three files is
 * one problem, said once.  Every call counts, before any filtering: the
 * exit status is never 0 once problem() was called.
 */
void
problem(int ex, const char *path, const char *fmt, ...)
{
	struct held	h = { LOG_ERR, 1, 0, ex != 0 ? ex : EX_SOFTWARE, NULL,
	    0, -1, -1, -1 };
	va_list		ap;

	if (muted)
		return;
	nproblems++;
	if (first_called == 0)
		first_called = h.ex;
	va_start(ap, fmt);
	vsay(&said_problems, &h, "", path, fmt, ap);
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
	struct held	h = { LOG_WARNING, !quiet, 0, 0, NULL, 0, -1, -1, -1 };
	va_list		ap;

	if (muted)
		return;
	va_start(ap, fmt);
	vsay(&said_warnings, &h, "warning: ", path, fmt, ap);
	va_end(ap);
}

/*
 * What was changed, or what check would change: stdout, for the admin.
 * Held like the other lines, so that all is said in stage order.
 */
void
report(const char *fmt, ...)
{
	struct held	h = { LOG_INFO, 0, 1, 0, NULL, 0, -1, -1, -1 };
	va_list		ap;

	if (quiet || muted)
		return;
	va_start(ap, fmt);
	vsay(NULL, &h, "", NULL, fmt, ap);
	va_end(ap);
}

/* An identity's record for check --json (monitor.c), in its turn. */
void
log_record(const char *record)
{
	struct held	h = { LOG_INFO, 0, 0, 0, (char *)record, 1, -1, -1,
	    -1 };

	emit(&h);
}

void
debug(const char *fmt, ...)
{
	va_list	ap;

	if (!verbose_flag || monitor_active())
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

/* The first problem said decides; a problem not said yet still counts. */
int
exit_status(void)
{
	if (nproblems == 0)
		return 0;
	return first_status != 0 ? first_status : first_called;
}
