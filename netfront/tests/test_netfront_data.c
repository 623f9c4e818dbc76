/*
 * netfront against the simulated netback: negotiation, transmit (copy,
 * zero-copy, SG, GSO, checksum flags, out-of-order completion,
 * back-pressure), receive (single and multi-slot, GSO, flags, offset 2,
 * kept buffers), multi-queue and one or split event channels.
 */
#include "netfront_test.h"

static void setup_default(void)
{
    struct xf_netfront_config c;

    world_up_cfg(NULL);
    fcfg_default(&c);
    nf_up(&c);
}

START_TEST(test_negotiation)
{
    struct xf_netfront_info in;
    char buf[64];
    const char *fe;

    setup_default();
    fe = xf_netback_frontend_dir(be);
    ck_assert_int_eq(xf_netfront_info(nf, &in), 0);
    ck_assert_uint_eq(in.nr_queues, 1);
    ck_assert(in.split);
    ck_assert(in.sg && in.gso_tcpv4 && in.gso_tcpv6 && in.ipv6_csum && in.csum_offload);
    ck_assert(in.rx_notify);
    ck_assert(in.dynamic_mcast);
    ck_assert_uint_eq(in.mac[0], 0x00);
    ck_assert_uint_eq(in.mac[2], 0x3e);
    ck_assert_uint_eq(in.mac[5], 0x01);
    ck_assert_uint_eq(in.mtu, 1500);
    ck_assert(xf_netback_split(be));
    ck_assert_int_eq(xf_netback_fe_key(be, "request-rx-copy"), 1);
    ck_assert_int_eq(xf_netback_fe_key(be, "feature-sg"), 1);
    ck_assert_int_eq(xf_netback_fe_key(be, "feature-gso-tcpv4"), 1);
    ck_assert_int_eq(xf_netback_fe_key(be, "feature-rx-notify"), 1);
    ck_assert_int_eq(xf_netback_fe_key(be, "feature-no-csum-offload"), 0);
    ck_assert_int_eq(xf_netback_fe_key(be, "multi-queue-num-queues"), 1);
    ck_assert(xs_get(fe, "event-channel-tx", buf, sizeof(buf)));
    ck_assert(!xs_get(fe, "event-channel", buf, sizeof(buf)));
    ck_assert(xs_get(fe, "state", buf, sizeof(buf)));
    ck_assert_str_eq(buf, "4");
    /* The rx ring is full of posted buffers from the start. */
    ck_assert_uint_eq(xf_netfront_rx_posted(nf, 0), 256);
    world_down();
}
END_TEST

START_TEST(test_tx_copy_sizes)
{
    static const size_t sizes[] = { 14, 60, 1514, 4096, 4097, 9000, 65226, 65535 };
    struct xf_netfront_stats st;

    setup_default();
    for (unsigned i = 0; i < XF_ARRAY_SIZE(sizes); i++) {
        ck_assert_int_eq(send_pattern(0, sizes[i], 1 + i % 5, i, 0, (void *)(uintptr_t)(i + 1)), 0);
        ck_assert_int_eq(xf_netback_tx_process(be, 0), 1);
        pump();
        take_check(sizes[i], i);
    }
    (void)xf_netfront_poll(nf);
    ck_assert_uint_eq(ndone, XF_ARRAY_SIZE(sizes));
    for (unsigned i = 0; i < ndone; i++) {
        ck_assert_int_eq(dones[i].status, 0);
        ck_assert_ptr_eq(dones[i].cookie, (void *)(uintptr_t)(i + 1));
    }
    xf_netfront_stats(nf, 0, &st);
    ck_assert_uint_eq(st.tx_packets, XF_ARRAY_SIZE(sizes));
    ck_assert_uint_eq(xf_netfront_tx_inflight(nf, 0), 0);
    /* Too short, too long, empty. */
    ck_assert_int_eq(send_pattern(0, 13, 1, 0, 0, NULL), -XF_EINVAL);
    {
        struct xf_netfront_tx t;

        memset(&t, 0, sizeof(t));
        ck_assert_int_eq(xf_netfront_send(nf, 0, &t), -XF_EINVAL);
        ck_assert_int_eq(xf_netfront_send(nf, 1, &t), -XF_EINVAL);
    }
    world_down();
}
END_TEST

