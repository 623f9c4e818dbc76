/* The simulated xenstored's ring transport: wrap-around, pieces, replies
 * larger than the ring, reconnection, broken clients, backpressure. */
#include "xsd_client.h"

static void wait_until_consumed(void)
{
    uint64_t dl = deadline();

    while (XF_READ_ONCE(intf->req_cons) != XF_READ_ONCE(intf->req_prod))
        cli_wait(dl);
}

/* Wait, a millisecond at a time, for a condition that no notification
 * announces (the server's own state). */
#define POLL_UNTIL(cond) do { \
    uint64_t dl_ = deadline(); \
    while (!(cond)) { \
        ck_assert_msg(xf_plat_now_ns() < dl_, "timed out: " #cond); \
        xf_sim_evtchn_wait(sim, G, gport, xf_plat_now_ns() + 1000000u); \
    } \
} while (0)

START_TEST(request_across_the_wrap)
{
    struct reply r;
    char p[96];
    char buf[32];
    static const char msg[] = "data/wrap\0across-the-end";
    XENSTORE_RING_IDX prod;
    unsigned n = 0;

    /* Move the request ring to just before its end. */
    for (;;) {
        prod = XF_READ_ONCE(intf->req_prod);
        if (MASK_XENSTORE_IDX(prod) + 16 + sizeof(msg) - 1 > XENSTORE_RING_SIZE &&
            MASK_XENSTORE_IDX(prod) + 8 < XENSTORE_RING_SIZE)
            break;
        ck_assert_uint_eq(cli_op(&r, XS_GET_DOMAIN_PATH, 0, 1, "0"), XS_GET_DOMAIN_PATH);
        n++;
        ck_assert_uint_lt(n, 200);
    }
    {
        uint32_t id = cli_send(XS_WRITE, 0, msg, sizeof(msg) - 1);

        ck_assert_uint_lt(MASK_XENSTORE_IDX(XF_READ_ONCE(intf->req_prod)), 64);
        cli_reply(id, &r);
        ck_ok(&r, XS_WRITE);
    }
    snprintf(p, sizeof(p), "/local/domain/%u/data/wrap", G);
    ck_assert_int_eq(xf_xsd_read(xsd, p, buf, sizeof(buf)), 14);
    ck_assert_str_eq(buf, "across-the-end");
}
END_TEST

START_TEST(header_in_pieces)
{
    struct reply r;
    struct xsd_sockmsg h = { XS_GET_DOMAIN_PATH, 4242, 0, 2 };
    const char *b = (const char *)&h;

    cli_put_raw(b, 5, true);
    wait_until_consumed();
    cli_put_raw(b + 5, 9, true);
    wait_until_consumed();
    cli_put_raw(b + 14, 2, true);
    cli_put_raw("5", 1, true);
    wait_until_consumed();
    ck_assert_uint_eq(XF_READ_ONCE(intf->rsp_prod), XF_READ_ONCE(intf->rsp_cons));
    cli_put_raw("", 1, true);
    cli_reply(4242, &r);
    ck_assert_uint_eq(r.hdr.type, XS_GET_DOMAIN_PATH);
    ck_assert_str_eq(r.data, "/local/domain/5");
}
END_TEST

START_TEST(reply_larger_than_the_ring)
{
    struct reply r;
    char p[96];
    char *v = malloc(4000);

    for (int i = 0; i < 4000; i++)
        v[i] = (char)('a' + i % 26);
    snprintf(p, sizeof(p), "/local/domain/%u/data/big", G);
    ck_assert_int_eq(xf_xsd_write(xsd, p, v, 4000), 0);
    for (int k = 0; k < 3; k++) {
        ck_assert_uint_eq(cli_op(&r, XS_READ, 0, 1, "data/big"), XS_READ);
        ck_assert_uint_eq(r.hdr.len, 4000);
        ck_assert_mem_eq(r.data, v, 4000);
    }
    free(v);
}
END_TEST

START_TEST(reconnect)
{
    struct reply r;
    struct xsd_sockmsg h = { XS_READ, 1, 0, 50 };
    uint64_t dl = deadline();

    ck_assert_uint_eq(cli_op(&r, XS_WATCH, 0, 2, "data", "w"), XS_WATCH);
    (void)cli_event();
    ck_assert_uint_eq(cli_op(&r, XS_TRANSACTION_START, 0, 1, ""), XS_TRANSACTION_START);
    ck_assert_uint_eq(xf_xsd_watch_count(xsd), 1);
    /* A request half sent, then the guest asks to start over. */
    cli_put_raw(&h, sizeof(h), true);
    cli_put_raw("data", 4, true);
    wait_until_consumed();
    XF_WRITE_ONCE(intf->connection, XENSTORE_RECONNECT);
    cli_notify();
    while (XF_READ_ONCE(intf->connection) != XENSTORE_CONNECTED)
        cli_wait(dl);
    XF_MB();
    ck_assert_uint_eq(XF_READ_ONCE(intf->req_cons), 0);
    ck_assert_uint_eq(XF_READ_ONCE(intf->req_prod), 0);
    ck_assert_uint_eq(XF_READ_ONCE(intf->rsp_cons), 0);
    ck_assert_uint_eq(XF_READ_ONCE(intf->rsp_prod), 0);
    ck_assert_uint_eq(xf_xsd_watch_count(xsd), 0);
    ck_assert_uint_eq(xf_xsd_transaction_count(xsd), 0);
    ck_assert_uint_eq(xf_xsd_reconnects(xsd), 1);
    nevents = evhead = 0;
    /* Served again from a clean packet boundary. */
    ck_assert_uint_eq(cli_op(&r, XS_GET_DOMAIN_PATH, 0, 1, "3"), XS_GET_DOMAIN_PATH);
    ck_assert_str_eq(r.data, "/local/domain/3");
    ck_assert_uint_eq(cli_write(&r, 0, "data/x", "1"), XS_WRITE);
    ck_assert_uint_eq(events_pending(), 0);
}
END_TEST

