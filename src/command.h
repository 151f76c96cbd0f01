/*
 * The commands, each a module of its own: deploy.c (deploy, check and
 * tlsa: inventory, judge, DANE, plan, install), probe.c (handshakes
 * with what the running Postfix serves) and renew.c (an ACME client's
 * new files through deploy, then a reload).  main.c parses the options and
 * the tuning, service.c decides whether a hook runs at all; a command
 * gets what it needs here and says its verdict by its findings.
 */
#ifndef COMMAND_H
#define COMMAND_H

struct settings;
struct setconf;

#define CMD_CHECK	0
#define CMD_DEPLOY	1
#define CMD_TLSA	2
#define CMD_PROBE	3
#define CMD_RENEW	4

#define HANDOFF_NONE	0	/* renew: the files, at once */
#define HANDOFF_REQUEST	1	/* renew --request: ask root (handoff.h) */
#define HANDOFF_PENDING	2	/* renew --pending: root does what was asked */

struct command {
	int			 cmd;		/* CMD_* */
	const char		*confdir;	/* Postfix's configuration */
	const char		*root;		/* Gentoo's ROOT */
	const struct settings	*s;
	int			 hook;		/* run by an init system */
	int			 quiet;		/* -q: problems only */
	int			 monitor;	/* --json, --nagios */
	const char		*service;	/* --service NAME, or NULL */
	int			 handoff;	/* renew: HANDOFF_* */
	const struct setconf	*renew;		/* renew: the client's new
						   files (deploy guards their
						   set); else NULL */
};

/* check, deploy, tlsa: 0, or -1 when refused (logged). */
int	deploy_command(const struct command *);
/* probe: 0, or -1 when a handshake failed (logged). */
int	probe_command(const struct command *);
/* check --json / --nagios: what the running Postfix serves, as warnings. */
void	probe_served(const struct command *);
/* renew (renew.h): 0 deployed and reloaded, or -1 (logged, recorded). */
int	renew_command(const struct command *);
/* renew --request, --pending (handoff.h): 0, or -1 (logged). */
int	handoff_command(const struct command *);

#endif /* COMMAND_H */
