/*
 * Granting one's pages and ending that access.
 *
 * The order of writes is the protocol: a grant publishes frame and domid
 * before the flags that make the entry live (the other side may map it the
 * instant the flags say so), and ending it is a compare-and-swap of the
 * flags against Xen pinning the entry at the same moment (Xen sets
 * GTF_reading/GTF_writing with its own compare-and-swap on the same word).
 * Whoever wins, the outcome is consistent: either Xen holds a pin and we
 * report -XF_EBUSY, or the entry is dead and no new pin can start.
 */
#include "private.h"

static int check_grant_args(domid_t domid, xen_pfn_t gfn)
{
    if (domid >= DOMID_FIRST_RESERVED)
        return -XF_EINVAL;
    if (gfn > UINT32_MAX)
        return -XF_ERANGE; /* a v1 entry's frame is 32 bits */
    return 0;
}

static void publish(struct xf_gnttab *gt, uint32_t ref, domid_t domid, xen_pfn_t gfn,
                    bool readonly)
{
    grant_entry_v1_t *e = ref_entry(gt, ref);
    uint16_t flags = (uint16_t)(GTF_permit_access | (readonly ? GTF_readonly : 0));

    XF_WRITE_ONCE(e->frame, (uint32_t)gfn);
    XF_WRITE_ONCE(e->domid, domid);
    XF_WMB(); /* frame and domid visible before the entry is live */
    __atomic_store_n(&e->flags, flags, __ATOMIC_RELEASE);
    ref_set_state(gt, ref, ST_GRANTED);
    gt->reserved_count--;
    gt->granted_count++;
}

int xf_gnttab_grant_ref(struct xf_gnttab *gt, grant_ref_t ref, domid_t domid,
                        xen_pfn_t gfn, bool readonly)
{
    xf_irqflags_t irq;
    int rc;

    if (gt == NULL || !ref_valid(gt, ref))
        return -XF_EINVAL;
    rc = check_grant_args(domid, gfn);
    if (rc != 0)
        return rc;
    irq = xf_plat_irq_save();
    if (ref_state(gt, ref) != ST_RESERVED)
        rc = -XF_EINVAL;
    else
        publish(gt, ref, domid, gfn, readonly);
    xf_plat_irq_restore(irq);
    return rc;
}

int xf_gnttab_grant_access(struct xf_gnttab *gt, domid_t domid, xen_pfn_t gfn,
                           bool readonly, grant_ref_t *ref)
{
    xf_irqflags_t irq;
    uint32_t r;
    int rc;

    if (gt == NULL || ref == NULL)
        return -XF_EINVAL;
    rc = check_grant_args(domid, gfn);
    if (rc != 0)
        return rc;
    /* The free list is shared with this vCPU's event handler, which may
     * grant or end access too: pop and publish with upcalls off. */
    irq = xf_plat_irq_save();
    rc = xf_gnttab__ensure_free(gt, 1);
    if (rc == 0) {
        r = xf_gnttab__free_pop(gt);
        publish(gt, r, domid, gfn, readonly);
        *ref = r;
    }
    xf_plat_irq_restore(irq);
    return rc;
}

int xf_gnttab_grant_page(struct xf_gnttab *gt, domid_t domid, const void *va, bool readonly,
                         grant_ref_t *ref)
{
    xen_pfn_t gfn;

    if (gt == NULL || va == NULL || ref == NULL)
        return -XF_EINVAL;
    gfn = xf_plat_virt_to_gfn(va);
    if (gfn == ~(xen_pfn_t)0)
        return -XF_EFAULT;
    return xf_gnttab_grant_access(gt, domid, gfn, readonly, ref);
}

/*
 * Revoke a live entry unless Xen has it pinned for the other side: read the
 * flags, refuse if GTF_reading or GTF_writing, else swap them to 0 only if
 * they did not change meanwhile; on a change, look again. Xen only ever
 * sets pin bits on a live entry, so the loop ends as soon as it stops
 * racing with a map or copy starting.
 */
