/*
 * Secondary consoles (device/console/<n>) against the simulated xenstored,
 * libxenbus and libgnttab, with a back end thread as dom0 that does what
 * QEMU's xen-console does: wait for the front end to be Initialised, read
 * ring-ref and port, map the grant, bind the port, go Connected, echo the
 * data (upper-cased), and leave on request or follow the front end out.
 */
#include <ctype.h>
#include <unistd.h>

#include <xenfront/console_secondary.h>
#include <xenfront/xsd.h>

#include "console_test.h"

static struct xf_xsd *xsd;
static struct xf_xenbus *xb;
static struct xf_gnttab *gt;
static char fe[128], be_dir[128];

enum be_mode { BE_ECHO, BE_CLOSE_WHEN_FULL };

struct sec_backend {
    enum be_mode mode;
    int close_req;          /* leave now (set by the test)          */
    int stop;
    int connected;
    int result;             /* 0 when it went through cleanly       */
    grant_ref_t ref;
    evtchn_port_t guest_port;
    pthread_t thread;
};
static struct sec_backend sb;

static int node_int(const char *dir, const char *node)
{
    char path[256], buf[32];

    snprintf(path, sizeof(path), "%s/%s", dir, node);
    if (xf_xsd_read(xsd, path, buf, sizeof(buf)) < 0)
        return -1;
    return atoi(buf);
}

static void set_state(const char *dir, int st)
{
    char path[256], buf[8];

    snprintf(path, sizeof(path), "%s/state", dir);
    snprintf(buf, sizeof(buf), "%d", st);
    ck_assert_int_eq(xf_xsd_write(xsd, path, buf, strlen(buf)), 0);
}

/* Poll xenstore (as dom0) until dir/state is st, or the deadline. */
static bool wait_state(const char *dir, int st, uint64_t deadline)
{
    while (node_int(dir, "state") != st) {
        if (xf_plat_now_ns() >= deadline || LOAD(&sb.stop))
            return false;
        usleep(200);
    }
    return true;
}

static void *sec_backend_main(void *arg)
{
    struct xencons_interface *intf;
    grant_handle_t handle;
    int16_t status;
    int port;
    uint64_t deadline = DEADLINE_MS(10000);

    (void)arg;
    sb.result = -1;
    if (!wait_state(fe, XenbusStateInitialised, deadline))
        return NULL;
    sb.ref = (grant_ref_t)node_int(fe, "ring-ref");
    sb.guest_port = (evtchn_port_t)node_int(fe, "port");
    intf = xf_sim_map_grant(sim, 0, guest, sb.ref, false, &handle, &status);
    if (intf == NULL)
        return NULL;
    port = xf_sim_evtchn_bind_interdomain(sim, 0, guest, sb.guest_port);
    if (port <= 0)
        return NULL;
    STORE(&sb.connected, 1);
    set_state(be_dir, XenbusStateConnected);

    for (;;) {
        int fst = node_int(fe, "state");
        bool leave = LOAD(&sb.close_req);

        if (fst == XenbusStateClosing || fst == XenbusStateClosed)
            break;                                  /* the front end leaves */
        if (sb.mode == BE_CLOSE_WHEN_FULL &&
            LOAD(&intf->out_prod) - intf->out_cons == XF_CONSOLE_OUT_SIZE)
            leave = true;
        if (leave) {
            set_state(be_dir, XenbusStateClosing);
            if (!wait_state(fe, XenbusStateClosed, deadline))
                return NULL;
            break;
        }
        if (sb.mode == BE_ECHO) {
            uint32_t prod = LOAD(&intf->out_prod), cons = intf->out_cons;
            uint32_t iprod = intf->in_prod, icons = LOAD(&intf->in_cons);
            uint32_t n = prod - cons;

            if (n > 1024 - (iprod - icons))
                n = 1024 - (iprod - icons);
            if (n > 0) {
                for (uint32_t i = 0; i < n; i++)
                    intf->in[(iprod + i) & 1023] =
                        (char)toupper((unsigned char)intf->out[(cons + i) & 2047]);
                STORE(&intf->in_prod, iprod + n);
                STORE(&intf->out_cons, cons + n);
                xf_sim_evtchn_send(sim, 0, (evtchn_port_t)port);
                continue;
            }
        }
        (void)xf_sim_evtchn_wait(sim, 0, (evtchn_port_t)port, DEADLINE_MS(2));
        if (xf_plat_now_ns() >= deadline)
            return NULL;
    }
    /* Let go of the ring before saying Closed, as a back end must. */
    if (xf_sim_unmap_grant(sim, 0, handle) != GNTST_okay)
        return NULL;
    (void)xf_sim_evtchn_close(sim, 0, (evtchn_port_t)port);
    set_state(be_dir, XenbusStateClosed);
    sb.result = 0;
    return NULL;
}

