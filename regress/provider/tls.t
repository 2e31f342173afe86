# Stock openssl s_server holds only a certificate and a lurk key
# reference; lurkd makes every signature.  s_client and curl verify the
# handshakes against a throwaway CA, for every key type, TLS 1.3 and 1.2.
. "$LURKD_TOP/regress/lib.sh"
. "$LURKD_TOP/regress/provider/setup.sh"

types="rsa2048 rsapss p256 p384 p521 ed25519 ed448"
edge_setup $types
edge_refs $types

check "references hold no private key" \
    bash -c "! grep -q 'PRIVATE' $T/*.ref"

# sigalgs that select each key type's own scheme in TLS 1.3
sigalgs13() {
	case $1 in
	ed25519) echo ed25519 ;;
	ed448)	 echo ed448 ;;
	esac
}

for k in $types; do
	start_server "$T/$k.ref" "$T/$k.crt" ||
	    { nok "$k: s_server started"; cat "$T/s_server.log"; continue; }
	sa=$(sigalgs13 "$k")
	hs "$k: TLS 1.3 handshake verified" -tls1_3 ${sa:+-sigalgs "$sa"}
	case $k in
	rsa2048)
		check "rsa2048: TLS 1.3 signature is rsa_pss_rsae_sha256" \
		    grep -q 'Peer signature type: RSA-PSS' "$T/s_client.out"
		check "rsa2048: ... with SHA-256" \
		    grep -q 'Peer signing digest: SHA256' "$T/s_client.out" ;;
	p384)
		check "p384: TLS 1.3 signature with SHA-384" \
		    grep -q 'Peer signing digest: SHA384' "$T/s_client.out" ;;
	esac
	hs "$k: TLS 1.2 ECDHE handshake verified" -tls1_2 ${sa:+-sigalgs "$sa"}
	grep -q 'Cipher is ECDHE-' "$T/s_client.out" ||
	    nok "$k: TLS 1.2 used ECDHE"
	if [ "$k" = rsa2048 ]; then
		hs "rsa2048: TLS 1.2 with rsa_pkcs1_sha256" -tls1_2 \
		    -sigalgs RSA+SHA256
		check "rsa2048: ... PKCS#1 v1.5 signature" \
		    grep -q 'Peer signature type: RSA$' "$T/s_client.out"
		hs "rsa2048: TLS 1.2 with rsa_pss_rsae_sha384" -tls1_2 \
		    -sigalgs rsa_pss_rsae_sha384
		NOSIG=1 hs "rsa2048: TLS 1.2 RSA key exchange (lurkd decrypts)" \
		    -tls1_2 -cipher AES128-GCM-SHA256
		check "rsa2048: ... cipher AES128-GCM-SHA256" \
		    grep -q 'Cipher is AES128-GCM-SHA256' "$T/s_client.out"
		out=$(env -u OPENSSL_CONF curl -s -o /dev/null \
		    -w '%{http_code}' --max-time 10 --cacert "$T/ca.crt" \
		    --resolve "test.lurk:$PORT:127.0.0.1" \
		    "https://test.lurk:$PORT/")
		check "rsa2048: curl over TLS 1.3 gets 200 (got $out)" \
		    [ "$out" = 200 ]
	fi
	if [ "$k" = p256 ]; then
		out=$(env -u OPENSSL_CONF curl -s -o /dev/null \
		    -w '%{http_code}' --max-time 10 --cacert "$T/ca.crt" \
		    --tlsv1.2 --tls-max 1.2 \
		    --resolve "test.lurk:$PORT:127.0.0.1" \
		    "https://test.lurk:$PORT/")
		check "p256: curl over TLS 1.2 gets 200 (got $out)" \
		    [ "$out" = 200 ]
	fi
	stop_server
done

# the lurk: store, key and certificate chain from lurkd
if start_server "lurk:name=p256" "lurk:name=p256"; then
	hs "s_server -key lurk:name=p256 -cert lurk:name=p256" -tls1_3
	hs "... and TLS 1.2" -tls1_2
	stop_server
else
	nok "s_server with lurk: URIs started"
	cat "$T/s_server.log"
fi
id=$(openssl x509 -in "$T/p384.crt" -pubkey -noout |
    openssl pkey -pubin -outform DER | sha256sum | cut -c1-64)
if start_server "lurk:sha256=$id?socket=$SOCK" "$T/p384.crt"; then
	hs "s_server -key lurk:sha256=...?socket=..." -tls1_3
	stop_server
else
	nok "s_server with lurk:sha256= started"
	cat "$T/s_server.log"
fi

