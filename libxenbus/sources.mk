# libxfxenbus (libxenbus/): the xenstore client and XenBus device helpers.
# Variables as described in common/sources.mk; docs/EMBEDDING.md shows a
# build.
XF_LIBS += XENBUS
ifndef XF_XENBUS_DIR
XF_XENBUS_DIR := $(patsubst %/,%,$(dir $(lastword $(MAKEFILE_LIST))))
endif
XF_XENBUS_ARCHIVE := libxfxenbus.a
XF_XENBUS_SRCS := \
	src/core.c \
	src/sync.c \
	src/ops.c \
	src/watch.c \
	src/xact.c \
	src/device.c \
	src/errors.c \
	src/transport_ring.c
XF_XENBUS_HEADERS := \
	include/xenfront/xenbus.h \
	include/xenfront/xenbus_transport.h
XF_XENBUS_INCDIRS := include
XF_XENBUS_REQUIRES := EVTCHN COMMON
XF_XENBUS_CFLAGS := -std=c11
XF_XENBUS_PREFIX := xf_xenbus_
XF_XENBUS_KIND := library

# Host programs only (POSIX, not part of XF_LIBS): xenstored's unix socket,
# the archive meson calls libxenbus_host.a. Needs -std=gnu11 and libc.
XF_XENBUS_HOST_SRCS := host/socket.c
XF_XENBUS_HOST_HEADERS := include/xenfront/xenbus_host.h
XF_XENBUS_HOST_CFLAGS := -std=gnu11
