#!/usr/bin/env bats
# Issue 11: every certificate Postfix serves is checked, not only the
# bundle the helper writes: main.cf's other files (eccert, chain_files),
# master.cf services that set their own (-o), every domain of
# tls_server_sni_maps, and a second deployed bundle (RSA + ECDSA).  Each
# finding names its identity: "main.cf", "submission/inet (master.cf)",
# "SNI DOMAIN (MAP SOURCE)".  postconf reads $T/postfix/main.cf and
# master.cf, so no Postfix has to run; tests/world/served-identities.bats
# shows what real smtpd does with the same set-ups.

load ../helpers

setup_file() {
	pki_common
	pki_cert other.example.org inter2 server
	pki_cert submit.example.org inter2 server
	pki_cert a.example.net inter2 server
	pki_cert b.example.net inter2 server
	pki_cert '*.example.org' inter2 server
	pki_rsa_lineage
}

setup() {
	need_root
	setup_world
	good_bundle
}

@test "a submission service whose own key does not match is refused, naming the service and the fix" {
	leaf_files submit.example.org other.example.org "$T/ssl" sub
	submission_service "$T/ssl/sub.pem" "$T/ssl/sub.key"
	refuses 65 "postfix-tls-setup: submission/inet (master.cf): $T/ssl/sub.key: private key does not match public key in certificate $T/ssl/sub.pem (use the key the certificate was issued for)" \
		deploy_inputs deploy
	refuses 65 "submission/inet (master.cf): $T/ssl/sub.key: private key does not match" \
		deploy_inputs check
}

@test "a submission service with its own good certificate passes and check lists it" {
	leaf_files submit.example.org submit.example.org "$T/ssl" sub
	submission_service "$T/ssl/sub.pem" "$T/ssl/sub.key"
	run deploy_inputs check
	assert_success
	assert_line --regexp '^identity main\.cf'
	assert_line --regexp '^identity submission/inet \(master\.cf\)'
	run deploy_inputs deploy
	assert_success
	refute_output --partial "identity "
	run deploy_inputs -v deploy
	assert_success
	assert_line --regexp '^identity submission/inet \(master\.cf\)'
}

@test "a service without TLS overrides is no identity of its own" {
	write_mastercf \
		"submission inet  n       -       n       -       -       smtpd" \
		"  -o smtpd_tls_security_level=encrypt" \
		"pickup     unix  n       -       n       60      1       pickup"
	run deploy_inputs check
	assert_success
	assert_line --regexp '^identity main\.cf'
	refute_output --partial "submission/inet"
	refute_output --partial "pickup"
}

@test "a \$config_directory in a master.cf override is resolved as Postfix resolves it" {
	leaf_files submit.example.org other.example.org "$T/postfix" sub
	# shellcheck disable=SC2016 # literally, as an admin writes it
	submission_service '$config_directory/sub.pem' '${config_directory}/sub.key'
	refuses 65 "submission/inet (master.cf): $T/postfix/sub.key: private key does not match public key in certificate $T/postfix/sub.pem" \
		deploy_inputs deploy
	refute_output --partial "\$config_directory"
}

@test "a submission key in a directory another user owns is refused as unsafe" {
	mkdir "$T/user"
	leaf_files submit.example.org submit.example.org "$T/user" sub
	chown nobody "$T/user"
	submission_service "$T/user/sub.pem" "$T/user/sub.key"
	refuses 77 "$T/user: directory is owned by nobody, not root" deploy_inputs deploy
	assert_output --partial "submission/inet (master.cf)"
}

@test "a readable submission key is made 0600 by deploy; check only says it would" {
	leaf_files submit.example.org submit.example.org "$T/ssl" sub
	chmod 0644 "$T/ssl/sub.key"
	submission_service "$T/ssl/sub.pem" "$T/ssl/sub.key"
	before=$(snapshot)
	run deploy_inputs check
	assert_success
	assert_output --partial "would replace $T/ssl/sub.key with a root:root 0600 copy of what was checked (it is 0:0 0644)"
	assert_equal "$(snapshot)" "$before"
	run deploy_inputs deploy
	assert_success
	assert_file_permission 600 "$T/ssl/sub.key"
}

