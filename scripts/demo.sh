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
# The same kernel-facing libraries inside a real Xen, when an earlier test
# run left the Debian packages in the cache (the test command fetches them).
CACHE=${XF_GUEST_CACHE:-build/guest-cache}
if [ -f "$CACHE/root/boot/xen-4.17-amd64.gz" ]; then
    echo
    echo "Inside a real Xen (4.17 under QEMU, Linux 6.1 dom0): the test kernel's disk and network I/O"
    echo "against Linux's own blkback and netback (about a minute):"
    if sh tests/guest/run.sh >"${TMPDIR:-/tmp}/xf-demo-guest.$$" 2>&1; then
        grep -E "^(# blk xvda|# blk xvda:|# net vif0|# net:|ok [0-9]+ - (blk|net): )" \
            "${TMPDIR:-/tmp}/xf-demo-guest.$$" | head -n 14
        grep "^guest: all" "${TMPDIR:-/tmp}/xf-demo-guest.$$"
    else
        tail -n 20 "${TMPDIR:-/tmp}/xf-demo-guest.$$"
    fi
    rm -f "${TMPDIR:-/tmp}/xf-demo-guest.$$"
    W=${XF_GUEST_WORK:-build/guest}
    if [ -f "$W/bench-last.txt" ]; then
        echo
        echo "Its last benchmark against Linux's blkfront, same boot, timed by dom0 (scripts/bench-guest.sh):"
        python3 scripts/bench-table.py "$W/bench-last.txt" | grep -v "dom0 CPU"
    else
        echo "(sh scripts/bench-guest.sh 5 measures it against Linux's own blkfront, same boot.)"
    fi
fi
