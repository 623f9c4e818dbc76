/*
 * The foreign-range allocator on its own, checked against a reference model
 * simple enough to be obviously right: one byte per page and a first-fit
 * scan. Both are first fit, so every answer must be identical, not just
 * valid. No simulator: the allocator takes plain memory.
 */
#include "rangealloc.h"

#include <xenfront/errno.h>

#include <check.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "xf_check.h"

static uint64_t rng_state;

static uint64_t rnd(void)
{
    /* xorshift64*: deterministic, so a failure reproduces. */
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    return rng_state * 0x2545f4914f6cdd1dull;
}

static void *ra_mem(uint64_t npages)
{
    size_t sz = xf_gnttab__ra_mem_size(npages);
    void *m;

    ck_assert_uint_gt(sz, 0);
    m = aligned_alloc(64, (sz + 63) & ~(size_t)63);
    ck_assert_ptr_nonnull(m);
    memset(m, 0x5c, sz); /* init must not rely on zeroed memory */
    return m;
}

/* The model. */
struct model {
    uint64_t n;
    uint8_t *used;
};

static int64_t model_alloc(struct model *md, uint64_t len)
{
    uint64_t run = 0;

    for (uint64_t i = 0; i < md->n; i++) {
        run = md->used[i] ? 0 : run + 1;
        if (run == len) {
            memset(md->used + i + 1 - len, 1, len);
            return (int64_t)(i + 1 - len);
        }
    }
    return -XF_ENOSPC;
}

static uint64_t ops_to_run(void)
{
    const char *e = getenv("XF_GNTTAB_TEST_OPS");

    if (e != NULL && *e != '\0')
        return strtoull(e, NULL, 10);
    if (getenv("XF_VALGRIND") != NULL)
        return 200000; /* valgrind: about 20x slower */
    return 1000000;
}

struct live {
    uint64_t start, len;
};

/* A million operations of mixed sizes, phases that fill the range up and
 * drain it, occasional bad frees; every answer compared with the model,
 * and the whole bitmap compared every 4096 operations. */
