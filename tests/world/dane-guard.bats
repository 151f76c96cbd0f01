#!/usr/bin/env bats
# Issue 13 end to end: the DANE guard at rc-service postfix start and
# reload, against real DNS (nsd serving example.org signed at test time,
# example.net unsigned, behind a validating unbound: tests/dns-lib.bash),
# real OpenRC and real Postfix.  The judge is Postfix's own DANE client:
# posttls-finger -l dane looks the records up as every DANE sender does
# (with the MX name as SNI) and says "Verified" or "no matching DANE TLSA
# records" about what smtpd serves.  The helper must refuse exactly what
# that client would refuse.

load ../helpers

setup_file() {
	pki_common
	pki_rsa_lineage
	# Keys a renewal brings: the next ECDSA key of $HOST, and one for the
	# SNI entry (each in its own directory: pki_cert keeps a key it finds).
	local d
	for d in next sni; do
		mkdir -p "$PKI/$d"
		cp "$PKI/inter2.pem" "$PKI/inter2.key" "$PKI/$d/"
		PKI=$PKI/$d pki_cert "$HOST" inter2 server
		cp "$PKI/$d/$HOST.pem" "$PKI/$d.pem"
		cp "$PKI/$d/$HOST.key" "$PKI/$d.key"
	done
}

setup() {
	need_root
	# shellcheck disable=SC2034 # world() in helpers.bash uses it
	T=$BATS_TEST_TMPDIR
}

# In the world: the MX host mail.example.org on 127.0.0.1, its DNS up
# (the A record is in the signed zone), the hook's settings tuned.
MX='
. "$TOP/tests/dns-lib.bash"
mx_up() {
	make_postfix /etc/postfix 127.0.0.1
	use_tls "$HOST" inter2 inter1
	tune /etc/conf.d/postfix-tls-setup
	dns_up
}
# record FILE USAGE: the "U 1 1 HASH" of the certificate in FILE.
record() {
	echo "$2 1 1 $(dns_spki_hash "$1")"
}
# finger: what Postfix'"'"'s DANE client says of the MX host.
finger() {
	wait_port 127.0.0.1 25
	timeout 30 posttls-finger -c -l dane -o smtp_dns_support_level=dnssec \
		"[$HOST]" >/run/finger.out 2>&1
	if grep -q "Verified TLS connection established" /run/finger.out; then
		say "finger: verified"
	elif grep -q "no matching DANE TLSA records" /run/finger.out; then
		say "finger: no matching DANE TLSA records"
	else
		say "finger: other"
		cat /run/finger.out
	fi
}
bundle_sum() {
	sha256sum </etc/postfix/certificate.pem
}
'

@test "a matching 3 1 1 record: Postfix starts, and Postfix's DANE client verifies it" {
	run world <<-SCENARIO
	$MX
	mx_up
	dns_tlsa "\$HOST" "\$(record "\$PKI/\$HOST.pem" 3)"
	rc-service postfix start; say "start=\$?"
	finger
	SCENARIO
	assert_success
	assert_output --partial "@@ start=0"
	assert_output --partial "@@ finger: verified"
	refute_output --partial "TLSA record there"
}

@test "a renewal with a new key and no record: reload refused, the old chain kept and still verified; the printed record, once published, lets it through" {
	run world <<-SCENARIO
	$MX
	mx_up
	dns_tlsa "\$HOST" "\$(record "\$PKI/\$HOST.pem" 3)"
	rc-service postfix start; say "start=\$?"
	old=\$(bundle_sum)
	cp "\$PKI/next.pem" /etc/ssl/mail/cert.pem
	cp "\$PKI/next.key" /etc/ssl/mail/key.pem
	rc-service postfix reload >/run/reload.out 2>&1; say "reload=\$?"
	cat /run/reload.out
	[ "\$old" = "\$(bundle_sum)" ] && say "bundle intact"
	finger
	# Publish what the refusal printed, beside the old record.
	new=\$(grep -o "publish first: _25._tcp.\$HOST. IN TLSA 3 1 1 [0-9a-f]*" /run/reload.out | sed 's/.* TLSA //')
	say "printed=\$new"
	[ "\$new" = "\$(record "\$PKI/next.pem" 3)" ] && say "printed is the new key's"
	dns_tlsa "\$HOST" "\$(record "\$PKI/\$HOST.pem" 3)" "\$new"
	rc-service postfix reload; say "reload2=\$?"
	[ "\$old" != "\$(bundle_sum)" ] && say "bundle renewed"
	finger
	SCENARIO
	assert_success
	assert_output --partial "@@ start=0"
	assert_output --regexp "@@ reload=[1-9]"
	assert_output --partial "_25._tcp.$HOST: no TLSA record there matches the ECDSA chain of main.cf, so DANE senders would defer all mail to $HOST; it is not deployed (publish first: _25._tcp.$HOST. IN TLSA 3 1 1 "
	assert_output --partial "@@ bundle intact"
	assert_output --partial "@@ printed is the new key's"
	assert_output --partial "@@ reload2=0"
	assert_output --partial "@@ bundle renewed"
	# Both times, what smtpd served passed Postfix's own DANE check.
	[ "$(grep -c '@@ finger: verified' <<<"$output")" -eq 2 ] || fail "finger did not verify twice"
}

