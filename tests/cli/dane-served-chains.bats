#!/usr/bin/env bats
# Issue 19, holes 1, 2 and 7: the DANE guard judges the chains as each
# port-25 listener serves them, as a DANE sender's OpenSSL would: a 2 x x
# record must match a CA on the leaf's own path, the default chain of a
# listener with SNI entries is guarded beside them (RFC 7672 senders
# SHOULD, not MUST, send SNI), and a listener whose port 25 comes from
# known_tcp_ports is one.  Against tests/fakedns.py (tests/dane-lib.bash).

load ../helpers
load ../dane-lib
load ../served-lib

setup_file() {
	dane_setup_file
	pki_cert stray self ca	# a CA no chain here is issued by
}

setup() {
	dane_setup
}

# stray_chain_service: master.cf's smtp service serves its own chain
# file: key, leaf, its intermediates, then the stray CA appended.
stray_chain_service() {
	cat "$PKI/$HOST.key" "$PKI/$HOST.pem" "$PKI/chain.pem" "$PKI/stray.pem" \
		>"$T/ssl/served.pem"
	chmod 0600 "$T/ssl/served.pem"
	write_mastercf "  -o smtpd_tls_chain_files=$T/ssl/served.pem"
}

@test "a 2 1 1 record of a CA appended to a port-25 chain, off the leaf's path, matches nothing: OpenSSL's DANE client and enforce both refuse it" {
	# What a DANE sender's OpenSSL says of that chain: the stray CA's
	# record matches nothing; the issuer's does (the fixture is sound).
	cat "$PKI/chain.pem" "$PKI/stray.pem" >"$BATS_TEST_TMPDIR/sent.pem"
	run dane_client "$PKI/$HOST.pem" "$PKI/$HOST.key" "$BATS_TEST_TMPDIR/sent.pem" \
		"2 1 1 $(spki "$PKI/stray.pem")"
	assert_output --partial "no matching DANE TLSA records"
	refute_output --partial "Verification: OK"
	run dane_client "$PKI/$HOST.pem" "$PKI/$HOST.key" "$BATS_TEST_TMPDIR/sent.pem" \
		"2 1 1 $(spki "$PKI/inter2.pem")"
	assert_output --partial "Verification: OK"
	assert_output --partial "matched TA certificate at depth 1"
	rm "$BATS_TEST_TMPDIR/sent.pem"

	good_bundle
	stray_chain_service
	echo POSTFIX_TLS_DANE=enforce >"$T/conf"
	refuses 65 "$QNAME: no TLSA record there matches the ECDSA chain of smtp/inet (master.cf)" \
		deploy_dns --mode answer --tlsa "$QNAME 2 1 1 $(spki "$PKI/stray.pem")" -- deploy
	# The same chain under its issuer's record: deployed.
	run deploy_dns --mode answer --tlsa "$QNAME 2 1 1 $(spki "$PKI/inter2.pem")" -- deploy
	assert_success
	refute_output --partial "no TLSA record there matches"
}

@test "auto: a validated 2 1 1 record of a CA off the served leaf's path is refused" {
	good_bundle
	stray_chain_service
	mapfile -t fake < <(answer "2 1 1 $(spki "$PKI/stray.pem")")
	refuses 65 "$QNAME: no TLSA record there matches the ECDSA chain of smtp/inet (master.cf)" \
		deploy_dns "${fake[@]}" -- deploy
	refuses 65 "$QNAME: no TLSA record there matches" \
		deploy_dns "${fake[@]}" -- check
}

# sni_files NAME: $T/ssl/NAME.key and NAME.pem, the next key's leaf and
# its chain, 0600: a chain only the next key's record matches.
sni_files() {
	cat "$PKI/next.pem" "$PKI/chain.pem" >"$T/ssl/$1.pem"
	cp "$PKI/next.key" "$T/ssl/$1.key"
	chmod 0600 "$T/ssl/$1.pem" "$T/ssl/$1.key"
}

# The default chain's identity as the guard names it: main.cf's, or the
# port-25 service that serves it.
DEFAULT_CHAIN='no TLSA record there matches the ECDSA chain of (main\.cf|[^ ]*smtp/inet \(master\.cf\))'

