#!/usr/bin/env bats
# Issue 20, part 3, end to end: "renewed but not served" is visible to
# monitoring.  A leaf renewed and deployed without a reload is what the
# files say but not what the running smtpd serves; check --json and
# check --nagios try the listeners (the probe's handshakes) when
# queue_directory/pid/master.pid names a live master, and say it as a
# warning.  Real OpenRC, real master and smtpd in a private world.

# shellcheck disable=SC2154 # $stderr: run --separate-stderr
bats_require_minimum_version 1.5.0

load ../helpers

setup_file() {
	pki_common
}

setup() {
	need_root
	# shellcheck disable=SC2034 # world() in helpers.bash uses it
	T=$BATS_TEST_TMPDIR
}

@test "a leaf deployed without a reload: check --json and --nagios warn that the running smtpd serves another leaf; quiet after the reload and when Postfix is stopped" {
	run world <<-'SCENARIO'
	make_postfix /etc/postfix 127.0.0.1
	use_tls "$HOST" inter1 inter2
	tune /etc/conf.d/postfix-tls-setup
	postconf -M "submission/inet=submission inet n - n - - smtpd"
	rc-service postfix start >/dev/null; say "start=$?"
	postfix-tls-setup --json check >/run/fresh.json; say "fresh=$?"
	python3 -c 'import json,sys; d=json.load(open("/run/fresh.json")); print("@@ fresh:", d["status"], len(d["findings"]))'
	# Renewed (same key, new serial) and deployed by hand, no reload.
	openssl x509 -req -in "$PKI/$HOST.csr" -CA "$PKI/inter2.pem" \
		-CAkey "$PKI/inter2.key" -days 90 -extfile "$PKI/$HOST.ext" \
		-set_serial 0x4242 -out /etc/ssl/mail/cert.pem 2>/dev/null
	postfix-tls-setup deploy >/dev/null; say "deploy=$?"
	sum=$(sha256sum /etc/postfix/certificate.pem)
	postfix-tls-setup --json check >/run/stale.json; say "stale=$?"
	python3 - <<-'PY'
	import json
	d = json.load(open("/run/stale.json"))
	print("@@ stale status:", d["status"], d["exit_status"])
	for f in d["findings"]:
	    print("@@ stale finding:", f["severity"], f["identity"], f["file"], f["message"])
	PY
	postfix-tls-setup --nagios check | sed 's/^/@@ nagios: /'; say "nagios=${PIPESTATUS[0]}"
	[ "$(sha256sum /etc/postfix/certificate.pem)" = "$sum" ] && say "bundle unchanged"
	# Plain check is about the files: no handshakes, no warning.
	postfix-tls-setup check 2>&1 | grep -c 'not the certificate on disk' | sed 's/^/@@ plain: /'
	rc-service postfix reload >/dev/null; say "reload=$?"
	postfix-tls-setup --nagios check | sed 's/^/@@ reloaded: /'
	rc-service postfix stop >/dev/null; say "stop=$?"
	postfix-tls-setup --json check >/run/stopped.json; say "stopped=$?"
	python3 -c 'import json,sys; d=json.load(open("/run/stopped.json")); print("@@ stopped:", d["status"], len(d["findings"]))'
	SCENARIO
	assert_success
	assert_output --partial "@@ start=0"
	assert_output --partial "@@ fresh=0"
	assert_output --partial "@@ fresh: ok 0"
	assert_output --partial "@@ deploy=0"
	assert_output --partial "@@ stale=0"
	assert_output --partial "@@ stale status: warning 0"
	local svc num
	for svc in smtp/inet:25 submission/inet:587; do
		num=${svc#*:}
		svc=${svc%:*}
		assert_output --partial "@@ stale finding: warning $svc 127.0.0.1:$num STARTTLS: serves /O=Test/CN=$HOST, which is not the certificate on disk: a process that has not picked up the last change (run \"postfix reload\", or restart Postfix)"
	done
	assert_equal "$(grep -c '^@@ stale finding:' <<<"$output")" 2
	assert_output --regexp "@@ nagios: POSTFIX-TLS WARNING - 0 critical, 2 warning: smtp/inet: 127\.0\.0\.1:25: STARTTLS: serves /O=Test/CN=$HOST, which is not the certificate on disk: .* \| days_left=[0-9]+;30;7"
	assert_output --partial "@@ nagios=1"
	assert_output --partial "@@ bundle unchanged"
	assert_output --partial "@@ plain: 0"
	assert_output --partial "@@ reload=0"
	assert_output --regexp "@@ reloaded: POSTFIX-TLS OK - 1 certificate, soonest main.cf in (89|90) days \| days_left=(89|90);30;7"
	assert_output --partial "@@ stop=0"
	assert_output --partial "@@ stopped=0"
	assert_output --partial "@@ stopped: ok 0"
}
