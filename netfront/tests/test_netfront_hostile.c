/*
 * The hostile back end: every one of the project's hostile-netback cases
 * N1-N29 (each test names its case), each with the class the library chose (B broken,
 * D dropped, I ignored), through the simulated netback's hooks, raw ring
 * access, storms and state changes.
 */
#include "netfront_test.h"

#define ID_FROM_REQ 0xffffu

static void up_default(const struct xf_netback_config *bc)
{
    struct xf_netfront_config c;

    world_up_cfg(bc);
    fcfg_default(&c);
    nf_up(&c);
}

/* The device is broken: pending packets failed, sends refused, channels
 * masked, reported once. Then it can be disconnected and reconnected. */
static void assert_broken_and_recover(void)
{
    struct xf_netfront_stats st;
    evtchn_port_t ptx, prx;

    ck_assert_int_eq(xf_netfront_broken(nf), -XF_EPROTO);
    ck_assert(!xf_netfront_connected(nf));
    ck_assert(logged("device broken"));
    ck_assert_int_eq(send_pattern(0, 100, 1, 0, 0, NULL), -XF_EPROTO);
    ck_assert_int_eq(xf_netfront_poll(nf), -XF_EPROTO);
    ck_assert_int_eq(xf_netfront_ports(nf, 0, &ptx, &prx), 0);
    ck_assert_int_eq(xf_evtchn_is_masked(ec, ptx), 1);
    ck_assert_int_eq(xf_evtchn_is_masked(ec, prx), 1);
    xf_netfront_stats(nf, 0, &st);
    ck_assert_uint_ge(st.proto_errors, 1);
    /* Recover: disconnect, then connect afresh. */
    xf_netback_set_hooks(be, NULL, NULL, NULL);
    ck_assert_int_eq(xf_netfront_disconnect(nf, DL(2000)), 0);
    ck_assert_int_eq(xf_netfront_broken(nf), 0);
    {
        int rc = xf_netfront_connect(nf, DL(5000));

        if (rc != 0)
            fprintf(stderr, "connect %d: be %d fe %d fatal '%s'\n%s\n", rc, xf_netback_state(be),
                    xf_netback_frontend_state(be), xf_netback_fatal(be), log_text);
        ck_assert_int_eq(rc, 0);
    }
    ck_assert(xf_netback_wait_connected(be, true, DL(2000)));
    ndone = 0;
    ck_assert_int_eq(send_pattern(0, 100, 1, 4, 0, (void *)9), 0);
    serve(0);
    (void)xf_netfront_poll(nf);
    ck_assert_uint_eq(ndone, 1);
    ck_assert_int_eq(dones[0].status, 0);
}

/* ------------------------------------------------------------------------
 * Transmit responses.
 */
enum { TXM_NONE, TXM_ID_BIG, TXM_ID_DUP, TXM_ID_UNPOSTED, TXM_NULL, TXM_STATUS };
static int txm;
static int first_id = -1;

static bool tx_hook(void *arg, unsigned q, unsigned slot, netif_tx_response_t *rsp)
{
    (void)arg;
    (void)q;
    (void)slot;
    switch (txm) {
    case TXM_ID_BIG:
        rsp->id = 256;
        break;
    case TXM_ID_DUP:
        if (first_id < 0)
            first_id = rsp->id;
        else
            rsp->id = (uint16_t)first_id;
        break;
    case TXM_ID_UNPOSTED:
        rsp->id = 200;
        break;
    case TXM_NULL:
        rsp->status = NETIF_RSP_NULL;
        break;
    case TXM_STATUS:
        rsp->status = 77;
        break;
    default:
        break;
    }
    return true;
}

static void tx_case(int mode, unsigned npkts)
{
    up_default(NULL);
    txm = mode;
    first_id = -1;
    xf_netback_set_hooks(be, tx_hook, NULL, NULL);
    for (unsigned i = 0; i < npkts; i++)
        ck_assert_int_eq(send_pattern(0, 1000, 1, i, 0, (void *)(uintptr_t)(i + 1)), 0);
    serve(0);
    (void)xf_netfront_poll(nf);
}

START_TEST(test_n1_tx_id_out_of_range)
{
    tx_case(TXM_ID_BIG, 2);
    ck_assert_uint_eq(ndone, 2);                  /* both failed, none twice */
    ck_assert_int_eq(dones[0].status, -XF_EPROTO);
    ck_assert(logged("not in flight"));
    assert_broken_and_recover();
    world_down();
}
END_TEST

START_TEST(test_n2_tx_id_duplicate_or_unposted)
{
    tx_case(TXM_ID_DUP, 2);
    /* The first completes, the duplicate breaks the device, the second fails. */
    ck_assert_uint_eq(ndone, 2);
    ck_assert_int_eq(dones[0].status, 0);
    ck_assert_int_eq(dones[1].status, -XF_EPROTO);
    assert_broken_and_recover();
    world_down();

    tx_case(TXM_ID_UNPOSTED, 1);
    ck_assert_uint_eq(ndone, 1);
    ck_assert_int_eq(dones[0].status, -XF_EPROTO);
    assert_broken_and_recover();
    world_down();
}
END_TEST

START_TEST(test_n3_tx_null_for_data)
{
    tx_case(TXM_NULL, 1);
    ck_assert(logged("NULL response for a data slot"));
    ck_assert_uint_eq(ndone, 1);                  /* failed, not leaked */
    assert_broken_and_recover();
    world_down();
}
END_TEST

