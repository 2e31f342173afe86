#!/usr/bin/env bash
# make demo: a stock TLS server (openssl s_server) whose key files hold no
# secret serves real handshakes to curl and openssl s_client; the private
# keys exist only in lurkd.  Everything lives in a temporary directory
# and is removed at the end.
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
lurkd=$top/lurkd/lurkd
lurkctl=$top/lurkctl/lurkctl
provider=$top/provider/lurk.so
d=$(mktemp -d /tmp/lurkd-demo.XXXXXX)
chmod 0755 "$d"
lpid= spid=
cleanup() {
	[ -n "$spid" ] && kill "$spid" 2>/dev/null && wait "$spid" 2>/dev/null
	[ -n "$lpid" ] && kill "$lpid" 2>/dev/null && wait "$lpid" 2>/dev/null
	rm -rf "$d"
}
trap cleanup EXIT
say() { printf '\n== %s\n' "$*"; }
indent() { sed 's/^/   /'; }

if [ "$(id -u)" = 0 ] && ! getent passwd _lurkd >/dev/null; then
	say "creating the system user _lurkd (lurkd's children run as it)"
	useradd --system --no-create-home --home-dir /nonexistent \
	    --shell /usr/sbin/nologin _lurkd
fi

say "a throwaway CA, an RSA-2048 and an ECDSA P-256 server key for test.lurk"
openssl req -new -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
    -keyout "$d/ca.key" -subj "/CN=lurkd demo CA" -days 1 \
    -addext basicConstraints=critical,CA:true -out "$d/ca.crt" 2>/dev/null
for k in rsa ec; do
	if [ $k = rsa ]; then alg=(-algorithm RSA -pkeyopt rsa_keygen_bits:2048)
	else alg=(-algorithm EC -pkeyopt ec_paramgen_curve:P-256); fi
	openssl genpkey "${alg[@]}" -out "$d/$k.key" 2>/dev/null
	openssl req -new -key "$d/$k.key" -subj "/CN=test.lurk" \
	    -out "$d/$k.csr" 2>/dev/null
	openssl x509 -req -in "$d/$k.csr" -CA "$d/ca.crt" -CAkey "$d/ca.key" \
	    -CAcreateserial -days 1 -out "$d/$k.crt" \
	    -extfile <(printf 'subjectAltName=DNS:test.lurk\n') 2>/dev/null
done
ls -l "$d" | grep -E '\.(key|crt)$' | indent

cat >"$d/lurkd.conf" <<CONF
listen on unix "$d/lurk.sock" mode 0660
keyprocs 2
key "rsa" {
	private "$d/rsa.key"
	certificate "$d/rsa.crt"
	allow uid $(id -u)
}
key "ec" {
	private "$d/ec.key"
	certificate "$d/ec.crt"
	allow uid $(id -u)
}
CONF
say "starting lurkd -d -v -f $d/lurkd.conf"
"$lurkd" -d -v -f "$d/lurkd.conf" 2>"$d/lurkd.log" &
lpid=$!
for _ in $(seq 100); do
	grep -q "parent: ready" "$d/lurkd.log" && break
	kill -0 "$lpid" 2>/dev/null || break
	sleep 0.05
done
grep -q "parent: ready" "$d/lurkd.log" || { cat "$d/lurkd.log"; exit 1; }
grep -E "starting|key \"|ready" "$d/lurkd.log" | indent

say "the key files the TLS server gets: lurk key references (public data only)"
for k in rsa ec; do
	"$lurkctl" keyref -S "$d/lurk.sock" "$d/$k.crt" >"$d/$k.ref"
done
head -3 "$d/rsa.ref" | indent
echo "   ..."
shred -u "$d/rsa.key" "$d/ec.key" 2>/dev/null || rm -f "$d/rsa.key" "$d/ec.key"
echo "   (the private key files are now deleted: only lurkd has the keys)"

