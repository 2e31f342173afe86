# Metrics and health over HTTP (listen on http; netproc/http.c): /readyz
# and lurkctl health fail while lurkd starts (a keyproc that never says
# it is ready, with its keys loaded) and succeed once it is ready;
# /metrics passes promtool check metrics and its counters equal what
# the test did (metrics.py); lurkctl show metrics says the same; the
# responder answers only what it must (404, 405, 400, 431, 505),
# bounds its connections, and closes a request that does not come.
. "$LURKD_TOP/regress/lib.sh"

[ -x "$LURKD_TEST" ] || { nok "lurkd-test built"; finish; }
root_setup
PORT=$(free_port)
v6=
"$PYTHON" -c 'import socket; socket.socket(socket.AF_INET6).bind(("::1", 0))' \
    2>/dev/null && v6=1
p256_setup "control socket \"$T/ctl/lurkd.sock\"" \
    "listen on http 127.0.0.1 port $PORT" \
    ${v6:+"listen on http ::1 port $PORT"}
export LURK_SOCKET=$T/lurk.sock
lc() { "$LURKCTL" -s "$T/ctl/lurkd.sock" "$@"; }
mp() { "$PYTHON" "$TOP/regress/e2e/metrics.py" "$@"; }
nl=3
[ -n "$v6" ] && nl=4
[ -n "$v6" ] || skip "listen on http ::1: no IPv6 loopback here"

# 1. a start that does not end: every keyproc has loaded its keys and
# hangs before it says it is ready (lurkd-test); netproc serves
: >"$T/lurkd.log"
LURKD_TEST_TRIP=keyproc LURKD_TEST_TRIP_AT=0 LURKD_TEST_TRIP_CALL=hang \
    "$LURKD_TEST" -d -f "$T/lurkd.conf" >>"$T/lurkd.log" 2>&1 &
LURKD_PID=$! LURKD_RC=
for _ in $(seq 100); do
	[ "$(mp get /livez 127.0.0.1 "$PORT" 2>/dev/null | head -1)" = 200 ] && break
	sleep 0.1
done
check "starting: GET /livez: 200 (netproc answers)" \
    eval '[ "$(mp get /livez 127.0.0.1 "$PORT" | head -1)" = 200 ]'
out=$(mp get /readyz 127.0.0.1 "$PORT")
check "starting: GET /readyz: 503, not ready ($out)" \
    [ "$out" = "503
not ready: lurkd is starting" ]
out=$(lc health); rc=$?
check "starting: lurkctl health: exit 1, not ready ($out)" \
    [ $rc = 1 -a "$out" = "not ok: not ready: lurkd is starting" ]
out=$(lc -j health); rc=$?
check "starting: lurkctl -j health: healthy and ready false, 1 key" \
    eval '[ $rc = 1 ] && "$PYTHON" -c "import json,sys; j=json.loads(sys.argv[1]); sys.exit(not (j[\"healthy\"] is False and j[\"ready\"] is False and j[\"keys\"] == 1))" "$out"'
check "starting: /metrics says lurkd_ready 0" \
    eval 'mp get /metrics 127.0.0.1 "$PORT" | grep -qx "lurkd_ready 0"'
stop_lurkd

# 2. ready
start_lurkd "$T/lurkd.conf" || { nok "lurkd started"; finish; }
"$PYTHON" - "$PORT" >"$T/slow" <<'PY' &
import socket, sys, time
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
s.sendall(b"GET /livez HTT")
t0 = time.time()
s.settimeout(30)
got = s.recv(100)
print("%s %.0f" % ("answered" if got else "closed", time.time() - t0))
PY
slowpid=$!
out=$(mp get /readyz 127.0.0.1 "$PORT")
check "ready: GET /readyz: 200 ($out)" [ "$out" = "200
ready: 1 keys, $nl listeners" ]
if [ -n "$v6" ]; then
	out=$(mp get /readyz ::1 "$PORT")
	check "ready: GET /readyz on [::1]: 200" [ "$(head -1 <<<"$out")" = 200 ]
fi
out=$(lc health); rc=$?
check "ready: lurkctl health: exit 0 ($out)" [ $rc = 0 ]
mp work "$T" $([ "$root" = 1 ] && id -u nobody) ||
    nok "the workload ran to the end"
mp check "$T" 127.0.0.1 "$PORT" || nok "metrics checks ran to the end"
if command -v promtool >/dev/null; then
	check "GET /metrics: promtool check metrics finds nothing" \
	    eval 'promtool check metrics <"$T/metrics.txt" >"$T/promtool.out" 2>&1'
	sed 's/^/    | /' "$T/promtool.out" | head -5
	lc show metrics >"$T/lurkctl.txt"
	check "lurkctl show metrics: promtool finds nothing" \
	    eval 'promtool check metrics <"$T/lurkctl.txt" >/dev/null 2>&1'
else
	skip "promtool check metrics: promtool not installed (Debian: prometheus)"
fi
check "lurkctl show metrics: the same series as GET /metrics" \
    eval 'cmp -s <(grep -v "^#" "$T/metrics.txt" | sed "s/ .*//") <(lc show metrics | grep -v "^#" | sed "s/ .*//")'
# the slow request above holds one connection
mp http "$T" 127.0.0.1 "$PORT" 1 || nok "HTTP checks ran to the end"
check "HTTP answers counted by status" \
    eval 'mp get /metrics 127.0.0.1 "$PORT" | grep -qx "lurkd_http_responses_total{code=\"404\"} 1"'
wait "$slowpid"
slow=$(cat "$T/slow")
check "a request that does not come: closed after 10 s ($slow)" \
    eval '[ "${slow% *}" = closed ] && [ "${slow#* }" -ge 9 -a "${slow#* }" -le 13 ]'
check "lurkd is still healthy" eval 'lc health >/dev/null'
stop_lurkd
check "lurkd exits 0" lurkd_exited 0
finish
