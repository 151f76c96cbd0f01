#!/usr/bin/env bash
# A private world for one end-to-end scenario, entered by world():
#   unshare --pid --fork --mount-proc --mount --net  bash world.sh T SCRIPT
# Overlays over /etc, /usr, /var and /run send every write to $T/ov, an
# empty network with loopback keeps ports private, and when this script
# ends the PID namespace ends with it: every process it started (Postfix's
# master and its children) is killed, whatever happened.
set -eu
T=$1
SCRIPT=$2
TOP=$(cd "$(dirname "$0")/.." && pwd)

# Stop Postfix cleanly first; the PID namespace is the backstop.
cleanup() {
	postfix stop >/dev/null 2>&1 || true
	for d in /etc/postfix.*; do
		[ -d "$d" ] && postfix -c "$d" stop >/dev/null 2>&1 || true
	done
}
trap cleanup EXIT

mount --make-rprivate /
ip link set lo up
for d in etc usr var run; do
	mkdir -p "$T/ov/$d.up" "$T/ov/$d.wk"
	mount -t overlay overlay \
		-o "lowerdir=/$d,upperdir=$T/ov/$d.up,workdir=$T/ov/$d.wk" "/$d"
done

# OpenRC did not boot this machine: tell it a runlevel is up.
mkdir -p /run/openrc
touch /run/openrc/softlevel

# Gentoo's shape: only our services in /etc/init.d (Debian's LSB scripts
# would only add noise to OpenRC's dependency cache), the stand-in postfix
# script, the package installed as the ebuild does.
find /etc/init.d -mindepth 1 -delete
make -s -C "$TOP" install install-openrc PREFIX=/usr SYSCONFDIR=/etc >/dev/null
install -m 0755 "$TOP/tests/postfix.initd" /etc/init.d/postfix
# In the sanitizer and valgrind passes, the instrumented helper.
[ -z "${PTS_HELPER:-}" ] || install -m 0755 "$PTS_HELPER" /usr/sbin/postfix-tls-setup
mkdir -p /var/db/pkg/mail-mta/postfix-3.8.4
echo "abi_x86_64 amd64 berkdb elibc_glibc kernel_linux pam sasl ssl" \
	>/var/db/pkg/mail-mta/postfix-3.8.4/USE

# shellcheck source=tests/world-lib.bash
. "$TOP/tests/world-lib.bash"
# Scenarios check exit codes themselves (say "start=$?"): no errexit there.
set +e
# shellcheck disable=SC1090 # the scenario
. "$SCRIPT"
