/*
 * The front-end device layer against the simulator and the simulated
 * xenstored, with the test playing the toolstack and the back end: open,
 * state following, rings of 1 and 16 pages published (in one transaction,
 * under queue-N/), teardown deferred while the back end maps a page, the
 * fatal path, hostile key values, and a back end that tries to jam the
 * state watch.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <xenfront/errno.h>
#include <xenfront/frontdev.h>
#include <xenfront/ring.h>
#include <xenfront/sim.h>
#include <xenfront/xsd.h>
#include <xf_check.h>

#include <xen/io/blkif.h>

#define MS_NS 1000000ull
#define DEADLINE_MS(ms) (xf_plat_now_ns() + (uint64_t)(ms) * MS_NS)

static struct xf_sim *sim;
static domid_t guest;
static struct xf_evtchn *ec;
static struct xf_xsd *xsd;
static struct xf_xenbus *xb;
static struct xf_gnttab *gt;
static struct xf_frontdev fd;
static char fe[128], be_dir[128];
static unsigned changes;

static void upcall(void *arg, unsigned vcpu)
{
    (void)vcpu;
    xf_evtchn_dispatch(arg, 0);
}

static void xs_write(const char *dir, const char *node, const char *val)
{
    char path[512];

    snprintf(path, sizeof(path), "%s/%s", dir, node);
    ck_assert_int_eq(xf_xsd_write(xsd, path, val, strlen(val)), 0);
}

static int xs_read(const char *dir, const char *node, char *buf, size_t cap)
{
    char path[512];

    snprintf(path, sizeof(path), "%s/%s", dir, node);
    return xf_xsd_read(xsd, path, buf, cap);
}

static long xs_int(const char *dir, const char *node)
{
    char buf[64];

    if (xs_read(dir, node, buf, sizeof(buf)) < 0)
        return -1;
    return atol(buf);
}

/* The toolstack's part: both directories, with libxl's permissions. */
static void toolstack_add(const char *type, const char *id)
{
    char path[512], owner[16], reader[16];
    const char *fe_perms[2], *be_perms[2];
    const char *fe_nodes[] = { "", "/backend", "/backend-id", "/state" };
    const char *be_nodes[] = { "", "/frontend", "/frontend-id", "/state" };

    snprintf(fe, sizeof(fe), "/local/domain/%u/device/%s/%s", (unsigned)guest, type, id);
    snprintf(be_dir, sizeof(be_dir), "/local/domain/0/backend/%s/%u/%s", type,
             (unsigned)guest, id);
    xs_write(fe, "backend", be_dir);
    xs_write(fe, "backend-id", "0");
    xs_write(fe, "state", "1");
    xs_write(be_dir, "frontend", fe);
    snprintf(owner, sizeof(owner), "%u", (unsigned)guest);
    xs_write(be_dir, "frontend-id", owner);
    xs_write(be_dir, "state", "2");
    snprintf(owner, sizeof(owner), "n%u", (unsigned)guest);
    snprintf(reader, sizeof(reader), "r%u", (unsigned)guest);
    fe_perms[0] = owner;
    fe_perms[1] = "r0";
    be_perms[0] = "n0";
    be_perms[1] = reader;
    for (unsigned i = 0; i < 4; i++) {
        snprintf(path, sizeof(path), "%s%s", fe, fe_nodes[i]);
        ck_assert_int_eq(xf_xsd_set_perms(xsd, path, fe_perms, 2), 0);
        snprintf(path, sizeof(path), "%s%s", be_dir, be_nodes[i]);
        ck_assert_int_eq(xf_xsd_set_perms(xsd, path, be_perms, 2), 0);
    }
}

static void on_change(struct xf_frontdev *d, void *arg)
{
    ck_assert_ptr_eq(d, &fd);
    ck_assert_ptr_eq(arg, &changes);
    changes++;
}

static void world_up(void)
{
    uint64_t pfn;
    evtchn_port_t sp;

    sim = xf_sim_create(NULL);
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
    toolstack_add("vbd", "768");
    changes = 0;
    memset(&fd, 0, sizeof(fd));
}

static void world_down(void)
{
    struct xf_gnttab_stats st;

    xf_frontdev_close(&fd, DEADLINE_MS(2000));
    (void)xf_gnttab_reclaim(gt);
    xf_gnttab_get_stats(gt, &st);
    ck_assert_uint_eq(st.granted_refs, 0);          /* nothing left behind */
    ck_assert_uint_eq(st.deferred, 0);
    ck_assert_uint_eq(xf_evtchn_nr_bound(ec), 1);   /* only xenstore's */
    ck_assert_int_eq(xf_gnttab_destroy(gt), 0);
    xf_xenbus_destroy(xb);
    xf_xsd_stop(xsd);
    xf_evtchn_destroy(ec);
    xf_sim_destroy(sim);
}

