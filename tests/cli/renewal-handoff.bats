#!/usr/bin/env bats
# Issue 20, part 2: renew leaves the ACME client's files alone, and an
# unprivileged client hands its new files to root through a request
# (renew --request as the client's user, renew --pending as root; renew.h
# and handoff.h have the design, SECURITY.md the attacker model).  The
# attacker here is the client's user: every refusal is checked for its
# status, its message, and that nothing changed on disk.

load ../helpers

setup_file() {
	pki_common
	pki_cert other.example.org inter2 server
	mkdir -p "$PKI/next"
	cp "$PKI/inter2.pem" "$PKI/inter2.key" "$PKI/next/"
	PKI=$PKI/next pki_cert "$HOST" inter2 server
}

# main.cf reads key and chain from the helper's bundle; deployed once.
setup() {
	need_root
	setup_world
	OPENED=()
	CLIENT=nobody
	CGROUP=$(id -gn "$CLIENT")
	RECORDS=$T/root/var/lib/postfix-tls-setup
	printf '%s\n' "smtpd_tls_security_level = may" \
		"smtpd_tls_chain_files = $BUNDLE" "myhostname = $HOST" \
		>"$T/postfix/main.cf"
	settle_maincf
	printf '%s\n' "POSTFIX_TLS_BUNDLE=$BUNDLE" >"$T/conf"
	mkdir -p "$T/root/var/lib"
	helper -q deploy --cert "$T/ssl/cert.pem" --key "$T/ssl/key.pem" \
		--chain "$T/ssl/chain.pem"
	assert_file_exists "$BUNDLE"
}

