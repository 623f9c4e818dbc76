/*
 * blkfront against a hostile blkback: the project's hostile-blkback cases
 * K1-K19 (each test below names its case and says what the back end does).
 */
#include "blkfront_test.h"

static struct xf_blkback_config linux_like(void)
{
    struct xf_blkback_config c = {
        .sectors = 16384, .flush = true, .barrier = true, .discard = true,
        .persistent = true, .max_indirect = 256, .max_ring_order = 4, .max_queues = 1,
    };
    return c;
}

static uint8_t buf[1 << 20];

/* A broken device: everything fails, the error is reported once in
 * xenstore, and the back end is told (Closing). */
static void assert_broken(struct xf_blkfront *bf)
{
    char err[128];

    ck_assert_int_eq(xf_blkfront_status(bf), -XF_EIO);
    ck_assert_int_eq(do_io(bf, XF_BLKFRONT_READ, 0, 0, buf, 4096), -XF_EIO);
    ck_assert_int_eq(xf_blkfront_service(bf, DEADLINE_MS(5000)), -XF_EIO);
    ck_assert_int_gt(node_read(fe, "error", err, sizeof(err)), 0);
    ck_assert_int_eq(node_int(fe, "state"), XenbusStateClosing);
    ck_assert(!xf_blkfront_needs_service(bf));
    ck_assert_int_eq(xf_blkfront_poll(bf), -XF_EIO);
}

static void close_and_check(struct xf_blkfront *bf)
{
    ck_assert_int_eq(xf_blkfront_close(bf, DEADLINE_MS(5000)), 0);
    /* The back end unmaps what it kept when it disconnects. */
    {
        uint64_t deadline = DEADLINE_MS(5000);

        while (xf_blkback_state(bb) != XenbusStateClosed && xf_plat_now_ns() < deadline)
            usleep(200);
    }
    assert_released();
}

/* One evil response to a 4 KiB write; the device must break. */
static void breaks_on(enum xf_blkback_evil mode, bool indirect, const struct xf_blkfront_config *fc)
{
    struct xf_blkback_config bc = linux_like();
    struct xf_blkfront *bf;
    size_t len = indirect ? 65536 : 4096;

    world_up(&bc);
    bf = open_dev(fc);
    fill(buf, len, 1);
    ck_assert_int_eq(do_io(bf, XF_BLKFRONT_WRITE, 0, 0, buf, len), 0);
    xf_blkback_evil(bb, mode, 0, -1, 1);
    ck_assert_int_eq(do_io(bf, indirect ? XF_BLKFRONT_READ : XF_BLKFRONT_WRITE, 0, 64, buf, len),
                     -XF_EIO);
    ck_assert(logged("blkfront"));
    assert_broken(bf);
    close_and_check(bf);
    world_down();
}

START_TEST(test_k1_id_out_of_range)
{
    breaks_on(XF_BB_EVIL_ID_RANGE, false, NULL);
    ck_assert(logged("no outstanding request"));
}
END_TEST

START_TEST(test_k2_duplicate_id)
{
    breaks_on(XF_BB_EVIL_ID_DUP, false, NULL);
}
END_TEST

START_TEST(test_k2_unknown_id)
{
    breaks_on(XF_BB_EVIL_ID_UNKNOWN, false, NULL);
}
END_TEST

START_TEST(test_k3_wrong_op_direct)
{
    breaks_on(XF_BB_EVIL_WRONG_OP, false, NULL);
    ck_assert(logged("operation differs"));
}
END_TEST

/* Indirect READ answered with operation 6 (the raw op, as QEMU would):
 * not what blkback sends, refused. */
START_TEST(test_k3_wrong_op_indirect)
{
    breaks_on(XF_BB_EVIL_WRONG_OP, true, NULL);
}
END_TEST

START_TEST(test_k7_rsp_prod_overflow)
{
    breaks_on(XF_BB_EVIL_RSP_OVERFLOW, false, NULL);
    ck_assert(logged("producer index"));
}
END_TEST

/* K8: without persistence, the back end keeps our page mapped. */
START_TEST(test_k8_grant_still_mapped)
{
    struct xf_blkfront_config fc = { .no_persistent = true };
    struct xf_gnttab_stats st;

    breaks_on(XF_BB_EVIL_KEEP_MAPPED, false, &fc);
    ck_assert(logged("grant still mapped"));
    (void)st;
}
END_TEST

