/*
 * xenfront/gnttab.h: Xen grant tables (libxfgnttab.a), v1 entries.
 *
 * A context (struct xf_gnttab) owns the domain's grant table as the guest
 * sees it: the table's frames mapped into pages from the platform, the free
 * list of grant references, the list of grants whose end was deferred, and
 * the foreign-mapping range the embedder reserved (xf_plat_foreign_range).
 * Through it a kernel
 *
 *  - grants its pages to other domains (a ring page, a block request's
 *    data pages) and ends that access safely: never while the other side
 *    still holds the grant, and a page whose end had to be deferred is
 *    handed back to its owner only once the other side let go (XSA-396);
 *  - maps grants of other domains into the reserved range (a back end, or
 *    a front end mapping a back end's page) and unmaps them;
 *  - copies to and from other domains' granted pages (GNTTABOP_copy).
 *
 * Typical front-end use:
 *
 *     struct xf_gnttab *gt;
 *     grant_ref_t ref;
 *     xf_gnttab_create(&gt, NULL);                 // maps the table
 *     xf_gnttab_grant_page(gt, backend_id, ring, false, &ref);
 *     ... publish ref in xenstore; the back end maps it ...
 *     // teardown: the back end may still hold it; never free ring early
 *     xf_gnttab_end_access_deferred(gt, ref, ring, free_page_cb, NULL);
 *     ... later, from a timer or the idle loop:
 *     xf_gnttab_reclaim(gt);                        // calls free_page_cb
 *     xf_gnttab_destroy(gt);                        // -XF_EBUSY while grants live
 *
 * A block front end reserves a request's references in one call
 * (xf_gnttab_alloc_refs), grants each segment (xf_gnttab_grant_ref), ends
 * them on completion (xf_gnttab_end_ref) and keeps or frees the references.
 *
 * Grant references: refs 0 to GNTTAB_NR_RESERVED_ENTRIES - 1 (0-7) belong
 * to the toolstack (console and xenstore pages) and are never handed out.
 * References come from a FIFO free list, O(1) per reference; the table
 * grows by whole frames on demand up to Xen's maximum (GNTTABOP_query_size).
 * A reference is in one of these states, and each function says which it
 * accepts:
 *   free      in the library's free list;
 *   reserved  the caller's, not granted (from xf_gnttab_alloc_refs, or after
 *             xf_gnttab_end_ref);
 *   granted   the entry is live: the other domain may map or copy it;
 *   deferred  granted, handed to the deferred list: the library's until the
 *             other side let go.
 *
 * Errors are negative values from <xenfront/errno.h>. Xen's per-operation
 * GNTST_* statuses become negative errno values (xf_gnttab_status_errno).
 *
 * Concurrency (the one rule of every xenfront library). A context is used
 * from one vCPU at a time, but its event handler may interrupt the main
 * flow there, in the middle of a call on the same context: a driver grants
 * in the main flow and ends grants in the handler. The library brackets
 * its free list, deferred list, reference states, counters and foreign
 * range with xf_plat_irq_save()/xf_plat_irq_restore() (<xenfront/platform.h>),
 * so the embedder never masks upcalls around a call. Release functions are
 * called outside that section. Calls from two vCPUs at once on one context
 * still need the embedder's lock. Shared grant entries are only touched
 * with atomics, since the other domain and Xen change them concurrently.
 *
 * From an event handler (nothing there allocates memory): every function
 * except xf_gnttab_create(), xf_gnttab_destroy() and xf_gnttab_grow(), and
 * except xf_gnttab_grant_access(), xf_gnttab_grant_page() and
 * xf_gnttab_alloc_refs() when they would have to grow the table (they do
 * only if fewer free references remain than asked for: reserve references
 * beforehand, or call xf_gnttab_grow() at setup).
 * Each declaration below repeats its rule on a "Context:" line; "any"
 * includes an event handler.
 */
#ifndef XENFRONT_GNTTAB_H
#define XENFRONT_GNTTAB_H

#include <xenfront/base.h>
#include <xenfront/xen.h>

