# Shared by the files that pin what issue 19's mutants got through
# (tests/cli/expiry-boundaries.bats, tests/cli/monitor-aggregation.bats, tests/cli/json-escaping.bats,
# tests/cli/dane-no-records.bats, tests/cli/deadlines.bats, tests/cli/sni-staleness.bats,
# tests/cli/master-only-settings.bats, tests/cli/one-algorithm-damaged.bats): leaves with a
# known number of whole days left, a key whose secret part is damaged for
# any algorithm, the last run's JSON, a clock for the deadline tests.
# Each mutant these files were proven against is in tests/mutants.list (its pins).
# shellcheck shell=bash

# dated_leaf NAME DAYS: a leaf for NAME issued by inter2 with DAYS whole
# days left (negative: expired), in $PKI/d$DAYS/NAME.pem and .key.  Its
# notAfter is DAYS days and 12 hours from now, so the whole days left
# (seconds left / 86400, rounded down) are DAYS for the next 12 hours,
# whenever the helper reads them.  It was issued a year before that, so
# what is left is a small part of its lifetime and the day counts alone
# decide (POSTFIX_TLS_WARN_LIFETIME: tests/cli/expiry-lifetime.bats).
dated_leaf() {
	local name=$1 days=$2 dir=$PKI/d$2
	mkdir -p "$dir"
	cp "$PKI/inter2.pem" "$PKI/inter2.key" "$dir/"
	if [ "$days" -ge 0 ]; then
		# valid DAYS + 366 days, issued 365 days and 12 hours ago
		PKI=$dir pki_cert "$name" inter2 server ec "$((days + 366))" -8772h
	else
		# valid 366 days, ended |DAYS| days - 12 h ago
		PKI=$dir pki_cert "$name" inter2 server ec 366 "$((days * 24 - 12 - 8760))h"
	fi
}

# dated_files NAME DAYS DIR BASE: DIR/BASE.pem (dated_leaf NAME DAYS and
# its chain) and DIR/BASE.key, root's 0600.
dated_files() {
	cat "$PKI/d$2/$1.pem" "$PKI/chain.pem" >"$3/$4.pem"
	cp "$PKI/d$2/$1.key" "$3/$4.key"
	chmod 0600 "$3/$4.pem" "$3/$4.key"
}

# pins_json EXPR: the Python expression EXPR of d, the last run's stdout
# parsed as strict JSON (strict UTF-8, no NaN, no repeated key, nothing
# after the document); a string printed as it is, anything else as JSON.
# EXPR may use os (os.environb: names as bytes) and fffd(s), s with each
# run of U+FFFD made one (how many a broken sequence becomes is not the
# point: that it becomes U+FFFD and nothing after it is swallowed is).
# shellcheck disable=SC2154 # $output: set by bats' run
pins_json() {
	python3 - "$1" 3<<<"$output" <<-'PY'
	import json, os, sys
	def once(pairs):
	    if len({k for k, _ in pairs}) != len(pairs):
	        raise ValueError("a key twice")
	    return dict(pairs)
	def no_constant(name):
	    raise ValueError(name + " is no JSON")
	with os.fdopen(3, "rb") as f:
	    text = f.read().decode("utf-8", "strict")
	d = json.loads(text, object_pairs_hook=once, parse_constant=no_constant)
	def fffd(s):
	    while "\ufffd\ufffd" in s:
	        s = s.replace("\ufffd\ufffd", "\ufffd")
	    return s
	r = eval(sys.argv[1], {"d": d, "os": os, "fffd": fffd})
	print(r if isinstance(r, str) else json.dumps(r))
	PY
}

# disk_state: snapshot (tests/helpers.bash) for runs that snapshot cannot
# follow: every name under $T but ./root, byte for byte (a name may hold
# a line break), each file's owner, mode, size, mtime and SHA-256; bats'
# own separate-stderr files left out, and directories' times (bats adds
# those files to $T).
disk_state() {
	python3 - "$T" <<-'PY'
	import hashlib, os, sys
	top = sys.argv[1].encode()
	out = []
	for d, dirs, files in os.walk(top):
	    if d == top and b"root" in dirs:
	        dirs.remove(b"root")
	    for n in dirs + files:
	        p = os.path.join(d, n)
	        if d == top and n.startswith(b"separate-stderr-"):
	            continue
	        st = os.lstat(p)
	        line = [repr(os.path.relpath(p, top)), st.st_uid, st.st_gid, oct(st.st_mode)]
	        if n in files:
	            with open(p, "rb") as f:
	                line += [st.st_size, st.st_mtime_ns, hashlib.sha256(f.read()).hexdigest()]
	        out.append(" ".join(map(str, line)))
	print("\n".join(sorted(out)))
	PY
}

