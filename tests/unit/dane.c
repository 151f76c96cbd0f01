/*
 * src/dane.c and src/dns.c: the DANE guard's policy, without a network.
 * The guard looks its records up in a lookup process, the program
 * postfix-tls-lookup beside this one (dns_start): here that is a link to
 * this very binary (the Makefile makes it), whose main() answers with what
 * the test left on descriptor FAKE_FD, the bytes the real lookup process
 * writes (a lookup_reply, then the resolver's reply, per name), and writes
 * the names it was asked on LOG_FD.  So every verdict of the guard is reachable: which records
 * senders use (usage 2 or 3, selector 0 or 1, matching type 0, 1 or 2),
 * enforce, warn and auto on validated and unvalidated answers, DNS
 * trouble, and the rollover warning.
 *
 * Which AD bit counts (every nameserver on loopback, or options
 * trust-ad) is decided inside the real lookup process: those cases run
 * it (LOOKUP_REAL, the program built) in namespaces of its own, with a resolv.conf of
 * the test's bound over /etc/resolv.conf and no network, as root.
 */
#include <sys/mount.h>
#include <sys/wait.h>

#include <arpa/nameser.h>
#include <netdb.h>

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/x509.h>

#include "../../src/chain.h"
#include "../../src/conf.h"
#include "../../src/dane.h"
#include "../../src/dns.h"
#include "../../src/lookup.h"
#include "../../src/postconf.h"
#include "harness/unit.h"

#define FAKE_FD		63	/* what the lookup process is to write */
#define LOG_FD		62	/* where it says what it was asked */
#define MX		"mail.example.org"
#define QNAME		"_25._tcp." MX

static struct pki	root, inter, leaf, next, ed;

static void
pki_up(void)
{
	if (root.cert != NULL)
		return;
	root = pki_make("root", "ec", PKI_CA, NULL);
	inter = pki_make("inter", "ec", PKI_CA, &root);
	leaf = pki_make(MX, "ec", PKI_SERVER, &inter);
	next = pki_make(MX, "ec", PKI_SERVER, &inter);	/* the next key */
	ed = pki_make(MX, "ed25519", PKI_SERVER, &inter);
}

static void
pki_down(void)
{
	pki_free(&root);
	pki_free(&inter);
	pki_free(&leaf);
	pki_free(&next);
	pki_free(&ed);
}

/* ---- DNS messages, as a resolver sends them ---- */

static void
u16(struct buf *b, unsigned v)
{
	unsigned char	x[2] = { v >> 8, v & 0xff };

	buf_add(b, x, 2);
}

static void
dname(struct buf *b, const char *n)
{
	const char	*dot;
	unsigned char	 len;

	for (; *n != '\0'; n = *dot ? dot + 1 : dot) {
		if ((dot = strchr(n, '.')) == NULL)
			dot = n + strlen(n);
		len = dot - n;
		buf_add(b, &len, 1);
		buf_add(b, n, len);
	}
	buf_add(b, "", 1);
}

/* One TLSA record's data: usage, selector, matching type, then DATA. */
struct rec {
	int		 usage, selector, mtype;
	unsigned char	*data;
	size_t		 len;
};

/* The record U S M for certificate X, as its zone would publish it. */
static struct rec
rec_of(int usage, int selector, int mtype, X509 *x)
{
	struct rec	 r = { usage, selector, mtype, NULL, 0 };
	unsigned char	*der = NULL, md[EVP_MAX_MD_SIZE];
	unsigned int	 mdlen = 0;
	int		 n;

	n = selector == 0 ? i2d_X509(x, &der) :
	    i2d_X509_PUBKEY(X509_get_X509_PUBKEY(x), &der);
	if (n <= 0)
		abort();
	if (mtype == 0) {
		r.data = malloc(n);
		memcpy(r.data, der, n);
		r.len = n;
	} else {
		EVP_Digest(der, n, md, &mdlen, mtype == 1 ? EVP_sha256() :
		    EVP_sha512(), NULL);
		r.data = malloc(mdlen);
		memcpy(r.data, md, mdlen);
		r.len = mdlen;
	}
	OPENSSL_free(der);
	return r;
}

/* A record of the given fields and LEN bytes of 0xab. */
static struct rec
rec_junk(int usage, int selector, int mtype, size_t len)
{
	struct rec	r = { usage, selector, mtype, malloc(len ? len : 1),
			    len };

	memset(r.data, 0xab, len);
	return r;
}

/* "3 1 1 HEX" as the messages write a record, for said(). */
static char *
rec_text(const struct rec *r)
{
	char	*s = malloc(16 + 2 * r->len);
	size_t	 i;
	int	 n = sprintf(s, "%d %d %d ", r->usage, r->selector, r->mtype);

	for (i = 0; i < r->len; i++)
		n += sprintf(s + n, "%02x", r->data[i]);
	return s;
}

/*
 * A resolver's reply for QNAME: flags (AD or not), then N records at
 * OWNER (the CNAME from QNAME to OWNER first when they differ).
 */
static void
reply(struct buf *b, const char *qname, const char *owner, int ad,
    const struct rec *r, size_t n)
{
	struct buf	rd = { 0 };
	size_t		i;
	int		cname = strcmp(qname, owner) != 0;

	u16(b, 0x1234);
	u16(b, 0x8000 | 0x0100 | 0x0080 | (ad ? 0x0020 : 0));
	u16(b, 1);
	u16(b, n + cname);
	u16(b, 0);
	u16(b, 0);
	dname(b, qname);
	u16(b, ns_t_tlsa);
	u16(b, ns_c_in);
	if (cname) {
		dname(&rd, owner);
		dname(b, qname);
		u16(b, ns_t_cname);
		u16(b, ns_c_in);
		u16(b, 0);
		u16(b, 300);
		u16(b, rd.len);
		buf_add(b, rd.p, rd.len);
		buf_free(&rd);
	}
	for (i = 0; i < n; i++) {
		unsigned char	f[3] = { r[i].usage, r[i].selector,
				    r[i].mtype };

		dname(b, owner);
		u16(b, ns_t_tlsa);
		u16(b, ns_c_in);
		u16(b, 0);
		u16(b, 300);
		u16(b, 3 + r[i].len);
		buf_add(b, f, 3);
		buf_add(b, r[i].data, r[i].len);
	}
}

/* ---- what the lookup process writes ---- */

