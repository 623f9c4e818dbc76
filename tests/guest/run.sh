#!/bin/sh
# In-guest tests (tier 3): boot Debian's Xen 4.17 with a Linux dom0 in QEMU
# (TCG), start the PVH test kernel from dom0 as two guests in turn (taking
# upcalls, then polling), each with its peer (dom0/xf-peer.c), and check
# their TAP. See tests/guest/README.md.
#
#   sh tests/guest/run.sh
#
# Environment:
#   XF_GUEST_WORK     build directory (default build/guest): the freestanding
#                     build of the kernel, the peer, the serial logs
#   XF_GUEST_CACHE    downloaded and unpacked Debian packages (default
#                     build/guest-cache; kept between runs)
#   XF_GUEST_TIMEOUT  seconds QEMU may run (default 240)
#   XF_GUEST_CROSS    the cross file the kernel is built with (default
#                     x86_64-freestanding-gcc; x86_64-freestanding-clang works)
#   XF_GUEST_PARALLEL non-empty: the two guests at once (default: one after
#                     the other; each has its own disks and vif either way).
#                     Not reliable yet: one run saw dom0 programs crash
#                     (ld.so "Inconsistency detected", a segfault, xenstored
#                     gone) with both guests' blk cases running
#   XF_GUEST_XL_LOG   non-empty: print each `xl -vv -T create` log (always
#                     printed when a guest's peer fails)
#   XF_GUEST_CMDLINE  added to the test kernel's command line: xf-fail-one
#                     (each guest fails its first case on purpose, to check
#                     this runner), xf-corrupt (one byte of a blk read-back
#                     and of a net echo flipped, dom0 asked to check a wrong
#                     pattern: the data checks must fail), xf-callback-via
#                     (the domain-wide callback vector instead of the
#                     per-vCPU one), xf-no-eoi (no LAPIC
#                     EOI: shows that the per-vCPU vector needs one)
#   XF_GUEST_BENCH    a number N: benchmark mode instead of the tests (used by
#                     scripts/bench-guest.sh): N interleaved runs of the test
#                     kernel (xf-bench) and of a Linux domU with fio at its
#                     blkfront defaults and at its best, on the same disks,
#                     then (kernel and Linux at its defaults) the network
#                     phases on a vif (dom0/xf-netbench.c the traffic),
#                     timed in dom0 by dom0/xf-bench-mon.c; prints the
#                     XF-BENCH lines (also kept in $XF_GUEST_WORK/bench-last.txt)
#   XF_GUEST_FIO      the static fio the Linux domU runs (bench mode;
#                     tests/guest/fetch-fio.sh builds one)
#
# Nothing is installed on the host: the packages are fetched with
# `apt-get download` and unpacked with `dpkg -x` (fetch-debs.sh). Fails on a
# failed case, a case missing from the plan, a crash or the timeout; the
# serial log is then kept and its path printed.
set -eu
cd "$(dirname "$0")/../.."
ROOT=$(pwd)
WORK=${XF_GUEST_WORK:-$ROOT/build/guest}
CACHE=${XF_GUEST_CACHE:-$ROOT/build/guest-cache}
TIMEOUT=${XF_GUEST_TIMEOUT:-240}
mkdir -p "$WORK" "$CACHE"
WORK=$(cd "$WORK" && pwd)
CACHE=$(cd "$CACHE" && pwd)

T=$(mktemp -d "$WORK/run.XXXXXX")
QPID=""
KEEP=0
cleanup() {
    if [ -n "$QPID" ] && kill -0 "$QPID" 2>/dev/null; then
        kill "$QPID" 2>/dev/null || true
        wait "$QPID" 2>/dev/null || true
    fi
    if [ "$KEEP" = 0 ]; then rm -rf "$T"; fi
}
trap cleanup EXIT
trap 'KEEP=1; exit 130' INT TERM HUP

say() { printf 'guest: %s\n' "$*"; }
fail() {
    KEEP=1
    say "FAILED: $*"
    [ -f "$T/serial.log" ] && say "serial log kept: $T/serial.log"
    exit 1
}
start=$(date +%s)

# 1. Packages.
R=$(sh tests/guest/fetch-debs.sh "$CACHE") || fail "cannot fetch the Debian packages"
KVER=$(ls "$R/lib/modules" | head -n 1)
[ -n "$KVER" ] && [ -f "$R/boot/vmlinuz-$KVER" ] || fail "no kernel in $R"
[ -f "$R/boot/xen-4.17-amd64.gz" ] || fail "no Xen in $R"
say "packages ready ($(($(date +%s) - start)) s): Xen 4.17, Linux $KVER"

