#!/usr/bin/env bats
# Fuzzing the parsers of untrusted input with libFuzzer (clang; ASan and
# UBSan on): the PEM reader with chain assembly, the conf.d parser, and
# the parser of a resolver's TLSA answers (dns.c).
# Seeds are made at test time; each run is bounded (FUZZ_SECONDS, 60 by
# default).  Inputs that once crashed, and hand-made tricky ones, live in
# tests/fuzz/regressions and are replayed every time.

load ../helpers

setup_file() {
	pki_common
	command -v clang >/dev/null || skip "clang is not installed"
	make -s -C "$TOP" fuzzers
	export SEEDS=$BATS_FILE_TMPDIR/seeds
	mkdir -p "$SEEDS/pem" "$SEEDS/conf" "$SEEDS/dns"
	# DNS seeds: the hand-made answers (a TLSA set with the AD bit,
	# compression, a CNAME chain, and the damaged ones).
	cp "$TOP"/tests/fuzz/regressions/dns/* "$SEEDS/dns/"
	# PEM seeds: every shape the helper meets.
	cp "$PKI"/*.pem "$PKI"/*.key "$SEEDS/pem/"
	cat "$PKI/$HOST.key" "$PKI/fullchain.pem" >"$SEEDS/pem/key-and-chain"
	sed 's/$/\r/' "$PKI/chain.pem" >"$SEEDS/pem/crlf"
	openssl x509 -in "$PKI/$HOST.pem" -outform DER -out "$SEEDS/pem/der"
	openssl pkey -in "$PKI/$HOST.key" -aes128 -passout pass:x -out "$SEEDS/pem/encrypted"
	openssl ec -in "$PKI/$HOST.key" -out "$SEEDS/pem/traditional" 2>/dev/null
	# conf.d seeds: the shipped file and lines of every kind.
	cp "$TOP/conf.d/postfix-tls-setup" "$SEEDS/conf/shipped"
	printf '%s\n' 'POSTFIX_TLS_CERT=/etc/ssl/a.pem' \
		'POSTFIX_TLS_KEY="/etc/ssl/a key.pem"  # c' \
		"POSTFIX_TLS_CHAIN='/a /b'" 'POSTFIX_TLS_WARN_DAYS=30' \
		'POSTFIX_TLS_INCLUDE_ROOT=yes' 'rc_need="net"' >"$SEEDS/conf/lines"
}

# fuzz NAME: run build/fuzz_NAME for FUZZ_SECONDS from the seeds; it must
# end without a crash, a leak or an UB report, after real work.
fuzz() {
	mkdir -p "$BATS_TEST_TMPDIR/corpus"
	run "$TOP/build/fuzz_$1" -max_total_time="${FUZZ_SECONDS:-60}" \
		-close_fd_mask=2 -print_final_stats=1 -rss_limit_mb=2048 \
		-artifact_prefix="$BATS_TEST_TMPDIR/crash-" \
		"$BATS_TEST_TMPDIR/corpus" "$SEEDS/$1"
	assert_success
	assert_output --regexp 'stat::number_of_executed_units: [0-9]{4,}'
	[ -z "$(find "$BATS_TEST_TMPDIR" -name 'crash-*')" ] || fail "crash found"
	echo "# fuzz_$1: $(grep -o 'number_of_executed_units: [0-9]*' <<<"$output") in ${FUZZ_SECONDS:-60} s" >&3
}

@test "the PEM reader and chain assembly survive fuzzing" {
	fuzz pem
}

@test "the conf.d parser survives fuzzing" {
	fuzz conf
}

@test "the TLSA answer parser survives fuzzing" {
	fuzz dns
}

@test "the regression inputs run clean" {
	for kind in pem conf dns; do
		mapfile -t inputs < <(ls "$TOP/tests/fuzz/regressions/$kind"/*)
		[ "${#inputs[@]}" -ge 4 ] || fail "only ${#inputs[@]} $kind regression inputs"
		run "$TOP/build/fuzz_$kind" -close_fd_mask=2 "${inputs[@]}"
		assert_success
		assert_output --partial "Executed ${inputs[-1]}"
	done
}
