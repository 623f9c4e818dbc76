#!/bin/sh
# The xenfront demonstration: installs what it needs, builds, runs.
set -eu
cd "$(dirname "$0")/.."
sh scripts/deps.sh
B=${XF_BUILD:-build/demo}
[ -f "$B/build.ninja" ] || meson setup "$B" --buildtype=release >/dev/null
meson compile -C "$B" tests/demo/xf-demo common/tests/bench_ring >/dev/null
"$B/tests/demo/xf-demo"
echo
echo "The ring layer against Xen's own io/ring.h macros, same run (benchmark):"
"$B/common/tests/bench_ring"
