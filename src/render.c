/*
 * The one place where findings become words (render.h).  A line is
 * "[warning: ][IDENTITY: ][FILE: ]TEXT[ (FIX)]"; a repeat of a problem
 * or warning is said once; the first problem decides the exit status.
 * A monitor polls every few minutes, so with --json and --nagios nothing
 * goes to stderr or syslog: the document or the plugin line is all.
 */
#include <sys/mman.h>
#include <sys/wait.h>

#include <errno.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <sysexits.h>
#include <unistd.h>

#include "common.h"
#include "finding.h"
#include "json.h"
#include "render.h"
#include "verify.h"

#define NAGIOS_OK	0
#define NAGIOS_WARNING	1
#define NAGIOS_CRITICAL	2
#define NAGIOS_UNKNOWN	3

static int		 format = OUT_TEXT, quiet, sink = SINK_TERMINAL;
static int		 warn_days = 30, crit_days = 7;
static int		 captured = -1, saved_stderr = -1;	/* --nagios */
static const char	*argv0 = PROG;	/* getopt_long's name for us */

static int
is_option(const char *arg, const char *name, size_t shortest)
{
	size_t	len = strcspn(arg, "=");

	return len >= shortest && !strncmp(arg, name, len) &&
	    len <= strlen(name);
}

/* Out of memory under --nagios: still a plugin's answer. */
static void
oom_nagios(void)
{
	static const char line[] = "POSTFIX-TLS UNKNOWN - out of memory\n";

	(void)!write(STDOUT_FILENO, line, sizeof(line) - 1);
	_exit(NAGIOS_UNKNOWN);
}

/*
 * Before the options are parsed: with --nagios (or an abbreviation
 * getopt_long takes), even a usage error must be a plugin's answer, so
 * stderr is kept in memory from here on (for the UNKNOWN line's text).
 */
void
render_argv(int argc, char *argv[])
{
	int	i;

	if (argc > 0)
		argv0 = argv[0];
	for (i = 1; i < argc && strcmp(argv[i], "--"); i++) {
		if (is_option(argv[i], "--json", 3))
			format = OUT_JSON;
		if (is_option(argv[i], "--nagios", 4))
			format = OUT_NAGIOS;
	}
	if (format != OUT_NAGIOS)
		return;
	oom_handler(oom_nagios);
	fflush(stderr);
	if ((captured = memfd_create("stderr", MFD_CLOEXEC)) == -1 ||
	    (saved_stderr = dup(STDERR_FILENO)) == -1 ||
	    dup2(captured, STDERR_FILENO) == -1)
		captured = -1;	/* then stderr stays */
}

/* The format the options decided (the prescan may have been misled). */
void
render_setup(int fmt, int q, int where)
{
	char	buf[4096];
	ssize_t	n;
	off_t	at = 0;

	if (fmt != OUT_NAGIOS && saved_stderr != -1) {
		/* "--cert --nagios": a file name; stderr back as it was. */
		fflush(stderr);
		dup2(saved_stderr, STDERR_FILENO);
		while ((n = pread(captured, buf, sizeof(buf), at)) > 0 &&
		    write(STDERR_FILENO, buf, n) == n)
			at += n;
		close(saved_stderr);
		close(captured);
		saved_stderr = captured = -1;
		oom_handler(NULL);
	}
	format = fmt;
	quiet = q;
	sink = where;
}

void
render_days(int warn, int crit)
{
	warn_days = warn;
	crit_days = crit;
}

int
render_format(void)
{
	return format;
}

/* A finding as one line, without our name: "[IDENTITY: ][FILE: ]TEXT (FIX)". */
static char *
line_of(const struct finding *f)
{
	return xasprintf("%s%s%s%s%s%s%s%s", f->identity ? f->identity : "",
	    f->identity ? ": " : "", f->file ? f->file : "", f->file ? ": " :
	    "", f->text, f->fix ? " (" : "", f->fix ? f->fix : "", f->fix ?
	    ")" : "");
}

/*
 * The lines of all findings, made once, and which of them repeat an
 * earlier one of the same severity (notes are said every time): sorted,
 * so ten thousand warnings cost no more than making them.
 */
struct said {
	char	**line;
	char	 *repeat;
	size_t	  n;
};

