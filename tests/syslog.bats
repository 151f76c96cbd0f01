#!/usr/bin/env bats
# Every problem and warning also goes to syslog, facility mail, where
# Postfix logs too.  A private /dev with our own /dev/log listener keeps
# the machine's logging out of it.

load helpers

setup_file() {
	pki_common
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
		sleep 0.2
		kill $!
		exit $status' with_syslog "$T" "$@"
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
