# postfix-tls-setup's OpenRC hook: sourced by /etc/rc.conf.d/postfix-tls-setup.conf
# for the services postfix and postfix.NAME.  Gentoo's /etc/init.d/postfix
# defines no _pre or _post functions, so OpenRC runs these before its
# start, stop and reload, and after its start and reload.
# Glue only: the helper knows the instance (postfix.NAME uses
# /etc/postfix.NAME), reads the tuning file (no shell does), decides which
# event checks and which skips (a restart checks once, before the stop),
# says what it finds as eerror, ewarn and einfo, and answers with its exit
# status.  See postfix-tls-setup(8).
# shellcheck shell=sh

# The helper, fixed at install time; not a setting.
POSTFIX_TLS_SETUP=/usr/sbin/postfix-tls-setup

# _pts EVENT: the helper as this service's hook.  POSTFIX_TLS_HOOK, when
# /etc/conf.d/postfix sets it, is handed over for the helper to vet.
_pts() {
	if [ -n "${POSTFIX_TLS_HOOK:-}" ]; then
		"${POSTFIX_TLS_SETUP}" "--hook=${POSTFIX_TLS_HOOK}" hook "$1"
	else
		"${POSTFIX_TLS_SETUP}" hook "$1"
	fi
}

start_pre() {
	_pts start_pre
}

stop_pre() {
	_pts stop_pre
}

reload_pre() {
	_pts reload_pre
}

# After a start or reload the helper tries what Postfix serves; it fails
# only when its tuning asks for Postfix to be stopped then
# (POSTFIX_TLS_PROBE=stop): no mail rather than cleartext mail.
start_post() {
	_pts start_post || _pts_stop
}

reload_post() {
	_pts reload_post || _pts_stop
}

_pts_stop() {
	stop
	mark_service_stopped "${RC_SVCNAME}"
	return 1
}
