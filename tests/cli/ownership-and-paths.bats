#!/usr/bin/env bats
# Ownership, modes and paths: the helper runs as root at every start, so
# it must not be steered into changing or trusting the wrong file.

load ../helpers

setup_file() {
	pki_common
}

setup() {
	need_root
	setup_world
	good_bundle
	# A stand-in for a file an attacker wants: a copy of /etc/shadow.
	printf 'root:$6$secret:19000:0:99999:7:::\n' >"$T/shadow"
	chown root:root "$T/shadow"
	chmod 0640 "$T/shadow"
	SHADOW_BEFORE=$(stat -c '%U:%G %a %s' "$T/shadow"; sha256sum <"$T/shadow")
}

shadow_untouched() {
	assert_equal "$(stat -c '%U:%G %a %s' "$T/shadow"; sha256sum <"$T/shadow")" \
		"$SHADOW_BEFORE"
}

# A directory that user nobody owns (and so can fill with links).
evil_dir() {
	mkdir -p "$T/evil"
	chown nobody "$T/evil"
}

@test "a world-readable key owned by another user becomes root:root 0600" {
	chown nobody:nogroup "$T/ssl/key.pem"
	chmod 0644 "$T/ssl/key.pem"
	run deploy_inputs deploy
	assert_success
	assert_output --partial "replaced $T/ssl/key.pem with a root:root 0600 copy of what was checked (it was 65534:"
	assert_file_permission 600 "$T/ssl/key.pem"
	assert_equal "$(stat -c %U:%G "$T/ssl/key.pem")" root:root
	assert_file_permission 600 "$BUNDLE"
	assert_equal "$(stat -c %U:%G "$BUNDLE")" root:root
}

@test "check says what it would change and changes nothing" {
	chmod 0644 "$T/ssl/key.pem" "$BUNDLE"
	before=$(snapshot)
	run deploy_inputs check
	assert_success
	assert_output --partial "would replace $T/ssl/key.pem with a root:root 0600 copy of what was checked (it is 0:0 0644)"
	assert_output --partial "would replace $BUNDLE with a root:root 0600 copy of what was checked (it is 0:0 0644)"
	assert_equal "$(snapshot)" "$before"
}

@test "a bundle made 0644 by hand is tightened even when its content is unchanged" {
	chmod 0644 "$BUNDLE"
	run deploy_inputs deploy
	assert_success
	assert_file_permission 600 "$BUNDLE"
}

@test "a key behind a symlink in a directory another user owns is refused" {
	evil_dir
	ln -s "$T/ssl/key.pem" "$T/evil/key.pem"
	refuses 77 "$T/evil: directory is owned by nobody, not root" \
		helper --cert "$T/ssl/cert.pem" --key "$T/evil/key.pem" \
		--chain "$T/ssl/chain.pem" deploy
	assert_output --partial "fix: chown root:root $T/evil && chmod go-w $T/evil"
}

@test "a bundle symlinked by another user to a copy of /etc/shadow is refused and the copy is untouched" {
	evil_dir
	ln -s "$T/shadow" "$T/evil/certificate.pem"
	BUNDLE=$T/evil/certificate.pem write_maincf
	refuses 77 "$T/evil: directory is owned by nobody" \
		deploy_inputs --bundle "$T/evil/certificate.pem" deploy
	shadow_untouched
}

@test "a key symlinked to /etc/shadow's copy from a group-writable directory is refused" {
	mkdir "$T/grp"
	chmod 0775 "$T/grp"
	ln -s "$T/shadow" "$T/grp/key.pem"
	refuses 77 "$T/grp: directory is writable by its group" \
		helper --cert "$T/ssl/cert.pem" --key "$T/grp/key.pem" \
		--chain "$T/ssl/chain.pem" deploy
	shadow_untouched
}

@test "a hard-linked key is refused" {
	ln "$T/ssl/key.pem" "$T/ssl/key2.pem"
	refuses 77 "$T/ssl/key.pem: has 2 hard links" deploy_inputs deploy
}

