# TLS 1.2 RSA key exchange (AES128-GCM-SHA256) through openssl s_server:
# it works where the key's policy has rsa-kex, and fails where it does not.
. "$LURKD_TOP/regress/lib.sh"

[ -f "$PROVIDER" ] || { nok "provider built"; finish; }
[ "$(id -u)" = 0 ] && { ensure_user || { nok "create user _lurkd"; finish; }; }
mkca && mkleaf kex rsa2048 && mkleaf nokex rsa2048 || { nok "make keys"; finish; }
SOCK=$T/lurk.sock
cat >"$T/lurkd.conf" <<CONF
listen on unix "$SOCK" mode 0666
keyprocs 1
key "kex" {
	private "$T/kex.key"
	certificate "$T/kex.crt"
	operations { sign-tls13 sign-tls12 rsa-kex }
	allow uid $(id -u)
}
key "nokex" {
	private "$T/nokex.key"
	certificate "$T/nokex.crt"
	allow uid $(id -u)
}
CONF
start_lurkd "$T/lurkd.conf" || { nok "lurkd started"; finish; }
provider_conf "$T/openssl.cnf" "$SOCK" 2000
export OPENSSL_CONF=$T/openssl.cnf

kex() {	# kex NAME: one TLS 1.2 RSA-key-exchange handshake; s_client output
	"$LURKCTL" keyref -S "$SOCK" "$T/$1.crt" >"$T/$1.ref" || return 1
	local port; port=$(free_port)
	openssl s_server -accept "127.0.0.1:$port" -cert "$T/$1.crt" \
	    -key "$T/$1.ref" -www >"$T/s_server.$1" 2>&1 &
	local sp=$!
	wait_port "$port" 10
	echo | timeout 15 openssl s_client -connect "127.0.0.1:$port" \
	    -tls1_2 -cipher AES128-GCM-SHA256 -CAfile "$T/ca.crt" \
	    -verify_return_error -servername test.lurk -brief 2>&1
	kill $sp 2>/dev/null; wait $sp 2>/dev/null
}
out=$(kex kex)
check "RSA key exchange AES128-GCM-SHA256 where the key allows rsa-kex" \
    grep -q "Ciphersuite: AES128-GCM-SHA256" <<<"$out"
out=$(kex nokex)
check "RSA key exchange refused where the key does not allow it" \
    bash -c "! grep -q 'Ciphersuite: AES128-GCM-SHA256' <<<'$out'"
check "the refusal is logged" \
    grep -q 'operation_refused key "nokex" rsa-kex' "$T/lurkd.log"
finish
