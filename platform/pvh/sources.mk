# libxfpvh (platform/pvh/): the platform seam for x86_64 PVH kernels. It
# defines the xf_plat_* functions the libraries call (KIND seam) and its own
# xf_pvh_*. Variables as described in common/sources.mk; docs/EMBEDDING.md
# shows a build. x86_64 only.
XF_LIBS += PVH
ifndef XF_PVH_DIR
XF_PVH_DIR := $(patsubst %/,%,$(dir $(lastword $(MAKEFILE_LIST))))
endif
XF_PVH_ARCHIVE := libxfpvh.a
XF_PVH_SRCS := src/pvh.c
XF_PVH_HEADERS := include/xenfront/pvh.h
XF_PVH_INCDIRS := include
XF_PVH_REQUIRES := COMMON
# -mno-red-zone: its critical section pushes RFLAGS below the stack pointer.
XF_PVH_CFLAGS := -std=c11 -mno-red-zone
XF_PVH_PREFIX := xf_pvh_
XF_PVH_KIND := seam
