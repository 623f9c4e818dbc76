/* The simulated xenstored's misbehaviours: each produces exactly the bytes
 * <xenfront/xsd.h> documents, for as many replies as asked. */
#include "xsd_client.h"

static void h_setup(void)
{
    char p[64];

    setup();
    snprintf(p, sizeof(p), "/local/domain/%u/data/v", G);
    ck_assert_int_eq(xf_xsd_write(xsd, p, "val", 3), 0);
}

static uint32_t send_read(const char *path)
{
    return cli_send(XS_READ, 0, path, strlen(path) + 1);
}

START_TEST(silent)
{
    struct reply r;
    unsigned long before = xf_xsd_requests(xsd);
    uint64_t dl = deadline();

    xf_xsd_misbehave(xsd, XF_XSD_SILENT, 1);
    send_read("data/v");
    while (XF_READ_ONCE(intf->req_cons) != XF_READ_ONCE(intf->req_prod))
        cli_wait(dl);
    /* Consumed, never answered: the next reply is the first message. */
    uint32_t id = cli_send(XS_GET_DOMAIN_PATH, 0, "4", 2);
    cli_recv(&r);
    ck_assert_uint_eq(r.hdr.req_id, id);
    ck_assert_str_eq(r.data, "/local/domain/4");
    ck_assert_uint_eq(xf_xsd_requests(xsd), before + 1);
}
END_TEST

START_TEST(len_too_big)
{
    struct reply r;
    char garbage[64];
    uint32_t id;

    xf_xsd_misbehave(xsd, XF_XSD_LEN_TOO_BIG, 1);
    id = send_read("data/v");
    cli_get_raw(&r.hdr, sizeof(r.hdr));
    ck_assert_uint_eq(r.hdr.type, XS_READ);
    ck_assert_uint_eq(r.hdr.req_id, id);
    ck_assert_uint_eq(r.hdr.len, XENSTORE_PAYLOAD_MAX + 1);
    cli_get_raw(garbage, sizeof(garbage));
    for (size_t i = 0; i < sizeof(garbage); i++)
        ck_assert_int_eq(garbage[i], 'Z');
}
END_TEST

START_TEST(wrong_type)
{
    struct reply r;

    xf_xsd_misbehave(xsd, XF_XSD_WRONG_TYPE, 2);
    ck_assert_uint_eq(cli_op(&r, XS_READ, 0, 1, "data/v"), XS_DIRECTORY);
    ck_assert_mem_eq(r.data, "val", 3);
    ck_assert_uint_eq(cli_op(&r, XS_DIRECTORY, 0, 1, "data"), XS_READ);
    ck_assert_uint_eq(cli_op(&r, XS_READ, 0, 1, "data/v"), XS_READ);   /* count spent */
}
END_TEST

START_TEST(unknown_req_id)
{
    struct reply r;
    uint32_t id;

    xf_xsd_misbehave(xsd, XF_XSD_UNKNOWN_REQ_ID, 1);
    id = send_read("data/v");
    cli_recv(&r);
    ck_assert_uint_eq(r.hdr.req_id, id ^ 0x80000000u);
    ck_assert_uint_eq(r.hdr.type, XS_READ);
    ck_assert_uint_eq(cli_op(&r, XS_READ, 0, 1, "data/v"), XS_READ);
}
END_TEST

START_TEST(unterminated)
{
    struct reply r;
    uint32_t id;

    xf_xsd_misbehave(xsd, XF_XSD_UNTERMINATED, 3);
    /* READ carries no NUL: unchanged, not counted. */
    ck_assert_uint_eq(cli_op(&r, XS_READ, 0, 1, "data/v"), XS_READ);
    ck_assert_uint_eq(r.hdr.len, 3);
    /* DIRECTORY "v\0" -> "v". */
    ck_assert_uint_eq(cli_op(&r, XS_DIRECTORY, 0, 1, "data"), XS_DIRECTORY);
    ck_assert_uint_eq(r.hdr.len, 1);
    ck_assert_int_eq(r.data[0], 'v');
    /* The WATCH reply "OK" -> "OK" without NUL, then the event path\0token. */
    id = cli_send(XS_WATCH, 0, "data\0tok", 9);
    cli_recv(&r);
    ck_assert_uint_eq(r.hdr.req_id, id);
    ck_assert_uint_eq(r.hdr.len, 2);
    ck_assert_mem_eq(r.data, "OK", 2);
    cli_recv(&r);
    ck_assert_uint_eq(r.hdr.type, XS_WATCH_EVENT);
    ck_assert_uint_eq(r.hdr.len, 8);
    ck_assert_mem_eq(r.data, "data\0tok", 8);
    /* Spent: honest again. */
    ck_assert_uint_eq(cli_op(&r, XS_DIRECTORY, 0, 1, "data"), XS_DIRECTORY);
    ck_assert_uint_eq(r.hdr.len, 2);
}
END_TEST

