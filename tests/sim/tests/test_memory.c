/* The simulator's memory: pages, gfns, the foreign range, add_to_physmap
 * of shared_info and grant frames (real aliasing). */
#include <xenfront/sim.h>
#include <xenfront/errno.h>

#include <check.h>
#include "xf_check.h"
#include <stdlib.h>

static struct xf_sim *sim;
static domid_t G;

static void setup(void)
{
    struct xf_sim_config cfg = { .guest = { .ram_frames = 256, .foreign_frames = 8 } };
    sim = xf_sim_create(&cfg);
    ck_assert_ptr_nonnull(sim);
    G = xf_sim_guest_domid(sim);
    xf_sim_set_current(sim, G);
}

static void teardown(void)
{
    xf_sim_destroy(sim);
}

static long physmap(domid_t dom, unsigned space, xen_ulong_t idx, xen_pfn_t gpfn)
{
    struct xen_add_to_physmap x = { .domid = dom, .space = space, .idx = idx, .gpfn = gpfn };
    return xf_plat_memory_op(XENMEM_add_to_physmap, &x);
}

START_TEST(page_alloc_free)
{
    long free0 = xf_sim_free_frames(sim, G);
    ck_assert_int_eq(free0, 256 - XF_SIM_RESERVED_FRAMES);
    uint8_t *a = xf_plat_page_alloc(3);
    ck_assert_ptr_nonnull(a);
    ck_assert_uint_eq((uintptr_t)a % 4096, 0);
    xen_pfn_t g = xf_plat_virt_to_gfn(a);
    ck_assert_uint_ge(g, XF_SIM_RESERVED_FRAMES);
    ck_assert_uint_eq(xf_plat_virt_to_gfn(a + 4096 * 2 + 17), g + 2);
    for (size_t i = 0; i < 3 * 4096; i++)
        ck_assert_uint_eq(a[i], 0);
    ck_assert_ptr_eq(xf_sim_gfn_to_va(sim, G, g + 1), a + 4096);
    memset(a, 0xab, 3 * 4096);
    ck_assert_int_eq(xf_sim_free_frames(sim, G), free0 - 3);
    xf_plat_page_free(a, 3);
    ck_assert_int_eq(xf_sim_free_frames(sim, G), free0);
    uint8_t *b = xf_plat_page_alloc(1);
    ck_assert_ptr_eq(b, a);
    ck_assert_uint_eq(b[0], 0); /* zeroed again */
    ck_assert_ptr_null(xf_plat_page_alloc(0));
    ck_assert_ptr_null(xf_plat_page_alloc(1000));
    void *rest = xf_plat_page_alloc((size_t)free0 - 1);
    ck_assert_ptr_nonnull(rest);
    ck_assert_ptr_null(xf_plat_page_alloc(1));
    int local;
    ck_assert_uint_eq(xf_plat_virt_to_gfn(&local), ~(xen_pfn_t)0);
    ck_assert_ptr_null(xf_sim_gfn_to_va(sim, G, 256));    /* the gap */
    ck_assert_ptr_null(xf_sim_gfn_to_va(sim, 77, 1));
}
END_TEST

START_TEST(foreign_range)
{
    void *va;
    xen_pfn_t first, first2;
    size_t n, n2;

    ck_assert_int_eq(xf_plat_foreign_range(&va, &first, &n), 0);
    ck_assert_int_eq(xf_sim_foreign_range(sim, G, &first2, &n2), 0);
    ck_assert_uint_eq(first, 256 + XF_SIM_FOREIGN_GAP);
    ck_assert_uint_eq(first, first2);
    ck_assert_uint_eq(n, 8);
    ck_assert_uint_eq(n2, 8);
    ck_assert_uint_eq(xf_plat_virt_to_gfn((uint8_t *)va + 4096 * 5), first + 5);
    ck_assert_int_eq(xf_sim_foreign_range(sim, 77, &first2, &n2), -XF_ESRCH);

    /* The guest maps a page dom0 granted to it, at a gfn of its choice. */
    grant_entry_v1_t *gt0 = xf_sim_grant_table(sim, 0);
    uint8_t *p0 = xf_sim_gfn_to_va(sim, 0, 50);
    memcpy(p0, "dom0 page", 10);
    gt0[8].frame = 50;
    gt0[8].domid = G;
    __atomic_store_n(&gt0[8].flags, (uint16_t)GTF_permit_access, __ATOMIC_RELEASE);
    struct gnttab_map_grant_ref op = { .host_addr = (uint64_t)(first + 5) << 12,
                                       .flags = GNTMAP_host_map, .ref = 8, .dom = 0 };
    ck_assert_int_eq(xf_plat_grant_table_op(GNTTABOP_map_grant_ref, &op, 1), 0);
    ck_assert_int_eq(op.status, GNTST_okay);
    ck_assert_str_eq((char *)va + 5 * 4096, "dom0 page");
    ck_assert_ptr_eq(xf_sim_gfn_to_va(sim, G, first + 5), (uint8_t *)va + 5 * 4096);

    /* Fill the range: the convenience mapper reports no space. */
    for (unsigned i = 0; i < 7; i++) {
        int16_t st;
        grant_handle_t h;
        ck_assert_ptr_nonnull(xf_sim_map_grant(sim, G, 0, 8, true, &h, &st));
    }
    int16_t st;
    ck_assert_ptr_null(xf_sim_map_grant(sim, G, 0, 8, true, NULL, &st));
    ck_assert_int_eq(st, GNTST_no_device_space);
    struct gnttab_unmap_grant_ref u = { .host_addr = op.host_addr, .handle = op.handle };
    ck_assert_int_eq(xf_plat_grant_table_op(GNTTABOP_unmap_grant_ref, &u, 1), 0);
    ck_assert_int_eq(u.status, GNTST_okay);
    ck_assert_ptr_null(xf_sim_gfn_to_va(sim, G, first + 5));
}
END_TEST

