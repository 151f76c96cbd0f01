#!/usr/bin/env bats
# Issue 20 end to end with dehydrated (Debian's package, run as cron runs
# it) against pebble, with real OpenRC and Postfix in a private world
# (tests/world.sh, tests/renewal-lib.bash).  dehydrated's HOOK is ours
# (files/hooks/dehydrated as make install installs it); dehydrated calls
# it with other verbs first (a probe, startup_hook, the challenge ones,
# sync_cert) and aborts if any of them fails.  Debian's dehydrated keeps
# a domain's files in /var/lib/dehydrated/certs/DOMAIN as links to
# timestamped files; its default key is P-384.  The tuning file names
# the links; Postfix serves the helper's bundle.

load ../helpers
# shellcheck source=tests/renewal-lib.bash
. "$TOP/tests/renewal-lib.bash"

setup_file() {
	command -v pebble >/dev/null && command -v dehydrated >/dev/null ||
		skip "needs pebble and dehydrated (tests/deps.sh installs them)"
	export PKI=$BATS_FILE_TMPDIR/pki
	renewal_pki "$PKI"
}

setup() {
	need_root
	# shellcheck disable=SC2034 # world() in helpers.bash uses it
	T=$BATS_TEST_TMPDIR
}

ACME_WORLD='
. "$TOP/tests/renewal-lib.bash"
pebble_up
L=/var/lib/dehydrated/certs/$HOST
renewal_postfix "$L/cert.pem" "$L/privkey.pem" "$L/chain.pem"
cat >/etc/dehydrated/conf.d/pebble.sh <<-CONF
CA=$ACME_DIR
HOOK=/usr/share/postfix-tls-setup/hooks/dehydrated
CONF
echo "$HOST" >/etc/dehydrated/domains.txt
# dehydrated as cron runs it: env -i, PATH=/usr/bin:/bin; curl trusts
# pebble through CURL_CA_BUNDLE.
acme() {
	env -i PATH=/usr/bin:/bin CURL_CA_BUNDLE="$PKI/pebble.pem" \
		/usr/bin/dehydrated "$@"
}
'

@test "dehydrated: first issuance is served and verifies against pebble's root; a forced renewal is served by the same master with no handshake failing across it; a leaf that drops myhostname is refused, dehydrated fails and the old serial stays served" {
	run world <<-SCENARIO
	$ACME_WORLD
	acme --register --accept-terms >/dev/null; say "register=\$?"
	# 1. First issuance: deploy_cert deploys; Postfix is not running yet.
	acme --cron; say "issue=\$?"
	stat -c '@@ bundle %U:%G %a' /etc/postfix/certificate.pem
	[ -L "\$L/cert.pem" ] && say "cert.pem links to \$(readlink "\$L/cert.pem" | sed 's/[0-9]\+/TS/')"
	say "key: \$(openssl pkey -in "\$L/privkey.pem" -noout -text | sed -n 's/^NIST CURVE: //p')"
	rc-service postfix start; say "start=\$?"
	verdict
	first=\$(serial_of "\$L/cert.pem")
	[ "\$(served_serial)" = "\$first" ] && say "first issuance served"
	pid=\$(master_pid)

	# 2. A forced renewal, a client handshaking back to back across it.
	handshakes_start
	handshakes_phase during
	acme --cron --force; say "renew=\$?"
	second=\$(serial_of "\$L/cert.pem")
	handshakes_settle "\$second"
	handshakes_wait after 3
	handshakes_report "\$first" "\$second"
	[ "\$second" != "\$first" ] && say "dehydrated renewed"
	[ "\$(served_serial)" = "\$second" ] && say "renewal served"
	[ "\$(master_pid)" = "\$pid" ] && say "same master"
	verdict

	# 3. A broken renewal: domains.txt edited so that the certificate,
	# still kept under the old name (an alias), no longer covers
	# myhostname.  dehydrated sees the names changed, renews, calls
	# deploy_cert, and exits non-zero when the hook refuses.
	echo "other.example.org > \$HOST" >/etc/dehydrated/domains.txt
	state=\$(postfix_state)
	acme --cron; say "broken renew=\$?"
	[ "\$(postfix_state)" = "\$state" ] && say "/etc/postfix unchanged"
	third=\$(serial_of "\$L/cert.pem")
	[ "\$third" != "\$second" ] && say "dehydrated renewed again"
	openssl x509 -in "\$L/cert.pem" -noout -ext subjectAltName | grep -q "DNS:\$HOST" ||
		say "the new leaf lacks \$HOST"
	[ "\$(served_serial)" = "\$second" ] && say "old serial still served"
	[ "\$(master_pid)" = "\$pid" ] && say "same master"
	refused_reported
	SCENARIO
	assert_success
	assert_output --partial "@@ register=0"
	assert_output --partial "@@ issue=0"
	assert_output --partial "@@ bundle root:root 600"
	assert_output --partial "@@ cert.pem links to cert-TS.pem"
	assert_output --partial "@@ key: P-384"
	assert_output --partial "@@ start=0"
	assert_output --partial "Verification: OK"
	assert_output --partial "Verified peername: mail.example.org"
	assert_output --partial "@@ first issuance served"
	assert_output --partial "@@ renew=0"
	assert_handshakes
	assert_output --partial "@@ dehydrated renewed"
	assert_output --partial "@@ renewal served"
	assert_output --partial "@@ broken renew=1"
	assert_output --partial "cert.pem: the new certificate does not cover mail.example.org, which the certificate it would replace covers"
	assert_output --partial "deploy_cert hook returned with non-zero exit code"
	assert_output --partial "@@ dehydrated renewed again"
	assert_output --partial "@@ the new leaf lacks mail.example.org"
	assert_output --partial "@@ /etc/postfix unchanged"
	assert_output --partial "@@ old serial still served"
	assert_output --regexp "@@ json: .*renewal refused since 20[0-9-]+T[0-9:]+Z: .*mail.example.org"
	# The refusal record is a warning; the new files (still the set's
	# inputs) lack myhostname: a second warning, nothing critical.
	assert_output --partial "@@ nagios=1"
	assert_output --partial "@@ check names the refusal"
	assert_output --regexp "POSTFIX-TLS WARNING - 0 critical, 2 warning: .*renewal refused since"
	run grep -c "@@ same master" <<<"$output"
	assert_output 2
}
