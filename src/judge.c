/*
 * The judge (judge.h).  A group that a set of this run assembled and
 * verified already (its bundle, with its key) is listed, not judged
 * again; the one-key-per-algorithm rule spans every group of a list.
 */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>

#include <openssl/evp.h>
#include <openssl/x509.h>

#include "acmeconf.h"
#include "chain.h"
#include "common.h"
#include "finding.h"
#include "inspect.h"
#include "inventory.h"
#include "judge.h"
#include "material.h"
#include "pem.h"
#include "secure.h"
#include "verify.h"

#define MAX_GROUPS	8	/* keys per identity: one per algorithm */

/* The pool's certificates in the order they came: leaf, then its chain. */
static int
chain_as_given(const struct pool *pool, const char *src, struct chain *c)
{
	size_t	i;

	memset(c, 0, sizeof(*c));
	if (pool->n > MAX_CHAIN_LEN) {
		problem(EX_DATAERR, src, "%zu certificates follow the key, more "
		    "than the %d a chain may have here" FIX "serve the leaf and "
		    "its intermediates only", pool->n, MAX_CHAIN_LEN);
		return -1;
	}
	for (i = 0; i < pool->n; i++)
		c->x509[i] = pool->certs[i].x509;
	c->n = pool->n;
	return 0;
}

/*
 * One identity's chain, said (check, deploy -v): a line for the identity
 * and the chain below it; and its listing for check --json and --nagios.
 */
static void
list_chain(const struct slot *s, const struct chain *c, const char *src,
    const char *keysrc, const struct judge_opts *o)
{
	struct listing	 l;
	struct facts	 f;
	char		 subject[256];
	size_t		 i;

	if (!o->list && !o->records && !verbose())
		return;
	if (facts_of(c->x509[0], &f) == -1)
		return;	/* logged */
	if (o->list || verbose()) {
		X509_NAME_oneline(X509_get_subject_name(c->x509[0]), subject,
		    sizeof(subject));
		note("identity %s: %s: %s, %s-%d key, %zu certificate%s, "
		    "expires %.10s", s->name, src, subject, f.key_type,
		    f.key_bits, c->n, c->n == 1 ? "" : "s", f.dated ?
		    f.not_after : "unreadable");
		facts_tree(c, &f);
	}
	if (!o->records) {
		facts_free(&f);
		return;
	}
	memset(&l, 0, sizeof(l));
	l.name = xstrdup(s->name);
	l.file = xstrdup(src);
	l.key = xstrdup(keysrc);
	l.subject = xstrdup(f.subject);
	l.issuer = xstrdup(f.issuer);
	l.not_after = xstrdup(f.dated ? f.not_after : "");
	l.key_type = xstrdup(f.key_type);
	l.sig_alg = xstrdup(f.sig_alg);
	l.days_left = f.days_left;
	l.key_bits = f.key_bits;
	l.chain_len = c->n;
	(void)verify_lifetime(c->x509[0], &l.lifetime, &l.secs_left);
	l.names = xcalloc(f.nnames, sizeof(*l.names));
	for (i = 0; i < f.nnames; i++)
		l.names[l.nnames++] = xstrdup(f.names[i]);
	listing_add(&l);
	facts_free(&f);
}

/*
 * Key, chain, trust, strength; then the warnings of a working chain.  A
 * group its set judged (key, server chain, expiry, myhostname) is judged
 * here only for what the slot adds: as a client certificate, or for the
 * SNI name it is served to.
 */
static int
judge_group(const struct slot *s, const struct group *g,
    const struct judge_opts *o)
{
	struct chain	c;
	int		rc = 0;

	if (g->pool.n == 0) {
		problem(EX_DATAERR, g->keysrc, "the private key is not followed "
		    "by its certificate; Postfix cannot use it" FIX "put the "
		    "certificate chain after the key, leaf first");
		return -1;
	}
	if (chain_as_given(&g->pool, g->leafsrc, &c) == -1)
		return -1;	/* logged */
	if (!g->covered && verify_key(&c, &g->key, g->keysrc, g->leafsrc) ==
	    -1)
		rc = -1;	/* logged */
	if (s->role == ROLE_CLIENT) {
		/* A key Postfix cannot load is all there is to say. */
		if (rc == 0)
			verify_client(&c, &o->trust, g->leafsrc,
			    *s->chain_files != '\0' ? s->chain_param :
			    s->cert_param[0]);
		if (rc == 0 && !g->covered)
			verify_warn(&c, g->leafsrc, NULL, NULL, o->warn_days);
	} else if (!g->covered) {
		if (verify_chain(&c, &o->trust, g->leafsrc) == -1)
			rc = -1;	/* logged */
		if (rc == 0)
			verify_warn(&c, g->leafsrc, s->host, s->host_what,
			    o->warn_days);
	} else if (strcmp(s->host_what, "myhostname"))
		verify_host(&c, g->leafsrc, s->host, s->host_what);
	list_chain(s, &c, g->leafsrc, g->keysrc, o);
	return rc;
}

