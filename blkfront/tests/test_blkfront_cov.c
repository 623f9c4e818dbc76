/*
 * blkfront's refusals and failing set-ups, which the other tests do not
 * reach: the arguments and configurations open refuses, and an open that
 * fails because Xen or the store refuses what it needs (no event channel,
 * no grant references, no memory, a device directory it may not write).
 * Each failing open returns a negative errno and leaves nothing behind:
 * no grant, no port, no watch, no page.
 */
#include "blkfront_test.h"

/* As world_up_nobe (blkfront_test.h), with the guest's limits given. */
static void world_up_limits_be(const struct xf_sim_domain_config *g,
                               const struct xf_blkback_config *bc)
{
    struct xf_sim_config sc = { 0 };
    uint64_t pfn;
    evtchn_port_t sp;

    log_len = 0;
    log_text[0] = '\0';
    xf_log_set_hook(log_hook, NULL, XF_LOG_DEBUG);
    sc.guest = *g;
    if (sc.guest.ram_frames == 0)
        sc.guest.ram_frames = 32768;
    sc.dom0.foreign_frames = 4096;
    sim = xf_sim_create(&sc);
    ck_assert_ptr_nonnull(sim);
    guest = xf_sim_guest_domid(sim);
    ck_assert_int_eq(xf_evtchn_create(&ec, NULL), 0);
    xf_sim_set_upcall_handler(sim, guest, upcall, ec);
    ck_assert_int_eq(xf_evtchn_upcall_setup(ec, XF_EVTCHN_UPCALL_VCPU_VECTOR, 0xf3), 0);
    xsd = xf_xsd_start(sim, guest, NULL);
    ck_assert_ptr_nonnull(xsd);
    ck_assert_int_eq(xf_xenbus_hvm_store(&pfn, &sp), 0);
    ck_assert_int_eq(xf_xenbus_create_ring(&xb, NULL, ec, xf_sim_gfn_to_va(sim, guest, pfn), sp),
                     0);
    ck_assert_int_eq(xf_gnttab_create(&gt, NULL), 0);
    toolstack_add_vbd("51712");
    /* Grown now, as world_up_nobe does (growth is kept for good). */
    (void)xf_gnttab_grow(gt, 4096);
    baseline_frames = xf_sim_free_frames(sim, guest);
    {
        struct xf_gnttab_stats st;

        xf_gnttab_get_stats(gt, &st);
        baseline_gt_frames = st.nr_frames;
    }
    bb = xf_blkback_start(sim, xsd, guest, fe, be_dir, bc);
    ck_assert_ptr_nonnull(bb);
}

static void world_up_limits(const struct xf_sim_domain_config *g)
{
    world_up_limits_be(g, NULL);
}

/*
 * An open that fails after publishing its ring leaves the device at the
 * state it reached (Initialised) and the ring page deferred while the back
 * end, never told to close, keeps it mapped: no page is freed under it,
 * but it is never reclaimed either (reported; see the report of issue 13's
 * fuzz work). Here the toolstack closes the device, as it would on its
 * removal, so the back end lets go.
 */
static void backend_let_go(void)
{
    struct xf_gnttab_stats st;

    (void)xf_gnttab_reclaim(gt);
    xf_gnttab_get_stats(gt, &st);
    if (st.deferred != 0 && getenv("BLKFRONT_COV_DEBUG"))
        fprintf(stderr, "failed open: state %lld, %u deferred\n", node_int(fe, "state"),
                st.deferred);
    if (st.deferred != 0)
        node_write(fe, "state", "6");
}

/* open failed: nothing of blkfront's is held, no watch left, once the
 * back end has let go of what it had mapped (it sees Closed and unmaps on
 * its own thread: wait for that, bounded). */
static void assert_nothing_held(void)
{
    uint64_t dl = DEADLINE_MS(5000);
    struct xf_gnttab_stats st;

    ck_assert_uint_eq(xf_xenbus_watch_count(xb), 0);
    backend_let_go();
    for (;;) {
        (void)xf_gnttab_reclaim(gt);
        xf_gnttab_get_stats(gt, &st);
        if (st.deferred == 0 || xf_plat_now_ns() >= dl)
            break;
        (void)xf_plat_wait(DEADLINE_MS(5));
    }
    assert_released();
}

