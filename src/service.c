/*
 * The service layer (service.h).  OpenRC runs a service's CMD_pre before
 * CMD and CMD_post after it; a restart is stop_pre, stop, start_pre,
 * start (each _pre in a shell of its own, with RC_CMD=restart), but a
 * restart of a stopped service runs start_pre alone.  So stop_pre checks
 * only in a restart, before Postfix is stopped (a broken certificate
 * then leaves the running Postfix serving the old one), and leaves a mark
 * that lets this very restart's start_pre skip the check: the pid of its
 * openrc-run process and that process's start time (field 22 of
 * /proc/PID/stat), which no other command shares.  OpenRC clears its own
 * store when the stop ends, hence a file in its root-only directory.
 */
#include <sys/stat.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <unistd.h>

#include "child.h"
#include "common.h"
#include "conf.h"
#include "finding.h"
#include "render.h"
#include "secure.h"
#include "service.h"
#include "write.h"

static const char *const events[] = {
	[EV_START_PRE] = "start_pre", [EV_STOP_PRE] = "stop_pre",
	[EV_RELOAD_PRE] = "reload_pre", [EV_START_POST] = "start_post",
	[EV_RELOAD_POST] = "reload_post",
};

int
service_event(const char *word)
{
	size_t	i;

	for (i = 0; i < sizeof(events) / sizeof(events[0]); i++)
		if (!strcmp(word, events[i]))
			return i;
	return -1;
}

const char *
service_name(const char *given)
{
	const char	*rc = getenv("RC_SVCNAME");

	if (given != NULL)
		return given;
	return rc != NULL && *rc != '\0' ? rc : NULL;
}

/*
 * Is standard error the journal?  systemd says which stream it connected
 * (JOURNAL_STREAM=DEVICE:INODE, sd_journal_stream_fd(3)); a child that
 * inherited the variable but whose stderr goes elsewhere (a pipe to an
 * ACME client that logs it) does not match.
 */
static int
stderr_is_journal(void)
{
	const char		*js = getenv("JOURNAL_STREAM");
	struct stat		 st;
	unsigned long long	 dev, ino;
	int			 end = 0;

	if (js == NULL || sscanf(js, "%llu:%llu%n", &dev, &ino, &end) != 2 ||
	    js[end] != '\0' || fstat(STDERR_FILENO, &st) == -1)
		return 0;
	return st.st_dev == dev && st.st_ino == ino;
}

/*
 * Each line must reach the journal once: where standard error is the
 * journal it goes there alone (with its priority), never also to syslog,
 * whether a unit runs the helper for Postfix (the drop-ins) or for
 * itself (the hand-off's renew service, a timer's check).
 */
int
service_sink(int in_service)
{
	if (in_service && getenv("RC_SVCNAME") != NULL)
		return SINK_OPENRC;
	if (stderr_is_journal())
		return SINK_JOURNAL;
	return SINK_TERMINAL;
}

/* An instance's name: a directory name's part, nothing that walks away. */
static int
instance_ok(const char *s)
{
	return *s != '\0' && *s != '.' && strspn(s,
	    "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
	    "-_.@+") == strlen(s);
}

/*
 * A systemd unit's instance: Debian's postfix@-.service is the default
 * instance (postmulti -i - names it so; its generator starts it), any
 * other its own ("" is refused).
 */
static const char *
systemd_part(const char *part)
{
	return strcmp(part, "-") ? part : NULL;
}

/*
 * The instance part of a service name, as the init system takes it: a
 * systemd unit postfix@NAME.service (or postfix@NAME) the part after the
 * first '@', postfix.service (and postfix@-) the default; OpenRC's
 * postfix.NAME the part after the last dot (Gentoo's init script:
 * CONF_DIR=/etc/postfix.${SVCNAME##*.}), so postfix.a@b is OpenRC's
 * instance "a@b".  NULL: the default.
 */