/* K4, K5: statuses outside the set, and EOPNOTSUPP for a read or write:
 * that I/O fails, the device goes on. */
START_TEST(test_k4_k5_bad_status)
{
    struct xf_blkback_config bc = linux_like();
    struct xf_blkfront_stats st;
    struct xf_blkfront_info in;
    struct xf_blkfront *bf;
    static const int bad[] = { 1, -3, 0x7fff, -32768 };

    world_up(&bc);
    bf = open_dev(NULL);
    for (size_t i = 0; i < XF_ARRAY_SIZE(bad); i++) {
        xf_blkback_evil(bb, XF_BB_EVIL_STATUS, bad[i], -1, 1);
        ck_assert_int_eq(do_io(bf, XF_BLKFRONT_WRITE, 0, 0, buf, 4096), -XF_EIO);
        ck_assert_int_eq(do_io(bf, XF_BLKFRONT_WRITE, 0, 0, buf, 4096), 0);
    }
    xf_blkback_evil(bb, XF_BB_EVIL_STATUS, BLKIF_RSP_EOPNOTSUPP, BLKIF_OP_READ, 1);
    ck_assert_int_eq(do_io(bf, XF_BLKFRONT_READ, 0, 0, buf, 4096), -XF_EIO);
    xf_blkback_evil(bb, XF_BB_EVIL_STATUS, BLKIF_RSP_EOPNOTSUPP, BLKIF_OP_WRITE, 1);
    ck_assert_int_eq(do_io(bf, XF_BLKFRONT_WRITE, 0, 0, buf, 4096), -XF_EIO);
    xf_blkback_evil(bb, XF_BB_EVIL_STATUS, BLKIF_RSP_ERROR, -1, 1);
    ck_assert_int_eq(do_io(bf, XF_BLKFRONT_READ, 0, 0, buf, 4096), -XF_EIO);
    ck_assert_int_eq(do_io(bf, XF_BLKFRONT_READ, 0, 0, buf, 4096), 0);
    ck_assert_int_eq(xf_blkfront_get_stats(bf, 0, &st), 0);
    ck_assert_uint_eq(st.bad_status, 4);
    ck_assert_uint_eq(st.errors, 5);
    ck_assert_uint_eq(st.notsupp, 2);
    xf_blkfront_get_info(bf, &in);
    ck_assert(in.flush && in.discard);
    ck_assert_int_eq(xf_blkfront_status(bf), 0);
    close_and_check(bf);
    world_down();
}
END_TEST

/* K6: EOPNOTSUPP on a flush or discard turns the feature off. */
START_TEST(test_k6_notsupp_turns_off)
{
    struct xf_blkback_config bc = linux_like();
    struct xf_blkback_stats bs;
    struct xf_blkfront_info in;
    struct xf_blkfront *bf;

    world_up(&bc);
    bf = open_dev(NULL);
    xf_blkback_evil(bb, XF_BB_EVIL_STATUS, BLKIF_RSP_EOPNOTSUPP, BLKIF_OP_FLUSH_DISKCACHE, 1);
    ck_assert_int_eq(do_io(bf, XF_BLKFRONT_FLUSH, 0, 0, NULL, 0), -XF_EOPNOTSUPP);
    xf_blkfront_get_info(bf, &in);
    ck_assert(!in.flush && !in.barrier);
    ck_assert_int_eq(do_io(bf, XF_BLKFRONT_FLUSH, 0, 0, NULL, 0), -XF_EOPNOTSUPP);
    /* A FUA write is now just a write. */
    ck_assert_int_eq(do_io(bf, XF_BLKFRONT_WRITE, XF_BLKFRONT_F_FUA, 0, buf, 4096), 0);
    xf_blkback_get_stats(bb, &bs);
    ck_assert_uint_eq(bs.f_req, 1);
    xf_blkback_evil(bb, XF_BB_EVIL_STATUS, BLKIF_RSP_EOPNOTSUPP, BLKIF_OP_DISCARD, 1);
    ck_assert_int_eq(do_io(bf, XF_BLKFRONT_DISCARD, 0, 0, NULL, 4096), -XF_EOPNOTSUPP);
    xf_blkfront_get_info(bf, &in);
    ck_assert(!in.discard);
    ck_assert_int_eq(do_io(bf, XF_BLKFRONT_DISCARD, 0, 0, NULL, 4096), -XF_EOPNOTSUPP);
    xf_blkback_get_stats(bb, &bs);
    ck_assert_uint_eq(bs.ds_req, 1);
    ck_assert_int_eq(xf_blkfront_status(bf), 0);
    close_and_check(bf);
    world_down();
}
END_TEST

