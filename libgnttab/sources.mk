# libxfgnttab (libgnttab/): grant tables. Variables as described in
# common/sources.mk; docs/EMBEDDING.md shows a build.
XF_LIBS += GNTTAB
ifndef XF_GNTTAB_DIR
XF_GNTTAB_DIR := $(patsubst %/,%,$(dir $(lastword $(MAKEFILE_LIST))))
endif
XF_GNTTAB_ARCHIVE := libxfgnttab.a
XF_GNTTAB_SRCS := \
	src/table.c \
	src/grant.c \
	src/reclaim.c \
	src/map.c \
	src/copy.c \
	src/rangealloc.c
XF_GNTTAB_HEADERS := include/xenfront/gnttab.h
XF_GNTTAB_INCDIRS := include
XF_GNTTAB_REQUIRES := COMMON
XF_GNTTAB_CFLAGS := -std=c11
XF_GNTTAB_PREFIX := xf_gnttab_
XF_GNTTAB_KIND := library
