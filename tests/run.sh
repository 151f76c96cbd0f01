#!/usr/bin/env bash
# The whole test suite: every tests/*.bats file against the freshly built
# helper, as TAP, ending with bats' summary line.  Run it through
# "make check" (which builds first; CI=true makes warnings errors).
set -u
cd "$(dirname "$0")/.." || exit 1

log=$(mktemp)
trap 'rm -f "$log"' EXIT

bats --tap tests/*.bats | tee "$log"
bats_status=${PIPESTATUS[0]}

total=$(grep -cE '^(not )?ok ' "$log")
failed=$(grep -c '^not ok ' "$log")
skipped=$(grep -cE '^ok .* # skip' "$log")
echo
echo "bats: $((total - failed)) passed, $failed failed, $skipped skipped"
echo "$total tests, $failed failures, $skipped skipped"
[ "$total" -gt 0 ] || { echo "no test ran" >&2; exit 1; }
[ "$failed" -eq 0 ] && [ "$bats_status" -eq 0 ]
