#!/bin/sh
# Installed files that work after the build tree is gone. For the hosted
# flavour and the freestanding x86_64 one: `meson install` into a prefix,
# delete the build directory, check that no installed file names it, then
# build a consumer from the installed headers, archives and pkg-config files
# alone:
#
#  - hosted: scripts/consumer/consumer.c (its own seam), built and run;
#  - freestanding: a small kernel written below, compiled as a kernel is
#    (-ffreestanding -nostdinc, the compiler's own headers only) and linked
#    with -nostdlib against libxfpvh and every library (not run: it is a
#    PVH kernel).
#
#   sh scripts/install-consumer-test.sh [WORKDIR]   (default build/install-consumer)
#
# Environment: CC (default cc), XF_INSTALL_FLAVOURS (default
# "hosted x86_64-freestanding-gcc").
set -eu
cd "$(dirname "$0")/.."
ROOT=$(pwd)
W=${1:-$ROOT/build/install-consumer}
CC=${CC:-cc}
FLAVOURS=${XF_INSTALL_FLAVOURS:-hosted x86_64-freestanding-gcc}
rm -rf "$W"
mkdir -p "$W"
W=$(cd "$W" && pwd)

say() { printf 'install-consumer: %s\n' "$*"; }
status=0

# A freestanding consumer: the PVH seam from libxfpvh, one entry point of
# each library referenced so that the link pulls them in, and what every
# kernel provides (memory functions, stack protector).
cat >"$W/kernel.c" <<'EOF'
#include <xenfront/pvh.h>
#include <xenfront/platform.h>
#include <xenfront/ring.h>
#include <xenfront/evtchn.h>
#include <xenfront/gnttab.h>
#include <xenfront/xenbus.h>
#include <xenfront/console.h>
#include <xenfront/console_secondary.h>

void *memcpy(void *restrict d, const void *restrict s, size_t n)
{
    unsigned char *a = d;
    const unsigned char *b = s;
    while (n--)
        *a++ = *b++;
    return d;
}
void *memmove(void *d, const void *s, size_t n)
{
    unsigned char *a = d;
    const unsigned char *b = s;
    if (a < b)
        while (n--)
            *a++ = *b++;
    else
        while (n--)
            a[n] = b[n];
    return d;
}
void *memset(void *d, int c, size_t n)
{
    unsigned char *a = d;
    while (n--)
        *a++ = (unsigned char)c;
    return d;
}
int memcmp(const void *x, const void *y, size_t n)
{
    const unsigned char *a = x, *b = y;
    for (; n; n--, a++, b++)
        if (*a != *b)
            return *a - *b;
    return 0;
}
int bcmp(const void *x, const void *y, size_t n);
int bcmp(const void *x, const void *y, size_t n) { return memcmp(x, y, n); }
size_t strlen(const char *s)
{
    size_t n = 0;
    while (s[n])
        n++;
    return n;
}
uintptr_t __stack_chk_guard = 0x2b4d9e315a17c0deull;
__attribute__((noreturn)) void __stack_chk_fail(void);
__attribute__((noreturn)) void __stack_chk_fail(void) { xf_pvh_shutdown(SHUTDOWN_crash); }

static long early_hook(void *arg, const char *buf, size_t len)
{
    (void)arg;
    xf_pvh_debug_write(buf, len);
    return (long)len;
}

