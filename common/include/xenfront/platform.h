/*
 * xenfront/platform.h: the platform seam.
 *
 * These are the only ways a xenfront library reaches the machine. The
 * embedder (a kernel) defines every function below; xenfront defines none of
 * them. Three implementations exist: platform/pvh (libxfpvh.a, for x86_64 PVH
 * kernels: link it, or read it as the worked example), the host simulator in
 * tests/sim for tests, and yours. Each is a handful of lines per function;
 * this header says everything you need to write one.
 *
 * Rules common to all of them:
 *
 *  - All functions are called from the context the library was called in.
 *    The libraries never call them concurrently with themselves unless the
 *    embedder calls the libraries concurrently.
 *  - The hypercall functions, xf_plat_now_ns() and xf_plat_virt_to_gfn()
 *    may be called from an event (interrupt) handler, so they must not
 *    block. Page allocation and xf_plat_wait() are only called from
 *    non-handler context (setup and the synchronous helpers).
 *  - Errors are negative errno values, numbered as in <xenfront/errno.h>.
 *  - Order of bring-up: the hypercalls must work (or fail cleanly with
 *    -XF_ENOSYS) before the first library call, and that includes early
 *    console output: xf_console_early_write() tries HYPERVISOR_console_io
 *    first, so a seam whose hypercall page is not set up yet must return
 *    -XF_ENOSYS from xf_plat_console_io(), never jump through an empty
 *    page. Pages, the clock, the wait and the critical section are needed
 *    from the first xf_*_create() on.
 *  - shared_info: libevtchn maps it itself (XENMEM_add_to_physmap through
 *    xf_plat_memory_op(), into a page from xf_plat_page_alloc()) unless the
 *    kernel passes one it mapped (xf_evtchn_config.shared_info). A page the
 *    kernel maps itself must be a whole 4 KiB frame of its own, 4 KiB
 *    aligned, holding nothing else: Xen replaces the guest frame under it,
 *    so whatever else lived in that frame (a .bss neighbour, a heap block)
 *    is gone, and the frame is not RAM again until it is populated back
 *    (see <xenfront/physmap.h>).
 *
 * Symbols named xf_plat_* are the seam: the link check (scripts/check-archive.py)
 * allows a library's undefined symbols to be only these, its declared
 * dependencies and the memory functions of <xenfront/base.h>.
 */
#ifndef XENFRONT_PLATFORM_H
#define XENFRONT_PLATFORM_H

#include <xenfront/base.h>
#include <xenfront/xen.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ------------------------------------------------------------------------
 * Hypercalls.
 *
 * Each is the hypercall of the same name, with Xen's calling convention:
 * the argument pointers are guest virtual addresses of structures from
 * Xen's public headers, filled in by the library; the return value is what
 * Xen returned (0 or a positive value on success, a negative Xen errno on
 * failure). The library fully initialises every structure it passes.
 *
 * Setting up the hypercall page on x86 (HVM and PVH guests): find Xen's
 * CPUID leaves (from 0x40000000 in steps of 0x100, signature
 * "XenVMMXenVMM" in ebx, ecx, edx; another hypervisor's leaves may come
 * first), read leaf base + 2 (eax: how many hypercall pages, ebx: the MSR),
 * and write the guest-physical address of a page-aligned, executable page to
 * that MSR. Xen fills it with one 32-byte stub per hypercall; call the stub
 * at __HYPERVISOR_<name> * 32 with the arguments in rdi, rsi, rdx, r10, r8
 * (all clobbered: make them in/out operands) and the result in rax.
 * platform/pvh/src/pvh.c (hypercall_page_init, hypercall) does exactly
 * this. Until the page is set up, every function here must return
 * -XF_ENOSYS.
 * On aarch64 there is no page: `hvc #0xEA1` with the number in x16.
 */

/* HYPERVISOR_event_channel_op(cmd, arg): EVTCHNOP_* with struct evtchn_*. */
long xf_plat_event_channel_op(int cmd, void *arg);

/* HYPERVISOR_grant_table_op(cmd, uop, count): GNTTABOP_*, an array of count. */
long xf_plat_grant_table_op(unsigned int cmd, void *uop, unsigned int count);

