/*
 * libxenbus core against a scripted server on the real ring page: framing,
 * pipelining, the payload limit both ways, error strings, every hostile
 * framing case, a silent server, watch queues, reconnection.
 */
#include <errno.h>            /* first: xs_wire.h then defines xsd_errors[] */
#include <stdint.h>
#include <xen/io/xs_wire.h>

#include "xb_test.h"

static void setup(void)
{
    sim_up();
    xb_up(NULL);
    fake_up();
}

static void teardown(void)
{
    fake_join();
    sim_down();
    fake_down();
}

static char pl[XENSTORE_PAYLOAD_MAX + 1];

/* Submit a READ of path. */
static uint32_t submit_read(const char *path)
{
    struct xf_xenbus_iov iov = { path, strlen(path) + 1 };
    uint32_t id;

    ck_assert_int_eq(xf_xenbus_submit(xb, XS_READ, 0, &iov, 1, NULL, NULL, &id), 0);
    ck_assert_uint_ne(id, 0);
    return id;
}

/* ------------------------------------------------------------------------ */

START_TEST(test_pipelined_out_of_order)
{
    /* 16 requests in flight at once, answered in reverse order with values
     * long enough that replies wrap the 1 KiB ring many times. */
    uint32_t ids[16];
    struct xsd_sockmsg reqs[16];
    char paths[16][32], val[400];

    for (int i = 0; i < 16; i++) {
        snprintf(paths[i], sizeof(paths[i]), "data/key%d", i);
        ids[i] = submit_read(paths[i]);
    }
    ck_assert_uint_eq(xf_xenbus_outstanding(xb), 16);
    /* A 17th has no slot. */
    struct xf_xenbus_iov iov = { "x", 2 };
    uint32_t extra;
    ck_assert_int_eq(xf_xenbus_submit(xb, XS_READ, 0, &iov, 1, NULL, NULL, &extra), -XF_EBUSY);

    for (int i = 0; i < 16; i++) {
        fake_expect(&reqs[i], pl);
        ck_assert_uint_eq(reqs[i].type, XS_READ);
        ck_assert_str_eq(pl, paths[i]);
    }
    for (int i = 15; i >= 0; i--) {
        memset(val, 'a' + i, sizeof(val));
        memcpy(val, paths[i], strlen(paths[i]));
        fake_reply(&reqs[i], val, sizeof(val));
    }
    pump();
    for (int i = 0; i < 16; i++) {
        const char *data;
        uint32_t len;
        ck_assert_int_eq(xf_xenbus_req_done(xb, ids[i]), 1);
        ck_assert_int_eq(xf_xenbus_req_reply(xb, ids[i], &data, &len), (int)sizeof(val));
        ck_assert_uint_eq(len, sizeof(val));
        ck_assert_int_eq(memcmp(data, paths[i], strlen(paths[i])), 0);
        ck_assert_int_eq(data[len - 1], 'a' + i);
        ck_assert_int_eq(data[len], '\0');
        ck_assert_int_eq(xf_xenbus_req_release(xb, ids[i]), 0);
    }
    ck_assert_uint_eq(xf_xenbus_outstanding(xb), 0);
    ck_assert_int_eq(xf_xenbus_status(xb), 0);
}
END_TEST

