#!/bin/sh
# Run one libFuzzer target for a long time: scripts/fuzz.sh TARGET SECONDS
#
# TARGET is one of tests/fuzz/meson.build's targets (fuzz_ring,
# fuzz_xenbus_stream, fuzz_xenbus_ring, fuzz_xenbus_dev, fuzz_console,
# fuzz_gnttab, fuzz_evtchn, fuzz_netfront, fuzz_blkfront;
# `scripts/fuzz.sh list` lists what the build has). Builds them
# with clang in build/fuzz (override: XF_FUZZ_BUILD=DIR), starts from the
# seed corpus tests/fuzz/corpus/TARGET plus what earlier runs found
# (build/fuzz-corpus/TARGET, kept between runs), uses the target's
# dictionary, and writes any crash, leak or timeout to
# build/fuzz-artifacts/TARGET/. One process: the machine's cores are shared.
# Extra libFuzzer options may follow (e.g. -max_len=8192).
# Exit status: 0 if the run ended without a finding, 1 otherwise.
set -eu
cd "$(dirname "$0")/.."
ROOT=$(pwd)
B=${XF_FUZZ_BUILD:-$ROOT/build/fuzz}

if [ ! -f "$B/build.ninja" ]; then
    CC=clang meson setup "$B" >"$ROOT/build/fuzz-setup.log" 2>&1 || {
        echo "fuzz.sh: meson setup failed (see build/fuzz-setup.log)" >&2
        exit 1
    }
fi

if [ "${1:-}" = list ]; then
    ninja -C "$B" -t targets all 2>/dev/null | sed -n 's|^tests/fuzz/\(fuzz_[a-z_]*\): .*|\1|p' | sort -u
    exit 0
fi
if [ $# -lt 2 ]; then
    echo "usage: scripts/fuzz.sh TARGET SECONDS [libFuzzer options...]" >&2
    echo "       scripts/fuzz.sh list" >&2
    exit 2
fi
T=$1
SECS=$2
shift 2

ninja -C "$B" "tests/fuzz/$T" >/dev/null || {
    echo "fuzz.sh: cannot build $T (is the compiler clang with libFuzzer?)" >&2
    exit 1
}
EXE="$B/tests/fuzz/$T"
CORPUS="$ROOT/build/fuzz-corpus/$T"
ART="$ROOT/build/fuzz-artifacts/$T"
mkdir -p "$CORPUS" "$ART"
SEEDS="$ROOT/tests/fuzz/corpus/$T"
[ -d "$SEEDS" ] || SEEDS=""
DICT=""
case $T in
    fuzz_xenbus_*) d="$ROOT/tests/fuzz/dict/fuzz_xenbus.dict" ;;
    *) d="$ROOT/tests/fuzz/dict/$T.dict" ;;
esac
[ -f "$d" ] && DICT="-dict=$d"

LOG="$ART/run-$(date +%Y%m%d-%H%M%S).log"
echo "fuzz.sh: $T for ${SECS}s, corpus $CORPUS${SEEDS:+ + $SEEDS}, log $LOG"
set +e
# shellcheck disable=SC2086
ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1} \
UBSAN_OPTIONS=${UBSAN_OPTIONS:-halt_on_error=1:print_stacktrace=1} \
"$EXE" -max_total_time="$SECS" -timeout=30 -rss_limit_mb=2048 -print_final_stats=1 \
    -artifact_prefix="$ART/" $DICT "$@" "$CORPUS" $SEEDS >"$LOG" 2>&1
rc=$?
set -e
execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$LOG" | tail -1)
# -fork=N runs print no final stats: take the last progress line's count.
[ -n "$execs" ] || execs=$(sed -n 's/^#\([0-9]*\): cov:.*/\1/p' "$LOG" | tail -1)
cov=$(grep -o 'cov: [0-9]*' "$LOG" | tail -1 | sed 's/cov: //')
ft=$(grep -o 'ft: [0-9]*' "$LOG" | tail -1 | sed 's/ft: //')
echo "fuzz.sh: $T: ${execs:-?} executions in ${SECS}s, coverage ${cov:-?} edges, ${ft:-?} features, corpus $(ls "$CORPUS" | wc -l) inputs"
if [ $rc -ne 0 ]; then
    echo "fuzz.sh: $T: FINDING (exit $rc):" >&2
    grep -E "invariant broken|ERROR: (AddressSanitizer|LeakSanitizer|libFuzzer)|runtime error|SUMMARY" "$LOG" | head -5 >&2
    ls -1 "$ART"/crash-* "$ART"/leak-* "$ART"/timeout-* "$ART"/oom-* 2>/dev/null | tail -3 >&2
    exit 1
fi
exit 0