# 2. The test kernel, from the freestanding cross build, as a kernel author
#    builds it.
CROSS=${XF_GUEST_CROSS:-x86_64-freestanding-gcc}
FS="$WORK/$CROSS"
if [ ! -f "$FS/build.ninja" ]; then
    meson setup "$FS" --cross-file "cross/$CROSS.ini" >"$WORK/fs.setup.log" 2>&1 ||
        fail "meson setup (see $WORK/fs.setup.log)"
fi
meson compile -C "$FS" >"$WORK/fs.build.log" 2>&1 || fail "kernel build (see $WORK/fs.build.log)"
KERNEL="$FS/tests/guest/kernel/xf-test-kernel"

# 3. The dom0 peer, against the host's libxen-dev (same Debian version as
#    the libraries shipped to dom0).
cc -std=gnu11 -O2 -Wall -Wextra -Werror -o "$T/xf-peer" tests/guest/dom0/xf-peer.c \
    -pthread -lxenstore -lxenevtchn -lxengnttab || fail "peer build"
BENCH=${XF_GUEST_BENCH:-}
if [ -n "$BENCH" ]; then
    case $BENCH in *[!0-9]*|0) fail "XF_GUEST_BENCH must be a number of runs" ;; esac
    [ -x "${XF_GUEST_FIO:-}" ] || fail "bench mode needs XF_GUEST_FIO (tests/guest/fetch-fio.sh)"
    cc -std=gnu11 -O2 -Wall -Wextra -Werror -o "$T/xf-bench-mon" tests/guest/dom0/xf-bench-mon.c \
        -lxenstore || fail "monitor build"
    # The network phases' traffic, in dom0 and in the Linux domU: static,
    # so that it needs no library in either.
    cc -std=gnu11 -O2 -Wall -Wextra -Werror -static -o "$T/xf-netbench" \
        tests/guest/dom0/xf-netbench.c || fail "xf-netbench build"
fi

# 4. dom0's initramfs.
I="$T/initrd"
mkdir -p "$I/bin" "$I/sbin" "$I/lib/x86_64-linux-gnu" "$I/lib64" "$I/lib/modules" \
    "$I/proc" "$I/sys" "$I/dev" "$I/run" "$I/tmp" "$I/var" "$I/etc" "$I/tests" \
    "$I/usr/lib/xen-4.17/bin"
cp "$R/bin/busybox" "$I/bin/busybox"
for a in $("$R/bin/busybox" --list); do
    [ "$a" = busybox ] || ln -s busybox "$I/bin/$a"
done
for b in xl xenstored xenconsoled xen-init-dom0; do
    cp "$R/usr/lib/xen-4.17/bin/$b" "$I/usr/lib/xen-4.17/bin/$b"
