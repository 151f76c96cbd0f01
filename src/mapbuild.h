/*
 * mapbuild.c: a compiled SNI map (hash, btree, lmdb, cdb) that is older
 * than its source or than a file it names, or that is not root's alone,
 * rebuilt from a private copy of the checked source beside the old one,
 * and renamed into place only once every check of the run passed.
 */
#ifndef MAPBUILD_H
#define MAPBUILD_H

#include <limits.h>

#include "secure.h"

struct sni_map;
struct pending;

/* What an entry must hold once compiled: what was judged of it. */
struct sni_expect {
	char	*domain;
	char	 stored[65];	/* material.h: SHA-256 of what postmap stores */
};

/* A map rebuilt beside the real one (sni_prepare), not yet in place. */
struct sni_build {
	const struct sni_map	*map;
	struct file		 src, db;
	unsigned char		*raw;		/* the source as checked */
	size_t			 len;
	char			 tmp[NAME_MAX + 1];	/* the source's copy */
	char			 tmpdb[NAME_MAX + 1];	/* the map made of it */
	char			 dbname[NAME_MAX + 1];
	const char		*suffix;	/* ".db", ".lmdb", ... */
	int			 built;		/* tmpdb waits for sni_commit */
	char			**copies;	/* private copies the source names */
	size_t			  ncopies;
};

/* How long postmap may take: 10 s, and 2 ms more per entry. */
#define POSTMAP_DEADLINE_MS(n)	(10000 + 2 * (long long)(n))

/*
 * Judge the map's staleness and, in deploy, build the new map beside the
 * old one from what was judged: a file the run writes (PD) is given to
 * postmap as a private copy of its new content, and the built map is read
 * back (postmap -s) and compared with EX, entry by entry.
 */
int	sni_prepare(const struct sni_map *, const char *confdir, int apply,
	    const struct pending *pd, size_t npd, const struct sni_expect *ex,
	    size_t nex, struct sni_build *);
/* REPLACED: files were made root's this run (their times moved). */
int	sni_commit(struct sni_build *, int apply, int replaced);
void	sni_build_free(struct sni_build *);

#endif /* MAPBUILD_H */
