/*
 * The TLSA lookup process (lookup.h), started by dns.c for every lookup
 * of a run: glibc's res_nquery with EDNS0 and the DO bit, as Postfix's
 * smtp client asks.  Its parent kills it at one deadline, since glibc has
 * none overall (its TCP fallback after a truncated answer has none at
 * all); it only writes the raw answers, which the parent parses.
 *
 * A program of its own, linked with libc and libresolv only: no key the
 * helper read is in its memory, and it starts in a tenth of a millisecond
 * more than /bin/true.  The helper executed afresh spent 2.7 ms loading
 * OpenSSL, which the lookup never calls; even libbsd costs 0.4 ms here
 * (bench d3), for the one number below.  It runs as nobody with no
 * descriptor but its output.
 */

#include <sys/types.h>

#include <arpa/nameser.h>
#include <netinet/in.h>
#include <resolv.h>

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <netdb.h>
#include <pwd.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lookup.h"

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
 * The child keeps nothing it does not need: no descriptor but its output
 * (1), /dev/null for the others, and no privilege (nobody, no
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
 * postfix-tls-lookup TIMEOUT QNAME...: each lookup in turn, each answer
 * written to stdout as it comes.
 */
int
main(int argc, char *argv[])
{
	struct __res_state	 st;
	struct lookup_reply	 h;
	unsigned char		*ans;
	char			*end;
	long			 timeout;
	int			 i, timeout_s;

	memset(&st, 0, sizeof(st));
	/* 1 to 30 seconds, as POSTFIX_TLS_DANE_TIMEOUT (no libbsd: strtol). */
	errno = 0;
	timeout = argc > 1 ? strtol(argv[1], &end, 10) : 0;
	if (errno != 0 || timeout < 1 || timeout > 30 || *end != '\0' ||
	    (ans = malloc(LOOKUP_ANSWER_MAX)) == NULL)
		return 1;
	timeout_s = (int)timeout;
	/*
	 * Its parent kills it at TIMEOUT and half a second; orphaned (the
	 * parent killed or out of memory), it ends by itself soon after,
	 * whatever a resolver holding glibc's TCP fallback does.
	 */
	alarm(timeout_s + 1);
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
	for (i = 2; i < argc; i++) {
		memset(ans, 0, HFIXEDSZ);
		errno = 0;
		h.rc = res_nquery(&st, argv[i], ns_c_in, ns_t_tlsa, ans,
		    LOOKUP_ANSWER_MAX);
		h.herr = h_errno;
		h.err = errno;
		/* A reply glibc refused (NXDOMAIN, SERVFAIL) keeps its header. */
		h.rcode = h.rc < 0 && (ans[2] & 0x80) ? ans[3] & 0x0f : -1;
		h.len = h.rc > 0 ? (h.rc < LOOKUP_ANSWER_MAX ? h.rc : LOOKUP_ANSWER_MAX) : 0;
		if (write_all(STDOUT_FILENO, &h, sizeof(h)) == -1 ||
		    write_all(STDOUT_FILENO, ans, h.len) == -1)
			child_exit(&st, ans, 1);
	}
	child_exit(&st, ans, 0);
}