done
# xenstore-read/-write for the hotplug scripts: one program, named by argv[0].
cp "$R/usr/bin/xenstore" "$I/bin/xenstore"
for a in read write rm; do ln -s xenstore "$I/bin/xenstore-$a"; done
cp "$T/xf-peer" "$KERNEL" tests/guest/dom0/xf-block tests/guest/dom0/xf-vif "$I/tests/"
chmod +x "$I/tests/xf-block" "$I/tests/xf-vif"
# Shared libraries: the NEEDED closure of every program, from the packages.
LIBDIRS="$R/lib/x86_64-linux-gnu $R/usr/lib/x86_64-linux-gnu $R/usr/lib/xen-4.17/lib/x86_64-linux-gnu"
find_lib() {
    for d in $LIBDIRS; do
        [ -e "$d/$1" ] && { echo "$d/$1"; return 0; }
    done
    return 1
}
# copy_libs ROOT EXTRA PROGRAMS...: their libraries into ROOT (EXTRA: more
# sonames, "" for none).
copy_libs() {
    root=$1
    extra=$2
    shift 2
    todo="$*"
    while [ -n "$todo$extra" ]; do
        next=""
        for so in $extra $(for f in $todo; do readelf -d "$f" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p'; done | sort -u); do
            [ -e "$root/lib/x86_64-linux-gnu/$so" ] && continue
            src=$(find_lib "$so") || fail "library $so not in the packages"
            cp -L "$src" "$root/lib/x86_64-linux-gnu/$so"
            next="$next $root/lib/x86_64-linux-gnu/$so"
        done
        todo=$next
        extra=""
    done
    cp -L "$R/lib64/ld-linux-x86-64.so.2" "$root/lib64/"
}
# libgcc_s: xl's pthread_cancel loads it.
copy_libs "$I" libgcc_s.so.1 $I/usr/lib/xen-4.17/bin/xl $I/usr/lib/xen-4.17/bin/xenstored \
    $I/usr/lib/xen-4.17/bin/xenconsoled $I/usr/lib/xen-4.17/bin/xen-init-dom0 $I/tests/xf-peer \
    $I/bin/xenstore
for m in xen-evtchn xen-gntdev xen-gntalloc xen-privcmd xenfs/xenfs; do
    cp "$R/lib/modules/$KVER/kernel/drivers/xen/$m.ko" "$I/lib/modules/"
done
# The back ends and the disks behind them (none of these depends on another
# module: see depends= in each .modinfo).
for m in block/xen-blkback/xen-blkback block/loop block/brd net/xen-netback/xen-netback; do
    cp "$R/lib/modules/$KVER/kernel/drivers/$m.ko" "$I/lib/modules/" ||
        fail "module $m not in the kernel package"
done
mkdir -p "$I/etc/xen"
: >"$I/etc/xen/xl.conf"
# Two guests, one after the other (XF_GUEST_PARALLEL: at once): the kernel
# taking upcalls, and the same kernel polling (command line xf-poll). Each
# has its own disks (loopN, ramN) and vif.
n=0
for g in "xf-guest:" "xf-guest-poll:xf-poll"; do
    name=${g%%:*}
    cat >"$I/tests/$name.cfg" <<EOF
name = "$name"
type = "pvh"
kernel = "/tests/xf-test-kernel"
cmdline = "${g#*:} ${XF_GUEST_CMDLINE:-}"
memory = 128
vcpus = 1
tsc_mode = "native"
# Two disks for blkfront (a file on dom0's tmpfs through loop0, and brd's
# ram0), a vif for netfront; minimal hotplug scripts (dom0/xf-block, xf-vif).
disk = [ "format=raw,vdev=xvda,access=rw,backendtype=phy,script=/tests/xf-block,target=/dev/loop$n",
         "format=raw,vdev=xvdb,access=rw,backendtype=phy,script=/tests/xf-block,target=/dev/ram$n" ]
vif = [ "mac=00:16:3e:58:46:0$((n + 1)),script=/tests/xf-vif" ]
on_poweroff = "destroy"
on_crash = "destroy"
on_reboot = "destroy"
EOF
    n=$((n + 1))
done
GUESTS="xf-guest xf-guest-poll"
if [ -n "$BENCH" ]; then
    # Benchmark mode: the test kernel (xf-bench) and a Linux domU (the dom0
    # kernel, as PVH) with fio, at blkfront's defaults and at its best, on
    # the same two disks: a 128 MiB file on dom0's tmpfs through loop0, and
    # null_blk (no data, no delay: the front end and blkback alone); and a
    # vif (no bridge: dom0's monitor sends and counts on vifDOMID.0).
    cp "$T/xf-bench-mon" "$T/xf-netbench" "$I/tests/"
    for m in fs/configfs/configfs drivers/block/null_blk/null_blk; do
        cp "$R/lib/modules/$KVER/kernel/$m.ko" "$I/lib/modules/" ||
            fail "module $m not in the kernel package"
    done
    D="$T/domu"
    mkdir -p "$D/bin" "$D/lib/x86_64-linux-gnu" "$D/lib64" "$D/lib/modules" "$D/proc" "$D/sys" \
        "$D/dev" "$D/tmp" "$D/run" "$D/var/run"
    cp "$R/bin/busybox" "$D/bin/busybox"
    for a in $("$R/bin/busybox" --list); do
        [ "$a" = busybox ] || ln -s busybox "$D/bin/$a"
    done
    cp "$XF_GUEST_FIO" "$D/bin/fio"
    cp "$T/xf-netbench" "$D/bin/xf-netbench"
    cp "$R/usr/bin/xenstore" "$D/bin/xenstore"
    ln -s xenstore "$D/bin/xenstore-write"
    copy_libs "$D" "" "$D/bin/xenstore"
    cp "$R/lib/modules/$KVER/kernel/drivers/block/xen-blkfront.ko" \
        "$R/lib/modules/$KVER/kernel/drivers/net/xen-netfront.ko" "$D/lib/modules/"
    cp tests/guest/domu-bench-init "$D/init"
    chmod +x "$D/init"
    (cd "$D" && find . | "$R/bin/busybox" cpio -o -H newc 2>/dev/null | gzip -1 >"$I/tests/domu.cpio.gz") ||
        fail "domU initramfs"
    cp "$R/boot/vmlinuz-$KVER" "$I/tests/vmlinuz"
    # Linux at its best preallocates its persistent grants' pages: a
    # 16-page ring of 512 requests x (256 + 2) pages is 516 MiB per disk
    # queue, 1 GiB for the two disks: that domU gets 1792 MiB (QEMU: 4 GiB).
    QEMU_MEM=4096M
    # One dom0 vCPU (XF_BENCH_DOM0_VCPUS to change): with two, dom0's and the
    # guest's three vCPUs share QEMU's two CPUs, and what is measured is
    # largely who waits for a CPU.
    DOM0_VCPUS=${XF_BENCH_DOM0_VCPUS:-1}
    # mitigations=off: under TCG every CR3 write flushes QEMU's whole soft
    # TLB, so KPTI's two per system call and interrupt would dominate what
    # is measured here (the drivers), as it would not on hardware. The test
    # kernel has no such switches. XF_BENCH_LINUX_MITIGATIONS=1 keeps them.
    LINUX_CMDLINE="console=hvc0 rdinit=/init loglevel=4"
    [ -n "${XF_BENCH_LINUX_MITIGATIONS:-}" ] || LINUX_CMDLINE="$LINUX_CMDLINE mitigations=off"
    disks='disk = [ "format=raw,vdev=xvda,access=rw,backendtype=phy,script=/tests/xf-block,target=/dev/loop0",
         "format=raw,vdev=xvdb,access=rw,backendtype=phy,script=/tests/xf-block,target=/dev/nullb0" ]'
    k=0
    for g in "xf-bench:/tests/xf-test-kernel::xf-bench:128" \
             "linux-default:/tests/vmlinuz:/tests/domu.cpio.gz:$LINUX_CMDLINE:256" \
             "linux-best:/tests/vmlinuz:/tests/domu.cpio.gz:$LINUX_CMDLINE xfbest:1792"; do
        IFS=: read -r name kernel ramdisk cmdline mem <<EOF
