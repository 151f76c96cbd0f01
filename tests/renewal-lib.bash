# What the renewal worlds (tests/world/renewal-*.bats) share, sourced by
# a scenario inside the private world after world-lib.bash: a real ACME
# server (pebble) and its issuing root, the world's Postfix serving the
# helper's own bundle (the key in it: smtpd_tls_chain_files), what a
# verifying client is served, and a loop of STARTTLS handshakes that
# runs across a renewal to show that no connection is refused or fails
# during the swap.  $PKI holds pebble.pem/.key (its listener, made by
# renewal_pki) and unrelated.key.
# shellcheck shell=bash

ROOT_PEM=/etc/ssl/pebble-root.pem
# shellcheck disable=SC2034 # the scenarios use it
ACME_DIR=https://127.0.0.1:14000/dir
LOOP=/run/handshakes
pebble_pid=
loop_pid=

# renewal_pki DIR: pebble's listener certificate and an unrelated key
# (swapped in behind a client's back), made once per file in setup_file,
# never committed.
renewal_pki() {
	mkdir -p "$1"
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
		-subj /CN=localhost -addext "subjectAltName=DNS:localhost,IP:127.0.0.1" \
		-days 2 -keyout "$1/pebble.key" -out "$1/pebble.pem" 2>/dev/null &&
	openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 \
		-out "$1/unrelated.key" 2>/dev/null
}

# pebble_up: pebble on 127.0.0.1:14000 (ACME) and :15000 (management),
# challenges taken as valid; its root in $ROOT_PEM.  The EXIT trap stops
# it and the handshake loop before world.sh's own cleanup (a trap of the
# scenario's replaces world.sh's, so it calls cleanup itself).
pebble_up() {
	cat >/run/pebble.json <<-JSON
	{"pebble": {"listenAddress": "127.0.0.1:14000",
	  "managementListenAddress": "127.0.0.1:15000",
	  "certificate": "$PKI/pebble.pem", "privateKey": "$PKI/pebble.key",
	  "httpPort": 5002, "tlsPort": 5001, "ocspResponderURL": "",
	  "externalAccountBindingRequired": false}}
	JSON
	PEBBLE_VA_ALWAYS_VALID=1 PEBBLE_VA_NOSLEEP=1 PEBBLE_WFE_NONCEREJECT=0 \
		pebble -config /run/pebble.json >/run/pebble.log 2>&1 &
	pebble_pid=$!
	trap 'handshakes_stop; pebble_down; cleanup' EXIT
	wait_port 127.0.0.1 14000 && wait_port 127.0.0.1 15000 &&
	curl -sf --cacert "$PKI/pebble.pem" https://127.0.0.1:15000/roots/0 >"$ROOT_PEM" &&
	say "root: $(openssl x509 -in "$ROOT_PEM" -noout -subject)"
}

pebble_down() {
	[ -n "$pebble_pid" ] || return 0
	kill "$pebble_pid" 2>/dev/null
	wait "$pebble_pid" 2>/dev/null
	pebble_pid=
}

# renewal_postfix CERT KEY [CHAIN]: Postfix at 127.0.0.1 serving the
# helper's bundle (key first, then the chain), and the tuning file naming
# the client's files as the set's inputs and pebble's root as the trust.
renewal_postfix() {
	make_postfix /etc/postfix 127.0.0.1
	postconf -X smtpd_tls_cert_file smtpd_tls_key_file
	postconf -e "smtpd_tls_chain_files = /etc/postfix/certificate.pem"
	touch -d "1 hour ago" /etc/postfix/main.cf
	{
		echo "POSTFIX_TLS_CERT=$1"
		echo "POSTFIX_TLS_KEY=$2"
		[ -z "${3:-}" ] || echo "POSTFIX_TLS_CHAIN=$3"
		echo "POSTFIX_TLS_BUNDLE=/etc/postfix/certificate.pem"
		echo "POSTFIX_TLS_CAFILE=$ROOT_PEM"
	} >/etc/conf.d/postfix-tls-setup
}

# verdict: what a verifying client (trusting pebble's root) says.
verdict() {
	wait_port 127.0.0.1 25 &&
	timeout 20 openssl s_client -starttls smtp -connect 127.0.0.1:25 \
		-CAfile "$ROOT_PEM" -verify_return_error \
		-verify_hostname "$HOST" -brief </dev/null 2>&1 |
		grep -E "^(Verification|Verified peername)"
}

# served_serial: the serial of the leaf port 25 serves.
served_serial() {
	timeout 20 openssl s_client -starttls smtp -connect 127.0.0.1:25 \
		</dev/null 2>/dev/null | openssl x509 -noout -serial
}

# serial_of FILE: the serial of the first certificate in FILE.
serial_of() {
	openssl x509 -in "$1" -noout -serial
}

# postfix_state: everything under /etc/postfix as a refused renewal must
# leave it: names, owners, modes, inodes (a rename shows), contents.
postfix_state() {
	find /etc/postfix -printf '%p %y %U:%G %m %i %s\n' | LC_ALL=C sort
	find /etc/postfix -type f -print0 | LC_ALL=C sort -z | xargs -0 sha256sum
}

master_pid() {
	tr -d " " </var/spool/postfix/pid/master.pid
}

