# Load: 1,000 concurrent connections with pipelined requests; zero lost or
# mismatched answers, and netproc's memory per idle connection bounded.
. "$LURKD_TOP/regress/lib.sh"

[ "$(id -u)" = 0 ] && { ensure_user || { nok "create user _lurkd"; finish; }; }
mkkey p256 p256 || { nok "make key"; finish; }
openssl pkey -in "$T/p256.key" -pubout -outform DER -out "$T/p256.spki"
cat >"$T/lurkd.conf" <<CONF
listen on unix "$T/lurk.sock" mode 0666
keyprocs 2
# one uid opens them all: above the per-uid default (256)
limit user connections 1100
key "p256" {
	private "$T/p256.key"
	certificate "$T/p256.crt"
	allow uid $(id -u)
}
CONF
start_lurkd "$T/lurkd.conf" || { nok "lurkd started"; finish; }
LURK_SOCKET=$T/lurk.sock "$PYTHON" "$TOP/regress/e2e/load.py" \
    "$(child_pid netproc)" "$T" || nok "load checks ran to the end"
check "lurkd still running" kill -0 "$LURKD_PID"
stop_lurkd
check "lurkd exits 0" [ "$LURKD_RC" = 0 ]
finish