START_TEST(test_n4_tx_status_garbage)
{
    struct xf_netfront_stats st;

    tx_case(TXM_STATUS, 3);
    ck_assert_uint_eq(ndone, 3);
    for (unsigned i = 0; i < 3; i++)
        ck_assert_int_eq(dones[i].status, -XF_EIO);
    xf_netfront_stats(nf, 0, &st);
    ck_assert_uint_eq(st.tx_bad_status, 3);
    ck_assert_uint_eq(st.tx_errors, 3);
    ck_assert_int_eq(xf_netfront_broken(nf), 0);
    ck_assert_uint_eq(xf_netfront_tx_inflight(nf, 0), 0);
    world_down();
}
END_TEST

START_TEST(test_n5_tx_reordered)
{
    struct xf_netback_config bc;

    memset(&bc, 0, sizeof(bc));
    bc.hold_mapped = true;
    up_default(&bc);
    for (unsigned i = 0; i < 3; i++)
        ck_assert_int_eq(send_pattern(0, 9000, 2, i, 0, (void *)(uintptr_t)(i + 1)), 0);
    ck_assert_int_eq(xf_netback_tx_process(be, 0), 3);
    ck_assert_uint_eq(xf_netback_tx_held(be, 0), 9);
    /* newest slot first, across packets */
    for (unsigned i = 0; i < 9; i++) {
        ck_assert_int_eq(xf_netback_tx_release(be, 0, 1, true), 1);
        pump();
        (void)xf_netfront_poll(nf);
    }
    ck_assert_uint_eq(ndone, 3);
    ck_assert_ptr_eq(dones[0].cookie, (void *)3);
    ck_assert_ptr_eq(dones[2].cookie, (void *)1);
    for (unsigned i = 0; i < 3; i++) {
        ck_assert_int_eq(dones[i].status, 0);
        take_check(9000, i);
    }
    world_down();
}
END_TEST

/* One 1000-byte zero-copy packet from page, taken by the back end into
 * its map (hold_mapped) and answered while still mapped (N6). */
static void send_zc_answered_mapped(unsigned char *page, void *cookie)
{
    struct xf_netfront_frag fr;
    struct xf_netfront_tx t;

    fr.data = page;
    fr.len = 1000;
    memset(&t, 0, sizeof(t));
    t.frags = &fr;
    t.nfrags = 1;
    t.flags = XF_NETFRONT_TX_ZEROCOPY;
    t.cookie = cookie;
    ck_assert_int_eq(xf_netfront_send(nf, 0, &t), 0);
    ck_assert_int_eq(xf_netback_tx_process(be, 0), 1);
    ck_assert_int_eq(xf_netback_tx_answer_mapped(be, 0, 1), 1);
    pump();
}

START_TEST(test_n6_tx_grant_still_mapped)
{
    struct xf_netback_config bc;
    unsigned char *page;

    memset(&bc, 0, sizeof(bc));
    bc.hold_mapped = true;
    up_default(&bc);
    page = xf_plat_page_alloc(1);
    fill(page, 4096, 1);
    send_zc_answered_mapped(page, (void *)5);
    ck_assert(logged("still in use"));
    ck_assert_int_eq(xf_netfront_broken(nf), -XF_EPROTO);
    /* The caller's page is still mapped: the packet must not complete. */
    ck_assert_uint_eq(ndone, 0);
    xf_netback_tx_unmap_answered(be);
    (void)xf_gnttab_reclaim(gt);
    ck_assert_uint_eq(ndone, 1);
    ck_assert_int_eq(dones[0].status, -XF_EPROTO);
    xf_plat_page_free(page, 1);
    assert_broken_and_recover();
    world_down();
}
END_TEST

/* N6 across a reconnect: the back end keeps the caller's page mapped past
 * its disconnect. The packet completes only when the page is let go, after
 * the new connection has reused its slot, and the new connection's packets
 * complete on their own (a release must not touch the new slot tables). */
START_TEST(test_n6_tx_grant_still_mapped_across_reconnect)
{
    struct xf_netback_config bc;
    struct xf_netfront_frag fr;
    struct xf_netfront_tx t;
    struct xf_gnttab_stats gs;
    unsigned char *page, *page2;

    memset(&bc, 0, sizeof(bc));
    bc.hold_mapped = true;
    bc.keep_stray = true;
    up_default(&bc);
    page = xf_plat_page_alloc(1);
    page2 = xf_plat_page_alloc(1);
    fill(page, 4096, 1);
    fill(page2, 4096, 2);
    send_zc_answered_mapped(page, (void *)5);
    ck_assert_int_eq(xf_netfront_broken(nf), -XF_EPROTO);
    ck_assert_int_eq(xf_netfront_disconnect(nf, DL(2000)), 0);
    (void)xf_gnttab_reclaim(gt);
    xf_gnttab_get_stats(gt, &gs);
    ck_assert_uint_eq(gs.deferred, 1);
    ck_assert_uint_eq(ndone, 0);
    /* A new connection, whose first zero-copy packet takes slot 0 again. */
    ck_assert_int_eq(xf_netfront_connect(nf, DL(5000)), 0);
    ck_assert(xf_netback_wait_connected(be, true, DL(2000)));
    fr.data = page2;
    fr.len = 1000;
    memset(&t, 0, sizeof(t));
    t.frags = &fr;
    t.nfrags = 1;
    t.flags = XF_NETFRONT_TX_ZEROCOPY;
    t.cookie = (void *)6;
    ck_assert_int_eq(xf_netfront_send(nf, 0, &t), 0);
    ck_assert_int_eq(xf_netback_tx_process(be, 0), 1);
    ck_assert_int_eq(xf_netback_tx_release(be, 0, 1, false), 1);
    pump();
    ck_assert_uint_eq(ndone, 1);
    ck_assert_ptr_eq(dones[0].cookie, (void *)6);
    ck_assert_int_eq(dones[0].status, 0);
    /* The old page let go: its packet completes, once, with the error. */
    xf_netback_tx_unmap_answered(be);
    (void)xf_gnttab_reclaim(gt);
    ck_assert_uint_eq(ndone, 2);
    ck_assert_ptr_eq(dones[1].cookie, (void *)5);
    ck_assert_int_eq(dones[1].status, -XF_EPROTO);
    (void)xf_gnttab_reclaim(gt);
    ck_assert_uint_eq(ndone, 2);
    xf_plat_page_free(page, 1);
    xf_plat_page_free(page2, 1);
    world_down();
}
END_TEST

