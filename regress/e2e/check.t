# lurkd -n checks what a start would, short of binding the sockets: the
# keys (loaded by a throwaway sandboxed keyproc), the chain order, the
# socket and pid file directories, the user and chroot.  Each bad input
# gives exit 1 and its reason on stderr; a good configuration passes,
# also while a lurkd runs on the same socket.  lurkd -nn: syntax only.
. "$LURKD_TOP/regress/lib.sh"

root_setup
mkca || { nok "make a CA"; finish; }
mkleaf k p256 && mkkey other p256 || { nok "make keys"; finish; }
mkdir -p "$T/run"

# mkconf FILE KEY CERT [LINE...]
mkconf() {
	local f=$1 key=$2 crt=$3 line; shift 3
	{
		echo "listen on unix \"$T/run/lurk.sock\" mode 0666"
		echo "keyprocs 1"
		for line; do echo "$line"; done
		printf 'key "k" {\n\tprivate "%s"\n\tcertificate "%s"\n}\n' \
		    "$key" "$crt"
	} >"$f"
}

# stderr but keyproc's note where RLIMIT_MEMLOCK is too low (mlock.t)
said() { grep -v 'keyproc\[0\]: memory not locked: ' "$T/err"; }

# bad NAME CONF PATTERN: lurkd -n exits 1 and says PATTERN
bad() {
	"$LURKD" -n -f "$2" >"$T/out" 2>"$T/err"
	local rc=$?
	if [ "$rc" = 1 ] && grep -q -- "$3" "$T/err" &&
	    ! grep -q "configuration OK" "$T/err"; then
		ok "lurkd -n: $1: exit 1, says why"
	else
		nok "lurkd -n: $1: exit $rc, want 1 and '$3'"
		sed 's/^/    | /' "$T/err"
	fi
}

# 1. good
chmod 0600 "$T/k.key"
mkconf "$T/good.conf" "$T/k.key" "$T/k.crt"
"$LURKD" -n -f "$T/good.conf" >"$T/out" 2>"$T/err"
rc=$?
check "good configuration: exit 0 ($rc)" [ "$rc" = 0 ]
check "good configuration: says configuration OK, nothing else" \
    [ "$(said)" = "configuration OK" ]
check "no socket is bound" [ ! -e "$T/run/lurk.sock" ]
cat "$T/k.crt" "$T/ca.crt" >"$T/chain.crt"
mkconf "$T/chain.conf" "$T/k.key" "$T/chain.crt"
check "a chain, key's certificate first: passes" \
    "$LURKD" -n -f "$T/chain.conf" 2>/dev/null
"$LURKD" -nv -f "$T/good.conf" >"$T/out" 2>"$T/err"
check "-nv: prints the configuration and passes" \
    grep -q "^key \"k\" {" "$T/out"

# 2. bad keys
mkconf "$T/c.conf" "$T/nosuch.key" "$T/k.crt"
bad "missing key" "$T/c.conf" "key \"k\": private key $T/nosuch.key: No such file"
mkconf "$T/c.conf" "$T/k.key" "$T/nosuch.crt"
bad "missing certificate" "$T/c.conf" "key \"k\": certificate $T/nosuch.crt: No such file"
openssl pkey -in "$T/k.key" -aes128 -passout pass:x -out "$T/enc.key" 2>/dev/null
mkconf "$T/c.conf" "$T/enc.key" "$T/k.crt"
bad "encrypted key" "$T/c.conf" "key \"k\": $T/enc.key: encrypted keys are not supported; decrypt it with \`openssl pkey\`"
openssl pkey -in "$T/k.key" -outform DER -out "$T/der.key"
mkconf "$T/c.conf" "$T/der.key" "$T/k.crt"
bad "DER key" "$T/c.conf" "key \"k\": $T/der.key: a DER (binary) key: lurkd reads PEM"
mkconf "$T/c.conf" "$T/other.key" "$T/k.crt"
bad "mismatched key" "$T/c.conf" "$T/k.crt does not match private key $T/other.key"
cat "$T/ca.crt" "$T/k.crt" >"$T/wrong.crt"
mkconf "$T/c.conf" "$T/k.key" "$T/wrong.crt"
bad "chain in the wrong order" "$T/c.conf" "the key's own certificate must come first (it is certificate 2 of 2)"
mkconf "$T/c.conf" "$T/other.key" "$T/k.crt"
printf 'key "again" {\n\tprivate "%s"\n\tcertificate "%s"\n}\n' \
    "$T/k.key" "$T/nosuch.crt" >>"$T/c.conf"