START_TEST(test_tx_csum_gso)
{
    struct xf_netback_pkt p;
    struct xf_netfront_frag fr;
    struct xf_netfront_tx t;
    static unsigned char buf[65226];

    setup_default();
    fill(buf, sizeof(buf), 3);
    fr.data = buf;
    fr.len = sizeof(buf);
    memset(&t, 0, sizeof(t));
    t.frags = &fr;
    t.nfrags = 1;
    t.flags = XF_NETFRONT_TX_CSUM_BLANK | XF_NETFRONT_TX_DATA_VALIDATED;
    t.gso_type = XF_NETFRONT_GSO_TCPV4;
    t.gso_size = 1448;
    ck_assert_int_eq(xf_netfront_send(nf, 0, &t), 0);
    ck_assert_int_eq(xf_netback_tx_process(be, 0), 1);
    ck_assert(xf_netback_tx_take(be, &p));
    ck_assert_uint_eq(p.len, sizeof(buf));
    ck_assert_uint_eq(p.gso_type, XEN_NETIF_GSO_TYPE_TCPV4);
    ck_assert_uint_eq(p.gso_size, 1448);
    ck_assert_uint_eq(p.flags, NETTXF_csum_blank | NETTXF_data_validated);
    ck_assert_uint_eq(p.slots, 16);
    ck_assert(check_pattern(p.data, p.len, 3));
    xf_netback_pkt_free(&p);
    pump();
    (void)xf_netfront_poll(nf);
    ck_assert_uint_eq(ndone, 1);
    ck_assert_int_eq(dones[0].status, 0);
    ck_assert_uint_eq(xf_netfront_tx_inflight(nf, 0), 0);   /* extra answered NULL */
    /* data_validated alone; bad GSO requests refused before the ring. */
    t.flags = XF_NETFRONT_TX_DATA_VALIDATED;
    t.gso_type = 0;
    fr.len = 1514;
    ck_assert_int_eq(xf_netfront_send(nf, 0, &t), 0);
    ck_assert_int_eq(xf_netback_tx_process(be, 0), 1);
    ck_assert(xf_netback_tx_take(be, &p));
    ck_assert_uint_eq(p.flags, NETTXF_data_validated);
    ck_assert_uint_eq(p.gso_type, 0);
    xf_netback_pkt_free(&p);
    t.gso_type = XF_NETFRONT_GSO_TCPV6;
    t.gso_size = 0;
    ck_assert_int_eq(xf_netfront_send(nf, 0, &t), -XF_EINVAL);
    t.gso_type = 3;
    t.gso_size = 100;
    ck_assert_int_eq(xf_netfront_send(nf, 0, &t), -XF_EINVAL);
    world_down();
}
END_TEST

/* Zero-copy: the caller's pages granted, completion only once revoked;
 * netback completes mapped slots late and out of order. */
