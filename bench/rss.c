/*
 * For bench/run.sh: the peak resident set size (VmHWM) of the process
 * itself, appended to $RSS_FILE at exit.  Loaded with LD_PRELOAD and
 * dropped from the environment at once, so that children (postconf) are
 * not measured: GNU time's figure is the largest process of the tree.
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static char	*out;

__attribute__((constructor)) static void
start(void)
{
	out = getenv("RSS_FILE");
	unsetenv("LD_PRELOAD");
}

__attribute__((destructor)) static void
finish(void)
{
	char	 line[128];
	FILE	*in, *o;

	if (out == NULL || (in = fopen("/proc/self/status", "r")) == NULL)
		return;
	while (fgets(line, sizeof(line), in) != NULL)
		if (!strncmp(line, "VmHWM:", 6) && (o = fopen(out, "a"))) {
			fprintf(o, "%ld\n", strtol(line + 6, NULL, 10));
			fclose(o);
		}
	fclose(in);
}
