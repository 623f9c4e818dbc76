/*
 * libgnttab: the table, granting, ending access, reserving references.
 * The guest grants through the library; dom0 (or another domain) maps and
 * copies through the simulator exactly as a back end asks Xen to.
 */
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>

#include "gnttab_test.h"

#define ACT_SELF ((domid_t)0)   /* dom0 as the back end */

START_TEST(create_maps_the_table)
{
    struct xf_gnttab_stats st = gt_stats();
    grant_entry_v1_t *t = xf_sim_grant_table(sim, G);

    ck_assert_uint_eq(st.nr_frames, 1);
    ck_assert_uint_eq(st.max_frames, 64);           /* Xen's (the sim's) maximum */
    ck_assert_uint_eq(st.free_refs, 512 - GNTTAB_NR_RESERVED_ENTRIES);
    ck_assert_uint_eq(st.granted_refs, 0);
    ck_assert_uint_eq(st.deferred_max, XF_GNTTAB_DEFAULT_DEFERRED_MAX);
    ck_assert_uint_eq(st.foreign_pages, 1024);       /* the sim's default range */
    /* The domain builder's grants are untouched. */
    ck_assert_uint_eq(t[0].frame, XF_SIM_CONSOLE_GFN);
    ck_assert_uint_eq(t[1].frame, XF_SIM_STORE_GFN);
    ck_assert_uint_eq(t[1].flags & GTF_type_mask, GTF_permit_access);
}
END_TEST

START_TEST(grant_map_write_read)
{
    uint8_t *page = gt_page(0x11);
    grant_ref_t ref;
    grant_handle_t h;
    int16_t st;
    uint8_t *m;

    ck_assert_int_eq(xf_gnttab_grant_page(gt, ACT_SELF, page, false, &ref), 0);
    ck_assert_uint_ge(ref, GNTTAB_NR_RESERVED_ENTRIES);
    ck_assert_uint_eq(gt_flags(ref), GTF_permit_access);
    m = xf_sim_map_grant(sim, 0, G, ref, false, &h, &st);
    ck_assert_int_eq(st, GNTST_okay);
    ck_assert_ptr_nonnull(m);
    ck_assert_uint_eq(gt_flags(ref), GTF_permit_access | GTF_reading | GTF_writing);
    /* The same memory seen from both sides. */
    ck_assert_uint_eq(m[100], 0x11);
    memset(m, 0xb0, 64);
    ck_assert_uint_eq(page[0], 0xb0);
    ck_assert_uint_eq(page[63], 0xb0);
    ck_assert_uint_eq(page[64], 0x11);
    page[4095] = 0x5a;
    ck_assert_uint_eq(m[4095], 0x5a);
    ck_assert_int_eq(xf_sim_unmap_grant(sim, 0, h), GNTST_okay);
    ck_assert_uint_eq(gt_flags(ref), GTF_permit_access);
    ck_assert_int_eq(xf_gnttab_end_access(gt, ref), 0);
    ck_assert_uint_eq(gt_flags(ref), 0);
    ck_assert_uint_eq(gt_stats().granted_refs, 0);
}
END_TEST

/* Read-only grants: Xen refuses a writable mapping and copies into them;
 * reading works. */
