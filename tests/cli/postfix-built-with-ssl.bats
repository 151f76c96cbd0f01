#!/usr/bin/env bats
# Gentoo's package database: Postfix must be installed with USE=ssl.

load ../helpers

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
	# The installed Postfix has ssl; the entries beside it do not: counting
	# either of them would refuse this run.
	mkdir "$DB/-MERGING-postfix-3.9.0" "$DB/.postfix-3.9.0"
	echo "amd64 pam" >"$DB/-MERGING-postfix-3.9.0/USE"
	echo "amd64 pam" >"$DB/.postfix-3.9.0/USE"
	run deploy_inputs check
	assert_success
	assert_line "ok: $BUNDLE would be served with 3 certificates"
	# Alone, they are no installed Postfix.
	rm -r "$DB/postfix-3.8.4"
	refuses 69 "Postfix is not installed" deploy_inputs deploy
	# And the other way round: the installed one without ssl is refused
	# whatever an entry being merged says.
	mkdir -p "$T/root/var/db/pkg/mail-mta/postfix-3.8.4"
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

@test "a FIFO as USE is refused without hanging" {
	rm "$DB/postfix-3.8.4/USE"
	mkfifo "$DB/postfix-3.8.4/USE"
	refuses 77 "$DB/postfix-3.8.4/USE: is a FIFO, not a regular file; Portage never makes one there (re-emerge mail-mta/postfix)" \
		timeout 10 "$HELPER" -c "$T/postfix" --root "$T/root" --conf "$T/conf" \
		--cafile "$PKI/root.pem" --cert "$T/ssl/cert.pem" \
		--key "$T/ssl/key.pem" --chain "$T/ssl/chain.pem" deploy
}

@test "a symlinked postfix entry is refused, not followed" {
	# It points at a record with ssl; the real one has none.
	mkdir -p "$T/elsewhere/postfix-3.9.0"
	echo "ssl" >"$T/elsewhere/postfix-3.9.0/USE"
	rm -r "$DB/postfix-3.8.4"
	ln -s "$T/elsewhere/postfix-3.9.0" "$DB/postfix-3.9.0"
	refuses 77 "$DB/postfix-3.9.0: is a symbolic link, not a directory; Portage never makes one there (re-emerge mail-mta/postfix)" \
		deploy_inputs deploy
}

@test "a symlinked USE file is refused, not followed" {
	echo "ssl" >"$T/elsewhere-USE"
	ln -sf "$T/elsewhere-USE" "$DB/postfix-3.8.4/USE"
	refuses 77 "$DB/postfix-3.8.4/USE: is a symbolic link, not a regular file; Portage never makes one there" \
		deploy_inputs deploy
}

@test "a symlink anywhere below the root of the package database is refused" {
	mv "$T/root/var/db/pkg" "$T/pkg-elsewhere"
	ln -s "$T/pkg-elsewhere" "$T/root/var/db/pkg"
	refuses 77 "$T/root/var/db/pkg: is a symbolic link, not a directory" deploy_inputs deploy
}

@test "a USE file larger than any Portage writes is refused, not cut short" {
	{ head -c 70000 /dev/zero | tr '\0' x; echo " ssl"; } >"$DB/postfix-3.8.4/USE"
	refuses 66 "$DB/postfix-3.8.4/USE: is 70005 bytes, more than a USE file can be" \
		deploy_inputs deploy
}

@test "--root with or without trailing slashes names the same database, and a missing one is said" {
	for root in "$T/root" "$T/root/" "$T/root//"; do
		run "$HELPER" -c "$T/postfix" --root "$root" --conf "$T/conf" \
			--cafile "$PKI/root.pem" --cert "$T/ssl/cert.pem" \
			--key "$T/ssl/key.pem" --chain "$T/ssl/chain.pem" check
		assert_success
	done
	echo "amd64" >"$DB/postfix-3.8.4/USE"
	refuses 69 "$T/root/var/db/pkg/mail-mta: mail-mta/postfix-3.8.4 was built without" \
		"$HELPER" -c "$T/postfix" --root "$T/root//" --conf "$T/conf" \
		--cafile "$PKI/root.pem" --cert "$T/ssl/cert.pem" \
		--key "$T/ssl/key.pem" --chain "$T/ssl/chain.pem" deploy
	refuses 66 "$T/nowhere: cannot open the root of Gentoo's package database: No such file or directory (check --root)" \
		"$HELPER" -c "$T/postfix" --root "$T/nowhere" --conf "$T/conf" \
		--cafile "$PKI/root.pem" --cert "$T/ssl/cert.pem" \
		--key "$T/ssl/key.pem" --chain "$T/ssl/chain.pem" deploy
}
