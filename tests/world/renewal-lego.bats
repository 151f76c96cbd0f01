#!/usr/bin/env bats
# Issue 20 end to end with lego (Debian's package, run as cron runs it)
# against pebble, with real OpenRC and Postfix in a private world
# (tests/world.sh, tests/renewal-lib.bash).  lego runs our hook
# (files/hooks/lego as make install installs it) without a shell, after
# "run" (--run-hook) and after a "renew" that renewed (--renew-hook), and
# exits with the hook's status.  pebble's leaves last 1825 days: "renew
# --days 1826" is due at once.  lego keeps DOMAIN.crt (leaf and issuer)
# and DOMAIN.key in PATH/certificates; its default key is P-256.  lego 5
# (Gentoo's) names the files in other variables: the hook is also run as
# lego 5 runs it, on lego 4's files.

load ../helpers
# shellcheck source=tests/renewal-lib.bash
. "$TOP/tests/renewal-lib.bash"

setup_file() {
	command -v pebble >/dev/null && command -v lego >/dev/null ||
		skip "needs pebble and lego (tests/deps.sh installs them)"
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
L=/var/lib/lego/certificates
renewal_postfix "$L/$HOST.crt" "$L/$HOST.key"
# lego as cron runs it: env -i, PATH=/usr/bin:/bin; it trusts pebble
# through LEGO_CA_CERTIFICATES.  The HTTP challenge server on pebble'"'"'s
# httpPort (never asked: pebble takes every challenge as valid).
acme() {
	env -i PATH=/usr/bin:/bin LEGO_CA_CERTIFICATES="$PKI/pebble.pem" \
		/usr/bin/lego --accept-tos --email hostmaster@example.org \
		--server "$ACME_DIR" --path /var/lib/lego --domains "$HOST" \
		--http --http.port 127.0.0.1:5002 "$@"
}
'

@test "lego: first issuance is served and verifies against pebble's root; a forced renewal is served by the same master with no handshake failing across it; the hook also takes lego 5's names; a swapped key is refused, lego fails and the old serial stays served" {
	run world <<-SCENARIO
	$ACME_WORLD
	# 1. First issuance: the run hook deploys; Postfix is not running yet.
	acme run --run-hook /usr/share/postfix-tls-setup/hooks/lego; say "issue=\$?"
	stat -c '@@ bundle %U:%G %a' /etc/postfix/certificate.pem
	say "key: \$(openssl pkey -in "\$L/\$HOST.key" -noout -text | sed -n 's/^NIST CURVE: //p')"
	rc-service postfix start; say "start=\$?"
	verdict
	first=\$(serial_of "\$L/\$HOST.crt")
	[ "\$(served_serial)" = "\$first" ] && say "first issuance served"
	pid=\$(master_pid)

	# 2. A forced renewal, a client handshaking back to back across it.
	handshakes_start
	handshakes_phase during
	acme renew --days 1826 --no-random-sleep \
		--renew-hook /usr/share/postfix-tls-setup/hooks/lego; say "renew=\$?"
	second=\$(serial_of "\$L/\$HOST.crt")
	handshakes_settle "\$second"
	handshakes_wait after 3
	handshakes_report "\$first" "\$second"
	[ "\$second" != "\$first" ] && say "lego renewed"
	[ "\$(served_serial)" = "\$second" ] && say "renewal served"
	[ "\$(master_pid)" = "\$pid" ] && say "same master"
	verdict

	# 2b. lego 5 (Gentoo's app-crypt/lego) names the files in
	# LEGO_HOOK_CERT_PATH and LEGO_HOOK_CERT_KEY_PATH: Debian's lego 4
	# renews without a hook, then the hook runs as lego 5 would run it.
	acme renew --days 1826 --no-random-sleep >/dev/null 2>&1; say "hookless renew=\$?"
	v5=\$(serial_of "\$L/\$HOST.crt")
	env -i PATH=/usr/bin:/bin LEGO_HOOK_CERT_NAME="\$HOST" \
		LEGO_HOOK_CERT_PATH="\$L/\$HOST.crt" LEGO_HOOK_CERT_KEY_PATH="\$L/\$HOST.key" \
		/usr/share/postfix-tls-setup/hooks/lego; say "lego 5 hook=\$?"
	[ "\$v5" != "\$second" ] && serves "\$v5" && say "lego 5 names served"
	second=\$v5
	env -i PATH=/usr/bin:/bin /usr/share/postfix-tls-setup/hooks/lego; say "no names=\$?"

	# 3. A broken renewal: an unrelated key swapped in between lego's
	# write and the hook.  lego exits with the hook's status.
	cp "\$PKI/unrelated.key" /run/unrelated.key
	cat >/run/swap-hook <<-'HOOK'
	#!/bin/sh
	cp /run/unrelated.key "\$LEGO_CERT_KEY_PATH"
	exec /usr/share/postfix-tls-setup/hooks/lego
	HOOK
	chmod 755 /run/swap-hook
	state=\$(postfix_state)
	acme renew --days 1826 --no-random-sleep --renew-hook /run/swap-hook; say "broken renew=\$?"
	[ "\$(postfix_state)" = "\$state" ] && say "/etc/postfix unchanged"
	third=\$(serial_of "\$L/\$HOST.crt")
	[ "\$third" != "\$second" ] && say "lego renewed again"
	[ "\$(served_serial)" = "\$second" ] && say "old serial still served"
	[ "\$(master_pid)" = "\$pid" ] && say "same master"
	refused_reported
	SCENARIO
	assert_success
	assert_output --partial "@@ issue=0"
	assert_output --partial "@@ bundle root:root 600"
	assert_output --partial "@@ key: P-256"
	assert_output --partial "@@ start=0"
	assert_output --partial "Verification: OK"
	assert_output --partial "Verified peername: mail.example.org"
	assert_output --partial "@@ first issuance served"
	assert_output --partial "@@ renew=0"
	assert_handshakes
	assert_output --partial "@@ lego renewed"
	assert_output --partial "@@ hookless renew=0"
	assert_output --partial "@@ lego 5 hook=0"
	assert_output --partial "@@ lego 5 names served"
	assert_output --partial "@@ no names=64"
	assert_output --partial "neither LEGO_HOOK_CERT_PATH and LEGO_HOOK_CERT_KEY_PATH (lego 5) nor LEGO_CERT_PATH and LEGO_CERT_KEY_PATH (lego 4) are set"
	assert_output --partial "@@ renewal served"
	assert_output --partial "mail.example.org.key: private key does not match public key in certificate"
	assert_output --partial "@@ broken renew=65"
	assert_output --partial "@@ lego renewed again"
	assert_output --partial "@@ /etc/postfix unchanged"
	assert_output --partial "@@ old serial still served"
	assert_output --regexp "@@ json: .*renewal refused since 20[0-9-]+T[0-9:]+Z: .*mail.example.org.key: private key does not match"
	assert_output --partial "@@ nagios=2"
	assert_output --partial "@@ check names the refusal"
	# Critical: the set's inputs (the client's files) no longer match;
	# the refusal is the warning.
	assert_output --partial "POSTFIX-TLS CRITICAL - 1 critical, 1 warning"
	run grep -c "@@ same master" <<<"$output"
	assert_output 2
}
