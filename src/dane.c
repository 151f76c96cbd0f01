/*
 * DANE (RFC 7672): senders that validate DNSSEC take a port-25 server's
 * chain only when one of the TLSA records at _25._tcp.<MX host> matches
 * it.  A renewal with a new key, deployed before its record is
 * published, makes every such sender defer all mail, silently.  This
 * helper is the one place that sees the new chain before Postfix serves
 * it: the guard looks the records up and refuses a chain none matches,
 * saying what to publish; tlsa prints the records for the chains served.
 *
 * Matching (RFC 6698 2.1, RFC 7671 5): usage 3 (DANE-EE) is the leaf,
 * usage 2 (DANE-TA) any issuer the server sends; selector 0 the whole
 * certificate, 1 its SubjectPublicKeyInfo; matching type 0 the bytes
 * themselves, 1 SHA-256, 2 SHA-512.  Usages 0 and 1 and unknown values
 * are never used by SMTP senders (RFC 7672 3.1.3): they match nothing.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

#include "extern.h"

#define MAX_NAMES	16	/* MX host names guarded per run */

/* Per identity, the worst of its verdicts (check --json's "dane"). */
enum verdict { V_NONE, V_MATCH, V_ONE_KEY, V_TROUBLE, V_MISMATCH };
static const char *const verdict_names[] = {
	"no-records", "match", "match-current-key-only", "dns-trouble",
	"mismatch"
};

int
chains_add(struct chains *cs, const char *who, const char *sni,
    size_t scope, const struct chain *c)
{
	struct dane_chain	*v, *d;
	size_t			 i;

	if ((v = reallocarray(cs->v, cs->n + 1, sizeof(*v))) == NULL)
		goto oom;
	cs->v = v;
	d = &v[cs->n];
	memset(d, 0, sizeof(*d));
	d->scope = scope;
	if ((d->who = strdup(who)) == NULL ||
	    (sni != NULL && (d->sni = strdup(sni)) == NULL)) {
		free(d->who);
		goto oom;
	}
	for (i = 0; i < c->n; i++) {
		X509_up_ref(c->x509[i]);
		d->x509[d->n++] = c->x509[i];
	}
	cs->n++;
	return 0;
oom:
	problem(EX_OSERR, NULL, "out of memory");
	return -1;
}

void
chains_free(struct chains *cs)
{
	size_t	i;

	for (i = 0; i < cs->n; i++) {
		while (cs->v[i].n > 0)
			X509_free(cs->v[i].x509[--cs->v[i].n]);
		free(cs->v[i].who);
		free(cs->v[i].sni);
	}
	free(cs->v);
	cs->v = NULL;
	cs->n = 0;
}

/* A host name as DNS compares it: lower case, no trailing dot. */
static int
add_name(char **names, size_t *n, const char *word, size_t len)
{
	char	*name;
	size_t	 i;

	if (len > 0 && word[len - 1] == '.')
		len--;
	if ((name = strndup(word, len)) == NULL) {
		problem(EX_OSERR, NULL, "out of memory");
		return -1;
	}
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
		    "are not looked up (set POSTFIX_TLS_DANE_NAMES to the MX "
		    "host names)", name);
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

/* The MX host names: POSTFIX_TLS_DANE_NAMES, else myhostname. */
int
dane_names(const struct settings *s, const struct postfix *pf,
    char ***namesp, size_t *n)
{
	const char	*p = s->dane_names != NULL ? s->dane_names :
			    pf->v[PF_MYHOSTNAME];
	char		**names;
	size_t		  len;
	int		  r = 0;

	*n = 0;
	if ((names = calloc(MAX_NAMES, sizeof(*names))) == NULL) {
		problem(EX_OSERR, NULL, "out of memory");
		return -1;
	}
	for (; r == 0 && *(p += strspn(p, " \t,")) != '\0'; p += len) {
		len = strcspn(p, " \t,");
		r = add_name(names, n, p, len);
	}
	*namesp = names;
	return r == -1 ? -1 : 0;
}

void
dane_names_free(char **names, size_t n)
{
	while (n > 0)
		free(names[--n]);
	free(names);
}

/* The bytes a record of this selector and matching type stands for. */
static int
tlsa_data(X509 *x, int selector, int mtype, unsigned char **out,
    size_t *outlen)
{
	unsigned char	*der = NULL;
	unsigned int	 mdlen;
	int		 len;

	*out = NULL;
	len = selector == 0 ? i2d_X509(x, &der) :
	    i2d_X509_PUBKEY(X509_get_X509_PUBKEY(x), &der);
	if (len <= 0)
		return -1;
	if (mtype == 0) {
		*out = der;
		*outlen = len;
		return 0;
	}
	if ((*out = malloc(EVP_MAX_MD_SIZE)) == NULL ||
	    !EVP_Digest(der, len, *out, &mdlen, mtype == 1 ? EVP_sha256() :
	    EVP_sha512(), NULL)) {
		OPENSSL_free(der);
		free(*out);
		return -1;
	}
	OPENSSL_free(der);
	*outlen = mdlen;
	return 0;
}

