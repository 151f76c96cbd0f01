#!/usr/bin/env bats
# Assembly: leaf first, issuers in order, whatever the inputs looked like.

load ../helpers

setup_file() {
	pki_common
	pki_cert unrelated self ca
	pki_cert cross inter1 ca
	# inter2's expired twin (same name and key) and an impostor (same
	# name, another key), both issued by inter1.
	cp "$PKI/inter2.key" "$PKI/inter2-expired.key"
	CN=inter2 pki_cert inter2-expired inter1 ca ec 30 -400d
	CN=inter2 pki_cert inter2-impostor inter1 ca
}

setup() {
	setup_world
}

# expect_order CN...: the bundle on disk holds exactly these certificates,
# in this order.  (Not with run: $output stays the helper's.)
expect_order() {
	assert_equal "$(subjects "$BUNDLE")" "$(printf '%s\n' "$@")"
}

@test "the chain is put in issuing order whatever order it came in" {
	cat "$PKI/inter1.pem" "$PKI/inter2.pem" >"$T/ssl/chain.pem"
	run deploy_inputs deploy
	assert_success
	assert_output "wrote $BUNDLE (3 certificates)"
	expect_order "$HOST" inter2 inter1
}

@test "a chain split over several files in any order is assembled" {
	run helper --cert "$T/ssl/cert.pem" --key "$T/ssl/key.pem" \
		--chain "$PKI/inter1.pem" --chain "$PKI/inter2.pem" deploy
	assert_success
	assert_output "wrote $BUNDLE (3 certificates)"
	expect_order "$HOST" inter2 inter1
}

@test "a leaf file that comes after its CAs (reversed fullchain) is sorted" {
	cat "$PKI/inter1.pem" "$PKI/inter2.pem" "$PKI/$HOST.pem" >"$T/ssl/cert.pem"
	run helper --cert "$T/ssl/cert.pem" --key "$T/ssl/key.pem" deploy
	assert_success
	assert_output "wrote $BUNDLE (3 certificates)"
	expect_order "$HOST" inter2 inter1
}

@test "certbot's fullchain.pem works as the certificate with no chain files" {
	cp "$PKI/fullchain.pem" "$T/ssl/fullchain.pem"
	run helper --cert "$T/ssl/fullchain.pem" --key "$T/ssl/key.pem" deploy
	assert_success
	assert_output "wrote $BUNDLE (3 certificates)"
	expect_order "$HOST" inter2 inter1
}

@test "duplicates are dropped" {
	cat "$PKI/chain.pem" "$PKI/inter2.pem" "$PKI/$HOST.pem" >"$T/ssl/chain.pem"
	run deploy_inputs deploy
	assert_success
	expect_order "$HOST" inter2 inter1
	assert_output "wrote $BUNDLE (3 certificates)"    # no note: nothing was left out
}

@test "certificates off the leaf's path are dropped with a note" {
	cat "$PKI/unrelated.pem" "$PKI/chain.pem" "$PKI/cross.pem" >"$T/ssl/chain.pem"
	run deploy_inputs deploy
	assert_success
	assert_output --partial "note: $T/ssl/chain.pem: left out 2 certificates not on the leaf's path"
	expect_order "$HOST" inter2 inter1
}

@test "the root is dropped unless POSTFIX_TLS_INCLUDE_ROOT=yes" {
	cat "$PKI/chain.pem" "$PKI/root.pem" >"$T/ssl/chain.pem"
	run deploy_inputs deploy
	assert_success
	expect_order "$HOST" inter2 inter1
	assert_output --partial "warning: $T/ssl/chain.pem: the root CA /O=Test/CN=root was given and left out of the bundle"
	assert_output --partial "wrote $BUNDLE (3 certificates)"
	refute_output --partial "note:"       # the root is not "off the path"
	echo "POSTFIX_TLS_INCLUDE_ROOT=yes" >"$T/conf"
	run deploy_inputs deploy
	assert_success
	expect_order "$HOST" inter2 inter1 root
	assert_output "wrote $BUNDLE (4 certificates)"
}

