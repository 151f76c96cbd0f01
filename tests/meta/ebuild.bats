#!/usr/bin/env bats
# The overlay and the release tarball.  The checks with Portage itself run
# where "ebuild" is on PATH (on Gentoo) and say they are skipped elsewhere.

# shellcheck disable=SC2154 # $stderr: run --separate-stderr
load ../helpers

bats_require_minimum_version 1.5.0

setup() {
	T=$BATS_TEST_TMPDIR
	# This commit's version (BASE_p<commit time>), and the release it
	# leads to: the committed ebuild's and the man page's.
	VERSION=$(make -s -C "$TOP" version)
	BASE=${VERSION%%_p*}
	PKGDIR=$TOP/ebuild/net-mail/postfix-tls-setup
}

# A git repository of its own in $1 holding this tree as it is (committed
# or not), committed at the time $2: the tests' commits never touch the
# checkout's repository.  Outside a checkout (a mutant's copy, whose
# temporary files are in its tmp/), the whole tree but this run's
# temporary files, cleaned of what was built.
scratch_repo() {
	mkdir -p "$1"
	if git -C "$TOP" rev-parse --git-dir >/dev/null 2>&1; then
		git -C "$TOP" ls-files -z --cached --others --exclude-standard |
			tar -C "$TOP" --null -T - -cf - | tar -C "$1" -xf -
	else
		local top run
		top=$(realpath "$TOP") run=$(realpath "$BATS_RUN_TMPDIR")
		tar -C "$top" --exclude="./${run#"$top"/}" -cf - . | tar -C "$1" -xf -
		make -s -C "$1" clean >/dev/null
	fi
	git -C "$1" init -q
	scratch_commit "$1" "$2"
}

# A commit in the scratch repository $1 at the time $2 (any timezone).
scratch_commit() {
	echo "$2" >>"$1/.scratch"
	git -C "$1" add -A
	GIT_AUTHOR_DATE=$2 GIT_COMMITTER_DATE=$2 git -C "$1" -c user.name=t \
		-c user.email=t@example.org commit -q -m "at $2"
}

