/*
 * tls_server_sni_maps (Postfix >= 3.4): per domain, the files holding a
 * key and its certificate chain.  Read from what the maps are made of --
 * the source that "postmap -F" compiles into a hash, btree, lmdb or cdb
 * map, a texthash file, an inline:{...} text -- never from the compiled
 * map, which holds the key material itself (base64).  smtpd serves what
 * is in the compiled map, not what the files hold today, so a map older
 * than its source or than a file it names is stale: it is rebuilt from a
 * private copy of the source and renamed into place whole.
 *
 * The source format is postmap's, as measured with Postfix 3.7's postmap
 * (see the comments at each rule); where postmap skips a line with a
 * warning, and smtpd would then serve no certificate for that domain,
 * this file reports a problem instead.
 */
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>

#include "common.h"
#include "finding.h"
#include "secure.h"
#include "snimap.h"

#define PARAM		SNI_PARAM
#define WHERE_MAX	(PATH_MAX + 64)

/* The types read here, and the file postmap makes of a source (postmap(1)). */
static const struct type {
	const char	*name;
	const char	*suffix;	/* of the compiled map; NULL: none */
	int		 file;		/* the name is a file */
} types[] = {
	{ "hash", ".db", 1 }, { "btree", ".db", 1 }, { "lmdb", ".lmdb", 1 },
	{ "cdb", ".cdb", 1 }, { "texthash", NULL, 1 }, { "inline", NULL, 0 },
};

/* One entry as read; its checks wait until all are read (duplicates). */
struct entry {
	char	*key;
	char	*value;
	size_t	 at;		/* its first line, or its element (inline) */
	size_t	 dup_of;	/* the entry Postfix uses instead, or 0 */
};

struct table {
	const struct sni_map	*map;
	struct entry		*e;
	size_t			 n, cap;
	char			*work;	/* the text parsed in place */
	size_t			 worksize;
	int			 bad;	/* a problem was reported */
};

/* Postfix's ISSPACE, less the newline that ends a line. */
static int
is_blank(int c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\v' || c == '\f';
}

/* Where an entry stands: "SOURCE:LINE", or its element of an inline map. */
static void
where(const struct table *t, size_t at, char *buf)
{
	if (t->map->source != NULL)
		snprintf(buf, WHERE_MAX, "%s:%zu", t->map->source, at);
	else
		snprintf(buf, WHERE_MAX, "%s inline map, element %zu", PARAM,
		    at);
}

static void __attribute__((format(printf, 3, 4)))
entry_problem(struct table *t, size_t at, const char *fmt, ...)
{
	char	w[WHERE_MAX], msg[2048];
	va_list	ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	where(t, at, w);
	problem(EX_CONFIG, w, "%s", msg);
	t->bad = 1;
}

static int
add_entry(struct table *t, char *key, char *value, size_t at)
{
	struct entry	*e;
	char		*p;

	if (t->n == t->cap) {
		if ((e = reallocarray(t->e, t->cap ? t->cap * 2 : 64,
		    sizeof(*e))) == NULL) {
			oom();
			return -1;	/* logged */
		}
		t->e = e;
		t->cap = t->cap ? t->cap * 2 : 64;
	}
	/* Keys are folded to lower case, ASCII only (measured: "ÄB" -> "Äb"). */
	for (p = key; *p != '\0'; p++)
		if (*p >= 'A' && *p <= 'Z')
			*p += 'a' - 'A';
	t->e[t->n++] = (struct entry){ key, value, at, 0 };
	return 0;
}

/* A logical line: key, white space, value; surrounding blanks trimmed. */
static int
split_line(struct table *t, char *line, size_t at)
{
	char	*value, *end;

	value = line;
	while (*value != '\0' && !is_blank(*value))
		value++;
	if (*value != '\0')
		*value++ = '\0';
	while (is_blank(*value))
		value++;
	end = value + strlen(value);
	while (end > value && is_blank(end[-1]))
		*--end = '\0';
	return add_entry(t, line, value, at);
}

/*
 * The postmap source in t->work, parsed in place (postmap(1), "INPUT FILE
 * FORMAT", and measured): blank lines and lines whose first non-blank is
 * '#' are skipped, also inside an entry; a line starting with a blank
 * continues the entry before it; CR counts as a blank, so CRLF files
 * work.  A logical line is written back joined with single spaces, never
 * longer than the lines it came from.
 */
