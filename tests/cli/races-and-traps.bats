#!/usr/bin/env bats
# Races and traps: a file swapped for a symbolic link between the check
# and the use (done at the exact moment by tests/fault/fault.c), and files
# an attacker plants where the helper writes.  The file the attacker aims
# at (a copy of /etc/shadow) must stay as it was: content, owner, mode.

load ../helpers

setup_file() {
	pki_common
	build_fault_shim
}

setup() {
	need_root
	setup_world
	good_bundle
	printf 'root:$6$secret:19000:0:99999:7:::\n' >"$T/shadow"
	chmod 0640 "$T/shadow"
	SHADOW=$(stat -c '%U:%G %a %s' "$T/shadow"; sha256sum <"$T/shadow")
}

shadow_untouched() {
	assert_equal "$(stat -c '%U:%G %a %s' "$T/shadow"; sha256sum <"$T/shadow")" "$SHADOW"
}

# swap_at NAME FROM TO: run deploy, renaming FROM over TO just before the
# helper opens NAME for use (after its checks of the path).
swap_at() {
	not_under_valgrind
	run env FAULT_SWAP_NAME="$1" FAULT_SWAP_FROM="$2" FAULT_SWAP_TO="$3" \
		LD_PRELOAD="$BATS_FILE_TMPDIR/fault.so" \
		"$HELPER" -c "$T/postfix" --root "$T/root" --conf "$T/conf" \
		--cafile "$PKI/root.pem" --cert "$T/ssl/cert.pem" \
		--key "$T/ssl/key.pem" --chain "$T/ssl/chain.pem" deploy
}

@test "a key swapped for a symlink to /etc/shadow's copy between check and open is refused" {
	chmod 0644 "$T/ssl/key.pem"
	ln -s "$T/shadow" "$T/ssl/.evil"
	swap_at key.pem "$T/ssl/.evil" "$T/ssl/key.pem"
	assert_failure 77
	assert_output --partial "$T/ssl/key.pem: became a symbolic link while being checked"
	assert_link_exists "$T/ssl/key.pem"     # the swap did happen
	shadow_untouched
}

@test "a bundle swapped for a symlink to /etc/shadow's copy between check and open is refused" {
	# The swap renames the link over the bundle; a second name keeps the
	# old bundle's file in view, to prove nothing was written into it.
	ln "$BUNDLE" "$T/bundle.old"
	before=$(stat -c '%U:%G %a %s %Y' "$T/bundle.old"; sha256sum <"$T/bundle.old")
	cp "$PKI/root.pem" "$T/ssl/chain.pem"   # a change, so deploy wants to write
	cat "$PKI/chain.pem" >>"$T/ssl/chain.pem"
	ln -s "$T/shadow" "$T/postfix/.evil"
	swap_at certificate.pem "$T/postfix/.evil" "$BUNDLE"
	assert_failure 77
	assert_output --partial "$BUNDLE: became a symbolic link while being checked"
	shadow_untouched
	assert_equal "$(stat -c '%U:%G %a %s %Y' "$T/bundle.old"; sha256sum <"$T/bundle.old")" "$before"
	# Neither replaced nor removed: the attacker's link is still there.
	assert_link_exists "$BUNDLE"
	assert_equal "$(readlink "$BUNDLE")" "$T/shadow"
	[ "$(find "$T/postfix" -name '.certificate.pem.*' | wc -l)" -eq 0 ]
}

# keys -> keys.real becomes keys -> decoy just after the set read its key:
# the set's key was read through the descriptor its walk opened (not the
# decoy), and main.cf's name, walked again as smtpd will follow it, now
# leads to the decoy, which does not fit the bundle: refused, and neither
# key is read for a write or made root's.
@test "a directory link retargeted after the walk does not redirect the read or the chmod" {
	mkdir "$T/keys.real" "$T/decoy"
	mv "$T/ssl/key.pem" "$T/keys.real/key.pem"
	chmod 0644 "$T/keys.real/key.pem"
	ln -s keys.real "$T/keys"
	cp "$PKI/other.example.org.key" "$T/decoy/key.pem" 2>/dev/null ||
		openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$T/decoy/key.pem"
	chmod 0644 "$T/decoy/key.pem"
	decoy=$(sha256sum <"$T/decoy/key.pem")
	real=$(sha256sum <"$T/keys.real/key.pem")
	ln -s decoy "$T/.keys.evil"
	write_maincf "smtpd_tls_key_file = $T/keys/key.pem"
	bundle=$(sha256sum <"$BUNDLE")
	# Just before key.pem is opened, keys -> keys.real becomes keys -> decoy.
	not_under_valgrind
	run env FAULT_SWAP_NAME=key.pem FAULT_SWAP_FROM="$T/.keys.evil" FAULT_SWAP_TO="$T/keys" \
		LD_PRELOAD="$BATS_FILE_TMPDIR/fault.so" \
		"$HELPER" -c "$T/postfix" --root "$T/root" --conf "$T/conf" \
		--cafile "$PKI/root.pem" --cert "$T/ssl/cert.pem" \
		--key "$T/keys/key.pem" --chain "$T/ssl/chain.pem" deploy
	assert_equal "$(readlink "$T/keys")" decoy       # the swap did happen
	assert_failure 65
	assert_output --partial "main.cf: $T/keys/key.pem: private key does not match public key in certificate"
	refute_output --partial "$T/ssl/cert.pem: private key does not match"	# the set read the real key
	assert_file_permission 644 "$T/keys.real/key.pem"
	assert_equal "$(sha256sum <"$T/keys.real/key.pem")" "$real"
	assert_file_permission 644 "$T/decoy/key.pem"
	assert_equal "$(sha256sum <"$T/decoy/key.pem")" "$decoy"
	assert_equal "$(sha256sum <"$BUNDLE")" "$bundle"
}

@test "files planted with the temporary's name in a shared directory are neither removed nor followed" {
	mkdir -m 1777 "$T/shared"
	BUNDLE=$T/shared/certificate.pem write_maincf
	deploy_inputs -q --bundle "$T/shared/certificate.pem" deploy
	ln -s "$T/shadow" "$T/shared/.certificate.pem.deadbeef"
	chown -h nobody "$T/shared/.certificate.pem.deadbeef"
	echo planted >"$T/shared/.certificate.pem.0badcafe"
	chown nobody "$T/shared/.certificate.pem.0badcafe"
	cat "$PKI/chain.pem" "$PKI/root.pem" >"$T/ssl/chain.pem"
	run deploy_inputs --include-root --bundle "$T/shared/certificate.pem" deploy
	assert_success
	assert_output --partial "wrote $T/shared/certificate.pem (4 certificates)"
	assert_link_exists "$T/shared/.certificate.pem.deadbeef"
	assert_equal "$(readlink "$T/shared/.certificate.pem.deadbeef")" "$T/shadow"
	assert_file_exists "$T/shared/.certificate.pem.0badcafe"
	assert_equal "$(stat -c '%U %a' "$T/shared/.certificate.pem.0badcafe")" "nobody 644"
	assert_equal "$(cat "$T/shared/.certificate.pem.0badcafe")" planted
	assert_equal "$(subjects "$T/shared/certificate.pem")" "$(printf '%s\n' "$HOST" inter2 inter1 root)"
	shadow_untouched
}
