# Faults of the log: a log that cannot be written (a full disk: ENOSPC)
# or a log reader that stops reading must not stop key service, nor
# lurkd's orderly stop.  lurkd drops lines and says so when it can.
. "$LURKD_TOP/regress/lib.sh"

p256_setup "limit user connections 4000"

wait_sock() {	# the socket answers a ping
	local i
	for ((i = 0; i < 100; i++)); do
		LURK_SOCKET=$T/lurk.sock "$PYTHON" -c '
import os, sys
sys.path.insert(0, os.path.join(os.environ["LURKD_TOP"], "regress"))
from lurkclient import hdr, connect, recv_msg
s = connect(timeout=1); s.sendall(hdr(0, 1, 1, 0, 1, 0)); recv_msg(s)
' 2>/dev/null && return 0
		sleep 0.1
	done
	return 1
}

# run_case LABEL [COMMAND...]: lurkd is running as $LURKD_PID; load it,
# run COMMAND, stop it
run_case() {
	local label=$1; shift
	if ! wait_sock; then
		nok "$label: lurkd answers"
		return
	fi
	timeout 60 env LURK_SOCKET=$T/lurk.sock "$PYTHON" \
	    "$TOP/regress/e2e/logfault.py" "$T" "$label" ||
	    nok "$label: the checks ran to the end"
	[ $# -gt 0 ] && "$@"
	kill -TERM "$LURKD_PID"
	if wait_exit 10; then
		check "$label: lurkd stops on SIGTERM, exit 0" \
		    lurkd_exited 0
	else
		nok "$label: lurkd stops on SIGTERM within 10 s"
	fi
}

# 1. stderr is a full device: every write fails with ENOSPC
"$LURKD" -d -v -f "$T/lurkd.conf" 2>/dev/full &
LURKD_PID=$!
run_case "log on a full disk"

# 2. stderr is a pipe whose reader has stopped reading
mkfifo "$T/fifo"
sleep 600 <"$T/fifo" &
STUCK=$!
"$LURKD" -d -v -f "$T/lurkd.conf" 2>"$T/fifo" &
LURKD_PID=$!
# once the reader is back, one more line brings the count of the rest
resume() {
	cat <"$T/fifo" >"$T/drained" &
	wait_sock
	local i
	for ((i = 0; i < 50; i++)); do
		grep -q "log lines dropped" "$T/drained" && break
		sleep 0.1
	done
	check "log reader stuck: what was dropped is said when it reads again" \
	    grep -Eq "parent: [0-9]+ log lines dropped: the log could not be written" "$T/drained"
}
run_case "log reader stuck" resume
kill "$STUCK" 2>/dev/null

# 3. syslog (not -d): lurkd's own non-blocking client, a daemon that
#    stops reading (test build: LURKD_TEST_SYSLOG names the socket)
LURK_SOCKET=$T/lurk.sock timeout 90 "$PYTHON" "$TOP/regress/e2e/logsyslog.py" \
    "$LURKD_TEST" "$T/lurkd.conf" "$T" || nok "syslog: the checks ran to the end"
finish
