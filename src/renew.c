/*
 * renew: an ACME client's new files, judged as deploy judges everything,
 * deployed, and Postfix reloaded; a refusal recorded for check (renew.h
 * has the design).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sysexits.h>
#include <time.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include "bundle.h"
#include "command.h"
#include "common.h"
#include "conf.h"
#include "finding.h"
#include "renew.h"
#include "secure.h"
#include "service.h"
#include "write.h"

#ifndef STATEDIR
#define STATEDIR	"/var/lib/" PROG
#endif
#define RECORD_MAGIC	PROG " renewal 1\n"
#define MAX_RECORD	(64 * 1024)
#define MAX_REASONS	16
#define MAX_REASON_LEN	1000

void
renew_state_dir(const char *root, char *buf, size_t size)
{
	size_t	len = strlen(root);

	while (len > 0 && root[len - 1] == '/')
		len--;
	snprintf(buf, size, "%.*s%s", (int)len, root, STATEDIR);
}

/* The record, when it is root's alone and says what it is: 0, else -1. */
static int
record_read(int dirfd, const char *name, char *buf, size_t size)
{
	if (state_file_read(dirfd, name, buf, size) == -1)
		return -1;
	return strncmp(buf, RECORD_MAGIC, strlen(RECORD_MAGIC)) ? -1 : 0;
}

/* A value of the record ("since N\n"), or NULL. */
static const char *
record_value(const char *text, const char *word)
{
	const char	*p = text;
	size_t		 len = strlen(word);

	while (p != NULL) {
		if (!strncmp(p, word, len) && p[len] == ' ')
			return p + len + 1;
		if ((p = strchr(p, '\n')) != NULL)
			p++;
	}
	return NULL;
}

/* A finding as one line of the record: no control byte in it. */
static void
put_reason(FILE *f, const struct finding *v)
{
	char	*line, *p;

	line = xasprintf("%s%s%s%s%s%s%s%s", v->identity ? v->identity : "",
	    v->identity ? ": " : "", v->file ? v->file : "", v->file ? ": " :
	    "", v->text, v->fix ? " (" : "", v->fix ? v->fix : "", v->fix ?
	    ")" : "");
	for (p = line; *p != '\0'; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			*p = '?';
	fprintf(f, "why %.*s\n", MAX_REASON_LEN, line);
	free(line);
}

/*
 * Record what stopped this renewal (the run's problems), for check:
 * WHAT is "refused" (nothing changed) or "not-reloaded" (the new files
 * are in place).  "since" stays that of a record already there.  Any
 * trouble writing it is a warning: the refusal itself stands.
 */
void
renew_record(const char *root, const char *confdir, const char *what)
{
	const struct finding	*v;
	char			 dir[PATH_MAX], name[25], *old, *text = NULL;
	const char		*since, *step;
	size_t			 n, i, len = 0, k = 0;
	FILE			*f;
	int			 dirfd;

	renew_state_dir(root, dir, sizeof(dir));
	if ((dirfd = dir_open(dir, 1)) == -1) {
		warning(dir, "the refusal could not be recorded for check: the "
		    "directory is missing or not root's alone" FIX "mkdir -m "
		    "0700 %s", dir);
		return;
	}
	state_file_name("renewal-", confdir, name, sizeof(name));
	old = xmalloc(MAX_RECORD);
	since = record_read(dirfd, name, old, MAX_RECORD) == 0 ?
	    record_value(old, "since") : NULL;
	if ((f = open_memstream(&text, &len)) == NULL)
		oom();
	fputs(RECORD_MAGIC, f);
	fprintf(f, "since %lld\n", since != NULL ? strtoll(since, NULL, 10) :
	    (long long)time(NULL));
	fprintf(f, "what %s\n", what);
	v = findings_all(&n);
	for (i = 0; i < n && k < MAX_REASONS; i++)
		if (v[i].severity == FND_PROBLEM) {
			put_reason(f, &v[i]);
			k++;
		}
	if (fclose(f) != 0)
		oom();
	if (write_replace(dirfd, name, (unsigned char *)text, len, &step) ==
	    -1)
		warning(dir, "the refusal could not be recorded for check: %s: "
		    "%s", step, strerror(errno));
	free(text);
	free(old);
	close(dirfd);
}

/* A good renewal: no record left. */
static void
record_clear(const char *root, const char *confdir)
{
	char	dir[PATH_MAX], name[25];
	int	dirfd;

	renew_state_dir(root, dir, sizeof(dir));
	if ((dirfd = dir_open(dir, 0)) == -1)
		return;		/* none: nothing recorded */
	state_file_name("renewal-", confdir, name, sizeof(name));
	if (unlinkat(dirfd, name, 0) == -1 && errno != ENOENT)
		warning(dir, "the record of an earlier refused renewal could "
		    "not be removed: %s" FIX "rm %s/%s", strerror(errno), dir,
		    name);
	close(dirfd);
}

void
renew_report(const char *root, const char *confdir)
{
	char		 dir[PATH_MAX], name[25], path[PATH_MAX + 32], when[32];
	char		*text, *end;
	const char	*p, *what;
	time_t		 since;
	struct tm	 tm;
	int		 dirfd, said = 0, unloaded;

	renew_state_dir(root, dir, sizeof(dir));
	if ((dirfd = dir_open(dir, 0)) == -1)
		return;		/* nothing recorded */
	state_file_name("renewal-", confdir, name, sizeof(name));
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	text = xmalloc(MAX_RECORD);
	if (record_read(dirfd, name, text, MAX_RECORD) == -1 ||
	    (p = record_value(text, "since")) == NULL)
		goto out;
	since = (time_t)strtoll(p, NULL, 10);
	gmtime_r(&since, &tm);
	strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm);
	unloaded = (p = record_value(text, "what")) != NULL &&
	    !strncmp(p, "not-reloaded", 12);
	what = unloaded ? "renewed but not reloaded" : "renewal refused";
	for (p = text; (p = strstr(p, "\nwhy ")) != NULL; p = end) {
		p += 5;
		if ((end = strchr(p, '\n')) == NULL)
			break;
		warning(path, "%s since %s: %.*s; Postfix %s the certificate "
		    "it had" FIX "fix that, then renew again: the ACME "
		    "client's forced renewal, or " PROG " renew", what, when,
		    (int)(end - p), p, unloaded ? "may still serve" :
		    "still serves");
		said = 1;
	}
	if (!said)
		warning(path, "%s since %s" FIX "renew again with -v to see "
		    "why", what, when);
out:
	free(text);
	close(dirfd);
}

