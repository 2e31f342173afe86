# nginx (user www-data, 2 workers) whose key references name a key
# server by tls://: the provider's own TLS client, with the edge's
# client certificate and key readable by root only (read by nginx's
# master when it loads the keys, never by the workers), against
# tlsproxy.py, a stand-in for a key server's mutual-TLS listener that
# relays to lurkd's socket.  The edge's certificate renewed, nginx -s
# reload: new connections present the new one.
. "$LURKD_TOP/regress/lib.sh"

stock_require nginx nginx nginx www-data
stock_lurkd root 1 "listen on unix \"$SOCK\" mode 0600"

mkcert keys ca keys.test "subjectAltName=IP:127.0.0.1
extendedKeyUsage=serverAuth" &&
mkcert edge ca edge1 "extendedKeyUsage=clientAuth" &&
mkcert edge-new ca edge1-renewed "extendedKeyUsage=clientAuth" ||
    { nok "make TLS certificates"; finish; }
chmod 0600 "$T/edge.key" "$T/edge-new.key"

NGINX_PID=
trap 'kill $NGINX_PID "${STANDINS[@]}" 2>/dev/null;
    wait $NGINX_PID "${STANDINS[@]}" 2>/dev/null; cleanup' EXIT
tls_standin px keys
PXPORT=$px_PORT
[ -n "$PXPORT" ] || { nok "tlsproxy.py started"; cat "$T/px.err"; finish; }

for k in rsa ec; do
	"$LURKCTL" keyref -e "tls://127.0.0.1:$PXPORT" -c "$T/edge.crt" \
	    -k "$T/edge.key" -C "$T/ca.crt" "$T/$k.crt" >"$T/$k.ref" ||
	    { nok "lurkctl keyref -e tls:// $k"; finish; }
done
provider_conf "$T/openssl.cnf" "$T/run/nobody.sock" 2000
PORT=$(free_port)
stock_nginx
if ! wait_port "$PORT" 10; then
	nok "nginx started with tls:// references"
	cat "$T/nginx/out" "$T/nginx/logs/error.log"
	finish
fi
ok "nginx started with tls:// references"
check "the edge's client key is root's only" \
    eval '[ "$(stat -c %U:%a "$T/edge.key")" = root:600 ] &&
    ! runuser -u www-data -- cat "$T/edge.key" >/dev/null 2>&1'

CURL=(curl -s --max-time 10 --cacert "$T/ca.crt" --resolve "test.lurk:$PORT:127.0.0.1")
URL=https://test.lurk:$PORT/
ok13=0 ok12=0
for i in $(seq 10); do
	out=$("${CURL[@]}" -w ' %{http_code}' --tlsv1.3 -H 'Connection: close' "$URL")
	[ "${out##* }" = 200 ] && ok13=$((ok13 + 1))
	out=$("${CURL[@]}" -w ' %{http_code}' --tlsv1.2 --tls-max 1.2 \
	    --ciphers ECDHE-RSA-AES128-GCM-SHA256 -H 'Connection: close' "$URL")
	[ "${out##* }" = 200 ] && ok12=$((ok12 + 1))
done
check "curl TLS 1.3 and 1.2 through nginx, keys over tls://: $ok13 and $ok12 of 10" \
    [ "$ok13" = 10 -a "$ok12" = 10 ]
check "... the workers presented the edge's certificate over TLS 1.3" \
    grep -q "^peer CN=edge1 TLSv1.3" "$T/px.log"
check "... and lurkd signed for the proxy's peer, with both keys" \
    eval 'kill -USR1 $LURKD_PID; wait_log "stats: key \"ec\"" 5 &&
    grep -Eq "stats: key \"rsa\": .*sign-tls12 [1-9]" "$T/lurkd.log" &&
    grep -Eq "stats: key \"ec\": .*sign-tls13 [1-9]" "$T/lurkd.log"'

# the edge's certificate renewed in place, nginx reloaded
cp "$T/edge-new.crt" "$T/edge.crt"
cp "$T/edge-new.key" "$T/edge.key"
kill -HUP "$NGINX_PID"
for i in $(seq 50); do
	grep -q "^peer CN=edge1-renewed" "$T/px.log" && break
	"${CURL[@]}" -o /dev/null --tlsv1.3 -H 'Connection: close' "$URL"
	sleep 0.1
done
check "nginx -s reload after the edge's certificate was renewed: new connections present it" \
    grep -q "^peer CN=edge1-renewed TLSv1.3" "$T/px.log"
out=$("${CURL[@]}" -w ' %{http_code}' --tlsv1.3 "$URL")
check "... and handshakes go on: ${out##* }" [ "${out##* }" = 200 ]
check "nginx logged no lurkd error" \
    eval '! grep -E "lurkd not reachable|connection to lurkd lost|no answer|TLS with lurkd refused" "$T/nginx/logs/error.log"'
finish
