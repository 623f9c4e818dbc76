/*
 * Life cycle: connect/traffic/disconnect cycles with nothing leaked (grant
 * references, event-channel ports, guest pages), several vifs at once,
 * destroy refused while the caller holds buffers, double connect.
 */
#include "netfront_test.h"

struct snapshot {
    uint32_t free_refs, granted;
    unsigned ports;
    long frames;
};

static void snap(struct snapshot *s)
{
    struct xf_gnttab_stats st;

    (void)xf_gnttab_reclaim(gt);
    xf_gnttab_get_stats(gt, &st);
    s->free_refs = st.free_refs;
    s->granted = st.granted_refs;
    s->ports = xf_evtchn_nr_bound(ec);
    s->frames = xf_sim_free_frames(sim, guest);
}

static void traffic(unsigned seed)
{
    unsigned char buf[1500];
    unsigned d0 = ndone, r0 = nrx;

    ck_assert_int_eq(send_pattern(0, 1514, 2, seed, 0, NULL), 0);
    ck_assert_int_eq(send_pattern(0, 9000, 3, seed + 1, XF_NETFRONT_TX_CSUM_BLANK, NULL), 0);
    fill(buf, sizeof(buf), seed);
    ck_assert_int_eq(xf_netback_rx_inject(be, 0, buf, sizeof(buf), 0, 0, 0), 0);
    serve(0);
    (void)xf_netfront_poll(nf);
    ck_assert_uint_eq(ndone, d0 + 2);
    ck_assert_uint_eq(nrx, r0 + 1);
    ck_assert(check_pattern(rxs[nrx - 1].data, 1500, seed));
    take_check(1514, seed);
    take_check(9000, seed + 1);
    reset_records();
}

START_TEST(test_leak_cycles)
{
    struct xf_netfront_config c;
    struct snapshot a, b;
    unsigned cycles = getenv("XF_VALGRIND") ? 30 : 1000;
    struct xf_netback_config bc;

    memset(&bc, 0, sizeof(bc));
    bc.hold_mapped = false;
    world_up_cfg(&bc);
    fcfg_default(&c);
    c.tx_slots = 32;
    c.rx_slots = 32;
    c.rx_spare = 8;
    ck_assert_int_eq(xf_netfront_create(&nf, xb, ec, gt, &c, DL(2000)), 0);
    snap(&a);
    for (unsigned i = 0; i < cycles; i++) {
        ck_assert_int_eq(xf_netfront_connect(nf, DL(5000)), 0);
        ck_assert(xf_netback_wait_connected(be, true, DL(2000)));
        traffic(i);
        /* Every tenth cycle the back end leaves first, mid-traffic. */
        if (i % 10 == 9) {
            ck_assert_int_eq(send_pattern(0, 100, 1, 0, 0, NULL), 0);
            xf_netback_disconnect(be, XenbusStateClosing);
            while (xf_netfront_connected(nf)) {
                (void)xf_plat_wait(DL(5));
                (void)xf_netfront_service(nf, DL(2000));
            }
            ck_assert_uint_eq(ndone, 1);
            ck_assert_int_eq(dones[0].status, -XF_ENOTCONN);
            reset_records();
        } else {
            ck_assert_int_eq(xf_netfront_disconnect(nf, DL(2000)), 0);
        }
        ck_assert(xf_netback_wait_connected(be, false, DL(2000)));
    }
    snap(&b);
    ck_assert_uint_eq(b.free_refs, a.free_refs);
    ck_assert_uint_eq(b.granted, a.granted);
    ck_assert_uint_eq(b.ports, a.ports);
    ck_assert_int_eq(b.frames, a.frames);
    /* One more at full size. */
    world_down();
}
END_TEST

START_TEST(test_full_size_cycle_no_leak)
{
    struct xf_netfront_config c;
    struct snapshot a, b;
    struct xf_netback_config bc;

    memset(&bc, 0, sizeof(bc));
    bc.max_queues = 4;
    world_up_cfg(&bc);
    fcfg_default(&c);
    c.max_queues = 4;
    ck_assert_int_eq(xf_netfront_create(&nf, xb, ec, gt, &c, DL(2000)), 0);
    snap(&a);
    for (unsigned i = 0; i < 3; i++) {
        ck_assert_int_eq(xf_netfront_connect(nf, DL(5000)), 0);
        ck_assert_int_eq(xf_netfront_connect(nf, DL(5000)), -XF_EISCONN);
        ck_assert(xf_netback_wait_connected(be, true, DL(2000)));
        traffic(i);
        ck_assert_int_eq(xf_netfront_disconnect(nf, DL(2000)), 0);
        ck_assert_int_eq(xf_netfront_disconnect(nf, DL(2000)), 0);   /* twice: harmless */
    }
    snap(&b);
    ck_assert_uint_eq(b.free_refs, a.free_refs);
    ck_assert_uint_eq(b.ports, a.ports);
    ck_assert_int_eq(b.frames, a.frames);
    world_down();
}
END_TEST

