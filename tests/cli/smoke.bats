#!/usr/bin/env bats
# Smoke tests that run anywhere the helper was built, with plain bats only:
# this is what the ebuild's src_test runs, as the portage user inside the
# sandbox (no root, no bats-assert, maybe no Postfix).  The full suite runs
# the same things and much more as root.

TOP=$(cd "$BATS_TEST_DIRNAME/../.." && pwd)
HELPER=${PTS_HELPER:-$TOP/postfix-tls-setup}

setup() {
	T=$BATS_TEST_TMPDIR
	mkdir -p "$T/postfix" "$T/ssl" "$T/root/var/db/pkg/mail-mta/postfix-3.8.4"
	echo "amd64 ssl" >"$T/root/var/db/pkg/mail-mta/postfix-3.8.4/USE"
	printf 'smtpd_tls_security_level = may\nsmtpd_tls_cert_file = %s\nsmtpd_tls_key_file = %s\n' \
		"$T/postfix/certificate.pem" "$T/ssl/key.pem" >"$T/postfix/main.cf"
	touch -d '1 hour ago' "$T/postfix/main.cf"
}

@test "the helper reports the version the Makefile names" {
	run "$HELPER" --version
	[ "$status" -eq 0 ]
	[ "$output" = "postfix-tls-setup $(make -s -C "$TOP" version)" ]
}

@test "an unknown command is a usage error" {
	run "$HELPER" frobnicate
	[ "$status" -eq 64 ]
	[[ $output == *'unknown command "frobnicate"'* ]]
}

@test "a bad value on the command line is refused by the settings parser" {
	run "$HELPER" -c "$T/postfix" --warn-days 'soon' check
	[ "$status" -eq 78 ]
	[[ $output == *'--warn-days: POSTFIX_TLS_WARN_DAYS must be a number of days from 0 to 3650, not "soon"'* ]]
}

@test "a key in a directory that is not root's is refused, or Postfix's absence is named" {
	openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$T/ssl/key.pem" 2>/dev/null
	[ "$(id -u)" -ne 0 ] || chown nobody "$T/ssl"
	before=$(stat -c '%U:%G %a %Y' "$T/ssl/key.pem"; cksum <"$T/ssl/key.pem")
	run "$HELPER" -c "$T/postfix" --root "$T/root" --no-conf --key "$T/ssl/key.pem" check
	# A refusal changes nothing: the key as it was, no bundle.
	[ "$(stat -c '%U:%G %a %Y' "$T/ssl/key.pem"; cksum <"$T/ssl/key.pem")" = "$before" ]
	[ ! -e "$T/postfix/certificate.pem" ]
	if command -v postconf >/dev/null; then
		[ "$status" -eq 77 ]
		[[ $output == *": directory is "* ]]  # owned by another user, or writable by others
	else
		[ "$status" -eq 78 ]
		[[ $output == *"cannot read Postfix's settings: postconf could not be run"* ]]
	fi
}
