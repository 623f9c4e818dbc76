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

static void finish(struct xf_gnttab *gt, struct deferred *d)
{
    xf_gnttab_release_fn *release = d->release;
    void *page = d->page, *arg = d->arg;

    gt->granted_count--;
    xf_gnttab__free_push(gt, d->ref);
    gt->deferred_done++;
    if (release != NULL)
        release(gt, page, arg);
}

int xf_gnttab_end_access_deferred(struct xf_gnttab *gt, grant_ref_t ref, void *page,
                                  xf_gnttab_release_fn *release, void *arg)
{
    struct deferred *d;
    uint32_t slot;
    int rc;

    if (gt == NULL || !ref_valid(gt, ref) || ref_state(gt, ref) != ST_GRANTED)
        return -XF_EINVAL;
    rc = xf_gnttab__revoke(gt, ref);
    if (rc == 0) {
        gt->granted_count--;
        xf_gnttab__free_push(gt, ref);
        if (release != NULL)
            release(gt, page, arg);
        return 0;
    }
    /* Full: retry the list once before refusing, so that only grants the
     * other side really still holds count against the bound. */
    if (gt->dfree == REF_NONE)
        (void)xf_gnttab_reclaim(gt);
    if (gt->dfree == REF_NONE) {
        xf_log(XF_LOG_WARN, "gnttab: deferred list full (%u): ref %u stays granted",
               gt->dmax, ref);
        return -XF_ENOSPC;
    }
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

uint32_t xf_gnttab_reclaim(struct xf_gnttab *gt)
{
    uint32_t prev = REF_NONE, cur;

    if (gt == NULL)
        return 0;
    if (gt->reclaiming)
        return gt->dcount; /* from a release function: the outer pass goes on */
    gt->reclaiming = true;
    cur = gt->dhead;
    while (cur != REF_NONE) {
        struct deferred *d = &gt->slots[cur];
        uint32_t next = d->next;

        if (xf_gnttab__revoke(gt, d->ref) != 0) {
            if (++d->tries % WARN_EVERY == 0)
                xf_log(XF_LOG_WARN, "gnttab: ref %u still in use by dom%u after %u retries",
                       d->ref, (unsigned)XF_READ_ONCE(ref_entry(gt, d->ref)->domid), d->tries);
            prev = cur;
            cur = next;
            continue;
        }
        /* Unlink first: the release function may defer another grant. */
        if (prev == REF_NONE)
            gt->dhead = next;
        else
            gt->slots[prev].next = next;
        if (gt->dtail == cur)
            gt->dtail = prev;
        gt->dcount--;
        finish(gt, d);
        d->next = gt->dfree;
        gt->dfree = cur;
        cur = next;
    }
    gt->reclaiming = false;
    return gt->dcount;
}

uint32_t xf_gnttab_deferred_count(const struct xf_gnttab *gt)
{
    return gt == NULL ? 0 : gt->dcount;
}
