/*
 * SNI maps rebuilt (mapbuild.h).  smtpd serves what is in the compiled
 * map, not what the files hold today, so a map older than its source or
 * than a file it names is stale; so is a map someone else owns, may
 * write, or dated in the future (its content is not known to be what was
 * checked).  It is rebuilt from a private copy of the checked source with
 * postmap -F, under a deadline, and renamed into place whole.
 */
#include <sys/stat.h>
#include <sys/wait.h>

#include <errno.h>
#include <libgen.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <time.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "child.h"
#include "common.h"
#include "finding.h"
#include "mapbuild.h"
#include "material.h"
#include "render.h"
#include "secure.h"
#include "snimap.h"
#include "write.h"

#define WHERE_MAX	(PATH_MAX + 64)

/* Is a later than b? */
static int
newer(const struct timespec *a, const struct timespec *b)
{
	return a->tv_sec > b->tv_sec || (a->tv_sec == b->tv_sec &&
	    a->tv_nsec > b->tv_nsec);
}

/*
 * When a file last changed, as far as a map built from it can tell: its
 * mtime, or its ctime when later.  A key restored with cp -p, rsync -a
 * or tar keeps an old mtime, but its ctime is the restore's, and no one
 * but the kernel sets a ctime.
 */
static const struct timespec *
changed(const struct stat *st)
{
	return newer(&st->st_ctim, &st->st_mtim) ? &st->st_ctim :
	    &st->st_mtim;
}

struct staleness {
	const struct stat	*db;	/* NULL: the map does not exist */
	char			 why[WHERE_MAX + PATH_MAX];
	int			 bad;
};

/*
 * sni_fn: is any file this entry names newer than the map?  Named files
 * are looked at by name (as postmap reads them) for their times only:
 * each was walked safely and judged when the entry was checked, and what
 * postmap then reads is bounded by its deadline.
 */
static int
stale_entry(const char *domain, const char *files, const char *w, void *arg)
{
	struct staleness	*s = arg;
	struct stat		 st;
	const char		*w1;
	char			 name[PATH_MAX];
	size_t			 n;

	while ((w1 = plist_next(&files, &n, PLIST_PLAIN, NULL)) != NULL) {
		snprintf(name, sizeof(name), "%.*s", (int)n, w1);
		if (stat(name, &st) == -1) {
			problem(EX_NOINPUT, w, "%s: %s" FIX "postmap -F would skip "
			    "the entry for %s, and smtpd would serve no "
			    "certificate for it", name, strerror(errno),
			    domain);
			s->bad = 1;
		} else if (s->db != NULL && s->why[0] == '\0' &&
		    newer(changed(&st), &s->db->st_mtim))
			snprintf(s->why, sizeof(s->why), "%s, named at %s, is "
			    "newer", name, w);
	}
	return 0;
}

/*
 * 1 when the compiled map DB must be made again from the source RAW (why
 * in WHY), 0 when it is up to date, -1 after a problem.
 */
static int
stale_in(const struct sni_map *map, const struct file *src,
    const struct file *db, const unsigned char *raw, size_t len,
    char *why, size_t size, size_t *entries)
{
	struct staleness	s = { .db = db->fd != -1 ? &db->st : NULL };
	struct timespec		now;
	int			rc = -1;

	if (sni_each_in(map, raw, len, stale_entry, &s, entries) == -1 ||
	    s.bad)
		goto out;	/* logged */
	clock_gettime(CLOCK_REALTIME, &now);
	now.tv_sec += 60;	/* a clock a minute off is no attack */
	rc = 1;
	if (db->fd == -1)
		strlcpy(why, "it does not exist", size);
	else if (!file_private(db))
		snprintf(why, size, "it is not root's alone (%u:%u %04o), so "
		    "what it holds is not known to be what was checked",
		    (unsigned)db->st.st_uid, (unsigned)db->st.st_gid,
		    (unsigned)(db->st.st_mode & 07777));
	else if (newer(&db->st.st_mtim, &now))
		strlcpy(why, "it is dated in the future, so it would never "
		    "look older than its files", size);
	else if (newer(changed(&src->st), &db->st.st_mtim))
		snprintf(why, size, "its source %s is newer", map->source);
	else if (s.why[0] != '\0')
		strlcpy(why, s.why, size);
	else
		rc = 0;
out:
	return rc;
}

