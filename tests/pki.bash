# Test PKI made with the openssl CLI at run time (no key is ever
# committed).  Sourced by the bats helpers, the demo and the benchmark;
# certificates and keys go to $PKI.
# shellcheck shell=bash

# pki_key NAME SPEC: SPEC is ec (P-256, fast), ec:CURVE, rsa:BITS, or an
# algorithm openssl genpkey knows without options (ED25519, ED448).
pki_key() {
	pki_cached "$1.key" "$2" pki_genkey "$1" "$2"
}

pki_genkey() {
	case $2 in
	ec) pki_genkey "$1" ec:P-256 ;;
	ec:*) openssl genpkey -algorithm EC -pkeyopt "ec_paramgen_curve:${2#ec:}" \
		-out "$PKI/$1.key" 2>/dev/null ;;
	rsa:*) openssl genpkey -algorithm RSA \
		-pkeyopt "rsa_keygen_bits:${2#rsa:}" -out "$PKI/$1.key" 2>/dev/null ;;
	*) openssl genpkey -algorithm "$2" -out "$PKI/$1.key" 2>/dev/null ;;
	esac
}

# pki_cached FILE SPEC COMMAND...: $PKI/FILE as COMMAND makes it, or, in a
# test run with a key cache (PTS_PKI_CACHE, made afresh by tests/run.sh
# for each run, under build/), a copy of the one made for the same name,
# directory and SPEC by an earlier file or pass of this run.  RSA and DSA
# keys take seconds to make; a run asks for the same ones in every pass.
# Keys stay per name: two names of a file never share one, and a renewal
# (a key of the same name in another directory, e.g. $PKI/next) gets its
# own.  Nothing of it is ever committed.
pki_cached() {
	local file=$1 spec=$2 id cache
	shift 2
	if [ ! -d "${PTS_PKI_CACHE:-}" ] || [ -z "${BATS_FILE_TMPDIR:-}" ] ||
		[ "${PKI#"$BATS_FILE_TMPDIR"/}" = "$PKI" ]; then
		"$@"
		return
	fi
	id=${PKI#"$BATS_FILE_TMPDIR"/}/$file:$spec
	cache=$PTS_PKI_CACHE/${id//\//%}
	if [ -s "$cache" ]; then
		cp "$cache" "$PKI/$file"
		return
	fi
	"$@" || return
	# Another file may be making the same one: the first rename wins, and
	# each file keeps the copy it made.
	{ cp "$PKI/$file" "$cache.$$" && mv -f "$cache.$$" "$cache"; } ||
		rm -f "$cache.$$"
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

# faked SPEC: FAKED, a command prefix that runs a command under
# libfaketime with FAKETIME=SPEC ("-400d", "2027-01-02 03:04:05": stopped
# there), the library itself and not the faketime wrapper: the wrapper
# keeps a semaphore and shared memory named by its pid in /dev/shm, left
# there when it is killed (a timeout, a stopped run), and a later wrapper
# given that pid fails at once (exit 1, its command never run).
faked() {
	local lib
	for lib in /usr/lib/*/faketime/libfaketime.so.1 \
	    /usr/lib64/faketime/libfaketime.so.1 /usr/lib/faketime/libfaketime.so.1; do
		[ -f "$lib" ] && break
	done
	[ -f "$lib" ] || { echo "faked: libfaketime.so.1 not found" >&2; return 1; }
	FAKED=(env "LD_PRELOAD=$lib" "FAKETIME=$1")
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
	[ -n "$start" ] && faked "$start" && faketime=("${FAKED[@]}")
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

# pki_relabel LABEL <PEM: the same blocks under another PEM label.
pki_relabel() {
	sed -e "s/^-----BEGIN .*-----\$/-----BEGIN $1-----/" \
		-e "s/^-----END .*-----\$/-----END $1-----/"
}

# pki_header LINE <PEM: LINE as an RFC 1421 header of the first block
# (after the BEGIN line, followed by the blank line that ends headers).
pki_header() {
	awk -v h="$1" '{ print } !done && /^-----BEGIN / { print h; print ""; done = 1 }'
}

# pki_excess LABEL <DER: a PEM block of LABEL holding the DER and, after
# it, bytes that are no part of it (Postfix: "excess data").
pki_excess() {
	echo "-----BEGIN $1-----"
	{ cat; printf '\0\0junk'; } | base64 -w 64
	echo "-----END $1-----"
}

# pki_key_variant KEY VARIANT: KEY (a PKCS#8 key file) written the way
# VARIANT says, on stdout.  The label and header variants are text edits
# of openssl's output; an encrypted one has the passphrase "secret".
pki_key_variant() {
	local key=$1
	case $2 in
	pkcs8) cat "$key" ;;
	traditional) openssl pkey -in "$key" -traditional ;;
	any-label) pki_relabel "ANY PRIVATE KEY" <"$key" ;;
	pkcs8-as-rsa) pki_relabel "RSA PRIVATE KEY" <"$key" ;;
	pkcs8-as-ec) pki_relabel "EC PRIVATE KEY" <"$key" ;;
	traditional-as-pkcs8) openssl pkey -in "$key" -traditional |
		pki_relabel "PRIVATE KEY" ;;
	traditional-as-rsa) openssl pkey -in "$key" -traditional |
		pki_relabel "RSA PRIVATE KEY" ;;
	traditional-as-ec) openssl pkey -in "$key" -traditional |
		pki_relabel "EC PRIVATE KEY" ;;
	traditional-as-dsa) openssl pkey -in "$key" -traditional |
		pki_relabel "DSA PRIVATE KEY" ;;
	mic-only) pki_header "Proc-Type: 4,MIC-ONLY" <"$key" ;;
	traditional-mic-only) openssl pkey -in "$key" -traditional |
		pki_header "Proc-Type: 4,MIC-ONLY" ;;
	comment) pki_header "Comment: made by the test" <"$key" ;;
	short-header) pki_header "X: y" <"$key" ;;
	encrypted) openssl pkey -in "$key" -aes256 -passout pass:secret ;;
	traditional-encrypted) openssl pkey -in "$key" -traditional -aes256 \
		-passout pass:secret ;;
	excess) sed '/^-----/d' "$key" | base64 -d | pki_excess "PRIVATE KEY" ;;
	after-any) pki_relabel "ANY PRIVATE KEY" <"$key"; cat "$key" ;;
	after-cert) cat "${key%.key}.pem" "$key" ;;
	traditional-after-cert) cat "${key%.key}.pem"
		openssl pkey -in "$key" -traditional ;;
	*) echo "pki_key_variant: unknown variant $2" >&2; return 1 ;;
	esac
}

# pki_dsa_key NAME: a DSA key (2048-bit parameters) for a leaf that no
# default client takes.
pki_dsa_key() {
	pki_cached "$1.key" dsa:2048 pki_gendsa "$1"
}

pki_gendsa() {
	openssl genpkey -genparam -algorithm DSA -pkeyopt dsa_paramgen_bits:2048 \
		-out "$PKI/$1.param" 2>/dev/null &&
	openssl genpkey -paramfile "$PKI/$1.param" -out "$PKI/$1.key" 2>/dev/null
}

# pki_variant_files LEAF VARIANT DIR: DIR/key.pem and DIR/cert.pem for PKI
# leaf LEAF: the key as pki_key_variant VARIANT writes it, or for the
# variant cert-excess a good key and a certificate with excess data.
pki_variant_files() {
	if [ "$2" = cert-excess ]; then
		cp "$PKI/$1.key" "$3/key.pem"
		sed '/^-----/d' "$PKI/$1.pem" | base64 -d |
			pki_excess CERTIFICATE >"$3/cert.pem"
	else
		pki_key_variant "$PKI/$1.key" "$2" >"$3/key.pem"
		cp "$PKI/$1.pem" "$3/cert.pem"
	fi
}

# pki_damage_secret NAME: NAME's RSA key with its secret part damaged (d,
# dp and dq each plus 2) and its public part intact, so that it still
# "matches" the certificate as X509_check_private_key compares them.
pki_damage_secret() {
	openssl rsa -in "$PKI/$1.key" -traditional -outform DER 2>/dev/null |
		python3 -c '
import sys, base64
der = sys.stdin.buffer.read()
def head(b, i):
    n = b[i + 1]; i += 2
    if n & 0x80:
        k = n & 0x7f; n = int.from_bytes(b[i:i + k], "big"); i += k
    return n, i
def length(n):
    if n < 128: return bytes([n])
    b = n.to_bytes((n.bit_length() + 7) // 8, "big")
    return bytes([0x80 | len(b)]) + b
_, i = head(der, 0)
ints = []
while i < len(der):
    n, j = head(der, i); ints.append(int.from_bytes(der[j:j + n], "big")); i = j + n
for k in (3, 6, 7):	# d, dp, dq
    ints[k] += 2
body = b"".join(b"\x02" + length(len(x.to_bytes(x.bit_length() // 8 + 1, "big"))) +
    x.to_bytes(x.bit_length() // 8 + 1, "big") for x in ints)
b64 = base64.b64encode(b"\x30" + length(len(body)) + body).decode()
label = "RSA PRIVATE " + "KEY"	# split: no key header in the tree
print("-----BEGIN %s-----" % label)
print("\n".join(b64[k:k + 64] for k in range(0, len(b64), 64)))
print("-----END %s-----" % label)'
}

# pki_rsa_lineage: certbot's RSA lineage for $HOST beside its ECDSA one,
# $PKI/rsa.pem and $PKI/rsa.key (made in a directory of its own, since
# pki_cert names files after the host).
pki_rsa_lineage() {
	mkdir -p "$PKI/rsa"
	cp "$PKI/inter2.pem" "$PKI/inter2.key" "$PKI/rsa/"
	PKI=$PKI/rsa pki_cert "$HOST" inter2 server rsa:2048
	cp "$PKI/rsa/$HOST.pem" "$PKI/rsa.pem"
	cp "$PKI/rsa/$HOST.key" "$PKI/rsa.key"
}
