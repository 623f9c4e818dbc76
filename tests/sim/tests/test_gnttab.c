/* The simulator's v1 grant table: map, unmap, copy, pins and every error. */
#include <xenfront/sim.h>
#include <xenfront/errno.h>

#include <check.h>
#include "xf_check.h"
#include <stdlib.h>

static struct xf_sim *sim;
static domid_t G;
static grant_entry_v1_t *gt;
static uint8_t *page;      /* a guest page, as the guest sees it */
static xen_pfn_t page_gfn;

static void setup(void)
{
    sim = xf_sim_create(NULL);
    ck_assert_ptr_nonnull(sim);
    G = xf_sim_guest_domid(sim);
    gt = xf_sim_grant_table(sim, G);
    ck_assert_ptr_nonnull(gt);
    xf_sim_set_current(sim, G);
    page = xf_plat_page_alloc(1);
    ck_assert_ptr_nonnull(page);
    page_gfn = xf_plat_virt_to_gfn(page);
    struct xf_sim_domain_config c5 = { .domid = 5 };
    ck_assert_int_eq(xf_sim_domain_create(sim, &c5), 5);
}

static void teardown(void)
{
    xf_sim_destroy(sim);
}

static void grant(grant_ref_t ref, domid_t to, xen_pfn_t frame, uint16_t flags)
{
    gt[ref].frame = (uint32_t)frame;
    gt[ref].domid = to;
    __atomic_store_n(&gt[ref].flags, flags, __ATOMIC_RELEASE);
}

static uint16_t flags(grant_ref_t ref)
{
    return __atomic_load_n(&gt[ref].flags, __ATOMIC_ACQUIRE);
}

static int16_t map_raw(domid_t mapper, domid_t dom, grant_ref_t ref, uint32_t fl,
                       uint64_t host_addr, grant_handle_t *h)
{
    struct gnttab_map_grant_ref op = { .host_addr = host_addr, .flags = fl, .ref = ref,
                                       .dom = dom };
    ck_assert_int_eq(xf_sim_grant_table_op(sim, mapper, GNTTABOP_map_grant_ref, &op, 1), 0);
    if (h != NULL)
        *h = op.handle;
    return op.status;
}

static int16_t unmap_raw(domid_t mapper, grant_handle_t h, uint64_t host_addr)
{
    struct gnttab_unmap_grant_ref op = { .host_addr = host_addr, .handle = h };
    ck_assert_int_eq(xf_sim_grant_table_op(sim, mapper, GNTTABOP_unmap_grant_ref, &op, 1), 0);
    return op.status;
}

static uint64_t foreign_addr(domid_t d, unsigned i)
{
    xen_pfn_t first;
    size_t n;
    ck_assert_int_eq(xf_sim_foreign_range(sim, d, &first, &n), 0);
    ck_assert_uint_lt(i, n);
    return (uint64_t)(first + i) << XF_PAGE_SHIFT;
}

START_TEST(map_write_read_unmap)
{
    grant_handle_t h;
    int16_t st;

    grant(8, 0, page_gfn, GTF_permit_access);
    uint8_t *m = xf_sim_map_grant(sim, 0, G, 8, false, &h, &st);
    ck_assert_int_eq(st, GNTST_okay);
    ck_assert_ptr_nonnull(m);
    ck_assert_uint_eq(flags(8), GTF_permit_access | GTF_reading | GTF_writing);
    /* The real aliasing: each side sees the other's writes. */
    memcpy(m, "from dom0", 10);
    ck_assert_str_eq((char *)page, "from dom0");
    memcpy(page + 100, "from guest", 11);
    ck_assert_str_eq((char *)m + 100, "from guest");
    ck_assert_int_eq(xf_sim_unmap_grant(sim, 0, h), GNTST_okay);
    ck_assert_uint_eq(flags(8), GTF_permit_access);
    ck_assert_int_eq(xf_sim_unmap_grant(sim, 0, h), GNTST_bad_handle);
}
END_TEST

