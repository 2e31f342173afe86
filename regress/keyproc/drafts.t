# Known answers of keyproc's tls12 and tls13 cryptography and keyproc's
# own checks of what netproc asks (drafts_test.c).
. "$LURKD_TOP/regress/lib.sh"

[ -x "$TOP/regress/keyproc/drafts_test" ] || { nok "drafts_test built"; finish; }
mkkey rsa rsa2048 && mkkey p256 p256 || { nok "make test keys"; finish; }
"$TOP/regress/keyproc/drafts_test" "$T" || FAILED=1
finish
