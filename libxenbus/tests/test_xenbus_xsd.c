/*
 * libxenbus against the simulated xenstored (tests/xenstored): every
 * operation and its errors, pipelining, DIRECTORY_PART, permissions,
 * watches, transactions with a conflicting toolstack, RESET_WATCHES,
 * reconnection, each hostile mode of the server, and the XenBus device
 * helpers with a test thread playing the backend.
 */
#include <errno.h>
#include <time.h>
#include <unistd.h>

#include <xenfront/xsd.h>

#include "xb_test.h"

#define T5 SOON(5000)

static struct xf_xsd *xsd;
static char home[64];

static void abs_path(char *buf, size_t cap, const char *rel)
{
    snprintf(buf, cap, "%s/%s", home, rel);
}

static void start(const struct xf_xsd_config *xcfg, const struct xf_xenbus_config *cfg)
{
    sim_up();
    xsd = xf_xsd_start(sim, guest, xcfg);
    ck_assert_ptr_nonnull(xsd);
    snprintf(home, sizeof(home), "/local/domain/%u", guest);
    xb_up(cfg);
}

static void setup(void)
{
    start(NULL, NULL);
}

static void teardown(void)
{
    xf_xenbus_destroy(xb);
    xb = NULL;
    xf_xsd_stop(xsd);
    xsd = NULL;
    sim_down();
}

static void restart(const struct xf_xsd_config *xcfg, const struct xf_xenbus_config *cfg)
{
    teardown();
    start(xcfg, cfg);
}

/* ------------------------------------------------------------------------
 * Operations.
 */
START_TEST(test_read_write_mkdir_rm)
{
    char buf[64], p[128];
    size_t len;

    ck_assert_int_eq(xf_xenbus_write(xb, 0, "data/a", "hello", 5, T5), 0);
    ck_assert_int_eq(xf_xenbus_read(xb, 0, "data/a", buf, sizeof(buf), &len, T5), 0);
    ck_assert_str_eq(buf, "hello");
    ck_assert_uint_eq(len, 5);
    /* Absolute path, and what the toolstack sees. */
    abs_path(p, sizeof(p), "data/a");
    ck_assert_int_eq(xf_xenbus_read(xb, 0, p, buf, sizeof(buf), &len, T5), 0);
    ck_assert_str_eq(buf, "hello");
    ck_assert_int_eq(xf_xsd_read(xsd, p, buf, sizeof(buf)), 5);
    /* Binary values, empty values. */
    ck_assert_int_eq(xf_xenbus_write(xb, 0, "data/bin", "a\0b", 3, T5), 0);
    ck_assert_int_eq(xf_xenbus_read(xb, 0, "data/bin", buf, sizeof(buf), &len, T5), 0);
    ck_assert_uint_eq(len, 3);
    ck_assert_int_eq(memcmp(buf, "a\0b", 3), 0);
    ck_assert_int_eq(xf_xenbus_write(xb, 0, "data/empty", "", 0, T5), 0);
    ck_assert_int_eq(xf_xenbus_read(xb, 0, "data/empty", buf, sizeof(buf), &len, T5), 0);
    ck_assert_uint_eq(len, 0);
    /* Buffer too small. */
    ck_assert_int_eq(xf_xenbus_read(xb, 0, "data/a", buf, 5, &len, T5), -XF_ENOBUFS);
    ck_assert_uint_eq(len, 5);
    /* mkdir, rm, and their errors. */
    ck_assert_int_eq(xf_xenbus_mkdir(xb, 0, "data/d/e/f", T5), 0);
    abs_path(p, sizeof(p), "data/d/e/f");
    ck_assert(xf_xsd_exists(xsd, p));
    ck_assert_int_eq(xf_xenbus_rm(xb, 0, "data/d", T5), 0);
    ck_assert(!xf_xsd_exists(xsd, p));
    ck_assert_int_eq(xf_xenbus_read(xb, 0, "data/d", buf, sizeof(buf), NULL, T5), -XF_ENOENT);
    ck_assert_int_eq(xf_xenbus_rm(xb, 0, "data/nothere", T5), 0);
    ck_assert_int_eq(xf_xenbus_rm(xb, 0, "data/no/such/parent", T5), -XF_ENOENT);
    /* dom0's nodes. */
    ck_assert_int_eq(xf_xenbus_write(xb, 0, "/local/domain/0/x", "1", 1, T5), -XF_EACCES);
    ck_assert_int_eq(xf_xenbus_mkdir(xb, 0, "/tool/mine", T5), -XF_EACCES);
    ck_assert_int_eq(xf_xenbus_read(xb, 0, "bad//path", buf, sizeof(buf), NULL, T5),
                     -XF_EINVAL);
    ck_assert_int_eq(xf_xenbus_status(xb), 0);
}
END_TEST

START_TEST(test_big_values)
{
    static char v[XENSTORE_PAYLOAD_MAX + 1], r[XENSTORE_PAYLOAD_MAX + 1];
    struct xf_xsd_config xc = { .quota_entry_size = XF_XSD_UNLIMITED };
    size_t len;

    restart(&xc, NULL);
    for (size_t i = 0; i < sizeof(v); i++)
        v[i] = (char)('a' + i % 26);
    /* path "data/v" + NUL (7 bytes) + 4089 bytes = the whole payload */
    ck_assert_int_eq(xf_xenbus_write(xb, 0, "data/v", v, XENSTORE_PAYLOAD_MAX - 7, T5), 0);
    ck_assert_int_eq(xf_xenbus_read(xb, 0, "data/v", r, sizeof(r), &len, T5), 0);
    ck_assert_uint_eq(len, XENSTORE_PAYLOAD_MAX - 7);
    ck_assert_int_eq(memcmp(v, r, len), 0);
    /* A reply of exactly 4096 bytes (written by the toolstack). */
    char p[128];
    abs_path(p, sizeof(p), "data/full");
    ck_assert_int_eq(xf_xsd_write(xsd, p, v, XENSTORE_PAYLOAD_MAX), 0);
    ck_assert_int_eq(xf_xenbus_read(xb, 0, "data/full", r, sizeof(r), &len, T5), 0);
    ck_assert_uint_eq(len, XENSTORE_PAYLOAD_MAX);
    ck_assert_int_eq(memcmp(v, r, len), 0);
    /* One byte more is refused locally; nothing reaches the server. */
    unsigned long before = xf_xsd_requests(xsd);
    ck_assert_int_eq(xf_xenbus_write(xb, 0, "data/v", v, XENSTORE_PAYLOAD_MAX - 6, T5),
                     -XF_E2BIG);
    ck_assert_uint_eq(xf_xsd_requests(xsd), before);
    /* The default quota (2048-byte records) answers ENOSPC. */
    restart(NULL, NULL);
    ck_assert_int_eq(xf_xenbus_write(xb, 0, "data/v", v, 3000, T5), -XF_ENOSPC);
}
END_TEST