START_TEST(readonly_enforced)
{
    grant_handle_t h;
    int16_t st;

    grant(9, 0, page_gfn, GTF_permit_access | GTF_readonly);
    ck_assert_ptr_null(xf_sim_map_grant(sim, 0, G, 9, false, &h, &st));
    ck_assert_int_eq(st, GNTST_general_error);
    ck_assert_uint_eq(flags(9), GTF_permit_access | GTF_readonly); /* no pin left */
    const uint8_t *m = xf_sim_map_grant(sim, 0, G, 9, true, &h, &st);
    ck_assert_int_eq(st, GNTST_okay);
    ck_assert_uint_eq(flags(9), GTF_permit_access | GTF_readonly | GTF_reading);
    page[7] = 0x5a;
    ck_assert_uint_eq(m[7], 0x5a);
    /* Still read-only while pinned read-only. */
    ck_assert_int_eq(map_raw(0, G, 9, GNTMAP_host_map, foreign_addr(0, 100), NULL),
                     GNTST_general_error);
    ck_assert_int_eq(xf_sim_unmap_grant(sim, 0, h), GNTST_okay);
    ck_assert_uint_eq(flags(9), GTF_permit_access | GTF_readonly);
}
END_TEST

START_TEST(map_errors)
{
    grant_handle_t h;

    grant(10, 5, page_gfn, GTF_permit_access);   /* granted to domain 5 */
    ck_assert_int_eq(map_raw(0, G, 10, GNTMAP_host_map, foreign_addr(0, 0), &h),
                     GNTST_general_error);
    ck_assert_uint_eq(flags(10), GTF_permit_access);
    grant(11, 0, page_gfn, GTF_invalid);
    ck_assert_int_eq(map_raw(0, G, 11, GNTMAP_host_map, foreign_addr(0, 0), &h),
                     GNTST_general_error);
    grant(11, 0, page_gfn, GTF_accept_transfer);
    ck_assert_int_eq(map_raw(0, G, 11, GNTMAP_host_map, foreign_addr(0, 0), &h),
                     GNTST_general_error);
    grant(12, 0, page_gfn, GTF_permit_access);
    ck_assert_int_eq(map_raw(0, 77, 12, GNTMAP_host_map, foreign_addr(0, 0), &h),
                     GNTST_bad_domain);
    ck_assert_int_eq(map_raw(0, DOMID_SELF, 12, GNTMAP_host_map, foreign_addr(0, 0), &h),
                     GNTST_bad_domain);
    ck_assert_int_eq(map_raw(0, G, 512, GNTMAP_host_map, foreign_addr(0, 0), &h),
                     GNTST_bad_gntref); /* one frame = refs 0..511 */
    ck_assert_int_eq(map_raw(0, G, 12, 0, foreign_addr(0, 0), &h), GNTST_bad_gntref);
    ck_assert_int_eq(map_raw(0, G, 12, GNTMAP_host_map | GNTMAP_device_map,
                             foreign_addr(0, 0), &h), GNTST_general_error);
    ck_assert_int_eq(map_raw(0, G, 12, GNTMAP_host_map | GNTMAP_contains_pte,
                             foreign_addr(0, 0), &h), GNTST_general_error);
    /* Outside the mapper's foreign range (its RAM), and not page 0 either. */
    ck_assert_int_eq(map_raw(0, G, 12, GNTMAP_host_map, 0x5000, &h), GNTST_general_error);
    ck_assert_uint_eq(flags(12), GTF_permit_access); /* pin undone */
    /* A frame the granter does not have. */
    grant(13, 0, 0x7fffff, GTF_permit_access);
    ck_assert_int_eq(map_raw(0, G, 13, GNTMAP_host_map, foreign_addr(0, 0), &h),
                     GNTST_bad_page);
    ck_assert_uint_eq(flags(13), GTF_permit_access);
    /* One mapping per gfn. */
    ck_assert_int_eq(map_raw(0, G, 12, GNTMAP_host_map, foreign_addr(0, 3), &h), GNTST_okay);
    ck_assert_int_eq(map_raw(0, G, 12, GNTMAP_host_map | GNTMAP_readonly,
                             foreign_addr(0, 3), NULL), GNTST_general_error);
    /* A ref pinned by dom0 cannot be mapped by another domain. */
    grant(12, 5, page_gfn, GTF_permit_access);
    ck_assert_int_eq(map_raw(5, G, 12, GNTMAP_host_map, foreign_addr(5, 0), NULL),
                     GNTST_general_error);
    ck_assert_int_eq(unmap_raw(0, h, foreign_addr(0, 3)), GNTST_okay);
    ck_assert_int_eq(map_raw(5, G, 12, GNTMAP_host_map, foreign_addr(5, 0), NULL), GNTST_okay);
}
END_TEST