/* Buffers the caller keeps survive a disconnect; destroy waits for them. */
START_TEST(test_destroy_with_kept_buffers)
{
    struct xf_netfront_config c;
    unsigned char buf[600];
    long frames0;

    world_up_cfg(NULL);
    frames0 = xf_sim_free_frames(sim, guest);
    fcfg_default(&c);
    nf_up(&c);
    rx_keep = true;
    fill(buf, sizeof(buf), 4);
    ck_assert_int_eq(xf_netback_rx_inject(be, 0, buf, sizeof(buf), 0, 0, 0), 0);
    serve(0);
    ck_assert_uint_eq(nkept, 1);
    ck_assert_int_eq(xf_netfront_disconnect(nf, DL(2000)), 0);
    ck_assert_int_eq(xf_netfront_destroy(nf, DL(2000)), -XF_EBUSY);
    /* still readable after the disconnect */
    ck_assert_int_eq(xf_netfront_rx_return(nf, kept[0]), 0);
    nkept = 0;
    ck_assert_int_eq(xf_netfront_destroy(nf, DL(2000)), 0);
    nf = NULL;
    ck_assert_int_eq(xf_sim_free_frames(sim, guest), frames0);
    world_down();
}
END_TEST

/* Two vifs, each its own context and back end. */
START_TEST(test_two_vifs)
{
    struct xf_netback_config bc1;
    struct xf_netfront_config c0, c1;
    struct xf_netback *be1;
    struct xf_netfront *nf1;
    struct xf_netfront_info i0, i1;
    struct xf_netback_pkt p;

    world_up_cfg(NULL);
    memset(&bc1, 0, sizeof(bc1));
    bc1.id = "1";
    bc1.mac = "00:16:3e:00:00:02";
    be1 = xf_netback_create(sim, xsd, guest, &bc1);
    ck_assert_ptr_nonnull(be1);
    fcfg_default(&c0);
    nf_up(&c0);
    fcfg_default(&c1);
    c1.id = "1";
    ck_assert_int_eq(xf_netfront_create(&nf1, xb, ec, gt, &c1, DL(2000)), 0);
    ck_assert_int_eq(xf_netfront_connect(nf1, DL(5000)), 0);
    ck_assert_int_eq(xf_netfront_info(nf, &i0), 0);
    ck_assert_int_eq(xf_netfront_info(nf1, &i1), 0);
    ck_assert_uint_eq(i0.mac[5], 1);
    ck_assert_uint_eq(i1.mac[5], 2);
    {
        struct xf_netfront *save = nf;

        nf = nf1;
        ck_assert_int_eq(send_pattern(0, 700, 1, 11, 0, NULL), 0);
        nf = save;
    }
    ck_assert_int_eq(send_pattern(0, 800, 1, 10, 0, NULL), 0);
    ck_assert_int_eq(xf_netback_tx_process(be1, 0), 1);
    ck_assert_int_eq(xf_netback_tx_process(be, 0), 1);
    ck_assert(xf_netback_tx_take(be1, &p));
    ck_assert_uint_eq(p.len, 700);
    ck_assert(check_pattern(p.data, 700, 11));
    xf_netback_pkt_free(&p);
    take_check(800, 10);
    pump();
    ck_assert_int_eq(xf_netfront_destroy(nf1, DL(2000)), 0);
    xf_netback_destroy(be1);
    world_down();
}
END_TEST

/* Emulated asynchronous interrupts: the event handler interrupts the main
 * flow anywhere (in send, in poll); the critical sections and the re-entry
 * guards keep every packet completing exactly once. */
static void irq_handler(void *arg)
{
    (void)arg;
    xf_evtchn_dispatch(ec, 0);
}

START_TEST(test_handler_interrupts_main_flow)
{
    struct xf_netback_config bc;
    struct xf_netfront_config c;
    unsigned n = getenv("XF_VALGRIND") ? 300 : 3000, sent = 0;
    unsigned char buf[1000];
    uint64_t dl;

    memset(&bc, 0, sizeof(bc));
    bc.auto_data = true;
    bc.no_keep = true;
    world_up_cfg(&bc);
    fcfg_default(&c);
    nf_up(&c);
    ck_assert_int_eq(xf_sim_irq_install(irq_handler, NULL), 0);
    xf_sim_irq_self_every(3);
    dl = DL(20000);
    while ((ndone < n || nrx < n / 8) && xf_plat_now_ns() < dl) {
        int rc = sent < n ? send_pattern(0, 1000, 2, sent, 0, (void *)(uintptr_t)(sent + 1)) : 0;

        if (rc == 0 && sent < n)
            sent++;
        else if (rc != 0)
            ck_assert(rc == -XF_EAGAIN || rc == -XF_EBUSY);
        if (xf_netback_rx_queued(be, 0) < 8 && nrx < n / 8) {
            fill(buf, sizeof(buf), 3);
            (void)xf_netback_rx_inject(be, 0, buf, sizeof(buf), 0, 0, 0);
        }
        (void)xf_netfront_poll(nf);
        if (rc != 0)
            sched_yield();
    }
    {
        uint64_t direct, deferred;

        xf_sim_irq_counts(&direct, &deferred);
        /* interrupts really landed inside the library's critical sections */
        ck_assert_uint_gt(deferred, 100);
    }
    xf_sim_irq_self_every(0);
    xf_sim_irq_uninstall();
    ck_assert_uint_eq(ndone, n);
    /* each exactly once */
    {
        static unsigned char seen[100000];

        memset(seen, 0, n + 1);
        for (unsigned i = 0; i < ndone; i++) {
            uintptr_t k = (uintptr_t)dones[i % MAX_DONE].cookie;

            if (i >= MAX_DONE)
                break;
            ck_assert_uint_le(k, n);
            ck_assert_uint_eq(seen[k], 0);
            seen[k] = 1;
        }
    }
    ck_assert_uint_ge(nrx, n / 8);
    world_down();
}
END_TEST

