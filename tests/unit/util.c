/*
 * src/util.c: the one Postfix-list splitter (plist_next, plist_nth, as
 * Postfix's mystrtok with CHARS_COMMA_SP, and mystrtokq with braces),
 * Postfix's boolean, and the one way to fail on memory.
 */
#include <sys/wait.h>

#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <unistd.h>

#include "harness/unit.h"

/*
 * LIST cut with FLAGS, each element followed by '|' ("a|b|"); "!" after
 * them when the list ended unbalanced.  Static: one list at a time.
 */
static const char *
cut(const char *list, int flags)
{
	static char	 out[512];
	const char	*cur = list, *w;
	size_t		 len, at = 0;
	int		 unbalanced = 0;

	out[0] = '\0';
	while ((w = plist_next(&cur, &len, flags, &unbalanced)) != NULL) {
		if (at + len + 2 >= sizeof(out))
			break;
		memcpy(out + at, w, len);
		at += len;
		out[at++] = '|';
		out[at] = '\0';
	}
	/* The end is the end: the cursor is at the NUL, and stays there. */
	if (*cur != '\0' || plist_next(&cur, &len, flags, NULL) != NULL ||
	    len != 0)
		unit_fail(__FILE__, __LINE__, "%s: not at its end", list);
	if (unbalanced)
		strlcat(out, "!", sizeof(out));
	return out;
}

static void
commas_blanks_and_newlines_separate(void)
{
	CHECK_STR(cut("a,b c\td\re\nf", PLIST_PLAIN), "a|b|c|d|e|f|");
	CHECK_STR(cut("/etc/ssl/a.pem, /etc/ssl/b.pem", PLIST_PLAIN),
	    "/etc/ssl/a.pem|/etc/ssl/b.pem|");
	CHECK_STR(cut("one", PLIST_PLAIN), "one|");
	/* What is no separator stays in the element. */
	CHECK_STR(cut("a;b:c=d/e.f-g_h", PLIST_PLAIN), "a;b:c=d/e.f-g_h|");
	CHECK_STR(cut("\xc3\xa4\xc3\xb6 x", PLIST_PLAIN), "\xc3\xa4\xc3\xb6|x|");
}

static void
empty_elements_are_no_elements(void)
{
	CHECK_STR(cut("", PLIST_PLAIN), "");
	CHECK_STR(cut(" , ,\n\t", PLIST_PLAIN), "");
	CHECK_STR(cut(",,a,, ,b,,", PLIST_PLAIN), "a|b|");
	CHECK_STR(cut("  a  ", PLIST_PLAIN), "a|");
	CHECK_STR(cut(",\n,a", PLIST_BRACES), "a|");
}

static void
each_element_is_where_it_stands_with_its_length(void)
{
	const char	*list = " ab, cde", *cur = list, *w;
	size_t		 len = 99;

	w = plist_next(&cur, &len, PLIST_PLAIN, NULL);
	CHECK(w == list + 1);
	CHECK_INT(len, 2);
	CHECK(cur == list + 4);		/* past the comma */
	w = plist_next(&cur, &len, PLIST_PLAIN, NULL);
	CHECK(w == list + 5);
	CHECK_INT(len, 3);
	CHECK(cur == list + 8);		/* at the NUL, never past it */
	CHECK(plist_next(&cur, &len, PLIST_PLAIN, NULL) == NULL);
	CHECK_INT(len, 0);
	CHECK(cur == list + 8);
}

static void
braces_group_only_when_asked(void)
{
	const char	*maps = "inline:{ {a.example = /k1, /c1}, {b=/k2} }, "
			    "hash:/x";

	CHECK_STR(cut(maps, PLIST_BRACES),
	    "inline:{ {a.example = /k1, /c1}, {b=/k2} }|hash:/x|");
	CHECK_STR(cut(maps, PLIST_PLAIN),
	    "inline:{|{a.example|=|/k1|/c1}|{b=/k2}|}|hash:/x|");
	CHECK_STR(cut("{a b}c d", PLIST_BRACES), "{a b}c|d|");
	CHECK_STR(cut("{}", PLIST_BRACES), "{}|");
	/* Braces mean nothing in a plain list, balanced or not. */
	CHECK_STR(cut("{a b", PLIST_PLAIN), "{a|b|");
	CHECK_STR(cut("a} b", PLIST_PLAIN), "a}|b|");
}

static void
an_unbalanced_brace_ends_the_list(void)
{
	const char	*cur;
	size_t		 len = 99;
	int		 unbalanced = 0;

	CHECK_STR(cut("x, {a b", PLIST_BRACES), "x|!");
	CHECK_STR(cut("x, a} b", PLIST_BRACES), "x|!");
	CHECK_STR(cut("x, {{a} b", PLIST_BRACES), "x|!");
	CHECK_STR(cut("{a}} b", PLIST_BRACES), "!");
	/* *len is 0, and the flag is optional. */
	cur = "{open";
	CHECK(plist_next(&cur, &len, PLIST_BRACES, NULL) == NULL);
	CHECK_INT(len, 0);
	CHECK_INT(*cur, '\0');
	cur = "{open";
	CHECK(plist_next(&cur, &len, PLIST_BRACES, &unbalanced) == NULL);
	CHECK_INT(unbalanced, 1);
	/* A balanced list leaves the flag as it was. */
	unbalanced = 0;
	cur = "{a} b";
	while (plist_next(&cur, &len, PLIST_BRACES, &unbalanced) != NULL)
		;
	CHECK_INT(unbalanced, 0);
}