START_TEST(test_tx_zerocopy_out_of_order)
{
    struct xf_netback_config bc;
    struct xf_netfront_config c;
    unsigned char *pages;
    struct xf_netfront_frag fr[3];
    struct xf_netfront_tx t;
    struct xf_gnttab_stats gs0, gs1;

    memset(&bc, 0, sizeof(bc));
    bc.hold_mapped = true;
    world_up_cfg(&bc);
    fcfg_default(&c);
    nf_up(&c);
    pages = xf_plat_page_alloc(8);
    ck_assert_ptr_nonnull(pages);
    fill(pages, 8 * 4096, 9);
    xf_gnttab_get_stats(gt, &gs0);
    /* Packet A: 3 fragments, the middle one crossing a page: 4 slots. */
    fr[0].data = pages + 100;
    fr[0].len = 200;
    fr[1].data = pages + 4096 + 4000;
    fr[1].len = 3000;
    fr[2].data = pages + 3 * 4096;
    fr[2].len = 60;
    memset(&t, 0, sizeof(t));
    t.frags = fr;
    t.nfrags = 3;
    t.flags = XF_NETFRONT_TX_ZEROCOPY;
    t.cookie = (void *)1;
    ck_assert_int_eq(xf_netfront_send(nf, 0, &t), 0);
    /* Packet B: one page-aligned fragment of 1000 bytes (copied head only). */
    fr[0].data = pages + 5 * 4096;
    fr[0].len = 100;
    t.nfrags = 1;
    t.cookie = (void *)2;
    ck_assert_int_eq(xf_netfront_send(nf, 0, &t), 0);
    xf_gnttab_get_stats(gt, &gs1);
    ck_assert_uint_eq(gs1.granted_refs, gs0.granted_refs + 5);
    ck_assert_int_eq(xf_netback_tx_process(be, 0), 2);
    pump();
    (void)xf_netfront_poll(nf);
    /* B fits the copied head: done. A's mapped slots are held. */
    ck_assert_uint_eq(ndone, 1);
    ck_assert_ptr_eq(dones[0].cookie, (void *)2);
    ck_assert_uint_eq(xf_netback_tx_held(be, 0), 4);
    {
        struct xf_netback_pkt p;
        unsigned char want[3260];

        memcpy(want, pages + 100, 200);
        memcpy(want + 200, pages + 4096 + 4000, 3000);
        memcpy(want + 3200, pages + 3 * 4096, 60);
        ck_assert(xf_netback_tx_take(be, &p));
        ck_assert_uint_eq(p.len, 3260);
        ck_assert_uint_eq(p.slots, 4);
        ck_assert(memcmp(p.data, want, 3260) == 0);
        xf_netback_pkt_free(&p);
        ck_assert(xf_netback_tx_take(be, &p));
        ck_assert_uint_eq(p.len, 100);
        ck_assert(memcmp(p.data, pages + 5 * 4096, 100) == 0);
        xf_netback_pkt_free(&p);
    }
    /* "dom0 frees the skb": newest slot first. Not complete until all are. */
    ck_assert_int_eq(xf_netback_tx_release(be, 0, 3, true), 3);
    pump();
    (void)xf_netfront_poll(nf);
    ck_assert_uint_eq(ndone, 1);
    ck_assert_int_eq(xf_netback_tx_release(be, 0, 1, true), 1);
    pump();
    (void)xf_netfront_poll(nf);
    ck_assert_uint_eq(ndone, 2);
    ck_assert_ptr_eq(dones[1].cookie, (void *)1);
    ck_assert_int_eq(dones[1].status, 0);
    /* Every zero-copy grant is revoked by completion time. */
    xf_gnttab_get_stats(gt, &gs1);
    ck_assert_uint_eq(gs1.granted_refs, gs0.granted_refs);
    xf_plat_page_free(pages, 8);
    world_down();
}
END_TEST

/* More slots than netback accepts, or a short first slot: linearised. */
START_TEST(test_tx_linearise)
{
    struct xf_netfront_frag fr[40];
    struct xf_netfront_tx t;
    struct xf_netfront_stats st;
    struct xf_netback_pkt p;
    unsigned char *pages;
    unsigned char want[40 * 30];

    setup_default();
    pages = xf_plat_page_alloc(40);
    ck_assert_ptr_nonnull(pages);
    fill(pages, 40 * 4096, 5);
    /* 40 fragments of 30 bytes, each in its own page: 40 slots > 18. */
    for (unsigned i = 0; i < 40; i++) {
        fr[i].data = pages + i * 4096 + 7;
        fr[i].len = 30;
        memcpy(want + i * 30, fr[i].data, 30);
    }
    memset(&t, 0, sizeof(t));
    t.frags = fr;
    t.nfrags = 40;
    t.flags = XF_NETFRONT_TX_ZEROCOPY;
    ck_assert_int_eq(xf_netfront_send(nf, 0, &t), 0);
    /* A first slot of 10 bytes (ends at a page end): linearised too. */
    fr[0].data = pages + 4096 - 10;
    fr[0].len = 100;
    t.nfrags = 1;
    ck_assert_int_eq(xf_netfront_send(nf, 0, &t), 0);
    ck_assert_int_eq(xf_netback_tx_process(be, 0), 2);
    ck_assert(xf_netback_tx_take(be, &p));
    ck_assert_uint_eq(p.len, sizeof(want));
    ck_assert_uint_eq(p.slots, 1);
    ck_assert(memcmp(p.data, want, sizeof(want)) == 0);
    xf_netback_pkt_free(&p);
    ck_assert(xf_netback_tx_take(be, &p));
    ck_assert_uint_eq(p.len, 100);
    ck_assert(memcmp(p.data, pages + 4096 - 10, 100) == 0);
    xf_netback_pkt_free(&p);
    pump();
    (void)xf_netfront_poll(nf);
    xf_netfront_stats(nf, 0, &st);
    ck_assert_uint_eq(st.tx_linearised, 2);
    ck_assert_uint_eq(ndone, 2);
    xf_plat_page_free(pages, 40);
    world_down();
}
END_TEST

