# Failover between two key servers under load: stock nginx (user
# www-data, 2 workers) whose key references (lurkctl keyref -e) name two
# lurkd over Unix sockets, A first, B second, both holding the keys.  A
# steady load of TLS 1.3 handshakes (failover.py, 4 at a time) runs while
# A is killed (SIGKILL, parent and children) and later started again.
#
# The bound on failed handshakes, from provider/client.c: an nginx
# worker makes one handshake at a time and its provider waits for one
# lurkd answer at a time, so at most 2 requests (one per worker) are
# under way on A when it dies.  Each such request is "lost" on A and
# sent again, once, on B (LIST_MAX_LOST), and B is healthy: none of them
# fails.  Every later request finds A down (or finds it down on
# connecting, ECONNREFUSED: the socket file stays) and goes to B.  So:
# failures <= 2 (the requests under way at the kill), and 0 expected.
#
# Failback, also from client.c: a worker tries A again, with one request,
# LC_FAILBACK_MIN_MS (100) after it failed, then twice as long after each
# failed try, up to LC_FAILBACK_MAX_MS (2000).  So within 2000 ms of A
# being ready again every worker has gone back to it, and B gets nothing
# more.
#
# A hung key server (stopped, not dead) costs the requests on it their
# share of the timeout, never the whole of it: see the end.
#
# regress-timeout: 120
. "$LURKD_TOP/regress/lib.sh"

stock_require nginx nginx nginx www-data
WORKERS=2	# stock_nginx's
LOADERS=4

SOCK2=$T/run/lurk2.sock
stock_lurkd www-data 1 "listen on unix \"$SOCK\" mode 0660 group \"www-data\""
A_CONF=$T/lurkd.conf
sed "s|$SOCK|$SOCK2|" "$A_CONF" >"$T/lurkd2.conf"

# B: a second lurkd with the same keys on another socket, its own log
B_PID=
start_b() {
	: >"$T/lurkd2.log"
	"$LURKD" -d -v -f "$T/lurkd2.conf" >>"$T/lurkd2.log" 2>&1 &
	B_PID=$!
	for _ in $(seq 200); do
		grep -q 'parent: ready:' "$T/lurkd2.log" && return 0
		sleep 0.05
	done
	cat "$T/lurkd2.log" >&2
	return 1
}
start_b || { nok "second lurkd (B) started"; finish; }

# signatures each lurkd made (its -v log: one line per operation)
signs() { grep -c ': sign-tls1[23] key' "$1"; }

for k in rsa ec; do
	"$LURKCTL" keyref -e "unix:$SOCK" -e "$SOCK2" "$T/$k.crt" \
	    >"$T/$k.ref" || { nok "lurkctl keyref -e -e $k"; finish; }
done
refversion() { sed '/-----/d' "$1" | base64 -d | od -An -tu1 -j7 -N1 | tr -d ' '; }
check "lurkctl keyref -e: a version 2 reference" [ "$(refversion "$T/ec.ref")" = 2 ]
check "... naming both sockets, A first (lurkctl -j keyref)" \
    eval '"$LURKCTL" -j keyref -e "unix:$SOCK" -e "$SOCK2" "$T/ec.crt" |
    tr -d " \n" | grep -qF "\"endpoints\":[\"unix:$SOCK\",\"unix:$SOCK2\"]"'
# the provider's own socket names neither: the references decide
provider_conf "$T/openssl.cnf" "$T/run/nobody.sock" 2000

PORT=$(free_port)
stock_nginx
LOAD_PID=
trap 'touch "$T/stop"; [ -n "$LOAD_PID" ] && wait $LOAD_PID;
    kill $NGINX_PID 2>/dev/null; wait $NGINX_PID 2>/dev/null;
    [ -n "$B_PID" ] && kill $B_PID 2>/dev/null && wait $B_PID; cleanup' EXIT
if ! wait_port "$PORT" 10; then
	nok "nginx started with references naming two key servers"
	cat "$T/nginx/out" "$T/nginx/logs/error.log"
	finish
fi
ok "nginx started with references naming two key servers"

CURL=(curl -s --max-time 10 --cacert "$T/ca.crt" --resolve "test.lurk:$PORT:127.0.0.1")
out=$("${CURL[@]}" -w ' %{http_code}' --tlsv1.3 "https://test.lurk:$PORT/")
check "curl TLS 1.3 through nginx: 200" [ "${out##* }" = 200 ]

"$PYTHON" "$TOP/regress/stock/failover.py" load "$PORT" "$T/ca.crt" \
    "$LOADERS" "$T/stop" "$T/hs.out" &
