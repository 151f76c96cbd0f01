/*
 * What Postfix will serve for one identity (main.cf's, a master.cf
 * service's, an SNI domain's), read as smtpd reads it (tls_certkey.c)
 * and checked as thoroughly as the bundle this helper writes: every key
 * with its chain, in the order Postfix takes them.
 *
 * smtpd_tls_chain_files and SNI entries are one stream over their files:
 * each private key starts a group, the certificate after it is its leaf,
 * the ones after that its chain, and one key per algorithm.  The legacy
 * pairs (cert_file and key_file, ...) hold a chain, leaf first, and a
 * key.  A file this run is about to write is read as it will be, from
 * the new bundle, so what is judged is what smtpd will load.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

#include "extern.h"

#define SEPARATORS	" \t,"
#define MAX_GROUPS	8	/* keys per identity: one per algorithm */

/* One key-and-chain group being read, whose bytes may span files. */
#define MAX_PIECES	MAX_INPUTS
struct group {
	char		 keysrc[PATH_MAX];	/* the file of its key */
	unsigned char	*buf;
	size_t		 len, cap;
	struct {
		const char	*src;	/* the file, for messages */
		size_t		 off, len;
	}		 piece[MAX_PIECES];	/* the key's first */
	size_t		 npieces;
};

/* The key algorithms already loaded for this identity (Postfix's slots). */
struct slots {
	int	id[MAX_GROUPS];
	size_t	n;
};

/*
 * A second chain of one algorithm (OpenSSL's slot is the leaf's key
 * type): Postfix then refuses the whole list.
 */
static int
take_slot(struct slots *sl, X509 *leaf, const char *src, const char *param)
{
	EVP_PKEY	*pk;
	const char	*name;
	size_t		 i;
	int		 id;

	if (leaf == NULL || (pk = X509_get0_pubkey(leaf)) == NULL)
		return 0;
	id = EVP_PKEY_get_base_id(pk);
	name = key_type_name(id);
	for (i = 0; i < sl->n; i++)
		if (!strcmp(key_type_name(sl->id[i]), name)) {
			problem(EX_DATAERR, src, "a second %s key in %s: "
			    "Postfix takes one key per algorithm and refuses "
			    "the whole list, so TLS would be off (keep one %s "
			    "key with its chain)", name, param, name);
			return -1;
		}
	if (sl->n < MAX_GROUPS)
		sl->id[sl->n++] = id;
	return 0;
}

/*
 * The one-key-per-algorithm rule over chains judged elsewhere (the
 * bundles this run deploys, when an identity's list is made of them).
 */
int
serve_slots(const struct identity *id, X509 *const *leaf,
    const char *const *src, size_t n)
{
	struct slots	sl = { { 0 }, 0 };
	size_t		i;
	int		rc = 0;

	log_context(id->name);
	for (i = 0; i < n; i++)
		if (take_slot(&sl, leaf[i], src[i], id->chain_param) == -1)
			rc = -1;	/* logged */
	log_context(NULL);
	return rc;
}

/*
 * One identity's chain, said (check, deploy -v): a line for the identity,
 * the chain below it, and for check --json its record.  SRC is the file
 * the leaf is served from, KEYSRC the key's.
 */
void
serve_list(const struct served *sv, const char *who, const struct chain *c,
    const char *src, const char *keysrc)
{
	struct facts	 f;
	char		 subject[256];

	if (sv->chains != NULL && chains_add(sv->chains, who, sv->chain_sni,
	    sv->chain_scope, c) == -1)
		return;	/* logged */
	if (sv->chains_only || (!sv->list && !verbose()))
		return;
	if (facts_of(c->x509[0], &f) == -1)
		return;	/* logged */
	X509_NAME_oneline(X509_get_subject_name(c->x509[0]), subject,
	    sizeof(subject));
	report("identity %s: %s: %s, %s-%d key, %zu certificate%s, expires "
	    "%.10s", who, src, subject, f.key_type, f.key_bits, c->n,
	    c->n == 1 ? "" : "s", f.dated ? f.not_after : "unreadable");
	monitor_identity(who, src, keysrc, &f, c->n);
	facts_tree(c, &f);
	facts_free(&f);
}

/* The pool's certificates in the order they came: leaf, then its chain. */
static int
chain_as_given(const struct pool *pool, const char *src, struct chain *c)
{
	size_t	i;

	memset(c, 0, sizeof(*c));
	if (pool->n > MAX_CHAIN_LEN) {
		problem(EX_DATAERR, src, "%zu certificates follow the key, more "
		    "than the %d a chain may have here (serve the leaf and "
		    "its intermediates only)", pool->n, MAX_CHAIN_LEN);
		return -1;
	}
	for (i = 0; i < pool->n; i++)
		c->x509[i] = pool->certs[i].x509;
	c->n = pool->n;
	return 0;
}