/*
 * postmap -c CONFDIR -F TYPE:TMP, started in the map's directory (through
 * its checked descriptor, so Berkeley DB's DB_CONFIG and temporary files
 * are looked for there, and TMP is found without a path), no shell, its
 * output in a memory file, killed past its deadline (a FIFO swapped in
 * behind a named file would hold it forever).  Anything it says fails
 * the rebuild: each of its warnings means an entry left out of the map.
 */
static int
run_postmap(const struct sni_map *map, int dirfd, const char *tmp,
    const char *confdir, size_t entries)
{
	struct child	 c;
	const char	*argv[6];
	char		 arg[NAME_MAX + 32], dir[PATH_MAX], msg[512];
	long long	 limit = POSTMAP_DEADLINE_MS(entries);
	int		 status, err, killed;

	snprintf(arg, sizeof(arg), "%s:%s", map->type, tmp);
	argv[0] = POSTMAP_PATH;
	argv[1] = "-c";
	argv[2] = path_absolute(confdir, dir);	/* we run elsewhere */
	argv[3] = "-F";
	argv[4] = arg;
	argv[5] = NULL;
	/*
	 * postmap sets its umask from the source's mode before it creates
	 * the map (measured: umask 077 for our 0600 copy); start it under
	 * 077 all the same, so no later postmap makes key material
	 * readable while it writes.
	 */
	if ((err = child_start(&c, POSTMAP_PATH, (char *const *)argv,
	    NULL, 1, dirfd, 077)) < 0) {
		problem(EX_OSERR, map->db, "cannot rebuild it: cannot create a "
		    "memory file for postmap's output: %s", strerror(-err));
		return -1;	/* logged */
	}
	if (err != 0) {
		problem(EX_CONFIG, map->db, "cannot rebuild it: postmap could "
		    "not be run: %s: %s" FIX "check that Postfix is installed",
		    POSTMAP_PATH, strerror(err));
		return -1;	/* logged */
	}
	killed = child_wait(&c, now_ms() + limit, &status) == -1;
	child_said(&c, msg, sizeof(msg));
	child_close(&c);
	if (killed) {
		problem(EX_IOERR, map->db, "not rebuilt: postmap did not finish "
		    "within %lld.%03lld s (%zu entr%s) and was stopped; a file "
		    "the map names may block reading (a FIFO?)" FIX "the map is "
		    "unchanged; find the file that blocks, then run again",
		    limit / 1000, limit % 1000, entries, entries == 1 ? "y" :
		    "ies");
		return -1;	/* logged */
	}
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0 && msg[0] == '\0')
		return 0;
	problem(WIFEXITED(status) ? EX_CONFIG : EX_SOFTWARE, map->db, "not "
	    "rebuilt: postmap -F on a private copy of %s (%s) %s%s%s" FIX "the "
	    "map is unchanged; fix the cause, then run again", map->source,
	    tmp, WIFEXITED(status) && WEXITSTATUS(status) == 0 ? "warned" :
	    "failed", msg[0] != '\0' ? ": " : "", msg);
	return -1;	/* logged */
}

/* Remove what a rebuild made; no name but these, all of them ours. */
static void
remove_temps(int dirfd, const char *tmp, const char *suffix)
{
	static const char *const fmts[] = { "%s", "%s%s", "__db.%s%s",
	    "%s%s.tmp" };
	char	name[NAME_MAX + 1];
	size_t	i;

	for (i = 0; i < sizeof(fmts) / sizeof(fmts[0]); i++)
		if (snprintf(name, sizeof(name), fmts[i], tmp, suffix) <
		    (int)sizeof(name))
			unlinkat(dirfd, name, 0);
}

/* The map postmap made beside the copy, made ours, on disk, into place. */
static int
install_db(const struct sni_map *map, int dirfd, const char *tmpdb,
    const char *dbname)
{
	struct stat	 st;
	const char	*step;
	int		 fd = -1, dfd = -1, rc = -1;

	step = "cannot open the map postmap made";
	if ((fd = openat(dirfd, tmpdb, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)) ==
	    -1 || fstat(fd, &st) == -1)
		goto out;
	step = "the map postmap made is not a lone regular file of root's";
	errno = EPERM;
	if (!S_ISREG(st.st_mode) || st.st_nlink != 1 || st.st_uid != 0)
		goto out;
	step = "cannot make the new map root:root 0600";
	if (fchown(fd, 0, 0) == -1 || fchmod(fd, 0600) == -1)
		goto out;
	/*
	 * Stamped now, at its install, after the key files it holds were
	 * made root's (their ctime moved then): else the next run would
	 * take it for older than they are and build it again.
	 */
	step = "cannot set the new map's time";
	if (futimens(fd, NULL) == -1)
		goto out;
	step = "cannot flush the new map to disk";
	if (fsync(fd) == -1)
		goto out;
	step = "cannot open its directory";
	if ((dfd = openat(dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC)) ==
	    -1)
		goto out;
	step = "cannot rename the new map into place";
	if (renameat(dirfd, tmpdb, dirfd, dbname) == -1)
		goto out;
	idents_forget();	/* the map's name leads to another file */
	step = "cannot flush its directory to disk";
	if (fsync(dfd) == -1)
		goto out;
	rc = 0;
out:
	if (rc == -1)
		problem(EX_IOERR, map->db, "not rebuilt: %s: %s%s", step,
		    strerror(errno), strcmp(step, "cannot flush its directory "
		    "to disk") ? " (the map is unchanged)" : "");
	if (fd != -1)
		close(fd);
	if (dfd != -1)
		close(dfd);
	return rc;	/* logged */
}

