# bench/dane.sh's part inside a private world (tests/world.sh, as root):
# Postfix (port 25, one ECDSA identity, a 3-certificate chain) behind the
# real validating unbound and the signed example.org of
# tests/dns-lib.bash.  Results in $T/csv: d1, d2, d3, d3c, d5a and d5b
# ("variant,microseconds", variants off and auto, in interleaved rounds),
# d4.csv (hyperfine).
# shellcheck shell=bash

# shellcheck source=tests/dns-lib.bash
. "$TOP/tests/dns-lib.bash"

make_postfix /etc/postfix 127.0.0.1
use_tls "$HOST" inter2 inter1
CONF=/etc/conf.d/postfix-tls-setup
tune "$CONF"
echo 'POSTFIX_TLS_CACHE="/run/postfix-tls-setup"' >>"$CONF"	# as shipped
dns_up || exit 1
RECORD="3 1 1 $(dns_spki_hash "$PKI/$HOST.pem")"
dns_tlsa "$HOST" "$RECORD" || exit 1

# One tuning file per variant, all sharing postconf's cache (its digest
# does not cover this file).
for v in off auto; do
	cp "$CONF" "/run/conf-$v"
	echo "POSTFIX_TLS_DANE=$v" >>"/run/conf-$v"
done
for s in 1 3; do
	cp /run/conf-auto "/run/conf-auto-t$s"
	echo "POSTFIX_TLS_DANE_TIMEOUT=$s" >>"/run/conf-auto-t$s"
done

# pts VARIANT ARGS...: the helper with VARIANT's tuning.
pts() {
	local v=$1
	shift
	postfix-tls-setup -c /etc/postfix --conf "/run/conf-$v" "$@"
}
# said VARIANT: deploy's exit status and what it says, on one line.
said() {
	local out rc
	out=$(pts "$1" deploy 2>&1)
	rc=$?
	echo "exit $rc${out:+, says: $(tr '\n' ' ' <<<"$out")}"
}
# dane VARIANT: the guard's verdict on each identity, from check --json.
dane() {
	pts "$1" --json check |
		python3 -c 'import json, sys; print([i.get("dane") for i in json.load(sys.stdin)["identities"]])'
}

# rounds CSV N SETUP RUN: N rounds, each running "RUN off" and "RUN auto"
# once, timed, after "SETUP VARIANT" (not timed), the order swapped every
# round; lines "variant,microseconds".  The helper runs for about 10 ms
# and a start for hundreds, and this machine's load drifts over seconds:
# taking the two side by side makes the drift fall on both alike, which
# two hyperfine series one after the other do not.  Five rounds first,
# not kept.
rounds() {
	local csv=$1 n=$2 setup=$3 run=$4 i v t0 t1 out
	for ((i = -5; i < n; i++)); do
		for v in off auto; do
			((i % 2)) && v=$([ "$v" = off ] && echo auto || echo off)
			"$setup" "$v"
			t0=$EPOCHREALTIME
			"$run" "$v" >/dev/null 2>&1
			t1=$EPOCHREALTIME
			out=$csv
			((i < 0)) && out=/dev/null
			echo "$v,$((${t1/./} - ${t0/./}))" >>"$out"
		done
	done
}
deploy() { pts "$1" -q deploy; }
warm() { :; }
# cold: unbound forgets example.org's records, keys and negative answers
# and what it learnt of nsd (round-trip times, EDNS), as after its own
# start; the next lookup fetches the TLSA set and the zone's DNSKEY set
# and validates them.
cold() {
	local what
	for what in "flush_zone example.org" "flush_infra all" flush_negative flush_bogus; do
		# shellcheck disable=SC2086 # the command and its argument
		unbound-control -c "$DNS_DIR/unbound.conf" $what >/dev/null ||
			{ say "unbound-control $what failed"; exit 1; }
	done
}

