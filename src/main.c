/*
 * postfix-tls-setup: refuse to let Postfix start with TLS that does not
 * work.  "deploy" assembles, verifies and installs certificate.pem;
 * "check" does the same reading and says what deploy would change.
 *
 * Order of work: settings (conf.d, then the command line), Postfix's own
 * view (postconf), the package database, the input files, the chain, the
 * checks.  Only when no problem was found is anything written or changed.
 * postconf runs from the start, beside our own work (see
 * check_inputs_early); what is found is still said in that order.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>

#include <openssl/err.h>

#include "extern.h"

#define MAX_CHAIN_FILES	64	/* files in a list deployed bundles make */

/* One bundle to deploy (set 1: POSTFIX_TLS_*, set N: POSTFIX_TLS_*_N). */
struct set {
	int		 n;		/* 1, 2, ... as in the names */
	struct setconf	*conf;
	const char	*bundle;	/* the file we write */
	char		 chain_file[PATH_MAX];	/* Nth smtpd_tls_chain_files */
	const char	*leafsrc;	/* where the leaf comes from */
	const char	*keypath;
	int		 key_in_bundle;
	struct file	 in[MAX_INPUTS + 2];	/* distinct input files */
	int		 in_ok[MAX_INPUTS + 2];	/* read and parsed */
	size_t		 nin;
	struct file	*keyf;		/* one of in[] */
	char		 keyhex[65];	/* file_digest of the key file read */
	struct file	 bundlef;
	struct pool	 pool;
	struct key	 key;
	struct chain	 chain;
	int		 chain_ok;	/* built; the checks ran on it */
	int		 early;		/* checked while postconf ran */
	int		 inputs_rc;	/* check_inputs' verdict */
	unsigned char	*pem;		/* the new bundle, when all passed */
	size_t		 pemlen;
};

struct run {
	int		 apply;		/* deploy: change things */
	int		 probe;		/* probe: handshake with the running smtpd */
	int		 tlsa;		/* tlsa: print the records to publish */
	int		 format;	/* check's output: OUT_TEXT, _JSON, _NAGIOS */
	int		 hook;		/* --hook: obey POSTFIX_TLS_HOOK */
	const char	*confdir;
	const char	*root;
	struct settings	 s;
	struct postfix	 pf;
	struct set	*set[MAX_SETS];
	size_t		 nsets;
	struct identities ids;
	struct served	 sv;
	struct sni_map	*maps;		/* tls_server_sni_maps, each list's */
	size_t		 nmaps;
	struct sni_build *builds;	/* one per map, from prepare_maps */
	struct chains	 port25;	/* what DANE senders will be served */
	char		**names;	/* their MX host names (dane_names) */
	size_t		  nnames;
};

static void __attribute__((noreturn))
usage(int status)
{
	monitor_usage(status);	/* --nagios: UNKNOWN, exit 3 */
	fprintf(status ? stderr : stdout,
	    "usage: %s [options] deploy | check | probe | tlsa\n"
	    "       %s [--conf FILE] --print-conf\n"
	    "  deploy            assemble, verify and install the bundle\n"
	    "  check             verify only; say what deploy would change\n"
	    "  probe             handshake with the running Postfix's TLS "
	    "listeners\n"
	    "  tlsa              print the DANE TLSA records of the port-25 "
	    "chains\n"
	    "options:\n"
	    "  -c DIR            Postfix configuration directory "
	    "(default " DEFAULT_CONFDIR ")\n"
	    "  --conf FILE       tuning file (default " DEFAULT_CONF ")\n"
	    "  --no-conf         read no tuning file\n"
	    "  --cert FILE       leaf certificate (POSTFIX_TLS_CERT)\n"
	    "  --key FILE        private key (POSTFIX_TLS_KEY)\n"
	    "  --chain FILE      CA chain file, repeatable "
	    "(POSTFIX_TLS_CHAIN)\n"
	    "  --bundle FILE     file to write (POSTFIX_TLS_BUNDLE)\n"
	    "  --cafile FILE     trust anchors (POSTFIX_TLS_CAFILE)\n"
	    "  --capath DIR      hashed trust directory (POSTFIX_TLS_CAPATH)\n"
	    "  --include-root    keep the root CA in the bundle\n"
	    "  --root DIR        Gentoo ROOT of the package database "
	    "(default /)\n"
	    "  --warn-days N     warn N days before expiry "
	    "(POSTFIX_TLS_WARN_DAYS)\n"
	    "  --crit-days N     critical N days before expiry, for "
	    "monitoring\n"
	    "                    (POSTFIX_TLS_CRIT_DAYS)\n"
	    "  --json            check: one JSON document on stdout\n"
	    "  --nagios          check: one line and exit 0-3 as monitoring "
	    "plugins do\n"
	    "  --hook[=VALUE]    as the OpenRC hook: do nothing when "
	    "POSTFIX_TLS_HOOK\n"
	    "                    (VALUE, else the tuning file's) is no\n"
	    "  --print-conf      print each NAME=value of the tuning file "
	    "as read; check\n"
	    "                    nothing else\n"
	    "  -q, --quiet       problems only\n"
	    "  -v, --verbose     say more\n"
	    "  -h, --help        this text\n"
	    "  -V, --version     the version\n"
	    "Exit status: 0 ok; 64 usage; 65 bad certificate or key; "
	    "66 missing input;\n"
	    "69 Postfix without TLS; 70 internal; 71 system; 74 I/O; "
	    "75 DNS trouble\n(POSTFIX_TLS_DANE_DNS=refuse); 76 probe: served "
	    "TLS refused; 77 unsafe file\nor directory; 78 bad "
	    "configuration.  See postfix-tls-setup(8).\n", PROG, PROG);
	exit(status);
}

