# The parent trusts its children little.  A test-only build makes a child
# (netproc, keyproc) behave as a compromised one would towards the parent
# (LURKD_TEST_FORGE): a log line with a newline, another process's name
# and terminal escapes is relayed as one escaped line under the sender's
# real name, and in log format json its text and fields stay values of
# the sender's object; a line more urgent than LOG_ERR, a field the parent
# does not know or a uid that is no number, a file descriptor, a second
# READY are fatal.
. "$LURKD_TOP/regress/lib.sh"

[ -x "$LURKD_TEST" ] || { nok "lurkd-test built"; finish; }
root_setup
mkkey k p256 || { nok "make key"; finish; }
cat >"$T/lurkd.conf" <<CONF
listen on unix "$T/lurk.sock" mode 0666
keyprocs 1
key "k" {
	private "$T/k.key"
	certificate "$T/k.crt"
}
CONF

check "the normal build has no LURKD_TEST_FORGE" \
    bash -c "! grep -q LURKD_TEST_FORGE '$LURKD' && grep -q LURKD_TEST_FORGE '$LURKD_TEST'"

# forged log line: relayed, escaped, under the sender's name
for who in netproc keyproc; do
	name=$who; [ $who = keyproc ] && name='keyproc\[0\]'
	if ! LURKD_TEST_FORGE=$who:log start_lurkd "$T/lurkd.conf" "$LURKD_TEST"; then
		nok "$who:log: lurkd started"
		continue
	fi
	wait_log "test hook" 5 >/dev/null 2>&1
	check "$who:log: one line, under $who's name, the newline and escapes made visible" \
	    grep -qF " ${name//\\/}: test hook\\nkeyproc[0]: key \"k\": forged\\x1b[2J\\\\x41" "$T/lurkd.log"
	check "$who:log: no line begins with the forged name" \
	    bash -c "! grep -Eq '^([^ ]* )?keyproc\[0\]: key \"k\": forged' '$T/lurkd.log'"
	check "$who:log: no escape character reaches the log" \
	    bash -c "! grep -q $'\x1b' '$T/lurkd.log'"
	check "$who:log: lurkd keeps running" kill -0 "$LURKD_PID"
	stop_lurkd
done

# log format json: a child's text and fields stay its own, one object
sed 's/^keyprocs 1$/keyprocs 1\nlog format json/' "$T/lurkd.conf" >"$T/json.conf"
for who in netproc keyproc; do
	name=$who; [ $who = keyproc ] && name='keyproc[0]'
	if ! LURKD_READY=$LURKD_READY_JSON LURKD_TEST_FORGE=$who:jsonlog \
	    start_lurkd "$T/json.conf" "$LURKD_TEST"; then
		nok "$who:jsonlog: lurkd started"
		continue
	fi
	wait_log "test hook" 5 >/dev/null 2>&1
	check "$who:jsonlog: the line and its fields stay $who's, each field one string" \
	    "$PYTHON" - "$T/lurkd.log" "$name" <<'PY'
import json, sys
lines = [json.loads(l) for l in open(sys.argv[1]) if l.startswith("{")]
hook = [l for l in lines if "test hook" in l["message"]]
sys.exit(not (len(hook) == 1 and hook[0]["process"] == sys.argv[2] and
              hook[0]["level"] == "info" and
              hook[0]["message"] == 'test hook: "process":"parent"' and
              hook[0]["key"] == 'k","process":"parent' and
              hook[0]["reason"] == "a\\nb\\x1b[2J" and
              sorted(hook[0]) == ["key", "level", "message", "process",
                                  "reason", "time"]))
PY
	stop_lurkd
done

# what is fatal
fatal_forge() {	# fatal_forge WHO WHAT PATTERN
	: >"$T/lurkd.log"
	LURKD_TEST_FORGE=$1:$2 "$LURKD_TEST" -d -f "$T/lurkd.conf" \
	    >>"$T/lurkd.log" 2>&1 &
	LURKD_PID=$!
	wait_exit 10
	check "$1:$2: lurkd exits non-zero ($LURKD_RC)" \
	    [ "$LURKD_RC" != 0 -a "$LURKD_RC" != timeout ]
	check "$1:$2: the parent says why" grep -q -- "parent: fatal: $3" "$T/lurkd.log"
	[ "$LURKD_RC" = timeout ] && stop_lurkd
}
for who in netproc keyproc; do
	name=$who; [ $who = keyproc ] && name='keyproc\[0\]'
	fatal_forge $who pri "bad IMSG_LOG from $name"
	check "$who:pri: the emergency line is not relayed" \
	    bash -c "! grep -q 'an emergency' '$T/lurkd.log'"
	fatal_forge $who fd "$name sent a file descriptor"
	check "$who:fd: the line that came with it is not relayed" \
	    bash -c "! grep -q 'a line with a descriptor' '$T/lurkd.log'"
	fatal_forge $who ready "$name said READY twice"
	fatal_forge $who field "bad IMSG_LOG from $name"
	check "$who:field: the line is not relayed" \
	    bash -c "! grep -q 'an unknown field' '$T/lurkd.log'"
	fatal_forge $who number "bad IMSG_LOG from $name"
done
finish
