#!/usr/bin/env bats
# Keys as Postfix loads them, leaf keys as clients take them.  The judges
# are real: smtpd 3.7 in a private world for every key variant (a key it
# cannot load means STARTTLS, then 454), and an openssl s_server/s_client
# handshake for every leaf key type.  The helper must refuse exactly what
# they refuse.  All keys and variants are made at test time.

load ../helpers

# LEAF:VARIANT pairs (variants: pki_key_variant and pki_variant_files in
# tests/pki.bash); the RSA leaf for the labels that depend on the type.
CASES="
$HOST:pkcs8 $HOST:traditional $HOST:any-label $HOST:pkcs8-as-rsa
$HOST:pkcs8-as-ec $HOST:traditional-as-pkcs8 $HOST:traditional-as-rsa
$HOST:traditional-as-dsa $HOST:mic-only $HOST:traditional-mic-only
$HOST:comment $HOST:short-header $HOST:encrypted $HOST:traditional-encrypted
$HOST:excess $HOST:cert-excess $HOST:after-any $HOST:after-cert
$HOST:traditional-after-cert rsa.example.org:traditional rsa.example.org:pkcs8-as-rsa
rsa.example.org:pkcs8-as-ec rsa.example.org:traditional-as-ec
rsa.example.org:traditional-as-rsa"

# KEYTYPE:NAME for pki_cert (DSA is made apart).
TYPES="
rsa:1024:k-rsa1024 rsa:2048:k-rsa2048 rsa:3072:k-rsa3072 rsa:4096:k-rsa4096
ec:P-256:k-p256 ec:P-384:k-p384 ec:P-521:k-p521 ED25519:k-ed25519
ED448:k-ed448 RSA-PSS:k-rsapss ec:secp160r1:k-secp160r1
ec:secp224r1:k-secp224r1 ec:prime192v1:k-p192 ec:brainpoolP256r1:k-bp256
ec:secp256k1:k-secp256k1 DSA:k-dsa"

# Each variant against two smtpd instances: one reading the key file
# (smtpd_tls_cert_file + smtpd_tls_key_file, what the helper deploys for)
# and one reading key and chain from one file (smtpd_tls_chain_files).
# Every connection gets a new smtpd (max_use = 1), which reads the files
# afresh.  Prints "@@ LEAF VARIANT A=CODE C=CODE", CODE the STARTTLS reply.
smtpd_verdicts() {
	world <<-SCENARIO
	. "\$TOP/tests/pki.bash"
	ip addr add 127.0.0.2/8 dev lo
	make_postfix /etc/postfix 127.0.0.1
	make_postfix /etc/postfix.chain 127.0.0.2
	postconf -e max_use=1 smtpd_tls_cert_file=/etc/ssl/mail/cert.pem
	postconf -c /etc/postfix.chain -e max_use=1 \
		smtpd_tls_chain_files=/etc/ssl/mail/both.pem
	touch -d '1 hour ago' /etc/postfix/main.cf /etc/postfix.chain/main.cf
	postfix start 2>&1
	postfix -c /etc/postfix.chain start 2>&1
	wait_port 127.0.0.1 25 && wait_port 127.0.0.2 25
	code() {
		timeout 10 bash -c 'exec 3<>/dev/tcp/\$1/25; read -r l <&3
			printf "EHLO test\r\n" >&3
			while read -r l <&3; do case \$l in 250\ *) break ;; esac; done
			printf "STARTTLS\r\n" >&3; read -r l <&3; echo "\${l%%[ -]*}"' _ "\$1"
	}
	for c in ${CASES//$'\n'/ }; do
		pki_variant_files "\${c%%:*}" "\${c#*:}" /etc/ssl/mail
		cat /etc/ssl/mail/cert.pem "\$PKI/chain.pem" >/etc/ssl/mail/c.pem
		mv /etc/ssl/mail/c.pem /etc/ssl/mail/cert.pem
		cat /etc/ssl/mail/key.pem /etc/ssl/mail/cert.pem >/etc/ssl/mail/both.pem
		say "\${c%%:*} \${c#*:} A=\$(code 127.0.0.1) C=\$(code 127.0.0.2)"
	done
	SCENARIO
}