# What each variant does, said once before it is timed: the bundle is
# deployed (the first run writes it and fills the cache), the guard sees a
# validated match, and off looks nothing up.
pts auto deploy || exit 1
say "record published: check --json: auto $(dane auto), off $(dane off)"
# A guard that did not look anything up would be timed as a fast one.
case $(dane auto) in
*match*) ;;
*) say "the guard saw no match (its lookup failed?): nothing to time"; exit 1 ;;
esac
say "record published: deploy: auto $(said auto); off $(said off)"

say "d1: deploy, off and auto, a matching validated 3 1 1 record, unbound warm ($((4 * BENCH_RUNS)) rounds)"
rounds "$T/csv/d1.csv" $((4 * BENCH_RUNS)) warm deploy
say "d2: the same, unbound's cache flushed before every run ($((2 * BENCH_RUNS)) rounds)"
rounds "$T/csv/d2.csv" $((2 * BENCH_RUNS)) cold deploy

dns_tlsa "$HOST" || exit 1
say "no records: check --json: auto $(dane auto); deploy: auto $(said auto)"
say "d3: no records (validated NXDOMAIN), warm and cold"
rounds "$T/csv/d3.csv" $((4 * BENCH_RUNS)) warm deploy
rounds "$T/csv/d3c.csv" $((2 * BENCH_RUNS)) cold deploy

# d4: nothing ever answers; a few runs are enough (each is the timeout),
# and hyperfine gives the slowest.
dns_down drop || exit 1
say "resolver drops every packet: deploy: TIMEOUT=1 $(said auto-t1)"
DROP_RUNS=$((BENCH_RUNS / 10 > 5 ? BENCH_RUNS / 10 : 5))
say "d4: the resolver drops every packet, POSTFIX_TLS_DANE_TIMEOUT=1 and 3 ($DROP_RUNS runs)"
hyperfine -N --style basic --warmup 1 --runs "$DROP_RUNS" --export-csv "$T/csv/d4.csv" \
	-n off "postfix-tls-setup -q -c /etc/postfix --conf /run/conf-off deploy" \
	-n t1 "postfix-tls-setup -q -c /etc/postfix --conf /run/conf-auto-t1 deploy" \
	-n t3 "postfix-tls-setup -q -c /etc/postfix --conf /run/conf-auto-t3 deploy"
dns_resume || exit 1
dns_tlsa "$HOST" "$RECORD" || exit 1

# d5: on a start, the record published and unbound warm.  The post-start
# probe is off: it adds 30-40 ms of its own spread (issue 12), and this is
# about the lookup.  d5a: start_pre (the hook and the helper) in OpenRC's
# shell, as probe.sh's h2; d5b: whole rc-service postfix starts.
dane_mode() {
	sed -i '/^POSTFIX_TLS_DANE=/d; /^POSTFIX_TLS_PROBE=/d' "$CONF"
	printf 'POSTFIX_TLS_DANE=%s\nPOSTFIX_TLS_PROBE=off\n' "$1" >>"$CONF"
}
hook_pre() {
	# shellcheck disable=SC2016 # expanded by that sh
	sh -c '. /lib/rc/sh/functions.sh; RC_SVCNAME=postfix; RC_CMD=start
		. /etc/rc.conf.d/postfix-tls-setup.conf; start_pre'
}
stopped() {
	dane_mode "$1"
	rc-service postfix stop >/dev/null 2>&1
}
rc_start() { rc-service postfix start; }
dane_mode auto
say "start_pre in OpenRC's shell: $(hook_pre 2>&1; echo "exit $?")"
say "d5a: start_pre in OpenRC's shell ($((4 * BENCH_RUNS)) rounds)"
rounds "$T/csv/d5a.csv" $((4 * BENCH_RUNS)) dane_mode hook_pre
rc-service postfix start >/dev/null 2>&1 || { say "rc-service postfix start failed"; exit 1; }
say "d5b: rc-service postfix start ($BENCH_RUNS rounds)"
rounds "$T/csv/d5b.csv" "$BENCH_RUNS" stopped rc_start
rc-service postfix stop >/dev/null 2>&1
dns_stop