# rsa_bundle: the deployed bundle is the RSA lineage, as beside an
# smtpd_tls_eccert_file.
rsa_bundle() {
	cp "$PKI/rsa.pem" "$T/ssl/cert.pem"
	cp "$PKI/rsa.key" "$T/ssl/key.pem"
	deploy_inputs -q deploy
}

@test "a truncated ECDSA certificate in smtpd_tls_eccert_file is refused, naming main.cf" {
	rsa_bundle
	head -n 6 "$PKI/other.example.org.pem" >"$T/ssl/ec.pem"   # cut in the middle
	cat "$PKI/chain.pem" >>"$T/ssl/ec.pem"
	cp "$PKI/other.example.org.key" "$T/ssl/ec.key"
	chmod 0600 "$T/ssl/ec.key"
	write_maincf "smtpd_tls_eccert_file = $T/ssl/ec.pem" "smtpd_tls_eckey_file = $T/ssl/ec.key"
	refuses 65 "postfix-tls-setup: main.cf: $T/ssl/ec.pem: " deploy_inputs deploy
}

@test "an ECDSA key in smtpd_tls_eckey_file that does not match is refused, naming main.cf" {
	rsa_bundle
	leaf_files other.example.org a.example.net "$T/ssl" ec
	write_maincf "smtpd_tls_eccert_file = $T/ssl/ec.pem" "smtpd_tls_eckey_file = $T/ssl/ec.key"
	refuses 65 "postfix-tls-setup: main.cf: $T/ssl/ec.key: private key does not match public key in certificate $T/ssl/ec.pem" \
		deploy_inputs deploy
}

# chain_files_second FILE: main.cf serves the deployed bundle, then FILE,
# through smtpd_tls_chain_files.
chain_files_second() {
	write_maincf "smtpd_tls_cert_file =" "smtpd_tls_key_file =" \
		"smtpd_tls_chain_files = $BUNDLE, $1"
}

@test "smtpd_tls_chain_files with a second file whose key does not match its leaf is refused" {
	# Real smtpd: "key at index 1 in .../rsa.pem does not match next
	# certificate ... disabling TLS support", for both files.
	cat "$PKI/other.example.org.key" "$PKI/rsa.pem" "$PKI/chain.pem" >"$T/ssl/rsa.pem"
	chmod 0600 "$T/ssl/rsa.pem"
	chain_files_second "$T/ssl/rsa.pem"
	refuses 65 "postfix-tls-setup: main.cf: $T/ssl/rsa.pem: private key does not match public key in certificate" \
		deploy_inputs deploy
}

@test "smtpd_tls_chain_files with a truncated second file is refused" {
	cat "$PKI/rsa.key" "$PKI/rsa.pem" "$PKI/chain.pem" | head -n 40 >"$T/ssl/rsa.pem"
	chmod 0600 "$T/ssl/rsa.pem"
	chain_files_second "$T/ssl/rsa.pem"
	refuses 65 "postfix-tls-setup: main.cf: $T/ssl/rsa.pem: " deploy_inputs deploy
}

@test "smtpd_tls_chain_files with a good RSA file after the bundle passes and both are checked" {
	cat "$PKI/rsa.key" "$PKI/rsa.pem" "$PKI/chain.pem" >"$T/ssl/rsa.pem"
	chmod 0600 "$T/ssl/rsa.pem"
	chain_files_second "$T/ssl/rsa.pem"
	run deploy_inputs deploy
	assert_success
	assert_output --partial "wrote $BUNDLE (3 certificates after the private key)"
	# The proof that the second file is read: the same file with a chain
	# missing its intermediate no longer passes.
	cat "$PKI/rsa.key" "$PKI/rsa.pem" "$PKI/inter1.pem" >"$T/ssl/rsa.pem"
	refuses 65 "main.cf: $T/ssl/rsa.pem: certificate chain does not verify as a TLS server" \
		deploy_inputs deploy
}

@test "smtpd_tls_chain_files with two keys of one algorithm is refused, as smtpd refuses the whole list" {
	# OpenSSL has one slot per algorithm; tls_certkey.c loads with
	# override 0, so a second ECDSA chain fails and TLS is switched off.
	cat "$PKI/other.example.org.key" "$PKI/other.example.org.pem" "$PKI/chain.pem" >"$T/ssl/ec2.pem"
	chmod 0600 "$T/ssl/ec2.pem"
	chain_files_second "$T/ssl/ec2.pem"
	refuses 65 "postfix-tls-setup: main.cf: $T/ssl/ec2.pem: a second ECDSA key in smtpd_tls_chain_files: Postfix takes one key per algorithm" \
		deploy_inputs deploy
}