/* Service until the watch has reported a change and the state is read. */
static void await_state(XenbusState want)
{
    uint64_t deadline = DEADLINE_MS(5000);

    while (fd.backend_state != want) {
        ck_assert_uint_lt(xf_plat_now_ns(), deadline);
        (void)xf_plat_wait(DEADLINE_MS(5));
        ck_assert_int_ge(xf_frontdev_service(&fd, false, DEADLINE_MS(1000)), 0);
    }
}

struct pub {
    struct xf_frontdev_ring *a, *b;
    evtchn_port_t port;
};

static int publish_two_queues(struct xf_frontdev *d, xf_xenbus_tx_t tx, void *arg,
                              uint64_t deadline_ns)
{
    struct pub *p = arg;
    int rc = xf_frontdev_write_uint(d, tx, NULL, "multi-queue-num-queues", 2, deadline_ns);

    if (rc == 0)
        rc = xf_frontdev_write_ring(d, tx, "queue-0", "ring-ref", p->a, deadline_ns);
    if (rc == 0)
        rc = xf_frontdev_write_ring(d, tx, "queue-1", "ring-ref", p->b, deadline_ns);
    if (rc == 0)
        rc = xf_frontdev_write_uint(d, tx, "queue-0", "event-channel", p->port, deadline_ns);
    if (rc == 0)
        rc = xf_frontdev_write_str(d, tx, NULL, "protocol", "x86_64-abi",
                                   deadline_ns);
    return rc;
}

START_TEST(open_publish_follow_teardown)
{
    struct xf_frontdev_ring r0, r4;
    struct xf_front_ring ring;
    struct pub p;
    char dir[256];

    world_up();
    ck_assert_int_eq(xf_frontdev_open(&fd, xb, ec, gt, "vbd", "768", on_change, &changes,
                                      DEADLINE_MS(5000)), 0);
    ck_assert_str_eq(fd.dev.backend, be_dir);
    ck_assert_int_eq(fd.backend_state, XenbusStateInitWait);
    ck_assert_int_eq(xf_frontdev_ring_setup(&fd, &r0, 0), 0);
    ck_assert_int_eq(xf_frontdev_ring_setup(&fd, &r4, 4), 0);
    ck_assert_uint_eq(r4.bytes, 16 * XF_PAGE_SIZE);
    ck_assert_int_eq(xf_frontdev_ring_setup(&fd, &(struct xf_frontdev_ring){ 0 }, 5), -XF_EINVAL);
    ck_assert_int_eq(xf_front_ring_init(&ring, r4.sring, r4.bytes, XF_RING_SHAPE(blkif)), 0);
    p = (struct pub){ &r0, &r4, 0 };
    ck_assert_int_eq(xf_frontdev_evtchn_alloc(&fd, NULL, NULL, &p.port), 0);
    ck_assert_int_eq(xf_frontdev_publish(&fd, publish_two_queues, &p, DEADLINE_MS(5000)), 0);
    /* What a back end reads: the keys, where blkif.h puts them. */
    ck_assert_int_eq(xs_int(fe, "multi-queue-num-queues"), 2);
    snprintf(dir, sizeof(dir), "%s/queue-0", fe);
    ck_assert_int_eq(xs_int(dir, "ring-ref"), (long)r0.refs[0]);
    ck_assert_int_eq(xs_int(dir, "event-channel"), (long)p.port);
    ck_assert_int_eq(xs_int(dir, "ring-page-order"), -1);
    snprintf(dir, sizeof(dir), "%s/queue-1", fe);
    ck_assert_int_eq(xs_int(dir, "ring-page-order"), 4);
    for (int i = 0; i < 16; i++) {
        char key[16];

        snprintf(key, sizeof(key), "ring-ref%d", i);
        ck_assert_int_eq(xs_int(dir, key), (long)r4.refs[i]);
    }
    /* The back end maps page 3 of the big ring and keeps it. */
    {
        grant_handle_t h;
        int16_t st;
        unsigned char *m = xf_sim_map_grant(sim, 0, guest, r4.refs[3], false, &h, &st);

        ck_assert_ptr_nonnull(m);
        ck_assert_uint_eq(m[100], 0);                /* zeroed before granting */
        ck_assert_int_eq(xf_frontdev_ring_teardown(&fd, &r4), 1);      /* deferred */
        ck_assert_ptr_null(r4.sring);
        ck_assert_uint_eq(xf_gnttab_deferred_count(gt), 1);
        ck_assert_uint_eq(xf_gnttab_reclaim(gt), 1);
        ck_assert_int_eq(xf_sim_unmap_grant(sim, 0, h), GNTST_okay);
        ck_assert_uint_eq(xf_gnttab_reclaim(gt), 0);                   /* now freed */
    }
    ck_assert_int_eq(xf_frontdev_ring_teardown(&fd, &r0), 0);
    ck_assert_int_eq(xf_frontdev_ring_teardown(&fd, &r0), 0);          /* idempotent */
    /* The back end moves on: the watch says so, service reads it. */
    xs_write(be_dir, "state", "4");
    await_state(XenbusStateConnected);
    ck_assert_uint_gt(changes, 0);
    ck_assert_int_eq(xf_frontdev_service(&fd, false, DEADLINE_MS(1000)), 0);
    xf_frontdev_evtchn_free(&fd, p.port);
    world_down();
}
END_TEST