START_TEST(test_pipelined_16)
{
    uint32_t ids[16];
    char paths[16][32], vals[16][300];

    for (int i = 0; i < 16; i++) {
        snprintf(paths[i], sizeof(paths[i]), "data/p%d", i);
        memset(vals[i], 'A' + i, sizeof(vals[i]));
        struct xf_xenbus_iov iov[2] = { { paths[i], strlen(paths[i]) + 1 },
                                        { vals[i], sizeof(vals[i]) } };
        ck_assert_int_eq(xf_xenbus_submit(xb, XS_WRITE, 0, iov, 2, NULL, NULL, &ids[i]), 0);
    }
    ck_assert_uint_eq(xf_xenbus_outstanding(xb), 16);
    for (int i = 0; i < 16; i++) {
        ck_assert_int_eq(xf_xenbus_req_wait(xb, ids[i], T5), 0);
        ck_assert_int_ge(xf_xenbus_req_reply(xb, ids[i], NULL, NULL), 0);
        xf_xenbus_req_release(xb, ids[i]);
    }
    for (int i = 0; i < 16; i++) {
        struct xf_xenbus_iov iov = { paths[i], strlen(paths[i]) + 1 };
        ck_assert_int_eq(xf_xenbus_submit(xb, XS_READ, 0, &iov, 1, NULL, NULL, &ids[i]), 0);
    }
    for (int i = 15; i >= 0; i--) {
        const char *data;
        uint32_t len;
        ck_assert_int_eq(xf_xenbus_req_wait(xb, ids[i], T5), 0);
        ck_assert_int_eq(xf_xenbus_req_reply(xb, ids[i], &data, &len), 300);
        ck_assert_int_eq(memcmp(data, vals[i], 300), 0);
        xf_xenbus_req_release(xb, ids[i]);
    }
    ck_assert_uint_eq(xf_xenbus_outstanding(xb), 0);
}
END_TEST

START_TEST(test_directory_and_part)
{
    static char buf[64 * 1024];
    char p[128];
    unsigned count;
    int n;

    ck_assert_int_eq(xf_xenbus_write(xb, 0, "data/dir/b", "1", 1, T5), 0);
    ck_assert_int_eq(xf_xenbus_write(xb, 0, "data/dir/a", "1", 1, T5), 0);
    n = xf_xenbus_directory(xb, 0, "data/dir", buf, sizeof(buf), &count, T5);
    ck_assert_int_eq(n, 4);
    ck_assert_uint_eq(count, 2);
    ck_assert_str_eq(buf, "b");
    ck_assert_str_eq(buf + 2, "a");
    ck_assert_int_eq(xf_xenbus_directory(xb, 0, "data/dir/a", buf, sizeof(buf), &count, T5), 0);
    ck_assert_uint_eq(count, 0);
    ck_assert_int_eq(xf_xenbus_directory(xb, 0, "data/none", buf, sizeof(buf), &count, T5),
                     -XF_ENOENT);
    ck_assert_int_eq(xf_xenbus_directory(xb, 0, "data/dir", buf, 3, &count, T5), -XF_ENOBUFS);

    /* 3000 children: 36 KB of names, far beyond one message. */
    for (int i = 0; i < 3000; i++) {
        snprintf(p, sizeof(p), "%s/data/many/child-%04d", home, i);
        ck_assert_int_eq(xf_xsd_write(xsd, p, "", 0), 0);
    }
    n = xf_xenbus_directory(xb, 0, "data/many", buf, sizeof(buf), &count, T5);
    ck_assert_int_eq(n, 3000 * 11);
    ck_assert_uint_eq(count, 3000);
    for (int i = 0; i < 3000; i++) {
        char name[16];
        snprintf(name, sizeof(name), "child-%04d", i);
        ck_assert_str_eq(buf + i * 11, name);
    }
    n = xf_xenbus_directory_part(xb, 0, "data/dir", buf, sizeof(buf), &count, T5);
    ck_assert_int_eq(n, 4);
    ck_assert_uint_eq(count, 2);
    ck_assert_int_eq(xf_xenbus_directory(xb, 0, "data/many", buf, 1000, &count, T5),
                     -XF_ENOBUFS);
}
END_TEST

START_TEST(test_perms_and_domain_path)
{
    char buf[256], exp[32];
    unsigned count;
    int n;

    ck_assert_int_eq(xf_xenbus_write(xb, 0, "data/p", "v", 1, T5), 0);
    n = xf_xenbus_get_perms(xb, 0, "data/p", buf, sizeof(buf), &count, T5);
    ck_assert_int_gt(n, 0);
    ck_assert_uint_ge(count, 1);
    snprintf(exp, sizeof(exp), "n%u", guest);
    ck_assert_str_eq(buf, exp);
    const char *perms[] = { exp, "r0", "b7" };
    ck_assert_int_eq(xf_xenbus_set_perms(xb, 0, "data/p", perms, 3, T5), 0);
    n = xf_xenbus_get_perms(xb, 0, "data/p", buf, sizeof(buf), &count, T5);
    ck_assert_uint_eq(count, 3);
    ck_assert_str_eq(buf, exp);
    ck_assert_str_eq(buf + strlen(exp) + 1, "r0");
    ck_assert_str_eq(buf + strlen(exp) + 4, "b7");
    ck_assert_int_eq(xf_xenbus_set_perms(xb, 0, "/local/domain/0", perms, 1, T5), -XF_EACCES);
    ck_assert_int_eq(xf_xenbus_get_perms(xb, 0, "data/none", buf, sizeof(buf), &count, T5),
                     -XF_ENOENT);

    n = xf_xenbus_get_domain_path(xb, guest, buf, sizeof(buf), T5);
    ck_assert_int_eq(n, (int)strlen(home));
    ck_assert_str_eq(buf, home);
    ck_assert_int_eq(xf_xenbus_get_domain_path(xb, 0, buf, sizeof(buf), T5), 15);
    ck_assert_str_eq(buf, "/local/domain/0");
    ck_assert_int_eq(xf_xenbus_get_domain_path(xb, guest, buf, 4, T5), -XF_ENOBUFS);
}
END_TEST

/* ------------------------------------------------------------------------
 * Watches.
 */
static int watch_cb_calls;

static void watch_cb(struct xf_xenbus *x, struct xf_xenbus_watch *w, void *arg)
{
    (void)x;
    (void)w;
    ck_assert_ptr_eq(arg, &watch_cb_calls);
    watch_cb_calls++;
}

static void expect_event(struct xf_xenbus_watch *w, const char *path)
{
    char buf[256];
    unsigned flags;

    ck_assert_int_eq(xf_xenbus_watch_wait(xb, w, buf, sizeof(buf), NULL, &flags, T5), 1);
    ck_assert_str_eq(buf, path);
    ck_assert_uint_eq(flags, 0);
}