static const char *
instance_part(char *unit)
{
	size_t	 len = strlen(unit);
	char	*at = strchr(unit, '@'), *dot = strchr(unit, '.');

	if (len > 8 && !strcmp(unit + len - 8, ".service")) {
		unit[len - 8] = '\0';
		return at != NULL ? systemd_part(at + 1) : NULL;
	}
	if (at != NULL && (dot == NULL || dot > at))
		return systemd_part(at + 1);
	dot = strrchr(unit, '.');
	return dot != NULL ? dot + 1 : NULL;
}

int
service_instance(const char *name, struct instance *in)
{
	char		 unit[NAME_MAX + 1];
	const char	*part;

	strlcpy(in->confdir, DEFAULT_CONFDIR, sizeof(in->confdir));
	strlcpy(in->conf, DEFAULT_CONF, sizeof(in->conf));
	if (strlcpy(unit, name, sizeof(unit)) >= sizeof(unit)) {
		problem(EX_USAGE, NULL, "the service name \"%.40s...\" is too "
		    "long", name);
		return -1;
	}
	if ((part = instance_part(unit)) == NULL)
		return 0;	/* the default instance */
	if (!instance_ok(part)) {
		problem(EX_USAGE, NULL, "the service %s names the instance "
		    "\"%s\", which is no directory name" FIX "name the instance "
		    "with letters, digits, '-', '_', '.', '@' and '+'", name,
		    part);
		return -1;
	}
	snprintf(in->confdir, sizeof(in->confdir), "%s.%s", DEFAULT_CONFDIR,
	    part);
	snprintf(in->conf, sizeof(in->conf), "%s.%s", DEFAULT_CONF, part);
	/* No tuning file of its own: the instance's main.cf files in place. */
	if (faccessat(AT_FDCWD, in->conf, F_OK, AT_SYMLINK_NOFOLLOW) == -1 &&
	    errno == ENOENT)
		in->conf[0] = '\0';
	return 0;
}

int
service_hook_off(const struct settings *s, int say)
{
	if (s->hook != 0)
		return 0;
	if (say)
		note("postfix-tls-setup is switched off (POSTFIX_TLS_HOOK in %s): "
		    "nothing was checked", s->hook_from);
	return 1;
}

/* A field of /proc/PID/stat after the command's ')' (3 is the state). */
static int
proc_field(long pid, int field, long long *out)
{
	char		 path[64], buf[1024], *p;
	ssize_t		 n;
	int		 fd, i;

	snprintf(path, sizeof(path), "/proc/%ld/stat", pid);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return -1;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0 || (buf[n] = '\0', p = strrchr(buf, ')')) == NULL)
		return -1;
	for (i = 2; i < field && p != NULL; i++)
		p = strchr(p + 1, ' ');
	if (p == NULL)
		return -1;
	*out = strtoll(p + 1, NULL, 10);
	return 0;
}

/*
 * This restart's token: openrc-run's pid and start time.  The hook's
 * shell is our parent; openrc-run is its parent, unless OpenRC names it.
 */
static int
restart_token(char *buf, size_t size)
{
	const char	*given = getenv("RC_RUNSCRIPT_PID");
	long long	 pid, start;

	if (given != NULL && *given != '\0')
		pid = strtoll(given, NULL, 10);
	else if (proc_field(getppid(), 4, &pid) == -1)
		return -1;
	if (pid <= 1 || proc_field(pid, 22, &start) == -1)
		return -1;
	snprintf(buf, size, "%lld %lld\n", pid, start);
	return 0;
}

static void
mark_path(char *buf, size_t size)
{
	const char	*dir = getenv("RC_TMPDIR");
	const char	*svc = getenv("RC_SVCNAME");

	snprintf(buf, size, "%s/postfix-tls-setup.%s", dir != NULL && *dir ==
	    '/' ? dir : "/run/openrc/tmp", svc != NULL ? svc : "postfix");
}

static int
restart(void)
{
	const char	*cmd = getenv("RC_CMD");

	return cmd != NULL && !strcmp(cmd, "restart");
}