/* -EAGAIN when the ring is full, tx_space when it drains; never a spin. */
START_TEST(test_tx_backpressure)
{
    unsigned sent = 0;
    int rc;

    setup_default();
    xf_netback_tx_stall(be, true);
    while ((rc = send_pattern(0, 1514, 1, sent, 0, NULL)) == 0)
        sent++;
    ck_assert_int_eq(rc, -XF_EAGAIN);
    ck_assert_uint_eq(sent, 256);              /* one slot each, 256 ids */
    ck_assert_int_eq(send_pattern(0, 1514, 1, 0, 0, NULL), -XF_EAGAIN);
    pump();
    ck_assert_uint_eq(nspace, 0);
    xf_netback_tx_stall(be, false);
    ck_assert_int_eq(xf_netback_tx_process(be, 0), 256);
    pump();
    (void)xf_netfront_poll(nf);
    ck_assert_uint_eq(nspace, 1);
    ck_assert_uint_eq(ndone, 256);
    ck_assert_uint_eq(xf_netback_tx_queued(be), 256);
    ck_assert_int_eq(send_pattern(0, 1514, 1, 0, 0, NULL), 0);
    world_down();
}
END_TEST

/* Half-way tx events versus one per response. */
static unsigned tx_events_for(bool final)
{
    struct xf_netfront_config c;
    struct xf_netfront_stats st;
    struct xf_netback_config bc;

    memset(&bc, 0, sizeof(bc));
    bc.tx_batch = 8;
    world_up_cfg(&bc);
    fcfg_default(&c);
    c.tx_event_final = final;
    nf_up(&c);
    for (unsigned round = 0; round < 8; round++) {
        for (unsigned i = 0; i < 64; i++)
            ck_assert_int_eq(send_pattern(0, 60, 1, i, 0, NULL), 0);
        /* netback answers in small batches, as under load */
        for (unsigned b = 0; b < 8; b++) {
            ck_assert_int_ge(xf_netback_tx_process(be, 0), 0);
            pump();
        }
    }
    (void)xf_netfront_poll(nf);
    ck_assert_uint_eq(ndone, 8 * 64);
    xf_netfront_stats(nf, 0, &st);
    world_down();
    return (unsigned)st.events_tx;
}

START_TEST(test_tx_event_modes)
{
    unsigned half = tx_events_for(false), every = tx_events_for(true);

    /* 8 rounds of 64 packets answered 8 at a time: one event per push
     * with rsp_cons + 1, about log2 of the window with half-way. */
    if (getenv("XF_NETFRONT_VERBOSE"))
        fprintf(stderr, "tx completion events for 512 packets: half-way %u, every %u\n",
                half, every);
    ck_assert_uint_eq(every, 64);
    ck_assert_uint_le(half, every / 2);
}
END_TEST

START_TEST(test_rx_sizes_flags)
{
    static unsigned char buf[65535];
    static const uint32_t sizes[] = { 14, 60, 1514, 4096, 4097, 9000, 65535 };
    struct xf_netfront_stats st;

    setup_default();
    for (unsigned i = 0; i < XF_ARRAY_SIZE(sizes); i++) {
        fill(buf, sizes[i], 20 + i);
        ck_assert_int_eq(xf_netback_rx_inject(be, 0, buf, sizes[i],
                                              i % 2 ? NETRXF_csum_blank | NETRXF_data_validated
                                                    : NETRXF_data_validated, 0, 0), 0);
    }
    fill(buf, 60000, 40);
    ck_assert_int_eq(xf_netback_rx_inject(be, 0, buf, 60000, 0, XEN_NETIF_GSO_TYPE_TCPV6, 1440), 0);
    ck_assert_int_eq(xf_netback_rx_process(be, 0), (int)XF_ARRAY_SIZE(sizes) + 1);
    pump();
    ck_assert_uint_eq(nrx, XF_ARRAY_SIZE(sizes) + 1);
    for (unsigned i = 0; i < XF_ARRAY_SIZE(sizes); i++) {
        ck_assert_uint_eq(rxs[i].len, sizes[i]);
        ck_assert(check_pattern(rxs[i].data, sizes[i], 20 + i));
        ck_assert_uint_eq(rxs[i].nfrags, (sizes[i] + 4095) / 4096);
        ck_assert_uint_eq(rxs[i].flags, i % 2 ? XF_NETFRONT_RX_CSUM_BLANK |
                                                XF_NETFRONT_RX_DATA_VALIDATED
                                              : XF_NETFRONT_RX_DATA_VALIDATED);
        ck_assert_uint_eq(rxs[i].gso_type, 0);
    }
    ck_assert_uint_eq(rxs[7].len, 60000);
    ck_assert_uint_eq(rxs[7].gso_type, XF_NETFRONT_GSO_TCPV6);
    ck_assert_uint_eq(rxs[7].gso_size, 1440);
    ck_assert(check_pattern(rxs[7].data, 60000, 40));
    xf_netfront_stats(nf, 0, &st);
    ck_assert_uint_eq(st.rx_packets, 8);
    /* Every buffer was reposted. */
    ck_assert_uint_eq(xf_netfront_rx_posted(nf, 0), 256);
    world_down();
}
END_TEST

