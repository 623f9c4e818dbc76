/*
 * libgnttab: deferred reclaim. A page whose grant the back end still holds
 * is handed back to its owner only once the back end lets go, exactly
 * once, and the deferred list never grows past its bound.
 */
#include "gnttab_test.h"

#define MAXP 16

/* What the release function saw. */
static struct {
    int calls;
    void *page[64];
    void *arg[64];
} rel;

static void release_cb(struct xf_gnttab *g, void *page, void *arg)
{
    ck_assert_ptr_eq(g, gt);
    if (rel.calls < 64) {
        rel.page[rel.calls] = page;
        rel.arg[rel.calls] = arg;
    }
    rel.calls++;
}

static int released(void *page)
{
    int n = 0;

    for (int i = 0; i < rel.calls && i < 64; i++)
        n += rel.page[i] == page;
    return n;
}

static void setup(void)
{
    memset(&rel, 0, sizeof(rel));
    gt_setup();
}

static void setup_bound4(void)
{
    struct xf_gnttab_config cfg = { .deferred_max = 4 };

    memset(&rel, 0, sizeof(rel));
    gt_setup_cfg(NULL, &cfg);
}

/* Grant n pages to dom0 and have dom0 map each. */
static void grant_and_map(int n, uint8_t **pages, grant_ref_t *refs, grant_handle_t *h)
{
    for (int i = 0; i < n; i++) {
        int16_t st;

        pages[i] = gt_page((uint8_t)i);
        ck_assert_int_eq(xf_gnttab_grant_page(gt, 0, pages[i], false, &refs[i]), 0);
        ck_assert_ptr_nonnull(xf_sim_map_grant(sim, 0, G, refs[i], false, &h[i], &st));
    }
}

START_TEST(unused_grant_ends_at_once)
{
    uint8_t *page = gt_page(0);
    grant_ref_t ref;
    int arg;

    ck_assert_int_eq(xf_gnttab_grant_page(gt, 0, page, false, &ref), 0);
    ck_assert_int_eq(xf_gnttab_end_access_deferred(gt, ref, page, release_cb, &arg), 0);
    ck_assert_int_eq(rel.calls, 1);                  /* before it returned */
    ck_assert_ptr_eq(rel.page[0], page);
    ck_assert_ptr_eq(rel.arg[0], &arg);
    ck_assert_uint_eq(xf_gnttab_deferred_count(gt), 0);
    ck_assert_uint_eq(gt_flags(ref), 0);
    ck_assert_uint_eq(gt_stats().granted_refs, 0);
    ck_assert_uint_eq(gt_stats().free_refs, 504);
}
END_TEST

START_TEST(reclaim_completes_when_backend_lets_go)
{
    uint8_t *page[1];
    grant_ref_t ref[1];
    grant_handle_t h[1];
    int16_t st;
    int arg;

    grant_and_map(1, page, ref, h);
    ck_assert_int_eq(xf_gnttab_end_access_deferred(gt, ref[0], page[0], release_cb, &arg), 1);
    ck_assert_int_eq(rel.calls, 0);
    ck_assert_uint_eq(xf_gnttab_deferred_count(gt), 1);
    /* The library owns it now: the caller can neither end nor free it. */
    ck_assert_int_eq(xf_gnttab_end_access(gt, ref[0]), -XF_EINVAL);
    ck_assert_int_eq(xf_gnttab_free_refs(gt, ref, 1), -XF_EBUSY);
    for (int i = 0; i < 10; i++)
        ck_assert_uint_eq(xf_gnttab_reclaim(gt), 1);
    ck_assert_int_eq(rel.calls, 0);                  /* never while mapped */
    ck_assert_uint_eq(gt_flags(ref[0]) & (GTF_reading | GTF_writing),
                      GTF_reading | GTF_writing);
    ck_assert_int_eq(xf_gnttab_destroy(gt), -XF_EBUSY);

    ck_assert_int_eq(xf_sim_unmap_grant(sim, 0, h[0]), GNTST_okay);
    ck_assert_int_eq(rel.calls, 0);                  /* only through reclaim */
    ck_assert_uint_eq(xf_gnttab_reclaim(gt), 0);
    ck_assert_int_eq(rel.calls, 1);
    ck_assert_ptr_eq(rel.page[0], page[0]);
    ck_assert_ptr_eq(rel.arg[0], &arg);
    ck_assert_uint_eq(gt_flags(ref[0]), 0);
    ck_assert_ptr_null(xf_sim_map_grant(sim, 0, G, ref[0], false, &h[0], &st));
    ck_assert_uint_eq(xf_gnttab_reclaim(gt), 0);
    ck_assert_int_eq(rel.calls, 1);                  /* exactly once */
    ck_assert_uint_eq(gt_stats().deferred_done, 1);
    ck_assert_uint_eq(gt_stats().free_refs, 504);
}
END_TEST