$g
EOF
        {
            printf 'name = "%s"\ntype = "pvh"\nkernel = "%s"\n' "$name" "$kernel"
            [ -z "$ramdisk" ] || printf 'ramdisk = "%s"\n' "$ramdisk"
            printf 'cmdline = "%s"\nmemory = %s\nvcpus = 1\ntsc_mode = "native"\n' "$cmdline" "$mem"
            printf '%s\non_poweroff = "destroy"\non_crash = "destroy"\n' "$disks"
            printf 'vif = [ "mac=00:16:3e:58:46:1%s,script=/tests/xf-vif" ]\n' "$k"
        } >"$I/tests/$name.cfg"
        k=$((k + 1))
    done
    GUESTS="xf-bench linux-default linux-best"
fi
printf 'XL_LOG=%s\nPARALLEL=%s\nBENCH=%s\n' "${XF_GUEST_XL_LOG:+1}" "${XF_GUEST_PARALLEL:+1}" \
    "$BENCH" >"$I/tests/options"
cat >"$I/init" <<'EOF'
#!/bin/sh
export PATH=/bin:/sbin:/usr/lib/xen-4.17/bin
. /tests/options
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev
mkdir -p /dev/pts
mount -t devpts devpts /dev/pts
for d in /run /tmp /var; do mount -t tmpfs tmpfs $d; done
ln -sf /proc/self/fd /dev/fd
ln -sf /proc/self/fd/0 /dev/stdin
ln -sf /proc/self/fd/1 /dev/stdout
ln -sf /proc/self/fd/2 /dev/stderr
for m in xen-evtchn xen-gntdev xen-gntalloc xen-privcmd xenfs loop; do
    insmod /lib/modules/$m.ko || echo "XF-DOM0: insmod $m failed"
done
# blkback: the largest ring it can offer (order 4) and a queue per dom0
# vCPU; netback: a queue per vCPU too.
insmod /lib/modules/xen-blkback.ko max_ring_page_order=4 max_queues=2 ||
    echo "XF-DOM0: insmod xen-blkback failed"
