/*
 * master.cf, read through postconf (-F for each service's command, -Px
 * for its -o overrides with $name expanded as Postfix does), each
 * service that matters for TLS with its own values: main.cf's, or for a
 * service with -o settings postconf's answer under them (a main.cf value
 * that refers to a name the service sets resolves as in that service).
 */
#include "topology.h"	/* before <netdb.h>: see probe.c */

#include <arpa/inet.h>
#include <netdb.h>

#include <sys/stat.h>

#include <ctype.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sysexits.h>
#include <unistd.h>

#include "common.h"
#include "finding.h"

#define MAX_MAINCF	(8 * 1024 * 1024)	/* larger: every -o asks */

/* One -o line of postconf -Px: "svc/type/name = value", split. */
struct option {
	const char	*svc, *name, *value;
};

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

/* postconf -Px's lines, split in place into t->text. */
static struct option *
read_options(const struct postfix *pf, struct topology *t, size_t *n)
{
	struct option	*opts = NULL;
	char		*line, *next;

	*n = 0;
	next = t->text = xstrdup(pf->overrides);
	while ((line = strsep(&next, "\n")) != NULL) {
		opts = xreallocarray(opts, *n + 1, sizeof(*opts));
		if (split_line(line, &opts[*n]) == 0)
			(*n)++;
	}
	return opts;
}

/* The program a command line runs, as a kind of service, or 0. */
static int
kind_of(const char *cmd)
{
	static const struct {
		const char	*name;
		int		 kind;
	} kinds[] = {
		{ "smtpd", SVC_SMTPD }, { "postscreen", SVC_POSTSCREEN },
		{ "tlsproxy", SVC_TLSPROXY }, { "smtp", SVC_SMTP },
		{ "lmtp", SVC_LMTP },
	};
	size_t	i, len = strcspn(cmd, " \t");

	for (i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++)
		if (strlen(kinds[i].name) == len &&
		    !strncmp(cmd, kinds[i].name, len))
			return kinds[i].kind;
	return 0;
}

/*
 * Does main.cf refer to NAME ($NAME, ${NAME...} or $(NAME...))?  TEXT is
 * main.cf's bytes, or NULL when they could not be read (then: yes).
 */
static int
maincf_refers_to(const char *text, const char *name)
{
	size_t		 len = strlen(name);
	const char	*p;

	if (text == NULL)
		return 1;
	for (p = strchr(text, '$'); p != NULL; p = strchr(p + 1, '$')) {
		const char *q = p + 1 + (p[1] == '{' || p[1] == '(');

		if (!strncmp(q, name, len) && !isalnum((unsigned char)q[len]) &&
		    q[len] != '_')
			return 1;
	}
	return 0;
}

/*
 * Which services postconf must answer for: those whose -o settings can
 * change one of the parameters asked (pc_names): one of them set, or a
 * name main.cf refers to ("$clientdir/key.pem" under -o
 * clientdir=...).  The parameters' built-in defaults refer only to each
 * other, so a service that sets nothing else (Debian's relay, -o
 * syslog_name=...) has main.cf's values, and costs no postconf run.
 */
static int
needs_own_values(const struct option *opts, size_t nopts, const char *svc,
    const char *maincf)
{
	size_t	i;
	int	p;

	for (i = 0; i < nopts; i++) {
		if (strcmp(opts[i].svc, svc))
			continue;
		for (p = 0; p < PC_NPARAMS; p++)
			if (!strcmp(opts[i].name, pc_names[p]))
				return 1;
		if (maincf_refers_to(maincf, opts[i].name))
			return 1;
	}
	return 0;
}

/* main.cf's bytes, NUL-terminated, or NULL (absent, odd, huge). */
static char *
maincf_text(const char *dir)
{
	char		 path[PATH_MAX], *buf;
	struct stat	 st;
	ssize_t		 r;
	int		 fd;

	if ((size_t)snprintf(path, sizeof(path), "%s/main.cf", dir) >=
	    sizeof(path) ||
	    (fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK)) == -1)
		return NULL;
	if (fstat(fd, &st) == -1 || !S_ISREG(st.st_mode) ||
	    st.st_size > MAX_MAINCF) {
		close(fd);
		return NULL;
	}
	buf = xmalloc(st.st_size + 1);
	r = read(fd, buf, st.st_size + 1);
	close(fd);
	if (r != st.st_size || memchr(buf, '\0', r) != NULL) {
		free(buf);
		return NULL;
	}
	buf[r] = '\0';
	return buf;
}

