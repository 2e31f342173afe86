# Fairness between peer uids: one uid floods RSA-2048 signatures, both
# pipelined and by connections that send a burst and close at once,
# while another uid asks for P-256 signatures one at a time.  netproc
# queues per uid and hands each keyproc only a few operations, so every
# one of the second uid's signatures is made, each within 250 ms.  The
# closed connections' work does not pile up: their operations not yet
# handed to a keyproc are dropped.
. "$LURKD_TOP/regress/lib.sh"

[ "$(id -u)" = 0 ] || { skip "fairness: the second uid needs root"; finish; }
ensure_user || { nok "create user _lurkd"; finish; }
mkkey rsa rsa2048 && mkkey p256 p256 || { nok "make keys"; finish; }
for k in rsa p256; do
	openssl pkey -in "$T/$k.key" -pubout -outform DER -out "$T/$k.spki"
done
{
	printf 'listen on unix "%s" mode 0666\nkeyprocs 2\n' "$T/lurk.sock"
	key_conf rsa "allow uid 0"
	key_conf p256 "allow uid $(id -u nobody)"
} >"$T/lurkd.conf"
start_lurkd "$T/lurkd.conf" || { nok "lurkd started"; finish; }
LURK_SOCKET=$T/lurk.sock timeout 200 "$PYTHON" "$TOP/regress/e2e/fairness.py" \
    "$T" "$(id -u nobody)" || nok "fairness checks ran to the end"
check "lurkd still running" kill -0 "$LURKD_PID"
kill -USR1 "$LURKD_PID"
wait_log "limits: .* clients known" 5
check "the closed connections' operations not yet at a keyproc were dropped" \
    grep -Eq "limits: .* [1-9][0-9]* operations of closed connections dropped" "$T/lurkd.log"
stop_lurkd
check "lurkd exits 0" [ "$LURKD_RC" = 0 ]
finish
