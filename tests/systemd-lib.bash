# A real systemd (Debian 12's, 252) as PID 1 of a private world, one per
# test: sd_boot in setup, sd_halt in teardown, sd_world to run a scenario
# in it.  tests/systemd-boot.sh says what the world is (an overlay of /
# whose writes stay in memory, only lo, the machine's services masked).
# The package is installed there as a package would be (make install
# install-systemd PREFIX=/usr), drop-ins included.
# shellcheck shell=bash

# The cgroup2 hierarchy: beside the v1 ones (these machines), or alone.
SD_ROOT=/sys/fs/cgroup/unified
[ -d "$SD_ROOT" ] || [ "$(stat -f -c %T /sys/fs/cgroup 2>/dev/null)" != cgroup2fs ] ||
	SD_ROOT=/sys/fs/cgroup

# sd_usable: skip unless this machine can boot systemd in a namespace.
sd_usable() {
	need_root
	[ -x /lib/systemd/systemd ] || skip "no systemd to boot"
	[ -d "$SD_ROOT" ] && [ -w "$SD_ROOT/cgroup.procs" ] ||
		skip "no writable cgroup2 hierarchy at $SD_ROOT"
}

# sd_boot: systemd up and idle; SD_PID is its PID 1 as this machine sees
# it, SD_CG the cgroup whose subtree it runs in.
sd_boot() {
	local i
	sd_sweep
	SD_CG=$SD_ROOT/pts-systemd-$$-${BATS_TEST_NUMBER:-0}-$RANDOM
	mkdir "$SD_CG"
	mkdir -p "$T/sd"
	# The subshell enters the fresh cgroup first: it becomes the root of
	# the new cgroup namespace, where systemd makes its own tree.  The
	# test's files and the tree under test (a mutant's copy lives in /tmp,
	# which the world has of its own) are bound in at their paths.
	(
		echo "$BASHPID" >"$SD_CG/cgroup.procs"
		exec unshare -pmuinC --fork --propagation private \
			bash "$TOP/tests/systemd-boot.sh" "$T/sd" "$BATS_RUN_TMPDIR" \
			"$TOP"
	) >"$T/sd.log" 2>&1 </dev/null &
	SD_UNSHARE=$!
	SD_PID=
	for i in $(seq 200); do
		SD_PID=$(cat "/proc/$SD_UNSHARE/task/$SD_UNSHARE/children" \
			2>/dev/null) || SD_PID=
		SD_PID=${SD_PID%% *}
		[ -n "$SD_PID" ] && break
		sleep 0.05
	done
	# The machine runs no systemd: the socket is this world's.
	for i in $(seq 200); do
		[ -n "$SD_PID" ] && sd test -S /run/systemd/private 2>/dev/null &&
			break
		sleep 0.05
	done
	[ "$i" -lt 200 ] || { cat "$T/sd.log" >&2; echo "systemd did not start" >&2; return 1; }
	# "running", or "degraded" when a unit of the machine's failed here.
	sd timeout 60 systemctl is-system-running --wait >/dev/null || true
	sd systemctl is-system-running | grep -qE '^(running|degraded)$' || {
		sd systemctl --failed --no-pager >&2
		echo "systemd did not come up" >&2
		return 1
	}
}

