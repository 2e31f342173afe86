# A peer that asks for key_info (a ~33 KB certificate chain) on many
# connections and never reads the answers: netproc stops parsing its
# input once a connection's, then the uid's, unread answers pass their
# limits, so its memory stays within a bound given by netproc.h; other
# uids are served all along; what is held back is logged (bounded) and
# counted.
. "$LURKD_TOP/regress/lib.sh"

[ "$(id -u)" = 0 ] || { skip "memory: the other uid needs root"; finish; }
ensure_user || { nok "create user _lurkd"; finish; }
# the leaf, then 40 copies of an RSA certificate: a long chain
mkkey big p256 && mkkey pad rsa2048 || { nok "make keys"; finish; }
for i in $(seq 40); do cat "$T/pad.crt"; done >>"$T/big.crt"
{
	printf 'listen on unix "%s" mode 0666\nkeyprocs 1\n' "$T/lurk.sock"
	echo "timeout message 60"
	key_conf big "allow uid 0" "allow uid $(id -u nobody)"
} >"$T/lurkd.conf"
# a sanitizer build: freed memory would sit in ASan's quarantine, and
# count against netproc's bound
grep -qa __asan_init "$LURKD" 2>/dev/null &&
    export ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}quarantine_size_mb=0
start_lurkd "$T/lurkd.conf" || { nok "lurkd started"; finish; }
t0=$SECONDS
LURK_SOCKET=$T/lurk.sock timeout 120 "$PYTHON" "$TOP/regress/e2e/memory.py" \
    "$(child_pid netproc)" "$(id -u nobody)" || nok "memory checks ran to the end"
check "held-back input is logged with the connection's limit" \
    grep -Eq "conn [0-9]+ uid 0: input held back: [0-9]+ bytes of answers unread and requests waiting \(limit 262144 a connection\)" "$T/lurkd.log"
check "and with the uid's limit" \
    grep -Eq "conn [0-9]+ uid 0: input held back: uid 0 has [0-9]+ bytes of answers unread and requests waiting \(limit 4194304 a uid\)" "$T/lurkd.log"
# at most 10 lines a second for the uid (limit.c), over the test's time
n=$(grep -c "input held back" "$T/lurkd.log")
max=$((10 * (SECONDS - t0 + 2)))
check "holding back does not flood the log: $n lines (<= $max) for 54 connections held" \
    [ "$n" -le "$max" ]
kill -USR1 "$LURKD_PID"
wait_log "limits: .* clients known" 5
check "SIGUSR1 counts held-back input" \
    grep -Eq "limits: .* clients known; .* input held back [1-9][0-9]* times" "$T/lurkd.log"
stop_lurkd
check "lurkd exits 0" [ "$LURKD_RC" = 0 ]
finish
