/*
 * The primary console against the simulator and a back end thread: output
 * complete and in order through a slow back end, a deadline honoured by a
 * stalled one, input through the callback (upcalls and polling) and
 * through read().
 */
#include "console_test.h"

static struct xf_console *con;
static struct backend be;

static void open_console(const struct xf_console_config *cfg)
{
    struct xencons_interface *page = guest_page();

    ck_assert_int_eq(xf_console_create(&con, ec, page, xf_sim_console_port(sim), cfg), 0);
    ck_assert_int_eq(xf_console_status(con), 0);
    ck_assert_uint_eq(xf_console_port(con), xf_sim_console_port(sim));
}

static void close_all(void)
{
    xf_console_destroy(con);
    con = NULL;
    backend_free(&be);
    sim_stop();
}

/* Write a big message through a back end taking 1..chunk bytes a step. */
static void big_message(size_t total, unsigned chunk, bool upcalls)
{
    unsigned char *msg = malloc(total);
    size_t written = 12345;

    ck_assert_ptr_nonnull(msg);
    for (size_t i = 0; i < total; i++)
        msg[i] = pattern(i);
    sim_start(NULL);
    if (upcalls)
        enable_upcalls();
    backend_attach(&be, total, chunk);
    open_console(NULL);
    backend_start(&be);

    ck_assert_int_eq(xf_console_write_all(con, msg, total, DEADLINE_MS(15000), &written), 0);
    ck_assert_uint_eq(written, total);
    ck_assert_int_eq(xf_console_flush(con, DEADLINE_MS(15000)), 0);
    ck_assert_int_eq(xf_console_out_pending(con), 0);
    ck_assert(backend_wait_out(&be, total, DEADLINE_MS(15000)));
    backend_stop(&be);
    ck_assert_uint_eq(be.out_len, total);
    ck_assert_mem_eq(be.out, msg, total);
    /* Far more steps than ring-fulls: the back end really was slow. */
    ck_assert_uint_gt(be.steps, total / XF_CONSOLE_OUT_SIZE * 4);
    ck_assert_int_eq(xf_console_status(con), 0);
    free(msg);
    close_all();
}

START_TEST(test_slow_backend_100k_upcalls)
{
    big_message(100 * 1024, 7, true);
}
END_TEST

/* A kernel that takes no upcalls: its xf_plat_wait returns at once once an
 * event is pending, so write_all polls the indices. */
START_TEST(test_slow_backend_polling)
{
    big_message(20 * 1024, 5, false);
}
END_TEST

START_TEST(test_nonblocking_write_partial)
{
    unsigned char buf[3000];
    int n;

    for (size_t i = 0; i < sizeof(buf); i++)
        buf[i] = pattern(i);
    sim_start(NULL);
    backend_attach(&be, sizeof(buf), 16);
    open_console(NULL);
    /* Nobody consumes: the ring takes 2048 and says so, never more. */
    ck_assert_int_eq(xf_console_write(con, buf, 0), 0);
    n = xf_console_write(con, buf, 2000);
    ck_assert_int_eq(n, 2000);
    n = xf_console_write(con, buf + 2000, 1000);
    ck_assert_int_eq(n, 48);
    ck_assert_int_eq(xf_console_write(con, buf + 2048, 952), 0);
    ck_assert_int_eq(xf_console_out_pending(con), 2048);
    /* The back end then gets exactly those bytes, in order, across the wrap. */
    backend_start(&be);
    ck_assert(backend_wait_out(&be, 2048, DEADLINE_MS(5000)));
    n = xf_console_write(con, buf + 2048, 952);
    ck_assert_int_eq(n, 952);
    ck_assert(backend_wait_out(&be, 3000, DEADLINE_MS(5000)));
    backend_stop(&be);
    ck_assert_mem_eq(be.out, buf, sizeof(buf));
    ck_assert_int_eq(xf_console_write(NULL, buf, 1), -XF_EINVAL);
    ck_assert_int_eq(xf_console_write(con, NULL, 1), -XF_EINVAL);
    close_all();
}
END_TEST