# Each leaf key type served by s_server (at security level 0, so that
# only the client judges) to a default s_client that verifies the chain,
# on loopback in a network namespace of its own.
# Prints "@@ NAME ok" or "@@ NAME fails".
handshake_verdicts() {
	unshare -n bash -c 'ip link set lo up
	port=4433
	for t in $1; do
		n=${t##*:}
		port=$((port + 1))
		openssl s_server -accept "127.0.0.1:$port" -cert "$PKI/$n.pem" \
			-key "$PKI/$n.key" -cert_chain "$PKI/chain.pem" \
			-cipher "ALL:@SECLEVEL=0" -naccept 1 -quiet \
			</dev/null >/dev/null 2>&1 &
		pid=$!
		for _ in $(seq 50); do
			ss -ltn | grep -q "127.0.0.1:$port " && break
			sleep 0.05
		done
		if timeout 10 openssl s_client -connect "127.0.0.1:$port" \
			-CAfile "$PKI/root.pem" -verify_return_error \
			-verify_hostname "$n" -brief </dev/null 2>&1 |
			grep -q "^Verification: OK"; then
			echo "@@ $n ok"
		else
			echo "@@ $n fails"
		fi
		kill "$pid" 2>/dev/null
		wait "$pid" 2>/dev/null	# its status: killed or done, either way
	done
	true' _ "$TYPES"
}

setup_file() {
	[ "$(id -u)" -eq 0 ] || skip "needs root (runs as root in CI)"
	local t
	pki_common
	pki_cert rsa.example.org inter2 server rsa:2048
	cp "$PKI/rsa.example.org.pem" "$PKI/damaged.example.org.pem"
	pki_damage_secret rsa.example.org >"$PKI/damaged.example.org.key"
	pki_dsa_key k-dsa
	for t in $TYPES; do
		pki_cert "${t##*:}" inter2 server "${t%:*}"
	done
	T=$BATS_FILE_TMPDIR/world
	mkdir -p "$T"
	smtpd_verdicts >"$BATS_FILE_TMPDIR/smtpd" 2>&1
	handshake_verdicts >"$BATS_FILE_TMPDIR/handshake" 2>&1
}

setup() {
	need_root
	setup_world
}

# sample REGEX: under valgrind (the third pass of tests/run.sh, where each
# run of the helper takes seconds) only the verdict lines of REGEX, one
# case for each way through the helper's code; the plain and ASan passes
# judge every case.
sample() {
	if [ "${PTS_SANITIZER:-}" = valgrind ]; then grep -E "$1"; else cat; fi
}

# no_key_material: the output holds no line of base64 from the private
# key blocks of $T/ssl/key.pem (the messages name headers and labels).
no_key_material() {
	local line n=0
	while read -r line; do
		refute_output --partial "${line:0:24}"
		n=$((n + 1))
	done < <(awk '/^-----BEGIN .*PRIVATE KEY/ { k = 1; next }
		/^-----END/ { k = 0 }
		k && length($0) == 64 && /^[A-Za-z0-9+\/]+$/' "$T/ssl/key.pem")
	[ "$n" -gt 0 ] || fail "no key lines found to look for"
}

# verdict STATUS: what the helper's exit status says.
verdict() {
	case $1 in
	0) echo accepts ;;
	65) echo refuses ;;
	*) echo "fails with $1" ;;
	esac
}

@test "the helper refuses exactly the key files real smtpd cannot load" {
	local leaf v a c smtpd table="" n=0 differ=0
	while read -r _ leaf v a c; do
		n=$((n + 1))
		# Refused by either way of reading it.  A key file that
		# starts with its certificate fails in chain files for its
		# order ("key not first"), not for its key: A judges those.
		if [ "$a" = A=220 ] && { [ "$c" = C=220 ] ||
			[ "${v%after-cert}" != "$v" ]; }; then
			smtpd=accepts
		elif [ "$a" = A=454 ] || [ "$c" = C=454 ]; then
			smtpd=refuses
		else
			fail "smtpd gave no verdict for $leaf $v: $a $c"
		fi
		pki_variant_files "$leaf" "$v" "$T/ssl"
		run deploy_inputs -v check
		no_key_material
		table+="$leaf $v: smtpd $a $c $smtpd, helper $(verdict "$status")"
		if [ "$smtpd" != "$(verdict "$status")" ]; then
			differ=$((differ + 1))
			table+=" <-- differs: ${output//$'\n'/ }"
		fi
		table+=$'\n'
	done < <(grep '^@@ ' "$BATS_FILE_TMPDIR/smtpd" |
		sample " (pkcs8|any-label|mic-only|encrypted|excess|cert-excess|after-any) ")
	echo "$table"
	assert_equal "$differ differ" "0 differ"
	# Every case was judged; the judge refused some and accepted others.
	assert_equal "$(grep -c '^@@ ' "$BATS_FILE_TMPDIR/smtpd")" "$(echo "$CASES" | wc -w)"
	[ "$n" -ge 7 ]
	assert_regex "$table" "$HOST pkcs8: smtpd A=220 C=220 accepts"
	assert_regex "$table" "$HOST any-label: smtpd A=454 C=454 refuses"
}

