/*
 * Rings and event channels of a front-end device: granted pages, set up
 * and torn down safely.
 */
#include "private.h"

/*
 * A ring whose teardown had to wait for the back end: its pages go back to
 * the allocator once every page's grant has been ended. Kept in a page of
 * its own, since the caller's struct xf_frontdev_ring may be gone by then.
 */
struct deferred_ring {
    void *va;
    unsigned int npages;
    unsigned int pending;          /* pages whose grant is not yet ended */
};

static void page_released(struct xf_gnttab *gt, void *page, void *arg)
{
    struct deferred_ring *d = arg;

    (void)gt;
    (void)page;
    /* Release functions run with upcalls on, possibly from the handler's
     * reclaim and the main flow's at once: count down inside the section. */
    xf_irqflags_t irq = xf_plat_irq_save();
    bool last = --d->pending == 0;
    xf_plat_irq_restore(irq);
    if (last) {
        xf_plat_page_free(d->va, d->npages);
        xf_plat_page_free(d, 1);
    }
}

int xf_frontdev_ring_setup(struct xf_frontdev *fd, struct xf_frontdev_ring *ring,
                           unsigned int order)
{
    unsigned int pages, i;
    unsigned char *va;
    int rc = 0;

    if (fd == NULL || !fd->open || ring == NULL)
        return -XF_EINVAL;
    memset(ring, 0, sizeof(*ring));
    if (order > XF_FRONTDEV_MAX_ORDER)
        return -XF_EINVAL;
    pages = 1u << order;
    va = xf_plat_page_alloc(pages);
    if (va == NULL)
        return -XF_ENOMEM;
    /* The seam's pages are zeroed; say so again for a seam that forgot:
     * the back end must see nothing but an empty ring (XSA-403). */
    memset(va, 0, (size_t)pages * XF_PAGE_SIZE);
    for (i = 0; i < pages; i++) {
        rc = xf_gnttab_grant_page(fd->gt, fd->dev.backend_id, va + (size_t)i * XF_PAGE_SIZE,
                                  false, &ring->refs[i]);
        if (rc < 0)
            break;
    }
    if (rc < 0) {
        /* Nobody was told these refs: the back end cannot hold them yet,
         * so ending them now cannot fail (and if it did, leak). */
        bool leak = false;

        while (i-- > 0)
            if (xf_gnttab_end_access(fd->gt, ring->refs[i]) != 0)
                leak = true;
        if (!leak)
            xf_plat_page_free(va, pages);
        memset(ring, 0, sizeof(*ring));
        return rc;
    }
    ring->sring = va;
    ring->order = order;
    ring->bytes = (size_t)pages * XF_PAGE_SIZE;
    ring->granted = true;
    return 0;
}

int xf_frontdev_ring_teardown(struct xf_frontdev *fd, struct xf_frontdev_ring *ring)
{
    unsigned int pages, held = 0;
    bool busy[XF_FRONTDEV_MAX_RING_PAGES];
    struct deferred_ring *d;
    int rc = 0;

    if (fd == NULL || ring == NULL)
        return -XF_EINVAL;
    if (!ring->granted) {
        memset(ring, 0, sizeof(*ring));
        return 0;
    }
    pages = 1u << ring->order;
    /* First try to end every grant now: the usual case, no bookkeeping. */
    for (unsigned int i = 0; i < pages; i++) {
        busy[i] = xf_gnttab_end_access(fd->gt, ring->refs[i]) != 0;
        held += busy[i];
    }
    if (held == 0) {
        xf_plat_page_free(ring->sring, pages);
        memset(ring, 0, sizeof(*ring));
        return 0;
    }
    /* The back end still maps some pages: defer those, and free the whole
     * block once the last of them is let go. */
    d = xf_plat_page_alloc(1);
    if (d == NULL) {
        xf_log(XF_LOG_ERROR, "frontdev: %s: no memory to defer a ring teardown: %u pages leaked",
               fd->dev.nodename, pages);
        memset(ring, 0, sizeof(*ring));
        return -XF_ENOMEM;
    }
    d->va = ring->sring;
    d->npages = pages;
    d->pending = held;
    for (unsigned int i = 0; i < pages; i++) {
        int r;

        if (!busy[i])
            continue;
        r = xf_gnttab_end_access_deferred(fd->gt, ring->refs[i],
                                          (unsigned char *)ring->sring + (size_t)i * XF_PAGE_SIZE,
                                          page_released, d);
        if (r < 0) {
            /* Not even deferred: this page stays granted for ever, and so
             * the block is never freed (never reused while mapped). */
            xf_log(XF_LOG_ERROR, "frontdev: %s: ring page %u (ref %u) cannot be reclaimed: leaked",
                   fd->dev.nodename, i, (unsigned)ring->refs[i]);
            rc = r;
        }
    }
    memset(ring, 0, sizeof(*ring));
    return rc < 0 ? rc : 1;
}

int xf_frontdev_evtchn_alloc(struct xf_frontdev *fd, xf_evtchn_handler_fn *handler,
                             void *arg, evtchn_port_t *port)
{
    if (fd == NULL || !fd->open || port == NULL)
        return -XF_EINVAL;
    return xf_evtchn_alloc_unbound(fd->ec, fd->dev.backend_id, handler, arg, port);
}

void xf_frontdev_evtchn_free(struct xf_frontdev *fd, evtchn_port_t port)
{
    if (fd == NULL || port == 0)
        return;
    (void)xf_evtchn_close(fd->ec, port);
}
