#!/usr/bin/env bats
# SNI maps (src/sni.c): what the real postmap does with a map's source,
# measured here so that sni.c's reading of a source stays postmap's.  Each
# test is one rule sni.c mirrors (or refuses, where postmap would drop an
# entry without failing); if a Postfix release changes one, its test says
# which rule to revisit.

load ../helpers

POSTMAP=/usr/sbin/postmap

setup() {
	[ -x "$POSTMAP" ] || skip "needs Postfix's postmap (CI installs Postfix)"
	T=$BATS_TEST_TMPDIR
	mkdir -p "$T/postfix" "$T/files"
	: >"$T/postfix/main.cf"
	settle_maincf
	printf 'key one\n' >"$T/files/a.pem"
	printf 'key two\n' >"$T/files/b.pem"
	A=$T/files/a.pem
	B=$T/files/b.pem
}

# source LINES...: the map source $T/sni, written with printf %b.
source_of() {
	printf '%b' "$@" >"$T/sni"
}

pm() {
	"$POSTMAP" -c "$T/postfix" "$@"
}

# The stored content for DOMAIN, decoded (postmap -F adds a newline per file).
lookup() {
	pm -F -q "$1" "hash:$T/sni"
}

@test "postmap folds the domain to lower case (ASCII only), so any case in the source is found" {
	source_of "Mail.Example.COM $A\n\xc3\x84B.example $B\n"
	run pm -F "hash:$T/sni"
	assert_success
	assert_output ''
	run lookup mail.example.com
	assert_output 'key one'
	run pm -s "hash:$T/sni"
	assert_line --partial $'\xc3\x84b.example\t'
}

@test "postmap keeps the first of two entries for one domain and only warns" {
	source_of "b.example $A\nB.EXAMPLE $B\n"
	run pm -F "hash:$T/sni"
	assert_success
	assert_output --partial 'duplicate entry: "b.example"'
	run lookup b.example
	assert_output 'key one'
}

@test "the inline map uses the last of two entries for one domain, silently" {
	run pm -s "inline:{ b.example=$A, {B.example = $B} }"
	assert_success
	assert_output "b.example	$B"
}

@test "postmap continues an entry on lines starting with white space, across comments and blank lines" {
	source_of "a.example $A,\n# a comment\n\n   \n    # indented comment\n\t$B\n"
	run pm -F "hash:$T/sni"
	assert_success
	assert_output ''
	run lookup a.example
	assert_output $'key one\n\nkey two'
}

@test "postmap takes a CR as white space: a CRLF source works" {
	source_of "a.example $A $B\r\nb.example\t$B\r\n"
	run pm -F "hash:$T/sni"
	assert_success
	assert_output ''
	run lookup a.example
	assert_output $'key one\n\nkey two'
}

@test "postmap drops a line that starts with white space before any entry, and exits 0" {
	source_of "  a.example $A\nb.example $B\n"
	run pm -F "hash:$T/sni"
	assert_success
	assert_output --partial 'logical line must not start with whitespace'
	run lookup a.example
	assert_failure
}

@test "postmap drops an entry without files, or with a missing one, and still exits 0" {
	source_of "a.example\nb.example ,\nc.example $T/files/missing.pem\nd.example $A\n"
	run pm -F "hash:$T/sni"
	assert_success
	assert_output --partial 'expected format: key whitespace value'
	assert_output --partial 'empty pathname list'
	assert_output --partial 'missing.pem: No such file or directory: skipping this entry'
	run pm -s "hash:$T/sni"
	assert_output --regexp '^d\.example	[A-Za-z0-9+/=]+$'
}

@test "postmap keeps the quotes of a quoted domain, so the entry never matches" {
	source_of "\"a.example\" $A\n"
	run pm -F "hash:$T/sni"
	assert_success
	run lookup a.example
	assert_failure
	run lookup '"a.example"'
	assert_output 'key one'
}

@test "postmap reads a line only up to a NUL byte" {
	source_of "a.example $A\0$B\n"
	run pm -F "hash:$T/sni"
	assert_success
	run lookup a.example
	assert_output 'key one'
}

@test "postmap -F gives a new map its source's group and other bits; an existing map keeps its mode" {
	source_of "a.example $A\n"
	chmod 0644 "$T/sni"
	pm -F "hash:$T/sni"
	assert_file_permission 644 "$T/sni.db"
	rm "$T/sni.db"
	chmod 0600 "$T/sni"
	pm -F "hash:$T/sni"
	assert_file_permission 600 "$T/sni.db"
	chmod 0644 "$T/sni"
	pm -F "hash:$T/sni"
	assert_file_permission 600 "$T/sni.db"
}

@test "postmap -F writes the hash map under its real name, so a reader could see half of it" {
	command -v strace >/dev/null || skip "needs strace (tests/deps.sh installs it)"
	source_of "a.example $A\n"
	pm -F "hash:$T/sni"
	run strace -f -e trace=openat "$POSTMAP" -c "$T/postfix" -F "hash:$T/sni"
	assert_output --regexp "openat\([^\"]*\"$T/sni\.db\", O_RDWR"
}

@test "postmap sets its umask from a 0600 source before it makes the map" {
	command -v strace >/dev/null || skip "needs strace (tests/deps.sh installs it)"
	source_of "a.example $A\n"
	chmod 0600 "$T/sni"
	run strace -f -e trace=umask "$POSTMAP" -c "$T/postfix" -F "hash:$T/sni"
	assert_output --partial 'umask(077)'
}

@test "Postfix refuses an inline map with text after an element's closing brace" {
	run pm -s "inline:{ {a.example=$A}x }"
	assert_failure
	assert_output --partial "syntax error after '}'"
	run pm -s "inline:{ a.example = $A }"
	assert_failure
	assert_output --partial "missing '=' after attribute name"
}
