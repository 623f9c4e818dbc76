/*
 * The platform seam (xf_plat_*) over the simulator, the hypercall entry
 * points for any caller domain, and the helpers tests use to act as another
 * domain. Every entry takes the state lock, so hypercalls from threads and
 * processes are serialised like a single-CPU hypervisor.
 */
#include "private.h"

#include <signal.h>

/* The process default for threads without xf_sim_set_current(). */
struct xf_sim *xf_sim_default_;
domid_t xf_sim_default_domid_;

static __thread struct xf_sim *tl_sim;
static __thread domid_t tl_domid;

void xf_sim_set_current(struct xf_sim *sim, domid_t domid)
{
    tl_sim = sim;
    tl_domid = domid;
}

static struct xf_sim *cur(domid_t *domid)
{
    if (tl_sim != NULL) {
        *domid = tl_domid;
        return tl_sim;
    }
    *domid = xf_sim_default_domid_;
    return xf_sim_default_;
}

/* ------------------------------------------------------------------------
 * Hypercalls as any caller.
 */
#define ENTER(sim, caller, d) \
    struct sim_dom *d; \
    if ((sim) == NULL) \
        return -XF_ENOSYS; \
    sim_lock(sim); \
    d = sim_find((sim), (caller)); \
    if (d == NULL) { \
        sim_unlock(sim); \
        return -XF_ESRCH; \
    }

long xf_sim_event_channel_op(struct xf_sim *sim, domid_t caller, int cmd, void *arg)
{
    ENTER(sim, caller, d);
    long rc = sim_evtchn_op(sim, d, cmd, arg);
    sim_unlock(sim);
    return rc;
}

long xf_sim_grant_table_op(struct xf_sim *sim, domid_t caller, unsigned int cmd, void *uop,
                           unsigned int count)
{
    ENTER(sim, caller, d);
    long rc = sim_gnttab_op(sim, d, cmd, uop, count);
    sim_unlock(sim);
    return rc;
}

long xf_sim_memory_op(struct xf_sim *sim, domid_t caller, unsigned int cmd, void *arg)
{
    ENTER(sim, caller, d);
    long rc = arg == NULL ? -XF_EFAULT : sim_memory_op(sim, d, cmd, arg);
    sim_unlock(sim);
    return rc;
}

long xf_sim_hvm_op(struct xf_sim *sim, domid_t caller, unsigned int cmd, void *arg)
{
    ENTER(sim, caller, d);
    long rc = sim_hvm_op(sim, d, cmd, arg);
    sim_unlock(sim);
    return rc;
}

long xf_sim_sched_op(struct xf_sim *sim, domid_t caller, int cmd, void *arg)
{
    ENTER(sim, caller, d);
    long rc = sim_sched_op(sim, d, cmd, arg);
    sim_unlock(sim);
    return rc;
}

long xf_sim_console_io(struct xf_sim *sim, domid_t caller, int cmd, unsigned int count, char *buf)
{
    ENTER(sim, caller, d);
    long rc = sim_console_io(sim, d, cmd, count, buf);
    sim_unlock(sim);
    return rc;
}

long xf_sim_xen_version(struct xf_sim *sim, domid_t caller, int cmd, void *arg)
{
    ENTER(sim, caller, d);
    long rc = sim_xen_version(sim, d, cmd, arg);
    sim_unlock(sim);
    return rc;
}

/* ------------------------------------------------------------------------
 * The seam.
 */
long xf_plat_event_channel_op(int cmd, void *arg)
{
    domid_t id;
    struct xf_sim *sim = cur(&id);
    return xf_sim_event_channel_op(sim, id, cmd, arg);
}

long xf_plat_grant_table_op(unsigned int cmd, void *uop, unsigned int count)
{
    domid_t id;
    struct xf_sim *sim = cur(&id);
    return xf_sim_grant_table_op(sim, id, cmd, uop, count);
}

long xf_plat_memory_op(unsigned int cmd, void *arg)
{
    domid_t id;
    struct xf_sim *sim = cur(&id);
    return xf_sim_memory_op(sim, id, cmd, arg);
}

