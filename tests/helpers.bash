# Shared by the bats files: load the libraries, make test PKI with the
# openssl CLI (never committed), and set up a throw-away Postfix
# configuration and Gentoo package database per test.
# shellcheck shell=bash

load /usr/lib/bats/bats-support/load.bash
load /usr/lib/bats/bats-assert/load.bash
load /usr/lib/bats/bats-file/load.bash
load pki

TOP=$(cd "$BATS_TEST_DIRNAME/.." && pwd)
# The helper under test: the build, or in the sanitizer and valgrind passes
# of tests/run.sh an instrumented one (PTS_SANITIZER names the pass).
HELPER=${PTS_HELPER:-$TOP/postfix-tls-setup}
HOST=mail.example.org

# The fault-injection shim (tests/fault/fault.c), built once per file.
build_fault_shim() {
	cc -shared -fPIC -Wall -Wextra -o "$BATS_FILE_TMPDIR/fault.so" \
		"$TOP/tests/fault/fault.c" -ldl
}

# Fault injection counts the helper's own calls; under valgrind its
# runtime makes calls of its own (the plain and ASan passes run these).
not_under_valgrind() {
	[ "${PTS_SANITIZER:-}" != valgrind ] || skip "counts the helper's own calls; runs in the plain and asan passes"
}

# Every test that needs root (chown, root-owned directories) calls this;
# CI runs as root, so it never skips there.
need_root() {
	[ "$(id -u)" -eq 0 ] || skip "needs root (runs as root in CI)"
}

# The PKI most tests share: a root, two intermediates, a good leaf.
# Made once per test file (setup_file) because key generation is slow.
pki_common() {
	export PKI=$BATS_FILE_TMPDIR/pki
	mkdir -p "$PKI"
	pki_cert root self ca
	pki_cert inter1 root ca
	pki_cert inter2 inter1 ca
	pki_cert "$HOST" inter2 server
	cat "$PKI/inter2.pem" "$PKI/inter1.pem" >"$PKI/chain.pem"
	cat "$PKI/$HOST.pem" "$PKI/inter2.pem" "$PKI/inter1.pem" \
		>"$PKI/fullchain.pem"
}

# A fresh world per test: Postfix configuration in $T/postfix, inputs in
# $T/ssl, the Gentoo package database under $T/root, an empty conf.d file.
setup_world() {
	T=$BATS_TEST_TMPDIR
	BUNDLE=$T/postfix/certificate.pem
	mkdir -p "$T/postfix" "$T/ssl" "$T/root/var/db/pkg/mail-mta/postfix-3.8.4"
	chmod 755 "$T" "$T/postfix" "$T/ssl"
	echo "abi_x86_64 amd64 berkdb elibc_glibc kernel_linux pam sasl ssl" \
		>"$T/root/var/db/pkg/mail-mta/postfix-3.8.4/USE"
	cp "$PKI/$HOST.pem" "$T/ssl/cert.pem"
	cp "$PKI/$HOST.key" "$T/ssl/key.pem"
	cp "$PKI/chain.pem" "$T/ssl/chain.pem"
	write_maincf
	: >"$T/conf"
}

# write_maincf [EXTRA LINES...]: a main.cf naming the bundle and the key.
# shellcheck disable=SC2120 # the .bats files pass the extra lines
write_maincf() {
	{
		echo "smtpd_tls_security_level = may"
		echo "smtpd_tls_cert_file = $BUNDLE"
		echo "smtpd_tls_key_file = $T/ssl/key.pem"
		echo "myhostname = $HOST"
		printf '%s\n' "$@"
	} >"$T/postfix/main.cf"
	settle_maincf
}

# edit_maincf SED-SCRIPT: change main.cf in place.
edit_maincf() {
	sed -i "$1" "$T/postfix/main.cf"
	settle_maincf
}

# Postfix waits until main.cf is at least a second old before it reads it
# (the file might be being edited); date it back so postconf answers at once.
settle_maincf() {
	touch -d '1 hour ago' "$T/postfix/main.cf"
}

# The helper on the test world, trusting only the test root.
helper() {
	"$HELPER" -c "$T/postfix" --root "$T/root" --conf "$T/conf" \
		--cafile "$PKI/root.pem" "$@"
}

# The usual inputs: leaf, key, chain from $T/ssl.
deploy_inputs() {
	helper --cert "$T/ssl/cert.pem" --key "$T/ssl/key.pem" \
		--chain "$T/ssl/chain.pem" "$@"
}

# A fingerprint of everything under $T that a refused run must not
# change: names, contents, owners, modes, mtimes.
snapshot() {
	(cd "$T" && find . -path ./root -prune -o -print | LC_ALL=C sort |
		while IFS= read -r f; do
			stat -c '%n %U:%G %a %s %y' "$f"
			if [ -f "$f" ]; then sha256sum <"$f"; fi
		done)
}

# Certificates in a PEM file, one subject CN per line, in file order.
subjects() {
	openssl crl2pkcs7 -nocrl -certfile "$1" |
		openssl pkcs7 -print_certs -noout |
		sed -n 's/^subject=.*CN = //p'
}

# refuses STATUS MESSAGE COMMAND...: the command fails with STATUS, says
# MESSAGE, and leaves every file under $T as it was.
refuses() {
	local status=$1 message=$2 before
	shift 2
	before=$(snapshot)
	run "$@"
	assert_failure "$status"
	assert_output --partial "$message"
	assert_equal "$(snapshot)" "$before"
}

# A working bundle in place, so that refusals can prove they kept it.
good_bundle() {
	deploy_inputs -q deploy
	assert_file_exists "$BUNDLE"
}

# use_leaf NAME: make $T/ssl/cert.pem and key.pem those of PKI leaf NAME.
use_leaf() {
	cp "$PKI/$1.pem" "$T/ssl/cert.pem"
	cp "$PKI/$1.key" "$T/ssl/key.pem"
}

# world: run the scenario script on stdin inside a private world (mount,
# network and PID namespaces, overlays over /etc /usr /var /run; see
# tests/world.sh).  Everything it starts is gone when it returns.
world() {
	cat >"$T/scenario.sh"
	unshare --pid --fork --mount-proc --mount --net --propagation private \
		env PKI="$PKI" HOST="$HOST" TOP="$TOP" PTS_HELPER="${PTS_HELPER:-}" \
		bash "$TOP/tests/world.sh" "$T" "$T/scenario.sh"
}
