/*
 * src/finding.c: findings as records.  A format's FIX cuts the text from
 * its fix; the first problem decides the exit status; findings since a
 * mark are attributed to an identity, dropped, or taken out and put back
 * in their turn; a worker's findings and listings cross a pipe as text
 * (findings_export) and come back whole (findings_import), whatever bytes
 * they hold.
 */
#include <openssl/err.h>
#include <openssl/x509.h>

#include <stdlib.h>
#include <string.h>
#include <sysexits.h>

#include "harness/unit.h"

/* Finding I of the list, or NULL when there are fewer. */
static const struct finding *
nth(size_t i)
{
	size_t			 n;
	const struct finding	*v = findings_all(&n);

	return i < n ? &v[i] : NULL;
}

static size_t
count(void)
{
	size_t	n;

	(void)findings_all(&n);
	return n;
}

/* A string field equals WANT (NULL: is NULL). */
static int
same(const char *got, const char *want)
{
	return got == NULL || want == NULL ? got == want : !strcmp(got, want);
}

static void
the_fix_is_what_follows_fix_in_the_format(void)
{
	const struct finding	*f;

	problem(EX_DATAERR, "key.pem", "private key is protected by a %s"
	    FIX "remove it: openssl pkey -in %s -out %s", "passphrase",
	    "key.pem", "key.pem");
	f = nth(0);
	CHECK(f != NULL);
	if (f == NULL)
		return;
	CHECK_INT(f->severity, FND_PROBLEM);
	CHECK_INT(f->ex, EX_DATAERR);
	CHECK_STR(f->file, "key.pem");
	CHECK_STR(f->text, "private key is protected by a passphrase");
	CHECK_STR(f->fix, "remove it: openssl pkey -in key.pem -out key.pem");
	CHECK(f->identity == NULL);
	CHECK_SAID("postfix-tls-setup: key.pem: private key is protected by a "
	    "passphrase (remove it: openssl pkey -in key.pem -out key.pem)");
}

static void
without_fix_a_message_has_no_fix(void)
{
	const struct finding	*f;

	warning(NULL, "holds %d private keys", 2);
	f = nth(0);
	CHECK(f != NULL && f->fix == NULL && f->file == NULL);
	if (f != NULL)
		CHECK_STR(f->text, "holds 2 private keys");
	CHECK_SAID("postfix-tls-setup: warning: holds 2 private keys\n");
	/* A fix that formats to nothing is none: no "()" after the text. */
	warning(NULL, "holds %d keys" FIX "%s", 3, "");
	f = nth(1);
	CHECK(f != NULL && f->fix == NULL);
	CHECK_SAID("postfix-tls-setup: warning: holds 3 keys\n");
}

static void
a_fix_byte_in_an_argument_cuts_nothing(void)
{
	const struct finding	*f;

	/* In the text part's argument, before the format's own FIX. */
	problem(EX_DATAERR, "a\036b.pem", "%s: damaged" FIX "restore %s",
	    "x\036y", "z\036w");
	f = nth(0);
	if (f == NULL) {
		CHECK(f != NULL);
		return;
	}
	CHECK_STR(f->text, "x\036y: damaged");
	CHECK_STR(f->fix, "restore z\036w");
	CHECK_STR(f->file, "a\036b.pem");
	/* A format without FIX: an argument's FIX byte is text. */
	warning("w.pem", "%s", "left\036right");
	f = nth(1);
	CHECK(f != NULL && f->fix == NULL);
	if (f != NULL)
		CHECK_STR(f->text, "left\036right");
}

