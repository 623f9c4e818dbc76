/*
 * netfront's refusals and failing set-ups, which the other tests do not
 * reach: the arguments and configurations create refuses, a create without
 * memory, and a connect that fails because Xen or the store refuses what it
 * needs (no event channel, not even the second of a split pair, no grant
 * references, a device directory it may not write). Each failing call
 * returns a negative errno and holds nothing afterwards (no grant, no
 * port, no page), and the same call works once the resource is back.
 */
#include "netfront_test.h"

/* Take resources from the guest until Xen refuses, to give back later. */
static evtchn_port_t hog_ports[8192];
static unsigned nhog_ports;
static grant_ref_t hog_refs[40000];
static unsigned nhog_refs;
static struct { void *va; size_t n; } hog_pages[4096];
static unsigned nhog_pages;

static void hog_ports_but(unsigned leave)
{
    while (nhog_ports < 8192 &&
           xf_evtchn_alloc_unbound(ec, 0, NULL, NULL, &hog_ports[nhog_ports]) == 0)
        nhog_ports++;
    ck_assert_uint_lt(nhog_ports, 8192);
    while (leave-- > 0 && nhog_ports > 0)
        ck_assert_int_eq(xf_evtchn_close(ec, hog_ports[--nhog_ports]), 0);
}

static void unhog_ports(void)
{
    while (nhog_ports > 0)
        ck_assert_int_eq(xf_evtchn_close(ec, hog_ports[--nhog_ports]), 0);
}

static void hog_refs_but(unsigned leave)
{
    struct xf_gnttab_stats st;

    for (unsigned chunk = 512; chunk >= 1; chunk /= 2)
        while (nhog_refs + chunk <= 40000 &&
               xf_gnttab_alloc_refs(gt, hog_refs + nhog_refs, chunk) == 0)
            nhog_refs += chunk;
    xf_gnttab_get_stats(gt, &st);
    ck_assert_uint_eq(st.free_refs, 0);
    if (leave > nhog_refs)
        leave = nhog_refs;
    nhog_refs -= leave;
    ck_assert_int_eq(xf_gnttab_free_refs(gt, hog_refs + nhog_refs, leave), 0);
}

static void unhog_refs(void)
{
    ck_assert_int_eq(xf_gnttab_free_refs(gt, hog_refs, nhog_refs), 0);
    nhog_refs = 0;
}

static void hog_pages_but(long leave)
{
    for (size_t chunk = 1024; chunk >= 1; chunk /= 2)
        while (nhog_pages < 4096 && xf_sim_free_frames(sim, guest) - (long)chunk >= leave &&
               (hog_pages[nhog_pages].va = xf_plat_page_alloc(chunk)) != NULL)
            hog_pages[nhog_pages++].n = chunk;
}

static void unhog_pages(void)
{
    while (nhog_pages > 0) {
        nhog_pages--;
        xf_plat_page_free(hog_pages[nhog_pages].va, hog_pages[nhog_pages].n);
    }
}

/* Nothing of netfront's held: only xenstore's port, no grant of ours. */
static void assert_clean(uint32_t held_before)
{
    struct xf_gnttab_stats st;

    (void)xf_gnttab_reclaim(gt);
    xf_gnttab_get_stats(gt, &st);
    ck_assert_uint_eq(st.granted_refs + st.reserved_refs, held_before);
    ck_assert_uint_eq(st.deferred, 0);
}

static uint32_t held_now(void)
{
    struct xf_gnttab_stats st;

    xf_gnttab_get_stats(gt, &st);
    return st.granted_refs + st.reserved_refs;
}

