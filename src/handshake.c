/*
 * The post-start handshake: after Postfix started or reloaded, connect to
 * each of its TLS listeners as a verifying client would (STARTTLS, or TLS
 * from the first byte in wrapper mode), at OpenSSL's default client
 * security level, and judge what is served: the handshake works, the
 * chain verifies against the run's trust anchors, and the leaf is one of
 * the certificates on disk for that identity.  What Postfix serves is
 * decided by the running processes and their protocol and cipher
 * settings, which no file check sees.
 *
 * Every probe runs at once (up to MAX_AT_ONCE) on non-blocking sockets
 * under one deadline, so the time added to a start is that of the
 * slowest listener, and a start never hangs.
 */
#include <sys/socket.h>

#include <netdb.h>

#include <errno.h>
#include <stdarg.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sysexits.h>
#include <time.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>

#include "common.h"
#include "finding.h"
#include "handshake.h"
#include "inspect.h"
#include "verify.h"

#define MAX_AT_ONCE	16	/* connections open together */
#define RETRY_MS	100	/* before trying a listener again */
#define SETTLE_MS	1000	/* ... while Postfix may still be settling */
#define BYE_MS		500	/* for smtpd's 221 once the verdict is in */
#define MAX_LINE	1024	/* an SMTP reply line, and more than enough */

enum state { S_IDLE, S_CONNECT, S_GREET, S_EHLO, S_STARTTLS, S_TLS, S_QUIT,
    S_DONE };

/* One connection's progress: probe.c's own. */
struct conn {
	int		 fd;
	SSL		*ssl;
	enum state	 state;
	short		 events;	/* what poll waits for */
	char		 in[MAX_LINE];
	size_t		 inlen;
	int		 code;		/* the reply's code, once complete */
	char		 last[128];	/* the reply's last line, for messages */
	int		 starttls;	/* EHLO offered it */
	long		 retry_at;	/* ms on our clock; 0: none waiting */
	long		 bye_until;	/* the goodbye is waited for until then */
};

static long
now_ms(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000L + ts.tv_nsec / 1000000L;
}

/* The verdict of the latest attempt, with what it found. */
static void
verdict(struct probe *p, int v, const char *fmt, ...)
{
	va_list	ap;

	free(p->said);
	p->said = NULL;
	p->verdict = v;
	va_start(ap, fmt);
	if (vasprintf(&p->said, fmt, ap) == -1)
		p->said = NULL;
	va_end(ap);
}

static void
conn_close(struct conn *c)
{
	if (c->ssl != NULL)
		SSL_free(c->ssl);
	if (c->fd != -1)
		close(c->fd);
	c->ssl = NULL;
	c->fd = -1;
	c->inlen = 0;
	c->events = 0;
}

static int
conn_start(struct probe *p, struct conn *c)
{
	struct addrinfo	 hints, *ai = NULL;
	int		 rc;

	c->state = S_CONNECT;
	c->starttls = 0;
	c->code = 0;
	c->last[0] = '\0';
	c->retry_at = 0;
	memset(&hints, 0, sizeof(hints));
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_NUMERICHOST | AI_NUMERICSERV;
	if ((rc = getaddrinfo(p->host, p->port, &hints, &ai)) != 0) {
		verdict(p, PV_UNREACHABLE, "not an address (%s)",
		    gai_strerror(rc));
		return -1;
	}
	if ((c->fd = socket(ai->ai_family, SOCK_STREAM | SOCK_NONBLOCK |
	    SOCK_CLOEXEC, 0)) == -1)
		verdict(p, PV_UNREACHABLE, "cannot make a socket (%s)",
		    strerror(errno));
	else if (connect(c->fd, ai->ai_addr, ai->ai_addrlen) == 0 ||
	    errno == EINPROGRESS)
		c->events = POLLOUT;
	else
		verdict(p, errno == ECONNREFUSED ? PV_REFUSED : PV_UNREACHABLE,
		    "cannot connect (%s)", strerror(errno));
	freeaddrinfo(ai);
	return c->events == POLLOUT ? 0 : -1;
}

/* A command, whole: the socket buffer of a new connection holds it. */
static int
send_line(struct probe *p, struct conn *c, const char *cmd)
{
	char	line[300];
	int	n;

	n = snprintf(line, sizeof(line), "%s\r\n", cmd);
	if (n < 0 || (size_t)n >= sizeof(line) ||
	    send(c->fd, line, n, MSG_NOSIGNAL) != n) {
		verdict(p, PV_FAILED, "the connection broke while sending %.8s "
		    "(%s)", cmd, strerror(errno));
		return -1;
	}
	c->events = POLLIN;
	return 0;
}

