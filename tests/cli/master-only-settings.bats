#!/usr/bin/env bats
# Issue 19, class (g): settings that live only in a master.cf -o, with
# nothing in main.cf to give them away.  A service that adds its own
# ECDSA pair (-o smtpd_tls_eccert_file, -o smtpd_tls_eckey_file) beside
# main.cf's RSA one serves both; a service in wrapper mode (-o
# smtpd_tls_wrappermode=yes) serves TLS on its port even where the level
# it inherits or sets is none.  Each must be checked as smtpd loads it.

bats_require_minimum_version 1.5.0

load ../helpers
load ../pins-lib

setup_file() {
	pki_common
	pki_rsa_lineage
	pki_cert other.example.org inter2 server
	pki_cert submit.example.org inter2 server
}

setup() {
	need_root
	setup_world
}

# rsa_main: main.cf serves the host's RSA lineage (the deployed bundle).
rsa_main() {
	cp "$PKI/rsa.pem" "$T/ssl/cert.pem"
	cp "$PKI/rsa.key" "$T/ssl/key.pem"
	chmod 0600 "$T/ssl/key.pem"
	good_bundle
}

# ec_service KEYOF: a submission service that adds, by -o only, an ECDSA
# pair: the host's ECDSA leaf with its chain and the key of KEYOF.
ec_service() {
	leaf_files "$HOST" "$1" "$T/ssl" ec
	write_mastercf \
		"submission inet  n       -       n       -       -       smtpd" \
		"  -o smtpd_tls_eccert_file=$T/ssl/ec.pem" \
		"  -o smtpd_tls_eckey_file=$T/ssl/ec.key"
}

@test "an ECDSA pair set only by a service's -o, beside main.cf's RSA one, is checked: a key that does not match is refused" {
	rsa_main
	ec_service other.example.org
	refuses 65 "postfix-tls-setup: submission/inet (master.cf): $T/ssl/ec.key: private key does not match public key in certificate $T/ssl/ec.pem (use the key the certificate was issued for)" \
		deploy_inputs deploy
	run deploy_inputs check
	assert_failure 65
}

@test "an ECDSA pair set only by a service's -o is served with main.cf's RSA one: check --json lists both for the service" {
	rsa_main
	ec_service "$HOST"
	run --separate-stderr deploy_inputs --json check
	assert_success
	assert_equal "$(pins_json '[(i["name"], i["key_type"], i["bundle"]) for i in d["identities"]]')" \
		"[[\"main.cf\", \"RSA\", \"$BUNDLE\"], [\"submission/inet (master.cf)\", \"RSA\", \"$BUNDLE\"], [\"submission/inet (master.cf)\", \"ECDSA\", \"$T/ssl/ec.pem\"]]"
	run deploy_inputs deploy
	assert_success
}

@test "a wrapper-mode service (-o smtpd_tls_wrappermode=yes) whose level is none still serves TLS: its key is checked" {
	good_bundle
	leaf_files submit.example.org other.example.org "$T/ssl" sub
	write_mastercf \
		"submissions inet  n       -       n       -       -       smtpd" \
		"  -o smtpd_tls_security_level=none" \
		"  -o smtpd_tls_wrappermode=yes" \
		"  -o smtpd_tls_cert_file=$T/ssl/sub.pem" \
		"  -o smtpd_tls_key_file=$T/ssl/sub.key"
	refuses 65 "postfix-tls-setup: submissions/inet (master.cf): $T/ssl/sub.key: private key does not match public key in certificate $T/ssl/sub.pem" \
		deploy_inputs deploy
	# Control: without wrapper mode that service serves no TLS at all.
	sed -i '/smtpd_tls_wrappermode/d' "$T/postfix/master.cf"
	run deploy_inputs deploy
	assert_success
	refute_output --partial "sub.key"
}

@test "a wrapper-mode service with main.cf's level none: main.cf is refused for switching TLS off, and the service's own key is still checked" {
	good_bundle
	leaf_files submit.example.org other.example.org "$T/ssl" sub
	edit_maincf 's/^smtpd_tls_security_level = .*/smtpd_tls_security_level = none/'
	write_mastercf \
		"submissions inet  n       -       n       -       -       smtpd" \
		"  -o smtpd_tls_wrappermode=yes" \
		"  -o smtpd_tls_cert_file=$T/ssl/sub.pem" \
		"  -o smtpd_tls_key_file=$T/ssl/sub.key"
	refuses 78 "postfix-tls-setup: $T/postfix/main.cf: TLS is switched off, so Postfix would not offer STARTTLS" \
		deploy_inputs deploy
	assert_output --partial "postfix-tls-setup: submissions/inet (master.cf): $T/ssl/sub.key: private key does not match public key in certificate $T/ssl/sub.pem"
	before=$(disk_state)
	run --separate-stderr deploy_inputs --json check
	assert_failure 78
	assert_equal "$(disk_state)" "$before"
	assert_equal "$(pins_json '[i["name"] for i in d["identities"]]')" '["main.cf", "submissions/inet (master.cf)"]'
}
