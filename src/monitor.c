/*
 * check for monitors: --json writes one document, --nagios one line and
 * the monitoring plugins' exit status (0 OK, 1 WARNING, 2 CRITICAL, 3
 * UNKNOWN).  A monitor polls every few minutes, so in these modes nothing
 * goes to stderr or syslog: log.c hands each problem and warning over
 * here, in parts (identity, file, message), and each identity checked
 * as a record, in the order they are said, the workers' among them
 * (an identity found in a worker reaches us through log_export).
 */
#include <sys/mman.h>

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <unistd.h>

#include "extern.h"

#define NAGIOS_OK	0
#define NAGIOS_WARNING	1
#define NAGIOS_CRITICAL	2
#define NAGIOS_UNKNOWN	3

/* One certificate served, as check --json lists it. */
struct ident {
	char		*name, *bundle, *key, *subject, *issuer;
	char		*not_after;	/* "" when unreadable */
	char		*key_type, *sig_alg;
	char		*dane;		/* its DANE verdict, or NULL */
	int		 dane_validated;
	char		**names;
	size_t		  nnames;
	long long	  days_left;
	long long	  key_bits, chain_len;
};

struct finding {
	int	 critical;
	char	*identity, *file, *message;	/* identity, file: or NULL */
};

static int		 format = OUT_TEXT;
static int		 warn_days = 30, crit_days = 7;
static int		 captured = -1, saved_stderr = -1;	/* --nagios */
static const char	*argv0 = PROG;	/* getopt_long's name for us */
static struct ident	*ids;
static size_t		 nids;
static struct finding	*finds;
static size_t		 nfinds;

static int
is_option(const char *arg, const char *name, size_t shortest)
{
	size_t	len = strcspn(arg, "=");

	return len >= shortest && !strncmp(arg, name, len) &&
	    len <= strlen(name);
}

/*
 * Before the options are parsed: with --nagios (or an abbreviation
 * getopt_long takes), even a usage error must be a plugin's answer, so
 * stderr is kept in memory from here on (for the UNKNOWN line's text).
 */
void
monitor_argv(int argc, char *argv[])
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
	fflush(stderr);
	if ((captured = memfd_create("stderr", MFD_CLOEXEC)) == -1 ||
	    (saved_stderr = dup(STDERR_FILENO)) == -1 ||
	    dup2(captured, STDERR_FILENO) == -1)
		captured = -1;	/* then stderr stays */
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
	return strdup(line);
}

/* The format the options decided (a prescan may have been misled). */
void
monitor_start(int fmt)
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
	}
	format = fmt;
}

void
monitor_days(int warn, int crit)
{
	warn_days = warn;
	crit_days = crit;
}

int
monitor_active(void)
{
	return format != OUT_TEXT;
}

/* Record fields: "LENGTH:BYTES" each, any byte in them but NUL. */
static void
put(FILE *f, const char *s)
{
	fprintf(f, "%zu:%s", strlen(s), s);
}

static void
put_num(FILE *f, long long n)
{
	char	buf[32];

	snprintf(buf, sizeof(buf), "%lld", n);
	put(f, buf);
}

static char *
get(const char **p)
{
	char	*end, *s;
	size_t	 len;

	len = strtoul(*p, &end, 10);
	if (end == *p || *end != ':' || strlen(end + 1) < len ||
	    (s = strndup(end + 1, len)) == NULL)
		return NULL;
	*p = end + 1 + len;
	return s;
}

static int
get_num(const char **p, long long *n)
{
	char	*s, *end;
	int	 rc = -1;

	if ((s = get(p)) != NULL) {
		*n = strtoll(s, &end, 10);
		rc = *s != '\0' && *end == '\0' ? 0 : -1;
	}
	free(s);
	return rc;
}

/*
 * An identity served (serve_list): a record said through log.c like a
 * line, so a worker's come back in their turn (monitor_take_identity).
 */
void
monitor_identity(const char *name, const char *bundle, const char *key,
    const struct facts *leaf, size_t chain_len)
{
	FILE	*f;
	char	*rec = NULL;
	size_t	 len, i;

	if (!monitor_active())
		return;
	if ((f = open_memstream(&rec, &len)) == NULL) {
		problem(EX_OSERR, NULL, "out of memory");
		return;
	}
	put(f, name);
	put(f, bundle);
	put(f, key);
	put(f, leaf->subject);
	put(f, leaf->issuer);
	put(f, leaf->dated ? leaf->not_after : "");
	put_num(f, leaf->days_left);
	put(f, leaf->key_type);
	put_num(f, leaf->key_bits);
	put(f, leaf->sig_alg);
	put_num(f, chain_len);
	put_num(f, leaf->nnames);
	for (i = 0; i < leaf->nnames; i++)
		put(f, leaf->names[i]);
	if (fclose(f) != 0)
		problem(EX_OSERR, NULL, "out of memory");
	else
		log_record(rec);
	free(rec);
}

