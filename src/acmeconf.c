/*
 * ACME clients' directories and key settings (acmeconf.h).  Everything
 * here is advice at check: a client file that is absent, unreadable or
 * not safe to read (the usual walk: secure.c) is passed over in silence,
 * and no file is ever written.
 */
#include <sys/types.h>

#include <dirent.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/x509.h>

#include "acmeconf.h"
#include "common.h"
#include "conf.h"
#include "finding.h"
#include "pem.h"
#include "secure.h"

#define MAX_CONFD	64	/* dehydrated CONFIG_D files read */

/*
 * The directories ACME clients write their live files into, as path
 * parts, so that any root they sit under matches (certbot's --config-dir
 * keeps the "letsencrypt" name in practice; lego's --path is often
 * /var/lib/lego or ~/.lego).
 */
static const struct {
	const char	*part, *client;
} acme_dirs[] = {
	{ "/letsencrypt/live/", "certbot" },
	{ "/letsencrypt/archive/", "certbot" },
	{ "/dehydrated/certs/", "dehydrated" },
	{ "/ssl/uacme/", "uacme" },
	{ "/lego/certificates/", "lego" },
	{ "/.lego/certificates/", "lego" },
};

const char *
acme_client_of(const char *path)
{
	size_t	i;

	for (i = 0; i < sizeof(acme_dirs) / sizeof(acme_dirs[0]); i++)
		if (strstr(path, acme_dirs[i].part) != NULL)
			return acme_dirs[i].client;
	return NULL;
}

static const char *
blanks(const char *p, const char *end)
{
	while (p < end && (*p == ' ' || *p == '\t' || *p == '\r'))
		p++;
	return p;
}

/* Is the line at P (blanks skipped) the header "[SECTION]"? */
static int
is_header(const char *p, const char *eol, const char *section)
{
	size_t	slen = strlen(section);

	return (size_t)(eol - p) >= slen + 2 &&
	    strncmp(p + 1, section, slen) == 0 && p[slen + 1] == ']';
}

int
acme_setting(const char *text, size_t len, const char *section,
    const char *name, char *buf, size_t size)
{
	const char	*p, *end = text + len, *eol, *v, *ve;
	size_t		 nlen = strlen(name);
	int		 in = section == NULL, found = 0;

	for (p = text; p < end; p = eol + (eol < end)) {
		if ((eol = memchr(p, '\n', end - p)) == NULL)
			eol = end;
		p = blanks(p, eol);
		/* A header ends the section, a subsection ("[[x]]") too. */
		if (section != NULL && p < eol && *p == '[') {
			in = is_header(p, eol, section);
			continue;
		}
		if (section == NULL && eol - p > 7 && !strncmp(p, "export", 6) &&
		    (p[6] == ' ' || p[6] == '\t'))
			p = blanks(p + 6, eol);
		if (!in || (size_t)(eol - p) <= nlen || strncmp(p, name, nlen))
			continue;
		/* INI allows blanks around '='; a shell assignment does not. */
		v = section != NULL ? blanks(p + nlen, eol) : p + nlen;
		if (v == eol || *v++ != '=')
			continue;
		if (section != NULL)
			v = blanks(v, eol);
		if (v < eol && (*v == '"' || *v == '\'')) {
			if ((ve = memchr(v + 1, *v, eol - v - 1)) == NULL)
				continue;	/* unbalanced: not a value */
			v++;
		} else
			for (ve = v; ve < eol && *ve != ' ' && *ve != '\t' &&
			    *ve != '\r' && *ve != '#'; ve++)
				;
		snprintf(buf, size, "%.*s", (int)(ve - v), v);
		found = 1;
	}
	return found;
}

/*
 * NAME's value in the file PATH, as acme_setting reads it: 1 set, 0 not
 * set, -1 the file is absent or not safe to read (nothing said: its
 * trouble is not ours to report).
 */
static int
file_setting(const char *path, const char *section, const char *name,
    char *buf, size_t size)
{
	struct file	 f;
	unsigned char	*text = NULL;
	size_t		 len, mark = findings_mark();
	int		 rc = -1;

	file_init(&f);
	if (file_open(&f, path, 1) == 0 && f.fd != -1 &&
	    file_read(&f, &text, &len) == 0)
		rc = acme_setting((const char *)text, len, section, name, buf,
		    size);
	findings_drop(mark);
	file_close(&f);
	free(text);
	return rc;
}

/* PATH's component after PART ("/letsencrypt/live/"), and PATH before it. */
static int
client_path(const char *path, const char *part, char *base, size_t bsize,
    char *name, size_t nsize)
{
	const char	*p = strstr(path, part), *n;
	size_t		 nl;

	if (p == NULL)
		return 0;
	n = p + strlen(part);
	if ((nl = strcspn(n, "/")) == 0 || n[nl] != '/' || nl >= nsize ||
	    (size_t)(p - path) >= bsize)
		return 0;
	snprintf(base, bsize, "%.*s", (int)(p - path), path);
	snprintf(name, nsize, "%.*s", (int)nl, n);
	return 1;
}