long xf_plat_hvm_op(unsigned int cmd, void *arg)
{
    domid_t id;
    struct xf_sim *sim = cur(&id);
    return xf_sim_hvm_op(sim, id, cmd, arg);
}

long xf_plat_sched_op(int cmd, void *arg)
{
    domid_t id;
    struct xf_sim *sim = cur(&id);
    return xf_sim_sched_op(sim, id, cmd, arg);
}

long xf_plat_console_io(int cmd, unsigned int count, char *buf)
{
    domid_t id;
    struct xf_sim *sim = cur(&id);
    return xf_sim_console_io(sim, id, cmd, count, buf);
}

long xf_plat_xen_version(int cmd, void *arg)
{
    domid_t id;
    struct xf_sim *sim = cur(&id);
    return xf_sim_xen_version(sim, id, cmd, arg);
}

void *xf_plat_page_alloc(size_t npages)
{
    domid_t id;
    struct xf_sim *sim = cur(&id);
    struct sim_dom *d;
    void *va = NULL;

    if (sim == NULL || npages == 0)
        return NULL;
    sim_lock(sim);
    d = sim_find(sim, id);
    if (d != NULL) {
        long first = sim_alloc_frames(d, npages);
        if (first >= 0) {
            va = view_gfn_va(sim, d, (uint64_t)first);
            if (va != NULL)
                memset(va, 0, npages * PAGE);
            else
                sim_free_frames(d, (uint64_t)first, npages);
        }
    }
    sim_unlock(sim);
    return va;
}

/* The domain whose view (in this process) holds va, and the gfn. */
static struct sim_dom *va_owner(struct xf_sim *sim, domid_t prefer, const void *va,
                                uint64_t *gfn)
{
    const uint8_t *p = va;
    struct sim_dom *pd = sim_find(sim, prefer);

    for (int pass = 0; pass < 2; pass++) {
        for (int i = 0; i < XF_SIM_MAX_DOMAINS; i++) {
            struct sim_dom *d = &sim->hv->doms[i];
            struct sim_view *v = &sim->views[i];
            if (!d->in_use || v->gen != d->gen || (pass == 0 && d != pd))
                continue;
            if (p >= v->base && p < v->base + v->span_frames * PAGE) {
                *gfn = (uint64_t)(p - v->base) / PAGE;
                return d;
            }
        }
    }
    return NULL;
}

void xf_plat_page_free(void *va, size_t npages)
{
    domid_t id;
    struct xf_sim *sim = cur(&id);
    struct sim_dom *d;
    uint64_t gfn;

    if (sim == NULL || va == NULL)
        return;
    sim_lock(sim);
    d = va_owner(sim, id, va, &gfn);
    if (d != NULL)
        sim_free_frames(d, gfn, npages);
    sim_unlock(sim);
}

xen_pfn_t xf_plat_virt_to_gfn(const void *va)
{
    domid_t id;
    struct xf_sim *sim = cur(&id);
    uint64_t gfn = ~(uint64_t)0;

    if (sim == NULL)
        return ~(xen_pfn_t)0;
    sim_lock(sim);
    if (va_owner(sim, id, va, &gfn) == NULL)
        gfn = ~(uint64_t)0;
    sim_unlock(sim);
    return (xen_pfn_t)gfn;
}

int xf_plat_foreign_range(void **va, xen_pfn_t *first_gfn, size_t *npages)
{
    domid_t id;
    struct xf_sim *sim = cur(&id);
    struct sim_dom *d;
    struct sim_view *v;
    int rc = -XF_ENOSYS;

    if (sim == NULL)
        return rc;
    sim_lock(sim);
    d = sim_find(sim, id);
    if (d != NULL && d->foreign_frames != 0 && (v = view_get(sim, d)) != NULL) {
        *va = v->base + foreign_first(d) * PAGE;
        *first_gfn = (xen_pfn_t)foreign_first(d);
        *npages = d->foreign_frames;
        rc = 0;
    }
    sim_unlock(sim);
    return rc;
}

uint64_t xf_plat_now_ns(void)
{
    return sim_now_ns();
}

