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
# 1.2.  (The refusals of each hop are regress/remote/mtls.t's and
# relay.t's; the provider's own remote endpoints and failover are not
# this branch's.)
# regress-timeout: 120
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
	    'subjectAltName=IP:%s\nextendedKeyUsage=serverAuth\n' "$2") \
	    2>/dev/null && chmod 0600 "$T/$1.key"
}
server_cert owner 10.77.2.1 && server_cert cdn 10.77.1.1 &&
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
	for ((i = 0; i < 200; i++)); do
		grep -qs "parent: ready:" "$T/$2.log" && return 0
		sleep 0.05
	done
	cat "$T/$2.log" >&2
	return 1
}
start_in o o && start_in d d && start_in e e ||
    { nok "the three lurkd started in their namespaces"; finish; }
ok "the three lurkd started in their namespaces"

"$LURKCTL" keyref -S "$T/e/lurk.sock" "$T/site.crt" >"$T/site.ref" 2>"$T/keyref.err"
check "lurkctl keyref on the edge, through two relays: the owner's public key" \
    grep -q "BEGIN" "$T/site.ref"
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
finish
