#!/usr/bin/env bats
# Issue 19, class (e): the deadlines a start waits on, timed.  A peer that
# never answers is given up when POSTFIX_TLS_DANE_TIMEOUT or
# POSTFIX_TLS_PROBE_TIMEOUT is over -- not before, and not long after
# (the helper's start and its own half-second grace for the DNS child
# fit in margin_ms) -- and a peer that is slow but answers within it is
# waited for.  The only timed assertions of the suite (tests/pins-lib.bash
# times the helper alone); the peers run in private network namespaces.

bats_require_minimum_version 1.5.0

load ../helpers
load ../dane-lib
load ../pins-lib

setup_file() {
	pki_common
}

setup() {
	need_root
	setup_world
	QNAME=_25._tcp.$HOST
	timed_helper
}

# within MIN MAX: the last run's helper took at least MIN ms and less
# than MAX ms.
within() {
	local ms
	ms=$(took_ms)
	[ -n "$ms" ] || fail "the run did not say how long it took"
	echo "# $BATS_TEST_NUMBER: ${ms} ms, allowed ${1} to ${2}" >&3
	[ "$ms" -ge "$1" ] || fail "took ${ms} ms: given up before the deadline (${1} ms)"
	[ "$ms" -lt "$2" ] || fail "took ${ms} ms: not given up by ${2} ms"
}

@test "DANE: a resolver that takes the TCP retry and never answers is given up at POSTFIX_TLS_DANE_TIMEOUT, not before, not long after" {
	echo POSTFIX_TLS_DANE_TIMEOUT=2 >"$T/conf"
	# UDP answers "truncated" at once; over TCP nothing ever comes.
	run deploy_dns --mode tc -- deploy
	assert_success
	assert_output --partial "warning: $QNAME: the TLSA records cannot be looked up: no answer within POSTFIX_TLS_DANE_TIMEOUT=2 s"
	assert_output --partial "wrote $BUNDLE"
	within 2000 $((2000 + $(margin_ms)))
}

@test "DANE: a resolver that never answers over UDP is given up at POSTFIX_TLS_DANE_TIMEOUT" {
	printf '%s\n' POSTFIX_TLS_DANE_TIMEOUT=2 POSTFIX_TLS_DANE_DNS=refuse >"$T/conf"
	refuses 75 "$QNAME: the TLSA records cannot be looked up: no answer" \
		deploy_dns --mode silent -- deploy
	within 2000 $((2000 + $(margin_ms)))
}

@test "DANE: a resolver that answers after 1.5 s, within POSTFIX_TLS_DANE_TIMEOUT=3, is waited for and its record decides" {
	printf '%s\n' POSTFIX_TLS_DANE_TIMEOUT=3 POSTFIX_TLS_DANE_DNS=refuse >"$T/conf"
	# Given up early, this would be DNS trouble (75), not the mismatch.
	refuses 65 "$QNAME: no TLSA record there matches the ECDSA chain of main.cf" \
		ndns --mode records --ad --delay 1.5 \
		--tlsa "3 1 1 $(openssl rand -hex 32)" -- deploy
	within 1500 $((3000 + $(margin_ms)))
}

# listen_on_2525: master.cf's only smtpd listens on 127.0.0.1:2525 and
# serves main.cf's identity, the bundle deployed.
listen_on_2525() {
	deploy_inputs -q deploy
	echo "127.0.0.1:2525 inet  n       -       n       -       -       smtpd" >"$T/postfix/master.cf"
	settle_maincf
}

@test "probe: a listener that never greets is given up at POSTFIX_TLS_PROBE_TIMEOUT, not before, not long after" {
	listen_on_2525
	echo POSTFIX_TLS_PROBE_TIMEOUT=2 >"$T/conf"
	run probe_net --port 2525 --mode silent -- probe
	assert_success
	assert_output --partial "warning: 127.0.0.1:2525/inet: 127.0.0.1:2525: no complete answer waiting for the greeting within 2 seconds (POSTFIX_TLS_PROBE_TIMEOUT)"
	within 2000 $((2000 + $(margin_ms)))
}

@test "probe: a listener that greets after 1.5 s, within POSTFIX_TLS_PROBE_TIMEOUT=3, is waited for and its handshake judged" {
	listen_on_2525
	echo POSTFIX_TLS_PROBE_TIMEOUT=3 >"$T/conf"
	run probe_net --port 2525 --mode slow --delay 1.5 --cert "$BUNDLE" \
		--key "$T/ssl/key.pem" -- probe
	assert_success
	assert_output --regexp "ok: 127\.0\.0\.1:2525/inet: 127\.0\.0\.1:2525: STARTTLS, TLSv1\.[23], [^,]+, /O=Test/CN=$HOST, ECDSA-256, verified"
	refute_output --partial "POSTFIX_TLS_PROBE_TIMEOUT"
	within 1500 $((3000 + $(margin_ms)))
}

# probe_late DELAY -- HELPER ARGS...: probe_net's world, but the listener
# (slowsmtp.py, greeting at once, serving the deployed bundle) binds its
# port DELAY seconds after the helper started: a service that a reload
# just added.  Python is loaded before the helper starts, and waits for
# the word to bind (a file), so DELAY is the listener's own.
probe_late() {
	local d=$BATS_FILE_TMPDIR delay=$1
	shift 2
	cat >"$d/late.py" <<-'PY'
	import os, runpy, sys, time
	import argparse, signal, socket, ssl, threading  # slowsmtp.py's, loaded now
	go = os.environ["D"] + "/go"
	open(os.environ["D"] + "/ready", "w").close()
	while not os.path.exists(go):
	    time.sleep(0.005)
	runpy.run_path(os.environ["TOP"] + "/tests/slowsmtp.py", run_name="__main__")
	PY
	# shellcheck disable=SC2016 # expanded by the inner shell
	env HELPER="$HELPER" TOP="$TOP" PKI="$PKI" D="$d" DELAY="$delay" \
	    BUNDLE="$BUNDLE" KEY="$T/ssl/key.pem" unshare -n bash -c '
		T=$0
		ip link set lo up
		rm -f "$D/smtp.pid" "$D/ready" "$D/go"
		python3 "$D/late.py" --port 2525 --mode slow --cert "$BUNDLE" \
			--key "$KEY" --pidfile "$D/smtp.pid" &
		for _ in $(seq 200); do [ -e "$D/ready" ] && break; sleep 0.05; done
		"$HELPER" -c "$T/postfix" --root "$T/root" --conf "$T/conf" \
			--cafile "$PKI/root.pem" "$@" &
		helper=$!
		sleep "$DELAY"
		: >"$D/go"
		wait "$helper"
		rc=$?
		for _ in $(seq 100); do [ -s "$D/smtp.pid" ] && break; sleep 0.05; done
		kill "$(cat "$D/smtp.pid")"
		rm -f "$D/smtp.pid" "$D/ready" "$D/go"
		exit $rc
	' "$T" "$@"
}

@test "probe: a listener that only starts listening a moment after the probe (a service a reload just added) is tried again and judged" {
	listen_on_2525
	echo POSTFIX_TLS_PROBE_TIMEOUT=5 >"$T/conf"
	run probe_late 0.4 -- probe
	assert_success
	assert_output --regexp "ok: 127\.0\.0\.1:2525/inet: 127\.0\.0\.1:2525: STARTTLS, TLSv1\.[23], [^,]+, /O=Test/CN=$HOST, ECDSA-256, verified"
	refute_output --partial "not reachable"
}
