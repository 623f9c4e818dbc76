# libxfblkfront (blkfront/): the PV block front end. Variables as described in
# common/sources.mk; docs/EMBEDDING.md shows a build.
XF_LIBS += BLKFRONT
ifndef XF_BLKFRONT_DIR
XF_BLKFRONT_DIR := $(patsubst %/,%,$(dir $(lastword $(MAKEFILE_LIST))))
endif
XF_BLKFRONT_ARCHIVE := libxfblkfront.a
XF_BLKFRONT_SRCS := \
	src/blkfront.c \
	src/data.c
XF_BLKFRONT_HEADERS := include/xenfront/blkfront.h
XF_BLKFRONT_INCDIRS := include
XF_BLKFRONT_REQUIRES := FRONTDEV XENBUS GNTTAB EVTCHN COMMON
XF_BLKFRONT_CFLAGS := -std=c11
XF_BLKFRONT_PREFIX := xf_blkfront_
XF_BLKFRONT_KIND := library
