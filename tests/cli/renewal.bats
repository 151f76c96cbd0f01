#!/usr/bin/env bats
# Issue 20: renew, on files.  An ACME client's new files go through every
# check deploy runs before anything is put in place; a refusal keeps the
# old bundle byte for byte, says why, and is recorded for check --json
# and --nagios.  The reload through the init system is the world tier's
# (tests/world/renewal-certbot.bats): here /run is an empty tmpfs in a
# mount namespace of the test's own, so no init system is found and
# nothing of the machine's is reloaded.

load ../helpers

setup_file() {
	pki_common
	pki_cert other.example.org inter2 server
	# The next certificate for the host, with a key of its own.
	mkdir -p "$PKI/next"
	cp "$PKI/inter2.pem" "$PKI/inter2.key" "$PKI/next/"
	PKI=$PKI/next pki_cert "$HOST" inter2 server
}

# The client's lineage in $A, main.cf reading key and chain from the
# helper's bundle, the tuning file naming the client's files; deployed.
setup() {
	need_root
	setup_world
	A=$T/acme/live/$HOST
	mkdir -p "$A" "$T/root/var/lib"
	chmod 755 "$T/acme" "$T/acme/live" "$A"
	cp "$PKI/$HOST.pem" "$A/cert.pem"
	cp "$PKI/chain.pem" "$A/chain.pem"
	install -m 0600 "$PKI/$HOST.key" "$A/privkey.pem"
	printf '%s\n' "smtpd_tls_security_level = may" \
		"smtpd_tls_chain_files = $BUNDLE" "myhostname = $HOST" \
		>"$T/postfix/main.cf"
	settle_maincf
	printf '%s\n' "POSTFIX_TLS_CERT=$A/cert.pem" \
		"POSTFIX_TLS_KEY=$A/privkey.pem" "POSTFIX_TLS_CHAIN=$A/chain.pem" \
		"POSTFIX_TLS_BUNDLE=$BUNDLE" >"$T/conf"
	helper -q deploy
	assert_file_exists "$BUNDLE"
	RECORDS=$T/root/var/lib/postfix-tls-setup
}

# renew_run [ARGS...]: the client's hook, as the helper sees it, with no
# init system in sight (an empty /run).
renew_run() {
	unshare --mount --propagation private sh -c \
		'mount -t tmpfs none /run && exec "$@"' sh \
		"$HELPER" -c "$T/postfix" --root "$T/root" --conf "$T/conf" \
		--cafile "$PKI/root.pem" renew --cert "$A/cert.pem" \
		--key "$A/privkey.pem" --chain "$A/chain.pem" "$@"
}

# The serial of the leaf in the bundle.
bundle_serial() {
	openssl x509 -in "$BUNDLE" -noout -serial
}

@test "a renewal with a new key and certificate is deployed: the bundle holds the new key first, then the new chain" {
	cp "$PKI/next/$HOST.pem" "$A/cert.pem"
	install -m 0600 "$PKI/next/$HOST.key" "$A/privkey.pem"
	run renew_run
	assert_success
	assert_output --partial "wrote $BUNDLE"
	assert_output --partial "no init system found to reload Postfix"
	assert_equal "$(bundle_serial)" "$(openssl x509 -in "$PKI/next/$HOST.pem" -noout -serial)"
	assert_equal "$(openssl pkey -in "$BUNDLE" -pubout)" \
		"$(openssl pkey -in "$PKI/next/$HOST.key" -pubout)"
	assert_equal "$(stat -c '%u:%g %a' "$BUNDLE")" "0:0 600"
	assert_file_not_exists "$RECORDS"
}

@test "a renewal whose new key was swapped for an unrelated one is refused and the old bundle is kept byte for byte" {
	cp "$PKI/next/$HOST.pem" "$A/cert.pem"
	install -m 0600 "$PKI/other.example.org.key" "$A/privkey.pem"
	old=$(sha256sum <"$BUNDLE")
	refuses 65 "$A/privkey.pem: private key does not match public key in certificate" \
		renew_run
	assert_equal "$(sha256sum <"$BUNDLE")" "$old"
	refute_output --partial "wrote"
}

@test "a renewal whose new leaf no longer covers myhostname is refused and the old bundle is kept byte for byte" {
	cp "$PKI/other.example.org.pem" "$A/cert.pem"
	install -m 0600 "$PKI/other.example.org.key" "$A/privkey.pem"
	old=$(sha256sum <"$BUNDLE")
	refuses 65 "$A/cert.pem: the new certificate does not cover $HOST, which the certificate it would replace covers" \
		renew_run
	assert_equal "$(sha256sum <"$BUNDLE")" "$old"
}

