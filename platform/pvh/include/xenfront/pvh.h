/*
 * xenfront/pvh.h: the platform seam (<xenfront/platform.h>) for x86_64 PVH
 * kernels, libxfpvh.a (pkg-config xfpvh). Freestanding x86_64 only.
 *
 * The reference seam: link it instead of writing your own, or read
 * platform/pvh/src/pvh.c as the worked example of every xf_plat_* function
 * (platform/pvh/README.md walks through it). The in-guest tests
 * (tests/guest/kernel) boot it under a real Xen 4.17, with upcalls and
 * polling.
 *
 * What it assumes of the kernel that links it:
 *
 *  - long mode, ring 0, and the guest-physical range [0, identity_limit)
 *    mapped one to one (virtual == physical), writable and executable
 *    (2 MiB pages are fine): RAM, the Xen special pages below 4 GiB and the
 *    foreign-mapping range all live inside it;
 *  - one vCPU (vCPU 0) and no preemption: the seam keeps plain globals;
 *  - the memory functions of <xenfront/base.h> (memset, ...) and the
 *    stack-protector symbols, as for every xenfront library;
 *  - a kernel that takes upcalls: its upcall handler calls
 *    xf_pvh_upcall_seen() and xf_evtchn_dispatch(), and sends the LAPIC its
 *    EOI (xf_pvh_lapic_eoi()); it binds VIRQ_TIMER (any handler, even an
 *    empty one) and then calls xf_pvh_wait_use_timer(true);
 *  - a polling kernel (interrupts off, no upcall vector): nothing, but it
 *    should hand its event-channel context to xf_pvh_set_poll_hook() so that
 *    waits inside the libraries dispatch pending events.
 *
 * What xf_pvh_init() does, in this order:
 *
 *  1. Hypercall page discovery: Xen's CPUID leaves are searched from
 *     0x40000000 in steps of 0x100 (Viridian or another hypervisor's leaves
 *     may come first) for "XenVMMXenVMM"; leaf + 2 names the MSR to which
 *     the physical address of a page-aligned page of the seam's .bss is
 *     written. Xen fills it with one 32-byte stub per hypercall; each
 *     xf_plat_* hypercall calls page + nr * 32 with rdi, rsi, rdx, r10, r8
 *     (all in/out operands: Xen may clobber them). Before this step, and if
 *     init fails, the hypercall functions return -XF_ENOSYS (early console
 *     output then falls back to the embedder's hook).
 *  2. start_info and the memory map: struct hvm_start_info (%ebx at the
 *     PVH entry) is checked (magic) and copied, with its memory map
 *     (version 1: memmap_paddr; version 0: XENMEM_memory_map), at most
 *     XF_PVH_MEMMAP_MAX entries. Both stay readable (xf_pvh_start_info(),
 *     xf_pvh_memmap()).
 *  3. The page allocator: a bitmap over the largest RAM region above 1 MiB
 *     (at most 1 GiB of it), less the kernel image and everything the domain
 *     builder placed there (start_info, memory map, module list, modules,
 *     command lines). First fit from a rolling hint; pages are zeroed and
 *     physically (so virtually) contiguous; xf_plat_page_free() refuses a
 *     range that is not wholly allocated rather than corrupt the bitmap.
 *     xf_plat_virt_to_gfn() is va >> 12 (the identity map).
 *  4. shared_info and the PV clock: shared_info is mapped with
 *     XENMEM_add_to_physmap into a page-aligned .bss page of its own (a
 *     whole 4 KiB frame, nothing else in it: Xen takes the RAM frame under
 *     it) and every event channel is masked. Hand it to libevtchn with
 *     xf_evtchn_config.shared_info = xf_pvh_shared_info(). xf_plat_now_ns()
 *     reads vCPU 0's time record under its version protocol and scales the
 *     TSC delta ((delta << shift) * mul >> 32), clamped so it never goes
 *     back.
 *  5. The foreign range: XF_PVH_FOREIGN_PAGES frames from the first 1 GiB
 *     boundary above RAM (then in 2 MiB steps), overlapping no memory-map
 *     entry, below 0xf0000000 and identity_limit: neither RAM nor reserved,
 *     so Xen places a foreign page at a frame of it and unmapping leaves no
 *     hole in RAM.
 *
 * Waiting (xf_plat_wait):
 *
 *  - with upcalls (after xf_pvh_wait_use_timer(true)): returns at once if an
 *    upcall happened since the previous wait returned (the caller may have
 *    checked its condition before it ran); otherwise arms
 *    VCPUOP_set_singleshot_timer at the deadline (at most 1 s ahead) and
 *    halts with `sti; hlt` from a `cli` section, so no upcall is lost
 *    between the check and the halt;
 *  - by polling (before that, or for ever in a polling kernel): runs the
 *    poll hook (xf_pvh_set_poll_hook()) and returns at once if it ran a
 *    handler; otherwise blocks in SCHEDOP_poll on no port in particular,
 *    at most 10 ms: a port whose pending bit was already set does not wake
 *    SCHEDOP_poll (see <xenfront/platform.h>), the cap bounds that.
 *
 * The critical section (xf_plat_irq_save/restore): pushfq, cli; restore
 * sets IF again only if it was set, so sections nest and a call from the
 * upcall handler (IF already clear) changes nothing. In a polling kernel IF
 * is never set and the pair costs a pushfq.
 *
 * Symbols: the xf_plat_* seam of <xenfront/platform.h> and xf_pvh_*.
 * Contract shape as in every xenfront header: what it does, Context: (may
 * it run in the event handler), Returns:.
 */
#ifndef XENFRONT_PVH_H
#define XENFRONT_PVH_H

