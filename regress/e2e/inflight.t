# One peer uid may not take every pending slot of netproc: past 16384
# key operations in flight, temporary_failure and a log line; nothing
# queued is lost.
. "$LURKD_TOP/regress/lib.sh"

p256_setup
start_lurkd "$T/lurkd.conf" || { nok "lurkd started"; finish; }
KP=$(child_pid keyproc)
kill -STOP "$KP"
LURK_SOCKET=$T/lurk.sock timeout 120 "$PYTHON" "$TOP/regress/e2e/inflight.py" \
    "$T" "$KP" || nok "in-flight checks ran to the end"
kill -CONT "$KP" 2>/dev/null
check "the refusal is logged with the reason" \
    grep -q "temporary_failure key \"p256\" sign-tls13.*too many operations of this uid in flight" "$T/lurkd.log"
stop_lurkd
check "lurkd exits 0" lurkd_exited 0
finish