START_TEST(unmap_errors)
{
    grant_handle_t h;

    grant(8, 0, page_gfn, GTF_permit_access);
    ck_assert_int_eq(unmap_raw(0, 0, foreign_addr(0, 0)), GNTST_bad_handle);
    ck_assert_int_eq(unmap_raw(0, 60000, foreign_addr(0, 0)), GNTST_bad_handle);
    ck_assert_int_eq(map_raw(0, G, 8, GNTMAP_host_map, foreign_addr(0, 1), &h), GNTST_okay);
    ck_assert_int_eq(unmap_raw(0, h, foreign_addr(0, 2)), GNTST_general_error);
    /* Xen unmaps nothing when not told where: the mapping stays. */
    ck_assert_int_eq(unmap_raw(0, h, 0), GNTST_okay);
    ck_assert_uint_eq(flags(8), GTF_permit_access | GTF_reading | GTF_writing);
    ck_assert_ptr_nonnull(xf_sim_gfn_to_va(sim, 0, foreign_addr(0, 1) >> XF_PAGE_SHIFT));
    ck_assert_int_eq(unmap_raw(0, h, foreign_addr(0, 1)), GNTST_okay);
    ck_assert_ptr_null(xf_sim_gfn_to_va(sim, 0, foreign_addr(0, 1) >> XF_PAGE_SHIFT));
    ck_assert_uint_eq(flags(8), GTF_permit_access);
    /* Another domain's handle means nothing to dom 5. */
    ck_assert_int_eq(unmap_raw(5, h, foreign_addr(5, 1)), GNTST_bad_handle);
}
END_TEST

START_TEST(pins_counted)
{
    grant_handle_t r1, r2, w1;
    int16_t st;

    grant(8, 0, page_gfn, GTF_permit_access);
    ck_assert_ptr_nonnull(xf_sim_map_grant(sim, 0, G, 8, true, &r1, &st));
    ck_assert_ptr_nonnull(xf_sim_map_grant(sim, 0, G, 8, true, &r2, &st));
    ck_assert_uint_eq(flags(8), GTF_permit_access | GTF_reading);
    ck_assert_ptr_nonnull(xf_sim_map_grant(sim, 0, G, 8, false, &w1, &st));
    ck_assert_uint_eq(flags(8), GTF_permit_access | GTF_reading | GTF_writing);
    ck_assert_int_eq(xf_sim_unmap_grant(sim, 0, w1), GNTST_okay);
    ck_assert_uint_eq(flags(8), GTF_permit_access | GTF_reading);
    ck_assert_int_eq(xf_sim_unmap_grant(sim, 0, r1), GNTST_okay);
    ck_assert_uint_eq(flags(8), GTF_permit_access | GTF_reading);
    ck_assert_int_eq(xf_sim_unmap_grant(sim, 0, r2), GNTST_okay);
    ck_assert_uint_eq(flags(8), GTF_permit_access);
    /* The guest may now revoke it; a map then fails. */
    grant(8, 0, page_gfn, GTF_invalid);
    ck_assert_ptr_null(xf_sim_map_grant(sim, 0, G, 8, true, &r1, &st));
    ck_assert_int_eq(st, GNTST_general_error);
}
END_TEST

