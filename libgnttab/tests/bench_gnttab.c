/*
 * libgnttab benchmark.
 *
 * 1. Grant plus end-of-access pairs per second, through the library on the
 *    simulated guest (no hypercall on this path: entry writes and the
 *    compare-and-swap on the flags).
 * 2. The foreign-range allocator against a first-fit linear bitmap scan
 *    written here as the baseline, in the same run, on the same operation
 *    sequence from the same starting state: ranges of 1 GiB and 64 GiB,
 *    held at 50% and 90% occupancy, each operation freeing a random live
 *    run and allocating a new one of 1-32 pages. Both are first fit, so
 *    they make identical choices (checked); only the time differs.
 *
 * The starting state: fill the range with random runs until full, then
 * free random runs down to the occupancy, which scatters the holes over
 * the whole range (a realistic fragmented range, not a full prefix).
 */
#define _GNU_SOURCE
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <xenfront/errno.h>
#include <xenfront/gnttab.h>
#include <xenfront/sim.h>

#include "rangealloc.h"

static double now_s(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static uint64_t rng_state;

static uint64_t rnd(void)
{
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    return rng_state * 0x2545f4914f6cdd1dull;
}

static void die(const char *what, long v)
{
    fprintf(stderr, "bench_gnttab: %s: %ld\n", what, v);
    exit(1);
}

/* ------------------------------------------------------------ grants */

static void bench_grants(void)
{
    const unsigned long n = 2000000;
    struct xf_gnttab *gt;
    struct xf_sim *sim = xf_sim_create(NULL);
    void *page;
    xen_pfn_t gfn;
    double t0, t1;

    if (sim == NULL)
        die("xf_sim_create", 0);
    xf_sim_set_current(sim, xf_sim_guest_domid(sim));
    if (xf_gnttab_create(&gt, NULL) != 0)
        die("xf_gnttab_create", 0);
    page = xf_plat_page_alloc(1);
    gfn = xf_plat_virt_to_gfn(page);
    t0 = now_s();
    for (unsigned long i = 0; i < n; i++) {
        grant_ref_t ref;
        int rc = xf_gnttab_grant_access(gt, 0, gfn, (i & 1) != 0, &ref);

        if (rc != 0)
            die("grant", rc);
        rc = xf_gnttab_end_access(gt, ref);
        if (rc != 0)
            die("end", rc);
    }
    t1 = now_s();
    printf("grant + end_access:              %10.1f M pairs/s  (%.1f ns per pair)\n",
           (double)n / (t1 - t0) / 1e6, (t1 - t0) * 1e9 / (double)n);

    /* Batched: reserve 32, grant, end, free (a block request's life). */
    {
        grant_ref_t refs[32];
        const unsigned long rounds = n / 32;

        t0 = now_s();
        for (unsigned long r = 0; r < rounds; r++) {
            if (xf_gnttab_alloc_refs(gt, refs, 32) != 0)
                die("alloc_refs", 0);
            for (int i = 0; i < 32; i++)
                if (xf_gnttab_grant_ref(gt, refs[i], 0, gfn, false) != 0)
                    die("grant_ref", 0);
            for (int i = 0; i < 32; i++)
                if (xf_gnttab_end_ref(gt, refs[i]) != 0)
                    die("end_ref", 0);
            if (xf_gnttab_free_refs(gt, refs, 32) != 0)
                die("free_refs", 0);
        }
        t1 = now_s();
        printf("reserve 32 + grant/end each + free: %7.1f M grants/s (%.1f ns per grant)\n",
               (double)(rounds * 32) / (t1 - t0) / 1e6,
               (t1 - t0) * 1e9 / (double)(rounds * 32));
    }
    if (xf_gnttab_destroy(gt) != 0)
        die("destroy", 0);
    xf_sim_destroy(sim);
}

/* ---------------------------------------------------------- baseline */

/* First fit by a linear scan of a plain bitmap (1 = allocated). Not a
 * strawman: it walks whole runs of free and used bits with
 * count-trailing-zeros, a word at a time, as a good simple allocator would;
 * its cost is the number of runs before the first that fits. */
struct linear {
    uint64_t n;
    uint64_t *bits;
};

static void lin_set(struct linear *l, uint64_t s, uint64_t n, bool v)
{
    uint64_t e = s + n;

    while (s < e) {
        uint64_t w = s / 64;
        unsigned from = (unsigned)(s % 64);
        unsigned to = e - w * 64 >= 64 ? 64 : (unsigned)(e - w * 64);
        uint64_t m = (to == 64 ? ~0ull : ((1ull << to) - 1)) & ~((1ull << from) - 1);

        if (v)
            l->bits[w] |= m;
        else
            l->bits[w] &= ~m;
        s = w * 64 + to;
    }
}

/* Index of the first bit at or after i equal to v, or n. */
static uint64_t lin_next(const struct linear *l, uint64_t i, bool v)
{
    while (i < l->n) {
        uint64_t w = l->bits[i / 64];
        uint64_t x = (v ? w : ~w) >> (i % 64);

        if (x != 0) {
            i += (uint64_t)__builtin_ctzll(x);
            return i < l->n ? i : l->n;
        }
        i = (i / 64 + 1) * 64;
    }
    return l->n;
}

static int64_t lin_alloc(struct linear *l, uint64_t len)
{
    uint64_t i = lin_next(l, 0, false);

    while (i + len <= l->n) {
        uint64_t end = lin_next(l, i, true);   /* the free run is [i, end) */

        if (end - i >= len) {
            lin_set(l, i, len, true);
            return (int64_t)i;
        }
        i = lin_next(l, end, false);
    }
    return -XF_ENOSPC;
}

static void lin_free(struct linear *l, uint64_t s, uint64_t n)
{
    lin_set(l, s, n, false);
}

/* ------------------------------------------------------- allocators */

struct run {
    uint64_t start, len;
};

struct state {
    struct run *live;
    size_t nlive;
};

/* The operation sequence: free live[pick], allocate 1-32 pages. */
struct op {
    uint32_t pick;
    uint32_t len;
};

static void bench_range(const char *name, uint64_t npages, unsigned occ_pct, double budget_s)
{
    struct xf_gnttab_ra ra;
    size_t memsz = xf_gnttab__ra_mem_size(npages);
    void *mem = aligned_alloc(64, (memsz + 63) & ~(size_t)63);
    size_t cap = (size_t)npages + 1;
    struct state fast = { calloc(cap, sizeof(struct run)), 0 };
    struct state slow = { calloc(cap, sizeof(struct run)), 0 };
    struct linear lin = { npages, calloc((npages + 63) / 64, 8) };
    const size_t nops = 2000000;
    struct op *ops = calloc(nops, sizeof(*ops));
    int64_t *answers = calloc(nops, sizeof(*answers));
    uint64_t target = npages * occ_pct / 100;
    double *stamps = calloc(nops / 1024 + 1, sizeof(double));
    double t0, t1, fast_rate, slow_rate, fast_prefix_rate;
    size_t done_fast = 0, done_slow = 0, mismatches = 0;

    if (mem == NULL || fast.live == NULL || slow.live == NULL || lin.bits == NULL ||
        ops == NULL || answers == NULL || stamps == NULL)
        die("out of memory", 0);
    if (xf_gnttab__ra_init(&ra, mem, npages) != 0)
        die("ra_init", 0);
    rng_state = 0x243f6a8885a308d3ull ^ npages ^ occ_pct;

    /* Fill until full, then free at random down to the occupancy. */
    for (;;) {
        uint64_t len = 1 + rnd() % 32;
        int64_t s = xf_gnttab__ra_alloc(&ra, len);

        if (s < 0) {
            s = xf_gnttab__ra_alloc(&ra, 1);
            if (s < 0)
                break;
            len = 1;
        }
        fast.live[fast.nlive].start = (uint64_t)s;
        fast.live[fast.nlive++].len = len;
    }
    while (ra.used > target) {
        size_t k = (size_t)(rnd() % fast.nlive);

        xf_gnttab__ra_free(&ra, fast.live[k].start, fast.live[k].len);
        fast.live[k] = fast.live[--fast.nlive];
    }
    /* The baseline starts from the very same state. */
    for (size_t k = 0; k < fast.nlive; k++)
        lin_set(&lin, fast.live[k].start, fast.live[k].len, true);
    memcpy(slow.live, fast.live, fast.nlive * sizeof(struct run));
    slow.nlive = fast.nlive;

    for (size_t i = 0; i < nops; i++) {
        ops[i].pick = (uint32_t)rnd();
        ops[i].len = (uint32_t)(1 + rnd() % 32);
    }

    /* The library's allocator: all operations (bounded by the budget). */
    t0 = now_s();
    for (size_t i = 0; i < nops; i++) {
        size_t k = ops[i].pick % fast.nlive;
        int64_t s;

        xf_gnttab__ra_free(&ra, fast.live[k].start, fast.live[k].len);
        fast.live[k] = fast.live[--fast.nlive];
        s = xf_gnttab__ra_alloc(&ra, ops[i].len);
        answers[i] = s;
        if (s >= 0) {
            fast.live[fast.nlive].start = (uint64_t)s;
            fast.live[fast.nlive++].len = ops[i].len;
        }
        done_fast = i + 1;
        if ((i & 1023) == 1023) {
            stamps[i / 1024] = now_s() - t0;
            if (stamps[i / 1024] > budget_s)
                break;
        }
    }
    t1 = now_s();
    fast_rate = (double)done_fast / (t1 - t0);

    /* The baseline: the same operations until its budget runs out. */
    t0 = now_s();
    for (size_t i = 0; i < done_fast; i++) {
        size_t k = ops[i].pick % slow.nlive;
        int64_t s;

        lin_free(&lin, slow.live[k].start, slow.live[k].len);
        slow.live[k] = slow.live[--slow.nlive];
        s = lin_alloc(&lin, ops[i].len);
        mismatches += s != answers[i];
        if (s >= 0) {
            slow.live[slow.nlive].start = (uint64_t)s;
            slow.live[slow.nlive++].len = ops[i].len;
        }
        done_slow = i + 1;
        if ((i & 1023) == 1023 && now_s() - t0 > budget_s)
            break;
    }
    t1 = now_s();
    slow_rate = (double)done_slow / (t1 - t0);
    /* The library's rate over exactly the operations the baseline did. */
    fast_prefix_rate = done_slow >= 1024 && done_slow % 1024 == 0
                           ? (double)done_slow / stamps[done_slow / 1024 - 1]
                           : fast_rate;

    printf("%-6s %3u%%  %12.0f  %12.0f  %12.0f  %8.1fx  %8zu %8zu %5zu\n", name, occ_pct,
           fast_rate, fast_prefix_rate, slow_rate, fast_prefix_rate / slow_rate, done_fast,
           done_slow, mismatches);
    if (mismatches != 0)
        die("the allocators disagree", (long)mismatches);
    free(mem);
    free(fast.live);
    free(slow.live);
    free(lin.bits);
    free(ops);
    free(answers);
    free(stamps);
}

int main(void)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    printf("libgnttab benchmark\n\n");
    bench_grants();
    printf("\nforeign-range allocator: free a random run + allocate 1-32 pages, per second\n");
    printf("(tree: all operations; tree@same: the operations the linear scan had time for;\n"
           " ratio = tree@same / linear; diff = answers that differed, must be 0)\n");
    printf("range  occ.          tree     tree@same        linear     ratio  ops-tree ops-lin  diff\n");
    bench_range("1GiB", 1ull << 18, 50, 2.0);
    bench_range("1GiB", 1ull << 18, 90, 2.0);
    bench_range("64GiB", 1ull << 24, 50, 2.0);
    bench_range("64GiB", 1ull << 24, 90, 2.0);
    return 0;
}