/*
 * A back end that leaves as QEMU's does when it exits (seen with QEMU 10's
 * xen-net-device, tests/hostpeers/test_hp_netfront.c): no Closing, its
 * directory and the frontend's removed. The guest then reads the vanished
 * state node as EACCES, not ENOENT (xenstored hides children of a parent
 * the guest may not read): netfront must still take the back end as gone,
 * fail what is pending, and disconnect, although none of its own state
 * writes can land. A new back end writes both directories again (frontend
 * state Initialising, its own InitWait): connect must start over from
 * Initialising and switch to Connected, not trust the Connected it last
 * wrote.
 */
START_TEST(test_device_directories_removed_then_new_backend)
{
    struct xf_netfront_config c;
    char fe[256], bdir[256], parent[256];
    const char *dom0_only[] = { "n0" };
    struct snapshot a, b;

    world_up_cfg(NULL);
    fcfg_default(&c);
    ck_assert_int_eq(xf_netfront_create(&nf, xb, ec, gt, &c, DL(2000)), 0);
    snap(&a);
    ck_assert_int_eq(xf_netfront_connect(nf, DL(5000)), 0);
    ck_assert(xf_netback_wait_connected(be, true, DL(2000)));
    snprintf(fe, sizeof(fe), "%s", xf_netback_frontend_dir(be));
    snprintf(bdir, sizeof(bdir), "%s", xf_netback_backend_dir(be));
    snprintf(parent, sizeof(parent), "%s", bdir);
    *strrchr(parent, '/') = '\0';
    for (unsigned i = 0; i < 3; i++)
        ck_assert_int_eq(send_pattern(0, 500, 1, i, 0, NULL), 0);
    /* The back end stops (writing nothing on its way), then its
     * directories go, as QEMU removes them; their parent is dom0's. */
    xf_netback_destroy(be);
    be = NULL;
    ck_assert_int_eq(xf_xsd_set_perms(xsd, parent, dom0_only, 1), 0);
    ck_assert_int_eq(xf_xsd_rm(xsd, bdir), 0);
    ck_assert_int_eq(xf_xsd_rm(xsd, fe), 0);
    for (uint64_t dl = DL(3000); xf_netfront_connected(nf) && xf_plat_now_ns() < dl;) {
        (void)xf_plat_wait(DL(5));
        (void)xf_netfront_service(nf, DL(2000));
    }
    ck_assert_msg(!xf_netfront_connected(nf), "a removed back end not taken as gone");
    ck_assert_int_eq(xf_netfront_service(nf, DL(2000)), XenbusStateUnknown);
    ck_assert_uint_eq(ndone, 3);
    for (unsigned i = 0; i < 3; i++)
        ck_assert_int_eq(dones[i].status, -XF_ENOTCONN);
    reset_records();
    /* A new back end, as a restarted QEMU: both directories again. */
    be = xf_netback_create(sim, xsd, guest, NULL);
    ck_assert_ptr_nonnull(be);
    ck_assert_int_eq(xf_netfront_connect(nf, DL(5000)), 0);
    ck_assert(xf_netback_wait_connected(be, true, DL(2000)));
    traffic(9);
    ck_assert_int_eq(xf_netfront_disconnect(nf, DL(2000)), 0);
    snap(&b);
    ck_assert_uint_eq(b.free_refs, a.free_refs);
    ck_assert_uint_eq(b.granted, a.granted);
    ck_assert_uint_eq(b.ports, a.ports);
    ck_assert_int_eq(b.frames, a.frames);
    world_down();
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("netfront_lifecycle");
    TCase *tc = tcase_create("lifecycle");

    tcase_set_timeout(tc, 180);
    tcase_add_test(tc, test_leak_cycles);
    tcase_add_test(tc, test_full_size_cycle_no_leak);
    tcase_add_test(tc, test_destroy_with_kept_buffers);
    tcase_add_test(tc, test_two_vifs);
    tcase_add_test(tc, test_handler_interrupts_main_flow);
    tcase_add_test(tc, test_device_directories_removed_then_new_backend);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return xf_check_run(suite());
}
