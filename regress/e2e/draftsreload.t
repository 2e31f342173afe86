# The drafts' tls12 and tls13 across reloads.  Sessions begun before a
# reload go on after it with their key if it is still there (by its SPKI:
# its index may move; on both keyprocs), and end with invalid_session_id
# if it is gone, replaced, no longer the peer's or no longer gives
# tickets; tickets issued before open after it while the key is the same
# (drafts_reload.py).  The drafts' settings follow a reload (the freshness
# label, the ticket lifetime, also for tickets issued before), but tls13
# sessions, which takes a restart.  The drafts' operations queued in
# netproc at the commit are remapped and checked again, each refused in
# its extension's numbering (draftsqueued.py).
. "$LURKD_TOP/regress/lib.sh"

root_setup
"$PYTHON" -c 'import cryptography' 2>/dev/null ||
    { skip "draftsreload: python3-cryptography missing"; finish; }
for k in p256:p256 p256new:p256 rsa:rsa2048 ed:ed25519 x:p256 slow:rsa2048; do
	mkkey "${k%%:*}" "${k#*:}" || { nok "make key $k"; finish; }
	openssl pkey -in "$T/${k%%:*}.key" -pubout -out "$T/${k%%:*}.pub"
done
me=$(id -u)

conf() {	# conf NAME [GLOBAL LINE...]: $T/conf.NAME, from the blocks
	local name=$1 line
	shift
	{
		echo "listen on unix \"$T/lurk.sock\" mode 0666"
		echo "keyprocs 2"
		echo "watch no"
		echo "tls12 window 60"
		for line; do echo "$line"; done
		cat
	} >"$T/conf.$name"
}
p256ops="operations { sign-tls13 tls13-cert-verify tls13-new-ticket tls13-psk }"
p256() {	# p256 [FILE [LINE...]]: the tls13 key, from FILE's files
	local file=${1:-p256}
	shift
	key_conf p256 "${@:-allow uid $me}" "$p256ops" \
	    "tls13 secrets { h_c h_s a_c a_s x r }" "tls13 tickets 3" |
	    sed "s|$T/p256\.|$T/$file.|"
}
others() {
	key_conf rsa "allow uid $me" "operations { tls13-cert-verify }" \
	    "tls13 secrets { h_c h_s }"
	key_conf ed "allow uid $me"
}
sessions="tls13 sessions 16 timeout 30"
{ p256; others; } | conf base "$sessions"
{ key_conf x "allow uid $me"; p256; others; } | conf shift "$sessions"
others | conf remove "$sessions"
{ p256 p256 "allow uid 12345"; others; } | conf revoke "$sessions"
{ p256 | sed 's/ tls13-new-ticket//'; others; } | conf notickets "$sessions"
{ p256 | sed 's/tls13 tickets 3/tls13 tickets 1/'; others; } |
    conf onetick "$sessions"
{ p256; others; } | conf settings "tls13 sessions 1 timeout 30" \
    "tls13 freshness label pylurk" "tls13 ticket lifetime 1"
{ p256 p256new; others; } | conf rotate "$sessions"
cp "$T/conf.base" "$T/lurkd.conf"
start_lurkd "$T/lurkd.conf" || { nok "lurkd started"; finish; }
DRAFTS_MODE=reload LURKD_PARENT=$LURKD_PID LURK_SOCKET=$T/lurk.sock \
    timeout 120 "$PYTHON" "$TOP/regress/e2e/drafts_tls13.py" "$T" ||
    nok "drafts_reload.py ran to the end"
check "a session's exchange refused by netproc, the key no longer the peer's: logged" \
    grep -q "invalid_session_id s_new_ticket key \"p256\" .*may no longer use this session's key (reloaded)" \
    "$T/lurkd.log"
check "tls13 sessions changed: that takes a restart, logged" \
    grep -q "tls13 sessions changed: that takes a restart; the running one stays" \
    "$T/lurkd.log"
check "a ticket past the lifetime a reload shortened: logged" \
    grep -q 'refused: key "p256" s_init_early_secret uid [0-9]*: ticket past tls13 ticket lifetime' \
    "$T/lurkd.log"
stop_lurkd
check "lurkd exits 0" lurkd_exited 0
check "no child died" bash -c "! grep -q 'lost child' '$T/lurkd.log'"

# the drafts' operations queued in netproc at a commit
slowops="operations { tls12-rsa-master tls13-cert-verify }"
key_conf slow "allow uid $me" "$slowops" | conf qbase
{ key_conf x "allow uid $me"; key_conf slow "allow uid $me" "$slowops"; } |
    conf shift
key_conf slow "allow uid 12345" "$slowops" | conf revoke
key_conf x "allow uid $me" | conf remove
key_conf slow "allow uid $me" "operations { sign-tls13 }" | conf ops
key_conf slow "allow uid $me" "$slowops" "tls13 secrets { h_c h_s }" |
    conf secrets
for mode in shift revoke remove ops secrets; do
	cp "$T/conf.qbase" "$T/lurkd.conf"
	start_lurkd "$T/lurkd.conf" ||
	    { nok "lurkd started ($mode)"; continue; }
	LURK_SOCKET=$T/lurk.sock timeout 90 "$PYTHON" \
	    "$TOP/regress/e2e/draftsqueued.py" "$T" "$LURKD_PID" $mode ||
	    nok "draftsqueued.py $mode ran to the end"
	case $mode in
	shift|secrets)
		check "$mode: the drafts' operations were queued at the commit, none refused by netproc" \
		    grep -Eq "netproc: reload: [1-9][0-9]* queued operations go to the new keys, 0 were refused" \
		    "$T/lurkd.log" ;;
	*)	check "$mode: netproc refused the drafts' queued operations" \
		    grep -Eq "netproc: reload: 0 queued operations go to the new keys, [1-9][0-9]* were refused" \
		    "$T/lurkd.log" ;;
	esac
	why=
	case $mode in
	revoke)	why='key "slow" .*may not use this key \(reloaded\)' ;;
	remove)	why='key "-" .*no such key \(reloaded\): id ' ;;
	ops)	why='key "slow" .*operation not allowed for this key \(reloaded\)' ;;
	esac
	[ -n "$why" ] && check "$mode: a refusal logged with the drafts' status and why" \
	    grep -Eq "(invalid_key_id rsa_master|invalid_certificate s_init_cert_verify) $why" \
	    "$T/lurkd.log"
	stop_lurkd
	check "$mode: lurkd exits 0" lurkd_exited 0
done
finish