/* The client files already warned about: once a file. */
struct said {
	char	path[MAX_SETS][PATH_MAX];
	size_t	n;
};

static int
first_time(struct said *said, const char *path)
{
	size_t	i;

	for (i = 0; i < said->n; i++)
		if (strcmp(said->path[i], path) == 0)
			return 0;
	if (said->n < MAX_SETS)
		strlcpy(said->path[said->n++], path, PATH_MAX);
	return 1;
}

/* What to publish, as the fixes say it. */
static const char *
publish(const char *ta)
{
	return *ta ? ta : "the new key's 3 1 1 record as soon as the client "
	    "has made it (postfix-tls-setup tlsa with its files), before it "
	    "is deployed";
}

/*
 * certbot: the lineage's renewal file beside live/; reuse_key under
 * [renewalparams], False by default (certbot 2.1), read as certbot reads
 * it (true or false, any case).  A lineage without the file: nothing.
 */
static void
certbot_advice(const char *cert, const char *host, const char *ta,
    struct said *said)
{
	char	base[PATH_MAX], name[NAME_MAX + 1], conf[PATH_MAX], value[16];
	int	set;

	if (!client_path(cert, "/letsencrypt/live/", base, sizeof(base),
	    name, sizeof(name)) ||
	    (size_t)snprintf(conf, sizeof(conf), "%s/letsencrypt/renewal/%s.conf",
	    base, name) >= sizeof(conf) ||
	    (set = file_setting(conf, "renewalparams", "reuse_key", value,
	    sizeof(value))) == -1 ||
	    (set && strcasecmp(value, "true") == 0) || !first_time(said, conf))
		return;
	warning(conf, "certbot makes a new key at each renewal of %s "
	    "(reuse_key %s%s), and only the current key's 3 x x record is "
	    "published: its next renewal brings a key no TLSA record for %s "
	    "matches" FIX "publish %s now; or keep the key: reuse_key = True "
	    "under [renewalparams] here", name, set ? "= " :
	    "is not set: False by default", set ? value : "", host,
	    publish(ta));
}

/*
 * dehydrated's main config: BASEDIR's own in upstream's layout
 * (/etc/dehydrated/certs), /etc/dehydrated/config beside Debian's and
 * Gentoo's /var/lib/dehydrated/certs; BASE is what precedes
 * "/dehydrated/certs/", so a test's tree keeps its prefix.
 */
static int
dehydrated_main(const char *base, char *buf, size_t size)
{
	size_t	len = strlen(base);
	int	pre = 0;

	if (len >= 8 && !strcmp(base + len - 8, "/var/lib"))
		pre = (int)len - 8;
	else if (len >= 4 && !strcmp(base + len - 4, "/etc"))
		pre = (int)len - 4;
	return (size_t)snprintf(buf, size, "%.*s/etc/dehydrated/config", pre,
	    base) < size;
}