START_TEST(test_payload_limit)
{
    /* Exactly 4096 bytes of payload go out (through the ring four times
     * over); 4097 are refused before a byte is sent. */
    static char big[XENSTORE_PAYLOAD_MAX + 1];
    struct xf_xenbus_iov iov[2] = { { "data/big", 9 }, { big, XENSTORE_PAYLOAD_MAX - 9 } };
    struct xsd_sockmsg h;
    uint32_t id;

    for (size_t i = 0; i < sizeof(big); i++)
        big[i] = (char)('A' + i % 23);
    ck_assert_int_eq(xf_xenbus_submit(xb, XS_WRITE, 0, iov, 2, NULL, NULL, &id), 0);
    fake_expect(&h, pl);
    ck_assert_uint_eq(h.len, XENSTORE_PAYLOAD_MAX);
    ck_assert_str_eq(pl, "data/big");
    ck_assert_int_eq(memcmp(pl + 9, big, XENSTORE_PAYLOAD_MAX - 9), 0);
    fake_reply(&h, "OK", 3);
    pump();
    ck_assert_int_eq(xf_xenbus_req_reply(xb, id, NULL, NULL), 3);
    xf_xenbus_req_release(xb, id);

    iov[1].len++;
    ck_assert_int_eq(xf_xenbus_submit(xb, XS_WRITE, 0, iov, 2, NULL, NULL, &id), -XF_E2BIG);
    ck_assert_int_eq(xf_xenbus_write(xb, 0, "data/big", big, XENSTORE_PAYLOAD_MAX - 8, 0),
                     -XF_E2BIG);
    pump();
    ck_assert_uint_eq(fk->in_len, 0);

    /* A 4096-byte reply comes back whole. */
    id = submit_read("data/big");
    fake_expect(&h, pl);
    fake_reply(&h, big, XENSTORE_PAYLOAD_MAX);
    pump();
    const char *data;
    uint32_t len;
    ck_assert_int_eq(xf_xenbus_req_reply(xb, id, &data, &len), XENSTORE_PAYLOAD_MAX);
    ck_assert_int_eq(memcmp(data, big, XENSTORE_PAYLOAD_MAX), 0);
    xf_xenbus_req_release(xb, id);
    ck_assert_int_eq(xf_xenbus_status(xb), 0);
}
END_TEST

START_TEST(test_error_strings)
{
    /* Every entry of xs_wire.h's own table (libc numbering = Xen's). */
    for (size_t i = 0; i < sizeof(xsd_errors) / sizeof(xsd_errors[0]); i++)
        ck_assert_int_eq(xf_xenbus_error_from_string(xsd_errors[i].errstring,
                                                     strlen(xsd_errors[i].errstring) + 1),
                         -xsd_errors[i].errnum);
    ck_assert_int_eq(xf_xenbus_error_from_string("ENOPE", 6), -XF_EIO);
    ck_assert_int_eq(xf_xenbus_error_from_string("EINVALX", 7), -XF_EIO);
    ck_assert_int_eq(xf_xenbus_error_from_string("EINV", 4), -XF_EIO);

    /* Through the wire: XS_ERROR answers, and an unterminated one fails
     * only its request. */
    struct xsd_sockmsg h;
    uint32_t a = submit_read("a"), b = submit_read("b"), c = submit_read("c");
    fake_expect(&h, pl);
    fake_error(&h, "ENOENT");
    fake_expect(&h, pl);
    fake_send(XS_ERROR, h.req_id, "EACCES", 6);   /* no NUL */
    fake_expect(&h, pl);
    fake_error(&h, "EWHAT");
    pump();
    ck_assert_int_eq(xf_xenbus_req_reply(xb, a, NULL, NULL), -XF_ENOENT);
    ck_assert_int_eq(xf_xenbus_req_reply(xb, b, NULL, NULL), -XF_EPROTO);
    ck_assert_int_eq(xf_xenbus_req_reply(xb, c, NULL, NULL), -XF_EIO);
    ck_assert_int_eq(xf_xenbus_status(xb), 0);
}
END_TEST

/* ------------------------------------------------------------------------
 * Hostile framing: each breaks the connection, fails what is outstanding
 * with -XF_EPROTO, and exposes nothing.
 */