/* A server's line for a message: printable ASCII only, cut to SIZE. */
static void
printable(char *dst, const char *src, size_t size)
{
	size_t	i;

	for (i = 0; i + 1 < size && src[i] != '\0'; i++)
		dst[i] = src[i] >= ' ' && src[i] < 0x7f ? src[i] : '?';
	dst[i] = '\0';
}

/* The next complete line out of c->in, without its CR LF: 1, or 0. */
static int
next_line(struct conn *c, char line[MAX_LINE + 1])
{
	char	*nl;
	size_t	 used, len;

	if ((nl = memchr(c->in, '\n', c->inlen)) == NULL)
		return 0;
	used = nl - c->in + 1;
	len = used - 1;
	if (len > 0 && c->in[len - 1] == '\r')
		len--;
	memcpy(line, c->in, len);
	line[len] = '\0';
	memmove(c->in, c->in + used, c->inlen - used);
	c->inlen -= used;
	return 1;
}

/*
 * Read what came and take each complete line of the reply: 1 when the
 * reply is complete (its code in c->code), 0 for more, -1 on failure
 * (said).
 */
static int
read_reply(struct probe *p, struct conn *c)
{
	char	line[MAX_LINE + 1];
	ssize_t	n;
	size_t	len;

	n = recv(c->fd, c->in + c->inlen, sizeof(c->in) - c->inlen, 0);
	if (n == -1 && (errno == EAGAIN || errno == EINTR))
		return 0;
	if (n <= 0) {
		verdict(p, PV_FAILED, "the server closed the connection (%s)%s%s",
		    n == 0 ? "end of file" : strerror(errno), c->last[0] ?
		    " after: " : "", c->last);
		return -1;
	}
	c->inlen += n;
	while (next_line(c, line)) {
		len = strlen(line);
		printable(c->last, line, sizeof(c->last));
		if (len < 3 || line[0] < '2' || line[0] > '5' ||
		    (len > 3 && line[3] != ' ' && line[3] != '-')) {
			verdict(p, PV_FAILED, "not an SMTP reply: %s", c->last);
			return -1;
		}
		if (len > 4 && !strcasecmp(line + 4, "STARTTLS"))
			c->starttls = 1;
		if (len == 3 || line[3] == ' ') {
			c->code = (line[0] - '0') * 100 + (line[1] - '0') * 10 +
			    (line[2] - '0');
			return 1;
		}
	}
	if (c->inlen == sizeof(c->in)) {
		verdict(p, PV_FAILED, "an SMTP reply line longer than %d bytes",
		    MAX_LINE);
		return -1;
	}
	return 0;
}

/* OpenSSL's reason for the last failure, or the system's. */
static const char *
tls_reason(struct conn *c, int r)
{
	unsigned long	 e = ERR_peek_last_error();
	const char	*reason = e ? ERR_reason_error_string(e) : NULL;

	if (reason != NULL)
		return reason;
	if (SSL_get_error(c->ssl, r) == SSL_ERROR_SYSCALL && errno != 0)
		return strerror(errno);
	return "the server closed the connection";
}

/*
 * What was served, judged: it verifies (for the name asked, a warning
 * as the file check says it), and it is a leaf on disk.
 */
