#!/usr/bin/env bats
# Issue 13's test DNS, proved before the DANE tests lean on it: in a
# private world, tests/dns-lib.bash runs real nsd (example.org signed at
# run time, example.net unsigned) behind a real validating unbound on
# 127.0.0.1, and tests/fakedns.py gives the answers no real server gives.
# Every world starts with fakedns.py answering NXDOMAIN on 127.0.0.53
# (tests/world.sh), so the helper's default lookup is quick and quiet.

load ../helpers

setup_file() {
	export PKI=$BATS_FILE_TMPDIR/pki
	mkdir -p "$PKI"
	pki_cert root self ca
	pki_cert "$HOST" root server
}

setup() {
	# shellcheck disable=SC2034 # world() in helpers.bash uses it
	T=$BATS_TEST_TMPDIR
}

# In the world: the library, and ms COMMAND... (say how long it took, in
# milliseconds, after its own output and status).
LIB='
. "$TOP/tests/dns-lib.bash"
ms() {
	local t0 rc
	t0=$(date +%s%N)
	"$@"
	rc=$?
	say "rc=$rc ms=$((($(date +%s%N) - t0) / 1000000))"
}
'
H1=1111111111111111111111111111111111111111111111111111111111111111
H2=2222222222222222222222222222222222222222222222222222222222222222
H3=3333333333333333333333333333333333333333333333333333333333333333

@test "dns_spki_hash is the SHA-256 of the leaf's DER SubjectPublicKeyInfo" {
	. "$TOP/tests/dns-lib.bash"
	run dns_spki_hash "$PKI/$HOST.pem"
	assert_success
	# The PEM public key's body is that DER.
	assert_output "$(openssl x509 -in "$PKI/$HOST.pem" -noout -pubkey |
		grep -v -- ----- | base64 -d | sha256sum | cut -d' ' -f1)"
	assert_output --regexp '^[0-9a-f]{64}$'
}

@test "every world answers NXDOMAIN at once from 127.0.0.53, named alone in resolv.conf" {
	need_root
	run world <<-SCENARIO
	say "resolv: \$(tr '\n' '|' </etc/resolv.conf)"
	t0=\$(date +%s%N)
	dig +time=2 +tries=1 _25._tcp.mail.example.org TLSA >/run/dig.out
	say "dig=\$? ms=\$(((\$(date +%s%N) - t0) / 1000000))"
	grep -E 'status:|SERVER:' /run/dig.out
	SCENARIO
	assert_success
	assert_output --partial "@@ resolv: nameserver 127.0.0.53|"
	assert_output --partial "@@ dig=0 "
	assert_output --partial "status: NXDOMAIN"
	assert_output --partial "SERVER: 127.0.0.53#53(127.0.0.53) (UDP)"
	[[ $output =~ "@@ dig=0 ms="([0-9]+) ]] && [ "${BASH_REMATCH[1]}" -lt 1000 ] ||
		fail "the NXDOMAIN took too long: $output"
}

