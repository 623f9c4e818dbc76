/*
 * Event channels: Xen's common/event_channel.c semantics over the 2-level
 * ABI (common/event_2l.c) in each domain's shared_info page.
 *
 * The channel table is in the state file; the pending, mask and selector
 * bits are in shared_info, which the guest writes concurrently without our
 * lock, so they are only touched with atomic read-modify-write operations,
 * in the order Xen uses (pending, then mask test, then selector, then
 * upcall_pending): the guest's scan relies on that order.
 */
#include "private.h"

static bool virq_is_global(unsigned virq)
{
    switch (virq) {
    case VIRQ_TIMER:
    case VIRQ_DEBUG:
    case VIRQ_XENOPROF:
    case VIRQ_XENPMU:
        return false;
    default:
        return true; /* x86: the arch VIRQs are global too */
    }
}

static bool port_valid(const struct sim_dom *d, uint32_t port)
{
    return port < d->valid_ports;
}

/* Like Xen's get_free_port: the lowest free port, growing the valid range a
 * bucket at a time; the caller claims it by setting its state. */
static long get_free_port(struct sim_dom *d)
{
    for (uint32_t port = 1;; port++) {
        if (port > d->max_evtchn_port || port >= XF_SIM_NR_PORTS)
            return -XF_ENOSPC;
        if (port >= d->valid_ports) {
            d->valid_ports += PORT_BUCKET;
            return port;
        }
        if (d->chans[port].state == ECS_FREE)
            return port;
    }
}

static void mark_events_pending(struct xf_sim *sim, vcpu_info_t *vi)
{
    if (__atomic_exchange_n(&vi->evtchn_upcall_pending, 1, __ATOMIC_SEQ_CST) == 0)
        sim_kick(sim);
}

void evtchn_set_pending(struct xf_sim *sim, struct sim_dom *d, uint32_t port)
{
    shared_info_t *s = sim_shinfo(sim, d);
    vcpu_info_t *vi = &s->vcpu_info[d->chans[port].vcpu];

    if (bit_test_and_set(s->evtchn_pending, port))
        return;
    if (!bit_test(s->evtchn_mask, port) &&
        !bit_test_and_set(&vi->evtchn_pending_sel, port / BITS_PER_WORD))
        mark_events_pending(sim, vi);
    /* Pollers and backends waiting on a (possibly masked) port. */
    sim_kick(sim);
}

bool evtchn_is_pending(struct xf_sim *sim, struct sim_dom *d, uint32_t port)
{
    return port < XF_SIM_NR_PORTS && bit_test(sim_shinfo(sim, d)->evtchn_pending, port);
}

static void evtchn_unmask(struct xf_sim *sim, struct sim_dom *d, uint32_t port)
{
    shared_info_t *s = sim_shinfo(sim, d);
    vcpu_info_t *vi = &s->vcpu_info[d->chans[port].vcpu];

    if (bit_test_and_clear(s->evtchn_mask, port) &&
        bit_test(s->evtchn_pending, port) &&
        !bit_test_and_set(&vi->evtchn_pending_sel, port / BITS_PER_WORD))
        mark_events_pending(sim, vi);
}

/* Xen's evtchn_free: pending is cleared so that a re-bound port starts clean. */
static void evtchn_free(struct xf_sim *sim, struct sim_dom *d, uint32_t port)
{
    bit_test_and_clear(sim_shinfo(sim, d)->evtchn_pending, port);
    memset(&d->chans[port], 0, sizeof(d->chans[port]));
}

static long evtchn_close_port(struct xf_sim *sim, struct sim_dom *d, uint32_t port)
{
    struct sim_chan *c;

    if (!port_valid(d, port))
        return -XF_EINVAL;
    c = &d->chans[port];
    switch (c->state) {
    case ECS_UNBOUND:
    case ECS_IPI:
        break;
    case ECS_VIRQ:
        d->virq_port[virq_is_global(c->virq) ? 0 : c->vcpu][c->virq] = 0;
        break;
    case ECS_INTERDOMAIN: {
        struct sim_dom *r = sim_find(sim, c->remote_dom);
        if (r != NULL) {
            /* The peer stays open, waiting for us again (Xen's close). */
            struct sim_chan *rc = &r->chans[c->remote_port];
            rc->state = ECS_UNBOUND;
            rc->remote_dom = d->domid;
            rc->remote_port = 0;
        }
        break;
    }
    default: /* free, reserved */
        return -XF_EINVAL;
    }
    evtchn_free(sim, d, port);
    return 0;
}

