/*
 * tests/fuzz/fz_plat.c: the platform seam of the fuzz targets (see fz.h).
 *
 * Deterministic and cheap: pages from aligned_alloc (LeakSanitizer then
 * reports any page a library forgets), a clock that moves only in waits,
 * and hypercalls that succeed the way Xen would for a well-behaved domain.
 * What the fuzz input controls is the peer, not the hypervisor.
 */
#include "fz.h"

#include <stdarg.h>

#include <xenfront/errno.h>

struct fz_in fz_in;

uint64_t fz_now;
uint64_t fz_wait_step;
uint64_t fz_now_tick;
unsigned long fz_clock_reads;
unsigned long fz_waits;
unsigned long fz_wait_cap = 10000;
unsigned long fz_notifies[64];
unsigned long fz_notify_total;
shared_info_t *fz_shinfo;
uint64_t fz_hvm_params[64];
uint32_t fz_gnt_nr_frames = 1, fz_gnt_max_frames = 4;
long fz_pages_live;
long fz_fault_countdown = -1;
unsigned long fz_faults;

/* Fault injection: the fallible operations (page allocation, physmap
 * changes, grant-table set-up) count down fz_fault_countdown and the one
 * that finds it at 0 fails, as an out-of-memory kernel or a refusing Xen
 * would. -1: off. */
static bool fault(void)
{
    if (fz_fault_countdown < 0)
        return false;
    if (fz_fault_countdown-- != 0)
        return false;
    fz_faults++;
    return true;
}

fz_physmap_hook_fn *fz_physmap_hook;
fz_notify_hook_fn *fz_notify_hook;

static fz_wait_hook_fn *wait_hook;
static void *gfn_to_va(xen_pfn_t gfn);
static void *wait_arg;
static unsigned int next_port;

#define FZ_T0 1000000000ull   /* the clock's origin: 1 s */

void fz_set_wait_hook(fz_wait_hook_fn *fn, void *arg)
{
    wait_hook = fn;
    wait_arg = arg;
}

void fz_plat_reset(void)
{
    fz_now = FZ_T0;
    fz_wait_step = 1000000;   /* 1 ms */
    fz_now_tick = 1000000;    /* 1 ms */
    fz_clock_reads = 0;
    fz_waits = 0;
    memset(fz_notifies, 0, sizeof(fz_notifies));
    fz_notify_total = 0;
    memset(fz_hvm_params, 0, sizeof(fz_hvm_params));
    fz_gnt_nr_frames = 1;
    fz_gnt_max_frames = 4;
    next_port = 20;
    wait_hook = NULL;
    wait_arg = NULL;
    fz_physmap_hook = NULL;
    fz_notify_hook = NULL;
    fz_fault_countdown = -1;
    fz_faults = 0;
    fz_irq_depth = 0;
    if (fz_shinfo == NULL) {
        fz_shinfo = aligned_alloc(XF_PAGE_SIZE, XF_PAGE_SIZE);
        if (fz_shinfo == NULL)
            abort();
    }
    memset(fz_shinfo, 0, XF_PAGE_SIZE);
}

static int log_on = -1;

static void log_hook(void *arg, enum xf_log_level level, const char *fmt, va_list ap)
    __attribute__((format(printf, 3, 0)));

static void log_hook(void *arg, enum xf_log_level level, const char *fmt, va_list ap)
{
    (void)arg;
    fprintf(stderr, "[lib %d] ", (int)level);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
}

void fz_log_init(void)
{
    if (log_on < 0) {
        const char *e = getenv("FUZZ_LOG");

        log_on = e != NULL && *e == '1';
        if (log_on)
            xf_log_set_hook(log_hook, NULL, XF_LOG_DEBUG);
    }
}

/* ------------------------------------------------------------------------
 * Event channels on fz_shinfo, 2-level, vCPU 0.
 */
#define BITS ((unsigned)(sizeof(xen_ulong_t) * 8))

static bool test_bit(volatile xen_ulong_t *w, unsigned int port)
{
    return (__atomic_load_n(&w[port / BITS], __ATOMIC_SEQ_CST) >> (port % BITS)) & 1;
}

void fz_raise(unsigned int port)
{
    xen_ulong_t m = (xen_ulong_t)1 << (port % BITS);
    vcpu_info_t *vi = &fz_shinfo->vcpu_info[0];

    if (port >= EVTCHN_2L_NR_CHANNELS)
        return;
    if (__atomic_fetch_or(&fz_shinfo->evtchn_pending[port / BITS], m, __ATOMIC_SEQ_CST) & m)
        return;
    if (test_bit(fz_shinfo->evtchn_mask, port))
        return;
    __atomic_fetch_or(&vi->evtchn_pending_sel, (xen_ulong_t)1 << (port / BITS),
                      __ATOMIC_SEQ_CST);
    __atomic_store_n(&vi->evtchn_upcall_pending, 1, __ATOMIC_SEQ_CST);
}

