/*
 * libevtchn benchmark, against the simulator, in one run:
 *
 *  1. Dispatch cost per event with 1, 64 and all bound ports. Events are
 *     raised the way Xen raises them (pending bit, then selector, then
 *     upcall_pending, in shared_info), directly, so that the figure is the
 *     dispatcher's and not the simulated hypercall's; one row adds the
 *     end-to-end cost with a real (simulated) EVTCHNOP_send. Timed in
 *     batches (the clock costs as much as a dispatch here), beside a bare
 *     floor that only clears what was raised; medians over the batches.
 *  2. The starvation pattern: a low port whose handler raises it again
 *     every time, and port 4000 raised once. The baseline is a naive
 *     lowest-port-first dispatcher (written below, as small kernels do it:
 *     handle the lowest pending port, rescan from the bottom), with the
 *     same budget of events per upcall as the library gets.
 */
#define _GNU_SOURCE
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <xenfront/errno.h>
#include <xenfront/evtchn.h>
#include <xenfront/sim.h>

#define BITS ((unsigned)(sizeof(xen_ulong_t) * 8))

static struct xf_sim *sim;
static struct xf_evtchn *ec;
static shared_info_t *shi;
static unsigned long handled;

static void die(const char *what, long rc)
{
    fprintf(stderr, "bench_evtchn: %s: %ld\n", what, rc);
    exit(1);
}

