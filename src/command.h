/*
 * The commands, each a module of its own: deploy.c (deploy, check and
 * tlsa: inventory, judge, DANE, plan, install) and probe.c (handshakes
 * with what the running Postfix serves).  main.c parses the options and
 * the tuning, service.c decides whether a hook runs at all; a command
 * gets what it needs here and says its verdict by its findings.
 */
#ifndef COMMAND_H
#define COMMAND_H

struct settings;

#define CMD_CHECK	0
#define CMD_DEPLOY	1
#define CMD_TLSA	2
#define CMD_PROBE	3

struct command {
	int			 cmd;		/* CMD_* */
	const char		*confdir;	/* Postfix's configuration */
	const char		*root;		/* Gentoo's ROOT */
	const struct settings	*s;
	int			 hook;		/* run by an init system */
	int			 quiet;		/* -q: problems only */
	int			 monitor;	/* --json, --nagios */
};

/* check, deploy, tlsa: 0, or -1 when refused (logged). */
int	deploy_command(const struct command *);
/* probe: 0, or -1 when a handshake failed (logged). */
int	probe_command(const struct command *);

#endif /* COMMAND_H */