@test "dns_up is quick, points resolv.conf at unbound alone, and signed example.org answers with AD while example.net does not" {
	need_root
	run world <<-SCENARIO
	$LIB
	ms dns_up
	say "resolv: \$(tr '\n' '|' </etc/resolv.conf)"
	dns_tlsa mail.example.org "3 1 1 $H1"
	dns_tlsa mail.example.net "3 1 1 $H2"
	say org; dns_ask _25._tcp.mail.example.org TLSA
	say net; dns_ask _25._tcp.mail.example.net TLSA
	say a; dns_ask mail.example.org A
	say none; dns_ask _25._tcp.nothing.example.org TLSA
	say default; dig +short +nosplit _25._tcp.mail.example.org TLSA
	dns_stop
	SCENARIO
	assert_success
	[[ $output =~ "@@ rc=0 ms="([0-9]+) ]] || fail "dns_up failed: $output"
	[ "${BASH_REMATCH[1]}" -lt 2000 ] || fail "dns_up took ${BASH_REMATCH[1]} ms"
	assert_output --partial "@@ resolv: nameserver 127.0.0.1|"
	assert_output --regexp "@@ org
status NOERROR
flags qr rd ra ad
ad yes
_25\._tcp\.mail\.example\.org\. 300 IN TLSA 3 1 1 ${H1}
_25\._tcp\.mail\.example\.org\. 300 IN RRSIG TLSA "
	assert_output --partial "@@ net
status NOERROR
flags qr rd ra
ad no
_25._tcp.mail.example.net. 300 IN TLSA 3 1 1 $H2
@@ a"
	assert_output --regexp "@@ a
status NOERROR
flags qr rd ra ad
ad yes
mail\.example\.org\. 300 IN A 127\.0\.0\.1"
	assert_output --partial "@@ none
status NXDOMAIN
flags qr rd ra ad
ad yes"
	assert_output --partial "@@ default
3 1 1 $H1"
}

@test "dns_tlsa replaces the records and the very next lookup sees it; without RDATA it removes them" {
	need_root
	run world <<-SCENARIO
	$LIB
	dns_up
	dns_tlsa mail.example.org "3 1 1 $H1"
	say one; dns_ask _25._tcp.mail.example.org TLSA | grep -v RRSIG
	ms dns_tlsa mail.example.org "3 1 1 $H2" "2 1 1 $H3"
	say two; dns_ask _25._tcp.mail.example.org TLSA | grep -v RRSIG | sort
	dns_tlsa mail.example.org
	say gone; dns_ask _25._tcp.mail.example.org TLSA
	say still; dns_ask mail.example.org A | grep -v RRSIG
	dns_stop
	SCENARIO
	assert_success
	assert_output --partial "@@ one
status NOERROR
flags qr rd ra ad
ad yes
_25._tcp.mail.example.org. 300 IN TLSA 3 1 1 $H1
@@"
	assert_output --partial "@@ two
_25._tcp.mail.example.org. 300 IN TLSA 2 1 1 $H3
_25._tcp.mail.example.org. 300 IN TLSA 3 1 1 $H2
ad yes
flags qr rd ra ad
status NOERROR
@@ gone
status NXDOMAIN
flags qr rd ra ad
ad yes
@@ still
status NOERROR
flags qr rd ra ad
ad yes
mail.example.org. 300 IN A 127.0.0.1"
	[[ $output =~ "@@ rc=0 ms="([0-9]+) ]] && [ "${BASH_REMATCH[1]}" -lt 1000 ] ||
		fail "a change took too long: $output"
}

@test "CNAMEs set with dns_set are followed, within the signed zone with AD and into the unsigned one without; dns_unset removes them" {
	need_root
	run world <<-SCENARIO
	$LIB
	dns_up
	dns_set mx.example.org CNAME mail.example.org.
	say host; dns_ask mx.example.org A | grep -v RRSIG
	dns_set _25._tcp.mail.example.org CNAME _25._tcp.mx.example.net.
	dns_tlsa mx.example.net "3 1 1 $H2"
	say across; dns_ask _25._tcp.mail.example.org TLSA | grep -v RRSIG
	dns_unset _25._tcp.mail.example.org CNAME
	dns_unset mx.example.org
	say unset; dns_ask _25._tcp.mail.example.org TLSA; dns_ask mx.example.org A
	dns_stop
	SCENARIO
	assert_success
	assert_output --partial "@@ host
status NOERROR
flags qr rd ra ad
ad yes
mx.example.org. 300 IN CNAME mail.example.org.
mail.example.org. 300 IN A 127.0.0.1
@@"
	assert_output --partial "@@ across
status NOERROR
flags qr rd ra
ad no
_25._tcp.mail.example.org. 300 IN CNAME _25._tcp.mx.example.net.
_25._tcp.mx.example.net. 300 IN TLSA 3 1 1 $H2
@@"
	assert_output --partial "@@ unset
status NXDOMAIN
flags qr rd ra ad
ad yes
status NXDOMAIN
flags qr rd ra ad
ad yes"
}