@test "a chain file whose certificate comes before its key is refused, as smtpd does (key not first)" {
	cat "$PKI/rsa.pem" "$PKI/rsa.key" "$PKI/chain.pem" >"$T/ssl/rsa.pem"
	chmod 0600 "$T/ssl/rsa.pem"
	write_maincf "smtpd_tls_cert_file =" "smtpd_tls_key_file =" \
		"smtpd_tls_chain_files = $T/ssl/rsa.pem, $BUNDLE"
	refuses 65 "postfix-tls-setup: main.cf: $T/ssl/rsa.pem: a certificate comes before any private key" \
		deploy_inputs --bundle "$BUNDLE" deploy
}

@test "an SNI domain whose key does not match is refused naming the domain; the map is not rebuilt" {
	sni_map hash "$(sni_entry a.example.net a.example.net)" \
		"$(sni_entry b.example.net b.example.net)"
	old=$(postmap -c "$T/postfix" -q b.example.net "hash:$T/postfix/sni")
	# Real smtpd: "key at index 1 in SNI data for b.example.net does not
	# match next certificate ... aborting TLS handshake" for that name.
	cp "$PKI/other.example.org.key" "$T/ssl/b.example.net.key"
	refuses 65 "postfix-tls-setup: SNI b.example.net ($T/postfix/sni): $T/ssl/b.example.net.key: private key does not match public key in certificate" \
		deploy_inputs deploy
	refute_output --partial "SNI a.example.net ($T/postfix/sni): "
	assert_equal "$(postmap -c "$T/postfix" -q b.example.net "hash:$T/postfix/sni")" "$old"
}

@test "good SNI domains pass, are listed by check, and need not cover myhostname" {
	sni_map hash "$(sni_entry a.example.net a.example.net)" \
		"$(sni_entry b.example.net b.example.net)"
	run deploy_inputs check
	assert_success
	assert_line --regexp "^identity SNI a\.example\.net \($T/postfix/sni\)"
	assert_line --regexp "^identity SNI b\.example\.net \($T/postfix/sni\)"
	refute_output --partial "warning"
	run deploy_inputs deploy
	assert_success
}

@test "an SNI domain that its certificate does not cover is warned about" {
	sni_map hash "$(sni_entry a.example.net a.example.net)" \
		"$(sni_entry c.example.net b.example.net)"
	run deploy_inputs check
	assert_success
	assert_line --regexp "warning: .*SNI c\.example\.net \($T/postfix/sni\).*c\.example\.net|SNI c\.example\.net \($T/postfix/sni\): .*warning.*c\.example\.net"
	refute_output --partial "warning: SNI a.example.net"
}

@test "a .example.org parent-domain SNI key is covered by a wildcard certificate, not by another name" {
	sni_map hash "$(sni_entry .example.org '*.example.org')" \
		"$(sni_entry .example.net other.example.org)"
	run deploy_inputs check
	assert_success
	assert_line --regexp "^identity SNI \.example\.org \($T/postfix/sni\)"
	assert_line --regexp "^identity SNI \.example\.net \($T/postfix/sni\)"
	refute_line --regexp "warning: .*SNI \.example\.org|SNI \.example\.org \([^)]*\): .*warning"
	assert_line --regexp "warning: .*SNI \.example\.net \($T/postfix/sni\)|SNI \.example\.net \($T/postfix/sni\): .*warning"
}

@test "a long SNI map is checked on every CPU with its findings in entry order, and nothing of a broken one is changed" {
	# A minute under valgrind for what the ASan pass already covers.
	[ "${PTS_SANITIZER:-}" != valgrind ] || skip "1,200 domains: run in the plain and asan passes"
	long_sni_map
	refuses 65 "postfix-tls-setup: SNI d1000.example.org ($T/postfix/sni): $T/ssl/wrong.pem: private key does not match public key in certificate" \
		deploy_inputs deploy
	refute_output --partial "mode of $T/ssl/open.pem"
	# Without it: every domain listed once, in the map's order.
	sed -i "s|$T/ssl/wrong.pem|$T/ssl/wild.pem|" "$T/postfix/sni"
	postmap -c "$T/postfix" -F "hash:$T/postfix/sni"
	run deploy_inputs check
	assert_success
	assert_line "would replace $T/ssl/open.pem with a root:root 0600 copy of what was checked (it is 0:0 0644)"
	grep -o '^identity SNI d[0-9]*' <<<"$output" | sed 's/^identity SNI //' >"$T/listed"
	seq 1 1200 | sed 's/^/d/' | diff - "$T/listed"
	run deploy_inputs deploy
	assert_success
	assert_file_permission 600 "$T/ssl/open.pem"
}

