/*
 * src/topology.c: master.cf as TLS sees it, from postconf's answers as
 * text: "postconf -F '*' '*' command" lines for the services,
 * "postconf -Px" lines for their -o settings, the main.cf values of
 * "postconf -xh NAME..." (one line each, in pc_names order) and, for a
 * service with -o settings, its own answer as postconf.c keeps it
 * ("SVC" then one line per value).  Every service with -o settings gets
 * its answer here, so no postconf is ever run.
 */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "../../src/postconf.h"
#include "../../src/topology.h"
#include "harness/unit.h"

/* Postfix 3.x's defaults for what topology reads. */
static const char *const defaults[] = {
	"smtpd_tls_security_level", "may",
	"smtpd_use_tls", "no",
	"smtpd_enforce_tls", "no",
	"smtpd_tls_wrappermode", "no",
	"myhostname", "mail.example.org",
	"inet_interfaces", "all",
	"inet_protocols", "all",
	"known_tcp_ports", "lmtp=24, smtp=25, smtps=submissions=465, "
	    "submission=587",
	"postscreen_tls_security_level", "may",
	NULL
};

/*
 * The values as postconf prints them (one line each, pc_names order):
 * the defaults, then NAME, VALUE pairs over them (NULL ends them).  With
 * SVC first, postconf.c's cached answer for that service.
 */
static char *
answer(const char *svc, ...)
{
	const char	*v[PC_NPARAMS], *name, *value;
	char		*text = NULL;
	size_t		 len = 0;
	FILE		*f = open_memstream(&text, &len);
	va_list		 ap;
	int		 i, k;

	for (i = 0; i < PC_NPARAMS; i++)
		v[i] = "";
	for (k = 0; defaults[k] != NULL; k += 2)
		for (i = 0; i < PC_NPARAMS; i++)
			if (!strcmp(pc_names[i], defaults[k]))
				v[i] = defaults[k + 1];
	va_start(ap, svc);
	while ((name = va_arg(ap, const char *)) != NULL) {
		value = va_arg(ap, const char *);
		for (i = 0; i < PC_NPARAMS && strcmp(pc_names[i], name); i++)
			;
		if (i == PC_NPARAMS)
			unit_fail(__FILE__, __LINE__, "no parameter %s", name);
		else
			v[i] = value;
	}
	va_end(ap);
	if (svc != NULL)
		fprintf(f, "%s\n", svc);
	for (i = 0; i < PC_NPARAMS; i++)
		fprintf(f, "%s\n", v[i]);
	fclose(f);
	return text;
}

/* Two services' answers as one (both taken). */
static char *
join(char *a, char *b)
{
	char	*both = xasprintf("%s%s", a, b);

	free(a);
	free(b);
	return both;
}

/*
 * The topology of postconf's answers: MAIN (answer(NULL, ...)), the -F
 * lines, the -Px lines and the services' own answers (taken).
 */
static int
topo(struct topology *t, struct postfix *pf, char *main, const char *services,
    const char *overrides, char *own)
{
	int	i, rc;

	memset(pf, 0, sizeof(*pf));
	for (i = 0; i < ASK_N; i++) {
		pf->ask[i].pid = -1;
		pf->ask[i].out = pf->ask[i].err = -1;
	}
	pf->dir = "/nonexistent/unit";	/* were postconf run, it fails */
	if (postconf_parse(main, pf) == -1)
		unit_fail(__FILE__, __LINE__, "main.cf's values: not parsed");
	free(main);
	pf->services = strdup(services);
	pf->overrides = strdup(overrides);
	pf->svcvalues = own;
	rc = topology_read(pf, t);
	return rc;
}

static void
untopo(struct topology *t, struct postfix *pf)
{
	topology_free(t);
	postconf_free_values(pf);
}

/* The service named NAME ("submission/inet"), or NULL. */
static const struct service *
svc(const struct topology *t, const char *name)
{
	size_t	i;

	for (i = 0; i < t->n; i++)
		if (!strcmp(t->v[i].name, name))
			return &t->v[i];
	return NULL;
}

/* NAME's kind, or 0 when it is not listed. */
static int
kind(const struct topology *t, const char *name)
{
	const struct service	*s = svc(t, name);

	return s != NULL ? s->kind : 0;
}

