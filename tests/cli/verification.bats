#!/usr/bin/env bats
# Verification: what openssl verify -purpose sslserver refuses, what
# Postfix needs beyond it, and the warnings that do not refuse.

load ../helpers

setup_file() {
	pki_common
	pki_cert other.example.org inter2 server
	pki_cert expired.example.org inter2 server ec 30 -400d
	pki_cert future.example.org inter2 server ec 365 +30d
	pki_cert self.example.org self server
	pki_cert client.example.org inter2 client
	pki_cert caleaf.example.org inter2 ca
	pki_cert weak.example.org inter2 server rsa:1024
	pki_cert sha1.example.org inter2 server ec 365 "" sha1
	# 10 days left of a year and 10 days: the day count warns (a leaf
	# with most of its lifetime left would not: expiry-lifetime.bats).
	pki_cert soon.example.org inter2 server ec 375 -8760h
	pki_cert rsa.example.org inter2 server rsa:2048
	pki_cert otherroot self ca
	pki_cert weakroot self ca rsa:1024
	pki_cert weak-root.example.org weakroot server
	pki_cert inter192 root ca ec:P-192
	pki_cert weak-inter.example.org inter192 server
	pki_cert otherinter otherroot ca
	openssl pkey -in "$PKI/$HOST.key" -aes256 -passout pass:secret \
		-out "$PKI/encrypted.key"
}

setup() {
	setup_world
	good_bundle
}

@test "a good chain deploys and check then reports nothing to change" {
	run deploy_inputs check
	assert_success
	assert_output --partial "ok: $BUNDLE would be served with 3 certificates"
	refute_output --partial "would write"
}

@test "an RSA 2048 leaf deploys" {
	use_leaf rsa.example.org
	run deploy_inputs deploy
	assert_success
	assert_output --partial "wrote $BUNDLE (3 certificates)"
}

@test "a key that does not match the certificate is refused and the old bundle is kept" {
	cp "$PKI/other.example.org.key" "$T/ssl/key.pem"
	refuses 65 "$T/ssl/key.pem: private key does not match public key in certificate" \
		deploy_inputs deploy
}

@test "a passphrase-protected key is refused and the old bundle is kept" {
	cp "$PKI/encrypted.key" "$T/ssl/key.pem"
	refuses 65 "$T/ssl/key.pem: private key is protected by a passphrase; Postfix cannot use it (remove it: openssl pkey" \
		deploy_inputs deploy
}

@test "a missing intermediate is refused and the old bundle is kept" {
	cp "$PKI/inter2.pem" "$T/ssl/chain.pem"
	refuses 65 "unable to get local issuer certificate at depth 1" \
		deploy_inputs deploy
	assert_output --partial "an intermediate CA certificate is missing"
}

@test "a wrong intermediate is refused, named as left out, and the old bundle is kept" {
	cp "$PKI/otherinter.pem" "$T/ssl/chain.pem"
	refuses 65 "unable to get local issuer certificate at depth 0" \
		deploy_inputs deploy
	assert_output --partial "note: $T/ssl/chain.pem: left out 1 certificate not on the leaf's path"
}

@test "an expired certificate is refused and the old bundle is kept" {
	use_leaf expired.example.org
	refuses 65 "$T/ssl/cert.pem: certificate chain does not verify as a TLS server: certificate has expired at depth 0" \
		deploy_inputs deploy
	assert_output --partial "renew the certificate"
}

@test "a certificate that is not yet valid is refused and the old bundle is kept" {
	use_leaf future.example.org
	refuses 65 "certificate is not yet valid at depth 0" deploy_inputs deploy
}

@test "a self-signed certificate is refused and the old bundle is kept" {
	use_leaf self.example.org
	refuses 65 "self-signed certificate at depth 0" deploy_inputs deploy
	assert_output --partial "get one from a CA"
}

@test "a client-only certificate is refused and the old bundle is kept" {
	use_leaf client.example.org
	refuses 65 "unsuitable certificate purpose at depth 0" deploy_inputs deploy
	assert_output --partial "extendedKeyUsage serverAuth"
}

@test "a CA certificate as leaf is refused and the old bundle is kept" {
	use_leaf caleaf.example.org
	refuses 65 "is a CA certificate, not a server certificate" \
		deploy_inputs deploy
}

@test "a 1024-bit RSA key is refused and the old bundle is kept" {
	use_leaf weak.example.org
	refuses 65 "has a 1024-bit RSA key; verifying peers refuse keys under 2048 bits" \
		deploy_inputs deploy
}

@test "a SHA-1 signature is refused and the old bundle is kept" {
	use_leaf sha1.example.org
	refuses 65 "is signed with SHA1; verifying peers refuse such signatures" \
		deploy_inputs deploy
}

@test "an untrusted root is refused and the old bundle is kept" {
	cat "$PKI/chain.pem" "$PKI/root.pem" >"$T/ssl/chain.pem"
	refuses 65 "self-signed certificate in certificate chain" \
		helper --cafile "$PKI/otherroot.pem" --cert "$T/ssl/cert.pem" \
		--key "$T/ssl/key.pem" --chain "$T/ssl/chain.pem" deploy
}

@test "several problems are each reported on a line of their own" {
	use_leaf expired.example.org
	cp "$PKI/other.example.org.key" "$T/ssl/key.pem"
	refuses 65 "private key does not match" deploy_inputs deploy
	assert_output --partial "certificate has expired"
	assert_equal "$(grep '^postfix-tls-setup: ' <<<"$output" | grep -vc ': warning: ')" 2
}

