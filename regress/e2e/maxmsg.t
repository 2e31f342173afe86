# max message size N, to the byte: N accepted, N + 1 refused and the
# connection closed, in both length modes (regress/e2e/maxmsg.py).
. "$LURKD_TOP/regress/lib.sh"

N=1024
for mode in payload message; do
	p256_setup "max message size $N" "lurk length $mode"
	start_lurkd "$T/lurkd.conf" || { nok "lurkd started ($mode)"; continue; }
	LURK_LENMODE=$mode LURK_SOCKET=$T/lurk.sock "$PYTHON" \
	    "$TOP/regress/e2e/maxmsg.py" "$N" ||
	    nok "max message size checks ran to the end ($mode)"
	n=$(grep -c "length exceeds the maximum message size" "$T/lurkd.log")
	check "one refusal for the oversize message logged, none for N ($mode): $n" \
	    [ "$n" = 1 ]
	stop_lurkd
	check "lurkd exits 0 ($mode)" lurkd_exited 0
done
finish