static void
the_first_problem_decides_the_exit_status(void)
{
	CHECK_INT(findings_status(), 0);
	note("the bundle would be written");
	warning("a.pem", "expires soon");
	CHECK_INT(findings_status(), 0);
	problem(EX_NOPERM, "b.pem", "owned by nobody");
	problem(EX_DATAERR, "c.pem", "damaged");
	CHECK_INT(findings_status(), EX_NOPERM);
	/* Dropping the first problem: the next one decides. */
	findings_drop(2);
	problem(EX_CONFIG, "d.conf", "unknown setting");
	problem(EX_DATAERR, "c.pem", "damaged");
	CHECK_INT(findings_status(), EX_CONFIG);
	findings_free();
	CHECK_INT(findings_status(), 0);
	CHECK_INT(count(), 0);
	/* A problem with no status of its own is an internal error. */
	problem(0, NULL, "a path that returned -1 without saying why");
	CHECK_INT(findings_status(), EX_SOFTWARE);
}

static void
notes_are_said_as_they_are_and_warnings_prefixed(void)
{
	note("note: %s: left out %d certificate", "extra.pem", 1);
	warning("w.pem", "certificate expires in %d days" FIX "renew it", 3);
	problem(EX_DATAERR, NULL, "no file named" FIX "name one");
	CHECK_INT(count(), 3);
	if (count() == 3) {
		CHECK_INT(nth(0)->severity, FND_NOTE);
		CHECK_INT(nth(0)->ex, 0);
		CHECK_INT(nth(1)->ex, 0);
	}
	CHECK_SAID("note: extra.pem: left out 1 certificate\n");
	CHECK(!said(PROG ": note:"));
	CHECK_SAID("postfix-tls-setup: warning: w.pem: certificate expires in "
	    "3 days (renew it)\n");
	CHECK_SAID("postfix-tls-setup: no file named (name one)\n");
}

static void
findings_since_a_mark_are_attributed_to_an_identity(void)
{
	size_t	mark;

	warning("before.pem", "said before the mark");
	mark = findings_mark();
	CHECK_INT(mark, 1);
	problem(EX_DATAERR, "p.pem", "a problem");
	note("a note");
	warning("w.pem", "a warning");
	findings_attribute(mark + 2, "inner");	/* the warning only */
	findings_attribute(mark, "smtpd");
	findings_attribute(mark, NULL);		/* nothing */
	CHECK(nth(0)->identity == NULL);
	CHECK_STR(nth(1)->identity, "smtpd");
	CHECK(nth(2)->identity == NULL);	/* notes belong to no one */
	CHECK_STR(nth(3)->identity, "inner");	/* the first one stays */
	CHECK_SAID("postfix-tls-setup: smtpd: p.pem: a problem\n");
	CHECK_SAID("postfix-tls-setup: warning: inner: w.pem: a warning\n");
}

static void
findings_since_a_mark_are_dropped(void)
{
	warning("keep.pem", "kept");
	problem(EX_DATAERR, "gone.pem", "dropped");
	findings_drop(1);
	CHECK_INT(count(), 1);
	CHECK_INT(findings_status(), 0);
	CHECK_STR(nth(0)->file, "keep.pem");
	findings_drop(5);	/* past the end: nothing */
	CHECK_INT(count(), 1);
	CHECK(!said("gone.pem"));
	CHECK_SAID("keep.pem: kept");
}

static void
findings_taken_out_are_put_back_after_those_said_meanwhile(void)
{
	struct findings	*t, *none;
	size_t		 mark;

	warning("first.pem", "first");
	mark = findings_mark();
	problem(EX_DATAERR, "ahead.pem", "ahead of its turn");
	warning("ahead2.pem", "ahead too");
	t = findings_take(mark);
	CHECK_INT(count(), 1);
	CHECK_INT(findings_status(), 0);
	none = findings_take(findings_mark());
	problem(EX_NOPERM, "meanwhile.pem", "in its turn");
	findings_put(t);
	findings_put(none);
	findings_put(NULL);
	CHECK_INT(count(), 4);
	if (count() == 4) {
		CHECK_STR(nth(0)->file, "first.pem");
		CHECK_STR(nth(1)->file, "meanwhile.pem");
		CHECK_STR(nth(2)->file, "ahead.pem");
		CHECK_STR(nth(3)->file, "ahead2.pem");
	}
	CHECK_INT(findings_status(), EX_NOPERM);
}

