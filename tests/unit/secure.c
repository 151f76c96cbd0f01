/*
 * src/secure.c: names compared by what a walk of each leads to
 * (path_same), remembered for the run from every walk (file_open too).
 * The memo is a ring: the entry of one name must never stand in for the
 * other's, however many walks came before.
 */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../../src/secure.h"
#include "harness/unit.h"

#define WALKS	70	/* more than the memo holds */

/*
 * Under the working directory (the build tree).  The safe walk trusts
 * the directories of root and of no one else inside a shared one (/tmp,
 * /var/tmp where Portage builds): as another user, the tests skip, and
 * as root in a tree that is not root's: Portage's build directories are
 * its user's even when it builds as root (FEATURES=-userpriv).
 */
static char	dir[PATH_MAX];

static int
tree_is_roots(void)
{
	char		path[PATH_MAX], *slash;
	struct stat	st;

	if (getcwd(path, sizeof(path)) == NULL)
		return 0;
	while ((slash = strrchr(path, '/')) != NULL) {
		if (stat(path, &st) == -1 || st.st_uid != 0)
			return 0;
		if (slash == path)
			break;
		*slash = '\0';
	}
	return 1;
}

static int
as_root(void)
{
	if (!unit_is_root() || !tree_is_roots()) {
		unit_skip("the safe walk trusts root's directories (runs as "
		    "root, in a tree of root's, in CI)");
		return 0;
	}
	return 1;
}

static void
make(const char *name, const char *text)
{
	char	path[PATH_MAX];
	FILE	*f;

	if (snprintf(path, sizeof(path), "%s/%s", dir, name) >=
	    (int)sizeof(path) || (f = fopen(path, "w")) == NULL || fputs(text, f) == EOF ||
	    fclose(f) == EOF)
		abort();
}

static void
setup(void)
{
	char	name[16];
	int	i;

	if (getcwd(dir, sizeof(dir) - 32) == NULL)
		abort();
	strlcat(dir, "/.pts-unit-secure.XXXXXX", sizeof(dir));
	if (mkdtemp(dir) == NULL)
		abort();
	for (i = 0; i < WALKS; i++) {
		snprintf(name, sizeof(name), "f%02d", i);
		make(name, name);
	}
	make("other", "other");
	make("third", "third");
}

static void
done(void)
{
	char	cmd[PATH_MAX + 16];

	if (snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir) >=
	    (int)sizeof(cmd) || system(cmd) != 0)
		abort();
}

static const char *
at(const char *name)
{
	static char	paths[4][PATH_MAX];
	static int	next;
	char		*p = paths[next++ % 4];

	if (snprintf(p, sizeof(paths[0]), "%s/%s", dir, name) >=
	    (int)sizeof(paths[0]))
		abort();
	return p;
}

/* Every f.. walked by file_open, the first of them the memo's oldest. */
static void
walk_them_all(void)
{
	struct file	f;
	char		name[16];
	int		i;

	for (i = 0; i < WALKS; i++) {
		snprintf(name, sizeof(name), "f%02d", i);
		file_init(&f);
		CHECK_INT(file_open(&f, at(name), 0), 0);
		file_close(&f);
	}
}

static void
two_files_stay_two_however_many_walks_came_before(void)
{
	char	name[16];
	int	i;

	if (!as_root())
		return;
	walk_them_all();
	/* Each compared with a name never walked: its walk evicts one. */
	for (i = WALKS - 64; i < WALKS; i++) {
		snprintf(name, sizeof(name), "f%02d", i);
		CHECK_INT(path_same(at(name), at("other")), 0);
	}
	CHECK_INT(path_same(at("third"), at("f69")), 0);
}

static void
one_file_by_two_names_is_one_however_many_walks_came_before(void)
{
	char	link[PATH_MAX];

	if (!as_root())
		return;
	if (snprintf(link, sizeof(link), "%s/to-other", dir) >=
	    (int)sizeof(link) || symlink("other", link) == -1)
		abort();
	walk_them_all();
	CHECK_INT(path_same(link, at("other")), 1);
	walk_them_all();
	CHECK_INT(path_same(at("other"), link), 1);
	unlink(link);
}

static const struct unit_test tests[] = {
	{ "two files stay two, however many walks came before",
	    two_files_stay_two_however_many_walks_came_before },
	{ "one file by two names is one, however many walks came before",
	    one_file_by_two_names_is_one_however_many_walks_came_before },
};

UNIT_MAIN("secure", tests, setup, done)