static void
judge(struct probe *p, struct conn *c)
{
	X509		*leaf = SSL_get0_peer_certificate(c->ssl);
	EVP_PKEY	*pk;
	char		 subject[256];
	long		 err = SSL_get_verify_result(c->ssl);
	size_t		 i;
	int		 id;

	if (leaf == NULL) {
		verdict(p, PV_FAILED, "no certificate was served");
		return;
	}
	X509_NAME_oneline(X509_get_subject_name(leaf), subject,
	    sizeof(subject));
	if (err != X509_V_OK) {
		verdict(p, PV_FAILED, "the chain served for %s does not verify: "
		    "%s (%s)", subject, X509_verify_cert_error_string(err),
		    verify_fix(err));
		return;
	}
	for (i = 0; i < p->nleaves; i++)
		if (X509_cmp(leaf, p->leaves[i]) == 0)
			break;
	if (p->nleaves == 0) {
		verdict(p, PV_FAILED, "serves %s, but the files on disk cannot be "
		    "read now, so a reload or restart would serve nothing "
		    "(run postfix-tls-setup check)", subject);
		return;
	}
	if (i == p->nleaves) {
		verdict(p, PV_MISMATCH, "serves %s, which is not the certificate "
		    "on disk: a process that has not picked up the last change "
		    "(run \"postfix reload\", or restart Postfix)", subject);
		return;
	}
	pk = X509_get0_pubkey(leaf);
	id = pk != NULL ? EVP_PKEY_get_base_id(pk) : 0;
	if (p->algo != 0 && (id == EVP_PKEY_RSA_PSS ? EVP_PKEY_RSA : id) !=
	    p->algo) {
		verdict(p, PV_FAILED, "asked for its %s certificate, served %s "
		    "(%s)", key_type_name(p->algo), subject, key_type_name(id));
		return;
	}
	p->name_ok = p->servername == NULL || verify_names(leaf,
	    p->servername);
	verdict(p, PV_OK, "%s, %s, %s, %s-%d, verified",
	    SSL_get_version(c->ssl), SSL_get_cipher_name(c->ssl), subject,
	    key_type_name(id), pk != NULL ? EVP_PKEY_get_bits(pk) : 0);
}

/* Say goodbye, so that smtpd logs a quit, not a lost connection. */
static int
quit(struct conn *c)
{
	ERR_clear_error();
	if (SSL_write(c->ssl, "QUIT\r\n", 6) != 6)
		return 1;
	c->state = S_QUIT;
	c->events = POLLIN;
	c->bye_until = now_ms() + BYE_MS;
	return 0;
}

/*
 * Until smtpd closes the connection after its 221: 1 then.  The verdict
 * is in; a server that sends more than a greeting and a goodbye (16
 * reads) is left at once.
 */
static int
quit_step(struct conn *c)
{
	int	r = 0, i;

	ERR_clear_error();
	for (i = 0; i < 16; i++)
		if ((r = SSL_read(c->ssl, c->in, sizeof(c->in))) <= 0)
			break;
	if (i < 16 && SSL_get_error(c->ssl, r) == SSL_ERROR_WANT_READ)
		return 0;
	return 1;
}

static int
tls_step(struct probe *p, struct conn *c)
{
	int	r;

	ERR_clear_error();
	errno = 0;
	if ((r = SSL_do_handshake(c->ssl)) == 1) {
		judge(p, c);
		return quit(c);
	}
	switch (SSL_get_error(c->ssl, r)) {
	case SSL_ERROR_WANT_READ:
		c->events = POLLIN;
		return 0;
	case SSL_ERROR_WANT_WRITE:
		c->events = POLLOUT;
		return 0;
	}
	verdict(p, PV_FAILED, "the TLS handshake%s%s failed (%s)", p->algo ?
	    " asking for " : "", p->algo ? key_type_name(p->algo) : "",
	    tls_reason(c, r));
	return 1;
}

static int
tls_start(struct probe *p, struct conn *c, SSL_CTX *ctx)
{
	ERR_clear_error();
	if ((c->ssl = SSL_new(ctx)) == NULL || !SSL_set_fd(c->ssl, c->fd) ||
	    (p->sni && !SSL_set_tlsext_host_name(c->ssl, p->servername)) ||
	    (p->sigalgs != NULL && !SSL_set1_sigalgs_list(c->ssl,
	    p->sigalgs))) {
		verdict(p, PV_FAILED, "cannot set up TLS (%s)",
		    ERR_reason_error_string(ERR_peek_last_error()));
		return 1;
	}
	SSL_set_connect_state(c->ssl);
	c->state = S_TLS;
	return tls_step(p, c);
}

/* The connection is made, or not. */
static int
connected(struct probe *p, struct conn *c, SSL_CTX *ctx)
{
	socklen_t	len = sizeof(int);
	int		err = 0;

	if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &len) == -1)
		err = errno;
	if (err != 0) {
		verdict(p, err == ECONNREFUSED ? PV_REFUSED : PV_UNREACHABLE,
		    "cannot connect (%s)", strerror(err));
		return 1;
	}
	if (p->wrapper)
		return tls_start(p, c, ctx);
	c->state = S_GREET;
	c->events = POLLIN;
	return 0;
}

