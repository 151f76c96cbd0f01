#!/usr/bin/env bats
# The helper's verdict on a chain equals openssl verify's.  The weak-crypto
# cases are compared at -auth_level 2, the level of a verifying peer on a
# current distribution; the others give the same verdict at either level.

load ../helpers

# case NAME ROOT LEAF CHAIN...: a leaf (with its key), a chain file made of
# the named certificates in the given order, and the trusted root.
add_case() {
	local name=$1 root=$2 leaf=$3 c
	shift 3
	mkdir -p "$CASES/$name"
	cp "$PKI/$leaf.pem" "$CASES/$name/cert.pem"
	cp "$PKI/$leaf.key" "$CASES/$name/key.pem"
	cp "$PKI/$root.pem" "$CASES/$name/root.pem"
	: >"$CASES/$name/chain.pem"
	for c in "$@"; do cat "$PKI/$c.pem" >>"$CASES/$name/chain.pem"; done
}

setup_file() {
	pki_common
	export CASES=$BATS_FILE_TMPDIR/cases
	pki_cert otherroot self ca
	pki_cert otherinter otherroot ca
	pki_cert good1.example.org inter2 server
	pki_cert rsa.example.org inter2 server rsa:2048
	pki_cert expired.example.org inter2 server ec 30 -400d
	pki_cert future.example.org inter2 server ec 365 +30d
	pki_cert self.example.org self server
	pki_cert client.example.org inter2 client
	pki_cert caleaf.example.org inter2 ca
	pki_cert noeku.example.org inter2 server-noeku
	pki_cert both.example.org inter2 server-both
	pki_cert weak.example.org inter2 server rsa:1024
	pki_cert sha1.example.org inter2 server ec 365 "" sha1
	pki_cert ncca root ca-nc
	pki_cert ok.example.org ncca server
	pki_cert bad.example.net ncca server
	pki_cert oldinter root ca ec 30 -400d
	pki_cert underold.example.org oldinter server
	pki_cert notca.example.org inter2 server
	pki_cert undernotca.example.org notca.example.org server
	pki_cert clientca root ca-client
	pki_cert underclientca.example.org clientca server
	cp "$PKI/inter1.key" "$PKI/inter1x.key"
	CN=inter1 pki_cert inter1x otherroot ca
	local prev=root i
	for i in 1 2 3 4 5 6; do
		pki_cert "long$i" "$prev" ca
		prev=long$i
	done
	pki_cert long.example.org long6 server

	add_case good root "$HOST" inter2 inter1
	add_case shuffled root "$HOST" inter1 inter2
	add_case other-leaf root good1.example.org inter2 inter1
	add_case rsa2048 root rsa.example.org inter2 inter1
	add_case missing-intermediate root "$HOST" inter2
	add_case missing-top-intermediate root "$HOST" inter1
	add_case wrong-intermediate root "$HOST" otherinter
	add_case expired root expired.example.org inter2 inter1
	add_case not-yet-valid root future.example.org inter2 inter1
	add_case self-signed root self.example.org
	add_case client-only root client.example.org inter2 inter1
	add_case ca-as-leaf root caleaf.example.org inter2 inter1
	add_case no-eku root noeku.example.org inter2 inter1
	add_case server-and-client root both.example.org inter2 inter1
	add_case rsa1024 root weak.example.org inter2 inter1
	add_case sha1 root sha1.example.org inter2 inter1
	add_case name-constraints-ok root ok.example.org ncca
	add_case name-constraints-violated root bad.example.net ncca
	add_case expired-intermediate root underold.example.org oldinter
	add_case issuer-not-a-ca root undernotca.example.org notca.example.org inter2 inter1
	add_case client-only-ca root underclientca.example.org clientca
	add_case long-chain root long.example.org long6 long5 long4 long3 long2 long1
	add_case long-chain-shuffled root long.example.org long3 long1 long6 long2 long5 long4
	add_case long-chain-gap root long.example.org long6 long5 long3 long2 long1
	add_case root-in-chain root "$HOST" root inter1 inter2
	add_case cross-signed-twin root "$HOST" inter2 inter1x inter1
	add_case cross-signed-only root "$HOST" inter2 inter1x
	add_case untrusted-root otherroot "$HOST" inter2 inter1 root
}

setup() {
	setup_world
}

@test "the helper's verdict equals openssl verify -purpose sslserver's on 28 generated chains" {
	local dir name ours theirs accepted=0 refused=0 mismatches=""
	for dir in "$CASES"/*/; do
		name=$(basename "$dir")
		cp "$dir/cert.pem" "$T/ssl/cert.pem"
		cp "$dir/key.pem" "$T/ssl/key.pem"
		cp "$dir/chain.pem" "$T/ssl/chain.pem"
		rm -f "$BUNDLE"
		run helper --cafile "$dir/root.pem" --cert "$T/ssl/cert.pem" \
			--key "$T/ssl/key.pem" --chain "$T/ssl/chain.pem" -q check
		case $status in
		0) ours=accept ;;
		65) ours=refuse ;;
		*) fail "case $name: helper exited $status: $output" ;;
		esac
		# A refusal names the leaf's chain, not the key; an acceptance
		# is silent under -q; check writes and changes nothing.
		if [ "$ours" = accept ]; then
			[ -z "$output" ] || fail "case $name: accepted, but said: $output"
		else
			[[ $output == *"postfix-tls-setup: $T/ssl/cert.pem: "* ]] ||
				fail "case $name: the refusal does not name the certificate: $output"
			[[ $output != *key.pem* ]] || fail "case $name: refused for the key: $output"
		fi
		[ ! -e "$BUNDLE" ] || fail "case $name: check wrote $BUNDLE"
		for f in cert key chain; do
			cmp -s "$dir/$f.pem" "$T/ssl/$f.pem" || fail "case $name: check changed $f.pem"
		done
		if openssl verify -auth_level 2 -purpose sslserver \
			-CAfile "$dir/root.pem" -untrusted "$dir/chain.pem" \
			"$dir/cert.pem" >/dev/null 2>&1; then
			theirs=accept
		else
			theirs=refuse
		fi
		echo "# $name: helper $ours, openssl $theirs" >&3
		[ "$ours" = "$theirs" ] || mismatches+=" $name"
		if [ "$ours" = accept ]; then accepted=$((accepted + 1)); else refused=$((refused + 1)); fi
	done
	assert_equal "$mismatches" ""
	assert_equal "$((accepted + refused))" 28
	[ "$accepted" -ge 8 ] || fail "only $accepted chains accepted"
	[ "$refused" -ge 12 ] || fail "only $refused chains refused"
}