/* Every byte a file name or a subject may hold, and the wire's own. */
static const char awkward[] = "line one\nline two\ttab \036fix? 12:34 - F L "
    "\\ \"quoted\" \xc3\xa4 \x01\x7f";

/* Findings and listings made, exported, freed and imported again. */
static void
a_workers_findings_come_back_whole(void)
{
	static const char	*names[] = { "mail.example.org", "x\ny" };
	struct listing		 l;
	const struct listing	*lv;
	char			*text = NULL;
	size_t			 len = 0, n, mark, lmark;
	FILE			*f;

	warning("parent.pem", "the parent's own, not exported");
	mark = findings_mark();
	lmark = listings_mark();
	problem(EX_DATAERR, awkward, "%s" FIX "%s", awkward, awkward);
	findings_attribute(mark, awkward);
	warning(NULL, "no file");
	note("note: a note\nof two lines");
	problem(EX_NOPERM, "", "%s", "");	/* empty is not absent */
	/* listing_add keeps the record: its strings are its own. */
	memset(&l, 0, sizeof(l));
	l.name = strdup("sni example.org");
	l.file = strdup(awkward);
	l.subject = strdup("/CN=mail.example.org");
	l.not_after = strdup("2027-01-01");
	l.days_left = -3;
	l.key_bits = 256;
	l.chain_len = 2;
	l.lifetime = 518400;	/* 6 days */
	l.secs_left = -5;
	l.names = malloc(2 * sizeof(*l.names));
	l.names[0] = strdup(names[0]);
	l.names[1] = strdup(names[1]);
	l.nnames = 2;
	listing_add(&l);
	f = open_memstream(&text, &len);
	CHECK_INT(findings_export(f, mark, lmark), 0);
	fclose(f);
	findings_free();
	CHECK_INT(findings_import(text, len), 0);
	free(text);
	CHECK_INT(count(), 4);
	if (count() == 4) {
		CHECK_INT(nth(0)->severity, FND_PROBLEM);
		CHECK_INT(nth(0)->ex, EX_DATAERR);
		CHECK_STR(nth(0)->identity, awkward);
		CHECK_STR(nth(0)->file, awkward);
		CHECK_STR(nth(0)->text, awkward);
		CHECK_STR(nth(0)->fix, awkward);
		CHECK_INT(nth(1)->severity, FND_WARNING);
		CHECK(nth(1)->file == NULL && nth(1)->fix == NULL &&
		    nth(1)->identity == NULL);
		CHECK_INT(nth(2)->severity, FND_NOTE);
		CHECK_STR(nth(2)->text, "note: a note\nof two lines");
		CHECK(same(nth(3)->file, "") && same(nth(3)->text, ""));
		CHECK_INT(nth(3)->ex, EX_NOPERM);
	}
	CHECK_INT(findings_status(), EX_DATAERR);
	lv = listings_all(&n);
	CHECK_INT(n, 1);
	if (n == 1) {
		CHECK_STR(lv[0].name, "sni example.org");
		CHECK_STR(lv[0].file, awkward);
		CHECK(lv[0].key == NULL && lv[0].issuer == NULL);
		CHECK_STR(lv[0].subject, "/CN=mail.example.org");
		CHECK_STR(lv[0].not_after, "2027-01-01");
		CHECK_INT(lv[0].days_left, -3);
		CHECK_INT(lv[0].key_bits, 256);
		CHECK_INT(lv[0].chain_len, 2);
		CHECK_INT(lv[0].lifetime, 518400);
		CHECK_INT(lv[0].secs_left, -5);
		CHECK_INT(lv[0].nnames, 2);
		if (lv[0].nnames == 2)
			CHECK_STR(lv[0].names[1], "x\ny");
		CHECK(lv[0].dane == NULL);
	}
}

