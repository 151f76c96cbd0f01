#!/usr/bin/env bats
# Issue 19, hole 11's documentation and hole 12: what the man page and the
# README must say about the DANE guard's trust and about the OpenRC hook.

load ../helpers

MAN=$TOP/postfix-tls-setup.8

# enforce_spans: the man page's text where POSTFIX_TLS_DANE=enforce is
# documented: from each ".B enforce" line to the next paragraph macro.
enforce_spans() {
	awk '/^\.B enforce$/ { on = 1; next }
		on && /^\.(TP|PP|SH|SS)/ { on = 0; print "--" }
		on' "$MAN"
}

@test "the man page says where enforce is documented that without a validating resolver it protects nothing against spoofing" {
	run enforce_spans
	assert_success
	[ -n "$output" ] || fail "no .B enforce in the man page"
	assert_output --partial "spoofing"
}

@test "the man page's FILES lists the service /etc/init.d/postfix-tls" {
	run awk '/^\.SH FILES/ { on = 1; next } /^\.SH / { on = 0 } on' "$MAN"
	assert_success
	assert_line --regexp '^\.I /etc/init\.d/postfix\\?-tls$'
}

@test "the README's paragraph on the hook names the _post functions beside the _pre ones" {
	# The paragraph (blank-line separated) that names start_pre and reload_pre.
	run awk -v RS= '/`start_pre`/ && /`reload_pre`/' "$TOP/README.md"
	assert_success
	[ -n "$output" ] || fail "no README paragraph names start_pre and reload_pre"
	assert_output --partial "start_post"
	assert_output --partial "reload_post"
}