START_TEST(rsp_prod_jump)
{
    uint64_t dl = deadline();
    XENSTORE_RING_IDX cons = XF_READ_ONCE(intf->rsp_cons);

    xf_xsd_misbehave(xsd, XF_XSD_RSP_PROD_JUMP, 1);
    send_read("data/v");
    while (XF_READ_ONCE(intf->rsp_prod) == cons)
        cli_wait(dl);
    ck_assert_uint_eq(XF_READ_ONCE(intf->rsp_prod) - cons, XENSTORE_RING_SIZE + 16);
    /* The server then finds the ring inconsistent and gives up on it. */
    send_read("data/v");
    while (xf_xsd_broken(xsd) == 0) {
        ck_assert(xf_plat_now_ns() < dl);
        xf_sim_evtchn_wait(sim, G, gport, xf_plat_now_ns() + 1000000u);
    }
    ck_assert_uint_eq(xf_xsd_broken(xsd), XENSTORE_ERROR_RINGIDX);
    ck_assert_uint_eq(XF_READ_ONCE(intf->error), XENSTORE_ERROR_RINGIDX);
}
END_TEST

START_TEST(duplicate_reply)
{
    struct reply r;
    uint32_t id;

    xf_xsd_misbehave(xsd, XF_XSD_DUPLICATE_REPLY, 1);
    id = send_read("data/v");
    for (int i = 0; i < 2; i++) {
        cli_recv(&r);
        ck_assert_uint_eq(r.hdr.req_id, id);
        ck_assert_uint_eq(r.hdr.type, XS_READ);
        ck_assert_mem_eq(r.data, "val", 3);
    }
    id = cli_send(XS_GET_DOMAIN_PATH, 0, "4", 2);
    cli_recv(&r);
    ck_assert_uint_eq(r.hdr.req_id, id);
}
END_TEST

START_TEST(event_before_reply)
{
    struct reply r;
    uint32_t id;

    xf_xsd_misbehave(xsd, XF_XSD_EVENT_BEFORE_REPLY, 1);
    /* A READ has no event: not counted. */
    ck_assert_uint_eq(cli_op(&r, XS_READ, 0, 1, "data/v"), XS_READ);
    id = cli_send(XS_WATCH, 0, "data\0t", 7);
    cli_recv(&r);
    ck_assert_uint_eq(r.hdr.type, XS_WATCH_EVENT);
    ck_assert_mem_eq(r.data, "data\0t", 7);
    cli_recv(&r);
    ck_assert_uint_eq(r.hdr.req_id, id);
    ck_ok(&r, XS_WATCH);
    /* Spent: the next WATCH is honest (reply first). */
    id = cli_send(XS_WATCH, 0, "data\0u", 7);
    cli_recv(&r);
    ck_assert_uint_eq(r.hdr.req_id, id);
    cli_recv(&r);
    ck_assert_uint_eq(r.hdr.type, XS_WATCH_EVENT);
}
END_TEST

START_TEST(split_writes_until_honest)
{
    struct reply r;
    char p[96];
    char v[600];

    memset(v, 's', sizeof(v));
    snprintf(p, sizeof(p), "/local/domain/%u/data/s", G);
    ck_assert_int_eq(xf_xsd_write(xsd, p, v, sizeof(v)), 0);
    xf_xsd_misbehave(xsd, XF_XSD_SPLIT_WRITES, 0);   /* until set back */
    for (int i = 0; i < 5; i++) {
        ck_assert_uint_eq(cli_op(&r, XS_READ, 0, 1, "data/s"), XS_READ);
        ck_assert_uint_eq(r.hdr.len, sizeof(v));
        ck_assert_mem_eq(r.data, v, sizeof(v));
    }
    xf_xsd_misbehave(xsd, XF_XSD_HONEST, 0);
    ck_assert_uint_eq(cli_op(&r, XS_READ, 0, 1, "data/v"), XS_READ);
    /* Counted: two replies affected, then honest. */
    xf_xsd_misbehave(xsd, XF_XSD_UNKNOWN_REQ_ID, 2);
    for (int i = 0; i < 3; i++) {
        uint32_t id = send_read("data/v");

        cli_recv(&r);
        ck_assert_uint_eq(r.hdr.req_id, i < 2 ? id ^ 0x80000000u : id);
    }
}
END_TEST

