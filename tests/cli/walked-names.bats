#!/usr/bin/env bats
# Issue 19, hole 4: every name Postfix will open is walked as written, and
# files are compared by the walked descriptor, not by what stat() finds at
# a name today.  A name that reaches the very bundle this run writes
# through a directory another user owns is as unsafe as one that reaches
# any other file: she can point the link elsewhere after the check.  And
# no child the helper starts can hold up a start: postmap, reading a name
# someone swapped a FIFO in behind, is killed at its deadline.

load ../helpers

setup_file() {
	pki_common
	pki_cert a.example.net inter2 server
	cc -shared -fPIC -Wall -Wextra -o "$BATS_FILE_TMPDIR/swap.so" \
		"$TOP/tests/fault/swap_at_spawn.c" -ldl
}

setup() {
	need_root
	setup_world
}

teardown() {
	# A postmap the helper left blocked on the FIFO.
	local pidfile=$BATS_FILE_TMPDIR/postmap.$BATS_TEST_NUMBER.pid
	if [ -s "$pidfile" ]; then
		kill -KILL "$(cat "$pidfile")" 2>/dev/null || true
	fi
}

# key_first_bundle: main.cf serves the bundle through smtpd_tls_chain_files,
# so it holds the key first, as an SNI entry's file must; deployed.
key_first_bundle() {
	write_maincf "smtpd_tls_chain_files = $BUNDLE"
	good_bundle
}

# user_link TARGET: $T/user/b.pem, a link to TARGET in a directory nobody
# owns, the link nobody's too.
user_link() {
	mkdir -p "$T/user"
	ln -sfn "$1" "$T/user/b.pem"
	chown -h nobody "$T/user" "$T/user/b.pem"
}

# same_refusal COMMAND...: with $T/user/b.pem leading to a copy of the
# bundle, then to the bundle itself, COMMAND is refused alike: exit 77,
# the same line about the directory, nothing changed.
same_refusal() {
	local copy_line
	cp -p "$BUNDLE" "$T/ssl/copy.pem"
	user_link "$T/ssl/copy.pem"
	refuses 77 "$T/user: directory is owned by nobody, not root" "$@"
	copy_line=$(grep -F "$T/user: directory is owned by" <<<"$output")
	user_link "$BUNDLE"
	refuses 77 "$T/user: directory is owned by nobody, not root" "$@"
	assert_line "$copy_line"
}

@test "an SNI entry reaching the bundle through a directory another user owns is refused, as the same link to any other file is" {
	key_first_bundle
	printf '%s\n' "$HOST $T/user/b.pem" >"$T/postfix/sni"
	chmod 0600 "$T/postfix/sni"
	write_maincf "smtpd_tls_chain_files = $BUNDLE" \
		"tls_server_sni_maps = texthash:$T/postfix/sni"
	same_refusal deploy_inputs deploy
	assert_output --partial "SNI $HOST ($T/postfix/sni)"
}

@test "a master.cf -o smtpd_tls_key_file reaching the bundle through a directory another user owns is refused, as the same link to any other file is" {
	key_first_bundle
	# The service's own certificate file, its key "the bundle" by a link.
	cat "$T/ssl/cert.pem" "$T/ssl/chain.pem" >"$T/ssl/sub.pem"
	submission_service "$T/ssl/sub.pem" "$T/user/b.pem"
	echo "  -o smtpd_tls_chain_files=" >>"$T/postfix/master.cf"
	settle_maincf
	same_refusal deploy_inputs deploy
	assert_output --partial "submission/inet (master.cf)"
}

@test "an input setting naming the key file again through a directory another user owns is refused, as the same link to any other file is" {
	# The key file holds the leaf too, so the certificate setting may name
	# it; an input named twice is read once, but each name is walked.
	cat "$PKI/$HOST.key" "$PKI/$HOST.pem" >"$T/ssl/key.pem"
	chmod 0600 "$T/ssl/key.pem"
	run helper --key "$T/ssl/key.pem" --cert "$T/ssl/key.pem" \
		--chain "$T/ssl/chain.pem" check
	assert_success	# control: named directly, it passes
	cp -p "$T/ssl/key.pem" "$T/ssl/copy.pem"
	for target in "$T/ssl/copy.pem" "$T/ssl/key.pem"; do
		user_link "$target"
		refuses 77 "$T/user: directory is owned by nobody, not root" \
			helper --key "$T/ssl/key.pem" --cert "$T/user/b.pem" \
			--chain "$T/ssl/chain.pem" deploy
	done
}

@test "a postmap blocked on a FIFO swapped in behind a checked name is killed at its deadline, and the old map is kept" {
	[ "${PTS_SANITIZER:-}" != valgrind ] || skip "the shim would be preloaded into valgrind's wrapper, not the helper; runs in the plain and asan passes"
	good_bundle
	sni_map hash "$(sni_entry a.example.net a.example.net)"
	touch -d '1 hour ago' "$T/postfix/sni.db"	# stale: rebuilt by deploy
	local n=$BATS_TEST_NUMBER keep fifo pidfile start ms
	keep=$BATS_FILE_TMPDIR/keep.$n fifo=$BATS_FILE_TMPDIR/fifo.$n
	pidfile=$BATS_FILE_TMPDIR/postmap.$n.pid
	cp -p "$T/ssl/a.example.net.pem" "$keep"
	mkfifo -m 0600 "$fifo"
	before=$(snapshot)
	start=$(date +%s%N)
	# Without a deadline this hangs: 30 s is the backstop, not the test.
	run timeout -s KILL 30 env LD_PRELOAD="$BATS_FILE_TMPDIR/swap.so" \
		SWAP_SPAWN=postmap SWAP_FROM="$fifo" \
		SWAP_TO="$T/ssl/a.example.net.pem" SWAP_PIDFILE="$pidfile" \
		"$HELPER" -c "$T/postfix" --root "$T/root" --conf "$T/conf" \
		--cafile "$PKI/root.pem" --cert "$T/ssl/cert.pem" \
		--key "$T/ssl/key.pem" --chain "$T/ssl/chain.pem" deploy
	ms=$((($(date +%s%N) - start) / 1000000))
	mv "$keep" "$T/ssl/a.example.net.pem"	# the swap undone
	[ -s "$pidfile" ] || fail "postmap was never started, so nothing was swapped: $output"
	echo "# postmap given up after $ms ms" >&3
	assert_failure 74
	assert_output --partial "postmap did not finish within"
	assert_output --partial "$T/postfix/sni"
	# The deadline (10 s and 2 ms for its one entry), and not much more.
	[ "$ms" -ge 10000 ] || fail "given up after $ms ms, before the 10 s deadline"
	[ "$ms" -lt 25002 ] || fail "given up after $ms ms, 15 s past the deadline"
	# Every file as it was; the directories' times moved (the swap, and
	# the private copy of the source made and removed beside it).
	assert_equal "$(snapshot | grep -vE '^\.(/postfix|/ssl)? ')" \
		"$(grep -vE '^\.(/postfix|/ssl)? ' <<<"$before")"
}
