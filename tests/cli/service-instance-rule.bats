#!/usr/bin/env bats
# Review of issue 19, service.c: the instance a service name stands for
# must be the one Gentoo's /etc/init.d/postfix runs.  That script
# (mail-mta/postfix/files/postfix.rc6.2.7, and its stand-in
# tests/postfix.initd) takes CONF_DIR=/etc/postfix.${SVCNAME##*.}: the part
# after the LAST dot.  a846e0e's shell hook used the same
# ${RC_SVCNAME##*.}; service_instance() now takes the part after the first
# '@', else after the first '.', so for "postfix.a.b" it checks
# /etc/postfix.a.b while Postfix runs /etc/postfix.b, and for
# "postfix.a@b" (hooked: rc.conf matches postfix.*) /etc/postfix.b while
# Postfix runs /etc/postfix.a@b.  What is judged is then not what Postfix
# loads.  No Postfix has to run: the helper names the directory it asks
# postconf about (none of them exists here).

load ../helpers

# gentoo_confdir NAME: the CONF_DIR the init script's own lines give NAME.
gentoo_confdir() {
	# shellcheck disable=SC2016 # expanded by the inner sh
	SVCNAME=$1 sh -c '. "$0" >/dev/null 2>&1; echo "$CONF_DIR"' \
		"$TOP/tests/postfix.initd"
}

@test "control: the init script's rule, as Gentoo writes it" {
	assert_equal "$(gentoo_confdir postfix.out)" /etc/postfix.out
	assert_equal "$(gentoo_confdir postfix.a.b)" /etc/postfix.b
	assert_equal "$(gentoo_confdir postfix.a@b)" /etc/postfix.a@b
}

@test "the service postfix.a.b is checked in the directory Gentoo's init script starts it with (/etc/postfix.b)" {
	[ ! -e /etc/postfix.b ] && [ ! -e /etc/postfix.a.b ] ||
		skip "needs /etc/postfix.b and /etc/postfix.a.b absent"
	run "$HELPER" --service postfix.a.b check
	assert_failure
	assert_output --partial "$(gentoo_confdir postfix.a.b)/main.cf"
	refute_output --partial "/etc/postfix.a.b"
}

@test "the hooked service postfix.a@b is never checked as another instance: /etc/postfix.b, or the default /etc/postfix" {
	[ ! -e /etc/postfix.b ] || skip "needs /etc/postfix.b absent"
	run "$HELPER" --service postfix.a@b check
	assert_failure
	# Postfix runs /etc/postfix.a@b: check that, or refuse the name;
	# another instance's directory is neither, the default one's
	# (/etc/postfix) no more than /etc/postfix.b.
	refute_output --partial "/etc/postfix.b/"
	refute_output --partial "for /etc/postfix.b;"
	refute_output --partial "/etc/postfix/"
	refute_output --partial "for /etc/postfix;"
}
