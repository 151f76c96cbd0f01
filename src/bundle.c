/*
 * The bundles deploy writes (bundle.h).  The order of work: the inputs
 * of sets that name their leaf and key are read while postconf runs
 * (sets_check_early), the others once Postfix's view is known; what is
 * found is said in that order all the same (deploy.c takes the early
 * findings out and puts them back in their turn).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>

#include "bundle.h"
#include "conf.h"
#include "finding.h"
#include "maincf.h"
#include "postconf.h"
#include "verify.h"
#include "write.h"

void
sets_make(const struct settings *s, const struct trust *t, struct sets *ss)
{
	const struct setconf	*c;
	struct set		*st;
	size_t			 i;

	memset(ss, 0, sizeof(*ss));
	ss->include_root = s->include_root;
	ss->warn_days = s->warn_days;
	ss->trust = t;
	for (i = 0; i < MAX_SETS; i++) {
		c = &s->set[i];
		if (i > 0 && c->cert == NULL && c->key == NULL &&
		    c->bundle == NULL && c->nchain == 0)
			continue;
		st = ss->v[ss->n++] = xcalloc(1, sizeof(*st));
		st->n = i + 1;
		st->conf = c;
		file_init(&st->bundlef);
	}
}

/*
 * Open and parse one input, once, however often it is named: a name seen
 * before, or a file opened before (by its walked descriptor: one walk a
 * name).
 */
static struct file *
load_one(struct set *st, const char *path, int want_key)
{
	struct file	*f;
	unsigned char	*buf = NULL;
	size_t		 i, len = 0;
	int		 ok;

	for (i = 0; i < st->nin; i++)
		if (!strcmp(st->in[i].path, path))
			return st->in_ok[i] ? &st->in[i] : NULL;
	f = &st->in[st->nin];
	file_init(f);
	ok = file_open(f, path, 0) == 0;
	for (i = 0; ok && i < st->nin; i++)
		if (file_same(&st->in[i], f)) {
			file_close(f);
			return st->in_ok[i] ? &st->in[i] : NULL;
		}
	ok = ok && file_read(f, &buf, &len) == 0 &&
	    pem_load(f->path, buf, len, &st->pool, &st->key, want_key) == 0;
	st->in_ok[st->nin++] = ok;
	if (ok && want_key) {
		st->keybuf = buf;	/* what is checked is what root keeps */
		st->keylen = len;
	} else
		freezero(buf, len + 1);
	return ok ? f : NULL;
}

/*
 * Read the key, the leaf and the chain files, build the chain and check
 * it against the key and the trust anchors: all that needs only the
 * settings and the files, not Postfix's own view.  Each bad input is
 * reported; the chain is built from whatever was readable.
 */
static int
check_inputs(const struct sets *ss, struct set *st)
{
	const char	*srcs[MAX_INPUTS + 2];
	struct file	*leaf;
	size_t		 i;
	int		 rc = 0;

	/* The key first: if it shares a file with the leaf, read it as one. */
	if ((st->keyf = load_one(st, st->keypath, 1)) == NULL)
		rc = -1;	/* logged */
	if ((leaf = load_one(st, st->leafsrc, 0)) == NULL)
		rc = -1;	/* logged */
	for (i = 0; i < st->conf->nchain; i++)
		if (load_one(st, st->conf->chain[i], 0) == NULL)
			rc = -1;	/* logged */
	if (leaf == NULL)
		return -1;	/* logged */
	for (i = 0; i < st->nin; i++)
		srcs[i] = st->in[i].path;
	if (chain_build(&st->pool, &st->key, leaf->path, srcs, st->nin,
	    ss->include_root, &st->chain) == -1)
		return -1;	/* logged */
	st->chain_ok = 1;
	if (st->keyf != NULL &&	/* else its problem is reported */
	    verify_key(&st->chain, &st->key, st->keypath, st->leafsrc) == -1)
		rc = -1;	/* logged */
	if (verify_chain(&st->chain, ss->trust, st->leafsrc) == -1)
		rc = -1;	/* logged */
	return rc;
}

/*
 * When the settings name the key and the leaf, check_inputs needs nothing
 * from Postfix: it runs while postconf does (postconf costs more than all
 * our own work).
 */
void
sets_check_early(struct sets *ss)
{
	struct set	*st;
	size_t		 i;

	for (i = 0; i < ss->n; i++) {
		st = ss->v[i];
		if (st->conf->key == NULL || st->conf->cert == NULL)
			continue;
		st->keypath = st->conf->key;	/* as sets_choose will find */
		st->leafsrc = st->conf->cert;
		st->inputs_rc = check_inputs(ss, st);
		st->early = 1;
	}
}