/* QEMU's offset 2; buffers kept by the caller and returned later; the
 * ring refilled from what remains meanwhile. */
START_TEST(test_rx_offset_and_keep)
{
    struct xf_netback_config bc;
    struct xf_netfront_config c;
    unsigned char buf[1514];

    memset(&bc, 0, sizeof(bc));
    bc.rx_offset = 2;
    world_up_cfg(&bc);
    fcfg_default(&c);
    c.rx_spare = 32;
    nf_up(&c);
    rx_keep = true;
    for (unsigned i = 0; i < 100; i++) {
        fill(buf, sizeof(buf), i);
        ck_assert_int_eq(xf_netback_rx_inject(be, 0, buf, sizeof(buf), 0, 0, 0), 0);
    }
    for (unsigned r = 0; r < 4 && nrx < 100; r++)
        serve(0);
    ck_assert_uint_eq(nrx, 100);
    ck_assert_uint_eq(nkept, 100);
    for (unsigned i = 0; i < 100; i++)
        ck_assert(check_pattern(rxs[i].data, sizeof(buf), i));
    /* 288 pages: 100 kept, so at most 188 posted now. */
    ck_assert_uint_le(xf_netfront_rx_posted(nf, 0), 188);
    ck_assert_int_eq(xf_netfront_rx_return(nf, kept[0]), 0);
    ck_assert_int_eq(xf_netfront_rx_return(nf, kept[0]), -XF_EINVAL);   /* twice */
    ck_assert_int_eq(xf_netfront_rx_return(nf, 0xdead), -XF_EINVAL);
    for (unsigned i = 1; i < nkept; i++)
        ck_assert_int_eq(xf_netfront_rx_return(nf, kept[i]), 0);
    nkept = 0;
    ck_assert_uint_eq(xf_netfront_rx_posted(nf, 0), 256);
    world_down();
}
END_TEST

START_TEST(test_multiqueue)
{
    struct xf_netback_config bc;
    struct xf_netfront_config c;
    struct xf_netfront_info in;
    unsigned char buf[1000];
    char v[32], dir[160];

    memset(&bc, 0, sizeof(bc));
    bc.max_queues = 4;
    world_up_cfg(&bc);
    fcfg_default(&c);
    c.max_queues = 8;
    nf_up(&c);
    ck_assert_int_eq(xf_netfront_info(nf, &in), 0);
    ck_assert_uint_eq(in.nr_queues, 4);
    ck_assert_uint_eq(xf_netback_nr_queues(be), 4);
    snprintf(dir, sizeof(dir), "%s/queue-3", xf_netback_frontend_dir(be));
    ck_assert(xs_get(dir, "tx-ring-ref", v, sizeof(v)));
    ck_assert(xs_get(dir, "event-channel-rx", v, sizeof(v)));
    ck_assert(!xs_get(xf_netback_frontend_dir(be), "tx-ring-ref", v, sizeof(v)));
    for (unsigned q = 0; q < 4; q++) {
        ck_assert_int_eq(send_pattern(q, 500 + q, 2, q, 0, NULL), 0);
        fill(buf, sizeof(buf), 50 + q);
        ck_assert_int_eq(xf_netback_rx_inject(be, q, buf, 900 + q, 0, 0, 0), 0);
    }
    for (unsigned q = 0; q < 4; q++)
        serve(q);
    (void)xf_netfront_poll(nf);
    ck_assert_uint_eq(ndone, 4);
    ck_assert_uint_eq(nrx, 4);
    for (unsigned i = 0; i < 4; i++) {
        struct xf_netback_pkt p;
        struct xf_netfront_stats st;

        ck_assert(xf_netback_tx_take(be, &p));
        ck_assert_uint_eq(p.len, 500 + p.queue);
        ck_assert(check_pattern(p.data, p.len, p.queue));
        xf_netback_pkt_free(&p);
        ck_assert_uint_eq(rxs[i].len, 900 + rxs[i].queue);
        ck_assert(check_pattern(rxs[i].data, rxs[i].len, 50 + rxs[i].queue));
        xf_netfront_stats(nf, i, &st);
        ck_assert_uint_eq(st.tx_packets, 1);
        ck_assert_uint_eq(st.rx_packets, 1);
    }
    world_down();
}
END_TEST

