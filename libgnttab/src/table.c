/*
 * The grant table itself: size, version, mapping its frames, growing, the
 * free list of references, and the context's life cycle.
 *
 * A PVH guest sees its table by naming guest frames for it: add_to_physmap
 * of XENMAPSPACE_grant_table puts table frame idx at a gfn, replacing the
 * RAM page there (Xen frees that RAM). We give it pages from the platform;
 * from then on those pages are the table, and go back to the allocator only
 * once RAM is back behind them (see unmap_frame).
 */
#include "private.h"

#include <xenfront/physmap.h>

static size_t pages_for(size_t bytes)
{
    return (bytes + XF_PAGE_SIZE - 1) / XF_PAGE_SIZE;
}

void xf_gnttab__free_push(struct xf_gnttab *gt, uint32_t ref)
{
    ref_set_state(gt, ref, ST_FREE);
    *ref_next(gt, ref) = REF_NONE;
    if (gt->free_tail == REF_NONE)
        gt->free_head = ref;
    else
        *ref_next(gt, gt->free_tail) = ref;
    gt->free_tail = ref;
    gt->free_count++;
}

/* Take the oldest free reference (the caller checked free_count). It
 * becomes reserved. */
uint32_t xf_gnttab__free_pop(struct xf_gnttab *gt)
{
    uint32_t ref = gt->free_head;

    gt->free_head = *ref_next(gt, ref);
    if (gt->free_head == REF_NONE)
        gt->free_tail = REF_NONE;
    gt->free_count--;
    ref_set_state(gt, ref, ST_RESERVED);
    gt->reserved_count++;
    return ref;
}

/* Map table frame idx (== nr_frames) and add its references to the free
 * list. Entries already live are someone else's (the toolstack's 0-7, or a
 * grant made before this context) and are never handed out. */
static int map_frame(struct xf_gnttab *gt)
{
    uint32_t idx = gt->nr_frames;
    grant_entry_v1_t *page;
    struct ref_meta *meta;
    int rc;

    page = xf_plat_page_alloc(1);
    if (page == NULL)
        return -XF_ENOMEM;
    meta = xf_plat_page_alloc(1);
    if (meta == NULL) {
        xf_plat_page_free(page, 1);
        return -XF_ENOMEM;
    }
    rc = xf_physmap_add(page, XENMAPSPACE_grant_table, idx);
    if (rc != 0) {
        /* Xen refused before touching the p2m: the page is still RAM. */
        xf_plat_page_free(meta, 1);
        xf_plat_page_free(page, 1);
        return rc;
    }
    gt->frames[idx] = page;
    gt->meta[idx] = meta;
    gt->nr_frames = idx + 1;
    for (uint32_t i = 0; i < REFS_PER_FRAME; i++) {
        uint32_t ref = idx * REFS_PER_FRAME + i;
        uint16_t flags = __atomic_load_n(&page[i].flags, __ATOMIC_ACQUIRE);

        if (ref < GNTTAB_NR_RESERVED_ENTRIES || flags != 0) {
            if (ref >= GNTTAB_NR_RESERVED_ENTRIES)
                xf_log(XF_LOG_WARN, "gnttab: ref %u already live (flags 0x%x): left alone",
                       ref, flags);
            meta->state[i] = ST_EXTERNAL;
            meta->next[i] = REF_NONE;
            continue;
        }
        xf_gnttab__free_push(gt, ref);
    }
    return 0;
}

int xf_gnttab__ensure_free(struct xf_gnttab *gt, uint32_t n)
{
    while (gt->free_count < n) {
        int rc;

        if (gt->nr_frames >= gt->max_frames)
            return -XF_ENOSPC;
        rc = map_frame(gt);
        if (rc < 0)
            return rc;
    }
    return 0;
}

int xf_gnttab_grow(struct xf_gnttab *gt, uint32_t min_free)
{
    if (gt == NULL)
        return -XF_EINVAL;
    return xf_gnttab__ensure_free(gt, min_free);
}

