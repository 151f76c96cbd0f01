#!/usr/bin/env bats
# Issue 13: the DANE guard and the tlsa command, against a stand-in
# resolver (tests/fakedns.py) in a private mount and network namespace:
# the answers a real validating resolver gives (records, the AD bit,
# NXDOMAIN, SERVFAIL) and the ones no real one gives (silence, loops,
# damaged records).  tests/world/dane-guard.bats does the same against
# real nsd and unbound with a zone signed at test time.

load ../helpers
load ../dane-lib

setup_file() {
	dane_setup_file
}

setup() {
	dane_setup
}

@test "tlsa prints the 3 1 1 of the leaf and the 2 1 1 of its issuer, as openssl computes them" {
	run dns -- --cert "$T/ssl/cert.pem" --key "$T/ssl/key.pem" \
		--chain "$T/ssl/chain.pem" tlsa
	assert_success
	assert_output "$QNAME. IN TLSA 3 1 1 $(spki "$PKI/$HOST.pem")
$QNAME. IN TLSA 2 1 1 $(spki "$PKI/inter2.pem")"
}

@test "tlsa: each MX name, each key algorithm, each record once" {
	good_bundle
	cat "$PKI/rsa.pem" "$PKI/chain.pem" >"$T/ssl/rsa-chain.pem"
	cp "$PKI/rsa.key" "$T/ssl/rsa.key"
	chmod 600 "$T/ssl/rsa.key"
	write_maincf "smtpd_tls_eccert_file = $T/ssl/rsa-chain.pem" \
		"smtpd_tls_eckey_file = $T/ssl/rsa.key"
	echo 'POSTFIX_TLS_DANE_NAMES="MX1.example.org. mx2.example.org mx1.example.org"' >"$T/conf"
	run dns -- tlsa
	assert_success
	local r
	for r in mx1 mx2; do
		assert_line "_25._tcp.$r.example.org. IN TLSA 3 1 1 $(spki "$PKI/$HOST.pem")"
		assert_line "_25._tcp.$r.example.org. IN TLSA 3 1 1 $(spki "$PKI/rsa.pem")"
		assert_line "_25._tcp.$r.example.org. IN TLSA 2 1 1 $(spki "$PKI/inter2.pem")"
	done
	assert_equal "${#lines[@]}" 6
}

@test "a matching 3 1 1 record, validated: deployed" {
	mapfile -t fake < <(answer "$(leaf_record)")
	run deploy_dns "${fake[@]}" -- deploy
	assert_success
	assert_output --partial "wrote $BUNDLE"
	refute_output --partial "TLSA"
}

@test "a new key with no record for it, validated: refused, the old bundle kept, the record to publish printed" {
	good_bundle
	use_leaf next	# the renewal brought a new key
	mapfile -t fake < <(answer "$(leaf_record)")
	refuses 65 "$QNAME: no TLSA record there matches the ECDSA chain of main.cf, so DANE senders would defer all mail to $HOST; it is not deployed (publish first: $QNAME. IN TLSA 3 1 1 $(spki "$PKI/next.pem"), or for its issuer $QNAME. IN TLSA 2 1 1 $(spki "$PKI/inter2.pem"); wait for the old records' TTL, then deploy again)" \
		deploy_dns "${fake[@]}" -- deploy
	assert_equal "$(subjects "$BUNDLE" | head -1)" "$HOST"
	cmp <(openssl x509 -in "$BUNDLE" -noout -pubkey) \
		<(openssl x509 -in "$PKI/$HOST.pem" -noout -pubkey)
	# check says the same, as what deploy would refuse.
	mapfile -t fake < <(answer "$(leaf_record)")
	refuses 65 "deploy refuses it (publish first: $QNAME. IN TLSA 3 1 1 $(spki "$PKI/next.pem")" \
		deploy_dns "${fake[@]}" -- check
}