START_TEST(test_cov_create_arguments)
{
    struct xf_netfront_config c;
    struct xf_netfront *n = (struct xf_netfront *)(uintptr_t)1;
    struct xf_netfront_info info;
    struct xf_netfront_stats st;
    evtchn_port_t a, b;

    world_up_cfg(NULL);
    fcfg_default(&c);
    ck_assert_int_eq(xf_netfront_create(NULL, xb, ec, gt, &c, DL(100)), -XF_EINVAL);
    ck_assert_int_eq(xf_netfront_create(&n, NULL, ec, gt, &c, DL(100)), -XF_EINVAL);
    ck_assert_int_eq(xf_netfront_create(&n, xb, NULL, gt, &c, DL(100)), -XF_EINVAL);
    ck_assert_int_eq(xf_netfront_create(&n, xb, ec, NULL, &c, DL(100)), -XF_EINVAL);
    c.id = "";
    ck_assert_int_eq(xf_netfront_create(&n, xb, ec, gt, &c, DL(100)), -XF_EINVAL);
    c.id = "0123456789abcdef";                            /* 16: too long */
    ck_assert_int_eq(xf_netfront_create(&n, xb, ec, gt, &c, DL(100)), -XF_EINVAL);
    fcfg_default(&c);
    c.max_queues = XF_NETFRONT_MAX_QUEUES + 1;
    ck_assert_int_eq(xf_netfront_create(&n, xb, ec, gt, &c, DL(100)), -XF_EINVAL);
    fcfg_default(&c);
    c.tx_slots = 31;
    ck_assert_int_eq(xf_netfront_create(&n, xb, ec, gt, &c, DL(100)), -XF_EINVAL);
    c.tx_slots = 257;
    ck_assert_int_eq(xf_netfront_create(&n, xb, ec, gt, &c, DL(100)), -XF_EINVAL);
    fcfg_default(&c);
    c.rx_slots = 31;
    ck_assert_int_eq(xf_netfront_create(&n, xb, ec, gt, &c, DL(100)), -XF_EINVAL);
    c.rx_slots = 257;
    ck_assert_int_eq(xf_netfront_create(&n, xb, ec, gt, &c, DL(100)), -XF_EINVAL);
    fcfg_default(&c);
    c.rx_spare = 4097;
    ck_assert_int_eq(xf_netfront_create(&n, xb, ec, gt, &c, DL(100)), -XF_EINVAL);
    /* A device the toolstack never added. */
    fcfg_default(&c);
    c.id = "9";
    ck_assert_int_lt(xf_netfront_create(&n, xb, ec, gt, &c, DL(1000)), 0);
    ck_assert_ptr_eq(n, (struct xf_netfront *)(uintptr_t)1);   /* untouched */
    /* The NULL context. */
    ck_assert_int_eq(xf_netfront_destroy(NULL, DL(100)), 0);
    ck_assert_int_eq(xf_netfront_connect(NULL, DL(100)), -XF_EINVAL);
    ck_assert(!xf_netfront_connected(NULL));
    ck_assert_int_lt(xf_netfront_info(NULL, &info), 0);
    ck_assert_int_lt(xf_netfront_ports(NULL, 0, &a, &b), 0);
    ck_assert_int_lt(xf_netfront_send(NULL, 0, NULL), 0);
    ck_assert_int_lt(xf_netfront_rx_return(NULL, 0), 0);
    ck_assert_int_lt(xf_netfront_poll(NULL), 0);
    xf_netfront_stats(NULL, 0, &st);                      /* ignored */
    ck_assert_uint_eq(xf_netfront_tx_inflight(NULL, 0), 0);
    ck_assert_uint_eq(xf_netfront_rx_posted(NULL, 0), 0);
    /* Connect twice. */
    fcfg_default(&c);
    nf_up(&c);
    ck_assert_int_eq(xf_netfront_connect(nf, DL(1000)), -XF_EISCONN);
    ck_assert_int_lt(xf_netfront_rx_return(nf, 0xffff0000u), 0);
    world_down();
}
END_TEST

/* No memory for the context, then for its queues. */
START_TEST(test_cov_create_no_memory)
{
    struct xf_netfront_config c;
    struct xf_netfront *n = NULL;
    long need;

    world_up_cfg(NULL);
    fcfg_default(&c);
    c.max_queues = 4;
    need = xf_sim_free_frames(sim, guest);
    ck_assert_int_eq(xf_netfront_create(&n, xb, ec, gt, &c, DL(2000)), 0);
    need -= xf_sim_free_frames(sim, guest);
    ck_assert_int_eq(xf_netfront_destroy(n, DL(2000)), 0);
    ck_assert_int_gt(need, 4);
    hog_pages_but(0);
    n = NULL;
    ck_assert_int_eq(xf_netfront_create(&n, xb, ec, gt, &c, DL(2000)), -XF_ENOMEM);
    unhog_pages();
    hog_pages_but(need - 1);                              /* the last queue does not fit */
    ck_assert_int_eq(xf_netfront_create(&n, xb, ec, gt, &c, DL(2000)), -XF_ENOMEM);
    ck_assert_ptr_null(n);
    unhog_pages();
    world_down();
}
END_TEST

