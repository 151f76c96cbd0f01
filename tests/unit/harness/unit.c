/*
 * The unit tier's runner (see unit.h): each test in turn, in a child
 * process, its output captured, one TAP line per test.
 */
#include <sys/stat.h>
#include <sys/wait.h>

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../../../src/render.h"
#include "unit.h"

static int	 failed, skipped;
static char	 skip_why[256];
static FILE	*capture;	/* this test's stdout and stderr */
static char	*failures;	/* this test's failed checks, as text */
static size_t	 nfailures;

/*
 * The helper's messages also go to syslog; a test run must not fill the
 * machine's mail log with problems it made up.  These stand in for
 * glibc's (the second is what a _FORTIFY_SOURCE build calls).
 */
void
syslog(int prio, const char *fmt, ...)
{
	(void)prio;
	(void)fmt;
}

void
__syslog_chk(int prio, int flag, const char *fmt, ...)
{
	(void)prio;
	(void)flag;
	(void)fmt;
}

void
unit_fail(const char *file, int line, const char *fmt, ...)
{
	char	 msg[1024];
	int	 n;
	va_list	 ap;

	failed = 1;
	n = snprintf(msg, sizeof(msg), "%s:%d: ", file, line);
	va_start(ap, fmt);
	vsnprintf(msg + n, sizeof(msg) - n, fmt, ap);
	va_end(ap);
	failures = realloc(failures, nfailures + strlen(msg) + 2);
	if (failures == NULL)
		abort();
	memcpy(failures + nfailures, msg, strlen(msg));
	nfailures += strlen(msg);
	failures[nfailures++] = '\n';
	failures[nfailures] = '\0';
}

void
unit_skip(const char *why)
{
	skipped = 1;
	snprintf(skip_why, sizeof(skip_why), "%s", why);
}

int
unit_is_root(void)
{
	return geteuid() == 0;
}

/* A file of its own, gone when closed. */
static FILE *
scratch(void)
{
	FILE	*f = tmpfile();

	if (f == NULL) {
		perror("unit: tmpfile");
		exit(2);
	}
	return f;
}

/*
 * All of F, NUL-terminated: read with pread, since the file offset is
 * shared through dup2 with whoever writes it.
 */
static char *
contents(FILE *f)
{
	struct stat	 st;
	char		*text;

	fflush(f);
	if (fstat(fileno(f), &st) == -1 ||
	    (text = malloc(st.st_size + 1)) == NULL ||
	    pread(fileno(f), text, st.st_size, 0) != st.st_size)
		abort();
	text[st.st_size] = '\0';
	return text;
}

/* What the module wrote to stdout and stderr during this test. */
static char *
captured(void)
{
	fflush(stdout);
	fflush(stderr);
	return contents(capture);
}

/*
 * The findings recorded so far, as the run's end says them (render.c's
 * render_finish, in the form in force: text on a terminal unless the test
 * chose another), written to a file of their own: nothing is taken from
 * or added to the list, and the capture is left as it was.
 */
static char *
rendered(void)
{
	FILE	*f = scratch();
	char	*text;
	int	 out, err;

	fflush(stdout);
	fflush(stderr);
	if ((out = dup(1)) == -1 || (err = dup(2)) == -1 ||
	    dup2(fileno(f), 1) == -1 || dup2(fileno(f), 2) == -1)
		abort();
	render_finish(0);
	fflush(stdout);
	fflush(stderr);
	if (dup2(out, 1) == -1 || dup2(err, 2) == -1)
		abort();
	close(out);
	close(err);
	text = contents(f);
	fclose(f);
	return text;
}

int
said(const char *text)
{
	char	*out = captured(), *found = rendered();
	int	 hit;

	if (*text == '\0')
		hit = *out != '\0' || *found != '\0';
	else
		hit = strstr(out, text) != NULL || strstr(found, text) != NULL;
	free(out);
	free(found);
	return hit;
}

/* TEXT as TAP comment lines. */
static void
comment(const char *text)
{
	size_t	len;

	while (*text != '\0') {
		len = strcspn(text, "\n");
		printf("# %.*s\n", (int)len, text);
		text += len + (text[len] == '\n');
	}
}

/*
 * One test in a child of its own, its stdout and stderr captured: a
 * crash, or a sanitizer or valgrind report (which ends the process), is
 * this test's failure and the next test still runs.  The child writes
 * its verdict to VERDICT: "ok", "skip WHY", or "fail" and the failed
 * checks.  Returns 0 for ok, 1 for skip, -1 for a failure (said).
 */
static int
run_one(const char *module, const struct unit_test *t, size_t i)
{
	FILE	*verdict = scratch();
	char	*text, *v;
	pid_t	 pid;
	int	 status, rc;

	capture = scratch();
	fflush(NULL);
	if ((pid = fork()) == -1) {
		perror("unit: fork");
		exit(2);
	}
	if (pid == 0) {
		if (dup2(fileno(capture), 1) == -1 ||
		    dup2(fileno(capture), 2) == -1)
			_exit(2);
		t->fn();
		/* A failure shows what was found, as the run would say it. */
		if (failed)
			render_finish(0);
		findings_free();
		fflush(NULL);
		if (failed)
			fprintf(verdict, "fail\n%s", failures ? failures : "");
		else if (skipped)
			fprintf(verdict, "skip %s", skip_why);
		else
			fputs("ok", verdict);
		fclose(verdict);
		exit(0);	/* leak checkers look at the child too */
	}
	while (waitpid(pid, &status, 0) == -1)
		;
	text = contents(capture);
	v = contents(verdict);
	fclose(verdict);
	fclose(capture);
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0 &&
	    !strcmp(v, "ok")) {
		printf("ok %zu - %s: %s\n", i + 1, module, t->name);
		rc = 0;
	} else if (WIFEXITED(status) && WEXITSTATUS(status) == 0 &&
	    !strncmp(v, "skip ", 5)) {
		printf("ok %zu - %s: %s # skip %s\n", i + 1, module, t->name,
		    v + 5);
		rc = 1;
	} else {
		printf("not ok %zu - %s: %s\n", i + 1, module, t->name);
		if (!strncmp(v, "fail\n", 5))
			comment(v + 5);
		if (WIFSIGNALED(status))
			printf("# killed by signal %d\n", WTERMSIG(status));
		else if (WEXITSTATUS(status) != 0)
			printf("# exited with status %d\n",
			    WEXITSTATUS(status));
		if (*text != '\0') {
			printf("# said:\n");
			comment(text);
		}
		rc = -1;
	}
	free(text);
	free(v);
	return rc;
}

int
unit_main(const char *module, const struct unit_test *t, size_t n,
    void (*setup)(void), void (*done)(void))
{
	size_t	i;
	int	bad = 0;

	setvbuf(stdout, NULL, _IOLBF, 0);
	printf("1..%zu\n", n);
	if (setup != NULL)
		setup();
	for (i = 0; i < n; i++)
		if (run_one(module, &t[i], i) == -1)
			bad = 1;
	if (done != NULL)
		done();
	return bad;
}
