# Copyright 2026 postfix-tls-setup authors
# Distributed under the terms of the GNU General Public License v2
# shellcheck shell=bash disable=SC2034 # the variables are read by Portage

EAPI=8

inherit systemd toolchain-funcs

DESCRIPTION="Assemble, verify and install Postfix's TLS certificate, or refuse to start"
HOMEPAGE="https://github.com/postfix-tls-setup/postfix-tls-setup"
if [[ ${PV} == 9999 ]]; then
	inherit git-r3
	EGIT_REPO_URI="https://github.com/postfix-tls-setup/postfix-tls-setup.git"
else
	SRC_URI="https://github.com/postfix-tls-setup/postfix-tls-setup/releases/download/v${PV}/${P}.tar.gz"
	KEYWORDS="~amd64"
fi

LICENSE="ISC"
SLOT="0"
IUSE="test"
RESTRICT="!test? ( test )"

DEPEND="
	dev-libs/libbsd
	dev-libs/openssl:=
"
# No init system is a dependency: the OpenRC hook and the systemd
# drop-ins are inert files until the init system that reads them runs
# Postfix, and a systemd profile need not have OpenRC.
RDEPEND="
	${DEPEND}
	>=mail-mta/postfix-3.6[ssl]
"
BDEPEND="
	virtual/pkgconfig
	test? ( dev-util/bats )
"

pkg_pretend() {
	# The overlay is used from a clone, where "make overlay" writes the
	# checked-out commit's ebuild, Manifest and tarball (README, "On
	# Gentoo").  Forgotten after a pull, emerge would rebuild the older
	# commit without a word; in a fresh clone it would end in Portage's
	# bare "VERIFY FAILED".  Compare with the clone's own version (the
	# Makefile's rule); the live ebuild, and an overlay outside a clone,
	# have nothing to compare.
	[[ ${PV} == 9999 ]] && return
	local clone=${EBUILD%/ebuild/"${CATEGORY}"/"${PN}"/*} head
	[[ ${clone} != "${EBUILD}" && -e ${clone}/.git && -f ${clone}/Makefile ]] || return 0
	head=$(make -s -C "${clone}" --no-print-directory version 2>/dev/null) || return 0
	[[ ${head} == "${PV}" ]] && return
	eerror "The overlay in ${clone}/ebuild offers ${P}, but the clone is at"
	eerror "${PN}-${head}: run 'make overlay' in ${clone} (as root), then emerge again."
	die "the overlay was not made from the clone's commit: make overlay"
}

src_compile() {
	# The paths the helper knows (its tuning file, Postfix's directory)
	# are the ones src_install puts things in.
	emake CC="$(tc-getCC)" PKG_CONFIG="$(tc-getPKG_CONFIG)" \
		PREFIX="${EPREFIX}/usr" SYSCONFDIR="${EPREFIX}/etc"
}

src_test() {
	# The unit tier and the smoke tests run as the portage user in the
	# sandbox; the rest of the suite needs root, namespaces and a real
	# Postfix.
	emake CC="$(tc-getCC)" PKG_CONFIG="$(tc-getPKG_CONFIG)" \
		PTS_PASSES=plain check-unit
	bats tests/cli/smoke.bats || die "tests failed"
}

src_install() {
	# The Makefile's install targets, as "make install install-openrc"
	# does by hand: the files then name each other by the same paths.
	emake DESTDIR="${D}" PREFIX="${EPREFIX}/usr" SYSCONFDIR="${EPREFIX}/etc" \
		install install-openrc
	# systemd's drop-ins, in the unit directory as Gentoo has it: the one
	# for mail-mta/postfix's postfix.service, and the one for a
	# postfix@.service (inert where no such unit exists).
	emake DESTDIR="${D}" PREFIX="${EPREFIX}/usr" SYSCONFDIR="${EPREFIX}/etc" \
		SYSTEMDUNITDIR="$(systemd_get_systemunitdir)" \
		SYSTEMD_DROPINS="postfix.service.d postfix@.service.d" install-systemd
	# EAPI 8 drops empty directories from the image (a QA notice says
	# so): keep the hand-off spool, with the mode make install gave it
	# (keepdir's dodir resets it).
	keepdir /var/spool/postfix-tls-setup
	fperms 1730 /var/spool/postfix-tls-setup
	einstalldocs
}

pkg_postinst() {
	if [[ -z ${REPLACING_VERSIONS} ]]; then
		elog "postfix-tls-setup now runs before every 'rc-service postfix start',"
		elog "'restart' and 'reload' (hook: /etc/rc.conf.d/postfix-tls-setup.conf)"
		elog "and refuses to start Postfix when its TLS is broken."
		elog "Point it at your certificate in /etc/conf.d/postfix-tls-setup"
		elog "(postfix-tls-setup.NAME for postfix.NAME), then check with:"
		elog "  emerge --config =${CATEGORY}/${PF}"
		elog "Switch the hook off with POSTFIX_TLS_HOOK=\"no\" there."
		elog "Under systemd, 'systemctl start' and 'reload postfix' run it too"
		elog "(drop-in: $(systemd_get_systemunitdir)/postfix.service.d/)."
	fi
	local f
	for f in "${EROOT}"/etc/conf.d/postfix "${EROOT}"/etc/conf.d/postfix.*; do
		[[ -f ${f} ]] || continue
		if grep -Eq '^[[:space:]]*(start|reload|stop)_pre[[:space:]]*\(' "${f}"; then
			ewarn "${f} defines its own _pre function, which replaces"
			ewarn "postfix-tls-setup's hook: call _pts start_pre (and so on) from it."
		fi
	done
}

pkg_config() {
	local conf=${EROOT}/etc/conf.d/postfix-tls-setup
	local args=( -c "${EROOT}/etc/postfix" --root "${ROOT:-/}" --no-conf )
	[[ -e ${conf} ]] && args=( -c "${EROOT}/etc/postfix" --root "${ROOT:-/}" --conf "${conf}" )
	"${EROOT}"/usr/sbin/postfix-tls-setup "${args[@]}" check ||
		die "postfix-tls-setup found problems (see above)"
}
