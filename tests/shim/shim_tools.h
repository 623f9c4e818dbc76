/*
 * xfshim: a test-only LD_PRELOAD library that gives unmodified dom0 programs
 * (xenstored, xenconsoled, QEMU's Xen PV backends) the dom0 interfaces they
 * call, on a host with no hypervisor, backed by the project's Xen simulator
 * ($XF_SIM_DIR, attached as dom0). One file per library it stands in for, as
 * Xen's tools/libs are laid out:
 *
 *  - xenctrl.c: libxenctrl: xc_interface_open/close, xc_domain_getinfo,
 *    xc_evtchn_status, xc_get_hvm_param; the rest of what QEMU links fails
 *    with ENOSYS;
 *  - xenevtchn.c: libxenevtchn: every handle is a real pollable fd (one end
 *    of a socket pair), fed by a per-handle thread that waits in the
 *    simulator for the handle's ports and writes each pending port number, as
 *    the Linux evtchn device does. pending() returns 0, never -1, when
 *    nothing is there (xenstored aborts on -1);
 *  - xengnttab.c: libxengnttab: maps through the simulator's
 *    GNTTABOP_map_grant_ref (Xen's checks: permission, domid, read-only;
 *    GNTST_* statuses; pins); several refs are mapped one by one, then their
 *    frames aliased side by side from the granter's memory file; grant copy
 *    maps, copies and unmaps with the same checks (a zero-length copy
 *    succeeds);
 *  - xenforeignmemory.c: a guest's frames mapped from its memory file;
 *  - xendevicemodel.c, xentoolcore.c: handles and harmless answers;
 *  - proc_xen.c: /proc/xen/xsd_port and /proc/xen/xsd_kva for xenstored: a
 *    fresh dom0 port unbound for dom0 itself, and a zeroed page (dom0 talks
 *    to xenstored over its socket here, never over this ring);
 *  - libc.c: open() and friends, to serve those two files; every other
 *    open() is the C library's (dlsym(RTLD_NEXT)).
 *
 * This header is the Xen-tools side's: it includes Xen's tools headers and
 * never the project's (they define the same macros differently); the
 * simulator side is shim_sim.c, and shim.h is where the two meet. The shim
 * is built without sanitizers: the programs it is preloaded into are not.
 */
#ifndef XF_SHIM_TOOLS_H
#define XF_SHIM_TOOLS_H

/* open and open64 (fopen, openat) are both defined in libc.c: no
 * redirection of one to the other (off_t is 64 bits on LP64 either way). */
#undef _FILE_OFFSET_BITS
#define _GNU_SOURCE
#include "shim.h"

#include <xenctrl.h>
#include <xenevtchn.h>
#include <xengnttab.h>
#include <xenforeignmemory.h>
#include <xendevicemodel.h>
#include <xentoolcore.h>

#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

/* The interfaces the programs call; everything else stays hidden
 * (-fvisibility=hidden). */
#define EXPORT __attribute__((visibility("default")))
#define PAGE_SZ 4096u

static inline int fail(int err)
{
    errno = err;
    return -1;
}

/* -errno from the sim half to the libraries' -1 + errno. */
static inline int ret_errno(int rc)
{
    return rc < 0 ? fail(-rc) : rc;
}

/* An interface the programs link but a PV backend never calls. */
#define ENOSYS_STUB(name, ...) EXPORT int name(__VA_ARGS__) { return fail(ENOSYS); }
#define U __attribute__((unused))

/* A library handle of `size` zeroed bytes, after attaching to the simulator
 * (the programs open a handle before anything else); NULL with errno ENOENT
 * when there is no simulator, as the real libraries answer without
 * /dev/xen (xenctrl.c). */
SHIM_HIDDEN void *shim_handle_new(size_t size);

/* /proc/xen/xsd_port or xsd_kva (proc_xen.c). */
SHIM_HIDDEN bool shim_is_xsd(const char *path);
SHIM_HIDDEN int shim_xsd_file(const char *path);

#endif