START_TEST(test_watches)
{
    struct xf_xenbus_watch *w1, *w2, *dup;
    char p[128], buf[64];

    ck_assert_int_eq(xf_xenbus_watch_add(xb, "data/w", "t1", watch_cb, &watch_cb_calls, &w1,
                                         T5), 0);
    abs_path(p, sizeof(p), "data");
    ck_assert_int_eq(xf_xenbus_watch_add(xb, p, "t2", NULL, NULL, &w2, T5), 0);
    ck_assert_int_eq(xf_xenbus_watch_add(xb, "data/x", "t1", NULL, NULL, &dup, T5), -XF_EEXIST);
    ck_assert_uint_eq(xf_xsd_watch_count(xsd), 2);
    ck_assert_uint_eq(xf_xenbus_watch_count(xb), 2);
    /* Initial events: relative watch, relative path. */
    expect_event(w1, "data/w");
    expect_event(w2, p);
    ck_assert_int_ge(watch_cb_calls, 1);
    /* The guest's own writes: their events come before their replies. */
    ck_assert_int_eq(xf_xenbus_write(xb, 0, "data/w/a", "1", 1, T5), 0);
    ck_assert_uint_eq(xf_xenbus_watch_pending(w1), 1);
    /* Toolstack writes, in order. */
    for (int i = 0; i < 5; i++) {
        char q[128];
        snprintf(q, sizeof(q), "%s/data/w/k%d", home, i);
        ck_assert_int_eq(xf_xsd_write(xsd, q, "v", 1), 0);
    }
    expect_event(w1, "data/w/a");
    for (int i = 0; i < 5; i++) {
        char q[64];
        snprintf(q, sizeof(q), "data/w/k%d", i);
        expect_event(w1, q);
    }
    /* w2 saw the same six, with absolute paths. */
    abs_path(p, sizeof(p), "data/w/a");
    expect_event(w2, p);
    for (int i = 0; i < 5; i++) {
        char q[128];
        snprintf(q, sizeof(q), "%s/data/w/k%d", home, i);
        expect_event(w2, q);
    }
    ck_assert_int_eq(xf_xenbus_watch_next(xb, w1, buf, sizeof(buf), NULL, NULL), 0);
    /* Unwatch: gone on both sides, later writes queue nothing. */
    ck_assert_int_eq(xf_xenbus_watch_remove(xb, w1, T5), 0);
    ck_assert_uint_eq(xf_xsd_watch_count(xsd), 1);
    ck_assert_int_eq(xf_xenbus_write(xb, 0, "data/w/b", "1", 1, T5), 0);
    ck_assert_int_eq(xf_xenbus_watch_remove(xb, w2, T5), 0);
    ck_assert_uint_eq(xf_xenbus_watch_count(xb), 0);
    ck_assert_uint_eq(xf_xsd_watch_count(xsd), 0);
    /* Timeout on an empty queue. */
    ck_assert_int_eq(xf_xenbus_watch_add(xb, "data/q", "t3", NULL, NULL, &w1, T5), 0);
    expect_event(w1, "data/q");
    ck_assert_int_eq(xf_xenbus_watch_wait(xb, w1, buf, sizeof(buf), NULL, NULL, SOON(100)),
                     -XF_ETIMEDOUT);
}
END_TEST

START_TEST(test_watch_event_before_reply)
{
    struct xf_xenbus_watch *w;

    xf_xsd_misbehave(xsd, XF_XSD_EVENT_BEFORE_REPLY, 1);
    ck_assert_int_eq(xf_xenbus_watch_add(xb, "data", "early", NULL, NULL, &w, T5), 0);
    ck_assert_uint_eq(xf_xenbus_watch_pending(w), 1);
    expect_event(w, "data");
}
END_TEST

START_TEST(test_watch_queue_bounded)
{
    struct xf_xenbus_config cfg = { .watch_queue_events = 8 };
    struct xf_xenbus_watch *w;
    char buf[128];
    unsigned flags;
    int n = 0, overflow = 0;

    restart(NULL, &cfg);
    ck_assert_int_eq(xf_xenbus_watch_add(xb, "data", "flood", NULL, NULL, &w, T5), 0);
    for (int i = 0; i < 100; i++) {
        char q[128];
        snprintf(q, sizeof(q), "%s/data/f%d", home, i);
        ck_assert_int_eq(xf_xsd_write(xsd, q, "v", 1), 0);
    }
    /* A read after them: its reply follows every event in the stream. */
    ck_assert_int_eq(xf_xenbus_read(xb, 0, "data", buf, sizeof(buf), NULL, T5), 0);
    ck_assert_uint_eq(xf_xenbus_watch_pending(w), 9);
    while (xf_xenbus_watch_next(xb, w, buf, sizeof(buf), NULL, &flags) == 1) {
        if (flags & XF_XENBUS_EV_OVERFLOW) {
            overflow++;
            ck_assert_str_eq(buf, "data");
        } else {
            ck_assert_int_eq(overflow, 0);     /* the marker comes last */
            n++;
        }
    }
    ck_assert_int_eq(n, 8);
    ck_assert_int_eq(overflow, 1);
}
END_TEST

/* ------------------------------------------------------------------------
 * Transactions.
 */
static int body_calls, conflicts_left;

static int incr_body(struct xf_xenbus *x, xf_xenbus_tx_t tx, void *arg)
{
    uint64_t v = 0;
    char p[128];
    int rc;

    (void)arg;
    body_calls++;
    rc = xf_xenbus_read_uint(x, tx, "data", "counter", UINT64_MAX, &v, T5);
    if (rc < 0 && rc != -XF_ENOENT)
        return rc;
    if (conflicts_left > 0) {
        /* A toolstack write commits between our read and our commit. */
        conflicts_left--;
        abs_path(p, sizeof(p), "data/counter");
        char s[24];
        int l = snprintf(s, sizeof(s), "%d", 100 + body_calls);
        ck_assert_int_eq(xf_xsd_write(xsd, p, s, (size_t)l), 0);
    }
    return xf_xenbus_write_uint(x, tx, "data", "counter", v + 1, T5);
}

START_TEST(test_transaction_retry)
{
    uint64_t v;
    xf_xenbus_tx_t tx;
    char buf[16];

    /* Plain start/end, isolation, abort. */
    ck_assert_int_eq(xf_xenbus_transaction_start(xb, &tx, T5), 0);
    ck_assert_uint_ne(tx, 0);
    ck_assert_uint_eq(xf_xsd_transaction_count(xsd), 1);
    ck_assert_int_eq(xf_xenbus_write(xb, tx, "data/t", "in", 2, T5), 0);
    ck_assert_int_eq(xf_xenbus_read(xb, 0, "data/t", buf, sizeof(buf), NULL, T5), -XF_ENOENT);
    ck_assert_int_eq(xf_xenbus_transaction_end(xb, tx, false, T5), 0);
    ck_assert_int_eq(xf_xenbus_read(xb, 0, "data/t", buf, sizeof(buf), NULL, T5), -XF_ENOENT);
    ck_assert_uint_eq(xf_xsd_transaction_count(xsd), 0);
    ck_assert_int_eq(xf_xenbus_transaction_end(xb, 12345, true, T5), -XF_ENOENT);

    /* Two conflicts, then success: the body ran three times. */
    ck_assert_int_eq(xf_xenbus_write(xb, 0, "data/counter", "5", 1, T5), 0);
    body_calls = 0;
    conflicts_left = 2;
    ck_assert_int_eq(xf_xenbus_transaction_run(xb, incr_body, NULL, 5, T5), 0);
    ck_assert_int_eq(body_calls, 3);
    ck_assert_int_eq(xf_xenbus_read_uint(xb, 0, "data", "counter", 1000, &v, T5), 0);
    ck_assert_uint_eq(v, 100 + 2 + 1);        /* the last toolstack value + 1 */
    ck_assert_uint_eq(xf_xsd_transaction_count(xsd), 0);

    /* Always conflicting: bounded. */
    body_calls = 0;
    conflicts_left = 1000;
    ck_assert_int_eq(xf_xenbus_transaction_run(xb, incr_body, NULL, 4, T5), -XF_EAGAIN);
    ck_assert_int_eq(body_calls, 4);
    ck_assert_uint_eq(xf_xsd_transaction_count(xsd), 0);
}
END_TEST

