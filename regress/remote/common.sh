# Shared by regress/remote/*.t (sourced after lib.sh).

# logged PATTERN [FILE]: an extended regex in the log, within 5 s (the
# children's lines reach it through the parent, after the answers)
logged() {
	local i
	for ((i = 0; i < 100; i++)); do
		grep -Eq -- "$1" "${2:-$T/lurkd.log}" && return 0
		sleep 0.05
	done
	return 1
}

# remote_setup: root=1 as root; the certificates of mtls.py certs in $T,
# the edge key k1 ($T/k1.key, .crt, .spki); ends the test on failure
remote_setup() {
	root_setup
	export CERTS=$T
	"$PYTHON" "$TOP/regress/remote/mtls.py" certs "$T" ||
	    { nok "make the certificates"; finish; }
	mkkey k1 p256 || { nok "make the edge key"; finish; }
	chmod 0600 "$T/k1.key"
	openssl pkey -in "$T/k1.key" -pubout -outform DER -out "$T/k1.spki"
}

# needles KEYFILE: its EC private scalar, as bytes and as OpenSSL's
# BIGNUM limbs (reversed), for regress/security/memscan.py
needles() {
	local hex
	hex=$(openssl pkey -in "$1" -text -noout 2>/dev/null |
	    awk '$1 == "priv:" { on = 1; next }
		on && /^ +[0-9a-f][0-9a-f]:/ { gsub(/[ :]/, ""); h = h $0; next }
		on { on = 0 } END { print h }')
	hex=${hex#00}
	[ ${#hex} -ge 64 ] || return 1
	echo "$hex"
	echo "$hex" | fold -w2 | tac | tr -d '\n'; echo
}