int
service_skip(int event)
{
	struct file	 f;
	unsigned char	*seen = NULL;
	char		 path[PATH_MAX], token[64];
	size_t		 len = 0, mark = findings_mark();
	int		 skip = 0;

	if (event == EV_STOP_PRE)
		return !restart();	/* a plain stop checks nothing */
	if (event != EV_START_PRE || !restart() ||
	    restart_token(token, sizeof(token)) == -1)
		return 0;
	mark_path(path, sizeof(path));
	file_init(&f);
	if (file_open(&f, path, 1) == 0 && f.fd != -1 &&
	    file_read(&f, &seen, &len) == 0)
		skip = len == strlen(token) && !memcmp(seen, token, len);
	findings_drop(mark);	/* no mark to read: the check runs */
	free(seen);
	file_close(&f);
	return skip;
}

void
service_done(int event, int status)
{
	struct file	f;
	char		path[PATH_MAX], token[64];
	size_t		mark = findings_mark();

	if (event != EV_STOP_PRE || status != 0 || !restart() ||
	    restart_token(token, sizeof(token)) == -1)
		return;
	mark_path(path, sizeof(path));
	file_init(&f);
	if (file_open(&f, path, 1) == 0)
		write_atomic(&f, (const unsigned char *)token, strlen(token));
	findings_drop(mark);	/* no mark: start_pre checks again */
	file_close(&f);
}

int
service_exit(int event, int status, const struct settings *s,
    const char *confdir, const char *name)
{
	const char	*svc = service_name(name), *cmd = getenv("RC_CMD");
	char		*line;

	if (svc == NULL)
		svc = "postfix";
	if (status == 0)
		return 0;
	if (event != EV_START_POST && event != EV_RELOAD_POST) {
		line = xasprintf("%s refused (exit %d) for %s; Postfix was left "
		    "as it was", PROG, status, confdir);
		render_say(line);
		free(line);
		return status;
	}
	if (status == EX_PROTOCOL && s->probe == PROBE_STOP) {
		line = xasprintf("%s: TLS failed after the %s (exit %d); "
		    "stopping %s again, as POSTFIX_TLS_PROBE=stop asks", PROG,
		    cmd != NULL && *cmd != '\0' ? cmd : "start", status, svc);
		render_say(line);
		free(line);
		return status;
	}
	if (status != EX_PROTOCOL) {
		line = xasprintf("%s could not try the TLS listeners (exit %d); "
		    "%s was left running", PROG, status, svc);
		render_say(line);
		free(line);
	}
	return 0;
}

#ifndef RC_SERVICE_PATH
#define RC_SERVICE_PATH	"/sbin/rc-service"
#endif
/* /bin: systemd's place on Debian 12 and wherever /usr is merged. */
#ifndef SYSTEMCTL_PATH
#define SYSTEMCTL_PATH	"/bin/systemctl"
#endif
#define RELOAD_DEADLINE_MS	(120 * 1000)	/* its hooks run: deploy, probe */

/*
 * TOOL (rc-service or systemctl) VERB NAME, as ARGV has them, no shell,
 * under a deadline: its exit status, or -1 when it could not run or was
 * stopped (said in SAID).
 */
static int
init_tool(const char *path, char *const argv[], char *said, size_t size)
{
	struct child	 ch;
	int		 err, ws = 0, rc = -1;

	*said = '\0';
	if ((err = child_start(&ch, path, argv, NULL, 1, -1, 022)) != 0) {
		snprintf(said, size, "%s: %s", path, err > 0 ? strerror(err) :
		    "no memory file for its output");
		return -1;
	}
	if (child_wait(&ch, now_ms() + RELOAD_DEADLINE_MS, &ws) == -1)
		snprintf(said, size, "stopped after %d s", RELOAD_DEADLINE_MS /
		    1000);
	else {
		child_said(&ch, said, size);
		rc = WIFEXITED(ws) ? WEXITSTATUS(ws) : -1;
	}
	child_close(&ch);
	return rc;
}

