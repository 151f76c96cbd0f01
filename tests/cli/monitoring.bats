#!/usr/bin/env bats
# Issue 12, parts 2 and 3: what a monitor reads (check --json, check
# --nagios) and what an admin sees (the chain under each identity).  A
# monitor polls every few minutes: in these modes nothing goes to stderr
# or syslog, and the JSON must be strict JSON whatever the file names and
# subjects hold.

# shellcheck disable=SC2154,SC2089,SC2090
# ($stderr is set by run --separate-stderr; hostile_dir's quote and
# backslash are meant literally)
bats_require_minimum_version 1.5.0	# run --separate-stderr

load ../helpers

setup_file() {
	pki_common
	pki_cert other.example.org inter2 server
	pki_cert submit.example.org inter2 server
	pki_cert '*.example.org' inter2 server
	# The host's leaf again, expiring within POSTFIX_TLS_WARN_DAYS (20
	# days) and within POSTFIX_TLS_CRIT_DAYS (3 days), each made in a
	# directory of its own since pki_cert names files after the host.
	# Each was issued a year ago, so that the day counts decide, not the
	# fraction of its lifetime (tests/cli/expiry-lifetime.bats).
	for days in 20 3; do
		mkdir -p "$PKI/d$days"
		cp "$PKI/inter2.pem" "$PKI/inter2.key" "$PKI/d$days/"
		PKI=$PKI/d$days pki_cert "$HOST" inter2 server ec "$((days + 365))" -8760h
	done
	# A second after the last issue: whole days left are then the same
	# when the helper reads them and when the test does (days_left).
	sleep 1
}

setup() {
	need_root
	setup_world
	good_bundle
}

# strict_json EXPR <DOC: DOC parsed as strict JSON (UTF-8 decoded
# strictly, no duplicate key, no NaN or Infinity, nothing after the
# document), then the Python expression EXPR of it (d) printed: a string
# as it is, anything else as JSON.
strict_json() {
	python3 -c '
import json, os, sys
def pairs(p):
    keys = [k for k, _ in p]
    if len(keys) != len(set(keys)):
        raise ValueError("duplicate key")
    return dict(p)
def constant(c):
    raise ValueError("not JSON: " + c)
d = json.loads(sys.stdin.buffer.read().decode("utf-8", errors="strict"),
    object_pairs_hook=pairs, parse_constant=constant)
r = eval(sys.argv[1])
print(r if isinstance(r, str) else json.dumps(r))' "$1"
}

# json EXPR: EXPR of the last run's stdout, strictly parsed.
json() {
	strict_json "$1" <<<"$output"
}

# days_left CERT: whole days CERT has left, as openssl reads its end.
days_left() {
	local end
	end=$(date -d "$(openssl x509 -in "$1" -noout -enddate | cut -d= -f2)" +%s)
	echo $(((end - $(date +%s)) / 86400))
}

# iso_end CERT: its notAfter in ISO 8601 UTC.
iso_end() {
	date -u -d "$(openssl x509 -in "$1" -noout -enddate | cut -d= -f2)" +%Y-%m-%dT%H:%M:%SZ
}

@test "check --json of a good set-up is one strict JSON document with the identity's facts, and nothing else" {
	run --separate-stderr deploy_inputs --json check
	assert_success
	assert_equal "$stderr" ""
	assert_equal "$(json 'd["status"]')" ok
	assert_equal "$(json 'd["exit_status"]')" 0
	assert_equal "$(json 'len(d["identities"])')" 1
	assert_equal "$(json 'd["identities"][0]["name"]')" main.cf
	assert_equal "$(json 'd["identities"][0]["bundle"]')" "$BUNDLE"
	assert_equal "$(json 'd["identities"][0]["key"]')" "$T/ssl/key.pem"
	assert_equal "$(json 'd["identities"][0]["subject"]')" "CN=$HOST,O=Test"
	assert_equal "$(json 'd["identities"][0]["issuer"]')" "CN=inter2,O=Test"
	assert_equal "$(json 'd["identities"][0]["names"]')" "[\"$HOST\"]"
	assert_equal "$(json 'd["identities"][0]["key_type"]')" ECDSA
	assert_equal "$(json 'd["identities"][0]["key_bits"]')" 256
	assert_equal "$(json 'd["identities"][0]["certificates"]')" 3
	assert_equal "$(json 'd["identities"][0]["not_after"]')" "$(iso_end "$PKI/$HOST.pem")"
	assert_equal "$(json 'd["identities"][0]["days_left"]')" "$(days_left "$PKI/$HOST.pem")"
	assert_equal "$(json 'd["findings"]')" "[]"
	refute_output --partial "identity main.cf"	# no text lines
}

