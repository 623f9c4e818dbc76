/*
 * libxenbus against the real xenstored (Debian's xen-utils-4.17, unmodified,
 * run through the shim): as a domU over its xenstore ring (the toolstack
 * introduced the domain as xl does), and as dom0 over xenstored's socket
 * (libxenbus_host). The toolstack and the checks use libxenstore, the
 * reference client.
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <xenstore.h>
#include <xenfront/xenbus_host.h>

#include "hp_guest.h"

#define T5 SOON(5000)

static struct xf_xenbus *xb;
static char home[64];

static void up_cfg(const struct xf_xenbus_config *cfg)
{
    guest_up();
    HP_OK(hp_start_xenstored(&hp, &hp_why));
    HP_OK(hp_introduce(&hp, NULL, &hp_why));
    xb = guest_xenbus_cfg(cfg);
    snprintf(home, sizeof(home), "/local/domain/%u", hp.domid);
}

static void up(void)
{
    up_cfg(NULL);
}

static void down(void)
{
    xf_xenbus_destroy(xb);
    xb = NULL;
    ck_assert_msg(hp_alive(&hp.xenstored), "xenstored died during the test");
    guest_down();
}

static void tool_read(const char *rel, char *buf, size_t cap)
{
    char p[256];
    snprintf(p, sizeof(p), "%s/%s", home, rel);
    ck_assert_int_ge(hp_xs_read(&hp, p, buf, cap), 0);
}

/* ------------------------------------------------------------------------
 * As a domU over the ring.
 */
START_TEST(ring_relative_paths_and_domain_path)
{
    char buf[256];
    size_t len;

    up();
    ck_assert_int_eq(xf_xenbus_write(xb, 0, "data/hello", "from the guest", 14, T5), 0);
    tool_read("data/hello", buf, sizeof(buf));
    ck_assert_str_eq(buf, "from the guest");
    ck_assert_int_eq(xf_xenbus_read(xb, 0, "name", buf, sizeof(buf), &len, T5), 0);
    ck_assert_str_eq(buf, HP_NAME);
    ck_assert_int_eq(xf_xenbus_read(xb, 0, "/local/domain/1/domid", buf, sizeof(buf), &len, T5),
                     0);
    ck_assert_int_eq(xf_xenbus_get_domain_path(xb, hp.domid, buf, sizeof(buf), T5),
                     (int)strlen(home));
    ck_assert_str_eq(buf, home);
    /* Nodes of its own: mkdir, directory, rm. */
    ck_assert_int_eq(xf_xenbus_mkdir(xb, 0, "data/dir/sub", T5), 0);
    unsigned int count;
    ck_assert_int_gt(xf_xenbus_directory(xb, 0, "data/dir", buf, sizeof(buf), &count, T5), 0);
    ck_assert_uint_eq(count, 1);
    ck_assert_str_eq(buf, "sub");
    ck_assert_int_eq(xf_xenbus_rm(xb, 0, "data/dir", T5), 0);
    ck_assert_int_eq(xf_xenbus_read(xb, 0, "data/dir", buf, sizeof(buf), &len, T5), -XF_ENOENT);
    /* Its permissions as xenstored reports them. */
    ck_assert_int_gt(xf_xenbus_get_perms(xb, 0, "data/hello", buf, sizeof(buf), &count, T5), 0);
    ck_assert_uint_eq(count, 2);
    ck_assert_str_eq(buf, "n1");
    down();
}
END_TEST

START_TEST(ring_eacces_on_dom0_nodes)
{
    char buf[64];
    size_t len;

    up();
    ck_assert_int_eq(hp_xs_write(&hp, "/tool/secret", "dom0 only"), 0);
    ck_assert_int_eq(xf_xenbus_read(xb, 0, "/tool/secret", buf, sizeof(buf), &len, T5),
                     -XF_EACCES);
    ck_assert_int_eq(xf_xenbus_write(xb, 0, "/tool/secret", "x", 1, T5), -XF_EACCES);
    ck_assert_int_eq(xf_xenbus_write(xb, 0, "/local/domain/0/mine", "x", 1, T5), -XF_EACCES);
    /* Readable, not writable: the domain's own directory (n0 r<domid>). */
    ck_assert_int_eq(xf_xenbus_write(xb, 0, "name", "renamed", 7, T5), -XF_EACCES);
    ck_assert_int_eq(xf_xenbus_rm(xb, 0, "device", T5), -XF_EACCES);
    /* The connection is still good. */
    ck_assert_int_eq(xf_xenbus_read(xb, 0, "name", buf, sizeof(buf), &len, T5), 0);
    down();
}
END_TEST

