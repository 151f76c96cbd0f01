/* cache.c: postconf's last answer, kept while what decides it is the same. */
#ifndef CACHE_H
#define CACHE_H

struct postfix;

int	cache_key(const char *confdir, char key[65]);
int	cache_get(struct postfix *);
void	cache_put(const struct postfix *);

#endif /* CACHE_H */
