/*
 * bench_blkfront: blkfront against the simulated blkback on a RAM disk
 * (a program, not a test). For three data modes (direct: bounce pages and
 * at most 11 segments; indirect: bounce pages, 256-segment requests;
 * persistent: persistently granted pool, indirect) it measures 4 KiB IOPS
 * at queue depth 1 and 32, MiB/s of 64 KiB and 1 MiB writes and reads,
 * notifications per request both ways, and the bandwidth as a fraction of
 * memcpy's, measured in the same run.
 *
 * The back end is a thread of this process driven through the simulator's
 * hypercalls (a process-shared lock and condition variable per call), so
 * the absolute numbers are the simulator's; the ratios between modes and
 * the notification counts are the driver's.
 *
 * Usage: bench_blkfront [seconds per measurement, default 1]
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>

/* The fixture's assertions outside a libcheck run: abort on failure (a
 * passing ck_assert still reports to the test runner, which is absent). */
#undef ck_assert
#undef ck_assert_int_eq
#undef ck_assert_int_gt
#undef ck_assert_uint_eq
#undef ck_assert_ptr_nonnull
#undef ck_assert_mem_eq
#define BENCH_CHECK(c) do { if (!(c)) { fprintf(stderr, "bench: %s failed (%s:%d)\n", #c, \
                                                __FILE__, __LINE__); abort(); } } while (0)
#define ck_assert(c) BENCH_CHECK(c)
#define ck_assert_int_eq(a, b) BENCH_CHECK((a) == (b))
#define ck_assert_int_gt(a, b) BENCH_CHECK((a) > (b))
#define ck_assert_uint_eq(a, b) BENCH_CHECK((a) == (b))
#define ck_assert_ptr_nonnull(p) BENCH_CHECK((p) != NULL)
#define ck_assert_mem_eq(a, b, n) BENCH_CHECK(memcmp((a), (b), (n)) == 0)

#include "blkfront_test.h"

#include <time.h>

#define MAXQD 32
#define MAXLEN (1u << 20)

static struct xf_blkfront *dev;
static struct xf_blkfront_io bios[MAXQD];
static struct xf_blkfront_iov biov[MAXQD];
static uint8_t *bbuf[MAXQD];
static volatile int bbusy[MAXQD];
static uint64_t bdone;

static void bdone_fn(struct xf_blkfront *bf, struct xf_blkfront_io *io, int status, void *arg)
{
    (void)bf;
    (void)io;
    if (status != 0) {
        fprintf(stderr, "bench: I/O failed: %d\n", status);
        exit(1);
    }
    bbusy[(intptr_t)arg] = 0;
    bdone++;
}

struct result {
    double per_s;        /* I/Os per second */
    double mib_s;
    double notify_per_req, events_per_req;
};

static struct result run(uint32_t op, size_t len, unsigned qd, double secs)
{
    struct xf_blkfront_stats s0, s1;
    struct xf_blkback_stats b0, b1;
    uint64_t t0, t1, until, start_done = bdone, n;
    uint64_t span = 16384 * 512ull - len;
    uint32_t seq = 0;
    struct result r;

    (void)xf_blkfront_get_stats(dev, 0, &s0);
    xf_blkback_get_stats(bb, &b0);
    t0 = xf_plat_now_ns();
    until = t0 + (uint64_t)(secs * 1e9);
    while (xf_plat_now_ns() < until) {
        for (unsigned i = 0; i < qd; i++) {
            if (bbusy[i])
                continue;
            biov[i] = (struct xf_blkfront_iov){ bbuf[i], len };
            bios[i] = (struct xf_blkfront_io){
                .op = op, .sector = ((uint64_t)(seq++ * 7919u) * len % span) / 512 & ~7ull,
                .iov = &biov[i], .nr_iov = 1, .done = bdone_fn, .arg = (void *)(intptr_t)i,
            };
            bbusy[i] = 1;
            if (xf_blkfront_submit(dev, &bios[i]) != 0) {
                fprintf(stderr, "bench: submit failed\n");
                exit(1);
            }
        }
        (void)xf_plat_wait(xf_plat_now_ns() + MS_NS);
        (void)xf_blkfront_poll(dev);
    }
    while (xf_blkfront_pending(dev) > 0) {
        (void)xf_plat_wait(xf_plat_now_ns() + MS_NS);
        (void)xf_blkfront_poll(dev);
    }
    t1 = xf_plat_now_ns();
    (void)xf_blkfront_get_stats(dev, 0, &s1);
    xf_blkback_get_stats(bb, &b1);
    n = bdone - start_done;
    r.per_s = (double)n / ((double)(t1 - t0) / 1e9);
    r.mib_s = r.per_s * (double)len / (1024.0 * 1024.0);
    {
        uint64_t reqs = (s1.rd_req + s1.wr_req) - (s0.rd_req + s0.wr_req);

        r.notify_per_req = reqs ? (double)(s1.notify - s0.notify) / (double)reqs : 0;
        r.events_per_req = reqs ? (double)(s1.events - s0.events) / (double)reqs : 0;
    }
    (void)b0;
    (void)b1;
    return r;
}