static void expect_broken(uint32_t victim)
{
    const char *data = "x";
    uint32_t len = 7, id;

    pump();
    ck_assert_int_eq(xf_xenbus_status(xb), -XF_EPROTO);
    ck_assert_int_eq(xf_xenbus_req_reply(xb, victim, &data, &len), -XF_EPROTO);
    ck_assert_ptr_null(data);
    ck_assert_uint_eq(len, 0);
    struct xf_xenbus_iov iov = { "a", 2 };
    ck_assert_int_eq(xf_xenbus_submit(xb, XS_READ, 0, &iov, 1, NULL, NULL, &id), -XF_EPROTO);
    char buf[8];
    ck_assert_int_eq(xf_xenbus_read(xb, 0, "a", buf, sizeof(buf), NULL, 0), -XF_EPROTO);
}

START_TEST(test_hostile_len_too_big)
{
    struct xsd_sockmsg h;
    uint32_t victim = submit_read("v"), id = submit_read("a");
    (void)id;
    fake_expect(&h, pl);
    fake_expect(&h, pl);
    struct xsd_sockmsg bad = { .type = XS_READ, .req_id = h.req_id, .len = XENSTORE_PAYLOAD_MAX + 1 };
    fake_raw(&bad, sizeof(bad));
    fake_raw(pl, 64);
    expect_broken(victim);
}
END_TEST

START_TEST(test_hostile_unknown_id)
{
    struct xsd_sockmsg h;
    uint32_t victim = submit_read("v");
    fake_expect(&h, pl);
    fake_send(XS_READ, h.req_id ^ 0x100, "secret", 6);
    expect_broken(victim);
}
END_TEST

START_TEST(test_hostile_wrong_type)
{
    struct xsd_sockmsg h;
    uint32_t victim = submit_read("v");
    fake_expect(&h, pl);
    fake_send(XS_DIRECTORY, h.req_id, "a\0b", 4);
    expect_broken(victim);
}
END_TEST

START_TEST(test_hostile_duplicate_reply)
{
    struct xsd_sockmsg h, h2;
    uint32_t first = submit_read("first"), victim = submit_read("v");
    const char *data;
    uint32_t len;

    fake_expect(&h, pl);
    fake_expect(&h2, pl);
    fake_reply(&h, "one", 3);
    pump();
    ck_assert_int_eq(xf_xenbus_req_reply(xb, first, &data, &len), 3);
    fake_reply(&h, "two", 3);           /* the same req_id again */
    expect_broken(victim);
    /* The completed request keeps its own, first reply. */
    ck_assert_int_eq(xf_xenbus_req_reply(xb, first, &data, &len), 3);
    ck_assert_str_eq(data, "one");
}
END_TEST

START_TEST(test_hostile_reply_before_sent)
{
    /* A reply to a request still being streamed out is not a reply. */
    static char big[3000];
    struct xf_xenbus_iov iov[2] = { { "data/big", 9 }, { big, sizeof(big) } };
    uint32_t id;

    ck_assert_int_eq(xf_xenbus_submit(xb, XS_WRITE, 0, iov, 2, NULL, NULL, &id), 0);
    /* Only the first 1 KiB is in the ring; the request is not fully sent. */
    fake_send(XS_WRITE, id, "OK", 3);
    expect_broken(id);
}
END_TEST

START_TEST(test_hostile_rsp_prod_jump)
{
    struct xsd_sockmsg h;
    uint32_t victim = submit_read("v");

    fake_expect(&h, pl);
    fk->intf->rsp_prod = fk->intf->rsp_cons + XENSTORE_RING_SIZE + 1;
    xf_sim_evtchn_send(sim, 0, fk->port);
    xf_xenbus_process(xb);
    expect_broken(victim);
}
END_TEST

START_TEST(test_hostile_req_cons_bogus)
{
    uint32_t victim;

    fk->intf->req_cons = fk->intf->req_prod + 100;   /* consumed the future */
    victim = submit_read("v");
    expect_broken(victim);
}
END_TEST

START_TEST(test_hostile_malformed_event)
{
    uint32_t victim = submit_read("v");

    fake_send(XS_WATCH_EVENT, 0, "path-without-token", 18);
    expect_broken(victim);
}
END_TEST

/* ------------------------------------------------------------------------
 * A silent server: deadlines, cancellation, late replies.
 */
