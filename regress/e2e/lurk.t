# End to end: lurkd started as root (chroot, setuid _lurkd) and as an
# unprivileged user answers LURK ping/capabilities and errors correctly.
. "$LURKD_TOP/regress/lib.sh"

mkkey rsa rsa2048 && mkkey ec p256 || { nok "make test keys"; finish; }

conf() {	# conf FILE SOCKET [extra lines]
	cat >"$1" <<CONF
listen on unix "$2" mode 0666
keyprocs 2
${3:-}
key "rsa" {
	private "$T/rsa.key"
	certificate "$T/rsa.crt"
	allow uid 0
}
key "ec" {
	private "$T/ec.key"
	certificate "$T/ec.crt"
	allow group "www-data"
}
CONF
}

run_protocol() {	# label
	LURK_SOCKET=$SOCK "$PYTHON" "$TOP/regress/e2e/protocol.py" "$1" ||
	    nok "protocol checks [$1] ran to the end"
}

SOCK=$T/run/lurk.sock
if [ "$(id -u)" = 0 ]; then
	ensure_user || { nok "create user _lurkd"; finish; }
	conf "$T/root.conf" "$SOCK"
	if start_lurkd "$T/root.conf"; then
		ok "lurkd started as root"
		check "start says root mode" grep -q "starting as root" "$T/lurkd.log"
		run_protocol root
		stop_lurkd
		check "SIGTERM: exit status 0" lurkd_exited 0
		check "SIGTERM: socket removed" [ ! -e "$SOCK" ]
	else
		nok "lurkd started as root"
	fi

	# the configuration of the foundation issue, word for word but paths
	getent group lurk >/dev/null || groupadd --system lurk ||
	    nok "create group lurk"
	cat >"$T/issue.conf" <<CONF
listen on unix "$SOCK" mode 0660 group "lurk"
keyprocs 2
key "www" {
        private "$T/rsa.key"
        certificate "$T/rsa.crt"
        allow uid 33
        allow group "www-data"
}
CONF
	if start_lurkd "$T/issue.conf"; then
		ok "lurkd -d -f CONF with the issue's configuration"
		check "socket mode 0660, group lurk" \
		    [ "$(stat -c '%a %G' "$SOCK")" = "660 lurk" ]
		check "two keyprocs started" [ "$(pgrep -c -P "$LURKD_PID" -f 'lurkd: keyproc')" = 2 ]
		run_protocol "issue config"
		stop_lurkd
	else
		nok "lurkd -d -f CONF with the issue's configuration"
	fi

	# whole-message length mode (pylurk-M, the 2018 C prototype)
	conf "$T/msg.conf" "$SOCK" "lurk length message"
	if start_lurkd "$T/msg.conf"; then
		LURK_LENMODE=message run_protocol "length message"
		stop_lurkd
	else
		nok "lurkd started with lurk length message"
	fi

	# and as an unprivileged user
	if command -v setpriv >/dev/null; then
		mkdir -p "$T/run" && chown nobody "$T/run"
		conf "$T/user.conf" "$SOCK"
		if start_lurkd "$T/user.conf" "$LURKD" setpriv --reuid=nobody \
		    --regid=nogroup --clear-groups --inh-caps=-all \
		    --bounding-set=-all; then
			ok "lurkd started as nobody"
			check "start says unprivileged mode" \
			    grep -q "not root" "$T/lurkd.log"
			run_protocol nobody
			stop_lurkd
			check "nobody: exit status 0" lurkd_exited 0
		else
			nok "lurkd started as nobody"
		fi
	else
		skip "lurkd as a non-root user: setpriv (util-linux) missing"
	fi
else
	conf "$T/user.conf" "$SOCK"
	if start_lurkd "$T/user.conf"; then
		ok "lurkd started as uid $(id -u)"
		run_protocol "uid $(id -u)"
		stop_lurkd
	else
		nok "lurkd started as uid $(id -u)"
	fi
	skip "lurkd as root: the tests do not run as root"
fi
finish
