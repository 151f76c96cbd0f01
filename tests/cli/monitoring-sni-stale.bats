#!/usr/bin/env bats
# Issue 20, part 3: a compiled SNI map older than its sources is visible
# to monitoring.  smtpd serves what the map holds, so a renewed SNI leaf
# whose map was not rebuilt is not served: check --json and --nagios say
# so as a warning (why, and the fix), change nothing, and keep check's
# exit status; plain check keeps its note ("would rebuild").

# shellcheck disable=SC2154 # $stderr: run --separate-stderr
bats_require_minimum_version 1.5.0

load ../helpers
load ../pins-lib

setup_file() {
	pki_common
	pki_cert a.example.net inter2 server
	pki_cert b.example.net inter2 server
}

setup() {
	need_root
	setup_world
	sni_map hash "$(sni_entry a.example.net a.example.net)" \
		"$(sni_entry b.example.net b.example.net)"
	DB=$T/postfix/sni.db
	good_bundle
}

# The map's fix as the monitor says it.
FIX='run postfix-tls-setup deploy, or reload Postfix through its service'

@test "an up-to-date SNI map: check --json and --nagios say nothing of it" {
	run --separate-stderr deploy_inputs --json check
	assert_success
	assert_equal "$(pins_json 'd["status"]')" ok
	assert_equal "$(pins_json 'd["findings"]')" "[]"
	run --separate-stderr deploy_inputs --nagios check
	assert_success
	assert_output --regexp '^POSTFIX-TLS OK - 3 certificates, '
}

@test "a renewed SNI leaf whose map was not rebuilt: a warning for monitors with the cause, nothing changed, check's exit status 0" {
	sleep 0.01
	# Renewed in place: the chain file is newer than the map.
	cat "$PKI/b.example.net.pem" "$PKI/chain.pem" >"$T/ssl/b.example.net.pem.new"
	chmod 0600 "$T/ssl/b.example.net.pem.new"
	mv "$T/ssl/b.example.net.pem.new" "$T/ssl/b.example.net.pem"
	local before
	before=$(disk_state)
	run --separate-stderr deploy_inputs --json check
	assert_success
	assert_equal "$stderr" ""
	assert_equal "$(pins_json 'd["status"]')" warning
	assert_equal "$(pins_json 'd["exit_status"]')" 0
	assert_equal "$(pins_json '[f["file"] for f in d["findings"]]')" "[\"$DB\"]"
	assert_regex "$(pins_json 'd["findings"][0]["message"]')" "^the SNI map is older than its sources, and smtpd serves what it holds: .*$T/ssl/b\.example\.net\.pem.* \($FIX\)\$"
	assert_equal "$(pins_json 'd["findings"][0]["fix"]')" "$FIX"
	run --separate-stderr deploy_inputs --nagios check
	assert_failure 1
	assert_output --regexp "^POSTFIX-TLS WARNING - 0 critical, 1 warning: $DB: the SNI map is older than its sources"
	assert_equal "$(disk_state)" "$before"
	# Plain check: the note as before, no warning.
	run deploy_inputs check
	assert_success
	assert_output --partial "would rebuild $DB with postmap -F, root:root 0600: "
	refute_output --partial "warning: $DB"
	# After a deploy the map is up to date: the monitor is quiet again.
	run deploy_inputs deploy
	assert_success
	run --separate-stderr deploy_inputs --json check
	assert_equal "$(pins_json 'd["status"]')" ok
}

@test "an SNI map whose source changed after it is reported to monitors with that cause" {
	sleep 0.01
	touch "$T/postfix/sni"
	run --separate-stderr deploy_inputs --json check
	assert_success
	assert_equal "$(pins_json 'd["findings"][0]["message"]')" \
		"the SNI map is older than its sources, and smtpd serves what it holds: its source $T/postfix/sni is newer ($FIX)"
}