static void
services_are_listed_by_the_program_they_run(void)
{
	struct topology	t;
	struct postfix	pf;

	CHECK_INT(topo(&t, &pf, answer(NULL, NULL),
	    "smtp/inet/command = smtpd\n"
	    "submission/inet/command = smtpd -v\n"
	    "pickup/unix/command = pickup\n"
	    "tlsproxy/unix/command = tlsproxy\n"
	    "relay/unix/command = smtp\n"
	    "smtp/unix/command = smtp -o smtp_fallback_relay=\n"
	    "lmtp/unix/command = lmtp\n"
	    "scan/unix/command = smtpdx\n"
	    "bounce/unix/command = bounce\n"
	    "ps/inet/command = postscreenx\n"
	    "not a line of postconf -F\n"
	    "x/command = smtpd\n"
	    "smtps/inet/syslog_name = postfix/smtps\n"
	    "\n", "", NULL), 0);
	CHECK_INT(t.n, 6);
	CHECK_INT(kind(&t, "smtp/inet"), SVC_SMTPD);
	CHECK_INT(kind(&t, "submission/inet"), SVC_SMTPD);
	CHECK_INT(kind(&t, "tlsproxy/unix"), SVC_TLSPROXY);
	CHECK_INT(kind(&t, "relay/unix"), SVC_SMTP);
	CHECK_INT(kind(&t, "smtp/unix"), SVC_SMTP);
	CHECK_INT(kind(&t, "lmtp/unix"), SVC_LMTP);
	CHECK_INT(kind(&t, "scan/unix"), 0);
	CHECK_INT(kind(&t, "ps/inet"), 0);
	CHECK_INT(kind(&t, "pickup/unix"), 0);
	CHECK(svc(&t, "smtp/inet") != NULL && svc(&t, "smtp/inet")->inet &&
	    !svc(&t, "smtp/inet")->pass);
	CHECK(svc(&t, "smtp/unix") != NULL && !svc(&t, "smtp/unix")->inet);
	/* In master.cf's order. */
	CHECK(t.n > 0 && !strcmp(t.v[0].name, "smtp/inet"));
	CHECK(t.n == 6 && !strcmp(t.v[5].name, "lmtp/unix"));
	CHECK_SILENT();
	untopo(&t, &pf);
}

/* Is the inet smtpd service NAME on port 25, under KNOWN? Its port too. */
static int
port25(const char *name, const char *known, char port[8])
{
	struct topology		 t;
	struct postfix		 pf;
	const struct service	*s;
	char			*F;
	int			 yes = -1;

	F = xasprintf("%s/inet/command = smtpd\n", name);
	port[0] = '\0';
	if (topo(&t, &pf, answer(NULL, "known_tcp_ports", known, NULL), F, "",
	    NULL) == 0 && (s = t.n == 1 ? &t.v[0] : NULL) != NULL) {
		yes = topology_port25(s);
		strlcpy(port, s->port, 8);
	}
	untopo(&t, &pf);
	free(F);
	return yes;
}

static void
check_port25(int line, const char *name, const char *known, int want,
    const char *want_port)
{
	char	port[8];
	int	got = port25(name, known, port);

	if (got != want || strcmp(port, want_port))
		unit_fail(__FILE__, line, "%s (known_tcp_ports \"%s\"): %d "
		    "port \"%s\", want %d port \"%s\"", name, known, got, port,
		    want, want_port);
}
#define CHECK_PORT25(name, known, want, port) \
	check_port25(__LINE__, name, known, want, port)

#define KNOWN	"lmtp=24, smtp=25, smtps=submissions=465, submission=587"

static void
port_25_is_a_number_a_name_or_host_and_port(void)
{
	CHECK_PORT25("25", KNOWN, 1, "25");
	CHECK_PORT25("smtp", KNOWN, 1, "25");
	CHECK_PORT25("192.0.2.1:25", KNOWN, 1, "25");
	CHECK_PORT25("0.0.0.0:smtp", KNOWN, 1, "25");
	CHECK_PORT25("[2001:db8::1]:25", KNOWN, 1, "25");
	CHECK_PORT25("mail.example.org:smtp", KNOWN, 1, "25");
	CHECK_PORT25("submission", KNOWN, 0, "587");
	CHECK_PORT25("587", KNOWN, 0, "587");
	CHECK_PORT25("192.0.2.1:10025", KNOWN, 0, "10025");
	CHECK_PORT25("smtps", KNOWN, 0, "465");
	CHECK_PORT25("submissions", KNOWN, 0, "465");
}

