#!/usr/bin/env bats
# Issue 12, part 1, end to end: after every start, restart and reload the
# OpenRC hook runs "postfix-tls-setup probe", which tries each TLS
# listener of the running Postfix (STARTTLS on 25 and 587, TLS from the
# first byte on 465, each SNI name, each key algorithm) as a verifying
# client.  Judged against real smtpd 3.7 in private worlds (real OpenRC,
# real master and smtpd processes, their log).
#
# Measured by hand in these worlds, with no helper in the way: with
# smtpd_tls_protocols excluding every version, master starts, 25 and 587
# advertise STARTTLS, and each handshake ends in the client's "tlsv1
# alert protocol version" while smtpd logs
#   SSL_accept error from localhost[127.0.0.1]: -1
#   warning: TLS library problem: error:0A0000BF:SSL routines::no protocols available
# The file checks pass (the files are fine), so only a handshake sees it.
# 465 (wrapper mode) uses smtpd_tls_mandatory_protocols and still works.

load ../helpers

setup_file() {
	pki_common
	pki_cert a.example.net inter2 server
	pki_cert b.example.net inter2 server
	pki_rsa_lineage
	# An RSA-PSS leaf for $HOST, beside the ECDSA one (its own directory,
	# as pki_rsa_lineage's).
	mkdir -p "$PKI/pss"
	cp "$PKI/inter2.pem" "$PKI/inter2.key" "$PKI/pss/"
	PKI=$PKI/pss pki_cert "$HOST" inter2 server RSA-PSS
	cp "$PKI/pss/$HOST.pem" "$PKI/pss.pem"
	cp "$PKI/pss/$HOST.key" "$PKI/pss.key"
}

setup() {
	need_root
	# shellcheck disable=SC2034 # world() in helpers.bash uses it
	T=$BATS_TEST_TMPDIR
}

# In the world: Postfix on 25, submission on 587 and submissions on 465;
# probes counted from smtpd's own log lines, which postlogd may write a
# moment later (so wait for the count, 5 s at most).
THREE='
three_listeners() {
	make_postfix /etc/postfix 127.0.0.1
	use_tls "$HOST" inter1 inter2
	tune /etc/conf.d/postfix-tls-setup
	postconf -M "submission/inet=submission inet n - n - - smtpd"
	add_wrapper_service /etc/postfix
}
# probes_seen N: the log shows N STARTTLS probes and N/2 wrapper probes.
probes_seen() {
	local starttls wrapped _
	for _ in $(seq 50); do
		starttls=$(grep -c "disconnect from localhost\[127.0.0.1\] ehlo=1 starttls=1 quit=1 commands=3" /var/log/postfix.log)
		wrapped=$(grep -c "disconnect from localhost\[127.0.0.1\] quit=1 commands=1$" /var/log/postfix.log)
		[ "$starttls" -ge "$1" ] && [ "$wrapped" -ge $(($1 / 2)) ] && break
		sleep 0.1
	done
	echo "starttls=$starttls wrapped=$wrapped"
}
'

@test "a good start, restart and reload are each followed by one quiet handshake per listener, and POSTFIX_TLS_PROBE=off makes none" {
	run world <<-SCENARIO
	$THREE
	three_listeners
	rc-service postfix start; say "start=\$?"
	say "after start: \$(probes_seen 2)"
	rc-service postfix restart; say "restart=\$?"
	say "after restart: \$(probes_seen 4)"
	rc-service postfix reload; say "reload=\$?"
	say "after reload: \$(probes_seen 6)"
	echo POSTFIX_TLS_PROBE=off >>/etc/conf.d/postfix-tls-setup
	rc-service postfix restart; say "off-restart=\$?"
	sleep 1
	say "after off: \$(probes_seen 6)"
	SCENARIO
	assert_success
	assert_output --partial "@@ start=0"
	assert_output --partial "@@ after start: starttls=2 wrapped=1"
	assert_output --partial "@@ restart=0"
	assert_output --partial "@@ after restart: starttls=4 wrapped=2"
	assert_output --partial "@@ reload=0"
	assert_output --partial "@@ after reload: starttls=6 wrapped=3"
	assert_output --partial "@@ off-restart=0"
	assert_output --partial "@@ after off: starttls=6 wrapped=3"
	# A good start says nothing of the probe.
	refute_output --partial "postfix-tls-setup:"
	refute_output --partial "ERROR"
}