START_TEST(copy_both_ways_with_statuses)
{
    uint8_t *own;
    xen_pfn_t own_gfn;

    /* dom0's own page, from dom0's allocator. */
    xf_sim_set_current(sim, 0);
    own = xf_plat_page_alloc(1);
    ck_assert_ptr_nonnull(own);
    own_gfn = xf_plat_virt_to_gfn(own);
    xf_sim_set_current(sim, G);

    grant(8, 0, page_gfn, GTF_permit_access);
    grant(9, 0, page_gfn, GTF_permit_access | GTF_readonly);
    memcpy(page, "guest data", 11);
    memcpy(own + 512, "dom0 data", 10);

    struct gnttab_copy ops[9];
    memset(ops, 0, sizeof(ops));
    /* 0: guest grant -> dom0 frame */
    ops[0] = (struct gnttab_copy){ .source = { .u.ref = 8, .domid = G },
        .dest = { .u.gmfn = own_gfn, .domid = DOMID_SELF }, .len = 11,
        .flags = GNTCOPY_source_gref };
    /* 1: dom0 frame -> guest grant at an offset */
    ops[1] = (struct gnttab_copy){ .source = { .u.gmfn = own_gfn, .domid = DOMID_SELF, .offset = 512 },
        .dest = { .u.ref = 8, .domid = G, .offset = 2048 }, .len = 10,
        .flags = GNTCOPY_dest_gref };
    /* 2: non-existent domain */
    ops[2] = (struct gnttab_copy){ .source = { .u.ref = 8, .domid = 77 },
        .dest = { .u.gmfn = own_gfn, .domid = DOMID_SELF }, .len = 1,
        .flags = GNTCOPY_source_gref };
    /* 3: a frame of another domain */
    ops[3] = (struct gnttab_copy){ .source = { .u.gmfn = page_gfn, .domid = G },
        .dest = { .u.gmfn = own_gfn, .domid = DOMID_SELF }, .len = 1 };
    /* 4: ref beyond the table */
    ops[4] = (struct gnttab_copy){ .source = { .u.ref = 4096, .domid = G },
        .dest = { .u.gmfn = own_gfn, .domid = DOMID_SELF }, .len = 1,
        .flags = GNTCOPY_source_gref };
    /* 5: crosses the page end */
    ops[5] = (struct gnttab_copy){ .source = { .u.ref = 8, .domid = G, .offset = 4000 },
        .dest = { .u.gmfn = own_gfn, .domid = DOMID_SELF }, .len = 200,
        .flags = GNTCOPY_source_gref };
    /* 6: into a read-only grant */
    ops[6] = (struct gnttab_copy){ .source = { .u.gmfn = own_gfn, .domid = DOMID_SELF },
        .dest = { .u.ref = 9, .domid = G }, .len = 1, .flags = GNTCOPY_dest_gref };
    /* 7: a frame dom0 does not have */
    ops[7] = (struct gnttab_copy){ .source = { .u.gmfn = 0xfffff, .domid = DOMID_SELF },
        .dest = { .u.ref = 8, .domid = G }, .len = 1, .flags = GNTCOPY_dest_gref };
    /* 8: zero length (QEMU probes grant copy this way) */
    ops[8] = (struct gnttab_copy){ .source = { .u.ref = 8, .domid = G },
        .dest = { .u.gmfn = own_gfn, .domid = DOMID_SELF }, .len = 0,
        .flags = GNTCOPY_source_gref };

    ck_assert_int_eq(xf_sim_grant_table_op(sim, 0, GNTTABOP_copy, ops, 9), 0);
    ck_assert_int_eq(ops[0].status, GNTST_okay);
    ck_assert_int_eq(ops[1].status, GNTST_okay);
    ck_assert_int_eq(ops[2].status, GNTST_bad_domain);
    ck_assert_int_eq(ops[3].status, GNTST_permission_denied);
    ck_assert_int_eq(ops[4].status, GNTST_bad_gntref);
    ck_assert_int_eq(ops[5].status, GNTST_bad_copy_arg);
    ck_assert_int_eq(ops[6].status, GNTST_general_error);
    ck_assert_int_eq(ops[7].status, GNTST_bad_page);
    ck_assert_int_eq(ops[8].status, GNTST_okay);
    ck_assert_str_eq((char *)own, "guest data");
    ck_assert_str_eq((char *)page + 2048, "dom0 data");
    /* Copies pin only while they run. */
    ck_assert_uint_eq(flags(8), GTF_permit_access);
    ck_assert_uint_eq(flags(9), GTF_permit_access | GTF_readonly);
    /* Reading a read-only grant is fine. */
    ops[0].source.u.ref = 9;
    ck_assert_int_eq(xf_sim_grant_table_op(sim, 0, GNTTABOP_copy, ops, 1), 0);
    ck_assert_int_eq(ops[0].status, GNTST_okay);
    /* A grant to someone else is not ours to copy. */
    grant(10, 5, page_gfn, GTF_permit_access);
    ops[0].source.u.ref = 10;
    ck_assert_int_eq(xf_sim_grant_table_op(sim, 0, GNTTABOP_copy, ops, 1), 0);
    ck_assert_int_eq(ops[0].status, GNTST_general_error);
}
END_TEST

