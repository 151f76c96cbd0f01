/*
 * main.cf against what this run checked: TLS must be on, and Postfix must
 * serve each bundle we write with the key we checked.  (The other files
 * it names are read and judged with the identity they serve: serve.c.)  The values are Postfix's own (postconf -x),
 * so legacy parameters and $name references are already resolved.
 */
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sysexits.h>
#include <unistd.h>

#include "extern.h"

#define SEPARATORS	" \t,"
/* Longer smtpd_tls_chain_files values are refused, never cut short. */
#define MAX_CHAIN_FILES_LEN	(PATH_MAX * 4)

static int
is_yes(const char *v)
{
	return !strcasecmp(v, "yes");
}

/* none, may, encrypt; NULL for a value that is no server level. */
static const char *
server_level(const struct postfix *pf)
{
	const char	*v = pf->v[PF_LEVEL];

	if (*v == '\0')
		return is_yes(pf->v[PF_ENFORCE_TLS]) ? "encrypt" :
		    is_yes(pf->v[PF_USE_TLS]) ? "may" : "none";
	if (!strcasecmp(v, "none") || !strcasecmp(v, "may") ||
	    !strcasecmp(v, "encrypt"))
		return v;
	return NULL;
}

/* Call fn for each file in smtpd_tls_chain_files; stop when it says so. */
static int
each_chain_file(const struct postfix *pf, int (*fn)(const char *,
    const void *), const void *arg)
{
	char	 copy[MAX_CHAIN_FILES_LEN], *p = copy, *word;

	strlcpy(copy, pf->v[PF_CHAIN_FILES], sizeof(copy));
	while ((word = strsep(&p, SEPARATORS)) != NULL)
		if (*word != '\0' && fn(word, arg))
			return 1;
	return 0;
}

static int
is_same(const char *file, const void *bundle)
{
	return same_file(file, bundle);
}

int
maincf_in_chain_files(const struct postfix *pf, const char *bundle)
{
	return each_chain_file(pf, is_same, bundle);
}

/* The key parameter that goes with the certificate parameter naming
 * the bundle, or -1 when none names it. */
int
maincf_key_param(const struct postfix *pf, const char *bundle)
{
	if (same_file(pf->v[PF_CERT], bundle))
		return PF_KEY;
	if (same_file(pf->v[PF_ECCERT], bundle))
		return PF_ECKEY;
	if (same_file(pf->v[PF_DCERT], bundle))
		return PF_DKEY;
	return -1;
}

/*
 * A relative name in main.cf: smtpd reads its TLS files in its working
 * directory, Postfix's queue directory (measured: also for a chrooted
 * smtpd, which reads them before it enters the jail), while this helper
 * would read and write them in its own.  Refused: one line per name.
 */
struct relative_arg {
	const struct postfix	*pf;
	const char		*param;
	int			 found;
};

static int
check_absolute(const char *file, const void *argp)
{
	struct relative_arg	*a = (struct relative_arg *)argp;
	char			 dir[PATH_MAX];
	const char		*d;

	if (*file == '\0' || *file == '/')
		return 0;
	d = path_absolute(a->pf->dir, dir);
	problem(EX_CONFIG, file, "%s in %s/main.cf is a relative name: "
	    "smtpd looks for it in Postfix's queue directory (postconf -h "
	    "queue_directory), this helper would look in its own working "
	    "directory (fix: give the file's absolute name, e.g. postconf -c "
	    "%s -e %s=%s/%s if that is the file you mean)", a->param, d, d,
	    a->param, d, file);
	a->found = 1;
	return 0;
}

/*
 * Every TLS file name main.cf gives must be one this helper reads as smtpd
 * does: absolute, and all of them seen.  -1 when not (reported).
 */
