/*
 * A slot's files, read (material.h).  What cannot be read as smtpd reads
 * it is said here (a missing file, a certificate before any key, a file
 * with no key); what is read is judged by judge.c.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>

#include <openssl/evp.h>

#include "common.h"
#include "finding.h"
#include "inventory.h"
#include "material.h"
#include "pem.h"
#include "secure.h"

/* A key-and-chain group being read, whose bytes may span files. */
#define MAX_PIECES	MAX_INPUTS
struct reading {
	char		*keysrc;	/* the file of its key */
	unsigned char	*buf;
	size_t		 len, cap;
	struct {
		char	*src;		/* the file, for messages */
		size_t	 off, len;
	}		 piece[MAX_PIECES];	/* the key's first */
	size_t		 npieces;
	int		 covered;	/* every piece from a set's bundle */
};

/* One file's bytes: a bundle this run writes, or the file itself. */
struct bytes {
	unsigned char	*buf;
	size_t		 len;
	int		 owned;		/* read here: ours to free */
	const struct pending *from;	/* the bundle it is, or NULL */
	struct file	 f;		/* as walked */
};

static void
bytes_free(struct bytes *b)
{
	if (b->owned)
		freezero(b->buf, b->len + 1);
	file_close(&b->f);
	memset(b, 0, sizeof(*b));
	file_init(&b->f);
}

/* A key file to make root's alone once every check passed. */
static void
keep_secure(struct material *m, const struct bytes *b)
{
	char	hex[65];

	if (file_private(&b->f) || file_digest(b->buf, b->len, hex) == -1)
		return;
	m->secure = xreallocarray(m->secure, m->nsecure + 1,
	    sizeof(*m->secure));
	m->secure[m->nsecure++] = xasprintf("%s %s", hex, b->f.path);
}

/*
 * The bytes smtpd will read from PATH, walked as written: the new bundle
 * when this run writes that file, else the file.  1 when it is a bundle
 * whose own checks failed (said already), -1 on a problem, 0 otherwise.
 */
static int
fetch(const struct slot *s, const struct pending *pd, size_t npd,
    const char *path, const char *param, struct material *m,
    struct bytes *b)
{
	size_t	i;

	memset(b, 0, sizeof(*b));
	file_init(&b->f);
	if (file_open(&b->f, path, 1) == -1)
		return -1;	/* logged */
	for (i = 0; i < npd; i++)
		if (file_same(&b->f, pd[i].bundle)) {
			if (pd[i].pem == NULL) {
				if (m->refused == NULL)
					m->refused = &pd[i];
				return 1;
			}
			b->from = &pd[i];
			b->buf = (unsigned char *)pd[i].pem;
			b->len = pd[i].len;
			return 0;
		}
	if (b->f.fd == -1) {
		problem(EX_CONFIG, path, "named by %s in %s, but it does not "
		    "exist or cannot be read" FIX "create it, or correct the "
		    "setting", param, s->where);
		return -1;
	}
	if (file_read(&b->f, &b->buf, &b->len) == -1)
		return -1;	/* logged */
	b->owned = 1;
	if (pem_next_key(b->buf, b->len, 0) < b->len)
		keep_secure(m, b);
	return 0;
}

/* The bytes of one file that belong to the group being read. */
static int
reading_add(struct reading *r, const char *src, const unsigned char *p,
    size_t n)
{
	unsigned char	*nb;
	size_t		 cap;

	if (r->npieces == MAX_PIECES) {
		problem(EX_CONFIG, src, "a key's chain spans more than %d files"
		    FIX "put the key and its chain into one file", MAX_PIECES);
		return -1;
	}
	if (r->len + n + 1 > r->cap) {
		cap = (r->len + n + 1) * 2;
		nb = xmalloc(cap);
		if (r->buf != NULL)
			memcpy(nb, r->buf, r->len);
		freezero(r->buf, r->cap);
		r->buf = nb;
		r->cap = cap;
	}
	r->piece[r->npieces].src = xstrdup(src);
	r->piece[r->npieces].off = r->len;
	r->piece[r->npieces++].len = n;
	memcpy(r->buf + r->len, p, n);
	r->len += n;
	return 0;
}

static void
group_free(struct group *g)
{
	free(g->keysrc);
	while (g->nsrcs > 0)
		free(g->srcs[--g->nsrcs]);
	free(g->srcs);
	pool_free(&g->pool);
	key_free(&g->key);
}

static struct group *
new_group(struct material *m)
{
	struct group	*g;

	m->g = xreallocarray(m->g, m->n + 1, sizeof(*m->g));
	g = &m->g[m->n++];
	memset(g, 0, sizeof(*g));
	return g;
}

