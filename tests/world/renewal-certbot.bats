#!/usr/bin/env bats
# Issue 20 end to end: a real ACME server (pebble), a real client
# (certbot, run with cron's environment), real OpenRC and real Postfix in
# a private world (tests/world.sh).  certbot's deploy hook is ours
# (files/hooks/certbot, as make install installs it); the tuning file
# names certbot's lineage and main.cf the helper's own bundle, which
# carries the key (smtpd_tls_chain_files): Postfix never reads certbot's
# files.  A verifying openssl s_client, trusting pebble's root, judges
# what is served.

load ../helpers

setup_file() {
	command -v pebble >/dev/null && command -v certbot >/dev/null ||
		skip "needs pebble and certbot (tests/deps.sh installs them)"
	export PKI=$BATS_FILE_TMPDIR/pki
	mkdir -p "$PKI"
	# pebble's own listener certificate, made here, never committed.
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
		-subj /CN=localhost -addext "subjectAltName=DNS:localhost,IP:127.0.0.1" \
		-days 2 -keyout "$PKI/pebble.key" -out "$PKI/pebble.pem" 2>/dev/null
	# An unrelated key, swapped in behind certbot's back.
	openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 \
		-out "$PKI/unrelated.key" 2>/dev/null
}

setup() {
	need_root
	# shellcheck disable=SC2034 # world() in helpers.bash uses it
	T=$BATS_TEST_TMPDIR
}

# The scenario's common part: pebble up (stopped by the trap, with
# world.sh's own cleanup), its root fetched, Postfix at 127.0.0.1 serving
# the bundle with the key in it, the tuning file naming certbot's lineage.
ACME_WORLD='
cat >/run/pebble.json <<-JSON
{"pebble": {"listenAddress": "127.0.0.1:14000",
  "managementListenAddress": "127.0.0.1:15000",
  "certificate": "$PKI/pebble.pem", "privateKey": "$PKI/pebble.key",
  "httpPort": 5002, "tlsPort": 5001, "ocspResponderURL": "",
  "externalAccountBindingRequired": false}}
JSON
PEBBLE_VA_ALWAYS_VALID=1 PEBBLE_VA_NOSLEEP=1 PEBBLE_WFE_NONCEREJECT=0 \
	pebble -config /run/pebble.json >/run/pebble.log 2>&1 &
pebble_pid=$!
trap "kill \$pebble_pid 2>/dev/null; wait \$pebble_pid 2>/dev/null; cleanup" EXIT
wait_port 127.0.0.1 14000 && wait_port 127.0.0.1 15000
curl -sf --cacert "$PKI/pebble.pem" https://127.0.0.1:15000/roots/0 >/etc/ssl/pebble-root.pem
say "root: $(openssl x509 -in /etc/ssl/pebble-root.pem -noout -subject)"
make_postfix /etc/postfix 127.0.0.1
postconf -X smtpd_tls_cert_file smtpd_tls_key_file
postconf -e "smtpd_tls_chain_files = /etc/postfix/certificate.pem"
touch -d "1 hour ago" /etc/postfix/main.cf
L=/etc/letsencrypt/live/$HOST
cat >/etc/conf.d/postfix-tls-setup <<-CONF
POSTFIX_TLS_CERT=$L/cert.pem
POSTFIX_TLS_KEY=$L/privkey.pem
POSTFIX_TLS_CHAIN=$L/chain.pem
POSTFIX_TLS_BUNDLE=/etc/postfix/certificate.pem
POSTFIX_TLS_CAFILE=/etc/ssl/pebble-root.pem
CONF
# certbot as cron runs it: env -i, PATH=/usr/bin:/bin.
acme() {
	env -i PATH=/usr/bin:/bin REQUESTS_CA_BUNDLE="$PKI/pebble.pem" \
		/usr/bin/certbot --non-interactive --agree-tos \
		--register-unsafely-without-email \
		--server https://127.0.0.1:14000/dir "$@"
}
# What a verifying client gets: the verdict and the leaf serial.
verdict() {
	wait_port 127.0.0.1 25 &&
	timeout 20 openssl s_client -starttls smtp -connect 127.0.0.1:25 \
		-CAfile /etc/ssl/pebble-root.pem -verify_return_error \
		-verify_hostname "$HOST" -brief </dev/null 2>&1 | grep -E "^(Verification|Verified peername)"
}
served_serial() {
	timeout 20 openssl s_client -starttls smtp -connect 127.0.0.1:25 \
		</dev/null 2>/dev/null | openssl x509 -noout -serial
}
disk_serial() {
	openssl x509 -in "$L/cert.pem" -noout -serial
}
master_pid() {
	tr -d " " </var/spool/postfix/pid/master.pid
}
'

@test "certbot: first issuance is served and verifies against pebble's root; a forced renewal is served by the same master; a broken one is refused and the old serial stays served" {
	run world <<-SCENARIO
	$ACME_WORLD
	# 1. First issuance: the hook deploys; Postfix is not running yet.
	acme certonly --standalone -d "\$HOST" \
		--deploy-hook /usr/share/postfix-tls-setup/hooks/certbot; say "issue=\$?"
	stat -c '@@ bundle %U:%G %a' /etc/postfix/certificate.pem
	rc-service postfix start; say "start=\$?"
	verdict
	first=\$(disk_serial)
	[ "\$(served_serial)" = "\$first" ] && say "first issuance served"
	pid=\$(master_pid)

	# 2. A forced renewal: the saved renew_hook deploys and reloads.
	acme renew --force-renewal --no-random-sleep-on-renew; say "renew=\$?"
	second=\$(disk_serial)
	[ "\$second" != "\$first" ] && say "certbot renewed"
	sleep 1
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
	acme renew --force-renewal --no-random-sleep-on-renew --deploy-hook /run/swap-hook; say "broken renew=\$?"
	say "hook status=\$(cat /run/hook-status)"
	third=\$(disk_serial)
	[ "\$third" != "\$second" ] && say "certbot renewed again"
	[ "\$(served_serial)" = "\$second" ] && say "old serial still served"
	[ "\$(master_pid)" = "\$pid" ] && say "same master"
	postfix-tls-setup check --json | python3 -c '
	import json, sys
	d = json.load(sys.stdin)
	for f in d["findings"]:
	    if "renewal refused since" in f["message"]:
	        print("@@ json:", f["message"])'
	postfix-tls-setup check --nagios; say "nagios=\$?"
	SCENARIO
	assert_success
	assert_output --partial "@@ issue=0"
	assert_output --partial "@@ bundle root:root 600"
	assert_output --partial "@@ start=0"
	assert_output --partial "Verification: OK"
	assert_output --partial "Verified peername: mail.example.org"
	assert_output --partial "@@ first issuance served"
	assert_output --partial "@@ renew=0"
	assert_output --partial "@@ certbot renewed"
	assert_output --partial "@@ renewal served"
	assert_output --partial "@@ broken renew=0"
	assert_output --partial "@@ hook status=65"
	assert_output --partial "private key does not match public key in certificate"
	assert_output --partial "@@ certbot renewed again"
	assert_output --partial "@@ old serial still served"
	assert_output --regexp "@@ json: .*renewal refused since 20[0-9-]+T[0-9:]+Z: .*privkey[0-9]*.pem: private key does not match"
	assert_output --partial "@@ nagios=2"
	run grep -c "@@ same master" <<<"$output"
	assert_output 2
}
