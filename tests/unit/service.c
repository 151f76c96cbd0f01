/*
 * src/service.c: the helper as part of an init system's service.  The
 * instance rule (OpenRC's postfix.NAME: the part after the last dot; a
 * systemd unit postfix@NAME.service: the part after the '@'), the hook's
 * events and switch, a restart's mark from stop_pre to start_pre, and
 * what a failure means for the service.
 *
 * Each test runs in a child of its own: what it sets in the environment
 * (RC_SVCNAME, RC_CMD, ...) is gone with it.
 */
#include <sys/stat.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <unistd.h>

#include "../../src/conf.h"
#include "../../src/render.h"
#include "../../src/service.h"
#include "harness/unit.h"

/* No tuning file of that name exists here: the instances tested. */
#define NO_SUCH		"unitx9q"

/* service_instance of NAME: 0 with CONFDIR and CONF, or -1. */
static void
check_instance(int line, const char *name, int rc, const char *confdir,
    const char *conf)
{
	struct instance	in;
	int		got;

	memset(&in, 'x', sizeof(in));
	got = service_instance(name, &in);
	if (got != rc)
		unit_fail(__FILE__, line, "%s: %d, want %d", name, got, rc);
	else if (rc == 0 && (strcmp(in.confdir, confdir) ||
	    strcmp(in.conf, conf)))
		unit_fail(__FILE__, line, "%s: \"%s\" and \"%s\", want \"%s\" "
		    "and \"%s\"", name, in.confdir, in.conf, confdir, conf);
}
#define CHECK_INSTANCE(name, rc, confdir, conf) \
	check_instance(__LINE__, name, rc, confdir, conf)

static void
postfix_alone_is_the_default_instance(void)
{
	CHECK_INSTANCE("postfix", 0, DEFAULT_CONFDIR, DEFAULT_CONF);
	CHECK_INSTANCE("postfix.service", 0, DEFAULT_CONFDIR, DEFAULT_CONF);
	CHECK_INSTANCE("mail", 0, DEFAULT_CONFDIR, DEFAULT_CONF);
	CHECK_INSTANCE("postfix-tls", 0, DEFAULT_CONFDIR, DEFAULT_CONF);
	CHECK_SILENT();
}

static void
openrcs_instance_is_the_part_after_the_last_dot(void)
{
	CHECK_INSTANCE("postfix." NO_SUCH, 0, DEFAULT_CONFDIR "." NO_SUCH, "");
	/* Gentoo's init script: CONF_DIR=/etc/postfix.${SVCNAME##*.} */
	CHECK_INSTANCE("postfix.a." NO_SUCH, 0, DEFAULT_CONFDIR "." NO_SUCH,
	    "");
	CHECK_INSTANCE("mta." NO_SUCH, 0, DEFAULT_CONFDIR "." NO_SUCH, "");
	CHECK_INSTANCE("postfix.a-b_c+d@e", 0, DEFAULT_CONFDIR ".a-b_c+d@e",
	    "");
	CHECK_SILENT();
}

static void
a_systemd_units_instance_is_the_part_after_the_at(void)
{
	CHECK_INSTANCE("postfix@" NO_SUCH ".service", 0,
	    DEFAULT_CONFDIR "." NO_SUCH, "");
	/* The '@' decides, not the last dot or another '@'. */
	CHECK_INSTANCE("postfix@a@" NO_SUCH ".service", 0,
	    DEFAULT_CONFDIR ".a@" NO_SUCH, "");
	/* Dots are the instance's own (systemd takes them as written). */
	CHECK_INSTANCE("postfix@a.b.service", 0, DEFAULT_CONFDIR ".a.b", "");
	/* The man page's postfix@INSTANCE, without the unit's suffix. */
	CHECK_INSTANCE("postfix@" NO_SUCH, 0, DEFAULT_CONFDIR "." NO_SUCH, "");
	/* The default unit is the default instance, and so is Debian's
	 * postfix@- (postmulti's name for it), unit or not. */
	CHECK_INSTANCE("postfix.service", 0, DEFAULT_CONFDIR, DEFAULT_CONF);
	CHECK_INSTANCE("postfix@-.service", 0, DEFAULT_CONFDIR, DEFAULT_CONF);
	CHECK_INSTANCE("postfix@-", 0, DEFAULT_CONFDIR, DEFAULT_CONF);
	CHECK_INSTANCE("postfix@--.service", 0, DEFAULT_CONFDIR ".--", "");
	CHECK_INSTANCE("postfix@.x.service", -1, NULL, NULL);
	CHECK_SAID("the service postfix@.x.service names the instance "
	    "\".x\", which is no directory name (name the instance with "
	    "letters, digits, '-', '_', '.', '@' and '+')");
}