START_TEST(test_stalled_backend_deadline)
{
    unsigned char buf[5000];
    size_t written = 0, more = 0;
    uint64_t start, deadline, end;

    for (size_t i = 0; i < sizeof(buf); i++)
        buf[i] = pattern(i);
    sim_start(NULL);
    enable_upcalls();
    backend_attach(&be, sizeof(buf), 3);
    be.stalled = 1;
    open_console(NULL);
    backend_start(&be);

    start = xf_plat_now_ns();
    deadline = start + 200 * MS_NS;
    ck_assert_int_eq(xf_console_write_all(con, buf, sizeof(buf), deadline, &written),
                     -XF_ETIMEDOUT);
    end = xf_plat_now_ns();
    ck_assert_uint_ge(end, deadline);
    ck_assert_uint_lt(end, deadline + 3 * SEC_NS);
    ck_assert_uint_eq(written, XF_CONSOLE_OUT_SIZE);
    ck_assert_int_eq(xf_console_flush(con, xf_plat_now_ns() + 50 * MS_NS), -XF_ETIMEDOUT);
    /* A deadline already past: one attempt, no wait. */
    ck_assert_int_eq(xf_console_write_all(con, buf + written, 10, 0, &more), -XF_ETIMEDOUT);
    ck_assert_uint_eq(more, 0);
    ck_assert_int_eq(xf_console_status(con), 0);

    /* The back end resumes: the rest follows, nothing lost or repeated. */
    STORE(&be.stalled, 0);
    ck_assert_int_eq(xf_console_write_all(con, buf + written, sizeof(buf) - written,
                                          DEADLINE_MS(10000), &more), 0);
    ck_assert_uint_eq(written + more, sizeof(buf));
    ck_assert(backend_wait_out(&be, sizeof(buf), DEADLINE_MS(10000)));
    backend_stop(&be);
    ck_assert_mem_eq(be.out, buf, sizeof(buf));
    close_all();
}
END_TEST

/* ------------------------------------------------------------------------
 * Input.
 */
static unsigned char got[8192];
static size_t got_len;
static unsigned got_calls;
static bool echo;

static void on_input(struct xf_console *c, const char *buf, size_t len, void *arg)
{
    ck_assert_ptr_eq(c, con);
    ck_assert_ptr_eq(arg, &got);
    ck_assert_uint_ge(len, 1);
    ck_assert_uint_le(len, XF_CONSOLE_IN_SIZE);
    ck_assert_uint_le(got_len + len, sizeof(got));
    memcpy(got + got_len, buf, len);
    got_len += len;
    got_calls++;
    /* Output from the handler (an echo) is allowed. */
    if (echo)
        ck_assert_int_eq(xf_console_write(c, buf, len), (int)len);
}

static void input_test(bool upcalls, size_t total)
{
    static unsigned char data[5000];
    struct xf_console_config cfg = { .input = on_input, .input_arg = &got };
    uint64_t deadline;

    ck_assert_uint_le(total, sizeof(data));
    for (size_t i = 0; i < total; i++)
        data[i] = pattern(i + 99);
    got_len = 0;
    got_calls = 0;
    echo = true;
    sim_start(NULL);
    if (upcalls)
        enable_upcalls();
    backend_attach(&be, total, 9);
    be.in = data;
    be.in_len = total;
    open_console(&cfg);
    backend_start(&be);

    deadline = DEADLINE_MS(10000);
    while (got_len < total && xf_plat_now_ns() < deadline) {
        if (upcalls)
            (void)xf_plat_wait(deadline);      /* the upcall delivers */
        else
            ck_assert_int_ge(xf_console_poll(con), 0);
    }
    ck_assert_uint_eq(got_len, total);
    ck_assert_mem_eq(got, data, total);
    /* More than a ring of input: in_cons was handed back as it went. */
    ck_assert_uint_gt(got_calls, 1);
    ck_assert(backend_wait_out(&be, total, DEADLINE_MS(10000)));
    backend_stop(&be);
    ck_assert_mem_eq(be.out, data, total);
    ck_assert_int_eq(xf_console_status(con), 0);
    /* Input goes to the callback; read() refuses. */
    ck_assert_int_eq(xf_console_read(con, got, 1), -XF_EINVAL);
    close_all();
}

