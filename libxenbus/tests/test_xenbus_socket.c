/*
 * The unix-socket transport (libxfxenbus_host.a) against a small xsd_sockmsg
 * server thread: the same client API over xenstored's socket protocol.
 * (The real xenstored arrives with the tier-2 tests.)
 */
#include <errno.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <xenfront/xenbus_host.h>

#include "xb_test.h"

#define T5 SOON(5000)

/* A toy store: a few keys; WATCH fires once at once. */
static struct { char key[64]; char val[5000]; size_t len; } kv[16];
static int srv_fd = -1, srv_silent, srv_close_after;
static pthread_t srv;

static bool rd_all(int fd, void *p, size_t n)
{
    while (n > 0) {
        ssize_t r = read(fd, p, n);
        if (r <= 0)
            return false;
        p = (char *)p + r;
        n -= (size_t)r;
    }
    return true;
}

static void wr_msg(int fd, uint32_t type, uint32_t id, const void *p, uint32_t len)
{
    struct xsd_sockmsg h = { .type = type, .req_id = id, .len = len };
    char buf[sizeof(h) + 8192];
    memcpy(buf, &h, sizeof(h));
    memcpy(buf + sizeof(h), p, len);
    /* Dribble it out in small pieces to exercise partial reads. */
    for (size_t o = 0; o < sizeof(h) + len;) {
        size_t n = sizeof(h) + len - o < 700 ? sizeof(h) + len - o : 700;
        ssize_t w = write(fd, buf + o, n);
        if (w <= 0)
            return;
        o += (size_t)w;
    }
}

static void *srv_main(void *arg)
{
    int fd = *(int *)arg;
    struct xsd_sockmsg h;
    static char p[XENSTORE_PAYLOAD_MAX + 1];
    int served = 0;

    while (rd_all(fd, &h, sizeof(h)) && h.len <= XENSTORE_PAYLOAD_MAX && rd_all(fd, p, h.len)) {
        p[h.len] = '\0';
        if (srv_close_after && ++served > srv_close_after)
            break;
        if (srv_silent)
            continue;
        int i;
        switch (h.type) {
        case XS_WRITE:
            for (i = 0; i < 16 && kv[i].key[0] && strcmp(kv[i].key, p); i++)
                ;
            ck_assert_int_lt(i, 16);
            ck_assert_uint_lt(strlen(p), sizeof(kv[i].key));
            memcpy(kv[i].key, p, strlen(p) + 1);
            kv[i].len = h.len - strlen(p) - 1;
            memcpy(kv[i].val, p + strlen(p) + 1, kv[i].len);
            wr_msg(fd, h.type, h.req_id, "OK", 3);
            break;
        case XS_READ:
            for (i = 0; i < 16 && strcmp(kv[i].key, p); i++)
                ;
            if (i == 16)
                wr_msg(fd, XS_ERROR, h.req_id, "ENOENT", 7);
            else
                wr_msg(fd, h.type, h.req_id, kv[i].val, (uint32_t)kv[i].len);
            break;
        case XS_WATCH: {
            char ev[256];
            size_t a = strlen(p) + 1, b = strlen(p + a) + 1;
            memcpy(ev, p, a + b);
            wr_msg(fd, XS_WATCH_EVENT, 0, ev, (uint32_t)(a + b));  /* before the reply */
            wr_msg(fd, h.type, h.req_id, "OK", 3);
            break;
        }
        case XS_TRANSACTION_START:
            wr_msg(fd, h.type, h.req_id, "42", 3);
            break;
        case XS_TRANSACTION_END:
            ck_assert_uint_eq(h.tx_id, 42);
            wr_msg(fd, XS_ERROR, h.req_id, "EAGAIN", 7);
            break;
        default:
            wr_msg(fd, XS_ERROR, h.req_id, "ENOSYS", 7);
        }
    }
    close(fd);
    return NULL;
}

static void setup(void)
{
    /* The simulator only provides the seam (pages, clock) here. */
    sim = xf_sim_create(NULL);
    ck_assert_ptr_nonnull(sim);
    memset(kv, 0, sizeof(kv));
    srv_silent = srv_close_after = 0;
}

static void teardown(void)
{
    xf_xenbus_destroy(xb);
    xb = NULL;
    pthread_join(srv, NULL);
    xf_sim_destroy(sim);
}

static void start_pair(void)
{
    int sv[2];

    ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
    srv_fd = sv[1];
    ck_assert_int_eq(pthread_create(&srv, NULL, srv_main, &srv_fd), 0);
    ck_assert_int_eq(xf_xenbus_create_fd(&xb, NULL, sv[0]), 0);
}

