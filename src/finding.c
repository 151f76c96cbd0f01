/*
 * The run's findings and listings, as records (finding.h).  Nothing here
 * prints but debug(): render.c makes text, syslog, JSON or a monitoring
 * plugin's line of the whole list when the run ends.
 */
#include <openssl/err.h>

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>

#include "common.h"
#include "finding.h"

struct findings {
	struct finding	*v;
	size_t		 n;
};

static struct findings	 all;
static struct listing	*lists;
static size_t		 nlists;
static int		 verbose_flag;

void
findings_init(int v)
{
	verbose_flag = v;
}

int
verbose(void)
{
	return verbose_flag;
}

static void
add(const struct finding *f)
{
	all.v = xreallocarray(all.v, all.n + 1, sizeof(*all.v));
	all.v[all.n++] = *f;
}

/*
 * FMT formatted, cut where FIX stands: the text before it uses the first
 * arguments, so formatting the text part alone tells where the fix
 * starts in the whole (a FIX byte in a file name cuts nothing).
 */
static void
vfind(int severity, int ex, const char *file, const char *fmt, va_list ap)
{
	struct finding	 f = { severity, ex, NULL, NULL, NULL, NULL };
	const char	*mark = strstr(fmt, FIX);
	char		*head, *whole;
	va_list		 ap2;
	int		 at = -1;

	va_copy(ap2, ap);
	if (mark != NULL) {
		head = xstrndup(fmt, mark - fmt);
		at = vsnprintf(NULL, 0, head, ap2);
		free(head);
	}
	va_end(ap2);
	if (vasprintf(&whole, fmt, ap) == -1)
		oom();
	if (at >= 0 && (size_t)at < strlen(whole) && whole[at] == FIX[0]) {
		if (whole[at + 1] != '\0')	/* an empty fix is none */
			f.fix = xstrdup(whole + at + 1);
		whole[at] = '\0';
	}
	f.text = whole;
	f.file = file != NULL ? xstrdup(file) : NULL;
	add(&f);
}

/*
 * A problem: the run refuses.  EX is its exit status (sysexits.h); the
 * first problem of the run decides the run's.
 */
void
problem(int ex, const char *file, const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	vproblem(ex, file, fmt, ap);
	va_end(ap);
}

void
vproblem(int ex, const char *file, const char *fmt, va_list ap)
{
	vfind(FND_PROBLEM, ex != 0 ? ex : EX_SOFTWARE, file, fmt, ap);
}

void
warning(const char *file, const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	vwarning(file, fmt, ap);
	va_end(ap);
}

void
vwarning(const char *file, const char *fmt, va_list ap)
{
	vfind(FND_WARNING, 0, file, fmt, ap);
}

/* What was changed, or what check would change: for the admin. */
void
note(const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	vfind(FND_NOTE, 0, NULL, fmt, ap);
	va_end(ap);
}

/*
 * An OpenSSL failure: what we were doing and OpenSSL's own reason, never
 * the data (which may be key material).
 */
void
crypto_problem(int ex, const char *file, const char *what)
{
	unsigned long	 e = ERR_peek_last_error();
	const char	*reason = e ? ERR_reason_error_string(e) : NULL;

	problem(ex, file, "%s (%s)", what, reason ? reason : "unknown error");
	ERR_clear_error();
}

/* -v: how the run went, on stderr at once (never in the records). */
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

void
vdebug(const char *file, const char *fmt, va_list ap)
{
	size_t	mark = all.n;

	if (!verbose_flag)
		return;
	vfind(FND_NOTE, 0, NULL, fmt, ap);
	fprintf(stderr, "%s: %s%s%s%s%s%s\n", PROG, file ? file : "",
	    file ? ": " : "", all.v[mark].text, all.v[mark].fix ? " (" : "",
	    all.v[mark].fix ? all.v[mark].fix : "", all.v[mark].fix ? ")" :
	    "");
	findings_drop(mark);
}

