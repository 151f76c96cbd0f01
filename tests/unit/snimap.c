/*
 * src/snimap.c: which SNI names smtpd would ever look up (sni_name_valid,
 * Postfix's valid_hostname), and tls_server_sni_maps cut into maps as
 * Postfix cuts a list of maps (sni_maps).
 */
#include <stdlib.h>
#include <string.h>

#include "../../src/snimap.h"
#include "harness/unit.h"

static void
host_names_are_valid(void)
{
	CHECK_INT(sni_name_valid("mail.example.org"), 1);
	CHECK_INT(sni_name_valid("a"), 1);
	CHECK_INT(sni_name_valid("a-b.example.org"), 1);
	CHECK_INT(sni_name_valid("_dmarc.example.org"), 1);
	CHECK_INT(sni_name_valid("123.example"), 1);
	CHECK_INT(sni_name_valid("MAIL.Example.ORG"), 1);
	CHECK_INT(sni_name_valid("x1"), 1);
}

static void
what_no_client_name_can_be_is_not(void)
{
	CHECK_INT(sni_name_valid(""), 0);
	CHECK_INT(sni_name_valid("*.example.org"), 0);
	CHECK_INT(sni_name_valid("mail.example.org."), 0);
	CHECK_INT(sni_name_valid(".example.org"), 0);
	CHECK_INT(sni_name_valid("a..b"), 0);
	CHECK_INT(sni_name_valid("-a.example.org"), 0);
	CHECK_INT(sni_name_valid("a-.example.org"), 0);
	CHECK_INT(sni_name_valid("a.-b"), 0);
	CHECK_INT(sni_name_valid("a.b-"), 0);
	CHECK_INT(sni_name_valid("192.0.2.1"), 0);	/* numbers alone */
	CHECK_INT(sni_name_valid("1"), 0);
	CHECK_INT(sni_name_valid("mail example"), 0);
	CHECK_INT(sni_name_valid("m\xc3\xa4il.example"), 0);
}

static void
a_label_of_63_is_valid_and_one_of_64_not(void)
{
	char	name[80];

	memset(name, 'a', 63);
	strcpy(name + 63, ".org");
	CHECK_INT(sni_name_valid(name), 1);
	memset(name, 'a', 64);
	strcpy(name + 64, ".org");
	CHECK_INT(sni_name_valid(name), 0);
	/* Hyphens count toward the 63 too. */
	memset(name, '-', 64);
	name[0] = 'a';
	name[63] = 'b';
	strcpy(name + 64, ".org");
	CHECK_INT(sni_name_valid(name), 0);
	/* The last label alike. */
	strcpy(name, "x.");
	memset(name + 2, 'b', 63);
	name[65] = '\0';
	CHECK_INT(sni_name_valid(name), 1);
	name[65] = 'b';
	name[66] = '\0';
	CHECK_INT(sni_name_valid(name), 0);
}

static void
a_name_of_255_is_valid_and_one_of_256_not(void)
{
	char	name[300];
	size_t	i;

	/* 63 + 1 + 63 + 1 + 63 + 1 + 63 = 255 */
	for (i = 0; i < 255; i++)
		name[i] = i % 64 == 63 ? '.' : 'a';
	name[255] = '\0';
	CHECK_INT(strlen(name), 255);
	CHECK_INT(sni_name_valid(name), 1);
	/* One more character, every label still within 63. */
	name[254] = '.';
	name[255] = 'a';
	name[256] = '\0';
	CHECK_INT(strlen(name), 256);
	CHECK_INT(sni_name_valid(name), 0);
}

