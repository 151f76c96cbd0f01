#!/usr/bin/env bats
# The build: warning-free, and it honours the variables an ebuild sets.

load ../helpers

setup() {
	T=$BATS_TEST_TMPDIR
	mkdir "$T/tree"
	cp -r "$TOP/Makefile" "$TOP/src" "$TOP/files" "$TOP/init.d" "$TOP/conf.d" \
		"$TOP/postfix-tls-setup.8" "$T/tree/"
	rm -f "$T/tree"/src/*.o
}

@test "the helper builds with -Wall -Wextra -Werror" {
	run make -C "$T/tree" CFLAGS="-O2 -Werror"
	assert_success
	refute_output --partial "warning:"
	assert_file_executable "$T/tree/postfix-tls-setup"
	assert_file_executable "$T/tree/postfix-tls-lookup"
}

@test "the DNS lookup program loads no OpenSSL, nor libbsd (its start is the DANE guard's cost)" {
	run make -C "$T/tree" postfix-tls-lookup
	assert_success
	run readelf -d "$T/tree/postfix-tls-lookup"
	assert_success
	assert_output --partial "(NEEDED)"
	refute_output --partial "libcrypto"
	refute_output --partial "libssl"
	refute_output --partial "libbsd"
}

@test "CC, CFLAGS, CPPFLAGS and LDFLAGS reach every compile and the link" {
	echo 'static int cppflags_seen __attribute__((used));' >"$T/mark.h"
	run make -C "$T/tree" CC=gcc CFLAGS="-O1 -frecord-gcc-switches" \
		CPPFLAGS="-include $T/mark.h" \
		LDFLAGS="-Wl,--defsym=__gentoo_check_ldflags__=0"
	assert_success
	for o in "$T"/tree/src/*.o; do
		readelf -p .GCC.command.line "$o" | grep -q -- '-O1' ||
			fail "$o was built without CFLAGS"
		nm "$o" | grep -q cppflags_seen ||
			fail "$o was built without CPPFLAGS"
	done
	run nm "$T/tree/postfix-tls-setup"
	assert_output --partial "__gentoo_check_ldflags__"
	run nm "$T/tree/postfix-tls-lookup"
	assert_output --partial "__gentoo_check_ldflags__"
}

@test "PKG_CONFIG is the pkg-config that is asked" {
	printf '#!/bin/sh\necho "$*" >>%s/asked\nexec pkg-config "$@"\n' "$T" >"$T/my-pkg-config"
	chmod +x "$T/my-pkg-config"
	run make -C "$T/tree" PKG_CONFIG="$T/my-pkg-config"
	assert_success
	assert_file_contains "$T/asked" "libcrypto"
}

@test "make install honours DESTDIR and PREFIX" {
	run make -C "$T/tree" install DESTDIR="$T/image" PREFIX=/usr
	assert_success
	assert_file_executable "$T/image/usr/sbin/postfix-tls-setup"
	assert_file_permission 755 "$T/image/usr/sbin/postfix-tls-setup"
	assert_file_permission 755 "$T/image/usr/libexec/postfix-tls-setup/postfix-tls-lookup"
	assert_file_exists "$T/image/usr/share/man/man8/postfix-tls-setup.8"
	assert_file_exists "$T/image/usr/share/postfix-tls-setup/openrc-hook.sh"
	run make -C "$T/tree" install-openrc DESTDIR="$T/image" PREFIX=/usr SYSCONFDIR=/etc
	assert_success
	assert_file_executable "$T/image/etc/init.d/postfix-tls"
	assert_file_exists "$T/image/etc/conf.d/postfix-tls-setup"
	assert_file_contains "$T/image/etc/rc.conf.d/postfix-tls-setup.conf" \
		'/usr/share/postfix-tls-setup/openrc-hook.sh'
	run make -C "$T/tree" install-openrc DESTDIR="$T/image2" PREFIX=/opt/pts SYSCONFDIR=/etc
	assert_file_contains "$T/image2/etc/rc.conf.d/postfix-tls-setup.conf" \
		'/opt/pts/share/postfix-tls-setup/openrc-hook.sh'
	assert_file_contains "$T/image2/etc/init.d/postfix-tls" \
		'^POSTFIX_TLS_SETUP=/opt/pts/sbin/postfix-tls-setup$'
}

@test "make install puts the ACME clients' hooks under DATADIR/hooks, executable, calling the installed helper" {
	run make -C "$T/tree" install DESTDIR="$T/image" PREFIX=/opt/pts SYSCONFDIR=/opt/pts/etc
	assert_success
	for h in certbot dehydrated lego uacme; do
		assert_file_permission 755 "$T/image/opt/pts/share/postfix-tls-setup/hooks/$h"
		assert_file_contains "$T/image/opt/pts/share/postfix-tls-setup/hooks/$h" \
			'^[[:space:]]*exec /opt/pts/sbin/postfix-tls-setup.* renew'
		run grep -c '/usr/sbin/' "$T/image/opt/pts/share/postfix-tls-setup/hooks/$h"
		assert_output 0
	done
	assert_file_contains "$T/image/opt/pts/share/postfix-tls-setup/hooks/uacme" \
		'"/opt/pts/etc/ssl/uacme/$1/cert.pem"'
}

@test "installed under a prefix, the hook, the service and the helper name each other there" {
	# As the ebuild installs them in a Gentoo Prefix (EPREFIX=/opt/pts).
	run make -C "$T/tree" install install-openrc DESTDIR="$T/image" \
		PREFIX=/opt/pts/usr SYSCONFDIR=/opt/pts/etc
	assert_success
	img=$T/image/opt/pts
	assert_file_contains "$img/etc/rc.conf.d/postfix-tls-setup.conf" \
		'^postfix|postfix\.\*) \. /opt/pts/usr/share/postfix-tls-setup/openrc-hook\.sh ;;$'
	assert_file_contains "$img/etc/init.d/postfix-tls" \
		'^POSTFIX_TLS_SETUP=/opt/pts/usr/sbin/postfix-tls-setup$'
	assert_file_exists "$img/usr/share/postfix-tls-setup/openrc-hook.sh"
	hook=$img/usr/share/postfix-tls-setup/openrc-hook.sh
	assert_file_contains "$hook" '^POSTFIX_TLS_SETUP=/opt/pts/usr/sbin/postfix-tls-setup$'
	assert_file_executable "$img/usr/sbin/postfix-tls-setup"
	assert_file_executable "$img/usr/libexec/postfix-tls-setup/postfix-tls-lookup"
	# The helper finds the instances' tuning files under the prefix.
	run "$img/usr/sbin/postfix-tls-setup" --help
	assert_output --partial "tuning file (default /opt/pts/etc/conf.d/postfix-tls-setup)"
	assert_output --partial "configuration directory (default /opt/pts/etc/postfix)"
	assert_file_exists "$img/etc/conf.d/postfix-tls-setup"
	# Nothing in them still points outside the prefix.
	run grep -nE '(^|[^[:alnum:]_./-])/(usr|etc)/' "$hook" \
		"$img/etc/init.d/postfix-tls" "$img/etc/rc.conf.d/postfix-tls-setup.conf"
	assert_failure 1
	assert_output ""
}

@test "make install ships root's side of the hand-off (cron line, systemd units) naming the installed helper and spool, and makes the spool root's 1730" {
	run make -C "$T/tree" install DESTDIR="$T/image" PREFIX=/opt/pts \
		SYSCONFDIR=/opt/pts/etc SPOOLDIR=/opt/pts/var/spool/postfix-tls-setup
	assert_success
	d=$T/image/opt/pts/share/postfix-tls-setup/handoff
	for f in postfix-tls-setup.cron postfix-tls-setup-renew.path \
		postfix-tls-setup-renew.service; do
		assert_file_permission 644 "$d/$f"
		run grep -cE '(^|[ =])/(usr/sbin|var/spool)/' "$d/$f"
		assert_output 0
	done
	assert_file_contains "$d/postfix-tls-setup.cron" \
		'^\*/5 \* \* \* \* root /opt/pts/sbin/postfix-tls-setup -q renew --pending$'
	assert_file_contains "$d/postfix-tls-setup-renew.service" \
		'^ExecStart=/opt/pts/sbin/postfix-tls-setup -q renew --pending$'
	assert_file_contains "$d/postfix-tls-setup-renew.path" \
		'^PathExistsGlob=/opt/pts/var/spool/postfix-tls-setup/request\.\[0-9\]\*$'
	assert_equal "$(stat -c '%u:%g %a' "$T/image/opt/pts/var/spool/postfix-tls-setup")" "0:0 1730"
	# The helper built with that spool looks for requests there.
	run strings "$T/tree/postfix-tls-setup"
	assert_output --partial "/opt/pts/var/spool/postfix-tls-setup"
}

