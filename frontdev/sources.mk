# libxffrontdev (frontdev/): the front-end device layer. Variables as
# described in common/sources.mk; docs/EMBEDDING.md shows a build.
XF_LIBS += FRONTDEV
ifndef XF_FRONTDEV_DIR
XF_FRONTDEV_DIR := $(patsubst %/,%,$(dir $(lastword $(MAKEFILE_LIST))))
endif
XF_FRONTDEV_ARCHIVE := libxffrontdev.a
XF_FRONTDEV_SRCS := \
	src/frontdev.c \
	src/ring.c
XF_FRONTDEV_HEADERS := include/xenfront/frontdev.h
XF_FRONTDEV_INCDIRS := include
XF_FRONTDEV_REQUIRES := XENBUS GNTTAB EVTCHN COMMON
XF_FRONTDEV_CFLAGS := -std=c11
XF_FRONTDEV_PREFIX := xf_frontdev_
XF_FRONTDEV_KIND := library