@test "protocol settings that make every STARTTLS handshake fail are reported after the start; POSTFIX_TLS_PROBE=stop stops Postfix again after a start and after a reload" {
	run world <<-SCENARIO
	$THREE
	three_listeners
	postconf -e 'smtpd_tls_protocols = !SSLv2, !SSLv3, !TLSv1, !TLSv1.1, !TLSv1.2, !TLSv1.3'
	touch -d '1 hour ago' /etc/postfix/main.cf
	rc-service postfix start; say "warn-start=\$?"
	running && say "warn: running" || say "warn: stopped"
	rc-service postfix stop >/dev/null
	echo POSTFIX_TLS_PROBE=stop >>/etc/conf.d/postfix-tls-setup
	rc-service postfix start; say "stop-start=\$?"
	running && say "stop: running" || say "stop: stopped"
	rc-service postfix status >/dev/null; say "status=\$?"
	postconf -e 'smtpd_tls_protocols = !SSLv2, !SSLv3'
	touch -d '1 hour ago' /etc/postfix/main.cf
	rc-service postfix start; say "good-start=\$?"
	postconf -e 'smtpd_tls_protocols = !SSLv2, !SSLv3, !TLSv1, !TLSv1.1, !TLSv1.2, !TLSv1.3'
	touch -d '1 hour ago' /etc/postfix/main.cf
	rc-service postfix reload; say "stop-reload=\$?"
	running && say "reload: running" || say "reload: stopped"
	rc-service postfix status >/dev/null; say "reload-status=\$?"
	SCENARIO
	assert_success
	assert_output --partial "@@ warn-start=0"
	assert_output --partial "@@ warn: running"
	# smtpd's alert, or (the helper slowed down by valgrind) its close.
	local why='\((tlsv1 alert protocol version|unexpected eof while reading)\)'
	assert_output --regexp " \* postfix-tls-setup: smtp/inet: 127\.0\.0\.1:25: STARTTLS: the TLS handshake failed $why"
	assert_output --regexp " \* postfix-tls-setup: submission/inet: 127\.0\.0\.1:587: STARTTLS: the TLS handshake failed $why"
	refute_output --partial "submissions/inet: 127.0.0.1:465"
	assert_output --regexp "@@ stop-start=[1-9]"
	assert_output --partial " * postfix-tls-setup: TLS failed after the start (exit 76); stopping postfix again, as POSTFIX_TLS_PROBE=stop asks"
	assert_output --partial "@@ stop: stopped"
	assert_output --partial "@@ status=3"
	assert_output --partial "@@ good-start=0"
	assert_output --regexp "@@ stop-reload=[1-9]"
	assert_output --partial " * postfix-tls-setup: TLS failed after the reload (exit 76); stopping postfix again, as POSTFIX_TLS_PROBE=stop asks"
	assert_output --partial "@@ reload: stopped"
	assert_output --partial "@@ reload-status=3"
}