/* One event channel: the backend without split channels, or we refuse. */
START_TEST(test_single_channel)
{
    for (int variant = 0; variant < 2; variant++) {
        struct xf_netback_config bc;
        struct xf_netfront_config c;
        struct xf_netfront_info in;
        evtchn_port_t ptx, prx;
        unsigned char buf[200];
        char v[32];

        memset(&bc, 0, sizeof(bc));
        bc.no_split = variant == 0;
        world_up_cfg(&bc);
        fcfg_default(&c);
        c.no_split = variant == 1;
        nf_up(&c);
        ck_assert_int_eq(xf_netfront_info(nf, &in), 0);
        ck_assert(!in.split);
        ck_assert(!xf_netback_split(be));
        ck_assert_int_eq(xf_netfront_ports(nf, 0, &ptx, &prx), 0);
        ck_assert_uint_eq(ptx, prx);
        ck_assert(xs_get(xf_netback_frontend_dir(be), "event-channel", v, sizeof(v)));
        ck_assert_int_eq(send_pattern(0, 100, 1, 1, 0, NULL), 0);
        fill(buf, sizeof(buf), 2);
        ck_assert_int_eq(xf_netback_rx_inject(be, 0, buf, sizeof(buf), 0, 0, 0), 0);
        serve(0);
        ck_assert_uint_eq(ndone, 1);
        ck_assert_uint_eq(nrx, 1);
        take_check(100, 1);
        world_down();
    }
}
END_TEST

/* Without feature-sg: one slot per packet. Without our GSO: refused. */
START_TEST(test_no_sg)
{
    struct xf_netback_config bc;
    struct xf_netfront_config c;
    struct xf_netfront_frag fr = { NULL, 2000 };
    struct xf_netfront_tx t;
    static unsigned char buf[8000];

    memset(&bc, 0, sizeof(bc));
    bc.no_sg = true;
    world_up_cfg(&bc);
    fcfg_default(&c);
    nf_up(&c);
    ck_assert_int_eq(xf_netback_fe_key(be, "feature-sg"), 0);
    ck_assert_int_eq(xf_netback_fe_key(be, "feature-gso-tcpv4"), 0);
    ck_assert_int_eq(send_pattern(0, 4096, 3, 1, 0, NULL), 0);
    ck_assert_int_eq(send_pattern(0, 4097, 1, 1, 0, NULL), -XF_EMSGSIZE);
    fr.data = buf;
    memset(&t, 0, sizeof(t));
    t.frags = &fr;
    t.nfrags = 1;
    t.gso_type = XF_NETFRONT_GSO_TCPV4;
    t.gso_size = 1000;
    ck_assert_int_eq(xf_netfront_send(nf, 0, &t), -XF_EOPNOTSUPP);
    serve(0);
    take_check(4096, 1);
    world_down();
}
END_TEST

START_TEST(test_mcast)
{
    static const uint8_t m[6] = { 0x01, 0x00, 0x5e, 0, 0, 1 };

    setup_default();
    ck_assert_int_eq(xf_netfront_mcast(nf, m, true, (void *)7), 0);
    serve(0);
    (void)xf_netfront_poll(nf);
    ck_assert_uint_eq(xf_netback_mcast_count(be), 1);
    ck_assert_uint_eq(ndone, 1);
    ck_assert_int_eq(dones[0].status, 0);
    ck_assert_int_eq(xf_netfront_mcast(nf, m, false, (void *)8), 0);
    serve(0);
    (void)xf_netfront_poll(nf);
    ck_assert_uint_eq(xf_netback_mcast_count(be), 0);
    ck_assert_uint_eq(ndone, 2);
    world_down();
}
END_TEST

