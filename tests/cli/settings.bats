#!/usr/bin/env bats
# The command line and /etc/conf.d/postfix-tls-setup, read without a shell.

load ../helpers

setup_file() {
	pki_common
}

setup() {
	setup_world
}

@test "--help lists the commands, options and exit codes" {
	run "$HELPER" --help
	assert_success
	assert_output --partial "usage: postfix-tls-setup [options] deploy | check"
	for opt in -c --conf --no-conf --cert --key --chain --bundle --cafile --capath \
		--root --warn-days --hook --print-conf -q --quiet -v --verbose --help --version; do
		assert_output --regexp "(  |, )$opt( |,|\\[|\$)"
	done
	assert_output --partial "77 unsafe file"
}

@test "--version prints the version" {
	run "$HELPER" --version
	assert_success
	assert_output --regexp '^postfix-tls-setup [0-9]+\.[0-9]+\.[0-9]+(_p[0-9]{14})?$'
}

@test "no command, an unknown command or an unknown option is a usage error" {
	refuses 64 "usage:" "$HELPER"
	refuses 64 'unknown command "frobnicate"' "$HELPER" frobnicate
	refuses 64 "usage:" "$HELPER" --frobnicate check
}

@test "a --conf file that does not exist is refused" {
	refuses 66 "$T/nonexistent: No such file or directory" \
		helper --conf "$T/nonexistent" deploy
}

@test "settings come from the conf.d file in all three quoting forms" {
	cat >"$T/conf" <<-CONF
	# comment
	   # indented comment

	POSTFIX_TLS_CERT=$T/ssl/cert.pem
	POSTFIX_TLS_KEY="$T/ssl/key.pem"   # trailing comment
	POSTFIX_TLS_CHAIN='$PKI/inter1.pem  $PKI/inter2.pem'
	POSTFIX_TLS_WARN_DAYS=400
	POSTFIX_TLS_WARN_LIFETIME="1/1"
	rc_need="localmount"
	CONF
	run helper deploy
	assert_success
	assert_output --partial "wrote $BUNDLE (3 certificates)"
	assert_output --partial "certificate expires in"
}

@test "the command line overrides the conf.d file" {
	printf 'POSTFIX_TLS_CERT=%s\nPOSTFIX_TLS_CHAIN=%s\n' "$T/nothere.pem" "$T/nothere2.pem" >"$T/conf"
	run deploy_inputs deploy
	assert_success
}

@test "an empty value means the default" {
	printf 'POSTFIX_TLS_WARN_DAYS=""\nPOSTFIX_TLS_INCLUDE_ROOT=\n' >"$T/conf"
	run deploy_inputs check
	assert_success
}

# bad_conf LINE MESSAGE: the line is refused, naming file:1, changing nothing.
bad_conf() {
	printf '%s\n' "$1" >"$T/conf"
	refuses 78 "$2" deploy_inputs deploy
	assert_output --regexp "^postfix-tls-setup: $T/conf:1: "
}

@test "command substitution is refused, not run" {
	bad_conf 'POSTFIX_TLS_CERT=$(touch /tmp/pwned-by-conf)' "POSTFIX_TLS_CERT: this value needs quotes"
	assert_file_not_exists /tmp/pwned-by-conf
}

@test "a variable in double quotes is refused (the shell would expand it)" {
	bad_conf 'POSTFIX_TLS_CERT="$HOME/cert.pem"' 'POSTFIX_TLS_CERT: $, ` and \ are expanded by the shell'
}

@test "backquotes and backslashes in double quotes are refused" {
	bad_conf 'POSTFIX_TLS_CERT="`id`"' 'are expanded by the shell'
	bad_conf 'POSTFIX_TLS_CERT="a\b"' 'are expanded by the shell'
}

@test "a literal \$ in single quotes is accepted as it is" {
	printf "POSTFIX_TLS_CERT='%s'\n" "$T/"'$T/x' >"$T/conf"
	refuses 66 "$T/"'$T: No such file or directory' helper deploy
}

@test "an unknown setting is refused" {
	bad_conf 'POSTFIX_TLS_CERTS=/etc/x' "unknown setting POSTFIX_TLS_CERTS"
}

@test "export and other shell commands are refused" {
	bad_conf 'export POSTFIX_TLS_CERT=/etc/x' "not a NAME=value line"
	bad_conf 'rm -rf /' "not a NAME=value line"
	bad_conf 'POSTFIX_TLS_CERT = /etc/x' "not a NAME=value line"
}

@test "an unclosed quote is refused" {
	bad_conf 'POSTFIX_TLS_CERT="/etc/x' "the double quote is not closed"
	bad_conf "POSTFIX_TLS_CERT='/etc/x" "the single quote is not closed"
}

@test "text after a quoted value is refused" {
	bad_conf 'POSTFIX_TLS_CERT="/etc/x" more' "unexpected text after the value"
}