/* The leaf, for the post-start handshake to expect (probe). */
static int
keep_leaf(struct leaves *l, X509 *x)
{
	X509	**v;

	if ((v = reallocarray(l->v, l->n + 1, sizeof(*v))) == NULL) {
		problem(EX_OSERR, NULL, "out of memory");
		return -1;
	}
	l->v = v;
	X509_up_ref(x);
	v[l->n++] = x;
	return 0;
}

void
leaves_free(struct leaves *l)
{
	while (l->n > 0)
		X509_free(l->v[--l->n]);
	free(l->v);
	l->v = NULL;
}

/* Key, chain, trust, strength; then the warnings of a working chain. */
static int
check_group(const struct identity *id, const struct served *sv,
    const struct pool *pool, const struct key *key, const char *leafsrc)
{
	struct chain	c;
	int		rc = 0;

	if (pool->n == 0) {
		problem(EX_DATAERR, key->src, "the private key is not followed "
		    "by its certificate; Postfix cannot use it (put the "
		    "certificate chain after the key, leaf first)");
		return -1;
	}
	if (chain_as_given(pool, leafsrc, &c) == -1)
		return -1;
	/* The probe wants the leaves only: the start was checked before. */
	if (sv->leaves != NULL)
		return keep_leaf(sv->leaves, c.x509[0]);
	if (verify_key(&c, key, key->src, leafsrc) == -1)
		rc = -1;	/* logged */
	if (verify_chain(&c, sv->cafile, sv->capath, leafsrc) == -1)
		rc = -1;	/* logged */
	if (rc == 0)
		verify_warn(&c, leafsrc, id->host, id->host_what,
		    sv->warn_days);
	serve_list(sv, id->name, &c, leafsrc, key->src);
	return rc;
}

/*
 * A file holding a key, not yet root:root 0600: check says what deploy
 * would change; deploy notes it with a digest of what was checked, to
 * change it once every check passed.
 */
static int
keep_secure(struct served *sv, struct file *f, const unsigned char *buf,
    size_t len)
{
	char	hex[65], *note = NULL;
	int	rc;

	if (!sv->apply)
		return file_secure(f, 0);
	if (f->st.st_uid == 0 && f->st.st_gid == 0 &&
	    (f->st.st_mode & 07777) == 0600)
		return 0;
	if (file_digest(buf, len, hex) == -1 ||
	    asprintf(&note, "%s %s", hex, f->path) == -1) {
		problem(EX_OSERR, NULL, "out of memory");
		return -1;
	}
	rc = served_note(sv, note);
	free(note);
	return rc;
}

/* A key file to make root's alone ("DIGEST PATH"), once all passed. */
int
served_note(struct served *sv, const char *note)
{
	char	**v;

	if ((v = reallocarray(sv->secure, sv->nsecure + 1, sizeof(*v))) ==
	    NULL || (v[sv->nsecure] = strdup(note)) == NULL) {
		if (v != NULL)
			sv->secure = v;
		problem(EX_OSERR, NULL, "out of memory");
		return -1;
	}
	sv->secure = v;
	sv->nsecure++;
	return 0;
}

/* One noted key file ("DIGEST PATH") made root's alone, as checked. */
static int
secure_one(const char *note)
{
	struct file	f;
	int		rc = -1;

	file_init(&f);
	if (strlen(note) >= 66 && file_open(&f, note + 65, 0) == 0 &&
	    file_secure_as_checked(&f, note, 1) == 0)
		rc = 0;
	file_close(&f);
	return rc;	/* logged */
}

/* Deploy, every check passed: the key files noted become root's alone. */
int
serve_secure(struct served *sv)
{
	size_t	i;
	int	rc = 0;

	for (i = 0; i < sv->nsecure; i++)
		if (secure_one(sv->secure[i]) == -1)
			rc = -1;	/* logged */
	return rc;
}

void
served_free(struct served *sv)
{
	while (sv->nsecure > 0)
		free(sv->secure[--sv->nsecure]);
	free(sv->secure);
	sv->secure = NULL;
}

/*
 * The bytes smtpd will read from PATH: the new bundle when this run
 * writes it, else the file, reached through the safe walk.  A file that
 * holds a key must be root's alone: check says what deploy would change,
 * deploy changes it once every check passed (serve_secure).  1 when it
 * is a bundle whose own checks failed (said already), -1 on a problem.
 */
