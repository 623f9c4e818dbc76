# libxfnetfront (netfront/): the PV network front end. Variables as described in
# common/sources.mk; docs/EMBEDDING.md shows a build.
XF_LIBS += NETFRONT
ifndef XF_NETFRONT_DIR
XF_NETFRONT_DIR := $(patsubst %/,%,$(dir $(lastword $(MAKEFILE_LIST))))
endif
XF_NETFRONT_ARCHIVE := libxfnetfront.a
XF_NETFRONT_SRCS := \
	src/netfront.c \
	src/rx.c \
	src/tx.c
XF_NETFRONT_HEADERS := include/xenfront/netfront.h
XF_NETFRONT_INCDIRS := include
XF_NETFRONT_REQUIRES := FRONTDEV XENBUS GNTTAB EVTCHN COMMON
XF_NETFRONT_CFLAGS := -std=c11
XF_NETFRONT_PREFIX := xf_netfront_
XF_NETFRONT_KIND := library