@test "a refused renewal is recorded, root's alone, and check, check --json and check --nagios say since when and why" {
	install -m 0600 "$PKI/other.example.org.key" "$A/privkey.pem"
	run renew_run
	assert_failure 65
	run find "$RECORDS" -type f -name 'renewal-*' -user root -perm 600
	assert_equal "${#lines[@]}" 1
	assert_equal "$(stat -c %a "$RECORDS")" 700
	# The client's files are still wrong: check says so, and the record.
	install -m 0600 "$PKI/$HOST.key" "$A/privkey.pem"
	run helper check --json
	assert_success
	python3 -c '
import json, sys
d = json.loads(sys.argv[1])
assert d["status"] == "warning", d["status"]
m = [f["message"] for f in d["findings"] if "renewal refused since" in f["message"]]
assert len(m) == 1, d["findings"]
assert "private key does not match public key in certificate" in m[0], m[0]
' "$output"
	run helper check --nagios
	assert_failure 1
	assert_output --regexp '^POSTFIX-TLS WARNING - .*renewal refused since 20[0-9-]+T[0-9:]+Z: .*private key does not match'
}

@test "the first refusal's time is kept across refusals, and a good renewal removes the record" {
	install -m 0600 "$PKI/other.example.org.key" "$A/privkey.pem"
	run renew_run
	assert_failure 65
	first=$(grep '^since ' "$RECORDS"/renewal-*)
	sleep 1
	cp "$PKI/other.example.org.pem" "$A/cert.pem"
	run renew_run
	assert_failure 65
	assert_equal "$(grep '^since ' "$RECORDS"/renewal-*)" "$first"
	run grep -c '^why .*does not cover' "$RECORDS"/renewal-*
	assert_output 1
	cp "$PKI/next/$HOST.pem" "$A/cert.pem"
	install -m 0600 "$PKI/next/$HOST.key" "$A/privkey.pem"
	run renew_run
	assert_success
	run ls "$RECORDS"
	assert_output ""
	run helper check --nagios
	assert_success
	refute_output --partial "renewal"
}

@test "a bundle in the client's own directory is refused: Postfix must never read the client's live files" {
	sed -i "s|^POSTFIX_TLS_BUNDLE=.*|POSTFIX_TLS_BUNDLE=$A/fullchain.pem|" "$T/conf"
	sed -i "s|^smtpd_tls_chain_files = .*|smtpd_tls_chain_files = $A/fullchain.pem|" "$T/postfix/main.cf"
	settle_maincf
	refuses 78 "$A/fullchain.pem: main.cf serves this file from the ACME client's own directory" \
		renew_run
}

@test "a renewal is refused when Postfix reads the key from a file of its own, not from the bundle" {
	write_maincf
	refuses 78 "Postfix reads the key from $A/privkey.pem, not from this bundle" renew_run
}

@test "a renewal of files the tuning file does not name is refused: the next start would deploy the old ones again" {
	mkdir -p "$T/elsewhere"
	chmod 755 "$T/elsewhere"
	cp "$PKI/next/$HOST.pem" "$T/elsewhere/cert.pem"
	install -m 0600 "$PKI/next/$HOST.key" "$T/elsewhere/key.pem"
	refuses 78 "the tuning file names other files for this identity (POSTFIX_TLS_CERT = $A/cert.pem)" \
		unshare --mount --propagation private sh -c \
		'mount -t tmpfs none /run && exec "$@"' sh \
		"$HELPER" -c "$T/postfix" --root "$T/root" --conf "$T/conf" \
		--cafile "$PKI/root.pem" renew --cert "$T/elsewhere/cert.pem" \
		--key "$T/elsewhere/key.pem" --chain "$A/chain.pem"
}

@test "renew without the client's key is a usage error, and nothing is recorded" {
	run "$HELPER" -c "$T/postfix" --root "$T/root" --conf "$T/conf" renew --cert "$A/cert.pem"
	assert_failure 64
	assert_output --partial "renew needs the client's new files: --cert and --key"
	assert_file_not_exists "$RECORDS"
}

# hook NAME [VAR=VALUE...] [-- ARG...]: files/hooks/NAME as make install
# makes it, the helper's path replaced by a wrapper that points it at the
# test world and /etc/ by $T/etc/; run with cron's environment (env -i,
# the VARs) and the ARGs, no init system in sight.
hook() {
	local name=$1
	local -a vars=()
	shift
	while [ "$#" -gt 0 ] && [ "$1" != -- ]; do
		vars+=("$1")
		shift
	done
	[ "$#" -eq 0 ] || shift
	mkdir -p "$T/bin"
	printf '#!/bin/sh\nexec %s -c %s --root %s --conf %s --cafile %s "$@"\n' \
		"$HELPER" "$T/postfix" "$T/root" "$T/conf" "$PKI/root.pem" >"$T/bin/pts"
	sed -e "s|/usr/sbin/postfix-tls-setup|$T/bin/pts|g" -e "s|/etc/|$T/etc/|g" \
		"$TOP/files/hooks/$name" >"$T/bin/$name"
	chmod 755 "$T/bin/pts" "$T/bin/$name"
	unshare --mount --propagation private sh -c \
		'mount -t tmpfs none /run && exec "$@"' sh \
		env -i PATH=/usr/bin:/bin "${vars[@]}" "$T/bin/$name" "$@"
}

