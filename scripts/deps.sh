#!/bin/sh
# Install the Debian 12 packages that building and testing xenfront need.
# Idempotent: does nothing (and needs no network) when all are present.
set -eu

PKGS="meson ninja-build gcc libc6-dev clang llvm libclang-rt-14-dev check libsubunit-dev libxen-dev
      pkg-config python3 valgrind binutils qemu-system-x86"

missing=""
for p in $PKGS; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
        missing="$missing $p"
    fi
done
[ -z "$missing" ] && exit 0

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
    SUDO=sudo
fi
echo "installing:$missing"
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq $missing >/dev/null
