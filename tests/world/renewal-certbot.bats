#!/usr/bin/env bats
# Issue 20 end to end: a real ACME server (pebble), a real client
# (certbot, run with cron's environment), real OpenRC and real Postfix in
# a private world (tests/world.sh, tests/renewal-lib.bash).  certbot's
# deploy hook is ours (files/hooks/certbot, as make install installs it);
# the tuning file names certbot's lineage and main.cf the helper's own
# bundle, which carries the key (smtpd_tls_chain_files): Postfix never
# reads certbot's files.  A verifying openssl s_client, trusting pebble's
# root, judges what is served; a loop of them runs across the renewal.

load ../helpers
# shellcheck source=tests/renewal-lib.bash
. "$TOP/tests/renewal-lib.bash"

setup_file() {
	command -v pebble >/dev/null && command -v certbot >/dev/null ||
		skip "needs pebble and certbot (tests/deps.sh installs them)"
	export PKI=$BATS_FILE_TMPDIR/pki
	renewal_pki "$PKI"
}

setup() {
	need_root
	# shellcheck disable=SC2034 # world() in helpers.bash uses it
	T=$BATS_TEST_TMPDIR
}

# The scenario's common part: pebble up, Postfix serving the bundle with
# the key in it, the tuning file naming certbot's lineage.
ACME_WORLD='
. "$TOP/tests/renewal-lib.bash"
pebble_up
L=/etc/letsencrypt/live/$HOST
renewal_postfix "$L/cert.pem" "$L/privkey.pem" "$L/chain.pem"
# certbot as cron runs it: env -i, PATH=/usr/bin:/bin.
acme() {
	env -i PATH=/usr/bin:/bin REQUESTS_CA_BUNDLE="$PKI/pebble.pem" \
		/usr/bin/certbot --non-interactive --agree-tos \
		--register-unsafely-without-email --server "$ACME_DIR" "$@"
}
'

@test "certbot: first issuance is served and verifies against pebble's root; a forced renewal is served by the same master with no handshake failing across it; a broken one is refused and the old serial stays served" {
	run world <<-SCENARIO
	$ACME_WORLD
	# 1. First issuance: the hook deploys; Postfix is not running yet.
	acme certonly --standalone -d "\$HOST" \
		--deploy-hook /usr/share/postfix-tls-setup/hooks/certbot; say "issue=\$?"
	stat -c '@@ bundle %U:%G %a' /etc/postfix/certificate.pem
	rc-service postfix start; say "start=\$?"
	verdict
	first=\$(serial_of "\$L/cert.pem")
	[ "\$(served_serial)" = "\$first" ] && say "first issuance served"
	pid=\$(master_pid)

	# 2. A forced renewal: the saved renew_hook deploys and reloads,
	# while a client handshakes back to back.
	handshakes_start
	handshakes_phase during
	acme renew --force-renewal --no-random-sleep-on-renew; say "renew=\$?"
	second=\$(serial_of "\$L/cert.pem")
	handshakes_settle "\$second"
	handshakes_wait after 3
	handshakes_report "\$first" "\$second"
	[ "\$second" != "\$first" ] && say "certbot renewed"
	[ "\$(served_serial)" = "\$second" ] && say "renewal served"
	[ "\$(master_pid)" = "\$pid" ] && say "same master"
	verdict

	# 3. A broken renewal: an unrelated key swapped in between certbot's
	# write and the hook.  certbot exits 0 whatever the hook says: the
	# hook's own status is kept.
	cp "\$PKI/unrelated.key" /run/unrelated.key
	cat >/run/swap-hook <<-'HOOK'
	#!/bin/sh
	cp /run/unrelated.key "\$(readlink -f "\$RENEWED_LINEAGE/privkey.pem")"
	/usr/share/postfix-tls-setup/hooks/certbot
	echo \$? >/run/hook-status
	HOOK
	chmod 755 /run/swap-hook
	state=\$(postfix_state)
	acme renew --force-renewal --no-random-sleep-on-renew --deploy-hook /run/swap-hook; say "broken renew=\$?"
	[ "\$(postfix_state)" = "\$state" ] && say "/etc/postfix unchanged"
	say "hook status=\$(cat /run/hook-status)"
	third=\$(serial_of "\$L/cert.pem")
	[ "\$third" != "\$second" ] && say "certbot renewed again"
	[ "\$(served_serial)" = "\$second" ] && say "old serial still served"
	[ "\$(master_pid)" = "\$pid" ] && say "same master"
	refused_reported
	SCENARIO
	assert_success
	assert_output --partial "@@ issue=0"
	assert_output --partial "@@ bundle root:root 600"
	assert_output --partial "@@ start=0"
	assert_output --partial "Verification: OK"
	assert_output --partial "Verified peername: mail.example.org"
	assert_output --partial "@@ first issuance served"
	assert_output --partial "@@ renew=0"
	assert_handshakes
	assert_output --partial "@@ certbot renewed"
	assert_output --partial "@@ renewal served"
	assert_output --partial "@@ broken renew=0"
	assert_output --partial "@@ hook status=65"
	assert_output --partial "private key does not match public key in certificate"
	assert_output --partial "@@ certbot renewed again"
	assert_output --partial "@@ /etc/postfix unchanged"
	assert_output --partial "@@ old serial still served"
	assert_output --regexp "@@ json: .*renewal refused since 20[0-9-]+T[0-9:]+Z: .*privkey[0-9]*.pem: private key does not match"
	assert_output --partial "@@ nagios=2"
	assert_output --partial "@@ check names the refusal"
	# Critical: the set's inputs (the client's files) no longer match;
	# the refusal is the warning.
	assert_output --partial "POSTFIX-TLS CRITICAL - 1 critical, 1 warning"
	run grep -c "@@ same master" <<<"$output"
	assert_output 2
}
