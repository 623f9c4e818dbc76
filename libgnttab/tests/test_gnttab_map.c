/*
 * libgnttab: the guest maps and copies other domains' grants. Domain 5
 * plays the granter: the test writes its grant table and its pages through
 * the simulator, as that domain's own front end would.
 */
#include "gnttab_test.h"

#define D5 ((domid_t)5)

static grant_entry_v1_t *t5;     /* domain 5's grant table */

static void setup_dom5(void)
{
    struct xf_sim_domain_config c5;

    memset(&c5, 0, sizeof(c5));
    c5.domid = D5;
    ck_assert_int_eq(xf_sim_domain_create(sim, &c5), D5);
    t5 = xf_sim_grant_table(sim, D5);
    ck_assert_ptr_nonnull(t5);
}

static void setup(void)
{
    gt_setup();
    setup_dom5();
}

/* A guest with a foreign range of only 40 frames. */
static void setup_small_range(void)
{
    struct xf_sim_domain_config g;

    memset(&g, 0, sizeof(g));
    g.foreign_frames = 40;
    gt_setup_cfg(&g, NULL);
    setup_dom5();
}

/* Domain 5's page gfn, filled with fill, granted to the guest as ref. */
static uint8_t *d5_grant(grant_ref_t ref, xen_pfn_t gfn, bool readonly, uint8_t fill)
{
    uint8_t *p = xf_sim_gfn_to_va(sim, D5, gfn);

    ck_assert_ptr_nonnull(p);
    memset(p, fill, XF_PAGE_SIZE);
    t5[ref].frame = (uint32_t)gfn;
    t5[ref].domid = G;
    __atomic_store_n(&t5[ref].flags,
                     (uint16_t)(GTF_permit_access | (readonly ? GTF_readonly : 0)),
                     __ATOMIC_RELEASE);
    return p;
}

static uint16_t d5_flags(grant_ref_t ref)
{
    return __atomic_load_n(&t5[ref].flags, __ATOMIC_ACQUIRE);
}

static struct xf_gnttab_map req(domid_t d, grant_ref_t ref, bool ro)
{
    struct xf_gnttab_map m;

    memset(&m, 0xa5, sizeof(m)); /* outputs must be written, not assumed zero */
    m.domid = d;
    m.ref = ref;
    m.readonly = ro;
    return m;
}

/* Is addr inside the guest's foreign range, and which page of it? */
static long range_index(const void *addr)
{
    xen_pfn_t first;
    size_t n;
    void *base = NULL;

    ck_assert_int_eq(xf_sim_foreign_range(sim, G, &first, &n), 0);
    base = xf_sim_gfn_to_va(sim, G, 0);
    ck_assert_ptr_nonnull(base);
    long idx = (long)(((const uint8_t *)addr - ((uint8_t *)base + first * XF_PAGE_SIZE)) /
                      XF_PAGE_SIZE);
    ck_assert_int_ge(idx, 0);
    ck_assert_int_lt(idx, (long)n);
    return idx;
}

START_TEST(map_write_read_unmap)
{
    uint8_t *theirs = d5_grant(8, 100, false, 0x5e);
    struct xf_gnttab_map m = req(D5, 8, false);
    uint8_t *mine;

    ck_assert_int_eq(xf_gnttab_map_grants(gt, &m, 1), 0);
    ck_assert_int_eq(m.status, 0);
    ck_assert_ptr_nonnull(m.addr);
    range_index(m.addr);
    ck_assert_uint_eq(gt_stats().foreign_used, 1);
    ck_assert_uint_eq(d5_flags(8), GTF_permit_access | GTF_reading | GTF_writing);
    mine = m.addr;
    ck_assert_uint_eq(mine[0], 0x5e);
    ck_assert_uint_eq(mine[4095], 0x5e);
    mine[1] = 0x01;
    theirs[2] = 0x02;
    ck_assert_uint_eq(theirs[1], 0x01);
    ck_assert_uint_eq(mine[2], 0x02);
    ck_assert_int_eq(xf_gnttab_destroy(gt), -XF_EBUSY);
    long idx = range_index(m.addr);
    xen_pfn_t first;
    size_t n;
    ck_assert_int_eq(xf_sim_foreign_range(sim, G, &first, &n), 0);
    ck_assert_ptr_eq(xf_sim_gfn_to_va(sim, G, first + (xen_pfn_t)idx), m.addr);
    ck_assert_int_eq(xf_gnttab_unmap_grants(gt, &m, 1), 0);
    ck_assert_int_eq(m.status, 0);
    ck_assert_ptr_null(m.addr);
    ck_assert_uint_eq(d5_flags(8), GTF_permit_access);
    ck_assert_uint_eq(gt_stats().foreign_used, 0);
    /* The slot is empty again: no page behind it, nothing in the heap. */
    ck_assert_ptr_null(xf_sim_gfn_to_va(sim, G, first + (xen_pfn_t)idx));
}
END_TEST