int xf_gnttab__revoke(struct xf_gnttab *gt, uint32_t ref)
{
    grant_entry_v1_t *e = ref_entry(gt, ref);
    uint16_t flags = __atomic_load_n(&e->flags, __ATOMIC_ACQUIRE);

    do {
        if (flags & (GTF_reading | GTF_writing))
            return -XF_EBUSY;
    } while (!__atomic_compare_exchange_n(&e->flags, &flags, (uint16_t)0, false,
                                          __ATOMIC_SEQ_CST, __ATOMIC_ACQUIRE));
    return 0;
}

/* End a granted ref, keeping it reserved; upcalls are off. */
static int end_ref_locked(struct xf_gnttab *gt, grant_ref_t ref)
{
    int rc;

    if (ref_state(gt, ref) != ST_GRANTED)
        return -XF_EINVAL;
    rc = xf_gnttab__revoke(gt, ref);
    if (rc != 0)
        return rc;
    ref_set_state(gt, ref, ST_RESERVED);
    gt->granted_count--;
    gt->reserved_count++;
    return 0;
}

int xf_gnttab_end_ref(struct xf_gnttab *gt, grant_ref_t ref)
{
    xf_irqflags_t irq;
    int rc;

    if (gt == NULL || !ref_valid(gt, ref))
        return -XF_EINVAL;
    irq = xf_plat_irq_save();
    rc = end_ref_locked(gt, ref);
    xf_plat_irq_restore(irq);
    return rc;
}

int xf_gnttab_end_access(struct xf_gnttab *gt, grant_ref_t ref)
{
    xf_irqflags_t irq;
    int rc;

    if (gt == NULL || !ref_valid(gt, ref))
        return -XF_EINVAL;
    irq = xf_plat_irq_save();
    rc = end_ref_locked(gt, ref);
    if (rc == 0) {
        gt->reserved_count--;
        xf_gnttab__free_push(gt, ref);
    }
    xf_plat_irq_restore(irq);
    return rc;
}

int xf_gnttab_alloc_refs(struct xf_gnttab *gt, grant_ref_t *refs, uint32_t n)
{
    xf_irqflags_t irq;
    int rc;

    if (gt == NULL || refs == NULL || n == 0)
        return -XF_EINVAL;
    irq = xf_plat_irq_save();
    rc = xf_gnttab__ensure_free(gt, n);
    if (rc == 0)
        for (uint32_t i = 0; i < n; i++)
            refs[i] = xf_gnttab__free_pop(gt);
    xf_plat_irq_restore(irq);
    return rc;
}

static int free_refs_locked(struct xf_gnttab *gt, const grant_ref_t *refs, uint32_t n)
{
    /* Check all first (all or none), marking each checked one so that the
     * same reference twice in the list is caught, not freed twice. */
    for (uint32_t i = 0; i < n; i++) {
        uint8_t st = ref_valid(gt, refs[i]) ? ref_state(gt, refs[i]) : ST_EXTERNAL;

        if (st != ST_RESERVED) {
            for (uint32_t j = 0; j < i; j++)
                ref_set_state(gt, refs[j], ST_RESERVED);
            return st == ST_GRANTED || st == ST_DEFERRED ? -XF_EBUSY : -XF_EINVAL;
        }
        ref_set_state(gt, refs[i], ST_FREE);
    }
    for (uint32_t i = 0; i < n; i++) {
        gt->reserved_count--;
        xf_gnttab__free_push(gt, refs[i]);
    }
    return 0;
}

int xf_gnttab_free_refs(struct xf_gnttab *gt, const grant_ref_t *refs, uint32_t n)
{
    xf_irqflags_t irq;
    int rc;

    if (gt == NULL || refs == NULL)
        return -XF_EINVAL;
    irq = xf_plat_irq_save();
    rc = free_refs_locked(gt, refs, n);
    xf_plat_irq_restore(irq);
    return rc;
}
