/*
 * DANE (RFC 7672): senders that validate DNSSEC take a port-25 server's
 * chain only when one of the TLSA records at _25._tcp.<MX host> matches
 * it.  A renewal with a new key, deployed before its record is
 * published, makes every such sender defer all mail, silently.  This
 * helper is the one place that sees the new chain before Postfix serves
 * it: the guard looks the records up and refuses a chain none matches,
 * saying what to publish; tlsa prints the records for the chains served.
 *
 * Whether records match a chain is decided by OpenSSL's own DANE code,
 * as Postfix's smtp client and posttls-finger use it: the records go in
 * with SSL_dane_tlsa_add, the chain as served is verified offline with
 * X509_STORE_CTX_set0_dane and X509_verify_cert, for the MX name.  Only
 * usages 2 (DANE-TA) and 3 (DANE-EE) are given to it: SMTP senders use
 * no others (RFC 7672 3.1.3).
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include "acmeconf.h"
#include "chain.h"
#include "common.h"
#include "conf.h"
#include "dane.h"
#include "dns.h"
#include "finding.h"
#include "inspect.h"
#include "postconf.h"
#include "snimap.h"

#define MAX_NAMES	16	/* MX host names guarded per run */

/* Per identity, the worst of its verdicts (check --json's "dane"). */
enum verdict { V_NONE, V_MATCH, V_ONE_KEY, V_TROUBLE, V_MISMATCH };
static const char *const verdict_names[] = {
	"no-records", "match", "match-current-key-only", "dns-trouble",
	"mismatch"
};

void
chains_add(struct chains *cs, const char *who, const struct chain *c)
{
	struct dane_chain	*d;
	size_t			 i;

	for (i = 0; i < cs->n; i++)
		if (!strcmp(cs->v[i].who, who) &&
		    X509_cmp(cs->v[i].x509[0], c->x509[0]) == 0)
			return;
	cs->v = xreallocarray(cs->v, cs->n + 1, sizeof(*cs->v));
	d = &cs->v[cs->n++];
	memset(d, 0, sizeof(*d));
	d->who = xstrdup(who);
	for (i = 0; i < c->n; i++) {
		X509_up_ref(c->x509[i]);
		d->x509[d->n++] = c->x509[i];
	}
}

void
chains_free(struct chains *cs)
{
	size_t	i;

	for (i = 0; i < cs->n; i++) {
		while (cs->v[i].n > 0)
			X509_free(cs->v[i].x509[--cs->v[i].n]);
		free(cs->v[i].who);
	}
	free(cs->v);
	free(cs->name);
	memset(cs, 0, sizeof(*cs));
}

/* A host name as DNS compares it: lower case, no trailing dot. */
static int
add_name(char **names, size_t *n, const char *word, size_t len)
{
	char	*name;
	size_t	 i;

	if (len > 0 && word[len - 1] == '.')
		len--;
	name = xstrndup(word, len);
	for (i = 0; name[i] != '\0'; i++)
		name[i] = tolower((unsigned char)name[i]);
	if (strlen(name) > 253 - strlen("_25._tcp.")) {
		warning(NULL, "\"%s\" is too long for its TLSA records' name "
		    "(_25._tcp. and it may not exceed 253 characters), so they "
		    "are not looked up", name);
		free(name);
		return 0;
	}
	if (!sni_name_valid(name)) {
		warning(NULL, "\"%s\" is not a host name, so its TLSA records "
		    "are not looked up" FIX "set POSTFIX_TLS_DANE_NAMES to the "
		    "MX host names", name);
		free(name);
		return 0;
	}
	for (i = 0; i < *n; i++)
		if (!strcmp(names[i], name)) {
			free(name);
			return 0;
		}
	if (*n == MAX_NAMES) {
		warning(NULL, "more than %d names in POSTFIX_TLS_DANE_NAMES: "
		    "\"%s\" and those after it are not looked up", MAX_NAMES,
		    name);
		free(name);
		return 1;
	}
	names[(*n)++] = name;
	return 0;
}

int
dane_names(const struct settings *s, const struct postfix *pf,
    char ***namesp, size_t *n)
{
	const char	*cur = s->dane_names != NULL ? s->dane_names :
			    pf->v[PC_MYHOSTNAME], *w;
	char		**names = xcalloc(MAX_NAMES, sizeof(*names));
	size_t		  len;

	*n = 0;
	while ((w = plist_next(&cur, &len, PLIST_PLAIN, NULL)) != NULL)
		if (add_name(names, n, w, len) != 0)
			break;
	*namesp = names;
	return 0;
}

