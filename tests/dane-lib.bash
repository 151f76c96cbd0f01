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

# dns_at ADDR RESOLV-LINE... -- [FAKEDNS ARGS...] -- HELPER ARGS...: the
# helper on the test world in a private mount and network namespace,
# whose /etc/resolv.conf names ADDR (then the RESOLV-LINEs, e.g.
# "options trust-ad"), where tests/fakedns.py (or $DNS_SERVER) listens.
# An ADDR off loopback sits on an interface of its own (a dummy one, or
# one end of a veth pair where the kernel has no dummy driver), /24: a
# resolver on the network, as far as the host can tell.
dns_at() {
	local d=$BATS_FILE_TMPDIR addr=$1
	shift
	{
		echo "nameserver $addr"
		while [ "$1" != -- ]; do echo "$1"; shift; done
	} >"$d/resolv.conf"
	shift
	# shellcheck disable=SC2016 # expanded by the inner shell
	env HELPER="$HELPER" TOP="$TOP" PKI="$PKI" D="$d" ADDR="$addr" \
	    SERVER="${DNS_SERVER:-fakedns.py}" unshare -mn bash -c '
		T=$0 fake=()
		ip link set lo up
		case $ADDR in
		127.*) ;;
		*) { ip link add d0 type dummy 2>/dev/null ||
			ip link add d0 type veth peer name d1 && ip link set d1 up; } &&
			ip addr add "$ADDR/24" dev d0 && ip link set d0 up ||
			{ echo "dns_at: cannot put $ADDR on an interface" >&2; exit 99; } ;;
		esac
		mount --bind "$D/resolv.conf" /etc/resolv.conf
		while [ "$1" != -- ]; do fake+=("$1"); shift; done
		shift
		if [ "${#fake[@]}" -gt 0 ]; then
			python3 "$TOP/tests/$SERVER" --addr "$ADDR" --port 53 \
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

# dns [FAKEDNS ARGS...] -- HELPER ARGS...: the helper on the test world,
# in a private mount and network namespace whose /etc/resolv.conf names
# tests/fakedns.py (or $DNS_SERVER) on 127.0.0.1 (FAKEDNS ARGS; none:
# nothing listens).
dns() {
	dns_at 127.0.0.1 -- "$@"
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

