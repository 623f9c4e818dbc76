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
    /* oxenstored's quota error is a quota error, not "unknown". */
    ck_assert_int_eq(xf_xenbus_error_from_string("EQUOTA", 7), -XF_ENOSPC);

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
    ck_assert_int_eq(xf_xenbus_req_done(xb, id), -XF_ESRCH);
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
    ck_assert_int_eq(xf_xenbus_req_reply(xb, lost, NULL, NULL), -XF_ECONNRESET);
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

/* ------------------------------------------------------------------------
 * Liveness (issue 13): local codes apart from the server's, bounded
 * processing, resets the server starts, a dead link, watch identity.
 */
START_TEST(test_codes_distinct)
{
    /* A server answering EBUSY or EINVAL is a completed request with that
     * result; "not completed" and "no such request" are other codes. */
    struct xsd_sockmsg h;
    uint32_t a = submit_read("a"), b = submit_read("b");

    ck_assert_int_eq(xf_xenbus_req_reply(xb, a, NULL, NULL), -XF_ENODATA);
    ck_assert_int_eq(xf_xenbus_req_release(xb, a), -XF_ENODATA);
    fake_expect(&h, pl);
    fake_error(&h, "EBUSY");
    fake_expect(&h, pl);
    fake_error(&h, "EINVAL");
    pump();
    ck_assert_int_eq(xf_xenbus_req_done(xb, a), 1);
    ck_assert_int_eq(xf_xenbus_req_reply(xb, a, NULL, NULL), -XF_EBUSY);
    ck_assert_int_eq(xf_xenbus_req_reply(xb, b, NULL, NULL), -XF_EINVAL);
    ck_assert_int_eq(xf_xenbus_req_release(xb, a), 0);
    ck_assert_int_eq(xf_xenbus_req_release(xb, b), 0);
    ck_assert_int_eq(xf_xenbus_req_reply(xb, a, NULL, NULL), -XF_ESRCH);
    ck_assert_int_eq(xf_xenbus_req_release(xb, b), -XF_ESRCH);
    ck_assert_int_eq(xf_xenbus_req_cancel(xb, b), -XF_ESRCH);
    ck_assert_int_eq(xf_xenbus_req_wait(xb, b, SOON(10)), -XF_ESRCH);
    /* oxenstored's quota error through the wire. */
    uint32_t c = submit_read("c");
    fake_expect(&h, pl);
    fake_error(&h, "EQUOTA");
    pump();
    ck_assert_int_eq(xf_xenbus_req_reply(xb, c, NULL, NULL), -XF_ENOSPC);
    ck_assert_int_eq(xf_xenbus_status(xb), 0);
}
END_TEST

START_TEST(test_budget_bounds_and_rearms)
{
    /* 12 events then the reply, all in the ring under one notification.
     * One process call takes 4 (the budget); the store port's handler,
     * called once by one upcall, raises its event again until all is in,
     * without another notification from the server. */
    struct xf_xenbus_config cfg = { .process_budget = 4 };
    struct xf_xenbus_iov iov = { "k", 2 };
    struct xsd_sockmsg h;
    uint32_t id;

    xf_xenbus_destroy(xb);
    xb_up(&cfg);
    ck_assert_int_eq(xf_xenbus_submit(xb, XS_READ, 0, &iov, 1, on_done, &cb_calls, &id), 0);
    fake_expect(&h, pl);
    for (int i = 0; i < 12; i++)
        fake_event("/x", "nobody");
    fake_reply(&h, "hi", 2);
    fake_pump();
    ck_assert_uint_eq(fk->out_len, 0);
    ck_assert_int_eq(xf_xenbus_process(xb), 0);
    ck_assert_int_eq(cb_calls, 0);
    ck_assert_int_eq(xf_xenbus_req_done(xb, id), 0);
    xf_plat_wait(SOON(1000));
    ck_assert_int_eq(cb_calls, 1);
    ck_assert_uint_eq(cb_id, id);
    ck_assert_uint_eq(xf_xenbus_outstanding(xb), 0);
}
END_TEST

static void script_watch_ok(void)
{
    struct xsd_sockmsg h;
    char p[XENSTORE_PAYLOAD_MAX + 1];

    fake_expect_t(&h, p);
    ck_assert_uint_eq(h.type, XS_WATCH);
    fake_reply(&h, "OK", 3);
}

/* Take the two requests the context sends after a reset, whatever their
 * order: the watch's registration and a READ. */
