/*
 * probe: what the running Postfix serves, proved by handshakes after
 * every start and reload (the OpenRC hook's start_post and reload_post).
 * Each smtpd inet service of master.cf that serves TLS is a listener:
 * reached on a local address (its own, or inet_interfaces'), tried once
 * per key algorithm its identity holds and once per SNI name it serves,
 * and judged by probe.c against the leaves on disk, read as the check
 * reads them.
 */
#include "extern.h"	/* before <netdb.h>: see probe.c */

#include <arpa/inet.h>
#include <netdb.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sysexits.h>

#include <openssl/evp.h>

#define SEPARATORS	" \t,"
#define MAX_SNI_PROBES	100	/* SNI names tried per run: the first ones */

/* The probes of one run and what they point into. */
struct plan {
	struct probe	*p;
	size_t		 n;
	struct leaves	*leaves;	/* per identity, then per SNI name */
	size_t		 nleaves;
	char		**text;		/* labels and names to free */
	size_t		 ntext;
	size_t		 nsni, sni_left;	/* SNI names tried, left out */
	size_t		 first_sni;	/* the list's first probe in p[] */
	const char	*ehlo;
	const struct listener *ls;	/* the identities' listeners */
};

/* A string the plan keeps until the end of the run. */
static const char *
keep(struct plan *pl, char *s)
{
	char	**v;

	if (s == NULL || (v = reallocarray(pl->text, pl->ntext + 1,
	    sizeof(*v))) == NULL) {
		free(s);
		problem(EX_OSERR, NULL, "out of memory");
		return NULL;
	}
	pl->text = v;
	v[pl->ntext++] = s;
	return s;
}

/* Postfix's own names for the SMTP ports (known_tcp_ports), then ours. */
static int
port_number(const char *name, char port[8])
{
	static const struct {
		const char	*name;
		const char	*port;
	} known[] = {
		{ "smtp", "25" }, { "submission", "587" },
		{ "submissions", "465" }, { "smtps", "465" },
	};
	struct servent	*se;
	const char	*errstr;
	size_t		 i;

	if (strtonum(name, 1, 65535, &errstr) > 0) {
		strlcpy(port, name, 8);
		return 0;
	}
	for (i = 0; i < sizeof(known) / sizeof(known[0]); i++)
		if (!strcasecmp(name, known[i].name)) {
			strlcpy(port, known[i].port, 8);
			return 0;
		}
	if ((se = getservbyname(name, "tcp")) == NULL)
		return -1;
	snprintf(port, 8, "%d", ntohs(se->s_port));
	return 0;
}

/*
 * One address as master.cf or inet_interfaces writes it, brackets off,
 * into HOST: 1 when it is numeric or stands for loopback ("localhost",
 * "all", "loopback-only": of the first protocol inet_protocols allows),
 * 0 for a host name (HOST holds it), -1 when too long.
 */
static int
one_host(const struct listener *l, const char *given, size_t glen,
    char host[64])
{
	unsigned char	addr[16];
	int		v6 = strstr(l->protocols, "ipv4") == NULL &&
			    strcasecmp(l->protocols, "all") != 0;

	if (glen >= 2 && given[0] == '[' && given[glen - 1] == ']')
		given++, glen -= 2;
	if (glen >= 63)
		return -1;
	memcpy(host, given, glen);
	host[glen] = '\0';
	if (!strcasecmp(host, "localhost") || !strcasecmp(host, "all") ||
	    !strcasecmp(host, "loopback-only")) {
		strlcpy(host, v6 ? "::1" : "127.0.0.1", 64);
		return 1;
	}
	return inet_pton(AF_INET, host, addr) == 1 ||
	    inet_pton(AF_INET6, host, addr) == 1;
}

/*
 * The address to connect to: the service's own host part, else the
 * first of inet_interfaces that is numeric or loopback.  Never a name:
 * it would need DNS, which may hang a boot.  0, or -1 (warned).
 */
static int
pick_host(const struct listener *l, const char *given, size_t glen,
    char host[64])
{
	const char	*w = l->interfaces;
	size_t		 n;
	int		 r = 0;

	*host = '\0';
	if (glen > 0)
		r = one_host(l, given, glen, host);
	else if (*(w + strspn(w, SEPARATORS)) == '\0')
		r = one_host(l, "all", 3, host);	/* Postfix's default */
	else
		for (; r != 1 && *(w += strspn(w, SEPARATORS)) != '\0'; w += n)
			if ((r = one_host(l, w, n = strcspn(w, SEPARATORS),
			    host)) == -1)
				break;
	if (r == 1)
		return 0;
	if (r == 0)
		warning(NULL, "%s: \"%s\" is a host name, not an address, "
		    "and names are not looked up at boot; not checked (name "
		    "the address in master.cf or inet_interfaces)", l->svc,
		    host);
	else
		warning(NULL, "%s: the address is too long to try; not "
		    "checked", l->svc);
	return -1;
}

