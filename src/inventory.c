/*
 * The inventory (inventory.h): the slots Postfix loads, from postconf's
 * answers and master.cf's topology.  A service whose files are main.cf's
 * is main.cf's slot; one with files of its own is a slot of its own.
 * What cannot be read the way Postfix reads it (a relative file name,
 * an over-long list) is refused here, once, with the setting named.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sysexits.h>
#include <unistd.h>

#include "common.h"
#include "finding.h"
#include "inventory.h"
#include "maincf.h"
#include "secure.h"
#include "snimap.h"

/* The slot's files, as parameters of group PCF, from the values V. */
static void
fill_files(struct slot *s, const char *const *v, int pcf)
{
	const struct pc_files	*p = &pc_files[pcf];
	int			 k;

	s->chain_files = v[p->chain];
	s->chain_param = pc_names[p->chain];
	for (k = 0; k < 3; k++) {
		s->cert[k] = v[p->cert[k]];
		s->key[k] = v[p->key[k]];
		s->cert_param[k] = pc_names[p->cert[k]];
		s->key_param[k] = pc_names[p->key[k]];
	}
}

/* Do two sets of values name the same files (groups PA in A, PB in B)? */
static int
same_files(const char *const *a, int pa, const char *const *b, int pb)
{
	const struct pc_files	*x = &pc_files[pa], *y = &pc_files[pb];
	int			 k;

	if (strcmp(a[x->chain], b[y->chain]))
		return 0;
	for (k = 0; k < 3; k++)
		if (strcmp(a[x->cert[k]], b[y->cert[k]]) ||
		    strcmp(a[x->key[k]], b[y->key[k]]))
			return 0;
	return 1;
}

static size_t
add_slot(struct inventory *inv, char *name, char *where, int role,
    const char *const *v, int pcf)
{
	struct slot	*s;

	inv->v = xreallocarray(inv->v, inv->n + 1, sizeof(*inv->v));
	s = &inv->v[inv->n];
	memset(s, 0, sizeof(*s));
	s->name = name;
	s->where = where;
	s->role = role;
	if (role == ROLE_SERVER) {
		s->host = v[PC_MYHOSTNAME];
		s->host_what = "myhostname";
	}
	fill_files(s, v, pcf);
	return inv->n++;
}

int
slot_names_certificate(const struct slot *s)
{
	int	k;

	if (*s->chain_files != '\0')
		return 1;
	for (k = 0; k < 3; k++)
		if (*s->cert[k] != '\0')
			return 1;
	return 0;
}

/* The same for a service's -o (its values differ from main.cf's). */
static int
service_names(const struct service *svc, const char *where, int pcf)
{
	enum pc_param		 params[PCF_NFILES];
	const char		*cur, *w;
	size_t			 i, len;
	int			 rc = 0;

	pc_file_params(pcf, params);
	for (i = 0; i < PCF_NFILES; i++) {
		if (!svc->set[params[i]])
			continue;
		for (cur = svc->v[params[i]]; (w = plist_next(&cur, &len,
		    PLIST_PLAIN, NULL)) != NULL; ) {
			if (*w == '/')
				continue;
			problem(EX_CONFIG, where, "%s sets -o %s with the "
			    "relative name \"%.*s\": smtpd looks for it in "
			    "Postfix's queue directory (postconf -h "
			    "queue_directory), this helper would look in its "
			    "own working directory" FIX "fix: give the file's "
			    "absolute name", svc->name, pc_names[params[i]],
			    (int)len, w);
			rc = -1;
		}
	}
	return rc;	/* logged */
}

/*
 * A service's -o smtpd_tls_cert_file (eccert, dcert) while
 * smtpd_tls_chain_files is set: the chain files win, that certificate
 * is never served.
 */
static void
warn_shadowed(const struct service *svc, const char *where)
{
	static const enum pc_param certs[] = { PC_CERT, PC_ECCERT, PC_DCERT };
	size_t	i;

	if (*svc->v[PC_CHAIN_FILES] == '\0')
		return;
	for (i = 0; i < sizeof(certs) / sizeof(certs[0]); i++)
		if (svc->set[certs[i]] && *svc->v[certs[i]] != '\0')
			warning(where, "%s sets -o %s=%s, but "
			    "smtpd_tls_chain_files (%s) takes precedence, so "
			    "that certificate is never served" FIX "set -o "
			    "smtpd_tls_chain_files=KEY-AND-CHAIN-FILE for this "
			    "service instead", svc->name, pc_names[certs[i]],
			    svc->v[certs[i]], svc->set[PC_CHAIN_FILES] ?
			    "set for it too" : "from main.cf");
}

