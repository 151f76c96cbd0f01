#!/usr/bin/env bats
# Issue 19, class (h): an identity that serves an RSA and an ECDSA chain,
# one of whose keys is damaged -- its secret part changed, its public part
# intact, so that it still "matches" its certificate as OpenSSL compares
# them, and every handshake with that algorithm fails.  The other key is
# fine, so nothing but the damaged one can give the refusal away; each
# set-up is tried with the ECDSA key damaged and with the RSA key damaged:
# in smtpd_tls_chain_files and in the legacy pairs (main.cf's and a
# master.cf service's), and in an SNI entry.

load ../helpers
load ../pins-lib

setup_file() {
	pki_common
	pki_rsa_lineage
	# a.example.net's two leaves, for the SNI entry.
	pki_cert a.example.net inter2 server
	mkdir -p "$PKI/rsa-a"
	cp "$PKI/inter2.pem" "$PKI/inter2.key" "$PKI/rsa-a/"
	PKI=$PKI/rsa-a pki_cert a.example.net inter2 server rsa:2048
	# Each key also damaged: $PKI/bad/KEY.
	mkdir -p "$PKI/bad"
	pki_damage_any_secret rsa >"$PKI/bad/rsa.key"
	pki_damage_any_secret "$HOST" >"$PKI/bad/$HOST.key"
	pki_damage_any_secret a.example.net >"$PKI/bad/a.example.net.key"
	PKI=$PKI/rsa-a pki_damage_any_secret a.example.net >"$PKI/bad/rsa-a.key"
}

setup() {
	need_root
	setup_world
}

DAMAGED="the private key's secret part does not fit its public part, so every handshake would fail"

# key_of ALGO NAME BAD: the key file for NAME's ALGO (ec or rsa) leaf,
# the damaged one when ALGO is BAD.  pem_of ALGO NAME: that leaf.
key_of() {
	local base=$2
	[ "$1" = rsa ] && base=$([ "$2" = "$HOST" ] && echo rsa || echo rsa-a)
	if [ "$1" = "$3" ]; then echo "$PKI/bad/$base.key"
	elif [ "$1" = ec ]; then echo "$PKI/$2.key"
	elif [ "$2" = "$HOST" ]; then echo "$PKI/rsa.key"
	else echo "$PKI/rsa-a/$2.key"; fi
}
pem_of() {
	if [ "$1" = ec ]; then echo "$PKI/$2.pem"
	elif [ "$2" = "$HOST" ]; then echo "$PKI/rsa.pem"
	else echo "$PKI/rsa-a/$2.pem"; fi
}

# both_files NAME BAD: $T/ssl/ec.pem and rsa.pem, each a key followed by
# its leaf for NAME and the chain; the BAD algorithm's key damaged.
both_files() {
	local a
	for a in ec rsa; do
		cat "$(key_of "$a" "$1" "$2")" "$(pem_of "$a" "$1")" "$PKI/chain.pem" >"$T/ssl/$a.pem"
		chmod 0600 "$T/ssl/$a.pem"
	done
}

@test "main.cf's smtpd_tls_chain_files: one fine file and the other's key damaged is refused, for either algorithm in either place" {
	local order bad
	for order in "ec rsa" "rsa ec"; do
		for bad in ec rsa; do
			both_files "$HOST" "$bad"
			# shellcheck disable=SC2086 # two words: the order
			set -- $order
			write_maincf "smtpd_tls_cert_file =" "smtpd_tls_key_file =" \
				"smtpd_tls_chain_files = $T/ssl/$1.pem, $T/ssl/$2.pem"
			refuses 65 "$T/ssl/$bad.pem: $DAMAGED" helper deploy
			refute_output --partial "$T/ssl/$([ "$bad" = ec ] && echo rsa || echo ec).pem: "
		done
	done
}

@test "a master.cf service's smtpd_tls_chain_files: either key damaged is refused, in either order, naming the service" {
	local order bad
	good_bundle
	for order in "ec rsa" "rsa ec"; do
		for bad in ec rsa; do
			both_files "$HOST" "$bad"
			# shellcheck disable=SC2086 # two words: the order
			set -- $order
			write_mastercf \
				"submission inet  n       -       n       -       -       smtpd" \
				"  -o smtpd_tls_chain_files=$T/ssl/$1.pem,$T/ssl/$2.pem"
			refuses 65 "postfix-tls-setup: submission/inet (master.cf): $T/ssl/$bad.pem: $DAMAGED" \
				deploy_inputs deploy
		done
	done
}