/* The toolstack's part: both directories, with libxl's permissions. */
static void toolstack_add_console(const char *id)
{
    char path[256], val[64];
    char owner[16], reader[16];
    const char *fe_perms[2], *be_perms[2];
    const char *fe_nodes[] = { "", "/backend", "/backend-id", "/state" };
    const char *be_nodes[] = { "", "/frontend", "/frontend-id", "/state" };

    snprintf(fe, sizeof(fe), "/local/domain/%u/device/console/%s", (unsigned)guest, id);
    snprintf(be_dir, sizeof(be_dir), "/local/domain/0/backend/console/%u/%s",
             (unsigned)guest, id);
    snprintf(path, sizeof(path), "%s/backend", fe);
    ck_assert_int_eq(xf_xsd_write(xsd, path, be_dir, strlen(be_dir)), 0);
    snprintf(path, sizeof(path), "%s/backend-id", fe);
    ck_assert_int_eq(xf_xsd_write(xsd, path, "0", 1), 0);
    set_state(fe, XenbusStateInitialising);
    snprintf(path, sizeof(path), "%s/frontend", be_dir);
    ck_assert_int_eq(xf_xsd_write(xsd, path, fe, strlen(fe)), 0);
    snprintf(path, sizeof(path), "%s/frontend-id", be_dir);
    snprintf(val, sizeof(val), "%u", (unsigned)guest);
    ck_assert_int_eq(xf_xsd_write(xsd, path, val, strlen(val)), 0);
    set_state(be_dir, XenbusStateInitWait);

    snprintf(owner, sizeof(owner), "n%u", (unsigned)guest);
    snprintf(reader, sizeof(reader), "r%u", (unsigned)guest);
    fe_perms[0] = owner;
    fe_perms[1] = "r0";
    be_perms[0] = "n0";
    be_perms[1] = reader;
    for (unsigned i = 0; i < 4; i++) {
        snprintf(path, sizeof(path), "%s%s", fe, fe_nodes[i]);
        ck_assert_int_eq(xf_xsd_set_perms(xsd, path, fe_perms, 2), 0);
        snprintf(path, sizeof(path), "%s%s", be_dir, be_nodes[i]);
        ck_assert_int_eq(xf_xsd_set_perms(xsd, path, be_perms, 2), 0);
    }
}

static void world_up(void)
{
    uint64_t pfn;
    evtchn_port_t sp;

    sim_start(NULL);
    enable_upcalls();
    xsd = xf_xsd_start(sim, guest, NULL);
    ck_assert_ptr_nonnull(xsd);
    ck_assert_int_eq(xf_xenbus_hvm_store(&pfn, &sp), 0);
    ck_assert_int_eq(xf_xenbus_create_ring(&xb, NULL, ec, xf_sim_gfn_to_va(sim, guest, pfn), sp),
                     0);
    ck_assert_int_eq(xf_gnttab_create(&gt, NULL), 0);
    toolstack_add_console("1");
    memset(&sb, 0, sizeof(sb));
}

