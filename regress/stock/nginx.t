# Stock nginx 1.22 (Debian's) serves TLS with keys that exist only in
# lurkd: "user www-data", a master and 2 workers, dual RSA + ECDSA
# certificates whose ssl_certificate_key files are lurk key references.
. "$LURKD_TOP/regress/lib.sh"

stock_require nginx nginx nginx www-data

stock_lurkd www-data 2 "listen on unix \"$SOCK\" mode 0660 group \"www-data\""
check "reference files hold no private key" \
    bash -c "! grep -q 'PRIVATE KEY' '$T/rsa.ref' '$T/ec.ref'"
provider_conf "$T/openssl.cnf" "$SOCK" 2000

PORT=$(free_port)
stock_nginx
trap 'kill $NGINX_PID 2>/dev/null; wait $NGINX_PID 2>/dev/null; cleanup' EXIT
if ! wait_port "$PORT" 10; then
	nok "nginx started with lurk key references"
	cat "$T/nginx/out" "$T/nginx/logs/error.log"
	finish
fi
ok "nginx started with lurk key references"
check "nginx runs 2 workers as www-data" \
    [ "$(ps -o user= --ppid "$NGINX_PID" | grep -c www-data)" = 2 ]

CURL=(curl -s --max-time 10 --cacert "$T/ca.crt" --resolve "test.lurk:$PORT:127.0.0.1")
URL=https://test.lurk:$PORT/

# curl over TLS 1.3 and 1.2, with each certificate; every worker answers
each_worker() {	# each_worker WHAT curl-options...: 200 from both workers
	local what=$1 pids= i out; shift
	for i in $(seq 40); do
		out=$("${CURL[@]}" -H 'Connection: close' -w ' %{http_code}' "$@" "$URL") || break
		case $out in "worker "*" 200") pids="$pids ${out#worker }" ;; *) break ;; esac
	done
	n=$(echo "$pids" | tr ' ' '\n' | grep -v '^$' | sort -u | wc -l)
	if [ "$n" -ge 2 ]; then ok "$what: 200 from each worker"; else
		nok "$what: 200 from each worker (got '$out', workers seen: $n)"; fi
}
each_worker "curl TLS 1.3" --tlsv1.3
each_worker "curl TLS 1.2 ECDHE-RSA" --tlsv1.2 --tls-max 1.2 \
    --ciphers ECDHE-RSA-AES128-GCM-SHA256
each_worker "curl TLS 1.2 ECDHE-ECDSA" --tlsv1.2 --tls-max 1.2 \
    --ciphers ECDHE-ECDSA-AES128-GCM-SHA256

# TLS 1.3 with each key, and the chain verified by the client
stock_tls "s_client TLS 1.3 rsa_pss_rsae_sha256 (RSA key in lurkd)" RSA-PSS \
    -tls1_3 -sigalgs rsa_pss_rsae_sha256
stock_tls "s_client TLS 1.3 ecdsa_secp256r1_sha256 (EC key in lurkd)" ECDSA \
    -tls1_3 -sigalgs ecdsa_secp256r1_sha256

kill -USR1 "$LURKD_PID"
wait_log 'stats: key "ec"' 5
check "lurkd signed with the RSA key" \
    grep -Eq 'stats: key "rsa": .*sign-tls13 [1-9]' "$T/lurkd.log"
check "lurkd signed with the EC key for TLS 1.2" \
    grep -Eq 'stats: key "ec": .*sign-tls12 [1-9]' "$T/lurkd.log"

# lurkd restarted 3 times under a steady load of TLS 1.3 handshakes
# with each key: the provider in each worker waits for the new lurkd
# (within its 2000 ms timeout), so no handshake fails
if [ -x "$HSLOAD" ]; then
	restart_under_load "$PORT" 8 3 ecdsa_secp256r1_sha256 \
	    rsa_pss_rsae_sha256
	check "lurkd restarted 3 times under load (longest: ${RESTART_MS} ms)" \
	    [ "$RESTARTS_DONE" = 3 ]
	check "... each restart shorter than the 2000 ms timeout" \
	    [ "$RESTART_MS" -lt 2000 ]
	check "... each lurkd instance signed with both keys" \
	    eval 'signed_by_each_instance 4 rsa && signed_by_each_instance 4 ec'
	check "zero failed handshakes through nginx: $HS_FAILED of $HS_RUN" \
	    [ "$HS_FAILED" = 0 -a "$HS_RUN" -ge 100 ]
	echo "# restart under nginx: $HS_RUN handshakes, $HS_FAILED failed, 3 restarts, longest ${RESTART_MS} ms"
	check "... and the workers logged no lurkd error" \
	    eval '! grep -E "lurkd not reachable|connection to lurkd lost|did not answer" "$T/nginx/logs/error.log"'
else
	nok "bench/hsload built (make regress-bins)"
fi

# lurkd restarted under the running nginx: nginx recovers by itself
stop_lurkd
start_lurkd "$T/lurkd.conf" || nok "lurkd restarted"
out=$("${CURL[@]}" -w ' %{http_code}' --tlsv1.3 "$URL")
check "after a lurkd restart, nginx handshakes again without a restart" \
    [ "${out##* }" = 200 ]

# lurkd hangs (netproc stopped): the provider gives up after its timeout
np=$(child_pid netproc)
kill -STOP "$np"
start=$(date +%s%N)
out=$("${CURL[@]}" -w ' %{http_code}' --tlsv1.3 "$URL")
rc=$?
ms=$((($(date +%s%N) - start) / 1000000))
kill -CONT "$np"
check "lurkd hung: the handshake fails (curl rc $rc)" [ "$rc" != 0 ]
check "lurkd hung: it fails within the 2000 ms timeout (${ms} ms < 4500)" \
    [ "$ms" -lt 4500 ]
out=$("${CURL[@]}" -w ' %{http_code}' --tlsv1.3 "$URL")
check "lurkd resumed: handshakes succeed again" [ "${out##* }" = 200 ]

# lurkd stopped: handshakes fail at once, nothing hangs
stop_lurkd
start=$(date +%s%N)
out=$("${CURL[@]}" -w ' %{http_code}' --tlsv1.3 "$URL")
rc=$?
ms=$((($(date +%s%N) - start) / 1000000))
check "lurkd stopped: the handshake fails (curl rc $rc)" [ "$rc" != 0 ]
check "lurkd stopped: it fails once the timeout is over (${ms} ms < 5000 ms)" [ "$ms" -lt 5000 ]
finish
