/*
 * main.cf against what this run checked: TLS must be on, and Postfix must
 * serve each bundle we write with the key we checked.  (The other files
 * it names are read and judged with the identity they serve: judge.c.)
 * The values are Postfix's own (postconf -x), so legacy parameters and
 * $name references are already resolved.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sysexits.h>
#include <unistd.h>

#include "common.h"
#include "finding.h"
#include "maincf.h"
#include "secure.h"

/* Longer lists of files are refused, never cut short. */
#define MAX_FILES_LEN	(PATH_MAX * 4)

/* none, may, encrypt; NULL for a value that is no server level. */
static const char *
server_level(const struct postfix *pf)
{
	const char	*v = pf->v[PC_LEVEL];

	if (*v == '\0')
		return pf_yes(pf->v[PC_ENFORCE_TLS]) ? "encrypt" :
		    pf_yes(pf->v[PC_USE_TLS]) ? "may" : "none";
	if (!strcasecmp(v, "none") || !strcasecmp(v, "may") ||
	    !strcasecmp(v, "encrypt"))
		return v;
	return NULL;
}

int
maincf_in_chain_files(const struct postfix *pf, const char *bundle)
{
	const char	*cur = pf->v[PC_CHAIN_FILES], *w;
	char		 name[PATH_MAX];
	size_t		 len;

	while ((w = plist_next(&cur, &len, PLIST_PLAIN, NULL)) != NULL)
		if (len < sizeof(name)) {
			memcpy(name, w, len);
			name[len] = '\0';
			if (path_same(name, bundle) == 1)
				return 1;
		}
	return 0;
}

/* The key parameter that goes with the certificate parameter naming
 * the bundle, or -1 when none names it. */
int
maincf_key_param(const struct postfix *pf, const char *bundle)
{
	if (path_same(pf->v[PC_CERT], bundle) == 1)
		return PC_KEY;
	if (path_same(pf->v[PC_ECCERT], bundle) == 1)
		return PC_ECKEY;
	if (path_same(pf->v[PC_DCERT], bundle) == 1)
		return PC_DKEY;
	return -1;
}

/*
 * A relative name in main.cf: smtpd reads its TLS files in its working
 * directory, Postfix's queue directory (measured: also for a chrooted
 * smtpd, which reads them before it enters the jail), while this helper
 * would read them in its own.  Refused: one line per name.
 */
int
maincf_file_names(const struct postfix *pf, int pcf)
{
	const struct pc_files	*p = &pc_files[pcf];
	enum pc_param		 params[PCF_NFILES];
	const char		*cur, *w, *d;
	char			 dir[PATH_MAX], name[PATH_MAX];
	size_t			 i, len;
	int			 rc = 0;

	pc_file_params(pcf, params);
	if (strlen(pf->v[p->chain]) >= MAX_FILES_LEN) {
		problem(EX_CONFIG, pf->dir, "%s is %zu bytes long, more than the "
		    "%d this helper checks" FIX "name fewer files: one bundle "
		    "per key type is enough", pc_names[p->chain],
		    strlen(pf->v[p->chain]), MAX_FILES_LEN - 1);
		return -1;	/* logged */
	}
	d = path_absolute(pf->dir, dir);
	for (i = 0; i < PCF_NFILES; i++)
		for (cur = pf->v[params[i]]; (w = plist_next(&cur, &len,
		    PLIST_PLAIN, NULL)) != NULL; ) {
			if (*w == '/')
				continue;
			snprintf(name, sizeof(name), "%.*s", (int)len, w);
			problem(EX_CONFIG, name, "%s in %s/main.cf "
			    "is a relative name: smtpd looks for it in "
			    "Postfix's queue directory (postconf -h "
			    "queue_directory), this helper would look in its "
			    "own working directory" FIX "fix: give the file's "
			    "absolute name, e.g. postconf -c %s -e %s=%s/%.*s "
			    "if that is the file you mean", pc_names[params[i]],
			    d, d, pc_names[params[i]], d, (int)len, w);
			rc = -1;
		}
	return rc;	/* logged */
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

	if (*pf->v[PC_CHAIN_FILES] != '\0') {
		if (maincf_in_chain_files(pf, t->bundle))
			return 0;
		problem(EX_CONFIG, maincf, "smtpd_tls_chain_files is set and "
		    "takes precedence, but does not name %s, so Postfix would "
		    "not serve it" FIX "add it there, or set POSTFIX_TLS_BUNDLE to "
		    "a file it names", t->bundle);
		return -1;
	}
	if ((kp = maincf_key_param(pf, t->bundle)) == -1) {
		problem(EX_CONFIG, maincf, "smtpd_tls_cert_file does not name "
		    "%s, so Postfix would not serve it" FIX "fix: postconf -c %s "
		    "-e smtpd_tls_cert_file=%s", t->bundle, pf->dir, bundle);
		return -1;
	}
	switch (path_same(pf->v[kp], t->key_in_bundle ? t->bundle : t->key)) {
	case 1:
		return 0;
	case -1:
		return -1;	/* logged: the name leads through unsafe places */
	}
	problem(EX_CONFIG, maincf, "%s = %s is not the key that was checked, "
	    "%s" FIX "fix: postconf -c %s -e %s=%s", pc_names[kp],
	    *pf->v[kp] ? pf->v[kp] : "(empty)", t->key_in_bundle ? t->bundle :
	    t->key, pf->dir, pc_names[kp], key);
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
		    "not a level for receiving mail" FIX "use may or encrypt",
		    pf->v[PC_LEVEL]);
	} else if (!strcasecmp(level, "none")) {
		rc = -1;
		problem(EX_CONFIG, maincf, "TLS is switched off, so Postfix "
		    "would not offer STARTTLS" FIX "fix: postconf -c %s -e "
		    "smtpd_tls_security_level=may", pf->dir);
	}
	for (i = 0; i < n; i++)
		if (check_serves_bundle(pf, &t[i], maincf) == -1)
			rc = -1;	/* logged */

	if (level != NULL && !strcasecmp(level, "may") &&
	    pf_yes(pf->v[PC_SASL]) && !pf_yes(pf->v[PC_AUTH_ONLY]))
		warning(maincf, "SASL authentication is on with "
		    "smtpd_tls_security_level = may and smtpd_tls_auth_only "
		    "is not yes, so passwords may be sent in cleartext"
		    FIX "fix: postconf -c %s -e smtpd_tls_auth_only=yes",
		    pf->dir);
	if (*pf->v[PC_DCERT] != '\0' && *pf->v[PC_CERT] == '\0' &&
	    *pf->v[PC_ECCERT] == '\0' && *pf->v[PC_CHAIN_FILES] == '\0')
		warning(maincf, "only the obsolete DSA parameters "
		    "(smtpd_tls_dcert_file) are set; current clients do not "
		    "use DSA" FIX "use an RSA or ECDSA certificate in "
		    "smtpd_tls_cert_file");
	return rc;
}