/* QNAME's answer: validated (AD) or not, trusted or not, records. */
static void
answer_for(struct buf *out, const char *qname, int trusted, int ad,
    const struct rec *r, size_t n)
{
	struct buf		msg = { 0 };
	struct lookup_reply	h = { trusted, 0, 0, 0, -1, 0 };

	reply(&msg, qname, qname, ad, r, n);
	h.rc = h.len = msg.len;
	buf_add(out, &h, sizeof(h));
	buf_add(out, msg.p, msg.len);
	buf_free(&msg);
}

static void
answer(struct buf *out, int trusted, int ad, const struct rec *r, size_t n)
{
	answer_for(out, QNAME, trusted, ad, r, n);
}

/* One name's failed lookup, as res_nquery leaves it. */
static void
failure(struct buf *out, int herr, int err, int rcode)
{
	struct lookup_reply	h = { 0, -1, herr, err, rcode, 0 };

	buf_add(out, &h, sizeof(h));
}

/* OUT is what the lookup process will write; its log is emptied. */
static FILE	*fake, *fakelog;

static void
fake_up(const struct buf *out)
{
	if (fake == NULL) {
		fake = tmpfile();
		fakelog = tmpfile();
		if (fake == NULL || fakelog == NULL ||
		    dup2(fileno(fake), FAKE_FD) == -1 ||
		    dup2(fileno(fakelog), LOG_FD) == -1)
			abort();
	}
	/* The log's offset is the lookup process's too: back to 0. */
	if (ftruncate(FAKE_FD, 0) == -1 || ftruncate(LOG_FD, 0) == -1 ||
	    lseek(LOG_FD, 0, SEEK_SET) == -1 ||
	    pwrite(FAKE_FD, out->p, out->len, 0) != (ssize_t)out->len)
		abort();
}

/* What the lookup process was asked: its arguments, one a line. */
static char *
fake_asked(void)
{
	static char	text[4096];
	ssize_t		n = pread(LOG_FD, text, sizeof(text) - 1, 0);

	text[n > 0 ? n : 0] = '\0';
	return text;
}

/*
 * The lookup process of this test binary: what FAKE_FD holds, or "SLEEP"
 * then what to write first, or "REAL": the real lookup.
 */
static int
fake_lookup(int argc, char *argv[])
{
	static char	buf[1 << 20];
	ssize_t		n;
	int		i;

	for (i = 1; i < argc; i++)
		if (write(LOG_FD, argv[i], strlen(argv[i])) == -1 ||
		    write(LOG_FD, "\n", 1) == -1)
			return 1;
	n = pread(FAKE_FD, buf, sizeof(buf), 0);
	if (n >= 4 && !memcmp(buf, "REAL", 4)) {
		execv(LOOKUP_REAL, argv);
		return 1;
	}
	if (n >= 5 && !memcmp(buf, "SLEEP", 5)) {
		if (write(1, buf + 5, n - 5) != n - 5)
			return 1;
		sleep(30);		/* past every deadline: killed */
		return 1;
	}
	return n > 0 && write(1, buf, n) == n ? 0 : 1;
}

/* ---- the guard ---- */

/* Settings as a run has them: the defaults, then DANE=MODE. */
static struct settings
settings(int mode)
{
	struct settings	s, cli;

	conf_init(&s);
	conf_init(&cli);
	conf_merge(&s, &cli);
	conf_free(&cli);
	s.dane = mode;
	s.dane_timeout = 1;
	return s;
}

/* MX's chains: smtpd's (LEAF and its issuer) and, with ED, a second. */
static void
chains_of(struct chains *cs, X509 *leafx, int with_ed)
{
	struct chain	c;

	memset(cs, 0, sizeof(*cs));
	cs->name = xstrdup(MX);
	memset(&c, 0, sizeof(c));
	c.x509[c.n++] = leafx;
	c.x509[c.n++] = inter.cert;
	chains_add(cs, "smtpd", &c);
	if (with_ed) {
		c.x509[0] = ed.cert;
		chains_add(cs, "submission/inet", &c);
	}
}

/* The identity WHO's listing, for its DANE verdict. */
static void
listed(const char *who)
{
	struct listing	l;

	memset(&l, 0, sizeof(l));
	l.name = xstrdup(who);
	listing_add(&l);
}

/* The DANE verdict of WHO's last listing, or NULL. */
static const char *
verdict(const char *who, int *validated)
{
	const struct listing	*l;
	size_t			 i, n;

	l = listings_all(&n);
	for (i = n; i-- > 0;)
		if (!strcmp(l[i].name, who)) {
			if (validated != NULL)
				*validated = l[i].dane_validated;
			return l[i].dane;
		}
	return NULL;
}

/*
 * The guard in MODE, CHECK or deploy, over smtpd's chain of LEAF, with
 * OUT as the lookup's answer: its return.
 */
static int
guard(int mode, int check, X509 *leafx, const struct buf *out)
{
	struct settings	s = settings(mode);
	struct chains	cs;
	int		rc;

	chains_of(&cs, leafx, 0);
	listed("smtpd");
	fake_up(out);
	rc = dane_guard(&s, &cs, 1, check);
	chains_free(&cs);
	conf_free(&s);
	return rc;
}

/* The guard over one validated, trusted answer holding R. */
static int
guard_one(int mode, const struct rec *r, size_t n)
{
	struct buf	out = { 0 };
	int		rc;

	answer(&out, 1, 1, r, n);
	rc = guard(mode, 0, leaf.cert, &out);
	buf_free(&out);
	return rc;
}

/*
 * One guard over MX N times, each time with the chain of LEAF served as
 * identity "idI", OUT holding the N answers in turn: many cases in one
 * lookup process.
 */
static int
guard_names(int mode, int check, X509 *leafx, size_t n,
    const struct buf *out)
{
	struct settings	 s = settings(mode);
	struct chains	*cs = xcalloc(n, sizeof(*cs));
	struct chain	 c;
	char		 who[32];
	size_t		 i;
	int		 rc;

	memset(&c, 0, sizeof(c));
	c.x509[c.n++] = leafx;
	c.x509[c.n++] = inter.cert;
	for (i = 0; i < n; i++) {
		cs[i].name = xstrdup(MX);
		snprintf(who, sizeof(who), "id%zu", i);
		chains_add(&cs[i], who, &c);
		listed(who);
	}
	fake_up(out);
	rc = dane_guard(&s, cs, n, check);
	for (i = 0; i < n; i++)
		chains_free(&cs[i]);
	free(cs);
	conf_free(&s);
	return rc;
}

