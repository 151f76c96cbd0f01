#!/usr/bin/env bats
# Every problem and warning also goes to syslog, facility mail, where
# Postfix logs too.  A private /dev with our own /dev/log listener keeps
# the machine's logging out of it.

load ../helpers

setup_file() {
	pki_common
	key_variants
}

setup() {
	need_root
	setup_world
}

# with_syslog CMD...: run CMD with /dev/log captured into $T/syslog.
with_syslog() {
	unshare -m --propagation private bash -c '
		set -e
		T=$1; shift
		touch "$T/null"
		mount --bind /dev/null "$T/null"
		mount -t tmpfs tmpfs /dev
		touch /dev/null
		mount --bind "$T/null" /dev/null
		socat -u UNIX-RECV:/dev/log OPEN:"$T/syslog",creat,append &
		for _ in $(seq 50); do [ -S /dev/log ] && break; sleep 0.1; done
		status=0
		"$@" || status=$?
		# Datagrams arrive in order: once this marker is written, so is
		# every line before it (a fixed wait loses lines on a busy host).
		echo "<15>with_syslog: end" | socat -u - UNIX-SENDTO:/dev/log
		for _ in $(seq 100); do
			grep -q "with_syslog: end" "$T/syslog" 2>/dev/null && break
			sleep 0.1
		done
		kill $!
		exit $status' with_syslog "${SYSLOG_DIR:-$T}" "$@"
}

@test "problems go to syslog as mail.err and warnings as mail.warning" {
	cp "$PKI/inter2.pem" "$T/ssl/chain.pem"        # missing intermediate
	write_maincf "smtpd_sasl_auth_enable = yes"    # a warning
	run with_syslog "$HELPER" -c "$T/postfix" --root "$T/root" --conf "$T/conf" \
		--cafile "$PKI/root.pem" --cert "$T/ssl/cert.pem" \
		--key "$T/ssl/key.pem" --chain "$T/ssl/chain.pem" deploy
	assert_failure 65
	assert_file_exists "$T/syslog"
	# facility mail (2) * 8 + err (3) = 19, + warning (4) = 20
	assert_file_contains "$T/syslog" "<19>.*postfix-tls-setup\[[0-9]*\]: $T/ssl/cert.pem: certificate chain does not verify"
	assert_file_contains "$T/syslog" "<20>.*postfix-tls-setup\[[0-9]*\]: warning: $T/postfix/main.cf: SASL authentication is on"
}

@test "with -q warnings still reach syslog" {
	write_maincf "smtpd_sasl_auth_enable = yes"
	run with_syslog "$HELPER" -q -c "$T/postfix" --root "$T/root" --conf "$T/conf" \
		--cafile "$PKI/root.pem" --cert "$T/ssl/cert.pem" \
		--key "$T/ssl/key.pem" --chain "$T/ssl/chain.pem" check
	assert_success
	assert_output ""
	assert_file_contains "$T/syslog" "<20>.*warning: .*SASL authentication is on"
}

# Keys that must be refused, made from the good key (broken, locked) or
# new (wrong): $PKI/variant-NAME.key.
key_variants() {
	local good=$PKI/$HOST.key v=$PKI/variant
	# Broken: cut off (last body line and END gone); a character that is
	# not base64; whole base64, but the DER inside damaged.
	head -n -2 "$good" >"$v-cut.key"
	sed '3s/^\(.\{20\}\)./\1!/' "$good" >"$v-char.key"
	grep -E '^[A-Za-z0-9+/=]+$' "$good" | base64 -d >"$v.der"
	printf 'XXXXXXXXXXXXXXXX' | dd of="$v.der" bs=1 seek=8 conv=notrunc 2>/dev/null
	{ echo "-----BEGIN PRIVATE"" KEY-----"; base64 -w64 <"$v.der"
	  echo "-----END PRIVATE"" KEY-----"; } >"$v-der.key"	# (split: no key in the tree)
	# Wrong: valid keys of no certificate here.
	pki_key variant-wrong-ec ec
	pki_key variant-wrong-rsa rsa:2048
	# Locked: PKCS#8 encrypted, and the traditional form with Proc-Type.
	openssl pkey -in "$good" -aes256 -passout pass:secret -out "$v-pkcs8.key"
	openssl pkey -in "$good" -traditional -aes128 -passout pass:secret \
		-out "$v-trad.key"
	grep -q '^Proc-Type: 4,ENCRYPTED' "$v-trad.key"
}

