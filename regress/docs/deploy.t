# README.md's "Deploying on Debian" from source (1b), then a key (2) and
# nginx (3), followed literally: their sh blocks, in order, as root, in
# a throwaway copy of this machine (regress/docs/walk.sh: an overlay of
# / whose changes go to a tmpfs, in mount, pid and network namespaces of
# its own: nothing the steps install, create or start outlives the
# test).  As on a fresh machine there is no _lurkd user, no lurk group,
# no /etc/lurkd.  Two commands are stand-ins (walk.sh): apt-get only
# checks that the packages it names are installed, and systemctl (no
# systemd here) starts and stops a service as its unit file says.
# Then: the provider is listed active, the handshake through nginx
# verifies and was signed remotely (lurkd stopped: it fails), nginx's
# workers hold the socket's group, lurkd runs as the unit starts it.
. "$LURKD_TOP/regress/lib.sh"
. "$TOP/regress/docs/walk.sh"

walk_setup deploy deploy systemd-sysusers

cat >"$T/inner.sh" <<'INNER_END'
set -u
T=$1 TOP=$2
. "$TOP/regress/docs/walk.sh"
standin_init

# a fresh machine
userdel _lurkd 2>/dev/null
groupdel lurk 2>/dev/null
rm -rf /etc/lurkd
cp "$T/www.key" "$T/www.crt" "$TOP/"
cd "$TOP" || exit 1

( set -e; . "$T/walk.sh" ) >"$T/walk.out" 2>&1
rc=$?
check "the steps run without an error (rc $rc)" [ "$rc" = 0 ]
[ "$rc" = 0 ] || tail -n 20 "$T/walk.out"
check "lurkctl health: ok, ready" \
    grep -q "^ok: ready: 1 keys, 2 listeners$" "$T/walk.out"
check "openssl list -providers: lurk active" \
    grep -A3 '^  lurk$' "$T/walk.out" -q
grep -A3 '^  lurk$' "$T/walk.out" | grep -q 'status: active' ||
    nok "... status: active"
check "s_client: the handshake verifies" \
    grep -q "Verify return code: 0 (ok)" "$T/walk.out"
# (s_client says "Verification: OK" once it has the certificate; only
# a CertificateVerify that arrived gives a peer signature type)
check "... signed with the key lurkd holds (ECDSA)" \
    grep -q 'Peer signature type: ECDSA' "$T/walk.out"
check "lurkd runs as the unit starts it: /usr/local/sbin/lurkd" \
    eval '[ "$(readlink /proc/$(cat /run/standin/lurkd.pid)/exe)" = /usr/local/sbin/lurkd ]'
check "the socket: group lurk, mode 0660" \
    [ "$(stat -c %G:%a /run/lurkd/lurk.sock)" = lurk:660 ]
w=$(pgrep -u www-data -x nginx | head -1)
g=$(getent group lurk | cut -d: -f3)
check "an nginx worker runs as www-data with group lurk" \
    eval '[ -n "$w" ] && grep "^Groups:" /proc/$w/status | grep -qw "$g"'
cp /etc/lurkd/lurkd.conf "$T/conf.ours"
cp /etc/lurkd/openssl-lurk.cnf "$T/cnf.ours"
echo "# edited" >>"$T/cnf.ours"
cp "$T/cnf.ours" /etc/lurkd/openssl-lurk.cnf
make install >"$T/install2.out" 2>&1
check "make install again: the operator's files in /etc/lurkd stay" \
    eval 'cmp -s "$T/conf.ours" /etc/lurkd/lurkd.conf &&
    cmp -s "$T/cnf.ours" /etc/lurkd/openssl-lurk.cnf &&
    grep -q "lurkd.conf exists: kept" "$T/install2.out"'
check "... the examples are in /usr/local/share/examples/lurkd" \
    eval 'cd /usr/local/share/examples/lurkd &&
    grep -q "^module = $(openssl version -m | cut -d\" -f2)/lurk.so\$" openssl-lurk.cnf &&
    cmp -s lurkd.conf "$TOP/etc/lurkd.conf"'
check "... and lurk(7) is installed" \
    [ -f /usr/local/share/man/man7/lurk.7 ]
kill "$(pgrep -o -x lurkd)"
sleep 1
out=$(openssl s_client -connect localhost:443 -servername www.example.org \
    -CAfile /etc/lurkd/www.crt -verify_return_error </dev/null 2>&1)
check "lurkd stopped: the handshake fails" \
    eval '! grep -q "Peer signature type" <<<"$out"'
exit $FAILED
INNER_END

# what the steps would change here
state() {
	getent passwd _lurkd; getent group lurk
	ls -la /etc/lurkd /etc/nginx /etc/nginx/sites-enabled \
	    /etc/systemd/system "$TOP" 2>&1
	md5sum /etc/nginx/nginx.conf /etc/passwd /etc/group
}
state >"$T/state.before"

cat >"$T/ovl.sh" <<'OVL_END'
O=$1 T=$2 TOP=$3
chroot "$O/root" /bin/bash "$T/inner.sh" "$T" "$TOP"
OVL_END
overlay_run "$T/ovl.sh" "$T" "$TOP"
rc=$?
[ "$rc" = 3 ] && finish
check "the throwaway copy ran to its end (rc $rc)" [ "$rc" = 0 ]
if command -v mandoc >/dev/null; then
	check "man/lurk.7 is clean under mandoc -Tlint" \
	    bash -c "[ -z \"\$(mandoc -Tlint -Wwarning '$TOP/man/lurk.7' 2>&1)\" ]"
else
	skip "mandoc -Tlint: mandoc not installed"
fi
state >"$T/state.after"
check "... and changed nothing here" cmp -s "$T/state.before" "$T/state.after"
finish
