/*
 * The device layer's refusals and failing paths, which the main test
 * (test_frontdev.c) does not reach: every entry point's argument checks, a
 * ring set-up that runs out of grant references half-way, an event channel
 * Xen will not give, a teardown that cannot even defer (no memory for its
 * bookkeeping, or the deferred list full), and a store that refuses or does
 * not answer. Each failing call must return a negative errno and leave
 * nothing held (no grant, no port, no watch).
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <xenfront/errno.h>
#include <xenfront/frontdev.h>
#include <xenfront/sim.h>
#include <xenfront/xsd.h>
#include <xf_check.h>

#define MS_NS 1000000ull
#define DEADLINE_MS(ms) (xf_plat_now_ns() + (uint64_t)(ms) * MS_NS)

static struct xf_sim *sim;
static domid_t guest;
static struct xf_evtchn *ec;
static struct xf_xsd *xsd;
static struct xf_xenbus *xb;
static struct xf_gnttab *gt;
static struct xf_frontdev fd;
static char fe[128], be[128];

static void upcall(void *arg, unsigned vcpu)
{
    (void)vcpu;
    xf_evtchn_dispatch(arg, 0);
}

static void put(const char *dir, const char *node, const char *val)
{
    char path[256];

    snprintf(path, sizeof(path), "%s/%s", dir, node);
    ck_assert_int_eq(xf_xsd_write(xsd, path, val, strlen(val)), 0);
}

/* Owner-only permissions (the guest's own nodes, or dom0's). */
static void perms(const char *dir, const char *node, domid_t owner, const char *other)
{
    char path[256], o[16];
    const char *p[2] = { o, other };

    snprintf(path, sizeof(path), "%s%s%s", dir, node[0] ? "/" : "", node);
    snprintf(o, sizeof(o), "n%u", (unsigned)owner);
    ck_assert_int_eq(xf_xsd_set_perms(xsd, path, p, other != NULL ? 2 : 1), 0);
}

/* A world with the given guest limits and gnttab/xenbus configurations. */
static void up(const struct xf_sim_config *scfg, const struct xf_gnttab_config *gcfg,
               const struct xf_xenbus_config *xcfg)
{
    uint64_t pfn;
    evtchn_port_t sp;
    char r[16];

    sim = xf_sim_create(scfg);
    ck_assert_ptr_nonnull(sim);
    guest = xf_sim_guest_domid(sim);
    ck_assert_int_eq(xf_evtchn_create(&ec, NULL), 0);
    xf_sim_set_upcall_handler(sim, guest, upcall, ec);
    ck_assert_int_eq(xf_evtchn_upcall_setup(ec, XF_EVTCHN_UPCALL_VCPU_VECTOR, 0xf3), 0);
    xsd = xf_xsd_start(sim, guest, NULL);
    ck_assert_ptr_nonnull(xsd);
    ck_assert_int_eq(xf_xenbus_hvm_store(&pfn, &sp), 0);
    ck_assert_int_eq(xf_xenbus_create_ring(&xb, xcfg, ec, xf_sim_gfn_to_va(sim, guest, pfn), sp),
                     0);
    ck_assert_int_eq(xf_gnttab_create(&gt, gcfg), 0);
    snprintf(fe, sizeof(fe), "/local/domain/%u/device/vbd/5", (unsigned)guest);
    snprintf(be, sizeof(be), "/local/domain/0/backend/vbd/%u/5", (unsigned)guest);
    put(fe, "backend", be);
    put(fe, "backend-id", "0");
    put(fe, "state", "1");
    put(be, "state", "2");
    snprintf(r, sizeof(r), "r%u", (unsigned)guest);
    perms(fe, "", guest, "r0");
    perms(fe, "backend", guest, "r0");
    perms(fe, "backend-id", guest, "r0");
    perms(fe, "state", guest, "r0");
    perms(be, "", 0, r);
    perms(be, "state", 0, r);
    memset(&fd, 0, sizeof(fd));
}

