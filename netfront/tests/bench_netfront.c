/*
 * bench_netfront: netfront against the simulated netback, two threads
 * (the guest on this one, netback's own serving thread as dom0). A program,
 * not a test: it prints figures.
 *
 * For 60, 1514 and 65226-byte frames (the last with SG and a GSO extra):
 *  - tx: packets/s and Gbit/s guest -> dom0 (copy mode, and with netback
 *    mapping), notifications per packet each way (guest kicks; completion
 *    events), for both tx event modes (half-way rsp_event, and Linux 6.1's
 *    rsp_cons + 1);
 *  - rx: packets/s and Gbit/s dom0 -> guest, notifications per packet;
 *  - copy mode as a fraction of memcpy. What each figure compares:
 *     "send path": bytes over the time spent inside xf_netfront_send()
 *        while netback copies concurrently (the figure of earlier runs;
 *        completions are reaped outside that time);
 *     "front end total": bytes over all the guest's time in the library
 *        for tx (send, the event handlers, poll: the copy, the slot
 *        building and the completions), never its waits;
 *     "back end idle": the same totals, with netback stalled during each
 *        burst of sends and answering afterwards: it copies each packet
 *        out ("copying"), or reads no data at all ("reading nothing", a
 *        benchmark-only netback mode) so our pages stay in our cache.
 *    The anchors, measured in the same run, memcpy the same sizes from one
 *    source into 256 rotating pages (1 MiB, copy mode's pool):
 *     "cached": nothing else touches the pages (L2-resident here);
 *     "shared": a second thread reads each page after each round of 256,
 *        as netback's copy does. Writing a line another CPU has cached
 *        costs a cross-CPU transfer (about 0.5 us for a round trip on
 *        these VMs), which the cached anchor never pays; that transfer,
 *        not the library's instructions, is most of what separates copy
 *        mode from cached memcpy while netback is copying.
 * End-to-end numbers are bounded by the simulated back end (a grant copy
 * through the simulator's hypercall lock, a malloc and a second copy per
 * packet).
 *
 * Usage: bench_netfront [seconds per case, default 1] [frame size: only it, 0: all]
 *                       [rounds, default 5]
 * The cases of a frame size run one after another in each round, the
 * anchors among them, so a ratio compares figures of the same moment; the
 * summary per size gives each figure's median and [range] over the rounds
 * (ratios taken per round).
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <xenfront/errno.h>
#include <xenfront/evtchn.h>
#include <xenfront/gnttab.h>
#include <xenfront/netfront.h>
#include <xenfront/sim.h>
#include <xenfront/xenbus.h>
#include <xenfront/xsd.h>
#include <xf_netback.h>

#define DL(ms) (xf_plat_now_ns() + (uint64_t)(ms) * 1000000ull)

static struct xf_sim *sim;
static domid_t guest;
static struct xf_evtchn *ec;
static struct xf_xsd *xsd;
static struct xf_xenbus *xb;
static struct xf_gnttab *gt;
static struct xf_netback *be;
static struct xf_netfront *nf;
static uint64_t tx_done, rx_got, rx_bytes;
static bool g_discard;                    /* netback reads no tx data */
static unsigned g_batch;                  /* sends per push (XF_NETFRONT_TX_MORE); 0, 1: each */
static bool g_quiet;                      /* no per-case lines (the summary only) */

/* One case's throughput and notification figures. */
struct fig {
    double pps, gbps, kicks, events;      /* kicks, events: per packet */
};

__attribute__((noreturn)) static void die(const char *what, int rc)
{
    fprintf(stderr, "bench_netfront: %s: %d\n", what, rc);
    exit(1);
}

static void on_done(struct xf_netfront *n, unsigned q, void *c, int st, void *a)
{
    (void)n, (void)q, (void)c, (void)a;
    if (st != 0)
        die("tx status", st);
    tx_done++;
}

static bool on_rx(struct xf_netfront *n, const struct xf_netfront_rx_pkt *p, void *a)
{
    (void)n, (void)a;
    rx_got++;
    rx_bytes += p->len;
    return false;
}