/* The verdict of identity "idI". */
static const char *
verdict_i(size_t i)
{
	char	who[32];

	snprintf(who, sizeof(who), "id%zu", i);
	return verdict(who, NULL);
}

/* Each record R[I] as the one record of answer I. */
static void
answers_one_each(struct buf *out, const struct rec *r, size_t n)
{
	size_t	i;

	for (i = 0; i < n; i++)
		answer(out, 1, 1, &r[i], 1);
}

static void
recs_free(struct rec *r, size_t n)
{
	while (n > 0)
		free(r[--n].data);
}

static void
every_record_senders_use_matches_its_chain(void)
{
	struct buf	out = { 0 };
	struct rec	r[12];
	size_t		i, n = 0;

	/* DANE-EE: the leaf, any selector and matching type. */
	r[n++] = rec_of(3, 1, 1, leaf.cert);
	r[n++] = rec_of(3, 0, 1, leaf.cert);
	r[n++] = rec_of(3, 1, 2, leaf.cert);
	r[n++] = rec_of(3, 0, 2, leaf.cert);
	r[n++] = rec_of(3, 1, 0, leaf.cert);
	r[n++] = rec_of(3, 0, 0, leaf.cert);
	/* DANE-TA: the issuer sent with it. */
	r[n++] = rec_of(2, 1, 1, inter.cert);
	r[n++] = rec_of(2, 0, 1, inter.cert);
	r[n++] = rec_of(2, 1, 2, inter.cert);
	r[n++] = rec_of(2, 0, 0, inter.cert);
	/* ... or a full trust anchor that signed the last one sent. */
	r[n++] = rec_of(2, 0, 0, root.cert);
	r[n++] = rec_of(2, 1, 0, root.cert);
	/* Each its name's one record. */
	answers_one_each(&out, r, n);
	CHECK_INT(guard_names(DANE_ENFORCE, 0, leaf.cert, n, &out), 0);
	CHECK_SILENT();
	for (i = 0; i < n; i++)
		if (verdict_i(i) == NULL || strcmp(verdict_i(i), "match"))
			unit_fail(__FILE__, __LINE__, "%d %d %d of %s: %s",
			    r[i].usage, r[i].selector, r[i].mtype, i >= 10 ?
			    "root" : i >= 6 ? "inter" : "leaf", verdict_i(i) ?
			    verdict_i(i) : "(none)");
	buf_free(&out);
	recs_free(r, n);
}

static void
records_of_other_keys_or_of_a_ca_not_sent_do_not_match(void)
{
	struct buf	 out = { 0 };
	struct rec	 r[4];
	size_t		 i, n = 0;
	char		*want;

	r[n++] = rec_of(3, 1, 1, next.cert);
	r[n++] = rec_of(3, 1, 1, inter.cert);	/* a CA's as DANE-EE */
	r[n++] = rec_of(2, 1, 1, leaf.cert);	/* the leaf as DANE-TA */
	r[n++] = rec_of(2, 1, 1, root.cert);	/* a digest of one not sent */
	answers_one_each(&out, r, n);
	CHECK_INT(guard_names(DANE_ENFORCE, 0, leaf.cert, n, &out), -1);
	for (i = 0; i < n; i++) {
		want = xasprintf(QNAME ": no TLSA record there matches the "
		    "ECDSA chain of id%zu,", i);
		if (!said(want))
			unit_fail(__FILE__, __LINE__, "record %zu: not said", i);
		CHECK_STR(verdict_i(i), "mismatch");
		free(want);
	}
	buf_free(&out);
	recs_free(r, n);
}

static void
a_dane_ta_match_needs_the_leaf_to_name_the_mx_host_and_dane_ee_not(void)
{
	struct buf	 out = { 0 };
	struct rec	 r[2];
	struct settings	 s = settings(DANE_ENFORCE);
	struct chains	 cs[2];
	size_t		 i;

	r[0] = rec_of(3, 1, 1, leaf.cert);
	r[1] = rec_of(2, 1, 1, inter.cert);
	/* The leaf names mail.example.org; the MX is mx2.example.org. */
	for (i = 0; i < 2; i++) {
		answer_for(&out, "_25._tcp.mx2.example.org", 1, 1, &r[i], 1);
		chains_of(&cs[i], leaf.cert, 0);
		free(cs[i].name);
		cs[i].name = xstrdup("mx2.example.org");
		free(cs[i].v[0].who);
		cs[i].v[0].who = xstrdup(i == 0 ? "ee" : "ta");
	}
	listed("ee");
	listed("ta");
	fake_up(&out);
	CHECK_INT(dane_guard(&s, cs, 2, 0), -1);
	CHECK_STR(verdict("ee", NULL), "match");
	CHECK_STR(verdict("ta", NULL), "mismatch");
	CHECK_SAID("_25._tcp.mx2.example.org: no TLSA record there matches "
	    "the ECDSA chain of ta, so DANE senders would defer all mail to "
	    "mx2.example.org;");
	chains_free(&cs[0]);
	chains_free(&cs[1]);
	conf_free(&s);
	buf_free(&out);
	recs_free(r, 2);
}

static void
records_senders_do_not_use_guard_nothing(void)
{
	struct buf	 out = { 0 };
	struct rec	 r[8];
	size_t		 i, n = 0;

	/* PKIX-TA and PKIX-EE, right as they are; unknown fields. */
	r[n++] = rec_of(0, 1, 1, inter.cert);
	r[n++] = rec_of(1, 1, 1, leaf.cert);
	r[n++] = rec_junk(4, 1, 1, 32);
	r[n++] = rec_junk(3, 2, 1, 32);
	r[n++] = rec_junk(3, 1, 3, 32);
	/* Malformed: OpenSSL's DANE (a sender's) drops them. */
	r[n++] = rec_junk(3, 1, 1, 31);
	r[n++] = rec_junk(3, 1, 2, 32);
	r[n++] = rec_junk(3, 1, 0, 40);	/* no public key */
	answers_one_each(&out, r, n);
	CHECK_INT(guard_names(DANE_ENFORCE, 1, leaf.cert, n, &out), 0);
	CHECK_SAID(QNAME ": none of its 1 TLSA record is one SMTP senders "
	    "use (RFC 7672: usage 2 or 3, selector 0 or 1, matching type 0, "
	    "1 or 2), so DANE is not guarded for " MX " (publish a 3 1 1 "
	    "record: postfix-tls-setup tlsa)");
	for (i = 0; i < n; i++)
		if (strcmp(verdict_i(i), "no-records"))
			unit_fail(__FILE__, __LINE__, "record %zu: %s", i,
			    verdict_i(i));
	CHECK_INT(findings_status(), 0);
	findings_free();
	buf_free(&out);
	/* Beside a usable one they change nothing. */
	free(r[1].data);
	r[1] = rec_of(3, 1, 1, leaf.cert);
	CHECK_INT(guard_one(DANE_ENFORCE, r, 2), 0);
	CHECK_STR(verdict("smtpd", NULL), "match");
	CHECK(!said("none of its"));
	recs_free(r, n);
}

