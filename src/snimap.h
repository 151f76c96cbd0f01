/*
 * snimap.c: tls_server_sni_maps, read from what Postfix's maps are built
 * from (the postmap -F source beside a hash/btree/lmdb/cdb map, a
 * texthash file, an inline:{...} text), and smtpd's lookup order.
 */
#ifndef SNIMAP_H
#define SNIMAP_H

#include <stddef.h>

#define SNI_PARAM	"tls_server_sni_maps"

struct sni_map {
	char	*spec;		/* as Postfix names it: "hash:/etc/postfix/sni" */
	char	*type;		/* "hash", "texthash", "inline", ... */
	char	*source;	/* the file entries are read from; NULL: inline */
	char	*db;		/* the compiled file (source.db, ...); NULL: none */
	char	*text;		/* inline: the text between the braces */
};

/*
 * One entry: its domain (lower case, as looked up), its file list as
 * written (comma and/or space separated), and where: "FILE:LINE".  A
 * callback returns 0 to go on, -1 to stop (it said why).
 */
typedef int (*sni_fn)(const char *domain, const char *files,
	    const char *where, void *arg);

/* VALUE (postconf -x's) cut into its maps; the ones not read here warned. */
int	sni_maps(const char *value, struct sni_map **maps, size_t *n);
void	sni_maps_free(struct sni_map *, size_t n);
/* Would smtpd ever look this name up (Postfix's valid_hostname)? */
int	sni_name_valid(const char *name);
/* Each usable entry, in order (the source read through the safe walk). */
int	sni_each(const struct sni_map *, sni_fn, void *arg);
/* The same over a source's bytes already read; *count: entries. */
int	sni_each_in(const struct sni_map *, const unsigned char *raw,
	    size_t len, sni_fn, void *arg, size_t *count);

/*
 * The entry smtpd serves to a peer asking for NAME: NAME itself, then
 * each parent domain with its leading dot, each through the maps in
 * order.  1 with *key, *files, *where (to free) and *map set; 0 when
 * none; -1 (logged).
 */
int	sni_lookup(const struct sni_map *, size_t n, const char *name,
	    char **key, char **files, char **where,
	    const struct sni_map **map);

#endif /* SNIMAP_H */