enum { O_CONF = 256, O_NO_CONF, O_CERT, O_KEY, O_CHAIN, O_BUNDLE, O_CAFILE, O_CAPATH,
    O_ROOT, O_WARN, O_INCLUDE_ROOT, O_HOOK, O_PRINT_CONF, O_CRIT, O_JSON,
    O_NAGIOS };

static const struct option longopts[] = {
	{ "conf", required_argument, NULL, O_CONF },
	{ "no-conf", no_argument, NULL, O_NO_CONF },
	{ "cert", required_argument, NULL, O_CERT },
	{ "key", required_argument, NULL, O_KEY },
	{ "chain", required_argument, NULL, O_CHAIN },
	{ "bundle", required_argument, NULL, O_BUNDLE },
	{ "cafile", required_argument, NULL, O_CAFILE },
	{ "capath", required_argument, NULL, O_CAPATH },
	{ "root", required_argument, NULL, O_ROOT },
	{ "warn-days", required_argument, NULL, O_WARN },
	{ "crit-days", required_argument, NULL, O_CRIT },
	{ "json", no_argument, NULL, O_JSON },
	{ "nagios", no_argument, NULL, O_NAGIOS },
	{ "include-root", no_argument, NULL, O_INCLUDE_ROOT },
	{ "hook", optional_argument, NULL, O_HOOK },
	{ "print-conf", no_argument, NULL, O_PRINT_CONF },
	{ "quiet", no_argument, NULL, 'q' },
	{ "verbose", no_argument, NULL, 'v' },
	{ "help", no_argument, NULL, 'h' },
	{ "version", no_argument, NULL, 'V' },
	{ NULL, 0, NULL, 0 }
};

/* The command line's settings (set 1 only), applied over conf.d's. */
static void
merge(struct settings *s, struct settings *cli)
{
	struct setconf	*c = &cli->set[0], *t = &s->set[0];
	size_t		 i;

#define TAKE(a, b, f) if (b->f != NULL) { free(a->f); a->f = b->f; b->f = NULL; }
	TAKE(t, c, cert) TAKE(t, c, key) TAKE(t, c, bundle)
	TAKE(s, cli, cafile) TAKE(s, cli, capath)
#undef TAKE
	if (c->nchain > 0) {
		while (t->nchain > 0)
			free(t->chain[--t->nchain]);
		for (i = 0; i < c->nchain; i++)
			t->chain[i] = c->chain[i];
		t->nchain = c->nchain;
		c->nchain = 0;
	}
	if (cli->include_root != -1)
		s->include_root = cli->include_root;
	if (cli->warn_days != -1)
		s->warn_days = cli->warn_days;
	if (cli->crit_days != -1)
		s->crit_days = cli->crit_days;
	if (cli->hook != -1) {
		s->hook = cli->hook;
		free(s->hook_from);
		s->hook_from = cli->hook_from;
		cli->hook_from = NULL;
	}
	if (s->include_root == -1)
		s->include_root = 0;
	if (s->warn_days == -1)
		s->warn_days = 30;
	if (s->crit_days == -1)
		s->crit_days = 7;
	if (s->probe == -1)
		s->probe = PROBE_WARN;
	if (s->probe_timeout == -1)
		s->probe_timeout = 5;
	if (s->dane == -1)
		s->dane = DANE_AUTO;
	if (s->dane_dns_refuse == -1)
		s->dane_dns_refuse = 0;
	if (s->dane_timeout == -1)
		s->dane_timeout = 3;
}

static int
parse_args(int argc, char *argv[], struct run *r, struct settings *cli,
    const char **conffile, int *conf_required)
{
	int	c, li, quiet = 0, verbose = 0, rc = 0;

	while ((c = getopt_long(argc, argv, "c:qvhV", longopts, &li)) != -1) {
		/* An empty value names nothing ("--root ''" is no root). */
		if (optarg != NULL && *optarg == '\0') {
			fprintf(stderr, "%s: %s%s needs a value, not an empty "
			    "one\n", PROG, c == 'c' ? "-" : "--", c == 'c' ?
			    "c" : longopts[li].name);
			usage(EX_USAGE);
		}
		switch (c) {
		case 'c':
			r->confdir = optarg;
			break;
		case O_CONF:
			*conffile = optarg;
			*conf_required = 1;
			break;
		case O_NO_CONF:
			*conffile = NULL;
			break;
		case O_CERT:
			rc |= conf_set(cli, "POSTFIX_TLS_CERT", optarg, "--cert");
			break;
		case O_KEY:
			rc |= conf_set(cli, "POSTFIX_TLS_KEY", optarg, "--key");
			break;
		case O_CHAIN:
			rc |= conf_add_chain(&cli->set[0], optarg, "--chain");
			break;
		case O_BUNDLE:
			rc |= conf_set(cli, "POSTFIX_TLS_BUNDLE", optarg,
			    "--bundle");
			break;
		case O_CAFILE:
			rc |= conf_set(cli, "POSTFIX_TLS_CAFILE", optarg,
			    "--cafile");
			break;
		case O_CAPATH:
			rc |= conf_set(cli, "POSTFIX_TLS_CAPATH", optarg,
			    "--capath");
			break;
		case O_ROOT:
			r->root = optarg;
			break;
		case O_WARN:
			rc |= conf_set(cli, "POSTFIX_TLS_WARN_DAYS", optarg,
			    "--warn-days");
			break;
		case O_CRIT:
			rc |= conf_set(cli, "POSTFIX_TLS_CRIT_DAYS", optarg,
			    "--crit-days");
			break;
		case O_JSON:
		case O_NAGIOS:
			if (r->format != OUT_TEXT && r->format != (c == O_JSON ?
			    OUT_JSON : OUT_NAGIOS)) {
				fprintf(stderr, "%s: --json and --nagios exclude "
				    "each other\n", PROG);
				usage(EX_USAGE);
			}
			r->format = c == O_JSON ? OUT_JSON : OUT_NAGIOS;
			break;
		case O_INCLUDE_ROOT:
			cli->include_root = 1;
			break;
		case O_HOOK:
			r->hook = 1;
			if (optarg != NULL)
				rc |= conf_set(cli, "POSTFIX_TLS_HOOK", optarg,
				    "--hook");
			break;
		case O_PRINT_CONF:
			r->s.print = 1;
			break;
		case 'q':
			quiet = 1;
			break;
		case 'v':
			verbose = 1;
			break;
		case 'h':
			usage(0);
		case 'V':
			printf("%s %s\n", PROG, VERSION);
			exit(0);
		default:
			usage(EX_USAGE);
		}
	}
	log_init(quiet, verbose);
	if (r->s.print && r->format != OUT_TEXT) {
		fprintf(stderr, "%s: --json and --nagios are for check, not "
		    "--print-conf\n", PROG);
		usage(EX_USAGE);
	}
	if (r->s.print && optind == argc)
		return rc ? -1 : 0;
	if (optind != argc - 1)
		usage(EX_USAGE);
	if (!strcmp(argv[optind], "deploy"))
		r->apply = 1;
	else if (!strcmp(argv[optind], "probe"))
		r->probe = 1;
	else if (!strcmp(argv[optind], "tlsa"))
		r->tlsa = 1;
	else if (strcmp(argv[optind], "check")) {
		fprintf(stderr, "%s: unknown command \"%s\" (deploy, check, "
		    "probe or tlsa)\n", PROG, argv[optind]);
		usage(EX_USAGE);
	}
	if (r->format != OUT_TEXT && (r->apply || r->probe || r->tlsa)) {
		fprintf(stderr, "%s: --json and --nagios are for check\n",
		    PROG);
		usage(EX_USAGE);
	}
	return rc ? -1 : 0;
}