START_TEST(test_socket_ops)
{
    static char big[4000], buf[4100];
    struct xf_xenbus_watch *w;
    size_t len;
    unsigned flags;

    start_pair();
    memset(big, 'b', sizeof(big));
    ck_assert_int_eq(xf_xenbus_write(xb, 0, "/vm/big", big, sizeof(big), T5), 0);
    ck_assert_int_eq(xf_xenbus_read(xb, 0, "/vm/big", buf, sizeof(buf), &len, T5), 0);
    ck_assert_uint_eq(len, sizeof(big));
    ck_assert_int_eq(memcmp(buf, big, len), 0);
    ck_assert_int_eq(xf_xenbus_read(xb, 0, "/vm/none", buf, sizeof(buf), &len, T5), -XF_ENOENT);
    ck_assert_int_eq(xf_xenbus_watch_add(xb, "/vm", "sock", NULL, NULL, &w, T5), 0);
    ck_assert_int_eq(xf_xenbus_watch_next(xb, w, buf, sizeof(buf), &len, &flags), 1);
    ck_assert_str_eq(buf, "/vm");
    ck_assert_int_eq(xf_xenbus_mkdir(xb, 0, "/vm/x", T5), -XF_ENOSYS);
    ck_assert_int_eq(xf_xenbus_reconnect(xb, T5), -XF_EOPNOTSUPP);
    /* 16 pipelined reads. */
    uint32_t ids[16];
    for (int i = 0; i < 16; i++) {
        struct xf_xenbus_iov iov = { "/vm/big", 8 };
        ck_assert_int_eq(xf_xenbus_submit(xb, XS_READ, 0, &iov, 1, NULL, NULL, &ids[i]), 0);
    }
    for (int i = 0; i < 16; i++) {
        ck_assert_int_eq(xf_xenbus_req_wait(xb, ids[i], T5), 0);
        ck_assert_int_eq(xf_xenbus_req_reply(xb, ids[i], NULL, NULL), (int)sizeof(big));
        xf_xenbus_req_release(xb, ids[i]);
    }
}
END_TEST

static int tx_body(struct xf_xenbus *x, xf_xenbus_tx_t tx, void *arg)
{
    (void)x;
    ck_assert_uint_eq(tx, 42);
    (*(int *)arg)++;
    return 0;
}

START_TEST(test_socket_transaction_bound)
{
    int calls = 0;

    start_pair();
    ck_assert_int_eq(xf_xenbus_transaction_run(xb, tx_body, &calls, 3, T5), -XF_EAGAIN);
    ck_assert_int_eq(calls, 3);
}
END_TEST

START_TEST(test_socket_silent_and_eof)
{
    char buf[16];
    uint64_t t0 = xf_plat_now_ns();

    srv_silent = 1;
    srv_close_after = 2;
    start_pair();
    ck_assert_int_eq(xf_xenbus_read(xb, 0, "/a", buf, sizeof(buf), NULL, SOON(100)),
                     -XF_ETIMEDOUT);
    ck_assert_uint_ge(xf_plat_now_ns() - t0, 100 * MS_NS);
    ck_assert_int_eq(xf_xenbus_read(xb, 0, "/a", buf, sizeof(buf), NULL, SOON(100)),
                     -XF_ETIMEDOUT);
    /* The third request makes the server hang up: a clean error. */
    ck_assert_int_eq(xf_xenbus_read(xb, 0, "/a", buf, sizeof(buf), NULL, T5), -XF_ENOTCONN);
    ck_assert_int_eq(xf_xenbus_status(xb), -XF_ENOTCONN);
}
END_TEST

static int lfd = -1;

static void *accept_main(void *arg)
{
    static int cfd;
    (void)arg;
    cfd = accept(lfd, NULL, NULL);
    ck_assert_int_ge(cfd, 0);
    return srv_main(&cfd);
}

START_TEST(test_socket_path)
{
    char dir[] = "/tmp/xb-sock-XXXXXX", path[64], buf[16];
    struct sockaddr_un sa = { .sun_family = AF_UNIX };

    ck_assert_ptr_nonnull(mkdtemp(dir));
    snprintf(path, sizeof(path), "%s/socket", dir);
    memcpy(sa.sun_path, path, strlen(path) + 1);
    lfd = socket(AF_UNIX, SOCK_STREAM, 0);
    ck_assert_int_ge(lfd, 0);
    ck_assert_int_eq(bind(lfd, (struct sockaddr *)&sa, sizeof(sa)), 0);
    ck_assert_int_eq(listen(lfd, 1), 0);
    ck_assert_int_eq(pthread_create(&srv, NULL, accept_main, NULL), 0);
    setenv("XENSTORED_PATH", path, 1);
    ck_assert_int_eq(xf_xenbus_create_socket(&xb, NULL, NULL), 0);
    ck_assert_int_eq(xf_xenbus_write(xb, 0, "/k", "v", 1, T5), 0);
    ck_assert_int_eq(xf_xenbus_read(xb, 0, "/k", buf, sizeof(buf), NULL, T5), 0);
    ck_assert_str_eq(buf, "v");
    close(lfd);
    unlink(path);
    rmdir(dir);
    struct xf_xenbus *x2;
    ck_assert_int_lt(xf_xenbus_create_socket(&x2, NULL, "/nonexistent/xb/socket"), 0);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("xenbus-socket");
    TCase *tc = tcase_create("socket");

    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 20);
    tcase_add_test(tc, test_socket_ops);
    tcase_add_test(tc, test_socket_transaction_bound);
    tcase_add_test(tc, test_socket_silent_and_eof);
    tcase_add_test(tc, test_socket_path);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return xf_check_run(suite());
}
