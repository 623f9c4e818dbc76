#!/bin/sh
# The bounded fuzzing step of CI: scripts/fuzz-ci.sh BUILDDIR
#
# Runs every libFuzzer target BUILDDIR has (tests/fuzz/fuzz_*, built by
# meson when the compiler is clang with libFuzzer) for FUZZ_CI_SECONDS
# (default 22) each, one after another, from a scratch copy of its seed
# corpus (tests/fuzz/corpus/TARGET) with its dictionary, and fails on any
# crash, invariant violation, leak or timeout (a single input running over
# 10 s). Prints a line per target and a final "N passed, N failed". The
# whole step takes 9 targets x 22 s, about 3.5 minutes with the build, on
# one core (the 5-minute budget of issue 13).
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

pass=0
fail=0
for T in $targets; do
    EXE="$B/tests/fuzz/$T"
    [ -x "$EXE" ] || continue
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
    rc=$?
    execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$WORK/$T.log" | tail -1)
    cov=$(grep -o 'cov: [0-9]*' "$WORK/$T.log" | tail -1 | sed 's/cov: //')
    if [ $rc -eq 0 ]; then
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
done
echo "$pass passed, $fail failed"
[ $fail -eq 0 ]