/* The Nth file (N from 1) of a list such as smtpd_tls_chain_files, or "". */
static void
nth_file(const char *list, int n, char *buf, size_t size)
{
	const char	*p = list;
	size_t		 len = 0;

	for (; n > 0; n--) {
		p += len;
		p += strspn(p, " \t,");
		len = strcspn(p, " \t,");
	}
	if (len >= size)
		len = 0;	/* too long for a name: maincf_file_names said */
	memcpy(buf, p, len);
	buf[len] = '\0';
}

/*
 * The file set 1 writes when no setting names one: main.cf's own, fixed
 * in place.  Other sets default to the Nth smtpd_tls_chain_files only.
 */
static const char *
default_bundle(const struct postfix *pf, struct set *st)
{
	nth_file(pf->v[PF_CHAIN_FILES], st->n, st->chain_file,
	    sizeof(st->chain_file));
	if (*st->chain_file != '\0')
		return st->chain_file;
	if (st->n > 1)
		return NULL;
	if (*pf->v[PF_CERT] != '\0')
		return pf->v[PF_CERT];
	if (*pf->v[PF_ECCERT] != '\0')
		return pf->v[PF_ECCERT];
	if (*pf->v[PF_DCERT] != '\0')
		return pf->v[PF_DCERT];
	return NULL;
}

/* "" for set 1, "_N" for set N: the suffix of its setting names. */
static const char *
suffix(const struct set *st)
{
	static char	buf[8];

	if (st->n == 1)
		return "";
	snprintf(buf, sizeof(buf), "_%d", st->n);
	return buf;
}

/*
 * Which file is the bundle, where the leaf and key come from.  Without
 * settings, Postfix's own files are checked and fixed in place.
 */
static int
choose_files(struct run *r, struct set *st)
{
	const struct postfix	*pf = &r->pf;
	size_t			 i;
	int			 kp;

	if ((st->bundle = st->conf->bundle) == NULL)
		st->bundle = default_bundle(pf, st);
	if (st->bundle == NULL && st->n == 1) {
		problem(EX_CONFIG, pf->dir, "main.cf names no server "
		    "certificate and POSTFIX_TLS_BUNDLE is not set (fix: "
		    "postconf -c %s -e smtpd_tls_cert_file=%s/certificate.pem)",
		    pf->dir, pf->dir);
		return -1;
	}
	if (st->bundle == NULL) {
		problem(EX_CONFIG, pf->dir, "POSTFIX_TLS_BUNDLE_%d is not set "
		    "and smtpd_tls_chain_files names no file %d (set "
		    "POSTFIX_TLS_BUNDLE_%d to the file to write, and name it "
		    "in smtpd_tls_chain_files)", st->n, st->n, st->n);
		return -1;
	}
	for (i = 0; i < r->nsets && r->set[i] != st; i++)
		if (same_file(r->set[i]->bundle, st->bundle)) {
			problem(EX_CONFIG, st->bundle, "is the bundle of set %d "
			    "and of set %d (POSTFIX_TLS_BUNDLE%s): each set "
			    "needs a file of its own", r->set[i]->n, st->n,
			    suffix(st));
			return -1;
		}
	kp = maincf_key_param(pf, st->bundle);
	st->key_in_bundle = maincf_in_chain_files(pf, st->bundle) ||
	    (kp != -1 && same_file(pf->v[kp], st->bundle));
	st->leafsrc = st->conf->cert ? st->conf->cert : st->bundle;
	if (st->conf->key != NULL)
		st->keypath = st->conf->key;
	else if (st->key_in_bundle)
		st->keypath = st->leafsrc;
	else if (kp != -1 || st->n == 1)
		st->keypath = pf->v[kp != -1 ? kp : PF_KEY];
	else
		st->keypath = "";
	if (*st->keypath == '\0') {
		problem(EX_CONFIG, pf->dir, "no private key is configured for "
		    "%s (set POSTFIX_TLS_KEY%s, or the key parameter that goes "
		    "with it in main.cf)", st->bundle, suffix(st));
		return -1;
	}
	debug("bundle %s, leaf from %s, key from %s%s", st->bundle,
	    st->leafsrc, st->keypath, st->key_in_bundle ? " (key in bundle)" :
	    "");
	return 0;
}