#include <xenfront/base.h>
#include <xenfront/xen.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Pages in the foreign-mapping range (4 MiB). */
#define XF_PVH_FOREIGN_PAGES 1024u

/* Most memory-map entries kept. */
#define XF_PVH_MEMMAP_MAX 64u

struct xf_pvh_info {
    uint32_t cpuid_base;          /* Xen's CPUID leaf base (0x40000000 + n*0x100) */
    uint32_t hypercall_msr;       /* where the page's address was written          */
    uint32_t xen_version;         /* XENVER_version: major << 16 | minor           */
    uint32_t start_info_version;
    uint32_t memmap_entries;
    uint64_t ram_bytes;           /* RAM in the memory map                         */
    uint64_t heap_start;          /* the page allocator's region                   */
    uint64_t heap_pages;
    uint64_t heap_free;           /* pages free now                                */
    uint64_t foreign_gfn;         /* the foreign range                             */
    uint64_t foreign_pages;
    uint64_t identity_limit;
};

/*
 * Bring the platform up (steps 1-5 above). start_info_pa is %ebx at the PVH
 * entry; kernel_end the first byte after the kernel image (its .bss
 * included); identity_limit the end of the one-to-one mapping.
 * Context: once, first thing, interrupts off; before it returns 0 no other
 * function here may be called, except xf_pvh_debug_write() and
 * xf_pvh_shutdown() (which then just halts).
 * Returns: 0, -XF_ENODEV (not on Xen, or no hypercall page offered),
 * -XF_EINVAL (bad start_info magic), -XF_ENOMEM (no RAM region), or Xen's
 * error for the memory map or for mapping shared_info.
 */
int xf_pvh_init(uint64_t start_info_pa, uint64_t kernel_end, uint64_t identity_limit);

/*
 * Copy what init found, and the allocator's state now, into *info.
 * Context: any, after xf_pvh_init().
 */
void xf_pvh_get_info(struct xf_pvh_info *info);

/*
 * The copied start_info, and the copied memory map (*entries set to its
 * length when entries is not NULL).
 * Context: any, after xf_pvh_init().
 * Returns: pointers into the seam's own copies, valid for ever.
 */
const struct hvm_start_info *xf_pvh_start_info(void);
const struct hvm_memmap_table_entry *xf_pvh_memmap(uint32_t *entries);

/*
 * shared_info, mapped once by xf_pvh_init(): give it to libevtchn
 * (xf_evtchn_config.shared_info) so that it does not map a second one.
 * Context: any.
 * Returns: the page, or NULL before a successful xf_pvh_init().
 */
shared_info_t *xf_pvh_shared_info(void);

/*
 * HYPERVISOR_vcpu_op, for the kernel's own use (timers, runstate).
 * Context: any, including the event handler.
 * Returns: what Xen returned, or -XF_ENOSYS before xf_pvh_init().
 */
long xf_pvh_vcpu_op(int cmd, unsigned int vcpu, void *arg);

/*
 * Record that an upcall ran: what lets xf_plat_wait() return without
 * missing a wake-up. Call it from the upcall handler, before or after
 * dispatching.
 * Context: the event handler (it is its only caller).
 */
void xf_pvh_upcall_seen(void);

/*
 * true: xf_plat_wait() uses Xen's single-shot timer and `hlt` (VIRQ_TIMER
 * must be bound by then, upcalls set up and enabled); false (the default):
 * it polls, with SCHEDOP_poll (and SCHEDOP_yield should Xen refuse it).
 * Context: not from the event handler; not while another call waits.
 */
void xf_pvh_wait_use_timer(bool on);

/*
 * The poll hook: in polling mode xf_plat_wait() calls fn(arg) before it
 * sleeps, and returns 0 at once (a wake-up) when fn returns > 0. For a
 * polling kernel, fn runs the dispatcher with a bound, so that the
 * libraries' synchronous helpers see their events without an upcall:
 *
 *     static int poll_dispatch(void *ec) { return xf_evtchn_dispatch(ec, 64); }
 *     xf_pvh_set_poll_hook(poll_dispatch, ec);
 *
 * The handlers then run inside the wait, which is where an upcall would run
 * them too. fn NULL removes the hook. Unused in timer mode (the upcall
 * dispatches). Remove it before destroying what arg points to.
 * Context: not from the event handler.
 */
typedef int xf_pvh_poll_hook_fn(void *arg);
void xf_pvh_set_poll_hook(xf_pvh_poll_hook_fn *fn, void *arg);

/*
 * The local APIC (xAPIC MMIO at the base the APIC_BASE MSR gives, inside
 * the identity map). xf_pvh_lapic_enable() software-enables it (Xen only
 * delivers the per-vCPU upcall vector to an enabled LAPIC) with spurious
 * vector `spurious`; xf_pvh_lapic_eoi() ends an interrupt (without it the
 * per-vCPU vector is delivered once, then never again).
 * Context: enable once, before upcalls are set up; EOI from the upcall
 * handler.
 */
void xf_pvh_lapic_enable(uint8_t spurious);
void xf_pvh_lapic_eoi(void);

/*
 * Bytes to the I/O port 0xE9 (Xen prints them as "(dN) ..." with
 * guest_loglvl=all). Works before xf_pvh_init().
 * Context: any.
 */
void xf_pvh_debug_write(const char *s, size_t len);

/*
 * SCHEDOP_shutdown with SHUTDOWN_poweroff, _crash, ...; halts for ever if
 * Xen returns or before xf_pvh_init().
 * Context: any. Does not return.
 */
__attribute__((noreturn)) void xf_pvh_shutdown(unsigned int reason);

#ifdef __cplusplus
}
#endif

#endif /* XENFRONT_PVH_H */
