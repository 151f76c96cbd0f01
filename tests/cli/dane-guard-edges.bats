#!/usr/bin/env bats
# Issue 13, the edges a review probed: postscreen, SNI across listeners,
# full trust anchors, odd listeners and names, hostile resolvers (tests/hostiledns.py).
# Helpers in tests/dane-lib.bash.

load ../helpers
load ../dane-lib

setup_file() {
	dane_setup_file
}

setup() {
	dane_setup
}

@test "postscreen on port 25: the smtpd pass service's chain is guarded" {
	write_mastercf_ps() {
		{
			echo "smtp      inet  n       -       n       -       1       postscreen"
			echo "smtpd     pass  -       -       n       -       -       smtpd"
			echo "dnsblog   unix  -       -       n       -       0       dnsblog"
			echo "tlsproxy  unix  -       -       n       -       0       tlsproxy"
		} >"$T/postfix/master.cf"
	}
	write_mastercf_ps
	mapfile -t fake < <(answer "3 1 1 $(spki "$PKI/next.pem")")
	run deploy_dns "${fake[@]}" -- check
	echo "$output"
	assert_failure 65
	assert_output --partial "no TLSA record there matches"
}

@test "postscreen on port 25: tlsproxy's own chain (tlsproxy_tls_*), which answers postscreen's STARTTLS, is guarded beside smtpd's" {
	{
		echo "smtp      inet  n       -       n       -       1       postscreen"
		echo "smtpd     pass  -       -       n       -       -       smtpd"
		echo "tlsproxy  unix  -       -       n       -       0       tlsproxy"
	} >"$T/postfix/master.cf"
	next_files tp
	write_maincf "tlsproxy_tls_cert_file = $T/ssl/tp.pem" \
		"tlsproxy_tls_key_file = $T/ssl/tp.key"
	# smtpd's chain (main.cf's) has its record; tlsproxy's next key none.
	mapfile -t fake < <(answer "$(leaf_record)")
	run deploy_dns "${fake[@]}" -- check
	assert_failure 65
	assert_output --partial "$QNAME: no TLSA record there matches the ECDSA chain of tlsproxy (main.cf), so DANE senders would defer all mail to $HOST"
	refute_output --partial "chain of main.cf"
}

@test "control: plain smtpd on port 25 in master.cf: refused" {
	write_mastercf
	mapfile -t fake < <(answer "3 1 1 $(spki "$PKI/next.pem")")
	run deploy_dns "${fake[@]}" -- check
	echo "$output"
	assert_failure 65
}

# next_files NAME: $T/ssl/NAME.pem (the next key's leaf and its chain) and
# $T/ssl/NAME.key, 0600: a chain no "leaf_record" matches.
next_files() {
	cat "$PKI/next.pem" "$PKI/chain.pem" >"$T/ssl/$1.pem"
	cp "$PKI/next.key" "$T/ssl/$1.key"
	chmod 0600 "$T/ssl/$1.pem" "$T/ssl/$1.key"
}

@test "control: an exact SNI entry for the MX name with an unpublished key: refused" {
	next_files sni
	sni_map texthash "$HOST $T/ssl/sni.key, $T/ssl/sni.pem"
	mapfile -t fake < <(answer "$(leaf_record)")
	run deploy_dns "${fake[@]}" -- check
	echo "$output"
	assert_failure 65
}

@test "SNI parent-domain entry (.example.org) served to DANE senders asking for the MX name: guarded" {
	next_files sni
	sni_map texthash ".example.org $T/ssl/sni.key, $T/ssl/sni.pem"
	mapfile -t fake < <(answer "$(leaf_record)")
	run deploy_dns "${fake[@]}" -- check
	echo "$output"
	assert_failure 65
}

@test "two port-25 listeners, an SNI entry on one: the other's default chain is still guarded" {
	next_files b
	leaf_files "$HOST" "$HOST" "$T/ssl" a
	printf '%s\n' "$HOST $T/ssl/a.key, $T/ssl/a.pem" >"$T/postfix/sni"
	{
		echo "192.0.2.1:smtp inet  n       -       n       -       -       smtpd"
		echo "  -o tls_server_sni_maps=texthash:$T/postfix/sni"
		echo "192.0.2.2:smtp inet  n       -       n       -       -       smtpd"
		echo "  -o smtpd_tls_chain_files=$T/ssl/b.key,$T/ssl/b.pem"
	} >"$T/postfix/master.cf"
	mapfile -t fake < <(answer "$(leaf_record)")
	run deploy_dns "${fake[@]}" -- check
	echo "$output"
	assert_failure 65
	assert_output --partial "192.0.2.2:smtp"
}

