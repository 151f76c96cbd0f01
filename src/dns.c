/*
 * TLSA records through the system resolver, as Postfix's smtp client
 * gets them: glibc's res_nquery with EDNS0 and the DO bit.  The
 * resolver's AD bit (the answer was DNSSEC-validated) counts only from a
 * resolver on this host (every nameserver on loopback) or when
 * resolv.conf says "options trust-ad": anyone on the path to a remote
 * resolver can set it (glibc clears it otherwise, as it does for
 * Postfix).  No new library: libresolv is glibc's own.
 *
 * A boot must never hang on DNS, and glibc has no overall timeout (its
 * TCP fallback after a truncated answer has none at all).  So every
 * lookup of a run happens in one child process, which the parent kills
 * at one deadline (child.c); the child only writes the raw answers to its
 * output, and the parent parses them (dns_parse, which takes any bytes).
 * The child is a program of its own (lookup.c): no key read before is
 * in its memory, and it runs as nobody with no descriptor but its output.
 */

#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>

#include <arpa/nameser.h>
#include <netinet/in.h>
#include <resolv.h>

#include <netdb.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <time.h>
#include <unistd.h>

#include "child.h"
#include "common.h"
#include "dns.h"
#include "finding.h"
#include "lookup.h"

#define GRACE_MS	500	/* for the lookup process to start */
#define MAX_CNAMES	8	/* a longer chain is a loop */


static const char *
rcode_name(int rcode)
{
	switch (rcode) {
	case ns_r_formerr:
		return "FORMERR";
	case ns_r_servfail:
		return "SERVFAIL (the resolver could not validate or reach "
		    "the zone)";
	case ns_r_notimpl:
		return "NOTIMP";
	case ns_r_refused:
		return "REFUSED (the resolver does not answer us)";
	default:
		return "an error code";
	}
}

/* Why a lookup failed, from what res_nquery left. */
static void
failed(struct tlsa_set *t, const struct lookup_reply *h)
{
	t->status = DNS_TROUBLE;
	if (h->herr == HOST_NOT_FOUND || h->herr == NO_DATA) {
		t->status = DNS_NONE;	/* NXDOMAIN, or no TLSA there */
		return;
	}
	if (h->rcode > 0)
		snprintf(t->why, sizeof(t->why), "the resolver answered %s",
		    rcode_name(h->rcode));
	else if (h->err == ETIMEDOUT || h->err == 0)
		snprintf(t->why, sizeof(t->why), "no answer from the resolver");
	else
		snprintf(t->why, sizeof(t->why), "the resolver cannot be "
		    "reached: %s", strerror(h->err));
}

/*
 * One reply for T->qname: its TLSA records, following CNAMEs within it
 * from the name asked for (RFC 7672 2.2.3).  Any bytes: a damaged reply
 * is DNS trouble, never a crash.
 */
int
dns_parse(struct tlsa_set *t, const unsigned char *msg, size_t len)
{
	ns_msg		 m;
	ns_rr		 rr;
	struct tlsa	*v;
	char		 target[NS_MAXDNAME];
	int		 i, hops, count, moved;

	strlcpy(t->owner, t->qname, sizeof(t->owner));
	if (ns_initparse(msg, len, &m) == -1)
		goto damaged;
	t->validated = ns_msg_getflag(m, ns_f_ad);
	count = ns_msg_count(m, ns_s_an);
	/* Where the chain of CNAMEs from qname ends. */
	for (hops = 0, moved = 1; moved; hops++) {
		moved = 0;
		for (i = 0; i < count; i++) {
			if (ns_parserr(&m, ns_s_an, i, &rr) == -1)
				goto damaged;
			if (ns_rr_type(rr) != ns_t_cname ||
			    strcasecmp(ns_rr_name(rr), t->owner))
				continue;
			if (hops == MAX_CNAMES) {
				snprintf(t->why, sizeof(t->why), "a loop of "
				    "CNAMEs from %s", t->qname);
				goto trouble;
			}
			if (ns_name_uncompress(ns_msg_base(m), ns_msg_end(m),
			    ns_rr_rdata(rr), target, sizeof(target)) == -1)
				goto damaged;
			strlcpy(t->owner, target, sizeof(t->owner));
			moved = 1;
			break;
		}
	}
	for (i = 0; i < count; i++) {
		if (ns_parserr(&m, ns_s_an, i, &rr) == -1)
			goto damaged;
		if (ns_rr_type(rr) != ns_t_tlsa || ns_rr_class(rr) != ns_c_in ||
		    strcasecmp(ns_rr_name(rr), t->owner))
			continue;
		/* No data: a record nobody can match, not a damaged answer. */
		if (ns_rr_rdlen(rr) < 4)
			continue;
		t->v = v = xreallocarray(t->v, t->n + 1, sizeof(*v));
		v += t->n;
		v->usage = ns_rr_rdata(rr)[0];
		v->selector = ns_rr_rdata(rr)[1];
		v->mtype = ns_rr_rdata(rr)[2];
		v->len = ns_rr_rdlen(rr) - 3;
		v->data = xmalloc(v->len);
		memcpy(v->data, ns_rr_rdata(rr) + 3, v->len);
		t->n++;
	}
	t->status = t->n > 0 ? DNS_FOUND : DNS_NONE;
	return 0;
damaged:
	snprintf(t->why, sizeof(t->why), "the resolver's answer is damaged");
trouble:
	tlsa_set_clear(t);
	t->status = DNS_TROUBLE;
	return 0;
}

