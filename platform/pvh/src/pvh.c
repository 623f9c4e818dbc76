/*
 * The platform seam for x86_64 PVH kernels: hypercalls through the
 * hypercall page, hvm_start_info and its memory map, a page allocator over
 * RAM, the PV clock, waiting on Xen's single-shot timer or by polling, the
 * foreign mapping range and the critical section. See <xenfront/pvh.h> for
 * what the kernel must provide, and platform/pvh/README.md for a tour.
 *
 * Built with -mno-red-zone (sources.mk says so): the critical section's
 * pushfq writes below the stack pointer, where a red zone would keep live
 * data.
 */
#include <xenfront/pvh.h>
#include <xenfront/platform.h>
#include <xenfront/errno.h>

#define PAGE_SIZE  4096u
#define PAGE_SHIFT 12u
#define MIB        (1024ull * 1024ull)
#define GIB        (1024ull * MIB)

#define XEN_CPUID_FIRST 0x40000000u
#define XEN_CPUID_LAST  0x40010000u

#define MSR_APIC_BASE 0x1bu
#define LAPIC_SVR     0xf0u
#define LAPIC_EOI     0xb0u

/* The heap's bitmap covers at most this many pages (1 GiB). */
#define HEAP_MAX_PAGES (256u * 1024u)

__extension__ typedef unsigned __int128 xf_pvh_u128;

/* ------------------------------------------------------------------------
 * State. One vCPU, no preemption: plain globals (all static).
 */

/* Xen writes a 32-byte stub per hypercall into this page. */
static uint8_t hypercall_page[PAGE_SIZE] __attribute__((aligned(PAGE_SIZE)));
/* Xen maps shared_info here (the RAM frame under it goes back to Xen). */
static uint8_t shinfo_page[PAGE_SIZE] __attribute__((aligned(PAGE_SIZE)));

static bool page_ready;  /* the hypercall page is filled */
static bool ready;       /* xf_pvh_init() succeeded */
static struct xf_pvh_info info;
static struct hvm_start_info start_info;
static struct hvm_memmap_table_entry memmap[XF_PVH_MEMMAP_MAX];
static shared_info_t *shinfo;

static uint64_t heap_base;      /* physical == virtual */
static uint64_t heap_pages;
static uint64_t heap_free;
static uint64_t heap_hint;
static uint64_t heap_map[HEAP_MAX_PAGES / 64];

static uint64_t clock_last;

static volatile uint64_t upcalls;
static uint64_t upcalls_seen;
static bool wait_timer;
static xf_pvh_poll_hook_fn *poll_hook;
static void *poll_hook_arg;

static volatile uint32_t *lapic;

/* ------------------------------------------------------------------------
 * CPU helpers.
 */

static void cpuid(uint32_t leaf, uint32_t *a, uint32_t *b, uint32_t *c, uint32_t *d)
{
    __asm__ volatile("cpuid" : "=a"(*a), "=b"(*b), "=c"(*c), "=d"(*d) : "a"(leaf), "c"(0));
}

static void wrmsr(uint32_t msr, uint64_t v)
{
    __asm__ volatile("wrmsr" : : "c"(msr), "a"((uint32_t)v), "d"((uint32_t)(v >> 32)) : "memory");
}

static uint64_t rdmsr(uint32_t msr)
{
    uint32_t lo, hi;
    __asm__ volatile("rdmsr" : "=a"(lo), "=d"(hi) : "c"(msr));
    return ((uint64_t)hi << 32) | lo;
}

static uint64_t rdtsc(void)
{
    uint32_t lo, hi;
    __asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
    return ((uint64_t)hi << 32) | lo;
}

static void outb(uint16_t port, uint8_t v)
{
    __asm__ volatile("outb %0, %1" : : "a"(v), "Nd"(port));
}

static uint64_t irq_save(void)
{
    uint64_t flags;
    __asm__ volatile("pushfq; popq %0; cli" : "=r"(flags) : : "memory");
    return flags;
}

static void irq_restore(uint64_t flags)
{
    if (flags & (1u << 9))
        __asm__ volatile("sti" : : : "memory");
}

/* The seam's critical section: IF off, and back on only if it was on, so
 * calls nest and a call from the (IF-off) upcall handler changes nothing. */
xf_irqflags_t xf_plat_irq_save(void)
{
    return (xf_irqflags_t)irq_save();
}

void xf_plat_irq_restore(xf_irqflags_t flags)
{
    irq_restore((uint64_t)flags);
}