/*
 * The port of a service as master.cf names it ("[host]:port", "host:port"
 * or "port"), as a number; *hlen is the length of its host part.
 */
static int
split_service(const char *svc, size_t *hlen, char port[8])
{
	const char	*name = svc, *slash = strrchr(svc, '/'), *colon;
	char		 portname[64];
	size_t		 len = slash != NULL ? (size_t)(slash - name) :
			    strlen(svc);

	*hlen = 0;
	if ((colon = memrchr(name, ':', len)) != NULL) {
		*hlen = colon - name;
		len -= *hlen + 1;
		name = colon + 1;
	}
	if (len >= sizeof(portname))
		return -1;
	memcpy(portname, name, len);
	portname[len] = '\0';
	return port_number(portname, port);
}

/* The TCP port a listener serves, as a number (dane.c: port 25). */
int
listener_port(const struct listener *l, char port[8])
{
	size_t	hlen;

	return split_service(l->svc, &hlen, port);
}

static int
listener_address(const struct listener *l, struct probe *p)
{
	size_t	hlen;

	if (split_service(l->svc, &hlen, p->port) == -1) {
		warning(NULL, "%s: its port is neither a number nor a known "
		    "service name; not checked", l->svc);
		return -1;
	}
	if (pick_host(l, l->svc, hlen, p->host) == -1)
		return -1;	/* warned */
	snprintf(p->where, sizeof(p->where), strchr(p->host, ':') ? "[%s]:%s" :
	    "%s:%s", p->host, p->port);
	return 0;
}

/*
 * The leaves an identity serves, read as the check reads them, muted:
 * what is wrong with its files was said before the start.
 */
static void
read_leaves(const struct identity *id, struct served *sv, struct leaves *l)
{
	sv->leaves = l;
	log_mute(1);
	serve_check(id, sv);
	log_mute(0);
	sv->leaves = NULL;
}

/* To ask for one algorithm's certificate: its signature algorithms. */
static const char *
sigalgs_for(int algo)
{
	switch (algo) {
	case EVP_PKEY_RSA:	/* an RSA-PSS leaf's too: its own schemes */
		return "rsa_pss_rsae_sha256:rsa_pss_rsae_sha384:"
		    "rsa_pss_rsae_sha512:rsa_pss_pss_sha256:rsa_pss_pss_sha384:"
		    "rsa_pss_pss_sha512:RSA+SHA256:RSA+SHA384:RSA+SHA512";
	case EVP_PKEY_EC:
		return "ECDSA+SHA256:ECDSA+SHA384:ECDSA+SHA512";
	case EVP_PKEY_ED25519:
		return "ed25519";
	case EVP_PKEY_ED448:
		return "ed448";
	default:
		return NULL;
	}
}

static int
algo_of(X509 *x)
{
	EVP_PKEY	*pk = X509_get0_pubkey(x);
	int		 id = pk != NULL ? EVP_PKEY_get_base_id(pk) : 0;

	return id == EVP_PKEY_RSA_PSS ? EVP_PKEY_RSA : id;
}

/*
 * One handshake to try.  SERVERNAME is the name the leaf must cover; it
 * is sent as SNI only for an SNI entry: a listener's own identity is
 * what peers that send none get (Postfix's smtp client sends none by
 * default), and an SNI entry for myhostname would answer in its place.
 */
static int
add_probe(struct plan *pl, const struct listener *l, const char *label,
    const char *servername, int sni, const struct leaves *lv, int algo)
{
	struct probe	*v, *p;

	if ((v = reallocarray(pl->p, pl->n + 1, sizeof(*v))) == NULL) {
		problem(EX_OSERR, NULL, "out of memory");
		return -1;
	}
	pl->p = v;
	p = &v[pl->n];
	memset(p, 0, sizeof(*p));
	if (listener_address(l, p) == -1)
		return 0;	/* warned: not tried */
	p->label = label;
	p->wrapper = l->wrapper;
	p->ehlo = pl->ehlo;
	p->servername = servername;
	p->sni = sni;
	p->ident = l->id;		/* for plan_algorithms */
	p->listener = l - pl->ls;
	p->leaves = lv != NULL ? lv->v : NULL;
	p->nleaves = lv != NULL ? lv->n : 0;
	p->algo = algo;
	p->sigalgs = algo ? sigalgs_for(algo) : NULL;
	pl->n++;
	return 0;
}

/*
 * A listener's first probe, made before its identity's leaves are read
 * (its connection is opened at once: see listeners_probe); add_probe
 * notes its identity, and plan_algorithms completes it.
 */
