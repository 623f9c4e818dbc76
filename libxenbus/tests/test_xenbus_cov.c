/*
 * libxenbus's refusals, which the other tests reach only in part: every
 * public call given a NULL context, a NULL buffer with a capacity, a
 * malformed or over-long path, a bad permission, a state outside
 * XenbusState or an unset device is refused with -XF_EINVAL before anything
 * is sent (the server's request count does not move), and a few replies a
 * server may give that the other tests do not send (a transaction id of 0,
 * a domain path that is not one string).
 */
#include <xenfront/xsd.h>

#include "xb_test.h"

static struct xf_xsd *xsd;

static void setup(void)
{
    sim_up();
    xsd = xf_xsd_start(sim, guest, NULL);
    ck_assert_ptr_nonnull(xsd);
    xb_up(NULL);
}

static void teardown(void)
{
    xf_xenbus_destroy(xb);
    xb = NULL;
    xf_xsd_stop(xsd);
    xsd = NULL;
    sim_down();
}

static int body(struct xf_xenbus *x, xf_xenbus_tx_t tx, void *arg)
{
    (void)x, (void)tx, (void)arg;
    return 0;
}

static int body_busy(struct xf_xenbus *x, xf_xenbus_tx_t tx, void *arg)
{
    unsigned *n = arg;

    (void)x, (void)tx;
    ++*n;
    return -XF_EAGAIN;     /* "conflict": run again, bounded */
}

