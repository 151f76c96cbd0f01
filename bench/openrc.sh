# bench/run.sh's part e, run inside a private world (tests/world.sh, as
# root): what the hook adds to `rc-service postfix start`, real OpenRC,
# with its two parts apart, each held to its own target:
#   pre   start_pre, the check before the start (deploy): at most a + 2 ms
#   post  start_post, the handshakes with what Postfix then serves
#         (probe): under 50 ms (issue 12; bench/probe.sh times it too)
# Only OpenRC's names are used (start_pre, start_post, the rc.conf.d
# file), never the hook's own functions, so the same script times the
# shell hook of a846e0e and the glue of issue 19 (`postfix-tls-setup hook
# EVENT`).  A part is left out by unsetting its function after the hook
# is sourced: OpenRC runs CMD_pre / CMD_post only when one exists.
# Results go to $T/csv: e-a.csv (a, timed in this world), e-shell.csv (the
# hook's parts driven by OpenRC's shell outside rc-service), e-real.csv
# and e-noop.csv (rc-service starts, "variant,microseconds").
# shellcheck shell=bash

make_postfix /etc/postfix 127.0.0.1
use_tls "$HOST" inter2 inter1
tune /etc/conf.d/postfix-tls-setup
echo 'POSTFIX_TLS_CACHE="/run/postfix-tls-setup"' >>/etc/conf.d/postfix-tls-setup	# as shipped
runs=$((BENCH_RUNS / 2 + 10))
postfix-tls-setup -q deploy
HOOK=/etc/rc.conf.d/postfix-tls-setup.conf
cp "$HOOK" "$T/hook.conf"
{ cat "$T/hook.conf"; echo 'unset -f start_post reload_post'; } >"$T/hook-pre.conf"
{ cat "$T/hook.conf"; echo 'unset -f start_pre stop_pre reload_pre'; } >"$T/hook-post.conf"
HELPER_CMD="/usr/sbin/postfix-tls-setup -c /etc/postfix --conf /etc/conf.d/postfix-tls-setup --hook deploy"

# a, inside this world (its overlays make every program start slower).
hyperfine --style basic --warmup 5 --runs "$((runs * 2))" --export-csv "$T/csv/e-a.csv" \
	-n a-in-world 'postfix-tls-setup -q deploy'

# variant NAME: set up one way of starting, and echo the service to start.
#   off   the package not installed: no rc.conf.d file, no hook
#   on    the package installed, the whole hook (as shipped)
#   pre   the hook's start_pre only (its start_post unset)
#   post  the hook's start_post only (its start_pre unset)
#   bare  a service of the same shape whose start_pre runs the helper
#         itself, as the hook would: what the helper costs in that place
variant() {
	case $1 in
	off) rm -f "$HOOK"; echo postfix ;;
	on) cp "$T/hook.conf" "$HOOK"; echo postfix ;;
	pre|post) cp "$T/hook-$1.conf" "$HOOK"; echo postfix ;;
	bare) cp "$T/hook.conf" "$HOOK"; echo pfbare ;;	# read, not used
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

# e1: the real Postfix start, without the package, with the whole hook
# and with each part alone.  post against off is what the probe adds to a
# real start: every smtpd it reaches is still to be spawned by master.
rounds "$T/csv/e-real.csv" "$((runs / 2))" off on pre post
rc-service postfix stop >/dev/null 2>&1
cp "$T/hook.conf" "$HOOK"

# From here Postfix runs on its own (started outside OpenRC) and the
# service postfix becomes one whose start does nothing: a start where
# everything is right, the bundle deployed and a Postfix listening that
# serves it, so that the probe tries real listeners (a service that
# listens nowhere made it retry for a second, its settle time).
postfix start >/dev/null 2>&1
wait_port 127.0.0.1 25
postfix-tls-setup --hook probe	# says nothing when all is well
say "Postfix listening on its own for the no-op service: probe exit $?"

# The hook's parts as OpenRC's shell runs them but outside rc-service
# (steadier): start_pre and start_post against true alone, start_pre with
# the helper replaced by true (the hook's own shell code), and the helper
# call written out.
shell() { echo "sh -c '. /lib/rc/sh/functions.sh; RC_SVCNAME=postfix; RC_CMD=start; $1'"; }
hyperfine -N --style basic --warmup 5 --runs "$((runs * 2))" --export-csv "$T/csv/e-shell.csv" \
	-n hook-true "$(shell ". $HOOK; POSTFIX_TLS_SETUP=/bin/true start_pre")" \
	-n true "$(shell /bin/true)" \
	-n start_pre "$(shell ". $HOOK; start_pre")" \
	-n start_post "$(shell ". $HOOK; start_post")" \
	-n helper "$(shell "$HELPER_CMD")"

# e2: a start that does nothing, so that the hook's cost is not lost in
# Postfix's (a real start varies by more than the hook costs).
printf '#!/sbin/openrc-run\nstart() { :; }\nstop() { :; }\n' >/etc/init.d/postfix
printf '#!/sbin/openrc-run\nstart() { :; }\nstop() { :; }\nstart_pre() { %s; }\n' \
	"$HELPER_CMD" >/etc/init.d/pfbare
chmod 0755 /etc/init.d/pfbare
rc-service pfbare start >/dev/null 2>&1	# OpenRC caches the new script's dependencies
# Many rounds: each start varies by 10-30 ms (the cgroup moves), a part
# of the hook costs a few ms.
rounds "$T/csv/e-noop.csv" "$((BENCH_RUNS * 8))" off on pre post bare
postfix stop >/dev/null 2>&1
