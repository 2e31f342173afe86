# The Debian packages, as README.md's "Deploying on Debian" has them:
# 1a (make deb, apt-get install ./*.deb), 2 (a key) and 3 (nginx), their
# sh blocks in order, as root, in a throwaway copy of this machine
# (regress/docs/walk.sh: an overlay of / in namespaces of its own, so
# that nothing installed, created or started outlives the test, even on
# failure; this machine's dpkg lock is held meanwhile, so that no apt
# run changes the copy's view of /var/lib/dpkg).  As on a fresh machine
# there is no _lurkd, no lurk group, no /etc/lurkd, no /var/lib/lurkd.
# Checked: lintian finds nothing; the package made the user and group;
# lurkd, started as its unit says from the installed files, serves
# nginx a TLS 1.3 handshake; apt-get purge then removes every file the
# packages installed, and the copy differs from this machine only by
# the bookkeeping of dpkg and apt, the system users Debian leaves, and
# the files the operator made.
. "$LURKD_TOP/regress/lib.sh"
. "$TOP/regress/docs/walk.sh"

walk_setup deb deb dpkg-buildpackage lintian dh systemd-sysusers

cat >"$T/inner.sh" <<'INNER_END'
set -u
T=$1 TOP=$2 phase=$3
. "$TOP/regress/docs/walk.sh"
standin_init
cd "$TOP" || exit 1

case $phase in
fresh)
	userdel _lurkd 2>/dev/null
	groupdel lurk 2>/dev/null
	rm -rf /etc/lurkd /var/lib/lurkd \
	    "$(openssl version -m | cut -d'"' -f2)/lurk.so"
	cp "$T/www.key" "$T/www.crt" "$TOP/"
	exit 0 ;;