START_TEST(map_readonly)
{
    d5_grant(9, 101, true, 0x66);
    struct xf_gnttab_map m[2] = { req(D5, 9, false), req(D5, 9, true) };

    ck_assert_int_eq(xf_gnttab_map_grants(gt, m, 2), 1);
    ck_assert_int_eq(m[0].status, -XF_EIO);          /* Xen: no write pin on r/o */
    ck_assert_ptr_null(m[0].addr);
    ck_assert_int_eq(m[1].status, 0);
    ck_assert_uint_eq(((uint8_t *)m[1].addr)[7], 0x66);
    ck_assert_uint_eq(d5_flags(9), GTF_permit_access | GTF_readonly | GTF_reading);
    ck_assert_uint_eq(gt_stats().foreign_used, 1);   /* the failed page went back */
    ck_assert_int_eq(xf_gnttab_unmap_grants(gt, m, 2), 0);
    ck_assert_uint_eq(d5_flags(9), GTF_permit_access | GTF_readonly);
}
END_TEST

/* A batch where some fail, each for its own reason; the rest map, at
 * their places in the run. */
START_TEST(batch_some_fail)
{
    uint8_t *p10 = d5_grant(10, 110, false, 0xa0);
    uint8_t *p11 = d5_grant(11, 111, true, 0xa1);
    uint8_t *p12 = d5_grant(12, 112, false, 0xa2);
    struct xf_gnttab_map m[8] = {
        req(D5, 10, false),            /* ok */
        req(D5, 100000, false),        /* no such ref */
        req(D5, 13, false),            /* not granted */
        req(7, 10, false),             /* no such domain */
        req(D5, 11, true),             /* ok, read-only */
        req(DOMID_SELF, 10, false),    /* not a real domain */
        req(D5, 11, false),            /* writable map of a read-only grant */
        req(D5, 12, false),            /* ok */
    };
    uint8_t *base;

    (void)p12;
    ck_assert_int_eq(xf_gnttab_map_grants(gt, m, 8), 5);
    ck_assert_int_eq(m[0].status, 0);
    ck_assert_int_eq(m[1].status, -XF_EINVAL);
    ck_assert_int_eq(m[2].status, -XF_EIO);
    ck_assert_int_eq(m[3].status, -XF_ESRCH);
    ck_assert_int_eq(m[4].status, 0);
    ck_assert_int_eq(m[5].status, -XF_EINVAL);
    ck_assert_int_eq(m[6].status, -XF_EIO);
    ck_assert_int_eq(m[7].status, 0);
    for (int i = 0; i < 8; i++)
        if (m[i].status != 0)
            ck_assert_ptr_null(m[i].addr);
    base = m[0].addr;
    ck_assert_ptr_eq(m[4].addr, base + 4 * XF_PAGE_SIZE);
    ck_assert_ptr_eq(m[7].addr, base + 7 * XF_PAGE_SIZE);
    ck_assert_uint_eq(((uint8_t *)m[0].addr)[0], 0xa0);
    ck_assert_uint_eq(((uint8_t *)m[4].addr)[0], 0xa1);
    ck_assert_uint_eq(((uint8_t *)m[7].addr)[0], 0xa2);
    ((uint8_t *)m[7].addr)[5] = 0x55;
    ck_assert_uint_eq(p12[5], 0x55);
    ck_assert_uint_eq(gt_stats().foreign_used, 3);
    /* The failed entries' pages are free: a new single map takes the first. */
    struct xf_gnttab_map one = req(D5, 10, true);
    ck_assert_int_eq(xf_gnttab_map_grants(gt, &one, 1), 0);
    ck_assert_ptr_eq(one.addr, base + 1 * XF_PAGE_SIZE);
    ck_assert_int_eq(xf_gnttab_unmap_grants(gt, &one, 1), 0);

    ck_assert_int_eq(xf_gnttab_unmap_grants(gt, m, 8), 0);
    for (int i = 0; i < 8; i++)
        ck_assert_ptr_null(m[i].addr);
    ck_assert_int_eq(m[1].status, -XF_EINVAL);        /* skipped: untouched */
    ck_assert_uint_eq(gt_stats().foreign_used, 0);
    ck_assert_uint_eq(d5_flags(10), GTF_permit_access);
    ck_assert_uint_eq(d5_flags(11), GTF_permit_access | GTF_readonly);
    (void)p10;
    (void)p11;
}
END_TEST