# A directory whose name holds every byte that JSON must escape or
# replace (and a ": ", which must not cut the finding): a quote, a
# backslash, a newline, a tab, a control byte, DEL,
# a byte that is no UTF-8, a UTF-16 surrogate, an overlong '/', a
# character above U+10FFFF; and two that are valid (U+00E9, U+1F4EB).
hostile_dir() {
	H=$T/ssl/$'we"ird: \\na\nme\t\x01\x7f\xff\xed\xa0\x80\xc0\xaf\xf4\x90\x80\x80\xc3\xa9\xf0\x9f\x93\xab-end'
	mkdir "$H"
	chmod 0755 "$H"
	cp "$PKI/fullchain.pem" "$H/cert.pem"	# no --chain: a list splits at blanks
	cp "$PKI/other.example.org.key" "$H/key.pem"	# does not match
	export H
}

@test "check --json stays strict JSON for file names with quotes, backslashes, control bytes and non-UTF-8 bytes" {
	hostile_dir
	run --separate-stderr helper --cert "$H/cert.pem" --key "$H/key.pem" --json check
	assert_failure 65
	assert_equal "$stderr" ""
	assert_equal "$(json 'd["status"]')" critical
	assert_equal "$(json 'd["exit_status"]')" 65
	# The name as valid UTF-8 comes back byte for byte; the 0xff as U+FFFD.
	# shellcheck disable=SC2016 # Python, not shell
	want='os.environb[b"H"].decode("utf-8", errors="replace")'
	assert_equal "$(json "d['findings'][0]['file'] == $want + '/key.pem'")" true
	assert_equal "$(json "'\\ufffd' * 10 + '\\u00e9\\U0001f4eb-end/key.pem' in d['findings'][0]['file']")" true
	assert_equal "$(json "d['findings'][0]['message'] == 'private key does not match public key in certificate ' + $want + '/cert.pem (use the key the certificate was issued for)'")" true
	assert_equal "$(json 'd["findings"][0]["identity"]')" null
	assert_equal "$(json 'd["findings"][0]["severity"]')" critical
	# Escaped, never raw: the document is ASCII but for valid UTF-8.
	refute_output --partial $'\t'
	refute_output --partial $'\x01'
	refute_output --partial $'\x7f'
	assert_output --partial '\"ird: \\na\nme\t\u0001\u007f\ufffd\ufffd\ufffd\ufffd\ufffd\ufffd\ufffd\ufffd\ufffd\ufffd'$'\xc3\xa9\xf0\x9f\x93\xab''-end'
}

@test "check --json of a broken set-up splits each finding into identity, file and message, warnings too" {
	leaf_files submit.example.org other.example.org "$T/ssl" sub
	submission_service "$T/ssl/sub.pem" "$T/ssl/sub.key"
	edit_maincf 's/^myhostname = .*/myhostname = mx.example.net/'
	run --separate-stderr deploy_inputs --json check
	assert_failure 65
	assert_equal "$stderr" ""
	assert_equal "$(json 'd["status"]')" critical
	assert_equal "$(json 'd["exit_status"]')" 65
	assert_equal "$(json '[f["severity"] for f in d["findings"]]')" '["warning", "critical"]'
	assert_equal "$(json 'd["findings"][0]["identity"]')" null
	assert_equal "$(json 'd["findings"][0]["file"]')" "$T/ssl/cert.pem"
	assert_equal "$(json 'd["findings"][0]["message"]')" "myhostname mx.example.net is not among the certificate's names; peers that check the name will refuse it (add it to the certificate, or set myhostname)"
	assert_equal "$(json 'd["findings"][1]["identity"]')" "submission/inet (master.cf)"
	assert_equal "$(json 'd["findings"][1]["file"]')" "$T/ssl/sub.key"
	assert_equal "$(json 'd["findings"][1]["message"]')" "private key does not match public key in certificate $T/ssl/sub.pem (use the key the certificate was issued for)"
	# Both identities listed, the broken one with its own files.
	assert_equal "$(json '[i["name"] for i in d["identities"]]')" '["main.cf", "submission/inet (master.cf)"]'
	assert_equal "$(json 'd["identities"][1]["bundle"]')" "$T/ssl/sub.pem"
	assert_equal "$(json 'd["identities"][1]["key"]')" "$T/ssl/sub.key"
	assert_equal "$(json 'd["identities"][1]["names"]')" '["submit.example.org"]'
}