START_TEST(readonly_enforced)
{
    uint8_t *page = gt_page(0x33);
    uint8_t *dom0_buf = xf_sim_gfn_to_va(sim, 0, 200);
    grant_ref_t ref;
    grant_handle_t h;
    int16_t st;
    uint8_t *m;
    struct gnttab_copy cp;

    ck_assert_ptr_nonnull(dom0_buf);
    ck_assert_int_eq(xf_gnttab_grant_page(gt, 0, page, true, &ref), 0);
    ck_assert_uint_eq(gt_flags(ref), GTF_permit_access | GTF_readonly);

    m = xf_sim_map_grant(sim, 0, G, ref, false, &h, &st);
    ck_assert_ptr_null(m);
    ck_assert_int_eq(st, GNTST_general_error);
    ck_assert_uint_eq(gt_flags(ref), GTF_permit_access | GTF_readonly);

    /* Copy into the grant: refused. */
    memset(&cp, 0, sizeof(cp));
    memset(dom0_buf, 0x99, 16);
    cp.source.u.gmfn = 200;
    cp.source.domid = DOMID_SELF;
    cp.dest.u.ref = ref;
    cp.dest.domid = G;
    cp.len = 16;
    cp.flags = GNTCOPY_dest_gref;
    ck_assert_int_eq(xf_sim_grant_table_op(sim, 0, GNTTABOP_copy, &cp, 1), 0);
    ck_assert_int_ne(cp.status, GNTST_okay);
    ck_assert_uint_eq(page[0], 0x33);

    /* Copy out of it and read-only mapping: fine. */
    memset(&cp, 0, sizeof(cp));
    cp.source.u.ref = ref;
    cp.source.domid = G;
    cp.dest.u.gmfn = 200;
    cp.dest.domid = DOMID_SELF;
    cp.len = 16;
    cp.flags = GNTCOPY_source_gref;
    ck_assert_int_eq(xf_sim_grant_table_op(sim, 0, GNTTABOP_copy, &cp, 1), 0);
    ck_assert_int_eq(cp.status, GNTST_okay);
    ck_assert_uint_eq(dom0_buf[15], 0x33);

    m = xf_sim_map_grant(sim, 0, G, ref, true, &h, &st);
    ck_assert_int_eq(st, GNTST_okay);
    ck_assert_uint_eq(m[17], 0x33);
    ck_assert_uint_eq(gt_flags(ref), GTF_permit_access | GTF_readonly | GTF_reading);
    ck_assert_int_eq(xf_gnttab_end_access(gt, ref), -XF_EBUSY);
    ck_assert_int_eq(xf_sim_unmap_grant(sim, 0, h), GNTST_okay);
    ck_assert_int_eq(xf_gnttab_end_access(gt, ref), 0);
}
END_TEST

/* A grant is for the domain named in it and nobody else. */
START_TEST(grant_to_any_domain)
{
    struct xf_sim_domain_config c5;
    uint8_t *page = gt_page(0x44);
    grant_ref_t ref;
    grant_handle_t h;
    int16_t st;
    uint8_t *m;

    memset(&c5, 0, sizeof(c5));
    c5.domid = 5;
    ck_assert_int_eq(xf_sim_domain_create(sim, &c5), 5);
    ck_assert_int_eq(xf_gnttab_grant_page(gt, 5, page, false, &ref), 0);
    ck_assert_ptr_null(xf_sim_map_grant(sim, 0, G, ref, false, &h, &st));
    ck_assert_int_eq(st, GNTST_general_error);
    m = xf_sim_map_grant(sim, 5, G, ref, false, &h, &st);
    ck_assert_int_eq(st, GNTST_okay);
    ck_assert_uint_eq(m[0], 0x44);
    ck_assert_int_eq(xf_gnttab_end_access(gt, ref), -XF_EBUSY);
    ck_assert_int_eq(xf_sim_unmap_grant(sim, 5, h), GNTST_okay);
    ck_assert_int_eq(xf_gnttab_end_access(gt, ref), 0);
}
END_TEST

/* End access is refused while the back end maps the grant, leaves the
 * entry live, and succeeds once it unmaps; after that nobody can map it. */