START_TEST(test_silent_server_deadline)
{
    char buf[16];
    uint64_t t0 = xf_plat_now_ns();
    struct xsd_sockmsg h;

    ck_assert_int_eq(xf_xenbus_read(xb, 0, "data/x", buf, sizeof(buf), NULL, SOON(200)),
                     -XF_ETIMEDOUT);
    ck_assert_uint_ge(xf_plat_now_ns() - t0, 200 * MS_NS);
    ck_assert_uint_lt(xf_plat_now_ns() - t0, 3 * SEC_NS);
    /* The abandoned request keeps its slot until its reply... */
    ck_assert_uint_eq(xf_xenbus_outstanding(xb), 1);
    fake_expect(&h, pl);
    /* ...which, when it finally comes, is discarded, not a violation. */
    fake_reply(&h, "late", 4);
    pump();
    ck_assert_int_eq(xf_xenbus_status(xb), 0);
    ck_assert_uint_eq(xf_xenbus_outstanding(xb), 0);
    /* Async: wait with a deadline, then cancel. */
    uint32_t id = submit_read("data/y");
    ck_assert_int_eq(xf_xenbus_req_wait(xb, id, SOON(50)), -XF_ETIMEDOUT);
    ck_assert_int_eq(xf_xenbus_req_done(xb, id), 0);
    ck_assert_int_eq(xf_xenbus_req_cancel(xb, id), 0);
    ck_assert_int_eq(xf_xenbus_req_done(xb, id), -XF_EINVAL);
}
END_TEST

START_TEST(test_cancel_unsent)
{
    /* A request never started is dropped from the queue entirely: the
     * server never sees it, and the one behind it goes out intact. */
    static char big[3000];
    struct xf_xenbus_iov iov[2] = { { "data/big", 9 }, { big, sizeof(big) } };
    struct xsd_sockmsg h;
    uint32_t a, b, c;

    ck_assert_int_eq(xf_xenbus_submit(xb, XS_WRITE, 0, iov, 2, NULL, NULL, &a), 0);
    b = submit_read("dropped");
    c = submit_read("kept");
    ck_assert_int_eq(xf_xenbus_req_cancel(xb, b), 0);
    ck_assert_int_eq(xf_xenbus_req_cancel(xb, a), 0);    /* partly sent: completes */
    fake_expect(&h, pl);
    ck_assert_uint_eq(h.req_id, a);
    fake_reply(&h, "OK", 3);
    fake_expect(&h, pl);
    ck_assert_uint_eq(h.req_id, c);
    ck_assert_str_eq(pl, "kept");
    fake_reply(&h, "v", 1);
    pump();
    ck_assert_int_eq(xf_xenbus_req_reply(xb, c, NULL, NULL), 1);
    xf_xenbus_req_release(xb, c);
    ck_assert_uint_eq(xf_xenbus_outstanding(xb), 0);
    ck_assert_uint_eq(fk->in_len, 0);
}
END_TEST

static int cb_calls;
static uint32_t cb_id;

static void on_done(struct xf_xenbus *x, uint32_t id, void *arg)
{
    ck_assert_ptr_eq(x, xb);
    ck_assert_ptr_eq(arg, &cb_calls);
    cb_calls++;
    cb_id = id;
    /* From the handler: read and release. */
    ck_assert_int_eq(xf_xenbus_req_reply(x, id, NULL, NULL), 2);
    ck_assert_int_eq(xf_xenbus_req_release(x, id), 0);
}

START_TEST(test_callback_from_event_handler)
{
    /* The reply is taken by the store port's event handler (an upcall in
     * xf_plat_wait), which runs the completion callback. */
    struct xf_xenbus_iov iov = { "k", 2 };
    struct xsd_sockmsg h;
    uint32_t id;

    ck_assert_int_eq(xf_xenbus_submit(xb, XS_READ, 0, &iov, 1, on_done, &cb_calls, &id), 0);
    fake_expect(&h, pl);
    fake_reply(&h, "hi", 2);
    fake_pump();
    for (int k = 0; k < 100 && cb_calls == 0; k++)
        xf_plat_wait(SOON(20));
    ck_assert_int_eq(cb_calls, 1);
    ck_assert_uint_eq(cb_id, id);
    ck_assert_uint_eq(xf_xenbus_outstanding(xb), 0);
}
END_TEST

