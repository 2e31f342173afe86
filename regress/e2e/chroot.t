# The children's chroot directory (as root): it must be empty, files
# included, and it and every directory above it must belong to root and
# be writable by nobody else, as sshd wants of ChrootDirectory.  Both
# lurkd -n and a start (without -d) refuse, saying which directory.
. "$LURKD_TOP/regress/lib.sh"

if [ "$(id -u)" != 0 ]; then
	skip "chroot checks: need root"
	finish
fi
root_setup
mkkey k p256 || { nok "make key"; finish; }
chmod 0600 "$T/k.key"
# not under /tmp, which everybody may write to
B=$(mktemp -d /var/lib/lurkd-regress.XXXXXX) || { nok "mktemp"; finish; }
chmod 0755 "$B"
trap 'rm -rf "$B"; cleanup' EXIT

mkconf() {	# mkconf CHROOT: $T/c.conf
	cat >"$T/c.conf" <<CONF
listen on unix "$T/lurk.sock" mode 0666
keyprocs 1
chroot "$1"
key "k" {
	private "$T/k.key"
	certificate "$T/k.crt"
}
CONF
}

# refused WHAT CHROOT PATTERN: lurkd -n and lurkd (no -d) both fail
refused() {
	local rc how
	mkconf "$2"
	for how in -n start; do
		if [ $how = -n ]; then
			"$LURKD" -n -f "$T/c.conf" >/dev/null 2>"$T/err"
		else
			"$LURKD" -f "$T/c.conf" >/dev/null 2>"$T/err"
		fi
		rc=$?
		if [ "$rc" = 1 ] && grep -q -- "$3" "$T/err"; then
			ok "$how: $1: refused, saying why"
		else
			nok "$how: $1: refused ($rc), saying '$3'"
			sed 's/^/    | /' "$T/err"
		fi
	done
}

# a file does not change a directory's link count: the old check passed it
mkdir -p "$B/full"; touch "$B/full/file"
refused "a file in the chroot" "$B/full" "chroot $B/full: must be empty, and holds \"file\""
mkdir -p "$B/gw/empty"; chmod 0775 "$B/gw"
refused "a group-writable parent" "$B/gw/empty" \
    "chroot $B/gw/empty: $B/gw has owner uid 0 and mode 0775: every directory from / to the chroot must be owned by root"
mkdir -p "$B/user/sub/empty"; chown nobody "$B/user"
refused "a parent owned by another user" "$B/user/sub/empty" \
    "$B/user has owner uid $(id -u nobody) and mode 0755"
refused "a missing chroot below a bad parent" "$B/gw/new" "$B/gw has owner uid 0 and mode 0775"
check "a missing chroot below a bad parent is not made" [ ! -e "$B/gw/new" ]
ln -s "$B/gw/empty" "$B/link"
refused "a symbolic link to a chroot below a bad parent" "$B/link" "$B/gw has owner uid 0 and mode 0775"

# a good one is made, and used
mkconf "$B/good/empty"
if start_lurkd "$T/c.conf"; then
	ok "a missing chroot below good parents: lurkd starts"
	check "it was made, root-owned 0755" \
	    [ "$(stat -c %u:%a "$B/good/empty")" = 0:755 ]
	kp=$(child_pid keyproc)
	check "keyproc's root is it" [ "$(readlink "/proc/$kp/root")" = "$B/good/empty" ]
	stop_lurkd
else
	nok "a missing chroot below good parents: lurkd starts"
fi
finish