/* A multi-page ring maps contiguously: one buffer across the pages. */
START_TEST(batch_is_contiguous)
{
    struct xf_gnttab_map m[20];
    uint8_t *ring;

    for (int i = 0; i < 20; i++) {
        d5_grant((grant_ref_t)(20 + i), (xen_pfn_t)(300 + i), false, (uint8_t)i);
        m[i] = req(D5, (grant_ref_t)(20 + i), false);
    }
    ck_assert_int_eq(xf_gnttab_map_grants(gt, m, 20), 0);
    ring = m[0].addr;
    for (int i = 0; i < 20; i++) {
        ck_assert_ptr_eq(m[i].addr, ring + (size_t)i * XF_PAGE_SIZE);
        ck_assert_uint_eq(ring[(size_t)i * XF_PAGE_SIZE + 1234], (uint8_t)i);
    }
    ck_assert_int_eq(xf_gnttab_unmap_grants(gt, m, 20), 0);
}
END_TEST

/* Unmapped slots are reused, lowest first. */
START_TEST(unmapped_ranges_reused)
{
    struct xf_gnttab_map a[3], b, c[2], d;
    long first;

    d5_grant(8, 100, false, 1);
    for (int i = 0; i < 3; i++)
        a[i] = req(D5, 8, false);
    ck_assert_int_eq(xf_gnttab_map_grants(gt, a, 3), 0);
    first = range_index(a[0].addr);
    b = req(D5, 8, true);
    ck_assert_int_eq(xf_gnttab_map_grants(gt, &b, 1), 0);
    ck_assert_int_eq(range_index(b.addr), first + 3);
    ck_assert_int_eq(xf_gnttab_unmap_grants(gt, a, 3), 0);
    c[0] = req(D5, 8, false);
    c[1] = req(D5, 8, false);
    ck_assert_int_eq(xf_gnttab_map_grants(gt, c, 2), 0);
    ck_assert_int_eq(range_index(c[0].addr), first);
    d = req(D5, 8, false);
    ck_assert_int_eq(xf_gnttab_map_grants(gt, &d, 1), 0);
    ck_assert_int_eq(range_index(d.addr), first + 2);
    ck_assert_uint_eq(((uint8_t *)d.addr)[0], 1);
    ck_assert_int_eq(xf_gnttab_unmap_grants(gt, c, 2), 0);
    ck_assert_int_eq(xf_gnttab_unmap_grants(gt, &d, 1), 0);
    ck_assert_int_eq(xf_gnttab_unmap_grants(gt, &b, 1), 0);
    /* Many cycles never leak a slot. */
    for (int i = 0; i < 2000; i++) {
        struct xf_gnttab_map x = req(D5, 8, (i & 1) != 0);
        if (xf_gnttab_map_grants(gt, &x, 1) != 0 || range_index(x.addr) != first ||
            xf_gnttab_unmap_grants(gt, &x, 1) != 0)
            ck_abort_msg("cycle %d", i);
    }
    ck_assert_uint_eq(gt_stats().foreign_used, 0);
    ck_assert_uint_eq(d5_flags(8), GTF_permit_access);
}
END_TEST

