/*
 * xenstore operations per second against one real xenstored (Debian's
 * 4.17, through the shim), libxenbus against libxenstore (the reference
 * client, from libxen-dev) over the same socket, in the same run:
 *
 *   1 in flight, read and write: libxenstore (its own connection) and
 *   libxenbus_host (another connection), one request at a time;
 *   N in flight, read: libxenstore from N threads with a connection each
 *   (it has one request in flight per connection and no asynchronous
 *   call), libxenbus pipelining N on one connection from one thread;
 *   libxenbus's socket transport with its receive buffer (a context of
 *   xf_xenbus_create_socket()) against exact reads (xf_xenbus_create_fd());
 *   libxenbus as the guest over its ring (event channels through the
 *   simulator and the shim), for reference (libxenstore has no ring).
 *
 * Honest figures: `rounds` rounds; in each, both sides of a pair are
 * warmed, then run interleaved in small chunks (run_pairs); the ratio
 * (libxenbus / libxenstore; buffered / exact) is taken per round, then its
 * median and range. One bench thread talks to xenstored (another process),
 * so nothing is pinned by default: on a shared machine, pinning each to a
 * CPU of its own made both sides about 3x slower and noisier (a pinned
 * process waits for its busy CPU).
 * XF_BENCH_PIN=1 pins the bench to CPU 0 and xenstored to CPU 1 (failures
 * ignored; the N-thread side then shares CPU 0).
 *
 * Not a test: it prints figures. Run: meson test --benchmark --suite hostpeers
 * (or the executable; XF_BENCH_OPS sets the timed operations per side per
 * round, XF_BENCH_ROUNDS the rounds).
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <xenstore.h>
#include <xenfront/errno.h>
#include <xenfront/evtchn.h>
#include <xenfront/xenbus.h>
#include <xenfront/xenbus_host.h>

#include "hp.h"

#define MAX_ROUNDS 31
#define WARM 500u
#define NTHREADS_MAX 16

static unsigned int nops = 4000, rounds = 7;
static size_t nlat;        /* latencies kept per 1-in-flight side */
static char path[128];     /* the key, absolute (socket clients are dom0) */

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