static int
plan_listener(struct plan *pl, const struct listener *l,
    const struct identity *id)
{
	const char	*label;

	if ((label = keep(pl, strdup(l->svc))) == NULL)
		return -1;
	return add_probe(pl, l, label, id->host, 0, NULL, 0);
}

/*
 * The listener probes completed with their identities' leaves: one
 * probe a listener, or one per algorithm when the identity holds leaves
 * of several (each must be served); the others are added at the end.
 */
static int
plan_algorithms(struct plan *pl, const struct identities *ids, size_t nbase)
{
	const struct leaves	*lv;
	const char		*label;
	char			*s;
	int			 algos[8];
	size_t			 b, i, k, n;

	for (b = 0; b < nbase; b++) {
		lv = &pl->leaves[pl->p[b].ident];
		pl->p[b].leaves = lv->v;
		pl->p[b].nleaves = lv->n;
		for (i = n = 0; i < lv->n && n < 8; i++) {
			for (k = 0; k < n && algos[k] != algo_of(lv->v[i]); k++)
				;
			if (k == n)
				algos[n++] = algo_of(lv->v[i]);
		}
		for (k = 0; n > 1 && k < n; k++) {
			s = NULL;
			if (asprintf(&s, "%s, %s certificate",
			    ids->ls[pl->p[b].listener].svc,
			    key_type_name(algos[k])) == -1)
				s = NULL;
			if ((label = keep(pl, s)) == NULL)
				return -1;
			if (k == 0) {
				pl->p[b].label = label;
				pl->p[b].algo = algos[0];
				pl->p[b].sigalgs = sigalgs_for(algos[0]);
			} else if (add_probe(pl, &ids->ls[pl->p[b].listener],
			    label, pl->p[b].servername, 0, lv, algos[k]) == -1)
				return -1;
		}
	}
	return 0;
}

/* Was DOMAIN tried already, by an earlier map of the same list? */
static int
sni_tried(const struct plan *pl, const char *domain)
{
	size_t	i;

	for (i = pl->first_sni; i < pl->n; i++)
		if (pl->p[i].sni && !strcmp(pl->p[i].servername, domain))
			return 1;
	return 0;
}

/* One SNI entry of a listener's maps: its leaves, one probe by name. */
struct sni_ctx {
	struct plan		*pl;
	const struct listener	*l;
	const struct sni_map	*map;
	struct served		*sv;
};

static int
plan_sni_entry(const char *domain, const char *files, const char *where,
    void *arg)
{
	struct sni_ctx	*cx = arg;
	struct plan	*pl = cx->pl;
	struct identity	 id;
	struct leaves	*v;
	const char	*label, *name;
	char		*s = NULL;

	/*
	 * ".example.org" stands for names under it: no one name to ask.  A
	 * name smtpd never matches (check warns) gets the default; a name
	 * an earlier map of the list has is that map's (Postfix asks the
	 * maps in order).
	 */
	if (*domain == '.' || !sni_name_valid(domain) ||
	    sni_tried(pl, domain))
		return 0;
	if (pl->nsni == MAX_SNI_PROBES) {
		pl->sni_left++;
		return 0;
	}
	pl->nsni++;
	if ((v = reallocarray(pl->leaves, pl->nleaves + 1, sizeof(*v))) ==
	    NULL) {
		problem(EX_OSERR, NULL, "out of memory");
		return -1;
	}
	pl->leaves = v;
	v = &v[pl->nleaves++];
	memset(v, 0, sizeof(*v));
	if ((name = keep(pl, strdup(domain))) == NULL ||
	    asprintf(&s, "SNI %s on %s", domain, cx->l->svc) == -1 ||
	    (label = keep(pl, s)) == NULL)
		return -1;
	memset(&id, 0, sizeof(id));
	id.name = label;
	id.where = where;
	id.host = name;
	id.host_what = "the SNI name";
	id.chain_files = files;
	id.chain_param = "the SNI entry";
	read_leaves(&id, cx->sv, v);
	return add_probe(pl, cx->l, label, name, 1, v, 0);
}

/* The SNI names a listener serves, unless an earlier one tried them. */
static int
plan_sni(struct plan *pl, const struct listener *l, size_t li,
    const struct identities *ids, struct served *sv)
{
	struct sni_ctx	 cx = { pl, l, NULL, sv };
	struct sni_map	*maps;
	size_t		 i, n;
	int		 rc = 0;

	if (*l->sni == '\0')
		return 0;
	for (i = 0; i < li; i++)
		if (!strcmp(ids->ls[i].sni, l->sni))
			return 0;
	pl->first_sni = pl->n;
	log_mute(1);
	if (sni_maps(l->sni, &maps, &n) == 0) {
		for (i = 0; i < n && rc == 0; i++) {
			cx.map = &maps[i];
			rc = sni_each(&maps[i], plan_sni_entry, &cx);
		}
		sni_maps_free(maps, n);
	}
	log_mute(0);
	return rc;
}