# what the PEM decoder gives nginx and haproxy
out=$(OPENSSL_CONF=$T/openssl.cnf "$EDGETEST" load "$T/rsa2048.ref" \
    "$T/rsa2048.crt")
check "PEM_read_bio_PrivateKey + SSL_CTX_check_private_key ($out)" \
    [ "$out" = "RSA 2048 bits, matches its certificate" ]
cat "$T/p256.crt" "$T/ca.crt" "$T/p256.ref" >"$T/bundle.pem"
out=$(OPENSSL_CONF=$T/openssl.cnf "$EDGETEST" load "$T/bundle.pem" \
    "$T/p256.crt")
check "reference after certificates in one file (haproxy crt) ($out)" \
    [ "$out" = "EC 256 bits, matches its certificate" ]
out=$(OPENSSL_CONF=$T/openssl.cnf "$EDGETEST" load "$T/p256.ref" \
    "$T/p384.crt")
check "a reference does not match another key's certificate" \
    [ "$out" = "EC 256 bits, certificate does not match" ]
check "openssl pkey -pubout of a reference gives the certificate's key" \
    cmp -s <(OPENSSL_CONF=$T/openssl.cnf openssl pkey -in "$T/ed25519.ref" \
    -pubout 2>&1) <(openssl x509 -in "$T/ed25519.crt" -pubkey -noout)

# many threads on one pipelined connection; a forked child
out=$(OPENSSL_CONF=$T/openssl.cnf "$EDGETEST" sign "$T/p256.ref" \
    "$T/p256.crt" 8 50)
check "8 threads x 50 signatures, all verified ($out)" \
    [ "$out" = "400 signatures, 0 failed" ]
out=$(OPENSSL_CONF=$T/openssl.cnf "$EDGETEST" sign "$T/rsa2048.ref" \
    "$T/rsa2048.crt" 4 20)
check "4 threads x 20 RSA-PSS signatures ($out)" \
    [ "$out" = "80 signatures, 0 failed" ]
out=$(OPENSSL_CONF=$T/openssl.cnf "$EDGETEST" fork "$T/p256.ref" \
    "$T/p256.crt" 50)
check "after fork, parent and child sign at once ($out)" \
    [ "$out" = "parent: 0 failed; child: ok" ]
out=$(OPENSSL_CONF=$T/openssl.cnf "$EDGETEST" premaster \
    "$T/rsa2048.ref" "$T/rsa2048.crt")
check "RSA premaster: 48 bytes, implicit rejection ($out)" \
    [ "$out" = "premaster ok, implicit rejection ok" ]

# no generic oracle
openssl dgst -sha256 -binary "$T/ca.crt" >"$T/digest"
export OPENSSL_CONF=$T/openssl.cnf
check "pkeyutl -sign of a digest fails" \
    bash -c "! openssl pkeyutl -sign -inkey '$T/p256.ref' -in '$T/digest' -out '$T/sig' 2>'$T/err'"
check "dgst -sign of a file fails (lurkd: invalid_content)" \
    bash -c "! openssl dgst -sha256 -sign '$T/p256.ref' -out '$T/sig' '$T/ca.crt' 2>'$T/err' && grep -q invalid_content '$T/err'"
check "dgst -sha1 -sign fails locally" \
    bash -c "! openssl dgst -sha1 -sign '$T/rsa2048.ref' -out '$T/sig' '$T/ca.crt' 2>'$T/err' && grep -q 'digest not usable' '$T/err'"
check "pkeyutl -decrypt (raw RSA) fails" \
    bash -c "! openssl pkeyutl -decrypt -inkey '$T/rsa2048.ref' -in '$T/digest' -out '$T/out' 2>'$T/err'"
check "openssl pkey cannot print a private key" \
    bash -c "! openssl pkey -in '$T/p256.ref' -out '$T/out' 2>'$T/err'"
unset OPENSSL_CONF

# lurk activated before default would break libssl's groups: said at load
sed 's/^default = default_sect$/X/; s/^lurk = lurk_sect$/default = default_sect/; s/^X$/lurk = lurk_sect/' \
    "$T/openssl.cnf" >"$T/misordered.cnf"
check "provider activated before default: key load fails, saying why" \
    bash -c "! OPENSSL_CONF='$T/misordered.cnf' openssl pkey -in '$T/p256.ref' -pubout 2>'$T/err' && grep -q 'before the default provider' '$T/err'"

kill -USR1 "$LURKD_PID"
wait_log 'stats: key "ed448"' 5 2>/dev/null
check "lurkd counted the signatures" \
    grep -Eq 'stats: key "p256": .*sign-tls13 [1-9]' "$T/lurkd.log"
finish