/* A leaf's DNS names, sorted, as one string; its key type in *type. */
static char *
leaf_names(X509 *x, int *type)
{
	GENERAL_NAMES	*gens;
	GENERAL_NAME	*g;
	char		**v = NULL, *s = NULL, *t;
	size_t		  n = 0, i, j;

	*type = EVP_PKEY_base_id(X509_get0_pubkey(x));
	if ((gens = X509_get_ext_d2i(x, NID_subject_alt_name, NULL, NULL)) ==
	    NULL)
		return xstrdup("");
	for (i = 0; i < (size_t)sk_GENERAL_NAME_num(gens); i++) {
		g = sk_GENERAL_NAME_value(gens, i);
		if (g->type != GEN_DNS)
			continue;
		v = xreallocarray(v, n + 1, sizeof(*v));
		v[n++] = xstrndup((const char *)ASN1_STRING_get0_data(
		    g->d.dNSName), ASN1_STRING_length(g->d.dNSName));
	}
	GENERAL_NAMES_free(gens);
	for (i = 1; i < n; i++)		/* a few names: insertion sort */
		for (j = i; j > 0 && strcasecmp(v[j - 1], v[j]) > 0; j--) {
			t = v[j];
			v[j] = v[j - 1];
			v[j - 1] = t;
		}
	s = xstrdup("");
	for (i = 0; i < n; i++) {
		t = xasprintf("%s%s ", s, v[i]);
		free(s);
		free(v[i]);
		s = t;
	}
	free(v);
	return s;
}

/* The first certificate of PATH (walked safely), or NULL, quietly. */
static X509 *
first_cert(const char *path)
{
	struct file	 f;
	unsigned char	*buf = NULL;
	size_t		 len = 0, mark = findings_mark();
	X509		*x = NULL;
	BIO		*b;

	file_init(&f);
	if (file_open(&f, path, 0) == 0 && file_read(&f, &buf, &len) == 0 &&
	    (b = BIO_new_mem_buf(buf, len)) != NULL) {
		x = PEM_read_bio_X509(b, NULL, NULL, NULL);
		BIO_free(b);
	}
	findings_drop(mark);	/* the run itself says what is wrong */
	free(buf);
	file_close(&f);
	return x;
}

/* PATH's directory as named ("/" for a file at the top). */
static void
parent(const char *path, char *buf, size_t size)
{
	char	*s;

	strlcpy(buf, path, size);
	if ((s = strrchr(buf, '/')) == NULL)
		strlcpy(buf, ".", size);
	else if (s == buf)
		s[1] = '\0';
	else
		*s = '\0';
}

