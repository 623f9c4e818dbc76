/*
 * xenstore operations per second and latency against one real xenstored
 * (Debian's 4.17, through the shim), all measured in the same run:
 *
 *   libxenstore (the reference client) over the socket, one request at a time;
 *   libxenbus_host over the socket, one at a time, and with many in flight;
 *   libxenbus as the guest over its ring (event channels through the
 *   simulator and the shim), one at a time, and with several in flight.
 *
 * Not a test: it prints figures. Run: meson test --benchmark --suite hostpeers
 * (or the executable; XF_BENCH_OPS sets the operations per case).
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <xenstore.h>
#include <xenfront/errno.h>
#include <xenfront/evtchn.h>
#include <xenfront/xenbus.h>
#include <xenfront/xenbus_host.h>

#include "hp.h"

static unsigned int nops = 20000;
static uint64_t *lat;

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

static void report(const char *what, uint64_t total_ns, bool with_lat)
{
    double ops = (double)nops / ((double)total_ns / 1e9);
    if (with_lat) {
        qsort(lat, nops, sizeof(lat[0]), cmp_u64);
        printf("%-46s %9.0f ops/s   p50 %6.1f us   p99 %6.1f us\n", what, ops,
               (double)lat[nops / 2] / 1e3, (double)lat[nops * 99 / 100] / 1e3);
    } else {
        printf("%-46s %9.0f ops/s   (%.1f us/op amortised)\n", what, ops,
               (double)total_ns / nops / 1e3);
    }
}

static _Noreturn void die(const char *msg, int rc)
{
    fprintf(stderr, "bench: %s: %d\n", msg, rc);
    hp_cleanup_failed();
    exit(1);
}

static void bench_libxenstore(struct hp *hp, const char *path, bool write)
{
    uint64_t t0 = now_ns();
    for (unsigned int i = 0; i < nops; i++) {
        uint64_t a = now_ns();
        if (write) {
            if (!xs_write(hp->xs, XBT_NULL, path, "value", 5))
                die("xs_write", -1);
        } else {
            unsigned int len;
            char *v = xs_read(hp->xs, XBT_NULL, path, &len);
            if (v == NULL)
                die("xs_read", -1);
            free(v);
        }
        lat[i] = now_ns() - a;
    }
    report(write ? "libxenstore socket, write, 1 in flight" : "libxenstore socket, read, 1 in flight",
           now_ns() - t0, true);
}

static void bench_xb_single(struct xf_xenbus *xb, const char *label, const char *path, bool write)
{
    char buf[64];
    size_t len;
    uint64_t t0 = now_ns();

    for (unsigned int i = 0; i < nops; i++) {
        uint64_t a = now_ns();
        int rc = write ? xf_xenbus_write(xb, 0, path, "value", 5, xf_plat_now_ns() + 5000000000u)
                       : xf_xenbus_read(xb, 0, path, buf, sizeof(buf), &len,
                                        xf_plat_now_ns() + 5000000000u);
        if (rc < 0)
            die(label, rc);
        lat[i] = now_ns() - a;
    }
    report(label, now_ns() - t0, true);
}

static void bench_xb_pipelined(struct xf_xenbus *xb, const char *label, const char *path,
                               unsigned int window)
{
    uint32_t ids[128];
    struct xf_xenbus_iov iov = { path, strlen(path) + 1 };
    unsigned int sent = 0, done = 0, head = 0, inflight = 0;
    uint64_t t0 = now_ns();

    while (done < nops) {
        while (inflight < window && sent < nops) {
            int rc = xf_xenbus_submit(xb, XS_READ, 0, &iov, 1, NULL, NULL,
                                      &ids[(head + inflight) % window]);
            if (rc < 0)
                die("submit", rc);
            inflight++;
            sent++;
        }
        uint32_t id = ids[head];
        int rc = xf_xenbus_req_wait(xb, id, xf_plat_now_ns() + 5000000000u);
        if (rc < 0 || xf_xenbus_req_reply(xb, id, NULL, NULL) < 0)
            die("pipelined read", rc);
        xf_xenbus_req_release(xb, id);
        head = (head + 1) % window;
        inflight--;
        done++;
    }
    char l[96];
    snprintf(l, sizeof(l), "%s, %u in flight", label, window);
    report(l, now_ns() - t0, false);
}

static void upcall(void *arg, unsigned int vcpu)
{
    (void)vcpu;
    xf_evtchn_dispatch(arg, 0);
}

int main(void)
{
    static struct hp hp;
    const char *why = "";
    const char *e = getenv("XF_BENCH_OPS");
    struct xf_evtchn *ec = NULL;
    struct xf_xenbus *sock = NULL, *ring = NULL;
    int rc;

    if (e != NULL && atoi(e) > 0)
        nops = (unsigned int)atoi(e);
    lat = calloc(nops, sizeof(*lat));
    if (lat == NULL)
        return 1;
    if ((rc = hp_up(&hp, &why)) < 0 || (rc = hp_start_xenstored(&hp, &why)) < 0 ||
        (rc = hp_introduce(&hp, NULL, &why)) < 0) {
        fprintf(stderr, "bench: %s\n", why);
        hp_cleanup_failed();
        return 1;
    }
    printf("xenstored 4.17 (Debian, unmodified, through the shim); %u operations per case\n\n",
           nops);

    char p[128];
    snprintf(p, sizeof(p), "/local/domain/%u/data/bench", hp.domid);
    if (hp_xs_write(&hp, p, "value") < 0)
        die("setup write", -1);

    bench_libxenstore(&hp, p, false);
    bench_libxenstore(&hp, p, true);

    if ((rc = xf_xenbus_create_socket(&sock, &(struct xf_xenbus_config){ .max_outstanding = 128 },
                                      hp.xs_path)) < 0)
        die("xf_xenbus_create_socket", rc);
    bench_xb_single(sock, "libxenbus socket, read, 1 in flight", p, false);
    bench_xb_single(sock, "libxenbus socket, write, 1 in flight", p, true);
    bench_xb_pipelined(sock, "libxenbus socket, read", p, 16);
    bench_xb_pipelined(sock, "libxenbus socket, read", p, 64);
    xf_xenbus_destroy(sock);

    /* The guest over its ring. */
    uint64_t pfn = 0;
    evtchn_port_t port = 0;
    if ((rc = xf_evtchn_create(&ec, NULL)) < 0)
        die("xf_evtchn_create", rc);
    xf_sim_set_upcall_handler(hp.sim, hp.domid, upcall, ec);
    if ((rc = xf_evtchn_upcall_setup(ec, XF_EVTCHN_UPCALL_AUTO, 0xf3)) < 0 ||
        (rc = xf_xenbus_hvm_store(&pfn, &port)) < 0)
        die("guest setup", rc);
    rc = xf_xenbus_create_ring(&ring, &(struct xf_xenbus_config){ .max_outstanding = 64 }, ec,
                               xf_sim_gfn_to_va(hp.sim, hp.domid, (xen_pfn_t)pfn), port);
    if (rc < 0)
        die("xf_xenbus_create_ring", rc);
    bench_xb_single(ring, "libxenbus guest ring, read, 1 in flight", "data/bench", false);
    bench_xb_single(ring, "libxenbus guest ring, write, 1 in flight", "data/bench", true);
    /* xenstored lets a domU have 20 requests outstanding (quota). */
    bench_xb_pipelined(ring, "libxenbus guest ring, read", "data/bench", 8);
    bench_xb_pipelined(ring, "libxenbus guest ring, read", "data/bench", 16);
    xf_xenbus_destroy(ring);
    xf_evtchn_destroy(ec);
    hp_down(&hp);
    free(lat);
    return 0;
}