@test "the key in the certificate file works (smtpd_tls_key_file = \$smtpd_tls_cert_file)" {
	write_maincf
	edit_maincf 's|^smtpd_tls_key_file = .*|smtpd_tls_key_file = $smtpd_tls_cert_file|'
	cat "$PKI/$HOST.key" "$PKI/$HOST.pem" "$PKI/inter1.pem" >"$BUNDLE"
	cp "$PKI/inter2.pem" "$T/ssl/chain.pem"
	run helper --chain "$T/ssl/chain.pem" deploy
	assert_success
	assert_output --partial "wrote $BUNDLE (3 certificates after the private key)"
	expect_order "$HOST" inter2 inter1
	run openssl pkey -in "$BUNDLE" -pubout
	assert_success
	assert_equal "$(openssl pkey -in "$BUNDLE" -pubout)" \
		"$(openssl pkey -in "$PKI/$HOST.key" -pubout)"
	assert_regex "$(head -n1 "$BUNDLE")" 'BEGIN PRIVATE KEY'  # the key comes first
}

@test "the bundle is written as clean PEM with LF line endings from CRLF input" {
	sed 's/$/\r/' "$PKI/$HOST.pem" >"$T/ssl/cert.pem"
	{ echo "junk before"; sed 's/$/\r/' "$PKI/chain.pem"; echo "junk after"; } >"$T/ssl/chain.pem"
	run deploy_inputs deploy
	assert_success
	run grep -c $'\r' "$BUNDLE"
	assert_output 0
	refute grep -q junk "$BUNDLE"
	assert_equal "$(grep -c '^-----BEGIN CERTIFICATE-----$' "$BUNDLE")" 3
}

@test "an unchanged bundle is not rewritten and keeps its mtime" {
	run deploy_inputs deploy
	assert_success
	touch -d '2020-01-01 00:00' "$BUNDLE"
	ino=$(stat -c %i "$BUNDLE")
	run deploy_inputs deploy
	assert_success
	refute_output --partial "wrote"
	assert_equal "$(stat -c %Y "$BUNDLE")" "$(date -d '2020-01-01 00:00' +%s)"
	assert_equal "$(stat -c %i "$BUNDLE")" "$ino"
}

@test "a changed chain replaces the bundle atomically by rename" {
	cp "$PKI/fullchain.pem" "$BUNDLE"
	sed -i '1,/END CERTIFICATE/d' "$BUNDLE"   # an old, broken bundle
	ino=$(stat -c %i "$BUNDLE")
	run deploy_inputs deploy
	assert_success
	assert_output --partial "wrote $BUNDLE (3 certificates)"
	assert_not_equal "$(stat -c %i "$BUNDLE")" "$ino"
	expect_order "$HOST" inter2 inter1
	run ls -A "$T/postfix"
	assert_output "$(printf '%s\n' certificate.pem main.cf)"
}

@test "without any settings, main.cf's own files are checked and fixed in place" {
	write_maincf "smtpd_tls_key_file = $T/ssl/key.pem"
	cat "$PKI/inter1.pem" "$PKI/$HOST.pem" "$PKI/inter2.pem" >"$BUNDLE"
	run helper deploy
	assert_success
	assert_output "wrote $BUNDLE (3 certificates)"
	expect_order "$HOST" inter2 inter1
}

@test "check on a missing bundle says it would write it and writes nothing" {
	before=$(snapshot)
	run deploy_inputs check
	assert_success
	assert_output --partial "would write $BUNDLE (3 certificates)"
	assert_file_not_exists "$BUNDLE"
	assert_equal "$(snapshot)" "$before"
}

@test "an expired twin of an intermediate is passed over for the valid one" {
	cat "$PKI/inter2-expired.pem" "$PKI/inter2.pem" "$PKI/inter1.pem" >"$T/ssl/chain.pem"
	run deploy_inputs deploy
	assert_success
	cat "$PKI/$HOST.pem" "$PKI/inter2.pem" "$PKI/inter1.pem" >"$T/expected.pem"
	cmp "$BUNDLE" "$T/expected.pem"
}

@test "of two CAs with the issuer's name, the one whose key signed the leaf is taken" {
	cat "$PKI/inter2-impostor.pem" "$PKI/inter2.pem" "$PKI/inter1.pem" >"$T/ssl/chain.pem"
	run deploy_inputs deploy
	assert_success
	cat "$PKI/$HOST.pem" "$PKI/inter2.pem" "$PKI/inter1.pem" >"$T/expected.pem"
	cmp "$BUNDLE" "$T/expected.pem"
}

@test "a wrong key is reported against the server's certificate even when its CA comes first in the file" {
	cat "$PKI/inter2.pem" "$PKI/$HOST.pem" >"$T/ssl/cert.pem"
	cp "$PKI/unrelated.key" "$T/ssl/key.pem"
	refuses 65 "private key does not match public key in certificate" \
		helper --cert "$T/ssl/cert.pem" --key "$T/ssl/key.pem" \
		--chain "$T/ssl/chain.pem" deploy
	refute_output --partial "the first certificate,"
}