long xf_plat_event_channel_op(int cmd, void *arg)
{
    switch (cmd) {
    case EVTCHNOP_send: {
        struct evtchn_send *op = arg;

        if (op->port < 64)
            fz_notifies[op->port]++;
        fz_notify_total++;
        if (fz_notify_hook != NULL)
            fz_notify_hook(op->port);
        return 0;
    }
    case EVTCHNOP_status: {
        struct evtchn_status *st = arg;

        st->status = EVTCHNSTAT_interdomain;
        st->vcpu = 0;
        st->u.interdomain.dom = 0;
        st->u.interdomain.port = 1;
        return 0;
    }
    case EVTCHNOP_unmask: {
        struct evtchn_unmask *op = arg;
        xen_ulong_t m = (xen_ulong_t)1 << (op->port % BITS);

        if (op->port >= EVTCHN_2L_NR_CHANNELS)
            return -XF_EINVAL;
        if (__atomic_fetch_and(&fz_shinfo->evtchn_mask[op->port / BITS], ~m,
                               __ATOMIC_SEQ_CST) & m) {
            if (test_bit(fz_shinfo->evtchn_pending, op->port)) {
                vcpu_info_t *vi = &fz_shinfo->vcpu_info[0];

                __atomic_fetch_or(&vi->evtchn_pending_sel,
                                  (xen_ulong_t)1 << (op->port / BITS), __ATOMIC_SEQ_CST);
                __atomic_store_n(&vi->evtchn_upcall_pending, 1, __ATOMIC_SEQ_CST);
            }
        }
        return 0;
    }
    case EVTCHNOP_alloc_unbound: {
        struct evtchn_alloc_unbound *op = arg;

        op->port = next_port++;
        return 0;
    }
    case EVTCHNOP_close:
    case EVTCHNOP_bind_vcpu:
        return 0;
    default:
        return -XF_ENOSYS;
    }
}

/* ------------------------------------------------------------------------
 * Grant table: a v1 table of fz_gnt_nr_frames, growable to the maximum.
 */
long xf_plat_grant_table_op(unsigned int cmd, void *uop, unsigned int count)
{
    (void)count;
    switch (cmd) {
    case GNTTABOP_query_size: {
        struct gnttab_query_size *q = uop;

        if (fault())
            return -XF_EPERM;
        q->nr_frames = fz_gnt_nr_frames;
        q->max_nr_frames = fz_gnt_max_frames;
        q->status = GNTST_okay;
        return 0;
    }
    case GNTTABOP_set_version:
        if (fault())
            return -XF_ENOSYS;   /* then get_version says 1: still usable */
        return ((struct gnttab_set_version *)uop)->version == 1 ? 0 : -XF_ENOSYS;
    case GNTTABOP_get_version:
        ((struct gnttab_get_version *)uop)->version = 1;
        return 0;
    default:
        return -XF_ENOSYS;
    }
}

long xf_plat_memory_op(unsigned int cmd, void *arg)
{
    switch (cmd) {
    case XENMEM_add_to_physmap: {
        struct xen_add_to_physmap *x = arg;
        void *va = gfn_to_va(x->gpfn);

        if (va == NULL)
            return -XF_EINVAL;
        if (fault())
            return -XF_ENOMEM;
        if (fz_physmap_hook != NULL)
            fz_physmap_hook(va, x->space, x->idx);
        return 0;
    }
    case XENMEM_remove_from_physmap:
        return fault() ? -XF_EINVAL : 0;
    case XENMEM_populate_physmap:
        return fault() ? 0 : (long)((struct xen_memory_reservation *)arg)->nr_extents;
    default:
        return -XF_ENOSYS;
    }
}

long xf_plat_hvm_op(unsigned int cmd, void *arg)
{
    struct xen_hvm_param *p = arg;

    switch (cmd) {
    case HVMOP_get_param:
        p->value = p->index < 64 ? fz_hvm_params[p->index] : 0;
        return 0;
    case HVMOP_set_param:
        return 0;
    default:
        return -XF_ENOSYS;
    }
}

long xf_plat_sched_op(int cmd, void *arg)
{
    (void)cmd;
    (void)arg;
    return 0;
}

long xf_plat_console_io(int cmd, unsigned int count, char *buf)
{
    (void)cmd;
    (void)count;
    (void)buf;
    return -XF_EPERM;
}