static int
parse_source(struct table *t, size_t len)
{
	char	*p = t->work, *end = t->work + len, *w = t->work, *eol, *q;
	char	*cur = NULL;
	size_t	 line = 0, curline = 0;

	/* postmap reads a line only up to a NUL (measured): refuse it. */
	if ((q = memchr(p, '\0', len)) != NULL) {
		for (eol = p; eol < q; eol++)
			line += *eol == '\n';
		entry_problem(t, line + 1, "holds a NUL byte, which would cut "
		    "this line short for postmap" FIX "is this the compiled map "
		    "rather than its source?  If not, remove it: tr -d "
		    "'\\000' <%s >%s.new, check, then mv %s.new %s",
		    t->map->source, t->map->source, t->map->source,
		    t->map->source);
		return -1;	/* logged */
	}
	for (; p < end; p = eol + 1) {
		line++;
		if ((eol = memchr(p, '\n', end - p)) == NULL)
			eol = end;
		for (q = p; q < eol && is_blank(*q); q++)
			;
		if (q == eol || *q == '#')
			continue;
		if (q == p) {		/* a new entry */
			if (cur != NULL) {
				*w++ = '\0';
				if (split_line(t, cur, curline) == -1)
					return -1;	/* logged */
			}
			cur = w;
			curline = line;
		} else if (cur == NULL) {
			entry_problem(t, line, "starts with white space but "
			    "continues no entry; postmap ignores it (\"logical "
			    "line must not start with whitespace\")" FIX "fix: "
			    "start it in the first column");
			continue;
		} else
			*w++ = ' ';
		memmove(w, q, eol - q);
		w += eol - q;
	}
	if (cur != NULL) {
		*w = '\0';
		if (split_line(t, cur, curline) == -1)
			return -1;	/* logged */
	}
	return 0;
}

/*
 * The next element of the list at *sp as Postfix's mystrtokq() cuts it
 * (plist_next), NUL-terminated in place; NULL at the end.
 */
static char *
next_token(char **sp, int *unbalanced)
{
	const char	*cur = *sp, *w;
	size_t		 len;
	char		*elem;

	if ((w = plist_next(&cur, &len, PLIST_BRACES, unbalanced)) == NULL)
		return NULL;
	elem = *sp + (w - *sp);
	*sp += cur - *sp;
	elem[len] = '\0';	/* a separator, or the end already */
	return elem;
}

/* Where the brace at s[0] closes: its offset, or -1. */
static ssize_t
closing(const char *s)
{
	ssize_t	i;
	int	depth = 0;

	for (i = 0; s[i] != '\0'; i++)
		if (s[i] == '{')
			depth++;
		else if (s[i] == '}' && --depth == 0)
			return i;
	return -1;
}

/*
 * "name=value", or "{ name = value }" where braces let the value hold
 * commas and spaces: Postfix's split_nameval (measured with postmap -s).
 */
static int
split_element(struct table *t, char *elem, size_t at)
{
	char	*name, *p, *value, *end;
	ssize_t	 close;

	if (*elem == '{') {
		if ((close = closing(elem)) == -1 || elem[close + 1] != '\0') {
			entry_problem(t, at, "text after '}' in \"%s\": "
			    "Postfix refuses the whole map" FIX "fix: separate the "
			    "elements with commas", elem);
			return 0;
		}
		elem[close] = '\0';
		elem++;
	}
	for (name = elem; is_blank(*name); name++)
		;
	for (p = name; *p != '\0' && !is_blank(*p) && *p != '='; p++)
		;
	for (value = p; is_blank(*value); value++)
		;
	if (*value != '=') {
		entry_problem(t, at, "\"%s\" is not name=value: Postfix refuses "
		    "the whole map" FIX "fix: write {domain = /file1, /file2}",
		    elem);
		return 0;
	}
	*p = '\0';
	for (value++; is_blank(*value); value++)
		;
	end = value + strlen(value);
	while (end > value && is_blank(end[-1]))
		*--end = '\0';
	return add_entry(t, name, value, at);
}

static int
parse_inline(struct table *t)
{
	char	*p = t->work, *elem;
	size_t	 at = 0;
	int	 unbalanced = 0;

	while ((elem = next_token(&p, &unbalanced)) != NULL)
		if (split_element(t, elem, ++at) == -1)
			return -1;	/* logged */
	if (unbalanced) {
		problem(EX_CONFIG, t->map->spec, "unbalanced braces in %s" FIX
		    "fix: close each '{' with a '}'", PARAM);
		return -1;	/* logged */
	}
	if (at == 0)
		problem(EX_CONFIG, t->map->spec, "an inline map in %s with no "
		    "entries: Postfix refuses it (\"bad syntax\")" FIX "fix: "
		    "inline:{ {domain = /file1, /file2} }", PARAM);
	return at == 0 ? -1 : 0;	/* logged */
}