void
dane_names_free(char **names, size_t n)
{
	while (n > 0)
		free(names[--n]);
	free(names);
}

/* SHA-256 of X's SubjectPublicKeyInfo: the data of a "U 1 1" record. */
static int
spki_sha256(X509 *x, unsigned char md[EVP_MAX_MD_SIZE], unsigned int *len)
{
	unsigned char	*der = NULL;
	int		 n, ok;

	if ((n = i2d_X509_PUBKEY(X509_get_X509_PUBKEY(x), &der)) <= 0)
		return -1;
	ok = EVP_Digest(der, n, md, len, EVP_sha256(), NULL);
	OPENSSL_free(der);
	return ok ? 0 : -1;
}

/* "_25._tcp.NAME. IN TLSA U 1 1 HEX" for X (a leaf or its issuer). */
static int
record(char *buf, size_t size, const char *owner, int usage, X509 *x)
{
	unsigned char	md[EVP_MAX_MD_SIZE];
	unsigned int	len, i;
	int		n;

	if (spki_sha256(x, md, &len) == -1) {
		crypto_problem(EX_SOFTWARE, NULL, "hashing a public key");
		return -1;
	}
	n = snprintf(buf, size, "%s. IN TLSA %d 1 1 ", owner, usage);
	for (i = 0; i < len && n > 0 && (size_t)n + 3 <= size; i++)
		n += snprintf(buf + n, size - n, "%02x", md[i]);
	return 0;
}

static const char *
key_of(const struct dane_chain *c)
{
	return key_type_name(key_slot_of(c->x509[0]));
}

/* tlsa: the records to publish, each once, for each name. */
int
dane_print(const struct chains *names, size_t n)
{
	const struct chains	*cs;
	char			 owner[300], line[512], **seen;
	size_t			 i, j, k, nseen;
	int			 u, rc = 0;

	for (i = 0; i < n; i++) {
		cs = &names[i];
		snprintf(owner, sizeof(owner), "_25._tcp.%s", cs->name);
		seen = xcalloc(cs->n * 2 + 1, sizeof(*seen));
		nseen = 0;
		for (j = 0; j < cs->n; j++)
			for (u = 3; u >= 2 && (size_t)(3 - u) < cs->v[j].n;
			    u--) {
				if (record(line, sizeof(line), owner, u,
				    cs->v[j].x509[3 - u]) == -1) {
					rc = -1;	/* logged */
					continue;
				}
				for (k = 0; k < nseen && strcmp(seen[k], line);
				    k++)
					;
				if (k < nseen)
					continue;
				seen[nseen++] = xstrdup(line);
				printf("%s\n", line);
			}
		while (nseen > 0)
			free(seen[--nseen]);
		free(seen);
	}
	if (fflush(stdout) == EOF) {
		problem(EX_IOERR, NULL, "cannot write the records: stdout");
		rc = -1;
	}
	return rc;
}

/*
 * Records SMTP senders use (RFC 7672: usage 2 or 3, selector 0 or 1,
 * matching type 0, 1 or 2), and can: a digest of its length, full data
 * that decodes as what the selector says.  OpenSSL's DANE, as Postfix
 * runs it, drops a malformed record, and a set of nothing else is no
 * DANE at all to a sender: it guards nothing here either.
 */
static int
usable(const struct tlsa *t)
{
	const unsigned char	*p = t->data;
	X509			*x;
	EVP_PKEY		*k;
	int			 ok;

	if ((t->usage != 2 && t->usage != 3) || t->selector > 1 ||
	    t->mtype > 2)
		return 0;
	if (t->mtype != 0)
		return t->len == (t->mtype == 1 ? 32u : 64u);
	if (t->selector == 0) {
		x = d2i_X509(NULL, &p, (long)t->len);
		ok = x != NULL;
		X509_free(x);
	} else {
		k = d2i_PUBKEY(NULL, &p, (long)t->len);
		ok = k != NULL;
		EVP_PKEY_free(k);
	}
	ERR_clear_error();
	return ok && p == t->data + t->len;
}

/* The context every check shares: a client's, DANE on, nothing trusted. */
static SSL_CTX *
dane_ctx(void)
{
	static SSL_CTX	*ctx;

	if (ctx == NULL && ((ctx = SSL_CTX_new(TLS_client_method())) == NULL ||
	    SSL_CTX_dane_enable(ctx) <= 0)) {
		SSL_CTX_free(ctx);
		ctx = NULL;
	}
	return ctx;
}

