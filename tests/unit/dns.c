/*
 * src/dns.c: a resolver's reply for _25._tcp.NAME, as any bytes, read
 * into TLSA records (dns_parse): the AD bit, CNAMEs within the reply,
 * answers that mean "no records", and damage that means DNS trouble.
 */
#include <stdlib.h>
#include <string.h>

#include "../../src/dns.h"
#include "harness/unit.h"

#define QNAME	"_25._tcp.mail.example.org"
#define T_TLSA	52
#define T_CNAME	5
#define T_A	1
#define C_IN	1
#define F_QR	0x8000
#define F_AD	0x0020
#define F_RD	0x0100
#define F_RA	0x0080

static void
u16(struct buf *b, unsigned v)
{
	unsigned char	x[2] = { v >> 8, v & 0xff };

	buf_add(b, x, 2);
}

static void
name(struct buf *b, const char *n)
{
	const char	*dot;
	unsigned char	 len;

	for (; *n != '\0'; n = *dot ? dot + 1 : dot) {
		dot = strchr(n, '.');
		if (dot == NULL)
			dot = n + strlen(n);
		len = dot - n;
		buf_add(b, &len, 1);
		buf_add(b, n, len);
	}
	buf_add(b, "", 1);
}

/* A reply header and the question for QNAME. */
static void
reply(struct buf *b, unsigned flags, unsigned ancount)
{
	u16(b, 0x1234);
	u16(b, F_QR | F_RD | F_RA | flags);
	u16(b, 1);
	u16(b, ancount);
	u16(b, 0);
	u16(b, 0);
	name(b, QNAME);
	u16(b, T_TLSA);
	u16(b, C_IN);
}

static void
rr(struct buf *b, const char *owner, unsigned type, unsigned class,
    const void *rdata, size_t rdlen)
{
	name(b, owner);
	u16(b, type);
	u16(b, class);
	u16(b, 0);
	u16(b, 300);
	u16(b, rdlen);
	buf_add(b, rdata, rdlen);
}

static void
tlsa(struct buf *b, const char *owner, unsigned char usage,
    unsigned char selector, unsigned char mtype, size_t datalen)
{
	unsigned char	rd[3 + 64];

	rd[0] = usage;
	rd[1] = selector;
	rd[2] = mtype;
	memset(rd + 3, 0xab, datalen);
	rr(b, owner, T_TLSA, C_IN, rd, 3 + datalen);
}

static void
cname(struct buf *b, const char *owner, const char *target)
{
	struct buf	rd = { 0 };

	name(&rd, target);
	rr(b, owner, T_CNAME, C_IN, rd.p, rd.len);
	buf_free(&rd);
}

/* dns_parse over the first LEN bytes of B (all: -1), on a fresh set. */
static int
parse(struct tlsa_set *t, const struct buf *b, long len)
{
	size_t		 n = len < 0 ? b->len : (size_t)len;
	unsigned char	*bytes = buf_exact(b, n);
	int		 rc;

	memset(t, 0, sizeof(*t));
	strlcpy(t->qname, QNAME, sizeof(t->qname));
	rc = dns_parse(t, bytes, n);
	free(bytes);
	return rc;
}

static void
validated_records_are_read_whole(void)
{
	struct buf	 b = { 0 };
	struct tlsa_set	 t;

	reply(&b, F_AD, 2);
	tlsa(&b, QNAME, 3, 1, 1, 32);
	tlsa(&b, "_25._TCP.Mail.Example.Org", 2, 0, 2, 64);
	CHECK_INT(parse(&t, &b, -1), 0);
	CHECK_INT(t.status, DNS_FOUND);
	CHECK_INT(t.validated, 1);
	CHECK_INT(t.n, 2);
	if (t.n == 2) {
		CHECK_INT(t.v[0].usage, 3);
		CHECK_INT(t.v[0].selector, 1);
		CHECK_INT(t.v[0].mtype, 1);
		CHECK_INT(t.v[0].len, 32);
		CHECK_INT(t.v[0].data[31], 0xab);
		CHECK_INT(t.v[1].usage, 2);
		CHECK_INT(t.v[1].mtype, 2);
		CHECK_INT(t.v[1].len, 64);
	}
	CHECK_STR(t.owner, QNAME);
	tlsa_set_clear(&t);
	buf_free(&b);
}