@test "a matching 2 1 1 for the issuer lets a new leaf key through" {
	good_bundle
	use_leaf next
	mapfile -t fake < <(answer "2 1 1 $(spki "$PKI/inter2.pem")")
	run deploy_dns "${fake[@]}" -- deploy
	assert_success
	assert_output --partial "wrote $BUNDLE"
	cmp <(openssl x509 -in "$BUNDLE" -noout -pubkey) \
		<(openssl x509 -in "$PKI/next.pem" -noout -pubkey)
}

@test "a 2 1 1 for a CA that is not served (the root) matches nothing" {
	mapfile -t fake < <(answer "2 1 1 $(spki "$PKI/root.pem")")
	refuses 65 "no TLSA record there matches the ECDSA chain of main.cf" \
		deploy_dns "${fake[@]}" -- deploy
}

@test "every selector and matching type: 3 0 1, 3 1 2, 3 1 0, 2 0 2, 2 1 0 match" {
	local r
	for r in "3 0 1 $(spki "$PKI/$HOST.pem" 0 1)" "3 1 2 $(spki "$PKI/$HOST.pem" 1 2)" \
		"3 1 0 $(spki "$PKI/$HOST.pem" 1 0)" "2 0 2 $(spki "$PKI/inter2.pem" 0 2)" \
		"2 1 0 $(spki "$PKI/inter2.pem" 1 0)"; do
		mapfile -t fake < <(answer "$r")
		run deploy_dns "${fake[@]}" -- check
		assert_success
		refute_output --partial "no TLSA record there matches"
	done
	# The same data under a wrong selector or usage does not: the leaf's
	# as a 2 x x, the issuer's as a 3 x x.
	for r in "3 0 1 $(spki "$PKI/$HOST.pem" 1 1)" \
		"2 1 1 $(spki "$PKI/$HOST.pem" 1 1)" "3 1 1 $(spki "$PKI/inter2.pem" 1 1)"; do
		mapfile -t fake < <(answer "$r")
		refuses 65 "no TLSA record there matches" deploy_dns "${fake[@]}" -- check
	done
	# A SHA-256 digest as a SHA-512 one (3 1 2) is malformed: OpenSSL's
	# DANE, in every Postfix sender, drops it, and a set of nothing else
	# is no DANE to them (RFC 7672 2.2: they still deliver, over TLS).
	mapfile -t fake < <(answer "3 1 2 $(spki "$PKI/$HOST.pem" 1 1)")
	run deploy_dns "${fake[@]}" -- check
	assert_success
	assert_output --partial "none of its 1 TLSA record is one SMTP senders use"
}

@test "records senders never use (usages 0 and 1, unknown values) guard nothing, and say so" {
	mapfile -t fake < <(answer "1 1 1 $(spki "$PKI/$HOST.pem")" "0 1 1 $(spki "$PKI/inter2.pem")" "3 2 1 00" "3 1 9 00")
	run deploy_dns "${fake[@]}" -- deploy
	assert_success
	assert_output --partial "warning: $QNAME: none of its 4 TLSA records is one SMTP senders use (RFC 7672: usage 2 or 3, selector 0 or 1, matching type 0, 1 or 2), so DANE is not guarded for $HOST"
	assert_file_exists "$BUNDLE"
}

@test "records that are not DNSSEC-validated: a mismatch only warns (auto), and enforce refuses it" {
	run deploy_dns --mode answer --tlsa "$QNAME 3 1 1 $(spki "$PKI/next.pem")" -- deploy
	assert_success
	assert_output --partial "warning: $QNAME: no TLSA record there matches the ECDSA chain of main.cf; the answer is not DNSSEC-validated, so this is only a warning, but if the zone is signed and this host's resolver does not validate, DANE senders defer mail to $HOST (publish: $QNAME. IN TLSA 3 1 1 $(spki "$PKI/$HOST.pem")"
	assert_output --partial "wrote $BUNDLE"
	rm "$BUNDLE"
	echo POSTFIX_TLS_DANE=enforce >"$T/conf"
	refuses 65 "no TLSA record there matches the ECDSA chain of main.cf, so DANE senders would defer all mail" \
		deploy_dns --mode answer --tlsa "$QNAME 3 1 1 $(spki "$PKI/next.pem")" -- deploy
	assert_file_not_exists "$BUNDLE"
}

