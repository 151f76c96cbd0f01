#!/bin/sh
# Install what building, testing and the demo need, when it is missing:
# apt-get on Debian, emerge on Gentoo.  Safe to run again: it installs
# nothing that is already there.
set -eu

# Debian package -> a file that proves it is installed.
DEBIAN_NEEDS="
gcc:/usr/bin/gcc
make:/usr/bin/make
pkgconf:/usr/bin/pkg-config
libssl-dev:/usr/include/openssl/x509.h
libbsd-dev:/usr/include/bsd/stdlib.h
openssl:/usr/bin/openssl
bats:/usr/bin/bats
bats-support:/usr/lib/bats/bats-support/load.bash
bats-assert:/usr/lib/bats/bats-assert/load.bash
bats-file:/usr/lib/bats/bats-file/load.bash
faketime:/usr/bin/faketime
shellcheck:/usr/bin/shellcheck
postfix:/usr/sbin/postconf
openrc:/sbin/openrc-run
iproute2:/sbin/ip
util-linux:/usr/bin/unshare
procps:/usr/bin/pgrep
socat:/usr/bin/socat
strace:/usr/bin/strace
valgrind:/usr/bin/valgrind
clang:/usr/bin/clang
libclang-rt-14-dev:/usr/lib/llvm-14/lib/clang/*/lib/linux/libclang_rt.fuzzer-x86_64.a
hyperfine:/usr/bin/hyperfine
time:/usr/bin/time
python3:/usr/bin/python3
unbound:/usr/sbin/unbound
nsd:/usr/sbin/nsd
ldnsutils:/usr/bin/ldns-signzone
bind9-dnsutils:/usr/bin/dig
curl:/usr/bin/curl
pebble:/usr/bin/pebble
certbot:/usr/bin/certbot
dehydrated:/usr/bin/dehydrated
lego:/usr/bin/lego
uacme:/usr/bin/uacme
"

# Services Debian starts when it installs them; the DNS tests run their own
# unbound and nsd inside private network namespaces, and the host must not
# get a resolver on :53 from us.
DEBIAN_SERVICES="unbound nsd"

missing_debian() {
	for entry in $DEBIAN_NEEDS; do
		# shellcheck disable=SC2086 # the path may be a glob
		set -- ${entry#*:}
		[ -e "$1" ] || printf '%s ' "${entry%%:*}"
	done
}

as_root() {
	if [ "$(id -u)" -eq 0 ]; then
		"$@"
	elif command -v sudo >/dev/null 2>&1; then
		sudo "$@"
	else
		echo "deps.sh: run as root to install: $*" >&2
		exit 1
	fi
}

# quiet_service NAME: stopped now and not started at boot.
quiet_service() {
	if [ -d /run/systemd/system ]; then
		as_root systemctl disable --now "$1" >/dev/null 2>&1 || true
	else
		as_root invoke-rc.d "$1" stop >/dev/null 2>&1 ||
			as_root service "$1" stop >/dev/null 2>&1 || true
		as_root update-rc.d "$1" disable >/dev/null 2>&1 || true
	fi
}

install_debian() {
	pkgs=$(missing_debian)
	[ -n "$pkgs" ] || return 0
	echo "deps.sh: installing $pkgs"
	# Postfix asks how to configure itself; "No configuration" ships no
	# main.cf and starts nothing, which is what the tests want.
	echo "postfix postfix/main_mailer_type select No configuration" |
		as_root debconf-set-selections
	as_root apt-get update -qq
	# shellcheck disable=SC2086 # a list of package names
	as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
		--no-install-recommends $pkgs >/dev/null
	# Only the services this run installed: a host that ran its own
	# unbound before keeps it.
	for svc in $DEBIAN_SERVICES; do
		case " $pkgs" in
		*" $svc "*) quiet_service "$svc" ;;
		esac
	done
	pkgs=$(missing_debian)
	if [ -n "$pkgs" ]; then
		echo "deps.sh: still missing after apt-get: $pkgs" >&2
		exit 1
	fi
}

install_gentoo() {
	# Not here: the renewal worlds' ACME server and clients.  pebble is
	# in no ebuild repository we rely on (::gentoo has none; those
	# tests skip without it), and of the clients (app-crypt/certbot,
	# app-crypt/dehydrated, app-crypt/lego, app-crypt/uacme) lego and
	# uacme are keyworded ~amd64 only, which would stop this emerge on
	# a stable system.  Gentoo's lego is 5.x, whose hook variables the
	# lego hook reads too.
	# bats-assert, bats-support and bats-file live in overlays (GURU).
	# ldns-keygen and ldns-signzone are ldns's examples; dig comes with
	# net-dns/bind (net-dns/bind-tools is only a name for it since 9.18).
	if ! grep -qrs '^net-libs/ldns .*examples' /etc/portage/package.use; then
		if [ -d /etc/portage/package.use ]; then
			echo "net-libs/ldns examples" |
				as_root tee /etc/portage/package.use/postfix-tls-setup-tests >/dev/null
		else
			echo "net-libs/ldns examples" | as_root tee -a /etc/portage/package.use >/dev/null
		fi
	fi
	as_root emerge --noreplace --changed-use --quiet dev-libs/openssl dev-libs/libbsd \
		dev-util/bats dev-util/shellcheck sys-libs/libfaketime net-misc/socat dev-debug/strace dev-debug/valgrind app-benchmarks/hyperfine sys-process/time \
		llvm-core/clang llvm-runtimes/compiler-rt-sanitizers \
		mail-mta/postfix sys-apps/openrc virtual/pkgconfig \
		net-dns/unbound net-dns/nsd net-libs/ldns net-dns/bind
}

if [ -r /etc/gentoo-release ]; then
	install_gentoo
elif command -v apt-get >/dev/null 2>&1; then
	install_debian
else
	echo "deps.sh: neither Debian nor Gentoo; install by hand: a C" \
		"compiler, make, pkg-config, OpenSSL and libbsd headers, bats" \
		"with bats-support/assert/file, faketime, shellcheck, Postfix," \
		"OpenRC, unbound, nsd, ldns's tools, dig" >&2
	exit 1
fi