/* ------------------------------------------------------------------------
 * RESET_WATCHES and RECONNECT.
 */
START_TEST(test_reset_watches)
{
    struct xf_xenbus_watch *w;

    /* A previous kernel left a watch behind. */
    ck_assert_int_eq(xf_xenbus_watch_add(xb, "data", "old", NULL, NULL, &w, T5), 0);
    ck_assert_int_eq(xf_xenbus_reset_watches(xb, T5), -XF_EBUSY);
    xf_xenbus_destroy(xb);
    xb = NULL;
    ck_assert_uint_eq(xf_xsd_watch_count(xsd), 1);
    xb_up(NULL);
    ck_assert_int_eq(xf_xenbus_reset_watches(xb, T5), 0);
    ck_assert_uint_eq(xf_xsd_watch_count(xsd), 0);
    /* Not offered: nothing sent. */
    struct xf_xsd_config xc = { .no_reset_watches = true };
    restart(&xc, NULL);
    unsigned long before = xf_xsd_requests(xsd);
    ck_assert_int_eq(xf_xenbus_reset_watches(xb, T5), -XF_EOPNOTSUPP);
    ck_assert_uint_eq(xf_xsd_requests(xsd), before + 1);   /* only the feature read */
}
END_TEST

START_TEST(test_reconnect_xsd)
{
    struct xf_xenbus_watch *w;
    char p[128], buf[64];

    ck_assert_int_eq(xf_xenbus_watch_add(xb, "data/r", "rw", NULL, NULL, &w, T5), 0);
    expect_event(w, "data/r");
    ck_assert_int_eq(xf_xenbus_write(xb, 0, "data/keep", "1", 1, T5), 0);
    ck_assert_int_eq(xf_xenbus_reconnect(xb, T5), 0);
    ck_assert_uint_eq(xf_xsd_reconnects(xsd), 1);
    ck_assert_uint_eq(xf_xsd_watch_count(xsd), 1);      /* registered again */
    expect_event(w, "data/r");                          /* its initial event */
    abs_path(p, sizeof(p), "data/r/x");
    ck_assert_int_eq(xf_xsd_write(xsd, p, "1", 1), 0);
    expect_event(w, "data/r/x");
    ck_assert_int_eq(xf_xenbus_read(xb, 0, "data/keep", buf, sizeof(buf), NULL, T5), 0);

    struct xf_xsd_config xc = { .no_reconnect = true };
    restart(&xc, NULL);
    ck_assert_int_eq(xf_xenbus_reconnect(xb, T5), -XF_EOPNOTSUPP);
}
END_TEST

/* ------------------------------------------------------------------------
 * A hostile server, each mode: a clean error, no crash, no hang, and
 * (with RECONNECT) recovery.
 */
static void broken_then_recover(enum xf_xsd_misbehaviour m)
{
    char buf[64];

    ck_assert_int_eq(xf_xenbus_write(xb, 0, "data/h", "ok", 2, T5), 0);
    xf_xsd_misbehave(xsd, m, 1);
    ck_assert_int_eq(xf_xenbus_read(xb, 0, "data/h", buf, sizeof(buf), NULL, T5), -XF_EPROTO);
    ck_assert_int_eq(xf_xenbus_status(xb), -XF_EPROTO);
    ck_assert_int_eq(xf_xenbus_read(xb, 0, "data/h", buf, sizeof(buf), NULL, T5), -XF_EPROTO);
    xf_xsd_misbehave(xsd, XF_XSD_HONEST, 0);
    ck_assert_int_eq(xf_xenbus_reconnect(xb, T5), 0);
    ck_assert_int_eq(xf_xenbus_read(xb, 0, "data/h", buf, sizeof(buf), NULL, T5), 0);
    ck_assert_str_eq(buf, "ok");
}

START_TEST(test_hostile_len_too_big)
{
    broken_then_recover(XF_XSD_LEN_TOO_BIG);
}
END_TEST

START_TEST(test_hostile_wrong_type)
{
    broken_then_recover(XF_XSD_WRONG_TYPE);
}
END_TEST

START_TEST(test_hostile_unknown_req_id)
{
    broken_then_recover(XF_XSD_UNKNOWN_REQ_ID);
}
END_TEST

START_TEST(test_hostile_rsp_prod_jump)
{
    broken_then_recover(XF_XSD_RSP_PROD_JUMP);
}
END_TEST

START_TEST(test_hostile_duplicate_reply)
{
    char buf[64];
    int rc;

    ck_assert_int_eq(xf_xenbus_write(xb, 0, "data/h", "ok", 2, T5), 0);
    xf_xsd_misbehave(xsd, XF_XSD_DUPLICATE_REPLY, 1);
    /* The first copy answers the read; the second is a violation, seen at
     * the latest by the next request. */
    rc = xf_xenbus_read(xb, 0, "data/h", buf, sizeof(buf), NULL, T5);
    ck_assert(rc == 0 || rc == -XF_EPROTO);
    if (rc == 0)
        ck_assert_str_eq(buf, "ok");
    ck_assert_int_eq(xf_xenbus_read(xb, 0, "data/h", buf, sizeof(buf), NULL, T5), -XF_EPROTO);
    ck_assert_int_eq(xf_xenbus_reconnect(xb, T5), 0);
    ck_assert_int_eq(xf_xenbus_read(xb, 0, "data/h", buf, sizeof(buf), NULL, T5), 0);
}
END_TEST