/* Several deferred; the back end lets go of some, in any order. */
START_TEST(reclaim_releases_each_once)
{
    uint8_t *page[10];
    grant_ref_t ref[10];
    grant_handle_t h[10];

    grant_and_map(10, page, ref, h);
    for (int i = 0; i < 10; i++)
        ck_assert_int_eq(xf_gnttab_end_access_deferred(gt, ref[i], page[i], release_cb,
                                                       (void *)(uintptr_t)i), 1);
    for (int i = 9; i >= 0; i -= 2)
        ck_assert_int_eq(xf_sim_unmap_grant(sim, 0, h[i]), GNTST_okay);
    ck_assert_uint_eq(xf_gnttab_reclaim(gt), 5);
    ck_assert_int_eq(rel.calls, 5);
    for (int i = 0; i < 10; i++)
        ck_assert_int_eq(released(page[i]), i % 2);
    for (int i = 0; i < 5; i++)
        ck_assert_ptr_eq(rel.page[i], page[(uintptr_t)rel.arg[i]]);
    for (int i = 0; i < 10; i += 2)
        ck_assert_int_eq(xf_sim_unmap_grant(sim, 0, h[i]), GNTST_okay);
    ck_assert_uint_eq(xf_gnttab_reclaim(gt), 0);
    ck_assert_int_eq(rel.calls, 10);
    for (int i = 0; i < 10; i++)
        ck_assert_int_eq(released(page[i]), 1);
    ck_assert_uint_eq(gt_stats().granted_refs, 0);
}
END_TEST

/* A back end that never lets go pins at most the bound. */
START_TEST(bound_holds_when_backend_never_lets_go)
{
    uint8_t *page[6];
    grant_ref_t ref[6];
    grant_handle_t h[6];

    grant_and_map(6, page, ref, h);
    ck_assert_uint_eq(gt_stats().deferred_max, 4);
    for (int i = 0; i < 4; i++)
        ck_assert_int_eq(xf_gnttab_end_access_deferred(gt, ref[i], page[i], release_cb, NULL),
                         1);
    for (int i = 4; i < 6; i++) {
        ck_assert_int_eq(xf_gnttab_end_access_deferred(gt, ref[i], page[i], release_cb, NULL),
                         -XF_ENOSPC);
        /* Nothing changed: still granted, still the caller's. */
        ck_assert_uint_eq(gt_flags(ref[i]) & GTF_type_mask, GTF_permit_access);
    }
    for (int round = 0; round < 1000; round++)
        ck_assert_uint_eq(xf_gnttab_reclaim(gt), 4);
    ck_assert_uint_eq(xf_gnttab_deferred_count(gt), 4);
    ck_assert_uint_eq(gt_stats().deferred, 4);
    ck_assert_uint_eq(gt_stats().granted_refs, 6);
    ck_assert_int_eq(rel.calls, 0);
    ck_assert_int_eq(xf_gnttab_destroy(gt), -XF_EBUSY);

    /* One lets go: a full list is retried before refusing, so the fifth
     * gets its place and the first's page comes back, with no explicit
     * reclaim. */
    ck_assert_int_eq(xf_sim_unmap_grant(sim, 0, h[0]), GNTST_okay);
    ck_assert_int_eq(xf_gnttab_end_access_deferred(gt, ref[4], page[4], release_cb, NULL), 1);
    ck_assert_int_eq(rel.calls, 1);
    ck_assert_ptr_eq(rel.page[0], page[0]);
    ck_assert_uint_eq(xf_gnttab_deferred_count(gt), 4);
    ck_assert_int_eq(xf_gnttab_end_access_deferred(gt, ref[5], page[5], release_cb, NULL),
                     -XF_ENOSPC);

    /* Two more let go: room for the sixth. */
    ck_assert_int_eq(xf_sim_unmap_grant(sim, 0, h[1]), GNTST_okay);
    ck_assert_int_eq(xf_sim_unmap_grant(sim, 0, h[2]), GNTST_okay);
    ck_assert_uint_eq(xf_gnttab_reclaim(gt), 2);
    ck_assert_int_eq(rel.calls, 3);
    ck_assert_int_eq(xf_gnttab_end_access_deferred(gt, ref[5], page[5], release_cb, NULL), 1);
    ck_assert_uint_eq(xf_gnttab_deferred_count(gt), 3);

    for (int i = 3; i < 6; i++)
        ck_assert_int_eq(xf_sim_unmap_grant(sim, 0, h[i]), GNTST_okay);
    ck_assert_uint_eq(xf_gnttab_reclaim(gt), 0);
    ck_assert_int_eq(rel.calls, 6);
    for (int i = 0; i < 6; i++)
        ck_assert_int_eq(released(page[i]), 1);
    ck_assert_uint_eq(gt_stats().granted_refs, 0);
}
END_TEST

