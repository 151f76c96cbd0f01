#!/usr/bin/env bats
# Issue 19, class (a): the expiry thresholds at their boundary, and the
# day count of a leaf that expired already.  POSTFIX_TLS_WARN_DAYS warns
# when a leaf has fewer whole days left than it, POSTFIX_TLS_CRIT_DAYS
# makes a monitor critical the same way; whole days are seconds left /
# 86400 rounded down, so negative from the first second after expiry.
# Each leaf ends 12 hours past a whole day (tests/pins-lib.bash), so its
# whole days left do not change while a test runs.

# shellcheck disable=SC2154 # $stderr: run --separate-stderr
bats_require_minimum_version 1.5.0

load ../helpers
load ../pins-lib

setup_file() {
	pki_common
	local days
	for days in 10 0 -1 -3; do
		dated_leaf "$HOST" "$days"
	done
}

setup() {
	need_root
	setup_world
}

# leaf_with DAYS: the inputs are the host's leaf with DAYS whole days left.
leaf_with() {
	use_leaf "d$1/$HOST"
}

# end_of DAYS [FORMAT]: that leaf's notAfter in UTC, as date(1) FORMAT
# (default YYYY-MM-DD, as the monitor's messages print it).
end_of() {
	date -u -d "$(openssl x509 -in "$PKI/d$1/$HOST.pem" -noout -enddate | cut -d= -f2)" "+${2:-%F}"
}

# warned_end DAYS: the same as the warning prints it.
warned_end() {
	end_of "$1" '%F %H:%M UTC'
}

@test "a leaf with exactly POSTFIX_TLS_WARN_DAYS whole days left is not warned about; a threshold one day higher warns" {
	leaf_with 10
	run deploy_inputs --warn-days 10 check
	assert_success
	refute_output --partial "expires in"
	refute_output --partial "warning:"
	run deploy_inputs --warn-days 11 check
	assert_success
	assert_output --partial "postfix-tls-setup: warning: $T/ssl/cert.pem: certificate expires in 10 days, on $(warned_end 10) (renew it soon; POSTFIX_TLS_WARN_DAYS=11)"
	# The same boundary when the threshold comes from the tuning file.
	echo POSTFIX_TLS_WARN_DAYS=10 >"$T/conf"
	run deploy_inputs deploy
	assert_success
	refute_output --partial "warning:"
	echo POSTFIX_TLS_WARN_DAYS=11 >"$T/conf"
	run deploy_inputs deploy
	assert_success
	assert_output --partial "warning: $T/ssl/cert.pem: certificate expires in 10 days"
}

@test "a leaf with 0 whole days left (12 hours) still deploys and is warned about as 0 days, not as expired" {
	leaf_with 0
	run deploy_inputs --warn-days 1 deploy
	assert_success
	assert_output --partial "warning: $T/ssl/cert.pem: certificate expires in 0 days, on $(warned_end 0) (renew it soon; POSTFIX_TLS_WARN_DAYS=1)"
	refute_output --partial "expired"
	run deploy_inputs --warn-days 0 check
	assert_success
	refute_output --partial "expires in"
	assert_output --partial "(0 days)"
}

@test "check --json: exactly POSTFIX_TLS_CRIT_DAYS whole days left is not critical, one day fewer than the threshold is" {
	leaf_with 10
	run --separate-stderr deploy_inputs --warn-days 0 --crit-days 10 --json check
	assert_success
	assert_equal "$stderr" ""
	assert_equal "$(pins_json 'd["identities"][0]["days_left"]')" 10
	assert_equal "$(pins_json 'd["status"]')" ok
	assert_equal "$(pins_json 'd["findings"]')" "[]"
	run --separate-stderr deploy_inputs --warn-days 0 --crit-days 11 --json check
	assert_success
	assert_equal "$(pins_json 'd["status"]')" critical
	assert_equal "$(pins_json 'd["crit_days"]')" 11
	assert_equal "$(pins_json 'len(d["findings"])')" 1
	assert_equal "$(pins_json 'd["findings"][0]["message"]')" \
		"certificate expires in 10 days, on $(end_of 10): within POSTFIX_TLS_CRIT_DAYS=11 (renew it now)"
	# From the tuning file, the same boundary.
	printf '%s\n' POSTFIX_TLS_WARN_DAYS=0 POSTFIX_TLS_CRIT_DAYS=10 >"$T/conf"
	run --separate-stderr deploy_inputs --json check
	assert_equal "$(pins_json 'd["status"]')" ok
	printf '%s\n' POSTFIX_TLS_WARN_DAYS=0 POSTFIX_TLS_CRIT_DAYS=11 >"$T/conf"
	run --separate-stderr deploy_inputs --json check
	assert_equal "$(pins_json 'd["status"]')" critical
}

