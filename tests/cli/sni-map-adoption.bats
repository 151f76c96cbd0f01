#!/usr/bin/env bats
# Issue 19, hole 6: a compiled SNI map is Postfix's copy of the keys, and
# smtpd serves what is in it.  One that is not root's alone, or that is
# dated in the future (so that no later change of its source ever looks
# newer), is rebuilt from the checked source, never adopted with whatever
# its owner put in it.

load ../helpers

setup_file() {
	pki_common
	pki_cert a.example.net inter2 server
	pki_cert b.example.net inter2 server
	pki_cert other.example.org inter2 server	# hers
}

setup() {
	need_root
	setup_world
	good_bundle
	sni_map hash "$(sni_entry a.example.net a.example.net)"
	DB=$T/postfix/sni.db
}

# served DOMAIN: the subject of the leaf the map holds for DOMAIN.
served() {
	postmap -c "$T/postfix" -q "$1" "hash:$T/postfix/sni" | base64 -d |
		subjects /dev/stdin | head -n 1
}

# her_map: the map replaced by one nobody built, mapping a.example.net to
# her own key and certificate (her files gone since: only the map holds
# them), nobody's, dated a day ahead; the source is as it was.
her_map() {
	local d=$BATS_TEST_TMPDIR/her
	mkdir "$d"
	leaf_files other.example.org other.example.org "$d" o
	echo "a.example.net $d/o.key, $d/o.pem" >"$d/sni"
	postmap -c "$T/postfix" -F "hash:$d/sni"
	cp "$d/sni.db" "$DB"
	rm -r "$d"
	chown nobody:nogroup "$DB"
	touch -d '+1 day' "$DB"
	assert_equal "$(served a.example.net)" other.example.org
}

@test "a compiled SNI map another user owns, dated in the future, is rebuilt from the checked source, not adopted" {
	her_map
	before=$(snapshot)
	run deploy_inputs check
	assert_success
	assert_line --regexp "^would rebuild $DB.*: it is (not root's alone|dated in the future)"
	assert_equal "$(snapshot)" "$before"
	run deploy_inputs deploy
	assert_success
	assert_line --regexp "^rebuilt $DB"
	assert_equal "$(served a.example.net)" a.example.net
	assert_equal "$(stat -c '%U:%G %a' "$DB")" "root:root 600"
}

@test "a map another user owns, its time right, is rebuilt: it is not root's alone" {
	her_map
	touch "$DB"	# now: newer than the source and its files, not stale by time
	run deploy_inputs check
	assert_success
	assert_line --regexp "^would rebuild $DB.*: it is not root's alone"
	refute_output --partial "would change the owner of $DB"
	run deploy_inputs deploy
	assert_success
	assert_equal "$(served a.example.net)" a.example.net
	assert_equal "$(stat -c '%U:%G %a' "$DB")" "root:root 600"
}

@test "a root-only map dated in the future is rebuilt: a source changed since would never look newer" {
	touch -d '+1 day' "$DB"
	sni_entry b.example.net b.example.net >>"$T/postfix/sni"	# added since
	run deploy_inputs check
	assert_success
	assert_line --regexp "^would rebuild $DB.*: it is dated in the future"
	run deploy_inputs deploy
	assert_success
	assert_equal "$(served b.example.net)" b.example.net
	[ "$(stat -c %Y "$DB")" -le "$(date +%s)" ] || fail "the new map is dated in the future too"
}
