# A real DNSSEC-validating DNS for a world (tests/world.sh), sourced by a
# scenario after world-lib.bash:
#   nsd on 127.0.0.2:53, authoritative for example.org (signed at run time
#     with a KSK and a ZSK made here, never committed) and example.net
#     (unsigned);
#   unbound on 127.0.0.1:53, validating, trusting example.org's KSK, with
#     stub zones to nsd;
#   /etc/resolv.conf = "nameserver 127.0.0.1" and nothing else (the helper
#     asks for the AD bit itself with RES_TRUSTAD, not "options trust-ad").
# Both zones hold SOA, NS ns.example.org (127.0.0.2), mail.<zone> A
# 127.0.0.1.  Every change re-signs, has nsd load the new serial and
# flushes unbound, so the next lookup sees it.  Everything lives in
# /run/pts-dns (the world's private /run).  world.sh's cleanup calls
# dns_stop.
# shellcheck shell=bash

DNS_DIR=/run/pts-dns
DNS_ZONES="example.org example.net"
DNS_SIGNED=example.org
dns_nsd=
dns_unbound=
dns_silent=

# dns_conf: nsd's and unbound's configuration; $DNS_DIR/anchor decides
# whether unbound trusts example.org's KSK.
dns_conf() {
	cat >"$DNS_DIR/nsd.conf" <<-CONF
	server:
	    ip-address: 127.0.0.2
	    port: 53
	    do-ip6: no
	    username: ""
	    chroot: ""
	    zonesdir: "$DNS_DIR"
	    database: ""
	    zonelistfile: "$DNS_DIR/nsd.zonelist"
	    xfrdfile: "$DNS_DIR/nsd.xfrd"
	    xfrdir: "$DNS_DIR"
	    pidfile: "$DNS_DIR/nsd.pid"
	    logfile: "$DNS_DIR/nsd.log"
	    server-count: 1
	    verbosity: 1
	remote-control:
	    control-enable: yes
	    control-interface: "$DNS_DIR/nsd.ctl"
	zone:
	    name: example.org
	    zonefile: example.org.zone.signed
	zone:
	    name: example.net
	    zonefile: example.net.zone
	CONF
	{
		cat <<-CONF
		server:
		    interface: 127.0.0.1
		    port: 53
		    do-ip6: no
		    username: ""
		    chroot: ""
		    directory: "$DNS_DIR"
		    pidfile: "$DNS_DIR/unbound.pid"
		    logfile: "$DNS_DIR/unbound.log"
		    use-syslog: no
		    verbosity: 1
		    val-log-level: 2
		    num-threads: 1
		    so-reuseport: no
		    do-not-query-localhost: no
		    module-config: "validator iterator"
		    qname-minimisation: no
		    trust-anchor-signaling: no
		    access-control: 127.0.0.0/8 allow
		CONF
		if [ -e "$DNS_DIR/anchor" ]; then
			echo "    trust-anchor-file: \"$DNS_DIR/ksk.key\""
		fi
		cat <<-CONF
		remote-control:
		    control-enable: yes
		    control-interface: "$DNS_DIR/unbound.ctl"
		stub-zone:
		    name: example.org
		    stub-addr: 127.0.0.2
		stub-zone:
		    name: example.net
		    stub-addr: 127.0.0.2
		# Everything else to nsd too, which refuses it: unbound never
		# primes the root (no network here) and answers SERVFAIL at once.
		stub-zone:
		    name: "."
		    stub-addr: 127.0.0.2
		CONF
	} >"$DNS_DIR/unbound.conf"
}

# dns_zone_of NAME: the zone NAME (absolute, no trailing dot) is in.
dns_zone_of() {
	local z
	for z in $DNS_ZONES; do
		case ${1%.} in
		"$z" | *."$z")
			echo "$z"
			return 0
			;;
		esac
	done
	echo "dns-lib: $1 is in no zone of this world ($DNS_ZONES)" >&2
	return 1
}