static void upcall(void *arg, unsigned vcpu)
{
    (void)vcpu;
    xf_evtchn_dispatch(arg, 0);
}

static void up(bool final_events, bool copy_only)
{
    struct xf_sim_config sc;
    struct xf_netback_config bc;
    struct xf_netfront_config c;
    uint64_t pfn;
    evtchn_port_t sp;
    int rc;

    memset(&sc, 0, sizeof(sc));
    sc.guest.ram_frames = 16384;
    sim = xf_sim_create(&sc);
    if (sim == NULL)
        die("sim", 0);
    guest = xf_sim_guest_domid(sim);
    if ((rc = xf_evtchn_create(&ec, NULL)) < 0)
        die("evtchn", rc);
    xf_sim_set_upcall_handler(sim, guest, upcall, ec);
    if ((rc = xf_evtchn_upcall_setup(ec, XF_EVTCHN_UPCALL_VCPU_VECTOR, 0xf3)) < 0)
        die("upcall", rc);
    xsd = xf_xsd_start(sim, guest, NULL);
    if (xsd == NULL || xf_xenbus_hvm_store(&pfn, &sp) < 0)
        die("xsd", 0);
    if ((rc = xf_xenbus_create_ring(&xb, NULL, ec, xf_sim_gfn_to_va(sim, guest, pfn), sp)) < 0)
        die("xenbus", rc);
    if ((rc = xf_gnttab_create(&gt, NULL)) < 0)
        die("gnttab", rc);
    memset(&bc, 0, sizeof(bc));
    bc.auto_data = true;
    bc.no_keep = true;
    bc.copy_only = copy_only;
    bc.tx_discard = g_discard;
    be = xf_netback_create(sim, xsd, guest, &bc);
    if (be == NULL)
        die("netback", 0);
    memset(&c, 0, sizeof(c));
    c.tx_done = on_done;
    c.rx = on_rx;
    c.tx_event_final = final_events;
    if ((rc = xf_netfront_create(&nf, xb, ec, gt, &c, DL(2000))) < 0)
        die("create", rc);
    if ((rc = xf_netfront_connect(nf, DL(5000))) < 0)
        die("connect", rc);
}

static void down(void)
{
    (void)xf_netfront_destroy(nf, DL(2000));
    xf_netback_destroy(be);
    (void)xf_gnttab_reclaim(gt);
    (void)xf_gnttab_destroy(gt);
    xf_xenbus_destroy(xb);
    xf_xsd_stop(xsd);
    xf_evtchn_destroy(ec);
    xf_sim_destroy(sim);
}

static double now_s(void)
{
    return (double)xf_plat_now_ns() / 1e9;
}

/*
 * The copy-mode figures use this thread's CPU time, so time the scheduler
 * gives to other programs on a shared machine is not counted, and each is
 * the median over many bursts (or memcpy rounds) of ns per byte.
 */