static void expect_rewatch_and_read(struct xsd_sockmsg *watch, struct xsd_sockmsg *read)
{
    struct xsd_sockmsg h;

    for (int n = 0; n < 2; n++) {
        fake_expect(&h, pl);
        if (h.type == XS_WATCH) {
            ck_assert_str_eq(pl, "device");
            ck_assert_str_eq(pl + strlen(pl) + 1, "w");
            *watch = h;
        } else {
            ck_assert_uint_eq(h.type, XS_READ);
            ck_assert_str_eq(pl, "after");
            *read = h;
        }
    }
}

START_TEST(test_server_reset_seen)
{
    /* The server sets connection to RECONNECT on its own, mid-reply, and
     * later back to CONNECTED at indices of its choosing. */
    volatile struct xenstore_domain_interface *i = fk->intf;
    struct xf_xenbus_watch *w;
    struct xsd_sockmsg h, hw = { 0 }, hr = { 0 };
    char buf[64];
    unsigned flags;

    i->server_features = XENSTORE_SERVER_FEATURE_RECONNECTION;
    fake_run(script_watch_ok);
    ck_assert_int_eq(xf_xenbus_watch_add(xb, "device", "w", NULL, NULL, &w, SOON(5000)), 0);
    fake_join();
    uint32_t id = submit_read("inflight");
    fake_expect(&h, pl);
    struct xsd_sockmsg part = { .type = XS_READ, .req_id = h.req_id, .len = 100 };
    fake_raw(&part, 8);                 /* half a header */
    fake_pump();
    xf_xenbus_process(xb);
    ck_assert_int_eq(xf_xenbus_req_done(xb, id), 0);

    i->connection = XENSTORE_RECONNECT;
    xf_sim_evtchn_send(sim, 0, fk->port);
    xf_xenbus_process(xb);
    ck_assert_int_eq(xf_xenbus_status(xb), -XF_ENOTCONN);
    ck_assert_int_eq(xf_xenbus_req_reply(xb, id, NULL, NULL), -XF_ECONNRESET);
    ck_assert_uint_eq(xf_xenbus_resets(xb), 1);
    uint32_t id2 = submit_read("after");         /* waits for the reset */

    fk->in_len = fk->out_len = 0;
    i->req_cons = i->req_prod = 0x40000000u;
    i->rsp_cons = i->rsp_prod = 0x80000000u;
    i->connection = XENSTORE_CONNECTED;
    xf_sim_evtchn_send(sim, 0, fk->port);
    expect_rewatch_and_read(&hw, &hr);
    ck_assert_int_eq(xf_xenbus_status(xb), -XF_ENOTCONN);   /* watch not back yet */
    fake_reply(&hw, "OK", 3);
    fake_reply(&hr, "v", 1);
    pump();
    ck_assert_int_eq(xf_xenbus_status(xb), 0);
    ck_assert_int_eq(xf_xenbus_req_reply(xb, id2, NULL, NULL), 1);
    /* The watch says events were lost. */
    ck_assert_int_eq(xf_xenbus_watch_next(xb, w, buf, sizeof(buf), NULL, &flags), 1);
    ck_assert_uint_eq(flags, XF_XENBUS_EV_OVERFLOW);
    ck_assert_str_eq(buf, "device");
    ck_assert_uint_eq(xf_xenbus_resets(xb), 1);
}
END_TEST

START_TEST(test_server_reset_unseen)
{
    /* The whole reset happens between two looks of ours: connection is
     * back at CONNECTED, but the indices only we write were rewritten. */
    volatile struct xenstore_domain_interface *i = fk->intf;
    struct xsd_sockmsg h;

    i->server_features = XENSTORE_SERVER_FEATURE_RECONNECTION;
    uint32_t id = submit_read("inflight");
    fake_expect(&h, pl);
    struct xsd_sockmsg part = { .type = XS_READ, .req_id = h.req_id, .len = 100 };
    fake_raw(&part, sizeof(part));
    fake_raw(pl, 10);                   /* a header and part of the payload */
    fake_pump();
    xf_xenbus_process(xb);
    ck_assert_int_eq(xf_xenbus_req_done(xb, id), 0);

    fk->in_len = fk->out_len = 0;
    i->req_cons = i->req_prod = 0x1000u;
    i->rsp_cons = i->rsp_prod = 0x2000u;
    xf_sim_evtchn_send(sim, 0, fk->port);
    xf_xenbus_process(xb);
    ck_assert_int_eq(xf_xenbus_req_reply(xb, id, NULL, NULL), -XF_ECONNRESET);
    ck_assert_uint_eq(xf_xenbus_resets(xb), 1);
    ck_assert_int_eq(xf_xenbus_status(xb), 0);
    /* The streams start again at a message boundary. */
    uint32_t id2 = submit_read("fresh");
    fake_expect(&h, pl);
    ck_assert_str_eq(pl, "fresh");
    fake_reply(&h, "ok", 2);
    pump();
    ck_assert_int_eq(xf_xenbus_req_reply(xb, id2, NULL, NULL), 2);
    ck_assert_int_eq(xf_xenbus_status(xb), 0);
}
END_TEST