/*
 * The group read so far, parsed: each piece under its own file's name,
 * the key's first.  Emptied for the next one.
 */
static int
reading_finish(struct reading *r, struct material *m)
{
	struct group	*g;
	size_t		 i;
	int		 rc = 0;

	if (r->npieces == 0)
		return 0;
	g = new_group(m);
	g->pool.served = POOL_STREAM;
	g->stream = 1;
	g->covered = r->covered;
	g->keysrc = xstrdup(r->keysrc);
	/* A set's bundle: its key was judged with the set, not decoded again. */
	for (i = 0; i < r->npieces && rc == 0; i++)
		if (pem_load(r->piece[i].src, r->buf + r->piece[i].off,
		    r->piece[i].len, &g->pool, &g->key, i == 0 &&
		    !r->covered) == -1)
			rc = -1;	/* logged */
	g->leafsrc = g->pool.n > 0 ? g->pool.certs[0].src : g->keysrc;
	/* The pool's certificates name their files: the group keeps them. */
	g->srcs = xreallocarray(NULL, r->npieces, sizeof(*g->srcs));
	for (i = 0; i < r->npieces; i++)
		g->srcs[g->nsrcs++] = r->piece[i].src;
	if (rc == -1)
		group_free(&m->g[--m->n]);
	explicit_bzero(r->buf, r->len);
	r->len = r->npieces = 0;
	free(r->keysrc);
	r->keysrc = NULL;
	r->covered = 1;
	return rc;
}

/*
 * One file of the stream: cut at each key; the part before the first
 * key continues the group before.
 */
static int
stream_file(const struct slot *s, struct reading *r, struct material *m,
    const char *path, const struct bytes *b, int *keys)
{
	size_t	at = pem_next_key(b->buf, b->len, 0), next;
	int	rc = 0, key_in = b->from != NULL && b->from->key == NULL;

	/*
	 * Only certificates continue the chain; other blocks before a key
	 * (EC PARAMETERS, as openssl ecparam -genkey writes them) smtpd
	 * passes over.
	 */
	if (at > 0 && r->keysrc != NULL && pem_has_cert(b->buf, at)) {
		r->covered &= key_in;
		if (reading_add(r, path, b->buf, at) == -1)
			return -1;
	}
	if (at > 0 && r->keysrc == NULL && pem_has_cert(b->buf, at)) {
		problem(EX_DATAERR, path, "a certificate comes before any "
		    "private key; in %s each key must come first, followed by "
		    "its certificate chain, and Postfix refuses the whole list"
		    FIX "put the key first: cat KEY CHAIN > %s", s->chain_param,
		    path);
		rc = -1;
	}
	for (; at < b->len; at = next) {
		if (reading_finish(r, m) == -1)
			rc = -1;	/* logged */
		next = pem_next_key(b->buf, b->len, at + 1);
		r->keysrc = xstrdup(path);
		r->covered = key_in;
		if (reading_add(r, path, b->buf + at, next - at) == -1)
			return -1;
		(*keys)++;
	}
	return rc;
}

/* The digest of what postmap -F stores: the files, "\n" between them. */
static void
stored_add(EVP_MD_CTX *md, const struct bytes *b, int first)
{
	if (md == NULL)
		return;
	if (!first)
		EVP_DigestUpdate(md, "\n", 1);
	EVP_DigestUpdate(md, b->buf, b->len);
}

static void
stored_end(EVP_MD_CTX *md, struct material *m, int whole)
{
	unsigned char	d[EVP_MAX_MD_SIZE];
	unsigned int	n = 0, i;

	m->stored[0] = '\0';
	if (md != NULL && whole && EVP_DigestFinal_ex(md, d, &n) && n == 32)
		for (i = 0; i < n; i++)
			snprintf(m->stored + 2 * i, 3, "%02x", d[i]);
	EVP_MD_CTX_free(md);
}

static int
load_stream(const struct slot *s, const struct pending *pd, size_t npd,
    struct material *m)
{
	struct reading	 r;
	struct bytes	 b;
	EVP_MD_CTX	*md = EVP_MD_CTX_new();
	const char	*cur = s->chain_files, *w;
	char		 path[PATH_MAX];
	size_t		 len, nfiles = 0;
	int		 rc = 0, keys = 0, got, whole = 1;