/* Do two files lie in one directory (the client's, for a lineage)? */
static int
same_dir(const char *a, const char *b)
{
	char	da[PATH_MAX], db[PATH_MAX];
	size_t	mark = findings_mark();
	int	same;

	if (a == NULL || b == NULL)
		return 0;
	parent(a, da, sizeof(da));
	parent(b, db, sizeof(db));
	same = path_same(da, db) == 1;
	findings_drop(mark);	/* unsafe names are the run's to say */
	return same;
}

/* Does set C hold the same identity as the new leaf (names, key type)? */
static int
same_leaf(const struct setconf *c, const char *names, int type)
{
	X509	*x;
	char	*s;
	int	 t, same;

	if (c->bundle == NULL || (x = first_cert(c->bundle)) == NULL)
		return 0;
	s = leaf_names(x, &t);
	same = t == type && !strcmp(s, names);
	free(s);
	X509_free(x);
	return same;
}

/* The number of sets the tuning file has (set 1 always). */
static size_t
nsets(const struct settings *s)
{
	size_t	i, n = 1;

	for (i = 1; i < MAX_SETS; i++)
		if (s->set[i].cert || s->set[i].key || s->set[i].bundle ||
		    s->set[i].nchain)
			n = i + 1;
	return n;
}

/*
 * Which set the client's files renew (renew.h, 1.): its index, or -1
 * (logged).
 */
static int
choose_set(const struct settings *s, const struct setconf *nf)
{
	const struct setconf	*c;
	X509			*x;
	char			*names = NULL;
	size_t			 i, n = nsets(s), found = 0, inplace = 0;
	int			 type = 0, k = -1, named = -1;

	for (i = 0; i < n; i++) {
		c = &s->set[i];
		if (c->cert == NULL && c->key == NULL) {
			inplace++;
			continue;
		}
		named = i;
		if (same_dir(c->cert, nf->cert) || same_dir(c->key, nf->key) ||
		    same_dir(c->cert, nf->key) || same_dir(c->key, nf->cert)) {
			k = i;
			found++;
		}
	}
	if (found == 0 && inplace == 1 && n == 1)
		return 0;	/* one set, its bundle read in place */
	if (found == 0 && inplace > 0 && (x = first_cert(nf->cert)) != NULL) {
		names = leaf_names(x, &type);
		X509_free(x);
		for (i = 0; i < n; i++)
			if (s->set[i].cert == NULL && s->set[i].key == NULL &&
			    same_leaf(&s->set[i], names, type)) {
				k = i;
				found++;
			}
		free(names);
	}
	if (found == 1)
		return k;
	if (found > 1)
		problem(EX_CONFIG, nf->cert, "the new certificate fits %zu "
		    "identities of the tuning file, so it is not known which "
		    "one it renews" FIX "give each identity POSTFIX_TLS_CERT_N "
		    "naming its client's files", found);
	else if (named != -1)
		problem(EX_CONFIG, nf->cert, "the tuning file names other files "
		    "for this identity (POSTFIX_TLS_CERT%s = %s), which the next "
		    "start or reload would deploy again" FIX "name the client's "
		    "files there: POSTFIX_TLS_CERT, POSTFIX_TLS_KEY and "
		    "POSTFIX_TLS_CHAIN", named > 0 ? "_N" : "",
		    s->set[named].cert ? s->set[named].cert :
		    s->set[named].key);
	else
		problem(EX_CONFIG, nf->cert, "no identity of the tuning file "
		    "has a leaf with the same names and key type, so it is not "
		    "known which one it renews" FIX "name the client's files "
		    "in the tuning file: POSTFIX_TLS_CERT, POSTFIX_TLS_KEY and "
		    "POSTFIX_TLS_CHAIN");
	return -1;	/* logged */
}

/* Is FILE one of the client's files, or in one of their directories? */
static int
client_owns(const struct setconf *nf, const char *file)
{
	size_t	i;

	if (same_dir(file, nf->cert) || same_dir(file, nf->key))
		return 1;
	for (i = 0; i < nf->nchain; i++)
		if (same_dir(file, nf->chain[i]))
			return 1;
	return 0;
}

/*
 * A renewal keeps every name: each DNS name of the leaf being replaced
 * (the bundle's) is covered by the new leaf, as a client checks a name
 * (X509_check_host: a wildcard covers one label).  A first issuance has
 * nothing to keep.  Said as a problem; the run goes on to say the rest.
 */
