#!/usr/bin/env bats
# Issue 11 end to end: what real Postfix serves besides the one bundle (a
# submission service with its own certificate, RSA and ECDSA side by side,
# SNI domains), each judged by a verifying openssl s_client, and each
# broken the way real smtpd 3.7 cannot serve, which rc-service postfix
# start must then refuse.  One world per set-up (good, then broken):
# worlds cost seconds, and CI runs this file three times.
#
# Measured by hand in these worlds (Postfix 3.7.11, OpenSSL 3.0), with no
# helper in the way:
# - submission/inet with -o smtpd_tls_key_file naming a key that does not
#   match: master starts, 587 advertises STARTTLS, then each smtpd logs
#     warning: cannot get RSA private key from file "/etc/ssl/sub/key.pem": disabling TLS support
#     warning: TLS library problem: error:05800074:x509 certificate routines::key values mismatch
#   and answers STARTTLS with 454 (s_client: "wrong version number");
#   port 25 is not affected.
# - smtpd_tls_chain_files = rsa.pem, ecdsa.pem with ecdsa.pem's key not
#   matching its leaf: TLS is off for BOTH algorithms (454 on port 25):
#     warning: key at index 1 in /etc/postfix/ecdsa.pem does not match next certificate
#     warning: error loading private keys and certificates from: /etc/postfix/rsa.pem, /etc/postfix/ecdsa.pem: disabling TLS support
#   A truncated ecdsa.pem: "PEM routines::bad end line", then the same
#   "disabling TLS support".
# - an SNI entry whose key does not match: postmap -F builds the map
#   without a word (exit 0); smtpd serves the other names and the
#   default certificate, and aborts the handshake for that name only
#   (client: "tlsv1 alert internal error"):
#     warning: key at index 1 in SNI data for b.example.net does not match next certificate
#     warning: error loading private keys and certificates from: SNI data for b.example.net: aborting TLS handshake
# - postmap -F of a 0644 source gives a 0644 .db holding every key.

load ../helpers

setup_file() {
	pki_common
	pki_cert other.example.org inter2 server
	pki_cert submit.example.org inter2 server
	pki_cert a.example.net inter2 server
	pki_cert b.example.net inter2 server
	pki_rsa_lineage
}

setup() {
	need_root
	# shellcheck disable=SC2034 # world() in helpers.bash uses it
	T=$BATS_TEST_TMPDIR
}

# In the world: a verifying client's one-line verdict for NAME on PORT,
# with more s_client options after them (-servername, -sigalgs).
PROBE='
probe() {
	local name=$1 port=$2
	shift 2
	running || { echo "postfix is not running"; return 1; }
	wait_port 127.0.0.1 "$port" &&
	timeout 20 openssl s_client -starttls smtp -connect "127.0.0.1:$port" \
		-CAfile "$PKI/root.pem" -verify_return_error \
		-verify_hostname "$name" -brief "$@" </dev/null 2>&1 |
		grep -E "^(Peer certificate|Signature type|Verification|Verified peername)" |
		tr "\n" " "
}
'

@test "a submission service with its own certificate is served verified, and a broken key there refuses the start naming it" {
	run world <<-SCENARIO
	$PROBE
	make_postfix /etc/postfix 127.0.0.1
	use_tls "\$HOST" inter1 inter2
	tune /etc/conf.d/postfix-tls-setup
	mkdir -p /etc/ssl/sub
	cat "\$PKI/submit.example.org.pem" "\$PKI/chain.pem" >/etc/ssl/sub/cert.pem
	cp "\$PKI/submit.example.org.key" /etc/ssl/sub/key.pem
	postconf -M "submission/inet=submission inet n - n - - smtpd"
	postconf -P "submission/inet/smtpd_tls_security_level=encrypt" \
		"submission/inet/smtpd_tls_cert_file=/etc/ssl/sub/cert.pem" \
		"submission/inet/smtpd_tls_key_file=/etc/ssl/sub/key.pem"
	touch -d '1 hour ago' /etc/postfix/main.cf
	rc-service postfix start; say "start=\$?"
	say "587: \$(probe submit.example.org 587)"
	say "25: \$(probe "\$HOST" 25)"
	rc-service postfix stop; say "stop=\$?"
	cp "\$PKI/other.example.org.key" /etc/ssl/sub/key.pem
	rc-service postfix start; say "broken-start=\$?"
	running && say "postfix running" || say "postfix stopped"
	SCENARIO
	assert_success
	assert_output --partial "@@ start=0"
	assert_output --partial "@@ 587: Peer certificate: O = Test, CN = submit.example.org Signature type: ECDSA Verification: OK Verified peername: submit.example.org"
	assert_output --partial "@@ 25: Peer certificate: O = Test, CN = $HOST Signature type: ECDSA Verification: OK Verified peername: $HOST"
	assert_output --partial "@@ stop=0"
	assert_output --regexp "@@ broken-start=[1-9]"
	assert_output --partial " * postfix-tls-setup: submission/inet (master.cf): /etc/ssl/sub/key.pem: private key does not match public key in certificate /etc/ssl/sub/cert.pem"
	assert_output --partial " * postfix-tls-setup refused (exit 65) for /etc/postfix"
	assert_output --partial "@@ postfix stopped"
}

