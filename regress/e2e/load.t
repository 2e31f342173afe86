# Load: 1,000 concurrent connections with pipelined requests; zero lost or
# mismatched answers, and netproc's memory per idle connection bounded.
. "$LURKD_TOP/regress/lib.sh"

# one uid opens them all: above the per-uid default (256)
KEYPROCS=2 p256_setup "limit user connections 1100"
start_lurkd "$T/lurkd.conf" || { nok "lurkd started"; finish; }
LURK_SOCKET=$T/lurk.sock "$PYTHON" "$TOP/regress/e2e/load.py" \
    "$(child_pid netproc)" "$T" || nok "load checks ran to the end"
check "lurkd still running" kill -0 "$LURKD_PID"
stop_lurkd
check "lurkd exits 0" lurkd_exited 0
finish
