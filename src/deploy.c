/*
 * deploy, check and tlsa: the inventory of what Postfix will load,
 * judged once; then the DANE guard over what port 25 will serve (or, for
 * tlsa, the records to publish); then the plan (the SNI maps to rebuild)
 * and, only when no stage found a problem, the install.  check does all
 * of it but the writing and says what deploy would change.
 *
 * The order of work: postconf runs from the start, beside our own work
 * (the inputs of sets that need nothing from Postfix); what that work
 * finds is said in its turn all the same, after postconf's and the
 * package database's findings.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>

#include "bundle.h"
#include "command.h"
#include "common.h"
#include "conf.h"
#include "dane.h"
#include "finding.h"
#include "inventory.h"
#include "judge.h"
#include "maincf.h"
#include "mapbuild.h"
#include "material.h"
#include "postconf.h"
#include "renew.h"
#include "secure.h"
#include "snimap.h"
#include "vdb.h"
#include "workers.h"

struct run {
	const struct command	*c;
	struct trust		 trust;
	struct judge_opts	 opts;
	struct postfix		 pf;
	struct sets		 sets;
	struct pending		 pd[MAX_SETS];
	size_t			 npd;
	struct inventory	 inv;
	struct material		*mats;		/* one per slot */
	struct notes		 notes;		/* "K SHA256 PATH": a key file to
						   make root's; "E MAP SHA256
						   DOMAIN": what an SNI entry
						   must hold once compiled */
	struct sni_build	*builds;	/* one per SNI map */
	struct chains		*names;		/* per MX name: port 25 */
	size_t			 nnames;
	char			**mx;		/* the MX names (dane_names) */
	size_t			 nmx;
	struct dane_lookup	*lookup;	/* their TLSA records, coming */
	int			 served_found;	/* find_served ran: */
	int			 served;	/* inventory_build's verdict */
	struct findings		*served_said;	/* and what it said */
};

/*
 * A stage that failed without saying why is a bug in this program, not
 * a verdict on the set-up: say so, and never deploy (EX_SOFTWARE).
 */
static int
failed(const char *stage)
{
	if (findings_status() == 0)
		problem(EX_SOFTWARE, NULL, "internal error: %s failed without "
		    "saying why; nothing was changed" FIX "please report this",
		    stage);
	return -1;
}

static void	find_served(struct run *);

/* Postfix's view (-1 when it cannot be had), then the package database. */
static int
postfix_view(struct run *r)
{
	if (postconf_finish(&r->pf) == -1 ||
	    maincf_file_names(&r->pf, PCF_SMTPD) == -1)
		return failed("asking postconf");
	if (vdb_check_ssl(r->c->root) == -1)
		failed("reading the package database");	/* and go on */
	return 0;
}

/*
 * Postfix's view, then what the early inputs said, in their turn.  The
 * inputs are read while postconf runs; with its answer cached, while the
 * DANE lookup runs instead (find_served).
 */
static int
ask_postfix(struct run *r)
{
	struct findings	*early;
	size_t		 mark;
	int		 rc = 0;

	postconf_start(r->c->confdir, r->c->s->cache, &r->pf);
	if (r->pf.cached && (rc = postfix_view(r)) == 0)
		find_served(r);
	mark = findings_mark();
	sets_check_early(&r->sets);
	early = findings_take(mark);
	if (!r->pf.cached)
		rc = postfix_view(r);
	findings_put(early);
	return rc;
}

/* A key file to make root's alone, as a note ("K SHA256 PATH"). */
static void
note_key(struct notes *notes, const char *secure)
{
	char	*s = xasprintf("K %s", secure);

	notes_add(notes, s);
	free(s);
}

/* Every slot but the SNI entries, judged with the bundles to be. */
static int
judge_slots(struct run *r)
{
	const struct slot	*s;
	size_t			 i, j, mark;
	int			 rc = 0;

	r->mats = xcalloc(r->inv.n, sizeof(*r->mats));
	for (i = 0; i < r->inv.n; i++) {
		s = &r->inv.v[i];
		/* A client without a certificate sends none: no problem. */
		if (i > 0 && s->role == ROLE_SERVER &&
		    !slot_names_certificate(s)) {
			mark = findings_mark();
			problem(EX_CONFIG, s->where, "TLS is on, but no "
			    "certificate is named (an empty -o override?), so "
			    "smtpd has none to offer and every TLS client "
			    "fails" FIX "fix: name the certificate and key "
			    "files with -o, or drop the empty override");
			findings_attribute(mark, s->name);
			rc = -1;
			continue;
		}
		if (judge_identity(s, r->pd, r->npd, &r->opts, &r->mats[i]) ==
		    -1)
			rc = -1;	/* logged */
		for (j = 0; j < r->mats[i].nsecure; j++)
			note_key(&r->notes, r->mats[i].secure[j]);
	}
	return rc;
}

