#!/usr/bin/env bats
# End to end with the real things: OpenRC's rc-service runs Gentoo-shaped
# /etc/init.d/postfix, our hook runs the helper first, real Postfix serves
# STARTTLS, and a verifying openssl s_client judges the result.  Each test
# runs in a private world (tests/world.sh): nothing on the machine changes
# and every process started there is gone when the test ends.

load ../helpers

setup_file() {
	pki_common
	pki_cert other.example.org inter2 server
	pki_cert expired.example.org inter2 server ec 30 -400d
	# 10 days left of a year and 10 days (expiry-lifetime.bats).
	pki_cert soon.example.org inter2 server ec 375 -8760h
	pki_cert relay.example.org inter2 server
	openssl pkey -in "$PKI/$HOST.key" -aes256 -passout pass:secret \
		-out "$PKI/encrypted.key"
	# A renewal: same name, new key.
	mkdir -p "$PKI/renewed"
	PKI=$PKI/renewed pki_key "$HOST" ec
	cp "$PKI/inter2.pem" "$PKI/inter2.key" "$PKI/renewed/"
	PKI=$PKI/renewed pki_cert "$HOST" inter2 server
	cp "$PKI/renewed/$HOST.pem" "$PKI/renewed.pem"
	cp "$PKI/renewed/$HOST.key" "$PKI/renewed.key"
}

setup() {
	need_root
	# shellcheck disable=SC2034 # world() in helpers.bash uses it
	T=$BATS_TEST_TMPDIR
}

# The usual start of a scenario: Postfix at 127.0.0.1 with a good chain
# given out of order, and the helper tuned to it.
GOOD_WORLD='
make_postfix /etc/postfix 127.0.0.1
use_tls "$HOST" inter1 inter2
tune /etc/conf.d/postfix-tls-setup
'

@test "rc-service postfix start assembles the chain and a verifying client accepts it" {
	run world <<-SCENARIO
	$GOOD_WORLD
	rc-service postfix start; say "start=\$?"
	running && say "postfix running"
	starttls 127.0.0.1
	say "served: \$(served_chain 127.0.0.1:25)"
	stat -c '@@ bundle %U:%G %a' /etc/postfix/certificate.pem
	SCENARIO
	assert_success
	assert_output --partial "wrote /etc/postfix/certificate.pem (3 certificates)"
	assert_output --partial "@@ start=0"
	assert_output --partial "@@ postfix running"
	assert_output --partial "Verification: OK"
	assert_output --partial "Verified peername: $HOST"
	assert_output --partial "@@ served: $HOST inter2 inter1 "
	assert_output --partial "@@ bundle root:root 600"
}

# refused_start BREAK: a good bundle in place, then BREAK, then start.
# Asserts the refusal: rc-service fails, Postfix is not running, the
# eerror line is there, the bundle is byte for byte the old one.
refused_start() {
	run world <<-SCENARIO
	$GOOD_WORLD
	postfix-tls-setup -q deploy
	old=\$(sha256sum </etc/postfix/certificate.pem)
	$1
	rc-service postfix start; say "start=\$?"
	running && say "postfix running" || say "postfix stopped"
	[ "\$old" = "\$(sha256sum </etc/postfix/certificate.pem)" ] && say "bundle intact"
	SCENARIO
	assert_success
	refute_output --partial "@@ start=0"
	assert_output --regexp "@@ start=[1-9]"
	assert_output --partial "@@ postfix stopped"
	assert_output --partial "@@ bundle intact"
	refute_output --partial "Starting postfix"
}

@test "a key that does not match refuses the start" {
	refused_start 'cp "$PKI/other.example.org.key" /etc/ssl/mail/key.pem'
	assert_output --partial " * postfix-tls-setup: /etc/ssl/mail/key.pem: private key does not match public key in certificate"
	assert_output --partial " * postfix-tls-setup refused (exit 65) for /etc/postfix; Postfix was left as it was"
}

@test "a passphrase-protected key refuses the start" {
	refused_start 'cp "$PKI/encrypted.key" /etc/ssl/mail/key.pem'
	assert_output --partial " * postfix-tls-setup: /etc/ssl/mail/key.pem: private key is protected by a passphrase"
}

@test "a missing intermediate refuses the start" {
	refused_start 'cp "$PKI/inter2.pem" /etc/ssl/mail/chain.pem'
	assert_output --partial " * postfix-tls-setup: /etc/ssl/mail/cert.pem: certificate chain does not verify as a TLS server: unable to get local issuer certificate"
}