insmod /lib/modules/xen-netback.ko max_queues=2 || echo "XF-DOM0: insmod xen-netback failed"
if [ -n "$BENCH" ]; then
    # The benchmark's disks: 128 MiB on tmpfs, written once so that reads
    # find pages (not holes), through loop0; null_blk, 1 GiB, completing
    # at once.
    dd if=/dev/zero of=/tmp/xf-bench.img bs=1M count=128 2>/dev/null &&
        losetup /dev/loop0 /tmp/xf-bench.img || echo "XF-DOM0: loop0 setup failed"
    insmod /lib/modules/configfs.ko || echo "XF-DOM0: insmod configfs failed"
    insmod /lib/modules/null_blk.ko nr_devices=1 gb=1 irqmode=0 ||
        echo "XF-DOM0: insmod null_blk failed"
    echo "XF-DOM0: vcpus $(grep -c ^processor /proc/cpuinfo), disks $(cat /sys/block/loop0/size) $(cat /sys/block/nullb0/size) sectors"
else
    # Each guest's disks: a 64 MiB file on tmpfs through loopN, a 16 MiB brd ramN.
    insmod /lib/modules/brd.ko rd_nr=2 rd_size=16384 || echo "XF-DOM0: insmod brd failed"
    for n in 0 1; do
        truncate -s 64M /tmp/xf-disk$n.img && losetup /dev/loop$n /tmp/xf-disk$n.img ||
            echo "XF-DOM0: loop$n setup failed"
    done
    echo "XF-DOM0: vcpus $(grep -c ^processor /proc/cpuinfo), disks $(cat /sys/block/loop0/size) $(cat /sys/block/ram0/size) sectors"
fi
mkdir -p /proc/xen
mount -t xenfs xenfs /proc/xen
mkdir -p /var/run/xen /var/run/xenstored /var/lib/xen /var/lib/xenstored /var/log/xen/console
echo "XF-DOM0: up"
xenstored --pid-file=/var/run/xenstored.pid || echo "XF-DOM0: xenstored failed"
xen-init-dom0 || echo "XF-DOM0: xen-init-dom0 failed"
xenconsoled --log=guest --log-dir=/var/log/xen/console --pid-file=/var/run/xenconsoled.pid ||
    echo "XF-DOM0: xenconsoled failed"
