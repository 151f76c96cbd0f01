/*
 * postfix-tls-setup: shared declarations, one section per source file.
 * Each stage of the helper lives in its own file; this header is the
 * only place where they meet.
 */
#ifndef EXTERN_H
#define EXTERN_H

#include <sys/stat.h>
#include <sys/types.h>

#include <limits.h>
#include <stddef.h>
#include <stdio.h>

#include <openssl/evp.h>
#include <openssl/x509.h>

#define PROG		"postfix-tls-setup"
#ifndef VERSION
#define VERSION		"0.0.0"
#endif
#ifndef POSTCONF_PATH
#define POSTCONF_PATH	"/usr/sbin/postconf"
#endif
#ifndef POSTMAP_PATH
#define POSTMAP_PATH	"/usr/sbin/postmap"
#endif
#define DEFAULT_CONF	"/etc/conf.d/postfix-tls-setup"
#define DEFAULT_CONFDIR	"/etc/postfix"

/* Documented limits (see the man page): beyond them the helper refuses. */
#define MAX_FILE_SIZE	(8 * 1024 * 1024)	/* bytes per input file */
#define MAX_CERTS	4096			/* certificates per run */
#define MAX_CHAIN_LEN	16			/* leaf + issuers in the bundle */
#define MAX_INPUTS	64			/* chain files per run */
#define MAX_SYMLINKS	32			/* links followed per path */
#define MAX_SETS	4			/* bundles deployed per run */

/* check's output formats (--json, --nagios): monitor.c. */
#define OUT_TEXT	0
#define OUT_JSON	1
#define OUT_NAGIOS	2

/* log.c: one line per problem to stderr and to syslog (facility mail). */
void	log_init(int quiet, int verbose);
void	log_hold(void);
void	log_unhold(void);
void	log_release(void);
void	log_context(const char *who);
void	log_mute(int);
int	log_export(FILE *);
int	log_import(const char *text);
void	problem(int ex, const char *path, const char *fmt, ...)
	    __attribute__((format(printf, 3, 4)));
void	crypto_problem(int ex, const char *path, const char *what);
void	warning(const char *path, const char *fmt, ...)
	    __attribute__((format(printf, 2, 3)));
