/*
 * postconf.c: ask Postfix itself what it will use.  main.cf's values come
 * from one "postconf -c DIR -xh NAME..." (defaults, $name references and
 * legacy parameters resolved as Postfix resolves them), master.cf's
 * services from -F, their -o overrides from -Px, and a service's own
 * values from postconf -xh -o NAME=VALUE...  All side by side, started
 * first and collected later (postconf_start, postconf_finish).
 */
#ifndef POSTCONF_H
#define POSTCONF_H

#include <sys/types.h>

#include "child.h"

/* How long postconf may take (it takes milliseconds). */
#define POSTCONF_DEADLINE_MS	30000
#define POSTCONF_DEADLINE_TEXT	"30 s"

/* The parameters asked, in the order asked (pc_names). */
enum pc_param {
	PC_LEVEL, PC_USE_TLS, PC_ENFORCE_TLS,
	PC_CERT, PC_KEY, PC_ECCERT, PC_ECKEY, PC_DCERT, PC_DKEY,
	PC_CHAIN_FILES, PC_AUTH_ONLY, PC_SASL, PC_MYHOSTNAME, PC_SNI_MAPS,
	PC_WRAPPER, PC_INET_INTERFACES, PC_INET_PROTOCOLS, PC_KNOWN_PORTS,
	PC_PSCREEN_LEVEL,
	/* tlsproxy's server files: postscreen's STARTTLS */
	PC_TP_CERT, PC_TP_KEY, PC_TP_ECCERT, PC_TP_ECKEY, PC_TP_DCERT,
	PC_TP_DKEY, PC_TP_CHAIN_FILES,
	/* the clients' certificates */
	PC_SMTP_CERT, PC_SMTP_KEY, PC_SMTP_ECCERT, PC_SMTP_ECKEY,
	PC_SMTP_DCERT, PC_SMTP_DKEY, PC_SMTP_CHAIN_FILES,
	PC_LMTP_CERT, PC_LMTP_KEY, PC_LMTP_ECCERT, PC_LMTP_ECKEY,
	PC_LMTP_DCERT, PC_LMTP_DKEY, PC_LMTP_CHAIN_FILES,
	PC_TPC_CERT, PC_TPC_KEY, PC_TPC_ECCERT, PC_TPC_ECKEY, PC_TPC_DCERT,
	PC_TPC_DKEY, PC_TPC_CHAIN_FILES,
	/* where master.pid is: is the master running (check --json)? */
	PC_QUEUE_DIR,
	PC_NPARAMS
};
extern const char *const pc_names[PC_NPARAMS];

/*
 * One identity's files as parameters: chain files, then the RSA, ECDSA
 * and DSA pairs (certificate, key).  pc_files[ROLE] for smtpd, tlsproxy,
 * smtp, lmtp and tlsproxy's client side.
 */
struct pc_files {
	enum pc_param	chain, cert[3], key[3];
};
#define PCF_SMTPD	0
#define PCF_TLSPROXY	1
#define PCF_SMTP	2
#define PCF_LMTP	3
#define PCF_TP_CLIENT	4
#define PCF_N		5
extern const struct pc_files pc_files[PCF_N];
/* Group PCF's parameters in one list: chain files, then each pair. */
#define PCF_NFILES	7
void	pc_file_params(int pcf, enum pc_param out[PCF_NFILES]);

/* The three questions: main.cf's values, master.cf's services, their -o. */
enum pc_ask { ASK_VALUES, ASK_SERVICES, ASK_OVERRIDES, ASK_N };

struct postfix {
	const char	*dir;
	char		*v[PC_NPARAMS];
	char		*services;	/* postconf -F: each service's command */
	char		*overrides;	/* postconf -Px: "svc/type/name = value" */
	char		*svcvalues;	/* postconf_service's answers, cached */
	struct child	 ask[ASK_N];	/* the three postconf runs */
	long long	 deadline;	/* for all of them */
	int		 spawn_errno;
	int		 no_master;	/* no master.cf: no services */
	const char	*cache;		/* POSTFIX_TLS_CACHE, or NULL */
	char		 key[65];	/* cache_key when asked, else "" */
	int		 cached;	/* v[] came from the cache */
	int		 keep;		/* v[] may be cached (postconf_keep) */
};

/* A service's values under its -o settings (postconf_services). */
struct svcask {
	const char	 *svc;		/* "submission/inet" */
	char		**o;		/* "name=value" of each -o */
	size_t		  no;
	char		 *v[PC_NPARAMS];	/* the answer */
	struct child	  ch;
};

void	postconf_start(const char *confdir, const char *cache,
	    struct postfix *);
int	postconf_finish(struct postfix *);
int	postconf_services(struct postfix *, struct svcask *, size_t n);
int	postconf_parse(char *text, struct postfix *);
int	postconf_parse_cache(char *text, struct postfix *);
char	*postconf_cache_text(const struct postfix *, size_t *len);
void	postconf_keep(const struct postfix *);
void	postconf_free(struct postfix *);
void	postconf_free_values(struct postfix *);

#endif /* POSTCONF_H */