static int
by_line(const void *a, const void *b, void *arg)
{
	const struct finding	*v = findings_all(&(size_t){ 0 });
	const struct said	*s = arg;
	size_t			 x = *(const size_t *)a, y = *(const size_t *)b;
	int			 c = v[x].severity - v[y].severity;

	if (c == 0)
		c = strcmp(s->line[x], s->line[y]);
	return c != 0 ? c : (x > y) - (x < y);
}

static void
said_make(struct said *s)
{
	const struct finding	*v = findings_all(&s->n);
	size_t			*order, i;

	s->line = xcalloc(s->n, sizeof(*s->line));
	s->repeat = xcalloc(s->n, 1);
	order = xcalloc(s->n, sizeof(*order));
	for (i = 0; i < s->n; i++) {
		s->line[i] = line_of(&v[i]);
		order[i] = i;
	}
	qsort_r(order, s->n, sizeof(*order), by_line, s);
	for (i = 1; i < s->n; i++)
		s->repeat[order[i]] = v[order[i]].severity != FND_NOTE &&
		    v[order[i]].severity == v[order[i - 1]].severity &&
		    !strcmp(s->line[order[i]], s->line[order[i - 1]]);
	free(order);
}

static void
said_free(struct said *s)
{
	while (s->n > 0)
		free(s->line[--s->n]);
	free(s->line);
	free(s->repeat);
}

/* OpenRC's own einfo/ewarn/eerror (they log where OpenRC is told to). */
static int
openrc_say(const char *tool, const char *line)
{
	const char	*dir = getenv("RC_LIBEXECDIR");
	char		 path[PATH_MAX];
	char		*argv[3];
	pid_t		 pid;
	int		 status;

	if (snprintf(path, sizeof(path), "%s/bin/%s", dir != NULL ? dir :
	    "/lib/rc", tool) >= (int)sizeof(path))
		return -1;
	argv[0] = (char *)tool;
	argv[1] = (char *)line;
	argv[2] = NULL;
	fflush(NULL);
	if (posix_spawn(&pid, path, NULL, NULL, argv, environ) != 0)
		return -1;
	while (waitpid(pid, &status, 0) == -1 && errno == EINTR)
		;
	return 0;
}

/* One line to where text goes. */
static void
say(const struct finding *f, const char *line)
{
	static const int	 prio[] = { LOG_INFO, LOG_WARNING, LOG_ERR };
	static const char *const openrc[] = { "einfo", "ewarn", "eerror" };
	static const char *const journal[] = { "<6>", "<4>", "<3>" };
	const char		*tag = f->severity == FND_WARNING ?
				    "warning: " : "";
	char			*full;

	if (f->severity != FND_PROBLEM && quiet && sink != SINK_TERMINAL) {
		if (f->severity == FND_WARNING) {	/* -q: syslog only */
			openlog(PROG, LOG_PID, LOG_MAIL);
			syslog(LOG_WARNING, "warning: %s", line);
		}
		return;
	}
	if (sink == SINK_OPENRC) {
		full = f->severity == FND_NOTE ? xstrdup(line) :
		    xasprintf("%s: %s%s", PROG, tag, line);
		if (openrc_say(openrc[f->severity], full) == 0) {
			free(full);
			return;
		}
		free(full);	/* no OpenRC tools: as on a terminal */
	} else if (sink == SINK_JOURNAL) {
		fprintf(stderr, "%s%s%s%s\n", journal[f->severity],
		    f->severity == FND_NOTE ? "" : PROG ": ", tag, line);
		return;
	}
	if (f->severity == FND_NOTE) {
		if (!quiet) {
			printf("%s\n", line);
			fflush(stdout);
		}
		return;
	}
	if (f->severity == FND_PROBLEM || !quiet)
		fprintf(stderr, "%s: %s%s\n", PROG, tag, line);
	syslog(prio[f->severity], "%s%s", tag, line);
}

/* A line that is no finding (service.c's verdict for the service). */
void
render_say(const char *line)
{
	if (format != OUT_TEXT)
		return;
	if (sink == SINK_OPENRC && openrc_say("eerror", line) == 0)
		return;
	fprintf(stderr, "%s%s\n", sink == SINK_JOURNAL ? "<3>" : "", line);
	if (sink == SINK_TERMINAL) {
		openlog(PROG, LOG_PID, LOG_MAIL);
		syslog(LOG_ERR, "%s", line);
	}
}

