#!/usr/bin/env bats
# Bad input at scale: every case ends in a clear verdict, within bounded
# memory (ulimit -v) and time (timeout), and a refusal changes nothing.
# Limits (man page, LIMITS): 8 MiB per file, 4096 certificates, chains of
# 16, 32 symbolic links, 4095-character conf.d lines.

load ../helpers

setup_file() {
	pki_common
	# A chain deeper than the limit: root -> deep1 -> ... -> deep20 -> leaf.
	local prev=root i
	for i in $(seq 20); do
		pki_cert "deep$i" "$prev" ca
		prev=deep$i
	done
	pki_cert deep.example.org deep20 server
	# Two CAs that cross-sign each other: a loop of issuers.
	pki_cert loopa self ca
	pki_cert loopb self ca
	cp "$PKI/loopa.key" "$PKI/loopa-by-b.key"
	cp "$PKI/loopb.key" "$PKI/loopb-by-a.key"
	CN=loopa pki_cert loopa-by-b loopb ca
	CN=loopb pki_cert loopb-by-a loopa ca
	pki_cert loop.example.org loopa-by-b server
}

setup() {
	setup_world
	good_bundle
}

# bounded_run COMMAND: the helper on the usual inputs, bounded.
bounded_run() {
	bounded "$HELPER" -c "$T/postfix" --root "$T/root" --conf "$T/conf" \
		--cafile "$PKI/root.pem" --cert "$T/ssl/cert.pem" --key "$T/ssl/key.pem" \
		--chain "$T/ssl/chain.pem" "$1"
}

# bounded CMD...: at most 256 MB of address space and 20 seconds (under
# ASan or valgrind, whose runtimes reserve memory of their own, 300 s).
bounded() {
	if [ -n "${PTS_SANITIZER:-}" ]; then
		timeout 300 "$@"
	else
		(ulimit -v 262144; exec timeout 20 "$@")
	fi
}

@test "a 50 MB chain file is refused at once, without reading it" {
	head -c $((50 * 1024 * 1024)) /dev/urandom >"$T/ssl/chain.pem"
	refuses 65 "$T/ssl/chain.pem: file is 52428800 bytes, more than the limit of 8388608 bytes" \
		bounded_run deploy
}

@test "10,000 certificates in a chain file are refused past the limit of 4096" {
	for _ in $(seq 2500); do cat "$PKI/chain.pem" "$PKI/root.pem"; done >"$T/ssl/chain.pem"
	[ "$(grep -c 'BEGIN CERTIFICATE' "$T/ssl/chain.pem")" -eq 7500 ]
	cat "$T/ssl/chain.pem" "$T/ssl/chain.pem" | head -c 8000000 >"$T/ssl/big.pem"
	n=$(grep -c 'BEGIN CERTIFICATE' "$T/ssl/big.pem")
	[ "$n" -ge 10000 ] || skip "only $n certificates fit 8 MB here"
	mv "$T/ssl/big.pem" "$T/ssl/chain.pem"
	refuses 65 "$T/ssl/chain.pem: more than 4096 certificates in all inputs" \
		bounded_run deploy
}

@test "4096 certificates (a CA bundle as chain input) still assemble the right chain" {
	for _ in $(seq 1364); do cat "$PKI/chain.pem" "$PKI/root.pem"; done >"$T/ssl/chain.pem"
	run bounded_run check
	assert_success
	assert_output --partial "ok: $BUNDLE would be served with 3 certificates"
}

@test "a chain deeper than 16 certificates is refused" {
	use_leaf deep.example.org
	for i in $(seq 20 -1 1); do cat "$PKI/deep$i.pem"; done >"$T/ssl/chain.pem"
	refuses 65 "the certificate chain is longer than 16 certificates" \
		bounded_run deploy
}

@test "CAs that cross-sign each other (a loop) end in a refusal, not a hang" {
	use_leaf loop.example.org
	cat "$PKI/loopa-by-b.pem" "$PKI/loopb-by-a.pem" >"$T/ssl/chain.pem"
	refuses 65 "certificate chain does not verify" \
		bounded_run deploy
}

@test "a NUL byte inside a certificate is refused as damaged" {
	{ head -c 200 "$PKI/$HOST.pem"; printf '\0'; tail -c +201 "$PKI/$HOST.pem"; } >"$T/ssl/cert.pem"
	refuses 65 "$T/ssl/cert.pem: PEM block 1 is damaged or cut off" bounded_run deploy
}

@test "binary garbage with PEM markers inside is refused as damaged" {
	{ head -c 5000 /dev/urandom; echo; echo "-----BEGIN CERTIFICATE-----"; head -c 300 /dev/urandom; } >"$T/ssl/chain.pem"
	refuses 65 "$T/ssl/chain.pem: PEM block 1 is damaged or cut off" \
		bounded_run deploy
}

@test "a byte-order mark and unknown PEM blocks around the certificates are tolerated" {
	{ printf '\xef\xbb\xbf'; cat "$PKI/$HOST.pem"; } >"$T/ssl/cert.pem"
	{ printf -- '-----BEGIN SOMETHING ELSE-----\nSGVsbG8=\n-----END SOMETHING ELSE-----\n'
	  cat "$PKI/chain.pem"
	  openssl ecparam -name prime256v1; } >"$T/ssl/chain.pem"
	run deploy_inputs check
	assert_success
	assert_output --partial "ok: $BUNDLE would be served with 3 certificates"
}

@test "a settings file with NUL bytes or binary garbage is refused" {
	printf 'POSTFIX_TLS_WARN_DAYS=3\0\n' >"$T/conf"
	refuses 78 "$T/conf: contains a NUL byte" deploy_inputs deploy
	head -c 3000 /dev/urandom | tr -d '\0' >"$T/conf"
	refuses 78 "$T/conf:" deploy_inputs deploy
}
