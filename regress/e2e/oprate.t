# A rate per key and operation (limit OPERATION rate N [burst M]): each
# operation of a key has its own bucket, so sign-tls13 can be limited
# while sign-tls12 of the same key, and another key, are not; past the
# rate: temporary_failure, a log line naming the limit, a counter.
. "$LURKD_TOP/regress/lib.sh"

[ "$(id -u)" = 0 ] && { ensure_user || { nok "create user _lurkd"; finish; }; }
for k in a b; do
	mkkey "$k" p256 || { nok "make key $k"; finish; }
	openssl pkey -in "$T/$k.key" -pubout -outform DER -out "$T/$k.spki"
done
{
	printf 'listen on unix "%s" mode 0666\nkeyprocs 1\n' "$T/lurk.sock"
	printf 'control socket "%s"\n' "$T/ctl/lurkd.sock"
	key_conf a "limit sign-tls13 rate 3 burst 3" "allow uid $(id -u)"
	key_conf b "allow uid $(id -u)"
} >"$T/lurkd.conf"
check "lurkd -nv prints the limit, and no other" \
    eval '[ "$("$LURKD" -nnv -f "$T/lurkd.conf" | grep -c "limit sign")" = 1 ] &&
    "$LURKD" -nnv -f "$T/lurkd.conf" | grep -qx "	limit sign-tls13 rate 3 burst 3"'
start_lurkd "$T/lurkd.conf" || { nok "lurkd started"; finish; }
"$PYTHON" - "$T" <<'PY' || nok "the rate checks ran to the end"
import hashlib, os, sys, time
sys.path.insert(0, os.path.join(os.environ["LURKD_TOP"], "regress"))
from lurkclient import ok, finish, hdr, recv_msg
import socket
d = sys.argv[1]

def kid(k):
    return hashlib.sha256(open(os.path.join(d, k + ".spki"), "rb").read()).digest()

def req(k, typ, ident):
    if typ == 2:
        tbs = b" " * 64 + b"TLS 1.3, server CertificateVerify\x00" + bytes(32)
    else:
        tbs = os.urandom(64) + b"\x03\x00\x1d\x20" + os.urandom(32)
    p = kid(k) + b"\x04\x03" + len(tbs).to_bytes(2, "big") + tbs
    return hdr(192, 1, typ, 0, ident, len(p)) + p

def burst(k, typ, n):
    s = socket.socket(socket.AF_UNIX)
    s.connect(os.path.join(d, "lurk.sock"))
    s.sendall(b"".join(req(k, typ, i) for i in range(n)))
    st = [recv_msg(s)[0][3] for _ in range(n)]
    s.close()
    return st.count(1), st.count(7)

g, r = burst("a", 2, 10)
ok((g, r) == (3, 7), "key a, 10 sign-tls13 at once, rate 3 burst 3: "
   "3 made, 7 temporary_failure (%d, %d)" % (g, r))
g, r = burst("a", 3, 10)
ok((g, r) == (10, 0), "key a, 10 sign-tls12 right after: no limit, "
   "10 made (%d, %d)" % (g, r))
g, r = burst("b", 2, 10)
ok((g, r) == (10, 0), "key b, 10 sign-tls13: no limit, 10 made (%d, %d)"
   % (g, r))
time.sleep(1.1)
g, r = burst("a", 2, 3)
ok((g, r) == (3, 0), "key a a second later: 3 sign-tls13 made again")
finish()
PY
check "the refusal is logged with the key, the operation and the limit" \
    grep -q 'temporary_failure key "a" sign-tls13 .*limit sign-tls13 rate 3 a second exceeded' "$T/lurkd.log"
"$LURKCTL" -s "$T/ctl/lurkd.sock" -j show keys >"$T/keys.json"
check "show keys: key a's limit and its 7 refusals over the rate" \
    "$PYTHON" -c '
import json, sys
k = {x["name"]: x for x in json.load(open(sys.argv[1]))["keys"]}
sys.exit(not (k["a"]["limits"] == {"sign_tls13": {"rate": 3, "burst": 3}}
    and k["a"]["rate_refusals"]["sign_tls13"] == 7 and
    k["a"]["uses"]["sign_tls12"] == 10 and k["b"]["limits"] == {}))' "$T/keys.json"
kill -USR1 "$LURKD_PID"
wait_log 'stats: key "b"' 5
check "SIGUSR1: what was over the rate, for key a only" \
    eval 'grep -q "stats: key \"a\": .*; 7 sign-tls13 over the rate of 3 a second" "$T/lurkd.log" &&
    ! grep -q "stats: key \"b\": .*over the rate" "$T/lurkd.log"'
stop_lurkd
check "lurkd exits 0" lurkd_exited 0
finish