static void
render_text(void)
{
	const struct finding	*v;
	struct said		 s;
	size_t			 i, n;

	v = findings_all(&n);
	said_make(&s);
	if (sink == SINK_TERMINAL)
		openlog(PROG, LOG_PID, LOG_MAIL);
	for (i = 0; i < n; i++)
		if (!s.repeat[i])
			say(&v[i], s.line[i]);
	said_free(&s);
}

/* Is a listed leaf past the critical moment (verify.h)? */
static int
listing_critical(const struct listing *l)
{
	if (l->lifetime <= 0)
		return l->days_left < crit_days;
	return verify_due(l->lifetime, l->secs_left, crit_days, 1);
}

/*
 * What check itself does not call a problem but a monitor must: a
 * certificate in its last POSTFIX_TLS_CRIT_DAYS days and last
 * POSTFIX_TLS_CRIT_LIFETIME of its lifetime (or past them).
 */
static void
crit_findings(void)
{
	const struct listing	*l;
	struct fraction		 f = verify_fraction(1);
	size_t			 i, n;

	l = listings_all(&n);
	for (i = 0; i < n; i++) {
		if (l[i].not_after == NULL || *l[i].not_after == '\0' ||
		    !listing_critical(&l[i]))
			continue;
		if (l[i].days_left < 0)
			warning(l[i].file, "certificate expired on %.10s, %lld "
			    "day%s ago" FIX "renew it now; "
			    "POSTFIX_TLS_CRIT_DAYS=%d", l[i].not_after,
			    -l[i].days_left, l[i].days_left == -1 ? "" : "s",
			    crit_days);
		else if (!verify_by_fraction(l[i].lifetime, crit_days, 1))
			warning(l[i].file, "certificate expires in %lld day%s, "
			    "on %.10s: within POSTFIX_TLS_CRIT_DAYS=%d" FIX
			    "renew it now", l[i].days_left, l[i].days_left ==
			    1 ? "" : "s", l[i].not_after, crit_days);
		else
			warning(l[i].file, "certificate expires in %lld day%s, "
			    "on %.10s: less than %d/%d of its %lld-day lifetime "
			    "left, POSTFIX_TLS_CRIT_LIFETIME=%d/%d" FIX
			    "renew it now", l[i].days_left, l[i].days_left ==
			    1 ? "" : "s", l[i].not_after, f.num, f.den,
			    l[i].lifetime / 86400, f.num, f.den);
		findings_attribute(findings_mark() - 1, l[i].name);
	}
}

/* Is this finding critical for a monitor? (crit_findings' are.) */
static int
critical(const struct finding *f, size_t i, size_t ncrit_from)
{
	return f->severity == FND_PROBLEM || i >= ncrit_from;
}

static void
json_field(FILE *f, const char *name, const char *value, const char *after)
{
	json_string(f, name);
	fputs(": ", f);
	json_string(f, value);
	fputs(after, f);
}

static void
json_listing(FILE *f, const struct listing *d)
{
	size_t	i;

	fputs("    {", f);
	json_field(f, "name", d->name, ", ");
	json_field(f, "bundle", d->file, ", ");
	json_field(f, "key", d->key, ", ");
	json_field(f, "subject", d->subject, ", ");
	json_field(f, "issuer", d->issuer, ", ");
	fputs("\"names\": [", f);
	for (i = 0; i < d->nnames; i++) {
		json_string(f, d->names[i]);
		fputs(i + 1 < d->nnames ? ", " : "", f);
	}
	fputs("], ", f);
	if (d->not_after != NULL && *d->not_after != '\0') {
		json_field(f, "not_after", d->not_after, ", ");
		fprintf(f, "\"days_left\": %lld, ", d->days_left);
	} else
		fputs("\"not_after\": null, \"days_left\": null, ", f);
	if (d->lifetime > 0)
		fprintf(f, "\"lifetime_seconds\": %lld, \"seconds_left\": "
		    "%lld, ", d->lifetime, d->secs_left);
	else
		fputs("\"lifetime_seconds\": null, \"seconds_left\": null, ",
		    f);
	json_field(f, "key_type", d->key_type, ", ");
	fprintf(f, "\"key_bits\": %lld, ", d->key_bits);
	json_field(f, "signature", d->sig_alg, ", ");
	fprintf(f, "\"certificates\": %lld, ", d->chain_len);
	if (d->dane != NULL) {
		fputs("\"dane\": {", f);
		json_field(f, "verdict", d->dane, ", ");
		fprintf(f, "\"validated\": %s}}", d->dane_validated ? "true" :
		    "false");
	} else
		fputs("\"dane\": null}", f);
}

