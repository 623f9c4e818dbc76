#!/bin/sh
# Download (never install) the Debian packages the in-guest tests boot:
# Xen 4.17, its dom0 tools and their libraries, a Linux kernel for dom0 and
# busybox. Each is fetched with `apt-get download` into CACHE/debs once and
# unpacked with `dpkg -x` into CACHE/root; later runs reuse both.
#
#   sh tests/guest/fetch-debs.sh CACHE      -> prints CACHE/root
set -eu
CACHE=$1
mkdir -p "$CACHE/debs"

# The kernel's package name changes with each Debian point release: follow
# the metapackage.
kpkg=$(apt-cache depends linux-image-amd64 2>/dev/null |
       sed -n 's/^ *Depends: \(linux-image-[0-9].*-amd64\)$/\1/p' | head -n 1)
if [ -z "$kpkg" ]; then
    apt-get update -qq
    kpkg=$(apt-cache depends linux-image-amd64 |
           sed -n 's/^ *Depends: \(linux-image-[0-9].*-amd64\)$/\1/p' | head -n 1)
fi
[ -n "$kpkg" ] || { echo "fetch-debs: cannot resolve linux-image-amd64" >&2; exit 1; }

PKGS="xen-hypervisor-4.17-amd64 xen-utils-4.17 xen-utils-common xenstore-utils
      libxencall1 libxendevicemodel1 libxenevtchn1 libxenforeignmemory1 libxengnttab1
      libxenhypfs1 libxenmisc4.17 libxenstore4 libxentoolcore1 libxentoollog1
      libyajl2 libc6 libgcc-s1 libncurses6 libtinfo6 zlib1g liblzma5 libzstd1
      libbz2-1.0 liblzo2-2 libuuid1 libnl-3-200 libnl-route-3-200 busybox-static $kpkg"

# Drop what is no longer wanted (an older kernel after a point release).
for d in "$CACHE"/debs/*.deb; do
    [ -e "$d" ] || continue
    b=$(basename "$d")
    keep=0
    for p in $PKGS; do
        case "$b" in "${p}_"*) keep=1; break ;; esac
    done
    [ "$keep" = 1 ] || rm -f "$d"
done
missing=""
for p in $PKGS; do
    ls "$CACHE/debs/${p}_"*.deb >/dev/null 2>&1 || missing="$missing $p"
done
if [ -n "$missing" ]; then
    echo "fetch-debs: downloading$missing" >&2
    # As root, apt's download sandbox user cannot write here: say so.
    sandbox=""
    [ "$(id -u)" = 0 ] && sandbox="-o APT::Sandbox::User=root"
    # Stale package lists name versions the mirror no longer has: update
    # them once and try again.
    (cd "$CACHE/debs" && apt-get download -q $sandbox $missing >/dev/null) ||
        { apt-get update -qq && (cd "$CACHE/debs" && apt-get download -q $sandbox $missing >/dev/null); }
fi

stamp="$CACHE/root/.unpacked"
want=$(cd "$CACHE/debs" && ls *.deb | sort | md5sum | cut -d' ' -f1)
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
    rm -rf "$CACHE/root"
    mkdir -p "$CACHE/root"
    for d in "$CACHE"/debs/*.deb; do
        dpkg -x "$d" "$CACHE/root"
    done
    echo "$want" >"$stamp"
fi
echo "$CACHE/root"
