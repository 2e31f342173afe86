#!/usr/bin/env bash
# The libFuzzer targets (regress/fuzz/README): build them with clang,
# replay every committed corpus and crash input through its target
# (-runs=0), then fuzz each target for a few seconds on a scratch copy.
# One result line per target.  Needs clang and libFuzzer
# (libclang-rt-14-dev); without them: skip.
#
#   FUZZ_CHECK_SECONDS   fuzzing time per target (default 4)
set -u
TOP=${LURKD_TOP:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
FUZZ_CC=${FUZZ_CC:-clang}
SECS=${FUZZ_CHECK_SECONDS:-4}
FAILED=0
W=$(mktemp -d /tmp/lurkd-fuzz.XXXXXX)
keep=0
trap '[ $keep = 1 ] || rm -rf "$W"' EXIT

if ! command -v "$FUZZ_CC" >/dev/null; then
	echo "skip - fuzz: $FUZZ_CC not installed"
	exit 0
fi
printf 'int LLVMFuzzerTestOneInput(const char *d, unsigned long n) { return 0; }\n' \
    >"$W/probe.c"
if ! "$FUZZ_CC" -fsanitize=fuzzer,address,undefined -o "$W/probe" \
    "$W/probe.c" >"$W/probe.log" 2>&1; then
	echo "skip - fuzz: $FUZZ_CC cannot link -fsanitize=fuzzer (libFuzzer missing?)"
	sed 's/^/    | /' "$W/probe.log" | head -5
	exit 0
fi

cd "$TOP" || exit 1
if ! make -s -j"$(nproc 2>/dev/null || echo 2)" fuzz-bins >"$W/build.log" 2>&1; then
	cat "$W/build.log"
	echo "not ok - fuzz: build the targets (make fuzz-bins)"
	exit 1
fi
targets=$(make -s --no-print-directory -f GNUmakefile -f - print-fuzz-targets <<'EOF'
print-fuzz-targets:
	@echo $(FUZZ_TARGETS)
EOF
)
[ -n "$targets" ] || { echo "not ok - fuzz: no targets"; exit 1; }

for t in $targets; do
	bin=regress/fuzz/build/$t
	dirs=()
	n=0
	for d in regress/fuzz/corpus/$t regress/fuzz/crashes/$t; do
		[ -d "$d" ] || continue
		dirs+=("$d")
		n=$((n + $(find "$d" -type f | wc -l)))
	done
	# 1: every committed input once; the crash inputs stay fixed
	if [ "${#dirs[@]}" -gt 0 ] && ! "$bin" -runs=0 "${dirs[@]}" \
	    >"$W/$t.replay" 2>&1; then
		tail -n 40 "$W/$t.replay"
		echo "not ok - $t: replay of $n committed inputs"
		FAILED=1
		continue
	fi
	# 2: a few seconds of fuzzing; new inputs land in the scratch copy
	mkdir -p "$W/$t"
	if "$bin" -max_total_time="$SECS" -print_final_stats=1 \
	    -artifact_prefix="$W/$t-" "$W/$t" "${dirs[@]}" \
	    >"$W/$t.log" 2>&1; then
		runs=$(awk '/^stat::number_of_executed_units/ { print $2 }' \
		    "$W/$t.log")
		echo "ok - $t: $n committed inputs replayed, ${SECS} s fuzzed (${runs:-?} runs)"
	else
		tail -n 40 "$W/$t.log"
		keep=1
		echo "not ok - $t: fuzzing for ${SECS} s (crash input in $W)"
		FAILED=1
	fi
done
exit $FAILED
