/*
 * postfix-tls-setup: refuse to let Postfix start with TLS that does not
 * work.  main wires: the options, the tuning file under them, the
 * service a hook runs for (service.c), one command (deploy.c, probe.c,
 * renew.c), and the findings said once, in the form asked for (render.c).
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>

#include "command.h"
#include "common.h"
#include "conf.h"
#include "finding.h"
#include "help.h"
#include "render.h"
#include "renew.h"
#include "service.h"
#include "verify.h"

struct options {
	struct command	 c;
	struct settings	 cli;		/* the command line's settings */
	const char	*conffile;	/* NULL: none (--no-conf) */
	int		 conf_given;	/* -c, --conf or --no-conf given */
	int		 conf_required;	/* --conf: it must exist */
	int		 dir_given;
	const char	*service;	/* --service NAME */
	int		 event;		/* hook EVENT, or -1 */
	int		 format, quiet, verbose, print;
	struct setconf	 files;		/* renew: --cert, --key, --chain */
};

enum { O_CONF = 256, O_NO_CONF, O_CERT, O_KEY, O_CHAIN, O_BUNDLE, O_CAFILE,
    O_CAPATH, O_ROOT, O_WARN, O_INCLUDE_ROOT, O_HOOK, O_PRINT_CONF, O_CRIT,
    O_JSON, O_NAGIOS, O_SERVICE, O_REQUEST, O_PENDING };

static const struct option longopts[] = {
	{ "conf", required_argument, NULL, O_CONF },
	{ "no-conf", no_argument, NULL, O_NO_CONF },
	{ "service", required_argument, NULL, O_SERVICE },
	{ "request", no_argument, NULL, O_REQUEST },
	{ "pending", no_argument, NULL, O_PENDING },
	{ "cert", required_argument, NULL, O_CERT },
	{ "key", required_argument, NULL, O_KEY },
	{ "chain", required_argument, NULL, O_CHAIN },
	{ "bundle", required_argument, NULL, O_BUNDLE },
	{ "cafile", required_argument, NULL, O_CAFILE },
	{ "capath", required_argument, NULL, O_CAPATH },
	{ "root", required_argument, NULL, O_ROOT },
	{ "warn-days", required_argument, NULL, O_WARN },
	{ "crit-days", required_argument, NULL, O_CRIT },
	{ "json", no_argument, NULL, O_JSON },
	{ "nagios", no_argument, NULL, O_NAGIOS },
	{ "include-root", no_argument, NULL, O_INCLUDE_ROOT },
	{ "hook", optional_argument, NULL, O_HOOK },
	{ "print-conf", no_argument, NULL, O_PRINT_CONF },
	{ "quiet", no_argument, NULL, 'q' },
	{ "verbose", no_argument, NULL, 'v' },
	{ "help", no_argument, NULL, 'h' },
	{ "version", no_argument, NULL, 'V' },
	{ NULL, 0, NULL, 0 }
};

/* The setting an option stands for, or NULL. */
static const char *
setting_of(int c)
{
	switch (c) {
	case O_CERT:	return "POSTFIX_TLS_CERT";
	case O_KEY:	return "POSTFIX_TLS_KEY";
	case O_BUNDLE:	return "POSTFIX_TLS_BUNDLE";
	case O_CAFILE:	return "POSTFIX_TLS_CAFILE";
	case O_CAPATH:	return "POSTFIX_TLS_CAPATH";
	case O_WARN:	return "POSTFIX_TLS_WARN_DAYS";
	case O_CRIT:	return "POSTFIX_TLS_CRIT_DAYS";
	case O_HOOK:	return "POSTFIX_TLS_HOOK";
	default:	return NULL;
	}
}

