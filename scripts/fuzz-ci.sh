#!/bin/sh
# The bounded fuzzing step of CI: scripts/fuzz-ci.sh BUILDDIR
#
# Runs every libFuzzer target BUILDDIR has (tests/fuzz/fuzz_*, built by
# meson when the compiler is clang with libFuzzer) for FUZZ_CI_SECONDS
# (default 22) each, two at a time on two cores, from a scratch copy of its seed
# corpus (tests/fuzz/corpus/TARGET) with its dictionary, and fails on any
# crash, invariant violation, leak or timeout (a single input running over
# 10 s). Prints a line per target and a final "N passed, N failed". The
# whole step takes 5 rounds of 22 s, about 2 minutes with the build, on two
# cores (3.5 minutes one at a time; the 5-minute budget of issue 13).
# A BUILDDIR without fuzz targets (gcc, or no libFuzzer) passes with
# "0 passed, 0 failed" and says why.
set -u
if [ $# -ne 1 ]; then
    echo "usage: scripts/fuzz-ci.sh BUILDDIR" >&2
    exit 2
fi
cd "$(dirname "$0")/.."
ROOT=$(pwd)
B=$(cd "$1" && pwd)
SECS=${FUZZ_CI_SECONDS:-22}
WORK=$(mktemp -d "${TMPDIR:-/tmp}/xf-fuzz-ci.XXXXXX")
trap 'rm -rf "$WORK"' EXIT INT TERM

# Build them (cheap if already built).
ninja -C "$B" $(ninja -C "$B" -t targets all 2>/dev/null |
                sed -n 's|^\(tests/fuzz/fuzz_[a-z_]*\): .*|\1|p' | sort -u) >"$WORK/build.log" 2>&1 || {
    echo "fuzz-ci: building the fuzz targets failed:" >&2
    tail -20 "$WORK/build.log" >&2
    echo "0 passed, 1 failed"
    exit 1
}
targets=$(ls "$B/tests/fuzz/" 2>/dev/null | grep '^fuzz_[a-z_]*$' || true)
if [ -z "$targets" ]; then
    echo "fuzz-ci: no fuzz targets in $B (they need clang with libFuzzer)"
    echo "0 passed, 0 failed"
    exit 0
fi

# Targets run JOBS at a time (FUZZ_CI_JOBS, default: the machine's cores,
# at most 2): each is one process on one core, so two in parallel on two
# cores get the same executions each and halve the step.
JOBS=${FUZZ_CI_JOBS:-$(nproc 2>/dev/null || echo 1)}
[ "$JOBS" -ge 1 ] 2>/dev/null || JOBS=1
[ "$JOBS" -le 2 ] || JOBS=2

run_one() {
    T=$1
    EXE="$B/tests/fuzz/$T"
    C="$WORK/corpus-$T"
    A="$WORK/art-$T"
    mkdir -p "$C" "$A"
    if [ -d "$ROOT/tests/fuzz/corpus/$T" ]; then
        cp "$ROOT/tests/fuzz/corpus/$T"/* "$C"/ 2>/dev/null || true
    fi
    DICT=""
    case $T in
        fuzz_xenbus_*) d="$ROOT/tests/fuzz/dict/fuzz_xenbus.dict" ;;
        *) d="$ROOT/tests/fuzz/dict/$T.dict" ;;
    esac
    [ -f "$d" ] && DICT="-dict=$d"
    # shellcheck disable=SC2086
    ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
    UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
    "$EXE" -max_total_time="$SECS" -timeout=10 -rss_limit_mb=2048 -max_len=4096 \
        -print_final_stats=1 -artifact_prefix="$A/" $DICT "$C" >"$WORK/$T.log" 2>&1
    echo $? >"$WORK/$T.rc"
}

report_one() {
    T=$1
    EXE="$B/tests/fuzz/$T"
    A="$WORK/art-$T"
    rc=$(cat "$WORK/$T.rc" 2>/dev/null || echo 99)
    execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$WORK/$T.log" | tail -1)
    cov=$(grep -o 'cov: [0-9]*' "$WORK/$T.log" | tail -1 | sed 's/cov: //')
    if [ "$rc" -eq 0 ]; then
        pass=$((pass + 1))
        echo "fuzz-ci: $T: passed (${execs:-?} executions in ${SECS}s, coverage ${cov:-?})"
    else
        fail=$((fail + 1))
        what=$(grep -m1 -E "invariant broken|ERROR: (AddressSanitizer|LeakSanitizer|libFuzzer)|runtime error" "$WORK/$T.log" || echo "exit $rc")
        echo "fuzz-ci: $T: FAILED: $what"
        grep -A12 -E "invariant broken|ERROR: (AddressSanitizer|LeakSanitizer)|runtime error" "$WORK/$T.log" | head -25 | sed 's/^/    /'
        for f in "$A"/*; do
            [ -f "$f" ] || continue
            mkdir -p "$ROOT/build/fuzz-ci-artifacts"
            cp "$f" "$ROOT/build/fuzz-ci-artifacts/$T-$(basename "$f")"
            echo "    reproducer: build/fuzz-ci-artifacts/$T-$(basename "$f")" \
                 "(run: $EXE FILE)"
        done
    fi
}

pass=0
fail=0
batch=""
n=0
for T in $targets; do
    [ -x "$B/tests/fuzz/$T" ] || continue
    run_one "$T" &
    batch="$batch $T"
    n=$((n + 1))
    if [ $n -ge "$JOBS" ]; then
        wait
        for t in $batch; do report_one "$t"; done
        batch=""
        n=0
    fi
done
wait
for t in $batch; do report_one "$t"; done
echo "$pass passed, $fail failed"
[ $fail -eq 0 ]