static void
a_listener_on_loopback_only_is_not_where_senders_come(void)
{
	CHECK_PORT25("127.0.0.1:25", KNOWN, 0, "25");
	CHECK_PORT25("127.0.0.2:smtp", KNOWN, 0, "25");
	CHECK_PORT25("[::1]:25", KNOWN, 0, "25");
	CHECK_PORT25("localhost:25", KNOWN, 0, "25");
	CHECK_PORT25("LocalHost:smtp", KNOWN, 0, "25");
	/* Only a host part that names loopback. */
	CHECK_PORT25("127example.org:25", KNOWN, 1, "25");
	CHECK_PORT25("localhost.example.org:25", KNOWN, 1, "25");
}

static void
known_tcp_ports_names_port_25_with_or_without_blanks(void)
{
	CHECK_PORT25("mx", "mx=25", 1, "25");
	CHECK_PORT25("mx", " mx = 25 ", 1, "25");
	CHECK_PORT25("mx", "lmtp=24,mx\t=\t25 ,submission=587", 1, "25");
	CHECK_PORT25("mx", "smtp=25, mail=mx=25", 1, "25");
	CHECK_PORT25("MX", "mx=25", 1, "25");
	CHECK_PORT25("192.0.2.1:mx", "lmtp=24, mx = 25", 1, "25");
	/* known_tcp_ports decides, not Postfix's own defaults. */
	CHECK_PORT25("smtp", "smtp=2525", 0, "2525");
	/* A name that only ends or starts like one listed is not it. */
	CHECK_PORT25("mx", "xmx=25, mxx=25", 0, "");
}

static void
a_port_name_is_a_number_known_tcp_ports_or_postfixs_own(void)
{
	char	port[8];

	CHECK_INT(topology_port(KNOWN, "25", port), 0);
	CHECK_STR(port, "25");
	CHECK_INT(topology_port(KNOWN, "65535", port), 0);
	CHECK_STR(port, "65535");
	CHECK_INT(topology_port(KNOWN, "65536", port), -1);
	CHECK_INT(topology_port(KNOWN, "0", port), -1);
	/* master binds "025" to 25 (alldig, atoi): port 25 all the same. */
	CHECK_INT(topology_port(KNOWN, "025", port), 0);
	CHECK_STR(port, "25");
	CHECK_INT(topology_port(KNOWN, "00000000025", port), 0);
	CHECK_STR(port, "25");
	/* Empty known_tcp_ports: Postfix's own names, in any case. */
	CHECK_INT(topology_port("", "smtp", port), 0);
	CHECK_STR(port, "25");
	CHECK_INT(topology_port(NULL, "SMTP", port), 0);
	CHECK_STR(port, "25");
	CHECK_INT(topology_port("", "submission", port), 0);
	CHECK_STR(port, "587");
	CHECK_INT(topology_port("", "smtps", port), 0);
	CHECK_STR(port, "465");
	CHECK_INT(topology_port("", "submissions", port), 0);
	CHECK_STR(port, "465");
	CHECK_INT(topology_port("", "lmtp", port), 0);
	CHECK_STR(port, "24");
	/* Every alias of an element. */
	CHECK_INT(topology_port("a = b = c = 7", "b", port), 0);
	CHECK_STR(port, "7");
	CHECK_INT(topology_port("a = b = c = 7", "a", port), 0);
	CHECK_STR(port, "7");
	/* What no service may name: said by -1. */
	CHECK_INT(topology_port(KNOWN, "no-such-service-unit", port), -1);
	CHECK_INT(topology_port("nx=", "nx", port), -1);
	CHECK_INT(topology_port("nx=123456789", "nx", port), -1);
	CHECK_INT(topology_port("nx=25x", "nx", port), -1);
	CHECK_INT(topology_port("nx=0", "nx", port), -1);
	CHECK_INT(topology_port("=25", "", port), -1);
}

