#!/usr/bin/env bats
# The tuning file has one reader under OpenRC, the helper (the service is
# named postfix-tls so that OpenRC does not source it as its conf.d), but
# an admin may still source it from a shell of their own.  The promise: for every
# line, the helper either refuses it or reads exactly what sh reads — the
# same names with the same values, byte for byte — and sh does nothing
# else with it (no output, no command, no other variable).  Checked for a
# corpus of lines against each sh at hand: dash (Debian's /bin/sh) and
# bash in POSIX mode (Gentoo's /bin/sh).

load ../helpers

setup() {
	# bats traces every command through a DEBUG trap, which makes the
	# corpus five times slower: off while it runs, back for verdict.
	bats_trap=$(trap -p DEBUG)
	trap - DEBUG
	T=$BATS_TEST_TMPDIR
	cd "$T" || return
	SHELLS=(/bin/sh)
	command -v bash >/dev/null && SHELLS+=("bash --posix")
	command -v busybox >/dev/null && SHELLS+=("busybox sh")
	accepted=0 refused=0 disagree=()
}

# What a shell's own variables do by themselves between two `set`s.
VOLATILE='^(_|BASH_[A-Z_]*|LINENO|RANDOM|SRANDOM|SECONDS|EPOCHREALTIME|EPOCHSECONDS|PIPESTATUS)$'

# sh_reads SHELL FILE: source FILE in SHELL with an empty environment.
# Sets sh_vars (NAME -> value of each variable the file set or changed)
# and sh_said (what it printed, and its status).
sh_reads() {
	local shell=$1 file=$2 l n
	local -A before=()
	# shellcheck disable=SC2016 # expanded by the shell under test
	env -i $shell -c '
		set >"$1.before"
		. "$2" >"$1.said" 2>&1
		echo "status: $?" >>"$1.said"
		set >"$1.after"
	' sh "$T/sh" "$file"
	# Each `set` line NAME='value' (quoted as the shell quotes it) that is
	# new after sourcing names a variable the file set; its value comes
	# from the shell itself, unquoted.
	mapfile -t lines <"$T/sh.before"
	for l in "${lines[@]}"; do before[$l]=1; done
	mapfile -t lines <"$T/sh.after"
	sh_vars=()
	for l in "${lines[@]}"; do
		[ -z "${before[$l]:-}" ] || continue
		[[ $l =~ ^([A-Za-z_][A-Za-z0-9_]*)= ]] || continue
		n=${BASH_REMATCH[1]}
		[[ $n =~ $VOLATILE ]] && continue
		# shellcheck disable=SC2016 # expanded by the shell under test
		sh_vars[$n]=$(env -i $shell -c '. "$1"; eval "printf %s \"\${$2}\""' sh "$file" "$n")
	done
	sh_said=$(<"$T/sh.said")
}

