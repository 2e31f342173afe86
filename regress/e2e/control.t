# lurkctl and the control sockets (netproc/control.c, lurkctl/): every
# command in text and in JSON, the JSON checked against what this test
# configured and what its workload did (control.py); unique-prefix
# abbreviations; the exit codes, 3 with lurkd stopped; who may use a
# control socket (root, lurkd's uid, the socket's group; anyone on a
# restricted one, for show and health only); garbage on the socket.
. "$LURKD_TOP/regress/lib.sh"

root_setup
for k in p256 rsa; do
	mkkey "$k" "$([ $k = rsa ] && echo rsa2048 || echo p256)" ||
	    { nok "make key $k"; finish; }
	openssl pkey -in "$T/$k.key" -pubout -outform DER -out "$T/$k.spki"
	openssl pkey -in "$T/$k.key" -pubout -out "$T/$k.pub"
done
me=$(id -u)
other= holder_uid=$me holder_gid=$(id -g) grp=$(id -g)
if [ "$root" = 1 ]; then
	other=$(id -u nobody) holder_uid=$other holder_gid=$(id -g nobody)
	grp=$(getent group daemon | cut -d: -f3)
fi
CTL=$T/ctl/lurkd.sock CTL2=$T/ctl2/lurkd.sock RO=$T/ro/lurkd.sock
SOCK=$T/run/lurk.sock
mkdir -p "$T/run"
cat >"$T/lurkd.conf" <<CONF
listen on unix "$SOCK" mode 0666
control socket "$CTL" mode 0666 group $grp
control socket "$CTL2"
control socket "$RO" restricted mode 0666
keyprocs 2
timeout message 3
key "p256" {
	private "$T/p256.key"
	certificate "$T/p256.crt"
	limit sign-tls13 rate 1000 burst 1000
	allow uid $me
}
key "rsa" {
	private "$T/rsa.key"
	certificate "$T/rsa.crt"
	operations { sign-tls13 rsa-kex }
	limit rsa-kex rate 5 burst 5
	allow uid $me
	allow gid 100
}
CONF
check "lurkd -nv prints the control sockets" \
    eval '"$LURKD" -nnv -f "$T/lurkd.conf" | grep -qx "control socket \"$RO\" mode 0666 restricted"'

# a control socket whose directory is the workload socket's, through a
# symbolic link: lurkd -n and a start refuse it
ln -s "$T/run" "$T/alias"
sed "s|^control socket \"$CTL2\"$|control socket \"$T/alias/c.sock\"|" \
    "$T/lurkd.conf" >"$T/alias.conf"
out=$("$LURKD" -n -f "$T/alias.conf" 2>&1); rc=$?
check "control socket in the workload's directory by a link: lurkd -n fails ($rc)" \
    eval '[ $rc = 1 ] && grep -q "control socket $T/alias/c.sock: its directory $T/alias is the directory of the workload socket $SOCK" <<<"$out"'
out=$(timeout 20 "$LURKD" -d -f "$T/alias.conf" 2>&1); rc=$?
check "... and so does a start, removing the sockets it made ($rc)" \
    eval '[ $rc = 1 ] && grep -q "is the directory of the workload socket" <<<"$out" && [ ! -e "$SOCK" -a ! -e "$T/alias/c.sock" ]'

