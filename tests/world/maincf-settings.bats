#!/usr/bin/env bats
# main.cf as real smtpd reads it (tests/cli/maincf-settings.bats has the
# rest, resolved by postconf alone): relative file names, in a private
# world with Postfix running.

load ../helpers

setup_file() {
	pki_common
}

setup() {
	setup_world
	good_bundle
}

@test "real smtpd reads relative names in its queue directory, so the helper refuses them" {
	run world <<-'SCENARIO'
	make_postfix /etc/postfix 127.0.0.1
	use_tls "$HOST" inter2 inter1
	q=$(postconf -xh queue_directory)
	cat /etc/ssl/mail/cert.pem /etc/ssl/mail/chain.pem >"$q/bundle.pem"
	cp /etc/ssl/mail/key.pem "$q/key.pem"
	chmod 0600 "$q/key.pem"
	postconf -e smtpd_tls_cert_file=bundle.pem smtpd_tls_key_file=key.pem
	postconf -F 'smtp/inet/chroot = y'	# read before the jail, all the same
	touch -d '1 hour ago' /etc/postfix/main.cf
	postfix start >/dev/null 2>&1; say "start=$?"
	say "smtpd: $(starttls 127.0.0.1 | grep -E '^(Verification|Peer certificate)' | tr '\n' ' ')"
	postfix stop >/dev/null 2>&1
	tune /etc/conf.d/postfix-tls-setup
	cd "$q" && postfix-tls-setup check 2>&1; say "helper in the queue directory=$?"
	SCENARIO
	assert_success
	assert_output --partial "@@ start=0"
	assert_output --partial "@@ smtpd: Peer certificate: O = Test, CN = $HOST Verification: OK"
	assert_output --partial "bundle.pem: smtpd_tls_cert_file in /etc/postfix/main.cf is a relative name: smtpd looks for it in Postfix's queue directory"
	assert_output --partial "key.pem: smtpd_tls_key_file in /etc/postfix/main.cf is a relative name"
	assert_output --partial "@@ helper in the queue directory=78"
}