START_TEST(test_hostile_unterminated)
{
    char buf[256];
    unsigned count;
    struct xf_xenbus_watch *w;

    ck_assert_int_eq(xf_xenbus_write(xb, 0, "data/u/a", "1", 1, T5), 0);
    xf_xsd_misbehave(xsd, XF_XSD_UNTERMINATED, 1);
    ck_assert_int_eq(xf_xenbus_directory(xb, 0, "data/u", buf, sizeof(buf), &count, T5),
                     -XF_EPROTO);
    /* Contents, not framing: the connection stays. */
    ck_assert_int_eq(xf_xenbus_status(xb), 0);
    ck_assert_int_eq(xf_xenbus_directory(xb, 0, "data/u", buf, sizeof(buf), &count, T5), 2);
    xf_xsd_misbehave(xsd, XF_XSD_UNTERMINATED, 1);
    ck_assert_int_eq(xf_xenbus_get_domain_path(xb, guest, buf, sizeof(buf), T5), -XF_EPROTO);
    xf_xsd_misbehave(xsd, XF_XSD_UNTERMINATED, 1);
    xf_xenbus_tx_t tx;
    ck_assert_int_eq(xf_xenbus_transaction_start(xb, &tx, T5), -XF_EPROTO);
    ck_assert_int_eq(xf_xenbus_status(xb), 0);
    /* An event whose strings are not both terminated cannot be routed or
     * trusted: a protocol violation. */
    ck_assert_int_eq(xf_xenbus_watch_add(xb, "data/u", "tok", NULL, NULL, &w, T5), 0);
    expect_event(w, "data/u");
    xf_xsd_misbehave(xsd, XF_XSD_UNTERMINATED, 1);
    char p[128];
    abs_path(p, sizeof(p), "data/u/b");
    ck_assert_int_eq(xf_xsd_write(xsd, p, "1", 1), 0);
    ck_assert_int_eq(xf_xenbus_watch_wait(xb, w, buf, sizeof(buf), NULL, NULL, T5), -XF_EPROTO);
    ck_assert_int_eq(xf_xenbus_status(xb), -XF_EPROTO);
}
END_TEST

START_TEST(test_hostile_silent)
{
    char buf[64];
    uint64_t t0 = xf_plat_now_ns();

    xf_xsd_misbehave(xsd, XF_XSD_SILENT, 0);
    ck_assert_int_eq(xf_xenbus_read(xb, 0, "data", buf, sizeof(buf), NULL, SOON(150)),
                     -XF_ETIMEDOUT);
    ck_assert_int_eq(xf_xenbus_write(xb, 0, "data/s", "1", 1, SOON(150)), -XF_ETIMEDOUT);
    xf_xenbus_tx_t tx;
    ck_assert_int_eq(xf_xenbus_transaction_start(xb, &tx, SOON(150)), -XF_ETIMEDOUT);
    ck_assert_uint_lt(xf_plat_now_ns() - t0, 3 * SEC_NS);
    xf_xsd_misbehave(xsd, XF_XSD_HONEST, 0);
    ck_assert_int_eq(xf_xenbus_write(xb, 0, "data/s", "1", 1, T5), 0);
    ck_assert_int_eq(xf_xenbus_status(xb), 0);
}
END_TEST

/* ------------------------------------------------------------------------
 * Liveness (issue 13) against the simulated xenstored's hostile modes.
 */
START_TEST(test_hostile_event_flood)
{
    /* Watch events for nobody, as fast as they are taken: the helpers'
     * replies still come through, and nothing hangs. */
    char buf[64];

    xf_xsd_misbehave(xsd, XF_XSD_EVENT_FLOOD, 0);
    for (int i = 0; i < 20; i++) {
        ck_assert_int_eq(xf_xenbus_write(xb, 0, "data/f", "v", 1, T5), 0);
        ck_assert_int_eq(xf_xenbus_read(xb, 0, "data/f", buf, sizeof(buf), NULL, T5), 0);
    }
    ck_assert_uint_gt(xf_xsd_flood_events(xsd), 0);
    ck_assert_int_eq(xf_xenbus_status(xb), 0);
    /* A silent flood (no replies at all): the deadline. */
    xf_xsd_misbehave(xsd, XF_XSD_HONEST, 0);
    ck_assert_int_eq(xf_xenbus_read(xb, 0, "data/f", buf, sizeof(buf), NULL, T5), 0);
}
END_TEST

START_TEST(test_hostile_spontaneous_reset)
{
    struct xf_xenbus_watch *w;
    char buf[64];
    unsigned flags;
    int got_overflow = 0, got_other = 0;

    ck_assert_int_eq(xf_xenbus_watch_add(xb, "data/r", "rw", NULL, NULL, &w, T5), 0);
    expect_event(w, "data/r");
    ck_assert_int_eq(xf_xenbus_write(xb, 0, "data/keep", "1", 1, T5), 0);
    xf_xsd_misbehave(xsd, XF_XSD_SPONTANEOUS_RESET, 1);
    /* The request in flight is lost with the reset: said so, at once. */
    ck_assert_int_eq(xf_xenbus_read(xb, 0, "data/keep", buf, sizeof(buf), NULL, T5),
                     -XF_ECONNRESET);
    ck_assert_uint_eq(xf_xsd_server_resets(xsd), 1);
    ck_assert_uint_eq(xf_xenbus_resets(xb), 1);
    /* The connection works again; the watch is registered again. */
    ck_assert_int_eq(xf_xenbus_read(xb, 0, "data/keep", buf, sizeof(buf), NULL, T5), 0);
    ck_assert_uint_eq(xf_xsd_watch_count(xsd), 1);
    /* The server has answered the re-registration, but that answer may
     * still be in the ring behind the read's (CI saw -ENOTCONN here under
     * ASan): one more round trip, answered after it, has consumed it. */
    ck_assert_int_eq(xf_xenbus_read(xb, 0, "data/keep", buf, sizeof(buf), NULL, T5), 0);
    ck_assert_int_eq(xf_xenbus_status(xb), 0);
    /* Its reader learns that events were lost (the marker stands for the
     * re-registration's initial event too). */
    while (xf_xenbus_watch_next(xb, w, buf, sizeof(buf), NULL, &flags) == 1) {
        if (flags & XF_XENBUS_EV_OVERFLOW)
            got_overflow++;
        else
            got_other++;
    }
    ck_assert_int_eq(got_overflow, 1);
    ck_assert_int_eq(got_other, 0);
    ck_assert_str_eq(buf, "data/r");
    char p[128];
    abs_path(p, sizeof(p), "data/r/x");
    ck_assert_int_eq(xf_xsd_write(xsd, p, "1", 1), 0);
    expect_event(w, "data/r/x");
    /* Between requests too. */
    xf_xsd_server_reset(xsd);
    ck_assert_int_eq(xf_xenbus_read(xb, 0, "data/keep", buf, sizeof(buf), NULL, T5), 0);
    ck_assert_uint_eq(xf_xenbus_resets(xb), 2);
}
END_TEST

START_TEST(test_hostile_silent_dead_link)
{
    char buf[64];

    xf_xsd_misbehave(xsd, XF_XSD_SILENT, 0);
    for (int i = 0; i < 3; i++)
        ck_assert_int_eq(xf_xenbus_read(xb, 0, "data", buf, sizeof(buf), NULL, SOON(50)),
                         -XF_ETIMEDOUT);
    ck_assert_int_eq(xf_xenbus_status(xb), -XF_ETIMEDOUT);
    /* Timeouts never run out of slots (16 of them, 40 timeouts). */
    for (int i = 0; i < 40; i++)
        ck_assert_int_eq(xf_xenbus_read(xb, 0, "data", buf, sizeof(buf), NULL, SOON(2)),
                         -XF_ETIMEDOUT);
    /* The way out: a reconnection (the server still does those). */
    ck_assert_int_eq(xf_xenbus_reconnect(xb, T5), 0);
    ck_assert_int_eq(xf_xenbus_status(xb), 0);
    xf_xsd_misbehave(xsd, XF_XSD_HONEST, 0);
    ck_assert_int_eq(xf_xenbus_write(xb, 0, "data/s", "1", 1, T5), 0);
    /* And a server that comes back by itself ends it too. */
    xf_xsd_misbehave(xsd, XF_XSD_SILENT, 3);
    for (int i = 0; i < 3; i++)
        ck_assert_int_eq(xf_xenbus_read(xb, 0, "data", buf, sizeof(buf), NULL, SOON(50)),
                         -XF_ETIMEDOUT);
    ck_assert_int_eq(xf_xenbus_status(xb), -XF_ETIMEDOUT);
    ck_assert_int_eq(xf_xenbus_read(xb, 0, "data/s", buf, sizeof(buf), NULL, T5), 0);
    ck_assert_int_eq(xf_xenbus_status(xb), 0);
}
END_TEST