long xf_plat_xen_version(int cmd, void *arg)
{
    if (cmd == XENVER_get_features) {
        xen_feature_info_t *fi = arg;

        fi->submap = 0;
        return 0;
    }
    return -XF_ENOSYS;
}

/* ------------------------------------------------------------------------
 * Pages, frames, the foreign range.
 */
/* Live allocations, so that frame numbers map back to addresses (the
 * add_to_physmap hook needs the page Xen would replace). */
#define NALLOC 1024
static struct { unsigned char *va; size_t npages; } allocs[NALLOC];
#define GFN_BASE 0x100000u
#define GFN_SPAN 0x10000u

void *xf_plat_page_alloc(size_t npages)
{
    void *p;

    if (npages == 0 || npages > GFN_SPAN || fault())
        return NULL;
    p = aligned_alloc(XF_PAGE_SIZE, npages * XF_PAGE_SIZE);
    if (p == NULL)
        return NULL;
    memset(p, 0, npages * XF_PAGE_SIZE);
    fz_pages_live += (long)npages;
    for (unsigned i = 0; i < NALLOC; i++) {
        if (allocs[i].va == NULL) {
            allocs[i].va = p;
            allocs[i].npages = npages;
            break;
        }
    }
    return p;
}

void xf_plat_page_free(void *va, size_t npages)
{
    if (va == NULL)
        return;
    for (unsigned i = 0; i < NALLOC; i++) {
        if (allocs[i].va == va) {
            if (allocs[i].npages != npages) {
                fprintf(stderr, "page_free of %zu pages, allocated %zu\n", npages,
                        allocs[i].npages);
                abort();
            }
            allocs[i].va = NULL;
            break;
        }
    }
    fz_pages_live -= (long)npages;
    free(va);
}

xen_pfn_t xf_plat_virt_to_gfn(const void *va)
{
    const unsigned char *p = va;

    for (unsigned i = 0; i < NALLOC; i++)
        if (allocs[i].va != NULL && p >= allocs[i].va &&
            p < allocs[i].va + allocs[i].npages * XF_PAGE_SIZE)
            return GFN_BASE + (xen_pfn_t)i * GFN_SPAN +
                   (xen_pfn_t)((size_t)(p - allocs[i].va) / XF_PAGE_SIZE);
    /* Not from the allocator (a caller's own page): any number below 2^32. */
    return (xen_pfn_t)(((uintptr_t)va >> 12) & 0x0fffffu);
}

static void *gfn_to_va(xen_pfn_t gfn)
{
    xen_pfn_t i = (gfn - GFN_BASE) / GFN_SPAN, off = (gfn - GFN_BASE) % GFN_SPAN;

    if (gfn < GFN_BASE || i >= NALLOC || allocs[i].va == NULL || off >= allocs[i].npages)
        return NULL;
    return allocs[i].va + off * XF_PAGE_SIZE;
}

int xf_plat_foreign_range(void **va, xen_pfn_t *first_gfn, size_t *npages)
{
    (void)va;
    (void)first_gfn;
    (void)npages;
    return -XF_ENOSYS;
}

/* ------------------------------------------------------------------------
 * Time. The clock moves by fz_now_tick at each reading and by
 * fz_wait_step at each wait (to the deadline once the input is used up or
 * the cap is reached), which also gives the peer its turn, so every
 * helper's deadline comes in a bounded number of rounds.
 */
uint64_t xf_plat_now_ns(void)
{
    /* Work takes time: every look at the clock costs fz_now_tick, so a
     * library that loops without waiting still meets its deadline, as it
     * would on a real machine, and one that never looks at the clock does
     * not. */
    fz_clock_reads++;
    fz_now += fz_now_tick;
    return fz_now;
}

int xf_plat_wait(uint64_t deadline_ns)
{
    fz_waits++;
    if (wait_hook != NULL && fz_waits <= fz_wait_cap && !fz_eof())
        wait_hook(wait_arg);
    if (fz_eof() || fz_waits > fz_wait_cap || fz_wait_step == 0)
        fz_now = deadline_ns > fz_now ? deadline_ns : fz_now;
    else
        fz_now += fz_wait_step;
    return fz_now >= deadline_ns ? -XF_ETIMEDOUT : 0;
}

/* ------------------------------------------------------------------------
 * The critical section against the event handler: the fuzz targets run
 * handlers only between library calls (fz_raise, then a dispatch), so
 * nothing needs holding off. Nesting is counted to catch an unbalanced
 * pair.
 */
long fz_irq_depth;

xf_irqflags_t xf_plat_irq_save(void)
{
    return (xf_irqflags_t)fz_irq_depth++;
}

void xf_plat_irq_restore(xf_irqflags_t flags)
{
    fz_irq_depth = (long)flags;
}