START_TEST(range_exhaustion)
{
    struct xf_gnttab_map m[41], two[2];

    d5_grant(8, 100, true, 3);
    ck_assert_uint_eq(gt_stats().foreign_pages, 40);
    for (int i = 0; i < 40; i++) {
        m[i] = req(D5, 8, true);
        ck_assert_int_eq(xf_gnttab_map_grants(gt, &m[i], 1), 0);
    }
    m[40] = req(D5, 8, true);
    ck_assert_int_eq(xf_gnttab_map_grants(gt, &m[40], 1), -XF_ENOSPC);
    ck_assert_int_eq(m[40].status, -XF_ENOSPC);
    ck_assert_ptr_null(m[40].addr);
    /* Two free slots, not adjacent: no run of two. */
    ck_assert_int_eq(xf_gnttab_unmap_grants(gt, &m[5], 1), 0);
    ck_assert_int_eq(xf_gnttab_unmap_grants(gt, &m[7], 1), 0);
    two[0] = req(D5, 8, true);
    two[1] = req(D5, 8, true);
    ck_assert_int_eq(xf_gnttab_map_grants(gt, two, 2), -XF_ENOSPC);
    ck_assert_int_eq(xf_gnttab_unmap_grants(gt, &m[6], 1), 0);
    ck_assert_int_eq(xf_gnttab_map_grants(gt, two, 2), 0);
    ck_assert_int_eq(range_index(two[0].addr), range_index(m[0].addr) + 5);
    ck_assert_int_eq(xf_gnttab_unmap_grants(gt, two, 2), 0);
    ck_assert_int_eq(xf_gnttab_unmap_grants(gt, m, 40), 0);
    ck_assert_uint_eq(gt_stats().foreign_used, 0);
}
END_TEST

START_TEST(unmap_errors_keep_the_mapping)
{
    struct xf_gnttab_map m = req(D5, 8, false), bad;
    uint8_t *theirs = d5_grant(8, 100, false, 9);
    int on_stack;

    ck_assert_int_eq(xf_gnttab_map_grants(gt, &m, 1), 0);
    /* Wrong handle: Xen refuses, the page stays mapped and allocated. */
    bad = m;
    bad.handle = (grant_handle_t)(m.handle + 1);
    ck_assert_int_eq(xf_gnttab_unmap_grants(gt, &bad, 1), 1);
    ck_assert_int_lt(bad.status, 0);
    ck_assert_ptr_eq(bad.addr, m.addr);
    bad.handle = 60000;
    ck_assert_int_eq(xf_gnttab_unmap_grants(gt, &bad, 1), 1);
    ck_assert_int_eq(bad.status, -XF_EBADF);
    ck_assert_uint_eq(gt_stats().foreign_used, 1);
    ((uint8_t *)m.addr)[3] = 0x33;
    ck_assert_uint_eq(theirs[3], 0x33);
    /* Not a page of the range, or not page aligned. */
    bad = m;
    bad.addr = &on_stack;
    ck_assert_int_eq(xf_gnttab_unmap_grants(gt, &bad, 1), 1);
    ck_assert_int_eq(bad.status, -XF_EINVAL);
    bad.addr = (uint8_t *)m.addr + 8;
    ck_assert_int_eq(xf_gnttab_unmap_grants(gt, &bad, 1), 1);
    bad.addr = (uint8_t *)m.addr + XF_PAGE_SIZE;   /* a free slot */
    ck_assert_int_eq(xf_gnttab_unmap_grants(gt, &bad, 1), 1);
    ck_assert_int_eq(bad.status, -XF_EINVAL);
    ck_assert_uint_eq(gt_stats().foreign_used, 1);
    /* The real one works; doing it again is a no-op (addr is NULL). */
    ck_assert_int_eq(xf_gnttab_unmap_grants(gt, &m, 1), 0);
    ck_assert_int_eq(xf_gnttab_unmap_grants(gt, &m, 1), 0);
    /* A stale copy of it is refused, not a double free. */
    bad = m;
    bad.addr = xf_sim_gfn_to_va(sim, G, 0); /* anything but the range */
    ck_assert_int_eq(xf_gnttab_unmap_grants(gt, &bad, 1), 1);
    ck_assert_int_eq(xf_gnttab_unmap_grants(NULL, &m, 1), -XF_EINVAL);
    ck_assert_int_eq(xf_gnttab_map_grants(gt, &m, 0), -XF_EINVAL);
    ck_assert_uint_eq(gt_stats().foreign_used, 0);
}
END_TEST

