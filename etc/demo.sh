#!/usr/bin/env bash
# make demo: start lurkd holding a freshly generated key and talk LURK to
# it over its Unix socket (ping, capabilities, an error), then stop it.
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
lurkd=$top/lurkd/lurkd
d=$(mktemp -d /tmp/lurkd-demo.XXXXXX)
chmod 0755 "$d"
pid=
cleanup() {
	[ -n "$pid" ] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
	rm -rf "$d"
}
trap cleanup EXIT

if [ "$(id -u)" = 0 ] && ! getent passwd _lurkd >/dev/null; then
	echo "== creating the system user _lurkd (lurkd's children run as it)"
	useradd --system --no-create-home --home-dir /nonexistent \
	    --shell /usr/sbin/nologin _lurkd
fi

echo "== generating an ECDSA P-256 key and a self-signed certificate in $d"
openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 \
    -out "$d/www.key" 2>/dev/null
openssl req -new -x509 -key "$d/www.key" -subj "/CN=www.example.test" \
    -days 1 -out "$d/www.crt" 2>/dev/null
cat >"$d/lurkd.conf" <<CONF
listen on unix "$d/lurk.sock" mode 0660
keyprocs 2
key "www" {
	private "$d/www.key"
	certificate "$d/www.crt"
	allow uid $(id -u)
}
CONF
echo "== $d/lurkd.conf, as lurkd -nv prints it:"
"$lurkd" -nv -f "$d/lurkd.conf" | sed 's/^/   /'

echo "== starting lurkd -d -f $d/lurkd.conf"
"$lurkd" -d -f "$d/lurkd.conf" 2>"$d/lurkd.log" &
pid=$!
for _ in $(seq 100); do
	grep -q "parent: ready" "$d/lurkd.log" && break
	kill -0 "$pid" 2>/dev/null || break
	sleep 0.05
done
sed 's/^/   lurkd: /' "$d/lurkd.log"
grep -q "parent: ready" "$d/lurkd.log" || { echo "lurkd did not start"; exit 1; }

echo "== talking LURK on $d/lurk.sock"
LURK_SOCKET=$d/lurk.sock python3 - <<'PY'
import os, socket, struct
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.settimeout(5)
s.connect(os.environ["LURK_SOCKET"])
def exchange(what, req):
    s.sendall(req)
    h = b""
    while len(h) < 16:
        h += s.recv(16 - len(h))
    n = struct.unpack(">I", h[12:16])[0]
    p = b""
    while len(p) < n:
        p += s.recv(n - len(p))
    print("   %-13s request : %s" % (what, req.hex(" ")))
    print("   %-13s response: %s" % ("", (h + p).hex(" ")))
    return h, p
exchange("ping", bytes.fromhex("00010100d5a2a1b1952d994500000000"))
h, p = exchange("capabilities", bytes.fromhex("00010000010203040506070800000000"))
n = int.from_bytes(p[:2], "big")
exts = ["designation %d v%d" % (p[2 + i], p[3 + i]) for i in range(0, n, 2)]
print("   supported: %s; lurk_state %s" % (", ".join(exts), p[-4:].hex()))
h, p = exchange("type 9", bytes.fromhex("00010900000000000000002a00000000"))
print("   status %d = invalid_type, payload = lurk_state %s" % (h[3], p.hex()))
PY

echo "== stopping lurkd (SIGTERM)"
kill -TERM "$pid"
wait "$pid" && rc=0 || rc=$?
pid=
sed -n '/shutting down/,$p' "$d/lurkd.log" | sed 's/^/   lurkd: /'
echo "== lurkd exited with status $rc"
exit "$rc"