cat >"$d/openssl.cnf" <<CNF
openssl_conf = openssl_init
[openssl_init]
providers = provider_sect
[provider_sect]
default = default_sect
lurk = lurk_sect
[default_sect]
activate = 1
[lurk_sect]
module = $provider
socket = $d/lurk.sock
activate = 1
CNF
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
say "openssl s_server on 127.0.0.1:$port with -key rsa.ref -dkey ec.ref (OPENSSL_CONF loads lurk.so)"
OPENSSL_CONF=$d/openssl.cnf openssl s_server -accept "127.0.0.1:$port" \
    -cert "$d/rsa.crt" -key "$d/rsa.ref" -dcert "$d/ec.crt" -dkey "$d/ec.ref" \
    -www -quiet >"$d/s_server.log" 2>&1 &
spid=$!
for _ in $(seq 100); do
	(exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break
	sleep 0.05
done

ops() { grep -c "netproc: conn .*: sign-tls1[23] key \"$1\": success" "$d/lurkd.log" || true; }
handshake() {	# what, s_client options
	local what=$1 r0 e0 out; shift
	r0=$(ops rsa); e0=$(ops ec)
	out=$(echo | openssl s_client -connect "127.0.0.1:$port" \
	    -servername test.lurk -CAfile "$d/ca.crt" -verify_return_error \
	    -brief "$@" 2>&1) || { echo "$out"; return 1; }
	sleep 0.1
	printf '   %-28s %s, %s, %s; verified: %s; lurkd key: %s\n' "$what" \
	    "$(sed -n 's/^Protocol version: //p' <<<"$out")" \
	    "$(sed -n 's/^Ciphersuite: //p' <<<"$out")" \
	    "$(sed -n 's/^Signature type: //p' <<<"$out")/$(sed -n 's/^Hash used: //p' <<<"$out")" \
	    "$(grep -q '^Verification: OK' <<<"$out" && echo yes || echo NO)" \
	    "$([ "$(ops rsa)" -gt "$r0" ] && echo rsa)$([ "$(ops ec)" -gt "$e0" ] && echo ec)"
}
say "handshakes with openssl s_client (chain verified against the demo CA)"
handshake "TLS 1.3, RSA-PSS" -tls1_3 -sigalgs rsa_pss_rsae_sha256
handshake "TLS 1.3, ECDSA" -tls1_3 -sigalgs ecdsa_secp256r1_sha256
handshake "TLS 1.2, ECDHE-RSA" -tls1_2 -cipher ECDHE-RSA-AES128-GCM-SHA256
handshake "TLS 1.2, ECDHE-ECDSA" -tls1_2 -cipher ECDHE-ECDSA-AES256-GCM-SHA384

say "curl https://test.lurk:$port/ (TLS 1.3 and TLS 1.2)"
for v in "--tlsv1.3" "--tlsv1.2 --tls-max 1.2"; do
	# shellcheck disable=SC2086
	curl -s -o /dev/null --cacert "$d/ca.crt" \
	    --resolve "test.lurk:$port:127.0.0.1" $v \
	    -w "   curl $v: HTTP %{http_code}, %{scheme} verified (ssl_verify_result %{ssl_verify_result})\n" \
	    "https://test.lurk:$port/"
done

say "lurkd refuses to be a signing oracle: openssl pkeyutl -sign with rsa.ref"
printf 'any bytes' | OPENSSL_CONF=$d/openssl.cnf openssl pkeyutl -sign \
    -inkey "$d/rsa.ref" 2>&1 | head -2 | indent || true

say "lurkd's counters (SIGUSR1)"
kill -USR1 "$lpid"
sleep 0.3
grep "stats:" "$d/lurkd.log" | sed 's/^netproc: stats: //' | indent

say "stopping"
kill "$spid"; wait "$spid" 2>/dev/null || true; spid=
kill "$lpid"; wait "$lpid" && rc=0 || rc=$?; lpid=
echo "   lurkd exited with status $rc"
exit "$rc"