static int
by_key(const void *a, const void *b)
{
	const struct entry	*x = *(const struct entry *const *)a;
	const struct entry	*y = *(const struct entry *const *)b;
	int			 c = strcmp(x->key, y->key);

	if (c != 0)
		return c;
	return (x->at > y->at) - (x->at < y->at);
}

/*
 * Mark every entry Postfix does not use: postmap keeps the first of equal
 * keys ("duplicate entry" warning), the inline map the last (measured).
 * Sorted, so 10,000 entries cost no more than reading them.
 */
static int
find_duplicates(struct table *t)
{
	struct entry	**s;
	size_t		  i, j, k, used;

	if (t->n < 2)
		return 0;
	if ((s = reallocarray(NULL, t->n, sizeof(*s))) == NULL) {
		oom();
		return -1;	/* logged */
	}
	for (i = 0; i < t->n; i++)
		s[i] = &t->e[i];
	qsort(s, t->n, sizeof(*s), by_key);
	for (i = 0; i < t->n; i = j) {
		for (j = i + 1; j < t->n && !strcmp(s[i]->key, s[j]->key); j++)
			;
		used = t->map->source != NULL ? i : j - 1;
		for (k = i; k < j; k++)
			if (k != used)
				s[k]->dup_of = s[used]->at;
	}
	free(s);
	return 0;
}

/* The file names of an entry: each absolute, at least one. */
static int
check_files(struct table *t, const struct entry *e)
{
	const char	*p, *cur = e->value;
	size_t		 n, count = 0;
	int		 ok = 1;

	while ((p = plist_next(&cur, &n, PLIST_PLAIN, NULL)) != NULL) {
		if (*p != '/') {
			entry_problem(t, e->at, "%s names %.*s, a relative "
			    "name: postmap and smtpd would each look for it in "
			    "their own working directory" FIX "fix: give its "
			    "absolute name", e->key, (int)n, p);
			ok = 0;
		}
		count++;
	}
	if (count == 0 && *e->value != '\0') {
		entry_problem(t, e->at, "%s has an empty file list \"%s\": "
		    "Postfix skips the entry and serves no certificate for it"
		    FIX "fix: name its key and certificate chain files", e->key,
		    e->value);
		ok = 0;
	}
	return ok;
}

/* Is this entry one Postfix uses as written?  Reports why not. */
static int
check_entry(struct table *t, const struct entry *e)
{
	if (e->dup_of != 0) {
		entry_problem(t, e->at, "duplicate entry for %s: %s %zu" FIX "fix: "
		    "remove one of them", e->key, t->map->source != NULL ?
		    "postmap skips it and keeps the first one, at line" :
		    "Postfix ignores it and uses the last one, element",
		    e->dup_of);
		return 0;
	}
	if (*e->key == '"') {
		entry_problem(t, e->at, "the domain %s is in quotes: postmap "
		    "keeps the quotes in the key, so no SNI name ever matches "
		    "it" FIX "fix: remove the quotes", e->key);
		return 0;
	}
	if (*e->key == '\0') {
		entry_problem(t, e->at, "an entry with no domain: Postfix "
		    "ignores it" FIX "fix: put the domain before the '='");
		return 0;
	}
	if (*e->value == '\0') {
		entry_problem(t, e->at, "%s has no file list: Postfix skips "
		    "the entry%s and serves no certificate for it" FIX "fix: name "
		    "its key and certificate chain files", e->key,
		    t->map->source != NULL ? " (\"expected format: key "
		    "whitespace value\")" : "");
		return 0;
	}
	return check_files(t, e);
}

/* Each good entry to fn, in the order written; -1 once anything failed. */
static int
visit(struct table *t, sni_fn fn, void *arg)
{
	char	w[WHERE_MAX];
	size_t	i;

	if (find_duplicates(t) == -1)
		return -1;	/* logged */
	for (i = 0; i < t->n; i++) {
		if (!check_entry(t, &t->e[i]))
			continue;
		where(t, t->e[i].at, w);
		if (fn(t->e[i].key, t->e[i].value, w, arg) == -1)
			return -1;	/* logged by fn */
	}
	return t->bad ? -1 : 0;	/* logged */
}

