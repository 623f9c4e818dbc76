/*
 * A hostile console back end: every index it owns moved where it must not
 * go. Each is detected, reported through xf_log, makes the console broken
 * for good (-XF_EPROTO), and nothing outside in[] and out[] is touched.
 */
#include "console_test.h"

static struct xf_console *con;
static struct xencons_interface *page;   /* the back end's view */
static unsigned char snapshot[XF_PAGE_SIZE];
static unsigned char got[2048];
static size_t got_len;
static unsigned got_calls;

static void on_input(struct xf_console *c, const char *buf, size_t len, void *arg)
{
    (void)c;
    (void)arg;
    if (got_len + len <= sizeof(got))
        memcpy(got + got_len, buf, len);
    got_len += len;
    got_calls++;
}

static void open_console(bool callback)
{
    struct xf_console_config cfg = { .input = on_input };
    struct xencons_interface *gpage;
    int port;

    got_len = 0;
    got_calls = 0;
    sim_start(NULL);
    gpage = guest_page();
    page = xf_sim_gfn_to_va(sim, guest, xf_sim_console_gfn(sim));
    ck_assert_ptr_nonnull(page);
    port = xf_sim_evtchn_bind_interdomain(sim, 0, guest, xf_sim_console_port(sim));
    ck_assert_int_gt(port, 0);
    /* Fill the page beyond the ring with a canary. */
    memset((char *)page + sizeof(*page), 0xa5, XF_PAGE_SIZE - sizeof(*page));
    ck_assert_int_eq(xf_console_create(&con, ec, gpage, xf_sim_console_port(sim),
                                       callback ? &cfg : NULL), 0);
}

static void take_snapshot(void)
{
    memcpy(snapshot, page, XF_PAGE_SIZE);
}

/* Since the snapshot the guest changed nothing on the page. */
static void assert_untouched(void)
{
    ck_assert_mem_eq(snapshot, page, XF_PAGE_SIZE);
}

static void assert_broken(const char *why)
{
    char buf[16];
    int rc;

    ck_assert_int_eq(xf_console_status(con), -XF_EPROTO);
    ck_assert_msg(logged(why), "log lacks \"%s\": %s", why, log_text);
    /* Sticky: every call fails and nothing moves. */
    take_snapshot();
    ck_assert_int_eq(xf_console_write(con, "x", 1), -XF_EPROTO);
    ck_assert_int_eq(xf_console_write_all(con, "x", 1, DEADLINE_MS(1000), NULL), -XF_EPROTO);
    ck_assert_int_eq(xf_console_flush(con, DEADLINE_MS(1000)), -XF_EPROTO);
    ck_assert_int_eq(xf_console_out_pending(con), -XF_EPROTO);
    ck_assert_int_eq(xf_console_poll(con), -XF_EPROTO);
    rc = xf_console_read(con, buf, sizeof(buf));
    ck_assert(rc == -XF_EPROTO || rc == -XF_EINVAL);  /* EINVAL: a callback console */
    assert_untouched();
}

static void close_all(void)
{
    xf_console_destroy(con);
    con = NULL;
    sim_stop();
}

START_TEST(test_out_cons_beyond_out_prod)
{
    open_console(false);
    ck_assert_int_eq(xf_console_write(con, "0123456789", 10), 10);
    page->out_cons = page->out_prod + 5;     /* consumed what was never written */
    take_snapshot();
    ck_assert_int_eq(xf_console_write(con, "abc", 3), -XF_EPROTO);
    assert_untouched();
    assert_broken("out_cons beyond out_prod");
    close_all();
}
END_TEST

/* The classic overflow: out_cons far ahead, so that out_prod - out_cons
 * looks like a huge free space. A naive front end writes 4 GiB. */
START_TEST(test_out_cons_huge_jump)
{
    open_console(false);
    ck_assert_int_eq(xf_console_write(con, "0123456789", 10), 10);
    page->out_cons = page->out_prod + 0x80000000u;
    take_snapshot();
    ck_assert_int_eq(xf_console_write_all(con, "abc", 3, DEADLINE_MS(1000), NULL), -XF_EPROTO);
    assert_untouched();
    assert_broken("out_cons");
    close_all();
}
END_TEST

