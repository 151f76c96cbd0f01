#!/usr/bin/env bats
# Crash and fault safety: deploy is interrupted at every call that touches
# the disk (tests/fault/fault.c, loaded with LD_PRELOAD), failing it with
# ENOSPC, EIO or EACCES or killing the process there.  After each:
# certificate.pem is the old one or the whole new one, no temporary file
# is left (a killed run's is removed by the next run), no mode or owner is
# looser than before, and the exit code and message say what failed.

load ../helpers

setup_file() {
	pki_common
	build_fault_shim
}

setup() {
	need_root
	not_under_valgrind
	setup_world
	cat "$PKI/chain.pem" "$PKI/root.pem" >"$T/ssl/chain.pem"
	good_bundle                          # the old bundle: 3 certificates
	chown nobody "$T/ssl/key.pem"        # and a key to be tightened
	chmod 0644 "$T/ssl/key.pem"
	tar -C "$T" -cpf "$T/pristine.tar" postfix ssl
	OLD=$(sha256sum <"$BUNDLE")
	# The new bundle (with the root: 4 certificates), from a clean run.
	deploy_inputs -q --include-root deploy
	NEW=$(sha256sum <"$BUNDLE")
	[ "$OLD" != "$NEW" ]
	restore
	# The fault points of that run.
	FAULT_LOG=$T/points LD_PRELOAD=$BATS_FILE_TMPDIR/fault.so \
		deploy_inputs -q --include-root deploy
	restore
	POINTS=$(wc -l <"$T/points")
}

restore() {
	rm -rf "$T/postfix" "$T/ssl"
	tar -C "$T" -xpf "$T/pristine.tar"
}

# After a faulty run: old or whole new bundle, root:root 0600, no looser key.
check_files() {
	local where=$1 h
	h=$(sha256sum <"$BUNDLE")
	[ "$h" = "$OLD" ] || [ "$h" = "$NEW" ] || fail "$where: the bundle is neither the old nor the new one"
	[ "$(stat -c '%U:%G %a' "$BUNDLE")" = "root:root 600" ] ||
		fail "$where: bundle is $(stat -c '%U:%G %a' "$BUNDLE")"
	case $(stat -c '%U %a' "$T/ssl/key.pem") in
	"nobody 644" | "root 644" | "root 600") ;;	# owner first, then mode
	*) fail "$where: key is $(stat -c '%U %a' "$T/ssl/key.pem")" ;;
	esac
}

temps() {
	find "$T/postfix" -name '.certificate.pem.*'
}

# inject MODE: every fault point, failed with MODE.
inject() {
	local mode=$1 n what message
	[ "$POINTS" -ge 8 ] || fail "only $POINTS fault points found"
	for n in $(seq "$POINTS"); do
		what=$(sed -n "${n}s/^[0-9]* //p" "$T/points")
		restore
		run env FAULT_AT="$n" FAULT_ERR="$mode" \
			LD_PRELOAD="$BATS_FILE_TMPDIR/fault.so" \
			"$HELPER" -c "$T/postfix" --root "$T/root" --conf "$T/conf" \
			--cafile "$PKI/root.pem" --cert "$T/ssl/cert.pem" \
			--key "$T/ssl/key.pem" --chain "$T/ssl/chain.pem" \
			-q --include-root deploy
		check_files "$mode at point $n ($what)"
		if [ "$mode" = KILL ]; then
			[ "$status" -eq 137 ] || fail "KILL at $n ($what): exit $status"
			# The next run finishes the job and removes what was left.
			run deploy_inputs --include-root deploy
			[ "$status" -eq 0 ] || fail "after KILL at $n ($what): $output"
			[ "$(sha256sum <"$BUNDLE")" = "$NEW" ] || fail "after KILL at $n: not the new bundle"
			[ -z "$(temps)" ] || fail "after KILL at $n ($what): left $(temps)"
			continue
		fi
		case $mode in
		ENOSPC) message="No space left on device" ;;
		EIO) message="Input/output error" ;;
		EACCES) message="Permission denied" ;;
		esac
		[ "$status" -eq 74 ] || fail "$mode at $n ($what): exit $status: $output"
		[[ $output == "postfix-tls-setup: $T/"*": cannot "*": $message"* ]] ||
			fail "$mode at $n ($what): message: $output"
		[ -z "$(temps)" ] || fail "$mode at $n ($what): left $(temps)"
		echo "# $mode at $n ($what): exit 74, ${output#postfix-tls-setup: $T/}" >&3
	done
}

@test "ENOSPC at every disk write keeps the old or the whole new bundle" {
	inject ENOSPC
}

@test "EIO at every disk write keeps the old or the whole new bundle" {
	inject EIO
}

