#!/bin/sh
# Coverage of the library code: scripts/coverage.sh
#
# Builds everything with clang's source-based coverage in build/coverage
# (override: XF_COV_BUILD=DIR), runs the libraries' unit tests (every suite
# but hostpeers, guest and link-check) and replays the fuzz corpora through
# the fuzz targets (tests/fuzz/corpus/TARGET, plus build/fuzz-corpus/TARGET
# when long runs of scripts/fuzz.sh left one), then reports line and branch
# coverage per library with llvm-cov: a table on stdout, per-file figures in
# build/coverage/coverage-files.txt, an HTML report in build/coverage/html/.
# Library code: common/src, libevtchn/src, libgnttab/src, libxenbus/src (and
# host/), console/src, frontdev/src, netfront/src, blkfront/src, and the
# inline code of the libraries' public headers.
# Needs clang and llvm (llvm-profdata, llvm-cov; scripts/deps.sh has both).
set -eu
cd "$(dirname "$0")/.."
ROOT=$(pwd)
B=${XF_COV_BUILD:-$ROOT/build/coverage}
PROFILE="-fprofile-instr-generate -fcoverage-mapping"

for tool in llvm-profdata llvm-cov clang; do
    command -v $tool >/dev/null || { echo "coverage.sh: $tool not found (apt-get install llvm clang)" >&2; exit 1; }
done

if [ ! -f "$B/build.ninja" ]; then
    CC=clang meson setup "$B" --buildtype=debug -Dc_args="$PROFILE" -Dc_link_args="$PROFILE" \
        >"$ROOT/build/coverage-setup.log" 2>&1 || {
        echo "coverage.sh: meson setup failed (build/coverage-setup.log)" >&2
        exit 1
    }
fi
echo "coverage.sh: building in $B"
meson compile -C "$B" >"$B/compile.log" 2>&1 || {
    echo "coverage.sh: build failed:" >&2
    tail -20 "$B/compile.log" >&2
    exit 1
}
rm -rf "$B/prof"
mkdir -p "$B/prof"
export TMPDIR="$B/tmp"
mkdir -p "$TMPDIR"

echo "coverage.sh: unit tests"
LLVM_PROFILE_FILE="$B/prof/unit-%p-%m.profraw" XF_COVERAGE=1 \
    meson test -C "$B" --no-suite hostpeers --no-suite guest --no-suite link-check \
    --no-suite fuzz --num-processes 1 >"$B/test.log" 2>&1 || \
    echo "coverage.sh: some unit tests failed (see $B/test.log); counting what ran"
tail -8 "$B/test.log" | grep -E "^(Ok|Fail|Skipped|Timeout|Expected)" || true

echo "coverage.sh: fuzz corpora"
for exe in "$B"/tests/fuzz/fuzz_*; do
    [ -x "$exe" ] || continue
    T=$(basename "$exe")
    dirs=""
    for d in "$ROOT/tests/fuzz/corpus/$T" "$ROOT/build/fuzz-corpus/$T"; do
        [ -d "$d" ] && dirs="$dirs $d"
    done
    [ -n "$dirs" ] || continue
    n=$(for d in $dirs; do find "$d" -type f; done | xargs cat 2>/dev/null | wc -c)
    # shellcheck disable=SC2086
    LLVM_PROFILE_FILE="$B/prof/fuzz-$T-%p.profraw" ASAN_OPTIONS=detect_leaks=0 \
        "$exe" -runs=0 $dirs >"$B/replay-$T.log" 2>&1 || \
        echo "coverage.sh: $T: replay failed (see $B/replay-$T.log)"
    echo "  $T: $(sed -n 's/^Done \([0-9]*\) runs.*/\1 inputs/p' "$B/replay-$T.log" | tail -1) ($n bytes)"
done

llvm-profdata merge -sparse "$B"/prof/*.profraw -o "$B/coverage.profdata"
objs=""
for f in $(find "$B" -type f -perm -u+x ! -name '*.so' ! -name '*.py' ! -name '*.sh' 2>/dev/null); do
    if head -c 4 "$f" | grep -q 'ELF' && llvm-cov report -instr-profile="$B/coverage.profdata" "$f" >/dev/null 2>&1; then
        objs="$objs -object=$f"
    fi
done
# Not library code: tests, system headers, the scripts' fixtures (paths are
# as compiled, e.g. build/coverage/../../libxenbus/src/core.c).
IGN='(/tests/|^/usr/|/scripts/|/cross/)'
# shellcheck disable=SC2086
llvm-cov export -summary-only -instr-profile="$B/coverage.profdata" $objs \
    -ignore-filename-regex="$IGN" >"$B/coverage.json" 2>"$B/llvm-cov.log"
# shellcheck disable=SC2086
llvm-cov report -instr-profile="$B/coverage.profdata" $objs -ignore-filename-regex="$IGN" \
    >"$B/coverage-files.txt" 2>>"$B/llvm-cov.log" || true
# shellcheck disable=SC2086
llvm-cov show -format=html -output-dir="$B/html" -show-branches=count \
    -instr-profile="$B/coverage.profdata" $objs -ignore-filename-regex="$IGN" \
    >/dev/null 2>>"$B/llvm-cov.log" || true

python3 - "$ROOT" "$B/coverage.json" <<'PY'
import json, os, sys
root, path = sys.argv[1], sys.argv[2]
libs = [("common", ["common/src", "common/include"]), ("libevtchn", ["libevtchn/src", "libevtchn/include"]),
        ("libgnttab", ["libgnttab/src", "libgnttab/include"]),
        ("libxenbus", ["libxenbus/src", "libxenbus/host", "libxenbus/include"]),
        ("console", ["console/src", "console/include"]), ("frontdev", ["frontdev/src", "frontdev/include"]),
        ("netfront", ["netfront/src", "netfront/include"]), ("blkfront", ["blkfront/src", "blkfront/include"])]
agg = {}
for d in json.load(open(path))["data"]:
    for f in d["files"]:
        rel = os.path.relpath(os.path.normpath(f["filename"]), root)
        for name, prefixes in libs:
            if any(rel.startswith(p + "/") for p in prefixes):
                a = agg.setdefault(name, [0, 0, 0, 0, []])
                s = f["summary"]
                a[0] += s["lines"]["count"]; a[1] += s["lines"]["covered"]
                a[2] += s["branches"]["count"]; a[3] += s["branches"]["covered"]
                a[4].append((rel, s["lines"]["count"] - s["lines"]["covered"]))
print("%-10s %14s %8s %16s %8s" % ("library", "lines", "", "branches", ""))
tl = [0, 0, 0, 0]
for name, _ in libs:
    if name not in agg:
        continue
    a = agg[name]
    tl = [tl[i] + a[i] for i in range(4)]
    pl = 100.0 * a[1] / a[0] if a[0] else 100.0
    pb = 100.0 * a[3] / a[2] if a[2] else 100.0
    print("%-10s %6d/%-7d %6.1f %% %7d/%-7d %6.1f %%" % (name, a[1], a[0], pl, a[3], a[2], pb))
if tl[0]:
    print("%-10s %6d/%-7d %6.1f %% %7d/%-7d %6.1f %%" % ("all", tl[1], tl[0], 100.0 * tl[1] / tl[0],
          tl[3], tl[2], 100.0 * tl[3] / max(tl[2], 1)))
PY
echo "coverage.sh: per file: $B/coverage-files.txt; HTML: $B/html/index.html"