@test "an SNI entry for the MX name does not hide the default chain senders without SNI get" {
	good_bundle
	sni_files sni
	printf '%s\n' "$HOST $T/ssl/sni.key, $T/ssl/sni.pem" >"$T/postfix/sni"
	chmod 0600 "$T/postfix/sni"
	write_maincf "tls_server_sni_maps = texthash:$T/postfix/sni"
	write_mastercf
	# Records for the SNI entry's key only: the default chain is unmatched.
	mapfile -t fake < <(answer "3 1 1 $(spki "$PKI/next.pem")")
	refuses 65 "$QNAME: no TLSA record there matches" \
		deploy_dns "${fake[@]}" -- deploy
	assert_line --regexp "$DEFAULT_CHAIN"
	refute_line --regexp "no TLSA record there matches .*SNI $HOST"
	# Records for both chains: deployed.
	mapfile -t fake < <(answer "3 1 1 $(spki "$PKI/next.pem")" "$(leaf_record)")
	run deploy_dns "${fake[@]}" -- deploy
	assert_success
	refute_output --partial "no TLSA record there matches"
}

@test "two port-25 listeners share main.cf's chain, one has an SNI entry for the MX name: the default chain is still guarded" {
	good_bundle
	sni_files sni
	printf '%s\n' "$HOST $T/ssl/sni.key, $T/ssl/sni.pem" >"$T/postfix/sni"
	chmod 0600 "$T/postfix/sni"
	write_mastercf "  -o tls_server_sni_maps=texthash:$T/postfix/sni" \
		"192.0.2.7:smtp inet  n       -       n       -       -       smtpd"
	mapfile -t fake < <(answer "3 1 1 $(spki "$PKI/next.pem")")
	refuses 65 "$QNAME: no TLSA record there matches" \
		deploy_dns "${fake[@]}" -- check
	assert_line --regexp "$DEFAULT_CHAIN"
	mapfile -t fake < <(answer "3 1 1 $(spki "$PKI/next.pem")" "$(leaf_record)")
	run deploy_dns "${fake[@]}" -- check
	assert_success
	refute_output --partial "no TLSA record there matches"
}

# mx_service: the only port-25 listener is "mx", port 25 by known_tcp_ports
# (Postfix 3.6+; measured with 3.7: master listens on 25 for it).
mx_service() {
	echo "mx         inet  n       -       n       -       -       smtpd" \
		>"$T/postfix/master.cf"
	write_maincf "known_tcp_ports = mx=25, lmtp=24, smtp=25, smtps=submissions=465, submission=587"
}

@test "a port-25 listener named through known_tcp_ports (mx=25) is guarded" {
	good_bundle
	mx_service
	mapfile -t fake < <(answer "3 1 1 $(spki "$PKI/next.pem")")
	refuses 65 "$QNAME: no TLSA record there matches the ECDSA chain of" \
		deploy_dns "${fake[@]}" -- deploy
	echo POSTFIX_TLS_DANE=enforce >"$T/conf"
	refuses 65 "$QNAME: no TLSA record there matches" \
		deploy_dns --mode answer --tlsa "$QNAME 3 1 1 $(spki "$PKI/next.pem")" -- deploy
}

@test "known_tcp_ports: tlsa prints the mx listener's records and probe tries its port 25" {
	good_bundle
	mx_service
	run dns -- tlsa
	assert_success
	assert_output "$QNAME. IN TLSA 3 1 1 $(spki "$PKI/$HOST.pem")
$QNAME. IN TLSA 2 1 1 $(spki "$PKI/inter2.pem")"
	# Nothing listens in the private network: the probe says it tried 25.
	run dns -- probe
	refute_output --partial "neither a number nor a known service name"
	assert_line --regexp "mx/inet: [^ ]*:25: "
}

@test "known_tcp_ports: an alias is matched whole, so an old master.cf's smtps service is port 465, not smtp's 25" {
	good_bundle
	write_mastercf "smtps     inet  n       -       n       -       -       smtpd" \
		"  -o smtpd_tls_wrappermode=yes"
	write_maincf "known_tcp_ports = lmtp=24, smtp = 25, smtps=submissions=465, submission=587"
	# Nothing listens in the private network: the probe says what it tried.
	run dns -- probe
	assert_line --regexp "smtp/inet: [^ ]*:25: "
	assert_line --regexp "smtps/inet: [^ ]*:465: "
	refute_line --regexp "smtps/inet: [^ ]*:25: "
}
