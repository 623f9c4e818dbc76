/*
 * Xen pages in the guest's physmap. See xenfront/physmap.h.
 */
#include <xenfront/physmap.h>
#include <xenfront/errno.h>
#include <xenfront/platform.h>

int xf_physmap_add(void *page, unsigned int space, xen_ulong_t idx)
{
    struct xen_add_to_physmap xatp;
    xen_pfn_t gfn;
    long rc;

    if (page == NULL)
        return -XF_EINVAL;
    gfn = xf_plat_virt_to_gfn(page);
    if (gfn == ~(xen_pfn_t)0)
        return -XF_EFAULT;
    memset(&xatp, 0, sizeof(xatp));
    xatp.domid = DOMID_SELF;
    xatp.size = 0;
    xatp.space = space;
    xatp.idx = idx;
    xatp.gpfn = gfn;
    rc = xf_plat_memory_op(XENMEM_add_to_physmap, &xatp);
    if (rc != 0)
        xf_log(XF_LOG_ERROR, "physmap: add_to_physmap(space %u, idx %lu, gfn 0x%llx): %ld",
               space, (unsigned long)idx, (unsigned long long)gfn, rc);
    return (int)rc;
}

int xf_physmap_remove(void *page)
{
    struct xen_remove_from_physmap xrfp;
    struct xen_memory_reservation res;
    xen_pfn_t gfn, extent;
    long rc;

    if (page == NULL)
        return -XF_EINVAL;
    gfn = xf_plat_virt_to_gfn(page);
    extent = gfn;
    memset(&xrfp, 0, sizeof(xrfp));
    xrfp.domid = DOMID_SELF;
    xrfp.gpfn = gfn;
    rc = xf_plat_memory_op(XENMEM_remove_from_physmap, &xrfp);
    if (rc != 0) {
        xf_log(XF_LOG_WARN, "physmap: remove_from_physmap(gfn 0x%llx): %ld; page kept",
               (unsigned long long)gfn, rc);
        return (int)rc;
    }
    /* The gfn is a hole now: RAM must be back before anyone reuses it. */
    memset(&res, 0, sizeof(res));
    set_xen_guest_handle(res.extent_start, &extent);
    res.nr_extents = 1;
    res.extent_order = 0;
    res.mem_flags = 0;
    res.domid = DOMID_SELF;
    rc = xf_plat_memory_op(XENMEM_populate_physmap, &res);
    if (rc != 1) {
        xf_log(XF_LOG_WARN, "physmap: populate_physmap(gfn 0x%llx): %ld; the frame is a "
               "hole, page kept out of the allocator", (unsigned long long)gfn, rc);
        return rc < 0 ? (int)rc : -XF_ENOMEM;
    }
    return 0;
}
