/*
 * What a certificate says, for people and monitors: its facts (subject,
 * issuer, DNS names, expiry, key, signature) extracted once, by
 * facts_of, for both the chain view that check prints and the record
 * that check --json writes.  Every string is ASCII without control
 * bytes: names are printed with OpenSSL's RFC 2253 escapes, and any
 * byte outside printable ASCII left after that becomes \XX, so a
 * subject can never start a line of its own in a log or a terminal.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <time.h>

#include <openssl/bio.h>
#include <openssl/x509v3.h>

#include "chain.h"
#include "common.h"
#include "finding.h"
#include "inspect.h"

#define TREE_NAMES	8	/* DNS names the tree shows; JSON has all */

/* Postfix's (and OpenSSL's) name for a key algorithm: its slot. */
const char *
key_type_name(int id)
{
	switch (id) {
	case EVP_PKEY_RSA:
	case EVP_PKEY_RSA_PSS:
		return "RSA";
	case EVP_PKEY_EC:
		return "ECDSA";
	case EVP_PKEY_DSA:
		return "DSA";
	default:
		return OBJ_nid2sn(id);
	}
}

/* The leaf's key algorithm as OpenSSL's slot for it: RSA-PSS is RSA's. */
int
key_slot_of(X509 *x)
{
	EVP_PKEY	*pk = x != NULL ? X509_get0_pubkey(x) : NULL;
	int		 id = pk != NULL ? EVP_PKEY_get_base_id(pk) : 0;

	return id == EVP_PKEY_RSA_PSS ? EVP_PKEY_RSA : id;
}

/* N bytes as a string, each byte outside printable ASCII as \XX. */
static char *
printable(const unsigned char *p, size_t n)
{
	char	*s, *o;
	size_t	 i;

	if ((s = o = malloc(4 * n + 1)) == NULL)
		return NULL;
	for (i = 0; i < n; i++)
		if (p[i] < 0x20 || p[i] >= 0x7f)
			o += sprintf(o, "\\%02X", p[i]);
		else
			*o++ = p[i];
	*o = '\0';
	return s;
}

/* A distinguished name on one line, as RFC 2253 writes it. */
static char *
name_of(const X509_NAME *name)
{
	BIO	*b;
	char	*data, *s = NULL;
	long	 len;

	if ((b = BIO_new(BIO_s_mem())) == NULL)
		return NULL;
	if (X509_NAME_print_ex(b, name, 0, XN_FLAG_RFC2253) >= 0 &&
	    (len = BIO_get_mem_data(b, &data)) >= 0)
		s = printable((unsigned char *)data, len);
	BIO_free(b);
	return s;
}

/* The leaf's DNS subjectAltNames, printable. */
static int
dns_names(X509 *x, struct facts *f)
{
	GENERAL_NAMES	*gens;
	GENERAL_NAME	*g;
	int		 i, rc = 0;

	gens = X509_get_ext_d2i(x, NID_subject_alt_name, NULL, NULL);
	if (gens != NULL && (f->names = reallocarray(NULL,
	    sk_GENERAL_NAME_num(gens), sizeof(*f->names))) == NULL)
		rc = -1;
	for (i = 0; rc == 0 && i < sk_GENERAL_NAME_num(gens); i++) {
		g = sk_GENERAL_NAME_value(gens, i);
		if (g->type != GEN_DNS)
			continue;
		if ((f->names[f->nnames] = printable(ASN1_STRING_get0_data(
		    g->d.dNSName), ASN1_STRING_length(g->d.dNSName))) == NULL)
			rc = -1;
		else
			f->nnames++;
	}
	GENERAL_NAMES_free(gens);
	return rc;
}

/* Whole days left, rounded down: -1 from the first second after expiry. */
static int
expiry(const ASN1_TIME *t, struct facts *f)
{
	struct tm	tm;
	long long	left;
	int		days, secs;

	if (ASN1_TIME_to_tm(t, &tm) != 1 ||
	    ASN1_TIME_diff(&days, &secs, NULL, t) != 1)
		return -1;
	strftime(f->not_after, sizeof(f->not_after), "%Y-%m-%dT%H:%M:%SZ",
	    &tm);
	left = (long long)days * 86400 + secs;
	f->days_left = left >= 0 ? left / 86400 : -((-left + 86399) / 86400);
	return 0;
}

