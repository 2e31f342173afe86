# The drafts' tls12 and tls13 operations seen as the edge's are: by key,
# operation and result in lurkctl show stats and /metrics (a session's
# s_new_ticket under its key), with latency; lurkctl show keys lists a
# key's drafts' operations, tls13 policy and uses; the JSON log gives
# their refusals the edge's fields; limit sign-tls13 rate counts
# tls13-cert-verify with sign-tls13 (drafts_obs.py); SIGUSR1's counters.
. "$LURKD_TOP/regress/lib.sh"

root_setup
for k in p256:p256 rsa:rsa2048 ed:ed25519; do
	mkkey "${k%%:*}" "${k#*:}" || { nok "make key $k"; finish; }
	openssl pkey -in "$T/${k%%:*}.key" -pubout -out "$T/${k%%:*}.pub"
done
me=$(id -u)
PORT=$(free_port)
{
	echo "listen on unix \"$T/lurk.sock\" mode 0666"
	echo "keyprocs 1"
	echo "control socket \"$T/ctl/lurkd.sock\""
	echo "listen on http 127.0.0.1 port $PORT"
	echo "log format json"
	key_conf p256 "allow uid $me" \
	    "operations { sign-tls13 tls13-cert-verify tls13-new-ticket tls13-psk }" \
	    "tls13 secrets { h_c h_s a_c a_s x r }" "tls13 tickets 3" \
	    "limit sign-tls13 rate 1 burst 3"
	key_conf rsa "allow uid $me" "operations { tls12-rsa-master }"
	key_conf ed "allow uid $me"
} >"$T/lurkd.conf"
LURKD_READY=$LURKD_READY_JSON start_lurkd "$T/lurkd.conf" ||
    { nok "lurkd started"; finish; }
wait_port "$PORT" 5
DRAFTS_MODE=obs LURKCTL=$LURKCTL CTL=$T/ctl/lurkd.sock PORT=$PORT \
    LURK_SOCKET=$T/lurk.sock "$PYTHON" "$TOP/regress/e2e/drafts_tls13.py" "$T" ||
    nok "drafts_obs.py ran to the end"
kill -USR1 "$LURKD_PID"
check "SIGUSR1: the drafts' counters on the key's line" \
    wait_log 'stats: key \\"p256\\": .* tls13-cert-verify 2 ok 2 refused tls13-new-ticket 1 ok 0 refused' 5
stop_lurkd
check "lurkd exits 0" lurkd_exited 0
finish