@test "by hand, probe tries each key algorithm and each SNI name, and names a chain other anchors do not verify" {
	run world <<-SCENARIO
	make_postfix /etc/postfix 127.0.0.1
	use_tls "\$HOST" inter1 inter2
	dual_bundles
	sni_two
	touch -d '1 hour ago' /etc/postfix/main.cf
	rc-service postfix start; say "start=\$?"
	postfix-tls-setup probe; say "probe=\$?"
	postfix-tls-setup probe --cafile "\$PKI/inter1.pem" 2>&1 | sed 's/^/@@ anchors: /'
	SCENARIO
	assert_success
	assert_output --partial "@@ start=0"
	assert_output --regexp "ok: smtp/inet, RSA certificate: 127.0.0.1:25: STARTTLS, TLSv1.3, [A-Z0-9_]+, /O=Test/CN=$HOST, RSA-2048, verified"
	assert_output --regexp "ok: smtp/inet, ECDSA certificate: 127.0.0.1:25: STARTTLS, TLSv1.3, [A-Z0-9_]+, /O=Test/CN=$HOST, ECDSA-256, verified"
	assert_output --regexp "ok: SNI a.example.net on smtp/inet: 127.0.0.1:25: STARTTLS, TLSv1.3, [A-Z0-9_]+, /O=Test/CN=a.example.net, ECDSA-256, verified"
	assert_output --regexp "ok: SNI b.example.net on smtp/inet: 127.0.0.1:25: STARTTLS, TLSv1.3, [A-Z0-9_]+, /O=Test/CN=b.example.net, ECDSA-256, verified"
	assert_output --partial "@@ probe=0"
	assert_output --partial "@@ anchors: postfix-tls-setup: smtp/inet, RSA certificate: 127.0.0.1:25: STARTTLS: the chain served for /O=Test/CN=$HOST does not verify: unable to get issuer certificate (an intermediate CA certificate is missing or wrong"
	assert_output --partial "@@ anchors: postfix-tls-setup: SNI b.example.net on smtp/inet: 127.0.0.1:25: STARTTLS: the chain served for /O=Test/CN=b.example.net does not verify"
}

@test "a listener nothing answers on is a warning naming it, and one that never greets is given up on within the probe timeout" {
	run world <<-SCENARIO
	$THREE
	three_listeners
	postconf -M "127.0.0.1:2525/inet=127.0.0.1:2525 inet n - n - - smtpd"
	postconf -M "mail.example.org:2526/inet=mail.example.org:2526 inet n - n - - smtpd"
	echo POSTFIX_TLS_PROBE_TIMEOUT=1 >>/etc/conf.d/postfix-tls-setup
	socat -u TCP-LISTEN:2525,bind=127.0.0.1,reuseaddr,fork /dev/null &
	wait_port 127.0.0.1 2525
	timeout 10 postfix-tls-setup probe; say "probe=\$?"
	SCENARIO
	assert_success
	assert_output --partial "postfix-tls-setup: warning: smtp/inet: 127.0.0.1:25: cannot connect (Connection refused): not reachable from this host (bound to another address or network namespace?); not checked"
	assert_output --partial "postfix-tls-setup: warning: submission/inet: 127.0.0.1:587: cannot connect (Connection refused): not reachable"
	assert_output --partial "postfix-tls-setup: warning: submissions/inet: 127.0.0.1:465: cannot connect (Connection refused): not reachable"
	assert_output --partial "postfix-tls-setup: warning: 127.0.0.1:2525/inet: 127.0.0.1:2525: no complete answer waiting for the greeting within 1 seconds (POSTFIX_TLS_PROBE_TIMEOUT)"
	assert_output --partial "postfix-tls-setup: warning: mail.example.org:2526/inet: \"mail.example.org\" is a host name, not an address, and names are not looked up at boot; not checked (name the address in master.cf or inet_interfaces)"
	assert_output --partial "@@ probe=0"
}

