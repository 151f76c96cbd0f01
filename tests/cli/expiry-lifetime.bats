#!/usr/bin/env bats
# Issue 20, part 4: expiry thresholds that fit short-lived certificates.
# A leaf is warned about once it has fewer than POSTFIX_TLS_WARN_DAYS
# whole days AND less than POSTFIX_TLS_WARN_LIFETIME (default 1/3) of
# its lifetime left, and is critical for a monitor once it has fewer
# than POSTFIX_TLS_CRIT_DAYS days AND less than POSTFIX_TLS_CRIT_LIFETIME
# (default 1/6) left: the later of the two moments.  So a 6-day leaf
# warns with 2 days left and is critical with 1 (not in warning all its
# life under a 30-day count), a 45-day leaf warns at 15 days and is
# critical at 7, a 90-day leaf warns at 30 and is critical at 7.
#
# Real openssl-made leaves of 6, 45 and 90 days, all issued at BASE; the
# helper runs with its clock stopped (libfaketime) one second before and
# one second after each moment, so the boundaries are exact.

# shellcheck disable=SC2154 # $stderr: run --separate-stderr
bats_require_minimum_version 1.5.0

load ../helpers
load ../pins-lib

setup_file() {
	export TZ=UTC
	pki_common
	# An hour from now, on a whole minute: after the CAs' notBefore.
	BASE=$((($(date +%s) / 60 + 60) * 60))
	export BASE
	local days dir
	for days in 6 45 90; do
		dir=$PKI/life$days
		mkdir -p "$dir"
		cp "$PKI/inter2.pem" "$PKI/inter2.key" "$dir/"
		PKI=$dir pki_cert "$HOST" inter2 server ec "$days" \
			"$(date -u -d "@$BASE" '+%F %T')"
	done
}

setup() {
	need_root
	setup_world
}

# life DAYS: the inputs are the DAYS-day leaf; checks its dates.
life() {
	use_leaf "life$1/$HOST"
	assert_equal "$(openssl x509 -in "$T/ssl/cert.pem" -noout -startdate)" \
		"notBefore=$(date -u -d "@$BASE" '+%b %e %T %Y GMT')"
	assert_equal "$(openssl x509 -in "$T/ssl/cert.pem" -noout -enddate)" \
		"notAfter=$(date -u -d "@$((BASE + $1 * 86400))" '+%b %e %T %Y GMT')"
	LIFE=$1
}

# at LEFT ARGS...: the helper on the inputs with its clock stopped LEFT
# seconds before the leaf's notAfter.  File times stay true (NO_FAKE_STAT):
# postconf waits for a main.cf whose time is not yet in the past.
at() {
	local t=$((BASE + LIFE * 86400 - $1))
	shift
	faked "$(date -u -d "@$t" '+%F %T')"
	timeout 60 "${FAKED[@]}" NO_FAKE_STAT=1 "$HELPER" -c "$T/postfix" \
		--root "$T/root" --conf "$T/conf" --cafile "$PKI/root.pem" \
		--cert "$T/ssl/cert.pem" --key "$T/ssl/key.pem" \
		--chain "$T/ssl/chain.pem" "$@"
}

# The leaf's notAfter as the warning and the monitor's finding print it.
end_long() { date -u -d "@$((BASE + LIFE * 86400))" '+%F %H:%M UTC'; }
end_day() { date -u -d "@$((BASE + LIFE * 86400))" '+%F'; }

# quiet_at LEFT: no expiry warning at all: text, JSON and Nagios OK.
quiet_at() {
	run at "$1" check
	assert_success
	refute_output --partial "warning:"
	run --separate-stderr at "$1" --json check
	assert_success
	assert_equal "$(pins_json 'd["status"]')" ok
	assert_equal "$(pins_json 'd["findings"]')" "[]"
	assert_equal "$(pins_json 'd["identities"][0]["seconds_left"]')" "$1"
	assert_equal "$(pins_json 'd["identities"][0]["lifetime_seconds"]')" "$((LIFE * 86400))"
	run --separate-stderr at "$1" --nagios check
	assert_success
	assert_output --regexp "^POSTFIX-TLS OK - 1 certificate, soonest main.cf in $(($1 / 86400)) days? \| days_left=$(($1 / 86400));$PERF\$"
}

