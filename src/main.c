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

struct run {
	int		 apply;		/* deploy: change things */
	int		 hook;		/* --hook: obey POSTFIX_TLS_HOOK */
	const char	*confdir;
	const char	*root;
	struct settings	 s;
	struct postfix	 pf;
	const char	*bundle;	/* the file we write */
	char		 chain_file[PATH_MAX];	/* first smtpd_tls_chain_files */
	const char	*leafsrc;	/* where the leaf comes from */
	const char	*keypath;
	int		 key_in_bundle;
	struct file	 in[MAX_INPUTS + 2];	/* distinct input files */
	int		 in_ok[MAX_INPUTS + 2];	/* read and parsed */
	size_t		 nin;
	struct file	*keyf;		/* one of in[] */
	struct file	 bundlef;
	struct pool	 pool;
	struct key	 key;
	struct chain	 chain;
	int		 chain_ok;	/* built; the checks ran on it */
	int		 inputs_rc;	/* check_inputs' verdict */
};

static void __attribute__((noreturn))
usage(int status)
{
	fprintf(status ? stderr : stdout,
	    "usage: %s [options] deploy | check\n"
	    "       %s [--conf FILE] --print-conf\n"
	    "  deploy            assemble, verify and install the bundle\n"
	    "  check             verify only; say what deploy would change\n"
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
	    "77 unsafe file or\ndirectory; 78 bad configuration. "
	    "See postfix-tls-setup(8).\n", PROG, PROG);
	exit(status);
}

enum { O_CONF = 256, O_NO_CONF, O_CERT, O_KEY, O_CHAIN, O_BUNDLE, O_CAFILE, O_CAPATH,
    O_ROOT, O_WARN, O_INCLUDE_ROOT, O_HOOK, O_PRINT_CONF };

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
	{ "include-root", no_argument, NULL, O_INCLUDE_ROOT },
	{ "hook", optional_argument, NULL, O_HOOK },
	{ "print-conf", no_argument, NULL, O_PRINT_CONF },
	{ "quiet", no_argument, NULL, 'q' },
	{ "verbose", no_argument, NULL, 'v' },
	{ "help", no_argument, NULL, 'h' },
	{ "version", no_argument, NULL, 'V' },
	{ NULL, 0, NULL, 0 }
};

/* The command line's settings, applied over the conf.d file's. */
static void
merge(struct settings *s, struct settings *cli)
{
	size_t	i;

#define TAKE(f) if (cli->f != NULL) { free(s->f); s->f = cli->f; cli->f = NULL; }
	TAKE(cert) TAKE(key) TAKE(bundle) TAKE(cafile) TAKE(capath)
#undef TAKE
	if (cli->nchain > 0) {
		while (s->nchain > 0)
			free(s->chain[--s->nchain]);
		for (i = 0; i < cli->nchain; i++)
			s->chain[i] = cli->chain[i];
		s->nchain = cli->nchain;
		cli->nchain = 0;
	}
	if (cli->include_root != -1)
		s->include_root = cli->include_root;
	if (cli->warn_days != -1)
		s->warn_days = cli->warn_days;
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
			rc |= conf_add_chain(cli, optarg, "--chain");
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
	if (r->s.print && optind == argc)
		return rc ? -1 : 0;
	if (optind != argc - 1)
		usage(EX_USAGE);
	if (!strcmp(argv[optind], "deploy"))
		r->apply = 1;
	else if (strcmp(argv[optind], "check")) {
		fprintf(stderr, "%s: unknown command \"%s\" (deploy or "
		    "check)\n", PROG, argv[optind]);
		usage(EX_USAGE);
	}
	return rc ? -1 : 0;
}

/*
 * Which file is the bundle, where the leaf and key come from.  Without
 * settings, Postfix's own files are checked and fixed in place.
 */
