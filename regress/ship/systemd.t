# etc/systemd/lurkd.service as make install puts it (PREFIX=/usr):
# systemd-analyze verify is clean, systemd-analyze security's exposure
# stays at most 3.0 (the closing note of issue 14 gives the number), the
# hardening the unit promises is there.  No systemd runs here, so the
# unit's limits are put on a lurkd started as root the way the unit
# starts it (no -d, it returns once ready): the bounding set of
# CapabilityBoundingSet= and no_new_privs (setpriv), a /run and
# /var/lib/lurkd of its own (RuntimeDirectory=, StateDirectory=; a mount
# namespace); lurkd serves a signature and stops, traced by strace, and
# then every system call it made must be in SystemCallFilter= and every
# file it wrote must be in a directory ProtectSystem=strict leaves it.
. "$LURKD_TOP/regress/lib.sh"

for c in systemd-analyze strace setpriv unshare; do
	command -v $c >/dev/null || { skip "systemd unit: no $c"; finish; }
done

R=$T/root
make -s -C "$TOP" install DESTDIR="$R" PREFIX=/usr >"$T/install.out" 2>&1 ||
    { nok "make install PREFIX=/usr"; cat "$T/install.out"; finish; }
UNIT=$R/usr/lib/systemd/system/lurkd.service
check "the unit is installed" [ -f "$UNIT" ]

# systemd-analyze wants the unit's programs and man pages where the unit
# names them: a view of / with the installed tree laid over it (an
# overlay's layers may not overlap: the tree goes on a tmpfs first)
unshare -m bash -s "$T" "$R" >"$T/analyze.out" 2>&1 <<'END'
T=$1 R=$2 M=$1/m
mkdir -p "$M"
mount --make-rprivate / && mount -t tmpfs tmpfs "$M" &&
mkdir "$M/tree" "$M/root" && cp -a "$R/." "$M/tree/" &&
mount -t overlay overlay -o "lowerdir=$M/tree:/" "$M/root" ||
    { echo "no overlay"; exit 2; }
MANPATH=$M/root/usr/share/man systemd-analyze verify --root="$M/root" \
    lurkd.service >"$T/verify.out" 2>&1
echo "verify rc $?"
systemd-analyze security --offline=yes --root="$M/root" --threshold=30 \
    lurkd.service >"$T/security.out" 2>&1
echo "security rc $?"
END
if grep -q '^no overlay' "$T/analyze.out"; then
	skip "systemd-analyze verify: cannot make an overlay of /"
else
	check "systemd-analyze verify: clean" \
	    eval 'grep -qx "verify rc 0" "$T/analyze.out" && [ ! -s "$T/verify.out" ]'
	cat "$T/verify.out"
	exposure=$(sed -n 's/.*Overall exposure level for lurkd.service: \([0-9.]*\).*/\1/p' \
	    "$T/security.out")
	check "systemd-analyze security: exposure $exposure, at most 3.0" \
	    grep -qx "security rc 0" "$T/analyze.out"
	echo "# systemd-analyze security --offline=yes lurkd.service: $exposure"
fi

# what the unit promises
for d in Type=forking ProtectSystem=strict ProtectHome=yes PrivateTmp=yes \
    NoNewPrivileges=yes PrivateDevices=yes \
    "RestrictAddressFamilies=AF_UNIX AF_INET AF_INET6" \
    SystemCallArchitectures=native "RuntimeDirectory=lurkd lurkd-control" \
    StateDirectory=lurkd ExecStart=/usr/sbin/lurkd \
    "SystemCallFilter=@system-service chroot seccomp" \
    "CapabilityBoundingSet=CAP_SETUID CAP_SETGID CAP_SYS_CHROOT CAP_CHOWN CAP_SYS_RESOURCE CAP_KILL CAP_SETPCAP CAP_DAC_READ_SEARCH" \
    "ExecReload=/usr/sbin/lurkctl reload"; do
	check "the unit has $d" grep -qx "$d" "$UNIT"
done
check "the unit reloads lurkd (ExecReload)" grep -q '^ExecReload=.' "$UNIT"

[ "$(id -u)" = 0 ] || { skip "the unit's limits on lurkd: needs root"; finish; }
ensure_user || { nok "create user _lurkd"; finish; }

caps=$(sed -n 's/^CapabilityBoundingSet=//p' "$UNIT" | tr 'A-Z' 'a-z' |
    sed 's/cap_/+/g; s/ /,/g')
filter=$(sed -n 's/^SystemCallFilter=//p' "$UNIT")
check "CapabilityBoundingSet= and SystemCallFilter= read" \
    eval '[ -n "$caps" ] && [ -n "$filter" ]'

# expand NAME...: the system calls of the names and @groups, one a line
expand() {
	local n
	for n; do
		case $n in
		@*) expand $(systemd-analyze syscall-filter --no-pager "$n" \
		    2>/dev/null | sed -n 's/^    \([@a-z0-9_-]*\)$/\1/p') ;;
		*) echo "$n" ;;
		esac
	done
}
expand $filter | sort -u >"$T/allowed"
check "SystemCallFilter= expands ($(wc -l <"$T/allowed") calls)" \
    eval '[ "$(wc -l <"$T/allowed")" -gt 200 ] && grep -qx openat "$T/allowed"'

mkkey www p256 || { nok "make key"; finish; }
chmod 0600 "$T/www.key"
openssl pkey -in "$T/www.key" -pubout -outform DER -out "$T/www.spki"
cat >"$T/lurkd.conf" <<END
listen on unix "/run/lurkd/lurk.sock" mode 0660 group "nogroup"
pidfile "/run/lurkd/lurkd.pid"
keyprocs 1
key "www" {
	private "$T/www.key"
	certificate "$T/www.crt"
	allow uid 0
}
END