/*
 * Take frame i out of the physmap. Its gfn then has no page (the RAM that
 * was there went back to Xen at mapping time), so the page may only go back
 * to the allocator once populate_physmap put RAM there again; otherwise it
 * is kept, never handed out as a hole or as a view of the table.
 */
static void unmap_frame(struct xf_gnttab *gt, uint32_t i)
{
    if (xf_physmap_remove(gt->frames[i]) == 0)
        xf_plat_page_free(gt->frames[i], 1);
}

static void release_all(struct xf_gnttab *gt)
{
    for (uint32_t i = 0; i < gt->nr_frames; i++) {
        unmap_frame(gt, i);
        xf_plat_page_free(gt->meta[i], 1);
    }
    if (gt->ra_mem != NULL)
        xf_plat_page_free(gt->ra_mem, gt->ra_pages);
    xf_plat_page_free(gt, gt->self_pages);
}

/* v1 is what this library writes. Xen starts every domain at v1; a kernel
 * booted after one that switched to v2 must switch back. */
static int ensure_v1(void)
{
    struct gnttab_set_version sv;
    struct gnttab_get_version gv;
    long rc;

    memset(&sv, 0, sizeof(sv));
    sv.version = 1;
    rc = xf_plat_grant_table_op(GNTTABOP_set_version, &sv, 1);
    if (rc == 0)
        return 0;
    memset(&gv, 0, sizeof(gv));
    gv.dom = DOMID_SELF;
    if (xf_plat_grant_table_op(GNTTABOP_get_version, &gv, 1) == 0 && gv.version == 1)
        return 0;
    xf_log(XF_LOG_ERROR, "gnttab: cannot use the v1 layout (set_version: %ld)", rc);
    return -XF_EOPNOTSUPP;
}

static int query_size(uint32_t *nr, uint32_t *max)
{
    struct gnttab_query_size q;
    long rc;

    memset(&q, 0, sizeof(q));
    q.dom = DOMID_SELF;
    rc = xf_plat_grant_table_op(GNTTABOP_query_size, &q, 1);
    if (rc != 0)
        return (int)rc;
    if (q.status != GNTST_okay)
        return xf_gnttab_status_errno(q.status);
    *nr = q.nr_frames;
    *max = q.max_nr_frames;
    return 0;
}

/* Take the platform's foreign range and set up its allocator. */
static int setup_foreign(struct xf_gnttab *gt)
{
    void *va = NULL;
    xen_pfn_t first = 0;
    size_t n = 0;
    size_t bytes;
    int rc = xf_plat_foreign_range(&va, &first, &n);

    if (rc == -XF_ENOSYS || (rc == 0 && n == 0))
        return 0; /* no range: mapping gives -XF_ENOSYS */
    if (rc != 0)
        return rc;
    if (va == NULL || ((uintptr_t)va & (XF_PAGE_SIZE - 1)) != 0 ||
        (uint64_t)n > XF_GNTTAB_RA_MAX_PAGES) {
        xf_log(XF_LOG_ERROR, "gnttab: unusable foreign range %p, %llu pages", va,
               (unsigned long long)n);
        return -XF_EINVAL;
    }
    bytes = xf_gnttab__ra_mem_size(n);
    gt->ra_pages = pages_for(bytes);
    gt->ra_mem = xf_plat_page_alloc(gt->ra_pages);
    if (gt->ra_mem == NULL)
        return -XF_ENOMEM;
    rc = xf_gnttab__ra_init(&gt->ra, gt->ra_mem, n);
    if (rc != 0)
        return rc;
    gt->fva = va;
    gt->fgfn = first;
    gt->has_foreign = true;
    return 0;
}

