/*
 * Every identity Postfix will present, found as Postfix resolves them:
 * main.cf's, and each smtpd service of master.cf that serves TLS with
 * files of its own (its -o overrides, $name expanded by postconf -Px).
 * A service with main.cf's files is main.cf's identity; one that serves
 * no TLS (level none, no wrapper mode) presents nothing.  The SNI maps
 * they name are collected for sni.c.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sysexits.h>

#include "extern.h"

/* The parameters a service may override that decide what it serves. */
static const enum pf_param served_params[] = {
	PF_CHAIN_FILES, PF_CERT, PF_KEY, PF_ECCERT, PF_ECKEY, PF_DCERT, PF_DKEY
};
#define NSERVED	(sizeof(served_params) / sizeof(served_params[0]))

/* One service's view: main.cf's values, its own -o ones over them. */
struct view {
	const char	*v[PF_NPARAMS];
	int		 set[PF_NPARAMS];	/* by the service's -o */
	const char	*wrapper;	/* smtpd_tls_wrappermode */
	int		 own;		/* a file of its own */
};

/* One -o line of postconf -Px: "svc/type/name = value", split. */
struct option {
	const char	*svc, *name, *value;
};

static int
is_yes(const char *v)
{
	return v != NULL && !strcasecmp(v, "yes");
}

/* Does this view serve TLS at all? */
static int
serves_tls(const struct view *w)
{
	const char	*level = w->v[PF_LEVEL];

	if (is_yes(w->wrapper))
		return 1;
	if (*level == '\0')
		return is_yes(w->v[PF_ENFORCE_TLS]) || is_yes(w->v[PF_USE_TLS]);
	return strcasecmp(level, "none") != 0;
}

static int
add_identity(struct identities *ids, const struct view *w, char *name,
    char *where)
{
	struct identity	*v, *id;

	if ((v = reallocarray(ids->v, ids->n + 1, sizeof(*v))) == NULL) {
		free(name);
		free(where);
		problem(EX_OSERR, NULL, "out of memory");
		return -1;
	}
	ids->v = v;
	id = &v[ids->n++];
	memset(id, 0, sizeof(*id));
	id->name = name;
	id->where = where;
	id->host = w->v[PF_MYHOSTNAME];
	id->host_what = "myhostname";
	id->chain_files = w->v[PF_CHAIN_FILES];
	id->chain_param = pf_names[PF_CHAIN_FILES];
	id->cert[0] = w->v[PF_CERT];
	id->key[0] = w->v[PF_KEY];
	id->cert[1] = w->v[PF_ECCERT];
	id->key[1] = w->v[PF_ECKEY];
	id->cert[2] = w->v[PF_DCERT];
	id->key[2] = w->v[PF_DKEY];
	return 0;
}

/* Each SNI map list once, main.cf's first. */
static int
add_sni(struct identities *ids, const char *maps)
{
	const char	**v;
	size_t		  i;

	if (maps == NULL || *maps == '\0')
		return 0;
	for (i = 0; i < ids->nsni; i++)
		if (!strcmp(ids->sni[i], maps))
			return 0;
	if ((v = reallocarray(ids->sni, ids->nsni + 1, sizeof(*v))) == NULL) {
		problem(EX_OSERR, NULL, "out of memory");
		return -1;
	}
	ids->sni = v;
	v[ids->nsni++] = maps;
	return 0;
}

/* Does a service's command line run smtpd? */
static int
runs_smtpd(const char *cmd)
{
	return !strncmp(cmd, "smtpd", 5) && (cmd[5] == '\0' || cmd[5] == ' ' ||
	    cmd[5] == '\t');
}

/*
 * Split "svc/type/name = value" (or "svc/type/name =") in place: svc is
 * "svc/type".  -1 for a line of another shape.
 */
static int
split_line(char *line, struct option *o)
{
	char	*eq, *slash;

	/* postconf prints an empty value as "name =", with no space after. */
	if ((eq = strstr(line, " = ")) != NULL)
		o->value = eq + 3;
	else if ((eq = strstr(line, " =")) != NULL && eq[2] == '\0')
		o->value = eq + 2;
	else
		return -1;
	*eq = '\0';
	if ((slash = strrchr(line, '/')) == NULL || slash == line)
		return -1;
	*slash = '\0';
	o->svc = line;
	o->name = slash + 1;
	return strchr(line, '/') != NULL ? 0 : -1;
}

/*
 * A service's -o NAME=VALUE noted in its view: which parameters it sets
 * itself, and its wrapper mode.  (Its values are postconf's answer under
 * all its -o settings: postconf_services.)
 */
static void
override(struct view *w, const struct option *o)
{
	int	p;

	if (!strcmp(o->name, "smtpd_tls_wrappermode")) {
		w->wrapper = o->value;
		return;
	}
	for (p = 0; p < PF_NPARAMS; p++)
		if (!strcmp(o->name, pf_names[p]))
			w->set[p] = 1;
}

/* Does the service serve files other than main.cf's? */
static int
own_files(const struct view *w, const struct postfix *pf)
{
	size_t	i;

	for (i = 0; i < NSERVED; i++)
		if (strcmp(w->v[served_params[i]], pf->v[served_params[i]]))
			return 1;
	return 0;
}

