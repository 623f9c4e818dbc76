#!/bin/sh
# The in-guest benchmark: xenfront's blkfront and netfront in the PVH test
# kernel against Linux 6.1's own (in a PVH domU running fio and
# tests/guest/dom0/xf-netbench.c), in the same Xen boot, on the same dom0
# disks (a file on tmpfs through loop0, null_blk) and a vif each, timed the
# same way by dom0 (tests/guest/dom0/xf-bench-mon.c reads blkback's and
# netback's counters). RUNS (default 5) interleaved runs, each with the
# test kernel, Linux at its blkfront defaults and Linux at its best.
#
#   sh scripts/deps.sh && sh scripts/bench-guest.sh [RUNS]
#
# Prints the table (scripts/bench-table.py): medians and ranges, and per-run
# ratios. A program, not a test: it is not part of the test command. Takes
# about 4.5 minutes per run under QEMU (TCG) on 2 cores; do not run it beside
# another QEMU boot or the test suite. Needs what tests/guest/run.sh needs,
# plus a static fio (tests/guest/fetch-fio.sh builds one into the cache).
set -eu
cd "$(dirname "$0")/.."
RUNS=${1:-5}
case $RUNS in *[!0-9]*|0|"") echo "usage: scripts/bench-guest.sh [RUNS]" >&2; exit 2 ;; esac
CACHE=${XF_GUEST_CACHE:-build/guest-cache}
WORK=${XF_GUEST_WORK:-build/guest}
FIO=$(sh tests/guest/fetch-fio.sh "$CACHE" | tail -n 1)
[ -x "$FIO" ] || { echo "bench-guest: no fio ($FIO)" >&2; exit 1; }
XF_GUEST_BENCH=$RUNS XF_GUEST_FIO=$FIO XF_GUEST_WORK=$WORK XF_GUEST_CACHE=$CACHE \
    XF_GUEST_TIMEOUT=${XF_GUEST_TIMEOUT:-$((RUNS * 420 + 120))} sh tests/guest/run.sh
python3 scripts/bench-table.py "$WORK/bench-last.txt"