# refuses_quietly VARIANT PASSPHRASE MESSAGE: with the key VARIANT, deploy
# and check, with and without -v, refuse (65, MESSAGE on stderr), change
# nothing, and no form of the key reaches stdout, stderr or syslog.
refuses_quietly() {
	local key=$PKI/variant-$1.key pass=$2 message=$3 cmd v before L
	local cmds=(deploy check) vs=("" -v)
	# Under valgrind (a run costs seconds) one run per key: the one that
	# says the most; the plain and ASan passes run all four.
	if [ "${PTS_SANITIZER:-}" = valgrind ]; then cmds=(deploy) vs=(-v); fi
	cp "$PKI/$HOST.key" "$T/ssl/key.pem"
	good_bundle
	cp "$key" "$T/ssl/key.pem"
	chmod 0600 "$T/ssl/key.pem"
	for cmd in "${cmds[@]}"; do
		for v in "${vs[@]}"; do
			L=$(mktemp -d "$BATS_FILE_TMPDIR/log.XXXXXX")
			before=$(snapshot)
			SYSLOG_DIR=$L run with_syslog sh -c '"$@" >"$0/stdout" 2>"$0/stderr"' \
				"$L" "$HELPER" $v -c "$T/postfix" --root "$T/root" \
				--conf "$T/conf" --cafile "$PKI/root.pem" \
				--cert "$T/ssl/cert.pem" --key "$T/ssl/key.pem" \
				--chain "$T/ssl/chain.pem" "$cmd"
			assert_failure 65
			assert_file_contains "$L/stderr" "^postfix-tls-setup: $T/ssl/key.pem: .*$message"
			assert_file_contains "$L/syslog" "<19>.*postfix-tls-setup\[[0-9]*\]: $T/ssl/key.pem: .*$message"
			assert_equal "$(snapshot)" "$before"
			no_key_material "$key" "$pass" -- "$L/stdout" "$L/stderr" "$L/syslog"
			[ -z "$v" ] || assert_file_not_empty "$L/stderr"
		done
	done
}

@test "the key check finds a key printed as PEM, base64 in pieces, hex with colons or raw DER" {
	local key=$PKI/variant-wrong-rsa.key
	openssl pkey -in "$key" -outform DER -out "$T/der"
	# Each leak in a file of its own, among ordinary lines.
	{ echo "postfix-tls-setup: a line"; sed -n 5p "$key"; } >"$T/line"
	{ echo "x: "; sed -n 3,4p "$key" | tr -d '\n' | cut -c 30-70; } >"$T/across"
	openssl pkey -in "$key" -text -noout >"$T/text"
	{ printf 'a\n'; head -c 60 "$T/der" | tail -c 21; printf 'b\n'; } >"$T/raw"
	printf '%s\n' "$(od -An -v -tx1 "$T/der" | tr -d ' \n' | cut -c 101-141 | tr a-f A-F)" >"$T/HEX"
	for f in line across text raw HEX; do
		run no_key_material "$key" -- "$T/$f"
		assert_failure
		assert_output --partial "$T/$f: holds the key as"
	done
	echo "postfix-tls-setup: $T/ssl/key.pem: nothing secret" >"$T/clean"
	run no_key_material "$key" -- "$T/clean"
	assert_success
}

@test "a broken key's contents never reach stdout, stderr or syslog, with or without -v" {
	refuses_quietly cut "" "PEM block 1 is damaged or cut off"
	refuses_quietly char "" "PEM block 1 is damaged or cut off"
	refuses_quietly der "" "cannot be parsed"
}

@test "a key that does not match never reaches stdout, stderr or syslog, with or without -v" {
	refuses_quietly wrong-ec "" "private key does not match public key in certificate"
	refuses_quietly wrong-rsa "" "private key does not match public key in certificate"
}

@test "a passphrase-protected key never reaches stdout, stderr or syslog, with or without -v" {
	refuses_quietly pkcs8 secret "protected by a passphrase"
	refuses_quietly trad secret "protected by a passphrase"
}