/* One option; -1 when its value is refused (logged). */
static int
option(struct options *o, int c, const char *name)
{
	switch (c) {
	case 'c':
		o->c.confdir = optarg;
		o->dir_given = 1;
		return 0;
	case O_CONF:
		o->conffile = optarg;
		o->conf_required = o->conf_given = 1;
		return 0;
	case O_NO_CONF:
		o->conffile = NULL;
		o->conf_given = 1;
		return 0;
	case O_SERVICE:
		o->service = optarg;
		return 0;
	case O_REQUEST:
	case O_PENDING:
		o->c.handoff = c == O_REQUEST ? HANDOFF_REQUEST : HANDOFF_PENDING;
		return 0;
	case O_ROOT:
		o->c.root = optarg;
		return 0;
	case O_CHAIN:
		return conf_add_chain(&o->cli.set[0], optarg, "--chain");
	case O_INCLUDE_ROOT:
		o->cli.include_root = 1;
		return 0;
	case O_PRINT_CONF:
		o->print = 1;
		return 0;
	case 'q':
		o->quiet = 1;
		return 0;
	case 'v':
		o->verbose = 1;
		return 0;
	case 'h':
		usage(0);
	case 'V':
		printf("%s %s\n", PROG, VERSION);
		exit(0);
	case O_JSON:
	case O_NAGIOS:
		if (o->format != OUT_TEXT && o->format != (c == O_JSON ?
		    OUT_JSON : OUT_NAGIOS)) {
			fprintf(stderr, "%s: --json and --nagios exclude each "
			    "other\n", PROG);
			usage(EX_USAGE);
		}
		o->format = c == O_JSON ? OUT_JSON : OUT_NAGIOS;
		return 0;
	case O_HOOK:
		o->c.hook = 1;
		if (optarg == NULL)
			return 0;
		/* FALLTHROUGH */
	default:
		if (setting_of(c) == NULL)
			usage(EX_USAGE);
		return conf_set(&o->cli, setting_of(c), optarg, name);
	}
}

/* The command word(s): deploy, check, probe, tlsa, hook EVENT. */
static void
command(struct options *o, int argc, char *argv[])
{
	static const char *const words[] = { [CMD_CHECK] = "check",
	    [CMD_DEPLOY] = "deploy", [CMD_TLSA] = "tlsa", [CMD_PROBE] = "probe",
	    [CMD_RENEW] = "renew" };
	int	i;

	if (optind < argc && !strcmp(argv[optind], "hook") &&
	    optind + 2 == argc && (o->event = service_event(argv[optind + 1]))
	    != -1) {
		o->c.hook = 1;
		o->c.cmd = o->event >= EV_START_POST ? CMD_PROBE : CMD_DEPLOY;
		return;
	}
	if (optind != argc - 1)
		usage(EX_USAGE);
	for (i = 0; i < 5; i++)
		if (!strcmp(argv[optind], words[i])) {
			o->c.cmd = i;
			return;
		}
	fprintf(stderr, "%s: unknown command \"%s\" (deploy, check, probe, "
	    "tlsa, renew or hook EVENT)\n", PROG, argv[optind]);
	usage(EX_USAGE);
}

static int
parse_args(int argc, char *argv[], struct options *o)
{
	char	name[32];
	int	c, li, rc = 0;

	while ((c = getopt_long(argc, argv, "c:qvhV", longopts, &li)) != -1) {
		/* An empty value names nothing ("--root ''" is no root). */
		if (optarg != NULL && *optarg == '\0') {
			fprintf(stderr, "%s: %s%s needs a value, not an empty "
			    "one\n", PROG, c == 'c' ? "-" : "--", c == 'c' ?
			    "c" : longopts[li].name);
			usage(EX_USAGE);
		}
		if (c == '?')
			usage(EX_USAGE);
		snprintf(name, sizeof(name), "--%s", c == 'c' ? "c" :
		    longopts[li].name);
		if (option(o, c, c == 'c' ? "-c" : name) == -1)
			rc = -1;	/* logged */
	}
	if (o->print && o->format != OUT_TEXT) {
		fprintf(stderr, "%s: --json and --nagios are for check, not "
		    "--print-conf\n", PROG);
		usage(EX_USAGE);
	}
	if (o->print && optind == argc)
		return rc;
	command(o, argc, argv);
	if (o->format != OUT_TEXT && o->c.cmd != CMD_CHECK) {
		fprintf(stderr, "%s: --json and --nagios are for check\n",
		    PROG);
		usage(EX_USAGE);
	}
	return rc;
}

