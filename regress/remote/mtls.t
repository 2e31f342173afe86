# listen on tls: edges on other hosts over mutual TLS (lurkd.conf(5)).
# A TLS edge client (mtls.py, Python's ssl) with certificates of a test
# CA: allowed by SAN URI, subject and SPKI, it signs; refused, each with
# the alert it gets and the line lurkd logs: no certificate, another
# CA's, an expired one, a revoked one (CRL), a valid one the key does
# not allow (unauthorized), TLS 1.2 where only 1.3 is allowed.  TLS 1.2
# where allowed, over IPv6.  Limits per certificate.  The listener's
# private key is in no byte of netproc's memory (it is in keyproc's),
# and a slow keyproc does not stall netproc: a Unix socket peer is
# answered while a handshake waits for its signature.
. "$LURKD_TOP/regress/lib.sh"

. "$TOP/regress/remote/common.sh"

remote_setup

# the listener's CA file, apart from the one the clients trust lurkd by
cp "$T/ca.crt" "$T/edges-ca.crt"
openssl pkey -in "$T/srv.key" -pubout -outform DER -out "$T/srv.spki"
PORT=$(free_port)
PORT12=$(free_port)
ipv6=1
"$PYTHON" -c 'import socket; s=socket.socket(socket.AF_INET6); s.bind(("::1",0))' \
    2>/dev/null || ipv6=0

tlsblock() {	# tlsblock ADDRESS PORT [LINE...]
	local addr=$1 port=$2 line
	shift 2
	printf 'listen on tls %s port %s {\n' "$addr" "$port"
	printf '\tcertificate "%s"\n\tprivate "%s"\n\tca "%s"\n' \
	    "$T/srv.crt" "$T/srv.key" "$T/edges-ca.crt"
	for line; do printf '\t%s\n' "$line"; done
	echo "}"
}

mkconf() {	# mkconf KEYPROCS
	{
		echo "listen on unix \"$T/lurk.sock\" mode 0666"
		echo "keyprocs $1"
		echo "limit user connections 2"
		echo "watch no"	# the reloads below are the SIGHUPs
		echo "timeout message 2"
		tlsblock 127.0.0.1 "$PORT" "crl \"$T/crl.pem\""
		[ "$ipv6" = 1 ] && tlsblock ::1 "$PORT12" "tls version 1.2"
		key_conf k1 "allow uid $(id -u)" \
		    'allow client san "spiffe://example.org/ns/web/sa/edge1"' \
		    'allow client subject "CN=edge2,O=CDN"' \
		    "allow client spki \"$(cat "$T/edge3.spki")\"" \
		    'allow client san "allowed.test"' \
		    "allow client subject \"$longrule\""
	} >"$T/lurkd.conf"
}
# the first 255 bytes of longsubj's subject: a rule it must not match
longrule=$(openssl x509 -in "$T/longsubj.crt" -noout -subject \
    -nameopt RFC2253 | sed 's/^subject=//' | cut -c1-255)
mkconf 1
start_lurkd "$T/lurkd.conf" || { nok "lurkd started"; finish; }

edge() {	# edge PORT CERT|- VERSION [HOST]
	"$PYTHON" "$TOP/regress/remote/mtls.py" edge "${4:-127.0.0.1}" "$1" \
	    "$2" "$3" "$T/k1.spki" 2>&1
}

# expect WHAT OUTPUT PATTERN: the client's line matches
expect() {
	if grep -Eq -- "$3" <<<"$2"; then ok "$1"; else nok "$1 ($2)"; fi
}

for c in edge1:san edge2:subject edge3:spki; do
	out=$(edge "$PORT" "${c%%:*}" 1.3)
	expect "${c%%:*} (allow client ${c#*:}): TLS 1.3, pinged, signed" \
	    "$out" '^handshake=ok ping=1 sign=1 version=TLSv1.3$'
done
check "... lurkd logs each peer's certificate: subject and SPKI" \
    eval 'logged "TLS TLSv1.3, certificate subject \"CN=edge2,O=CDN\" spki sha256:[0-9a-f]{64}" &&
    logged "spki $(cat "$T/edge3.spki")"'

out=$(edge "$PORT" stranger 1.3)
expect "a valid certificate the key does not allow: unauthorized (9)" \
    "$out" '^handshake=ok ping=1 sign=9 '
check "... logged with its identity, the transport and why" \
    logged 'netproc: conn [0-9]+ cert sha256:[0-9a-f]{16} "CN=stranger,O=CDN": unauthorized key "k1" sign-tls13 .*: cert sha256:[0-9a-f]{16} "CN=stranger,O=CDN" may not use this key'

