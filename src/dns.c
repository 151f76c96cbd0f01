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
 * The child is this program executed afresh (dns_lookup_main): no key
 * read before is in its memory, and it runs as nobody with no descriptor
 * but its output.
 */

#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>

#include <arpa/nameser.h>
#include <netinet/in.h>
#include <resolv.h>

#include <netdb.h>
#include <errno.h>
#include <grp.h>
#include <pwd.h>
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

#define ANSWER_MAX	65535	/* a DNS message over TCP */
#define GRACE_MS	500	/* for the lookup process to start */
#define MAX_CNAMES	8	/* a longer chain is a loop */

/* What the child sends per name: then len bytes of the answer. */
struct reply_head {
	int	trusted;	/* the AD bit is trusted (RES_TRUSTAD) */
	int	rc;		/* res_nquery's: the answer's length, or -1 */
	int	herr;		/* h_errno */
	int	err;		/* errno */
	int	rcode;		/* from a reply res_nquery refused, or -1 */
	int	len;		/* bytes that follow */
};

static int
write_all(int fd, const void *buf, size_t len)
{
	const char	*p = buf;
	ssize_t		 n;

	while (len > 0) {
		if ((n = write(fd, p, len)) == -1 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		p += n;
		len -= n;
	}
	return 0;
}

/*
 * The child's way out: what it holds freed, since under valgrind a child
 * that ends before the parent's kill is leak-checked like any process.
 */
static void __attribute__((noreturn))
child_exit(struct __res_state *st, unsigned char *ans, int status)
{
	free(ans);
	res_nclose(st);
	_exit(status);
}

/* Is every nameserver resolv.conf names on this host (loopback)? */
static int
all_loopback(const struct __res_state *st)
{
	const struct sockaddr_in6	*s6;
	int				 i;

	for (i = 0; i < st->nscount; i++) {
		s6 = st->_u._ext.nsaddrs[i];
		if (s6 != NULL && s6->sin6_family == AF_INET6) {
			if (!IN6_IS_ADDR_LOOPBACK(&s6->sin6_addr))
				return 0;
		} else if (st->nsaddr_list[i].sin_family != AF_INET ||
		    (ntohl(st->nsaddr_list[i].sin_addr.s_addr) >> 24) != 127)
			return 0;
	}
	return st->nscount > 0;
}

/*
 * The child keeps nothing it does not need: no descriptor but its pipe
 * (as 3), /dev/null for the standard ones, and no privilege (nobody, no
 * groups).  It reads only what the resolver answers.
 */
static int
shed(void)
{
	struct passwd	*pw;
	uid_t		 uid = 65534;
	gid_t		 gid = 65534;
	int		 null, i;

	if ((null = open("/dev/null", O_RDWR)) == -1 ||
	    (null != 0 && dup2(null, 0) == -1) ||
	    (null != 2 && dup2(null, 2) == -1))
		return -1;
	/* Whatever was inherited, however high: only the output stays. */
	if (close_range(3, ~0U, 0) == -1)
		for (i = 3; i < sysconf(_SC_OPEN_MAX); i++)
			(void)close(i);
	if (geteuid() != 0)
		return 0;	/* nothing to drop */
	if ((pw = getpwnam("nobody")) != NULL) {
		uid = pw->pw_uid;
		gid = pw->pw_gid;
	}
	endpwent();
	if (setgroups(0, NULL) == -1 || setresgid(gid, gid, gid) == -1 ||
	    setresuid(uid, uid, uid) == -1)
		return -1;
	return 0;
}

/*
 * The lookup process: "postfix-tls-setup --dns-lookup TIMEOUT QNAME...",
 * each lookup in turn, each answer written to stdout as it comes.
 */
int
dns_lookup_main(int argc, char *argv[])
{
	struct __res_state	 st;
	struct reply_head	 h;
	unsigned char		*ans;
	const char		*errstr;
	int			 i, timeout_s;

	memset(&st, 0, sizeof(st));
	timeout_s = argc > 2 ? strtonum(argv[2], 1, 30, &errstr) : 0;
	if (timeout_s == 0 || (ans = malloc(ANSWER_MAX)) == NULL)
		return 1;
	if (res_ninit(&st) == -1)
		child_exit(&st, ans, 1);
	st.options |= RES_USE_EDNS0 | RES_USE_DNSSEC;
#ifdef RES_TRUSTAD
	if (all_loopback(&st))
		st.options |= RES_TRUSTAD;
	h.trusted = (st.options & RES_TRUSTAD) != 0;
#else
	h.trusted = 1;	/* old glibc: AD always passed on */
#endif
	if (shed() == -1)
		child_exit(&st, ans, 1);
	st.retrans = timeout_s;
	st.retry = 1;
	for (i = 3; i < argc; i++) {
		memset(ans, 0, HFIXEDSZ);
		errno = 0;
		h.rc = res_nquery(&st, argv[i], ns_c_in, ns_t_tlsa, ans,
		    ANSWER_MAX);
		h.herr = h_errno;
		h.err = errno;
		/* A reply glibc refused (NXDOMAIN, SERVFAIL) keeps its header. */
		h.rcode = h.rc < 0 && (ans[2] & 0x80) ? ans[3] & 0x0f : -1;
		h.len = h.rc > 0 ? (h.rc < ANSWER_MAX ? h.rc : ANSWER_MAX) : 0;
		if (write_all(STDOUT_FILENO, &h, sizeof(h)) == -1 ||
		    write_all(STDOUT_FILENO, ans, h.len) == -1)
			child_exit(&st, ans, 1);
	}
	child_exit(&st, ans, 0);
}


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
failed(struct tlsa_set *t, const struct reply_head *h)
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
	struct reply_head	h;

	if (len - *off < sizeof(h))
		return -1;
	memcpy(&h, out + *off, sizeof(h));
	if (h.len < 0 || h.len > ANSWER_MAX || len - *off - sizeof(h) <
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

/* This program, to be run afresh as the lookup process. */
static int
self_path(char path[PATH_MAX])
{
	ssize_t	n = readlink("/proc/self/exe", path, PATH_MAX - 1);

	if (n <= 0)
		return -1;
	path[n] = '\0';
	return 0;
}

/* The lookup process's output, whole (what it wrote before it ended). */
static unsigned char *
output_of(const struct child *c, size_t *len)
{
	struct stat	 st;
	unsigned char	*out;

	if (fstat(c->out, &st) == -1 || st.st_size > (off_t)(ANSWER_MAX +
	    sizeof(struct reply_head)) * 64)
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
	char		 self[PATH_MAX], timeout[16];
	size_t		 i;

	l->timeout_s = timeout_s;
	l->deadline = now_ms() + timeout_s * 1000LL + GRACE_MS;
	snprintf(timeout, sizeof(timeout), "%d", timeout_s);
	argv = xcalloc(n + 4, sizeof(*argv));
	argv[0] = PROG;
	argv[1] = "--dns-lookup";
	argv[2] = timeout;
	for (i = 0; i < n; i++)
		argv[3 + i] = sets[i].qname;
	if (self_path(self) == -1)
		l->err = errno;
	else if ((l->err = child_start(&l->c, self, (char *const *)argv,
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

void
tlsa_set_clear(struct tlsa_set *t)
{
	while (t->n > 0)
		free(t->v[--t->n].data);
	free(t->v);
	t->v = NULL;
}
