#!/usr/bin/env bash
# make bench: time the helper side by side with what an admin would run
# otherwise, in one run on the same files, and print the ratios.  Needs
# root (chown; namespaces for the OpenRC part), hyperfine and GNU time.
#   a  deploy, unchanged 3-certificate chain (the common restart)
#   b  deploy, the chain changed (the write path)
#   c  the shell recipe (bench/recipe.sh)
#   d  the floor (bench/floor.c): load, verify, key match, one postconf
#   e  rc-service postfix start with and without the hook, real OpenRC
# then peak memory, and growth with the input (check on 1..4096
# certificates, 1..10 intermediates).  BENCH_RUNS sets the repetitions.
# Timings are printed, never asserted: see BENCHMARKS.md.
set -eu
cd "$(dirname "$0")/.."
TOP=$PWD
HELPER=$TOP/postfix-tls-setup
FLOOR=$TOP/bench/floor
RUNS=${BENCH_RUNS:-100}
[ "$(id -u)" -eq 0 ] || { echo "make bench needs root" >&2; exit 1; }

B=$(mktemp -d /tmp/pts-bench.XXXXXX)
trap 'rm -rf "$B"' EXIT
chmod 755 "$B"
export PKI=$B/pki HOST=mail.example.org
mkdir -p "$PKI" "$B/postfix" "$B/ssl" "$B/recipe" "$B/csv" \
	"$B/root/var/db/pkg/mail-mta/postfix-3.8.4"
# shellcheck source=tests/pki.bash
. "$TOP/tests/pki.bash"

say() { printf '\n== %s\n' "$*"; }

# median_ms CSV NAME: the median of a hyperfine CSV row, in milliseconds.
median_ms() {
	awk -F, -v n="$2" '$1 == n { printf "%.2f", $4 * 1000 }' "$1"
}
ratio() {
	awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'
}
verdict() {	# verdict OK-EXPRESSION TEXT
	if awk "BEGIN { exit !($1) }"; then echo "  met:    $2"; else echo "  missed: $2"; fi
}

say "Test PKI and a Postfix configuration"
pki_cert root self ca
pki_cert inter1 root ca
pki_cert inter2 inter1 ca
pki_cert "$HOST" inter2 server
cp "$PKI/$HOST.pem" "$B/ssl/cert.pem"
cp "$PKI/$HOST.key" "$B/ssl/key.pem"
cat "$PKI/inter2.pem" "$PKI/inter1.pem" >"$B/ssl/chain.pem"
echo "amd64 pam sasl ssl" >"$B/root/var/db/pkg/mail-mta/postfix-3.8.4/USE"
cat >"$B/postfix/main.cf" <<EOF
myhostname = $HOST
smtpd_tls_security_level = may
smtpd_tls_cert_file = $B/postfix/certificate.pem
smtpd_tls_key_file = $B/ssl/key.pem
EOF
touch -d '1 hour ago' "$B/postfix/main.cf"
cat >"$B/conf" <<EOF
POSTFIX_TLS_CERT=$B/ssl/cert.pem
POSTFIX_TLS_KEY=$B/ssl/key.pem
POSTFIX_TLS_CHAIN=$B/ssl/chain.pem
POSTFIX_TLS_CAFILE=$PKI/root.pem
EOF
# One command line, used as a string by hyperfine and split by the shell.
H="$HELPER -q -c $B/postfix --root $B/root --conf $B/conf"
$H deploy
cat "$PKI/$HOST.pem" "$PKI/inter2.pem" >"$B/stale.pem"   # a bundle to replace
echo "3-certificate bundle: $(grep -c BEGIN "$B/postfix/certificate.pem") certificates"

say "a, c, d side by side ($RUNS runs each)"
hyperfine --style basic --warmup 10 --runs "$RUNS" --export-csv "$B/csv/core.csv" \
	-n a-deploy-unchanged "$H deploy" \
	-n c-shell-recipe "sh $TOP/bench/recipe.sh $PKI/root.pem $B/ssl/cert.pem $B/ssl/chain.pem $B/ssl/key.pem $B/recipe/certificate.pem $B/postfix $B/root" \
	-n d-floor "$FLOOR $PKI/root.pem $B/ssl/cert.pem $B/ssl/chain.pem $B/ssl/key.pem $B/postfix"