@test "a hard link to /etc/shadow's copy as the bundle is refused and the copy is untouched" {
	rm "$BUNDLE"
	ln "$T/shadow" "$BUNDLE"
	refuses 77 "$BUNDLE: has 2 hard links" deploy_inputs deploy
	shadow_untouched
}

@test "a FIFO as key is refused without hanging" {
	rm "$T/ssl/key.pem"
	mkfifo "$T/ssl/key.pem"
	refuses 77 "$T/ssl/key.pem: is a FIFO, not a regular file" \
		timeout 10 "$HELPER" -c "$T/postfix" --root "$T/root" --conf "$T/conf" \
		--cafile "$PKI/root.pem" --cert "$T/ssl/cert.pem" \
		--key "$T/ssl/key.pem" --chain "$T/ssl/chain.pem" deploy
}

@test "a directory as bundle is refused" {
	rm "$BUNDLE"
	mkdir "$BUNDLE"
	refuses 77 "$BUNDLE: is a directory, not a regular file" deploy_inputs deploy
}

@test "a device as key is refused" {
	refuses 77 "/dev/null: is a device, not a regular file" \
		helper --cert "$T/ssl/cert.pem" --key /dev/null \
		--chain "$T/ssl/chain.pem" deploy
}

@test "the bundle's directory writable by everyone (not sticky) is refused" {
	chmod 0777 "$T/postfix"
	refuses 77 "$T/postfix: directory is writable by everyone" deploy_inputs deploy
	chmod 0755 "$T/postfix"
}

@test "a symlink owned by another user in a sticky shared directory is refused" {
	mkdir "$T/shared"
	chmod 1777 "$T/shared"
	ln -s "$T/shadow" "$T/shared/key.pem"
	chown -h nobody "$T/shared/key.pem"
	refuses 77 "$T/shared/key.pem: symbolic link owned by nobody in a shared directory" \
		helper --cert "$T/ssl/cert.pem" --key "$T/shared/key.pem" \
		--chain "$T/ssl/chain.pem" deploy
	shadow_untouched
}

@test "a key owned by another user in a sticky shared directory is refused" {
	mkdir "$T/shared"
	chmod 1777 "$T/shared"
	cp "$T/ssl/key.pem" "$T/shared/key.pem"
	chown nobody "$T/shared/key.pem"
	refuses 77 "$T/shared/key.pem: owned by nobody in a shared directory" \
		helper --cert "$T/ssl/cert.pem" --key "$T/shared/key.pem" \
		--chain "$T/ssl/chain.pem" deploy
}

@test "a directory another user owns inside a sticky shared directory is refused with where to move the files" {
	mkdir "$T/shared"
	chmod 1777 "$T/shared"
	mkdir "$T/shared/mine"
	cp "$T/ssl/key.pem" "$T/shared/mine/key.pem"
	chown nobody "$T/shared/mine"
	refuses 77 "$T/shared/mine: directory is owned by nobody inside a shared directory (move the files to a directory owned by root)" \
		helper --cert "$T/ssl/cert.pem" --key "$T/shared/mine/key.pem" \
		--chain "$T/ssl/chain.pem" deploy
}

@test "a symlink loop is refused" {
	ln -s "$T/ssl/loop1" "$T/ssl/loop2"
	ln -s "$T/ssl/loop2" "$T/ssl/loop1"
	refuses 77 "too many levels of symbolic links" \
		helper --cert "$T/ssl/cert.pem" --key "$T/ssl/loop1" \
		--chain "$T/ssl/chain.pem" deploy
}

# certbot: live/NAME/*.pem are relative links into archive/NAME/*N.pem.
certbot_layout() {
	local le=$T/letsencrypt
	mkdir -p "$le/live/$HOST" "$le/archive/$HOST"
	chmod 0700 "$le/live" "$le/archive"
	cp "$PKI/$HOST.pem" "$le/archive/$HOST/cert1.pem"
	cp "$PKI/chain.pem" "$le/archive/$HOST/chain1.pem"
	cp "$PKI/fullchain.pem" "$le/archive/$HOST/fullchain1.pem"
	cp "$PKI/$HOST.key" "$le/archive/$HOST/privkey1.pem"
	chmod 0644 "$le/archive/$HOST/privkey1.pem"
	for f in cert chain fullchain privkey; do
		ln -s "../../archive/$HOST/${f}1.pem" "$le/live/$HOST/$f.pem"
	done
}