/* Many writes in flight under a watch of the same subtree: xenstored
 * sends events between (and before) the replies. */
START_TEST(ring_watch_events_interleaved_with_replies)
{
    enum { N = 48 };
    struct xf_xenbus_watch *w;
    char buf[256];
    uint32_t ids[N];
    struct xf_xenbus_config cfg = { .max_outstanding = 64 };

    up_cfg(&cfg);
    ck_assert_int_eq(xf_xenbus_watch_add(xb, "data/w", "tok", NULL, NULL, &w, T5), 0);
    /* The initial event. */
    ck_assert_int_eq(xf_xenbus_watch_wait(xb, w, buf, sizeof(buf), NULL, NULL, T5), 1);
    ck_assert_str_eq(buf, "data/w");
    for (int i = 0; i < N; i++) {
        char path[32];
        snprintf(path, sizeof(path), "data/w/k%d", i);
        struct xf_xenbus_iov iov[2] = { { path, strlen(path) + 1 }, { "v", 1 } };
        ck_assert_int_eq(xf_xenbus_submit(xb, XS_WRITE, 0, iov, 2, NULL, NULL, &ids[i]), 0);
    }
    for (int i = 0; i < N; i++) {
        ck_assert_int_eq(xf_xenbus_req_wait(xb, ids[i], T5), 0);
        ck_assert_int_eq(xf_xenbus_req_reply(xb, ids[i], NULL, NULL), 3); /* "OK\0" */
        ck_assert_int_eq(xf_xenbus_req_release(xb, ids[i]), 0);
    }
    bool seen[N] = { false };
    for (int i = 0; i < N; i++) {
        unsigned int flags = 0;
        ck_assert_int_eq(xf_xenbus_watch_wait(xb, w, buf, sizeof(buf), NULL, &flags, T5), 1);
        ck_assert_uint_eq(flags, 0);
        int k = -1;
        ck_assert_int_eq(sscanf(buf, "data/w/k%d", &k), 1);
        ck_assert(k >= 0 && k < N && !seen[k]);
        seen[k] = true;
    }
    /* A dom0 writer's change reaches the guest's watch too. */
    char p[128];
    snprintf(p, sizeof(p), "%s/data/w/from-dom0", home);
    ck_assert_int_eq(hp_xs_write(&hp, p, "1"), 0);
    ck_assert_int_eq(xf_xenbus_watch_wait(xb, w, buf, sizeof(buf), NULL, NULL, T5), 1);
    ck_assert_str_eq(buf, "data/w/from-dom0");
    ck_assert_int_eq(xf_xenbus_watch_remove(xb, w, T5), 0);
    ck_assert_int_eq(hp_xs_write(&hp, p, "2"), 0);
    ck_assert_int_eq(xf_xenbus_write(xb, 0, "data/sync", "1", 1, T5), 0);
    ck_assert_uint_eq(xf_xenbus_watch_count(xb), 0);
    down();
}
END_TEST

struct conflict { unsigned int attempts; };

static int conflict_body(struct xf_xenbus *x, xf_xenbus_tx_t tx, void *arg)
{
    struct conflict *c = arg;
    char buf[64], p[128];
    size_t len;
    int rc;

    c->attempts++;
    rc = xf_xenbus_read(x, tx, "data/counter", buf, sizeof(buf), &len, T5);
    if (rc < 0)
        return rc;
    if (c->attempts == 1) {
        /* dom0 writes the node the transaction read: its commit must fail. */
        snprintf(p, sizeof(p), "%s/data/counter", home);
        if (hp_xs_write(&hp, p, "dom0") != 0)
            return -XF_EIO;
    }
    snprintf(p, sizeof(p), "%s+guest", buf);
    return xf_xenbus_write(x, tx, "data/counter", p, strlen(p), T5);
}

