/*
 * src/json.c: UTF-8 as RFC 3629 table 3 has it, and JSON strings that
 * stay strict JSON whatever bytes a file name or a subject holds.
 */
#include <stdlib.h>
#include <string.h>

#include "../../src/json.h"
#include "harness/unit.h"

/* utf8_char over the bytes of S (its length: the literal's, less the NUL). */
#define U8(s, n)	utf8_char((const unsigned char *)(s), (n))

/* json_string's output for S. */
static char *
json(const char *s)
{
	char	*out = NULL;
	size_t	 len = 0;
	FILE	*f = open_memstream(&out, &len);

	json_string(f, s);
	fclose(f);
	return out;
}

#define CHECK_JSON(in, want) do { \
	char *o_ = json(in); \
	CHECK_STR(o_, want); \
	free(o_); \
} while (0)

static void
ascii_and_edges_of_each_length(void)
{
	CHECK_INT(U8("a", 1), 1);
	CHECK_INT(U8("\x7f", 1), 1);
	CHECK_INT(U8("\xc2\x80", 2), 2);	/* U+0080, the first of 2 */
	CHECK_INT(U8("\xdf\xbf", 2), 2);	/* U+07FF, the last of 2 */
	CHECK_INT(U8("\xe0\xa0\x80", 3), 3);	/* U+0800 */
	CHECK_INT(U8("\xed\x9f\xbf", 3), 3);	/* U+D7FF, below surrogates */
	CHECK_INT(U8("\xee\x80\x80", 3), 3);	/* U+E000, above them */
	CHECK_INT(U8("\xef\xbf\xbf", 3), 3);	/* U+FFFF */
	CHECK_INT(U8("\xf0\x90\x80\x80", 4), 4);	/* U+10000 */
	CHECK_INT(U8("\xf4\x8f\xbf\xbf", 4), 4);	/* U+10FFFF, the last */
}

static void
overlong_forms_surrogates_and_beyond_unicode_are_refused(void)
{
	CHECK_INT(U8("\xc0\x80", 2), 0);	/* overlong NUL */
	CHECK_INT(U8("\xc1\xbf", 2), 0);
	CHECK_INT(U8("\xe0\x9f\xbf", 3), 0);	/* overlong U+07FF */
	CHECK_INT(U8("\xed\xa0\x80", 3), 0);	/* U+D800 */
	CHECK_INT(U8("\xed\xbf\xbf", 3), 0);	/* U+DFFF */
	CHECK_INT(U8("\xf0\x8f\xbf\xbf", 4), 0);	/* overlong U+FFFF */
	CHECK_INT(U8("\xf4\x90\x80\x80", 4), 0);	/* U+110000 */
	CHECK_INT(U8("\xf5\x80\x80\x80", 4), 0);
	CHECK_INT(U8("\xff", 1), 0);
	CHECK_INT(U8("\x80", 1), 0);		/* a continuation alone */
}

static void
a_sequence_cut_off_by_the_end_of_the_bytes_is_no_character(void)
{
	CHECK_INT(U8("\xc3\xa9", 1), 0);
	CHECK_INT(U8("\xe2\x82\xac", 2), 0);
	CHECK_INT(U8("\xf0\x9f\x98\x80", 3), 0);
	CHECK_INT(U8("", 0), 0);
}

static void
every_continuation_byte_is_checked_not_only_the_second(void)
{
	CHECK_INT(U8("\xe2\x82\x22", 3), 0);	/* '"' as the third */
	CHECK_INT(U8("\xe2\x82\xc0", 3), 0);
	CHECK_INT(U8("\xf0\x9f\x98\x22", 4), 0);	/* '"' as the fourth */
	CHECK_INT(U8("\xf0\x9f\x22\x80", 4), 0);
	CHECK_INT(U8("\xc3\x22", 2), 0);
}

static void
a_cut_off_sequence_followed_by_a_quote_cannot_end_the_string(void)
{
	/* Each byte of the damaged sequence is U+FFFD; the quote is escaped. */
	CHECK_JSON("a\xe2\x82\"b", "\"a\\ufffd\\ufffd\\\"b\"");
	CHECK_JSON("\xf0\x9f\x98\"}", "\"\\ufffd\\ufffd\\ufffd\\\"}\"");
	CHECK_JSON("x\xc3\\", "\"x\\ufffd\\\\\"");
	CHECK_JSON("\xe2\x82", "\"\\ufffd\\ufffd\"");	/* cut by the end */
}

static void
quotes_backslashes_and_control_characters_are_escaped(void)
{
	CHECK_JSON("a\"b\\c", "\"a\\\"b\\\\c\"");
	CHECK_JSON("l1\nl2\tx", "\"l1\\nl2\\tx\"");
	CHECK_JSON("\x01\x1f\x7f", "\"\\u0001\\u001f\\u007f\"");
	CHECK_JSON("\r", "\"\\u000d\"");
}

static void
valid_characters_are_copied_and_null_is_null(void)
{
	CHECK_JSON("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80",
	    "\"caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80\"");
	CHECK_JSON("", "\"\"");
	CHECK_JSON(NULL, "null");
	CHECK_JSON("\xed\xa0\x80", "\"\\ufffd\\ufffd\\ufffd\"");
}

static const struct unit_test tests[] = {
	{ "the first and last character of each length are taken whole",
	    ascii_and_edges_of_each_length },
	{ "overlong forms, surrogates and code points past U+10FFFF are refused",
	    overlong_forms_surrogates_and_beyond_unicode_are_refused },
	{ "a sequence cut off by the end of the bytes is no character",
	    a_sequence_cut_off_by_the_end_of_the_bytes_is_no_character },
	{ "every continuation byte is checked, not only the second",
	    every_continuation_byte_is_checked_not_only_the_second },
	{ "a cut-off sequence followed by a quote cannot end the JSON string",
	    a_cut_off_sequence_followed_by_a_quote_cannot_end_the_string },
	{ "quotes, backslashes and control characters are escaped",
	    quotes_backslashes_and_control_characters_are_escaped },
	{ "valid characters are copied as they are, and NULL is null",
	    valid_characters_are_copied_and_null_is_null },
};

UNIT_MAIN("json", tests, NULL, NULL)