START_TEST(test_split_writes)
{
    static char v[1500], r[1600];
    size_t len;

    memset(v, 'q', sizeof(v));
    ck_assert_int_eq(xf_xenbus_write(xb, 0, "data/s", v, sizeof(v), T5), 0);
    xf_xsd_misbehave(xsd, XF_XSD_SPLIT_WRITES, 2);
    ck_assert_int_eq(xf_xenbus_read(xb, 0, "data/s", r, sizeof(r), &len, T5), 0);
    ck_assert_uint_eq(len, sizeof(v));
    ck_assert_int_eq(memcmp(v, r, len), 0);
    ck_assert_int_eq(xf_xenbus_write(xb, 0, "data/s2", "x", 1, T5), 0);
}
END_TEST

/* Handing the ring to a new context: quiesce waits out a reply that
 * arrives in pieces (and one still in flight), so the next context starts at
 * a message boundary; against a silent server it times out instead. */
START_TEST(test_quiesce_hand_over)
{
    static char v[1500], r[1600];
    struct xf_xenbus_iov iov = { "data/q", sizeof("data/q") };
    uint32_t id;
    size_t len;

    memset(v, 'h', sizeof(v));
    ck_assert_int_eq(xf_xenbus_write(xb, 0, "data/q", v, sizeof(v), T5), 0);
    xf_xsd_misbehave(xsd, XF_XSD_SPLIT_WRITES, 1);
    ck_assert_int_eq(xf_xenbus_submit(xb, XS_READ, 0, &iov, 1, NULL, NULL, &id), 0);
    ck_assert_int_eq(xf_xenbus_quiesce(xb, T5), 0);
    ck_assert_int_eq(xf_xenbus_req_done(xb, id), 1);
    xf_xenbus_destroy(xb);
    xb = NULL;
    xb_up(NULL);
    ck_assert_int_eq(xf_xenbus_read(xb, 0, "data/q", r, sizeof(r), &len, T5), 0);
    ck_assert_uint_eq(len, sizeof(v));
    ck_assert_int_eq(memcmp(v, r, len), 0);

    xf_xsd_misbehave(xsd, XF_XSD_SILENT, 0);
    ck_assert_int_eq(xf_xenbus_submit(xb, XS_READ, 0, &iov, 1, NULL, NULL, &id), 0);
    ck_assert_int_eq(xf_xenbus_quiesce(xb, SOON(150)), -XF_ETIMEDOUT);
    ck_assert_int_eq(xf_xenbus_quiesce(NULL, T5), -XF_EINVAL);
}
END_TEST

/* ------------------------------------------------------------------------
 * XenBus devices, with a backend played by a thread that follows the
 * frontend's state (polling the store through the toolstack API).
 */
static char fe_dir[128], be_dir[128];
static volatile int be_stop, be_spontaneous_close;
static pthread_t be_thread;

static int xsd_state(const char *dir)
{
    char p[160], b[8];
    snprintf(p, sizeof(p), "%s/state", dir);
    if (xf_xsd_read(xsd, p, b, sizeof(b)) <= 0)
        return 0;
    return atoi(b);
}

static void set_be_state(int s)
{
    char p[160], b[8];
    snprintf(p, sizeof(p), "%s/state", be_dir);
    int l = snprintf(b, sizeof(b), "%d", s);
    ck_assert_int_eq(xf_xsd_write(xsd, p, b, (size_t)l), 0);
}

static void *backend_main(void *arg)
{
    (void)arg;
    while (!be_stop) {
        int fe = xsd_state(fe_dir), be = xsd_state(be_dir);
        int want = be;
        if (be_spontaneous_close) {
            want = XenbusStateClosing;
        } else {
            switch (fe) {
            case XenbusStateInitialising: want = XenbusStateInitWait; break;
            case XenbusStateInitialised:
            case XenbusStateConnected: want = XenbusStateConnected; break;
            case XenbusStateClosing: want = XenbusStateClosing; break;
            case XenbusStateClosed: want = XenbusStateClosed; break;
            default: break;
            }
        }
        if (want != be)
            set_be_state(want);
        struct timespec ts = { 0, 200000 };
        nanosleep(&ts, NULL);       /* a polling backend, not a timed assumption */
    }
    return NULL;
}

static void make_device(void)
{
    char p[192], v[32];
    const char *fe_perms[2], *be_perms[2];
    char own[16], rd[16];

    snprintf(fe_dir, sizeof(fe_dir), "%s/device/vif/0", home);
    snprintf(be_dir, sizeof(be_dir), "/local/domain/0/backend/vif/%u/0", guest);
    snprintf(own, sizeof(own), "n%u", guest);
    snprintf(rd, sizeof(rd), "r%u", guest);
    fe_perms[0] = own; fe_perms[1] = "r0";
    be_perms[0] = "n0"; be_perms[1] = rd;
    snprintf(p, sizeof(p), "%s/backend", fe_dir);
    ck_assert_int_eq(xf_xsd_write(xsd, p, be_dir, strlen(be_dir)), 0);
    snprintf(p, sizeof(p), "%s/backend-id", fe_dir);
    ck_assert_int_eq(xf_xsd_write(xsd, p, "0", 1), 0);
    snprintf(p, sizeof(p), "%s/state", fe_dir);
    ck_assert_int_eq(xf_xsd_write(xsd, p, "1", 1), 0);
    snprintf(p, sizeof(p), "%s/frontend", be_dir);
    ck_assert_int_eq(xf_xsd_write(xsd, p, fe_dir, strlen(fe_dir)), 0);
    snprintf(p, sizeof(p), "%s/feature-rx-copy", be_dir);
    ck_assert_int_eq(xf_xsd_write(xsd, p, "1", 1), 0);
    snprintf(p, sizeof(p), "%s/mac", be_dir);
    ck_assert_int_eq(xf_xsd_write(xsd, p, "00:16:3e:00:00:05", 17), 0);
    snprintf(p, sizeof(p), "%s/state", be_dir);
    ck_assert_int_eq(xf_xsd_write(xsd, p, "1", 1), 0);
    /* As libxl: frontend n<domid> r0, backend n0 r<domid>, recursively. */
    const char *fe_nodes[] = { "", "/backend", "/backend-id", "/state" };
    for (unsigned i = 0; i < 4; i++) {
        snprintf(p, sizeof(p), "%s%s", fe_dir, fe_nodes[i]);
        ck_assert_int_eq(xf_xsd_set_perms(xsd, p, fe_perms, 2), 0);
    }
    const char *be_nodes[] = { "", "/frontend", "/feature-rx-copy", "/mac", "/state" };
    for (unsigned i = 0; i < 5; i++) {
        snprintf(p, sizeof(p), "%s%s", be_dir, be_nodes[i]);
        ck_assert_int_eq(xf_xsd_set_perms(xsd, p, be_perms, 2), 0);
    }
    (void)v;
}

