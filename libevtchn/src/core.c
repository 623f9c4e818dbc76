/*
 * The context: its memory, and the mapping of shared_info.
 */
#include "private.h"

/* Context and handler table in one allocation of whole pages. */
static size_t ctx_pages(void)
{
    size_t bytes = sizeof(struct xf_evtchn) +
                   XF_EVTCHN_NR_PORTS * sizeof(struct xf_evtchn_slot);

    return (bytes + XF_PAGE_SIZE - 1) / XF_PAGE_SIZE;
}

/*
 * Put shared_info over a page of ours. On PVH/HVM Xen's shared_info page
 * has no guest frame until the guest names one: add_to_physmap replaces
 * the RAM frame behind `page` with it (Xen frees that RAM).
 */
static int map_shared_info(shared_info_t **out)
{
    struct xen_add_to_physmap xatp;
    void *page = xf_plat_page_alloc(1);
    xen_pfn_t gfn;
    long rc;

    if (page == NULL)
        return -XF_ENOMEM;
    gfn = xf_plat_virt_to_gfn(page);
    if (gfn == ~(xen_pfn_t)0) {
        xf_plat_page_free(page, 1);
        return -XF_EFAULT;
    }
    memset(&xatp, 0, sizeof(xatp));
    xatp.domid = DOMID_SELF;
    xatp.space = XENMAPSPACE_shared_info;
    xatp.idx = 0;
    xatp.gpfn = gfn;
    rc = xf_plat_memory_op(XENMEM_add_to_physmap, &xatp);
    if (rc != 0) {
        xf_log(XF_LOG_ERROR, "evtchn: add_to_physmap(shared_info, gfn 0x%llx): %ld",
               (unsigned long long)gfn, rc);
        xf_plat_page_free(page, 1);
        return (int)rc;
    }
    *out = page;
    return 0;
}

/*
 * Undo map_shared_info. Removing shared_info leaves a hole at its frame
 * (the RAM that was there went back to Xen at mapping time), so the page
 * may only go back to the allocator once populate_physmap has put RAM
 * there again. If that fails the page is kept: a lost frame is better than
 * an allocator handing out a hole the kernel would fault on.
 */
static void unmap_shared_info(shared_info_t *s)
{
    struct xen_remove_from_physmap xrfp;
    struct xen_memory_reservation res;
    xen_pfn_t gfn = xf_plat_virt_to_gfn(s);
    xen_pfn_t extent = gfn;
    long rc;

    memset(&xrfp, 0, sizeof(xrfp));
    xrfp.domid = DOMID_SELF;
    xrfp.gpfn = gfn;
    rc = xf_plat_memory_op(XENMEM_remove_from_physmap, &xrfp);
    if (rc != 0) {
        xf_log(XF_LOG_WARN, "evtchn: remove_from_physmap(shared_info, gfn 0x%llx): %ld;"
               " page kept", (unsigned long long)gfn, rc);
        return;
    }
    memset(&res, 0, sizeof(res));
    set_xen_guest_handle(res.extent_start, &extent);
    res.nr_extents = 1;
    res.extent_order = 0;
    res.mem_flags = 0;
    res.domid = DOMID_SELF;
    rc = xf_plat_memory_op(XENMEM_populate_physmap, &res);
    if (rc != 1) {
        xf_log(XF_LOG_WARN, "evtchn: populate_physmap(gfn 0x%llx): %ld; the frame is"
               " a hole now, page kept out of the allocator", (unsigned long long)gfn, rc);
        return;
    }
    xf_plat_page_free(s, 1);
}

int xf_evtchn_create(struct xf_evtchn **out, const struct xf_evtchn_config *cfg)
{
    struct xf_evtchn_config def;
    struct xf_evtchn *ec;
    size_t npages = ctx_pages();
    int rc;

    if (out == NULL)
        return -XF_EINVAL;
    *out = NULL;
    memset(&def, 0, sizeof(def));
    if (cfg == NULL)
        cfg = &def;
    if (cfg->vcpu >= XEN_LEGACY_MAX_VCPUS)
        return -XF_EINVAL;

    ec = xf_plat_page_alloc(npages);
    if (ec == NULL)
        return -XF_ENOMEM;
    memset(ec, 0, sizeof(*ec));
    ec->npages = npages;
    ec->slots = (struct xf_evtchn_slot *)(void *)(ec + 1);
    ec->vcpu = cfg->vcpu;
    if (cfg->shared_info != NULL) {
        ec->shinfo = cfg->shared_info;
    } else {
        rc = map_shared_info(&ec->shinfo);
        if (rc != 0) {
            xf_plat_page_free(ec, npages);
            return rc;
        }
        ec->own_shinfo = true;
        /*
         * Start with every port masked, as Linux and Mini-OS do: ports
         * bound before us (the builder's xenstore and console ports) raise
         * no upcalls until adopted, and a port is unmasked only once its
         * handler is in place.
         */
        for (unsigned w = 0; w < EV_WORDS; w++)
            EV_STORE(&ec->shinfo->evtchn_mask[w], ~(xen_ulong_t)0);
    }
    ec->vi = &ec->shinfo->vcpu_info[ec->vcpu];
    *out = ec;
    return 0;
}

void xf_evtchn_destroy(struct xf_evtchn *ec)
{
    if (ec == NULL)
        return;
    /* Close what is still bound: a handle going away must not leak ports. */
    for (unsigned w = 0; w < EV_WORDS; w++) {
        xen_ulong_t bits = EV_OWN_LOAD(&ec->owned[w]);

        while (bits != 0) {
            unsigned b = (unsigned)__builtin_ctzll((unsigned long long)bits);

            bits &= bits - 1;
            (void)xf_evtchn_close(ec, (evtchn_port_t)(w * EV_BITS + b));
        }
    }
    if (ec->own_shinfo)
        unmap_shared_info(ec->shinfo);
    xf_plat_page_free(ec, ec->npages);
}

shared_info_t *xf_evtchn_shared_info(const struct xf_evtchn *ec)
{
    return ec == NULL ? NULL : ec->shinfo;
}

uint32_t xf_evtchn_vcpu(const struct xf_evtchn *ec)
{
    return ec == NULL ? 0 : ec->vcpu;
}

unsigned int xf_evtchn_nr_bound(const struct xf_evtchn *ec)
{
    return ec == NULL ? 0 : ec->nr_owned;
}
