# The four man pages under mandoc -Tlint, every level down to style.
# Two style messages depend on the machine, not on the page: "referenced
# manual not found" and "outdated mandoc.db" (mandoc looks cross
# references up in /usr/share/man only); they are left out here and the
# cross references are checked instead: each one to a page of ours names
# one of the four, in its section.
. "$LURKD_TOP/regress/lib.sh"

command -v mandoc >/dev/null || { skip "man pages: mandoc not installed"; finish; }
PAGES="lurkd.8 lurkd.conf.5 lurkctl.8 lurk.7"

for p in $PAGES; do
	[ -f "$TOP/man/$p" ] || { nok "man/$p exists"; continue; }
	mandoc -Tlint "$TOP/man/$p" 2>&1 |
	    grep -v -e 'STYLE: referenced manual not found' \
	    -e 'outdated mandoc.db' >"$T/lint.$p"
	check "man/$p is clean under mandoc -Tlint" [ ! -s "$T/lint.$p" ]
	cat "$T/lint.$p"
	# .Xr NAME SECTION to one of ours
	bad=$(sed -n 's/^\.Xr \(lurk[a-z.]*\) \([0-9]\).*/\1.\2/p' \
	    "$TOP/man/$p" | sort -u | while read -r x; do
		case " $PAGES " in *" $x "*) ;; *) echo "$x" ;; esac
	    done)
	check "man/$p: its cross references to ours name our pages" \
	    [ -z "$bad" ]
	[ -z "$bad" ] || echo "unknown: $bad"
done

# what the machine lacks, for the record
mandoc -Tlint $(printf "$TOP/man/%s " $PAGES) 2>&1 |
    sed -n 's/.*referenced manual not found: Xr \([^ ]* [0-9]\).*/\1/p' |
    sort -u | while read -r n s; do
	case " $PAGES " in *" $n.$s "*) ;; *) echo "# not installed here: $n($s)" ;; esac
done
finish