static void backend_go(enum be_mode mode)
{
    sb.mode = mode;
    ck_assert_int_eq(pthread_create(&sb.thread, NULL, sec_backend_main, NULL), 0);
}

static void backend_join(void)
{
    ck_assert_int_eq(pthread_join(sb.thread, NULL), 0);
}

static void assert_released(void)
{
    struct xf_gnttab_stats st;

    (void)xf_gnttab_reclaim(gt);
    xf_gnttab_get_stats(gt, &st);
    ck_assert_uint_eq(st.granted_refs, 0);
    ck_assert_uint_eq(st.deferred, 0);
    /* Only the xenstore port is left in the guest's evtchn context. */
    ck_assert_uint_eq(xf_evtchn_nr_bound(ec), 1);
}

static void world_down(void)
{
    ck_assert_int_eq(xf_gnttab_destroy(gt), 0);
    gt = NULL;
    xf_xenbus_destroy(xb);
    xb = NULL;
    xf_xsd_stop(xsd);
    xsd = NULL;
    sim_stop();
}

static char got[8192];
static size_t got_len;
static unsigned changes;

static void on_input(struct xf_console *c, const char *buf, size_t len, void *arg)
{
    (void)c;
    (void)arg;
    ck_assert_uint_le(got_len + len, sizeof(got));
    memcpy(got + got_len, buf, len);
    got_len += len;
}

static void on_backend(struct xf_console *c, void *arg)
{
    (void)c;
    ck_assert_ptr_eq(arg, &changes);
    changes++;
}

static struct xf_console *open_connected(void)
{
    struct xf_console_secondary_config cfg = {
        .input = on_input, .backend_changed = on_backend, .backend_changed_arg = &changes,
    };
    struct xf_console *con = NULL;

    got_len = 0;
    changes = 0;
    ck_assert_int_eq(xf_console_secondary_open(&con, xb, ec, gt, "1", &cfg, DEADLINE_MS(10000)),
                     0);
    ck_assert_ptr_nonnull(con);
    ck_assert(LOAD(&sb.connected));
    ck_assert_int_eq(node_int(fe, "state"), XenbusStateConnected);
    ck_assert_int_eq(node_int(fe, "ring-ref"), (int)xf_console_secondary_ring_ref(con));
    ck_assert_int_eq(node_int(fe, "port"), (int)xf_console_port(con));
    ck_assert_int_eq(xf_console_status(con), 0);
    return con;
}

/* Output goes out and comes back through the input callback. */
static void echo_round(struct xf_console *con, const char *msg)
{
    size_t n = strlen(msg);
    uint64_t deadline = DEADLINE_MS(10000);
    char want[256];

    ck_assert_uint_lt(n, sizeof(want));
    for (size_t i = 0; i < n; i++)
        want[i] = (char)toupper((unsigned char)msg[i]);
    got_len = 0;
    ck_assert_int_eq(xf_console_write_all(con, msg, n, deadline, NULL), 0);
    while (got_len < n && xf_plat_now_ns() < deadline)
        (void)xf_plat_wait(deadline);
    ck_assert_uint_eq(got_len, n);
    ck_assert_mem_eq(got, want, n);
}