static int
fetch(const struct identity *id, struct served *sv, const char *path,
    const char *param, unsigned char **buf, size_t *len, int *owned)
{
	struct file	f;
	size_t		i;
	int		rc = -1;

	*owned = 0;
	for (i = 0; i < sv->n; i++)
		if (same_file(path, sv->bundle[i])) {
			if (sv->pem[i] == NULL)
				return 1;
			*buf = (unsigned char *)sv->pem[i];
			*len = sv->len[i];
			return 0;
		}
	file_init(&f);
	if (file_open(&f, path, 1) == -1)
		goto out;	/* logged */
	if (f.fd == -1) {
		problem(EX_CONFIG, path, "named by %s in %s, but it does not "
		    "exist or cannot be read (create it, or correct the "
		    "setting)", param, id->where);
		goto out;
	}
	if (file_read(&f, buf, len) == -1)
		goto out;	/* logged */
	*owned = 1;
	rc = 0;
	if (pem_next_key(*buf, *len, 0) < *len)
		rc = keep_secure(sv, &f, *buf, *len);
out:
	file_close(&f);
	return rc;
}

static void
release(unsigned char *buf, size_t len, int owned)
{
	if (owned)
		freezero(buf, len);
}

/* The bytes of one file that belong to the group (SRC must outlive it). */
static int
group_add(struct group *g, const char *src, const unsigned char *p,
    size_t n)
{
	unsigned char	*b;
	size_t		 cap;

	if (g->npieces == MAX_PIECES) {
		problem(EX_CONFIG, src, "a key's chain spans more than %d "
		    "files (put the key and its chain into one file)",
		    MAX_PIECES);
		return -1;
	}
	if (g->len + n + 1 > g->cap) {
		cap = (g->len + n + 1) * 2;
		if ((b = malloc(cap)) == NULL) {
			problem(EX_OSERR, NULL, "out of memory");
			return -1;
		}
		if (g->buf != NULL)
			memcpy(b, g->buf, g->len);
		freezero(g->buf, g->cap);
		g->buf = b;
		g->cap = cap;
	}
	g->piece[g->npieces].src = src;
	g->piece[g->npieces].off = g->len;
	g->piece[g->npieces++].len = n;
	memcpy(g->buf + g->len, p, n);
	g->len += n;
	return 0;
}

/*
 * The group read so far, checked; emptied for the next one.  Each piece
 * is read under its own file's name: the key's, then each file that
 * continues its chain.
 */
static int
group_finish(const struct identity *id, const struct served *sv,
    struct group *g, struct slots *sl, const char *param)
{
	struct pool	pool = { NULL, 0, 0, POOL_STREAM };
	struct key	key;
	size_t		i;
	int		rc = -1;

	memset(&key, 0, sizeof(key));
	if (g->npieces == 0)
		return 0;
	for (i = 0; i < g->npieces; i++)
		if (pem_load(g->piece[i].src, g->buf + g->piece[i].off,
		    g->piece[i].len, &pool, &key, i == 0) == -1)
			goto out;	/* logged */
	if (check_group(id, sv, &pool, &key, pool.n ? pool.certs[0].src :
	    g->keysrc) == 0 && take_slot(sl, pool.certs[0].x509,
	    g->keysrc, param) == 0)
		rc = 0;
out:
	pool_free(&pool);
	key_free(&key);
	explicit_bzero(g->buf, g->len);
	g->len = g->npieces = 0;
	return rc;
}

/* One file of the stream: cut at each key, the part before it continues
 * the group before. */
static int
stream_file(const struct identity *id, const struct served *sv,
    struct group *g, struct slots *sl, const char *path,
    const unsigned char *buf, size_t len, const char *param, int *keys)
{
	size_t	at = pem_next_key(buf, len, 0), next;
	int	rc = 0;

	/*
	 * Only certificates continue the chain; other blocks before a key
	 * (EC PARAMETERS, as openssl ecparam -genkey writes them) smtpd
	 * passes over.
	 */
	if (at > 0 && g->keysrc[0] != '\0' && pem_has_cert(buf, at) &&
	    group_add(g, path, buf, at) == -1)
		return -1;
	if (at > 0 && g->keysrc[0] == '\0' && pem_has_cert(buf, at)) {
		problem(EX_DATAERR, path, "a certificate comes before any "
		    "private key; in %s each key must come first, followed by "
		    "its certificate chain, and Postfix refuses the whole list "
		    "(put the key first: cat KEY CHAIN > %s)", param, path);
		rc = -1;
	}
	for (; at < len; at = next) {
		if (group_finish(id, sv, g, sl, param) == -1)
			rc = -1;	/* logged */
		next = pem_next_key(buf, len, at + 1);
		strlcpy(g->keysrc, path, sizeof(g->keysrc));
		if (group_add(g, path, buf + at, next - at) == -1)
			return -1;
		(*keys)++;
	}
	return rc;
}