/* The source postmap is given: each entry on a line of its own. */
struct regen {
	struct sni_build	*b;
	const struct pending	*pd;
	size_t			 npd;
	FILE			*out;
	char			 dir[PATH_MAX];	/* the source's, resolved */
	int			 bad;
};

/*
 * A file named in an entry, as postmap is to read it: the name, or for a
 * file this run writes, a private copy of its new content beside the
 * source (postmap runs before the run writes it).
 */
static void
regen_file(struct regen *g, const char *w, size_t n)
{
	struct sni_build	*b = g->b;
	char			 name[PATH_MAX], tmp[NAME_MAX + 1];
	const char		*step;
	size_t			 i;

	snprintf(name, sizeof(name), "%.*s", (int)n, w);
	for (i = 0; i < g->npd; i++) {
		if (g->pd[i].pem == NULL || path_same(name,
		    g->pd[i].bundle->path) != 1)
			continue;
		if (write_temp(b->src.dirfd, b->src.name, g->pd[i].pem,
		    g->pd[i].len, tmp, &step) == -1) {
			problem(EX_IOERR, b->map->db, "not rebuilt: %s: %s" FIX
			    "the map is unchanged", step, strerror(errno));
			g->bad = 1;
			return;
		}
		b->copies = xreallocarray(b->copies, b->ncopies + 1,
		    sizeof(*b->copies));
		b->copies[b->ncopies++] = xstrdup(tmp);
		fprintf(g->out, " %s/%s", g->dir, tmp);
		return;
	}
	fprintf(g->out, " %s", name);
}

static int
regen_entry(const char *domain, const char *files, const char *where,
    void *arg)
{
	struct regen	*g = arg;
	const char	*w;
	size_t		 n;

	(void)where;
	fprintf(g->out, "%s", domain);
	while ((w = plist_next(&files, &n, PLIST_PLAIN, NULL)) != NULL)
		regen_file(g, w, n);
	fputc('\n', g->out);
	return g->bad ? -1 : 0;
}

static int
regenerate(struct sni_build *b, const struct pending *pd, size_t npd,
    char **text, size_t *len)
{
	struct regen	g = { b, pd, npd, NULL, "", 0 };
	char		real[PATH_MAX];
	int		rc;

	strlcpy(real, b->src.real, sizeof(real));
	strlcpy(g.dir, dirname(real), sizeof(g.dir));
	if ((g.out = open_memstream(text, len)) == NULL)
		oom();
	rc = sni_each_in(b->map, b->raw, b->len, regen_entry, &g, NULL);
	if (fclose(g.out) != 0)
		oom();
	return rc == 0 && !g.bad ? 0 : -1;	/* logged */
}

/* One line of postmap -s: "KEY\tBASE64": is it what was judged? */
static int
entry_holds(const char *line, size_t n, const struct sni_expect *ex,
    size_t nex, size_t *seen)
{
	const char	*tab = memchr(line, '\t', n);
	unsigned char	*raw, md[EVP_MAX_MD_SIZE];
	unsigned int	 mdlen, i;
	size_t		 k, b64;
	char		 hex[65];
	int		 len, ok = 0;

	if (tab == NULL)
		return 0;
	for (k = 0; k < nex; k++)
		if (strlen(ex[k].domain) == (size_t)(tab - line) &&
		    !strncmp(ex[k].domain, line, tab - line))
			break;
	b64 = n - (tab + 1 - line);
	if (k == nex || b64 % 4 != 0 || b64 > INT_MAX)
		return 0;
	raw = xmalloc(b64 / 4 * 3 + 1);
	if ((len = EVP_DecodeBlock(raw, (const unsigned char *)tab + 1, b64)) >=
	    0) {
		len -= b64 > 0 && tab[b64] == '=';	/* the padding's bytes */
		len -= b64 > 1 && tab[b64 - 1] == '=';
		if (EVP_Digest(raw, len, md, &mdlen, EVP_sha256(), NULL) &&
		    mdlen == 32) {
			for (i = 0; i < mdlen; i++)
				snprintf(hex + 2 * i, 3, "%02x", md[i]);
			ok = !strcmp(hex, ex[k].stored);
		}
	}
	freezero(raw, b64 / 4 * 3 + 1);
	*seen += ok;
	return ok;
}

