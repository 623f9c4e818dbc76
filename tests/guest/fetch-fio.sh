#!/bin/sh
# Build the fio the in-guest benchmarks run: Debian 12 (bookworm)'s own fio
# source package (fio 3.33, Debian patches applied), linked statically,
# because the guest's initramfs has busybox and no shared libraries. Kept:
# the libaio engine (the one the benchmarks use), psync and io_uring (fio
# drives io_uring by raw syscalls, no liburing). Everything optional that
# would link another library is disabled.
#
# The source comes from `apt-get source --download-only` with a PRIVATE
# apt configuration, as scripts/fetch-qemu10.sh does: its own sources list
# (one deb-src line, signed by the Debian archive keyring of the base
# system), its own state, lists and cache under CACHE/fio/apt, so that a
# machine whose sources.list has no deb-src lines works and the system's
# sources and lists are neither read nor changed. (The system's apt.conf.d
# is still read, for a proxy.) Missing build tools are installed with the
# system's apt-get (root only).
#
# Everything lives under CACHE/fio; the binary is put in place only once it
# has been checked to be static and to have libaio, so a later run that
# finds it prints its path and does nothing else. Under a lock (flock) on
# the directory, since several build directories may run it at once.
#
#   sh tests/guest/fetch-fio.sh CACHE       -> prints CACHE/fio/bin/fio
# Mirror: $XF_DEBIAN_MIRROR (default http://deb.debian.org/debian).
set -eu
[ $# -eq 1 ] || { echo "usage: sh tests/guest/fetch-fio.sh CACHE_DIR" >&2; exit 2; }
SELF=$(cd "$(dirname "$0")" && pwd)/$(basename "$0")
mkdir -p "$1/fio"
D=$(cd "$1/fio" && pwd)
BIN="$D/bin/fio"
[ -x "$BIN" ] && { echo "$BIN"; exit 0; }

if [ -z "${XF_FIO_LOCKED:-}" ] && command -v flock >/dev/null; then
    export XF_FIO_LOCKED=1
    exec flock "$D/.lock" sh "$SELF" "$@"
fi
[ -x "$BIN" ] && { echo "$BIN"; exit 0; }   # built by the holder we waited for

fail() { echo "fetch-fio: $*" >&2; exit 1; }
# Progress goes to stderr: the last stdout line is the binary's path.
say() { echo "fetch-fio: $*" >&2; }

# Build tools. libaio-dev and zlib1g-dev ship the static archives
# (libaio.a, libz.a) and libc6-dev libc.a; without libaio.a configure would
# quietly build fio without the libaio engine.
installed() {
    dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q "install ok installed"
}
missing=""
for p in dpkg-dev libaio-dev zlib1g-dev libc6-dev make gcc pkg-config; do
    installed "$p" || missing="$missing $p"
done
if [ -n "$missing" ]; then
    [ "$(id -u)" -eq 0 ] || fail "missing build packages:$missing (install them as root)"
    say "installing$missing"
    # Stale or absent system package lists: update them once and retry.
    # shellcheck disable=SC2086
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $missing >&2 ||
        { apt-get update -qq >&2 &&
          DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $missing >&2; }
fi

# The private apt configuration: only these options differ from the
# system's. Dir::Etc::sourceparts=- drops /etc/apt/sources.list.d.
A="$D/apt"
mkdir -p "$A/state/lists/partial" "$A/cache/archives/partial"
KEYRING=/usr/share/keyrings/debian-archive-keyring.gpg
[ -r "$KEYRING" ] || fail "$KEYRING missing (package debian-archive-keyring)"
M=${XF_DEBIAN_MIRROR:-http://deb.debian.org/debian}
echo "deb-src [signed-by=$KEYRING] $M bookworm main" >"$A/sources.list"
papt() {
    # As root, apt hands downloads to its _apt user, who may not be able
    # to write here: download as root.
    sandbox=""
    [ "$(id -u)" -eq 0 ] && sandbox="-o APT::Sandbox::User=root"
    # shellcheck disable=SC2086
    apt-get -o Dir::Etc::sourcelist="$A/sources.list" -o Dir::Etc::sourceparts=- \
            -o Dir::State="$A/state" -o Dir::State::lists="$A/state/lists" \
            -o Dir::Cache="$A/cache" -o Acquire::Languages=none $sandbox "$@"
}

# The source package, once: downloaded into src.tmp, renamed to src when
# apt-get has fetched all of it (an interrupted download is started over).
find_dsc() {
    dsc=""
    for f in "$D"/src/fio_*.dsc; do
        [ -e "$f" ] && { dsc=$f; break; }
    done
    return 0
}
find_dsc
if [ -z "$dsc" ]; then
    say "downloading the fio source package (private apt configuration in $A)"
    papt update -qq >&2
    rm -rf "$D/src" "$D/src.tmp"
    mkdir -p "$D/src.tmp"
    (cd "$D/src.tmp" && papt source --download-only -qq fio >&2) ||
        fail "apt-get source fio failed (bookworm main at $M)"
    mv "$D/src.tmp" "$D/src"
    find_dsc
    [ -n "$dsc" ] || fail "no fio .dsc after apt-get source"
fi
version=$(sed -n 's/^Version: //p' "$dsc")
case "$version" in
    3.33-*) ;;
    *) fail "bookworm's fio is $version, not 3.33 (this script was written for 3.33)" ;;
