# When lurkd hangs, is down, or restarts under a running s_server: the
# provider fails closed within its timeout (2000 ms here), never hangs,
# and the next handshake after lurkd is back succeeds.  lurkd down: the
# first handshake waits the whole timeout for it to come back (it might
# be restarting), the next ones fail at once until it answers again.
# (regress/provider/restart.t: restarts under load cost no handshake.)
. "$LURKD_TOP/regress/lib.sh"
. "$LURKD_TOP/regress/provider/setup.sh"

edge_setup p256
edge_refs p256
start_server "$T/p256.ref" "$T/p256.crt" ||
    { nok "s_server started"; cat "$T/s_server.log"; finish; }
hs "handshake with lurkd up" -tls1_3

# lurkd accepts but never answers: netproc stopped
np=$(child_pid netproc)
kill -STOP "$np"
t0=$(ms)
check "handshake fails while lurkd hangs" eval '! handshake -tls1_3'
dt=$(($(ms) - t0))
kill -CONT "$np"
check "... after the timeout, not before and not much later (${dt} ms)" \
    [ "$dt" -ge 1900 -a "$dt" -lt 4000 ]
check "... and s_server says why" \
    grep -q 'lurkd did not answer in time' "$T/s_server.log"
hs "handshake right after lurkd answers again" -tls1_3

# lurkd down
stop_lurkd
check "lurkd stopped" lurkd_exited 0
t0=$(ms)
check "handshake fails while lurkd is down" eval '! handshake -tls1_3'
dt=$(($(ms) - t0))
check "... after waiting the timeout for lurkd to come back (${dt} ms)" \
    [ "$dt" -ge 1900 -a "$dt" -lt 2500 ]
check "... and s_server says lurkd is not reachable" \
    grep -q 'lurkd not reachable' "$T/s_server.log"
t0=$(ms)
check "lurkd still down: the next handshake fails too" \
    eval '! handshake -tls1_3'
dt=$(($(ms) - t0))
check "... at once: down for longer than the timeout (${dt} ms)" \
    [ "$dt" -lt 1000 ]
check "... and s_server says it was not retried" \
    grep -q 'down for longer than the timeout' "$T/s_server.log"

start_lurkd "$T/lurkd.conf" || { nok "lurkd restarted"; finish; }
hs "the next handshake after lurkd is back succeeds" -tls1_3
hs "... and TLS 1.2 too" -tls1_2

# restart while the provider holds an open connection: the first request
# meets a dead socket, reconnects and is sent again
stop_lurkd
start_lurkd "$T/lurkd.conf" || { nok "lurkd restarted again"; finish; }
hs "handshake over a connection lurkd closed: reconnected" -tls1_3
check "s_server is still the same process" kill -0 "$SERVER_PID"
finish
