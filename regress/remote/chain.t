# The CDN interconnection chain on four hosts: network namespaces and
# veth pairs, made here and torn down after.
#
#   client --- edge --------- cdn ---------- owner
#   curl       nginx          lurkd          lurkd
#              lurkd (relay)  (relay, no     (the key)
#              (no key)       key)
#
# The edge's nginx (www-data) has a key reference made through its
# local lurkd, which holds no key and relays over mutual TLS to the
# CDN's lurkd, which holds none either and relays, with a certificate of
# its own, to the content owner's lurkd, which signs for the CDN's
# certificate only.  curl from the client gets 200 over TLS 1.3 and
# 1.2.  Then the edge as the provider makes it, with no lurkd of its
# own: nginx's references name two CDN key servers by tls:// (the
# second, cdn2, on another address of the CDN host), with the edge's
# client certificate; under a steady load of handshakes from the
# client, the first CDN lurkd is killed and later started again: the
# failed handshakes are counted and bounded, and signing comes back to
# the first.  Refusals on these hosts: no client certificate, another
# CA's, an expired one, one the relay does not allow, the edge's at the
# owner (the rest are regress/remote/mtls.t's and relay.t's).
# regress-timeout: 180
. "$LURKD_TOP/regress/lib.sh"
. "$TOP/regress/remote/common.sh"

[ "$(id -u)" = 0 ] || { skip "chain: needs root (network namespaces)"; finish; }
command -v ip >/dev/null || { skip "chain: no ip(8) (iproute2)"; finish; }
command -v nginx >/dev/null || { skip "chain: nginx not installed"; finish; }
getent passwd www-data >/dev/null || { skip "chain: no user www-data"; finish; }
[ -f "$PROVIDER" ] || { nok "provider built"; finish; }

P=lk$$			# names of our own: other tests run at the same time
NS="${P}c ${P}e ${P}d ${P}o"
PIDS=()
teardown() {
	local p n
	for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done
	for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null; done
	for n in $NS; do ip netns del "$n" 2>/dev/null; done
}
trap 'teardown; cleanup' EXIT
if ! ip netns add "${P}c" 2>"$T/netns.err"; then
	skip "chain: ip netns add is not allowed here: $(head -1 "$T/netns.err")"
	finish
fi
for n in e d o; do ip netns add "$P$n" || { nok "ip netns add $P$n"; finish; }; done
# link A B NET: veth A-B, A gets NET.2, B NET.1
link() {
	ip link add "$P$1$2" netns "$P$1" type veth peer name "$P$2$1" \
	    netns "$P$2" &&
	ip -n "$P$1" addr add "$3.2/24" dev "$P$1$2" &&
	ip -n "$P$2" addr add "$3.1/24" dev "$P$2$1" &&
	ip -n "$P$1" link set "$P$1$2" up && ip -n "$P$2" link set "$P$2$1" up
}
for n in c e d o; do ip -n "$P$n" link set lo up; done
link c e 10.77.3 && link e d 10.77.1 && link d o 10.77.2 ||
    { nok "veth pairs between the namespaces"; finish; }
ok "four network namespaces, three veth pairs"
check "... the client does not reach the owner" \
    eval '! ip netns exec "${P}c" ping -c1 -W1 10.77.2.1 >/dev/null 2>&1'

remote_setup
ensure_user || { nok "create user _lurkd"; finish; }
# servers' certificates for their addresses; the site's key
server_cert() {	# server_cert NAME IP
	openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
	    -keyout "$T/$1.key" -subj "/CN=$1" -out "$T/$1.csr" 2>/dev/null &&
	openssl x509 -req -in "$T/$1.csr" -CA "$T/ca.crt" -CAkey "$T/ca.key" \
	    -CAcreateserial -days 2 -out "$T/$1.crt" -extfile <(printf \
	    'subjectAltName=DNS:lurkd.test,IP:%s\nextendedKeyUsage=serverAuth\n' \
	    "$2") \
	    2>/dev/null && chmod 0600 "$T/$1.key"
}
server_cert owner 10.77.2.1 && server_cert cdn 10.77.1.1 &&
    server_cert cdn2 10.77.1.3 &&
    openssl req -new -x509 -key "$T/k1.key" -subj /CN=test.lurk -days 2 \
    -addext subjectAltName=DNS:test.lurk -out "$T/site.crt" 2>/dev/null ||
    { nok "make the certificates"; finish; }