esac

# Unpack afresh each build (seconds): no half-built tree is reused.
S="$D/build/fio-$version"
rm -rf "$D/build"
mkdir -p "$D/build"
say "unpacking fio $version"
# apt has checked the files against bookworm's signed Sources index;
# dpkg-source's warning that it cannot check the .dsc's signature (no
# debian-keyring here) is in the log with the rest.
dpkg-source --no-copy -x "$dsc" "$S" >"$D/build/unpack.log" 2>&1 ||
    { tail -n 20 "$D/build/unpack.log" >&2; fail "dpkg-source -x failed (log: $D/build/unpack.log)"; }

# --build-static links with -static; --disable-native keeps -march=native
# out (the guest's virtual CPU need not be this host's). Every --disable-*
# below is a library-backed engine or feature that configure would enable
# if it found the library (its static probe mostly fails anyway: saying so
# keeps the result independent of what this host has installed). lex/yacc
# (arithmetic in job files) is off, so flex and bison are not needed.
# libnbd, libiscsi, libnfs, hdfs, cuda, cufile and gfio are off unless
# enabled. The environment's CFLAGS/LDFLAGS are not wanted here.
CONF="--build-static --disable-native --disable-numa --disable-rdma
      --disable-rados --disable-rbd --disable-http --disable-gfapi
      --disable-pmem --disable-libnfs --disable-libzbc --disable-xnvme
      --disable-dfs --disable-tcmalloc --disable-lex"
unset CFLAGS CPPFLAGS LDFLAGS
# shellcheck disable=SC2086
say configuring: $CONF
# shellcheck disable=SC2086
(cd "$S" && ./configure $CONF >"$D/build/configure.log" 2>&1) ||
    { tail -n 20 "$D/build/configure.log" >&2; fail "configure failed (log: $D/build/configure.log)"; }
grep -q '^CONFIG_LIBAIO=y' "$S/config-host.mak" ||
    fail "configure found no static libaio (libaio.a from libaio-dev): see $D/build/configure.log"

# The link warns that dlopen (ioengine=external:) and getaddrinfo (net
# engine host names) need glibc's shared libraries at run time: neither is
# used in the guest.
say "building (nice make -j2)"
(cd "$S" && nice -n 10 make -j2 fio >"$D/build/make.log" 2>&1) ||
    { tail -n 20 "$D/build/make.log" >&2; fail "make failed (log: $D/build/make.log)"; }

# Static means no program interpreter and no shared-library dependency.
readelf -lW "$S/fio" | grep -q 'INTERP' &&
    fail "$S/fio has a program interpreter: not static"
readelf -dW "$S/fio" | grep -q '(NEEDED)' &&
    fail "$S/fio needs shared libraries: $(readelf -dW "$S/fio" | grep '(NEEDED)' | tr -s ' ')"
"$S/fio" --enghelp 2>/dev/null | grep -qx '[[:space:]]*libaio' ||
    fail "$S/fio lists no libaio engine"

# Installed stripped (the initramfs carries it), atomically: its presence
# means a complete, checked build.
mkdir -p "$D/bin"
strip -o "$BIN.tmp" "$S/fio"
mv "$BIN.tmp" "$BIN"
echo "$version" >"$D/version"
say "ready: $("$BIN" --version) (Debian $version), static"
echo "$BIN"