START_TEST(test_n7_tx_rsp_prod_overflow)
{
    up_default(NULL);
    ck_assert_int_eq(send_pattern(0, 100, 1, 0, 0, (void *)1), 0);
    xf_netback_lock(be);
    xf_netback_tx_sring(be, 0)->rsp_prod += 300;
    xf_netback_unlock(be);
    xf_netback_kick(be, 0, false);
    pump();
    ck_assert_uint_eq(ndone, 1);
    ck_assert_int_eq(dones[0].status, -XF_EPROTO);
    assert_broken_and_recover();
    world_down();
}
END_TEST

START_TEST(test_n23_tx_requests_not_read_back)
{
    struct xf_netfront_stats st;

    up_default(NULL);
    ck_assert_int_eq(send_pattern(0, 1000, 1, 0, 0, NULL), 0);
    ck_assert_int_eq(xf_netback_tx_process(be, 0), 1);
    /* Scribble over what remains of the request in its slot. */
    xf_netback_lock(be);
    memset((unsigned char *)&xf_netback_tx_sring(be, 0)->ring[0] + 4, 0xff, 8);
    xf_netback_unlock(be);
    pump();
    (void)xf_netfront_poll(nf);
    xf_netfront_stats(nf, 0, &st);
    ck_assert_uint_eq(st.tx_packets, 1);
    ck_assert_uint_eq(st.tx_bytes, 1000);
    world_down();
}
END_TEST

/* ------------------------------------------------------------------------
 * Receive responses.
 */
enum { RXM_NONE, RXM_ID, RXM_ERR_MID, RXM_GNTST, RXM_BIG, RXM_OFF, RXM_OFF4096, RXM_FLAGS };
static int rxm;
static unsigned rx_pkts_seen;

/* Spoils the first packet only. */
static bool rx_hook(void *arg, unsigned q, unsigned slot, netif_rx_response_t *rsp)
{
    (void)arg;
    (void)q;
    if (slot == 0)
        rx_pkts_seen++;
    if (rx_pkts_seen != 1)
        return true;
    switch (rxm) {
    case RXM_ID:
        if (slot == 0)
            rsp->id ^= 1;
        break;
    case RXM_ERR_MID:
        if (slot == 1)
            rsp->status = NETIF_RSP_ERROR;
        break;
    case RXM_GNTST:
        if (slot == 0)
            rsp->status = GNTST_bad_gntref;
        break;
    case RXM_BIG:
        rsp->status = 5000;
        break;
    case RXM_OFF:
        rsp->offset = 4000;
        break;
    case RXM_OFF4096:
        rsp->offset = 4096;
        rsp->status = 0;
        break;
    case RXM_FLAGS:
        rsp->flags |= 0xfff0 | NETRXF_gso_prefix;
        rsp->flags &= (uint16_t)~NETRXF_data_validated;
        break;
    default:
        break;
    }
    return true;
}

/* One bad packet (the hook spoils it), then a good one: the bad is
 * dropped and counted, the good delivered, no buffer lost. */
static void rx_case(int mode, uint32_t len, struct xf_netfront_stats *st)
{
    static unsigned char buf[9000];

    up_default(NULL);
    rxm = mode;
    rx_pkts_seen = 0;
    xf_netback_set_hooks(be, NULL, rx_hook, NULL);
    fill(buf, len, 1);
    ck_assert_int_eq(xf_netback_rx_inject(be, 0, buf, len, NETRXF_data_validated, 0, 0), 0);
    fill(buf, 1000, 2);
    ck_assert_int_eq(xf_netback_rx_inject(be, 0, buf, 1000, 0, 0, 0), 0);
    serve(0);
    xf_netfront_stats(nf, 0, st);
    ck_assert_int_eq(xf_netfront_broken(nf), 0);
    ck_assert_uint_eq(xf_netfront_rx_posted(nf, 0), 256);
    ck_assert_uint_ge(nrx, 1);
    ck_assert_uint_eq(rxs[nrx - 1].len, 1000);
    ck_assert(check_pattern(rxs[nrx - 1].data, 1000, 2));
}

START_TEST(test_n11_rx_bad_id)
{
    struct xf_netfront_stats st;

    rx_case(RXM_ID, 1500, &st);
    ck_assert_uint_eq(nrx, 1);
    ck_assert_uint_eq(st.rx_drop_id, 1);
    world_down();
}
END_TEST

