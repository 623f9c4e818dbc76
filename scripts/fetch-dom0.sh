#!/bin/sh
# Fetch the unmodified Debian 12 dom0 programs the 'hostpeers' tests run
# (xenstored, xenconsoled from xen-utils-4.17; xenstore-utils; QEMU's Xen
# build from qemu-system-xen) and the libraries they need that this host
# lacks, WITHOUT installing them: `apt-get download` + `dpkg -x` into a
# private directory (default build/dom0, override with XF_DOM0_DIR).
# Installing xen-utils would pull systemd/udev upgrades and start services.
#
# Idempotent and cached: does nothing once the directory is complete.
# Needs apt (Debian 12) and network to the Debian mirrors the first time.
# Runs under a lock on the directory, so that the meson step that calls it
# before the hostpeers tests (tests/hostpeers/meson.build) may run from
# several build directories at once. `--stamp FILE`: touch FILE on success.
set -eu
OUT=""
if [ "${1:-}" = "--stamp" ]; then
    OUT=$2
    case "$OUT" in /*) ;; *) OUT=$(pwd)/$OUT ;; esac
    set -- --stamp "$OUT"   # absolute, for the re-runs below (after the cd)
fi
SELF=$(cd "$(dirname "$0")" && pwd)/$(basename "$0")
cd "$(dirname "$SELF")/.."
D=${XF_DOM0_DIR:-$(pwd)/build/dom0}
# The programs, pinned to what the tests were written against.
TOP="xen-utils-4.17 xenstore-utils qemu-system-xen"
STAMP="$D/.complete-v1"
# QEMU 10 for the netfront test (its own directory and private apt setup).
ready() {
    sh "$(dirname "$SELF")/fetch-qemu10.sh" || exit 1
    [ -z "$OUT" ] || touch "$OUT"; exit 0
}
[ -f "$STAMP" ] && ready

mkdir -p "$D/debs" "$D/root"
if [ -z "${XF_DOM0_LOCKED:-}" ] && command -v flock >/dev/null; then
    # The holder of the lock completes the directory; the others then find
    # its stamp.
    export XF_DOM0_LOCKED=1
    exec flock "$D/.lock" sh "$SELF" "$@"
fi
SUDO=""
[ "$(id -u)" -ne 0 ] && command -v sudo >/dev/null && SUDO=sudo

installed() {
    dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q "install ok installed"
}

# The packages to extract: the programs, and (recursively) every library
# package they depend on that is not installed here. Only Depends (and
# PreDepends, every alternative) are followed; virtual packages and non-library packages
# (python3, seabios, ...) are left out: the tests use none of their files.
want=""
queue="$TOP"
seen=" "
while [ -n "$queue" ]; do
    next=""
    for p in $queue; do
        case "$seen" in *" $p "*) continue ;; esac
        seen="$seen$p "
        want="$want $p"
        for dep in $(apt-cache depends --no-recommends --no-suggests --no-conflicts \
                        --no-breaks --no-replaces --no-enhances "$p" 2>/dev/null |
                     sed -n 's/^ *|\{0,1\}\(Pre\)\{0,1\}Depends: \([^<>]*\)$/\2/p' | sed 's/:any$//'); do
            case "$dep" in lib*) ;; *) continue ;; esac
            installed "$dep" && continue
            next="$next $dep"
        done
    done
    queue=$next
done

if [ -z "$(apt-cache show xen-utils-4.17 2>/dev/null | head -n 1)" ]; then
    $SUDO apt-get update -qq
    exec sh "$SELF" "$@"
fi

# As root, apt would hand the download to its unprivileged _apt user, who
# may not be able to write here: download as root, quietly.
APTOPT=""
[ "$(id -u)" -eq 0 ] && APTOPT="-o APT::Sandbox::User=root"
echo "fetch-dom0: downloading into $D:$want"
(cd "$D/debs" && apt-get $APTOPT download -qq $want) || {
    # Stale package lists: refresh once and retry.
    $SUDO apt-get update -qq
    (cd "$D/debs" && apt-get $APTOPT download -qq $want)
}
for f in "$D"/debs/*.deb; do
    dpkg -x "$f" "$D/root"
done

for b in usr/lib/xen-4.17/bin/xenstored usr/lib/xen-4.17/bin/xenconsoled \
         usr/libexec/xen-qemu-system-i386 usr/bin/xenstore-read; do
    [ -x "$D/root/$b" ] || { echo "fetch-dom0: $b missing after extraction" >&2; exit 1; }
done
touch "$STAMP"
echo "fetch-dom0: ready in $D"
ready
