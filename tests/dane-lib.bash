# Shared by tests/cli/dane-guard.bats and tests/cli/dane-guard-edges.bats:
# the PKI with the next key a renewal brings, record data as openssl
# computes it, and the helper run against a stand-in resolver in private
# namespaces.
# shellcheck shell=bash

dane_setup_file() {
	pki_common
	pki_rsa_lineage
	# The next key, as a renewal would bring it.
	mkdir -p "$PKI/next"
	cp "$PKI/inter2.pem" "$PKI/inter2.key" "$PKI/next/"
	PKI=$PKI/next pki_cert "$HOST" inter2 server
	cp "$PKI/next/$HOST.pem" "$PKI/next.pem"
	cp "$PKI/next/$HOST.key" "$PKI/next.key"
}

dane_setup() {
	need_root
	setup_world
	QNAME=_25._tcp.$HOST
}

# spki FILE [SELECTOR MTYPE]: the record data openssl computes for the
# certificate: selector 1 (SubjectPublicKeyInfo) or 0 (the certificate),
# matching type 1 (SHA-256), 2 (SHA-512) or 0 (the bytes, in hex).
spki() {
	local sel=${2:-1} mt=${3:-1}
	if [ "$sel" = 1 ]; then
		openssl x509 -in "$1" -noout -pubkey | openssl pkey -pubin -outform DER
	else
		openssl x509 -in "$1" -outform DER
	fi | case $mt in
		1) sha256sum | cut -d' ' -f1 ;;
		2) sha512sum | cut -d' ' -f1 ;;
		0) od -An -v -tx1 | tr -d ' \n' ;;
	esac
}

# dns [FAKEDNS ARGS...] -- HELPER ARGS...: the helper on the test world,
# in a private mount and network namespace whose /etc/resolv.conf names
# tests/fakedns.py (or $DNS_SERVER) on 127.0.0.1 (FAKEDNS ARGS; none:
# nothing listens).
dns() {
	# Outside $T, which refusals prove unchanged.
	local d=$BATS_FILE_TMPDIR
	echo "nameserver 127.0.0.1" >"$d/resolv.conf"
	# shellcheck disable=SC2016 # expanded by the inner shell
	env HELPER="$HELPER" TOP="$TOP" PKI="$PKI" D="$d" \
	    SERVER="${DNS_SERVER:-fakedns.py}" unshare -mn bash -c '
		T=$0 fake=()
		ip link set lo up
		mount --bind "$D/resolv.conf" /etc/resolv.conf
		while [ "$1" != -- ]; do fake+=("$1"); shift; done
		shift
		if [ "${#fake[@]}" -gt 0 ]; then
			python3 "$TOP/tests/$SERVER" --addr 127.0.0.1 --port 53 \
				--pidfile "$D/dns.pid" "${fake[@]}" &
			for _ in $(seq 100); do [ -s "$D/dns.pid" ] && break; sleep 0.05; done
		fi
		"$HELPER" -c "$T/postfix" --root "$T/root" --conf "$T/conf" \
			--cafile "$PKI/root.pem" "$@"
		rc=$?
		[ ! -s "$D/dns.pid" ] || kill "$(cat "$D/dns.pid")"
		rm -f "$D/dns.pid"
		exit $rc
	' "$T" "$@"
}

# deploy_dns [FAKEDNS ARGS...] -- ARGS...: deploy_inputs under dns.
deploy_dns() {
	local -a fake=()
	while [ "$1" != -- ]; do
		fake+=("$1")
		shift
	done
	shift
	dns "${fake[@]}" -- --cert "$T/ssl/cert.pem" --key "$T/ssl/key.pem" \
		--chain "$T/ssl/chain.pem" "$@"
}

# answer RECORD...: fakedns.py's arguments for these records at $QNAME,
# validated (the AD bit).
answer() {
	local r
	printf '%s\n' --mode answer --ad
	for r in "$@"; do
		printf '%s\n' --tlsa "$QNAME $r"
	done
}

leaf_record() {
	echo "3 1 1 $(spki "$PKI/$HOST.pem")"
}

