/* The simulated xenstored's transactions: isolation, commit, abort,
 * EAGAIN on conflicts, watches at commit, ids and errors, quota. */
#include "xsd_client.h"

static uint32_t tx_start(void)
{
    struct reply r;
    char *end;
    unsigned long id;

    ck_assert_uint_eq(cli_op(&r, XS_TRANSACTION_START, 0, 1, ""), XS_TRANSACTION_START);
    ck_assert_uint_eq(r.hdr.len, strlen(r.data) + 1);
    id = strtoul(r.data, &end, 10);
    ck_assert(*end == 0 && id > 0);
    return (uint32_t)id;
}

static uint32_t tx_end(uint32_t tx, const char *how, struct reply *r)
{
    return cli_op(r, XS_TRANSACTION_END, tx, 1, how);
}

START_TEST(ids_and_errors)
{
    struct reply r;
    uint32_t a = tx_start(), b = tx_start();

    ck_assert_uint_eq(a, 1);
    ck_assert_uint_eq(b, 2);
    ck_assert_uint_eq(xf_xsd_transaction_count(xsd), 2);
    /* No nesting: a START inside one is EBUSY. */
    ck_assert_uint_eq(cli_op(&r, XS_TRANSACTION_START, a, 1, ""), XS_ERROR);
    ck_error(&r, "EBUSY");
    ck_assert_uint_eq(cli_op(&r, XS_READ, 99, 1, "data"), XS_ERROR);
    ck_error(&r, "ENOENT");
    ck_assert_uint_eq(tx_end(0, "T", &r), XS_ERROR);
    ck_error(&r, "ENOENT");
    ck_assert_uint_eq(tx_end(a, "X", &r), XS_ERROR);
    ck_error(&r, "EINVAL");
    ck_assert_uint_eq(tx_end(a, "F", &r), XS_TRANSACTION_END);
    ck_ok(&r, XS_TRANSACTION_END);
    ck_assert_uint_eq(r.hdr.tx_id, a);
    ck_assert_uint_eq(tx_end(a, "F", &r), XS_ERROR);
    ck_error(&r, "ENOENT");
    ck_assert_uint_eq(tx_end(b, "T", &r), XS_TRANSACTION_END);
    /* Ids keep counting. */
    ck_assert_uint_eq(tx_start(), 3);
}
END_TEST

START_TEST(isolation_commit_and_abort)
{
    struct reply r;
    uint32_t t = tx_start();
    char buf[16];

    ck_assert_uint_eq(cli_write(&r, t, "data/a", "in-tx"), XS_WRITE);
    ck_ok(&r, XS_WRITE);
    ck_assert_uint_eq(r.hdr.tx_id, t);
    /* Seen inside, not outside. */
    ck_assert_uint_eq(cli_op(&r, XS_READ, t, 1, "data/a"), XS_READ);
    ck_assert_mem_eq(r.data, "in-tx", 5);
    ck_assert_uint_eq(cli_op(&r, XS_READ, 0, 1, "data/a"), XS_ERROR);
    ck_error(&r, "ENOENT");
    ck_assert_uint_eq(cli_op(&r, XS_DIRECTORY, t, 1, "data"), XS_DIRECTORY);
    ck_assert_str_eq(r.data, "a");
    ck_assert_uint_eq(tx_end(t, "T", &r), XS_TRANSACTION_END);
    ck_assert_uint_eq(cli_op(&r, XS_READ, 0, 1, "data/a"), XS_READ);
    ck_assert_mem_eq(r.data, "in-tx", 5);

    /* Abort discards, rm included. */
    t = tx_start();
    ck_assert_uint_eq(cli_write(&r, t, "data/a", "changed"), XS_WRITE);
    ck_assert_uint_eq(cli_write(&r, t, "data/b", "new"), XS_WRITE);
    ck_assert_uint_eq(tx_end(t, "F", &r), XS_TRANSACTION_END);
    ck_assert_uint_eq(cli_op(&r, XS_READ, 0, 1, "data/a"), XS_READ);
    ck_assert_mem_eq(r.data, "in-tx", 5);
    ck_assert_uint_eq(cli_op(&r, XS_READ, 0, 1, "data/b"), XS_ERROR);
    ck_error(&r, "ENOENT");
    t = tx_start();
    ck_assert_uint_eq(cli_op(&r, XS_RM, t, 1, "data/a"), XS_RM);
    ck_assert_uint_eq(cli_op(&r, XS_READ, t, 1, "data/a"), XS_ERROR);
    ck_error(&r, "ENOENT");
    ck_assert_uint_eq(cli_op(&r, XS_READ, 0, 1, "data/a"), XS_READ);
    ck_assert_uint_eq(tx_end(t, "T", &r), XS_TRANSACTION_END);
    ck_assert_uint_eq(cli_op(&r, XS_READ, 0, 1, "data/a"), XS_ERROR);
    ck_error(&r, "ENOENT");
    (void)buf;
}
END_TEST