void kmain(uint32_t start_info_pa);
void kmain(uint32_t start_info_pa)
{
    static char kernel_end;
    struct xf_console_early early = { .hook = early_hook };
    struct xf_evtchn *ec;
    struct xf_gnttab *gt;
    struct xf_xenbus *xb;
    struct xf_console *con;

    if (xf_pvh_init(start_info_pa, (uintptr_t)&kernel_end, 4ull << 30) < 0)
        xf_pvh_shutdown(SHUTDOWN_crash);
    (void)xf_console_early_write(&early, "hello\n", 6);
    struct xf_evtchn_config ecfg = { .shared_info = xf_pvh_shared_info() };
    if (xf_evtchn_create(&ec, &ecfg) < 0 || xf_gnttab_create(&gt, NULL) < 0)
        xf_pvh_shutdown(SHUTDOWN_crash);
    if (xf_xenbus_create_ring(&xb, NULL, ec, NULL, 0) == 0) {
        if (xf_console_secondary_open(&con, xb, ec, gt, "1", NULL, xf_plat_now_ns()) == 0)
            (void)xf_console_secondary_close(con, xf_plat_now_ns());
        xf_xenbus_destroy(xb);
    }
    if (xf_console_create(&con, ec, NULL, 0, NULL) == 0)
        xf_console_destroy(con);
    xf_pvh_shutdown(SHUTDOWN_poweroff);
}
EOF

for f in $FLAVOURS; do
    B="$W/$f/build"
    P="$W/$f/prefix"
    if [ "$f" = hosted ]; then
        setup="-Dtests=disabled"
    else
        setup="--cross-file cross/$f.ini"
    fi
    # shellcheck disable=SC2086
    if ! meson setup "$B" --prefix="$P" $setup >"$W/$f.setup.log" 2>&1 ||
        ! meson install -C "$B" >"$W/$f.install.log" 2>&1; then
        say "$f: build or install FAILED (see $W/$f.*.log)"; status=1; continue
    fi
    rm -rf "$B"
    # No installed text file may name the deleted build directory (the
    # archives' debug information does, which is harmless).
    if grep -rlI "$B" "$P" >"$W/$f.mentions" 2>/dev/null; then
        say "$f: installed files name the build directory:"
        sed 's/^/    /' "$W/$f.mentions"
        grep -rhI "$B" "$P" | sed 's/^/      /' | head -n 5
        status=1
    fi
    pcdir=$(dirname "$(find "$P" -name xfcommon.pc | head -n 1)")
    export PKG_CONFIG_PATH="$pcdir"
    if [ "$f" = hosted ]; then
        # shellcheck disable=SC2046
        if $CC -std=c11 -Wall -Wextra -Werror -o "$W/$f/consumer" scripts/consumer/consumer.c \
                $(pkg-config --static --cflags --libs xfconsole xfxenbus xfgnttab xfevtchn xfcommon) \
                >"$W/$f.consumer.log" 2>&1 && "$W/$f/consumer" >>"$W/$f.consumer.log" 2>&1; then
            say "$f: consumer built from the installed files and run: ok"
        else
            sed 's/^/    /' "$W/$f.consumer.log"
            say "$f: consumer FAILED"; status=1
        fi
    else
        cflags=$(pkg-config --cflags xfpvh xfconsole) || { say "$f: pkg-config FAILED"; status=1; continue; }
        libs=$(pkg-config --static --libs xfpvh xfconsole)
        # shellcheck disable=SC2086
        if $CC -std=c11 -ffreestanding -nostdinc -isystem "$($CC -print-file-name=include)" \
                -fno-pic -mno-red-zone -mno-sse -mno-mmx -fstack-protector-strong \
                -mstack-protector-guard=global -O2 -Wall -Wextra -Werror $cflags \
                -c "$W/kernel.c" -o "$W/$f/kernel.o" >"$W/$f.consumer.log" 2>&1 &&
            $CC -nostdlib -static -no-pie -Wl,-e,kmain -Wl,--build-id=none -o "$W/$f/kernel" \
                "$W/$f/kernel.o" $libs >>"$W/$f.consumer.log" 2>&1; then
            say "$f: kernel compiled and linked from the installed files: ok ($cflags)"
        else
            sed 's/^/    /' "$W/$f.consumer.log"
            say "$f: kernel consumer FAILED (cflags: $cflags)"; status=1
        fi
    fi
done
[ "$status" = 0 ] && say "ok" || say "FAILED"
exit $status
