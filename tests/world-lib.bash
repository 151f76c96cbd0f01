# Functions for end-to-end scenarios, sourced inside the private world
# (tests/world.sh).  $PKI holds the test PKI; HOST is the server's name.
# shellcheck shell=bash

HOST=${HOST:-mail.example.org}

# make_postfix DIR ADDRESS: a Postfix instance in DIR listening on ADDRESS
# (127.0.0.x) port 25, logging to /var/log, serving DIR/certificate.pem
# with the key /etc/ssl/mail/key.pem.  DIR other than /etc/postfix gets
# its own queue and is made known to the default instance.
make_postfix() {
	local dir=$1 addr=$2 name
	name=$(basename "$dir")
	mkdir -p "$dir" /etc/ssl/mail
	[ -f "$dir/master.cf" ] || cp /etc/postfix/master.cf "$dir/master.cf"
	cat >"$dir/main.cf" <<-CF
	compatibility_level = 3.6
	maillog_file = /var/log/$name.log
	inet_interfaces = $addr
	inet_protocols = ipv4
	myhostname = $HOST
	mydestination =
	alias_maps =
	alias_database =
	smtpd_tls_security_level = may
	smtpd_tls_cert_file = $dir/certificate.pem
	smtpd_tls_key_file = /etc/ssl/mail/key.pem
	CF
	if [ "$dir" != /etc/postfix ]; then
		postconf -c "$dir" -e "queue_directory = /var/spool/$name" \
			"data_directory = /var/lib/$name" \
			"multi_instance_name = $name"
		touch /etc/postfix/main.cf
		postconf -e "alternate_config_directories = $dir"
	fi
	# No chroot: the world has no copies of /etc files for one.
	postconf -c "$dir" -F '*/*/chroot = n'
	mkdir -p "$(postconf -c "$dir" -xh queue_directory)"
	install -d -o postfix "$(postconf -c "$dir" -xh data_directory)"
	postfix -c "$dir" post-install create-missing >/dev/null 2>&1
	postfix -c "$dir" check >/dev/null 2>&1
	touch -d '1 hour ago' "$dir/main.cf" /etc/postfix/main.cf
}

# add_wrapper_service DIR: the port-465 "submissions" service (RFC 8314).
add_wrapper_service() {
	postconf -c "$1" -M "submissions/inet=submissions inet n - n - - smtpd"
	postconf -c "$1" -P "submissions/inet/smtpd_tls_wrappermode=yes"
	touch -d '1 hour ago' "$1/main.cf"
}

# use_tls LEAF [CHAIN...]: the inputs as an admin keeps them: the leaf in
# /etc/ssl/mail/cert.pem, its key in key.pem, the CA certificates (in the
# order given) in chain.pem.
use_tls() {
	local leaf=$1 c
	shift
	cp "$PKI/$leaf.pem" /etc/ssl/mail/cert.pem
	cp "$PKI/$leaf.key" /etc/ssl/mail/key.pem
	: >/etc/ssl/mail/chain.pem
	for c in "$@"; do cat "$PKI/$c.pem" >>/etc/ssl/mail/chain.pem; done
}

# dual_bundles: certbot's RSA lineage ($PKI/rsa.*) in /etc/ssl/rsa beside
# the ECDSA one use_tls set up, each deployed as a bundle of its own
# (rsa.pem, ecdsa.pem) that smtpd_tls_chain_files names, RSA first.
dual_bundles() {
	mkdir -p /etc/ssl/rsa
	cp "$PKI/rsa.pem" /etc/ssl/rsa/cert.pem
	cp "$PKI/rsa.key" /etc/ssl/rsa/key.pem
	cat >/etc/conf.d/postfix-tls-setup <<-CONF
	POSTFIX_TLS_CERT=/etc/ssl/rsa/cert.pem
	POSTFIX_TLS_KEY=/etc/ssl/rsa/key.pem
	POSTFIX_TLS_CHAIN=/etc/ssl/mail/chain.pem
	POSTFIX_TLS_BUNDLE=/etc/postfix/rsa.pem
	POSTFIX_TLS_CERT_2=/etc/ssl/mail/cert.pem
	POSTFIX_TLS_KEY_2=/etc/ssl/mail/key.pem
	POSTFIX_TLS_CHAIN_2=/etc/ssl/mail/chain.pem
	POSTFIX_TLS_BUNDLE_2=/etc/postfix/ecdsa.pem
	POSTFIX_TLS_CAFILE=$PKI/root.pem
	CONF
	postconf -X smtpd_tls_cert_file smtpd_tls_key_file
	postconf -e "smtpd_tls_chain_files = /etc/postfix/rsa.pem, /etc/postfix/ecdsa.pem"
}