START_TEST(ring_transaction_conflicting_with_dom0_is_retried)
{
    struct conflict c = { 0 };
    char buf[64];

    up();
    ck_assert_int_eq(xf_xenbus_write(xb, 0, "data/counter", "start", 5, T5), 0);
    ck_assert_int_eq(xf_xenbus_transaction_run(xb, conflict_body, &c, 0, SOON(10000)), 0);
    ck_assert_uint_eq(c.attempts, 2);
    tool_read("data/counter", buf, sizeof(buf));
    ck_assert_str_eq(buf, "dom0+guest");
    /* An explicit transaction sees its own writes, others do not. */
    xf_xenbus_tx_t tx;
    size_t len;
    ck_assert_int_eq(xf_xenbus_transaction_start(xb, &tx, T5), 0);
    ck_assert_int_eq(xf_xenbus_write(xb, tx, "data/iso", "in-tx", 5, T5), 0);
    ck_assert_int_eq(xf_xenbus_read(xb, 0, "data/iso", buf, sizeof(buf), &len, T5), -XF_ENOENT);
    ck_assert_int_eq(xf_xenbus_transaction_end(xb, tx, true, T5), 0);
    ck_assert_int_eq(xf_xenbus_read(xb, 0, "data/iso", buf, sizeof(buf), &len, T5), 0);
    ck_assert_str_eq(buf, "in-tx");
    down();
}
END_TEST

START_TEST(ring_directory_part_thousands_of_children)
{
    enum { N = 3000 };
    static char buf[N * 16];
    char p[128];
    unsigned int count = 0;

    up();
    /* dom0 makes the directory (n0 r<domid>: no quota of the guest's). */
    snprintf(p, sizeof(p), "%s/many", home);
    ck_assert(xs_mkdir(hp.xs, XBT_NULL, p));
    struct xs_permissions perms[2] = { { 0, XS_PERM_NONE }, { hp.domid, XS_PERM_READ } };
    ck_assert(xs_set_permissions(hp.xs, XBT_NULL, p, perms, 2));
    for (int i = 0; i < N; i++) {
        snprintf(p, sizeof(p), "%s/many/entry-%05d", home, i);
        ck_assert(xs_write(hp.xs, XBT_NULL, p, "", 0));
    }
    /* XS_DIRECTORY gets E2BIG from xenstored, then DIRECTORY_PART pieces. */
    int used = xf_xenbus_directory(xb, 0, "many", buf, sizeof(buf), &count, SOON(20000));
    ck_assert_int_eq(used, N * 12);
    ck_assert_uint_eq(count, N);
    bool seen[N] = { false };
    for (const char *s = buf; s < buf + used; s += strlen(s) + 1) {
        int k = -1;
        ck_assert_int_eq(sscanf(s, "entry-%05d", &k), 1);
        ck_assert(k >= 0 && k < N && !seen[k]);
        seen[k] = true;
    }
    count = 0;
    used = xf_xenbus_directory_part(xb, 0, "many", buf, sizeof(buf), &count, SOON(20000));
    ck_assert_int_eq(used, N * 12);
    ck_assert_uint_eq(count, N);
    /* What libxenstore lists is the same set. */
    unsigned int n2 = 0;
    snprintf(p, sizeof(p), "%s/many", home);
    char **names = xs_directory(hp.xs, XBT_NULL, p, &n2);
    ck_assert_ptr_nonnull(names);
    ck_assert_uint_eq(n2, N);
    free(names);
    ck_assert_int_eq(xf_xenbus_directory(xb, 0, "many", buf, 100, &count, T5), -XF_ENOBUFS);
    down();
}
END_TEST