@test "texthash and inline SNI maps are read directly" {
	sni_map texthash "$(sni_entry a.example.net a.example.net)" \
		"$(sni_entry b.example.net b.example.net other.example.org)"
	refuses 65 "SNI b.example.net ($T/postfix/sni): $T/ssl/b.example.net.key: private key does not match" \
		deploy_inputs check
	write_maincf "tls_server_sni_maps = inline:{ {a.example.net = $T/ssl/a.example.net.key, $T/ssl/a.example.net.pem}, {b.example.net = $T/ssl/b.example.net.key, $T/ssl/b.example.net.pem} }"
	refuses 65 "SNI b.example.net (" deploy_inputs check
	assert_output --partial "$T/ssl/b.example.net.key: private key does not match"
}

@test "of two entries for one domain the one Postfix uses is judged: postmap's first, the inline map's last" {
	# b.example.net twice: once with a key that does not match, once good.
	leaf_files b.example.net b.example.net "$T/ssl" good
	leaf_files b.example.net other.example.org "$T/ssl" bad
	sni_map texthash "b.example.net $T/ssl/good.key, $T/ssl/good.pem" \
		"b.example.net $T/ssl/bad.key, $T/ssl/bad.pem"
	refuses 78 "duplicate entry for b.example.net: postmap skips it and keeps the first one, at line 1" \
		deploy_inputs check
	refute_output --partial "private key does not match"
	write_maincf "tls_server_sni_maps = inline:{ {b.example.net = $T/ssl/bad.key, $T/ssl/bad.pem}, {b.example.net = $T/ssl/good.key, $T/ssl/good.pem} }"
	refuses 78 "duplicate entry for b.example.net: Postfix ignores it and uses the last one, element 2" \
		deploy_inputs check
	refute_output --partial "private key does not match"
}

@test "SNI maps of a type the helper cannot read are reported as not checked, never skipped silently" {
	sni_map hash "$(sni_entry a.example.net a.example.net)"
	write_maincf "tls_server_sni_maps = proxy:hash:$T/postfix/sni, ldap:$T/postfix/ldap.cf"
	run deploy_inputs check
	assert_success
	assert_line --regexp "warning: .*proxy:hash:$T/postfix/sni.*not checked|warning: .*not checked.*proxy:hash:$T/postfix/sni"
	assert_line --regexp "warning: .*ldap:$T/postfix/ldap\.cf.*not checked|warning: .*not checked.*ldap:$T/postfix/ldap\.cf"
}

@test "a stale SNI map is rebuilt by deploy with the source and map made root-only; check only says it would" {
	sni_map hash "$(sni_entry a.example.net a.example.net)"
	sni_entry b.example.net b.example.net >>"$T/postfix/sni"   # added since
	chmod 0644 "$T/postfix/sni" "$T/postfix/sni.db"
	touch -d '1 hour ago' "$T/postfix/sni.db"
	run postmap -c "$T/postfix" -q b.example.net "hash:$T/postfix/sni"
	assert_failure
	before=$(snapshot)
	run deploy_inputs check
	assert_success
	assert_output --partial "would rebuild"
	assert_output --partial "$T/postfix/sni"
	assert_equal "$(snapshot)" "$before"
	ino=$(stat -c %i "$T/postfix/sni.db")
	run deploy_inputs deploy
	assert_success
	run postmap -c "$T/postfix" -q b.example.net "hash:$T/postfix/sni"
	assert_success
	assert_equal "$(base64 -d <<<"$output" | subjects /dev/stdin | head -n1)" b.example.net
	assert_not_equal "$(stat -c %i "$T/postfix/sni.db")" "$ino"  # renamed in place
	assert_equal "$(stat -c '%U:%G %a' "$T/postfix/sni" "$T/postfix/sni.db")" \
		"$(printf 'root:root 600\nroot:root 600')"
	run ls -A "$T/postfix"
	assert_output "$(printf '%s\n' certificate.pem main.cf sni sni.db)"
}