static void
an_empty_export_imports_as_nothing(void)
{
	char	*text = NULL;
	size_t	 len = 0;
	FILE	*f;

	warning("a.pem", "before");
	f = open_memstream(&text, &len);
	CHECK_INT(findings_export(f, findings_mark(), listings_mark()), 0);
	fclose(f);
	CHECK_INT(len, 0);
	CHECK_INT(findings_import(text, len), 0);
	CHECK_INT(count(), 1);
	free(text);
}

/* The import of TEXT: its return; what it added is dropped again. */
static int
import(const char *text, size_t *added)
{
	size_t	mark = findings_mark();
	int	rc = findings_import(text, strlen(text));

	*added = findings_mark() - mark;
	findings_drop(mark);
	return rc;
}

static void
a_garbled_export_is_refused_and_adds_no_garbled_record(void)
{
	static const char *const bad[] = {
		"X",			/* no such record */
		"F",			/* cut before its fields */
		"F1:2",			/* cut after the severity */
		"F1:21:0--4:text",	/* cut before the fix */
		"F1:71:0--4:text-",	/* no such severity */
		"F2:-11:0--4:text-",	/* a negative severity */
		"F1:21:x--4:text-",	/* a status that is no number */
		"F1:21:0----",		/* a finding with no text */
		"F1:21:0--9:text-",	/* a length past the end */
		"F1:21:0--4text-",	/* no colon after the length */
		"F-1:0--4:text-",	/* a severity that is absent */
		"L-",			/* a listing with no name */
		"L1:a-------1:01:01:01:01:01:1-",	/* a name that is absent */
		"L1:a-------1:01:01:01:01:02:-1",	/* a negative count */
		"L1:a-------1:01:01:01:01:1-",	/* cut in the lifetime */
	};
	size_t	i, added;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (import(bad[i], &added) != -1)
			unit_fail(__FILE__, __LINE__, "accepted: %s", bad[i]);
		if (added != 0)
			unit_fail(__FILE__, __LINE__, "%s: %zu added", bad[i],
			    added);
	}
	CHECK_INT(import("F1:21:0--4:text-", &added), 0);
	CHECK_INT(added, 1);
	/* Whole records before the damage are kept; the caller says why. */
	CHECK_INT(import("F1:21:0--4:text-F1:2", &added), -1);
	CHECK_INT(added, 1);
	CHECK_INT(import("F1:21:0--4:text-trailing", &added), -1);
	CHECK_INT(added, 1);
	CHECK_INT(import("L1:a-------1:01:01:01:01:01:1-", &added), -1);
	CHECK_INT(import("L1:a-------1:01:01:01:01:01:11:b", &added), 0);
	{
		size_t	n;

		(void)listings_all(&n);
		CHECK_INT(n, 1);
	}
}

static void
a_dane_verdict_is_set_once_per_identity(void)
{
	struct listing		 l;
	const struct listing	*lv;
	size_t			 n;

	memset(&l, 0, sizeof(l));
	l.name = strdup("smtpd");
	listing_add(&l);
	l.name = strdup("other");
	listing_add(&l);
	listing_dane("smtpd", "mismatch", 1);
	listing_dane("smtpd", "match", 0);
	listing_dane("nobody", "match", 1);
	lv = listings_all(&n);
	CHECK_INT(n, 2);
	if (n == 2) {
		CHECK_STR(lv[0].dane, "mismatch");
		CHECK_INT(lv[0].dane_validated, 1);
		CHECK(lv[1].dane == NULL);
	}
}

static void
debug_is_said_at_once_under_v_and_never_recorded(void)
{
	debug("quiet %d", 1);
	CHECK_SILENT();
	findings_init(1);
	CHECK_INT(verbose(), 1);
	debug("loud %d", 2);
	CHECK_SAID("postfix-tls-setup: loud 2\n");
	CHECK_INT(count(), 0);
	findings_init(0);
	CHECK_INT(verbose(), 0);
}

