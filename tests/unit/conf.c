/*
 * src/conf.c: the tuning file read without a shell (conf_parse), each
 * setting's rule (conf_set).  What a shell would read differently is
 * refused, naming the line.
 */
#include <stdlib.h>
#include <string.h>

#include "../../src/conf.h"
#include "harness/unit.h"

/* Every value unset, as conf_init leaves them. */
static struct settings
fresh(void)
{
	struct settings	s;

	conf_init(&s);
	return s;
}

/* conf_parse over a copy of TEXT (it is changed in place). */
static int
parse(struct settings *s, const char *text, const char *path)
{
	size_t	 len = strlen(text);
	char	*copy = malloc(len + 1);
	int	 rc;

	memcpy(copy, text, len + 1);
	rc = conf_parse(s, copy, len, path);
	free(copy);
	return rc;
}

static void
the_three_quoting_forms_and_comments_are_read(void)
{
	struct settings	s = fresh();

	CHECK_INT(parse(&s,
	    "# a comment\n"
	    "\n"
	    "POSTFIX_TLS_CERT=/etc/ssl/a.pem\n"
	    "   POSTFIX_TLS_KEY=\"/etc/ssl/a key.pem\"  # the key\n"
	    "POSTFIX_TLS_CHAIN='/etc/ssl/i1.pem  /etc/ssl/i2.pem'\n"
	    "POSTFIX_TLS_WARN_DAYS=30\n"
	    "rc_need=\"net\"\n"
	    "POSTFIX_TLS_INCLUDE_ROOT=yes", "forms.conf"), 0);
	CHECK_STR(s.set[0].cert, "/etc/ssl/a.pem");
	CHECK_STR(s.set[0].key, "/etc/ssl/a key.pem");
	CHECK_INT(s.set[0].nchain, 2);
	if (s.set[0].nchain == 2)
		CHECK_STR(s.set[0].chain[1], "/etc/ssl/i2.pem");
	CHECK_INT(s.warn_days, 30);
	/* The last line needs no newline. */
	CHECK_INT(s.include_root, 1);
	CHECK_SILENT();
	conf_free(&s);
}

static void
what_a_shell_would_read_otherwise_is_refused_naming_the_line(void)
{
	static const struct {
		const char	*line, *said;
	} bad[] = {
		{ "POSTFIX_TLS_CERT=$HOME/a.pem", "this value needs quotes" },
		{ "POSTFIX_TLS_CERT=\"/etc/$x\"", "$, ` and \\ are expanded" },
		{ "POSTFIX_TLS_CERT=\"/etc/`x`\"", "$, ` and \\ are expanded" },
		{ "POSTFIX_TLS_CERT=\"/etc/a\\b\"", "$, ` and \\ are expanded" },
		{ "POSTFIX_TLS_CERT='/etc/a", "the single quote is not closed" },
		{ "POSTFIX_TLS_CERT=\"/etc/a", "the double quote is not closed" },
		{ "POSTFIX_TLS_CERT='/a'#b", "text right after the closing quote" },
		{ "POSTFIX_TLS_CERT=/a /b", "unexpected text after the value" },
		{ "export POSTFIX_TLS_CERT=/a", "not a NAME=value line" },
		{ "POSTFIX_TLS_CERT =/a", "not a NAME=value line" },
		{ "1X=/a", "not a NAME=value line" },
		{ "POSTFIX_TLS_CERT=a.pem", "is a relative name" },
		{ "POSTFIX_TLS_CHAIN='/a.pem b.pem'", "\"b.pem\" is a relative name" },
		{ "POSTFIX_TLS_NOPE=1", "unknown setting POSTFIX_TLS_NOPE" },
	};
	struct settings	s;
	char		path[32], text[128], want[160];
	size_t		i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		s = fresh();
		/* On the third line, so the number is checked too. */
		snprintf(path, sizeof(path), "bad%zu.conf", i);
		snprintf(text, sizeof(text), "# x\nPOSTFIX_TLS_WARN_DAYS=9\n%s\n",
		    bad[i].line);
		if (parse(&s, text, path) != -1)
			unit_fail(__FILE__, __LINE__, "accepted: %s",
			    bad[i].line);
		snprintf(want, sizeof(want), "%s:3: ", path);
		if (!said(want) || !said(bad[i].said))
			unit_fail(__FILE__, __LINE__, "%s: not said: %s%s",
			    bad[i].line, want, bad[i].said);
		conf_free(&s);
	}
}

static void
a_line_of_4095_characters_is_read_and_one_of_4096_refused(void)
{
	struct settings	 s = fresh();
	char		*text = malloc(5000);
	size_t		 n;

	/* POSTFIX_TLS_CERT='/...' padded to the length. */
	for (n = 4095; n <= 4096; n++) {
		memset(text, 'a', n);
		memcpy(text, "POSTFIX_TLS_CERT='/", 19);
		text[n - 1] = '\'';
		text[n] = '\n';
		text[n + 1] = '\0';
		CHECK_INT(parse(&s, text, n == 4095 ? "fits.conf" : "long.conf"),
		    n == 4095 ? 0 : -1);
	}
	/* The value: the line less POSTFIX_TLS_CERT= and the quotes. */
	CHECK(s.set[0].cert != NULL && strlen(s.set[0].cert) == 4095 - 17 - 2);
	CHECK_SAID("long.conf:1: line longer than 4095 characters");
	conf_free(&s);
	free(text);
}

