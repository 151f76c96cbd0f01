/*
 * The tuning file, /etc/conf.d/postfix-tls-setup.  We read it without a
 * shell, and we are its only reader for the hook (which asks us for
 * POSTFIX_TLS_HOOK); OpenRC still sources it as shell for the service
 * postfix-tls-setup, whose conf.d file it is by name.  So we accept only
 * the lines whose meaning is the same either way (NAME=value,
 * NAME="value", NAME='value', comments) and refuse anything a shell would
 * expand or split, naming the line: a value that means one thing to OpenRC
 * and another to us is worse than an error.  tests/cli/settings-as-shell.bats holds the
 * two readers to that, line by line.  The file decides what root does, so
 * it must be root's alone, as sshd wants its files.
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <unistd.h>

#include "common.h"
#include "conf.h"
#include "finding.h"
#include "secure.h"

#define MAX_LINE	4096

/* Characters an unquoted shell word may hold without being special. */
static const char plain_chars[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
    "_./:,@%+=-";

static int
set_string(char **slot, const char *value)
{
	free(*slot);
	*slot = NULL;
	if (*value == '\0')
		return 0;
	if ((*slot = strdup(value)) == NULL) {
		problem(EX_OSERR, NULL, "out of memory");
		return -1;
	}
	return 0;
}

static int
set_yesno(int *slot, const char *name, const char *value, const char *where)
{
	if (*value == '\0')
		*slot = -1;
	else if (!strcasecmp(value, "yes") || !strcasecmp(value, "true") ||
	    !strcasecmp(value, "on") || !strcmp(value, "1"))
		*slot = 1;
	else if (!strcasecmp(value, "no") || !strcasecmp(value, "false") ||
	    !strcasecmp(value, "off") || !strcmp(value, "0"))
		*slot = 0;
	else {
		problem(EX_CONFIG, where, "%s must be yes or no (or true/false, "
		    "on/off, 1/0), not \"%s\"", name, value);
		return -1;
	}
	return 0;
}

/* Whitespace-separated file names, as the shell would split them. */
int
conf_add_chain(struct setconf *s, const char *list, const char *where)
{
	char	*copy, *word, *p;
	int	 rc = 0;

	if ((copy = strdup(list)) == NULL) {
		problem(EX_OSERR, NULL, "out of memory");
		return -1;
	}
	for (p = copy; (word = strsep(&p, " \t")) != NULL;) {
		if (*word == '\0')
			continue;
		if (s->nchain == MAX_INPUTS) {
			problem(EX_CONFIG, where, "more than %d chain files"
			    FIX "put the CA certificates into fewer files",
			    MAX_INPUTS);
			rc = -1;
			break;
		}
		if ((s->chain[s->nchain] = strdup(word)) == NULL) {
			problem(EX_OSERR, NULL, "out of memory");
			rc = -1;
			break;
		}
		s->nchain++;
	}
	free(copy);
	return rc;
}

static void
clear_chain(struct setconf *s)
{
	while (s->nchain > 0)
		free(s->chain[--s->nchain]);
}

/*
 * Which set NAME belongs to when it is BASE (set 0) or BASE_N (set N-1,
 * N from 2 to MAX_SETS): a second bundle, e.g. certbot's ECDSA lineage
 * beside its RSA one.  -1 when NAME is neither.
 */
static int
set_index(const char *name, const char *base)
{
	size_t	len = strlen(base);

	if (strncmp(name, base, len))
		return -1;
	if (name[len] == '\0')
		return 0;
	if (name[len] == '_' && name[len + 1] >= '2' &&
	    name[len + 1] < '1' + MAX_SETS && name[len + 2] == '\0')
		return name[len + 1] - '1';
	return -1;
}

/* POSTFIX_TLS_CERT, _KEY, _CHAIN, _BUNDLE and their _N forms; 1: not one. */
static int
conf_set_file(struct settings *s, const char *name, const char *value,
    const char *where)
{
	int	i;

	if ((i = set_index(name, "POSTFIX_TLS_CERT")) != -1)
		return set_string(&s->set[i].cert, value);
	if ((i = set_index(name, "POSTFIX_TLS_KEY")) != -1)
		return set_string(&s->set[i].key, value);
	if ((i = set_index(name, "POSTFIX_TLS_BUNDLE")) != -1)
		return set_string(&s->set[i].bundle, value);
	if ((i = set_index(name, "POSTFIX_TLS_CHAIN")) != -1) {
		clear_chain(&s->set[i]);
		return conf_add_chain(&s->set[i], value, where);
	}
	return 1;
}

/* A number from MIN to MAX; empty is unset (-1). */
static int
set_number(int *slot, const char *name, const char *value, const char *where,
    int min, int max, const char *what)
{
	const char	*errstr;

	if (*value == '\0') {
		*slot = -1;
		return 0;
	}
	*slot = strtonum(value, min, max, &errstr);
	if (errstr != NULL) {
		problem(EX_CONFIG, where, "%s must be %s from %d to %d, not "
		    "\"%s\"" FIX "%s", name, what, min, max, value, errstr);
		return -1;
	}
	return 0;
}

/*
 * A fraction of a certificate's lifetime, "N/D" with 1 <= N <= D <= 1000
 * ("1/1": the day count alone); empty is unset (den -1).
 */
static int
set_fraction(int slot[2], const char *name, const char *value,
    const char *where)
{
	char		 num[8];
	const char	*slash, *e1 = NULL, *e2 = NULL;
	int		 n = 0, d = 0;

	if (*value == '\0') {
		slot[0] = slot[1] = -1;
		return 0;
	}
	if ((slash = strchr(value, '/')) != NULL &&
	    (size_t)(slash - value) < sizeof(num)) {
		memcpy(num, value, slash - value);
		num[slash - value] = '\0';
		d = strtonum(slash + 1, 1, 1000, &e2);
		n = strtonum(num, 1, 1000, &e1);
	}
	if (slash == NULL || (size_t)(slash - value) >= sizeof(num) ||
	    e1 != NULL || e2 != NULL || n > d) {
		problem(EX_CONFIG, where, "%s must be a fraction N/D of the "
		    "certificate's lifetime, 1 <= N <= D <= 1000, not \"%s\""
		    FIX "e.g. 1/3; 1/1 leaves the day count alone", name,
		    value);
		return -1;
	}
	slot[0] = n;
	slot[1] = d;
	return 0;
}

/*
 * One of a few words (WORDS, NULL-terminated, each with its value in
 * VALUES; case does not matter); empty is unset (-1).  ALLOWED is how
 * the message lists them.
 */
static int
set_choice(int *slot, const char *name, const char *value, const char *where,
    const char *const *words, const int *values, const char *allowed)
{
	size_t	i;

	if (*value == '\0') {
		*slot = -1;
		return 0;
	}
	for (i = 0; words[i] != NULL; i++)
		if (!strcasecmp(value, words[i])) {
			*slot = values[i];
			return 0;
		}
	problem(EX_CONFIG, where, "%s must be %s, not \"%s\"", name, allowed,
	    value);
	return -1;
}

/* What a failed post-start handshake does: warn, stop or off. */
static int
set_probe(int *slot, const char *name, const char *value, const char *where)
{
	static const char *const words[] = { "warn", "stop", "off", "no",
	    NULL };
	static const int values[] = { PROBE_WARN, PROBE_STOP, PROBE_OFF,
	    PROBE_OFF };

	return set_choice(slot, name, value, where, words, values,
	    "warn, stop or off");
}

/* The DANE guard (dane.c): auto, enforce, warn or off. */
static int
set_dane(int *slot, const char *name, const char *value, const char *where)
{
	static const char *const words[] = { "auto", "enforce", "warn", "off",
	    "no", NULL };
	static const int values[] = { DANE_AUTO, DANE_ENFORCE, DANE_WARN,
	    DANE_OFF, DANE_OFF };

	return set_choice(slot, name, value, where, words, values,
	    "auto, enforce, warn or off");
}

/* What DNS trouble does to the guard: warn or refuse. */
static int
set_dane_dns(int *slot, const char *name, const char *value,
    const char *where)
{
	static const char *const words[] = { "warn", "refuse", NULL };
	static const int values[] = { 0, 1 };

	return set_choice(slot, name, value, where, words, values,
	    "warn or refuse");
}

/* MX host names: letters, digits, '-', '.', '_' only, space separated. */
static int
set_names(char **slot, const char *name, const char *value, const char *where)
{
	const char	*p;

	for (p = value; *p != '\0'; p++)
		if (!isalnum((unsigned char)*p) && strchr("-._ \t", *p) ==
		    NULL) {
			problem(EX_CONFIG, where, "%s must be host names "
			    "separated by spaces, not \"%s\"", name, value);
			return -1;
		}
	/* Blanks alone name no host: as unset (myhostname), not nothing. */
	return set_string(slot, value[strspn(value, " \t")] == '\0' ? "" :
	    value);
}

int
conf_set(struct settings *s, const char *name, const char *value,
    const char *where)
{
	int	rc;

	if ((rc = conf_set_file(s, name, value, where)) != 1)
		return rc;
	if (!strcmp(name, "POSTFIX_TLS_CAFILE"))
		return set_string(&s->cafile, value);
	if (!strcmp(name, "POSTFIX_TLS_CAPATH"))
		return set_string(&s->capath, value);
	if (!strcmp(name, "POSTFIX_TLS_CACHE")) {
		if (*value != '\0' && *value != '/') {
			problem(EX_CONFIG, where, "%s must be an absolute "
			    "directory name, not \"%s\"", name, value);
			return -1;
		}
		return set_string(&s->cache, value);
	}
	if (!strcmp(name, "POSTFIX_TLS_INCLUDE_ROOT"))
		return set_yesno(&s->include_root, name, value, where);
	if (!strcmp(name, "POSTFIX_TLS_WARN_DAYS"))
		return set_number(&s->warn_days, name, value, where, 0, 3650,
		    "a number of days");
	if (!strcmp(name, "POSTFIX_TLS_CRIT_DAYS"))
		return set_number(&s->crit_days, name, value, where, 0, 3650,
		    "a number of days");
	if (!strcmp(name, "POSTFIX_TLS_WARN_LIFETIME"))
		return set_fraction(s->warn_life, name, value, where);
	if (!strcmp(name, "POSTFIX_TLS_CRIT_LIFETIME"))
		return set_fraction(s->crit_life, name, value, where);
	if (!strcmp(name, "POSTFIX_TLS_PROBE"))
		return set_probe(&s->probe, name, value, where);
	if (!strcmp(name, "POSTFIX_TLS_PROBE_TIMEOUT"))
		return set_number(&s->probe_timeout, name, value, where, 1, 60,
		    "a number of seconds");
	if (!strcmp(name, "POSTFIX_TLS_DANE"))
		return set_dane(&s->dane, name, value, where);
	if (!strcmp(name, "POSTFIX_TLS_DANE_DNS"))
		return set_dane_dns(&s->dane_dns_refuse, name, value, where);
	if (!strcmp(name, "POSTFIX_TLS_DANE_NAMES"))
		return set_names(&s->dane_names, name, value, where);
	if (!strcmp(name, "POSTFIX_TLS_DANE_TIMEOUT"))
		return set_number(&s->dane_timeout, name, value, where, 1, 30,
		    "a number of seconds");
	/* The OpenRC hook's switch, obeyed with --hook (conf_hook_off). */
	if (!strcmp(name, "POSTFIX_TLS_HOOK")) {
		if (set_yesno(&s->hook, name, value, where) == -1)
			return -1;
		return set_string(&s->hook_from, where);
	}
	/* OpenRC's own service settings may live here too. */
	if (!strncmp(name, "rc_", 3))
		return 0;
	problem(EX_CONFIG, where, "unknown setting %s" FIX "see postfix-tls-setup(8) "
	    "for the POSTFIX_TLS_ variables", name);
	return -1;
}

/*
 * Take the value starting at *pp into out; leave *pp after it.
 * Returns NULL on success or what is wrong.
 */
static const char *
parse_value(char **pp, char *out)
{
	char	*p = *pp, *end;
	size_t	 n;

	if (*p == '\'') {
		if ((end = strchr(p + 1, '\'')) == NULL)
			return "the single quote is not closed";
		n = end - (p + 1);
		memcpy(out, p + 1, n);
		*pp = end + 1;
	} else if (*p == '"') {
		if ((end = strchr(p + 1, '"')) == NULL)
			return "the double quote is not closed";
		n = end - (p + 1);
		if (memchr(p + 1, '$', n) || memchr(p + 1, '`', n) ||
		    memchr(p + 1, '\\', n))
			return "$, ` and \\ are expanded by the shell; "
			    "use single quotes for a literal value";
		memcpy(out, p + 1, n);
		*pp = end + 1;
	} else {
		n = strspn(p, plain_chars);
		if (p[n] != '\0' && !isblank((unsigned char)p[n]))
			return "this value needs quotes "
			    "(NAME=\"value\" or NAME='value')";
		memcpy(out, p, n);
		*pp = p + n;
	}
	out[n] = '\0';
	return NULL;
}

/* One line: blank, comment, or NAME=value [# comment]. */
/*
 * A file named in the tuning file with a relative name means one file when
 * an admin runs the helper by hand and another under OpenRC (which works
 * in /): refuse it.  On the command line a relative name is the caller's
 * own working directory, and fine.
 */
static int
relative_name(const char *name, const char *value, const char *where)
{
	static const char *const paths[] = { "POSTFIX_TLS_CERT",
	    "POSTFIX_TLS_KEY", "POSTFIX_TLS_CHAIN", "POSTFIX_TLS_BUNDLE",
	    "POSTFIX_TLS_CAFILE", "POSTFIX_TLS_CAPATH" };
	const char	*word = value, *seps;
	size_t		 i, n;

	/* The first four have _N forms (set_index), the anchors none. */
	for (i = 0; i < sizeof(paths) / sizeof(paths[0]); i++)
		if (i < 4 ? set_index(name, paths[i]) != -1 :
		    !strcmp(name, paths[i]))
			break;
	if (i == sizeof(paths) / sizeof(paths[0]))
		return 0;
	/* Only the chain is a list; every other value is one name. */
	seps = set_index(name, "POSTFIX_TLS_CHAIN") == -1 ? "" : " \t";
	for (; *(word += strspn(word, seps)) != '\0'; word += n) {
		n = strcspn(word, seps);
		if (*word != '/') {
			problem(EX_CONFIG, where, "%s: \"%.*s\" is a relative "
			    "name, which would depend on the directory the "
			    "helper runs in (OpenRC runs it in /): give the "
			    "absolute name", name, (int)n, word);
			return -1;
		}
	}
	return 0;
}

static int
parse_line(struct settings *s, char *line, const char *where)
{
	char		 value[MAX_LINE];
	char		*p = line, *name;
	const char	*err;

	p += strspn(p, " \t");
	if (*p == '\0' || *p == '#')
		return 0;
	name = p;
	if (!isalpha((unsigned char)*p) && *p != '_')
		goto bad;
	while (isalnum((unsigned char)*p) || *p == '_')
		p++;
	if (*p != '=')
		goto bad;
	*p++ = '\0';
	if ((err = parse_value(&p, value)) != NULL) {
		problem(EX_CONFIG, where, "%s: %s", name, err);
		return -1;
	}
	/* The shell starts a comment only at a word's start: 'a'#b is a#b. */
	if (*p != '\0' && !isblank((unsigned char)*p)) {
		problem(EX_CONFIG, where, "%s: text right after the closing "
		    "quote" FIX "the shell would read it as part of the value; "
		    "put a space before a # comment", name);
		return -1;
	}
	p += strspn(p, " \t");
	if (*p != '\0' && *p != '#') {
		problem(EX_CONFIG, where, "%s: unexpected text after the value"
		    FIX "quote the whole value", name);
		return -1;
	}
	/* --print-conf shows what is read; a run refuses what it cannot use. */
	if ((!s->print && relative_name(name, value, where) == -1) ||
	    conf_set(s, name, value, where) == -1)
		return -1;	/* logged */
	if (s->print)
		printf("%s=%s\n", name, value);
	return 0;
bad:
	problem(EX_CONFIG, where, "not a NAME=value line" FIX "comments start "
	    "with #; no shell commands are allowed here");
	return -1;
}

/* Parse the text of a settings file (NUL-terminated, changed in place). */
int
conf_parse(struct settings *s, char *text, size_t len, const char *path)
{
	char	 where[PATH_MAX + 32];
	char	*line, *next;
	size_t	 lineno = 0;
	int	 rc = 0;

	if (memchr(text, '\0', len) != NULL) {
		problem(EX_CONFIG, path, "contains a NUL byte; this is not "
		    "a text file" FIX "restore it from the shipped default");
		return -1;
	}
	for (line = text; line != NULL; line = next) {
		if ((next = strchr(line, '\n')) != NULL)
			*next++ = '\0';
		else if (*line == '\0')
			break;
		lineno++;
		snprintf(where, sizeof(where), "%s:%zu", path, lineno);
		if (strlen(line) >= MAX_LINE) {
			problem(EX_CONFIG, where, "line longer than %d "
			    "characters", MAX_LINE - 1);
			rc = -1;
		} else if (strchr(line, '\r') != NULL) {
			problem(EX_CONFIG, where, "line ends with a carriage "
			    "return" FIX "DOS line endings; convert with "
			    "dos2unix or sed -i 's/\\r$//'");
			rc = -1;
		} else if (parse_line(s, line, where) == -1)
			rc = -1;
	}
	return rc;
}

/*
 * Whoever may write the file decides what root does: it must be root's (or
 * the user's running us) and writable by no one else.
 */
static int
check_owner(const struct file *f)
{
	if (f->st.st_uid != 0 && f->st.st_uid != geteuid()) {
		problem(EX_NOPERM, f->real, "settings file owned by %s, not "
		    "root, so that user decides what runs as root" FIX "fix: chown "
		    "root:root %s && chmod go-w %s", user_name(f->st.st_uid),
		    f->real, f->real);
		return -1;
	}
	if (f->st.st_mode & (S_IWGRP | S_IWOTH)) {
		problem(EX_NOPERM, f->real, "settings file writable by %s, "
		    "so others decide what runs as root" FIX "fix: chown root:root "
		    "%s && chmod go-w %s", f->st.st_mode & S_IWOTH ?
		    "everyone" : "its group", f->real, f->real);
		return -1;
	}
	return 0;
}

int
conf_read(const char *path, int required, struct settings *s)
{
	struct file	 f;
	unsigned char	*buf = NULL;
	size_t		 len = 0;
	int		 rc = -1;

	file_init(&f);
	/* The default file, or even its directory, may simply not exist. */
	if (!required && access(path, F_OK) == -1 && errno == ENOENT) {
		debug("%s: not present, using defaults", path);
		rc = 0;
		goto out;
	}
	if (file_open(&f, path, !required) == -1)
		goto out;
	if (f.fd == -1) {
		debug("%s: not present, using defaults", path);
		rc = 0;
		goto out;
	}
	if (check_owner(&f) == -1 || file_read(&f, &buf, &len) == -1)
		goto out;	/* logged */
	rc = conf_parse(s, (char *)buf, len, path);
out:
	free(buf);
	file_close(&f);
	return rc;
}

void
conf_init(struct settings *s)
{
	memset(s, 0, sizeof(*s));
	s->include_root = s->warn_days = s->crit_days = s->hook = -1;
	s->warn_life[0] = s->warn_life[1] = -1;
	s->crit_life[0] = s->crit_life[1] = -1;
	s->probe = s->probe_timeout = -1;
	s->dane = s->dane_dns_refuse = s->dane_timeout = -1;
}

/* The command line's settings (set 1 only), applied over conf.d's. */
void
conf_merge(struct settings *s, struct settings *cli)
{
	struct setconf	*c = &cli->set[0], *t = &s->set[0];
	size_t		 i;

#define TAKE(a, b, f) if (b->f != NULL) { free(a->f); a->f = b->f; b->f = NULL; }
	TAKE(t, c, cert) TAKE(t, c, key) TAKE(t, c, bundle)
	TAKE(s, cli, cafile) TAKE(s, cli, capath)
#undef TAKE
	if (c->nchain > 0) {
		clear_chain(t);
		for (i = 0; i < c->nchain; i++)
			t->chain[i] = c->chain[i];
		t->nchain = c->nchain;
		c->nchain = 0;
	}
	if (cli->include_root != -1)
		s->include_root = cli->include_root;
	if (cli->warn_days != -1)
		s->warn_days = cli->warn_days;
	if (cli->crit_days != -1)
		s->crit_days = cli->crit_days;
	if (cli->hook != -1) {
		s->hook = cli->hook;
		free(s->hook_from);
		s->hook_from = cli->hook_from;
		cli->hook_from = NULL;
	}
	/* The documented defaults (postfix-tls-setup(8)). */
	if (s->include_root == -1)
		s->include_root = 0;
	if (s->warn_days == -1)
		s->warn_days = 30;
	if (s->crit_days == -1)
		s->crit_days = 7;
	if (s->warn_life[1] == -1) {
		s->warn_life[0] = 1;
		s->warn_life[1] = 3;
	}
	if (s->crit_life[1] == -1) {
		s->crit_life[0] = 1;
		s->crit_life[1] = 6;
	}
	if (s->probe == -1)
		s->probe = PROBE_WARN;
	if (s->probe_timeout == -1)
		s->probe_timeout = 5;
	if (s->dane == -1)
		s->dane = DANE_AUTO;
	if (s->dane_dns_refuse == -1)
		s->dane_dns_refuse = 0;
	if (s->dane_timeout == -1)
		s->dane_timeout = 3;
}

void
conf_free(struct settings *s)
{
	size_t	i;

	for (i = 0; i < MAX_SETS; i++) {
		free(s->set[i].cert);
		free(s->set[i].key);
		free(s->set[i].bundle);
		clear_chain(&s->set[i]);
	}
	free(s->cafile);
	free(s->capath);
	free(s->cache);
	free(s->hook_from);
	free(s->dane_names);
}
