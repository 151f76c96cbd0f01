#!/usr/bin/env bats
# The documentation says what the program does: every setting and exit
# code that the code knows is in the man page, the README and conf.d.

load ../helpers

@test "the man page renders without warnings" {
	run bash -c "LC_ALL=C.UTF-8 MANWIDTH=80 man --warnings -E UTF-8 -l '$TOP/postfix-tls-setup.8' 2>&1 >/dev/null"
	assert_success
	assert_output ""
}

@test "every POSTFIX_TLS_ setting the code reads is documented everywhere" {
	mapfile -t vars < <(grep -oh 'POSTFIX_TLS_[A-Z_]\+' "$TOP/src/conf.c" | sort -u)
	[ "${#vars[@]}" -ge 8 ] || fail "found only ${#vars[@]} settings in conf.c"
	for v in "${vars[@]}"; do
		grep -q "$v" "$TOP/postfix-tls-setup.8" || fail "$v missing from the man page"
		grep -q "^#*$v=" "$TOP/conf.d/postfix-tls-setup" || fail "$v missing from conf.d"
		grep -q "$v" "$TOP/README.md" || fail "$v missing from README.md"
	done
}

@test "every exit code the code uses is documented in the man page, README and --help" {
	mapfile -t names < <(grep -oh 'EX_[A-Z]*' "$TOP"/src/*.c | sort -u)
	for name in "${names[@]}"; do
		code=$(printf '#include <sysexits.h>\n%s\n' "$name" | cpp -P | tail -n1)
		grep -q "^$code\$" "$TOP/postfix-tls-setup.8" || fail "$name ($code) missing from the man page"
		grep -q "^| $code |" "$TOP/README.md" || fail "$name ($code) missing from README.md"
		"$HELPER" --help | grep -q "$code " || fail "$name ($code) missing from --help"
	done
}

@test "the README's two commands exist and .ci/run runs the test one" {
	grep -qx 'sh tests/deps.sh && make demo' "$TOP/README.md"
	grep -qx 'sh tests/deps.sh && make check' "$TOP/README.md"
	grep -qx 'sh tests/deps.sh && make check' "$TOP/.ci/run"
}