@test "a certificate expiring within the warning days warns but deploys" {
	use_leaf soon.example.org
	run deploy_inputs deploy
	assert_success
	assert_output --regexp "warning: $T/ssl/cert.pem: certificate expires in (9|10) days"
	assert_output --partial "wrote $BUNDLE"
}

@test "the warning period follows --warn-days" {
	use_leaf soon.example.org
	run deploy_inputs --warn-days 5 check
	assert_success
	refute_output --partial "certificate expires"
}

@test "myhostname missing from the certificate's names warns but deploys" {
	use_leaf other.example.org
	run deploy_inputs deploy
	assert_success
	assert_output --partial "warning: $T/ssl/cert.pem: myhostname $HOST is not among the certificate's names"
	assert_output --partial "wrote $BUNDLE"
}

@test "a root given in the chain is left out with a warning" {
	cat "$PKI/chain.pem" "$PKI/root.pem" >"$T/ssl/chain.pem"
	run deploy_inputs deploy
	assert_success
	assert_output --partial "warning: $T/ssl/chain.pem: the root CA /O=Test/CN=root was given and left out"
	run subjects "$BUNDLE"
	assert_output "$(printf '%s\n' "$HOST" inter2 inter1)"
}

@test "warnings go away with -q but problems stay" {
	use_leaf soon.example.org
	run deploy_inputs -q check
	assert_success
	assert_output ""
	cp "$PKI/other.example.org.key" "$T/ssl/key.pem"
	refuses 65 "private key does not match" deploy_inputs -q deploy
}

@test "the system trust store is used when no CA file is given" {
	refuses 65 "unable to get local issuer certificate at depth 2" \
		"$HELPER" -c "$T/postfix" --root "$T/root" --conf "$T/conf" \
		--cert "$T/ssl/cert.pem" --key "$T/ssl/key.pem" \
		--chain "$T/ssl/chain.pem" deploy
}

@test "a hashed trust directory given with --capath is used" {
	mkdir "$T/anchors"
	cp "$PKI/root.pem" "$T/anchors/"
	openssl rehash "$T/anchors"
	run "$HELPER" -c "$T/postfix" --root "$T/root" --conf "$T/conf" \
		--capath "$T/anchors" --cert "$T/ssl/cert.pem" \
		--key "$T/ssl/key.pem" --chain "$T/ssl/chain.pem" check
	assert_success
}

@test "the system store is looked up by hash, never by parsing the whole CA bundle" {
	[ -d /etc/ssl/certs ] || skip "no /etc/ssl/certs here"
	# (LeakSanitizer cannot work under ptrace: off for this one run.)
	run env ASAN_OPTIONS="${ASAN_OPTIONS:-}:detect_leaks=0" \
		strace -f -e trace=openat,stat,newfstatat,statx -o "$T/trace" "$HELPER" -c "$T/postfix" \
		--root "$T/root" --conf "$T/conf" --cert "$T/ssl/cert.pem" \
		--key "$T/ssl/key.pem" --chain "$T/ssl/chain.pem" check
	assert_failure 65    # the test root is not in the system store
	assert_file_contains "$T/trace" 'openat([0-9]*, "[0-9a-f]\{8\}\.0"'
	run grep -E '"(/etc/ssl/certs/ca-certificates\.crt|/usr/lib/ssl/cert\.pem|/etc/ssl/cert\.pem)"' "$T/trace"
	assert_failure
}

# problem_lines: how many problems (not warnings) the last run said.
problem_lines() {
	grep '^postfix-tls-setup: ' <<<"$output" | grep -vc '^postfix-tls-setup: warning: '
}

# weak_inputs LEAF [CHAIN]: LEAF's certificate and key, CHAIN as chain file.
weak_inputs() {
	use_leaf "$1"
	[ -z "${2:-}" ] || cp "$PKI/$2.pem" "$T/ssl/chain.pem"
}

# trusting ANCHOR: deploy the inputs, trusting ANCHOR only.
trusting() {
	"$HELPER" -c "$T/postfix" --root "$T/root" --conf "$T/conf" \
		--cafile "$PKI/$1.pem" --cert "$T/ssl/cert.pem" \
		--key "$T/ssl/key.pem" --chain "$T/ssl/chain.pem" deploy
}

@test "a trust anchor with an RSA-1024 key is refused, as a client at security level 2 refuses it" {
	run openssl verify -auth_level 2 -purpose sslserver -CAfile "$PKI/weakroot.pem" "$PKI/weak-root.example.org.pem"
	assert_failure
	assert_output --partial "CA certificate key too weak"
	weak_inputs weak-root.example.org weak-root.example.org
	refuses 65 "certificate chain does not verify as a TLS server: CA certificate key too weak at depth 1" \
		trusting weakroot
	assert_output --partial "under 112 bits of security"
}

@test "an intermediate on curve P-192 is refused once, by name, with its fix" {
	run openssl verify -auth_level 2 -purpose sslserver -CAfile "$PKI/root.pem" -untrusted "$PKI/inter192.pem" "$PKI/weak-inter.example.org.pem"
	assert_failure
	weak_inputs weak-inter.example.org inter192
	refuses 65 "key too weak" trusting root
	assert_equal "$(problem_lines)" 1
}

@test "an RSA-1024 leaf is one problem line, not one from each check" {
	weak_inputs weak.example.org
	refuses 65 "has a 1024-bit RSA key" trusting root
	assert_equal "$(problem_lines)" 1
}