START_TEST(table_ops)
{
    struct gnttab_query_size q[2] = { { .dom = DOMID_SELF } };
    ck_assert_int_eq(xf_sim_grant_table_op(sim, G, GNTTABOP_query_size, q, 2), -XF_EINVAL);
    ck_assert_int_eq(xf_sim_grant_table_op(sim, G, GNTTABOP_query_size, q, 1), 0);
    ck_assert_int_eq(q[0].status, GNTST_okay);
    ck_assert_uint_eq(q[0].nr_frames, 1);
    ck_assert_uint_eq(q[0].max_nr_frames, 64);
    q[0].dom = 77;
    ck_assert_int_eq(xf_sim_grant_table_op(sim, G, GNTTABOP_query_size, q, 1), 0);
    ck_assert_int_eq(q[0].status, GNTST_bad_domain);
    q[0].dom = 0;
    ck_assert_int_eq(xf_sim_grant_table_op(sim, G, GNTTABOP_query_size, q, 1), 0);
    ck_assert_int_eq(q[0].status, GNTST_permission_denied);
    q[0].dom = G;
    ck_assert_int_eq(xf_sim_grant_table_op(sim, 0, GNTTABOP_query_size, q, 1), 0);
    ck_assert_int_eq(q[0].status, GNTST_okay);

    xen_pfn_t frames[4];
    struct gnttab_setup_table s = { .dom = DOMID_SELF, .nr_frames = 65 };
    set_xen_guest_handle(s.frame_list, frames);
    ck_assert_int_eq(xf_sim_grant_table_op(sim, G, GNTTABOP_setup_table, &s, 1), 0);
    ck_assert_int_eq(s.status, GNTST_general_error);
    s.dom = 77;
    ck_assert_int_eq(xf_sim_grant_table_op(sim, G, GNTTABOP_setup_table, &s, 1), 0);
    ck_assert_int_eq(s.status, GNTST_bad_domain);
    s.dom = 0;
    s.nr_frames = 1;
    ck_assert_int_eq(xf_sim_grant_table_op(sim, G, GNTTABOP_setup_table, &s, 1), 0);
    ck_assert_int_eq(s.status, GNTST_permission_denied);
    ck_assert_int_eq(xf_sim_grant_table_op(sim, G, GNTTABOP_setup_table, &s, 2), -XF_EINVAL);
    s.dom = DOMID_SELF;
    s.nr_frames = 4;
    ck_assert_int_eq(xf_sim_grant_table_op(sim, G, GNTTABOP_setup_table, &s, 1), 0);
    ck_assert_int_eq(s.status, GNTST_okay);
    ck_assert_uint_eq(frames[3], ~(xen_pfn_t)0); /* not mapped anywhere yet */
    q[0].dom = DOMID_SELF;
    ck_assert_int_eq(xf_sim_grant_table_op(sim, G, GNTTABOP_query_size, q, 1), 0);
    ck_assert_uint_eq(q[0].nr_frames, 4);
    /* The table grew: ref 2047 now exists. */
    grant(2047, 0, page_gfn, GTF_permit_access);
    grant_handle_t h;
    int16_t st;
    ck_assert_ptr_nonnull(xf_sim_map_grant(sim, 0, G, 2047, true, &h, &st));

    struct gnttab_get_version gv = { .dom = DOMID_SELF };
    ck_assert_int_eq(xf_sim_grant_table_op(sim, G, GNTTABOP_get_version, &gv, 1), 0);
    ck_assert_uint_eq(gv.version, 1);
    gv.dom = 77;
    ck_assert_int_eq(xf_sim_grant_table_op(sim, G, GNTTABOP_get_version, &gv, 1), -XF_ESRCH);
    gv.dom = 0;
    ck_assert_int_eq(xf_sim_grant_table_op(sim, G, GNTTABOP_get_version, &gv, 1), -XF_EPERM);
    ck_assert_int_eq(xf_sim_grant_table_op(sim, G, GNTTABOP_get_version, &gv, 2), -XF_EINVAL);

    struct gnttab_set_version sv = { .version = 2 };
    ck_assert_int_eq(xf_sim_grant_table_op(sim, G, GNTTABOP_set_version, &sv, 1), -XF_ENOSYS);
    ck_assert_uint_eq(sv.version, 1);
    sv.version = 3;
    ck_assert_int_eq(xf_sim_grant_table_op(sim, G, GNTTABOP_set_version, &sv, 1), -XF_EINVAL);
    sv.version = 1;
    ck_assert_int_eq(xf_sim_grant_table_op(sim, G, GNTTABOP_set_version, &sv, 1), 0);
    ck_assert_int_eq(xf_sim_grant_table_op(sim, G, GNTTABOP_set_version, &sv, 0), -XF_EINVAL);
    ck_assert_int_eq(xf_sim_grant_table_op(sim, G, GNTTABOP_transfer, &sv, 1), -XF_ENOSYS);
    ck_assert_int_eq(xf_sim_grant_table_op(sim, G, GNTTABOP_copy, NULL, 1), -XF_EFAULT);
    ck_assert_int_eq(xf_sim_grant_table_op(sim, G, GNTTABOP_map_grant_ref, NULL, 0), 0);
}
END_TEST

