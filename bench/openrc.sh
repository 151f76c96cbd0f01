# bench/run.sh's part e, run inside a private world (tests/world.sh, as
# root): what the hook adds to `rc-service postfix start`, real OpenRC.
# Results go to $T/csv: e-a.csv (a, timed in this world), e-shell.csv (the
# hook and the helper driven by OpenRC's shell outside rc-service),
# e-real.csv and e-noop.csv (rc-service starts, "variant,microseconds").
# shellcheck shell=bash

make_postfix /etc/postfix 127.0.0.1
use_tls "$HOST" inter2 inter1
tune /etc/conf.d/postfix-tls-setup
echo 'POSTFIX_TLS_CACHE="/run/postfix-tls-setup"' >>/etc/conf.d/postfix-tls-setup	# as shipped
runs=$((BENCH_RUNS / 2 + 10))
postfix-tls-setup -q deploy
HOOK=/etc/rc.conf.d/postfix-tls-setup.conf
cp "$HOOK" "$T/hook.conf"
HELPER_CMD="/usr/sbin/postfix-tls-setup -c /etc/postfix --conf /etc/conf.d/postfix-tls-setup --hook deploy"

# a, inside this world (its overlays make every program start slower).
hyperfine --style basic --warmup 5 --runs "$((runs * 2))" --export-csv "$T/csv/e-a.csv" \
	-n a-in-world 'postfix-tls-setup -q deploy'

# The hook's own shell code, as OpenRC's shell runs it but outside
# rc-service (steadier): start_pre with the helper replaced by true,
# against true alone; and start_pre against the helper call written out.
shell() { echo "sh -c '. /lib/rc/sh/functions.sh; RC_SVCNAME=postfix; $1'"; }
hyperfine -N --style basic --warmup 5 --runs "$((runs * 2))" --export-csv "$T/csv/e-shell.csv" \
	-n hook-true "$(shell ". $HOOK; POSTFIX_TLS_SETUP=/bin/true start_pre")" \
	-n true "$(shell /bin/true)" \
	-n hook "$(shell ". $HOOK; start_pre")" \
	-n helper "$(shell "$HELPER_CMD")"

# variant NAME: set up one way of starting, and echo the service to start.
#   off   the package not installed: no rc.conf.d file, no hook
#   on    the package installed, the hook on
#   bare  a service of the same shape whose start_pre runs the helper
#         itself, as the hook would: what the helper costs in that place
variant() {
	case $1 in
	off) rm -f "$HOOK"; echo postfix ;;
	on) cp "$T/hook.conf" "$HOOK"; echo postfix ;;
	bare) cp "$T/hook.conf" "$HOOK"; echo pfbare ;;
	esac
}

# rounds CSV ROUNDS VARIANT...: each round starts every variant once, in
# turn, so that the machine's drift falls on all of them alike.  A start
# varies by 10-30 ms: OpenRC moves its shell into the service's cgroup v2
# group and out again, and each move waits for the kernel (strace: the
# one-byte writes to cgroup.procs take 5-30 ms).
rounds() {
	local csv=$1 n=$2 i v svc t0 t1
	shift 2
	for ((i = 0; i < n; i++)); do
		for v in "$@"; do
			svc=$(variant "$v")
			rc-service "$svc" stop >/dev/null 2>&1
			rc-service "$svc" zap >/dev/null 2>&1
			t0=$EPOCHREALTIME
			rc-service "$svc" start >/dev/null 2>&1
			t1=$EPOCHREALTIME
			echo "$v,$((${t1/./} - ${t0/./}))" >>"$csv"	# microseconds
		done
	done
}

# e1: the real Postfix start, with and without the package.
rounds "$T/csv/e-real.csv" "$((runs / 2))" off on
rc-service postfix stop >/dev/null 2>&1

# e2: a start that does nothing, so that the hook's cost is not lost in
# Postfix's (a real start varies by more than the hook costs).
printf '#!/sbin/openrc-run\nstart() { :; }\nstop() { :; }\n' >/etc/init.d/postfix
printf '#!/sbin/openrc-run\nstart() { :; }\nstop() { :; }\nstart_pre() { %s; }\n' \
	"$HELPER_CMD" >/etc/init.d/pfbare
chmod 0755 /etc/init.d/pfbare
rc-service pfbare start >/dev/null 2>&1	# OpenRC caches the new script's dependencies
# Many rounds: each start varies by 10-30 ms (the cgroup moves), the hook
# costs a few ms.
rounds "$T/csv/e-noop.csv" "$((BENCH_RUNS * 8))" off on bare
