# lurkd never destroys an operator's file: at a listen path it removes
# only a stale socket and refuses anything else, saying why; the socket
# gets its mode and group; a failed start removes the sockets it made and
# only those; at exit lurkd removes its socket only if it is still there.
. "$LURKD_TOP/regress/lib.sh"

root_setup
mkkey k p256 && mkkey other p256 || { nok "make keys"; finish; }
mkdir -p "$T/run"
S=$T/run/lurk.sock

# mkconf FILE KEY LISTEN-LINE...: one key, the given listen lines
mkconf() {
	local f=$1 key=$2 line; shift 2
	{
		for line; do echo "$line"; done
		echo "keyprocs 1"
		printf 'key "k" {\n\tprivate "%s"\n\tcertificate "%s"\n}\n' \
		    "$key" "$T/k.crt"
	} >"$f"
}
mkconf "$T/good.conf" "$T/k.key" "listen on unix \"$S\" mode 0666"

answers() {	# answers PATH: something accepts on the socket
	"$PYTHON" -c 'import socket,sys
s = socket.socket(socket.AF_UNIX)
s.connect(sys.argv[1])' "$1" 2>/dev/null
}

# refused WHAT: lurkd -f good.conf (no -d) fails, saying what is there
refused() {
	"$LURKD" -f "$T/good.conf" >/dev/null 2>"$T/err"
	local rc=$?
	if [ "$rc" != 0 ] && grep -q "listen $S: the path exists and is $1: lurkd removes only a stale socket" "$T/err"; then
		ok "$1 at the socket path: refused, saying so"
	else
		nok "$1 at the socket path: refused (exit $rc), saying so"
		sed 's/^/    | /' "$T/err"
	fi
}

# 1. anything but a socket is refused and left as it was
cp "$T/k.key" "$S"
refused "a regular file"
check "the regular file is intact" cmp -s "$T/k.key" "$S"
rm -f "$S"; mkdir "$S"; touch "$S/inside"
refused "a directory"
check "the directory is intact" [ -f "$S/inside" ]
rm -rf "$S"; cp "$T/k.key" "$T/target"; chmod 0600 "$T/target"
ln -s "$T/target" "$S"
refused "a symbolic link"
check "the link is intact" [ -L "$S" ]
check "... and its target: content" cmp -s "$T/k.key" "$T/target"
check "... and mode 0600" [ "$(stat -c %a "$T/target")" = 600 ]
rm -f "$S"; ln -s "$T/run/nowhere" "$S"
refused "a symbolic link"
check "a dangling link stays dangling" [ -L "$S" -a ! -e "$T/run/nowhere" ]
rm -f "$S"; mkfifo "$S"
refused "a FIFO"
rm -f "$S"

# 2. a stale socket goes, a live one stays
"$PYTHON" -c 'import socket,sys; socket.socket(socket.AF_UNIX).bind(sys.argv[1])' "$S"
if start_lurkd "$T/good.conf"; then
	check "a stale socket is replaced, and logged" \
	    grep -q "removed the stale socket $S" "$T/lurkd.log"
	check "the new socket answers" answers "$S"
	# the same socket, a second lurkd: refused, the first untouched
	mkconf "$T/two.conf" "$T/k.key" \
	    "listen on unix \"$T/run/mine.sock\" mode 0666" \
	    "listen on unix \"$S\" mode 0666"
	"$LURKD" -f "$T/two.conf" >/dev/null 2>"$T/err"
	rc=$?
	check "a socket in use: the second lurkd exits non-zero ($rc)" [ "$rc" != 0 ]
	check "a socket in use: it says so" \
	    grep -q "$S: another lurkd is already running" "$T/err"
	check "a socket in use: the running lurkd's socket stays and answers" answers "$S"
	check "a failed start removes the socket it made" [ ! -e "$T/run/mine.sock" ]
	# at exit, lurkd removes its socket only if it is still its own
	mv "$S" "$T/run/moved.sock"
	"$PYTHON" -c 'import socket,sys; socket.socket(socket.AF_UNIX).bind(sys.argv[1])' "$S"
	stop_lurkd
	check "at exit: a socket put in its place is not removed" [ -S "$S" ]
	rm -f "$S" "$T/run/moved.sock"
else
	nok "lurkd started over a stale socket"
fi

# 3. a failed start (a bad key) removes the socket it made
mkconf "$T/bad.conf" "$T/other.key" "listen on unix \"$S\" mode 0666"
"$LURKD" -f "$T/bad.conf" >/dev/null 2>"$T/err"
check "bad key: start fails" [ $? != 0 ]
check "bad key: the socket it made is removed" [ ! -e "$S" ]
"$LURKD" -d -f "$T/bad.conf" >/dev/null 2>&1
check "bad key, -d: the socket it made is removed" [ ! -e "$S" ]

# 4. mode and group, exactly
mkconf "$T/mode.conf" "$T/k.key" "listen on unix \"$S\" mode 0604"
if start_lurkd "$T/mode.conf"; then
	check "mode 0604: the socket has it" [ "$(stat -c %a "$S")" = 604 ]
	stop_lurkd
else
	nok "lurkd started (mode 0604)"
fi
if [ $root = 1 ]; then
	gid=$(getent group daemon | cut -d: -f3)
	mkconf "$T/group.conf" "$T/k.key" \
	    "listen on unix \"$S\" mode 0640 group \"daemon\""
	if start_lurkd "$T/group.conf"; then
		check "mode 0640 group daemon: the socket has both" \
		    [ "$(stat -c %a:%g "$S")" = "640:$gid" ]
		stop_lurkd
	else
		nok "lurkd started (group daemon)"
	fi
else
	skip "socket group: needs root"
fi
finish