size_t
findings_mark(void)
{
	return all.n;
}

/* Problems and warnings since FROM belong to IDENTITY (notes do not). */
void
findings_attribute(size_t from, const char *identity)
{
	size_t	i;

	for (i = from; identity != NULL && i < all.n; i++)
		if (all.v[i].severity != FND_NOTE && all.v[i].identity == NULL)
			all.v[i].identity = xstrdup(identity);
}

static void
finding_free(struct finding *f)
{
	free(f->identity);
	free(f->file);
	free(f->text);
	free(f->fix);
}

void
findings_drop(size_t from)
{
	while (all.n > from)
		finding_free(&all.v[--all.n]);
}

struct findings *
findings_take(size_t from)
{
	struct findings	*t = xcalloc(1, sizeof(*t));

	if (from >= all.n)
		return t;
	t->n = all.n - from;
	t->v = xreallocarray(NULL, t->n, sizeof(*t->v));
	memcpy(t->v, all.v + from, t->n * sizeof(*t->v));
	all.n = from;
	return t;
}

void
findings_put(struct findings *t)
{
	size_t	i;

	for (i = 0; t != NULL && i < t->n; i++)
		add(&t->v[i]);
	if (t != NULL)
		free(t->v);
	free(t);
}

void
listing_add(const struct listing *l)
{
	lists = xreallocarray(lists, nlists + 1, sizeof(*lists));
	lists[nlists++] = *l;
}

/* The DANE guard's verdict on an identity listed before. */
void
listing_dane(const char *identity, const char *verdict, int validated)
{
	size_t	i;

	for (i = 0; i < nlists; i++)
		if (!strcmp(lists[i].name, identity) && lists[i].dane == NULL) {
			lists[i].dane = xstrdup(verdict);
			lists[i].dane_validated = validated;
		}
}

size_t
listings_mark(void)
{
	return nlists;
}

/*
 * The wire format between a worker and the parent: one record per
 * finding ("F") or listing ("L"), each field "LENGTH:BYTES", or "-" for
 * none; any byte may be in a field.
 */
static void
put(FILE *f, const char *s)
{
	if (s == NULL)
		fputc('-', f);
	else
		fprintf(f, "%zu:%s", strlen(s), s);
}

static void
put_num(FILE *f, long long n)
{
	char	buf[32];

	snprintf(buf, sizeof(buf), "%lld", n);
	put(f, buf);
}

int
findings_export(FILE *f, size_t mark, size_t lmark)
{
	const struct finding	*d;
	const struct listing	*l;
	size_t			 i, k;

	for (i = mark; i < all.n; i++) {
		d = &all.v[i];
		fputc('F', f);
		put_num(f, d->severity);
		put_num(f, d->ex);
		put(f, d->identity);
		put(f, d->file);
		put(f, d->text);
		put(f, d->fix);
	}
	for (i = lmark; i < nlists; i++) {
		l = &lists[i];
		fputc('L', f);
		put(f, l->name);
		put(f, l->file);
		put(f, l->key);
		put(f, l->subject);
		put(f, l->issuer);
		put(f, l->not_after);
		put(f, l->key_type);
		put(f, l->sig_alg);
		put_num(f, l->days_left);
		put_num(f, l->key_bits);
		put_num(f, l->chain_len);
		put_num(f, l->lifetime);
		put_num(f, l->secs_left);
		put_num(f, l->nnames);
		for (k = 0; k < l->nnames; k++)
			put(f, l->names[k]);
	}
	return ferror(f) ? -1 : 0;
}

/* One field at *p (within END): 0, or -1 when garbled. */
static int
get(const char **p, const char *end, char **out)
{
	char		*e;
	unsigned long	 len;

	*out = NULL;
	if (*p < end && **p == '-') {
		(*p)++;
		return 0;
	}
	if (*p >= end || **p < '0' || **p > '9')
		return -1;
	len = strtoul(*p, &e, 10);
	if (e >= end || *e != ':' || (size_t)(end - e - 1) < len)
		return -1;
	*out = xstrndup(e + 1, len);
	*p = e + 1 + len;
	return 0;
}