/*
 * Do the records of T that pass WANT (a usage, or -1 for 2 and 3; ONE:
 * that record alone) match chain C as served to a sender asking for NAME?
 * 1 yes, 0 no (or no such record), -1 when OpenSSL could not say.
 */
static int
match(const struct tlsa_set *t, int want, const struct tlsa *one,
    const struct dane_chain *c, const char *name)
{
	SSL_CTX		*ctx = dane_ctx();
	SSL		*ssl = NULL;
	X509_STORE_CTX	*xs = NULL;
	STACK_OF(X509)	*rest = NULL;
	size_t		 i, added = 0;
	int		 rc = -1;

	if (ctx == NULL || (ssl = SSL_new(ctx)) == NULL ||
	    SSL_dane_enable(ssl, name) <= 0 ||
	    (rest = sk_X509_new_null()) == NULL ||
	    (xs = X509_STORE_CTX_new()) == NULL)
		goto out;
	/* A sender's: DANE-EE is the key alone, whatever the names say. */
	SSL_dane_set_flags(ssl, DANE_FLAG_NO_DANE_EE_NAMECHECKS);
	for (i = 0; i < t->n; i++) {
		const struct tlsa	*r = one != NULL ? one : &t->v[i];

		if (!usable(r) || (want != -1 && r->usage != want))
			continue;
		if (SSL_dane_tlsa_add(ssl, r->usage, r->selector, r->mtype,
		    r->data, r->len) > 0)
			added++;
		if (one != NULL)
			break;
	}
	ERR_clear_error();
	if (added == 0) {
		rc = 0;
		goto out;
	}
	for (i = 1; i < c->n; i++)
		if (!sk_X509_push(rest, c->x509[i]))
			goto out;
	if (!X509_STORE_CTX_init(xs, SSL_CTX_get_cert_store(ctx), c->x509[0],
	    rest) || !X509_STORE_CTX_set_default(xs, "ssl_server") ||
	    !X509_VERIFY_PARAM_set1(X509_STORE_CTX_get0_param(xs),
	    SSL_get0_param(ssl)))
		goto out;
	X509_STORE_CTX_set0_dane(xs, SSL_get0_dane(ssl));
	rc = X509_verify_cert(xs) == 1;
out:
	ERR_clear_error();
	X509_STORE_CTX_free(xs);
	sk_X509_free(rest);
	SSL_free(ssl);
	return rc;
}

/* Each identity's worst verdict, for check --json. */
struct verdicts {
	const char	*who[64];
	int		 v[64], validated[64];
	size_t		 n;
	/* The first name at risk and its CA's record: the advice, once. */
	char		 risk_name[256], risk_ta[512];
};

static void
note_verdict(struct verdicts *vs, const char *who, int v, int validated)
{
	size_t	i;

	for (i = 0; i < vs->n && strcmp(vs->who[i], who); i++)
		;
	if (i == vs->n) {
		if (vs->n == 64)
			return;
		vs->who[vs->n] = who;
		vs->v[vs->n] = V_NONE;
		vs->validated[vs->n++] = validated;
	}
	if (v > vs->v[i]) {
		vs->v[i] = v;
		vs->validated[i] = validated;
	}
}

/*
 * A chain no record matches.  Refused when the records count: validated
 * by a resolver this host trusts (senders use them), or
 * POSTFIX_TLS_DANE=enforce; else a warning.  -1 when refused.
 */
static int
mismatch(const struct settings *s, const struct tlsa_set *t,
    const struct dane_chain *c, const char *name, int check)
{
	char	leaf[512], ta[512] = "";
	int	enforce = s->dane == DANE_ENFORCE ||
		    (s->dane == DANE_AUTO && t->validated);

	if (record(leaf, sizeof(leaf), t->owner, 3, c->x509[0]) == -1 ||
	    (c->n > 1 && record(ta, sizeof(ta), t->owner, 2, c->x509[1]) ==
	    -1))
		return -1;	/* logged */
	if (enforce)
		problem(EX_DATAERR, t->qname, "no TLSA record there matches "
		    "the %s chain of %s, so DANE senders would defer all mail "
		    "to %s; %s" FIX "publish first: %s%s%s; wait for the old "
		    "records' TTL, then deploy again", key_of(c), c->who, name,
		    check ? "deploy refuses it" : "it is not deployed", leaf,
		    *ta ? ", or for its issuer " : "", ta);
	else if (t->validated)
		warning(t->qname, "no TLSA record there matches the %s chain "
		    "of %s, so DANE senders defer mail to %s" FIX "publish: "
		    "%s%s%s", key_of(c), c->who, name, leaf, *ta ? ", or for "
		    "its issuer " : "", ta);
	else
		warning(t->qname, "no TLSA record there matches the %s chain "
		    "of %s; the answer is not DNSSEC-validated%s, so this is "
		    "only a warning, but if the zone is signed and this "
		    "host's resolver does not validate, DANE senders defer "
		    "mail to %s" FIX "publish: %s%s%s; POSTFIX_TLS_DANE=enforce "
		    "refuses such a chain", key_of(c), c->who, t->ad_trusted ?
		    "" : " (an AD bit counts only from a resolver on this host, "
		    "or with options trust-ad in /etc/resolv.conf)", name,
		    leaf, *ta ? ", or for its issuer " : "", ta);
	return enforce ? -1 : 0;
}

