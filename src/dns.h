/*
 * dns.c: TLSA records through the system resolver, as Postfix's smtp
 * client gets them, every lookup of a run in one child process (no
 * privileges, no descriptors but its pipe) under one deadline.
 */
#ifndef DNS_H
#define DNS_H

#include <stddef.h>

#define DNS_NONE	0	/* NXDOMAIN, or no TLSA record there */
#define DNS_FOUND	1
#define DNS_TROUBLE	2	/* timeout, SERVFAIL, no resolver, damage */

struct tlsa {
	int		 usage, selector, mtype;
	unsigned char	*data;
	size_t		 len;
};

struct tlsa_set {
	char		 qname[300];	/* _25._tcp.NAME */
	char		 owner[1100];	/* where they are: a CNAME's target */
	int		 status;	/* DNS_* */
	int		 validated;	/* the AD bit, from a resolver trusted */
	int		 ad_trusted;	/* would an AD bit be trusted at all? */
	char		 why[400];	/* DNS_TROUBLE: what went wrong */
	struct tlsa	*v;
	size_t		 n;
};

/*
 * The TLSA records of every set's qname, looked up in a process of their
 * own under one deadline: started (the caller works meanwhile), then
 * collected; each set gets its status.
 */
struct lookup;
struct lookup *dns_start(struct tlsa_set *, size_t n, int timeout_s);
void	dns_finish(struct lookup *, struct tlsa_set *, size_t n);
void	dns_abandon(struct lookup *);
int	dns_parse(struct tlsa_set *, const unsigned char *msg, size_t len);
void	tlsa_set_clear(struct tlsa_set *);

#endif /* DNS_H */
