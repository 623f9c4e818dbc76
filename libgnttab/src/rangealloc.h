/*
 * The foreign-range allocator: contiguous runs of pages in a range of up to
 * 2^31 pages, found in O(log n) (rangealloc.c explains how). Internal to
 * libgnttab, and used directly by its tests and benchmark. The caller gives
 * the metadata memory (xf_gnttab__ra_mem_size() bytes, 8-byte aligned,
 * zeroed or not); the allocator never allocates nor frees memory.
 *
 * Allocation is first fit: the run returned is always the lowest-addressed
 * one that fits, so its results are fully determined by the sequence of
 * calls (a reference model can predict every answer).
 */
#ifndef XF_GNTTAB_RANGEALLOC_H
#define XF_GNTTAB_RANGEALLOC_H

#include <xenfront/base.h>

/* Pages per leaf of the summary tree: 8 bitmap words. */
#define XF_GNTTAB_RA_LEAF_BITS 512u
#define XF_GNTTAB_RA_LEAF_WORDS (XF_GNTTAB_RA_LEAF_BITS / 64u)
/* Largest range: run lengths and counts are kept in 32 bits. */
#define XF_GNTTAB_RA_MAX_PAGES (1ull << 31)

/* One node of the summary tree: free runs of its span of pages. */
struct xf_gnttab_ra_node {
    uint32_t pre;   /* free pages at the start of the span */
    uint32_t suf;   /* free pages at the end */
    uint32_t max;   /* longest free run inside */
};

struct xf_gnttab_ra {
    uint64_t npages;        /* pages managed */
    uint64_t used;          /* pages allocated */
    uint32_t nleaves;       /* a power of two */
    uint32_t leaf_shift;    /* log2(nleaves) */
    uint64_t *bits;         /* 1 = allocated; nleaves * 8 words */
    struct xf_gnttab_ra_node *tree; /* implicit heap, [1, 2 * nleaves) */
};

/* Bytes of metadata for a range of npages (0 if npages is 0 or too big). */
size_t xf_gnttab__ra_mem_size(uint64_t npages);

/* Set up ra over npages, all free, with mem of xf_gnttab__ra_mem_size(npages)
 * bytes. 0, or -XF_EINVAL (npages 0 or too big, mem NULL or misaligned). */
int xf_gnttab__ra_init(struct xf_gnttab_ra *ra, void *mem, uint64_t npages);

/* Allocate n contiguous pages: the first page's index, or -XF_ENOSPC (no
 * free run of n), -XF_EINVAL (n 0). */
int64_t xf_gnttab__ra_alloc(struct xf_gnttab_ra *ra, uint64_t n);

/* Free pages [start, start + n). Returns 0, or -XF_EINVAL (out of range,
 * n 0, or a page of it not allocated: then nothing is freed). */
int xf_gnttab__ra_free(struct xf_gnttab_ra *ra, uint64_t start, uint64_t n);

/* Is every page of [start, start + n) allocated? (false when out of range) */
bool xf_gnttab__ra_allocated(const struct xf_gnttab_ra *ra, uint64_t start, uint64_t n);

#endif /* XF_GNTTAB_RANGEALLOC_H */