echo "XF-DOM0: tools up (dom0 uptime $(cut -d' ' -f1 /proc/uptime) s)"
up() { cut -d' ' -f1 /proc/uptime; }
# start_guest NAME N: create it paused, start its peer, unpause it.
start_guest() {
    name=$1
    t0=$(up)
    # xl's log (-T: with times), printed if the guest fails.
    if ! xl -vv -T create -p /tests/$name.cfg >/tmp/xl-$name.log 2>&1; then
        cat /tmp/xl-$name.log
        echo "XF-DOM0: xl create $name failed"
        return
    fi
    domid=$(xl domid $name)
    echo "XF-DOM0: guest $name is domain $domid (dom0 uptime $(up) s, xl create from $t0)"
    /tests/xf-peer "$domid" $name &
    eval "peer_$2=$!"
    xl unpause $name
}
# finish_guest NAME N: wait for it to end (it powers itself off and is
# destroyed) and for its peer; print its console log.
finish_guest() {
    name=$1
    eval "peer=\${peer_$2:-}"
    [ -n "$peer" ] || return
    # Bound the wait.
    n=0
    while xl domid $name >/dev/null 2>&1; do
        n=$((n + 1))
        if [ $n -gt 600 ]; then
            echo "XF-DOM0: $name still running after 120 s: destroying it"
            xl destroy $name
            break
        fi
        sleep 0.2
    done
    echo "XF-DOM0: guest $name gone (dom0 uptime $(up) s)"
    wait $peer
    st=$?
    echo "XF-DOM0: guest $name peer exit status $st (dom0 uptime $(up) s)"
    [ "$st" = 0 ] || cat /tmp/xl-$name.log
    [ -z "$XL_LOG" ] || cat /tmp/xl-$name.log
    echo "XF-DOM0: console log of $name begin"
    cat /var/log/xen/console/guest-$name.log
    echo "XF-DOM0: console log of $name end"
}
# bench_guest NAME RUN: one benchmark guest, timed by the monitor; a guest
# that ends without its markers is tried once more (Linux as a PVH domU
# under TCG sometimes triple-faults early in its boot).
bench_guest() {
    bench_try "$@" || {
        echo "XF-DOM0: $1 run $2: no figures: trying once more"
        bench_try "$@"
    }
}
bench_try() {
    if ! xl create -p /tests/$1.cfg >/tmp/xl-$1.log 2>&1; then
        cat /tmp/xl-$1.log
        echo "XF-DOM0: xl create $1 failed"
        return 0
    fi
    domid=$(xl domid $1)
    /tests/xf-bench-mon "$domid" "$1" "$2" &
    mon=$!
    xl unpause $1
    # The monitor ends at "done", when the guest is gone, or at its
    # timeout; nothing else runs in dom0 meanwhile.
    wait $mon
    st=$?
    # The guest powers itself off after "done": wait for it (60 s at most).
    n=0
    while xl domid $1 >/dev/null 2>&1; do
        n=$((n + 1))
        if [ $n -gt 300 ]; then
            echo "XF-DOM0: $1 did not end: destroying it"
            xl destroy $1
            break
        fi
        sleep 0.2
    done
    if [ $st != 0 ]; then
        echo "XF-DOM0: bench monitor of $1 run $2 failed; the guest's console:"
        tail -n 15 /var/log/xen/console/guest-$1.log | sed "s/^/XF-DOM0: $1: /"
        return 1
    fi
}
if [ -n "$BENCH" ]; then
    # Interleaved: each run has every guest once, the order rotating.
    r=1
    while [ $r -le "$BENCH" ]; do
        case $((r % 3)) in
            1) order="xf-bench linux-default linux-best" ;;
            2) order="linux-default linux-best xf-bench" ;;
            *) order="linux-best xf-bench linux-default" ;;
        esac
        for g in $order; do bench_guest $g $r; done
        r=$((r + 1))
    done
    for g in xf-bench linux-default linux-best; do
        grep "^# bench\|^not ok\|^Bail\|PANIC" /var/log/xen/console/guest-$g.log | sed "s/^/XF-DOM0: $g: /"
    done
    echo "XF-DOM0: all guests ended (dom0 uptime $(up) s)"
    echo "XF-DOM0: done"
    poweroff -f
fi
if [ -z "$PARALLEL" ]; then
    start_guest xf-guest 0
    finish_guest xf-guest 0
    start_guest xf-guest-poll 1
    finish_guest xf-guest-poll 1
else
    start_guest xf-guest 0
    start_guest xf-guest-poll 1
    finish_guest xf-guest 0
    finish_guest xf-guest-poll 1
fi
echo "XF-DOM0: all guests ended (dom0 uptime $(up) s)"
echo "XF-DOM0: done"
poweroff -f
EOF
chmod +x "$I/init"
(cd "$I" && find . | "$R/bin/busybox" cpio -o -H newc 2>/dev/null | gzip -1 >"$T/dom0.cpio.gz") ||
    fail "initramfs"
gzip -dc "$R/boot/xen-4.17-amd64.gz" >"$T/xen"
cp "$R/boot/vmlinuz-$KVER" "$T/vmlinuz"
say "kernel, peer and initramfs built ($(($(date +%s) - start)) s)"

# 5. QEMU: TCG. Xen needs smap=0 under TCG: without it dom0 dies at once
#    with a #PF in create_bounce_frame. -initrd splits its argument on
#    commas, so dom0's command line has none.
LOG="$T/serial.log"
: >"$LOG"
qemu-system-x86_64 -machine q35 -accel tcg,tb-size=256 -cpu max -m "${QEMU_MEM:-1536M}" -smp 2 \
    -display none -nodefaults -no-reboot -monitor none -serial "file:$LOG" \
    -kernel "$T/xen" \
    -append "console=com1 com1=115200,8n1 dom0_mem=512M,max:512M dom0_max_vcpus=${DOM0_VCPUS:-2} loglvl=all guest_loglvl=all noreboot smap=0" \
    -initrd "$T/vmlinuz console=hvc0 earlyprintk=xen rdinit=/init loglevel=4,$T/dom0.cpio.gz" \
    >"$T/qemu.out" 2>&1 &
QPID=$!
say "QEMU started (pid $QPID), waiting for the guest (at most $TIMEOUT s)"