START_TEST(ring_values_near_the_size_limit)
{
    static char big[XENSTORE_PAYLOAD_MAX + 2], back[XENSTORE_PAYLOAD_MAX + 2];
    char p[128];
    size_t len;

    up();
    /* dom0 (no entry-size quota) writes the largest value a reply can carry
     * for this path; the guest reads it back whole over the ring. */
    snprintf(p, sizeof(p), "%s/data/big", home);
    size_t max = XENSTORE_PAYLOAD_MAX - strlen(p) - 1;
    for (size_t i = 0; i < max; i++)
        big[i] = (char)('a' + i % 26);
    ck_assert(xs_write(hp.xs, XBT_NULL, p, big, (unsigned int)max));
    ck_assert_int_eq(xf_xenbus_read(xb, 0, "data/big", back, sizeof(back), &len, T5), 0);
    ck_assert_uint_eq(len, max);
    ck_assert_int_eq(memcmp(back, big, max), 0);
    ck_assert_int_eq(xf_xenbus_read(xb, 0, "data/big", back, max, &len, T5), -XF_ENOBUFS);
    /* The guest's own write: the largest message the protocol allows for a
     * relative path is refused locally one byte further, and xenstored's
     * per-node quota for a domU (2048 bytes by default) says ENOSPC above
     * it. */
    size_t gmax = XENSTORE_PAYLOAD_MAX - strlen("data/g") - 1;
    ck_assert_int_eq(xf_xenbus_write(xb, 0, "data/g", big, gmax + 1, T5), -XF_E2BIG);
    int rc = xf_xenbus_write(xb, 0, "data/g", big, gmax, T5);
    ck_assert_msg(rc == -XF_ENOSPC, "write of %zu bytes: %d", gmax, rc);
    ck_assert_int_eq(xf_xenbus_write(xb, 0, "data/g", big, 1900, T5), 0);
    ck_assert_int_eq(xf_xenbus_read(xb, 0, "data/g", back, sizeof(back), &len, T5), 0);
    ck_assert_uint_eq(len, 1900);
    ck_assert_int_eq(memcmp(back, big, 1900), 0);
    down();
}
END_TEST

/*
 * What a guest meets long before the protocol's limits, measured on the
 * real xenstored (and documented in xenbus.h, "Server limits"): the
 * largest value a domU may write to a fresh node, how a node's child list
 * counts against the same quota, and how many transactions it may hold
 * open at once. Asserts the documented figures, so the header stays true.
 */
static size_t largest_write(const char *node)
{
    static char v[XENSTORE_PAYLOAD_MAX];
    size_t lo = 1, hi = 4000;

    memset(v, 'v', sizeof(v));
    while (lo + 1 < hi) {           /* lo writes, hi does not */
        size_t mid = (lo + hi) / 2;
        int rc = xf_xenbus_write(xb, 0, node, v, mid, T5);

        ck_assert_msg(rc == 0 || rc == -XF_ENOSPC, "write of %zu: %d", mid, rc);
        if (rc == 0)
            lo = mid;
        else
            hi = mid;
    }
    return lo;
}

/* What Debian's xenstored 4.17 gives a domU at its defaults (quota-max-
 * entry-size 2048, counting the node's permissions and child names too;
 * quota-max-transaction 10, the check letting one more through). */
#define XSD417_DOMU_VALUE_MAX 2007
#define XSD417_DOMU_TRANSACTIONS_MAX 11
START_TEST(ring_server_limits_measured)
{
    xf_xenbus_tx_t tx[16];
    unsigned int open = 0, kids = 0;
    size_t alone, with_kids;
    char name[128];
    int rc;

    up();
    alone = largest_write("data/limit");
    ck_assert_int_eq(xf_xenbus_write(xb, 0, "data/limit", "", 0, T5), 0);
    /* Children of a node: each name (and its NUL) counts against the
     * parent's size, so a node with children holds a shorter value. */
    for (unsigned int i = 0; i < 10; i++) {
        snprintf(name, sizeof(name), "data/limit/child-with-a-forty-byte-name-%06u", i);
        ck_assert_int_eq(xf_xenbus_write(xb, 0, name, "1", 1, T5), 0);
        kids++;
    }
    with_kids = largest_write("data/limit");
    /* Transactions open at once. */
    for (; open < 16; open++) {
        rc = xf_xenbus_transaction_start(xb, &tx[open], T5);
        if (rc != 0)
            break;
    }
    fprintf(stderr, "# xenstored 4.17 limits for a domU: value %zu bytes alone, %zu with %u "
            "children of %zu-byte names; %u transactions open (next: %d)\n",
            alone, with_kids, kids, strlen("child-with-a-forty-byte-name-000000"), open, rc);
    ck_assert_uint_eq(alone, XSD417_DOMU_VALUE_MAX);
    ck_assert_uint_eq(alone - with_kids, kids * (strlen("child-with-a-forty-byte-name-000000") + 1));
    ck_assert_uint_eq(open, XSD417_DOMU_TRANSACTIONS_MAX);
    ck_assert_int_eq(rc, -XF_ENOSPC);
    while (open > 0)
        ck_assert_int_eq(xf_xenbus_transaction_end(xb, tx[--open], false, T5), 0);
    down();
}
END_TEST

