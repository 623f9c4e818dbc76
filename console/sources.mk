# libxfconsole (console/): the PV console. Variables as described in
# common/sources.mk; docs/EMBEDDING.md shows a build. Each part is its own
# object: a kernel that calls only the primary console and early output
# links no object that needs libxffrontdev, libxfxenbus or libxfgnttab, so
# for it REQUIRES is EVTCHN COMMON alone.
XF_LIBS += CONSOLE
ifndef XF_CONSOLE_DIR
XF_CONSOLE_DIR := $(patsubst %/,%,$(dir $(lastword $(MAKEFILE_LIST))))
endif
XF_CONSOLE_ARCHIVE := libxfconsole.a
XF_CONSOLE_SRCS := \
	src/ring.c \
	src/primary.c \
	src/early.c \
	src/early_e9.c \
	src/secondary.c
XF_CONSOLE_HEADERS := \
	include/xenfront/console.h \
	include/xenfront/console_secondary.h
XF_CONSOLE_INCDIRS := include
XF_CONSOLE_REQUIRES := FRONTDEV XENBUS GNTTAB EVTCHN COMMON
XF_CONSOLE_CFLAGS := -std=c11
XF_CONSOLE_PREFIX := xf_console_
XF_CONSOLE_KIND := library