long evtchn_alloc_unbound_for(struct xf_sim *sim, struct sim_dom *d, domid_t remote)
{
    long port = get_free_port(d);

    (void)sim;
    if (port < 0)
        return port;
    d->chans[port].state = ECS_UNBOUND;
    d->chans[port].remote_dom = remote;
    d->chans[port].vcpu = 0;
    return port;
}

static long op_alloc_unbound(struct xf_sim *sim, struct sim_dom *caller,
                             struct evtchn_alloc_unbound *a)
{
    struct sim_dom *d = sim_find(sim, sim_resolve(a->dom, caller->domid));
    long port;

    if (d == NULL)
        return -XF_ESRCH;
    port = get_free_port(d);
    if (port < 0)
        return port;
    /* XSM dummy policy: only a privileged domain acts for another. */
    if (d != caller && !caller->privileged)
        return -XF_EPERM;
    port = evtchn_alloc_unbound_for(sim, d, sim_resolve(a->remote_dom, caller->domid));
    a->port = (evtchn_port_t)port;
    return 0;
}

static long op_bind_interdomain(struct xf_sim *sim, struct sim_dom *l,
                                struct evtchn_bind_interdomain *b)
{
    struct sim_dom *r = sim_find(sim, sim_resolve(b->remote_dom, l->domid));
    long lport;

    if (r == NULL)
        return -XF_ESRCH;
    lport = get_free_port(l);
    if (lport < 0)
        return lport;
    if (!port_valid(r, b->remote_port) || r->chans[b->remote_port].state != ECS_UNBOUND ||
        r->chans[b->remote_port].remote_dom != l->domid)
        return -XF_EINVAL;

    struct sim_chan *lc = &l->chans[lport], *rc = &r->chans[b->remote_port];
    lc->state = ECS_INTERDOMAIN;
    lc->remote_dom = r->domid;
    lc->remote_port = b->remote_port;
    lc->vcpu = 0;
    rc->state = ECS_INTERDOMAIN;
    rc->remote_dom = l->domid;
    rc->remote_port = (uint32_t)lport;
    b->local_port = (evtchn_port_t)lport;
    /* Xen may have dropped sends to the unbound remote port, so it always
     * raises the new local port once. */
    evtchn_set_pending(sim, l, (uint32_t)lport);
    return 0;
}

static long op_bind_virq(struct xf_sim *sim, struct sim_dom *d, struct evtchn_bind_virq *b)
{
    long port;

    (void)sim;
    if (b->virq >= NR_VIRQS)
        return -XF_EINVAL;
    if (virq_is_global(b->virq) && b->vcpu != 0)
        return -XF_EINVAL;
    if (b->vcpu >= d->nr_vcpus)
        return -XF_ENOENT;
    if (d->virq_port[b->vcpu][b->virq] != 0)
        return -XF_EEXIST;
    port = get_free_port(d);
    if (port < 0)
        return port;
    d->chans[port].state = ECS_VIRQ;
    d->chans[port].virq = (uint8_t)b->virq;
    d->chans[port].vcpu = (uint16_t)b->vcpu;
    d->virq_port[b->vcpu][b->virq] = (uint16_t)port;
    b->port = (evtchn_port_t)port;
    return 0;
}

static long op_bind_ipi(struct sim_dom *d, struct evtchn_bind_ipi *b)
{
    long port;

    if (b->vcpu >= d->nr_vcpus)
        return -XF_ENOENT;
    port = get_free_port(d);
    if (port < 0)
        return port;
    d->chans[port].state = ECS_IPI;
    d->chans[port].vcpu = (uint16_t)b->vcpu;
    b->port = (evtchn_port_t)port;
    return 0;
}

static long op_send(struct xf_sim *sim, struct sim_dom *d, uint32_t port)
{
    struct sim_chan *c;

    if (!port_valid(d, port))
        return -XF_EINVAL;
    c = &d->chans[port];
    switch (c->state) {
    case ECS_INTERDOMAIN: {
        struct sim_dom *r = sim_find(sim, c->remote_dom);
        if (r != NULL)
            evtchn_set_pending(sim, r, c->remote_port);
        return 0;
    }
    case ECS_IPI:
        evtchn_set_pending(sim, d, port);
        return 0;
    case ECS_UNBOUND:
        return 0; /* nobody to tell: Xen drops it */
    default:
        return -XF_EINVAL;
    }
}