/* What came back for one name, at *off in OUT (LEN bytes): -1 cut short. */
static int
take_answer(const unsigned char *out, size_t len, size_t *off,
    struct tlsa_set *t)
{
	struct lookup_reply	h;

	if (len - *off < sizeof(h))
		return -1;
	memcpy(&h, out + *off, sizeof(h));
	if (h.len < 0 || h.len > LOOKUP_ANSWER_MAX || len - *off - sizeof(h) <
	    (size_t)h.len)
		return -1;
	*off += sizeof(h) + h.len;
	t->ad_trusted = h.trusted;
	if (h.rc < 0) {
		failed(t, &h);
		return 0;
	}
	return dns_parse(t, out + *off - h.len, h.len);
}

/*
 * The lookup program: beside this one (the build tree), else where make
 * install puts it (lookup.h); -1 when neither is there.
 */
static int
lookup_path(char path[PATH_MAX])
{
	const char	*where[] = { LOOKUP_NAME, LOOKUP_INSTALLED };
	ssize_t		 n = readlink("/proc/self/exe", path, PATH_MAX - 1);
	char		*dir;
	size_t		 i, room;

	if (n <= 0 || n >= PATH_MAX - 1)	/* none, or cut short */
		return -1;
	path[n] = '\0';
	if ((dir = strrchr(path, '/')) == NULL)
		return -1;
	room = PATH_MAX - (++dir - path);
	for (i = 0; i < sizeof(where) / sizeof(where[0]); i++)
		if (strlcpy(dir, where[i], room) < room &&
		    access(path, X_OK) == 0)
			return 0;
	errno = ENOENT;
	return -1;
}

/* The lookup process's output, whole (what it wrote before it ended). */
static unsigned char *
output_of(const struct child *c, size_t *len)
{
	struct stat	 st;
	unsigned char	*out;

	if (fstat(c->out, &st) == -1 || st.st_size > (off_t)(LOOKUP_ANSWER_MAX +
	    sizeof(struct lookup_reply)) * 64)
		return NULL;
	out = xmalloc(st.st_size + 1);
	if (pread(c->out, out, st.st_size, 0) != st.st_size) {
		free(out);
		return NULL;
	}
	*len = st.st_size;
	return out;
}

/* A lookup under way (dns_start), until dns_finish. */
struct lookup {
	struct child	 c;
	long long	 deadline;
	int		 timeout_s;
	int		 err;		/* it could not start: why */
};

/*
 * Start looking up every set's qname, in the lookup process; the caller
 * does its own work meanwhile and then collects the answers (dns_finish).
 */
struct lookup *
dns_start(struct tlsa_set *sets, size_t n, int timeout_s)
{
	static char	*const none[] = { NULL };	/* as master gives smtp */
	struct lookup	*l = xcalloc(1, sizeof(*l));
	const char	**argv;
	char		 prog[PATH_MAX], timeout[16];
	size_t		 i;

	l->timeout_s = timeout_s;
	l->deadline = now_ms() + timeout_s * 1000LL + GRACE_MS;
	snprintf(timeout, sizeof(timeout), "%d", timeout_s);
	argv = xcalloc(n + 3, sizeof(*argv));
	argv[0] = LOOKUP_NAME;
	argv[1] = timeout;
	for (i = 0; i < n; i++)
		argv[2 + i] = sets[i].qname;
	if (lookup_path(prog) == -1)
		l->err = errno;
	else if ((l->err = child_start(&l->c, prog, (char *const *)argv,
	    none, 0, -1, 077)) < 0)
		l->err = -l->err;
	free(argv);
	return l;
}

/*
 * The answers, by the deadline (TIMEOUT_S seconds for all of them, plus
 * the lookup process's start): whatever has not come back by then is DNS
 * trouble.  Each set gets its status; L is freed.
 */
void
dns_finish(struct lookup *l, struct tlsa_set *sets, size_t n)
{
	unsigned char	*out = NULL;
	size_t		 i = 0, len = 0, off = 0;
	int		 status = 0, killed = 0;

	if (l->err != 0) {
		for (; i < n; i++)
			snprintf(sets[i].why, sizeof(sets[i].why), "cannot "
			    "start the lookup: %s", strerror(l->err));
		i = 0;
	} else {
		killed = child_wait(&l->c, l->deadline, &status) == -1;
		if ((out = output_of(&l->c, &len)) != NULL)
			for (; i < n; i++)
				if (take_answer(out, len, &off, &sets[i]) == -1)
					break;
		child_close(&l->c);
	}
	/* What did not come back: by the deadline, or at all. */
	for (; i < n; i++) {
		sets[i].status = DNS_TROUBLE;
		if (sets[i].why[0] != '\0')
			continue;
		if (killed)
			snprintf(sets[i].why, sizeof(sets[i].why), "no answer "
			    "within POSTFIX_TLS_DANE_TIMEOUT=%d s", l->timeout_s);
		else
			snprintf(sets[i].why, sizeof(sets[i].why), "the lookup "
			    "process ended (%s %d) without a whole answer",
			    WIFSIGNALED(status) ? "signal" : "status",
			    WIFSIGNALED(status) ? WTERMSIG(status) :
			    WEXITSTATUS(status));
	}
	free(out);
	free(l);
}

/* A lookup no longer wanted: the process killed now, L freed. */
void
dns_abandon(struct lookup *l)
{
	if (l->err == 0)
		child_close(&l->c);	/* kills it */
	free(l);
}

void
tlsa_set_clear(struct tlsa_set *t)
{
	while (t->n > 0)
		free(t->v[--t->n].data);
	free(t->v);
	t->v = NULL;
}
