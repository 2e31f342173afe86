# Shared by the end-to-end regress scripts (sourced).  Prints the result
# lines regress/run counts: "ok - ", "not ok - ", "skip - what: why".
set -u
TOP=${LURKD_TOP:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)}
LURKD=${LURKD:-$TOP/lurkd/lurkd}
LURKD_TEST=${LURKD_TEST:-$TOP/lurkd/lurkd-test}
PYTHON=${PYTHON:-$(command -v /usr/bin/python3 || command -v python3)}
FAILED=0
LURKD_PID=
LURKD_RC=
T=$(mktemp -d /tmp/lurkd-test.XXXXXX)
chmod 0755 "$T"

ok()   { echo "ok - $*"; }
nok()  { echo "not ok - $*"; FAILED=1; }
skip() { echo "skip - $*"; }
check() {	# check "what" command...
	local what=$1; shift
	if "$@"; then ok "$what"; else nok "$what"; fi
}

cleanup() {
	[ -n "$LURKD_PID" ] && kill "$LURKD_PID" 2>/dev/null && \
	    wait "$LURKD_PID" 2>/dev/null
	# KEEP=1 keeps the directory (logs, keys) for a look after a failure
	if [ -n "${KEEP:-}" ]; then echo "kept $T"; else rm -rf "$T"; fi
}
trap cleanup EXIT

ensure_user() {	# the privilege-drop user lurkd wants when started as root
	getent passwd _lurkd >/dev/null && return 0
	useradd --system --no-create-home --home-dir /nonexistent \
	    --shell /usr/sbin/nologin _lurkd
}

# root_setup: root=1 (and the _lurkd user) when run as root, else root=0
root_setup() {
	root=0
	[ "$(id -u)" = 0 ] || return 0
	root=1
	ensure_user || { nok "create user _lurkd"; finish; }
}

# mkkey NAME TYPE: writes $T/NAME.key and a self-signed $T/NAME.crt
mkkey() {
	local name=$1 type=$2 alg
	case $type in
	rsa2048) alg=(-algorithm RSA -pkeyopt rsa_keygen_bits:2048) ;;
	rsa3072) alg=(-algorithm RSA -pkeyopt rsa_keygen_bits:3072) ;;
	rsa4096) alg=(-algorithm RSA -pkeyopt rsa_keygen_bits:4096) ;;
	rsa1024) alg=(-algorithm RSA -pkeyopt rsa_keygen_bits:1024) ;;
	rsapss)  alg=(-algorithm RSA-PSS -pkeyopt rsa_keygen_bits:2048) ;;
	p256)    alg=(-algorithm EC -pkeyopt ec_paramgen_curve:P-256) ;;
	p384)    alg=(-algorithm EC -pkeyopt ec_paramgen_curve:P-384) ;;
	p521)    alg=(-algorithm EC -pkeyopt ec_paramgen_curve:P-521) ;;
	k256)    alg=(-algorithm EC -pkeyopt ec_paramgen_curve:secp256k1) ;;
	ed25519) alg=(-algorithm ED25519) ;;
	ed448)   alg=(-algorithm ED448) ;;
	*) echo "mkkey: unknown type $type" >&2; return 1 ;;
	esac
	openssl genpkey "${alg[@]}" -out "$T/$name.key" 2>/dev/null || return 1
	openssl req -new -x509 -key "$T/$name.key" -subj "/CN=$name.test" \
	    -days 30 -out "$T/$name.crt" 2>/dev/null || return 1
	chmod 0644 "$T/$name.key" "$T/$name.crt"
}

# key_conf NAME [LINE...]: a key block for $T/NAME.key and $T/NAME.crt,
# with the given lines in it
key_conf() {
	local name=$1 line
	shift
	printf 'key "%s" {\n\tprivate "%s"\n\tcertificate "%s"\n' \
	    "$name" "$T/$name.key" "$T/$name.crt"
	for line; do printf '\t%s\n' "$line"; done
	echo "}"
}

