/*
 * xenfront/platform.h: the platform seam.
 *
 * These are the only ways a xenfront library reaches the machine. The
 * embedder (a kernel) defines every function below; xenfront defines none of
 * them. Three implementations exist: the PVH x86_64 one for kernels, the
 * host simulator in tests/sim for tests, and yours. Each is a handful of
 * lines per function; this header says everything you need to write one.
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
 * failure). On PVH, call through the hypercall page at the offset
 * __HYPERVISOR_<name> * 32 with the arguments in rdi, rsi, rdx, r10, r8.
 * The library fully initialises every structure it passes.
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