/* Open and parse one input, once, however often it is named. */
static struct file *
load_one(struct set *st, const char *path, int want_key)
{
	struct file	*f;
	unsigned char	*buf = NULL;
	size_t		 i, len = 0;

	for (i = 0; i < st->nin; i++)
		if (same_file(st->in[i].path, path))
			return st->in_ok[i] ? &st->in[i] : NULL;
	f = &st->in[st->nin];
	file_init(f);
	st->in_ok[st->nin++] = file_open(f, path, 0) == 0 &&
	    file_read(f, &buf, &len) == 0 &&
	    pem_load(f->path, buf, len, &st->pool, &st->key, want_key) == 0 &&
	    (!want_key || file_digest(buf, len, st->keyhex) == 0);
	freezero(buf, len);
	return st->in_ok[st->nin - 1] ? f : NULL;
}

/*
 * Read the key, the leaf and the chain files, build the chain and check it
 * against the key and the trust anchors: all that needs only the settings
 * and the files, not Postfix's own view.  Each bad input is reported; the
 * chain is built from whatever was readable.
 */
static int
check_inputs(struct run *r, struct set *st)
{
	const char	*srcs[MAX_INPUTS + 2];
	struct file	*leaf;
	size_t		 i;
	int		 rc = 0;

	/* The key first: if it shares a file with the leaf, read it as one. */
	if ((st->keyf = load_one(st, st->keypath, 1)) == NULL)
		rc = -1;	/* logged */
	if ((leaf = load_one(st, st->leafsrc, 0)) == NULL)
		rc = -1;	/* logged */
	for (i = 0; i < st->conf->nchain; i++)
		if (load_one(st, st->conf->chain[i], 0) == NULL)
			rc = -1;	/* logged */
	if (leaf == NULL)
		return -1;	/* logged */
	for (i = 0; i < st->nin; i++)
		srcs[i] = st->in[i].path;
	if (chain_build(&st->pool, &st->key, leaf->path, srcs, st->nin,
	    r->s.include_root, &st->chain) == -1)
		return -1;	/* logged */
	st->chain_ok = 1;
	if (st->keyf != NULL &&	/* else its problem is reported */
	    verify_key(&st->chain, &st->key, st->keypath, st->leafsrc) == -1)
		rc = -1;	/* logged */
	if (verify_chain(&st->chain, r->s.cafile, r->s.capath, st->leafsrc) ==
	    -1)
		rc = -1;	/* logged */
	return rc;
}

/*
 * When the settings name the key and the leaf, check_inputs needs nothing
 * from Postfix: it runs while postconf does (postconf costs more than all
 * our own work), and what it finds is said in its turn, after postconf's
 * and the package database's findings.
 */
static void
check_inputs_early(struct run *r)
{
	struct set	*st;
	size_t		 i;

	log_hold();
	for (i = 0; i < r->nsets; i++) {
		st = r->set[i];
		if (st->conf->key == NULL || st->conf->cert == NULL)
			continue;
		st->keypath = st->conf->key;	/* as choose_files will find */
		st->leafsrc = st->conf->cert;
		st->inputs_rc = check_inputs(r, st);
		st->early = 1;
	}
	log_unhold();
}

/*
 * A stage that failed without saying why is a bug in this program, not
 * a verdict on the set-up: say so, and never deploy (EX_SOFTWARE).
 */
static int
stage_failed(const char *stage)
{
	if (problems() == 0)
		problem(EX_SOFTWARE, NULL, "internal error: %s failed without "
		    "saying why; nothing was changed (please report this)",
		    stage);
	return -1;
}

/* One set's own checks; its new bundle, when they passed. */
static int
check_set(struct run *r, struct set *st)
{
	int	rc = 0;

	if (!st->early)
		st->inputs_rc = check_inputs(r, st);
	if (st->inputs_rc == -1)
		rc = stage_failed("checking the input files");
	if (file_open(&st->bundlef, st->bundle, 1) == -1)
		rc = stage_failed("opening the bundle");
	if (st->chain_ok)
		verify_warn(&st->chain, st->leafsrc, r->pf.v[PF_MYHOSTNAME],
		    "myhostname", r->s.warn_days);
	if (rc == 0 && chain_pem(&st->chain, st->key_in_bundle ? &st->key :
	    NULL, &st->pem, &st->pemlen) == -1)
		rc = stage_failed("assembling the bundle");
	return rc;
}

/*
 * NAME leads to FILE, a file of a set: when it is spelt otherwise, it is
 * walked as smtpd will reach it, so that a name leading through a
 * directory another user owns is refused even though it ends at a file
 * this run checked (same_file compares what names lead to today, not
 * who can change that).
 */
static int
same_and_safe(const char *name, const char *file, int *unsafe)
{
	struct file	f;

	if (!same_file(name, file))
		return 0;
	if (strcmp(name, file)) {
		file_init(&f);
		if (file_open(&f, name, 1) == -1)
			*unsafe = 1;	/* logged */
		file_close(&f);
	}
	return 1;
}

/*
 * Which sets an identity's files are (a mask), when all of them are:
 * then the sets' own checks judged it, and it is not read again.  A
 * legacy pair that is a set is dropped from *id; 0 when some other file
 * is left to check.
 */
/*
 * A list made of deployed bundles only is judged with them, but one rule
 * spans the list: one key per algorithm (two ECDSA bundles, or one named
 * twice, and smtpd refuses the whole list).
 */
