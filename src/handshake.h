/*
 * handshake.c: handshakes with the running Postfix's TLS listeners, each as a
 * verifying client would, all at once under one deadline.
 */
#ifndef HANDSHAKE_H
#define HANDSHAKE_H

#include <stddef.h>

#include <openssl/x509.h>

#define PV_NOT_TRIED	0
#define PV_OK		1
#define PV_FAILED	2	/* served, but not what a verifying peer takes */
#define PV_MISMATCH	3	/* a leaf that is not on disk */
#define PV_REFUSED	4	/* nothing listens there */
#define PV_UNREACHABLE	5
#define PV_TIMEOUT	6

struct probe {
	const char		*label;		/* for messages */
	char			 host[64];	/* a numeric address */
	char			 port[8];	/* a number */
	char			 where[80];	/* "127.0.0.1:587", for messages */
	int			 wrapper;	/* TLS from the first byte */
	const char		*ehlo;		/* our name in EHLO */
	const char		*servername;	/* the name checked */
	int			 sni;		/* ... and sent as SNI */
	const char		*sigalgs;	/* to ask for one algorithm */
	int			 algo;		/* ... that one, or 0 */
	X509			**leaves;	/* on disk: one of them is right */
	size_t			 nleaves;
	int			 verdict;	/* PV_* */
	char			*said;		/* what was found */
	int			 name_ok;	/* the leaf names servername */
	size_t			 ident, listener;	/* the caller's */
};

struct prober;
struct prober *probe_start(struct probe *, size_t n, int timeout_ms);
int	probe_run(struct prober *, struct probe *, size_t n, X509_STORE *);

#endif /* HANDSHAKE_H */
