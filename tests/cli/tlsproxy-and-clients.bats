#!/usr/bin/env bats
# Issue 19, holes 8 and 9: identities Postfix loads besides smtpd's.
# postscreen's STARTTLS is tlsproxy's, with its own tlsproxy_tls_* files
# (by default smtpd's); the smtp and lmtp clients (and tlsproxy for them)
# present client certificates from smtp_tls_*, lmtp_tls_*,
# tlsproxy_client_* and master.cf -o overrides of smtp/lmtp services.
# Each is checked as Postfix loads it, named as its own identity; client
# certificates as TLS clients (purpose sslclient), where what a relay may
# accept (a private CA, no clientAuth) is a warning, not a refusal.

load ../helpers

setup_file() {
	pki_common
	pki_cert other.example.org inter2 server
	pki_cert client.example.org inter2 client
	pki_cert noeku.example.org inter2 server-noeku
	pki_cert privca self ca	# a relay's private CA, no anchor here
	pki_cert priv.example.org privca client
}

setup() {
	need_root
	setup_world
	good_bundle
}

# postscreen_25: port 25 is postscreen's, STARTTLS there tlsproxy's.
postscreen_25() {
	cat >"$T/postfix/master.cf" <<-CF
	smtp      inet  n       -       n       -       1       postscreen
	smtpd     pass  -       -       n       -       -       smtpd
	tlsproxy  unix  -       -       n       -       0       tlsproxy
	CF
	settle_maincf
}

@test "postscreen's STARTTLS identity (tlsproxy_tls_key_file) with a key that does not match is refused, naming tlsproxy (main.cf)" {
	postscreen_25
	leaf_files other.example.org "$HOST" "$T/ssl" tp	# her leaf, our key
	write_maincf "tlsproxy_tls_cert_file = $T/ssl/tp.pem" \
		"tlsproxy_tls_key_file = $T/ssl/tp.key"
	refuses 65 "private key does not match public key in certificate" \
		deploy_inputs deploy
	assert_line --regexp "^postfix-tls-setup: tlsproxy \(main\.cf\): .*private key does not match public key in certificate"
}

@test "postscreen's STARTTLS identity in tlsproxy_tls_chain_files with a key that does not match is refused" {
	postscreen_25
	cat "$PKI/$HOST.key" "$PKI/other.example.org.pem" "$PKI/chain.pem" >"$T/ssl/tp.pem"
	chmod 0600 "$T/ssl/tp.pem"
	write_maincf "tlsproxy_tls_chain_files = $T/ssl/tp.pem"
	refuses 65 "private key does not match public key in certificate" \
		deploy_inputs deploy
	assert_line --regexp "^postfix-tls-setup: tlsproxy \(main\.cf\): .*$T/ssl/tp\.pem: private key does not match"
}

@test "tlsproxy_tls_* left at smtpd's values: nothing more is said" {
	postscreen_25
	run deploy_inputs check
	assert_success
	refute_output --partial "tlsproxy"
	refute_output --partial "warning"
}

# client_files NAME LEAF KEYOF: $T/ssl/NAME.pem (LEAF and its chain) and
# NAME.key (KEYOF's key), 0600.
client_files() {
	leaf_files "$2" "$3" "$T/ssl" "$1"
}

@test "an smtp client certificate whose key does not match is refused, naming smtp client (main.cf)" {
	client_files cl client.example.org other.example.org
	write_maincf "smtp_tls_cert_file = $T/ssl/cl.pem" "smtp_tls_key_file = $T/ssl/cl.key"
	refuses 65 "private key does not match" deploy_inputs deploy
	assert_line --regexp "^postfix-tls-setup: smtp client \(main\.cf\): .*$T/ssl/cl\.key: private key does not match"
	# tlsproxy_client_* default to smtp's: the same files, said once.
	refute_output --partial "tlsproxy client"
	# A client certificate is never judged as a server's, and a key that
	# cannot be loaded is all there is to say about it.
	refute_output --partial "as a TLS server"
	refute_output --partial "serverAuth"
}

@test "an lmtp client certificate whose key does not match is refused, naming lmtp client (main.cf)" {
	client_files cl client.example.org other.example.org
	write_maincf "lmtp_tls_cert_file = $T/ssl/cl.pem" "lmtp_tls_key_file = $T/ssl/cl.key"
	refuses 65 "private key does not match" deploy_inputs deploy
	assert_line --regexp "^postfix-tls-setup: lmtp client \(main\.cf\): .*$T/ssl/cl\.key: private key does not match"
}

