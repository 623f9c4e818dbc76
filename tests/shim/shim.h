/*
 * The shim's two halves meet here, in plain C types: shim.c gives unmodified
 * dom0 programs the libxenctrl/libxenevtchn/libxengnttab/... interfaces (it
 * includes Xen's tools headers), shim_sim.c does the work as dom0 through the
 * simulator (it includes the project's headers). The two sets of headers
 * define the same macros differently, so they never meet in one file.
 *
 * Every function returns a negative errno value on failure (the simulator's
 * Xen errno numbers are Linux's).
 */
#ifndef XF_SHIM_H
#define XF_SHIM_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#define SHIM_HIDDEN __attribute__((visibility("hidden")))

/* Attach to the simulator named by $XF_SIM_DIR (once). 0 or -errno. */
SHIM_HIDDEN int shim_attach(void);

SHIM_HIDDEN bool shim_domain_exists(uint32_t domid);
/* SHUTDOWN_* reason, or -1 if running (or gone). */
SHIM_HIDDEN int shim_domain_shutdown_reason(uint32_t domid);
SHIM_HIDDEN uint64_t shim_hvm_param(uint32_t domid, unsigned int index);

/* Event channels, as dom0. */
SHIM_HIDDEN int shim_evtchn_bind_interdomain(uint32_t remote_dom, uint32_t remote_port);
SHIM_HIDDEN int shim_evtchn_alloc_unbound(uint32_t remote_dom);
SHIM_HIDDEN int shim_evtchn_bind_virq(unsigned int virq);
SHIM_HIDDEN int shim_evtchn_close(uint32_t port);
SHIM_HIDDEN int shim_evtchn_send(uint32_t port);
/* struct evtchn_status, filled by EVTCHNOP_status as dom0. */
SHIM_HIDDEN int shim_evtchn_status(void *status);
/* A pending port of ports[0..n) (cleared), -EINTR once *cancel is set. */
SHIM_HIDDEN int shim_evtchn_wait_any(const uint32_t *ports, unsigned int n,
                                     const volatile int *cancel);
SHIM_HIDDEN void shim_kick(void);

/* Grants, as dom0: Xen's checks, GNTST_* statuses in *status. */
SHIM_HIDDEN void *shim_map_grant(uint32_t granter, uint32_t ref, bool readonly,
                                 uint32_t *handle, int16_t *status);
SHIM_HIDDEN int16_t shim_unmap_grant(uint32_t handle);
/* The file and offset behind a handle / a domain's gfn (fd owned by the sim). */
SHIM_HIDDEN int shim_grant_backing(uint32_t handle, off_t *off);
SHIM_HIDDEN int shim_gfn_backing(uint32_t domid, uint64_t gfn, off_t *off);

#endif