start=$(date +%s)
start_lurkd "$T/lurkd.conf" || { nok "lurkd started"; finish; }
export LURKCTL LURK_SOCKET=$SOCK
lc() { "$LURKCTL" -s "$CTL" "$@"; }
version=$(sed -n 's/^#define LURKD_VERSION[[:space:]]*"\(.*\)"/\1/p' "$TOP/lurkd/lurkd.h")
"$PYTHON" - "$T" <<PY
import json, sys
json.dump({"ctl": "$CTL", "conf": "$T/lurkd.conf", "pid": $LURKD_PID,
    "netproc": int("$(child_pid netproc)"), "keyprocs": 2,
    "started": $start, "version": "$version",
    "holder_uid": $holder_uid, "holder_gid": $holder_gid,
    "holder_other": bool("$other"),
    "listeners": [["unix", "$SOCK"], ["control", "$CTL"],
        ["control", "$CTL2"], ["control-ro", "$RO"]],
    "allow": {"p256": {"uids": [$me], "gids": []},
              "rsa": {"uids": [$me], "gids": [100]}},
    "ops": {"p256": ["sign-tls13", "sign-tls12"],
            "rsa": ["sign-tls13", "rsa-kex"]},
    "limits": {"p256": {"sign_tls13": {"rate": 1000, "burst": 1000}},
               "rsa": {"rsa_kex": {"rate": 5, "burst": 5}}}},
    open(sys.argv[1] + "/facts.json", "w"))
PY

# the workload, and a connection held open by another uid (or ours)
mkdir -m 0777 "$T/hold"
"$PYTHON" "$TOP/regress/e2e/control.py" work "$T" $other ||
    nok "the workload ran to the end"
[ -n "$other" ] || skip "unauthorized peers and the control socket's uid check: need root"
if [ -n "$other" ]; then
	setpriv --reuid="$other" --regid="$holder_gid" --clear-groups \
	    "$PYTHON" "$TOP/regress/e2e/control.py" hold "$T" &
else
	"$PYTHON" "$TOP/regress/e2e/control.py" hold "$T" &
fi
holder=$!
for _ in $(seq 100); do [ -e "$T/hold/ready" ] && break; sleep 0.05; done
check "the holder is connected" [ -e "$T/hold/ready" ]

# every show in JSON, against the facts
for what in status keys clients stats metrics health; do
	"$PYTHON" "$TOP/regress/e2e/control.py" check "$what" "$T" ||
	    nok "lurkctl -j $what checks ran to the end"
done
touch "$T/hold/stop"
wait "$holder"

# and in text
lc show status >"$T/status.txt"
check "show status: exit 0" [ $? = 0 ]
check "show status: version, pid, ready" \
    grep -qx "lurkd $version, pid $LURKD_PID: ready" "$T/status.txt"
check "show status: the configuration file" \
    grep -qx "configuration  $(realpath "$T/lurkd.conf")" "$T/status.txt"
check "show status: the file's SHA-256" \
    grep -qx "sha256         $(sha256sum "$T/lurkd.conf" | cut -d' ' -f1)" "$T/status.txt"
check "show status: two keyprocs, running" \
    test "$(grep -Ec '^keyproc\[[01]\] +[0-9]+ +running$' "$T/status.txt")" = 2
check "show status: the restricted control socket, listening" \
    grep -Eq "^control-ro +$RO +listening$" "$T/status.txt"
lc show keys >"$T/keys.txt"
check "show keys: exit 0" [ $? = 0 ]
na=$(openssl x509 -in "$T/p256.crt" -noout -enddate -dateopt iso_8601 |
    sed 's/notAfter=\(.*\)Z/\1 UTC/')
id8=$(openssl dgst -sha256 -binary "$T/p256.spki" | od -An -tx1 | tr -d ' \n' | cut -c1-8)
# p256: 7 signatures and 2 key_info, and the holder's 2 if it is us;
# refused: 1 content, and 3 + 2 unauthorized if the others are not us
if [ -n "$other" ]; then uses=9 refusals=6; else uses=11 refusals=1; fi
check "show keys: a row for p256: type, id, not after, days, uses" \
    grep -Eq "^p256 +ec P-256 +$id8 +$na +(29|30) +$uses +$refusals$" "$T/keys.txt"
check "show keys: subject, issuer, allowed peers, operations and limits" \
    eval 'grep -q "^    subject      CN=p256.test$" "$T/keys.txt" &&
    grep -q "^    allow        uid $me, gid 100$" "$T/keys.txt" &&
    grep -q "^    operations   sign-tls13, rsa-kex (limit 5/s burst 5)$" "$T/keys.txt"'