static int try_open(const struct xf_blkfront_config *cfg, uint64_t ms)
{
    struct xf_blkfront *bf = (struct xf_blkfront *)(uintptr_t)1;
    int rc = xf_blkfront_open(&bf, xb, ec, gt, "51712", cfg, DEADLINE_MS(ms));

    if (rc == 0)
        ck_assert_int_eq(xf_blkfront_close(bf, DEADLINE_MS(5000)), 0);
    else
        ck_assert_ptr_eq(bf, (struct xf_blkfront *)(uintptr_t)1);   /* untouched */
    return rc;
}

START_TEST(test_cov_open_arguments)
{
    struct xf_blkfront *bf = NULL;
    struct xf_blkfront_config c;
    struct xf_blkfront_stats st;
    struct xf_blkfront_info info;

    world_up(NULL);
    ck_assert_int_eq(xf_blkfront_open(NULL, xb, ec, gt, "51712", NULL, DEADLINE_MS(100)),
                     -XF_EINVAL);
    ck_assert_int_eq(xf_blkfront_open(&bf, NULL, ec, gt, "51712", NULL, DEADLINE_MS(100)),
                     -XF_EINVAL);
    ck_assert_int_eq(xf_blkfront_open(&bf, xb, NULL, gt, "51712", NULL, DEADLINE_MS(100)),
                     -XF_EINVAL);
    ck_assert_int_eq(xf_blkfront_open(&bf, xb, ec, NULL, "51712", NULL, DEADLINE_MS(100)),
                     -XF_EINVAL);
    ck_assert_int_eq(xf_blkfront_open(&bf, xb, ec, gt, NULL, NULL, DEADLINE_MS(100)),
                     -XF_EINVAL);
    ck_assert_ptr_null(bf);
    memset(&c, 0, sizeof(c));
    c.max_queues = XF_BLKFRONT_MAX_QUEUES + 1;
    ck_assert_int_eq(try_open(&c, 100), -XF_EINVAL);
    memset(&c, 0, sizeof(c));
    c.max_ring_pages = 3;                              /* not a power of two */
    ck_assert_int_eq(try_open(&c, 100), -XF_EINVAL);
    c.max_ring_pages = 2u << XF_BLKFRONT_MAX_RING_ORDER;
    ck_assert_int_eq(try_open(&c, 100), -XF_EINVAL);
    memset(&c, 0, sizeof(c));
    c.max_segments = XF_BLKFRONT_MAX_SEGMENTS + 1;
    ck_assert_int_eq(try_open(&c, 100), -XF_EINVAL);
    memset(&c, 0, sizeof(c));
    c.pool_pages = BLKIF_MAX_SEGMENTS_PER_REQUEST;     /* below one request's */
    ck_assert_int_eq(try_open(&c, 100), -XF_EINVAL);
    c.pool_pages = UINT32_MAX;
    ck_assert_int_eq(try_open(&c, 100), -XF_EINVAL);
    /* A device that does not exist. */
    ck_assert_int_lt(xf_blkfront_open(&bf, xb, ec, gt, "999", NULL, DEADLINE_MS(1000)), 0);
    ck_assert_ptr_null(bf);
    /* The NULL context everywhere else. */
    ck_assert_int_eq(xf_blkfront_close(NULL, DEADLINE_MS(100)), 0);
    ck_assert_int_eq(xf_blkfront_poll(NULL), -XF_EINVAL);
    ck_assert_int_eq(xf_blkfront_status(NULL), -XF_EINVAL);
    ck_assert_uint_eq(xf_blkfront_pending(NULL), 0);
    ck_assert_int_eq(xf_blkfront_get_stats(NULL, 0, &st), -XF_EINVAL);
    ck_assert_int_eq(xf_blkfront_submit(NULL, NULL), -XF_EINVAL);
    xf_blkfront_get_info(NULL, &info);                 /* ignored */
    bf = open_dev(NULL);
    ck_assert_int_eq(xf_blkfront_get_stats(bf, XF_BLKFRONT_MAX_QUEUES, &st), -XF_EINVAL);
    ck_assert_int_eq(xf_blkfront_get_stats(bf, 0, NULL), -XF_EINVAL);
    ck_assert_int_eq(xf_blkfront_submit(bf, NULL), -XF_EINVAL);
    xf_blkfront_get_info(bf, NULL);                    /* ignored */
    ck_assert_int_eq(xf_blkfront_status(bf), 0);
    ck_assert_int_eq(xf_blkfront_close(bf, DEADLINE_MS(5000)), 0);
    assert_nothing_held();
    world_down();
}
END_TEST

