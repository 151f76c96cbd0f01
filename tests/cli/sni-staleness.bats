#!/usr/bin/env bats
# Issue 19, class (f): when a compiled SNI map is stale, one cause at a
# time.  smtpd serves what the map holds, so it must be rebuilt when it is
# missing, when its source changed after it, or when a file an entry names
# did -- by its mtime, or by its ctime alone (restored with cp -p, rsync
# -a or tar, which keep an old mtime) -- and it must be left alone when
# nothing changed after it.  Each test makes exactly one cause true, and
# checks that it is the only one, from the files' own times.

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
	# Two entries, each naming a key file and a chain file; the map is
	# built after all of them were written, so it is up to date.
	sni_map hash "$(sni_entry a.example.net a.example.net)" \
		"$(sni_entry b.example.net b.example.net)"
	DB=$T/postfix/sni.db
	PEM=$T/ssl/b.example.net.pem	# the last file the map names
}

# later FILE1 TIME1 FILE2 TIME2: FILE1's TIME1 is later than FILE2's TIME2
# (each mtime or ctime, to the nanosecond).
later() {
	python3 -c '
import os, sys
t = lambda f, w: getattr(os.stat(f), "st_%s_ns" % w)
sys.exit(0 if t(sys.argv[1], sys.argv[2]) > t(sys.argv[3], sys.argv[4]) else 1)' "$@"
}

# only_cause: no file but the ones the test changed is newer than the
# map, by mtime or ctime: CHANGED names them (the source, or the chain file).
only_cause() {
	local f w
	for f in "$T/postfix/sni" "$T"/ssl/a.example.net.* "$T"/ssl/b.example.net.*; do
		[[ " $CHANGED " == *" $f "* ]] && continue
		for w in mtime ctime; do
			! later "$f" "$w" "$DB" mtime || fail "$f's $w is later than the map's"
		done
	done
}

# rebuilt_for WHY [again]: check says it would rebuild the map for WHY and
# changes nothing; deploy rebuilds it (a new file in place, holding the
# entries); then it is up to date: neither check nor deploy rebuild it
# again -- unless "again": the cause is still true after the rebuild.
rebuilt_for() {
	local before ino
	before=$(snapshot)
	run deploy_inputs check
	assert_success
	assert_output --partial "would rebuild $DB with postmap -F, root:root 0600: $1"
	assert_equal "$(snapshot)" "$before"
	ino=$(stat -c %i "$DB" 2>/dev/null || echo none)
	run deploy_inputs deploy
	assert_success
	assert_output --partial "rebuilt $DB from $T/postfix/sni with postmap -F, root:root 0600"
	assert_not_equal "$(stat -c %i "$DB")" "$ino"
	run postmap -c "$T/postfix" -q b.example.net "hash:$T/postfix/sni"
	assert_success
	assert_equal "$(base64 -d <<<"$output" | subjects /dev/stdin | head -n1)" b.example.net
	[ "${2:-}" = again ] || up_to_date
}

# up_to_date: neither check nor deploy rebuild the map, and deploy leaves
# it as it is (same file, same mtime).
up_to_date() {
	local was
	was=$(stat -c '%i %.9Y' "$DB")
	run deploy_inputs check
	assert_success
	refute_output --partial "would rebuild"
	run deploy_inputs deploy
	assert_success
	refute_output --partial "rebuilt"
	assert_equal "$(stat -c '%i %.9Y' "$DB")" "$was"
}

@test "an SNI map built after its source and every file it names is not rebuilt" {
	CHANGED='' only_cause
	up_to_date
}

@test "a missing SNI map is built, though its source and files are as old as before" {
	CHANGED='' only_cause
	rm "$DB"
	rebuilt_for "it does not exist"
}

@test "an SNI map whose source changed after it is rebuilt, though no file it names did" {
	sleep 0.01
	touch "$T/postfix/sni"
	CHANGED=$T/postfix/sni only_cause
	rebuilt_for "its source $T/postfix/sni is newer"
}

@test "an SNI map is rebuilt when a file it names has a later mtime, though its ctime is older than the map" {
	# The chain file dated an hour ahead (copied from a machine whose
	# clock runs ahead); then the map touched, after that change.
	touch -m -d '+1 hour' "$PEM"
	sleep 0.01
	touch "$DB"
	later "$PEM" mtime "$DB" mtime || fail "the mtime is not the later one"
	! later "$PEM" ctime "$DB" mtime || fail "the ctime is later too"
	CHANGED=$PEM only_cause
	# Still an hour ahead of the rebuilt map: the next run rebuilds again.
	rebuilt_for "$PEM, named at $T/postfix/sni:2, is newer" again
}

@test "an SNI map is rebuilt when a file it names is restored with its old mtime (cp -p): its ctime alone is later" {
	cp -p "$PEM" "$T/pem.backup"
	touch -d '1 day ago' "$T/pem.backup"
	sleep 0.01
	cp -p "$T/pem.backup" "$PEM"
	! later "$PEM" mtime "$DB" mtime || fail "the mtime is later too"
	later "$PEM" ctime "$DB" mtime || fail "the ctime is not the later one"
	CHANGED=$PEM only_cause
	rebuilt_for "$PEM, named at $T/postfix/sni:2, is newer"
}