static void
without_the_ad_bit_the_records_are_not_validated(void)
{
	struct buf	 b = { 0 };
	struct tlsa_set	 t;

	reply(&b, 0, 1);
	tlsa(&b, QNAME, 3, 1, 1, 32);
	CHECK_INT(parse(&t, &b, -1), 0);
	CHECK_INT(t.status, DNS_FOUND);
	CHECK_INT(t.validated, 0);
	tlsa_set_clear(&t);
	buf_free(&b);
}

static void
answers_other_than_nxdomain_can_mean_no_records(void)
{
	struct buf	 b = { 0 };
	struct tlsa_set	 t;
	unsigned char	 a[4] = { 192, 0, 2, 1 };
	unsigned char	 rd[3] = { 3, 1, 1 };

	/* NOERROR with no answer (NODATA). */
	reply(&b, F_AD, 0);
	CHECK_INT(parse(&t, &b, -1), 0);
	CHECK_INT(t.status, DNS_NONE);
	CHECK_INT(t.n, 0);
	buf_free(&b);
	/* Records of another name, of another type, of another class. */
	reply(&b, F_AD, 3);
	tlsa(&b, "_25._tcp.other.example.org", 3, 1, 1, 32);
	rr(&b, QNAME, T_A, C_IN, a, sizeof(a));
	name(&b, QNAME);
	u16(&b, T_TLSA);
	u16(&b, 3);	/* CHAOS */
	u16(&b, 0);
	u16(&b, 300);
	u16(&b, 35);
	buf_add(&b, rd, 3);
	buf_add(&b, a, 4);
	buf_add(&b, a, 4);
	buf_add(&b, a, 4);
	buf_add(&b, a, 4);
	buf_add(&b, a, 4);
	buf_add(&b, a, 4);
	buf_add(&b, a, 4);
	buf_add(&b, a, 4);
	CHECK_INT(parse(&t, &b, -1), 0);
	CHECK_INT(t.status, DNS_NONE);
	tlsa_set_clear(&t);
	buf_free(&b);
}

static void
a_record_with_no_data_is_passed_over_and_one_byte_is_data(void)
{
	struct buf	 b = { 0 };
	struct tlsa_set	 t;
	unsigned char	 rd[4] = { 3, 1, 1, 0xcd };

	reply(&b, F_AD, 2);
	rr(&b, QNAME, T_TLSA, C_IN, rd, 3);	/* no data at all */
	rr(&b, QNAME, T_TLSA, C_IN, rd, 4);	/* one byte of it */
	CHECK_INT(parse(&t, &b, -1), 0);
	CHECK_INT(t.status, DNS_FOUND);
	CHECK_INT(t.n, 1);
	if (t.n == 1) {
		CHECK_INT(t.v[0].len, 1);
		CHECK_INT(t.v[0].data[0], 0xcd);
	}
	tlsa_set_clear(&t);
	buf_free(&b);
}

static void
cnames_within_the_reply_are_followed_to_the_records(void)
{
	struct buf	 b = { 0 };
	struct tlsa_set	 t;

	/* Out of order: the records first, then the CNAMEs to them. */
	reply(&b, F_AD, 3);
	tlsa(&b, "_25._tcp.mx.provider.net", 3, 1, 1, 32);
	cname(&b, "_25._tcp.hop.example.org", "_25._tcp.mx.provider.net");
	cname(&b, QNAME, "_25._tcp.hop.example.org");
	CHECK_INT(parse(&t, &b, -1), 0);
	CHECK_INT(t.status, DNS_FOUND);
	CHECK_INT(t.n, 1);
	CHECK_STR(t.owner, "_25._tcp.mx.provider.net");
	tlsa_set_clear(&t);
	buf_free(&b);
	/* Records at the name asked for, beside a CNAME: the CNAME wins. */
	reply(&b, F_AD, 2);
	tlsa(&b, QNAME, 3, 1, 1, 32);
	cname(&b, QNAME, "_25._tcp.gone.example.org");
	CHECK_INT(parse(&t, &b, -1), 0);
	CHECK_INT(t.status, DNS_NONE);
	tlsa_set_clear(&t);
	buf_free(&b);
}