/* The entries of MAP, from RAW (a source's bytes) or its inline text. */
static int
table_load(struct table *t, const struct sni_map *map,
    const unsigned char *raw, size_t len)
{
	memset(t, 0, sizeof(*t));
	t->map = map;
	if (map->source == NULL)
		len = strlen(map->text);
	t->worksize = len + 1;
	if ((t->work = malloc(t->worksize)) == NULL) {
		oom();
		return -1;	/* logged */
	}
	memcpy(t->work, map->source != NULL ? (const char *)raw : map->text,
	    len);
	t->work[len] = '\0';
	return map->source != NULL ? parse_source(t, len) : parse_inline(t);
}

/* Freed with freezero: a source names key files, be careful anyway. */
static void
table_free(struct table *t)
{
	freezero(t->work, t->worksize);
	free(t->e);
	memset(t, 0, sizeof(*t));
}

int
sni_each_in(const struct sni_map *map, const unsigned char *raw, size_t len,
    sni_fn fn, void *arg, size_t *count)
{
	struct table	t;
	int		rc = -1;

	if (table_load(&t, map, raw, len) == 0)
		rc = visit(&t, fn, arg);
	if (count != NULL)
		*count = t.n;
	table_free(&t);
	return rc;	/* logged */
}

int
sni_each(const struct sni_map *map, sni_fn fn, void *arg)
{
	struct file	 f;
	unsigned char	*raw = NULL;
	size_t		 len = 0;
	int		 rc = -1;

	file_init(&f);
	if (map->source != NULL && (file_open(&f, map->source, 0) == -1 ||
	    file_read(&f, &raw, &len) == -1))
		goto out;	/* logged */
	rc = sni_each_in(map, raw, len, fn, arg, NULL);
out:
	if (raw != NULL)
		freezero(raw, len + 1);
	file_close(&f);
	return rc;	/* logged */
}

/* The first entry for KEY in one map, as postmap's lookup finds it. */
struct find {
	const char	*key;
	char		*files, *where;
};

static int
find_entry(const char *domain, const char *files, const char *where,
    void *argp)
{
	struct find	*f = argp;

	if (f->files == NULL && !strcmp(domain, f->key)) {
		f->files = xstrdup(files);
		f->where = xstrdup(where);
	}
	return 0;
}

int
sni_lookup(const struct sni_map *maps, size_t n, const char *name,
    char **key, char **files, char **where, const struct sni_map **map)
{
	struct find	 f = { name, NULL, NULL };
	size_t		 i;

	for (; f.key != NULL; f.key = strchr(f.key + 1, '.'))
		for (i = 0; i < n; i++) {
			if (sni_each(&maps[i], find_entry, &f) == -1)
				return -1;	/* logged */
			if (f.files != NULL) {
				*key = xstrdup(f.key);
				*files = f.files;
				*where = f.where;
				*map = &maps[i];
				return 1;
			}
		}
	return 0;
}

/* A map's name must be absolute, as the other file names Postfix gets. */
static int
map_absolute(const char *spec, const char *type, const char *name)
{
	const char	*base = strrchr(name, '/');

	if (*name == '/')
		return 0;
	problem(EX_CONFIG, spec, "%s names a relative file: smtpd looks for "
	    "it in Postfix's queue directory (postconf -h queue_directory), "
	    "this helper would look in its own working directory" FIX "fix: give "
	    "its absolute name, e.g. %s:/etc/postfix/%s", PARAM, type,
	    base != NULL ? base + 1 : name);
	return -1;	/* logged */
}

/* A copy of s, or NULL (reported). */
static char *
dup_or_null(const char *s, size_t n)
{
	char	*c = strndup(s, n);

	if (c == NULL)
		oom();
	return c;
}

