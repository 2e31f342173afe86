# rsa-kex has a rate limit per key (limit rsa-kex rate N burst M): past
# it, temporary_failure, a log line (bounded per uid) and a counter;
# the other keys are not affected.  And what lurk(7) says of implicit
# rejection: the edge that asks can tell a well-formed ciphertext from
# another, as the same bad one decrypts to new bytes each time.
. "$LURKD_TOP/regress/lib.sh"

[ "$(id -u)" = 0 ] && { ensure_user || { nok "create user _lurkd"; finish; }; }
for k in rsa free; do
	mkkey "$k" rsa2048 || { nok "make key $k"; finish; }
	openssl pkey -in "$T/$k.key" -pubout -outform DER -out "$T/$k.spki"
	openssl pkey -in "$T/$k.key" -pubout -out "$T/$k.pub"
done
other=
[ "$(id -u)" = 0 ] && other=$(id -u nobody)
{
	printf 'listen on unix "%s" mode 0666\nkeyprocs 2\n' "$T/lurk.sock"
	key_conf rsa "operations { rsa-kex }" "limit rsa-kex rate 5 burst 5" \
	    "allow uid $(id -u)" ${other:+"allow uid $other"}
	key_conf free "operations { rsa-kex }" "allow uid $(id -u)"
} >"$T/lurkd.conf"
check "lurkd -nv prints the limit" \
    bash -c "'$LURKD' -nv -f '$T/lurkd.conf' | grep -q 'limit rsa-kex rate 5 burst 5'"
start_lurkd "$T/lurkd.conf" || { nok "lurkd started"; finish; }
LURK_SOCKET=$T/lurk.sock "$PYTHON" "$TOP/regress/e2e/rsakex.py" "$T" $other ||
    nok "rsa-kex checks ran to the end"
[ -z "$other" ] && skip "rsa-kex: the rate is the key's, not the uid's: needs root for a second uid"
check "the refusal is logged with the key and the reason" \
    grep -q "temporary_failure key \"rsa\" rsa-kex .*limit rsa-kex rate 5 a second exceeded" "$T/lurkd.log"
n=$(grep -c "limit rsa-kex rate 5 a second exceeded" "$T/lurkd.log")
check "refusals do not flood the log: $n lines for 100 refused" [ "$n" -le 30 ]
kill -USR1 "$LURKD_PID"
wait_log 'stats: key "rsa"' 5
check "SIGUSR1 counts what was over the rate" \
    grep -Eq "stats: key \"rsa\": .*rsa-kex [1-9][0-9]* ok [1-9][0-9]* refused; [1-9][0-9]* rsa-kex over the rate of 5 a second" "$T/lurkd.log"
check "a key without a limit has no such count" \
    bash -c "! grep -q 'stats: key \"free\": .*over the rate' '$T/lurkd.log'"
stop_lurkd
check "lurkd exits 0" [ "$LURKD_RC" = 0 ]
finish