int
maincf_file_names(const struct postfix *pf)
{
	static const enum pf_param files[] = {
		PF_CERT, PF_KEY, PF_ECCERT, PF_ECKEY, PF_DCERT, PF_DKEY
	};
	struct relative_arg	a = { pf, NULL, 0 };
	size_t			i;

	if (strlen(pf->v[PF_CHAIN_FILES]) >= MAX_CHAIN_FILES_LEN) {
		problem(EX_CONFIG, pf->dir, "smtpd_tls_chain_files is %zu "
		    "bytes long, more than the %d this helper checks (name "
		    "fewer files: one bundle per key type is enough)",
		    strlen(pf->v[PF_CHAIN_FILES]), MAX_CHAIN_FILES_LEN - 1);
		return -1;	/* logged */
	}
	for (i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		a.param = pf_names[files[i]];
		check_absolute(pf->v[files[i]], &a);
	}
	a.param = pf_names[PF_CHAIN_FILES];
	each_chain_file(pf, check_absolute, &a);
	return a.found ? -1 : 0;	/* logged */
}

/* Does Postfix serve our bundle with our key? */
static int
check_serves_bundle(const struct postfix *pf, const struct target *t,
    const char *maincf)
{
	char		 bbuf[PATH_MAX], kbuf[PATH_MAX];
	const char	*bundle = path_absolute(t->bundle, bbuf);
	const char	*key = t->key_in_bundle ? bundle : path_absolute(t->key, kbuf);
	int		 kp;

	if (*pf->v[PF_CHAIN_FILES] != '\0') {
		if (maincf_in_chain_files(pf, t->bundle))
			return 0;
		problem(EX_CONFIG, maincf, "smtpd_tls_chain_files is set and "
		    "takes precedence, but does not name %s, so Postfix would "
		    "not serve it (add it there, or set POSTFIX_TLS_BUNDLE to "
		    "a file it names)", t->bundle);
		return -1;
	}
	if ((kp = maincf_key_param(pf, t->bundle)) == -1) {
		problem(EX_CONFIG, maincf, "smtpd_tls_cert_file does not name "
		    "%s, so Postfix would not serve it (fix: postconf -c %s "
		    "-e smtpd_tls_cert_file=%s)", t->bundle, pf->dir, bundle);
		return -1;
	}
	if (same_file(pf->v[kp], t->key_in_bundle ? t->bundle : t->key))
		return 0;
	problem(EX_CONFIG, maincf, "%s = %s is not the key that was checked, "
	    "%s (fix: postconf -c %s -e %s=%s)", pf_names[kp],
	    *pf->v[kp] ? pf->v[kp] : "(empty)", t->key_in_bundle ? t->bundle :
	    t->key, pf->dir, pf_names[kp], key);
	return -1;
}

int
maincf_check(const struct postfix *pf, const struct target *t, size_t n)
{
	char		 maincf[PATH_MAX];
	const char	*level = server_level(pf);
	size_t		 i;
	int		 rc = 0;

	snprintf(maincf, sizeof(maincf), "%s/main.cf", pf->dir);
	if (level == NULL) {
		rc = -1;
		problem(EX_CONFIG, maincf, "smtpd_tls_security_level = %s is "
		    "not a level for receiving mail (use may or encrypt)",
		    pf->v[PF_LEVEL]);
	} else if (!strcasecmp(level, "none")) {
		rc = -1;
		problem(EX_CONFIG, maincf, "TLS is switched off, so Postfix "
		    "would not offer STARTTLS (fix: postconf -c %s -e "
		    "smtpd_tls_security_level=may)", pf->dir);
	}
	for (i = 0; i < n; i++)
		if (check_serves_bundle(pf, &t[i], maincf) == -1)
			rc = -1;	/* logged */

	if (level != NULL && !strcasecmp(level, "may") &&
	    is_yes(pf->v[PF_SASL]) && !is_yes(pf->v[PF_AUTH_ONLY]))
		warning(maincf, "SASL authentication is on with "
		    "smtpd_tls_security_level = may and smtpd_tls_auth_only "
		    "is not yes, so passwords may be sent in cleartext "
		    "(fix: postconf -c %s -e smtpd_tls_auth_only=yes)",
		    pf->dir);
	if (*pf->v[PF_DCERT] != '\0' && *pf->v[PF_CERT] == '\0' &&
	    *pf->v[PF_ECCERT] == '\0' && *pf->v[PF_CHAIN_FILES] == '\0')
		warning(maincf, "only the obsolete DSA parameters "
		    "(smtpd_tls_dcert_file) are set; current clients do not "
		    "use DSA (use an RSA or ECDSA certificate in "
		    "smtpd_tls_cert_file)");
	return rc;
}