/* K9: persistent grants kept by the back end for ever: our pool bounds
 * what it can hold. */
START_TEST(test_k9_persistent_bounded)
{
    struct xf_blkback_config bc = linux_like();
    struct xf_blkfront_config fc = { .pool_pages = 64 };
    struct xf_blkback_stats bs;
    struct xf_blkfront_info in;
    struct xf_blkfront *bf;

    bc.max_persistent = 100000;
    world_up(&bc);
    bf = open_dev(&fc);
    xf_blkfront_get_info(bf, &in);
    ck_assert(in.persistent);
    ck_assert_uint_eq(in.max_segments, 63);
    for (int i = 0; i < 100; i++) {
        size_t len = 4096u * (1 + (unsigned)i % 63);

        fill(buf, len, (uint32_t)i);
        ck_assert_int_eq(do_io(bf, XF_BLKFRONT_WRITE, 0, (uint64_t)i * 8, buf, len), 0);
        ck_assert_mem_eq(xf_blkback_disk(bb) + (size_t)i * 8 * 512, buf, len);
    }
    xf_blkback_get_stats(bb, &bs);
    ck_assert_uint_le(bs.persistent_max_seen, 64);
    ck_assert_uint_eq(bs.maps, 0);
    close_and_check(bf);
    world_down();
}
END_TEST

static int order_seen[64], norder;

static void order_done(struct xf_blkfront *bf, struct xf_blkfront_io *io, int status, void *arg)
{
    (void)bf;
    (void)io;
    ck_assert_int_eq(status, 0);
    order_seen[norder++] = (int)(intptr_t)arg;
}

/* K10: completions out of order; one request never answered does not
 * stop the others, and fails cleanly at close. */
START_TEST(test_k10_out_of_order_and_lost)
{
    struct xf_blkback_config bc = linux_like();
    static struct xf_blkfront_io ios[32];
    static struct xf_blkfront_iov iov[32];
    struct xf_blkfront *bf;
    struct sync_io lost = { 0, 0 };
    struct xf_blkfront_io lio = { 0 };
    struct xf_blkfront_iov liov = { buf, 4096 };
    bool shuffled = false;

    world_up(&bc);
    bf = open_dev(NULL);
    xf_blkback_pause(bb, true);
    norder = 0;
    for (int i = 0; i < 32; i++) {
        iov[i] = (struct xf_blkfront_iov){ buf + i * 4096, 4096 };
        ios[i] = (struct xf_blkfront_io){ .op = XF_BLKFRONT_WRITE, .sector = (uint64_t)i * 8,
                                          .iov = &iov[i], .nr_iov = 1, .done = order_done,
                                          .arg = (void *)(intptr_t)i };
        ck_assert_int_eq(xf_blkfront_submit(bf, &ios[i]), 0);
    }
    xf_blkback_pause(bb, false);
    while (norder < 32)
        step(bf, MS_NS);
    for (int i = 1; i < 32; i++)
        shuffled |= order_seen[i] < order_seen[i - 1];
    ck_assert(shuffled);

    xf_blkback_evil(bb, XF_BB_EVIL_NEVER_ANSWER, 0, -1, 1);
    lio = (struct xf_blkfront_io){ .op = XF_BLKFRONT_WRITE, .sector = 0, .iov = &liov,
                                   .nr_iov = 1, .done = sync_done, .arg = &lost };
    ck_assert_int_eq(xf_blkfront_submit(bf, &lio), 0);
    /* The back end has taken it (and dropped it) before anything else
     * is sent, so the batch it drops is that one alone. */
    {
        uint64_t deadline = DEADLINE_MS(5000);
        struct xf_blkback_stats bs;

        do {
            step(bf, MS_NS);
            xf_blkback_get_stats(bb, &bs);
        } while (bs.req_cons != 33 && xf_plat_now_ns() < deadline);
        ck_assert_uint_eq(bs.req_cons, 33);
    }
    for (int i = 0; i < 10; i++) {
        ck_assert_int_eq(do_io(bf, XF_BLKFRONT_READ, 0, 8, buf + 8192, 4096), 0);
    }
    ck_assert_int_eq(lost.done, 0);
    ck_assert_uint_eq(xf_blkfront_pending(bf), 1);
    ck_assert_int_eq(xf_blkfront_close(bf, DEADLINE_MS(5000)), 0);
    ck_assert_int_eq(lost.done, 1);
    ck_assert_int_eq(lost.status, -XF_ENOTCONN);
    assert_released();
    world_down();
}
END_TEST