@test "a missing SNI map is built by deploy, root-only even from a 0644 source" {
	sni_map texthash "$(sni_entry a.example.net a.example.net)"
	chmod 0644 "$T/postfix/sni"
	write_maincf "tls_server_sni_maps = hash:$T/postfix/sni"
	run deploy_inputs deploy
	assert_success
	assert_file_exists "$T/postfix/sni.db"
	assert_equal "$(stat -c '%U:%G %a' "$T/postfix/sni" "$T/postfix/sni.db")" \
		"$(printf 'root:root 600\nroot:root 600')"
	run postmap -c "$T/postfix" -q a.example.net "hash:$T/postfix/sni"
	assert_success
}

# dual_conf: certbot's two lineages for one name, RSA as set 1 and ECDSA
# as set 2, each deployed key first for smtpd_tls_chain_files.
dual_conf() {
	cp "$PKI/rsa.pem" "$T/ssl/rsa-cert.pem"
	cp "$PKI/rsa.key" "$T/ssl/rsa-key.pem"
	chmod 0600 "$T/ssl/rsa-key.pem" "$T/ssl/key.pem"
	cat >"$T/conf" <<-CONF
	POSTFIX_TLS_CERT=$T/ssl/rsa-cert.pem
	POSTFIX_TLS_KEY=$T/ssl/rsa-key.pem
	POSTFIX_TLS_CHAIN=$T/ssl/chain.pem
	POSTFIX_TLS_BUNDLE=$T/postfix/rsa.pem
	POSTFIX_TLS_CERT_2=$T/ssl/cert.pem
	POSTFIX_TLS_KEY_2=$T/ssl/key.pem
	POSTFIX_TLS_CHAIN_2=$T/ssl/chain.pem
	POSTFIX_TLS_BUNDLE_2=$T/postfix/ecdsa.pem
	CONF
	rm -f "$BUNDLE"
	write_maincf "smtpd_tls_cert_file =" "smtpd_tls_key_file =" \
		"smtpd_tls_chain_files = $T/postfix/rsa.pem, $T/postfix/ecdsa.pem"
}

# key_first BUNDLE KEY: BUNDLE starts with a private key, KEY's, followed
# by the chain in order.
key_first() {
	assert_regex "$(head -n1 "$1")" 'BEGIN PRIVATE KEY'
	assert_equal "$(openssl pkey -in "$1" -pubout)" "$(openssl pkey -in "$2" -pubout)"
	assert_equal "$(subjects "$1")" "$(printf '%s\n' "$HOST" inter2 inter1)"
	assert_file_permission 600 "$1"
}

@test "RSA and ECDSA lineages are both deployed, each bundle key first" {
	dual_conf
	run helper deploy
	assert_success
	assert_output --partial "wrote $T/postfix/rsa.pem (3 certificates after the private key)"
	assert_output --partial "wrote $T/postfix/ecdsa.pem (3 certificates after the private key)"
	key_first "$T/postfix/rsa.pem" "$PKI/rsa.key"
	key_first "$T/postfix/ecdsa.pem" "$PKI/$HOST.key"
	assert_equal "$(openssl x509 -in "$T/postfix/rsa.pem" -noout -pubkey)" \
		"$(openssl pkey -in "$PKI/rsa.key" -pubout)"
}

@test "a broken second set is refused and the first set's bundle is left as it was" {
	dual_conf
	run helper deploy
	assert_success
	# A stale first bundle (no chain) that a deploy would rewrite...
	cat "$PKI/rsa.key" "$PKI/rsa.pem" >"$T/postfix/rsa.pem"
	rm "$T/postfix/ecdsa.pem"
	# ...and set 2 now with a key that does not match.
	cp "$PKI/other.example.org.key" "$T/ssl/key.pem"
	refuses 65 "$T/ssl/key.pem: private key does not match public key in certificate $T/ssl/cert.pem" \
		helper deploy
	assert_file_not_exists "$T/postfix/ecdsa.pem"
}

# Found by the review of this work, each measured against real smtpd 3.7.

