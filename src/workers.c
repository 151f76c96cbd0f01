/*
 * A long SNI map checked on every CPU.  Ten thousand domains are ten
 * thousand keys and chains to read and verify, and one core does about
 * 1,600 a second here: the entries are shared out, in order, to one
 * process per CPU.  A worker is a fork of this process (its caches, its
 * trust store, its settings) that holds everything it says; the parent
 * says it after its own share, worker by worker, so the lines come in
 * the order of the entries, as its own records.  A worker also hands
 * over the key files deploy must make root's alone.
 * Short maps are checked here, in this process: a fork costs more.
 */
#include <sys/mman.h>
#include <sys/wait.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <unistd.h>

#include "common.h"
#include "finding.h"
#include "workers.h"

#define MAX_WORKERS	8
#define MIN_SHARE	512	/* entries a worker is worth forking for */

struct worker {
	pid_t	pid;
	int	logfd, securefd;	/* memory files it writes */
	size_t	lo, hi;		/* its entries */
};

/* The whole of a memory file, NUL-terminated; NULL when it cannot be. */
static char *
slurp(int fd, size_t *len)
{
	off_t	 size = lseek(fd, 0, SEEK_END);
	char	*buf;

	if (size < 0 || (buf = malloc(size + 1)) == NULL)
		return NULL;
	if (pread(fd, buf, size, 0) != size) {
		free(buf);
		return NULL;
	}
	buf[size] = '\0';
	*len = size;
	return buf;
}

void
notes_add(struct notes *n, const char *s)
{
	n->v = xreallocarray(n->v, n->n + 1, sizeof(*n->v));
	n->v[n->n++] = xstrdup(s);
}

void
notes_free(struct notes *n)
{
	while (n->n > 0)
		free(n->v[--n->n]);
	free(n->v);
	n->v = NULL;
}

/* In the worker: its share, then what it found and noted, then exit. */
static void __attribute__((noreturn))
work(const struct worker *w, const struct sni_entry *v, entry_fn fn,
    void *arg, struct notes *notes)
{
	size_t	 i, before = notes->n, mark = findings_mark();
	size_t	 lmark = listings_mark();
	FILE	*f;
	int	 ok;

	for (i = w->lo; i < w->hi; i++)
		fn(&v[i], arg, notes);
	ok = (f = fdopen(w->logfd, "w")) != NULL &&
	    findings_export(f, mark, lmark) == 0 && fclose(f) == 0;
	for (i = before; ok && i < notes->n; i++)
		ok = write(w->securefd, notes->v[i], strlen(notes->v[i]) + 1) >
		    0;
	_exit(ok ? 0 : 1);
}

/* Back in the parent: what worker w found, ours; its notes noted. */
static int
collect(struct worker *w, struct notes *notes)
{
	char	*text = NULL, *secure = NULL, *p;
	size_t	 len = 0, slen = 0;
	int	 status, rc = -1;

	while (waitpid(w->pid, &status, 0) == -1 && errno == EINTR)
		;
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0 &&
	    (text = slurp(w->logfd, &len)) != NULL &&
	    (secure = slurp(w->securefd, &slen)) != NULL &&
	    findings_import(text, len) == 0) {
		rc = 0;
		for (p = secure; p < secure + slen; p += strlen(p) + 1)
			notes_add(notes, p);
	}
	if (rc == -1)
		problem(EX_SOFTWARE, NULL, "internal error: the process that "
		    "checked SNI entries %zu to %zu failed; nothing was changed"
		    FIX "please report this", w->lo + 1, w->hi);
	free(text);
	free(secure);
	close(w->logfd);
	close(w->securefd);
	return rc;
}

static int
start(struct worker *w, const struct sni_entry *v, entry_fn fn, void *arg,
    struct notes *notes)
{
	if ((w->logfd = memfd_create("worker-log", MFD_CLOEXEC)) == -1 ||
	    (w->securefd = memfd_create("worker-secure", MFD_CLOEXEC)) ==
	    -1) {
		if (w->logfd != -1)
			close(w->logfd);
		return -1;
	}
	fflush(NULL);	/* nothing buffered is said twice */
	if ((w->pid = fork()) == -1) {
		close(w->logfd);
		close(w->securefd);
		return -1;
	}
	if (w->pid == 0)
		work(w, v, fn, arg, notes);
	return 0;
}

int
workers_run(const struct sni_entry *v, size_t n, entry_fn fn, void *arg,
    struct notes *notes)
{
	struct worker	 w[MAX_WORKERS];
	long		 cpus = sysconf(_SC_NPROCESSORS_ONLN);
	size_t		 nw, i, started = 0;
	int		 rc = 0;

	nw = cpus < 1 ? 1 : cpus > MAX_WORKERS ? MAX_WORKERS : (size_t)cpus;
	if (n / nw < MIN_SHARE)
		nw = n / MIN_SHARE > 0 ? n / MIN_SHARE : 1;
	/* Shares in order, ours first: so our lines come first. */
	for (i = 1; i < nw; i++) {
		w[started].lo = n * i / nw;
		w[started].hi = n * (i + 1) / nw;
		w[started].logfd = w[started].securefd = -1;
		if (start(&w[started], v, fn, arg, notes) == -1)
			break;	/* the rest is ours: slower, still whole */
		started++;
	}
	for (i = 0; i < (started > 0 ? w[0].lo : n); i++)
		fn(&v[i], arg, notes);
	for (i = 0; i < started; i++)
		if (collect(&w[i], notes) == -1)
			rc = -1;	/* logged */
	/* What a worker that could not start would have checked, last. */
	for (i = started > 0 ? w[started - 1].hi : n; i < n; i++)
		fn(&v[i], arg, notes);
	return rc;
}