mkdir -p "$T/o" "$T/d" "$T/e" "$T/nginx/logs"
chmod 0755 "$T/e"

cat >"$T/o/lurkd.conf" <<CONF
keyprocs 1
watch no
listen on tls 10.77.2.1 port 8443 {
	certificate "$T/owner.crt"
	private "$T/owner.key"
	ca "$T/ca.crt"
}
key "site" {
	private "$T/k1.key"
	certificate "$T/site.crt"
	allow client subject "CN=edge2,O=CDN"
}
CONF
cat >"$T/d/lurkd.conf" <<CONF
keyprocs 1
watch no
listen on tls 10.77.1.1 port 8443 {
	certificate "$T/cdn.crt"
	private "$T/cdn.key"
	ca "$T/ca.crt"
}
upstream "owner" {
	address "10.77.2.1" port 8443
	certificate "$T/edge2.crt"
	private "$T/edge2.key"
	ca "$T/ca.crt"
	route default
	allow client san "spiffe://example.org/ns/web/sa/edge1"
}
CONF
mkdir -p "$T/d2"
sed -e 's|10.77.1.1 port|10.77.1.3 port|' -e "s|$T/cdn\.|$T/cdn2.|g" \
    "$T/d/lurkd.conf" >"$T/d2/lurkd.conf"
ip -n "${P}d" addr add 10.77.1.3/24 dev "${P}de" ||
    { nok "a second address on the CDN host"; finish; }
cat >"$T/e/lurkd.conf" <<CONF
keyprocs 1
watch no
listen on unix "$T/e/lurk.sock" mode 0660 group "www-data"
upstream "cdn" {
	address "10.77.1.1" port 8443
	certificate "$T/edge1.crt"
	private "$T/edge1.key"
	ca "$T/ca.crt"
	route default
	allow user "www-data"
	allow uid 0
}
CONF

start_in() {	# start_in NS DIR: lurkd in that namespace, ready
	local i
	ip netns exec "$P$1" "$LURKD" -d -v -f "$T/$2/lurkd.conf" \
	    >"$T/$2.log" 2>&1 &
	PIDS+=($!)
	LAST=$!
	for ((i = 0; i < 200; i++)); do
		grep -qs "parent: ready:" "$T/$2.log" && return 0
		sleep 0.05
	done
	cat "$T/$2.log" >&2
	return 1
}
start_in o o && start_in d d && CDN1=$LAST && start_in d d2 && start_in e e ||
    { nok "the four lurkd started in their namespaces"; finish; }
ok "the four lurkd started in their namespaces"

"$LURKCTL" keyref -S "$T/e/lurk.sock" "$T/site.crt" >"$T/site.ref" 2>"$T/keyref.err"
check "lurkctl keyref on the edge, through two relays: the owner's public key" \
    grep -q "BEGIN" "$T/site.ref"
ip netns exec "${P}e" "$LURKCTL" keyref -e tls://10.77.1.1:8443 \
    -e tls://10.77.1.3:8443 -c "$T/edge1.crt" -k "$T/edge1.key" \
    -C "$T/ca.crt" "$T/site.crt" >"$T/direct.ref" 2>"$T/direct.err"
check "lurkctl keyref -e tls://cdn -e tls://cdn2 on the edge: the owner's public key" \
    grep -q "BEGIN" "$T/direct.ref"