/* vdebug through a variadic front, as secure.c and material.c call it. */
static void __attribute__((format(printf, 2, 3)))
vdebug_of(const char *file, const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	vdebug(file, fmt, ap);
	va_end(ap);
}

static void
a_problem_a_run_can_do_without_is_said_only_under_v(void)
{
	warning("kept.pem", "kept");
	vdebug_of("opt.pem", "cannot open %s" FIX "%s", "it", "ignored");
	CHECK_INT(count(), 1);
	CHECK(!said("opt.pem"));
	findings_init(1);
	vdebug_of("opt.pem", "cannot open %s" FIX "%s", "it", "ignored");
	CHECK_SAID("postfix-tls-setup: opt.pem: cannot open it (ignored)\n");
	CHECK_INT(count(), 1);		/* said, not recorded */
	CHECK_STR(nth(0)->file, "kept.pem");
	findings_init(0);
}

static void
an_openssl_failure_names_its_reason_and_clears_the_queue(void)
{
	static const unsigned char	 junk[] = { 0x30, 0x03, 0x02, 0x01 };
	const unsigned char		*p = junk;
	X509				*x;

	crypto_problem(EX_SOFTWARE, "a.pem", "cannot encode the bundle");
	CHECK_SAID("a.pem: cannot encode the bundle (unknown error)");
	x = d2i_X509(NULL, &p, sizeof(junk));
	CHECK(x == NULL);
	CHECK(ERR_peek_error() != 0);
	crypto_problem(EX_DATAERR, "b.pem", "cannot read a certificate");
	CHECK_INT(ERR_peek_error(), 0);
	CHECK(nth(1) != NULL && !strncmp(nth(1)->text, "cannot read a "
	    "certificate (", strlen("cannot read a certificate (")) &&
	    strcmp(nth(1)->text, "cannot read a certificate (unknown "
	    "error)") != 0);
	CHECK_INT(findings_status(), EX_SOFTWARE);
}

static const struct unit_test tests[] = {
	{ "the fix is what follows FIX in the format",
	    the_fix_is_what_follows_fix_in_the_format },
	{ "without FIX a message has no fix",
	    without_fix_a_message_has_no_fix },
	{ "a FIX byte in an argument cuts nothing",
	    a_fix_byte_in_an_argument_cuts_nothing },
	{ "the first problem decides the exit status",
	    the_first_problem_decides_the_exit_status },
	{ "notes are said as they are, warnings prefixed",
	    notes_are_said_as_they_are_and_warnings_prefixed },
	{ "findings since a mark are attributed to an identity",
	    findings_since_a_mark_are_attributed_to_an_identity },
	{ "findings since a mark are dropped",
	    findings_since_a_mark_are_dropped },
	{ "findings taken out are put back after those said meanwhile",
	    findings_taken_out_are_put_back_after_those_said_meanwhile },
	{ "a worker's findings and listings come back whole",
	    a_workers_findings_come_back_whole },
	{ "an empty export imports as nothing",
	    an_empty_export_imports_as_nothing },
	{ "a garbled export is refused and adds no garbled record",
	    a_garbled_export_is_refused_and_adds_no_garbled_record },
	{ "a DANE verdict is set once per identity",
	    a_dane_verdict_is_set_once_per_identity },
	{ "debug is said at once under -v, never recorded",
	    debug_is_said_at_once_under_v_and_never_recorded },
	{ "a problem a run can do without is said only under -v",
	    a_problem_a_run_can_do_without_is_said_only_under_v },
	{ "an OpenSSL failure names its reason and clears the queue",
	    an_openssl_failure_names_its_reason_and_clears_the_queue },
};

UNIT_MAIN("finding", tests, NULL, NULL)
