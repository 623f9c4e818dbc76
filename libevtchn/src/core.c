/*
 * The context: its memory, and the mapping of shared_info.
 */
#include "private.h"

#include <xenfront/physmap.h>

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
    void *page = xf_plat_page_alloc(1);
    int rc;

    if (page == NULL)
        return -XF_ENOMEM;
    rc = xf_physmap_add(page, XENMAPSPACE_shared_info, 0);
    if (rc != 0) {
        xf_plat_page_free(page, 1); /* Xen refused: still our RAM */
        return rc;
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
    if (xf_physmap_remove(s) == 0)
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