static int
get_num(const char **p, const char *end, long long *n)
{
	char	*s, *e;
	int	 rc = -1;

	if (get(p, end, &s) == 0 && s != NULL) {
		*n = strtoll(s, &e, 10);
		rc = *s != '\0' && *e == '\0' ? 0 : -1;
	}
	free(s);
	return rc;
}

static int
import_finding(const char **p, const char *end)
{
	struct finding	f;
	long long	sev, ex;

	memset(&f, 0, sizeof(f));
	if (get_num(p, end, &sev) == -1 || sev < FND_NOTE ||
	    sev > FND_PROBLEM || get_num(p, end, &ex) == -1 ||
	    get(p, end, &f.identity) == -1 || get(p, end, &f.file) == -1 ||
	    get(p, end, &f.text) == -1 || f.text == NULL ||
	    get(p, end, &f.fix) == -1) {
		finding_free(&f);
		return -1;
	}
	f.severity = sev;
	f.ex = ex;
	add(&f);
	return 0;
}

static void
listing_free(struct listing *l)
{
	while (l->nnames > 0)
		free(l->names[--l->nnames]);
	free(l->names);
	free(l->name);
	free(l->file);
	free(l->key);
	free(l->subject);
	free(l->issuer);
	free(l->not_after);
	free(l->key_type);
	free(l->sig_alg);
	free(l->dane);
}

static int
import_listing(const char **p, const char *end)
{
	struct listing	l;
	long long	n;

	memset(&l, 0, sizeof(l));
	if (get(p, end, &l.name) == -1 || l.name == NULL ||
	    get(p, end, &l.file) == -1 || get(p, end, &l.key) == -1 ||
	    get(p, end, &l.subject) == -1 || get(p, end, &l.issuer) == -1 ||
	    get(p, end, &l.not_after) == -1 ||
	    get(p, end, &l.key_type) == -1 || get(p, end, &l.sig_alg) == -1 ||
	    get_num(p, end, &l.days_left) == -1 ||
	    get_num(p, end, &l.key_bits) == -1 ||
	    get_num(p, end, &l.chain_len) == -1 ||
	    get_num(p, end, &l.lifetime) == -1 ||
	    get_num(p, end, &l.secs_left) == -1 ||
	    get_num(p, end, &n) == -1 || n < 0 || n > 100000)
		goto bad;
	l.names = xcalloc(n, sizeof(*l.names));
	while ((long long)l.nnames < n)
		if (get(p, end, &l.names[l.nnames++]) == -1 ||
		    l.names[l.nnames - 1] == NULL)
			goto bad;
	listing_add(&l);
	return 0;
bad:
	listing_free(&l);
	return -1;
}

int
findings_import(const char *text, size_t len)
{
	const char	*p = text, *end = text + len;
	int		 rc = 0;

	while (rc == 0 && p < end) {
		if (*p == 'F')
			p++, rc = import_finding(&p, end);
		else if (*p == 'L')
			p++, rc = import_listing(&p, end);
		else
			rc = -1;
	}
	return rc;
}

int
findings_status(void)
{
	size_t	i;

	for (i = 0; i < all.n; i++)
		if (all.v[i].severity == FND_PROBLEM)
			return all.v[i].ex;
	return 0;
}

const struct finding *
findings_all(size_t *n)
{
	*n = all.n;
	return all.v;
}

const struct listing *
listings_all(size_t *n)
{
	*n = nlists;
	return lists;
}

void
findings_free(void)
{
	findings_drop(0);
	free(all.v);
	all.v = NULL;
	while (nlists > 0)
		listing_free(&lists[--nlists]);
	free(lists);
	lists = NULL;
}