# pki_damage_any_secret NAME: NAME's key with its secret part changed and
# its public part kept, on stdout: for RSA d, dp and dq (pki_damage_secret),
# for EC the private scalar (its last bit flipped) beside the original
# public point, so that it still "matches" the certificate as
# X509_check_private_key compares them.
pki_damage_any_secret() {
	if openssl rsa -in "$PKI/$1.key" -noout 2>/dev/null; then
		pki_damage_secret "$1"
		return
	fi
	openssl ec -in "$PKI/$1.key" -outform DER 2>/dev/null | python3 -c '
import base64, sys
der = bytearray(sys.stdin.buffer.read())
# SEC1 ECPrivateKey: SEQUENCE { INTEGER 1, OCTET STRING scalar, ... }
assert der[0] == 0x30 and der[2:5] == b"\x02\x01\x01" and der[5] == 0x04
n = der[6]
der[6 + n] ^= 1
b64 = base64.b64encode(bytes(der)).decode()
label = "EC PRIVATE " + "KEY"	# split: no key header in the tree
print("-----BEGIN %s-----" % label)
print("\n".join(b64[k:k + 64] for k in range(0, len(b64), 64)))
print("-----END %s-----" % label)'
}

# timed_helper: $HELPER becomes a wrapper that runs the helper and then
# prints "@@ elapsed_ms=N", the wall-clock time the helper alone took
# (not the stand-in servers' start), keeping its exit status.
timed_helper() {
	local wrapper=$BATS_FILE_TMPDIR/timed-helper
	if [ ! -x "$wrapper" ]; then
		cat >"$wrapper" <<-EOF
		#!/bin/bash
		t0=\$(date +%s%N)
		${HELPER@Q} "\$@"
		rc=\$?
		echo "@@ elapsed_ms=\$(((\$(date +%s%N) - t0) / 1000000))"
		exit "\$rc"
		EOF
		chmod 0755 "$wrapper"
	fi
	HELPER=$wrapper
}

# took_ms: the elapsed_ms line of the last run's output.
took_ms() {
	sed -n 's/^@@ elapsed_ms=//p' <<<"$output"
}

# margin_ms: how far past a deadline a run may end: the helper's start
# and its own grace, a few seconds; under valgrind every step is slower.
margin_ms() {
	if [ "${PTS_SANITIZER:-}" = valgrind ]; then echo 8000; else echo 2500; fi
}

# probe_net SERVER ARGS... -- HELPER ARGS...: the helper on the test
# world in a private network namespace where tests/slowsmtp.py (SERVER
# ARGS) listens; the server is stopped when the helper ends.
probe_net() {
	local d=$BATS_FILE_TMPDIR
	# shellcheck disable=SC2016 # expanded by the inner shell
	env HELPER="$HELPER" TOP="$TOP" PKI="$PKI" D="$d" unshare -n bash -c '
		T=$0 srv=()
		ip link set lo up
		while [ "$1" != -- ]; do srv+=("$1"); shift; done
		shift
		rm -f "$D/smtp.pid"
		python3 "$TOP/tests/slowsmtp.py" --pidfile "$D/smtp.pid" "${srv[@]}" &
		for _ in $(seq 100); do [ -s "$D/smtp.pid" ] && break; sleep 0.05; done
		"$HELPER" -c "$T/postfix" --root "$T/root" --conf "$T/conf" \
			--cafile "$PKI/root.pem" "$@"
		rc=$?
		kill "$(cat "$D/smtp.pid")"
		rm -f "$D/smtp.pid"
		exit $rc
	' "$T" "$@"
}

# ndns NODATADNS ARGS... -- HELPER ARGS...: deploy_dns (tests/dane-lib.bash)
# with tests/nodatadns.py as the resolver.
ndns() {
	DNS_SERVER=nodatadns.py deploy_dns "$@"
}