static void
json_document(FILE *f, const char *status, int exit_status, size_t crit_from)
{
	const struct finding	*v;
	const struct listing	*l;
	struct said		 s;
	size_t			 i, n, nl, said = 0;
	char			*line;

	v = findings_all(&n);
	l = listings_all(&nl);
	said_make(&s);
	fprintf(f, "{\n  \"status\": \"%s\",\n  \"exit_status\": %d,\n"
	    "  \"warn_days\": %d,\n  \"crit_days\": %d,\n"
	    "  \"warn_lifetime\": \"%d/%d\",\n  \"crit_lifetime\": \"%d/%d\",\n"
	    "  \"identities\": [", status, exit_status, warn_days, crit_days,
	    verify_fraction(0).num, verify_fraction(0).den,
	    verify_fraction(1).num, verify_fraction(1).den);
	for (i = 0; i < nl; i++) {
		fputs(i ? ",\n" : "\n", f);
		json_listing(f, &l[i]);
	}
	fputs(nl ? "\n  ],\n  \"findings\": [" : "],\n  \"findings\": [", f);
	for (i = 0; i < n; i++) {
		if (v[i].severity == FND_NOTE || s.repeat[i])
			continue;
		fprintf(f, "%s    {\"severity\": \"%s\", ", said++ ? ",\n" :
		    "\n", critical(&v[i], i, crit_from) ? "critical" :
		    "warning");
		json_field(f, "identity", v[i].identity, ", ");
		json_field(f, "file", v[i].file, ", ");
		line = xasprintf("%s%s%s%s", v[i].text, v[i].fix ? " (" : "",
		    v[i].fix ? v[i].fix : "", v[i].fix ? ")" : "");
		json_field(f, "message", line, ", ");
		json_field(f, "fix", v[i].fix, "}");
		free(line);
	}
	said_free(&s);
	fputs(said ? "\n  ]\n}\n" : "]\n}\n", f);
}

/* Text on a plugin's one line: no line breaks, no '|', valid UTF-8. */
static void
nagios_text(FILE *f, const char *s)
{
	const unsigned char	*p = (const unsigned char *)s;
	size_t			 n, left;

	for (left = strlen(s); left > 0; p += n, left -= n) {
		if ((n = utf8_char(p, left)) == 0) {
			fputc('?', f);
			n = 1;
		} else if (*p < 0x20 || *p == 0x7f)
			fputc(' ', f);
		else if (*p == '|')
			fputc('/', f);
		else
			fwrite(p, 1, n, f);
	}
}

/* The first line stderr got, without our name: for UNKNOWN. */
static char *
captured_line(void)
{
	char	 buf[512], *line;
	ssize_t	 n;
	size_t	 len;

	if (captured == -1)
		return NULL;
	fflush(stderr);
	if ((n = pread(captured, buf, sizeof(buf) - 1, 0)) <= 0)
		return NULL;
	buf[n] = '\0';
	buf[strcspn(buf, "\n")] = '\0';
	line = buf;
	if (!strncmp(line, PROG ": ", strlen(PROG ": ")))
		line += strlen(PROG ": ");
	else if (!strncmp(line, argv0, len = strlen(argv0)) &&
	    !strncmp(line + len, ": ", 2))
		line += len + 2;
	return xstrdup(line);
}