/* K11: an event storm costs bounded work and changes nothing. */
START_TEST(test_k11_event_storm)
{
    struct xf_blkback_config bc = linux_like();
    struct xf_blkfront_stats st;
    struct xf_blkfront *bf;
    unsigned n = valgrind() ? 2000 : 50000;

    world_up(&bc);
    bf = open_dev(NULL);
    xf_blkback_storm(bb, n);
    for (int i = 0; i < 200; i++)
        step(bf, 100000);
    ck_assert_int_eq(xf_blkfront_get_stats(bf, 0, &st), 0);
    ck_assert_uint_gt(st.spurious, 0);
    ck_assert_int_eq(xf_blkfront_status(bf), 0);
    fill(buf, 8192, 4);
    ck_assert_int_eq(do_io(bf, XF_BLKFRONT_WRITE, 0, 0, buf, 8192), 0);
    ck_assert_mem_eq(xf_blkback_disk(bb), buf, 8192);
    close_and_check(bf);
    world_down();
}
END_TEST

/* K11, silence: a back end that never notifies; polling completes I/O. */
START_TEST(test_k11_silent_backend)
{
    struct xf_blkback_config bc = linux_like();
    struct xf_blkfront_stats s0, s1;
    struct xf_blkfront *bf;

    world_up(&bc);
    bf = open_dev(NULL);
    xf_blkback_silent(bb, true);
    ck_assert_int_eq(xf_blkfront_get_stats(bf, 0, &s0), 0);
    for (int i = 0; i < 20; i++) {
        fill(buf, 65536, (uint32_t)i);
        ck_assert_int_eq(do_io(bf, XF_BLKFRONT_WRITE, 0, (uint64_t)i * 128, buf, 65536), 0);
        ck_assert_mem_eq(xf_blkback_disk(bb) + (size_t)i * 65536, buf, 65536);
    }
    ck_assert_int_eq(xf_blkfront_get_stats(bf, 0, &s1), 0);
    ck_assert_uint_eq(s1.events, s0.events);
    ck_assert_uint_eq(s1.responses - s0.responses, 20);
    xf_blkback_silent(bb, false);
    close_and_check(bf);
    world_down();
}
END_TEST

struct batch {
    struct xf_blkfront_io io[16];
    struct xf_blkfront_iov iov[16];
    struct sync_io s[16];
};

static void submit_batch(struct xf_blkfront *bf, struct batch *b, size_t len)
{
    for (int i = 0; i < 16; i++) {
        b->iov[i] = (struct xf_blkfront_iov){ buf + (size_t)i * 65536, len };
        b->s[i] = (struct sync_io){ 0, 0 };
        b->io[i] = (struct xf_blkfront_io){
            .op = XF_BLKFRONT_WRITE, .sector = (uint64_t)i * 128, .iov = &b->iov[i],
            .nr_iov = 1, .done = sync_done, .arg = &b->s[i],
        };
        ck_assert_int_eq(xf_blkfront_submit(bf, &b->io[i]), 0);
    }
}

static void wait_batch(struct xf_blkfront *bf, struct batch *b, int want)
{
    for (int i = 0; i < 16; i++)
        ck_assert_int_eq(wait_io(bf, &b->s[i], DEADLINE_MS(10000)), want);
}

/* K12: the back end goes away with I/O in flight (some of it done, its
 * responses lost) and comes back: nothing lost, all completes once. */