static void
keeps_names(const char *bundle, const char *newcert)
{
	GENERAL_NAMES	*gens;
	GENERAL_NAME	*g;
	X509		*old, *new = NULL;
	char		*name;
	int		 i;

	if ((old = first_cert(bundle)) == NULL || (new = first_cert(newcert))
	    == NULL || (gens = X509_get_ext_d2i(old, NID_subject_alt_name,
	    NULL, NULL)) == NULL)
		goto out;	/* nothing to compare: the run says why */
	for (i = 0; i < sk_GENERAL_NAME_num(gens); i++) {
		g = sk_GENERAL_NAME_value(gens, i);
		if (g->type != GEN_DNS)
			continue;
		name = xstrndup((const char *)ASN1_STRING_get0_data(
		    g->d.dNSName), ASN1_STRING_length(g->d.dNSName));
		if (X509_check_host(new, name, strlen(name), 0, NULL) != 1)
			problem(EX_DATAERR, newcert, "the new certificate does "
			    "not cover %s, which the certificate it would "
			    "replace covers, so clients asking for that name "
			    "would refuse it" FIX "renew it for every name it "
			    "had (certbot: -d for each)", name);
		free(name);
	}
	GENERAL_NAMES_free(gens);
out:
	X509_free(old);
	X509_free(new);
}

int
renew_guard(const struct setconf *nf, const struct sets *ss)
{
	const struct set	*st;
	size_t			 i;
	int			 rc = 0;

	for (i = 0; i < ss->n; i++) {
		st = ss->v[i];
		if (st->conf->cert != nf->cert)
			continue;	/* not the renewed set */
		if (client_owns(nf, st->bundle)) {
			problem(EX_CONFIG, st->bundle, "main.cf serves this file "
			    "from the ACME client's own directory, so Postfix "
			    "would read the client's live files" FIX "let the "
			    "helper write a bundle of its own: POSTFIX_TLS_BUNDLE="
			    "%s/certificate.pem, named in smtpd_tls_chain_files",
			    DEFAULT_CONFDIR);
			rc = -1;
		} else if (!st->key_in_bundle) {
			problem(EX_CONFIG, st->bundle, "Postfix reads the key "
			    "from %s, not from this bundle, so a renewal's new "
			    "key and certificate would not change in one step"
			    FIX "let the bundle carry the key: postconf -e "
			    "smtpd_tls_chain_files=%s (and empty "
			    "smtpd_tls_cert_file and smtpd_tls_key_file)",
			    st->keypath, st->bundle);
			rc = -1;
		} else
			keeps_names(st->bundle, nf->cert);	/* goes on */
	}
	return rc;	/* logged */
}

/* The tuning with set K's inputs the client's files. */
static void
with_new_files(const struct settings *s, const struct setconf *nf, int k,
    struct settings *out)
{
	size_t	i;

	*out = *s;	/* borrowed strings: never freed through OUT */
	out->set[k].cert = nf->cert;
	out->set[k].key = nf->key;
	for (i = 0; i < nf->nchain; i++)
		out->set[k].chain[i] = nf->chain[i];
	out->set[k].nchain = nf->nchain;
}

int
renew_command(const struct command *c)
{
	const struct setconf	*nf = c->renew;
	struct settings		 s;
	struct command		 d;
	const char		*svc;
	int			 k;

	if (nf->cert == NULL || nf->key == NULL) {
		problem(EX_USAGE, NULL, "renew needs the client's new files: "
		    "--cert and --key (and --chain, unless --cert holds the "
		    "chain)");
		return -1;	/* logged; not a refusal of a renewal */
	}
	if ((k = choose_set(c->s, nf)) == -1)
		goto refused;	/* logged */
	with_new_files(c->s, nf, k, &s);
	d = *c;
	d.cmd = CMD_DEPLOY;
	d.s = &s;
	if (deploy_command(&d) == -1 || findings_status() != 0)
		goto refused;	/* logged */
	record_clear(c->root, c->confdir);
	svc = service_name(c->service);	/* else OpenRC's, or none */
	if (service_reload(svc != NULL ? svc : "postfix") == -1) {
		renew_record(c->root, c->confdir, "not-reloaded");
		return -1;	/* logged */
	}
	return 0;
refused:
	renew_record(c->root, c->confdir, "refused");
	return -1;
}

const struct setconf *
renew_take_files(struct setconf *cli, struct setconf *files)
{
	*files = *cli;
	files->bundle = NULL;
	cli->cert = cli->key = NULL;
	cli->nchain = 0;
	return files;
}