static int
choose_files(struct run *r)
{
	const struct postfix	*pf = &r->pf;
	char			*first = r->chain_file;
	int			 kp;

	strlcpy(first, pf->v[PF_CHAIN_FILES] + strspn(pf->v[PF_CHAIN_FILES],
	    " \t,"), sizeof(r->chain_file));
	first[strcspn(first, " \t,")] = '\0';
	if (r->s.bundle != NULL)
		r->bundle = r->s.bundle;
	else if (*first != '\0')
		r->bundle = first;
	else if (*pf->v[PF_CERT] != '\0')
		r->bundle = pf->v[PF_CERT];
	else if (*pf->v[PF_ECCERT] != '\0')
		r->bundle = pf->v[PF_ECCERT];
	else if (*pf->v[PF_DCERT] != '\0')
		r->bundle = pf->v[PF_DCERT];
	if (r->bundle == NULL) {
		problem(EX_CONFIG, pf->dir, "main.cf names no server "
		    "certificate and POSTFIX_TLS_BUNDLE is not set (fix: "
		    "postconf -c %s -e smtpd_tls_cert_file=%s/certificate.pem)",
		    pf->dir, pf->dir);
		return -1;
	}
	kp = maincf_key_param(pf, r->bundle);
	r->key_in_bundle = maincf_in_chain_files(pf, r->bundle) ||
	    (kp != -1 && same_file(pf->v[kp], r->bundle));
	r->leafsrc = r->s.cert ? r->s.cert : r->bundle;
	if (r->s.key != NULL)
		r->keypath = r->s.key;
	else if (r->key_in_bundle)
		r->keypath = r->leafsrc;
	else
		r->keypath = pf->v[kp != -1 ? kp : PF_KEY];
	if (*r->keypath == '\0') {
		problem(EX_CONFIG, pf->dir, "no private key is configured "
		    "(set smtpd_tls_key_file in main.cf or POSTFIX_TLS_KEY)");
		return -1;
	}
	debug("bundle %s, leaf from %s, key from %s%s", r->bundle,
	    r->leafsrc, r->keypath, r->key_in_bundle ? " (key in bundle)" :
	    "");
	return 0;
}

/* Open and parse one input, once, however often it is named. */
static struct file *
load_one(struct run *r, const char *path, int want_key)
{
	struct file	*f;
	unsigned char	*buf = NULL;
	size_t		 i, len = 0;

	for (i = 0; i < r->nin; i++)
		if (same_file(r->in[i].path, path))
			return r->in_ok[i] ? &r->in[i] : NULL;
	f = &r->in[r->nin];
	file_init(f);
	r->in_ok[r->nin++] = file_open(f, path, 0) == 0 &&
	    file_read(f, &buf, &len) == 0 &&
	    pem_load(f->path, buf, len, &r->pool, &r->key, want_key) == 0;
	freezero(buf, len);
	return r->in_ok[r->nin - 1] ? f : NULL;
}

/*
 * Read the key, the leaf and the chain files, build the chain and check it
 * against the key and the trust anchors: all that needs only the settings
 * and the files, not Postfix's own view.  Each bad input is reported; the
 * chain is built from whatever was readable.
 */
