#!/usr/bin/env bats
# Gentoo's package database: Postfix must be installed with USE=ssl.

load helpers

setup_file() {
	pki_common
}

setup() {
	setup_world
	good_bundle
	DB=$T/root/var/db/pkg/mail-mta
}

@test "Postfix built with ssl passes, also with a trailing slash on --root" {
	run "$HELPER" -c "$T/postfix" --root "$T/root/" --conf "$T/conf" \
		--cafile "$PKI/root.pem" --cert "$T/ssl/cert.pem" \
		--key "$T/ssl/key.pem" --chain "$T/ssl/chain.pem" check
	assert_success
}

@test "Postfix without the ssl USE flag is refused with the fix" {
	echo "amd64 berkdb elibc_glibc kernel_linux pam sslv3 libressl" >"$DB/postfix-3.8.4/USE"
	refuses 69 "mail-mta/postfix-3.8.4 was built without the ssl USE flag, so Postfix cannot serve TLS (echo 'mail-mta/postfix ssl' >> /etc/portage/package.use/postfix" \
		deploy_inputs deploy
}

@test "Postfix not installed is refused" {
	rm -r "$DB/postfix-3.8.4"
	mkdir "$DB/postfix-logwatch-1.40.05"
	echo "ssl" >"$DB/postfix-logwatch-1.40.05/USE"
	refuses 69 "Postfix is not installed" deploy_inputs deploy
}

@test "no package database at all means Postfix is not installed" {
	rm -r "$T/root/var"
	refuses 69 "Postfix is not installed" deploy_inputs deploy
}

@test "an entry being merged or hidden is not taken for the installed Postfix" {
	# The installed Postfix has ssl; entries without it that are not the
	# installed package must not count (a -MERGING- one read as installed
	# would refuse the start).
	mkdir "$DB/-MERGING-postfix-3.9.0" "$DB/.postfix-3.9.0"
	echo "amd64 pam" >"$DB/-MERGING-postfix-3.9.0/USE"
	echo "amd64 pam" >"$DB/.postfix-3.9.0/USE"
	run deploy_inputs deploy
	assert_success
	refute_output --partial "without the ssl USE flag"
	# And the other way round: the installed one without ssl is refused
	# whatever an entry being merged says.
	echo "amd64 pam" >"$DB/postfix-3.8.4/USE"
	echo "ssl" >"$DB/-MERGING-postfix-3.9.0/USE"
	echo "ssl" >"$DB/.postfix-3.9.0/USE"
	refuses 69 "mail-mta/postfix-3.8.4 was built without the ssl USE flag" deploy_inputs deploy
}

@test "a missing USE file is refused as an unreadable database" {
	rm "$DB/postfix-3.8.4/USE"
	refuses 66 "$DB/postfix-3.8.4/USE: cannot read Gentoo's record of the installed Postfix" \
		deploy_inputs deploy
}

@test "ssl as the only flag, at the end of the line without newline, counts" {
	printf 'ssl' >"$DB/postfix-3.8.4/USE"
	run deploy_inputs check
	assert_success
}
