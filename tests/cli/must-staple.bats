#!/usr/bin/env bats
# Issue 19, hole 10: a server leaf with the TLS Feature extension
# status_request ("OCSP Must-Staple", RFC 7633) promises a stapled OCSP
# answer in every handshake; Postfix never staples, so clients that
# honour the promise refuse the server.  Refused wherever smtpd serves
# it, with the fix (reissue without must-staple).  A client certificate
# with it harms no one: allowed.

load ../helpers
load ../served-lib

# must_staple NAME PROFILE: $PKI/NAME-ms.pem and .key, a leaf for NAME
# issued by inter2 with the status_request TLS feature.
must_staple() {
	mkdir -p "$PKI/ms-$1"
	cp "$PKI/inter2.pem" "$PKI/inter2.key" "$PKI/ms-$1/"
	PKI=$PKI/ms-$1 pki_cert "$1" inter2 "$2"
	PKI=$PKI/ms-$1 pki_resign "$1" inter2 "tlsfeature = status_request"
	cp "$PKI/ms-$1/$1.pem" "$PKI/$1-ms.pem"
	cp "$PKI/ms-$1/$1.key" "$PKI/$1-ms.key"
}

setup_file() {
	pki_common
	must_staple "$HOST" server
	must_staple client.example.org client
}

setup() {
	need_root
	setup_world
	good_bundle
}

@test "a server leaf with OCSP must-staple is refused, with the fix to reissue it without, and the old bundle is kept" {
	# The fixture: openssl sees the feature.
	run openssl x509 -in "$PKI/$HOST-ms.pem" -noout -text
	assert_output --regexp "TLS Feature:[[:space:]]+status_request"
	use_leaf "$HOST-ms"
	refuses 65 "must-staple" deploy_inputs deploy
	assert_line --regexp "^postfix-tls-setup: .*$T/ssl/cert\.pem: .*must-staple.*\(.*[Rr]eissue.*without"
	run openssl x509 -in "$BUNDLE" -noout -text	# the leaf served before
	refute_output --partial "TLS Feature"
}

@test "a must-staple leaf a master.cf service serves is refused, naming the service" {
	leaf_files "$HOST-ms" "$HOST-ms" "$T/ssl" sub
	submission_service "$T/ssl/sub.pem" "$T/ssl/sub.key"
	refuses 65 "must-staple" deploy_inputs deploy
	assert_line --regexp "^postfix-tls-setup: submission/inet \(master\.cf\): .*must-staple"
}

@test "a client certificate with must-staple is allowed" {
	leaf_files client.example.org-ms client.example.org-ms "$T/ssl" cl
	write_maincf "smtp_tls_cert_file = $T/ssl/cl.pem" "smtp_tls_key_file = $T/ssl/cl.key"
	run deploy_inputs check
	assert_success
	refute_output --partial "must-staple"
	run deploy_inputs deploy
	assert_success
}