/*
 * A second chain of one algorithm in a list (OpenSSL's slot is the leaf's
 * key type): Postfix then refuses the whole list.
 */
static int
one_key_each(const struct slot *s, const struct material *m)
{
	int	ids[MAX_GROUPS], id;
	size_t	i, j, n = 0;
	int	rc = 0;

	for (i = 0; i < m->n; i++) {
		if (!m->g[i].stream || m->g[i].pool.n == 0)
			continue;
		id = key_slot_of(m->g[i].pool.certs[0].x509);
		for (j = 0; j < n && ids[j] != id; j++)
			;
		if (j < n) {
			problem(EX_DATAERR, m->g[i].keysrc, "a second %s key in "
			    "%s: Postfix takes one key per algorithm and "
			    "refuses the whole list, so TLS would be off" FIX
			    "keep one %s key with its chain",
			    key_type_name(id), s->chain_param, key_type_name(id));
			rc = -1;
		} else if (n < MAX_GROUPS)
			ids[n++] = id;
	}
	return rc;
}

/*
 * check: a file main.cf or master.cf names straight in an ACME client's
 * directory.  Each new Postfix process loads the certificate and key
 * when it starts, not at reload, so once the client has replaced one of
 * them, and before any hook runs, new processes serve a key with a
 * certificate that is not its own.  A warning: it works between renewals.
 */
static void
warn_acme_dir(const char *file, size_t len, const char *param)
{
	const char	*client;
	char		 path[PATH_MAX];

	if (len == 0 || len >= sizeof(path))
		return;
	memcpy(path, file, len);
	path[len] = '\0';
	if ((client = acme_client_of(path)) == NULL)
		return;
	warning(path, "%s names a file in %s's own directory: Postfix loads "
	    "it in each new process, so while %s renews, a new key can be "
	    "served with the old certificate" FIX "name the deployed set "
	    "instead: set POSTFIX_TLS_CERT and POSTFIX_TLS_KEY to the "
	    "client's files and point %s at the bundle postfix-tls-setup "
	    "writes (its hook deploys each renewal)", param, client, client,
	    param);
}

/* Each file a slot of main.cf or master.cf names (not an SNI entry's). */
static void
acme_dirs_of(const struct slot *s)
{
	const char	*cur = s->chain_files, *w;
	size_t		 k, len;

	if (s->role == ROLE_SERVER && strcmp(s->host_what, "myhostname"))
		return;	/* postmap copied an SNI entry's files */
	if (cur != NULL && *cur != '\0') {	/* it hides the others */
		while ((w = plist_next(&cur, &len, PLIST_PLAIN, NULL)) != NULL)
			warn_acme_dir(w, len, s->chain_param);
		return;
	}
	for (k = 0; k < 3; k++) {
		if (s->cert[k] != NULL)
			warn_acme_dir(s->cert[k], strlen(s->cert[k]),
			    s->cert_param[k]);
		if (s->key[k] != NULL)
			warn_acme_dir(s->key[k], strlen(s->key[k]),
			    s->key_param[k]);
	}
}

int
judge_identity(const struct slot *s, const struct pending *pd, size_t npd,
    const struct judge_opts *o, struct material *m)
{
	size_t	mark = findings_mark(), i;
	int	rc = 0;

	if (material_load(s, pd, npd, m) == -1)
		rc = -1;	/* logged */
	if (o->advise)
		acme_dirs_of(s);
	for (i = 0; i < m->n; i++)
		if (judge_group(s, &m->g[i], o) == -1)
			rc = -1;	/* logged */
	if (one_key_each(s, m) == -1)
		rc = -1;	/* logged */
	/* A bundle its set refused is listed as assembled, judged there. */
	if (m->refused != NULL && m->refused->chain != NULL)
		list_chain(s, m->refused->chain, m->refused->bundle->path,
		    m->refused->keysrc, o);
	findings_attribute(mark, s->name);
	return rc;
}
