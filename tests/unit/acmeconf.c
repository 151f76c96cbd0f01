/*
 * src/acmeconf.c: a client's setting read as the client reads it
 * (acme_setting: certbot's INI renewal file by section, dehydrated's
 * shell files line by line), and the ACME clients' directories.
 */
#include <string.h>

#include "../../src/acmeconf.h"
#include "harness/unit.h"

/* NAME's value in TEXT under SECTION, or "(none)". */
static const char *
value(const char *text, const char *section, const char *name)
{
	static char	buf[32];

	if (!acme_setting(text, strlen(text), section, name, buf, sizeof(buf)))
		return "(none)";
	return buf;
}

static void
certbot_reads_reuse_key_under_renewalparams_only(void)
{
	CHECK_STR(value("[renewalparams]\nreuse_key = True\n", "renewalparams",
	    "reuse_key"), "True");
	CHECK_STR(value("reuse_key = True\n[renewalparams]\n", "renewalparams",
	    "reuse_key"), "(none)");
	CHECK_STR(value("[renewalparams]\n[[webroot_map]]\nreuse_key = True\n",
	    "renewalparams", "reuse_key"), "(none)");
	CHECK_STR(value("[other]\nreuse_key = True\n[renewalparams]\n"
	    "reuse_key=False\n", "renewalparams", "reuse_key"), "False");
	CHECK_STR(value("[renewalparams]\n# reuse_key = True\n",
	    "renewalparams", "reuse_key"), "(none)");
}

static void
the_last_line_wins_and_comments_and_quotes_are_not_the_value(void)
{
	CHECK_STR(value("[renewalparams]\r\n  reuse_key\t=  true # DANE\r\n"
	    "reuse_key = 'yes'\n", "renewalparams", "reuse_key"), "yes");
	CHECK_STR(value("PRIVATE_KEY_RENEW=\"no\"\nPRIVATE_KEY_RENEW=yes #x\n",
	    NULL, "PRIVATE_KEY_RENEW"), "yes");
	CHECK_STR(value("PRIVATE_KEY_RENEW=\"no", NULL, "PRIVATE_KEY_RENEW"),
	    "(none)");
	CHECK_STR(value("PRIVATE_KEY_RENEW=", NULL, "PRIVATE_KEY_RENEW"), "");
}

static void
a_shell_line_is_an_assignment_or_nothing(void)
{
	CHECK_STR(value("PRIVATE_KEY_RENEW = no\n", NULL, "PRIVATE_KEY_RENEW"),
	    "(none)");
	CHECK_STR(value("\texport PRIVATE_KEY_RENEW=no\n", NULL,
	    "PRIVATE_KEY_RENEW"), "no");
	CHECK_STR(value("PRIVATE_KEY_RENEWAL=no\nMY_PRIVATE_KEY_RENEW=no\n",
	    NULL, "PRIVATE_KEY_RENEW"), "(none)");
	CHECK_STR(value("[renewalparams]\nPRIVATE_KEY_RENEW=no\n", NULL,
	    "PRIVATE_KEY_RENEW"), "no");
}

static void
each_client_directory_is_named_under_any_root(void)
{
	CHECK_STR(acme_client_of("/etc/letsencrypt/live/a/fullchain.pem"),
	    "certbot");
	CHECK_STR(acme_client_of("/srv/etc/letsencrypt/archive/a/cert1.pem"),
	    "certbot");
	CHECK_STR(acme_client_of("/var/lib/dehydrated/certs/a/cert.pem"),
	    "dehydrated");
	CHECK_STR(acme_client_of("/etc/ssl/uacme/private/a/key.pem"), "uacme");
	CHECK_STR(acme_client_of("/root/.lego/certificates/a.key"), "lego");
	CHECK(acme_client_of("/etc/postfix/certificate.pem") == NULL);
	CHECK(acme_client_of("/etc/letsencrypt/renewal/a.conf") == NULL);
}

static const struct unit_test tests[] = {
	{ "certbot reads reuse_key under [renewalparams] only",
	    certbot_reads_reuse_key_under_renewalparams_only },
	{ "the last line wins, and comments and quotes are not the value",
	    the_last_line_wins_and_comments_and_quotes_are_not_the_value },
	{ "a shell line is an assignment or nothing",
	    a_shell_line_is_an_assignment_or_nothing },
	{ "each client's directory is named under any root",
	    each_client_directory_is_named_under_any_root },
};

UNIT_MAIN("acmeconf", tests, NULL, NULL)