/*
 * A service's -o smtpd_tls_cert_file (eccert, dcert) while
 * smtpd_tls_chain_files is set: the chain files win, that certificate
 * is never served.
 */
static void
warn_shadowed(const struct view *w, const char *svc, const char *where)
{
	static const enum pf_param certs[] = { PF_CERT, PF_ECCERT, PF_DCERT };
	size_t	i;

	if (*w->v[PF_CHAIN_FILES] == '\0')
		return;
	for (i = 0; i < sizeof(certs) / sizeof(certs[0]); i++)
		if (w->set[certs[i]] && *w->v[certs[i]] != '\0')
			warning(where, "%s sets -o %s=%s, but "
			    "smtpd_tls_chain_files (%s) takes precedence, so "
			    "that certificate is never served (set -o "
			    "smtpd_tls_chain_files=KEY-AND-CHAIN-FILE for this "
			    "service instead)", svc, pf_names[certs[i]],
			    w->v[certs[i]], w->set[PF_CHAIN_FILES] ?
			    "set for it too" : "from main.cf");
}

/*
 * A relative file name in a service's -o: smtpd reads it in Postfix's
 * queue directory, this helper would read it in its own.  Refused, as
 * in main.cf (maincf_file_names).
 */
static int
check_relative(const struct view *w, const char *svc, const char *where)
{
	const char	*v;
	size_t		 i, n;
	int		 rc = 0;

	for (i = 0; i < NSERVED; i++) {
		if (!w->set[served_params[i]])
			continue;
		for (v = w->v[served_params[i]]; *(v += strspn(v, " \t,")) !=
		    '\0'; v += n) {
			n = strcspn(v, " \t,");
			if (*v == '/')
				continue;
			problem(EX_CONFIG, where, "%s sets -o %s with the "
			    "relative name \"%.*s\": smtpd looks for it in "
			    "Postfix's queue directory (postconf -h "
			    "queue_directory), this helper would look in its "
			    "own working directory (fix: give the file's "
			    "absolute name)", svc, pf_names[served_params[i]],
			    (int)n, v);
			rc = -1;
		}
	}
	return rc;
}

/* postconf -Px's lines, split in place into ids->text. */
static int
read_options(const struct postfix *pf, struct identities *ids,
    struct option **opts, size_t *nopts)
{
	struct option	*o;
	char		*line, *next;

	*opts = NULL;
	*nopts = 0;
	if ((next = ids->text = strdup(pf->overrides)) == NULL)
		goto oom;
	while ((line = strsep(&next, "\n")) != NULL) {
		if ((o = reallocarray(*opts, *nopts + 1, sizeof(*o))) == NULL)
			goto oom;
		*opts = o;
		if (split_line(line, &o[*nopts]) == 0)
			(*nopts)++;
	}
	return 0;
oom:
	problem(EX_OSERR, NULL, "out of memory");
	return -1;
}

/*
 * An inet service is a listener the post-start handshake tries (probe);
 * unix and pass services are reached through others.  ID: the identity
 * it serves.
 */
static int
add_listener(struct identities *ids, const char *svc, const struct view *w,
    size_t id)
{
	struct listener	*l;
	const char	*type = strrchr(svc, '/');

	if (type == NULL || strcmp(type, "/inet"))
		return 0;
	if ((l = reallocarray(ids->ls, ids->nls + 1, sizeof(*l))) == NULL) {
		problem(EX_OSERR, NULL, "out of memory");
		return -1;
	}
	ids->ls = l;
	l += ids->nls++;
	l->svc = svc;
	l->wrapper = is_yes(w->wrapper);
	l->id = id;
	l->sni = w->v[PF_SNI_MAPS];
	l->interfaces = w->v[PF_INET_INTERFACES];
	l->protocols = w->v[PF_INET_PROTOCOLS];
	return 0;
}

/*
 * An smtpd "pass" service: behind postscreen it serves the connections
 * postscreen's inet service accepted, port 25's most often (dane.c).
 */
static int
add_pass(struct identities *ids, const char *svc, size_t id)
{
	const char	*type = strrchr(svc, '/');
	size_t		*v;

	if (type == NULL || strcmp(type, "/pass"))
		return 0;
	if ((v = reallocarray(ids->pass, ids->npass + 1, sizeof(*v))) ==
	    NULL) {
		problem(EX_OSERR, NULL, "out of memory");
		return -1;
	}
	ids->pass = v;
	v[ids->npass++] = id;
	return 0;
}