# p256_setup [CONFIG LINE...]: the usual one-key lurkd for e2e tests:
# the _lurkd user (as root), a P-256 key "p256" with its certificate and
# SPKI ($T/p256.spki), and $T/lurkd.conf listening on $T/lurk.sock (0666)
# with ${KEYPROCS:-1} keyprocs and the given global lines, the key allowed to our uid.
# Ends the test on failure.
p256_setup() {
	local line
	[ "$(id -u)" = 0 ] && { ensure_user || { nok "create user _lurkd"; finish; }; }
	mkkey p256 p256 || { nok "make key"; finish; }
	openssl pkey -in "$T/p256.key" -pubout -outform DER -out "$T/p256.spki"
	{
		echo "listen on unix \"$T/lurk.sock\" mode 0666"
		echo "keyprocs ${KEYPROCS:-1}"
		for line; do echo "$line"; done
		key_conf p256 "allow uid $(id -u)"
	} >"$T/lurkd.conf"
}

# start_lurkd CONF [lurkd binary] [runner...]: starts lurkd -d -v in the
# background, logging to $T/lurkd.log; waits for its "ready" line
# ($LURKD_READY: a pattern of it; log format json needs LURKD_READY_JSON).
start_lurkd() {
	local conf=$1 bin=${2:-$LURKD}; shift; [ $# -gt 0 ] && shift
	: >"$T/lurkd.log"
	"$@" "$bin" -d -v -f "$conf" >>"$T/lurkd.log" 2>&1 &
	LURKD_PID=$! LURKD_RC=
	wait_log "${LURKD_READY:-parent: ready:}" 10
}
LURKD_READY_JSON='"process":"parent","message":"ready:'

# wait_log PATTERN SECONDS: waits for a line in $T/lurkd.log
wait_log() {
	local i
	for ((i = 0; i < $2 * 20; i++)); do
		grep -q -- "$1" "$T/lurkd.log" 2>/dev/null && return 0
		sleep 0.05
	done
	echo "timeout waiting for '$1' in lurkd.log:" >&2
	cat "$T/lurkd.log" >&2
	return 1
}

# wait_exit SECONDS: waits for lurkd to exit; sets LURKD_RC, clears
# LURKD_PID.  One that does not exit in time is killed (it would break
# the next case): LURKD_RC=timeout, and wait_exit fails.
wait_exit() {
	local i
	for ((i = 0; i < $1 * 20; i++)); do
		if ! kill -0 "$LURKD_PID" 2>/dev/null; then
			wait "$LURKD_PID"; LURKD_RC=$?; LURKD_PID=
			return 0
		fi
		sleep 0.05
	done
	echo "lurkd pid $LURKD_PID did not exit within $1 s: killed" >&2
	kill -KILL "$LURKD_PID" 2>/dev/null
	wait "$LURKD_PID" 2>/dev/null
	LURKD_RC=timeout LURKD_PID=
	return 1
}

# lurkd_exited 0|nonzero|N: lurkd exited so (see wait_exit); never true
# for one that had to be killed or was not waited for
lurkd_exited() {
	case $LURKD_RC in
	''|timeout) return 1 ;;
	esac
	case $1 in
	nonzero) [ "$LURKD_RC" != 0 ] ;;
	*) [ "$LURKD_RC" = "$1" ] ;;
	esac
}

stop_lurkd() {
	[ -n "$LURKD_PID" ] || return 0
	kill -TERM "$LURKD_PID"
	wait_exit 10
}

child_pid() {	# child_pid keyproc|netproc [n]: the n-th such child
	pgrep -P "$LURKD_PID" -f "lurkd: $1" | sed -n "${2:-1}p"
}

finish() { exit $FAILED; }

# --- stock TLS servers through the lurk provider -------------------------
PROVIDER=${PROVIDER:-$TOP/provider/lurk.so}
LURKCTL=${LURKCTL:-$TOP/lurkctl/lurkctl}

# mkca: a throwaway CA in $T/ca.key, $T/ca.crt
mkca() {
	openssl req -new -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 \
	    -nodes -keyout "$T/ca.key" -subj "/CN=lurkd test CA" -days 2 \
	    -addext basicConstraints=critical,CA:true \
	    -addext keyUsage=critical,keyCertSign \
	    -out "$T/ca.crt" 2>/dev/null
}