# two_sets B1 B2: main.cf serves B1 then B2 as key-then-chain files; the
# tuning file deploys set 1 from the usual inputs and set 2 from $T/ssl/2.
two_sets() {
	write_maincf "smtpd_tls_cert_file =" "smtpd_tls_key_file =" \
		"smtpd_tls_chain_files = $1, $2"
	cat >"$T/conf" <<-CONF
	POSTFIX_TLS_BUNDLE=$T/postfix/b1.pem
	POSTFIX_TLS_CERT_2=$T/ssl/2.pem
	POSTFIX_TLS_KEY_2=$T/ssl/2.key
	POSTFIX_TLS_CHAIN_2=$T/ssl/chain.pem
	POSTFIX_TLS_BUNDLE_2=$T/postfix/b2.pem
	CONF
}

@test "two deployed bundles of one algorithm are refused: smtpd would switch TLS off for both" {
	# smtpd: "not replacing certificate ... disabling TLS support"; a
	# certbot lineage made without --key-type rsa is ECDSA too.
	cp "$PKI/a.example.net.pem" "$T/ssl/2.pem"
	cp "$PKI/a.example.net.key" "$T/ssl/2.key"
	two_sets "$T/postfix/b1.pem" "$T/postfix/b2.pem"
	refuses 65 "postfix-tls-setup: main.cf: $T/postfix/b2.pem: a second ECDSA key in smtpd_tls_chain_files: Postfix takes one key per algorithm" \
		deploy_inputs deploy
	assert_file_not_exists "$T/postfix/b1.pem"
}

@test "one deployed bundle named twice in smtpd_tls_chain_files is refused" {
	write_maincf "smtpd_tls_cert_file =" "smtpd_tls_key_file =" \
		"smtpd_tls_chain_files = $BUNDLE, $BUNDLE"
	refuses 65 "postfix-tls-setup: main.cf: $BUNDLE: a second ECDSA key in smtpd_tls_chain_files" \
		deploy_inputs --bundle "$BUNDLE" deploy
}

@test "a service that empties smtpd_tls_chain_files serves its own pair, and its key is checked" {
	# postconf -Px prints the emptied value as "name =", no space after.
	write_maincf "smtpd_tls_cert_file =" "smtpd_tls_key_file =" \
		"smtpd_tls_chain_files = $BUNDLE"
	deploy_inputs -q --bundle "$BUNDLE" deploy
	leaf_files submit.example.org other.example.org "$T/ssl" sub
	write_mastercf \
		"submission inet  n       -       n       -       -       smtpd" \
		"  -o smtpd_tls_security_level=encrypt" \
		"  -o smtpd_tls_chain_files=" \
		"  -o smtpd_tls_cert_file=$T/ssl/sub.pem" \
		"  -o smtpd_tls_key_file=$T/ssl/sub.key"
	refuses 65 "postfix-tls-setup: submission/inet (master.cf): $T/ssl/sub.key: private key does not match public key in certificate $T/ssl/sub.pem" \
		deploy_inputs --bundle "$BUNDLE" deploy
	refute_output --partial "never served"
}

@test "a wrapper-mode service whose certificate is emptied is refused: smtpd drops every connection" {
	# smtpd: "No server certs available ... Wrapper-mode request dropped".
	write_mastercf \
		"submissions inet  n       -       n       -       -       smtpd" \
		"  -o smtpd_tls_wrappermode=yes" \
		"  -o smtpd_tls_cert_file="
	refuses 78 "postfix-tls-setup: submissions/inet (master.cf): $T/postfix/master.cf: TLS is on, but no certificate is named" \
		deploy_inputs deploy
}

@test "a relative file name in a -o override is refused with the absolute fix" {
	leaf_files submit.example.org submit.example.org "$T/ssl" sub
	submission_service sub.pem "$T/ssl/sub.key"
	refuses 78 "postfix-tls-setup: $T/postfix/master.cf: submission/inet sets -o smtpd_tls_cert_file with the relative name \"sub.pem\"" \
		deploy_inputs deploy
}

