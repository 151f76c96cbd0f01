#!/bin/sh
# What an admin would otherwise run as a start_pre hook (the source
# article's recipe): assemble by cat, verify with openssl, compare the
# key's and the certificate's public keys, chown and chmod, grep the
# package database for ssl, ask postconf once.
# usage: recipe.sh CAFILE LEAF CHAIN KEY BUNDLE POSTCONF_DIR ROOT
set -eu
cafile=$1 leaf=$2 chain=$3 key=$4 bundle=$5 confdir=$6 root=$7
cat "$leaf" "$chain" >"$bundle"
openssl verify -purpose sslserver -CAfile "$cafile" -untrusted "$chain" "$leaf" >/dev/null
[ "$(openssl x509 -in "$leaf" -noout -pubkey)" = "$(openssl pkey -in "$key" -pubout)" ]
chown root:root "$bundle" "$key"
chmod 0600 "$bundle" "$key"
grep -qw ssl "$root"/var/db/pkg/mail-mta/postfix-*/USE
postconf -c "$confdir" -h smtpd_tls_cert_file >/dev/null