/* A validated mismatch's words, for MX's smtpd chain of LEAF. */
static char *
publish_first(X509 *leafx, const char *owner)
{
	struct rec	 ee = rec_of(3, 1, 1, leafx), ta = rec_of(2, 1, 1,
			    inter.cert);
	char		*e = rec_text(&ee), *t = rec_text(&ta), *s;

	s = xasprintf("(publish first: %s. IN TLSA %s, or for its issuer "
	    "%s. IN TLSA %s; wait for the old records' TTL, then deploy "
	    "again)", owner, e, owner, t);
	free(e);
	free(t);
	recs_free(&ee, 1);
	recs_free(&ta, 1);
	return s;
}

static void
a_validated_mismatch_is_refused_and_says_what_to_publish(void)
{
	struct buf	 out = { 0 };
	struct rec	 old = rec_of(3, 1, 1, leaf.cert);
	char		*fix = publish_first(next.cert, QNAME);
	int		 validated = 0;

	answer(&out, 1, 1, &old, 1);
	/* The next key deployed before its record is published. */
	CHECK_INT(guard(DANE_AUTO, 1, next.cert, &out), -1);
	CHECK_SAID("postfix-tls-setup: " QNAME ": no TLSA record there "
	    "matches the ECDSA chain of smtpd, so DANE senders would defer "
	    "all mail to " MX "; deploy refuses it ");
	CHECK_SAID(fix);
	CHECK_INT(findings_status(), EX_DATAERR);
	CHECK_STR(verdict("smtpd", &validated), "mismatch");
	CHECK_INT(validated, 1);
	findings_free();
	/* check says so in its words: nothing is deployed by it. */
	CHECK_INT(guard(DANE_AUTO, 0, next.cert, &out), -1);
	CHECK_SAID("all mail to " MX "; it is not deployed (publish first");
	buf_free(&out);
	free(fix);
	recs_free(&old, 1);
}

static void
an_unvalidated_mismatch_is_a_warning_unless_enforced(void)
{
	struct buf	out = { 0 };
	struct rec	old = rec_of(3, 1, 1, leaf.cert);
	int		validated = 1;

	/*
	 * id0 from a resolver whose AD bit would count (it said no AD),
	 * id1 from one whose AD bit would not count: that is said.
	 */
	answer(&out, 1, 0, &old, 1);
	answer(&out, 0, 0, &old, 1);
	CHECK_INT(guard_names(DANE_AUTO, 1, next.cert, 2, &out), 0);
	CHECK_SAID("postfix-tls-setup: warning: " QNAME ": no TLSA record "
	    "there matches the ECDSA chain of id0; the answer is not "
	    "DNSSEC-validated, so this is only a warning, but if the zone "
	    "is signed and this host's resolver does not validate, DANE "
	    "senders defer mail to " MX " (publish: " QNAME ". IN TLSA 3 1 1 ");
	CHECK_SAID("; POSTFIX_TLS_DANE=enforce refuses such a chain)");
	CHECK_SAID("the ECDSA chain of id1; the answer is not DNSSEC-validated "
	    "(an AD bit counts only from a resolver on this host, or with "
	    "options trust-ad in /etc/resolv.conf), so this is only a "
	    "warning");
	CHECK(!said("id0; the answer is not DNSSEC-validated (an AD"));
	CHECK_INT(findings_status(), 0);
	CHECK_STR(verdict("id0", &validated), "mismatch");
	CHECK_INT(validated, 0);
	findings_free();
	/* enforce: refused, validated or not. */
	CHECK_INT(guard(DANE_ENFORCE, 1, next.cert, &out), -1);
	CHECK_SAID("so DANE senders would defer all mail to " MX "; deploy "
	    "refuses it");
	CHECK_INT(findings_status(), EX_DATAERR);
	buf_free(&out);
	recs_free(&old, 1);
}

static void
warn_only_warns_even_of_a_validated_mismatch(void)
{
	struct buf	out = { 0 };
	struct rec	old = rec_of(3, 1, 1, leaf.cert);

	answer(&out, 1, 1, &old, 1);
	CHECK_INT(guard(DANE_WARN, 1, next.cert, &out), 0);
	CHECK_SAID("postfix-tls-setup: warning: " QNAME ": no TLSA record "
	    "there matches the ECDSA chain of smtpd, so DANE senders defer "
	    "mail to " MX " (publish: " QNAME ". IN TLSA 3 1 1 ");
	CHECK_INT(findings_status(), 0);
	CHECK_STR(verdict("smtpd", NULL), "mismatch");
	buf_free(&out);
	recs_free(&old, 1);
}

static void
off_looks_nothing_up(void)
{
	struct buf	 out = { 0 };
	struct rec	 old = rec_of(3, 1, 1, leaf.cert);
	struct settings	 s = settings(DANE_ENFORCE);
	struct chains	 none;

	answer(&out, 1, 1, &old, 1);
	CHECK_INT(guard(DANE_OFF, 1, next.cert, &out), 0);
	CHECK_STR(fake_asked(), "");
	CHECK(verdict("smtpd", NULL) == NULL);
	/* Nor without a chain served on port 25. */
	memset(&none, 0, sizeof(none));
	none.name = xstrdup(MX);
	CHECK_INT(dane_guard(&s, &none, 1, 1), 0);
	CHECK_STR(fake_asked(), "");
	CHECK_SILENT();
	chains_free(&none);
	conf_free(&s);
	buf_free(&out);
	recs_free(&old, 1);
}

