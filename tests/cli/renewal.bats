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