START_TEST(test_device_helpers)
{
    struct xf_xenbus_dev dev;
    char buf[64];
    unsigned count;
    bool f;
    uint64_t u;

    make_device();
    ck_assert_int_eq(xf_xenbus_dev_list(xb, "vif", buf, sizeof(buf), &count, T5), 2);
    ck_assert_uint_eq(count, 1);
    ck_assert_str_eq(buf, "0");
    ck_assert_int_eq(xf_xenbus_dev_list(xb, "vbd", buf, sizeof(buf), &count, T5), 0);
    ck_assert_uint_eq(count, 0);
    ck_assert_int_eq(xf_xenbus_dev_init(xb, &dev, "vif", "0", T5), 0);
    ck_assert_str_eq(dev.nodename, "device/vif/0");
    ck_assert_str_eq(dev.backend, be_dir);
    ck_assert_uint_eq(dev.backend_id, 0);
    ck_assert_int_eq(dev.state, XenbusStateInitialising);
    ck_assert_int_eq(xf_xenbus_dev_init(xb, &dev, "vif", "1", T5), -XF_ENOENT);
    ck_assert_int_eq(xf_xenbus_dev_init(xb, &dev, "vif", "../0", T5), -XF_EINVAL);
    ck_assert_int_eq(xf_xenbus_dev_init(xb, &dev, "vif", "0", T5), 0);

    /* Typed values. */
    ck_assert_int_eq(xf_xenbus_read_feature(xb, 0, dev.backend, "feature-rx-copy", false, &f,
                                            T5), 0);
    ck_assert(f);
    ck_assert_int_eq(xf_xenbus_read_feature(xb, 0, dev.backend, "feature-sg", true, &f, T5), 0);
    ck_assert(f);
    ck_assert_int_eq(xf_xenbus_read_str(xb, 0, dev.backend, "mac", buf, sizeof(buf), T5), 0);
    ck_assert_str_eq(buf, "00:16:3e:00:00:05");
    ck_assert_int_eq(xf_xenbus_read_feature(xb, 0, dev.backend, "mac", false, &f, T5),
                     -XF_EINVAL);
    ck_assert_int_eq(xf_xenbus_write_uint(xb, 0, dev.nodename, "tx-ring-ref", 4294967295u, T5),
                     0);
    ck_assert_int_eq(xf_xenbus_read_uint(xb, 0, dev.nodename, "tx-ring-ref", UINT32_MAX, &u,
                                         T5), 0);
    ck_assert_uint_eq(u, 4294967295u);
    ck_assert_int_eq(xf_xenbus_read_uint(xb, 0, dev.nodename, "tx-ring-ref", 100, &u, T5),
                     -XF_EINVAL);
    ck_assert_int_eq(xf_xenbus_write_str(xb, 0, dev.nodename, "request-rx-copy", "1", T5), 0);
    char p[192];
    snprintf(p, sizeof(p), "%s/tx-ring-ref", fe_dir);
    ck_assert_int_eq(xf_xsd_read(xsd, p, buf, sizeof(buf)), 10);
    ck_assert_str_eq(buf, "4294967295");
    /* Malformed numbers from a backend. */
    snprintf(p, sizeof(p), "%s/bad", be_dir);
    const char *bads[] = { "", "-1", "+1", " 1", "1 ", "0x10", "99999999999999999999999" };
    for (unsigned i = 0; i < sizeof(bads) / sizeof(bads[0]); i++) {
        ck_assert_int_eq(xf_xsd_write(xsd, p, bads[i], strlen(bads[i])), 0);
        ck_assert_int_eq(xf_xenbus_read_uint(xb, 0, dev.backend, "bad", UINT64_MAX, &u, T5),
                         -XF_EINVAL);
    }
}
END_TEST

START_TEST(test_state_machine)
{
    struct xf_xenbus_dev dev;
    XenbusState s;

    make_device();
    ck_assert_int_eq(xf_xenbus_dev_init(xb, &dev, "vif", "0", T5), 0);
    be_stop = 0;
    be_spontaneous_close = 0;
    ck_assert_int_eq(pthread_create(&be_thread, NULL, backend_main, NULL), 0);

    ck_assert_int_eq(xf_xenbus_dev_wait_backend(xb, &dev,
                                                XF_XENBUS_STATE_BIT(XenbusStateInitWait), &s,
                                                T5), 0);
    ck_assert_int_eq(s, XenbusStateInitWait);
    /* (the driver publishes its rings here) */
    ck_assert_int_eq(xf_xenbus_dev_connect(xb, &dev, T5), 0);
    ck_assert_int_eq(dev.state, XenbusStateConnected);
    ck_assert_int_eq(xsd_state(fe_dir), XenbusStateConnected);
    ck_assert_int_eq(xsd_state(be_dir), XenbusStateConnected);

    /* Close from our side. */
    ck_assert_int_eq(xf_xenbus_dev_close(xb, &dev, T5), 0);
    ck_assert_int_eq(xsd_state(fe_dir), XenbusStateClosed);
    /* Reconnect: the backend comes back to InitWait. */
    ck_assert_int_eq(xf_xenbus_dev_reconnect(xb, &dev, T5), 0);
    ck_assert_int_eq(xf_xenbus_dev_connect(xb, &dev, T5), 0);

    /* The backend goes away on its own: a waiter learns it, then follows. */
    be_spontaneous_close = 1;
    ck_assert_int_eq(xf_xenbus_dev_wait_backend(xb, &dev,
                                                XF_XENBUS_STATE_BIT(XenbusStateReconfigured),
                                                &s, T5), -XF_ENOTCONN);
    ck_assert_int_eq(s, XenbusStateClosing);
    be_spontaneous_close = 0;
    /* Following a backend already Closing: the second half of a close. */
    ck_assert_int_eq(xf_xenbus_dev_closed(xb, &dev, T5), 0);
    ck_assert_int_eq(xsd_state(fe_dir), XenbusStateClosed);
    ck_assert_int_ne(xsd_state(be_dir), XenbusStateClosing);
    be_stop = 1;
    pthread_join(be_thread, NULL);

    /* Closed is a reason to stop waiting for Connected... */
    ck_assert_int_eq(xf_xenbus_dev_wait_backend(xb, &dev,
                                                XF_XENBUS_STATE_BIT(XenbusStateConnected), &s,
                                                T5), -XF_ENOTCONN);
    ck_assert_int_eq(s, XenbusStateClosed);
    /* ...InitWait is not; and if nobody moves: a deadline, not a hang. */
    set_be_state(XenbusStateInitWait);
    ck_assert_int_eq(xf_xenbus_dev_wait_backend(xb, &dev,
                                                XF_XENBUS_STATE_BIT(XenbusStateConnected), &s,
                                                SOON(100)), -XF_ETIMEDOUT);
    ck_assert_uint_eq(xf_xenbus_watch_count(xb), 0);
    /* The toolstack removed the device: switching state does not revive it. */
    ck_assert_int_eq(xf_xsd_rm(xsd, fe_dir), 0);
    ck_assert_int_eq(xf_xenbus_dev_switch(xb, &dev, XenbusStateInitialising, T5), -XF_ENOENT);
    ck_assert(!xf_xsd_exists(xsd, fe_dir));
}
END_TEST

