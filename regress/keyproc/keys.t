# keyproc's key loader and key operations, unit by unit (keys_test.c):
# the key file's bytes are wiped on every path, operations follow the
# key's policy, the RSA premaster takes TLS 1.0-1.2 versions only.
. "$LURKD_TOP/regress/lib.sh"

[ -x "$TOP/regress/keyproc/keys_test" ] || { nok "keys_test built"; finish; }
mkkey p256 p256 && mkkey rsa rsa2048 || { nok "make test keys"; finish; }
openssl pkey -in "$T/p256.key" -aes128 -passout pass:x -out "$T/enc.key" \
    2>/dev/null || { nok "encrypt a key"; finish; }
# the key, then more text than the first read buffer holds (8 KiB)
{ cat "$T/p256.key"
  for i in $(seq 200); do echo "text line $i after the key, about 60 bytes of it......"; done
} >"$T/padded.key"
{ cat "$T/p256.key"; head -c $((1024 * 1024 + 4096)) /dev/zero | tr '\0' 'x'; } \
    >"$T/huge.key"
# exactly KEYFILE_MAX (1 MiB) bytes, and one more
{ cat "$T/p256.key"; yes "text after the key" | head -c $((1024 * 1024)); } |
    head -c $((1024 * 1024)) >"$T/max.key"
{ cat "$T/max.key"; echo; } >"$T/over.key"
"$TOP/regress/keyproc/keys_test" "$T" || FAILED=1
finish