/*
 * check: when only the served keys' own 3 x x records match, with no
 * record for any other key beside them, the next renewal with a new key
 * breaks DANE mail.  A 3 x x for another key (the next one, published
 * ahead) or a matching 2 x x makes a chain safe; a 2 x x that matches
 * nothing served (an old CA's) does not.  The first chain at risk.
 */
static const struct dane_chain *
at_risk(const struct tlsa_set *t, const struct chains *cs)
{
	size_t	i, j;
	int	served;

	for (i = 0; i < t->n; i++) {
		if (!usable(&t->v[i]) || t->v[i].usage != 3)
			continue;
		for (served = 0, j = 0; j < cs->n && !served; j++)
			served = match(t, 3, &t->v[i], &cs->v[j],
			    cs->name) == 1;
		if (!served)
			return NULL;	/* another key's, published ahead */
	}
	for (j = 0; j < cs->n; j++)
		if (match(t, 2, NULL, &cs->v[j], cs->name) != 1)
			return &cs->v[j];
	return NULL;
}

/* One name's records against the chains served for it: -1 refused. */
static int
judge(const struct settings *s, const struct tlsa_set *t,
    const struct chains *cs, int check, struct verdicts *vs)
{
	const struct dane_chain	*c;
	char			 ta[512] = "";
	size_t			 i, nusable = 0;
	int			 bad = 0, rc = 0, r;

	for (i = 0; i < t->n; i++)
		nusable += usable(&t->v[i]);
	if (nusable == 0) {
		warning(t->qname, "none of its %zu TLSA record%s is one SMTP "
		    "senders use (RFC 7672: usage 2 or 3, selector 0 or 1, "
		    "matching type 0, 1 or 2), so DANE is not guarded for %s"
		    FIX "publish a 3 1 1 record: postfix-tls-setup tlsa", t->n,
		    t->n == 1 ? "" : "s", cs->name);
		return 0;
	}
	for (i = 0; i < cs->n; i++) {
		if ((r = match(t, -1, NULL, &cs->v[i], cs->name)) == 1) {
			note_verdict(vs, cs->v[i].who, V_MATCH, t->validated);
			continue;
		}
		if (r == -1) {
			crypto_problem(EX_SOFTWARE, t->qname, "cannot match "
			    "the TLSA records with OpenSSL's DANE");
			bad = 1;
			rc = -1;
			continue;
		}
		if (mismatch(s, t, &cs->v[i], cs->name, check) == -1)
			rc = -1;	/* logged */
		note_verdict(vs, cs->v[i].who, V_MISMATCH, t->validated);
		bad = 1;
	}
	if (bad || !check || (c = at_risk(t, cs)) == NULL)
		return rc;
	if (c->n > 1 && record(ta, sizeof(ta), t->owner, 2, c->x509[1]) == -1)
		return -1;	/* logged */
	warning(t->qname, "only the served key's own 3 x x record matches "
	    "the %s chain of %s: a renewal with a new key would break DANE "
	    "mail to %s" FIX "publish the next key's record beside it%s%s, or "
	    "renew with the same key, e.g. certbot --reuse-key", key_of(c),
	    c->who, cs->name, *ta ? ", or one for the issuing CA: " : "", ta);
	if (vs->risk_name[0] == '\0') {
		strlcpy(vs->risk_name, cs->name, sizeof(vs->risk_name));
		strlcpy(vs->risk_ta, ta, sizeof(vs->risk_ta));
	}
	note_verdict(vs, c->who, V_ONE_KEY, t->validated);
	return 0;
}