static int
check_stream(const struct identity *id, struct served *sv)
{
	struct group	 g;
	struct slots	 sl = { { 0 }, 0 };
	unsigned char	*buf = NULL;
	size_t		 len = 0;
	char		*copy, *p, *word;
	int		 rc = 0, owned, keys = 0, skipped = 0, r;

	memset(&g, 0, sizeof(g));
	if ((p = copy = strdup(id->chain_files)) == NULL) {
		problem(EX_OSERR, NULL, "out of memory");
		return -1;
	}
	while ((word = strsep(&p, SEPARATORS)) != NULL) {
		if (*word == '\0')
			continue;
		if ((r = fetch(id, sv, word, id->chain_param, &buf, &len,
		    &owned)) != 0) {
			rc = r == -1 ? -1 : rc;
			skipped = 1;
			continue;
		}
		if (stream_file(id, sv, &g, &sl, word, buf, len,
		    id->chain_param, &keys) == -1)
			rc = -1;	/* logged */
		release(buf, len, owned);
	}
	if (group_finish(id, sv, &g, &sl, id->chain_param) == -1)
		rc = -1;	/* logged */
	if (keys == 0 && rc == 0 && !skipped) {
		problem(EX_DATAERR, id->where, "%s holds no private key, so "
		    "Postfix would serve no certificate (each file must hold a "
		    "key followed by its certificate chain)", id->chain_param);
		rc = -1;
	}
	freezero(g.buf, g.cap);
	free(copy);
	return rc;
}

/* A legacy pair: the chain file (leaf first) and its key file. */
static int
check_pair(const struct identity *id, struct served *sv, int k)
{
	static const char *const params[][2] = {
		{ "smtpd_tls_cert_file", "smtpd_tls_key_file" },
		{ "smtpd_tls_eccert_file", "smtpd_tls_eckey_file" },
		{ "smtpd_tls_dcert_file", "smtpd_tls_dkey_file" },
	};
	const char	*cert = id->cert[k], *keyf = id->key[k];
	struct pool	 pool = { NULL, 0, 0, POOL_PAIR };
	struct pool	 kpool = { NULL, 0, 0, POOL_PAIR };
	struct key	 key;
	unsigned char	*buf = NULL, *kbuf = NULL;
	size_t		 len = 0, klen = 0;
	int		 owned = 0, kowned = 0, one, r, rc = -1;

	memset(&key, 0, sizeof(key));
	if (*keyf == '\0')
		keyf = cert;	/* Postfix's default: $smtpd_tls_cert_file */
	one = same_file(cert, keyf);
	/* Both files are fetched: two missing files are two lines. */
	rc = fetch(id, sv, cert, params[k][0], &buf, &len, &owned);
	if (!one && (r = fetch(id, sv, keyf, params[k][1], &kbuf, &klen,
	    &kowned)) != 0 && rc != -1)
		rc = r;
	if (rc != 0)
		goto out;	/* logged, or a refused bundle's */
	rc = -1;
	if (pem_load(cert, buf, len, &pool, &key, one) == -1)
		goto out;	/* logged */
	if (!one && pem_load(keyf, kbuf, klen, &kpool, &key, 1) == -1)
		goto out;	/* logged */
	if (key.count == 0) {
		problem(EX_DATAERR, keyf, "no private key found for %s %s "
		    "(expected a PEM \"PRIVATE KEY\" block)", params[k][0],
		    cert);
		goto out;
	}
	rc = check_group(id, sv, &pool, &key, cert);
out:
	release(buf, len, owned);
	release(kbuf, klen, kowned);
	pool_free(&pool);
	pool_free(&kpool);
	key_free(&key);
	return rc == 1 ? 0 : rc;
}

int
serve_check(const struct identity *id, struct served *sv)
{
	int	k, rc = 0;

	log_context(id->name);
	if (id->chain_files != NULL && *id->chain_files != '\0')
		rc = check_stream(id, sv);
	else
		for (k = 0; k < 3; k++)
			if (id->cert[k] != NULL && *id->cert[k] != '\0' &&
			    check_pair(id, sv, k) == -1)
				rc = -1;	/* logged */
	log_context(NULL);
	return rc;
}
