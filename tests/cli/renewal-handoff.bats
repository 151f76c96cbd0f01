#!/usr/bin/env bats
# Issue 20, part 2: renew leaves the ACME client's files alone, and an
# unprivileged client hands its new files to root through a request
# (renew --request as the client's user, renew --pending as root; renew.h
# and handoff.h have the design, SECURITY.md the attacker model).  The
# attacker here is the client's user: every refusal is checked for its
# status, its message, and that nothing changed on disk.

load ../helpers

setup_file() {
	pki_common
	pki_cert other.example.org inter2 server
	mkdir -p "$PKI/next"
	cp "$PKI/inter2.pem" "$PKI/inter2.key" "$PKI/next/"
	PKI=$PKI/next pki_cert "$HOST" inter2 server
	chmod -R a+rX "$PKI"
}

# main.cf reads key and chain from the helper's bundle; deployed once.
setup() {
	need_root
	setup_world
	CLIENT=nobody
	CGROUP=$(id -gn "$CLIENT")
	RECORDS=$T/root/var/lib/postfix-tls-setup
	printf '%s\n' "smtpd_tls_security_level = may" \
		"smtpd_tls_chain_files = $BUNDLE" "myhostname = $HOST" \
		>"$T/postfix/main.cf"
	settle_maincf
	printf '%s\n' "POSTFIX_TLS_BUNDLE=$BUNDLE" >"$T/conf"
	mkdir -p "$T/root/var/lib"
	helper -q deploy --cert "$T/ssl/cert.pem" --key "$T/ssl/key.pem" \
		--chain "$T/ssl/chain.pem"
	assert_file_exists "$BUNDLE"
}

# renew_as_root ARGS...: renew with no init system in sight (empty /run).
renew_as_root() {
	unshare --mount --propagation private sh -c \
		'mount -t tmpfs none /run && exec "$@"' sh \
		"$HELPER" -c "$T/postfix" --root "$T/root" --conf "$T/conf" \
		--cafile "$PKI/root.pem" renew "$@"
}

# Owner, group, mode, size, times and bytes of a file, for "unchanged".
metadata() {
	stat -c '%u:%g %a %s %Y %Z %i %h' "$1"
	sha256sum <"$1"
}

@test "renew as root leaves the client's own key (user:group 0640) exactly as it was, and copies it into the bundle" {
	A=$T/acme
	mkdir -p "$A"
	chmod 755 "$A"
	cp "$PKI/next/$HOST.pem" "$A/cert.pem"
	cp "$PKI/chain.pem" "$A/chain.pem"
	install -m 0640 -o "$CLIENT" -g "$CGROUP" "$PKI/next/$HOST.key" "$A/key.pem"
	before=$(metadata "$A/key.pem"; metadata "$A/cert.pem")
	run renew_as_root --cert "$A/cert.pem" --key "$A/key.pem" --chain "$A/chain.pem"
	assert_success
	assert_output --partial "wrote $BUNDLE"
	assert_equal "$(metadata "$A/key.pem"; metadata "$A/cert.pem")" "$before"
	assert_equal "$(openssl pkey -in "$BUNDLE" -pubout)" \
		"$(openssl pkey -in "$PKI/next/$HOST.key" -pubout)"
	assert_equal "$(stat -c '%u:%g %a' "$BUNDLE")" "0:0 600"
}
