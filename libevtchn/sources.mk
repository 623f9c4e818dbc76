# libxfevtchn (libevtchn/): event channels. Variables as described in
# common/sources.mk; docs/EMBEDDING.md shows a build.
XF_LIBS += EVTCHN
ifndef XF_EVTCHN_DIR
XF_EVTCHN_DIR := $(patsubst %/,%,$(dir $(lastword $(MAKEFILE_LIST))))
endif
XF_EVTCHN_ARCHIVE := libxfevtchn.a
XF_EVTCHN_SRCS := \
	src/core.c \
	src/bind.c \
	src/port.c \
	src/dispatch.c \
	src/upcall.c
XF_EVTCHN_HEADERS := include/xenfront/evtchn.h
XF_EVTCHN_INCDIRS := include
XF_EVTCHN_REQUIRES := COMMON
XF_EVTCHN_CFLAGS := -std=c11
XF_EVTCHN_PREFIX := xf_evtchn_
XF_EVTCHN_KIND := library
