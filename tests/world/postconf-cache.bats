#!/usr/bin/env bats
# POSTFIX_TLS_CACHE in a real start (tests/cli/postconf-cache.bats has the
# rest): the shipped tuning file's cache, OpenRC's rc-service and real
# Postfix, in a private world.

load ../helpers

setup_file() {
	pki_common
}

setup() {
	need_root
	command -v strace >/dev/null || skip "strace is not installed"
	setup_world
	CACHE=$T/cache
	echo "POSTFIX_TLS_CACHE=$CACHE" >"$T/conf"
	good_bundle
}

@test "in a real start the shipped cache is used, and a new postconf is asked again" {
	run world <<-'SCENARIO'
	make_postfix /etc/postfix 127.0.0.1
	use_tls "$HOST" inter2 inter1
	shipped=$(grep '^POSTFIX_TLS_CACHE=' /etc/conf.d/postfix-tls-setup)
	tune /etc/conf.d/postfix-tls-setup
	echo "$shipped" >>/etc/conf.d/postfix-tls-setup
	say "shipped $shipped"
	# postconf_runs: how often a check executes postconf (main.cf's
	# values, master.cf's services, their -o: 3 at each asking; Debian's
	# relay service's -o syslog_name changes none of the values asked).
	postconf_runs() {
		strace -f -qq -e trace=execve -o "$T/trace" \
			postfix-tls-setup -q check >/dev/null 2>&1
		grep -c 'execve("/usr/sbin/postconf"' "$T/trace"
	}
	rc-service postfix start >/dev/null 2>&1; say "start=$?"
	say "cache $(stat -c '%U:%G %a' /run/postfix-tls-setup)"
	say "next check: $(postconf_runs)"
	touch /usr/sbin/postconf	# as an upgrade replaces it
	say "after an upgrade: $(postconf_runs)"
	say "then: $(postconf_runs)"
	SCENARIO
	assert_success
	assert_output --partial '@@ shipped POSTFIX_TLS_CACHE="/run/postfix-tls-setup"'
	assert_output --partial "@@ start=0"
	assert_output --partial "@@ cache root:root 700"
	assert_output --partial "@@ next check: 0"
	assert_output --partial "@@ after an upgrade: 3"
	assert_output --partial "@@ then: 0"
}