/* Xen refuses event channels: none at all, or only one of a split pair. */
START_TEST(test_cov_connect_no_event_channel)
{
    struct xf_netfront_config c;
    struct xf_netback_config bc;
    unsigned bound;
    uint32_t held;

    memset(&bc, 0, sizeof(bc));
    world_up_cfg(&bc);
    fcfg_default(&c);
    ck_assert_int_eq(xf_netfront_create(&nf, xb, ec, gt, &c, DL(2000)), 0);
    held = held_now();
    hog_ports_but(0);
    bound = xf_evtchn_nr_bound(ec);
    ck_assert_int_lt(xf_netfront_connect(nf, DL(3000)), 0);
    ck_assert(!xf_netfront_connected(nf));
    ck_assert_uint_eq(xf_evtchn_nr_bound(ec), bound);
    assert_clean(held);
    unhog_ports();
    hog_ports_but(1);                                     /* one of a split pair */
    bound = xf_evtchn_nr_bound(ec);
    ck_assert_int_lt(xf_netfront_connect(nf, DL(3000)), 0);
    ck_assert_uint_eq(xf_evtchn_nr_bound(ec), bound);
    assert_clean(held);
    unhog_ports();
    ck_assert_int_eq(xf_netfront_connect(nf, DL(5000)), 0);
    ck_assert(xf_netback_wait_connected(be, true, DL(2000)));
    world_down();
}
END_TEST

/* Not enough grant references for the rings, the tx pool or the rx
 * buffers: each attempt fails with -XF_ENOSPC holding nothing. */
START_TEST(test_cov_connect_no_grant_references)
{
    struct xf_netfront_config c;
    static const unsigned leave[] = { 0, 1, 2, 40, 300, 600 };
    uint32_t held;

    world_up_cfg(NULL);
    fcfg_default(&c);
    c.tx_slots = 256;
    c.rx_slots = 256;
    ck_assert_int_eq(xf_netfront_create(&nf, xb, ec, gt, &c, DL(2000)), 0);
    for (unsigned i = 0; i < sizeof(leave) / sizeof(leave[0]); i++) {
        held = held_now();
        hog_refs_but(leave[i]);
        ck_assert_int_eq(xf_netfront_connect(nf, DL(3000)), -XF_ENOSPC);
        unhog_refs();
        assert_clean(held);
    }
    ck_assert_int_eq(xf_netfront_connect(nf, DL(5000)), 0);
    ck_assert(xf_netback_wait_connected(be, true, DL(2000)));
    world_down();
}
END_TEST

/* No memory for the rings or the buffers at connect. */
START_TEST(test_cov_connect_no_memory)
{
    struct xf_netfront_config c;
    static const long leave[] = { 0, 1, 2, 100 };
    uint32_t held;

    world_up_cfg(NULL);
    fcfg_default(&c);
    ck_assert_int_eq(xf_netfront_create(&nf, xb, ec, gt, &c, DL(2000)), 0);
    for (unsigned i = 0; i < sizeof(leave) / sizeof(leave[0]); i++) {
        held = held_now();
        hog_pages_but(leave[i]);
        ck_assert_int_eq(xf_netfront_connect(nf, DL(3000)), -XF_ENOMEM);
        unhog_pages();
        assert_clean(held);
    }
    ck_assert_int_eq(xf_netfront_connect(nf, DL(5000)), 0);
    world_down();
}
END_TEST

/* The toolstack made the device directory read-only for the guest. */
START_TEST(test_cov_connect_store_refuses)
{
    struct xf_netfront_config c;
    char fe[128], r[16];
    const char *ro[2] = { "n0", r };
    uint32_t held;

    world_up_cfg(NULL);
    fcfg_default(&c);
    ck_assert_int_eq(xf_netfront_create(&nf, xb, ec, gt, &c, DL(2000)), 0);
    held = held_now();
    snprintf(fe, sizeof(fe), "/local/domain/%u/device/vif/0", (unsigned)guest);
    snprintf(r, sizeof(r), "r%u", (unsigned)guest);
    ck_assert_int_eq(xf_xsd_set_perms(xsd, fe, ro, 2), 0);
    ck_assert_int_lt(xf_netfront_connect(nf, DL(3000)), 0);
    ck_assert(!xf_netfront_connected(nf));
    assert_clean(held);
    world_down();
}
END_TEST