int xf_plat_wait(uint64_t deadline_ns)
{
    domid_t id;
    struct xf_sim *sim = cur(&id);
    int rc = 0;

    if (sim == NULL)
        return -XF_ETIMEDOUT;
    sim_lock(sim);
    for (;;) {
        struct sim_dom *d = sim_find(sim, id);
        if (d == NULL)
            break;
        if (AT_LOAD(&sim_shinfo(sim, d)->vcpu_info[0].evtchn_upcall_pending)) {
            sim_deliver_upcalls_locked(sim, id);
            break;
        }
        if (sim_cond_wait(sim, deadline_ns) == -XF_ETIMEDOUT) {
            d = sim_find(sim, id);
            if (d == NULL || !AT_LOAD(&sim_shinfo(sim, d)->vcpu_info[0].evtchn_upcall_pending))
                rc = -XF_ETIMEDOUT;
            else
                sim_deliver_upcalls_locked(sim, id);
            break;
        }
    }
    sim_unlock(sim);
    return rc;
}

/* ------------------------------------------------------------------------
 * Helpers for tests acting as a domain.
 */
int xf_sim_evtchn_bind_interdomain(struct xf_sim *sim, domid_t domid, domid_t remote_dom,
                                   evtchn_port_t remote_port)
{
    struct evtchn_bind_interdomain b = { .remote_dom = remote_dom, .remote_port = remote_port };
    long rc = xf_sim_event_channel_op(sim, domid, EVTCHNOP_bind_interdomain, &b);
    return rc < 0 ? (int)rc : (int)b.local_port;
}

int xf_sim_evtchn_alloc_unbound(struct xf_sim *sim, domid_t domid, domid_t remote_dom)
{
    struct evtchn_alloc_unbound a = { .dom = DOMID_SELF, .remote_dom = remote_dom };
    long rc = xf_sim_event_channel_op(sim, domid, EVTCHNOP_alloc_unbound, &a);
    return rc < 0 ? (int)rc : (int)a.port;
}

int xf_sim_evtchn_send(struct xf_sim *sim, domid_t domid, evtchn_port_t port)
{
    struct evtchn_send s = { .port = port };
    return (int)xf_sim_event_channel_op(sim, domid, EVTCHNOP_send, &s);
}

int xf_sim_evtchn_close(struct xf_sim *sim, domid_t domid, evtchn_port_t port)
{
    struct evtchn_close c = { .port = port };
    return (int)xf_sim_event_channel_op(sim, domid, EVTCHNOP_close, &c);
}

int xf_sim_evtchn_wait(struct xf_sim *sim, domid_t domid, evtchn_port_t port,
                       uint64_t deadline_ns)
{
    int rc;

    if (port >= XF_SIM_NR_PORTS)
        return -XF_EINVAL;
    sim_lock(sim);
    for (;;) {
        struct sim_dom *d = sim_find(sim, domid);
        if (d == NULL) {
            rc = -XF_ESRCH;
            break;
        }
        if (bit_test_and_clear(sim_shinfo(sim, d)->evtchn_pending, port)) {
            rc = 0;
            break;
        }
        if (sim_cond_wait(sim, deadline_ns) == -XF_ETIMEDOUT) {
            d = sim_find(sim, domid);
            rc = d != NULL && bit_test_and_clear(sim_shinfo(sim, d)->evtchn_pending, port)
                     ? 0 : -XF_ETIMEDOUT;
            break;
        }
    }
    sim_unlock(sim);
    return rc;
}

bool xf_sim_evtchn_test_and_clear(struct xf_sim *sim, domid_t domid, evtchn_port_t port)
{
    struct sim_dom *d;
    bool r = false;

    if (port >= XF_SIM_NR_PORTS)
        return false;
    sim_lock(sim);
    d = sim_find(sim, domid);
    if (d != NULL)
        r = bit_test_and_clear(sim_shinfo(sim, d)->evtchn_pending, port);
    sim_unlock(sim);
    return r;
}