/* HYPERVISOR_memory_op(cmd, arg): XENMEM_* (add_to_physmap is the one used). */
long xf_plat_memory_op(unsigned int cmd, void *arg);

/* HYPERVISOR_hvm_op(cmd, arg): HVMOP_* (get_param, set_param,
 * set_evtchn_upcall_vector). */
long xf_plat_hvm_op(unsigned int cmd, void *arg);

/* HYPERVISOR_sched_op(cmd, arg): SCHEDOP_yield, block, poll, shutdown. */
long xf_plat_sched_op(int cmd, void *arg);

/* HYPERVISOR_console_io(cmd, count, buf): CONSOLEIO_write / read. Release
 * builds of Xen refuse it to domUs with -EPERM; that is a valid answer. */
long xf_plat_console_io(int cmd, unsigned int count, char *buf);

/* HYPERVISOR_xen_version(cmd, arg): XENVER_*. */
long xf_plat_xen_version(int cmd, void *arg);

/* ------------------------------------------------------------------------
 * Pages.
 */

/*
 * Allocate npages (>= 1) 4 KiB pages, contiguous in virtual address space,
 * 4 KiB aligned, zero-filled, each backed by a guest frame for its whole
 * lifetime (the libraries grant them to other domains). Returns NULL when
 * out of memory. Physical contiguity is not required: the libraries
 * translate each page separately.
 */
void *xf_plat_page_alloc(size_t npages);

/*
 * Free pages from xf_plat_page_alloc(), all npages of them at once. The
 * libraries only call this once no other domain can access the pages (no
 * grant on them is in use); they never free a page still granted.
 */
void xf_plat_page_free(void *va, size_t npages);

/*
 * The guest frame number (gfn: the guest-physical address >> 12) of the 4 KiB
 * page containing va. va is always inside memory from xf_plat_page_alloc()
 * or the shared_info/grant-table pages the library mapped itself; the
 * libraries never ask about any other address. (An implementation may return
 * ~(xen_pfn_t)0 for one it does not know, as the simulator does.)
 */
xen_pfn_t xf_plat_virt_to_gfn(const void *va);

/*
 * The reserved range for foreign grant mappings (libgnttab maps other
 * domains' pages there). npages 4 KiB pages starting at virtual address va,
 * backed by guest frames first_gfn .. first_gfn + npages - 1 that are NOT
 * RAM (on PVH: guest-physical space above the memory map, mapped in the page
 * tables). Xen puts the foreign page at the gfn; because no RAM frame is
 * replaced, unmapping never leaves a hole in the heap. Fixed for the life of
 * the kernel. Returns 0, or -XF_ENOSYS if the platform reserves none.
 */
int xf_plat_foreign_range(void **va, xen_pfn_t *first_gfn, size_t *npages);

/* ------------------------------------------------------------------------
 * Time and waiting.
 */

/* Monotonic nanoseconds since an arbitrary origin; never goes backwards. */
uint64_t xf_plat_now_ns(void);

