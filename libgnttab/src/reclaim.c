/*
 * Deferred reclaim: grants the other side still held when the caller ended
 * them. The page stays the library's (the caller gave it up) until the pin
 * is gone and the entry revoked; only then does the owner get it back
 * through its release function (XSA-396: a page reused while a back end
 * still maps it leaks data or lets the back end write into it).
 *
 * The list is bounded by a fixed array allocated at creation, so a back end
 * that never lets go can pin at most deferred_max pages, and adding to the
 * list never allocates (callable from an event handler).
 */
#include "private.h"

/* Log again every this many fruitless retries of one grant. */
#define WARN_EVERY 1024u

/* A finished grant's page, on its way back to its owner. */
struct released {
    xf_gnttab_release_fn *release;
    void *page, *arg;
};

/* Release functions run outside the critical section (they are the
 * embedder's code, and may call the library); this many are collected per
 * pass with upcalls off, then called with upcalls on. */
#define RELEASE_BATCH 16u

static void call_releases(struct xf_gnttab *gt, const struct released *r, uint32_t n)
{
    for (uint32_t i = 0; i < n; i++)
        if (r[i].release != NULL)
            r[i].release(gt, r[i].page, r[i].arg);
}

/* Queue a granted ref the other side still holds; upcalls are off.
 * Returns 1, or -XF_ENOSPC when the list is full. */
static int defer_locked(struct xf_gnttab *gt, grant_ref_t ref, void *page,
                        xf_gnttab_release_fn *release, void *arg)
{
    struct deferred *d;
    uint32_t slot;

    if (gt->dfree == REF_NONE)
        return -XF_ENOSPC;
    slot = gt->dfree;
    d = &gt->slots[slot];
    gt->dfree = d->next;
    d->ref = ref;
    d->next = REF_NONE;
    d->tries = 0;
    d->page = page;
    d->release = release;
    d->arg = arg;
    if (gt->dtail == REF_NONE)
        gt->dhead = slot;
    else
        gt->slots[gt->dtail].next = slot;
    gt->dtail = slot;
    gt->dcount++;
    ref_set_state(gt, ref, ST_DEFERRED);
    return 1;
}

int xf_gnttab_end_access_deferred(struct xf_gnttab *gt, grant_ref_t ref, void *page,
                                  xf_gnttab_release_fn *release, void *arg)
{
    xf_irqflags_t irq;
    int rc;

    if (gt == NULL || !ref_valid(gt, ref))
        return -XF_EINVAL;
    for (int attempt = 0;; attempt++) {
        irq = xf_plat_irq_save();
        if (ref_state(gt, ref) != ST_GRANTED) {
            xf_plat_irq_restore(irq);
            return -XF_EINVAL;
        }
        if (xf_gnttab__revoke(gt, ref) == 0) {
            gt->granted_count--;
            xf_gnttab__free_push(gt, ref);
            xf_plat_irq_restore(irq);
            if (release != NULL)
                release(gt, page, arg);
            return 0;
        }
        rc = defer_locked(gt, ref, page, release, arg);
        xf_plat_irq_restore(irq);
        if (rc != -XF_ENOSPC || attempt > 0)
            break;
        /* Full: retry the list once before refusing, so that only grants
         * the other side really still holds count against the bound. */
        (void)xf_gnttab_reclaim(gt);
    }
    if (rc == -XF_ENOSPC)
        xf_log(XF_LOG_WARN, "gnttab: deferred list full (%u): ref %u stays granted",
               gt->dmax, ref);
    return rc;
}

/* One pass with upcalls off: revoke what the other side let go, unlink it,
 * give its ref back and collect its release, at most RELEASE_BATCH of them.
 * Sets *more when it stopped early. */
static uint32_t reclaim_pass(struct xf_gnttab *gt, struct released *out, bool *more)
{
    uint32_t prev = REF_NONE, cur = gt->dhead, n = 0;

    *more = false;
    while (cur != REF_NONE) {
        struct deferred *d = &gt->slots[cur];
        uint32_t next = d->next;

        if (n == RELEASE_BATCH) {
            *more = true;
            break;
        }
        if (xf_gnttab__revoke(gt, d->ref) != 0) {
            if (++d->tries % WARN_EVERY == 0)
                xf_log(XF_LOG_WARN, "gnttab: ref %u still in use by dom%u after %u retries",
                       d->ref, (unsigned)XF_READ_ONCE(ref_entry(gt, d->ref)->domid), d->tries);
            prev = cur;
            cur = next;
            continue;
        }
        if (prev == REF_NONE)
            gt->dhead = next;
        else
            gt->slots[prev].next = next;
        if (gt->dtail == cur)
            gt->dtail = prev;
        gt->dcount--;
        gt->granted_count--;
        xf_gnttab__free_push(gt, d->ref);
        gt->deferred_done++;
        out[n].release = d->release;
        out[n].page = d->page;
        out[n].arg = d->arg;
        n++;
        d->next = gt->dfree;
        gt->dfree = cur;
        cur = next;
    }
    return n;
}

uint32_t xf_gnttab_reclaim(struct xf_gnttab *gt)
{
    struct released done[RELEASE_BATCH];
    xf_irqflags_t irq;
    uint32_t n, left;
    bool more;

    if (gt == NULL)
        return 0;
    do {
        irq = xf_plat_irq_save();
        n = reclaim_pass(gt, done, &more);
        left = gt->dcount;
        xf_plat_irq_restore(irq);
        call_releases(gt, done, n);
    } while (more);
    return left;
}

uint32_t xf_gnttab_deferred_count(const struct xf_gnttab *gt)
{
    return gt == NULL ? 0 : gt->dcount;
}