START_TEST(test_out_cons_backwards)
{
    open_console(false);
    ck_assert_int_eq(xf_console_write(con, "0123456789", 10), 10);
    page->out_cons = 8;                      /* consumed 8 */
    ck_assert_int_eq(xf_console_out_pending(con), 2);
    page->out_cons = 3;                      /* then un-consumed 5 */
    take_snapshot();
    ck_assert_int_eq(xf_console_out_pending(con), -XF_EPROTO);
    assert_untouched();
    assert_broken("out_cons went backwards");
    close_all();
}
END_TEST

START_TEST(test_in_prod_jump)
{
    char buf[64];

    open_console(false);
    page->in[0] = 'a';
    page->in_prod = XF_CONSOLE_IN_SIZE + 1;   /* more than the ring holds */
    take_snapshot();
    ck_assert_int_eq(xf_console_read(con, buf, sizeof(buf)), -XF_EPROTO);
    assert_untouched();
    assert_broken("in_prod ran more than the ring ahead");
    close_all();
}
END_TEST

/* Through the event handler: the callback is never called with garbage. */
START_TEST(test_in_prod_jump_via_handler)
{
    evtchn_port_t be_port;

    open_console(true);
    enable_upcalls();
    page->in_prod = 0x7fffffffu;
    take_snapshot();
    /* dom0's end is the first port it bound; signal the guest. */
    be_port = 0;
    for (evtchn_port_t p = 1; p < 16 && be_port == 0; p++) {
        struct evtchn_status st = { .dom = 0, .port = p };
        if (xf_sim_event_channel_op(sim, 0, EVTCHNOP_status, &st) == 0 &&
            st.status == EVTCHNSTAT_interdomain && st.u.interdomain.dom == guest)
            be_port = p;
    }
    ck_assert_uint_ne(be_port, 0);
    ck_assert_int_eq(xf_sim_evtchn_send(sim, 0, be_port), 0);
    ck_assert_int_ge(xf_sim_deliver_upcalls(sim, guest), 1);
    ck_assert_uint_eq(got_calls, 0);
    assert_untouched();
    assert_broken("in_prod ran more than the ring ahead");
    close_all();
}
END_TEST

START_TEST(test_in_prod_backwards)
{
    char buf[64];

    open_console(false);
    memcpy(page->in, "0123456789", 10);
    page->in_prod = 10;
    ck_assert_int_eq(xf_console_read(con, buf, 4), 4);   /* in_cons 4, seen 10 */
    ck_assert_mem_eq(buf, "0123", 4);
    page->in_prod = 7;                                    /* took back 3 bytes */
    take_snapshot();
    ck_assert_int_eq(xf_console_read(con, buf, sizeof(buf)), -XF_EPROTO);
    assert_untouched();
    assert_broken("in_prod went backwards");
    close_all();
}
END_TEST

START_TEST(test_in_prod_behind_in_cons)
{
    char buf[64];

    open_console(true);
    memcpy(page->in, "0123456789", 10);
    page->in_prod = 10;
    ck_assert_int_eq(xf_console_poll(con), 10);
    ck_assert_uint_eq(got_len, 10);
    page->in_prod = 2;
    take_snapshot();
    ck_assert_int_eq(xf_console_poll(con), -XF_EPROTO);
    ck_assert_uint_eq(got_calls, 1);
    assert_untouched();
    (void)buf;
    assert_broken("in_prod behind in_cons");
    close_all();
}
END_TEST