@test "POSTFIX_TLS_DANE=warn: a validated mismatch is a warning; off: no lookup at all" {
	echo POSTFIX_TLS_DANE=warn >"$T/conf"
	mapfile -t fake < <(answer "3 1 1 $(spki "$PKI/next.pem")")
	run deploy_dns "${fake[@]}" -- deploy
	assert_success
	assert_output --partial "warning: $QNAME: no TLSA record there matches the ECDSA chain of main.cf, so DANE senders defer mail to $HOST (publish: $QNAME. IN TLSA 3 1 1 $(spki "$PKI/$HOST.pem")"
	assert_file_exists "$BUNDLE"
	rm "$BUNDLE"
	# off: a resolver that never answers costs nothing and says nothing.
	printf '%s\n' POSTFIX_TLS_DANE=off POSTFIX_TLS_DANE_TIMEOUT=1 >"$T/conf"
	run deploy_dns --mode silent -- deploy
	assert_success
	assert_output "wrote $BUNDLE (3 certificates)"
}

@test "no TLSA records (NXDOMAIN): nothing to guard, nothing said but with -v" {
	run deploy_dns --mode nxdomain -- deploy
	assert_success
	assert_output "wrote $BUNDLE (3 certificates)"
	run deploy_dns --mode nxdomain -- -v check
	assert_output --partial "$QNAME: no TLSA records: nothing for DANE to guard"
}

@test "DNS trouble is a warning, or a refusal (exit 75) with POSTFIX_TLS_DANE_DNS=refuse" {
	echo POSTFIX_TLS_DANE_TIMEOUT=1 >"$T/conf"
	run deploy_dns --mode servfail -- deploy
	assert_success
	assert_output --partial "warning: $QNAME: the TLSA records cannot be looked up: the resolver answered SERVFAIL (the resolver could not validate or reach the zone); the chain served to $HOST was not checked against DANE (fix the resolver of /etc/resolv.conf)"
	assert_file_exists "$BUNDLE"
	rm "$BUNDLE"
	# Nothing listens: refused at once.
	run deploy_dns -- deploy
	assert_success
	assert_output --partial "warning: $QNAME: the TLSA records cannot be looked up: the resolver cannot be reached: Connection refused;"
	rm "$BUNDLE"
	printf '%s\n' POSTFIX_TLS_DANE_TIMEOUT=1 POSTFIX_TLS_DANE_DNS=refuse >"$T/conf"
	refuses 75 "$QNAME: the TLSA records cannot be looked up: the resolver answered SERVFAIL (the resolver could not validate or reach the zone); refused, as POSTFIX_TLS_DANE_DNS=refuse asks (fix the resolver of /etc/resolv.conf, or set POSTFIX_TLS_DANE_DNS=warn)" \
		deploy_dns --mode servfail -- deploy
	assert_file_not_exists "$BUNDLE"
}

@test "a resolver that never answers, or hangs over TCP after a truncated answer, is given up at the deadline" {
	printf '%s\n' POSTFIX_TLS_DANE_TIMEOUT=1 POSTFIX_TLS_DANE_DNS=refuse >"$T/conf"
	good_bundle 2>/dev/null || true
	for mode in silent tc; do
		refuses 75 "$QNAME: the TLSA records cannot be looked up: no answer" \
			deploy_dns --mode "$mode" -- deploy
	done
}

@test "damaged answers are DNS trouble, never a crash: pointer loops, short records, CNAME loops, wrong IDs, garbage" {
	printf '%s\n' POSTFIX_TLS_DANE_TIMEOUT=1 POSTFIX_TLS_DANE_DNS=refuse >"$T/conf"
	local mode
	for mode in ptrloop shortrd; do
		refuses 75 "$QNAME: the TLSA records cannot be looked up: the resolver's answer is damaged" \
			deploy_dns --mode "$mode" --ad -- deploy
	done
	refuses 75 "$QNAME: the TLSA records cannot be looked up: a loop of CNAMEs from $QNAME" \
		deploy_dns --mode cnameloop --ad -- deploy
	# glibc drops a reply under another ID and waits on.
	refuses 75 "$QNAME: the TLSA records cannot be looked up: no answer" \
		deploy_dns --mode wrongid --tlsa "$QNAME 3 1 1 $(spki "$PKI/$HOST.pem")" --ad -- deploy
	# Random bytes: whatever glibc makes of them, trouble, never records.
	refuses 75 "$QNAME: the TLSA records cannot be looked up: " \
		deploy_dns --mode garbage --ad -- deploy
}

