/*
 * xenfront/sim.h: a software Xen for host-side tests (libxfsim.a).
 *
 * The simulator implements every xf_plat_* function of <xenfront/platform.h>
 * and behaves like Xen 4.17 for the hypercall sub-operations the libraries
 * use, on Xen's own ABI structures, including Xen's error codes. It models:
 *
 *  - domains: dom0 (privileged) and a guest domU made by xf_sim_create(),
 *    more with xf_sim_domain_create();
 *  - guest memory in a file (frame F at offset F*4096), mapped MAP_SHARED,
 *    plus a "foreign range" of guest frames above RAM into which grants are
 *    mapped (gfns [ram_frames + XF_SIM_FOREIGN_GAP, + foreign_frames));
 *  - 2-level event channels in each domain's shared_info page;
 *  - a v1 grant table per domain, in a file, read the way Xen reads it;
 *  - HVM params (xenstore and console pages and ports), sched_op, console_io
 *    and xen_version.
 *
 * All hypervisor state lives in files in a private directory (xf_sim_dir()),
 * so another process can xf_sim_attach() and act as a domain (a backend).
 * No pointers are stored there; one process-shared mutex serialises every
 * hypercall, and one process-shared condition variable wakes waiters.
 *
 * Hypercall entry points return what Xen returns: 0 or a positive value, or
 * a negative Xen errno (-XEN_EINVAL ...; the numbers are Linux's). Grant
 * operations report per-op GNTST_* statuses in the op structures, as Xen
 * does. The other functions return negative errno values unless said.
 *
 * Threads: every function may be called from any thread of any process
 * attached to the simulator. Upcall handlers run only on the thread that
 * calls xf_plat_wait(), SCHEDOP_block/poll or xf_sim_deliver_upcalls() for
 * that domain, never asynchronously.
 *
 * The simulator prints nothing; it logs through xf_log().
 *
 * Where it knowingly differs from Xen 4.17 (each for simplicity; none is
 * visible to a correct PVH front end):
 *  - v1 grant tables only: domains behave as if built with
 *    max_grant_version=1 (GNTTABOP_set_version(2) gives -ENOSYS); the FIFO
 *    event ABI is absent (EVTCHNOP_init_control gives -EOPNOTSUPP).
 *  - add_to_physmap accepts only RAM gfns (Xen: any gfn) and only the
 *    shared_info and grant_table spaces (others: -EOPNOTSUPP). As in Xen,
 *    the RAM page it replaces is gone: when the page is moved away or
 *    removed, the gfn is a hole (PROT_NONE here, xf_sim_gfn_to_va NULL)
 *    until XENMEM_populate_physmap (order 0) puts a fresh zeroed page back.
 *    remove_from_physmap of a plain RAM page: -EOPNOTSUPP.
 *  - Grants map only into the mapper's foreign range, one per gfn (Xen
 *    would replace a RAM page, or crash the domain for a busy gfn); both
 *    give GNTST_general_error here.
 *  - GNTTABOP_setup_table reports a frame not mapped by add_to_physmap as
 *    ~0 (what Xen's m2p lookup gives a translated guest).
 *  - SCHEDOP_shutdown returns 0; SCHEDOP_block waits for vCPU 0 only.
 *  - An upcall is "configured" by any non-zero HVM_PARAM_CALLBACK_IRQ or an
 *    upcall vector, and honours evtchn_upcall_mask (an HVM guest's IF flag
 *    in Xen); shared_info starts zeroed (all ports unmasked).
 *  - A destroyed domain's pages stay readable by those who mapped them
 *    until they unmap (as Xen's zombie domain), but the domain is gone at
 *    once from every other point of view.
 *  - Other processes see p2m changes (foreign mappings, overlays) lazily,
 *    the next time they touch the domain through the simulator.
 */
#ifndef XENFRONT_SIM_H
#define XENFRONT_SIM_H

#include <xenfront/platform.h>

#include <pthread.h>
#include <sys/types.h>

