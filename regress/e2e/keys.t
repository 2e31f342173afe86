# keyproc loads every supported key type, checks it against its
# certificate, and refuses what it does not support, naming the file.
. "$LURKD_TOP/regress/lib.sh"

[ "$(id -u)" = 0 ] && { ensure_user || { nok "create user _lurkd"; finish; }; }

types="rsa2048 rsa4096 rsapss p256 p384 p521 ed25519 ed448"
for k in $types; do
	mkkey "$k" "$k" || { nok "make $k key"; finish; }
done
{
	echo "listen on unix \"$T/lurk.sock\" mode 0666"
	echo "keyprocs 1"
	for k in $types; do
		printf 'key "%s" {\n\tprivate "%s"\n\tcertificate "%s"\n}\n' \
		    "$k" "$T/$k.key" "$T/$k.crt"
	done
} >"$T/all.conf"

if start_lurkd "$T/all.conf"; then
	ok "lurkd loads RSA 2048/4096, RSA-PSS, P-256/384/521, Ed25519, Ed448"
	for k in $types; do
		spki=$(openssl pkey -in "$T/$k.key" -pubout -outform DER |
		    sha256sum | cut -c1-8)
		check "key $k: logged with its SPKI SHA-256 ($spki)" \
		    grep -q "key \"$k\": .* spki sha256 $spki" "$T/lurkd.log"
	done
	check "no private key bytes in the log" \
	    bash -c "! grep -q 'PRIVATE KEY' '$T/lurkd.log'"
	stop_lurkd
else
	nok "lurkd loads every supported key type"
fi

# refusals: lurkd does not start, and says which key and why
refuse() {	# refuse WHAT KEYFILE CERTFILE PATTERN
	printf 'listen on unix "%s"\nkey "bad" {\n\tprivate "%s"\n\tcertificate "%s"\n}\n' \
	    "$T/lurk.sock" "$2" "$3" >"$T/bad.conf"
	: >"$T/lurkd.log"
	"$LURKD" -d -f "$T/bad.conf" >>"$T/lurkd.log" 2>&1 &
	LURKD_PID=$!
	wait_exit 10
	if lurkd_exited nonzero &&
	    grep -q -- "$4" "$T/lurkd.log"; then
		ok "refused: $1"
	else
		nok "refused: $1 (rc $LURKD_RC)"; cat "$T/lurkd.log"
	fi
}
mkkey rsa1024 rsa1024 && mkkey k256 k256 || { nok "make bad keys"; finish; }
refuse "certificate of another key" "$T/p256.key" "$T/p384.crt" \
    "key \"bad\": $T/p384.crt does not match private key $T/p256.key"
refuse "RSA 1024" "$T/rsa1024.key" "$T/rsa1024.crt" "RSA key of 1024 bits"
refuse "EC secp256k1" "$T/k256.key" "$T/k256.crt" "EC curve secp256k1 not supported"
openssl pkey -in "$T/p256.key" -aes128 -passout pass:x -out "$T/enc.key" 2>/dev/null
refuse "encrypted private key" "$T/enc.key" "$T/p256.crt" \
    "$T/enc.key: encrypted keys are not supported; decrypt it with \`openssl pkey\`"
openssl pkey -in "$T/p256.key" -outform DER -out "$T/der.key"
refuse "DER private key" "$T/der.key" "$T/p256.crt" \
    "$T/der.key: a DER (binary) key: lurkd reads PEM; convert it with \`openssl pkey -inform DER\`"
openssl x509 -in "$T/p256.crt" -outform DER -out "$T/der.crt"
refuse "DER certificate" "$T/p256.key" "$T/der.crt" \
    "$T/der.crt: no PEM certificate (a DER certificate? convert it with \`openssl x509 -inform DER\`)"
cat "$T/p384.crt" "$T/p256.crt" >"$T/order.crt"
refuse "the key's certificate second in the chain" "$T/p256.key" "$T/order.crt" \
    "$T/order.crt: the key's own certificate must come first (it is certificate 2 of 2)"
refuse "a certificate as the key" "$T/p256.crt" "$T/p256.crt" "not a PEM private key"
refuse "missing key file" "$T/nosuch.key" "$T/p256.crt" "key \"bad\": private key $T/nosuch.key: No such file"
: >"$T/empty.crt"
refuse "empty certificate file" "$T/p256.key" "$T/empty.crt" "no PEM certificate"
finish
