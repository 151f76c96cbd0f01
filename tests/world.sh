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

# Stop Postfix and the DNS cleanly first; the PID namespace is the
# backstop.  A scenario that sourced tests/dns-lib.bash has its servers
# stopped here (its own "trap ... EXIT" would replace this one).
cleanup() {
	postfix stop >/dev/null 2>&1 || true
	for d in /etc/postfix.*; do
		[ -d "$d" ] && postfix -c "$d" stop >/dev/null 2>&1 || true
	done
	if declare -F dns_stop >/dev/null; then dns_stop; fi
	if [ -n "${world_dns:-}" ]; then
		kill "$world_dns" 2>/dev/null || true
		wait "$world_dns" 2>/dev/null || true
	fi
}
trap cleanup EXIT

mount --make-rprivate /
ip link set lo up
for d in etc usr var run; do
	mkdir -p "$T/ov/$d.up" "$T/ov/$d.wk"
	mount -t overlay overlay \
		-o "lowerdir=/$d,upperdir=$T/ov/$d.up,workdir=$T/ov/$d.wk" "/$d"
done

# A resolver that answers NXDOMAIN at once (the host's nameserver is out
# of reach here): the helper's DANE lookup finds no TLSA records and says
# nothing, as on a host whose MX has none.  tests/dns-lib.bash's dns_up
# points resolv.conf at a real validating resolver instead.
rm -f /run/world-dns.pid
python3 "$TOP/tests/fakedns.py" --addr 127.0.0.53 --port 53 --mode nxdomain \
	--pidfile /run/world-dns.pid &
world_dns=$!
rm -f /etc/resolv.conf
echo "nameserver 127.0.0.53" >/etc/resolv.conf

# OpenRC did not boot this machine: tell it a runlevel is up.
mkdir -p /run/openrc
touch /run/openrc/softlevel

# Gentoo's shape: only our services in /etc/init.d (Debian's LSB scripts
# would only add noise to OpenRC's dependency cache), the stand-in postfix
# script, the package installed as the ebuild does.
find /etc/init.d -mindepth 1 -delete
make -s -C "$TOP" install install-openrc PREFIX=/usr SYSCONFDIR=/etc >/dev/null
install -m 0755 "$TOP/tests/postfix.initd" /etc/init.d/postfix
# In the sanitizer and valgrind passes, the instrumented helper (and its
# lookup program when one was built beside it: the ASan pass).
if [ -n "${PTS_HELPER:-}" ]; then
	install -m 0755 "$PTS_HELPER" /usr/sbin/postfix-tls-setup
	lookup=${PTS_HELPER%/*}/postfix-tls-lookup
	[ ! -x "$lookup" ] ||
		install -m 0755 "$lookup" /usr/libexec/postfix-tls-setup/postfix-tls-lookup
fi
mkdir -p /var/db/pkg/mail-mta/postfix-3.8.4
echo "abi_x86_64 amd64 berkdb elibc_glibc kernel_linux pam sasl ssl" \
	>/var/db/pkg/mail-mta/postfix-3.8.4/USE

# The resolver is up before the scenario asks it anything.
for _ in $(seq 200); do
	[ -s /run/world-dns.pid ] && break
	kill -0 "$world_dns" 2>/dev/null || { echo "world.sh: fakedns.py did not start" >&2; exit 1; }
	sleep 0.01
done

# shellcheck source=tests/world-lib.bash
. "$TOP/tests/world-lib.bash"
# Scenarios check exit codes themselves (say "start=$?"): no errexit there.
set +e
# shellcheck disable=SC1090 # the scenario
. "$SCRIPT"