# mkleaf NAME TYPE: $T/NAME.key and $T/NAME.crt for "test.lurk",
# signed by the CA
mkleaf() {
	mkkey "$1" "$2" || return 1
	openssl req -new -key "$T/$1.key" -subj "/CN=test.lurk" \
	    -out "$T/$1.csr" 2>/dev/null &&
	openssl x509 -req -in "$T/$1.csr" -CA "$T/ca.crt" -CAkey "$T/ca.key" \
	    -CAcreateserial -days 2 -out "$T/$1.crt" \
	    -extfile <(printf 'subjectAltName=DNS:test.lurk\nbasicConstraints=CA:false\nextendedKeyUsage=serverAuth\n') \
	    2>/dev/null
}

# mkcert NAME CA CN EXTENSIONS: $T/NAME.key (P-256) and $T/NAME.crt for
# CN, issued by $T/CA.key, with the extension lines given
mkcert() {
	openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
	    -keyout "$T/$1.key" -subj "/CN=$3" -out "$T/$1.csr" 2>/dev/null &&
	openssl x509 -req -in "$T/$1.csr" -CA "$T/$2.crt" -CAkey "$T/$2.key" \
	    -CAcreateserial -days 2 -out "$T/$1.crt" \
	    -extfile <(printf '%s\n' "$4" basicConstraints=CA:false) 2>/dev/null
}

# tls_standin NAME CERT: regress/provider/tlsproxy.py, a stand-in for a
# key server's mutual-TLS listener, with $T/CERT.crt and .key, trusting
# $T/ca.crt, relaying to $SOCK; its pid appended to STANDINS, its port in
# ${NAME}_PORT (empty if it did not start), its log in $T/NAME.log
STANDINS=()
tls_standin() {
	"$PYTHON" "$TOP/regress/provider/tlsproxy.py" "$T/$1.port" \
	    "$T/$2.crt" "$T/$2.key" "$T/ca.crt" "$SOCK" "$T/$1.log" \
	    2>"$T/$1.err" &
	STANDINS+=($!)
	for _ in $(seq 100); do [ -s "$T/$1.port" ] && break; sleep 0.05; done
	printf -v "${1}_PORT" %s "$(cat "$T/$1.port" 2>/dev/null)"
}

# stock_require SERVER COMMAND PACKAGE USER: ends the test (skip) unless
# COMMAND exists, we are root and USER exists; the provider must be
# built.  lurkd's socket will be $SOCK.
stock_require() {
	SOCK=$T/run/lurk.sock
	mkdir -p "$T/run"
	command -v "$2" >/dev/null ||
	    { skip "$1: package $3 not installed"; finish; }
	[ "$(id -u)" = 0 ] || { skip "$1: needs root (user $4)"; finish; }
	getent passwd "$4" >/dev/null || { skip "$1: no user $4"; finish; }
	[ -f "$PROVIDER" ] || { nok "provider built"; finish; }
	ensure_user || { nok "create user _lurkd"; finish; }
}

# stock_lurkd USER KEYPROCS LISTEN-LINE...: lurkd started with the
# given listen lines and the CA-signed leaves "rsa" (rsa2048) and "ec"
# (p256), both allowed to USER, and $T/rsa.ref, $T/ec.ref made through
# $SOCK (naming it unless REF_SOCKET=no).  Ends the test on failure.
stock_lurkd() {
	local user=$1 kp=$2 line k
	shift 2
	mkca && mkleaf rsa rsa2048 && mkleaf ec p256 ||
	    { nok "make CA and keys"; finish; }
	{
		for line; do echo "$line"; done
		echo "keyprocs $kp"
		for k in rsa ec; do
			printf 'key "%s" {\n\tprivate "%s"\n\tcertificate "%s"\n\tallow user "%s"\n}\n' \
			    "$k" "$T/$k.key" "$T/$k.crt" "$user"
		done
	} >"$T/lurkd.conf"
	start_lurkd "$T/lurkd.conf" || { nok "lurkd started"; finish; }
	for k in rsa ec; do
		if [ "${REF_SOCKET:-}" = no ]; then
			LURK_SOCKET=$SOCK "$LURKCTL" keyref "$T/$k.crt"
		else
			"$LURKCTL" keyref -S "$SOCK" "$T/$k.crt"
		fi >"$T/$k.ref" || { nok "lurkctl keyref $k"; finish; }
	done
}