static void down(void)
{
    struct xf_gnttab_stats st;

    xf_frontdev_close(&fd, DEADLINE_MS(1000));
    (void)xf_gnttab_reclaim(gt);
    xf_gnttab_get_stats(gt, &st);
    ck_assert_uint_eq(st.granted_refs, 0);
    ck_assert_uint_eq(st.reserved_refs, 0);
    ck_assert_uint_eq(xf_evtchn_nr_bound(ec), 1);    /* only xenstore's */
    ck_assert_uint_eq(xf_xenbus_watch_count(xb), 0);
    ck_assert_int_eq(xf_gnttab_destroy(gt), 0);
    xf_xenbus_destroy(xb);
    xf_xsd_stop(xsd);
    xf_evtchn_destroy(ec);
    xf_sim_destroy(sim);
}

static void open_dev(void)
{
    ck_assert_int_eq(xf_frontdev_open(&fd, xb, ec, gt, "vbd", "5", NULL, NULL,
                                      DEADLINE_MS(5000)), 0);
}

static uint32_t held(void)
{
    struct xf_gnttab_stats st;

    xf_gnttab_get_stats(gt, &st);
    return st.granted_refs + st.reserved_refs;
}

static int body_ok(struct xf_frontdev *d, xf_xenbus_tx_t tx, void *arg, uint64_t dl)
{
    (void)arg;
    return xf_frontdev_write_str(d, tx, NULL, "k", "v", dl);
}

static int body_fails(struct xf_frontdev *d, xf_xenbus_tx_t tx, void *arg, uint64_t dl)
{
    (void)d, (void)tx, (void)arg, (void)dl;
    return -XF_EPROTO;
}