START_TEST(test_n12_rx_error_status)
{
    struct xf_netfront_stats st;

    rx_case(RXM_ERR_MID, 9000, &st);           /* error on the middle slot */
    ck_assert_uint_eq(nrx, 1);
    ck_assert_uint_eq(st.rx_drop_error, 1);
    world_down();
    rx_case(RXM_GNTST, 1500, &st);             /* a GNTST code on the first */
    ck_assert_uint_eq(nrx, 1);
    ck_assert_uint_eq(st.rx_drop_error, 1);
    world_down();
}
END_TEST

START_TEST(test_n13_rx_bad_lengths)
{
    struct xf_netfront_stats st;

    rx_case(RXM_BIG, 1500, &st);
    ck_assert_uint_eq(nrx, 1);
    ck_assert_uint_eq(st.rx_drop_len, 1);
    world_down();
    rx_case(RXM_OFF, 1500, &st);               /* 4000 + 1500 > 4096 */
    ck_assert_uint_eq(nrx, 1);
    ck_assert_uint_eq(st.rx_drop_len, 1);
    world_down();
    rx_case(RXM_OFF4096, 1500, &st);
    ck_assert_uint_eq(nrx, 1);
    ck_assert_uint_eq(st.rx_drop_len, 1);
    world_down();
}
END_TEST

START_TEST(test_n14_rx_short_first)
{
    struct xf_netfront_stats st;

    rx_case(RXM_NONE, 10, &st);
    ck_assert_uint_eq(nrx, 1);
    ck_assert_uint_eq(st.rx_drop_short, 1);
    world_down();
    rx_case(RXM_NONE, 0, &st);
    ck_assert_uint_eq(nrx, 1);
    ck_assert_uint_eq(st.rx_drop_short, 1);
    world_down();
}
END_TEST

START_TEST(test_n20_rx_unknown_flags)
{
    struct xf_netfront_stats st;

    rx_case(RXM_FLAGS, 1500, &st);
    ck_assert_uint_eq(nrx, 2);                 /* ignored: both delivered */
    ck_assert_uint_eq(rxs[0].len, 1500);
    ck_assert_uint_eq(rxs[0].flags, 0);        /* gso_prefix & co. not reported */
    ck_assert(check_pattern(rxs[0].data, 1500, 1));
    world_down();
}
END_TEST

/* Raw responses: consume n rx requests and answer them. */
static void raw_rx(const netif_rx_response_t *rsps, unsigned n)
{
    struct xf_back_ring *r;

    xf_netback_lock(be);
    r = xf_netback_rx_ring(be, 0);
    for (unsigned i = 0; i < n; i++) {
        netif_rx_request_t req;
        netif_rx_response_t rsp = rsps[i];

        ck_assert_int_eq(XF_BACK_RING_GET_REQUESTS(r, netif_rx, &req, 1), 1);
        if (rsp.id == ID_FROM_REQ)
            rsp.id = req.id;
        *XF_BACK_RING_RSP(r, netif_rx, 0) = rsp;
        xf_back_ring_produce(r, 1);
    }
    (void)xf_back_ring_push(r);
    xf_netback_unlock(be);
    xf_netback_kick(be, 0, true);
    pump();
}

static netif_rx_response_t data_rsp(uint16_t status, uint16_t flags)
{
    netif_rx_response_t r = { .id = ID_FROM_REQ, .offset = 0, .flags = flags,
                              .status = (int16_t)status };
    return r;
}

static netif_rx_response_t extra_rsp(uint8_t type, uint8_t flags, uint16_t gso_size,
                                     uint8_t gso_type)
{
    netif_extra_info_t ex;
    netif_rx_response_t r;

    memset(&ex, 0, sizeof(ex));
    ex.type = type;
    ex.flags = flags;
    ex.u.gso.size = gso_size;
    ex.u.gso.type = gso_type;
    memcpy(&r, &ex, sizeof(r));
    return r;
}

static void assert_rx_healthy(void)
{
    netif_rx_response_t ok = data_rsp(100, 0);
    unsigned before = nrx;

    ck_assert_int_eq(xf_netfront_broken(nf), 0);
    raw_rx(&ok, 1);
    ck_assert_uint_eq(nrx, before + 1);
    ck_assert_uint_eq(rxs[nrx - 1].len, 100);
    ck_assert_uint_eq(xf_netfront_rx_posted(nf, 0), 256);
}

START_TEST(test_n8_n10_rx_rsp_prod_overflow)
{
    struct xf_netfront_config c;

    up_default(NULL);
    xf_netback_lock(be);
    xf_netback_rx_sring(be, 0)->rsp_prod += 257;
    xf_netback_unlock(be);
    xf_netback_kick(be, 0, true);
    pump();
    assert_broken_and_recover();
    world_down();
    /* N10: a response in a slot with no posted buffer = beyond req_prod. */
    world_up_cfg(NULL);
    fcfg_default(&c);
    c.rx_slots = 32;
    nf_up(&c);
    ck_assert_uint_eq(xf_netfront_rx_posted(nf, 0), 32);
    xf_netback_lock(be);
    xf_netback_rx_sring(be, 0)->rsp_prod += 33;
    xf_netback_unlock(be);
    xf_netback_kick(be, 0, true);
    pump();
    ck_assert_int_eq(xf_netfront_broken(nf), -XF_EPROTO);
    world_down();
}
END_TEST

