# make install and make uninstall into DESTDIR trees: the whole tree
# (every file, its mode), where PREFIX, MANDIR, PROVIDERDIR, SYSCONFDIR
# move things, what the installed unit and OpenSSL configuration name,
# the operator's files in /etc/lurkd kept by install and uninstall, and
# CC, CFLAGS, CPPFLAGS and LDFLAGS on every compile and link line.
. "$LURKD_TOP/regress/lib.sh"

cd "$TOP" || exit 1
[ -x lurkd/lurkd ] && [ -x lurkctl/lurkctl ] && [ -f provider/lurk.so ] ||
    { nok "lurkd, lurkctl and lurk.so built (make regress-bins)"; finish; }
mods=$(openssl version -m | sed -n 's/^MODULESDIR: "\(.*\)"$/\1/p')
check "openssl version -m names the modules directory ($mods)" [ -n "$mods" ]

# tree DIR: every file and link under DIR, "mode path", sorted
tree() { (cd "$1" && find . ! -type d -printf '%m %p\n' | sort); }

R=$T/root
make -s install DESTDIR="$R" >"$T/install.out" 2>&1 ||
    { nok "make install DESTDIR=..."; cat "$T/install.out"; finish; }
sort >"$T/want" <<END
644 ./etc/lurkd/lurkd.conf
644 ./etc/lurkd/openssl-lurk.cnf
644 .$mods/lurk.so
644 ./usr/local/lib/systemd/system/lurkd.service
644 ./usr/local/lib/sysusers.d/lurkd.conf
644 ./usr/local/lib/tmpfiles.d/lurkd.conf
644 ./usr/local/share/examples/lurkd/lurkd.conf
644 ./usr/local/share/examples/lurkd/openssl-lurk.cnf
644 ./usr/local/share/man/man5/lurkd.conf.5
644 ./usr/local/share/man/man7/lurk.7
644 ./usr/local/share/man/man8/lurkctl.8
644 ./usr/local/share/man/man8/lurkd.8
755 ./usr/local/sbin/lurkctl
755 ./usr/local/sbin/lurkd
END
tree "$R" >"$T/got"
check "make install: the whole tree, nothing more (PREFIX /usr/local, provider in $mods)" \
    cmp -s "$T/want" "$T/got"
cmp -s "$T/want" "$T/got" || diff "$T/want" "$T/got"
check "... lurkd, lurkctl and lurk.so are the ones built" \
    eval 'cmp -s lurkd/lurkd "$R/usr/local/sbin/lurkd" &&
    cmp -s lurkctl/lurkctl "$R/usr/local/sbin/lurkctl" &&
    cmp -s provider/lurk.so "$R$mods/lurk.so"'
check "... the four man pages" \
    eval '(for m in man5/lurkd.conf.5 man7/lurk.7 man8/lurkd.8 man8/lurkctl.8; do
    cmp -s "man/${m#*/}" "$R/usr/local/share/man/$m" || exit 1; done)'
check "... /etc/lurkd/lurkd.conf is the one that starts, the example all of it" \
    eval 'cmp -s etc/lurkd.conf.min "$R/etc/lurkd/lurkd.conf" &&
    cmp -s etc/lurkd.conf "$R/usr/local/share/examples/lurkd/lurkd.conf"'
check "... the unit starts and reloads the installed lurkd" \
    eval 'grep -qx "ExecStart=/usr/local/sbin/lurkd" \
    "$R/usr/local/lib/systemd/system/lurkd.service" &&
    ! grep -q "/usr/sbin/" "$R/usr/local/lib/systemd/system/lurkd.service"'
check "... openssl-lurk.cnf loads the installed lurk.so" \
    grep -qx "module = $mods/lurk.so" "$R/etc/lurkd/openssl-lurk.cnf"
check "... sysusers.d: _lurkd and the group lurk" \
    eval 'grep -q "^u _lurkd " "$R/usr/local/lib/sysusers.d/lurkd.conf" &&
    grep -q "^g lurk " "$R/usr/local/lib/sysusers.d/lurkd.conf"'
check "... tmpfiles.d: /run/lurkd and the chroot" \
    eval 'grep -q "^d /run/lurkd[[:space:]]" "$R/usr/local/lib/tmpfiles.d/lurkd.conf" &&
    grep -q "^d /var/lib/lurkd/empty[[:space:]]" "$R/usr/local/lib/tmpfiles.d/lurkd.conf"'

# the OpenSSL configuration as installed loads the provider
sed "s|^module = .*|module = $R$mods/lurk.so|" "$R/etc/lurkd/openssl-lurk.cnf" \
    >"$T/ossl.cnf"
check "... and OpenSSL lists the installed provider as active" \
    eval 'OPENSSL_CONF="$T/ossl.cnf" openssl list -providers |
    grep -A3 "^  lurk$" | grep -q "status: active"'