START_TEST(builder_grants)
{
    grant_handle_t h;
    int16_t st;

    ck_assert_uint_eq(gt[0].frame, XF_SIM_CONSOLE_GFN);
    ck_assert_uint_eq(gt[1].frame, XF_SIM_STORE_GFN);
    ck_assert_uint_eq(gt[0].domid, 0);
    uint8_t *store = xf_sim_map_grant(sim, 0, G, 1, false, &h, &st);
    ck_assert_int_eq(st, GNTST_okay);
    uint8_t *guest_view = xf_sim_gfn_to_va(sim, G, xf_sim_store_gfn(sim));
    store[0] = 0x42;
    ck_assert_uint_eq(guest_view[0], 0x42);
    ck_assert_int_eq(xf_sim_unmap_grant(sim, 0, h), GNTST_okay);
}
END_TEST

START_TEST(destroying_mapper_drops_pins)
{
    grant_handle_t h;
    int16_t st;

    grant(20, 5, page_gfn, GTF_permit_access);
    ck_assert_ptr_nonnull(xf_sim_map_grant(sim, 5, G, 20, false, &h, &st));
    ck_assert_uint_eq(flags(20), GTF_permit_access | GTF_reading | GTF_writing);
    ck_assert_int_eq(xf_sim_domain_destroy(sim, 5), 0);
    ck_assert_uint_eq(flags(20), GTF_permit_access);
    ck_assert_ptr_null(xf_sim_map_grant(sim, 5, G, 20, false, &h, &st));
    ck_assert_int_eq(st, GNTST_bad_domain);
}
END_TEST

