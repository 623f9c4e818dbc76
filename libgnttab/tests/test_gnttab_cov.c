/*
 * libgnttab's refusals, which the other tests reach only in part: every
 * entry point on a NULL context or NULL arrays, configurations create
 * refuses, copy segments malformed in each of their fields (each refused
 * alone, the others still done), every GNTST_* status as an errno, and a
 * destroy refused while a grant is live. Nothing refused changes the
 * statistics.
 */
#include "gnttab_test.h"

static void setup(void)
{
    gt_setup();
}

static void teardown(void)
{
    gt_teardown();
}

START_TEST(null_and_empty_refused)
{
    grant_ref_t ref = 77, refs[2] = { 0, 0 };
    struct xf_gnttab_map m;
    struct xf_gnttab_copy c;
    struct xf_gnttab_stats before = gt_stats(), after;
    unsigned char page[16];

    memset(&m, 0, sizeof(m));
    memset(&c, 0, sizeof(c));
    ck_assert_int_eq(xf_gnttab_create(NULL, NULL), -XF_EINVAL);
    ck_assert_int_eq(xf_gnttab_destroy(NULL), 0);
    ck_assert_int_eq(xf_gnttab_grow(NULL, 1), -XF_EINVAL);
    ck_assert_int_eq(xf_gnttab_grant_access(NULL, 0, 1, false, &ref), -XF_EINVAL);
    ck_assert_int_eq(xf_gnttab_grant_access(gt, 0, 1, false, NULL), -XF_EINVAL);
    ck_assert_int_eq(xf_gnttab_grant_page(NULL, 0, page, false, &ref), -XF_EINVAL);
    ck_assert_int_eq(xf_gnttab_grant_page(gt, 0, NULL, false, &ref), -XF_EINVAL);
    ck_assert_int_eq(xf_gnttab_grant_page(gt, 0, page, false, NULL), -XF_EINVAL);
    ck_assert_int_eq(xf_gnttab_end_access(NULL, 8), -XF_EINVAL);
    ck_assert_int_eq(xf_gnttab_end_access(gt, 0xfffffff), -XF_EINVAL);
    ck_assert_int_eq(xf_gnttab_end_access_deferred(NULL, 8, page, NULL, NULL), -XF_EINVAL);
    ck_assert_int_eq(xf_gnttab_end_access_deferred(gt, 0xfffffff, page, NULL, NULL), -XF_EINVAL);
    ck_assert_uint_eq(xf_gnttab_reclaim(NULL), 0);
    ck_assert_uint_eq(xf_gnttab_deferred_count(NULL), 0);
    ck_assert_int_eq(xf_gnttab_alloc_refs(NULL, refs, 1), -XF_EINVAL);
    ck_assert_int_eq(xf_gnttab_alloc_refs(gt, NULL, 1), -XF_EINVAL);
    ck_assert_int_eq(xf_gnttab_alloc_refs(gt, refs, 0), -XF_EINVAL);
    ck_assert_int_eq(xf_gnttab_free_refs(NULL, refs, 1), -XF_EINVAL);
    ck_assert_int_eq(xf_gnttab_free_refs(gt, NULL, 1), -XF_EINVAL);
    ck_assert_int_eq(xf_gnttab_grant_ref(NULL, 8, 0, 1, false), -XF_EINVAL);
    ck_assert_int_eq(xf_gnttab_grant_ref(gt, 0xfffffff, 0, 1, false), -XF_EINVAL);
    ck_assert_int_eq(xf_gnttab_end_ref(NULL, 8), -XF_EINVAL);
    ck_assert_int_eq(xf_gnttab_end_ref(gt, 0xfffffff), -XF_EINVAL);
    ck_assert_int_eq(xf_gnttab_map_grants(NULL, &m, 1), -XF_EINVAL);
    ck_assert_int_eq(xf_gnttab_map_grants(gt, NULL, 1), -XF_EINVAL);
    ck_assert_int_eq(xf_gnttab_map_grants(gt, &m, 0), -XF_EINVAL);
    ck_assert_int_eq(xf_gnttab_unmap_grants(NULL, &m, 1), -XF_EINVAL);
    ck_assert_int_eq(xf_gnttab_unmap_grants(gt, NULL, 1), -XF_EINVAL);
    ck_assert_int_eq(xf_gnttab_copy(NULL, &c, 1), -XF_EINVAL);
    ck_assert_int_eq(xf_gnttab_copy(gt, NULL, 1), -XF_EINVAL);
    ck_assert_int_eq(xf_gnttab_copy(gt, &c, 0), -XF_EINVAL);
    xf_gnttab_get_stats(gt, NULL);                          /* ignored */
    xf_gnttab_get_stats(NULL, &after);
    ck_assert_uint_eq(after.nr_frames, 0);
    ck_assert_uint_eq(ref, 77);
    after = gt_stats();
    ck_assert_mem_eq(&before, &after, sizeof(before));
}
END_TEST