/* A reply with a chain of HOPS CNAMEs from QNAME, then the records. */
static void
chain_of_cnames(struct buf *b, int hops)
{
	char	from[64], to[64];
	int	i;

	reply(b, F_AD, hops + 1);
	strlcpy(from, QNAME, sizeof(from));
	for (i = 1; i <= hops; i++) {
		snprintf(to, sizeof(to), "_25._tcp.h%d.example.org", i);
		cname(b, from, to);
		strlcpy(from, to, sizeof(from));
	}
	tlsa(b, from, 3, 1, 1, 32);
}

static void
eight_cnames_are_followed_and_nine_are_a_loop(void)
{
	struct buf	 b = { 0 };
	struct tlsa_set	 t;

	chain_of_cnames(&b, 8);
	CHECK_INT(parse(&t, &b, -1), 0);
	CHECK_INT(t.status, DNS_FOUND);
	CHECK_STR(t.owner, "_25._tcp.h8.example.org");
	tlsa_set_clear(&t);
	buf_free(&b);
	chain_of_cnames(&b, 9);
	CHECK_INT(parse(&t, &b, -1), 0);
	CHECK_INT(t.status, DNS_TROUBLE);
	CHECK(strstr(t.why, "a loop of CNAMEs from " QNAME) != NULL);
	CHECK_INT(t.n, 0);
	buf_free(&b);
	/* A real loop. */
	reply(&b, F_AD, 2);
	cname(&b, QNAME, "_25._tcp.x.example.org");
	cname(&b, "_25._tcp.x.example.org", QNAME);
	CHECK_INT(parse(&t, &b, -1), 0);
	CHECK_INT(t.status, DNS_TROUBLE);
	buf_free(&b);
}

static void
a_reply_cut_short_anywhere_is_trouble_never_records(void)
{
	struct buf	 b = { 0 };
	struct tlsa_set	 t;
	size_t		 n;

	reply(&b, F_AD, 2);
	tlsa(&b, QNAME, 3, 1, 1, 32);
	tlsa(&b, QNAME, 2, 1, 1, 32);
	for (n = 0; n < b.len; n++) {
		CHECK_INT(parse(&t, &b, n), 0);
		if (t.status != DNS_TROUBLE)
			unit_fail(__FILE__, __LINE__, "cut at %zu of %zu: "
			    "status %d", n, b.len, t.status);
		CHECK_INT(t.n, 0);
		CHECK_STR(t.why, "the resolver's answer is damaged");
		tlsa_set_clear(&t);
	}
	CHECK_INT(parse(&t, &b, -1), 0);
	CHECK_INT(t.n, 2);
	tlsa_set_clear(&t);
	buf_free(&b);
}

static void
a_count_larger_than_the_records_is_damage(void)
{
	struct buf	 b = { 0 };
	struct tlsa_set	 t;

	reply(&b, F_AD, 3);	/* says 3, holds 2 */
	tlsa(&b, QNAME, 3, 1, 1, 32);
	tlsa(&b, QNAME, 2, 1, 1, 32);
	CHECK_INT(parse(&t, &b, -1), 0);
	CHECK_INT(t.status, DNS_TROUBLE);
	CHECK_INT(t.n, 0);
	buf_free(&b);
}

/* A compression pointer to offset OFF of the message. */
static void
ptr(struct buf *b, unsigned off)
{
	u16(b, 0xc000 | off);
}

/* A record whose owner is a pointer to OFF (the question is at 12). */
static void
rr_at(struct buf *b, unsigned off, unsigned type, const void *rdata,
    size_t rdlen)
{
	ptr(b, off);
	u16(b, type);
	u16(b, C_IN);
	u16(b, 0);
	u16(b, 300);
	u16(b, rdlen);
	buf_add(b, rdata, rdlen);
}