provider_conf "$T/openssl.cnf" "$T/e/lurk.sock" 5000
cat >"$T/nginx/nginx.conf" <<NGINX
user www-data;
worker_processes 1;
master_process on;
daemon off;
pid $T/nginx/nginx.pid;
error_log $T/nginx/logs/error.log info;
env OPENSSL_CONF;
events { worker_connections 64; }
http {
	access_log off;
	server {
		listen 10.77.3.1:8443 ssl;
		server_name test.lurk;
		ssl_certificate $T/site.crt;
		ssl_certificate_key $T/site.ref;
		ssl_protocols TLSv1.2 TLSv1.3;
		ssl_session_cache off;
		ssl_session_tickets off;
		location / { return 200 "chain\n"; }
	}
	server {
		listen 10.77.3.1:8444 ssl;
		server_name test.lurk;
		ssl_certificate $T/site.crt;
		ssl_certificate_key $T/direct.ref;
		ssl_protocols TLSv1.2 TLSv1.3;
		ssl_session_cache off;
		ssl_session_tickets off;
		location / { return 200 "direct\n"; }
	}
}
NGINX
OPENSSL_CONF=$T/openssl.cnf ip netns exec "${P}e" nginx -p "$T/nginx" \
    -c "$T/nginx/nginx.conf" >"$T/nginx/out" 2>&1 &
PIDS+=($!)
for ((i = 0; i < 100; i++)); do
	ip netns exec "${P}e" bash -c '(exec 3<>/dev/tcp/10.77.3.1/8443)' \
	    2>/dev/null && break
	sleep 0.1
done

CURL=(ip netns exec "${P}c" curl -s --max-time 15 --cacert "$T/site.crt"
    --resolve test.lurk:8443:10.77.3.1 -w ' %{http_code}')
