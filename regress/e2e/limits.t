# Per-uid connection and rate limits, the global connection limit:
# refused with temporary_failure, logged without flooding the log,
# counted; the other clients and key service are not disturbed.
. "$LURKD_TOP/regress/lib.sh"

[ "$(id -u)" = 0 ] || skip "limits: the checks with a second uid need root"
p256_setup "limit connections 6" "limit user connections 3" \
    "limit user rate 20 burst 20"
start_lurkd "$T/lurkd.conf" || { nok "lurkd started"; finish; }
LURK_SOCKET=$T/lurk.sock "$PYTHON" "$TOP/regress/e2e/limits.py" ||
    nok "limit checks ran to the end"
check "the connection over the uid's limit is logged" \
    grep -q "uid $(id -u): 3 connections open (limit user connections 3): connection refused" "$T/lurkd.log"
check "the refused request says why" \
    grep -q "temporary_failure.*limit user connections 3 reached" "$T/lurkd.log"
if [ "$(id -u)" = 0 ]; then
	check "the connection over the global limit is logged" \
	    grep -q "connection refused: 6 connections open (limit connections 6)" "$T/lurkd.log"
fi
check "requests over the rate are logged with the reason" \
    grep -q "temporary_failure.*limit user rate 20 requests a second exceeded" "$T/lurkd.log"
# 40+ refusals in a second: at most 10 lines, then one summary
n=$(grep -c "limit user rate 20 requests a second exceeded" "$T/lurkd.log")
check "refusals do not flood the log: $n lines for ~80 refused requests" [ "$n" -le 30 ]
wait_log "more refusals not logged (at most 10 a second)" 3
check "what was not logged is summed up" \
    grep -q "uid $(id -u): [0-9]* more refusals not logged" "$T/lurkd.log"
kill -USR1 "$LURKD_PID"
wait_log "limits: .* clients known" 5
check "SIGUSR1 counts the refusals" \
    grep -Eq "limits: uid $(id -u): [0-9]+ connections, [1-9][0-9]* refused; [1-9][0-9]* requests over the rate" "$T/lurkd.log"
# key service goes on for a well-behaved peer
if LURK_SOCKET=$T/lurk.sock "$PYTHON" - <<'PY'
import os, sys
sys.path.insert(0, os.path.join(os.environ["LURKD_TOP"], "regress"))
from lurkclient import hdr, connect, recv_msg
import time
time.sleep(1.2)
s = connect()
ki = bytes([1, 4]) + b"p256"
s.sendall(hdr(192, 1, 1, 0, 7, len(ki)) + ki)
h = recv_msg(s)[0]
sys.exit(0 if h[3] == 1 and h[4] == 7 else 1)
PY
then ok "key_info is served after all that"; else nok "key_info is served after all that"; fi
stop_lurkd
check "lurkd exits 0" lurkd_exited 0
finish
