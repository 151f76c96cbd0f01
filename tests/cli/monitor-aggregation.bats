#!/usr/bin/env bats
# Issue 19, class (b): what check --nagios and --json say over several
# identities that expire at different times.  The summary names the
# soonest ("soonest IDENTITY in N days"), the perfdata give the fewest
# whole days left over all of them, and any identity within
# POSTFIX_TLS_CRIT_DAYS is critical -- whichever place it has in the list:
# main.cf's first, then master.cf's services, then the SNI entries.

# shellcheck disable=SC2154 # $stderr: run --separate-stderr
bats_require_minimum_version 1.5.0

load ../helpers
load ../pins-lib

setup_file() {
	pki_common
	local days name
	for days in 300 250 200 100 40 25 12; do
		dated_leaf "$HOST" "$days"
	done
	for name in a.example.net b.example.net c.example.net; do
		for days in 300 200 100 40 12 3; do
			dated_leaf "$name" "$days"
		done
	done
}

setup() {
	need_root
	setup_world
}

# identities MAIN [SUB] [DOMAIN:DAYS...]: main.cf's bundle made (by the
# check's inputs) from the host's leaf with MAIN whole days left; a submission service with
# its own files, the host's leaf with SUB days left ("-": no such
# service); an SNI map (texthash, $T/postfix/sni) with each DOMAIN's leaf
# with DAYS left, in that order.
identities() {
	local main=$1 sub=${2:--} entry lines=()
	shift 2 || shift $#
	use_leaf "d$main/$HOST"
	if [ "$sub" != - ]; then
		dated_files "$HOST" "$sub" "$T/ssl" sub
		submission_service "$T/ssl/sub.pem" "$T/ssl/sub.key"
	fi
	for entry in "$@"; do
		dated_files "${entry%:*}" "${entry#*:}" "$T/ssl" "${entry%:*}"
		lines+=("${entry%:*} $T/ssl/${entry%:*}.key, $T/ssl/${entry%:*}.pem")
	done
	[ "$#" -eq 0 ] || sni_map texthash "${lines[@]}"
}

# sni NAME: the identity name of SNI entry NAME.
sni() {
	echo "SNI $1 ($T/postfix/sni)"
}

# days_by_identity: check --json's days_left per identity, one
# "NAME=DAYS" a line, in the document's order.
days_by_identity() {
	run --separate-stderr deploy_inputs --json check
	assert_equal "$stderr" ""
	pins_json '"\n".join("%s=%d" % (i["name"], i["days_left"]) for i in d["identities"])'
}

@test "the soonest expiry is main.cf's, the first identity: the Nagios summary and perfdata say so" {
	identities 40 200 a.example.net:300
	run --separate-stderr deploy_inputs --nagios check
	assert_success
	assert_output "POSTFIX-TLS OK - 3 certificates, soonest main.cf in 40 days | days_left=40;30;7"
}

@test "the soonest expiry is the last identity's, an SNI entry after the others: the summary and perfdata name it" {
	identities 300 200 a.example.net:200 b.example.net:40
	run --separate-stderr deploy_inputs --nagios check
	assert_success
	assert_output "POSTFIX-TLS OK - 4 certificates, soonest $(sni b.example.net) in 40 days | days_left=40;30;7"
	assert_equal "$(days_by_identity)" "$(printf '%s\n' main.cf=300 "submission/inet (master.cf)=200" \
		"$(sni a.example.net)=200" "$(sni b.example.net)=40")"
}

@test "the soonest expiry is a master.cf service's, between main.cf and the SNI entries" {
	identities 250 40 a.example.net:100
	run --separate-stderr deploy_inputs --nagios check
	assert_success
	assert_output "POSTFIX-TLS OK - 3 certificates, soonest submission/inet (master.cf) in 40 days | days_left=40;30;7"
}

@test "the earliest of three SNI entries, neither the first nor the last of them, is the soonest" {
	identities 250 - a.example.net:300 b.example.net:40 c.example.net:200
	run --separate-stderr deploy_inputs --nagios check
	assert_success
	assert_output "POSTFIX-TLS OK - 4 certificates, soonest $(sni b.example.net) in 40 days | days_left=40;30;7"
	assert_equal "$(days_by_identity)" "$(printf '%s\n' main.cf=250 \
		"$(sni a.example.net)=300" "$(sni b.example.net)=40" "$(sni c.example.net)=200")"
	# The same certificates listed in the reverse order: the same answer.
	identities 250 - c.example.net:200 b.example.net:40 a.example.net:300
	run --separate-stderr deploy_inputs --nagios check
	assert_output "POSTFIX-TLS OK - 4 certificates, soonest $(sni b.example.net) in 40 days | days_left=40;30;7"
}

@test "in WARNING the perfdata still give the fewest days over all identities, not the first warned one's" {
	identities 300 25 a.example.net:100 b.example.net:12
	run --separate-stderr deploy_inputs --nagios check
	assert_failure 1
	assert_equal "$stderr" ""
	assert_regex "$output" "^POSTFIX-TLS WARNING - 0 critical, 2 warning: submission/inet \(master\.cf\): $T/ssl/sub\.pem: certificate expires in 25 days, .* \| days_left=12;30;7\$"
}

@test "an SNI entry within POSTFIX_TLS_CRIT_DAYS makes the monitor critical though main.cf's leaf is far from it" {
	identities 300 200 a.example.net:100 b.example.net:3
	run --separate-stderr deploy_inputs --json check
	assert_success	# the critical days are the monitor's, not check's
	assert_equal "$(pins_json 'd["status"]')" critical
	assert_equal "$(pins_json '[(f["severity"], f["identity"]) for f in d["findings"]]')" \
		"[[\"warning\", \"$(sni b.example.net)\"], [\"critical\", \"$(sni b.example.net)\"]]"
	assert_regex "$(pins_json 'd["findings"][1]["message"]')" '^certificate expires in 3 days, on [0-9-]{10}: within POSTFIX_TLS_CRIT_DAYS=7 \(renew it now\)$'
	assert_equal "$(pins_json 'd["findings"][1]["file"]')" "$T/ssl/b.example.net.pem"
	run --separate-stderr deploy_inputs --nagios check
	assert_failure 2
	end=$(date -u -d "$(openssl x509 -in "$PKI/d3/b.example.net.pem" -noout -enddate | cut -d= -f2)" +%F)
	assert_output "POSTFIX-TLS CRITICAL - 1 critical, 1 warning: $(sni b.example.net): $T/ssl/b.example.net.pem: certificate expires in 3 days, on $end: within POSTFIX_TLS_CRIT_DAYS=7 (renew it now) | days_left=3;30;7"
}