check "show keys: uses and refusals by operation" \
    grep -q "^    rsa-kex      5 uses, 3 refusals (3 over the rate)$" "$T/keys.txt"
lc show stats >"$T/stats.txt"
check "show stats: exit 0" [ $? = 0 ]
check "show stats: operations by key, operation and result" \
    grep -Eq "^rsa +rsa-kex +temporary_failure +3$" "$T/stats.txt"
check "show stats: refusals by reason" \
    grep -Eq "^refusals +unknown_key +2$" "$T/stats.txt"
lc show clients >"$T/clients.txt"
check "show clients: exit 0, a header" \
    grep -q "^Transport  Identity" "$T/clients.txt"
lc show metrics >"$T/metrics.txt"
check "show metrics: exit 0" [ $? = 0 ]
if command -v promtool >/dev/null; then
	check "show metrics: promtool check metrics finds nothing" \
	    eval 'promtool check metrics <"$T/metrics.txt" >"$T/promtool.out" 2>&1'
	sed 's/^/    | /' "$T/promtool.out" | head -5
else
	skip "promtool check metrics: promtool not installed (Debian: prometheus)"
fi
check "show metrics: the operations counted" \
    grep -qx 'lurkd_operations_total{key="rsa",operation="rsa-kex",result="success"} 5' "$T/metrics.txt"
out=$(lc health)
check "health: exit 0, one line: ok: ready ($out)" \
    [ $? = 0 -a "$out" = "ok: ready: 2 keys, 4 listeners" ]

# abbreviations
check "sh k is show keys" eval 'cmp -s <(lc sh k) "$T/keys.txt"'
check "h is health" eval 'lc h | grep -q "^ok: ready"'
out=$(lc sh st 2>&1); rc=$?
check "sh st: exit 2, ambiguous, the choices" \
    eval '[ $rc = 2 ] && grep -q "ambiguous argument: st" <<<"$out" && grep -q "valid arguments: clients keys metrics stats status" <<<"$out"'
out=$(lc show frob 2>&1); rc=$?
check "show frob: exit 2, unknown argument" \
    eval '[ $rc = 2 ] && grep -q "unknown argument: frob" <<<"$out"'
out=$(lc show 2>&1); rc=$?
check "show: exit 2, missing argument" \
    eval '[ $rc = 2 ] && grep -q "missing argument" <<<"$out"'
lc show keys more >/dev/null 2>&1
check "show keys more: exit 2" [ $? = 2 ]
"$LURKCTL" -x health >/dev/null 2>&1
check "an unknown option: exit 2" [ $? = 2 ]

# log verbose|brief, at run time (lurkd started with -v)
out=$(lc l b)
check "log brief (l b): exit 0, logging brief" [ $? = 0 -a "$out" = "logging brief" ]
check "... the parent logs it" wait_log "parent: log brief" 5
check "... show status says brief" \
    eval 'lc -j show status | grep -q "\"log_level\": \"brief\""'
n=$(grep -c ": closed$" "$T/lurkd.log")
"$LURKCTL" ping >/dev/null
sleep 0.3
check "... a connection closed is not logged" [ "$(grep -c ": closed$" "$T/lurkd.log")" = "$n" ]
out=$(lc -j log verbose); rc=$?
check "log verbose -j: exit 0, result ok" \
    eval '[ $rc = 0 ] && "$PYTHON" -c "import json,sys; j=json.loads(sys.argv[1]); sys.exit(j != {\"command\": \"log\", \"result\": \"ok\", \"message\": \"logging verbose\"})" "$out"'
"$LURKCTL" ping >/dev/null
check "... a connection closed is logged again" wait_log ": closed$" 5

# reload: what lurkctl says is what show status counts
before=$(lc -j show status)
out=$(lc -j reload); rc=$?
after=$(lc -j show status)
check "reload -j: its exit status, result and message agree with show status ($rc: $out)" \
    "$PYTHON" - "$rc" "$out" "$before" "$after" <<'PY'