static int
covered_slots(const struct run *r, const struct identity *id,
    const int *which, size_t n)
{
	X509		*leaf[MAX_CHAIN_FILES];
	const char	*src[MAX_CHAIN_FILES];
	size_t		 i;

	for (i = 0; i < n; i++) {
		leaf[i] = r->set[which[i]]->chain_ok ?
		    r->set[which[i]]->chain.x509[0] : NULL;
		src[i] = r->set[which[i]]->bundle;
	}
	return serve_slots(id, leaf, src, n);
}

static unsigned
covered(const struct run *r, struct identity *id, int *all, int *unsafe)
{
	char		 word[PATH_MAX];
	const char	*key;
	unsigned	 mask = 0, hit;
	size_t		 i;
	int		 k, n, which[MAX_CHAIN_FILES];

	*all = 1;
	if (id->chain_files != NULL && *id->chain_files != '\0') {
		for (n = 1;; n++) {
			nth_file(id->chain_files, n, word, sizeof(word));
			if (*word == '\0')
				break;
			if (n > MAX_CHAIN_FILES) {
				*all = 0;	/* serve.c reads it all */
				break;
			}
			for (hit = 0, i = 0; i < r->nsets; i++)
				if (r->set[i]->key_in_bundle &&
				    same_and_safe(word, r->set[i]->bundle,
				    unsafe)) {
					hit = 1u << i;
					which[n - 1] = i;
				}
			if (hit == 0)
				*all = 0;
			mask |= hit;
		}
		if (*all && covered_slots(r, id, which, n - 1) == -1)
			*unsafe = 1;	/* logged */
		return *all ? mask : 0;
	}
	for (k = 0; k < 3; k++) {
		if (id->cert[k] == NULL || *id->cert[k] == '\0')
			continue;
		key = *id->key[k] != '\0' ? id->key[k] : id->cert[k];
		for (hit = 0, i = 0; i < r->nsets; i++)
			if (same_and_safe(id->cert[k], r->set[i]->bundle,
			    unsafe) && same_and_safe(key,
			    r->set[i]->key_in_bundle ? r->set[i]->bundle :
			    r->set[i]->keypath, unsafe))
				hit = 1u << i;
		if (hit != 0)
			id->cert[k] = NULL;	/* judged with its set */
		else
			*all = 0;
		mask |= hit;
	}
	return mask;
}

/* Does an identity name any certificate smtpd could offer? */
static int
names_certificate(const struct identity *id)
{
	int	k;

	if (id->chain_files != NULL && *id->chain_files != '\0')
		return 1;
	for (k = 0; k < 3; k++)
		if (id->cert[k] != NULL && *id->cert[k] != '\0')
			return 1;
	return 0;
}

/*
 * Does smtpd serve this identity on port 25, where DANE senders come?
 * Without a master.cf, main.cf's is the smtp service's.
 */
/*
 * Port 25 as DANE senders reach it: not in wrapper mode, and not bound
 * to loopback only (a local re-injection port no sender can reach).
 */
static int
smtp_port(const struct listener *l)
{
	char	port[8];

	if (!strncmp(l->svc, "127.", 4) || !strncmp(l->svc, "[::1]:", 6) ||
	    !strncasecmp(l->svc, "localhost:", 10))
		return 0;
	return !l->wrapper && listener_port(l, port) == 0 &&
	    !strcmp(port, "25");
}

/* Does postscreen listen on port 25, handing over to smtpd pass? */
static int
postscreen_25(const struct run *r)
{
	struct listener	l;
	size_t		i;

	memset(&l, 0, sizeof(l));
	for (i = 0; i < r->ids.npostscreen; i++) {
		l.svc = r->ids.postscreen[i];
		if (strstr(l.svc, "/inet") != NULL && smtp_port(&l))
			return 1;
	}
	return 0;
}

static int
on_port_25(const struct run *r, size_t id)
{
	size_t	i;

	if (r->ids.nls == 0 && r->pf.no_master)
		return id == 0;
	for (i = 0; i < r->ids.nls; i++)
		if (r->ids.ls[i].id == id && smtp_port(&r->ids.ls[i]))
			return 1;
	for (i = 0; i < r->ids.npass; i++)
		if (r->ids.pass[i] == id && postscreen_25(r))
			return 1;
	return 0;
}

/*
 * Every identity Postfix will present, each checked as smtpd loads it:
 * main.cf's and master.cf's (identity.c), then the SNI domains.  What a
 * set deployed is read from its new bundle.
 */
static int
check_identities(struct run *r)
{
	struct identity	 one;
	struct served	*sv = &r->sv;
	size_t		 i, j;
	unsigned	 mask;
	int		 all, unsafe = 0, rc = 0;

	for (i = 0; i < r->nsets; i++) {
		sv->bundle[i] = r->set[i]->bundle;
		sv->pem[i] = r->set[i]->pem;
		sv->len[i] = r->set[i]->pemlen;
	}
	sv->n = r->nsets;
	sv->cafile = r->s.cafile;
	sv->capath = r->s.capath;
	sv->warn_days = r->s.warn_days;
	sv->apply = r->apply;
	sv->list = !r->apply && !r->tlsa;
	if (identities_find(&r->pf, &r->ids) == -1)
		return -1;	/* logged */
	for (i = 0; i < r->ids.n; i++) {
		one = r->ids.v[i];
		/* main.cf's: choose_files and maincf_check said it already. */
		if (i > 0 && !names_certificate(&one)) {
			log_context(one.name);
			problem(EX_CONFIG, one.where, "TLS is on, but no "
			    "certificate is named (an empty -o override?), so "
			    "smtpd has none to offer and every TLS client "
			    "fails (fix: name the certificate and key files "
			    "with -o, or drop the empty override)");
			log_context(NULL);
			rc = -1;
			continue;
		}
		/* Port 25's chains are kept for the DANE guard. */
		sv->chains = on_port_25(r, i) ? &r->port25 : NULL;
		sv->chain_scope = i;
		mask = covered(r, &one, &all, &unsafe);
		for (j = 0; j < r->nsets; j++)
			if (mask & (1u << j) && r->set[j]->chain_ok)
				serve_list(sv, one.name, &r->set[j]->chain,
				    r->set[j]->bundle, r->set[j]->key_in_bundle ?
				    r->set[j]->bundle : r->set[j]->keypath);
		if (!all && serve_check(&one, sv) == -1)
			rc = -1;	/* logged */
	}
	sv->chains = NULL;
	return unsafe ? -1 : rc;
}