static void
postscreen_on_25_hands_over_to_the_smtpd_pass_service(void)
{
	struct topology		 t;
	struct postfix		 pf;
	const struct service	*s;

	CHECK_INT(topo(&t, &pf, answer(NULL, NULL),
	    "smtp/inet/command = postscreen\n"
	    "smtpd/pass/command = smtpd\n"
	    "dnsblog/unix/command = dnsblog\n"
	    "tlsproxy/unix/command = tlsproxy\n"
	    "submission/inet/command = smtpd\n", "", NULL), 0);
	CHECK_INT(kind(&t, "smtp/inet"), SVC_POSTSCREEN);
	CHECK_INT(topology_postscreen25(&t), 1);
	if ((s = svc(&t, "smtp/inet")) != NULL) {
		CHECK_INT(topology_port25(s), 1);
		CHECK_INT(s->tls, 0);		/* postscreen is no smtpd */
	}
	if ((s = svc(&t, "smtpd/pass")) != NULL) {
		CHECK_INT(s->kind, SVC_SMTPD);
		CHECK_INT(s->pass, 1);
		CHECK_INT(s->inet, 0);
		CHECK_STR(s->port, "");
		CHECK_INT(s->tls, 1);
		CHECK_INT(topology_port25(s), 0);
	} else
		CHECK(!"no smtpd/pass service");
	if ((s = svc(&t, "tlsproxy/unix")) != NULL) {
		CHECK_INT(s->kind, SVC_TLSPROXY);
		CHECK_INT(s->tls, 0);
		CHECK_INT(topology_port25(s), 0);
	} else
		CHECK(!"no tlsproxy/unix service");
	untopo(&t, &pf);
	/* Postscreen elsewhere: no pass service DANE senders reach. */
	CHECK_INT(topo(&t, &pf, answer(NULL, NULL),
	    "127.0.0.1:smtp/inet/command = postscreen\n"
	    "2525/inet/command = postscreen\n"
	    "smtpd/pass/command = smtpd\n"
	    "smtp/inet/command = smtpd\n", "", NULL), 0);
	CHECK_INT(topology_postscreen25(&t), 0);
	CHECK(svc(&t, "smtp/inet") != NULL &&
	    topology_port25(svc(&t, "smtp/inet")));
	untopo(&t, &pf);
	/* An smtpd on 25 is no postscreen. */
	CHECK_INT(topo(&t, &pf, answer(NULL, NULL),
	    "smtp/inet/command = smtpd\n", "", NULL), 0);
	CHECK_INT(topology_postscreen25(&t), 0);
	untopo(&t, &pf);
}

static void
a_wrapper_mode_listener_is_not_starttls_on_25(void)
{
	struct topology		 t;
	struct postfix		 pf;
	const struct service	*s;

	CHECK_INT(topo(&t, &pf, answer(NULL, NULL),
	    "25/inet/command = smtpd\n"
	    "smtp/inet/command = smtpd\n"
	    "smtps/inet/command = smtpd\n",
	    "25/inet/smtpd_tls_wrappermode = yes\n"
	    "smtps/inet/smtpd_tls_wrappermode = yes\n"
	    "smtps/inet/syslog_name = postfix/smtps\n",
	    join(answer("25/inet", "smtpd_tls_wrappermode", "yes", NULL),
	    answer("smtps/inet", "smtpd_tls_wrappermode", "yes", NULL))), 0);
	if ((s = svc(&t, "25/inet")) != NULL) {
		CHECK_INT(s->wrapper, 1);
		CHECK_INT(s->tls, 1);
		CHECK_INT(topology_port25(s), 0);
	} else
		CHECK(!"no 25/inet service");
	if ((s = svc(&t, "smtp/inet")) != NULL) {
		CHECK_INT(s->wrapper, 0);
		CHECK_INT(topology_port25(s), 1);
	} else
		CHECK(!"no smtp/inet service");
	CHECK(svc(&t, "smtps/inet") != NULL && svc(&t, "smtps/inet")->wrapper);
	untopo(&t, &pf);
	/* main.cf's wrapper mode holds for every smtpd without its own. */
	CHECK_INT(topo(&t, &pf, answer(NULL, "smtpd_tls_wrappermode", "yes",
	    NULL), "smtp/inet/command = smtpd\n", "", NULL), 0);
	CHECK(t.n == 1 && t.v[0].wrapper && !topology_port25(&t.v[0]));
	untopo(&t, &pf);
}

