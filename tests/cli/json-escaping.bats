#!/usr/bin/env bats
# Issue 19, class (c): a UTF-8 sequence cut short and followed by a quote,
# a backslash, a '|' or a line break, in a file name.  The lead byte
# announces more bytes than follow; a validator that does not look at
# each of them swallows the quote into a "character" and copies it raw:
# a file name then writes JSON of its own into check --json, or its own
# perfdata into the Nagios line.  What must come out: U+FFFD (or '?') for
# the broken bytes, and the character after them as itself, escaped.

# shellcheck disable=SC2154 # $stderr: run --separate-stderr
bats_require_minimum_version 1.5.0

load ../helpers
load ../pins-lib

setup_file() {
	pki_common
	pki_cert other.example.org inter2 server
}

setup() {
	need_root
	setup_world
}

# cut_dir BYTES: $T/ssl/BYTES (a directory), exported as H, holding the
# usual leaf and chain (cert.pem, with the chain) and a key that does not
# match it (key.pem), so that a finding names a file in it.
cut_dir() {
	H=$T/ssl/$1
	mkdir "$H"
	chmod 0755 "$H"
	cat "$PKI/$HOST.pem" "$PKI/chain.pem" >"$H/cert.pem"
	cp "$PKI/other.example.org.key" "$H/key.pem"
	chmod 0600 "$H/key.pem"
	export H
}

# Each lead byte below is cut short right before an ASCII character:
# E2 82 (3 bytes announced, 2 there), F0 9F 93 (4, 3 there), F0 9F (4, 2),
# C3 (2, 1), ED 9F (3, 2, a valid second byte); then a valid U+1F4EB.
CUT=$'a\xe2\x82"b\xf0\x9f\x93"c\xf0\x9f"d\xc3"e\xe2\x82\\f\xed\x9f"g\xf0\x9f\x93\xab-end'

@test "check --json: a multi-byte sequence cut short before a quote or backslash in a file name is U+FFFD, and the quote stays in the string" {
	cut_dir "$CUT"
	before=$(disk_state)
	run --separate-stderr helper --cert "$H/cert.pem" --key "$H/key.pem" --json check
	assert_failure 65
	assert_equal "$stderr" ""
	assert_equal "$(disk_state)" "$before"
	# Strict JSON: had a quote got out, the name would have closed the
	# string (and "b..." been a syntax error or a key of its own).
	# (The second finding: main.cf names another key than --key.)
	assert_equal "$(pins_json '[sorted(f) for f in d["findings"]]')" \
		'[["file", "fix", "identity", "message", "severity"], ["file", "fix", "identity", "message", "severity"]]'
	assert_equal "$(pins_json '[f["severity"] for f in d["findings"]]')" '["critical", "critical"]'
	# shellcheck disable=SC2016 # Python, not shell
	want='fffd(os.environb[b"H"].decode("utf-8", "replace"))'
	assert_equal "$(pins_json "fffd(d['findings'][0]['file']) == $want + '/key.pem'")" true
	assert_equal "$(pins_json "fffd(d['findings'][0]['message']) == 'private key does not match public key in certificate ' + $want + '/cert.pem (use the key the certificate was issued for)'")" true
	assert_equal "$(pins_json "[d['findings'][0]['file'].count(c) for c in '\"\\\\']")" "[5, 1]"
	# The valid character after the broken ones arrived whole.
	assert_equal "$(pins_json "'\\U0001f4eb-end/key.pem' in d['findings'][0]['file']")" true
}

@test "check --json: the same cut-short sequences in a master.cf service's file names, in its identity record" {
	# No backslash here: master.cf and postconf have their own use for it.
	local cut=$'a\xe2\x82"b\xf0\x9f\x93"c\xf0\x9f"d\xc3"e\xed\x9f"g\xf0\x9f\x93\xab-end'
	cut_dir "$cut"
	cp "$PKI/$HOST.key" "$H/good.key"
	chmod 0600 "$H/good.key"
	submission_service "$H/cert.pem" "$H/good.key"
	run --separate-stderr deploy_inputs --json check
	assert_success
	assert_equal "$stderr" ""
	assert_equal "$(pins_json '[i["name"] for i in d["identities"]]')" '["main.cf", "submission/inet (master.cf)"]'
	# shellcheck disable=SC2016 # Python, not shell
	want='fffd(os.environb[b"H"].decode("utf-8", "replace"))'
	assert_equal "$(pins_json "fffd(d['identities'][1]['bundle']) == $want + '/cert.pem'")" true
	assert_equal "$(pins_json "fffd(d['identities'][1]['key']) == $want + '/good.key'")" true
	assert_equal "$(pins_json 'd["identities"][1]["subject"]')" "CN=$HOST,O=Test"
}

# one_plugin_line: the last run printed one line, valid UTF-8, nothing on
# stderr.
one_plugin_line() {
	assert_equal "$stderr" ""
	assert_equal "${#lines[@]}" 1
	python3 -c 'import sys; sys.stdin.buffer.read().decode("utf-8", "strict")' <<<"$output" ||
		fail "the line is not valid UTF-8"
}

@test "check --nagios: a sequence cut short before a '|' in a file name leaves the perfdata the only text after a '|'" {
	cut_dir $'p\xe2\x82|days_left=999;1;1 \xf0\x9f\x93|q'
	submission_service "$H/cert.pem" "$H/key.pem"
	before=$(disk_state)
	run --separate-stderr deploy_inputs --nagios check
	assert_failure 2
	one_plugin_line
	assert_equal "$(disk_state)" "$before"
	assert_output --partial "POSTFIX-TLS CRITICAL - 1 critical, 0 warning: submission/inet (master.cf): $T/ssl/p"
	# One '|', and after it the perfdata: the fewest days of the two leaves.
	assert_equal "$(tr -cd '|' <<<"$output")" "|"
	assert_regex "$output" ' \| days_left=36[45];30;7$'
}

@test "check --nagios: a sequence cut short before a line break in a file name stays on the one line" {
	cut_dir $'n\xe2\x82\nPOSTFIX-TLS OK - \xc3\nz'
	before=$(disk_state)
	run --separate-stderr helper --cert "$H/cert.pem" --key "$H/key.pem" --nagios check
	assert_failure 2
	one_plugin_line
	assert_equal "$(disk_state)" "$before"
	# (The second critical: main.cf names another key than --key.)
	assert_output --partial "POSTFIX-TLS CRITICAL - 2 critical, 0 warning: $T/ssl/n"
	assert_output --partial "z/key.pem: private key does not match public key in certificate $T/ssl/n"
}