/* What a plugin says after "POSTFIX-TLS STATE - ". */
static void
nagios_summary(FILE *f, int state, int exit_status, size_t crit_from)
{
	const struct finding	*v;
	const struct listing	*l, *soonest = NULL;
	struct said		 s;
	char			*text;
	size_t			 i, n, nl, ncrit = 0, nwarn = 0;

	v = findings_all(&n);
	l = listings_all(&nl);
	said_make(&s);
	for (i = 0; i < n; i++)
		if (v[i].severity != FND_NOTE && !s.repeat[i])
			critical(&v[i], i, crit_from) ? ncrit++ : nwarn++;
	said_free(&s);
	for (i = 0; i < nl; i++)
		if (l[i].not_after != NULL && *l[i].not_after != '\0' &&
		    (soonest == NULL || l[i].days_left < soonest->days_left))
			soonest = &l[i];
	for (i = 0; state != NAGIOS_OK && i < n; i++)
		if (v[i].severity != FND_NOTE && critical(&v[i], i,
		    crit_from) == (state != NAGIOS_WARNING)) {
			fprintf(f, "%zu critical, %zu warning: ", ncrit, nwarn);
			text = line_of(&v[i]);
			nagios_text(f, text);
			free(text);
			return;
		}
	if (exit_status == EX_USAGE) {
		text = captured_line();
		fputs("usage error: ", f);
		nagios_text(f, text ? text : "see " PROG " --help");
		free(text);
	} else if (state != NAGIOS_OK)
		fprintf(f, "exit status %d", exit_status);
	else if (soonest == NULL)
		fprintf(f, "%zu certificates", nl);
	else {
		fprintf(f, "%zu certificate%s, soonest ", nl, nl == 1 ? "" :
		    "s");
		nagios_text(f, soonest->name);
		fprintf(f, " in %lld day%s", soonest->days_left,
		    soonest->days_left == 1 ? "" : "s");
	}
}

/*
 * UNKNOWN: the helper could not judge (usage, internal, system error);
 * any other failure is a verdict on the set-up, CRITICAL.
 */
static int
nagios_state(int exit_status, const char *status)
{
	if (exit_status == EX_USAGE || exit_status == EX_SOFTWARE ||
	    exit_status == EX_OSERR)
		return NAGIOS_UNKNOWN;
	if (!strcmp(status, "critical"))
		return NAGIOS_CRITICAL;
	return !strcmp(status, "warning") ? NAGIOS_WARNING : NAGIOS_OK;
}

/*
 * A threshold of the perfdata, in days: the moment the leaf with the
 * fewest days left is due (verify.h), whole or to two decimals.
 */
static void
perf_days(long long secs)
{
	if (secs % 86400 == 0)
		printf("%lld", secs / 86400);
	else
		printf("%.2f", (double)secs / 86400);
}

static int
nagios_line(int exit_status, const char *status, size_t crit_from)
{
	static const char *const names[] = { "OK", "WARNING", "CRITICAL",
	    "UNKNOWN" };
	const struct listing	*l, *least = NULL;
	size_t			 i, nl;
	int			 state = nagios_state(exit_status, status);

	l = listings_all(&nl);
	printf("POSTFIX-TLS %s - ", names[state]);
	nagios_summary(stdout, state, exit_status, crit_from);
	for (i = 0; i < nl; i++)
		if (l[i].not_after != NULL && *l[i].not_after != '\0' &&
		    (least == NULL || l[i].days_left < least->days_left))
			least = &l[i];
	if (least != NULL) {
		printf(" | days_left=%lld;", least->days_left);
		perf_days(verify_due_at(least->lifetime, warn_days, 0));
		putchar(';');
		perf_days(verify_due_at(least->lifetime, crit_days, 1));
	}
	putchar('\n');
	return state;
}

/* A usage error under --nagios: UNKNOWN, with what was said about it. */
void
render_usage(int status)
{
	if (status == 0 || format != OUT_NAGIOS)
		return;
	fflush(stdout);
	exit(nagios_line(EX_USAGE, "critical", 0));
}

int
render_finish(int exit_status)
{
	const struct finding	*v;
	const char		*status = "ok";
	size_t			 i, n, crit_from;
	int			 rc = exit_status;

	if (format == OUT_TEXT) {
		render_text();
		return exit_status;
	}
	crit_from = findings_mark();
	crit_findings();
	v = findings_all(&n);
	for (i = 0; i < n; i++)
		if (v[i].severity == FND_NOTE)
			continue;
		else if (critical(&v[i], i, crit_from))
			status = "critical";
		else if (strcmp(status, "critical"))
			status = "warning";
	if (exit_status != 0)
		status = "critical";
	if (format == OUT_JSON)
		json_document(stdout, status, exit_status, crit_from);
	else
		rc = nagios_line(exit_status, status, crit_from);
	fflush(stdout);
	return rc;
}