# agree FILE: the helper refuses FILE, or every sh reads it as the helper
# does.  Counts in accepted/refused; a disagreement goes to disagree[].
agree() {
	local file=$1 out status shell n v ok
	local -A helper_vars=()
	local -a got
	status=0
	out=$("$HELPER" --conf "$file" --print-conf 2>"$T/err") || status=$?
	if [ "$status" -ne 0 ]; then
		refused=$((refused + 1))
		# A refusal is a configuration error with its reason, and says
		# nothing of values.
		if [ "$status" -ne 78 ] || [ -n "$out" ] || [[ $(<"$T/err") != "postfix-tls-setup: $file"* ]]; then
			disagree+=("$(od -c "$file" | head -3): refused with $status: $out $(<"$T/err")")
		fi
		return
	fi
	accepted=$((accepted + 1))
	while IFS= read -r l; do
		[ -n "$l" ] && helper_vars[${l%%=*}]=${l#*=}
	done <<<"$out"
	for shell in "${SHELLS[@]}"; do
		declare -gA sh_vars
		sh_reads "$shell" "$file"
		ok=1
		[ "$sh_said" = "status: 0" ] || ok=0
		[ "${#sh_vars[@]}" -eq "${#helper_vars[@]}" ] || ok=0
		for n in "${!helper_vars[@]}"; do
			[ -n "${sh_vars[$n]+set}" ] && [ "${sh_vars[$n]}" = "${helper_vars[$n]}" ] || ok=0
		done
		if [ "$ok" -eq 0 ]; then
			got=()
			for n in "${!sh_vars[@]}"; do got+=("$n=${sh_vars[$n]}"); done
			disagree+=("$shell on $(od -c "$file" | head -3): helper read [$out], sh read [${got[*]}] and said [$sh_said]")
		fi
	done
}

# line TEXT: a one-line file holding TEXT and a newline, then agree.
line() {
	printf '%s\n' "$1" >"$T/c"
	agree "$T/c"
}

# A helper start costs a second under valgrind: thousands of them would
# take the pass half an hour.  Its memory is checked on the same lines
# by the asan pass, and on the odd bytes by valgrind too (second test).
not_for_valgrind() {
	[ "${PTS_SANITIZER:-}" != valgrind ] || skip "a second per helper run under valgrind; the plain and asan passes run this corpus"
}

verdict() {
	eval "$bats_trap"
	[ "${#disagree[@]}" -eq 0 ] || fail "$(printf '%s\n' "${#disagree[@]} disagreements:" "${disagree[@]}")"
	[ "$accepted" -ge "$1" ] || fail "only $accepted lines accepted: the corpus proves little"
	[ "$refused" -ge "$2" ] || fail "only $refused lines refused"
	assert_file_not_exists "$T/pwned"
}

@test "the helper reads the hand-made corpus as sh does, or refuses the line" {
	not_for_valgrind
	local l
	while IFS= read -r l; do
		line "$l"
	done <<-'CORPUS'
	POSTFIX_TLS_CERT=/etc/ssl/mail/cert.pem
	POSTFIX_TLS_CERT='/etc/ssl/mail/cert.pem'
	POSTFIX_TLS_CERT="/etc/ssl/mail/cert.pem"
	POSTFIX_TLS_CERT=
	POSTFIX_TLS_CERT=''
	POSTFIX_TLS_CERT=""
	  POSTFIX_TLS_CERT=a   
		POSTFIX_TLS_CERT=a	 	
	POSTFIX_TLS_CERT=a # comment
	POSTFIX_TLS_CERT=a	# comment 'with "quotes
	POSTFIX_TLS_CERT=a#b
	POSTFIX_TLS_CERT='a'#b
	POSTFIX_TLS_CERT="a"#b
	POSTFIX_TLS_HOOK='yes'#default
	POSTFIX_TLS_HOOK="no"#
	POSTFIX_TLS_CERT='a' #b
	POSTFIX_TLS_CERT='a'b
	POSTFIX_TLS_CERT=a'b'
	POSTFIX_TLS_CERT="a"'b'
	POSTFIX_TLS_CERT='a''b'
	POSTFIX_TLS_CERT='a b'
	POSTFIX_TLS_CERT="a b"
	POSTFIX_TLS_CERT=a b
	POSTFIX_TLS_CERT=a\ b
	POSTFIX_TLS_CERT='a\b'
	POSTFIX_TLS_CERT="a\b"
	POSTFIX_TLS_CERT=a\b
	POSTFIX_TLS_CERT='a\'
	POSTFIX_TLS_CERT=a\
	POSTFIX_TLS_CERT='$HOME'
	POSTFIX_TLS_CERT="$HOME"
	POSTFIX_TLS_CERT=$HOME
	POSTFIX_TLS_CERT=${HOME}
	POSTFIX_TLS_CERT='`touch pwned`'
	POSTFIX_TLS_CERT="`touch pwned`"
	POSTFIX_TLS_CERT=`touch pwned`
	POSTFIX_TLS_CERT=$(touch pwned)
	POSTFIX_TLS_CERT="$(touch pwned)"
	POSTFIX_TLS_CERT=a;touch pwned
	POSTFIX_TLS_CERT='a';touch pwned
	POSTFIX_TLS_CERT=a ;touch pwned
	POSTFIX_TLS_CERT=a&&touch pwned
	POSTFIX_TLS_CERT=a|touch pwned
	POSTFIX_TLS_CERT=a touch pwned
	POSTFIX_TLS_CERT='a' touch pwned
	POSTFIX_TLS_CERT=a>pwned
	POSTFIX_TLS_CERT=a <pwned
	POSTFIX_TLS_CERT=~
	POSTFIX_TLS_CERT=~/x
	POSTFIX_TLS_CERT=~root/x
	POSTFIX_TLS_CERT=a:~/x
	POSTFIX_TLS_CERT=a=~/x
	POSTFIX_TLS_CERT='~/x'
	POSTFIX_TLS_CERT="~/x"
	POSTFIX_TLS_CERT=*
	POSTFIX_TLS_CERT=/etc/*
	POSTFIX_TLS_CERT='/etc/*'
	POSTFIX_TLS_CERT="/etc/*"
	POSTFIX_TLS_CERT=/etc/?asswd
	POSTFIX_TLS_CERT=[ab]
	POSTFIX_TLS_CERT={a,b}
	POSTFIX_TLS_CERT=a,b
	POSTFIX_TLS_CERT=a=b
	POSTFIX_TLS_CERT==a
	POSTFIX_TLS_CERT=-a
	POSTFIX_TLS_CERT=%a@b+c:d
	POSTFIX_TLS_CERT=!a
	POSTFIX_TLS_CERT="!a"
	POSTFIX_TLS_CERT=(a)
	POSTFIX_TLS_CERT='it''s'
	POSTFIX_TLS_CERT="it's"
	POSTFIX_TLS_CERT='say "hi"'
	POSTFIX_TLS_CERT="a
	POSTFIX_TLS_CERT='a
	POSTFIX_TLS_CERT=é
	POSTFIX_TLS_CERT='é/ü/€/😀'
	POSTFIX_TLS_CERT="é/ü/€/😀"
	POSTFIX_TLS_CHAIN='/a /b	/c'
	POSTFIX_TLS_CHAIN="/a /b"
	POSTFIX_TLS_WARN_DAYS=30
	POSTFIX_TLS_WARN_DAYS='30'
	POSTFIX_TLS_WARN_DAYS=030
	POSTFIX_TLS_WARN_DAYS=30 30
	POSTFIX_TLS_INCLUDE_ROOT=yes
	POSTFIX_TLS_HOOK=no
	POSTFIX_TLS_HOOK=NO
	POSTFIX_TLS_HOOK='off'
	POSTFIX_TLS_HOOK=enabled
	POSTFIX_TLS_HOOK=yes # default
	POSTFIX_TLS_CACHE=/run/postfix-tls-setup
	POSTFIX_TLS_CACHE=run
	POSTFIX_TLS_SETUP=/bin/true
	rc_need="net"
	rc_ulimit='-n 1024'
	rc_cgroup_cleanup=yes
	export POSTFIX_TLS_CERT=a
	export POSTFIX_TLS_CERT
	readonly POSTFIX_TLS_CERT=a
	local POSTFIX_TLS_CERT=a
	POSTFIX_TLS_CERT =a
	POSTFIX_TLS_CERT= a
	POSTFIX_TLS_CERT=a POSTFIX_TLS_KEY=b
	POSTFIX_TLS_CERT=a; POSTFIX_TLS_KEY=b
	postfix_tls_cert=a
	1POSTFIX_TLS_CERT=a
	PATH=/tmp
	IFS=x
	HOME=/tmp
	_=a
	# POSTFIX_TLS_CERT=a
	#!/bin/sh
	   # indented comment; touch pwned
	#POSTFIX_TLS_CERT=`touch pwned`

	touch pwned
	: touch pwned
	true
	. /dev/null
	POSTFIX_TLS_CERT() { :; }
	if true; then POSTFIX_TLS_CERT=a; fi
	{ POSTFIX_TLS_CERT=a; }
	CORPUS
	verdict 40 60
}

@test "lines that are not plain text are refused or read as sh reads them" {
	local v
	# CRLF, a lone CR, NUL, a vertical tab, a form feed, a byte that is not
	# UTF-8, a BOM, and a last line without its newline.
	for v in $'POSTFIX_TLS_CERT=a\r' $'POSTFIX_TLS_CERT=\'a\r\'' $'POSTFIX_TLS_CERT=a\rb' \
		$'\vPOSTFIX_TLS_CERT=a' $'POSTFIX_TLS_CERT=a\v' $'POSTFIX_TLS_CERT=\'a\vb\'' \
		$'POSTFIX_TLS_CERT=a\f' $'POSTFIX_TLS_CERT=\'\f\'' $'POSTFIX_TLS_CERT=\'\xff\xfe\'' \
		$'POSTFIX_TLS_CERT=\xff' $'\xef\xbb\xbfPOSTFIX_TLS_CERT=a' $'POSTFIX_TLS_CERT=\'\t\''; do
		line "$v"
	done
	printf 'POSTFIX_TLS_CERT=a\0b\n' >"$T/c"
	agree "$T/c"
	printf "POSTFIX_TLS_CERT='a\0b'\n" >"$T/c"
	agree "$T/c"
	printf "POSTFIX_TLS_CERT='a'" >"$T/c"
	agree "$T/c"
	printf "POSTFIX_TLS_CERT='a'\n\n# last\nPOSTFIX_TLS_KEY=b" >"$T/c"
	agree "$T/c"
	verdict 5 8
}

@test "generated lines (leading space, name, value, what follows) are refused or read as sh reads them" {
	not_for_valgrind
	local pre name val post
	local -a pres=('' ' ' $'\t' 'export ')
	local -a names=(POSTFIX_TLS_CERT)
	# shellcheck disable=SC2054,SC2088 # the words are shell text on purpose
	local -a vals=(a /etc/a.pem a=b a,b -a %a @a +a a:b a.b_c \
		"'a b'" "'\$a'" "'a\\b'" "'\"'" "'#'" "'*'" "'~'" "''" "'\`:\`'" "'a;b'" \
		'"a b"' "\"a'b\"" '"#"' '"~/a"' '"*"' '"$a"' '"a\b"' '"`:`"' '""' '"é"' '"a;b"' \
		'~' '~/a' '*' 'a*' '?' '[a]' '{a,b}' '$a' '${a}' '$(:)' '`:`' 'a\ b' '\#' \
		'a;b' 'a&b' 'a|b' 'a>b' 'a<b' '(a)' 'a#b' 'é' '!a' '\' "'a'\"b\"")
	local -a posts=('' ' ' $'\t' ' # c' '# c' '#c' ';' ' ;' ' x' "'x'" '"x"' '\' ' \' ' &' ' #' $' \t# \'"')
	for name in "${names[@]}"; do
		for val in "${vals[@]}"; do
			for post in "${posts[@]}"; do
				line "$name=$val$post"
			done
		done
	done
	for pre in "${pres[@]}"; do
		for val in a "'a b'" '"a b"' 'a#b'; do
			line "${pre}POSTFIX_TLS_CERT=$val"
		done
	done
	verdict 150 600
}