# Wait for QEMU to end (dom0 powers the machine off) or for a fatal marker,
# within the deadline.
qstart=$(date +%s)
deadline=$((qstart + TIMEOUT))
reason=""
while kill -0 "$QPID" 2>/dev/null; do
    if grep -q "XF-DOM0: done" "$LOG"; then
        # dom0 is powering off; give QEMU a bounded moment to exit.
        end=$(($(date +%s) + 20))
        while kill -0 "$QPID" 2>/dev/null && [ "$(date +%s)" -lt "$end" ]; do sleep 0.2; done
        break
    fi
    if grep -qE "Panic on CPU|Kernel panic|Hardware Dom0 crashed" "$LOG"; then
        reason="crash (see the serial log)"
        break
    fi
    if [ "$(date +%s)" -ge "$deadline" ]; then
        reason="timeout after $TIMEOUT s"
        break
    fi
    sleep 0.5
done
if kill -0 "$QPID" 2>/dev/null; then
    kill "$QPID" 2>/dev/null || true
fi
wait "$QPID" 2>/dev/null || true
QPID=""
cp "$LOG" "$WORK/serial-last.log"
say "QEMU ran $(($(date +%s) - qstart)) s"

# 6. Each guest's TAP: its port 0xE9 lines, which Xen prints as "(dN) text".
tr -d '\r' <"$LOG" >"$T/serial.txt"
if [ -n "$BENCH" ]; then
    grep "^XF-BENCH \|XF-DOM0:" "$T/serial.txt" | grep -v "console log" >"$WORK/bench-last.txt" || true
    cat "$WORK/bench-last.txt"
    [ -z "$reason" ] || fail "$reason"
    # A guest tried twice may have measured a phase twice: count each once.
    got=$(grep "^XF-BENCH " "$WORK/bench-last.txt" | cut -d' ' -f2-5 | sort -u | wc -l)
    # 3 guests x 2 disks x 5 phases, and 6 network phases in the test
    # kernel and Linux at its defaults.
    want=$((BENCH * (3 * 2 * 5 + 2 * 6)))
    [ "$got" = "$want" ] || fail "$got of $want benchmark phases measured"
    say "benchmark: $got phases measured ($(($(date +%s) - start)) s in all)"
    exit 0
fi
grep "XF-DOM0:\|xf-peer:" "$T/serial.txt" | grep -v "console log" | head -n 60 >"$T/dom0.out" || true
sed 's/^/guest: dom0: /' "$T/dom0.out" | grep -v "req [0-9]* '" || true
[ -z "$reason" ] || fail "$reason"
bad=0
total=0
skipped=0
for name in $GUESTS; do
    domid=$(sed -n "s/^XF-DOM0: guest $name is domain \([0-9][0-9]*\)\( .*\)*$/\1/p" "$T/serial.txt" | head -n 1)
    if [ -z "$domid" ]; then
        say "$name: never started"
        bad=$((bad + 1))
        continue
    fi
    sed -n "s/^.*(d$domid) //p" "$T/serial.txt" |
        grep -E '^(ok|not ok) [0-9]+|^1\.\.[0-9]+|^# |^Bail out|^PANIC' >"$T/$name.tap" || true
    say "$name (domain $domid):"
    cat "$T/$name.tap"
    plan=$(sed -n 's/^1\.\.\([0-9][0-9]*\)$/\1/p' "$T/$name.tap" | head -n 1)
    if [ -z "$plan" ]; then
        say "$name: no TAP plan"
        bad=$((bad + 1))
        continue
    fi
    i=1
    while [ "$i" -le "$plan" ]; do
        if grep -qE "^ok $i .*# SKIP" "$T/$name.tap"; then
            skipped=$((skipped + 1))
        elif grep -qE "^ok $i( |$)" "$T/$name.tap"; then
            :
        elif grep -qE "^not ok $i( |$)" "$T/$name.tap"; then
            bad=$((bad + 1))
        else
            say "$name: case $i missing"
            bad=$((bad + 1))
        fi
        i=$((i + 1))
    done
    total=$((total + plan))
    grep -qE "XF-DOM0: guest $name peer exit status 0( |$)" "$T/serial.txt" ||
        { say "$name: the dom0 peer did not finish cleanly"; bad=$((bad + 1)); }
done
[ "$bad" = 0 ] || fail "$bad of $total cases failed or missing"
say "all $((total - skipped)) of $total cases passed, $skipped skipped (named above), in $(echo $GUESTS | wc -w) guests ($(($(date +%s) - start)) s in all)"
