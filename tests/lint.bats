#!/usr/bin/env bats
# All shell in the project is shellcheck-clean.

load helpers

@test "the shell code passes shellcheck" {
	cd "$TOP"
	mapfile -t files < <(git ls-files 'tests/*.sh' 'tests/*.bash' 'tests/*.bats' \
		'.ci/*' 'conf.d/*' 'init.d/*' 'files/*' 'bench/*.sh' 2>/dev/null ||
		ls tests/*.sh tests/*.bash tests/*.bats .ci/run conf.d/*)
	[ "${#files[@]}" -gt 5 ] || fail "found only ${#files[@]} files to check"
	run shellcheck -x -s bash -S warning "${files[@]}"
	assert_success
	assert_output ""
}