#define barrier() __asm__ volatile("" : : : "memory")

/* ------------------------------------------------------------------------
 * Hypercalls: call hypercall_page + nr * 32 with the arguments in rdi, rsi,
 * rdx, r10, r8 (Xen's x86_64 convention); the result comes back in rax.
 * Xen may clobber the argument registers, so all are in-out operands.
 */
static long hypercall(unsigned int nr, uint64_t a1, uint64_t a2, uint64_t a3)
{
    register uint64_t r10 __asm__("r10") = 0;
    register uint64_t r8 __asm__("r8") = 0;
    long ret;

    /* Never jump into an empty page; before init is done, only the two
     * calls init itself makes. */
    if (XF_UNLIKELY(!page_ready ||
                    (!ready && nr != __HYPERVISOR_memory_op && nr != __HYPERVISOR_xen_version)))
        return -XF_ENOSYS;
    __asm__ volatile("call *%[entry]"
                     : "=a"(ret), "+D"(a1), "+S"(a2), "+d"(a3), "+r"(r10), "+r"(r8)
                     : [entry] "r"(hypercall_page + nr * 32u)
                     : "memory", "rcx", "r11");
    return ret;
}

long xf_plat_event_channel_op(int cmd, void *arg)
{
    return hypercall(__HYPERVISOR_event_channel_op, (uint64_t)(int64_t)cmd, (uintptr_t)arg, 0);
}

long xf_plat_grant_table_op(unsigned int cmd, void *uop, unsigned int count)
{
    return hypercall(__HYPERVISOR_grant_table_op, cmd, (uintptr_t)uop, count);
}

long xf_plat_memory_op(unsigned int cmd, void *arg)
{
    return hypercall(__HYPERVISOR_memory_op, cmd, (uintptr_t)arg, 0);
}

long xf_plat_hvm_op(unsigned int cmd, void *arg)
{
    return hypercall(__HYPERVISOR_hvm_op, cmd, (uintptr_t)arg, 0);
}

long xf_plat_sched_op(int cmd, void *arg)
{
    return hypercall(__HYPERVISOR_sched_op, (uint64_t)(int64_t)cmd, (uintptr_t)arg, 0);
}

long xf_plat_console_io(int cmd, unsigned int count, char *buf)
{
    return hypercall(__HYPERVISOR_console_io, (uint64_t)(int64_t)cmd, count, (uintptr_t)buf);
}

long xf_plat_xen_version(int cmd, void *arg)
{
    return hypercall(__HYPERVISOR_xen_version, (uint64_t)(int64_t)cmd, (uintptr_t)arg, 0);
}

long xf_pvh_vcpu_op(int cmd, unsigned int vcpu, void *arg)
{
    return hypercall(__HYPERVISOR_vcpu_op, (uint64_t)(int64_t)cmd, vcpu, (uintptr_t)arg);
}

/* ------------------------------------------------------------------------
 * Debug port and shutdown.
 */

void xf_pvh_debug_write(const char *s, size_t len)
{
    for (size_t i = 0; i < len; i++)
        outb(0xe9, (uint8_t)s[i]);
}

void xf_pvh_shutdown(unsigned int reason)
{
    if (ready) {
        struct sched_shutdown sd = { .reason = reason };
        (void)xf_plat_sched_op(SCHEDOP_shutdown, &sd);
    }
    for (;;)
        __asm__ volatile("cli; hlt");
}

/* ------------------------------------------------------------------------
 * The hypercall page.
 */
static int hypercall_page_init(void)
{
    uint32_t a, b, c, d;

    for (uint32_t base = XEN_CPUID_FIRST; base < XEN_CPUID_LAST; base += 0x100) {
        cpuid(base, &a, &b, &c, &d);
        /* "XenVMMXenVMM" in ebx, ecx, edx; at least leaves base..base+2. */
        if (b == 0x566e6558u && c == 0x65584d4du && d == 0x4d4d566eu && a >= base + 2) {
            cpuid(base + 2, &a, &b, &c, &d);
            if (a < 1)
                return -XF_ENODEV;  /* no hypercall pages offered */
            info.cpuid_base = base;
            info.hypercall_msr = b;
            /* Physical address of the page (identity mapped), page 0. */
            wrmsr(b, (uintptr_t)hypercall_page);
            page_ready = true;
            return 0;
        }
    }
    return -XF_ENODEV;
}

