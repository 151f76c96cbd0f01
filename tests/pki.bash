# Test PKI made with the openssl CLI at run time (no key is ever
# committed).  Sourced by the bats helpers, the demo and the benchmark;
# certificates and keys go to $PKI.
# shellcheck shell=bash

# pki_key NAME SPEC: SPEC is ec (P-256, fast), ec:CURVE, rsa:BITS, or an
# algorithm openssl genpkey knows without options (ED25519, ED448).
pki_key() {
	case $2 in
	ec) pki_key "$1" ec:P-256 ;;
	ec:*) openssl genpkey -algorithm EC -pkeyopt "ec_paramgen_curve:${2#ec:}" \
		-out "$PKI/$1.key" 2>/dev/null ;;
	rsa:*) openssl genpkey -algorithm RSA \
		-pkeyopt "rsa_keygen_bits:${2#rsa:}" -out "$PKI/$1.key" 2>/dev/null ;;
	*) openssl genpkey -algorithm "$2" -out "$PKI/$1.key" 2>/dev/null ;;
	esac
}

# pki_ext PROFILE NAME: X.509v3 extensions for ca, ca-nc (name-constrained
# to example.org), ca-client (a CA limited to clientAuth), server,
# server-noeku, server-both (serverAuth and clientAuth), client.
pki_ext() {
	case $1 in
	ca) printf '%s\n' "basicConstraints=critical,CA:TRUE" \
		"keyUsage=critical,keyCertSign,cRLSign" ;;
	ca-nc) printf '%s\n' "basicConstraints=critical,CA:TRUE" \
		"keyUsage=critical,keyCertSign,cRLSign" \
		"nameConstraints=critical,permitted;DNS:.example.org" ;;
	ca-client) printf '%s\n' "basicConstraints=critical,CA:TRUE" \
		"keyUsage=critical,keyCertSign,cRLSign" \
		"extendedKeyUsage=clientAuth" ;;
	server) printf '%s\n' "basicConstraints=CA:FALSE" \
		"keyUsage=critical,digitalSignature,keyEncipherment" \
		"extendedKeyUsage=serverAuth" "subjectAltName=DNS:$2" ;;
	server-noeku) printf '%s\n' "basicConstraints=CA:FALSE" \
		"keyUsage=critical,digitalSignature" "subjectAltName=DNS:$2" ;;
	server-both) printf '%s\n' "basicConstraints=CA:FALSE" \
		"keyUsage=critical,digitalSignature" \
		"extendedKeyUsage=serverAuth,clientAuth" "subjectAltName=DNS:$2" ;;
	client) printf '%s\n' "basicConstraints=CA:FALSE" \
		"keyUsage=critical,digitalSignature" \
		"extendedKeyUsage=clientAuth" "subjectAltName=DNS:$2" ;;
	esac
	printf '%s\n' "subjectKeyIdentifier=hash"
}

# pki_cert NAME ISSUER PROFILE [KEY] [DAYS] [START] [MD]
#   ISSUER "self" makes a self-signed certificate.  START (for faketime,
#   e.g. "-400d" or "+30d") shifts the issuing time: expired and
#   not-yet-valid certificates.  The common name and DNS name are NAME
#   for servers, so use host names for leaves; CN=... in the environment
#   overrides the common name (for cross-signed twins).
pki_cert() {
	local name=$1 issuer=$2 profile=$3 key=${4:-ec} days=${5:-365}
	local start=${6:-} md=${7:-sha256} ext=$PKI/$1.ext
	local -a faketime=()
	[ -n "$start" ] && faketime=(faketime -f "$start")
	[ -f "$PKI/$name.key" ] || pki_key "$name" "$key"
	pki_ext "$profile" "$name" >"$ext"
	[ "$issuer" = self ] || echo "authorityKeyIdentifier=keyid:always" >>"$ext"
	openssl req -new -key "$PKI/$name.key" -subj "/O=Test/CN=${CN:-$name}" \
		-out "$PKI/$name.csr" 2>/dev/null
	if [ "$issuer" = self ]; then
		"${faketime[@]}" openssl x509 -req -in "$PKI/$name.csr" \
			-signkey "$PKI/$name.key" -days "$days" -"$md" \
			-extfile "$ext" -set_serial "0x$(openssl rand -hex 8)" \
			-out "$PKI/$name.pem" 2>/dev/null
	else
		"${faketime[@]}" openssl x509 -req -in "$PKI/$name.csr" \
			-CA "$PKI/$issuer.pem" -CAkey "$PKI/$issuer.key" \
			-days "$days" -"$md" -extfile "$ext" \
			-set_serial "0x$(openssl rand -hex 8)" \
			-out "$PKI/$name.pem" 2>/dev/null
	fi
	[ -s "$PKI/$name.pem" ] || { echo "pki_cert $name failed" >&2; return 1; }
}
