/*
 * The smaller hypercalls: hvm_op (params, upcall vector), sched_op (yield,
 * block, poll, shutdown), console_io and xen_version; and upcall delivery.
 *
 * All are entered with the state lock held; the waiting ones drop it while
 * they wait on the shared condition variable.
 */
#include "private.h"


#include <sched.h>
#include <stdio.h>

bool upcall_configured(const struct sim_dom *d, unsigned vcpu)
{
    return d->upcall_vector[vcpu] != 0 || d->hvm_params[HVM_PARAM_CALLBACK_IRQ] != 0;
}

int sim_deliver_upcalls_locked(struct xf_sim *sim, domid_t domid)
{
    int calls = 0;

    for (unsigned vcpu = 0; vcpu < XEN_LEGACY_MAX_VCPUS; vcpu++) {
        struct sim_dom *d = sim_find(sim, domid);
        struct sim_view *v;
        vcpu_info_t *vi;

        if (d == NULL || vcpu >= d->nr_vcpus || (v = view_get(sim, d)) == NULL)
            break;
        vi = &sim_shinfo(sim, d)->vcpu_info[vcpu];
        if (v->upcall == NULL || !upcall_configured(d, vcpu) ||
            !AT_LOAD(&vi->evtchn_upcall_pending) || AT_LOAD(&vi->evtchn_upcall_mask))
            continue;
        xf_sim_upcall_fn fn = v->upcall;
        void *arg = v->upcall_arg;
        /* An interrupt handler makes hypercalls: never call it locked. */
        sim_unlock(sim);
        fn(arg, vcpu);
        sim_lock(sim);
        calls++;
    }
    return calls;
}

/* Params a guest may read or write about itself (Xen's hvm_allow_*_param). */
static bool guest_may_get(uint32_t index)
{
    switch (index) {
    case HVM_PARAM_CALLBACK_IRQ:
    case HVM_PARAM_VM86_TSS:
    case HVM_PARAM_VM86_TSS_SIZED:
    case HVM_PARAM_ACPI_IOPORTS_LOCATION:
    case HVM_PARAM_VM_GENERATION_ID_ADDR:
    case HVM_PARAM_STORE_PFN:
    case HVM_PARAM_STORE_EVTCHN:
    case HVM_PARAM_CONSOLE_PFN:
    case HVM_PARAM_CONSOLE_EVTCHN:
    case HVM_PARAM_ALTP2M:
    case HVM_PARAM_X87_FIP_WIDTH:
        return true;
    default:
        return false;
    }
}

static bool guest_may_set(uint32_t index)
{
    switch (index) {
    case HVM_PARAM_CALLBACK_IRQ:
    case HVM_PARAM_VM86_TSS:
    case HVM_PARAM_VM86_TSS_SIZED:
    case HVM_PARAM_ACPI_IOPORTS_LOCATION:
    case HVM_PARAM_VM_GENERATION_ID_ADDR:
    case HVM_PARAM_STORE_EVTCHN:
    case HVM_PARAM_CONSOLE_EVTCHN:
    case HVM_PARAM_X87_FIP_WIDTH:
        return true;
    default:
        return false;
    }
}

static long hvm_param(struct xf_sim *sim, struct sim_dom *caller, struct xen_hvm_param *p,
                      bool set)
{
    struct sim_dom *d;

    if (p->index >= HVM_NR_PARAMS)
        return -XF_EINVAL;
    d = sim_find(sim, sim_resolve(p->domid, caller->domid));
    if (d == NULL)
        return -XF_ESRCH;
    if (d != caller && !caller->privileged)
        return -XF_EPERM;
    if (d == caller && !(set ? guest_may_set(p->index) : guest_may_get(p->index)))
        return -XF_EPERM;
    if (set)
        d->hvm_params[p->index] = p->value;
    else
        p->value = d->hvm_params[p->index];
    return 0;
}

long sim_hvm_op(struct xf_sim *sim, struct sim_dom *d, unsigned int cmd, void *arg)
{
    if (arg == NULL)
        return -XF_EFAULT;
    switch (cmd) {
    case HVMOP_set_param:
        return hvm_param(sim, d, arg, true);
    case HVMOP_get_param:
        return hvm_param(sim, d, arg, false);
    case HVMOP_set_evtchn_upcall_vector: {
        struct xen_hvm_evtchn_upcall_vector *u = arg;
        if (u->vector < 0x10)
            return -XF_EINVAL; /* the exception vectors */
        if (u->vcpu >= d->nr_vcpus)
            return -XF_ENOENT;
        d->upcall_vector[u->vcpu] = u->vector;
        return 0;
    }
    default:
        return -XF_ENOSYS;
    }
}

static bool any_polled_pending(struct xf_sim *sim, struct sim_dom *d, const evtchn_port_t *ports,
                               unsigned n)
{
    for (unsigned i = 0; i < n; i++)
        if (evtchn_is_pending(sim, d, ports[i]))
            return true;
    return false;
}

static long sched_poll(struct xf_sim *sim, struct sim_dom *d, struct sched_poll *p)
{
    const evtchn_port_t *ports = p->ports.p;
    domid_t domid = d->domid;
    uint64_t deadline = p->timeout ? p->timeout : ~(uint64_t)0;

    if (p->nr_ports > 128)
        return -XF_EINVAL;
    if (ports == NULL && p->nr_ports != 0)
        return -XF_EFAULT;
    for (unsigned i = 0; i < p->nr_ports; i++)
        if (ports[i] >= XF_SIM_NR_PORTS)
            return -XF_EINVAL;
    /* Woken by a polled port or at the (absolute) timeout; 0 either way. */
    for (;;) {
        d = sim_find(sim, domid);
        if (d == NULL || any_polled_pending(sim, d, ports, p->nr_ports))
            return 0;
        if (sim_cond_wait(sim, deadline) == -XF_ETIMEDOUT)
            return 0;
    }
}