out=$("${CURL[@]}" --tlsv1.3 https://test.lurk:8443/ 2>&1)
check "curl from the client over TLS 1.3: 200 through edge, CDN and owner ($out)" \
    [ "$out" = "chain
 200" ]
out=$("${CURL[@]}" --tlsv1.2 --tls-max 1.2 \
    --ciphers ECDHE-ECDSA-AES128-GCM-SHA256 https://test.lurk:8443/ 2>&1)
check "curl from the client over TLS 1.2: 200 ($out)" [ "$out" = "chain
 200" ]
check "the owner signed them for the CDN's certificate" \
    logged '"CN=edge2,O=CDN": sign-tls12 key "site": success' "$T/o.log"
check "... the CDN relayed them for the edge's certificate" \
    logged 'cert sha256:[0-9a-f]{16} "CN=edge1,O=CDN": sign-tls13 relayed by upstream "owner": success' \
    "$T/d.log"
check "... neither the edge nor the CDN holds a key" \
    eval 'logged "netproc: serving 0 keys" "$T/e.log" &&
    logged "netproc: serving 0 keys" "$T/d.log"'

# Refused on the real hosts, each with the CDN's (or the owner's) line:
# from the edge host, a TLS edge (mtls.py) without a certificate, with
# another CA's, with an expired one, and with a valid one the CDN's
# upstream block does not allow; from the CDN host, the edge's own
# certificate at the owner, whose key allows the CDN's only.
try_at() {	# try_at NS HOST CERT: mtls.py's line
	ip netns exec "$P$1" "$PYTHON" "$TOP/regress/remote/mtls.py" edge \
	    "$2" 8443 "$3" 1.3 "$T/k1.spki" 2>&1
}
refused_at() {	# refused_at WHAT CERT ALERT LOG-PATTERN
	local out
	out=$(try_at e 10.77.1.1 "$2")
	check "edge host -> CDN, $1: refused in the handshake ($out)" \
	    grep -q "^handshake=alert:$3 " <<<"$out"
	check "... the CDN logged: $4" logged \
	    "netproc: conn [0-9]+ tls peer 10.77.1.2: TLS handshake refused: .*$4" \
	    "$T/d.log"
}
refused_at "no client certificate" - TLSV13_ALERT_CERTIFICATE_REQUIRED \
    "peer did not return a certificate"
refused_at "a certificate of another CA" foreign TLSV1_ALERT_UNKNOWN_CA \
    "certificate /CN=foreign \(depth 0\): unable to get local issuer certificate"
refused_at "an expired certificate" expired SSLV3_ALERT_CERTIFICATE_EXPIRED \
    "certificate /CN=expired \(depth 0\): certificate has expired"
out=$(try_at e 10.77.1.1 stranger)
check "edge host -> CDN, a valid certificate the relay does not allow: unauthorized (9) ($out)" \
    grep -q "^handshake=ok ping=1 sign=9 " <<<"$out"
check "... the CDN logged who and why" \
    logged '"CN=stranger,O=CDN".* may not use' "$T/d.log"
out=$(try_at d 10.77.2.1 edge1)
check "CDN host -> owner, the edge's certificate: unauthorized (9) ($out)" \
    grep -q "^handshake=ok ping=1 sign=9 " <<<"$out"
check "... the owner logged who and why" \
    logged '"CN=edge1,O=CDN" may not use this key' "$T/o.log"

# The edge with no lurkd: the provider's tls:// to the first CDN, the
# second if it fails.
URL2=https://test.lurk:8444/
out=$("${CURL[@]}" --resolve test.lurk:8444:10.77.3.1 --tlsv1.3 "$URL2" 2>&1)
check "the edge's provider over tls:// to the CDN: 200 over TLS 1.3 ($out)" \
    [ "$out" = "direct
 200" ]
relayed() {	# relayed LOG: the CDN relayed for the edge's certificate
	grep -Ec '"CN=edge1,O=CDN": sign-tls1[23] relayed by upstream "owner": success' "$1"
}
check "... signed through the first CDN, not the second" \
    eval '[ "$(relayed "$T/d.log")" -ge 1 ] && [ "$(relayed "$T/d2.log")" = 0 ]'

# A steady load from the client while the first CDN lurkd is killed and
# started again.  nginx has one worker, which signs one handshake at a
# time: at most 1 request is in flight at the first CDN when it dies,
# and the provider sends a request lost that way once more on the next
# endpoint.  The bound: 1 failed handshake (expected: 0).
ip netns exec "${P}c" bash -c '
	end=$((SECONDS + 60))
	while [ ! -e "$1" ] && [ $SECONDS -lt $end ]; do
		curl -s -o /dev/null --max-time 10 --cacert "$2" \
		    --resolve test.lurk:8444:10.77.3.1 -w "%{http_code} %{time_total}\n" \
		    https://test.lurk:8444/
	done' load "$T/load.stop" "$T/site.crt" >"$T/load.out" 2>&1 &
LOADPID=$!
PIDS+=($LOADPID)
sleep 1
n0=$(wc -l <"$T/load.out")
kill -KILL "$CDN1"
wait "$CDN1" 2>/dev/null
# its children go with the parent's pipe; wait for the socket to close
for ((i = 0; i < 50; i++)); do
	ip netns exec "${P}d" bash -c '(exec 3<>/dev/tcp/10.77.1.1/8443)' \
	    2>/dev/null || break
	sleep 0.1
done
t_kill=$(date +%s%N)
sleep 2
n1=$(wc -l <"$T/load.out")
mv "$T/d.log" "$T/d-before.log"
start_in d d || { nok "the first CDN lurkd started again"; finish; }
sleep 3			# the provider tries a down endpoint again within 2 s
c2=$(relayed "$T/d2.log")
sleep 2
touch "$T/load.stop"
wait "$LOADPID"
total=$(wc -l <"$T/load.out")
failed=$(grep -vc '^200 ' "$T/load.out")
during=$(sed -n "$((n0 + 1)),${n1}p" "$T/load.out" | grep -c '^200 ')
slowest=$(sort -k2 -n "$T/load.out" | tail -1 | cut -d' ' -f2)
echo "# failover: $total handshakes, $failed failed, $during made while" \
    "the first CDN was down (2 s), slowest ${slowest} s"
check "failover: $failed of $total handshakes failed (bound 1: one worker's request in flight), slowest ${slowest} s" \
    [ "$total" -gt 20 -a "$failed" -le 1 ]
check "... the handshakes went on while the first CDN was down: $during" \
    [ "$during" -ge 3 ]
check "... through the second CDN meanwhile" [ "$(relayed "$T/d2.log")" -ge 1 ]
# the last 2 s of load: the restarted first CDN signs, the second not
check "after the first CDN is back: the edge signs through it again" \
    [ "$(relayed "$T/d.log")" -ge 1 ]
check "... and the second no longer grows ($c2 then $(relayed "$T/d2.log"))" \
    [ "$(relayed "$T/d2.log")" = "$c2" ]
finish
