# lurkd restarted under a steady handshake load through openssl s_server
# (the lurk provider, RSA and ECDSA keys): no handshake fails.  The
# provider keeps trying to connect while the socket is gone or refuses,
# and sends again a request whose connection died, all within its
# timeout (5000 ms here), so a restart shorter than that costs nothing.
# Then lurkd listening with whole-message lengths (lurk length message):
# the provider finds the framing by itself, or is told.
. "$LURKD_TOP/regress/lib.sh"
. "$LURKD_TOP/regress/provider/setup.sh"

[ -x "$HSLOAD" ] || { nok "bench/hsload built (make regress-bins)"; finish; }
edge_setup p256 rsa2048
edge_refs p256 rsa2048
provider_conf "$T/openssl.cnf" "$SOCK" 5000
start_server "$T/p256.ref" "$T/p256.crt" \
    -dkey "$T/rsa2048.ref" -dcert "$T/rsa2048.crt" ||
    { nok "s_server started"; cat "$T/s_server.log"; finish; }
hs "handshake with lurkd up (ECDSA)" -tls1_3 -sigalgs ecdsa_secp256r1_sha256
hs "handshake with lurkd up (RSA)" -tls1_3 -sigalgs rsa_pss_rsae_sha256

RESTARTS=3
restart_under_load "$PORT" 8 "$RESTARTS" ecdsa_secp256r1_sha256 \
    rsa_pss_rsae_sha256
check "lurkd restarted $RESTARTS times under load (longest: ${RESTART_MS} ms)" \
    [ "$RESTARTS_DONE" = "$RESTARTS" ]
check "... each restart shorter than the 5000 ms timeout" \
    [ "$RESTART_MS" -lt 5000 ]
check "handshakes ran all along: $HS_RUN" [ "$HS_RUN" -ge 100 ]
check "... and each lurkd instance signed with both keys" \
    eval 'signed_by_each_instance $((RESTARTS + 1)) p256 &&
    signed_by_each_instance $((RESTARTS + 1)) rsa2048'
check "zero failed handshakes: $HS_FAILED of $HS_RUN" [ "$HS_FAILED" = 0 ]
echo "# restart under s_server: $HS_RUN handshakes, $HS_FAILED failed, $RESTARTS restarts, longest ${RESTART_MS} ms"
check "s_server logged no lurkd error" \
    eval '! grep -E "lurkd not reachable|connection to lurkd lost|did not answer" "$T/s_server.log"'
check "s_server is still the same process" kill -0 "$SERVER_PID"
stop_server
stop_lurkd

# whole-message lengths: found by the provider's ping, or configured
sed -i '1i lurk length message' "$T/lurkd.conf"
start_lurkd "$T/lurkd.conf" || { nok "lurkd started (length message)"; finish; }
for mode in auto message; do
	provider_conf "$T/openssl.cnf" "$SOCK" 2000
	[ "$mode" = auto ] || sed -i "/^timeout_ms/a length = $mode" "$T/openssl.cnf"
	start_server "$T/p256.ref" "$T/p256.crt" \
	    -dkey "$T/rsa2048.ref" -dcert "$T/rsa2048.crt" ||
	    { nok "s_server started"; cat "$T/s_server.log"; finish; }
	hs "lurk length message, provider length $mode: TLS 1.3 ECDSA" \
	    -tls1_3 -sigalgs ecdsa_secp256r1_sha256
	hs "... TLS 1.3 RSA" -tls1_3 -sigalgs rsa_pss_rsae_sha256
	hs "... TLS 1.2 ECDHE-ECDSA" -tls1_2 -cipher ECDHE-ECDSA-AES128-GCM-SHA256
	NOSIG=1 hs "... TLS 1.2 RSA key exchange" -tls1_2 -cipher AES128-GCM-SHA256
	stop_server
done
check "... the auto ping was refused as lurkd's framing says" \
    grep -q 'length shorter than the header' "$T/lurkd.log"

provider_conf "$T/openssl.cnf" "$SOCK" 2000
sed -i '/^timeout_ms/a length = payload' "$T/openssl.cnf"
start_server "$T/p256.ref" "$T/p256.crt" ||
    { nok "s_server started"; cat "$T/s_server.log"; finish; }
check "provider length payload against lurk length message: fails closed" \
    eval '! handshake -tls1_3'
stop_server

# a bad value: the provider does not load (what lurk(7) says to check)
provider_conf "$T/openssl.cnf" "$SOCK" 2000
out=$(OPENSSL_CONF=$T/openssl.cnf openssl list -providers 2>&1)
check "openssl list -providers shows the lurk provider active" \
    grep -q 'status: active' <<<"$(grep -A3 '^  lurk$' <<<"$out")"
sed -i '/^timeout_ms/a length = words' "$T/openssl.cnf"
out=$(OPENSSL_CONF=$T/openssl.cnf openssl list -providers 2>&1)
check "provider length words: the provider does not load" \
    eval '! grep -q "^  lurk$" <<<"$out"'
finish