# dns_build ZONE: ZONE's file from its records, with the next serial;
# example.org signed (with signatures expired long ago while
# $DNS_DIR/bogus exists).
dns_build() {
	local zone=$1 serial file
	serial=$(($(cat "$DNS_DIR/$zone.serial" 2>/dev/null || echo 0) + 1))
	echo "$serial" >"$DNS_DIR/$zone.serial"
	file=$DNS_DIR/$zone.zone
	{
		echo "\$TTL 300"
		echo "$zone. 300 IN SOA ns.example.org. hostmaster.$zone. $serial 3600 600 86400 300"
		echo "$zone. 300 IN NS ns.example.org."
		[ "$zone" != example.org ] || echo "ns.example.org. 300 IN A 127.0.0.2"
		cat "$DNS_DIR/$zone.records"
	} >"$file"
	if [ "$zone" = "$DNS_SIGNED" ]; then
		if [ -e "$DNS_DIR/bogus" ]; then
			ldns-signzone -i 20000101000000 -e 20000201000000 \
				-f "$file.signed" "$file" "$DNS_DIR/zsk" "$DNS_DIR/ksk" || return 1
		else
			ldns-signzone -f "$file.signed" "$file" "$DNS_DIR/zsk" "$DNS_DIR/ksk" || return 1
		fi
	fi
}

# dns_serial ZONE: the serial nsd serves for ZONE (empty when it does not
# answer).
dns_serial() {
	dig @127.0.0.2 +short +time=1 +tries=1 "$1" SOA 2>/dev/null | awk '{ print $3 }'
}

# dns_wait WHAT COMMAND...: until COMMAND succeeds (5 s at most).
dns_wait() {
	local what=$1 _
	shift
	for _ in $(seq 250); do
		"$@" && return 0
		sleep 0.02
	done
	echo "dns-lib: $what" >&2
	return 1
}

dns_serial_is() {
	[ "$(dns_serial "$1")" = "$2" ]
}

dns_unbound_answers() {
	dig @127.0.0.1 +time=1 +tries=1 example.net SOA >/dev/null 2>&1
}

dns_unbound_start() {
	unbound -d -c "$DNS_DIR/unbound.conf" >>"$DNS_DIR/unbound.out" 2>&1 &
	dns_unbound=$!
	dns_wait "unbound does not answer on 127.0.0.1:53 (see $DNS_DIR/unbound.log)" \
		dns_unbound_answers
}

dns_unbound_stop() {
	[ -n "$dns_unbound" ] || return 0
	kill "$dns_unbound" 2>/dev/null
	wait "$dns_unbound" 2>/dev/null
	dns_unbound=
}

dns_silent_stop() {
	[ -n "$dns_silent" ] || return 0
	kill "$dns_silent" 2>/dev/null
	wait "$dns_silent" 2>/dev/null
	dns_silent=
}

# dns_reload ZONE: rebuild ZONE, nsd serves the new serial, unbound
# forgets what it knew of ZONE.
dns_reload() {
	local zone=$1
	dns_build "$zone" || return 1
	nsd-control -c "$DNS_DIR/nsd.conf" reload "$zone" >/dev/null || return 1
	dns_wait "nsd does not serve $zone serial $(cat "$DNS_DIR/$zone.serial")" \
		dns_serial_is "$zone" "$(cat "$DNS_DIR/$zone.serial")" || return 1
	dns_flush "$zone"
}

# dns_flush ZONE: unbound forgets ZONE's records, keys and bogus marks.
dns_flush() {
	[ -n "$dns_unbound" ] || return 0
	unbound-control -c "$DNS_DIR/unbound.conf" flush_zone "$1" >/dev/null &&
		unbound-control -c "$DNS_DIR/unbound.conf" flush_bogus >/dev/null &&
		unbound-control -c "$DNS_DIR/unbound.conf" flush_negative >/dev/null
}

# dns_up: keys, zones, nsd and unbound up, resolv.conf pointing at unbound.
dns_up() {
	local z ksk zsk
	dns_stop
	rm -rf "$DNS_DIR"
	mkdir -p "$DNS_DIR"
	touch "$DNS_DIR/anchor"
	(
		cd "$DNS_DIR" || exit 1
		ksk=$(ldns-keygen -a ECDSAP256SHA256 -k example.org) &&
			zsk=$(ldns-keygen -a ECDSAP256SHA256 example.org) || exit 1
		mv "$ksk.key" ksk.key && mv "$ksk.private" ksk.private &&
			mv "$ksk.ds" ksk.ds && mv "$zsk.key" zsk.key &&
			mv "$zsk.private" zsk.private
	) || { echo "dns-lib: ldns-keygen failed" >&2; return 1; }
	for z in $DNS_ZONES; do
		echo "mail.$z. 300 IN A 127.0.0.1" >"$DNS_DIR/$z.records"
		dns_build "$z" || return 1
	done
	dns_conf
	nsd -d -c "$DNS_DIR/nsd.conf" >>"$DNS_DIR/nsd.out" 2>&1 &
	dns_nsd=$!
	for z in $DNS_ZONES; do
		dns_wait "nsd does not serve $z on 127.0.0.2:53 (see $DNS_DIR/nsd.log)" \
			dns_serial_is "$z" "$(cat "$DNS_DIR/$z.serial")" || return 1
	done
	dns_unbound_start || return 1
	rm -f /etc/resolv.conf
	echo "nameserver 127.0.0.1" >/etc/resolv.conf
}