/* A service's -o settings as postconf -o arguments: "name=value". */
static void
ask_for(struct svcask *a, const char *svc, const struct option *opts,
    size_t nopts)
{
	size_t	i;

	memset(a, 0, sizeof(*a));
	a->svc = svc;
	for (i = 0; i < nopts; i++) {
		if (strcmp(opts[i].svc, svc))
			continue;
		a->o = xreallocarray(a->o, a->no + 1, sizeof(*a->o));
		a->o[a->no++] = xasprintf("%s=%s", opts[i].name,
		    opts[i].value);
	}
}

/* Postfix's own names for the SMTP ports, when known_tcp_ports is empty. */
static const char *const builtin_ports[][2] = {
	{ "smtp", "25" }, { "submission", "587" }, { "submissions", "465" },
	{ "smtps", "465" }, { "lmtp", "24" },
};

/* S[0..N) without the blanks around it. */
static void
trim(const char **s, size_t *n)
{
	while (*n > 0 && strchr(" \t\r\n", **s) != NULL)
		(*s)++, (*n)--;
	while (*n > 0 && strchr(" \t\r\n", (*s)[*n - 1]) != NULL)
		(*n)--;
}

/*
 * NAME in known_tcp_ports ("lmtp=24, smtp = 25, smtps=submissions=465"):
 * elements at commas, each names one or more aliases, then the port,
 * separated by '=' with any blanks around (Postfix's own example writes
 * "smtp = 25").  1 when found.
 */
static int
alias_is(const char *w, size_t n, const char *name)
{
	trim(&w, &n);
	return n == strlen(name) && !strncasecmp(w, name, n);
}

static int
known_port(const char *known, const char *name, char port[8])
{
	const char	*el, *eq, *num, *part, *next;
	size_t		 len, n;

	for (el = known; *el != '\0'; el += len + (el[len] != '\0')) {
		len = strcspn(el, ",");
		if ((eq = memrchr(el, '=', len)) == NULL)
			continue;
		num = eq + 1;
		n = el + len - num;
		trim(&num, &n);
		if (n == 0 || n >= 8)
			continue;
		for (part = el; part < eq; part = next + 1) {
			next = memchr(part, '=', eq - part + 1);
			if (alias_is(part, next - part, name)) {
				memcpy(port, num, n);
				port[n] = '\0';
				return 1;
			}
		}
	}
	return 0;
}

/*
 * A port written in digits, as master binds it (alldig, then atoi): "025"
 * is 25.  PORT gets it as one writes it; -1 for anything else.
 */
static int
digits_port(const char *name, char port[8])
{
	const char	*errstr;
	long long	 n;

	if (*name == '\0' || strspn(name, "0123456789") != strlen(name) ||
	    (n = strtonum(name, 1, 65535, &errstr)) == 0)
		return -1;
	snprintf(port, 8, "%lld", n);
	return 0;
}

int
topology_port(const char *known, const char *name, char port[8])
{
	struct servent	*se;
	size_t		 i;

	if (digits_port(name, port) == 0)
		return 0;
	if (known != NULL && *known != '\0') {
		if (known_port(known, name, port) &&
		    digits_port(port, port) == 0)
			return 0;
	} else
		for (i = 0; i < sizeof(builtin_ports) /
		    sizeof(builtin_ports[0]); i++)
			if (!strcasecmp(name, builtin_ports[i][0])) {
				strlcpy(port, builtin_ports[i][1], 8);
				return 0;
			}
	if ((se = getservbyname(name, "tcp")) == NULL)
		return -1;
	snprintf(port, 8, "%d", ntohs(se->s_port));
	return 0;
}

/*
 * An inet service's port ("[host]:port", "host:port" or "port") and
 * whether its host part binds it to loopback only (a local re-injection
 * port no sender can reach).
 */
static void
inet_facts(struct service *s, const char *known)
{
	const char	*name = s->name, *slash = strrchr(name, '/'), *colon;
	char		 portname[64];
	size_t		 len = slash != NULL ? (size_t)(slash - name) :
			    strlen(name);

	s->loopback = !strncmp(name, "127.", 4) || !strncmp(name, "[::1]:",
	    6) || !strncasecmp(name, "localhost:", 10);
	if ((colon = memrchr(name, ':', len)) != NULL) {
		len -= colon - name + 1;
		name = colon + 1;
	}
	s->port[0] = '\0';
	if (len >= sizeof(portname))
		return;
	memcpy(portname, name, len);
	portname[len] = '\0';
	if (topology_port(known, portname, s->port) == -1)
		s->port[0] = '\0';
}

