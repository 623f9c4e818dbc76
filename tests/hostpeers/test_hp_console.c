/*
 * libconsole against real console back ends run through the shim:
 * xenconsoled (Debian's xen-utils-4.17) serving the primary console (output
 * in its log file, input typed into its pty), and QEMU 7.2's Xen console
 * backend serving the primary console (mapped by frame number) and a
 * secondary console (mapped by grant, after the XenBus handshake).
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include <xenstore.h>
#include <xenfront/console.h>
#include <xenfront/console_secondary.h>
#include <xenfront/gnttab.h>

#include "hp_guest.h"

static struct xf_console *con;
static struct xf_xenbus *xb;
static struct xf_gnttab *gt;

static struct xf_console *primary(void)
{
    uint64_t pfn;
    evtchn_port_t port;
    struct xf_console *c = NULL;

    ck_assert_int_eq(xf_console_hvm_params(&pfn, &port), 0);
    void *page = xf_sim_gfn_to_va(hp.sim, hp.domid, (xen_pfn_t)pfn);
    ck_assert_ptr_nonnull(page);
    ck_assert_int_eq(xf_console_create(&c, ec, page, port, NULL), 0);
    return c;
}

static void write_all(struct xf_console *c, const char *s)
{
    size_t n = 0;
    ck_assert_int_eq(xf_console_write_all(c, s, strlen(s), SOON(10000), &n), 0);
    ck_assert_uint_eq(n, strlen(s));
}

/* Read input (polling the console, waiting for events) until it holds
 * needle or the deadline passes. */
static bool read_until(struct xf_console *c, const char *needle, char *got, size_t cap,
                       unsigned int ms)
{
    size_t len = 0;
    uint64_t end = SOON(ms);

    got[0] = '\0';
    while (xf_plat_now_ns() < end) {
        int n = xf_console_read(c, got + len, cap - 1 - len);
        ck_assert_int_ge(n, 0);
        len += (size_t)n;
        got[len] = '\0';
        if (strstr(got, needle) != NULL)
            return true;
        if (n == 0)
            xf_plat_wait(SOON(50));
    }
    return false;
}

static void after_test(void)
{
    if (hp.sim != NULL) { /* a failed test's leftovers, before the simulator goes */
        if (con != NULL && xb == NULL)
            xf_console_destroy(con);
        con = NULL;
        if (gt != NULL)
            (void)xf_gnttab_destroy(gt);
        gt = NULL;
        xf_xenbus_destroy(xb);
        xb = NULL;
    }
    guest_after_test();
}

/* ------------------------------------------------------------------------
 * xenconsoled.
 */
START_TEST(xenconsoled_output_to_log_and_pty_input)
{
    char p[128], tty[256], log[4200], got[512];

    guest_up();
    HP_OK(hp_start_xenstored(&hp, &hp_why));
    HP_OK(hp_introduce(&hp, "xenconsoled", &hp_why));
    HP_OK(hp_start_xenconsoled(&hp, &hp_why));
    con = primary();

    /* Output: into xenconsoled's log of the guest. */
    write_all(con, "hello from the xenfront guest console\n");
    for (int i = 0; i < 50; i++) {
        char line[64];
        snprintf(line, sizeof(line), "line %02d of a longer burst of output\n", i);
        write_all(con, line);
    }
    ck_assert_int_eq(xf_console_flush(con, SOON(10000)), 0);
    snprintf(log, sizeof(log), "%s/guest-%s.log", hp.con_dir, HP_NAME);
    ck_assert_msg(hp_wait_file(log, "hello from the xenfront guest console", 10000) == 0,
                  "output not in %s", log);
    ck_assert_int_eq(hp_wait_file(log, "line 49 of a longer burst of output", 10000), 0);

    /* Input: typed into the pty xenconsoled published. */
    snprintf(p, sizeof(p), "/local/domain/%u/console/tty", hp.domid);
    ck_assert_int_gt(hp_xs_read(&hp, p, tty, sizeof(tty)), 0);
    int fd = open(tty, O_RDWR | O_NOCTTY | O_CLOEXEC);
    ck_assert_msg(fd >= 0, "open %s", tty);
    struct termios t;
    ck_assert_int_eq(tcgetattr(fd, &t), 0);
    cfmakeraw(&t);
    ck_assert_int_eq(tcsetattr(fd, TCSANOW, &t), 0);
    const char *typed = "typed into the pty\n";
    ck_assert_int_eq(write(fd, typed, strlen(typed)), (int)strlen(typed));
    ck_assert_msg(read_until(con, "typed into the pty", got, sizeof(got), 10000),
                  "input not delivered: got \"%s\"", got);
    /* And what the guest writes shows on the pty too. */
    write_all(con, "echo:ok\n");
    char rbuf[4096];
    size_t rlen = 0;
    uint64_t end = hp_now_ms() + 10000;
    rbuf[0] = '\0';
    int fl = fcntl(fd, F_GETFL);
    fcntl(fd, F_SETFL, fl | O_NONBLOCK);
    while (strstr(rbuf, "echo:ok") == NULL && hp_now_ms() < end) {
        ssize_t n = read(fd, rbuf + rlen, sizeof(rbuf) - 1 - rlen);
        if (n > 0) {
            rlen += (size_t)n;
            rbuf[rlen] = '\0';
            if (rlen > sizeof(rbuf) - 64)
                rlen = 0;
        } else {
            xf_plat_wait(SOON(5));
        }
    }
    ck_assert_msg(strstr(rbuf, "echo:ok") != NULL, "guest output not on the pty");
    close(fd);
    xf_console_destroy(con);
    con = NULL;
    ck_assert_msg(hp_alive(&hp.xenconsoled), "xenconsoled died");
    ck_assert_msg(hp_alive(&hp.xenstored), "xenstored died");
    guest_down();
}
END_TEST