/* Every entry point refuses what its contract says it refuses. */
START_TEST(arguments_refused)
{
    struct xf_frontdev closed;
    struct xf_frontdev_ring ring;
    evtchn_port_t port = 7;
    uint64_t v = 5;
    bool f = true;
    char buf[32];

    up(NULL, NULL, NULL);
    memset(&closed, 0, sizeof(closed));
    /* path */
    ck_assert_int_eq(xf_frontdev_path(NULL, 8, "a", "b", -1), -XF_EINVAL);
    ck_assert_int_eq(xf_frontdev_path(buf, 0, "a", "b", -1), -XF_EINVAL);
    ck_assert_int_eq(xf_frontdev_path(buf, sizeof(buf), NULL, NULL, -1), 0);
    ck_assert_str_eq(buf, "");
    ck_assert_int_eq(xf_frontdev_path(buf, sizeof(buf), "a", NULL, -1), 1);
    ck_assert_int_eq(xf_frontdev_path(buf, sizeof(buf), NULL, "k", 3), 2);
    ck_assert_str_eq(buf, "k3");
    ck_assert_int_eq(xf_frontdev_path(buf, 3, "abc", NULL, -1), -XF_ENAMETOOLONG);
    /* open */
    ck_assert_int_eq(xf_frontdev_open(NULL, xb, ec, gt, "vbd", "5", NULL, NULL, DEADLINE_MS(100)),
                     -XF_EINVAL);
    ck_assert_int_eq(xf_frontdev_open(&fd, NULL, ec, gt, "vbd", "5", NULL, NULL, DEADLINE_MS(100)),
                     -XF_EINVAL);
    ck_assert_int_eq(xf_frontdev_open(&fd, xb, NULL, gt, "vbd", "5", NULL, NULL, DEADLINE_MS(100)),
                     -XF_EINVAL);
    ck_assert_int_eq(xf_frontdev_open(&fd, xb, ec, NULL, "vbd", "5", NULL, NULL, DEADLINE_MS(100)),
                     -XF_EINVAL);
    ck_assert_int_eq(xf_frontdev_open(&fd, xb, ec, gt, NULL, "5", NULL, NULL, DEADLINE_MS(100)),
                     -XF_EINVAL);
    ck_assert_int_eq(xf_frontdev_open(&fd, xb, ec, gt, "vbd", "", NULL, NULL, DEADLINE_MS(100)),
                     -XF_EINVAL);
    /* everything else, on NULL and on a device that is not open */
    ck_assert_int_eq(xf_frontdev_service(NULL, true, DEADLINE_MS(100)), -XF_EINVAL);
    ck_assert_int_eq(xf_frontdev_service(&closed, true, DEADLINE_MS(100)), -XF_EINVAL);
    ck_assert_int_eq(xf_frontdev_switch(NULL, XenbusStateConnected, DEADLINE_MS(100)), -XF_EINVAL);
    ck_assert_int_eq(xf_frontdev_switch(&closed, XenbusStateConnected, DEADLINE_MS(100)),
                     -XF_EINVAL);
    ck_assert_int_eq(xf_frontdev_wait_backend(NULL, 1, NULL, DEADLINE_MS(100)), -XF_EINVAL);
    ck_assert_int_eq(xf_frontdev_wait_backend(&closed, 1, NULL, DEADLINE_MS(100)), -XF_EINVAL);
    ck_assert_int_eq(xf_frontdev_fatal(NULL, -XF_EIO, "x", DEADLINE_MS(100)), -XF_EINVAL);
    ck_assert_int_eq(xf_frontdev_fatal(&closed, -XF_EIO, "x", DEADLINE_MS(100)), -XF_EINVAL);
    ck_assert_int_eq(xf_frontdev_publish(NULL, body_ok, NULL, DEADLINE_MS(100)), -XF_EINVAL);
    ck_assert_int_eq(xf_frontdev_publish(&closed, body_ok, NULL, DEADLINE_MS(100)), -XF_EINVAL);
    ck_assert_int_eq(xf_frontdev_ring_setup(NULL, &ring, 0), -XF_EINVAL);
    ck_assert_int_eq(xf_frontdev_ring_setup(&closed, &ring, 0), -XF_EINVAL);
    ck_assert_int_eq(xf_frontdev_ring_teardown(NULL, &ring), -XF_EINVAL);
    ck_assert_int_eq(xf_frontdev_evtchn_alloc(NULL, NULL, NULL, &port), -XF_EINVAL);
    ck_assert_int_eq(xf_frontdev_evtchn_alloc(&closed, NULL, NULL, &port), -XF_EINVAL);
    ck_assert_uint_eq(port, 7);
    xf_frontdev_evtchn_free(NULL, 5);               /* ignored */
    xf_frontdev_close(NULL, DEADLINE_MS(100));      /* ignored */
    xf_frontdev_close(&closed, DEADLINE_MS(100));   /* ignored */
    ck_assert_int_eq(xf_frontdev_write_uint(NULL, XF_XENBUS_TX_NONE, NULL, "k", 1,
                                            DEADLINE_MS(100)), -XF_EINVAL);
    ck_assert_int_eq(xf_frontdev_write_uint(&closed, XF_XENBUS_TX_NONE, NULL, "k", 1,
                                            DEADLINE_MS(100)), -XF_EINVAL);
    ck_assert_int_eq(xf_frontdev_write_str(NULL, XF_XENBUS_TX_NONE, NULL, "k", "v",
                                           DEADLINE_MS(100)), -XF_EINVAL);
    ck_assert_int_eq(xf_frontdev_write_str(&closed, XF_XENBUS_TX_NONE, NULL, "k", "v",
                                           DEADLINE_MS(100)), -XF_EINVAL);
    ck_assert_int_eq(xf_frontdev_read_uint(NULL, "k", 1, 0, &v, DEADLINE_MS(100)), -XF_EINVAL);
    ck_assert_int_eq(xf_frontdev_read_uint(&closed, "k", 1, 0, &v, DEADLINE_MS(100)),
                     -XF_EINVAL);
    ck_assert_int_eq(xf_frontdev_read_feature(NULL, "k", &f, DEADLINE_MS(100)), -XF_EINVAL);
    ck_assert_int_eq(xf_frontdev_read_feature(&closed, "k", &f, DEADLINE_MS(100)), -XF_EINVAL);
    ck_assert_int_eq(xf_frontdev_read_str(NULL, "k", buf, sizeof(buf), DEADLINE_MS(100)),
                     -XF_EINVAL);
    ck_assert_int_eq(xf_frontdev_read_str(&closed, "k", buf, sizeof(buf), DEADLINE_MS(100)),
                     -XF_EINVAL);
    ck_assert_uint_eq(v, 5);
    ck_assert(f);

    /* Open, then the NULLs of each call's own arguments. */
    open_dev();
    ck_assert_int_eq(xf_frontdev_publish(&fd, NULL, NULL, DEADLINE_MS(100)), -XF_EINVAL);
    ck_assert_int_eq(xf_frontdev_ring_setup(&fd, NULL, 0), -XF_EINVAL);
    ck_assert_int_eq(xf_frontdev_ring_teardown(&fd, NULL), -XF_EINVAL);
    ck_assert_int_eq(xf_frontdev_evtchn_alloc(&fd, NULL, NULL, NULL), -XF_EINVAL);
    xf_frontdev_evtchn_free(&fd, 0);                 /* port 0: nothing */
    ck_assert_int_eq(xf_frontdev_write_uint(&fd, XF_XENBUS_TX_NONE, NULL, NULL, 1,
                                            DEADLINE_MS(100)), -XF_EINVAL);
    ck_assert_int_eq(xf_frontdev_write_str(&fd, XF_XENBUS_TX_NONE, NULL, NULL, "v",
                                           DEADLINE_MS(100)), -XF_EINVAL);
    ck_assert_int_eq(xf_frontdev_write_str(&fd, XF_XENBUS_TX_NONE, NULL, "k", NULL,
                                           DEADLINE_MS(100)), -XF_EINVAL);
    ck_assert_int_eq(xf_frontdev_write_str(&fd, XF_XENBUS_TX_NONE, "a/b", "k", "v",
                                           DEADLINE_MS(100)), -XF_EINVAL);
    ck_assert_int_eq(xf_frontdev_read_uint(&fd, NULL, 1, 0, &v, DEADLINE_MS(100)), -XF_EINVAL);
    ck_assert_int_eq(xf_frontdev_read_uint(&fd, "k", 1, 0, NULL, DEADLINE_MS(100)), -XF_EINVAL);
    ck_assert_int_eq(xf_frontdev_read_feature(&fd, NULL, &f, DEADLINE_MS(100)), -XF_EINVAL);
    ck_assert_int_eq(xf_frontdev_read_feature(&fd, "k", NULL, DEADLINE_MS(100)), -XF_EINVAL);
    ck_assert_int_eq(xf_frontdev_read_str(&fd, NULL, buf, sizeof(buf), DEADLINE_MS(100)),
                     -XF_EINVAL);
    ck_assert_int_eq(xf_frontdev_read_str(&fd, "k", NULL, sizeof(buf), DEADLINE_MS(100)),
                     -XF_EINVAL);
    /* write_ring: no ring, not granted, a bad name */
    memset(&ring, 0, sizeof(ring));
    ck_assert_int_eq(xf_frontdev_write_ring(NULL, XF_XENBUS_TX_NONE, NULL, "ring-ref", &ring,
                                            DEADLINE_MS(100)), -XF_EINVAL);
    ck_assert_int_eq(xf_frontdev_write_ring(&fd, XF_XENBUS_TX_NONE, NULL, "ring-ref", NULL,
                                            DEADLINE_MS(100)), -XF_EINVAL);
    ck_assert_int_eq(xf_frontdev_write_ring(&fd, XF_XENBUS_TX_NONE, NULL, NULL, &ring,
                                            DEADLINE_MS(100)), -XF_EINVAL);
    ck_assert_int_eq(xf_frontdev_write_ring(&fd, XF_XENBUS_TX_NONE, NULL, "ring-ref", &ring,
                                            DEADLINE_MS(100)), -XF_EINVAL);
    ring.granted = true;
    ck_assert_int_eq(xf_frontdev_write_ring(&fd, XF_XENBUS_TX_NONE, NULL, "a/b", &ring,
                                            DEADLINE_MS(100)), -XF_EINVAL);
    /* fatal with no text, and with a text longer than the error node */
    {
        char longtext[400];

        memset(longtext, 'y', sizeof(longtext) - 1);
        longtext[sizeof(longtext) - 1] = '\0';
        ck_assert_int_eq(xf_frontdev_fatal(&fd, XF_EIO, NULL, DEADLINE_MS(2000)), 0);
        ck_assert_int_eq(xf_frontdev_fatal(&fd, -XF_EIO, longtext, DEADLINE_MS(2000)), 0);
        ck_assert_int_ge(xf_xsd_read(xsd, "/local/domain/1/device/vbd/5/error", buf,
                                     sizeof(buf)), 0);
        ck_assert(strncmp(buf, "5 yyyy", 6) == 0);
    }
    down();
}
END_TEST