/* What each probe found, in order: failures as problems. */
static void
say(const struct plan *pl, int hook)
{
	const struct probe	*p;
	size_t			 i, untried = 0;

	for (i = 0; i < pl->n; i++) {
		p = &pl->p[i];
		if (p->verdict == PV_NOT_TRIED) {
			untried++;
			continue;
		}
		log_context(p->label);
		switch (p->verdict) {
		case PV_OK:
			if (!p->name_ok)
				warning(p->where, "%s is not among the served "
				    "certificate's names; peers that check the "
				    "name refuse it", p->servername);
			if (!hook || verbose())
				report("ok: %s: %s: %s, %s", p->label, p->where,
				    p->wrapper ? "TLS" : "STARTTLS", p->said);
			break;
		case PV_FAILED:
		case PV_MISMATCH:
			problem(EX_PROTOCOL, p->where, "%s%s", p->wrapper ? "" :
			    "STARTTLS: ", p->said ? p->said : "failed");
			break;
		case PV_REFUSED:
		case PV_UNREACHABLE:
			warning(p->where, "%s: not reachable from this host "
			    "(bound to another address or network namespace?); "
			    "not checked", p->said ? p->said : "no connection");
			break;
		default:
			warning(p->where, "%s", p->said ? p->said :
			    "not tried");
		}
		log_context(NULL);
	}
	if (untried > 0)
		warning(NULL, "%zu handshake%s not tried: the time was spent on "
		    "the others (POSTFIX_TLS_PROBE_TIMEOUT)", untried,
		    untried == 1 ? " was" : "s were");
	if (pl->sni_left > 0 && !hook)
		report("note: %zu more SNI name%s not tried: a run tries the "
		    "first %d", pl->sni_left, pl->sni_left == 1 ? " was" :
		    "s were", MAX_SNI_PROBES);
}

static void
plan_free(struct plan *pl)
{
	size_t	i;

	for (i = 0; i < pl->n; i++)
		free(pl->p[i].said);
	free(pl->p);
	for (i = 0; i < pl->nleaves; i++)
		leaves_free(&pl->leaves[i]);
	free(pl->leaves);
	for (i = 0; i < pl->ntext; i++)
		free(pl->text[i]);
	free(pl->text);
}

/*
 * Try every TLS listener of the running instance; -1 when one serves
 * what a verifying peer would refuse (said), 0 otherwise.
 */
int
listeners_probe(const struct postfix *pf, const struct identities *ids,
    const struct settings *s, int hook)
{
	struct plan	 pl;
	struct served	 sv;
	struct prober	*pr = NULL;
	size_t		 i, nbase;
	int		 rc = 0, before = problems();

	memset(&pl, 0, sizeof(pl));
	memset(&sv, 0, sizeof(sv));
	sv.cafile = s->cafile;
	sv.capath = s->capath;
	sv.warn_days = s->warn_days;
	pl.ehlo = pf->v[PF_MYHOSTNAME];
	if ((pl.leaves = calloc(ids->n + 1, sizeof(*pl.leaves))) == NULL) {
		problem(EX_OSERR, NULL, "out of memory");
		return -1;
	}
	pl.nleaves = ids->n;
	pl.ls = ids->ls;
	/*
	 * The listeners' connections first: master spawns their smtpd
	 * processes (the slow part of a first connection) while the leaves
	 * are read and the trust store is set up.
	 */
	for (i = 0; rc == 0 && i < ids->nls; i++)
		rc = plan_listener(&pl, &ids->ls[i], &ids->v[ids->ls[i].id]);
	nbase = pl.n;
	if (rc == 0 && (pr = probe_start(pl.p, pl.n, s->probe_timeout *
	    1000)) == NULL)
		rc = -1;	/* logged */
	for (i = 0; rc == 0 && i < ids->n; i++)
		read_leaves(&ids->v[i], &sv, &pl.leaves[i]);
	if (rc == 0)
		rc = plan_algorithms(&pl, ids, nbase);
	for (i = 0; rc == 0 && i < ids->nls; i++)
		rc = plan_sni(&pl, &ids->ls[i], i, ids, &sv);
	if (rc == 0 && ids->nls == 0 && !hook)
		report("no smtpd inet service of master.cf serves TLS: nothing "
		    "to try");
	if (pr != NULL && probe_run(pr, pl.p, pl.n, verify_store(s->cafile,
	    s->capath)) == -1)
		rc = -1;	/* logged */
	if (rc == 0)
		say(&pl, hook);
	served_free(&sv);
	plan_free(&pl);
	return problems() > before ? -1 : rc;
}
