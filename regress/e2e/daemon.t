# Daemon mode tells the truth: without -d the command returns only once
# every child is ready (exit 0), or with the reason on stderr and a
# non-zero status when the start fails after parsing.  The pid file is
# written once ready and removed at exit, and never replaces anything but
# a pid file.
. "$LURKD_TOP/regress/lib.sh"

root_setup
mkkey k p256 && mkkey other p256 || { nok "make keys"; finish; }
chmod 0600 "$T/k.key"	# no warning about its mode

# mkconf FILE KEY CERT SOCKET [LINE...]: one key, one socket, a pid file
mkconf() {
	local f=$1 key=$2 crt=$3 sock=$4 line; shift 4
	{
		echo "listen on unix \"$sock\" mode 0666"
		echo "keyprocs 1"
		echo "pidfile \"$T/lurkd.pid\""
		for line; do echo "$line"; done
		printf 'key "k" {\n\tprivate "%s"\n\tcertificate "%s"\n}\n' \
		    "$key" "$crt"
	} >"$f"
}

# run NAME CONF [env...] [binary]: lurkd -f CONF without -d; sets RC,
# the stderr in $T/NAME.err
run() {
	local name=$1 conf=$2 bin=$LURKD; shift 2
	[ "${BIN:-}" ] && bin=$BIN
	env "$@" timeout 30 "$bin" -f "$conf" >"$T/$name.out" 2>"$T/$name.err"
	RC=$?
}

# the daemon a run left behind, if any: stop it
reap_daemon() {
	local pid
	[ -s "$T/lurkd.pid" ] || return 0
	pid=$(cat "$T/lurkd.pid")
	kill -TERM "$pid" 2>/dev/null
	for ((i = 0; i < 100; i++)); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.05
	done
}

# fails NAME CONF PATTERN [env...]: no -d, exit != 0, PATTERN on stderr
fails() {
	local name=$1 conf=$2 pat=$3; shift 3
	run "$name" "$conf" "$@"
	if [ "$RC" != 0 ] && [ "$RC" != 124 ] && grep -q -- "$pat" "$T/$name.err"
	then
		ok "$name: exit $RC, the reason on stderr"
	else
		nok "$name: exit $RC (want non-zero), stderr has '$pat'"
		sed 's/^/    | /' "$T/$name.err"
	fi
	check "$name: no daemon left running, no pid file" [ ! -e "$T/lurkd.pid" ]
	reap_daemon
}

# 1. a good start
mkconf "$T/good.conf" "$T/k.key" "$T/k.crt" "$T/lurk.sock"
run good "$T/good.conf"
check "good configuration: exit 0 ($RC)" [ "$RC" = 0 ]
# (where RLIMIT_MEMLOCK is too low, keyproc says so: mlock.t)
check "good configuration: nothing on stderr but the memory lock note" \
    bash -c "! grep -v 'keyproc\[0\]: memory not locked: ' '$T/good.err' | grep -q ."
pid=$(cat "$T/lurkd.pid" 2>/dev/null)
check "pid file written, holding the parent's pid" \
    grep -q '^lurkd: parent' "/proc/${pid:-0}/cmdline"
check "the command returned once the children were ready" \
    [ "$(pgrep -c -P "${pid:-0}")" = 2 ]
check "the socket answers when the command returns" \
    "$PYTHON" -c "import socket,sys; s=socket.socket(socket.AF_UNIX); s.connect(sys.argv[1])" "$T/lurk.sock"

# 2. the same socket again: in use
run inuse "$T/good.conf"
check "socket in use: exit non-zero ($RC)" [ "$RC" != 0 ]
check "socket in use: the reason on stderr" \
    grep -q "lurk.sock: another lurkd is already running" "$T/inuse.err"
check "socket in use: the running daemon keeps its pid file" \
    [ "$(cat "$T/lurkd.pid" 2>/dev/null)" = "$pid" ]
kill -TERM "$pid"
for ((i = 0; i < 100; i++)); do kill -0 "$pid" 2>/dev/null || break; sleep 0.05; done
check "stopped: the pid file is removed" [ ! -e "$T/lurkd.pid" ]
check "stopped: the socket is removed" [ ! -e "$T/lurk.sock" ]

# 3. failures after parsing, each on the invoker's stderr
mkconf "$T/nokey.conf" "$T/nosuch.key" "$T/k.crt" "$T/lurk.sock"
fails "missing key" "$T/nokey.conf" "private key $T/nosuch.key: No such file"
mkconf "$T/mismatch.conf" "$T/other.key" "$T/k.crt" "$T/lurk.sock"
fails "mismatched key" "$T/mismatch.conf" "$T/k.crt does not match private key $T/other.key"
mkconf "$T/nodir.conf" "$T/k.key" "$T/k.crt" "$T/no/such/dir/lurk.sock"
fails "missing socket directory" "$T/nodir.conf" "$T/no/such/dir"
mkconf "$T/nopiddir.conf" "$T/k.key" "$T/k.crt" "$T/lurk.sock"
sed -i "s|^pidfile .*|pidfile \"$T/no/lurkd.pid\"|" "$T/nopiddir.conf"
fails "missing pid file directory" "$T/nopiddir.conf" "pidfile $T/no/lurkd.pid: directory $T/no"
cp "$T/k.key" "$T/copy.key"; cp "$T/k.crt" "$T/copy.crt"
mkconf "$T/twice.conf" "$T/k.key" "$T/k.crt" "$T/lurk.sock"
printf 'key "again" {\n\tprivate "%s"\n\tcertificate "%s"\n}\n' \
    "$T/copy.key" "$T/copy.crt" >>"$T/twice.conf"
