/*
 * The console's refusals, which the other tests reach only in part: every
 * entry point on a NULL console or a NULL buffer with a length, create's
 * arguments, and HVM parameters a toolstack left
 * unset or out of range (no console page or port: -XF_ENOENT; a port past
 * the 2-level range: -XF_ERANGE). Nothing refused writes the page.
 */
#include "console_test.h"

#include <xenfront/console_secondary.h>

static void set_param(uint32_t index, uint64_t value)
{
    struct xen_hvm_param p;

    memset(&p, 0, sizeof(p));
    p.domid = guest;
    p.index = index;
    p.value = value;
    ck_assert_int_eq(xf_sim_hvm_op(sim, 0, HVMOP_set_param, &p), 0);
}

START_TEST(null_console_refused)
{
    struct xf_console *con = (struct xf_console *)(uintptr_t)1;
    struct xencons_interface *page, before;
    char buf[8] = "abc";
    struct xf_console_early e = XF_CONSOLE_EARLY_INIT(NULL, NULL);

    sim_start(NULL);
    page = guest_page();
    memcpy(&before, page, sizeof(before));
    ck_assert_int_eq(xf_console_create(NULL, ec, page, 5, NULL), -XF_EINVAL);
    ck_assert_int_eq(xf_console_create(&con, NULL, page, 5, NULL), -XF_EINVAL);
    ck_assert_int_eq(xf_console_create(&con, ec, NULL, 5, NULL), -XF_EINVAL);
    ck_assert_int_eq(xf_console_create(&con, ec, page, 0, NULL), -XF_EINVAL);
    ck_assert_int_eq(xf_console_write(NULL, buf, 3), -XF_EINVAL);
    ck_assert_int_eq(xf_console_write_all(NULL, buf, 3, xf_plat_now_ns() + 1000000, NULL), -XF_EINVAL);
    ck_assert_int_eq(xf_console_flush(NULL, xf_plat_now_ns() + 1000000), -XF_EINVAL);
    ck_assert_int_lt(xf_console_out_pending(NULL), 0);
    ck_assert_int_eq(xf_console_read(NULL, buf, sizeof(buf)), -XF_EINVAL);
    ck_assert_int_lt(xf_console_poll(NULL), 0);
    ck_assert_int_lt(xf_console_status(NULL), 0);
    ck_assert_uint_eq(xf_console_port(NULL), 0);
    xf_console_destroy(NULL);                           /* ignored */
    ck_assert_int_lt(xf_console_early_write(NULL, buf, 3), 0);
    ck_assert_int_lt(xf_console_early_write(&e, NULL, 3), 0);
    ck_assert_int_eq(xf_console_hvm_params(NULL, NULL), 0);   /* both optional */
    /* A real console: NULL buffers with a length. */
    ck_assert_int_eq(xf_console_create(&con, ec, page, xf_sim_console_port(sim), NULL), 0);
    ck_assert_int_eq(xf_console_write(con, NULL, 3), -XF_EINVAL);
    ck_assert_int_eq(xf_console_write(con, NULL, 0), 0);
    ck_assert_int_eq(xf_console_write_all(con, NULL, 3, xf_plat_now_ns() + 1000000, NULL), -XF_EINVAL);
    ck_assert_int_eq(xf_console_read(con, NULL, 3), -XF_EINVAL);
    /* The secondary console's calls refuse a primary console, and NULLs. */
    {
        struct xf_console *sec = (struct xf_console *)(uintptr_t)1;

        ck_assert_int_eq(xf_console_secondary_service(con, true, xf_plat_now_ns() + 1000000),
                         -XF_EINVAL);
        ck_assert_int_eq(xf_console_secondary_service(NULL, true, xf_plat_now_ns() + 1000000),
                         -XF_EINVAL);
        ck_assert_int_eq(xf_console_secondary_close(con, xf_plat_now_ns() + 1000000), -XF_EINVAL);
        ck_assert_int_eq(xf_console_secondary_open(&sec, NULL, ec, NULL, "1", NULL,
                                                   xf_plat_now_ns() + 1000000), -XF_EINVAL);
        ck_assert_int_eq(xf_console_secondary_open(NULL, NULL, ec, NULL, "1", NULL,
                                                   xf_plat_now_ns() + 1000000), -XF_EINVAL);
    }
    ck_assert_mem_eq(page, &before, sizeof(before));
    xf_console_destroy(con);
    sim_stop();
}
END_TEST

START_TEST(hvm_params_unset_or_out_of_range)
{
    uint64_t pfn = 7;
    evtchn_port_t port = 9;
    uint64_t real_pfn, real_port;

    sim_start(NULL);
    real_pfn = xf_sim_console_gfn(sim);
    real_port = xf_sim_console_port(sim);
    set_param(HVM_PARAM_CONSOLE_PFN, 0);
    ck_assert_int_eq(xf_console_hvm_params(&pfn, &port), -XF_ENOENT);
    set_param(HVM_PARAM_CONSOLE_PFN, real_pfn);
    set_param(HVM_PARAM_CONSOLE_EVTCHN, 0);
    ck_assert_int_eq(xf_console_hvm_params(&pfn, &port), -XF_ENOENT);
    set_param(HVM_PARAM_CONSOLE_EVTCHN, XF_EVTCHN_NR_PORTS);
    ck_assert_int_eq(xf_console_hvm_params(&pfn, &port), -XF_ERANGE);
    ck_assert_uint_eq(pfn, 7);                           /* untouched on failure */
    ck_assert_uint_eq(port, 9);
    set_param(HVM_PARAM_CONSOLE_EVTCHN, real_port);
    ck_assert_int_eq(xf_console_hvm_params(&pfn, &port), 0);
    ck_assert_uint_eq(pfn, real_pfn);
    ck_assert_uint_eq(port, real_port);
    sim_stop();
}
END_TEST

static void on_input(struct xf_console *con, const char *buf, size_t len, void *arg)
{
    (void)con, (void)buf, (void)len, (void)arg;
}

/* A console with an input callback is read through it: read is refused
 * (-XF_EINVAL, as the header says). */
START_TEST(read_refused_with_callback)
{
    struct xf_console_config cfg = { on_input, NULL };
    struct xf_console *con = NULL;
    char buf[8];

    sim_start(NULL);
    ck_assert_int_eq(xf_console_create(&con, ec, guest_page(), xf_sim_console_port(sim), &cfg),
                     0);
    ck_assert_int_eq(xf_console_read(con, buf, sizeof(buf)), -XF_EINVAL);
    xf_console_destroy(con);
    sim_stop();
}
END_TEST

int main(void)
{
    Suite *s = suite_create("console_cov");
    TCase *tc = tcase_create("console_cov");

    tcase_add_test(tc, null_console_refused);
    tcase_add_test(tc, hvm_params_unset_or_out_of_range);
    tcase_add_test(tc, read_refused_with_callback);
    suite_add_tcase(s, tc);
    return xf_check_run(s);
}
