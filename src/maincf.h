/* maincf.c: main.cf's TLS settings against what this run deploys. */
#ifndef MAINCF_H
#define MAINCF_H

#include <stddef.h>

#include "postconf.h"

/* A bundle this run writes, with the key that was checked for it. */
struct target {
	const char	*bundle;
	const char	*key;
	int		 key_in_bundle;
};

/* TLS on, and each bundle served with its key: 0, or -1 (logged). */
int	maincf_check(const struct postfix *, const struct target *, size_t n);
/* The key parameter of the certificate parameter naming BUNDLE, or -1. */
int	maincf_key_param(const struct postfix *, const char *bundle);
/*
 * Every file name main.cf gives the parameters of group PCF (pc_files)
 * is one this helper reads as Postfix does: absolute, and the list not
 * too long to read whole.  0, or -1 (logged).
 */
int	maincf_file_names(const struct postfix *, int pcf);
/* Does smtpd_tls_chain_files name BUNDLE? */
int	maincf_in_chain_files(const struct postfix *, const char *bundle);

#endif /* MAINCF_H */