static int
by_name(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/*
 * CONFIG_D's *.sh files, in the order dehydrated sources them: each one
 * that sets NAME overrides the one before (VALUE and WHERE updated).
 * Only the names are listed here; each file is read through the walk.
 */
static void
confd_setting(const char *dir, const char *name, char *value, size_t vsize,
    char *where, size_t wsize)
{
	DIR		*d;
	struct dirent	*e;
	char		*names[MAX_CONFD], path[PATH_MAX];
	size_t		 n = 0, i, len;

	if ((d = opendir(dir)) == NULL)
		return;
	while (n < MAX_CONFD && (e = readdir(d)) != NULL)
		if ((len = strlen(e->d_name)) > 3 &&
		    !strcmp(e->d_name + len - 3, ".sh"))
			names[n++] = xstrdup(e->d_name);
	closedir(d);
	qsort(names, n, sizeof(names[0]), by_name);
	for (i = 0; i < n; i++) {
		if ((size_t)snprintf(path, sizeof(path), "%s/%s", dir,
		    names[i]) < sizeof(path) &&
		    file_setting(path, NULL, name, value, vsize) == 1)
			strlcpy(where, path, wsize);
		free(names[i]);
	}
}

/*
 * NAME as dehydrated reads it: the main config, then its CONFIG_D files,
 * then the certificate's own config (OWN), the last one setting it
 * winning.  1 and VALUE, WHERE (the file that set it), or 0.
 */
static int
dehydrated_setting(const char *main_conf, const char *own, const char *name,
    char *value, size_t vsize, char *where, size_t wsize)
{
	char	confd[PATH_MAX];

	*where = '\0';
	if (file_setting(main_conf, NULL, name, value, vsize) == 1)
		strlcpy(where, main_conf, wsize);
	if (file_setting(main_conf, NULL, "CONFIG_D", confd,
	    sizeof(confd)) == 1 && *confd != '\0')
		confd_setting(confd, name, value, vsize, where, wsize);
	if (file_setting(own, NULL, name, value, vsize) == 1)
		strlcpy(where, own, wsize);
	return *where != '\0';
}

/*
 * "_25._tcp.HOST. IN TLSA 3 1 1 HEX" for the key in PATH: 1, or 0 when
 * there is none to be had.  Read through the walk, zeroed when done:
 * only the digest of its public half leaves here.
 */
static int
next_key_record(const char *path, const char *host, char *buf, size_t size)
{
	struct file	 f;
	struct pool	 pool;
	struct key	 key;
	unsigned char	*text = NULL, *der = NULL, md[EVP_MAX_MD_SIZE];
	unsigned int	 mdlen, i;
	size_t		 len = 0, mark = findings_mark();
	int		 n, derlen, ok = 0;

	memset(&pool, 0, sizeof(pool));
	memset(&key, 0, sizeof(key));
	file_init(&f);
	if (file_open(&f, path, 1) == 0 && f.fd != -1 &&
	    file_read(&f, &text, &len) == 0 &&
	    pem_load(path, text, len, &pool, &key, 1) == 0 &&
	    key.pkey != NULL && (derlen = i2d_PUBKEY(key.pkey, &der)) > 0 &&
	    EVP_Digest(der, derlen, md, &mdlen, EVP_sha256(), NULL)) {
		n = snprintf(buf, size, "_25._tcp.%s. IN TLSA 3 1 1 ", host);
		for (i = 0; i < mdlen && n > 0 && (size_t)n + 3 <= size; i++)
			n += snprintf(buf + n, size - n, "%02x", md[i]);
		ok = n > 0 && (size_t)n < size;
	}
	findings_drop(mark);
	OPENSSL_free(der);
	key_free(&key);
	pool_free(&pool);
	if (text != NULL)
		freezero(text, len + 1);
	file_close(&f);
	return ok;
}

/*
 * dehydrated: PRIVATE_KEY_RENEW, "yes" by default; only "yes" renews
 * (dehydrated compares with =).  With PRIVATE_KEY_ROLLOVER "yes" the
 * next key waits in privkey.roll.pem: its record is the one to publish.
 */
static void
dehydrated_advice(const char *cert, const char *host, const char *ta,
    struct said *said)
{
	char	base[PATH_MAX], name[NAME_MAX + 1], main_conf[PATH_MAX];
	char	own[PATH_MAX], roll[PATH_MAX], where[PATH_MAX], value[16] = "";
	char	rwhere[PATH_MAX], rvalue[16], next[512];
	int	set, has_next;

	if (!client_path(cert, "/dehydrated/certs/", base, sizeof(base), name,
	    sizeof(name)) ||
	    !dehydrated_main(base, main_conf, sizeof(main_conf)) ||
	    (size_t)snprintf(own, sizeof(own), "%s/dehydrated/certs/%s/config",
	    base, name) >= sizeof(own) ||
	    (size_t)snprintf(roll, sizeof(roll),
	    "%s/dehydrated/certs/%s/privkey.roll.pem", base, name) >=
	    sizeof(roll))
		return;
	set = dehydrated_setting(main_conf, own, "PRIVATE_KEY_RENEW", value,
	    sizeof(value), where, sizeof(where));
	if ((set && strcmp(value, "yes") != 0) ||
	    !first_time(said, set ? where : main_conf))
		return;
	has_next = dehydrated_setting(main_conf, own, "PRIVATE_KEY_ROLLOVER",
	    rvalue, sizeof(rvalue), rwhere, sizeof(rwhere)) &&
	    strcmp(rvalue, "yes") == 0 &&
	    next_key_record(roll, host, next, sizeof(next));
	warning(set ? where : main_conf, "dehydrated makes a new key at each "
	    "renewal of %s (PRIVATE_KEY_RENEW%s%s), and only the current "
	    "key's 3 x x record is published: its next renewal brings a key "
	    "no TLSA record for %s matches" FIX "publish %s now%s; or keep "
	    "the key: PRIVATE_KEY_RENEW=\"no\"", name, set ? "=" :
	    " is not set: yes by default", value, host, has_next ? next :
	    publish(ta), has_next ? " (the next key, kept in "
	    "privkey.roll.pem by PRIVATE_KEY_ROLLOVER)" : "");
}

void
acme_key_advice(const struct settings *s, const char *host, const char *ta)
{
	struct said	*said = xcalloc(1, sizeof(*said));
	size_t		 i;

	for (i = 0; i < MAX_SETS; i++) {
		if (s->set[i].cert == NULL)
			continue;
		certbot_advice(s->set[i].cert, host, ta, said);
		dehydrated_advice(s->set[i].cert, host, ta, said);
	}
	free(said);
}
