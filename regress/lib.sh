# Shared by the end-to-end regress scripts (sourced).  Prints the result
# lines regress/run counts: "ok - ", "not ok - ", "skip - what: why".
set -u
TOP=${LURKD_TOP:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)}
LURKD=${LURKD:-$TOP/lurkd/lurkd}
LURKD_TEST=${LURKD_TEST:-$TOP/lurkd/lurkd-test}
PYTHON=${PYTHON:-$(command -v /usr/bin/python3 || command -v python3)}
FAILED=0
LURKD_PID=
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
# background, logging to $T/lurkd.log; waits for its "ready" line.
start_lurkd() {
	local conf=$1 bin=${2:-$LURKD}; shift; [ $# -gt 0 ] && shift
	: >"$T/lurkd.log"
	"$@" "$bin" -d -v -f "$conf" >>"$T/lurkd.log" 2>&1 &
	LURKD_PID=$!
	wait_log "parent: ready:" 10
}

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

# wait_exit SECONDS: waits for lurkd to exit; sets LURKD_RC
wait_exit() {
	local i
	for ((i = 0; i < $1 * 20; i++)); do
		if ! kill -0 "$LURKD_PID" 2>/dev/null; then
			wait "$LURKD_PID"; LURKD_RC=$?; LURKD_PID=
			return 0
		fi
		sleep 0.05
	done
	LURKD_RC=timeout
	return 1
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
