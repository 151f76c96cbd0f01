/*
 * inventory.c: everything Postfix will load, found once per run and
 * read-only afterwards.  A slot is one identity's files: main.cf's smtpd,
 * a master.cf smtpd service with files of its own, tlsproxy's (postscreen's
 * STARTTLS), the smtp and lmtp clients' certificates (main.cf's, a
 * service's own), and on demand an SNI entry's.  Listeners are the smtpd
 * inet services that serve TLS, each with the slot it serves by default
 * and its SNI maps; the port-25 ones are what DANE senders reach.
 */
#ifndef INVENTORY_H
#define INVENTORY_H

#include <stddef.h>

#include "postconf.h"
#include "topology.h"

struct sni_map;

#define ROLE_SERVER	0
#define ROLE_CLIENT	1

struct slot {
	char		*name;		/* "submission/inet (master.cf)" */
	char		*where;		/* where it is set */
	int		 role;		/* ROLE_* */
	const char	*host;		/* server: the name peers ask for */
	const char	*host_what;	/* "myhostname", "the SNI name" */
	const char	*chain_files;	/* key-then-chain files, or "" */
	const char	*chain_param;	/* what names them, for messages */
	const char	*cert[3], *key[3];	/* RSA, ECDSA, DSA; "" unset */
	const char	*cert_param[3], *key_param[3];
	char		*own[3];	/* what an SNI slot's strings are */
};

/* An smtpd inet service serving TLS: what a connection to it gets. */
struct listener {
	const struct service	*svc;
	size_t			 slot;	/* its default identity */
	const char		*sni;	/* its tls_server_sni_maps, or "" */
};

/* A tls_server_sni_maps value, and its maps in inventory.maps. */
struct sni_list {
	const char	*value;
	size_t		 first, n;
	int		 ok;		/* read (else said why not) */
};

/* What a DANE sender reaching port 25 may be served. */
struct port25 {
	const char	*via;		/* the listener, for messages */
	size_t		 slot;		/* the default chains */
	const char	*sni;		/* SNI maps: the MX name's entry */
};

struct inventory {
	struct topology	 top;
	struct slot	*v;		/* main.cf's smtpd first */
	size_t		 n;
	struct listener	*ls;
	size_t		 nls;
	struct port25	*p25;
	size_t		 np25;
	struct sni_map	*maps;		/* every SNI map of every list */
	size_t		 nmaps;
	struct sni_list	*lists;		/* the distinct map lists */
	size_t		 nlists;
};

/* 0, or -1 (logged): a slot that cannot be told is a refusal. */
int	inventory_build(struct postfix *, struct inventory *);
void	inventory_free(struct inventory *);
/* An SNI entry as a slot of its own (slot_free to release). */
void	slot_of_sni(const struct sni_map *, const char *domain,
	    const char *files, const char *where, struct slot *);
void	slot_free(struct slot *);
/* The maps of the list VALUE (empty when none or unread). */
void	inventory_maps(const struct inventory *, const char *value,
	    const struct sni_map **first, size_t *n);
/* Does the slot name any certificate at all? */
int	slot_names_certificate(const struct slot *);

#endif /* INVENTORY_H */