int xf_sim_raise_virq(struct xf_sim *sim, domid_t domid, unsigned int virq, unsigned int vcpu)
{
    struct sim_dom *d;
    int rc = -XF_ESRCH;

    sim_lock(sim);
    d = sim_find(sim, domid);
    if (d != NULL)
        rc = evtchn_raise_virq(sim, d, virq, vcpu);
    sim_unlock(sim);
    return rc;
}

void xf_sim_set_upcall_handler(struct xf_sim *sim, domid_t domid, xf_sim_upcall_fn fn, void *arg)
{
    struct sim_dom *d;
    struct sim_view *v;

    sim_lock(sim);
    d = sim_find(sim, domid);
    if (d != NULL && (v = view_get(sim, d)) != NULL) {
        v->upcall = fn;
        v->upcall_arg = arg;
    }
    sim_unlock(sim);
}

int xf_sim_deliver_upcalls(struct xf_sim *sim, domid_t domid)
{
    int n;

    sim_lock(sim);
    n = sim_deliver_upcalls_locked(sim, domid);
    sim_unlock(sim);
    return n;
}

void *xf_sim_gfn_to_va(struct xf_sim *sim, domid_t domid, xen_pfn_t gfn)
{
    struct sim_dom *d;
    void *va = NULL;

    sim_lock(sim);
    d = sim_find(sim, domid);
    if (d != NULL)
        va = view_gfn_va(sim, d, gfn);
    sim_unlock(sim);
    return va;
}

shared_info_t *xf_sim_shared_info(struct xf_sim *sim, domid_t domid)
{
    struct sim_dom *d;
    shared_info_t *s = NULL;

    sim_lock(sim);
    d = sim_find(sim, domid);
    if (d != NULL)
        s = sim_shinfo(sim, d);
    sim_unlock(sim);
    return s;
}

grant_entry_v1_t *xf_sim_grant_table(struct xf_sim *sim, domid_t domid)
{
    struct sim_dom *d;
    struct sim_view *v;
    grant_entry_v1_t *gt = NULL;

    sim_lock(sim);
    d = sim_find(sim, domid);
    if (d != NULL && (v = view_get(sim, d)) != NULL)
        gt = v->gt;
    sim_unlock(sim);
    return gt;
}

int xf_sim_foreign_range(struct xf_sim *sim, domid_t domid, xen_pfn_t *first_gfn,
                         size_t *nframes)
{
    struct sim_dom *d;
    int rc = -XF_ESRCH;

    sim_lock(sim);
    d = sim_find(sim, domid);
    if (d != NULL) {
        *first_gfn = (xen_pfn_t)foreign_first(d);
        *nframes = d->foreign_frames;
        rc = 0;
    }
    sim_unlock(sim);
    return rc;
}

int xf_sim_evtchn_wait_any(struct xf_sim *sim, domid_t domid, const evtchn_port_t *ports,
                           unsigned int n, const volatile int *cancel, uint64_t deadline_ns)
{
    int rc;

    for (unsigned int i = 0; i < n; i++)
        if (ports[i] >= XF_SIM_NR_PORTS)
            return -XF_EINVAL;
    sim_lock(sim);
    for (;;) {
        struct sim_dom *d = sim_find(sim, domid);
        if (d == NULL) {
            rc = -XF_ESRCH;
            break;
        }
        rc = -XF_EAGAIN;
        for (unsigned int i = 0; i < n && rc < 0; i++)
            if (bit_test_and_clear(sim_shinfo(sim, d)->evtchn_pending, ports[i]))
                rc = (int)ports[i];
        if (rc >= 0)
            break;
        if (cancel != NULL && *cancel) {
            rc = -XF_EINTR;
            break;
        }
        if (sim_cond_wait(sim, deadline_ns) == -XF_ETIMEDOUT) {
            rc = -XF_ETIMEDOUT;
            d = sim_find(sim, domid);
            for (unsigned int i = 0; d != NULL && i < n && rc < 0; i++)
                if (bit_test_and_clear(sim_shinfo(sim, d)->evtchn_pending, ports[i]))
                    rc = (int)ports[i];
            break;
        }
    }
    sim_unlock(sim);
    return rc;
}