/*
 * The new map read back with postmap -s: every entry holds what was
 * judged, and nothing else is in it.  A file changed while postmap read
 * it (a renewal writing the key, then the certificate) is caught here.
 */
static int
verify_built(struct sni_build *b, const char *confdir, const struct
    sni_expect *ex, size_t nex)
{
	const struct sni_map	*map = b->map;
	struct child		 c;
	struct stat		 st;
	const char		*argv[6], *p, *end;
	char			 arg[NAME_MAX + 32], dir[PATH_MAX], *out = NULL;
	size_t			 seen = 0, lines = 0, n;
	int			 status, err, ok = 0;

	snprintf(arg, sizeof(arg), "%s:%s", map->type, b->tmp);
	argv[0] = POSTMAP_PATH;
	argv[1] = "-c";
	argv[2] = path_absolute(confdir, dir);
	argv[3] = "-s";
	argv[4] = arg;
	argv[5] = NULL;
	if ((err = child_start(&c, POSTMAP_PATH, (char *const *)argv, NULL, 0,
	    b->src.dirfd, 077)) != 0) {
		problem(EX_OSERR, map->db, "not rebuilt: postmap -s could not "
		    "be run: %s" FIX "the map is unchanged", strerror(err < 0 ?
		    -err : err));
		return -1;
	}
	if (child_wait(&c, now_ms() + POSTMAP_DEADLINE_MS(nex), &status) ==
	    0 && WIFEXITED(status) && WEXITSTATUS(status) == 0 &&
	    fstat(c.out, &st) == 0 && st.st_size < MAX_FILE_SIZE * 4) {
		out = xmalloc(st.st_size + 1);
		if (pread(c.out, out, st.st_size, 0) == st.st_size) {
			out[st.st_size] = '\0';
			for (p = out, end = out + st.st_size; p < end; p += n +
			    1, lines++) {
				n = strcspn(p, "\n");
				entry_holds(p, n, ex, nex, &seen);
			}
			ok = seen == nex && lines == nex;
		}
	}
	child_close(&c);
	if (out != NULL)
		freezero(out, strlen(out) + 1);
	if (ok)
		return 0;
	problem(EX_TEMPFAIL, map->db, "not rebuilt: the map postmap built "
	    "does not hold what was checked (%zu of %zu entries did): a file "
	    "an entry names changed while postmap read it" FIX "the map is "
	    "unchanged; run again once the files are written", seen, nex);
	return -1;	/* logged */
}

/*
 * Build the new map from a private copy of the source, so that postmap
 * writes names no one else can have made or can read (0600, root's:
 * postmap gives a new map its source's group and other bits, and runs as
 * the source's owner).  It stays beside the real one until sni_commit
 * renames it over it: Postfix opens the old map or the whole new one,
 * never one postmap is writing, and a run refused after this changes
 * nothing.
 */
static int
build(struct sni_build *b, const char *confdir, size_t entries,
    const struct pending *pd, size_t npd, const struct sni_expect *ex,
    size_t nex)
{
	const struct sni_map	*map = b->map;
	const char		*step;
	char			*text = NULL;
	size_t			 len = 0;
	int			 rc;

	b->suffix = map->db + strlen(map->source);
	/* Room for Berkeley DB's "__db." and cdb's ".tmp" beside it. */
	if (snprintf(b->dbname, sizeof(b->dbname), "%s%s", b->src.name,
	    b->suffix) >= (int)sizeof(b->dbname) || strlen(b->src.name) +
	    strlen(b->suffix) + 9 > NAME_MAX) {
		problem(EX_CONFIG, map->db, "not rebuilt: the name is too long "
		    "for a temporary beside it" FIX "fix: a shorter name");
		return -1;
	}
	if (regenerate(b, pd, npd, &text, &len) == -1) {
		free(text);
		return -1;	/* logged */
	}
	rc = write_temp(b->src.dirfd, b->src.name, (unsigned char *)text, len,
	    b->tmp, &step);
	freezero(text, len);
	if (rc == -1) {
		b->tmp[0] = '\0';
		problem(EX_IOERR, map->source, "cannot rebuild %s: %s: %s" FIX
		    "the map is unchanged", map->db, step, strerror(errno));
		return -1;
	}
	snprintf(b->tmpdb, sizeof(b->tmpdb), "%s%s", b->tmp, b->suffix);
	if (run_postmap(map, b->src.dirfd, b->tmp, confdir, entries) == -1 ||
	    verify_built(b, confdir, ex, nex) == -1)
		return -1;	/* logged */
	b->built = 1;
	return 0;
}