@test "an expired certificate refuses the start" {
	refused_start 'use_tls expired.example.org inter2 inter1'
	assert_output --partial " * postfix-tls-setup: /etc/ssl/mail/cert.pem: certificate chain does not verify as a TLS server: certificate has expired"
}

@test "Postfix built without USE=ssl refuses the start" {
	refused_start 'echo "amd64 berkdb pam" >/var/db/pkg/mail-mta/postfix-3.8.4/USE'
	assert_output --partial " * postfix-tls-setup: /var/db/pkg/mail-mta: mail-mta/postfix-3.8.4 was built without the ssl USE flag"
}

@test "an unsafe directory holding the key refuses the start" {
	refused_start 'chown nobody /etc/ssl/mail'
	assert_output --partial " * postfix-tls-setup: /etc/ssl/mail: directory is owned by nobody, not root"
	assert_equal "$(grep -c 'directory is owned by nobody' <<<"$output")" 1
}

@test "a renewal with a broken certificate is refused at reload and clients keep the old one; a good one is taken" {
	run world <<-SCENARIO
	$GOOD_WORLD
	rc-service postfix start; say "start=\$?"
	fp() { timeout 20 openssl s_client -starttls smtp -connect 127.0.0.1:25 </dev/null 2>/dev/null | openssl x509 -noout -fingerprint -sha256; }
	say "before \$(fp)"
	say "old-leaf \$(openssl x509 -in "\$PKI/\$HOST.pem" -noout -fingerprint -sha256)"
	cp "\$PKI/renewed.pem" /etc/ssl/mail/cert.pem     # new certificate, old key
	rc-service postfix reload; say "broken-reload=\$?"
	running && say "still running"
	sleep 1
	say "after-broken \$(fp)"
	cp "\$PKI/renewed.key" /etc/ssl/mail/key.pem
	rc-service postfix reload; say "good-reload=\$?"
	sleep 2
	say "after-good \$(fp)"
	say "new-leaf \$(openssl x509 -in "\$PKI/renewed.pem" -noout -fingerprint -sha256)"
	starttls 127.0.0.1
	SCENARIO
	assert_success
	assert_output --partial "@@ start=0"
	assert_output --regexp "@@ broken-reload=[1-9]"
	assert_output --partial " * postfix-tls-setup: /etc/ssl/mail/key.pem: private key does not match"
	assert_output --partial "@@ still running"
	assert_output --partial "@@ good-reload=0"
	old=$(sed -n 's/^@@ old-leaf sha256 Fingerprint=//p' <<<"$output")
	new=$(sed -n 's/^@@ new-leaf sha256 Fingerprint=//p' <<<"$output")
	[ -n "$old" ] && [ -n "$new" ] && [ "$old" != "$new" ]
	assert_output --partial "@@ before sha256 Fingerprint=$old"
	assert_output --partial "@@ after-broken sha256 Fingerprint=$old"
	assert_output --partial "@@ after-good sha256 Fingerprint=$new"
	assert_output --partial "Verification: OK"
}

@test "a restart with a broken certificate is refused before Postfix is stopped, and the old one is still served" {
	run world <<-SCENARIO
	$GOOD_WORLD
	printf "%s\n" POSTFIX_TLS_WARN_DAYS=3650 POSTFIX_TLS_WARN_LIFETIME=1/1 >>/etc/conf.d/postfix-tls-setup
	rc-service postfix start; say "start=\$?"
	cp "\$PKI/renewed.pem" /etc/ssl/mail/cert.pem     # new certificate, old key
	checks rc-service postfix restart
	running && say "still running"
	sleep 1
	say "served \$(timeout 20 openssl s_client -starttls smtp -connect 127.0.0.1:25 </dev/null 2>/dev/null | openssl x509 -noout -fingerprint -sha256)"
	say "old-leaf \$(openssl x509 -in "\$PKI/\$HOST.pem" -noout -fingerprint -sha256)"
	starttls 127.0.0.1
	SCENARIO
	assert_success
	assert_output --partial "@@ start=0"
	grep -qx '@@ rc-service postfix restart => [1-9][0-9]* checks=1' <<<"$output" || fail "the refused restart did not check exactly once"
	assert_output --partial " * postfix-tls-setup: /etc/ssl/mail/key.pem: private key does not match"
	assert_output --partial "@@ still running"
	old=$(sed -n 's/^@@ old-leaf sha256 Fingerprint=//p' <<<"$output")
	[ -n "$old" ]
	assert_output --partial "@@ served sha256 Fingerprint=$old"
	assert_output --partial "Verification: OK"
}

