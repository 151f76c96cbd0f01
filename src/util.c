/*
 * The one allocator wrapper, the one Postfix-list splitter, and the
 * standard descriptors kept taken.
 *
 * Out of memory, nothing sensible is left to do for a run of a few
 * milliseconds: say so and end it (Postfix's mymalloc does the same).
 * Nothing is half-written then: every file is written as a temporary and
 * renamed whole (write.c).
 */
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sysexits.h>
#include <unistd.h>

#include "common.h"

static void	(*on_oom)(void);

/* What the run does before it ends for lack of memory (render.c). */
void
oom_handler(void (*fn)(void))
{
	on_oom = fn;
}

void
oom(void)
{
	static const char msg[] = PROG ": out of memory\n";

	if (on_oom != NULL)
		on_oom();	/* does not return */
	(void)!write(STDERR_FILENO, msg, sizeof(msg) - 1);
	_exit(EX_OSERR);
}

void
std_fds_open(void)
{
	int	fd;

	/* open() takes the lowest free descriptor: the closed ones first. */
	while ((fd = open("/dev/null", O_RDWR | O_CLOEXEC)) != -1 && fd < 3)
		(void)fcntl(fd, F_SETFD, 0);	/* inherited, as a standard one */
	if (fd > 2)
		close(fd);
}

void *
xmalloc(size_t n)
{
	void	*p = malloc(n ? n : 1);

	if (p == NULL)
		oom();
	return p;
}

void *
xcalloc(size_t n, size_t size)
{
	void	*p = calloc(n ? n : 1, size ? size : 1);

	if (p == NULL)
		oom();
	return p;
}

void *
xreallocarray(void *old, size_t n, size_t size)
{
	void	*p = reallocarray(old, n ? n : 1, size ? size : 1);

	if (p == NULL)
		oom();
	return p;
}

char *
xstrdup(const char *s)
{
	char	*p = strdup(s);

	if (p == NULL)
		oom();
	return p;
}

char *
xstrndup(const char *s, size_t n)
{
	char	*p = strndup(s, n);

	if (p == NULL)
		oom();
	return p;
}

char *
xasprintf(const char *fmt, ...)
{
	va_list	 ap;
	char	*s;
	int	 r;

	va_start(ap, fmt);
	r = vasprintf(&s, fmt, ap);
	va_end(ap);
	if (r == -1)
		oom();
	return s;
}

const char *
plist_next(const char **cursor, size_t *len, int flags, int *unbalanced)
{
	const char	*s = *cursor + strspn(*cursor, PLIST_SEP), *start = s;
	int		 depth = 0;

	*len = 0;
	if (*s == '\0') {
		*cursor = s;
		return NULL;
	}
	for (; *s != '\0'; s++) {
		if ((flags & PLIST_BRACES) && *s == '{')
			depth++;
		else if ((flags & PLIST_BRACES) && *s == '}' && --depth < 0)
			break;
		else if (depth == 0 && strchr(PLIST_SEP, *s) != NULL)
			break;
	}
	if (depth != 0) {
		if (unbalanced != NULL)
			*unbalanced = 1;
		*cursor = s + strlen(s);
		return NULL;
	}
	*len = s - start;
	*cursor = *s != '\0' ? s + 1 : s;
	return start;
}

int
plist_nth(const char *list, size_t n, char *buf, size_t size)
{
	const char	*w = NULL;
	size_t		 len = 0;

	buf[0] = '\0';
	for (; n > 0; n--)
		if ((w = plist_next(&list, &len, PLIST_PLAIN, NULL)) == NULL)
			return -1;
	if (len >= size)
		return -1;
	memcpy(buf, w, len);
	buf[len] = '\0';
	return 0;
}

int
pf_yes(const char *v)
{
	return v != NULL && !strcasecmp(v, "yes");
}
