# Shared by the bats files: load the libraries, make test PKI with the
# openssl CLI (never committed), and set up a throw-away Postfix
# configuration and Gentoo package database per test.
# shellcheck shell=bash

# bats-support, bats-assert and bats-file: their src/*.bash, sourced here
# (bats sources this file again for every test); each one's load.bash
# only sources the same files, with a dirname process for each: 17
# processes before every test.
for lib in bats-support bats-assert bats-file; do
	if [ -d "/usr/lib/bats/$lib/src" ]; then
		for f in "/usr/lib/bats/$lib/src/"*.bash; do
			# shellcheck source=/dev/null
			. "$f"
		done
	else
		load "/usr/lib/bats/$lib/load.bash"
	fi
done
unset lib f

# The tree: this file is tests/helpers.bash, the .bats files one level
# further down (tests/TIER/NAME.bats), loading it as ../helpers.
TOP=$(cd "${BASH_SOURCE[0]%/*}/.." && pwd)
# shellcheck source=tests/pki.bash
. "$TOP/tests/pki.bash"
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
# change: names, types, owners, modes, sizes, mtimes, and the contents of
# regular files and of what symbolic links lead to.  Two finds and one
# sha256sum, not two processes per file: refuses() takes one before and
# one after every refusal.
snapshot() {
	(cd "$T" && {
		find . -path ./root -prune -o -printf '%p %y %u:%g %m %s %T+\n' |
			LC_ALL=C sort
		find . -path ./root -prune -o \( -type f -o -xtype f \) -print0 2>/dev/null |
			LC_ALL=C sort -z | xargs -0r sha256sum
	})
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
	# Not "status": run sets that name, and a local of the same name here
	# would make assert_failure compare the run's status with itself.
	local want=$1 message=$2 before
	shift 2
	before=$(snapshot)
	run "$@"
	assert_failure "$want"
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

# key_forms KEYFILE [PASSPHRASE]: the forms in which the key's contents
# could be printed, one per line, each tagged: "b64 ..." (the file's own
# base64 body, joined; and the base64 of its DER re-encoded as PKCS#8 and
# as the traditional form when openssl can read it), "hex ..." (each DER
# in lowercase hex).  For a damaged key the file's body and its decoding
# are all there is.
key_forms() {
	local key=$1 pass=${2:-} der body
	body=$(grep -E '^[A-Za-z0-9+/=]+$' "$key" | tr -d '\n')
	echo "b64 $body"
	echo "hex $(printf '%s' "$body" | base64 -di 2>/dev/null | od -An -v -tx1 | tr -d ' \n')"
	for der in "" -traditional; do
		# shellcheck disable=SC2086 # $der is one option or none
		openssl pkey -in "$key" -passin "pass:$pass" $der -outform DER \
			-out "$BATS_TEST_TMPDIR/key.der" 2>/dev/null || continue
		echo "b64 $(base64 -w0 <"$BATS_TEST_TMPDIR/key.der")"
		echo "hex $(od -An -v -tx1 <"$BATS_TEST_TMPDIR/key.der" | tr -d ' \n')"
		rm -f "$BATS_TEST_TMPDIR/key.der"
	done
}

# no_key_material KEYFILE [PASSPHRASE] -- FILE...: no FILE holds 40
# characters in a row of the key's base64 (whitespace ignored, so a
# leak broken into lines counts), 20 bytes of its DER as hex (any case,
# colons and whitespace ignored, as openssl -text prints it) or as raw
# bytes.  Fails naming the file and the form found.
no_key_material() {
	local key=$1 pass='' file
	shift
	[ "$1" = -- ] || { pass=$1; shift; }
	shift
	key_forms "$key" "$pass" >"$BATS_TEST_TMPDIR/key.forms"
	for file in "$@"; do
		[ -e "$file" ] || fail "no_key_material: $file does not exist"
		{
			printf 'b64 '; tr -d '[:space:]' <"$file"; echo
			printf 'hex '; tr -d '[:space:]:' <"$file" | tr 'A-F' 'a-f'; echo
			printf 'raw '; od -An -v -tx1 <"$file" | tr -s ' \n' '  '; echo
		} >"$BATS_TEST_TMPDIR/out.forms"
		awk -v file="$file" '
			FNR == NR { form[++n] = $1; ref[n] = $2; next }
			{ text[$1] = substr($0, length($1) + 2) }
			END {
				for (i = 1; i <= n; i++) {
					r = ref[i]
					# hex windows also searched as raw bytes " xx xx ..."
					for (j = 1; j + 39 <= length(r); j++) {
						w = substr(r, j, 40)
						if (form[i] == "b64" && index(text["b64"], w))
							bad = "base64 " w
						else if (form[i] == "hex" && index(text["hex"], w))
							bad = "hex " w
						else if (form[i] == "hex" && j % 2 == 1) {
							raw = ""
							for (k = 1; k <= 40; k += 2)
								raw = raw " " substr(w, k, 2)
							if (index(text["raw"], raw))
								bad = "raw bytes" raw
						}
						if (bad != "") {
							print file ": holds the key as " bad
							exit 1
						}
					}
				}
			}' "$BATS_TEST_TMPDIR/key.forms" "$BATS_TEST_TMPDIR/out.forms" ||
			fail "key material leaked"
	done
}

# rewriting_owner NAME: $T/ssl/NAME made nobody's and 0644, then rewritten
# by nobody every 20 ms with a new comment line (one write of one page:
# never half a file), as a certificate robot's user could; $writer is the
# loop's pid, stopped by held_at_fchown.
rewriting_owner() {
	chmod 0755 "$T/ssl"
	chown nobody:nogroup "$T/ssl/$1"
	chmod 0644 "$T/ssl/$1"
	mkdir "$T/nobody"
	chown nobody:nogroup "$T/nobody"
	# shellcheck disable=SC2016 # expanded by the inner sh
	(cd "$T/ssl" && F=$1 exec setpriv --reuid=nobody --regid=nogroup --clear-groups \
		sh -c 'i=0; while :; do i=$((i + 1));
			{ grep -v "^#" "$F"; printf "# %08d\n" "$i"; } >../nobody/next 2>/dev/null &&
			dd if=../nobody/next of="$F" bs=4096 conv=notrunc status=none 2>/dev/null;
			sleep 0.02; done') &
	writer=$!
}

# held_at_fchown: deploy of the usual inputs, strace holding the helper a
# second before each fchown (so the rewriting owner gets in between the
# check and the chown, every time); then the rewriting stops.
held_at_fchown() {
	run env ASAN_OPTIONS="${ASAN_OPTIONS:-}:detect_leaks=0" \
		strace -f -qq -o /dev/null -e trace=fchown -e inject=fchown:delay_enter=1000000 \
		"$HELPER" -c "$T/postfix" --root "$T/root" --conf "$T/conf" \
		--cafile "$PKI/root.pem" --cert "$T/ssl/cert.pem" \
		--key "$T/ssl/key.pem" --chain "$T/ssl/chain.pem" deploy
	kill "$writer"
	wait "$writer" || true
}

# Identities beside the bundle (tests/cli/served-identities.bats,
# tests/cli/monitoring.bats).

# write_mastercf LINES...: master.cf with the smtp service, then LINES.
write_mastercf() {
	{
		echo "smtp       inet  n       -       n       -       -       smtpd"
		printf '%s\n' "$@"
	} >"$T/postfix/master.cf"
	settle_maincf
}

# submission_service CERT KEY: a submission service serving its own files.
submission_service() {
	write_mastercf \
		"submission inet  n       -       n       -       -       smtpd" \
		"  -o smtpd_tls_security_level=encrypt" \
		"  -o smtpd_tls_cert_file=$1" \
		"  -o smtpd_tls_key_file=$2"
}

# leaf_files LEAF KEYOF DIR NAME: DIR/NAME.pem (LEAF and its chain) and
# DIR/NAME.key (the key of KEYOF), root:root 0600.
leaf_files() {
	cat "$PKI/$1.pem" "$PKI/chain.pem" >"$3/$4.pem"
	cp "$PKI/$2.key" "$3/$4.key"
	chmod 0600 "$3/$4.key" "$3/$4.pem"
}

# sni_map TYPE LINES...: $T/postfix/sni holds LINES; main.cf names it as
# TYPE:$T/postfix/sni; for hash, postmap -F builds the map.
sni_map() {
	local type=$1
	shift
	printf '%s\n' "$@" >"$T/postfix/sni"
	chmod 0600 "$T/postfix/sni"
	[ "$type" != hash ] || postmap -c "$T/postfix" -F "hash:$T/postfix/sni"
	write_maincf "tls_server_sni_maps = $type:$T/postfix/sni"
}

# sni_entry DOMAIN LEAF [KEYOF]: the source line for DOMAIN, its files
# $T/ssl/DOMAIN.key and $T/ssl/DOMAIN.pem (LEAF, its chain).
sni_entry() {
	leaf_files "$2" "${3:-$2}" "$T/ssl" "$1"
	echo "$1 $T/ssl/$1.key, $T/ssl/$1.pem"
}

# long_sni_map: a hash SNI map of 1,200 domains d1 ... d1200.example.org,
# enough for workers.c to share them out (512 each at least), one key and
# chain file ($T/ssl/wild.pem, the '*.example.org' leaf) for all but two:
# d1000's key does not match its leaf (wrong.pem), d1100's file is 0644
# (open.pem).
long_sni_map() {
	local i lines
	cat "$PKI/*.example.org.key" "$PKI/*.example.org.pem" "$PKI/chain.pem" >"$T/ssl/wild.pem"
	chmod 0600 "$T/ssl/wild.pem"
	cat "$PKI/other.example.org.key" "$PKI/*.example.org.pem" "$PKI/chain.pem" >"$T/ssl/wrong.pem"
	cp "$T/ssl/wild.pem" "$T/ssl/open.pem"
	chmod 0600 "$T/ssl/wrong.pem"
	chmod 0644 "$T/ssl/open.pem"
	for i in $(seq 1 1200); do
		case $i in
		1000) echo "d$i.example.org $T/ssl/wrong.pem" ;;
		1100) echo "d$i.example.org $T/ssl/open.pem" ;;
		*) echo "d$i.example.org $T/ssl/wild.pem" ;;
		esac
	done >"$T/sni.lines"
	mapfile -t lines <"$T/sni.lines"
	sni_map hash "${lines[@]}"
}