@test "a restart checks once, whether Postfix was running or stopped" {
	run world <<-SCENARIO
	$GOOD_WORLD
	printf "%s\n" POSTFIX_TLS_WARN_DAYS=3650 POSTFIX_TLS_WARN_LIFETIME=1/1 >>/etc/conf.d/postfix-tls-setup
	checks rc-service postfix start
	checks rc-service postfix restart
	checks rc-service postfix stop
	checks rc-service postfix restart
	running && say "postfix running"
	starttls 127.0.0.1
	SCENARIO
	assert_success
	assert_line "@@ rc-service postfix start => 0 checks=1"
	assert_line "@@ rc-service postfix restart => 0 checks=1"
	assert_line "@@ rc-service postfix stop => 0 checks=0"
	# The second restart, of a stopped Postfix: start_pre alone, checked.
	[ "$(grep -c '^@@ rc-service postfix restart => 0 checks=1$' <<<"$output")" -eq 2 ] ||
		fail "a restart did not check exactly once"
	assert_output --partial "@@ postfix running"
	assert_output --partial "Verification: OK"
}

# A restart of a stopped service runs start_pre alone, with RC_CMD=restart
# (measured, OpenRC 0.45): skipping the check there, as OpenRC's guide
# does, would start Postfix unchecked.
@test "a restart of a stopped Postfix with a broken certificate is refused, even after an earlier restart" {
	run world <<-SCENARIO
	$GOOD_WORLD
	rc-service postfix start; say "start=\$?"
	rc-service postfix restart; say "restart=\$?"
	rc-service postfix stop; say "stop=\$?"
	cp "\$PKI/other.example.org.key" /etc/ssl/mail/key.pem
	rc-service postfix restart; say "stopped-restart=\$?"
	running && say "postfix running" || say "postfix stopped"
	SCENARIO
	assert_success
	assert_output --partial "@@ start=0"
	assert_output --partial "@@ restart=0"
	assert_output --partial "@@ stop=0"
	assert_output --regexp "@@ stopped-restart=[1-9]"
	assert_output --partial " * postfix-tls-setup: /etc/ssl/mail/key.pem: private key does not match"
	assert_output --partial "@@ postfix stopped"
}

@test "the port-465 submissions service serves the same verified chain" {
	run world <<-SCENARIO
	$GOOD_WORLD
	add_wrapper_service /etc/postfix
	rc-service postfix start; say "start=\$?"
	wrapper 127.0.0.1 465
	say "served: \$(served_chain 127.0.0.1:465 wrapper)"
	SCENARIO
	assert_success
	assert_output --partial "@@ start=0"
	assert_output --partial "Verification: OK"
	assert_output --partial "@@ served: $HOST inter2 inter1 "
}

@test "postfix.out uses /etc/postfix.out and its own tuning file" {
	run world <<-SCENARIO
	$GOOD_WORLD
	ip addr add 127.0.0.2/32 dev lo
	HOST=relay.example.org make_postfix /etc/postfix.out 127.0.0.2
	postconf -c /etc/postfix.out -e "smtpd_tls_key_file = /etc/ssl/relay/key.pem"
	touch -d '1 hour ago' /etc/postfix.out/main.cf
	mkdir -p /etc/ssl/relay
	cp "\$PKI/relay.example.org.pem" /etc/ssl/relay/cert.pem
	cp "\$PKI/relay.example.org.key" /etc/ssl/relay/key.pem
	cat >/etc/conf.d/postfix-tls-setup.out <<-CONF
	POSTFIX_TLS_CERT=/etc/ssl/relay/cert.pem
	POSTFIX_TLS_KEY=/etc/ssl/relay/key.pem
	POSTFIX_TLS_CHAIN=/etc/ssl/mail/chain.pem
	POSTFIX_TLS_CAFILE=\$PKI/root.pem
	CONF
	ln -s postfix /etc/init.d/postfix.out
	rc-service postfix start; say "start=\$?"
	rc-service postfix.out start; say "out-start=\$?"
	say "main: \$(served_chain 127.0.0.1:25)"
	say "out: \$(served_chain 127.0.0.2:25)"
	HOST=relay.example.org starttls 127.0.0.2
	SCENARIO
	assert_success
	assert_output --partial "wrote /etc/postfix.out/certificate.pem (3 certificates)"
	assert_output --partial "@@ start=0"
	assert_output --partial "@@ out-start=0"
	assert_output --partial "@@ main: $HOST inter2 inter1 "
	assert_output --partial "@@ out: relay.example.org inter2 inter1 "
	assert_output --partial "Verified peername: relay.example.org"
	refute_output --partial "warning"
}