static void
the_nth_element_is_copied_whole_or_not_at_all(void)
{
	char	buf[8];

	CHECK_INT(plist_nth("a, bb\tccc", 1, buf, sizeof(buf)), 0);
	CHECK_STR(buf, "a");
	CHECK_INT(plist_nth("a, bb\tccc", 3, buf, sizeof(buf)), 0);
	CHECK_STR(buf, "ccc");
	CHECK_INT(plist_nth(",, a,,bb", 2, buf, sizeof(buf)), 0);
	CHECK_STR(buf, "bb");
	/* Absent: -1, and the buffer empty. */
	CHECK_INT(plist_nth("a, bb\tccc", 4, buf, sizeof(buf)), -1);
	CHECK_STR(buf, "");
	CHECK_INT(plist_nth("", 1, buf, sizeof(buf)), -1);
	CHECK_STR(buf, "");
	/* Seven bytes and the NUL fit in eight; eight do not. */
	CHECK_INT(plist_nth("x 1234567", 2, buf, sizeof(buf)), 0);
	CHECK_STR(buf, "1234567");
	CHECK_INT(plist_nth("x 12345678", 2, buf, sizeof(buf)), -1);
	CHECK_STR(buf, "");
}

static void
yes_is_yes_in_any_case_and_nothing_else_is(void)
{
	CHECK_INT(pf_yes("yes"), 1);
	CHECK_INT(pf_yes("YES"), 1);
	CHECK_INT(pf_yes("Yes"), 1);
	CHECK_INT(pf_yes("no"), 0);
	CHECK_INT(pf_yes("y"), 0);
	CHECK_INT(pf_yes("yess"), 0);
	CHECK_INT(pf_yes(" yes"), 0);
	CHECK_INT(pf_yes("true"), 0);
	CHECK_INT(pf_yes("1"), 0);
	CHECK_INT(pf_yes(""), 0);
	CHECK_INT(pf_yes(NULL), 0);
}

static void
memory_of_no_size_is_still_memory(void)
{
	char	*a = xmalloc(0), *b = xcalloc(0, 0), *c;
	char	*d = xreallocarray(NULL, 0, 0);

	CHECK(a != NULL && b != NULL && d != NULL);
	c = xasprintf("%s-%d", "x", 42);
	CHECK_STR(c, "x-42");
	free(c);
	c = xstrndup("abcdef", 3);
	CHECK_STR(c, "abc");
	free(c);
	c = xstrdup("");
	CHECK_STR(c, "");
	free(c);
	free(a);
	free(b);
	free(d);
}

static void
say_oom(void)
{
	static const char	line[] = "the handler ran\n";

	(void)!write(2, line, sizeof(line) - 1);
	_exit(3);
}

/* oom() in a child of its own: its exit status; what it said in SAID. */
static int
oom_in_child(void (*handler)(void), char *said_buf, size_t size)
{
	int	fds[2], status;
	ssize_t	n;
	pid_t	pid;

	if (pipe(fds) == -1 || (pid = fork()) == -1)
		abort();
	if (pid == 0) {
		dup2(fds[1], 2);
		oom_handler(handler);
		oom();
	}
	close(fds[1]);
	n = read(fds[0], said_buf, size - 1);
	said_buf[n > 0 ? n : 0] = '\0';
	close(fds[0]);
	while (waitpid(pid, &status, 0) == -1)
		;
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

static void
out_of_memory_ends_the_run_with_ex_oserr_or_through_its_handler(void)
{
	char	buf[128];

	CHECK_INT(oom_in_child(NULL, buf, sizeof(buf)), EX_OSERR);
	CHECK_STR(buf, "postfix-tls-setup: out of memory\n");
	CHECK_INT(oom_in_child(say_oom, buf, sizeof(buf)), 3);
	CHECK_STR(buf, "the handler ran\n");
}

static const struct unit_test tests[] = {
	{ "commas, blanks and newlines separate",
	    commas_blanks_and_newlines_separate },
	{ "empty elements are no elements", empty_elements_are_no_elements },
	{ "each element is where it stands, with its length",
	    each_element_is_where_it_stands_with_its_length },
	{ "braces group only when asked", braces_group_only_when_asked },
	{ "an unbalanced brace ends the list",
	    an_unbalanced_brace_ends_the_list },
	{ "the Nth element is copied whole or not at all",
	    the_nth_element_is_copied_whole_or_not_at_all },
	{ "yes is yes in any case, and nothing else is",
	    yes_is_yes_in_any_case_and_nothing_else_is },
	{ "memory of no size is still memory",
	    memory_of_no_size_is_still_memory },
	{ "out of memory ends the run with EX_OSERR, or through its handler",
	    out_of_memory_ends_the_run_with_ex_oserr_or_through_its_handler },
};

UNIT_MAIN("util", tests, NULL, NULL)