@test "dns_bogus makes example.org fail validation (SERVFAIL, the data there with +cd) and dns_good repairs it" {
	need_root
	run world <<-SCENARIO
	$LIB
	dns_up
	dns_tlsa mail.example.org "3 1 1 $H1"
	dns_ask _25._tcp.mail.example.org TLSA >/dev/null
	dns_bogus
	say bogus; dns_ask _25._tcp.mail.example.org TLSA
	say cd; dig @127.0.0.1 +cd +short +nosplit _25._tcp.mail.example.org TLSA
	say net; dns_ask mail.example.net A
	dns_good
	say good; dns_ask _25._tcp.mail.example.org TLSA | grep -v RRSIG
	dns_stop
	SCENARIO
	assert_success
	assert_output --partial "@@ bogus
status SERVFAIL
flags qr rd ra
ad no
@@ cd
3 1 1 $H1
@@ net
status NOERROR
flags qr rd ra
ad no
mail.example.net. 300 IN A 127.0.0.1
@@ good
status NOERROR
flags qr rd ra ad
ad yes
_25._tcp.mail.example.org. 300 IN TLSA 3 1 1 $H1"
}

@test "dns_untrusted gives example.org's answers without AD and dns_trusted brings AD back" {
	need_root
	run world <<-SCENARIO
	$LIB
	dns_up
	dns_tlsa mail.example.org "3 1 1 $H1"
	dns_untrusted
	say untrusted; dns_ask _25._tcp.mail.example.org TLSA | grep -v RRSIG
	dns_trusted
	say trusted; dns_ask _25._tcp.mail.example.org TLSA | grep -v RRSIG
	dns_stop
	SCENARIO
	assert_success
	assert_output --partial "@@ untrusted
status NOERROR
flags qr rd ra
ad no
_25._tcp.mail.example.org. 300 IN TLSA 3 1 1 $H1
@@ trusted
status NOERROR
flags qr rd ra ad
ad yes
_25._tcp.mail.example.org. 300 IN TLSA 3 1 1 $H1"
}

@test "dns_down refuse fails a lookup at once, dns_down drop lets it time out on UDP and TCP, dns_resume answers again" {
	need_root
	run world <<-SCENARIO
	$LIB
	dns_up
	dns_down refuse
	say refuse-udp; ms dns_ask mail.example.org A
	say refuse-tcp; ms dig @127.0.0.1 +tcp +time=2 +tries=1 mail.example.org A
	dns_down drop
	say drop-udp; DNS_TIME=1 ms dns_ask mail.example.org A
	say drop-tcp; ms dig @127.0.0.1 +tcp +time=1 +tries=1 mail.example.org A
	say drop-raw; dns_raw 127.0.0.1 mail.example.org A
	dns_resume
	say resume; dns_ask mail.example.org A | grep -v RRSIG
	dns_stop
	SCENARIO
	assert_success
	assert_output --regexp "@@ refuse-udp
;; communications error to 127\.0\.0\.1#53: connection refused
.*@@ rc=9 ms=[0-9]{1,3}
@@ refuse-tcp
;; Connection to 127\.0\.0\.1#53\(127\.0\.0\.1\) for mail\.example\.org failed: connection refused\.
.*@@ rc=9 ms=[0-9]{1,3}
@@ drop-udp
;; communications error to 127\.0\.0\.1#53: timed out
.*@@ rc=9 ms=1[0-9]{3}
@@ drop-tcp
;; communications error to 127\.0\.0\.1#53: timed out
.*@@ rc=9 ms=1[0-9]{3}
@@ drop-raw
no reply \(timed out\)
@@ resume
status NOERROR
flags qr rd ra ad
ad yes
mail\.example\.org\. 300 IN A 127\.0\.0\.1"
}