/* An SNI entry as an identity: one stream, as smtpd_tls_chain_files. */
static char *
sni_identity(const struct sni_entry *e, struct identity *id)
{
	char	*name = NULL;

	memset(id, 0, sizeof(*id));
	if (asprintf(&name, "SNI %s (%s)", e->domain, e->map->source ?
	    e->map->source : e->map->spec) == -1) {
		problem(EX_OSERR, NULL, "out of memory");
		return NULL;
	}
	id->name = name;
	id->where = e->where;
	id->host = e->domain;
	id->host_what = "the SNI name";
	id->chain_files = e->files;
	id->chain_param = "the SNI entry";
	return name;
}

/* One SNI entry, checked. */
static void
check_sni_entry(const struct sni_entry *e, void *argp)
{
	struct run	*r = argp;
	struct identity	 id;
	char		*name;

	if ((name = sni_identity(e, &id)) == NULL)
		return;	/* logged */
	if (*e->domain != '.' && !sni_name_valid(e->domain))
		warning(e->where, "smtpd never matches the SNI name \"%s\": it "
		    "is not a valid host name, so peers asking for it get the "
		    "default certificate (write the name itself: no wildcard, "
		    "no trailing dot)", e->domain);
	serve_check(&id, &r->sv);	/* logged; the other entries still */
	free(name);
}

/* The first entry for KEY, as smtpd's lookup finds it (sni_each). */
struct sni_find {
	const char	*key;
	char		*files, *where;
};

static int
find_entry(const char *domain, const char *files, const char *where,
    void *argp)
{
	struct sni_find	*f = argp;

	if (f->files != NULL || strcmp(domain, f->key))
		return 0;
	if ((f->files = strdup(files)) == NULL ||
	    (f->where = strdup(where)) == NULL) {
		problem(EX_OSERR, NULL, "out of memory");
		return -1;
	}
	return 0;
}

/*
 * DANE senders send the MX host name as SNI (RFC 7672 8.1), so when a
 * port-25 listener's SNI maps have an entry for it, that entry's chain
 * is the one they get.  smtpd looks the name up, then each parent
 * domain with its leading dot, each through the whole map list.  Its
 * chains are read quietly: check_sni judged them already.
 */
static void
port25_sni(struct run *r, const char *sni_maps_value, size_t scope,
    const char *host)
{
	struct sni_map	*maps;
	struct sni_find	 f = { host, NULL, NULL };
	struct sni_entry e;
	struct identity	 id;
	char		*name;
	size_t		 i, n;

	if (*sni_maps_value == '\0' || sni_maps(sni_maps_value, &maps, &n) ==
	    -1)
		return;	/* none, or said by check_sni */
	e.map = NULL;
	e.domain = NULL;
	for (; e.map == NULL && f.key != NULL; f.key = strchr(f.key + 1, '.'))
		for (i = 0; e.map == NULL && i < n; i++)
			if (sni_each(&maps[i], find_entry, &f) == 0 &&
			    f.files != NULL) {
				e.map = &maps[i];
				e.domain = (char *)f.key;	/* the key found */
			}
	if (e.map != NULL) {
		e.files = f.files;
		e.where = f.where;
		if ((name = sni_identity(&e, &id)) != NULL) {
			r->sv.chains = &r->port25;
			r->sv.chain_sni = host;
			r->sv.chain_scope = scope;
			r->sv.chains_only = 1;
			log_mute(1);
			serve_check(&id, &r->sv);
			log_mute(0);
			r->sv.chains = NULL;
			r->sv.chain_sni = NULL;
			r->sv.chains_only = 0;
			free(name);
		}
	}
	free(f.files);
	free(f.where);
	sni_maps_free(maps, n);
}

/* The entries of every map, in order, to be shared out (workers.c). */
struct entries {
	struct sni_entry	*v;
	size_t			 n;
	const struct sni_map	*map;
};

static int
collect_entry(const char *domain, const char *files, const char *where,
    void *argp)
{
	struct entries		*es = argp;
	struct sni_entry	*v, *e;

	if ((v = reallocarray(es->v, es->n + 1, sizeof(*v))) == NULL)
		goto oom;
	es->v = v;
	e = &v[es->n];
	e->map = es->map;
	if ((e->domain = strdup(domain)) == NULL)
		goto oom;
	if ((e->files = strdup(files)) == NULL ||
	    (e->where = strdup(where)) == NULL) {
		free(e->domain);
		free(e->files);
		goto oom;
	}
	es->n++;
	return 0;
oom:
	problem(EX_OSERR, NULL, "out of memory");
	return -1;
}

/* Every SNI map of every list, read; their maps kept in r->maps. */
static int
read_sni_maps(struct run *r, struct entries *es)
{
	struct sni_map	*maps, *all;
	size_t		 i, j, n;
	int		 rc = 0;

	for (i = 0; i < r->ids.nsni; i++) {
		if (sni_maps(r->ids.sni[i], &maps, &n) == -1) {
			rc = -1;	/* logged */
			continue;
		}
		if ((all = reallocarray(r->maps, r->nmaps + n,
		    sizeof(*all))) == NULL) {
			sni_maps_free(maps, n);
			problem(EX_OSERR, NULL, "out of memory");
			return -1;
		}
		r->maps = all;
		for (j = 0; j < n; j++)
			r->maps[r->nmaps++] = maps[j];
		free(maps);	/* its maps now live in r->maps */
	}
	for (i = 0; i < r->nmaps; i++) {
		es->map = &r->maps[i];
		if (sni_each(es->map, collect_entry, es) == -1)
			rc = -1;	/* logged */
	}
	return rc;
}

