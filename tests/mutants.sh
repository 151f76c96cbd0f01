#!/usr/bin/env bash
# The mutation run (make mutants): each mutant of tests/mutants.list is one
# one-line change of the source that breaks a promise of SECURITY.md, with
# the bats files that must notice it.  Each is applied to a throw-away copy
# of the tree (never this one), built, and those files are run against it:
#   killed     the files failed: the tests noticed the change
#   survived   they passed: a promise no test holds (exit 1)
#   stale      the line is not in the file, or in it more than once: the
#              source moved on, refresh the mutant's "from" (exit 1)
#   stillborn  the mutated tree does not build: the mutant tests nothing,
#              rewrite it (exit 1)
# Usage: tests/mutants.sh [-j JOBS] [-l LIST] [NAME-SUBSTRING...]
# Two mutants at a time by default, each in its own copy of a tree built
# once, rebuilt as "make" rebuilds (a mutant that only warns is not stillborn) and judged by the
# plain pass of its bats files, stopped at their first failure;
# MUTANT_TIMEOUT (900 s) bounds each run, and a run that hangs counts as
# killed.
set -u
cd "$(dirname "$0")/.." || exit 1
TOP=$PWD
JOBS=2
LIST=$TOP/tests/mutants.list
TIMEOUT=${MUTANT_TIMEOUT:-900}

while getopts j:l: opt; do
	case $opt in
	j) JOBS=$OPTARG ;;
	l) LIST=$OPTARG ;;
	*) echo "usage: $0 [-j JOBS] [-l LIST] [NAME-SUBSTRING...]" >&2; exit 64 ;;
	esac
done
shift $((OPTIND - 1))

# The list: blocks of "name:", "file:", "from:", "to:", "bats:" lines
# (the value: after the first colon and the blanks that follow it); blank
# lines and # comments between them.
names=() files=() froms=() tos=() batss=()
parse() {
	local line key value n=-1
	while IFS= read -r line || [ -n "$line" ]; do
		case $line in
		'#'* | '') continue ;;
		*:*) key=${line%%:*} value=${line#*:} ;;
		*) echo "$LIST: cannot read line: $line" >&2; exit 64 ;;
		esac
		value=${value#"${value%%[!$' \t']*}"}	# the padding after the colon
		case $key in
		name) n=$((n + 1)); names[n]=$value ;;
		file) files[n]=$value ;;
		from) froms[n]=$value ;;
		to) tos[n]=$value ;;
		bats) batss[n]=$value ;;
		*) echo "$LIST: unknown field \"$key\"" >&2; exit 64 ;;
		esac
	done <"$LIST"
	for ((i = 0; i <= n; i++)); do
		if [ -z "${files[i]:-}" ] || [ -z "${froms[i]:-}" ] ||
		    [ -z "${tos[i]+set}" ] || [ -z "${batss[i]:-}" ]; then
			echo "$LIST: mutant \"${names[i]}\" lacks file, from, to or bats" >&2
			exit 64
		fi
	done
}
parse