/* A ring of 16 pages when only a few references are left: the set-up fails
 * with libgnttab's -XF_ENOSPC and gives back the ones it took. */
START_TEST(ring_setup_out_of_references)
{
    struct xf_sim_config scfg = { .guest = { .max_grant_frames = 1 } };
    struct xf_frontdev_ring rings[64], big;
    struct xf_gnttab_stats st;
    unsigned n = 0;
    uint32_t before;

    up(&scfg, NULL, NULL);
    open_dev();
    /* Take references in 8-page rings until fewer than 16 are left. */
    for (;;) {
        xf_gnttab_get_stats(gt, &st);
        if (st.free_refs < 24 || n == 64)
            break;
        ck_assert_int_eq(xf_frontdev_ring_setup(&fd, &rings[n], 3), 0);
        n++;
    }
    ck_assert_uint_gt(n, 0);
    xf_gnttab_get_stats(gt, &st);
    while (st.free_refs >= 16) {
        grant_ref_t r;

        ck_assert_int_eq(xf_frontdev_ring_setup(&fd, &rings[n], 0), 0);
        n++;
        (void)r;
        xf_gnttab_get_stats(gt, &st);
    }
    before = held();
    memset(&big, 0x5a, sizeof(big));
    ck_assert_int_eq(xf_frontdev_ring_setup(&fd, &big, 4), -XF_ENOSPC);
    ck_assert_ptr_null(big.sring);
    ck_assert(!big.granted);
    ck_assert_uint_eq(held(), before);
    while (n-- > 0)
        ck_assert_int_eq(xf_frontdev_ring_teardown(&fd, &rings[n]), 0);
    down();
}
END_TEST

