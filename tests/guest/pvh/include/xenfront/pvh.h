/*
 * xenfront/pvh.h: the platform seam (<xenfront/platform.h>) for x86_64 PVH
 * kernels, libxfpvh.a. Freestanding flavour only.
 *
 * What it assumes of the kernel that links it:
 *
 *  - long mode, ring 0, and the guest-physical range [0, identity_limit)
 *    mapped one to one (virtual == physical), writable and executable
 *    (2 MiB pages are fine): RAM, the Xen special pages below 4 GiB and the
 *    foreign-mapping range all live inside it;
 *  - one vCPU (vCPU 0) and no preemption: the seam keeps plain globals;
 *  - the kernel's event-channel upcall handler calls xf_pvh_upcall_seen()
 *    (and sends the LAPIC its EOI: xf_pvh_lapic_eoi());
 *  - for xf_plat_wait() to sleep instead of polling, the kernel binds
 *    VIRQ_TIMER (any handler, even an empty one) and then calls
 *    xf_pvh_wait_use_timer(true): the seam arms Xen's single-shot timer at
 *    the deadline and halts with interrupts enabled. Until then (a polling
 *    kernel, interrupts off), xf_plat_wait() blocks in SCHEDOP_poll until
 *    any event channel of the domain fires, at most 10 ms per call.
 *
 * What xf_pvh_init() does, in this order:
 *
 *  1. finds Xen's CPUID leaves (0x40000000, stepping by 0x100: Viridian may
 *     come first), checks "XenVMMXenVMM", and writes the physical address of
 *     a page of the seam's .bss to the MSR that leaf + 2 names: Xen fills it
 *     with one 32-byte stub per hypercall;
 *  2. copies struct hvm_start_info and its memory map (version 1; for a
 *     version 0 start_info, XENMEM_memory_map);
 *  3. builds the page allocator over the largest RAM region above 1 MiB,
 *     less the kernel image and everything the domain builder placed there
 *     (start_info, memory map, modules, command line);
 *  4. maps shared_info (XENMEM_add_to_physmap into a .bss page) for the
 *     PV clock and masks every event channel; hand it to libevtchn with
 *     xf_evtchn_config.shared_info = xf_pvh_shared_info();
 *  5. chooses the foreign-mapping range: XF_PVH_FOREIGN_PAGES frames from
 *     the first 1 GiB boundary above RAM (then in 2 MiB steps), overlapping
 *     no memory-map entry, below 0xf0000000 and identity_limit: neither RAM
 *     nor reserved, so Xen places a foreign page at a frame of it and
 *     unmapping leaves no hole in RAM.
 *
 * Symbols: the xf_plat_* seam of <xenfront/platform.h> and xf_pvh_*.
 */
#ifndef XENFRONT_PVH_H
#define XENFRONT_PVH_H

#include <xenfront/base.h>
#include <xenfront/xen.h>

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
 * Bring the platform up (see above). start_info_pa is %ebx at the PVH
 * entry; kernel_end the first byte after the kernel image (its .bss
 * included); identity_limit the end of the one-to-one mapping. Returns 0,
 * or a negative error: -XF_ENODEV (not on Xen), -XF_EINVAL (bad start_info
 * magic), -XF_ENOMEM (no RAM region), Xen's error for mapping shared_info.
 * Before it returns 0 no other function here may be called, except
 * xf_pvh_debug_write() and xf_pvh_shutdown() (which then just halt).
 */
int xf_pvh_init(uint64_t start_info_pa, uint64_t kernel_end, uint64_t identity_limit);

void xf_pvh_get_info(struct xf_pvh_info *info);

/* The copied start_info and memory map. */
const struct hvm_start_info *xf_pvh_start_info(void);
const struct hvm_memmap_table_entry *xf_pvh_memmap(uint32_t *entries);

/* shared_info, mapped once by xf_pvh_init(). */
shared_info_t *xf_pvh_shared_info(void);

/* HYPERVISOR_vcpu_op, for the kernel's own use (timers, runstate). */
long xf_pvh_vcpu_op(int cmd, unsigned int vcpu, void *arg);

/* The kernel's upcall handler calls this (before or after dispatching):
 * it is what lets xf_plat_wait() return without missing a wake-up. */
void xf_pvh_upcall_seen(void);

/* Use Xen's single-shot timer and hlt in xf_plat_wait() (VIRQ_TIMER must be
 * bound by then); false: SCHEDOP_poll (and SCHEDOP_yield should Xen refuse it). */
void xf_pvh_wait_use_timer(bool on);

/* The local APIC (xAPIC MMIO at 0xfee00000, inside the identity map):
 * software-enable it (Xen only delivers the per-vCPU upcall vector to an
 * enabled LAPIC) with spurious vector `spurious`, and end an interrupt. */
void xf_pvh_lapic_enable(uint8_t spurious);
void xf_pvh_lapic_eoi(void);

/* Bytes to the I/O port 0xE9 (Xen prints them as "(dN) ..."). */
void xf_pvh_debug_write(const char *s, size_t len);

/* SCHEDOP_shutdown with SHUTDOWN_poweroff / _crash; halts if Xen returns. */
__attribute__((noreturn)) void xf_pvh_shutdown(unsigned int reason);

#endif /* XENFRONT_PVH_H */