START_TEST(shared_info_aliasing)
{
    uint8_t *p = xf_plat_page_alloc(1);
    xen_pfn_t g = xf_plat_virt_to_gfn(p);

    ck_assert_int_eq(physmap(DOMID_SELF, XENMAPSPACE_shared_info, 1, g), -XF_EINVAL);
    ck_assert_int_eq(physmap(77, XENMAPSPACE_shared_info, 0, g), -XF_ESRCH);
    ck_assert_int_eq(physmap(0, XENMAPSPACE_shared_info, 0, g), -XF_EPERM);
    ck_assert_int_eq(physmap(DOMID_SELF, XENMAPSPACE_shared_info, 0, 100000), -XF_EINVAL);
    ck_assert_int_eq(physmap(DOMID_SELF, XENMAPSPACE_gmfn_foreign, 0, g), -XF_EINVAL);
    ck_assert_int_eq(physmap(DOMID_SELF, XENMAPSPACE_gmfn, 0, g), -XF_EOPNOTSUPP);
    ck_assert_int_eq(xf_plat_memory_op(XENMEM_add_to_physmap, NULL), -XF_EFAULT);
    ck_assert_int_eq(xf_plat_memory_op(9999, p), -XF_ENOSYS);

    ck_assert_int_eq(physmap(DOMID_SELF, XENMAPSPACE_shared_info, 0, g), 0);
    shared_info_t *mine = (shared_info_t *)(void *)p;
    shared_info_t *xen = xf_sim_shared_info(sim, G);
    ck_assert_ptr_ne(mine, xen);
    /* An event raised by dom0 shows in the guest's own mapping ... */
    int up = xf_sim_evtchn_alloc_unbound(sim, G, 0);
    int bp = xf_sim_evtchn_bind_interdomain(sim, 0, G, (evtchn_port_t)up);
    mine->evtchn_pending[0] = 0;
    mine->vcpu_info[0].evtchn_upcall_pending = 0;
    ck_assert_int_eq(xf_sim_evtchn_send(sim, 0, (evtchn_port_t)bp), 0);
    ck_assert((mine->evtchn_pending[0] >> up) & 1);
    ck_assert_uint_eq(mine->vcpu_info[0].evtchn_upcall_pending, 1);
    /* ... and the guest's mask is what Xen reads. */
    mine->evtchn_mask[0] |= 1ull << up;
    ck_assert((xen->evtchn_mask[0] >> up) & 1);

    /* Removing it leaves a hole, as in Xen: the RAM page went when
     * shared_info came. */
    struct xen_remove_from_physmap r = { .domid = DOMID_SELF, .gpfn = g };
    ck_assert_int_eq(xf_plat_memory_op(XENMEM_remove_from_physmap, &r), 0);
    ck_assert_int_eq(xf_plat_memory_op(XENMEM_remove_from_physmap, &r), -XF_EOPNOTSUPP);
    ck_assert((xen->evtchn_mask[0] >> up) & 1);
    ck_assert_ptr_null(xf_sim_gfn_to_va(sim, G, g));

    /* populate_physmap puts a fresh zeroed page there; only into a hole. */
    xen_pfn_t gfns[2] = { g, g + 1 };
    struct xen_memory_reservation res = { .nr_extents = 2, .extent_order = 0,
                                          .domid = DOMID_SELF };
    set_xen_guest_handle(res.extent_start, gfns);
    ck_assert_int_eq(xf_plat_memory_op(XENMEM_populate_physmap, &res), 1);
    ck_assert_ptr_eq(xf_sim_gfn_to_va(sim, G, g), p);
    for (size_t i = 0; i < 4096; i++)
        ck_assert_uint_eq(p[i], 0);
    p[0] = 0x5a;
    ck_assert_int_eq(xf_plat_memory_op(XENMEM_populate_physmap, &res), 0);
    res.extent_order = 1;
    ck_assert_int_eq(xf_plat_memory_op(XENMEM_populate_physmap, &res), -XF_EINVAL);
    ck_assert_uint_eq(p[0], 0x5a);
}
END_TEST

