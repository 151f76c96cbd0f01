/*
 * The helper's own help: usage, options and exit statuses, on stdout when
 * asked for, on stderr after a usage error (and, with --nagios, as the
 * plugin's UNKNOWN line).
 */
#include <stdio.h>
#include <stdlib.h>

#include "common.h"
#include "help.h"
#include "render.h"

void
usage(int status)
{
	render_usage(status);	/* --nagios: UNKNOWN, exit 3 */
	fprintf(status ? stderr : stdout,
	    "usage: %s [options] deploy | check | probe | tlsa\n"
	    "       %s [options] hook start_pre | stop_pre | reload_pre | "
	    "start_post | reload_post\n"
	    "       %s [options] renew --cert NEW --key NEWKEY [--chain "
	    "NEWCHAIN]\n"
	    "       %s [options] renew --request --cert NEW --key NEWKEY "
	    "[--chain C]\n"
	    "       %s [options] renew --pending\n"
	    "       %s [--conf FILE] --print-conf\n"
	    "  deploy            assemble, verify and install the bundle\n"
	    "  check             verify only; say what deploy would change\n"
	    "  probe             handshake with the running Postfix's TLS "
	    "listeners\n"
	    "  tlsa              print the DANE TLSA records of the port-25 "
	    "chains\n"
	    "  hook EVENT        as an init system's hook for the service\n"
	    "  renew             an ACME client's new files: check, deploy, "
	    "reload\n"
	    "  renew --request   as an unprivileged ACME client's user: ask "
	    "root to renew\n"
	    "  renew --pending   as root: renew what was asked, reading the "
	    "files as\n"
	    "                    the asking user\n"
	    "options:\n"
	    "  -c DIR            Postfix configuration directory "
	    "(default " DEFAULT_CONFDIR ")\n"
	    "  --conf FILE       tuning file (default " DEFAULT_CONF ")\n"
	    "  --no-conf         read no tuning file\n"
	    "  --service NAME    the service's instance: postfix.NAME or "
	    "postfix@NAME\n"
	    "                    is /etc/postfix.NAME, tuned in "
	    DEFAULT_CONF ".NAME\n"
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
	    "  --hook[=VALUE]    as a hook: do nothing when POSTFIX_TLS_HOOK\n"
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
	    "configuration.  See postfix-tls-setup(8).\n", PROG, PROG, PROG,
	    PROG, PROG, PROG);
	exit(status);
}