/* A back end writes a child of its state node with a name far longer than
 * any path buffer a driver would keep, then leaves: the watch must not be
 * left stuck on the long event, and the departure must be seen. */
START_TEST(long_event_does_not_jam_the_watch)
{
    char name[1900];
    char path[3000];

    world_up();
    ck_assert_int_eq(xf_frontdev_open(&fd, xb, ec, gt, "vbd", "768", NULL, NULL,
                                      DEADLINE_MS(5000)), 0);
    memset(name, 'x', sizeof(name) - 1);
    name[sizeof(name) - 1] = '\0';
    snprintf(path, sizeof(path), "%s/state/%s", be_dir, name);
    ck_assert_int_eq(xf_xsd_write(xsd, path, "1", 1), 0);
    /* Let the event arrive and the callback run. */
    for (int i = 0; i < 50 && !xf_frontdev_changed(&fd); i++)
        (void)xf_plat_wait(DEADLINE_MS(10));
    ck_assert(xf_frontdev_changed(&fd));
    ck_assert_int_ge(xf_frontdev_service(&fd, false, DEADLINE_MS(1000)), 0);
    ck_assert_uint_eq(xf_xenbus_watch_pending(fd.watch), 0);
    xs_write(be_dir, "state", "5");
    await_state(XenbusStateClosing);
    world_down();
}
END_TEST

START_TEST(hostile_keys_and_fatal)
{
    uint64_t v = 0;
    bool f = true;
    char buf[64];

    world_up();
    ck_assert_int_eq(xf_frontdev_open(&fd, xb, ec, gt, "vbd", "768", NULL, NULL,
                                      DEADLINE_MS(5000)), 0);
    xs_write(be_dir, "max-ring-page-order", "banana");
    xs_write(be_dir, "huge", "99999999999999999999999");
    xs_write(be_dir, "sectors", "2048");
    xs_write(be_dir, "feature-persistent", "2");
    ck_assert_int_eq(xf_frontdev_read_uint(&fd, "max-ring-page-order", 4, 0, &v,
                                           DEADLINE_MS(1000)), -XF_EINVAL);
    ck_assert_uint_eq(v, 0);                                  /* the default */
    ck_assert_int_eq(xf_frontdev_read_uint(&fd, "huge", UINT64_MAX, 7, &v, DEADLINE_MS(1000)),
                     -XF_EINVAL);
    ck_assert_uint_eq(v, 7);
    ck_assert_int_eq(xf_frontdev_read_uint(&fd, "sectors", 1000, 3, &v, DEADLINE_MS(1000)),
                     -XF_EINVAL);                             /* above max */
    ck_assert_int_eq(xf_frontdev_read_uint(&fd, "sectors", UINT64_MAX, 3, &v,
                                           DEADLINE_MS(1000)), 0);
    ck_assert_uint_eq(v, 2048);
    ck_assert_int_eq(xf_frontdev_read_uint(&fd, "absent", 10, 9, &v, DEADLINE_MS(1000)), 0);
    ck_assert_uint_eq(v, 9);
    ck_assert_int_eq(xf_frontdev_read_feature(&fd, "feature-persistent", &f, DEADLINE_MS(1000)),
                     -XF_EINVAL);
    ck_assert(!f);                                            /* never on by garbage */
    /* A state outside XenbusState reads as Unknown. */
    xs_write(be_dir, "state", "77");
    ck_assert_int_eq(xf_frontdev_service(&fd, true, DEADLINE_MS(1000)), 1);
    ck_assert_int_eq(fd.backend_state, XenbusStateUnknown);
    /* Paths that do not fit, names with a '/' */
    ck_assert_int_eq(xf_frontdev_path(buf, 8, "/local", "domain", 12), -XF_ENAMETOOLONG);
    ck_assert_str_eq(buf, "");
    ck_assert_int_eq(xf_frontdev_path(buf, sizeof(buf), "/a", "ring-ref", 15), 13);
    ck_assert_str_eq(buf, "/a/ring-ref15");
    ck_assert_int_eq(xf_frontdev_write_uint(&fd, XF_XENBUS_TX_NONE, "../x", "k", 1,
                                            DEADLINE_MS(1000)), -XF_EINVAL);
    /* The fatal path: error node, then Closing. */
    ck_assert_int_eq(xf_frontdev_fatal(&fd, -XF_EPROTO, "bad response id", DEADLINE_MS(2000)),
                     0);
    ck_assert_int_ge(xs_read(fe, "error", buf, sizeof(buf)), 0);
    ck_assert_str_eq(buf, "71 bad response id");
    ck_assert_int_eq(xs_int(fe, "state"), XenbusStateClosing);
    world_down();
}
END_TEST

