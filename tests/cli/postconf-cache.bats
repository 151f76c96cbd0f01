#!/usr/bin/env bats
# POSTFIX_TLS_CACHE: postconf's last answer is kept and used while what
# decides it (main.cf, master.cf, the postconf program, the host name) is
# the same; anything wrong with the cache means asking postconf again,
# never a wrong answer and never a refusal.

load ../helpers

setup_file() {
	pki_common
}

setup() {
	need_root
	command -v strace >/dev/null || skip "strace is not installed"
	setup_world
	CACHE=$T/cache
	echo "POSTFIX_TLS_CACHE=$CACHE" >"$T/conf"
	good_bundle
}

# traced ARGS...: the helper's deploy_inputs run under strace; sets
# $postconf_runs to how often it asked postconf for main.cf's values
# (with a master.cf, each asking also runs postconf -F and -P beside it).
traced() {
	# (LeakSanitizer cannot work under ptrace: off for these runs.)
	run env ASAN_OPTIONS="${ASAN_OPTIONS:-}:detect_leaks=0" \
		strace -f -qq -e trace=execve -o "$T/trace" \
		"$HELPER" -c "$T/postfix" --root "$T/root" --conf "$T/conf" \
		--cafile "$PKI/root.pem" --cert "$T/ssl/cert.pem" \
		--key "$T/ssl/key.pem" --chain "$T/ssl/chain.pem" "$@"
	postconf_runs=$(grep -c 'execve("/usr/sbin/postconf", .*"-xh"' "$T/trace" || true)
}

@test "postconf's answer is kept, root's alone, and used at the next run" {
	cache_file=$(echo "$CACHE"/postconf-*)
	assert_file_exists "$cache_file"
	[ "$(stat -c '%U:%G %a' "$CACHE")" = "root:root 700" ]
	[ "$(stat -c '%U:%G %a' "$cache_file")" = "root:root 600" ]
	traced check
	assert_success
	assert_line "ok: $BUNDLE would be served with 3 certificates"
	[ "$postconf_runs" -eq 0 ]
}

@test "without POSTFIX_TLS_CACHE postconf is asked every time" {
	: >"$T/conf"
	traced check
	assert_success
	[ "$postconf_runs" -eq 1 ]
	traced check
	[ "$postconf_runs" -eq 1 ]
}

@test "an edit to main.cf is seen at once, even with the same size and time" {
	stamp=$(stat -c %y "$T/postfix/main.cf")
	# Same length, another bundle name: certificate.pem -> certificate.new
	sed -i 's|certificate\.pem|certificate.new|' "$T/postfix/main.cf"
	touch -d "$stamp" "$T/postfix/main.cf"
	traced check
	assert_success
	[ "$postconf_runs" -eq 1 ]
	assert_output --partial "would write $T/postfix/certificate.new"
	traced check
	[ "$postconf_runs" -eq 0 ]
	assert_output --partial "would write $T/postfix/certificate.new"
}

@test "an edit to master.cf is seen at once" {
	echo "# a comment" >>"$T/postfix/master.cf"
	traced check
	assert_success
	[ "$postconf_runs" -eq 1 ]
}

@test "another host name is another answer (myhostname's default)" {
	sed -i '/^myhostname/d' "$T/postfix/main.cf"
	settle_maincf
	deploy_inputs -q check
	run unshare --uts bash -c 'hostname elsewhere.example.net &&
		ASAN_OPTIONS="${ASAN_OPTIONS:-}:detect_leaks=0" strace -f -qq -e trace=execve -o "$0/trace" \
		"$1" -c "$0/postfix" --root "$0/root" --conf "$0/conf" --cafile "$2/root.pem" \
		--cert "$0/ssl/cert.pem" --key "$0/ssl/key.pem" --chain "$0/ssl/chain.pem" check' \
		"$T" "$HELPER" "$PKI"
	assert_output --partial "elsewhere.example.net"	# the name mismatch warning
	run grep -c 'execve("/usr/sbin/postconf"' "$T/trace"
	assert_output 1
}

@test "a cache file that is not root's alone is ignored, never trusted" {
	cache_file=$(echo "$CACHE"/postconf-*)
	# A forged answer naming another bundle, readable by others.
	sed -i 's|^.*/certificate\.pem$|/tmp/forged.pem|' "$cache_file"
	chmod 0644 "$cache_file"
	traced check
	assert_success
	[ "$postconf_runs" -eq 1 ]
	refute_output --partial forged
	[ "$(stat -c %a "$cache_file")" = 600 ]	# replaced by a good one
}

@test "a cache in a directory others can enter, or of another owner, is not used" {
	chmod 0755 "$CACHE"
	traced check
	assert_success
	[ "$postconf_runs" -eq 1 ]
	chmod 0700 "$CACHE"
	chown nobody "$CACHE"
	traced check
	assert_success
	[ "$postconf_runs" -eq 1 ]
}

@test "a symlinked, hard-linked, garbage or empty cache file is not used" {
	cache_file=$(echo "$CACHE"/postconf-*)
	cp "$cache_file" "$T/copy"
	ln -sf "$T/copy" "$cache_file"
	traced check
	assert_success
	[ "$postconf_runs" -eq 1 ]
	ln -f "$cache_file" "$T/second-link"
	traced check
	[ "$postconf_runs" -eq 1 ]
	rm "$T/second-link"
	for content in "garbage" "" "$(head -n 2 "$cache_file")"; do
		printf '%s' "$content" >"$cache_file"
		traced check
		assert_success
		[ "$postconf_runs" -eq 1 ]
	done
}

