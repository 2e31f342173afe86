# A sandboxed child that trips its seccomp filter in the middle of
# service (test build: LURKD_TEST_TRIP, LURKD_TEST_TRIP_AT): it dies,
# the parent names it, lurkd exits non-zero, and s_server's handshakes
# fail instead of hanging; s_server itself keeps running.  The handshake
# in flight waits the provider's 5 s timeout for lurkd to come back (a
# restart and an exit look the same from the edge), not longer; once
# lurkd has been gone for longer than that, the next one fails at once.
. "$LURKD_TOP/regress/lib.sh"
. "$LURKD_TOP/regress/provider/setup.sh"

[ -x "$LURKD_TEST" ] || { nok "lurkd-test built"; finish; }
edge_setup p256
edge_refs p256
stop_lurkd
provider_conf "$T/openssl.cnf" "$SOCK" 5000

for who in keyproc netproc; do
	start_lurkd "$T/lurkd.conf" "$LURKD_TEST" \
	    env LURKD_TEST_TRIP=$who LURKD_TEST_TRIP_AT=3 ||
	    { nok "$who: lurkd-test started"; continue; }
	start_server "$T/p256.ref" "$T/p256.crt" ||
	    { nok "$who: s_server started"; cat "$T/s_server.log"; continue; }
	good=0 dt=
	for i in 1 2 3 4 5 6; do
		t0=$(ms)
		if handshake -tls1_3; then
			good=$((good + 1))
		else
			dt=$(($(ms) - t0))
			break
		fi
	done
	check "$who: handshakes succeed until it trips ($good)" [ "$good" -ge 1 ]
	check "$who: the handshake it trips on fails" [ -n "$dt" ]
	check "$who: ... having waited the timeout for lurkd, in ${dt:-(none)} ms" \
	    [ "${dt:-0}" -ge 4900 -a "${dt:-0}" -lt 6500 ]
	check "$who: the parent names the child and the signal" \
	    wait_log "lost child: $who.* pid [0-9]* terminated; signal 31 (Bad system call)" 5
	if wait_exit 10; then
		check "$who: lurkd exits 1" lurkd_exited 1
	else
		nok "$who: lurkd exits within 10 s"
	fi
	# gone for longer than the timeout: lurkd went within 1 s of the
	# failed handshake's start
	sleep 1
	t0=$(ms)
	check "$who: with lurkd gone, the next handshake fails" \
	    eval '! handshake -tls1_3'
	dt=$(($(ms) - t0))
	check "$who: ... fast (${dt} ms, timeout 5000)" [ "$dt" -lt 1500 ]
	check "$who: s_server is still running" kill -0 "$SERVER_PID"
	stop_server
	rm -f "$SOCK"
done
finish