@test "the hook switched off in the tuning file lets Postfix start unchecked, and says so" {
	run world <<-SCENARIO
	$GOOD_WORLD
	cp "\$PKI/other.example.org.key" /etc/ssl/mail/key.pem
	echo 'POSTFIX_TLS_HOOK="no"' >>/etc/conf.d/postfix-tls-setup
	rc-service postfix start; say "start=\$?"
	running && say "postfix running"
	[ -e /etc/postfix/certificate.pem ] || say "no bundle written"
	SCENARIO
	assert_success
	assert_output --partial " * postfix-tls-setup is switched off (POSTFIX_TLS_HOOK in /etc/conf.d/postfix-tls-setup:5): nothing was checked"
	assert_output --partial "@@ start=0"
	assert_output --partial "@@ postfix running"
	assert_output --partial "@@ no bundle written"
	refute_output --partial "postfix-tls-setup: "
}

@test "an admin's own /etc/conf.d/postfix is left alone and can switch the hook off" {
	run world <<-SCENARIO
	$GOOD_WORLD
	printf '# mine\nPOSTFIX_TLS_HOOK=no\nmy_setting="kept"\n' >/etc/conf.d/postfix
	before=\$(sha256sum </etc/conf.d/postfix)
	make -s -C "\$TOP" install-openrc PREFIX=/usr SYSCONFDIR=/etc >/dev/null
	[ "\$before" = "\$(sha256sum </etc/conf.d/postfix)" ] && say "conf.d/postfix untouched"
	rc-service postfix start; say "start=\$?"
	SCENARIO
	assert_success
	assert_output --partial "@@ conf.d/postfix untouched"
	assert_output --partial " * postfix-tls-setup is switched off (POSTFIX_TLS_HOOK in --hook): nothing was checked"
	assert_output --partial "@@ start=0"
}

@test "warnings show as ewarn and Postfix starts" {
	run world <<-SCENARIO
	$GOOD_WORLD
	use_tls soon.example.org inter2 inter1
	rc-service postfix start; say "start=\$?"
	running && say "postfix running"
	SCENARIO
	assert_success
	assert_output --regexp " \* postfix-tls-setup: warning: /etc/ssl/mail/cert.pem: certificate expires in (9|10) days"
	assert_output --partial "@@ start=0"
	assert_output --partial "@@ postfix running"
}

@test "rc-service postfix-tls check reports and changes nothing; start deploys" {
	run world <<-SCENARIO
	$GOOD_WORLD
	rc-service postfix-tls check; say "check=\$?"
	[ -e /etc/postfix/certificate.pem ] || say "check wrote nothing"
	rc-service postfix-tls start; say "start=\$?"
	[ -e /etc/postfix/certificate.pem ] && say "start deployed"
	cp "\$PKI/other.example.org.key" /etc/ssl/mail/key.pem
	rc-service postfix-tls check; say "broken-check=\$?"
	SCENARIO
	assert_success
	assert_output --partial "would write /etc/postfix/certificate.pem (3 certificates)"
	assert_output --partial "@@ check=0"
	assert_output --partial "@@ check wrote nothing"
	assert_output --partial "@@ start=0"
	assert_output --partial "@@ start deployed"
	assert_output --regexp "@@ broken-check=[1-9]"
	assert_output --partial " * postfix-tls-setup: /etc/ssl/mail/key.pem: private key does not match"
}

