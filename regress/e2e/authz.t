# Authorisation by uid, gid and supplementary groups (netproc/edge.c):
# peers with uid != gid, with a supplementary group only, with ids that
# equal the other kind's, for sign_tls13, sign_tls12 and rsa_premaster:
# each done where the key allows the peer, unauthorized where it does not
# (regress/e2e/authz.py).  Other peers than ourselves need root.
. "$LURKD_TOP/regress/lib.sh"

[ "$(id -u)" = 0 ] && { ensure_user || { nok "create user _lurkd"; finish; }; }
for k in byuid bygid bysupp; do
	mkkey "$k" rsa2048 || { nok "make key $k"; finish; }
	openssl pkey -in "$T/$k.key" -pubout -out "$T/$k.pub" &&
	openssl pkey -in "$T/$k.key" -pubout -outform DER -out "$T/$k.spki" ||
	    { nok "public key of $k"; finish; }
done
"$PYTHON" "$TOP/regress/e2e/authz.py" conf "$T" >"$T/lurkd.conf"
start_lurkd "$T/lurkd.conf" || { nok "lurkd started"; finish; }
LURK_SOCKET=$T/lurk.sock "$PYTHON" "$TOP/regress/e2e/authz.py" run "$T" ||
    nok "authorisation checks ran to the end"
[ "$(id -u)" = 0 ] ||
    skip "peers with other credentials than ours: need root to act as them"
if [ "$(id -u)" = 0 ]; then
	check "a refusal is logged with the peer's uid and gid" \
	    grep -q 'unauthorized key "bygid" sign-tls12 .*uid 3101 gid 2103 may not use this key' "$T/lurkd.log"
fi
stop_lurkd
check "lurkd exits 0" lurkd_exited 0
finish