bad "two bad keys: the second reported" "$T/c.conf" "key \"again\": certificate $T/nosuch.crt"
check "two bad keys: 2 problems" \
    grep -q "configuration check failed: 2 problems" "$T/err"
check "... the first reported too" \
    grep -q "$T/k.crt does not match private key $T/other.key" "$T/err"

# a private key others may read: a warning, not an error
cp -p "$T/k.key" "$T/open.key"; chmod 0644 "$T/open.key"
mkconf "$T/c.conf" "$T/open.key" "$T/k.crt"
"$LURKD" -n -f "$T/c.conf" >"$T/out" 2>"$T/err"
check "key readable by others: passes (exit $?)" grep -qx "configuration OK" "$T/err"
check "key readable by others: a warning that says what to do" \
    grep -q "key \"k\": private key $T/open.key is readable by others (mode 0644): make it 0400 or 0600 (a Kubernetes Secret volume: defaultMode: 0400)" "$T/err"
chmod 0640 "$T/open.key"
"$LURKD" -n -f "$T/c.conf" >"$T/out" 2>"$T/err"
check "key readable by its group: a warning" \
    grep -q "$T/open.key is readable by its group (mode 0640)" "$T/err"
chmod 0400 "$T/open.key"
"$LURKD" -n -f "$T/c.conf" >"$T/out" 2>"$T/err"
check "key 0400: no warning" [ "$(said)" = "configuration OK" ]

# two blocks of one key (two copies of the file): both lines named
cp -p "$T/k.key" "$T/copy.key"; cp "$T/k.crt" "$T/copy.crt"
mkconf "$T/c.conf" "$T/k.key" "$T/k.crt"
printf 'key "again" {\n\tprivate "%s"\n\tcertificate "%s"\n}\n' \
    "$T/copy.key" "$T/copy.crt" >>"$T/c.conf"
bad "one key in two blocks" "$T/c.conf" \
    "$T/c.conf:7: key \"again\" is the same key as key \"k\" ($T/c.conf:3): give each key one block"

# 3. directories, user, chroot
mkconf "$T/c.conf" "$T/k.key" "$T/k.crt"
sed -i "s|$T/run/lurk.sock|$T/no/such/lurk.sock|" "$T/c.conf"
bad "missing socket directory" "$T/c.conf" "socket directory $T/no/such: No such file"
mkconf "$T/c.conf" "$T/k.key" "$T/k.crt" "pidfile \"$T/no/lurkd.pid\""
bad "missing pid file directory" "$T/c.conf" "pidfile $T/no/lurkd.pid: directory $T/no"
echo "not a socket" >"$T/run/file.sock"
mkconf "$T/c.conf" "$T/k.key" "$T/k.crt"
sed -i "s|$T/run/lurk.sock|$T/run/file.sock|" "$T/c.conf"
bad "a regular file at the socket path" "$T/c.conf" "$T/run/file.sock: the path exists and is a regular file"
if [ $root = 1 ]; then
	mkconf "$T/c.conf" "$T/k.key" "$T/k.crt" 'user "lurkd-no-such-user"'
	bad "unknown user (as root)" "$T/c.conf" "unknown user lurkd-no-such-user"
	# below root-only directories (not /tmp, which everybody may write)
	nr=/var/lib/lurkd-regress-none.$$
	mkconf "$T/c.conf" "$T/k.key" "$T/k.crt" "chroot \"$nr/empty\""
	"$LURKD" -n -f "$T/c.conf" >"$T/out" 2>"$T/err"
	rc=$?
	check "missing chroot: passes ($rc)" [ "$rc" = 0 ]
	check "... and says it will be made" \
	    grep -q "does not exist: lurkd makes it at start" "$T/err"
	check "missing chroot: lurkd -n does not make it" [ ! -e "$nr" ]
else
	skip "unknown user, missing chroot: need root"
fi

# 4. with a lurkd running on the socket: -n still passes (check, then restart)
if start_lurkd "$T/good.conf"; then
	"$LURKD" -n -f "$T/good.conf" >"$T/out" 2>"$T/err"
	check "a lurkd runs on the socket: -n passes" [ $? = 0 ]
	stop_lurkd
else
	nok "lurkd started"
fi

# 5. -nn: the syntax only
mkconf "$T/c.conf" "$T/nosuch.key" "$T/k.crt"
"$LURKD" -nn -f "$T/c.conf" >"$T/out" 2>"$T/err"
rc=$?
check "-nn: a missing key file is not looked at ($rc)" [ "$rc" = 0 ]
check "... configuration OK" grep -qx "configuration OK" "$T/err"
finish