START_TEST(test_secondary_backend_closes)
{
    struct xf_console *con;
    uint64_t deadline;

    world_up();
    backend_go(BE_ECHO);
    con = open_connected();
    echo_round(con, "hello, secondary console\n");
    ck_assert_int_eq(xf_console_secondary_service(con, true, DEADLINE_MS(5000)), 0);
    ck_assert_int_eq(xf_console_secondary_service(con, false, DEADLINE_MS(5000)), 0);
    changes = 0;

    /* The back end leaves: the watch tells us (from the event handler). */
    STORE(&sb.close_req, 1);
    deadline = DEADLINE_MS(10000);
    while (changes == 0 && xf_plat_now_ns() < deadline)
        (void)xf_plat_wait(deadline);
    ck_assert_uint_gt(changes, 0);
    ck_assert_int_eq(xf_console_secondary_service(con, false, DEADLINE_MS(10000)), -XF_ENOTCONN);
    backend_join();
    ck_assert_int_eq(sb.result, 0);
    ck_assert_int_eq(node_int(fe, "state"), XenbusStateClosed);
    ck_assert_int_eq(node_int(be_dir, "state"), XenbusStateClosed);
    ck_assert_int_eq(xf_console_status(con), -XF_ENOTCONN);
    ck_assert_int_eq(xf_console_write(con, "x", 1), -XF_ENOTCONN);
    ck_assert_int_eq(xf_console_poll(con), -XF_ENOTCONN);
    ck_assert_int_eq(xf_console_secondary_service(con, true, DEADLINE_MS(1000)), -XF_ENOTCONN);
    ck_assert_uint_eq(xf_console_secondary_ring_ref(con), 0);
    assert_released();
    ck_assert_int_eq(xf_console_secondary_close(con, DEADLINE_MS(1000)), 0);
    world_down();
}
END_TEST

START_TEST(test_secondary_frontend_closes)
{
    struct xf_console *con;

    world_up();
    backend_go(BE_ECHO);
    con = open_connected();
    echo_round(con, "first");
    echo_round(con, "and a second line\n");
    ck_assert_int_eq(xf_console_secondary_close(con, DEADLINE_MS(10000)), 0);
    backend_join();
    ck_assert_int_eq(sb.result, 0);
    ck_assert_int_eq(node_int(fe, "state"), XenbusStateClosed);
    ck_assert_int_eq(node_int(be_dir, "state"), XenbusStateClosed);
    assert_released();
    world_down();
}
END_TEST

/* A writer waiting for space is told the back end left, before its
 * deadline. */
START_TEST(test_secondary_close_while_writing)
{
    static char buf[6000];
    struct xf_console *con;
    size_t written = 0;
    uint64_t deadline;

    world_up();
    backend_go(BE_CLOSE_WHEN_FULL);
    con = open_connected();
    memset(buf, 'w', sizeof(buf));
    deadline = DEADLINE_MS(15000);
    ck_assert_int_eq(xf_console_write_all(con, buf, sizeof(buf), deadline, &written),
                     -XF_ENOTCONN);
    ck_assert_uint_lt(xf_plat_now_ns(), deadline);
    ck_assert_uint_eq(written, XF_CONSOLE_OUT_SIZE);
    backend_join();
    ck_assert_int_eq(sb.result, 0);
    assert_released();
    ck_assert_int_eq(xf_console_secondary_close(con, DEADLINE_MS(1000)), 0);
    world_down();
}
END_TEST

/* No back end ever comes: the deadline, and everything given back. */
START_TEST(test_secondary_no_backend)
{
    struct xf_console *con = NULL;

    world_up();
    ck_assert_int_eq(xf_console_secondary_open(&con, xb, ec, gt, "1", NULL, DEADLINE_MS(300)),
                     -XF_ETIMEDOUT);
    ck_assert_ptr_null(con);
    assert_released();
    ck_assert_int_eq(xf_console_secondary_open(&con, xb, ec, gt, "7", NULL, DEADLINE_MS(3000)),
                     -XF_ENOENT);
    ck_assert_int_eq(xf_console_secondary_open(&con, xb, ec, gt, "../1", NULL, DEADLINE_MS(300)),
                     -XF_EINVAL);
    ck_assert_int_eq(xf_console_secondary_open(&con, NULL, ec, gt, "1", NULL, DEADLINE_MS(300)),
                     -XF_EINVAL);
    assert_released();
    ck_assert_int_eq(xf_console_secondary_close(NULL, 0), 0);
    world_down();
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("console-secondary");
    TCase *tc = tcase_create("secondary");

    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_secondary_backend_closes);
    tcase_add_test(tc, test_secondary_frontend_closes);
    tcase_add_test(tc, test_secondary_close_while_writing);
    tcase_add_test(tc, test_secondary_no_backend);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return xf_check_run(suite());
}
