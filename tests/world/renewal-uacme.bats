#!/usr/bin/env bats
# Issue 20 end to end with uacme (Debian's package, run as cron runs it)
# against pebble, with real OpenRC and Postfix in a private world
# (tests/world.sh, tests/renewal-lib.bash).  uacme has no deploy hook (its
# -h is the challenge hook, here /bin/true: pebble takes every challenge
# as valid); cron runs "uacme issue DOMAIN && HOOK DOMAIN" with our hook
# (files/hooks/uacme as make install installs it): uacme issue exits 0
# only when it issued.  uacme trusts only the system CA bundle, so the
# world's bundle gets pebble's listener certificate; it refuses a second
# issuance within the same second (it keeps the old certificate under a
# name with the time in it); its default key is RSA-2048, kept across
# renewals.  It writes /etc/ssl/uacme/DOMAIN/cert.pem (leaf and issuer)
# and /etc/ssl/uacme/private/DOMAIN/key.pem.

load ../helpers
# shellcheck source=tests/renewal-lib.bash
. "$TOP/tests/renewal-lib.bash"

setup_file() {
	command -v pebble >/dev/null && command -v uacme >/dev/null ||
		skip "needs pebble and uacme (tests/deps.sh installs them)"
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
# The world'"'"'s own system bundle (an overlay: the machine'"'"'s is untouched).
cat "$PKI/pebble.pem" >>/etc/ssl/certs/ca-certificates.crt
C=/etc/ssl/uacme/$HOST/cert.pem
K=/etc/ssl/uacme/private/$HOST/key.pem
renewal_postfix "$C" "$K"
HOOK=/usr/share/postfix-tls-setup/hooks/uacme
# uacme as cron runs it: env -i, PATH=/usr/bin:/bin.
acme() {
	env -i PATH=/usr/bin:/bin /usr/bin/uacme --acme-url "$ACME_DIR" \
		--hook /bin/true "$@"
}
'

@test "uacme: first issuance is served and verifies against pebble's root; a forced renewal is served by the same master with no handshake failing across it; a swapped key is refused and the old serial stays served" {
	run world <<-SCENARIO
	$ACME_WORLD
	acme --yes new hostmaster@example.org >/dev/null; say "register=\$?"
	# 1. First issuance, then the hook: Postfix is not running yet.
	acme issue "\$HOST" && \$HOOK "\$HOST"; say "issue=\$?"
	stat -c '@@ bundle %U:%G %a' /etc/postfix/certificate.pem
	say "key: \$(openssl pkey -in "\$K" -noout -text | sed -n 's/^Private-Key: //p')"
	rc-service postfix start; say "start=\$?"
	verdict
	first=\$(serial_of "\$C")
	[ "\$(served_serial)" = "\$first" ] && say "first issuance served"
	pid=\$(master_pid)
	# Not due: uacme exits 1 and the hook does not run.
	acme issue "\$HOST" && \$HOOK "\$HOST"; say "not due=\$?"

	# 2. A forced renewal, a client handshaking back to back across it
	# (a second after the first issuance: uacme refuses two in one).
	sleep 1
	handshakes_start
	handshakes_phase during
	acme --force issue "\$HOST" && \$HOOK "\$HOST"; say "renew=\$?"
	second=\$(serial_of "\$C")
	handshakes_settle "\$second"
	handshakes_wait after 3
	handshakes_report "\$first" "\$second"
	[ "\$second" != "\$first" ] && say "uacme renewed"
	[ "\$(served_serial)" = "\$second" ] && say "renewal served"
	[ "\$(master_pid)" = "\$pid" ] && say "same master"
	verdict

	# 3. A broken renewal: an unrelated key swapped in between uacme's
	# write and the hook.  uacme has finished (0) before the hook runs:
	# the cron line's status is the hook's.
	sleep 1
	state=\$(postfix_state)
	acme --force issue "\$HOST" && cp "\$PKI/unrelated.key" "\$K" && \$HOOK "\$HOST"; say "broken renew=\$?"
	[ "\$(postfix_state)" = "\$state" ] && say "/etc/postfix unchanged"
	third=\$(serial_of "\$C")
	[ "\$third" != "\$second" ] && say "uacme renewed again"
	[ "\$(served_serial)" = "\$second" ] && say "old serial still served"
	[ "\$(master_pid)" = "\$pid" ] && say "same master"
	refused_reported
	SCENARIO
	assert_success
	assert_output --partial "@@ register=0"
	assert_output --partial "@@ issue=0"
	assert_output --partial "@@ bundle root:root 600"
	assert_output --partial "@@ key: (2048 bit, 2 primes)"
	assert_output --partial "@@ start=0"
	assert_output --partial "Verification: OK"
	assert_output --partial "Verified peername: mail.example.org"
	assert_output --partial "@@ first issuance served"
	assert_output --partial "@@ not due=1"
	assert_output --partial "@@ renew=0"
	assert_handshakes
	assert_output --partial "@@ uacme renewed"
	assert_output --partial "@@ renewal served"
	assert_output --partial "key.pem: private key does not match public key in certificate"
	assert_output --partial "@@ broken renew=65"
	assert_output --partial "@@ uacme renewed again"
	assert_output --partial "@@ /etc/postfix unchanged"
	assert_output --partial "@@ old serial still served"
	assert_output --regexp "@@ json: .*renewal refused since 20[0-9-]+T[0-9:]+Z: .*key.pem: private key does not match"
	assert_output --partial "@@ nagios=2"
	assert_output --partial "@@ check names the refusal"
	assert_output --partial "POSTFIX-TLS CRITICAL - 1 critical, 1 warning"
	run grep -c "@@ same master" <<<"$output"
	assert_output 2
}