/* Xen gives the guest too few event channels for the queues' ports. */
START_TEST(test_cov_open_no_event_channel)
{
    struct xf_sim_domain_config g = { 0 };
    evtchn_port_t ports[64];
    unsigned n = 0;
    int rc;

    g.max_evtchn_port = 12;
    world_up_limits(&g);
    /* Take every port left. */
    while (n < 64 && xf_evtchn_alloc_unbound(ec, 0, NULL, NULL, &ports[n]) == 0)
        n++;
    ck_assert_uint_lt(n, 64);
    rc = try_open(NULL, 3000);
    ck_assert_int_lt(rc, 0);
    while (n > 0)
        ck_assert_int_eq(xf_evtchn_close(ec, ports[--n]), 0);
    assert_nothing_held();
    /* With the ports back, the same open works. */
    ck_assert_int_eq(try_open(NULL, 10000), 0);
    assert_nothing_held();
    world_down();
}
END_TEST

/* Too few grant references for the pools (persistent or not: granted
 * pages, or reserved references and zero-copy ones) or for the ring. */
START_TEST(test_cov_open_no_grant_references)
{
    static const struct { uint32_t leave; bool persistent; } cases[] = {
        { 20, false }, { 5, false }, { 5, true }, { 0, false },
    };

    for (size_t k = 0; k < sizeof(cases) / sizeof(cases[0]); k++) {
        struct xf_sim_domain_config g = { 0 };
        struct xf_blkback_config bc = { 0 };
        struct xf_blkfront_config c = { 0 };
        grant_ref_t *refs;
        struct xf_gnttab_stats st;
        uint32_t n;

        g.max_grant_frames = 2;
        bc.persistent = cases[k].persistent;
        world_up_limits_be(&g, &bc);
        xf_gnttab_get_stats(gt, &st);
        n = st.free_refs - cases[k].leave;
        refs = calloc(n + 1, sizeof(*refs));
        ck_assert_ptr_nonnull(refs);
        if (n > 0)
            ck_assert_int_eq(xf_gnttab_alloc_refs(gt, refs, n), 0);
        c.max_queues = 1;
        c.max_ring_pages = 1;
        c.pool_pages = BLKIF_MAX_SEGMENTS_PER_REQUEST + 1;
        ck_assert_int_eq(try_open(&c, 3000), -XF_ENOSPC);
        if (n > 0)
            ck_assert_int_eq(xf_gnttab_free_refs(gt, refs, n), 0);
        free(refs);
        assert_nothing_held();
        world_down();
    }
}
END_TEST

/* No memory: for the context itself, or for its rings and pools later. */
START_TEST(test_cov_open_no_memory)
{
    struct xf_sim_domain_config g = { 0 };
    static void *hog[16384];
    unsigned n = 0;
    long before, need;

    g.ram_frames = 8192;
    world_up_limits(&g);
    /* What a connected device takes. */
    before = xf_sim_free_frames(sim, guest);
    {
        struct xf_blkfront *bf = open_dev(NULL);

        need = before - xf_sim_free_frames(sim, guest);
        ck_assert_int_eq(xf_blkfront_close(bf, DEADLINE_MS(5000)), 0);
    }
    assert_nothing_held();
    ck_assert_int_gt(need, 8);
    /* Every page gone: the context does not fit. */
    while (n < 16384 && xf_sim_free_frames(sim, guest) > 0 &&
           (hog[n] = xf_plat_page_alloc(1)) != NULL)
        n++;
    ck_assert_int_eq(try_open(NULL, 2000), -XF_ENOMEM);
    ck_assert_uint_eq(xf_xenbus_watch_count(xb), 0);
    /* Half of what it needs: the context fits, its rings or pools not. */
    while (n > 0 && xf_sim_free_frames(sim, guest) < need / 2)
        xf_plat_page_free(hog[--n], 1);
    ck_assert_int_lt(try_open(NULL, 3000), 0);
    while (n > 0)
        xf_plat_page_free(hog[--n], 1);
    assert_nothing_held();
    world_down();
}
END_TEST

/* The toolstack made the device directory read-only for the guest: the
 * publication fails with the store's error, nothing is held. */
START_TEST(test_cov_open_store_refuses)
{
    const char *ro[2] = { "n0", NULL };
    char path[256];

    world_up(NULL);
    snprintf(path, sizeof(path), "r%u", (unsigned)guest);
    ro[1] = path;
    ck_assert_int_eq(xf_xsd_set_perms(xsd, fe, ro, 2), 0);
    ck_assert_int_lt(try_open(NULL, 3000), 0);
    assert_nothing_held();
    world_down();
}
END_TEST