START_TEST(no_foreign_range)
{
    struct xf_gnttab_config cfg = { .no_foreign_range = true };
    struct xf_gnttab_map m = req(D5, 8, false);

    d5_grant(8, 100, false, 0);
    ck_assert_int_eq(xf_gnttab_destroy(gt), 0);
    ck_assert_int_eq(xf_gnttab_create(&gt, &cfg), 0);
    ck_assert_uint_eq(gt_stats().foreign_pages, 0);
    ck_assert_int_eq(xf_gnttab_map_grants(gt, &m, 1), -XF_ENOSYS);
    ck_assert_int_eq(m.status, -XF_ENOSYS);
    ck_assert_uint_eq(d5_flags(8), GTF_permit_access);
}
END_TEST

/* ---------------------------------------------------------------- copy */

static struct xf_gnttab_copy seg(enum xf_gnttab_copy_dir dir, grant_ref_t ref, uint16_t off,
                                 void *local, uint16_t len)
{
    struct xf_gnttab_copy s;

    memset(&s, 0, sizeof(s));
    s.dir = dir;
    s.domid = D5;
    s.ref = ref;
    s.offset = off;
    s.local = local;
    s.len = len;
    s.status = 12345;
    return s;
}

START_TEST(copy_both_directions)
{
    uint8_t *theirs = d5_grant(8, 100, false, 0);
    uint8_t *mine = gt_page(0);
    struct xf_gnttab_copy s;

    for (int i = 0; i < 4096; i++)
        theirs[i] = (uint8_t)(i * 7);
    s = seg(XF_GNTTAB_COPY_FROM_GRANT, 8, 100, mine + 2000, 1000);
    ck_assert_int_eq(xf_gnttab_copy(gt, &s, 1), 0);
    ck_assert_int_eq(s.status, 0);
    for (int i = 0; i < 1000; i++)
        if (mine[2000 + i] != (uint8_t)((100 + i) * 7))
            ck_abort_msg("byte %d", i);
    ck_assert_uint_eq(mine[1999], 0);
    ck_assert_uint_eq(mine[3000], 0);

    memset(mine, 0xcd, XF_PAGE_SIZE);
    s = seg(XF_GNTTAB_COPY_TO_GRANT, 8, 4000, mine, 96);
    ck_assert_int_eq(xf_gnttab_copy(gt, &s, 1), 0);
    ck_assert_uint_eq(theirs[3999], (uint8_t)(3999 * 7));
    ck_assert_uint_eq(theirs[4000], 0xcd);
    ck_assert_uint_eq(theirs[4095], 0xcd);
    /* Copies pin only while they run. */
    ck_assert_uint_eq(d5_flags(8), GTF_permit_access);
}
END_TEST

