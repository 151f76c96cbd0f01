#!/usr/bin/env bash
# The test suite in tiers and passes, as TAP, ending with a table of the
# time each part took and bats' summary line.  Run it through make (make
# check, check-fast, check-unit, check-cli, check-world, check-meta),
# which builds what the passes need first.
#
# Tiers: a test's tier is the directory it lives in.
#   unit   tests/unit/*.c      one module at a time, linked against the
#                              library objects; no root, no Postfix
#   cli    tests/cli/*.bats    the helper run on files (a stand-in resolver
#                              or syslog at most): no real service
#   world  tests/world/*.bats  real OpenRC, Postfix, nsd and unbound in
#                              private worlds (tests/world.sh), or a real
#                              systemd as their PID 1 (tests/systemd-lib.bash)
#   meta   tests/meta/*.bats   lint, docs, the build, the ebuild, fuzzing
# Passes:
#   plain     the build as shipped
#   asan      the ASan+UBSan build (build/asan/postfix-tls-setup)
#   valgrind  the build under memcheck: uninitialised reads, which ASan
#             cannot see, and leaks
# Each tier runs in the passes that add something, every C path a test
# reaches under sanitizers at least once:
#   unit   plain asan valgrind (seconds each)
#   cli    plain asan; valgrind for the files in VALGRIND_FILES below
#   world  asan (its helper is the ASan one, installed in each world);
#          valgrind for the files in VALGRIND_FILES
#   meta   plain (fuzzing is sanitized already; nothing else runs C code
#          of the helper's that the other tiers do not)
# A sanitizer or valgrind finding changes the helper's exit status (ASan
# 86, leaks 23, valgrind 99), which no test expects.
#
# Environment:
#   PTS_TIERS   tiers to run (default: unit cli world meta)
#   PTS_PASSES  passes to run (default: plain asan valgrind)
#   PTS_JOBS    test files run at once (default: the CPUs and one more:
#               world and DNS tests wait on services and deadlines, and a
#               third file fills that time on two CPUs); the files of a
#               tier are independent, the tests of a file run in turn
# Files start longest first, by the times of the last run (build/test-times).
set -u
cd "$(dirname "$0")/.." || exit 1
TOP=$PWD

TIERS=${PTS_TIERS:-unit cli world meta}
PASSES=${PTS_PASSES:-plain asan valgrind}
JOBS=${PTS_JOBS:-$(($(nproc 2>/dev/null || echo 1) + 1))}
TIMES=$TOP/build/test-times
# $EPOCHREALTIME with a decimal point, whatever the locale.
LC_NUMERIC=C

# The bats files that also run under valgrind, chosen with gcov (a
# --coverage build run as the valgrind pass runs it): with the unit tier
# they reach 92% of the lines the whole suite reached under valgrind when
# every file ran there (the post-start probe's among them), with 198 of
# its 862 helper runs, a second or two each under valgrind; the last line
# adds the paths issue 19 wrote (tlsproxy and client slots, OpenSSL's DANE
# matching, names walked as written).  The rest run under ASan+UBSan.
# tests/README.md has the figures.
VALGRIND_FILES="cli/smoke cli/races-and-traps cli/dane-guard-edges
cli/trust-anchors cli/monitoring cli/served-identities
world/served-identities world/postconf-cache
cli/tlsproxy-and-clients cli/dane-served-chains cli/walked-names"

declare -A wants=(
	[unit]="plain asan valgrind"
	[cli]="plain asan valgrind"
	[world]="asan valgrind"
	[meta]="plain"
)

ASAN_ENV=(PTS_SANITIZER=asan PTS_HELPER="$TOP/build/asan/postfix-tls-setup"
	ASAN_OPTIONS=exitcode=86:detect_leaks=1:verify_asan_link_order=0
	UBSAN_OPTIONS=halt_on_error=1:exitcode=86)
VALGRIND=(valgrind -q --error-exitcode=99 --leak-check=full
	"--errors-for-leak-kinds=definite,indirect"
	"--show-leak-kinds=definite,indirect")

