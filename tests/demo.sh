#!/usr/bin/env bash
# The demo behind "make demo" (root, on Debian or Gentoo): a throw-away
# PKI, then in a private world (tests/world.sh: own mounts, network and
# processes; nothing on this machine changes) real OpenRC and real Postfix
# with the hook installed: a broken set-up is refused with its reasons,
# the fixed one starts, and a real STARTTLS handshake shows the verified
# chain.  Everything is removed at the end.
set -eu
cd "$(dirname "$0")/.."
TOP=$PWD
[ "$(id -u)" -eq 0 ] || { echo "make demo needs root (it uses namespaces)" >&2; exit 1; }

DEMO=$(mktemp -d /tmp/postfix-tls-setup-demo.XXXXXX)
trap 'rm -rf "$DEMO"' EXIT
chmod 755 "$DEMO"
export PKI=$DEMO/pki HOST=mail.example.org
mkdir -p "$PKI"
# shellcheck source=tests/pki.bash
. "$TOP/tests/pki.bash"

printf '\n\033[1m== A throw-away PKI: root CA -> intermediate -> %s\033[0m\n' "$HOST"
pki_cert root self ca
pki_cert intermediate root ca
pki_cert "$HOST" intermediate server
pki_cert stranger.example.org intermediate server
ls "$PKI"/*.pem

# DEMO_INIT=systemd: the same story under a real systemd as PID 1 with
# Debian's own postfix units and the package's drop-in
# (tests/systemd-lib.bash), in a world of its own as the tests boot one.
if [ "${DEMO_INIT:-openrc}" = systemd ]; then
	# shellcheck source=tests/systemd-lib.bash
	. "$TOP/tests/systemd-lib.bash"
	T=$DEMO BATS_RUN_TMPDIR=$DEMO
	trap 'sd_halt; rm -rf "$DEMO"' EXIT
	printf '\n\033[1m== systemd 252 as PID 1 in private namespaces\033[0m\n'
	sd_boot
	sd_install
	sd_world <<-'SCENARIO'
	step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
	show() { printf '# %s\n' "$*"; "$@"; }

	step "Debian's postfix@.service with the package's drop-in"
	make_postfix /etc/postfix 127.0.0.1
	show systemctl cat postfix@-.service | grep -E '^(# /|Exec)'

	step "Broken: a key that belongs to another certificate; the root given instead of the intermediate"
	cp "$PKI/$HOST.pem" /etc/ssl/mail/cert.pem
	cp "$PKI/stranger.example.org.key" /etc/ssl/mail/key.pem
	cp "$PKI/root.pem" /etc/ssl/mail/chain.pem
	tune /etc/conf.d/postfix-tls-setup
	show systemctl start postfix@-.service
	echo "(exit status $?)"
	running && echo "Postfix is running" || echo "Postfix is NOT running, and nothing was written:"
	ls /etc/postfix
	show journalctl -q -u postfix@-.service -o cat

	step "Fixed: the right key, and the CA's chain file (with the root, which is left out)"
	cp "$PKI/$HOST.key" /etc/ssl/mail/key.pem
	cat "$PKI/root.pem" "$PKI/intermediate.pem" >/etc/ssl/mail/chain.pem
	show systemctl start postfix
	show systemctl is-active postfix@-.service
	stat -c '%n %U:%G %a' /etc/postfix/certificate.pem /etc/ssl/mail/key.pem

	step "A verifying client that trusts only the demo root: STARTTLS on port 25"
	starttls 127.0.0.1

	step "A reload with a key swapped behind its back is refused; the master keeps serving"
	cp "$PKI/stranger.example.org.key" /etc/ssl/mail/key.pem
	show systemctl reload postfix@-.service
	echo "(exit status $?)"
	show systemctl is-active postfix@-.service
	journalctl -q -u postfix@-.service -o cat -n 5

	step "Stop; PID 1 is killed and the private world goes away"
	show systemctl stop postfix
	SCENARIO
	sd_halt
	printf '\ndemo finished; %s removed\n' "$DEMO"
	exit 0
fi

cat >"$DEMO/scenario.sh" <<'SCENARIO'
step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
show() { printf '# %s\n' "$*"; "$@"; }

step "Postfix (Debian's package) with Gentoo's init script shape and our hook"
make_postfix /etc/postfix 127.0.0.1
postconf -n | grep -E 'tls|myhostname'
show cat /etc/rc.conf.d/postfix-tls-setup.conf | grep -v '^#'

step "Broken: a key that belongs to another certificate; the root given instead of the intermediate"
cp "$PKI/$HOST.pem" /etc/ssl/mail/cert.pem
cp "$PKI/stranger.example.org.key" /etc/ssl/mail/key.pem
cp "$PKI/root.pem" /etc/ssl/mail/chain.pem
tune /etc/conf.d/postfix-tls-setup
show rc-service postfix start
echo "(exit status $?)"
running && echo "Postfix is running" || echo "Postfix is NOT running, and nothing was written:"
ls /etc/postfix

step "Fixed: the right key, and the CA's chain file (with the root, which is left out)"
cp "$PKI/$HOST.key" /etc/ssl/mail/key.pem
cat "$PKI/root.pem" "$PKI/intermediate.pem" >/etc/ssl/mail/chain.pem
show rc-service postfix start
stat -c '%n %U:%G %a' /etc/postfix/certificate.pem /etc/ssl/mail/key.pem

step "A verifying client that trusts only the demo root: STARTTLS on port 25"
starttls 127.0.0.1
echo "served chain, leaf first:"
timeout 20 openssl s_client -starttls smtp -connect 127.0.0.1:25 -showcerts \
	</dev/null 2>/dev/null | grep -E '^ *[0-9]+ s:'

step "Stop; the private world and everything in it goes away"
show rc-service postfix stop
SCENARIO

unshare --pid --fork --mount-proc --mount --net --propagation private \
	env PKI="$PKI" HOST="$HOST" TOP="$TOP" \
	bash "$TOP/tests/world.sh" "$DEMO" "$DEMO/scenario.sh"
printf '\ndemo finished; %s removed\n' "$DEMO"
