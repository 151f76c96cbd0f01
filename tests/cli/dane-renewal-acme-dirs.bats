#!/usr/bin/env bats
# Issue 20, part 5 (with part 1's rule): Postfix must never read an ACME
# client's live files directly.  Each new smtpd process loads the
# certificate and key when it starts, not at reload, so a key the client
# replaced is served with the old certificate before any hook runs.
# check warns when main.cf or master.cf names a file in certbot's,
# dehydrated's, uacme's or lego's directory; the client's files as
# POSTFIX_TLS_CERT/KEY (the deployed set in main.cf) are the right way
# and draw no warning.

# shellcheck disable=SC2154 # $stderr: run --separate-stderr
bats_require_minimum_version 1.5.0

load ../helpers
load ../pins-lib

setup_file() {
	pki_common
	pki_rsa_lineage
}

setup() {
	need_root
	setup_world
}

# client_files DIR CERT KEY: the host's full chain in DIR/CERT and its
# key in DIR/KEY, root's, as an ACME client leaves them.
client_files() {
	mkdir -p "$T$1"
	chmod -R 755 "$T/etc" "$T/var" 2>/dev/null || true
	cat "$PKI/$HOST.pem" "$PKI/chain.pem" >"$T$1/$2"
	cp "$PKI/$HOST.key" "$T$1/$3"
	chmod 0644 "$T$1/$2"
	chmod 0600 "$T$1/$3"
}

# The warning for PARAM naming FILE of CLIENT's, without the prefix.
acme_warning() {
	echo "$2: $1 names a file in $3's own directory: Postfix loads it in each new process, so while $3 renews, a new key can be served with the old certificate (name the deployed set instead: set POSTFIX_TLS_CERT and POSTFIX_TLS_KEY to the client's files and point $1 at the bundle postfix-tls-setup writes (its hook deploys each renewal))"
}

@test "main.cf naming certbot's live files: check warns for the certificate and the key, exits 0, and --json says it as warnings" {
	local d=/etc/letsencrypt/live/$HOST
	client_files "$d" fullchain.pem privkey.pem
	write_maincf
	edit_maincf "s|^smtpd_tls_cert_file = .*|smtpd_tls_cert_file = $T$d/fullchain.pem|; s|^smtpd_tls_key_file = .*|smtpd_tls_key_file = $T$d/privkey.pem|"
	run helper check
	assert_success
	assert_output --partial "postfix-tls-setup: warning: main.cf: $(acme_warning smtpd_tls_cert_file "$T$d/fullchain.pem" certbot)"
	assert_output --partial "postfix-tls-setup: warning: main.cf: $(acme_warning smtpd_tls_key_file "$T$d/privkey.pem" certbot)"
	run --separate-stderr helper --json check
	assert_success
	assert_equal "$(pins_json 'd["status"]')" warning
	assert_equal "$(pins_json '[(f["severity"], f["file"]) for f in d["findings"]]')" \
		"[[\"warning\", \"$T$d/fullchain.pem\"], [\"warning\", \"$T$d/privkey.pem\"]]"
	# Advice for check only: the hook's deploy says nothing of it.
	run helper deploy
	assert_success
	refute_output --partial "own directory"
}

@test "dehydrated's, uacme's and lego's directories are named too, in smtpd_tls_chain_files as in the cert and key settings" {
	client_files /var/lib/dehydrated/certs/$HOST fullchain.pem privkey.pem
	write_maincf
	edit_maincf "s|^smtpd_tls_cert_file = .*|smtpd_tls_cert_file = $T/var/lib/dehydrated/certs/$HOST/fullchain.pem|; s|^smtpd_tls_key_file = .*|smtpd_tls_key_file = $T/var/lib/dehydrated/certs/$HOST/privkey.pem|"
	run helper check
	assert_success
	assert_output --partial "warning: main.cf: $(acme_warning smtpd_tls_cert_file "$T/var/lib/dehydrated/certs/$HOST/fullchain.pem" dehydrated)"
	# uacme: the key under private/, the chain beside the leaf.
	client_files /etc/ssl/uacme/$HOST cert.pem key.pem
	write_maincf
	edit_maincf "s|^smtpd_tls_cert_file = .*|smtpd_tls_cert_file = $T/etc/ssl/uacme/$HOST/cert.pem|; s|^smtpd_tls_key_file = .*|smtpd_tls_key_file = $T/etc/ssl/uacme/$HOST/key.pem|"
	run helper check
	assert_success
	assert_output --partial "warning: main.cf: $(acme_warning smtpd_tls_key_file "$T/etc/ssl/uacme/$HOST/key.pem" uacme)"
	# lego's files as Postfix's own documentation lays out
	# smtpd_tls_chain_files (a key file, then its certificate file): the
	# ECDSA pair beside the helper's RSA bundle, each lego file named.
	client_files /root/.lego/certificates "$HOST.crt" "$HOST.key"
	cp "$PKI/rsa.pem" "$T/ssl/cert.pem"
	cp "$PKI/rsa.key" "$T/ssl/key.pem"
	write_maincf "smtpd_tls_chain_files = $BUNDLE, $T/root/.lego/certificates/$HOST.key, $T/root/.lego/certificates/$HOST.crt"
	edit_maincf "/^smtpd_tls_cert_file/d; /^smtpd_tls_key_file/d"
	run deploy_inputs check
	assert_success
	assert_output --partial "warning: main.cf: $(acme_warning smtpd_tls_chain_files "$T/root/.lego/certificates/$HOST.key" lego)"
	assert_output --partial "warning: main.cf: $(acme_warning smtpd_tls_chain_files "$T/root/.lego/certificates/$HOST.crt" lego)"
	refute_output --partial "$BUNDLE: smtpd_tls_chain_files names"
}

@test "the client's files as POSTFIX_TLS_CERT and POSTFIX_TLS_KEY, main.cf naming the deployed bundle: no warning" {
	local d=/etc/letsencrypt/live/$HOST
	client_files "$d" fullchain.pem privkey.pem
	# The README's set-up: the bundle carries the key (with a separate
	# smtpd_tls_key_file, a --key elsewhere is refused).
	write_maincf "smtpd_tls_chain_files = $BUNDLE"
	edit_maincf "/^smtpd_tls_cert_file/d; /^smtpd_tls_key_file/d"
	run helper --cert "$T$d/fullchain.pem" --key "$T$d/privkey.pem" deploy
	assert_success
	run helper --cert "$T$d/fullchain.pem" --key "$T$d/privkey.pem" check
	assert_success
	refute_output --partial "own directory"
	refute_output --partial "warning:"
}

@test "an SNI entry naming certbot's live files draws no such warning: postmap copied them into the map" {
	local d=/etc/letsencrypt/live/a
	client_files "$d" fullchain.pem privkey.pem
	sni_map hash "a.example.org $T$d/privkey.pem, $T$d/fullchain.pem"
	good_bundle
	run deploy_inputs check
	refute_output --partial "own directory"
}
