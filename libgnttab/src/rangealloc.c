/*
 * The foreign-range allocator: a bitmap (1 = allocated) with a summary tree.
 *
 * Why not a plain bitmap: a first-fit scan is linear in the distance to the
 * first hole that fits, which for a backend's range of millions of pages
 * at high occupancy is most of the range, on every map.
 *
 * The bitmap is cut into leaves of 512 pages (8 words). Above them sits a
 * complete binary tree, stored as an implicit heap, whose every node keeps
 * three numbers about the pages it spans: the free run at its start (pre),
 * the free run at its end (suf) and its longest free run (max). A parent
 * follows from its two children in O(1):
 *     pre = L.pre, or all of L plus R.pre when L is entirely free;
 *     suf likewise from the right;
 *     max = the largest of L.max, R.max and L.suf + R.pre (a run across).
 *
 * Allocating n pages, first fit: if the root's max < n there is no room.
 * Otherwise descend: into the left child if its max >= n (a run inside it
 * starts before any run that crosses the middle); else, if L.suf + R.pre
 * >= n, the run starting L.suf pages before the middle is the first fit;
 * else into the right child. At a leaf, scan its 8 words for the first
 * run of n. Then set the run's bits and recompute the leaves it touches and
 * their ancestors, level by level.
 *
 * Cost with N pages and a run of n: alloc and free are
 * O(log2(N / 512) + 8 + n / 64) word operations (a 64 GiB range of 16M
 * pages has a tree of 15 levels), against O(N / 64) for the linear scan.
 * Memory: N / 8 bytes of bitmap plus 24 bytes per 512 pages of tree, about
 * 0.17 bytes per page (2.8 MiB for 64 GiB). Pages past N up to the last
 * leaf are marked allocated for good, so they are never handed out.
 */
#include "rangealloc.h"

#include <xenfront/errno.h>

#define LEAF_BITS  XF_GNTTAB_RA_LEAF_BITS
#define LEAF_WORDS XF_GNTTAB_RA_LEAF_WORDS

_Static_assert(LEAF_BITS == LEAF_WORDS * 64, "a leaf is whole words");

static uint32_t umax(uint32_t a, uint32_t b)
{
    return a > b ? a : b;
}

static uint32_t leaves_for(uint64_t npages, uint32_t *shift)
{
    uint64_t need = (npages + LEAF_BITS - 1) / LEAF_BITS;
    uint32_t s = 0;

    while (((uint64_t)1 << s) < need)
        s++;
    *shift = s;
    return (uint32_t)1 << s;
}

size_t xf_gnttab__ra_mem_size(uint64_t npages)
{
    uint32_t shift, n;

    if (npages == 0 || npages > XF_GNTTAB_RA_MAX_PAGES)
        return 0;
    n = leaves_for(npages, &shift);
    return (size_t)n * LEAF_WORDS * sizeof(uint64_t) +
           (size_t)2 * n * sizeof(struct xf_gnttab_ra_node);
}

/*
 * Call fn(start, len, ctx) for each maximal free run of one leaf, in order,
 * walking used/free boundaries with count-trailing-zeros (cost: the number
 * of runs, at most 8 steps for a leaf that is all free or all used). Stops
 * early, returning true, when fn does.
 */
static inline bool leaf_runs(const uint64_t *w,
                             bool (*fn)(uint32_t start, uint32_t len, void *ctx), void *ctx)
{
    uint32_t start = 0, len = 0;

    for (unsigned i = 0; i < LEAF_WORDS; i++) {
        uint64_t x = w[i];
        unsigned b = 0;

        while (b < 64) {
            uint64_t used = x >> b;
            uint64_t freebits;
            unsigned f;

            if (used == 0) {
                len += 64 - b;  /* free to the end of the word */
                break;
            }
            /* The current run (possibly empty) ends at the next used page. */
            f = (unsigned)__builtin_ctzll(used);
            b += f;
            len += f;
            if (len > 0 && fn(start, len, ctx))
                return true;
            freebits = ~x >> b;
            if (freebits == 0) {
                start = (i + 1) * 64; /* used to the end of the word */
                len = 0;
                break;
            }
            b += (unsigned)__builtin_ctzll(freebits);
            start = i * 64 + b;
            len = 0;
        }
    }
    return len > 0 && fn(start, len, ctx);
}

static bool stats_run(uint32_t start, uint32_t len, void *ctx)
{
    struct xf_gnttab_ra_node *out = ctx;

    if (start == 0)
        out->pre = len;
    if (start + len == LEAF_BITS)
        out->suf = len;
    out->max = umax(out->max, len);
    return false;
}

/* pre, suf and max of one leaf's 512 bits. */
static void leaf_stats(const uint64_t *w, struct xf_gnttab_ra_node *out)
{
    out->pre = out->suf = out->max = 0;
    (void)leaf_runs(w, stats_run, out);
}

struct find_ctx {
    uint32_t n, start;
};

static bool find_run(uint32_t start, uint32_t len, void *ctx)
{
    struct find_ctx *c = ctx;

    if (len < c->n)
        return false;
    c->start = start;
    return true;
}

/* Offset in the leaf of its first free run of n pages (the caller knows
 * the leaf's max >= n). */
static uint32_t leaf_find(const uint64_t *w, uint32_t n)
{
    struct find_ctx c = { n, 0 };

    (void)leaf_runs(w, find_run, &c);
    return c.start;
}

static void pull(struct xf_gnttab_ra_node *t, uint32_t i, uint32_t half)
{
    const struct xf_gnttab_ra_node *l = &t[2 * i], *r = &t[2 * i + 1];

    t[i].pre = l->pre == half ? half + r->pre : l->pre;
    t[i].suf = r->suf == half ? half + l->suf : r->suf;
    t[i].max = umax(umax(l->max, r->max), l->suf + r->pre);
}

