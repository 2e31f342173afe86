# Reload under load (reload.py): 20 reloads (SIGHUP, and netproc's
# IMSG_CTL_RELOAD through the test build's SIGUSR2 hook), 3 rotations of
# a key by a Kubernetes Secret's ..data swap (and a fourth after a pair
# that does not match), a syntax error and a broken key, while 4
# connections pipeline signatures: nothing lost, nothing failed, every
# signature verified with the certificate of the key it names.
. "$LURKD_TOP/regress/lib.sh"

root_setup
"$PYTHON" -c 'import cryptography' 2>/dev/null ||
    { skip "reload: python3-cryptography missing"; finish; }
mkdir -p "$T/keys" "$T/rot" "$T/secret"
mkkey p256 p256 && mkkey extra p256 || { nok "make keys"; finish; }
mv "$T/p256.key" "$T/p256.crt" "$T/extra.key" "$T/extra.crt" "$T/keys/"
# the versions of the rotated key: P-256, RSA 2048, Ed25519, P-384,
# P-256; 6 is only a certificate (of another key)
n=0
for type in p256 rsa2048 ed25519 p384 p256 p256; do
	n=$((n + 1))
	mkkey rot$n $type || { nok "make key rot$n"; finish; }
	mkdir "$T/rot/$n"
	mv "$T/rot$n.key" "$T/rot/$n/tls.key"
	mv "$T/rot$n.crt" "$T/rot/$n/tls.crt"
done
# a Secret volume: files in a timestamped directory, ..data -> it, and
# the names the configuration uses -> ..data/NAME
ts=..2026_11_29_09_59_59.000000001
mkdir "$T/secret/$ts"
install -m 0400 "$T/rot/1/tls.key" "$T/secret/$ts/tls.key"
install -m 0400 "$T/rot/1/tls.crt" "$T/secret/$ts/tls.crt"
ln -s "$ts" "$T/secret/..data"
ln -s ..data/tls.key "$T/secret/tls.key"
ln -s ..data/tls.crt "$T/secret/tls.crt"

block() {	# block NAME KEY CERT
	printf 'key "%s" {\n\tprivate "%s"\n\tcertificate "%s"\n\tallow uid %s\n}\n' \
	    "$1" "$2" "$3" "$(id -u)"
}
head="listen on unix \"$T/lurk.sock\" mode 0666
keyprocs 2"
{
	echo "$head"
	block p256 "$T/keys/p256.key" "$T/keys/p256.crt"
	block rot "$T/secret/tls.key" "$T/secret/tls.crt"
} >"$T/conf.a"
{
	echo "$head"
	block extra "$T/keys/extra.key" "$T/keys/extra.crt"
	block p256 "$T/keys/p256.key" "$T/keys/p256.crt"
	block rot "$T/secret/tls.key" "$T/secret/tls.crt"
} >"$T/conf.b"
cp "$T/conf.a" "$T/lurkd.conf"

# not -v: a debug line per operation would be most of the work
: >"$T/lurkd.log"
"$LURKD_TEST" -d -f "$T/lurkd.conf" >>"$T/lurkd.log" 2>&1 &
LURKD_PID=$!
wait_log "parent: ready:" 10 || { nok "lurkd started"; finish; }
NP=$(child_pid netproc)
LURK_SOCKET=$T/lurk.sock timeout 150 "$PYTHON" "$TOP/regress/e2e/reload.py" \
    "$T" "$LURKD_PID" "$NP" || nok "reload.py ran to the end"

# what netproc was told (IMSG_CTL_STATUS) and uses
kill -USR1 "$LURKD_PID"
wait_log "stats: generation" 5
check "netproc: generation 27 (26 reloads), as the parent's; 3 failed" \
    grep -q "netproc: stats: generation 27 (parent: 27); reloads 26 ok, 3 failed" \
    "$T/lurkd.log"
check "no child died, nothing fatal" \
    bash -c "! grep -Eq 'lost child|fatal|bad IMSG' '$T/lurkd.log'"
check "each failed reload logged its reason" \
    eval '[ "$(grep -c "parent: reload (.*) failed: " "$T/lurkd.log")" = 3 ]'
stop_lurkd
check "lurkd exits 0" lurkd_exited 0
finish