# sd_sweep: the cgroups of worlds whose bats process is gone (a run
# stopped before its teardown: the mutation run stops a file at its first
# failure), removed when empty.  The bats process's pid is in the name.
sd_sweep() {
	local d pid
	for d in "$SD_ROOT"/pts-systemd-*; do
		[ -d "$d" ] || continue
		pid=${d##*/pts-systemd-}
		pid=${pid%%-*}
		kill -0 "$pid" 2>/dev/null && continue
		find "$d" -depth -type d -exec rmdir {} + 2>/dev/null || true
	done
}

# sd COMMAND...: run COMMAND in the world (its namespaces and root), in
# a clean environment, as an admin's shell would.
sd() {
	nsenter -t "$SD_PID" -a env -i LANG=C.UTF-8 \
		PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
		"$@"
}

# sd_install: the package as an admin installs it (drop-ins as make
# install-systemd chooses them for the units in place), with the
# sanitizer pass's helper when there is one, and a resolver that answers
# NXDOMAIN at once, as tests/world.sh gives its worlds (the machine's is
# out of reach: only lo).
sd_install() {
	sd make -s -C "$TOP" install install-systemd PREFIX=/usr \
		SYSCONFDIR=/etc >/dev/null || return 1
	if [ -n "${PTS_HELPER:-}" ]; then
		sd install -m 0755 "$PTS_HELPER" /usr/sbin/postfix-tls-setup
		local lookup=${PTS_HELPER%/*}/postfix-tls-lookup
		[ ! -x "$lookup" ] || sd install -m 0755 "$lookup" \
			/usr/libexec/postfix-tls-setup/postfix-tls-lookup
	fi
	# Gentoo's package database says Postfix has USE=ssl (world.sh too);
	# conf.d is Gentoo's place for the tuning file.
	sd mkdir -p /var/db/pkg/mail-mta/postfix-3.8.4 /etc/conf.d
	echo "abi_x86_64 amd64 berkdb elibc_glibc kernel_linux pam sasl ssl" |
		sd tee /var/db/pkg/mail-mta/postfix-3.8.4/USE >/dev/null
	sd systemd-run --quiet --unit=pts-fakedns python3 "$TOP/tests/fakedns.py" \
		--addr 127.0.0.53 --port 53 --mode nxdomain --pidfile /run/world-dns.pid
	sd sh -c 'rm -f /etc/resolv.conf; echo "nameserver 127.0.0.53" >/etc/resolv.conf'
	for _ in $(seq 200); do
		sd test -s /run/world-dns.pid && break
		sleep 0.05
	done
	sd systemctl daemon-reload
}

# sd_world: run the scenario on stdin in the world, with the functions of
# tests/world-lib.bash (make_postfix, use_tls, starttls...),
# tests/renewal-lib.bash (served_serial, serves, master_pid...) and this
# file's below.
sd_world() {
	cat >"$T/scenario.sh"
	sd PKI="$PKI" HOST="$HOST" TOP="$TOP" bash -c '
		. "$TOP/tests/world-lib.bash"
		. "$TOP/tests/renewal-lib.bash"
		. "$TOP/tests/systemd-lib.bash"
		. "$1"' scenario "$T/scenario.sh"
}

# sd_halt: PID 1 killed (everything in its namespaces dies with it, its
# mounts vanish), then its cgroup subtree removed.  Safe to call twice.
sd_halt() {
	local i
	if [ -n "${SD_PID:-}" ]; then
		kill -KILL "$SD_PID" 2>/dev/null || true
		wait "$SD_UNSHARE" 2>/dev/null || true
		SD_PID=
	fi
	[ -n "${SD_CG:-}" ] && [ -d "$SD_CG" ] || return 0
	for i in $(seq 100); do
		find "$SD_CG" -depth -type d -exec rmdir {} + 2>/dev/null
		[ -d "$SD_CG" ] || return 0
		sleep 0.1
	done
	echo "sd_halt: $SD_CG is still there" >&2
	return 1
}

# ---- The scenarios both unit shapes must pass (run from the bats files,
# which set SD_UNIT, the unit that runs the instance, and SD_START and
# SD_RELOAD, the admin's commands) ----

# A refused start: a key that does not match.  No master, the instance's
# unit failed, the reason and the refusal in its journal once each, at
# priority err, and nothing on disk changed.
sd_refused_start() {
	run sd_world <<-SCENARIO
	$SD_GOOD_WORLD
	postfix-tls-setup -q deploy
	cp "\$PKI/other.example.org.key" /etc/ssl/mail/key.pem
	before=\$(sd_state)
	$SD_START; say "start=\$?"
	systemctl is-failed --quiet $SD_UNIT && say "unit failed"
	running && say "postfix running" || say "no master"
	[ "\$before" = "\$(sd_state)" ] && say "nothing changed"
	say "reason: \$(sd_lines $SD_UNIT 'key.pem: private key does not match public key')"
	say "refusal: \$(sd_lines $SD_UNIT 'postfix-tls-setup refused (exit 65) for /etc/postfix; Postfix was left as it was')"
	say "as errors: \$(sd_errors $SD_UNIT 'private key does not match')"
	journalctl -q -u $SD_UNIT -o cat
	SCENARIO
	assert_success
	assert_output --partial "@@ unit failed"
	assert_output --partial "@@ no master"
	assert_output --partial "@@ nothing changed"
	assert_output --partial "@@ reason: 1"
	assert_output --partial "@@ refusal: 1"
	assert_output --partial "@@ as errors: 1"
	refute_output --partial "<3>"
}

# A good start: the bundle written (said once), the unit active, and a
# verifying client's STARTTLS handshake accepts the chain served.
sd_good_start() {
	run sd_world <<-SCENARIO
	$SD_GOOD_WORLD
	$SD_START; say "start=\$?"
	systemctl is-active --quiet $SD_UNIT && say "unit active"
	running && say "postfix running"
	starttls 127.0.0.1
	say "served: \$(served_chain 127.0.0.1:25)"
	say "wrote: \$(sd_lines $SD_UNIT 'wrote /etc/postfix/certificate.pem (3 certificates)')"
	SCENARIO
	assert_success
	assert_output --partial "@@ start=0"
	assert_output --partial "@@ unit active"
	assert_output --partial "@@ postfix running"
	assert_output --partial "Verification: OK"
	assert_output --partial "Verified peername: $HOST"
	assert_output --partial "@@ served: $HOST inter2 inter1 "
	assert_output --partial "@@ wrote: 1"
}

# A refused reload: a renewed certificate without its key.  The reload
# fails, the master was not reloaded (same PID, no reload in its log),
# the old leaf is still served, nothing on disk changed, the unit runs on.
sd_refused_reload() {
	run sd_world <<-SCENARIO
	$SD_GOOD_WORLD
	$SD_START; say "start=\$?"
	old=\$(served_serial); pid=\$(master_pid)
	cp "\$PKI/renewed.pem" /etc/ssl/mail/cert.pem
	before=\$(sd_state)
	systemctl reload $SD_UNIT; say "reload=\$?"
	systemctl is-active --quiet $SD_UNIT && say "unit active"
	[ "\$(master_pid)" = "\$pid" ] && say "same master"
	sleep 1	# master's reload and its log are asynchronous
	say "reloads: \$(sd_reloads)"
	[ -n "\$old" ] && [ "\$(served_serial)" = "\$old" ] && say "old leaf served"
	[ "\$before" = "\$(sd_state)" ] && say "nothing changed"
	say "reason: \$(sd_lines $SD_UNIT 'key.pem: private key does not match public key')"
	SCENARIO
	assert_success
	assert_output --partial "@@ start=0"
	assert_output --regexp "@@ reload=[1-9]"
	assert_output --partial "@@ unit active"
	assert_output --partial "@@ same master"
	assert_output --partial "@@ reloads: 0"
	assert_output --partial "@@ old leaf served"
	assert_output --partial "@@ nothing changed"
	assert_output --partial "@@ reason: 1"
}

# A good reload: the renewed certificate and its key.  The new leaf is
# served by the same master, reloaded once.
sd_good_reload() {
	run sd_world <<-SCENARIO
	$SD_GOOD_WORLD
	$SD_START; say "start=\$?"
	old=\$(served_serial); pid=\$(master_pid)
	cp "\$PKI/renewed.pem" /etc/ssl/mail/cert.pem
	cp "\$PKI/renewed.key" /etc/ssl/mail/key.pem
	new=\$(serial_of /etc/ssl/mail/cert.pem)
	[ "\$new" != "\$old" ] && say "a new leaf"
	$SD_RELOAD; say "reload=\$?"
	serves "\$new" && say "new leaf served"
	[ "\$(master_pid)" = "\$pid" ] && say "same master"
	systemctl is-active --quiet $SD_UNIT && say "unit active"
	say "reloads: \$(sd_reloads)"
	SCENARIO
	assert_success
	assert_output --partial "@@ start=0"
	assert_output --partial "@@ a new leaf"
	assert_output --partial "@@ reload=0"
	assert_output --partial "@@ new leaf served"
	assert_output --partial "@@ same master"
	assert_output --partial "@@ unit active"
	assert_output --partial "@@ reloads: 1"
}

# renew, as an ACME client's hook runs it: the new files deployed and the
# instance reloaded through systemctl reload (its drop-in checks once
# more), never restarted: same master, new leaf.
sd_renew_reloads() {
	run sd_world <<-SCENARIO
	$SD_GOOD_WORLD
	# The bundle carries the key: a renewal changes both in one step.
	postconf -X smtpd_tls_cert_file smtpd_tls_key_file
	postconf -e smtpd_tls_chain_files=/etc/postfix/certificate.pem
	touch -d '1 hour ago' /etc/postfix/main.cf
	$SD_START; say "start=\$?"
	pid=\$(master_pid)
	cp "\$PKI/renewed.pem" /etc/ssl/mail/cert.pem
	cp "\$PKI/renewed.key" /etc/ssl/mail/key.pem
	new=\$(serial_of /etc/ssl/mail/cert.pem)
	postfix-tls-setup renew --cert /etc/ssl/mail/cert.pem --key /etc/ssl/mail/key.pem --chain /etc/ssl/mail/chain.pem; say "renew=\$?"
	serves "\$new" && say "new leaf served"
	[ "\$(master_pid)" = "\$pid" ] && say "same master"
	say "reloads: \$(sd_reloads)"
	say "checked in the reload: \$(sd_lines $SD_UNIT 'postfix-tls-setup')"
	SCENARIO
	assert_success
	assert_output --partial "@@ start=0"
	assert_output --partial "reloaded $SD_UNIT"
	assert_output --partial "@@ renew=0"
	assert_output --partial "@@ new leaf served"
	assert_output --partial "@@ same master"
	assert_output --partial "@@ reloads: 1"
}

# The probe after the start (ExecStartPost=+): settings that make every
# STARTTLS handshake fail are warned of and the unit runs on; with
# POSTFIX_TLS_PROBE=stop the unit fails and systemd stops Postfix.
sd_probe_stop() {
	run sd_world <<-SCENARIO
	$SD_GOOD_WORLD
	postconf -e 'smtpd_tls_protocols = !SSLv2, !SSLv3, !TLSv1, !TLSv1.1, !TLSv1.2, !TLSv1.3'
	touch -d '1 hour ago' /etc/postfix/main.cf
	$SD_START; say "warn-start=\$?"
	systemctl is-active --quiet $SD_UNIT && say "warn: unit active"
	running && say "warn: running"
	say "warned: \$(sd_lines $SD_UNIT 'smtp/inet: 127.0.0.1:25: STARTTLS: the TLS handshake failed')"
	systemctl stop postfix
	echo POSTFIX_TLS_PROBE=stop >>/etc/conf.d/postfix-tls-setup
	$SD_START; say "stop-start=\$?"
	systemctl is-failed --quiet $SD_UNIT && say "stop: unit failed"
	running && say "stop: running" || say "stop: no master"
	say "stopping: \$(sd_lines $SD_UNIT 'TLS failed after the start (exit 76); stopping $SD_UNIT again, as POSTFIX_TLS_PROBE=stop asks')"
	SCENARIO
	assert_success
	assert_output --partial "@@ warn-start=0"
	assert_output --partial "@@ warn: unit active"
	assert_output --partial "@@ warn: running"
	assert_output --partial "@@ warned: 1"
	assert_output --partial "@@ stop: unit failed"
	assert_output --partial "@@ stop: no master"
	assert_output --partial "@@ stopping: 1"
}

# ---- Inside the world (sd_world sources this file there too) ----

# What every scenario starts from: Postfix at 127.0.0.1 with a good chain
# given out of order, the helper tuned to it.
# shellcheck disable=SC2016 # expanded in the world
SD_GOOD_WORLD='
make_postfix /etc/postfix 127.0.0.1
use_tls "$HOST" inter1 inter2
tune /etc/conf.d/postfix-tls-setup
'

# sd_state: the helper's inputs and everything under /etc/postfix, as a
# refusal must leave them (tests/renewal-lib.bash's postfix_state, plus
# the inputs).
sd_state() {
	postfix_state
	sha256sum /etc/ssl/mail/*
}

# sd_lines UNIT TEXT: how many lines of UNIT's journal hold TEXT (each
# must reach the journal once: not also through syslog).
sd_lines() {
	journalctl --sync
	journalctl -q -u "$1" -o cat | grep -cF -- "$2"
}

# sd_errors UNIT TEXT: the same, among its lines at priority err (the
# helper's "<3>" prefix, read by journald).
sd_errors() {
	journalctl --sync
	journalctl -q -u "$1" -p err -o cat | grep -cF -- "$2"
}

# sd_reloads: how many times master said it reloaded (its log).
sd_reloads() {
	grep -c "reload -- version" /var/log/postfix.log
}