/* Recompute leaves a..b and every ancestor of them. */
static void update(struct xf_gnttab_ra *ra, uint64_t a, uint64_t b)
{
    uint32_t lo = ra->nleaves + (uint32_t)a, hi = ra->nleaves + (uint32_t)b;
    uint32_t half = LEAF_BITS;

    for (uint32_t i = lo; i <= hi; i++)
        leaf_stats(ra->bits + (uint64_t)(i - ra->nleaves) * LEAF_WORDS, &ra->tree[i]);
    while (lo > 1) {
        lo >>= 1;
        hi >>= 1;
        for (uint32_t i = lo; i <= hi; i++)
            pull(ra->tree, i, half);
        half <<= 1;
    }
}

/* The mask of bits [from, to) of one word, 0 <= from < to <= 64. */
static uint64_t word_mask(unsigned from, unsigned to)
{
    uint64_t hi = to == 64 ? ~(uint64_t)0 : (((uint64_t)1 << to) - 1);
    return hi & ~(((uint64_t)1 << from) - 1);
}

/* Set or clear bits [s, s + n). */
static void set_bits(uint64_t *bits, uint64_t s, uint64_t n, bool set)
{
    uint64_t e = s + n;

    while (s < e) {
        uint64_t w = s / 64;
        unsigned from = (unsigned)(s % 64);
        unsigned to = e - w * 64 >= 64 ? 64 : (unsigned)(e - w * 64);
        uint64_t m = word_mask(from, to);

        if (set)
            bits[w] |= m;
        else
            bits[w] &= ~m;
        s = w * 64 + to;
    }
}

/* Are all bits [s, s + n) set? */
static bool all_set(const uint64_t *bits, uint64_t s, uint64_t n)
{
    uint64_t e = s + n;

    while (s < e) {
        uint64_t w = s / 64;
        unsigned from = (unsigned)(s % 64);
        unsigned to = e - w * 64 >= 64 ? 64 : (unsigned)(e - w * 64);
        uint64_t m = word_mask(from, to);

        if ((bits[w] & m) != m)
            return false;
        s = w * 64 + to;
    }
    return true;
}

int xf_gnttab__ra_init(struct xf_gnttab_ra *ra, void *mem, uint64_t npages)
{
    uint32_t shift, n;
    uint64_t total;

    if (ra == NULL || mem == NULL || ((uintptr_t)mem & 7) != 0 ||
        xf_gnttab__ra_mem_size(npages) == 0)
        return -XF_EINVAL;
    n = leaves_for(npages, &shift);
    total = (uint64_t)n * LEAF_BITS;
    ra->npages = npages;
    ra->used = 0;
    ra->nleaves = n;
    ra->leaf_shift = shift;
    ra->bits = mem;
    ra->tree = (struct xf_gnttab_ra_node *)(void *)(ra->bits + (size_t)n * LEAF_WORDS);
    memset(ra->bits, 0, (size_t)n * LEAF_WORDS * sizeof(uint64_t));
    if (total > npages)
        set_bits(ra->bits, npages, total - npages, true); /* never handed out */
    for (uint32_t l = 0; l < n; l++)
        leaf_stats(ra->bits + (size_t)l * LEAF_WORDS, &ra->tree[n + l]);
    ra->tree[0].pre = ra->tree[0].suf = ra->tree[0].max = 0;
    for (uint32_t i = n - 1; i >= 1; i--) {
        unsigned level = 31u - (unsigned)__builtin_clz(i);
        pull(ra->tree, i, (uint32_t)(total >> (level + 1)));
    }
    return 0;
}

int64_t xf_gnttab__ra_alloc(struct xf_gnttab_ra *ra, uint64_t n)
{
    const struct xf_gnttab_ra_node *t = ra->tree;
    uint64_t lo = 0, span = (uint64_t)ra->nleaves * LEAF_BITS, start;
    uint32_t i = 1;

    if (n == 0)
        return -XF_EINVAL;
    if (n > t[1].max)
        return -XF_ENOSPC;
    for (;;) {
        if (i >= ra->nleaves) {
            uint64_t leaf = i - ra->nleaves;
            start = lo + leaf_find(ra->bits + leaf * LEAF_WORDS, (uint32_t)n);
            break;
        }
        span /= 2;
        if (t[2 * i].max >= n) {
            i = 2 * i;
        } else if ((uint64_t)t[2 * i].suf + t[2 * i + 1].pre >= n) {
            start = lo + span - t[2 * i].suf;
            break;
        } else {
            i = 2 * i + 1;
            lo += span;
        }
    }
    set_bits(ra->bits, start, n, true);
    update(ra, start / LEAF_BITS, (start + n - 1) / LEAF_BITS);
    ra->used += n;
    return (int64_t)start;
}

bool xf_gnttab__ra_allocated(const struct xf_gnttab_ra *ra, uint64_t start, uint64_t n)
{
    if (n == 0 || start >= ra->npages || n > ra->npages - start)
        return false;
    return all_set(ra->bits, start, n);
}

int xf_gnttab__ra_free(struct xf_gnttab_ra *ra, uint64_t start, uint64_t n)
{
    if (!xf_gnttab__ra_allocated(ra, start, n))
        return -XF_EINVAL;
    set_bits(ra->bits, start, n, false);
    update(ra, start / LEAF_BITS, (start + n - 1) / LEAF_BITS);
    ra->used -= n;
    return 0;
}
