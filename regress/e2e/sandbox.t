# While lurkd runs, /proc shows each child locked down (seccomp filter,
# no_new_privs, no capabilities; as root: another uid and an empty root).
# A test-only build makes a child call a forbidden syscall (socket(2),
# or mmap/mprotect with PROT_EXEC): it dies of SIGSYS, the parent logs
# it and lurkd exits non-zero.
. "$LURKD_TOP/regress/lib.sh"

mkkey ec p256 || { nok "make test key"; finish; }
cat >"$T/lurkd.conf" <<CONF
listen on unix "$T/lurk.sock" mode 0666
keyprocs 2
key "ec" {
	private "$T/ec.key"
	certificate "$T/ec.crt"
	allow uid 0
}
CONF
root=0
if [ "$(id -u)" = 0 ]; then
	root=1
	ensure_user || { nok "create user _lurkd"; finish; }
	chroot_dir=/var/lib/lurkd/empty
fi

status_field() {	# status_field PID FIELD
	awk -v f="$2:" '$1 == f { print $2 }' "/proc/$1/status"
}

check_child() {	# check_child PID NAME LABEL
	local pid=$1 name="$2 ($3)"
	check "$name: Seccomp: 2 (filter)" [ "$(status_field "$pid" Seccomp)" = 2 ]
	check "$name: NoNewPrivs: 1" [ "$(status_field "$pid" NoNewPrivs)" = 1 ]
	check "$name: CapEff: 0" [ "$(status_field "$pid" CapEff)" = 0000000000000000 ]
	check "$name: CapPrm: 0" [ "$(status_field "$pid" CapPrm)" = 0000000000000000 ]
	check "$name: process title 'lurkd: ${2%%[*}'" \
	    grep -q "^lurkd: ${2%%[*}" "/proc/$pid/cmdline"
	check "$name: not dumpable (/proc/PID/status owned by root)" \
	    [ "$(stat -c %u "/proc/$pid/status")" = 0 ]
	if [ $root = 1 ]; then
		uid=$(status_field "$pid" Uid)
		check "$name: runs as _lurkd, not root" \
		    [ "$uid" = "$(id -u _lurkd)" ]
		check "$name: root directory is the empty chroot" \
		    [ "$(readlink "/proc/$pid/root")" = "$chroot_dir" ]
		check "$name: its root directory is empty" \
		    [ -z "$(ls -A "/proc/$pid/root/" 2>/dev/null)" ]
	fi
}

