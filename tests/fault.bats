#!/usr/bin/env bats
# Crash and fault safety: deploy is interrupted at every call that touches
# the disk (tests/fault/fault.c, loaded with LD_PRELOAD), failing it with
# ENOSPC, EIO or EACCES or killing the process there.  After each:
# certificate.pem is the old one or the whole new one, no temporary file
# is left (a killed run's is removed by the next run), no mode or owner is
# looser than before, and the exit code and message say what failed.

load helpers

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