@test "a leaf renewed on disk that the running smtpd does not serve yet is named by probe, and the reload's own probe finds it served" {
	run world <<-SCENARIO
	$THREE
	three_listeners
	rc-service postfix start; say "start=\$?"
	# The leaf renewed (same key, new serial) and deployed by hand, with
	# no reload: each listener's idle smtpd still serves the old one.
	openssl x509 -req -in "\$PKI/\$HOST.csr" -CA "\$PKI/inter2.pem" \
		-CAkey "\$PKI/inter2.key" -days 90 -extfile "\$PKI/\$HOST.ext" \
		-set_serial 0x4242 -out /etc/ssl/mail/cert.pem 2>/dev/null
	postfix-tls-setup deploy >/dev/null; say "deploy=\$?"
	postfix-tls-setup probe 2>&1 | sed 's/^/@@ stale: /'
	rc-service postfix reload; say "reload=\$?"
	postfix-tls-setup probe 2>&1 | sed 's/^/@@ reloaded: /'
	echo garbage >/etc/postfix/certificate.pem
	postfix-tls-setup probe 2>&1 | sed 's/^/@@ broken: /'
	SCENARIO
	assert_success
	assert_output --partial "@@ start=0"
	assert_output --partial "@@ deploy=0"
	local port
	for port in smtp/inet:25:STARTTLS submission/inet:587:STARTTLS submissions/inet:465:; do
		IFS=: read -r svc num how <<<"$port"
		assert_output --partial "@@ stale: postfix-tls-setup: $svc: 127.0.0.1:$num: ${how:+$how: }serves /O=Test/CN=$HOST, which is not the certificate on disk: a process that has not picked up the last change (run \"postfix reload\", or restart Postfix)"
		assert_output --regexp "@@ reloaded: ok: $svc: 127.0.0.1:$num: "
	done
	# The reload's own probe found the new leaf served: nothing said.
	assert_output --partial "@@ reload=0"
	refute_output --partial " * postfix-tls-setup:"
	# Files broken after the start: no advice to reload (which would
	# serve nothing), the check named instead.
	assert_output --partial "@@ broken: postfix-tls-setup: smtp/inet: 127.0.0.1:25: STARTTLS: serves /O=Test/CN=$HOST, but the files on disk cannot be read now, so a reload or restart would serve nothing (run postfix-tls-setup check)"
}

@test "SNI keys smtpd never matches are not tried (check warns), a name in two maps is tried once against the first, and an SNI entry for myhostname does not stand in for the default chain" {
	run world <<-SCENARIO
	make_postfix /etc/postfix 127.0.0.1
	use_tls "\$HOST" inter1 inter2
	tune /etc/conf.d/postfix-tls-setup
	sni_two
	printf '%s\n' "\$HOST /etc/ssl/sni/a.example.net.key /etc/ssl/sni/a.example.net.pem" \
		"*.example.net /etc/ssl/sni/b.example.net.key /etc/ssl/sni/b.example.net.pem" >>/etc/postfix/sni
	postmap -F hash:/etc/postfix/sni
	echo "a.example.net /etc/ssl/sni/b.example.net.key /etc/ssl/sni/b.example.net.pem" >/etc/postfix/sni2
	postmap -F hash:/etc/postfix/sni2
	postconf -e "tls_server_sni_maps = hash:/etc/postfix/sni, hash:/etc/postfix/sni2"
	touch -d '1 hour ago' /etc/postfix/main.cf
	rc-service postfix start; say "start=\$?"
	postfix-tls-setup probe; say "probe=\$?"
	SCENARIO
	assert_success
	assert_output --partial "@@ start=0"
	assert_output --partial " * postfix-tls-setup: warning: /etc/postfix/sni:4: smtpd never matches the SNI name \"*.example.net\": it is not a valid host name, so peers asking for it get the default certificate (write the name itself: no wildcard, no trailing dot)"
	assert_output --regexp "ok: smtp/inet: 127.0.0.1:25: STARTTLS, TLSv1.3, [A-Z0-9_]+, /O=Test/CN=$HOST, ECDSA-256, verified"
	assert_output --regexp "ok: SNI a.example.net on smtp/inet: 127.0.0.1:25: STARTTLS, TLSv1.3, [A-Z0-9_]+, /O=Test/CN=a.example.net, "
	assert_output --regexp "ok: SNI $HOST on smtp/inet: 127.0.0.1:25: STARTTLS, TLSv1.3, [A-Z0-9_]+, /O=Test/CN=a.example.net, "
	assert_equal "$(grep -c 'SNI a.example.net on smtp/inet' <<<"$output")" 1
	refute_output --partial "SNI *.example.net on"
	assert_output --partial "@@ probe=0"
}