@test "check --json: a leaf within POSTFIX_TLS_WARN_DAYS is a warning, within POSTFIX_TLS_CRIT_DAYS critical, and check's exit status stays 0" {
	# A 365-day leaf: 1/1 lets the day counts alone decide (the fractions
	# of its lifetime would wait for 121 and 60 days left).
	printf 'POSTFIX_TLS_WARN_LIFETIME=1/1\nPOSTFIX_TLS_CRIT_LIFETIME=1/1\n' >"$T/conf"
	run --separate-stderr deploy_inputs --warn-days 400 --json check
	assert_success
	assert_equal "$stderr" ""
	assert_equal "$(json 'd["status"]')" warning
	assert_equal "$(json '[f["severity"] for f in d["findings"]]')" '["warning"]'
	assert_regex "$(json 'd["findings"][0]["message"]')" '^certificate expires in [0-9]+ days, on .*POSTFIX_TLS_WARN_DAYS=400'
	printf 'POSTFIX_TLS_CRIT_DAYS=400\n' >>"$T/conf"
	run --separate-stderr deploy_inputs --warn-days 500 --json check
	assert_success
	assert_equal "$(json 'd["status"]')" critical
	assert_equal "$(json 'd["exit_status"]')" 0
	assert_equal "$(json 'd["crit_days"]')" 400
	assert_equal "$(json 'd["findings"][1]["severity"]')" critical
	assert_equal "$(json 'd["findings"][1]["identity"]')" main.cf
	assert_equal "$(json 'd["findings"][1]["file"]')" "$BUNDLE"
	assert_regex "$(json 'd["findings"][1]["message"]')" "^certificate expires in $(days_left "$PKI/$HOST.pem") days, on [0-9-]{10}: within POSTFIX_TLS_CRIT_DAYS=400"
	# --crit-days wins over the file, as every option does; critical is
	# fewer whole days left than it, not as many.
	d=$(days_left "$PKI/$HOST.pem")
	run --separate-stderr deploy_inputs --crit-days "$d" --json check
	assert_equal "$(json 'd["status"]')" ok
	run --separate-stderr deploy_inputs --crit-days "$((d + 1))" --json check
	assert_equal "$(json 'd["status"]')" critical
}

@test "check --json gets the identities and findings of SNI workers in the map's order" {
	[ "${PTS_SANITIZER:-}" != valgrind ] || skip "1,200 domains: run in the plain and asan passes"
	[ "$(nproc)" -ge 2 ] || skip "one CPU: no worker is started"
	long_sni_map
	run --separate-stderr deploy_inputs --json check
	assert_failure 65
	assert_equal "$stderr" ""
	assert_equal "$(json 'len(d["identities"])')" 1201
	# d1000 is checked by a worker (600 entries each on two CPUs and more).
	assert_equal "$(json '[i["name"].split()[1] for i in d["identities"][1:]] == ["d%d.example.org" % n for n in range(1, 1201)]')" true
	assert_equal "$(json 'd["identities"][1000]["name"]')" "SNI d1000.example.org ($T/postfix/sni)"
	assert_equal "$(json 'd["identities"][1000]["bundle"]')" "$T/ssl/wrong.pem"
	assert_equal "$(json 'd["identities"][1000]["names"]')" '["*.example.org"]'
	assert_equal "$(json 'len(d["findings"])')" 1
	assert_equal "$(json 'd["findings"][0]["identity"]')" "SNI d1000.example.org ($T/postfix/sni)"
	assert_equal "$(json 'd["findings"][0]["file"]')" "$T/ssl/wrong.pem"
	assert_regex "$(json 'd["findings"][0]["message"]')" '^private key does not match public key in certificate'
}

