/*
 * handoff.c: an unprivileged ACME client's renewal, handed to root.  The
 * client's user (Gentoo's dehydrated, acme.sh run as a user) cannot run
 * renew: it would need root to write the bundle and reload Postfix.  So
 * it only asks:
 *
 *	postfix-tls-setup renew --request --cert NEW --key NEWKEY [--chain C]
 *
 * run as the client's user, writes a small request into the spool,
 * ROOT/var/spool/postfix-tls-setup (root:CLIENTGROUP 1730: the client's
 * group may add files, may not list or read the others'), named
 * request.UID and renamed into place whole.  Root's side,
 *
 *	postfix-tls-setup renew --pending
 *
 * (cron, a systemd path unit: files/) takes each request and:
 *
 *  1. the request itself: opened O_NOFOLLOW|O_NONBLOCK in the spool, a
 *     regular file with one link, owned by the UID its name gives (not
 *     root), 0600, at most MAX_REQUEST bytes, no control byte in its
 *     names; removed before anything else (a refused request is not
 *     retried).  Entries named like a request (request.[0-9]*, what the
 *     path unit wakes for) that are not their user's are removed at once;
 *     a run takes MAX_REQUESTS requests, the rest wait for the next.
 *  2. the client's files: read (every request's, before any renewal reads
 *     a key into this process's memory) by a child that has become the request's
 *     owner (its uid, its groups; no way back to root), so root reads
 *     nothing its user could not read: links are followed with the
 *     user's rights, a root-only file is EACCES.  Each must be a regular
 *     file (opened O_NONBLOCK: a FIFO never blocks), at most
 *     MAX_HANDOFF_FILE bytes; the key must not be root's.  The bytes come
 *     back over a pipe, bounded, by a deadline root keeps (the user may
 *     stop the child: it is hers).
 *  3. staged: copied into a root-only directory under the state directory
 *     (ROOT/var/lib/postfix-tls-setup/handoff) and renewed from there
 *     (renew_command: every check, the bundle, the reload), then removed.
 *     The client's files are never written, moved, chmod'ed or chown'ed.
 *
 * A refusal at 1 or 2 is recorded as renew records its own (check shows
 * it).  SECURITY.md has the attacker model.
 */
#ifndef HANDOFF_H
#define HANDOFF_H

struct command;

#define MAX_REQUESTS		16		/* requests one run takes */
#define MAX_REQUEST		(16 * 1024)	/* bytes of one request */
#define MAX_HANDOFF_FILE	(1024 * 1024)	/* bytes of one client file */
#define MAX_REQUEST_CHAIN	8		/* --chain files of a request */

/* handoff_command is declared with the other commands, in command.h. */

#endif /* HANDOFF_H */