# The next certificate in the client's files, under NAME's layout.
next_in() {
	cp "$PKI/next/$HOST.pem" "$1"
	install -m 0600 "$PKI/next/$HOST.key" "$2"
}

next_served() {
	assert_equal "$(bundle_serial)" "$(openssl x509 -in "$PKI/next/$HOST.pem" -noout -serial)"
}

@test "certbot's hook renews the lineage RENEWED_LINEAGE names" {
	next_in "$A/cert.pem" "$A/privkey.pem"
	run hook certbot RENEWED_LINEAGE="$A" RENEWED_DOMAINS="$HOST"
	assert_success
	assert_output --partial "wrote $BUNDLE"
	next_served
}

@test "certbot's hook reports a refused renewal with the helper's status, and the old bundle stays" {
	install -m 0600 "$PKI/other.example.org.key" "$A/privkey.pem"
	old=$(sha256sum <"$BUNDLE")
	run hook certbot RENEWED_LINEAGE="$A" RENEWED_DOMAINS="$HOST"
	assert_failure 65
	assert_output --partial "private key does not match public key in certificate"
	assert_equal "$(sha256sum <"$BUNDLE")" "$old"
}

@test "dehydrated's hook acts on deploy_cert only, with its KEYFILE, CERTFILE and CHAINFILE" {
	old=$(sha256sum <"$BUNDLE")
	run hook dehydrated
	assert_success
	assert_output ""
	assert_equal "$(sha256sum <"$BUNDLE")" "$old"
	for verb in this_hookscript_is_broken__dehydrated_is_working_fine__please_ignore_unknown_hooks_in_your_script \
		deploy_challenge startup_hook; do
		run hook dehydrated -- "$verb" "$HOST" x y
		assert_success
		assert_output ""
	done
	assert_equal "$(sha256sum <"$BUNDLE")" "$old"
	next_in "$A/cert-1.pem" "$A/privkey-1.pem"
	cat "$A/cert-1.pem" "$A/chain.pem" >"$A/fullchain-1.pem"
	run hook dehydrated -- deploy_cert "$HOST" "$A/privkey-1.pem" "$A/cert-1.pem" \
		"$A/fullchain-1.pem" "$A/chain.pem" 1796600000
	assert_success
	next_served
}

@test "lego's hook renews from LEGO_CERT_PATH (leaf and issuer) and LEGO_CERT_KEY_PATH" {
	next_in "$A/$HOST.crt" "$A/$HOST.key"
	cat "$A/chain.pem" >>"$A/$HOST.crt"
	run hook lego LEGO_CERT_DOMAIN="$HOST" LEGO_CERT_PATH="$A/$HOST.crt" \
		LEGO_CERT_KEY_PATH="$A/$HOST.key"
	assert_success
	next_served
}

@test "uacme's hook reads uacme's own layout for DOMAIN, and refuses a DOMAIN that leaves it" {
	u=$T/etc/ssl/uacme
	mkdir -p "$u/$HOST" "$u/private/$HOST"
	chmod -R 755 "$T/etc"
	chmod 700 "$u/private"
	cat "$PKI/next/$HOST.pem" "$A/chain.pem" >"$u/$HOST/cert.pem"
	install -m 0600 "$PKI/next/$HOST.key" "$u/private/$HOST/key.pem"
	sed -i -e "s|^POSTFIX_TLS_CERT=.*|POSTFIX_TLS_CERT=$u/$HOST/cert.pem|" \
		-e "s|^POSTFIX_TLS_KEY=.*|POSTFIX_TLS_KEY=$u/private/$HOST/key.pem|" \
		-e "/^POSTFIX_TLS_CHAIN=/d" "$T/conf"
	old=$(sha256sum <"$BUNDLE")
	for bad in "" ../x .x a/b; do
		run hook uacme -- "$bad"
		assert_failure 64
		assert_output --partial "usage: uacme DOMAIN"
	done
	assert_equal "$(sha256sum <"$BUNDLE")" "$old"
	run hook uacme -- "$HOST"
	assert_success
	next_served
}