START_TEST(end_refused_while_mapped)
{
    uint8_t *page = gt_page(0);
    grant_ref_t ref;
    grant_handle_t h;
    int16_t st;
    uint8_t *m;

    ck_assert_int_eq(xf_gnttab_grant_page(gt, 0, page, false, &ref), 0);
    m = xf_sim_map_grant(sim, 0, G, ref, false, &h, &st);
    ck_assert_ptr_nonnull(m);
    for (int i = 0; i < 3; i++)
        ck_assert_int_eq(xf_gnttab_end_access(gt, ref), -XF_EBUSY);
    ck_assert_int_eq(xf_gnttab_end_ref(gt, ref), -XF_EBUSY);
    ck_assert_uint_eq(gt_flags(ref) & GTF_type_mask, GTF_permit_access);
    ck_assert_uint_eq(gt_stats().granted_refs, 1);
    /* Still fully usable by the back end. */
    m[10] = 0x77;
    ck_assert_uint_eq(page[10], 0x77);
    ck_assert_int_eq(xf_sim_unmap_grant(sim, 0, h), GNTST_okay);
    ck_assert_int_eq(xf_gnttab_end_access(gt, ref), 0);
    ck_assert_ptr_null(xf_sim_map_grant(sim, 0, G, ref, false, &h, &st));
    ck_assert_int_eq(st, GNTST_general_error);
    ck_assert_ptr_null(xf_sim_map_grant(sim, 0, G, ref, true, &h, &st));
    /* Ending twice is an error, not a second free. */
    ck_assert_int_eq(xf_gnttab_end_access(gt, ref), -XF_EINVAL);
    ck_assert_uint_eq(gt_stats().free_refs, 512 - 8);
}
END_TEST

/* Every reference the table has, and then a clean error. */
START_TEST(exhaustion_is_clean)
{
    struct xf_gnttab_config cfg = { .max_frames = 2 };
    const uint32_t total = 2 * 512 - GNTTAB_NR_RESERVED_ENTRIES;
    static uint8_t seen[1024];
    static grant_ref_t refs[1024];
    uint8_t *page = gt_page(1);
    xen_pfn_t gfn = xf_plat_virt_to_gfn(page);
    grant_ref_t r;

    ck_assert_int_eq(xf_gnttab_destroy(gt), 0);
    ck_assert_int_eq(xf_gnttab_create(&gt, &cfg), 0);
    ck_assert_uint_eq(gt_stats().max_frames, 2);
    for (uint32_t i = 0; i < total; i++) {
        int rc = xf_gnttab_grant_access(gt, 0, gfn, true, &refs[i]);
        if (rc != 0)
            ck_abort_msg("grant %u: %d", i, rc);
        if (refs[i] < GNTTAB_NR_RESERVED_ENTRIES || refs[i] >= 1024 || seen[refs[i]])
            ck_abort_msg("grant %u: bad or duplicate ref %u", i, refs[i]);
        seen[refs[i]] = 1;
    }
    ck_assert_uint_eq(gt_stats().nr_frames, 2);
    ck_assert_int_eq(xf_gnttab_grant_access(gt, 0, gfn, true, &r), -XF_ENOSPC);
    ck_assert_int_eq(xf_gnttab_alloc_refs(gt, &r, 1), -XF_ENOSPC);
    ck_assert_int_eq(xf_gnttab_grow(gt, 1), -XF_ENOSPC);
    /* One back, one out: the same one. */
    ck_assert_int_eq(xf_gnttab_end_access(gt, refs[7]), 0);
    ck_assert_int_eq(xf_gnttab_grant_access(gt, 0, gfn, true, &r), 0);
    ck_assert_uint_eq(r, refs[7]);
    for (uint32_t i = 0; i < total; i++)
        ck_assert_int_eq(xf_gnttab_end_access(gt, refs[i]), 0);
    ck_assert_uint_eq(gt_stats().free_refs, total);
}
END_TEST