@test "an SNI map that cannot be rebuilt refuses the deploy before the bundle is written" {
	# A map in a directory everyone may write to (sticky, as /tmp).
	mkdir "$T/shared"
	chmod 1777 "$T/shared"
	leaf_files a.example.net a.example.net "$T/ssl" a
	echo "a.example.net $T/ssl/a.key, $T/ssl/a.pem" >"$T/shared/sni"
	chmod 0600 "$T/shared/sni"
	write_maincf "tls_server_sni_maps = hash:$T/shared/sni"
	use_leaf other.example.org	# a new certificate to deploy
	refuses 77 "postfix-tls-setup: $T/shared/sni: is in a directory everyone may write to" \
		deploy_inputs deploy
	refute_output --partial "wrote"
}

@test "an SNI key file with EC PARAMETERS first, as openssl ecparam -genkey writes it, is served and passes" {
	# smtpd 3.7: "ignoring PEM type: EC PARAMETERS", then serves it.
	openssl ecparam -name prime256v1 >"$T/ssl/c.key"
	cat "$PKI/a.example.net.key" >>"$T/ssl/c.key"
	chmod 0600 "$T/ssl/c.key"
	cat "$PKI/a.example.net.pem" "$PKI/chain.pem" >"$T/ssl/c.pem"
	sni_map texthash "a.example.net $T/ssl/c.key, $T/ssl/c.pem"
	run deploy_inputs check
	assert_success
	assert_line --regexp "^identity SNI a\.example\.net \($T/postfix/sni\): $T/ssl/c\.pem: "
}

@test "a TRUSTED CERTIFICATE in a chain file is passed over as smtpd passes it over" {
	# smtpd takes the next plain certificate as the leaf: "private key
	# mismatch ... disabling TLS support".
	{
		cat "$PKI/rsa.key"
		openssl x509 -in "$PKI/rsa.pem" -trustout
		cat "$PKI/chain.pem"
	} >"$T/ssl/rsa.pem"
	chmod 0600 "$T/ssl/rsa.pem"
	chain_files_second "$T/ssl/rsa.pem"
	refuses 65 "main.cf: $T/ssl/rsa.pem: private key does not match public key in certificate" \
		deploy_inputs deploy
	assert_output --partial "warning: main.cf: $T/ssl/rsa.pem: PEM block 2, a TRUSTED CERTIFICATE, is passed over"
}

@test "an SNI map is rebuilt after a key file is restored with its old time (cp -p)" {
	sni_map hash "$(sni_entry a.example.net a.example.net)"
	cp -p "$T/ssl/a.example.net.key" "$T/a.key.backup"
	touch -d '1 day ago' "$T/a.key.backup"
	sleep 0.01
	postmap -c "$T/postfix" -F "hash:$T/postfix/sni"
	run deploy_inputs check
	refute_output --partial "would rebuild"
	cp -p "$T/a.key.backup" "$T/ssl/a.example.net.key"
	run deploy_inputs check
	assert_success
	assert_output --partial "would rebuild $T/postfix/sni.db with postmap -F, root:root 0600: $T/ssl/a.example.net.key, named at $T/postfix/sni:1, is newer"
}

# A key file's owner rewrites it while the helper makes it root's
# (rewriting_owner, held_at_fchown in helpers.bash).
@test "an SNI key file rewritten by its owner between the check and the chown is refused" {
	command -v strace >/dev/null || skip "strace is not installed"
	not_under_valgrind
	leaf_files a.example.net a.example.net "$T/ssl" a
	rewriting_owner a.key
	sni_map texthash "a.example.net $T/ssl/a.key, $T/ssl/a.pem"
	held_at_fchown
	assert_failure 77
	assert_output --partial "$T/ssl/a.key: changed while it was being checked"
	refute_output --partial "wrote $BUNDLE"
}