@test "check --nagios: exactly POSTFIX_TLS_CRIT_DAYS is OK, one day fewer than the threshold is CRITICAL, and the warning threshold likewise" {
	leaf_with 10
	run --separate-stderr deploy_inputs --warn-days 10 --crit-days 10 --nagios check
	assert_success
	assert_equal "$stderr" ""
	assert_output "POSTFIX-TLS OK - 1 certificate, soonest main.cf in 10 days | days_left=10;10;10"
	run --separate-stderr deploy_inputs --warn-days 11 --crit-days 10 --nagios check
	assert_failure 1
	assert_output "POSTFIX-TLS WARNING - 0 critical, 1 warning: $T/ssl/cert.pem: certificate expires in 10 days, on $(warned_end 10) (renew it soon; POSTFIX_TLS_WARN_DAYS=11) | days_left=10;11;10"
	run --separate-stderr deploy_inputs --warn-days 11 --crit-days 11 --nagios check
	assert_failure 2
	assert_output "POSTFIX-TLS CRITICAL - 1 critical, 1 warning: main.cf: $BUNDLE: certificate expires in 10 days, on $(end_of 10): within POSTFIX_TLS_CRIT_DAYS=11 (renew it now) | days_left=10;11;11"
}

@test "a leaf that expired 12 hours ago has -1 whole days left: expired 1 day ago, never \"expires in 0 days\"" {
	leaf_with -1
	refuses 65 "$T/ssl/cert.pem: certificate chain does not verify as a TLS server: certificate has expired at depth 0" \
		deploy_inputs deploy
	run deploy_inputs check
	assert_failure 65
	assert_line --regexp "^  0 leaf  CN=$HOST,O=Test  ECDSA-256  ecdsa-with-SHA256  until $(end_of -1) [0-9:]{5}Z \(expired 1 day ago\)\$"
	run --separate-stderr deploy_inputs --json check
	assert_failure 65
	assert_equal "$(pins_json 'd["identities"][0]["days_left"]')" -1
	assert_equal "$(pins_json '[f["message"] for f in d["findings"] if f["identity"] == "main.cf"]')" \
		"[\"certificate expired on $(end_of -1), 1 day ago (renew it now; POSTFIX_TLS_CRIT_DAYS=7)\"]"
	refute_output --partial "expires in 0 days"
	run --separate-stderr deploy_inputs --nagios check
	assert_failure 2
	assert_regex "$output" ' \| days_left=-1;30;7$'
}

@test "a leaf that expired two and a half days ago has -3 whole days left (rounded down), in JSON, Nagios and the tree" {
	leaf_with -3
	refuses 65 "$T/ssl/cert.pem: certificate chain does not verify as a TLS server: certificate has expired at depth 0" \
		deploy_inputs deploy
	run deploy_inputs check
	assert_failure 65
	assert_output --partial "(expired 3 days ago)"
	run --separate-stderr deploy_inputs --json check
	assert_failure 65
	assert_equal "$(pins_json 'd["identities"][0]["days_left"]')" -3
	assert_equal "$(pins_json '[f["message"] for f in d["findings"] if f["identity"] == "main.cf"]')" \
		"[\"certificate expired on $(end_of -3), 3 days ago (renew it now; POSTFIX_TLS_CRIT_DAYS=7)\"]"
	run --separate-stderr deploy_inputs --nagios check
	assert_failure 2
	assert_regex "$output" ' \| days_left=-3;30;7$'
}
