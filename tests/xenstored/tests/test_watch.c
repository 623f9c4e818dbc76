/* The simulated xenstored's watches: initial events, child and ancestor
 * events, ordering against replies, permissions, unwatch, reset, quotas. */
#include "xsd_client.h"

static char home[64];

static void w_setup(void)
{
    setup();
    snprintf(home, sizeof(home), "/local/domain/%u", G);
}

static void ck_event(const char *path, const char *token)
{
    struct event *e = cli_event();

    ck_assert_str_eq(e->path, path);
    ck_assert_str_eq(e->token, token);
}

/* A round trip that proves nothing else was queued before it. */
static void ck_no_event(void)
{
    struct reply r;

    ck_assert_uint_eq(events_pending(), 0);
    ck_assert_uint_eq(cli_op(&r, XS_GET_DOMAIN_PATH, 0, 1, "0"), XS_GET_DOMAIN_PATH);
    ck_assert_uint_eq(events_pending(), 0);
}

START_TEST(watch_reply_then_initial_event)
{
    struct reply r;
    uint32_t id = cli_send(XS_WATCH, 0, "/local/domain\0tok1", 19);

    /* The reply comes first, then the initial event. */
    cli_recv(&r);
    ck_assert_uint_eq(r.hdr.type, XS_WATCH);
    ck_assert_uint_eq(r.hdr.req_id, id);
    ck_assert_str_eq(r.data, "OK");
    cli_recv(&r);
    ck_assert_uint_eq(r.hdr.type, XS_WATCH_EVENT);
    ck_assert_uint_eq(r.hdr.req_id, 0);
    ck_assert_uint_eq(r.hdr.len, sizeof("/local/domain\0tok1"));
    ck_assert_mem_eq(r.data, "/local/domain\0tok1", sizeof("/local/domain\0tok1"));
    ck_assert_uint_eq(xf_xsd_watch_count(xsd), 1);
    /* Even for a node that does not exist, or a special one. */
    ck_assert_uint_eq(cli_op(&r, XS_WATCH, 0, 2, "/nowhere", "t2"), XS_WATCH);
    ck_event("/nowhere", "t2");
    ck_assert_uint_eq(cli_op(&r, XS_WATCH, 0, 2, "@releaseDomain", "t3"), XS_WATCH);
    ck_event("@releaseDomain", "t3");
    ck_assert_uint_eq(xf_xsd_watch_count(xsd), 3);
}
END_TEST

START_TEST(relative_watch_and_child_events)
{
    struct reply r;

    ck_assert_uint_eq(cli_op(&r, XS_WATCH, 0, 2, "data", "rel"), XS_WATCH);
    ck_ok(&r, XS_WATCH);
    ck_event("data", "rel");
    /* The guest's own write: the event is queued before the reply. */
    {
        uint32_t id = cli_send(XS_WRITE, 0, "data/x/y\0v", 10);

        cli_recv(&r);
        ck_assert_uint_eq(r.hdr.type, XS_WATCH_EVENT);
        ck_assert_mem_eq(r.data, "data/x/y\0rel", 13);
        cli_recv(&r);
        ck_assert_uint_eq(r.hdr.req_id, id);
        ck_ok(&r, XS_WRITE);
    }
    /* The toolstack's writes, mkdir, set_perms. */
    {
        char p[128];
        const char *const perms[] = { "n0" };

        snprintf(p, sizeof(p), "%s/data/t", home);
        ck_assert_int_eq(xf_xsd_write(xsd, p, "1", 1), 0);
        ck_event("data/t", "rel");
        snprintf(p, sizeof(p), "%s/data/m/n", home);
        ck_assert_int_eq(xf_xsd_mkdir(xsd, p), 0);
        ck_event("data/m/n", "rel");
        ck_assert_int_eq(xf_xsd_mkdir(xsd, p), 0);   /* exists: nothing */
        snprintf(p, sizeof(p), "%s/data/t", home);
        /* Made unreadable: still told (the old permissions count). */
        ck_assert_int_eq(xf_xsd_set_perms(xsd, p, perms, 1), 0);
        ck_event("data/t", "rel");
        /* A write to an unreadable node under a readable parent: told. */
        ck_assert_int_eq(xf_xsd_write(xsd, p, "2", 1), 0);
        ck_event("data/t", "rel");
    }
    /* Elsewhere: nothing. */
    ck_assert_uint_eq(cli_write(&r, 0, "other", "1"), XS_WRITE);
    ck_no_event();
}
END_TEST