/* The facts of X; 0, or -1 out of memory (f is then empty). */
int
facts_of(X509 *x, struct facts *f)
{
	const X509_ALGOR	*alg;
	const ASN1_OBJECT	*oid;
	EVP_PKEY		*pk = X509_get0_pubkey(x);

	memset(f, 0, sizeof(*f));
	X509_get0_signature(NULL, &alg, x);
	X509_ALGOR_get0(&oid, NULL, NULL, alg);
	OBJ_obj2txt(f->sig_alg, sizeof(f->sig_alg), oid, 0);
	f->key_type = pk ? key_type_name(EVP_PKEY_get_base_id(pk)) : NULL;
	if (f->key_type == NULL)
		f->key_type = "unknown";
	f->key_bits = pk ? EVP_PKEY_get_bits(pk) : 0;
	f->self_signed = X509_check_issued(x, x) == X509_V_OK;
	f->dated = expiry(X509_get0_notAfter(x), f) == 0;
	if ((f->subject = name_of(X509_get_subject_name(x))) == NULL ||
	    (f->issuer = name_of(X509_get_issuer_name(x))) == NULL ||
	    dns_names(x, f) == -1) {
		facts_free(f);
		problem(EX_OSERR, NULL, "out of memory");
		return -1;
	}
	return 0;
}

void
facts_free(struct facts *f)
{
	while (f->nnames > 0)
		free(f->names[--f->nnames]);
	free(f->names);
	free(f->subject);
	free(f->issuer);
	memset(f, 0, sizeof(*f));
}

/* "2027-12-02 07:00Z (364 days)", "... (expired 3 days ago)". */
static void
days_text(long long days, const char *iso, char *buf, size_t size)
{
	long long	n = days < 0 ? -days : days;

	snprintf(buf, size, "%.10s %.5sZ (%s%lld day%s%s)", iso, iso + 11,
	    days < 0 ? "expired " : "", n, n == 1 ? "" : "s", days < 0 ?
	    " ago" : "");
}

/* The leaf's names on one line, the first TREE_NAMES of them. */
static void
tree_names(const struct facts *f)
{
	char	*line = NULL, *next;
	size_t	 i;

	for (i = 0; i < f->nnames && i < TREE_NAMES; i++) {
		if (asprintf(&next, "%s%s%s", line ? line : "", line ? ", " :
		    "", f->names[i]) == -1)
			break;
		free(line);
		line = next;
	}
	if (line != NULL)
		note("          names: %s%s", line, f->nnames > TREE_NAMES ?
		    ", ..." : "");
	free(line);
}

/*
 * The chain as it will be served, one certificate after the other, leaf
 * first (its facts LEAF are at hand): what it is, its key and signature,
 * until when; whom it names (the leaf) and who issued it.
 */
void
facts_tree(const struct chain *c, const struct facts *leaf)
{
	struct facts	 own;
	const struct facts *f;
	char		 until[64];
	size_t		 i;

	for (i = 0; i < c->n; i++) {
		if (i > 0 && facts_of(c->x509[i], &own) == -1)
			return;	/* logged */
		f = i == 0 ? leaf : &own;
		if (f->dated)
			days_text(f->days_left, f->not_after, until,
			    sizeof(until));
		else
			strlcpy(until, "an unreadable date", sizeof(until));
		note("  %zu %-5s %s  %s-%d  %s  until %s", i, i == 0 ?
		    "leaf" : f->self_signed ? "root" : "ca", f->subject,
		    f->key_type, f->key_bits, f->sig_alg, until);
		if (i == 0)
			tree_names(f);
		if (!f->self_signed)
			note("          `- issued by %s", f->issuer);
		if (i > 0)
			facts_free(&own);
	}
}