static void
ident_free(struct ident *d)
{
	while (d->nnames > 0)
		free(d->names[--d->nnames]);
	free(d->names);
	free(d->name);
	free(d->bundle);
	free(d->key);
	free(d->subject);
	free(d->issuer);
	free(d->not_after);
	free(d->key_type);
	free(d->sig_alg);
	free(d->dane);
}

/* A record said (ours or a worker's): 0, or -1 when it is garbled. */
int
monitor_take_identity(const char *p)
{
	struct ident	 d, *v;
	long long	 n;

	memset(&d, 0, sizeof(d));
	if ((d.name = get(&p)) == NULL || (d.bundle = get(&p)) == NULL ||
	    (d.key = get(&p)) == NULL || (d.subject = get(&p)) == NULL ||
	    (d.issuer = get(&p)) == NULL || (d.not_after = get(&p)) == NULL ||
	    get_num(&p, &d.days_left) == -1 ||
	    (d.key_type = get(&p)) == NULL || get_num(&p, &d.key_bits) == -1 ||
	    (d.sig_alg = get(&p)) == NULL || get_num(&p, &d.chain_len) == -1 ||
	    get_num(&p, &n) == -1 || n < 0 || n > 100000 ||
	    (n > 0 && (d.names = calloc(n, sizeof(*d.names))) == NULL))
		goto bad;
	while ((long long)d.nnames < n)
		if ((d.names[d.nnames++] = get(&p)) == NULL)
			goto bad;
	if (*p != '\0' || (v = reallocarray(ids, nids + 1, sizeof(*ids))) ==
	    NULL)
		goto bad;
	ids = v;
	ids[nids++] = d;
	return 0;
bad:
	ident_free(&d);
	return -1;
}

/* The DANE guard's verdict on an identity listed before (dane.c). */
void
monitor_dane(const char *identity, const char *verdict, int validated)
{
	size_t	i;

	for (i = 0; i < nids; i++)
		if (!strcmp(ids[i].name, identity) && ids[i].dane == NULL) {
			ids[i].dane = strdup(verdict);
			ids[i].dane_validated = validated;
		}
}

/* A problem or warning said, in parts (log.c). */
void
monitor_finding(int critical, const char *identity, const char *file,
    const char *message)
{
	struct finding	*v, *f;

	if ((v = reallocarray(finds, nfinds + 1, sizeof(*finds))) == NULL)
		return;	/* the status still says it */
	finds = v;
	f = &finds[nfinds];
	f->critical = critical;
	f->identity = identity ? strdup(identity) : NULL;
	f->file = file ? strdup(file) : NULL;
	f->message = strdup(message);
	if (f->message != NULL)
		nfinds++;
}

/*
 * What check itself does not call a problem but a monitor must: a
 * certificate in its last POSTFIX_TLS_CRIT_DAYS days (or past them).
 */
