/*
 * libxenbus against servers that never pause, through transports of the
 * test's own (<xenfront/xenbus_transport.h>), so that "at once" and "never
 * runs dry" are exact rather than a matter of thread timing:
 *  - an endless stream: recv() always has more (watch events for a token
 *    nobody registered), a reply only after a set number of them;
 *  - an instant store: send() answers each request before it returns, and
 *    its backend rewrites its state (firing the watch) before every read.
 * Processing must stay bounded and every helper must stop at its deadline.
 */
#include <xenfront/xenbus_transport.h>

#include "xb_test.h"

static void setup(void)
{
    sim_up();
}

static void teardown(void)
{
    sim_down();
}

/* ------------------------------------------------------------------------
 * Requests as the server sees them: the bytes the core sends, framed.
 */
struct inbox {
    unsigned char buf[2 * (XENSTORE_PAYLOAD_MAX + 16)];
    size_t len;
};

static long inbox_put(struct inbox *in, const void *p, size_t n)
{
    if (n > sizeof(in->buf) - in->len)
        n = sizeof(in->buf) - in->len;
    memcpy(in->buf + in->len, p, n);
    in->len += n;
    return (long)n;
}

/* One whole request out of the inbox, if there is one. */
static bool inbox_take(struct inbox *in, struct xsd_sockmsg *h, char *payload)
{
    if (in->len < sizeof(*h))
        return false;
    memcpy(h, in->buf, sizeof(*h));
    ck_assert_uint_le(h->len, XENSTORE_PAYLOAD_MAX);
    if (in->len < sizeof(*h) + h->len)
        return false;
    memcpy(payload, in->buf + sizeof(*h), h->len);
    payload[h->len] = '\0';
    in->len -= sizeof(*h) + h->len;
    memmove(in->buf, in->buf + sizeof(*h) + h->len, in->len);
    return true;
}

/* ------------------------------------------------------------------------
 * The endless stream.
 */
struct flood {
    struct inbox in;
    unsigned long events;          /* events streamed (whole or begun)     */
    unsigned long reply_after;     /* 0: never reply                       */
    bool have_req;
    struct xsd_sockmsg req;        /* the request to answer                */
    unsigned char cur[64];         /* the message being streamed           */
    size_t cur_len, cur_off;
    unsigned long waits;
};

static struct flood fl;

static long fl_send(void *t, const void *buf, size_t len)
{
    char p[XENSTORE_PAYLOAD_MAX + 1];

    (void)t;
    long n = inbox_put(&fl.in, buf, len);
    if (!fl.have_req && inbox_take(&fl.in, &fl.req, p))
        fl.have_req = true;
    return n;
}

/* The next message: the reply when due, else one more event. */
static void fl_next(void)
{
    struct xsd_sockmsg h = { 0 };
    static const char ev[] = "/flood\0nobody";

    if (fl.have_req && fl.reply_after != 0 && fl.events >= fl.reply_after) {
        h = (struct xsd_sockmsg){ .type = fl.req.type, .req_id = fl.req.req_id, .len = 2 };
        memcpy(fl.cur, &h, sizeof(h));
        memcpy(fl.cur + sizeof(h), "ok", 2);
        fl.cur_len = sizeof(h) + 2;
        fl.have_req = false;
        fl.reply_after = 0;
    } else {
        h.type = XS_WATCH_EVENT;
        h.len = sizeof(ev);
        memcpy(fl.cur, &h, sizeof(h));
        memcpy(fl.cur + sizeof(h), ev, sizeof(ev));
        fl.cur_len = sizeof(h) + sizeof(ev);
        fl.events++;
    }
    fl.cur_off = 0;
}

static long fl_recv(void *t, void *buf, size_t len)
{
    (void)t;
    if (fl.cur_off == fl.cur_len)
        fl_next();
    size_t n = fl.cur_len - fl.cur_off;
    if (n > len)
        n = len;
    memcpy(buf, fl.cur + fl.cur_off, n);
    fl.cur_off += n;
    return (long)n;          /* never 0: the stream never runs dry */
}

static int fl_status(void *t)
{
    (void)t;
    return XF_XENBUS_LINK_UP;
}

/* Data is always there, so a real transport's wait would return at once;
 * this one sleeps to the deadline, so that a helper that waits although
 * processing left work behind is seen to (and counted). */
static int fl_wait(void *t, uint64_t deadline_ns, bool want_send)
{
    (void)t;
    (void)want_send;
    fl.waits++;
    while (xf_plat_now_ns() < deadline_ns)
        ;
    return -XF_ETIMEDOUT;
}

static const struct xf_xenbus_transport_ops fl_ops = {
    .send = fl_send, .recv = fl_recv, .status = fl_status, .wait = fl_wait,
};