START_TEST(test_k12_closing_with_io_in_flight)
{
    struct xf_blkback_config bc = linux_like();
    static struct batch b;
    struct xf_blkfront_stats st;
    struct xf_blkfront_info in;
    struct xf_blkback_stats bs;
    struct xf_blkfront *bf;

    world_up(&bc);
    bf = open_dev(NULL);
    fill(buf, 16 * 65536, 8);
    xf_blkback_pause(bb, true);
    submit_batch(bf, &b, 65536);
    xf_blkback_disconnect(bb, 50);
    xf_blkback_pause(bb, false);
    wait_batch(bf, &b, 0);
    for (int i = 0; i < 16; i++)
        ck_assert_mem_eq(xf_blkback_disk(bb) + (size_t)i * 65536, buf + (size_t)i * 65536, 65536);
    xf_blkfront_get_info(bf, &in);
    ck_assert_uint_eq(in.connects, 2);
    ck_assert(in.connected);
    ck_assert_int_eq(xf_blkfront_get_stats(bf, 0, &st), 0);
    ck_assert_uint_ge(st.reissued, 16);
    xf_blkback_get_stats(bb, &bs);
    ck_assert_uint_eq(bs.connects, 2);
    ck_assert(logged("holding I/O"));
    close_and_check(bf);
    world_down();
}
END_TEST

/* K13: it comes back with other features: no persistence, no indirect,
 * one page, one queue: the held 64 KiB writes are re-split. Then with
 * READONLY set: writes are refused. */
START_TEST(test_k13_back_with_other_features)
{
    struct xf_blkback_config bc = linux_like(), nc;
    static struct batch b;
    struct xf_blkfront_info in;
    struct xf_blkback_stats bs;
    struct xf_blkfront *bf;
    uint64_t deadline;

    bc.max_queues = 2;
    world_up(&bc);
    bf = open_dev(NULL);
    xf_blkfront_get_info(bf, &in);
    ck_assert_uint_eq(in.nr_queues, 2);
    ck_assert(in.persistent);
    fill(buf, 16 * 65536, 9);
    xf_blkback_pause(bb, true);
    submit_batch(bf, &b, 65536);
    nc = linux_like();
    nc.persistent = false;
    nc.max_indirect = 0;
    nc.max_ring_order = 0;
    nc.max_queues = 1;
    nc.flush = nc.barrier = false;
    xf_blkback_reconfigure(bb, &nc);
    xf_blkback_disconnect(bb, 0);
    xf_blkback_pause(bb, false);
    wait_batch(bf, &b, 0);
    for (int i = 0; i < 16; i++)
        ck_assert_mem_eq(xf_blkback_disk(bb) + (size_t)i * 65536, buf + (size_t)i * 65536, 65536);
    xf_blkfront_get_info(bf, &in);
    ck_assert(!in.persistent && !in.flush);
    ck_assert_uint_eq(in.max_segments, 11);
    ck_assert_uint_eq(in.ring_order, 0);
    ck_assert_uint_eq(in.nr_queues, 1);
    xf_blkback_get_stats(bb, &bs);
    ck_assert_uint_le(bs.max_segments_seen, 256);
    ck_assert_int_eq(node_int(fe, "ring-page-order"), -1);
    ck_assert(!xf_xsd_exists(xsd, "/local/domain/1/device/vbd/51712/multi-queue-num-queues"));
    ck_assert_int_eq(do_io(bf, XF_BLKFRONT_FLUSH, 0, 0, NULL, 0), -XF_EOPNOTSUPP);

    /* Back again, read-only now. */
    nc.info = VDISK_READONLY;
    xf_blkback_reconfigure(bb, &nc);
    xf_blkback_disconnect(bb, 0);
    deadline = DEADLINE_MS(5000);
    do {
        step(bf, MS_NS);
        xf_blkfront_get_info(bf, &in);
    } while ((in.connects != 3 || !in.connected) && xf_plat_now_ns() < deadline);
    ck_assert(in.read_only);
    ck_assert_int_eq(do_io(bf, XF_BLKFRONT_WRITE, 0, 0, buf, 4096), -XF_EROFS);
    ck_assert_int_eq(do_io(bf, XF_BLKFRONT_READ, 0, 0, buf, 4096), 0);
    close_and_check(bf);
    world_down();
}
END_TEST

