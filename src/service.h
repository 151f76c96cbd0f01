/*
 * service.c: the helper as part of an init system's service.  One rule
 * maps a service name to its Postfix instance (OpenRC's postfix.NAME,
 * systemd's postfix@NAME); the hook's switch (POSTFIX_TLS_HOOK), which
 * hook events check, skip or probe, and what a failure means for the
 * service live here, so the init system's glue only calls the helper and
 * acts on its exit status.
 */
#ifndef SERVICE_H
#define SERVICE_H

#include <limits.h>
#include <stddef.h>

struct settings;

/* What an instance is: its configuration directory and tuning file. */
struct instance {
	char	confdir[PATH_MAX];
	char	conf[PATH_MAX];	/* "" when the instance has none */
};

/*
 * The instance a service name stands for: "postfix" (and every other
 * name without an instance part) the default one, /etc/postfix and
 * /etc/conf.d/postfix-tls-setup; OpenRC's "BASE.NAME" (the part after the
 * last dot, as Gentoo's init script takes it) and a systemd unit
 * "BASE@NAME.service" /etc/postfix.NAME and, when it exists,
 * /etc/conf.d/postfix-tls-setup.NAME.  0, or -1 (logged).
 */
int	service_instance(const char *name, struct instance *);

/* The name of the service the helper runs for: --service, else OpenRC's. */
const char *service_name(const char *given);
/*
 * Where messages go (render.h): OpenRC's tools when it runs the helper
 * for a service (IN_SERVICE), the journal alone when standard error is
 * the journal (JOURNAL_STREAM), else a terminal's stderr and syslog.
 */
int	service_sink(int in_service);

/* A hook's events and what each does. */
#define EV_START_PRE	0
#define EV_STOP_PRE	1
#define EV_RELOAD_PRE	2
#define EV_START_POST	3
#define EV_RELOAD_POST	4
int	service_event(const char *word);

/*
 * Is the hook switched off (POSTFIX_TLS_HOOK)?  Says so (a note) when
 * SAY.  Then the hook does nothing else.
 */
int	service_hook_off(const struct settings *, int say);

/*
 * Before the work of EVENT: 1 when this event checks nothing (a stop that
 * is not half of a restart; the start of a restart whose stop checked).
 */
int	service_skip(int event);
/* After it: the restart's mark, when a restart's stop_pre passed. */
void	service_done(int event, int status);

/*
 * The exit status the init system gets for EVENT (-1: a command run for
 * the service), STATUS being the run's, and the line that says what it
 * means for the service NAME (NULL: OpenRC's, else postfix): a refusal:
 * left as it was; a failed handshake: stopped again when tuned so.
 */
int	service_exit(int event, int status, const struct settings *,
	    const char *confdir, const char *name);

/*
 * renew: reload the Postfix instance of service NAME through the init
 * system that runs it, never restart it.  OpenRC (it has a softlevel):
 * "rc-service NAME status", then "rc-service NAME reload", whose
 * reload_pre hook checks once more and whose reload_post probes.  systemd
 * (/run/systemd/system): "systemctl reload UNIT" of the unit that runs
 * the instance (postfix@NAME; the default's postfix@- when active, else
 * postfix.service), whose drop-in checks once more.  0 reloaded (or not
 * running: it reads the new files when it starts, said as a note), -1
 * the reload failed (logged).
 */
int	service_reload(const char *name);

#endif /* SERVICE_H */