# the operator edits one file of /etc/lurkd; make install again keeps it
echo "# the operator's" >>"$R/etc/lurkd/lurkd.conf"
cp "$R/etc/lurkd/lurkd.conf" "$T/edited"
make -s install DESTDIR="$R" >"$T/install2.out" 2>&1
check "make install again: an edited /etc/lurkd/lurkd.conf stays" \
    eval 'cmp -s "$T/edited" "$R/etc/lurkd/lurkd.conf" &&
    grep -q "etc/lurkd/lurkd.conf exists: kept" "$T/install2.out"'
check "... and the tree is the same" eval 'tree "$R" | cmp -s - "$T/want"'

make -s uninstall DESTDIR="$R" >"$T/uninstall.out" 2>&1
check "make uninstall: only the edited configuration is left" \
    eval '[ "$(tree "$R")" = "644 ./etc/lurkd/lurkd.conf" ]'
check "... as it was" cmp -s "$T/edited" "$R/etc/lurkd/lurkd.conf"
check "... and the example directory is gone" \
    [ ! -e "$R/usr/local/share/examples/lurkd" ]

# everything moved
R2=$T/root2
make -s install DESTDIR="$R2" PREFIX=/opt/lurk MANDIR=/opt/man \
    PROVIDERDIR=/opt/ossl SYSCONFDIR=/opt/etc >"$T/install3.out" 2>&1
sort >"$T/want2" <<END
644 ./opt/etc/lurkd.conf
644 ./opt/etc/openssl-lurk.cnf
644 ./opt/lurk/lib/systemd/system/lurkd.service
644 ./opt/lurk/lib/sysusers.d/lurkd.conf
644 ./opt/lurk/lib/tmpfiles.d/lurkd.conf
644 ./opt/lurk/share/examples/lurkd/lurkd.conf
644 ./opt/lurk/share/examples/lurkd/openssl-lurk.cnf
644 ./opt/man/man5/lurkd.conf.5
644 ./opt/man/man7/lurk.7
644 ./opt/man/man8/lurkctl.8
644 ./opt/man/man8/lurkd.8
644 ./opt/ossl/lurk.so
755 ./opt/lurk/sbin/lurkctl
755 ./opt/lurk/sbin/lurkd
END
check "PREFIX, MANDIR, PROVIDERDIR, SYSCONFDIR: the tree moves with them" \
    eval 'tree "$R2" | cmp -s - "$T/want2"'
tree "$R2" | diff "$T/want2" - >/dev/null || tree "$R2" | diff "$T/want2" -
check "... and the files name the new places" \
    eval 'grep -qx "module = /opt/ossl/lurk.so" "$R2/opt/etc/openssl-lurk.cnf" &&
    grep -qx "ExecStart=/opt/lurk/sbin/lurkd" "$R2/opt/lurk/lib/systemd/system/lurkd.service"'
make -s uninstall DESTDIR="$R2" PREFIX=/opt/lurk MANDIR=/opt/man \
    PROVIDERDIR=/opt/ossl SYSCONFDIR=/opt/etc >>"$T/install3.out" 2>&1
check "... make uninstall with them: nothing left" \
    [ -z "$(tree "$R2")" ]

# The build's commands (make -n -B: printed, none run): CC on every
# compile and link, the caller's flags on every one.  These are the
# default build's: SANITIZE= overrides what make check SANITIZE=1 passes
# down in MAKEFLAGS (a sanitizer build has no _FORTIFY_SOURCE).
make -n -B SANITIZE= CC=lurk-cc CFLAGS=-DLURK_CFLAGS CPPFLAGS=-DLURK_CPPFLAGS \
    LDFLAGS=-Wl,-O1,--lurk-ldflags all >"$T/n.out" 2>&1
# (a command continued with "\" is one line)
sed -e :a -e '/\\$/N; s/\\\n//; ta' "$T/n.out" |
    grep -E ' -c | -o (lurkd/lurkd|lurkctl/lurkctl|provider/lurk\.so) ' \
    >"$T/cc.out"
check "make -n all: compile and link lines (lurkd, lurkctl, lurk.so)" \
    eval '[ "$(grep -c " -c " "$T/cc.out")" -gt 20 ] &&
    [ "$(grep -vc " -c " "$T/cc.out")" = 3 ]'
check "... each one runs CC" eval '! grep -qv "^lurk-cc " "$T/cc.out"'
check "... each compile has CFLAGS and CPPFLAGS" \
    eval '! grep " -c " "$T/cc.out" | grep -v -- "-DLURK_CPPFLAGS .*-DLURK_CFLAGS" | grep -q .'
check "... each link has LDFLAGS" \
    eval '! grep -v " -c " "$T/cc.out" | grep -qv -- "--lurk-ldflags"'
check "... _FORTIFY_SOURCE=3 by default" \
    grep -q -- "-D_FORTIFY_SOURCE=3" "$T/cc.out"
make -n -B SANITIZE= CPPFLAGS=-D_FORTIFY_SOURCE=2 all >"$T/n2.out" 2>&1
check "... but not over the caller's _FORTIFY_SOURCE" \
    eval 'grep -q -- "-D_FORTIFY_SOURCE=2" "$T/n2.out" &&
    ! grep -q -- "-D_FORTIFY_SOURCE=3" "$T/n2.out"'
finish
