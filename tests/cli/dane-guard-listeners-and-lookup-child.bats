#!/usr/bin/env bats
# Review of issue 19, topology.c / dane.c / dns.c: the DANE guard over
# every port-25 chain.
#
# known_tcp_ports is "name = port" pairs separated by commas; Postfix's
# own parser (config_known_tcp_ports.c) takes whitespace around '=' ("In
# the example below, the whitespace is optional: smtp = 25, smtps =
# submissions = 465, submission = 587").  topology.c's known_port cuts
# the value with plist_next, at commas AND blanks, so "mx = 25" is three
# words and the mx listener's port is never found: hole 7 again.
#
# POSTFIX_TLS_DANE_NAMES="  " (a slip) names no host: the guard then
# looks nothing up and says nothing.  Unset or empty means myhostname.
#
# The DNS child closes descriptors 4 to 1023 only: one the caller left
# open above 1023 (a soft RLIMIT_NOFILE above 1024 is common: containers,
# systemd services with LimitNOFILE) stays open in the child that runs
# as nobody and parses a hostile resolver's answers (promise 18: "no
# descriptor but its pipe").

load ../helpers
load ../dane-lib
load ../served-lib

setup_file() {
	dane_setup_file
}

setup() {
	dane_setup
}

@test "a port-25 listener named through known_tcp_ports written with blanks (mx = 25) is guarded" {
	good_bundle
	echo "mx         inet  n       -       n       -       -       smtpd" \
		>"$T/postfix/master.cf"
	write_maincf "known_tcp_ports = lmtp = 24, smtp = 25, mx = 25, smtps = submissions = 465, submission = 587"
	mapfile -t fake < <(answer "3 1 1 $(spki "$PKI/next.pem")")
	refuses 65 "$QNAME: no TLSA record there matches the ECDSA chain of" \
		deploy_dns "${fake[@]}" -- deploy
	run dns -- probe
	refute_output --partial "neither a number nor a known service name"
}

@test "control: POSTFIX_TLS_DANE_NAMES unset guards myhostname" {
	good_bundle
	mapfile -t fake < <(answer "3 1 1 $(spki "$PKI/next.pem")")
	refuses 65 "$QNAME: no TLSA record there matches" \
		deploy_dns "${fake[@]}" -- check
}

@test "POSTFIX_TLS_DANE_NAMES of blanks does not switch the guard off without a word" {
	good_bundle
	printf 'POSTFIX_TLS_DANE_NAMES="  "\n' >"$T/conf"
	mapfile -t fake < <(answer "3 1 1 $(spki "$PKI/next.pem")")
	run deploy_dns "${fake[@]}" -- check
	# Either myhostname is guarded (refused), or the slip is said.
	if [ "$status" -eq 0 ]; then
		assert_output --partial "POSTFIX_TLS_DANE_NAMES"
	else
		assert_failure 65
	fi
}

@test "the DNS lookup's child holds no descriptor the caller left open above 1023" {
	[ "${PTS_SANITIZER:-}" != valgrind ] || skip "valgrind keeps descriptors of its own in every process"
	good_bundle
	echo POSTFIX_TLS_DANE_TIMEOUT=3 >"$T/conf"
	echo "root's secret" >"$T/secret"
	chmod 0600 "$T/secret"
	# The caller's limit allows it (as in many containers and services).
	ulimit -n 4096
	exec 1500<"$T/secret"
	run dns_child "$T/child" check
	exec 1500<&-
	assert_success
	[ -s "$T/child.status" ] || fail "no DNS child seen; the helper said: $(cat "$T/child.log")"
	run grep -E "^1500 " "$T/child.fd"
	assert_output ""
}

# A DNS child forked from the whole helper after every input was read
# would keep the key files' bytes (the set's key buffer, the PEM blocks
# read for each slot) while, as nobody, it runs glibc's resolver on a
# hostile resolver's answers.  The lookup is a program of its own, so no
# key is in its memory.

