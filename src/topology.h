/*
 * topology.c: master.cf as TLS sees it.  Which services run smtpd,
 * postscreen, tlsproxy, smtp or lmtp; each one's values (main.cf's, or
 * its own under its -o settings); for an inet service its port (numbers,
 * known_tcp_ports, /etc/services) and whether it is bound to loopback
 * only.  Port 25 is where DANE senders come.
 */
#ifndef TOPOLOGY_H
#define TOPOLOGY_H

#include <stddef.h>

#include "postconf.h"

#define SVC_SMTPD	1
#define SVC_POSTSCREEN	2
#define SVC_TLSPROXY	3
#define SVC_SMTP	4
#define SVC_LMTP	5

struct service {
	const char	 *name;		/* "submission/inet" */
	int		  kind;		/* SVC_* */
	int		  inet, pass;	/* its type: inet, pass */
	const char	**v;		/* its values [PC_NPARAMS] */
	int		  set[PC_NPARAMS];	/* set by its own -o */
	int		  wrapper;	/* smtpd_tls_wrappermode */
	int		  tls;		/* smtpd: serves TLS at all */
	char		  port[8];	/* inet: the port number, or "" */
	int		  loopback;	/* inet: bound to loopback only */
};

struct topology {
	struct service	*v;
	size_t		 n;
	int		 no_master;	/* no master.cf: main.cf's smtp only */
	struct svcask	*asks;		/* the services' own values */
	size_t		 nasks;
	char		*text, *lines;	/* what names point into */
};

/* Read master.cf's services through postconf; 0, or -1 (logged). */
int	topology_read(struct postfix *, struct topology *);
void	topology_free(struct topology *);
/* Does DANE mail reach this service's chains on port 25? */
int	topology_port25(const struct service *);
/* Does a postscreen listen on port 25 (handing over to smtpd pass)? */
int	topology_postscreen25(const struct topology *);
/* A port name ("smtp", "587", "mx") as a number, by known_tcp_ports. */
int	topology_port(const char *known_tcp_ports, const char *name,
	    char port[8]);

#endif /* TOPOLOGY_H */
