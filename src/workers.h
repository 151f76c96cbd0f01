/*
 * workers.c: the entries of a long SNI map judged on every CPU, their
 * findings and listings said in the order of the entries, as if this
 * process had found them.
 */
#ifndef WORKERS_H
#define WORKERS_H

#include <stddef.h>

struct sni_map;

struct sni_entry {
	char			*domain, *files, *where;
	const struct sni_map	*map;
};

/* Strings a worker hands back (key files to make root's). */
struct notes {
	char	**v;
	size_t	  n;
};
void	notes_add(struct notes *, const char *);
void	notes_free(struct notes *);

/* FN judges one entry; what it notes goes to NOTES. */
typedef void (*entry_fn)(const struct sni_entry *, void *arg,
	    struct notes *);

/* Every entry through FN: 0, or -1 when a worker failed (logged). */
int	workers_run(const struct sni_entry *, size_t n, entry_fn, void *arg,
	    struct notes *);

#endif /* WORKERS_H */