@test "a matching 2 1 1 for the intermediate lets a new leaf key through, and Postfix's DANE client agrees" {
	run world <<-SCENARIO
	$MX
	mx_up
	dns_tlsa "\$HOST" "\$(record "\$PKI/inter2.pem" 2)"
	rc-service postfix start; say "start=\$?"
	cp "\$PKI/next.pem" /etc/ssl/mail/cert.pem
	cp "\$PKI/next.key" /etc/ssl/mail/key.pem
	rc-service postfix reload; say "reload=\$?"
	openssl x509 -in /etc/postfix/certificate.pem -noout -pubkey >/run/served.pub
	openssl x509 -in "\$PKI/next.pem" -noout -pubkey | cmp -s - /run/served.pub && say "new key deployed"
	finger
	SCENARIO
	assert_success
	assert_output --partial "@@ start=0"
	assert_output --partial "@@ reload=0"
	assert_output --partial "@@ new key deployed"
	assert_output --partial "@@ finger: verified"
}

@test "the guard would have saved it: with POSTFIX_TLS_DANE=warn the same renewal is served and Postfix's DANE client fails" {
	run world <<-SCENARIO
	$MX
	mx_up
	echo POSTFIX_TLS_DANE=warn >>/etc/conf.d/postfix-tls-setup
	dns_tlsa "\$HOST" "\$(record "\$PKI/\$HOST.pem" 3)"
	rc-service postfix start; say "start=\$?"
	cp "\$PKI/next.pem" /etc/ssl/mail/cert.pem
	cp "\$PKI/next.key" /etc/ssl/mail/key.pem
	rc-service postfix reload; say "reload=\$?"
	finger
	SCENARIO
	assert_success
	assert_output --partial "@@ reload=0"
	assert_output --partial "warning: _25._tcp.$HOST: no TLSA record there matches the ECDSA chain of main.cf, so DANE senders defer mail to $HOST"
	assert_output --partial "@@ finger: no matching DANE TLSA records"
}

@test "an unsigned zone whose records do not match: a warning, and Postfix starts" {
	run world <<-SCENARIO
	$MX
	mx_up
	echo POSTFIX_TLS_DANE_NAMES=mail.example.net >>/etc/conf.d/postfix-tls-setup
	dns_tlsa mail.example.net "\$(record "\$PKI/next.pem" 3)"
	rc-service postfix start; say "start=\$?"
	SCENARIO
	assert_success
	assert_output --partial "@@ start=0"
	assert_output --partial "warning: _25._tcp.mail.example.net: no TLSA record there matches the ECDSA chain of main.cf; the answer is not DNSSEC-validated"
}

@test "DNS down: a warning within the timeout and Postfix starts; with POSTFIX_TLS_DANE_DNS=refuse it does not" {
	run world <<-SCENARIO
	$MX
	mx_up
	dns_tlsa "\$HOST" "\$(record "\$PKI/\$HOST.pem" 3)"
	echo POSTFIX_TLS_DANE_TIMEOUT=1 >>/etc/conf.d/postfix-tls-setup
	dns_down drop
	rc-service postfix start; say "start=\$?"
	rc-service postfix stop >/dev/null 2>&1
	dns_down refuse
	echo POSTFIX_TLS_DANE_DNS=refuse >>/etc/conf.d/postfix-tls-setup
	rc-service postfix start; say "start-refuse=\$?"
	running || say "postfix down"
	SCENARIO
	assert_success
	assert_output --partial "@@ start=0"
	assert_output --partial "warning: _25._tcp.$HOST: the TLSA records cannot be looked up: no answer"
	assert_output --regexp "@@ start-refuse=[1-9]"
	assert_output --partial "_25._tcp.$HOST: the TLSA records cannot be looked up: the resolver cannot be reached: Connection refused; refused, as POSTFIX_TLS_DANE_DNS=refuse asks"
	assert_output --partial "@@ postfix down"
}