START_TEST(copy_batch_per_segment_status)
{
    uint8_t *theirs = d5_grant(8, 100, false, 0x10);
    uint8_t *ro = d5_grant(9, 101, true, 0x20);
    uint8_t *mine = gt_page(0);
    struct xf_gnttab_copy s[20];
    int on_stack[4];

    /* 20 segments: more than one hypercall's chunk. */
    for (int i = 0; i < 20; i++)
        s[i] = seg(i % 2 ? XF_GNTTAB_COPY_TO_GRANT : XF_GNTTAB_COPY_FROM_GRANT, 8,
                   (uint16_t)(i * 100), mine + i * 200, 100);
    memset(mine, 0xee, XF_PAGE_SIZE);
    s[3] = seg(XF_GNTTAB_COPY_FROM_GRANT, 8, 0, mine + 4090, 10);  /* crosses our page */
    s[5] = seg(XF_GNTTAB_COPY_TO_GRANT, 8, 4000, mine, 200);       /* past their page */
    s[7] = seg(XF_GNTTAB_COPY_TO_GRANT, 9, 0, mine, 8);            /* read-only grant */
    s[9] = seg(XF_GNTTAB_COPY_FROM_GRANT, 9, 0, mine + 3800, 8);   /* ok: reading it */
    s[11] = seg(XF_GNTTAB_COPY_FROM_GRANT, 60000, 0, mine, 8);     /* no such ref */
    s[13] = seg(XF_GNTTAB_COPY_FROM_GRANT, 8, 0, on_stack, 8);     /* not translatable */
    s[15] = seg(XF_GNTTAB_COPY_FROM_GRANT, 8, 0, mine, 8);
    s[15].domid = 7;                                               /* no such domain */
    s[17] = seg(XF_GNTTAB_COPY_FROM_GRANT, 8, 0, mine, 0);         /* empty */
    s[19] = seg(XF_GNTTAB_COPY_FROM_GRANT, 10, 0, mine, 8);        /* not granted */
    s[19].dir = XF_GNTTAB_COPY_FROM_GRANT;

    ck_assert_int_eq(xf_gnttab_copy(gt, s, 20), 8);
    ck_assert_int_eq(s[1].status, 0);
    ck_assert_int_eq(s[3].status, -XF_EINVAL);
    ck_assert_int_eq(s[5].status, -XF_EINVAL);
    ck_assert_int_eq(s[7].status, -XF_EIO);
    ck_assert_int_eq(s[9].status, 0);
    ck_assert_int_eq(s[11].status, -XF_EINVAL);
    ck_assert_int_eq(s[13].status, -XF_EFAULT);
    ck_assert_int_eq(s[15].status, -XF_ESRCH);
    ck_assert_int_eq(s[17].status, -XF_EINVAL);
    ck_assert_int_eq(s[19].status, -XF_EIO);
    for (int i = 0; i < 20; i += 2)
        ck_assert_int_eq(s[i].status, 0);
    /* Even segments copied theirs (0x10) into ours; segment 1 ours out. */
    ck_assert_uint_eq(mine[0], 0x10);
    ck_assert_uint_eq(mine[18 * 200 + 99], 0x10);
    ck_assert_uint_eq(mine[18 * 200 + 100], 0xee);
    ck_assert_uint_eq(theirs[99], 0x10);
    ck_assert_uint_eq(theirs[100], 0xee);
    ck_assert_uint_eq(theirs[199], 0xee);
    ck_assert_uint_eq(theirs[200], 0x10);
    ck_assert_uint_eq(ro[0], 0x20);                  /* untouched */
    ck_assert_uint_eq(mine[3800], 0x20);
    ck_assert_int_eq(xf_gnttab_copy(gt, s, 0), -XF_EINVAL);
    ck_assert_int_eq(xf_gnttab_copy(NULL, s, 1), -XF_EINVAL);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("gnttab-map");
    TCase *tc = tcase_create("map");
    TCase *small = tcase_create("small-range");
    TCase *cp = tcase_create("copy");

    tcase_add_checked_fixture(tc, setup, gt_teardown);
    tcase_add_test(tc, map_write_read_unmap);
    tcase_add_test(tc, map_readonly);
    tcase_add_test(tc, batch_some_fail);
    tcase_add_test(tc, batch_is_contiguous);
    tcase_add_test(tc, unmapped_ranges_reused);
    tcase_add_test(tc, unmap_errors_keep_the_mapping);
    tcase_add_test(tc, no_foreign_range);
    suite_add_tcase(s, tc);
    tcase_add_checked_fixture(small, setup_small_range, gt_teardown);
    tcase_add_test(small, range_exhaustion);
    suite_add_tcase(s, small);
    tcase_add_checked_fixture(cp, setup, gt_teardown);
    tcase_add_test(cp, copy_both_directions);
    tcase_add_test(cp, copy_batch_per_segment_status);
    suite_add_tcase(s, cp);
    return xf_check_run(s);
}