/* The toolstack's MAC in upper-case hex is the same MAC; a state callback
 * hears of the back end's state changes; stats into NULL are ignored. */
static unsigned nstate;

static void cb_state(struct xf_netfront *n, void *arg)
{
    (void)n;
    (void)arg;
    nstate++;
}

START_TEST(test_cov_mac_case_and_state_callback)
{
    struct xf_netfront_config c;
    struct xf_netback_config bc;
    struct xf_netfront_info info;
    static const uint8_t want[6] = { 0x00, 0x16, 0x3e, 0x0a, 0xbb, 0xcc };

    memset(&bc, 0, sizeof(bc));
    bc.mac = "00:16:3E:0A:BB:CC";
    world_up_cfg(&bc);
    fcfg_default(&c);
    c.state = cb_state;
    nstate = 0;
    nf_up(&c);
    ck_assert_int_eq(xf_netfront_info(nf, &info), 0);
    ck_assert_mem_eq(info.mac, want, 6);
    ck_assert_uint_gt(nstate, 0);                         /* InitWait, Connected */
    xf_netfront_stats(nf, 0, NULL);
    world_down();
}
END_TEST

/* What send, mcast and the queries refuse, each with the errno the header
 * names, and nothing sent afterwards: before connect, and against a back
 * end without feature-sg, GSO or multicast control. */