static void
a_nul_byte_or_a_carriage_return_is_refused(void)
{
	struct settings	 s = fresh();
	char		 text[] = "POSTFIX_TLS_WARN_DAYS=1\n\0\n";

	CHECK_INT(conf_parse(&s, text, sizeof(text) - 1, "nul.conf"), -1);
	CHECK_SAID("nul.conf: contains a NUL byte");
	CHECK_INT(parse(&s, "POSTFIX_TLS_WARN_DAYS=1\r\n", "crlf.conf"), -1);
	CHECK_SAID("crlf.conf:1: line ends with a carriage return");
	conf_free(&s);
}

/* conf_set NAME=VALUE on fresh settings: its return. */
static int
set1(struct settings *s, const char *name, const char *value)
{
	*s = fresh();
	return conf_set(s, name, value, "set.conf");
}

static void
numbers_are_taken_up_to_their_limits_and_no_further(void)
{
	static const struct {
		const char	*name;
		int		 min, max;
	} nums[] = {
		{ "POSTFIX_TLS_WARN_DAYS", 0, 3650 },
		{ "POSTFIX_TLS_CRIT_DAYS", 0, 3650 },
		{ "POSTFIX_TLS_PROBE_TIMEOUT", 1, 60 },
		{ "POSTFIX_TLS_DANE_TIMEOUT", 1, 30 },
	};
	struct settings	s;
	char		v[16];
	size_t		i;

	for (i = 0; i < sizeof(nums) / sizeof(nums[0]); i++) {
		snprintf(v, sizeof(v), "%d", nums[i].min);
		CHECK_INT(set1(&s, nums[i].name, v), 0);
		snprintf(v, sizeof(v), "%d", nums[i].max);
		CHECK_INT(set1(&s, nums[i].name, v), 0);
		snprintf(v, sizeof(v), "%d", nums[i].min - 1);
		CHECK_INT(set1(&s, nums[i].name, v), -1);
		snprintf(v, sizeof(v), "%d", nums[i].max + 1);
		CHECK_INT(set1(&s, nums[i].name, v), -1);
		CHECK_INT(set1(&s, nums[i].name, "7x"), -1);
		CHECK_INT(set1(&s, nums[i].name, ""), 0);
	}
	CHECK_INT(set1(&s, "POSTFIX_TLS_WARN_DAYS", "3650"), 0);
	CHECK_INT(s.warn_days, 3650);
	CHECK_INT(set1(&s, "POSTFIX_TLS_CRIT_DAYS", "0"), 0);
	CHECK_INT(s.crit_days, 0);
	CHECK_INT(set1(&s, "POSTFIX_TLS_PROBE_TIMEOUT", "60"), 0);
	CHECK_INT(s.probe_timeout, 60);
	CHECK_INT(set1(&s, "POSTFIX_TLS_DANE_TIMEOUT", "1"), 0);
	CHECK_INT(s.dane_timeout, 1);
	CHECK_INT(set1(&s, "POSTFIX_TLS_WARN_DAYS", ""), 0);
	CHECK_INT(s.warn_days, -1);
	CHECK_SAID("set.conf: POSTFIX_TLS_WARN_DAYS must be a number of days "
	    "from 0 to 3650, not \"3651\"");
}