@test "an unexpected POSTFIX_TLS_HOOK refuses the start instead of switching the hook off" {
	run world <<-SCENARIO
	$GOOD_WORLD
	cp "\$PKI/other.example.org.key" /etc/ssl/mail/key.pem
	echo "POSTFIX_TLS_HOOK='yes'#default" >>/etc/conf.d/postfix-tls-setup
	rc-service postfix start; say "tuning-start=\$?"
	sed -i '\$d' /etc/conf.d/postfix-tls-setup
	echo 'POSTFIX_TLS_HOOK=enabled' >/etc/conf.d/postfix
	rc-service postfix start; say "conf.d-start=\$?"
	running && say "postfix running" || say "postfix stopped"
	SCENARIO
	assert_success
	assert_output --regexp "@@ tuning-start=[1-9]"
	assert_output --partial " * postfix-tls-setup: /etc/conf.d/postfix-tls-setup:5: POSTFIX_TLS_HOOK: text right after the closing quote"
	assert_output --regexp "@@ conf.d-start=[1-9]"
	assert_output --partial ' * postfix-tls-setup: --hook: POSTFIX_TLS_HOOK must be yes or no (or true/false, on/off, 1/0), not "enabled"'
	assert_output --partial "@@ postfix stopped"
	refute_output --partial "switched off"
}

@test "POSTFIX_TLS_SETUP in the tuning file replaces no helper, for postfix or the postfix-tls service" {
	run world <<-SCENARIO
	$GOOD_WORLD
	cp "\$PKI/other.example.org.key" /etc/ssl/mail/key.pem
	echo 'POSTFIX_TLS_SETUP=/bin/true' >>/etc/conf.d/postfix-tls-setup
	rc-service postfix start; say "start=\$?"
	rc-service postfix-tls start; say "service-start=\$?"
	running && say "postfix running" || say "postfix stopped"
	[ -e /etc/postfix/certificate.pem ] || say "no bundle written"
	SCENARIO
	assert_success
	assert_output --regexp "@@ start=[1-9]"
	assert_output --regexp "@@ service-start=[1-9]"
	assert_equal "$(grep -c ' \* postfix-tls-setup: /etc/conf.d/postfix-tls-setup:5: unknown setting POSTFIX_TLS_SETUP' <<<"$output")" 2
	assert_output --partial "@@ postfix stopped"
	assert_output --partial "@@ no bundle written"
}

@test "a tuning file another user owns refuses the start" {
	run world <<-SCENARIO
	$GOOD_WORLD
	chown nobody /etc/conf.d/postfix-tls-setup
	rc-service postfix start; say "start=\$?"
	running && say "postfix running" || say "postfix stopped"
	[ -e /etc/postfix/certificate.pem ] || say "no bundle written"
	SCENARIO
	assert_success
	assert_output --regexp "@@ start=[1-9]"
	assert_output --partial " * postfix-tls-setup refused (exit 77) for /etc/postfix"
	assert_output --partial " * postfix-tls-setup: /etc/conf.d/postfix-tls-setup: settings file owned by nobody, not root, so that user decides what runs as root (fix: chown root:root /etc/conf.d/postfix-tls-setup && chmod go-w /etc/conf.d/postfix-tls-setup)"
	assert_output --partial "@@ postfix stopped"
	assert_output --partial "@@ no bundle written"
}

@test "the postfix-tls service checks even when the hook is switched off" {
	run world <<-SCENARIO
	$GOOD_WORLD
	echo 'POSTFIX_TLS_HOOK=no' >>/etc/conf.d/postfix-tls-setup
	cp "\$PKI/other.example.org.key" /etc/ssl/mail/key.pem
	rc-service postfix-tls check; say "check=\$?"
	SCENARIO
	assert_success
	assert_output --regexp "@@ check=[1-9]"
	assert_output --partial " * postfix-tls-setup: /etc/ssl/mail/key.pem: private key does not match"
}

@test "a tuning file another user owns runs nothing as root, for postfix or the postfix-tls service" {
	run world <<-'SCENARIO'
	make_postfix /etc/postfix 127.0.0.1
	use_tls "$HOST" inter2 inter1
	tune /etc/conf.d/postfix-tls-setup
	chown nobody /etc/conf.d/postfix-tls-setup
	echo 'POSTFIX_TLS_WARN_DAYS=30; id -u >/run/ran-as' >>/etc/conf.d/postfix-tls-setup
	rc-service postfix-tls check; say "check=$?"
	rc-service postfix start; say "start=$?"
	[ -e /run/ran-as ] && say "the user's command ran as uid $(cat /run/ran-as)"
	true
	SCENARIO
	assert_success
	assert_output --regexp "@@ check=[1-9]"
	assert_output --regexp "@@ start=[1-9]"
	assert_output --partial "/etc/conf.d/postfix-tls-setup: settings file owned by nobody, not root"
	refute_output --partial "the user's command ran"
}