START_TEST(test_rewriting_backend)
{
    /* The backend writes InitWait again before every request is served:
     * waiting for Connected ends at the deadline. */
    struct xf_xenbus_dev dev;
    XenbusState s;
    char p[160];

    make_device();
    ck_assert_int_eq(xf_xenbus_dev_init(xb, &dev, "vif", "0", T5), 0);
    snprintf(p, sizeof(p), "%s/state", be_dir);
    ck_assert_int_eq(xf_xsd_rewrite(xsd, p, "2", 1), 0);
    uint64_t t0 = xf_plat_now_ns();
    ck_assert_int_eq(xf_xenbus_dev_wait_backend(xb, &dev,
                                                XF_XENBUS_STATE_BIT(XenbusStateConnected), &s,
                                                SOON(300)), -XF_ETIMEDOUT);
    ck_assert_uint_ge(xf_plat_now_ns() - t0, 300 * MS_NS);
    ck_assert_uint_lt(xf_plat_now_ns() - t0, 3 * SEC_NS);
    ck_assert_int_eq(s, XenbusStateInitWait);
    ck_assert_int_eq(xf_xsd_rewrite(xsd, NULL, NULL, 0), 0);
    ck_assert_int_eq(xf_xenbus_status(xb), 0);
}
END_TEST

START_TEST(test_device_failed_calls_change_nothing)
{
    struct xf_xenbus_dev dev, copy;
    char p[192], nb[160];

    make_device();
    ck_assert_int_eq(xf_xenbus_dev_init(xb, &dev, "vif", "0", T5), 0);
    copy = dev;
    /* A device that does not exist leaves dev as it was. */
    ck_assert_int_eq(xf_xenbus_dev_init(xb, &dev, "vif", "1", T5), -XF_ENOENT);
    ck_assert_int_eq(memcmp(&dev, &copy, sizeof(dev)), 0);
    /* The toolstack moves the backend, with a bad backend-id: reconnect
     * fails and the device still names the old backend and domain. */
    snprintf(nb, sizeof(nb), "/local/domain/0/backend/vif/%u/9", guest);
    snprintf(p, sizeof(p), "%s/backend", fe_dir);
    ck_assert_int_eq(xf_xsd_write(xsd, p, nb, strlen(nb)), 0);
    snprintf(p, sizeof(p), "%s/backend-id", fe_dir);
    ck_assert_int_eq(xf_xsd_write(xsd, p, "70000", 5), 0);
    ck_assert_int_eq(xf_xenbus_dev_reconnect(xb, &dev, T5), -XF_EINVAL);
    ck_assert_int_eq(memcmp(&dev, &copy, sizeof(dev)), 0);
    ck_assert_int_eq(xf_xenbus_dev_init(xb, &dev, "vif", "0", T5), -XF_EINVAL);
    ck_assert_int_eq(memcmp(&dev, &copy, sizeof(dev)), 0);
    /* A bad backend path, same. */
    ck_assert_int_eq(xf_xsd_write(xsd, p, "0", 1), 0);
    snprintf(p, sizeof(p), "%s/backend", fe_dir);
    ck_assert_int_eq(xf_xsd_write(xsd, p, "relative/path", 13), 0);
    ck_assert_int_eq(xf_xenbus_dev_reconnect(xb, &dev, T5), -XF_EINVAL);
    ck_assert_int_eq(memcmp(&dev, &copy, sizeof(dev)), 0);
}
END_TEST

START_TEST(test_wait_backend_token_is_its_own)
{
    /* The caller holds watches with the tokens the library would pick:
     * waiting for the backend still works, and theirs are untouched. */
    struct xf_xenbus_dev dev;
    struct xf_xenbus_watch *w[3];
    XenbusState s;
    char tok[32];

    make_device();
    ck_assert_int_eq(xf_xenbus_dev_init(xb, &dev, "vif", "0", T5), 0);
    for (int i = 0; i < 3; i++) {
        snprintf(tok, sizeof(tok), "xf-xenbus-wait-%d", i);
        ck_assert_int_eq(xf_xenbus_watch_add(xb, "data", tok, NULL, NULL, &w[i], T5), 0);
    }
    set_be_state(XenbusStateInitWait);
    ck_assert_int_eq(xf_xenbus_dev_wait_backend(xb, &dev,
                                                XF_XENBUS_STATE_BIT(XenbusStateInitWait), &s,
                                                T5), 0);
    ck_assert_int_eq(s, XenbusStateInitWait);
    ck_assert_uint_eq(xf_xenbus_watch_count(xb), 3);
    for (int i = 0; i < 3; i++)
        ck_assert_int_eq(xf_xenbus_watch_remove(xb, w[i], T5), 0);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("xenbus-xsd");
    TCase *tc = tcase_create("xsd");

    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 30);
    tcase_add_test(tc, test_read_write_mkdir_rm);
    tcase_add_test(tc, test_big_values);
    tcase_add_test(tc, test_pipelined_16);
    tcase_add_test(tc, test_directory_and_part);
    tcase_add_test(tc, test_perms_and_domain_path);
    tcase_add_test(tc, test_watches);
    tcase_add_test(tc, test_watch_event_before_reply);
    tcase_add_test(tc, test_watch_queue_bounded);
    tcase_add_test(tc, test_transaction_retry);
    tcase_add_test(tc, test_reset_watches);
    tcase_add_test(tc, test_reconnect_xsd);
    tcase_add_test(tc, test_quiesce_hand_over);
    tcase_add_test(tc, test_hostile_len_too_big);
    tcase_add_test(tc, test_hostile_wrong_type);
    tcase_add_test(tc, test_hostile_unknown_req_id);
    tcase_add_test(tc, test_hostile_rsp_prod_jump);
    tcase_add_test(tc, test_hostile_duplicate_reply);
    tcase_add_test(tc, test_hostile_unterminated);
    tcase_add_test(tc, test_hostile_silent);
    tcase_add_test(tc, test_split_writes);
    tcase_add_test(tc, test_device_helpers);
    tcase_add_test(tc, test_state_machine);
    tcase_add_test(tc, test_hostile_event_flood);
    tcase_add_test(tc, test_hostile_spontaneous_reset);
    tcase_add_test(tc, test_hostile_silent_dead_link);
    tcase_add_test(tc, test_rewriting_backend);
    tcase_add_test(tc, test_device_failed_calls_change_nothing);
    tcase_add_test(tc, test_wait_backend_token_is_its_own);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return xf_check_run(suite());
}