START_TEST(no_reconnect_feature)
{
    struct xf_xsd_config cfg = { .no_reconnect = true, .no_error_feature = true };
    struct reply r;

    teardown();
    cli_start(&cfg);
    ck_assert_uint_eq(XF_READ_ONCE(intf->server_features), 0);
    /* Like xenstored 4.17, the connection field is not looked at. */
    XF_WRITE_ONCE(intf->connection, XENSTORE_RECONNECT);
    ck_assert_uint_eq(cli_op(&r, XS_GET_DOMAIN_PATH, 0, 1, "3"), XS_GET_DOMAIN_PATH);
    ck_assert_uint_eq(XF_READ_ONCE(intf->connection), XENSTORE_RECONNECT);
    ck_assert_uint_eq(xf_xsd_reconnects(xsd), 0);
}
END_TEST

START_TEST(oversized_request_breaks_the_connection)
{
    struct reply r;
    struct xsd_sockmsg h = { XS_WRITE, 7, 0, XENSTORE_PAYLOAD_MAX + 1 };
    uint64_t dl = deadline();

    ck_assert_uint_eq(cli_op(&r, XS_WATCH, 0, 2, "data", "w"), XS_WATCH);
    cli_put_raw(&h, sizeof(h), true);
    wait_until_consumed();
    POLL_UNTIL(xf_xsd_broken(xsd) != 0);
    ck_assert_uint_eq(xf_xsd_broken(xsd), XENSTORE_ERROR_PROTO);
    ck_assert_uint_eq(XF_READ_ONCE(intf->error), XENSTORE_ERROR_PROTO);
    ck_assert_uint_eq(xf_xsd_watch_count(xsd), 0);
    /* Nothing more is read. */
    cli_put_raw("xxxx", 4, true);
    ck_assert_int_eq(xf_xsd_write(xsd, "/tool/q", "1", 1), 0);
    ck_assert_uint_ne(XF_READ_ONCE(intf->req_cons), XF_READ_ONCE(intf->req_prod));
    /* A reconnection revives it. */
    XF_WRITE_ONCE(intf->connection, XENSTORE_RECONNECT);
    cli_notify();
    while (XF_READ_ONCE(intf->connection) != XENSTORE_CONNECTED)
        cli_wait(dl);
    ck_assert_uint_eq(XF_READ_ONCE(intf->error), XENSTORE_ERROR_NONE);
    ck_assert_uint_eq(xf_xsd_broken(xsd), 0);
    nevents = evhead = 0;
    ck_assert_uint_eq(cli_op(&r, XS_GET_DOMAIN_PATH, 0, 1, "3"), XS_GET_DOMAIN_PATH);
}
END_TEST

/* Replies the guest does not take hold requests back: after 20 outstanding,
 * xenstored stops reading the ring until the guest makes room. */
START_TEST(outstanding_requests_quota)
{
    struct reply r;
    char p[96], v[1000];
    uint32_t first = next_req;

    memset(v, 'q', sizeof(v));
    snprintf(p, sizeof(p), "/local/domain/%u/data/k", G);
    ck_assert_int_eq(xf_xsd_write(xsd, p, v, sizeof(v)), 0);
    for (int i = 0; i < 25; i++)
        cli_send(XS_READ, 0, "data/k", 7);
    POLL_UNTIL(xf_xsd_requests(xsd) >= 21);
    ck_assert_uint_eq(xf_xsd_requests(xsd), 21);
    ck_assert_uint_ne(XF_READ_ONCE(intf->req_cons), XF_READ_ONCE(intf->req_prod));
    for (int i = 0; i < 25; i++) {
        cli_reply(first + (uint32_t)i, &r);
        ck_assert_uint_eq(r.hdr.type, XS_READ);
        ck_assert_uint_eq(r.hdr.len, sizeof(v));
    }
    ck_assert_uint_eq(xf_xsd_requests(xsd), 25);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("xsd-ring");
    TCase *tc = tcase_create("ring");

    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, request_across_the_wrap);
    tcase_add_test(tc, header_in_pieces);
    tcase_add_test(tc, reply_larger_than_the_ring);
    tcase_add_test(tc, reconnect);
    tcase_add_test(tc, no_reconnect_feature);
    tcase_add_test(tc, oversized_request_breaks_the_connection);
    tcase_add_test(tc, outstanding_requests_quota);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return xf_check_run(suite());
}