static void
crit_findings(void)
{
	char	*msg;
	size_t	 i;

	for (i = 0; i < nids; i++) {
		if (*ids[i].not_after == '\0' || ids[i].days_left >= crit_days)
			continue;
		if (ids[i].days_left >= 0 ? asprintf(&msg, "certificate "
		    "expires in %lld day%s, on %.10s: within "
		    "POSTFIX_TLS_CRIT_DAYS=%d (renew it now)", ids[i].days_left,
		    ids[i].days_left == 1 ? "" : "s", ids[i].not_after,
		    crit_days) == -1 : asprintf(&msg, "certificate expired on "
		    "%.10s, %lld day%s ago (renew it now; "
		    "POSTFIX_TLS_CRIT_DAYS=%d)", ids[i].not_after,
		    -ids[i].days_left, ids[i].days_left == -1 ? "" : "s",
		    crit_days) == -1)
			continue;
		monitor_finding(1, ids[i].name, ids[i].bundle, msg);
		free(msg);
	}
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
json_identity(FILE *f, const struct ident *d)
{
	size_t	i;

	fputs("    {", f);
	json_field(f, "name", d->name, ", ");
	json_field(f, "bundle", d->bundle, ", ");
	json_field(f, "key", d->key, ", ");
	json_field(f, "subject", d->subject, ", ");
	json_field(f, "issuer", d->issuer, ", ");
	fputs("\"names\": [", f);
	for (i = 0; i < d->nnames; i++) {
		json_string(f, d->names[i]);
		fputs(i + 1 < d->nnames ? ", " : "", f);
	}
	fputs("], ", f);
	if (*d->not_after != '\0') {
		json_field(f, "not_after", d->not_after, ", ");
		fprintf(f, "\"days_left\": %lld, ", d->days_left);
	} else
		fputs("\"not_after\": null, \"days_left\": null, ", f);
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
json_document(FILE *f, const char *status, int exit_status)
{
	size_t	i;

	fprintf(f, "{\n  \"status\": \"%s\",\n  \"exit_status\": %d,\n"
	    "  \"warn_days\": %d,\n  \"crit_days\": %d,\n  \"identities\": [",
	    status, exit_status, warn_days, crit_days);
	for (i = 0; i < nids; i++) {
		fputs(i ? ",\n" : "\n", f);
		json_identity(f, &ids[i]);
	}
	fputs(nids ? "\n  ],\n  \"findings\": [" : "],\n  \"findings\": [", f);
	for (i = 0; i < nfinds; i++) {
		fprintf(f, "%s    {\"severity\": \"%s\", ", i ? ",\n" : "\n",
		    finds[i].critical ? "critical" : "warning");
		json_field(f, "identity", finds[i].identity, ", ");
		json_field(f, "file", finds[i].file, ", ");
		json_field(f, "message", finds[i].message, "}");
	}
	fputs(nfinds ? "\n  ]\n}\n" : "]\n}\n", f);
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

static void
nagios_finding(FILE *f, const struct finding *d)
{
	if (d->identity != NULL) {
		nagios_text(f, d->identity);
		fputs(": ", f);
	}
	if (d->file != NULL) {
		nagios_text(f, d->file);
		fputs(": ", f);
	}
	nagios_text(f, d->message);
}

/* What a plugin says after "POSTFIX-TLS STATE - ". */
static void
nagios_summary(FILE *f, int state, int exit_status)
{
	const struct ident	*soonest = NULL;
	char			*usage;
	size_t			 i, ncrit = 0, nwarn = 0;

	for (i = 0; i < nfinds; i++)
		finds[i].critical ? ncrit++ : nwarn++;
	for (i = 0; i < nids; i++)
		if (*ids[i].not_after != '\0' && (soonest == NULL ||
		    ids[i].days_left < soonest->days_left))
			soonest = &ids[i];
	for (i = 0; state != NAGIOS_OK && i < nfinds; i++)
		if (finds[i].critical == (state != NAGIOS_WARNING)) {
			fprintf(f, "%zu critical, %zu warning: ", ncrit,
			    nwarn);
			nagios_finding(f, &finds[i]);
			return;
		}
	if (exit_status == EX_USAGE) {
		usage = captured_line();
		fputs("usage error: ", f);
		nagios_text(f, usage ? usage : "see " PROG " --help");
		free(usage);
	} else if (state != NAGIOS_OK)
		fprintf(f, "exit status %d", exit_status);
	else if (soonest == NULL)
		fprintf(f, "%zu certificates", nids);
	else {
		fprintf(f, "%zu certificate%s, soonest ", nids, nids == 1 ?
		    "" : "s");
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

static int
nagios_line(int exit_status, const char *status)
{
	static const char *const names[] = { "OK", "WARNING", "CRITICAL",
	    "UNKNOWN" };
	long long	least = 0;
	size_t		i, dated = 0;
	int		state = nagios_state(exit_status, status);

	printf("POSTFIX-TLS %s - ", names[state]);
	nagios_summary(stdout, state, exit_status);
	for (i = 0; i < nids; i++)
		if (*ids[i].not_after != '\0' && (dated++ == 0 ||
		    ids[i].days_left < least))
			least = ids[i].days_left;
	if (dated > 0)
		printf(" | days_left=%lld;%d;%d", least, warn_days, crit_days);
	putchar('\n');
	return state;
}

/* A usage error under --nagios: UNKNOWN, with what was said about it. */
void
monitor_usage(int status)
{
	if (status == 0 || format != OUT_NAGIOS)
		return;
	exit(nagios_line(EX_USAGE, "critical"));
}

/* The end of a check: the document or the line; the exit status. */
int
monitor_finish(int exit_status)
{
	const char	*status = "ok";
	size_t		 i;
	int		 rc = exit_status;

	if (!monitor_active())
		return exit_status;
	crit_findings();
	for (i = 0; i < nfinds; i++)
		if (finds[i].critical)
			status = "critical";
		else if (strcmp(status, "critical"))
			status = "warning";
	if (exit_status != 0)
		status = "critical";
	if (format == OUT_JSON)
		json_document(stdout, status, exit_status);
	else
		rc = nagios_line(exit_status, status);
	fflush(stdout);
	for (i = 0; i < nids; i++)
		ident_free(&ids[i]);
	for (i = 0; i < nfinds; i++) {
		free(finds[i].identity);
		free(finds[i].file);
		free(finds[i].message);
	}
	free(ids);
	free(finds);
	return rc;
}
