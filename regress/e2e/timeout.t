# Idle connections, half-sent messages and peers that stop reading their
# answers time out; the others are not disturbed.
. "$LURKD_TOP/regress/lib.sh"

p256_setup "timeout idle 3" "timeout message 1"
start_lurkd "$T/lurkd.conf" || { nok "lurkd started"; finish; }
LURK_SOCKET=$T/lurk.sock "$PYTHON" "$TOP/regress/e2e/timeout.py" ||
    nok "timeout checks ran to the end"
check "the half-sent message is logged" \
    grep -q "did not finish its message in time: closed" "$T/lurkd.log"
check "the peer that does not read is logged" \
    grep -q "does not read its answers: closed" "$T/lurkd.log"
stop_lurkd
check "lurkd exits 0" lurkd_exited 0
finish
