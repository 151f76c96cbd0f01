#!/usr/bin/env bash
# make bench-dane (and a part of make bench): issue 13's figure, what the
# DANE guard's TLSA lookup adds to a start, with real Postfix and OpenRC,
# the real validating unbound and nsd of tests/dns-lib.bash (example.org
# signed at run time), in a private world (tests/world.sh, as root; the
# world's part is bench/dane-world.sh).  POSTFIX_TLS_DANE=off against the
# default auto, in interleaved rounds (each round runs both; the machine's
# drift falls on both alike):
#   d1  postfix-tls-setup deploy, unchanged bundle (the hook's work),
#       a matching validated 3 1 1 record, unbound's cache warm
#       (4 x BENCH_RUNS rounds)
#   d2  the same, unbound's cache flushed before every run, as after its
#       start at boot (2 x BENCH_RUNS rounds)
#   d3  no records (validated NXDOMAIN), warm; d3c the same cold
#   d4  the resolver drops every packet: deploy with
#       POSTFIX_TLS_DANE_TIMEOUT=1 and =3 (hyperfine, BENCH_RUNS/10 runs,
#       5 at least)
#   d5a start_pre (the hook and the helper) in OpenRC's shell, warm
#       (4 x BENCH_RUNS rounds); d5b whole rc-service postfix starts
#       (BENCH_RUNS rounds), the post-start probe off in both
# Targets: the lookup adds under 10 ms warm (d1, d3, d5a), under 50 ms cold
# (d2, d3c); with no answer, deploy takes at most the timeout + 0.5 s
# (d4, every run, not only the median).  Exit status 0 when met, 1 when
# missed.
set -eu
cd "$(dirname "$0")/.."
TOP=$PWD
# BENCH_TREE=DIR times the build in another tree of this project (its
# helper; in a private world, what its make install installs) with these
# scripts, e.g. a worktree of the commit before a change.
BUILD=$(cd "${BENCH_TREE:-$TOP}" && pwd)
RUNS=${BENCH_RUNS:-100}
[ "$(id -u)" -eq 0 ] || { echo "make bench-dane needs root" >&2; exit 1; }
[ -x "$BUILD/postfix-tls-setup" ] || { echo "build first: make (in $BUILD)" >&2; exit 1; }
for p in nsd unbound unbound-control ldns-signzone dig; do
	command -v "$p" >/dev/null || { echo "make bench-dane needs $p" >&2; exit 1; }
done

B=$(mktemp -d /tmp/pts-bench-dane.XXXXXX)
trap 'rm -rf "$B"' EXIT
chmod 755 "$B"
export PKI=$B/pki HOST=mail.example.org
mkdir -p "$PKI" "$B/csv"
# shellcheck source=tests/pki.bash
. "$TOP/tests/pki.bash"
# shellcheck source=bench/lib.bash
. "$TOP/bench/lib.bash"

say "d: the DANE guard's lookup, real unbound and nsd, in a private world"
# The load on the machine, before and after: the figures move with it.
load0=$(cut -d' ' -f1-3 /proc/loadavg)
pki_cert root self ca
pki_cert inter1 root ca
pki_cert inter2 inter1 ca
pki_cert "$HOST" inter2 server
unshare --pid --fork --mount-proc --mount --net --propagation private \
	env PKI="$PKI" HOST="$HOST" TOP="$TOP" BENCH_RUNS="$RUNS" \
	bash "$BUILD/tests/world.sh" "$B" "$TOP/bench/dane-world.sh"
for f in d1 d2 d3 d3c d4 d5a d5b; do
	[ -s "$B/csv/$f.csv" ] || { echo "bench/dane-world.sh left no $f.csv" >&2; exit 1; }
done