# nagios_line STATE: the last run printed exactly one plugin line of STATE,
# and nothing on stderr.
nagios_line() {
	assert_equal "$stderr" ""
	assert_equal "${#lines[@]}" 1
	assert_regex "$output" "^POSTFIX-TLS $1 - [^|]*( \| days_left=-?[0-9]+;[0-9]+;[0-9]+)?\$"
}

# nagios_check STATE STATUS: check --nagios of the usual inputs exits
# STATUS, with one line of STATE and nothing on stderr.
nagios_check() {
	run --separate-stderr deploy_inputs --nagios check
	assert_equal "$status" "$2"
	nagios_line "$1"
}

@test "check --nagios says OK with the soonest expiry and its perfdata, exit 0" {
	nagios_check OK 0
	d=$(days_left "$PKI/$HOST.pem")
	assert_equal "$output" "POSTFIX-TLS OK - 1 certificate, soonest main.cf in $d days | days_left=$d;30;7"
}

@test "check --nagios says WARNING for a leaf within POSTFIX_TLS_WARN_DAYS, exit 1" {
	use_leaf d20/$HOST
	nagios_check WARNING 1
	d=$(days_left "$PKI/d20/$HOST.pem")
	assert_regex "$output" "^POSTFIX-TLS WARNING - 0 critical, 1 warning: $T/ssl/cert\.pem: certificate expires in $d days, on [^|]* \| days_left=$d;30;7\$"
}

@test "check --nagios says CRITICAL for a key that does not match, and for a leaf within POSTFIX_TLS_CRIT_DAYS, exit 2" {
	cp "$PKI/other.example.org.key" "$T/ssl/key.pem"
	nagios_check CRITICAL 2
	assert_regex "$output" "^POSTFIX-TLS CRITICAL - [1-9][0-9]* critical, 0 warning: $T/ssl/key\.pem: private key does not match public key in certificate $T/ssl/cert\.pem "
	use_leaf d3/$HOST
	nagios_check CRITICAL 2
	d=$(days_left "$PKI/d3/$HOST.pem")
	assert_regex "$output" "^POSTFIX-TLS CRITICAL - 1 critical, 1 warning: main\.cf: $BUNDLE: certificate expires in $d days?, on [0-9-]+: within POSTFIX_TLS_CRIT_DAYS=7 \(renew it now\) \| days_left=$d;30;7\$"
	# Plain check still passes: the critical days are the monitor's.
	run deploy_inputs check
	assert_success
}

@test "check --nagios says UNKNOWN for a usage error, nothing on stderr, exit 3" {
	run --separate-stderr deploy_inputs --nagios --bogus check
	assert_failure 3
	nagios_line UNKNOWN
	assert_equal "$output" "POSTFIX-TLS UNKNOWN - usage error: unrecognized option '--bogus'"
	run --separate-stderr deploy_inputs --json --nagios check
	assert_failure 3
	nagios_line UNKNOWN
	assert_equal "$output" "POSTFIX-TLS UNKNOWN - usage error: --json and --nagios exclude each other"
	run --separate-stderr deploy_inputs --nagios deploy
	assert_failure 3
	assert_equal "$output" "POSTFIX-TLS UNKNOWN - usage error: --json and --nagios are for check"
	# Without --nagios a usage error is the usual one.
	run --separate-stderr deploy_inputs --json deploy
	assert_failure 64
	assert_equal "$output" ""
	assert_regex "$stderr" "--json and --nagios are for check"
	# --print-conf prints the settings, never beside a document.
	run --separate-stderr deploy_inputs --json --print-conf
	assert_failure 64
	assert_equal "$output" ""
	assert_regex "$stderr" "--json and --nagios are for check, not --print-conf"
}