@test "RSA and ECDSA bundles deployed side by side are each served verified, and a broken ECDSA one refuses the start" {
	run world <<-SCENARIO
	$PROBE
	make_postfix /etc/postfix 127.0.0.1
	use_tls "\$HOST" inter1 inter2
	dual_bundles
	touch -d '1 hour ago' /etc/postfix/main.cf
	rc-service postfix start; say "start=\$?"
	say "ecdsa: \$(probe "\$HOST" 25 -sigalgs ECDSA+SHA256)"
	say "rsa: \$(probe "\$HOST" 25 -sigalgs rsa_pss_rsae_sha256)"
	say "ecdsa-1.2: \$(probe "\$HOST" 25 -tls1_2 -cipher ECDHE-ECDSA-AES128-GCM-SHA256)"
	say "rsa-1.2: \$(probe "\$HOST" 25 -tls1_2 -cipher ECDHE-RSA-AES128-GCM-SHA256)"
	for f in rsa ecdsa; do head -n1 /etc/postfix/\$f.pem | sed "s/^/@@ \$f first: /"; done
	rc-service postfix stop; say "stop=\$?"
	old=\$(sha256sum /etc/postfix/rsa.pem /etc/postfix/ecdsa.pem)
	cp "\$PKI/other.example.org.key" /etc/ssl/mail/key.pem
	rc-service postfix start; say "broken-start=\$?"
	running && say "postfix running" || say "postfix stopped"
	[ -n "\$old" ] && [ "\$old" = "\$(sha256sum /etc/postfix/rsa.pem /etc/postfix/ecdsa.pem)" ] && say "bundles intact"
	true
	SCENARIO
	assert_success
	assert_output --partial "@@ start=0"
	assert_output --partial "@@ ecdsa: Peer certificate: O = Test, CN = $HOST Signature type: ECDSA Verification: OK Verified peername: $HOST"
	assert_output --partial "@@ rsa: Peer certificate: O = Test, CN = $HOST Signature type: RSA-PSS Verification: OK Verified peername: $HOST"
	assert_output --partial "@@ ecdsa-1.2: Peer certificate: O = Test, CN = $HOST Signature type: ECDSA Verification: OK"
	assert_output --partial "@@ rsa-1.2: Peer certificate: O = Test, CN = $HOST Signature type: RSA"
	assert_output --partial "@@ rsa first: -----BEGIN PRIVATE ""KEY-----"
	assert_output --partial "@@ ecdsa first: -----BEGIN PRIVATE ""KEY-----"
	assert_output --regexp "@@ broken-start=[1-9]"
	assert_output --partial " * postfix-tls-setup: /etc/ssl/mail/key.pem: private key does not match public key in certificate /etc/ssl/mail/cert.pem"
	assert_output --partial "@@ postfix stopped"
	assert_output --partial "@@ bundles intact"
}

@test "two SNI domains are each served verified with their own certificate, the map ends root-only, and a broken entry refuses the start naming the domain" {
	run world <<-SCENARIO
	$PROBE
	make_postfix /etc/postfix 127.0.0.1
	use_tls "\$HOST" inter1 inter2
	tune /etc/conf.d/postfix-tls-setup
	sni_two
	stat -c '@@ as postmap left it: %n %a' /etc/postfix/sni.db
	touch -d '1 hour ago' /etc/postfix/main.cf
	rc-service postfix start; say "start=\$?"
	stat -c '@@ after the start: %n %U:%G %a' /etc/postfix/sni /etc/postfix/sni.db
	say "a: \$(probe a.example.net 25 -servername a.example.net)"
	say "b: \$(probe b.example.net 25 -servername b.example.net)"
	say "default: \$(probe "\$HOST" 25)"
	rc-service postfix stop; say "stop=\$?"
	old=\$(sha256sum /etc/postfix/sni.db)
	cp "\$PKI/other.example.org.key" /etc/ssl/sni/b.example.net.key
	rc-service postfix start; say "broken-start=\$?"
	running && say "postfix running" || say "postfix stopped"
	[ "\$old" = "\$(sha256sum /etc/postfix/sni.db)" ] && say "map intact"
	true
	SCENARIO
	assert_success
	assert_output --partial "@@ as postmap left it: /etc/postfix/sni.db 644"
	assert_output --partial "@@ start=0"
	assert_output --partial "@@ a: Peer certificate: O = Test, CN = a.example.net Signature type: ECDSA Verification: OK Verified peername: a.example.net"
	assert_output --partial "@@ b: Peer certificate: O = Test, CN = b.example.net Signature type: ECDSA Verification: OK Verified peername: b.example.net"
	assert_output --partial "@@ default: Peer certificate: O = Test, CN = $HOST Signature type: ECDSA Verification: OK"
	assert_output --partial "@@ after the start: /etc/postfix/sni root:root 600"
	assert_output --partial "@@ after the start: /etc/postfix/sni.db root:root 600"
	assert_output --regexp "@@ broken-start=[1-9]"
	assert_output --partial " * postfix-tls-setup: SNI b.example.net (/etc/postfix/sni): /etc/ssl/sni/b.example.net.key: private key does not match public key in certificate"
	assert_output --partial "@@ postfix stopped"
	assert_output --partial "@@ map intact"
}