@test "EACCES at every disk write keeps the old or the whole new bundle" {
	inject EACCES
}

@test "a kill at every disk write keeps the old or the whole new bundle, and the next run cleans up" {
	inject KILL
}

@test "the fault points cover the whole write path" {
	for call in openat fchown fchmod write fsync close renameat; do
		grep -q " $call\$" "$T/points" || fail "no fault point at $call"
	done
	echo "# $POINTS fault points: $(cut -d' ' -f2 "$T/points" | tr '\n' ' ')" >&3
}

# The writer's calls, in order (FAULT_TRACE of tests/fault/fault.c), run
# on the pristine world with the key already root:root 0600 so that only
# the bundle is written.  $T is shown as T, the temporary as TMP.
writer_trace() {
	restore
	chown root:root "$T/ssl/key.pem"
	chmod 0600 "$T/ssl/key.pem"
	run env FAULT_TRACE="$T/trace" "$@" LD_PRELOAD="$BATS_FILE_TMPDIR/fault.so" \
		"$HELPER" -c "$T/postfix" --root "$T/root" --conf "$T/conf" \
		--cafile "$PKI/root.pem" --cert "$T/ssl/cert.pem" \
		--key "$T/ssl/key.pem" --chain "$T/ssl/chain.pem" \
		--include-root deploy
	touch "$T/trace"
	TRACE=$(sed -e "s|$T/|T/|g" \
		-e 's|\.certificate\.pem\.[0-9a-f]\{8\}\([ /]\)|.certificate.pem.TMP\1|g' \
		-e 's|\.certificate\.pem\.[0-9a-f]\{8\}$|.certificate.pem.TMP|' "$T/trace")
}

# The temporaries' names the trace shows, one per line, in order.
temp_names() {
	grep -o '\.certificate\.pem\.[0-9a-f]\{8\}\b' "$T/trace" | uniq
}

@test "a deploy writes the bundle by exactly the atomic writer's calls, in order" {
	writer_trace
	assert_success
	assert_output "wrote $BUNDLE (4 certificates)"
	assert_equal "$(sha256sum <"$BUNDLE")" "$NEW"
	# One temporary, new (O_EXCL), never a link (O_NOFOLLOW), 0600 from
	# the start; root's before a byte is written; on disk before the
	# rename; the rename on disk before the run says it is done.
	assert_equal "$(temp_names | wc -l)" 1
	assert_equal "$TRACE" "$(cat <<-EOF
		openat T/postfix/.certificate.pem.TMP O_WRONLY|O_CREAT|O_EXCL|O_NOFOLLOW|O_CLOEXEC 0600 = ok
		fchown T/postfix/.certificate.pem.TMP 0:0
		fchmod T/postfix/.certificate.pem.TMP 0600
		write T/postfix/.certificate.pem.TMP $(stat -c %s "$BUNDLE")
		fsync T/postfix/.certificate.pem.TMP
		close T/postfix/.certificate.pem.TMP
		renameat T/postfix/.certificate.pem.TMP T/postfix/certificate.pem
		fsync T/postfix
		EOF
	)"
}

@test "check changes nothing on disk: not one writing call, and a leftover temporary stays" {
	restore
	echo "left by a killed run" >"$T/postfix/.certificate.pem.0123abcd"
	chmod 0600 "$T/postfix/.certificate.pem.0123abcd"
	before=$(snapshot)
	run env FAULT_TRACE="$T/trace" LD_PRELOAD="$BATS_FILE_TMPDIR/fault.so" \
		"$HELPER" -c "$T/postfix" --root "$T/root" --conf "$T/conf" \
		--cafile "$PKI/root.pem" --cert "$T/ssl/cert.pem" \
		--key "$T/ssl/key.pem" --chain "$T/ssl/chain.pem" \
		--include-root check
	assert_success
	assert_output --partial "would remove .certificate.pem.0123abcd, left by an interrupted run"
	assert_output --partial "would write $BUNDLE (4 certificates)"
	assert_output --partial "would replace $T/ssl/key.pem with a root:root 0600 copy of what was checked"
	assert_file_not_exists "$T/trace"
	assert_equal "$(snapshot)" "$before"
}

# A shadow file for the planted link to aim at: it must stay as it was.
make_shadow() {
	printf 'root:$6$secret:19000:0:99999:7:::\n' >"$T/shadow"
	chmod 0640 "$T/shadow"
	SHADOW=$(stat -c '%U:%G %a %s' "$T/shadow"; sha256sum <"$T/shadow")
}