/*
 * Everything a rebuild of MAP needs before any file is changed: the
 * source and map reached safely, read, judged stale or not, and in
 * deploy the new map built beside the old (build).  Check says what it
 * would rebuild.  -1 after a problem: then nothing is changed.
 */
int
sni_prepare(const struct sni_map *map, const char *confdir, int apply,
    const struct pending *pd, size_t npd, const struct sni_expect *ex,
    size_t nex, struct sni_build *b)
{
	char	why[WHERE_MAX + PATH_MAX];
	size_t	entries = 0;
	int	stale;

	memset(b, 0, sizeof(*b));
	b->map = map;
	file_init(&b->src);
	file_init(&b->db);
	if (map->db == NULL)
		return 0;	/* texthash, inline: nothing compiled */
	if (file_open(&b->src, map->source, 0) == -1 ||
	    file_open(&b->db, map->db, 1) == -1)
		return -1;	/* logged */
	if (b->src.shared) {
		problem(EX_NOPERM, map->source, "is in a directory everyone "
		    "may write to; postmap would write key material there"
		    FIX "fix: move the map to a directory only root can write, "
		    "such as /etc/postfix");
		return -1;
	}
	if (write_cleanup(&b->src, apply) == -1 ||
	    file_read(&b->src, &b->raw, &b->len) == -1 ||
	    (stale = stale_in(map, &b->src, &b->db, b->raw, b->len, why,
	    sizeof(why), &entries)) == -1)
		return -1;	/* logged */
	if (stale && !apply && render_format() != OUT_TEXT)
		/* A monitor: smtpd serves what the stale map holds. */
		warning(map->db, "the SNI map is older than its sources, and "
		    "smtpd serves what it holds: %s" FIX "run "
		    "postfix-tls-setup deploy, or reload Postfix through its "
		    "service", why);
	else if (stale && !apply)
		note("would rebuild %s with postmap -F, root:root 0600: %s",
		    map->db, why);
	else if (stale)
		return build(b, confdir, entries, pd, npd, ex, nex);
	return 0;
}

/*
 * Every check passed: the source made root's alone (a copy of what was
 * checked), then the new map (if one was built) into place.  A map that
 * was not rebuilt is root's alone and up to date already; when this run
 * moved the times of files it names (made root's, with the same bytes),
 * it is stamped again, or the next run would rebuild it for nothing.
 */
int
sni_commit(struct sni_build *b, int apply, int replaced)
{
	const struct sni_map	*map = b->map;
	int			 rc = -1;

	if (map == NULL || map->db == NULL)
		return 0;
	if (!file_private(&b->src))
		replaced = 1;
	if (file_make_private(&b->src, b->raw, b->len, apply) == -1)
		return -1;	/* logged */
	if (!b->built) {
		if (apply && replaced && b->db.fd != -1)
			futimens(b->db.fd, NULL);
		return 0;
	}
	if (install_db(map, b->src.dirfd, b->tmpdb, b->dbname) == 0) {
		note("rebuilt %s from %s with postmap -F, root:root 0600",
		    map->db, map->source);
		rc = 0;
	}
	b->built = 0;	/* in place, or given up: its temporaries go */
	return rc;	/* logged */
}

/* A rebuild's temporaries removed, its files closed. */
void
sni_build_free(struct sni_build *b)
{
	if (b->tmp[0] != '\0' && b->src.dirfd != -1)
		remove_temps(b->src.dirfd, b->tmp, b->suffix);
	while (b->ncopies > 0) {
		if (b->src.dirfd != -1)
			unlinkat(b->src.dirfd, b->copies[b->ncopies - 1], 0);
		free(b->copies[--b->ncopies]);
	}
	free(b->copies);
	file_close(&b->src);
	file_close(&b->db);
	if (b->raw != NULL)
		freezero(b->raw, b->len + 1);
	memset(b, 0, sizeof(*b));
}