/* The table grows a frame at a time as references run out. */
START_TEST(grows_on_demand)
{
    static grant_ref_t refs[1500];

    ck_assert_int_eq(xf_gnttab_alloc_refs(gt, refs, 1500), 0);
    ck_assert_uint_eq(gt_stats().nr_frames, 3);   /* 3 * 512 - 8 >= 1500 */
    ck_assert_uint_eq(gt_stats().reserved_refs, 1500);
    ck_assert_uint_eq(gt_stats().free_refs, 3 * 512 - 8 - 1500);
    ck_assert_int_eq(xf_gnttab_grow(gt, 600), 0);
    ck_assert_uint_eq(gt_stats().nr_frames, 5);
    /* The guest's view of frame 2 is the real table: a grant there works. */
    uint8_t *page = gt_page(0x21);
    grant_handle_t h;
    int16_t st;
    ck_assert_uint_ge(refs[1499], 1024);
    ck_assert_int_eq(xf_gnttab_grant_ref(gt, refs[1499], 0, xf_plat_virt_to_gfn(page), false),
                     0);
    uint8_t *m = xf_sim_map_grant(sim, 0, G, refs[1499], false, &h, &st);
    ck_assert_int_eq(st, GNTST_okay);
    ck_assert_uint_eq(m[9], 0x21);
    ck_assert_int_eq(xf_sim_unmap_grant(sim, 0, h), GNTST_okay);
    ck_assert_int_eq(xf_gnttab_end_ref(gt, refs[1499]), 0);
    ck_assert_int_eq(xf_gnttab_free_refs(gt, refs, 1500), 0);
    ck_assert_uint_eq(gt_stats().reserved_refs, 0);
    ck_assert_uint_eq(gt_stats().free_refs, 5 * 512 - 8);
    /* Up to Xen's maximum (64 frames here) and no further. */
    ck_assert_int_eq(xf_gnttab_grow(gt, 64 * 512 - 8), 0);
    ck_assert_uint_eq(gt_stats().nr_frames, 64);
    ck_assert_int_eq(xf_gnttab_grow(gt, 64 * 512 - 7), -XF_ENOSPC);
    ck_assert_uint_eq(gt_stats().nr_frames, 64);
}
END_TEST

/* The table's pages are the table once mapped (Xen freed the RAM behind
 * them): destroy gives them back to the allocator only after
 * remove_from_physmap and populate_physmap put RAM there again, so every
 * page the allocator hands out afterwards is real memory. */
START_TEST(destroy_gives_back_ram_not_holes)
{
    struct xf_gnttab_config cfg = { .initial_frames = 3 };
    struct xf_gnttab *g2;
    long before, n = 0;
    uint8_t *p;

    ck_assert_int_eq(xf_gnttab_destroy(gt), 0);
    gt = NULL;
    before = xf_sim_free_frames(sim, G);
    ck_assert_int_eq(xf_gnttab_create(&g2, &cfg), 0);
    ck_assert_int_lt(xf_sim_free_frames(sim, G), before - 6);
    ck_assert_int_eq(xf_gnttab_destroy(g2), 0);
    ck_assert_int_eq(xf_sim_free_frames(sim, G), before);
    /* Xen's table is unchanged: the builder's grants are still there. */
    ck_assert_uint_eq(xf_sim_grant_table(sim, G)[1].frame, XF_SIM_STORE_GFN);
    /* Every free page is writable memory (a hole would fault here). */
    while ((p = xf_plat_page_alloc(1)) != NULL) {
        p[0] = 1;
        p[4095] = 2;
        n++;
    }
    ck_assert_int_eq(n, before);
    ck_assert_int_eq(xf_sim_free_frames(sim, G), 0);
}
END_TEST

