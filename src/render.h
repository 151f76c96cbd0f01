/*
 * render.c: the run's findings and listings (finding.c), said once the
 * run is over, in one of its forms: text (stderr, stdout for notes, and
 * syslog facility mail), check --json's document, check --nagios's line
 * and exit status, or an init system's own (service.c picks it): OpenRC's
 * eerror/ewarn/einfo, or the journal's priority prefixes.
 */
#ifndef RENDER_H
#define RENDER_H

#define OUT_TEXT	0
#define OUT_JSON	1
#define OUT_NAGIOS	2

#define SINK_TERMINAL	0	/* stderr + syslog, notes on stdout */
#define SINK_OPENRC	1	/* eerror, ewarn, einfo: they log */
#define SINK_JOURNAL	2	/* stderr with <N> prefixes, nothing else */

/* Before the options: --nagios answers even a usage error as a plugin. */
void	render_argv(int argc, char *argv[]);
/* The format the options decided; -q; where text goes. */
void	render_setup(int format, int quiet, int sink);
void	render_days(int warn_days, int crit_days);
int	render_format(void);
/* Says everything, in order, once; the exit status to return. */
int	render_finish(int status);
/* A line that is no finding, after them: an error in the sink's form. */
void	render_say(const char *line);
/* A usage error: with --nagios, UNKNOWN and exit 3; else returns. */
void	render_usage(int status);

#endif /* RENDER_H */