# fakedns.py on 127.0.0.9 in MODE (more options after it), until killed.
FAKE='
fake() {
	rm -f /run/fake.pid
	python3 "$TOP/tests/fakedns.py" --addr 127.0.0.9 --pidfile /run/fake.pid --mode "$@" &
	fake=$!
	while ! [ -s /run/fake.pid ]; do sleep 0.01; done
}
unfake() {
	kill "$fake"
	wait "$fake"
	say "exit=$? pidfile=$(ls /run/fake.pid 2>&1 >/dev/null | wc -l)"
}
ask() {
	dig @127.0.0.9 +time=1 +tries=1 +nosplit +nocmd +noall +comments +answer "$@" 2>&1 |
		tr -s "\t " "  " | grep -Ev "^;; (Got answer|OPT PSEUDOSECTION|QUESTION SECTION|ANSWER SECTION|Query time|SERVER|WHEN|MSG SIZE)|^; EDNS|^\$"
}
'

@test "fakedns.py answers its TLSA records with or without AD, NXDOMAIN, SERVFAIL, a CNAME loop, TC, or nothing, as asked, and ends on SIGTERM" {
	need_root
	run world <<-SCENARIO
	$LIB
	$FAKE
	fake answer --ad --tlsa "_25._tcp.mail.example.org 3 1 1 $H1" --tlsa "_25._tcp.mail.example.org. 2 1 1 $H2"
	say answer; ask _25._tcp.mail.example.org TLSA
	say other-type; ask _25._tcp.mail.example.org A
	say other-name; ask _25._tcp.x.example.org TLSA
	say tcp; ask +tcp _25._tcp.mail.example.org TLSA
	unfake
	fake answer --tlsa "_25._tcp.mail.example.org 3 1 1 $H1"
	say no-ad; ask _25._tcp.mail.example.org TLSA
	unfake
	for m in nxdomain servfail cnameloop; do
		fake \$m
		say \$m; ask _25._tcp.mail.example.org TLSA; ask +tcp _25._tcp.mail.example.org TLSA
		unfake
	done
	fake tc
	say tc; dns_raw 127.0.0.9 _25._tcp.mail.example.org TLSA | grep -v hex
	say tc-tcp; dns_raw 127.0.0.9 _25._tcp.mail.example.org TLSA tcp
	unfake
	fake silent
	say silent; dns_raw 127.0.0.9 _25._tcp.mail.example.org TLSA
	say silent-tcp; dns_raw 127.0.0.9 _25._tcp.mail.example.org TLSA tcp
	unfake
	SCENARIO
	assert_success
	assert_output --partial "@@ answer
;; ->>HEADER<<- opcode: QUERY, status: NOERROR"
	assert_output --partial ";; flags: qr aa rd ra ad; QUERY: 1, ANSWER: 2,"
	assert_output --partial "_25._tcp.mail.example.org. 300 IN TLSA 3 1 1 $H1
_25._tcp.mail.example.org. 300 IN TLSA 2 1 1 $H2
@@ other-type"
	assert_output --regexp "@@ other-type
;; ->>HEADER<<- opcode: QUERY, status: NOERROR, id: [0-9]+
;; flags: qr aa rd ra ad; QUERY: 1, ANSWER: 0,"
	assert_output --regexp "@@ other-name
;; ->>HEADER<<- opcode: QUERY, status: NXDOMAIN"
	assert_output --regexp "@@ tcp
;; ->>HEADER<<- opcode: QUERY, status: NOERROR, id: [0-9]+
;; flags: qr aa rd ra ad; QUERY: 1, ANSWER: 2,"
	assert_output --regexp "@@ no-ad
;; ->>HEADER<<- opcode: QUERY, status: NOERROR, id: [0-9]+
;; flags: qr aa rd ra; QUERY: 1, ANSWER: 1,"
	assert_output --regexp "@@ nxdomain
;; ->>HEADER<<- opcode: QUERY, status: NXDOMAIN, id: [0-9]+
;; flags: qr aa rd ra; QUERY: 1, ANSWER: 0, AUTHORITY: 0, ADDITIONAL: 1
;; ->>HEADER<<- opcode: QUERY, status: NXDOMAIN"
	assert_output --regexp "@@ servfail
;; ->>HEADER<<- opcode: QUERY, status: SERVFAIL, id: [0-9]+
;; flags: qr aa rd ra; QUERY: 1, ANSWER: 0, AUTHORITY: 0, ADDITIONAL: 1
;; ->>HEADER<<- opcode: QUERY, status: SERVFAIL"
	assert_output --partial "_25._tcp.mail.example.org. 300 IN CNAME _25._tcp.mail.example.org.
;; ->>HEADER<<- opcode: QUERY, status: NOERROR"
	assert_output --partial "@@ tc
bytes 54
id same
flags qr aa tc rd ra
rcode 0
counts 1 0 0 1
@@ tc-tcp
no reply (timed out)"
	assert_output --partial "@@ silent
no reply (timed out)
@@ silent-tcp
no reply (timed out)"
	# Every server ended on SIGTERM (status 0) and took its pidfile.
	[ "$(grep -c '^@@ exit=0 pidfile=1$' <<<"$output")" -eq 7 ] ||
		fail "a fakedns.py did not end cleanly: $output"
}

