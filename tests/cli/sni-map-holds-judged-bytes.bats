#!/usr/bin/env bats
# Review of issue 19, mapbuild.c: "what Postfix will load is what was
# judged" for SNI entries.  smtpd serves the compiled map, and the map is
# rebuilt by postmap -F, which reads every file an entry names BY NAME,
# after the judge read them.  Only the source is copied privately; the
# named files are not, and nothing compares what postmap stored with the
# bytes that were judged.  A certificate robot that renews the key, then
# the certificate (two writes, as certbot and acme.sh do), with postmap
# running between them, leaves a map holding the new key with the old
# certificate: smtpd cannot use that entry.  Once the robot's second write
# is done the files agree again and are older than the map (stamped at
# its install), so every later check passes and the map is never rebuilt.
# (A key file another user owns can be switched the same way: the
# re-read before its root-only copy sees the checked bytes again once she
# puts them back after postmap ran.)
#
# The robot is played deterministically: /usr/sbin/postmap is, in a
# private mount namespace, a wrapper that does the robot's first write,
# runs the real postmap, then does the second write.

load ../helpers

setup_file() {
	pki_common
	pki_cert a.example.net inter2 server
	# The renewal: a new key and its certificate, same name, same CA.
	mkdir -p "$PKI/next"
	cp "$PKI/inter2.pem" "$PKI/inter2.key" "$PKI/next/"
	PKI=$PKI/next pki_cert a.example.net inter2 server
}

setup() {
	need_root
	setup_world
	good_bundle
}

# stored_pubkeys DOMAIN: the public key of the stored key, then of the
# stored leaf, for DOMAIN's entry of the compiled map, one per line.
stored_pubkeys() {
	postmap -c "$T/postfix" -q "$1" "hash:$T/postfix/sni" | base64 -d \
		>"$BATS_TEST_TMPDIR/stored.pem"
	openssl pkey -in "$BATS_TEST_TMPDIR/stored.pem" -pubout | sha256sum
	openssl x509 -in "$BATS_TEST_TMPDIR/stored.pem" -noout -pubkey | sha256sum
}

# robot_deploy: deploy with the robot's two writes around postmap's run.
robot_deploy() {
	cat >"$BATS_TEST_TMPDIR/postmap" <<-'SH'
	#!/bin/sh
	cat "$NEXT/a.example.net.key" >"$SSL/a.example.net.key"
	"$REAL" "$@"
	rc=$?
	cat "$NEXT/a.example.net.pem" "$CHAIN" >"$SSL/a.example.net.pem"
	exit $rc
	SH
	chmod 0755 "$BATS_TEST_TMPDIR/postmap"
	cp /usr/sbin/postmap "$BATS_TEST_TMPDIR/postmap.real"
	# shellcheck disable=SC2016 # expanded by the inner bash
	run env REAL="$BATS_TEST_TMPDIR/postmap.real" NEXT="$PKI/next" \
	    SSL="$T/ssl" CHAIN="$PKI/chain.pem" PKI="$PKI" HELPER="$HELPER" \
	    unshare -m bash -c '
		mount --bind "$0/postmap" /usr/sbin/postmap || exit 99
		"$HELPER" -c "$1/postfix" --root "$1/root" --conf "$1/conf" \
			--cafile "$PKI/root.pem" --cert "$1/ssl/cert.pem" \
			--key "$1/ssl/key.pem" --chain "$1/ssl/chain.pem" deploy
	' "$BATS_TEST_TMPDIR" "$T"
}

@test "an SNI map rebuilt by deploy holds the entry's key with its own certificate, even when a renewal writes the files meanwhile" {
	sni_map hash "$(sni_entry a.example.net a.example.net)"
	touch -d '1 hour ago' "$T/postfix/sni.db"	# stale: deploy rebuilds it
	before=$(stored_pubkeys a.example.net)
	robot_deploy
	[ "$status" -ne 99 ] || fail "cannot put the wrapper in place"
	mapfile -t now < <(stored_pubkeys a.example.net)
	if [ "$status" -eq 0 ]; then
		# Deployed: the map must hold a key and the certificate it
		# goes with (what was judged).
		assert_equal "${now[0]}" "${now[1]}"
	else
		# Refused: the map is the old one.
		assert_equal "$(printf '%s\n' "${now[@]}")" "$before"
	fi
}

@test "a map left holding a renewal's new key with the old certificate is never called up to date" {
	# What the robot's two writes around a postmap run leave (a846e0e's
	# deploy did): the map built while the key file held the next key,
	# then the files agreeing again, their times set back before the
	# map's (the change time, which no robot sets back, is what dates
	# them).
	sni_map hash "$(sni_entry a.example.net a.example.net)"
	cp "$T/ssl/a.example.net.key" "$BATS_TEST_TMPDIR/old.key"
	cat "$PKI/next/a.example.net.key" >"$T/ssl/a.example.net.key"
	postmap -c "$T/postfix" -F "hash:$T/postfix/sni"
	cat "$BATS_TEST_TMPDIR/old.key" >"$T/ssl/a.example.net.key"
	touch -d '1 hour ago' "$T/postfix/sni" "$T/ssl"/a.example.net.*
	mapfile -t now < <(stored_pubkeys a.example.net)
	[ "${now[0]}" != "${now[1]}" ] || fail "the map was not made inconsistent"
	run deploy_inputs check
	assert_success
	assert_output --partial "would rebuild $T/postfix/sni.db"
	run deploy_inputs deploy
	assert_success
	mapfile -t now < <(stored_pubkeys a.example.net)
	assert_equal "${now[0]}" "${now[1]}"
}