# stock_nginx: nginx started (NGINX_PID, output in $T/nginx/out) with
# OPENSSL_CONF=$T/openssl.cnf and $T/nginx/nginx.conf: user www-data,
# 2 workers, 127.0.0.1:$PORT, certificates $T/rsa.crt and $T/ec.crt
# with their keys $T/rsa.ref and $T/ec.ref; a worker answers 200 and
# its pid
stock_nginx() {
	mkdir -p "$T/nginx/logs"
	cat >"$T/nginx/nginx.conf" <<NGINX
user www-data;
worker_processes 2;
master_process on;
daemon off;
pid $T/nginx/nginx.pid;
error_log $T/nginx/logs/error.log info;
env OPENSSL_CONF;
events { worker_connections 64; }
http {
	access_log off;
	server {
		listen 127.0.0.1:$PORT ssl;
		server_name test.lurk;
		ssl_certificate $T/rsa.crt;
		ssl_certificate_key $T/rsa.ref;
		ssl_certificate $T/ec.crt;
		ssl_certificate_key $T/ec.ref;
		ssl_protocols TLSv1.2 TLSv1.3;
		ssl_session_cache off;
		ssl_session_tickets off;
		location / { return 200 "worker \$pid\n"; }
	}
}
NGINX
	OPENSSL_CONF=$T/openssl.cnf nginx -p "$T/nginx" \
	    -c "$T/nginx/nginx.conf" >"$T/nginx/out" 2>&1 &
	NGINX_PID=$!
}

# stock_sclient [s_client args...]: a verified handshake with test.lurk
# on 127.0.0.1:$PORT (after STARTTLS if $STARTTLS names the protocol),
# -brief output
stock_sclient() {
	echo QUIT | timeout 15 openssl s_client -connect "127.0.0.1:$PORT" \
	    ${STARTTLS:+-starttls "$STARTTLS"} -servername test.lurk \
	    -CAfile "$T/ca.crt" -verify_return_error -brief "$@" 2>&1
}

# stock_tls WHAT SIGNATURE-TYPE [s_client args...]: ok if the handshake
# verifies and the server signed with SIGNATURE-TYPE ("RSA-PSS", "ECDSA";
# "RSA" takes both RSA kinds)
stock_tls() {
	local what=$1 sig=$2 out
	shift 2
	out=$(stock_sclient "$@")
	if grep -q "Signature type: $sig" <<<"$out" &&
	    grep -q 'Verification: OK' <<<"$out"; then
		ok "$what"
	else
		nok "$what"
		echo "$out" | head -5
	fi
}

# stock_signed USER WHO: lurkd signed TLS 1.3 and 1.2 with both stock
# keys, every time for USER's uid
stock_signed() {
	local uid k
	uid=$(id -u "$1")
	kill -USR1 "$LURKD_PID"
	wait_log 'stats: key "ec"' 5
	for k in rsa ec; do
		check "lurkd signed TLS 1.3 and 1.2 with the key \"$k\"" \
		    grep -Eq "stats: key \"$k\": .*sign-tls13 [1-9].* sign-tls12 [1-9]" \
		    "$T/lurkd.log"
	done
	check "... asked by $2, uid $1 ($uid)" \
	    eval 'grep -q "uid $uid: sign-tls13 key" "$T/lurkd.log" &&
	    ! grep -E ": sign-tls1[23] key" "$T/lurkd.log" | grep -vq "uid $uid:"'
}

# stock_outage SERVER LOG: lurkd stopped, a handshake fails and the
# server's LOG says lurkd is not reachable; lurkd started again, TLS 1.3
# RSA and TLS 1.2 ECDSA handshakes succeed (the server is not restarted)
stock_outage() {
	local out
	stop_lurkd
	out=$(stock_sclient -tls1_3)
	check "lurkd stopped: the handshake fails" \
	    eval '! grep -q "Verification: OK" <<<"$out"'
	check "... and $1 logs why" grep -q 'lurkd not reachable' "$2"
	start_lurkd "$T/lurkd.conf" || nok "lurkd restarted"
	stock_tls "lurkd restarted: TLS 1.3 RSA again, $1 not restarted" \
	    RSA-PSS -tls1_3 -sigalgs rsa_pss_rsae_sha256
	stock_tls "... TLS 1.2 ECDHE-ECDSA again" ECDSA \
	    -tls1_2 -cipher ECDHE-ECDSA-AES128-GCM-SHA256
}