static int
usable(const struct tlsa *t)
{
	return (t->usage == 2 || t->usage == 3) && t->selector <= 1 &&
	    t->mtype <= 2;
}

/* Does the record match the certificate? */
static int
matches(const struct tlsa *t, X509 *x)
{
	unsigned char	*data;
	size_t		 len;
	int		 yes;

	if (tlsa_data(x, t->selector, t->mtype, &data, &len) == -1)
		return 0;
	yes = len == t->len && !memcmp(data, t->data, len);
	if (t->mtype == 0)
		OPENSSL_free(data);
	else
		free(data);
	return yes;
}

/*
 * A full trust anchor (2 0 0, 2 1 0) need not be served: a sender takes
 * it from the record itself, when it signed the last certificate sent
 * (RFC 7671 5.2.2; OpenSSL's DANE does so).
 */
static int
signed_by_record(const struct tlsa *t, X509 *top)
{
	const unsigned char	*p = t->data;
	X509			*ta = NULL;
	EVP_PKEY		*pk = NULL;
	int			 yes = 0;

	if (t->mtype != 0)
		return 0;
	if (t->selector == 0 && (ta = d2i_X509(NULL, &p, t->len)) != NULL)
		pk = X509_get0_pubkey(ta);
	else if (t->selector == 1)
		pk = d2i_PUBKEY(NULL, &p, t->len);
	if (pk != NULL && p == t->data + t->len)
		yes = X509_verify(top, pk) == 1;
	if (ta != NULL)
		X509_free(ta);
	else
		EVP_PKEY_free(pk);
	ERR_clear_error();
	return yes;
}

/* Does a record of USAGE match: 3 the leaf, 2 an issuer the server sends? */
static int
match_usage(const struct tlsa_set *t, const struct dane_chain *c, int usage)
{
	size_t	i, j;

	for (i = 0; i < t->n; i++) {
		if (!usable(&t->v[i]) || t->v[i].usage != usage)
			continue;
		for (j = usage == 3 ? 0 : 1; j < (usage == 3 ? 1 : c->n); j++)
			if (matches(&t->v[i], c->x509[j]))
				return 1;
		if (usage == 2 && signed_by_record(&t->v[i], c->x509[c->n - 1]))
			return 1;
	}
	return 0;
}

static int
match_chain(const struct tlsa_set *t, const struct dane_chain *c)
{
	return match_usage(t, c, 3) || match_usage(t, c, 2);
}

/* "_25._tcp.NAME. IN TLSA U 1 1 HEX" for X (a leaf or its issuer). */
static int
record(char *buf, size_t size, const char *owner, int usage, X509 *x)
{
	unsigned char	*data;
	size_t		 len, i;
	int		 n;

	if (tlsa_data(x, 1, 1, &data, &len) == -1) {
		crypto_problem(EX_SOFTWARE, NULL, "hashing a public key");
		return -1;
	}
	n = snprintf(buf, size, "%s. IN TLSA %d 1 1 ", owner, usage);
	for (i = 0; i < len && n > 0 && (size_t)n + 3 <= size; i++)
		n += snprintf(buf + n, size - n, "%02x", data[i]);
	free(data);
	return 0;
}

/*
 * The chains DANE senders get for NAME: an SNI entry's for it, else the
 * service's own.  An entry hides only the chains of the listeners whose
 * maps hold it (their identity), not another port-25 listener's.
 */
static int
serves(const struct chains *cs, const struct dane_chain *c,
    const char *name)
{
	size_t	i;

	if (c->sni != NULL)
		return !strcmp(c->sni, name);
	for (i = 0; i < cs->n; i++)
		if (cs->v[i].sni != NULL && !strcmp(cs->v[i].sni, name) &&
		    (cs->v[i].scope == c->scope || cs->v[i].scope == SCOPE_ALL))
			return 0;
	return 1;
}

static const char *
key_of(const struct dane_chain *c)
{
	EVP_PKEY	*pk = X509_get0_pubkey(c->x509[0]);

	return pk != NULL ? key_type_name(EVP_PKEY_get_base_id(pk)) : "?";
}