START_TEST(granter_destroyed_while_mapped)
{
    struct xf_sim_domain_config c = { .domid = 9 };
    grant_handle_t h;
    int16_t st;

    ck_assert_int_eq(xf_sim_domain_create(sim, &c), 9);
    grant_entry_v1_t *gt9 = xf_sim_grant_table(sim, 9);
    uint8_t *p9 = xf_sim_gfn_to_va(sim, 9, 100);
    p9[0] = 0x77;
    gt9[8].frame = 100;
    gt9[8].domid = 0;
    __atomic_store_n(&gt9[8].flags, (uint16_t)GTF_permit_access, __ATOMIC_RELEASE);
    uint8_t *m = xf_sim_map_grant(sim, 0, 9, 8, false, &h, &st);
    ck_assert_ptr_nonnull(m);
    ck_assert_int_eq(xf_sim_domain_destroy(sim, 9), 0);
    /* Xen keeps a dying domain's pages while they are mapped. */
    ck_assert_uint_eq(m[0], 0x77);
    ck_assert_int_eq(xf_sim_unmap_grant(sim, 0, h), GNTST_okay);
}
END_TEST

START_TEST(maptrack_exhausted)
{
    struct xf_sim_domain_config c = { .domid = 6, .foreign_frames = XF_SIM_MAX_FOREIGN };
    struct gnttab_setup_table s = { .dom = DOMID_SELF, .nr_frames = 5 };
    unsigned made = 0;
    int16_t st = GNTST_okay;

    ck_assert_int_eq(xf_sim_domain_create(sim, &c), 6);
    ck_assert_int_eq(xf_sim_grant_table_op(sim, G, GNTTABOP_setup_table, &s, 1), 0);
    for (grant_ref_t r = 8; r < 8 + XF_SIM_MAX_MAPTRACK + 1; r++)
        grant(r, 6, page_gfn, GTF_permit_access | GTF_readonly);
    for (grant_ref_t r = 8; st == GNTST_okay; r++) {
        grant_handle_t h;
        if (xf_sim_map_grant(sim, 6, G, r, true, &h, &st) != NULL)
            made++;
    }
    ck_assert_uint_eq(made, XF_SIM_MAX_MAPTRACK);
    ck_assert_int_eq(st, GNTST_no_space);
    ck_assert_uint_eq(flags(8 + XF_SIM_MAX_MAPTRACK), GTF_permit_access | GTF_readonly);
    /* Destroying the mapper releases every pin. */
    ck_assert_int_eq(xf_sim_domain_destroy(sim, 6), 0);
    ck_assert_uint_eq(flags(8), GTF_permit_access | GTF_readonly);
    ck_assert_uint_eq(flags(8 + XF_SIM_MAX_MAPTRACK - 1), GTF_permit_access | GTF_readonly);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("sim-gnttab");
    TCase *tc = tcase_create("gnttab");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 20);
    tcase_add_test(tc, map_write_read_unmap);
    tcase_add_test(tc, readonly_enforced);
    tcase_add_test(tc, map_errors);
    tcase_add_test(tc, unmap_errors);
    tcase_add_test(tc, pins_counted);
    tcase_add_test(tc, copy_both_ways_with_statuses);
    tcase_add_test(tc, table_ops);
    tcase_add_test(tc, builder_grants);
    tcase_add_test(tc, destroying_mapper_drops_pins);
    tcase_add_test(tc, granter_destroyed_while_mapped);
    tcase_add_test(tc, maptrack_exhausted);
    suite_add_tcase(s, tc);
    return xf_check_run(s);
}
