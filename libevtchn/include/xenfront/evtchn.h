/*
 * xenfront/evtchn.h: Xen event channels (libxfevtchn.a), 2-level ABI.
 *
 * A context (struct xf_evtchn) covers the domain's shared_info page and one
 * vCPU's vcpu_info in it: the pending, mask and selector words of all
 * EVTCHN_2L_NR_CHANNELS ports (4096 on 64-bit). Through it a kernel binds
 * ports (each owned by exactly that context until closed), signals them,
 * masks and unmasks them, and has their handlers called by a fair dispatcher,
 * from its upcall (interrupt) handler or by polling.
 *
 * Typical use, one vCPU, upcalls on vector 0xf3:
 *
 *     struct xf_evtchn *ec;
 *     evtchn_port_t port;
 *     xf_evtchn_create(&ec, NULL);                  // maps shared_info
 *     xf_evtchn_alloc_unbound(ec, 0, my_handler, dev, &port);
 *     ... publish port in xenstore; the back end binds it ...
 *     xf_evtchn_upcall_setup(ec, XF_EVTCHN_UPCALL_AUTO, 0xf3);
 *     // in the kernel's vector 0xf3 handler:
 *     xf_evtchn_dispatch(ec, 0);
 *     ...
 *     xf_evtchn_notify(ec, port);                   // kick the back end
 *     xf_evtchn_close(ec, port);
 *     xf_evtchn_destroy(ec);                        // closes what is left
 *
 * Errors are negative values from <xenfront/errno.h>. The ones every port
 * function may return:
 *   -XF_EINVAL    ec is NULL, or port is 0 or not below XF_EVTCHN_NR_PORTS
 *                 (port 0 is never a channel in Xen);
 *   -XF_ENOTCONN  the port is not bound through this context (never bound,
 *                 already closed, or owned by another context) - as Linux's
 *                 /dev/xen/evtchn answers for a port its handle does not own;
 * and a bind returns Xen's own error when Xen refuses it (-XF_ENOSPC: no
 * free port; -XF_ESRCH: no such domain; -XF_EEXIST: VIRQ already bound ...).
 *
 * Concurrency. The library takes no locks and keeps no global state. A
 * context is used by one CPU at a time; the caller serialises calls, except
 * that xf_evtchn_dispatch() may interrupt any other call on the same CPU (it
 * is designed to: bind, close, mask, set_handler publish their changes in an
 * order the dispatcher tolerates at every point). Shared words are accessed
 * with atomics only, since Xen writes them concurrently.
 *
 * From an event handler (that is, during xf_evtchn_dispatch()) one may call
 * every function of this header except xf_evtchn_create(),
 * xf_evtchn_destroy() and xf_evtchn_upcall_setup(): binding (hypercalls only,
 * no allocation), closing any port including the handler's own, notify,
 * mask, unmask, set_handler, the polling functions and status. A nested
 * xf_evtchn_dispatch() returns 0 at once; the outer one picks up the work.
 * Handlers must not re-enable interrupts if the kernel's upcall could then
 * nest (the nested call would return without clearing the upcall).
 * Each declaration below repeats its rule on a "Context:" line; "any"
 * includes an event handler.
 */
#ifndef XENFRONT_EVTCHN_H
#define XENFRONT_EVTCHN_H

#include <xenfront/base.h>
#include <xenfront/xen.h>