/* One SNI entry, judged (in a worker, for long maps). */
static void
judge_sni(const struct sni_entry *e, void *argp, struct notes *notes)
{
	struct run	*r = argp;
	struct material	 m;
	struct slot	 s;
	char		*line;
	size_t		 i;

	/* The entry as written, where it is written: no identity yet. */
	if (*e->domain != '.' && !sni_name_valid(e->domain))
		warning(e->where, "smtpd never matches the SNI name \"%s\": it "
		    "is not a valid host name, so peers asking for it get the "
		    "default certificate" FIX "write the name itself: no "
		    "wildcard, no trailing dot", e->domain);
	slot_of_sni(e->map, e->domain, e->files, e->where, &s);
	judge_identity(&s, r->pd, r->npd, &r->opts, &m);	/* logged */
	for (i = 0; i < m.nsecure; i++)
		note_key(notes, m.secure[i]);
	if (m.stored[0] != '\0') {
		line = xasprintf("E %zu %s %s", (size_t)(e->map - r->inv.maps),
		    m.stored, e->domain);
		notes_add(notes, line);
		free(line);
	}
	material_free(&m);
	slot_free(&s);
}

/* The entries of every map, in order, to be shared out (workers.c). */
struct entries {
	struct sni_entry	*v;
	size_t			 n;
	const struct sni_map	*map;
};

static int
collect_entry(const char *domain, const char *files, const char *where,
    void *argp)
{
	struct entries		*es = argp;
	struct sni_entry	*e;

	es->v = xreallocarray(es->v, es->n + 1, sizeof(*es->v));
	e = &es->v[es->n++];
	e->map = es->map;
	e->domain = xstrdup(domain);
	e->files = xstrdup(files);
	e->where = xstrdup(where);
	return 0;
}

/* Each SNI domain a slot of its own, judged on every CPU. */
static int
judge_sni_maps(struct run *r)
{
	struct entries	es = { NULL, 0, NULL };
	size_t		i;
	int		rc = 0;

	for (i = 0; i < r->inv.nmaps; i++) {
		es.map = &r->inv.maps[i];
		if (sni_each(es.map, collect_entry, &es) == -1)
			rc = -1;	/* logged */
	}
	if (workers_run(es.v, es.n, judge_sni, r, &r->notes) == -1)
		rc = -1;	/* logged */
	for (i = 0; i < es.n; i++) {
		free(es.v[i].domain);
		free(es.v[i].files);
		free(es.v[i].where);
	}
	free(es.v);
	return rc;
}

/* The chains of a material, each as served, for WHO. */
static void
add_chains(struct chains *cs, const char *who, const struct material *m)
{
	struct chain	c;
	size_t		i, k;

	for (i = 0; i < m->n; i++) {
		if (m->g[i].pool.n == 0 || m->g[i].pool.n > MAX_CHAIN_LEN)
			continue;
		memset(&c, 0, sizeof(c));
		for (k = 0; k < m->g[i].pool.n; k++)
			c.x509[c.n++] = m->g[i].pool.certs[k].x509;
		chains_add(cs, who, &c);
	}
}

/*
 * The SNI entry a DANE sender asking for NAME gets on an endpoint (RFC
 * 7672 8.1: it sends the MX name as SNI), read again quietly: it was
 * judged with the others.
 */
static void
add_sni_chains(struct run *r, struct chains *cs, const char *list)
{
	const struct sni_map	*maps, *map;
	struct material		 m;
	struct slot		 s;
	char			*key, *files, *where;
	size_t			 n, mark = findings_mark();

	inventory_maps(&r->inv, list, &maps, &n);
	if (n > 0 && sni_lookup(maps, n, cs->name, &key, &files, &where,
	    &map) == 1) {
		slot_of_sni(map, key, files, where, &s);
		material_load(&s, r->pd, r->npd, &m);
		add_chains(cs, s.name, &m);
		material_free(&m);
		slot_free(&s);
		free(key);
		free(files);
		free(where);
	}
	findings_drop(mark);
}

/*
 * Every chain a DANE sender may get on port 25, per MX name: on each
 * port-25 endpoint its default chains (senders SHOULD, not MUST, send
 * SNI) and the SNI entry for the name, if its maps have one.
 */
static void
port25_chains(struct run *r, char **names, size_t n)
{
	const struct port25	*e;
	size_t			 i, j;

	r->names = xcalloc(n, sizeof(*r->names));
	r->nnames = n;
	for (i = 0; i < n; i++) {
		r->names[i].name = xstrdup(names[i]);
		for (j = 0; j < r->inv.np25; j++) {
			e = &r->inv.p25[j];
			add_chains(&r->names[i], r->inv.v[e->slot].name,
			    &r->mats[e->slot]);
			if (*e->sni != '\0')
				add_sni_chains(r, &r->names[i], e->sni);
		}
	}
}