@test "a CRLF line is refused" {
	bad_conf $'POSTFIX_TLS_WARN_DAYS=3\r' "line ends with a carriage return"
}

@test "a bad number and a bad yes/no are refused" {
	bad_conf 'POSTFIX_TLS_WARN_DAYS=soon' 'POSTFIX_TLS_WARN_DAYS must be a number of days from 0 to 3650, not "soon"'
	bad_conf 'POSTFIX_TLS_WARN_DAYS=99999' 'must be a number of days'
	bad_conf 'POSTFIX_TLS_INCLUDE_ROOT=maybe' 'POSTFIX_TLS_INCLUDE_ROOT must be yes or no'
}

@test "bad monitoring and probe settings are refused" {
	bad_conf 'POSTFIX_TLS_CRIT_DAYS=-1' 'POSTFIX_TLS_CRIT_DAYS must be a number of days from 0 to 3650, not "-1"'
	bad_conf 'POSTFIX_TLS_PROBE=maybe' 'POSTFIX_TLS_PROBE must be warn, stop or off, not "maybe"'
	bad_conf 'POSTFIX_TLS_PROBE_TIMEOUT=0' 'POSTFIX_TLS_PROBE_TIMEOUT must be a number of seconds from 1 to 60, not "0"'
	bad_conf 'POSTFIX_TLS_PROBE_TIMEOUT=61' 'POSTFIX_TLS_PROBE_TIMEOUT must be a number of seconds from 1 to 60'
}

@test "a very long line is refused" {
	bad_conf "POSTFIX_TLS_CERT=$(printf 'a%.0s' $(seq 5000))" "line longer than 4095 characters"
}

@test "the line number of a bad line is named" {
	printf '# ok\nPOSTFIX_TLS_WARN_DAYS=3\nPOSTFIX_TLS_BOGUS=1\n' >"$T/conf"
	refuses 78 "$T/conf:3: unknown setting POSTFIX_TLS_BOGUS" deploy_inputs deploy
}

@test "a bad --warn-days is a configuration error" {
	refuses 78 "--warn-days: POSTFIX_TLS_WARN_DAYS must be a number" deploy_inputs --warn-days=-1 deploy
}

@test "--no-conf reads no settings file, not even a broken one" {
	echo 'this is not a setting' >"$T/conf"
	cat "$PKI/$HOST.pem" "$PKI/chain.pem" >"$BUNDLE"
	run "$HELPER" -c "$T/postfix" --root "$T/root" --conf "$T/conf" \
		--no-conf --cafile "$PKI/root.pem" check
	assert_success
	assert_output --partial "ok: $BUNDLE would be served with 3 certificates"
}

@test "a # right after a closing quote is refused (the shell reads it as part of the value)" {
	bad_conf "POSTFIX_TLS_CERT='$T/ssl/cert.pem'#old" "POSTFIX_TLS_CERT: text right after the closing quote"
	bad_conf 'POSTFIX_TLS_HOOK="yes"#default' "POSTFIX_TLS_HOOK: text right after the closing quote"
}

@test "a tuning file owned by another user is refused and its settings are not obeyed" {
	need_root
	printf 'POSTFIX_TLS_CACHE="%s"\n' "$T/cache" >"$T/conf"
	chown nobody "$T/conf"
	refuses 77 "postfix-tls-setup: $T/conf: settings file owned by nobody, not root" \
		deploy_inputs deploy
	assert_output --partial "(fix: chown root:root $T/conf && chmod go-w $T/conf)"
	assert_equal "$(grep -c "$T/conf" <<<"$output")" 1
	assert_file_not_exists "$T/cache"
	assert_file_not_exists "$BUNDLE"
}

@test "a group- or world-writable tuning file is refused" {
	chmod 0664 "$T/conf"
	refuses 77 "postfix-tls-setup: $T/conf: settings file writable by its group" deploy_inputs deploy
	assert_output --partial "(fix: chown root:root $T/conf && chmod go-w $T/conf)"
	chmod 0646 "$T/conf"
	refuses 77 "postfix-tls-setup: $T/conf: settings file writable by everyone" deploy_inputs check
	assert_file_not_exists "$BUNDLE"
}

@test "POSTFIX_TLS_HOOK takes only yes or no; anything else is refused, not taken as no" {
	bad_conf 'POSTFIX_TLS_HOOK=enabled' 'POSTFIX_TLS_HOOK must be yes or no (or true/false, on/off, 1/0), not "enabled"'
	bad_conf "POSTFIX_TLS_HOOK='yes'\"#default\"" 'text right after the closing quote'
	printf 'POSTFIX_TLS_HOOK=nein\n' >"$T/conf"
	refuses 78 "$T/conf:1: POSTFIX_TLS_HOOK must be yes or no" helper --hook deploy
	assert_file_not_exists "$BUNDLE"
}

