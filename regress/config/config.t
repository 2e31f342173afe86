# Configuration parser: golden files, round trips, the example
# configuration, errors (file, line and message), -D macros.
#
#   lurkd.conf.N        parsed with "lurkd -nnv", the syntax only (plus the
#                       arguments in lurkd.conf.N.args, one a line, if that
#                       exists);
#                       stdout must equal lurkd.conf.N.ok
#   err.N.conf          must be rejected; err.N.conf.expect holds pairs of
#                       lines, "FILE:LINE:" and a part of the message, one
#                       pair per error line expected on stderr, in order
#
# Regenerate a golden file after a deliberate change with
#   lurkd -nnv -f lurkd.conf.N > lurkd.conf.N.ok   (in regress/config)
set -u
TOP=${LURKD_TOP:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
LURKD=${LURKD:-$TOP/lurkd/lurkd}
case $LURKD in /*) ;; *) LURKD=$PWD/$LURKD ;; esac
FAILED=0
T=$(mktemp -d /tmp/lurkd-config.XXXXXX)
trap 'rm -rf "$T"' EXIT

ok()  { echo "ok - $*"; }
nok() { echo "not ok - $*"; FAILED=1; }

if [ ! -x "$LURKD" ]; then
	echo "skip - config: $LURKD not built"
	exit 0
fi
cd "$TOP/regress/config" || exit 1

# show FILE: the first lines of a file in the log, for a failed check
show() { sed -n '1,20s/^/    | /p' "$1"; }

# 1, 2: golden files and round trips
for conf in lurkd.conf.[0-9]*; do
	case $conf in *.ok|*.args) continue ;; esac
	args=()
	[ -f "$conf.args" ] && mapfile -t args <"$conf.args"
	if "$LURKD" -nnv "${args[@]}" -f "$conf" >"$T/out" 2>"$T/err"; then
		rc=0
	else
		rc=$?
	fi
	if [ "$rc" -ne 0 ]; then
		nok "$conf: exit status $rc"
		show "$T/err"
		continue
	fi
	if [ ! -f "$conf.ok" ]; then
		nok "$conf: $conf.ok missing"
		show "$T/out"
		continue
	fi
	if diff -u "$conf.ok" "$T/out" >"$T/diff"; then
		ok "$conf: lurkd -nv prints $conf.ok"
	else
		nok "$conf: lurkd -nv prints $conf.ok"
		show "$T/diff"
		continue
	fi
	# the printed form needs no macros, includes or -D
	cp "$T/out" "$T/printed.conf"
	if "$LURKD" -nnv -f "$T/printed.conf" >"$T/out2" 2>"$T/err" &&
	    cmp -s "$T/out" "$T/out2"; then
		ok "$conf: printed configuration parses and prints the same"
	else
		nok "$conf: printed configuration parses and prints the same"
		show "$T/err"
		diff -u "$T/out" "$T/out2" | show /dev/stdin
	fi
done

# 3: the example configuration
example=$TOP/etc/lurkd.conf
if "$LURKD" -nn -f "$example" >"$T/out" 2>"$T/err"; then
	ok "etc/lurkd.conf parses"
else
	nok "etc/lurkd.conf parses"
	show "$T/err"
fi
if "$LURKD" -nnv -f "$example" >"$T/out" 2>"$T/err" &&
    cp "$T/out" "$T/printed.conf" &&
    "$LURKD" -nnv -f "$T/printed.conf" >"$T/out2" 2>>"$T/err" &&
    cmp -s "$T/out" "$T/out2" && grep -q '^key ' "$T/out"; then
	ok "etc/lurkd.conf: printed configuration parses and prints the same"
else
	nok "etc/lurkd.conf: printed configuration parses and prints the same"
	show "$T/err"
fi

# 4: errors
for conf in err.[0-9]*.conf; do
	expect=$conf.expect
	if [ ! -f "$expect" ]; then
		nok "$conf: $expect missing"
		continue
	fi
	if "$LURKD" -n -f "$conf" >"$T/out" 2>"$T/err"; then
		nok "$conf: rejected"
		continue
	fi
	# the located error lines, in order, one per pair in .expect
	grep -E '^[^ ]+:[0-9]+: ' "$T/err" >"$T/lines"
	mapfile -t want <"$expect"
	mapfile -t got <"$T/lines"
	what="$conf: rejected with ${want[0]} ${want[1]:-}"
	[ "${#want[@]}" -gt 2 ] && what="$conf: rejected with $((${#want[@]} / 2)) errors"
	good=1
	if [ $((${#want[@]} % 2)) -ne 0 ] || [ "${#got[@]}" -ne $((${#want[@]} / 2)) ]; then
		good=0
	else
		for ((i = 0; i < ${#got[@]}; i++)); do
			loc=${want[2 * i]} msg=${want[2 * i + 1]} line=${got[i]}
			if [[ "$line" != "$loc "* || "$line" != *"$msg"* ]]; then
				good=0
			fi
		done
	fi
	if [ "$good" = 1 ]; then
		ok "$what"
	else
		nok "$what"
		echo "    expected:"; show "$expect"
		echo "    stderr:"; show "$T/err"
	fi
done

# a missing configuration file
if "$LURKD" -n -f nosuch.conf >"$T/out" 2>"$T/err"; then
	nok "missing file: rejected"
elif grep -qx 'nosuch.conf: cannot open: No such file or directory' "$T/err"
then
	ok "missing file: rejected with FILE: cannot open: strerror"
else
	nok "missing file: rejected with FILE: cannot open: strerror"
	show "$T/err"
fi

# 5: -D defines and overrides macros (lurkd.conf.7 sets nproc = 2)
dconf=lurkd.conf.7
if "$LURKD" -nnv -D nproc=5 -D sock=/run/d.sock -f "$dconf" >"$T/out" \
    2>"$T/err" && grep -qx 'keyprocs 5' "$T/out"; then
	ok "-D nproc=5 overrides the file's nproc = 2"
else
	nok "-D nproc=5 overrides the file's nproc = 2"
	show "$T/err"
fi
if "$LURKD" -nnv -D sock=/run/d.sock -f "$dconf" >"$T/out" 2>"$T/err" &&
    grep -qx 'keyprocs 2' "$T/out" &&
    grep -q '^listen on unix "/run/d.sock" mode 0640 group "daemon"$' \
    "$T/out"; then
	ok "-D sock=... defines a macro the file uses"
else
	nok "-D sock=... defines a macro the file uses"
	show "$T/err"
fi
if "$LURKD" -n -f "$dconf" >"$T/out" 2>"$T/err"; then
	nok "without -D sock: rejected"
elif grep -q "^$dconf:4: macro \"sock\" not defined" "$T/err"; then
	ok "without -D sock: rejected, macro \"sock\" not defined"
else
	nok "without -D sock: rejected, macro \"sock\" not defined"
	show "$T/err"
fi

exit $FAILED