/* No memory for the ring pages themselves, nor for a deferred teardown's
 * bookkeeping: the set-up fails with -XF_ENOMEM holding nothing; the
 * teardown of a ring the back end still maps leaks it (never freed while
 * mapped) and says so with -XF_ENOMEM. */
START_TEST(no_memory)
{
    struct xf_sim_config scfg = { .guest = { .ram_frames = 256 } };
    struct xf_frontdev_ring ring, fail;
    grant_handle_t h;
    int16_t gst;
    void *hog[512];
    unsigned nhog = 0;
    grant_ref_t ref0;

    up(&scfg, NULL, NULL);
    open_dev();
    ck_assert_int_eq(xf_frontdev_ring_setup(&fd, &ring, 1), 0);
    ref0 = ring.refs[0];
    ck_assert_ptr_nonnull(xf_sim_map_grant(sim, 0, guest, ring.refs[0], false, &h, &gst));
    /* Eat the rest of the guest's RAM. */
    while (nhog < 512 && (hog[nhog] = xf_plat_page_alloc(1)) != NULL)
        nhog++;
    ck_assert_uint_lt(nhog, 512);
    memset(&fail, 0x5a, sizeof(fail));
    ck_assert_int_eq(xf_frontdev_ring_setup(&fd, &fail, 0), -XF_ENOMEM);
    ck_assert_ptr_null(fail.sring);
    ck_assert_int_eq(xf_frontdev_ring_teardown(&fd, &ring), -XF_ENOMEM);
    ck_assert_ptr_null(ring.sring);
    ck_assert(!ring.granted);
    /* The mapped page's grant is still live (it was not freed under the
     * back end); once it lets go, the test ends the grant itself. */
    ck_assert_int_eq(xf_gnttab_end_access(gt, ref0), -XF_EBUSY);
    ck_assert_int_eq(xf_sim_unmap_grant(sim, 0, h), GNTST_okay);
    ck_assert_int_eq(xf_gnttab_end_access(gt, ref0), 0);
    while (nhog > 0)
        xf_plat_page_free(hog[--nhog], 1);
    down();
}
END_TEST

