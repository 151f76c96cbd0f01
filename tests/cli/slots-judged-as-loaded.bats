#!/usr/bin/env bats
# Review of issue 19, judge.c / inventory.c / deploy.c: slots judged as
# Postfix loads them.
#
# A group that a set of this run assembled ("covered": the bundle with
# its own key) is listed, not judged again (judge.c judge_group).  But the
# set judged it for main.cf's smtpd only: as a server, for myhostname.  A
# client slot (smtp_tls_cert_file = the bundle, as many set-ups do) is then
# never judged as a client (no "lacks clientAuth" warning, hole 9), and an
# SNI entry naming the bundle is never checked against its own name.  The
# same bytes in a file of their own get both warnings.
#
# A client slot is added for a master.cf smtp/lmtp service whose files
# differ from main.cf's, emptied ones included; deploy.c then refuses
# every slot but main.cf's that names no certificate, with smtpd's
# message.  A relay that must not get a client certificate
# (-o smtp_tls_cert_file=) is a valid set-up: a846e0e deployed it; now
# every start is refused (78).
#
# topology.c asks postconf for a non-smtpd service's own values only when
# one of its -o names contains "_tls_".  A main.cf client file named
# through a parameter the service sets (-o clientdir=...) is then judged
# as main.cf's, not as the service loads it (smtpd services are asked
# for any -o: tests/cli/served-identities.bats, "a main.cf value naming a parameter a
# service sets resolves as in that service").

load ../helpers

setup_file() {
	pki_common
	pki_cert client.example.org inter2 client
	pki_cert other.example.org inter2 server
}

setup() {
	need_root
	setup_world
}

# bundle_with_key: main.cf serves the bundle through smtpd_tls_chain_files
# (the key in it), deployed.
bundle_with_key() {
	write_maincf "smtpd_tls_chain_files = $BUNDLE"
	sed -i '/^smtpd_tls_cert_file\|^smtpd_tls_key_file/d' "$T/postfix/main.cf"
	settle_maincf
	good_bundle
}

@test "control: a serverAuth-only client certificate in a file of its own is warned about (lacks clientAuth)" {
	good_bundle
	cat "$BUNDLE" >"$T/ssl/copy.pem"
	chmod 0600 "$T/ssl/copy.pem"
	write_maincf "smtp_tls_cert_file = $T/ssl/copy.pem" "smtp_tls_key_file = $T/ssl/key.pem"
	run deploy_inputs check
	assert_success
	assert_line --regexp "^postfix-tls-setup: warning: smtp client \(main\.cf\): .*lacks clientAuth"
}

@test "the bundle sent as the smtp client certificate is judged as a client certificate too (lacks clientAuth)" {
	good_bundle
	write_maincf "smtp_tls_cert_file = \$smtpd_tls_cert_file" \
		"smtp_tls_key_file = \$smtpd_tls_key_file"
	run deploy_inputs check
	assert_success
	assert_line --regexp "^postfix-tls-setup: warning: smtp client \(main\.cf\): .*lacks clientAuth"
}

@test "control: an SNI entry whose own file does not cover its name is warned about" {
	bundle_with_key
	cp "$BUNDLE" "$T/ssl/copy.pem"
	printf '%s\n' "c.example.net $T/ssl/copy.pem" >"$T/postfix/sni"
	chmod 0600 "$T/postfix/sni"
	echo "tls_server_sni_maps = texthash:$T/postfix/sni" >>"$T/postfix/main.cf"
	settle_maincf
	run deploy_inputs check
	assert_success
	assert_line --regexp "^postfix-tls-setup: warning: SNI c\.example\.net .*c\.example\.net is not among the certificate's names"
}

@test "an SNI entry naming the bundle is checked against its own name" {
	bundle_with_key
	printf '%s\n' "c.example.net $BUNDLE" >"$T/postfix/sni"
	chmod 0600 "$T/postfix/sni"
	echo "tls_server_sni_maps = texthash:$T/postfix/sni" >>"$T/postfix/main.cf"
	settle_maincf
	run deploy_inputs check
	assert_success
	assert_line --regexp "^postfix-tls-setup: warning: SNI c\.example\.net .*c\.example\.net is not among the certificate's names"
}

@test "a relay service that sends no client certificate (-o smtp_tls_cert_file=) is no refusal" {
	good_bundle
	leaf_files client.example.org client.example.org "$T/ssl" cl
	write_maincf "smtp_tls_cert_file = $T/ssl/cl.pem" "smtp_tls_key_file = $T/ssl/cl.key"
	write_mastercf "relay      unix  -       -       n       -       -       smtp" \
		"  -o smtp_tls_cert_file=" "  -o smtp_tls_key_file="
	run deploy_inputs check
	assert_success
	refute_output --partial "no certificate is named"
	run deploy_inputs deploy
	assert_success
}

@test "an lmtp service with TLS off and no client certificate is no refusal" {
	good_bundle
	leaf_files client.example.org client.example.org "$T/ssl" cl
	write_maincf "lmtp_tls_cert_file = $T/ssl/cl.pem" "lmtp_tls_key_file = $T/ssl/cl.key"
	write_mastercf "lmtp       unix  -       -       n       -       -       lmtp" \
		"  -o lmtp_tls_security_level=none" "  -o lmtp_tls_cert_file="
	run deploy_inputs check
	assert_success
	refute_output --partial "smtpd has none to offer"
}

@test "a relay service's client key, named through a parameter it sets with -o, is judged as the service loads it" {
	good_bundle
	mkdir -p "$T/rl"
	leaf_files client.example.org client.example.org "$T/ssl" cl	# good
	leaf_files client.example.org other.example.org "$T/rl" cl	# not
	write_maincf "clientdir = $T/ssl" "smtp_tls_cert_file = \$clientdir/cl.pem" \
		"smtp_tls_key_file = \$clientdir/cl.key"
	write_mastercf "relay      unix  -       -       n       -       -       smtp" \
		"  -o clientdir=$T/rl"
	# What the relay service loads, as Postfix resolves it.
	run postconf -c "$T/postfix" -xh -o "clientdir=$T/rl" smtp_tls_key_file
	assert_output "$T/rl/cl.key"
	refuses 65 "private key does not match" deploy_inputs deploy
	assert_line --regexp "^postfix-tls-setup: relay/unix \(master\.cf\): .*$T/rl/cl\.key: private key does not match"
}