# In a mount namespace: /run and /var/lib/lurkd as systemd would give
# them; lurkd started under the unit's bounding set and no_new_privs,
# traced; one signature, SIGUSR1, SIGHUP, SIGTERM.
# (the trace is written outside the directory of the keys, which lurkd
# watches: its own writes would be events, and its reading them more)
mkdir -p "$T/trace"
unshare -m bash -s "$T" "$R/usr/sbin/lurkd" "$caps" "$PYTHON" "$TOP" \
    >"$T/run.out" 2>&1 <<'END'
T=$1 LURKD=$2 CAPS=$3 PY=$4 TOP=$5
mount --make-rprivate / &&
mount -t tmpfs -o mode=0755 tmpfs /run &&
mkdir -p /var/lib/lurkd && mount -t tmpfs -o mode=0755 tmpfs /var/lib/lurkd &&
mkdir -m 0755 /run/lurkd /run/lurkd-control || { echo "no namespace"; exit 2; }
# (a sanitizer build: LeakSanitizer cannot work under ptrace)
ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0 \
    setpriv --bounding-set=-all,$CAPS --inh-caps=-all --no-new-privs \
    strace -f -qq -o "$T/trace/strace.out" "$LURKD" -f "$T/lurkd.conf" &
st=$!
for i in $(seq 100); do [ -s /run/lurkd/lurkd.pid ] && break; sleep 0.1; done
pid=$(cat /run/lurkd/lurkd.pid 2>/dev/null)
echo "pid $pid"
stat -c 'socket %G %a' /run/lurkd/lurk.sock
ps -o user=,args= --ppid "$pid" | sed 's/^/child /'
for c in $(pgrep -P "$pid"); do echo "root of $c: $(readlink /proc/$c/root)"; done
grep CapBnd /proc/"$pid"/status
PYTHONPATH=$TOP/regress "$PY" - "$T/www.spki" <<'PY'
import sys
import lurkclient as L
s = L.connect("/run/lurkd/lurk.sock")
p = L.p256_sign13(sys.argv[1])
s.sendall(L.hdr(192, 1, 2, 0, 7, len(p)) + p)
h, body, _ = L.recv_msg(s)
print("sign status %d, %d bytes" % (h[3], len(body)))
PY
kill -USR1 "$pid"; sleep 0.3
kill -HUP "$pid"; sleep 0.3
kill -TERM "$pid"
wait "$st"
echo "strace rc $?"
for i in $(seq 50); do [ -e /run/lurkd/lurk.sock ] || break; sleep 0.1; done
ls -A /run/lurkd | sed 's/^/left /'
END
cat "$T/run.out"
grep -q '^no namespace' "$T/run.out" &&
    { skip "the unit's limits on lurkd: no mount namespace"; finish; }
check "under the unit's limits: lurkd started and wrote its pid" \
    grep -q '^pid [0-9]' "$T/run.out"
check "... its bounding set is the unit's" \
    eval '[ "$(grep -c "^child " "$T/run.out")" = 2 ] &&
    grep "^CapBnd:" "$T/run.out" | grep -qv 000001ff'
check "... its children run as _lurkd, chrooted" \
    eval '! grep "^child " "$T/run.out" | grep -qv "^child _lurkd " &&
    grep -q "^root of [0-9]*: /var/lib/lurkd/empty$" "$T/run.out"'
check "... the socket has the group (CAP_CHOWN) and mode" \
    grep -qx 'socket nogroup 660' "$T/run.out"
check "... it signs (success, a signature<2> of 70 to 74 bytes)" \
    grep -Eq '^sign status 1, 7[0-4] bytes' "$T/run.out"
check "... it stopped and removed its socket and pid file" \
    eval 'grep -qx "strace rc 0" "$T/run.out" && ! grep -q "^left " "$T/run.out"'

# every system call, in every process
sed -n 's/^[0-9]* *\([a-z0-9_]*\)(.*/\1/p' "$T/trace/strace.out" | sort -u >"$T/used"
comm -23 "$T/used" "$T/allowed" >"$T/denied"
check "lurkd made $(wc -l <"$T/used") kinds of system call, all in SystemCallFilter=" \
    [ -s "$T/used" -a ! -s "$T/denied" ]
sed 's/^/# not allowed by the unit: /' "$T/denied"

# every file it made, wrote, moved or removed: where ProtectSystem=strict
# lets it (RuntimeDirectory=, StateDirectory=, /dev/null).  A call that
# failed changed nothing (lurkd makes the directories it needs, and
# mkdir of one that exists fails with EEXIST on a read-only file system
# too).
grep -E '^[0-9]+ +(openat\(.*O_(WRONLY|RDWR|CREAT)|(mkdir|mkdirat|unlink|unlinkat|rename|renameat2?|chmod|fchmodat|fchownat|symlink|link)\(|bind\(.*sun_path)' \
    "$T/trace/strace.out" | grep -v ' = -1 E[A-Z]* ' | grep -o '"/[^"]*"' |
    tr -d '"' | sort -u >"$T/written"
grep -Ev '^(/run/lurkd/|/run/lurkd-control/|/var/lib/lurkd/|/dev/null$|/proc/self/fd/[0-9]+$)' \
    "$T/written" >"$T/outside"
check "it wrote $(wc -l <"$T/written") paths, all where ProtectSystem=strict lets it" \
    [ -s "$T/written" -a ! -s "$T/outside" ]
sed 's/^/# outside: /' "$T/outside"
finish
