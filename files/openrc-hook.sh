# postfix-tls-setup's OpenRC hook: sourced by /etc/rc.conf.d/postfix-tls-setup.conf
# for the services postfix and postfix.NAME, and by the postfix-tls
# service.  Gentoo's /etc/init.d/postfix defines no _pre or _post
# functions, so OpenRC runs these before its start, stop and reload (the
# files' check, deploy) and after its start and reload (the handshakes,
# probe).
# It runs at every start: no subshell, pipe or extra program on the way
# when all is well (ebegin and friends are programs of their own).
# It never reads the tuning file: the helper is that file's only reader
# (it reads the hook's switch there too, with --hook), so no shell reads
# a value the helper did not vet.
# shellcheck shell=sh

# The helper, fixed at install time; not a setting (no shell reads the
# tuning file, and no environment sets it).
POSTFIX_TLS_SETUP=/usr/sbin/postfix-tls-setup

# _pts_run COMMAND [OPTION...]: run the helper for this service's Postfix
# instance and show what it says as OpenRC messages: problems as eerror,
# warnings as ewarn, the rest as einfo.  Instance rule as in Gentoo's init
# script: postfix.NAME uses /etc/postfix.NAME and is tuned in
# /etc/conf.d/postfix-tls-setup.NAME.
_pts_run() {
	_pts_cmd=$1
	shift
	case "${RC_SVCNAME}" in
	*.*) _pts_dir=/etc/postfix.${RC_SVCNAME##*.}
	     _pts_conf=/etc/conf.d/postfix-tls-setup.${RC_SVCNAME##*.} ;;
	*)   _pts_dir=/etc/postfix
	     _pts_conf=/etc/conf.d/postfix-tls-setup ;;
	esac
	# A dangling link is the helper's to refuse, not a missing file.
	if [ -e "${_pts_conf}" ] || [ -L "${_pts_conf}" ]; then
		set -- "$@" -c "${_pts_dir}" --conf "${_pts_conf}"
	else
		set -- "$@" -c "${_pts_dir}" --no-conf
	fi

	_pts_out=$("${POSTFIX_TLS_SETUP}" "$@" "${_pts_cmd}" 2>&1)
	_pts_status=$?
	[ -z "${_pts_out}" ] || _pts_show
	[ "${_pts_status}" -eq 0 ] && return 0
	if [ "${_pts_cmd}" = probe ] && [ "${_pts_status}" -eq 76 ]; then
		eerror "postfix-tls-setup: TLS failed after the ${RC_CMD:-start} (exit ${_pts_status}); stopping ${RC_SVCNAME} again, as POSTFIX_TLS_PROBE=stop asks"
	elif [ "${_pts_cmd}" = probe ]; then
		eerror "postfix-tls-setup could not try the TLS listeners (exit ${_pts_status}); ${RC_SVCNAME} was left running"
	else
		eerror "postfix-tls-setup refused (exit ${_pts_status}) for ${_pts_dir}; Postfix was left as it was"
	fi
	return "${_pts_status}"
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

# COMMAND (deploy, or probe) for Postfix, unless the hook is switched
# off.  The helper reads the switch, POSTFIX_TLS_HOOK, from the tuning
# file (--hook), or takes the one OpenRC's own conf.d for the service sets
# (/etc/conf.d/postfix, sourced by OpenRC, not by us) with --hook=VALUE;
# it refuses anything but yes or no.
_pts_hook() {
	if [ -n "${POSTFIX_TLS_HOOK:-}" ]; then
		_pts_run "${1:-deploy}" "--hook=${POSTFIX_TLS_HOOK}"
	else
		_pts_run "${1:-deploy}" --hook
	fi
}

# After a start, restart or reload: each TLS listener tried as a
# verifying client would (postfix-tls-setup probe).  What fails is said;
# the helper exits non-zero only when its tuning says
# POSTFIX_TLS_PROBE=stop, and then, for a failed handshake (76), Postfix
# is stopped again (no mail rather than cleartext mail) and OpenRC marks
# it stopped.  Any other failure tried nothing: Postfix is left running.
_pts_probe() {
	_pts_hook probe && return 0
	[ "${_pts_status}" -eq 76 ] || return 0
	stop	# the service's own: Postfix down again
	mark_service_stopped "${RC_SVCNAME}"
	return 1
}

start_post() {
	_pts_probe
}

reload_post() {
	_pts_probe
}

# A restart runs stop_pre (RC_CMD=restart) and then, in another shell,
# start_pre with the same RC_CMD; but a restart of a stopped service runs
# start_pre alone.  So stop_pre leaves a mark when its check passed, and
# start_pre skips the check only on the mark of this very restart: the
# pid of its openrc-run process and that process's start time (field 22
# of /proc/PID/stat), which no other command shares.  OpenRC clears
# service_set_value's store when the stop ends, hence a file of our own
# in OpenRC's root-only directory.
_pts_restart_mark() {
	_pts_mark=${RC_TMPDIR:-/run/openrc/tmp}/postfix-tls-setup.${RC_SVCNAME}
	_pts_token=
	read -r _pts_stat <"/proc/${RC_RUNSCRIPT_PID:-$PPID}/stat" || return 0
	# shellcheck disable=SC2086 # split into the fields after the name
	set -- ${_pts_stat##*) }
	[ $# -ge 20 ] && shift 19 && _pts_token="${RC_RUNSCRIPT_PID:-$PPID} $1"
}

start_pre() {
	if [ "${RC_CMD:-}" = restart ]; then
		_pts_restart_mark
		_pts_seen=
		read -r _pts_seen 2>/dev/null <"${_pts_mark}"
		[ -n "${_pts_token}" ] && [ "${_pts_seen}" = "${_pts_token}" ] &&
			return 0
	fi
	_pts_hook
}

# reload re-checks, so a renewed but broken certificate never reaches a
# running Postfix: the refusal stops the reload and the old bundle stays.
reload_pre() {
	_pts_hook
}

# A restart is stop then start: check before stopping, so that a broken
# certificate leaves the running Postfix up instead of taking it down.
stop_pre() {
	[ "${RC_CMD:-}" = restart ] || return 0
	_pts_hook || return
	_pts_restart_mark
	[ -z "${_pts_token}" ] ||
		printf '%s\n' "${_pts_token}" 2>/dev/null >"${_pts_mark}"
}