START_TEST(test_input_callback_upcalls)
{
    input_test(true, 5000);
}
END_TEST

START_TEST(test_input_callback_polling)
{
    input_test(false, 3000);
}
END_TEST

START_TEST(test_input_read)
{
    static unsigned char data[4000];
    unsigned char buf[4000];
    size_t have = 0;
    uint64_t deadline;

    for (size_t i = 0; i < sizeof(data); i++)
        data[i] = pattern(i + 5);
    sim_start(NULL);
    backend_attach(&be, 16, 11);
    be.in = data;
    be.in_len = sizeof(data);
    open_console(NULL);
    ck_assert_int_eq(xf_console_read(con, buf, 10), 0);
    ck_assert_int_eq(xf_console_poll(con), 0);    /* no callback: stays */
    backend_start(&be);
    deadline = DEADLINE_MS(10000);
    while (have < sizeof(data) && xf_plat_now_ns() < deadline) {
        /* Small reads: the rest waits in the ring for the next call. */
        int n = xf_console_read(con, buf + have, sizeof(data) - have < 100 ? sizeof(data) - have : 100);
        ck_assert_int_ge(n, 0);
        have += (size_t)n;
    }
    backend_stop(&be);
    ck_assert_uint_eq(have, sizeof(data));
    ck_assert_mem_eq(buf, data, sizeof(data));
    ck_assert_int_eq(xf_console_read(con, buf, 0), 0);
    ck_assert_int_eq(xf_console_read(con, NULL, 1), -XF_EINVAL);
    close_all();
}
END_TEST

/* Input already waiting in the ring when the console opens, and a ring the
 * previous user left mid-way (indices not at zero, wrapping). */
START_TEST(test_existing_ring_state)
{
    struct xencons_interface *page;
    struct xf_console_config cfg = { .input = on_input, .input_arg = &got };
    const char *msg = "left over";

    got_len = 0;
    got_calls = 0;
    echo = false;
    sim_start(NULL);
    enable_upcalls();
    backend_attach(&be, 4096, 5);
    page = be.intf;
    page->out_prod = page->out_cons = 0xfffffff0u;  /* output wraps the index */
    page->in_cons = 1020;
    for (size_t i = 0; i < strlen(msg); i++)
        page->in[(1020 + i) & 1023] = msg[i];
    page->in_prod = 1020 + (uint32_t)strlen(msg);
    open_console(&cfg);
    /* The pending input is delivered by the next dispatch. */
    ck_assert_int_ge(xf_evtchn_dispatch(ec, 0), 0);
    if (got_len == 0)
        ck_assert_int_gt(xf_console_poll(con), 0);
    ck_assert_uint_eq(got_len, strlen(msg));
    ck_assert_mem_eq(got, msg, strlen(msg));
    ck_assert_uint_eq(page->in_cons, 1020 + strlen(msg));

    backend_start(&be);
    ck_assert_int_eq(xf_console_write_all(con, "0123456789abcdefghijklmnopqrstuvwxyz", 36,
                                          DEADLINE_MS(5000), NULL), 0);
    ck_assert(backend_wait_out(&be, 36, DEADLINE_MS(5000)));
    backend_stop(&be);
    ck_assert_mem_eq(be.out, "0123456789abcdefghijklmnopqrstuvwxyz", 36);
    ck_assert_uint_eq(page->out_prod, 0xfffffff0u + 36u);
    close_all();
}
END_TEST

/* From the callback (the event handler): another input call is nested and
 * refused, output works, and the interrupted delivery looks again. */
static int nested_rc;
static unsigned nested_calls;

static void nested_input(struct xf_console *c, const char *buf, size_t len, void *arg)
{
    (void)buf;
    (void)arg;
    nested_calls++;
    nested_rc = xf_console_poll(c);
    ck_assert_int_eq(xf_console_write(c, "ok", 2), 2);
    got_len += len;
}