START_TEST(event_flood)
{
    struct reply r;
    uint32_t id;

    /* Five events for a token nobody registered, as fast as the ring
     * takes them, then honest again: the reply follows them. */
    xf_xsd_misbehave(xsd, XF_XSD_EVENT_FLOOD, 5);
    for (int i = 0; i < 5; i++) {
        cli_recv(&r);
        ck_assert_uint_eq(r.hdr.type, XS_WATCH_EVENT);
        ck_assert_uint_eq(r.hdr.req_id, 0);
        ck_assert_uint_eq(r.hdr.len, sizeof("/flood\0xf-xsd-flood"));
        ck_assert_mem_eq(r.data, "/flood\0xf-xsd-flood", r.hdr.len);
    }
    ck_assert_uint_eq(xf_xsd_flood_events(xsd), 5);
    id = send_read("data/v");
    cli_recv(&r);
    ck_assert_uint_eq(r.hdr.req_id, id);
    ck_assert_mem_eq(r.data, "val", 3);
    /* Unbounded: the ring is kept full while the guest reads nothing. */
    xf_xsd_misbehave(xsd, XF_XSD_EVENT_FLOOD, 0);
    uint64_t dl = deadline();
    while (XF_READ_ONCE(intf->rsp_prod) - XF_READ_ONCE(intf->rsp_cons) < XENSTORE_RING_SIZE - 64)
        cli_wait(dl);
}
END_TEST

START_TEST(spontaneous_reset)
{
    struct reply r;
    uint64_t dl = deadline();

    ck_assert_uint_eq(cli_op(&r, XS_WATCH, 0, 2, "data", "t"), XS_WATCH);
    ck_assert_uint_eq(xf_xsd_watch_count(xsd), 1);
    xf_xsd_misbehave(xsd, XF_XSD_SPONTANEOUS_RESET, 1);
    send_read("data/v");
    while (xf_xsd_server_resets(xsd) == 0)
        cli_wait(dl);
    /* Everything as after a reconnection, at indices that are not zero,
     * without the guest having asked. */
    ck_assert_uint_eq(XF_READ_ONCE(intf->connection), XENSTORE_CONNECTED);
    ck_assert_uint_eq(intf->req_cons, 0x100);
    ck_assert_uint_eq(intf->req_prod, 0x100);
    ck_assert_uint_eq(intf->rsp_cons, 0x100);
    ck_assert_uint_eq(intf->rsp_prod, 0x100);
    ck_assert_uint_eq(xf_xsd_watch_count(xsd), 0);
    ck_assert_uint_eq(xf_xsd_reconnects(xsd), 0);
    /* Served again, honestly. */
    nevents = evhead = 0;
    ck_assert_uint_eq(cli_op(&r, XS_READ, 0, 1, "data/v"), XS_READ);
    ck_assert_mem_eq(r.data, "val", 3);
    xf_xsd_server_reset(xsd);
    ck_assert_uint_eq(xf_xsd_server_resets(xsd), 2);
    ck_assert_uint_eq(cli_op(&r, XS_READ, 0, 1, "data/v"), XS_READ);
}
END_TEST

START_TEST(rewrite_before_each_request)
{
    struct reply r;
    char p[96], v[8];

    snprintf(p, sizeof(p), "/local/domain/%u/data/st", G);
    ck_assert_uint_eq(cli_op(&r, XS_WATCH, 0, 2, "data/st", "st"), XS_WATCH);
    ck_assert_str_eq(cli_event()->path, "data/st");           /* initial */
    ck_assert_int_eq(xf_xsd_rewrite(xsd, p, "2", 1), 0);
    for (int i = 0; i < 3; i++) {
        /* The write, and its event, come before each reply. */
        ck_assert_uint_eq(cli_op(&r, XS_READ, 0, 1, "data/st"), XS_READ);
        ck_assert_mem_eq(r.data, "2", 1);
        ck_assert_str_eq(cli_event()->path, "data/st");
    }
    ck_assert_int_eq(xf_xsd_rewrite(xsd, NULL, NULL, 0), 0);
    ck_assert_int_eq(xf_xsd_write(xsd, p, "4", 1), 0);
    ck_assert_uint_eq(cli_op(&r, XS_READ, 0, 1, "data/st"), XS_READ);
    ck_assert_mem_eq(r.data, "4", 1);
    ck_assert_int_eq(xf_xsd_read(xsd, p, v, sizeof(v)), 1);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("xsd-hostile");
    TCase *tc = tcase_create("hostile");

    tcase_add_checked_fixture(tc, h_setup, teardown);
    tcase_add_test(tc, silent);
    tcase_add_test(tc, len_too_big);
    tcase_add_test(tc, wrong_type);
    tcase_add_test(tc, unknown_req_id);
    tcase_add_test(tc, unterminated);
    tcase_add_test(tc, rsp_prod_jump);
    tcase_add_test(tc, duplicate_reply);
    tcase_add_test(tc, event_before_reply);
    tcase_add_test(tc, split_writes_until_honest);
    tcase_add_test(tc, event_flood);
    tcase_add_test(tc, spontaneous_reset);
    tcase_add_test(tc, rewrite_before_each_request);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return xf_check_run(suite());
}