/* The deferred list holds one entry: a 2-page ring the back end maps
 * entirely defers one page and leaks the other (-XF_ENOSPC). */
START_TEST(deferred_list_full)
{
    struct xf_gnttab_config gcfg = { .deferred_max = 1 };
    struct xf_frontdev_ring ring;
    grant_handle_t h[2];
    grant_ref_t refs[2];
    int16_t gst;

    up(NULL, &gcfg, NULL);
    open_dev();
    ck_assert_int_eq(xf_frontdev_ring_setup(&fd, &ring, 1), 0);
    for (int i = 0; i < 2; i++) {
        refs[i] = ring.refs[i];
        ck_assert_ptr_nonnull(xf_sim_map_grant(sim, 0, guest, refs[i], false, &h[i], &gst));
    }
    ck_assert_int_eq(xf_frontdev_ring_teardown(&fd, &ring), -XF_ENOSPC);
    ck_assert_uint_eq(xf_gnttab_deferred_count(gt), 1);
    for (int i = 0; i < 2; i++)
        ck_assert_int_eq(xf_sim_unmap_grant(sim, 0, h[i]), GNTST_okay);
    /* The deferred page is reclaimed; the leaked one is still granted. */
    ck_assert_uint_eq(xf_gnttab_reclaim(gt), 0);
    ck_assert_int_eq(xf_gnttab_end_access(gt, refs[1]), 0);
    down();
}
END_TEST

/* Xen gives no more event channels: the alloc fails with its error, and
 * the port variable and the bound count are as they were. */
START_TEST(no_event_channel)
{
    struct xf_sim_config scfg = { .guest = { .max_evtchn_port = 8 } };
    evtchn_port_t ports[16], port;
    unsigned n = 0, bound;
    int rc;

    up(&scfg, NULL, NULL);
    open_dev();
    while (n < 16 && (rc = xf_frontdev_evtchn_alloc(&fd, NULL, NULL, &ports[n])) == 0)
        n++;
    ck_assert_uint_lt(n, 16);
    ck_assert_int_lt(rc, 0);
    bound = xf_evtchn_nr_bound(ec);
    port = 4242;
    ck_assert_int_lt(xf_frontdev_evtchn_alloc(&fd, NULL, NULL, &port), 0);
    ck_assert_uint_eq(port, 4242);
    ck_assert_uint_eq(xf_evtchn_nr_bound(ec), bound);
    while (n > 0)
        xf_frontdev_evtchn_free(&fd, ports[--n]);
    down();
}
END_TEST

/* A store that refuses the guest's writes (the toolstack made its device
 * directory read-only), then one that does not answer: each call returns
 * the store's error, and service keeps the change pending for later. */
