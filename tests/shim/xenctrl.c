/*
 * xfshim, libxenctrl: the handle, domain info, event-channel status and HVM
 * params; what else QEMU links fails with ENOSYS. Also the handle constructor
 * the other libraries' handles share.
 */
#include "shim_tools.h"

/* A library handle: attach to the simulator first (the programs open a
 * handle before anything else), then a zeroed handle of the given size.
 * NULL with errno ENOENT when there is no simulator, as the real libraries
 * answer without /dev/xen. */
void *shim_handle_new(size_t size)
{
    if (shim_attach() < 0) {
        errno = ENOENT;
        return NULL;
    }
    return calloc(1, size);
}

struct xc_interface_core { int unused; };

EXPORT xc_interface *xc_interface_open(xentoollog_logger *logger,
                                       xentoollog_logger *dombuild_logger, unsigned open_flags)
{
    (void)logger; (void)dombuild_logger; (void)open_flags;
    return shim_handle_new(sizeof(struct xc_interface_core));
}

EXPORT int xc_interface_close(xc_interface *xch)
{
    free(xch);
    return 0;
}

EXPORT int xc_domain_getinfo(xc_interface *xch, uint32_t first_domid, unsigned int max_doms,
                             xc_dominfo_t *info)
{
    unsigned int n = 0;

    (void)xch;
    for (uint32_t d = first_domid; d < DOMID_FIRST_RESERVED && n < max_doms; d++) {
        if (!shim_domain_exists(d))
            continue;
        xc_dominfo_t *i = &info[n++];
        int reason = shim_domain_shutdown_reason(d);
        memset(i, 0, sizeof(*i));
        i->domid = d;
        i->hvm = 1;
        i->hap = 1;
        i->running = reason < 0;
        i->shutdown = reason >= 0 && reason != SHUTDOWN_crash;
        i->crashed = reason == SHUTDOWN_crash;
        i->shutdown_reason = reason >= 0 ? (unsigned int)reason : 0;
        i->nr_online_vcpus = 1;
        i->max_vcpu_id = 0;
        i->nr_pages = 4096;
        i->max_memkb = 16384;
        i->cpupool = 0;
    }
    return (int)n;
}

EXPORT int xc_evtchn_status(xc_interface *xch, xc_evtchn_status_t *status)
{
    (void)xch;
    return ret_errno(shim_evtchn_status(status));
}

EXPORT int xc_get_hvm_param(xc_interface *handle, uint32_t dom, int param, unsigned long *value)
{
    (void)handle;
    if (!shim_domain_exists(dom))
        return fail(ESRCH);
    *value = (unsigned long)shim_hvm_param(dom, (unsigned int)param);
    return 0;
}

EXPORT int xc_set_hvm_param(xc_interface *handle, uint32_t dom, int param, unsigned long value)
{
    (void)handle; (void)dom; (void)param; (void)value;
    return fail(EPERM);
}

EXPORT int xc_readconsolering(xc_interface *xch, char *buffer, unsigned int *pnr_chars,
                              int clear, int incremental, uint32_t *pindex)
{
    (void)xch; (void)buffer; (void)clear; (void)incremental; (void)pindex;
    *pnr_chars = 0; /* the simulated hypervisor has nothing to say */
    return 0;
}

EXPORT int xc_domain_shutdown(xc_interface *xch, uint32_t domid, int reason)
{
    (void)xch; (void)domid; (void)reason;
    return 0;
}

/* What QEMU links for HVM guests and passthrough: never used by a PV
 * backend, and the real ones would read this shim's handle as theirs
 * (ENOSYS_STUB: shim_tools.h). */
ENOSYS_STUB(xc_domain_bind_pt_pci_irq, xc_interface *x U, uint32_t d U, uint8_t i U,
            uint8_t b U, uint8_t dv U, uint8_t in U)
ENOSYS_STUB(xc_domain_iomem_permission, xc_interface *x U, uint32_t d U, unsigned long f U,
            unsigned long n U, uint8_t a U)
ENOSYS_STUB(xc_domain_ioport_mapping, xc_interface *x U, uint32_t d U, uint32_t g U,
            uint32_t m U, uint32_t n U, uint32_t a U)
ENOSYS_STUB(xc_domain_memory_mapping, xc_interface *x U, uint32_t d U, unsigned long g U,
            unsigned long m U, unsigned long n U, uint32_t a U)
ENOSYS_STUB(xc_domain_populate_physmap_exact, xc_interface *x U, uint32_t d U,
            unsigned long n U, unsigned int o U, unsigned int f U, xen_pfn_t *e U)
ENOSYS_STUB(xc_domain_unbind_msi_irq, xc_interface *x U, uint32_t d U, uint32_t g U,
            uint32_t p U, uint32_t f U)
ENOSYS_STUB(xc_domain_unbind_pt_irq, xc_interface *x U, uint32_t d U, uint8_t m U,
            uint8_t t U, uint8_t b U, uint8_t dv U, uint8_t in U, uint8_t is U)
ENOSYS_STUB(xc_domain_update_msi_irq, xc_interface *x U, uint32_t d U, uint32_t g U,
            uint32_t p U, uint32_t f U, uint64_t t U)
ENOSYS_STUB(xc_physdev_map_pirq, xc_interface *x U, uint32_t d U, int i U, int *p U)
ENOSYS_STUB(xc_physdev_map_pirq_msi, xc_interface *x U, uint32_t d U, int i U, int *p U,
            int dv U, int b U, int e U, uint64_t t U)
ENOSYS_STUB(xc_physdev_unmap_pirq, xc_interface *x U, uint32_t d U, int p U)