/* ------------------------------------------------------------------------
 * Watches against a threaded script.
 */
static void script_watch_overflow(void)
{
    struct xsd_sockmsg h;
    char p[XENSTORE_PAYLOAD_MAX + 1];

    fake_expect_t(&h, p);
    ck_assert_uint_eq(h.type, XS_WATCH);
    ck_assert_str_eq(p, "backend");
    ck_assert_str_eq(p + strlen(p) + 1, "tok");
    /* Initial event before the reply, as a server may. */
    fake_event("backend", "tok");
    fake_reply(&h, "OK", 3);
    for (int i = 0; i < 10; i++) {
        char path[32];
        snprintf(path, sizeof(path), "backend/n%d", i);
        fake_event(path, "tok");
    }
    fake_event("backend/other", "nobody");   /* unknown token: dropped */
    fake_expect_t(&h, p);
    ck_assert_uint_eq(h.type, XS_READ);
    fake_reply(&h, "sync", 4);
    fake_expect_t(&h, p);
    fake_event("backend/after", "tok");
    fake_reply(&h, "sync", 4);
}

START_TEST(test_watch_order_and_overflow)
{
    struct xf_xenbus_config cfg = { .watch_queue_events = 5 };
    struct xf_xenbus_watch *w;
    char buf[64];
    size_t len;
    unsigned flags;

    xf_xenbus_destroy(xb);
    xb_up(&cfg);
    fake_run(script_watch_overflow);
    ck_assert_int_eq(xf_xenbus_watch_add(xb, "backend", "tok", NULL, NULL, &w, SOON(5000)), 0);
    ck_assert_int_eq(xf_xenbus_read(xb, 0, "s", buf, sizeof(buf), NULL, SOON(5000)), 0);
    /* 11 events for 5 places: the first 5 in order, then one marker. */
    ck_assert_uint_eq(xf_xenbus_watch_pending(w), 6);
    ck_assert_int_eq(xf_xenbus_watch_next(xb, w, buf, sizeof(buf), &len, &flags), 1);
    ck_assert_str_eq(buf, "backend");
    ck_assert_uint_eq(flags, 0);
    for (int i = 0; i < 4; i++) {
        char path[32];
        snprintf(path, sizeof(path), "backend/n%d", i);
        ck_assert_int_eq(xf_xenbus_watch_next(xb, w, buf, sizeof(buf), &len, &flags), 1);
        ck_assert_str_eq(buf, path);
        ck_assert_uint_eq(len, strlen(path));
        ck_assert_uint_eq(flags, 0);
    }
    /* Too small a buffer keeps the event. */
    ck_assert_int_eq(xf_xenbus_watch_next(xb, w, buf, 3, &len, &flags), -XF_ENOBUFS);
    ck_assert_int_eq(xf_xenbus_watch_next(xb, w, buf, sizeof(buf), &len, &flags), 1);
    ck_assert_uint_eq(flags, XF_XENBUS_EV_OVERFLOW);
    ck_assert_str_eq(buf, "backend");
    ck_assert_int_eq(xf_xenbus_watch_next(xb, w, buf, sizeof(buf), &len, &flags), 0);
    /* After the marker is read, events queue again. */
    ck_assert_int_eq(xf_xenbus_read(xb, 0, "s", buf, sizeof(buf), NULL, SOON(5000)), 0);
    ck_assert_int_eq(xf_xenbus_watch_next(xb, w, buf, sizeof(buf), &len, &flags), 1);
    ck_assert_str_eq(buf, "backend/after");
    ck_assert_uint_eq(flags, 0);
    fake_join();
}
END_TEST

