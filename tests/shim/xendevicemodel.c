/*
 * xfshim, libxendevicemodel: handles and harmless answers for QEMU's PV
 * backends; the HVM device-model calls fail with ENOSYS.
 */
#include "shim_tools.h"

struct xendevicemodel_handle { int unused; };

EXPORT xendevicemodel_handle *xendevicemodel_open(struct xentoollog_logger *logger,
                                                  unsigned int open_flags)
{
    (void)logger; (void)open_flags;
    return shim_handle_new(sizeof(struct xendevicemodel_handle));
}

EXPORT int xendevicemodel_close(xendevicemodel_handle *dmod)
{
    free(dmod);
    return 0;
}

EXPORT int xendevicemodel_restrict(xendevicemodel_handle *dmod, domid_t domid)
{
    (void)dmod; (void)domid;
    return 0;
}

EXPORT int xendevicemodel_shutdown(xendevicemodel_handle *dmod, domid_t domid,
                                   unsigned int reason)
{
    (void)dmod; (void)domid; (void)reason;
    return 0;
}

typedef xendevicemodel_handle dmh;
ENOSYS_STUB(xendevicemodel_create_ioreq_server, dmh *h U, domid_t d U, int b U, ioservid_t *i U)
ENOSYS_STUB(xendevicemodel_destroy_ioreq_server, dmh *h U, domid_t d U, ioservid_t i U)
ENOSYS_STUB(xendevicemodel_get_ioreq_server_info, dmh *h U, domid_t d U, ioservid_t i U,
            xen_pfn_t *a U, xen_pfn_t *b U, evtchn_port_t *p U)
ENOSYS_STUB(xendevicemodel_inject_msi, dmh *h U, domid_t d U, uint64_t a U, uint32_t v U)
ENOSYS_STUB(xendevicemodel_map_io_range_to_ioreq_server, dmh *h U, domid_t d U, ioservid_t i U,
            int m U, uint64_t s U, uint64_t e U)
ENOSYS_STUB(xendevicemodel_unmap_io_range_from_ioreq_server, dmh *h U, domid_t d U,
            ioservid_t i U, int m U, uint64_t s U, uint64_t e U)
ENOSYS_STUB(xendevicemodel_map_pcidev_to_ioreq_server, dmh *h U, domid_t d U, ioservid_t i U,
            uint16_t s U, uint8_t b U, uint8_t dv U, uint8_t f U)
ENOSYS_STUB(xendevicemodel_unmap_pcidev_from_ioreq_server, dmh *h U, domid_t d U,
            ioservid_t i U, uint16_t s U, uint8_t b U, uint8_t dv U, uint8_t f U)
ENOSYS_STUB(xendevicemodel_modified_memory, dmh *h U, domid_t d U, uint64_t f U, uint32_t n U)
ENOSYS_STUB(xendevicemodel_pin_memory_cacheattr, dmh *h U, domid_t d U, uint64_t s U,
            uint64_t e U, uint32_t t U)
ENOSYS_STUB(xendevicemodel_relocate_memory, dmh *h U, domid_t d U, uint32_t s U, uint64_t a U,
            uint64_t b U)
ENOSYS_STUB(xendevicemodel_set_ioreq_server_state, dmh *h U, domid_t d U, ioservid_t i U,
            int e U)
ENOSYS_STUB(xendevicemodel_set_isa_irq_level, dmh *h U, domid_t d U, uint8_t i U,
            unsigned int l U)
ENOSYS_STUB(xendevicemodel_set_mem_type, dmh *h U, domid_t d U, hvmmem_type_t t U,
            uint64_t f U, uint32_t n U)
ENOSYS_STUB(xendevicemodel_set_pci_intx_level, dmh *h U, domid_t d U, uint16_t s U,
            uint8_t b U, uint8_t dv U, uint8_t in U, unsigned int l U)
ENOSYS_STUB(xendevicemodel_set_pci_link_route, dmh *h U, domid_t d U, uint8_t l U, uint8_t i U)
ENOSYS_STUB(xendevicemodel_track_dirty_vram, dmh *h U, domid_t d U, uint64_t f U,
            uint32_t n U, unsigned long *b U)
