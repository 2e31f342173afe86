# upstream: a lurkd that holds no key relays to the lurkd that does
# (lurkd.conf(5), "upstream"), on this host over 127.0.0.1.  The relay
# names its upstream "localhost" (the parent resolves it; a refused
# address is followed by the next), shows it its own client
# certificate, and routes by name (key_info), then by what it learnt.
# Asserted: key_info and signatures through the relay, verified with
# the key; two edges with the same request ids each get their own
# answers (ids remapped); the upstream's refusal of the relay's
# certificate passed back as it is (unauthorized); an edge the relay
# does not allow refused by the relay; an upstream that is down answers
# temporary_failure at once; the relay's client key is in no byte of
# the relay's netproc.
. "$LURKD_TOP/regress/lib.sh"

. "$TOP/regress/remote/common.sh"

remote_setup
PORT=$(free_port)
mkdir -p "$T/owner" "$T/relay"

# the content owner's lurkd: the key, for edge1's certificate only
cat >"$T/owner/lurkd.conf" <<CONF
listen on unix "$T/owner/lurk.sock" mode 0666
keyprocs 1
watch no
listen on tls 127.0.0.1 port $PORT {
	certificate "$T/srv.crt"
	private "$T/srv.key"
	ca "$T/ca.crt"
}
$(key_conf k1 'allow client san "spiffe://example.org/ns/web/sa/edge1"')
CONF

relayconf() {	# relayconf CERT ROUTE: the relay, its client certificate CERT
	cat >"$T/relay/lurkd.conf" <<CONF
listen on unix "$T/relay/lurk.sock" mode 0666
keyprocs 1
watch no
upstream "owner" {
	address "localhost" port $PORT
	certificate "$T/$1.crt"
	private "$T/$1.key"
	ca "$T/ca.crt"
	route $2
	allow uid 0
}
CONF
}

# two lurkd: the owner's in $OWNER_PID, the relay's in LURKD_PID
start_owner() {
	"$LURKD" -d -v -f "$T/owner/lurkd.conf" >"$T/owner.log" 2>&1 &
	OWNER_PID=$!
	for ((i = 0; i < 200; i++)); do
		grep -qs "parent: ready:" "$T/owner.log" && return 0
		sleep 0.05
	done
	cat "$T/owner.log" >&2
	return 1
}
stop_owner() {
	[ -n "${OWNER_PID:-}" ] || return 0
	kill "$OWNER_PID" 2>/dev/null
	wait "$OWNER_PID" 2>/dev/null
	OWNER_PID=
}
trap 'stop_owner; cleanup' EXIT

[ "$(id -u)" = 0 ] || { skip "relay: allow uid 0 in the relay needs root"; finish; }
start_owner || { nok "the owner's lurkd started"; finish; }
relayconf edge1 'name "k1"'
start_lurkd "$T/relay/lurkd.conf" || { nok "the relay's lurkd started"; finish; }

# a sanitizer build of the tool itself would report its exit leaks
out=$(ASAN_OPTIONS=detect_leaks=0 "$TOP/bench/lurkload" -s "$T/relay/lurk.sock" -n k1 -S 0x0403 -c 2 \
    -d 4 -t 1 -w 0.2 2>&1)
check "through the relay: key_info by name, then pipelined signatures, each verified with the key ($out)" \
    eval '[[ $out =~ ^ok\ .*errors=0\ lost=0\ verified=8\ verify_failed=0$ ]]'
check "... the relay holds no key, the owner signed for the relay's certificate" \
    eval 'logged "serving 0 keys" &&
    logged "cert sha256:[0-9a-f]{16} \"CN=edge1,O=CDN\": sign-tls13 key \"k1\": success" "$T/owner.log"'
check "... the relay named its upstream localhost: the parent resolved it, TLS 1.3 with the owner's certificate" \
    logged 'upstream "owner" (127.0.0.1|::1): TLSv1.3, upstream certificate /CN=lurkd.test'

out=$("$PYTHON" "$TOP/regress/remote/mtls.py" pipe "$T/relay/lurk.sock" 40 \
    "$T/k1.spki" 2>&1)
check "two edges, the same request ids 1..40 pipelined (signatures, key_infos the upstream answers first): each gets its own 40 answers ($out)" \
    [ "$out" = "40 40" ]