say "One postconf call on its own (paid by a, c and d)"
hyperfine --style basic --warmup 5 --runs "$RUNS" --export-csv "$B/csv/postconf.csv" \
	-n postconf "postconf -c $B/postfix -xh smtpd_tls_security_level smtpd_use_tls smtpd_enforce_tls smtpd_tls_cert_file smtpd_tls_key_file smtpd_tls_eccert_file smtpd_tls_eckey_file smtpd_tls_dcert_file smtpd_tls_dkey_file smtpd_tls_chain_files smtpd_tls_auth_only smtpd_sasl_auth_enable myhostname"

say "b: deploy when the chain changed ($RUNS runs)"
hyperfine --style basic --warmup 5 --runs "$RUNS" --export-csv "$B/csv/write.csv" \
	--prepare "cp $B/stale.pem $B/postfix/certificate.pem" \
	-n b-deploy-changed "$H deploy"

say "Peak memory"
# The helper's own peak (VmHWM at exit, bench/rss.c), and GNU time's
# figure, which is the largest process of the tree: postconf's.
${CC:-cc} -shared -fPIC -O2 -o "$B/rss.so" "$TOP/bench/rss.c"
rss_own=0 rss_tree=0
for cmd in deploy check; do
	for _ in 1 2 3 4 5; do
		: >"$B/rss"
		# shellcheck disable=SC2086 # $H is a command line
		kb=$( { RSS_FILE=$B/rss LD_PRELOAD=$B/rss.so /usr/bin/time -f '%M' \
			$H "$cmd" >/dev/null; } 2>&1 | tail -n1)
		[ "$kb" -gt "$rss_tree" ] && rss_tree=$kb
		own=$(sort -n "$B/rss" | tail -n1)
		[ "$own" -gt "$rss_own" ] && rss_own=$own
	done
done
echo "helper's own peak RSS: $rss_own KB (with its postconf child, GNU time: $rss_tree KB)"

say "Growth: check on chain files of 1..4095 certificates, the path buried"
openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$B/unrelated.key" 2>/dev/null
for i in $(seq 4094); do
	openssl req -x509 -key "$B/unrelated.key" -subj "/O=Unrelated/CN=ca$i" \
		-days 365 -addext basicConstraints=critical,CA:TRUE 2>/dev/null
done >"$B/unrelated.pem"
pki_cert growth.example.org inter1 server
grow_cmds=()
for n in 1 10 100 1000 4095; do
	# inter1 in the middle of n-1 unrelated CA certificates.
	half=$(( (n - 1) / 2 ))
	{
		awk -v m="$half" '/BEGIN/ { c++ } c <= m && c > 0' "$B/unrelated.pem"
		cat "$PKI/inter1.pem"
		awk -v lo="$half" -v hi="$((n - 1))" '/BEGIN/ { c++ } c > lo && c <= hi' "$B/unrelated.pem"
	} >"$B/grow$n.pem"
	grow_cmds+=(-n "certs-$n" "$HELPER -q -c $B/postfix --root $B/root --no-conf --cafile $PKI/root.pem --cert $PKI/growth.example.org.pem --key $PKI/growth.example.org.key --chain $B/grow$n.pem --bundle $B/postfix/certificate.pem check")
done
for n in 1 10 100 1000 4095; do
	printf 'certs-%s: %s certificates\n' "$n" "$(grep -c BEGIN "$B/grow$n.pem")"
done
# check's main.cf must name this key: a copy of the configuration.
mkdir -p "$B/gpostfix"
sed "s|^smtpd_tls_key_file = .*|smtpd_tls_key_file = $PKI/growth.example.org.key|" \
	"$B/postfix/main.cf" >"$B/gpostfix/main.cf"
touch -d '1 hour ago' "$B/gpostfix/main.cf"
grow_cmds=("${grow_cmds[@]//-c $B\/postfix /-c $B/gpostfix }")
hyperfine --style basic --warmup 3 --runs "$((RUNS / 4 + 5))" \
	--export-csv "$B/csv/grow.csv" "${grow_cmds[@]}"