/* The parts of one spec ("type:name") into m; 1 when it is not read here. */
static int
map_parts(const char *spec, struct sni_map *m)
{
	const struct type	*ty = NULL;
	const char		*colon = strchr(spec, ':'), *name;
	size_t			 i, tlen;

	if (colon == NULL || colon[1] == '\0') {
		problem(EX_CONFIG, spec, "%s: not of the form type:name, which "
		    "Postfix refuses" FIX "fix: e.g. hash:/etc/postfix/sni", PARAM);
		return -1;	/* logged */
	}
	tlen = colon - spec;
	name = colon + 1;
	for (i = 0; i < sizeof(types) / sizeof(types[0]); i++)
		if (strlen(types[i].name) == tlen &&
		    !strncmp(spec, types[i].name, tlen))
			ty = &types[i];
	if (ty == NULL) {
		warning(spec, "not checked: postfix-tls-setup reads only hash, "
		    "btree, lmdb, cdb, texthash and inline maps in %s" FIX "check "
		    "it by hand: postmap -q DOMAIN %s names the files, or for "
		    "a table built with postmap -F or kept in a database "
		    "gives them in base64: postmap -q DOMAIN %s | base64 -d | "
		    "openssl x509 -noout -subject -enddate", PARAM, spec,
		    spec);
		return 1;
	}
	if (ty->file && map_absolute(spec, ty->name, name) == -1)
		return -1;	/* logged */
	if (!ty->file && closing(name) != (ssize_t)strlen(name) - 1) {
		problem(EX_CONFIG, spec, "%s: an inline map must be written "
		    "inline:{...}, which Postfix otherwise refuses (\"bad "
		    "syntax\")" FIX "fix: inline:{ {domain = /file1, /file2} }",
		    PARAM);
		return -1;	/* logged */
	}
	if ((m->spec = dup_or_null(spec, strlen(spec))) == NULL ||
	    (m->type = dup_or_null(spec, tlen)) == NULL)
		return -1;	/* logged */
	if (!ty->file)
		m->text = dup_or_null(name + 1, strlen(name) - 2);
	else if ((m->source = dup_or_null(name, strlen(name))) != NULL &&
	    ty->suffix != NULL && asprintf(&m->db, "%s%s", name,
	    ty->suffix) == -1) {
		m->db = NULL;
		oom();
		return -1;	/* logged */
	}
	return (ty->file ? m->source : m->text) != NULL ? 0 : -1;
}

/*
 * Would smtpd ever look this name up?  It takes a client's SNI name only
 * when Postfix's valid_hostname() does: letters, digits, "-" and "_" in
 * labels of 1 to 63, no "-" at a label's edge, no empty label (so no
 * leading or trailing dot), at most 255 in all, not numbers alone.  A
 * key that is not such a name ("*.example.net", "mail.example.net.")
 * never matches: peers asking for it get the default certificate.
 */
int
sni_name_valid(const char *name)
{
	const char	*p;
	size_t		 label = 0;
	int		 alpha = 0;
	char		 prev = '.';

	if (strlen(name) > 255)
		return 0;
	for (p = name; *p != '\0'; prev = *p++) {
		if (isalnum((unsigned char)*p) || *p == '_') {
			if (++label > 63)
				return 0;
			alpha |= !isdigit((unsigned char)*p);
		} else if (*p == '-' && label > 0)
			label++;
		else if (*p == '.' && label > 0 && prev != '-')
			label = 0;
		else
			return 0;
	}
	return label > 0 && prev != '-' && alpha;
}

static void
sni_maps_free_one(struct sni_map *m)
{
	free(m->spec);
	free(m->type);
	free(m->source);
	free(m->db);
	free(m->text);
	memset(m, 0, sizeof(*m));
}

/*
 * VALUE (postconf -x's) cut as Postfix cuts a list of maps: commas and
 * white space, except inside braces (inline:{...}).
 */
int
sni_maps(const char *value, struct sni_map **mapsp, size_t *np)
{
	struct sni_map	*maps = NULL, *m;
	char		*copy, *p, *spec;
	size_t		 n = 0;
	int		 unbalanced = 0, bad = 0, r, rc = -1;

	*mapsp = NULL;
	*np = 0;
	if ((p = copy = strdup(value)) == NULL) {
		oom();
		return -1;	/* logged */
	}
	while ((spec = next_token(&p, &unbalanced)) != NULL) {
		maps = m = xreallocarray(maps, n + 1, sizeof(*maps));
		memset(&maps[n], 0, sizeof(maps[n]));
		/* Every map's problem said, then none returned. */
		if ((r = map_parts(spec, &maps[n++])) == -1)
			bad = 1;
		if (r != 0)
			sni_maps_free_one(&maps[--n]);	/* not read here */
	}
	if (unbalanced)
		problem(EX_CONFIG, NULL, "%s: unbalanced braces in \"%s\"" FIX
		    "fix: close each '{' with a '}'", PARAM, value);
	if (bad || unbalanced)
		goto out;	/* logged */
	*mapsp = maps;
	*np = n;
	maps = NULL;
	n = 0;
	rc = 0;
out:
	sni_maps_free(maps, n);
	free(copy);
	return rc;
}

void
sni_maps_free(struct sni_map *maps, size_t n)
{
	size_t	i;

	for (i = 0; i < n; i++)
		sni_maps_free_one(&maps[i]);
	free(maps);
}