/* ------------------------------------------------------------------------
 * QEMU's console backend.
 */

/* The primary console's backend directory for QEMU, as libxl writes it
 * for a console of type "ioemu" (one transaction). */
static void primary_for_qemu(const char *output)
{
    char fe[64], be[128], p[256], v[32];
    unsigned int D = hp.domid;

    snprintf(fe, sizeof(fe), "/local/domain/%u/console", D);
    snprintf(be, sizeof(be), "/local/domain/0/backend/console/%u/0", D);
    xs_transaction_t t = xs_transaction_start(hp.xs);
    ck_assert(t != XBT_NULL);
    struct xs_permissions perms[2] = { { 0, XS_PERM_NONE }, { D, XS_PERM_READ } };
    ck_assert(xs_mkdir(hp.xs, t, be));
    ck_assert(xs_set_permissions(hp.xs, t, be, perms, 2));
    snprintf(v, sizeof(v), "%u", D);
    const char *kv[][2] = {
        { "frontend", fe }, { "frontend-id", v }, { "online", "1" }, { "state", "1" },
        { "protocol", "x86_64-abi" },
    };
    for (size_t i = 0; i < sizeof(kv) / sizeof(kv[0]); i++) {
        snprintf(p, sizeof(p), "%s/%s", be, kv[i][0]);
        ck_assert(xs_write(hp.xs, t, p, kv[i][1], (unsigned int)strlen(kv[i][1])));
    }
    const char *fkv[][2] = { { "backend", be }, { "backend-id", "0" }, { "output", output } };
    for (size_t i = 0; i < sizeof(fkv) / sizeof(fkv[0]); i++) {
        snprintf(p, sizeof(p), "%s/%s", fe, fkv[i][0]);
        ck_assert(xs_write(hp.xs, t, p, fkv[i][1], (unsigned int)strlen(fkv[i][1])));
    }
    ck_assert(xs_transaction_end(hp.xs, t, false));
}

START_TEST(qemu_primary_console_by_frame_number)
{
    char out[4200], spec[4300], p[128];

    guest_up();
    HP_OK(hp_start_xenstored(&hp, &hp_why));
    HP_OK(hp_introduce(&hp, "ioemu", &hp_why));
    snprintf(out, sizeof(out), "%s/qemu-console0.out", hp.dir);
    snprintf(spec, sizeof(spec), "file:%s", out);
    primary_for_qemu(spec);
    HP_OK(hp_start_qemu(&hp, NULL, &hp_why));
    snprintf(p, sizeof(p), "/local/domain/0/backend/console/%u/0/state", hp.domid);
    ck_assert_msg(hp_wait_xs(&hp, p, "4", 10000) == 0, "QEMU's console backend not connected");

    con = primary();
    write_all(con, "primary console through QEMU\n");
    ck_assert_msg(hp_wait_file(out, "primary console through QEMU", 10000) == 0,
                  "output not in %s", out);
    xf_console_destroy(con);
    con = NULL;
    ck_assert_msg(hp_alive(&hp.qemu), "QEMU died");
    guest_down();
}
END_TEST

START_TEST(qemu_secondary_console_by_grant)
{
    char out[4200], spec[4300], p[128];
    uint64_t pfn;
    evtchn_port_t sp;

    guest_up();
    HP_OK(hp_start_xenstored(&hp, &hp_why));
    HP_OK(hp_introduce(&hp, NULL, &hp_why));
    snprintf(out, sizeof(out), "%s/qemu-console1.out", hp.dir);
    snprintf(spec, sizeof(spec), "file:%s", out);
    const char *fe[] = { "type", "ioemu", "output", spec, "name", "sec1", NULL };
    const char *be[] = { "protocol", "x86_64-abi", NULL };
    ck_assert_int_eq(hp_add_device(&hp, "console", 1, fe, be), 0);
    HP_OK(hp_start_qemu(&hp, NULL, &hp_why));

    ck_assert_int_eq(xf_xenbus_hvm_store(&pfn, &sp), 0);
    ck_assert_int_eq(
        xf_xenbus_create_ring(&xb, NULL, ec, xf_sim_gfn_to_va(hp.sim, hp.domid, pfn), sp), 0);
    ck_assert_int_eq(xf_gnttab_create(&gt, NULL), 0);
    ck_assert_int_eq(xf_console_secondary_open(&con, xb, ec, gt, "1", NULL, SOON(20000)), 0);
    snprintf(p, sizeof(p), "/local/domain/0/backend/console/%u/1/state", hp.domid);
    ck_assert_int_eq(hp_wait_xs(&hp, p, "4", 10000), 0);
    write_all(con, "secondary console through QEMU, by grant\n");
    ck_assert_msg(hp_wait_file(out, "secondary console through QEMU, by grant", 10000) == 0,
                  "output not in %s", out);
    ck_assert_int_eq(xf_console_secondary_close(con, SOON(10000)), 0);
    con = NULL;
    ck_assert_int_eq(xf_gnttab_destroy(gt), 0);
    gt = NULL;
    xf_xenbus_destroy(xb);
    xb = NULL;
    ck_assert_msg(hp_alive(&hp.qemu), "QEMU died");
    guest_down();
}
END_TEST

