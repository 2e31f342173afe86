# Key servers named by endpoints: lurkctl keyref -e/-c/-k/-C (version 2
# references, every refusal a usage error saying why), the provider's
# openssl.cnf endpoints, and tls:// end to end: the provider's own TLS
# 1.3 client (client certificate presented, server certificate and name
# checked, inside s_server that loaded the lurk provider) against
# tlsproxy.py, a stand-in for a key server's mutual-TLS listener that
# relays to lurkd's Unix socket.
. "$LURKD_TOP/regress/lib.sh"
. "$LURKD_TOP/regress/provider/setup.sh"

edge_setup p256
DEAD=$T/run/dead.sock

# usage WHAT PATTERN keyref-args...: exit 2, saying PATTERN, no output
usage() {
	local what=$1 pat=$2 rc
	shift 2
	"$LURKCTL" keyref "$@" "$T/p256.crt" >"$T/out" 2>"$T/err"
	rc=$?
	check "keyref $what: exit 2 ($rc), nothing written" \
	    [ "$rc" = 2 -a ! -s "$T/out" ]
	check "... says why" grep -q -- "$pat" "$T/err"
}
usage "-S and -e" "name the key servers one way" -S "$SOCK" -e "unix:$SOCK"
usage "-e tls:// without a port" "tls:// wants host:port" -e tls://keys.test
usage "-e port 0" "port must be 1 to 65535" -e tls://keys.test:0
usage "-e unix: relative" "absolute socket path" -e unix:run/lurk.sock
usage "-e ftp://" "not unix:/path or tls://host:port" -e ftp://keys.test:1
usage "-e IPv6 without brackets" "not a host name" -e tls://::1:4433
usage "-e twice (unix: and bare path)" "given twice" -e "unix:$SOCK" -e "$SOCK"
usage "-c without a tls:// endpoint" "go with a tls:// endpoint" \
    -e "unix:$SOCK" -c "$T/p256.crt"
usage "-e tls:// without -c -k -C" "needs a client certificate" \
    -e tls://127.0.0.1:1
args=()
for i in $(seq 9); do args+=(-e "unix:$T/run/$i.sock"); done
usage "-e 9 times" "at most 8 endpoints" "${args[@]}"

refversion() { sed '/-----/d' "$1" | base64 -d | od -An -tu1 -j7 -N1 | tr -d ' '; }
"$LURKCTL" keyref -e "unix:$DEAD" -e "$SOCK" "$T/p256.crt" >"$T/two.ref" \
    2>"$T/err"
check "keyref -e dead -e live: key_info from the second, exit $?" [ -s "$T/two.ref" ]
check "... a version 2 reference" [ "$(refversion "$T/two.ref")" = 2 ]
"$LURKCTL" keyref -S "$SOCK" "$T/p256.crt" >"$T/one.ref"
check "keyref -S: still version 1" [ "$(refversion "$T/one.ref")" = 1 ]
check "keyref -j -e: endpoints in order, canonical, TLS files null" \
    eval '"$LURKCTL" -j keyref -e "unix:$DEAD" -e "$SOCK" "$T/p256.crt" |
    tr -d " \n" | grep -qF "\"endpoints\":[\"unix:$DEAD\",\"unix:$SOCK\"],\"tls_certificate\":null"'

# the reference's endpoints: the first dead, the second serves
start_server "$T/two.ref" "$T/p256.crt" ||
    { nok "s_server started"; cat "$T/s_server.log"; finish; }
hs "reference naming a dead socket, then lurkd: handshake" -tls1_3
stop_server

# openssl.cnf endpoints, for references that name none
LURK_SOCKET=$SOCK "$LURKCTL" keyref "$T/p256.crt" >"$T/none.ref"
sed -i "s|^socket = .*|endpoints = unix:$DEAD, unix:$SOCK|" "$T/openssl.cnf"
start_server "$T/none.ref" "$T/p256.crt" ||
    { nok "s_server started"; cat "$T/s_server.log"; finish; }
hs "openssl.cnf endpoints = dead, lurkd: handshake" -tls1_3
stop_server
providers() { OPENSSL_CONF=$T/bad.cnf openssl list -providers 2>&1; }
sed "/^endpoints/a socket = $SOCK" "$T/openssl.cnf" >"$T/bad.cnf"
check "openssl.cnf socket and endpoints: the provider does not load" \
    eval '! providers | grep -q "name: lurk"'
