# libxfcommon (common/): barriers, the shared-ring layer, the id table, the
# platform seam's header, logging. For builds without meson (make, Kbuild,
# Mini-OS, Unikraft's Makefile.uk), as libfdt's Makefile.libfdt is: plain
# variables to include and use, no rules. docs/EMBEDDING.md shows a build.
#
# Every xenfront sources.mk defines the same variables, named for its
# library (XF_COMMON_, XF_EVTCHN_, XF_GNTTAB_, XF_XENBUS_, XF_CONSOLE_,
# XF_PVH_, ...); paths are relative to XF_<LIB>_DIR:
#
#   XF_LIBS            += the library's key (COMMON), for loops over all
#   XF_<LIB>_DIR       this directory (set from the includer's path unless
#                      already set: Kbuild users may set it to $(src)/...)
#   XF_<LIB>_ARCHIVE   the archive's name, the same as meson's
#   XF_<LIB>_SRCS      the C sources of the archive
#   XF_<LIB>_HEADERS   the public headers (to install or copy)
#   XF_<LIB>_INCDIRS   its include directories (public; private headers sit
#                      beside the sources and are included with "")
#   XF_<LIB>_REQUIRES  the keys of the xenfront libraries it needs, all of
#                      them, in link order: their INCDIRS are needed too
#   XF_<LIB>_CFLAGS    what its sources need beyond the kernel's own flags
#   XF_<LIB>_PREFIX    the prefix of every global symbol it defines
#   XF_<LIB>_KIND      library (uses the xf_plat_* seam) or seam (defines it)
#
# Beyond these, every xenfront source needs Xen's public headers: a
# directory holding xen/ (libxen-dev's, or the copy a freestanding meson
# install puts in <includedir>/xenfront/xen-public), on the include path
# without libc beside it. docs/EMBEDDING.md gives the compile line.
XF_LIBS += COMMON
ifndef XF_COMMON_DIR
XF_COMMON_DIR := $(patsubst %/,%,$(dir $(lastword $(MAKEFILE_LIST))))
endif
XF_COMMON_ARCHIVE := libxfcommon.a
XF_COMMON_SRCS := \
	src/ring.c \
	src/idtable.c \
	src/log.c \
	src/physmap.c
XF_COMMON_HEADERS := \
	include/xenfront/barrier.h \
	include/xenfront/base.h \
	include/xenfront/errno.h \
	include/xenfront/idtable.h \
	include/xenfront/physmap.h \
	include/xenfront/platform.h \
	include/xenfront/ring.h \
	include/xenfront/xen.h
XF_COMMON_INCDIRS := include
XF_COMMON_REQUIRES :=
# C11 (gnu11, c17 and later work too); GNU C extensions (gcc or clang).
XF_COMMON_CFLAGS := -std=c11
XF_COMMON_PREFIX := xf_
XF_COMMON_KIND := library
