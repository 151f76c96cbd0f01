#!/usr/bin/env bats
# Review of issue 19, render.c: repeats are left out by comparing each
# problem or warning with every one before it, each comparison making
# both lines anew (line_of, xasprintf): quadratic in the number of
# findings.  An SNI map whose entries each draw a warning (a name the
# certificate does not cover, an expiry within POSTFIX_TLS_WARN_DAYS) is
# then slow to say: measured here, 10,000 such entries take 135 s to
# check (a846e0e: 11.5 s; the same map without warnings: 8 s), in a
# start_pre hook that nothing times out.  The same holds for --json and
# --nagios (every rendering calls repeated() per finding).  Here, under
# load: 4,000 warnings 20.9 s against 6.5 s without them (a846e0e passes).

load ../helpers

setup_file() {
	pki_common
	pki_cert a.example.net inter2 server
	pki_cert '*.example.net' inter2 server
}

setup() {
	need_root
	setup_world
	good_bundle
}

# sni_of LEAF N: a texthash map of N names dI.example.net, each served
# LEAF's key and chain.
sni_of() {
	local i
	cat "$PKI/$1.key" "$PKI/$1.pem" "$PKI/chain.pem" >"$T/ssl/sni.pem"
	chmod 0600 "$T/ssl/sni.pem"
	for i in $(seq 1 "$2"); do
		echo "d$i.example.net $T/ssl/sni.pem"
	done >"$T/postfix/sni"
	chmod 0600 "$T/postfix/sni"
	write_maincf "tls_server_sni_maps = texthash:$T/postfix/sni"
}

# timed_check: check, its time in milliseconds in $ms.
timed_check() {
	local start
	start=$(date +%s%N)
	run deploy_inputs "$@" check
	ms=$((($(date +%s%N) - start) / 1000000))
}

@test "saying 4,000 warnings costs about as much as checking 4,000 entries that draw none" {
	sni_of '*.example.net' 4000
	timed_check -q
	assert_success
	quiet=$ms
	sni_of a.example.net 4000	# no name covered: one warning each
	timed_check -q
	assert_success
	[ "$ms" -le $((2 * quiet + 2000)) ] ||
		fail "4,000 warnings took $ms ms, the same map without them $quiet ms"
	timed_check --json
	assert_success
	assert_equal "$(grep -c "is not among the certificate's names" <<<"$output")" 4000
	[ "$ms" -le $((2 * quiet + 2000)) ] ||
		fail "check --json with 4,000 warnings took $ms ms, without them $quiet ms"
}