static void
compressed_names_are_read_as_resolvers_send_them(void)
{
	struct buf	 b = { 0 };
	struct tlsa_set	 t;
	unsigned char	 rd[3 + 32] = { 3, 1, 1 };
	unsigned char	 target[64];
	size_t		 at;

	/* Owners as pointers to the question's name. */
	memset(rd + 3, 0xcd, 32);
	reply(&b, F_AD, 2);
	rr_at(&b, 12, T_TLSA, rd, sizeof(rd));
	rr_at(&b, 12, T_TLSA, rd, sizeof(rd));
	CHECK_INT(parse(&t, &b, -1), 0);
	CHECK_INT(t.status, DNS_FOUND);
	CHECK_INT(t.n, 2);
	tlsa_set_clear(&t);
	buf_free(&b);
	/*
	 * A CNAME whose target is "mx" then a pointer to "example.org" in
	 * the question (12 + 1 + 3 + 1 + 4 + 1 + 4 = "example.org" at 26),
	 * and the records at that target as a pointer to the CNAME's data.
	 */
	reply(&b, F_AD, 2);
	target[0] = 2;
	memcpy(target + 1, "mx", 2);
	target[3] = 0xc0;
	target[4] = 26;
	rr_at(&b, 12, T_CNAME, target, 5);
	at = b.len - 5;
	rr_at(&b, at, T_TLSA, rd, sizeof(rd));
	CHECK_INT(parse(&t, &b, -1), 0);
	CHECK_INT(t.status, DNS_FOUND);
	CHECK_STR(t.owner, "mx.example.org");
	CHECK_INT(t.n, 1);
	tlsa_set_clear(&t);
	buf_free(&b);
}

static void
a_pointer_loop_is_damage_never_a_hang(void)
{
	struct buf	 b = { 0 };
	struct tlsa_set	 t;
	unsigned char	 rd[4] = { 3, 1, 1, 0xab };
	size_t		 at;

	reply(&b, F_AD, 1);
	at = b.len;
	rr_at(&b, at, T_TLSA, rd, sizeof(rd));	/* its owner: itself */
	CHECK_INT(parse(&t, &b, -1), 0);
	CHECK_INT(t.status, DNS_TROUBLE);
	CHECK_INT(t.n, 0);
	buf_free(&b);
	/* A pointer past the end of the message. */
	reply(&b, F_AD, 1);
	rr_at(&b, 0x3fff, T_TLSA, rd, sizeof(rd));
	CHECK_INT(parse(&t, &b, -1), 0);
	CHECK_INT(t.status, DNS_TROUBLE);
	buf_free(&b);
}

static void
records_outside_the_answer_section_are_not_the_answer(void)
{
	struct buf	 b = { 0 };
	struct tlsa_set	 t;

	/* One TLSA record in the authority and one in the additional. */
	u16(&b, 0x1234);
	u16(&b, F_QR | F_RD | F_RA | F_AD);
	u16(&b, 1);
	u16(&b, 0);
	u16(&b, 1);
	u16(&b, 1);
	name(&b, QNAME);
	u16(&b, T_TLSA);
	u16(&b, C_IN);
	tlsa(&b, QNAME, 3, 1, 1, 32);
	tlsa(&b, QNAME, 3, 1, 1, 32);
	CHECK_INT(parse(&t, &b, -1), 0);
	CHECK_INT(t.status, DNS_NONE);
	CHECK_INT(t.n, 0);
	buf_free(&b);
}

static void
bytes_after_the_last_record_are_damage(void)
{
	struct buf	 b = { 0 };
	struct tlsa_set	 t;

	reply(&b, F_AD, 1);
	tlsa(&b, QNAME, 3, 1, 1, 32);
	buf_add(&b, "", 1);
	CHECK_INT(parse(&t, &b, -1), 0);
	CHECK_INT(t.status, DNS_TROUBLE);
	CHECK_INT(t.n, 0);
	buf_free(&b);
}

static void
a_record_of_a_whole_certificate_is_read_whole(void)
{
	struct buf	 b = { 0 };
	struct tlsa_set	 t;
	unsigned char	 rd[3 + 1400];
	size_t		 i;

	/* 3 0 0: the whole DER certificate, longer than any digest. */
	rd[0] = 3;
	rd[1] = 0;
	rd[2] = 0;
	for (i = 3; i < sizeof(rd); i++)
		rd[i] = i & 0xff;
	reply(&b, 0, 1);
	rr(&b, QNAME, T_TLSA, C_IN, rd, sizeof(rd));
	CHECK_INT(parse(&t, &b, -1), 0);
	CHECK_INT(t.n, 1);
	if (t.n == 1) {
		CHECK_INT(t.v[0].selector, 0);
		CHECK_INT(t.v[0].mtype, 0);
		CHECK_INT(t.v[0].len, 1400);
		CHECK(memcmp(t.v[0].data, rd + 3, 1400) == 0);
	}
	tlsa_set_clear(&t);
	buf_free(&b);
}