START_TEST(grant_frames_aliasing)
{
    uint8_t *p = xf_plat_page_alloc(2);
    xen_pfn_t g = xf_plat_virt_to_gfn(p);
    grant_entry_v1_t *mine = (grant_entry_v1_t *)(void *)p;

    ck_assert_int_eq(physmap(DOMID_SELF, XENMAPSPACE_grant_table, 64, g), -XF_EINVAL);
    ck_assert_int_eq(physmap(DOMID_SELF, XENMAPSPACE_grant_table,
                             XENMAPIDX_grant_table_status, g), -XF_EINVAL);
    ck_assert_int_eq(physmap(DOMID_SELF, XENMAPSPACE_grant_table, 0, g), 0);
    /* The builder's entries are there. */
    ck_assert_uint_eq(mine[0].frame, XF_SIM_CONSOLE_GFN);
    ck_assert_uint_eq(mine[1].frame, XF_SIM_STORE_GFN);
    /* A grant written through the guest's mapping is what dom0 maps. */
    uint8_t *data = xf_plat_page_alloc(1);
    mine[8].frame = (uint32_t)xf_plat_virt_to_gfn(data);
    mine[8].domid = 0;
    __atomic_store_n(&mine[8].flags, (uint16_t)GTF_permit_access, __ATOMIC_RELEASE);
    grant_handle_t h;
    int16_t st;
    uint8_t *m = xf_sim_map_grant(sim, 0, G, 8, false, &h, &st);
    ck_assert_int_eq(st, GNTST_okay);
    m[0] = 0x99;
    ck_assert_uint_eq(data[0], 0x99);
    /* And the pin is visible to the guest through its mapping. */
    ck_assert_uint_eq(__atomic_load_n(&mine[8].flags, __ATOMIC_ACQUIRE),
                      GTF_permit_access | GTF_reading | GTF_writing);
    ck_assert_int_eq(xf_sim_unmap_grant(sim, 0, h), GNTST_okay);
    ck_assert_uint_eq(mine[8].flags, GTF_permit_access);

    /* Frame 3 grows the table to 4 frames; ref 1600 lives in frame 3. */
    struct gnttab_query_size q = { .dom = DOMID_SELF };
    grant_entry_v1_t *f3 = (grant_entry_v1_t *)(void *)(p + 4096);
    ck_assert_ptr_null(xf_sim_map_grant(sim, 0, G, 1600, true, &h, &st));
    ck_assert_int_eq(st, GNTST_bad_gntref);
    ck_assert_int_eq(physmap(DOMID_SELF, XENMAPSPACE_grant_table, 3, g + 1), 0);
    ck_assert_int_eq(xf_plat_grant_table_op(GNTTABOP_query_size, &q, 1), 0);
    ck_assert_uint_eq(q.nr_frames, 4);
    f3[1600 - 1536].frame = mine[8].frame;
    f3[1600 - 1536].domid = 0;
    __atomic_store_n(&f3[1600 - 1536].flags, (uint16_t)GTF_permit_access, __ATOMIC_RELEASE);
    m = xf_sim_map_grant(sim, 0, G, 1600, true, &h, &st);
    ck_assert_int_eq(st, GNTST_okay);
    ck_assert_uint_eq(m[0], 0x99);

    /* setup_table reports where the frames are mapped. */
    xen_pfn_t frames[4];
    struct gnttab_setup_table s = { .dom = DOMID_SELF, .nr_frames = 4 };
    set_xen_guest_handle(s.frame_list, frames);
    ck_assert_int_eq(xf_plat_grant_table_op(GNTTABOP_setup_table, &s, 1), 0);
    ck_assert_uint_eq(frames[0], g);
    ck_assert_uint_eq(frames[3], g + 1);
    ck_assert_uint_eq(frames[1], ~(xen_pfn_t)0);

    /* Moving frame 0 elsewhere: the new page aliases it. */
    uint8_t *p2 = xf_plat_page_alloc(1);
    uint32_t frame8 = mine[8].frame;
    ck_assert_int_eq(physmap(DOMID_SELF, XENMAPSPACE_grant_table, 0,
                             xf_plat_virt_to_gfn(p2)), 0);
    ck_assert_uint_eq(((grant_entry_v1_t *)(void *)p2)[8].frame, frame8);
    /* The old gfn is a hole, as in Xen (its RAM went when the frame came). */
    ck_assert_ptr_null(xf_sim_gfn_to_va(sim, G, g));
    /* dom0 may do it for the guest; another guest may not. */
    struct xf_sim_domain_config c = { .domid = 4 };
    ck_assert_int_eq(xf_sim_domain_create(sim, &c), 4);
    struct xen_add_to_physmap x = { .domid = G, .space = XENMAPSPACE_grant_table, .idx = 1,
                                    .gpfn = 200 };
    ck_assert_int_eq(xf_sim_memory_op(sim, 4, XENMEM_add_to_physmap, &x), -XF_EPERM);
    ck_assert_int_eq(xf_sim_memory_op(sim, 0, XENMEM_add_to_physmap, &x), 0);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("sim-memory");
    TCase *tc = tcase_create("memory");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 20);
    tcase_add_test(tc, page_alloc_free);
    tcase_add_test(tc, foreign_range);
    tcase_add_test(tc, shared_info_aliasing);
    tcase_add_test(tc, grant_frames_aliasing);
    suite_add_tcase(s, tc);
    return xf_check_run(s);
}