/* ------------------------------------------------------------------------
 * The page allocator: a bitmap over one RAM region, first fit from a
 * rolling hint. Every page it hands out is RAM for its whole life (the
 * libraries grant them), zeroed, and virtually == physically contiguous.
 */

static bool heap_used(uint64_t i)
{
    return (heap_map[i / 64] >> (i % 64)) & 1u;
}

static void heap_mark(uint64_t i, uint64_t n, bool used)
{
    for (uint64_t k = i; k < i + n; k++) {
        if (used)
            heap_map[k / 64] |= 1ull << (k % 64);
        else
            heap_map[k / 64] &= ~(1ull << (k % 64));
    }
}

/* Mark [start, end) used if it overlaps the heap (objects Xen placed there). */
static void heap_reserve(uint64_t start, uint64_t end)
{
    uint64_t hs = heap_base, he = heap_base + heap_pages * PAGE_SIZE;

    if (end <= hs || start >= he || end <= start)
        return;
    if (start < hs)
        start = hs;
    if (end > he)
        end = he;
    uint64_t first = (start - hs) >> PAGE_SHIFT;
    uint64_t last = (end - hs + PAGE_SIZE - 1) >> PAGE_SHIFT;
    for (uint64_t k = first; k < last; k++) {
        if (!heap_used(k)) {
            heap_mark(k, 1, true);
            heap_free--;
        }
    }
}

static uint64_t cstr_len_phys(uint64_t pa)
{
    const char *s = (const char *)(uintptr_t)pa;
    uint64_t n = 0;
    while (n < 65536 && s[n])
        n++;
    return n + 1;
}

static int heap_init(uint64_t kernel_end, uint64_t limit, uint64_t si_pa)
{
    uint64_t best_start = 0, best_end = 0;

    for (uint32_t i = 0; i < info.memmap_entries; i++) {
        if (memmap[i].type != XEN_HVM_MEMMAP_TYPE_RAM)
            continue;
        uint64_t s = memmap[i].addr, e = memmap[i].addr + memmap[i].size;
        if (s < MIB)
            s = MIB;
        if (e > limit)
            e = limit;
        s = (s + PAGE_SIZE - 1) & ~(uint64_t)(PAGE_SIZE - 1);
        e &= ~(uint64_t)(PAGE_SIZE - 1);
        if (e > s && e - s > best_end - best_start) {
            best_start = s;
            best_end = e;
        }
    }
    if (best_end <= best_start)
        return -XF_ENOMEM;
    heap_base = best_start;
    heap_pages = (best_end - best_start) >> PAGE_SHIFT;
    if (heap_pages > HEAP_MAX_PAGES)
        heap_pages = HEAP_MAX_PAGES;
    heap_free = heap_pages;

    /* The kernel image, then whatever the domain builder put in RAM. */
    heap_reserve(0, kernel_end);
    const struct hvm_start_info *si = &start_info;
    heap_reserve(si_pa, si_pa + sizeof(struct hvm_start_info));
    if (si->cmdline_paddr)
        heap_reserve(si->cmdline_paddr, si->cmdline_paddr + cstr_len_phys(si->cmdline_paddr));
    if (si->version >= 1 && si->memmap_paddr)
        heap_reserve(si->memmap_paddr,
                     si->memmap_paddr + (uint64_t)si->memmap_entries * sizeof(memmap[0]));
    if (si->nr_modules && si->modlist_paddr) {
        const struct hvm_modlist_entry *m =
            (const struct hvm_modlist_entry *)(uintptr_t)si->modlist_paddr;
        heap_reserve(si->modlist_paddr, si->modlist_paddr + si->nr_modules * sizeof(*m));
        for (uint32_t i = 0; i < si->nr_modules; i++) {
            heap_reserve(m[i].paddr, m[i].paddr + m[i].size);
            if (m[i].cmdline_paddr)
                heap_reserve(m[i].cmdline_paddr,
                             m[i].cmdline_paddr + cstr_len_phys(m[i].cmdline_paddr));
        }
    }
    return 0;
}