static void
an_instance_that_would_leave_its_directory_is_refused(void)
{
	CHECK_INSTANCE("postfix.", -1, NULL, NULL);
	CHECK_SAID("the service postfix. names the instance \"\"");
	CHECK_INSTANCE("postfix@.service", -1, NULL, NULL);
	CHECK_SAID("the service postfix@.service names the instance \"\"");
	CHECK_INSTANCE("postfix@...service", -1, NULL, NULL);
	CHECK_INSTANCE("postfix.out/../../etc", -1, NULL, NULL);
	CHECK_SAID("names the instance \"/etc\"");
	CHECK_INSTANCE("postfix@../x.service", -1, NULL, NULL);
	CHECK_INSTANCE("postfix.a b", -1, NULL, NULL);
	CHECK_INSTANCE("postfix.a\nb", -1, NULL, NULL);
	CHECK_INT(findings_status(), EX_USAGE);
}

static void
a_service_name_longer_than_a_file_name_is_refused(void)
{
	char	name[NAME_MAX + 2];

	memset(name, 'a', sizeof(name) - 1);
	name[sizeof(name) - 1] = '\0';
	memcpy(name, "postfix.", 8);
	CHECK_INSTANCE(name, -1, NULL, NULL);
	CHECK_SAID("the service name \"postfix.aaaaaaaa");
	CHECK_SAID("...\" is too long");
	/* NAME_MAX itself fits. */
	name[NAME_MAX] = '\0';
	CHECK_INT(strlen(name), NAME_MAX);
	{
		struct instance	in;

		CHECK_INT(service_instance(name, &in), 0);
		CHECK(strncmp(in.confdir, DEFAULT_CONFDIR ".aaa", 16) == 0);
	}
}

static void
the_hooks_events_are_named_as_openrc_names_them(void)
{
	CHECK_INT(service_event("start_pre"), EV_START_PRE);
	CHECK_INT(service_event("stop_pre"), EV_STOP_PRE);
	CHECK_INT(service_event("reload_pre"), EV_RELOAD_PRE);
	CHECK_INT(service_event("start_post"), EV_START_POST);
	CHECK_INT(service_event("reload_post"), EV_RELOAD_POST);
	CHECK_INT(service_event("stop_post"), -1);
	CHECK_INT(service_event("START_PRE"), -1);
	CHECK_INT(service_event("start"), -1);
	CHECK_INT(service_event(""), -1);
}

static void
the_service_is_the_one_given_else_openrcs(void)
{
	unsetenv("RC_SVCNAME");
	CHECK(service_name(NULL) == NULL);
	CHECK_STR(service_name("postfix@x.service"), "postfix@x.service");
	setenv("RC_SVCNAME", "", 1);
	CHECK(service_name(NULL) == NULL);
	setenv("RC_SVCNAME", "postfix.out", 1);
	CHECK_STR(service_name(NULL), "postfix.out");
	CHECK_STR(service_name("postfix"), "postfix");
}

/* JOURNAL_STREAM naming standard error ("DEVICE:INODE"), or another. */
static void
set_journal_stream(int other)
{
	struct stat	st;
	char		js[64];

	CHECK(fstat(STDERR_FILENO, &st) == 0);
	snprintf(js, sizeof(js), "%llu:%llu", (unsigned long long)st.st_dev,
	    (unsigned long long)st.st_ino + (other ? 1 : 0));
	setenv("JOURNAL_STREAM", js, 1);
}

