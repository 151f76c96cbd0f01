# Functions shared by bench/run.sh and bench/sni.sh.
# shellcheck shell=bash

say() { printf '\n== %s\n' "$*"; }

# median_ms CSV NAME: the median of a hyperfine CSV row, in milliseconds.
median_ms() {
	awk -F, -v n="$2" '$1 == n { printf "%.2f", $4 * 1000 }' "$1"
}
ratio() {
	awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'
}
# verdict OK-EXPRESSION TEXT: met or missed; MISSED counts the misses.
MISSED=0
verdict() {
	if awk "BEGIN { exit !($1) }"; then
		echo "  met:    $2"
	else
		echo "  missed: $2"
		MISSED=$((MISSED + 1))
	fi
}