@test "check --nagios says UNKNOWN when the system refuses what the helper needs (no file descriptors), exit 3" {
	not_under_valgrind	# valgrind needs descriptors of its own
	# and so does LeakSanitizer's tracer at exit (it spins without them)
	export ASAN_OPTIONS=${ASAN_OPTIONS:-}:detect_leaks=0
	# With 6 descriptors, postconf's answers cannot be kept in memory
	# files (--nagios keeps stderr in one too): a system error (71), not
	# a verdict on the set-up.
	run --separate-stderr timeout 60 bash -c 'ulimit -n 6; exec "$@"' _ "$HELPER" -c "$T/postfix" \
		--root "$T/root" --no-conf --nagios check
	assert_failure 3
	nagios_line UNKNOWN
	assert_equal "$output" "POSTFIX-TLS UNKNOWN - 1 critical, 0 warning: cannot create a memory file for postconf's output: Too many open files"
	run timeout 60 bash -c 'ulimit -n 6; exec "$@"' _ "$HELPER" -c "$T/postfix" \
		--root "$T/root" --no-conf check
	assert_failure 71
}

# The tree lines of certificate N (0 the leaf) and its issuer.
tree_cert() {
	local n=$1 role=$2 name=$3 issuer=$4 pem=$5 until
	until=$(date -u -d "$(openssl x509 -in "$pem" -noout -enddate | cut -d= -f2)" '+%Y-%m-%d %H:%MZ')
	assert_line "  $n $role CN=$name,O=Test  ECDSA-256  ecdsa-with-SHA256  until $until ($(days_left "$pem") days)"
	assert_line "          \`- issued by CN=$issuer,O=Test"
}

@test "check shows the chain it will serve as a tree under the identity line" {
	run deploy_inputs check
	assert_success
	assert_line --regexp "^identity main\.cf: $BUNDLE: /O=Test/CN=$HOST, ECDSA-256 key, 3 certificates, expires [0-9-]{10}\$"
	tree_cert 0 'leaf ' "$HOST" inter2 "$PKI/$HOST.pem"
	assert_line "          names: $HOST"
	tree_cert 1 'ca   ' inter2 inter1 "$PKI/inter2.pem"
	tree_cert 2 'ca   ' inter1 root "$PKI/inter1.pem"
	# In that order, right under the identity line.
	grep -A7 '^identity main.cf' <<<"$output" | cut -c1-8 >"$T/shape"
	printf '%s\n' "identity" "  0 leaf" "        " "        " "  1 ca  " "        " "  2 ca  " "        " |
		diff - "$T/shape"
}

@test "deploy prints no tree; deploy -v does" {
	run deploy_inputs deploy
	assert_success
	refute_output --partial "issued by"
	refute_output --partial "  0 leaf"
	run deploy_inputs -v deploy
	assert_success
	assert_line --regexp "^  0 leaf  CN=$HOST,O=Test  ECDSA-256"
	assert_line "          \`- issued by CN=inter1,O=Test"
}

@test "a subject with a newline, a control byte and UTF-8 stays on its line, ASCII, in the tree and in JSON" {
	# CN "évil<LF>line<SOH>" on the host's key, issued by inter2 with the
	# host's name, so that it passes and is listed.
	openssl req -new -utf8 -key "$PKI/$HOST.key" -subj $'/O=Test/CN=\xc3\xa9vil\nline\x01' \
		-out "$T/evil.csr" 2>/dev/null
	openssl x509 -req -in "$T/evil.csr" -CA "$PKI/inter2.pem" -CAkey "$PKI/inter2.key" \
		-days 30 -extfile "$PKI/$HOST.ext" -set_serial 0x1234 -out "$T/ssl/cert.pem" 2>/dev/null
	sleep 1	# 29 whole days left, not 30
	openssl x509 -in "$T/ssl/cert.pem" -noout -subject -nameopt utf8 | grep -q line
	run --separate-stderr deploy_inputs check
	assert_success
	assert_line "  0 leaf  CN=\\C3\\A9vil\\0Aline\\01,O=Test  ECDSA-256  ecdsa-with-SHA256  until $(date -u -d "$(openssl x509 -in "$T/ssl/cert.pem" -noout -enddate | cut -d= -f2)" '+%Y-%m-%d %H:%MZ') (29 days)"
	refute_line --regexp '^line'
	# Every byte of stdout is printable ASCII or a newline.
	run bash -c 'LC_ALL=C grep -c "[^[:print:]]" <<<"$1"' _ "$output"
	assert_output 0
	run --separate-stderr deploy_inputs --json check
	assert_success
	assert_equal "$(json 'd["identities"][0]["subject"]')" 'CN=\C3\A9vil\0Aline\01,O=Test'
}