static int
rc_service(const char *name, const char *verb, char *said, size_t size)
{
	char	*argv[] = { "rc-service", (char *)name, (char *)verb, NULL };

	return init_tool(RC_SERVICE_PATH, argv, said, size);
}

static int
systemctl(const char *verb, const char *unit, char *said, size_t size)
{
	char	*argv[] = { "systemctl", "--quiet", (char *)verb, (char *)unit,
		    NULL };

	return init_tool(SYSTEMCTL_PATH, argv, said, size);
}

/*
 * The systemd unit that runs the instance of service NAME: postfix@NAME
 * for an instance; for the default one Debian's postfix@- when it is
 * active (reloading Debian's postfix.service, a oneshot, would answer 0
 * even when the instance's reload failed), else postfix.service, Gentoo's.
 * "" when none is active.
 */
static void
systemd_unit(const char *name, char *unit, size_t size)
{
	struct instance	 in;
	char		 said[256];
	size_t		 len = strlen(DEFAULT_CONFDIR);

	if (service_instance(name, &in) == 0 && in.confdir[len] == '.') {
		/* An instance name is a file name's part: it fits. */
		if (snprintf(unit, size, "postfix@%s.service", in.confdir + len +
		    1) >= (int)size)
			*unit = '\0';
	} else if (systemctl("is-active", "postfix@-.service", said,
	    sizeof(said)) == 0)
		snprintf(unit, size, "postfix@-.service");
	else
		snprintf(unit, size, "postfix.service");
	if (systemctl("is-active", unit, said, sizeof(said)) != 0)
		*unit = '\0';
}

/*
 * systemd runs the instance: "systemctl reload UNIT", whose ExecReload=
 * (the drop-in) checks once more before Postfix's own reload.
 */
static int
service_reload_systemd(const char *name)
{
	char	unit[NAME_MAX + 16], said[256];
	int	st;

	systemd_unit(name, unit, sizeof(unit));
	if (*unit == '\0') {
		note("%s is not running: it serves the new certificate when it "
		    "starts", name);
		return 0;
	}
	if ((st = systemctl("reload", unit, said, sizeof(said))) != 0) {
		if (st != -1)
			snprintf(said + strlen(said), sizeof(said) -
			    strlen(said), "%sexit %d", said[0] ? ", " : "", st);
		problem(EX_UNAVAILABLE, NULL, "systemctl reload %s failed "
		    "(%s): the new certificate is in place, but Postfix may "
		    "not serve it yet" FIX "find out why (journalctl -u %s), "
		    "then systemctl reload %s", unit, said, unit, unit);
		return -1;
	}
	note("reloaded %s", unit);
	return 0;
}

int
service_reload(const char *name)
{
	char	said[256];
	int	st;

	if (access("/run/openrc/softlevel", F_OK) == -1)
		return access("/run/systemd/system", F_OK) == 0 ?
		    service_reload_systemd(name) : (warning(NULL, "no init "
		    "system found to reload Postfix; the new certificate is in "
		    "place" FIX "postfix reload"), 0);
	if ((st = rc_service(name, "status", said, sizeof(said))) != 0) {
		if (st == -1) {
			problem(EX_UNAVAILABLE, NULL, "cannot ask OpenRC whether "
			    "%s runs: %s", name, said);
			return -1;
		}
		note("%s is not running: it serves the new certificate when it "
		    "starts", name);
		return 0;
	}
	if ((st = rc_service(name, "reload", said, sizeof(said))) != 0) {
		if (st != -1)
			snprintf(said + strlen(said), sizeof(said) -
			    strlen(said), "%sexit %d", said[0] ? ", " : "", st);
		problem(EX_UNAVAILABLE, NULL, "rc-service %s reload failed "
		    "(%s): the new certificate is in place, but Postfix may "
		    "not serve it yet" FIX "find out why, then rc-service %s "
		    "reload", name, said, name);
		return -1;
	}
	note("reloaded %s", name);
	return 0;
}