/* Threads: the back end serves on its own, the guest waits for events. */
START_TEST(test_auto_traffic)
{
    struct xf_netback_config bc;
    struct xf_netfront_config c;
    unsigned char buf[1514];
    unsigned n = getenv("XF_VALGRIND") ? 200 : 3000;
    unsigned sent = 0;
    uint64_t dl;

    memset(&bc, 0, sizeof(bc));
    bc.auto_data = true;
    bc.no_keep = true;
    world_up_cfg(&bc);
    fcfg_default(&c);
    nf_up(&c);
    dl = DL(20000);
    while ((ndone < n || nrx < 200) && xf_plat_now_ns() < dl) {
        if (sent < n && send_pattern(0, 1514, 1, sent, 0, NULL) == 0)
            sent++;
        if (nrx + xf_netback_rx_queued(be, 0) < 200) {
            fill(buf, sizeof(buf), 1);
            (void)xf_netback_rx_inject(be, 0, buf, sizeof(buf), 0, 0, 0);
        }
        if (sent == n || (sent % 64) == 0)
            (void)xf_plat_wait(DL(1));
        (void)xf_netfront_poll(nf);
    }
    ck_assert_uint_eq(ndone, n);
    ck_assert_uint_ge(nrx, 200);
    for (unsigned i = 0; i < ndone; i++)
        ck_assert_int_eq(dones[i].status, 0);
    world_down();
}
END_TEST

/* A small budget: each handler call does bounded work, what is left is
 * taken at the next event or poll, nothing lost. */
START_TEST(test_budget)
{
    struct xf_netfront_config c;
    struct xf_netfront_stats st;
    unsigned char buf[300];

    world_up_cfg(NULL);
    fcfg_default(&c);
    c.budget = 4;
    nf_up(&c);
    for (unsigned i = 0; i < 100; i++) {
        fill(buf, sizeof(buf), i);
        ck_assert_int_eq(xf_netback_rx_inject(be, 0, buf, sizeof(buf), 0, 0, 0), 0);
        ck_assert_int_eq(send_pattern(0, 200, 1, i, 0, NULL), 0);
    }
    ck_assert_int_eq(xf_netback_rx_process(be, 0), 64);
    ck_assert_int_eq(xf_netback_tx_process(be, 0), 100);
    /* Each handler run does 4 rounds of 4 and raises its own port when
     * responses are left: all 64 arrive with no push from the back end
     * (which has answered every request it saw and waits for our refill:
     * without the raise both sides would wait until a poll), and no poll,
     * in runs of at most 16 (so at least 3 with the budget spent). */
    pump();
    ck_assert_uint_eq(nrx, 64);
    ck_assert_uint_eq(ndone, 100);
    xf_netfront_stats(nf, 0, &st);
    ck_assert_uint_ge(st.budget_spent, 3 + 3);   /* rx 64/16, tx 100/32 */
    ck_assert_int_eq(xf_netback_rx_process(be, 0), 36);
    pump();
    ck_assert_uint_eq(nrx, 100);
    for (unsigned i = 0; i < 100; i++)
        ck_assert(check_pattern(rxs[i].data, sizeof(buf), i));
    ck_assert_uint_eq(xf_netfront_rx_posted(nf, 0), 256);
    world_down();
}
END_TEST

/* XF_NETFRONT_TX_MORE: produced but invisible to the back end until a send
 * without it, a poll, or a refused send (never stuck). */
START_TEST(test_tx_more_batches)
{
    struct xf_netfront_stats st;
    uint64_t kicks;
    int rc;
    unsigned n = 0;

    setup_default();
    for (unsigned i = 0; i < 5; i++)
        ck_assert_int_eq(send_pattern(0, 200 + i, 1, i, XF_NETFRONT_TX_MORE, NULL), 0);
    ck_assert_uint_eq(xf_netfront_tx_inflight(nf, 0), 5);
    ck_assert_int_eq(xf_netback_tx_process(be, 0), 0);      /* nothing visible yet */
    ck_assert_int_eq(send_pattern(0, 300, 1, 9, 0, NULL), 0);
    ck_assert_int_eq(xf_netback_tx_process(be, 0), 6);      /* the batch, in order */
    for (unsigned i = 0; i < 5; i++)
        take_check(200 + i, i);
    take_check(300, 9);
    pump();
    (void)xf_netfront_poll(nf);
    ck_assert_uint_eq(ndone, 6);
    /* A batch left open: the next poll pushes it (and notifies). */
    xf_netfront_stats(nf, 0, &st);
    kicks = st.notify_tx;
    ck_assert_int_eq(send_pattern(0, 100, 1, 1, XF_NETFRONT_TX_MORE, NULL), 0);
    ck_assert_int_eq(xf_netback_tx_process(be, 0), 0);
    xf_netfront_stats(nf, 0, &st);
    ck_assert_uint_eq(st.notify_tx, kicks);
    (void)xf_netfront_poll(nf);
    xf_netfront_stats(nf, 0, &st);
    ck_assert_uint_eq(st.notify_tx, kicks + 1);
    ck_assert_int_eq(xf_netback_tx_process(be, 0), 1);
    take_check(100, 1);
    pump();
    (void)xf_netfront_poll(nf);
    /* A ring filled by MORE sends: the refused send pushes them all. */
    ndone = 0;
    while ((rc = send_pattern(0, 60, 1, 2, XF_NETFRONT_TX_MORE, NULL)) == 0)
        n++;
    ck_assert_int_eq(rc, -XF_EAGAIN);
    ck_assert_int_eq(xf_netback_tx_process(be, 0), (int)n);
    pump();
    (void)xf_netfront_poll(nf);
    ck_assert_uint_eq(ndone, n);
    ck_assert_uint_ge(nspace, 1);
    world_down();
}
END_TEST