static void script_reconnect(void)
{
    struct xsd_sockmsg h;
    char p[XENSTORE_PAYLOAD_MAX + 1];
    volatile struct xenstore_domain_interface *i = fk->intf;

    fake_expect_t(&h, p);
    ck_assert_uint_eq(h.type, XS_WATCH);
    fake_reply(&h, "OK", 3);
    fake_expect_t(&h, p);                  /* a READ left unanswered */
    ck_assert_uint_eq(h.type, XS_READ);
    uint64_t end = SOON(5000);
    while (__atomic_load_n(&i->connection, __ATOMIC_ACQUIRE) != XENSTORE_RECONNECT) {
        ck_assert_uint_lt(xf_plat_now_ns(), end);
        xf_sim_evtchn_wait(sim, 0, fk->port, SOON(20));
    }
    /* Reset at indices that are not zero. */
    fk->in_len = fk->out_len = 0;
    i->req_cons = i->req_prod = 0x7ffffe00u;
    i->rsp_cons = i->rsp_prod = 0xfffffe80u;    /* will wrap past 2^32 */
    __atomic_store_n(&i->connection, XENSTORE_CONNECTED, __ATOMIC_RELEASE);
    xf_sim_evtchn_send(sim, 0, fk->port);
    fake_expect_t(&h, p);
    ck_assert_uint_eq(h.type, XS_WATCH);       /* registered again */
    ck_assert_str_eq(p, "device");
    fake_event("device", "w");
    fake_reply(&h, "OK", 3);
    fake_expect_t(&h, p);
    ck_assert_str_eq(p, "again");
    static char v[2000];
    memset(v, 'z', sizeof(v));
    fake_reply(&h, v, sizeof(v));
}

START_TEST(test_reconnect)
{
    struct xf_xenbus_watch *w;
    char buf[2100];
    size_t len;
    unsigned flags;

    fk->intf->server_features = XENSTORE_SERVER_FEATURE_RECONNECTION;
    fake_run(script_reconnect);
    ck_assert_int_eq(xf_xenbus_watch_add(xb, "device", "w", NULL, NULL, &w, SOON(5000)), 0);
    uint32_t lost = submit_read("lost");
    ck_assert_int_eq(xf_xenbus_reconnect(xb, SOON(5000)), 0);
    ck_assert_int_eq(xf_xenbus_req_reply(xb, lost, NULL, NULL), -XF_EIO);
    xf_xenbus_req_release(xb, lost);
    ck_assert_int_eq(xf_xenbus_read(xb, 0, "again", buf, sizeof(buf), &len, SOON(5000)), 0);
    ck_assert_uint_eq(len, 2000);
    ck_assert_int_eq(buf[1999], 'z');
    ck_assert_int_eq(xf_xenbus_watch_next(xb, w, buf, sizeof(buf), &len, &flags), 1);
    ck_assert_str_eq(buf, "device");
    ck_assert_int_eq(xf_xenbus_status(xb), 0);
    fake_join();
}
END_TEST

START_TEST(test_reconnect_unsupported)
{
    ck_assert_int_eq(xf_xenbus_reconnect(xb, SOON(100)), -XF_EOPNOTSUPP);
}
END_TEST

START_TEST(test_reconnect_recovers_broken)
{
    struct xsd_sockmsg h;
    uint32_t victim = submit_read("v");

    fk->intf->server_features = XENSTORE_SERVER_FEATURE_RECONNECTION;
    fake_expect(&h, pl);
    fake_send(XS_READ, 0x12345, "x", 1);
    expect_broken(victim);
    /* The server resets; the client comes back. */
    xf_xenbus_req_release(xb, victim);
    fk->intf->connection = XENSTORE_CONNECTED;
    ck_assert_int_eq(xf_xenbus_reconnect(xb, SOON(200)), -XF_ETIMEDOUT);  /* nobody resets */
    fk->in_len = fk->out_len = 0;
    fk->intf->req_cons = fk->intf->req_prod;
    fk->intf->rsp_prod = fk->intf->rsp_cons;
    fk->intf->connection = XENSTORE_CONNECTED;
    xf_xenbus_process(xb);
    ck_assert_int_eq(xf_xenbus_status(xb), 0);
    uint32_t id = submit_read("ok");
    fake_expect(&h, pl);
    fake_reply(&h, "fine", 4);
    pump();
    ck_assert_int_eq(xf_xenbus_req_reply(xb, id, NULL, NULL), 4);
}
END_TEST

