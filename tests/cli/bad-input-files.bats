#!/usr/bin/env bats
# Bad input files: a clear error naming the file, and nothing lost.

load ../helpers

setup_file() {
	pki_common
}

setup() {
	setup_world
	good_bundle
}

@test "a missing certificate file is refused" {
	rm "$T/ssl/cert.pem"
	refuses 66 "$T/ssl/cert.pem: No such file or directory" deploy_inputs deploy
}

@test "an empty certificate file is refused" {
	: >"$T/ssl/cert.pem"
	refuses 65 "$T/ssl/cert.pem: file is empty" deploy_inputs deploy
}

@test "a garbage certificate file is refused" {
	head -c 3000 /dev/urandom | base64 >"$T/ssl/cert.pem"
	refuses 65 "$T/ssl/cert.pem: no PEM certificate found" deploy_inputs deploy
}

@test "a text file that starts with the digit 0 is not taken for DER" {
	printf '0123 not a certificate\n' >"$T/ssl/cert.pem"
	refuses 65 "$T/ssl/cert.pem: no PEM certificate found" deploy_inputs deploy
	refute_output --partial "DER"
}

@test "a truncated certificate file is refused" {
	head -n 5 "$PKI/$HOST.pem" >"$T/ssl/cert.pem"
	refuses 65 "$T/ssl/cert.pem: PEM block 1 is damaged or cut off" deploy_inputs deploy
}

@test "a truncated chain file is refused" {
	head -n 15 "$PKI/chain.pem" >"$T/ssl/chain.pem"
	refuses 65 "$T/ssl/chain.pem: PEM block 2 is damaged or cut off" deploy_inputs deploy
}

@test "a certificate with excess data after its end is refused, as Postfix refuses it" {
	sed '/^-----/d' "$PKI/$HOST.pem" | base64 -d | pki_excess CERTIFICATE >"$T/ssl/cert.pem"
	refuses 65 "$T/ssl/cert.pem: the certificate in PEM block 1 has excess data after its end; Postfix refuses it (restore the file from its source)" \
		deploy_inputs deploy
}

@test "a CA certificate with excess data in the chain file is refused" {
	{ cat "$PKI/inter2.pem"; sed '/^-----/d' "$PKI/inter1.pem" | base64 -d | pki_excess CERTIFICATE; } >"$T/ssl/chain.pem"
	refuses 65 "$T/ssl/chain.pem: the certificate in PEM block 2 has excess data after its end" \
		deploy_inputs deploy
}

@test "a DER certificate is refused with the command that converts it" {
	openssl x509 -in "$PKI/$HOST.pem" -outform DER -out "$T/ssl/cert.pem"
	refuses 65 "$T/ssl/cert.pem: file is in DER (binary) form; Postfix needs PEM (convert it: openssl x509 -inform DER" \
		deploy_inputs deploy
}

@test "a DER key is refused with the command that converts it" {
	openssl pkey -in "$PKI/$HOST.key" -outform DER -out "$T/ssl/key.pem"
	refuses 65 "$T/ssl/key.pem: file is in DER (binary) form; Postfix needs PEM (convert it: openssl pkey -inform DER" \
		deploy_inputs deploy
}

@test "a file over the size limit is refused" {
	head -c $((9 * 1024 * 1024)) /dev/zero >"$T/ssl/chain.pem"
	refuses 65 "$T/ssl/chain.pem: file is 9437184 bytes, more than the limit of 8388608 bytes" \
		deploy_inputs deploy
}

@test "a key file that holds no key is refused" {
	cp "$PKI/$HOST.pem" "$T/ssl/key.pem"
	refuses 65 "$T/ssl/key.pem: no private key found" deploy_inputs deploy
}

@test "a damaged key is refused" {
	sed '3s/[A-Za-z]/A/g' "$PKI/$HOST.key" >"$T/ssl/key.pem"
	refuses 65 "$T/ssl/key.pem: the private key cannot be parsed" deploy_inputs deploy
}

@test "a traditional EC PRIVATE KEY and other PEM blocks around it are accepted" {
	{ openssl ecparam -name prime256v1; openssl ec -in "$PKI/$HOST.key" 2>/dev/null; } >"$T/ssl/key.pem"
	grep -q 'BEGIN EC PRIVATE KEY' "$T/ssl/key.pem"
	run deploy_inputs check
	assert_success
}

@test "keys of every kind a server uses are read, and a wrong key of each kind is caught" {
	local kind n=0
	for kind in rsa:2048 ec:P-384 ED25519 ED448; do
		n=$((n + 1))
		pki_cert "kind$n.example.org" inter2 server "$kind"
		pki_key "wrong$n" "$kind"
		use_leaf "kind$n.example.org"
		run deploy_inputs check
		assert_success
		cp "$PKI/wrong$n.key" "$T/ssl/key.pem"
		refuses 65 "$T/ssl/key.pem: private key does not match" deploy_inputs deploy
	done
	# RSA's traditional form (not PKCS#8) too.
	openssl pkey -in "$PKI/kind1.example.org.key" -traditional -out "$T/ssl/key.pem"
	grep -q 'BEGIN RSA PRIVATE KEY' "$T/ssl/key.pem"
	cp "$PKI/kind1.example.org.pem" "$T/ssl/cert.pem"
	run deploy_inputs check
	assert_success
}

@test "the key never appears in any output, even with -v" {
	cp "$PKI/other.example.org.key" "$T/ssl/key.pem" 2>/dev/null ||
		openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$T/ssl/key.pem"
	refuses 65 "private key does not match" deploy_inputs -v deploy
	body=$(sed -n '2p' "$T/ssl/key.pem" | cut -c1-20)
	refute_output --partial "$body"
	refute_output --regexp "BEGIN [A-Z ]*PRIVATE KEY"
}

@test "a bad chain file does not hide the other problems" {
	: >"$T/ssl/chain.pem"
	cp "$PKI/other.example.org.key" "$T/ssl/key.pem" 2>/dev/null ||
		openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$T/ssl/key.pem"
	refuses 65 "$T/ssl/chain.pem: file is empty" deploy_inputs deploy
	assert_output --partial "$T/ssl/key.pem: private key does not match"
	assert_output --partial "unable to get local issuer certificate"
}