# Both chains are served on port 25 (a sender that sends no SNI gets the
# default one), so both keys' records are published.
@test "the SNI entry found for the MX name is named as itself, and check --json carries its DANE verdict" {
	next_files sni
	sni_map texthash "$HOST $T/ssl/sni.key, $T/ssl/sni.pem"
	mapfile -t fake < <(answer "3 1 1 $(spki "$PKI/next.pem")" "$(leaf_record)")
	run deploy_dns "${fake[@]}" -- --json check
	echo "$output"
	assert_success
	python3 -c 'import json,sys
d = {i["name"]: i["dane"] for i in json.load(sys.stdin)["identities"]}
print(d)
k = [n for n in d if n.startswith("SNI ")]
assert d[k[0]] == {"verdict": "match", "validated": True}, d
assert d["main.cf"] == {"verdict": "match-current-key-only", "validated": True}, d' <<<"$output"
}

@test "an SNI entry for the TLD (.org), matched last, is named, not \"(null)\"" {
	next_files sni
	sni_map texthash ".org $T/ssl/sni.key, $T/ssl/sni.pem"
	mapfile -t fake < <(answer "$(leaf_record)")
	run deploy_dns "${fake[@]}" -- check
	echo "$output"
	assert_failure 65
	refute_output --partial "(null)"
	assert_output --partial "SNI .org"
}

@test "a full DANE-TA record (2 0 0, 2 1 0) for the root that is not served matches, as OpenSSL's DANE client accepts it" {
	local r
	for r in "2 0 0 $(spki "$PKI/root.pem" 0 0)" "2 1 0 $(spki "$PKI/root.pem" 1 0)"; do
		mapfile -t fake < <(answer "$r")
		run deploy_dns "${fake[@]}" -- check
		echo "$r: $output"
		assert_success
		refute_output --partial "no TLSA record there matches"
	done
}

# hdns HOSTILE ARGS... -- HELPER ARGS...: deploy_dns with tests/hostiledns.py.
hdns() {
	DNS_SERVER=hostiledns.py deploy_dns "$@"
}

@test "hostile: CNAME (mixed case) to the records: a matching record passes, a mismatch is refused" {
	run hdns --mode cname --ad --data "$(leaf_record)" -- check
	echo "$output"; assert_success
	run hdns --mode cnamedot --ad --data "$(leaf_record)" -- check
	echo "$output"; assert_success
	run hdns --mode cname --ad --data "3 1 1 $(spki "$PKI/next.pem")" -- check
	echo "$output"; assert_failure 65
	run hdns --mode manycname --ad --data "3 1 1 $(spki "$PKI/next.pem")" -- check
	echo "$output"; assert_failure 65
}

@test "hostile: huge TCP answers (1200 records, 500 duplicates, a 60 kB record) within the deadline" {
	local m
	for m in huge dup bigrr; do
		run hdns --mode $m --ad --data "3 1 1 $(spki "$PKI/next.pem")" -- check
		echo "$m: $output" | grep -v '^ \|^identity'
		assert_failure 65
	done
}


@test "hostile: a TCP answer dripped a byte at a time is given up at the deadline" {
	echo POSTFIX_TLS_DANE_TIMEOUT=1 >"$T/conf"
	run hdns --mode drip --ad --data "$(leaf_record)" -- check
	assert_success
	# Cut off by the run's own deadline, not by the resolver's end.
	assert_output --partial "warning: _25._tcp.$HOST: the TLSA records cannot be looked up: no answer within POSTFIX_TLS_DANE_TIMEOUT=1 s"
}

@test "check --json stays one valid JSON document in odd DANE cases" {
	printf '%s\n' 'POSTFIX_TLS_DANE_NAMES="a1.example.org a2.example.org a3.example.org a4.example.org a5.example.org a6.example.org a7.example.org a8.example.org a9.example.org a10.example.org a11.example.org a12.example.org a13.example.org a14.example.org a15.example.org a16.example.org a17.example.org bad..name"' POSTFIX_TLS_DANE_TIMEOUT=1 >"$T/conf"
	local m
	for m in emptyrd trailing huge cname; do
		run hdns --mode $m --ad --data "3 1 1 $(spki "$PKI/next.pem")" -- --json check
		python3 -c 'import json,sys; d=json.load(sys.stdin); print([i["dane"] for i in d["identities"]])' <<<"$output"
	done
	next_files sni
	sni_map texthash ".org $T/ssl/sni.key, $T/ssl/sni.pem"
	run hdns --mode cname --ad --data "3 1 1 $(spki "$PKI/next.pem")" -- --json check
	python3 -c 'import json,sys; d=json.load(sys.stdin); print(d)' <<<"$output"
}

