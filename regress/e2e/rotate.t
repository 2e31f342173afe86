# Reload and the watch, case by case: a key and its certificate replaced
# one after the other (one reload), what a reload swaps in netproc (keys,
# allow rules, limits) and what it keeps until a restart, two blocks of
# one key, watch no, a key only root's capability can read, a burst of
# SIGHUPs, and a netproc that commits a generation it was not given.
. "$LURKD_TOP/regress/lib.sh"

root_setup
"$PYTHON" -c 'import cryptography' 2>/dev/null ||
    { skip "rotate: python3-cryptography missing"; finish; }
mkdir -p "$T/keys" "$T/new"
for k in a a2 b c c2 d; do
	mkkey $k p256 || { nok "make key $k"; finish; }
done
cp "$T/a.key" "$T/a.crt" "$T/b.key" "$T/b.crt" "$T/c.key" "$T/c.crt" \
    "$T/keys/"
me=$(id -u)

block() {	# block NAME FILE [LINE...]: $T/keys/FILE.key, .crt
	local name=$1 file=$2 line
	shift 2
	printf 'key "%s" {\n\tprivate "%s"\n\tcertificate "%s"\n' "$name" \
	    "$T/keys/$file.key" "$T/keys/$file.crt"
	for line; do printf '\t%s\n' "$line"; done
	echo "}"
}
conf() {	# conf [GLOBAL LINE...]: the listener and keyprocs, the lines
	local line
	echo "listen on unix \"$T/lurk.sock\" mode 0666"
	echo "keyprocs 2"
	for line; do echo "$line"; done
}
sign() {	# sign CERT [SOCKET]: "signed", or the LURK status
	LURK_SOCKET=${2:-$T/lurk.sock} "$PYTHON" "$TOP/regress/e2e/rotate.py" "$1"
}
gen=1
reloaded() {	# reloaded WHY: the next generation is in use
	gen=$((gen + 1))
	wait_log "parent: reload ($1): generation $gen in use" 10
}

{ conf; block a a "allow uid $me"; block b b "allow uid $me"; } >"$T/lurkd.conf"
start_lurkd "$T/lurkd.conf" "$LURKD_TEST" || { nok "lurkd started"; finish; }
check "start: watching 4 files" grep -q "watching 4 key and certificate files" "$T/lurkd.log"
check "key a signs" eval '[ "$(sign "$T/a.crt")" = signed ]'

# a key, then its certificate 0.3 s later, rewritten in place: the
# watch waits for quiet and reloads once, with the new pair
cp "$T/a2.key" "$T/keys/a.key"
sleep 0.3
cp "$T/a2.crt" "$T/keys/a.crt"
check "key then certificate replaced: one reload, by the watch" \
    reloaded "files changed in $T/keys"
check "... that did not fail on half a pair" \
    bash -c "! grep -q 'reload (.*) failed' '$T/lurkd.log'"
check "... the new key signs, verified with the new certificate" \
    eval '[ "$(sign "$T/a2.crt")" = signed ]'
check "... the old key id is unknown_key (8)" \
    eval '[ "$(sign "$T/a.crt")" = 8 ]'

# what netproc swaps: keys, allow rules, limits
{ conf; block b b "allow uid 12345"; block c c "allow uid $me"; } >"$T/lurkd.conf"
kill -HUP "$LURKD_PID"
check "reload: a removed, b for another uid, c added" reloaded SIGHUP
check "... b refuses our uid: unauthorized (9)" eval '[ "$(sign "$T/b.crt")" = 9 ]'
check "... a is gone: unknown_key (8)" eval '[ "$(sign "$T/a2.crt")" = 8 ]'
check "... c signs" eval '[ "$(sign "$T/c.crt")" = signed ]'
{ conf "limit user rate 1 burst 1"; block c c "allow uid $me"; } >"$T/lurkd.conf"
kill -HUP "$LURKD_PID"
reloaded SIGHUP
sign "$T/c.crt" >/dev/null
check "reload: limit user rate 1 burst 1 applies: temporary_failure (7)" \
    eval '[ "$(sign "$T/c.crt")" = 7 ]'