import json, sys
rc, r, b, a = int(sys.argv[1]), *(json.loads(x) for x in sys.argv[2:])
n = lambda s: s["reloads_ok"] + s["reloads_failed"]
took = a["reloads_ok"] == b["reloads_ok"] + 1
sys.exit(not (n(a) == n(b) + 1 and r["command"] == "reload" and
    (rc == 0) == took == (r["result"] == "ok") and
    a["last_reload"]["ok"] == took and
    (took or a["last_reload"]["error"] in r["message"]) and
    a["generation"] == b["generation"] + took))
PY
out=$(lc reload 2>&1); rc=$?
if [ $rc = 0 ]; then
	check "reload: text: exit 0, what the parent did ($out)" \
	    grep -q "^reloaded: configuration generation" <<<"$out"
else
	check "reload: text: exit 1 with the parent's word ($rc: $out)" \
	    eval '[ $rc = 1 ] && grep -q "reload failed: " <<<"$out"'
fi

# a reload that fails: lurkctl says the parent's word, exit 1
cp "$T/lurkd.conf" "$T/lurkd.conf.good"
echo "frobnicate yes" >>"$T/lurkd.conf"
out=$(lc reload 2>&1); rc=$?
check "a broken configuration: reload exits 1 with file, line and reason ($out)" \
    eval '[ $rc = 1 ] && grep -q "reload failed: .*lurkd.conf:[0-9]*: unknown keyword \"frobnicate\"" <<<"$out"'
check "... and show status says so" \
    eval 'lc show status | grep -q "^last reload .*: failed: .*frobnicate"'
cp "$T/lurkd.conf.good" "$T/lurkd.conf"
out=$(lc reload 2>&1); rc=$?
check "the configuration back: reload exits 0 ($out)" \
    eval '[ $rc = 0 ] && grep -q "^reloaded: configuration generation [0-9]*$" <<<"$out"'
check "after a reload, show keys reads the certificates again" \
    eval 'lc -j show keys | grep -q "\"subject\": \"CN=rsa.test\""'

# ping over the workload socket; keyref -j
"$PYTHON" - "$SOCK" >"$T/state" <<'PY'
import socket, struct, sys
s = socket.socket(socket.AF_UNIX); s.connect(sys.argv[1])
s.sendall(struct.pack(">BBBBQI", 0, 1, 0, 0, 1, 0))
h = s.recv(16); p = s.recv(64)
print(p[-4:].hex())
PY
out=$("$LURKCTL" ping); rc=$?
check "ping: text: the socket, the framing, every extension, lurk_state" \
    eval '[ $rc = 0 ] && grep -q "^$SOCK: ping [0-9.]* ms, the length counts the payload$" <<<"$out" && grep -qx "capabilities: lurk (0) version 1, tls12 (1) version 1, tls13 (2) version 1, edge (192) version 1; lurk_state $(cat "$T/state")" <<<"$out"'
out=$("$LURKCTL" -j ping -S "$SOCK")
check "ping -j: socket, length, extensions and lurk_state" \
    "$PYTHON" - "$out" "$SOCK" "$(cat "$T/state")" <<'PY'
import json, sys
j = json.loads(sys.argv[1])
sys.exit(not (j["socket"] == sys.argv[2] and j["length"] == "payload" and
    j["ping_ms"] >= 0 and j["lurk_state"] == sys.argv[3] and
    j["extensions"] == [{"designation": 0, "version": 1, "name": "lurk"},
                        {"designation": 1, "version": 1, "name": "tls12"},
                        {"designation": 2, "version": 1, "name": "tls13"},
                        {"designation": 192, "version": 1, "name": "edge"}]))