START_TEST(null_context_refused)
{
    char buf[64];
    size_t len;
    unsigned count;
    uint64_t v;
    bool f;
    XenbusState st;
    xf_xenbus_tx_t tx;
    struct xf_xenbus_dev dev;
    struct xf_xenbus_watch *w;
    const char *data;
    uint32_t dlen, id;
    struct xf_xenbus_iov iov = { "a", 2 };
    const char *perms[1] = { "n0" };

    memset(&dev, 0, sizeof(dev));
    ck_assert_int_eq(xf_xenbus_read(NULL, 0, "a", buf, sizeof(buf), &len, SOON(100)), -XF_EINVAL);
    ck_assert_int_eq(xf_xenbus_write(NULL, 0, "a", "v", 1, SOON(100)), -XF_EINVAL);
    ck_assert_int_eq(xf_xenbus_mkdir(NULL, 0, "a", SOON(100)), -XF_EINVAL);
    ck_assert_int_eq(xf_xenbus_rm(NULL, 0, "a", SOON(100)), -XF_EINVAL);
    ck_assert_int_eq(xf_xenbus_directory(NULL, 0, "a", buf, sizeof(buf), &count, SOON(100)),
                     -XF_EINVAL);
    ck_assert_int_eq(xf_xenbus_directory_part(NULL, 0, "a", buf, sizeof(buf), &count, SOON(100)),
                     -XF_EINVAL);
    ck_assert_int_eq(xf_xenbus_get_perms(NULL, 0, "a", buf, sizeof(buf), &count, SOON(100)),
                     -XF_EINVAL);
    ck_assert_int_eq(xf_xenbus_set_perms(NULL, 0, "a", perms, 1, SOON(100)), -XF_EINVAL);
    ck_assert_int_eq(xf_xenbus_get_domain_path(NULL, 1, buf, sizeof(buf), SOON(100)),
                     -XF_EINVAL);
    ck_assert_int_eq(xf_xenbus_reset_watches(NULL, SOON(100)), -XF_EINVAL);
    ck_assert_int_eq(xf_xenbus_transaction_start(NULL, &tx, SOON(100)), -XF_EINVAL);
    ck_assert_int_eq(xf_xenbus_transaction_end(NULL, 1, true, SOON(100)), -XF_EINVAL);
    ck_assert_int_eq(xf_xenbus_transaction_run(NULL, body, NULL, 0, SOON(100)), -XF_EINVAL);
    ck_assert_int_eq(xf_xenbus_read_uint(NULL, 0, "a", NULL, 9, &v, SOON(100)), -XF_EINVAL);
    ck_assert_int_eq(xf_xenbus_write_uint(NULL, 0, "a", NULL, 9, SOON(100)), -XF_EINVAL);
    ck_assert_int_eq(xf_xenbus_read_str(NULL, 0, "a", NULL, buf, sizeof(buf), SOON(100)),
                     -XF_EINVAL);
    ck_assert_int_eq(xf_xenbus_write_str(NULL, 0, "a", NULL, "v", SOON(100)), -XF_EINVAL);
    ck_assert_int_eq(xf_xenbus_read_feature(NULL, 0, "a", NULL, false, &f, SOON(100)),
                     -XF_EINVAL);
    ck_assert_int_eq(xf_xenbus_read_state(NULL, 0, "a", &st, SOON(100)), -XF_EINVAL);
    ck_assert_int_eq(xf_xenbus_dev_list(NULL, "vif", buf, sizeof(buf), &count, SOON(100)),
                     -XF_EINVAL);
    ck_assert_int_eq(xf_xenbus_dev_init(NULL, &dev, "vif", "0", SOON(100)), -XF_EINVAL);
    ck_assert_int_eq(xf_xenbus_dev_switch(NULL, &dev, XenbusStateConnected, SOON(100)),
                     -XF_EINVAL);
    ck_assert_int_eq(xf_xenbus_dev_wait_backend(NULL, &dev, 1, &st, SOON(100)), -XF_EINVAL);
    ck_assert_int_eq(xf_xenbus_dev_connect(NULL, &dev, SOON(100)), -XF_EINVAL);
    ck_assert_int_eq(xf_xenbus_dev_close(NULL, &dev, SOON(100)), -XF_EINVAL);
    ck_assert_int_eq(xf_xenbus_dev_closed(NULL, &dev, SOON(100)), -XF_EINVAL);
    ck_assert_int_eq(xf_xenbus_dev_reconnect(NULL, &dev, SOON(100)), -XF_EINVAL);
    ck_assert_int_eq(xf_xenbus_watch_add(NULL, "a", "t", NULL, NULL, &w, SOON(100)), -XF_EINVAL);
    ck_assert_int_eq(xf_xenbus_submit(NULL, XS_READ, 0, &iov, 1, NULL, NULL, &id), -XF_EINVAL);
    ck_assert_int_lt(xf_xenbus_req_done(NULL, 1), 0);
    ck_assert_int_lt(xf_xenbus_req_reply(NULL, 1, &data, &dlen), 0);
    ck_assert_int_lt(xf_xenbus_req_release(NULL, 1), 0);
    ck_assert_int_lt(xf_xenbus_req_cancel(NULL, 1), 0);
    ck_assert_int_lt(xf_xenbus_req_wait(NULL, 1, SOON(100)), 0);
    ck_assert_uint_eq(xf_xenbus_outstanding(NULL), 0);
    ck_assert_uint_eq(xf_xenbus_watch_count(NULL), 0);
    ck_assert_int_lt(xf_xenbus_status(NULL), 0);
    ck_assert_int_lt(xf_xenbus_process(NULL), 0);
    ck_assert_int_lt(xf_xenbus_reconnect(NULL, SOON(100)), 0);
    ck_assert_int_lt(xf_xenbus_quiesce(NULL, SOON(100)), 0);
    xf_xenbus_destroy(NULL);
}
END_TEST

