# lurkctl keyref: asks lurkd, writes the reference; its exit codes; the
# provider's refusal of a tampered reference; the man page.
. "$LURKD_TOP/regress/lib.sh"
. "$LURKD_TOP/regress/provider/setup.sh"

edge_setup p256 ed25519
edge_refs p256

# the blob inside a reference PEM
blob() { sed '1d;$d' "$1" | base64 -d; }

"$LURKCTL" keyref -S "$SOCK" "$T/p256.crt" >"$T/a.ref" 2>"$T/err"
check "keyref: exit 0" [ $? = 0 ]
check "keyref: PEM labelled LURK KEY REFERENCE" \
    bash -c "head -1 '$T/a.ref' | grep -qx -- '-----BEGIN LURK KEY REFERENCE-----'"
check "keyref: name as lurkd calls the key" \
    bash -c "sed '1d;\$d' '$T/a.ref' | base64 -d | grep -aq p256"
check "keyref: -S recorded in the reference" \
    bash -c "sed '1d;\$d' '$T/a.ref' | base64 -d | grep -aqF '$SOCK'"
LURK_SOCKET=$SOCK "$LURKCTL" keyref -n p256 "$T/p256.crt" >"$T/b.ref"
check "keyref: LURK_SOCKET reaches lurkd" [ $? = 0 ]
check "keyref: without -S no socket is recorded" \
    bash -c "! sed '1d;\$d' '$T/b.ref' | base64 -d | grep -aqF '$SOCK'"
check "keyref: -n with lurkd's name for the key" \
    bash -c "sed '1d;\$d' '$T/b.ref' | base64 -d | grep -aq p256"
# keyref_n_fails WHAT NAME PATTERN: keyref -n NAME for p256.crt fails
keyref_n_fails() {
	"$LURKCTL" keyref -S "$SOCK" -n "$2" "$T/p256.crt" >"$T/out" 2>"$T/err"
	local rc=$?
	check "keyref -n $1: exit 1 ($rc)" [ "$rc" = 1 ]
	check "keyref -n $1: says so" grep -q -- "$3" "$T/err"
	check "keyref -n $1: nothing on stdout" [ ! -s "$T/out" ]
}
keyref_n_fails "NAME lurkd does not hold" www \
    'unknown_key.*lurkd does not hold a key named "www"'
keyref_n_fails "NAME of another key" ed25519 \
    'key "ed25519" in lurkd is another key than the one of .*p256.crt, which lurkd calls "p256"'
"$LURKCTL" -S "$SOCK" key "$T/ed25519.crt" >/dev/null
check "a unique prefix of the command is enough" [ $? = 0 ]

# a key lurkd does not hold
mkleaf other p256 || nok "make another key"
"$LURKCTL" keyref -S "$SOCK" "$T/other.crt" >"$T/out" 2>"$T/err"
rc=$?
check "unknown key: exit 1 ($rc)" [ "$rc" = 1 ]
check "unknown key: says unknown_key" grep -q unknown_key "$T/err"
id=$(openssl x509 -in "$T/other.crt" -pubkey -noout | openssl pkey -pubin -outform DER | sha256sum | cut -c1-64)
check "unknown key: lurkctl names the key id" \
    grep -q "lurkd does not hold the key of $T/other.crt (key id $id)" "$T/err"
check "unknown key: lurkd logs it with the key id" \
    grep -q "unknown_key .*no such key: id $id" "$T/lurkd.log"
check "unknown key: nothing on stdout" [ ! -s "$T/out" ]
"$LURKCTL" keyref -S "$T/nosuch.sock" "$T/p256.crt" >/dev/null 2>"$T/err"
rc=$?
check "no lurkd: exit 3 ($rc)" [ "$rc" = 3 ]
check "no lurkd: says daemon not reachable" \
    grep -q 'daemon not reachable' "$T/err"
"$LURKCTL" keyref -S "$SOCK" "$T/p256.key" >/dev/null 2>&1
check "a file without a certificate: exit 1" [ $? = 1 ]
"$LURKCTL" >/dev/null 2>&1
check "no command: exit 2" [ $? = 2 ]
"$LURKCTL" frobnicate >/dev/null 2>&1
check "unknown command: exit 2" [ $? = 2 ]
"$LURKCTL" keyref >/dev/null 2>&1
check "keyref without a certificate: exit 2" [ $? = 2 ]
"$LURKCTL" keyref -S run/lurk.sock "$T/p256.crt" >/dev/null 2>&1
check "keyref -S relative path: exit 2" [ $? = 2 ]

# a reference whose public key was swapped under its key_id
{
	echo '-----BEGIN LURK KEY REFERENCE-----'
	blob "$T/a.ref" | python3 -c '
import sys
b = bytearray(sys.stdin.buffer.read())
b[-1] ^= 1
sys.stdout.buffer.write(b)' | base64
	echo '-----END LURK KEY REFERENCE-----'
} >"$T/bad.ref"
check "provider refuses a tampered reference, saying why" \
    bash -c "! OPENSSL_CONF='$T/openssl.cnf' openssl pkey -in '$T/bad.ref' -pubout 2>'$T/err' && grep -q 'key id does not match' '$T/err'"

# the provider, for a key lurkd no longer holds: both sides name the key id
stop_lurkd
sed '/^key "p256"/,/^}/d' "$T/lurkd.conf" >"$T/nop256.conf"
if start_lurkd "$T/nop256.conf"; then
	id=$(openssl pkey -in "$T/p256.key" -pubout -outform DER | sha256sum | cut -c1-64)
	echo data >"$T/data"
	OPENSSL_CONF=$T/openssl.cnf openssl dgst -sha256 -sign "$T/a.ref" \
	    -out "$T/sig" "$T/data" >/dev/null 2>"$T/err"
	check "provider, unknown key: the signature fails" [ $? != 0 ]
	check "provider, unknown key: its error names the key id" \
	    grep -q "key \"p256\": lurkd answered unknown_key (8): lurkd holds no key with id $id" "$T/err"
	check "provider, unknown key: lurkd logs the key id" \
	    grep -q "unknown_key .*no such key: id $id" "$T/lurkd.log"
else
	nok "lurkd restarted without the key"
fi

if command -v mandoc >/dev/null; then
	check "man/lurkctl.8 is clean under mandoc -Tlint" \
	    bash -c "[ -z \"\$(mandoc -Tlint -Wwarning '$TOP/man/lurkctl.8' 2>&1)\" ]"
else
	skip "mandoc -Tlint: mandoc not installed"
fi
finish
