#!/bin/sh
# Run every test of xenfront, as CI does. Installs what it needs first.
#
#  1. host flavour, gcc, ASan + UBSan (-fno-sanitize-recover=all): whole suite
#  2. host flavour, clang, warnings as errors: whole suite
#  3. host flavour under valgrind (memcheck, leaks): whole suite
#  3b. plain: `meson setup DIR && meson test -C DIR`, no options (gcc with its
#     default PIE), what a user types first: whole suite
#  4. freestanding flavours (x86_64 gcc and clang, aarch64 clang), warnings as
#     errors, and the pick-and-link check of every archive
#  5. install + pkg-config consumer, and meson-subproject consumer
#  5b. fuzz: every libFuzzer target (tests/fuzz) for ~25 s from its corpus
#  6. the benchmarks build (they are programs run by hand; see README)
#  7. in-guest: the PVH test kernel under Debian's Xen 4.17 in QEMU (tests/guest/run.sh)
#
# Build directories go under build/test (override with XF_BUILD=DIR).
set -eu
cd "$(dirname "$0")/.."
ROOT=$(pwd)
sh scripts/deps.sh
# The unmodified dom0 programs of the 'hostpeers' suite (xenstored,
# xenconsoled, QEMU), extracted from Debian's packages, not installed.
sh scripts/fetch-dom0.sh

B=${XF_BUILD:-$ROOT/build/test}
rm -rf "$B"
mkdir -p "$B/tmp"
# The simulator's state directories (and any a failed test leaves behind)
# stay inside the build tree.
export TMPDIR="$B/tmp"
dirs=""
T0=$(date +%s)
# Each header says how long the run has taken so far (CI's budget is 20 min).
section() { printf '\n===== %s (at %ss) =====\n' "$*" "$(($(date +%s) - T0))"; }

section "host gcc, ASan + UBSan"
meson setup "$B/asan" --werror -Db_sanitize=address,undefined \
    -Dc_args=-fno-sanitize-recover=all -Db_lundef=false >"$B/asan.setup.log"
meson test -C "$B/asan" --print-errorlogs || true
dirs="$dirs $B/asan"

section "host clang, -Werror"
CC=clang meson setup "$B/clang" --werror >"$B/clang.setup.log"
meson test -C "$B/clang" --print-errorlogs || true
dirs="$dirs $B/clang"

section "host gcc under valgrind"
meson setup "$B/valgrind" --werror >"$B/valgrind.setup.log"
# Valgrind runs threads one at a time: the long concurrency runs use fewer
# iterations here (they run in full in the two builds above), and libcheck's
# per-case timeouts stretch by the same factor as meson's.
XF_RING_TEST_ITERS=20000 XF_VALGRIND=1 CK_TIMEOUT_MULTIPLIER=4 meson test -C "$B/valgrind" --print-errorlogs --no-suite link-check \
    --timeout-multiplier 4 \
    --wrap='valgrind -q --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite,indirect' || true
dirs="$dirs $B/valgrind"

section "plain: meson setup DIR && meson test -C DIR, no options"
# Exactly that command: no option, no wrapper, and no compiler or flags
# from the caller's environment (gcc, as on a fresh machine). The hostpeers
# tests' own fetch step, which a fresh checkout relies on, finds build/dom0
# ready here.
env -u CC -u CFLAGS -u CPPFLAGS -u LDFLAGS meson setup "$B/plain" >"$B/plain.setup.log"
meson test -C "$B/plain" || true
dirs="$dirs $B/plain"

for x in x86_64-freestanding-gcc x86_64-freestanding-clang aarch64-freestanding-clang; do
    section "freestanding $x"
    meson setup "$B/$x" --cross-file "cross/$x.ini" >"$B/$x.setup.log"
    meson test -C "$B/$x" --print-errorlogs || true
    dirs="$dirs $B/$x"
done

section "pick and link: pkg-config after install, and meson subproject"
consumer_ok=1
meson setup "$B/install" --prefix="$B/prefix" -Dtests=disabled >"$B/install.setup.log" &&
    meson install -C "$B/install" >"$B/install.log" || consumer_ok=0
pcdir=$(dirname "$(find "$B/prefix" -name xfcommon.pc | head -n 1)")
if [ "$consumer_ok" = 1 ] &&
    cc -std=c11 -Wall -Wextra -Werror -o "$B/consumer-pc" scripts/consumer/consumer.c \
        $(PKG_CONFIG_PATH="$pcdir" pkg-config --static --cflags --libs xfconsole xfxenbus xfgnttab xfevtchn xfcommon) &&
    "$B/consumer-pc"; then
    echo "pkg-config consumer: ok"
else
    echo "pkg-config consumer: FAILED"; consumer_ok=0
fi
# Installed files must work once the build tree is gone (hosted and
# freestanding): install, delete the build tree, build consumers.
sh scripts/install-consumer-test.sh "$B/install-consumer" || consumer_ok=0
mkdir -p "$B/subproject/subprojects"
cp scripts/consumer/meson.build scripts/consumer/consumer.c "$B/subproject/"
ln -s "$ROOT" "$B/subproject/subprojects/xenfront"
if meson setup "$B/subproject/build" "$B/subproject" >"$B/subproject.setup.log" &&
    meson compile -C "$B/subproject/build" >"$B/subproject.build.log" &&
    "$B/subproject/build/consumer"; then
    echo "subproject consumer: ok"
else
    echo "subproject consumer: FAILED"; consumer_ok=0
fi

section "fuzz: every libFuzzer target for a bounded time from its corpus"
# Built by the clang build above (tests/fuzz: clang with libFuzzer, from
# libclang-rt-14-dev). Fails on any crash, invariant violation, leak or
# timeout, and if no target was built at all.
fuzz_ok=1
sh scripts/fuzz-ci.sh "$B/clang" >"$B/fuzz-ci.log" 2>&1 || fuzz_ok=0
cat "$B/fuzz-ci.log"
fuzz_passed=$(sed -n 's/^\([0-9]*\) passed, \([0-9]*\) failed$/\1/p' "$B/fuzz-ci.log" | tail -1)
fuzz_failed=$(sed -n 's/^\([0-9]*\) passed, \([0-9]*\) failed$/\2/p' "$B/fuzz-ci.log" | tail -1)
[ "${fuzz_passed:-0}" -ge 6 ] && [ "${fuzz_failed:-1}" = 0 ] ||
    { echo "fuzz: a target failed, or fewer ran than exist"; fuzz_ok=0; }

section "benchmarks build"
bench_ok=1
meson setup "$B/release" --buildtype=release >"$B/release.setup.log" &&
    meson compile -C "$B/release" >"$B/release.build.log" || bench_ok=0
[ "$bench_ok" = 1 ] && echo "benchmarks: built" || echo "benchmarks: build FAILED"

section "in-guest: PVH test kernel under Xen 4.17 in QEMU"
guest_ok=1
XF_GUEST_WORK="$B/guest" sh tests/guest/run.sh || guest_ok=0

section "summary"
status=0
python3 scripts/summarize.py $dirs || status=1
[ "$consumer_ok" = 1 ] || { echo "consumer checks failed"; status=1; }
[ "$bench_ok" = 1 ] || { echo "benchmark build failed"; status=1; }
[ "$guest_ok" = 1 ] || { echo "in-guest tests failed"; status=1; }
[ "$fuzz_ok" = 1 ] || { echo "fuzz step failed"; status=1; }
exit $status
