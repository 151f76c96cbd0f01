#!/usr/bin/env bats
# Review of issue 11: set-ups real smtpd 3.7 cannot serve that the helper
# passes, and the reverse.  Each was measured against real smtpd in a world
# (see the review report); these tests pin the helper's side only.

load helpers

setup_file() {
	pki_common
	pki_cert a.example.net inter2 server
	pki_cert submit.example.org inter2 server
}

setup() {
	need_root
	setup_world
}

@test "review11: two deployed sets of one algorithm in smtpd_tls_chain_files are refused (smtpd: not replacing certificate, TLS off)" {
	cp "$PKI/a.example.net.pem" "$T/ssl/cert2.pem"
	cp "$PKI/a.example.net.key" "$T/ssl/key2.pem"
	write_maincf "smtpd_tls_chain_files = $T/postfix/b1.pem, $T/postfix/b2.pem"
	sed -i '/smtpd_tls_cert_file\|smtpd_tls_key_file/d' "$T/postfix/main.cf"
	settle_maincf
	cat >"$T/conf" <<-CONF
	POSTFIX_TLS_CERT=$T/ssl/cert.pem
	POSTFIX_TLS_KEY=$T/ssl/key.pem
	POSTFIX_TLS_CHAIN=$T/ssl/chain.pem
	POSTFIX_TLS_BUNDLE=$T/postfix/b1.pem
	POSTFIX_TLS_CERT_2=$T/ssl/cert2.pem
	POSTFIX_TLS_KEY_2=$T/ssl/key2.pem
	POSTFIX_TLS_CHAIN_2=$T/ssl/chain.pem
	POSTFIX_TLS_BUNDLE_2=$T/postfix/b2.pem
	CONF
	run helper deploy
	assert_failure
	assert_output --partial "ECDSA"
}

@test "review11: one deployed bundle named twice in smtpd_tls_chain_files is refused" {
	write_maincf "smtpd_tls_chain_files = $BUNDLE, $BUNDLE"
	sed -i '/smtpd_tls_cert_file\|smtpd_tls_key_file/d' "$T/postfix/main.cf"
	settle_maincf
	run deploy_inputs deploy
	assert_failure
}

@test "review11: a service that blanks smtpd_tls_chain_files serves its own cert/key pair, which is checked" {
	write_maincf "smtpd_tls_chain_files = $BUNDLE"
	sed -i '/smtpd_tls_cert_file\|smtpd_tls_key_file/d' "$T/postfix/main.cf"
	settle_maincf
	deploy_inputs -q deploy
	mkdir -p "$T/sub"
	chmod 755 "$T/sub"
	cp "$PKI/submit.example.org.pem" "$T/sub/cert.pem"
	cp "$PKI/a.example.net.key" "$T/sub/key.pem"	# does not match
	chmod 600 "$T/sub/key.pem"
	touch "$T/postfix/master.cf"
	postconf -c "$T/postfix" -M "submission/inet=submission inet n - n - - smtpd"
	postconf -c "$T/postfix" -P "submission/inet/smtpd_tls_security_level=encrypt" \
		"submission/inet/smtpd_tls_chain_files=" \
		"submission/inet/smtpd_tls_cert_file=$T/sub/cert.pem" \
		"submission/inet/smtpd_tls_key_file=$T/sub/key.pem"
	run deploy_inputs check
	assert_failure
	assert_output --partial "submission/inet (master.cf)"
	assert_output --partial "$T/sub/key.pem"
}

@test "review11: a refused deploy (SNI map in a sticky shared directory) leaves the bundle as it was" {
	good_bundle
	cp "$PKI/a.example.net.key" "$T/ssl/a.key"
	chmod 600 "$T/ssl/a.key"
	cat "$PKI/a.example.net.pem" "$PKI/chain.pem" >"$T/ssl/a.pem"
	src=$(mktemp /tmp/review11-sni.XXXXXX)
	echo "a.example.net $T/ssl/a.key $T/ssl/a.pem" >"$src"
	chmod 600 "$src"
	write_maincf "tls_server_sni_maps = hash:$src"
	pki_cert "$HOST" inter2 server	# a renewal: same key, new certificate
	cp "$PKI/$HOST.pem" "$T/ssl/cert.pem"
	before=$(sha256sum <"$BUNDLE")
	run deploy_inputs deploy
	rm -f "$src" "$src.db"
	assert_failure
	assert_equal "$(sha256sum <"$BUNDLE")" "$before"
}

@test "review11: an SNI key file as openssl ecparam -genkey writes it (EC PARAMETERS first) is served by smtpd 3.7, so not refused" {
	good_bundle
	mkdir -p "$T/sni"
	chmod 755 "$T/sni"
	openssl ecparam -name prime256v1 -genkey -out "$T/sni/c.key"
	chmod 600 "$T/sni/c.key"
	openssl req -new -key "$T/sni/c.key" -subj "/CN=c.example.net" -out "$T/sni/c.csr"
	pki_ext server c.example.net >"$T/sni/c.ext"
	openssl x509 -req -in "$T/sni/c.csr" -CA "$PKI/inter2.pem" -CAkey "$PKI/inter2.key" \
		-days 100 -extfile "$T/sni/c.ext" -out "$T/sni/c.crt" 2>/dev/null
	cat "$T/sni/c.crt" "$PKI/chain.pem" >"$T/sni/c.pem"
	echo "c.example.net $T/sni/c.key $T/sni/c.pem" >"$T/sni/map"
	chmod 600 "$T/sni/map"
	write_maincf "tls_server_sni_maps = texthash:$T/sni/map"
	run deploy_inputs check
	assert_success
}