START_TEST(rm_fires_for_removed_descendants)
{
    struct reply r;

    ck_assert_uint_eq(cli_write(&r, 0, "data/a/b/c", "1"), XS_WRITE);
    ck_assert_uint_eq(cli_op(&r, XS_WATCH, 0, 2, "data/a/b/c", "deep"), XS_WATCH);
    ck_event("data/a/b/c", "deep");
    ck_assert_uint_eq(cli_op(&r, XS_WATCH, 0, 2, "data/a", "top"), XS_WATCH);
    ck_event("data/a", "top");
    ck_assert_uint_eq(cli_op(&r, XS_WATCH, 0, 2, "data/a/none", "gone"), XS_WATCH);
    ck_event("data/a/none", "gone");
    /* rm of an ancestor: each removed node fires, deepest first; watches
     * below the removed root fire only for their own node. */
    ck_assert_uint_eq(cli_op(&r, XS_RM, 0, 1, "data/a"), XS_RM);
    ck_ok(&r, XS_RM);
    ck_event("data/a/b/c", "deep");
    ck_event("data/a", "top");
    ck_no_event();
}
END_TEST

START_TEST(unreadable_nodes_fire_nothing)
{
    struct reply r;

    ck_assert_uint_eq(cli_op(&r, XS_WATCH, 0, 2, "/", "root"), XS_WATCH);
    ck_event("/", "root");
    /* dom0's nodes under dom0's directories: not for the guest. */
    ck_assert_int_eq(xf_xsd_write(xsd, "/local/domain/0/secret", "1", 1), 0);
    ck_assert_int_eq(xf_xsd_write(xsd, "/vm/x", "1", 1), 0);
    ck_no_event();
    ck_assert_uint_eq(cli_write(&r, 0, "data/y", "1"), XS_WRITE);
    {
        char p[128];

        snprintf(p, sizeof(p), "%s/data/y", home);
        ck_event(p, "root");
    }
}
END_TEST

START_TEST(unwatch_and_errors)
{
    struct reply r;

    ck_assert_uint_eq(cli_op(&r, XS_WATCH, 0, 2, "data", "a"), XS_WATCH);
    ck_event("data", "a");
    ck_assert_uint_eq(cli_op(&r, XS_WATCH, 0, 2, "data", "a"), XS_ERROR);
    ck_error(&r, "EEXIST");
    /* The same node with the absolute path is the same watch. */
    {
        char p[96];

        snprintf(p, sizeof(p), "%s/data", home);
        ck_assert_uint_eq(cli_op(&r, XS_WATCH, 0, 2, p, "a"), XS_ERROR);
        ck_error(&r, "EEXIST");
        ck_assert_uint_eq(cli_op(&r, XS_UNWATCH, 0, 2, p, "a"), XS_UNWATCH);
        ck_ok(&r, XS_UNWATCH);
    }
    ck_assert_uint_eq(xf_xsd_watch_count(xsd), 0);
    ck_assert_uint_eq(cli_op(&r, XS_UNWATCH, 0, 2, "data", "a"), XS_ERROR);
    ck_error(&r, "ENOENT");
    ck_assert_uint_eq(cli_write(&r, 0, "data/z", "1"), XS_WRITE);
    ck_no_event();
    ck_assert_uint_eq(cli_op(&r, XS_WATCH, 0, 1, "data"), XS_ERROR);
    ck_error(&r, "EINVAL");
    ck_assert_uint_eq(cli_op(&r, XS_WATCH, 0, 3, "data", "t", "1"), XS_ERROR);
    ck_error(&r, "EINVAL");
    ck_assert_uint_eq(cli_op(&r, XS_WATCH, 0, 2, "/bad//path", "t"), XS_ERROR);
    ck_error(&r, "EINVAL");
    ck_assert_uint_eq(cli_op(&r, XS_UNWATCH, 0, 1, "data"), XS_ERROR);
    ck_error(&r, "EINVAL");
    /* tx_id is ignored by WATCH (no ENOENT for an unknown one). */
    ck_assert_uint_eq(cli_op(&r, XS_WATCH, 77, 2, "data", "tx"), XS_WATCH);
    ck_event("data", "tx");
}
END_TEST