/* tlsa: the records to publish, each once, for each name. */
int
dane_print(const struct chains *cs, char *const *names, size_t n)
{
	char	owner[300], line[512], **seen = NULL;
	size_t	i, j, nseen = 0, k;
	int	u, rc = 0;

	if ((seen = calloc(cs->n * 2 + 1, sizeof(*seen))) == NULL) {
		problem(EX_OSERR, NULL, "out of memory");
		return -1;
	}
	for (i = 0; i < n; i++) {
		snprintf(owner, sizeof(owner), "_25._tcp.%s", names[i]);
		nseen = 0;
		for (j = 0; j < cs->n; j++) {
			if (!serves(cs, &cs->v[j], names[i]))
				continue;
			for (u = 3; u >= 2 && (size_t)(3 - u) < cs->v[j].n;
			    u--) {
				if (record(line, sizeof(line), owner, u,
				    cs->v[j].x509[3 - u]) == -1) {
					rc = -1;
					continue;
				}
				for (k = 0; k < nseen && strcmp(seen[k], line);
				    k++)
					;
				if (k < nseen)
					continue;
				if ((seen[nseen] = strdup(line)) == NULL) {
					problem(EX_OSERR, NULL, "out of memory");
					rc = -1;
					break;
				}
				nseen++;
				printf("%s\n", line);
			}
		}
		while (nseen > 0)
			free(seen[--nseen]);
	}
	free(seen);
	if (fflush(stdout) == EOF) {
		problem(EX_IOERR, NULL, "cannot write the records: stdout");
		rc = -1;
	}
	return rc;
}

/* Each identity's worst verdict, for check --json. */
struct verdicts {
	const char	*who[64];
	int		 v[64], validated[64];
	size_t		 n;
};

static void
note(struct verdicts *vs, const char *who, int v, int validated)
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
 * (senders use them) or POSTFIX_TLS_DANE=enforce; else a warning.
 */
static void
mismatch(const struct settings *s, const struct tlsa_set *t,
    const struct dane_chain *c, const char *name, int check)
{
	char	leaf[512], ta[512] = "";
	int	enforce = s->dane == DANE_ENFORCE ||
		    (s->dane == DANE_AUTO && t->validated);

	if (record(leaf, sizeof(leaf), t->owner, 3, c->x509[0]) == -1)
		return;
	if (c->n > 1 && record(ta, sizeof(ta), t->owner, 2, c->x509[1]) == -1)
		return;
	if (enforce)
		problem(EX_DATAERR, t->qname, "no TLSA record there matches "
		    "the %s chain of %s, so DANE senders would defer all mail "
		    "to %s; %s (publish first: %s%s%s; wait for the old "
		    "records' TTL, then deploy again)", key_of(c), c->who, name,
		    check ? "deploy refuses it" : "it is not deployed", leaf,
		    *ta ? ", or for its issuer " : "", ta);
	else if (t->validated)
		warning(t->qname, "no TLSA record there matches the %s chain "
		    "of %s, so DANE senders defer mail to %s (publish: %s%s%s)",
		    key_of(c), c->who, name, leaf, *ta ? ", or for its issuer "
		    : "", ta);
	else
		warning(t->qname, "no TLSA record there matches the %s chain "
		    "of %s; the answer is not DNSSEC-validated, so this is "
		    "only a warning, but if the zone is signed and this "
		    "host's resolver does not validate, DANE senders defer "
		    "mail to %s (publish: %s%s%s; POSTFIX_TLS_DANE=enforce "
		    "refuses such a chain)", key_of(c), c->who, name, leaf,
		    *ta ? ", or for its issuer " : "", ta);
}

/*
 * check: when only the served keys' own 3 x x records match, with no
 * record for any other key beside them, the next renewal with a new key
 * breaks DANE mail.  A 3 x x for another key (the next one, published
 * ahead) or a matching 2 x x makes a chain safe; a 2 x x that matches
 * nothing served (an old CA's) does not.  The first chain at risk.
 */
static const struct dane_chain *
at_risk(const struct tlsa_set *t, const struct chains *cs, const char *name)
{
	size_t	i, j;
	int	served;

	for (i = 0; i < t->n; i++) {
		if (!usable(&t->v[i]) || t->v[i].usage != 3)
			continue;
		for (served = 0, j = 0; j < cs->n; j++)
			if (serves(cs, &cs->v[j], name) &&
			    matches(&t->v[i], cs->v[j].x509[0]))
				served = 1;
		if (!served)
			return NULL;	/* another key's, published ahead */
	}
	for (j = 0; j < cs->n; j++)
		if (serves(cs, &cs->v[j], name) && !match_usage(t, &cs->v[j],
		    2))
			return &cs->v[j];
	return NULL;
}