out=$(edge "$PORT" longsubj 1.3)
expect "a subject longer than a rule may be, which a rule equal to its start does not match: unauthorized (9)" \
    "$out" '^handshake=ok ping=1 sign=9 '

# refused in the handshake: the alert, then lurkd's line
refused() {	# refused WHAT CERT VERSION ALERT LOG-PATTERN
	local out
	out=$(edge "$PORT" "$2" "$3")
	expect "$1: refused in the handshake ($4)" "$out" "^handshake=alert:$4 "
	check "... logged: $5" logged \
	    "netproc: conn [0-9]+ tls peer 127.0.0.1: TLS handshake refused: .*$5"
}
refused "no client certificate" - 1.3 TLSV13_ALERT_CERTIFICATE_REQUIRED \
    "peer did not return a certificate"
refused "a certificate of another CA" foreign 1.3 TLSV1_ALERT_UNKNOWN_CA \
    "certificate /CN=foreign \(depth 0\): unable to get local issuer certificate"
refused "an expired certificate" expired 1.3 SSLV3_ALERT_CERTIFICATE_EXPIRED \
    "certificate /CN=expired \(depth 0\): certificate has expired"
refused "a revoked certificate (crl)" revoked 1.3 \
    SSLV3_ALERT_CERTIFICATE_REVOKED \
    "certificate /CN=revoked \(depth 0\): certificate revoked"
refused "TLS 1.2 where the listener allows only 1.3" edge1 1.2 \
    TLSV1_ALERT_PROTOCOL_VERSION "unsupported protocol"

if [ "$ipv6" = 1 ]; then
	out=$(edge "$PORT12" edge1 1.2 ::1)
	expect "tls version 1.2, on ::1: a TLS 1.2 handshake (ServerKeyExchange signed by keyproc), then a signature" \
	    "$out" '^handshake=ok ping=1 sign=1 version=TLSv1.2$'
else
	skip "tls version 1.2 on ::1: no IPv6 loopback here"
fi

# the listener's key is keyproc's only: no edge may name it
out=$(LURK_SOCKET=$T/lurk.sock "$PYTHON" -c '
import sys; sys.path.insert(0, sys.argv[1])
import lurkclient as lc
s = lc.connect()
p = lc.p256_sign13(sys.argv[2])
s.sendall(lc.hdr(192, 1, 2, 0, 1, len(p)) + p)
print(lc.recv_msg(s)[0][3])' "$TOP/regress" "$T/srv.spki" 2>&1)
check "an edge naming the listener's key: unknown_key (8)" [ "$out" = 8 ]

# limits per certificate: two connections of edge1 at most, edge2 apart
out=$("$PYTHON" "$TOP/regress/remote/mtls.py" hold 127.0.0.1 "$PORT" \
    edge1,edge1,edge2,edge1 "$T/k1.spki" 2>&1)
check "limit user connections 2 per certificate: edge1's third connection temporary_failure (7), edge2's served ($out)" \
    [ "$out" = "1 1 1 7" ]
check "... logged with the certificate" \
    logged 'cert sha256:[0-9a-f]{16} "CN=edge1,O=CDN": 2 connections open \(limit user connections 2\): connection refused'

# memory: the listener's secret scalar, and its key file's DER
if [ "$root" = 1 ]; then
	{ needles "$T/srv.key" && openssl pkey -in "$T/srv.key" -outform DER |
	    od -An -tx1 -v | tr -d ' \n' | cut -c1-96 && echo; } \
	    >"$T/srv.needles" || nok "the listener key's secret"
	"$PYTHON" "$TOP/regress/security/memscan.py" "$(child_pid netproc)" \
	    "$T/srv.needles" >"$T/scan.net" 2>&1
	check "no byte of the listener's private key in netproc's memory" \
	    [ $? = 0 ]
	"$PYTHON" "$TOP/regress/security/memscan.py" "$(child_pid keyproc)" \
	    "$T/srv.needles" >"$T/scan.kp" 2>&1
	check "... the same scan finds it in keyproc's (it is not blind)" \
	    [ $? = 1 ]
else
	skip "memory scan: needs root to read lurkd's children"
fi

# a peer that connects and says nothing: closed after timeout message
"$PYTHON" -c '
import socket, sys, time
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=10)
t0 = time.monotonic()
print("closed" if s.recv(1) == b"" else "data")' "$PORT" >"$T/silent.out" 2>&1
check "a silent TLS peer is closed (timeout message 2)" \
    grep -qx closed "$T/silent.out"