/* K12, a back end that never comes back: held I/O fails at the deadline. */
START_TEST(test_k12_never_returns)
{
    struct xf_blkback_config bc = linux_like();
    struct xf_blkfront_config fc = { .reconnect_timeout_ns = 300 * MS_NS };
    static struct batch b;
    struct xf_blkfront *bf;
    uint64_t t0;

    world_up(&bc);
    bf = open_dev(&fc);
    xf_blkback_pause(bb, true);
    submit_batch(bf, &b, 4096);
    xf_blkback_stop(bb);                  /* dies, unmapping what it had */
    bb = NULL;
    node_write(be_dir, "state", "5");     /* the toolstack says Closing */
    t0 = xf_plat_now_ns();
    wait_batch(bf, &b, -XF_EIO);
    ck_assert_uint_ge(xf_plat_now_ns() - t0, 250 * MS_NS);
    ck_assert_int_eq(xf_blkfront_status(bf), -XF_EIO);
    ck_assert_int_eq(do_io(bf, XF_BLKFRONT_READ, 0, 0, buf, 4096), -XF_EIO);
    ck_assert_int_eq(xf_blkfront_pending(bf), 0);
    ck_assert_int_eq(xf_blkfront_close(bf, DEADLINE_MS(2000)), 0);
    assert_released();
    world_down();
}
END_TEST

/* K14: shrink below a request in flight: the back end fails it, new
 * I/O beyond the end is refused here. */
START_TEST(test_k14_shrink_below_inflight)
{
    struct xf_blkback_config bc = linux_like();
    struct xf_blkfront_io io = { 0 };
    struct xf_blkfront_iov iov = { buf, 4096 };
    struct sync_io s = { 0, 0 };
    struct xf_blkfront_info in;
    struct xf_blkfront *bf;
    uint64_t deadline;

    world_up(&bc);
    bf = open_dev(NULL);
    xf_blkback_pause(bb, true);
    io = (struct xf_blkfront_io){ .op = XF_BLKFRONT_WRITE, .sector = 16000, .iov = &iov,
                                  .nr_iov = 1, .done = sync_done, .arg = &s };
    ck_assert_int_eq(xf_blkfront_submit(bf, &io), 0);
    xf_blkback_resize(bb, 2048);
    deadline = DEADLINE_MS(5000);
    do {
        step(bf, MS_NS);
        xf_blkfront_get_info(bf, &in);
    } while (in.sectors != 2048 && xf_plat_now_ns() < deadline);
    ck_assert_uint_eq(in.sectors, 2048);
    xf_blkback_pause(bb, false);
    ck_assert_int_eq(wait_io(bf, &s, DEADLINE_MS(5000)), -XF_EIO);
    ck_assert_int_eq(do_io(bf, XF_BLKFRONT_WRITE, 0, 16000, buf, 4096), -XF_ERANGE);
    ck_assert_int_eq(xf_blkfront_status(bf), 0);
    close_and_check(bf);
    world_down();
}
END_TEST

/* K15, K18: absurd or missing required keys: refused, nothing held. */
static void refused(const char *key, const char *value)
{
    struct xf_blkback_config bc = linux_like();
    struct xf_blkfront *bf = NULL;
    char err[128];

    bc.keys[0][0] = key;
    bc.keys[0][1] = value;
    world_up(&bc);
    ck_assert_int_eq(xf_blkfront_open(&bf, xb, ec, gt, "51712", NULL, DEADLINE_MS(5000)),
                     -XF_ENODEV);
    ck_assert_ptr_null(bf);
    ck_assert_int_gt(node_read(fe, "error", err, sizeof(err)), 0);
    assert_released();
    world_down();
}

START_TEST(test_k15_garbage_required_keys)
{
    static const char *const sectors[] = { "abc", "-1", "18446744073709551615",
                                           "36028797018963968", "1 ", "" };
    static const char *const ssize[] = { "0", "3", "513", "65536", "4294967296", "8192", "x" };

    for (size_t i = 0; i < XF_ARRAY_SIZE(sectors); i++)
        refused("sectors", sectors[i]);
    for (size_t i = 0; i < XF_ARRAY_SIZE(ssize); i++)
        refused("sector-size", ssize[i]);
    refused("info", "junk");
    refused("info", "-4");
}
END_TEST

START_TEST(test_k18_missing_required_keys)
{
    refused("sectors", NULL);
    refused("sector-size", NULL);
    refused("info", NULL);
}
END_TEST

/* K15, K16: absurd optional keys are clamped or defaulted. */
static struct xf_blkfront_info with_key(struct xf_blkback_config bc, const char *key,
                                        const char *value)
{
    struct xf_blkfront_info in;
    struct xf_blkfront *bf;

    bc.keys[0][0] = key;
    bc.keys[0][1] = value;
    world_up(&bc);
    bf = open_dev(NULL);
    xf_blkfront_get_info(bf, &in);
    fill(buf, 131072, 3);
    ck_assert_msg(do_io(bf, XF_BLKFRONT_WRITE, 0, 8, buf, 131072) == 0, "%s=%s", key, value);
    ck_assert_mem_eq(xf_blkback_disk(bb) + 8 * 512, buf, 131072);
    close_and_check(bf);
    world_down();
    return in;
}