/* With the back end paused, the test writes its state node: every state
 * the back end may move to while the device is connected, published or
 * away (racing the simulated back end's own writes, so only what holds in
 * every order is asserted): blkfront follows each, never breaks, and
 * closes holding nothing. */
START_TEST(test_cov_backend_states)
{
    static const char *const seq[] = {
        "1", "0", "77", "4", "2", "6", "2", "1", "3", "5", "6", "2",
    };
    struct xf_blkfront *bf;

    world_up(NULL);
    bf = open_dev(NULL);
    xf_blkback_pause(bb, true);
    for (size_t i = 0; i < sizeof(seq) / sizeof(seq[0]); i++) {
        node_write(be_dir, "state", seq[i]);
        for (int k = 0; k < 5; k++)
            step(bf, 2 * MS_NS);
        ck_assert_int_ne(xf_blkfront_status(bf), -XF_EIO);     /* never broken */
    }
    xf_blkback_pause(bb, false);
    ck_assert_int_ge(xf_blkfront_close(bf, DEADLINE_MS(5000)), -XF_ETIMEDOUT);
    assert_nothing_held();
    world_down();
}
END_TEST

/* No watch slot left for the sectors watch (the device's own state watch
 * took the last): open fails holding nothing. Then submissions whose flags
 * or buffers are wrong are refused on a connected device. */
START_TEST(test_cov_no_watch_slot_and_bad_submissions)
{
    struct xf_xenbus_watch *w[32];
    unsigned n = 0;
    char path[64], tok[16];
    struct xf_blkfront *bf;
    static uint8_t buf[4096] __attribute__((aligned(4096)));
    struct xf_blkfront_iov iov = { buf, sizeof(buf) }, hole = { NULL, 512 };
    /* Never read: refused on its length alone. */
    const struct xf_blkfront_iov huge[2] = { { buf, 3u << 29 }, { buf, 3u << 29 } };
    struct xf_blkfront_io io;

    world_up(NULL);
    for (;;) {
        snprintf(path, sizeof(path), "/x/%u", n);
        snprintf(tok, sizeof(tok), "t%u", n);
        if (n == 32 || xf_xenbus_watch_add(xb, path, tok, NULL, NULL, &w[n],
                                           DEADLINE_MS(2000)) != 0)
            break;
        n++;
    }
    ck_assert_uint_gt(n, 1);
    ck_assert_int_eq(xf_xenbus_watch_remove(xb, w[--n], DEADLINE_MS(2000)), 0);   /* one left */
    ck_assert_int_lt(try_open(NULL, 3000), 0);
    ck_assert_uint_eq(xf_xenbus_watch_count(xb), n);
    while (n > 0)
        ck_assert_int_eq(xf_xenbus_watch_remove(xb, w[--n], DEADLINE_MS(2000)), 0);
    assert_nothing_held();
    bf = open_dev(NULL);
    memset(&io, 0, sizeof(io));
    io.op = XF_BLKFRONT_WRITE;
    io.iov = &iov;
    io.nr_iov = 1;
    io.flags = 0x80000000u;                             /* unknown flag */
    ck_assert_int_eq(xf_blkfront_submit(bf, &io), -XF_EINVAL);
    io.op = XF_BLKFRONT_READ;
    io.flags = XF_BLKFRONT_F_FUA;                       /* FUA on a read */
    ck_assert_int_eq(xf_blkfront_submit(bf, &io), -XF_EINVAL);
    io.flags = 0;
    io.iov = &hole;                                     /* NULL base, a length */
    ck_assert_int_eq(xf_blkfront_submit(bf, &io), -XF_EINVAL);
    io.iov = NULL;                                      /* no vector */
    ck_assert_int_eq(xf_blkfront_submit(bf, &io), -XF_EINVAL);
    io.iov = &iov;
    io.nr_iov = 0;                                      /* an empty one */
    ck_assert_int_eq(xf_blkfront_submit(bf, &io), -XF_EINVAL);
    io.iov = huge;                                      /* 3 GiB: more than 2^31 bytes */
    io.nr_iov = 2;
    ck_assert_int_eq(xf_blkfront_submit(bf, &io), -XF_EINVAL);
    ck_assert_int_eq(xf_blkfront_submit(NULL, &io), -XF_EINVAL);
    ck_assert_int_eq(xf_blkfront_submit(bf, NULL), -XF_EINVAL);
    ck_assert_uint_eq(xf_blkfront_pending(bf), 0);
    ck_assert_int_eq(xf_blkfront_close(bf, DEADLINE_MS(5000)), 0);
    assert_nothing_held();
    world_down();
}
END_TEST