LOAD_PID=$!
sleep 2
a0=$(signs "$T/lurkd.log") b0=$(signs "$T/lurkd2.log")
check "both up: A, the first endpoint, signs ($a0), B nothing ($b0)" \
    [ "$a0" -gt 20 -a "$b0" = 0 ]

# kill A: the parent and its children at once, nothing cleaned up
A_PIDS="$LURKD_PID $(pgrep -P "$LURKD_PID" | tr '\n' ' ')"
KILL_MS=$(($(date +%s%N) / 1000000))
# shellcheck disable=SC2086
kill -KILL $A_PIDS
wait "$LURKD_PID" 2>/dev/null
LURKD_PID=
sleep 3
b1=$(signs "$T/lurkd2.log")
check "A killed: B signs ($b1)" [ "$b1" -gt 20 ]

mv "$T/lurkd.log" "$T/lurkd.log.killed"
start_lurkd "$A_CONF" || { nok "A started again"; finish; }
READY_MS=$(($(date +%s%N) / 1000000))
BACK_MS=-1
for _ in $(seq 400); do
	if [ "$(signs "$T/lurkd.log")" -gt 0 ]; then
		BACK_MS=$(($(date +%s%N) / 1000000 - READY_MS))
		break
	fi
	sleep 0.01
done
check "A back: it signs again, ${BACK_MS} ms after it was ready" \
    [ "$BACK_MS" -ge 0 ]
# every worker is back on A within LC_FAILBACK_MAX_MS: then B gets nothing
sleep 2.5
a2=$(signs "$T/lurkd.log") b2=$(signs "$T/lurkd2.log")
sleep 2
a3=$(signs "$T/lurkd.log") b3=$(signs "$T/lurkd2.log")
check "load back on A: A signed $((a3 - a2)), B $((b3 - b2)) in 2 s, 2.5 s after A came back" \
    [ "$((a3 - a2))" -gt 20 -a "$b3" = "$b2" ]

# A hangs (its netproc stopped: connections are accepted by the kernel,
# nothing answers): requests on A wait their share of the timeout, A is
# marked down and its connection closed, they go on to B; a try of A
# again waits at most a quarter of the timeout.  Nothing fails and no
# handshake waits the whole timeout.
np=$(child_pid netproc)
STOP_MS=$(($(date +%s%N) / 1000000))
kill -STOP "$np"
sleep 3
kill -CONT "$np"
CONT_MS=$(($(date +%s%N) / 1000000))
sleep 1

touch "$T/stop"
wait "$LOAD_PID"
LOAD_PID=
eval "$("$PYTHON" "$TOP/regress/stock/failover.py" report "$T/hs.out" \
    "$KILL_MS" "$STOP_MS" "$CONT_MS")"
echo "# failover (nginx, $WORKERS workers, $LOADERS loaders): $HS_ATTEMPTED handshakes attempted, $HS_FAILED failed ($HS_FAILED_AFTER_KILL from the kill on); first handshake begun after the kill done ${RECOVER_MS} ms after it; slowest handshake around the kill ${SLOWEST_MS} ms; failback: A signed again ${BACK_MS} ms after it was ready"
check "handshakes ran all along: $HS_ATTEMPTED" [ "$HS_ATTEMPTED" -ge 200 ]
check "failed handshakes within the bound: $HS_FAILED <= $WORKERS (requests under way on A at the kill)" \
    [ "$HS_FAILED" -le "$WORKERS" ]
check "... none in fact: those requests were sent again on B ($HS_FAILED failed)" \
    [ "$HS_FAILED" = 0 ]
check "recovered: a handshake begun after the kill succeeded (${RECOVER_MS} ms)" \
    [ "$RECOVER_MS" -ge 0 ]
check "... and none waited the 2000 ms timeout (slowest ${SLOWEST_MS} ms)" \
    [ "$SLOWEST_MS" -lt 2000 ]
echo "# A hung 3 s: $HUNG_HS handshakes under way, $HUNG_FAILED failed, slowest ${HUNG_SLOWEST_MS} ms"
check "A hung: $HUNG_HS handshakes meanwhile, none failed ($HUNG_FAILED)" \
    [ "$HUNG_HS" -ge 20 -a "$HUNG_FAILED" = 0 ]
check "... none waited the 2000 ms timeout in all (slowest ${HUNG_SLOWEST_MS} ms)" \
    [ "$HUNG_SLOWEST_MS" -lt 2000 ]
check "nginx logged no lurkd error" \
    eval '! grep -E "lurkd not reachable|connection to lurkd lost|did not answer|no answer" "$T/nginx/logs/error.log"'
finish
