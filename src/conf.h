/*
 * conf.c: the tuning file, /etc/conf.d/postfix-tls-setup, read without a
 * shell, and the command line's settings merged over it.
 */
#ifndef CONF_H
#define CONF_H

#include <stddef.h>

#include "common.h"

#define PROBE_OFF	0	/* no post-start handshake */
#define PROBE_WARN	1	/* a failed post-start handshake: eerror only */
#define PROBE_STOP	2	/* ... and Postfix is stopped again */
#define DANE_OFF	0	/* POSTFIX_TLS_DANE: no lookup */
#define DANE_AUTO	1	/* enforce validated records, warn otherwise */
#define DANE_ENFORCE	2	/* a mismatch refuses, validated or not */
#define DANE_WARN	3	/* a mismatch is a warning */

/* One bundle to deploy: set 0 is POSTFIX_TLS_CERT..., set N-1 _N. */
struct setconf {
	char	*cert;		/* POSTFIX_TLS_CERT */
	char	*key;		/* POSTFIX_TLS_KEY */
	char	*chain[MAX_INPUTS];	/* POSTFIX_TLS_CHAIN */
	size_t	 nchain;
	char	*bundle;	/* POSTFIX_TLS_BUNDLE */
};

/* Every setting; -1 is "unset" until conf_defaults. */
struct settings {
	struct setconf set[MAX_SETS];
	char	*cafile;	/* POSTFIX_TLS_CAFILE */
	char	*capath;	/* POSTFIX_TLS_CAPATH */
	char	*cache;		/* POSTFIX_TLS_CACHE */
	int	 include_root;	/* POSTFIX_TLS_INCLUDE_ROOT */
	int	 warn_days;	/* POSTFIX_TLS_WARN_DAYS */
	int	 crit_days;	/* POSTFIX_TLS_CRIT_DAYS */
	int	 warn_life[2];	/* POSTFIX_TLS_WARN_LIFETIME: num, den */
	int	 crit_life[2];	/* POSTFIX_TLS_CRIT_LIFETIME: num, den */
	int	 probe;		/* POSTFIX_TLS_PROBE: PROBE_* */
	int	 probe_timeout;	/* POSTFIX_TLS_PROBE_TIMEOUT, seconds */
	int	 dane;		/* POSTFIX_TLS_DANE: DANE_* */
	int	 dane_dns_refuse;	/* POSTFIX_TLS_DANE_DNS=refuse */
	int	 dane_timeout;	/* POSTFIX_TLS_DANE_TIMEOUT, seconds */
	char	*dane_names;	/* POSTFIX_TLS_DANE_NAMES */
	int	 hook;		/* POSTFIX_TLS_HOOK */
	char	*hook_from;	/* where it was set, for the message */
	int	 print;		/* --print-conf: print each NAME=value read */
};

/* Every value unset. */
void	conf_init(struct settings *);
int	conf_read(const char *path, int required, struct settings *);
int	conf_parse(struct settings *, char *text, size_t len, const char *path);
int	conf_set(struct settings *, const char *name, const char *value,
	    const char *where);
int	conf_add_chain(struct setconf *, const char *list, const char *where);
/* The command line's settings (set 1 only) over S's; then the defaults. */
void	conf_merge(struct settings *s, struct settings *cli);
void	conf_free(struct settings *);

#endif /* CONF_H */