/* Each SNI map list once, main.cf's first. */
static void
add_list(struct inventory *inv, const char *maps)
{
	size_t	i;

	if (maps == NULL || *maps == '\0')
		return;
	for (i = 0; i < inv->nlists; i++)
		if (!strcmp(inv->lists[i].value, maps))
			return;
	inv->lists = xreallocarray(inv->lists, inv->nlists + 1,
	    sizeof(*inv->lists));
	memset(&inv->lists[inv->nlists], 0, sizeof(*inv->lists));
	inv->lists[inv->nlists++].value = maps;
}

static void
add_port25(struct inventory *inv, const char *via, size_t slot,
    const char *sni)
{
	inv->p25 = xreallocarray(inv->p25, inv->np25 + 1, sizeof(*inv->p25));
	inv->p25[inv->np25].via = via;
	inv->p25[inv->np25].slot = slot;
	inv->p25[inv->np25++].sni = sni != NULL ? sni : "";
}

/*
 * An smtpd service that serves TLS: its slot (main.cf's, or its own), a
 * listener when it is an inet service, a port-25 endpoint when DANE
 * senders reach it.  A pass service's endpoints are added later, when a
 * postscreen listens on port 25.
 */
static int
add_smtpd(const struct postfix *pf, struct inventory *inv,
    const struct service *svc, size_t *slot)
{
	char	*where = xasprintf("%s/master.cf", pf->dir);
	int	 rc = 0;

	warn_shadowed(svc, where);
	if (service_names(svc, where, PCF_SMTPD) == -1)
		rc = -1;	/* logged */
	add_list(inv, svc->v[PC_SNI_MAPS]);
	*slot = 0;
	if (!same_files(svc->v, PCF_SMTPD, (const char *const *)pf->v,
	    PCF_SMTPD))
		*slot = add_slot(inv, xasprintf("%s (master.cf)", svc->name),
		    xstrdup(where), ROLE_SERVER, svc->v, PCF_SMTPD);
	free(where);
	if (svc->inet) {
		inv->ls = xreallocarray(inv->ls, inv->nls + 1,
		    sizeof(*inv->ls));
		inv->ls[inv->nls].svc = svc;
		inv->ls[inv->nls].slot = *slot;
		inv->ls[inv->nls++].sni = svc->v[PC_SNI_MAPS];
	}
	if (topology_port25(svc))
		add_port25(inv, svc->name, *slot, svc->v[PC_SNI_MAPS]);
	return rc;
}

/* Does postscreen offer STARTTLS (through tlsproxy)? */
static int
postscreen_tls(const struct postfix *pf, const struct topology *t)
{
	const char	*level = pf->v[PC_PSCREEN_LEVEL];
	size_t		 i;

	for (i = 0; i < t->n; i++)
		if (t->v[i].kind == SVC_POSTSCREEN)
			break;
	if (i == t->n)
		return 0;
	if (*level == '\0')
		return pf_yes(pf->v[PC_ENFORCE_TLS]) ||
		    pf_yes(pf->v[PC_USE_TLS]);
	return strcasecmp(level, "none") != 0;
}

/*
 * tlsproxy's server side: postscreen hands its STARTTLS to tlsproxy,
 * which serves tlsproxy_tls_* (smtpd's by default).  A slot of its own
 * only when those name other files than main.cf's smtpd.
 */