START_TEST(matches_model)
{
    const uint64_t npages = 5 * 1024 + 77;   /* not a whole number of leaves */
    const uint64_t ops = ops_to_run();
    struct xf_gnttab_ra ra;
    struct model md = { npages, calloc(npages, 1) };
    struct live *lv = calloc(npages, sizeof(*lv));
    size_t nlive = 0;
    uint64_t used = 0, nospace = 0, allocs = 0, frees = 0;
    void *mem = ra_mem(npages);

    ck_assert_ptr_nonnull(md.used);
    ck_assert_ptr_nonnull(lv);
    rng_state = 0x9e3779b97f4a7c15ull;
    ck_assert_int_eq(xf_gnttab__ra_init(&ra, mem, npages), 0);
    for (uint64_t op = 0; op < ops; op++) {
        /* Phases of 20000 operations: filling (70% allocs), draining (30%). */
        unsigned alloc_pct = (op / 20000) % 2 == 0 ? 70 : 30;
        uint64_t r = rnd();

        if (nlive == 0 || r % 100 < alloc_pct) {
            uint64_t kind = (r >> 8) % 100, len;
            int64_t got, want;

            if (kind < 75)
                len = 1 + (r >> 16) % 32;         /* the common case */
            else if (kind < 97)
                len = 33 + (r >> 16) % 600;        /* across leaves */
            else
                len = 600 + (r >> 16) % 3000;      /* large, often no room */
            got = xf_gnttab__ra_alloc(&ra, len);
            want = model_alloc(&md, len);
            if (got != want)
                ck_abort_msg("op %llu: alloc(%llu) = %lld, model %lld",
                             (unsigned long long)op, (unsigned long long)len,
                             (long long)got, (long long)want);
            if (got >= 0) {
                lv[nlive].start = (uint64_t)got;
                lv[nlive++].len = len;
                used += len;
                allocs++;
            } else {
                nospace++;
            }
        } else {
            size_t k = (size_t)((r >> 8) % nlive);
            struct live l = lv[k];
            int rc;

            if ((r >> 40) % 64 == 0) {
                /* Bad frees are refused and change nothing: a free page,
                 * and a run one page too long into a free page or past
                 * the end. */
                uint64_t p = (r >> 20) % npages, e = l.start + l.len;

                if (!md.used[p] && xf_gnttab__ra_free(&ra, p, 1) != -XF_EINVAL)
                    ck_abort_msg("op %llu: free of free page %llu accepted",
                                 (unsigned long long)op, (unsigned long long)p);
                if ((e >= npages || !md.used[e]) &&
                    xf_gnttab__ra_free(&ra, l.start, l.len + 1) != -XF_EINVAL)
                    ck_abort_msg("op %llu: over-long free accepted", (unsigned long long)op);
                continue;
            }
            rc = xf_gnttab__ra_free(&ra, l.start, l.len);
            if (rc != 0)
                ck_abort_msg("op %llu: free(%llu, %llu) = %d", (unsigned long long)op,
                             (unsigned long long)l.start, (unsigned long long)l.len, rc);
            memset(md.used + l.start, 0, l.len);
            lv[k] = lv[--nlive];
            used -= l.len;
            frees++;
        }
        if (ra.used != used)
            ck_abort_msg("op %llu: used %llu, model %llu", (unsigned long long)op,
                         (unsigned long long)ra.used, (unsigned long long)used);
        if (op % 4096 == 0) {
            for (uint64_t p = 0; p < npages; p++)
                if (xf_gnttab__ra_allocated(&ra, p, 1) != (md.used[p] != 0))
                    ck_abort_msg("op %llu: page %llu differs", (unsigned long long)op,
                                 (unsigned long long)p);
        }
    }
    /* It did exercise what it claims. */
    ck_assert_uint_gt(allocs, ops / 4);
    ck_assert_uint_gt(frees, ops / 4);
    ck_assert_uint_gt(nospace, ops / 1000);
    /* Drain: everything comes back as one run. */
    while (nlive > 0) {
        nlive--;
        ck_assert_int_eq(xf_gnttab__ra_free(&ra, lv[nlive].start, lv[nlive].len), 0);
    }
    ck_assert_uint_eq(ra.used, 0);
    ck_assert_int_eq(xf_gnttab__ra_alloc(&ra, npages), 0);
    ck_assert_int_eq(xf_gnttab__ra_alloc(&ra, 1), -XF_ENOSPC);
    free(mem);
    free(md.used);
    free(lv);
}
END_TEST

/* 64 GiB of 4 KiB pages: 16M pages. */
START_TEST(huge_range)
{
    const uint64_t npages = 1ull << 24;
    struct xf_gnttab_ra ra;
    void *mem = ra_mem(npages);
    int64_t a, b, c;

    ck_assert_uint_lt(xf_gnttab__ra_mem_size(npages), 3u << 20);   /* < 3 MiB */
    ck_assert_int_eq(xf_gnttab__ra_init(&ra, mem, npages), 0);
    a = xf_gnttab__ra_alloc(&ra, 1);
    ck_assert_int_eq(a, 0);
    b = xf_gnttab__ra_alloc(&ra, npages / 2);
    ck_assert_int_eq(b, 1);
    ck_assert_int_eq(xf_gnttab__ra_alloc(&ra, npages / 2), -XF_ENOSPC);
    c = xf_gnttab__ra_alloc(&ra, npages / 2 - 1);
    ck_assert_int_eq(c, (int64_t)(npages / 2 + 1));
    ck_assert_uint_eq(ra.used, npages);
    ck_assert_int_eq(xf_gnttab__ra_alloc(&ra, 1), -XF_ENOSPC);
    /* A hole deep inside, found at once. */
    ck_assert_int_eq(xf_gnttab__ra_free(&ra, 12345678, 32), 0);
    ck_assert_int_eq(xf_gnttab__ra_alloc(&ra, 33), -XF_ENOSPC);
    ck_assert_int_eq(xf_gnttab__ra_alloc(&ra, 20), 12345678);
    ck_assert_int_eq(xf_gnttab__ra_alloc(&ra, 12), 12345678 + 20);
    ck_assert_int_eq(xf_gnttab__ra_free(&ra, 0, 1), 0);
    ck_assert_int_eq(xf_gnttab__ra_free(&ra, 1, npages / 2), 0);
    ck_assert_int_eq(xf_gnttab__ra_alloc(&ra, npages / 2 + 1), 0);
    /* The last page is usable, and nothing past it. */
    ck_assert_int_eq(xf_gnttab__ra_free(&ra, npages - 1, 1), 0);
    ck_assert_int_eq(xf_gnttab__ra_alloc(&ra, 1), (int64_t)(npages - 1));
    ck_assert_int_eq(xf_gnttab__ra_free(&ra, npages, 1), -XF_EINVAL);
    free(mem);
}
END_TEST