START_TEST(bad_arguments_sent_nothing)
{
    char buf[64], longp[XENSTORE_ABS_PATH_MAX + 8];
    size_t len;
    unsigned count = 0;
    uint64_t v = 5;
    bool f = true;
    XenbusState st = XenbusStateUnknown;
    struct xf_xenbus_dev dev;
    unsigned long before;
    const char *bad_perms[2] = { "x0", "n99999999" };
    const char *no_perm[1] = { NULL };
    const char *perms[1] = { "n0" };
    unsigned runs = 0;

    memset(longp, 'p', sizeof(longp) - 1);
    longp[0] = '/';
    longp[sizeof(longp) - 1] = '\0';
    memset(&dev, 0, sizeof(dev));
    before = xf_xsd_requests(xsd);
    ck_assert_int_eq(xf_xenbus_read(xb, 0, "a", NULL, 8, &len, SOON(100)), -XF_EINVAL);
    ck_assert_int_eq(xf_xenbus_read(xb, 0, "", buf, sizeof(buf), &len, SOON(100)), -XF_EINVAL);
    ck_assert_int_eq(xf_xenbus_read(xb, 0, longp, buf, sizeof(buf), &len, SOON(100)), -XF_EINVAL);
    ck_assert_int_eq(xf_xenbus_write(xb, 0, "a", NULL, 3, SOON(100)), -XF_EINVAL);
    ck_assert_int_eq(xf_xenbus_write(xb, 0, longp, "v", 1, SOON(100)), -XF_EINVAL);
    ck_assert_int_eq(xf_xenbus_mkdir(xb, 0, "", SOON(100)), -XF_EINVAL);
    ck_assert_int_eq(xf_xenbus_rm(xb, 0, longp, SOON(100)), -XF_EINVAL);
    ck_assert_int_eq(xf_xenbus_directory(xb, 0, "a", NULL, 8, &count, SOON(100)), -XF_EINVAL);
    ck_assert_int_eq(xf_xenbus_directory(xb, 0, "a", buf, sizeof(buf), NULL, SOON(100)),
                     -XF_EINVAL);
    ck_assert_int_eq(xf_xenbus_directory(xb, 0, "", buf, sizeof(buf), &count, SOON(100)),
                     -XF_EINVAL);
    ck_assert_int_eq(xf_xenbus_directory_part(xb, 0, "a", NULL, 8, &count, SOON(100)),
                     -XF_EINVAL);
    ck_assert_int_eq(xf_xenbus_directory_part(xb, 0, "a", buf, sizeof(buf), NULL, SOON(100)),
                     -XF_EINVAL);
    ck_assert_int_eq(xf_xenbus_directory_part(xb, 0, longp, buf, sizeof(buf), &count, SOON(100)),
                     -XF_EINVAL);
    ck_assert_int_eq(xf_xenbus_get_perms(xb, 0, "a", NULL, 8, &count, SOON(100)), -XF_EINVAL);
    ck_assert_int_eq(xf_xenbus_get_perms(xb, 0, "a", buf, sizeof(buf), NULL, SOON(100)),
                     -XF_EINVAL);
    ck_assert_int_eq(xf_xenbus_get_perms(xb, 0, "", buf, sizeof(buf), &count, SOON(100)),
                     -XF_EINVAL);
    ck_assert_int_eq(xf_xenbus_set_perms(xb, 0, "a", NULL, 1, SOON(100)), -XF_EINVAL);
    ck_assert_int_eq(xf_xenbus_set_perms(xb, 0, "a", perms, 0, SOON(100)), -XF_EINVAL);
    ck_assert_int_eq(xf_xenbus_set_perms(xb, 0, "a", perms, 100000, SOON(100)), -XF_EINVAL);
    ck_assert_int_eq(xf_xenbus_set_perms(xb, 0, "", perms, 1, SOON(100)), -XF_EINVAL);
    ck_assert_int_eq(xf_xenbus_set_perms(xb, 0, "a", bad_perms, 1, SOON(100)), -XF_EINVAL);
    ck_assert_int_eq(xf_xenbus_set_perms(xb, 0, "a", bad_perms + 1, 1, SOON(100)), -XF_EINVAL);
    ck_assert_int_eq(xf_xenbus_set_perms(xb, 0, "a", no_perm, 1, SOON(100)), -XF_EINVAL);
    ck_assert_int_eq(xf_xenbus_get_domain_path(xb, 1, NULL, 8, SOON(100)), -XF_EINVAL);
    ck_assert_int_eq(xf_xenbus_transaction_start(xb, NULL, SOON(100)), -XF_EINVAL);
    ck_assert_int_eq(xf_xenbus_transaction_end(xb, XF_XENBUS_TX_NONE, true, SOON(100)),
                     -XF_EINVAL);
    ck_assert_int_eq(xf_xenbus_transaction_run(xb, NULL, NULL, 0, SOON(100)), -XF_EINVAL);
    /* typed values: a node that makes the path too long, a bad node */
    ck_assert_int_eq(xf_xenbus_read_uint(xb, 0, longp, "n", 9, &v, SOON(100)), -XF_EINVAL);
    ck_assert_int_eq(xf_xenbus_read_uint(xb, 0, "a", "", 9, &v, SOON(100)), -XF_EINVAL);
    ck_assert_int_eq(xf_xenbus_read_uint(xb, 0, "a", "n", 9, NULL, SOON(100)), -XF_EINVAL);
    ck_assert_int_eq(xf_xenbus_write_uint(xb, 0, longp, "n", 9, SOON(100)), -XF_EINVAL);
    ck_assert_int_eq(xf_xenbus_read_str(xb, 0, "a", "n", NULL, 8, SOON(100)), -XF_EINVAL);
    ck_assert_int_eq(xf_xenbus_write_str(xb, 0, "a", "n", NULL, SOON(100)), -XF_EINVAL);
    ck_assert_int_eq(xf_xenbus_read_feature(xb, 0, "a", "n", false, NULL, SOON(100)),
                     -XF_EINVAL);
    ck_assert_int_eq(xf_xenbus_read_state(xb, 0, "a", NULL, SOON(100)), -XF_EINVAL);
    ck_assert_int_eq(xf_xenbus_read_state(xb, 0, longp, &st, SOON(100)), -XF_EINVAL);
    /* devices: bad types and ids, an unset device, a state past the last */
    ck_assert_int_eq(xf_xenbus_dev_list(xb, "vif", buf, sizeof(buf), NULL, SOON(100)),
                     -XF_EINVAL);
    ck_assert_int_eq(xf_xenbus_dev_list(xb, "a/b", buf, sizeof(buf), &count, SOON(100)),
                     -XF_EINVAL);
    ck_assert_int_eq(xf_xenbus_dev_list(xb, "", buf, sizeof(buf), &count, SOON(100)),
                     -XF_EINVAL);
    ck_assert_int_eq(xf_xenbus_dev_init(xb, NULL, "vif", "0", SOON(100)), -XF_EINVAL);
    ck_assert_int_eq(xf_xenbus_dev_init(xb, &dev, "vif", "a/b", SOON(100)), -XF_EINVAL);
    ck_assert_int_eq(xf_xenbus_dev_init(xb, &dev, NULL, "0", SOON(100)), -XF_EINVAL);
    {
        char t65[66];

        memset(t65, 't', 65);
        t65[65] = '\0';
        ck_assert_int_eq(xf_xenbus_dev_init(xb, &dev, t65, "0", SOON(100)), -XF_EINVAL);
    }
    ck_assert_int_eq(xf_xenbus_dev_switch(xb, NULL, XenbusStateConnected, SOON(100)), -XF_EINVAL);
    ck_assert_int_eq(xf_xenbus_dev_switch(xb, &dev, XenbusStateConnected, SOON(100)), -XF_EINVAL);
    snprintf(dev.nodename, sizeof(dev.nodename), "device/vif/0");
    ck_assert_int_eq(xf_xenbus_dev_switch(xb, &dev, (XenbusState)99, SOON(100)), -XF_EINVAL);
    ck_assert_int_eq(xf_xenbus_dev_wait_backend(xb, NULL, 1, &st, SOON(100)), -XF_EINVAL);
    ck_assert_int_eq(xf_xenbus_dev_wait_backend(xb, &dev, 1, &st, SOON(100)), -XF_EINVAL);
    ck_assert_int_eq(xf_xenbus_dev_connect(xb, NULL, SOON(100)), -XF_EINVAL);
    ck_assert_int_eq(xf_xenbus_dev_close(xb, NULL, SOON(100)), -XF_EINVAL);
    ck_assert_int_eq(xf_xenbus_dev_closed(xb, NULL, SOON(100)), -XF_EINVAL);
    ck_assert_int_eq(xf_xenbus_dev_reconnect(xb, NULL, SOON(100)), -XF_EINVAL);
    dev.nodename[0] = '\0';
    ck_assert_int_eq(xf_xenbus_dev_reconnect(xb, &dev, SOON(100)), -XF_EINVAL);
    ck_assert_uint_eq(xf_xsd_requests(xsd), before);          /* nothing went out */
    ck_assert_uint_eq(v, 5);
    ck_assert(f);
    /* A body that always conflicts: run gives up, bounded. */
    ck_assert_int_eq(xf_xenbus_transaction_run(xb, body_busy, &runs, 0, SOON(5000)),
                     -XF_EAGAIN);
    ck_assert_uint_gt(runs, 1);
    ck_assert_uint_le(runs, 16);
}
END_TEST