check "... logged" logged \
    "conn [0-9]+ tls peer 127.0.0.1: did not finish its TLS handshake in time: closed"

# reloads: the listener's CA and CRL files are read again: now the
# other CA's, so foreign is let in and edge1 refused; then the rules
# change (edge2 no longer)
cp "$T/crl.pem" "$T/crl.pem.orig"
cat "$T/otherca.crt" >"$T/edges-ca.crt"
cat "$T/othercrl.pem" >"$T/crl.pem"
kill -HUP "$LURKD_PID"
wait_log "generation 2 in use" 10 || nok "reload done"
out=$(edge "$PORT" foreign 1.3)
expect "reload: the listener's new CA file: its certificate now signs ($out)" \
    "$out" '^handshake=ok ping=1 sign=1 '
out=$(edge "$PORT" edge1 1.3)
expect "... the old CA's certificates refused ($out)" "$out" \
    '^handshake=alert:TLSV1_ALERT_UNKNOWN_CA '
cp "$T/ca.crt" "$T/edges-ca.crt"
cp "$T/crl.pem.orig" "$T/crl.pem"
sed -i '/allow client subject/d' "$T/lurkd.conf"
kill -HUP "$LURKD_PID"
wait_log "generation 3 in use" 10 || nok "reload done"
out=$(edge "$PORT" edge2 1.3)
expect "reload: allow client subject removed: edge2 unauthorized (9) ($out)" \
    "$out" '^handshake=ok ping=1 sign=9 '
out=$(edge "$PORT" edge1 1.3)
expect "... edge1 (san) still signs ($out)" "$out" '^handshake=ok ping=1 sign=1 '
stop_lurkd

# log format json: the refusals carry the transport and the peer
mkconf 1
echo "log format json" >>"$T/lurkd.conf"
LURKD_READY=$LURKD_READY_JSON start_lurkd "$T/lurkd.conf" ||
    { nok "lurkd started, log format json"; finish; }
edge "$PORT" stranger 1.3 >/dev/null
edge "$PORT" - 1.3 >/dev/null
logged '"message":"conn [0-9]+ tls peer 127.0.0.1: TLS handshake refused' ||
    nok "the json log has the handshake's refusal"
"$PYTHON" - "$T/lurkd.log" >"$T/json.out" 2>&1 <<'PYEOF'
import json, re, sys
lines = [json.loads(l) for l in open(sys.argv[1]) if l.startswith("{")]
def one(what, **want):
    hit = [l for l in lines if all(
        re.search(v, str(l.get(k, ""))) for k, v in want.items())]
    print(("ok - " if hit else "not ok - ") + what)
one("json: unauthorized, with the transport and the peer's certificate",
    process="netproc", transport="^tls$", status="^unauthorized$",
    peer=r'^cert sha256:[0-9a-f]{16} "CN=stranger,O=CDN"$',
    reason="may not use this key", key="^k1$")
one("json: a handshake refused, with the transport, the peer's address "
    "and why", process="netproc", transport="^tls$",
    peer="^tls peer 127.0.0.1$", reason="peer did not return a certificate",
    message="TLS handshake refused")
PYEOF
cat "$T/json.out"
grep -q "^not ok" "$T/json.out" && FAILED=1
stop_lurkd

# a slow keyproc: the handshake waits, netproc serves the others
mkconf 2
start_lurkd "$T/lurkd.conf" "$LURKD_TEST" env LURKD_TEST_SLOW_TLS_MS=3000 ||
    { nok "lurkd-test started, keyproc slow for handshakes"; finish; }
out=$(LURKD_LOG=$T/lurkd.log "$PYTHON" "$TOP/regress/remote/mtls.py" slow \
    127.0.0.1 "$PORT" edge1 "$T/lurk.sock" "$T/k1.spki" 2>&1)
# the one timing bound here (issue 12 asks for it): keyproc takes 3 s
# for the handshake; the Unix socket peer, asked meanwhile, gets its
# two answers within 1.5 s (a netproc that waited would take 3)
check "keyproc 3 s slow for a handshake: a Unix socket peer asked meanwhile gets its ping and signature within 1.5 s ($out)" \
    eval '[[ $out =~ ^pending=1\ unix=1,1\ unix_s=(0\.[0-9]+|1\.[0-4][0-9])\ hs_s=([3-9]|[1-9][0-9])\.[0-9]+\ tls=1$ ]]'
stop_lurkd
check "lurkd exits 0" lurkd_exited 0
finish
