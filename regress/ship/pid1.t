# lurkd -d as the first process of a pid namespace, as in a container
# (etc/container/Containerfile): not root, it serves; it reaps the
# orphans the kernel hands it (a process left by "podman exec" or a
# health check); SIGTERM sent from inside the namespace, which the
# kernel drops for a PID 1 that does not handle it, stops it with
# status 0.
. "$LURKD_TOP/regress/lib.sh"

[ "$(id -u)" = 0 ] || { skip "lurkd as PID 1: needs root"; finish; }
unshare -p -f --mount-proc true 2>/dev/null ||
    { skip "lurkd as PID 1: no pid namespaces"; finish; }

mkkey www p256 || { nok "make key"; finish; }
mkdir -p "$T/run"
chown 65534:65534 "$T/run"
cat >"$T/lurkd.conf" <<END
listen on unix "$T/run/lurk.sock" mode 0666
keyprocs 1
key "www" {
	private "$T/www.key"
	certificate "$T/www.crt"
	allow uid 0
}
END

: >"$T/lurkd.log"
unshare -p -f --mount-proc setpriv --reuid=65534 --regid=65534 \
    --clear-groups "$LURKD" -d -f "$T/lurkd.conf" >>"$T/lurkd.log" 2>&1 &
LURKD_PID=$!	# unshare; it exits as lurkd does
wait_log "parent: ready:" 10 || { nok "lurkd started as PID 1"; finish; }
pid1=$(pgrep -P "$LURKD_PID" | head -1)
check "lurkd is PID 1 of its namespace, uid 65534" \
    eval '[ "$(awk "/^NSpid:/ { print \$3 }" /proc/$pid1/status)" = 1 ] &&
    [ "$(stat -c %u /proc/$pid1)" = 65534 ]'
check "... and serves" \
    eval '"$LURKCTL" keyref -S "$T/run/lurk.sock" "$T/www.crt" | grep -q "BEGIN LURK KEY REFERENCE"'

# an orphan: sh starts sleep and exits, sleep goes to PID 1
nsenter -t "$pid1" -p sh -c 'sleep 0.5 & echo $! >/dev/null'
sleep 0.2
orphan=$(pgrep -P "$pid1" -x sleep)
check "an orphan in the namespace is handed to lurkd" [ -n "$orphan" ]
sleep 1
check "... and reaped once it exits (no zombie)" \
    eval '[ -n "$orphan" ] && [ ! -e /proc/$orphan ]'
check "... lurkd still serves" \
    eval '"$LURKCTL" keyref -S "$T/run/lurk.sock" "$T/www.crt" | grep -q "BEGIN LURK KEY REFERENCE"'

nsenter -t "$pid1" -p kill -TERM 1
wait_exit 10
check "SIGTERM from inside the namespace: lurkd exits 0" lurkd_exited 0
check "... having said so, and stopped its children" \
    eval 'grep -q "received Terminated, shutting down" "$T/lurkd.log" &&
    grep -q "parent: exiting" "$T/lurkd.log" && [ ! -e "$T/run/lurk.sock" ]'
finish