static int
add_tlsproxy(const struct postfix *pf, struct inventory *inv)
{
	const struct service	*own = NULL;
	const char *const	*v = (const char *const *)pf->v;
	char			*where;
	size_t			 i, slot = 0;
	int			 rc = 0;

	if (!postscreen_tls(pf, &inv->top))
		return 0;
	for (i = 0; i < inv->top.n; i++)
		if (inv->top.v[i].kind == SVC_TLSPROXY &&
		    !same_files(inv->top.v[i].v, PCF_TLSPROXY, v,
		    PCF_TLSPROXY))
			own = &inv->top.v[i];
	if (own != NULL)
		v = own->v;
	/* smtpd's files: main.cf's slot, judged as such, served here too. */
	if (!same_files(v, PCF_TLSPROXY, (const char *const *)pf->v,
	    PCF_SMTPD)) {
		where = xasprintf("%s/%s", pf->dir, own != NULL ? "master.cf" :
		    "main.cf");
		if ((own != NULL ? service_names(own, where, PCF_TLSPROXY) :
		    maincf_file_names(pf, PCF_TLSPROXY)) == -1)
			rc = -1;	/* logged */
		slot = add_slot(inv, own != NULL ? xasprintf("%s (master.cf)",
		    own->name) : xstrdup("tlsproxy (main.cf)"), where,
		    ROLE_SERVER, v, PCF_TLSPROXY);
	}
	for (i = 0; i < inv->top.n; i++)
		if (inv->top.v[i].kind == SVC_POSTSCREEN &&
		    topology_port25(&inv->top.v[i]))
			add_port25(inv, inv->top.v[i].name, slot, "");
	return rc;
}

/* A client's certificate in main.cf: a slot when one is named. */
static int
add_client(const struct postfix *pf, struct inventory *inv, int pcf,
    const char *name)
{
	const struct pc_files	*p = &pc_files[pcf];

	if (*pf->v[p->chain] == '\0' && *pf->v[p->cert[0]] == '\0' &&
	    *pf->v[p->cert[1]] == '\0' && *pf->v[p->cert[2]] == '\0')
		return 0;
	if (pcf == PCF_TP_CLIENT && same_files((const char *const *)pf->v,
	    PCF_TP_CLIENT, (const char *const *)pf->v, PCF_SMTP))
		return 0;	/* smtp's, judged as smtp's */
	if (maincf_file_names(pf, pcf) == -1)
		return -1;	/* logged */
	add_slot(inv, xstrdup(name), xasprintf("%s/main.cf", pf->dir),
	    ROLE_CLIENT, (const char *const *)pf->v, pcf);
	return 0;
}

/* A master.cf smtp or lmtp service with certificates of its own. */
static int
add_client_service(const struct postfix *pf, struct inventory *inv,
    const struct service *svc)
{
	int	pcf = svc->kind == SVC_LMTP ? PCF_LMTP : PCF_SMTP;
	char	*where;
	int	rc;

	if (same_files(svc->v, pcf, (const char *const *)pf->v, pcf))
		return 0;	/* main.cf's client certificate */
	if (*svc->v[pc_files[pcf].chain] == '\0' &&
	    *svc->v[pc_files[pcf].cert[0]] == '\0' &&
	    *svc->v[pc_files[pcf].cert[1]] == '\0' &&
	    *svc->v[pc_files[pcf].cert[2]] == '\0')
		return 0;	/* it sends no client certificate */
	where = xasprintf("%s/master.cf", pf->dir);
	if ((rc = service_names(svc, where, pcf)) == 0)
		add_slot(inv, xasprintf("%s (master.cf)", svc->name),
		    xstrdup(where), ROLE_CLIENT, svc->v, pcf);
	free(where);
	return rc;	/* logged */
}

/* postscreen on port 25 hands its connections to smtpd pass services. */
static void
add_pass_endpoints(struct inventory *inv, const size_t *slots)
{
	const struct service	*svc;
	size_t			 i, j;

	if (!topology_postscreen25(&inv->top))
		return;
	for (i = 0; i < inv->top.n; i++) {
		svc = &inv->top.v[i];
		if (svc->kind != SVC_SMTPD || !svc->pass || !svc->tls)
			continue;
		for (j = 0; j < inv->top.n; j++)
			if (inv->top.v[j].kind == SVC_POSTSCREEN &&
			    topology_port25(&inv->top.v[j]))
				break;
		add_port25(inv, inv->top.v[j].name, slots[i],
		    svc->v[PC_SNI_MAPS]);
	}
}