/* QEMU's console chardev as a unix socket client of the test (the test is
 * the listener: output QEMU writes before a client connects would be
 * lost), both ways: the guest's output arrives on the socket, what the test
 * sends arrives in the guest's input ring. */
START_TEST(qemu_secondary_console_socket_both_ways)
{
    char path[4200], spec[4300], got[512], rbuf[1024];
    uint64_t pfn;
    evtchn_port_t sp;

    guest_up();
    HP_OK(hp_start_xenstored(&hp, &hp_why));
    HP_OK(hp_introduce(&hp, NULL, &hp_why));
    snprintf(path, sizeof(path), "%s/con1.sock", hp.dir);
    struct sockaddr_un sa = { .sun_family = AF_UNIX };
    ck_assert_uint_lt(strlen(path), sizeof(sa.sun_path));
    strcpy(sa.sun_path, path);
    int lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    ck_assert_int_ge(lfd, 0);
    ck_assert_int_eq(bind(lfd, (struct sockaddr *)&sa, sizeof(sa)), 0);
    ck_assert_int_eq(listen(lfd, 1), 0);
    snprintf(spec, sizeof(spec), "unix:%s", path);
    const char *fe[] = { "type", "ioemu", "output", spec, NULL };
    ck_assert_int_eq(hp_add_device(&hp, "console", 1, fe, NULL), 0);
    HP_OK(hp_start_qemu(&hp, NULL, &hp_why));
    struct pollfd pf = { .fd = lfd, .events = POLLIN };
    ck_assert_msg(poll(&pf, 1, 10000) == 1, "QEMU did not connect to %s", path);
    int cfd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
    ck_assert_int_ge(cfd, 0);

    ck_assert_int_eq(xf_xenbus_hvm_store(&pfn, &sp), 0);
    ck_assert_int_eq(
        xf_xenbus_create_ring(&xb, NULL, ec, xf_sim_gfn_to_va(hp.sim, hp.domid, pfn), sp), 0);
    ck_assert_int_eq(xf_gnttab_create(&gt, NULL), 0);
    ck_assert_int_eq(xf_console_secondary_open(&con, xb, ec, gt, "1", NULL, SOON(20000)), 0);

    write_all(con, "guest output on QEMU's socket\n");
    size_t rlen = 0;
    uint64_t end = hp_now_ms() + 10000;
    rbuf[0] = '\0';
    while (strstr(rbuf, "guest output on QEMU's socket") == NULL && hp_now_ms() < end) {
        struct pollfd pc = { .fd = cfd, .events = POLLIN };
        if (poll(&pc, 1, 50) == 1) {
            ssize_t n = read(cfd, rbuf + rlen, sizeof(rbuf) - 1 - rlen);
            ck_assert_int_gt(n, 0);
            rlen += (size_t)n;
            rbuf[rlen] = '\0';
        }
    }
    ck_assert_msg(strstr(rbuf, "guest output on QEMU's socket") != NULL, "got \"%s\"", rbuf);
    const char *typed = "sent into the socket\n";
    ck_assert_int_eq(write(cfd, typed, strlen(typed)), (int)strlen(typed));
    ck_assert_msg(read_until(con, "sent into the socket", got, sizeof(got), 10000),
                  "input not delivered: got \"%s\"", got);

    ck_assert_int_eq(xf_console_secondary_close(con, SOON(10000)), 0);
    con = NULL;
    ck_assert_int_eq(xf_gnttab_destroy(gt), 0);
    gt = NULL;
    xf_xenbus_destroy(xb);
    xb = NULL;
    close(cfd);
    close(lfd);
    ck_assert_msg(hp_alive(&hp.qemu), "QEMU died");
    guest_down();
}
END_TEST

int main(void)
{
    Suite *su = suite_create("hostpeers-console");
    TCase *tc = tcase_create("console");
    tcase_set_timeout(tc, 60);
    tcase_add_checked_fixture(tc, NULL, after_test);
    tcase_add_test(tc, xenconsoled_output_to_log_and_pty_input);
    tcase_add_test(tc, qemu_primary_console_by_frame_number);
    tcase_add_test(tc, qemu_secondary_console_by_grant);
    tcase_add_test(tc, qemu_secondary_console_socket_both_ways);
    suite_add_tcase(su, tc);
    return xf_check_run(su);
}