/* Median of v[0..n), with min and max (sorts a copy). */
static double median(const double *v, size_t n, double *lo, double *hi)
{
    double s[MAX_ROUNDS];

    memcpy(s, v, n * sizeof(*v));
    qsort(s, n, sizeof(*s), cmp_double);
    *lo = s[0];
    *hi = s[n - 1];
    return n % 2 ? s[n / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
}

static _Noreturn void die(const char *msg, int rc)
{
    fprintf(stderr, "bench: %s: %d\n", msg, rc);
    hp_cleanup_failed();
    exit(1);
}

/* ------------------------------------------------------------ the sides */

struct side {
    const char *name;
    /* Run n operations; record latencies if rec. */
    void (*run)(struct side *s, unsigned int n, bool rec);
    struct xs_handle *xs;
    struct xf_xenbus *xb;
    const char *key;
    bool write;
    unsigned int window;
    double rate[MAX_ROUNDS];
    uint64_t *lat;
    size_t nlat;
};

static void record(struct side *s, bool rec, uint64_t a)
{
    if (rec)
        s->lat[s->nlat++] = now_ns() - a;
}

static void run_xs(struct side *s, unsigned int n, bool rec)
{
    for (unsigned int i = 0; i < n; i++) {
        uint64_t a = now_ns();
        if (s->write) {
            if (!xs_write(s->xs, XBT_NULL, s->key, "value", 5))
                die("xs_write", -1);
        } else {
            unsigned int len;
            char *v = xs_read(s->xs, XBT_NULL, s->key, &len);
            if (v == NULL)
                die("xs_read", -1);
            free(v);
        }
        record(s, rec, a);
    }
}

static void run_xb(struct side *s, unsigned int n, bool rec)
{
    char buf[64];
    size_t len;

    for (unsigned int i = 0; i < n; i++) {
        uint64_t a = now_ns();
        int rc = s->write ? xf_xenbus_write(s->xb, 0, s->key, "value", 5,
                                            xf_plat_now_ns() + 5000000000u)
                          : xf_xenbus_read(s->xb, 0, s->key, buf, sizeof(buf), &len,
                                           xf_plat_now_ns() + 5000000000u);
        if (rc < 0)
            die(s->name, rc);
        record(s, rec, a);
    }
}

static void run_xb_pipelined(struct side *s, unsigned int n, bool rec)
{
    uint32_t ids[NTHREADS_MAX * 8];
    struct xf_xenbus_iov iov = { s->key, strlen(s->key) + 1 };
    unsigned int sent = 0, done = 0, head = 0, inflight = 0, w = s->window;

    (void)rec;
    while (done < n) {
        while (inflight < w && sent < n) {
            int rc = xf_xenbus_submit(s->xb, XS_READ, 0, &iov, 1, NULL, NULL,
                                      &ids[(head + inflight) % w]);
            if (rc < 0)
                die("submit", rc);
            inflight++;
            sent++;
        }
        uint32_t id = ids[head];
        int rc = xf_xenbus_req_wait(s->xb, id, xf_plat_now_ns() + 5000000000u);
        if (rc < 0 || xf_xenbus_req_reply(s->xb, id, NULL, NULL) < 0)
            die("pipelined read", rc);
        xf_xenbus_req_release(s->xb, id);
        head = (head + 1) % w;
        inflight--;
        done++;
    }
}

/* libxenstore with N in flight: N threads, a connection each, started
 * together by a barrier; the side's time runs from the start to the last
 * thread's end. */
static struct {
    pthread_t th[NTHREADS_MAX];
    struct xs_handle *xs[NTHREADS_MAX];
    unsigned int n, per;
    bool quit;
    pthread_barrier_t go, done;
} pool;

static void *xs_worker(void *arg)
{
    unsigned int k = (unsigned int)(uintptr_t)arg;

    for (;;) {
        pthread_barrier_wait(&pool.go);
        if (pool.quit)
            return NULL;
        for (unsigned int i = 0; i < pool.per; i++) {
            unsigned int len;
            char *v = xs_read(pool.xs[k], XBT_NULL, path, &len);
            if (v == NULL)
                die("xs_read (thread)", -1);
            free(v);
        }
        pthread_barrier_wait(&pool.done);
    }
}

static void pool_start(unsigned int n)
{
    pool.n = n;
    pthread_barrier_init(&pool.go, NULL, n + 1);
    pthread_barrier_init(&pool.done, NULL, n + 1);
    for (unsigned int k = 0; k < n; k++) {
        pool.xs[k] = xs_open(0);
        if (pool.xs[k] == NULL)
            die("xs_open (thread)", -1);
        if (pthread_create(&pool.th[k], NULL, xs_worker, (void *)(uintptr_t)k) != 0)
            die("pthread_create", -1);
    }
}

static void pool_stop(void)
{
    pool.quit = true;
    pthread_barrier_wait(&pool.go);
    for (unsigned int k = 0; k < pool.n; k++) {
        pthread_join(pool.th[k], NULL);
        xs_close(pool.xs[k]);
    }
    pthread_barrier_destroy(&pool.go);
    pthread_barrier_destroy(&pool.done);
}

static void run_xs_threads(struct side *s, unsigned int n, bool rec)
{
    (void)s;
    (void)rec;
    pool.per = (n + pool.n - 1) / pool.n;
    pthread_barrier_wait(&pool.go);
    pthread_barrier_wait(&pool.done);
}

/* Seconds of n timed operations (threads: the ops they really did, *done). */
static double timed(struct side *s, unsigned int n, bool rec, unsigned int *done)
{
    if (s->run == run_xs_threads)
        n = (n + pool.n - 1) / pool.n * pool.n;
    uint64_t t0 = now_ns();

    s->run(s, n, rec);
    *done = n;
    return (double)(now_ns() - t0) / 1e9;
}

/* ------------------------------------------------------------ reporting */

static void print_side(const struct side *s)
{
    double lo, hi, med = median(s->rate, rounds, &lo, &hi);

    printf("  %-44s %8.0f ops/s [%6.0f, %6.0f]", s->name, med, lo, hi);
    if (s->nlat != 0) {
        qsort(s->lat, s->nlat, sizeof(s->lat[0]), cmp_u64);
        printf("  p50 %5.1f us  p99 %5.1f us", (double)s->lat[s->nlat / 2] / 1e3,
               (double)s->lat[s->nlat * 99 / 100] / 1e3);
    }
    printf("\n");
}

/*
 * Pairs (libxenstore, libxenbus) over the same rounds. A round: both sides
 * warmed (WARM untimed operations each), then nops timed operations per
 * side in chunks of `chunk` (XF_BENCH_CHUNK), the sides alternating chunk by chunk (and which
 * goes first alternating too), so that other load on the machine falls on
 * both alike; a side's rate in the round is its operations over its summed
 * time.
 */
static unsigned int chunk = 250;

static void run_pairs(struct side **pairs, const char *const *labels, unsigned int npairs)
{
    for (unsigned int r = 0; r < rounds; r++) {
        for (unsigned int p = 0; p < npairs; p++) {
            double t[2] = { 0, 0 };
            unsigned int n[2] = { 0, 0 };

            for (unsigned int k = 0; k < 2; k++)
                pairs[2 * p + k]->run(pairs[2 * p + k], WARM, false);
            for (unsigned int c = 0; c * chunk < nops; c++) {
                for (unsigned int k = 0; k < 2; k++) {
                    unsigned int i = (k + c + r) & 1, d;
                    unsigned int m = nops - c * chunk < chunk ? nops - c * chunk : chunk;

                    t[i] += timed(pairs[2 * p + i], m, true, &d);
                    n[i] += d;
                }
            }
            for (unsigned int k = 0; k < 2; k++)
                pairs[2 * p + k]->rate[r] = n[k] / t[k];
        }
    }
    for (unsigned int p = 0; p < npairs; p++) {
        struct side *a = pairs[2 * p], *b = pairs[2 * p + 1];
        double ratio[MAX_ROUNDS], lo, hi, med;

        for (unsigned int r = 0; r < rounds; r++)
            ratio[r] = b->rate[r] / a->rate[r];
        med = median(ratio, rounds, &lo, &hi);
        print_side(a);
        print_side(b);
        printf("  %-44s %8.2fx      [%4.2f, %4.2f]  |", labels[p], med, lo, hi);
        for (unsigned int r = 0; r < rounds; r++)
            printf(" %.2f", ratio[r]);
        printf("\n");
        if (a->nlat != 0 && b->nlat != 0)
            printf("  %-44s %8.2fx\n", "p50 latency, first / second",
                   (double)a->lat[a->nlat / 2] / (double)b->lat[b->nlat / 2]);
        printf("\n");
    }
}

static void upcall(void *arg, unsigned int vcpu)
{
    (void)vcpu;
    xf_evtchn_dispatch(arg, 0);
}

static bool pin(pid_t pid, int cpu)
{
    cpu_set_t set;

    CPU_ZERO(&set);
    CPU_SET(cpu, &set);
    return sched_setaffinity(pid, sizeof(set), &set) == 0;
}

int main(void)
{
    static struct hp hp;
    const char *why = "";
    const char *e = getenv("XF_BENCH_OPS");
    struct xf_evtchn *ec = NULL;
    struct xf_xenbus *sock = NULL, *sockfd = NULL, *ring = NULL;
    unsigned int window = 8;
    int rc;

    setvbuf(stdout, NULL, _IOLBF, 0);
    if (e != NULL && atoi(e) > 0)
        nops = (unsigned int)atoi(e);
    e = getenv("XF_BENCH_ROUNDS");
    if (e != NULL && atoi(e) > 0)
        rounds = (unsigned int)atoi(e) < MAX_ROUNDS ? (unsigned int)atoi(e) : MAX_ROUNDS;
    e = getenv("XF_BENCH_CHUNK");
    if (e != NULL && atoi(e) > 0)
        chunk = (unsigned int)atoi(e);
    /* Enough for every 1-in-flight side's rounds. */
    nlat = (size_t)rounds * nops;
    if ((rc = hp_up(&hp, &why)) < 0 || (rc = hp_start_xenstored(&hp, &why)) < 0 ||
        (rc = hp_introduce(&hp, NULL, &why)) < 0) {
        fprintf(stderr, "bench: %s\n", why);
        hp_cleanup_failed();
        return 1;
    }
    const char *pinned = "not pinned";
    if (getenv("XF_BENCH_PIN") != NULL && sysconf(_SC_NPROCESSORS_ONLN) >= 2) {
        bool a = pin(0, 0), b = pin(hp.xenstored.pid, 1);
        pinned = a && b ? "bench on CPU 0, xenstored on CPU 1" : "pinning refused";
    }
    printf("xenstored 4.17 (Debian, unmodified, through the shim); %u rounds of %u timed\n"
           "operations per side (after %u warm), sides alternating; %s.\n"
           "Median [min, max] over the rounds; ratio per round.\n\n",
           rounds, nops, WARM, pinned);

    snprintf(path, sizeof(path), "/local/domain/%u/data/bench", hp.domid);
    if (hp_xs_write(&hp, path, "value") < 0)
        die("setup write", -1);
    if ((rc = xf_xenbus_create_socket(&sock, &(struct xf_xenbus_config){ .max_outstanding = 128 },
                                      hp.xs_path)) < 0)
        die("xf_xenbus_create_socket", rc);

#define SIDE(n, fn, h, b, k, w, win) \
    { .name = n, .run = fn, .xs = h, .xb = b, .key = k, .write = w, .window = win }
    struct side xs_r = SIDE("libxenstore socket, read, 1 in flight", run_xs, hp.xs, NULL, path,
                            false, 1);
    struct side xb_r = SIDE("libxenbus socket, read, 1 in flight", run_xb, NULL, sock, path,
                            false, 1);
    struct side xs_w = SIDE("libxenstore socket, write, 1 in flight", run_xs, hp.xs, NULL, path,
                            true, 1);
    struct side xb_w = SIDE("libxenbus socket, write, 1 in flight", run_xb, NULL, sock, path,
                            true, 1);
    char ln_xs[96], ln_xb[96];
    snprintf(ln_xs, sizeof(ln_xs), "libxenstore socket, read, %u threads x 1", window);
    snprintf(ln_xb, sizeof(ln_xb), "libxenbus socket, read, %u in flight", window);
    struct side xs_n = SIDE(ln_xs, run_xs_threads, NULL, NULL, path, false, window);
    struct side xb_n = SIDE(ln_xb, run_xb_pipelined, NULL, sock, path, false, window);
    /* The socket transport's receive buffer (xf_xenbus_create_socket())
     * against exact reads (what xf_xenbus_create_fd() does), same run. */
    struct sockaddr_un sa = { .sun_family = AF_UNIX };
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (strlen(hp.xs_path) >= sizeof(sa.sun_path))
        die("socket path too long", -1);
    memcpy(sa.sun_path, hp.xs_path, strlen(hp.xs_path) + 1);
    if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
        (rc = xf_xenbus_create_fd(&sockfd, NULL, fd)) < 0)
        die("xf_xenbus_create_fd", -1);
    struct side xf_r = SIDE("libxenbus fd (exact reads), read, 1 in flight", run_xb, NULL,
                            sockfd, path, false, 1);
    struct side xb_r2 = SIDE("libxenbus socket (buffered), read, 1 in flight", run_xb, NULL,
                             sock, path, false, 1);
    struct side *one[] = { &xs_r, &xb_r, &xs_w, &xb_w, &xs_n, &xb_n, &xf_r, &xb_r2 };
    static const char *const labels[] = {
        "ratio libxenbus / libxenstore", "ratio libxenbus / libxenstore",
        "ratio libxenbus / libxenstore", "ratio buffered / exact reads",
    };
    for (unsigned int i = 0; i < 8; i++) {
        if (i == 4 || i == 5)
            continue;
        one[i]->lat = calloc(nlat + (size_t)rounds * WARM, sizeof(uint64_t));
        if (one[i]->lat == NULL)
            die("calloc", -1);
    }
    pool_start(window);
    run_pairs(one, labels, 4);
    pool_stop();
    xf_xenbus_destroy(sock);
    xf_xenbus_destroy(sockfd);
    for (unsigned int i = 0; i < 8; i++)
        free(one[i]->lat);

    /* The guest over its ring, for reference. */
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
    /* xenstored lets a domU have 20 requests outstanding (quota). */
    struct side g[] = {
        SIDE("libxenbus guest ring, read, 1 in flight", run_xb, NULL, ring, "data/bench",
             false, 1),
        SIDE("libxenbus guest ring, write, 1 in flight", run_xb, NULL, ring, "data/bench",
             true, 1),
        SIDE("libxenbus guest ring, read, 8 in flight", run_xb_pipelined, NULL, ring,
             "data/bench", false, 8),
        SIDE("libxenbus guest ring, read, 16 in flight", run_xb_pipelined, NULL, ring,
             "data/bench", false, 16),
    };
    printf("libxenbus as the guest over its ring (no libxenstore counterpart):\n");
    for (unsigned int i = 0; i < 4; i++) {
        g[i].run(&g[i], WARM, false);
        for (unsigned int r = 0; r < rounds; r++) {
            unsigned int d;
            double sec = timed(&g[i], nops, false, &d);
            g[i].rate[r] = d / sec;
        }
        print_side(&g[i]);
    }
    xf_xenbus_destroy(ring);
    xf_evtchn_destroy(ec);
    hp_down(&hp);
    return 0;
}