static long sched_block(struct xf_sim *sim, struct sim_dom *d)
{
    domid_t domid = d->domid;
    vcpu_info_t *vi = &sim_shinfo(sim, d)->vcpu_info[0];

    /* Xen re-enables event delivery when a vCPU blocks. */
    AT_STORE(&vi->evtchn_upcall_mask, 0);
    while (sim_find(sim, domid) != NULL && !AT_LOAD(&vi->evtchn_upcall_pending))
        sim_cond_wait(sim, ~(uint64_t)0);
    sim_deliver_upcalls_locked(sim, domid);
    return 0;
}

long sim_sched_op(struct xf_sim *sim, struct sim_dom *d, int cmd, void *arg)
{
    switch (cmd) {
    case SCHEDOP_yield:
        sim_unlock(sim);
        sched_yield();
        sim_lock(sim);
        return 0;
    case SCHEDOP_block:
        return sched_block(sim, d);
    case SCHEDOP_poll:
        if (arg == NULL)
            return -XF_EFAULT;
        return sched_poll(sim, d, arg);
    case SCHEDOP_shutdown:
        if (arg == NULL)
            return -XF_EFAULT;
        d->shutdown = 1;
        d->shutdown_reason = (uint8_t)((struct sched_shutdown *)arg)->reason;
        sim_kick(sim);
        return 0; /* a real Xen never returns to the vCPU */
    default:
        return -XF_ENOSYS;
    }
}

long sim_console_io(struct xf_sim *sim, struct sim_dom *d, int cmd, unsigned count, char *buf)
{
    /* Release builds of Xen refuse console_io to unprivileged domains. */
    if (!d->privileged && !sim->hv->guest_console_io)
        return -XF_EPERM;
    switch (cmd) {
    case CONSOLEIO_write: {
        char chunk[257];
        if (buf == NULL && count != 0)
            return -XF_EFAULT;
        for (unsigned off = 0; off < count;) {
            unsigned n = count - off < 256 ? count - off : 256;
            memcpy(chunk, buf + off, n);
            chunk[n] = '\0';
            xf_log(XF_LOG_INFO, "(d%u) %s", (unsigned)d->domid, chunk);
            off += n;
        }
        return 0;
    }
    case CONSOLEIO_read:
        return 0; /* no input is ever queued */
    default:
        return -XF_ENOSYS;
    }
}

long sim_xen_version(struct xf_sim *sim, struct sim_dom *d, int cmd, void *arg)
{
    (void)sim;
    switch (cmd) {
    case XENVER_version:
        return (4 << 16) | 17;
    case XENVER_pagesize:
        return XF_PAGE_SIZE;
    default:
        break;
    }
    if (arg == NULL)
        return -XF_EFAULT;
    switch (cmd) {
    case XENVER_extraversion:
        snprintf(arg, sizeof(xen_extraversion_t), "%s", ".0-xfsim");
        return 0;
    case XENVER_compile_info: {
        struct xen_compile_info *ci = arg;
        memset(ci, 0, sizeof(*ci));
        snprintf(ci->compiler, sizeof(ci->compiler), "xenfront simulator");
        snprintf(ci->compile_by, sizeof(ci->compile_by), "xfsim");
        snprintf(ci->compile_domain, sizeof(ci->compile_domain), "localdomain");
        snprintf(ci->compile_date, sizeof(ci->compile_date), "today");
        return 0;
    }
    case XENVER_capabilities:
        snprintf(arg, sizeof(xen_capabilities_info_t), "%s",
                 "xen-3.0-x86_64 hvm-3.0-x86_32 hvm-3.0-x86_32p hvm-3.0-x86_64");
        return 0;
    case XENVER_changeset:
        snprintf(arg, sizeof(xen_changeset_info_t), "%s", "xfsim");
        return 0;
    case XENVER_platform_parameters:
        ((struct xen_platform_parameters *)arg)->virt_start = 0; /* not PV */
        return 0;
    case XENVER_get_features: {
        struct xen_feature_info *fi = arg;
        if (fi->submap_idx >= XENFEAT_NR_SUBMAPS)
            return -XF_EINVAL;
        /* What Xen reports to a PVH guest. */
        fi->submap = (1u << XENFEAT_writable_page_tables) |
                     (1u << XENFEAT_auto_translated_physmap) |
                     (1u << XENFEAT_hvm_callback_vector) |
                     (1u << XENFEAT_hvm_safe_pvclock) |
                     (1u << XENFEAT_memory_op_vnode_supported) |
                     (d->domid == 0 ? 1u << XENFEAT_dom0 : 0);
        return 0;
    }
    case XENVER_guest_handle:
        memset(arg, 0, sizeof(xen_domain_handle_t));
        return 0;
    case XENVER_commandline:
        if (!d->privileged)
            return -XF_EPERM;
        memset(arg, 0, sizeof(xen_commandline_t));
        return 0;
    case XENVER_build_id:
        return d->privileged ? -XF_ENODATA : -XF_EPERM;
    default:
        return -XF_ENOSYS;
    }
}