/* One step of the SMTP dialogue up to TLS: 1 when the probe is over. */
static int
smtp_step(struct probe *p, struct conn *c, SSL_CTX *ctx)
{
	char	cmd[300];
	int	r;

	if ((r = read_reply(p, c)) != 1)
		return r == -1;
	switch (c->state) {
	case S_GREET:
		if (c->code != 220) {
			verdict(p, PV_FAILED, "greeted with: %s", c->last);
			return 1;
		}
		snprintf(cmd, sizeof(cmd), "EHLO %s", p->ehlo);
		c->state = S_EHLO;
		return send_line(p, c, cmd) == -1;
	case S_EHLO:
		if (c->code != 250) {
			verdict(p, PV_FAILED, "answered EHLO with: %s", c->last);
			return 1;
		}
		if (!c->starttls) {
			verdict(p, PV_FAILED, "does not offer STARTTLS, so every "
			    "sender sends in cleartext (is "
			    "smtpd_tls_security_level none for this service?)");
			return 1;
		}
		c->state = S_STARTTLS;
		return send_line(p, c, "STARTTLS") == -1;
	default:
		if (c->code != 220) {
			/* The headline fault: the files did not load. */
			verdict(p, PV_FAILED, "answered STARTTLS with: %s (smtpd "
			    "could not load its certificate or key: see the "
			    "Postfix log)", c->last);
			return 1;
		}
		return tls_start(p, c, ctx);
	}
}

static int
step(struct probe *p, struct conn *c, SSL_CTX *ctx)
{
	switch (c->state) {
	case S_CONNECT:
		return connected(p, c, ctx);
	case S_TLS:
		return tls_step(p, c);
	case S_QUIT:
		return quit_step(c);
	default:
		return smtp_step(p, c, ctx);
	}
}

/*
 * Worth another try, in the first SETTLE_MS: nothing listened yet (a
 * service a reload just added), or an old smtpd answered (it exits once
 * master has seen the reload).  Not longer: a process that keeps
 * serving an old certificate is what the probe is there to find.
 */
static int
retry(const struct probe *p, long now, long start, long deadline)
{
	if (now + RETRY_MS >= deadline || now - start >= SETTLE_MS)
		return 0;
	return p->verdict == PV_MISMATCH || p->verdict == PV_REFUSED;
}

/*
 * The slots still open at the deadline: said as timed out, unless an
 * earlier attempt of theirs said more (refused, a stale leaf), which a
 * retry cut short by the deadline (the helper slowed down by valgrind)
 * must not hide.
 */
static void
time_out(struct probe *p, size_t n, struct conn *c, size_t next,
    int timeout_ms)
{
	static const char *const what[] = {
		[S_CONNECT] = "connecting", [S_GREET] = "waiting for the greeting",
		[S_EHLO] = "after EHLO", [S_STARTTLS] = "after STARTTLS",
		[S_TLS] = "in the TLS handshake",
	};
	size_t	i;

	for (i = 0; i < n; i++) {
		if (i >= next)
			p[i].verdict = PV_NOT_TRIED;
		else if (c[i].state > S_IDLE && c[i].state < S_QUIT &&
		    c[i].fd != -1 && p[i].verdict == PV_NOT_TRIED)
			verdict(&p[i], PV_TIMEOUT, "no complete answer %s "
			    "within %d seconds (POSTFIX_TLS_PROBE_TIMEOUT)",
			    what[c[i].state], timeout_ms / 1000);
		conn_close(&c[i]);
	}
}

/* Take every open slot that is ready a step further; 1 when any ended. */
static void
turn(struct probe *p, struct conn *c, size_t *slot, size_t *nslots,
    const struct pollfd *pfd, SSL_CTX *ctx, long start, long deadline)
{
	size_t	k, i, kept = 0;
	long	now = now_ms();
	int	over;

	for (k = 0; k < *nslots; k++) {
		i = slot[k];
		over = 0;
		if (c[i].fd == -1 && now >= c[i].retry_at)
			over = conn_start(&p[i], &c[i]) == -1;
		else if (c[i].fd != -1 && pfd[k].revents != 0)
			over = step(&p[i], &c[i], ctx);
		else if (c[i].state == S_QUIT && now >= c[i].bye_until)
			over = 1;	/* the verdict is in: no more waiting */
		if (over) {
			conn_close(&c[i]);
			if (retry(&p[i], now, start, deadline))
				c[i].retry_at = now + RETRY_MS;
			else
				c[i].state = S_DONE;
		}
		if (c[i].state != S_DONE)
			slot[kept++] = i;
	}
	*nslots = kept;
}