/* One name's records against the chains served for it. */
static void
judge(const struct settings *s, const struct tlsa_set *t,
    const struct chains *cs, const char *name, int check,
    struct verdicts *vs)
{
	const struct dane_chain	*c = NULL;
	char			 ta[512] = "";
	size_t			 i, nusable = 0;
	int			 bad = 0;

	for (i = 0; i < t->n; i++)
		nusable += usable(&t->v[i]);
	if (nusable == 0) {
		warning(t->qname, "none of its %zu TLSA record%s is one SMTP "
		    "senders use (RFC 7672: usage 2 or 3, selector 0 or 1, "
		    "matching type 0, 1 or 2), so DANE is not guarded for %s "
		    "(publish a 3 1 1 record: postfix-tls-setup tlsa)", t->n,
		    t->n == 1 ? "" : "s", name);
		return;
	}
	for (i = 0; i < cs->n; i++) {
		if (!serves(cs, &cs->v[i], name))
			continue;
		if (match_chain(t, &cs->v[i])) {
			note(vs, cs->v[i].who, V_MATCH, t->validated);
			continue;
		}
		mismatch(s, t, &cs->v[i], name, check);
		note(vs, cs->v[i].who, V_MISMATCH, t->validated);
		bad = 1;
	}
	if (bad || !check || (c = at_risk(t, cs, name)) == NULL)
		return;
	if (c->n > 1 && record(ta, sizeof(ta), t->owner, 2, c->x509[1]) == -1)
		return;
	warning(t->qname, "only the served key's own 3 x x record matches "
	    "the %s chain of %s: a renewal with a new key would break DANE "
	    "mail to %s (publish the next key's record beside it%s%s, or "
	    "renew with the same key, e.g. certbot --reuse-key)", key_of(c),
	    c->who, name, *ta ? ", or one for the issuing CA: " : "", ta);
	note(vs, c->who, V_ONE_KEY, t->validated);
}

/* The records could not be had: a warning, or a refusal when tuned. */
static void
trouble(const struct settings *s, const struct tlsa_set *t,
    const struct chains *cs, const char *name, struct verdicts *vs)
{
	size_t	i;

	if (s->dane_dns_refuse)
		problem(EX_TEMPFAIL, t->qname, "the TLSA records cannot be "
		    "looked up: %s; refused, as POSTFIX_TLS_DANE_DNS=refuse "
		    "asks (fix the resolver of /etc/resolv.conf, or set "
		    "POSTFIX_TLS_DANE_DNS=warn)", t->why);
	else
		warning(t->qname, "the TLSA records cannot be looked up: %s; "
		    "the chain served to %s was not checked against DANE "
		    "(fix the resolver of /etc/resolv.conf)", t->why, name);
	for (i = 0; i < cs->n; i++)
		if (serves(cs, &cs->v[i], name))
			note(vs, cs->v[i].who, V_TROUBLE, 0);
}

/*
 * The guard: every name's records, looked up at once, against the
 * chains that will be served on port 25.  CHECK: say the rollover
 * warning too.  0, or -1 when a chain is refused (logged).
 */
int
dane_guard(const struct settings *s, const struct chains *cs,
    char *const *names, size_t n, int check)
{
	struct tlsa_set	*sets;
	struct verdicts	 vs;
	size_t		 i;
	int		 before = problems();

	memset(&vs, 0, sizeof(vs));
	if (s->dane == DANE_OFF || cs->n == 0 || n == 0)
		return 0;
	if ((sets = calloc(n, sizeof(*sets))) == NULL) {
		problem(EX_OSERR, NULL, "out of memory");
		return -1;
	}
	for (i = 0; i < n; i++)
		snprintf(sets[i].qname, sizeof(sets[i].qname), "_25._tcp.%s",
		    names[i]);
	dns_tlsa(sets, n, s->dane_timeout);
	for (i = 0; i < n; i++) {
		if (sets[i].status == DNS_TROUBLE)
			trouble(s, &sets[i], cs, names[i], &vs);
		else if (sets[i].status == DNS_FOUND)
			judge(s, &sets[i], cs, names[i], check, &vs);
		else
			debug("%s: no TLSA records: nothing for DANE to guard",
			    sets[i].qname);
		tlsa_set_clear(&sets[i]);
	}
	for (i = 0; i < cs->n; i++)
		note(&vs, cs->v[i].who, V_NONE, 0);
	for (i = 0; i < vs.n; i++)
		monitor_dane(vs.who[i], verdict_names[vs.v[i]],
		    vs.validated[i]);
	free(sets);
	return problems() > before ? -1 : 0;
}
