# log format json: one JSON object a line, time, level, process and
# message always; every refused or failed operation with its key,
# operation, peer, transport, status and reason as fields (netproc's
# refusals, keyproc's, the limits'); lurkctl log verbose|brief changes
# the level at run time.
. "$LURKD_TOP/regress/lib.sh"

root_setup
mkkey p256 p256 || { nok "make key"; finish; }
openssl pkey -in "$T/p256.key" -pubout -outform DER -out "$T/p256.spki"
me=$(id -u)
{
	printf 'listen on unix "%s" mode 0666\nkeyprocs 1\n' "$T/lurk.sock"
	printf 'control socket "%s"\nlog format json\n' "$T/ctl/lurkd.sock"
	printf 'limit user connections 2\n'
	key_conf p256 "limit sign-tls13 rate 2 burst 2" "allow uid 4242"
	key_conf mine "allow uid $me" | sed "s|$T/mine|$T/p256b|"
} >"$T/lurkd.conf"
mkkey p256b p256 || { nok "make key"; finish; }
openssl pkey -in "$T/p256b.key" -pubout -outform DER -out "$T/p256b.spki"
check "lurkd -nv prints log format json" \
    eval '"$LURKD" -nnv -f "$T/lurkd.conf" | grep -qx "log format json"'
LURKD_READY=$LURKD_READY_JSON start_lurkd "$T/lurkd.conf" ||
    { nok "lurkd started"; finish; }
lc() { "$LURKCTL" -s "$T/ctl/lurkd.sock" "$@"; }

# refusals of every kind, by netproc, keyproc and the limits
"$PYTHON" - "$T" <<'PY' || nok "the refusals were made"
import hashlib, os, socket, sys, time
sys.path.insert(0, os.path.join(os.environ["LURKD_TOP"], "regress"))
from lurkclient import hdr, recv_msg
d = sys.argv[1]
def kid(k):
    return hashlib.sha256(open(os.path.join(d, k + ".spki"), "rb").read()).digest()
def sign(k, ident, ctx=b"server"):
    tbs = b" " * 64 + b"TLS 1.3, " + ctx + b" CertificateVerify\x00" + bytes(32)
    p = k + b"\x04\x03" + len(tbs).to_bytes(2, "big") + tbs
    return hdr(192, 1, 2, 0, ident, len(p)) + p
def conn():
    s = socket.socket(socket.AF_UNIX)
    s.settimeout(5)
    s.connect(os.path.join(d, "lurk.sock"))
    return s
s = conn()
s.sendall(sign(kid("p256"), 1))                     # unauthorized
s.sendall(sign(bytes(32), 2))                       # unknown key
s.sendall(sign(kid("p256b"), 3, b"client"))         # keyproc refuses
s.sendall(hdr(9, 1, 0, 0, 4, 0))                    # unknown extension
for _ in range(4):
    recv_msg(s)
s.close()
time.sleep(0.2)
a, b = conn(), conn()                               # the third is over
c = conn()
c.sendall(hdr(0, 1, 1, 0, 5, 0))
st = recv_msg(c)[0][3]
sys.exit(0 if st == 7 else 1)
PY
wait_log 'limit user connections' 5 >/dev/null
"$PYTHON" - "$T/lurkd.log" "$me" "$(id -g)" <<'PY' || nok "log checks ran to the end"
import json, os, re, sys
sys.path.insert(0, os.path.join(os.environ["LURKD_TOP"], "regress"))
from lurkclient import ok, finish
uid, gid = int(sys.argv[2]), int(sys.argv[3])
lines = open(sys.argv[1]).read().splitlines()
objs = []
for line in lines:
    try:
        objs.append(json.loads(line))
    except ValueError:
        objs.append(None)
ok(lines and all(o is not None for o in objs),
   "every line of the log is one JSON object (%d lines)" % len(lines))
objs = [o for o in objs if o is not None]
ok(all(re.match(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$", o["time"]) and
       o["level"] in ("error", "warning", "info", "debug") and
       o["process"] in ("parent", "netproc", "keyproc[0]") and
       isinstance(o["message"], str) for o in objs),
   "each has time (UTC, ms), level, process and message")

def one(what, **want):
    m = [o for o in objs if what in o["message"]]
    got = m[0] if m else {}
    extra = set(got) - set(want) - {"time", "level", "process", "message",
                                    "reason"}
    ok(len(m) == 1 and all(got.get(k) == v for k, v in want.items()) and
       not extra and got.get("reason"),
       "%s: one line with %s (%d: %s)" % (what, sorted(want), len(m), got))

one("unauthorized key", process="netproc", conn=1, peer_uid=uid,
    peer_gid=gid, transport="unix", key="p256", operation="sign-tls13",
    status="unauthorized", reason="uid %d gid %d may not use this key" %
    (uid, gid))
one("no such key", process="netproc", conn=1, peer_uid=uid, peer_gid=gid,
    transport="unix", operation="sign-tls13", status="unknown_key")
one("refused: key", process="keyproc[0]", peer_uid=uid, transport="unix",
    key="mine", operation="sign-tls13", status="invalid_content",
    reason="TLS 1.3 client CertificateVerify context")
one("extension not supported", process="netproc", conn=1, peer_uid=uid,
    peer_gid=gid, transport="unix", status="invalid_extension",
    reason="extension not supported")
one("limit user connections 2): connection refused", process="netproc",
    peer_uid=uid, peer_gid=gid, transport="unix",
    reason="limit user connections")
finish()
PY

# the level, at run time: brief, then verbose again (started with -v)
out=$(lc log brief); rc=$?
check "log brief: exit 0 ($out)" [ $rc = 0 ]
check "... the parent says so, in JSON" wait_log '"process":"parent","message":"log brief"' 5
n=$(grep -c '"level":"debug"' "$T/lurkd.log")
"$LURKCTL" -S "$T/lurk.sock" ping >/dev/null
sleep 0.3
check "... no debug line comes" [ "$(grep -c '"level":"debug"' "$T/lurkd.log")" = "$n" ]
lc log verbose >/dev/null
"$LURKCTL" -S "$T/lurk.sock" ping >/dev/null
check "log verbose: debug lines come again" \
    wait_log '"level":"debug","process":"netproc","message":"conn [0-9]* uid [0-9]*: closed"' 5
stop_lurkd
check "lurkd exits 0" lurkd_exited 0
finish