/* A completion callback that runs inside close (close fails what is
 * pending) and submits again is refused with -XF_ENOTCONN, and the I/O it
 * tried never runs: close does not leave work behind in a freed context. */
static struct xf_blkfront_io retry_io;
static int retry_rc = 1, first_status = 1, service_rc = 1;

static void resubmit_done(struct xf_blkfront *bf, struct xf_blkfront_io *io, int status, void *arg)
{
    (void)io;
    (void)arg;
    first_status = status;
    retry_rc = xf_blkfront_submit(bf, &retry_io);
    service_rc = xf_blkfront_service(bf, DEADLINE_MS(100));
}

START_TEST(test_cov_resubmit_during_close)
{
    static uint8_t buf[4096] __attribute__((aligned(4096)));
    struct xf_blkfront_iov iov = { buf, sizeof(buf) };
    struct xf_blkfront_io io;
    struct xf_blkfront *bf;

    world_up(NULL);
    bf = open_dev(NULL);
    xf_blkback_pause(bb, true);                         /* the read stays pending */
    memset(&io, 0, sizeof(io));
    io.op = XF_BLKFRONT_READ;
    io.iov = &iov;
    io.nr_iov = 1;
    io.done = resubmit_done;
    retry_io = io;
    retry_io.done = NULL;
    ck_assert_int_eq(xf_blkfront_submit(bf, &io), 0);
    ck_assert_uint_eq(xf_blkfront_pending(bf), 1);
    ck_assert_int_ge(xf_blkfront_close(bf, DEADLINE_MS(5000)), -XF_ETIMEDOUT);
    xf_blkback_pause(bb, false);
    ck_assert_int_eq(first_status, -XF_ENOTCONN);
    ck_assert_int_eq(retry_rc, -XF_ENOTCONN);
    ck_assert_int_eq(service_rc, -XF_ENOTCONN);
    assert_nothing_held();
    world_down();
}
END_TEST

/* The toolstack makes the device's state node read-only while the device
 * is connected: close cannot write Closing, tears down all the same, returns
 * 0 and holds nothing (the ring pages' grants end or are deferred). */
START_TEST(test_cov_close_store_refuses)
{
    const char *ro[2] = { "n0", NULL };
    char path[32], state[160];
    struct xf_blkfront *bf;

    world_up(NULL);
    bf = open_dev(NULL);
    snprintf(path, sizeof(path), "r%u", (unsigned)guest);
    ro[1] = path;
    snprintf(state, sizeof(state), "%s/state", fe);
    ck_assert_int_eq(xf_xsd_set_perms(xsd, state, ro, 2), 0);
    ck_assert_int_eq(xf_blkfront_close(bf, DEADLINE_MS(3000)), 0);
    assert_nothing_held();
    world_down();
}
END_TEST

/* The rest of the API on NULL. */
START_TEST(test_cov_service_arguments)
{
    ck_assert_int_eq(xf_blkfront_service(NULL, DEADLINE_MS(100)), -XF_EINVAL);
    ck_assert(!xf_blkfront_needs_service(NULL));
}
END_TEST

int main(void)
{
    Suite *s = suite_create("blkfront_cov");
    TCase *tc = tcase_create("blkfront_cov");

    tcase_set_timeout(tc, valgrind() ? 600 : 120);
    tcase_add_test(tc, test_cov_open_arguments);
    tcase_add_test(tc, test_cov_open_no_event_channel);
    tcase_add_test(tc, test_cov_open_no_grant_references);
    tcase_add_test(tc, test_cov_open_no_memory);
    tcase_add_test(tc, test_cov_open_store_refuses);
    tcase_add_test(tc, test_cov_service_arguments);
    tcase_add_test(tc, test_cov_backend_states);
    tcase_add_test(tc, test_cov_no_watch_slot_and_bad_submissions);
    tcase_add_test(tc, test_cov_resubmit_during_close);
    tcase_add_test(tc, test_cov_close_store_refuses);
    suite_add_tcase(s, tc);
    return xf_check_run(s);
}