/* A driver's batch: reserve all or none, grant, end but keep, free. */
START_TEST(reserve_batch)
{
    struct xf_gnttab_config cfg = { .max_frames = 1 };
    grant_ref_t refs[11], big[505];
    uint8_t *page = gt_page(0);
    xen_pfn_t gfn = xf_plat_virt_to_gfn(page);

    ck_assert_int_eq(xf_gnttab_destroy(gt), 0);
    ck_assert_int_eq(xf_gnttab_create(&gt, &cfg), 0);
    ck_assert_int_eq(xf_gnttab_alloc_refs(gt, big, 505), -XF_ENOSPC);
    ck_assert_uint_eq(gt_stats().free_refs, 504);          /* none taken */
    ck_assert_int_eq(xf_gnttab_alloc_refs(gt, refs, 11), 0);
    ck_assert_uint_eq(gt_stats().free_refs, 504 - 11);
    for (int i = 0; i < 11; i++) {
        ck_assert_uint_ge(refs[i], GNTTAB_NR_RESERVED_ENTRIES);
        ck_assert_uint_eq(gt_flags(refs[i]), 0);            /* reserved, not live */
        ck_assert_int_eq(xf_gnttab_grant_ref(gt, refs[i], 0, gfn, i % 2), 0);
    }
    ck_assert_int_eq(xf_gnttab_grant_ref(gt, refs[3], 0, gfn, false), -XF_EINVAL);
    ck_assert_uint_eq(gt_stats().granted_refs, 11);
    /* Freeing a granted one: refused, nothing freed. */
    ck_assert_int_eq(xf_gnttab_free_refs(gt, refs, 11), -XF_EBUSY);
    for (int i = 0; i < 11; i++)
        ck_assert_int_eq(xf_gnttab_end_ref(gt, refs[i]), 0);
    ck_assert_uint_eq(gt_stats().reserved_refs, 11);
    /* Re-grant one, end it again: still ours. */
    ck_assert_int_eq(xf_gnttab_grant_ref(gt, refs[0], 0, gfn, false), 0);
    ck_assert_int_eq(xf_gnttab_end_ref(gt, refs[0]), 0);
    /* The same reference twice: refused, nothing freed. */
    grant_ref_t dup[3] = { refs[0], refs[1], refs[0] };
    ck_assert_int_eq(xf_gnttab_free_refs(gt, dup, 3), -XF_EINVAL);
    ck_assert_uint_eq(gt_stats().reserved_refs, 11);
    ck_assert_int_eq(xf_gnttab_free_refs(gt, refs, 11), 0);
    ck_assert_uint_eq(gt_stats().free_refs, 504);
    ck_assert_int_eq(xf_gnttab_free_refs(gt, refs, 1), -XF_EINVAL); /* already free */
}
END_TEST

START_TEST(bad_arguments)
{
    uint8_t *page = gt_page(0);
    xen_pfn_t gfn = xf_plat_virt_to_gfn(page);
    struct xf_gnttab *other;
    struct xf_gnttab_config cfg;
    grant_ref_t ref;
    int on_stack;

    ck_assert_int_eq(xf_gnttab_grant_access(NULL, 0, gfn, false, &ref), -XF_EINVAL);
    ck_assert_int_eq(xf_gnttab_grant_access(gt, 0, gfn, false, NULL), -XF_EINVAL);
    ck_assert_int_eq(xf_gnttab_grant_access(gt, DOMID_SELF, gfn, false, &ref), -XF_EINVAL);
    ck_assert_int_eq(xf_gnttab_grant_access(gt, DOMID_FIRST_RESERVED, gfn, false, &ref),
                     -XF_EINVAL);
    ck_assert_int_eq(xf_gnttab_grant_access(gt, 0, (xen_pfn_t)1 << 32, false, &ref),
                     -XF_ERANGE);
    ck_assert_int_eq(xf_gnttab_grant_page(gt, 0, &on_stack, false, &ref), -XF_EFAULT);
    ck_assert_uint_eq(gt_stats().granted_refs, 0);
    for (grant_ref_t r = 0; r < GNTTAB_NR_RESERVED_ENTRIES; r++) {
        ck_assert_int_eq(xf_gnttab_end_access(gt, r), -XF_EINVAL);
        ck_assert_int_eq(xf_gnttab_grant_ref(gt, r, 0, gfn, false), -XF_EINVAL);
    }
    ck_assert_uint_eq(xf_sim_grant_table(sim, G)[1].frame, XF_SIM_STORE_GFN);
    ck_assert_int_eq(xf_gnttab_end_access(gt, 100), -XF_EINVAL);    /* free */
    ck_assert_int_eq(xf_gnttab_end_access(gt, 1u << 30), -XF_EINVAL);
    ck_assert_int_eq(xf_gnttab_end_ref(gt, 600), -XF_EINVAL);        /* not mapped yet */
    ck_assert_int_eq(xf_gnttab_alloc_refs(gt, &ref, 0), -XF_EINVAL);
    ck_assert_int_eq(xf_gnttab_end_access_deferred(gt, 9, NULL, NULL, NULL), -XF_EINVAL);
    ck_assert_int_eq(xf_gnttab_create(NULL, NULL), -XF_EINVAL);
    memset(&cfg, 0, sizeof(cfg));
    cfg.initial_frames = 3;
    cfg.max_frames = 2;
    ck_assert_int_eq(xf_gnttab_create(&other, &cfg), -XF_EINVAL);
    cfg.initial_frames = 65;          /* beyond Xen's maximum */
    cfg.max_frames = 0;
    ck_assert_int_eq(xf_gnttab_create(&other, &cfg), -XF_EINVAL);
    ck_assert_int_eq(xf_gnttab_destroy(NULL), 0);
    ck_assert_uint_eq(xf_gnttab_reclaim(NULL), 0);
    ck_assert_int_eq(xf_gnttab_status_errno(GNTST_bad_handle), -XF_EBADF);
    ck_assert_int_eq(xf_gnttab_status_errno(-100), -XF_EIO);
}
END_TEST

