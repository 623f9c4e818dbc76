#!/bin/sh
# The xenfront demonstration: installs what it needs, builds, runs.
set -eu
cd "$(dirname "$0")/.."
sh scripts/deps.sh
sh scripts/fetch-dom0.sh   # xenstored, xenconsoled, QEMU: extracted, not installed
B=${XF_BUILD:-build/demo}
[ -f "$B/build.ninja" ] || meson setup "$B" --buildtype=release >/dev/null
meson compile -C "$B" tests/demo/xf-demo common/tests/bench_ring \
    tests/hostpeers/xf-demo-hostpeers tests/hostpeers/xf-demo-dataplane tests/shim/xfshim \
    >/dev/null
"$B/tests/demo/xf-demo"
echo
echo "The ring layer against Xen's own io/ring.h macros, same run (benchmark):"
"$B/common/tests/bench_ring"
echo
echo "The front ends against real back ends: Debian's own xenstored and xenconsoled on this host:"
"$B/tests/hostpeers/xf-demo-hostpeers"
echo
echo "The data plane: blkfront on QEMU 7.2's block back end, netfront on QEMU 10's net back end:"
"$B/tests/hostpeers/xf-demo-dataplane"