static void
a_service_with_o_settings_has_values_of_its_own(void)
{
	struct topology		 t;
	struct postfix		 pf;
	const struct service	*sub, *smtp;
	char			*own;

	own = answer("submission/inet", "smtpd_tls_security_level", "encrypt",
	    "smtpd_tls_cert_file", "/etc/ssl/sub.pem", NULL);
	CHECK_INT(topo(&t, &pf, answer(NULL, "smtpd_tls_cert_file",
	    "/etc/ssl/main.pem", NULL),
	    "smtp/inet/command = smtpd\n"
	    "submission/inet/command = smtpd\n",
	    "submission/inet/syslog_name = postfix/submission\n"
	    "submission/inet/smtpd_tls_security_level = encrypt\n"
	    "submission/inet/smtpd_tls_key_file =\n", own), 0);
	sub = svc(&t, "submission/inet");
	smtp = svc(&t, "smtp/inet");
	if (sub == NULL || smtp == NULL) {
		CHECK(!"a service is missing");
		untopo(&t, &pf);
		return;
	}
	CHECK_STR(sub->v[PC_LEVEL], "encrypt");
	CHECK_STR(sub->v[PC_CERT], "/etc/ssl/sub.pem");
	CHECK_STR(smtp->v[PC_CERT], "/etc/ssl/main.pem");
	CHECK(smtp->v == (const char **)pf.v);
	/* What its own -o set, and nothing else; an empty value too. */
	CHECK_INT(sub->set[PC_LEVEL], 1);
	CHECK_INT(sub->set[PC_KEY], 1);
	CHECK_INT(sub->set[PC_CERT], 0);
	CHECK_INT(smtp->set[PC_LEVEL], 0);
	CHECK_SILENT();
	untopo(&t, &pf);
}

/* Does the one smtpd of main.cf's values PAIRS (name, value) serve TLS? */
static int
tls_under(const char *n1, const char *v1, const char *n2, const char *v2)
{
	struct topology	t;
	struct postfix	pf;
	int		tls = -1;

	if (topo(&t, &pf, answer(NULL, n1, v1, n2, v2, NULL),
	    "smtp/inet/command = smtpd\n", "", NULL) == 0 && t.n == 1)
		tls = t.v[0].tls;
	untopo(&t, &pf);
	return tls;
}

static void
an_smtpd_serves_tls_by_its_level_or_the_legacy_switches(void)
{
	CHECK_INT(tls_under("smtpd_tls_security_level", "may", "myhostname",
	    "x"), 1);
	CHECK_INT(tls_under("smtpd_tls_security_level", "encrypt",
	    "myhostname", "x"), 1);
	CHECK_INT(tls_under("smtpd_tls_security_level", "none", "myhostname",
	    "x"), 0);
	CHECK_INT(tls_under("smtpd_tls_security_level", "NONE", "myhostname",
	    "x"), 0);
	/* No level: the legacy switches. */
	CHECK_INT(tls_under("smtpd_tls_security_level", "", "smtpd_use_tls",
	    "yes"), 1);
	CHECK_INT(tls_under("smtpd_tls_security_level", "",
	    "smtpd_enforce_tls", "YES"), 1);
	CHECK_INT(tls_under("smtpd_tls_security_level", "", "myhostname",
	    "x"), 0);
	/* Wrapper mode serves TLS whatever the level says. */
	CHECK_INT(tls_under("smtpd_tls_security_level", "none",
	    "smtpd_tls_wrappermode", "yes"), 1);
}

static void
without_master_cf_there_are_no_services(void)
{
	struct topology	t;
	struct postfix	pf;

	memset(&t, 0, sizeof(t));
	CHECK_INT(topo(&t, &pf, answer(NULL, NULL), "", "", NULL), 0);
	CHECK_INT(t.n, 0);
	CHECK_INT(topology_postscreen25(&t), 0);
	untopo(&t, &pf);
}

static const struct unit_test tests[] = {
	{ "services are listed by the program they run",
	    services_are_listed_by_the_program_they_run },
	{ "port 25 is a number, a name, or host and port",
	    port_25_is_a_number_a_name_or_host_and_port },
	{ "a listener on loopback only is not where senders come",
	    a_listener_on_loopback_only_is_not_where_senders_come },
	{ "known_tcp_ports names port 25, with or without blanks",
	    known_tcp_ports_names_port_25_with_or_without_blanks },
	{ "a port name is a number, known_tcp_ports', or Postfix's own",
	    a_port_name_is_a_number_known_tcp_ports_or_postfixs_own },
	{ "postscreen on 25 hands over to the smtpd pass service",
	    postscreen_on_25_hands_over_to_the_smtpd_pass_service },
	{ "a wrapper-mode listener is not STARTTLS on 25",
	    a_wrapper_mode_listener_is_not_starttls_on_25 },
	{ "a service with -o settings has values of its own",
	    a_service_with_o_settings_has_values_of_its_own },
	{ "an smtpd serves TLS by its level, or the legacy switches",
	    an_smtpd_serves_tls_by_its_level_or_the_legacy_switches },
	{ "without master.cf there are no services",
	    without_master_cf_there_are_no_services },
};

UNIT_MAIN("topology", tests, NULL, NULL)