out=$(LURK_SOCKET=$T/relay/lurk.sock "$PYTHON" -c '
import os, sys; sys.path.insert(0, sys.argv[1])
import lurkclient as lc
def ask():
    s = lc.connect()
    p = lc.p256_sign13(sys.argv[2])
    s.sendall(lc.hdr(192, 1, 2, 0, 1, len(p)) + p)
    print(lc.recv_msg(s)[0][3])
    sys.stdout.flush()
    return True
lc.as_uid(65534, ask)' "$TOP/regress" "$T/k1.spki" 2>&1)
check "an edge the relay's upstream block does not allow (uid 65534): unauthorized (9) from the relay ($out)" \
    [ "$out" = 9 ]
check "... logged by the relay" \
    logged 'uid 65534: unauthorized sign-tls13 \(relay\): uid 65534 may not use upstream "owner"'

# a reload: the upstream's name resolved again, its routes kept
kill -HUP "$LURKD_PID"
wait_log "generation 2 in use" 10 || nok "the relay reloaded"
out=$("$PYTHON" "$TOP/regress/remote/mtls.py" once "$T/relay/lurk.sock" \
    "$T/k1.spki" 2>&1)
check "after a reload of the relay: signed through it again ($out)" \
    eval '[[ $out =~ ^status=1\  ]]'

# the relay's client key is keyproc's: not in the relay's netproc
needles "$T/edge1.key" >"$T/relay.needles" || nok "the relay key's secret"
"$PYTHON" "$TOP/regress/security/memscan.py" "$(child_pid netproc)" \
    "$T/relay.needles" >"$T/scan.net" 2>&1
check "no byte of the relay's client key in its netproc" [ $? = 0 ]
"$PYTHON" "$TOP/regress/security/memscan.py" "$(child_pid keyproc)" \
    "$T/relay.needles" >"$T/scan.kp" 2>&1
check "... the same scan finds it in its keyproc's" [ $? = 1 ]

# the owner down: answered at once
stop_owner
out=$("$PYTHON" "$TOP/regress/remote/mtls.py" once "$T/relay/lurk.sock" \
    "$T/k1.spki" 2>&1)
check "the upstream down: temporary_failure (7) at once, under 2 s ($out)" \
    eval '[[ $out =~ ^status=7\ secs=[01]\.[0-9]+$ ]]'
check "... the relay says why" \
    logged 'temporary_failure sign-tls13 \(relay\): upstream "owner"( 127\.0\.0\.1 port [0-9]+| ::1 port [0-9]+)?: (connection lost|Connection refused)'
stop_lurkd
cp "$T/lurkd.log" "$T/relay1.log"

# a relay whose certificate the owner's key does not allow
start_owner || { nok "the owner's lurkd started again"; finish; }
relayconf stranger default
start_lurkd "$T/relay/lurkd.conf" || { nok "the relay started"; finish; }
out=$(LURK_SOCKET=$T/relay/lurk.sock "$PYTHON" -c '
import sys; sys.path.insert(0, sys.argv[1])
import lurkclient as lc
s = lc.connect()
q = bytes([1, 2]) + b"k1"
s.sendall(lc.hdr(192, 1, 1, 0, 1, len(q)) + q)
print(lc.recv_msg(s)[0][3], end=" ")
p = lc.p256_sign13(sys.argv[2])
s.sendall(lc.hdr(192, 1, 2, 0, 2, len(p)) + p)
print(lc.recv_msg(s)[0][3])' "$TOP/regress" "$T/k1.spki" 2>&1)
check "the owner does not allow the relay's certificate: key_info (public) 1, the signature unauthorized (9), passed back ($out)" \
    [ "$out" = "1 9" ]
"$LURKCTL" keyref -S "$T/relay/lurk.sock" "$T/k1.crt" >"$T/k1.ref" 2>&1
check "lurkctl keyref through the relay (route default): key_info gives the key's public data" \
    grep -q "BEGIN" "$T/k1.ref"
check "... the owner logs the relay's certificate and why" \
    logged '"CN=stranger,O=CDN": unauthorized key "k1" sign-tls13' "$T/owner.log"
stop_lurkd
check "lurkd exits 0" lurkd_exited 0
finish