@test "a main.cf value naming a parameter a service sets resolves as in that service" {
	# smtpd resolves "$keydir" and smtpd_tls_key_file's default,
	# $smtpd_tls_cert_file, under the service's own -o settings.
	mkdir -p "$T/sub"
	leaf_files submit.example.org other.example.org "$T/sub" sub
	write_maincf "keydir = $T/ssl" "smtpd_tls_key_file = \$keydir/key.pem"
	write_mastercf \
		"submission inet  n       -       n       -       -       smtpd" \
		"  -o keydir=$T/sub" \
		"  -o smtpd_tls_cert_file=$T/sub/sub.pem" \
		"  -o smtpd_tls_key_file=\$keydir/sub.key"
	refuses 65 "postfix-tls-setup: submission/inet (master.cf): $T/sub/sub.key: private key does not match" \
		deploy_inputs deploy
	# A service whose certificate file holds its key too, main.cf leaving
	# smtpd_tls_key_file at its default: the service's key is in its file.
	cat "$PKI/submit.example.org.key" "$PKI/submit.example.org.pem" "$PKI/chain.pem" >"$T/sub/both.pem"
	chmod 0600 "$T/sub/both.pem"
	write_maincf "smtpd_tls_cert_file = $BUNDLE" "smtpd_tls_key_file = \$smtpd_tls_cert_file"
	write_mastercf \
		"submission inet  n       -       n       -       -       smtpd" \
		"  -o smtpd_tls_cert_file=$T/sub/both.pem"
	run helper --cert "$T/ssl/cert.pem" --key "$T/ssl/key.pem" --chain "$T/ssl/chain.pem" --bundle "$BUNDLE" check
	assert_success
	assert_line --regexp "^identity submission/inet \(master\.cf\): $T/sub/both\.pem: "
}

@test "a service's -o of a name main.cf refers to is asked for, one of a name nothing refers to is not" {
	command -v strace >/dev/null || skip "strace is not installed"
	not_under_valgrind
	mkdir -p "$T/sub"
	leaf_files submit.example.org other.example.org "$T/sub" sub
	# Only main.cf's "$keydir" makes the service's key its own.
	write_maincf "keydir = $T/ssl" "smtpd_tls_key_file = \${keydir}/key.pem" \
		"smtpd_tls_cert_file = $BUNDLE"
	write_mastercf \
		"submission inet  n       -       n       -       -       smtpd" \
		"  -o keydir=$T/sub" \
		"  -o syslog_name=postfix/submission"
	cp "$T/sub/sub.key" "$T/sub/key.pem"
	chmod 0600 "$T/sub/key.pem"
	# (LeakSanitizer cannot work under ptrace: off for these runs.)
	run env ASAN_OPTIONS="${ASAN_OPTIONS:-}:detect_leaks=0" \
		strace -f -qq -e trace=execve -o "$T/trace" "$HELPER" \
		-c "$T/postfix" --root "$T/root" --no-conf --cafile "$PKI/root.pem" \
		--cert "$T/ssl/cert.pem" --key "$T/ssl/key.pem" \
		--chain "$T/ssl/chain.pem" --bundle "$BUNDLE" check
	assert_failure 65
	assert_output --partial "submission/inet (master.cf): $T/sub/key.pem: private key does not match"
	assert_equal "$(grep -c 'execve("/usr/sbin/postconf", .*"-o", "keydir=' "$T/trace")" 1
	# The same service setting only a name nothing refers to: main.cf's
	# values, no postconf run of its own.
	write_mastercf \
		"submission inet  n       -       n       -       -       smtpd" \
		"  -o mykeydir=$T/sub" \
		"  -o syslog_name=postfix/submission"
	# (LeakSanitizer cannot work under ptrace: off for these runs.)
	run env ASAN_OPTIONS="${ASAN_OPTIONS:-}:detect_leaks=0" \
		strace -f -qq -e trace=execve -o "$T/trace" "$HELPER" \
		-c "$T/postfix" --root "$T/root" --no-conf --cafile "$PKI/root.pem" \
		--cert "$T/ssl/cert.pem" --key "$T/ssl/key.pem" \
		--chain "$T/ssl/chain.pem" --bundle "$BUNDLE" check
	assert_success
	assert_equal "$(grep -c 'execve("/usr/sbin/postconf", .*"-o"' "$T/trace")" 0
}

@test "a fresh SNI map whose source deploy makes root-only is not rebuilt by the next run for that chmod alone" {
	sni_map hash "$(sni_entry a.example.net a.example.net)"
	chmod 0644 "$T/postfix/sni"
	touch "$T/postfix/sni.db"	# built after the chmod: fresh
	run deploy_inputs deploy
	assert_success
	assert_output --partial "replaced $T/postfix/sni with a root:root 0600 copy of what was checked (it was 0:0 0644)"
	refute_output --partial "rebuilt"
	ino=$(stat -c %i "$T/postfix/sni.db")
	run deploy_inputs check
	assert_success
	refute_output --partial "would rebuild"
	run deploy_inputs deploy
	assert_success
	refute_output --partial "rebuilt"
	assert_equal "$(stat -c %i "$T/postfix/sni.db")" "$ino"
}