void *xf_plat_page_alloc(size_t npages)
{
    if (!ready || npages == 0 || npages > heap_free)
        return NULL;
    for (uint64_t pass = 0; pass < 2; pass++) {
        uint64_t i = pass ? 0 : heap_hint;
        uint64_t end = pass ? heap_hint + npages : heap_pages;
        if (end > heap_pages)
            end = heap_pages;
        while (i + npages <= end) {
            /* Skip full words quickly. */
            if (i % 64 == 0 && heap_map[i / 64] == ~0ull) {
                i += 64;
                continue;
            }
            uint64_t run = 0;
            while (run < npages && !heap_used(i + run))
                run++;
            if (run == npages) {
                heap_mark(i, npages, true);
                heap_free -= npages;
                heap_hint = i + npages;
                void *va = (void *)(uintptr_t)(heap_base + (i << PAGE_SHIFT));
                memset(va, 0, npages * PAGE_SIZE);
                return va;
            }
            i += run + 1;
        }
    }
    return NULL;
}

void xf_plat_page_free(void *va, size_t npages)
{
    uint64_t pa = (uintptr_t)va;

    if (!va || npages == 0 || (pa & (PAGE_SIZE - 1)) || pa < heap_base)
        return;
    uint64_t i = (pa - heap_base) >> PAGE_SHIFT;
    if (i + npages > heap_pages)
        return;
    for (uint64_t k = i; k < i + npages; k++)
        if (!heap_used(k))
            return;  /* not (all) allocated: refuse rather than corrupt */
    heap_mark(i, npages, false);
    heap_free += npages;
}

xen_pfn_t xf_plat_virt_to_gfn(const void *va)
{
    /* Identity mapping: the guest frame is the virtual page number. */
    return (xen_pfn_t)((uintptr_t)va >> PAGE_SHIFT);
}

/* ------------------------------------------------------------------------
 * The foreign range: frames that are neither RAM nor anything else in the
 * memory map, inside the identity map, below the 32-bit MMIO window.
 */
static bool memmap_overlaps(uint64_t s, uint64_t e)
{
    for (uint32_t i = 0; i < info.memmap_entries; i++) {
        uint64_t ms = memmap[i].addr, me = memmap[i].addr + memmap[i].size;
        if (s < me && ms < e)
            return true;
    }
    return false;
}

static void foreign_init(void)
{
    uint64_t ram_top = 0, size = (uint64_t)XF_PVH_FOREIGN_PAGES * PAGE_SIZE;
    uint64_t limit = info.identity_limit;

    if (limit > 0xf0000000ull)
        limit = 0xf0000000ull;  /* the PCI/LAPIC/IOAPIC window lives above */
    for (uint32_t i = 0; i < info.memmap_entries; i++)
        if (memmap[i].type == XEN_HVM_MEMMAP_TYPE_RAM &&
            memmap[i].addr + memmap[i].size > ram_top && memmap[i].addr < limit)
            ram_top = memmap[i].addr + memmap[i].size;
    uint64_t base = (ram_top + GIB - 1) & ~(GIB - 1);
    if (base == 0)
        base = GIB;
    for (; base + size <= limit; base += 2 * MIB) {
        if (!memmap_overlaps(base, base + size)) {
            info.foreign_gfn = base >> PAGE_SHIFT;
            info.foreign_pages = XF_PVH_FOREIGN_PAGES;
            return;
        }
    }
}

int xf_plat_foreign_range(void **va, xen_pfn_t *first_gfn, size_t *npages)
{
    if (!info.foreign_pages)
        return -XF_ENOSYS;
    if (va)
        *va = (void *)(uintptr_t)(info.foreign_gfn << PAGE_SHIFT);
    if (first_gfn)
        *first_gfn = (xen_pfn_t)info.foreign_gfn;
    if (npages)
        *npages = (size_t)info.foreign_pages;
    return 0;
}

/* ------------------------------------------------------------------------
 * Time: Xen's PV clock in vcpu_info[0].time of shared_info. The fields are
 * read under the version protocol (odd: Xen is updating them), then the TSC
 * delta since Xen's stamp is scaled: ((delta << shift) * mul) >> 32.
 */
uint64_t xf_plat_now_ns(void)
{
    if (XF_UNLIKELY(!shinfo))
        return 0;
    const volatile struct vcpu_time_info *t = &shinfo->vcpu_info[0].time;
    uint32_t version, mul;
    uint64_t stamp, sys, tsc;
    int8_t shift;

    do {
        version = t->version;
        barrier();
        stamp = t->tsc_timestamp;
        sys = t->system_time;
        mul = t->tsc_to_system_mul;
        shift = t->tsc_shift;
        tsc = rdtsc();
        barrier();
    } while ((version & 1) || version != t->version);

    uint64_t delta = tsc - stamp;
    if ((int64_t)delta < 0)
        delta = 0;
    if (shift < 0)
        delta >>= -shift;
    else
        delta <<= shift;
    uint64_t now = sys + (uint64_t)(((xf_pvh_u128)delta * mul) >> 32);
    /* Never backwards, even across Xen's re-stamping. */
    if (now < clock_last)
        now = clock_last;
    clock_last = now;
    return now;
}

