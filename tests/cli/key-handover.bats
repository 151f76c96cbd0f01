#!/usr/bin/env bats
# Issue 19, hole 5: a key file another user owned is handed to root as a
# new file no one else has a descriptor to (a root:root 0600 copy of the
# bytes that were checked, renamed over the name), not chowned in place:
# a descriptor she opened for writing before the deploy keeps working on
# a chowned file, and her next write would be the key Postfix loads.

load ../helpers

setup_file() {
	pki_common
	pki_cert other.example.org inter2 server	# her key
}

setup() {
	need_root
	setup_world
	chown nobody:nogroup "$T/ssl/key.pem"	# the previous owner's
	K=$T/ssl/key.pem
}

# her_descriptor: nobody opens $K for reading and writing (descriptor kept
# open) and waits; once $T/hand/go exists she truncates the file through
# it and writes her own key there ($T/hand/done: the bytes written).
# Paths are relative to $T: she may not search the test's parent dirs;
# the system's python3, as hers (root's PATH may lead to root's own).
her_descriptor() {
	mkdir -m 0777 "$T/hand"
	cp "$PKI/other.example.org.key" "$T/hand/hers.key"
	chmod 0644 "$T/hand/hers.key"
	# shellcheck disable=SC2016 # python, not shell
	(cd "$T" && exec setpriv --reuid=nobody --regid=nogroup --clear-groups \
		/usr/bin/python3 -c '
import os, time
fd = os.open("ssl/key.pem", os.O_RDWR)
open("hand/opened", "w").close()
for _ in range(1500):
    if os.path.exists("hand/go"):
        break
    time.sleep(0.02)
data = open("hand/hers.key", "rb").read()
os.ftruncate(fd, 0)
n = os.pwrite(fd, data, 0)
open("hand/done", "w").write(str(n))
' >"$T/hand/log" 2>&1 3>&-) &
	holder=$!
	for _ in $(seq 250); do
		[ -e "$T/hand/opened" ] && return 0
		sleep 0.02
	done
	fail "nobody could not open $K: $(cat "$T/hand/log")"
}

@test "a key another user owned is replaced by a root-only copy: a descriptor she opened before the deploy no longer reaches it" {
	her_descriptor
	run deploy_inputs deploy
	touch "$T/hand/go"	# she writes through her old descriptor
	wait "$holder"
	assert_success
	[ "$(cat "$T/hand/done")" -gt 0 ] || fail "her write did not happen"
	# The file at the name: root's alone, the checked bytes.
	cmp "$K" "$PKI/$HOST.key" || fail "her write reached the key at $K"
	assert_equal "$(stat -c '%U:%G %a' "$K")" "root:root 600"
	assert_line --regexp "^replaced $K with a root:root 0600 copy of what was checked \(it was 65534:65534 0600\)\$"
	[ "$(grep -c "^replaced $K " <<<"$output")" -eq 1 ] || fail "replaced more than once"
	# What Postfix loads matches the served certificate, as the helper
	# sees it too.
	cmp <(openssl pkey -in "$K" -pubout) \
		<(openssl x509 -in "$BUNDLE" -noout -pubkey)
	run helper check
	assert_success
	refute_output --partial "does not match"
}

@test "check says it would replace another user's key with a root:root 0600 copy, and changes nothing" {
	before=$(snapshot)
	run deploy_inputs check
	assert_success
	assert_output --partial "would replace $K with a root:root 0600 copy"
	refute_output --partial "would change the owner of $K"
	assert_equal "$(snapshot)" "$before"
}
