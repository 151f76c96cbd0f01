/*
 * lookup.c: the TLSA lookup process, a program of its own
 * (postfix-tls-lookup TIMEOUT QNAME...), and what it writes: per name,
 * a struct lookup_reply, then len bytes of the resolver's answer.  dns.c
 * starts it and reads this; nothing else passes between them.
 */
#ifndef LOOKUP_H
#define LOOKUP_H

#define LOOKUP_NAME	"postfix-tls-lookup"
/*
 * Where make install puts it, from the helper's own directory: SBINDIR
 * and LIBEXECDIR under one PREFIX (found at run time, so a helper built
 * for one PREFIX and installed under another still finds it).
 */
#define LOOKUP_INSTALLED	"../libexec/postfix-tls-setup/" LOOKUP_NAME
#define LOOKUP_ANSWER_MAX	65535	/* a DNS message over TCP */

struct lookup_reply {
	int	trusted;	/* the AD bit is trusted (RES_TRUSTAD) */
	int	rc;		/* res_nquery's: the answer's length, or -1 */
	int	herr;		/* h_errno */
	int	err;		/* errno */
	int	rcode;		/* from a reply res_nquery refused, or -1 */
	int	len;		/* bytes that follow */
};

#endif /* LOOKUP_H */
