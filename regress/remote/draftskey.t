# keyproc never uses a TLS listener's key for the drafts' operations,
# whatever netproc asks: a test build's netproc names the listener's key
# (LURKD_TEST_DRAFTS_INDEX, after the edges' keys in keyproc's table) for
# a tls12 rsa_master on an edge's key; keyproc refuses it with
# undefined_error and says why.  Without the hook the same request is
# answered with the master secret.
. "$LURKD_TOP/regress/lib.sh"

[ -x "$LURKD_TEST" ] || { nok "lurkd-test built"; finish; }
root_setup
mkca && mkcert srv ca lurkd.test "subjectAltName=DNS:lurkd.test
extendedKeyUsage=serverAuth" && mkkey rsa rsa2048 ||
    { nok "make keys"; finish; }
chmod 0600 "$T/srv.key" "$T/rsa.key"
openssl pkey -in "$T/rsa.key" -pubout -out "$T/rsa.pub"
cat >"$T/lurkd.conf" <<CONF
listen on unix "$T/lurk.sock" mode 0666
keyprocs 1
listen on tls 127.0.0.1 port $(free_port) {
	certificate "$T/srv.crt"
	private "$T/srv.key"
	ca "$T/ca.crt"
}
key "rsa" {
	private "$T/rsa.key"
	certificate "$T/rsa.crt"
	operations { tls12-rsa-master }
	allow uid $(id -u)
}
CONF
master() {
	LURK_SOCKET=$T/lurk.sock "$PYTHON" - "$T" <<'PY'
import os, sys
sys.path.insert(0, os.path.join(os.environ["LURKD_TOP"], "regress"))
from lurkclient import connect
from lurkdrafts import Client, TLS12, RSA_MASTER, key_id32, rsa_encrypt, \
    now_random
d = sys.argv[1]
epms = rsa_encrypt(os.path.join(d, "rsa.pub"), b"\x03\x03" + os.urandom(46))
st, p = Client(connect()).call(TLS12, RSA_MASTER, key_id32(
    os.path.join(d, "rsa.key")) + bytes([0, 0]) + os.urandom(32) +
    now_random() + epms)
print(st, len(p))
PY
}
start_lurkd "$T/lurkd.conf" "$LURKD_TEST" || { nok "lurkd-test started"; finish; }
out=$(master)
check "rsa_master on the edge's key: the master secret ($out)" [ "$out" = "1 48" ]
stop_lurkd
# the listener's key is the first after the one edge key: index 1
start_lurkd "$T/lurkd.conf" "$LURKD_TEST" env LURKD_TEST_DRAFTS_INDEX=1 ||
    { nok "lurkd-test started with LURKD_TEST_DRAFTS_INDEX"; finish; }
out=$(master)
check "netproc naming the listener's key: keyproc refuses, undefined_error ($out)" \
    eval '[ "${out%% *}" = 2 ]'
check "... and logs why" \
    wait_log 'keyproc\[0\]: refused: key "-" rsa_master uid [0-9]*: a TLS listener.s key' 5
stop_lurkd
finish