static void
a_list_of_maps_is_cut_at_commas_and_blanks(void)
{
	struct sni_map	*m = NULL;
	size_t		 n = 0;

	CHECK_INT(sni_maps("hash:/etc/postfix/sni,\tbtree:/etc/postfix/b  "
	    "lmdb:/l, cdb:/c texthash:/t", &m, &n), 0);
	CHECK_INT(n, 5);
	if (n == 5) {
		CHECK_STR(m[0].spec, "hash:/etc/postfix/sni");
		CHECK_STR(m[0].type, "hash");
		CHECK_STR(m[0].source, "/etc/postfix/sni");
		CHECK_STR(m[0].db, "/etc/postfix/sni.db");
		CHECK(m[0].text == NULL);
		CHECK_STR(m[1].db, "/etc/postfix/b.db");
		CHECK_STR(m[2].db, "/l.lmdb");
		CHECK_STR(m[3].db, "/c.cdb");
		CHECK_STR(m[4].source, "/t");
		CHECK(m[4].db == NULL);
	}
	CHECK_SILENT();
	sni_maps_free(m, n);
	CHECK_INT(sni_maps("", &m, &n), 0);
	CHECK_INT(n, 0);
	sni_maps_free(m, n);
}

static void
an_inline_map_keeps_its_braces_together(void)
{
	struct sni_map	*m = NULL;
	size_t		 n = 0;

	CHECK_INT(sni_maps("inline:{ {a.example = /k1, /c1}, "
	    "{b.example=/k2} }, hash:/x", &m, &n), 0);
	CHECK_INT(n, 2);
	if (n == 2) {
		CHECK_STR(m[0].type, "inline");
		CHECK_STR(m[0].text, " {a.example = /k1, /c1}, {b.example=/k2} ");
		CHECK(m[0].source == NULL && m[0].db == NULL);
		CHECK_STR(m[1].spec, "hash:/x");
	}
	sni_maps_free(m, n);
}

static void
maps_postfix_refuses_are_refused_and_unknown_types_said(void)
{
	struct sni_map	*m = NULL;
	size_t		 n = 0;

	CHECK_INT(sni_maps("hash:etc/sni", &m, &n), -1);
	CHECK_SAID("hash:etc/sni: tls_server_sni_maps names a relative file");
	CHECK(m == NULL && n == 0);
	CHECK_INT(sni_maps("inline:{ {a = /b}", &m, &n), -1);
	CHECK_SAID("unbalanced braces");
	CHECK_INT(sni_maps("inline:{a}x", &m, &n), -1);
	CHECK_INT(sni_maps("/etc/postfix/sni", &m, &n), -1);
	CHECK_SAID("/etc/postfix/sni: tls_server_sni_maps: not of the form "
	    "type:name");
	CHECK_INT(sni_maps("hash:", &m, &n), -1);
	/* Every map's problem is said before the refusal. */
	CHECK_INT(sni_maps("hash:rel1, hash:/ok, btree:rel2", &m, &n), -1);
	CHECK_SAID("hash:rel1: tls_server_sni_maps names a relative file");
	CHECK_SAID("btree:rel2: tls_server_sni_maps names a relative file");
	CHECK(m == NULL && n == 0);
	/* A type not read here: said, and left out; the rest is read. */
	CHECK_INT(sni_maps("ldap:/etc/postfix/ldap.cf, hash:/x", &m, &n), 0);
	CHECK_INT(n, 1);
	CHECK_SAID("warning: ldap:/etc/postfix/ldap.cf: not checked");
	sni_maps_free(m, n);
}

static const struct unit_test tests[] = {
	{ "host names are valid SNI names", host_names_are_valid },
	{ "what no client's name can be is not",
	    what_no_client_name_can_be_is_not },
	{ "a label of 63 is valid, one of 64 not",
	    a_label_of_63_is_valid_and_one_of_64_not },
	{ "a name of 255 is valid, one of 256 not",
	    a_name_of_255_is_valid_and_one_of_256_not },
	{ "a list of maps is cut at commas and blanks",
	    a_list_of_maps_is_cut_at_commas_and_blanks },
	{ "an inline map keeps its braces together",
	    an_inline_map_keeps_its_braces_together },
	{ "maps Postfix refuses are refused, unknown types said",
	    maps_postfix_refuses_are_refused_and_unknown_types_said },
};

UNIT_MAIN("snimap", tests, NULL, NULL)