@test "make install-systemd puts the drop-ins where systemd reads units, naming the installed helper, with Postfix's own reload line" {
	# SYSTEMDUNITDIR (the ebuild's), under DESTDIR, the helper under PREFIX.
	run make -C "$T/tree" install-systemd DESTDIR="$T/image" PREFIX=/opt/pts \
		SYSTEMDUNITDIR=/opt/pts/lib/systemd/system
	assert_success
	d=$T/image/opt/pts/lib/systemd/system
	assert_file_permission 644 "$d/postfix.service.d/postfix-tls-setup.conf"
	assert_file_permission 644 "$d/postfix@.service.d/postfix-tls-setup.conf"
	for u in postfix.service.d postfix@.service.d; do
		f=$d/$u/postfix-tls-setup.conf
		assert_file_contains "$f" '^ExecStartPre=+/opt/pts/sbin/postfix-tls-setup --service %n hook start_pre$'
		assert_file_contains "$f" '^ExecStartPost=+/opt/pts/sbin/postfix-tls-setup --service %n hook start_post$'
		# The reload: reset, the check, then Postfix's own line.
		run grep '^ExecReload=' "$f"
		assert_line --index 0 'ExecReload='
		assert_line --index 1 'ExecReload=+/opt/pts/sbin/postfix-tls-setup --service %n hook reload_pre'
		refute_output --partial ExecCondition
	done
	assert_file_contains "$d/postfix.service.d/postfix-tls-setup.conf" '^ExecReload=/usr/sbin/postfix reload$'
	assert_file_contains "$d/postfix@.service.d/postfix-tls-setup.conf" \
		"^$(grep '^ExecReload=' /lib/systemd/system/postfix@.service 2>/dev/null ||
			echo 'ExecReload=/usr/sbin/postmulti -i %i -p reload')\$"
	run grep -rn '^ExecCondition' "$d"
	assert_failure 1
}

