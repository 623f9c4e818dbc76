/*
 * tests/fuzz/fz_plat.c: the platform seam of the fuzz targets (see fz.h).
 *
 * Deterministic and cheap: pages from aligned_alloc (LeakSanitizer then
 * reports any page a library forgets), a clock that moves only in waits,
 * and hypercalls that succeed the way Xen would for a well-behaved domain,
 * unless the input arms a fault plan (fz_fault_plan: they then fail as a
 * refusing Xen's do) or picks the ports and port status Xen reports.
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
long fz_fault_repeat = -1;
unsigned fz_fault_classes = FZ_FAULT_MEM | FZ_FAULT_GNT;
int fz_fault_errno;
unsigned long fz_faults;
unsigned long fz_faults_of[3];

/* Fault injection: the fallible operations of the armed classes count
 * down fz_fault_countdown and the one that finds it at 0 fails, as an
 * out-of-memory kernel or a refusing Xen would. -1: off. */
static bool fault(unsigned cls)
{
    if (fz_fault_countdown < 0 || !(fz_fault_classes & cls))
        return false;
    if (fz_fault_countdown-- != 0)
        return false;
    fz_faults++;
    fz_faults_of[cls == FZ_FAULT_MEM ? 0 : cls == FZ_FAULT_GNT ? 1 : 2]++;
    fz_fault_countdown = fz_fault_repeat;
    return true;
}

/* The error of a failing hypercall: the plan's, or the operation's own. */
static long xen_err(long dflt)
{
    return fz_fault_errno != 0 ? fz_fault_errno : dflt;
}

/* What Xen's hypercalls return when they refuse (the plan picks one). */
static const int xen_errors[] = {
    -XF_EINVAL, -XF_ENOMEM, -XF_ENOSPC, -XF_EPERM, -XF_ESRCH, -XF_EBUSY,
    -XF_EFAULT, -XF_ENOENT, -XF_ENOSYS, -XF_EAGAIN, -XF_EEXIST, -XF_EACCES,
};

bool fz_is_xen_error(long rc)
{
    for (unsigned i = 0; i < sizeof(xen_errors) / sizeof(xen_errors[0]); i++)
        if (rc == xen_errors[i])
            return true;
    return false;
}

void fz_fault_plan(unsigned allowed)
{
    uint8_t b = fz_u8();

    if (!(b & 1) || !(allowed & (b >> 1))) {
        fz_fault_countdown = -1;
        return;
    }
    fz_fault_classes = allowed & (b >> 1);
    fz_fault_countdown = fz_u8() % 64;
    b = fz_u8();
    fz_fault_repeat = (b & 3) == 0 ? (long)(b >> 2) % 8 : -1;
    b = fz_u8();
    fz_fault_errno = b < 0x40 ? 0 : xen_errors[b % (sizeof(xen_errors) / sizeof(xen_errors[0]))];
}

fz_physmap_hook_fn *fz_physmap_hook;
fz_notify_hook_fn *fz_notify_hook;
uint32_t fz_next_port;
unsigned fz_status_kind, fz_status_vcpu;

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
    fz_next_port = 0;
    fz_status_kind = 0;
    fz_status_vcpu = 0;
    wait_hook = NULL;
    wait_arg = NULL;
    fz_physmap_hook = NULL;
    fz_notify_hook = NULL;
    fz_fault_countdown = -1;
    fz_fault_repeat = -1;
    fz_fault_classes = FZ_FAULT_MEM | FZ_FAULT_GNT;
    fz_fault_errno = 0;
    fz_faults = 0;
    memset(fz_faults_of, 0, sizeof(fz_faults_of));
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

/* The port a bind gets: Xen's next free one, or the input's choice. */
static evtchn_port_t new_port(void)
{
    uint32_t p = fz_next_port;

    fz_next_port = 0;
    return p != 0 ? p : next_port++;
}

long xf_plat_event_channel_op(int cmd, void *arg)
{
    /* The library asked to notify (counted even if Xen refuses: what it
     * did is what the targets check). */
    if (cmd == EVTCHNOP_send) {
        struct evtchn_send *op = arg;

        if (op->port < 64)
            fz_notifies[op->port]++;
        fz_notify_total++;
    }
    /* A refusing Xen changes nothing and returns a negative errno. */
    if (fault(FZ_FAULT_EVT))
        return xen_err(cmd == EVTCHNOP_alloc_unbound ? -XF_ENOSPC : -XF_EINVAL);
    switch (cmd) {
    case EVTCHNOP_send: {
        struct evtchn_send *op = arg;

        if (fz_notify_hook != NULL)
            fz_notify_hook(op->port);
        return 0;
    }
    case EVTCHNOP_status: {
        static const uint32_t kinds[] = {
            EVTCHNSTAT_interdomain, EVTCHNSTAT_unbound, EVTCHNSTAT_closed,
            EVTCHNSTAT_virq, EVTCHNSTAT_ipi, EVTCHNSTAT_pirq,
        };
        struct evtchn_status *st = arg;

        st->status = kinds[fz_status_kind % 6];
        st->vcpu = fz_status_vcpu;
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
    case EVTCHNOP_alloc_unbound:
        ((struct evtchn_alloc_unbound *)arg)->port = new_port();
        return 0;
    case EVTCHNOP_bind_interdomain:
        ((struct evtchn_bind_interdomain *)arg)->local_port = new_port();
        return 0;
    case EVTCHNOP_bind_ipi:
        ((struct evtchn_bind_ipi *)arg)->port = new_port();
        return 0;
    case EVTCHNOP_bind_virq: {
        struct evtchn_bind_virq *op = arg;

        /* As Xen: a global VIRQ binds on vCPU 0 only. */
        if (op->vcpu != 0 && op->virq != VIRQ_TIMER && op->virq != VIRQ_DEBUG)
            return -XF_EINVAL;
        op->port = new_port();
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

        if (fault(FZ_FAULT_GNT))
            return xen_err(-XF_EPERM);
        q->nr_frames = fz_gnt_nr_frames;
        q->max_nr_frames = fz_gnt_max_frames;
        q->status = GNTST_okay;
        return 0;
    }
    case GNTTABOP_set_version:
        if (fault(FZ_FAULT_GNT))
            return xen_err(-XF_ENOSYS);   /* then get_version says 1: still usable */
        return ((struct gnttab_set_version *)uop)->version == 1 ? 0 : -XF_ENOSYS;
    case GNTTABOP_get_version:
        if (fault(FZ_FAULT_GNT))
            return xen_err(-XF_EFAULT);
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
        if (fault(FZ_FAULT_MEM))
            return xen_err(-XF_ENOMEM);
        if (fz_physmap_hook != NULL)
            fz_physmap_hook(va, x->space, x->idx);
        return 0;
    }
    case XENMEM_remove_from_physmap:
        return fault(FZ_FAULT_MEM) ? xen_err(-XF_EINVAL) : 0;
    case XENMEM_populate_physmap:
        return fault(FZ_FAULT_MEM) ? 0 : (long)((struct xen_memory_reservation *)arg)->nr_extents;
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

    if (npages == 0 || npages > GFN_SPAN || fault(FZ_FAULT_MEM))
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