/* memcpy bandwidth for buffers of sz bytes (64 MiB: memory; 1 MiB: the
 * caches, where the driver's copies of one request live). */
static double memcpy_mib_s(size_t sz, int reps)
{
    uint8_t *a = malloc(sz), *b = malloc(sz);
    uint64_t t0, t1;

    if (a == NULL || b == NULL)
        exit(1);
    memset(a, 1, sz);
    memset(b, 2, sz);
    memcpy(b, a, sz);
    t0 = xf_plat_now_ns();
    for (int i = 0; i < reps; i++) {
        a[i] = (uint8_t)i;
        memcpy(b, a, sz);
    }
    t1 = xf_plat_now_ns();
    if (b[3] != 3)
        exit(1);
    free(a);
    free(b);
    return (double)sz * reps / ((double)(t1 - t0) / 1e9) / (1024.0 * 1024.0);
}

int main(int argc, char **argv)
{
    static const struct {
        const char *name;
        bool persistent;
        uint32_t indirect;
    } modes[] = {
        { "direct", false, 0 },
        { "indirect", false, 256 },
        { "persistent", true, 256 },
    };
    double secs = argc > 1 ? atof(argv[1]) : 1.0;
    double mc = memcpy_mib_s(64u << 20, 8), mc1 = memcpy_mib_s(1u << 20, 512);

    if (secs <= 0)
        secs = 1.0;
    for (unsigned i = 0; i < MAXQD; i++) {
        bbuf[i] = aligned_alloc(4096, MAXLEN);
        if (bbuf[i] == NULL)
            return 1;
        fill(bbuf[i], MAXLEN, i);
    }
    printf("memcpy: %.0f MiB/s with 64 MiB buffers, %.0f MiB/s with 1 MiB buffers "
           "(memcpy%% below is of the first)\n", mc, mc1);
    printf("%-10s %-14s %10s %10s %8s %9s %9s\n", "mode", "test", "IOPS", "MiB/s", "memcpy%",
           "notif/req", "event/req");
    for (size_t m = 0; m < XF_ARRAY_SIZE(modes); m++) {
        struct xf_blkback_config bc = {
            .sectors = 16384, .flush = true, .persistent = modes[m].persistent,
            .max_indirect = modes[m].indirect, .max_ring_order = 4, .max_queues = 1,
        };
        struct xf_blkfront_config fc = { .pool_pages = 1024 };
        static const struct {
            const char *name;
            uint32_t op;
            size_t len;
            unsigned qd;
        } tests[] = {
            { "4K write qd1", XF_BLKFRONT_WRITE, 4096, 1 },
            { "4K read qd1", XF_BLKFRONT_READ, 4096, 1 },
            { "4K write qd32", XF_BLKFRONT_WRITE, 4096, 32 },
            { "4K read qd32", XF_BLKFRONT_READ, 4096, 32 },
            { "64K write qd8", XF_BLKFRONT_WRITE, 65536, 8 },
            { "64K read qd8", XF_BLKFRONT_READ, 65536, 8 },
            { "1M write qd4", XF_BLKFRONT_WRITE, 1u << 20, 4 },
            { "1M read qd4", XF_BLKFRONT_READ, 1u << 20, 4 },
        };

        world_up(&bc);
        if (xf_blkfront_open(&dev, xb, ec, gt, "51712", &fc, DEADLINE_MS(10000)) != 0) {
            fprintf(stderr, "bench: open failed\n");
            return 1;
        }
        for (size_t t = 0; t < XF_ARRAY_SIZE(tests); t++) {
            struct result r = run(tests[t].op, tests[t].len, tests[t].qd, secs);

            printf("%-10s %-14s %10.0f %10.1f %7.1f%% %9.3f %9.3f\n", modes[m].name,
                   tests[t].name, r.per_s, r.mib_s, 100.0 * r.mib_s / mc, r.notify_per_req,
                   r.events_per_req);
            fflush(stdout);
        }
        (void)xf_blkfront_close(dev, DEADLINE_MS(5000));
        world_down();
    }
    for (unsigned i = 0; i < MAXQD; i++)
        free(bbuf[i]);
    return 0;
}