/* ------------------------------------------------------------------------
 * Waiting: by polling (SCHEDOP_poll, below) until the kernel says it takes
 * timer upcalls. Then the upcall handler counts upcalls, and a wait returns
 * at once when one happened since the previous wait returned (the caller
 * may have checked its condition before that upcall ran); otherwise it halts with
 * interrupts enabled until an upcall: an event, or Xen's single-shot timer
 * (VIRQ_TIMER) armed at the deadline. The check and the halt are atomic
 * (cli ... sti; hlt: sti only takes effect after hlt).
 */
void xf_pvh_upcall_seen(void)
{
    upcalls = upcalls + 1;
}

void xf_pvh_wait_use_timer(bool on)
{
    wait_timer = on;
}

void xf_pvh_set_poll_hook(xf_pvh_poll_hook_fn *fn, void *arg)
{
    poll_hook = fn;
    poll_hook_arg = arg;
}

int xf_plat_wait(uint64_t deadline_ns)
{
    uint64_t now = xf_plat_now_ns();

    if (now >= deadline_ns)
        return -XF_ETIMEDOUT;
    if (!wait_timer) {
        /* Polling: first let pending events be dispatched (the hook), and
         * return at once if that ran a handler: the caller's condition may
         * hold now. Otherwise SCHEDOP_poll on no port in particular sleeps
         * until some port of the domain becomes pending, or the timeout (Xen
         * system time, our clock). A port already pending does not wake it
         * (see <xenfront/platform.h>), so sleep at most 10 ms per call: a
         * poll loop stays live. */
        if (poll_hook && poll_hook(poll_hook_arg) > 0)
            return 0;
        struct sched_poll sp = { .nr_ports = 0 };
        set_xen_guest_handle(sp.ports, NULL);
        sp.timeout = deadline_ns - now > 10000000ull ? now + 10000000ull : deadline_ns;
        if (xf_plat_sched_op(SCHEDOP_poll, &sp) < 0)
            (void)xf_plat_sched_op(SCHEDOP_yield, NULL);
        return xf_plat_now_ns() >= deadline_ns ? -XF_ETIMEDOUT : 0;
    }

    uint64_t flags = irq_save();
    if (upcalls != upcalls_seen) {
        upcalls_seen = upcalls;
        irq_restore(flags);
        return 0;
    }
    /* At most a second per halt: a deadline far away (or "never") is not
     * turned into a time Xen takes for the past. */
    struct vcpu_set_singleshot_timer t = {
        .timeout_abs_ns = deadline_ns - now > 1000000000ull ? now + 1000000000ull : deadline_ns,
        .flags = 0,
    };
    if (xf_pvh_vcpu_op(VCPUOP_set_singleshot_timer, 0, &t) < 0) {
        irq_restore(flags);
        (void)xf_plat_sched_op(SCHEDOP_yield, NULL);
        return xf_plat_now_ns() >= deadline_ns ? -XF_ETIMEDOUT : 0;
    }
    __asm__ volatile("sti; hlt; cli" : : : "memory");
    upcalls_seen = upcalls;
    /* Interrupts back as the caller had them. */
    if (flags & (1u << 9))
        __asm__ volatile("sti" : : : "memory");
    return xf_plat_now_ns() >= deadline_ns ? -XF_ETIMEDOUT : 0;
}

/* ------------------------------------------------------------------------
 * Local APIC.
 */
void xf_pvh_lapic_enable(uint8_t spurious)
{
    uint64_t base = rdmsr(MSR_APIC_BASE);
    if (!(base & (1u << 11)))
        wrmsr(MSR_APIC_BASE, base | (1u << 11));
    lapic = (volatile uint32_t *)(uintptr_t)(base & 0xfffff000ull);
    lapic[LAPIC_SVR / 4] = 0x100u | spurious;
}

void xf_pvh_lapic_eoi(void)
{
    if (lapic)
        lapic[LAPIC_EOI / 4] = 0;
}

/* ------------------------------------------------------------------------
 * Start-up.
 */