say "Growth: 1, 5 and 10 intermediates"
prev=root
for i in $(seq 10); do pki_cert "deep$i" "$prev" ca; prev=deep$i; done
deep_cmds=()
for k in 1 5 10; do
	pki_cert "leaf$k.example.org" "deep$k" server
	for i in $(seq "$k" -1 1); do cat "$PKI/deep$i.pem"; done >"$B/deep$k.pem"
	mkdir -p "$B/dpostfix$k"
	sed "s|^smtpd_tls_key_file = .*|smtpd_tls_key_file = $PKI/leaf$k.example.org.key|" \
		"$B/postfix/main.cf" >"$B/dpostfix$k/main.cf"
	touch -d '1 hour ago' "$B/dpostfix$k/main.cf"
	deep_cmds+=(-n "inter-$k" "$HELPER -q -c $B/dpostfix$k --root $B/root --no-conf --cafile $PKI/root.pem --cert $PKI/leaf$k.example.org.pem --key $PKI/leaf$k.example.org.key --chain $B/deep$k.pem --bundle $B/postfix/certificate.pem check")
done
hyperfine --style basic --warmup 3 --runs "$((RUNS / 4 + 5))" \
	--export-csv "$B/csv/deep.csv" "${deep_cmds[@]}"

say "e: rc-service postfix start, real OpenRC in a private world"
cat >"$B/world.sh" <<'SCENARIO'
make_postfix /etc/postfix 127.0.0.1
use_tls "$HOST" inter2 inter1
tune /etc/conf.d/postfix-tls-setup
runs=$(( BENCH_RUNS / 5 + 5 ))
postfix-tls-setup -q deploy
# hook WHAT: the switch, through /etc/conf.d/postfix as an admin would set it.
hook() { echo "POSTFIX_TLS_HOOK=$1" >/etc/conf.d/postfix; }
# a, inside this world (its overlays make every program start slower).
hyperfine --style basic --warmup 5 --runs "$((runs * 3))" --export-csv "$T/csv/e-a.csv" \
	-n a-in-world 'postfix-tls-setup -q deploy'
# time_start NAME RUNS PREPARE: rc-service postfix start with the hook on
# and off, into $T/csv/e-NAME-yes.csv and -no.csv.
time_start() {
	for h in yes no; do
		hook "$h"
		hyperfine --style basic --warmup 2 --runs "$2" \
			--export-csv "$T/csv/e-$1-$h.csv" --prepare "$3" \
			-n "$1-hook-$h" 'rc-service postfix start'
	done
}
# e1: the real Postfix start, with the hook and without.
time_start start "$runs" 'rc-service postfix stop >/dev/null 2>&1; rc-service postfix zap >/dev/null 2>&1; true'
rc-service postfix stop >/dev/null 2>&1
# e2: the hook's own cost, on a service of the same shape whose start
# does nothing (a Postfix start varies by more than the hook costs).
printf '#!/sbin/openrc-run\nstart() { :; }\nstop() { :; }\n' >/etc/init.d/postfix
time_start noop "$((runs * 3))" 'rc-service postfix zap >/dev/null 2>&1; true'
# e3: any program run from a start_pre is slower than outside OpenRC (a
# fresh cgroup per start): the helper itself, called bare from start_pre,
# against true — what the hook costs beyond that is its own.
for f in helper true; do
	cmd=/bin/true
	[ "$f" = helper ] && cmd="/usr/sbin/postfix-tls-setup -q deploy"
	printf '#!/sbin/openrc-run\nstart() { :; }\nstop() { :; }\nstart_pre() { %s; }\n' "$cmd" >"/etc/init.d/bare-$f"
	chmod 0755 "/etc/init.d/bare-$f"
done
hyperfine --style basic --warmup 3 --runs "$((runs * 3))" --export-csv "$T/csv/e-bare.csv" \
	--prepare 'rc-service bare-helper zap >/dev/null 2>&1; rc-service bare-true zap >/dev/null 2>&1; true' \
	-n bare-helper 'rc-service bare-helper start' -n bare-true 'rc-service bare-true start'
SCENARIO
unshare --pid --fork --mount-proc --mount --net --propagation private \
	env PKI="$PKI" HOST="$HOST" TOP="$TOP" BENCH_RUNS="$RUNS" \
	bash "$TOP/tests/world.sh" "$B" "$B/world.sh"

