#!/usr/bin/env bash
# The whole test suite, as TAP, ending with bats' summary line.  Run it
# through "make check", which builds what the passes need.  Passes
# (PTS_PASSES, default all three):
#   plain     every tests/*.bats against the build, fuzzing included
#   asan      the same against an ASan+UBSan build (fuzzing already is)
#   valgrind  the same with the helper under valgrind
# A sanitizer or valgrind finding changes the helper's exit status (ASan
# 86, leaks 23, valgrind 99), which no test expects.
set -u
cd "$(dirname "$0")/.." || exit 1
TOP=$PWD

log=$(mktemp)
trap 'rm -f "$log"' EXIT
status=0

run_pass() {
	local pass=$1
	shift
	echo "# pass: $pass"
	env "$@" bats --tap "${files[@]}" | tee -a "$log"
	[ "${PIPESTATUS[0]}" -eq 0 ] || status=1
}

# The sanitizer passes skip fuzz.bats: the fuzzers are sanitized already.
unfuzzed=()
for f in tests/*.bats; do
	[ "$f" = tests/fuzz.bats ] || unfuzzed+=("$f")
done

for pass in ${PTS_PASSES:-plain asan valgrind}; do
	case $pass in
	plain)
		files=(tests/*.bats)
		run_pass plain PTS_SANITIZER= ;;
	asan)
		files=("${unfuzzed[@]}")
		run_pass asan PTS_SANITIZER=asan \
			PTS_HELPER="$TOP/build/asan/postfix-tls-setup" \
			ASAN_OPTIONS=exitcode=86:detect_leaks=1:verify_asan_link_order=0 \
			UBSAN_OPTIONS=halt_on_error=1:exitcode=86 ;;
	valgrind)
		files=("${unfuzzed[@]}")
		run_pass valgrind PTS_SANITIZER=valgrind \
			PTS_HELPER="$TOP/build/valgrind/postfix-tls-setup" ;;
	*)
		echo "unknown pass $pass" >&2
		exit 1 ;;
	esac
done

total=$(grep -cE '^(not )?ok ' "$log")
failed=$(grep -c '^not ok ' "$log")
skipped=$(grep -cE '^ok .* # skip' "$log")
echo
echo "bats: $((total - failed)) passed, $failed failed, $skipped skipped"
echo "$total tests, $failed failures, $skipped skipped"
[ "$total" -gt 0 ] || { echo "no test ran" >&2; exit 1; }
[ "$failed" -eq 0 ] && [ "$status" -eq 0 ]