# what takes a restart stays, and the log says so
{
	echo "listen on unix \"$T/other.sock\" mode 0666"
	echo "keyprocs 3"
	echo "lurk length message"
	block c c "allow uid $me"
} >"$T/lurkd.conf"
kill -HUP "$LURKD_PID"
check "reload with listen, keyprocs, lurk length changed: applied" reloaded SIGHUP
for what in listen keyprocs "lurk length"; do
	check "... \"$what changed: that takes a restart\" logged" \
	    grep -q "$what changed: that takes a restart; the running one stays" \
	    "$T/lurkd.log"
done
check "... the running socket and framing serve" \
    eval '[ "$(sign "$T/c.crt")" = signed ] && [ ! -e "$T/other.sock" ]'
check "... still 2 keyprocs" eval '[ -n "$(child_pid keyproc 2)" ] && [ -z "$(child_pid keyproc 3)" ]'

# two blocks of one key (in two files: the parser sees one path twice)
cp "$T/keys/c.key" "$T/keys/cc.key"
cp "$T/keys/c.crt" "$T/keys/cc.crt"
{ conf; block c c "allow uid $me"; block c-again cc "allow uid $me"; } >"$T/lurkd.conf"
kill -HUP "$LURKD_PID"
check "two blocks of one key: reload failed, both blocks named" \
    wait_log "reload (SIGHUP) failed: $T/lurkd.conf:8: key \"c-again\" is the same key as key \"c\" ($T/lurkd.conf:3)" 10
check "... the running generation serves" eval '[ "$(sign "$T/c.crt")" = signed ]'

# watch no: a changed key waits for SIGHUP
{ conf "watch no"; block c c "allow uid $me"; } >"$T/lurkd.conf"
kill -HUP "$LURKD_PID"
reloaded SIGHUP
check "watch no: logged" wait_log "watch no: key and certificate files are not watched" 5
n0=$(grep -c "parent: reload" "$T/lurkd.log")
cp "$T/c2.key" "$T/keys/c.key"
cp "$T/c2.crt" "$T/keys/c.crt"
sleep 2.5
check "watch no: files changed, no reload" \
    eval '[ "$(grep -c "parent: reload" "$T/lurkd.log")" = "$n0" ]'
check "... the old key still signs" eval '[ "$(sign "$T/c.crt")" = signed ]'
{ conf "watch yes"; block c c "allow uid $me"; } >"$T/lurkd.conf"
kill -HUP "$LURKD_PID"
check "SIGHUP reads the new key; watch yes watches again" reloaded SIGHUP
check "... new key signs" eval '[ "$(sign "$T/c2.crt")" = signed ]'
check "... watching 2 files" \
    eval '[ "$(grep -c "watching 2 key and certificate files" "$T/lurkd.log")" = 1 ]'

# a file written again and again next to the keys (a log, say) is not
# theirs: no reload, and the parent keeps answering (its events do not
# even arm the watch; nothing here can see that, only that they change
# nothing)
n0=$(grep -c "parent: reload" "$T/lurkd.log")
for ((i = 0; i < 250; i++)); do echo "$i" >>"$T/keys/busy.log"; sleep 0.01; done
sleep 1.5
check "a busy file beside the keys: no reload" \
    eval '[ "$(grep -c "parent: reload" "$T/lurkd.log")" = "$n0" ]'
kill -USR1 "$LURKD_PID"
check "... and the parent still relays SIGUSR1 to netproc" \
    wait_log "stats: key \"c\"" 5

# a burst of SIGHUPs: one reload runs, one more follows, none is lost
n0=$(grep -c "parent: reload (SIGHUP): generation" "$T/lurkd.log")
for i in 1 2 3 4 5; do kill -HUP "$LURKD_PID"; done
sleep 1.5
n1=$(grep -c "parent: reload (SIGHUP): generation" "$T/lurkd.log")
check "5 SIGHUPs at once: 1 or 2 reloads ($((n1 - n0))), then serving" \
    eval '[ $((n1 - n0)) -ge 1 ] && [ $((n1 - n0)) -le 2 ] && [ "$(sign "$T/c2.crt")" = signed ]'