START_TEST(test_n9_rx_prod_backwards)
{
    netif_rx_response_t r[2] = { data_rsp(100, 0), data_rsp(100, 0) };

    up_default(NULL);
    raw_rx(r, 2);
    ck_assert_uint_eq(nrx, 2);
    xf_netback_lock(be);
    xf_netback_rx_sring(be, 0)->rsp_prod -= 1;
    xf_netback_unlock(be);
    xf_netback_kick(be, 0, true);
    pump();
    assert_broken_and_recover();
    world_down();
}
END_TEST

START_TEST(test_n15_rx_chain_too_long)
{
    netif_rx_response_t r[25];
    struct xf_netfront_stats st;

    up_default(NULL);
    for (unsigned i = 0; i < 25; i++)
        r[i] = data_rsp(100, i + 1 < 25 ? NETRXF_more_data : 0);
    raw_rx(r, 25);
    ck_assert_uint_eq(nrx, 0);
    xf_netfront_stats(nf, 0, &st);
    ck_assert_uint_eq(st.rx_drop_slots, 1);
    assert_rx_healthy();
    world_down();
}
END_TEST

START_TEST(test_n16_rx_chain_past_prod)
{
    netif_rx_response_t r[3] = { data_rsp(4096, NETRXF_more_data),
                                 data_rsp(4096, NETRXF_more_data), data_rsp(10, 0) };
    netif_rx_response_t e = data_rsp(100, NETRXF_extra_info);

    up_default(NULL);
    raw_rx(r, 2);                 /* the chain runs past rsp_prod: wait */
    ck_assert_uint_eq(nrx, 0);
    (void)xf_netfront_poll(nf);
    ck_assert_uint_eq(nrx, 0);
    raw_rx(r + 2, 1);
    ck_assert_uint_eq(nrx, 1);
    ck_assert_uint_eq(rxs[0].len, 8202);
    ck_assert_uint_eq(rxs[0].nfrags, 3);
    /* extra_info on the last published slot: waits the same way */
    raw_rx(&e, 1);
    ck_assert_uint_eq(nrx, 1);
    {
        netif_rx_response_t x = extra_rsp(XEN_NETIF_EXTRA_TYPE_GSO, 0, 1000,
                                          XEN_NETIF_GSO_TYPE_TCPV4);
        raw_rx(&x, 1);
    }
    ck_assert_uint_eq(nrx, 2);
    ck_assert_uint_eq(rxs[1].gso_type, XF_NETFRONT_GSO_TCPV4);
    ck_assert_uint_eq(rxs[1].gso_size, 1000);
    assert_rx_healthy();
    world_down();
}
END_TEST

START_TEST(test_n17_rx_extras_never_end)
{
    netif_rx_response_t r[8];
    struct xf_netfront_stats st;

    up_default(NULL);
    r[0] = data_rsp(100, NETRXF_extra_info);
    for (unsigned i = 1; i < 7; i++)
        r[i] = extra_rsp(XEN_NETIF_EXTRA_TYPE_HASH, XEN_NETIF_EXTRA_FLAG_MORE, 0, 0);
    r[7] = extra_rsp(XEN_NETIF_EXTRA_TYPE_HASH, 0, 0, 0);
    raw_rx(r, 8);
    ck_assert_uint_eq(nrx, 0);
    xf_netfront_stats(nf, 0, &st);
    ck_assert_uint_eq(st.rx_drop_extra, 1);
    assert_rx_healthy();
    world_down();
}
END_TEST

START_TEST(test_n18_rx_extra_types)
{
    static const uint8_t bad[] = { 0, 5, 6, 255 };
    struct xf_netfront_stats st;

    up_default(NULL);
    for (unsigned i = 0; i < XF_ARRAY_SIZE(bad); i++) {
        netif_rx_response_t r[2] = { data_rsp(100, NETRXF_extra_info),
                                     extra_rsp(bad[i], 0, 0, 0) };
        raw_rx(r, 2);
    }
    ck_assert_uint_eq(nrx, 0);
    xf_netfront_stats(nf, 0, &st);
    ck_assert_uint_eq(st.rx_drop_extra, XF_ARRAY_SIZE(bad));
    /* HASH (not negotiated) and MCAST on rx: ignored, packet delivered. */
    {
        netif_rx_response_t r[3] = { data_rsp(100, NETRXF_extra_info),
                                     extra_rsp(XEN_NETIF_EXTRA_TYPE_HASH,
                                               XEN_NETIF_EXTRA_FLAG_MORE, 0, 0),
                                     extra_rsp(XEN_NETIF_EXTRA_TYPE_MCAST_ADD, 0, 0, 0) };
        raw_rx(r, 3);
    }
    ck_assert_uint_eq(nrx, 1);
    assert_rx_healthy();
    world_down();
}
END_TEST