/* A full input ring that wraps is legal: exactly in[] is read, in order. */
START_TEST(test_in_full_ring_wraps)
{
    static char want[XF_CONSOLE_IN_SIZE];
    char buf[XF_CONSOLE_IN_SIZE + 16];

    /* A ring whose indices start at 1000. */
    sim_start(NULL);
    page = xf_sim_gfn_to_va(sim, guest, xf_sim_console_gfn(sim));
    page->in_cons = 1000;
    for (uint32_t i = 0; i < XF_CONSOLE_IN_SIZE; i++) {
        want[i] = (char)pattern(i);
        page->in[(1000 + i) & (XF_CONSOLE_IN_SIZE - 1)] = want[i];
    }
    page->in_prod = 1000 + XF_CONSOLE_IN_SIZE;
    ck_assert_int_eq(xf_console_create(&con, ec, guest_page(), xf_sim_console_port(sim), NULL), 0);
    memset(buf, 0x5a, sizeof(buf));
    ck_assert_int_eq(xf_console_read(con, buf, sizeof(buf)), XF_CONSOLE_IN_SIZE);
    ck_assert_mem_eq(buf, want, XF_CONSOLE_IN_SIZE);
    ck_assert_int_eq((unsigned char)buf[XF_CONSOLE_IN_SIZE], 0x5a);
    ck_assert_uint_eq(page->in_cons, 1000 + XF_CONSOLE_IN_SIZE);
    ck_assert_int_eq(xf_console_status(con), 0);
    close_all();
}
END_TEST

/* Inconsistent from the start: refused, nothing kept, the port not taken. */
START_TEST(test_inconsistent_at_create)
{
    struct xencons_interface *gpage;

    sim_start(NULL);
    gpage = guest_page();
    gpage->out_cons = 0;
    gpage->out_prod = XF_CONSOLE_OUT_SIZE + 1;
    ck_assert_int_eq(xf_console_create(&con, ec, gpage, xf_sim_console_port(sim), NULL),
                     -XF_EPROTO);
    ck_assert(logged("inconsistent ring"));
    ck_assert_uint_eq(xf_evtchn_nr_bound(ec), 0);
    gpage->out_prod = 0;
    gpage->in_cons = 5;
    gpage->in_prod = 4;
    ck_assert_int_eq(xf_console_create(&con, ec, gpage, xf_sim_console_port(sim), NULL),
                     -XF_EPROTO);
    gpage->in_prod = 5;
    ck_assert_int_eq(xf_console_create(&con, ec, gpage, xf_sim_console_port(sim), NULL), 0);
    ck_assert_uint_eq(xf_evtchn_nr_bound(ec), 1);
    close_all();
}
END_TEST

/* A back end that breaks the ring while a writer waits for space. */
struct breaker {
    struct xencons_interface *page;
    uint64_t deadline;
};

/* Once the writer has filled the ring (and so must be waiting), break it. */
static void *break_later(void *arg)
{
    struct breaker *b = arg;

    while (LOAD(&b->page->out_prod) != XF_CONSOLE_OUT_SIZE && xf_plat_now_ns() < b->deadline)
        sched_yield();
    STORE(&b->page->out_cons, LOAD(&b->page->out_prod) + 100);
    return NULL;
}

START_TEST(test_break_while_waiting)
{
    static unsigned char buf[4096];
    struct breaker b;
    pthread_t th;
    size_t written = 0;

    open_console(false);
    b.page = page;
    b.deadline = DEADLINE_MS(10000);
    ck_assert_int_eq(pthread_create(&th, NULL, break_later, &b), 0);
    /* No upcalls and no events: write_all must still notice, by looking at
     * the indices after each wait (here: the one that ends at the
     * deadline, as nothing wakes it earlier). */
    ck_assert_int_eq(xf_console_write_all(con, buf, sizeof(buf), DEADLINE_MS(500),
                                          &written), -XF_EPROTO);
    ck_assert_int_eq(pthread_join(th, NULL), 0);
    ck_assert_uint_eq(written, XF_CONSOLE_OUT_SIZE);
    assert_broken("out_cons beyond out_prod");
    close_all();
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("console-hostile");
    TCase *tc = tcase_create("hostile");

    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_out_cons_beyond_out_prod);
    tcase_add_test(tc, test_out_cons_huge_jump);
    tcase_add_test(tc, test_out_cons_backwards);
    tcase_add_test(tc, test_in_prod_jump);
    tcase_add_test(tc, test_in_prod_jump_via_handler);
    tcase_add_test(tc, test_in_prod_backwards);
    tcase_add_test(tc, test_in_prod_behind_in_cons);
    tcase_add_test(tc, test_in_full_ring_wraps);
    tcase_add_test(tc, test_inconsistent_at_create);
    tcase_add_test(tc, test_break_while_waiting);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return xf_check_run(suite());
}