START_TEST(conflict_with_toolstack_write_is_eagain)
{
    struct reply r;
    char p[96], buf[16];
    uint32_t t;

    snprintf(p, sizeof(p), "/local/domain/%u/data/c", G);
    ck_assert_int_eq(xf_xsd_write(xsd, p, "0", 1), 0);
    t = tx_start();
    ck_assert_uint_eq(cli_op(&r, XS_READ, t, 1, "data/c"), XS_READ);
    ck_assert_uint_eq(cli_write(&r, t, "data/c", "guest"), XS_WRITE);
    /* The toolstack changes a node the transaction read. */
    ck_assert_int_eq(xf_xsd_write(xsd, p, "tool", 4), 0);
    ck_assert_uint_eq(tx_end(t, "T", &r), XS_ERROR);
    ck_error(&r, "EAGAIN");
    ck_assert_int_eq(xf_xsd_read(xsd, p, buf, sizeof(buf)), 4);
    ck_assert_str_eq(buf, "tool");
    ck_assert_uint_eq(xf_xsd_transaction_count(xsd), 0);
    ck_assert_uint_eq(tx_end(t, "T", &r), XS_ERROR);   /* gone after EAGAIN */
    ck_error(&r, "ENOENT");

    /* A change elsewhere does not conflict (xenstored 4.17 checks the
     * nodes the transaction accessed, not every write). */
    t = tx_start();
    ck_assert_uint_eq(cli_op(&r, XS_READ, t, 1, "data/c"), XS_READ);
    ck_assert_uint_eq(cli_write(&r, t, "data/c", "guest"), XS_WRITE);
    ck_assert_int_eq(xf_xsd_write(xsd, "/elsewhere", "x", 1), 0);
    ck_assert_uint_eq(tx_end(t, "T", &r), XS_TRANSACTION_END);
    ck_assert_int_eq(xf_xsd_read(xsd, p, buf, sizeof(buf)), 5);
    ck_assert_str_eq(buf, "guest");

    /* Creating a node the toolstack creates meanwhile conflicts too. */
    t = tx_start();
    ck_assert_uint_eq(cli_write(&r, t, "data/fresh", "g"), XS_WRITE);
    snprintf(p, sizeof(p), "/local/domain/%u/data/fresh", G);
    ck_assert_int_eq(xf_xsd_write(xsd, p, "t", 1), 0);
    ck_assert_uint_eq(tx_end(t, "T", &r), XS_ERROR);
    ck_error(&r, "EAGAIN");

    /* Two transactions of the guest: the second to commit loses. */
    {
        uint32_t t1 = tx_start(), t2 = tx_start();

        ck_assert_uint_eq(cli_op(&r, XS_READ, t1, 1, "data/c"), XS_READ);
        ck_assert_uint_eq(cli_op(&r, XS_READ, t2, 1, "data/c"), XS_READ);
        ck_assert_uint_eq(cli_write(&r, t1, "data/c", "one"), XS_WRITE);
        ck_assert_uint_eq(cli_write(&r, t2, "data/c", "two"), XS_WRITE);
        ck_assert_uint_eq(tx_end(t1, "T", &r), XS_TRANSACTION_END);
        ck_assert_uint_eq(tx_end(t2, "T", &r), XS_ERROR);
        ck_error(&r, "EAGAIN");
    }
}
END_TEST

START_TEST(watches_fire_at_commit)
{
    struct reply r;
    uint32_t t;
    struct event *e;

    ck_assert_uint_eq(cli_op(&r, XS_WATCH, 0, 2, "data", "w"), XS_WATCH);
    e = cli_event();
    ck_assert_str_eq(e->path, "data");
    t = tx_start();
    ck_assert_uint_eq(cli_write(&r, t, "data/x", "1"), XS_WRITE);
    ck_assert_uint_eq(cli_op(&r, XS_MKDIR, t, 1, "data/y"), XS_MKDIR);
    ck_assert_uint_eq(events_pending(), 0);
    /* The events come with the commit, before its reply. */
    {
        uint32_t id = cli_send(XS_TRANSACTION_END, t, "T", 2);

        cli_recv(&r);
        ck_assert_uint_eq(r.hdr.type, XS_WATCH_EVENT);
        cli_recv(&r);
        ck_assert_uint_eq(r.hdr.type, XS_WATCH_EVENT);
        cli_recv(&r);
        ck_assert_uint_eq(r.hdr.req_id, id);
        ck_ok(&r, XS_TRANSACTION_END);
    }
    /* An aborted transaction fires nothing. */
    t = tx_start();
    ck_assert_uint_eq(cli_write(&r, t, "data/z", "1"), XS_WRITE);
    ck_assert_uint_eq(tx_end(t, "F", &r), XS_TRANSACTION_END);
    ck_assert_uint_eq(events_pending(), 0);
}
END_TEST

START_TEST(transaction_quota)
{
    struct reply r;

    /* xenstored refuses once more than the quota (10) are open. */
    for (int i = 0; i < 11; i++)
        tx_start();
    ck_assert_uint_eq(cli_op(&r, XS_TRANSACTION_START, 0, 1, ""), XS_ERROR);
    ck_error(&r, "ENOSPC");
    ck_assert_uint_eq(xf_xsd_transaction_count(xsd), 11);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("xsd-transaction");
    TCase *tc = tcase_create("transaction");

    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, ids_and_errors);
    tcase_add_test(tc, isolation_commit_and_abort);
    tcase_add_test(tc, conflict_with_toolstack_write_is_eagain);
    tcase_add_test(tc, watches_fire_at_commit);
    tcase_add_test(tc, transaction_quota);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return xf_check_run(suite());
}