@test "certbot's live/ symlinks into archive/ deploy, and the real key is tightened" {
	certbot_layout
	live=$T/letsencrypt/live/$HOST
	write_maincf "smtpd_tls_key_file = $live/privkey.pem"
	run helper --cert "$live/fullchain.pem" --key "$live/privkey.pem" deploy
	assert_success
	assert_output --partial "replaced $T/letsencrypt/archive/$HOST/privkey1.pem with a root:root 0600 copy of what was checked"
	assert_file_permission 600 "$T/letsencrypt/archive/$HOST/privkey1.pem"
	assert_link_exists "$live/privkey.pem"
	run subjects "$BUNDLE"
	assert_output "$(printf '%s\n' "$HOST" inter2 inter1)"
}

@test "a bundle that is a safe symlink is replaced at its target and the link is kept" {
	mkdir "$T/real"
	mv "$BUNDLE" "$T/real/certificate.pem"
	ln -s ../real/certificate.pem "$BUNDLE"
	echo "stale" >"$T/real/certificate.pem"
	run deploy_inputs deploy
	assert_success
	assert_output --partial "wrote $BUNDLE"
	assert_link_exists "$BUNDLE"
	assert_equal "$(grep -c 'BEGIN CERTIFICATE' "$T/real/certificate.pem")" 3
}

# The key's previous owner (nobody) keeps setting it 0644, as a certificate
# robot's user could, while the helper makes it root's: strace holds the
# helper for a second right after its fchmod of the new copy, so her chmod
# loop runs all the while; it can only reach the file she owns, never the
# copy that takes its name.
@test "a key's previous owner cannot chmod it back while the helper makes it root's" {
	command -v strace >/dev/null || skip "strace is not installed"
	not_under_valgrind
	chown nobody:nogroup "$T/ssl/key.pem"
	chmod 0644 "$T/ssl/key.pem"
	# From inside $T/ssl: nobody needs no way through the test's parents.
	(cd "$T/ssl" && exec setpriv --reuid=nobody --regid=nogroup --clear-groups \
		sh -c 'while :; do chmod 0644 key.pem 2>/dev/null; sleep 0.02; done') &
	chmoder=$!
	run env ASAN_OPTIONS="${ASAN_OPTIONS:-}:detect_leaks=0" \
		strace -f -qq -o /dev/null -e trace=fchmod -e inject=fchmod:delay_exit=1000000 \
		"$HELPER" -c "$T/postfix" --root "$T/root" --conf "$T/conf" \
		--cafile "$PKI/root.pem" --cert "$T/ssl/cert.pem" \
		--key "$T/ssl/key.pem" --chain "$T/ssl/chain.pem" deploy
	kill "$chmoder"
	wait "$chmoder" || true
	assert_success
	assert_output --partial "replaced $T/ssl/key.pem with a root:root 0600 copy of what was checked (it was 65534:"
	assert_equal "$(stat -c '%U:%G %a' "$T/ssl/key.pem")" "root:root 600"
}

