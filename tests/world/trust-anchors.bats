#!/usr/bin/env bats
# Trust anchors from the system store, end to end (tests/cli/trust-anchors.bats
# has the rest): the store laid out as update-ca-certificates lays it out,
# inside a private world whose /usr and /etc are overlays.

load ../helpers

setup_file() {
	pki_common
}

setup() {
	setup_world
	good_bundle
}

@test "the system store still works through its links into /usr/share/ca-certificates" {
	need_root
	command -v unshare >/dev/null || skip "unshare is not installed"
	dir=$(openssl version -d | sed 's/^OPENSSLDIR: "\(.*\)"$/\1/')/certs
	[ -d "$dir" ] || skip "no system certificate directory $dir"
	hash=$(openssl x509 -in "$PKI/root.pem" -noout -subject_hash)
	run world <<-SCENARIO
	# As Debian's and Gentoo's update-ca-certificates lay it out: the
	# certificate under /usr/share, a link to it in the store, and the
	# hash link to that link.
	mkdir -p /usr/share/ca-certificates/test
	cp "\$PKI/root.pem" /usr/share/ca-certificates/test/pts-root.crt
	ln -sf /usr/share/ca-certificates/test/pts-root.crt "$dir/pts-root.pem"
	ln -sf pts-root.pem "$dir/$hash.0"
	"\${PTS_HELPER:-/usr/sbin/postfix-tls-setup}" -c "$T/postfix" --root "$T/root" --conf "$T/conf" \
		--cert "$T/ssl/cert.pem" --key "$T/ssl/key.pem" --chain "$T/ssl/chain.pem" check
	say "check=\$?"
	SCENARIO
	assert_output --partial "ok: $BUNDLE would be served with 3 certificates"
	assert_output --partial "@@ check=0"
	# Nothing of it is left on the machine.
	assert_file_not_exists "$dir/$hash.0"
}