/* The guest's watch count as xenstored keeps it (XS_CONTROL "quota"). */
static int xsd_watches(void)
{
    char arg[16];
    int n = snprintf(arg, sizeof(arg), "%u", hp.domid);
    char *out = xs_control_command(hp.xs, "quota", arg, (unsigned int)n + 1);
    ck_assert_msg(out != NULL, "XS_CONTROL quota failed");
    char *w = strstr(out, "watches");
    ck_assert_ptr_nonnull(w);
    int v = -1;
    ck_assert_int_eq(sscanf(w, "watches : %d", &v), 1);
    free(out);
    return v;
}

START_TEST(ring_reset_watches)
{
    struct xf_xenbus_watch *w;
    char p[128];

    up();
    /* Not offered until the toolstack says so (as Linux checks). */
    ck_assert_int_eq(xf_xenbus_reset_watches(xb, T5), -XF_EOPNOTSUPP);
    snprintf(p, sizeof(p), "%s/control/platform-feature-xs_reset_watches", home);
    ck_assert_int_eq(hp_xs_write(&hp, p, "1"), 0);
    /* A previous kernel's watches: registered, then its context dropped
     * (server-side watches stay). It hands the ring over with
     * xf_xenbus_quiesce(): dropped in the middle of a message, which
     * xenstored writes header first, the next context would start
     * mid-message and fail with -XF_EPROTO (xenstored 4.17 offers no ring
     * reconnection to resynchronise; seen once under valgrind before
     * quiesce existed). */
    char ev[128];
    ck_assert_int_eq(xf_xenbus_watch_add(xb, "data/a", "old-a", NULL, NULL, &w, T5), 0);
    ck_assert_int_eq(xf_xenbus_watch_wait(xb, w, ev, sizeof(ev), NULL, NULL, T5), 1);
    ck_assert_int_eq(xf_xenbus_watch_add(xb, "data/b", "old-b", NULL, NULL, &w, T5), 0);
    ck_assert_int_eq(xf_xenbus_watch_wait(xb, w, ev, sizeof(ev), NULL, NULL, T5), 1);
    ck_assert_int_eq(xf_xenbus_reset_watches(xb, T5), -XF_EBUSY);
    ck_assert_int_eq(xf_xenbus_quiesce(xb, T5), 0);
    xf_xenbus_destroy(xb);
    ck_assert_int_eq(xsd_watches(), 2);
    xb = guest_xenbus();
    ck_assert_int_eq(xf_xenbus_reset_watches(xb, T5), 0);
    ck_assert_int_eq(xsd_watches(), 0);
    /* Events for the old tokens no longer come: a fresh watch sees only
     * its own. */
    ck_assert_int_eq(xf_xenbus_watch_add(xb, "data", "new", NULL, NULL, &w, T5), 0);
    char buf[128];
    ck_assert_int_eq(xf_xenbus_watch_wait(xb, w, buf, sizeof(buf), NULL, NULL, T5), 1);
    ck_assert_int_eq(xf_xenbus_write(xb, 0, "data/a", "1", 1, T5), 0);
    ck_assert_int_eq(xf_xenbus_watch_wait(xb, w, buf, sizeof(buf), NULL, NULL, T5), 1);
    ck_assert_str_eq(buf, "data/a");
    ck_assert_int_eq(xsd_watches(), 1);
    down();
}
END_TEST

/* ------------------------------------------------------------------------
 * As dom0 over xenstored's socket (libxenbus_host).
 */
