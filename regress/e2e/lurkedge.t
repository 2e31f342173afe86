# A LURK-aware TLS 1.3 edge (lurkedge.c, test code) that holds neither
# the private key nor the (EC)DHE secret: each handshake's
# CertificateVerify, handshake and application secrets come from lurkd's
# s_init_cert_verify with cs_generated.  Unmodified TLS clients (openssl
# s_client, curl) verify the certificate, finish the handshake and get
# an HTTP answer through it.
. "$LURKD_TOP/regress/lib.sh"

EDGE=$TOP/regress/e2e/lurkedge
[ -x "$EDGE" ] || { nok "lurkedge built"; finish; }
[ "$(id -u)" = 0 ] && { ensure_user || { nok "create user _lurkd"; finish; }; }
mkca && mkleaf ec p256 && mkleaf rsa rsa2048 && mkleaf ed ed25519 ||
    { nok "make CA and keys"; finish; }
me=$(id -u)
{
	echo "listen on unix \"$T/lurk.sock\" mode 0666"
	echo "keyprocs 2"
	for k in ec rsa ed; do
		key_conf "$k" "allow uid $me" "operations { tls13-cert-verify }" \
		    "tls13 secrets { h_c h_s a_c a_s }"
	done
} >"$T/lurkd.conf"
start_lurkd "$T/lurkd.conf" || { nok "lurkd started"; finish; }

EDGE_PID=
edge() {	# edge KEY: lurkedge with KEY's certificate (and no key) on $PORT
	[ -n "$EDGE_PID" ] && { kill "$EDGE_PID"; wait "$EDGE_PID" 2>/dev/null; }
	PORT=$(free_port)
	"$EDGE" -p "$PORT" -S "$T/lurk.sock" -c "$T/$1.crt" \
	    2>>"$T/edge.log" &
	EDGE_PID=$!
	wait_port "$PORT" 5 || nok "lurkedge listens on $PORT"
}
trap '[ -n "$EDGE_PID" ] && kill "$EDGE_PID" 2>/dev/null; cleanup' EXIT

# sclient WHAT [s_client args...]: a verified TLS 1.3 handshake and the
# edge's HTTP answer
sclient() {
	local what=$1 out
	shift
	out=$(printf 'GET / HTTP/1.0\r\nHost: test.lurk\r\n\r\n' |
	    timeout 15 openssl s_client -connect "127.0.0.1:$PORT" -tls1_3 \
	    -servername test.lurk -CAfile "$T/ca.crt" -verify_return_error \
	    -ign_eof "$@" 2>&1)
	if grep -q 'Verify return code: 0 (ok)' <<<"$out" &&
	    grep -q 'hello from a lurkd edge' <<<"$out"; then
		ok "$what"
	else
		nok "$what"
		echo "$out" | tail -20
		tail -5 "$T/edge.log"
	fi
}

edge ec
sclient "openssl s_client, x25519, TLS_AES_128_GCM_SHA256, ECDSA P-256: verified handshake, HTTP answer"
sclient "... secp256r1 key exchange (lurkd's P-256 share)" -groups P-256
sclient "... x448" -groups X448
sclient "... secp384r1" -groups P-384
sclient "... secp521r1" -groups P-521
sclient "... TLS_AES_256_GCM_SHA384" -ciphersuites TLS_AES_256_GCM_SHA384
if command -v curl >/dev/null; then
	out=$(timeout 15 curl -sS --tlsv1.3 --cacert "$T/ca.crt" \
	    --resolve "test.lurk:$PORT:127.0.0.1" "https://test.lurk:$PORT/" 2>&1)
	check "curl: certificate verified, the edge's answer" \
	    [ "$out" = "hello from a lurkd edge" ]
	[ "$out" = "hello from a lurkd edge" ] || echo "$out"
else
	skip "curl through the edge: curl not installed"
fi
edge rsa
sclient "RSA key: rsa_pss_rsae_sha256 CertificateVerify from lurkd"
edge ed
sclient "Ed25519 key"

check "the edge never had a private key: only certificates in its arguments" \
    eval '! grep -l "PRIVATE KEY" $(tr "\0" "\n" </proc/$EDGE_PID/cmdline | grep -- "\.crt$") >/dev/null'
check "every handshake was lurkd's s_init_cert_verify" \
    eval '[ "$(grep -c "s_init_cert_verify key \"[a-z]*\": success" "$T/lurkd.log")" -ge 9 ]'
check "the edge logs what it negotiated (cs_generated groups 29, 23, 30, 24, 25)" \
    eval 'for g in 29 23 30 24 25; do grep -q "group $g " "$T/edge.log" || exit 1; done'
kill "$EDGE_PID"; wait "$EDGE_PID" 2>/dev/null; EDGE_PID=
stop_lurkd
finish