static void
messages_go_to_openrc_the_journal_or_the_terminal(void)
{
	unsetenv("RC_SVCNAME");
	unsetenv("JOURNAL_STREAM");
	CHECK_INT(service_sink(1), SINK_TERMINAL);
	/* A unit's INVOCATION_ID alone says nothing of where stderr goes. */
	setenv("INVOCATION_ID", "0123abcd", 1);
	CHECK_INT(service_sink(1), SINK_TERMINAL);
	/* stderr is the journal: there alone, in a service or not (the
	 * hand-off's renew service), never also syslog (twice). */
	set_journal_stream(0);
	CHECK_INT(service_sink(1), SINK_JOURNAL);
	CHECK_INT(service_sink(0), SINK_JOURNAL);
	/* Inherited, but stderr is a pipe elsewhere: not the journal. */
	set_journal_stream(1);
	CHECK_INT(service_sink(1), SINK_TERMINAL);
	setenv("JOURNAL_STREAM", "12:34x", 1);
	CHECK_INT(service_sink(1), SINK_TERMINAL);
	set_journal_stream(0);
	setenv("RC_SVCNAME", "postfix", 1);
	CHECK_INT(service_sink(1), SINK_OPENRC);
	/* By hand, in an OpenRC service's environment: not OpenRC's. */
	unsetenv("JOURNAL_STREAM");
	CHECK_INT(service_sink(0), SINK_TERMINAL);
}

static void
the_hook_is_off_only_when_switched_off(void)
{
	struct settings	s;

	conf_init(&s);
	CHECK_INT(service_hook_off(&s, 1), 0);
	CHECK_INT(conf_set(&s, "POSTFIX_TLS_HOOK", "yes", "on.conf"), 0);
	CHECK_INT(service_hook_off(&s, 1), 0);
	CHECK_SILENT();
	CHECK_INT(conf_set(&s, "POSTFIX_TLS_HOOK", "no", "off.conf"), 0);
	CHECK_INT(service_hook_off(&s, 0), 1);
	CHECK_SILENT();
	CHECK_INT(service_hook_off(&s, 1), 1);
	CHECK_SAID("postfix-tls-setup is switched off (POSTFIX_TLS_HOOK in "
	    "off.conf): nothing was checked\n");
	CHECK_INT(findings_status(), 0);
	conf_free(&s);
}

static void
a_refusal_before_the_event_leaves_postfix_as_it_was(void)
{
	struct settings	s;

	conf_init(&s);
	CHECK_INT(service_exit(EV_START_PRE, 0, &s, "/etc/postfix", NULL), 0);
	CHECK_SILENT();
	CHECK_INT(service_exit(EV_START_PRE, EX_DATAERR, &s, "/etc/postfix",
	    NULL), EX_DATAERR);
	CHECK_SAID("postfix-tls-setup refused (exit 65) for /etc/postfix; "
	    "Postfix was left as it was\n");
	CHECK_INT(service_exit(EV_RELOAD_PRE, EX_NOPERM, &s, "/etc/postfix.b",
	    NULL), EX_NOPERM);
	CHECK_SAID("refused (exit 77) for /etc/postfix.b;");
	/* A command run for the service (-1): the same. */
	CHECK_INT(service_exit(-1, EX_CONFIG, &s, "/etc/postfix.c", NULL),
	    EX_CONFIG);
	CHECK_SAID("refused (exit 78) for /etc/postfix.c;");
	conf_free(&s);
}

