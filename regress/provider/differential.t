# A lurkd key must look exactly like the key file to every TLS client
# (seed requirement R2).  For every key type lurkd supports, the same
# openssl s_server runs twice, once with the key file and once with the
# lurkd key reference, and each client below must get the same outcome
# from both: on success the same protocol, cipher, signature type,
# signing digest and temp key; on failure the same alert.
#
# The clients: in TLS 1.3 and 1.2 the default list and each signature
# scheme offered alone (-sigalgs); in TLS 1.2 each key exchange (RSA,
# where lurkd decrypts; DHE; ECDHE on each group); TLS 1.1 and 1.0.  They
# run at security level 0, so that the server decides.
#
# Intended differences, each asserted below as exactly that difference:
#  1. rsa-kex off (a key's default): lurkd does not decrypt an RSA
#     premaster for a key whose policy lacks rsa-kex, the key file does.
#     RSA key exchange hands the edge a decryption oracle; lurkd makes it
#     a choice per key (the keys of the main matrix allow it).
#  2. A server whose operator lowers its security level to 0: the key
#     file then signs with SHA-1 (TLS 1.2 rsa_pkcs1_sha1, ecdsa_sha1) and
#     MD5+SHA-1 (TLS 1.0 and 1.1); lurkd never does (chosen-prefix
#     collisions make a SHA-1 signature a signature on something else).
#     At the default level the key file refuses them too: no difference.
#  3. Custom DH parameters (-dhparam, nginx ssl_dhparam): lurkd signs
#     DHE parameters only of the well-known groups (RFC 3526, RFC 7919;
#     OpenSSL's automatic parameters are among them), since a prime of
#     the edge's choosing would put hundreds of bytes of its choosing
#     under the signature.
. "$LURKD_TOP/regress/lib.sh"
. "$LURKD_TOP/regress/provider/setup.sh"

types="rsa2048 rsa3072 rsa4096 rsapss p256 p384 p521 ed25519 ed448"
RSAKEX="rsa2048 rsa3072 rsa4096" edge_setup $types nokex=rsa2048
edge_refs $types nokex

SIGALGS="RSA+SHA1 RSA+SHA224 RSA+SHA256 RSA+SHA384 RSA+SHA512
	rsa_pss_rsae_sha256 rsa_pss_rsae_sha384 rsa_pss_rsae_sha512
	rsa_pss_pss_sha256 rsa_pss_pss_sha384 rsa_pss_pss_sha512
	ECDSA+SHA1 ECDSA+SHA224 ecdsa_secp256r1_sha256 ecdsa_secp384r1_sha384
	ecdsa_secp521r1_sha512 ed25519 ed448 DSA+SHA256"
LOW=DEFAULT:@SECLEVEL=0

# The server pair: FILE_PID/FILE_PORT with the key file, LURK_PID/
# LURK_PORT with the reference; extra s_server arguments after the key.
FILE_PID= LURK_PID=
trap 'kill $FILE_PID $LURK_PID 2>/dev/null; cleanup' EXIT
pair_start() {	# pair_start KEY [s_server args...]
	local k=$1
	shift
	start_server "$T/$k.key" "$T/$k.crt" "$@" || return 1
	FILE_PID=$SERVER_PID FILE_PORT=$PORT
	start_server "$T/$k.ref" "$T/$k.crt" "$@" || return 1
	LURK_PID=$SERVER_PID LURK_PORT=$PORT
	SERVER_PID=
}
pair_stop() {
	kill $FILE_PID $LURK_PID 2>/dev/null
	wait $FILE_PID $LURK_PID 2>/dev/null
	FILE_PID= LURK_PID=
}

# outcome PORT [s_client args...]: one line for how the handshake ended
outcome() {
	local port=$1 out line
	shift
	[[ " $* " == *" -cipher "* ]] || set -- "$@" -cipher "$LOW"
	out=$(env -u OPENSSL_CONF timeout 15 openssl s_client \
	    -connect "127.0.0.1:$port" -servername test.lurk \
	    -verify_hostname test.lurk -verify_return_error \
	    -CAfile "$T/ca.crt" "$@" </dev/null 2>&1)
	# s_client prints "New, TLSv1.2" for a handshake that failed after
	# the ServerHello too: errors first
	if line=$(grep -m1 -o 'SSL alert number [0-9]*' <<<"$out"); then
		echo "alert ${line##* }"
	elif line=$(grep -m1 ':error:' <<<"$out"); then
		echo "error $(cut -d: -f6 <<<"$line")"
	elif line=$(grep -m1 '^New, TLS' <<<"$out"); then
		echo "ok ${line#New, }; $(grep -m1 '^Peer signature type' \
		    <<<"$out"); $(grep -m1 '^Peer signing digest' <<<"$out");" \
		    "$(grep -m1 '^Server Temp Key' <<<"$out")"
	else
		echo "no handshake"
	fi
}

# both ARGS...: the outcomes from the two servers, at once, in $F and $L
both() {
	local pid
	outcome "$FILE_PORT" "$@" >"$T/o.file" &
	pid=$!
	L=$(outcome "$LURK_PORT" "$@")
	wait $pid
	F=$(cat "$T/o.file")
}

