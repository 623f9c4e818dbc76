/*
 * bench_netfront: netfront against the simulated netback, two threads
 * (the guest on this one, netback's own serving thread as dom0). A program,
 * not a test: it prints figures.
 *
 * For 60, 1514 and 65226-byte frames (the last with SG and a GSO extra):
 *  - tx: packets/s and Gbit/s guest -> dom0 (copy mode), notifications per
 *    packet each way (guest kicks; completion events), for both tx event
 *    modes (half-way rsp_event, and Linux 6.1's rsp_cons + 1);
 *  - rx: packets/s and Gbit/s dom0 -> guest, notifications per packet;
 *  - copy mode's own cost: bytes/s of the time spent inside
 *    xf_netfront_send() (the copy into the pre-granted pages and slot
 *    building), as a fraction of memcpy of the same sizes into the same
 *    footprint (256 pages = 1 MiB, so both run from cache: L2/L3 here).
 * End-to-end numbers are bounded by the simulated back end (its grant
 * copies and maps go through the simulator's hypercall lock), so the
 * copy-mode fraction is the one to compare against the goal.
 *
 * Usage: bench_netfront [seconds per case, default 1]
 */
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

static unsigned char src[65536];

static void bench_tx(uint32_t len, double secs, bool final_events, bool copy_only,
                     double *send_Bps)
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
        uint64_t a = xf_plat_now_ns(), b;
        int rc;

        while ((rc = xf_netfront_send(nf, 0, &t)) == 0)
            sent++;
        b = xf_plat_now_ns();
        in_send += b - a;
        if (rc != -XF_EAGAIN)
            die("send", rc);
        /* ring full: take completions (events or poll), no spinning on send */
        (void)xf_sim_deliver_upcalls(sim, guest);
        if (xf_netfront_poll(nf) == 0)
            (void)xf_plat_wait(xf_plat_now_ns() + 20000);
        t1 = now_s();
    }
    while (tx_done < sent && now_s() - t1 < 5) {
        (void)xf_plat_wait(xf_plat_now_ns() + 100000);
        (void)xf_netfront_poll(nf);
    }
    t1 = now_s();
    xf_netfront_stats(nf, 0, &st);
    printf("tx %5u B %-5s %s: %9.0f pkt/s %7.2f Gbit/s  kicks/pkt %.4f  events/pkt %.4f\n",
           len, final_events ? "final" : "half", copy_only ? "copy" : "map ", (double)tx_done / (t1 - t0),
           (double)tx_done * len * 8 / (t1 - t0) / 1e9, (double)st.notify_tx / (double)sent,
           (double)st.events_tx / (double)sent);
    *send_Bps = (double)sent * len / ((double)in_send / 1e9);
    down();
}

static void bench_rx(uint32_t len, double secs)
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
    printf("rx %5u B       : %9.0f pkt/s %7.2f Gbit/s  events/pkt %.4f  refill kicks/pkt %.4f"
           "  (netback: %llu stalls, %llu events)\n", len, (double)rx_got / (t1 - t0), (double)rx_bytes * 8 / (t1 - t0) / 1e9,
           (double)st.events_rx / (double)(rx_got ? rx_got : 1),
           (double)st.notify_rx / (double)(rx_got ? rx_got : 1),
           (unsigned long long)bst.rx_stalls, (unsigned long long)bst.events_rx);
    printf("   guest: budget spent %llu spurious %llu throttled %llu no_buffer %llu posted %u\n",
           (unsigned long long)st.budget_spent, (unsigned long long)st.spurious, (unsigned long long)st.throttled,
           (unsigned long long)st.rx_no_buffer, xf_netfront_rx_posted(nf, 0));
    down();
}

/* The send path alone: bursts of 256 sends into a ring the back end does
 * not touch meanwhile (stalled), so no other CPU fights for the pages. */
static double bench_send_idle(uint32_t len, double secs)
{
    struct xf_netfront_frag fr = { src, len };
    struct xf_netfront_tx t;
    uint64_t in_send = 0, n = 0;
    double t0;

    up(false, true);
    memset(&t, 0, sizeof(t));
    t.frags = &fr;
    t.nfrags = 1;
    if (len > 4096) {
        t.gso_type = XF_NETFRONT_GSO_TCPV4;
        t.gso_size = 1448;
    }
    t0 = now_s();
    while (now_s() - t0 < secs) {
        uint64_t a, b;
        int rc;

        xf_netback_tx_stall(be, true);
        a = xf_plat_now_ns();
        while ((rc = xf_netfront_send(nf, 0, &t)) == 0)
            n++;
        b = xf_plat_now_ns();
        if (rc != -XF_EAGAIN)
            die("send", rc);
        in_send += b - a;
        xf_netback_tx_stall(be, false);
        xf_netback_kick(be, 0, false);
        while (xf_netfront_tx_inflight(nf, 0) > 0) {
            (void)xf_sim_deliver_upcalls(sim, guest);
            (void)xf_netfront_poll(nf);
        }
    }
    down();
    return (double)n * len / ((double)in_send / 1e9);
}

/* memcpy of len bytes from one source into 256 rotating pages (1 MiB),
 * the footprint of copy mode's pool. */
static double bench_memcpy(uint32_t len)
{
    unsigned char *dst = aligned_alloc(4096, 256 * 4096 + 65536);
    uint64_t n = 0;
    double t0 = now_s(), t1;
    volatile unsigned char sink = 0;

    if (dst == NULL)
        die("alloc", 0);
    memset(dst, 0, 256 * 4096 + 65536);
    do {
        for (unsigned i = 0; i < 256; i++) {
            unsigned per = (len + 4095) / 4096;
            unsigned char *d = dst + (size_t)((i * per) % 256) * 4096;

            memcpy(d, src, len);
            sink ^= d[len - 1];
        }
        n += 256;
        t1 = now_s();
    } while (t1 - t0 < 0.3);
    (void)sink;
    free(dst);
    return (double)n * len / (t1 - t0);
}

int main(int argc, char **argv)
{
    static const uint32_t sizes[] = { 60, 1514, 65226 };
    double secs = argc > 1 ? atof(argv[1]) : 1.0;

    for (unsigned i = 0; i < sizeof(src); i++)
        src[i] = (unsigned char)i;
    printf("bench_netfront: simulated netback (2 threads), %.1f s per case\n", secs);
    for (unsigned i = 0; i < 3; i++) {
        double send_half, send_final, mc;

        double send_map;

        bench_tx(sizes[i], secs, false, false, &send_map);
        bench_tx(sizes[i], secs, false, true, &send_half);
        bench_tx(sizes[i], secs, true, true, &send_final);
        bench_rx(sizes[i], secs);
        mc = bench_memcpy(sizes[i]);
        {
            double idle = bench_send_idle(sizes[i], secs / 2);

            printf("copy %5u B    : send path, back end idle: %.2f GB/s = %.0f %% of memcpy\n",
                   sizes[i], idle / 1e9, 100.0 * idle / mc);
        }
        printf("copy %5u B    : send path %.2f GB/s (%.2f with netback mapping), memcpy"
               " (1 MiB footprint, cache) %.2f GB/s: %.0f %%\n\n", sizes[i], send_half / 1e9,
               send_map / 1e9, mc / 1e9, 100.0 * send_half / mc);
        (void)send_final;
    }
    return 0;
}
