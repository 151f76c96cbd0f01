#!/usr/bin/env bash
# The demo behind "make demo": a throw-away PKI, a Postfix configuration
# with broken TLS that the helper refuses, then the fixed one it accepts.
# Everything lives in a temporary directory that is removed at the end.
set -eu
cd "$(dirname "$0")/.."
TOP=$PWD
HELPER=$TOP/postfix-tls-setup
HOST=mail.example.org

DEMO=$(mktemp -d /tmp/postfix-tls-setup-demo.XXXXXX)
trap 'rm -rf "$DEMO"' EXIT
chmod 755 "$DEMO"
export PKI=$DEMO/pki
mkdir -p "$PKI" "$DEMO/postfix" "$DEMO/ssl" \
	"$DEMO/root/var/db/pkg/mail-mta/postfix-3.8.4"
# shellcheck source=tests/pki.bash
. "$TOP/tests/pki.bash"

say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
run() { printf '$ %s\n' "$*"; "$@"; }

say "A throw-away PKI: root CA -> intermediate -> $HOST"
pki_cert root self ca
pki_cert intermediate root ca
pki_cert "$HOST" intermediate server
pki_cert stranger.example.org intermediate server
echo "made $(ls "$PKI"/*.pem | wc -l) certificates in $PKI"

say "A Gentoo package database that says Postfix was built with USE=ssl"
echo "amd64 berkdb pam sasl ssl" >"$DEMO/root/var/db/pkg/mail-mta/postfix-3.8.4/USE"
cat "$DEMO/root/var/db/pkg/mail-mta/postfix-3.8.4/USE"

say "main.cf, with the settings Postfix would use"
cat >"$DEMO/postfix/main.cf" <<EOF
myhostname = $HOST
smtpd_tls_security_level = may
smtpd_tls_cert_file = $DEMO/postfix/certificate.pem
smtpd_tls_key_file = $DEMO/ssl/key.pem
EOF
touch -d '1 hour ago' "$DEMO/postfix/main.cf"  # postconf waits out fresh edits
cat "$DEMO/postfix/main.cf"

say "Broken: the wrong key, no intermediate, a world-readable key"
cp "$PKI/$HOST.pem" "$DEMO/ssl/cert.pem"
cp "$PKI/stranger.example.org.key" "$DEMO/ssl/key.pem"
chmod 0644 "$DEMO/ssl/key.pem"
cat >"$DEMO/conf" <<EOF
POSTFIX_TLS_CERT="$DEMO/ssl/cert.pem"
POSTFIX_TLS_KEY="$DEMO/ssl/key.pem"
POSTFIX_TLS_CAFILE="$PKI/root.pem"
EOF
helper() {
	run "$HELPER" -c "$DEMO/postfix" --root "$DEMO/root" --conf "$DEMO/conf" "$@"
}
set +e
helper deploy
echo "(exit status $?: Postfix would not be started; nothing was written:" \
	"$(ls "$DEMO/postfix")"")"
set -e

say "Fixed: the right key and the CA's chain file, given in any order"
cp "$PKI/$HOST.key" "$DEMO/ssl/key.pem"
chmod 0644 "$DEMO/ssl/key.pem"
cat "$PKI/root.pem" "$PKI/intermediate.pem" >"$DEMO/ssl/ca-chain.pem"
echo "POSTFIX_TLS_CHAIN=\"$DEMO/ssl/ca-chain.pem\"" >>"$DEMO/conf"
helper deploy

say "The bundle: leaf first, then its issuer; root:root 0600"
run stat -c '%n %U:%G %a' "$DEMO/postfix/certificate.pem" "$DEMO/ssl/key.pem"
openssl crl2pkcs7 -nocrl -certfile "$DEMO/postfix/certificate.pem" |
	openssl pkcs7 -print_certs -noout | grep subject=

say "check, as monitoring would run it: nothing to change"
helper check
echo
echo "demo finished; $DEMO removed"