/* The records could not be had: a warning, or a refusal when tuned. */
static void
trouble(const struct settings *s, const struct tlsa_set *t,
    const struct chains *cs, struct verdicts *vs)
{
	size_t	i;

	if (s->dane_dns_refuse)
		problem(EX_TEMPFAIL, t->qname, "the TLSA records cannot be "
		    "looked up: %s; refused, as POSTFIX_TLS_DANE_DNS=refuse "
		    "asks" FIX "fix the resolver of /etc/resolv.conf, or set "
		    "POSTFIX_TLS_DANE_DNS=warn", t->why);
	else
		warning(t->qname, "the TLSA records cannot be looked up: %s; "
		    "the chain served to %s was not checked against DANE" FIX
		    "fix the resolver of /etc/resolv.conf", t->why, cs->name);
	for (i = 0; i < cs->n; i++)
		note_verdict(vs, cs->v[i].who, V_TROUBLE, 0);
}

/* The TLSA lookup of a run's MX names, under way (dane_lookup_start). */
struct dane_lookup {
	struct tlsa_set	*sets;
	size_t		 n;
	struct lookup	*l;
};

struct dane_lookup *
dane_lookup_start(const struct settings *s, char **names, size_t n)
{
	struct dane_lookup	*dl = xcalloc(1, sizeof(*dl));
	size_t			 i;

	dl->sets = xcalloc(n, sizeof(*dl->sets));
	dl->n = n;
	for (i = 0; i < n; i++)
		snprintf(dl->sets[i].qname, sizeof(dl->sets[i].qname),
		    "_25._tcp.%s", names[i]);
	dl->l = dns_start(dl->sets, n, s->dane_timeout);
	return dl;
}

void
dane_lookup_abandon(struct dane_lookup *dl)
{
	if (dl == NULL)
		return;
	dns_abandon(dl->l);
	free(dl->sets);
	free(dl);
}

int
dane_guard(const struct settings *s, const struct chains *names, size_t n,
    int check)
{
	char	**qnames;
	size_t	  i, nchains = 0;
	int	  rc;

	for (i = 0; i < n; i++)
		nchains += names[i].n;
	if (s->dane == DANE_OFF || nchains == 0)
		return 0;
	qnames = xcalloc(n, sizeof(*qnames));
	for (i = 0; i < n; i++)
		qnames[i] = names[i].name;
	rc = dane_guard_lookup(s, dane_lookup_start(s, qnames, n), names, n,
	    check);
	free(qnames);
	return rc;
}

/*
 * The guard: every name's records, looked up at once (DL, started while
 * the run judged its files: its wait and the lookup process's start are
 * hidden behind that work), against the chains that will be served on
 * port 25.  CHECK: say the rollover warning too.  0, or -1 when a chain
 * is refused (logged).  DL is freed.
 *
 * OpenSSL's context for the matching is made at the first match, when
 * records came back: most names have none (bench d3).
 */
int
dane_guard_lookup(const struct settings *s, struct dane_lookup *dl,
    const struct chains *names, size_t n, int check)
{
	struct tlsa_set	*sets = dl->sets;
	struct verdicts	 vs;
	size_t		 i, j, nchains = 0;
	int		 refused = 0;

	memset(&vs, 0, sizeof(vs));
	for (i = 0; i < n; i++)
		nchains += names[i].n;
	if (n != dl->n) {	/* the names looked up are not these */
		problem(EX_SOFTWARE, NULL, "internal error: %zu MX names "
		    "looked up for %zu guarded; nothing was changed" FIX
		    "please report this", dl->n, n);
		dane_lookup_abandon(dl);
		return -1;
	}
	if (nchains == 0) {
		dane_lookup_abandon(dl);
		return 0;
	}
	dns_finish(dl->l, sets, n);
	free(dl);
	for (i = 0; i < n; i++) {
		if (sets[i].status == DNS_TROUBLE) {
			trouble(s, &sets[i], &names[i], &vs);
			refused |= s->dane_dns_refuse;
		} else if (sets[i].status == DNS_FOUND) {
			if (judge(s, &sets[i], &names[i], check, &vs) == -1)
				refused = 1;	/* logged */
		} else
			debug("%s: no TLSA records: nothing for DANE to guard",
			    sets[i].qname);
		tlsa_set_clear(&sets[i]);
	}
	/* Which client makes the next key, said once for every name. */
	if (vs.risk_name[0] != '\0')
		acme_key_advice(s, vs.risk_name, vs.risk_ta);
	for (i = 0; i < n; i++)
		for (j = 0; j < names[i].n; j++)
			note_verdict(&vs, names[i].v[j].who, V_NONE, 0);
	for (i = 0; i < vs.n; i++)
		listing_dane(vs.who[i], verdict_names[vs.v[i]],
		    vs.validated[i]);
	free(sets);
	return refused ? -1 : 0;
}