START_TEST(test_n19_rx_bad_gso)
{
    struct xf_netfront_config c;
    struct xf_netfront_stats st;
    netif_rx_response_t z[2] = { data_rsp(100, NETRXF_extra_info),
                                 extra_rsp(XEN_NETIF_EXTRA_TYPE_GSO, 0, 0,
                                           XEN_NETIF_GSO_TYPE_TCPV4) };
    netif_rx_response_t t3[2] = { data_rsp(100, NETRXF_extra_info),
                                  extra_rsp(XEN_NETIF_EXTRA_TYPE_GSO, 0, 1000, 3) };

    up_default(NULL);
    raw_rx(z, 2);
    raw_rx(t3, 2);
    ck_assert_uint_eq(nrx, 0);
    xf_netfront_stats(nf, 0, &st);
    ck_assert_uint_eq(st.rx_drop_extra, 2);
    assert_rx_healthy();
    world_down();
    /* GSO we did not ask for. */
    world_up_cfg(NULL);
    fcfg_default(&c);
    c.no_gso = true;
    nf_up(&c);
    z[1] = extra_rsp(XEN_NETIF_EXTRA_TYPE_GSO, 0, 1000, XEN_NETIF_GSO_TYPE_TCPV4);
    raw_rx(z, 2);
    ck_assert_uint_eq(nrx, 0);
    xf_netfront_stats(nf, 0, &st);
    ck_assert_uint_eq(st.rx_drop_extra, 1);
    world_down();
}
END_TEST

START_TEST(test_n21_rx_grant_still_mapped)
{
    struct xf_back_ring *r;
    netif_rx_request_t req;
    netif_rx_response_t rsp;
    grant_handle_t h;
    int16_t gst;
    void *va;
    struct xf_gnttab_stats gs;

    up_default(NULL);
    xf_netback_lock(be);
    r = xf_netback_rx_ring(be, 0);
    ck_assert_int_eq(XF_BACK_RING_GET_REQUESTS(r, netif_rx, &req, 1), 1);
    va = xf_sim_map_grant(sim, 0, guest, req.gref, false, &h, &gst);
    ck_assert_ptr_nonnull(va);
    rsp = data_rsp(100, 0);
    rsp.id = req.id;
    *XF_BACK_RING_RSP(r, netif_rx, 0) = rsp;
    xf_back_ring_produce(r, 1);
    (void)xf_back_ring_push(r);
    xf_netback_unlock(be);
    xf_netback_kick(be, 0, true);
    pump();
    ck_assert(logged("rx grant still in use"));
    ck_assert_uint_eq(nrx, 0);
    ck_assert_int_eq(xf_sim_unmap_grant(sim, 0, h), GNTST_okay);
    assert_broken_and_recover();
    world_down();
    (void)gs;
}
END_TEST

START_TEST(test_n22_rx_rewritten_after_read)
{
    netif_rx_response_t ok = data_rsp(300, 0);

    up_default(NULL);
    raw_rx(&ok, 1);
    ck_assert_uint_eq(nrx, 1);
    xf_netback_lock(be);
    {
        netif_rx_response_t *slot = &xf_netback_rx_sring(be, 0)->ring[0].rsp;

        slot->status = 4000;
        slot->flags = NETRXF_more_data;
    }
    xf_netback_unlock(be);
    xf_netback_kick(be, 0, true);
    pump();
    ck_assert_uint_eq(nrx, 1);
    ck_assert_uint_eq(rxs[0].len, 300);
    assert_rx_healthy();
    world_down();
}
END_TEST

/* ------------------------------------------------------------------------
 * Events and silence.
 */
START_TEST(test_n24_event_storm)
{
    struct xf_netfront_stats st;
    evtchn_port_t ptx, prx;
    unsigned n = 300;

    up_default(NULL);
    ck_assert_int_eq(xf_netfront_ports(nf, 0, &ptx, &prx), 0);
    for (unsigned i = 0; i < n; i++) {
        uint64_t before;

        xf_netfront_stats(nf, 0, &st);
        before = st.events_rx;
        xf_netback_storm(be, 0, true, 1);
        (void)pump();   /* its count may include xenstore's upcalls */
        xf_netfront_stats(nf, 0, &st);
        ck_assert_uint_le(st.events_rx - before, 1);   /* one handler call per event */
    }
    xf_netfront_stats(nf, 0, &st);
    ck_assert_uint_ge(st.spurious, 64);
    ck_assert_uint_ge(st.throttled, 1);
    ck_assert_uint_le(st.events_rx, n);
    ck_assert_int_eq(xf_evtchn_is_masked(ec, prx), 1);
    /* The next poll lets it through again, and traffic flows. */
    ck_assert_int_ge(xf_netfront_poll(nf), 0);
    ck_assert_int_eq(xf_evtchn_is_masked(ec, prx), 0);
    assert_rx_healthy();
    ck_assert_int_eq(send_pattern(0, 500, 1, 0, 0, NULL), 0);
    serve(0);
    (void)xf_netfront_poll(nf);
    ck_assert_uint_eq(ndone, 1);
    world_down();
}
END_TEST

START_TEST(test_n25_silent_backend)
{
    unsigned char buf[200];

    up_default(NULL);
    xf_netback_silent(be, true);
    ck_assert_int_eq(send_pattern(0, 500, 1, 0, 0, NULL), 0);
    fill(buf, sizeof(buf), 3);
    ck_assert_int_eq(xf_netback_rx_inject(be, 0, buf, sizeof(buf), 0, 0, 0), 0);
    serve(0);
    ck_assert_uint_eq(nrx, 0);                 /* nobody told us */
    ck_assert_int_eq(xf_netfront_poll(nf), 2); /* the poll finds both */
    ck_assert_uint_eq(nrx, 1);
    ck_assert_uint_eq(ndone, 1);
    world_down();
}
END_TEST