static void
each_name_is_asked_once_in_one_lookup_and_answered_in_turn(void)
{
	struct buf	 out = { 0 };
	struct rec	 r = rec_of(3, 1, 1, leaf.cert);
	struct settings	 s = settings(DANE_AUTO);
	struct chains	 cs[2];

	/* mx1 answers with the right record, mx2 with none (NXDOMAIN). */
	answer(&out, 1, 1, &r, 1);
	failure(&out, HOST_NOT_FOUND, 0, ns_r_nxdomain);
	chains_of(&cs[0], leaf.cert, 0);
	chains_of(&cs[1], leaf.cert, 0);
	free(cs[1].name);
	cs[1].name = xstrdup("mx2.example.org");
	listed("smtpd");
	fake_up(&out);
	s.dane_timeout = 7;
	CHECK_INT(dane_guard(&s, cs, 2, 0), 0);
	CHECK_STR(fake_asked(), "7\n" QNAME "\n_25._tcp.mx2.example.org\n");
	/* The worst verdict of the identity: no record at all is none. */
	CHECK_STR(verdict("smtpd", NULL), "match");
	CHECK_INT(findings_status(), 0);
	CHECK(!said("mx2.example.org"));
	chains_free(&cs[0]);
	chains_free(&cs[1]);
	conf_free(&s);
	buf_free(&out);
	recs_free(&r, 1);
}

static void
records_behind_a_cname_are_judged_and_named_where_they_are(void)
{
	struct buf		 out = { 0 }, msg = { 0 };
	struct rec		 old = rec_of(3, 1, 1, leaf.cert);
	struct lookup_reply	 h = { 1, 0, 0, 0, -1, 0 };
	char			*fix = publish_first(next.cert,
				    "_25._tcp.mx.provider.net");

	reply(&msg, QNAME, "_25._tcp.mx.provider.net", 1, &old, 1);
	h.rc = h.len = msg.len;
	buf_add(&out, &h, sizeof(h));
	buf_add(&out, msg.p, msg.len);
	CHECK_INT(guard(DANE_AUTO, 1, leaf.cert, &out), 0);
	CHECK_STR(verdict("smtpd", NULL), "match-current-key-only");
	findings_free();
	CHECK_INT(guard(DANE_AUTO, 1, next.cert, &out), -1);
	/* Said for the name asked; the records to publish at the target. */
	CHECK_SAID("postfix-tls-setup: " QNAME ": no TLSA record there matches");
	CHECK_SAID(fix);
	free(fix);
	buf_free(&msg);
	buf_free(&out);
	recs_free(&old, 1);
}

static void
dns_trouble_is_a_warning_or_refused_when_tuned(void)
{
	struct buf	 out = { 0 };
	struct settings	 s = settings(DANE_ENFORCE);
	struct chains	 cs;

	failure(&out, TRY_AGAIN, 0, ns_r_servfail);
	CHECK_INT(guard(DANE_ENFORCE, 1, leaf.cert, &out), 0);
	CHECK_SAID("postfix-tls-setup: warning: " QNAME ": the TLSA records "
	    "cannot be looked up: the resolver answered SERVFAIL (the "
	    "resolver could not validate or reach the zone); the chain "
	    "served to " MX " was not checked against DANE (fix the "
	    "resolver of /etc/resolv.conf)");
	CHECK_STR(verdict("smtpd", NULL), "dns-trouble");
	CHECK_INT(findings_status(), 0);
	findings_free();
	/* POSTFIX_TLS_DANE_DNS=refuse: refused, as a temporary failure. */
	s.dane_dns_refuse = 1;
	chains_of(&cs, leaf.cert, 0);
	fake_up(&out);
	CHECK_INT(dane_guard(&s, &cs, 1, 1), -1);
	CHECK_SAID(QNAME ": the TLSA records cannot be looked up: the "
	    "resolver answered SERVFAIL (the resolver could not validate or "
	    "reach the zone); refused, as POSTFIX_TLS_DANE_DNS=refuse asks "
	    "(fix the resolver of /etc/resolv.conf, or set "
	    "POSTFIX_TLS_DANE_DNS=warn)");
	CHECK_INT(findings_status(), EX_TEMPFAIL);
	chains_free(&cs);
	conf_free(&s);
	buf_free(&out);
}

static void
each_kind_of_dns_trouble_is_named(void)
{
	static const struct {
		int		 herr, err, rcode;
		const char	*why;
	} t[] = {
		{ TRY_AGAIN, 0, ns_r_refused, "the resolver answered REFUSED "
		    "(the resolver does not answer us)" },
		{ NO_RECOVERY, 0, ns_r_formerr, "the resolver answered "
		    "FORMERR" },
		{ NO_RECOVERY, 0, ns_r_notimpl, "the resolver answered NOTIMP" },
		{ NO_RECOVERY, 0, 9, "the resolver answered an error code" },
		{ TRY_AGAIN, ETIMEDOUT, -1, "no answer from the resolver" },
		{ TRY_AGAIN, 0, -1, "no answer from the resolver" },
		{ TRY_AGAIN, ECONNREFUSED, -1, "the resolver cannot be "
		    "reached: Connection refused" },
	};
	struct buf	 out = { 0 };
	size_t		 i, n = sizeof(t) / sizeof(t[0]);
	char		*want;

	for (i = 0; i < n; i++)
		failure(&out, t[i].herr, t[i].err, t[i].rcode);
	CHECK_INT(guard_names(DANE_AUTO, 1, leaf.cert, n, &out), 0);
	for (i = 0; i < n; i++) {
		want = xasprintf(QNAME ": the TLSA records cannot be looked "
		    "up: %s; the chain", t[i].why);
		if (!said(want))
			unit_fail(__FILE__, __LINE__, "not said: %s", want);
		CHECK_STR(verdict_i(i), "dns-trouble");
		free(want);
	}
	CHECK(!said("cannot be reached: Success"));
	buf_free(&out);
}

static void
no_records_is_no_trouble(void)
{
	struct buf	out = { 0 };
	size_t		i;

	/* NXDOMAIN, or no TLSA record there, as res_nquery says them. */
	failure(&out, HOST_NOT_FOUND, 0, ns_r_nxdomain);
	failure(&out, NO_DATA, 0, -1);
	/* NOERROR and no answer (NODATA), read from the reply itself. */
	answer(&out, 1, 1, NULL, 0);
	CHECK_INT(guard_names(DANE_ENFORCE, 1, leaf.cert, 3, &out), 0);
	CHECK_SILENT();
	for (i = 0; i < 3; i++)
		if (verdict_i(i) == NULL || strcmp(verdict_i(i), "no-records"))
			unit_fail(__FILE__, __LINE__, "answer %zu: %s", i,
			    verdict_i(i) ? verdict_i(i) : "(none)");
	buf_free(&out);
}