# warned_at LEFT MESSAGE: the expiry warning MESSAGE (without the file)
# in text, as the JSON's one finding, and as Nagios' WARNING.
warned_at() {
	run at "$1" check
	assert_success
	assert_output --partial "postfix-tls-setup: warning: $T/ssl/cert.pem: $2"
	run --separate-stderr at "$1" --json check
	assert_success
	assert_equal "$(pins_json 'd["status"]')" warning
	assert_equal "$(pins_json '[(f["severity"], f["message"]) for f in d["findings"]]')" \
		"[[\"warning\", \"$2\"]]"
	run --separate-stderr at "$1" --nagios check
	assert_failure 1
	assert_output "POSTFIX-TLS WARNING - 0 critical, 1 warning: $T/ssl/cert.pem: $2 | days_left=$(($1 / 86400));$PERF"
}

# critical_at LEFT MESSAGE: the monitor's critical finding MESSAGE, in
# the JSON and as Nagios' CRITICAL; plain check's exit status is 0.
critical_at() {
	run at "$1" check
	assert_success
	refute_output --partial "within POSTFIX_TLS_CRIT"
	run --separate-stderr at "$1" --json check
	assert_success
	assert_equal "$(pins_json 'd["status"]')" critical
	assert_equal "$(pins_json '[f["message"] for f in d["findings"] if f["severity"] == "critical"]')" \
		"[\"$2\"]"
	run --separate-stderr at "$1" --nagios check
	assert_failure 2
	assert_output "POSTFIX-TLS CRITICAL - 1 critical, 1 warning: main.cf: $BUNDLE: $2 | days_left=$(($1 / 86400));$PERF"
}

# not_critical_at LEFT: warned, but not critical.
not_critical_at() {
	run --separate-stderr at "$1" --json check
	assert_success
	assert_equal "$(pins_json 'd["status"]')" warning
	run --separate-stderr at "$1" --nagios check
	assert_failure 1
	assert_output --regexp "^POSTFIX-TLS WARNING - 0 critical, 1 warning: .* \| days_left=$(($1 / 86400));$PERF\$"
}

@test "a 6-day leaf: quiet with 2 days and a second left, warned a second before 2 days (a third), critical a second before 1 day (a sixth)" {
	life 6
	PERF="2;1"
	quiet_at $((2 * 86400 + 1))
	quiet_at $((2 * 86400))
	warned_at $((2 * 86400 - 1)) "certificate expires in 1 day, on $(end_long), with less than 1/3 of its 6-day lifetime left (renew it soon; POSTFIX_TLS_WARN_LIFETIME=1/3)"
	not_critical_at $((86400 + 1))
	not_critical_at 86400
	critical_at $((86400 - 1)) "certificate expires in 0 days, on $(end_day): less than 1/6 of its 6-day lifetime left, POSTFIX_TLS_CRIT_LIFETIME=1/6 (renew it now)"
}

@test "a 45-day leaf: warned a second before 15 days (a third), critical a second before 7 days (the day count, later than a sixth)" {
	life 45
	PERF="15;7"
	quiet_at $((15 * 86400 + 1))
	quiet_at $((15 * 86400))
	warned_at $((15 * 86400 - 1)) "certificate expires in 14 days, on $(end_long), with less than 1/3 of its 45-day lifetime left (renew it soon; POSTFIX_TLS_WARN_LIFETIME=1/3)"
	# Past a sixth (7.5 days) but not yet within the 7 days: not critical.
	not_critical_at $((7 * 86400 + 43200 - 1))
	not_critical_at $((7 * 86400))
	critical_at $((7 * 86400 - 1)) "certificate expires in 6 days, on $(end_day): within POSTFIX_TLS_CRIT_DAYS=7 (renew it now)"
}

@test "a 90-day leaf: warned a second before 30 days (a third and the day count agree), critical a second before 7 days" {
	life 90
	PERF="30;7"
	quiet_at $((30 * 86400 + 1))
	quiet_at $((30 * 86400))
	warned_at $((30 * 86400 - 1)) "certificate expires in 29 days, on $(end_long) (renew it soon; POSTFIX_TLS_WARN_DAYS=30)"
	# Past a sixth (15 days), not within 7 days: only the warning.
	not_critical_at $((15 * 86400 - 1))
	not_critical_at $((7 * 86400))
	critical_at $((7 * 86400 - 1)) "certificate expires in 6 days, on $(end_day): within POSTFIX_TLS_CRIT_DAYS=7 (renew it now)"
}