/* A run of probes: their connections, open slots and deadline. */
struct prober {
	struct conn	*c;
	size_t		 nc;		/* conns allocated */
	size_t		 slot[MAX_AT_ONCE], nslots, next;
	long		 start, deadline;
	int		 timeout_ms;
};

/* Open slots filled from the probes not started yet. */
static int
fill(struct prober *pr, struct probe *p, size_t n, long now)
{
	struct conn	*c;
	size_t		 i;

	if (n > pr->nc) {
		if ((c = reallocarray(pr->c, n, sizeof(*c))) == NULL) {
			problem(EX_OSERR, NULL, "out of memory");
			return -1;
		}
		memset(c + pr->nc, 0, (n - pr->nc) * sizeof(*c));
		for (i = pr->nc; i < n; i++)
			c[i].fd = -1;
		pr->c = c;
		pr->nc = n;
	}
	for (c = pr->c; pr->nslots < MAX_AT_ONCE && pr->next < n; pr->next++) {
		i = pr->next;
		if (conn_start(&p[i], &c[i]) == 0)
			pr->slot[pr->nslots++] = i;
		else if (retry(&p[i], now, pr->start, pr->deadline)) {
			c[i].retry_at = now + RETRY_MS;
			pr->slot[pr->nslots++] = i;
		} else
			c[i].state = S_DONE;
	}
	return 0;
}

/*
 * The first connections made at once, before the caller's own work (the
 * leaves read, the trust store): master spawns each smtpd meanwhile.
 * The deadline runs from here.  NULL when out of memory (said).
 */
struct prober *
probe_start(struct probe *p, size_t n, int timeout_ms)
{
	struct prober	*pr;

	if ((pr = calloc(1, sizeof(*pr))) == NULL) {
		problem(EX_OSERR, NULL, "out of memory");
		return NULL;
	}
	pr->start = now_ms();
	pr->deadline = pr->start + timeout_ms;
	pr->timeout_ms = timeout_ms;
	/*
	 * OpenSSL writes to the socket with write(): a server that closed
	 * the connection (as smtpd does after a failed handshake) must not
	 * kill us with SIGPIPE.
	 */
	signal(SIGPIPE, SIG_IGN);
	if (fill(pr, p, n, pr->start) == -1) {
		free(pr);
		return NULL;
	}
	return pr;
}

/* How long poll may sleep: to the deadline, a retry or a goodbye's end. */
static long
poll_wait(struct prober *pr, struct pollfd *pfd, long now)
{
	struct conn	*c;
	long		 wait = pr->deadline - now;
	size_t		 k;

	for (k = 0; k < pr->nslots; k++) {
		c = &pr->c[pr->slot[k]];
		pfd[k].fd = c->fd;
		pfd[k].events = c->events;
		pfd[k].revents = 0;
		if (c->fd == -1 && c->retry_at - now < wait)
			wait = c->retry_at > now ? c->retry_at - now : 0;
		if (c->state == S_QUIT && c->bye_until - now < wait)
			wait = c->bye_until > now ? c->bye_until - now : 0;
	}
	return wait;
}

/*
 * Every probe of P (the ones probe_start began, and any added since) to
 * its verdict or the deadline; PR is freed.
 */
int
probe_run(struct prober *pr, struct probe *p, size_t n, X509_STORE *store)
{
	struct pollfd	 pfd[MAX_AT_ONCE];
	SSL_CTX		*ctx;
	long		 now;
	int		 rc = -1;

	if ((ctx = SSL_CTX_new(TLS_client_method())) == NULL) {
		crypto_problem(EX_SOFTWARE, NULL, "cannot set up TLS");
		goto out;
	}
	if (store != NULL)
		SSL_CTX_set1_cert_store(ctx, store);
	SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, NULL);
	while ((now = now_ms()) < pr->deadline) {
		if (fill(pr, p, n, now) == -1)
			goto out;
		if (pr->nslots == 0)
			break;
		if (poll(pfd, pr->nslots, (int)poll_wait(pr, pfd, now)) == -1 &&
		    errno != EINTR) {
			problem(EX_OSERR, NULL, "poll: %s", strerror(errno));
			break;
		}
		turn(p, pr->c, pr->slot, &pr->nslots, pfd, ctx, pr->start,
		    pr->deadline);
	}
	rc = 0;
out:
	if (pr->nc >= n)
		time_out(p, n, pr->c, pr->next, pr->timeout_ms);
	free(pr->c);
	free(pr);
	SSL_CTX_free(ctx);
	return rc;
}
