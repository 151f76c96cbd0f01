#!/usr/bin/env bats
# Issue 20, part 5: DANE and renewal.  When port 25 is guarded by the
# current key's 3 1 1 record alone (check's rollover warning) and the ACME
# client whose files POSTFIX_TLS_CERT names is set to make a new key at
# each renewal, check says so, from the client's own configuration:
# certbot's lineage file (reuse_key, False by default in certbot 2.1),
# dehydrated's PRIVATE_KEY_RENEW ("yes" by default).  The fix gives the
# 2 1 1 record for the issuing CA to publish now, or how to keep the key.
# A warning: check's exit status stays 0.  lego's --reuse-key is a flag
# of each run, in no file: documented, not detected.

load ../helpers
load ../dane-lib

setup_file() {
	dane_setup_file
}

setup() {
	dane_setup
}

# certbot_lineage [REUSE-LINE]: the host's files as certbot's lineage
# $HOST under $T/etc/letsencrypt, with its renewal file (holding
# REUSE-LINE under [renewalparams], when given).
certbot_lineage() {
	local live=$T/etc/letsencrypt/live/$HOST
	mkdir -p "$live" "$T/etc/letsencrypt/renewal"
	cp "$T/ssl/cert.pem" "$live/cert.pem"
	cp "$T/ssl/chain.pem" "$live/chain.pem"
	cp "$T/ssl/key.pem" "$live/privkey.pem"
	{
		echo "version = 2.1.0"
		echo "archive_dir = /etc/letsencrypt/archive/$HOST"
		echo "[renewalparams]"
		echo "authenticator = standalone"
		[ -z "${1:-}" ] || echo "$1"
	} >"$T/etc/letsencrypt/renewal/$HOST.conf"
	RENEWAL=$T/etc/letsencrypt/renewal/$HOST.conf
	CERT=$live/cert.pem KEY=$live/privkey.pem CHAIN=$live/chain.pem
}

# dehydrated_certs [CONFIG-LINE]: the host's files in dehydrated's
# $T/var/lib/dehydrated/certs/$HOST, CONFIG-LINE in that certificate's
# own config when given.
dehydrated_certs() {
	local d=$T/var/lib/dehydrated/certs/$HOST
	mkdir -p "$d"
	cp "$T/ssl/cert.pem" "$d/cert.pem"
	cp "$T/ssl/chain.pem" "$d/chain.pem"
	cp "$T/ssl/key.pem" "$d/privkey.pem"
	[ -z "${1:-}" ] || echo "$1" >"$d/config"
	CERT=$d/cert.pem KEY=$d/privkey.pem CHAIN=$d/chain.pem
}

# client_check: check of $CERT, $KEY, $CHAIN with only the current key's
# 3 1 1 record published (validated).
client_check() {
	mapfile -t fake < <(answer "$(leaf_record)")
	run dns "${fake[@]}" -- --cert "$CERT" --key "$KEY" --chain "$CHAIN" check
}

# The CA's record, as the fixes give it.
ta() { echo "$QNAME. IN TLSA 2 1 1 $(spki "$PKI/inter2.pem")"; }

@test "certbot with no reuse_key (False by default): check names the lineage file and gives the CA's 2 1 1 record" {
	certbot_lineage
	client_check
	assert_success
	assert_output --partial "only the served key's own 3 x x record matches"
	assert_output --partial "postfix-tls-setup: warning: main.cf: $RENEWAL: certbot makes a new key at each renewal of $HOST (reuse_key is not set: False by default), and only the current key's 3 x x record is published: its next renewal breaks DANE mail to $HOST (publish $(ta); or keep the key: reuse_key = True under [renewalparams] here)"
}

@test "certbot with reuse_key = False says so; reuse_key = True draws no advice (the rollover warning stays)" {
	certbot_lineage "reuse_key = False"
	client_check
	assert_success
	assert_output --partial "$RENEWAL: certbot makes a new key at each renewal of $HOST (reuse_key = False), "
	certbot_lineage "reuse_key = True"
	client_check
	assert_success
	assert_output --partial "only the served key's own 3 x x record matches"
	refute_output --partial "makes a new key"
}

@test "no advice when the records make the chain safe (a 2 1 1 for the CA beside the 3 1 1), nor at deploy" {
	certbot_lineage
	mapfile -t fake < <(answer "$(leaf_record)" "2 1 1 $(spki "$PKI/inter2.pem")")
	run dns "${fake[@]}" -- --cert "$CERT" --key "$KEY" --chain "$CHAIN" check
	assert_success
	refute_output --partial "makes a new key"
	mapfile -t fake < <(answer "$(leaf_record)")
	run dns "${fake[@]}" -- --cert "$CERT" --key "$KEY" --chain "$CHAIN" deploy
	assert_success
	refute_output --partial "makes a new key"
}

@test "dehydrated with PRIVATE_KEY_RENEW unset (yes by default) or \"yes\": check says so; \"no\" draws no advice" {
	dehydrated_certs
	client_check
	assert_success
	assert_output --partial "warning: main.cf: $T/var/lib/dehydrated/config: dehydrated makes a new key at each renewal of $HOST (PRIVATE_KEY_RENEW is not set: yes by default), and only the current key's 3 x x record is published: its next renewal breaks DANE mail to $HOST (publish $(ta); or keep the key: PRIVATE_KEY_RENEW=\"no\")"
	dehydrated_certs 'PRIVATE_KEY_RENEW="yes"'
	client_check
	assert_output --partial "warning: main.cf: $T/var/lib/dehydrated/certs/$HOST/config: dehydrated makes a new key at each renewal of $HOST (PRIVATE_KEY_RENEW=yes), "
	dehydrated_certs 'PRIVATE_KEY_RENEW="no"'
	client_check
	assert_success
	assert_output --partial "only the served key's own 3 x x record matches"
	refute_output --partial "makes a new key"
}

@test "files that are not an ACME client's draw the rollover warning alone" {
	CERT=$T/ssl/cert.pem KEY=$T/ssl/key.pem CHAIN=$T/ssl/chain.pem
	client_check
	assert_success
	assert_output --partial "only the served key's own 3 x x record matches"
	refute_output --partial "makes a new key"
}