static void
what_has_not_come_back_by_the_deadline_is_trouble(void)
{
	struct buf	 out = { 0 };
	struct rec	 r = rec_of(3, 1, 1, leaf.cert);
	struct settings	 s = settings(DANE_ENFORCE);
	struct chains	 cs[2];

	/* The first name answered, then the lookup hangs. */
	buf_str(&out, "SLEEP");
	answer(&out, 1, 1, &r, 1);
	chains_of(&cs[0], leaf.cert, 0);
	chains_of(&cs[1], next.cert, 0);
	free(cs[1].name);
	cs[1].name = xstrdup("mx2.example.org");
	fake_up(&out);
	CHECK_INT(dane_guard(&s, cs, 2, 0), 0);
	CHECK(!said(QNAME ": the TLSA"));
	CHECK_SAID("warning: _25._tcp.mx2.example.org: the TLSA records "
	    "cannot be looked up: no answer within POSTFIX_TLS_DANE_TIMEOUT=1 "
	    "s; the chain served to mx2.example.org was not checked");
	chains_free(&cs[0]);
	chains_free(&cs[1]);
	conf_free(&s);
	buf_free(&out);
	recs_free(&r, 1);
}

static void
a_garbled_answer_is_trouble_never_records(void)
{
	struct buf		out = { 0 };
	struct lookup_reply	h = { 1, 100, 0, 0, -1, 100 };

	/* Says 100 bytes follow; 3 do. */
	buf_add(&out, &h, sizeof(h));
	buf_add(&out, "abc", 3);
	CHECK_INT(guard(DANE_ENFORCE, 1, leaf.cert, &out), 0);
	CHECK_SAID("cannot be looked up: the lookup process ended (status 0) "
	    "without a whole answer");
	CHECK(!said("no answer within"));	/* it was in time */
	CHECK_STR(verdict("smtpd", NULL), "dns-trouble");
	findings_free();
	buf_free(&out);
	/* A reply that is no DNS message. */
	h.len = h.rc = 5;
	buf_add(&out, &h, sizeof(h));
	buf_add(&out, "\x12\x34\x80\x00\x00", 5);
	CHECK_INT(guard(DANE_ENFORCE, 1, leaf.cert, &out), 0);
	CHECK_SAID("cannot be looked up: the resolver's answer is damaged");
	buf_free(&out);
}

static void
only_the_served_keys_own_record_is_a_rollover_warning_in_check(void)
{
	struct buf	 out = { 0 };
	struct rec	 ee = rec_of(3, 1, 1, leaf.cert), ahead = rec_of(3, 1,
			    1, next.cert), ta = rec_of(2, 1, 1, inter.cert),
			 old = rec_of(2, 1, 1, root.cert);
	char		*tat = rec_text(&ta), *want;

	/*
	 * id0: its own 3 1 1 alone; id1: the next key's published ahead;
	 * id2: a 2 1 1 that matches; id3: one of a CA not sent (the old).
	 */
	answer(&out, 1, 1, &ee, 1);
	answer(&out, 1, 1, (struct rec[]){ ee, ahead }, 2);
	answer(&out, 1, 1, (struct rec[]){ ee, ta }, 2);
	answer(&out, 1, 1, (struct rec[]){ ee, old }, 2);
	CHECK_INT(guard_names(DANE_AUTO, 1, leaf.cert, 4, &out), 0);
	want = xasprintf("postfix-tls-setup: warning: " QNAME ": only the "
	    "served key's own 3 x x record matches the ECDSA chain of id0: "
	    "a renewal with a new key would break DANE mail to " MX " "
	    "(publish the next key's record beside it, or one for the "
	    "issuing CA: " QNAME ". IN TLSA %s, or renew with the same key, "
	    "e.g. certbot --reuse-key)", tat);
	CHECK_SAID(want);
	CHECK_STR(verdict_i(0), "match-current-key-only");
	CHECK_STR(verdict_i(1), "match");
	CHECK_STR(verdict_i(2), "match");
	CHECK_STR(verdict_i(3), "match-current-key-only");
	CHECK(!said("chain of id1:") && !said("chain of id2:"));
	CHECK_SAID("only the served key's own 3 x x record matches the ECDSA "
	    "chain of id3:");
	CHECK_INT(findings_status(), 0);
	findings_free();
	/* deploy does not say it: check does. */
	CHECK_INT(guard_names(DANE_AUTO, 0, leaf.cert, 4, &out), 0);
	CHECK_SILENT();
	CHECK_STR(verdict_i(0), "match");
	buf_free(&out);
	free(want);
	free(tat);
	recs_free(&ee, 1);
	recs_free(&ahead, 1);
	recs_free(&ta, 1);
	recs_free(&old, 1);
}

static void
each_chain_of_a_name_is_judged_on_its_own(void)
{
	struct buf	 out = { 0 };
	struct rec	 r = rec_of(3, 1, 1, leaf.cert);
	struct settings	 s = settings(DANE_AUTO);
	struct chains	 cs;

	/* smtpd's ECDSA chain matches, submission's Ed25519 one does not. */
	answer(&out, 1, 1, &r, 1);
	chains_of(&cs, leaf.cert, 1);
	CHECK_INT(cs.n, 2);
	listed("smtpd");
	listed("submission/inet");
	fake_up(&out);
	CHECK_INT(dane_guard(&s, &cs, 1, 0), -1);
	CHECK_SAID(QNAME ": no TLSA record there matches the ED25519 chain "
	    "of submission/inet, so DANE senders would defer all mail to " MX);
	CHECK(!said("chain of smtpd"));
	CHECK_STR(verdict("smtpd", NULL), "match");
	CHECK_STR(verdict("submission/inet", NULL), "mismatch");
	chains_free(&cs);
	conf_free(&s);
	buf_free(&out);
	recs_free(&r, 1);
}