say "Report"
a=$(median_ms "$B/csv/core.csv" a-deploy-unchanged)
c=$(median_ms "$B/csv/core.csv" c-shell-recipe)
d=$(median_ms "$B/csv/core.csv" d-floor)
b=$(median_ms "$B/csv/write.csv" b-deploy-changed)
aw=$(median_ms "$B/csv/e-a.csv" a-in-world)
e1h=$(median_ms "$B/csv/e-start-yes.csv" start-hook-yes)
e1n=$(median_ms "$B/csv/e-start-no.csv" start-hook-no)
e2h=$(median_ms "$B/csv/e-noop-yes.csv" noop-hook-yes)
e2n=$(median_ms "$B/csv/e-noop-no.csv" noop-hook-no)
hook=$(awk -v x="$e2h" -v y="$e2n" 'BEGIN { printf "%.2f", x - y }')
bh=$(median_ms "$B/csv/e-bare.csv" bare-helper)
bt=$(median_ms "$B/csv/e-bare.csv" bare-true)
inrc=$(awk -v x="$bh" -v y="$bt" 'BEGIN { printf "%.2f", x - y }')
own=$(awk -v h="$hook" -v i="$inrc" 'BEGIN { printf "%.2f", h - i }')
cat <<EOF
medians (ms): a deploy unchanged $a | b deploy changed $b | c shell recipe $c | d floor $d
              e real start: with hook $e1h, hook off $e1n | e no-op start: with hook $e2h, hook off $e2n
ratios:       a/d = $(ratio "$a" "$d")   c/a = $(ratio "$c" "$a")   b/a = $(ratio "$b" "$a")
a inside the world (its overlays slow every program start): $aw ms
hook cost (no-op service, with - without): $hook ms, budget a + 2 = $(awk -v a="$aw" 'BEGIN { printf "%.2f", a + 2 }') ms (a measured in the same world)
the helper run bare from a start_pre (bare-helper - bare-true): $inrc ms, so the hook's own cost beyond the helper: $own ms
peak RSS: helper $rss_own KB (process tree with postconf: $rss_tree KB)
EOF
echo "targets:"
verdict "$a <= 1.2 * $d" "a <= 1.2 x d"
verdict "$c >= 5 * $a" "a at least 5x faster than c"
p=$(awk -F, '$1 == "postconf" { printf "%.2f", $4 * 1000 }' "$B/csv/postconf.csv")
echo "  (one postconf call alone: $p ms, in a, c and d alike; without it c/a = $(awk -v a="$a" -v c="$c" -v p="$p" 'BEGIN { printf "%.1f", (c - p) / (a - p) }'))"
verdict "$hook <= $aw + 2" "the hook adds at most a + 2 ms (a timed outside OpenRC)"
verdict "$own <= 2" "the hook adds at most 2 ms to what the helper costs in the same OpenRC context"
verdict "$rss_own <= 8192" "peak RSS <= 8 MB (the helper's own)"
echo "growth (check, median ms):"
for n in 1 10 100 1000 4095; do
	printf '  %5s certificates: %s\n' "$n" "$(median_ms "$B/csv/grow.csv" "certs-$n")"
done
g10=$(median_ms "$B/csv/grow.csv" certs-10)
g100=$(median_ms "$B/csv/grow.csv" certs-100)
g1000=$(median_ms "$B/csv/grow.csv" certs-1000)
g4095=$(median_ms "$B/csv/grow.csv" certs-4095)
per=$(awk -v a="$g100" -v b="$g1000" 'BEGIN { printf "%.1f", (b - a) * 1000 / 900 }')
echo "  cost per added certificate, 100 -> 1000: $per us; (t1000 - t100) / (t100 - t10) = $(awk -v a="$g10" -v b="$g100" -v c="$g1000" 'BEGIN { d = b - a; if (d < 0.05) d = 0.05; printf "%.1f", (c - b) / d }') (10 if linear, 100 if quadratic)"
verdict "($g4095 - $g1000) <= 1.5 * 3.095 * ($g1000 - $g100) / 0.9 + 1" "growth 1000 -> 4095 no worse than linear (x1.5 margin)"
echo "  at the limit (4095 chain certificates + the leaf = 4096): $g4095 ms"
echo "growth with intermediates (check, median ms):"
for k in 1 5 10; do
	printf '  %2s intermediates: %s\n' "$k" "$(median_ms "$B/csv/deep.csv" "inter-$k")"
done
mkdir -p "$TOP/bench/out"
cp "$B"/csv/*.csv "$TOP/bench/out/"
echo "CSV files: bench/out/"