static struct xf_xenbus *flood_up(uint32_t budget)
{
    struct xf_xenbus_config cfg = { .process_budget = budget };
    struct xf_xenbus *x;

    memset(&fl, 0, sizeof(fl));
    ck_assert_int_eq(xf_xenbus_create_transport(&x, &cfg, &fl_ops, &fl), 0);
    return x;
}

START_TEST(test_endless_stream_process_returns)
{
    struct xf_xenbus *x = flood_up(16);

    /* Each call returns, having taken at most its budget. */
    for (int i = 1; i <= 3; i++) {
        ck_assert_int_eq(xf_xenbus_process(x), 0);
        ck_assert_uint_le(fl.events, 16u * (unsigned)i + 1);
        ck_assert_uint_ge(fl.events, 16u * (unsigned)i);
    }
    ck_assert_int_eq(xf_xenbus_status(x), 0);
    xf_xenbus_destroy(x);
}
END_TEST

START_TEST(test_endless_stream_helper_deadline)
{
    struct xf_xenbus *x = flood_up(0);
    char buf[16];
    uint64_t t0 = xf_plat_now_ns();

    /* Never answered: the deadline, not a hang. */
    ck_assert_int_eq(xf_xenbus_read(x, 0, "data/k", buf, sizeof(buf), NULL, SOON(200)),
                     -XF_ETIMEDOUT);
    ck_assert_uint_ge(xf_plat_now_ns() - t0, 200 * MS_NS);
    ck_assert_uint_lt(xf_plat_now_ns() - t0, 2 * SEC_NS);
    /* Events are a sign of life: not a dead link. */
    ck_assert_int_eq(xf_xenbus_status(x), 0);
    xf_xenbus_destroy(x);
}
END_TEST

START_TEST(test_endless_stream_reply_behind)
{
    /* The reply comes after 5000 events: reached across many process
     * calls, none of them waiting (the work was there all along). */
    struct xf_xenbus *x = flood_up(0);
    char buf[16];

    fl.reply_after = 5000;
    ck_assert_int_eq(xf_xenbus_read(x, 0, "data/k", buf, sizeof(buf), NULL, SOON(10000)), 0);
    ck_assert_str_eq(buf, "ok");
    ck_assert_uint_ge(fl.events, 5000);
    ck_assert_uint_eq(fl.waits, 0);
    xf_xenbus_destroy(x);
}
END_TEST

/* ------------------------------------------------------------------------
 * The instant store: one backend directory whose state node reads
 * InitWait, rewritten (its watch fired) before every read.
 */
#define BE "/local/domain/0/backend/vif/1/0"

struct instant {
    struct inbox in;
    unsigned char out[1 << 16];
    size_t out_len, out_off;
    char wpath[XENSTORE_ABS_PATH_MAX + 1], wtoken[XF_XENBUS_TOKEN_MAX + 1];
    bool watching;
    unsigned long reads;
};

static struct instant is;

static void is_msg(uint32_t type, uint32_t req_id, const void *p, uint32_t len)
{
    struct xsd_sockmsg h = { .type = type, .req_id = req_id, .len = len };

    ck_assert_uint_le(is.out_len + sizeof(h) + len, sizeof(is.out));
    memcpy(is.out + is.out_len, &h, sizeof(h));
    memcpy(is.out + is.out_len + sizeof(h), p, len);
    is.out_len += sizeof(h) + len;
}

static void is_event(void)
{
    char b[XENSTORE_ABS_PATH_MAX + XF_XENBUS_TOKEN_MAX + 2];
    size_t a = strlen(is.wpath) + 1, t = strlen(is.wtoken) + 1;

    memcpy(b, is.wpath, a);
    memcpy(b + a, is.wtoken, t);
    is_msg(XS_WATCH_EVENT, 0, b, (uint32_t)(a + t));
}

static long is_send(void *t, const void *buf, size_t len)
{
    struct xsd_sockmsg h;
    char p[XENSTORE_PAYLOAD_MAX + 1];

    (void)t;
    long n = inbox_put(&is.in, buf, len);
    while (inbox_take(&is.in, &h, p)) {
        switch (h.type) {
        case XS_WATCH:
            ck_assert_uint_lt(strlen(p), sizeof(is.wpath));
            ck_assert_uint_lt(strlen(p + strlen(p) + 1), sizeof(is.wtoken));
            memcpy(is.wpath, p, strlen(p) + 1);
            memcpy(is.wtoken, p + strlen(p) + 1, strlen(p + strlen(p) + 1) + 1);
            is.watching = true;
            is_msg(XS_WATCH, h.req_id, "OK", 3);
            is_event();                       /* the initial event */
            break;
        case XS_UNWATCH:
            is.watching = false;
            is_msg(XS_UNWATCH, h.req_id, "OK", 3);
            break;
        case XS_READ:
            is.reads++;
            /* The backend writes its state again (not the one awaited)
             * just before the read is served: the event comes first. */
            if (is.watching)
                is_event();
            if (strcmp(p, BE "/state") == 0)
                is_msg(XS_READ, h.req_id, "2", 1);
            else
                is_msg(XS_ERROR, h.req_id, "ENOENT", 7);
            break;
        default:
            is_msg(XS_ERROR, h.req_id, "ENOSYS", 7);
            break;
        }
    }
    return n;
}