/* An ended reference is reused as late as possible (FIFO). */
START_TEST(ended_refs_reused_last)
{
    uint8_t *page = gt_page(0);
    xen_pfn_t gfn = xf_plat_virt_to_gfn(page);
    grant_ref_t a, b;

    ck_assert_int_eq(xf_gnttab_grant_access(gt, 0, gfn, false, &a), 0);
    ck_assert_int_eq(xf_gnttab_end_access(gt, a), 0);
    for (int i = 0; i < 503; i++) {
        ck_assert_int_eq(xf_gnttab_grant_access(gt, 0, gfn, false, &b), 0);
        ck_assert_uint_ne(b, a);
        ck_assert_int_eq(xf_gnttab_end_access(gt, b), 0);
    }
    ck_assert_int_eq(xf_gnttab_grant_access(gt, 0, gfn, false, &b), 0);
    ck_assert_uint_eq(b, a);
    ck_assert_int_eq(xf_gnttab_end_access(gt, b), 0);
}
END_TEST

/* Destroy refuses while a grant is live; entries found live at creation
 * are left alone. */
START_TEST(destroy_and_recreate)
{
    struct xf_gnttab_config cfg = { .max_frames = 1 };
    grant_entry_v1_t *t = xf_sim_grant_table(sim, G);
    uint8_t *page = gt_page(0);
    static grant_ref_t refs[504];
    grant_ref_t ref;

    ck_assert_int_eq(xf_gnttab_grant_page(gt, 0, page, false, &ref), 0);
    ck_assert_int_eq(xf_gnttab_destroy(gt), -XF_EBUSY);
    ck_assert_uint_eq(gt_flags(ref), GTF_permit_access);   /* untouched */
    ck_assert_int_eq(xf_gnttab_end_access(gt, ref), 0);
    ck_assert_int_eq(xf_gnttab_destroy(gt), 0);
    gt = NULL;

    /* Someone granted ref 9 by hand before the library came. */
    t[9].frame = (uint32_t)xf_plat_virt_to_gfn(page);
    t[9].domid = 0;
    __atomic_store_n(&t[9].flags, GTF_permit_access, __ATOMIC_RELEASE);
    ck_assert_int_eq(xf_gnttab_create(&gt, &cfg), 0);
    ck_assert_uint_eq(gt_stats().free_refs, 503);
    ck_assert_int_eq(xf_gnttab_alloc_refs(gt, refs, 503), 0);
    for (int i = 0; i < 503; i++)
        ck_assert_uint_ne(refs[i], 9);
    ck_assert_int_eq(xf_gnttab_end_access(gt, 9), -XF_EINVAL);
    ck_assert_uint_eq(gt_flags(9), GTF_permit_access);
    ck_assert_int_eq(xf_gnttab_free_refs(gt, refs, 503), 0);
}
END_TEST