# provider_conf FILE SOCKET [timeout_ms]: an openssl.cnf that loads the
# default provider and lurk.so
provider_conf() {
	cat >"$1" <<CNF
openssl_conf = openssl_init
[openssl_init]
providers = provider_sect
[provider_sect]
default = default_sect
lurk = lurk_sect
[default_sect]
activate = 1
[lurk_sect]
module = $PROVIDER
socket = $2
timeout_ms = ${3:-2000}
activate = 1
CNF
}

# free_port: a TCP port nobody listens on, on 127.0.0.1
free_port() {
	"$PYTHON" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

# wait_port PORT SECONDS
wait_port() {
	local i
	for ((i = 0; i < $2 * 20; i++)); do
		(exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0
		sleep 0.05
	done
	return 1
}

# --- restarts under load (regress/provider/restart.t, regress/stock/) -----
HSLOAD=${HSLOAD:-$TOP/bench/hsload}

# restart_under_load PORT SECONDS RESTARTS SIGALGS...: one bench/hsload
# per signature algorithm (TLS 1.3, 2 connections at a time) against
# 127.0.0.1:PORT for SECONDS while lurkd is restarted RESTARTS times
# (stop, start, each waited for) at even intervals; before each stop
# lurkd logs its counters, so each instance's signatures can be counted.
# Sets HS_RUN (handshakes attempted), HS_FAILED, RESTART_MS (the longest
# gap between stop and ready) and RESTARTS_DONE.
restart_under_load() {
	local port=$1 secs=$2 n=$3 i sa out t0 gap step pids=() outs=()
	shift 3
	for sa; do
		out=$T/hsload.$sa
		"$HSLOAD" -p "$port" -c 2 -t "$secs" -w 0 -s "$sa" \
		    >"$out" 2>&1 &
		pids+=($!)
		outs+=("$out")
	done
	RESTART_MS=0 RESTARTS_DONE=0
	step=$((secs * 1000 / (n + 1) - 200))
	for ((i = 1; i <= n; i++)); do
		sleep "$((step / 1000)).$(printf %03d $((step % 1000)))"
		kill -USR1 "$LURKD_PID"
		sleep 0.2
		cp "$T/lurkd.log" "$T/lurkd.log.$i"
		t0=$(date +%s%N)
		stop_lurkd || break
		start_lurkd "$T/lurkd.conf" || break
		gap=$((($(date +%s%N) - t0) / 1000000))
		[ "$gap" -gt "$RESTART_MS" ] && RESTART_MS=$gap
		RESTARTS_DONE=$i
	done
	for i in "${pids[@]}"; do wait "$i"; done
	kill -USR1 "$LURKD_PID"
	sleep 0.2
	cp "$T/lurkd.log" "$T/lurkd.log.$((n + 1))"
	HS_RUN=0 HS_FAILED=0
	for out in "${outs[@]}"; do
		local ok err
		ok=$(sed -n 's/.* hs_total=\([0-9]*\).*/\1/p' "$out")
		err=$(sed -n 's/.* errors=\([0-9]*\).*/\1/p' "$out")
		if [ -z "$ok" ] || [ -z "$err" ]; then
			echo "hsload: no result in $out:" >&2
			cat "$out" >&2
			HS_FAILED=$((HS_FAILED + 1))
			continue
		fi
		HS_RUN=$((HS_RUN + ok + err))
		HS_FAILED=$((HS_FAILED + err))
		grep -v '^ok ' "$out" >&2
	done
}

# signed_by_each_instance N KEY: every one of the N lurkd instances of
# restart_under_load made TLS 1.3 signatures with KEY
signed_by_each_instance() {
	local i
	for ((i = 1; i <= $1; i++)); do
		grep -Eq "stats: key \"$2\": .*sign-tls13 [1-9]" \
		    "$T/lurkd.log.$i" || return 1
	done
}
