/*
 * libgnttab internals: the context, per-reference bookkeeping, and the
 * functions the source files share (global in the archive, hence prefixed
 * xf_gnttab__).
 */
#ifndef XF_GNTTAB_PRIVATE_H
#define XF_GNTTAB_PRIVATE_H

#include <xenfront/base.h>
#include <xenfront/barrier.h>
#include <xenfront/errno.h>
#include <xenfront/gnttab.h>
#include <xenfront/platform.h>
#include <xenfront/xen.h>

#include "rangealloc.h"

#define REFS_PER_FRAME ((uint32_t)XF_GNTTAB_REFS_PER_FRAME)
#define REF_NONE       UINT32_MAX

_Static_assert(XF_GNTTAB_REFS_PER_FRAME == 512, "512 v1 entries per frame");
_Static_assert(offsetof(grant_entry_v1_t, flags) == 0 && sizeof(uint16_t) == 2,
               "the v1 flags are the entry's first 16 bits");

/* The most frames a context maps: 2^20 references, far above Xen's defaults
 * (64 frames; gnttab_max_frames is a boot option). */
#define XF_GNTTAB_FRAMES_LIMIT 2048u

/* Life of a reference (the library's view; Xen sees only the entry). */
enum ref_state {
    ST_FREE = 0,      /* on the free list */
    ST_RESERVED,      /* the caller's, not granted */
    ST_GRANTED,       /* live entry, the caller's */
    ST_DEFERRED,      /* live entry on the deferred list, the library's */
    ST_EXTERNAL,      /* 0-7, or found live at creation: never touched */
};

/* Bookkeeping of one table frame's 512 references, in one page. */
struct ref_meta {
    uint32_t next[REFS_PER_FRAME];   /* free-list link */
    uint8_t state[REFS_PER_FRAME];
};
_Static_assert(sizeof(struct ref_meta) <= XF_PAGE_SIZE, "a frame's bookkeeping fits a page");

/* A grant whose end was deferred. */
struct deferred {
    uint32_t ref;
    uint32_t next;          /* index in the slot array, or REF_NONE */
    uint32_t tries;
    void *page;
    xf_gnttab_release_fn *release;
    void *arg;
};

struct xf_gnttab {
    size_t self_pages;              /* this allocation */
    uint32_t nr_frames, max_frames;
    grant_entry_v1_t **frames;      /* [max_frames]: the mapped table */
    struct ref_meta **meta;         /* [max_frames] */

    /* FIFO free list: an ended reference is reused as late as possible, so
     * a back end holding a stale reference number finds it revoked rather
     * than granting some newer page. */
    uint32_t free_head, free_tail, free_count;
    uint32_t reserved_count, granted_count;

    /* Deferred list: slots[dmax], in-use chain FIFO, free chain. */
    struct deferred *slots;
    uint32_t dmax, dcount;
    uint32_t dhead, dtail, dfree;
    uint64_t deferred_done;

    /* The foreign range. */
    bool has_foreign;
    uint8_t *fva;
    xen_pfn_t fgfn;
    void *ra_mem;
    size_t ra_pages;
    struct xf_gnttab_ra ra;
};

static inline grant_entry_v1_t *ref_entry(const struct xf_gnttab *gt, uint32_t ref)
{
    return &gt->frames[ref / REFS_PER_FRAME][ref % REFS_PER_FRAME];
}

static inline bool ref_valid(const struct xf_gnttab *gt, uint32_t ref)
{
    return ref < gt->nr_frames * REFS_PER_FRAME;
}

static inline uint8_t ref_state(const struct xf_gnttab *gt, uint32_t ref)
{
    return gt->meta[ref / REFS_PER_FRAME]->state[ref % REFS_PER_FRAME];
}

static inline void ref_set_state(struct xf_gnttab *gt, uint32_t ref, uint8_t st)
{
    gt->meta[ref / REFS_PER_FRAME]->state[ref % REFS_PER_FRAME] = st;
}

static inline uint32_t *ref_next(struct xf_gnttab *gt, uint32_t ref)
{
    return &gt->meta[ref / REFS_PER_FRAME]->next[ref % REFS_PER_FRAME];
}

/* table.c */
void xf_gnttab__free_push(struct xf_gnttab *gt, uint32_t ref);
uint32_t xf_gnttab__free_pop(struct xf_gnttab *gt);
int xf_gnttab__ensure_free(struct xf_gnttab *gt, uint32_t n);

/* grant.c: revoke a live entry unless the other side holds it. */
int xf_gnttab__revoke(struct xf_gnttab *gt, uint32_t ref);

#endif /* XF_GNTTAB_PRIVATE_H */