# rounds_ms CSV VARIANT: the median of the rounds, in ms.
rounds_ms() {
	awk -F, -v v="$2" '$1 == v { print $2 }' "$1" | sort -n |
		awk '{ t[NR] = $1 } END { printf "%.2f", (t[int((NR + 1) / 2)] + t[int(NR / 2) + 1]) / 2000 }'
}
# added CSV: auto's median less off's, in ms.
added() {
	awk -v x="$(rounds_ms "$1" auto)" -v y="$(rounds_ms "$1" off)" 'BEGIN { printf "%.2f", x - y }'
}
# quarters CSV: what auto adds in each quarter of the rounds, in ms: how
# far the whole run's figure can be trusted.
quarters() {
	local n q
	n=$(grep -c '^off,' "$1")
	awk -F, -v n="$n" '{ k = seen[$1]++; print > (FILENAME ".q" int(4 * k / n)) }' "$1"
	for q in 0 1 2 3; do
		printf ' %s' "$(added "$1.q$q")"
		rm -f "$1.q$q"
	done
}
# line NAME CSV TEXT: one row of the report.
line() {
	printf '  %-4s %-34s %8s | %8s | %6s  (quarters:%s)\n' "$1" "$3" \
		"$(rounds_ms "$2" off)" "$(rounds_ms "$2" auto)" "$(added "$2")" "$(quarters "$2")"
}
# max_ms CSV NAME: hyperfine's slowest run, in ms.
max_ms() {
	awk -F, -v n="$2" '$1 == n { printf "%.0f", $8 * 1000 }' "$1"
}
C=$B/csv
echo "load average (1, 5, 15 min): $load0 before, $(cut -d' ' -f1-3 /proc/loadavg) after ($(nproc) CPUs)"
echo "medians (ms), POSTFIX_TLS_DANE=off | auto | what the lookup adds:"
line d1 "$C/d1.csv" "deploy, matching record, warm"
line d2 "$C/d2.csv" "deploy, matching record, cold"
line d3 "$C/d3.csv" "deploy, no records, warm"
line d3c "$C/d3c.csv" "deploy, no records, cold"
line d5a "$C/d5a.csv" "start_pre in OpenRC's shell, warm"
line d5b "$C/d5b.csv" "rc-service postfix start, warm"
cat <<REPORT
d4, the resolver drops every packet (deploy; median / slowest run, ms):
  off $(median_ms "$C/d4.csv" off) / $(max_ms "$C/d4.csv" off) | POSTFIX_TLS_DANE_TIMEOUT=1 $(median_ms "$C/d4.csv" t1) / $(max_ms "$C/d4.csv" t1) | =3 (the default) $(median_ms "$C/d4.csv" t3) / $(max_ms "$C/d4.csv" t3)
REPORT
echo "targets:"
verdict "$(added "$C/d1.csv") < 10" "the lookup adds under 10 ms to deploy, records cached (d1)"
verdict "$(added "$C/d3.csv") < 10" "... and with no records, cached (d3)"
verdict "$(added "$C/d5a.csv") < 10" "... and to the hook's start_pre (d5a)"
verdict "$(added "$C/d2.csv") < 50" "the lookup adds under 50 ms to deploy, unbound's cache cold (d2)"
verdict "$(added "$C/d3c.csv") < 50" "... and with no records, cold (d3c)"
verdict "$(max_ms "$C/d4.csv" t1) <= 1500" "with no answer, every deploy ends within the timeout + 0.5 s (TIMEOUT=1)"
verdict "$(max_ms "$C/d4.csv" t3) <= 3500" "... and (TIMEOUT=3, the default)"
# Sooner would mean nothing was waited for: the lookup never ran.
verdict "$(median_ms "$C/d4.csv" t1) >= 1000" "... and waits for the answer that long (the lookup ran)"
echo "  (d5b, whole starts, is reported, not judged: a start varies by 10-30 ms on a quiet machine, see BENCHMARKS.md)"
mkdir -p "$TOP/bench/out"
for f in "$C"/d*.csv; do cp "$f" "$TOP/bench/out/dane-${f##*/}"; done
[ "$MISSED" -eq 0 ]