START_TEST(configurations_refused)
{
    struct xf_gnttab *g2 = (struct xf_gnttab *)(uintptr_t)1;
    struct xf_gnttab_config c;

    memset(&c, 0, sizeof(c));
    c.initial_frames = 4;
    c.max_frames = 2;                              /* initial above max */
    ck_assert_int_eq(xf_gnttab_create(&g2, &c), -XF_EINVAL);
    ck_assert_ptr_null(g2);
    memset(&c, 0, sizeof(c));
    c.deferred_max = (1u << 20) + 1;
    ck_assert_int_eq(xf_gnttab_create(&g2, &c), -XF_EINVAL);
    memset(&c, 0, sizeof(c));
    c.initial_frames = XF_SIM_MAX_GRANT_FRAMES + 1;   /* above Xen's maximum */
    ck_assert_int_eq(xf_gnttab_create(&g2, &c), -XF_EINVAL);
    ck_assert_ptr_null(g2);
}
END_TEST

/* Each field of a copy segment wrong on its own: that segment alone is
 * refused, the good one next to it is done. */
START_TEST(copy_segments_refused_alone)
{
    struct xf_gnttab_copy s[2];
    unsigned char *local = gt_page(0x11);
    enum { NCASES = 6 };

    for (int k = 0; k < NCASES; k++) {
        memset(s, 0, sizeof(s));
        for (int i = 0; i < 2; i++) {
            s[i].dir = XF_GNTTAB_COPY_FROM_GRANT;
            s[i].domid = G;
            s[i].ref = 0;          /* the console's page, granted to dom0 only */
            s[i].offset = 0;
            s[i].len = 16;
            s[i].local = local;
        }
        switch (k) {
        case 0: s[0].domid = DOMID_FIRST_RESERVED; break;
        case 1: s[0].len = 0; break;
        case 2: s[0].dir = (enum xf_gnttab_copy_dir)7; break;
        case 3: s[0].local = NULL; break;
        case 4: s[0].offset = 4090; break;                  /* past the page */
        default: s[0].local = local + XF_PAGE_SIZE - 8; break; /* crosses a page */
        }
        (void)xf_gnttab_copy(gt, s, 2);
        ck_assert_int_eq(s[0].status, -XF_EINVAL);
        ck_assert_int_ne(s[1].status, -XF_EINVAL);          /* done (Xen's answer) */
    }
    xf_plat_page_free(local, 1);
}
END_TEST

START_TEST(status_codes)
{
    static const struct { int16_t st; int err; } t[] = {
        { GNTST_okay, 0 },
        { GNTST_general_error, -XF_EIO },
        { GNTST_bad_domain, -XF_ESRCH },
        { GNTST_bad_gntref, -XF_EINVAL },
        { GNTST_bad_handle, -XF_EBADF },
        { GNTST_bad_virt_addr, -XF_EFAULT },
        { GNTST_bad_dev_addr, -XF_EFAULT },
        { GNTST_no_device_space, -XF_ENOMEM },
        { GNTST_permission_denied, -XF_EPERM },
        { GNTST_bad_page, -XF_EFAULT },
        { GNTST_bad_copy_arg, -XF_EINVAL },
        { GNTST_address_too_big, -XF_ERANGE },
        { GNTST_eagain, -XF_EAGAIN },
        { GNTST_no_space, -XF_ENOSPC },
    };

    for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++)
        ck_assert_int_eq(xf_gnttab_status_errno(t[i].st), t[i].err);
    ck_assert_int_lt(xf_gnttab_status_errno(-100), 0);      /* unknown: an error */
}
END_TEST

/* destroy is refused while a grant is live, and works once it is ended. */
START_TEST(destroy_refused_while_granted)
{
    grant_ref_t ref;

    ck_assert_int_eq(xf_gnttab_grant_access(gt, 0, 123, true, &ref), 0);
    ck_assert_int_eq(xf_gnttab_destroy(gt), -XF_EBUSY);
    ck_assert_uint_eq(gt_stats().granted_refs, 1);
    ck_assert_int_eq(xf_gnttab_end_access(gt, ref), 0);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("gnttab_cov");
    TCase *tc = tcase_create("gnttab_cov");

    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, null_and_empty_refused);
    tcase_add_test(tc, configurations_refused);
    tcase_add_test(tc, copy_segments_refused_alone);
    tcase_add_test(tc, status_codes);
    tcase_add_test(tc, destroy_refused_while_granted);
    suite_add_tcase(s, tc);
    return xf_check_run(s);
}
