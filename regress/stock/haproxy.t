# Stock haproxy 2.6 (Debian's) in master-worker mode, running as user
# haproxy, with the lurk key reference in the crt bundle: curl gets 200.
. "$LURKD_TOP/regress/lib.sh"

stock_require haproxy haproxy haproxy haproxy

stock_lurkd haproxy 1 "listen on unix \"$SOCK\" mode 0666"
for k in ec rsa; do
	cat "$T/$k.crt" "$T/$k.ref" >"$T/$k.pem" ||
	    { nok "crt bundle for $k"; finish; }
done
check "the crt bundles hold no private key" \
    bash -c "! grep -q 'PRIVATE KEY' '$T/ec.pem' '$T/rsa.pem'"
chmod 0644 "$T"/*.pem
provider_conf "$T/openssl.cnf" "$SOCK" 2000

PORT=$(free_port)
cat >"$T/haproxy.cfg" <<CFG
global
	user haproxy
	group haproxy
	log stderr format short local0 info
	nbthread 2
defaults
	mode http
	log global
	timeout connect 5s
	timeout client 10s
	timeout server 10s
frontend tls
	bind 127.0.0.1:$PORT ssl crt $T/ec.pem crt $T/rsa.pem
	http-request return status 200 content-type text/plain string "ok\n"
CFG
OPENSSL_CONF=$T/openssl.cnf haproxy -W -db -f "$T/haproxy.cfg" \
    >"$T/haproxy.out" 2>&1 &
HA_PID=$!
trap 'kill $HA_PID 2>/dev/null; wait $HA_PID 2>/dev/null; cleanup' EXIT
if ! wait_port "$PORT" 10; then
	nok "haproxy started with lurk key references"
	cat "$T/haproxy.out"
	finish
fi
ok "haproxy -W (master-worker) started with lurk key references"
check "the haproxy worker runs as user haproxy" \
    [ "$(ps -o user= --ppid "$HA_PID" | head -1)" = haproxy ]

CURL=(curl -s --max-time 10 --cacert "$T/ca.crt" --resolve "test.lurk:$PORT:127.0.0.1")
URL=https://test.lurk:$PORT/
out=$("${CURL[@]}" -w ' %{http_code}' --tlsv1.3 "$URL")
check "curl TLS 1.3 gets 200" [ "${out##* }" = 200 ]
out=$("${CURL[@]}" -w ' %{http_code}' --tlsv1.2 --tls-max 1.2 \
    --ciphers ECDHE-ECDSA-AES128-GCM-SHA256 "$URL")
check "curl TLS 1.2 ECDHE-ECDSA gets 200" [ "${out##* }" = 200 ]
out=$("${CURL[@]}" -w ' %{http_code}' --tlsv1.2 --tls-max 1.2 \
    --ciphers ECDHE-RSA-AES128-GCM-SHA256 "$URL")
check "curl TLS 1.2 ECDHE-RSA gets 200" [ "${out##* }" = 200 ]
kill -USR1 "$LURKD_PID"
wait_log 'stats: key "rsa"' 5
check "lurkd signed TLS 1.2 with the EC key" \
    grep -Eq 'stats: key "ec": .*sign-tls12 [1-9]' "$T/lurkd.log"
check "lurkd signed TLS 1.2 with the RSA key" \
    grep -Eq 'stats: key "rsa": .*sign-tls12 [1-9]' "$T/lurkd.log"
check "lurkd signed the TLS 1.3 handshake" \
    grep -Eq 'stats: key "(ec|rsa)": .*sign-tls13 [1-9]' "$T/lurkd.log"
finish