static long is_recv(void *t, void *buf, size_t len)
{
    (void)t;
    size_t n = is.out_len - is.out_off;
    if (n > len)
        n = len;
    memcpy(buf, is.out + is.out_off, n);
    is.out_off += n;
    if (is.out_off == is.out_len)
        is.out_off = is.out_len = 0;
    return (long)n;
}

static int is_wait(void *t, uint64_t deadline_ns, bool want_send)
{
    (void)t;
    (void)deadline_ns;
    (void)want_send;
    return 0;            /* everything is always answered already */
}

static const struct xf_xenbus_transport_ops is_ops = {
    .send = is_send, .recv = is_recv, .status = fl_status, .wait = is_wait,
};

START_TEST(test_instant_rewriting_backend_deadline)
{
    struct xf_xenbus *x;
    struct xf_xenbus_dev dev;
    XenbusState s;
    uint64_t t0;

    memset(&is, 0, sizeof(is));
    ck_assert_int_eq(xf_xenbus_create_transport(&x, NULL, &is_ops, &is), 0);
    memset(&dev, 0, sizeof(dev));
    snprintf(dev.nodename, sizeof(dev.nodename), "device/vif/0");
    snprintf(dev.backend, sizeof(dev.backend), "%s", BE);
    t0 = xf_plat_now_ns();
    ck_assert_int_eq(xf_xenbus_dev_wait_backend(x, &dev,
                                                XF_XENBUS_STATE_BIT(XenbusStateConnected), &s,
                                                SOON(200)), -XF_ETIMEDOUT);
    ck_assert_uint_ge(xf_plat_now_ns() - t0, 200 * MS_NS);
    ck_assert_uint_lt(xf_plat_now_ns() - t0, 2 * SEC_NS);
    ck_assert_int_eq(s, XenbusStateInitWait);
    ck_assert_uint_gt(is.reads, 1);
    /* The library's watch is gone again, on both sides. */
    ck_assert_uint_eq(xf_xenbus_watch_count(x), 0);
    ck_assert(!is.watching);
    /* Past its deadline a helper starts nothing. */
    unsigned long before = is.reads;
    char buf[8];
    ck_assert_int_eq(xf_xenbus_read(x, 0, BE "/state", buf, sizeof(buf), NULL,
                                    xf_plat_now_ns() - 1), -XF_ETIMEDOUT);
    ck_assert_uint_eq(is.reads, before);
    xf_xenbus_destroy(x);
}
END_TEST

START_TEST(test_instant_watch_wait_deadline)
{
    /* A caller's loop over xf_xenbus_watch_wait() with one deadline ends
     * although an event is always queued. */
    struct xf_xenbus *x;
    struct xf_xenbus_watch *w;
    char buf[128];
    int rc, n = 0;

    memset(&is, 0, sizeof(is));
    ck_assert_int_eq(xf_xenbus_create_transport(&x, NULL, &is_ops, &is), 0);
    ck_assert_int_eq(xf_xenbus_watch_add(x, BE "/state", "mine", NULL, NULL, &w, SOON(1000)), 0);
    uint64_t dl = SOON(150);
    while ((rc = xf_xenbus_watch_wait(x, w, buf, sizeof(buf), NULL, NULL, dl)) == 1) {
        /* each read makes the backend fire again */
        ck_assert_int_eq(xf_xenbus_read(x, 0, BE "/state", buf, sizeof(buf), NULL, dl) == 0 ||
                         xf_plat_now_ns() >= dl, 1);
        n++;
    }
    ck_assert_int_eq(rc, -XF_ETIMEDOUT);
    ck_assert_int_gt(n, 1);
    xf_xenbus_destroy(x);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("xenbus-liveness");
    TCase *tc = tcase_create("liveness");

    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 20);
    tcase_add_test(tc, test_endless_stream_process_returns);
    tcase_add_test(tc, test_endless_stream_helper_deadline);
    tcase_add_test(tc, test_endless_stream_reply_behind);
    tcase_add_test(tc, test_instant_rewriting_backend_deadline);
    tcase_add_test(tc, test_instant_watch_wait_deadline);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return xf_check_run(suite());
}