int xf_gnttab_create(struct xf_gnttab **out, const struct xf_gnttab_config *cfg)
{
    struct xf_gnttab_config c;
    struct xf_gnttab *gt;
    uint32_t nr = 0, max = 0, want;
    size_t bytes, off_frames, off_meta, off_slots;
    int rc;

    if (out == NULL)
        return -XF_EINVAL;
    *out = NULL;
    memset(&c, 0, sizeof(c));
    if (cfg != NULL)
        c = *cfg;
    if (c.max_frames != 0 && c.initial_frames > c.max_frames)
        return -XF_EINVAL;
    if (c.deferred_max == 0)
        c.deferred_max = XF_GNTTAB_DEFAULT_DEFERRED_MAX;
    if (c.deferred_max > (1u << 20))
        return -XF_EINVAL;

    rc = query_size(&nr, &max);
    if (rc != 0) {
        xf_log(XF_LOG_ERROR, "gnttab: query_size: %d", rc);
        return rc;
    }
    if (max == 0 || nr > max)
        return -XF_EIO;
    if (max > XF_GNTTAB_FRAMES_LIMIT)
        max = XF_GNTTAB_FRAMES_LIMIT;
    if (c.max_frames != 0 && c.max_frames < max)
        max = c.max_frames;
    want = c.initial_frames != 0 ? c.initial_frames : 1;
    if (want < nr)
        want = nr; /* frames Xen already has are ours to see */
    if (want > max)
        return -XF_EINVAL;
    rc = ensure_v1();
    if (rc != 0)
        return rc;

    off_frames = (sizeof(*gt) + 7) & ~(size_t)7;
    off_meta = off_frames + (size_t)max * sizeof(gt->frames[0]);
    off_slots = off_meta + (size_t)max * sizeof(gt->meta[0]);
    bytes = off_slots + (size_t)c.deferred_max * sizeof(struct deferred);
    gt = xf_plat_page_alloc(pages_for(bytes));
    if (gt == NULL)
        return -XF_ENOMEM;
    memset(gt, 0, bytes);
    gt->self_pages = pages_for(bytes);
    gt->frames = (grant_entry_v1_t **)(void *)((uint8_t *)gt + off_frames);
    gt->meta = (struct ref_meta **)(void *)((uint8_t *)gt + off_meta);
    gt->slots = (struct deferred *)(void *)((uint8_t *)gt + off_slots);
    gt->max_frames = max;
    gt->free_head = gt->free_tail = REF_NONE;
    gt->dmax = c.deferred_max;
    gt->dhead = gt->dtail = REF_NONE;
    for (uint32_t i = 0; i < gt->dmax; i++)
        gt->slots[i].next = i + 1 < gt->dmax ? i + 1 : REF_NONE;
    gt->dfree = 0;

    while (gt->nr_frames < want) {
        rc = map_frame(gt);
        if (rc != 0)
            goto fail;
    }
    if (!c.no_foreign_range) {
        rc = setup_foreign(gt);
        if (rc != 0)
            goto fail;
    }
    *out = gt;
    return 0;
fail:
    release_all(gt);
    return rc;
}

int xf_gnttab_destroy(struct xf_gnttab *gt)
{
    if (gt == NULL)
        return 0;
    if (gt->granted_count != 0 || gt->dcount != 0 ||
        (gt->has_foreign && gt->ra.used != 0)) {
        xf_log(XF_LOG_WARN, "gnttab: destroy refused: %u grants live, %u deferred, "
               "%llu foreign pages mapped", gt->granted_count, gt->dcount,
               (unsigned long long)(gt->has_foreign ? gt->ra.used : 0));
        return -XF_EBUSY;
    }
    release_all(gt);
    return 0;
}

void xf_gnttab_get_stats(const struct xf_gnttab *gt, struct xf_gnttab_stats *st)
{
    if (st == NULL)
        return;
    memset(st, 0, sizeof(*st));
    if (gt == NULL)
        return;
    st->nr_frames = gt->nr_frames;
    st->max_frames = gt->max_frames;
    st->free_refs = gt->free_count;
    st->reserved_refs = gt->reserved_count;
    st->granted_refs = gt->granted_count;
    st->deferred = gt->dcount;
    st->deferred_max = gt->dmax;
    st->deferred_done = gt->deferred_done;
    if (gt->has_foreign) {
        st->foreign_pages = gt->ra.npages;
        st->foreign_used = gt->ra.used;
    }
}