@test "make install-systemd asks pkg-config for the unit directory only when it installs, else takes PREFIX's" {
	printf '#!/bin/sh\necho "$*" >>%s/asked\ncase "$*" in *systemd*) echo %s/units ;; *) exec pkg-config "$@" ;; esac\n' \
		"$T" "$T" >"$T/my-pkg-config"
	chmod +x "$T/my-pkg-config"
	run make -C "$T/tree" PKG_CONFIG="$T/my-pkg-config"
	assert_success
	run grep -c systemd "$T/asked"
	assert_output 0
	run make -C "$T/tree" install-systemd DESTDIR="$T/image" PREFIX=/opt/pts \
		PKG_CONFIG="$T/my-pkg-config"
	assert_success
	assert_file_contains "$T/asked" "variable=systemdsystemunitdir systemd"
	assert_file_exists "$T/image$T/units/postfix.service.d/postfix-tls-setup.conf"
	# No systemd.pc: PREFIX's lib/systemd/system, which systemd reads.
	run make -C "$T/tree" install-systemd DESTDIR="$T/image2" PREFIX=/opt/pts PKG_CONFIG=false
	assert_success
	assert_file_exists "$T/image2/opt/pts/lib/systemd/system/postfix.service.d/postfix-tls-setup.conf"
}

@test "make install-systemd leaves out the postfix.service drop-in where Debian's postfix@.service runs the instances" {
	# Debian's postfix.service is a oneshot: a drop-in there would not gate
	# the start and would reload twice.
	mkdir -p "$T/image/opt/pts/lib/systemd/system"
	printf '[Service]\nExecStart=/usr/sbin/postmulti -i %%i -p start\n' \
		>"$T/image/opt/pts/lib/systemd/system/postfix@.service"
	run make -C "$T/tree" install-systemd DESTDIR="$T/image" PREFIX=/opt/pts \
		SYSTEMDUNITDIR=/opt/pts/lib/systemd/system
	assert_success
	assert_file_exists "$T/image/opt/pts/lib/systemd/system/postfix@.service.d/postfix-tls-setup.conf"
	assert_not_exists "$T/image/opt/pts/lib/systemd/system/postfix.service.d"
	# Chosen by hand, as the ebuild does.
	run make -C "$T/tree" install-systemd DESTDIR="$T/image" PREFIX=/opt/pts \
		SYSTEMDUNITDIR=/opt/pts/lib/systemd/system SYSTEMD_DROPINS=postfix.service.d
	assert_success
	assert_file_exists "$T/image/opt/pts/lib/systemd/system/postfix.service.d/postfix-tls-setup.conf"
}