# sni_two: a.example.net and b.example.net, each with its key and chain
# in /etc/ssl/sni, in the source /etc/postfix/sni (0644, its two lines
# written the two ways Postfix allows: comma and space) and its map
# hash:/etc/postfix/sni, which main.cf names.
sni_two() {
	local d
	mkdir -p /etc/ssl/sni
	for d in a.example.net b.example.net; do
		cp "$PKI/$d.key" "/etc/ssl/sni/$d.key"
		cat "$PKI/$d.pem" "$PKI/chain.pem" >"/etc/ssl/sni/$d.pem"
	done
	printf '%s\n' "a.example.net /etc/ssl/sni/a.example.net.key, /etc/ssl/sni/a.example.net.pem" \
		"b.example.net /etc/ssl/sni/b.example.net.key /etc/ssl/sni/b.example.net.pem" >/etc/postfix/sni
	chmod 0644 /etc/postfix/sni
	postmap -F hash:/etc/postfix/sni
	postconf -e "tls_server_sni_maps = hash:/etc/postfix/sni"
}

# tune FILE: the helper's settings for this world (trusting the test root).
tune() {
	cat >"$1" <<-CONF
	POSTFIX_TLS_CERT=/etc/ssl/mail/cert.pem
	POSTFIX_TLS_KEY=/etc/ssl/mail/key.pem
	POSTFIX_TLS_CHAIN=/etc/ssl/mail/chain.pem
	POSTFIX_TLS_CAFILE=$PKI/root.pem
	CONF
}

# wait_port ADDR PORT: until something accepts connections (10 s at most).
wait_port() {
	local _
	for _ in $(seq 100); do
		(exec 3<>"/dev/tcp/$1/$2") 2>/dev/null && return 0
		sleep 0.1
	done
	echo "nothing listens on $1:$2" >&2
	return 1
}

# starttls ADDR [PORT]: a verifying client's verdict, as s_client prints it.
starttls() {
	wait_port "$1" "${2:-25}" &&
	timeout 20 openssl s_client -starttls smtp -connect "$1:${2:-25}" \
		-CAfile "$PKI/root.pem" -verify_return_error \
		-verify_hostname "$HOST" -brief </dev/null 2>&1
}

# wrapper ADDR PORT: the same for a TLS-from-the-start (port 465) service.
wrapper() {
	wait_port "$1" "$2" &&
	timeout 20 openssl s_client -connect "$1:$2" -CAfile "$PKI/root.pem" \
		-verify_return_error -verify_hostname "$HOST" -brief </dev/null 2>&1
}

# served_chain ADDR [STARTTLS]: subjects of the chain the server sends.
served_chain() {
	local opt=()
	[ "${2:-starttls}" = starttls ] && opt=(-starttls smtp)
	timeout 20 openssl s_client "${opt[@]}" -connect "$1" -showcerts \
		</dev/null 2>/dev/null | sed -n 's/^ *[0-9]* s:.*CN *= *//p' |
		tr '\n' ' '
	echo
}

# running DIR: is that instance's master up?
running() {
	postfix -c "${1:-/etc/postfix}" status >/dev/null 2>&1
}

# say WHAT: a marker line the test asserts on.
say() {
	printf '@@ %s\n' "$*"
}

# checks COMMAND...: run an rc-service command and say how many times the
# helper checked the files during it, by the one line each check says:
# the tuning file sets POSTFIX_TLS_WARN_DAYS so high (and the warning
# fraction, POSTFIX_TLS_WARN_LIFETIME, to 1/1) that every check
# warns that the certificate expires (as an ewarn line).  Its own output
# goes on as usual.
checks() {
	local out rc
	out=$("$@" 2>&1)
	rc=$?
	printf '%s\n' "$out"
	say "$* => $rc checks=$(grep -c 'warning: .*certificate expires in' <<<"$out")"
}

helper_runs() {
	grep -c ' deploy$' /run/pts-runs
}