# One job per (tier, pass, file): "TIER PASS FILE".
jobs=()
for tier in $TIERS; do
	[ -n "${wants[$tier]+set}" ] || { echo "unknown tier $tier" >&2; exit 64; }
	for pass in $PASSES; do
		case " ${wants[$tier]} " in *" $pass "*) ;; *) continue ;; esac
		if [ "$tier" = unit ]; then
			files=(tests/unit/*.c)
		else
			files=(tests/"$tier"/*.bats)
		fi
		for f in "${files[@]}"; do
			[ -e "$f" ] || continue
			if [ "$tier" != unit ] && [ "$pass" = valgrind ]; then
				b=${f#tests/}
				case " $(echo $VALGRIND_FILES) " in
				*" ${b%.bats} "*) ;;
				*) continue ;;
				esac
			fi
			jobs+=("$tier $pass $f")
		done
	done
done
for pass in $PASSES; do
	case $pass in plain | asan | valgrind) ;; *) echo "unknown pass $pass" >&2; exit 64 ;; esac
done
[ "${#jobs[@]}" -gt 0 ] || { echo "no test to run for tiers \"$TIERS\", passes \"$PASSES\"" >&2; exit 64; }

# Longest first: the last run's seconds per job, else a guess (a clean
# clone, as CI's) from what jobs of the kind took here.
guess() {
	case $1 in
	unit*) echo 1 ;;
	*" valgrind "*) echo 300 ;;
	*" tests/meta/fuzz.bats") echo 190 ;;
	world*) echo 100 ;;
	meta*) echo 50 ;;
	*" asan "*) echo 30 ;;
	*) echo 20 ;;
	esac
}
order=()
while IFS= read -r line; do order+=("${line#* }"); done < <(
	for j in "${jobs[@]}"; do
		t=$(awk -v j="$j" '$1 " " $2 " " $3 == j { t = $4 } END { print t }' \
			"$TIMES" 2>/dev/null)
		echo "${t:-$(guess "$j")} $j"
	done | sort -rn -k1,1)

# The run's key cache (tests/pki.bash): each key a file asks for is made
# once per run and copied to every file and pass that asks for the same.
export PTS_PKI_CACHE=$TOP/build/pki-cache
rm -rf "$PTS_PKI_CACHE"
mkdir -p "$PTS_PKI_CACHE"

WORK=$(mktemp -d "${TMPDIR:-/tmp}/pts-run.XXXXXX")
trap 'rm -rf "$WORK"' EXIT

# Seconds since START (an $EPOCHREALTIME).
elapsed() {
	awk -v a="$1" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.1f", b - a }'
}

# run_job N "TIER PASS FILE": its TAP to $WORK/N.tap, its status and
# seconds to $WORK/N.done.
run_job() {
	local n=$1 tier pass file start status name
	read -r tier pass file <<<"$2"
	start=$EPOCHREALTIME
	if [ "$tier" = unit ]; then
		name=${file##*/}
		name=${name%.c}
		case $pass in
		plain) build/unit/"$name" ;;
		asan) env "${ASAN_ENV[@]}" build/asan/unit/"$name" ;;
		valgrind) "${VALGRIND[@]}" build/unit/"$name" ;;
		esac
	else
		case $pass in
		plain) env PTS_SANITIZER= bats --tap "$file" ;;
		asan) env "${ASAN_ENV[@]}" bats --tap "$file" ;;
		valgrind) env PTS_SANITIZER=valgrind \
			PTS_HELPER="$TOP/build/valgrind/postfix-tls-setup" \
			bats --tap "$file" ;;
		esac
	fi >"$WORK/$n.tap" 2>&1 </dev/null
	status=$?
	# The CPU time of what it ran (this subshell's children): what the
	# job costs whatever else the machine is doing.
	times >"$WORK/$n.cpu"
	echo "$status $(elapsed "$start") $(cpu_of "$WORK/$n.cpu")" \
		>"$WORK/$n.done.tmp"
	mv "$WORK/$n.done.tmp" "$WORK/$n.done"
}

# Seconds of user and system time in the second line of "times" output.
cpu_of() {
	awk 'NR == 2 { t = 0
		for (i = 1; i <= 2; i++) {
			split($i, p, "m"); sub("s", "", p[2]); t += p[1] * 60 + p[2]
		}
		printf "%.1f", t }' "$1"
}

# Say a finished job: its header, then its TAP.
say_job() {
	local n=$1 status secs cpu
	read -r status secs cpu <"$WORK/$n.done"
	printf '# %s (%.0f s, %.0f s CPU, status %s)\n' "${order[n]}" "$secs" \
		"$cpu" "$status"
	cat "$WORK/$n.tap"
	echo "${order[n]} $secs $status $cpu" >>"$WORK/times"
}

begin=$EPOCHREALTIME
running=0 said=()
for n in "${!order[@]}"; do
	while [ "$running" -ge "$JOBS" ]; do
		wait -n
		running=$((running - 1))
		for m in "${!order[@]}"; do
			if [ -e "$WORK/$m.done" ] && [ -z "${said[m]:-}" ]; then
				say_job "$m"
				said[m]=1
			fi
		done
	done
	run_job "$n" "${order[n]}" &
	running=$((running + 1))
done
wait
for m in "${!order[@]}"; do
	[ -n "${said[m]:-}" ] || say_job "$m"
done
wall=$(elapsed "$begin")

# Keep the times for the next run's order (and for people).
mkdir -p build
touch "$TIMES"
awk 'NR == FNR { print $1, $2, $3, $4; seen[$1 " " $2 " " $3] = 1; next }
	!seen[$1 " " $2 " " $3]' "$WORK/times" "$TIMES" >"$TIMES.new" &&
	mv "$TIMES.new" "$TIMES"

# What each part took, summed over its files (they overlap: JOBS at once).
echo
echo "# seconds per tier and pass, summed over files ($JOBS at once):"
awk '{ t[$1 " " $2] += $4; c[$1 " " $2] += $6; n[$1 " " $2]++
		T += $4; C += $6 }
	END { for (k in t) printf "#   %-16s %7.1f s  %7.1f s CPU  %3d files\n", k,
		t[k], c[k], n[k]
		printf "#   %-16s %7.1f s  %7.1f s CPU\n", "~all", T, C }' \
	"$WORK/times" | sort
printf '#   %-16s %7.1f s  (load average at the end: %s)\n' "wall time" "$wall" \
	"$(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null)"

failed_jobs=$(awk '$5 != 0' "$WORK/times" | wc -l)
cat "$WORK"/*.tap >"$WORK/all"
total=$(grep -cE '^(not )?ok ' "$WORK/all")
failed=$(grep -c '^not ok ' "$WORK/all")
skipped=$(grep -cE '^ok .* # skip' "$WORK/all")
echo
[ "$failed_jobs" -eq 0 ] || awk '$5 != 0 { print "# failed: " $1, $2, $3 " (status " $5 ")" }' "$WORK/times"
echo "bats: $((total - failed)) passed, $failed failed, $skipped skipped"
echo "$total tests, $failed failures, $skipped skipped"
[ "$total" -gt 0 ] || { echo "no test ran" >&2; exit 1; }
[ "$failed" -eq 0 ] && [ "$failed_jobs" -eq 0 ]