# dns_set NAME TYPE RDATA: add the record NAME TYPE RDATA (TTL 300).
dns_set() {
	local name=${1%.} type=$2 rdata=$3 zone
	zone=$(dns_zone_of "$name") || return 1
	echo "$name. 300 IN $type $rdata" >>"$DNS_DIR/$zone.records"
	dns_reload "$zone"
}

# dns_unset NAME [TYPE]: remove NAME's records (only those of TYPE).
dns_unset() {
	local name=${1%.} type=${2:-} zone
	zone=$(dns_zone_of "$name") || return 1
	dns_drop "$name" "$type" "$zone"
	dns_reload "$zone"
}

# dns_drop NAME TYPE ZONE: NAME's records of TYPE (all when empty) out of
# ZONE's record list, names compared without case.
dns_drop() {
	awk -v name="$1." -v type="$2" '
		tolower($1) == tolower(name) && (type == "" || toupper($4) == toupper(type)) { next }
		{ print }' "$DNS_DIR/$3.records" >"$DNS_DIR/$3.records.new" &&
		mv "$DNS_DIR/$3.records.new" "$DNS_DIR/$3.records"
}

# dns_tlsa NAME [RDATA...]: the TLSA records at _25._tcp.NAME. are exactly
# the RDATA given (each "3 1 1 HEX"); none given, none left.
dns_tlsa() {
	local owner=_25._tcp.${1%.} zone rdata
	shift
	zone=$(dns_zone_of "$owner") || return 1
	dns_drop "$owner" TLSA "$zone"
	for rdata in "$@"; do
		echo "$owner. 300 IN TLSA $rdata" >>"$DNS_DIR/$zone.records"
	done
	dns_reload "$zone"
}

# dns_bogus: example.org signed with signatures that expired in 2000;
# unbound answers SERVFAIL for its names.  dns_good: signed properly again.
dns_bogus() {
	touch "$DNS_DIR/bogus"
	dns_reload "$DNS_SIGNED"
}

dns_good() {
	rm -f "$DNS_DIR/bogus"
	dns_reload "$DNS_SIGNED"
}

# dns_untrusted: unbound without the trust anchor (answers arrive, AD is
# never set).  dns_trusted: back to trusting example.org's KSK.
dns_untrusted() {
	rm -f "$DNS_DIR/anchor"
	dns_conf
	dns_restart_unbound
}

dns_trusted() {
	touch "$DNS_DIR/anchor"
	dns_conf
	dns_restart_unbound
}

dns_restart_unbound() {
	dns_silent_stop
	dns_unbound_stop
	dns_unbound_start
}

# dns_down refuse|drop: refuse = nothing listens on 127.0.0.1:53 (UDP
# gets port unreachable, TCP a reset); drop = a listener that takes UDP
# and TCP and never answers.  dns_resume: unbound back.
dns_down() {
	dns_unbound_stop
	dns_silent_stop
	case $1 in
	refuse) ;;
	drop)
		rm -f "$DNS_DIR/silent.pid"
		python3 "$TOP/tests/fakedns.py" --addr 127.0.0.1 --port 53 \
			--mode silent --pidfile "$DNS_DIR/silent.pid" &
		dns_silent=$!
		dns_wait "fakedns.py --mode silent did not start" \
			test -s "$DNS_DIR/silent.pid"
		;;
	*)
		echo "dns_down: refuse or drop, not '$1'" >&2
		return 1
		;;
	esac
}

dns_resume() {
	dns_restart_unbound
}

# dns_spki_hash PEMFILE: the SHA-256 (lowercase hex) of the certificate's
# DER SubjectPublicKeyInfo, the data of a "3 1 1" (or "2 1 1") record.
dns_spki_hash() {
	openssl x509 -in "$1" -noout -pubkey | openssl pkey -pubin -outform DER |
		sha256sum | cut -d' ' -f1
}