/* Every list's maps, parsed once; a list that cannot be read refuses. */
static int
read_maps(struct inventory *inv)
{
	struct sni_map	*maps;
	size_t		 i, j, n;
	int		 rc = 0;

	for (i = 0; i < inv->nlists; i++) {
		if (sni_maps(inv->lists[i].value, &maps, &n) == -1) {
			rc = -1;	/* logged */
			continue;
		}
		inv->maps = xreallocarray(inv->maps, inv->nmaps + n,
		    sizeof(*inv->maps));
		inv->lists[i].first = inv->nmaps;
		inv->lists[i].n = n;
		inv->lists[i].ok = 1;
		for (j = 0; j < n; j++)
			inv->maps[inv->nmaps++] = maps[j];
		free(maps);	/* its maps now live in inv->maps */
	}
	return rc;
}

void
inventory_maps(const struct inventory *inv, const char *value,
    const struct sni_map **first, size_t *n)
{
	size_t	i;

	*first = NULL;
	*n = 0;
	for (i = 0; value != NULL && i < inv->nlists; i++)
		if (!strcmp(inv->lists[i].value, value)) {
			*first = inv->maps + inv->lists[i].first;
			*n = inv->lists[i].n;
		}
}

int
inventory_build(struct postfix *pf, struct inventory *inv)
{
	const struct service	*svc;
	size_t			*slots, i;
	int			 rc = 0;

	memset(inv, 0, sizeof(*inv));
	add_slot(inv, xstrdup("main.cf"), xasprintf("%s/main.cf", pf->dir),
	    ROLE_SERVER, (const char *const *)pf->v, PCF_SMTPD);
	add_list(inv, pf->v[PC_SNI_MAPS]);
	if (topology_read(pf, &inv->top) == -1)
		return -1;	/* logged */
	if (inv->top.no_master)
		add_port25(inv, "main.cf", 0, pf->v[PC_SNI_MAPS]);
	slots = xcalloc(inv->top.n, sizeof(*slots));
	for (i = 0; i < inv->top.n; i++) {
		svc = &inv->top.v[i];
		if (svc->kind == SVC_SMTPD && svc->tls &&
		    add_smtpd(pf, inv, svc, &slots[i]) == -1)
			rc = -1;	/* logged; the others still found */
		if ((svc->kind == SVC_SMTP || svc->kind == SVC_LMTP) &&
		    add_client_service(pf, inv, svc) == -1)
			rc = -1;	/* logged */
	}
	add_pass_endpoints(inv, slots);
	free(slots);
	if (add_tlsproxy(pf, inv) == -1 ||
	    add_client(pf, inv, PCF_SMTP, "smtp client (main.cf)") == -1 ||
	    add_client(pf, inv, PCF_LMTP, "lmtp client (main.cf)") == -1 ||
	    add_client(pf, inv, PCF_TP_CLIENT, "tlsproxy client (main.cf)") ==
	    -1)
		rc = -1;	/* logged */
	if (read_maps(inv) == -1)
		rc = -1;	/* logged */
	return rc;
}

/* An SNI entry as a slot: one stream of files, as smtpd_tls_chain_files. */
void
slot_of_sni(const struct sni_map *map, const char *domain, const char *files,
    const char *where, struct slot *s)
{
	int	k;

	memset(s, 0, sizeof(*s));
	s->name = xasprintf("SNI %s (%s)", domain, map->source != NULL ?
	    map->source : map->spec);
	s->where = xstrdup(where);
	s->role = ROLE_SERVER;
	s->host = s->own[0] = xstrdup(domain);
	s->host_what = "the SNI name";
	s->chain_files = s->own[1] = xstrdup(files);
	s->chain_param = "the SNI entry";
	for (k = 0; k < 3; k++) {
		s->cert[k] = s->key[k] = "";
		s->cert_param[k] = s->key_param[k] = "";
	}
}

void
slot_free(struct slot *s)
{
	int	k;

	free(s->name);
	free(s->where);
	for (k = 0; k < 3; k++)
		free(s->own[k]);
	memset(s, 0, sizeof(*s));
}

void
inventory_free(struct inventory *inv)
{
	size_t	i;

	for (i = 0; i < inv->n; i++)
		slot_free(&inv->v[i]);
	free(inv->v);
	free(inv->ls);
	free(inv->p25);
	free(inv->lists);
	sni_maps_free(inv->maps, inv->nmaps);
	topology_free(&inv->top);
	memset(inv, 0, sizeof(*inv));
}
