# The drafts' tls12 (1) and tls13 (2) extensions end to end: capabilities
# and the generic errors (drafts_caps.py).
. "$LURKD_TOP/regress/lib.sh"

[ "$(id -u)" = 0 ] && { ensure_user || { nok "create user _lurkd"; finish; }; }
for k in rsa:rsa2048 p256:p256 ed:ed25519; do
	mkkey "${k%%:*}" "${k#*:}" || { nok "make key $k"; finish; }
	openssl pkey -in "$T/${k%%:*}.key" -pubout -out "$T/${k%%:*}.pub"
done
me=$(id -u)
{
	echo "listen on unix \"$T/lurk.sock\" mode 0666"
	echo "keyprocs 2"
	echo "tls12 freshness { sha256 null }"
	key_conf rsa "allow uid $me" "operations { tls12-rsa-master \\
	    tls12-rsa-master-poh tls12-rsa-extended-master \\
	    tls12-rsa-extended-master-poh }"
	key_conf p256 "allow uid $me" \
	    "operations { sign-tls13 tls12-ecdhe tls13-cert-verify }"
	key_conf ed "allow uid $me"
} >"$T/lurkd.conf"
start_lurkd "$T/lurkd.conf" || { nok "lurkd started"; finish; }
ok "lurkd started with tls12 and tls13 operations"
LURK_SOCKET=$T/lurk.sock "$PYTHON" "$TOP/regress/e2e/drafts_caps.py" "$T" ||
    nok "drafts_caps.py ran to the end"
check "a client-side tls13 type is logged as refused" \
    grep -q 'client-side type: lurkd serves TLS servers' "$T/lurkd.log"
stop_lurkd
check "lurkd exits 0 after the run" lurkd_exited 0
finish