#ifdef __cplusplus
extern "C" {
#endif

struct xf_sim;

/* Limits of the model (the hypervisor-state file is sized for them). */
#define XF_SIM_MAX_DOMAINS      8
#define XF_SIM_MAX_RAM_FRAMES   65536u   /* 256 MiB per domain        */
#define XF_SIM_MAX_FOREIGN      4096u    /* foreign-range frames      */
#define XF_SIM_MAX_GRANT_FRAMES 64u      /* Xen's default maximum     */
#define XF_SIM_MAX_MAPTRACK     2048u    /* grant handles per mapper  */
#define XF_SIM_NR_PORTS         EVTCHN_2L_NR_CHANNELS
#define XF_SIM_FOREIGN_GAP      16u      /* unbacked frames after RAM */
#define XF_SIM_RESERVED_FRAMES  8u       /* never given by the allocator */

/* Where the domain builder puts the guest's special pages. */
#define XF_SIM_CONSOLE_GFN 1u
#define XF_SIM_STORE_GFN   2u

/* One domain. Zero fields take the defaults shown. */
struct xf_sim_domain_config {
    domid_t domid;                  /* must be set for extra domains; the guest: 0 -> 1 */
    bool privileged;                /* like dom0 (XSM dummy policy: may act on others) */
    uint32_t ram_frames;            /* 0 -> 4096 (16 MiB); dom0: 0 -> 1024 */
    uint32_t foreign_frames;        /* 0 -> 1024 */
    uint32_t max_grant_frames;      /* 0 -> 64 */
    uint32_t initial_grant_frames;  /* 0 -> 1 */
    uint32_t vcpus;                 /* 0 -> 1; at most XEN_LEGACY_MAX_VCPUS */
    uint32_t max_evtchn_port;       /* 0 -> 4095 (all 2-level ports) */
};

struct xf_sim_config {
    struct xf_sim_domain_config guest;  /* the domU; .privileged ignored */
    struct xf_sim_domain_config dom0;   /* .domid and .privileged ignored */
    bool no_store_console;   /* do not build xenstore/console pages and ports */
    bool guest_console_io;   /* CONSOLEIO for domUs (a debug Xen); default -EPERM */
};

/* ------------------------------------------------------------------------
 * Life cycle.
 */

/*
 * Create a simulator: a private directory (mkdtemp under $TMPDIR or /tmp)
 * holding the state files, dom0 and the guest domain. Like Xen's domain
 * builder, the guest gets a console page (gfn XF_SIM_CONSOLE_GFN) and a
 * xenstore page (XF_SIM_STORE_GFN), each with an event channel allocated
 * unbound for dom0, published in its HVM params, and granted to dom0 in
 * grant refs 0 (console) and 1 (xenstore). cfg may be NULL (all defaults).
 * The first simulator created in a process becomes the seam's default
 * (the guest is the current domain of every thread without
 * xf_sim_set_current()). Returns NULL on failure (logged).
 */
struct xf_sim *xf_sim_create(const struct xf_sim_config *cfg);

/* Destroy: unmap everything and remove the directory and its files. Only
 * the creating process may call it; attached processes call xf_sim_detach(). */
void xf_sim_destroy(struct xf_sim *sim);

/* Attach to a simulator created by another process (dir = its xf_sim_dir()).
 * The attached handle sees and acts on the same domains. NULL on failure. */
struct xf_sim *xf_sim_attach(const char *dir);

/* Drop an attached handle (unmaps; the state stays). Foreign mappings made
 * through this handle stay recorded in the hypervisor state until unmapped. */
void xf_sim_detach(struct xf_sim *sim);

/* The state directory. */
const char *xf_sim_dir(const struct xf_sim *sim);

/* The guest domain created by xf_sim_create(). */
domid_t xf_sim_guest_domid(const struct xf_sim *sim);

/*
 * Create another domain (cfg->domid unused and < DOMID_FIRST_RESERVED).
 * Returns the domid, -XEN_EEXIST, -XEN_EINVAL (bad config), -XEN_ENOSPC
 * (XF_SIM_MAX_DOMAINS reached) or -XEN_EIO (files).
 */
int xf_sim_domain_create(struct xf_sim *sim, const struct xf_sim_domain_config *cfg);

/*
 * Destroy a domain as Xen's domain_kill does: its event channels are closed
 * (a peer's interdomain port becomes unbound, remote = the dead domain), the
 * grants it mapped from others are unmapped and their pins dropped. Others'
 * mappings of its pages stay valid until they unmap them (Xen keeps a dying
 * domain's pages while they are mapped). 0, -XEN_ESRCH or -XEN_EINVAL (dom0).
 */
int xf_sim_domain_destroy(struct xf_sim *sim, domid_t domid);

/* Does the domain exist? */
bool xf_sim_domain_exists(struct xf_sim *sim, domid_t domid);

/* ------------------------------------------------------------------------
 * The seam's current domain.
 */

/* Make domid the current domain of the calling thread for xf_plat_*
 * (sim NULL: back to the process default). */
void xf_sim_set_current(struct xf_sim *sim, domid_t domid);

/* ------------------------------------------------------------------------
 * Hypercalls as any domain ("caller"). The xf_plat_* functions call these
 * with the current domain. Arguments are as for the hypercall of the same
 * name; pointers are plain pointers in this process.
 */
long xf_sim_event_channel_op(struct xf_sim *sim, domid_t caller, int cmd, void *arg);
long xf_sim_grant_table_op(struct xf_sim *sim, domid_t caller, unsigned int cmd,
                           void *uop, unsigned int count);
long xf_sim_memory_op(struct xf_sim *sim, domid_t caller, unsigned int cmd, void *arg);
long xf_sim_hvm_op(struct xf_sim *sim, domid_t caller, unsigned int cmd, void *arg);
/* SCHEDOP_shutdown records the reason and returns 0 (a real Xen would never
 * return to the vCPU). SCHEDOP_block and SCHEDOP_poll wait on this thread. */
long xf_sim_sched_op(struct xf_sim *sim, domid_t caller, int cmd, void *arg);
long xf_sim_console_io(struct xf_sim *sim, domid_t caller, int cmd,
                       unsigned int count, char *buf);
long xf_sim_xen_version(struct xf_sim *sim, domid_t caller, int cmd, void *arg);

/* ------------------------------------------------------------------------
 * Memory.
 */

/* The address in this process of a domain's frame gfn: RAM (or what
 * add_to_physmap put there) or a mapped foreign-range frame. NULL if the
 * domain or the frame does not exist (an unmapped foreign frame included).
 * Like xenforeignmemory_map for a privileged backend. */
void *xf_sim_gfn_to_va(struct xf_sim *sim, domid_t domid, xen_pfn_t gfn);

/* A domain's shared_info page (the one add_to_physmap maps), or NULL. */
shared_info_t *xf_sim_shared_info(struct xf_sim *sim, domid_t domid);

/* A domain's grant table (XF_SIM max_grant_frames * 512 entries), or NULL. */
grant_entry_v1_t *xf_sim_grant_table(struct xf_sim *sim, domid_t domid);

/* First gfn and size of a domain's foreign range; 0 or -XEN_ESRCH. */
int xf_sim_foreign_range(struct xf_sim *sim, domid_t domid,
                         xen_pfn_t *first_gfn, size_t *nframes);

/* Frames of the domain's RAM still free for its page allocator. */
long xf_sim_free_frames(struct xf_sim *sim, domid_t domid);

/* ------------------------------------------------------------------------
 * Acting as the backend (another domain), from any thread or process.
 */

/*
 * Map grant ref of granter into mapper's foreign range: picks a free frame
 * of the range and does a real GNTTABOP_map_grant_ref as mapper. Returns the
 * address in this process, *handle and *status = GNTST_okay; or NULL with
 * *status the GNTST_* error (GNTST_no_device_space if the range is full,
 * GNTST_no_space, as Xen, when the mapper's grant handles are used up).
 * handle and status may be NULL.
 */
void *xf_sim_map_grant(struct xf_sim *sim, domid_t mapper, domid_t granter,
                       grant_ref_t ref, bool readonly, grant_handle_t *handle,
                       int16_t *status);

/* Unmap a handle from xf_sim_map_grant() (GNTTABOP_unmap_grant_ref as
 * mapper). Returns the GNTST_* status (GNTST_okay = 0). */
int xf_sim_unmap_grant(struct xf_sim *sim, domid_t mapper, grant_handle_t handle);

/* EVTCHNOP_bind_interdomain as domid: the new local port, or -errno. */
int xf_sim_evtchn_bind_interdomain(struct xf_sim *sim, domid_t domid,
                                   domid_t remote_dom, evtchn_port_t remote_port);

/* EVTCHNOP_alloc_unbound in domid for remote_dom: the port, or -errno. */
int xf_sim_evtchn_alloc_unbound(struct xf_sim *sim, domid_t domid, domid_t remote_dom);

/* EVTCHNOP_send as domid: 0 or -errno. */
int xf_sim_evtchn_send(struct xf_sim *sim, domid_t domid, evtchn_port_t port);

/* EVTCHNOP_close as domid: 0 or -errno. */
int xf_sim_evtchn_close(struct xf_sim *sim, domid_t domid, evtchn_port_t port);

/* Wait until port is pending in domid's shared_info (masked or not), then
 * clear it. 0, -XEN_ETIMEDOUT at deadline_ns (xf_plat_now_ns() clock),
 * -XEN_ESRCH / -XEN_EINVAL for a bad domain / port. */
int xf_sim_evtchn_wait(struct xf_sim *sim, domid_t domid, evtchn_port_t port,
                       uint64_t deadline_ns);

/*
 * Wait until any of ports[0..n) is pending in domid's shared_info, clear it
 * and return that port (the first of ports[] found so). Returns -XEN_EINTR as soon
 * as *cancel is non-zero (it is checked at every wake-up: set it, then call
 * xf_sim_kick()), -XEN_ETIMEDOUT at deadline_ns (~0: none), -XEN_ESRCH /
 * -XEN_EINVAL for a bad domain / port. n may be 0 (wait for cancel only).
 * For a process that serves many ports from one thread (a dom0 shim).
 */
int xf_sim_evtchn_wait_any(struct xf_sim *sim, domid_t domid, const evtchn_port_t *ports,
                           unsigned int n, const volatile int *cancel, uint64_t deadline_ns);

/* Wake every waiter of the simulator, in every process (they re-check). */
void xf_sim_kick(struct xf_sim *sim);

/*
 * What backs a frame, as a file and offset, for a process that wants its
 * own mapping of it (several frames side by side, as gntdev and privcmd
 * give): a domain's gfn (RAM, shared_info or a grant-table frame), or the
 * granter's frame behind mapper's grant handle. Returns a file descriptor
 * owned by the simulator (do not close it; mmap it at once), or a negative
 * Xen errno: -XEN_ESRCH (domain), -XEN_EINVAL (no such frame or handle).
 */
int xf_sim_gfn_backing(struct xf_sim *sim, domid_t domid, xen_pfn_t gfn, off_t *off);
int xf_sim_grant_backing(struct xf_sim *sim, domid_t mapper, grant_handle_t handle,
                         off_t *off);

/* Atomically test and clear port's pending bit in domid's shared_info. */
bool xf_sim_evtchn_test_and_clear(struct xf_sim *sim, domid_t domid, evtchn_port_t port);

/* Raise a VIRQ as Xen would (send_guest_vcpu_virq / send_guest_global_virq).
 * 0; -XEN_ENOENT if it is not bound (Xen drops it silently); -XEN_EINVAL. */
int xf_sim_raise_virq(struct xf_sim *sim, domid_t domid, unsigned int virq,
                      unsigned int vcpu);

/* ------------------------------------------------------------------------
 * Upcalls, shutdown, params.
 */

typedef void (*xf_sim_upcall_fn)(void *arg, unsigned int vcpu);

/*
 * Register the function that stands for the domain's interrupt vector in
 * this process. It runs when the domain has configured an upcall
 * (HVMOP_set_evtchn_upcall_vector or a non-zero HVM_PARAM_CALLBACK_IRQ), a
 * vCPU has evtchn_upcall_pending set and evtchn_upcall_mask clear, and this
 * thread is in xf_plat_wait(), SCHEDOP_block/poll or
 * xf_sim_deliver_upcalls() for the domain. Like an interrupt handler, it
 * must clear evtchn_upcall_pending itself. fn NULL removes it.
 */
void xf_sim_set_upcall_handler(struct xf_sim *sim, domid_t domid,
                               xf_sim_upcall_fn fn, void *arg);

/* Deliver pending upcalls of domid now, on this thread. Returns the number
 * of handler calls made (0 if none was due). */
int xf_sim_deliver_upcalls(struct xf_sim *sim, domid_t domid);

/*
 * Emulated asynchronous interrupts, for tests of the critical-section rule
 * (xf_plat_irq_save/restore). The simulator's ordinary upcalls run only
 * where the guest waits, so they can never interrupt a library call; these
 * can. xf_sim_irq_install() makes fn this thread's "interrupt handler":
 * from then on xf_sim_irq_raise(thread) (from any thread) interrupts that
 * thread wherever it is, through a signal, and runs fn there, unless the
 * thread is inside xf_plat_irq_save(), in which case fn runs as soon as
 * the matching xf_plat_irq_restore() re-enables "interrupts". fn runs with
 * interrupts off, as a real handler does. xf_sim_irq_uninstall() stops
 * it (returns once no fn runs on this thread). Returns 0 or -XF_EINVAL.
 */
typedef void (*xf_sim_irq_fn)(void *arg);
int xf_sim_irq_install(xf_sim_irq_fn fn, void *arg);
void xf_sim_irq_uninstall(void);
int xf_sim_irq_raise(pthread_t thread);
/* Also raise one on this thread from inside every n-th outermost
 * xf_plat_irq_save() (0: never), so interrupts that must be held off are
 * certain to happen, not left to timing. */
void xf_sim_irq_self_every(uint32_t n);
/* This thread's counts: interrupts taken at once, and held off until restore. */
void xf_sim_irq_counts(uint64_t *direct, uint64_t *deferred);

/* SHUTDOWN_* reason given by SCHEDOP_shutdown, -XEN_ENODATA if the domain
 * has not shut down, -XEN_ESRCH if it does not exist. */
int xf_sim_domain_shutdown_reason(struct xf_sim *sim, domid_t domid);

/* An HVM param of a domain (as the toolstack sees it), 0 if unset/unknown. */
uint64_t xf_sim_hvm_param(struct xf_sim *sim, domid_t domid, unsigned int index);

/* The guest's xenstore/console frames and ports (0 without them). */
xen_pfn_t xf_sim_store_gfn(struct xf_sim *sim);
evtchn_port_t xf_sim_store_port(struct xf_sim *sim);
xen_pfn_t xf_sim_console_gfn(struct xf_sim *sim);
evtchn_port_t xf_sim_console_port(struct xf_sim *sim);

#ifdef __cplusplus
}
#endif

#endif /* XENFRONT_SIM_H */