START_TEST(test_nested_calls_from_callback)
{
    struct xf_console_config cfg = { .input = nested_input };
    struct xencons_interface *page;

    got_len = 0;
    nested_calls = 0;
    sim_start(NULL);
    backend_attach(&be, 16, 1);
    page = be.intf;
    open_console(&cfg);
    memcpy(page->in, "abc", 3);
    STORE(&page->in_prod, 3);
    ck_assert_int_eq(xf_console_poll(con), 3);
    ck_assert_int_eq(nested_rc, -XF_EBUSY);
    /* The nested call's note made the outer one look once more (finding
     * nothing new): one callback, all three bytes. */
    ck_assert_uint_eq(nested_calls, 1);
    ck_assert_uint_eq(got_len, 3);
    ck_assert_uint_eq(page->in_cons, 3);
    ck_assert_uint_eq(page->out_prod, 2);
    ck_assert_int_eq(xf_console_status(con), 0);
    close_all();
}
END_TEST

START_TEST(test_hvm_params_absent)
{
    struct xf_sim_config cfg = { .no_store_console = true };
    uint64_t pfn = 7;
    evtchn_port_t port = 7;

    sim_start(&cfg);
    ck_assert_int_eq(xf_console_hvm_params(&pfn, &port), -XF_ENOENT);
    ck_assert_uint_eq(pfn, 7);
    ck_assert_uint_eq(port, 7);
    ck_assert_int_eq(xf_console_create(&con, ec, NULL, 3, NULL), -XF_EINVAL);
    ck_assert_int_eq(xf_console_create(&con, NULL, &pfn, 3, NULL), -XF_EINVAL);
    ck_assert_int_eq(xf_console_status(NULL), -XF_EINVAL);
    xf_console_destroy(NULL);
    sim_stop();
}
END_TEST

/* A kernel destroys its console and opens it again on the same event
 * channel context (a second boot stage, a re-init): the port, which must
 * never be closed, is taken back, and output goes on through it. */
START_TEST(test_reopen_on_same_ec)
{
    size_t written = 0;

    sim_start(NULL);
    enable_upcalls();
    backend_attach(&be, 2, 1);
    open_console(NULL);
    backend_start(&be);
    ck_assert_int_eq(xf_console_write_all(con, "A", 1, DEADLINE_MS(5000), &written), 0);
    ck_assert_int_eq(xf_console_flush(con, DEADLINE_MS(5000)), 0);
    xf_console_destroy(con);
    con = NULL;
    /* Still bound in Xen, still ec's: not closed behind the domain's back. */
    ck_assert_int_eq(xf_evtchn_is_masked(ec, xf_sim_console_port(sim)), 1);
    open_console(NULL);
    ck_assert_int_eq(xf_evtchn_is_masked(ec, xf_sim_console_port(sim)), 0);
    ck_assert_int_eq(xf_console_write_all(con, "B", 1, DEADLINE_MS(5000), &written), 0);
    ck_assert_int_eq(xf_console_flush(con, DEADLINE_MS(5000)), 0);
    ck_assert(backend_wait_out(&be, 2, DEADLINE_MS(5000)));
    backend_stop(&be);
    ck_assert_uint_eq(be.out_len, 2);
    ck_assert_mem_eq(be.out, "AB", 2);
    close_all();
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("console-primary");
    TCase *tc = tcase_create("primary");

    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_slow_backend_100k_upcalls);
    tcase_add_test(tc, test_slow_backend_polling);
    tcase_add_test(tc, test_nonblocking_write_partial);
    tcase_add_test(tc, test_stalled_backend_deadline);
    tcase_add_test(tc, test_input_callback_upcalls);
    tcase_add_test(tc, test_input_callback_polling);
    tcase_add_test(tc, test_input_read);
    tcase_add_test(tc, test_existing_ring_state);
    tcase_add_test(tc, test_nested_calls_from_callback);
    tcase_add_test(tc, test_hvm_params_absent);
    tcase_add_test(tc, test_reopen_on_same_ec);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return xf_check_run(suite());
}