@test "a CNAME at _25._tcp: followed, and the record to publish is named at its target" {
	run world <<-SCENARIO
	$MX
	mx_up
	dns_set "_25._tcp.\$HOST" CNAME _25._tcp.tlsa.example.org.
	dns_tlsa tlsa.example.org "\$(record "\$PKI/\$HOST.pem" 3)"
	rc-service postfix start; say "start=\$?"
	finger
	cp "\$PKI/next.pem" /etc/ssl/mail/cert.pem
	cp "\$PKI/next.key" /etc/ssl/mail/key.pem
	rc-service postfix reload; say "reload=\$?"
	SCENARIO
	assert_success
	assert_output --partial "@@ start=0"
	assert_output --partial "@@ finger: verified"
	assert_output --regexp "@@ reload=[1-9]"
	assert_output --partial "(publish first: _25._tcp.tlsa.example.org. IN TLSA 3 1 1 "
}

@test "RSA and ECDSA side by side: each needs its own match, or a shared 2 1 1" {
	run world <<-SCENARIO
	$MX
	mx_up
	dual_bundles
	echo "POSTFIX_TLS_CAFILE=\$PKI/root.pem" >>/etc/conf.d/postfix-tls-setup
	dns_tlsa "\$HOST" "\$(record "\$PKI/\$HOST.pem" 3)"
	rc-service postfix start; say "ecdsa-only=\$?"
	dns_tlsa "\$HOST" "\$(record "\$PKI/\$HOST.pem" 3)" "\$(record "\$PKI/rsa.pem" 3)"
	rc-service postfix start; say "both=\$?"
	rc-service postfix stop >/dev/null 2>&1
	dns_tlsa "\$HOST" "\$(record "\$PKI/inter2.pem" 2)"
	rc-service postfix start; say "shared-ta=\$?"
	SCENARIO
	assert_success
	assert_output --regexp "@@ ecdsa-only=[1-9]"
	assert_output --partial "_25._tcp.$HOST: no TLSA record there matches the RSA chain of main.cf"
	refute_output --partial "matches the ECDSA chain of main.cf"
	assert_output --partial "@@ both=0"
	assert_output --partial "@@ shared-ta=0"
}

@test "an SNI entry for the MX name is what DANE senders get, and it is the chain guarded" {
	run world <<-SCENARIO
	$MX
	mx_up
	mkdir -p /etc/ssl/sni
	cat "\$PKI/sni.key" "\$PKI/sni.pem" "\$PKI/chain.pem" >/etc/ssl/sni/mx.pem
	chmod 0600 /etc/ssl/sni/mx.pem
	echo "\$HOST /etc/ssl/sni/mx.pem" >/etc/postfix/sni
	chmod 0600 /etc/postfix/sni
	postmap -F hash:/etc/postfix/sni
	postconf -e "tls_server_sni_maps = hash:/etc/postfix/sni"
	# The record matches the default chain only.
	dns_tlsa "\$HOST" "\$(record "\$PKI/\$HOST.pem" 3)"
	postfix-tls-setup tlsa | grep "3 1 1" | sed 's/.* TLSA //' >/run/tlsa
	# Senders that send no SNI get the default chain: both are served.
	grep -qx "\$(record "\$PKI/sni.pem" 3)" /run/tlsa &&
		grep -qx "\$(record "\$PKI/\$HOST.pem" 3)" /run/tlsa &&
		[ "\$(wc -l </run/tlsa)" -eq 2 ] &&
		say "tlsa prints the SNI chain's and the default chain's"
	rc-service postfix start; say "start=\$?"
	# What the guard refused is what Postfix's DANE client would refuse.
	echo POSTFIX_TLS_DANE=warn >>/etc/conf.d/postfix-tls-setup
	rc-service postfix start >/dev/null 2>&1; say "warn-start=\$?"
	finger
	SCENARIO
	assert_success
	assert_output --partial "@@ tlsa prints the SNI chain's and the default chain's"
	assert_output --regexp "@@ start=[1-9]"
	assert_output --partial "_25._tcp.$HOST: no TLSA record there matches the ECDSA chain of SNI $HOST (/etc/postfix/sni)"
	assert_output --partial "@@ warn-start=0"
	assert_output --partial "@@ finger: no matching DANE TLSA records"
}