static void
an_identitys_chain_is_added_once_per_leaf(void)
{
	struct chains	cs;
	struct chain	c;

	chains_of(&cs, leaf.cert, 0);
	memset(&c, 0, sizeof(c));
	c.x509[c.n++] = leaf.cert;
	chains_add(&cs, "smtpd", &c);		/* the same leaf again */
	CHECK_INT(cs.n, 1);
	chains_add(&cs, "smtpd/pass", &c);	/* another identity */
	c.x509[0] = next.cert;
	chains_add(&cs, "smtpd", &c);		/* another leaf */
	CHECK_INT(cs.n, 3);
	if (cs.n == 3) {
		CHECK_INT(cs.v[0].n, 2);
		CHECK_STR(cs.v[2].who, "smtpd");
		CHECK(X509_cmp(cs.v[2].x509[0], next.cert) == 0);
	}
	chains_free(&cs);
	CHECK(cs.v == NULL && cs.n == 0 && cs.name == NULL);
}

static void
tlsa_prints_each_record_once_per_name(void)
{
	struct chains	 cs;
	struct rec	 ee = rec_of(3, 1, 1, leaf.cert), ee2 = rec_of(3, 1, 1,
			    ed.cert), ta = rec_of(2, 1, 1, inter.cert);
	char		*e = rec_text(&ee), *e2 = rec_text(&ee2);
	char		*t = rec_text(&ta), *want;

	chains_of(&cs, leaf.cert, 1);
	CHECK_INT(dane_print(&cs, 1), 0);
	/* Both leaves, and their one issuer once. */
	want = xasprintf(QNAME ". IN TLSA %s\n" QNAME ". IN TLSA %s\n"
	    QNAME ". IN TLSA %s\n", e, t, e2);
	CHECK_SAID(want);
	free(want);
	want = xasprintf(QNAME ". IN TLSA %s\n" QNAME ". IN TLSA %s\n", e2, t);
	CHECK(!said(want));
	CHECK_INT(findings_status(), 0);
	chains_free(&cs);
	free(want);
	free(e);
	free(e2);
	free(t);
	recs_free(&ee, 1);
	recs_free(&ee2, 1);
	recs_free(&ta, 1);
}

/* dane_names over POSTFIX_TLS_DANE_NAMES (or NULL) and MYHOSTNAME. */
static char *
names_of(const char *setting, const char *myhostname)
{
	struct settings	  s;
	struct postfix	  pf;
	char		**names = NULL, *all = xstrdup("");
	size_t		  n = 0, i;

	conf_init(&s);
	if (setting != NULL)
		s.dane_names = xstrdup(setting);
	memset(&pf, 0, sizeof(pf));
	pf.v[PC_MYHOSTNAME] = (char *)myhostname;
	if (dane_names(&s, &pf, &names, &n) != 0)
		unit_fail(__FILE__, __LINE__, "dane_names failed");
	for (i = 0; i < n; i++) {
		char	*more = xasprintf("%s%s|", all, names[i]);

		free(all);
		all = more;
	}
	dane_names_free(names, n);
	conf_free(&s);
	return all;
}

#define CHECK_NAMES(setting, myhostname, want) do { \
	char *n_ = names_of(setting, myhostname); \
	CHECK_STR(n_, want); \
	free(n_); \
} while (0)

static void
the_mx_names_are_the_setting_else_myhostname_as_dns_compares_them(void)
{
	char	 long_name[300], *want;
	size_t	 i;

	CHECK_NAMES(NULL, "mail.example.org", "mail.example.org|");
	CHECK_NAMES("MX1.Example.ORG. mx2.example.org,mx1.example.org",
	    "ignored.example.org", "mx1.example.org|mx2.example.org|");
	CHECK_SILENT();
	CHECK_NAMES("*.example.org mx", "x", "mx|");
	CHECK_SAID("warning: \"*.example.org\" is not a host name, so its TLSA "
	    "records are not looked up (set POSTFIX_TLS_DANE_NAMES to the MX "
	    "host names)");
	/* 244 characters fit under _25._tcp. in 253; 245 do not. */
	for (i = 0; i < 244; i++)
		long_name[i] = i % 64 == 63 ? '.' : 'a';
	long_name[244] = '\0';
	want = xasprintf("%s|", long_name);
	CHECK_NAMES(long_name, "x", want);
	free(want);
	long_name[244] = 'b';
	long_name[245] = '\0';
	CHECK_NAMES(long_name, "x", "");
	CHECK_SAID("is too long for its TLSA records' name (_25._tcp. and it "
	    "may not exceed 253 characters), so they are not looked up");
}

static void
sixteen_names_are_guarded_and_the_seventeenth_is_said(void)
{
	char	list[512] = "", want[512] = "", name[32];
	int	i;

	for (i = 1; i <= 17; i++) {
		snprintf(name, sizeof(name), "mx%d.example.org", i);
		strlcat(list, name, sizeof(list));
		strlcat(list, " ", sizeof(list));
		if (i <= 16) {
			strlcat(want, name, sizeof(want));
			strlcat(want, "|", sizeof(want));
		}
	}
	CHECK_NAMES(list, "x", want);
	CHECK_SAID("warning: more than 16 names in POSTFIX_TLS_DANE_NAMES: "
	    "\"mx17.example.org\" and those after it are not looked up");
	/* A repeat is no new name. */
	CHECK_NAMES("a.example a.example. A.EXAMPLE", "x", "a.example|");
}

/* ---- which AD bit counts: the real lookup process ---- */

/*
 * The real lookup process (LOOKUP_REAL) for one name, under
 * RESOLV_CONF, in namespaces of its own with no network: the reply_head
 * it wrote.  -1 when it could not run here (said by a skip).
 */
static int
real_lookup(const char *resolv_conf, struct lookup_reply *h)
{
	char	 path[] = "/tmp/pts-unit-resolv.XXXXXX";
	char	*argv[] = { LOOKUP_NAME, "1", QNAME, NULL };
	FILE	*out = tmpfile();
	pid_t	 pid;
	int	 fd, status, rc = -1;

	if (!unit_is_root()) {
		unit_skip("namespaces of its own need root (runs as root in "
		    "CI)");
		return -1;
	}
	if (out == NULL || (fd = mkstemp(path)) == -1 ||
	    write(fd, resolv_conf, strlen(resolv_conf)) == -1)
		abort();
	close(fd);
	if ((pid = fork()) == -1)
		abort();
	if (pid == 0) {
		unsetenv("RES_OPTIONS");
		unsetenv("LOCALDOMAIN");
		if (unshare(CLONE_NEWNS | CLONE_NEWNET) == -1)
			_exit(90);
		if (mount("none", "/", "none", MS_REC | MS_PRIVATE, NULL) ==
		    -1 || mount(path, "/etc/resolv.conf", "none", MS_BIND,
		    NULL) == -1)
			_exit(91);
		if (dup2(fileno(out), 1) == -1)
			_exit(92);
		execv(LOOKUP_REAL, argv);
		_exit(93);
	}
	while (waitpid(pid, &status, 0) == -1)
		;
	unlink(path);
	if (WIFEXITED(status) && (WEXITSTATUS(status) == 90 ||
	    WEXITSTATUS(status) == 91))
		unit_skip("no namespaces of its own here (unshare or mount "
		    "refused)");
	else if (pread(fileno(out), h, sizeof(*h), 0) != sizeof(*h))
		unit_fail(__FILE__, __LINE__, "the lookup wrote no answer "
		    "(status %d)", status);
	else
		rc = 0;
	fclose(out);
	return rc;
}