static int
check_inputs(struct run *r)
{
	const char	*srcs[MAX_INPUTS + 2];
	struct file	*leaf;
	size_t		 i;
	int		 rc = 0;

	/* The key first: if it shares a file with the leaf, read it as one. */
	if ((r->keyf = load_one(r, r->keypath, 1)) == NULL)
		rc = -1;	/* logged */
	if ((leaf = load_one(r, r->leafsrc, 0)) == NULL)
		rc = -1;	/* logged */
	for (i = 0; i < r->s.nchain; i++)
		if (load_one(r, r->s.chain[i], 0) == NULL)
			rc = -1;	/* logged */
	if (leaf == NULL)
		return -1;	/* logged */
	for (i = 0; i < r->nin; i++)
		srcs[i] = r->in[i].path;
	if (chain_build(&r->pool, &r->key, leaf->path, srcs, r->nin,
	    r->s.include_root, &r->chain) == -1)
		return -1;	/* logged */
	r->chain_ok = 1;
	if (r->keyf != NULL &&	/* else its problem is reported */
	    verify_key(&r->chain, &r->key, r->keypath, r->leafsrc) == -1)
		rc = -1;	/* logged */
	if (verify_chain(&r->chain, r->s.cafile, r->s.capath, r->leafsrc) ==
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
static int
check_inputs_early(struct run *r)
{
	if (r->s.key == NULL || r->s.cert == NULL)
		return 0;
	r->keypath = r->s.key;	/* as choose_files will find them */
	r->leafsrc = r->s.cert;
	log_hold();
	r->inputs_rc = check_inputs(r);
	log_unhold();
	return 1;
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

static int
run_checks(struct run *r, int checked_early)
{
	struct target	t = { r->bundle, r->keypath, r->key_in_bundle, 1,
			    NULL, 0 };
	const char	*inputs[MAX_INPUTS + 2];
	size_t		 i;
	int		 rc = 0;

	if (vdb_check_ssl(r->root) == -1)
		rc = stage_failed("reading the package database");
	log_release();		/* what check_inputs_early found */
	if (!checked_early)
		r->inputs_rc = check_inputs(r);
	if (r->inputs_rc == -1)
		rc = stage_failed("checking the input files");
	if (file_open(&r->bundlef, r->bundle, 1) == -1)
		rc = stage_failed("opening the bundle");
	if (r->chain_ok)
		verify_warn(&r->chain, r->leafsrc, r->pf.v[PF_MYHOSTNAME],
		    r->s.warn_days);
	for (i = 0; i < r->nin; i++)
		inputs[i] = r->in[i].path;
	t.inputs = inputs;
	t.ninputs = r->nin;
	if (maincf_check(&r->pf, &t) == -1)
		rc = stage_failed("checking main.cf");
	return rc;
}

/* Everything passed: write the bundle if it changed, then secure files. */
static int
install(struct run *r)
{
	unsigned char	*new = NULL, *old = NULL;
	size_t		 newlen = 0, oldlen = 0;
	int		 changed, rc = -1;

	if (chain_pem(&r->chain, r->key_in_bundle ? &r->key : NULL, &new,
	    &newlen) == -1 || write_cleanup(&r->bundlef, r->apply) == -1)
		goto out;
	if (r->bundlef.fd != -1 && file_read(&r->bundlef, &old, &oldlen) ==
	    -1)
		goto out;
	changed = old == NULL || oldlen != newlen || memcmp(old, new, newlen);
	if (changed && !r->apply)
		report("would write %s (%zu certificate%s%s)", r->bundle,
		    r->chain.n, r->chain.n == 1 ? "" : "s",
		    r->key_in_bundle ? " after the private key" : "");
	else if (changed) {
		if (write_atomic(&r->bundlef, new, newlen) == -1)
			goto out;
		report("wrote %s (%zu certificate%s%s)", r->bundle, r->chain.n,
		    r->chain.n == 1 ? "" : "s",
		    r->key_in_bundle ? " after the private key" : "");
	} else if (file_secure(&r->bundlef, r->apply) == -1)
		goto out;
	if (!same_file(r->keyf->path, r->bundle) &&
	    file_secure(r->keyf, r->apply) == -1)
		goto out;
	rc = 0;
out:
	freezero(new, newlen);
	freezero(old, oldlen);
	return rc;
}

static void
cleanup(struct run *r)
{
	size_t	i;

	for (i = 0; i < r->nin; i++)
		file_close(&r->in[i]);
	file_close(&r->bundlef);
	pool_free(&r->pool);
	key_free(&r->key);
	postconf_free(&r->pf);
	conf_free(&r->s);
}

int
main(int argc, char *argv[])
{
	struct run	 r;
	struct settings	 cli = { .include_root = -1, .warn_days = -1,
	    .hook = -1 };
	const char	*conffile = DEFAULT_CONF;
	int		 conf_required = 0, early;

	memset(&r, 0, sizeof(r));
	r.confdir = DEFAULT_CONFDIR;
	r.root = "/";
	r.s.include_root = r.s.warn_days = r.s.hook = -1;
	file_init(&r.bundlef);
	if (parse_args(argc, argv, &r, &cli, &conffile, &conf_required) == -1) {
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
	if (r.hook && conf_hook_off(&r.s))
		goto out;
	postconf_start(r.confdir, r.s.cache, &r.pf);
	early = check_inputs_early(&r);
	if (postconf_finish(&r.pf) == -1) {
		stage_failed("asking postconf");
		goto out;
	}
	if (choose_files(&r) == -1) {
		stage_failed("choosing the files");
		goto out;
	}
	/* Deploy only when every stage passed and nothing was said against. */
	if (run_checks(&r, early) == -1 || problems() != 0)
		goto out;
	if (install(&r) == -1) {
		stage_failed(r.apply ? "installing the bundle" :
		    "comparing the bundle");
		goto out;
	}
	if (r.apply == 0)
		report("ok: %s would be served with %zu certificate%s",
		    r.bundle, r.chain.n, r.chain.n == 1 ? "" : "s");
	if (problems() == 0)
		postconf_keep(&r.pf);
out:
	log_release();
	cleanup(&r);
	conf_free(&cli);
	return exit_status();
}
