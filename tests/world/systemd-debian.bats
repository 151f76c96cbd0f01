#!/usr/bin/env bats
# Debian's own postfix units under a real systemd as PID 1 (one per test,
# in private namespaces: tests/systemd-lib.bash), with the package's
# drop-in on postfix@.service: the check gates the start and the reload
# of the instance postfix@- (the default, /etc/postfix), a real STARTTLS
# handshake judges the start, renew reloads through systemctl.  Debian's
# "systemctl start postfix" answers 0 even when postfix@- failed: the
# instance's unit is judged.

load ../helpers
load ../systemd-lib

setup_file() {
	pki_common
	pki_cert other.example.org inter2 server
	# A renewal: same name, new key.
	mkdir -p "$PKI/renewed"
	PKI=$PKI/renewed pki_key "$HOST" ec
	cp "$PKI/inter2.pem" "$PKI/inter2.key" "$PKI/renewed/"
	PKI=$PKI/renewed pki_cert "$HOST" inter2 server
	cp "$PKI/renewed/$HOST.pem" "$PKI/renewed.pem"
	cp "$PKI/renewed/$HOST.key" "$PKI/renewed.key"
}

setup() {
	sd_usable
	# shellcheck disable=SC2034 # systemd-lib.bash uses them
	T=$BATS_TEST_TMPDIR SD_UNIT=postfix@-.service \
		SD_START="systemctl start postfix" SD_RELOAD="systemctl reload postfix"
	sd_boot
	sd_install
}

teardown() {
	sd_halt
}

@test "Debian: a key that does not match fails postfix@-, says why in its journal once, starts no master and changes nothing" {
	sd_refused_start
}

@test "Debian: systemctl start postfix deploys the chain before postfix@- starts, and a verifying STARTTLS client accepts it" {
	sd_good_start
}

@test "Debian: a refused check fails systemctl reload postfix@- and leaves the master as it was, serving the old leaf, files unchanged" {
	sd_refused_reload
}

@test "Debian: systemctl reload postfix (propagated to postfix@-) deploys the renewed leaf and the same master serves it" {
	sd_good_reload
}

@test "Debian: renew reloads postfix@- through systemctl reload, never a restart" {
	sd_renew_reloads
}

@test "Debian: a handshake that fails after the start is warned of in the journal; with POSTFIX_TLS_PROBE=stop it fails postfix@- and no master runs" {
	sd_probe_stop
}