/* Error codes: each xenstored error string, and what is not one. */
START_TEST(error_strings)
{
    ck_assert_int_eq(xf_xenbus_error_from_string("ENOENT", 6), -XF_ENOENT);
    ck_assert_int_eq(xf_xenbus_error_from_string("EQUOTA", 6), -XF_ENOSPC);
    ck_assert_int_lt(xf_xenbus_error_from_string("EWHATEVER", 9), 0);
    ck_assert_int_lt(xf_xenbus_error_from_string(NULL, 0), 0);
    ck_assert_int_lt(xf_xenbus_error_from_string("", 0), 0);
}
END_TEST

static void set_param(uint32_t index, uint64_t value)
{
    struct xen_hvm_param p;

    memset(&p, 0, sizeof(p));
    p.domid = guest;
    p.index = index;
    p.value = value;
    ck_assert_int_eq(xf_sim_hvm_op(sim, 0, HVMOP_set_param, &p), 0);
}

/* The ring transport's own refusals, and HVM parameters a toolstack left
 * unset or out of range. */
START_TEST(ring_arguments_and_hvm_params)
{
    struct xf_xenbus *x2 = (struct xf_xenbus *)(uintptr_t)1;
    uint64_t pfn = 3, real_pfn;
    evtchn_port_t port = 4;

    ck_assert_int_eq(xf_xenbus_hvm_store(&real_pfn, &port), 0);
    port = 4;
    ck_assert_int_eq(xf_xenbus_create_ring(NULL, NULL, ec, store_va, store_port), -XF_EINVAL);
    ck_assert_int_eq(xf_xenbus_create_ring(&x2, NULL, NULL, store_va, store_port), -XF_EINVAL);
    ck_assert_int_eq(xf_xenbus_create_ring(&x2, NULL, ec, NULL, store_port), -XF_EINVAL);
    ck_assert_int_eq(xf_xenbus_create_ring(&x2, NULL, ec, store_va, 0), -XF_EINVAL);
    ck_assert_int_eq(xf_xenbus_create_ring(&x2, NULL, ec, (char *)store_va + 8, store_port),
                     -XF_EINVAL);
    ck_assert_int_eq(xf_xenbus_hvm_store(NULL, &port), -XF_EINVAL);
    ck_assert_int_eq(xf_xenbus_hvm_store(&pfn, NULL), -XF_EINVAL);
    set_param(HVM_PARAM_STORE_PFN, 0);
    ck_assert_int_eq(xf_xenbus_hvm_store(&pfn, &port), -XF_ENOENT);
    set_param(HVM_PARAM_STORE_PFN, real_pfn);
    set_param(HVM_PARAM_STORE_EVTCHN, 0);
    ck_assert_int_eq(xf_xenbus_hvm_store(&pfn, &port), -XF_ENOENT);
    set_param(HVM_PARAM_STORE_EVTCHN, XF_EVTCHN_NR_PORTS);
    ck_assert_int_eq(xf_xenbus_hvm_store(&pfn, &port), -XF_ENOENT);
    ck_assert_uint_eq(pfn, 3);
    ck_assert_uint_eq(port, 4);
    set_param(HVM_PARAM_STORE_EVTCHN, store_port);
    ck_assert_int_eq(xf_xenbus_hvm_store(&pfn, &port), 0);
    ck_assert_uint_eq(port, store_port);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("xenbus-cov");
    TCase *tc = tcase_create("cov");

    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, null_context_refused);
    tcase_add_test(tc, bad_arguments_sent_nothing);
    tcase_add_test(tc, error_strings);
    tcase_add_test(tc, ring_arguments_and_hvm_params);
    suite_add_tcase(s, tc);
    return xf_check_run(s);
}