static int memmap_init(uint64_t start_info_pa)
{
    const struct hvm_start_info *si = (const struct hvm_start_info *)(uintptr_t)start_info_pa;

    if (si->magic != XEN_HVM_START_MAGIC_VALUE)
        return -XF_EINVAL;
    start_info = *si;
    if (start_info.version == 0) {
        /* Before memmap_paddr existed: only the fields of version 0. */
        start_info.memmap_paddr = 0;
        start_info.memmap_entries = 0;
        start_info.reserved = 0;
    }
    info.start_info_version = start_info.version;

    if (start_info.version >= 1 && start_info.memmap_paddr && start_info.memmap_entries) {
        const struct hvm_memmap_table_entry *m =
            (const struct hvm_memmap_table_entry *)(uintptr_t)start_info.memmap_paddr;
        uint32_t n = start_info.memmap_entries;
        if (n > XF_PVH_MEMMAP_MAX)
            n = XF_PVH_MEMMAP_MAX;
        for (uint32_t i = 0; i < n; i++)
            memmap[i] = m[i];
        info.memmap_entries = n;
    } else {
        /* XENMEM_memory_map: Xen's e820 entries have the same layout's
         * first 20 bytes (addr, size, type). */
        static struct { uint64_t addr, size; uint32_t type; } __attribute__((packed)) e820[XF_PVH_MEMMAP_MAX];
        struct xen_memory_map mm = { .nr_entries = XF_PVH_MEMMAP_MAX };
        set_xen_guest_handle(mm.buffer, (void *)e820);
        long rc = xf_plat_memory_op(XENMEM_memory_map, &mm);
        if (rc < 0)
            return (int)rc;
        for (uint32_t i = 0; i < mm.nr_entries && i < XF_PVH_MEMMAP_MAX; i++) {
            memmap[i].addr = e820[i].addr;
            memmap[i].size = e820[i].size;
            memmap[i].type = e820[i].type;
            memmap[i].reserved = 0;
        }
        info.memmap_entries = mm.nr_entries < XF_PVH_MEMMAP_MAX ? mm.nr_entries : XF_PVH_MEMMAP_MAX;
    }
    for (uint32_t i = 0; i < info.memmap_entries; i++)
        if (memmap[i].type == XEN_HVM_MEMMAP_TYPE_RAM)
            info.ram_bytes += memmap[i].size;
    return 0;
}

static int shared_info_init(void)
{
    struct xen_add_to_physmap xatp = {
        .domid = DOMID_SELF,
        .space = XENMAPSPACE_shared_info,
        .idx = 0,
        .gpfn = (xen_pfn_t)((uintptr_t)shinfo_page >> PAGE_SHIFT),
    };
    long rc = xf_plat_memory_op(XENMEM_add_to_physmap, &xatp);
    if (rc < 0)
        return (int)rc;
    shinfo = (shared_info_t *)(void *)shinfo_page;
    /* Every port masked until someone binds it with a handler. */
    for (size_t i = 0; i < XF_ARRAY_SIZE(shinfo->evtchn_mask); i++)
        __atomic_store_n(&shinfo->evtchn_mask[i], ~(xen_ulong_t)0, __ATOMIC_SEQ_CST);
    return 0;
}

int xf_pvh_init(uint64_t start_info_pa, uint64_t kernel_end, uint64_t identity_limit)
{
    int rc = hypercall_page_init();
    if (rc < 0)
        return rc;
    /* The hypercall page is live: allow the calls init needs. */
    long v = xf_plat_xen_version(XENVER_version, NULL);
    info.xen_version = v > 0 ? (uint32_t)v : 0;
    info.identity_limit = identity_limit;

    rc = memmap_init(start_info_pa);
    if (rc < 0)
        return rc;
    rc = heap_init(kernel_end, identity_limit, start_info_pa);
    if (rc < 0)
        return rc;
    ready = true;
    rc = shared_info_init();
    if (rc < 0) {
        ready = false;
        return rc;
    }
    foreign_init();
    return 0;
}

void xf_pvh_get_info(struct xf_pvh_info *out)
{
    *out = info;
    out->heap_start = heap_base;
    out->heap_pages = heap_pages;
    out->heap_free = heap_free;
}

const struct hvm_start_info *xf_pvh_start_info(void)
{
    return &start_info;
}

const struct hvm_memmap_table_entry *xf_pvh_memmap(uint32_t *entries)
{
    if (entries)
        *entries = info.memmap_entries;
    return memmap;
}

shared_info_t *xf_pvh_shared_info(void)
{
    return shinfo;
}