@test "the helper accepts exactly the leaf key types a default client makes a handshake with" {
	local n result table="" count=0 differ=0
	while read -r _ n result; do
		count=$((count + 1))
		use_leaf "$n"
		run deploy_inputs check
		table+="$n: handshake $result, helper $(verdict "$status")"
		case $result:$status in
		ok:0) ;;
		fails:65)
			assert_output --regexp "$T/ssl/cert.pem: .*CN=$n has .*(every handshake fails|refuse keys under 2048 bits)"
			assert_output --partial "(reissue it with a" ;;
		*) differ=$((differ + 1))
			table+=" <-- differs: ${output//$'\n'/ }" ;;
		esac
		table+=$'\n'
	done < <(grep '^@@ ' "$BATS_FILE_TMPDIR/handshake" |
		sample " (k-p256|k-secp256k1|k-dsa) ")
	echo "$table"
	assert_equal "$differ differ" "0 differ"
	assert_equal "$(grep -c '^@@ ' "$BATS_FILE_TMPDIR/handshake")" "$(echo "$TYPES" | wc -w)"
	[ "$count" -ge 3 ]
	assert_regex "$table" "k-p256: handshake ok"
	assert_regex "$table" "k-dsa: handshake fails"
}

@test "a key labelled ANY PRIVATE KEY is refused with the label that fits" {
	pki_variant_files "$HOST" any-label "$T/ssl"
	refuses 65 "$T/ssl/key.pem: the private key's PEM label \"ANY PRIVATE KEY\" does not fit the EC key inside; Postfix cannot load it (make its BEGIN and END lines say \"PRIVATE KEY\")" \
		deploy_inputs deploy
}

@test "an EC key under an RSA label is refused" {
	pki_variant_files "$HOST" traditional-as-rsa "$T/ssl"
	refuses 65 "$T/ssl/key.pem: the private key's PEM label \"RSA PRIVATE KEY\" does not fit the EC key inside" \
		deploy_inputs deploy
	assert_output --partial "say \"EC PRIVATE KEY\")"
}

@test "a key with a Proc-Type header that is no encryption header is refused" {
	pki_variant_files "$HOST" mic-only "$T/ssl"
	refuses 65 "$T/ssl/key.pem: the private key's PEM block has a header (Proc-Type: 4,MIC-ONLY) that is no encryption header; Postfix cannot load it" \
		deploy_inputs deploy
}

@test "a key with excess data after its end is refused" {
	pki_variant_files "$HOST" excess "$T/ssl"
	refuses 65 "$T/ssl/key.pem: the private key (PEM block 1) has excess data after its end; Postfix refuses it (write it out afresh: openssl pkey -in $T/ssl/key.pem -out $T/ssl/key.pem)" \
		deploy_inputs deploy
}

@test "a DSA leaf is refused with the key to reissue it with" {
	use_leaf k-dsa
	refuses 65 "$T/ssl/cert.pem: /O=Test/CN=k-dsa has a DSA key, which default TLS clients (OpenSSL security level 2) do not accept: every handshake fails (reissue it with a P-256 or RSA-2048 key)" \
		deploy_inputs deploy
}

@test "a key whose secret part was damaged is refused, though its public part matches" {
	TYPES=rsa:damaged.example.org handshake_verdicts >"$T/handshake"
	assert_file_contains "$T/handshake" "^@@ damaged.example.org fails$"
	run openssl x509 -noout -modulus -in "$PKI/damaged.example.org.pem"
	local cert_modulus=$output
	run openssl rsa -noout -modulus -in "$PKI/damaged.example.org.key"
	assert_output "$cert_modulus"
	use_leaf damaged.example.org
	refuses 65 "$T/ssl/key.pem: the private key's secret part does not fit its public part" \
		deploy_inputs deploy
	no_key_material
}