@test "an RSA-PSS leaf beside an ECDSA one is asked for by its own signature schemes and served" {
	run world <<-SCENARIO
	make_postfix /etc/postfix 127.0.0.1
	use_tls "\$HOST" inter1 inter2
	dual_bundles
	cp "\$PKI/pss.pem" /etc/ssl/rsa/cert.pem
	cp "\$PKI/pss.key" /etc/ssl/rsa/key.pem
	# ECDSA first: the RSA-PSS leaf is then the one only its own schemes
	# get (a client offering OpenSSL's default list is served ECDSA).
	postconf -e "smtpd_tls_chain_files = /etc/postfix/ecdsa.pem, /etc/postfix/rsa.pem"
	touch -d '1 hour ago' /etc/postfix/main.cf
	rc-service postfix start; say "start=\$?"
	postfix-tls-setup probe; say "probe=\$?"
	SCENARIO
	assert_success
	assert_output --partial "@@ start=0"
	refute_output --partial " * postfix-tls-setup: smtp/inet"
	assert_output --regexp "ok: smtp/inet, RSA certificate: 127.0.0.1:25: STARTTLS, TLSv1.3, [A-Z0-9_]+, /O=Test/CN=$HOST, RSA-2048, verified"
	assert_output --regexp "ok: smtp/inet, ECDSA certificate: 127.0.0.1:25: STARTTLS, TLSv1.3, [A-Z0-9_]+, /O=Test/CN=$HOST, ECDSA-256, verified"
	assert_output --partial "@@ probe=0"
}

@test "by hand, probe names listeners that do not offer STARTTLS, and ones that answer it with 454 after a key was swapped behind a plain postfix reload" {
	run world <<-SCENARIO
	$THREE
	three_listeners
	rc-service postfix start; say "start=\$?"
	postconf -e 'smtpd_discard_ehlo_keywords = silent-discard, starttls'
	postfix reload >/dev/null 2>&1; sleep 1
	postfix-tls-setup probe 2>&1 | sed 's/^/@@ discard: /'
	postconf -X smtpd_discard_ehlo_keywords
	cp "\$PKI/a.example.net.key" /etc/ssl/mail/key.pem
	postfix reload >/dev/null 2>&1; sleep 1
	postfix-tls-setup probe; say "probe=\$?"
	SCENARIO
	assert_success
	assert_output --partial "@@ start=0"
	assert_output --partial "@@ discard: postfix-tls-setup: smtp/inet: 127.0.0.1:25: STARTTLS: does not offer STARTTLS, so every sender sends in cleartext"
	assert_output --partial "@@ discard: postfix-tls-setup: submission/inet: 127.0.0.1:587: STARTTLS: does not offer STARTTLS"
	assert_output --regexp "@@ discard: ok: submissions/inet: 127.0.0.1:465: TLS, "
	assert_output --partial "postfix-tls-setup: smtp/inet: 127.0.0.1:25: STARTTLS: answered STARTTLS with: 454 4.7.0 TLS not available due to local problem (smtpd could not load its certificate or key: see the Postfix log)"
	assert_output --partial "postfix-tls-setup: submission/inet: 127.0.0.1:587: STARTTLS: answered STARTTLS with: 454 4.7.0 TLS not available due to local problem"
	assert_output --partial "postfix-tls-setup: submissions/inet: 127.0.0.1:465: the TLS handshake failed"
	assert_output --partial "@@ probe=76"
}