/* The usual release function gives the page back to the allocator, and
 * may use the library (here: grant that very page again). */
static grant_ref_t regrant_ref;

static void free_and_regrant(struct xf_gnttab *g, void *page, void *arg)
{
    (void)arg;
    rel.calls++;
    ck_assert_uint_eq(xf_gnttab_reclaim(g), xf_gnttab_deferred_count(g)); /* no nesting */
    ck_assert_int_eq(xf_gnttab_grant_page(g, 0, page, false, &regrant_ref), 0);
}

START_TEST(release_may_use_the_library)
{
    uint8_t *page[2];
    grant_ref_t ref[2];
    grant_handle_t h[2];
    long before;

    grant_and_map(2, page, ref, h);
    ck_assert_int_eq(xf_gnttab_end_access_deferred(gt, ref[0], page[0], free_and_regrant,
                                                   NULL), 1);
    ck_assert_int_eq(xf_gnttab_end_access_deferred(gt, ref[1], page[1], release_cb, NULL), 1);
    ck_assert_int_eq(xf_sim_unmap_grant(sim, 0, h[0]), GNTST_okay);
    ck_assert_uint_eq(xf_gnttab_reclaim(gt), 1);
    ck_assert_int_eq(rel.calls, 1);
    ck_assert_uint_eq(gt_flags(regrant_ref), GTF_permit_access);
    ck_assert_int_eq(xf_gnttab_end_access(gt, regrant_ref), 0);
    ck_assert_int_eq(xf_sim_unmap_grant(sim, 0, h[1]), GNTST_okay);
    ck_assert_uint_eq(xf_gnttab_reclaim(gt), 0);
    ck_assert_int_eq(rel.calls, 2);
    /* Page freed back to the guest's allocator after release. */
    before = xf_sim_free_frames(sim, G);
    xf_plat_page_free(page[1], 1);
    ck_assert_int_eq(xf_sim_free_frames(sim, G), before + 1);
}
END_TEST

/* A back end that dies: Xen drops its mappings, and reclaim completes. */
START_TEST(reclaim_after_backend_domain_dies)
{
    struct xf_sim_domain_config c5;
    uint8_t *page = gt_page(0);
    grant_ref_t ref;
    grant_handle_t h;
    int16_t st;

    memset(&c5, 0, sizeof(c5));
    c5.domid = 5;
    ck_assert_int_eq(xf_sim_domain_create(sim, &c5), 5);
    ck_assert_int_eq(xf_gnttab_grant_page(gt, 5, page, true, &ref), 0);
    ck_assert_ptr_nonnull(xf_sim_map_grant(sim, 5, G, ref, true, &h, &st));
    ck_assert_int_eq(xf_gnttab_end_access_deferred(gt, ref, page, release_cb, NULL), 1);
    ck_assert_uint_eq(xf_gnttab_reclaim(gt), 1);
    ck_assert_int_eq(xf_sim_domain_destroy(sim, 5), 0);
    ck_assert_uint_eq(xf_gnttab_reclaim(gt), 0);
    ck_assert_int_eq(rel.calls, 1);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("gnttab-reclaim");
    TCase *tc = tcase_create("reclaim");
    TCase *tb = tcase_create("bound");

    tcase_add_checked_fixture(tc, setup, gt_teardown);
    tcase_add_test(tc, unused_grant_ends_at_once);
    tcase_add_test(tc, reclaim_completes_when_backend_lets_go);
    tcase_add_test(tc, reclaim_releases_each_once);
    tcase_add_test(tc, release_may_use_the_library);
    tcase_add_test(tc, reclaim_after_backend_domain_dies);
    suite_add_tcase(s, tc);
    tcase_add_checked_fixture(tb, setup_bound4, gt_teardown);
    tcase_add_test(tb, bound_holds_when_backend_never_lets_go);
    suite_add_tcase(s, tb);
    return xf_check_run(s);
}
