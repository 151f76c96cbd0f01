#!/usr/bin/env bats
# Trust anchors are inputs like any other, and the most dangerous ones:
# whoever can write one can make any certificate trusted.  --cafile,
# --capath and the system store are read through the safe-path walk and
# must be root's and writable by no one else (issue 10, item 7).

load ../helpers

setup_file() {
	pki_common
	pki_cert self.example.org self server
}

setup() {
	setup_world
	good_bundle
}

# anchored ARGS...: the helper on the usual inputs with the trust anchors
# the arguments give (and none by default).
anchored() {
	"$HELPER" -c "$T/postfix" --root "$T/root" --conf "$T/conf" \
		--cert "$T/ssl/cert.pem" --key "$T/ssl/key.pem" \
		--chain "$T/ssl/chain.pem" "$@"
}

# A self-signed leaf in place of the good one: only a forged anchor
# makes it verify.
forge() {
	use_leaf self.example.org
	cp "$T/ssl/cert.pem" "$T/ssl/chain.pem"	# no other CA to offer
	mkdir -p "$T/ca"
	chmod 755 "$T/ca"
	cp "$PKI/self.example.org.pem" "$T/ca/forged.pem"
}

@test "a CA file owned by another user is refused and nothing changes" {
	need_root
	forge
	chown nobody "$T/ca/forged.pem"
	refuses 77 "$T/ca/forged.pem: trust anchors (POSTFIX_TLS_CAFILE) owned by nobody, not root: that user can make any certificate trusted (fix: chown root:root $T/ca/forged.pem)" \
		anchored --cafile "$T/ca/forged.pem" deploy
	refute_output --partial "wrote"
}

@test "a group-writable CA file is refused and nothing changes" {
	forge
	chmod 664 "$T/ca/forged.pem"
	refuses 77 "$T/ca/forged.pem: trust anchors (POSTFIX_TLS_CAFILE) writable by its group" \
		anchored --cafile "$T/ca/forged.pem" deploy
	assert_output --partial "(fix: chmod go-w $T/ca/forged.pem)"
}

@test "a CA file in a directory another user owns is refused" {
	need_root
	forge
	chown nobody "$T/ca"
	refuses 77 "$T/ca: directory is owned by nobody, not root" \
		anchored --cafile "$T/ca/forged.pem" deploy
}

@test "a FIFO as CA file is refused at once instead of hanging" {
	mkfifo "$T/ssl/ca.fifo"
	refuses 77 "$T/ssl/ca.fifo: is a FIFO, not a regular file" \
		timeout 20 "$HELPER" -c "$T/postfix" --root "$T/root" \
		--conf "$T/conf" --cafile "$T/ssl/ca.fifo" \
		--cert "$T/ssl/cert.pem" --key "$T/ssl/key.pem" \
		--chain "$T/ssl/chain.pem" deploy
}

@test "a CA file that is a root-owned link in a safe directory is followed" {
	mkdir -m 755 "$T/ca"
	cp "$PKI/root.pem" "$T/ca/root.pem"
	ln -s root.pem "$T/ca/link.pem"
	run anchored --cafile "$T/ca/link.pem" check
	assert_success
	assert_output --partial "ok: $BUNDLE would be served with 3 certificates"
}

@test "a CA file without certificates is refused" {
	echo "not a certificate" >"$T/ssl/empty-ca.pem"
	refuses 65 "$T/ssl/empty-ca.pem: holds no certificate" \
		anchored --cafile "$T/ssl/empty-ca.pem" deploy
}

# A hashed directory holding the test root, as openssl rehash makes it.
hashed_dir() {
	mkdir -m 755 "$T/anchors"
	cp "$PKI/root.pem" "$T/anchors/root.pem"
	openssl rehash "$T/anchors"
}

@test "a group-writable trust directory is refused and nothing changes" {
	forge
	mkdir -m 755 "$T/anchors"
	cp "$PKI/self.example.org.pem" "$T/anchors/"
	openssl rehash "$T/anchors"
	chmod 775 "$T/anchors"
	refuses 77 "$T/anchors: directory is writable by its group" \
		anchored --capath "$T/anchors" deploy
	refute_output --partial "does not verify"
	refute_output --partial "wrote"
}

@test "an anchor in the trust directory owned by another user is refused" {
	need_root
	forge
	mkdir -m 755 "$T/anchors"
	cp "$PKI/self.example.org.pem" "$T/anchors/"
	openssl rehash "$T/anchors"
	chown nobody "$T/anchors/self.example.org.pem"
	refuses 77 "trust anchors (POSTFIX_TLS_CAPATH) owned by nobody" \
		anchored --capath "$T/anchors" deploy
}

@test "a hash link in the trust directory into a directory another user owns is refused" {
	need_root
	forge
	hashed_dir
	mkdir -m 755 "$T/userdir"
	mv "$T/ca/forged.pem" "$T/userdir/forged.pem"
	chown nobody "$T/userdir"
	hash=$(openssl x509 -in "$PKI/self.example.org.pem" -noout -subject_hash)
	ln -s "$T/userdir/forged.pem" "$T/anchors/$hash.0"
	refuses 77 "$T/userdir: directory is owned by nobody, not root" \
		anchored --capath "$T/anchors" deploy
}

@test "a trust directory is read lazily, one hash file at a time, through the walk" {
	command -v strace >/dev/null || skip "strace is not installed"
	hashed_dir
	run env ASAN_OPTIONS="${ASAN_OPTIONS:-}:detect_leaks=0" \
		strace -e trace=openat -o "$T/trace" \
		"$HELPER" -c "$T/postfix" --root "$T/root" --conf "$T/conf" \
		--capath "$T/anchors" --cert "$T/ssl/cert.pem" \
		--key "$T/ssl/key.pem" --chain "$T/ssl/chain.pem" check
	assert_success
	hash=$(openssl x509 -in "$PKI/root.pem" -noout -subject_hash)
	# (No -f: postconf's calls, traced beside the helper's, would split
	# its lines into "unfinished" and "resumed" halves.)
	# The root's hash link, walked component by component (O_PATH), then
	# the file it leads to opened with O_NOFOLLOW|O_NONBLOCK; the
	# directory is never opened by name nor listed whole.
	assert_file_contains "$T/trace" "openat([0-9]*, \"$hash.0\", O_RDONLY|O_NOFOLLOW|O_CLOEXEC|O_PATH)"
	assert_file_contains "$T/trace" "openat([0-9]*, \"root.pem\", O_RDONLY|O_NOCTTY|O_NONBLOCK|O_NOFOLLOW"
	run grep -F "\"$T/anchors" "$T/trace"
	assert_failure
	run grep -F "O_DIRECTORY" "$T/trace"
	refute_output --partial "anchors"
}