/* Each SNI domain an identity of its own, checked on every CPU. */
static int
check_sni(struct run *r)
{
	struct entries	es = { NULL, 0, NULL };
	size_t		i;
	int		rc, before = problems();

	rc = read_sni_maps(r, &es);
	if (workers_run(es.v, es.n, check_sni_entry, r, &r->sv) == -1)
		rc = -1;	/* logged */
	for (i = 0; i < es.n; i++) {
		free(es.v[i].domain);
		free(es.v[i].files);
		free(es.v[i].where);
	}
	free(es.v);
	return problems() > before ? -1 : rc;
}

static int
run_checks(struct run *r)
{
	struct target	t[MAX_SETS];
	size_t		i;
	int		rc = 0;

	if (vdb_check_ssl(r->root) == -1)
		rc = stage_failed("reading the package database");
	log_release();		/* what check_inputs_early found */
	for (i = 0; i < r->nsets; i++) {
		if (check_set(r, r->set[i]) == -1)
			rc = -1;	/* logged */
		t[i].bundle = r->set[i]->bundle;
		t[i].key = r->set[i]->keypath;
		t[i].key_in_bundle = r->set[i]->key_in_bundle;
	}
	if (maincf_check(&r->pf, t, r->nsets) == -1)
		rc = stage_failed("checking main.cf");
	if (check_identities(r) == -1)
		rc = stage_failed("checking what Postfix serves");
	else if (check_sni(r) == -1)
		rc = stage_failed("checking the SNI maps");
	return rc;
}

/* Everything passed: write the bundle if it changed, or secure it. */
static int
install_set(struct run *r, struct set *st)
{
	unsigned char	*old = NULL;
	size_t		 oldlen = 0;
	int		 changed, rc = -1;

	if (write_cleanup(&st->bundlef, r->apply) == -1)
		goto out;
	if (st->bundlef.fd != -1 && file_read(&st->bundlef, &old, &oldlen) ==
	    -1)
		goto out;
	changed = old == NULL || oldlen != st->pemlen || memcmp(old, st->pem,
	    st->pemlen);
	if (changed && !r->apply)
		report("would write %s (%zu certificate%s%s)", st->bundle,
		    st->chain.n, st->chain.n == 1 ? "" : "s",
		    st->key_in_bundle ? " after the private key" : "");
	else if (changed) {
		if (write_atomic(&st->bundlef, st->pem, st->pemlen) == -1)
			goto out;
		report("wrote %s (%zu certificate%s%s)", st->bundle,
		    st->chain.n, st->chain.n == 1 ? "" : "s",
		    st->key_in_bundle ? " after the private key" : "");
	} else if (file_secure(&st->bundlef, r->apply) == -1)
		goto out;
	rc = 0;
out:
	freezero(old, oldlen);
	return rc;
}

static int
install(struct run *r)
{
	size_t	i;
	int	rc = 0;

	/*
	 * Key files first, the sets' and the other identities': one that
	 * changed while it was checked stops the run before a bundle is
	 * written.
	 */
	for (i = 0; i < r->nsets; i++)
		if (!same_file(r->set[i]->keyf->path, r->set[i]->bundle) &&
		    file_secure_as_checked(r->set[i]->keyf, r->set[i]->keyhex,
		    r->apply) == -1)
			return -1;	/* logged */
	if (r->apply && serve_secure(&r->sv) == -1)
		return -1;	/* logged */
	for (i = 0; i < r->nsets; i++)
		if (install_set(r, r->set[i]) == -1)
			rc = -1;	/* logged */
	for (i = 0; r->builds != NULL && i < r->nmaps; i++)
		if (sni_commit(&r->builds[i], r->apply) == -1)
			rc = -1;	/* logged */
	return rc;
}

/*
 * Every SNI map that is out of date built anew beside the old one, before
 * anything is changed: a map that cannot be rebuilt refuses the run.
 */
static int
prepare_maps(struct run *r)
{
	size_t	i;
	int	rc = 0;

	if (r->nmaps == 0)
		return 0;
	if ((r->builds = calloc(r->nmaps, sizeof(*r->builds))) == NULL) {
		problem(EX_OSERR, NULL, "out of memory");
		return -1;
	}
	for (i = 0; i < r->nmaps; i++)
		if (sni_prepare(&r->maps[i], r->confdir, r->apply,
		    &r->builds[i]) == -1)
			rc = -1;	/* logged */
	return rc;
}

/*
 * probe: the running Postfix's listeners, each tried as a verifying
 * client (listen.c).  From the hook after a start or reload, unless
 * POSTFIX_TLS_PROBE=off; what the files' check said before the start is
 * not said again.
 */
static void
probe(struct run *r)
{
	if (r->hook && r->s.probe == PROBE_OFF)
		return;
	postconf_start(r->confdir, r->s.cache, &r->pf);
	if (postconf_finish(&r->pf) == -1) {
		stage_failed("asking postconf");
		return;
	}
	log_mute(1);
	if (identities_find(&r->pf, &r->ids) == -1) {
		log_mute(0);
		problem(EX_CONFIG, NULL, "the TLS services of %s/master.cf "
		    "cannot be read, so none was tried (run postfix-tls-setup "
		    "check for why)", r->confdir);
		return;
	}
	log_mute(0);
	if (listeners_probe(&r->pf, &r->ids, &r->s, r->hook) == -1)
		stage_failed("trying the TLS listeners");
	else if (problems() == 0)
		postconf_keep(&r->pf);
}

/*
 * DANE: the records to publish (tlsa), or the guard (deploy, check)
 * over the chains port 25 will serve.  Nothing is written when it
 * refuses.
 */