@test "RSA beside ECDSA: a record for the ECDSA leaf only refuses the RSA chain" {
	good_bundle
	cat "$PKI/rsa.pem" "$PKI/chain.pem" >"$T/ssl/rsa-chain.pem"
	cp "$PKI/rsa.key" "$T/ssl/rsa.key"
	chmod 600 "$T/ssl/rsa.key"
	write_maincf "smtpd_tls_eccert_file = $T/ssl/rsa-chain.pem" \
		"smtpd_tls_eckey_file = $T/ssl/rsa.key"
	mapfile -t fake < <(answer "$(leaf_record)")
	run deploy_dns "${fake[@]}" -- check
	echo "$output"
	assert_failure 65
	assert_output --partial "RSA chain"
}

@test "RSA beside ECDSA, a record for the ECDSA leaf only: check --json gives the identity the verdict of its worse chain, whichever pair main.cf names first" {
	good_bundle
	cat "$PKI/rsa.pem" "$PKI/chain.pem" >"$T/ssl/rsa-chain.pem"
	cat "$PKI/$HOST.pem" "$PKI/chain.pem" >"$T/ssl/ec-chain.pem"
	cp "$PKI/rsa.key" "$T/ssl/rsa.key"
	cp "$PKI/$HOST.key" "$T/ssl/ec.key"
	chmod 600 "$T/ssl/rsa.key" "$T/ssl/ec.key"
	local first
	for first in ecdsa rsa; do
		if [ "$first" = ecdsa ]; then
			# The bundle (ECDSA) in smtpd_tls_cert_file, RSA after it.
			write_maincf "smtpd_tls_eccert_file = $T/ssl/rsa-chain.pem" \
				"smtpd_tls_eckey_file = $T/ssl/rsa.key"
		else
			# The bundle made of the RSA leaf, the ECDSA pair after it.
			use_leaf rsa/$HOST
			write_maincf "smtpd_tls_eccert_file = $T/ssl/ec-chain.pem" \
				"smtpd_tls_eckey_file = $T/ssl/ec.key"
		fi
		mapfile -t fake < <(answer "$(leaf_record)")
		run deploy_dns "${fake[@]}" -- --json check
		assert_failure 65
		assert_equal "$first: $(python3 -c 'import json,sys; d=json.load(sys.stdin); print(json.dumps(sorted((i["key_type"], i["dane"]["verdict"]) for i in d["identities"])))' <<<"$output")" \
			"$first: [[\"ECDSA\", \"mismatch\"], [\"RSA\", \"mismatch\"]]"
	done
}

@test "odd listeners: 192.0.2.1:25 and [2001:db8::1]:smtp are port 25; loopback-only ones and wrapper mode on 25 are not" {
	local svc
	for svc in "192.0.2.1:25" "[2001:db8::1]:smtp"; do
		echo "$svc inet  n       -       n       -       -       smtpd" >"$T/postfix/master.cf"
		settle_maincf
		mapfile -t fake < <(answer "3 1 1 $(spki "$PKI/next.pem")")
		run deploy_dns "${fake[@]}" -- check
		assert_failure 65
		assert_output --partial "no TLSA record there matches the ECDSA chain of main.cf"
	done
	# A re-injection port on loopback: no DANE sender reaches it.
	for svc in "[::1]:25" "127.0.0.1:smtp" "localhost:25"; do
		echo "$svc inet  n       -       n       -       -       smtpd" >"$T/postfix/master.cf"
		settle_maincf
		run deploy_dns "${fake[@]}" -- check
		assert_success
		refute_output --partial "TLSA"
	done
	printf '%s\n' "smtp inet  n       -       n       -       -       smtpd" "  -o smtpd_tls_wrappermode=yes" >"$T/postfix/master.cf"
	settle_maincf
	run deploy_dns "${fake[@]}" -- check
	assert_success
	refute_output --partial "TLSA"
}

@test "a TLSA record with empty data beside the others does not switch the guard off" {
	run hdns --mode emptyrd --ad --data "3 1 1 $(spki "$PKI/next.pem")" -- check
	echo "$output"
	assert_failure 65
	assert_output --partial "no TLSA record there matches"
}

@test "an MX name too long for _25._tcp. is said to be so, not blamed on the resolver" {
	local l=aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa
	echo "POSTFIX_TLS_DANE_NAMES=\"$l.$l.$l.$l\"" >"$T/conf"
	run deploy_dns --mode nxdomain -- check
	assert_success
	refute_output --partial "the resolver cannot be reached: Message too long"
	assert_output --partial "warning: \"$l.$l.$l.$l\" is too long for its TLSA records' name (_25._tcp. and it may not exceed 253 characters), so they are not looked up"
}
