#!/usr/bin/env bats
# Fail closed: a refusal is never swallowed on its way out, and a stage
# that fails never lets the run deploy (issue 10, items 1 and 2).

load ../helpers

setup_file() {
	pki_common
	pki_key self.example.org ec
	pki_key spare ec
	build_fault_shim
	# djb2 collider: the old repeat filter kept 64-bit djb2 hashes of
	# PRIO+PATH+MESSAGE, warnings and problems in one table.  Given a
	# warning and a problem template whose marker is 13 ']' (digit 0),
	# print the 13 characters (']'..'}', base 33) that make the problem's
	# hash equal the warning's: 33^13 > 2^64, so any difference fits.
	cat >"$BATS_FILE_TMPDIR/collide.c" <<-'C'
	#include <stdio.h>
	#include <string.h>
	typedef unsigned long long u64;
	static u64 djb2(u64 h, const char *s) { while (*s) h = h * 33 + (unsigned char)*s++; return h; }
	int main(int argc, char **argv) {
		const char *wpath = argv[1], *wmsg = argv[2], *ppath = argv[3], *pmsg = argv[4];
		const char *mark = strstr(pmsg, "]]]]]]]]]]]]]");
		u64 inv = 33, shift = 1, x;
		size_t i, after;
		char out[14];
		if (argc != 5 || mark == NULL) return 2;
		after = strlen(mark + 13);
		for (i = 0; i < 6; i++) inv *= 2 - 33 * inv;    /* 33^-1 mod 2^64 */
		for (i = 0; i < after; i++) shift *= inv;
		x = (djb2(djb2(5381 + 4, wpath), wmsg) - djb2(djb2(5381 + 3, ppath), pmsg)) * shift;
		for (i = 13; i-- > 0; x /= 33) out[i] = ']' + x % 33;
		out[13] = '\0';
		puts(out);
		return 0;
	}
	C
	cc -o "$BATS_FILE_TMPDIR/collide" "$BATS_FILE_TMPDIR/collide.c"
}

setup() {
	setup_world
	good_bundle
}

# self_signed CN: $T/ssl/cert.pem a self-signed server certificate with
# that common name, on the key of self.example.org.
self_signed() {
	rm -f "$PKI/self.example.org.pem"
	CN=$1 pki_cert self.example.org self server
	cp "$PKI/self.example.org.pem" "$T/ssl/cert.pem"
}

@test "a refusal whose line collides with an earlier warning's hash is still said and refuses" {
	# A key file holding two keys: a warning, said before the chain's verdict.
	cat "$PKI/self.example.org.key" "$PKI/spare.key" >"$T/ssl/key.pem"
	self_signed ']]]]]]]]]]]]]'
	run helper --cert "$T/ssl/cert.pem" --key "$T/ssl/key.pem" check
	assert_failure 65
	warn=$(sed -n "s|^postfix-tls-setup: warning: $T/ssl/key.pem: \(holds 2 private keys.*\)|\1|p" <<<"$output")
	prob=$(sed -n "s|^postfix-tls-setup: $T/ssl/cert.pem: \(certificate chain does not verify.*\)|\1|p" <<<"$output")
	[ -n "$warn" ] && [ -n "$prob" ]
	# The attacker's subject: the verdict's line now hashes like the warning's.
	crafted=$("$BATS_FILE_TMPDIR/collide" "$T/ssl/key.pem" "$warn" "$T/ssl/cert.pem" "$prob")
	self_signed "$crafted"
	refuses 65 "$T/ssl/cert.pem: certificate chain does not verify as a TLS server: self-signed certificate at depth 0, /O=Test/CN=$crafted" \
		helper --cert "$T/ssl/cert.pem" --key "$T/ssl/key.pem" deploy
	assert_output --partial "warning: $T/ssl/key.pem: holds 2 private keys"
	refute_output --partial "wrote"
}

@test "a problem repeated after sixty-four others is still said once" {
	# 64 distinct problems (key, leaf, 62 chain files missing), then one
	# directory that is unsafe for two more chain files: one line for it.
	local -a chains=()
	mkdir -m 775 "$T/shared"
	cp "$PKI/inter2.pem" "$T/shared/a.pem"
	cp "$PKI/inter1.pem" "$T/shared/b.pem"
	for i in $(seq 62); do chains+=(--chain "$T/ssl/gone$i.pem"); done
	refuses 66 "$T/ssl/gone62.pem: No such file or directory" \
		helper --cert "$T/ssl/nocert.pem" --key "$T/ssl/nokey.pem" \
		"${chains[@]}" --chain "$T/shared/a.pem" --chain "$T/shared/b.pem" deploy
	run grep -c "^postfix-tls-setup: $T/shared: directory is writable by its group" <<<"$output"
	assert_output 1
}

@test "a trust store that cannot be set up refuses instead of deploying unverified" {
	not_under_valgrind
	# The system store (no --cafile): the lookup cannot be added to it.
	refuses 70 "cannot set up the trust anchor directory" \
		env FAULT_TRUST_STORE=1 LD_PRELOAD="$BATS_FILE_TMPDIR/fault.so" \
		"$HELPER" -c "$T/postfix" --root "$T/root" --conf "$T/conf" \
		--cert "$T/ssl/cert.pem" --key "$T/ssl/key.pem" \
		--chain "$T/ssl/chain.pem" deploy
	refute_output --partial "wrote"
}

@test "a trust store that cannot be set up for --capath refuses too" {
	not_under_valgrind
	mkdir "$T/anchors"
	cp "$PKI/root.pem" "$T/anchors/"
	openssl rehash "$T/anchors"
	refuses 70 "$T/anchors: cannot set up the trust anchor directory" \
		env FAULT_TRUST_STORE=1 LD_PRELOAD="$BATS_FILE_TMPDIR/fault.so" \
		"$HELPER" -c "$T/postfix" --root "$T/root" --conf "$T/conf" \
		--capath "$T/anchors" --cert "$T/ssl/cert.pem" \
		--key "$T/ssl/key.pem" --chain "$T/ssl/chain.pem" deploy
}

@test "an empty option value is a usage error naming the option" {
	for opt in --root --cert --key --chain --bundle --cafile --capath --conf --warn-days -c; do
		refuses 64 "$opt needs a value, not an empty one" \
			"$HELPER" "$opt" '' check
	done
	refuses 64 "--root needs a value, not an empty one" \
		deploy_inputs --root= deploy
}

@test "a missing key file named in main.cf is one problem line" {
	edit_maincf "s|^smtpd_tls_key_file = .*|smtpd_tls_key_file = $T/ssl/nokey.pem|"
	refuses 66 "$T/ssl/nokey.pem: No such file or directory" \
		helper --no-conf check
	run grep -c "nokey.pem" <<<"$output"
	assert_output 1
}

@test "with several problems the first one decides the exit status, and every one is said" {
	# A chain file that is missing (66), found before main.cf's TLS switched
	# off (78): the man page promises the first problem's status.
	edit_maincf "s|^smtpd_tls_security_level = .*|smtpd_tls_security_level = none|"
	refuses 66 "$T/ssl/nochain.pem: No such file or directory" \
		deploy_inputs --chain "$T/ssl/nochain.pem" deploy
	assert_output --partial "TLS is switched off"
	assert_equal "$(grep -c '^postfix-tls-setup: ' <<<"$output")" 2
}