/* Does this smtpd serve TLS at all (a level, or wrapper mode)? */
static int
serves_tls(const struct service *s)
{
	const char	*level = s->v[PC_LEVEL];

	if (s->wrapper)
		return 1;
	if (*level == '\0')
		return pf_yes(s->v[PC_ENFORCE_TLS]) || pf_yes(s->v[PC_USE_TLS]);
	return strcasecmp(level, "none") != 0;
}

static void
add_service(const struct postfix *pf, struct topology *t, const char *svc,
    int kind, const struct option *opts, size_t nopts,
    const struct svcask *ask)
{
	struct service	*s;
	const char	*type = strrchr(svc, '/');
	size_t		 i;
	int		 p;

	t->v = xreallocarray(t->v, t->n + 1, sizeof(*t->v));
	s = &t->v[t->n++];
	memset(s, 0, sizeof(*s));
	s->name = svc;
	s->kind = kind;
	s->inet = type != NULL && !strcmp(type, "/inet");
	s->pass = type != NULL && !strcmp(type, "/pass");
	s->v = (const char **)(ask != NULL ? ask->v : pf->v);
	s->wrapper = pf_yes(s->v[PC_WRAPPER]);
	for (i = 0; i < nopts; i++) {
		if (strcmp(opts[i].svc, svc))
			continue;
		if (!strcmp(opts[i].name, "smtpd_tls_wrappermode"))
			s->wrapper = pf_yes(opts[i].value);
		for (p = 0; p < PC_NPARAMS; p++)
			if (!strcmp(opts[i].name, pc_names[p]))
				s->set[p] = 1;
	}
	s->tls = kind == SVC_SMTPD && serves_tls(s);
	if (s->inet)
		inet_facts(s, pf->v[PC_KNOWN_PORTS]);
}

int
topology_read(struct postfix *pf, struct topology *t)
{
	struct option	*opts = NULL, o;
	char		*line, *next;
	size_t		 nopts = 0, i;
	int		*kinds = NULL, rc = -1;
	char		*maincf;

	memset(t, 0, sizeof(*t));
	t->no_master = pf->no_master;
	next = t->lines = xstrdup(pf->services);
	opts = read_options(pf, t, &nopts);
	maincf = nopts > 0 ? maincf_text(pf->dir) : NULL;
	while ((line = strsep(&next, "\n")) != NULL) {
		if (split_line(line, &o) == -1 || strcmp(o.name, "command"))
			continue;
		if (kind_of(o.value) == 0)
			continue;
		t->asks = xreallocarray(t->asks, t->nasks + 1,
		    sizeof(*t->asks));
		kinds = xreallocarray(kinds, t->nasks + 1, sizeof(*kinds));
		kinds[t->nasks] = kind_of(o.value);
		memset(&t->asks[t->nasks], 0, sizeof(t->asks[t->nasks]));
		t->asks[t->nasks].svc = o.svc;	/* main.cf's values, or: */
		if (needs_own_values(opts, nopts, o.svc, maincf))
			ask_for(&t->asks[t->nasks], o.svc, opts, nopts);
		t->nasks++;
	}
	if (postconf_services(pf, t->asks, t->nasks) == -1)
		goto out;	/* logged */
	for (i = 0; i < t->nasks; i++)
		add_service(pf, t, t->asks[i].svc, kinds[i], opts, nopts,
		    t->asks[i].no > 0 ? &t->asks[i] : NULL);
	rc = 0;
out:
	free(maincf);
	free(opts);
	free(kinds);
	return rc;
}

int
topology_port25(const struct service *s)
{
	return s->inet && !s->wrapper && !s->loopback &&
	    !strcmp(s->port, "25") && (s->kind == SVC_SMTPD ||
	    s->kind == SVC_POSTSCREEN);
}

int
topology_postscreen25(const struct topology *t)
{
	size_t	i;

	for (i = 0; i < t->n; i++)
		if (t->v[i].kind == SVC_POSTSCREEN && topology_port25(&t->v[i]))
			return 1;
	return 0;
}

void
topology_free(struct topology *t)
{
	size_t	i, k;

	for (i = 0; i < t->nasks; i++) {
		for (k = 0; k < t->asks[i].no; k++)
			free(t->asks[i].o[k]);
		free(t->asks[i].o);
		for (k = 0; k < PC_NPARAMS; k++)
			free(t->asks[i].v[k]);
	}
	free(t->asks);
	free(t->v);
	free(t->text);
	free(t->lines);
	memset(t, 0, sizeof(*t));
}
