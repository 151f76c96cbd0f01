# Shared by the tests of issue 19's holes (tests/cli/dane-served-chains.bats,
# tests/cli/dane-resolver-trust.bats, tests/cli/walked-names.bats, tests/cli/key-handover.bats,
# tests/cli/sni-map-adoption.bats, tests/cli/tlsproxy-and-clients.bats, tests/cli/must-staple.bats):
# certificates with the extensions they need, and OpenSSL's own DANE
# client (the stand-in resolver at any address: dns_at, dane-lib.bash).
# Load after helpers and dane-lib.
# shellcheck shell=bash

# pki_resign NAME ISSUER EXT-LINE...: PKI leaf NAME issued again by ISSUER
# with these extension lines added to the ones pki_cert gave it (same
# key, same subject): e.g. "tlsfeature = status_request".
pki_resign() {
	local name=$1 issuer=$2
	shift 2
	printf '%s\n' "$@" >>"$PKI/$name.ext"
	openssl x509 -req -in "$PKI/$name.csr" -CA "$PKI/$issuer.pem" \
		-CAkey "$PKI/$issuer.key" -days 365 -sha256 \
		-extfile "$PKI/$name.ext" -set_serial "0x$(openssl rand -hex 8)" \
		-out "$PKI/$name.pem" 2>/dev/null
}

# dane_client LEAF KEY CHAIN RECORD: what OpenSSL's own DANE client
# (s_client -dane_tlsa_rrdata, as Postfix's smtp client hands records to
# OpenSSL) says of a server that sends LEAF then CHAIN (s_server, in a
# private network namespace), given the one TLSA RECORD for $HOST.
dane_client() {
	# shellcheck disable=SC2016 # expanded by the inner shell
	HOST=$HOST unshare -n bash -c '
		ip link set lo up
		openssl s_server -quiet -accept 127.0.0.1:4433 -naccept 2 \
			-cert "$1" -key "$2" -cert_chain "$3" >/dev/null 2>&1 &
		for _ in $(seq 100); do
			(exec 3<>/dev/tcp/127.0.0.1/4433) 2>/dev/null && break
			sleep 0.02
		done
		timeout 10 openssl s_client -connect 127.0.0.1:4433 -brief \
			-dane_tlsa_domain "$HOST" -dane_tlsa_rrdata "$4" </dev/null 2>&1
		wait
	' dane_client "$@"
}

# dns_child OUT HELPER ARGS...: the helper in a private mount and network
# namespace whose resolver (tests/fakedns.py on 127.0.0.1) never answers;
# while it waits, its DNS lookup's child (postfix-tls-lookup, which the
# helper starts) is looked at:
# OUT.status gets /proc/CHILD/status, OUT.fd one "N TARGET" line per open
# descriptor.  The helper's own output goes to OUT.log, its exit status
# is returned.  Give the lookup time to be seen: POSTFIX_TLS_DANE_TIMEOUT.
dns_child() {
	local out=$1 d=$BATS_FILE_TMPDIR
	shift
	echo "nameserver 127.0.0.1" >"$d/resolv.conf"
	# shellcheck disable=SC2016 # expanded by the inner shell
	env HELPER="$HELPER" TOP="$TOP" PKI="$PKI" D="$d" OUT="$out" \
	    unshare -mn bash -c '
		T=$0
		ip link set lo up
		mount --bind "$D/resolv.conf" /etc/resolv.conf
		python3 "$TOP/tests/fakedns.py" --addr 127.0.0.1 --port 53 \
			--pidfile "$D/dns.pid" --mode silent &
		for _ in $(seq 100); do [ -s "$D/dns.pid" ] && break; sleep 0.05; done
		"$HELPER" -c "$T/postfix" --root "$T/root" --conf "$T/conf" \
			--cafile "$PKI/root.pem" "$@" >"$OUT.log" 2>&1 </dev/null &
		helper=$!
		# The name the kernel keeps for the lookup program
		# (postfix-tls-lookup, cut to 15 bytes).
		comm=postfix-tls-loo
		: >"$OUT.status"
		# As long as the helper runs (an ASan build on a busy machine
		# may take seconds to reach its lookup).
		while kill -0 "$helper" 2>/dev/null; do
			for c in $(cat /proc/"$helper"/task/*/children 2>/dev/null); do
				[ "$(cat "/proc/$c/comm" 2>/dev/null)" = "$comm" ] || continue
				# Seen once it is in the lookup (its socket is open).
				ls -l "/proc/$c/fd" 2>/dev/null | grep -q "socket:" || continue
				cat "/proc/$c/status" >"$OUT.status"
				for f in /proc/"$c"/fd/*; do
					echo "${f##*/} $(readlink "$f")"
				done >"$OUT.fd"
				break 2
			done
			sleep 0.01
		done
		wait "$helper"
		rc=$?
		kill "$(cat "$D/dns.pid")"
		rm -f "$D/dns.pid"
		exit $rc
	' "$T" "$@"
}