START_TEST(test_cov_send_refusals)
{
    struct xf_netfront_config c;
    struct xf_netback_config bc;
    struct xf_netfront_info info;
    struct xf_netfront_stats st;
    struct xf_netfront_frag fr[XF_NETFRONT_MAX_FRAGS + 1];
    struct xf_netfront_tx t;
    static unsigned char big[70000];
    /* Aligned: a buffer across a page boundary is linearised (copied), which
     * is not the refusal this test wants (ASLR placed it so now and then). */
    _Alignas(64) unsigned char local[64];
    const uint8_t unicast[6] = { 0x00, 0x16, 0x3e, 1, 2, 3 };
    const uint8_t group[6] = { 0x01, 0x00, 0x5e, 0, 0, 1 };
    unsigned char *page;

    memset(&bc, 0, sizeof(bc));
    bc.no_sg = true;
    bc.no_gso_tcpv4 = true;
    bc.no_mcast = true;
    world_up_cfg(&bc);
    fcfg_default(&c);
    ck_assert_int_eq(xf_netfront_disconnect(NULL, DL(100)), -XF_EINVAL);
    ck_assert_int_eq(xf_netfront_service(NULL, DL(100)), -XF_EINVAL);
    ck_assert_int_eq(xf_netfront_create(&nf, xb, ec, gt, &c, DL(2000)), 0);
    /* Not connected yet. */
    ck_assert_int_eq(xf_netfront_poll(nf), -XF_ENOTCONN);
    ck_assert_int_eq(xf_netfront_info(nf, &info), -XF_ENOTCONN);
    ck_assert_int_eq(xf_netfront_disconnect(nf, DL(100)), 0);
    ck_assert_int_eq(xf_netfront_connect(nf, DL(5000)), 0);
    ck_assert(xf_netback_wait_connected(be, true, DL(2000)));
    ck_assert_int_eq(xf_netfront_info(nf, &info), 0);
    ck_assert(!info.sg);

    memset(big, 0x5a, sizeof(big));
    for (unsigned i = 0; i <= XF_NETFRONT_MAX_FRAGS; i++)
        fr[i] = (struct xf_netfront_frag){ big, 60 };
    memset(&t, 0, sizeof(t));
    t.frags = fr;
    ck_assert_int_eq(xf_netfront_send(nf, 0, NULL), -XF_EINVAL);
    ck_assert_int_eq(xf_netfront_send(nf, 0, &t), -XF_EINVAL);         /* no fragments */
    t.nfrags = XF_NETFRONT_MAX_FRAGS + 1;
    ck_assert_int_eq(xf_netfront_send(nf, 0, &t), -XF_EINVAL);         /* too many */
    t.nfrags = 2;
    fr[1].data = NULL;
    ck_assert_int_eq(xf_netfront_send(nf, 0, &t), -XF_EINVAL);         /* NULL with a length */
    fr[1] = (struct xf_netfront_frag){ big, 65535 - 59 };
    ck_assert_int_eq(xf_netfront_send(nf, 0, &t), -XF_EINVAL);         /* 65536 bytes */
    t.nfrags = 1;
    fr[0].len = 13;
    ck_assert_int_eq(xf_netfront_send(nf, 0, &t), -XF_EINVAL);         /* shorter than 14 */
    fr[0].len = 60;
    t.gso_type = XF_NETFRONT_GSO_TCPV4;
    ck_assert_int_eq(xf_netfront_send(nf, 0, &t), -XF_EINVAL);         /* gso_size 0 */
    t.gso_size = 1400;
    ck_assert_int_eq(xf_netfront_send(nf, 0, &t), -XF_EOPNOTSUPP);     /* no feature-gso-tcpv4 */
    t.gso_type = 3;
    ck_assert_int_eq(xf_netfront_send(nf, 0, &t), -XF_EINVAL);         /* no such type */
    t.gso_type = XF_NETFRONT_GSO_NONE;
    t.gso_size = 0;
    fr[0].len = 5000;
    ck_assert_int_eq(xf_netfront_send(nf, 0, &t), -XF_EMSGSIZE);       /* two pages, no sg */
    /* Zero-copy of memory the platform cannot translate (the stack). */
    memset(local, 0, sizeof(local));
    fr[0] = (struct xf_netfront_frag){ local, sizeof(local) };
    t.flags = XF_NETFRONT_TX_ZEROCOPY;
    ck_assert_int_eq(xf_netfront_send(nf, 0, &t), -XF_EFAULT);
    /* Zero-copy across two pages without sg: linearised, then too big. */
    page = xf_plat_page_alloc(2);
    ck_assert_ptr_nonnull(page);
    fr[0] = (struct xf_netfront_frag){ page + 4000, 200 };
    ck_assert_int_eq(xf_netfront_send(nf, 0, &t), 0);                  /* 200 B: one copy slot */
    fr[0].len = 4200;
    ck_assert_int_eq(xf_netfront_send(nf, 0, &t), -XF_EMSGSIZE);
    ck_assert_int_eq(xf_netfront_send(nf, 1, &t), -XF_EINVAL);         /* no queue 1 */
    /* Multicast: bad addresses first, then the missing feature. */
    ck_assert_int_eq(xf_netfront_mcast(nf, NULL, true, NULL), -XF_EINVAL);
    ck_assert_int_eq(xf_netfront_mcast(nf, unicast, true, NULL), -XF_EINVAL);
    ck_assert_int_eq(xf_netfront_mcast(nf, group, true, NULL), -XF_EOPNOTSUPP);
    /* Only the one good packet reached the back end, and completed. */
    for (unsigned i = 0; i < 100 && ndone < 1; i++) {
        serve(0);
        pump();
    }
    ck_assert_uint_eq(ndone, 1);
    ck_assert_int_eq(dones[0].status, 0);
    xf_netfront_stats(nf, 0, &st);
    ck_assert_uint_eq(st.tx_packets, 1);
    ck_assert_uint_eq(xf_netfront_tx_inflight(nf, 0), 0);
    xf_plat_page_free(page, 2);
    world_down();
}
END_TEST

int main(void)
{
    Suite *s = suite_create("netfront_cov");
    TCase *tc = tcase_create("netfront_cov");

    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, test_cov_create_arguments);
    tcase_add_test(tc, test_cov_create_no_memory);
    tcase_add_test(tc, test_cov_connect_no_event_channel);
    tcase_add_test(tc, test_cov_connect_no_grant_references);
    tcase_add_test(tc, test_cov_connect_no_memory);
    tcase_add_test(tc, test_cov_connect_store_refuses);
    tcase_add_test(tc, test_cov_send_refusals);
    tcase_add_test(tc, test_cov_mac_case_and_state_callback);
    suite_add_tcase(s, tc);
    return xf_check_run(s);
}