@test "tlsproxy's client certificate, set apart from smtp's, whose key does not match is refused, naming tlsproxy client (main.cf)" {
	client_files cl client.example.org client.example.org	# good
	client_files tpc client.example.org other.example.org	# not
	write_maincf "smtp_tls_cert_file = $T/ssl/cl.pem" "smtp_tls_key_file = $T/ssl/cl.key" \
		"tlsproxy_client_cert_file = $T/ssl/tpc.pem" \
		"tlsproxy_client_key_file = $T/ssl/tpc.key"
	refuses 65 "private key does not match" deploy_inputs deploy
	assert_line --regexp "^postfix-tls-setup: tlsproxy client \(main\.cf\): .*$T/ssl/tpc\.key: private key does not match"
	refute_line --regexp "^postfix-tls-setup: smtp client \(main\.cf\): "
}

@test "a master.cf smtp service with its own client certificate (-o) whose key does not match is refused, naming relay/unix (master.cf)" {
	client_files rl client.example.org other.example.org
	write_mastercf "relay      unix  -       -       n       -       -       smtp" \
		"  -o smtp_tls_cert_file=$T/ssl/rl.pem" \
		"  -o smtp_tls_key_file=$T/ssl/rl.key"
	refuses 65 "private key does not match" deploy_inputs deploy
	assert_line --regexp "^postfix-tls-setup: relay/unix \(master\.cf\): .*$T/ssl/rl\.key: private key does not match"
}

@test "a master.cf lmtp service with its own client certificate (-o lmtp_tls_*) whose key does not match is refused, naming lmtp/unix (master.cf)" {
	client_files lm client.example.org other.example.org
	write_mastercf "lmtp       unix  -       -       n       -       -       lmtp" \
		"  -o lmtp_tls_cert_file=$T/ssl/lm.pem" \
		"  -o lmtp_tls_key_file=$T/ssl/lm.key"
	refuses 65 "private key does not match" deploy_inputs deploy
	assert_line --regexp "^postfix-tls-setup: lmtp/unix \(master\.cf\): .*$T/ssl/lm\.key: private key does not match"
}

@test "a client leaf whose extendedKeyUsage lacks clientAuth is a warning naming the smtp client, and the deploy goes on" {
	client_files cl "$HOST" "$HOST"	# serverAuth only
	write_maincf "smtp_tls_cert_file = $T/ssl/cl.pem" "smtp_tls_key_file = $T/ssl/cl.key"
	run deploy_inputs check
	assert_success
	assert_line --regexp "^postfix-tls-setup: warning: smtp client \(main\.cf\): .*lacks clientAuth"
	refute_output --partial "tlsproxy client"
	run deploy_inputs deploy
	assert_success
	# A leaf without extendedKeyUsage serves any purpose: nothing to say.
	client_files cl noeku.example.org noeku.example.org
	run deploy_inputs check
	assert_success
	refute_output --partial "lacks clientAuth"
}

@test "a client chain that does not verify against the trust anchors is a warning (a relay may trust a private CA), and the deploy goes on" {
	cp "$PKI/priv.example.org.pem" "$T/ssl/cl.pem"
	cp "$PKI/priv.example.org.key" "$T/ssl/cl.key"
	chmod 0600 "$T/ssl/cl.pem" "$T/ssl/cl.key"
	write_maincf "smtp_tls_cert_file = $T/ssl/cl.pem" "smtp_tls_key_file = $T/ssl/cl.key"
	run deploy_inputs check
	assert_success
	assert_line --regexp "^postfix-tls-setup: warning: smtp client \(main\.cf\): .*does not verify as a TLS client"
	refute_output --partial "lacks clientAuth"
	run deploy_inputs deploy
	assert_success
}

@test "a good client certificate passes without a word, as do unset ones" {
	run deploy_inputs check
	assert_success
	refute_output --partial "client"
	client_files cl client.example.org client.example.org
	write_maincf "smtp_tls_cert_file = $T/ssl/cl.pem" "smtp_tls_key_file = $T/ssl/cl.key"
	run deploy_inputs check
	assert_success
	refute_output --partial "warning"
	refute_output --partial "does not match"
}