@test "with --hook, POSTFIX_TLS_HOOK=no (any spelling) says so and checks nothing; without, deploy runs" {
	cp "$PKI/root.key" "$T/ssl/key.pem"	# would be refused if checked
	for v in no NO false False off OFF 0 "'no'" '"off"'; do
		printf '# the switch\nPOSTFIX_TLS_HOOK=%s\n' "$v" >"$T/conf"
		before=$(snapshot)
		run deploy_inputs -c "$T/nowhere" --hook deploy
		assert_success
		assert_output "postfix-tls-setup is switched off (POSTFIX_TLS_HOOK in $T/conf:2): nothing was checked"
		assert_equal "$(snapshot)" "$before"
	done
	# The switch is the hook's: a deploy by hand still deploys.
	cp "$PKI/$HOST.key" "$T/ssl/key.pem"
	run deploy_inputs deploy
	assert_success
	assert_output --partial "wrote $BUNDLE (3 certificates)"
}

@test "with --hook, yes, an empty value or no setting checks as usual" {
	cp "$PKI/root.key" "$T/ssl/key.pem"
	for line in POSTFIX_TLS_HOOK=yes POSTFIX_TLS_HOOK=1 "POSTFIX_TLS_HOOK=''" '# nothing'; do
		printf '%s\n' "$line" >"$T/conf"
		refuses 65 "private key does not match public key" deploy_inputs --hook deploy
	done
}

@test "--hook=VALUE overrides the tuning file's switch and is checked as strictly" {
	cp "$PKI/root.key" "$T/ssl/key.pem"
	printf 'POSTFIX_TLS_HOOK=no\n' >"$T/conf"
	refuses 65 "private key does not match public key" deploy_inputs --hook=yes deploy
	refuses 78 'postfix-tls-setup: --hook: POSTFIX_TLS_HOOK must be yes or no (or true/false, on/off, 1/0), not "enabled"' \
		deploy_inputs --hook=enabled deploy
	: >"$T/conf"
	run deploy_inputs --hook=Off deploy
	assert_success
	assert_output "postfix-tls-setup is switched off (POSTFIX_TLS_HOOK in --hook): nothing was checked"
}

@test "--print-conf prints each setting as read and checks nothing else" {
	cat >"$T/conf" <<-'CONF'
	# comment
	POSTFIX_TLS_CERT='/etc/a b/$x'   # trailing comment
	rc_need="net"
	POSTFIX_TLS_WARN_DAYS=
	POSTFIX_TLS_CHAIN="/x	/y"
	CONF
	run "$HELPER" -c "$T/nowhere" --conf "$T/conf" --print-conf
	assert_success
	assert_output "$(printf '%s\n' 'POSTFIX_TLS_CERT=/etc/a b/$x' 'rc_need=net' \
		'POSTFIX_TLS_WARN_DAYS=' "$(printf 'POSTFIX_TLS_CHAIN=/x\t/y')")"
	printf 'POSTFIX_TLS_WARN_DAYS=1\nPOSTFIX_TLS_SETUP=/bin/true\n' >"$T/conf"
	run "$HELPER" --conf "$T/conf" --print-conf
	assert_failure 78
	assert_output --partial "POSTFIX_TLS_WARN_DAYS=1"
	assert_output --partial "$T/conf:2: unknown setting POSTFIX_TLS_SETUP"
	refute_output --partial "/bin/true"
}

@test "a relative file name in the tuning file is refused, wherever the helper runs" {
	# Run by hand in $T/ssl it would name the right files; under OpenRC
	# (which works in /) others: refused either way, naming the setting.
	local name
	for name in CERT KEY CHAIN BUNDLE CAFILE CAPATH; do
		printf 'POSTFIX_TLS_%s="%s"\n' "$name" "$T/ssl/cert.pem ssl.pem" >"$T/conf"
		[ "$name" = CHAIN ] || printf 'POSTFIX_TLS_%s=ssl.pem\n' "$name" >"$T/conf"
		for dir in "$T/ssl" /; do
			cd "$dir"
			refuses 78 "$T/conf:1: POSTFIX_TLS_$name: \"ssl.pem\" is a relative name" \
				"$HELPER" -c "$T/postfix" --root "$T/root" --conf "$T/conf" check
		done
	done
	# On the command line a relative name is the caller's own directory.
	cd "$T"
	: >"$T/conf"
	run "$HELPER" -c "$T/postfix" --root "$T/root" --conf "$T/conf" \
		--cafile "$PKI/root.pem" --cert ssl/cert.pem --key ssl/key.pem \
		--chain ssl/chain.pem --bundle postfix/certificate.pem check
	assert_success
	assert_output --partial "would write postfix/certificate.pem (3 certificates)"
}