START_TEST(test_k16_garbage_optional_keys)
{
    struct xf_blkback_config bc = linux_like();
    struct xf_blkfront_info in;

    in = with_key(bc, "max-ring-page-order", "31");
    ck_assert_uint_eq(in.ring_order, 4);
    in = with_key(bc, "max-ring-page-order", "junk");
    ck_assert_uint_eq(in.ring_order, 0);
    in = with_key(bc, "max-ring-page-order", "-1");
    ck_assert_uint_eq(in.ring_order, 0);
    in = with_key(bc, "multi-queue-max-queues", "0");
    ck_assert_uint_eq(in.nr_queues, 1);
    bc.max_queues = 4;
    in = with_key(bc, "multi-queue-max-queues", "4294967295");
    ck_assert_uint_eq(in.nr_queues, 4);
    bc.max_queues = 1;
    in = with_key(bc, "feature-max-indirect-segments", "1");
    ck_assert_uint_eq(in.max_segments, 11);
    in = with_key(bc, "feature-max-indirect-segments", "12");
    ck_assert_uint_eq(in.max_segments, 12);
    in = with_key(bc, "feature-max-indirect-segments", "4294967295");
    ck_assert_uint_eq(in.max_segments, 256);
    in = with_key(bc, "feature-max-indirect-segments", "lots");
    ck_assert_uint_eq(in.max_segments, 11);
    in = with_key(bc, "discard-granularity", "0");
    ck_assert_uint_eq(in.discard_granularity, 512);
    in = with_key(bc, "discard-granularity", "3000");
    ck_assert_uint_eq(in.discard_granularity, 512);
    in = with_key(bc, "discard-alignment", "100");
    ck_assert_uint_eq(in.discard_alignment, 0);
    in = with_key(bc, "physical-sector-size", "1000");
    ck_assert_uint_eq(in.physical_sector_size, 512);
    in = with_key(bc, "physical-sector-size", "4096");
    ck_assert_uint_eq(in.physical_sector_size, 4096);
    /* A hostile value never turns a feature on. */
    bc.persistent = false;
    in = with_key(bc, "feature-persistent", "2");
    ck_assert(!in.persistent);
    bc.persistent = true;
    in = with_key(bc, "feature-flush-cache", "yes");
    ck_assert(!in.flush);
}
END_TEST

/* K19: we never ask for more than offered; a back end that refuses what
 * it offered (fatal at connect) leaves us cleanly. */
START_TEST(test_k19_ring_order_offer)
{
    struct xf_blkback_config bc = linux_like();
    struct xf_blkfront_info in;
    struct xf_blkfront *bf = NULL;
    struct xf_blkback_stats bs;
    char err[128];

    bc.max_ring_order = 2;
    world_up(&bc);
    bf = open_dev(NULL);
    xf_blkfront_get_info(bf, &in);
    ck_assert_uint_eq(in.ring_order, 2);
    ck_assert_int_eq(node_int(fe, "ring-page-order"), 2);
    close_and_check(bf);
    world_down();

    /* Offers 4, accepts at most 2. */
    bc.keys[0][0] = "max-ring-page-order";
    bc.keys[0][1] = "4";
    world_up(&bc);
    bf = NULL;
    ck_assert_int_eq(xf_blkfront_open(&bf, xb, ec, gt, "51712", NULL, DEADLINE_MS(1500)),
                     -XF_ETIMEDOUT);
    ck_assert_ptr_null(bf);
    xf_blkback_get_stats(bb, &bs);
    ck_assert_uint_ge(bs.fatal, 1);
    ck_assert_int_gt(node_read(be_dir, "error", err, sizeof(err)), 0);
    assert_released();
    world_down();
}
END_TEST

/* A back end that maps our rings but never connects: the open times out
 * within its deadline, and on the way out says Closing, then Closed, so
 * that a Linux-like back end (unmapping only at our Closed) lets go of the
 * ring pages: nothing stays deferred, the device is not left Initialised. */