# planted_untouched N: the N names planted (link, file, link, ...) are as
# the shim left them: a link owned by nobody to the shadow, or a file of
# nobody's saying "planted"; and the shadow is unchanged.
planted_untouched() {
	local n=0 name
	while IFS= read -r name; do
		n=$((n + 1))
		if [ $((n % 2)) -eq 1 ]; then
			assert_link_exists "$T/postfix/$name"
			assert_equal "$(readlink "$T/postfix/$name")" "$T/shadow"
			assert_equal "$(stat -c '%U' "$T/postfix/$name")" nobody
		else
			assert_file_exists "$T/postfix/$name"
			assert_equal "$(stat -c '%U %a %h' "$T/postfix/$name")" "nobody 644 1"
			assert_equal "$(cat "$T/postfix/$name")" planted
		fi
	done < <(grep '^plant ' "$T/trace" | sed 's|^plant .*/||; s| .*||')
	assert_equal "$n" "$1"
	assert_equal "$(stat -c '%U:%G %a %s' "$T/shadow"; sha256sum <"$T/shadow")" "$SHADOW"
}

@test "a link or file planted under the temporary's name is left alone and the deploy takes another name" {
	make_shadow
	writer_trace FAULT_PLANT=2 FAULT_PLANT_TARGET="$T/shadow"
	assert_success
	assert_output "wrote $BUNDLE (4 certificates)"
	assert_equal "$(sha256sum <"$BUNDLE")" "$NEW"
	assert_equal "$(stat -c '%U:%G %a' "$BUNDLE")" "root:root 600"
	planted_untouched 2
	# Three names tried: the two taken ones failed with EEXIST (not
	# followed, not opened), the third was written and renamed.
	assert_equal "$(temp_names | wc -l)" 3
	assert_equal "$(grep -c '^openat .* = EEXIST$' "$T/trace")" 2
	assert_equal "$(grep '^openat ' "$T/trace" | grep -vc 'O_WRONLY|O_CREAT|O_EXCL|O_NOFOLLOW|O_CLOEXEC 0600')" 0
	assert_equal "$(grep -c '^renameat .*/\.certificate\.pem\.[0-9a-f]\{8\} ' "$T/trace")" 1
	assert_equal "$(grep '^renameat ' "$T/trace" | cut -d' ' -f2)" "$T/postfix/$(temp_names | tail -n1)"
	refute grep -q '^unlinkat ' "$T/trace"
	assert_equal "$(find "$T/postfix" -name '.certificate.pem.*' | wc -l)" 2
}

@test "when every temporary name is taken the deploy refuses, keeps the old bundle and the planted files" {
	make_shadow
	writer_trace FAULT_PLANT=16 FAULT_PLANT_TARGET="$T/shadow"
	assert_failure 74
	assert_output "postfix-tls-setup: $BUNDLE: cannot create a temporary file beside it: File exists (the previous file is unchanged)"
	assert_equal "$(sha256sum <"$BUNDLE")" "$OLD"
	assert_equal "$(stat -c '%U:%G %a' "$BUNDLE")" "root:root 600"
	planted_untouched 16
	assert_equal "$(grep -c '^openat .* = EEXIST$' "$T/trace")" 16
	refute grep -q '^\(unlinkat\|renameat\|write\|fchown\|fchmod\|fsync\) ' "$T/trace"
	assert_equal "$(find "$T/postfix" -name '.certificate.pem.*' | wc -l)" 16
}

@test "check names a temporary left by a killed run and keeps it; deploy removes it" {
	printf 'half a bundle\n' >"$T/postfix/.certificate.pem.0badc0de"
	chmod 0600 "$T/postfix/.certificate.pem.0badc0de"
	run deploy_inputs --include-root check
	assert_success
	assert_output --partial "would remove .certificate.pem.0badc0de, left by an interrupted run"
	assert_file_exists "$T/postfix/.certificate.pem.0badc0de"
	run deploy_inputs --include-root deploy
	assert_success
	assert_output --partial "removed .certificate.pem.0badc0de, left by an interrupted run"
	assert_file_not_exists "$T/postfix/.certificate.pem.0badc0de"
}

@test "the clean-up removes only names of the temporary's exact pattern" {
	local f keep=(0BADC0DE 0badc0d 0badc0de0 backup12)
	for f in 0badc0de "${keep[@]}"; do
		printf '%s\n' "$f" >"$T/postfix/.certificate.pem.$f"
		chmod 0600 "$T/postfix/.certificate.pem.$f"
	done
	run deploy_inputs --include-root deploy
	assert_success
	assert_file_not_exists "$T/postfix/.certificate.pem.0badc0de"
	for f in "${keep[@]}"; do
		assert_equal "$(cat "$T/postfix/.certificate.pem.$f")" "$f"
	done
}