static long op_status(struct xf_sim *sim, struct sim_dom *caller, struct evtchn_status *st)
{
    struct sim_dom *d = sim_find(sim, sim_resolve(st->dom, caller->domid));
    struct sim_chan *c;

    if (d == NULL)
        return -XF_ESRCH;
    if (!port_valid(d, st->port))
        return -XF_EINVAL;
    if (d != caller && !caller->privileged)
        return -XF_EPERM;
    c = &d->chans[st->port];
    memset(&st->u, 0, sizeof(st->u));
    switch (c->state) {
    case ECS_UNBOUND:
        st->status = EVTCHNSTAT_unbound;
        st->u.unbound.dom = c->remote_dom;
        break;
    case ECS_INTERDOMAIN:
        st->status = EVTCHNSTAT_interdomain;
        st->u.interdomain.dom = c->remote_dom;
        st->u.interdomain.port = c->remote_port;
        break;
    case ECS_VIRQ:
        st->status = EVTCHNSTAT_virq;
        st->u.virq = c->virq;
        break;
    case ECS_IPI:
        st->status = EVTCHNSTAT_ipi;
        break;
    default:
        st->status = EVTCHNSTAT_closed;
        break;
    }
    st->vcpu = c->vcpu;
    return 0;
}

static long op_bind_vcpu(struct sim_dom *d, struct evtchn_bind_vcpu *b)
{
    struct sim_chan *c;

    if (b->vcpu >= d->nr_vcpus)
        return -XF_ENOENT;
    if (!port_valid(d, b->port))
        return -XF_EINVAL;
    c = &d->chans[b->port];
    switch (c->state) {
    case ECS_VIRQ:
        if (!virq_is_global(c->virq))
            return -XF_EINVAL;
        break;
    case ECS_UNBOUND:
    case ECS_INTERDOMAIN:
        break;
    default:
        return -XF_EINVAL;
    }
    c->vcpu = (uint16_t)b->vcpu;
    return 0;
}

static long op_reset(struct xf_sim *sim, struct sim_dom *caller, struct evtchn_reset *r)
{
    struct sim_dom *d = sim_find(sim, sim_resolve(r->dom, caller->domid));

    if (d == NULL)
        return -XF_ESRCH;
    if (d != caller && !caller->privileged)
        return -XF_EPERM;
    evtchn_destroy_all(sim, d);
    return 0;
}

void evtchn_destroy_all(struct xf_sim *sim, struct sim_dom *d)
{
    for (uint32_t port = 1; port < d->valid_ports; port++)
        if (d->chans[port].state != ECS_FREE)
            evtchn_close_port(sim, d, port);
}

int evtchn_raise_virq(struct xf_sim *sim, struct sim_dom *d, unsigned virq, unsigned vcpu)
{
    uint16_t port;

    if (virq >= NR_VIRQS)
        return -XF_EINVAL;
    if (virq_is_global(virq))
        vcpu = 0;
    else if (vcpu >= d->nr_vcpus)
        return -XF_EINVAL;
    port = d->virq_port[vcpu][virq];
    if (port == 0)
        return -XF_ENOENT;
    evtchn_set_pending(sim, d, port);
    return 0;
}

long sim_evtchn_op(struct xf_sim *sim, struct sim_dom *d, int cmd, void *arg)
{
    if (arg == NULL)
        return -XF_EFAULT;
    switch (cmd) {
    case EVTCHNOP_alloc_unbound:
        return op_alloc_unbound(sim, d, arg);
    case EVTCHNOP_bind_interdomain:
        return op_bind_interdomain(sim, d, arg);
    case EVTCHNOP_bind_virq:
        return op_bind_virq(sim, d, arg);
    case EVTCHNOP_bind_ipi:
        return op_bind_ipi(d, arg);
    case EVTCHNOP_send:
        return op_send(sim, d, ((struct evtchn_send *)arg)->port);
    case EVTCHNOP_close:
        return evtchn_close_port(sim, d, ((struct evtchn_close *)arg)->port);
    case EVTCHNOP_unmask: {
        uint32_t port = ((struct evtchn_unmask *)arg)->port;
        if (!port_valid(d, port))
            return -XF_EINVAL;
        evtchn_unmask(sim, d, port);
        return 0;
    }
    case EVTCHNOP_status:
        return op_status(sim, d, arg);
    case EVTCHNOP_bind_vcpu:
        return op_bind_vcpu(d, arg);
    case EVTCHNOP_reset:
        return op_reset(sim, d, arg);
    case EVTCHNOP_bind_pirq:
        return -XF_EINVAL;      /* no physical IRQs in the model */
    case EVTCHNOP_init_control:
    case EVTCHNOP_expand_array:
        return -XF_EOPNOTSUPP;  /* 2-level only: the FIFO ABI is not modelled */
    case EVTCHNOP_set_priority:
        return -XF_ENOSYS;      /* what Xen returns for the 2-level ABI */
    default:
        return -XF_ENOSYS;
    }
}