/*
 * Block until an event upcall may have happened or until xf_plat_now_ns()
 * reaches deadline_ns, whichever is first. Returns 0 when woken (spurious
 * wake-ups are allowed: callers re-check their condition) or -XF_ETIMEDOUT
 * at the deadline. A kernel taking upcalls typically enables interrupts and
 * halts with a timer armed; a polling kernel may simply return 0 at once
 * (or after a pause) so that callers poll. Never called from an event
 * handler.
 *
 * What the callers rely on: after it returns, the event handlers of
 * everything pending have run, or will run without further waiting. The
 * synchronous helpers (xenstore reads, waiting for a backend, the console's
 * write-all) loop "check the condition, xf_plat_wait()", and the condition
 * often only changes when a handler runs.
 *
 *  - A kernel that takes upcalls gets this for free: the upcall runs the
 *    handlers (xf_evtchn_dispatch() from the upcall). Check for "an upcall
 *    happened since the last wait" and halt atomically (x86: `cli`, check,
 *    `sti; hlt`), or an upcall that lands between the caller's check and
 *    the halt is slept through until the timer.
 *  - A polling kernel (no upcalls) must let pending events be dispatched:
 *    its xf_plat_wait() may call xf_evtchn_dispatch() itself before it
 *    sleeps (the context's handlers then run inside the wait, exactly as an
 *    upcall would run them there; platform/pvh offers a hook for this,
 *    xf_pvh_set_poll_hook()). If only the kernel's own loops dispatch, a
 *    synchronous helper whose condition a handler sets waits until its
 *    deadline.
 *  - A wait that blocks in SCHEDOP_poll can sleep through an event whose
 *    pending bit was already set: Xen wakes a vCPU blocked in SCHEDOP_poll
 *    when a port becomes pending (0 -> 1), and with nr_ports == 0 it checks
 *    no port before sleeping. A notification on a port whose bit is already
 *    set (not yet dispatched) changes nothing, so nothing wakes the poll.
 *    Dispatch first, list the ports of interest in sched_poll.ports (Xen
 *    returns at once if one of them is pending), or cap each sleep (pvh.c
 *    does the first and the last, 10 ms per call).
 */
int xf_plat_wait(uint64_t deadline_ns);

/* ------------------------------------------------------------------------
 * The one concurrency rule: a critical section against this vCPU's own
 * event handler.
 *
 * A xenfront context is used from one vCPU at a time, but its event handler
 * (the upcall) may interrupt the kernel's main flow on that vCPU while it is
 * inside a library call on the same context: a driver submits (grants a
 * page, takes an id) in the main flow and completes (ends the grant, frees
 * the id) in the handler. Every library therefore brackets the state that
 * both touch (grant free and deferred lists, shadow and id tables, counters
 * updated from both) with these two calls, held for a bounded, short time
 * and never across a hypercall that may block or a callback into the
 * embedder. The embedder never masks upcalls around a library call itself.
 *
 *  - PVH with upcalls: save RFLAGS and `cli`; restore sets IF back only if
 *    it was set (platform/pvh does exactly this).
 *  - A polling kernel, where no handler ever interrupts: return 0, do
 *    nothing.
 *  - The host simulator: a per-thread flag that defers its emulated
 *    asynchronous upcall (a signal) until restore.
 *
 * Calls nest (save returns the previous state; restore puts it back), are
 * called from the event handler too (where upcalls are already off), and
 * must be cheap: they sit on every data-path operation.
 */
typedef unsigned long xf_irqflags_t;

/* Disable event upcalls on this vCPU; return the previous state. */
xf_irqflags_t xf_plat_irq_save(void);

/* Restore the state xf_plat_irq_save() returned (enabling upcalls only if
 * they were enabled then). An upcall held off meanwhile is delivered now. */
void xf_plat_irq_restore(xf_irqflags_t flags);

/* ------------------------------------------------------------------------
 * Logging. Not part of what an embedder must write: the libraries are
 * silent until a hook is installed. The hook gets a printf-style format
 * using only %s %d %u %ld %lu %lld %llu %x %lx %llx %p and %%, so a minimal
 * kernel printf can serve it. It may be called from an event handler.
 */
enum xf_log_level {
    XF_LOG_ERROR = 0,  /* a device or the library is now unusable        */
    XF_LOG_WARN  = 1,  /* a peer broke the protocol; recovered or failed  */
    XF_LOG_INFO  = 2,  /* state changes (connected, closed)               */
    XF_LOG_DEBUG = 3,
};

typedef void (*xf_log_hook_t)(void *arg, enum xf_log_level level,
                              const char *fmt, va_list ap);

/* Install (or with NULL remove) the log hook; messages above max_level are
 * dropped before formatting. Not thread-safe against concurrent logging:
 * set it once at start-up. */
void xf_log_set_hook(xf_log_hook_t hook, void *arg, enum xf_log_level max_level);

/* Used by the libraries. */
void xf_log(enum xf_log_level level, const char *fmt, ...) XF_PRINTF(2, 3);

#ifdef __cplusplus
}
#endif

#endif /* XENFRONT_PLATFORM_H */