selected=()
for i in "${!names[@]}"; do
	if [ $# -eq 0 ]; then
		selected+=("$i")
		continue
	fi
	for pat in "$@"; do
		[[ ${names[i]} == *"$pat"* ]] && { selected+=("$i"); break; }
	done
done
[ "${#selected[@]}" -gt 0 ] || { echo "no mutant matches" >&2; exit 64; }

WORK=$(mktemp -d "${TMPDIR:-/tmp}/mutants.XXXXXX")
trap 'rm -rf "$WORK"' EXIT

# The pristine copy: the files git knows (as they are in the working tree,
# edits included) and new ones not ignored; no build products.
mkdir "$WORK/base"
if git rev-parse --git-dir >/dev/null 2>&1; then
	git ls-files -z --cached --others --exclude-standard |
		while IFS= read -r -d '' f; do [ -e "$f" ] && printf '%s\0' "$f"; done |
		tar -c --null -T - -f - | tar -x -C "$WORK/base"
else
	tar -c --exclude='*.o' --exclude=./build --exclude=./dist -f - . |
		tar -x -C "$WORK/base"
fi

# Built once: each mutant's copy then recompiles its one changed file
# (the objects' -MMD dependencies) and links, not the whole tree.
make -s -C "$WORK/base" postfix-tls-setup postfix-tls-lookup >"$WORK/base.log" 2>&1 ||
	{ cat "$WORK/base.log" >&2; echo "the unmutated tree does not build" >&2; exit 1; }

# judge TREE FILE...: the bats FILEs against TREE's build, TAP in
# TREE/bats.log, stopped at the first failure (one is enough to kill a
# mutant; the rest would only cost time).  Their temporary files live in
# TREE (removed with it, whatever a stopped test left).  Returns bats'
# status, 1 when stopped, 124 past MUTANT_TIMEOUT.
judge() {
	local tree=$1 pid rc
	shift
	mkdir -p "$tree/tmp"
	(cd "$tree" && exec env -u PTS_HELPER -u PTS_SANITIZER TMPDIR="$tree/tmp" \
		setsid timeout "$TIMEOUT" bats --tap "$@") >"$tree/bats.log" 2>&1 &
	pid=$!
	while kill -0 "$pid" 2>/dev/null; do
		if grep -q '^not ok' "$tree/bats.log"; then
			pkill -TERM -s "$(ps -o sid= -p "$pid" | tr -d ' ')" 2>/dev/null
			wait "$pid"
			return 1
		fi
		sleep 1
	done
	wait "$pid"
	rc=$?
	[ "$rc" -eq 0 ] || return "$rc"
	# A file that stopped without failing a test (setup_file) is no pass.
	grep -q '^ok ' "$tree/bats.log" || return 1
	return 0
}

# Apply mutant i to a copy and judge it; the verdict goes to $WORK/res.i.
run_one() {
	local i=$1 tree=$WORK/m$1 src count start verdict suite=() b
	local from=${froms[i]} to=${tos[i]}
	start=$SECONDS
	cp -a "$WORK/base" "$tree"
	src=$tree/${files[i]}
	count=$(grep -cF -- "$from" "$src" 2>/dev/null)
	if [ "${count:-0}" -ne 1 ]; then
		verdict="stale (\"from\" found ${count:-0} times in ${files[i]})"
	else
		FROM=$from TO=$to awk '{
			i = index($0, ENVIRON["FROM"])
			if (i) $0 = substr($0, 1, i - 1) ENVIRON["TO"] \
			    substr($0, i + length(ENVIRON["FROM"]))
			print }' "$src" >"$src.new" && mv "$src.new" "$src"
		if cmp -s "$src" "$WORK/base/${files[i]}"; then
			verdict="stale (the change changes nothing)"
		elif ! make -s -C "$tree" postfix-tls-setup postfix-tls-lookup >"$tree/build.log" 2>&1; then
			verdict="stillborn (does not build: $(grep -m1 -E 'error' "$tree/build.log"))"
		else
			for b in ${batss[i]}; do suite+=("tests/$b.bats"); done
			judge "$tree" "${suite[@]}"
			case $? in
			0) verdict="survived" ;;
			124) verdict="killed (timed out)" ;;
			*) verdict="killed by $(grep -m1 '^not ok' "$tree/bats.log" |
				cut -c1-100)" ;;
			esac
		fi
	fi
	printf '%s\t%s\t%s\n' "${verdict%% *}" "$((SECONDS - start))" \
		"${names[i]}: $verdict" >"$WORK/res.$i"
	rm -rf "$tree"
}

begin=$SECONDS
running=0
for i in "${selected[@]}"; do
	if [ "$running" -ge "$JOBS" ]; then
		wait -n
		running=$((running - 1))
	fi
	run_one "$i" &
	running=$((running + 1))
done
wait

declare -A count=([killed]=0 [survived]=0 [stale]=0 [stillborn]=0)
for i in "${selected[@]}"; do
	IFS=$'\t' read -r kind secs text <"$WORK/res.$i"
	count[$kind]=$((count[$kind] + 1))
	printf '%-9s %4ss  %s\n' "$kind" "$secs" "$text"
done
total=${#selected[@]}
echo "mutants: ${count[killed]} of $total killed, ${count[survived]} survived," \
	"${count[stale]} stale, ${count[stillborn]} stillborn" \
	"($((SECONDS - begin)) s, $JOBS at a time)"
[ "${count[killed]}" -eq "$total" ]
