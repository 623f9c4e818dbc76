/*
 * Multicast control against the simulated netback: the features (static,
 * dynamic, none, garbage), request-multicast-control at connect and at run
 * time, the MCAST_ADD/DEL control requests and the back end's filter as
 * Linux 6.1 keeps it (64 entries, duplicates, freed at disconnect), and
 * hostile answers to the control requests.
 */
#include "netfront_test.h"

static const uint8_t grp1[6] = { 0x01, 0x00, 0x5e, 0x00, 0x00, 0x01 };
static const uint8_t grp2[6] = { 0x33, 0x33, 0xff, 0x00, 0x00, 0x02 };
static const uint8_t bcast[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
static const uint8_t ucast[6] = { 0x00, 0x16, 0x3e, 0x00, 0x00, 0x09 };

static void up(const struct xf_netback_config *bc, bool filter)
{
    struct xf_netfront_config c;

    world_up_cfg(bc);
    fcfg_default(&c);
    c.mcast_filter = filter;
    nf_up(&c);
}

/* Run the back end's tx side and let the guest reap. */
static void settle(void)
{
    (void)xf_netback_tx_process(be, 0);
    pump();
    (void)xf_netfront_poll(nf);
}

/* One add or delete, served; returns its tx_done status. */
static int mcast_op(const uint8_t mac[6], bool add)
{
    unsigned before = ndone;

    ck_assert_int_eq(xf_netfront_mcast(nf, mac, add, (void *)(uintptr_t)(0x100 + ndone)), 0);
    settle();
    ck_assert_uint_eq(ndone, before + 1);
    ck_assert_ptr_eq(dones[before].cookie, (void *)(uintptr_t)(0x100 + before));
    return dones[before].status;
}

/* Inject a 64-byte frame to dst; returns inject's result, and whether it
 * reached the guest in *got. */
static int deliver_to(const uint8_t dst[6], bool *got)
{
    unsigned char f[64];
    unsigned before = nrx;
    int rc;

    memset(f, 0x5a, sizeof(f));
    memcpy(f, dst, 6);
    rc = xf_netback_rx_inject(be, 0, f, sizeof(f), 0, 0, 0);
    (void)xf_netback_rx_process(be, 0);
    pump();
    (void)xf_netfront_poll(nf);
    *got = nrx == before + 1 && memcmp(rxs[before].data, dst, 6) == 0;
    ck_assert_uint_le(nrx, before + 1);
    return rc;
}

static bool wait_filtering_ms(bool on, unsigned ms)
{
    uint64_t dl = DL(ms);

    while (xf_netback_mcast_filtering(be) != on && xf_plat_now_ns() < dl)
        (void)xf_plat_wait(xf_plat_now_ns() + 200000);
    return xf_netback_mcast_filtering(be) == on;
}

static bool wait_filtering(bool on)
{
    return wait_filtering_ms(on, 2000);
}

START_TEST(test_mcast_features_dynamic)
{
    struct xf_netfront_info in;

    up(NULL, false);
    ck_assert_int_eq(xf_netfront_info(nf, &in), 0);
    ck_assert(in.mcast_control);
    ck_assert(in.dynamic_mcast);
    ck_assert(!in.mcast_filter);
    /* written 0, so a filter of an earlier connection cannot linger */
    ck_assert_int_eq(xf_netback_fe_key(be, "request-multicast-control"), 0);
    ck_assert(!xf_netback_mcast_filtering(be));
    world_down();
}
END_TEST

/* Asked for at connect: unlisted groups dropped, listed ones, broadcast
 * and unicast delivered. */
START_TEST(test_mcast_filter_at_connect)
{
    struct xf_netfront_info in;
    struct xf_netfront_stats st;
    struct xf_netback_stats bst;
    bool got;

    up(NULL, true);
    ck_assert_int_eq(xf_netfront_info(nf, &in), 0);
    ck_assert(in.mcast_filter);
    ck_assert_int_eq(xf_netback_fe_key(be, "request-multicast-control"), 1);
    ck_assert(xf_netback_mcast_filtering(be));
    ck_assert_int_eq(deliver_to(grp1, &got), -2);
    ck_assert(!got);
    ck_assert_int_eq(deliver_to(bcast, &got), 0);
    ck_assert(got);
    ck_assert_int_eq(deliver_to(ucast, &got), 0);
    ck_assert(got);
    ck_assert_int_eq(mcast_op(grp1, true), 0);
    ck_assert_uint_eq(xf_netback_mcast_has(be, grp1), 1);
    ck_assert_int_eq(deliver_to(grp1, &got), 0);
    ck_assert(got);
    ck_assert_int_eq(deliver_to(grp2, &got), -2);
    ck_assert(!got);
    ck_assert_int_eq(mcast_op(grp1, false), 0);
    ck_assert_uint_eq(xf_netback_mcast_count(be), 0);
    ck_assert_int_eq(deliver_to(grp1, &got), -2);
    ck_assert(!got);
    xf_netfront_stats(nf, 0, &st);
    ck_assert_uint_eq(st.mcast_requests, 2);
    ck_assert_uint_eq(st.mcast_refused, 0);
    ck_assert_uint_eq(st.tx_packets, 0);          /* control requests are not packets */
    xf_netback_stats(be, 0, &bst);
    ck_assert_uint_eq(bst.rx_mcast_dropped, 3);
    ck_assert_uint_eq(bst.mcast_add, 1);
    ck_assert_uint_eq(bst.mcast_del, 1);
    world_down();
}
END_TEST

/* Dynamic: on and off while connected; the setting outlives a reconnect,
 * the back end's list does not (Linux frees it at disconnect). */
START_TEST(test_mcast_dynamic_toggle_and_reconnect)
{
    struct xf_netfront_info in;
    bool got;

    up(NULL, false);
    ck_assert_int_eq(mcast_op(grp2, true), 0);
    ck_assert_int_eq(deliver_to(grp1, &got), 0);
    ck_assert(got);                               /* flooded: no filter yet */
    ck_assert_int_eq(xf_netfront_mcast_filter(nf, true, DL(2000)), 0);
    ck_assert_int_eq(xf_netfront_info(nf, &in), 0);
    ck_assert(in.mcast_filter);
    ck_assert(wait_filtering(true));
    ck_assert_int_eq(deliver_to(grp1, &got), -2);
    ck_assert(!got);
    ck_assert_int_eq(deliver_to(grp2, &got), 0);
    ck_assert(got);
    ck_assert_int_eq(xf_netfront_mcast_filter(nf, true, DL(2000)), 0);   /* no change */
    ck_assert_int_eq(xf_netfront_mcast_filter(nf, false, DL(2000)), 0);
    ck_assert(wait_filtering(false));
    ck_assert_int_eq(deliver_to(grp1, &got), 0);
    ck_assert(got);
    ck_assert_int_eq(xf_netfront_mcast_filter(nf, true, DL(2000)), 0);
    ck_assert(wait_filtering(true));
    /* Reconnect: the filter is asked for again, the list starts empty. */
    ck_assert_int_eq(xf_netfront_disconnect(nf, DL(2000)), 0);
    ck_assert(xf_netback_wait_connected(be, false, DL(2000)));
    ck_assert_uint_eq(xf_netback_mcast_count(be), 0);
    ck_assert_int_eq(xf_netfront_connect(nf, DL(5000)), 0);
    ck_assert(xf_netback_wait_connected(be, true, DL(2000)));
    ck_assert_int_eq(xf_netback_fe_key(be, "request-multicast-control"), 1);
    ck_assert(xf_netback_mcast_filtering(be));
    ck_assert_uint_eq(xf_netback_mcast_count(be), 0);
    ck_assert_int_eq(deliver_to(grp2, &got), -2);
    ck_assert(!got);
    world_down();
}
END_TEST

/* Static only: sampled at connect, a change later is refused; the list can
 * still be amended. */
START_TEST(test_mcast_static)
{
    struct xf_netback_config bc;
    struct xf_netfront_info in;
    bool got;

    memset(&bc, 0, sizeof(bc));
    bc.static_mcast = true;
    up(&bc, true);
    ck_assert_int_eq(xf_netfront_info(nf, &in), 0);
    ck_assert(in.mcast_control);
    ck_assert(!in.dynamic_mcast);
    ck_assert(in.mcast_filter);
    ck_assert(xf_netback_mcast_filtering(be));
    ck_assert_int_eq(xf_netfront_mcast_filter(nf, false, DL(2000)), -XF_EOPNOTSUPP);
    ck_assert_int_eq(xf_netfront_mcast_filter(nf, true, DL(2000)), 0);
    ck_assert_int_eq(xf_netback_fe_key(be, "request-multicast-control"), 1);
    ck_assert_int_eq(mcast_op(grp1, true), 0);
    ck_assert_int_eq(deliver_to(grp1, &got), 0);
    ck_assert(got);
    ck_assert_int_eq(deliver_to(grp2, &got), -2);
    ck_assert(!got);
    world_down();

    /* Static, filter off at connect: turning it on is refused too, and a
     * key written behind the library's back is ignored by that back end. */
    up(&bc, false);
    ck_assert_int_eq(xf_netfront_mcast_filter(nf, true, DL(2000)), -XF_EOPNOTSUPP);
    xs_set(xf_netback_frontend_dir(be), "request-multicast-control", "1");
    /* (the back end polls every 0.3 ms: 100 ms is 300 chances to be wrong) */
    ck_assert(!wait_filtering_ms(true, 100));
    world_down();
}
END_TEST

/* A back end without the feature: nothing written, nothing sent. */
START_TEST(test_mcast_unsupported)
{
    struct xf_netback_config bc;
    struct xf_netfront_info in;
    struct xf_netfront_stats st;

    memset(&bc, 0, sizeof(bc));
    bc.no_mcast = true;
    up(&bc, true);
    ck_assert_int_eq(xf_netfront_info(nf, &in), 0);
    ck_assert(!in.mcast_control);
    ck_assert(!in.dynamic_mcast);
    ck_assert(!in.mcast_filter);
    ck_assert_int_eq(xf_netback_fe_key(be, "request-multicast-control"), -1);
    ck_assert_int_eq(xf_netfront_mcast(nf, grp1, true, NULL), -XF_EOPNOTSUPP);
    ck_assert_int_eq(xf_netfront_mcast(nf, grp1, false, NULL), -XF_EOPNOTSUPP);
    ck_assert_int_eq(xf_netfront_mcast_filter(nf, true, DL(2000)), -XF_EOPNOTSUPP);
    ck_assert_int_eq(xf_netfront_mcast_filter(nf, false, DL(2000)), -XF_EOPNOTSUPP);
    ck_assert_uint_eq(xf_netfront_tx_inflight(nf, 0), 0);
    settle();
    ck_assert_uint_eq(ndone, 0);
    xf_netfront_stats(nf, 0, &st);
    ck_assert_uint_eq(st.mcast_requests, 0);
    world_down();
}
END_TEST

/* Garbage or inconsistent feature keys read as off (N27's rule). */
START_TEST(test_mcast_garbage_features)
{
    struct xf_netfront_info in;
    struct xf_netfront_config c;

    world_up_cfg(NULL);
    xs_set(xf_netback_backend_dir(be), "feature-multicast-control", "2");
    fcfg_default(&c);
    c.mcast_filter = true;
    nf_up(&c);
    ck_assert_int_eq(xf_netfront_info(nf, &in), 0);
    ck_assert(!in.mcast_control);
    /* dynamic without the base feature is not multicast control */
    ck_assert(!in.dynamic_mcast);
    ck_assert_int_eq(xf_netfront_mcast(nf, grp1, true, NULL), -XF_EOPNOTSUPP);
    ck_assert_int_eq(xf_netback_fe_key(be, "request-multicast-control"), -1);
    world_down();

    world_up_cfg(NULL);
    xs_set(xf_netback_backend_dir(be), "feature-multicast-control", NULL);
    fcfg_default(&c);
    nf_up(&c);
    ck_assert_int_eq(xf_netfront_info(nf, &in), 0);
    ck_assert(!in.mcast_control);
    ck_assert(!in.dynamic_mcast);
    ck_assert_int_eq(xf_netfront_mcast_filter(nf, true, DL(2000)), -XF_EOPNOTSUPP);
    world_down();
}
END_TEST

/* Linux's limit: 64 entries, the next add answered ERROR (-XF_ENOSPC
 * here); duplicates are entries; a delete frees one. */
START_TEST(test_mcast_limit_and_duplicates)
{
    struct xf_netfront_stats st;
    uint8_t m[6] = { 0x01, 0x00, 0x5e, 0x00, 0x01, 0x00 };

    up(NULL, true);
    for (unsigned i = 0; i < XF_NETBACK_MCAST_MAX; i++) {
        m[5] = (uint8_t)i;
        ck_assert_int_eq(xf_netfront_mcast(nf, m, true, (void *)(uintptr_t)i), 0);
    }
    settle();
    ck_assert_uint_eq(ndone, XF_NETBACK_MCAST_MAX);
    for (unsigned i = 0; i < ndone; i++)
        ck_assert_int_eq(dones[i].status, 0);
    ck_assert_uint_eq(xf_netback_mcast_count(be), XF_NETBACK_MCAST_MAX);
    ck_assert_int_eq(mcast_op(grp1, true), -XF_ENOSPC);
    ck_assert_uint_eq(xf_netback_mcast_has(be, grp1), 0);
    xf_netfront_stats(nf, 0, &st);
    ck_assert_uint_eq(st.mcast_requests, XF_NETBACK_MCAST_MAX + 1);
    ck_assert_uint_eq(st.mcast_refused, 1);
    m[5] = 7;
    ck_assert_int_eq(mcast_op(m, false), 0);
    ck_assert_int_eq(mcast_op(grp1, true), 0);
    ck_assert_uint_eq(xf_netback_mcast_count(be), XF_NETBACK_MCAST_MAX);
    /* deleting what is not there is fine (netback answers OKAY) */
    ck_assert_int_eq(mcast_op(m, false), 0);
    ck_assert_uint_eq(xf_netback_mcast_count(be), XF_NETBACK_MCAST_MAX);
    m[5] = 8;
    ck_assert_int_eq(mcast_op(m, false), 0);
    ck_assert_uint_eq(xf_netback_mcast_count(be), XF_NETBACK_MCAST_MAX - 1);
    ck_assert_int_eq(mcast_op(grp1, true), 0);
    ck_assert_uint_eq(xf_netback_mcast_has(be, grp1), 2);
    ck_assert_int_eq(mcast_op(grp1, false), 0);
    ck_assert_uint_eq(xf_netback_mcast_has(be, grp1), 1);
    /* the ring still carries data after all those control requests */
    ck_assert_int_eq(send_pattern(0, 1514, 1, 3, 0, (void *)0x55), 0);
    settle();
    take_check(1514, 3);
    world_down();
}
END_TEST

START_TEST(test_mcast_bad_args)
{
    ck_assert_int_eq(xf_netfront_mcast(NULL, grp1, true, NULL), -XF_EINVAL);
    ck_assert_int_eq(xf_netfront_mcast_filter(NULL, true, 0), -XF_EINVAL);
    up(NULL, false);
    ck_assert_int_eq(xf_netfront_mcast(nf, NULL, true, NULL), -XF_EINVAL);
    ck_assert_int_eq(xf_netfront_mcast(nf, ucast, true, NULL), -XF_EINVAL);
    ck_assert_uint_eq(xf_netfront_tx_inflight(nf, 0), 0);
    ck_assert_int_eq(xf_netfront_disconnect(nf, DL(2000)), 0);
    ck_assert_int_eq(xf_netfront_mcast(nf, grp1, true, NULL), -XF_ENOTCONN);
    ck_assert_int_eq(xf_netfront_mcast_filter(nf, true, DL(2000)), -XF_ENOTCONN);
    world_down();
}
END_TEST

/* A full ring refuses a control request like a packet, with tx_space. */
START_TEST(test_mcast_backpressure)
{
    int rc;
    unsigned n = 0;

    up(NULL, false);
    xf_netback_tx_stall(be, true);
    while ((rc = send_pattern(0, 60, 1, 1, 0, NULL)) == 0)
        n++;
    ck_assert_int_eq(rc, -XF_EAGAIN);
    ck_assert_int_eq(xf_netfront_mcast(nf, grp1, true, (void *)1), -XF_EAGAIN);
    xf_netback_tx_stall(be, false);
    settle();
    ck_assert_uint_ge(nspace, 1);
    ck_assert_uint_eq(ndone, n);
    ck_assert_int_eq(mcast_op(grp1, true), 0);
    world_down();
}
END_TEST

/* Hostile answers to control requests. */
static int hook_mode;

static bool tx_hook(void *arg, unsigned queue, unsigned slot, netif_tx_response_t *rsp)
{
    (void)arg;
    (void)queue;
    if (slot != 0)
        return true;
    switch (hook_mode) {
    case 1:
        rsp->status = NETIF_RSP_NULL;         /* hides the data slot */
        break;
    case 2:
        rsp->id = (uint16_t)(rsp->id + 77);   /* an id not in flight */
        break;
    case 3:
        rsp->status = NETIF_RSP_ERROR;
        break;
    case 4:
        rsp->status = 42;                     /* outside netif.h */
        break;
    default:
        break;
    }
    return true;
}

START_TEST(test_mcast_hostile_answers)
{
    struct xf_netfront_stats st;

    /* ERROR to a delete: -XF_EIO (only an add's ERROR means "full"). */
    up(NULL, false);
    xf_netback_set_hooks(be, tx_hook, NULL, NULL);
    hook_mode = 3;
    ck_assert_int_eq(mcast_op(grp1, false), -XF_EIO);
    hook_mode = 4;
    ck_assert_int_eq(mcast_op(grp1, true), -XF_EIO);
    xf_netfront_stats(nf, 0, &st);
    ck_assert_uint_eq(st.tx_bad_status, 1);
    ck_assert_uint_eq(st.mcast_refused, 2);
    ck_assert(xf_netfront_connected(nf));
    world_down();

    /* NULL status for the request itself, or a bad id: broken. */
    for (int mode = 1; mode <= 2; mode++) {
        up(NULL, false);
        xf_netback_set_hooks(be, tx_hook, NULL, NULL);
        hook_mode = mode;
        ck_assert_int_eq(xf_netfront_mcast(nf, grp1, true, (void *)9), 0);
        settle();
        ck_assert_int_eq(xf_netfront_broken(nf), -XF_EPROTO);
        ck_assert_uint_eq(ndone, 1);
        ck_assert_ptr_eq(dones[0].cookie, (void *)9);
        ck_assert_int_eq(dones[0].status, -XF_EPROTO);
        ck_assert_int_eq(xf_netfront_mcast(nf, grp1, true, NULL), -XF_EPROTO);
        ck_assert_int_eq(xf_netfront_mcast_filter(nf, true, DL(2000)), -XF_EPROTO);
        hook_mode = 0;
        world_down();
    }
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("netfront_mcast");
    TCase *tc = tcase_create("mcast");

    tcase_set_timeout(tc, 180);
    tcase_add_test(tc, test_mcast_features_dynamic);
    tcase_add_test(tc, test_mcast_filter_at_connect);
    tcase_add_test(tc, test_mcast_dynamic_toggle_and_reconnect);
    tcase_add_test(tc, test_mcast_static);
    tcase_add_test(tc, test_mcast_unsupported);
    tcase_add_test(tc, test_mcast_garbage_features);
    tcase_add_test(tc, test_mcast_limit_and_duplicates);
    tcase_add_test(tc, test_mcast_bad_args);
    tcase_add_test(tc, test_mcast_backpressure);
    tcase_add_test(tc, test_mcast_hostile_answers);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return xf_check_run(suite());
}