void xf_sim_kick(struct xf_sim *sim)
{
    sim_lock(sim);
    sim_kick(sim);
    sim_unlock(sim);
}

/* ------------------------------------------------------------------------
 * The critical section (xf_plat_irq_save/restore) and emulated
 * asynchronous interrupts. Per thread, since a thread stands for a vCPU.
 * Everything the signal handler touches is a volatile sig_atomic_t or set
 * before the signal is unblocked, so the handler sees consistent state.
 */
#define SIM_IRQ_SIGNAL SIGUSR1

static __thread volatile sig_atomic_t tl_irq_off;     /* inside irq_save  */
static __thread volatile sig_atomic_t tl_irq_held;    /* raised meanwhile */
static __thread volatile sig_atomic_t tl_irq_active;  /* handler installed */
static __thread xf_sim_irq_fn tl_irq_fn;
static __thread void *tl_irq_arg;
static __thread uint64_t tl_irq_direct, tl_irq_deferred;
static __thread uint32_t tl_irq_self_every, tl_irq_saves;

static void sim_irq_run(void)
{
    tl_irq_off = 1;
    XF_BARRIER();
    tl_irq_fn(tl_irq_arg);
    XF_BARRIER();
    tl_irq_off = 0;
}

static void sim_irq_signal(int sig)
{
    (void)sig;
    if (!tl_irq_active)
        return;
    if (tl_irq_off) {
        tl_irq_held = 1;
        tl_irq_deferred++;
        return;
    }
    tl_irq_direct++;
    sim_irq_run();
}

xf_irqflags_t xf_plat_irq_save(void)
{
    xf_irqflags_t was = (xf_irqflags_t)tl_irq_off;

    tl_irq_off = 1;
    /* The compiler must not move the critical section's accesses above
     * this store (a signal is an interrupt on this very thread: ordering
     * against it needs only the compiler's cooperation). */
    XF_BARRIER();
    /* An interrupt arriving inside the section, on demand: it must wait
     * for the matching restore. */
    if (tl_irq_active && tl_irq_self_every != 0 && was == 0 &&
        ++tl_irq_saves % tl_irq_self_every == 0)
        (void)pthread_kill(pthread_self(), SIM_IRQ_SIGNAL);
    return was;
}

void xf_plat_irq_restore(xf_irqflags_t flags)
{
    XF_BARRIER();
    if (flags != 0)
        return;
    tl_irq_off = 0;
    XF_BARRIER();
    /* Deliver what was held off, as sti delivers a pending interrupt. A
     * signal landing between the two tests finds tl_irq_off clear and runs
     * the handler itself; the held flag then stays clear. */
    while (tl_irq_held && tl_irq_active) {
        tl_irq_held = 0;
        sim_irq_run();
    }
}

int xf_sim_irq_install(xf_sim_irq_fn fn, void *arg)
{
    struct sigaction sa;

    if (fn == NULL)
        return -XF_EINVAL;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = sim_irq_signal;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = SA_RESTART;
    tl_irq_fn = fn;
    tl_irq_arg = arg;
    tl_irq_held = 0;
    tl_irq_direct = tl_irq_deferred = 0;
    XF_BARRIER();
    tl_irq_active = 1;
    if (sigaction(SIM_IRQ_SIGNAL, &sa, NULL) != 0) {
        tl_irq_active = 0;
        return -XF_EINVAL;
    }
    return 0;
}

void xf_sim_irq_self_every(uint32_t n)
{
    tl_irq_self_every = n;
    tl_irq_saves = 0;
}

void xf_sim_irq_uninstall(void)
{
    /* With the flag clear a late signal does nothing; the process-wide
     * disposition stays (other threads may still use theirs). */
    tl_irq_active = 0;
    XF_BARRIER();
    tl_irq_held = 0;
}

int xf_sim_irq_raise(pthread_t thread)
{
    return pthread_kill(thread, SIM_IRQ_SIGNAL) == 0 ? 0 : -XF_EINVAL;
}

void xf_sim_irq_counts(uint64_t *direct, uint64_t *deferred)
{
    *direct = tl_irq_direct;
    *deferred = tl_irq_deferred;
}