/* A hook's instance: its directory and tuning file, unless given. */
static int
instance(struct options *o, struct instance *in)
{
	const char	*name = service_name(o->service);

	if (name == NULL || (!o->c.hook && o->service == NULL))
		return 0;
	if (service_instance(name, in) == -1)
		return -1;	/* logged */
	if (!o->dir_given)
		o->c.confdir = in->confdir;
	if (!o->conf_given)
		o->conffile = in->conf[0] != '\0' ? in->conf : NULL;
	return 0;
}

/* The work: 0 done (or nothing to do), -1 refused (logged). */
static int
run(struct options *o, struct settings *s)
{
	int	rc;

	if (o->c.hook && service_hook_off(s, o->c.cmd != CMD_PROBE))
		return 0;
	if (o->event != -1 && service_skip(o->event))
		return 0;
	if (o->c.hook && o->c.cmd == CMD_PROBE && s->probe == PROBE_OFF)
		return 0;	/* POSTFIX_TLS_PROBE=off: no handshakes */
	if (o->c.cmd == CMD_RENEW)
		return (o->c.handoff ? handoff_command : renew_command)(&o->c);
	if (o->c.cmd == CMD_PROBE)
		return probe_command(&o->c);
	rc = deploy_command(&o->c);
	/* A monitor also learns whether Postfix serves what is on disk. */
	if (o->c.cmd == CMD_CHECK && o->c.monitor)
		probe_served(&o->c);
	return rc;
}

int
main(int argc, char *argv[])
{
	struct options	 o;
	struct settings	 s;
	struct instance	 in;
	int		 status = 0;

	std_fds_open();
	memset(&o, 0, sizeof(o));
	o.c.confdir = DEFAULT_CONFDIR;
	o.c.root = "/";
	o.conffile = DEFAULT_CONF;
	o.event = -1;
	conf_init(&o.cli);
	conf_init(&s);
	render_argv(argc, argv);	/* --nagios: usage errors too */
	if (parse_args(argc, argv, &o) == 0 && instance(&o, &in) == 0) {
		render_setup(o.format, o.quiet, service_sink(o.c.hook ||
		    o.service != NULL));
		findings_init(o.verbose && o.format == OUT_TEXT);
		s.print = o.print;
		if ((o.conffile == NULL || conf_read(o.conffile, o.conf_required,
		    &s) == 0) && !o.print) {
			if (o.c.cmd == CMD_RENEW)
				o.c.renew = renew_take_files(&o.cli.set[0],
				    &o.files);
			conf_merge(&s, &o.cli);
			render_days(s.warn_days, s.crit_days);
			verify_fractions(s.warn_life, s.crit_life);
			o.c.s = &s;
			o.c.quiet = o.quiet;
			o.c.monitor = o.format != OUT_TEXT;
			o.c.service = o.service;
			run(&o, &s);	/* its verdict is in the findings */
		}
	} else
		render_setup(o.format, o.quiet, service_sink(o.c.hook));
	if (o.event != -1)
		service_done(o.event, findings_status());
	status = render_finish(findings_status());
	if (o.event != -1 || o.service != NULL)
		status = service_exit(o.event, status, &s, o.c.confdir,
		    o.service);
	else if (o.c.hook && o.c.cmd == CMD_PROBE && s.probe != PROBE_STOP)
		status = 0;	/* the hook's probe warns unless tuned */
	findings_free();
	free(o.files.cert);
	free(o.files.key);
	while (o.files.nchain > 0)
		free(o.files.chain[--o.files.nchain]);
	conf_free(&s);
	conf_free(&o.cli);
	return status;
}
