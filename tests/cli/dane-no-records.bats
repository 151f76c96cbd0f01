#!/usr/bin/env bats
# Issue 19, class (d): DNS answers other than NXDOMAIN that mean "no TLSA
# records" -- NODATA (NOERROR and an empty answer), an answer holding only
# records of other types, a CNAME to a name without TLSA records, a CNAME
# to a name that does not exist.  Each is an answer, not DNS trouble:
# nothing to guard, so deploy stays silent (as for NXDOMAIN), -v says
# "no TLSA records", check --json says "no-records" -- even with
# POSTFIX_TLS_DANE=enforce and POSTFIX_TLS_DANE_DNS=refuse, under which
# trouble would refuse (75) and a record that matches nothing would too.
# The answers come from tests/nodatadns.py in a private network namespace
# (dns in tests/dane-lib.bash).

bats_require_minimum_version 1.5.0

load ../helpers
load ../dane-lib
load ../pins-lib

setup_file() {
	dane_setup_file
}

setup() {
	dane_setup
	printf '%s\n' POSTFIX_TLS_DANE=enforce POSTFIX_TLS_DANE_DNS=refuse \
		POSTFIX_TLS_DANE_TIMEOUT=2 >"$T/conf"
}

# no_records MODE [--ad]: under nodatadns.py's MODE, deploy writes the
# bundle and says nothing else, -v check says there are no records, and
# check --json gives main.cf the verdict no-records, not validated.
no_records() {
	run ndns --mode "$@" -- deploy
	assert_success
	assert_output "wrote $BUNDLE (3 certificates)"
	run ndns --mode "$@" -- -v check
	assert_success
	assert_output --partial "$QNAME: no TLSA records: nothing for DANE to guard"
	refute_output --partial "warning:"
	run --separate-stderr ndns --mode "$@" -- --json check
	assert_success
	assert_equal "$(pins_json '[i["dane"] for i in d["identities"]]')" \
		'[{"verdict": "no-records", "validated": false}]'
	assert_equal "$(pins_json 'd["findings"]')" '[]'
}

@test "NODATA (NOERROR, an empty answer, the SOA beside it) means no records: deploy is silent, the verdict no-records" {
	no_records nodata
}

@test "a validated NODATA (the AD bit: a proven absence) means no records too" {
	no_records nodata --ad
}

@test "an answer that holds only records of other types (A, TXT) at the name means no records" {
	# The A record's four bytes read as a record would be "3 1 1 00":
	# taken for TLSA, it would match nothing and be refused.
	no_records othertypes --ad
}

@test "a CNAME to a name that holds no TLSA record means no records" {
	no_records cname-nodata --ad
}

@test "a CNAME to a name that does not exist (NXDOMAIN after the CNAME) means no records" {
	no_records cname-nxdomain --ad
}

@test "control: the same server with a record that matches nothing is refused, so the answers above were read" {
	refuses 65 "$QNAME: no TLSA record there matches the ECDSA chain of main.cf" \
		ndns --mode records --ad --tlsa "3 1 1 $(spki "$PKI/next.pem")" -- deploy
}
