#!/usr/bin/env bash
# make bench-sni (and the last part of make bench): issue 11's figures,
# every identity Postfix serves.  Needs root (the files must be
# root:root), hyperfine, GNU time and postmap.
#   f  deploy, unchanged, postconf's answer cached (as a in bench/run.sh),
#      with RSA + ECDSA side by side in smtpd_tls_chain_files and a
#      submission service serving its own bundle (master.cf -o), against
#      the floor for those three identities (bench/floor -P); f0 the same
#      without the cache
#   g  check with tls_server_sni_maps = hash:... of N = 1,000, 2,000,
#      5,000, 10,000 domains (bench/sni-pki: each its own P-256 key, leaf
#      and file, one intermediate and root for all), the growth per
#      domain, and the peak RSS at 10,000; g-warn: the largest map again
#      with every entry drawing a warning (its name not among its
#      certificate's), said in text and in JSON, against the same map
#      without warnings (both texthash: no postmap in either)
# A build that does not check those identities is not timed: "not checked
# by this build" (the helper's `check -v` names each identity it checked,
# SNI ones on lines starting "identity SNI ").  Exit status: 0 every
# target met, 1 one missed, 2 nothing measured for lack of support.
# BENCH_FORCE=1 times a build that does not check them all the same (to
# try this script; its figures then say nothing about the targets).
# BENCH_RUNS sets the repetitions (as bench/run.sh); BENCH_SNI_SIZES the
# list of N (the first is the base of the growth ratio, the last the one
# held to the targets).
set -eu
cd "$(dirname "$0")/.."
TOP=$PWD
# BENCH_TREE=DIR times the build in another tree of this project (its
# helper; in a private world, what its make install installs) with these
# scripts, e.g. a worktree of the commit before a change.
BUILD=$(cd "${BENCH_TREE:-$TOP}" && pwd)
HELPER=$BUILD/postfix-tls-setup
FLOOR=$TOP/bench/floor
GEN=$TOP/bench/sni-pki
RUNS=${BENCH_RUNS:-100}
read -r -a SIZES <<<"${BENCH_SNI_SIZES:-1000 2000 5000 10000}"
[ "$(id -u)" -eq 0 ] || { echo "make bench-sni needs root" >&2; exit 1; }
for f in "$HELPER" "$FLOOR" "$GEN"; do
	[ -x "$f" ] || { echo "$f is not built: run make bench-sni" >&2; exit 1; }
done

B=$(mktemp -d /tmp/pts-bench-sni.XXXXXX)
trap 'rm -rf "$B"' EXIT
chmod 755 "$B"
export PKI=$B/pki HOST=mail.example.org
mkdir -p "$PKI" "$B/csv" "$B/root/var/db/pkg/mail-mta/postfix-3.8.4"
echo "amd64 pam sasl ssl" >"$B/root/var/db/pkg/mail-mta/postfix-3.8.4/USE"
# shellcheck source=tests/pki.bash
. "$TOP/tests/pki.bash"
# shellcheck source=bench/lib.bash
. "$TOP/bench/lib.bash"
UNSUPPORTED=0

# identities DIR ARGS...: the identity lines of `check -v` (stdout and
# stderr, with or without the program's name in front).
identities() {
	local dir=$1
	shift
	"$HELPER" -v -c "$dir" --root "$B/root" "$@" check 2>&1 |
		sed -n 's/^\(postfix-tls-setup: \)\{0,1\}\(identity .*\)/\2/p'
}

# confdir DIR: a configuration directory with Debian's master.cf and the
# main.cf lines on stdin, main.cf aged (as bench/run.sh does).
confdir() {
	mkdir -p "$1"
	cp /etc/postfix/master.cf "$1/master.cf"
	cat >"$1/main.cf"
	touch -d '1 hour ago' "$1/main.cf" "$1/master.cf"
}

say "f: the unchanged restart, RSA + ECDSA + a submission service"
# Three leaves for the same host name, one PKI each (pki_cert names a
# leaf's files after its host): RSA, assembled by deploy from the tuning
# file into the first smtpd_tls_chain_files file; ECDSA, a key-then-chain
# file served as it is; the submission service's own bundle.
pki_cert root self ca
pki_cert inter1 root ca
pki_cert inter2 inter1 ca
for p in ec sub; do
	mkdir -p "$B/pki-$p"
	cp "$PKI"/root.* "$PKI"/inter1.* "$PKI"/inter2.* "$B/pki-$p/"
	PKI=$B/pki-$p pki_cert "$HOST" inter2 server
	cat "$B/pki-$p/$HOST.key" "$B/pki-$p/$HOST.pem" "$PKI/inter2.pem" \
		"$PKI/inter1.pem" >"$B/pki-$p/bundle.pem"