/* The guard (deploy, check) or the records to publish (tlsa). */
static int
dane(struct run *r)
{
	const struct settings	*s = r->c->s;
	struct dane_lookup	*lookup;

	if (r->c->cmd != CMD_TLSA && s->dane == DANE_OFF)
		return 0;
	if (r->mx == NULL)
		dane_names(s, &r->pf, &r->mx, &r->nmx);
	port25_chains(r, r->mx, r->nmx);
	if (r->c->cmd == CMD_TLSA)
		return dane_print(r->names, r->nnames);	/* logged */
	if (r->lookup == NULL)
		return dane_guard(s, r->names, r->nnames, r->c->cmd ==
		    CMD_CHECK);	/* logged */
	lookup = r->lookup;
	r->lookup = NULL;
	return dane_guard_lookup(s, lookup, r->names, r->nnames, r->c->cmd ==
	    CMD_CHECK);	/* logged */
}

/*
 * The TLSA lookup of the MX names, started as soon as the inventory says
 * a port-25 listener serves a chain: it runs while the files are judged.
 */
static void
dane_start(struct run *r)
{
	const struct settings	*s = r->c->s;

	if (r->c->cmd == CMD_TLSA || s->dane == DANE_OFF || r->inv.np25 == 0)
		return;
	dane_names(s, &r->pf, &r->mx, &r->nmx);
	r->lookup = dane_lookup_start(s, r->mx, r->nmx);
}

/*
 * What Postfix serves (the inventory), as soon as Postfix's view is
 * known; then the DANE lookup starts, and runs while the files are read.
 */
static void
find_served(struct run *r)
{
	size_t	mark = findings_mark();

	r->served_found = 1;
	r->served = inventory_build(&r->pf, &r->inv);
	/* Said in its turn, after the inputs (judge_all). */
	r->served_said = findings_take(mark);
	if (r->served == 0)
		dane_start(r);
}

/*
 * Every SNI map that is out of date built anew beside the old one, before
 * anything is changed: a map that cannot be rebuilt refuses the run.
 */
/* What map MAP's entries must hold ("E MAP SHA256 DOMAIN" notes). */
static struct sni_expect *
expected(const struct run *r, size_t map, size_t *n)
{
	struct sni_expect	*ex = NULL;
	const char		*p;
	char			*end;
	size_t			 i;

	*n = 0;
	for (i = 0; i < r->notes.n; i++) {
		p = r->notes.v[i];
		if (p[0] != 'E' || strtoul(p + 2, &end, 10) != map ||
		    *end != ' ' || strlen(end + 1) < 66)
			continue;
		ex = xreallocarray(ex, *n + 1, sizeof(*ex));
		strlcpy(ex[*n].stored, end + 1, 65);
		ex[(*n)++].domain = end + 66;
	}
	return ex;
}

static int
prepare_maps(struct run *r)
{
	struct sni_expect	*ex;
	size_t			 i, n;
	int			 rc = 0;

	r->builds = xcalloc(r->inv.nmaps + 1, sizeof(*r->builds));
	for (i = 0; i < r->inv.nmaps; i++) {
		ex = expected(r, i, &n);
		if (sni_prepare(&r->inv.maps[i], r->c->confdir, r->c->cmd ==
		    CMD_DEPLOY, r->pd, r->npd, ex, n, &r->builds[i]) == -1)
			rc = -1;	/* logged */
		free(ex);
	}
	return rc;
}

/*
 * A key file noted by the judge ("SHA256 PATH"), made root's alone with
 * the bytes that were checked: walked again, read, and refused when it
 * changed meanwhile.
 */
static int
make_private(const char *note, int apply)
{
	struct file	 f;
	unsigned char	*buf = NULL;
	size_t		 len = 0;
	char		 hex[65];
	int		 rc = -1;

	file_init(&f);
	if (strlen(note) < 66 || file_open(&f, note + 65, 0) == -1 ||
	    file_read(&f, &buf, &len) == -1)
		goto out;	/* logged */
	if (file_digest(buf, len, hex) == -1 || strncmp(hex, note, 64)) {
		problem(EX_NOPERM, f.real, "changed while it was being checked "
		    "(by its owner?), so it was left as it is" FIX "find out "
		    "who writes it, then run again");
		goto out;
	}
	rc = file_make_private(&f, buf, len, apply);
out:
	if (buf != NULL)
		freezero(buf, len + 1);
	file_close(&f);
	return rc;	/* logged */
}

/*
 * Everything passed: key files (the sets', then the others'), bundles,
 * maps, in that order: a key that changed meanwhile stops the run before
 * a bundle is written.
 */