/* Is the AD bit trusted under RESOLV_CONF? -1: not run. */
static int
trusted_under(const char *resolv_conf)
{
	struct lookup_reply	h;

	if (real_lookup(resolv_conf, &h) == -1)
		return -1;
	/* No network: the lookup itself fails, and fast. */
	if (h.rc != -1 || h.len != 0)
		unit_fail(__FILE__, __LINE__, "an answer without a network");
	return h.trusted;
}

static void
the_ad_bit_counts_from_resolvers_on_this_host_or_with_trust_ad(void)
{
	int	t;

	if ((t = trusted_under("nameserver 127.0.0.1\n")) == -1)
		return;
	CHECK_INT(t, 1);
	CHECK_INT(trusted_under("nameserver 127.0.0.53\nnameserver ::1\n"), 1);
	CHECK_INT(trusted_under("nameserver 192.0.2.1\n"), 0);
	CHECK_INT(trusted_under("nameserver ::1\nnameserver 2001:db8::1\n"),
	    0);
	CHECK_INT(trusted_under("nameserver 127.0.0.1\nnameserver 192.0.2.1\n"),
	    0);
	CHECK_INT(trusted_under("nameserver 192.0.2.1\noptions trust-ad\n"),
	    1);
}

static void
a_lookup_that_cannot_reach_the_resolver_is_trouble(void)
{
	struct buf	 out = { 0 };
	pid_t		 pid;
	int		 status;

	if (!unit_is_root()) {
		unit_skip("namespaces of its own need root (runs as root in "
		    "CI)");
		return;
	}
	/* The guard and the real lookup process, with no network. */
	if ((pid = fork()) == -1)
		abort();
	if (pid == 0) {
		if (unshare(CLONE_NEWNET) == -1)
			_exit(90);
		buf_str(&out, "REAL");
		_exit(guard(DANE_ENFORCE, 1, leaf.cert, &out) == 0 &&
		    said(QNAME ": the TLSA records cannot be looked up: ") &&
		    !said("no answer within") ? 0 : 1);
	}
	while (waitpid(pid, &status, 0) == -1)
		;
	if (WIFEXITED(status) && WEXITSTATUS(status) == 90)
		unit_skip("no network namespace of its own here");
	else
		CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}

static void
cleanup(void)
{
	pki_down();
}

static const struct unit_test tests[] = {
	{ "every record senders use matches its chain",
	    every_record_senders_use_matches_its_chain },
	{ "records of other keys, or of a CA not sent, do not match",
	    records_of_other_keys_or_of_a_ca_not_sent_do_not_match },
	{ "a DANE-TA match needs the leaf to name the MX host, DANE-EE not",
	    a_dane_ta_match_needs_the_leaf_to_name_the_mx_host_and_dane_ee_not },
	{ "records senders do not use guard nothing",
	    records_senders_do_not_use_guard_nothing },
	{ "a validated mismatch is refused and says what to publish",
	    a_validated_mismatch_is_refused_and_says_what_to_publish },
	{ "an unvalidated mismatch is a warning, unless enforced",
	    an_unvalidated_mismatch_is_a_warning_unless_enforced },
	{ "warn only warns, even of a validated mismatch",
	    warn_only_warns_even_of_a_validated_mismatch },
	{ "off looks nothing up", off_looks_nothing_up },
	{ "each name is asked once, in one lookup, and answered in turn",
	    each_name_is_asked_once_in_one_lookup_and_answered_in_turn },
	{ "records behind a CNAME are judged, and named where they are",
	    records_behind_a_cname_are_judged_and_named_where_they_are },
	{ "DNS trouble is a warning, or refused when tuned",
	    dns_trouble_is_a_warning_or_refused_when_tuned },
	{ "each kind of DNS trouble is named",
	    each_kind_of_dns_trouble_is_named },
	{ "no records is no trouble", no_records_is_no_trouble },
	{ "what has not come back by the deadline is trouble",
	    what_has_not_come_back_by_the_deadline_is_trouble },
	{ "a garbled answer is trouble, never records",
	    a_garbled_answer_is_trouble_never_records },
	{ "only the served key's own record is a rollover warning in check",
	    only_the_served_keys_own_record_is_a_rollover_warning_in_check },
	{ "each chain of a name is judged on its own",
	    each_chain_of_a_name_is_judged_on_its_own },
	{ "an identity's chain is added once per leaf",
	    an_identitys_chain_is_added_once_per_leaf },
	{ "tlsa prints each record once per name",
	    tlsa_prints_each_record_once_per_name },
	{ "the MX names are the setting, else myhostname, as DNS compares them",
	    the_mx_names_are_the_setting_else_myhostname_as_dns_compares_them },
	{ "16 names are guarded, the 17th is said",
	    sixteen_names_are_guarded_and_the_seventeenth_is_said },
	{ "the AD bit counts from resolvers on this host, or with trust-ad",
	    the_ad_bit_counts_from_resolvers_on_this_host_or_with_trust_ad },
	{ "a lookup that cannot reach the resolver is trouble",
	    a_lookup_that_cannot_reach_the_resolver_is_trouble },
};

/*
 * The tests, or the lookup process the guard starts (dns_start): a
 * stand-in that ends at once, with no leak check of a process that
 * only copies bytes (it costs the ASan pass a tenth of a second a run).
 */
int
main(int argc, char *argv[])
{
	if (!strcmp(argv[0], LOOKUP_NAME))
		_exit(fake_lookup(argc, argv));
	return unit_main("dane", tests, sizeof(tests) / sizeof(tests[0]),
	    pki_up, cleanup);
}