START_TEST(test_server_reset_keeps_unsent)
{
    /* At the reset one request is in the ring and two are queued behind
     * it (the ring is full), the queue wrapping round its array: the sent
     * one is lost, the other two go out after the reset, once each, in
     * order. */
    struct xf_xenbus_config cfg = { .max_outstanding = 4 };
    volatile struct xenstore_domain_interface *i = fk->intf;
    static char v[1001];
    struct xsd_sockmsg h;
    uint32_t w, b, c;

    xf_xenbus_destroy(xb);
    xb_up(&cfg);
    i->server_features = XENSTORE_SERVER_FEATURE_RECONNECTION;
    for (int n = 0; n < 2; n++) {
        uint32_t id = submit_read("r");
        fake_expect(&h, pl);
        fake_reply(&h, "x", 1);
        pump();
        ck_assert_int_eq(xf_xenbus_req_release(xb, id), 0);
    }
    memset(v, 'w', sizeof(v));
    struct xf_xenbus_iov iov[2] = { { "data/w", 7 }, { v, sizeof(v) } };
    ck_assert_int_eq(xf_xenbus_submit(xb, XS_WRITE, 0, iov, 2, NULL, NULL, &w), 0);
    ck_assert_uint_eq(i->req_prod - i->req_cons, XENSTORE_RING_SIZE);   /* exactly full */
    b = submit_read("b");
    c = submit_read("c");

    fk->in_len = fk->out_len = 0;
    i->req_cons = i->req_prod = 0x3000u;
    i->rsp_cons = i->rsp_prod = 0x3000u;
    xf_sim_evtchn_send(sim, 0, fk->port);
    xf_xenbus_process(xb);
    ck_assert_int_eq(xf_xenbus_req_reply(xb, w, NULL, NULL), -XF_ECONNRESET);
    ck_assert_int_eq(xf_xenbus_req_done(xb, b), 0);
    ck_assert_int_eq(xf_xenbus_req_done(xb, c), 0);
    fake_expect(&h, pl);
    ck_assert_str_eq(pl, "b");
    fake_reply(&h, "B", 1);
    fake_expect(&h, pl);
    ck_assert_str_eq(pl, "c");
    fake_reply(&h, "C", 1);
    pump();
    ck_assert_uint_eq(fk->in_len, 0);
    const char *data;
    ck_assert_int_eq(xf_xenbus_req_reply(xb, b, &data, NULL), 1);
    ck_assert_str_eq(data, "B");
    ck_assert_int_eq(xf_xenbus_req_reply(xb, c, &data, NULL), 1);
    ck_assert_str_eq(data, "C");
    ck_assert_uint_eq(xf_xenbus_resets(xb), 1);
}
END_TEST

START_TEST(test_dead_link)
{
    /* A silent server: every read times out, none for want of a slot, and
     * after three the status says the link is dead, until it speaks. */
    struct xf_xenbus_config cfg = { .max_outstanding = 2 };
    struct xsd_sockmsg h[5];
    char buf[16], path[16];

    xf_xenbus_destroy(xb);
    xb_up(&cfg);
    for (int n = 0; n < 5; n++) {
        snprintf(path, sizeof(path), "data/%d", n);
        ck_assert_int_eq(xf_xenbus_read(xb, 0, path, buf, sizeof(buf), NULL, SOON(30)),
                         -XF_ETIMEDOUT);
        ck_assert_int_eq(xf_xenbus_status(xb), n >= 2 ? -XF_ETIMEDOUT : 0);
    }
    /* Remembered by id, 2 per slot: the oldest was forgotten. */
    ck_assert_uint_eq(xf_xenbus_outstanding(xb), 4);
    for (int n = 0; n < 5; n++)
        fake_expect(&h[n], pl);
    for (int n = 1; n < 5; n++)
        fake_reply(&h[n], "late", 4);
    pump();
    ck_assert_int_eq(xf_xenbus_status(xb), 0);
    ck_assert_uint_eq(xf_xenbus_outstanding(xb), 0);
}
END_TEST

static int wcb_calls;
static struct xf_xenbus_watch *wcb_w;