gen=$((gen + n1 - n0))

# as root: a key only its owner may read; the parent keeps
# CAP_DAC_READ_SEARCH (permitted) to reopen it, effective only then
if [ $root = 1 ]; then
	mkdir -m 0700 "$T/priv"
	install -m 0400 "$T/d.key" "$T/priv/d.key"
	install -m 0444 "$T/d.crt" "$T/priv/d.crt"
	chown -R nobody "$T/priv"
	{
		conf
		printf 'key "d" {\n\tprivate "%s"\n\tcertificate "%s"\n\tallow uid %s\n}\n' \
		    "$T/priv/d.key" "$T/priv/d.crt" "$me"
	} >"$T/lurkd.conf"
	kill -HUP "$LURKD_PID"
	check "as root: a key of another user, 0400 in a 0700 directory: reloaded" \
	    reloaded SIGHUP
	check "... and it signs" eval '[ "$(sign "$T/d.crt")" = signed ]'
	check "... the parent's CapEff is CAP_KILL alone again" \
	    eval '[ "$(awk "/^CapEff:/ { print \$2 }" /proc/$LURKD_PID/status)" = 0000000000000020 ]'
else
	skip "reload of a key root's capability reads: not root"
fi
stop_lurkd
check "lurkd exits 0" lurkd_exited 0
check "no child died" bash -c "! grep -q 'lost child' '$T/lurkd.log'"

# operations queued in netproc when a reload commits (queued.py): a
# slow RSA key, 2048 pipelined requests, a reload that moves the key's
# index, takes it from our uid, or removes it
mkkey rsa rsa2048 && mkkey x p256 || { nok "make keys rsa, x"; finish; }
cp "$T/rsa.key" "$T/rsa.crt" "$T/x.key" "$T/x.crt" "$T/keys/"
{ conf; block x x "allow uid $me"; block rsa rsa "allow uid $me"; } >"$T/conf.shift"
{ conf; block rsa rsa "allow uid 12345"; } >"$T/conf.revoke"
{ conf; block x x "allow uid $me"; } >"$T/conf.remove"
for mode in shift revoke remove; do
	{ conf; block rsa rsa "allow uid $me"; } >"$T/lurkd.conf"
	start_lurkd "$T/lurkd.conf" "$LURKD_TEST" ||
	    { nok "lurkd started ($mode)"; continue; }
	LURK_SOCKET=$T/lurk.sock timeout 60 "$PYTHON" \
	    "$TOP/regress/e2e/queued.py" "$T" "$LURKD_PID" $mode ||
	    nok "queued.py $mode ran to the end"
	case $mode in
	shift)	check "shift: the operations were queued at the commit" \
		    grep -Eq "netproc: reload: [1-9][0-9]* queued operations go to the new keys, 0 were refused" \
		    "$T/lurkd.log" ;;
	*)	check "$mode: the refused ones logged" \
		    grep -Eq "netproc: reload: 0 queued operations go to the new keys, [1-9][0-9]* were refused" \
		    "$T/lurkd.log" ;;
	esac
	stop_lurkd
	check "$mode: lurkd exits 0" lurkd_exited 0
done

# netproc may choose when a generation is committed, never which: a
# COMMIT for another generation than the staged one kills keyproc
{ conf; block c c "allow uid $me"; } >"$T/lurkd.conf"
LURKD_TEST_COMMIT_GEN=1 start_lurkd "$T/lurkd.conf" "$LURKD_TEST" ||
    { nok "lurkd started (commit hook)"; finish; }
kill -HUP "$LURKD_PID"
wait_exit 10
check "netproc commits generation 3, 2 is staged: lurkd exits non-zero" \
    lurkd_exited nonzero
check "... keyproc says why" \
    grep -q "keyproc\[[01]\]: fatal: keyproc_commit: netproc commits generation 3, staged is 2" \
    "$T/lurkd.log"
finish