#ifdef __cplusplus
extern "C" {
#endif

/* All ports of the 2-level ABI: 4096 with 64-bit words, 1024 with 32-bit. */
#define XF_EVTCHN_NR_PORTS EVTCHN_2L_NR_CHANNELS

struct xf_evtchn;

/*
 * An event handler: called by xf_evtchn_dispatch() for a pending port, after
 * the port's pending bit has been cleared (an event arriving while it runs
 * is therefore never lost: it sets the bit again and is dispatched in a
 * later scan). arg is the opaque pointer given when the handler was set.
 * Context: runs in the event handler; it may call every function of this
 * header whose Context is "any".
 */
typedef void xf_evtchn_handler_fn(struct xf_evtchn *ec, evtchn_port_t port, void *arg);

/* ------------------------------------------------------------------------
 * Context.
 */

struct xf_evtchn_config {
    /*
     * The domain's shared_info page if the kernel has already mapped it (for
     * its clock, or for another context): the library then neither maps nor
     * unmaps it, and leaves the mask bits as they are. NULL (the default):
     * the library allocates a page and maps shared_info over it with
     * XENMEM_add_to_physmap, and masks every port. Xen has one shared_info
     * per domain and moves it when it is mapped again, so map it once.
     */
    shared_info_t *shared_info;
    /*
     * The vCPU whose vcpu_info this context scans and to which its ports
     * are bound (EVTCHNOP_bind_vcpu where Xen defaults to vCPU 0). Default 0.
     * A kernel with several vCPUs may create one context per vCPU, all but
     * the first given the first's xf_evtchn_shared_info().
     */
    uint32_t vcpu;
};

/*
 * Create a context. cfg may be NULL (all defaults). Allocates the context
 * and its handler table (XF_EVTCHN_NR_PORTS entries) with
 * xf_plat_page_alloc(), and maps shared_info unless cfg gives it. On
 * success *out is the context, owned by the caller until
 * xf_evtchn_destroy().
 * Context: not from an event handler.
 * Returns: 0, or -XF_EINVAL (out NULL, vcpu >= XEN_LEGACY_MAX_VCPUS),
 * -XF_ENOMEM, or the error of XENMEM_add_to_physmap (-XF_EFAULT if the
 * platform cannot translate the page it gave).
 */
int xf_evtchn_create(struct xf_evtchn **out, const struct xf_evtchn_config *cfg) XF_MUST_CHECK;

/*
 * Destroy a context: close every port it still owns (in Xen too), unmap
 * shared_info if it mapped it, free its memory. NULL is ignored. The
 * shared_info page the library mapped is given back to the page allocator
 * only once Xen has put RAM back at its frame (XENMEM_populate_physmap
 * after XENMEM_remove_from_physmap); otherwise it is kept (logged), never
 * handed out as a hole in guest memory.
 * Context: not from an event handler, nor while a dispatch on ec may run.
 * Returns: nothing (errors closing ports in Xen are ignored).
 */
void xf_evtchn_destroy(struct xf_evtchn *ec);

/* The shared_info page (for a kernel's clock, or another vCPU's context).
 * Context: any. Returns: the page, or NULL for a NULL ec. */
shared_info_t *xf_evtchn_shared_info(const struct xf_evtchn *ec);

/* The vCPU of this context. Context: any. Returns: it, or 0 for a NULL ec. */
uint32_t xf_evtchn_vcpu(const struct xf_evtchn *ec);

/* Number of ports bound through this context (0 for NULL). Context: any. */
unsigned int xf_evtchn_nr_bound(const struct xf_evtchn *ec);

/* ------------------------------------------------------------------------
 * Binding. Each returns 0 and the new local port in *port, owned by ec until
 * xf_evtchn_close() or xf_evtchn_destroy().
 *
 * handler may be NULL: the port is then a polled port, left masked (it
 * raises no upcall) and skipped by the dispatcher; use xf_evtchn_is_pending()
 * and xf_evtchn_clear() on it, or give it a handler later. With a handler,
 * the port is unmasked once the handler is installed, and an event already
 * pending on it (Xen raises a newly bound interdomain port once) is
 * dispatched.
 * Context: any (hypercalls only, no allocation).
 * Returns: 0, or -XF_EINVAL (ec or port NULL), -XF_EPROTO (Xen returned
 * port 0 or one beyond XF_EVTCHN_NR_PORTS), Xen's error for the bind, or,
 * when the new port must be moved to this context's vCPU (not 0), Xen's
 * error for EVTCHNOP_bind_vcpu (the port is then closed again).
 */

/* EVTCHNOP_alloc_unbound: a port that remote_dom may bind to (a front end
 * publishes it in xenstore for its back end).
 * Context: any. Returns: as the section says. */
int xf_evtchn_alloc_unbound(struct xf_evtchn *ec, domid_t remote_dom,
                            xf_evtchn_handler_fn *handler, void *arg,
                            evtchn_port_t *port) XF_MUST_CHECK;

/* EVTCHNOP_bind_interdomain: connect to remote_port of remote_dom, which it
 * allocated unbound for us.
 * Context: any. Returns: as the section says; Xen: -XF_EINVAL if that port
 * is not unbound for this domain, -XF_ESRCH if the domain does not exist. */
int xf_evtchn_bind_interdomain(struct xf_evtchn *ec, domid_t remote_dom,
                               evtchn_port_t remote_port,
                               xf_evtchn_handler_fn *handler, void *arg,
                               evtchn_port_t *port) XF_MUST_CHECK;

/* EVTCHNOP_bind_virq: a virtual IRQ (VIRQ_*) on this context's vCPU (a
 * global VIRQ is bound on vCPU 0, as Xen requires, then moved).
 * Context: any. Returns: as the section says; Xen: -XF_EINVAL for a bad
 * VIRQ, -XF_EEXIST if it is bound already. */
int xf_evtchn_bind_virq(struct xf_evtchn *ec, uint32_t virq,
                        xf_evtchn_handler_fn *handler, void *arg,
                        evtchn_port_t *port) XF_MUST_CHECK;

/* EVTCHNOP_bind_ipi: a port that signals this context's vCPU from this
 * domain (xf_evtchn_notify() on it raises it here).
 * Context: any. Returns: as the section says. */
int xf_evtchn_bind_ipi(struct xf_evtchn *ec, xf_evtchn_handler_fn *handler, void *arg,
                       evtchn_port_t *port) XF_MUST_CHECK;

/*
 * Take ownership of a port bound by someone else on our behalf, typically
 * the domain builder's xenstore and console ports (HVM_PARAM_STORE_EVTCHN,
 * HVM_PARAM_CONSOLE_EVTCHN). Checked with EVTCHNOP_status. From then on it
 * is ec's like any other (xf_evtchn_close() closes it in Xen). Ownership is
 * recorded per context: a kernel with several contexts (one per vCPU) must
 * not adopt into one a port another already owns.
 * Context: any (hypercalls only, no allocation).
 * Returns: 0, or -XF_EINVAL (ec NULL, bad port, or a VIRQ, IPI or PIRQ
 * port bound to a vCPU other than this context's), -XF_EBUSY (ec owns it
 * already), -XF_ENOTCONN (Xen says it is closed), Xen's error for
 * EVTCHNOP_status, or for EVTCHNOP_bind_vcpu when an unbound or
 * interdomain port is moved to this context's vCPU.
 */
int xf_evtchn_adopt(struct xf_evtchn *ec, evtchn_port_t port,
                    xf_evtchn_handler_fn *handler, void *arg) XF_MUST_CHECK;

/*
 * Adopt a port or, if ec owns it already, take it over: the one way to
 * (re)open a port that must outlive its users, such as the domain
 * builder's xenstore and console ports (closing those cuts the domain off
 * its store or console for good). As xf_evtchn_adopt(); when ec already
 * owns the port (-XF_EBUSY there), installs handler/arg and unmasks it,
 * so an event that arrived while it was released is delivered now. The
 * previous user must have let go (xf_evtchn_release()) or be gone: a
 * take-over replaces its handler.
 * Context: any (it only adopts, sets the handler and unmasks).
 * Returns: 0, or xf_evtchn_adopt()'s, xf_evtchn_set_handler()'s or
 * xf_evtchn_unmask()'s errors.
 */
int xf_evtchn_take(struct xf_evtchn *ec, evtchn_port_t port,
                   xf_evtchn_handler_fn *handler, void *arg) XF_MUST_CHECK;

/*
 * Let go of a port without closing it: mask it and drop its handler. It
 * stays bound in Xen and owned by ec, its events kept pending, for a later
 * xf_evtchn_take().
 * Context: any.
 * Returns: 0, -XF_EINVAL or -XF_ENOTCONN.
 */
int xf_evtchn_release(struct xf_evtchn *ec, evtchn_port_t port);

/*
 * Close (unbind) a port: mask it, stop dispatching it, EVTCHNOP_close it,
 * forget it. If ec's handler for it is running (close from a handler), it
 * completes; it is never called again for this binding, even if the port
 * was pending. After a remote domain closed its end (the port is then
 * unbound in Xen), closing is still right and needed.
 * Context: any, including the port's own handler.
 * Returns: 0, or -XF_EINVAL, -XF_ENOTCONN (never bound, or closed already).
 * If Xen refuses EVTCHNOP_close (the port vanished behind the library's
 * back), the library forgets the port anyway and returns Xen's error.
 */
int xf_evtchn_close(struct xf_evtchn *ec, evtchn_port_t port);

/* ------------------------------------------------------------------------
 * Signalling and masking.
 */

/* EVTCHNOP_send: raise the other end (interdomain: the peer's port; IPI:
 * this vCPU). Sending on a port whose peer has gone is dropped by Xen
 * (returns 0).
 * Context: any. Returns: 0, -XF_EINVAL, -XF_ENOTCONN, Xen's error. */
int xf_evtchn_notify(struct xf_evtchn *ec, evtchn_port_t port);

/* Mask: events still set the pending bit but raise no upcall and are not
 * dispatched until unmasked. No hypercall.
 * Context: any. Returns: 0, -XF_EINVAL, -XF_ENOTCONN. */
int xf_evtchn_mask(struct xf_evtchn *ec, evtchn_port_t port);

/* Unmask; an event that arrived while masked is delivered (an upcall is
 * raised and the next dispatch runs the handler). A hypercall only when
 * such an event is pending.
 * Context: any. Returns: 0, -XF_EINVAL, -XF_ENOTCONN, Xen's error for
 * EVTCHNOP_unmask (the port then stays masked, as it was). */
int xf_evtchn_unmask(struct xf_evtchn *ec, evtchn_port_t port);

/*
 * Raise an owned port's event again locally, as if the peer had sent it:
 * its pending bit is set and, unless it is masked, an upcall raised (one
 * EVTCHNOP_unmask), so its handler runs again at the next dispatch. For a
 * handler that stops with work left, doing bounded work per call, so the
 * rest is not left waiting for an event the peer already sent.
 * Context: any, including the port's own handler.
 * Returns: 0, -XF_EINVAL, -XF_ENOTCONN, or Xen's error (the port then
 * stays unmasked, its event pending until the next upcall of its word).
 */
int xf_evtchn_raise(struct xf_evtchn *ec, evtchn_port_t port);

/* Is the port masked? Context: any.
 * Returns: 1 or 0, or -XF_EINVAL / -XF_ENOTCONN. */
int xf_evtchn_is_masked(const struct xf_evtchn *ec, evtchn_port_t port);

/*
 * Replace the handler and argument of an owned port (NULL: make it a polled
 * port: the dispatcher leaves it alone; mask it too if it should not raise
 * upcalls). Safe against a dispatch interrupting it: the port is never
 * called with a mismatched handler and argument. If the port is unmasked,
 * an event that was pending while it had no handler is delivered.
 * Context: any.
 * Returns: 0, -XF_EINVAL, -XF_ENOTCONN, or (a handler given, the port
 * unmasked and an event pending) Xen's error for EVTCHNOP_unmask.
 */
int xf_evtchn_set_handler(struct xf_evtchn *ec, evtchn_port_t port,
                          xf_evtchn_handler_fn *handler, void *arg);

/* ------------------------------------------------------------------------
 * Polling, for kernels that take no upcalls (or for polled ports). Masked
 * or not, the pending bit is what Xen sets on an event.
 */

/* Is the port pending? Context: any.
 * Returns: 1 if the port is pending, 0 if not; -XF_EINVAL, -XF_ENOTCONN. */
int xf_evtchn_is_pending(const struct xf_evtchn *ec, evtchn_port_t port);

/* Clear the pending bit, atomically. Clear before handling, so that an
 * event arriving meanwhile is seen by the next poll.
 * Context: any.
 * Returns: 1 if it was set (an event to handle), 0 if not; -XF_EINVAL,
 * -XF_ENOTCONN. */
int xf_evtchn_clear(struct xf_evtchn *ec, evtchn_port_t port);

/* EVTCHNOP_status of any port of this domain (owned or not): what Xen
 * thinks it is (EVTCHNSTAT_unbound once a peer closed its end).
 * Context: any.
 * Returns: 0, -XF_EINVAL (ec or st NULL, bad port), Xen's error. */
int xf_evtchn_status(struct xf_evtchn *ec, evtchn_port_t port, struct evtchn_status *st);

/* ------------------------------------------------------------------------
 * Dispatch.
 */

/*
 * Run the handlers of pending ports of this context's vCPU: the upcall
 * handler's body, and what a polling kernel calls from its loop. Clears the
 * vCPU's evtchn_upcall_pending, takes the selector word, and for each
 * selected word calls the handler of every port that is pending, unmasked
 * and bound here with a handler, clearing its pending bit first. Repeats
 * while Xen raises the upcall again.
 *
 * Fair: each scan resumes at the port after the last one served and goes
 * once round all 4096, so a port that is pending again every time is
 * served once per scan and never starves another (a pending port waits at
 * most one full scan).
 *
 * budget bounds the handler calls (0: no bound, run until no upcall is
 * pending - a peer that signals without pause then keeps it running). When
 * the budget stops it early, the unfinished part stays selected and
 * evtchn_upcall_pending stays set, so nothing is lost: the next upcall or
 * call continues where this one stopped.
 *
 * Context: this is the event handler (the upcall handler's body, or a
 * polling kernel's loop). A nested call (from a handler, or an upcall
 * interrupting a dispatch on the same CPU) returns 0 at once.
 * Returns: the number of handler calls (>= 0), or -XF_EINVAL (ec NULL).
 */
int xf_evtchn_dispatch(struct xf_evtchn *ec, unsigned int budget);

/* ------------------------------------------------------------------------
 * Upcall setup (x86 PVH/HVM). How Xen interrupts the vCPU when
 * evtchn_upcall_pending becomes set; the kernel's handler for the vector
 * calls xf_evtchn_dispatch(). A kernel that polls needs none of this.
 */
enum xf_evtchn_upcall_method {
    /* The per-vCPU vector if Xen has it, else the callback-via vector. */
    XF_EVTCHN_UPCALL_AUTO = 0,
    /* HVMOP_set_evtchn_upcall_vector for this context's vCPU (Xen 4.6+).
     * Preferred. Xen delivers it through the vCPU's emulated local APIC:
     * the APIC must be enabled and the handler must EOI it, or only one
     * upcall is ever delivered (measured in a real Xen 4.17 guest). */
    XF_EVTCHN_UPCALL_VCPU_VECTOR = 1,
    /* HVM_PARAM_CALLBACK_IRQ with type vector (XENFEAT_hvm_callback_vector):
     * one vector for the whole domain, no EOI needed. Only from the vCPU 0
     * context. */
    XF_EVTCHN_UPCALL_CALLBACK_VECTOR = 2,
};

/*
 * Ask Xen to raise `vector` (0x10..0xff; below are CPU exceptions) on
 * upcalls.
 * Context: not from an event handler.
 * Returns: 0, or -XF_EINVAL (ec NULL, bad vector or method, callback-via
 * from a vCPU other than 0), -XF_EOPNOTSUPP (Xen lacks
 * XENFEAT_hvm_callback_vector for the callback-via vector, or not x86: on
 * Arm the upcall is the PPI the device tree names and needs no setup),
 * Xen's error.
 */
int xf_evtchn_upcall_setup(struct xf_evtchn *ec, enum xf_evtchn_upcall_method method,
                           uint8_t vector);

#ifdef __cplusplus
}
#endif

#endif /* XENFRONT_EVTCHN_H */