/* A service that runs smtpd: its view, and its identity if it has one. */
static int
add_service(const struct postfix *pf, struct identities *ids,
    const char *svc, const struct option *opts, size_t nopts,
    const struct svcask *ask)
{
	struct view	 w;
	char		*who = NULL, *where = NULL;
	size_t		 i;

	memset(&w, 0, sizeof(w));
	memcpy(w.v, ask != NULL ? ask->v : pf->v, sizeof(w.v));
	w.wrapper = w.v[PF_WRAPPER];
	for (i = 0; i < nopts; i++)
		if (!strcmp(opts[i].svc, svc))
			override(&w, &opts[i]);
	w.own = own_files(&w, pf);
	if (!serves_tls(&w))
		return 0;
	if (asprintf(&where, "%s/master.cf", pf->dir) == -1) {
		problem(EX_OSERR, NULL, "out of memory");
		return -1;
	}
	warn_shadowed(&w, svc, where);
	if (check_relative(&w, svc, where) == -1) {
		free(where);
		return -1;	/* logged */
	}
	if (add_sni(ids, w.v[PF_SNI_MAPS]) == -1) {
		free(where);
		return -1;
	}
	if (!w.own) {
		free(where);
		return add_pass(ids, svc, 0) == -1 ? -1 :
		    add_listener(ids, svc, &w, 0);
	}
	if (asprintf(&who, "%s (master.cf)", svc) == -1) {
		free(where);
		problem(EX_OSERR, NULL, "out of memory");
		return -1;
	}
	if (add_identity(ids, &w, who, where) == -1 ||
	    add_pass(ids, svc, ids->n - 1) == -1)
		return -1;
	return add_listener(ids, svc, &w, ids->n - 1);
}

/* A service's -o settings as postconf -o arguments: "name=value". */
static int
ask_for(struct svcask *a, const char *svc, const struct option *opts,
    size_t nopts)
{
	size_t	i;

	memset(a, 0, sizeof(*a));
	a->svc = svc;
	for (i = 0; i < nopts; i++) {
		if (strcmp(opts[i].svc, svc))
			continue;
		if ((a->o = reallocarray(a->o, a->no + 1, sizeof(*a->o))) ==
		    NULL || asprintf(&a->o[a->no], "%s=%s", opts[i].name,
		    opts[i].value) == -1) {
			problem(EX_OSERR, NULL, "out of memory");
			return -1;
		}
		a->no++;
	}
	return 0;
}

/*
 * The services of master.cf that run smtpd; each one with -o settings
 * gets its own values from postconf (postconf_services), all asked side
 * by side, then its view and identity.
 */
static int
find_services(struct postfix *pf, struct identities *ids)
{
	struct option	*opts = NULL, o;
	struct svcask	*a;
	char		*line, *next;
	size_t		 nopts = 0, i;
	int		 rc = -1;

	if ((next = ids->lines = strdup(pf->services)) == NULL) {
		problem(EX_OSERR, NULL, "out of memory");
		return -1;
	}
	if (read_options(pf, ids, &opts, &nopts) == -1)
		goto out;
	while ((line = strsep(&next, "\n")) != NULL) {
		if (split_line(line, &o) == -1 || strcmp(o.name, "command"))
			continue;
		if (!strncmp(o.value, "postscreen", 10) &&
		    strchr(" \t", o.value[10]) != NULL &&
		    ids->npostscreen < 8)
			ids->postscreen[ids->npostscreen++] = o.svc;
		if (!runs_smtpd(o.value))
			continue;
		if ((a = reallocarray(ids->asks, ids->nasks + 1,
		    sizeof(*a))) == NULL) {
			problem(EX_OSERR, NULL, "out of memory");
			goto out;
		}
		ids->asks = a;
		if (ask_for(&a[ids->nasks++], o.svc, opts, nopts) == -1)
			goto out;
	}
	if ((rc = postconf_services(pf, ids->asks, ids->nasks)) == -1)
		goto out;	/* logged */
	for (i = 0; i < ids->nasks; i++)
		if (add_service(pf, ids, ids->asks[i].svc, opts, nopts,
		    ids->asks[i].no > 0 ? &ids->asks[i] : NULL) == -1)
			rc = -1;	/* logged; the others still found */
out:
	free(opts);
	return rc;
}

int
identities_find(struct postfix *pf, struct identities *ids)
{
	struct view	 w;
	char		*name, *where = NULL;

	memset(ids, 0, sizeof(*ids));
	memset(&w, 0, sizeof(w));
	memcpy(w.v, pf->v, sizeof(w.v));
	if ((name = strdup("main.cf")) == NULL ||
	    asprintf(&where, "%s/main.cf", pf->dir) == -1) {
		free(name);
		problem(EX_OSERR, NULL, "out of memory");
		return -1;
	}
	if (add_identity(ids, &w, name, where) == -1 ||
	    add_sni(ids, pf->v[PF_SNI_MAPS]) == -1)
		return -1;
	return find_services(pf, ids);
}

void
identities_free(struct identities *ids)
{
	size_t	i, k;

	for (i = 0; i < ids->n; i++) {
		free((char *)ids->v[i].name);
		free((char *)ids->v[i].where);
	}
	free(ids->v);
	free(ids->sni);
	free(ids->text);
	free(ids->lines);
	for (i = 0; i < ids->nasks; i++) {
		for (k = 0; k < ids->asks[i].no; k++)
			free(ids->asks[i].o[k]);
		free(ids->asks[i].o);
		for (k = 0; k < PF_NPARAMS; k++)
			free(ids->asks[i].v[k]);
	}
	free(ids->asks);
	free(ids->ls);
	free(ids->pass);
	memset(ids, 0, sizeof(*ids));
}
