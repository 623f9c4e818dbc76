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
 *    they make identical choices (checked); only the time differs. They
 *    run interleaved, in rounds, each cache-warm before it is timed (see
 *    bench_range); the ratio is taken per round, then its median and range.
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

#define ROUNDS 7

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;

    return x < y ? -1 : x > y;
}

/* Median, minimum and maximum of v[0..n) (v is sorted in place). */
static double median(double *v, size_t n, double *lo, double *hi)
{
    qsort(v, n, sizeof(*v), cmp_double);
    *lo = v[0];
    *hi = v[n - 1];
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/* Nanoseconds per grant of one round of each shape, ROUNDS rounds after one
 * untimed warm-up round; median and range over the rounds. */
static void bench_grants(void)
{
    const unsigned long n = 400000;
    struct xf_gnttab *gt;
    struct xf_sim *sim = xf_sim_create(NULL);
    double single[ROUNDS], batch[ROUNDS], lo, hi, med;
    void *page;
    xen_pfn_t gfn;

    if (sim == NULL)
        die("xf_sim_create", 0);
    xf_sim_set_current(sim, xf_sim_guest_domid(sim));
    if (xf_gnttab_create(&gt, NULL) != 0)
        die("xf_gnttab_create", 0);
    page = xf_plat_page_alloc(1);
    gfn = xf_plat_virt_to_gfn(page);
    for (int r = -1; r < ROUNDS; r++) {
        double t0 = now_s(), t1;

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
        if (r >= 0)
            single[r] = (t1 - t0) * 1e9 / (double)n;

        /* Batched: reserve 32, grant, end, free (a block request's life). */
        grant_ref_t refs[32];
        const unsigned long rounds = n / 32;

        t0 = now_s();
        for (unsigned long k = 0; k < rounds; k++) {
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
        if (r >= 0)
            batch[r] = (t1 - t0) * 1e9 / (double)(rounds * 32);
    }
    med = median(single, ROUNDS, &lo, &hi);
    printf("grant + end_access:                 %6.1f ns per pair  [%.1f, %.1f]  (%.1f M pairs/s)\n",
           med, lo, hi, 1e3 / med);
    med = median(batch, ROUNDS, &lo, &hi);
    printf("reserve 32 + grant/end each + free: %6.1f ns per grant [%.1f, %.1f]  (%.1f M grants/s)\n",
           med, lo, hi, 1e3 / med);
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

/* The library's allocator over ops[0..n): seconds taken, answers in ans. */
static double run_tree(struct xf_gnttab_ra *ra, struct state *st, const struct op *ops, size_t n,
                       int64_t *ans)
{
    double t0 = now_s();

    for (size_t i = 0; i < n; i++) {
        size_t k = ops[i].pick % st->nlive;
        int64_t s;

        xf_gnttab__ra_free(ra, st->live[k].start, st->live[k].len);
        st->live[k] = st->live[--st->nlive];
        s = xf_gnttab__ra_alloc(ra, ops[i].len);
        ans[i] = s;
        if (s >= 0) {
            st->live[st->nlive].start = (uint64_t)s;
            st->live[st->nlive++].len = ops[i].len;
        }
    }
    return now_s() - t0;
}

/* The baseline over the same operations. */
static double run_lin(struct linear *l, struct state *st, const struct op *ops, size_t n,
                      int64_t *ans)
{
    double t0 = now_s();

    for (size_t i = 0; i < n; i++) {
        size_t k = ops[i].pick % st->nlive;
        int64_t s;

        lin_free(l, st->live[k].start, st->live[k].len);
        st->live[k] = st->live[--st->nlive];
        s = lin_alloc(l, ops[i].len);
        ans[i] = s;
        if (s >= 0) {
            st->live[st->nlive].start = (uint64_t)s;
            st->live[st->nlive++].len = ops[i].len;
        }
    }
    return now_s() - t0;
}

static void gen_ops(struct op *ops, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        ops[i].pick = (uint32_t)rnd();
        ops[i].len = (uint32_t)(1 + rnd() % 32);
    }
}

/*
 * Both allocators run the same operations from the same state, so their
 * states stay identical (first fit: their answers must agree, checked).
 * The linear scan slows down as first fit fills the low holes, so a
 * longer run measures a different state, not a more precise one (the ratio
 * grows with nops: quote it with its nops): every round restores both to
 * the same fragmented starting state and runs the same WARM + nops
 * operations. Each allocator runs the WARM ones untimed (its metadata back
 * in cache after the other one ran), then the nops timed ones; the order
 * alternates between rounds. The ratio of a round is linear time / tree
 * time over the same nops operations.
 */
#define WARM 1024u
static unsigned nops = 16384;   /* XF_BENCH_RANGE_OPS */

static void bench_range(const char *name, uint64_t npages, unsigned occ_pct)
{
    struct xf_gnttab_ra ra, ra0;
    size_t memsz = xf_gnttab__ra_mem_size(npages);
    size_t memsz64 = (memsz + 63) & ~(size_t)63;
    void *mem = aligned_alloc(64, memsz64), *mem0 = malloc(memsz64);
    size_t cap = (size_t)npages + 1, nlive0, bitsz = (npages + 63) / 64 * 8;
    struct state fast = { calloc(cap, sizeof(struct run)), 0 };
    struct state slow = { calloc(cap, sizeof(struct run)), 0 };
    struct run *live0;
    struct linear lin = { npages, calloc(1, bitsz) };
    uint64_t *bits0 = malloc(bitsz);
    struct op *ops = calloc(WARM + nops, sizeof(*ops));
    int64_t *ans_fast = calloc(WARM + nops, sizeof(int64_t));
    int64_t *ans_slow = calloc(WARM + nops, sizeof(int64_t));
    uint64_t target = npages * occ_pct / 100;
    double ratio[ROUNDS], tree_rate[ROUNDS], lin_rate[ROUNDS], lo, hi, med, tmed, lmed, x, y;
    size_t mismatches = 0;
    char per_round[ROUNDS * 8 + 1];
    size_t pos = 0;

    if (mem == NULL || mem0 == NULL || fast.live == NULL || slow.live == NULL ||
        lin.bits == NULL || bits0 == NULL || ops == NULL || ans_fast == NULL || ans_slow == NULL)
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
    /* The baseline's state is the same; keep a copy of both to restore. */
    for (size_t k = 0; k < fast.nlive; k++)
        lin_set(&lin, fast.live[k].start, fast.live[k].len, true);
    nlive0 = fast.nlive;
    live0 = malloc(nlive0 * sizeof(struct run));
    if (live0 == NULL)
        die("out of memory", 0);
    memcpy(live0, fast.live, nlive0 * sizeof(struct run));
    memcpy(mem0, mem, memsz);
    memcpy(bits0, lin.bits, bitsz);
    ra0 = ra;
    gen_ops(ops, WARM + nops);

    for (int r = 0; r < ROUNDS; r++) {
        double t_tree = 0, t_lin = 0;

        memcpy(mem, mem0, memsz);
        ra = ra0;
        memcpy(lin.bits, bits0, bitsz);
        memcpy(fast.live, live0, nlive0 * sizeof(struct run));
        memcpy(slow.live, live0, nlive0 * sizeof(struct run));
        fast.nlive = slow.nlive = nlive0;
        for (int side = 0; side < 2; side++) {
            if ((side ^ r) & 1) {
                run_lin(&lin, &slow, ops, WARM, ans_slow);
                t_lin = run_lin(&lin, &slow, ops + WARM, nops, ans_slow + WARM);
            } else {
                run_tree(&ra, &fast, ops, WARM, ans_fast);
                t_tree = run_tree(&ra, &fast, ops + WARM, nops, ans_fast + WARM);
            }
        }
        for (size_t i = 0; i < WARM + nops; i++)
            mismatches += ans_fast[i] != ans_slow[i];
        ratio[r] = t_lin / t_tree;
        tree_rate[r] = nops / t_tree;
        lin_rate[r] = nops / t_lin;
        pos += (size_t)snprintf(per_round + pos, sizeof(per_round) - pos, " %6.1f",
                                ratio[r] < 9999 ? ratio[r] : 9999);
    }
    med = median(ratio, ROUNDS, &lo, &hi);
    tmed = median(tree_rate, ROUNDS, &x, &y);
    lmed = median(lin_rate, ROUNDS, &x, &y);
    printf("%-6s %3u%%  %9.0f  %9.0f  %6.1fx [%5.1f, %5.1f] %3zu |%s\n", name, occ_pct,
           tmed, lmed, med, lo, hi, mismatches, per_round);
    if (mismatches != 0)
        die("the allocators disagree", (long)mismatches);
    free(mem);
    free(mem0);
    free(fast.live);
    free(slow.live);
    free(live0);
    free(lin.bits);
    free(bits0);
    free(ops);
    free(ans_fast);
    free(ans_slow);
}

int main(void)
{
    const char *e = getenv("XF_BENCH_RANGE_OPS");

    if (e != NULL && atoi(e) > 0)
        nops = (unsigned)atoi(e);
    setvbuf(stdout, NULL, _IOLBF, 0);
    printf("libgnttab benchmark (%d rounds each; median [min, max])\n\n", ROUNDS);
    bench_grants();
    printf("\nforeign-range allocator: free a random run + allocate 1-32 pages\n"
           "(each round: both restored to the same fragmented state, then in turn, order\n"
           " alternating: %u operations untimed (warm), the next %u timed, the same for both;\n"
           " rates in operations/s, medians; ratio = linear time / tree time per round;\n"
           " diff = answers that differed, must be 0)\n",
           WARM, nops);
    printf("range  occ.       tree     linear   ratio  [min,   max] diff | per round\n");
    bench_range("1GiB", 1ull << 18, 50);
    bench_range("1GiB", 1ull << 18, 90);
    bench_range("64GiB", 1ull << 24, 50);
    bench_range("64GiB", 1ull << 24, 90);
    return 0;
}
