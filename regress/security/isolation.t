# Key isolation: after real handshakes through a stock TLS server, the
# private key's secret numbers (RSA primes, EC scalar) are in no process
# but keyproc: not in netproc, the parent or the edge (s_server).  The
# same search finds them in keyproc, so it is not blind.  keyproc cannot
# be traced or read by its own uid, and no key bytes reach the log.
. "$LURKD_TOP/regress/lib.sh"

[ "$(id -u)" = 0 ] || { skip "isolation: needs root to read other processes' memory"; finish; }
[ -f "$PROVIDER" ] || { nok "provider built"; finish; }
ensure_user || { nok "create user _lurkd"; finish; }
mkca && mkleaf rsa rsa2048 && mkleaf ec p256 || { nok "make keys"; finish; }

# needles: each secret as big-endian bytes and as OpenSSL's in-memory
# BIGNUM (64-bit little-endian limbs: the bytes reversed), whole and as a
# 16-byte slice from the middle
needles() {	# needles KEYFILE FIELD... > file
	local key=$1; shift
	for field in "$@"; do
		hex=$(openssl pkey -in "$key" -text -noout 2>/dev/null |
		    awk -v f="$field:" '
			$1 == f { on = 1; next }
			on && /^ +[0-9a-f][0-9a-f]:/ { gsub(/[ :]/, ""); h = h $0; next }
			on { on = 0 }
			END { print h }')
		# drop a leading 00 sign byte
		hex=${hex#00}
		[ ${#hex} -ge 64 ] || { echo "no $field in $key" >&2; return 1; }
		echo "$hex"
		echo "$hex" | fold -w2 | tac | tr -d '\n'; echo
		echo "${hex:32:32}"
	done
	# and the DER of the key file itself
	openssl pkey -in "$key" -outform DER | od -An -tx1 -v | tr -d ' \n' |
	    cut -c1-96; echo
}
needles "$T/rsa.key" prime1 prime2 privateExponent >"$T/rsa.needles" &&
needles "$T/ec.key" priv >"$T/ec.needles" || { nok "extract key secrets"; finish; }
ok "secrets extracted: $(wc -l <"$T/rsa.needles") RSA and $(wc -l <"$T/ec.needles") EC needles"

SOCK=$T/lurk.sock
cat >"$T/lurkd.conf" <<CONF
listen on unix "$SOCK" mode 0666
keyprocs 1
key "rsa" {
	private "$T/rsa.key"
	certificate "$T/rsa.crt"
	operations { sign-tls13 sign-tls12 rsa-kex }
	allow uid 0
}
key "ec" {
	private "$T/ec.key"
	certificate "$T/ec.crt"
	allow uid 0
}
CONF
start_lurkd "$T/lurkd.conf" || { nok "lurkd started"; finish; }
for k in rsa ec; do "$LURKCTL" keyref -S "$SOCK" "$T/$k.crt" >"$T/$k.ref"; done
provider_conf "$T/openssl.cnf" "$SOCK"
PORT=$(free_port)
OPENSSL_CONF=$T/openssl.cnf openssl s_server -accept "127.0.0.1:$PORT" \
    -cert "$T/rsa.crt" -key "$T/rsa.ref" -dcert "$T/ec.crt" -dkey "$T/ec.ref" \
    -www >"$T/s_server.log" 2>&1 &
SPID=$!
trap 'kill $SPID 2>/dev/null; wait $SPID 2>/dev/null; cleanup' EXIT
wait_port "$PORT" 10 || { nok "s_server started"; finish; }
hs=0
for opts in "-tls1_3 -sigalgs rsa_pss_rsae_sha256" "-tls1_3 -sigalgs ecdsa_secp256r1_sha256" \
    "-tls1_2 -cipher ECDHE-RSA-AES128-GCM-SHA256" "-tls1_2 -cipher ECDHE-ECDSA-AES128-GCM-SHA256" \
    "-tls1_2 -cipher AES128-GCM-SHA256"; do
	# shellcheck disable=SC2086
	echo | openssl s_client -connect "127.0.0.1:$PORT" -CAfile "$T/ca.crt" \
	    -servername test.lurk -verify_return_error -brief $opts 2>&1 |
	    grep -q "^Verification: OK" && hs=$((hs + 1))
done
check "5 real handshakes (TLS 1.3, 1.2 ECDHE, 1.2 RSA key exchange)" [ "$hs" = 5 ]

scan() {	# scan PID NAME EXPECT(absent|present)
	local out rc
	out=$("$PYTHON" "$TOP/regress/security/memscan.py" "$1" \
	    "$T/rsa.needles" "$T/ec.needles" 2>&1); rc=$?
	case $3:$rc in
	absent:0) ok "no private key secret in the memory of $2" ;;
	present:1) ok "the search finds the secrets in $2 (control)" ;;
	*) nok "memory of $2: expected secrets $3 (rc $rc)"; echo "$out" | head ;;
	esac
}
scan "$(child_pid keyproc)" keyproc present
scan "$(child_pid netproc)" netproc absent
scan "$LURKD_PID" "the parent" absent
scan "$SPID" "the edge (openssl s_server)" absent

# keyproc against its own uid; the control is an ordinary process of
# that uid, which the same attempt can trace
asuser() { setpriv --reuid=_lurkd --regid="$(id -g _lurkd)" --clear-groups "$@"; }
tracetest() {	# tracetest PID: try PTRACE_ATTACH and /proc/PID/mem as _lurkd
	asuser "$PYTHON" -c '
import ctypes, sys
libc = ctypes.CDLL(None, use_errno=True)
r = libc.ptrace(16, int(sys.argv[1]), None, None)   # PTRACE_ATTACH
print("attach", r, ctypes.get_errno())
try:
    open("/proc/%s/mem" % sys.argv[1], "rb").read(1)
    print("mem readable")
except OSError as e:
    print("mem", e.errno)
' "$1" 2>&1
}
setpriv --reuid=_lurkd --regid="$(id -g _lurkd)" --clear-groups sleep 30 &
ctl=$!
sleep 0.2
out=$(tracetest "$ctl")
kill -KILL "$ctl" 2>/dev/null; wait "$ctl" 2>/dev/null
check "control: uid _lurkd can trace its own ordinary process" \
    grep -q "^attach 0 " <<<"$out"
kp=$(child_pid keyproc)
out=$(tracetest "$kp")
check "keyproc cannot be ptrace-attached by uid _lurkd (EPERM)" \
    grep -q "^attach -1 1$" <<<"$out"
check "keyproc's memory cannot be read by uid _lurkd (EACCES/EPERM)" \
    grep -Eq "^mem (1|13)$" <<<"$out"
check "keyproc: no core files (RLIMIT_CORE 0)" \
    grep -Eq "^Max core file size +0 +0" "/proc/$kp/limits"
check "no key file content in the log" \
    bash -c "! grep -qFf <(grep -v -- '-----' '$T/rsa.key' '$T/ec.key' | cut -d: -f2) '$T/lurkd.log'"
finish