@test "check warns ahead of a rollover when only the current key's own record matches" {
	mapfile -t fake < <(answer "$(leaf_record)")
	run deploy_dns "${fake[@]}" -- check
	assert_success
	assert_output --partial "warning: $QNAME: only the served key's own 3 x x record matches the ECDSA chain of main.cf: a renewal with a new key would break DANE mail to $HOST (publish the next key's record beside it, or one for the issuing CA: $QNAME. IN TLSA 2 1 1 $(spki "$PKI/inter2.pem"), or renew with the same key, e.g. certbot --reuse-key)"
	# deploy (the boot path) does not say it.
	mapfile -t fake < <(answer "$(leaf_record)")
	run deploy_dns "${fake[@]}" -- deploy
	assert_success
	refute_output --partial "rollover"
	refute_output --partial "only the served key"
	# A stale 2 1 1 (a CA that is not served) does not make it safe.
	mapfile -t fake < <(answer "$(leaf_record)" "2 1 1 $(spki "$PKI/root.pem")")
	run deploy_dns "${fake[@]}" -- check
	assert_output --partial "only the served key's own 3 x x record matches"
	# The next key's record published ahead, or a matching 2 1 1: safe.
	for extra in "3 1 1 $(spki "$PKI/next.pem")" "2 1 1 $(spki "$PKI/inter2.pem")"; do
		mapfile -t fake < <(answer "$(leaf_record)" "$extra")
		run deploy_dns "${fake[@]}" -- check
		assert_success
		refute_output --partial "only the served key"
	done
}

@test "check --json carries each identity's DANE verdict" {
	json_dane() {
		python3 -c 'import json,sys; d=json.load(sys.stdin); print(json.dumps([i["dane"] for i in d["identities"]]))'
	}
	mapfile -t fake < <(answer "$(leaf_record)" "3 1 1 $(spki "$PKI/next.pem")")
	run deploy_dns "${fake[@]}" -- --json check
	assert_success
	assert_equal "$(json_dane <<<"$output")" '[{"verdict": "match", "validated": true}]'
	mapfile -t fake < <(answer "$(leaf_record)")
	run deploy_dns "${fake[@]}" -- --json check
	assert_equal "$(json_dane <<<"$output")" '[{"verdict": "match-current-key-only", "validated": true}]'
	mapfile -t fake < <(answer "3 1 1 $(spki "$PKI/next.pem")")
	run deploy_dns "${fake[@]}" -- --json check
	assert_failure 65
	assert_equal "$(json_dane <<<"$output")" '[{"verdict": "mismatch", "validated": true}]'
	run deploy_dns --mode answer --tlsa "$QNAME 3 1 1 $(spki "$PKI/next.pem")" -- --json check
	assert_equal "$(json_dane <<<"$output")" '[{"verdict": "mismatch", "validated": false}]'
	echo POSTFIX_TLS_DANE_TIMEOUT=1 >"$T/conf"
	run deploy_dns --mode servfail -- --json check
	assert_success
	assert_equal "$(json_dane <<<"$output")" '[{"verdict": "dns-trouble", "validated": false}]'
	run deploy_dns --mode nxdomain -- --json check
	assert_equal "$(json_dane <<<"$output")" '[{"verdict": "no-records", "validated": false}]'
	echo POSTFIX_TLS_DANE=off >"$T/conf"
	run deploy_dns --mode nxdomain -- --json check
	assert_equal "$(json_dane <<<"$output")" '[null]'
}

