/*
 * judge.c: each slot of the inventory judged as its peers would judge
 * what Postfix loads from it: a server chain as "openssl verify -purpose
 * sslserver" and a default TLS client at security level 2 do, the key
 * matched with its leaf, one key per algorithm; a client certificate as a
 * relay that checks one would.  Findings name the slot.
 */
#ifndef JUDGE_H
#define JUDGE_H

#include "verify.h"

struct slot;
struct material;
struct pending;

struct judge_opts {
	struct trust	 trust;
	int		 warn_days;
	int		 list;		/* say each identity's chain (check) */
	int		 records;	/* list it for check --json, --nagios */
	int		 advise;	/* check: a file in an ACME client's dir */
};

/*
 * Read SLOT's files (material.c) and judge them: 0 when Postfix can serve
 * them, -1 when not (logged, every finding attributed to the slot).  M
 * keeps what was read, for the DANE guard and the handshakes.
 */
int	judge_identity(const struct slot *, const struct pending *, size_t n,
	    const struct judge_opts *, struct material *m);

#endif /* JUDGE_H */