static uint64_t now_ns(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* What Xen's evtchn_2l_set_pending does to the guest's page. */
static void xen_raise(evtchn_port_t port)
{
    xen_ulong_t m = (xen_ulong_t)1 << (port % BITS);
    vcpu_info_t *vi = &shi->vcpu_info[0];

    if (__atomic_fetch_or(&shi->evtchn_pending[port / BITS], m, __ATOMIC_SEQ_CST) & m)
        return;
    if (__atomic_load_n(&shi->evtchn_mask[port / BITS], __ATOMIC_SEQ_CST) & m)
        return;
    if (!(__atomic_fetch_or(&vi->evtchn_pending_sel, (xen_ulong_t)1 << (port / BITS),
                            __ATOMIC_SEQ_CST) & ((xen_ulong_t)1 << (port / BITS))))
        __atomic_store_n(&vi->evtchn_upcall_pending, 1, __ATOMIC_SEQ_CST);
}

static void count(struct xf_evtchn *e, evtchn_port_t port, void *arg)
{
    (void)e;
    (void)port;
    (void)arg;
    handled++;
}

static evtchn_port_t ports[XF_EVTCHN_NR_PORTS];
static unsigned nports;

static void bind_n(unsigned n)
{
    while (nports < n) {
        int rc = xf_evtchn_bind_ipi(ec, count, NULL, &ports[nports]);
        if (rc == -XF_ENOSPC)
            break;
        if (rc != 0)
            die("bind_ipi", rc);
        nports++;
    }
}

static void unbind_all(void)
{
    while (nports > 0)
        if (xf_evtchn_close(ec, ports[--nports]) != 0)
            die("close", 0);
}

/* Raise `pending` of the bound ports, spread over them. */
static void raise_ports(unsigned pending, bool via_hypercall)
{
    for (unsigned i = 0; i < pending; i++) {
        evtchn_port_t p = ports[(uint64_t)i * nports / pending];

        if (via_hypercall) {
            if (xf_evtchn_notify(ec, p) != 0)
                die("notify", 0);
        } else {
            xen_raise(p);
        }
    }
}

/* The floor any dispatcher pays: take upcall_pending, the selector and the
 * pending words, with no handler, no mask test and no fairness. */
static void bare_clear(void)
{
    vcpu_info_t *vi = &shi->vcpu_info[0];
    xen_ulong_t sel;

    __atomic_store_n(&vi->evtchn_upcall_pending, 0, __ATOMIC_SEQ_CST);
    sel = __atomic_exchange_n(&vi->evtchn_pending_sel, 0, __ATOMIC_SEQ_CST);
    while (sel != 0) {
        unsigned w = (unsigned)__builtin_ctzll((unsigned long long)sel);

        sel &= sel - 1;
        __atomic_exchange_n(&shi->evtchn_pending[w], 0, __ATOMIC_SEQ_CST);
    }
}

/* One batch of k calls, each raising `pending` ports then dispatching them
 * (lib) or clearing them bare (!lib): ns per call. One clock pair per batch,
 * so the clock's own cost (tens of ns here, as much as a dispatch) is spread
 * over the batch instead of being subtracted. */
static double batch(unsigned k, unsigned pending, bool via_hypercall, bool lib)
{
    uint64_t a = now_ns();

    for (unsigned c = 0; c < k; c++) {
        raise_ports(pending, via_hypercall);
        if (lib) {
            handled = 0;
            int n = xf_evtchn_dispatch(ec, 0);
            if (n != (int)pending || handled != pending)
                die("dispatch count", n);
        } else {
            bare_clear();
        }
    }
    return (double)(now_ns() - a) / k;
}

static int cmp_double(const void *x, const void *y)
{
    double a = *(const double *)x, b = *(const double *)y;

    return a < b ? -1 : a > b;
}

/* The q-quantile of v[0..n), sorting v. */
static double quantile(double *v, size_t n, double q)
{
    qsort(v, n, sizeof(*v), cmp_double);
    return v[(size_t)(q * (double)(n - 1) + 0.5)];
}

#define MAX_BATCHES 4000
static double lib_ns[MAX_BATCHES], floor_ns[MAX_BATCHES], diff_ns[MAX_BATCHES];

/*
 * Batches of the library's dispatch and of the bare floor alternate for
 * about 0.3 s (or MAX_BATCHES each), after one untimed warm-up batch each;
 * the dispatcher's own cost is the median of each pair's difference.
 * A batch lasts at least ~20 us, so that the clock is under 1 % of it.
 * Medians over batches, so that a preemption spoils one batch, not the
 * figure; p10 and p90 show the spread.
 */
static void bench_dispatch(unsigned bound, unsigned pending, bool via_hypercall)
{
    uint64_t t0;
    size_t nb = 0;
    unsigned k;
    double per, lib_med, lib_p10, lib_p90, floor_med, diff_med;

    bind_n(bound);
    if (pending > nports)
        pending = nports;
    per = batch(64, pending, via_hypercall, true);
    (void)batch(64, pending, via_hypercall, false);
    k = per > 20000 ? 1 : (unsigned)(20000 / per) + 1;
    t0 = now_ns();
    while (nb < MAX_BATCHES && now_ns() - t0 < 300000000ull) {
        lib_ns[nb] = batch(k, pending, via_hypercall, true);
        floor_ns[nb] = batch(k, pending, via_hypercall, false);
        diff_ns[nb] = lib_ns[nb] - floor_ns[nb];
        nb++;
    }
    lib_med = quantile(lib_ns, nb, 0.5);
    lib_p10 = quantile(lib_ns, nb, 0.1);
    lib_p90 = quantile(lib_ns, nb, 0.9);
    floor_med = quantile(floor_ns, nb, 0.5);
    diff_med = quantile(diff_ns, nb, 0.5);
    printf("  %5u %5u  %-13s %10.1f [%8.1f, %8.1f] %10.1f %9.1f %5u x %-4zu\n", nports, pending,
           via_hypercall ? "EVTCHNOP_send" : "direct", lib_med, lib_p10, lib_p90, floor_med,
           diff_med / pending, k, nb);
}

/* ---------------------------------------------------------------- starvation */

static evtchn_port_t hot_port, victim;
static unsigned long victim_served, events_total;
static long victim_wait;           /* events from raising the victim to serving it */
static bool victim_raised;

static void on_event(evtchn_port_t port)
{
    events_total++;
    if (port == hot_port) {
        xen_raise(port);       /* pending again at once, like a busy device */
    } else if (port == victim) {
        victim_served++;
        if (victim_raised && victim_wait < 0)
            victim_wait = (long)events_total;
    }
}

static void lib_handler(struct xf_evtchn *e, evtchn_port_t port, void *arg)
{
    (void)e;
    (void)arg;
    on_event(port);
}

/*
 * The baseline: lowest pending port first, rescanning from the bottom
 * after every event, at most `budget` events per upcall (what keeps it from
 * livelocking). It does clear the selector and the pending bit before the
 * handler, correctly; its only fault is the order.
 */
static void naive_dispatch(unsigned budget)
{
    vcpu_info_t *vi = &shi->vcpu_info[0];
    unsigned done = 0;

    __atomic_store_n(&vi->evtchn_upcall_pending, 0, __ATOMIC_SEQ_CST);
    __atomic_exchange_n(&vi->evtchn_pending_sel, 0, __ATOMIC_SEQ_CST);
    while (done < budget) {
        evtchn_port_t port = 0;

        for (unsigned w = 0; w < BITS && port == 0; w++) {
            xen_ulong_t bits = __atomic_load_n(&shi->evtchn_pending[w], __ATOMIC_SEQ_CST) &
                               ~__atomic_load_n(&shi->evtchn_mask[w], __ATOMIC_SEQ_CST);
            if (bits != 0)
                port = w * BITS + (unsigned)__builtin_ctzll((unsigned long long)bits);
        }
        if (port == 0)
            break;
        __atomic_fetch_and(&shi->evtchn_pending[port / BITS],
                           ~((xen_ulong_t)1 << (port % BITS)), __ATOMIC_SEQ_CST);
        on_event(port);
        done++;
    }
}

static void starvation(unsigned budget, unsigned upcalls)
{
    evtchn_port_t p;
    unsigned filler = 0;

    /* The hot port is the lowest free one; the victim is port 4000. */
    if (xf_evtchn_bind_ipi(ec, lib_handler, NULL, &hot_port) != 0)
        die("bind hot", 0);
    do {
        if (xf_evtchn_alloc_unbound(ec, 0, NULL, NULL, &p) != 0)
            die("filler", 0);
        ports[filler++] = p;
    } while (p < 3999);
    if (xf_evtchn_bind_ipi(ec, lib_handler, NULL, &victim) != 0 || victim != 4000)
        die("bind 4000", victim);
    printf("\nStarvation: port %u re-raised by its own handler every time it is served,\n"
           "port 4000 raised once; budget %u events per upcall, %u upcalls, same run\n",
           (unsigned)hot_port, budget, upcalls);

    for (int which = 0; which < 2; which++) {
        victim_served = 0;
        events_total = 0;
        victim_wait = -1;
        victim_raised = false;
        xen_raise(hot_port);
        /* Run hot for a few upcalls, then raise the victim once. */
        for (unsigned u = 0; u < upcalls; u++) {
            if (u == 3) {
                events_total = 0;
                victim_raised = true;
                xen_raise(victim);
            }
            if (which == 0)
                naive_dispatch(budget);
            else
                (void)xf_evtchn_dispatch(ec, budget);
        }
        if (which == 0)
            printf("  naive lowest-port-first: ");
        else
            printf("  libevtchn (fair resume): ");
        if (victim_served == 0)
            printf("port 4000 STARVED: not served in %lu events (%u upcalls)\n", events_total,
                   upcalls - 3);
        else
            printf("port 4000 served after %ld event(s), %lu time(s) in %lu events\n",
                   victim_wait, victim_served, events_total);
        /* Quiesce: drop the hot port's pending state before the next run. */
        xf_evtchn_clear(ec, hot_port);
        xf_evtchn_clear(ec, victim);
        __atomic_store_n(&shi->vcpu_info[0].evtchn_pending_sel, 0, __ATOMIC_SEQ_CST);
        __atomic_store_n(&shi->vcpu_info[0].evtchn_upcall_pending, 0, __ATOMIC_SEQ_CST);
    }
    while (filler > 0)
        (void)xf_evtchn_close(ec, ports[--filler]);
    (void)xf_evtchn_close(ec, hot_port);
    (void)xf_evtchn_close(ec, victim);
}

int main(void)
{
    int rc;

    setvbuf(stdout, NULL, _IOLBF, 0);
    sim = xf_sim_create(NULL);
    if (sim == NULL)
        die("xf_sim_create", 0);
    rc = xf_evtchn_create(&ec, NULL);
    if (rc != 0)
        die("xf_evtchn_create", rc);
    shi = xf_evtchn_shared_info(ec);

    printf("libevtchn dispatch cost (simulated Xen; %u ports in the 2-level ABI)\n",
           (unsigned)XF_EVTCHN_NR_PORTS);
    printf("  Per call: raise `pending` ports (as Xen does, or by the simulated hypercall),\n"
           "  then dispatch them (library) or just clear them (floor: upcall flag, selector,\n"
           "  pending words; no handler). Timed in batches of k calls, library and floor\n"
           "  batches alternating; ns per call, median [p10, p90] over the batches.\n"
           "  beyond/ev = median over adjacent batch pairs of (library - floor), / pending:\n"
           "  the dispatcher's own cost per event (pairs share the machine's state of the\n"
           "  moment; the medians of the two columns may not).\n");
    printf("  %5s %5s  %-13s %10s %-21s %10s %9s %s\n", "bound", "pend.", "raised by",
           "lib ns", " [p10, p90]", "floor ns", "beyond/ev", "k x batches");
    bench_dispatch(1, 1, false);
    bench_dispatch(64, 1, false);
    bench_dispatch(64, 64, false);
    bench_dispatch(XF_EVTCHN_NR_PORTS, 1, false);
    bench_dispatch(XF_EVTCHN_NR_PORTS, 64, false);
    bench_dispatch(XF_EVTCHN_NR_PORTS, XF_EVTCHN_NR_PORTS, false);
    bench_dispatch(XF_EVTCHN_NR_PORTS, 1, true);
    unbind_all();

    starvation(64, 1000);

    xf_evtchn_destroy(ec);
    xf_sim_destroy(sim);
    return 0;
}