sed "s|^endpoints = .*|endpoints = unix:$SOCK tls://keys.test|" \
    "$T/openssl.cnf" >"$T/bad.cnf"
check "openssl.cnf endpoint malformed: the provider does not load" \
    eval '! providers | grep -q "name: lurk"'
sed -i "s|^endpoints = .*|socket = $SOCK|" "$T/openssl.cnf"

# the store: lurk:name=...?endpoints=LIST (the provider's socket dead)
URI="lurk:name=p256?endpoints=unix:$DEAD%20unix:$SOCK"
sed -i "s|^socket = .*|socket = $DEAD|" "$T/openssl.cnf"
if start_server "$URI" "$URI"; then
	hs "s_server -key lurk:name=p256?endpoints=dead%20lurkd" -tls1_3
	stop_server
else
	nok "s_server with lurk:...?endpoints= started"
	cat "$T/s_server.log"
fi
sed -i "s|^socket = .*|socket = $SOCK|" "$T/openssl.cnf"
out=$(OPENSSL_CONF=$T/openssl.cnf openssl pkey -pubout \
    -in "lurk:name=p256?endpoints=unix:$SOCK%20tls://keys.test" 2>&1)
check "lurk:...?endpoints= malformed: refused, saying why" \
    eval '! grep -q "BEGIN PUBLIC KEY" <<<"$out" &&
    grep -q "tls:// wants host:port" <<<"$out"'

# --- tls:// --------------------------------------------------------------
openssl req -new -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
    -keyout "$T/ca2.key" -subj "/CN=another CA" -days 2 \
    -addext basicConstraints=critical,CA:true \
    -addext keyUsage=critical,keyCertSign -out "$T/ca2.crt" 2>/dev/null &&
mkcert keys ca "keys.test" \
    "subjectAltName=DNS:localhost,IP:127.0.0.1
extendedKeyUsage=serverAuth" &&
mkcert keys2 ca "other.test" \
    "subjectAltName=DNS:other.test
extendedKeyUsage=serverAuth" &&
mkcert edge ca "edge1" "extendedKeyUsage=clientAuth" &&
mkcert edge2 ca2 "edge2" "extendedKeyUsage=clientAuth" ||
    { nok "make TLS certificates"; finish; }

trap 'for p in "${STANDINS[@]}"; do kill "$p"; wait "$p"; done 2>/dev/null;
    stop_server; cleanup' EXIT
tls_standin px keys
tls_standin px2 keys2
[ -n "$px_PORT" ] && [ -n "$px2_PORT" ] ||
    { nok "tlsproxy.py started"; cat "$T/px.err"; finish; }
TLSFILES=(-c "$T/edge.crt" -k "$T/edge.key" -C "$T/ca.crt")

"$LURKCTL" keyref -e "tls://127.0.0.1:$px_PORT" "${TLSFILES[@]}" \
    "$T/p256.crt" >"$T/tls.ref" 2>"$T/err"
check "keyref -e tls://127.0.0.1: key_info over TLS, exit $?" [ -s "$T/tls.ref" ]
check "... the edge presented its certificate, TLS 1.3" \
    grep -q "^peer CN=edge1 TLSv1.3" "$T/px.log"
check "... the reference names the TLS files" \
    eval '"$LURKCTL" -j keyref -e "tls://127.0.0.1:$px_PORT" "${TLSFILES[@]}" "$T/p256.crt" |
    tr -d " \n" | grep -qF "\"tls_ca\":\"$T/ca.crt\""'
ln -s edge.crt "$T/edge-link.crt"
check "... relative TLS file paths made absolute, links kept (not resolved)" \
    eval '(cd "$T" && "$LURKCTL" -j keyref -e "tls://127.0.0.1:$px_PORT" \
    -c edge-link.crt -k edge.key -C ca.crt p256.crt) | tr -d " \n" |
    grep -qF "\"tls_certificate\":\"$T/edge-link.crt\",\"tls_key\":\"$T/edge.key\""'
n0=$(grep -c "^peer" "$T/px.log")
start_server "$T/tls.ref" "$T/p256.crt" ||
    { nok "s_server started"; cat "$T/s_server.log"; finish; }