START_TEST(reset_watches)
{
    struct reply r;
    uint32_t tx;

    ck_assert_uint_eq(cli_op(&r, XS_WATCH, 0, 2, "data", "a"), XS_WATCH);
    ck_event("data", "a");
    ck_assert_uint_eq(cli_op(&r, XS_TRANSACTION_START, 0, 1, ""), XS_TRANSACTION_START);
    tx = (uint32_t)strtoul(r.data, NULL, 10);
    ck_assert_uint_eq(xf_xsd_transaction_count(xsd), 1);
    ck_assert_uint_eq(cli_op(&r, XS_RESET_WATCHES, 0, 1, ""), XS_RESET_WATCHES);
    ck_ok(&r, XS_RESET_WATCHES);
    ck_assert_uint_eq(xf_xsd_watch_count(xsd), 0);
    ck_assert_uint_eq(xf_xsd_transaction_count(xsd), 0);
    ck_assert_uint_eq(cli_op(&r, XS_READ, tx, 1, "data"), XS_ERROR);
    ck_error(&r, "ENOENT");
    ck_assert_uint_eq(cli_write(&r, 0, "data/q", "1"), XS_WRITE);
    ck_no_event();
}
END_TEST

START_TEST(no_reset_watches)
{
    struct xf_xsd_config cfg = { .no_reset_watches = true };
    struct reply r;
    char p[128];

    teardown();
    cli_start(&cfg);
    snprintf(p, sizeof(p), "/local/domain/%u/control/platform-feature-xs_reset_watches", G);
    ck_assert(!xf_xsd_exists(xsd, p));
    ck_assert_uint_eq(cli_op(&r, XS_RESET_WATCHES, 0, 1, ""), XS_ERROR);
    ck_error(&r, "ENOSYS");
}
END_TEST

START_TEST(watch_quota_and_event_bound)
{
    struct xf_xsd_config cfg = { .quota_watches = 2, .max_watch_events = 3 };
    struct reply r;
    char p[128];

    teardown();
    cli_start(&cfg);
    snprintf(home, sizeof(home), "/local/domain/%u", G);
    /* xenstored refuses once more than the quota are registered. */
    ck_assert_uint_eq(cli_op(&r, XS_WATCH, 0, 2, "data", "1"), XS_WATCH);
    ck_assert_uint_eq(cli_op(&r, XS_WATCH, 0, 2, "data", "2"), XS_WATCH);
    ck_assert_uint_eq(cli_op(&r, XS_WATCH, 0, 2, "data", "3"), XS_WATCH);
    ck_assert_uint_eq(cli_op(&r, XS_WATCH, 0, 2, "data", "4"), XS_ERROR);
    ck_error(&r, "E2BIG");
    ck_assert_uint_eq(xf_xsd_watch_count(xsd), 3);
    for (int i = 1; i <= 3; i++) {
        snprintf(p, sizeof(p), "%d", i);
        ck_event("data", p);
    }
    /* Events beyond max_watch_events while the ring is full are dropped:
     * fill the ring first with events nobody reads. */
    ck_assert_uint_eq(cli_op(&r, XS_UNWATCH, 0, 2, "data", "2"), XS_UNWATCH);
    ck_assert_uint_eq(cli_op(&r, XS_UNWATCH, 0, 2, "data", "3"), XS_UNWATCH);
    for (int i = 0; i < 60; i++) {
        snprintf(p, sizeof(p), "%s/data/n%02d", home, i);
        ck_assert_int_eq(xf_xsd_write(xsd, p, "1", 1), 0);
    }
    ck_assert_uint_gt(xf_xsd_events_dropped(xsd), 0);
    ck_assert_uint_lt(xf_xsd_events_sent(xsd), 3 + 60);
    {
        unsigned long sent = xf_xsd_events_sent(xsd);
        unsigned got = 0;

        ck_assert_uint_eq(sent + xf_xsd_events_dropped(xsd), 3 + 60);
        for (unsigned i = 0; i < sent - 3; i++) {
            struct event *e = cli_event();

            ck_assert_str_eq(e->token, "1");
            got++;
        }
        ck_assert_uint_eq(got, sent - 3);
    }
    ck_no_event();
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("xsd-watch");
    TCase *tc = tcase_create("watch");

    tcase_add_checked_fixture(tc, w_setup, teardown);
    tcase_add_test(tc, watch_reply_then_initial_event);
    tcase_add_test(tc, relative_watch_and_child_events);
    tcase_add_test(tc, rm_fires_for_removed_descendants);
    tcase_add_test(tc, unreadable_nodes_fire_nothing);
    tcase_add_test(tc, unwatch_and_errors);
    tcase_add_test(tc, reset_watches);
    tcase_add_test(tc, no_reset_watches);
    tcase_add_test(tc, watch_quota_and_event_bound);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return xf_check_run(suite());
}