@test "a cache that cannot be made or written costs time, never a refusal" {
	echo "POSTFIX_TLS_CACHE=$T/ssl/cert.pem/cache" >"$T/conf"
	traced deploy
	assert_success
	[ "$postconf_runs" -eq 1 ]
}

@test "POSTFIX_TLS_CACHE must be an absolute directory" {
	echo "POSTFIX_TLS_CACHE=run/cache" >"$T/conf"
	refuses 78 "POSTFIX_TLS_CACHE must be an absolute directory name, not \"run/cache\"" \
		deploy_inputs deploy
}

# A directory root trusts (root's, 0755), to which a planted link points.
victim_dir() {
	mkdir -p "$T/victim"
	chmod 0755 "$T/victim"
}

@test "a link planted in a parent of the cache directory does not move root's write" {
	victim_dir
	# A parent that user nobody owns: nobody links sub -> the victim.
	mkdir "$T/users"
	chown nobody "$T/users"
	ln -s "$T/victim" "$T/users/sub"
	chown -h nobody "$T/users/sub"
	echo "POSTFIX_TLS_CACHE=$T/users/sub/cache" >"$T/conf"
	traced check
	assert_success
	[ "$postconf_runs" -eq 1 ]
	# A sticky shared parent (like /tmp): nobody's link there.
	mkdir "$T/shared"
	chmod 1777 "$T/shared"
	ln -s "$T/victim" "$T/shared/sub"
	chown -h nobody "$T/shared/sub"
	echo "POSTFIX_TLS_CACHE=$T/shared/sub/cache" >"$T/conf"
	traced check
	assert_success
	[ "$postconf_runs" -eq 1 ]
	traced check
	[ "$postconf_runs" -eq 1 ]	# nothing was kept anywhere
	assert_equal "$(find "$T/victim" "$T/users" "$T/shared" -mindepth 1 | LC_ALL=C sort | tr '\n' ' ')" \
		"$T/shared/sub $T/users/sub "
}

@test "links root made in directories only root can write lead to the cache, as for every file" {
	victim_dir
	# A parent that is such a link.
	ln -s "$T/victim" "$T/rootlink"
	echo "POSTFIX_TLS_CACHE=$T/rootlink/cache" >"$T/conf"
	traced check
	assert_success
	[ "$postconf_runs" -eq 1 ]
	assert_equal "$(stat -c '%U:%G %a' "$T/victim/cache")" "root:root 700"
	traced check
	[ "$postconf_runs" -eq 0 ]
	# The cache directory itself such a link (certbot's live/ style).
	ln -s "$T/victim/cache" "$T/cachelink"
	echo "POSTFIX_TLS_CACHE=$T/cachelink" >"$T/conf"
	traced check
	assert_success
	[ "$postconf_runs" -eq 0 ]
}

@test "a refused run does not make the cache" {
	rm -r "$CACHE"
	: >"$T/ssl/chain.pem"	# the chain no longer verifies
	refuses 65 "certificate chain does not verify" deploy_inputs deploy
	assert_not_exist "$CACHE"
	refuses 65 "certificate chain does not verify" deploy_inputs check
	assert_not_exist "$CACHE"
}

@test "a refused run leaves an existing cache byte for byte as it was" {
	cache_file=$(echo "$CACHE"/postconf-*)
	before=$(stat -c '%i %s %Y' "$cache_file"; sha256sum <"$cache_file"; ls -a "$CACHE")
	# main.cf changes (a new answer is due), and the run is refused.
	write_maincf "smtpd_tls_security_level = none"
	refuses 78 "TLS is switched off" deploy_inputs deploy
	assert_equal "$(stat -c '%i %s %Y' "$cache_file"; sha256sum <"$cache_file"; ls -a "$CACHE")" "$before"
}

# forge: the cache file answers smtpd_tls_cert_file = .../forged-cert.pem
# (as long as certificate.pem: the cache holds each section's length).
forge() {
	sed -i 's|^\(.*/\)certificate\.pem$|\1forged-cert.pem|' "$cache_file"
	grep -q forged "$cache_file"
}

@test "a forged answer in a cache file of another owner or writable by others is ignored" {
	cache_file=$(echo "$CACHE"/postconf-*)
	for how in "nobody:root 600" "root:nogroup 620" "root:root 602" "nobody:nogroup 600"; do
		forge
		chown "${how% *}" "$cache_file"
		chmod "${how#* }" "$cache_file"
		traced check
		assert_success
		[ "$postconf_runs" -eq 1 ] || fail "$how: postconf was not asked"
		assert_line "ok: $BUNDLE would be served with 3 certificates"
	done
	# The same forgery, root's 0600, is taken: the cases above were real.
	forge
	chown root:root "$cache_file"
	chmod 0600 "$cache_file"
	traced check
	[ "$postconf_runs" -eq 0 ]
	assert_output --partial "$T/postfix/forged-cert.pem"
}

@test "a forged answer in a cache directory of another owner or open to others is ignored" {
	cache_file=$(echo "$CACHE"/postconf-*)
	forge
	for how in "nobody 700" "root 720" "root 702" "root 750"; do
		chown "${how% *}" "$CACHE"
		chmod "${how#* }" "$CACHE"
		traced check
		assert_success
		[ "$postconf_runs" -eq 1 ] || fail "$how: postconf was not asked"
		assert_line "ok: $BUNDLE would be served with 3 certificates"
	done
}
