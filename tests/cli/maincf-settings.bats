#!/usr/bin/env bats
# main.cf's TLS settings, as Postfix itself resolves them (postconf -x).

load ../helpers

setup_file() {
	pki_common
}

setup() {
	setup_world
	good_bundle
}

@test "TLS switched off is refused with the postconf command that fixes it" {
	write_maincf "smtpd_tls_security_level = none"
	refuses 78 "$T/postfix/main.cf: TLS is switched off, so Postfix would not offer STARTTLS (fix: postconf -c $T/postfix -e smtpd_tls_security_level=may)" \
		deploy_inputs deploy
}

@test "no TLS settings at all means TLS is off" {
	edit_maincf '/smtpd_tls_security_level/d'
	refuses 78 "TLS is switched off" deploy_inputs deploy
}

@test "the legacy smtpd_use_tls and smtpd_enforce_tls switch TLS on" {
	edit_maincf '/smtpd_tls_security_level/d'
	echo "smtpd_use_tls = yes" >>"$T/postfix/main.cf"
	settle_maincf
	run deploy_inputs check
	assert_success
	edit_maincf 's/smtpd_use_tls = yes/smtpd_enforce_tls = yes/'
	run deploy_inputs check
	assert_success
}

@test "odd spacing and case in main.cf values are understood" {
	write_maincf
	edit_maincf 's/^smtpd_tls_security_level = may/smtpd_tls_security_level   =    ENCRYPT   /'
	run deploy_inputs check
	assert_success
}

@test "a client-side level in smtpd_tls_security_level is refused" {
	write_maincf "smtpd_tls_security_level = verify"
	refuses 78 "smtpd_tls_security_level = verify is not a level for receiving mail" \
		deploy_inputs deploy
}

@test "main.cf serving another certificate file is refused" {
	write_maincf "smtpd_tls_cert_file = /etc/ssl/other.pem"
	refuses 78 "smtpd_tls_cert_file does not name $BUNDLE, so Postfix would not serve it (fix: postconf -c $T/postfix -e smtpd_tls_cert_file=$BUNDLE)" \
		deploy_inputs --bundle "$BUNDLE" deploy
}

@test "main.cf naming another key is refused" {
	cp "$T/ssl/key.pem" "$T/ssl/key2.pem"
	refuses 78 "smtpd_tls_key_file = $T/ssl/key.pem is not the key that was checked, $T/ssl/key2.pem" \
		helper --cert "$T/ssl/cert.pem" --key "$T/ssl/key2.pem" --chain "$T/ssl/chain.pem" deploy
}

@test "a TLS file named in main.cf that does not exist is refused" {
	write_maincf "smtpd_tls_eccert_file = $T/ssl/ec.pem" "smtpd_tls_eckey_file = $T/ssl/ec.key"
	refuses 78 "$T/ssl/ec.pem: named by smtpd_tls_eccert_file in $T/postfix/main.cf, but it does not exist" \
		deploy_inputs deploy
	assert_output --partial "$T/ssl/ec.key: named by smtpd_tls_eckey_file"
}

@test "smtpd_tls_chain_files naming the bundle gets the key followed by the chain" {
	write_maincf "smtpd_tls_chain_files = $BUNDLE"
	run deploy_inputs deploy
	assert_success
	assert_output --partial "wrote $BUNDLE (3 certificates after the private key)"
	assert_regex "$(head -n1 "$BUNDLE")" 'BEGIN PRIVATE KEY'  # the key comes first
	assert_file_permission 600 "$BUNDLE"
}

@test "smtpd_tls_chain_files that does not name the bundle is refused" {
	echo x >"$T/ssl/other-chain.pem"
	write_maincf "smtpd_tls_chain_files = $T/ssl/other-chain.pem"
	refuses 78 "smtpd_tls_chain_files is set and takes precedence, but does not name $BUNDLE" \
		deploy_inputs --bundle "$BUNDLE" deploy
}

@test "SASL with level may and no smtpd_tls_auth_only warns" {
	write_maincf "smtpd_sasl_auth_enable = yes"
	run deploy_inputs check
	assert_success
	assert_output --partial "warning: $T/postfix/main.cf: SASL authentication is on with smtpd_tls_security_level = may and smtpd_tls_auth_only is not yes"
	write_maincf "smtpd_sasl_auth_enable = yes" "smtpd_tls_auth_only = yes"
	run deploy_inputs check
	assert_success
	refute_output --partial "SASL"
}

@test "only the obsolete DSA parameters warn" {
	write_maincf "smtpd_tls_cert_file =" "smtpd_tls_dcert_file = $BUNDLE" "smtpd_tls_dkey_file = $T/ssl/key.pem"
	run deploy_inputs check
	assert_success
	assert_output --partial "only the obsolete DSA parameters"
}

@test "a main.cf without any server certificate is refused" {
	write_maincf "smtpd_tls_cert_file ="
	refuses 78 "main.cf names no server certificate and POSTFIX_TLS_BUNDLE is not set" \
		deploy_inputs deploy
}