/*
 * The file set 1 writes when no setting names one: main.cf's own, fixed
 * in place.  Other sets default to the Nth smtpd_tls_chain_files only.
 */
static const char *
default_bundle(const struct postfix *pf, struct set *st)
{
	if (plist_nth(pf->v[PC_CHAIN_FILES], st->n, st->chain_file,
	    sizeof(st->chain_file)) == 0)
		return st->chain_file;
	if (st->n > 1)
		return NULL;
	if (*pf->v[PC_CERT] != '\0')
		return pf->v[PC_CERT];
	if (*pf->v[PC_ECCERT] != '\0')
		return pf->v[PC_ECCERT];
	if (*pf->v[PC_DCERT] != '\0')
		return pf->v[PC_DCERT];
	return NULL;
}

/* "" for set 1, "_N" for set N: the suffix of its setting names. */
static const char *
suffix(const struct set *st)
{
	static char	buf[8];

	if (st->n == 1)
		return "";
	snprintf(buf, sizeof(buf), "_%d", st->n);
	return buf;
}

/*
 * Which file is the bundle, where the leaf and key come from.  Without
 * settings, Postfix's own files are checked and fixed in place.
 */
static int
choose_files(struct sets *ss, struct set *st, const struct postfix *pf)
{
	size_t	i;
	int	kp;

	if ((st->bundle = st->conf->bundle) == NULL)
		st->bundle = default_bundle(pf, st);
	if (st->bundle == NULL && st->n == 1) {
		problem(EX_CONFIG, pf->dir, "main.cf names no server "
		    "certificate and POSTFIX_TLS_BUNDLE is not set" FIX "fix: "
		    "postconf -c %s -e smtpd_tls_cert_file=%s/certificate.pem",
		    pf->dir, pf->dir);
		return -1;
	}
	if (st->bundle == NULL) {
		problem(EX_CONFIG, pf->dir, "POSTFIX_TLS_BUNDLE_%d is not set "
		    "and smtpd_tls_chain_files names no file %d" FIX "set "
		    "POSTFIX_TLS_BUNDLE_%d to the file to write, and name it "
		    "in smtpd_tls_chain_files", st->n, st->n, st->n);
		return -1;
	}
	for (i = 0; i < ss->n && ss->v[i] != st; i++)
		if (path_same(ss->v[i]->bundle, st->bundle) == 1) {
			problem(EX_CONFIG, st->bundle, "is the bundle of set %d "
			    "and of set %d (POSTFIX_TLS_BUNDLE%s): each set "
			    "needs a file of its own", ss->v[i]->n, st->n,
			    suffix(st));
			return -1;
		}
	kp = maincf_key_param(pf, st->bundle);
	st->key_in_bundle = maincf_in_chain_files(pf, st->bundle) ||
	    (kp != -1 && path_same(pf->v[kp], st->bundle) == 1);
	st->leafsrc = st->conf->cert ? st->conf->cert : st->bundle;
	if (st->conf->key != NULL)
		st->keypath = st->conf->key;
	else if (st->key_in_bundle)
		st->keypath = st->leafsrc;
	else if (kp != -1 || st->n == 1)
		st->keypath = pf->v[kp != -1 ? kp : PC_KEY];
	else
		st->keypath = "";
	if (*st->keypath == '\0') {
		problem(EX_CONFIG, pf->dir, "no private key is configured for "
		    "%s" FIX "set POSTFIX_TLS_KEY%s, or the key parameter that "
		    "goes with it in main.cf", st->bundle, suffix(st));
		return -1;
	}
	debug("bundle %s, leaf from %s, key from %s%s", st->bundle,
	    st->leafsrc, st->keypath, st->key_in_bundle ? " (key in bundle)" :
	    "");
	return 0;
}

int
sets_choose(struct sets *ss, const struct postfix *pf)
{
	size_t	i;

	for (i = 0; i < ss->n; i++)
		if (choose_files(ss, ss->v[i], pf) == -1)
			return -1;	/* logged */
	return 0;
}

/* One set's own checks; its new bundle, when they passed. */
static int
check_set(const struct sets *ss, struct set *st, const struct postfix *pf)
{
	int	rc = 0;

	if (!st->early)
		st->inputs_rc = check_inputs(ss, st);
	if (st->inputs_rc == -1)
		rc = -1;	/* logged */
	if (file_open(&st->bundlef, st->bundle, 1) == -1)
		rc = -1;	/* logged */
	if (st->chain_ok)
		verify_warn(&st->chain, st->leafsrc, pf->v[PC_MYHOSTNAME],
		    "myhostname", ss->warn_days);
	if (rc == 0 && chain_pem(&st->chain, st->key_in_bundle ? &st->key :
	    NULL, &st->pem, &st->pemlen) == -1)
		rc = -1;	/* logged */
	return rc;
}