/* rx_event_batch: the back end's push notifies only once that many
 * responses are there; fewer wait for the embedder's poll. The default
 * wakes at the first response. */
static void rx_frames(unsigned n, unsigned seed)
{
    unsigned char buf[300];

    for (unsigned i = 0; i < n; i++) {
        fill(buf, sizeof(buf), seed + i);
        ck_assert_int_eq(xf_netback_rx_inject(be, 0, buf, sizeof(buf), 0, 0, 0), 0);
    }
    ck_assert_int_eq(xf_netback_rx_process(be, 0), (int)n);
}

START_TEST(test_rx_event_batch)
{
    struct xf_netfront_config c;
    struct xf_netfront_stats s0, s1;

    world_up_cfg(NULL);
    fcfg_default(&c);
    c.rx_event_batch = 8;
    nf_up(&c);
    /* The ring starts armed at the first response (rsp_event 1). */
    rx_frames(1, 0);
    pump();
    ck_assert_uint_eq(nrx, 1);
    xf_netfront_stats(nf, 0, &s0);
    /* 3 < 8: no event; the frames wait for the poll. */
    rx_frames(3, 1);
    pump();
    ck_assert_uint_eq(nrx, 1);
    xf_netfront_stats(nf, 0, &s1);
    ck_assert_uint_eq(s1.events_rx, s0.events_rx);
    ck_assert_int_gt(xf_netfront_poll(nf), 0);
    ck_assert_uint_eq(nrx, 4);
    /* 8 responses in one push: one event, all taken by the handler. */
    rx_frames(8, 4);
    pump();
    ck_assert_uint_eq(nrx, 12);
    xf_netfront_stats(nf, 0, &s0);
    ck_assert_uint_eq(s0.events_rx, s1.events_rx + 1);
    for (unsigned i = 0; i < 12; i++)
        ck_assert(check_pattern(rxs[i].data, 300, i));
    ck_assert_uint_eq(xf_netfront_rx_posted(nf, 0), 256);
    world_down();

    /* The default: a lone frame is delivered by its own event. */
    world_up_cfg(NULL);
    fcfg_default(&c);
    nf_up(&c);
    for (unsigned i = 0; i < 3; i++) {
        rx_frames(1, i);
        pump();
        ck_assert_uint_eq(nrx, i + 1);
    }
    world_down();
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("netfront_data");
    TCase *tc = tcase_create("data");

    tcase_set_timeout(tc, 180);
    tcase_add_test(tc, test_negotiation);
    tcase_add_test(tc, test_tx_copy_sizes);
    tcase_add_test(tc, test_tx_csum_gso);
    tcase_add_test(tc, test_tx_zerocopy_out_of_order);
    tcase_add_test(tc, test_tx_linearise);
    tcase_add_test(tc, test_tx_backpressure);
    tcase_add_test(tc, test_tx_event_modes);
    tcase_add_test(tc, test_rx_sizes_flags);
    tcase_add_test(tc, test_rx_offset_and_keep);
    tcase_add_test(tc, test_multiqueue);
    tcase_add_test(tc, test_single_channel);
    tcase_add_test(tc, test_no_sg);
    tcase_add_test(tc, test_mcast);
    tcase_add_test(tc, test_auto_traffic);
    tcase_add_test(tc, test_budget);
    tcase_add_test(tc, test_tx_more_batches);
    tcase_add_test(tc, test_rx_event_batch);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return xf_check_run(suite());
}