START_TEST(test_n26_never_answers_tx)
{
    unsigned ok = 0;
    uint64_t t0;

    up_default(NULL);
    xf_netback_tx_stall(be, true);
    while (send_pattern(0, 60, 1, 0, 0, NULL) == 0)
        ok++;
    ck_assert_uint_eq(ok, 256);
    t0 = xf_plat_now_ns();
    for (unsigned i = 0; i < 1000; i++)
        ck_assert_int_eq(send_pattern(0, 60, 1, 0, 0, NULL), -XF_EAGAIN);
    ck_assert_uint_lt(xf_plat_now_ns() - t0, 2000 * MS_NS);   /* no waiting inside */
    ck_assert_uint_eq(ndone, 0);
    ck_assert_uint_eq(nspace, 0);
    ck_assert_int_eq(xf_netfront_broken(nf), 0);
    world_down();
}
END_TEST

/* ------------------------------------------------------------------------
 * xenstore values (N27).
 */
static int connect_with(const struct xf_netback_config *bc, const char *key, const char *val,
                        bool fe_dir, const struct xf_netfront_config *cin)
{
    struct xf_netfront_config c;
    int rc;

    world_up_cfg(bc);
    if (key != NULL)
        xs_set(fe_dir ? xf_netback_frontend_dir(be) : xf_netback_backend_dir(be), key, val);
    if (cin != NULL)
        c = *cin;
    else
        fcfg_default(&c);
    ck_assert_int_eq(xf_netfront_create(&nf, xb, ec, gt, &c, DL(2000)), 0);
    rc = xf_netfront_connect(nf, DL(3000));
    return rc;
}

START_TEST(test_n27_xenstore_values)
{
    struct xf_netback_config bc;
    struct xf_netfront_config c;
    struct xf_netfront_info in;

    /* feature-rx-copy missing, or garbage: refused. */
    ck_assert_int_eq(connect_with(NULL, "feature-rx-copy", NULL, false, NULL), -XF_ENODEV);
    world_down();
    ck_assert_int_eq(connect_with(NULL, "feature-rx-copy", "yes", false, NULL), -XF_ENODEV);
    world_down();
    /* multi-queue-max-queues garbage / 0: one queue; huge: ours. */
    memset(&bc, 0, sizeof(bc));
    bc.max_queues = 4;
    fcfg_default(&c);
    c.max_queues = 2;
    ck_assert_int_eq(connect_with(&bc, "multi-queue-max-queues", "abc", false, &c), 0);
    ck_assert_int_eq(xf_netfront_info(nf, &in), 0);
    ck_assert_uint_eq(in.nr_queues, 1);
    world_down();
    ck_assert_int_eq(connect_with(&bc, "multi-queue-max-queues", "0", false, &c), 0);
    ck_assert_int_eq(xf_netfront_info(nf, &in), 0);
    ck_assert_uint_eq(in.nr_queues, 1);
    world_down();
    ck_assert_int_eq(connect_with(&bc, "multi-queue-max-queues", "65536", false, &c), 0);
    ck_assert_int_eq(xf_netfront_info(nf, &in), 0);
    ck_assert_uint_eq(in.nr_queues, 2);
    ck_assert_uint_eq(xf_netback_nr_queues(be), 2);
    world_down();
    /* feature-split-event-channels garbage: one channel. */
    ck_assert_int_eq(connect_with(NULL, "feature-split-event-channels", "2", false, NULL), 0);
    ck_assert_int_eq(xf_netfront_info(nf, &in), 0);
    ck_assert(!in.split);
    ck_assert(!xf_netback_split(be));
    world_down();
    /* mtu: 0, 70000, "abc" -> 1500; 9000 -> 9000. */
    {
        static const char *const bad[] = { "0", "70000", "abc", "-1", "" };

        for (unsigned i = 0; i < XF_ARRAY_SIZE(bad); i++) {
            ck_assert_int_eq(connect_with(NULL, "mtu", bad[i], true, NULL), 0);
            ck_assert_int_eq(xf_netfront_info(nf, &in), 0);
            ck_assert_uint_eq(in.mtu, 1500);
            world_down();
        }
    }
    ck_assert_int_eq(connect_with(NULL, "mtu", "9000", true, NULL), 0);
    ck_assert_int_eq(xf_netfront_info(nf, &in), 0);
    ck_assert_uint_eq(in.mtu, 9000);
    world_down();
    /* mac garbage: refused. */
    ck_assert_int_eq(connect_with(NULL, "mac", "00:16:3e:00:00", true, NULL), -XF_EINVAL);
    world_down();
    /* feature-sg "x": no SG. */
    ck_assert_int_eq(connect_with(NULL, "feature-sg", "x", false, NULL), 0);
    ck_assert_int_eq(xf_netfront_info(nf, &in), 0);
    ck_assert(!in.sg && !in.gso_tcpv4);
    world_down();
}
END_TEST

/* ------------------------------------------------------------------------
 * State (N28, N29).
 */
