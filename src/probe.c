/*
 * probe: what the running Postfix serves, proved by handshakes after
 * every start and reload (the hooks' start_post and reload_post).  Each
 * listener of the inventory (an smtpd inet service that serves TLS) is
 * reached on a local address (its own, or inet_interfaces'), tried once
 * per key algorithm its slot holds and once per SNI name it serves, and
 * judged by handshake.c against the leaves on disk, read as the check
 * reads them.
 */
#include <arpa/inet.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sysexits.h>

#include <openssl/evp.h>

#include "command.h"
#include "common.h"
#include "conf.h"
#include "finding.h"
#include "handshake.h"
#include "inspect.h"
#include "inventory.h"
#include "maincf.h"
#include "material.h"
#include "postconf.h"
#include "snimap.h"
#include "topology.h"
#include "verify.h"

/*
 * check --json / --nagios: what the probe finds is said as warnings, so
 * that check's exit status stays its verdict on the files.
 */
static int	monitor;

/* The leaves a slot serves, as read (one per key). */
struct leaves {
	X509	**v;
	size_t	  n;
};
#define MAX_SNI_PROBES	100	/* SNI names tried per run: the first ones */

/* The probes of one run and what they point into. */
struct plan {
	struct probe		*p;
	size_t			 n;
	struct leaves		*leaves;	/* per slot, then per SNI name */
	size_t			 nleaves;
	char			**text;		/* labels and names to free */
	size_t			 ntext;
	size_t			 nsni, sni_left;	/* SNI names tried, left out */
	size_t			 first_sni;	/* the list's first probe */
	const char		*ehlo;
	const struct inventory	*inv;
};

/* A string the plan keeps until the end of the run. */
static const char *
keep(struct plan *pl, char *s)
{
	pl->text = xreallocarray(pl->text, pl->ntext + 1, sizeof(*pl->text));
	pl->text[pl->ntext++] = s;
	return s;
}

/*
 * One address as master.cf or inet_interfaces writes it, brackets off,
 * into HOST: 1 when it is numeric or stands for loopback ("localhost",
 * "all", "loopback-only": of the first protocol inet_protocols allows),
 * 0 for a host name (HOST holds it), -1 when too long.
 */
