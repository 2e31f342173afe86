# A sanitizer build (make SANITIZE=1) only: inside its seccomp sandbox a
# child can still report a memory error.  The test build's hook makes
# keyproc, then netproc, use memory after freeing it: AddressSanitizer
# must say so in the log and the child must exit with ASan's status, not
# die of SIGSYS because the runtime made a system call the filter forbids.
. "$LURKD_TOP/regress/lib.sh"

if ! grep -qa __asan_init "$LURKD_TEST" 2>/dev/null; then
	skip "sanitize: $LURKD_TEST is not a sanitizer build (make SANITIZE=1)"
	finish
fi
mkkey ec p256 || { nok "make test key"; finish; }
cat >"$T/lurkd.conf" <<CONF
listen on unix "$T/lurk.sock" mode 0666
keyprocs 1
key "ec" {
	private "$T/ec.key"
	certificate "$T/ec.crt"
	allow uid 0
}
CONF
[ "$(id -u)" = 0 ] && { ensure_user || { nok "create user _lurkd"; finish; }; }

for who in keyproc netproc; do
	: >"$T/lurkd.log"
	LURKD_TEST_TRIP=$who LURKD_TEST_TRIP_ASAN=1 \
	    "$LURKD_TEST" -d -v -f "$T/lurkd.conf" >>"$T/lurkd.log" 2>&1 &
	LURKD_PID=$!
	if ! wait_exit 20; then
		nok "$who: lurkd exits after the use after free"
		continue
	fi
	check "$who: ASan reports the use after free from inside the sandbox" \
	    grep -q "ERROR: AddressSanitizer: heap-use-after-free" "$T/lurkd.log"
	check "$who: the child exits with ASan's status, not SIGSYS" \
	    grep -Eq "lost child: $who(\[0\])? pid [0-9]+ exited with status" \
	    "$T/lurkd.log"
	if grep -q "signal 31" "$T/lurkd.log"; then
		nok "$who: no child killed by seccomp"
		grep -E "lost child|test hook" "$T/lurkd.log" | sed 's/^/    | /'
	else
		ok "$who: no child killed by seccomp"
	fi
done
finish
