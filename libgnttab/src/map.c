/*
 * Mapping other domains' grants into the foreign range.
 *
 * On PVH, GNTTABOP_map_grant_ref's host_addr is a guest-physical address:
 * Xen puts the granted page at that gfn of our p2m. Mapping it over a RAM
 * page would make Xen free that RAM, and unmapping would leave a hole where
 * the heap expects memory; so grants only ever go to the embedder's range
 * of non-RAM frames, managed by rangealloc.c, whose pages are never the
 * heap's. Hypercall arguments are built on the stack in chunks, each
 * structure zeroed before it is filled.
 */
#include "private.h"

#define CHUNK 16u

static uint64_t host_addr(const struct xf_gnttab *gt, uint64_t idx)
{
    return ((uint64_t)gt->fgfn + idx) << XF_PAGE_SHIFT;
}

/* Map entries [0, n) of m to pages first + i; statuses per entry. */
static void map_chunk(struct xf_gnttab *gt, struct xf_gnttab_map *m, uint32_t n,
                      uint64_t first)
{
    struct gnttab_map_grant_ref ops[CHUNK];
    uint32_t idx[CHUNK];
    uint32_t k = 0;
    long rc;

    for (uint32_t i = 0; i < n; i++) {
        m[i].addr = NULL;
        m[i].handle = 0;
        if (m[i].domid >= DOMID_FIRST_RESERVED) {
            m[i].status = -XF_EINVAL;
            continue;
        }
        memset(&ops[k], 0, sizeof(ops[k]));
        ops[k].host_addr = host_addr(gt, first + i);
        ops[k].flags = GNTMAP_host_map | (m[i].readonly ? GNTMAP_readonly : 0);
        ops[k].ref = m[i].ref;
        ops[k].dom = m[i].domid;
        ops[k].status = GNTST_general_error;
        ops[k].handle = 0;
        ops[k].dev_bus_addr = 0;
        idx[k++] = i;
    }
    if (k == 0)
        return;
    rc = xf_plat_grant_table_op(GNTTABOP_map_grant_ref, ops, k);
    for (uint32_t j = 0; j < k; j++) {
        struct xf_gnttab_map *e = &m[idx[j]];

        if (rc != 0) {
            e->status = rc < 0 ? (int)rc : -XF_EIO;
            continue;
        }
        e->status = xf_gnttab_status_errno(ops[j].status);
        if (e->status == 0) {
            e->addr = gt->fva + (size_t)(first + idx[j]) * XF_PAGE_SIZE;
            e->handle = ops[j].handle;
        }
    }
}

int xf_gnttab_map_grants(struct xf_gnttab *gt, struct xf_gnttab_map *m, uint32_t n)
{
    xf_irqflags_t irq;
    int64_t first = 0;
    int rc = 0, failed = 0;

    if (gt == NULL || m == NULL || n == 0)
        return -XF_EINVAL;
    if (!gt->has_foreign) {
        rc = -XF_ENOSYS;
    } else {
        /* The range is shared with this vCPU's event handler. */
        irq = xf_plat_irq_save();
        first = xf_gnttab__ra_alloc(&gt->ra, n);
        xf_plat_irq_restore(irq);
        if (first < 0)
            rc = (int)first;
    }
    if (rc != 0) {
        for (uint32_t i = 0; i < n; i++) {
            m[i].addr = NULL;
            m[i].handle = 0;
            m[i].status = rc;
        }
        return rc;
    }
    for (uint32_t i = 0; i < n; i += CHUNK)
        map_chunk(gt, m + i, n - i < CHUNK ? n - i : CHUNK, (uint64_t)first + i);
    /* A failed entry's page is empty: straight back to the range. */
    irq = xf_plat_irq_save();
    for (uint32_t i = 0; i < n; i++) {
        if (m[i].status != 0) {
            xf_gnttab__ra_free(&gt->ra, (uint64_t)first + i, 1);
            failed++;
        }
    }
    xf_plat_irq_restore(irq);
    return failed;
}

/* The range page of addr, if addr is a mapped (allocated) page of it. */
static bool page_of(const struct xf_gnttab *gt, const void *addr, uint64_t *idx)
{
    uintptr_t a = (uintptr_t)addr, base = (uintptr_t)gt->fva;

    if (!gt->has_foreign || a < base || ((a - base) & (XF_PAGE_SIZE - 1)) != 0)
        return false;
    *idx = (a - base) / XF_PAGE_SIZE;
    return xf_gnttab__ra_allocated(&gt->ra, *idx, 1);
}

static int unmap_chunk(struct xf_gnttab *gt, struct xf_gnttab_map *m, uint32_t n)
{
    struct gnttab_unmap_grant_ref ops[CHUNK];
    uint32_t idx[CHUNK];
    uint64_t page[CHUNK];
    xf_irqflags_t irq;
    uint32_t k = 0;
    int failed = 0;
    long rc;

    for (uint32_t i = 0; i < n; i++) {
        uint64_t p;

        if (m[i].addr == NULL)
            continue;
        if (!page_of(gt, m[i].addr, &p)) {
            m[i].status = -XF_EINVAL;
            failed++;
            continue;
        }
        memset(&ops[k], 0, sizeof(ops[k]));
        ops[k].host_addr = host_addr(gt, p);
        ops[k].dev_bus_addr = 0;
        ops[k].handle = m[i].handle;
        ops[k].status = GNTST_general_error;
        page[k] = p;
        idx[k++] = i;
    }
    if (k == 0)
        return failed;
    rc = xf_plat_grant_table_op(GNTTABOP_unmap_grant_ref, ops, k);
    for (uint32_t j = 0; j < k; j++) {
        struct xf_gnttab_map *e = &m[idx[j]];

        e->status = rc != 0 ? (rc < 0 ? (int)rc : -XF_EIO)
                            : xf_gnttab_status_errno(ops[j].status);
        if (e->status != 0) {
            failed++;
            continue;
        }
        /* Xen no longer maps anything there: the slot is free again. */
        irq = xf_plat_irq_save();
        xf_gnttab__ra_free(&gt->ra, page[j], 1);
        xf_plat_irq_restore(irq);
        e->addr = NULL;
    }
    return failed;
}

int xf_gnttab_unmap_grants(struct xf_gnttab *gt, struct xf_gnttab_map *m, uint32_t n)
{
    int failed = 0;

    if (gt == NULL || m == NULL)
        return -XF_EINVAL;
    for (uint32_t i = 0; i < n; i += CHUNK)
        failed += unmap_chunk(gt, m + i, n - i < CHUNK ? n - i : CHUNK);
    return failed;
}