int
sets_check(struct sets *ss, const struct postfix *pf)
{
	struct target	t[MAX_SETS];
	size_t		i;
	int		rc = 0;

	for (i = 0; i < ss->n; i++) {
		if (check_set(ss, ss->v[i], pf) == -1)
			rc = -1;	/* logged */
		t[i].bundle = ss->v[i]->bundle;
		t[i].key = ss->v[i]->keypath;
		t[i].key_in_bundle = ss->v[i]->key_in_bundle;
	}
	if (maincf_check(pf, t, ss->n) == -1)
		rc = -1;	/* logged */
	return rc;
}

size_t
sets_pending(const struct sets *ss, struct pending *pd)
{
	const struct set	*st;
	size_t			 i, n = 0;

	for (i = 0; i < ss->n; i++) {
		st = ss->v[i];
		if (st->bundlef.dirfd == -1)
			continue;	/* never opened: refused already */
		pd[n].bundle = &st->bundlef;
		pd[n].key = st->key_in_bundle || st->keyf == NULL ? NULL :
		    st->keyf;
		pd[n].pem = st->pem;
		pd[n].len = st->pemlen;
		pd[n].chain = st->chain_ok ? &st->chain : NULL;
		pd[n++].keysrc = st->key_in_bundle ? st->bundle : st->keypath;
	}
	return n;
}

/* Everything passed: write the bundle if it changed, or make it root's. */
static int
install_set(struct set *st, int apply)
{
	unsigned char	*old = NULL;
	size_t		 oldlen = 0;
	int		 changed, rc = -1;

	if (write_cleanup(&st->bundlef, apply) == -1)
		goto out;	/* logged */
	if (st->bundlef.fd != -1 && file_read(&st->bundlef, &old, &oldlen) ==
	    -1)
		goto out;	/* logged */
	changed = old == NULL || oldlen != st->pemlen || memcmp(old, st->pem,
	    st->pemlen);
	if (changed && !apply)
		note("would write %s (%zu certificate%s%s)", st->bundle,
		    st->chain.n, st->chain.n == 1 ? "" : "s",
		    st->key_in_bundle ? " after the private key" : "");
	else if (changed) {
		if (write_atomic(&st->bundlef, st->pem, st->pemlen) == -1)
			goto out;	/* logged */
		note("wrote %s (%zu certificate%s%s)", st->bundle,
		    st->chain.n, st->chain.n == 1 ? "" : "s",
		    st->key_in_bundle ? " after the private key" : "");
	} else if (file_make_private(&st->bundlef, st->pem, st->pemlen,
	    apply) == -1)
		goto out;	/* logged */
	rc = 0;
out:
	freezero(old, oldlen);
	return rc;
}

int
sets_secure_keys(struct sets *ss, int apply, const struct setconf *client)
{
	struct set	*st;
	size_t		 i;

	for (i = 0; i < ss->n; i++) {
		st = ss->v[i];
		if (st->keyf == NULL || file_same(st->keyf, &st->bundlef))
			continue;
		/*
		 * A renewal's key is the ACME client's own file: its bytes go
		 * into the bundle (renew_guard made sure), and taking the file
		 * from the client would break its next renewal.
		 */
		if (client != NULL && st->conf->key == client->key)
			continue;
		if (file_make_private(st->keyf, st->keybuf, st->keylen,
		    apply) == -1)
			return -1;	/* logged */
	}
	return 0;
}

int
sets_is_key(const struct sets *ss, const char *path)
{
	size_t	i;

	for (i = 0; i < ss->n; i++)
		if (ss->v[i]->keyf != NULL && path_same(ss->v[i]->keyf->path,
		    path) == 1)
			return 1;
	return 0;
}

int
sets_write(struct sets *ss, int apply)
{
	size_t	i;
	int	rc = 0;

	for (i = 0; i < ss->n; i++)
		if (install_set(ss->v[i], apply) == -1)
			rc = -1;	/* logged */
	return rc;
}

void
sets_free(struct sets *ss)
{
	struct set	*st;
	size_t		 i, j;

	for (i = 0; i < ss->n; i++) {
		st = ss->v[i];
		for (j = 0; j < st->nin; j++)
			file_close(&st->in[j]);
		file_close(&st->bundlef);
		pool_free(&st->pool);
		key_free(&st->key);
		freezero(st->pem, st->pemlen);
		freezero(st->keybuf, st->keylen + 1);
		free(st);
	}
	memset(ss, 0, sizeof(*ss));
}
