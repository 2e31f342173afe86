# The provider's tls:// endpoints against lurkd's own mutual-TLS
# listener (listen on tls), no stand-in between them: a key reference
# made by lurkctl keyref -e tls:// over the listener, s_server through
# the provider signing TLS 1.3 and 1.2 handshakes over it, lurkd logging
# the edge's certificate; a reference naming a dead listener first fails
# over to lurkd's; an edge certificate the key does not allow gets no
# handshake, and lurkd logs who it refused; the listener's own key is
# not a key edges can ask for.
. "$LURKD_TOP/regress/lib.sh"
. "$LURKD_TOP/regress/provider/setup.sh"

[ -f "$PROVIDER" ] && [ -x "$LURKCTL" ] ||
    { nok "provider and lurkctl built"; finish; }
if [ "$(id -u)" = 0 ]; then
	ensure_user || { nok "create user _lurkd"; finish; }
fi
mkca && mkleaf p256 p256 &&
mkcert srv ca lurkd.test "subjectAltName=DNS:lurkd.test,IP:127.0.0.1
extendedKeyUsage=serverAuth" &&
mkcert edge ca edge1 "subjectAltName=URI:spiffe://example.org/ns/web/sa/edge1
extendedKeyUsage=clientAuth" &&
mkcert stranger ca stranger "extendedKeyUsage=clientAuth" ||
    { nok "make the certificates"; finish; }
chmod 0600 "$T/p256.key" "$T/srv.key" "$T/edge.key" "$T/stranger.key"
LPORT=$(free_port)
DEADPORT=$(free_port)
mkdir -p "$T/run"
cat >"$T/lurkd.conf" <<CONF
listen on unix "$SOCK" mode 0600
keyprocs 1
listen on tls 127.0.0.1 port $LPORT {
	certificate "$T/srv.crt"
	private "$T/srv.key"
	ca "$T/ca.crt"
}
key "p256" {
	private "$T/p256.key"
	certificate "$T/p256.crt"
	operations { sign-tls13 sign-tls12 }
	allow client san "spiffe://example.org/ns/web/sa/edge1"
}
CONF
start_lurkd "$T/lurkd.conf" || { nok "lurkd started"; finish; }
provider_conf "$T/openssl.cnf" "$T/run/none.sock" 2000

# ref NAME CERT ENDPOINT...: $T/NAME.ref for p256 with CERT's client files
ref() {
	local name=$1 cert=$2 e args=()
	shift 2
	for e; do args+=(-e "$e"); done
	"$LURKCTL" keyref "${args[@]}" -c "$T/$cert.crt" -k "$T/$cert.key" \
	    -C "$T/ca.crt" "$T/p256.crt" >"$T/$name.ref" 2>"$T/$name.err"
}

ref tls edge "tls://127.0.0.1:$LPORT"
check "lurkctl keyref -e tls:// over lurkd's listener: key_info, exit $?" \
    [ -s "$T/tls.ref" ]
start_server "$T/tls.ref" "$T/p256.crt" ||
    { nok "s_server started"; cat "$T/s_server.log"; finish; }
hs "s_server, the key over tls:// to lurkd: TLS 1.3 handshake" -tls1_3
hs "... TLS 1.2 ECDHE-ECDSA" -tls1_2 -cipher ECDHE-ECDSA-AES128-GCM-SHA256
stop_server
check "... lurkd saw the edge's certificate over TLS 1.3" \
    grep -q 'TLS TLSv1.3, certificate subject "CN=edge1"' "$T/lurkd.log"
kill -USR1 "$LURKD_PID"
check "... and signed with the key, TLS 1.3 and 1.2" \
    eval 'wait_log "stats: key \"p256\"" 5 &&
    grep -Eq "stats: key \"p256\": .*sign-tls13 [1-9].*sign-tls12 [1-9]" "$T/lurkd.log"'

# a listener that is not there, then lurkd's
ref two edge "tls://127.0.0.1:$DEADPORT" "tls://127.0.0.1:$LPORT"
check "keyref -e dead -e lurkd's listener: key_info from the second ($?)" \
    [ -s "$T/two.ref" ]
start_server "$T/two.ref" "$T/p256.crt" ||
    { nok "s_server started"; cat "$T/s_server.log"; finish; }
hs "a dead listener first: the handshake goes over lurkd's" -tls1_3
stop_server

# a certificate of the CA that the key does not allow: key_info needs
# no permission, a signature does
ref stranger stranger "tls://127.0.0.1:$LPORT"
check "keyref with another edge's certificate: key_info ($?)" \
    [ -s "$T/stranger.ref" ]
start_server "$T/stranger.ref" "$T/p256.crt" ||
    { nok "s_server started"; cat "$T/s_server.log"; finish; }
check "... that edge's handshake fails: lurkd does not sign for it" \
    eval '! handshake -tls1_3'
stop_server
check "... lurkd logged the refusal with the certificate and the transport" \
    eval 'wait_log "CN=stranger.* may not use this key" 5 &&
    grep "CN=stranger.* may not use this key" "$T/lurkd.log" | grep -q "unauthorized"'

# the listener's own key: not among the keys an edge may name
"$LURKCTL" keyref -e "tls://127.0.0.1:$LPORT" -c "$T/edge.crt" \
    -k "$T/edge.key" -C "$T/ca.crt" "$T/srv.crt" >"$T/srv.ref" 2>"$T/srv.err"
rc=$?
check "keyref for the listener's certificate: refused ($rc), no reference" \
    [ "$rc" != 0 -a ! -s "$T/srv.ref" ]
check "... unknown_key: lurkd does not hold it for edges" \
    grep -q "lurkd answered unknown_key (8)" "$T/srv.err"
stop_lurkd
finish