# dns_ask NAME TYPE: what unbound answers, as lines
#   status NOERROR
#   flags qr rd ra ad
#   ad yes            (or "ad no")
#   NAME. 300 IN TYPE RDATA   (each answer record, RRSIGs included, one
#                              space between fields, hex as dig prints it:
#                              upper case)
# or dig's complaint when no answer came; the status is dig's (9: no
# reply).  DNS_TIME (seconds, default 2) is dig's wait.
dns_ask() {
	local out rc
	out=$(dig @127.0.0.1 +dnssec +time="${DNS_TIME:-2}" +tries=1 +nocmd +noall \
		+comments +answer +nosplit "$1" "$2" 2>&1)
	rc=$?
	if [ "$rc" -ne 0 ]; then
		echo "$out"
		return "$rc"
	fi
	awk '
		/^;; ->>HEADER<<-/ { s = $0; sub(/.*status: /, "", s); sub(/,.*/, "", s); print "status " s }
		/^;; flags:/ {
			f = $0; sub(/^;; flags: /, "", f); sub(/;.*/, "", f); print "flags " f
			print "ad " (f ~ /(^| )ad( |$)/ ? "yes" : "no")
		}
		/^;/ || /^$/ { next }
		{ $1 = $1; print }' <<<"$out"
}

# dns_raw ADDR NAME TYPE [tcp]: one query (RD, EDNS0 with DO) to ADDR:53
# by a bare client that parses nothing beyond the header, for answers dig
# would refuse to show:
#   bytes N
#   id same          (or "id other")
#   flags qr aa tc rd ra ad cd   (those set)
#   rcode N
#   counts QD AN NS AR
#   hex 0123...      (the whole reply, lowercase)
# "no reply" and status 1 when none came within a second.
dns_raw() {
	python3 - "$@" <<-'PY'
	import random, socket, struct, sys
	addr, name, qtype = sys.argv[1], sys.argv[2], sys.argv[3]
	tcp = len(sys.argv) > 4 and sys.argv[4] == "tcp"
	types = {"A": 1, "NS": 2, "CNAME": 5, "SOA": 6, "TLSA": 52, "ANY": 255}
	qid = random.randint(0, 0xFFFF)
	wire = b"".join(bytes([len(l)]) + l.encode() for l in name.rstrip(".").split(".")) + b"\0"
	q = struct.pack("!6H", qid, 0x0100, 1, 0, 0, 1) + wire + \
	    struct.pack("!HH", types.get(qtype.upper(), 0) or int(qtype), 1) + \
	    b"\0" + struct.pack("!HHIH", 41, 1232, 0x8000, 0)
	try:
	    if tcp:
	        s = socket.create_connection((addr, 53), timeout=1)
	        s.sendall(struct.pack("!H", len(q)) + q)
	        buf = b""
	        while len(buf) < 2 or len(buf) < 2 + struct.unpack("!H", buf[:2])[0]:
	            chunk = s.recv(65535)
	            if not chunk:
	                break
	            buf += chunk
	        r = buf[2:]
	    else:
	        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
	        s.settimeout(1)
	        s.sendto(q, (addr, 53))
	        r = s.recv(65535)
	except (socket.timeout, OSError) as e:
	    print("no reply (%s)" % e)
	    sys.exit(1)
	if not r:
	    print("no reply (connection closed)")
	    sys.exit(1)
	print("bytes", len(r))
	if len(r) >= 12:
	    rid, fl, qd, an, ns, ar = struct.unpack("!6H", r[:12])
	    print("id", "same" if rid == qid else "other")
	    bits = [("qr", 0x8000), ("aa", 0x0400), ("tc", 0x0200), ("rd", 0x0100),
	            ("ra", 0x0080), ("ad", 0x0020), ("cd", 0x0010)]
	    print("flags", " ".join(n for n, b in bits if fl & b))
	    print("rcode", fl & 0xF)
	    print("counts", qd, an, ns, ar)
	print("hex", r.hex())
	PY
}

# dns_stop: nsd, unbound and any silent listener stopped.
dns_stop() {
	dns_silent_stop
	dns_unbound_stop
	if [ -n "$dns_nsd" ]; then
		kill "$dns_nsd" 2>/dev/null
		wait "$dns_nsd" 2>/dev/null
		dns_nsd=
	fi
	return 0
}