/*
 * End access racing the back end. dom0, on its own thread, maps and unmaps
 * the current grant as fast as it can, writing into the page while mapped.
 * The guest ends access as soon as it can. Whenever end succeeds, the back
 * end must be unable to map the grant: after the guest zeroes the page
 * following a successful end, no later write by the back end may appear in
 * it. The back end counts its attempts so the guest can wait for a number
 * of failed ones (not a time) before checking.
 */
static _Atomic uint32_t race_ref;
static _Atomic int race_stop;
static _Atomic uint64_t race_attempts, race_maps;

static void *race_backend(void *arg)
{
    (void)arg;
    xf_sim_set_current(sim, 0);
    while (!atomic_load(&race_stop)) {
        grant_handle_t h;
        int16_t st;
        uint8_t *m = xf_sim_map_grant(sim, 0, G, atomic_load(&race_ref), false, &h, &st);

        if (m != NULL) {
            m[0]++;
            m[1] = 0xee;
            atomic_fetch_add(&race_maps, 1);
            xf_sim_unmap_grant(sim, 0, h);
        }
        atomic_fetch_add(&race_attempts, 1);
    }
    return NULL;
}

START_TEST(end_access_races_backend)
{
    const int rounds = getenv("XF_VALGRIND") != NULL ? 40 : 300;
    uint8_t *page = gt_page(0);
    pthread_t be;
    uint64_t busy = 0;

    atomic_store(&race_ref, 0x7fffffffu);
    atomic_store(&race_stop, 0);
    ck_assert_int_eq(pthread_create(&be, NULL, race_backend, NULL), 0);
    for (int i = 0; i < rounds; i++) {
        grant_ref_t ref;
        uint64_t seen;
        int rc;

        ck_assert_int_eq(xf_gnttab_grant_page(gt, 0, page, false, &ref), 0);
        atomic_store(&race_ref, ref);
        /* Let the back end get at it a few times. */
        seen = atomic_load(&race_attempts);
        while (atomic_load(&race_attempts) < seen + 3)
            sched_yield();
        while ((rc = xf_gnttab_end_access(gt, ref)) == -XF_EBUSY) {
            busy++;
            sched_yield();
        }
        ck_assert_int_eq(rc, 0);
        memset(page, 0, 8);
        seen = atomic_load(&race_attempts);
        while (atomic_load(&race_attempts) < seen + 3)
            sched_yield();
        if (page[0] != 0 || page[1] != 0)
            ck_abort_msg("round %d: back end wrote after end of access", i);
    }
    atomic_store(&race_stop, 1);
    pthread_join(be, NULL);
    ck_assert_uint_gt(atomic_load(&race_maps), 0);
    (void)busy; /* how often the race was lost varies; correctness does not */
}
END_TEST

int main(void)
{
    Suite *s = suite_create("gnttab-grant");
    TCase *tc = tcase_create("grant");

    tcase_add_checked_fixture(tc, gt_setup, gt_teardown);
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, create_maps_the_table);
    tcase_add_test(tc, grant_map_write_read);
    tcase_add_test(tc, readonly_enforced);
    tcase_add_test(tc, grant_to_any_domain);
    tcase_add_test(tc, end_refused_while_mapped);
    tcase_add_test(tc, exhaustion_is_clean);
    tcase_add_test(tc, grows_on_demand);
    tcase_add_test(tc, reserve_batch);
    tcase_add_test(tc, bad_arguments);
    tcase_add_test(tc, ended_refs_reused_last);
    tcase_add_test(tc, destroy_and_recreate);
    tcase_add_test(tc, destroy_gives_back_ram_not_holes);
    tcase_add_test(tc, end_access_races_backend);
    suite_add_tcase(s, tc);
    return xf_check_run(s);
}