hs "s_server with a tls:// reference: TLS 1.3 handshake" -tls1_3
hs "... TLS 1.2 ECDHE" -tls1_2 -cipher ECDHE-ECDSA-AES128-GCM-SHA256
check "... signed through the TLS listener" \
    [ "$(grep -c "^peer CN=edge1" "$T/px.log")" -gt "$n0" ]
stop_server

# many threads pipelined on one TLS connection; a forked child
conns=$(grep -c "^peer" "$T/px.log")
out=$(OPENSSL_CONF=$T/openssl.cnf "$EDGETEST" sign "$T/tls.ref" \
    "$T/p256.crt" 8 50)
check "tls://: 8 threads x 50 signatures, all verified ($out)" \
    [ "$out" = "400 signatures, 0 failed" ]
check "... over one TLS connection" \
    [ "$(grep -c "^peer" "$T/px.log")" = $((conns + 1)) ]
out=$(OPENSSL_CONF=$T/openssl.cnf "$EDGETEST" fork "$T/tls.ref" \
    "$T/p256.crt" 50)
check "tls://: after fork, parent and child sign at once ($out)" \
    [ "$out" = "parent: 0 failed; child: ok" ]

"$LURKCTL" keyref -e "tls://localhost:$px_PORT" "${TLSFILES[@]}" \
    "$T/p256.crt" >"$T/name.ref" 2>"$T/err"
check "keyref -e tls://localhost (a name, resolved): exit $?" [ -s "$T/name.ref" ]

# refusals: each a failure saying why, nothing written
refused() {	# refused WHAT PATTERN keyref-args...
	local what=$1 pat=$2 rc
	shift 2
	"$LURKCTL" keyref "$@" "$T/p256.crt" >"$T/out" 2>"$T/err"
	rc=$?
	check "$what: keyref fails ($rc)" [ "$rc" != 0 -a ! -s "$T/out" ]
	check "... saying why" grep -qi -- "$pat" "$T/err"
}
refused "server certificate from another CA" "server certificate" \
    -e "tls://127.0.0.1:$px_PORT" -c "$T/edge.crt" -k "$T/edge.key" \
    -C "$T/ca2.crt"
refused "server certificate for another name" "server certificate" \
    -e "tls://127.0.0.1:$px2_PORT" "${TLSFILES[@]}"
refused "client certificate the server does not trust" "tls://127.0.0.1:$px_PORT" \
    -e "tls://127.0.0.1:$px_PORT" -c "$T/edge2.crt" -k "$T/edge2.key" \
    -C "$T/ca.crt"
check "... and the server refused it" grep -q "^refused" "$T/px.log"
refused "client key not the certificate's" "edge2.key" \
    -e "tls://127.0.0.1:$px_PORT" -c "$T/edge.crt" -k "$T/edge2.key" \
    -C "$T/ca.crt"

# failover between a tls:// endpoint nobody listens on and lurkd's socket
DEADPORT=$(free_port)
"$LURKCTL" keyref -e "tls://127.0.0.1:$DEADPORT" -e "unix:$SOCK" \
    "${TLSFILES[@]}" "$T/p256.crt" >"$T/mixed.ref" 2>"$T/err"
check "keyref -e dead tls:// -e unix: exit $?" [ -s "$T/mixed.ref" ]
start_server "$T/mixed.ref" "$T/p256.crt" ||
    { nok "s_server started"; cat "$T/s_server.log"; finish; }
hs "... and s_server fails over to the socket" -tls1_3
stop_server

# the TLS files are read when the key is loaded: gone, the key fails
cp "$T/edge.key" "$T/gone.key"
"$LURKCTL" keyref -e "tls://127.0.0.1:$px_PORT" -c "$T/edge.crt" \
    -k "$T/gone.key" -C "$T/ca.crt" "$T/p256.crt" >"$T/gone.ref"
rm -f "$T/gone.key"
out=$(OPENSSL_CONF=$T/openssl.cnf openssl pkey -in "$T/gone.ref" -pubout 2>&1)
check "reference whose client key is gone: the key does not load" \
    eval '! grep -q "BEGIN PUBLIC KEY" <<<"$out"'
check "... saying which file" grep -q "gone.key" <<<"$out"
finish
