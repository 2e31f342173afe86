# The edge extension: key_info, TLS 1.3/1.2 signatures checked against
# the public keys, the content checks of keyproc, rsa-kex policy,
# authorisation by peer uid/gid, and the log and counters of refusals.
. "$LURKD_TOP/regress/lib.sh"

[ "$(id -u)" = 0 ] && { ensure_user || { nok "create user _lurkd"; finish; }; }
for k in rsa:rsa2048 rsanokex:rsa2048 p256:p256 p384:p384 ed25519:ed25519; do
	mkkey "${k%%:*}" "${k#*:}" || { nok "make key $k"; finish; }
	openssl pkey -in "$T/${k%%:*}.key" -pubout -out "$T/${k%%:*}.pub"
	openssl pkey -in "$T/${k%%:*}.key" -pubout -outform DER \
	    -out "$T/${k%%:*}.spki"
done
me=$(id -u)
cat >"$T/lurkd.conf" <<CONF
listen on unix "$T/lurk.sock" mode 0666
keyprocs 2
key "rsa" {
	private "$T/rsa.key"
	certificate "$T/rsa.crt"
	operations { sign-tls13 sign-tls12 rsa-kex }
	allow uid $me
}
key "rsanokex" {
	private "$T/rsanokex.key"
	certificate "$T/rsanokex.crt"
	allow uid $me
}
key "p256" {
	private "$T/p256.key"
	certificate "$T/p256.crt"
	allow uid $me
}
key "p384" {
	private "$T/p384.key"
	certificate "$T/p384.crt"
	allow uid $me
}
key "ed25519" {
	private "$T/ed25519.key"
	certificate "$T/ed25519.crt"
	allow uid $me
	allow group "nogroup"
}
CONF
if ! start_lurkd "$T/lurkd.conf"; then
	nok "lurkd started"
	finish
fi
ok "lurkd started"
who=
[ "$me" = 0 ] && who=nobody
LURK_SOCKET=$T/lurk.sock "$PYTHON" "$TOP/regress/e2e/edge.py" "$T" $who ||
    nok "edge checks ran to the end"
[ -z "$who" ] && skip "unauthorized uid: needs root to act as another uid"

check "refusals are logged with key, operation, uid and reason" \
    grep -q "keyproc\[[0-9]\]: refused: key \"p256\" sign-tls13 uid $me: TLS 1.3 client CertificateVerify context" "$T/lurkd.log"
check "SHA-1 refusal is logged" \
    grep -q "refused: key \"rsa\" sign-tls12 uid $me: SHA-1 signature scheme" "$T/lurkd.log"
check "rsa-kex refusal is logged by netproc" \
    grep -q "operation_refused key \"rsanokex\" rsa-kex .*operation not allowed for this key" "$T/lurkd.log"
if [ -n "$who" ]; then
	check "unauthorized peer is logged with its uid" \
	    grep -q "unauthorized key \"p256\" sign-tls13 .*uid $(id -u nobody) gid" "$T/lurkd.log"
fi
kill -USR1 "$LURKD_PID"
wait_log 'stats: key "p256"' 5
check "SIGUSR1: counters of successes and refusals per key" \
    grep -Eq 'stats: key "p256": .*sign-tls13 [1-9][0-9]* ok [1-9][0-9]* refused' "$T/lurkd.log"
check "no private key material in the log" \
    bash -c "! grep -q 'PRIVATE' '$T/lurkd.log'"
stop_lurkd
check "lurkd exits 0 after the run" lurkd_exited 0
finish