teardown() {
	local e m d
	for e in "${OPENED[@]}"; do
		m=${e%% *}
		d=${e#* }
		chmod "$m" "$d"
	done
}

# renew_as_root ARGS...: renew with no init system in sight (empty /run).
renew_as_root() {
	unshare --mount --propagation private sh -c \
		'mount -t tmpfs none /run && exec "$@"' sh \
		"$HELPER" -c "$T/postfix" --root "$T/root" --conf "$T/conf" \
		--cafile "$PKI/root.pem" renew "$@"
}

# Owner, group, mode, size, times and bytes of a file, for "unchanged".
metadata() {
	stat -c '%u:%g %a %s %Y %Z %i %h' "$1"
	sha256sum <"$1"
}

@test "renew as root leaves the client's own key (user:group 0640) exactly as it was, and copies it into the bundle" {
	A=$T/acme
	mkdir -p "$A"
	chmod 755 "$A"
	cp "$PKI/next/$HOST.pem" "$A/cert.pem"
	cp "$PKI/chain.pem" "$A/chain.pem"
	install -m 0640 -o "$CLIENT" -g "$CGROUP" "$PKI/next/$HOST.key" "$A/key.pem"
	before=$(metadata "$A/key.pem"; metadata "$A/cert.pem")
	run renew_as_root --cert "$A/cert.pem" --key "$A/key.pem" --chain "$A/chain.pem"
	assert_success
	assert_output --partial "wrote $BUNDLE"
	assert_equal "$(metadata "$A/key.pem"; metadata "$A/cert.pem")" "$before"
	assert_equal "$(openssl pkey -in "$BUNDLE" -pubout)" \
		"$(openssl pkey -in "$PKI/next/$HOST.key" -pubout)"
	assert_equal "$(stat -c '%u:%g %a' "$BUNDLE")" "0:0 600"
}

# The unprivileged client: its user owns $A and its files; the spool is
# root's, writable by the client's group (1730).
client_setup() {
	local d=$T
	# The client's user must walk down to $T: each directory above it,
	# up to /tmp (bats' run directory, a mutant run's tree), gets o+x
	# for the test and its mode back in teardown.
	OPENED=()
	while [ "${d#/tmp/}" != "$d" ]; do
		OPENED+=("$(stat -c %a "$d") $d")
		chmod o+x "$d"
		d=${d%/*}
	done
	[ -n "${OPENED[*]}" ] || fail "the test world is not under /tmp: $T"
	A=$T/client
	SPOOL=$T/root/var/spool/postfix-tls-setup
	install -d -m 0755 -o "$CLIENT" -g "$CGROUP" "$A"
	install -d -m 0755 "$T/root/var/spool"
	install -d -m 1730 -o root -g "$CGROUP" "$SPOOL"
	install -m 0644 -o "$CLIENT" -g "$CGROUP" "$PKI/next/$HOST.pem" "$A/cert.pem"
	install -m 0644 -o "$CLIENT" -g "$CGROUP" "$PKI/chain.pem" "$A/chain.pem"
	install -m 0600 -o "$CLIENT" -g "$CGROUP" "$PKI/next/$HOST.key" "$A/key.pem"
	# The helper's own copy where the client's user may run it (the
	# tree under test may lie where that user cannot look).
	install -m 0755 "$HELPER" "$T/client-helper"
}

# as_client COMMAND...: run as the client's user, its groups, no way back.
as_client() {
	setpriv --reuid="$CLIENT" --regid="$CGROUP" --init-groups \
		--no-new-privs "$@"
}

# request [ARGS...]: the client asks, as its user.
request() {
	as_client "$T/client-helper" -c "$T/postfix" --root "$T/root" --conf "$T/conf" \
		renew --request --cert "$A/cert.pem" --key "$A/key.pem" \
		--chain "$A/chain.pem" "$@"
}

@test "an unprivileged client's request is deployed by root's renew --pending, and its files stay exactly as they were" {
	client_setup
	before=$(for f in "$A"/*; do metadata "$f"; done)
	run request
	assert_success
	assert_output --partial "asked for the renewal"
	assert_equal "$(stat -c '%U %a' "$SPOOL/request.$(id -u "$CLIENT")")" "$CLIENT 600"
	run renew_as_root --pending
	assert_success
	assert_output --partial "request request.$(id -u "$CLIENT") from $CLIENT"
	assert_output --partial "wrote $BUNDLE"
	assert_equal "$(openssl x509 -in "$BUNDLE" -noout -serial)" \
		"$(openssl x509 -in "$PKI/next/$HOST.pem" -noout -serial)"
	assert_equal "$(openssl pkey -in "$BUNDLE" -pubout)" \
		"$(openssl pkey -in "$PKI/next/$HOST.key" -pubout)"
	assert_equal "$(for f in "$A"/*; do metadata "$f"; done)" "$before"
	# Nothing left behind: the request taken, the staged copies removed.
	assert_equal "$(ls -A "$SPOOL")" ""
	assert_equal "$(ls -A "$RECORDS/handoff")" ""
	assert_file_not_exists "$RECORDS/renewal-"*
	run renew_as_root --pending
	assert_success
	assert_output --partial "no renewal request waits"
}

# refused_handoff STATUS MESSAGE: root's --pending refuses, the bundle
# and everything under $T but the spool and the records is unchanged, the
# request is gone, and the refusal is recorded for check.
refused_handoff() {
	refuses "$1" "$2" renew_as_root --pending
	refute_output --partial "wrote"
	assert_equal "$(ls -A "$SPOOL")" ""
	assert_equal "$(ls -A "$RECORDS/handoff" 2>/dev/null)" ""
	run helper check
	assert_output --partial "renewal refused since"
}

@test "a request naming /etc/shadow as the key is refused: root reads the client's files as the client's user" {
	client_setup
	shadow=$(metadata /etc/shadow)
	run request --key /etc/shadow
	assert_success
	refused_handoff 77 "/etc/shadow: request request.$(id -u "$CLIENT") refused: the client's user cannot read it: Permission denied"
	assert_equal "$(metadata /etc/shadow)" "$shadow"
}

@test "a request naming a root-only key is refused, and a root key the client can read is refused too" {
	client_setup
	install -m 0600 "$PKI/next/$HOST.key" "$T/ssl/next.key"
	run request --key "$T/ssl/next.key"
	assert_success
	refused_handoff 77 "$T/ssl/next.key: request request.$(id -u "$CLIENT") refused: the client's user cannot read it: Permission denied"
	chmod 0644 "$T/ssl/next.key"
	run request --key "$T/ssl/next.key"
	assert_success
	refused_handoff 77 "a key of root's is never handed over by a client"
}

@test "links the client swaps in after its request are followed with the client's rights only: a link to a root-only key or to /etc/shadow is refused" {
	client_setup
	install -m 0600 "$PKI/next/$HOST.key" "$T/ssl/next.key"
	run request
	assert_success
	as_client ln -sf "$T/ssl/next.key" "$A/key.pem"
	refused_handoff 77 "$A/key.pem: request request.$(id -u "$CLIENT") refused: the client's user cannot read it: Permission denied"
	run request
	as_client ln -sf /etc/shadow "$A/cert.pem"
	refused_handoff 77 "$A/cert.pem: request request.$(id -u "$CLIENT") refused: the client's user cannot read it: Permission denied"
}

@test "a FIFO in place of the client's key is refused at once, never waited on" {
	client_setup
	as_client rm "$A/key.pem"
	as_client mkfifo "$A/key.pem"
	run request
	assert_success
	refused_handoff 77 "$A/key.pem: request request.$(id -u "$CLIENT") refused: not a regular file"
}

@test "a huge file in place of the client's certificate is refused: the hand-off reads at most 1 MiB a file" {
	client_setup
	head -c 2M /dev/zero >>"$A/cert.pem"
	run request
	assert_success
	refused_handoff 77 "$A/cert.pem: request request.$(id -u "$CLIENT") refused: more than the limit of 1048576 bytes"
}

@test "entries named like requests that are not their user's (40 taken names, a directory, a bad name) are removed and never hold up a real request" {
	client_setup
	run request
	assert_success
	uid=$(id -u "$CLIENT")
	# Names taken from other users, a directory with files in it, a name
	# the path unit wakes for but no request has; other names are left.
	as_client sh -c "for i in \$(seq 1000 1039); do cp '$SPOOL/request.$uid' '$SPOOL/request.'\$i; done
		mkdir '$SPOOL/request.1x' && mkdir '$SPOOL/request.1x/d' && touch '$SPOOL/request.1x/d/f'
		touch '$SPOOL/request.07' '$SPOOL/.request.$uid.123' '$SPOOL/junk'"
	before=$(for f in "$A"/*; do metadata "$f"; done)
	run renew_as_root --pending
	assert_failure 77
	assert_output --partial "removed 42 entries named like a request that were not one"
	assert_output --partial "request request.$uid from $CLIENT"
	assert_output --partial "wrote $BUNDLE"
	assert_equal "$(openssl x509 -in "$BUNDLE" -noout -serial)" \
		"$(openssl x509 -in "$PKI/next/$HOST.pem" -noout -serial)"
	assert_equal "$(for f in "$A"/*; do metadata "$f"; done)" "$before"
	# Left: what the path unit does not wake for (request.[0-9]*).
	assert_equal "$(ls -A "$SPOOL" | sort | tr '\n' ' ')" ".request.$uid.123 junk "
}

@test "one client's refused request does not refuse another's in the same run: each request is judged on its own" {
	client_setup
	run request
	assert_success
	# A second client of the group (daemon, uid 1, in the spool's group)
	# asks for /etc/shadow as its key in the same run.
	setpriv --reuid=daemon --regid="$CGROUP" --clear-groups --no-new-privs \
		"$T/client-helper" -c "$T/postfix" --root "$T/root" --conf "$T/conf" \
		renew --request --cert "$A/cert.pem" --key /etc/shadow
	assert_file_exists "$SPOOL/request.1"
	run renew_as_root --pending
	assert_failure 77
	assert_output --partial "/etc/shadow: request request.1 refused: the client's user cannot read it"
	assert_output --partial "wrote $BUNDLE"
	assert_equal "$(openssl x509 -in "$BUNDLE" -noout -serial)" \
		"$(openssl x509 -in "$PKI/next/$HOST.pem" -noout -serial)"
	assert_equal "$(ls -A "$SPOOL")" ""
}

@test "a directory in place of the client's request is refused and removed with what the client put in it" {
	client_setup
	uid=$(id -u "$CLIENT")
	as_client sh -c "mkdir -p '$SPOOL/request.$uid/a/b' && touch '$SPOOL/request.$uid/f' '$SPOOL/request.$uid/a/b/g' && ln -s /etc/shadow '$SPOOL/request.$uid/a/l'"
	shadow=$(metadata /etc/shadow)
	refused_handoff 77 "request.$uid: request refused: not a regular file"
	assert_equal "$(metadata /etc/shadow)" "$shadow"
}

@test "a request others could write is refused: it may not be what its user asked" {
	client_setup
	run request
	assert_success
	chmod 0666 "$SPOOL/request.$(id -u "$CLIENT")"
	refused_handoff 77 "request refused: others could write or read it"
}

@test "a request naming a file with a control character is refused, never printed; the client is told at once" {
	client_setup
	uid=$(id -u "$CLIENT")
	as_client sh -c "printf 'postfix-tls-setup request 1\ncert $A/cert.pem\033]0;x\007\rFAKE\nkey $A/key.pem\n' >'$SPOOL/.t' && chmod 600 '$SPOOL/.t' && mv '$SPOOL/.t' '$SPOOL/request.$uid'"
	refused_handoff 65 "request.$uid: is not a renewal request"
	refute_output --partial "FAKE"
	as_client ln -s "$A/cert.pem" "$A/$(printf 'c\033[2Jx')"
	run request --cert "$A/$(printf 'c\033[2Jx')"
	assert_failure 64
	assert_output --partial "a name with a control character (a newline, an escape) cannot be handed over"
	assert_equal "$(ls -A "$SPOOL")" ""
}

@test "a reader the client's user stops is killed at the deadline: root's run ends, says why, and the old bundle stays" {
	client_setup
	# Big files keep the reader at work long enough to be stopped.
	for f in cert chain; do
		as_client sh -c "head -c 900000 /dev/zero | tr '\\0' '#' >>'$A/$f.pem'"
	done
	run request
	assert_success
	old=$(sha256sum <"$BUNDLE")
	# In a PID namespace of its own, the client's user stops every
	# process of hers it can reach (kill -1: the reader, once it is hers).
	run timeout 60 unshare --pid --fork --mount --propagation private sh -c '
		setpriv --reuid="$1" --regid="$2" --init-groups --no-new-privs \
			sh -c "while :; do kill -STOP -1; done" 2>/dev/null &
		stopper=$!
		shift 2
		mount -t tmpfs none /run
		"$@"
		rc=$?
		kill -9 "$stopper"
		exit "$rc"' sh "$CLIENT" "$CGROUP" \
		"$HELPER" -c "$T/postfix" --root "$T/root" --conf "$T/conf" \
		--cafile "$PKI/root.pem" renew --pending
	assert_failure 75
	assert_output --partial "request request.$(id -u "$CLIENT") refused: the client's files were not handed over within 10 s (its user $CLIENT stopped or slowed the reader, which was killed)"
	assert_equal "$(sha256sum <"$BUNDLE")" "$old"
	assert_equal "$(ls -A "$SPOOL")" ""
	run helper check
	assert_output --partial "renewal refused since"
}

@test "a request that is itself a symbolic link (to /etc/shadow) is refused, and so is one that is not a request" {
	client_setup
	as_client ln -s /etc/shadow "$SPOOL/request.$(id -u "$CLIENT")"
	refused_handoff 77 "request refused: it is a symbolic link"
	as_client sh -c "umask 077 && echo 'cert /etc/shadow' >'$SPOOL/request.$(id -u "$CLIENT")'"
	refused_handoff 65 "is not a renewal request"
}

@test "a spool others may write into is refused, and its requests are left alone" {
	client_setup
	run request
	chmod 0777 "$SPOOL"
	refuses 77 "the spool is not root's, or others could list it or remove its requests" \
		renew_as_root --pending
	assert_file_exists "$SPOOL/request.$(id -u "$CLIENT")"
	# A group that may list the spool may also open it and hold its lock.
	chmod 1770 "$SPOOL"
	refuses 77 "the spool is not root's, or others could list it or remove its requests (owner root, mode 1770)" \
		renew_as_root --pending
	assert_file_exists "$SPOOL/request.$(id -u "$CLIENT")"
}

@test "the shipped cron line runs root's side as written: a waiting request is deployed" {
	client_setup
	run request
	assert_success
	line=$(grep -v '^#' "$TOP/files/handoff/postfix-tls-setup.cron")
	read -r -a f <<<"$line"
	assert_equal "${f[5]} ${f[6]}" "root /usr/sbin/postfix-tls-setup"
	# Its own arguments (-q renew --pending), after the world's options.
	helper_args=("${f[@]:7}")
	run unshare --mount --propagation private sh -c \
		'mount -t tmpfs none /run && exec "$@"' sh \
		"$HELPER" -c "$T/postfix" --root "$T/root" --conf "$T/conf" \
		--cafile "$PKI/root.pem" "${helper_args[@]}"
	assert_success
	assert_equal "$(openssl x509 -in "$BUNDLE" -noout -serial)" \
		"$(openssl x509 -in "$PKI/next/$HOST.pem" -noout -serial)"
	assert_equal "$(ls -A "$SPOOL")" ""
}

@test "dehydrated's hook, run as the client's own user, asks instead of renewing, and root's --pending deploys it" {
	client_setup
	mkdir -p "$T/bin"
	printf '#!/bin/sh\nexec %s -c %s --root %s --conf %s "$@"\n' \
		"$T/client-helper" "$T/postfix" "$T/root" "$T/conf" >"$T/bin/pts"
	sed -e "s|/usr/sbin/postfix-tls-setup|$T/bin/pts|g" \
		"$TOP/files/hooks/dehydrated" >"$T/bin/dehydrated"
	chmod 755 "$T" "$T/bin" "$T/bin/pts" "$T/bin/dehydrated"
	old=$(sha256sum <"$BUNDLE")
	run as_client env -i PATH=/usr/bin:/bin "$T/bin/dehydrated" deploy_cert \
		"$HOST" "$A/key.pem" "$A/cert.pem" "$A/fullchain.pem" "$A/chain.pem" 1796600000
	assert_success
	assert_output --partial "asked for the renewal"
	assert_equal "$(sha256sum <"$BUNDLE")" "$old"
	run renew_as_root --pending
	assert_success
	assert_equal "$(openssl x509 -in "$BUNDLE" -noout -serial)" \
		"$(openssl x509 -in "$PKI/next/$HOST.pem" -noout -serial)"
}