# dns_child_memory NEEDLE: in the lookup's child (as dns_child finds it,
# its resolver silent), how often NEEDLE's bytes occur in its memory.
dns_child_memory() {
	local d=$BATS_FILE_TMPDIR
	echo "nameserver 127.0.0.1" >"$d/resolv.conf"
	# The needle in a file: in the environment, the helper would carry it.
	printf '%s' "$1" >"$d/needle"
	# shellcheck disable=SC2016 # expanded by the inner shell
	env HELPER="$HELPER" TOP="$TOP" PKI="$PKI" D="$d" \
	    unshare -mn bash -c '
		T=$0
		ip link set lo up
		mount --bind "$D/resolv.conf" /etc/resolv.conf
		python3 "$TOP/tests/fakedns.py" --addr 127.0.0.1 --port 53 \
			--pidfile "$D/dns.pid" --mode silent &
		for _ in $(seq 100); do [ -s "$D/dns.pid" ] && break; sleep 0.05; done
		"$HELPER" -c "$T/postfix" --root "$T/root" --conf "$T/conf" \
			--cafile "$PKI/root.pem" --cert "$T/ssl/cert.pem" \
			--key "$T/ssl/key.pem" --chain "$T/ssl/chain.pem" check \
			>/dev/null 2>&1 </dev/null &
		helper=$!
		# The name the kernel keeps for the lookup program
		# (postfix-tls-lookup, cut to 15 bytes).
		comm=postfix-tls-loo
		while kill -0 "$helper" 2>/dev/null; do
			for c in $(cat /proc/"$helper"/task/*/children 2>/dev/null); do
				[ "$(cat "/proc/$c/comm" 2>/dev/null)" = "$comm" ] || continue
				ls -l "/proc/$c/fd" 2>/dev/null | grep -q "socket:" || continue
				python3 -c "
import sys
pid, needle, hits = sys.argv[1], sys.argv[2].encode(), 0
with open(\"/proc/%s/maps\" % pid) as m, open(\"/proc/%s/mem\" % pid, \"rb\", 0) as mem:
    for line in m:
        f = line.split()
        if \"r\" not in f[1]:
            continue
        a, b = (int(x, 16) for x in f[0].split(\"-\"))
        # ASan reserves terabytes of shadow: no heap is that large.
        if b - a > 1 << 32:
            continue
        for at in range(a, b, 1 << 20):
            try:
                mem.seek(at)
                chunk = mem.read(min(b - at, (1 << 20) + len(needle)))
            except (OSError, ValueError, OverflowError):
                continue
            hits += chunk.count(needle)
print(\"hits %d\" % hits)" "$c" "$(cat "$D/needle")"
				break 2
			done
			sleep 0.01
		done
		wait "$helper"
		kill "$(cat "$D/dns.pid")" 2>/dev/null
		rm -f "$D/dns.pid"
		exit 0
	' "$T"
}

@test "the DNS lookup's child, which parses a resolver's answers as nobody, holds no private key" {
	[ "${PTS_SANITIZER:-}" != valgrind ] || skip "valgrind's own memory would be searched"
	good_bundle
	echo POSTFIX_TLS_DANE_TIMEOUT=3 >"$T/conf"
	# One line of the key's base64, as the key file holds it.
	run dns_child_memory "$(sed -n 2p "$T/ssl/key.pem")"

	assert_line --regexp '^hits [0-9]+$'
	assert_line "hits 0"
}

# install_as_make_does: the helper under test and its lookup program as
# make install lays them out under a prefix ($T/inst): sbin/, and
# libexec/postfix-tls-setup/.  WITH_LOOKUP=no leaves the lookup out.
install_as_make_does() {
	[ "${PTS_SANITIZER:-}" != valgrind ] || skip "the valgrind pass's helper is a wrapper script: copied, it still runs the tree's"
	mkdir -p "$T/inst/sbin" "$T/inst/libexec/postfix-tls-setup"
	cp "$HELPER" "$T/inst/sbin/postfix-tls-setup"
	[ "${1:-}" = no ] ||
		cp "${HELPER%/*}/postfix-tls-lookup" "$T/inst/libexec/postfix-tls-setup/"
}

@test "installed as make install lays it out, the helper starts its lookup program from ../libexec" {
	install_as_make_does
	good_bundle
	echo POSTFIX_TLS_DANE_TIMEOUT=3 >"$T/conf"
	HELPER=$T/inst/sbin/postfix-tls-setup run dns_child "$T/child" check
	[ -s "$T/child.status" ] || fail "no lookup process seen; the helper said: $(cat "$T/child.log")"
	# It is the lookup program, running as nobody.
	run grep -E "^Uid:[[:space:]]+$(id -u nobody)[[:space:]]" "$T/child.status"
	assert_success
	run cat "$T/child.log"
	refute_output --partial "cannot start the lookup"
}

@test "without its lookup program, the helper says the records cannot be looked up, and why" {
	install_as_make_does no
	good_bundle
	echo POSTFIX_TLS_DANE_TIMEOUT=1 >"$T/conf"
	HELPER=$T/inst/sbin/postfix-tls-setup run dns_child "$T/child" check
	assert_success
	run cat "$T/child.log"
	assert_output --partial "$QNAME: the TLSA records cannot be looked up: cannot start the lookup: No such file or directory"
}

@test "a run refused before the DANE guard leaves no lookup process behind" {
	good_bundle
	echo POSTFIX_TLS_DANE_TIMEOUT=10 >"$T/conf"
	echo "nameserver 127.0.0.1" >"$T/resolv.conf"
	# The lookup starts as soon as the inventory is known; the set's key
	# (not its certificate's) then refuses the run.  A resolver that never
	# answers keeps an abandoned lookup alive for its whole timeout.
	# shellcheck disable=SC2016 # expanded by the inner shell
	run env HELPER="$HELPER" TOP="$TOP" PKI="$PKI" T="$T" \
	    unshare -mnp --fork --mount-proc bash -c '
		ip link set lo up
		mount --bind "$T/resolv.conf" /etc/resolv.conf
		python3 "$TOP/tests/fakedns.py" --addr 127.0.0.1 --port 53 \
			--pidfile "$T/dns.pid" --mode silent &
		for _ in $(seq 100); do [ -s "$T/dns.pid" ] && break; sleep 0.05; done
		"$HELPER" -c "$T/postfix" --root "$T/root" --conf "$T/conf" \
			--cafile "$PKI/root.pem" --cert "$T/ssl/cert.pem" \
			--key "$PKI/next.key" --chain "$T/ssl/chain.pem" deploy
		echo "status=$?"
		echo "left=$(ps -e -o comm= | grep -cx postfix-tls-loo)"
		kill "$(cat "$T/dns.pid")"'
	assert_line "status=65"
	assert_output --partial "private key does not match"
	assert_line "left=0"
}

@test "with its standard input closed and postconf's answer cached, the guard still gets the records" {
	good_bundle
	printf 'POSTFIX_TLS_CACHE="%s"\n' "$T/cache" >"$T/conf"
	mapfile -t good < <(answer "$(leaf_record)")
	run deploy_dns "${good[@]}" -- check
	assert_success
	run deploy_dns "${good[@]}" -- -v check
	assert_output --partial "postconf cache $T/cache/"
	assert_output --partial ": used"
	# Closed, descriptor 0 would be the next file opened: the lookup's
	# output, which its child then replaces with /dev/null.
	printf '#!/bin/sh\nexec "%s" "$@" <&-\n' "$HELPER" >"$T/closed-stdin"
	chmod 0755 "$T/closed-stdin"
	mapfile -t fake < <(answer "3 1 1 $(spki "$PKI/next.pem")")
	HELPER=$T/closed-stdin refuses 65 "$QNAME: no TLSA record there matches" \
		deploy_dns "${fake[@]}" -- check
	refute_output --partial "cannot be looked up"
}

@test "left alone (its parent gone), the lookup program ends by itself one second past its timeout" {
	[ "${PTS_SANITIZER:-}" != valgrind ] || skip "the valgrind pass runs the plain lookup program"
	lookup=${HELPER%/*}/postfix-tls-lookup
	echo "nameserver 127.0.0.1" >"$T/resolv.conf"
	# Five names, each unanswered for its full second: the lookup would
	# run for five seconds or more if nothing ended it.
	# shellcheck disable=SC2016 # expanded by the inner shell
	run env LOOKUP="$lookup" TOP="$TOP" T="$T" unshare -mn bash -c '
		ip link set lo up
		mount --bind "$T/resolv.conf" /etc/resolv.conf
		python3 "$TOP/tests/fakedns.py" --addr 127.0.0.1 --port 53 \
			--pidfile "$T/dns.pid" --mode silent &
		for _ in $(seq 100); do [ -s "$T/dns.pid" ] && break; sleep 0.05; done
		env -i "$LOOKUP" 1 _25._tcp.a.example _25._tcp.b.example \
			_25._tcp.c.example _25._tcp.d.example _25._tcp.e.example >/dev/null
		echo "status=$?"
		kill "$(cat "$T/dns.pid")"'
	# 128 + SIGALRM (14): its own alarm, not a kill from outside.
	assert_line "status=142"
}
