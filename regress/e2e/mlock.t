# keyproc locks its memory (mlockall) where RLIMIT_MEMLOCK allows it, and
# says at start when it does not.  Started as root with CAP_SYS_RESOURCE,
# lurkd lifts the keyprocs' limit: VmLck > 0.  Without locked memory
# allowed (as nobody, RLIMIT_MEMLOCK 0), lurkd warns and serves anyway.
. "$LURKD_TOP/regress/lib.sh"

if grep -q __asan_init "$LURKD"; then
	skip "mlockall: a sanitizer build does not lock (ASan's shadow memory)"
	finish
fi
root_setup
mkkey k p256 || { nok "make key"; finish; }
cat >"$T/lurkd.conf" <<CONF
listen on unix "$T/lurk.sock" mode 0666
keyprocs 2
key "k" {
	private "$T/k.key"
	certificate "$T/k.crt"
}
CONF

vmlck() { awk '$1 == "VmLck:" { print $2 }' "/proc/$1/status"; }
# CAP_SYS_RESOURCE (24) in our effective set: lurkd as root may lift limits
capres=0
[ $root = 1 ] && (( 0x$(awk '$1 == "CapEff:" { print $2 }' /proc/self/status) >> 24 & 1 )) && capres=1

if start_lurkd "$T/lurkd.conf"; then
	k0=$(child_pid keyproc 1); k1=$(child_pid keyproc 2)
	l0=$(vmlck "$k0"); l1=$(vmlck "$k1")
	warned=0
	grep -q "keyproc\[0\]: memory not locked: mlockall" "$T/lurkd.log" && warned=1
	if [ $capres = 1 ]; then
		check "as root: keyproc[0] memory locked (VmLck $l0 kB)" [ "${l0:-0}" -gt 0 ]
		check "as root: keyproc[1] memory locked (VmLck $l1 kB)" [ "${l1:-0}" -gt 0 ]
		check "as root: no warning" [ $warned = 0 ]
	else
		check "locked (VmLck $l0 kB) or said it is not, not both" \
		    [ $(( (${l0:-0} > 0) + warned )) = 1 ]
		skip "VmLck > 0: this root lacks CAP_SYS_RESOURCE and RLIMIT_MEMLOCK is $(ulimit -Hl) KiB"
	fi
	stop_lurkd
else
	nok "lurkd started"
fi

# no locked memory allowed at all: a warning at start, and service
if [ $root = 1 ] && command -v setpriv >/dev/null && command -v prlimit >/dev/null; then
	chmod 1777 "$T"
	if start_lurkd "$T/lurkd.conf" "$LURKD" prlimit --memlock=0:0 \
	    setpriv --reuid=nobody --regid=nogroup --clear-groups \
	    --inh-caps=-all --bounding-set=-all; then
		check "RLIMIT_MEMLOCK 0: keyproc says memory is not locked, and why" \
		    grep -q "keyproc\[0\]: memory not locked: mlockall: .* (RLIMIT_MEMLOCK 0 KiB" "$T/lurkd.log"
		check "RLIMIT_MEMLOCK 0: said once, by keyproc[0]" \
		    [ "$(grep -c 'memory not locked' "$T/lurkd.log")" = 1 ]
		check "RLIMIT_MEMLOCK 0: nothing locked" \
		    [ "$(vmlck "$(child_pid keyproc 1)")" = 0 ]
		check "RLIMIT_MEMLOCK 0: lurkd serves" \
		    "$PYTHON" -c "import socket,sys; s=socket.socket(socket.AF_UNIX); s.connect(sys.argv[1])" "$T/lurk.sock"
		stop_lurkd
	else
		nok "lurkd started as nobody with RLIMIT_MEMLOCK 0"
	fi
	chmod 0755 "$T"
else
	skip "RLIMIT_MEMLOCK 0: needs root, setpriv and prlimit"
fi
finish