@test "a configuration directory without main.cf is refused" {
	refuses 78 "cannot read Postfix's settings: postconf failed: /usr/sbin/postconf: fatal: open $T/nowhere/main.cf" \
		helper -c "$T/nowhere" check
}

# relative_refused PARAM VALUE [MAIN.CF LINES...]: with main.cf naming
# VALUE in PARAM, a run from the directory that holds it is refused.
relative_refused() {
	local param=$1 value=$2
	shift 2
	write_maincf "$@"
	cd "$T/postfix" || return 1
	refuses 78 "$value: $param in $T/postfix/main.cf is a relative name: smtpd looks for it in Postfix's queue directory (postconf -h queue_directory), this helper would look in its own working directory (fix: give the file's absolute name, e.g. postconf -c $T/postfix -e $param=$T/postfix/$value if that is the file you mean)" \
		deploy_inputs deploy
	cd - >/dev/null || return 1
}

@test "a relative certificate or key name in main.cf is refused with an absolute fix" {
	cp "$T/ssl/key.pem" "$T/postfix/key.pem"
	relative_refused smtpd_tls_cert_file certificate.pem "smtpd_tls_cert_file = certificate.pem"
	relative_refused smtpd_tls_key_file key.pem "smtpd_tls_key_file = key.pem"
	# Each relative name is said once, and nothing else about it.
	relative_refused smtpd_tls_cert_file certificate.pem \
		"smtpd_tls_cert_file = certificate.pem" "smtpd_tls_key_file = key.pem"
	assert_output --partial "key.pem: smtpd_tls_key_file in $T/postfix/main.cf is a relative name"
	assert_equal "${#lines[@]}" 2
}

@test "a relative name in any TLS file parameter main.cf has is refused" {
	cp "$BUNDLE" "$T/postfix/other.pem"
	relative_refused smtpd_tls_eccert_file other.pem "smtpd_tls_eccert_file = other.pem" \
		"smtpd_tls_eckey_file = $T/ssl/key.pem"
	relative_refused smtpd_tls_eckey_file other.pem "smtpd_tls_eccert_file = $T/postfix/other.pem" \
		"smtpd_tls_eckey_file = other.pem"
	relative_refused smtpd_tls_dcert_file other.pem "smtpd_tls_dcert_file = other.pem" \
		"smtpd_tls_dkey_file = $T/ssl/key.pem"
	relative_refused smtpd_tls_dkey_file other.pem "smtpd_tls_dcert_file = $T/postfix/other.pem" \
		"smtpd_tls_dkey_file = other.pem"
	relative_refused smtpd_tls_chain_files other.pem "smtpd_tls_chain_files = $BUNDLE, other.pem"
}

@test "a relative --bundle or --key gets a fix with the absolute name" {
	write_maincf "smtpd_tls_cert_file = /etc/ssl/other.pem"
	cd "$T/postfix" || return 1
	refuses 78 "smtpd_tls_cert_file does not name certificate.pem, so Postfix would not serve it (fix: postconf -c $T/postfix -e smtpd_tls_cert_file=$BUNDLE)" \
		deploy_inputs --bundle certificate.pem deploy
	cd "$T/ssl" || return 1
	write_maincf
	cp key.pem key2.pem
	refuses 78 "smtpd_tls_key_file = $T/ssl/key.pem is not the key that was checked, ./key2.pem (fix: postconf -c $T/postfix -e smtpd_tls_key_file=$T/ssl/key2.pem)" \
		helper --cert cert.pem --key ./key2.pem --chain chain.pem deploy
	cd - >/dev/null || return 1
}

@test "a smtpd_tls_chain_files list too long to check whole is refused, not cut short" {
	# The bundle, chain files and commas up to 16383 bytes exactly, then a
	# file that does not exist: cut there, the list looked complete.
	value=$BUNDLE
	while [ $((${#value} + ${#T} + 16)) -lt 16383 ]; do
		value="$value, $T/ssl/chain.pem"
	done
	value="$value$(printf ',%.0s' $(seq $((16383 - ${#value})))) $T/ssl/missing.pem"
	write_maincf "smtpd_tls_chain_files = $value"
	refuses 78 "$T/postfix: smtpd_tls_chain_files is $((16384 + ${#T} + 16)) bytes long, more than the 16383 this helper checks" \
		deploy_inputs deploy
}

@test "main.cf naming the key through a directory another user owns is refused, though it leads to the checked key" {
	need_root
	mkdir "$T/user"
	ln -s "$T/ssl/key.pem" "$T/user/key.pem"
	chown -h nobody "$T/user" "$T/user/key.pem"
	edit_maincf "s#^smtpd_tls_key_file.*#smtpd_tls_key_file = $T/user/key.pem#"
	refuses 77 "$T/user: directory is owned by nobody, not root" deploy_inputs deploy
}