PY
"$LURKCTL" keyref -S "$SOCK" "$T/p256.crt" >"$T/p256.ref"
out=$("$LURKCTL" -j keyref -S "$SOCK" "$T/p256.crt")
check "keyref -j: name, key id, socket, and the same PEM as keyref" \
    "$PYTHON" - "$out" "$SOCK" "$(openssl dgst -sha256 -hex "$T/p256.spki" | sed 's/.* //')" "$T/p256.ref" <<'PY'
import json, sys
j = json.loads(sys.argv[1])
sys.exit(not (j["name"] == "p256" and j["socket"] == sys.argv[2] and
    j["key_id"] == sys.argv[3] and j["pem"] == open(sys.argv[4]).read()))
PY

# who may use the control sockets
if [ -n "$other" ]; then
	as_other() { setpriv --reuid="$other" --regid="$holder_gid" --clear-groups "$@"; }
	out=$(as_other "$LURKCTL" -s "$CTL" show status 2>&1); rc=$?
	check "uid $other, not in the socket's group: refused, exit 1 ($out)" \
	    eval '[ $rc = 1 ] && grep -q "uid $other may not use this control socket" <<<"$out"'
	check "... and logged with the peer's uid" \
	    wait_log "control $CTL: uid $other gid $holder_gid refused" 5
	out=$(setpriv --reuid="$other" --regid="$holder_gid" --groups="$grp" \
	    "$LURKCTL" -s "$CTL" health 2>&1)
	check "uid $other in the socket's group ($grp): served ($out)" [ $? = 0 ]
	out=$(as_other "$LURKCTL" -s "$CTL2" health 2>&1); rc=$?
	check "a socket of mode 0660: uid $other cannot connect, exit 1 ($out)" \
	    eval '[ $rc = 1 ] && grep -q "Permission denied" <<<"$out"'
	as_other "$LURKCTL" -s "$RO" -j show keys >"$T/ro.json"; rc=$?
	check "restricted socket: uid $other may show keys" \
	    eval '[ $rc = 0 ] && grep -q "\"name\": \"rsa\"" "$T/ro.json"'
	out=$(as_other "$LURKCTL" -s "$RO" reload 2>&1); rc=$?
	check "restricted socket: reload refused, exit 1 ($out)" \
	    eval '[ $rc = 1 ] && grep -q "read-only: show and health only" <<<"$out"'
	out=$(as_other "$LURKCTL" -s "$RO" log verbose 2>&1)
	check "restricted socket: log verbose refused, exit 1" [ $? = 1 ]
	check "metrics: the refused peer counted" \
	    eval 'lc show metrics | grep -qx "lurkd_control_denied_total 1"'
fi
out=$("$LURKCTL" -s "$RO" reload 2>&1)
check "restricted socket: reload refused even to root" [ $? = 1 ]

# garbage on the control socket; lurkd goes on
"$PYTHON" "$TOP/regress/e2e/control.py" garbage "$T" ||
    nok "garbage checks ran to the end"
check "after all that, lurkd is healthy" eval 'lc health >/dev/null'

# lurkd stopped: 3
stop_lurkd
check "lurkd exits 0" lurkd_exited 0
for c in "health" "show status" "-j show keys" "reload"; do
	out=$(lc $c 2>"$T/err"); rc=$?
	check "lurkd stopped: lurkctl $c: exit 3, nothing on stdout" \
	    eval '[ $rc = 3 -a -z "$out" ] && grep -q "daemon not reachable" "$T/err"'
done
"$LURKCTL" ping >/dev/null 2>&1
check "lurkd stopped: lurkctl ping: exit 3" [ $? = 3 ]

# lurk length message: ping finds the framing as an edge does
sed 's/^keyprocs 2$/keyprocs 1\nlurk length message/' "$T/lurkd.conf" >"$T/msg.conf"
start_lurkd "$T/msg.conf" || nok "lurkd (lurk length message) started"
out=$("$LURKCTL" -j ping); rc=$?
check "ping -j: lurk length message found" \
    eval '[ $rc = 0 ] && grep -q "\"length\": \"message\"" <<<"$out"'
stop_lurkd
finish
