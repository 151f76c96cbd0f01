#!/usr/bin/env bats
# postconf runs beside the helper's own work (the input files are read and
# checked while it runs), yet what is found is said in the order of the
# stages: settings, postconf, the package database, the inputs, main.cf.
# The first problem said decides the exit status.

load ../helpers

setup_file() {
	pki_common
	pki_cert stray self ca
	pki_cert other inter2 server
}

setup() {
	setup_world
	good_bundle
}

@test "the input files are read while postconf runs, not after it" {
	command -v strace >/dev/null || skip "strace is not installed"
	# (LeakSanitizer cannot work under ptrace: off for this one run.)
	run env ASAN_OPTIONS="${ASAN_OPTIONS:-}:detect_leaks=0" strace -f -qq -e trace=execve,openat,wait4 -o "$BATS_TEST_TMPDIR/trace" \
		"$HELPER" -q -c "$T/postfix" --root "$T/root" --no-conf \
		--cafile "$PKI/root.pem" --cert "$T/ssl/cert.pem" \
		--key "$T/ssl/key.pem" --chain "$T/ssl/chain.pem" check
	assert_success
	line_of() { grep -n "$1" "$BATS_TEST_TMPDIR/trace" | head -n1 | cut -d: -f1; }
	spawn=$(line_of 'execve("/usr/sbin/postconf"')
	key=$(line_of 'openat([0-9]*, "key.pem", O_RDONLY|O_NOCTTY')
	wait=$(line_of 'wait4(')
	[ -n "$spawn" ] && [ -n "$key" ] && [ -n "$wait" ]
	# Started first, waited for last: the key was read in between.
	[ "$spawn" -lt "$key" ]
	[ "$key" -lt "$wait" ]
}

# said_before_missing_key STATUS FIRST: with a missing key file as well,
# the run is refused with STATUS and FIRST is said before the key's line.
said_before_missing_key() {
	refuses "$1" "$2" helper --cert "$T/ssl/cert.pem" \
		--key "$T/ssl/nokey.pem" --chain "$T/ssl/chain.pem" deploy
	assert_line --index 0 --partial "$2"
	assert_line --index 1 --partial "$T/ssl/nokey.pem: No such file or directory"
}

@test "the package database's problem still comes before an input's" {
	echo "amd64 berkdb pam" >"$T/root/var/db/pkg/mail-mta/postfix-3.8.4/USE"
	said_before_missing_key 69 "was built without the ssl USE flag"
}

@test "postconf's failure comes first, the inputs' problems after it" {
	rm "$T/postfix/main.cf"
	said_before_missing_key 78 "cannot read Postfix's settings: postconf failed"
}

@test "a problem in the settings stops the run before anything else is said" {
	echo 'POSTFIX_TLS_KEY=$HOME/key.pem' >"$T/conf"
	rm "$T/postfix/main.cf"
	refuses 78 "$T/conf:1:" helper --cert "$T/ssl/cert.pem" deploy
	[ "${#lines[@]}" -eq 1 ]
}

@test "a file named as both key and certificate that is missing is one problem" {
	refuses 66 "$T/ssl/gone.pem: No such file or directory" \
		helper --cert "$T/ssl/gone.pem" --key "$T/ssl/gone.pem" \
		--chain "$T/ssl/chain.pem" check
	run grep -c "^postfix-tls-setup: $T/ssl/gone.pem:" <<<"$output"
	assert_output 1
}

@test "a note about the chain is said after postconf's failure, not before it" {
	# A stray certificate in the chain file: a note on stdout, found while
	# postconf runs; postconf then fails.  Its line still comes first.
	cat "$PKI/chain.pem" "$PKI/stray.pem" >"$T/ssl/chain.pem"
	rm "$T/postfix/main.cf"
	refuses 78 "cannot read Postfix's settings: postconf failed" \
		helper --cert "$T/ssl/cert.pem" --key "$T/ssl/key.pem" \
		--chain "$T/ssl/chain.pem" deploy
	assert_line --index 0 --partial "cannot read Postfix's settings: postconf failed"
	assert_line --index 1 --partial "note: $T/ssl/chain.pem: left out 1 certificate"
}

@test "an input's problem comes before what master.cf's services say (the inventory is made early, said in its turn)" {
	write_mastercf \
		"submission inet  n       -       n       -       -       smtpd" \
		"  -o smtpd_tls_security_level=encrypt" \
		"  -o smtpd_tls_cert_file=$BUNDLE" \
		"  -o smtpd_tls_key_file=ssl/key.pem"
	cp "$PKI/other.key" "$T/ssl/key.pem"	# main.cf's key: not the leaf's
	refuses 65 "private key does not match" \
		helper --cert "$T/ssl/cert.pem" --chain "$T/ssl/chain.pem" check
	assert_line --index 0 --partial "private key does not match"
	assert_output --partial "ssl/key.pem"
	run grep -n "submission" <<<"$output"
	assert_success
	[ "${output%%:*}" -gt 1 ] || fail "master.cf's problem came first"
}