static int
one_host(const struct service *svc, const char *given, size_t glen,
    char host[64])
{
	const char	*protocols = svc->v[PC_INET_PROTOCOLS];
	unsigned char	 addr[16];
	int		 v6 = strstr(protocols, "ipv4") == NULL &&
			    strcasecmp(protocols, "all") != 0;

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
pick_host(const struct service *svc, size_t hlen, char host[64])
{
	const char	*cur = svc->v[PC_INET_INTERFACES], *w;
	size_t		 n;
	int		 r = 0;

	*host = '\0';
	if (hlen > 0)
		r = one_host(svc, svc->name, hlen, host);
	else if (plist_next(&cur, &n, PLIST_PLAIN, NULL) == NULL)
		r = one_host(svc, "all", 3, host);	/* Postfix's default */
	else
		for (cur = svc->v[PC_INET_INTERFACES]; r != 1 &&
		    (w = plist_next(&cur, &n, PLIST_PLAIN, NULL)) != NULL; )
			if ((r = one_host(svc, w, n, host)) == -1)
				break;
	if (r == 1)
		return 0;
	if (r == 0)
		warning(NULL, "%s: \"%s\" is a host name, not an address, "
		    "and names are not looked up at boot; not checked" FIX
		    "name the address in master.cf or inet_interfaces",
		    svc->name, host);
	else
		warning(NULL, "%s: the address is too long to try; not "
		    "checked", svc->name);
	return -1;
}

static int
listener_address(const struct service *svc, struct probe *p)
{
	const char	*slash = strrchr(svc->name, '/'), *colon;
	size_t		 len = slash != NULL ? (size_t)(slash - svc->name) :
			    strlen(svc->name), hlen = 0;

	if (svc->port[0] == '\0') {
		warning(NULL, "%s: its port is neither a number nor a known "
		    "service name; not checked", svc->name);
		return -1;
	}
	if ((colon = memrchr(svc->name, ':', len)) != NULL)
		hlen = colon - svc->name;
	strlcpy(p->port, svc->port, sizeof(p->port));
	if (pick_host(svc, hlen, p->host) == -1)
		return -1;	/* warned */
	snprintf(p->where, sizeof(p->where), strchr(p->host, ':') ?
	    "[%s]:%s" : "%s:%s", p->host, p->port);
	return 0;
}

/*
 * The leaves a slot serves, read as the check reads them; what is wrong
 * with its files was said by the check before the start, not again.
 */
static void
read_leaves(const struct slot *s, struct leaves *l)
{
	struct material	m;
	size_t		mark = findings_mark(), i;

	material_load(s, NULL, 0, &m);
	findings_drop(mark);
	for (i = 0; i < m.n; i++)
		if (m.g[i].pool.n > 0) {
			l->v = xreallocarray(l->v, l->n + 1, sizeof(*l->v));
			X509_up_ref(m.g[i].pool.certs[0].x509);
			l->v[l->n++] = m.g[i].pool.certs[0].x509;
		}
	material_free(&m);
}

static void
leaves_free(struct leaves *l)
{
	while (l->n > 0)
		X509_free(l->v[--l->n]);
	free(l->v);
	l->v = NULL;
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

/*
 * One handshake to try.  SERVERNAME is the name the leaf must cover; it
 * is sent as SNI only for an SNI entry: a listener's own slot is what
 * peers that send none get (Postfix's smtp client sends none by
 * default), and an SNI entry for myhostname would answer in its place.
 */
static void
add_probe(struct plan *pl, size_t li, const char *label,
    const char *servername, int sni, const struct leaves *lv, int algo)
{
	const struct listener	*l = &pl->inv->ls[li];
	struct probe		*p;

	pl->p = xreallocarray(pl->p, pl->n + 1, sizeof(*pl->p));
	p = &pl->p[pl->n];
	memset(p, 0, sizeof(*p));
	if (listener_address(l->svc, p) == -1)
		return;	/* warned: not tried */
	p->label = label;
	p->wrapper = l->svc->wrapper;
	p->ehlo = pl->ehlo;
	p->servername = servername;
	p->sni = sni;
	p->ident = l->slot;		/* for plan_algorithms */
	p->listener = li;
	p->leaves = lv != NULL ? lv->v : NULL;
	p->nleaves = lv != NULL ? lv->n : 0;
	p->algo = algo;
	p->sigalgs = algo ? sigalgs_for(algo) : NULL;
	pl->n++;
}

/*
 * The listener probes completed with their slots' leaves: one probe a
 * listener, or one per algorithm when the slot holds leaves of several
 * (each must be served); the others are added at the end.
 */
static void
plan_algorithms(struct plan *pl, size_t nbase)
{
	const struct leaves	*lv;
	const char		*label;
	int			 algos[8];
	size_t			 b, i, k, n;

	for (b = 0; b < nbase; b++) {
		lv = &pl->leaves[pl->p[b].ident];
		pl->p[b].leaves = lv->v;
		pl->p[b].nleaves = lv->n;
		for (i = n = 0; i < lv->n && n < 8; i++) {
			for (k = 0; k < n && algos[k] !=
			    key_slot_of(lv->v[i]); k++)
				;
			if (k == n)
				algos[n++] = key_slot_of(lv->v[i]);
		}
		for (k = 0; n > 1 && k < n; k++) {
			label = keep(pl, xasprintf("%s, %s certificate",
			    pl->inv->ls[pl->p[b].listener].svc->name,
			    key_type_name(algos[k])));
			if (k == 0) {
				pl->p[b].label = label;
				pl->p[b].algo = algos[0];
				pl->p[b].sigalgs = sigalgs_for(algos[0]);
			} else
				add_probe(pl, pl->p[b].listener, label,
				    pl->p[b].servername, 0, lv, algos[k]);
		}
	}
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
	size_t			 li;
	const struct sni_map	*map;
};

static int
plan_sni_entry(const char *domain, const char *files, const char *where,
    void *arg)
{
	struct sni_ctx	*cx = arg;
	struct plan	*pl = cx->pl;
	struct slot	 s;
	struct leaves	*v;
	const char	*label, *name;

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
	pl->leaves = xreallocarray(pl->leaves, pl->nleaves + 1,
	    sizeof(*pl->leaves));
	v = &pl->leaves[pl->nleaves++];
	memset(v, 0, sizeof(*v));
	name = keep(pl, xstrdup(domain));
	label = keep(pl, xasprintf("SNI %s on %s", domain,
	    pl->inv->ls[cx->li].svc->name));
	slot_of_sni(cx->map, domain, files, where, &s);
	read_leaves(&s, v);
	slot_free(&s);
	add_probe(pl, cx->li, label, name, 1, v, 0);
	return 0;
}

/* The SNI names a listener serves, unless an earlier one tried them. */
static void
plan_sni(struct plan *pl, size_t li)
{
	const struct inventory	*inv = pl->inv;
	const struct sni_map	*maps;
	struct sni_ctx		 cx = { pl, li, NULL };
	size_t			 i, n, mark = findings_mark();

	if (*inv->ls[li].sni == '\0')
		return;
	for (i = 0; i < li; i++)
		if (!strcmp(inv->ls[i].sni, inv->ls[li].sni))
			return;
	pl->first_sni = pl->n;
	inventory_maps(inv, inv->ls[li].sni, &maps, &n);
	for (i = 0; i < n; i++) {
		cx.map = &maps[i];
		if (sni_each(&maps[i], plan_sni_entry, &cx) == -1)
			break;
	}
	findings_drop(mark);	/* the check said what is wrong there */
}

/* What each probe found, in order: failures as problems. */
static void
say(const struct plan *pl, int hook)
{
	const struct probe	*p;
	size_t			 i, untried = 0, mark;

	for (i = 0; i < pl->n; i++) {
		p = &pl->p[i];
		if (p->verdict == PV_NOT_TRIED) {
			untried++;
			continue;
		}
		mark = findings_mark();
		switch (p->verdict) {
		case PV_OK:
			if (!p->name_ok)
				warning(p->where, "%s is not among the served "
				    "certificate's names; peers that check the "
				    "name refuse it", p->servername);
			if (!hook || verbose())
				note("ok: %s: %s: %s, %s", p->label, p->where,
				    p->wrapper ? "TLS" : "STARTTLS", p->said);
			break;
		case PV_FAILED:
		case PV_MISMATCH:
			if (monitor)	/* check's verdict stays the files' */
				warning(p->where, "%s%s", p->wrapper ? "" :
				    "STARTTLS: ", p->said ? p->said : "failed");
			else
				problem(EX_PROTOCOL, p->where, "%s%s",
				    p->wrapper ? "" : "STARTTLS: ", p->said ?
				    p->said : "failed");
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
		findings_attribute(mark, p->label);
	}
	if (untried > 0)
		warning(NULL, "%zu handshake%s not tried: the time was spent on "
		    "the others (POSTFIX_TLS_PROBE_TIMEOUT)", untried,
		    untried == 1 ? " was" : "s were");
	if (pl->sni_left > 0 && !hook)
		note("note: %zu more SNI name%s not tried: a run tries the "
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
static int
try_listeners(const struct inventory *inv, const struct postfix *pf,
    const struct settings *st, int hook)
{
	struct trust	 t = { st->cafile, st->capath };
	struct plan	 pl;
	struct prober	*pr = NULL;
	size_t		 i, nbase;
	int		 rc = 0;

	memset(&pl, 0, sizeof(pl));
	pl.ehlo = pf->v[PC_MYHOSTNAME];
	pl.inv = inv;
	pl.leaves = xcalloc(inv->n + 1, sizeof(*pl.leaves));
	pl.nleaves = inv->n;
	/*
	 * The listeners' connections first: master spawns their smtpd
	 * processes (the slow part of a first connection) while the leaves
	 * are read and the trust store is set up.
	 */
	for (i = 0; i < inv->nls; i++)
		add_probe(&pl, i, keep(&pl, xstrdup(inv->ls[i].svc->name)),
		    inv->v[inv->ls[i].slot].host, 0, NULL, 0);
	nbase = pl.n;
	if ((pr = probe_start(pl.p, pl.n, st->probe_timeout * 1000)) == NULL)
		rc = -1;	/* logged */
	for (i = 0; rc == 0 && i < inv->n; i++)
		if (inv->v[i].role == ROLE_SERVER)
			read_leaves(&inv->v[i], &pl.leaves[i]);
	if (rc == 0)
		plan_algorithms(&pl, nbase);
	for (i = 0; rc == 0 && i < inv->nls; i++)
		plan_sni(&pl, i);
	if (rc == 0 && inv->nls == 0 && !hook)
		note("no smtpd inet service of master.cf serves TLS: nothing "
		    "to try");
	if (pr != NULL && probe_run(pr, pl.p, pl.n, verify_store(&t)) == -1)
		rc = -1;	/* logged */
	if (rc == 0)
		say(&pl, hook);
	plan_free(&pl);
	return rc;
}

int
probe_command(const struct command *c)
{
	struct postfix		 pf;
	struct inventory	 inv;
	size_t			 mark;
	int			 rc = -1;

	postconf_start(c->confdir, c->s->cache, &pf);
	if (postconf_finish(&pf) == -1 ||
	    maincf_file_names(&pf, PCF_SMTPD) == -1)
		goto out;	/* logged */
	mark = findings_mark();
	if (inventory_build(&pf, &inv) == -1) {
		findings_drop(mark);
		problem(EX_CONFIG, NULL, "the TLS services of %s/master.cf "
		    "cannot be read, so none was tried" FIX "run "
		    "postfix-tls-setup check for why", c->confdir);
		inventory_free(&inv);
		goto out;
	}
	findings_drop(mark);	/* the check before the start said them */
	rc = try_listeners(&inv, &pf, c->s, c->hook);
	if (rc == 0 && findings_status() == 0)
		postconf_keep(&pf);
	inventory_free(&inv);
out:
	postconf_free(&pf);
	return rc;
}

/*
 * Is Postfix's master running for this configuration?  Postfix's own
 * test (postfix status): QUEUE_DIRECTORY/pid/master.pid names a live
 * process; here also one whose name is "master", so a stale file whose
 * number was reused by another process does not count.
 */
static int
master_running(const char *queue_dir)
{
	char		 path[PATH_MAX], buf[128], comm[32];
	const char	*errstr, *p;
	ssize_t		 n;
	pid_t		 pid;
	int		 fd, running = 0;

	if (queue_dir == NULL || *queue_dir != '/' ||
	    snprintf(path, sizeof(path), "%s/pid/master.pid", queue_dir) >=
	    (int)sizeof(path) ||
	    (fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)) == -1)
		return 0;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return 0;
	buf[n] = '\0';
	if (strchr(buf, '\n') == NULL)
		return 0;	/* cut short: not a number we can trust */
	buf[strcspn(buf, "\n")] = '\0';
	for (p = buf; *p == ' '; p++)
		;	/* Postfix pads the number to 32 columns */
	pid = strtonum(p, 2, INT_MAX, &errstr);
	if (errstr != NULL || (kill(pid, 0) == -1 && errno != EPERM))
		return 0;
	snprintf(path, sizeof(path), "/proc/%d/comm", (int)pid);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return 0;
	if ((n = read(fd, comm, sizeof(comm) - 1)) > 0) {
		comm[n] = '\0';
		running = !strcmp(comm, "master\n");
	}
	close(fd);
	return running;
}

/*
 * check --json and --nagios, after the check: when the master runs, the
 * listeners' handshakes (as probe makes them) say whether Postfix serves
 * the leaves on disk: a renewal deployed without a reload shows as
 * "serves ..., which is not the certificate on disk".  What postconf
 * and master.cf say wrong was said by the check already.
 */
void
probe_served(const struct command *c)
{
	struct postfix		 pf;
	struct inventory	 inv;
	size_t			 mark = findings_mark();

	memset(&inv, 0, sizeof(inv));
	postconf_start(c->confdir, c->s->cache, &pf);
	if (postconf_finish(&pf) == -1 ||
	    maincf_file_names(&pf, PCF_SMTPD) == -1) {
		findings_drop(mark);
		goto out;
	}
	if (!master_running(pf.v[PC_QUEUE_DIR])) {
		note("Postfix is not running (no live %s/pid/master.pid): "
		    "what it serves was not tried", pf.v[PC_QUEUE_DIR]);
		goto out;
	}
	if (inventory_build(&pf, &inv) == -1) {
		findings_drop(mark);
		goto out;
	}
	findings_drop(mark);
	monitor = 1;
	(void)try_listeners(&inv, &pf, c->s, 1);	/* said */
	monitor = 0;
out:
	inventory_free(&inv);
	postconf_free(&pf);
}