START_TEST(test_open_times_out_after_publish)
{
    struct xf_blkback_config bc = linux_like();
    struct xf_blkfront *bf = NULL;
    struct xf_blkback_stats bs;
    uint64_t t0, t1;

    bc.never_connected = true;
    bc.unmap_at_closed = true;
    bc.max_ring_order = 2;
    world_up(&bc);
    t0 = xf_plat_now_ns();
    ck_assert_int_eq(xf_blkfront_open(&bf, xb, ec, gt, "51712", NULL, t0 + 1000 * MS_NS),
                     -XF_ETIMEDOUT);
    t1 = xf_plat_now_ns();
    ck_assert_ptr_null(bf);
    /* Within its deadline (plus the teardown's own few calls). */
    ck_assert_uint_le(t1, t0 + 1500 * MS_NS);
    xf_blkback_get_stats(bb, &bs);
    ck_assert_uint_eq(bs.connects, 1);            /* it did map the rings */
    ck_assert_int_eq(node_int(fe, "state"), XenbusStateClosed);
    /* Our Closed reached it: it unmaps and follows (InitWait counts as
     * "gone" for the front end's wait, so this may come just after). */
    {
        uint64_t deadline = DEADLINE_MS(5000);

        while (xf_blkback_state(bb) != XenbusStateClosed && xf_plat_now_ns() < deadline)
            usleep(200);
    }
    ck_assert_int_eq(xf_blkback_state(bb), XenbusStateClosed);
    assert_released();
    world_down();
}
END_TEST

/* State values outside XenbusState, and a flap while connected: ignored. */
START_TEST(test_state_garbage)
{
    struct xf_blkback_config bc = linux_like();
    struct xf_blkfront *bf;

    world_up(&bc);
    bf = open_dev(NULL);
    node_write(be_dir, "state", "99");
    for (int i = 0; i < 20; i++)
        step(bf, MS_NS);
    ck_assert_int_eq(xf_blkfront_status(bf), 0);
    node_write(be_dir, "state", "junk");
    for (int i = 0; i < 20; i++)
        step(bf, MS_NS);
    node_write(be_dir, "state", "4");
    for (int i = 0; i < 20; i++)
        step(bf, MS_NS);
    ck_assert_int_eq(xf_blkfront_status(bf), 0);
    fill(buf, 4096, 1);
    ck_assert_int_eq(do_io(bf, XF_BLKFRONT_WRITE, 0, 0, buf, 4096), 0);
    ck_assert_mem_eq(xf_blkback_disk(bb), buf, 4096);
    close_and_check(bf);
    world_down();
}
END_TEST

/* BLKFRONT_TEST=<name> runs one test (debugging). */
#define ADD(tc, t) do { const char *only_ = getenv("BLKFRONT_TEST"); \
                        if (only_ == NULL || strcmp(only_, #t) == 0) tcase_add_test(tc, t); } while (0)

static Suite *suite(void)
{
    Suite *s = suite_create("blkfront-hostile");
    TCase *tc = tcase_create("hostile");

    tcase_set_timeout(tc, 120);
    ADD(tc, test_k1_id_out_of_range);
    ADD(tc, test_k2_duplicate_id);
    ADD(tc, test_k2_unknown_id);
    ADD(tc, test_k3_wrong_op_direct);
    ADD(tc, test_k3_wrong_op_indirect);
    ADD(tc, test_k4_k5_bad_status);
    ADD(tc, test_k6_notsupp_turns_off);
    ADD(tc, test_k7_rsp_prod_overflow);
    ADD(tc, test_k8_grant_still_mapped);
    ADD(tc, test_k9_persistent_bounded);
    ADD(tc, test_k10_out_of_order_and_lost);
    ADD(tc, test_k11_event_storm);
    ADD(tc, test_k11_silent_backend);
    ADD(tc, test_k12_closing_with_io_in_flight);
    ADD(tc, test_k12_never_returns);
    ADD(tc, test_k13_back_with_other_features);
    ADD(tc, test_k14_shrink_below_inflight);
    ADD(tc, test_k15_garbage_required_keys);
    ADD(tc, test_k16_garbage_optional_keys);
    ADD(tc, test_k18_missing_required_keys);
    ADD(tc, test_k19_ring_order_offer);
    ADD(tc, test_open_times_out_after_publish);
    ADD(tc, test_state_garbage);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return xf_check_run(suite());
}