# same KEY WHAT CASE...: each case (a line of s_client arguments) gets
# the same outcome from both servers; one line for the lot, one per
# difference.  Sets NOK to the number of handshakes that succeeded.
same() {
	local k=$1 what=$2 c n=0 diff=0
	shift 2
	NOK=0
	for c; do
		# shellcheck disable=SC2086
		both $c
		n=$((n + 1))
		if [ "$F" != "$L" ]; then
			nok "$k: $c: key file: $F; lurkd: $L"
			diff=$((diff + 1))
		elif [ "${F%% *}" = ok ]; then
			NOK=$((NOK + 1))
		fi
	done
	[ "$diff" = 0 ] &&
	    ok "$k: $what: $n clients, same outcome as the key file ($NOK handshakes, $((n - NOK)) failures alike)"
}

cases13=("-tls1_3")
cases12=("-tls1_2")
for sa in $SIGALGS; do
	cases13+=("-tls1_3 -sigalgs $sa")
	cases12+=("-tls1_2 -sigalgs $sa")
done
kex12=("-tls1_2 -cipher kRSA:@SECLEVEL=0" "-tls1_2 -cipher kDHE:@SECLEVEL=0")
for g in X25519 P-256 P-384 P-521 X448; do
	kex12+=("-tls1_2 -cipher kECDHE:@SECLEVEL=0 -groups $g")
done
old=("-tls1_1" "-tls1" "-tls1 -cipher kRSA:@SECLEVEL=0")

for k in $types; do
	pair_start "$k" || { nok "$k: s_server pair started"; pair_stop; continue; }
	same "$k" "TLS 1.3" "${cases13[@]}"
	check "$k: ... the key file's TLS 1.3 handshakes succeed ($NOK)" \
	    [ "$NOK" -ge 1 ]
	same "$k" "TLS 1.2 signature schemes" "${cases12[@]}"
	check "$k: ... the key file's TLS 1.2 handshakes succeed ($NOK)" \
	    [ "$NOK" -ge 1 ]
	same "$k" "TLS 1.2 key exchanges" "${kex12[@]}"
	same "$k" "TLS 1.1 and 1.0" "${old[@]}"
	pair_stop
done

# the bug this test was written for: TLS 1.2 ECDSA hashes are not bound
# to the curve (RFC 8422), and SHA-224 is a TLS 1.2 scheme
pair_start p256 || nok "p256: s_server pair started"
for sa in ecdsa_secp384r1_sha384 ecdsa_secp521r1_sha512 ECDSA+SHA224; do
	both -tls1_2 -sigalgs "$sa"
	check "p256: TLS 1.2 $sa alone succeeds through lurkd ($L)" \
	    [ "${L%% *}" = ok ]
done
both -tls1_3 -sigalgs ecdsa_secp384r1_sha384
check "p256: TLS 1.3 ecdsa_secp384r1_sha384 alone fails both ways ($F)" \
    [ "${F%% *}" != ok -a "$F" = "$L" ]
pair_stop

# intended difference 1: rsa-kex off
pair_start nokex || nok "nokex: s_server pair started"
same nokex "TLS 1.2 ECDHE, the control" "-tls1_2"
both -tls1_2 -cipher kRSA:@SECLEVEL=0
check "rsa-kex off: RSA key exchange works with the key file ($F)" \
    [ "${F%% *}" = ok ]
check "... and fails with lurkd ($L)" [ "${L%% *}" != ok ]
pair_stop

# intended difference 2: security level 0 on the server
for k in rsa2048 p256; do
	pair_start "$k" -cipher "$LOW" ||
	    { nok "$k: s_server pair at level 0 started"; pair_stop; continue; }
	[ "$k" = p256 ] && sha1=ECDSA+SHA1 || sha1=RSA+SHA1
	for c in "-tls1_2 -sigalgs $sha1" -tls1_1 -tls1; do
		both $c
		check "level 0, $k, $c: the key file signs with SHA-1 ($F)" \
		    [ "${F%% *}" = ok ]
		check "... lurkd does not ($L)" [ "${L%% *}" != ok ]
	done
	same "$k" "level 0, the rest of TLS 1.2" "${cases12[@]/*SHA1*/-tls1_2}"
	pair_stop
done

# intended difference 3: custom DH parameters
# (custom-dh2048.pem: made once with "openssl dhparam 2048", public data)
if pair_start rsa2048 -dhparam "$LURKD_TOP/regress/provider/custom-dh2048.pem"
then
	both -tls1_2 -cipher kDHE:@SECLEVEL=0
	check "custom DH parameters: DHE works with the key file ($F)" \
	    [ "${F%% *}" = ok ]
	check "... and fails with lurkd ($L)" [ "${L%% *}" != ok ]
	check "... which says why" \
	    grep -q 'prime is not a known group' "$T/lurkd.log"
	same rsa2048 "custom DH parameters, ECDHE" "-tls1_2"
	pair_stop
else
	nok "custom DH parameters: s_server pair started"
fi
finish