START_TEST(open_refuses_bad_devices)
{
    struct xf_xenbus_watch *mine;

    world_up();
    /* A caller's watch on the same token does not stop the device opening. */
    ck_assert_int_eq(xf_xenbus_watch_add(xb, "/local/domain/0/x", "xf-fd:vbd/768", NULL, NULL,
                                         &mine, DEADLINE_MS(1000)), 0);
    ck_assert_int_eq(xf_frontdev_open(&fd, xb, ec, gt, "vbd", "768", NULL, NULL,
                                      DEADLINE_MS(1000)), 0);
    xf_frontdev_close(&fd, DEADLINE_MS(1000));
    ck_assert_int_eq(xf_xenbus_watch_remove(xb, mine, DEADLINE_MS(1000)), 0);
    ck_assert_int_eq(xf_frontdev_open(&fd, xb, ec, gt, "vbd", "1/2", NULL, NULL,
                                      DEADLINE_MS(1000)), -XF_EINVAL);
    ck_assert_int_eq(xf_frontdev_open(&fd, xb, ec, gt, "vbd", "999", NULL, NULL,
                                      DEADLINE_MS(1000)), -XF_ENOENT);
    ck_assert(!fd.open);
    xs_write(fe, "backend-id", "32752");                     /* DOMID_FIRST_RESERVED */
    ck_assert_int_lt(xf_frontdev_open(&fd, xb, ec, gt, "vbd", "768", NULL, NULL,
                                      DEADLINE_MS(1000)), 0);
    ck_assert_uint_eq(xf_xenbus_watch_count(xb), 0);         /* nothing held */
    world_down();
}
END_TEST

/* The longest names accepted (31 bytes each) still make a watch token that
 * fits libxenbus's limit; a name over 32 bytes is refused. (Before, a 48-byte
 * token buffer overflowed here.) */
START_TEST(longest_names)
{
    static const char t31[] = "abcdefghijabcdefghijabcdefghijA";
    static const char i31[] = "0123456789012345678901234567890";

    world_up();
    toolstack_add(t31, i31);
    ck_assert_int_eq(xf_frontdev_open(&fd, xb, ec, gt, t31, i31, NULL, NULL, DEADLINE_MS(5000)),
                     0);
    ck_assert_uint_le(strlen(fd.token), XF_XENBUS_TOKEN_MAX);
    ck_assert(strncmp(fd.token, "xf-fd:abcdefghijabcdefghijabcdefghijA/0123", 42) == 0);
    xf_frontdev_close(&fd, DEADLINE_MS(1000));
    ck_assert_int_eq(xf_frontdev_open(&fd, xb, ec, gt, "abcdefghijabcdefghijabcdefghijABC", i31, NULL,
                                      NULL, DEADLINE_MS(1000)), -XF_EINVAL);
    world_down();
}
END_TEST

int main(void)
{
    Suite *s = suite_create("frontdev");
    TCase *tc = tcase_create("frontdev");

    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, open_publish_follow_teardown);
    tcase_add_test(tc, long_event_does_not_jam_the_watch);
    tcase_add_test(tc, hostile_keys_and_fatal);
    tcase_add_test(tc, open_refuses_bad_devices);
    tcase_add_test(tc, longest_names);
    suite_add_tcase(s, tc);
    return xf_check_run(s);
}