# handshake_once: one verifying STARTTLS handshake, logged as
# "PHASE-AT-START PHASE-AT-END ok SERIAL" or "... FAIL WHY".  Both phases
# are kept: a handshake that began before the swap and ended after it
# proves nothing about which serial either side serves.
handshake_once() {
	local start out serial
	start=$(cat "$LOOP.phase")
	if out=$(timeout 20 openssl s_client -starttls smtp -connect 127.0.0.1:25 \
		-CAfile "$ROOT_PEM" -verify_return_error -verify_hostname "$HOST" \
		</dev/null 2>&1) &&
		grep -q "Verify return code: 0 (ok)" <<<"$out" &&
		serial=$(openssl x509 -noout -serial <<<"$out" 2>/dev/null); then
		echo "$start $(cat "$LOOP.phase") ok ${serial#serial=}" >>"$LOOP.log"
	else
		echo "$start $(cat "$LOOP.phase") FAIL $(grep -m1 -iE 'error|errno|refused|454|530' <<<"$out")" >>"$LOOP.log"
	fi
}

# handshakes_start: the loop, back to back, until handshakes_stop; waits
# until a few handshakes are done before the renewal starts.
handshakes_start() {
	: >"$LOOP.log"
	echo before >"$LOOP.phase"
	rm -f "$LOOP.stop"
	(while [ ! -e "$LOOP.stop" ]; do handshake_once; done) &
	loop_pid=$!
	handshakes_wait before 3
}

# handshakes_phase NAME: handshakes from now on start in phase NAME.
handshakes_phase() {
	echo "$1" >"$LOOP.phase"
}

# serves SERIAL: until port 25 serves SERIAL (10 s at most): postfix
# reload returns before master has acted on it, and the old generation's
# smtpd processes finish their client first.  Without a reload, idle old
# ones go on serving the old certificate (max_idle is 100 s).
serves() {
	local _
	for _ in $(seq 100); do
		[ "$(served_serial)" = "$1" ] && return 0
		sleep 0.1
	done
	return 1
}

# handshakes_settle SERIAL: phase "after" from the moment port 25 serves
# SERIAL.
handshakes_settle() {
	serves "$1"
	handshakes_phase after
}

# handshakes_wait PHASE N: until N handshakes began and ended in PHASE
# (30 s at most).
handshakes_wait() {
	local _
	for _ in $(seq 300); do
		[ "$(grep -c "^$1 $1 " "$LOOP.log")" -ge "$2" ] && return 0
		sleep 0.1
	done
	echo "fewer than $2 handshakes in phase $1" >&2
	return 1
}

handshakes_stop() {
	[ -n "$loop_pid" ] || return 0
	touch "$LOOP.stop"
	wait "$loop_pid" 2>/dev/null
	loop_pid=
}

# handshakes_report OLD NEW: stop the loop and say how many handshakes
# ran in each phase, how many failed (any failure: refused, reset, no
# STARTTLS, not verified), and whether those wholly before the renewal
# got OLD's serial and those wholly after it NEW's.  OLD and NEW as
# openssl x509 -serial prints them.
handshakes_report() {
	local old=${1#serial=} new=${2#serial=} p
	handshakes_stop
	for p in before during after; do
		say "handshakes $p=$(grep -c "^$p $p ok " "$LOOP.log")"
	done
	say "handshakes total=$(wc -l <"$LOOP.log") failed=$(grep -c ' FAIL' "$LOOP.log")"
	grep ' FAIL' "$LOOP.log" | head -3
	grep "^before before ok " "$LOOP.log" | grep -qv " ok $old\$" ||
		say "before the renewal: old serial only"
	grep "^after after ok " "$LOOP.log" | grep -qv " ok $new\$" ||
		say "after the renewal: new serial only"
}

# refused_reported: what check, check --json and check --nagios say of
# the refused renewal (--nagios names only the worst finding: its
# counts must include the refusal's warning).
refused_reported() {
	local out rc
	postfix-tls-setup check --json | python3 -c '
import json, sys
d = json.load(sys.stdin)
for f in d["findings"]:
    if "renewal refused since" in f["message"]:
        print("@@ json:", f["message"])'
	postfix-tls-setup check 2>&1 | grep -q "warning: .*renewal refused since" &&
		say "check names the refusal"
	out=$(postfix-tls-setup check --nagios)
	rc=$?
	printf '%s\n' "$out"
	say "nagios=$rc"
}

# assert_handshakes (in the .bats file, on the world's $output): the loop
# ran across the swap (at least 3 handshakes wholly before the renewal
# and 3 wholly after it), none failed, and each side got its serial.
# shellcheck disable=SC2154 # bats' run sets output
assert_handshakes() {
	local before after
	[[ $output =~ "@@ handshakes before="([0-9]+) ]] || fail "no handshake count: $output"
	before=${BASH_REMATCH[1]}
	[[ $output =~ "@@ handshakes after="([0-9]+) ]] || fail "no handshake count: $output"
	after=${BASH_REMATCH[1]}
	if [ "$before" -lt 3 ] || [ "$after" -lt 3 ]; then
		fail "the loop did not run across the swap: before=$before after=$after"
	fi
	assert_output --regexp "@@ handshakes total=[0-9]+ failed=0"$'\n'
	assert_output --partial "@@ before the renewal: old serial only"
	assert_output --partial "@@ after the renewal: new serial only"
}
