# A real systemd (Debian 12's, 252) as PID 1 of a private world, one per
# test: sd_boot in setup, sd_halt in teardown, sd_world to run a scenario
# in it.  tests/systemd-boot.sh says what the world is (an overlay of /
# whose writes stay in memory, only lo, the machine's services masked).
# The package is installed there as a package would be (make install
# install-systemd PREFIX=/usr), drop-ins included.
# shellcheck shell=bash

SD_ROOT=/sys/fs/cgroup/unified

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
	SD_CG=$SD_ROOT/pts-systemd-$$-${BATS_TEST_NUMBER:-0}-$RANDOM
	mkdir "$SD_CG"
	mkdir -p "$T/sd"
	# The subshell enters the fresh cgroup first: it becomes the root of
	# the new cgroup namespace, where systemd makes its own tree.
	(
		echo "$BASHPID" >"$SD_CG/cgroup.procs"
		exec unshare -pmuinC --fork --propagation private \
			bash "$TOP/tests/systemd-boot.sh" "$T/sd" "$BATS_RUN_TMPDIR"
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
	sd_install
}

# sd COMMAND...: run COMMAND in the world (its namespaces and root).
sd() {
	nsenter -t "$SD_PID" -a "$@"
}

# The package as an admin installs it, with the sanitizer pass's helper
# when there is one (tests/world.sh does the same).
sd_install() {
	sd make -s -C "$TOP" install install-systemd PREFIX=/usr \
		SYSCONFDIR=/etc >/dev/null || return 1
	if [ -n "${PTS_HELPER:-}" ]; then
		sd install -m 0755 "$PTS_HELPER" /usr/sbin/postfix-tls-setup
		local lookup=${PTS_HELPER%/*}/postfix-tls-lookup
		[ ! -x "$lookup" ] || sd install -m 0755 "$lookup" \
			/usr/libexec/postfix-tls-setup/postfix-tls-lookup
	fi
	sd systemctl daemon-reload
}

# sd_world: run the scenario on stdin in the world, with
# tests/world-lib.bash's functions (make_postfix, use_tls, starttls...).
sd_world() {
	cat >"$T/scenario.sh"
	sd env PKI="$PKI" HOST="$HOST" TOP="$TOP" bash -c '
		. "$TOP/tests/world-lib.bash"
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
