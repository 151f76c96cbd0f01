#!/usr/bin/env bats
# Issue 19, holes 3 and 11: whom the DANE guard trusts.  The AD bit says
# "validated" only when the resolver that set it is this host's own (every
# nameserver on loopback) or resolv.conf says so (options trust-ad), as
# glibc itself decides; an AD bit from a resolver across the network
# could be forged, and blocked every start.  The lookup's child, which
# parses nothing but talks to the network, runs as nobody and holds no
# descriptor but its pipe.  The stand-in resolver is tests/fakedns.py,
# off loopback on an interface of its own in a private network namespace
# (dns_at, tests/served-lib.bash).

load ../helpers
load ../dane-lib
load ../served-lib

setup_file() {
	dane_setup_file
}

setup() {
	dane_setup
}

# The answer every test here gets: validated (AD set), and a record for
# a key that is not served, so that trusting the AD bit means refusing.
mismatch() {
	answer "3 1 1 $(spki "$PKI/next.pem")"
}

@test "an AD bit from a resolver off loopback, without options trust-ad, is not trusted: a mismatch only warns and the deploy goes on" {
	mapfile -t fake < <(mismatch)
	run dns_at 192.0.2.53 -- "${fake[@]}" -- --cert "$T/ssl/cert.pem" \
		--key "$T/ssl/key.pem" --chain "$T/ssl/chain.pem" deploy
	assert_success
	assert_line --regexp "^postfix-tls-setup: warning: $QNAME: .*not DNSSEC-validated"
	assert_output --partial "wrote $BUNDLE"
	assert_file_exists "$BUNDLE"
}

@test "an AD bit from an IPv6 resolver off loopback, without options trust-ad, is not trusted either" {
	# tests/fakedns.py speaks IPv4 only: run it with AF_INET meaning
	# AF_INET6 (dns_at takes $DNS_SERVER under tests/), once the address
	# has passed duplicate address detection.
	cat >"$BATS_FILE_TMPDIR/fakedns6.py" <<-'PY'
	import os, runpy, socket, sys, time
	addr = sys.argv[sys.argv.index("--addr") + 1]
	for _ in range(100):
	    try:
	        socket.socket(socket.AF_INET6, socket.SOCK_DGRAM).bind((addr, 0))
	        break
	    except OSError:
	        time.sleep(0.05)
	socket.AF_INET = socket.AF_INET6
	runpy.run_path(os.environ["TOP"] + "/tests/fakedns.py", run_name="__main__")
	PY
	mapfile -t fake < <(mismatch)
	DNS_SERVER=$(realpath --relative-to="$TOP/tests" "$BATS_FILE_TMPDIR/fakedns6.py") \
		run dns_at 2001:db8::53 -- "${fake[@]}" -- --cert "$T/ssl/cert.pem" \
		--key "$T/ssl/key.pem" --chain "$T/ssl/chain.pem" deploy
	assert_success
	assert_line --regexp "^postfix-tls-setup: warning: $QNAME: .*not DNSSEC-validated"
	assert_output --partial "wrote $BUNDLE"
}

@test "one nameserver off loopback beside a loopback one is enough to distrust the AD bit" {
	# The loopback one answers; glibc could as well have asked the other.
	mapfile -t fake < <(mismatch)
	run dns_at 127.0.0.1 "nameserver 192.0.2.53" -- "${fake[@]}" -- \
		--cert "$T/ssl/cert.pem" --key "$T/ssl/key.pem" \
		--chain "$T/ssl/chain.pem" check
	assert_success
	assert_line --regexp "^postfix-tls-setup: warning: $QNAME: .*not DNSSEC-validated"
}

@test "with options trust-ad the same resolver's AD bit is trusted: refused" {
	mapfile -t fake < <(mismatch)
	refuses 65 "$QNAME: no TLSA record there matches the ECDSA chain of main.cf, so DANE senders would defer all mail" \
		dns_at 192.0.2.53 "options edns0 trust-ad" -- "${fake[@]}" -- \
		--cert "$T/ssl/cert.pem" --key "$T/ssl/key.pem" \
		--chain "$T/ssl/chain.pem" deploy
	refute_output --partial "not DNSSEC-validated"
}

@test "a resolver on loopback (127.0.0.53) is this host's own: its AD bit is trusted, refused" {
	mapfile -t fake < <(mismatch)
	refuses 65 "$QNAME: no TLSA record there matches the ECDSA chain of main.cf, so DANE senders would defer all mail" \
		dns_at 127.0.0.53 -- "${fake[@]}" -- --cert "$T/ssl/cert.pem" \
		--key "$T/ssl/key.pem" --chain "$T/ssl/chain.pem" deploy
	refute_output --partial "not DNSSEC-validated"
}

# unprivileged_alone OUT: what dns_child saw of the child (OUT.status,
# OUT.fd) is a process of nobody's, with no group 0, no supplementary
# groups, no capabilities, and no descriptor but /dev/null, its one
# output (a memory file the helper reads when it ends) and the resolver's
# sockets.
unprivileged_alone() {
	local nobody ids
	nobody=$(id -u nobody)
	ids=$(sed -n 's/^Uid:[[:space:]]*//p' "$1.status" | tr -s '\t ' '  ')
	assert_equal "$ids" "$nobody $nobody $nobody $nobody"
	ids=$(sed -n 's/^Gid:[[:space:]]*//p' "$1.status" | tr -s '\t ' '  ')
	[[ " $ids " != *" 0 "* ]] || fail "the child keeps group 0: Gid $ids"
	assert_equal "$(sed -n 's/^Groups:[[:space:]]*//p' "$1.status")" ""
	assert_equal "$(sed -n 's/^CapEff:[[:space:]]*//p' "$1.status")" 0000000000000000
	run grep -Ev '^[0-9]+ (/dev/null|/memfd:child-stdout \(deleted\)|socket:\[[0-9]+\])$' "$1.fd"
	assert_output ""
	assert_equal "$(grep -c ' /memfd:child-stdout' "$1.fd")" 1
}

@test "the DNS lookup's child runs as nobody, without groups or capabilities, and holds only its output" {
	[ "${PTS_SANITIZER:-}" != valgrind ] || skip "valgrind keeps descriptors of its own in every process; runs in the plain and asan passes"
	good_bundle
	# A resolver that never answers keeps the child alive for a look.
	echo POSTFIX_TLS_DANE_TIMEOUT=3 >"$T/conf"
	run dns_child "$T/child" check
	assert_success
	[ -s "$T/child.status" ] || fail "no DNS child seen; the helper said: $(cat "$T/child.log")"
	unprivileged_alone "$T/child"
}