# A copy that cannot take the key's name leaves the key as it was, and no
# bundle is written: the run refuses.
@test "a key whose root-only copy cannot be renamed into place is left as it was" {
	command -v strace >/dev/null || skip "strace is not installed"
	not_under_valgrind
	chown nobody:nogroup "$T/ssl/key.pem"
	chmod 0644 "$T/ssl/key.pem"
	before=$(snapshot)
	run env ASAN_OPTIONS="${ASAN_OPTIONS:-}:detect_leaks=0" \
		strace -f -qq -o /dev/null -e trace=rename,renameat,renameat2 \
		-e inject=rename,renameat,renameat2:error=EIO:when=1 \
		"$HELPER" -c "$T/postfix" --root "$T/root" --conf "$T/conf" \
		--cafile "$PKI/root.pem" --cert "$T/ssl/cert.pem" \
		--key "$T/ssl/key.pem" --chain "$T/ssl/chain.pem" deploy
	assert_failure 74
	assert_output --partial "$T/ssl/key.pem: cannot make it root's alone: cannot rename the new file into place: Input/output error (the file is unchanged)"
	assert_equal "$(stat -c '%U:%G %a' "$T/ssl/key.pem")" "nobody:nogroup 644"
	# Every file as it was (the directory's own time moved: the copy
	# was made there, then removed).
	assert_equal "$(snapshot | grep -v '^\./ssl ')" "$(grep -v '^\./ssl ' <<<"$before")"
}

# Once the copy has the name, the helper looks at what the name leads to
# again, through a new descriptor: a key made 0644 right then (by root:
# the copy is root's; a robot's chmod, say) is refused, and no bundle is
# written.  strace holds the helper a second after the key's rename
# (the run's first) while a chmod loop runs.
@test "a key made 0644 right after its root-only copy took the name is refused before the bundle is written" {
	command -v strace >/dev/null || skip "strace is not installed"
	not_under_valgrind
	chown nobody:nogroup "$T/ssl/key.pem"
	chmod 0644 "$T/ssl/key.pem"
	rm "$BUNDLE"	# so that a run that goes on writes it
	(while :; do chmod 0644 "$T/ssl/key.pem"; sleep 0.02; done) &
	chmoder=$!
	run env ASAN_OPTIONS="${ASAN_OPTIONS:-}:detect_leaks=0" \
		strace -f -qq -o /dev/null -e trace=rename,renameat,renameat2 \
		-e inject=rename,renameat,renameat2:delay_exit=1000000:when=1 \
		"$HELPER" -c "$T/postfix" --root "$T/root" --conf "$T/conf" \
		--cafile "$PKI/root.pem" --cert "$T/ssl/cert.pem" \
		--key "$T/ssl/key.pem" --chain "$T/ssl/chain.pem" deploy
	kill "$chmoder"
	wait "$chmoder" || true
	assert_failure 77
	assert_output --partial "$T/ssl/key.pem: is not root's alone right after being replaced: something else changed it meanwhile"
	assert_file_not_exists "$BUNDLE"
}

@test "a name longer than 255 bytes is refused, not read as two names" {
	# Cut after 255 bytes, ".../<255 a>chain.pem" would name the file
	# chain.pem in the directory <255 a>; the kernel refuses such a name.
	long=$(printf 'a%.0s' $(seq 255))
	mkdir "$T/ssl/$long"
	cp "$T/ssl/chain.pem" "$T/ssl/$long/chain.pem"
	refuses 66 "$T/ssl/${long}chain.pem: File name too long (a name in it is longer than 255 bytes; shorten it)" \
		helper --cert "$T/ssl/cert.pem" --key "$T/ssl/key.pem" \
		--chain "$T/ssl/${long}chain.pem" deploy
}

@test "a whole name longer than PATH_MAX is refused, not cut short" {
	deep=$T/ssl$(printf '/%s' $(seq 2100) | head -c 4200)
	refuses 66 "File name too long (the whole name is longer than 4095 bytes; shorten it)" \
		helper --cert "$T/ssl/cert.pem" --key "$T/ssl/key.pem" \
		--chain "$deep/chain.pem" deploy
}

# The key's previous owner rewrites it while strace holds the helper
# before its fchown (rewriting_owner, held_at_fchown in helpers.bash).
@test "a key rewritten by its previous owner between the check and the chown is refused before the bundle is written" {
	command -v strace >/dev/null || skip "strace is not installed"
	not_under_valgrind
	rm "$BUNDLE"	# so that a run that goes on writes it
	rewriting_owner key.pem
	held_at_fchown
	assert_failure 77
	assert_output --partial "$T/ssl/key.pem: changed while it was being checked"
	assert_file_not_exists "$BUNDLE"
}