START_TEST(store_refuses_and_goes_silent)
{
    struct xf_frontdev_ring ring;
    uint64_t v = 3;
    bool f = true;
    char buf[32];

    up(NULL, NULL, NULL);
    open_dev();
    ck_assert_int_eq(xf_frontdev_ring_setup(&fd, &ring, 1), 0);
    perms(fe, "", 0, "r1");                       /* dom0's now, readable */
    ck_assert_int_eq(xf_frontdev_write_uint(&fd, XF_XENBUS_TX_NONE, NULL, "k", 1,
                                            DEADLINE_MS(2000)), -XF_EACCES);
    ck_assert_int_eq(xf_frontdev_write_ring(&fd, XF_XENBUS_TX_NONE, NULL, "ring-ref", &ring,
                                            DEADLINE_MS(2000)), -XF_EACCES);
    ck_assert_int_lt(xf_frontdev_publish(&fd, body_ok, NULL, DEADLINE_MS(2000)), 0);
    ck_assert_int_eq(xf_frontdev_publish(&fd, body_fails, NULL, DEADLINE_MS(2000)), -XF_EPROTO);
    ck_assert_int_lt(xf_frontdev_fatal(&fd, -XF_EIO, "x", DEADLINE_MS(2000)), 0);
    perms(fe, "", guest, "r0");
    /* A back-end key the guest may not read. */
    put(be, "secret", "1");
    perms(be, "secret", 0, NULL);
    ck_assert_int_eq(xf_frontdev_read_uint(&fd, "secret", 9, 0, &v, DEADLINE_MS(2000)),
                     -XF_EACCES);
    ck_assert_int_eq(xf_frontdev_read_feature(&fd, "secret", &f, DEADLINE_MS(2000)), -XF_EACCES);
    ck_assert_uint_eq(v, 3);
    ck_assert(f);
    /* Silent: every request times out. */
    xf_xsd_misbehave(xsd, XF_XSD_SILENT, 0);
    ck_assert_int_eq(xf_frontdev_service(&fd, true, DEADLINE_MS(50)), -XF_ETIMEDOUT);
    ck_assert(xf_frontdev_changed(&fd));          /* still to be looked at */
    ck_assert_int_eq(xf_frontdev_read_str(&fd, "state", buf, sizeof(buf), DEADLINE_MS(50)),
                     -XF_ETIMEDOUT);
    ck_assert_int_eq(xf_frontdev_read_uint(&fd, "state", 9, 0, &v, DEADLINE_MS(50)),
                     -XF_ETIMEDOUT);
    xf_xsd_misbehave(xsd, XF_XSD_HONEST, 0);
    ck_assert_int_eq(xf_frontdev_ring_teardown(&fd, &ring), 0);
    down();
}
END_TEST

/* open fails after its watch is in place (the state cannot be read) or
 * when no watch can be added: nothing is held either way. */
START_TEST(open_fails_cleanly)
{
    struct xf_xenbus_config xcfg = { .max_watches = 1 };
    struct xf_xenbus_watch *w;

    up(NULL, NULL, &xcfg);
    ck_assert_int_eq(xf_xenbus_watch_add(xb, "/x", "other", NULL, NULL, &w, DEADLINE_MS(2000)),
                     0);
    ck_assert_int_lt(xf_frontdev_open(&fd, xb, ec, gt, "vbd", "5", NULL, NULL,
                                      DEADLINE_MS(2000)), 0);
    ck_assert(!fd.open);
    ck_assert_uint_eq(xf_xenbus_watch_count(xb), 1);
    ck_assert_int_eq(xf_xenbus_watch_remove(xb, w, DEADLINE_MS(2000)), 0);
    /* The state read times out after the watch was added: removed again. */
    xf_xsd_misbehave(xsd, XF_XSD_SILENT, 0);
    ck_assert_int_lt(xf_frontdev_open(&fd, xb, ec, gt, "vbd", "5", NULL, NULL,
                                      DEADLINE_MS(100)), 0);
    xf_xsd_misbehave(xsd, XF_XSD_HONEST, 0);
    ck_assert(!fd.open);
    /* Wait for the store to answer the abandoned requests, then check. */
    {
        uint64_t dl = DEADLINE_MS(5000);

        while (xf_xenbus_watch_count(xb) != 0 && xf_plat_now_ns() < dl) {
            (void)xf_xenbus_process(xb);
            (void)xf_plat_wait(DEADLINE_MS(5));
        }
    }
    down();
}
END_TEST

int main(void)
{
    Suite *s = suite_create("frontdev_cov");
    TCase *tc = tcase_create("frontdev_cov");

    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, arguments_refused);
    tcase_add_test(tc, ring_setup_out_of_references);
    tcase_add_test(tc, no_memory);
    tcase_add_test(tc, deferred_list_full);
    tcase_add_test(tc, no_event_channel);
    tcase_add_test(tc, store_refuses_and_goes_silent);
    tcase_add_test(tc, open_fails_cleanly);
    suite_add_tcase(s, tc);
    return xf_check_run(s);
}
