# Shared by the tests that follow README.md's walk-throughs, as root, in
# a throwaway copy of this machine (docs/deploy.t, ship/deb.t).  Sourced
# by the test (after lib.sh) for readme_blocks and overlay_run, and by
# the script that runs inside the copy for the stand-ins.

# readme_blocks REGION...: the sh blocks of README.md between
# "<!-- REGION: begin" and "<!-- REGION: end", the regions in this order
readme_blocks() {
	local r
	for r; do
		awk -v r="$r" '
		    index($0, "<!-- " r ": begin") == 1 { on = 1 }
		    index($0, "<!-- " r ": end") == 1 { on = 0 }
		    on && /^```sh$/ { sh = 1; next }
		    sh && /^```$/ { sh = 0; next }
		    sh { print }' "$TOP/README.md"
	done
}

# walk_setup NAME FIRST-REGION COMMAND...: ends the test (skip) unless
# we are root with mount namespaces and the COMMANDs; $T/walk.sh gets
# the steps of FIRST-REGION, then "key" and "nginx"; $T/www.key and
# $T/www.crt are "your key and certificate" for www.example.org
walk_setup() {
	local name=$1 first=$2 c
	shift 2
	[ "$(id -u)" = 0 ] || { skip "$name: needs root"; finish; }
	for c in unshare chroot ip nginx "$@"; do
		command -v "$c" >/dev/null || { skip "$name: no $c"; finish; }
	done
	unshare -m true 2>/dev/null ||
	    { skip "$name: no mount namespaces"; finish; }
	readme_blocks "$first" key nginx >"$T/walk.sh"
	check "README.md has the steps ($first, key, nginx)" \
	    eval '[ "$(grep -c "<!-- $first: begin" "$TOP/README.md")" = 1 ] &&
	    grep -q "lurkctl keyref" "$T/walk.sh"'
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 \
	    -nodes -keyout "$T/www.key" -out "$T/www.crt" \
	    -subj /CN=www.example.org -addext subjectAltName=DNS:www.example.org \
	    -days 2 2>/dev/null || { nok "make www.key"; finish; }
}

# overlay_run SCRIPT ARG...: bash SCRIPT O ARG... as root in mount, pid
# and network namespaces of its own, where $O/root is a copy of / (an
# overlay whose changes go to $O/up, on a tmpfs) with /proc, /dev and an
# empty /run; SCRIPT chroots there.  Nothing it starts outlives it.
# Returns 3 (having said "skip") where no such copy can be made.
overlay_run() {
	local O=$T/ovl
	mkdir -p "$O"
	unshare -m -p -n -f --kill-child bash -s "$O" "$@" <<'OVL_END'
O=$1 script=$2
shift 2
mount --make-rprivate / &&
mount -t tmpfs tmpfs "$O" &&
mkdir -p "$O/up" "$O/work" "$O/root" &&
mount -t overlay overlay -o "lowerdir=/,upperdir=$O/up,workdir=$O/work" \
    "$O/root" &&
mount -t proc proc "$O/root/proc" &&
mount --rbind /dev "$O/root/dev" &&
mount -t tmpfs -o mode=0755 tmpfs "$O/root/run" &&
ip link set lo up ||
    { echo "skip - cannot make a copy of / (overlay, namespaces)"; exit 3; }
bash "$script" "$O" "$@"
OVL_END
}

# --- inside the copy ------------------------------------------------------

standin_init() {	# the result functions of lib.sh, for the inner script
	FAILED=0
	ok()  { echo "ok - $*"; }
	nok() { echo "not ok - $*"; FAILED=1; }
	check() {
		local what=$1; shift
		if "$@"; then ok "$what"; else nok "$what"; fi
	}
}

# apt-get: the packages a step names by name are already here (make deps
# installed them; the copy has no network); .deb files are installed.
apt-get() {
	local p file=
	for p; do
		case $p in ./*|/*) file=1 ;; esac
	done
	[ -n "$file" ] && { command apt-get "$@"; return; }
	for p; do
		case $p in
		-*|install) ;;
		*) dpkg -s "$p" >/dev/null 2>&1 ||
		    { echo "apt-get stand-in: $p not installed" >&2; return 1; } ;;
		esac
	done
}

# systemctl: no systemd here.  start, stop, restart and enable --now run
# a service as its unit says: RuntimeDirectory=, the Environment= of its
# drop-ins, ExecStartPre= and ExecStart= (Type=forking: each returns
# once the service is ready); the main process is PIDFile='s or, as
# systemd guesses it, the newest process of ExecStart's program.
STANDIN=/run/standin
unit_file() {
	local d
	for d in /etc/systemd/system /usr/local/lib/systemd/system \
	    /lib/systemd/system /usr/lib/systemd/system; do
		[ -f "$d/$1.service" ] && { echo "$d/$1.service"; return 0; }
	done
	echo "systemctl stand-in: no unit $1" >&2
	return 1
}
unit_stop() {
	local pid i
	pid=$(cat "$STANDIN/$1.pid" 2>/dev/null) || return 0
	rm -f "$STANDIN/$1.pid"
	kill "$pid" 2>/dev/null || return 0
	for ((i = 0; i < 100; i++)); do
		kill -0 "$pid" 2>/dev/null || return 0
		sleep 0.1
	done
	echo "systemctl stand-in: $1 (pid $pid) did not stop" >&2
	return 1
}
unit_start() {
	local unit line d pidfile prog
	unit=$(unit_file "$1") || return 1
	for d in $(sed -n 's/^RuntimeDirectory=//p' "$unit"); do
		mkdir -p "/run/$d"
	done
	(
		for line in $(cat /etc/systemd/system/$1.service.d/*.conf \
		    2>/dev/null | sed -n 's/^Environment=//p'); do
			export "$line"
		done
		sed -n 's/^ExecStartPre=//p; s/^ExecStart=//p' "$unit" |
		    while read -r line; do eval "$line" || exit 1; done
	) || return 1
	mkdir -p "$STANDIN"
	pidfile=$(sed -n 's/^PIDFile=//p' "$unit")
	prog=$(sed -n 's/^ExecStart=\([^ ]*\).*/\1/p' "$unit")
	if [ -n "$pidfile" ]; then
		cat "$pidfile"
	else
		pgrep -n -x "${prog##*/}"
	fi >"$STANDIN/$1.pid"
}
systemctl() {
	case $1 in
	daemon-reload) ;;
	enable) if [ "$2" = --now ]; then unit_start "$3"; fi ;;
	start) unit_start "$2" ;;
	stop) unit_stop "$2" ;;
	restart) unit_stop "$2" && unit_start "$2" ;;
	*) echo "systemctl stand-in: $1?" >&2; return 1 ;;
	esac
}
