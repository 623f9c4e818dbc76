#!/bin/sh
# Fetch QEMU 10's Xen build (Debian bookworm-backports, qemu-system-xen at
# the exact version below) for the hostpeers netfront test: bookworm's QEMU
# 7.2 xen-net-device has no usable peer, 10.0 takes `-netdev dgram`
# (notes/dom0-programs-on-host.md). Like scripts/fetch-dom0.sh it is
# `apt-get download` + `dpkg -x`, never an install, into a directory of its
# own (default build/dom0-qemu10, override with XF_QEMU10_DIR), so that QEMU
# 7.2 in build/dom0 stays what the block tests run.
#
# apt runs with a PRIVATE configuration (APT_CONFIG): its own sources list
# (bookworm, -updates, -security and -backports, signed by the Debian
# archive keyring of the base system), its own state, lists and cache under
# the directory; the system's apt configuration, lists and sources are
# neither read nor changed. Library packages the program needs and this
# host has not installed are fetched the same way into the same root; the
# extracted binary is then checked to resolve every library.
#
# Idempotent and cached (a stamp), under a lock on the directory (several
# build directories may run it at once). Called by scripts/fetch-dom0.sh.
# Mirror: $XF_DEBIAN_MIRROR (default http://deb.debian.org/debian) and
# $XF_DEBIAN_SECURITY (default http://deb.debian.org/debian-security).
set -eu
SELF=$(cd "$(dirname "$0")" && pwd)/$(basename "$0")
cd "$(dirname "$SELF")/.."
D=${XF_QEMU10_DIR:-$(pwd)/build/dom0-qemu10}
# Pinned: the version the netfront test was written and measured against.
PKG=qemu-system-xen
VERSION='1:10.0.2+ds-2+deb13u1~bpo12+1'
BIN=usr/libexec/xen-qemu-system-i386
STAMP="$D/.complete-v1"
[ -f "$STAMP" ] && exit 0

mkdir -p "$D"
if [ -z "${XF_QEMU10_LOCKED:-}" ] && command -v flock >/dev/null; then
    export XF_QEMU10_LOCKED=1
    exec flock "$D/.lock" sh "$SELF" "$@"
fi
[ -f "$STAMP" ] && exit 0   # completed by the holder we waited for

A="$D/apt"
mkdir -p "$A/etc/apt.conf.d" "$A/etc/preferences.d" "$A/etc/sources.list.d" \
         "$A/etc/trusted.gpg.d" "$A/state/lists/partial" "$A/cache/archives/partial" \
         "$A/log" "$D/debs" "$D/root"
: >"$A/state/status"   # apt's view of what is installed: nothing (dpkg is asked below)
KEYRING=/usr/share/keyrings/debian-archive-keyring.gpg
[ -r "$KEYRING" ] || { echo "fetch-qemu10: $KEYRING missing (package debian-archive-keyring)" >&2; exit 1; }
M=${XF_DEBIAN_MIRROR:-http://deb.debian.org/debian}
S=${XF_DEBIAN_SECURITY:-http://deb.debian.org/debian-security}
cat >"$A/etc/sources.list" <<EOF
deb [signed-by=$KEYRING] $M bookworm main
deb [signed-by=$KEYRING] $M bookworm-updates main
deb [signed-by=$KEYRING] $S bookworm-security main
deb [signed-by=$KEYRING] $M bookworm-backports main
EOF
# Every directory apt would take from /etc or /var is one of ours.
cat >"$A/etc/apt.conf" <<EOF
Dir::Etc "$A/etc";
Dir::Etc::main "apt.conf";
Dir::Etc::parts "apt.conf.d";
Dir::Etc::sourcelist "sources.list";
Dir::Etc::sourceparts "sources.list.d";
Dir::Etc::preferences "preferences";
Dir::Etc::preferencesparts "preferences.d";
Dir::Etc::trusted "trusted.gpg";
Dir::Etc::trustedparts "trusted.gpg.d";
Dir::State "$A/state";
Dir::State::lists "lists";
Dir::State::status "$A/state/status";
Dir::Cache "$A/cache";
Dir::Log "$A/log";
Acquire::Languages "none";
APT::Architecture "amd64";
APT::Architectures { "amd64"; };
EOF
# As root, apt hands downloads to its _apt user, who may not be able to
# write here: download as root.
[ "$(id -u)" -eq 0 ] && echo 'APT::Sandbox::User "root";' >>"$A/etc/apt.conf"
export APT_CONFIG="$A/etc/apt.conf"

if [ -z "$(apt-cache show "$PKG=$VERSION" 2>/dev/null | head -n 1)" ]; then
    echo "fetch-qemu10: reading the package lists (private apt configuration in $A)"
    apt-get update -qq
fi
if [ -z "$(apt-cache show "$PKG=$VERSION" 2>/dev/null | head -n 1)" ]; then
    echo "fetch-qemu10: $PKG $VERSION is not in bookworm-backports at $M" >&2
    echo "fetch-qemu10: (set XF_DEBIAN_MIRROR to a snapshot.debian.org archive that has it)" >&2
    exit 1
fi

installed() {
    dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q "install ok installed"
}

# The program at its pinned version, and (recursively) every library
# package it depends on that this host has not installed, as
# scripts/fetch-dom0.sh does (only lib* Depends/PreDepends, every
# alternative; data and firmware packages are not used by the xenpv machine).
want="$PKG=$VERSION"
queue="$PKG=$VERSION"
seen=" "
while [ -n "$queue" ]; do
    next=""
    for p in $queue; do
        for dep in $(apt-cache depends --no-recommends --no-suggests --no-conflicts \
                        --no-breaks --no-replaces --no-enhances "$p" 2>/dev/null |
                     sed -n 's/^ *|\{0,1\}\(Pre\)\{0,1\}Depends: \([^<>]*\)$/\2/p' | sed 's/:any$//'); do
            case "$dep" in lib*) ;; *) continue ;; esac
            case "$seen" in *" $dep "*) continue ;; esac
            seen="$seen$dep "
            installed "$dep" && continue
            want="$want $dep"
            next="$next $dep"
        done
    done
    queue=$next
done

echo "fetch-qemu10: downloading into $D: $want"
rm -f "$D"/debs/*.deb
(cd "$D/debs" && apt-get download -qq $want) || {
    # Stale lists (a library's security update moved it): refresh, retry.
    apt-get update -qq
    (cd "$D/debs" && apt-get download -qq $want)
}
for f in "$D"/debs/*.deb; do
    dpkg -x "$f" "$D/root"
done
[ -x "$D/root/$BIN" ] || { echo "fetch-qemu10: $BIN missing after extraction" >&2; exit 1; }
# Every library resolves (the host's, or one extracted here).
R="$D/root"
missing=$(LD_LIBRARY_PATH="$R/usr/lib/x86_64-linux-gnu:$R/lib/x86_64-linux-gnu" ldd "$R/$BIN" |
          grep 'not found' || true)
if [ -n "$missing" ]; then
    echo "fetch-qemu10: $BIN lacks libraries:" >&2
    echo "$missing" >&2
    exit 1
fi
dpkg-deb -f "$D/debs/${PKG}_"*.deb Version >"$D/version"
touch "$STAMP"
echo "fetch-qemu10: ready in $D ($PKG $(cat "$D/version"))"
