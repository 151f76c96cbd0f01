/*
 * The unit tier's harness: no framework, one binary per module
 * (tests/unit/NAME.c), linked against the helper's library objects as
 * the fuzzers are.  Each binary lists its tests and ends with
 * UNIT_MAIN(module, tests, setup, done); it prints TAP ("ok N - module:
 * name") and exits 1 when a test failed.  Each test runs in a child
 * process: a crash, or an ASan or valgrind report, fails that test only.
 * Everything a test needs (keys, certificates, DNS messages) is made in
 * memory at run time: no private key is ever committed.
 *
 * What the module under test says is looked at per test: its findings
 * (problem(), warning(), note(): records, finding.h) as the run's end
 * renders them (render_finish: "postfix-tls-setup: [warning: ]FILE: TEXT
 * (FIX)", a note as its text), and whatever it wrote to stdout or stderr
 * itself (debug(), tlsa's records).  said("...") asks whether either held
 * the text; a failing test prints both as TAP comments, and each test's
 * findings are freed when it ends.  A repeated line is said once, so give
 * each case its own path label (the "where" of a message).
 */
#ifndef UNIT_H
#define UNIT_H

#include <stddef.h>
#include <stdio.h>

#include <openssl/evp.h>
#include <openssl/x509.h>

#include "../../../src/common.h"
#include "../../../src/finding.h"

struct unit_test {
	const char	*name;	/* a sentence: what the module does */
	void		(*fn)(void);
};

/*
 * Each test runs in a child process of its own.  SETUP (or NULL) makes
 * what the tests share, once, before them; DONE (or NULL) frees it after.
 */
int	unit_main(const char *module, const struct unit_test *, size_t n,
	    void (*setup)(void), void (*done)(void));
#define UNIT_MAIN(module, tests, setup, done) \
	int main(void) { \
		return unit_main(module, tests, \
		    sizeof(tests) / sizeof(tests[0]), setup, done); \
	}

/* Checks: each failure is reported with its line; the test goes on. */
void	unit_fail(const char *file, int line, const char *fmt, ...)
	    __attribute__((format(printf, 3, 4)));
#define CHECK(cond) do { \
	if (!(cond)) \
		unit_fail(__FILE__, __LINE__, "%s", #cond); \
} while (0)
#define CHECK_INT(got, want) do { \
	long long g_ = (long long)(got), w_ = (long long)(want); \
	if (g_ != w_) \
		unit_fail(__FILE__, __LINE__, "%s is %lld, want %lld", #got, \
		    g_, w_); \
} while (0)
#define CHECK_STR(got, want) do { \
	const char *g_ = (got), *w_ = (want); \
	if (g_ == NULL || strcmp(g_, w_) != 0) \
		unit_fail(__FILE__, __LINE__, "%s is \"%s\", want \"%s\"", \
		    #got, g_ ? g_ : "(null)", w_); \
} while (0)
/* The module said TEXT during this test (a finding, or on stdout/stderr). */
#define CHECK_SAID(text) do { \
	if (!said(text)) \
		unit_fail(__FILE__, __LINE__, "nothing said holds \"%s\"", \
		    text); \
} while (0)
#define CHECK_SILENT() do { \
	if (said("")) \
		unit_fail(__FILE__, __LINE__, "something was said"); \
} while (0)

int	said(const char *text);
/* A test that cannot run here says why (a TAP skip). */
void	unit_skip(const char *why);
int	unit_is_root(void);

/* harness/pki.c: keys and certificates made with OpenSSL's API. */
#define PKI_CA		1	/* basicConstraints CA:TRUE, keyCertSign */
#define PKI_SERVER	2	/* serverAuth, the host as DNS name */
#define PKI_CLIENT	3	/* clientAuth only */
struct pki {
	EVP_PKEY	*key;
	X509		*cert;
};
/* "ec" (P-256), "ec:CURVE", "rsa:BITS", "ed25519". */
EVP_PKEY *pki_key(const char *spec);
/*
 * A certificate for CN (and, for servers, DNS name CN) with KEY, issued
 * by ISSUER (NULL: self-signed), valid from FROM_DAYS to TO_DAYS around
 * now, signed with MD (NULL: SHA-256).
 */
X509	*pki_cert(const char *cn, EVP_PKEY *key, int profile,
	    const struct pki *issuer, long from_days, long to_days,
	    const EVP_MD *md);
/* pki_make: a new key of SPEC and a certificate valid for a year. */
struct pki pki_make(const char *cn, const char *spec, int profile,
	    const struct pki *issuer);
void	pki_free(struct pki *);

/*
 * A growing byte buffer for file contents (PEM text, DNS messages).  Its
 * bytes are a malloc of exactly its length when handed to the module
 * (buf_exact), so ASan and valgrind see any read past the end.
 */
struct buf {
	unsigned char	*p;
	size_t		 len;
};
void	buf_add(struct buf *, const void *, size_t);
void	buf_str(struct buf *, const char *);
void	buf_cert(struct buf *, X509 *);
void	buf_key(struct buf *, EVP_PKEY *);
unsigned char *buf_exact(const struct buf *, size_t len);
void	buf_free(struct buf *);

#endif /* UNIT_H */