START_TEST(test_bad_arguments)
{
    char buf[8];
    uint32_t id;
    struct xf_xenbus_iov iov = { "a", 2 };

    ck_assert_int_eq(xf_xenbus_submit(xb, XS_WATCH, 0, &iov, 1, NULL, NULL, &id), -XF_EINVAL);
    ck_assert_int_eq(xf_xenbus_submit(xb, XS_TYPE_COUNT, 0, &iov, 1, NULL, NULL, &id),
                     -XF_EINVAL);
    ck_assert_int_eq(xf_xenbus_read(xb, 0, "", buf, sizeof(buf), NULL, 0), -XF_EINVAL);
    ck_assert_int_eq(xf_xenbus_read(xb, 0, NULL, buf, sizeof(buf), NULL, 0), -XF_EINVAL);
    ck_assert_int_eq(xf_xenbus_req_done(xb, 12345), -XF_EINVAL);
    ck_assert_int_eq(xf_xenbus_req_release(xb, 0), -XF_EINVAL);
    const char *bad[] = { "x0" };
    ck_assert_int_eq(xf_xenbus_set_perms(xb, 0, "a", bad, 1, 0), -XF_EINVAL);
    const char *bad2[] = { "r70000" };
    ck_assert_int_eq(xf_xenbus_set_perms(xb, 0, "a", bad2, 1, 0), -XF_EINVAL);
    struct xf_xenbus_watch *w;
    ck_assert_int_eq(xf_xenbus_watch_add(xb, "a", "", NULL, NULL, &w, 0), -XF_EINVAL);
    ck_assert_int_eq(xf_xenbus_watch_next(xb, NULL, buf, sizeof(buf), NULL, NULL), -XF_EINVAL);
    ck_assert_int_eq(xf_xenbus_create_ring(NULL, NULL, ec, store_va, store_port), -XF_EINVAL);
    ck_assert_uint_eq(fk->in_len, 0);
    pump();
    ck_assert_uint_eq(fk->in_len, 0);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("xenbus-core");
    TCase *tc = tcase_create("core");

    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 20);
    tcase_add_test(tc, test_pipelined_out_of_order);
    tcase_add_test(tc, test_payload_limit);
    tcase_add_test(tc, test_error_strings);
    tcase_add_test(tc, test_hostile_len_too_big);
    tcase_add_test(tc, test_hostile_unknown_id);
    tcase_add_test(tc, test_hostile_wrong_type);
    tcase_add_test(tc, test_hostile_duplicate_reply);
    tcase_add_test(tc, test_hostile_reply_before_sent);
    tcase_add_test(tc, test_hostile_rsp_prod_jump);
    tcase_add_test(tc, test_hostile_req_cons_bogus);
    tcase_add_test(tc, test_hostile_malformed_event);
    tcase_add_test(tc, test_silent_server_deadline);
    tcase_add_test(tc, test_cancel_unsent);
    tcase_add_test(tc, test_callback_from_event_handler);
    tcase_add_test(tc, test_watch_order_and_overflow);
    tcase_add_test(tc, test_reconnect);
    tcase_add_test(tc, test_reconnect_unsupported);
    tcase_add_test(tc, test_reconnect_recovers_broken);
    tcase_add_test(tc, test_bad_arguments);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return xf_check_run(suite());
}
