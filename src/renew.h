/*
 * renew.c: an ACME client's new certificate, put through the guard before
 * Postfix sees it.  A client's deploy hook (files/hooks/: certbot,
 * dehydrated, lego, uacme) runs
 *
 *	postfix-tls-setup renew --cert NEW --key NEWKEY [--chain NEWCHAIN]
 *
 * and the policy is all here, none in the hook:
 *
 *  1. Which identity: the client's files stand for one set of the tuning
 *     file (POSTFIX_TLS_CERT, _KEY, _CHAIN, _BUNDLE; or _N).  With one
 *     set, that one; with several, the set whose POSTFIX_TLS_CERT_N or
 *     _KEY_N names the same file as --cert or --key, else the one whose
 *     current leaf (POSTFIX_TLS_CERT_N, else POSTFIX_TLS_BUNDLE_N) has the
 *     same DNS names and key type as the new leaf.  None or several:
 *     refused (78).
 *  2. Every check: the set's cert, key and chain are replaced by the
 *     client's files, and deploy runs as it always does (deploy.c): the
 *     bundle assembled in memory, every identity Postfix serves judged
 *     with it in place, the DANE guard over port 25, the SNI maps.
 *     Nothing is written unless all of it passed.  deploy calls
 *     renew_guard once it knows the bundle: Postfix must never read the
 *     client's live files (an smtpd that starts between the client's
 *     write of the key and of the certificate would serve a pair that
 *     does not match, before any hook ran), so the bundle must be a file
 *     of the helper's own, outside the client's directories, and must
 *     carry the key (smtpd_tls_chain_files, or smtpd_tls_key_file naming
 *     the bundle): the key and its chain are then replaced by one rename.
 *  3. Deploy: the bundle written by the one atomic writer (write.c), root's
 *     alone, key first.
 *  4. Reload the instance (--service, else postfix) through the init
 *     system, never restart it: service_reload (service.c).  Its reload_pre
 *     hook checks again and its reload_post probes what is served.
 *
 * A refusal (a problem at 1-3) leaves every file as it was, exits with
 * the first problem's status, prints one line per problem for the
 * client's log, and is recorded: a root-only state file per Postfix
 * configuration directory, ROOT/var/lib/postfix-tls-setup/renewal-HASH,
 * written with write.c ("since" is the first refusal after the last good
 * renewal, kept across refusals; the reasons are the last refusal's).  A
 * reload that failed after the deploy is recorded the same way (the new
 * files are in place, but not known to be served).  A good renewal
 * removes the record.  check reports a record as a warning per reason
 * (renew_report), so check --json and --nagios show "renewal refused
 * since ...: why".
 */
#ifndef RENEW_H
#define RENEW_H

#include <stddef.h>

struct setconf;
struct sets;

/* renew_command is declared with the other commands, in command.h. */
/*
 * deploy's guard for a renewal, once the bundles are chosen: the set
 * carrying the client's files writes a bundle of its own that holds the
 * key (else -1, logged: deploy stops), and the new leaf covers every name
 * of the one it replaces (else a problem is said and 0 returned, so that
 * deploy goes on to judge the rest, and refuses at the end).
 */
int	renew_guard(const struct setconf *files, const struct sets *);
/*
 * renew's --cert, --key and --chain are the client's new files, not set
 * 1's settings: moved from CLI into FILES (--bundle stays a setting).
 * Returns FILES.
 */
const struct setconf *renew_take_files(struct setconf *cli,
	    struct setconf *files);
/* ROOT's state directory: ROOT/var/lib/postfix-tls-setup. */
void	renew_state_dir(const char *root, char *buf, size_t size);
/*
 * The run's problems recorded for check: WHAT is "refused" or
 * "not-reloaded" (handoff.c records its own refusals here too).
 */
void	renew_record(const char *root, const char *confdir, const char *what);
/* check: a recorded refusal for CONFDIR, as warnings. */
void	renew_report(const char *root, const char *confdir);

#endif /* RENEW_H */