static void wcb(struct xf_xenbus *x, struct xf_xenbus_watch *w, void *arg)
{
    (void)x;
    (void)arg;
    wcb_calls++;
    wcb_w = w;
}

static void script_watch_refused_then_ok(void)
{
    struct xsd_sockmsg h;
    char p[XENSTORE_PAYLOAD_MAX + 1];

    fake_expect_t(&h, p);
    ck_assert_uint_eq(h.type, XS_WATCH);
    fake_event("data/a", "t");          /* the initial event, before the reply */
    fake_error(&h, "EACCES");
    fake_expect_t(&h, p);
    ck_assert_uint_eq(h.type, XS_WATCH);
    fake_event("data/a", "t");
    fake_reply(&h, "OK", 3);
}

START_TEST(test_watch_cb_only_once_registered)
{
    /* A watch the server refuses is freed without its callback ever having
     * seen it; one it accepts gets its callback for the initial event. */
    struct xf_xenbus_watch *w;

    fake_run(script_watch_refused_then_ok);
    ck_assert_int_eq(xf_xenbus_watch_add(xb, "data/a", "t", wcb, NULL, &w, SOON(5000)),
                     -XF_EACCES);
    ck_assert_int_eq(wcb_calls, 0);
    ck_assert_uint_eq(xf_xenbus_watch_count(xb), 0);
    ck_assert_int_eq(xf_xenbus_watch_add(xb, "data/a", "t", wcb, NULL, &w, SOON(5000)), 0);
    ck_assert_int_eq(wcb_calls, 1);
    ck_assert_ptr_eq(wcb_w, w);
    ck_assert_uint_eq(xf_xenbus_watch_pending(w), 1);
    fake_join();
}
END_TEST

static void script_stale_events(void)
{
    struct xsd_sockmsg h, unw;
    char p[XENSTORE_PAYLOAD_MAX + 1];

    fake_expect_t(&h, p);
    ck_assert_uint_eq(h.type, XS_WATCH);
    fake_reply(&h, "OK", 3);
    fake_expect_t(&unw, p);
    ck_assert_uint_eq(unw.type, XS_UNWATCH);     /* not answered in time */
    fake_expect_t(&h, p);
    ck_assert_uint_eq(h.type, XS_WATCH);         /* the new watch, same token */
    fake_event("a/stale", "tok");               /* the old registration's */
    fake_reply(&unw, "OK", 3);
    fake_event("a", "tok");                     /* the new one's initial event */
    fake_event("elsewhere/x", "tok");           /* not below the watched path */
    fake_reply(&h, "OK", 3);
}

START_TEST(test_stale_events_not_for_new_watch)
{
    struct xf_xenbus_watch *w1, *w2;
    char buf[64];
    unsigned flags;

    fake_run(script_stale_events);
    ck_assert_int_eq(xf_xenbus_watch_add(xb, "a", "tok", NULL, NULL, &w1, SOON(5000)), 0);
    ck_assert_int_eq(xf_xenbus_watch_remove(xb, w1, SOON(100)), -XF_ETIMEDOUT);
    ck_assert_uint_eq(xf_xenbus_watch_count(xb), 0);
    ck_assert_int_eq(xf_xenbus_watch_add(xb, "a", "tok", NULL, NULL, &w2, SOON(5000)), 0);
    ck_assert_uint_eq(xf_xenbus_watch_pending(w2), 1);
    ck_assert_int_eq(xf_xenbus_watch_next(xb, w2, buf, sizeof(buf), NULL, &flags), 1);
    ck_assert_str_eq(buf, "a");
    ck_assert_uint_eq(flags, 0);
    fake_join();
    ck_assert_int_eq(xf_xenbus_status(xb), 0);
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
    ck_assert_int_eq(xf_xenbus_req_done(xb, 12345), -XF_ESRCH);
    ck_assert_int_eq(xf_xenbus_req_release(xb, 0), -XF_ESRCH);
    ck_assert_int_eq(xf_xenbus_req_done(NULL, 12345), -XF_EINVAL);
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
    tcase_add_test(tc, test_codes_distinct);
    tcase_add_test(tc, test_budget_bounds_and_rearms);
    tcase_add_test(tc, test_server_reset_seen);
    tcase_add_test(tc, test_server_reset_unseen);
    tcase_add_test(tc, test_server_reset_keeps_unsent);
    tcase_add_test(tc, test_dead_link);
    tcase_add_test(tc, test_watch_cb_only_once_registered);
    tcase_add_test(tc, test_stale_events_not_for_new_watch);
    tcase_add_test(tc, test_bad_arguments);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return xf_check_run(suite());
}
