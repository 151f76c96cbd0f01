/*
 * acmeconf.c: what check reads of the ACME clients, as advice only:
 * whether a file lies in a client's own directory (Postfix must not read
 * it there), and whether the client whose files a set takes makes a new
 * key at each renewal (certbot's reuse_key, dehydrated's
 * PRIVATE_KEY_RENEW).  lego's --reuse-key is a flag of each run, in no
 * file, and uacme keeps the key it made: neither is read.
 */
#ifndef ACMECONF_H
#define ACMECONF_H

#include <stddef.h>

struct settings;

/* The client whose own directory holds PATH ("certbot", ...), or NULL. */
const char *acme_client_of(const char *path);

/*
 * The value of the last "NAME = VALUE" line of TEXT (blanks around '=',
 * quotes, a trailing comment, shell's "export"), in BUF: 1, or 0 when
 * there is none.  SECTION ("renewalparams"): only lines under that INI
 * header count; NULL: every line (a shell file).
 */
int	acme_setting(const char *text, size_t len, const char *section,
	    const char *name, char *buf, size_t size);

/*
 * check, when a port-25 chain is guarded by its own key's 3 x x record
 * alone: a warning for each client file that makes a set's key anew at
 * each renewal, once a file, giving the next key's record when the
 * client keeps that key already (dehydrated's privkey.roll.pem), else
 * TA.  HOST: the MX name at risk; TA: the issuing CA's 2 1 1 record, ""
 * when the chain has none.
 */
void	acme_key_advice(const struct settings *, const char *host,
	    const char *ta);

#endif /* ACMECONF_H */