static void
words_are_taken_in_any_case_and_others_refused(void)
{
	struct settings	s;

	CHECK_INT(set1(&s, "POSTFIX_TLS_DANE", "ENFORCE"), 0);
	CHECK_INT(s.dane, DANE_ENFORCE);
	CHECK_INT(set1(&s, "POSTFIX_TLS_DANE", "no"), 0);
	CHECK_INT(s.dane, DANE_OFF);
	CHECK_INT(set1(&s, "POSTFIX_TLS_DANE", "Warn"), 0);
	CHECK_INT(s.dane, DANE_WARN);
	CHECK_INT(set1(&s, "POSTFIX_TLS_DANE", "auto"), 0);
	CHECK_INT(s.dane, DANE_AUTO);
	CHECK_INT(set1(&s, "POSTFIX_TLS_DANE", "yes"), -1);
	CHECK_INT(set1(&s, "POSTFIX_TLS_PROBE", "stop"), 0);
	CHECK_INT(s.probe, PROBE_STOP);
	CHECK_INT(set1(&s, "POSTFIX_TLS_PROBE", "off"), 0);
	CHECK_INT(s.probe, PROBE_OFF);
	CHECK_INT(set1(&s, "POSTFIX_TLS_DANE_DNS", "refuse"), 0);
	CHECK_INT(s.dane_dns_refuse, 1);
	CHECK_INT(set1(&s, "POSTFIX_TLS_DANE_DNS", "warn"), 0);
	CHECK_INT(s.dane_dns_refuse, 0);
	CHECK_INT(set1(&s, "POSTFIX_TLS_INCLUDE_ROOT", "TRUE"), 0);
	CHECK_INT(s.include_root, 1);
	CHECK_INT(set1(&s, "POSTFIX_TLS_INCLUDE_ROOT", "0"), 0);
	CHECK_INT(s.include_root, 0);
	CHECK_INT(set1(&s, "POSTFIX_TLS_INCLUDE_ROOT", "2"), -1);
	CHECK_INT(set1(&s, "POSTFIX_TLS_HOOK", "off"), 0);
	CHECK_INT(s.hook, 0);
	CHECK_STR(s.hook_from, "set.conf");
	free(s.hook_from);
	CHECK_INT(set1(&s, "POSTFIX_TLS_CACHE", "run/x"), -1);
	CHECK_INT(set1(&s, "POSTFIX_TLS_DANE_NAMES", "mx1.example.org mx_2"), 0);
	CHECK_STR(s.dane_names, "mx1.example.org mx_2");
	free(s.dane_names);
	CHECK_INT(set1(&s, "POSTFIX_TLS_DANE_NAMES", "mx1,mx2"), -1);
}

static void
the_numbered_sets_go_from_2_to_4(void)
{
	struct settings	s = fresh();

	CHECK_INT(conf_set(&s, "POSTFIX_TLS_CERT_2", "/b.pem", "n.conf"), 0);
	CHECK_INT(conf_set(&s, "POSTFIX_TLS_KEY_4", "/d.pem", "n.conf"), 0);
	CHECK_INT(conf_set(&s, "POSTFIX_TLS_BUNDLE_3", "/c.pem", "n.conf"), 0);
	CHECK_STR(s.set[1].cert, "/b.pem");
	CHECK_STR(s.set[3].key, "/d.pem");
	CHECK_STR(s.set[2].bundle, "/c.pem");
	CHECK_INT(conf_set(&s, "POSTFIX_TLS_CERT_5", "/e.pem", "n.conf"), -1);
	CHECK_INT(conf_set(&s, "POSTFIX_TLS_CERT_1", "/e.pem", "n.conf"), -1);
	CHECK_INT(conf_set(&s, "POSTFIX_TLS_CERT_0", "/e.pem", "n.conf"), -1);
	CHECK_INT(conf_set(&s, "POSTFIX_TLS_CERT_22", "/e.pem", "n.conf"), -1);
	CHECK_SAID("unknown setting POSTFIX_TLS_CERT_5");
	/* An empty value unsets. */
	CHECK_INT(conf_set(&s, "POSTFIX_TLS_CERT_2", "", "n.conf"), 0);
	CHECK(s.set[1].cert == NULL);
	conf_free(&s);
}

static void
sixty_four_chain_files_are_taken_and_the_65th_refused(void)
{
	struct settings	 s = fresh();
	char		*list = malloc(65 * 8 + 1);
	size_t		 i;

	list[0] = '\0';
	for (i = 0; i < 64; i++)
		strcat(list, "/c.pem ");
	CHECK_INT(conf_set(&s, "POSTFIX_TLS_CHAIN", list, "c.conf"), 0);
	CHECK_INT(s.set[0].nchain, 64);
	strcat(list, "/c.pem");
	CHECK_INT(conf_set(&s, "POSTFIX_TLS_CHAIN", list, "c65.conf"), -1);
	CHECK_SAID("c65.conf: more than 64 chain files");
	/* Setting the chain again replaces it, never appends. */
	CHECK_INT(conf_set(&s, "POSTFIX_TLS_CHAIN", "/x.pem\t/y.pem", "c.conf"),
	    0);
	CHECK_INT(s.set[0].nchain, 2);
	conf_free(&s);
	free(list);
}

static const struct unit_test tests[] = {
	{ "the three quoting forms and comments are read",
	    the_three_quoting_forms_and_comments_are_read },
	{ "what a shell would read otherwise is refused, naming the line",
	    what_a_shell_would_read_otherwise_is_refused_naming_the_line },
	{ "a line of 4095 characters is read, one of 4096 refused",
	    a_line_of_4095_characters_is_read_and_one_of_4096_refused },
	{ "a NUL byte or a carriage return is refused",
	    a_nul_byte_or_a_carriage_return_is_refused },
	{ "numbers are taken up to their limits and no further",
	    numbers_are_taken_up_to_their_limits_and_no_further },
	{ "words are taken in any case, others refused",
	    words_are_taken_in_any_case_and_others_refused },
	{ "the numbered sets go from _2 to _4",
	    the_numbered_sets_go_from_2_to_4 },
	{ "64 chain files are taken, the 65th refused",
	    sixty_four_chain_files_are_taken_and_the_65th_refused },
};

UNIT_MAIN("conf", tests, NULL, NULL)