START_TEST(test_n28_closing_mid_traffic_and_reconnect)
{
    struct xf_netback_config bc;
    struct xf_gnttab_stats g0, g1;
    unsigned char buf[1000];

    memset(&bc, 0, sizeof(bc));
    bc.hold_mapped = true;
    up_default(&bc);
    xf_gnttab_get_stats(gt, &g0);
    for (unsigned i = 0; i < 5; i++)
        ck_assert_int_eq(send_pattern(0, 3000, 1, i, 0, NULL), 0);
    ck_assert_int_eq(xf_netback_tx_process(be, 0), 5);   /* all held */
    rx_keep = true;
    fill(buf, sizeof(buf), 1);
    ck_assert_int_eq(xf_netback_rx_inject(be, 0, buf, sizeof(buf), 0, 0, 0), 0);
    serve(0);
    ck_assert_uint_eq(nrx, 1);
    ck_assert_uint_eq(ndone, 0);
    /* The back end leaves mid-traffic. */
    xf_netback_disconnect(be, XenbusStateClosing);
    for (uint64_t dl = DL(3000); xf_netfront_connected(nf) && xf_plat_now_ns() < dl;) {
        (void)xf_plat_wait(DL(5));
        (void)xf_netfront_service(nf, DL(2000));
    }
    ck_assert(!xf_netfront_connected(nf));
    ck_assert_uint_eq(ndone, 5);
    for (unsigned i = 0; i < 5; i++)
        ck_assert_int_eq(dones[i].status, -XF_ENOTCONN);
    /* The kept rx buffer is still readable, and returnable. */
    ck_assert_uint_eq(nkept, 1);
    ck_assert_int_eq(xf_netfront_rx_return(nf, kept[0]), 0);
    nkept = 0;
    rx_keep = false;
    xf_gnttab_get_stats(gt, &g1);
    ck_assert_uint_eq(g1.deferred, 0);
    /* Closed, then InitWait again: reconnect with fresh rings. */
    ck_assert_int_eq(xf_netfront_connect(nf, DL(5000)), 0);
    ck_assert(xf_netback_wait_connected(be, true, DL(2000)));
    for (unsigned i = 0; i < 5; i++)
        take_check(3000, i);
    ndone = 0;
    ck_assert_int_eq(send_pattern(0, 100, 1, 7, 0, NULL), 0);
    serve(0);
    (void)xf_netfront_poll(nf);
    ck_assert_uint_eq(ndone, 1);
    ck_assert_int_eq(dones[0].status, 0);
    take_check(100, 7);
    xf_gnttab_get_stats(gt, &g1);
    ck_assert_uint_eq(g1.granted_refs, g0.granted_refs);
    world_down();
}
END_TEST

START_TEST(test_n29_state_jumps)
{
    struct xf_netfront_config c;

    /* An unknown state before we connect: we wait for InitWait only. */
    world_up_cfg(NULL);
    xf_netback_set_state(be, 99);
    fcfg_default(&c);
    ck_assert_int_eq(xf_netfront_create(&nf, xb, ec, gt, &c, DL(2000)), 0);
    ck_assert_int_eq(xf_netfront_connect(nf, DL(200)), -XF_ETIMEDOUT);
    ck_assert(!xf_netfront_connected(nf));
    xf_netback_set_state(be, XenbusStateInitWait);
    ck_assert_int_eq(xf_netfront_connect(nf, DL(5000)), 0);
    ck_assert(xf_netback_wait_connected(be, true, DL(2000)));
    /* Connected -> Closed (no Closing) while connected: we disconnect. */
    xf_netback_set_state(be, XenbusStateClosed);
    for (uint64_t dl = DL(3000); xf_netfront_connected(nf) && xf_plat_now_ns() < dl;) {
        (void)xf_plat_wait(DL(5));
        (void)xf_netfront_service(nf, DL(2000));
    }
    ck_assert(!xf_netfront_connected(nf));
    ck_assert_int_eq(send_pattern(0, 100, 1, 0, 0, NULL), -XF_ENOTCONN);
    world_down();
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("netfront_hostile");
    TCase *tc = tcase_create("hostile");

    tcase_set_timeout(tc, 180);
    tcase_add_test(tc, test_n1_tx_id_out_of_range);
    tcase_add_test(tc, test_n2_tx_id_duplicate_or_unposted);
    tcase_add_test(tc, test_n3_tx_null_for_data);
    tcase_add_test(tc, test_n4_tx_status_garbage);
    tcase_add_test(tc, test_n5_tx_reordered);
    tcase_add_test(tc, test_n6_tx_grant_still_mapped);
    tcase_add_test(tc, test_n6_tx_grant_still_mapped_across_reconnect);
    tcase_add_test(tc, test_n7_tx_rsp_prod_overflow);
    tcase_add_test(tc, test_n8_n10_rx_rsp_prod_overflow);
    tcase_add_test(tc, test_n9_rx_prod_backwards);
    tcase_add_test(tc, test_n11_rx_bad_id);
    tcase_add_test(tc, test_n12_rx_error_status);
    tcase_add_test(tc, test_n13_rx_bad_lengths);
    tcase_add_test(tc, test_n14_rx_short_first);
    tcase_add_test(tc, test_n15_rx_chain_too_long);
    tcase_add_test(tc, test_n16_rx_chain_past_prod);
    tcase_add_test(tc, test_n17_rx_extras_never_end);
    tcase_add_test(tc, test_n18_rx_extra_types);
    tcase_add_test(tc, test_n19_rx_bad_gso);
    tcase_add_test(tc, test_n20_rx_unknown_flags);
    tcase_add_test(tc, test_n21_rx_grant_still_mapped);
    tcase_add_test(tc, test_n22_rx_rewritten_after_read);
    tcase_add_test(tc, test_n23_tx_requests_not_read_back);
    tcase_add_test(tc, test_n24_event_storm);
    tcase_add_test(tc, test_n25_silent_backend);
    tcase_add_test(tc, test_n26_never_answers_tx);
    tcase_add_test(tc, test_n27_xenstore_values);
    tcase_add_test(tc, test_n28_closing_mid_traffic_and_reconnect);
    tcase_add_test(tc, test_n29_state_jumps);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return xf_check_run(suite());
}
