# The drafts' tls12 (1) and tls13 (2) extensions end to end: capabilities
# and the generic errors (drafts_caps.py), tls12's and tls13's operations
# and every status (drafts_tls12.py, drafts_tls13.py); a second lurkd
# with the default freshness.
. "$LURKD_TOP/regress/lib.sh"

[ "$(id -u)" = 0 ] && { ensure_user || { nok "create user _lurkd"; finish; }; }
for k in rsa:rsa2048 rsa2:rsa2048 rsarate:rsa2048 p256:p256 ed:ed25519; do
	mkkey "${k%%:*}" "${k#*:}" || { nok "make key $k"; finish; }
	openssl pkey -in "$T/${k%%:*}.key" -pubout -out "$T/${k%%:*}.pub"
done
me=$(id -u)
rsaops="operations { tls12-rsa-master tls12-rsa-master-poh \\
	    tls12-rsa-extended-master tls12-rsa-extended-master-poh }"
{
	echo "listen on unix \"$T/lurk.sock\" mode 0666"
	echo "keyprocs 2"
	echo "tls12 freshness { sha256 null }"
	key_conf rsa "allow uid $me" "${rsaops%\}} tls13-cert-verify }" \
	    "tls13 secrets { h_c h_s }"
	key_conf rsa2 "allow uid $me"
	key_conf rsarate "allow uid $me" "$rsaops" "limit rsa-kex rate 1 burst 2"
	# uid 4243: allowed too, never the one that opened a session
	key_conf p256 "allow uid $me" "allow uid 4243" \
	    "operations { sign-tls13 tls12-ecdhe tls13-cert-verify \
	    tls13-new-ticket tls13-psk }" \
	    "tls13 secrets { h_c h_s a_c a_s x r }" "tls13 tickets 3"
	key_conf ed "allow uid $me"
} >"$T/lurkd.conf"
start_lurkd "$T/lurkd.conf" || { nok "lurkd started"; finish; }
ok "lurkd started with tls12 and tls13 operations"
LURK_SOCKET=$T/lurk.sock "$PYTHON" "$TOP/regress/e2e/drafts_caps.py" "$T" ||
    nok "drafts_caps.py ran to the end"
check "a client-side tls13 type is logged as refused" \
    grep -q 'client-side type: lurkd serves TLS servers' "$T/lurkd.log"
who=
[ "$me" = 0 ] && who=$(id -u nobody)
LURK_SOCKET=$T/lurk.sock "$PYTHON" "$TOP/regress/e2e/drafts_tls12.py" "$T" $who ||
    nok "drafts_tls12.py ran to the end"
[ -z "$who" ] && skip "tls12 from an unauthorized uid: needs root to act as another uid"
LURK_SOCKET=$T/lurk.sock "$PYTHON" "$TOP/regress/e2e/drafts_tls13.py" "$T" \
    ${who:+$who 4243} ||
    nok "drafts_tls13.py ran to the end"
check "netproc logs a tls13 key a policy does not allow" \
    grep -q 'invalid_certificate s_init_cert_verify key "ed" .*operation not allowed for this key' "$T/lurkd.log"
check "a tampered ticket is logged" \
    grep -q 'refused: key "p256" s_init_early_secret uid [0-9]*: ticket does not open: tampered with, or sealed by another lurkd' "$T/lurkd.log"
check "keyproc logs a refused Finished with key, type, uid and reason" \
    grep -q "keyproc\[[0-9]\]: refused: key \"rsa\" rsa_master_with_poh uid $me: client Finished does not match" "$T/lurkd.log"
check "netproc logs a key a policy does not allow" \
    grep -q "invalid_key_id rsa_master key \"rsa2\" .*operation not allowed for this key" "$T/lurkd.log"
if [ -n "$who" ]; then
	check "netproc logs an unauthorized uid" \
	    grep -q "invalid_key_id rsa_master key \"rsa\" .*unauthorized: uid $who" "$T/lurkd.log"
fi
check "netproc logs the rate" \
    grep -q "rsa_master key \"rsarate\" .*limit rsa-kex rate 1 a second exceeded" "$T/lurkd.log"
kill -USR1 "$LURKD_PID"
wait_log 'stats: key "rsa":.* tls12-rsa-master ' 5
check "SIGUSR1: counters of the drafts' operations per key" \
    grep -Eq 'stats: key "rsa": .* tls12-rsa-master [1-9][0-9]* ok [1-9][0-9]* refused tls12-rsa-master-poh [1-9]' "$T/lurkd.log"
stop_lurkd
check "lurkd exits 0 after the run" lurkd_exited 0

# the default: freshness sha256 only; tls13: null allowed, pylurk's
# label, 1 session a keyproc for 2 s, tickets of 2 s
sed -i '/tls12 freshness/d' "$T/lurkd.conf"
cat >>"$T/lurkd.conf" <<'CONF'
tls13 freshness { sha256 null }
tls13 freshness label pylurk
tls13 sessions 1 timeout 2
tls13 ticket lifetime 2
CONF
start_lurkd "$T/lurkd.conf" || { nok "lurkd restarted"; finish; }
DRAFTS_MODE=second LURK_SOCKET=$T/lurk.sock "$PYTHON" \
    "$TOP/regress/e2e/drafts_tls13.py" "$T" ||
    nok "drafts_tls13.py (second) ran to the end"
check "a ticket of the lurkd before is logged" \
    grep -q 'refused: key "p256" s_init_early_secret uid [0-9]*: ticket does not open: tampered with, or sealed by another lurkd or before a restart' "$T/lurkd.log"
check "an expired ticket is logged" \
    grep -q 'refused: key "p256" s_init_early_secret uid [0-9]*: ticket past its lifetime' "$T/lurkd.log"
check "a full session table is logged" \
    grep -q 'no room for a session (lurkd.conf: tls13 sessions)' "$T/lurkd.log"
LURK_SOCKET=$T/lurk.sock "$PYTHON" - "$T" <<'PY' || nok "freshness null checks ran"
import os, sys
sys.path.insert(0, os.path.join(os.environ["LURKD_TOP"], "regress"))
from lurkclient import ok, finish, connect
from lurkdrafts import *
D = sys.argv[1]
c = Client(connect())
pm = b"\x03\x03" + os.urandom(46)
epms = rsa_encrypt(os.path.join(D, "rsa.pub"), pm)
kid = key_id32(os.path.join(D, "rsa.key"))
st, p = c.call(TLS12, RSA_MASTER, kid + b"\xff\0" + os.urandom(32) + now_random() + epms)
ok(st == T12["invalid_freshness_funct"],
   "freshness null without tls12 freshness { null }: invalid_freshness_funct (7)")
st, p = c.call(TLS12, RSA_MASTER, kid + b"\0\0" + os.urandom(32) + now_random() + epms)
ok(st == SUCCESS and len(p) == 48, "... and sha256 still works")
finish()
PY
check "the refusal of null is logged" \
    grep -q 'freshness function null not allowed (lurkd.conf: tls12 freshness)' "$T/lurkd.log"
stop_lurkd

# a tls12 RSA operation on a key that is not RSA: lurkd -n says so
{
	echo "listen on unix \"$T/lurk.sock\" mode 0666"
	key_conf p256 "operations { tls12-rsa-master }"
} >"$T/bad.conf"
out=$("$LURKD" -n -f "$T/bad.conf" 2>&1)
check "lurkd -n: tls12-rsa-master on a P-256 key is refused, and why" \
    eval 'grep -q "tls12-rsa-\* needs an RSA key" <<<"$out"'
finish