fails "one key in two blocks" "$T/twice.conf" \
    "$T/twice.conf:8: key \"again\" is the same key as key \"k\" ($T/twice.conf:4): give each key one block"
if [ $root = 1 ]; then
	mkconf "$T/user.conf" "$T/k.key" "$T/k.crt" "$T/lurk.sock" \
	    'user "lurkd-no-such-user"'
	fails "unknown user" "$T/user.conf" "unknown user lurkd-no-such-user"
	mkdir -p "$T/chroot"; chmod 0775 "$T/chroot"
	mkconf "$T/chroot.conf" "$T/k.key" "$T/k.crt" "$T/lurk.sock" \
	    "chroot \"$T/chroot\""
	fails "bad chroot (group-writable)" "$T/chroot.conf" "chroot $T/chroot"
else
	skip "unknown user, bad chroot: need root"
fi
if [ -x "$LURKD_TEST" ]; then
	for who in keyproc netproc; do
		BIN=$LURKD_TEST fails "$who dies at start" "$T/good.conf" \
		    "lost child: $who.* signal 31" \
		    LURKD_TEST_TRIP=$who LURKD_TEST_TRIP_AT=0
	done
	# a child that hangs before it is ready: the start times out
	BIN=$LURKD_TEST fails "keyproc hangs at start" "$T/good.conf" \
	    "keyproc\[0\] pid [0-9]* is not ready after 2 s" \
	    LURKD_TEST_TRIP=keyproc LURKD_TEST_TRIP_AT=0 \
	    LURKD_TEST_TRIP_CALL=hang LURKD_TEST_START_TIMEOUT=2
	hung=$(sed -n 's/.*keyproc\[0\] pid \([0-9]*\) is not ready.*/\1/p' \
	    "$T/keyproc hangs at start.err")
	check "... and the hung keyproc ($hung) is gone" \
	    eval '[ -n "$hung" ] && ! kill -0 "$hung" 2>/dev/null'
	check "... the socket removed" [ ! -e "$T/lurk.sock" ]
else
	nok "lurkd-test built"
fi

# 4. -d: log lines on stderr begin with the local time
if start_lurkd "$T/good.conf"; then
	check "-d: every line on stderr begins with a timestamp" \
	    bash -c "! grep -Ev '^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{3}[+-][0-9]{4} (parent|keyproc\[0\]|netproc): ' '$T/lurkd.log' && [ -s '$T/lurkd.log' ]"
	stop_lurkd
else
	nok "lurkd -d started"
fi

# 5. the pid file replaces a pid file, nothing else
mkconf "$T/pf.conf" "$T/k.key" "$T/k.crt" "$T/lurk.sock"
echo 123 >"$T/lurkd.pid"
run stale "$T/pf.conf"
check "a stale pid file is replaced (exit $RC)" \
    [ "$RC" = 0 -a "$(cat "$T/lurkd.pid")" != 123 ]
reap_daemon
cp "$T/pf.conf" "$T/lurkd.pid"
run notpid "$T/pf.conf"
check "pidfile naming another file: exit non-zero ($RC)" [ "$RC" != 0 ]
check "pidfile naming another file: says why" \
    grep -q "does not hold a pid: lurkd replaces only a pid file" "$T/notpid.err"
check "pidfile naming another file: the file is intact" \
    cmp -s "$T/pf.conf" "$T/lurkd.pid"
rm -f "$T/lurkd.pid"

# 6. a relative -f: the daemon has gone to "/", and a reload reads the
# file it was started with, by the name given from the directory it was
# started in
mkdir -p "$T/ctl"
mkconf "$T/rel.conf" "$T/k.key" "$T/k.crt" "$T/lurk.sock" \
    "control socket \"$T/ctl/c.sock\""
cd "$T" && run rel rel.conf
cd "$OLDPWD" || exit 1
check "relative -f rel.conf: started (exit $RC)" [ "$RC" = 0 ]
out=$("$LURKCTL" -s "$T/ctl/c.sock" reload 2>&1); rc=$?
check "... lurkctl reload reads it again ($rc: $out)" [ "$rc" = 0 ]
"$LURKCTL" -s "$T/ctl/c.sock" show status >"$T/rel.status" 2>&1
check "... show status names it by its absolute path" \
    grep -qx "configuration  $T/rel.conf" "$T/rel.status"
check "... with the SHA-256 of its bytes" \
    grep -qx "sha256         $(sha256sum <"$T/rel.conf" | cut -d' ' -f1)" \
    "$T/rel.status"
check "... and one reload, which succeeded" \
    grep -qx "reloads        1 ok, 0 failed" "$T/rel.status"
reap_daemon
rm -f "$T/lurkd.pid"
finish
