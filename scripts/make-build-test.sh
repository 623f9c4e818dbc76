#!/bin/sh
# Builds outside meson: every freestanding archive built from its
# sources.mk alone, with plain make and cc, then judged by the same
# pick-and-link check as meson's archives (scripts/check-archive.py). When a
# meson build directory is given, each archive's members are also compared
# with the archive meson built from the same directory, so a source added to
# a meson.build and not to its sources.mk (or the other way round) fails.
#
#   sh scripts/make-build-test.sh SRCROOT OUTDIR [MESON_BUILDDIR]
#
# Environment: CC (default cc), AR (ar), NM (nm), MAKE (make), PYTHON
# (python3), XF_XEN_INCLUDE (the directory holding xen/, default
# /usr/include).
#
# A library is found by its sources.mk (*/sources.mk and platform/*/
# sources.mk): a new library is tested once it has one. The Makefile
# written to OUTDIR is what a kernel's build would contain (see
# docs/EMBEDDING.md): no libc on the include path, Xen's headers through a
# directory holding only xen/, kernel flags.
set -eu
[ $# -ge 2 ] || { echo "usage: $0 SRCROOT OUTDIR [MESON_BUILDDIR]" >&2; exit 2; }
S=$(cd "$1" && pwd)
O=$2
M=${3:-}
CC=${CC:-cc}
AR=${AR:-ar}
NM=${NM:-nm}
MAKE=${MAKE:-make}
PYTHON=${PYTHON:-python3}
XEN=${XF_XEN_INCLUDE:-/usr/include}

rm -rf "$O"
mkdir -p "$O/xen-include"
O=$(cd "$O" && pwd)
[ -d "$XEN/xen/io" ] || { echo "make-build: no Xen headers under $XEN (libxen-dev)"; exit 1; }
ln -s "$XEN/xen" "$O/xen-include/xen"

# The compiler's own freestanding headers (stdint.h, stddef.h, ...) only.
CCINC=$($CC -print-file-name=include)
case $($CC -dumpmachine) in
x86_64*) ARCH_CFLAGS="-mno-red-zone -mno-mmx -mno-sse -mno-sse2 -mno-avx -mstack-protector-guard=global"
         WANT_PVH=1 ;;
*)       ARCH_CFLAGS=""; WANT_PVH=0 ;;
esac