static int
install(struct run *r)
{
	size_t	i, j;
	int	apply = r->c->cmd == CMD_DEPLOY, rc = 0, replaced = 0;

	if (sets_secure_keys(&r->sets, apply, r->c->renew) == -1)
		return -1;	/* logged */
	for (i = 0; i < r->notes.n; i++) {
		if (r->notes.v[i][0] != 'K')
			continue;
		for (j = 0; j < i && (r->notes.v[j][0] != 'K' ||
		    strcmp(r->notes.v[i] + 67, r->notes.v[j] + 67)); j++)
			;
		if (j < i || sets_is_key(&r->sets, r->notes.v[i] + 67))
			continue;	/* said, or a set's: done already */
		if (make_private(r->notes.v[i] + 2, apply) == -1)
			return -1;	/* logged */
		replaced = 1;
	}
	if (sets_write(&r->sets, apply) == -1)
		return -1;	/* logged */
	for (i = 0; i < r->inv.nmaps; i++)
		if (sni_commit(&r->builds[i], apply, replaced) == -1)
			rc = -1;	/* logged */
	return rc;
}

static void
cleanup(struct run *r)
{
	size_t	i, mark;

	for (i = 0; r->builds != NULL && i < r->inv.nmaps; i++)
		sni_build_free(&r->builds[i]);
	free(r->builds);
	for (i = 0; r->mats != NULL && i < r->inv.n; i++)
		material_free(&r->mats[i]);
	free(r->mats);
	for (i = 0; i < r->nnames; i++)
		chains_free(&r->names[i]);
	free(r->names);
	dane_lookup_abandon(r->lookup);	/* refused before the guard */
	if (r->served_said != NULL) {	/* refused before its turn: unsaid */
		mark = findings_mark();
		findings_put(r->served_said);
		findings_drop(mark);
	}
	if (r->mx != NULL)
		dane_names_free(r->mx, r->nmx);
	notes_free(&r->notes);
	inventory_free(&r->inv);
	sets_free(&r->sets);
	postconf_free(&r->pf);
}

/* Everything judged; nothing written unless all of it passed. */
static int
judge_all(struct run *r)
{
	int	rc = 0;

	if (!r->served_found)
		find_served(r);
	if (sets_check(&r->sets, &r->pf) == -1)
		rc = failed("checking the input files");
	r->npd = sets_pending(&r->sets, r->pd);
	findings_put(r->served_said);
	r->served_said = NULL;
	if (r->served == -1)
		return failed("finding what Postfix serves");
	if (judge_slots(r) == -1)
		rc = failed("checking what Postfix serves");
	else if (judge_sni_maps(r) == -1)
		rc = failed("checking the SNI maps");
	return rc;
}

int
deploy_command(const struct command *c)
{
	struct run	r;
	size_t		i;
	int		rc = -1;

	memset(&r, 0, sizeof(r));
	r.c = c;
	r.trust.cafile = c->s->cafile;
	r.trust.capath = c->s->capath;
	r.opts.trust = r.trust;
	r.opts.warn_days = c->s->warn_days;
	/* check says each identity's chain; -q does not, a monitor lists it. */
	r.opts.list = c->cmd == CMD_CHECK && !c->quiet && !c->monitor;
	r.opts.records = c->cmd == CMD_CHECK && c->monitor;
	r.opts.advise = c->cmd == CMD_CHECK;
	sets_make(c->s, &r.trust, &r.sets);
	if (c->cmd == CMD_CHECK)
		renew_report(c->root, c->confdir);	/* a refused renewal */
	if (ask_postfix(&r) == -1)
		goto out;
	if (sets_choose(&r.sets, &r.pf) == -1) {
		failed("choosing the files");
		goto out;
	}
	/* renew: the client's files go into a bundle of our own, key too. */
	if (c->renew != NULL && renew_guard(c->renew, &r.sets) == -1)
		goto out;	/* logged */
	if (judge_all(&r) == -1 || findings_status() != 0)
		goto out;
	if (dane(&r) == -1 || findings_status() != 0 || c->cmd == CMD_TLSA) {
		rc = findings_status() != 0 ? -1 : 0;
		goto out;
	}
	if (prepare_maps(&r) == -1 || findings_status() != 0) {
		failed("rebuilding the SNI maps");
		goto out;
	}
	if (install(&r) == -1) {
		failed(c->cmd == CMD_DEPLOY ? "installing the bundle" :
		    "comparing the bundle");
		goto out;
	}
	for (i = 0; c->cmd == CMD_CHECK && i < r.sets.n; i++)
		note("ok: %s would be served with %zu certificate%s",
		    r.sets.v[i]->bundle, r.sets.v[i]->chain.n,
		    r.sets.v[i]->chain.n == 1 ? "" : "s");
	if (findings_status() == 0)
		postconf_keep(&r.pf);
	rc = 0;
out:
	cleanup(&r);
	return rc;
}