@test "POSTFIX_TLS_DANE_NAMES: every MX name is guarded, the one that does not match is named" {
	echo 'POSTFIX_TLS_DANE_NAMES="mx1.example.org mx2.example.org"' >"$T/conf"
	refuses 65 "_25._tcp.mx2.example.org: no TLSA record there matches the ECDSA chain of main.cf, so DANE senders would defer all mail to mx2.example.org" \
		deploy_dns --mode answer --ad --tlsa "_25._tcp.mx1.example.org $(leaf_record)" \
		--tlsa "_25._tcp.mx2.example.org 3 1 1 $(spki "$PKI/next.pem")" -- deploy
	refute_output --partial "_25._tcp.mx1.example.org: no TLSA"
}

@test "only port 25 is guarded: a submission service's own chain is not" {
	good_bundle
	leaf_files "$HOST" next "$T/ssl" sub	# a mismatched key: must not matter
	leaf_files next next "$T/ssl" sub
	submission_service "$T/ssl/sub.pem" "$T/ssl/sub.key"
	mapfile -t fake < <(answer "$(leaf_record)" "2 1 1 $(spki "$PKI/inter2.pem")")
	run deploy_dns "${fake[@]}" -- --json check
	assert_success
	python3 -c 'import json,sys
d = {i["name"]: i["dane"] for i in json.load(sys.stdin)["identities"]}
assert d["main.cf"] == {"verdict": "match", "validated": True}, d
assert d["submission/inet (master.cf)"] is None, d' <<<"$output"
}

@test "postscreen on port 25: the smtpd pass service behind it is what DANE senders get, and it is guarded" {
	good_bundle
	# No inet smtpd on 25 at all: postscreen hands connections over.
	cat >"$T/postfix/master.cf" <<-CF
	smtp       inet  n       -       n       -       1       postscreen
	smtpd      pass  -       -       n       -       -       smtpd
	CF
	settle_maincf
	mapfile -t fake < <(answer "3 1 1 $(spki "$PKI/next.pem")")
	refuses 65 "$QNAME: no TLSA record there matches the ECDSA chain of main.cf" \
		deploy_dns "${fake[@]}" -- check
	# A pass service with a chain of its own: that chain is what DANE
	# senders get once postscreen hands them over, not main.cf's (which
	# tlsproxy serves, and which the record matches).
	cat "$PKI/next.pem" "$PKI/chain.pem" >"$T/ssl/pass.pem"
	cp "$PKI/next.key" "$T/ssl/pass.key"
	chmod 0600 "$T/ssl/pass.pem" "$T/ssl/pass.key"
	sed -i "/^smtpd /a\\  -o smtpd_tls_chain_files=$T/ssl/pass.key,$T/ssl/pass.pem" "$T/postfix/master.cf"
	settle_maincf
	mapfile -t fake < <(answer "$(leaf_record)")
	refuses 65 "$QNAME: no TLSA record there matches the ECDSA chain of smtpd/pass (master.cf)" \
		deploy_dns "${fake[@]}" -- check
	sed -i '/smtpd_tls_chain_files/d' "$T/postfix/master.cf"
	# postscreen on another port: port 25 is nobody's, nothing guarded.
	sed -i 's/^smtp /2525 /' "$T/postfix/master.cf"
	settle_maincf
	mapfile -t fake < <(answer "3 1 1 $(spki "$PKI/next.pem")")
	run deploy_dns "${fake[@]}" -- check
	assert_success
	refute_output --partial "TLSA"
}

@test "bad DANE settings are refused, naming the line" {
	local line
	for line in 'POSTFIX_TLS_DANE=maybe' 'POSTFIX_TLS_DANE_DNS=ignore' \
		'POSTFIX_TLS_DANE_TIMEOUT=0' 'POSTFIX_TLS_DANE_TIMEOUT=31' \
		'POSTFIX_TLS_DANE_NAMES="mx;rm"'; do
		echo "$line" >"$T/conf"
		run helper check
		assert_failure 78
		assert_output --partial "$T/conf:1: ${line%%=*} must be"
	done
}