/* Sizes that are not whole leaves: padding pages are never handed out. */
START_TEST(odd_sizes_and_bad_input)
{
    static const uint64_t sizes[] = { 1, 2, 63, 64, 65, 511, 512, 513, 1023, 1025, 4097 };
    struct xf_gnttab_ra ra;
    uint64_t dummy[4];

    for (size_t k = 0; k < sizeof(sizes) / sizeof(sizes[0]); k++) {
        uint64_t n = sizes[k];
        void *mem = ra_mem(n);

        ck_assert_int_eq(xf_gnttab__ra_init(&ra, mem, n), 0);
        ck_assert_int_eq(xf_gnttab__ra_alloc(&ra, n + 1), -XF_ENOSPC);
        ck_assert_int_eq(xf_gnttab__ra_alloc(&ra, n), 0);
        ck_assert_int_eq(xf_gnttab__ra_alloc(&ra, 1), -XF_ENOSPC);
        ck_assert_int_eq(xf_gnttab__ra_free(&ra, 0, n), 0);
        for (uint64_t i = 0; i < n; i++)
            ck_assert_int_eq(xf_gnttab__ra_alloc(&ra, 1), (int64_t)i);
        ck_assert_int_eq(xf_gnttab__ra_alloc(&ra, 1), -XF_ENOSPC);
        ck_assert_int_eq(xf_gnttab__ra_free(&ra, n - 1, 2), -XF_EINVAL);
        ck_assert_int_eq(xf_gnttab__ra_free(&ra, n - 1, 1), 0);
        ck_assert_int_eq(xf_gnttab__ra_free(&ra, n - 1, 1), -XF_EINVAL);
        ck_assert_int_eq(xf_gnttab__ra_alloc(&ra, 0), -XF_EINVAL);
        ck_assert_int_eq(xf_gnttab__ra_free(&ra, 0, 0), -XF_EINVAL);
        free(mem);
    }
    ck_assert_uint_eq(xf_gnttab__ra_mem_size(0), 0);
    ck_assert_uint_eq(xf_gnttab__ra_mem_size(XF_GNTTAB_RA_MAX_PAGES + 1), 0);
    ck_assert_int_eq(xf_gnttab__ra_init(&ra, NULL, 10), -XF_EINVAL);
    ck_assert_int_eq(xf_gnttab__ra_init(&ra, (uint8_t *)dummy + 1, 10), -XF_EINVAL);
    ck_assert_int_eq(xf_gnttab__ra_init(&ra, dummy, 0), -XF_EINVAL);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("gnttab-rangealloc");
    TCase *tc = tcase_create("rangealloc");

    tcase_set_timeout(tc, 240);
    tcase_add_test(tc, matches_model);
    tcase_add_test(tc, huge_range);
    tcase_add_test(tc, odd_sizes_and_bad_input);
    suite_add_tcase(s, tc);
    return xf_check_run(s);
}
