#!/usr/bin/env bats
# Review of issue 19, child.c: the wait is sigtimedwait on a blocked
# SIGCHLD between waitpid(WNOHANG)s.  A caller that ignores SIGCHLD
# (SIG_IGN survives exec: some supervisors, monitoring agents and
# scripts run their checks so) makes the kernel reap every child at
# once: waitpid then fails with ECHILD, ended_by() takes that for "ended"
# and child_wait() reports the status it preset, 0.  A postconf or
# postmap that failed, or was killed, reads as one that succeeded; and
# no SIGCHLD ever comes, so each wait sleeps its full second: a check
# that takes 70 ms takes a second more.  The helper never resets the
# disposition it inherits.

load ../helpers

setup_file() {
	pki_common
}

setup() {
	need_root
	setup_world
	good_bundle
}

# ignoring_sigchld COMMAND...: COMMAND with SIGCHLD ignored, as such a
# caller starts it.
ignoring_sigchld() {
	perl -e '$SIG{CHLD} = "IGNORE"; exec @ARGV or die "exec: $!"' "$@"
}

@test "control: postconf's failure is seen as a failure" {
	rm "$T/postfix/main.cf"
	run deploy_inputs check
	assert_failure 78
	assert_output --partial "postconf failed"
}

@test "with SIGCHLD ignored by the caller, postconf's failure is still seen as a failure" {
	rm "$T/postfix/main.cf"
	run ignoring_sigchld "$HELPER" -c "$T/postfix" --root "$T/root" \
		--conf "$T/conf" --cafile "$PKI/root.pem" --cert "$T/ssl/cert.pem" \
		--key "$T/ssl/key.pem" --chain "$T/ssl/chain.pem" check
	assert_failure 78
	assert_output --partial "postconf failed"
}

@test "with SIGCHLD ignored by the caller, a check takes no second longer" {
	local start plain
	start=$(date +%s%N)
	run deploy_inputs check
	plain=$((($(date +%s%N) - start) / 1000000))
	assert_success
	start=$(date +%s%N)
	run ignoring_sigchld "$HELPER" -c "$T/postfix" --root "$T/root" \
		--conf "$T/conf" --cafile "$PKI/root.pem" --cert "$T/ssl/cert.pem" \
		--key "$T/ssl/key.pem" --chain "$T/ssl/chain.pem" check
	ms=$((($(date +%s%N) - start) / 1000000))
	assert_success
	[ "$ms" -le $((plain + 500)) ] ||
		fail "with SIGCHLD ignored: $ms ms; without: $plain ms"
}