mk_list=$(cd "$S" && ls */sources.mk platform/*/sources.mk 2>/dev/null | sort -u)
[ -n "$mk_list" ] || { echo "make-build: no sources.mk under $S"; exit 1; }

{
    echo "# Written by scripts/make-build-test.sh: xenfront's archives, built"
    echo "# from their sources.mk files by plain make."
    echo "O := $O"
    for f in $mk_list; do
        case $f in platform/pvh/*) [ "$WANT_PVH" = 1 ] || continue ;; esac
        echo "include $S/$f"
    done
    cat <<EOF
KCFLAGS := -ffreestanding -nostdinc -isystem $CCINC -isystem \$(O)/xen-include \\
	-fno-pic -fno-pie -fstack-protector-strong $ARCH_CFLAGS \\
	-O2 -Wall -Wextra -Werror
EOF
    cat <<'EOF'

# Every library a sources.mk requires must have one too.
$(foreach l,$(XF_LIBS),$(foreach r,$(XF_$(l)_REQUIRES),$(if $(filter $(r),$(XF_LIBS)),,$(error $(l) requires $(r), which has no sources.mk))))

# -I for a library's own include directories and those of all it requires.
xf_incs = $(foreach l,$(1) $(XF_$(1)_REQUIRES),$(addprefix -I$(XF_$(l)_DIR)/,$(XF_$(l)_INCDIRS)))

define xf_archive_rules
$(1)_OBJS := $$(addprefix $$(O)/$(1)/,$$(XF_$(1)_SRCS:.c=.o))
$$(O)/$(1)/%.o: $$(XF_$(1)_DIR)/%.c
	@mkdir -p $$(@D)
	$$(CC) $$(KCFLAGS) $$(XF_$(1)_CFLAGS) $$(call xf_incs,$(1)) -c $$< -o $$@
$$(O)/$$(XF_$(1)_ARCHIVE): $$($(1)_OBJS)
	rm -f $$@
	$$(AR) rcs $$@ $$^
endef
$(foreach l,$(XF_LIBS),$(eval $(call xf_archive_rules,$(l))))

all: $(foreach l,$(XF_LIBS),$(O)/$(XF_$(l)_ARCHIVE))

# One line per library for the checks: key kind prefix dir archive
# sources ; required archives
list:
	@$(foreach l,$(XF_LIBS),echo '$(l) $(XF_$(l)_KIND) $(XF_$(l)_PREFIX) $(XF_$(l)_DIR) $(XF_$(l)_ARCHIVE) $(XF_$(l)_SRCS) ; $(foreach r,$(XF_$(l)_REQUIRES),$(XF_$(r)_ARCHIVE))';)
.PHONY: all list
EOF
} >"$O/Makefile"

echo "make-build: $CC ($($CC -dumpmachine)), $(echo "$mk_list" | wc -l) sources.mk"
"$MAKE" -s -C "$O" -f "$O/Makefile" CC="$CC" AR="$AR" all >"$O/make.log" 2>&1 || {
    cat "$O/make.log"; echo "make-build: make FAILED"; exit 1; }
"$MAKE" -s -C "$O" -f "$O/Makefile" list >"$O/list"

fail=0
n=0
while read -r key kind prefix dir archive rest; do
    n=$((n + 1))
    srcs=${rest%%;*}
    reqs=${rest#*;}
    deps=""
    for r in $reqs; do deps="$deps --dep $O/$r"; done
    case $kind in
    library) expect="" ;;
    # A seam defines the xf_plat_* functions: the check must find exactly
    # that (every other global prefixed, nothing undefined but the allowed).
    seam) expect="--expect-violation seam" ;;
    *) echo "make-build: $key: unknown KIND '$kind'"; fail=1; continue ;;
    esac
    # shellcheck disable=SC2086
    if out=$("$PYTHON" "$S/scripts/check-archive.py" --nm "$NM" \
            --platform-h "$S/common/include/xenfront/platform.h" \
            --prefix "$prefix" "$O/$archive" $deps $expect 2>&1); then
        if [ "$kind" = seam ]; then
            echo "make-build: $archive: defines the seam and is otherwise clean"
        else
            echo "make-build: $(echo "$out" | tail -n 1)"
        fi
    else
        echo "$out"; echo "make-build: $archive: pick-and-link check FAILED"; fail=1
    fi
    [ -n "$M" ] || continue
    # The same members as meson's archive of that directory (meson names a
    # member after its source path, '/' turned into '_', plus '.o').
    rel=${dir#"$S"/}
    lower=$(echo "$key" | tr 'A-Z' 'a-z')
    ma=""
    for c in "$M/$rel/$archive" "$M/$rel/lib$lower.a"; do
        [ -f "$c" ] && { ma=$c; break; }
    done
    if [ -z "$ma" ]; then
        echo "make-build: $key: no meson archive in $M/$rel (not built in this flavour)"
        continue
    fi
    want=$(for s in $srcs; do echo "$s.o" | tr '/' '_'; done | sort)
    have=$("$AR" t "$ma" | sort)
    if [ "$want" != "$have" ]; then
        echo "make-build: $rel/sources.mk and meson's $(basename "$ma") differ:"
        echo "  sources.mk: $(echo $want)"
        echo "  meson:      $(echo $have)"
        fail=1
    fi
done <"$O/list"

[ "$n" -gt 0 ] || { echo "make-build: no library listed"; exit 1; }
if [ "$fail" = 0 ]; then
    echo "make-build: ok, $n archives"
else
    echo "make-build: FAILED"
fi
exit $fail
