#!/usr/bin/env bats
# All shell in the project is shellcheck-clean: what OpenRC and Portage
# run as POSIX sh, everything else as bash.

load ../helpers

setup() {
	cd "$TOP" || return
	git rev-parse --git-dir >/dev/null 2>&1 || skip "not a git checkout"
}

@test "the POSIX sh code (OpenRC files, deps, CI) passes shellcheck as sh" {
	# files/handoff/ holds a cron line and systemd units, files/systemd/
	# systemd drop-ins: not shell.
	mapfile -t files < <(git ls-files 'init.d/*' 'conf.d/*' 'files/*' \
		':(exclude)files/handoff/*' ':(exclude)files/systemd/*' tests/postfix.initd tests/deps.sh .ci/run)
	[ "${#files[@]}" -ge 7 ] || fail "found only ${#files[@]} files to check"
	run shellcheck -x -s sh -S style "${files[@]}"
	assert_success
	assert_output ""
}

@test "the bash code (tests, demo, runners) passes shellcheck" {
	mapfile -t files < <(git ls-files 'tests/*.bash' 'tests/*.bats' \
		tests/run.sh tests/demo.sh tests/world.sh tests/systemd-boot.sh tests/mutants.sh 'bench/*.sh' 'ebuild/*/*/*.ebuild')
	[ "${#files[@]}" -ge 10 ] || fail "found only ${#files[@]} files to check"
	run shellcheck -x -s bash -S warning "${files[@]}"
	assert_success
	assert_output ""
}
