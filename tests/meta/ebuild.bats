#!/usr/bin/env bats
# The overlay and the release tarball.  The checks with Portage itself run
# where "ebuild" is on PATH (on Gentoo) and say they are skipped elsewhere.

load ../helpers

setup() {
	T=$BATS_TEST_TMPDIR
	VERSION=$(make -s -C "$TOP" version)
	PKGDIR=$TOP/ebuild/net-mail/postfix-tls-setup
}

@test "the version is named in one place and everything agrees with it" {
	assert_regex "$VERSION" '^[0-9]+\.[0-9]+\.[0-9]+$'
	assert_file_exists "$PKGDIR/postfix-tls-setup-$VERSION.ebuild"
	grep -q "\"postfix-tls-setup $VERSION\"" "$TOP/postfix-tls-setup.8"
	run "$HELPER" --version
	assert_output "postfix-tls-setup $VERSION"
}

@test "the overlay is an ebuild repository an admin can add through repos.conf" {
	assert_equal "$(cat "$TOP/ebuild/profiles/repo_name")" postfix-tls-setup
	assert_file_contains "$TOP/ebuild/metadata/layout.conf" '^masters = gentoo$'
	assert_file_contains "$TOP/ebuild/metadata/layout.conf" '^thin-manifests = true$'
	assert_file_exists "$PKGDIR/metadata.xml"
	for e in "$PKGDIR"/*.ebuild; do
		assert_file_contains "$e" '^EAPI=8$'
		assert_file_contains "$e" '>=mail-mta/postfix-3.6\[ssl\]'
		assert_file_contains "$e" 'dev-libs/openssl:='
		assert_file_contains "$e" 'test? ( dev-util/bats )'
		assert_file_contains "$e" '^	sys-apps/openrc$'
		# systemd's drop-ins, where the systemd eclass says units go.
		assert_file_contains "$e" '^inherit systemd toolchain-funcs$'
		assert_file_contains "$e" 'SYSTEMDUNITDIR="\$(systemd_get_systemunitdir)"'
		assert_file_contains "$e" 'install-systemd$'
	done
}

@test "the live ebuild is a file of its own with the versioned ebuild's text" {
	cd "$TOP"
	git rev-parse --git-dir >/dev/null 2>&1 || skip "not a git checkout"
	# A symbolic link breaks where the overlay is copied or synced without
	# links, and git stores it as a link (mode 120000), not as an ebuild.
	run git ls-files -s ebuild/net-mail/postfix-tls-setup/postfix-tls-setup-9999.ebuild
	assert_output --regexp '^100644 '
	assert_link_not_exists "$PKGDIR/postfix-tls-setup-9999.ebuild"
	cmp "$PKGDIR/postfix-tls-setup-9999.ebuild" "$PKGDIR/postfix-tls-setup-$VERSION.ebuild"
}

# pkg_postinst of the versioned ebuild, run by bash with stand-ins for
# Portage's functions; REPLACING_VERSIONS as Portage sets it.
postinst() {
	local replacing=$1
	mkdir -p "$T/root/etc/conf.d"
	# shellcheck disable=SC2016 # expanded by the inner bash
	bash -c 'inherit() { :; }; elog() { echo "elog: $*"; }
		ewarn() { echo "ewarn: $*"; }
		PV=$1 CATEGORY=net-mail PF=postfix-tls-setup-$1
		. "$2" || exit 1
		EROOT=$3 REPLACING_VERSIONS=$4 pkg_postinst' \
		postinst "$VERSION" "$PKGDIR/postfix-tls-setup-$VERSION.ebuild" \
		"$T/root" "$replacing"
}

@test "the notes of a first install are not repeated at every upgrade" {
	run postinst ""
	assert_success
	assert_output --partial "elog: postfix-tls-setup now runs before every"
	assert_output --partial "elog:   emerge --config =net-mail/postfix-tls-setup-$VERSION"
	run postinst "0.0.9"
	assert_success
	assert_output ""
}

@test "the warning about a conf.d file that overrides the hook comes at every upgrade" {
	mkdir -p "$T/root/etc/conf.d"
	printf 'start_pre() {\n\t:\n}\n' >"$T/root/etc/conf.d/postfix.out"
	run postinst "0.0.9"
	assert_success
	assert_output "ewarn: $T/root/etc/conf.d/postfix.out defines its own _pre function, which replaces
ewarn: postfix-tls-setup's hook: call _pts start_pre (and so on) from it."
	refute_output --partial "elog:"
}

@test "make dist is byte-reproducible and its tarball builds and passes the smoke tests" {
	cd "$TOP"
	git rev-parse --git-dir >/dev/null 2>&1 || skip "not a git checkout"
	run make -s dist
	assert_success
	first=$(sha256sum <"dist/postfix-tls-setup-$VERSION.tar.gz")
	run make -s dist
	assert_equal "$(sha256sum <"dist/postfix-tls-setup-$VERSION.tar.gz")" "$first"
	tar -xzf "dist/postfix-tls-setup-$VERSION.tar.gz" -C "$T"
	run make -s -C "$T/postfix-tls-setup-$VERSION" CFLAGS="-O2 -Werror"
	assert_success
	run bats "$T/postfix-tls-setup-$VERSION/tests/cli/smoke.bats"
	assert_success
	assert_output --partial "ok 4 "
}

@test "make manifest writes the DIST line for the tarball" {
	cd "$TOP"
	git rev-parse --git-dir >/dev/null 2>&1 || skip "not a git checkout"
	cp -r "$TOP" "$T/tree"
	run make -s -C "$T/tree" manifest
	assert_success
	f=$T/tree/dist/postfix-tls-setup-$VERSION.tar.gz
	assert_equal "$(cat "$T/tree/ebuild/net-mail/postfix-tls-setup/Manifest")" \
		"DIST postfix-tls-setup-$VERSION.tar.gz $(stat -c %s "$f") BLAKE2B $(b2sum "$f" | cut -d' ' -f1) SHA512 $(sha512sum "$f" | cut -d' ' -f1)"
}

# Portage reads the overlay and fetches as its own user (portage), as on
# any Gentoo machine: let it through bats' private directories, and give
# it the test's DISTDIR as Gentoo gives it /var/cache/distfiles.
portage_dirs() {
	local d=$T
	mkdir -p "$T/distfiles" "$T/tmp"
	while [ "$d" != "$(dirname "$BATS_RUN_TMPDIR")" ] && [ "$d" != / ]; do
		chmod o+x "$d"
		d=$(dirname "$d")
	done
	if id portage >/dev/null 2>&1; then
		chown portage:portage "$T/distfiles"
	fi
	# bats puts its libexec first on PATH, where "bats" needs functions
	# exported by the bats wrapper, which Portage does not pass on.
	PATH=${PATH//"${BATS_LIBEXEC:-/nonexistent}:"/}
}

# The QA notices in $output but the one about sonames, which says only that
# the ROOT's package database lacks libc, libbsd and libcrypto.
qa_notices() {
	grep -o 'QA Notice: [^:]*' <<<"$output" | grep -v 'Unresolved soname dependencies' || true
}

@test "Portage builds, tests and installs the versioned ebuild" {
	command -v ebuild >/dev/null || skip "Portage's ebuild is not on PATH (Gentoo only)"
	cd "$TOP"
	cp -r "$TOP/ebuild" "$T/overlay"
	portage_dirs
	make -s dist
	cp "dist/postfix-tls-setup-$VERSION.tar.gz" "$T/distfiles/"
	export DISTDIR=$T/distfiles PORTAGE_TMPDIR=$T/tmp FEATURES="test -userpriv"
	e=$T/overlay/net-mail/postfix-tls-setup/postfix-tls-setup-$VERSION.ebuild
	run ebuild "$e" manifest clean test install
	assert_success
	# Every QA notice fails the test but the one about sonames.
	assert_equal "$(qa_notices)" ""
	assert_output --partial "ok 4 "
	image=$PORTAGE_TMPDIR/portage/net-mail/postfix-tls-setup-$VERSION/image
	assert_file_executable "$image/usr/sbin/postfix-tls-setup"
	assert_file_exists "$image/etc/init.d/postfix-tls"
	assert_file_exists "$image/etc/conf.d/postfix-tls-setup"
	assert_file_exists "$image/etc/rc.conf.d/postfix-tls-setup.conf"
	assert_file_exists "$image/usr/share/postfix-tls-setup/openrc-hook.sh"
	ls "$image"/usr/share/man/man8/postfix-tls-setup.8*
	# The systemd drop-ins, in the eclass's unit directory.
	n=0
	for f in "$image"/{usr/,}lib/systemd/system/postfix{,@}.service.d/postfix-tls-setup.conf; do
		[ ! -e "$f" ] || n=$((n + 1))
	done
	assert_equal "$n" 2
	# One way to install: the ebuild's files are make install's.
	make -s install install-openrc DESTDIR="$T/make" PREFIX=/usr SYSCONFDIR=/etc
	for f in etc/init.d/postfix-tls etc/conf.d/postfix-tls-setup \
	    etc/rc.conf.d/postfix-tls-setup.conf usr/share/postfix-tls-setup/openrc-hook.sh; do
		cmp "$image/$f" "$T/make/$f"
	done
}

@test "Portage merges into a fresh ROOT, and the notes of the first install are not repeated" {
	command -v ebuild >/dev/null || skip "Portage's ebuild is not on PATH (Gentoo only)"
	cd "$TOP"
	cp -r "$TOP/ebuild" "$T/overlay"
	portage_dirs
	mkdir -p "$T/root"
	make -s dist
	cp "dist/postfix-tls-setup-$VERSION.tar.gz" "$T/distfiles/"
	export DISTDIR=$T/distfiles PORTAGE_TMPDIR=$T/tmp ROOT=$T/root
	e=$T/overlay/net-mail/postfix-tls-setup/postfix-tls-setup-$VERSION.ebuild
	run ebuild "$e" manifest clean merge
	assert_success
	assert_output --partial "postfix-tls-setup now runs before every"
	assert_file_executable "$ROOT/usr/sbin/postfix-tls-setup"
	assert_file_exists "$ROOT/var/db/pkg/net-mail/postfix-tls-setup-$VERSION/CONTENTS"
	run ebuild "$e" clean merge
	assert_success
	refute_output --partial "postfix-tls-setup now runs before every"
	assert_equal "$(qa_notices)" ""
}

# The README's lines for Gentoo: the first sh block of "## On Gentoo".
readme_gentoo_lines() {
	awk '/^## On Gentoo/ { g = 1 } g && /^```sh$/ { c = 1; next }
		c && /^```$/ { exit } c' "$TOP/README.md"
}

@test "the README's Gentoo lines install the package from a fresh clone with real Portage" {
	command -v emerge >/dev/null || skip "Portage's emerge is not on PATH (Gentoo only)"
	need_root
	cd "$TOP"
	git rev-parse --git-dir >/dev/null 2>&1 || skip "not a git checkout"
	for dep in '>=mail-mta/postfix-3.6[ssl]' sys-apps/openrc dev-libs/libbsd dev-libs/openssl \
	    virtual/pkgconfig; do
		portageq has_version / "$dep" || skip "$dep is not installed: emerge would build it first"
	done
	readme_gentoo_lines >"$T/readme.sh"
	assert_file_contains "$T/readme.sh" '^git clone https://github.com/postfix-tls-setup/postfix-tls-setup.git '
	assert_file_contains "$T/readme.sh" '^make overlay$'
	assert_file_contains "$T/readme.sh" '^emerge net-mail/postfix-tls-setup$'
	# The lines run as root in a private world: overlays over /etc, /usr
	# and /var take every write (the clone, repos.conf, DISTDIR, the
	# merge itself); the clone's URL leads to this checkout's commit.
	# shellcheck disable=SC2016 # expanded by the inner bash
	run env GIT_CONFIG_COUNT=1 GIT_CONFIG_KEY_0="url.$TOP.insteadOf" \
		GIT_CONFIG_VALUE_0=https://github.com/postfix-tls-setup/postfix-tls-setup.git \
		unshare -m --propagation private bash -c '
		set -e
		for d in etc usr var; do
			mkdir -p "$1/ov/$d.up" "$1/ov/$d.wk"
			mount -t overlay overlay \
				-o "lowerdir=/$d,upperdir=$1/ov/$d.up,workdir=$1/ov/$d.wk" "/$d"
		done
		cd /
		bash -ex "$1/readme.sh"' readme "$T"
	assert_success
	assert_output --partial ">>> Completed (1 of 1) net-mail/postfix-tls-setup-$VERSION::postfix-tls-setup"
	refute_output --partial "QA Notice"
	assert_file_executable "$T/ov/usr.up/sbin/postfix-tls-setup"
	assert_file_exists "$T/ov/etc.up/init.d/postfix-tls"
	assert_file_exists "$T/ov/etc.up/rc.conf.d/postfix-tls-setup.conf"
	assert_file_exists "$T/ov/var.up/db/pkg/net-mail/postfix-tls-setup-$VERSION/CONTENTS"
	assert_file_exists "$T/ov/var.up/db/repos/postfix-tls-setup/ebuild/net-mail/postfix-tls-setup/Manifest"
}