done
pki_cert "$HOST" inter2 server rsa:2048
mkdir -p "$B/ssl"
cp "$PKI/$HOST.pem" "$B/ssl/rsa-cert.pem"
cp "$PKI/$HOST.key" "$B/ssl/rsa-key.pem"
cat "$PKI/inter2.pem" "$PKI/inter1.pem" >"$B/ssl/chain.pem"
cp "$B/pki-ec/bundle.pem" "$B/ssl/ecdsa.pem"
cp "$B/pki-sub/bundle.pem" "$B/ssl/submission.pem"
chmod 0600 "$B"/ssl/*
# Postfix reads smtpd_tls_chain_files before smtpd_tls_cert_file: a
# service of its own must override the former.
confdir "$B/fpostfix" <<EOF
myhostname = $HOST
smtpd_tls_security_level = may
smtpd_tls_chain_files = $B/fpostfix/rsa.pem, $B/ssl/ecdsa.pem
EOF
postconf -c "$B/fpostfix" -M "submission/inet=submission inet n - y - - smtpd"
postconf -c "$B/fpostfix" -P "submission/inet/smtpd_tls_security_level=encrypt" \
	"submission/inet/smtpd_tls_chain_files=$B/ssl/submission.pem"
touch -d '1 hour ago' "$B/fpostfix/main.cf" "$B/fpostfix/master.cf"
cat >"$B/fconf-nocache" <<EOF
POSTFIX_TLS_CERT=$B/ssl/rsa-cert.pem
POSTFIX_TLS_KEY=$B/ssl/rsa-key.pem
POSTFIX_TLS_CHAIN=$B/ssl/chain.pem
POSTFIX_TLS_CAFILE=$PKI/root.pem
EOF
{ cat "$B/fconf-nocache"; echo "POSTFIX_TLS_CACHE=$B/cache"; } >"$B/fconf"
F="$HELPER -q -c $B/fpostfix --root $B/root --conf $B/fconf"
F0="$HELPER -q -c $B/fpostfix --root $B/root --conf $B/fconf-nocache"
FD="$FLOOR -P $PKI/root.pem $B/ssl/rsa-cert.pem $B/ssl/chain.pem $B/ssl/rsa-key.pem"
for p in ecdsa submission; do FD="$FD $B/ssl/$p.pem $B/ssl/$p.pem $B/ssl/$p.pem"; done
FD="$FD $B/fpostfix"
$F deploy
$F deploy	# the second run is the unchanged restart
$FD >/dev/null || { echo "the floor refuses the f set-up" >&2; exit 1; }
postconf -c "$B/fpostfix" -Px | grep '^submission/' | sed 's/^/master.cf: /'
ids=$(identities "$B/fpostfix" --conf "$B/fconf")
printf '%s\n' "$ids" | sed -n '/^identity/s/^/  /p'
f_ok=1
if [ "${BENCH_FORCE:-}" = 1 ]; then
	echo "BENCH_FORCE=1: timed whatever this build checks"
elif ! grep -q submission <<<"$ids" || ! grep -qi ecdsa <<<"$ids"; then
	f_ok=0
	echo "submission and ECDSA identities not checked by this build (its check -v names no submission/ECDSA identity): f not timed"
fi
if [ "$f_ok" -eq 1 ]; then
	hyperfine --style basic --warmup 10 --runs "$RUNS" --export-csv "$B/csv/f.csv" \
		-n f-deploy-unchanged "$F deploy" \
		-n f0-without-cache "$F0 deploy" \
		-n fd-floor "$FD"
fi

say "g: SNI maps of ${SIZES[*]} domains"
g_ok=1
grow_cmds=()
for n in 0 "${SIZES[@]}"; do
	d=$B/sni$n
	mkdir -p "$d"
	t0=$EPOCHREALTIME
	"$GEN" "$d" "$n"
	t1=$EPOCHREALTIME
	# The map's source is 0600 (so is the map postmap makes from it).
	confdir "$B/gpostfix$n" <<EOF
myhostname = mail.example.net
smtpd_tls_security_level = may
smtpd_tls_chain_files = $d/main.pem
tls_server_sni_maps = hash:$d/sni
EOF
	postmap -c "$B/gpostfix$n" -F "hash:$d/sni"
	t2=$EPOCHREALTIME
	printf 'N = %5s: sni-pki %6.2f s, postmap -F %6.2f s, the map %s\n' "$n" \
		"$(awk -v a="${t0/./}" -v b="${t1/./}" 'BEGIN { print (b - a) / 1e6 }')" \
		"$(awk -v a="${t1/./}" -v b="${t2/./}" 'BEGIN { print (b - a) / 1e6 }')" \
		"$(du -h "$d/sni.db" | cut -f1)"
	ls "$d"/d*.pem >"$d/list" 2>/dev/null || : >"$d/list"
	G="$HELPER -q -c $B/gpostfix$n --root $B/root --no-conf --cafile $d/root.pem check"
	[ "$n" -eq 0 ] || [ "$g_ok" -eq 0 ] || [ "${BENCH_FORCE:-}" = 1 ] || {
		got=$(identities "$B/gpostfix$n" --no-conf --cafile "$d/root.pem" |
			grep -c '^identity SNI ' || :)
		if [ "$got" -eq 0 ]; then
			g_ok=0
			echo "SNI not checked by this build (check -v prints no \"identity SNI\" line): g not timed"
		elif [ "$got" -ne "$n" ]; then
			g_ok=0
			echo "SNI: check -v names $got SNI identities of $n: g not timed"
		fi
	}
	if [ "$g_ok" -eq 1 ]; then
		$G || { echo "check refuses the N = $n set-up (exit $?)" >&2; exit 1; }
		"$FLOOR" -f "$d/list" "$d/root.pem" "$d/main.pem" "$d/main.pem" \
			"$d/main.pem" "$B/gpostfix$n" >/dev/null ||
			{ echo "the floor refuses the N = $n set-up" >&2; exit 1; }
	fi
	grow_cmds+=(-n "sni-$n" "$G")
done
openssl verify -CAfile "$B/sni${SIZES[0]}/root.pem" \
	-untrusted "$B/sni${SIZES[0]}/inter.pem" -purpose sslserver -auth_level 2 \
	"$B/sni${SIZES[0]}/d1.pem" "$B/sni${SIZES[0]}/d${SIZES[0]}.pem"
if [ "$g_ok" -eq 1 ]; then
	hyperfine --style basic --warmup 1 --runs "$((RUNS / 20 + 3))" \
		--export-csv "$B/csv/sni.csv" "${grow_cmds[@]}"
	# The floor at the first and the last size: a few runs (about a
	# millisecond a domain in OpenSSL 3.0, see BENCHMARKS.md).
	# One size (BENCH_SNI_SIZES="10000"): timed once, not twice.
	floor_cmds=()
	for n in $(printf '%s\n' "${SIZES[0]}" "${SIZES[-1]}" | uniq); do
		d=$B/sni$n
		floor_cmds+=(-n "floor-$n" "$FLOOR -f $d/list $d/root.pem $d/main.pem $d/main.pem $d/main.pem $B/gpostfix$n")
	done
	hyperfine --style basic --warmup 1 --runs 3 \
		--export-csv "$B/csv/sni-floor.csv" "${floor_cmds[@]}"

	say "Peak memory, check at N = ${SIZES[-1]}"
	${CC:-cc} -shared -fPIC -O2 -o "$B/rss.so" "$TOP/bench/rss.c"
	n=${SIZES[-1]}
	rss_own=0 rss_tree=0
	for _ in 1 2 3; do
		: >"$B/rss"
		kb=$( { RSS_FILE=$B/rss LD_PRELOAD=$B/rss.so /usr/bin/time -f '%M' \
			"$HELPER" -q -c "$B/gpostfix$n" --root "$B/root" --no-conf \
			--cafile "$B/sni$n/root.pem" check >/dev/null; } 2>&1 | tail -n1)
		[ "$kb" -gt "$rss_tree" ] && rss_tree=$kb
		own=$(sort -n "$B/rss" | tail -n1)
		[ "$own" -gt "$rss_own" ] && rss_own=$own
	done
	echo "helper's own peak RSS: $rss_own KB (with its postconf child, GNU time: $rss_tree KB)"

	say "g-warn: $n entries that each draw a warning, against none"
	# Repeats are left out before anything is said (src/render.c): that
	# must cost about what judging the entries does, not n squared.
	sed 's/^d/w/' "$d/sni" >"$d/sni-warn"
	chmod 0600 "$d/sni-warn"
	for v in quiet warn; do
		src=$d/sni; [ "$v" = quiet ] || src=$d/sni-warn
		confdir "$B/g$v" <<EOF
myhostname = mail.example.net
smtpd_tls_security_level = may
smtpd_tls_chain_files = $d/main.pem
tls_server_sni_maps = texthash:$src
EOF
	done
	W="$HELPER -c $B/gwarn --root $B/root --no-conf --cafile $d/root.pem check"
	Q="$HELPER -c $B/gquiet --root $B/root --no-conf --cafile $d/root.pem check"
	said=$($W 2>&1 | grep -c "is not among the certificate's names" || :)
	[ "$said" -eq "$n" ] ||
		{ echo "g-warn: $said warnings said, not $n" >&2; exit 1; }
	hyperfine --style basic --warmup 1 --runs 3 \
		--export-csv "$B/csv/sni-warn.csv" -n quiet "$Q" -n warn "$W" \
		-n warn-json "$W --json"
fi

say "Report (issue 11)"
if [ "$f_ok" -eq 1 ]; then
	f=$(median_ms "$B/csv/f.csv" f-deploy-unchanged)
	f0=$(median_ms "$B/csv/f.csv" f0-without-cache)
	fd=$(median_ms "$B/csv/f.csv" fd-floor)
	echo "f, RSA + ECDSA + submission (medians, ms): deploy unchanged $f | without the cache $f0 | floor (3 identities, postconf -xh and -Px) $fd"
	echo "ratios: f/fd = $(ratio "$f" "$fd")   f0/fd = $(ratio "$f0" "$fd")"
else
	echo "f: not checked by this build"
	UNSUPPORTED=1
fi
if [ "$g_ok" -eq 1 ]; then
	echo "g, check with an SNI map (median ms; the floor: the same identities, bench/floor -f):"
	for n in 0 "${SIZES[@]}"; do
		printf '  %6s domains: %10s' "$n" "$(median_ms "$B/csv/sni.csv" "sni-$n")"
		fl=$(median_ms "$B/csv/sni-floor.csv" "floor-$n")
		[ -z "$fl" ] || printf '   floor %10s' "$fl"
		echo
	done
	n1=${SIZES[0]} nk=${SIZES[-1]}
	g0=$(median_ms "$B/csv/sni.csv" sni-0)
	g1=$(median_ms "$B/csv/sni.csv" "sni-$n1")
	gk=$(median_ms "$B/csv/sni.csv" "sni-$nk")
	per1=$(awk -v t="$g1" -v n="$n1" 'BEGIN { printf "%.1f", t * 1000 / n }')
	perk=$(awk -v t="$gk" -v n="$nk" 'BEGIN { printf "%.1f", t * 1000 / n }')
	grow=$(awk -v a="$per1" -v b="$perk" 'BEGIN { printf "%.2f", b / a }')
	net=$(awk -v z="$g0" -v a="$g1" -v b="$gk" -v n="$n1" -v m="$nk" \
		'BEGIN { printf "%.2f", ((b - z) / m) / ((a - z) / n) }')
	echo "  per domain: $per1 us at $n1, $perk us at $nk; ratio $grow (1.00 if linear; without the fixed cost of N = 0: $net)"
fi
echo "targets:"
if [ "$f_ok" -eq 1 ]; then
	verdict "$f <= 1.2 * $fd" "f <= 1.2 x floor (RSA + ECDSA + submission, unchanged restart)"
	verdict "$f0 <= 1.2 * $fd" "f0 <= 1.2 x floor (the same without the cache)"
else
	echo "  not measured: submission and ECDSA identities not checked by this build"
fi
if [ "$g_ok" -eq 1 ]; then
	verdict "$gk <= 3000" "check of $nk SNI domains in at most 3 s ($gk ms)"
	verdict "$grow <= 1.5" "growth $n1 -> $nk no worse than linear (x1.5 margin)"
	verdict "$rss_own < 65536" "peak RSS of the $nk-domain check under 64 MB (the helper's own: $rss_own KB)"
	wq=$(median_ms "$B/csv/sni-warn.csv" quiet)
	ww=$(median_ms "$B/csv/sni-warn.csv" warn)
	wj=$(median_ms "$B/csv/sni-warn.csv" warn-json)
	verdict "$ww <= 1.5 * $wq" "$nk warnings said in at most 1.5 x the quiet check ($ww against $wq ms)"
	verdict "$wj <= 1.5 * $wq" "the same in JSON ($wj ms)"
else
	echo "  not measured: SNI not checked by this build"
	UNSUPPORTED=1
fi
mkdir -p "$TOP/bench/out"
cp "$B"/csv/*.csv "$TOP/bench/out/" 2>/dev/null || :
echo "CSV files: bench/out/"
[ "$MISSED" -eq 0 ] || exit 1
[ "$UNSUPPORTED" -eq 0 ] || exit 2