static void
a_failed_handshake_after_the_event_stops_postfix_only_when_asked(void)
{
	struct settings	s;

	conf_init(&s);
	CHECK_INT(conf_set(&s, "POSTFIX_TLS_PROBE", "stop", "p.conf"), 0);
	setenv("RC_SVCNAME", "postfix.out", 1);
	setenv("RC_CMD", "restart", 1);
	CHECK_INT(service_exit(EV_START_POST, EX_PROTOCOL, &s, "/x", NULL),
	    EX_PROTOCOL);
	CHECK_SAID("postfix-tls-setup: TLS failed after the restart (exit 76); "
	    "stopping postfix.out again, as POSTFIX_TLS_PROBE=stop asks\n");
	unsetenv("RC_CMD");
	unsetenv("RC_SVCNAME");
	CHECK_INT(service_exit(EV_RELOAD_POST, EX_PROTOCOL, &s, "/x", NULL),
	    EX_PROTOCOL);
	CHECK_SAID("TLS failed after the start (exit 76); stopping postfix "
	    "again");
	/* systemd's unit, named by the drop-in (--service %n): that one. */
	CHECK_INT(service_exit(EV_START_POST, EX_PROTOCOL, &s, "/x",
	    "postfix@-.service"), EX_PROTOCOL);
	CHECK_SAID("stopping postfix@-.service again, as POSTFIX_TLS_PROBE=stop "
	    "asks");
	conf_free(&s);
}

static void
a_failed_handshake_only_warned_of_leaves_postfix_running(void)
{
	struct settings	s;

	conf_init(&s);
	CHECK_INT(conf_set(&s, "POSTFIX_TLS_PROBE", "warn", "p.conf"), 0);
	CHECK_INT(service_exit(EV_START_POST, EX_PROTOCOL, &s, "/x", NULL), 0);
	CHECK_SILENT();		/* the handshake's findings say it all */
	/* The listeners could not be tried at all: said, and no failure. */
	setenv("RC_SVCNAME", "postfix.out", 1);
	CHECK_INT(service_exit(EV_RELOAD_POST, EX_OSERR, &s, "/x", NULL), 0);
	CHECK_SAID("postfix-tls-setup could not try the TLS listeners (exit "
	    "71); postfix.out was left running\n");
	conf_free(&s);
}

/* A directory of root's for the restart's mark; "" when not root. */
static char	markdir[64];

static int
markdir_up(void)
{
	if (!unit_is_root()) {
		unit_skip("the mark's directory must be root's (runs as root "
		    "in CI)");
		return -1;
	}
	snprintf(markdir, sizeof(markdir), "/tmp/pts-unit.XXXXXX");
	if (mkdtemp(markdir) == NULL)
		abort();
	setenv("RC_TMPDIR", markdir, 1);
	setenv("RC_SVCNAME", "postfix.out", 1);
	return 0;
}

static void
markdir_down(void)
{
	char	path[128];

	snprintf(path, sizeof(path), "%s/postfix-tls-setup.postfix.out",
	    markdir);
	unlink(path);
	rmdir(markdir);
}

static int
mark_exists(void)
{
	char	path[128];

	snprintf(path, sizeof(path), "%s/postfix-tls-setup.postfix.out",
	    markdir);
	return access(path, F_OK) == 0;
}

static void
a_plain_stop_checks_nothing_and_a_restarts_stop_does(void)
{
	unsetenv("RC_CMD");
	CHECK_INT(service_skip(EV_STOP_PRE), 1);
	setenv("RC_CMD", "stop", 1);
	CHECK_INT(service_skip(EV_STOP_PRE), 1);
	setenv("RC_CMD", "restart", 1);
	CHECK_INT(service_skip(EV_STOP_PRE), 0);
	/* Any other event checks, restart or not, without a mark. */
	CHECK_INT(service_skip(EV_RELOAD_PRE), 0);
	CHECK_INT(service_skip(EV_START_POST), 0);
	unsetenv("RC_CMD");
	CHECK_INT(service_skip(EV_START_PRE), 0);
}