void	report(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void	log_record(const char *record);
void	debug(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
int	verbose(void);
int	problems(void);
int	exit_status(void);

/* conf.c: the conf.d tuning file, read without a shell. */
#define PROBE_WARN	1	/* a failed post-start handshake: eerror only */
#define PROBE_STOP	2	/* ... and Postfix is stopped again */
#define PROBE_OFF	0	/* no post-start handshake */
#define DANE_OFF	0	/* POSTFIX_TLS_DANE: no lookup */
#define DANE_AUTO	1	/* enforce validated records, warn otherwise */
#define DANE_ENFORCE	2	/* a mismatch refuses, validated or not */
#define DANE_WARN	3	/* a mismatch is a warning */
/* One bundle to deploy: set 0 is POSTFIX_TLS_CERT..., set N-1 _N. */
struct setconf {
	char	*cert;		/* POSTFIX_TLS_CERT */
	char	*key;		/* POSTFIX_TLS_KEY */
	char	*chain[MAX_INPUTS];	/* POSTFIX_TLS_CHAIN */
	size_t	 nchain;
	char	*bundle;	/* POSTFIX_TLS_BUNDLE */
};
struct settings {
	struct setconf set[MAX_SETS];
	char	*cafile;	/* POSTFIX_TLS_CAFILE */
	char	*capath;	/* POSTFIX_TLS_CAPATH */
	char	*cache;		/* POSTFIX_TLS_CACHE */
	int	 include_root;	/* POSTFIX_TLS_INCLUDE_ROOT, -1 = unset */
	int	 warn_days;	/* POSTFIX_TLS_WARN_DAYS, -1 = unset */
	int	 crit_days;	/* POSTFIX_TLS_CRIT_DAYS, -1 = unset */
	int	 probe;		/* POSTFIX_TLS_PROBE: PROBE_*, -1 = unset */
	int	 probe_timeout;	/* POSTFIX_TLS_PROBE_TIMEOUT, seconds */
	int	 dane;		/* POSTFIX_TLS_DANE: DANE_*, -1 = unset */
	int	 dane_dns_refuse;	/* POSTFIX_TLS_DANE_DNS=refuse */
	int	 dane_timeout;	/* POSTFIX_TLS_DANE_TIMEOUT, seconds */
	char	*dane_names;	/* POSTFIX_TLS_DANE_NAMES */
	int	 hook;		/* POSTFIX_TLS_HOOK, -1 = unset */
	char	*hook_from;	/* where it was set, for the message */
	int	 print;		/* --print-conf: print each NAME=value read */
};
int	conf_read(const char *path, int required, struct settings *);
int	conf_parse(struct settings *, char *text, size_t len, const char *path);
int	conf_set(struct settings *, const char *name, const char *value,
	    const char *where);
int	conf_add_chain(struct setconf *, const char *list, const char *where);
int	conf_hook_off(const struct settings *);
void	conf_free(struct settings *);

/* postconf.c: ask Postfix what it will use. */
enum pf_param {
	PF_LEVEL, PF_USE_TLS, PF_ENFORCE_TLS, PF_CERT, PF_KEY, PF_ECCERT,
	PF_ECKEY, PF_DCERT, PF_DKEY, PF_CHAIN_FILES, PF_AUTH_ONLY, PF_SASL,
	PF_MYHOSTNAME, PF_SNI_MAPS, PF_WRAPPER, PF_INET_INTERFACES,
	PF_INET_PROTOCOLS, PF_NPARAMS
};
/* The three questions: main.cf's values, master.cf's services, their -o. */
enum pf_ask { ASK_VALUES, ASK_SERVICES, ASK_OVERRIDES, ASK_N };
struct postfix {
	const char	*dir;
	char		*v[PF_NPARAMS];
	char		*services;	/* postconf -F: each service's command */
	char		*overrides;	/* postconf -Px: "svc/type/name = value" */
	char		*svcvalues;	/* postconf_service's answers, cached */
	pid_t		 pid[ASK_N];	/* postconf, until reaped */
	int		 outfd[ASK_N], errfd[ASK_N];	/* in memory files */
	int		 spawn_errno;
	int		 no_memfd;	/* spawn_errno is memfd_create's */
	int		 no_master;	/* no master.cf: no services */
	const char	*cache;		/* POSTFIX_TLS_CACHE, or NULL */
	char		 key[65];	/* cache_key when asked, else "" */
	int		 cached;	/* v[] came from the cache */
	int		 keep;		/* v[] may be cached (postconf_keep) */
};
extern const char *const pf_names[PF_NPARAMS];
void	postconf_start(const char *confdir, const char *cache,
	    struct postfix *);
/* A service's values under its -o settings (postconf_services). */
struct svcask {
	const char	 *svc;		/* "submission/inet" */
	char		**o;		/* "name=value" of each -o */
	size_t		  no;
	char		 *v[PF_NPARAMS];	/* the answer */
	pid_t		  pid;
	int		  outfd, errfd;
};
int	postconf_services(struct postfix *, struct svcask *, size_t n);
int	postconf_parse(char *text, struct postfix *);
int	postconf_parse_cache(char *text, struct postfix *);
char	*postconf_cache_text(const struct postfix *, size_t *len);
int	postconf_finish(struct postfix *);
void	postconf_keep(const struct postfix *);
void	postconf_free(struct postfix *);
void	postconf_free_values(struct postfix *);

/* cache.c: postconf's last answer, kept while what decides it is the same. */
int	cache_key(const char *confdir, char key[65]);
int	cache_get(struct postfix *);
void	cache_put(const struct postfix *);

/* vdb.c: Gentoo's installed-package database. */
int	vdb_check_ssl(const char *root);

/* secure.c: safe paths, ownership and mode, through descriptors. */
struct file {
	char		*path;		/* as the admin named it */
	int		 dirfd;		/* checked directory holding it */
	char		 name[NAME_MAX + 1];	/* final name in dirfd */
	char		 real[PATH_MAX];	/* resolved path, for messages */
	int		 shared;	/* dirfd is a sticky shared dir */
	int		 fd;		/* the file itself, -1 if absent */
	struct stat	 st;
};
void	file_init(struct file *);
int	file_open(struct file *, const char *path, int may_be_absent);
int	dir_open(const char *path, int create);
int	file_read(struct file *, unsigned char **buf, size_t *len);
int	file_secure(struct file *, int apply);
int	file_digest(const unsigned char *buf, size_t len, char hex[65]);
int	file_secure_as_checked(struct file *, const char *hex, int apply);
const char *user_name(uid_t uid);
const char *path_absolute(const char *path, char buf[PATH_MAX]);
int	same_file(const char *a, const char *b);
void	file_close(struct file *);

/* write.c: the one way a file is written. */
int	write_atomic(struct file *, const unsigned char *buf, size_t len);
int	write_temp(int dirfd, const char *name, const unsigned char *buf,
	    size_t len, char tmp[NAME_MAX + 1], const char **step);
int	write_replace(int dirfd, const char *name, const unsigned char *buf,
	    size_t len, const char **step);
int	write_cleanup(struct file *, int apply);

/* pem.c: certificates and keys out of PEM files. */
struct cert {
	X509		*x509;
	const char	*src;		/* file it came from */
	unsigned long	 subject;	/* X509_NAME_hash of the subject */
	size_t		 seq;		/* order of appearance */
};
struct pool {
	struct cert	*certs;
	size_t		 n, cap;
	int		 served;	/* read as smtpd reads it: POOL_* */
};
#define POOL_INPUT	0	/* an input: any certificate block */
#define POOL_STREAM	1	/* chain files, SNI: no TRUSTED CERTIFICATE */
#define POOL_PAIR	2	/* a cert file: TRUSTED only as the leaf */
struct key {
	EVP_PKEY	*pkey;
	const char	*src;
	int		 encrypted;
	int		 count;		/* private keys seen in src */
	size_t		 block;		/* PEM block of the first one */
};
int	pem_load(const char *path, const unsigned char *buf, size_t len,
	    struct pool *, struct key *, int want_key);
size_t	pem_next_key(const unsigned char *buf, size_t len, size_t from);
int	pem_has_cert(const unsigned char *buf, size_t len);
void	pem_done(void);
void	pool_free(struct pool *);
void	key_free(struct key *);

/* chain.c: put the leaf first and its issuers in order. */
struct chain {
	X509	*x509[MAX_CHAIN_LEN];
	size_t	 n;
	X509	*root;		/* a self-signed root left out, or NULL */
	const char *root_src;
};
int	chain_build(struct pool *, const struct key *, const char *leafsrc,
	    const char *const *srcs, size_t nsrcs, int include_root,
	    struct chain *);
int	chain_pem(const struct chain *, const struct key *key_first,
	    unsigned char **buf, size_t *len);

/* verify.c: what openssl verify -purpose sslserver and Postfix need. */
int	verify_chain(const struct chain *, const char *cafile,
	    const char *capath, const char *leafsrc);
int	verify_key(const struct chain *, const struct key *,
	    const char *keypath, const char *leafsrc);
void	verify_warn(const struct chain *, const char *leafsrc,
	    const char *host, const char *host_what, int warn_days);
const char *verify_fix(int err);
int	verify_names(X509 *, const char *host);
X509_STORE *verify_store(const char *cafile, const char *capath);
void	verify_done(void);

/* maincf.c: main.cf's TLS settings against what this run checked. */
struct target {
	const char	*bundle;	/* file this run writes */
	const char	*key;		/* key file checked */
	int		 key_in_bundle;
};
int	maincf_check(const struct postfix *, const struct target *, size_t n);
int	maincf_key_param(const struct postfix *, const char *bundle);
int	maincf_in_chain_files(const struct postfix *, const char *bundle);
int	maincf_file_names(const struct postfix *);

/*
 * sni.c: tls_server_sni_maps, read from what Postfix's maps are built
 * from (the postmap -F source beside a hash/btree/lmdb/cdb map, a
 * texthash file, an inline:{...} text); rebuilt safely when stale.
 */
struct sni_map {
	char	*spec;		/* as Postfix names it: "hash:/etc/postfix/sni" */
	char	*type;		/* "hash", "texthash", "inline", ... */
	char	*source;	/* the file entries are read from; NULL: inline */
	char	*db;		/* the compiled file (source.db, ...); NULL: none */
	char	*text;		/* inline: the text between the braces */
};
/* One entry: its domain (lower case, as looked up), its file list as
 * written (comma and/or space separated), and where: "FILE:LINE". */
typedef int (*sni_fn)(const char *domain, const char *files,
	    const char *where, void *arg);
int	sni_maps(const char *value, struct sni_map **maps, size_t *n);
int	sni_name_valid(const char *name);
int	sni_each(const struct sni_map *, sni_fn, void *arg);
/* A map rebuilt beside the real one (sni_prepare), not yet in place. */
struct sni_build {
	const struct sni_map	*map;
	struct file		 src, db;
	char			 tmp[NAME_MAX + 1];	/* the source's copy */
	char			 tmpdb[NAME_MAX + 1];	/* the map made of it */
	char			 dbname[NAME_MAX + 1];
	const char		*suffix;	/* ".db", ".lmdb", ... */
	int			 built;		/* tmpdb waits for sni_commit */
};
int	sni_prepare(const struct sni_map *, const char *confdir, int apply,
	    struct sni_build *);
int	sni_commit(struct sni_build *, int apply);
void	sni_build_free(struct sni_build *);
void	sni_maps_free(struct sni_map *, size_t n);

/*
 * serve.c: one identity Postfix presents (main.cf's, a master.cf
 * service's, an SNI domain's), read as smtpd reads it, fully checked.
 */
struct identity {
	const char	*name;		/* for messages: "submission/inet (master.cf)" */
	const char	*where;		/* where it is set: main.cf, master.cf, SRC:LINE */
	const char	*host;		/* the name peers ask for */
	const char	*host_what;	/* "myhostname", "the SNI name" */
	const char	*chain_files;	/* key-then-chain files, or NULL */
	const char	*chain_param;	/* what names them, for messages */
	const char	*cert[3], *key[3];	/* RSA, ECDSA, DSA pairs */
};
/* Leaf certificates an identity serves, as read (probe's expectation). */
struct leaves {
	X509	**v;
	size_t	  n;
};
void	leaves_free(struct leaves *);
/* A chain served on port 25, for the DANE guard (dane.c). */
struct dane_chain {
	char	*who;		/* the identity */
	char	*sni;		/* served to peers asking for this name only */
	size_t	 scope;		/* the identity whose listeners serve it */
	X509	*x509[MAX_CHAIN_LEN];
	size_t	 n;
};
struct chains {
	struct dane_chain	*v;
	size_t			 n;
};
#define SCOPE_ALL	((size_t)-1)	/* an SNI entry for every listener */
struct served {
	const char		*bundle[MAX_SETS];	/* written by this run */
	const unsigned char	*pem[MAX_SETS];	/* as it will be; NULL: refused */
	size_t			 len[MAX_SETS];
	size_t			 n;
	const char		*cafile, *capath;
	int			 warn_days;
	int			 apply;		/* deploy */
	int			 list;		/* say each identity (check) */
	char			**secure;	/* "SHA256 PATH": key files to
						   make root's */
	size_t			 nsecure;
	struct leaves		*leaves;	/* probe: the leaves read, or NULL */
	struct chains		*chains;	/* DANE: the chains listed go here */
	const char		*chain_sni;	/* ... served for this SNI name */
	size_t			 chain_scope;	/* ... by this identity's listeners */
	int			 chains_only;	/* ... and are not listed */
};
int	serve_check(const struct identity *, struct served *);
int	serve_secure(struct served *);
int	served_note(struct served *, const char *note);
int	serve_slots(const struct identity *, X509 *const *leaf,
	    const char *const *src, size_t n);
void	serve_list(const struct served *, const char *who,
	    const struct chain *, const char *src, const char *keysrc);
void	served_free(struct served *);

/* identity.c: main.cf's identity and each master.cf service's own. */
/* An smtpd inet service that serves TLS: where, how, and what. */
struct listener {
	const char	*svc;		/* "submission/inet" */
	int		 wrapper;	/* smtpd_tls_wrappermode */
	size_t		 id;		/* its identity: identities.v[id] */
	const char	*sni;		/* its tls_server_sni_maps */
	const char	*interfaces;	/* inet_interfaces */
	const char	*protocols;	/* inet_protocols */
};
struct identities {
	struct identity	 *v;		/* main.cf's first */
	size_t		  n;
	const char	**sni;		/* tls_server_sni_maps values, once each */
	size_t		  nsni;
	char		 *text;		/* the -o values they point into */
	char		 *lines;	/* the services' names they point into */
	struct svcask	 *asks;		/* each smtpd service's own values */
	size_t		  nasks;
	struct listener	 *ls;		/* the smtpd inet services with TLS */
	size_t		  nls;
	size_t		 *pass;		/* identities of smtpd pass services */
	size_t		  npass;
	const char	 *postscreen[8];	/* postscreen inet services */
	size_t		  npostscreen;
};
int	identities_find(struct postfix *, struct identities *);
void	identities_free(struct identities *);

/* workers.c: the entries of a long SNI map checked on every CPU. */
struct sni_entry {
	char			*domain, *files, *where;
	const struct sni_map	*map;
};
typedef void (*entry_fn)(const struct sni_entry *, void *arg);
int	workers_run(struct sni_entry *, size_t n, entry_fn, void *arg,
	    struct served *);

/*
 * probe.c: handshakes with the running Postfix's TLS listeners, each as
 * a verifying client would, all at once under one deadline.
 */
#define PV_NOT_TRIED	0
#define PV_OK		1
#define PV_FAILED	2	/* served, but not what a verifying peer takes */
#define PV_MISMATCH	3	/* a leaf that is not on disk */
#define PV_REFUSED	4	/* nothing listens there */
#define PV_UNREACHABLE	5
#define PV_TIMEOUT	6
struct probe {
	const char		*label;		/* for messages */
	char			 host[64];	/* a numeric address */
	char			 port[8];	/* a number */
	char			 where[80];	/* "127.0.0.1:587", for messages */
	int			 wrapper;	/* TLS from the first byte */
	const char		*ehlo;		/* our name in EHLO */
	const char		*servername;	/* the name checked */
	int			 sni;		/* ... and sent as SNI */
	const char		*sigalgs;	/* to ask for one algorithm */
	int			 algo;		/* ... that one, or 0 */
	X509			**leaves;	/* on disk: one of them is right */
	size_t			 nleaves;
	int			 verdict;	/* PV_* */
	char			*said;		/* what was found */
	int			 name_ok;	/* the leaf names servername */
	size_t			 ident, listener;	/* the caller's */
};
struct prober;
struct prober *probe_start(struct probe *, size_t n, int timeout_ms);
int	probe_run(struct prober *, struct probe *, size_t n, X509_STORE *);

int	listener_port(const struct listener *, char port[8]);
/* listen.c: the probe command, over every TLS listener of master.cf. */
int	listeners_probe(const struct postfix *, const struct identities *,
	    const struct settings *, int hook);

/*
 * inspect.c: a certificate's facts, once, for the chain view (check,
 * deploy -v) and for check --json.  Strings are printable ASCII.
 */
struct facts {
	char		*subject, *issuer;	/* RFC 2253, one line */
	char		**names;	/* DNS subjectAltNames */
	size_t		  nnames;
	int		  dated;	/* not_after and days_left were read */
	char		  not_after[24];	/* 2027-03-01T12:00:00Z */
	long long	  days_left;	/* whole days, negative once expired */
	const char	 *key_type;	/* "RSA", "ECDSA", "Ed25519", ... */
	int		  key_bits;
	char		  sig_alg[80];	/* "ecdsa-with-SHA256", ... */
	int		  self_signed;
};
const char *key_type_name(int evp_pkey_id);
int	facts_of(X509 *, struct facts *);
void	facts_free(struct facts *);
void	facts_tree(const struct chain *, const struct facts *leaf);

/* json.c: strict JSON strings from any bytes. */
size_t	utf8_char(const unsigned char *, size_t n);
void	json_string(FILE *, const char *);

/*
 * monitor.c: check --json and --nagios.  Findings and identities are
 * taken from log.c (in the order said, workers' included) instead of
 * being printed; the document or the plugin line is written at the end.
 */
void	monitor_argv(int argc, char *argv[]);
void	monitor_start(int format);
void	monitor_days(int warn_days, int crit_days);
int	monitor_active(void);
void	monitor_identity(const char *name, const char *bundle,
	    const char *key, const struct facts *leaf, size_t chain_len);
int	monitor_take_identity(const char *record);
void	monitor_dane(const char *identity, const char *verdict,
	    int validated);
void	monitor_finding(int critical, const char *identity, const char *file,
	    const char *message);
void	monitor_usage(int status);
int	monitor_finish(int status);

/*
 * dns.c: TLSA records through the system resolver (its AD bit), every
 * lookup of a run in one child process under one deadline.
 */
#define DNS_NONE	0	/* NXDOMAIN, or no TLSA record there */
#define DNS_FOUND	1
#define DNS_TROUBLE	2	/* timeout, SERVFAIL, no resolver, damage */
struct tlsa {
	int		 usage, selector, mtype;
	unsigned char	*data;
	size_t		 len;
};
struct tlsa_set {
	char		 qname[300];	/* _25._tcp.NAME */
	char		 owner[1100];	/* where they are: a CNAME's target */
	int		 status;	/* DNS_* */
	int		 validated;	/* the AD bit */
	char		 why[400];	/* DNS_TROUBLE: what went wrong */
	struct tlsa	*v;
	size_t		 n;
};
void	dns_tlsa(struct tlsa_set *, size_t n, int timeout_s);
int	dns_parse(struct tlsa_set *, const unsigned char *msg, size_t len);
void	tlsa_set_clear(struct tlsa_set *);

/*
 * dane.c: the records to publish (tlsa), and the guard: a port-25 chain
 * that no published TLSA record matches is refused before it is served.
 */
int	chains_add(struct chains *, const char *who, const char *sni,
	    size_t scope, const struct chain *);
void	chains_free(struct chains *);
int	dane_names(const struct settings *, const struct postfix *,
	    char ***names, size_t *n);
void	dane_names_free(char **names, size_t n);
int	dane_print(const struct chains *, char *const *names, size_t n);
int	dane_guard(const struct settings *, const struct chains *,
	    char *const *names, size_t n, int check);

#endif /* EXTERN_H */
