# Shared by regress/provider/*.t (sourced after regress/lib.sh): a
# throwaway CA, leaf keys that only lurkd holds, lurkd serving them on
# $SOCK, an openssl.cnf loading default + lurk.so, and s_server/s_client
# helpers.  Keys are named after their mkkey type (p256, rsa2048...).
EDGETEST=$TOP/regress/provider/edgetest
SOCK=$T/run/lurk.sock
SERVER_PID=
PORT=

stop_server() {
	[ -n "$SERVER_PID" ] || return 0
	kill "$SERVER_PID" 2>/dev/null
	wait "$SERVER_PID" 2>/dev/null
	SERVER_PID=
}
trap 'stop_server; cleanup' EXIT

# edge_setup [NAME=]TYPE...: CA, leaves, lurkd.conf, lurkd started.  The
# keys named in $RSAKEX (default: rsa2048) also allow rsa-kex.
edge_setup() {
	local k ops name type
	[ -f "$PROVIDER" ] && [ -x "$LURKCTL" ] && [ -x "$EDGETEST" ] ||
	    { nok "provider, lurkctl and edgetest built"; finish; }
	if [ "$(id -u)" = 0 ]; then
		ensure_user || { nok "create user _lurkd"; finish; }
	fi
	mkca || { nok "make a CA"; finish; }
	mkdir -p "$T/run"
	{
		echo "listen on unix \"$SOCK\" mode 0666"
		echo "keyprocs 1"
	} >"$T/lurkd.conf"
	for k; do
		name=${k%%=*} type=${k#*=}
		mkleaf "$name" "$type" || { nok "make key $name"; finish; }
		ops=
		[[ " ${RSAKEX-rsa2048} " == *" $name "* ]] &&
		    ops=$'\toperations { sign-tls13 sign-tls12 rsa-kex }\n'
		printf 'key "%s" {\n\tprivate "%s"\n\tcertificate "%s"\n%s\tallow uid %s\n}\n' \
		    "$name" "$T/$name.key" "$T/$name.crt" "$ops" "$(id -u)" \
		    >>"$T/lurkd.conf"
	done
	start_lurkd "$T/lurkd.conf" || { nok "lurkd started"; finish; }
	provider_conf "$T/openssl.cnf" "$SOCK" 2000
}

# edge_refs TYPE...: $T/TYPE.ref for each; skips everything (and ends
# the script) while lurkd does not answer the edge extension yet.
edge_refs() {
	local k
	for k; do
		if ! "$LURKCTL" keyref -S "$SOCK" "$T/$k.crt" >"$T/$k.ref" \
		    2>"$T/lurkctl.err"; then
			if grep -q invalid_extension "$T/lurkctl.err"; then
				skip "edge operations: lurkd does not answer designation 192 yet"
			else
				nok "lurkctl keyref $k"
				cat "$T/lurkctl.err"
			fi
			finish
		fi
	done
}

# start_server KEY CERT [s_server args...]: openssl s_server -www through
# the provider on $PORT, given only the reference and the certificate
start_server() {
	local key=$1 cert=$2
	shift 2
	PORT=$(free_port)
	OPENSSL_CONF=$T/openssl.cnf openssl s_server -www \
	    -accept "127.0.0.1:$PORT" -key "$key" -cert "$cert" "$@" \
	    >"$T/s_server.log" 2>&1 &
	SERVER_PID=$!
	wait_port "$PORT" 10
}

# handshake [s_client args...]: a verified handshake whose server
# signature was checked (none with NOSIG=1: RSA key exchange); output in
# $T/s_client.out
handshake() {
	env -u OPENSSL_CONF timeout 15 openssl s_client \
	    -connect "127.0.0.1:$PORT" -servername test.lurk \
	    -verify_hostname test.lurk -verify_return_error \
	    -CAfile "$T/ca.crt" "$@" </dev/null >"$T/s_client.out" 2>&1 &&
	    grep -q '^New, TLS' "$T/s_client.out" &&
	    { [ -n "${NOSIG:-}" ] ||
	    grep -q 'Peer signature type' "$T/s_client.out"; }
}

# hs WHAT [s_client args...]: handshake, reported; shows why on failure
hs() {
	local what=$1
	shift
	if handshake "$@"; then
		ok "$what"
	else
		nok "$what"
		sed 's/^/    client: /' "$T/s_client.out" | grep -iE 'error|alert' | head -5
		sed 's/^/    server: /' "$T/s_server.log" | grep -iE 'error' | tail -5
	fi
}

# ms: milliseconds now
ms() { echo $(($(date +%s%N) / 1000000)); }