static void
a_restarts_start_skips_the_check_its_stop_passed(void)
{
	char	pid[32];

	if (markdir_up() == -1)
		return;
	setenv("RC_CMD", "restart", 1);
	snprintf(pid, sizeof(pid), "%ld", (long)getpid());
	setenv("RC_RUNSCRIPT_PID", pid, 1);
	CHECK_INT(service_skip(EV_START_PRE), 0);	/* no mark yet */
	/* A stop_pre that failed, or another event, leaves no mark. */
	service_done(EV_STOP_PRE, EX_DATAERR);
	service_done(EV_START_PRE, 0);
	CHECK(!mark_exists());
	CHECK_INT(service_skip(EV_START_PRE), 0);
	service_done(EV_STOP_PRE, 0);
	CHECK(mark_exists());
	CHECK_INT(service_skip(EV_START_PRE), 1);
	/* The mark is start_pre's alone. */
	CHECK_INT(service_skip(EV_RELOAD_PRE), 0);
	CHECK_INT(service_skip(EV_START_POST), 0);
	/* Another openrc-run's restart (another pid): checked again. */
	snprintf(pid, sizeof(pid), "%ld", (long)getppid());
	setenv("RC_RUNSCRIPT_PID", pid, 1);
	CHECK_INT(service_skip(EV_START_PRE), 0);
	/* Not a restart: the mark means nothing. */
	snprintf(pid, sizeof(pid), "%ld", (long)getpid());
	setenv("RC_RUNSCRIPT_PID", pid, 1);
	setenv("RC_CMD", "start", 1);
	CHECK_INT(service_skip(EV_START_PRE), 0);
	CHECK_SILENT();
	markdir_down();
}

static void
a_restart_whose_mark_cannot_be_trusted_checks_again(void)
{
	char	pid[32];

	if (markdir_up() == -1)
		return;
	setenv("RC_CMD", "restart", 1);
	setenv("RC_RUNSCRIPT_PID", "1", 1);	/* no openrc-run is init */
	service_done(EV_STOP_PRE, 0);
	CHECK(!mark_exists());
	CHECK_INT(service_skip(EV_START_PRE), 0);
	/* A mark in a directory others may write is no mark, silently. */
	snprintf(pid, sizeof(pid), "%ld", (long)getpid());
	setenv("RC_RUNSCRIPT_PID", pid, 1);
	service_done(EV_STOP_PRE, 0);
	CHECK(mark_exists());
	CHECK_INT(service_skip(EV_START_PRE), 1);
	chmod(markdir, 0777);
	CHECK_INT(service_skip(EV_START_PRE), 0);
	CHECK_SILENT();
	CHECK_INT(findings_status(), 0);
	markdir_down();
}

static const struct unit_test tests[] = {
	{ "postfix alone is the default instance",
	    postfix_alone_is_the_default_instance },
	{ "OpenRC's instance is the part after the last dot",
	    openrcs_instance_is_the_part_after_the_last_dot },
	{ "a systemd unit's instance is the part after the @",
	    a_systemd_units_instance_is_the_part_after_the_at },
	{ "an instance that would leave its directory is refused",
	    an_instance_that_would_leave_its_directory_is_refused },
	{ "a service name longer than a file name is refused",
	    a_service_name_longer_than_a_file_name_is_refused },
	{ "the hook's events are named as OpenRC names them",
	    the_hooks_events_are_named_as_openrc_names_them },
	{ "the service is the one given, else OpenRC's",
	    the_service_is_the_one_given_else_openrcs },
	{ "messages go to OpenRC, the journal or the terminal",
	    messages_go_to_openrc_the_journal_or_the_terminal },
	{ "the hook is off only when switched off",
	    the_hook_is_off_only_when_switched_off },
	{ "a refusal before the event leaves Postfix as it was",
	    a_refusal_before_the_event_leaves_postfix_as_it_was },
	{ "a failed handshake after the event stops Postfix only when asked",
	    a_failed_handshake_after_the_event_stops_postfix_only_when_asked },
	{ "a failed handshake only warned of leaves Postfix running",
	    a_failed_handshake_only_warned_of_leaves_postfix_running },
	{ "a plain stop checks nothing, a restart's stop does",
	    a_plain_stop_checks_nothing_and_a_restarts_stop_does },
	{ "a restart's start skips the check its stop passed",
	    a_restarts_start_skips_the_check_its_stop_passed },
	{ "a restart whose mark cannot be trusted checks again",
	    a_restart_whose_mark_cannot_be_trusted_checks_again },
};

UNIT_MAIN("service", tests, NULL, NULL)