@test "a day either side: a 6-day leaf with 3 days left is quiet, with 1 day left warned; a 45-day leaf with 8 days left is not critical, with 6 it is" {
	life 6
	PERF="2;1"
	quiet_at $((3 * 86400))
	not_critical_at 86400
	life 45
	PERF="15;7"
	not_critical_at $((8 * 86400))
	critical_at $((6 * 86400)) "certificate expires in 6 days, on $(end_day): within POSTFIX_TLS_CRIT_DAYS=7 (renew it now)"
}

@test "the fractions come from the tuning file: 1/2 warns a 6-day leaf at 3 days, 1/3 makes it critical at 2, and the JSON says which" {
	life 6
	printf '%s\n' POSTFIX_TLS_WARN_LIFETIME=1/2 POSTFIX_TLS_CRIT_LIFETIME=1/3 >"$T/conf"
	PERF="3;2"
	quiet_at $((3 * 86400))
	warned_at $((3 * 86400 - 1)) "certificate expires in 2 days, on $(end_long), with less than 1/2 of its 6-day lifetime left (renew it soon; POSTFIX_TLS_WARN_LIFETIME=1/2)"
	not_critical_at $((2 * 86400))
	critical_at $((2 * 86400 - 1)) "certificate expires in 1 day, on $(end_day): less than 1/3 of its 6-day lifetime left, POSTFIX_TLS_CRIT_LIFETIME=1/3 (renew it now)"
	run --separate-stderr at 100 --json check
	assert_equal "$(pins_json '[d["warn_lifetime"], d["crit_lifetime"]]')" '["1/2", "1/3"]'
	# The defaults, when the file does not set them.
	: >"$T/conf"
	run --separate-stderr at 100 --json check
	assert_equal "$(pins_json '[d["warn_lifetime"], d["crit_lifetime"]]')" '["1/3", "1/6"]'
}

@test "1/1 leaves the day counts alone: a 6-day leaf is then warned all its life under POSTFIX_TLS_WARN_DAYS=30" {
	life 6
	echo POSTFIX_TLS_WARN_LIFETIME=1/1 >"$T/conf"
	PERF="30;1"
	warned_at $((6 * 86400 - 60)) "certificate expires in 5 days, on $(end_long) (renew it soon; POSTFIX_TLS_WARN_DAYS=30)"
	printf '%s\n' POSTFIX_TLS_WARN_LIFETIME=1/1 POSTFIX_TLS_CRIT_LIFETIME=1/1 >"$T/conf"
	PERF="30;7"
	critical_at $((6 * 86400 - 60)) "certificate expires in 5 days, on $(end_day): within POSTFIX_TLS_CRIT_DAYS=7 (renew it now)"
}

@test "a lifetime fraction that is no N/D with 1 <= N <= D <= 1000 is refused, and nothing is deployed" {
	life 6
	local bad
	for bad in 1/0 0/3 2/1 1/1001 third 1 /3 1/ 1/3x 1/3/2 1//3 12345678/99999999; do
		printf 'POSTFIX_TLS_WARN_LIFETIME=%s\n' "$bad" >"$T/conf"
		refuses 78 "POSTFIX_TLS_WARN_LIFETIME must be a fraction N/D of the certificate's lifetime, 1 <= N <= D <= 1000, not \"$bad\" (e.g. 1/3; 1/1 leaves the day count alone)" \
			deploy_inputs deploy
		assert_file_not_exists "$BUNDLE"
	done
	printf 'POSTFIX_TLS_CRIT_LIFETIME=%s\n' 7/6 >"$T/conf"
	refuses 78 "POSTFIX_TLS_CRIT_LIFETIME must be a fraction N/D" deploy_inputs deploy
	# At the edges, accepted.
	printf '%s\n' POSTFIX_TLS_WARN_LIFETIME=1000/1000 POSTFIX_TLS_CRIT_LIFETIME=1/1000 >"$T/conf"
	run at 100 deploy
	assert_success
	assert_file_exists "$BUNDLE"
}