# Whether Portage orders version $1 below $2: Portage's own vercmp where
# it is importable (Gentoo), else PMS's rule for the one form made here
# (the same BASE, a _p suffix of digits: the larger number is the later;
# the BASE alone is below all of them).
portage_older() {
	if python3 -c 'import portage.versions' 2>/dev/null; then
		python3 -c 'import sys; from portage.versions import vercmp
sys.exit(0 if vercmp(sys.argv[1], sys.argv[2]) < 0 else 1)' "$1" "$2"
	else
		[[ $2 == "$1"_p+([0-9]) ]] && return 0
		[[ $1 =~ ^([0-9.]+)_p([0-9]+)$ ]] || return 1
		local b1=${BASH_REMATCH[1]} p1=${BASH_REMATCH[2]}
		[[ $2 =~ ^([0-9.]+)_p([0-9]+)$ ]] || return 1
		[ "$b1" = "${BASH_REMATCH[1]}" ] && ((10#$p1 < 10#${BASH_REMATCH[2]}))
	fi
}

@test "the version is named in one place and everything agrees with it" {
	cd "$TOP"
	git rev-parse --git-dir >/dev/null 2>&1 || skip "not a git checkout"
	assert_regex "$VERSION" '^[0-9]+\.[0-9]+\.[0-9]+_p[0-9]{14}$'
	assert_equal "$VERSION" "${BASE}_p$(TZ=UTC git log -1 --format=%cd --date=format-local:%Y%m%d%H%M%S)"
	assert_file_exists "$PKGDIR/postfix-tls-setup-$BASE.ebuild"
	grep -q "\"postfix-tls-setup $BASE\"" "$TOP/postfix-tls-setup.8"
	run "$HELPER" --version
	assert_output "postfix-tls-setup $VERSION"
}

@test "every commit's version is above the one before for Portage, in a clone's build and in its tarball's" {
	scratch_repo "$T/c" "2025-01-02 03:04:05 +0200"
	run make -s -C "$T/c" version
	assert_output "${BASE}_p20250102010405"
	first=$output
	run make -s -C "$T/c" -j2 postfix-tls-setup
	assert_success
	run "$T/c/postfix-tls-setup" --version
	assert_output "postfix-tls-setup $first"
	# The next commit, one second later in another timezone; the same
	# build tree rebuilds what names the version.
	scratch_commit "$T/c" "2025-01-02 00:04:06 -0100"
	run make -s -C "$T/c" version
	assert_output "${BASE}_p20250102010406"
	second=$output
	portage_older "$BASE" "$first"
	portage_older "$first" "$second"
	run portage_older "$second" "$first"
	assert_failure
	run make -s -C "$T/c" postfix-tls-setup
	assert_success
	run "$T/c/postfix-tls-setup" --version
	assert_output "postfix-tls-setup $second"
	# The tarball has no .git: it carries the version.
	run make -s -C "$T/c" dist
	assert_success
	tar -xzf "$T/c/dist/postfix-tls-setup-$second.tar.gz" -C "$T"
	assert_file_not_exists "$T/postfix-tls-setup-$second/.git"
	run make -s -C "$T/postfix-tls-setup-$second" version
	assert_output "$second"
}

@test "pkg-config is asked only by what compiles: dist, manifest, overlay and version print no complaint" {
	scratch_repo "$T/c" "2025-01-02 03:04:05 +0000"
	mkdir "$T/distfiles"
	# The first run on Gentoo: libbsd is not installed yet, pkg-config
	# finds nothing and says so on stderr.
	export PKG_CONFIG_LIBDIR=$T/none PKG_CONFIG_PATH=
	run --separate-stderr make -s -C "$T/c" version
	assert_success
	assert_output "${BASE}_p20250102030405"
	assert_equal "$stderr" ""
	for target in dist manifest "overlay DISTDIR=$T/distfiles"; do
		# shellcheck disable=SC2086 # the target and its variable
		run --separate-stderr make -s -C "$T/c" $target
		assert_success
		assert_equal "$stderr" ""
	done
	# What compiles still asks, and hears the complaint.
	run --separate-stderr make -s -C "$T/c" src/util.o
	assert_regex "$stderr" "libbsd-overlay.*not found"
}

@test "make overlay without a DISTDIR says why, and leaves the overlay as it was" {
	scratch_repo "$T/c" "2025-01-02 03:04:05 +0000"
	before=$(cd "$T/c/ebuild" && find . -type f -exec sha256sum {} + | sort)
	run --separate-stderr make -s -C "$T/c" overlay DISTDIR="$T/missing"
	assert_failure
	assert_equal "${stderr%%$'\n'*}" "make overlay: Portage's DISTDIR $T/missing is not a directory: create it (mkdir -p $T/missing) or set DISTDIR in /etc/portage/make.conf"
	# make[N] when the suite itself runs under make (make check).
	assert_regex "${stderr#*$'\n'}" '^make(\[[0-9]+\])?: \*\*\* \[Makefile:[0-9]+: overlay\] Error 1$'
	assert_equal "$(cd "$T/c/ebuild" && find . -type f -exec sha256sum {} + | sort)" "$before"
	assert_file_not_exists "$T/missing"
	if ! command -v portageq >/dev/null; then
		run --separate-stderr env -u DISTDIR make -s -C "$T/c" overlay
		assert_failure
		assert_regex "$stderr" "^make overlay: Portage's portageq did not name its DISTDIR \(is Portage installed\?\); name the directory: make overlay DISTDIR=DIR"
		assert_equal "$(cd "$T/c/ebuild" && find . -type f -exec sha256sum {} + | sort)" "$before"
	fi
}

# pkg_pretend of ebuild $1 (a path in the overlay), run by bash with
# stand-ins for Portage's functions, as Portage sets its variables.
pretend() {
	local e=$1 p
	p=${e##*/}
	p=${p%.ebuild}
	# shellcheck disable=SC2016 # expanded by the inner bash
	bash -c 'inherit() { :; }; eerror() { echo "eerror: $*"; }
		die() { echo "die: $*"; exit 1; }
		EBUILD=$1 P=$2 PN=postfix-tls-setup PV=${2#postfix-tls-setup-} CATEGORY=net-mail
		. "$1" || exit 2
		pkg_pretend' pretend "$e" "$p"
}

@test "the ebuild says when the overlay was not made from the clone's commit: make overlay" {
	scratch_repo "$T/c" "2025-01-02 03:04:05 +0000"
	mkdir "$T/distfiles"
	pkg=$T/c/ebuild/net-mail/postfix-tls-setup
	# A fresh clone: only the committed ebuild, which no Manifest vouches for.
	run pretend "$pkg/postfix-tls-setup-$BASE.ebuild"
	assert_failure 1
	assert_output "eerror: The overlay in $T/c/ebuild offers postfix-tls-setup-$BASE, but the clone is at
eerror: postfix-tls-setup-${BASE}_p20250102030405: run 'make overlay' in $T/c (as root), then emerge again.
die: the overlay was not made from the clone's commit: make overlay"
	run make -s -C "$T/c" overlay DISTDIR="$T/distfiles"
	assert_success
	assert_output "make overlay: ebuild/net-mail/postfix-tls-setup offers postfix-tls-setup-${BASE}_p20250102030405 (commit $(git -C "$T/c" rev-parse --short HEAD)); after every git pull, make overlay again"
	assert_file_contains "$pkg/Manifest" "^# made by make overlay from commit $(git -C "$T/c" rev-parse HEAD)\$"
	assert_file_exists "$T/distfiles/postfix-tls-setup-${BASE}_p20250102030405.tar.gz"
	run pretend "$pkg/postfix-tls-setup-${BASE}_p20250102030405.ebuild"
	assert_success
	assert_output ""
	# A pull without make overlay: the overlay still offers the old commit.
	scratch_commit "$T/c" "2025-01-02 03:04:06 +0000"
	run pretend "$pkg/postfix-tls-setup-${BASE}_p20250102030405.ebuild"
	assert_failure 1
	assert_output --partial "eerror: postfix-tls-setup-${BASE}_p20250102030406: run 'make overlay' in $T/c (as root)"
	# make overlay again: the new commit's ebuild, and the old one gone.
	run make -s -C "$T/c" overlay DISTDIR="$T/distfiles"
	assert_success
	assert_file_not_exists "$pkg/postfix-tls-setup-${BASE}_p20250102030405.ebuild"
	run pretend "$pkg/postfix-tls-setup-${BASE}_p20250102030406.ebuild"
	assert_success
	# The live ebuild, and the overlay copied out of a clone: nothing to compare.
	run pretend "$pkg/postfix-tls-setup-9999.ebuild"
	assert_success
	cp -r "$T/c/ebuild" "$T/copy"
	run pretend "$T/copy/net-mail/postfix-tls-setup/postfix-tls-setup-$BASE.ebuild"
	assert_success
	assert_output ""
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
		# No init system is a dependency (a systemd profile has no OpenRC).
		run grep -E 'sys-apps/(openrc|systemd)' "$e"
		assert_failure 1
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
	cmp "$PKGDIR/postfix-tls-setup-9999.ebuild" "$PKGDIR/postfix-tls-setup-$BASE.ebuild"
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
		postinst "$VERSION" "$PKGDIR/postfix-tls-setup-$BASE.ebuild" \
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
	run "$T/postfix-tls-setup-$VERSION/postfix-tls-setup" --version
	assert_output "postfix-tls-setup $VERSION"
}

@test "make manifest writes this commit's ebuild and the DIST line for the tarball, naming the commit" {
	cd "$TOP"
	git rev-parse --git-dir >/dev/null 2>&1 || skip "not a git checkout"
	cp -r "$TOP" "$T/tree"
	pkg=$T/tree/ebuild/net-mail/postfix-tls-setup
	# An older snapshot's ebuild, left by an earlier make overlay.
	cp "$pkg/postfix-tls-setup-$BASE.ebuild" "$pkg/postfix-tls-setup-${BASE}_p20000101000000.ebuild"
	run make -s -C "$T/tree" manifest
	assert_success
	f=$T/tree/dist/postfix-tls-setup-$VERSION.tar.gz
	assert_equal "$(cat "$pkg/Manifest")" \
		"DIST postfix-tls-setup-$VERSION.tar.gz $(stat -c %s "$f") BLAKE2B $(b2sum "$f" | cut -d' ' -f1) SHA512 $(sha512sum "$f" | cut -d' ' -f1)
# made by make overlay from commit $(git rev-parse HEAD)"
	cmp "$pkg/postfix-tls-setup-$VERSION.ebuild" "$PKGDIR/postfix-tls-setup-$BASE.ebuild"
	assert_equal "$(cd "$pkg" && LC_ALL=C ls -- *.ebuild)" "postfix-tls-setup-$BASE.ebuild
postfix-tls-setup-$VERSION.ebuild
postfix-tls-setup-9999.ebuild"
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
	# What make overlay does, into the copy: this commit's ebuild and the
	# Manifest Portage checks the tarball against.
	make -s manifest EBUILD_DIR="$T/overlay/net-mail/postfix-tls-setup"
	cp "dist/postfix-tls-setup-$VERSION.tar.gz" "$T/distfiles/"
	export DISTDIR=$T/distfiles PORTAGE_TMPDIR=$T/tmp FEATURES="test -userpriv"
	e=$T/overlay/net-mail/postfix-tls-setup/postfix-tls-setup-$VERSION.ebuild
	run ebuild "$e" clean test install
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
	# The hand-off spool survives EAPI 8's stripping of empty directories.
	assert_file_permission 1730 "$image/var/spool/postfix-tls-setup"
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
	make -s manifest EBUILD_DIR="$T/overlay/net-mail/postfix-tls-setup"
	cp "dist/postfix-tls-setup-$VERSION.tar.gz" "$T/distfiles/"
	export DISTDIR=$T/distfiles PORTAGE_TMPDIR=$T/tmp ROOT=$T/root
	e=$T/overlay/net-mail/postfix-tls-setup/postfix-tls-setup-$VERSION.ebuild
	run ebuild "$e" clean merge
	assert_success
	assert_output --partial "postfix-tls-setup now runs before every"
	assert_file_executable "$ROOT/usr/sbin/postfix-tls-setup"
	assert_file_exists "$ROOT/var/db/pkg/net-mail/postfix-tls-setup-$VERSION/CONTENTS"
	run ebuild "$e" clean merge
	assert_success
	refute_output --partial "postfix-tls-setup now runs before every"
	assert_equal "$(qa_notices)" ""
}

@test "the README's keyword lines work whether package.accept_keywords is a directory, a file (older installs) or missing" {
	readme_gentoo_lines | grep -F 'kw' >"$T/kw.sh"
	assert_equal "$(wc -l <"$T/kw.sh")" 3
	# The same lines under $T/etc/portage instead of /etc/portage.
	sed -i "s|/etc/portage/|$T/etc/portage/|g" "$T/kw.sh"
	kw=$T/etc/portage/package.accept_keywords
	mkdir -p "$T/etc/portage"
	line='net-mail/postfix-tls-setup ~amd64'
	# Missing: made a directory, the line in a file of its own.
	run bash -e "$T/kw.sh"
	assert_success
	assert_equal "$(cat "$kw/postfix-tls-setup")" "$line"
	# A file with the admin's lines: ours appended once, theirs kept.
	rm -r "$kw"
	printf 'app-misc/other ~amd64\n' >"$kw"
	run bash -e "$T/kw.sh"
	assert_success
	run bash -e "$T/kw.sh"
	assert_success
	assert_equal "$(cat "$kw")" "app-misc/other ~amd64
$line"
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
	for dep in '>=mail-mta/postfix-3.6[ssl]' dev-libs/libbsd dev-libs/openssl \
	    virtual/pkgconfig; do
		portageq has_version / "$dep" || skip "$dep is not installed: emerge would build it first"
	done
	readme_gentoo_lines >"$T/readme.sh"
	assert_file_contains "$T/readme.sh" '^git clone "\$SRC" /var/db/repos/postfix-tls-setup$'
	assert_file_contains "$T/readme.sh" '^make overlay$'
	assert_file_contains "$T/readme.sh" '^emerge net-mail/postfix-tls-setup$'
	# The lines run as root in a private world: overlays over /etc, /usr
	# and /var take every write (the clone, repos.conf, DISTDIR, the
	# merge itself); the copy the admin has is this checkout.
	# shellcheck disable=SC2016 # expanded by the inner bash
	run env SRC="$TOP" unshare -m --propagation private bash -c '
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
