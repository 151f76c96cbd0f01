/*
 * A name swapped at the very moment the helper starts a program, loaded
 * with LD_PRELOAD by tests/cli/walked-names.bats (test code only; nothing of
 * it is in the helper).  The helper checks the files an SNI map names,
 * then starts postmap -F, which reads them again by name: whoever can
 * rename in their directory gets in between.
 *   SWAP_SPAWN=NAME   before the first posix_spawn() of a program whose
 *   SWAP_FROM=P       file name ends in /NAME: rename(P, Q), e.g. a FIFO
 *   SWAP_TO=Q         over a checked file, which postmap then blocks on
 *   SWAP_PIDFILE=F    the pid of that child, written once it is started
 *                     (so the test can end a postmap the helper left)
 * The variables are read once and LD_PRELOAD is dropped, so that the
 * programs the helper runs are not affected.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static char	*spawn_name, *swap_from, *swap_to, *pidfile;

__attribute__((constructor)) static void
init(void)
{
	spawn_name = getenv("SWAP_SPAWN");
	swap_from = getenv("SWAP_FROM");
	swap_to = getenv("SWAP_TO");
	pidfile = getenv("SWAP_PIDFILE");
	unsetenv("LD_PRELOAD");
}

int
posix_spawn(pid_t *pid, const char *path,
    const posix_spawn_file_actions_t *fa, const posix_spawnattr_t *attr,
    char *const argv[], char *const envp[])
{
	static int (*real)(pid_t *, const char *,
	    const posix_spawn_file_actions_t *, const posix_spawnattr_t *,
	    char *const [], char *const []);
	const char	*base = strrchr(path, '/');
	FILE		*f;
	int		 hit, rc;

	if (real == NULL)
		real = (int (*)(pid_t *, const char *,
		    const posix_spawn_file_actions_t *,
		    const posix_spawnattr_t *, char *const [],
		    char *const []))dlsym(RTLD_NEXT, "posix_spawn");
	base = base ? base + 1 : path;
	hit = spawn_name != NULL && swap_from != NULL && swap_to != NULL &&
	    !strcmp(base, spawn_name);
	if (hit) {
		rename(swap_from, swap_to);
		spawn_name = NULL;
	}
	rc = real(pid, path, fa, attr, argv, envp);
	if (hit && rc == 0 && pidfile != NULL &&
	    (f = fopen(pidfile, "w")) != NULL) {
		fprintf(f, "%d\n", (int)*pid);
		fclose(f);
	}
	return rc;
}