@test "fakedns.py's malformed answers are what the parser tests need: a self-pointer, an RDLENGTH past the end, another ID, random bytes" {
	need_root
	run world <<-SCENARIO
	$LIB
	$FAKE
	for m in ptrloop shortrd wrongid; do
		fake \$m --tlsa "_25._tcp.mail.example.org 3 1 1 $H1"
		say \$m; dns_raw 127.0.0.9 _25._tcp.mail.example.org TLSA
		say \$m-tcp; dns_raw 127.0.0.9 _25._tcp.mail.example.org TLSA tcp | grep -v hex
		unfake
	done
	fake garbage
	say garbage; dns_raw 127.0.0.9 _25._tcp.mail.example.org TLSA | grep hex
	dns_raw 127.0.0.9 _25._tcp.mail.example.org TLSA | grep hex
	dns_raw 127.0.0.9 _25._tcp.mail.example.org TLSA tcp | grep hex
	unfake
	SCENARIO
	assert_success
	# The question _25._tcp.mail.example.org TLSA IN ends at byte 43; the
	# answer's owner there is 0xc02b, a pointer to byte 43.
	n=035f3235045f746370046d61696c076578616d706c65036f726700 qs=${n}00340001
	assert_output --regexp "@@ ptrloop
bytes 90
id same
flags qr aa rd ra
rcode 0
counts 1 1 0 0
hex [0-9a-f]{4}85800001000100000000${qs}c02b003400010000012c00230301010{64}
@@ ptrloop-tcp
bytes 90
id same"
	# The record claims 75 bytes of RDATA (0x004b); 35 are there.
	assert_output --regexp "@@ shortrd
bytes 115
id same
flags qr aa rd ra
rcode 0
counts 1 1 0 0
hex [0-9a-f]{4}85800001000100000000${qs}${n}003400010000012c004b0301010{64}
@@ shortrd-tcp
bytes 115
id same"
	assert_output --regexp "@@ wrongid
bytes 101
id other
flags qr aa rd ra
rcode 0
counts 1 1 0 1
hex [0-9a-f]{4}85800001000100000001${qs}c00c003400010000012c0023030101${H1}00002904d0000080000000
@@ wrongid-tcp
bytes 101
id other"
	[[ $output =~ "@@ garbage"$'\n'"hex "([0-9a-f]+)$'\n'"hex "([0-9a-f]+)$'\n'"hex "([0-9a-f]+) ]] ||
		fail "no garbage: $output"
	[ "${BASH_REMATCH[1]}" != "${BASH_REMATCH[2]}" ] || fail "the same bytes twice: $output"
}