static void
a_record_shorter_than_its_fields_is_passed_over(void)
{
	struct buf	 b = { 0 };
	struct tlsa_set	 t;
	unsigned char	 rd[4] = { 3, 1, 1, 0xef };

	reply(&b, F_AD, 4);
	rr(&b, QNAME, T_TLSA, C_IN, rd, 0);
	rr(&b, QNAME, T_TLSA, C_IN, rd, 1);
	rr(&b, QNAME, T_TLSA, C_IN, rd, 2);
	rr(&b, QNAME, T_TLSA, C_IN, rd, 4);
	CHECK_INT(parse(&t, &b, -1), 0);
	CHECK_INT(t.status, DNS_FOUND);
	CHECK_INT(t.n, 1);
	/* Only such records: no records, not trouble. */
	tlsa_set_clear(&t);
	buf_free(&b);
	reply(&b, F_AD, 1);
	rr(&b, QNAME, T_TLSA, C_IN, rd, 2);
	CHECK_INT(parse(&t, &b, -1), 0);
	CHECK_INT(t.status, DNS_NONE);
	buf_free(&b);
}

static void
cnames_and_records_match_their_owners_in_any_case(void)
{
	struct buf	 b = { 0 };
	struct tlsa_set	 t;

	reply(&b, F_AD, 3);
	cname(&b, "_25._tcp.MAIL.example.org", "_25._tcp.HOP.example.org");
	cname(&b, "_25._tcp.hop.example.org", "_25._TCP.MX.Provider.NET");
	tlsa(&b, "_25._tcp.mx.provider.net", 3, 1, 1, 32);
	CHECK_INT(parse(&t, &b, -1), 0);
	CHECK_INT(t.status, DNS_FOUND);
	CHECK_INT(t.n, 1);
	CHECK_STR(t.owner, "_25._TCP.MX.Provider.NET");
	tlsa_set_clear(&t);
	buf_free(&b);
}

static const struct unit_test tests[] = {
	{ "validated records are read whole, owner in any case",
	    validated_records_are_read_whole },
	{ "without the AD bit the records are not validated",
	    without_the_ad_bit_the_records_are_not_validated },
	{ "answers other than NXDOMAIN can mean no records",
	    answers_other_than_nxdomain_can_mean_no_records },
	{ "a record with no data is passed over, one byte is data",
	    a_record_with_no_data_is_passed_over_and_one_byte_is_data },
	{ "CNAMEs within the reply are followed to the records",
	    cnames_within_the_reply_are_followed_to_the_records },
	{ "8 CNAMEs are followed, 9 are a loop",
	    eight_cnames_are_followed_and_nine_are_a_loop },
	{ "a reply cut short anywhere is trouble, never records",
	    a_reply_cut_short_anywhere_is_trouble_never_records },
	{ "a count larger than the records is damage",
	    a_count_larger_than_the_records_is_damage },
	{ "compressed names are read as resolvers send them",
	    compressed_names_are_read_as_resolvers_send_them },
	{ "a pointer loop is damage, never a hang",
	    a_pointer_loop_is_damage_never_a_hang },
	{ "records outside the answer section are not the answer",
	    records_outside_the_answer_section_are_not_the_answer },
	{ "bytes after the last record are damage",
	    bytes_after_the_last_record_are_damage },
	{ "a record of a whole certificate is read whole",
	    a_record_of_a_whole_certificate_is_read_whole },
	{ "a record shorter than its fields is passed over",
	    a_record_shorter_than_its_fields_is_passed_over },
	{ "CNAMEs and records match their owners in any case",
	    cnames_and_records_match_their_owners_in_any_case },
};

UNIT_MAIN("dns", tests, NULL, NULL)