#ifdef __cplusplus
extern "C" {
#endif

struct xf_gnttab;

/* v1 entries per 4 KiB grant-table frame. */
#define XF_GNTTAB_REFS_PER_FRAME (XF_PAGE_SIZE / sizeof(grant_entry_v1_t))

/* Bound of the deferred-reclaim list when the configuration says 0. */
#define XF_GNTTAB_DEFAULT_DEFERRED_MAX 256u

/* ------------------------------------------------------------------------
 * Context.
 */

struct xf_gnttab_config {
    /*
     * Grant-table frames to map at creation (at least 1, and at least what
     * Xen already has). 0: 1. Growth beyond it happens on demand.
     */
    uint32_t initial_frames;
    /*
     * Upper bound on frames, below Xen's maximum (max_nr_frames of
     * GNTTABOP_query_size). 0: Xen's maximum.
     */
    uint32_t max_frames;
    /* Bound of the deferred-reclaim list. 0: XF_GNTTAB_DEFAULT_DEFERRED_MAX. */
    uint32_t deferred_max;
    /*
     * Do not use the platform's foreign range (xf_plat_foreign_range):
     * mapping foreign grants then fails with -XF_ENOSYS. A platform that
     * has no range answers -XF_ENOSYS anyway and gets the same.
     */
    bool no_foreign_range;
};

/*
 * Create a context: query the table's size, select the v1 layout, map
 * initial_frames frames of the table (XENMEM_add_to_physmap of
 * XENMAPSPACE_grant_table into pages from xf_plat_page_alloc, which Xen
 * then backs with the table instead of RAM), and take the foreign range
 * with its allocator's bitmap (also from xf_plat_page_alloc: about 0.17
 * bytes per page of the range). cfg may be NULL (all defaults). Refs 8 and
 * up whose entry is already live (granted by someone before this context)
 * are left alone and never handed out. On success *out is the caller's
 * until xf_gnttab_destroy().
 * Context: not from an event handler.
 * Returns: 0, or -XF_EINVAL (out NULL, max_frames below initial_frames,
 * initial_frames above the maximum, deferred_max above 2^20, or a foreign
 * range from the platform that is NULL, not page-aligned or too large),
 * -XF_ENOMEM, -XF_EOPNOTSUPP (the table is not in the v1 layout and cannot
 * be made so), -XF_EFAULT (the platform cannot translate a page it gave),
 * -XF_EIO (GNTTABOP_query_size gave a maximum of 0, or below the current
 * size), xf_plat_foreign_range()'s error (other than -XF_ENOSYS, which
 * means no range), or Xen's error for GNTTABOP_query_size (its GNTST_*
 * status as xf_gnttab_status_errno() gives) or XENMEM_add_to_physmap
 * (-XF_EINVAL: more frames asked for than Xen allows).
 */
int xf_gnttab_create(struct xf_gnttab **out, const struct xf_gnttab_config *cfg) XF_MUST_CHECK;

/*
 * Destroy a context. Refused with -XF_EBUSY, changing nothing, while any
 * reference is granted or deferred or any foreign grant is mapped: end and
 * unmap them first (xf_gnttab_reclaim() for deferred ones). References the
 * caller still holds reserved become invalid. The table's frames are taken
 * out of the physmap and their pages given back to the allocator only once
 * Xen has put RAM back behind them (XENMEM_populate_physmap); otherwise the
 * pages are kept (logged): a lost page is better than one that is a hole
 * or a grant-table frame. Entries in Xen's table stay as they are (refs 0-7
 * are still the toolstack's).
 * Context: not from an event handler.
 * Returns: 0 (also for NULL), or -XF_EBUSY (as above; nothing changed).
 */
int xf_gnttab_destroy(struct xf_gnttab *gt);

/*
 * Map more frames of the table until at least min_free references are
 * free, or the maximum is reached.
 * Context: not from an event handler (allocates pages).
 * Returns: 0 when min_free references are free, -XF_EINVAL (gt NULL),
 * -XF_ENOSPC if the maximum does not allow it (the frames that could be
 * mapped stay mapped), -XF_ENOMEM, -XF_EFAULT (the platform cannot
 * translate a page it gave), or Xen's error.
 */
int xf_gnttab_grow(struct xf_gnttab *gt, uint32_t min_free);

/* ------------------------------------------------------------------------
 * Granting one's pages.
 */

/*
 * Grant the frame gfn to domid, read-only or writable, on a new reference.
 * The entry's frame and domid are written before its flags (with a write
 * barrier), so the other side never sees a live entry naming a stale frame.
 * On success *ref is granted. Grows the table if no reference is free.
 * Context: any, but from an event handler only while a reference is free
 * (growing allocates pages; see xf_gnttab_grow()).
 * Returns: 0, or -XF_EINVAL (gt or ref NULL; domid not a real domain, i.e.
 * at or above DOMID_FIRST_RESERVED), -XF_ERANGE (gfn does not fit a v1
 * entry's 32 bits), -XF_ENOSPC (every reference is in use and the table is
 * at its maximum), -XF_ENOMEM, -XF_EFAULT or Xen's error from growing.
 */
int xf_gnttab_grant_access(struct xf_gnttab *gt, domid_t domid, xen_pfn_t gfn,
                           bool readonly, grant_ref_t *ref) XF_MUST_CHECK;

/*
 * As xf_gnttab_grant_access() for the 4 KiB page holding va, which must be
 * memory from xf_plat_page_alloc().
 * Context: as xf_gnttab_grant_access().
 * Returns: as xf_gnttab_grant_access(), and -XF_EINVAL (va NULL),
 * -XF_EFAULT (the platform cannot translate va).
 */
int xf_gnttab_grant_page(struct xf_gnttab *gt, domid_t domid, const void *va,
                         bool readonly, grant_ref_t *ref) XF_MUST_CHECK;

/*
 * End access to a granted reference and free it. Atomic against the other
 * side pinning the entry: if Xen has it marked in use (GTF_reading or
 * GTF_writing: mapped, or a copy in flight) the entry is left as it is and
 * -XF_EBUSY returned; the page must then not be reused (retry later, or
 * hand it to xf_gnttab_end_access_deferred()). Otherwise the entry is
 * revoked (no new map or copy can start) and the reference freed; the page
 * is the caller's again.
 * Context: any.
 * Returns: 0, or -XF_EINVAL (gt NULL, or not a granted reference; a
 * deferred one is the library's), -XF_EBUSY.
 */
int xf_gnttab_end_access(struct xf_gnttab *gt, grant_ref_t ref);

/*
 * Called once a deferred grant has ended: page and arg are what was given
 * to xf_gnttab_end_access_deferred(); the page may be reused or freed now.
 * Context: that of the call that ended the grant (possibly
 * xf_gnttab_reclaim() in an event handler), outside the library's critical
 * section. It may call this library on gt, except xf_gnttab_reclaim() and
 * xf_gnttab_destroy().
 */
typedef void xf_gnttab_release_fn(struct xf_gnttab *gt, void *page, void *arg);

/*
 * End access to a granted reference now if the other side does not hold
 * it, or else later: the reference goes on the bounded deferred list and
 * xf_gnttab_reclaim() retries it. Either way release(gt, page, arg) is
 * called exactly once, when the page is no longer accessible to the other
 * side; the reference is then freed. release may be NULL (nothing to hand
 * back; the reference is still reclaimed). page is opaque to the library.
 * When the list is full it is first retried once (as xf_gnttab_reclaim(),
 * so other grants' release functions may run here).
 * Context: any (the list is a fixed array: nothing allocates).
 * Returns: 0 (ended now; release has already run), 1 (deferred), or, with
 * nothing changed and release not called, -XF_EINVAL (gt NULL, or not a
 * granted reference) or -XF_ENOSPC (the deferred list is full of grants still
 * held: the grant stays live and the page the caller's, who must not
 * reuse it; try again later, or give the page up for good).
 */
int xf_gnttab_end_access_deferred(struct xf_gnttab *gt, grant_ref_t ref, void *page,
                                  xf_gnttab_release_fn *release, void *arg);

/*
 * Retry every deferred grant once; for each the other side has let go,
 * end it, free the reference and call its release function. O(deferred
 * list length).
 * Context: any (release functions then run in the same context).
 * Returns: the number still deferred (gt NULL: 0).
 */
uint32_t xf_gnttab_reclaim(struct xf_gnttab *gt);

/* Number of grants on the deferred list (at most the configured bound).
 * Context: any. Returns: it, or 0 for a NULL gt. */
uint32_t xf_gnttab_deferred_count(const struct xf_gnttab *gt);

/* ------------------------------------------------------------------------
 * Reserving references (a driver's private supply).
 */

/*
 * Take n free references at once, all or none; each is then reserved, the
 * caller's to grant with xf_gnttab_grant_ref(). Grows the table if fewer
 * than n are free.
 * Context: any, but from an event handler only while n references are
 * free (growing allocates pages; see xf_gnttab_grow()).
 * Returns: 0, or -XF_EINVAL (gt or refs NULL, n 0), -XF_ENOSPC (not
 * enough references even at the maximum; none taken), -XF_ENOMEM,
 * -XF_EFAULT or Xen's error from growing.
 */
int xf_gnttab_alloc_refs(struct xf_gnttab *gt, grant_ref_t *refs, uint32_t n) XF_MUST_CHECK;

/*
 * Give n reserved references back to the free list. All or none: if one
 * is not reserved, nothing is freed.
 * Context: any.
 * Returns: 0 (n 0: nothing to do), or -XF_EBUSY (one is granted or
 * deferred: end it first) or -XF_EINVAL (one is free, or not a reference
 * of this table; also gt or refs NULL).
 */
int xf_gnttab_free_refs(struct xf_gnttab *gt, const grant_ref_t *refs, uint32_t n);

/*
 * Grant gfn to domid on a reserved reference (which becomes granted).
 * As xf_gnttab_grant_access() otherwise. Never allocates.
 * Context: any.
 * Returns: 0, or -XF_EINVAL (gt NULL, ref not reserved, domid not a real
 * domain), -XF_ERANGE (gfn does not fit a v1 entry's 32 bits).
 */
int xf_gnttab_grant_ref(struct xf_gnttab *gt, grant_ref_t ref, domid_t domid,
                        xen_pfn_t gfn, bool readonly);

/*
 * End access as xf_gnttab_end_access(), but keep the reference: it becomes
 * reserved again, the caller's to grant anew or free.
 * Context: any.
 * Returns: 0, -XF_EBUSY while the other side holds it, -XF_EINVAL (gt
 * NULL, or it is not granted).
 */
int xf_gnttab_end_ref(struct xf_gnttab *gt, grant_ref_t ref);

/* ------------------------------------------------------------------------
 * Mapping other domains' grants (GNTTABOP_map_grant_ref) into the foreign
 * range. On PVH the range is guest-physical frames that are not RAM, so an
 * unmapped frame is an empty slot of the range, never a hole in the heap;
 * its pages never go to the page allocator. A bitmap allocator with a
 * summary tree finds contiguous runs in O(log n).
 */

struct xf_gnttab_map {
    /* In. */
    domid_t domid;          /* the granting domain */
    grant_ref_t ref;        /* its grant reference */
    bool readonly;          /* map read-only (GNTMAP_readonly) */
    /* Out (xf_gnttab_map_grants), in (xf_gnttab_unmap_grants). */
    void *addr;             /* where the page is mapped; NULL if not */
    grant_handle_t handle;  /* Xen's handle for the mapping */
    /* Out: 0, or a negative errno for this entry alone. */
    int status;
};

/*
 * Map n grants (n >= 1) into one contiguous run of n pages of the foreign
 * range: entry i, if it succeeds, is at run + i * 4 KiB (so a multi-page
 * ring is contiguous when all succeed). Each entry gets its own status;
 * the pages of failed entries go back to the range at once.
 * Context: any (the run comes from the range's bitmap: nothing allocates).
 * Returns: 0 if all succeeded, else the number of failed entries (> 0);
 * or, when nothing was attempted, a negative error that is also every
 * entry's status (except for gt or m NULL): -XF_EINVAL (gt or m NULL,
 * n 0), -XF_ENOSYS (no foreign range), -XF_ENOSPC (no free run of n pages).
 * Per-entry statuses: -XF_EINVAL (domid not a real domain), Xen's
 * GNTST_* as xf_gnttab_status_errno() gives (-XF_EAGAIN: paged out, retry),
 * or Xen's error for the hypercall itself (every entry it carried).
 */
int xf_gnttab_map_grants(struct xf_gnttab *gt, struct xf_gnttab_map *m, uint32_t n);

/*
 * Unmap every entry whose addr is not NULL (GNTTABOP_unmap_grant_ref with
 * its handle); on success its page goes back to the range, addr becomes
 * NULL and status 0. Entries with addr NULL are skipped and untouched.
 * Context: any.
 * Returns: 0 or the number of entries that failed, each with its status
 * and its addr kept (still mapped): -XF_EINVAL (addr not a mapped page of
 * the range), Xen's GNTST_* as an errno (-XF_EBADF: bad handle; -XF_EIO:
 * handle and address do not match), or Xen's error for the hypercall
 * itself (every entry it carried). -XF_EINVAL alone for gt or m NULL.
 */
int xf_gnttab_unmap_grants(struct xf_gnttab *gt, struct xf_gnttab_map *m, uint32_t n);

/* ------------------------------------------------------------------------
 * Grant copy (GNTTABOP_copy): Xen copies between a local buffer and
 * another domain's granted page, without mapping it.
 */

enum xf_gnttab_copy_dir {
    XF_GNTTAB_COPY_FROM_GRANT = 0,  /* their granted page -> local buffer */
    XF_GNTTAB_COPY_TO_GRANT = 1,    /* local buffer -> their granted page */
};

struct xf_gnttab_copy {
    /* In. */
    enum xf_gnttab_copy_dir dir;
    domid_t domid;          /* the granting domain */
    grant_ref_t ref;        /* its grant reference */
    uint16_t offset;        /* offset in the granted page */
    uint16_t len;           /* bytes; offset + len <= 4096 */
    void *local;            /* in memory from xf_plat_page_alloc(); local
                               to local + len may not cross a 4 KiB page */
    /* Out: 0, or a negative errno for this segment alone. */
    int status;
};

/*
 * Perform n copy segments (n >= 1), batched into as few hypercalls as
 * possible. A copy pins the grant only while Xen copies; the granter's end
 * of access may see -XF_EBUSY meanwhile.
 * Context: any.
 * Returns: 0 if all succeeded, else the number of failed segments (> 0),
 * each with its status: -XF_EINVAL (bad domid, direction, offset or
 * length, local NULL, a local buffer crossing a page), -XF_EFAULT (local
 * buffer the platform cannot translate), Xen's GNTST_* as an errno
 * (-XF_EIO: the grant is not live, not for us, or read-only for a copy
 * into it; -XF_EINVAL: bad reference; -XF_ESRCH: no such domain), or Xen's
 * error for the hypercall itself (every segment it carried). -XF_EINVAL
 * alone for gt or segs NULL, or n 0.
 */
int xf_gnttab_copy(struct xf_gnttab *gt, struct xf_gnttab_copy *segs, uint32_t n);

/* ------------------------------------------------------------------------
 * Status and helpers.
 */

/*
 * A GNTST_* status as a negative errno: okay 0, general_error -XF_EIO,
 * bad_domain -XF_ESRCH, bad_gntref -XF_EINVAL, bad_handle -XF_EBADF,
 * bad_virt_addr and bad_dev_addr -XF_EFAULT, no_device_space -XF_ENOMEM,
 * permission_denied -XF_EPERM, bad_page -XF_EFAULT, bad_copy_arg
 * -XF_EINVAL, address_too_big -XF_ERANGE, eagain -XF_EAGAIN, no_space
 * -XF_ENOSPC; anything else -XF_EIO.
 * Context: any.
 */
int xf_gnttab_status_errno(int16_t gntst);

struct xf_gnttab_stats {
    uint32_t nr_frames;       /* table frames mapped */
    uint32_t max_frames;      /* the most it may grow to */
    uint32_t free_refs;       /* references in the free list */
    uint32_t reserved_refs;   /* held by callers, not granted */
    uint32_t granted_refs;    /* live grants, deferred ones included */
    uint32_t deferred;        /* on the deferred list */
    uint32_t deferred_max;    /* its bound */
    uint64_t deferred_done;   /* deferred grants reclaimed so far */
    uint64_t foreign_pages;   /* size of the foreign range (0: none) */
    uint64_t foreign_used;    /* pages of it mapped */
};

/* Fill *st (zeros for a NULL gt; a NULL st is ignored).
 * Context: any (reads the context only). */
void xf_gnttab_get_stats(const struct xf_gnttab *gt, struct xf_gnttab_stats *st);

#ifdef __cplusplus
}
#endif

#endif /* XENFRONT_GNTTAB_H */