proc_checks() {	# proc_checks LABEL [runner...]: /proc facts of a running lurkd
	local label=$1; shift
	if ! start_lurkd "$T/lurkd.conf" "$LURKD" "$@"; then
		nok "lurkd started ($label)"
		return
	fi
	ok "lurkd started ($label)"
	k0=$(child_pid keyproc 1); k1=$(child_pid keyproc 2); n=$(child_pid netproc)
	check "two keyprocs and one netproc ($label)" \
	    eval '[ -n "$k0" ] && [ -n "$k1" ] && [ -n "$n" ]'
	check "parent process title 'lurkd: parent' ($label)" \
	    grep -q "^lurkd: parent" "/proc/$LURKD_PID/cmdline"
	[ -n "$k0" ] && check_child "$k0" "keyproc[0]" "$label"
	[ -n "$k1" ] && check_child "$k1" "keyproc[1]" "$label"
	[ -n "$n" ] && check_child "$n" netproc "$label"
	check "parent: NoNewPrivs: 1 ($label)" \
	    [ "$(status_field "$LURKD_PID" NoNewPrivs)" = 1 ]
	# once ready, the parent keeps CAP_KILL (bit 5) to stop children of
	# another uid, as root, and CAP_DAC_READ_SEARCH (bit 2) permitted
	# but not effective, for a reload to reopen the files a start
	# opened (lurkd(8)); nothing else
	want=0000000000000000 prm=0000000000000000
	[ $root = 1 ] && want=0000000000000020 prm=0000000000000024
	check "parent: CapEff: $want ($label)" \
	    [ "$(status_field "$LURKD_PID" CapEff)" = $want ]
	check "parent: CapPrm: $prm ($label)" \
	    [ "$(status_field "$LURKD_PID" CapPrm)" = $prm ]
	check "parent: CapInh, CapAmb: 0 ($label)" \
	    [ "$(status_field "$LURKD_PID" CapInh)$(status_field "$LURKD_PID" CapAmb)" = 00000000000000000000000000000000 ]
	if [ $root = 1 ] && (( 0x$(status_field $$ CapEff) >> 8 & 1 )); then
		check "parent: CapBnd: $prm ($label)" \
		    [ "$(status_field "$LURKD_PID" CapBnd)" = $prm ]
	fi
	# stopped and continued (a debugger, a tracer): the filters allow
	# the kernel's restart_syscall
	kill -STOP "$k1" "$n"; sleep 0.2; kill -CONT "$k1" "$n"; sleep 0.3
	check "keyproc and netproc survive SIGSTOP/SIGCONT ($label)" \
	    kill -0 "$LURKD_PID" "$k1" "$n"
	# a keyproc that dies takes lurkd down, with a log line
	kill -KILL "$k0"
	wait_exit 10
	check "keyproc killed: lurkd exits non-zero ($label)" \
	    lurkd_exited nonzero
	if grep -q "lost child: keyproc\[[0-9]\] pid $k0 terminated; signal 9" \
	    "$T/lurkd.log"; then
		ok "keyproc killed: parent logs pid and signal ($label)"
	else
		nok "keyproc killed: parent logs pid and signal ($label)"
		tail -n 15 "$T/lurkd.log"
	fi
}

if [ $root = 1 ]; then
	proc_checks root
	check "keyproc killed: socket removed" [ ! -e "$T/lurk.sock" ]
	root=0
	if command -v setpriv >/dev/null; then
		rm -f "$T/lurk.sock"
		chmod 1777 "$T"
		proc_checks nobody setpriv --reuid=nobody --regid=nogroup \
		    --clear-groups --inh-caps=-all --bounding-set=-all
		chmod 0755 "$T"
	else
		skip "/proc checks as a non-root user: setpriv (util-linux) missing"
	fi
	root=1
else
	proc_checks "uid $(id -u)"
fi

check "normal build has no test hook (the test build has them)" \
    bash -c "! grep -q LURKD_TEST_ '$LURKD' && grep -q LURKD_TEST_TRIP_AT '$LURKD_TEST' && grep -q LURKD_TEST_SYSLOG '$LURKD_TEST'"

# socket(2) is not on either allowlist; memory is, but never executable
for who in keyproc netproc; do
	for call in socket mmap-exec mprotect-exec; do
		: >"$T/lurkd.log"
		LURKD_TEST_TRIP=$who LURKD_TEST_TRIP_CALL=$call \
		    "$LURKD_TEST" -d -v -f "$T/lurkd.conf" >>"$T/lurkd.log" 2>&1 &
		LURKD_PID=$!
		# a call that goes through leaves lurkd running: stop it
		wait_log "lost child: $who\|was not stopped by seccomp" 10 &&
		    grep -q 'was not stopped' "$T/lurkd.log" &&
		    kill -TERM "$LURKD_PID"
		wait_exit 10
		check "$who trips seccomp ($call): lurkd exits non-zero" \
		    lurkd_exited nonzero
		check "$who trips seccomp ($call): parent logs SIGSYS (31)" \
		    grep -Eq "lost child: $who(\[[0-9]+\])? pid [0-9]+ terminated; signal 31" \
		    "$T/lurkd.log"
		check "$who trips seccomp ($call): the call did not go through" \
		    bash -c "! grep -q 'was not stopped by seccomp' '$T/lurkd.log'"
	done
done
finish
