# postfix-tls-setup's OpenRC hook: sourced by /etc/rc.conf.d/postfix-tls-setup.conf
# for the services postfix and postfix.NAME, and by the postfix-tls-setup
# service.  Gentoo's /etc/init.d/postfix defines no _pre functions, so
# OpenRC runs these before its start, stop and reload.
# It runs at every start: no subshell, pipe or extra program on the way
# when all is well (ebegin and friends are programs of their own).
# shellcheck shell=sh

: "${POSTFIX_TLS_SETUP:=/usr/sbin/postfix-tls-setup}"

# Run the helper for this service's Postfix instance and show what it says
# as OpenRC messages: problems as eerror, warnings as ewarn, changes as einfo.
# Instance rule as in Gentoo's init script: postfix.NAME uses /etc/postfix.NAME
# and is tuned in /etc/conf.d/postfix-tls-setup.NAME.
_pts_run() {
	_pts_cmd=$1
	case "${RC_SVCNAME}" in
	*.*) _pts_dir=/etc/postfix.${RC_SVCNAME##*.}
	     _pts_conf=/etc/conf.d/postfix-tls-setup.${RC_SVCNAME##*.} ;;
	*)   _pts_dir=/etc/postfix
	     _pts_conf=/etc/conf.d/postfix-tls-setup ;;
	esac
	_pts_hook_setting
	if ! yesno "${_pts_hook}"; then
		einfo "postfix-tls-setup is switched off (POSTFIX_TLS_HOOK in ${_pts_conf})"
		return 0
	fi
	set -- -c "${_pts_dir}" --no-conf
	[ -e "${_pts_conf}" ] && set -- -c "${_pts_dir}" --conf "${_pts_conf}"

	_pts_out=$("${POSTFIX_TLS_SETUP}" "$@" "${_pts_cmd}" 2>&1)
	_pts_status=$?
	[ -z "${_pts_out}" ] || _pts_show
	[ "${_pts_status}" -eq 0 ] && return 0
	eerror "postfix-tls-setup refused (exit ${_pts_status}) for ${_pts_dir}; Postfix was left as it was"
	return "${_pts_status}"
}

# POSTFIX_TLS_HOOK from the environment (e.g. /etc/conf.d/postfix) or from
# the tuning file, which postfix-tls-setup keeps shell-compatible (OpenRC
# sources it too, for the postfix-tls-setup service).
_pts_hook_setting() {
	_pts_hook=${POSTFIX_TLS_HOOK:-}
	if [ -z "${_pts_hook}" ] && [ -r "${_pts_conf}" ]; then
		# shellcheck disable=SC1090 # the instance's own tuning file
		. "${_pts_conf}"
		_pts_hook=${POSTFIX_TLS_HOOK:-yes}
		unset POSTFIX_TLS_HOOK
	fi
	: "${_pts_hook:=yes}"
}

_pts_show() {
	while IFS= read -r _pts_line; do
		case "${_pts_line}" in
		"") ;;
		"postfix-tls-setup: warning: "*) ewarn "${_pts_line}" ;;
		"postfix-tls-setup: "*) eerror "${_pts_line}" ;;
		*) einfo "${_pts_line}" ;;
		esac
	done <<-EOF
	${_pts_out}
	EOF
}

start_pre() {
	_pts_run deploy
}

# reload re-checks, so a renewed but broken certificate never reaches a
# running Postfix: the refusal stops the reload and the old bundle stays.
reload_pre() {
	_pts_run deploy
}

# A restart is stop then start: check before stopping, so that a broken
# certificate leaves the running Postfix up instead of taking it down.
stop_pre() {
	[ "${RC_CMD:-}" = restart ] || return 0
	_pts_run deploy
}