walk) ;;
purge)
	dpkg -L lurkd lurk-provider >"$T/files" 2>/dev/null
	systemctl stop lurkd
	command apt-get purge -y lurkd lurk-provider >"$T/purge.out" 2>&1
	rc=$?
	check "apt-get purge lurkd lurk-provider (rc $rc)" [ "$rc" = 0 ]
	[ "$rc" = 0 ] || tail -n 20 "$T/purge.out"
	check "... both packages are gone" \
	    eval '! dpkg -s lurkd >/dev/null 2>&1 && ! dpkg -s lurk-provider >/dev/null 2>&1'
	left=$(while read -r f; do
		[ -e "$f" ] && [ ! -d "$f" ] && echo "$f"
	done <"$T/files")
	check "... and every file they installed ($(wc -l <"$T/files") paths)" \
	    eval '[ -s "$T/files" ] && [ -z "$left" ]'
	[ -z "$left" ] || echo "$left"
	check "... /etc/lurkd holds only the operator's key and certificate" \
	    eval '[ "$(ls /etc/lurkd | tr "\n" " ")" = "www.crt www.key " ]'
	check "... the unit is neither installed nor enabled" \
	    eval '[ ! -e /lib/systemd/system/lurkd.service ] &&
	    ! ls /etc/systemd/system/*/lurkd.service 2>/dev/null | grep -q .'
	exit $FAILED ;;
esac

( set -e; . "$T/walk.sh" ) >"$T/walk.out" 2>&1
rc=$?
check "the steps run without an error (rc $rc)" [ "$rc" = 0 ]
[ "$rc" = 0 ] || tail -n 30 "$T/walk.out"
check "make deb: lurkd and lurk-provider built" \
    eval 'ls build/deb/lurkd_*.deb build/deb/lurk-provider_*.deb >/dev/null'
check "... lintian has nothing to say (errors, warnings, info)" \
    eval 'grep -q "^lintian " "$T/walk.out" && ! grep -Eq "^[EWIX]: " "$T/walk.out"'
grep -E '^[EWIX]: ' "$T/walk.out"
lintian --pedantic --display-experimental build/deb/*.changes \
    >"$T/pedantic.out" 2>&1
check "... nor when pedantic and experimental" \
    eval '! grep -Eq "^[EWIPX]: " "$T/pedantic.out"'
grep -E '^[EWIPX]: ' "$T/pedantic.out"
check "installed: lurkd and lurk-provider" \
    eval 'dpkg -s lurkd | grep -qx "Status: install ok installed" &&
    dpkg -s lurk-provider | grep -qx "Status: install ok installed"'
check "... the package made the user _lurkd and the group lurk" \
    eval 'getent passwd _lurkd >/dev/null && getent group lurk >/dev/null'
check "... and enabled lurkd.service" \
    [ -L /etc/systemd/system/multi-user.target.wants/lurkd.service ]
check "lurkd runs as the unit starts it: /usr/sbin/lurkd" \
    eval '[ "$(readlink /proc/$(cat /run/standin/lurkd.pid)/exe)" = /usr/sbin/lurkd ]'
check "... its children as _lurkd" \
    eval '[ "$(ps -o user= --ppid "$(cat /run/standin/lurkd.pid)" | sort -u)" = _lurkd ]'
check "openssl list -providers: lurk active (the package's lurk.so)" \
    eval 'grep -A3 "^  lurk$" "$T/walk.out" | grep -q "status: active" &&
    grep -q "^module = $(openssl version -m | cut -d\" -f2)/lurk.so\$" \
    /etc/lurkd/openssl-lurk.cnf'
check "s_client: the handshake through nginx verifies" \
    grep -q "Verify return code: 0 (ok)" "$T/walk.out"
check "... TLS 1.3, signed with the key lurkd holds (ECDSA)" \
    eval 'grep -q "Peer signature type: ECDSA" "$T/walk.out" &&
    grep -q "^New, TLSv1.3, " "$T/walk.out"'
grep -E "^New, |Protocol  *:|Peer signature type" "$T/walk.out"
check "the socket: group lurk, mode 0660" \
    [ "$(stat -c %G:%a /run/lurkd/lurk.sock)" = lurk:660 ]
exit $FAILED
INNER_END

# Outside the copy: the phases, and the copy's files before the install
# and after the purge (a path and its type; a file's size and time, a
# link's target)
cat >"$T/ovl.sh" <<'OVL_END'
O=$1 T=$2 TOP=$3
files() {
	(cd "$O/root" && find etc usr var opt srv -xdev \( -path var/lib/dpkg \
	    -o -path var/lib/apt -o -path var/cache -o -path var/log \) -prune \
	    -o -type d -printf '/%p d\n' -o -type l -printf '/%p l %l\n' \
	    -o -printf '/%p %y %s %T@\n') | sort
}
chroot "$O/root" /bin/bash "$T/inner.sh" "$T" "$TOP" fresh
files >"$T/files.before"
chroot "$O/root" /bin/bash "$T/inner.sh" "$T" "$TOP" walk || echo "walk failed"
chroot "$O/root" /bin/bash "$T/inner.sh" "$T" "$TOP" purge || echo "purge failed"
files >"$T/files.after"
# what the copy itself wrote (the host may change its own files meanwhile)
(cd "$O/up" && find etc usr var opt srv -printf '/%p\n' 2>/dev/null) |
    sort >"$T/up.after"
OVL_END

# this machine's dpkg locks, as apt takes them, for the whole test
"$PYTHON" - "$T/locked" $$ <<'PY' &
import fcntl, os, sys, time
fds = []
deadline = time.time() + 120
for p in ("/var/lib/dpkg/lock-frontend", "/var/lib/dpkg/lock"):
    fd = os.open(p, os.O_RDWR | os.O_CREAT, 0o640)
    while True:
        try:
            fcntl.lockf(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            break
        except OSError:
            if time.time() > deadline:
                sys.exit(1)
            time.sleep(1)
    fds.append(fd)
open(sys.argv[1], "w").close()
# until the test says so, or is gone
while os.path.exists(sys.argv[1]):
    try:
        os.kill(int(sys.argv[2]), 0)
    except ProcessLookupError:
        break
    time.sleep(0.5)
PY
locker=$!
for ((i = 0; i < 1250; i++)); do
	[ -e "$T/locked" ] && break
	kill -0 $locker 2>/dev/null || break
	sleep 0.1
done
[ -e "$T/locked" ] || { nok "this machine's dpkg lock (apt busy for 2 minutes?)"; finish; }

overlay_run "$T/ovl.sh" "$T" "$TOP" >"$T/ovl.out" 2>&1
rc=$?
rm -f "$T/locked"
wait $locker
cat "$T/ovl.out"
[ "$rc" = 3 ] && finish
check "the throwaway copy ran to its end (rc $rc)" \
    eval '[ "$rc" = 0 ] && ! grep -q "failed$" "$T/ovl.out"'

# What the install left after the purge: nothing but dpkg's and apt's
# bookkeeping, caches and logs (not listed), the system users and
# groups, the operator's files (key, certificate, nginx's
# configuration) and the empty directories deb-systemd-helper (which
# enables every packaged service) makes.  Only what the copy wrote
# counts: a file the host changed meanwhile (a podman cache) is not the
# packages'.
diff "$T/files.before" "$T/files.after" | sed -n 's/^[<>] //p' |
    cut -d' ' -f1 | sort -u | grep -Ev \
    -e '^/etc/(passwd|group|shadow|gshadow|subuid|subgid)-?$' \
    -e '^/etc/lurkd(/www\.(key|crt))?$' \
    -e '^/etc/nginx/' -e '^/etc/systemd/system/nginx\.service\.d(/.*)?$' \
    -e '^/etc/systemd/system/multi-user\.target\.wants$' \
    -e '^/var/lib/systemd/deb-systemd-helper-enabled(/multi-user\.target\.wants)?$' \
    -e '^/var/lib/nginx/' | grep -Fx -f "$T/up.after" >"$T/leftover"
check "after the purge, nothing of the packages is left in the copy" \
    [ -s "$T/files.after" -a ! -s "$T/leftover" ]
sed 's/^/# left: /' "$T/leftover"
finish
