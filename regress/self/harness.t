# The test harness itself: no check in regress/ whose condition only
# partly counts; regress/run fails a run whose results are lost or that
# ran nothing; wait_exit does not pass a lurkd that never exits, nor
# leave it running.
. "$LURKD_TOP/regress/lib.sh"

cd "$TOP" || { nok "cd $TOP"; finish; }
if out=$("$PYTHON" regress/self/checklint.py regress/*/*.t regress/lib.sh \
    regress/provider/setup.sh 2>&1); then
	ok "every check asserts its whole condition (checklint.py)"
else
	nok "every check asserts its whole condition (checklint.py)"
	echo "$out" | sed 's/^/    | /'
fi
# the lint sees the pattern it is there for
printf 'check "a and b" [ -n "$a" ] && [ -n "$b" ]\ncheck "fine" eval "[ a ] && [ b ]"\n' \
    >"$T/lint.t"
check "checklint.py flags check \"...\" [ a ] && [ b ] (control)" \
    eval '! "$PYTHON" regress/self/checklint.py "$T/lint.t" >"$T/lint.out" &&
    [ "$(wc -l <"$T/lint.out")" = 1 ] && grep -q "lint.t:1:" "$T/lint.out"'

# regress/run on a tree of its own: a .t that passes, one that prints
# nothing, one whose log cannot be written
mkdir -p "$T/tree/regress/x" "$T/logs"
cp regress/run "$T/tree/regress/run"
echo 'echo "ok - fine"' >"$T/tree/regress/x/good.t"
echo 'exit 0' >"$T/tree/regress/x/silent.t"
echo 'echo "ok - lost"' >"$T/tree/regress/x/unrecorded.t"
run() {	# run LOGDIR [ONLY]: regress/run of the scratch tree; output in $T/run.out
	env -u REGRESS_ONLY ${2:+REGRESS_ONLY="$2"} REGRESS_LOGDIR="$1" \
	    bash "$T/tree/regress/run" >"$T/run.out" 2>&1
}
check "regress/run: a run that passes exits 0 (control)" \
    eval 'run "$T/logs" good && grep -qx "1 passed, 0 failed, 0 skipped" "$T/run.out"'
check "regress/run: a log directory that does not exist fails the run" \
    eval '! run "$T/nosuch" good && grep -q "^not ok - .*log directory" "$T/run.out"'
check "regress/run: REGRESS_ONLY that matches no test fails the run" \
    eval '! run "$T/logs" nosuch && grep -q "^not ok - regress/run: no test ran" "$T/run.out"'
check "regress/run: a .t that prints no result fails" \
    eval '! run "$T/logs" silent && grep -q "not ok - x/silent.t printed no result" "$T/run.out"'
mkdir "$T/logs/x_unrecorded.t.log"	# where its log would go
check "regress/run: a .t whose output cannot be recorded fails" \
    eval '! run "$T/logs" unrecorded && grep -q "not ok - x/unrecorded.t: its output could not be recorded" "$T/run.out"'
check "regress/run: REGRESS_ONLY takes several words" \
    eval '! run "$T/logs" "good silent" && grep -qx "1 passed, 1 failed, 0 skipped" "$T/run.out"'

# wait_exit: a process that does not exit is killed and fails the wait
sleep 600 &
LURKD_PID=$! pid=$!
if wait_exit 1 2>/dev/null; then w=0; else w=1; fi
check "wait_exit: a timeout fails" [ "$w" = 1 ]
check "wait_exit: ... sets LURKD_RC=timeout" [ "$LURKD_RC" = timeout ]
check "wait_exit: ... leaves no LURKD_PID" [ -z "$LURKD_PID" ]
check "wait_exit: ... and the process is gone" eval '! kill -0 "$pid" 2>/dev/null'
check "lurkd_exited nonzero: false after a timeout" eval '! lurkd_exited nonzero'
check "lurkd_exited 0: false after a timeout" eval '! lurkd_exited 0'
(exit 3) &
LURKD_PID=$!
check "wait_exit: a process that exits" wait_exit 5
check "lurkd_exited 3 and nonzero: its status" \
    eval 'lurkd_exited 3 && lurkd_exited nonzero && ! lurkd_exited 0'

# make mutate's harness: a mutant a command catches, one it misses, one
# that does not build; a list that no longer fits the code
cat >"$T/mutants" <<'LIST'
mutant m-killed
file   regress/self/checklint.py
from   Finds checks that cannot fail in regress/
to     MUTATED
build  regress/lurk/codec_test
cmd    ! grep -q MUTATED regress/self/checklint.py

mutant m-survived
file   regress/self/checklint.py
from   Finds checks that cannot fail in regress/
to     MUTATED
build  regress/lurk/codec_test
cmd    true

mutant m-broken
file   liblurk/lurk.c
from   lurk_payload_len(const struct lurk_hdr *h, int mode, uint32_t *plen)
to     lurk_payload_len(const struct lurk_hdr *h, int mode, uint32_t *plen) syntax error
build  regress/lurk/codec_test
cmd    true
LIST
MUTATE_LIST=$T/mutants "$PYTHON" regress/mutate/mutate.py >"$T/mutate.out" 2>&1
rc=$?
check "mutate.py: a mutant that survives or breaks the build fails it (exit $rc)" \
    [ "$rc" = 1 ]
check "mutate.py: KILLED, SURVIVED and BROKEN each where due" \
    eval 'grep -q "^KILLED  *m-killed" "$T/mutate.out" &&
    grep -q "^SURVIVED *m-survived" "$T/mutate.out" &&
    grep -q "^BROKEN  *m-broken" "$T/mutate.out" &&
    grep -q "3 mutants, 1 killed, 1 survived, 1 broken" "$T/mutate.out"'
kept=$(sed -n 's/^mutate: scratch copy and logs kept in //p' "$T/mutate.out")
case $kept in /tmp/lurkd-mutate.*) rm -rf "$kept" ;; esac
MUTATE_LIST=$T/mutants "$PYTHON" regress/mutate/mutate.py m-killed \
    >"$T/mutate.out" 2>&1
check "mutate.py: every mutant killed: exit 0" [ $? = 0 ]
sed 's/^from   Finds checks.*/from   Finds checks that cannot pass/' \
    "$T/mutants" >"$T/stale"
MUTATE_LIST=$T/stale "$PYTHON" regress/mutate/mutate.py >"$T/mutate.out" 2>&1
rc=$?
check "mutate.py: a text that no longer matches stops the run (exit $rc)" \
    eval '[ "$rc" = 2 ] && grep -q "occurs 0 times" "$T/mutate.out" &&
    ! grep -q "^KILLED" "$T/mutate.out"'
sed 's/^from   lurk_payload_len(.*/from   LURK_HDR_LEN/' "$T/mutants" >"$T/stale"
MUTATE_LIST=$T/stale "$PYTHON" regress/mutate/mutate.py m-broken \
    >"$T/mutate.out" 2>&1
rc=$?
check "mutate.py: a text found more than once stops the run (exit $rc)" \
    eval '[ "$rc" = 2 ] && grep -q "not once" "$T/mutate.out"'

# the project's own list: each pattern once in the code, each test word
# a .t (a change that moves a checked line must move its mutant too)
out=$("$PYTHON" regress/mutate/mutate.py --check 2>&1)
check "make mutate's list fits the tree (mutate.py --check: $out)" [ $? = 0 ]
sed 's/^tests  m-none$//; s/^cmd    true$/tests  no-such-test/' \
    "$T/mutants" >"$T/stale"
MUTATE_LIST=$T/stale "$PYTHON" regress/mutate/mutate.py --check \
    >"$T/mutate.out" 2>&1
rc=$?
check "mutate.py --check: a test word naming no .t (exit $rc)" \
    eval '[ "$rc" = 2 ] && grep -q "no-such-test. names no regress .t" "$T/mutate.out"'
finish