# legacy_files BAD: the RSA pair $T/ssl/rsa-cert.pem, rsa-key.pem and the
# ECDSA one ec-cert.pem, ec-key.pem (leaf and chain; key), BAD's damaged.
legacy_files() {
	local a
	for a in ec rsa; do
		cat "$(pem_of "$a" "$HOST")" "$PKI/chain.pem" >"$T/ssl/$a-cert.pem"
		cp "$(key_of "$a" "$HOST" "$1")" "$T/ssl/$a-key.pem"
		chmod 0600 "$T/ssl/$a-key.pem"
	done
}

@test "main.cf's legacy pairs: the RSA pair fine and the ECDSA key damaged is refused, and the reverse" {
	local bad
	for bad in ec rsa; do
		legacy_files "$bad"
		write_maincf "smtpd_tls_cert_file = $T/ssl/rsa-cert.pem" \
			"smtpd_tls_key_file = $T/ssl/rsa-key.pem" \
			"smtpd_tls_eccert_file = $T/ssl/ec-cert.pem" \
			"smtpd_tls_eckey_file = $T/ssl/ec-key.pem"
		refuses 65 "$T/ssl/$bad-key.pem: $DAMAGED" helper deploy
	done
}

@test "a master.cf service's legacy pairs: the RSA pair fine and the ECDSA key damaged is refused, and the reverse" {
	local bad
	good_bundle
	for bad in ec rsa; do
		legacy_files "$bad"
		write_mastercf \
			"submission inet  n       -       n       -       -       smtpd" \
			"  -o smtpd_tls_cert_file=$T/ssl/rsa-cert.pem" \
			"  -o smtpd_tls_key_file=$T/ssl/rsa-key.pem" \
			"  -o smtpd_tls_eccert_file=$T/ssl/ec-cert.pem" \
			"  -o smtpd_tls_eckey_file=$T/ssl/ec-key.pem"
		refuses 65 "postfix-tls-setup: submission/inet (master.cf): $T/ssl/$bad-key.pem: $DAMAGED" \
			deploy_inputs deploy
	done
}

@test "an SNI entry with an RSA and an ECDSA chain: either key damaged is refused, naming the entry" {
	local bad
	good_bundle
	for bad in ec rsa; do
		both_files a.example.net "$bad"
		sni_map hash "a.example.net $T/ssl/ec.pem, $T/ssl/rsa.pem"
		refuses 65 "postfix-tls-setup: SNI a.example.net ($T/postfix/sni): $T/ssl/$bad.pem: $DAMAGED" \
			deploy_inputs deploy
	done
}

@test "control: RSA and ECDSA both fine pass in each of these set-ups, and both are listed" {
	both_files "$HOST" none
	write_maincf "smtpd_tls_cert_file =" "smtpd_tls_key_file =" \
		"smtpd_tls_chain_files = $T/ssl/ec.pem, $T/ssl/rsa.pem"
	run helper deploy
	assert_success
	legacy_files none
	write_maincf "smtpd_tls_cert_file = $T/ssl/rsa-cert.pem" \
		"smtpd_tls_key_file = $T/ssl/rsa-key.pem" \
		"smtpd_tls_eccert_file = $T/ssl/ec-cert.pem" \
		"smtpd_tls_eckey_file = $T/ssl/ec-key.pem"
	run helper deploy
	assert_success
	write_maincf
	good_bundle
	write_mastercf \
		"submission inet  n       -       n       -       -       smtpd" \
		"  -o smtpd_tls_cert_file=$T/ssl/rsa-cert.pem" \
		"  -o smtpd_tls_key_file=$T/ssl/rsa-key.pem" \
		"  -o smtpd_tls_eccert_file=$T/ssl/ec-cert.pem" \
		"  -o smtpd_tls_eckey_file=$T/ssl/ec-key.pem"
	both_files a.example.net none
	sni_map hash "a.example.net $T/ssl/ec.pem, $T/ssl/rsa.pem"
	run deploy_inputs deploy
	assert_success
	run deploy_inputs check
	assert_success
	assert_output --partial "identity submission/inet (master.cf): $T/ssl/rsa-cert.pem: /O=Test/CN=$HOST, RSA-2048 key"
	assert_output --partial "identity submission/inet (master.cf): $T/ssl/ec-cert.pem: /O=Test/CN=$HOST, ECDSA-256 key"
	assert_output --partial "identity SNI a.example.net ($T/postfix/sni): $T/ssl/rsa.pem: /O=Test/CN=a.example.net, RSA-2048 key"
	assert_output --partial "identity SNI a.example.net ($T/postfix/sni): $T/ssl/ec.pem: /O=Test/CN=a.example.net, ECDSA-256 key"
}