	memset(&r, 0, sizeof(r));
	r.covered = 1;
	if (md != NULL && !EVP_DigestInit_ex(md, EVP_sha256(), NULL)) {
		EVP_MD_CTX_free(md);
		md = NULL;
	}
	while ((w = plist_next(&cur, &len, PLIST_PLAIN, NULL)) != NULL) {
		if (len >= sizeof(path)) {
			problem(EX_CONFIG, s->where, "a name in %s is longer "
			    "than %d bytes" FIX "shorten it", s->chain_param,
			    PATH_MAX - 1);
			rc = -1;
			continue;
		}
		memcpy(path, w, len);
		path[len] = '\0';
		if ((got = fetch(s, pd, npd, path, s->chain_param, m, &b)) !=
		    0) {
			rc = got == -1 ? -1 : rc;
			m->skipped |= got == 1;
			whole = 0;
			bytes_free(&b);
			continue;
		}
		stored_add(md, &b, nfiles++ == 0);
		if (stream_file(s, &r, m, path, &b, &keys) == -1)
			rc = -1;	/* logged */
		bytes_free(&b);
	}
	stored_end(md, m, whole && nfiles > 0);
	if (reading_finish(&r, m) == -1)
		rc = -1;	/* logged */
	if (keys == 0 && rc == 0 && !m->skipped) {
		problem(EX_DATAERR, s->where, "%s holds no private key, so "
		    "Postfix would serve no certificate" FIX "each file must "
		    "hold a key followed by its certificate chain",
		    s->chain_param);
		rc = -1;
	}
	freezero(r.buf, r.cap);
	free(r.keysrc);
	return rc;
}

/* A legacy pair: the chain file (leaf first) and its key file. */
static int
load_pair(const struct slot *s, const struct pending *pd, size_t npd,
    int k, struct material *m)
{
	const char	*cert = s->cert[k], *keyf = s->key[k];
	struct bytes	 cb, kb;
	struct pool	 kpool = { NULL, 0, 0, POOL_PAIR };
	struct group	 g;
	int		 one, r, rc;

	memset(&g, 0, sizeof(g));
	memset(&kb, 0, sizeof(kb));
	file_init(&kb.f);
	if (*keyf == '\0')
		keyf = cert;	/* Postfix's default: $smtpd_tls_cert_file */
	/*
	 * Both files are fetched: two missing files are two lines.  With a
	 * bundle whose own checks failed, what they said stands alone.
	 */
	rc = fetch(s, pd, npd, cert, s->cert_param[k], m, &cb);
	one = !strcmp(cert, keyf);
	if (!one && rc != 1 && (r = fetch(s, pd, npd, keyf, s->key_param[k],
	    m, &kb)) != 0 && rc != -1)
		rc = r;
	if (rc != 0) {
		m->skipped |= rc == 1;
		rc = rc == 1 ? 0 : -1;
		goto out;	/* logged, or a refused bundle's */
	}
	one = one || file_same(&cb.f, &kb.f);
	g.pool.served = POOL_PAIR;
	g.keysrc = xstrdup(keyf);
	g.leafsrc = cert;
	/* Its set judged it: the bundle with the set's own key file. */
	g.covered = cb.from != NULL && (one ? cb.from->key == NULL :
	    kb.from == NULL && cb.from->key != NULL &&
	    file_same(&kb.f, cb.from->key));
	rc = -1;
	/* A set's pair: its key was judged with the set, not decoded again. */
	if (pem_load(cert, cb.buf, cb.len, &g.pool, &g.key, one &&
	    !g.covered) == -1 || (!one && !g.covered && pem_load(keyf,
	    kb.buf, kb.len, &kpool, &g.key, 1) == -1))
		goto out;	/* logged */
	if (g.key.count == 0 && !g.covered) {
		problem(EX_DATAERR, keyf, "no private key found for %s %s"
		    FIX "expected a PEM \"PRIVATE KEY\" block",
		    s->cert_param[k], cert);
		goto out;
	}
	*new_group(m) = g;
	memset(&g, 0, sizeof(g));
	rc = 0;
out:
	group_free(&g);
	pool_free(&kpool);
	bytes_free(&cb);
	bytes_free(&kb);
	return rc;
}

int
material_load(const struct slot *s, const struct pending *pd, size_t npd,
    struct material *m)
{
	int	k, rc = 0;

	memset(m, 0, sizeof(*m));
	if (*s->chain_files != '\0')
		return load_stream(s, pd, npd, m);
	for (k = 0; k < 3; k++)
		if (*s->cert[k] != '\0' && load_pair(s, pd, npd, k, m) == -1)
			rc = -1;	/* logged */
	return rc;
}

void
material_free(struct material *m)
{
	size_t	i;

	for (i = 0; i < m->n; i++)
		group_free(&m->g[i]);
	free(m->g);
	while (m->nsecure > 0)
		free(m->secure[--m->nsecure]);
	free(m->secure);
	memset(m, 0, sizeof(*m));
}
