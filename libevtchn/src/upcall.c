/*
 * Upcall setup for PVH/HVM guests on x86: which vector Xen injects when it
 * raises evtchn_upcall_pending.
 *
 * Two mechanisms exist. HVMOP_set_evtchn_upcall_vector (per vCPU) is the
 * modern one: a plain edge-triggered vector, nothing to acknowledge at an
 * interrupt controller. The older HVM_PARAM_CALLBACK_IRQ "callback via"
 * of type vector is one vector for the whole domain, and needs
 * XENFEAT_hvm_callback_vector. (Its GSI and PCI INTx types serve fully
 * emulated HVM guests with an I/O APIC and are not offered.)
 */
#include "private.h"

#if defined(__x86_64__) || defined(__i386__)

static int set_vcpu_vector(struct xf_evtchn *ec, uint8_t vector)
{
    struct xen_hvm_evtchn_upcall_vector op;

    memset(&op, 0, sizeof(op));
    op.vcpu = ec->vcpu;
    op.vector = vector;
    return (int)xf_plat_hvm_op(HVMOP_set_evtchn_upcall_vector, &op);
}

static bool has_callback_vector(void)
{
    struct xen_feature_info fi;

    memset(&fi, 0, sizeof(fi));
    fi.submap_idx = 0;
    if (xf_plat_xen_version(XENVER_get_features, &fi) != 0)
        return false;
    return (fi.submap & (1u << XENFEAT_hvm_callback_vector)) != 0;
}

static int set_callback_vector(struct xf_evtchn *ec, uint8_t vector)
{
    struct xen_hvm_param p;

    if (ec->vcpu != 0)
        return -XF_EINVAL; /* a domain-wide setting: the vCPU 0 context owns it */
    if (!has_callback_vector())
        return -XF_EOPNOTSUPP;
    memset(&p, 0, sizeof(p));
    p.domid = DOMID_SELF;
    p.index = HVM_PARAM_CALLBACK_IRQ;
    p.value = ((uint64_t)HVM_PARAM_CALLBACK_TYPE_VECTOR << 56) | vector;
    return (int)xf_plat_hvm_op(HVMOP_set_param, &p);
}

int xf_evtchn_upcall_setup(struct xf_evtchn *ec, enum xf_evtchn_upcall_method method,
                           uint8_t vector)
{
    int rc;

    if (ec == NULL || vector < 0x10)
        return -XF_EINVAL;
    switch (method) {
    case XF_EVTCHN_UPCALL_VCPU_VECTOR:
        return set_vcpu_vector(ec, vector);
    case XF_EVTCHN_UPCALL_CALLBACK_VECTOR:
        return set_callback_vector(ec, vector);
    case XF_EVTCHN_UPCALL_AUTO:
        rc = set_vcpu_vector(ec, vector);
        if (rc == -XF_ENOSYS)
            rc = set_callback_vector(ec, vector);
        return rc;
    default:
        return -XF_EINVAL;
    }
}

#else

int xf_evtchn_upcall_setup(struct xf_evtchn *ec, enum xf_evtchn_upcall_method method,
                           uint8_t vector)
{
    (void)method;
    if (ec == NULL || vector < 0x10)
        return -XF_EINVAL;
    /* Arm: the upcall is the PPI named in the device tree's hypervisor
     * node; the kernel enables it at its GIC, Xen needs no setup. */
    return -XF_EOPNOTSUPP;
}

#endif
