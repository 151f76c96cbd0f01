#!/usr/bin/env bats
# Issue 20, part 5: DANE and renewal.  When port 25 is guarded by the
# current key's 3 1 1 record alone (check's rollover warning) and the ACME
# client whose files POSTFIX_TLS_CERT names is set to make a new key at
# each renewal, check says so, from the client's own configuration:
# certbot's lineage file (reuse_key under [renewalparams], False by
# default in certbot 2.1), dehydrated's PRIVATE_KEY_RENEW ("yes" by
# default; main config, then CONFIG_D, then the certificate's own).  The
# fix gives the 2 1 1 record for the issuing CA to publish now, or how to
# keep the key.  A warning, once a client file: check's exit status stays
# 0.  lego's --reuse-key is a flag of each run, in no file: documented,
# not detected.  main.cf reads key and chain from the helper's bundle
# (smtpd_tls_chain_files), as the README's Renewal section sets it up:
# with a separate smtpd_tls_key_file, a --key elsewhere is refused.

load ../helpers
load ../dane-lib

setup_file() {
	dane_setup_file
}

setup() {
	dane_setup
	write_maincf "smtpd_tls_chain_files = $BUNDLE"
	edit_maincf "/^smtpd_tls_cert_file/d; /^smtpd_tls_key_file/d"
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
# $T/var/lib/dehydrated/certs/$HOST (Debian's and Gentoo's BASEDIR, the
# main config then in $T/etc/dehydrated/config), CONFIG-LINE in that
# certificate's own config when given.
dehydrated_certs() {
	local d=$T/var/lib/dehydrated/certs/$HOST
	mkdir -p "$d"
	cp "$T/ssl/cert.pem" "$d/cert.pem"
	cp "$T/ssl/chain.pem" "$d/chain.pem"
	cp "$T/ssl/key.pem" "$d/privkey.pem"
	rm -f "$d/config"
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
	assert_output --partial "postfix-tls-setup: warning: $RENEWAL: certbot makes a new key at each renewal of $HOST (reuse_key is not set: False by default), and only the current key's 3 x x record is published: its next renewal brings a key no TLSA record for $HOST matches (publish $(ta) now; or keep the key: reuse_key = True under [renewalparams] here)"
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
	assert_output --partial "warning: $T/etc/dehydrated/config: dehydrated makes a new key at each renewal of $HOST (PRIVATE_KEY_RENEW is not set: yes by default), and only the current key's 3 x x record is published: its next renewal brings a key no TLSA record for $HOST matches (publish $(ta) now; or keep the key: PRIVATE_KEY_RENEW=\"no\")"
	dehydrated_certs 'PRIVATE_KEY_RENEW="yes"'
	client_check
	assert_output --partial "warning: $T/var/lib/dehydrated/certs/$HOST/config: dehydrated makes a new key at each renewal of $HOST (PRIVATE_KEY_RENEW=yes), "
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

@test "certbot's reuse_key counts only under [renewalparams], as certbot reads it; true in any case keeps the key" {
	certbot_lineage "# reuse_key = True"
	client_check
	assert_success
	assert_output --partial "$RENEWAL: certbot makes a new key at each renewal of $HOST (reuse_key is not set: False by default), "
	certbot_lineage
	printf '%s\n' "[[webroot_map]]" "reuse_key = True" >>"$RENEWAL"
	client_check
	assert_success
	assert_output --partial "$RENEWAL: certbot makes a new key at each renewal of $HOST (reuse_key is not set: False by default), "
	certbot_lineage "  reuse_key=true   # kept for DANE"
	client_check
	assert_success
	assert_output --partial "only the served key's own 3 x x record matches"
	refute_output --partial "makes a new key"
}

@test "dehydrated: a CONFIG_D file overrides the main config, the certificate's own config both; only \"yes\" renews" {
	mkdir -p "$T/etc/dehydrated/conf.d"
	printf '%s\n' "CONFIG_D=$T/etc/dehydrated/conf.d" "PRIVATE_KEY_RENEW=\"no\"" \
		>"$T/etc/dehydrated/config"
	dehydrated_certs
	client_check
	assert_success
	refute_output --partial "makes a new key"
	echo "export PRIVATE_KEY_RENEW=no" >"$T/etc/dehydrated/conf.d/10-keep.sh"
	echo "PRIVATE_KEY_RENEW='yes'  # rotate" >"$T/etc/dehydrated/conf.d/20-hook.sh"
	client_check
	assert_success
	assert_output --partial "warning: $T/etc/dehydrated/conf.d/20-hook.sh: dehydrated makes a new key at each renewal of $HOST (PRIVATE_KEY_RENEW=yes), "
	# A shell assignment has no blanks around '=': that line sets nothing.
	dehydrated_certs "PRIVATE_KEY_RENEW = no"
	client_check
	assert_output --partial "$T/etc/dehydrated/conf.d/20-hook.sh: dehydrated makes a new key"
	dehydrated_certs "PRIVATE_KEY_RENEW=YES"
	client_check
	assert_success
	refute_output --partial "makes a new key"
}

@test "two MX names at risk: the advice is said once, for the first" {
	certbot_lineage
	echo "POSTFIX_TLS_DANE_NAMES=\"$HOST mx2.example.org\"" >"$T/conf"
	run dns --mode answer --ad --tlsa "$QNAME $(leaf_record)" \
		--tlsa "_25._tcp.mx2.example.org $(leaf_record)" -- \
		--cert "$CERT" --key "$KEY" --chain "$CHAIN" check
	assert_success
	assert_equal "$(grep -c "only the served key's own 3 x x record matches" <<<"$output")" 2
	assert_equal "$(grep -c "makes a new key" <<<"$output")" 1
	assert_output --partial "renewal of $HOST (reuse_key is not set: False by default), and only the current key's 3 x x record is published: its next renewal brings a key no TLSA record for $HOST matches"
}

@test "a renewal file the walk does not trust (its directory writable by all) is passed over in silence" {
	certbot_lineage
	chmod 0777 "$T/etc/letsencrypt/renewal"
	client_check
	assert_success
	assert_output --partial "only the served key's own 3 x x record matches"
	refute_output --partial "makes a new key"
	refute_output --partial "letsencrypt/renewal"
}

@test "dehydrated with PRIVATE_KEY_ROLLOVER: the fix gives the next key's 3 1 1 from privkey.roll.pem; published, no warning at all" {
	dehydrated_certs "PRIVATE_KEY_ROLLOVER=\"yes\""
	install -m 0600 "$PKI/next.key" "$T/var/lib/dehydrated/certs/$HOST/privkey.roll.pem"
	client_check
	assert_success
	assert_output --partial "warning: $T/etc/dehydrated/config: dehydrated makes a new key at each renewal of $HOST (PRIVATE_KEY_RENEW is not set: yes by default), and only the current key's 3 x x record is published: its next renewal brings a key no TLSA record for $HOST matches (publish $QNAME. IN TLSA 3 1 1 $(spki "$PKI/next.pem") now (the next key, kept in privkey.roll.pem by PRIVATE_KEY_ROLLOVER); or keep the key: PRIVATE_KEY_RENEW=\"no\")"
	refute_output --partial "BEGIN"
	# The record the fix gave, published beside the current one: the
	# guard takes it for the next key's, and nothing is left to say.
	mapfile -t fake < <(answer "$(leaf_record)" "3 1 1 $(spki "$PKI/next.pem")")
	run dns "${fake[@]}" -- --cert "$CERT" --key "$KEY" --chain "$CHAIN" check
	assert_success
	refute_output --partial "only the served key's own 3 x x record matches"
	refute_output --partial "makes a new key"
	# ROLLOVER without a roll key yet (before the first run): the CA's record.
	rm "$T/var/lib/dehydrated/certs/$HOST/privkey.roll.pem"
	client_check
	assert_output --partial "(publish $(ta) now; or keep the key: PRIVATE_KEY_RENEW=\"no\")"
}
