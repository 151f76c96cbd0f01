# bench/probe.sh's part inside a private world (tests/world.sh, as root):
# Postfix with three TLS listeners, started by real OpenRC; results in
# $T/csv: h-shell.csv (hyperfine) and h-real.csv ("variant,microseconds"
# of rc-service postfix start).
# shellcheck shell=bash

make_postfix /etc/postfix 127.0.0.1
use_tls "$HOST" inter2 inter1
tune /etc/conf.d/postfix-tls-setup
echo 'POSTFIX_TLS_CACHE="/run/postfix-tls-setup"' >>/etc/conf.d/postfix-tls-setup	# as shipped
postconf -M "submission/inet=submission inet n - n - - smtpd"
add_wrapper_service /etc/postfix
HOOK=/etc/rc.conf.d/postfix-tls-setup.conf
rc-service postfix start >/dev/null 2>&1
postfix-tls-setup --hook probe	# fills the cache; says nothing when all is well
wait_port 127.0.0.1 465

# h1 and h2: the helper alone, and start_post as OpenRC's shell runs it.
shell() { echo "sh -c '. /lib/rc/sh/functions.sh; RC_SVCNAME=postfix; RC_CMD=start; $1'"; }
hyperfine -N --style basic --warmup 5 --runs "$BENCH_RUNS" --export-csv "$T/csv/h-shell.csv" \
	-n probe "postfix-tls-setup -c /etc/postfix --conf /etc/conf.d/postfix-tls-setup --hook probe" \
	-n start_post "$(shell ". $HOOK; start_post")" \
	-n true "$(shell /bin/true)"

# h3: whole starts, the probe on (warn) and off, in turn.
probe_mode() {
	sed -i '/^POSTFIX_TLS_PROBE=/d' /etc/conf.d/postfix-tls-setup
	echo "POSTFIX_TLS_PROBE=$1" >>/etc/conf.d/postfix-tls-setup
}
for ((i = 0; i < BENCH_RUNS / 2 + 10; i++)); do
	for v in off warn; do
		probe_mode "$v"
		rc-service postfix stop >/dev/null 2>&1
		t0=$EPOCHREALTIME
		rc-service postfix start >/dev/null 2>&1
		t1=$EPOCHREALTIME
		echo "$v,$((${t1/./} - ${t0/./}))" >>"$T/csv/h-real.csv"	# microseconds
		[ "$v" = off ] || continue
		# The probe by itself right after a start without it: what it
		# costs when every smtpd is still to be spawned.
		t0=$EPOCHREALTIME
		postfix-tls-setup -c /etc/postfix --conf /etc/conf.d/postfix-tls-setup probe >/dev/null
		t1=$EPOCHREALTIME
		echo "cold,$((${t1/./} - ${t0/./}))" >>"$T/csv/h-real.csv"
	done
done
rc-service postfix stop >/dev/null 2>&1
