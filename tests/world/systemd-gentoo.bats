#!/usr/bin/env bats
# Gentoo's shape of postfix under a real systemd as PID 1 (one per test,
# in private namespaces: tests/systemd-lib.bash): one unit, postfix.service,
# of the shape mail-mta/postfix ships (Type=forking, "postfix start",
# "postfix reload", ProtectSystem=full, which makes /etc read-only for the
# unit's own commands), written here as a stand-in, with the package's
# drop-in on it.  Debian's postfix units and generator are taken out of
# the world first, as Gentoo has none.

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

# The stand-in: the shape of Gentoo's files/postfix.service, not its text.
gentoo_units() {
	sd rm -f /lib/systemd/system/postfix@.service \
		/lib/systemd/system/postfix.service \
		/lib/systemd/system-generators/postfix-instance-generator
	sd tee /lib/systemd/system/postfix.service >/dev/null <<-'UNIT'
	[Unit]
	Description=Postfix (a stand-in of the shape of Gentoo's unit)
	After=network.target

	[Service]
	Type=forking
	PIDFile=/var/spool/postfix/pid/master.pid
	ExecStartPre=-/usr/bin/newaliases
	ExecStart=/usr/sbin/postfix start
	ExecReload=/usr/sbin/postfix reload
	ExecStop=/usr/sbin/postfix stop
	ProtectSystem=full
	PrivateTmp=yes

	[Install]
	WantedBy=multi-user.target
	UNIT
}

setup() {
	sd_usable
	# shellcheck disable=SC2034 # systemd-lib.bash uses them
	T=$BATS_TEST_TMPDIR SD_UNIT=postfix.service \
		SD_START="systemctl start postfix" SD_RELOAD="systemctl reload postfix"
	sd_boot
	gentoo_units
	sd_install
}

teardown() {
	sd_halt
}

@test "Gentoo: the drop-in is on postfix.service, and the reload line is replaced by the check, then postfix reload" {
	run sd systemctl show -p ExecReloadEx --value postfix.service
	assert_success
	assert_line --index 0 --partial "path=/usr/sbin/postfix-tls-setup ; argv[]=/usr/sbin/postfix-tls-setup --service postfix.service hook reload_pre "
	assert_line --index 0 --partial "flags=privileged"
	assert_line --index 1 --partial "argv[]=/usr/sbin/postfix reload "
	[ "${#lines[@]}" -eq 2 ]
}

@test "Gentoo: a key that does not match fails postfix.service, says why in its journal once, starts no master and changes nothing" {
	sd_refused_start
}

@test "Gentoo: systemctl start postfix deploys the chain (into /etc, which ProtectSystem=full keeps read-only for Postfix's own lines), and a verifying STARTTLS client accepts it" {
	sd_good_start
}

@test "Gentoo: a refused check fails systemctl reload postfix and leaves the master as it was, serving the old leaf, files unchanged" {
	sd_refused_reload
}

@test "Gentoo: systemctl reload postfix deploys the renewed leaf and the same master serves it" {
	sd_good_reload
}

@test "Gentoo: renew reloads postfix.service through systemctl reload, never a restart" {
	sd_renew_reloads
}

@test "Gentoo: a handshake that fails after the start is warned of in the journal; with POSTFIX_TLS_PROBE=stop it fails postfix.service and no master runs" {
	sd_probe_stop
}