static int
dane(struct run *r)
{
	size_t	i, j;

	if (!r->tlsa && r->s.dane == DANE_OFF)
		return 0;
	if (dane_names(&r->s, &r->pf, &r->names, &r->nnames) == -1)
		return -1;	/* logged */
	for (j = 0; j < r->nnames; j++) {
		if ((r->ids.nls == 0 && r->pf.no_master) || postscreen_25(r))
			port25_sni(r, r->pf.v[PF_SNI_MAPS], SCOPE_ALL,
			    r->names[j]);
		for (i = 0; i < r->ids.nls; i++)
			if (smtp_port(&r->ids.ls[i]))
				port25_sni(r, r->ids.ls[i].sni,
				    r->ids.ls[i].id, r->names[j]);
	}
	if (r->tlsa)
		return dane_print(&r->port25, r->names, r->nnames);
	return dane_guard(&r->s, &r->port25, r->names, r->nnames, !r->apply);
}

/* Set 1 always; set N when any POSTFIX_TLS_*_N is given. */
static int
make_sets(struct run *r)
{
	struct setconf	*c;
	size_t		 i;

	for (i = 0; i < MAX_SETS; i++) {
		c = &r->s.set[i];
		if (i > 0 && c->cert == NULL && c->key == NULL &&
		    c->bundle == NULL && c->nchain == 0)
			continue;
		if ((r->set[r->nsets] = calloc(1, sizeof(struct set))) ==
		    NULL) {
			problem(EX_OSERR, NULL, "out of memory");
			return -1;
		}
		r->set[r->nsets]->n = i + 1;
		r->set[r->nsets]->conf = c;
		file_init(&r->set[r->nsets]->bundlef);
		r->nsets++;
	}
	return 0;
}

static void
cleanup(struct run *r)
{
	struct set	*st;
	size_t		 i, j;

	for (i = 0; i < r->nsets; i++) {
		st = r->set[i];
		for (j = 0; j < st->nin; j++)
			file_close(&st->in[j]);
		file_close(&st->bundlef);
		pool_free(&st->pool);
		key_free(&st->key);
		freezero(st->pem, st->pemlen);
		free(st);
	}
	for (i = 0; r->builds != NULL && i < r->nmaps; i++)
		sni_build_free(&r->builds[i]);
	free(r->builds);
	identities_free(&r->ids);
	served_free(&r->sv);
	chains_free(&r->port25);
	if (r->names != NULL)
		dane_names_free(r->names, r->nnames);
	sni_maps_free(r->maps, r->nmaps);
	verify_done();
	pem_done();
	postconf_free(&r->pf);
	conf_free(&r->s);
}

int
main(int argc, char *argv[])
{
	struct run	 r;
	struct settings	 cli = { .include_root = -1, .warn_days = -1,
	    .crit_days = -1, .probe = -1, .probe_timeout = -1, .hook = -1,
	    .dane = -1, .dane_dns_refuse = -1, .dane_timeout = -1 };
	const char	*conffile = DEFAULT_CONF;
	size_t		 i;
	int		 conf_required = 0, rc;

	memset(&r, 0, sizeof(r));
	r.confdir = DEFAULT_CONFDIR;
	r.root = "/";
	r.s.include_root = r.s.warn_days = r.s.crit_days = r.s.hook = -1;
	r.s.probe = r.s.probe_timeout = -1;
	r.s.dane = r.s.dane_dns_refuse = r.s.dane_timeout = -1;
	monitor_argv(argc, argv);	/* --nagios: usage errors too */
	rc = parse_args(argc, argv, &r, &cli, &conffile, &conf_required);
	monitor_start(r.format);
	if (rc == -1) {
		stage_failed("reading the command line");
		goto out;
	}
	if (conffile != NULL && conf_read(conffile, conf_required, &r.s) == -1) {
		stage_failed("reading the tuning file");
		goto out;
	}
	if (r.s.print)
		goto out;
	merge(&r.s, &cli);
	monitor_days(r.s.warn_days, r.s.crit_days);
	/* Switched off: the probe after the start need not say so again. */
	if (r.hook && r.probe && r.s.hook == 0)
		goto out;
	if (r.hook && conf_hook_off(&r.s))
		goto out;
	if (r.probe) {
		probe(&r);
		goto out;
	}
	if (make_sets(&r) == -1)
		goto out;
	postconf_start(r.confdir, r.s.cache, &r.pf);
	check_inputs_early(&r);
	if (postconf_finish(&r.pf) == -1) {
		stage_failed("asking postconf");
		goto out;
	}
	for (i = 0; i < r.nsets; i++)
		if (choose_files(&r, r.set[i]) == -1) {
			stage_failed("choosing the files");
			goto out;
		}
	/* Deploy only when every stage passed and nothing was said against. */
	if (run_checks(&r) == -1 || problems() != 0)
		goto out;
	if (dane(&r) == -1 || problems() != 0 || r.tlsa)
		goto out;
	if (prepare_maps(&r) == -1 || problems() != 0) {
		stage_failed("rebuilding the SNI maps");
		goto out;
	}
	if (install(&r) == -1) {
		stage_failed(r.apply ? "installing the bundle" :
		    "comparing the bundle");
		goto out;
	}
	for (i = 0; r.apply == 0 && i < r.nsets; i++)
		report("ok: %s would be served with %zu certificate%s",
		    r.set[i]->bundle, r.set[i]->chain.n, r.set[i]->chain.n ==
		    1 ? "" : "s");
	if (problems() == 0)
		postconf_keep(&r.pf);
out:
	log_release();
	cleanup(&r);
	conf_free(&cli);
	/* The hook's probe warns unless tuned to stop Postfix (conf.d). */
	if (r.probe && r.hook && r.s.probe != PROBE_STOP)
		return 0;
	return monitor_finish(exit_status());
}