START_TEST(socket_dom0_operations_watch_transaction)
{
    struct xf_xenbus *s = NULL;
    struct xf_xenbus_watch *w;
    char buf[256];
    size_t len;

    guest_up();
    HP_OK(hp_start_xenstored(&hp, &hp_why));
    ck_assert_int_eq(xf_xenbus_create_socket(&s, NULL, hp.xs_path), 0);
    /* Relative paths are dom0's. */
    ck_assert_int_eq(xf_xenbus_write(s, 0, "tooltest", "via socket", 10, T5), 0);
    ck_assert_int_ge(hp_xs_read(&hp, "/local/domain/0/tooltest", buf, sizeof(buf)), 0);
    ck_assert_str_eq(buf, "via socket");
    ck_assert_int_eq(hp_xs_write(&hp, "/tool/x", "from libxenstore"), 0);
    ck_assert_int_eq(xf_xenbus_read(s, 0, "/tool/x", buf, sizeof(buf), &len, T5), 0);
    ck_assert_str_eq(buf, "from libxenstore");
    /* Privileged: any node, any permissions. */
    const char *perms[] = { "n0", "r5" };
    ck_assert_int_eq(xf_xenbus_set_perms(s, 0, "/tool/x", perms, 2, T5), 0);
    unsigned int count;
    ck_assert_int_gt(xf_xenbus_get_perms(s, 0, "/tool/x", buf, sizeof(buf), &count, T5), 0);
    ck_assert_uint_eq(count, 2);
    ck_assert_str_eq(buf + 3, "r5");
    /* A watch fired by another client. */
    ck_assert_int_eq(xf_xenbus_watch_add(s, "/tool", "t", NULL, NULL, &w, T5), 0);
    ck_assert_int_eq(xf_xenbus_watch_wait(s, w, buf, sizeof(buf), NULL, NULL, T5), 1);
    ck_assert_int_eq(hp_xs_write(&hp, "/tool/y", "1"), 0);
    ck_assert_int_eq(xf_xenbus_watch_wait(s, w, buf, sizeof(buf), NULL, NULL, T5), 1);
    ck_assert_str_eq(buf, "/tool/y");
    /* A transaction conflicting with libxenstore's write fails with EAGAIN. */
    xf_xenbus_tx_t tx;
    ck_assert_int_eq(xf_xenbus_transaction_start(s, &tx, T5), 0);
    ck_assert_int_eq(xf_xenbus_read(s, tx, "/tool/y", buf, sizeof(buf), &len, T5), 0);
    ck_assert_int_eq(xf_xenbus_write(s, tx, "/tool/y", "2", 1, T5), 0);
    ck_assert_int_eq(hp_xs_write(&hp, "/tool/y", "3"), 0);
    ck_assert_int_eq(xf_xenbus_transaction_end(s, tx, true, T5), -XF_EAGAIN);
    ck_assert_int_eq(xf_xenbus_read(s, 0, "/tool/y", buf, sizeof(buf), &len, T5), 0);
    ck_assert_str_eq(buf, "3");
    /* Unknown to xenstored 4.17: ENOSYS is returned, not a broken link. */
    xf_xenbus_destroy(s);
    ck_assert_msg(hp_alive(&hp.xenstored), "xenstored died");
    guest_down();
}
END_TEST

static void after_test(void)
{
    if (hp_alive(&hp.xenstored) || hp.sim != NULL) {
        xf_xenbus_destroy(xb); /* a failed test's */
        xb = NULL;
    }
    guest_after_test();
}

int main(void)
{
    Suite *su = suite_create("hostpeers-xenstored");
    TCase *tc = tcase_create("xenstored");
    tcase_set_timeout(tc, 60);
    tcase_add_checked_fixture(tc, NULL, after_test);
    tcase_add_test(tc, ring_relative_paths_and_domain_path);
    tcase_add_test(tc, ring_eacces_on_dom0_nodes);
    tcase_add_test(tc, ring_watch_events_interleaved_with_replies);
    tcase_add_test(tc, ring_transaction_conflicting_with_dom0_is_retried);
    tcase_add_test(tc, ring_directory_part_thousands_of_children);
    tcase_add_test(tc, ring_values_near_the_size_limit);
    tcase_add_test(tc, ring_server_limits_measured);
    tcase_add_test(tc, ring_reset_watches);
    tcase_add_test(tc, socket_dom0_operations_watch_transaction);
    suite_add_tcase(su, tc);
    return xf_check_run(su);
}