static uint64_t cpu_ns(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static uint64_t cpu_overhead;             /* one back-to-back cpu_ns() pair */

#define MAX_SAMPLES 200000
struct samples {
    unsigned n;
    double v[MAX_SAMPLES];                /* ns per byte */
};

static void sample(struct samples *sm, uint64_t ns, uint64_t bytes)
{
    if (sm->n < MAX_SAMPLES && bytes > 0)
        sm->v[sm->n++] = (double)(ns > cpu_overhead ? ns - cpu_overhead : 0) / (double)bytes;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;

    return x < y ? -1 : x > y;
}

/* Bytes per second at the median ns per byte. */
static double median_Bps(struct samples *sm)
{
    double m;

    if (sm->n == 0)
        return 0;
    qsort(sm->v, sm->n, sizeof(sm->v[0]), cmp_double);
    m = sm->v[sm->n / 2];
    return m > 0 ? 1e9 / m : 0;
}

static void calibrate(void)
{
    uint64_t best = UINT64_MAX;

    for (int i = 0; i < 1000; i++) {
        uint64_t a = cpu_ns(), b = cpu_ns();

        if (b - a < best)
            best = b - a;
    }
    cpu_overhead = best;
}

static struct samples sm_a, sm_b;

static unsigned char src[65536];

static void bench_tx(uint32_t len, double secs, bool final_events, bool copy_only,
                     double *send_Bps, double *lib_Bps, struct fig *f)
{
    struct xf_netfront_frag fr[3];
    struct xf_netfront_tx t;
    struct xf_netfront_stats st;
    uint64_t sent = 0, in_send = 0;
    double t0, t1;

    up(final_events, copy_only);
    memset(&t, 0, sizeof(t));
    /* a big frame as three fragments (SG), with a GSO extra */
    if (len > 4096) {
        fr[0].data = src;
        fr[0].len = 54;
        fr[1].data = src + 54;
        fr[1].len = 32768;
        fr[2].data = src + 54 + 32768;
        fr[2].len = len - 54 - 32768;
        t.nfrags = 3;
        t.gso_type = XF_NETFRONT_GSO_TCPV4;
        t.gso_size = 1448;
        t.flags = XF_NETFRONT_TX_CSUM_BLANK;
    } else {
        fr[0].data = src;
        fr[0].len = len;
        t.nfrags = 1;
    }
    t.frags = fr;
    tx_done = 0;
    t0 = now_s();
    t1 = t0;
    while (t1 - t0 < secs) {
        /* A burst of sends until the ring is full, timed as a whole (the
         * clock is read twice per burst, not per packet). The refused
         * send at the end is counted in: it is part of the path. */
        uint64_t c0 = cpu_ns(), a = xf_plat_now_ns(), b, c1, burst = sent;
        int rc;

        for (;;) {
            t.flags = (t.flags & ~XF_NETFRONT_TX_MORE) |
                      (g_batch > 1 && (sent + 1) % g_batch != 0 ? XF_NETFRONT_TX_MORE : 0);
            if ((rc = xf_netfront_send(nf, 0, &t)) != 0)
                break;
            sent++;
        }
        b = xf_plat_now_ns();
        c1 = cpu_ns();
        in_send += b - a;
        if (rc != -XF_EAGAIN)
            die("send", rc);
        /* ring full: take completions (events or poll), no spinning on
         * send; the library's part is timed, the wait is not */
        {
            int got;

            uint64_t c2 = cpu_ns();

            (void)xf_sim_deliver_upcalls(sim, guest);
            got = xf_netfront_poll(nf);
            sample(&sm_a, c1 - c0 + cpu_ns() - c2, (sent - burst) * len);
            if (got == 0)
                (void)xf_plat_wait(xf_plat_now_ns() + 20000);
        }
        t1 = now_s();
    }
    while (tx_done < sent && now_s() - t1 < 5) {
        (void)xf_plat_wait(xf_plat_now_ns() + 100000);
        (void)xf_netfront_poll(nf);
    }
    t1 = now_s();
    xf_netfront_stats(nf, 0, &st);
    f->pps = (double)tx_done / (t1 - t0);
    f->gbps = (double)tx_done * len * 8 / (t1 - t0) / 1e9;
    f->kicks = (double)st.notify_tx / (double)sent;
    f->events = (double)st.events_tx / (double)sent;
    if (!g_quiet)
        printf("tx %5u B %-5s %s%s: %9.0f pkt/s %7.2f Gbit/s  kicks/pkt %.4f  events/pkt %.4f\n",
               len, final_events ? "final" : "half", copy_only ? "copy" : "map ",
               g_batch > 1 ? " (batches of 32)" : "", f->pps, f->gbps, f->kicks, f->events);
    *send_Bps = (double)sent * len / ((double)in_send / 1e9);
    *lib_Bps = median_Bps(&sm_a);
    sm_a.n = 0;
    down();
}

static void bench_rx(uint32_t len, double secs, struct fig *f)
{
    struct xf_netfront_stats st;
    struct xf_netback_stats bst;
    double t0, t1;

    up(false, false);
    rx_got = rx_bytes = 0;
    xf_netback_rx_source(be, 0, len, UINT64_MAX, len > 4096 ? XEN_NETIF_GSO_TYPE_TCPV4 : 0,
                         1448);
    t0 = now_s();
    while (now_s() - t0 < secs)
        (void)xf_plat_wait(xf_plat_now_ns() + 1000000);   /* upcalls do the work */
    xf_netback_rx_source(be, 0, len, 0, 0, 0);
    t1 = now_s();
    xf_netfront_stats(nf, 0, &st);
    xf_netback_stats(be, 0, &bst);
    f->pps = (double)rx_got / (t1 - t0);
    f->gbps = (double)rx_bytes * 8 / (t1 - t0) / 1e9;
    f->events = (double)st.events_rx / (double)(rx_got ? rx_got : 1);
    f->kicks = (double)st.notify_rx / (double)(rx_got ? rx_got : 1);
    if (!g_quiet) {
        printf("rx %5u B       : %9.0f pkt/s %7.2f Gbit/s  events/pkt %.4f  refill kicks/pkt %.4f"
               "  (netback: %llu stalls, %llu events)\n", len, f->pps, f->gbps, f->events,
               f->kicks, (unsigned long long)bst.rx_stalls, (unsigned long long)bst.events_rx);
        printf("   guest: budget spent %llu spurious %llu throttled %llu no_buffer %llu posted %u\n",
               (unsigned long long)st.budget_spent, (unsigned long long)st.spurious,
               (unsigned long long)st.throttled, (unsigned long long)st.rx_no_buffer,
               xf_netfront_rx_posted(nf, 0));
    }
    down();
}

/* The front end alone: bursts of sends into a ring the back end does not
 * touch meanwhile (stalled), then, once it has answered all (untimed), the
 * reaping of those completions: a sample is the CPU time of both for the
 * burst. With g_discard netback reads none of the data, so the copy pages
 * stay in our cache as memcpy's do. */
static double bench_send_idle(uint32_t len, double secs)
{
    struct xf_netfront_frag fr = { src, len };
    struct xf_netfront_tx t;
    struct xf_netback_stats bst;
    double t0;

    up(false, true);
    memset(&t, 0, sizeof(t));
    t.frags = &fr;
    t.nfrags = 1;
    if (len > 4096) {
        t.gso_type = XF_NETFRONT_GSO_TCPV4;
        t.gso_size = 1448;
    }
    sm_a.n = 0;
    t0 = now_s();
    while (now_s() - t0 < secs) {
        uint64_t c0, ns, want, n = 0;
        int rc;

        xf_netback_tx_stall(be, true);
        xf_netback_stats(be, 0, &bst);
        want = bst.tx_responses;
        c0 = cpu_ns();
        for (;;) {
            t.flags = g_batch > 1 && (n + 1) % g_batch != 0 ? XF_NETFRONT_TX_MORE : 0;
            if ((rc = xf_netfront_send(nf, 0, &t)) != 0)
                break;
            n++;
        }
        ns = cpu_ns() - c0;
        if (rc != -XF_EAGAIN)
            die("send", rc);
        want += n * (1 + (t.gso_type != 0) + (len - 1) / 4096);
        xf_netback_tx_stall(be, false);
        xf_netback_kick(be, 0, false);
        /* Wait (untimed) for every response, then reap them (timed). The
         * wait spins: sleeping would hand this CPU, and its caches, to
         * other programs, which memcpy's anchor never does. */
        do
            xf_netback_stats(be, 0, &bst);
        while (bst.tx_responses < want && now_s() - t0 < secs + 5);
        while (xf_netfront_tx_inflight(nf, 0) > 0 && now_s() - t0 < secs + 5) {
            c0 = cpu_ns();
            (void)xf_sim_deliver_upcalls(sim, guest);
            (void)xf_netfront_poll(nf);
            ns += cpu_ns() - c0;
        }
        sample(&sm_a, ns, n * len);
    }
    down();
    return median_Bps(&sm_a);
}

/* memcpy of len bytes from one source into 256 rotating pages (1 MiB),
 * the footprint of copy mode's pool. shared: after each round of 256 a
 * second thread reads every page's len bytes (as netback's copy does),
 * and only the writer's rounds are timed. */
static unsigned char *mc_dst;
static uint32_t mc_len;
static volatile int mc_phase;             /* 1: reader's turn, -1: quit */

static void *mc_reader(void *arg)
{
    static unsigned char out[65536];
    unsigned per = (mc_len + 4095) / 4096;

    (void)arg;
    for (;;) {
        int ph;

        while ((ph = __atomic_load_n(&mc_phase, __ATOMIC_ACQUIRE)) == 0)
            ;
        if (ph < 0)
            return NULL;
        for (unsigned i = 0; i < 256; i++)
            memcpy(out, mc_dst + (size_t)((i * per) % 256) * 4096, mc_len);
        __atomic_store_n(&mc_phase, 0, __ATOMIC_RELEASE);
    }
}

static double bench_memcpy(uint32_t len, bool shared, double *wall_Bps)
{
    unsigned char *dst = aligned_alloc(4096, 256 * 4096 + 65536);
    unsigned sweeps = len < 1024 ? 16 : 1;   /* samples of >= 16 KB */
    uint64_t wall = 0, bytes = 0;
    double t0 = now_s();
    volatile unsigned char sink = 0;
    pthread_t th;

    if (dst == NULL)
        die("alloc", 0);
    memset(dst, 0, 256 * 4096 + 65536);
    mc_dst = dst;
    mc_len = len;
    mc_phase = 0;
    if (shared && pthread_create(&th, NULL, mc_reader, NULL) != 0)
        die("thread", 0);
    sm_b.n = 0;
    do {
        uint64_t c0 = cpu_ns(), w0 = xf_plat_now_ns();

        for (unsigned r = 0; r < sweeps; r++)
            for (unsigned i = 0; i < 256; i++) {
                unsigned per = (len + 4095) / 4096;
                unsigned char *d = dst + (size_t)((i * per) % 256) * 4096;

                memcpy(d, src, len);
                sink ^= d[len - 1];
            }
        wall += xf_plat_now_ns() - w0;
        bytes += (uint64_t)sweeps * 256 * len;
        sample(&sm_b, cpu_ns() - c0, (uint64_t)sweeps * 256 * len);
        if (shared) {
            __atomic_store_n(&mc_phase, 1, __ATOMIC_RELEASE);
            while (__atomic_load_n(&mc_phase, __ATOMIC_ACQUIRE) != 0)
                ;
        }
    } while (now_s() - t0 < 0.3);
    if (shared) {
        __atomic_store_n(&mc_phase, -1, __ATOMIC_RELEASE);
        pthread_join(th, NULL);
    }
    (void)sink;
    free(dst);
    if (wall_Bps != NULL)
        *wall_Bps = (double)bytes / ((double)wall / 1e9);
    return median_Bps(&sm_b);
}

/* The summary: one row per figure, one value per round. */
#define MAX_ROUNDS 64
enum {
    R_TX_PPS, R_TX_GBPS, R_TX_KICKS, R_TX_EVENTS, R_TXF_PPS, R_TXF_EVENTS, R_TXM_PPS,
    R_TX32_PPS, R_TX32_KICKS, R_RX_PPS, R_RX_GBPS, R_RX_EVENTS, R_RX_KICKS, R_MC, R_MCS,
    R_COPY_MC, R_COPY_MCS, R_COPY32_MC, R_COPY32_MCS, R_IDLE_MC, R_IDLE_MCS, R_IDLE32_MC,
    R_WARM_MC, R_WARM32_MC, R_SEND_WALL, N_ROWS
};
static const char *const row_name[N_ROWS] = {
    [R_TX_PPS] = "tx copy, half-way events: pkt/s",
    [R_TX_GBPS] = "tx copy, half-way events: Gbit/s",
    [R_TX_KICKS] = "tx copy, half-way events: kicks/pkt",
    [R_TX_EVENTS] = "tx copy, half-way events: completion events/pkt",
    [R_TXF_PPS] = "tx copy, Linux's rsp_cons+1 events: pkt/s",
    [R_TXF_EVENTS] = "tx copy, Linux's rsp_cons+1 events: events/pkt",
    [R_TXM_PPS] = "tx, netback mapping: pkt/s",
    [R_TX32_PPS] = "tx copy, pushes of 32: pkt/s",
    [R_TX32_KICKS] = "tx copy, pushes of 32: kicks/pkt",
    [R_RX_PPS] = "rx: pkt/s",
    [R_RX_GBPS] = "rx: Gbit/s",
    [R_RX_EVENTS] = "rx: events/pkt",
    [R_RX_KICKS] = "rx: refill kicks/pkt",
    [R_MC] = "anchor memcpy, cached: GB/s",
    [R_MCS] = "anchor memcpy, shared: GB/s",
    [R_COPY_MC] = "copy mode, netback copying / cached memcpy",
    [R_COPY_MCS] = "copy mode, netback copying / shared memcpy",
    [R_COPY32_MC] = "copy mode, netback copying, pushes of 32 / cached",
    [R_COPY32_MCS] = "copy mode, netback copying, pushes of 32 / shared",
    [R_IDLE_MC] = "copy mode, back end idle, copying / cached",
    [R_IDLE_MCS] = "copy mode, back end idle, copying / shared",
    [R_IDLE32_MC] = "copy mode, back end idle, copying, pushes of 32 / cached",
    [R_WARM_MC] = "copy mode, back end idle, reading nothing / cached",
    [R_WARM32_MC] = "copy mode, back end idle, reading nothing, pushes of 32 / cached",
    [R_SEND_WALL] = "send path (wall) / memcpy (wall, cached)",
};
static double rows[N_ROWS][MAX_ROUNDS];

static void summarize(uint32_t len, unsigned rounds)
{
    printf("summary %u B, %u rounds: median [min, max]\n", len, rounds);
    for (unsigned k = 0; k < N_ROWS; k++) {
        double v[MAX_ROUNDS];
        const char *unit = strstr(row_name[k], " / ") != NULL ? " %" : "";
        double scale = *unit != '\0' ? 100.0 : 1.0;

        memcpy(v, rows[k], sizeof(double) * rounds);
        qsort(v, rounds, sizeof(v[0]), cmp_double);
        printf("  %-66s %10.4g%s [%.4g, %.4g]\n", row_name[k], v[rounds / 2] * scale, unit,
               v[0] * scale, v[rounds - 1] * scale);
    }
    printf("\n");
}

/* One round of every case for one size, the anchors among them. */
static void round_of(uint32_t len, double secs, unsigned r)
{
    double send_half, send_map, send_final, lib_half, lib_final, lib_map, lib_b32, dummy;
    double mc, mcs, mc_wall, idle_copy, idle_warm, idle_copy32, idle_warm32;
    struct fig tx, txf, txm, tx32, rx;

    g_batch = 1;
    bench_tx(len, secs, false, false, &send_map, &lib_map, &txm);
    bench_tx(len, secs, false, true, &send_half, &lib_half, &tx);
    bench_tx(len, secs, true, true, &send_final, &lib_final, &txf);
    bench_rx(len, secs, &rx);
    mc = bench_memcpy(len, false, &mc_wall);
    mcs = bench_memcpy(len, true, NULL);
    g_discard = false;
    idle_copy = bench_send_idle(len, secs / 2);
    g_discard = true;
    idle_warm = bench_send_idle(len, secs / 2);
    g_batch = 32;
    idle_warm32 = bench_send_idle(len, secs / 2);
    g_discard = false;
    idle_copy32 = bench_send_idle(len, secs / 2);
    bench_tx(len, secs, false, true, &dummy, &lib_b32, &tx32);
    g_batch = 1;
    rows[R_TX_PPS][r] = tx.pps;
    rows[R_TX_GBPS][r] = tx.gbps;
    rows[R_TX_KICKS][r] = tx.kicks;
    rows[R_TX_EVENTS][r] = tx.events;
    rows[R_TXF_PPS][r] = txf.pps;
    rows[R_TXF_EVENTS][r] = txf.events;
    rows[R_TXM_PPS][r] = txm.pps;
    rows[R_TX32_PPS][r] = tx32.pps;
    rows[R_TX32_KICKS][r] = tx32.kicks;
    rows[R_RX_PPS][r] = rx.pps;
    rows[R_RX_GBPS][r] = rx.gbps;
    rows[R_RX_EVENTS][r] = rx.events;
    rows[R_RX_KICKS][r] = rx.kicks;
    rows[R_MC][r] = mc / 1e9;
    rows[R_MCS][r] = mcs / 1e9;
    rows[R_COPY_MC][r] = lib_half / mc;
    rows[R_COPY_MCS][r] = lib_half / mcs;
    rows[R_COPY32_MC][r] = lib_b32 / mc;
    rows[R_COPY32_MCS][r] = lib_b32 / mcs;
    rows[R_IDLE_MC][r] = idle_copy / mc;
    rows[R_IDLE_MCS][r] = idle_copy / mcs;
    rows[R_IDLE32_MC][r] = idle_copy32 / mc;
    rows[R_WARM_MC][r] = idle_warm / mc;
    rows[R_WARM32_MC][r] = idle_warm32 / mc;
    rows[R_SEND_WALL][r] = send_half / mc_wall;
    if (!g_quiet)
        printf("round %u, %u B: copy mode %.0f %% of cached memcpy (%.2f GB/s), %.0f %% of shared"
               " (%.2f GB/s); send path %.0f %% of memcpy's wall time\n\n", r + 1, len,
               100.0 * lib_half / mc, mc / 1e9, 100.0 * lib_half / mcs, mcs / 1e9,
               100.0 * send_half / mc_wall);
    (void)send_final;
    (void)lib_final;
    (void)lib_map;
}

int main(int argc, char **argv)
{
    static const uint32_t sizes[] = { 60, 1514, 65226 };
    double secs = argc > 1 ? atof(argv[1]) : 1.0;
    uint32_t only = argc > 2 ? (uint32_t)atoi(argv[2]) : 0;
    unsigned rounds = argc > 3 ? (unsigned)atoi(argv[3]) : 5;

    if (rounds < 1 || rounds > MAX_ROUNDS || !(secs > 0)) {
        fprintf(stderr, "usage: bench_netfront [seconds per case] [frame size, 0: all]"
                " [rounds, 1..%d]\n", MAX_ROUNDS);
        return 2;
    }
    g_quiet = getenv("NF_BENCH_QUIET") != NULL;
    for (unsigned i = 0; i < sizeof(src); i++)
        src[i] = (unsigned char)i;
    calibrate();
    printf("bench_netfront: simulated netback (2 threads), %.2f s per case, %u rounds\n", secs,
           rounds);
    for (unsigned i = 0; i < 3; i++) {
        if (only != 0 && sizes[i] != only)
            continue;
        if (getenv("NF_BENCH_IDLE") != NULL) {
            /* profiling aid: only the idle case, warm (1) or copying (0) */
            g_discard = atoi(getenv("NF_BENCH_IDLE")) != 0;
            g_batch = getenv("NF_BENCH_BATCH") ? (unsigned)atoi(getenv("NF_BENCH_BATCH")) : 1;
            printf("idle %u B %s: %.2f GB/s\n", sizes[i], g_discard ? "warm" : "copying",
                   bench_send_idle(sizes[i], secs) / 1e9);
            continue;
        }
        for (unsigned r = 0; r < rounds; r++)
            round_of(sizes[i], secs, r);
        summarize(sizes[i], rounds);
    }
    return 0;
}
