/*
 * Binding and closing: the ownership of ports.
 *
 * Every port Xen gives us is recorded in `owned` (and, with a handler, in
 * `active`, which is what dispatch serves) before it can raise an upcall,
 * and forgotten only after it is masked and Xen has closed it. So a port
 * is owned by exactly one context, closing twice is an error rather than a
 * double close in Xen, and destroying a context closes everything it owned.
 */
#include "private.h"

void xf_evtchn__record(struct xf_evtchn *ec, evtchn_port_t port, xf_evtchn_handler_fn *fn, void *arg)
{
    unsigned w = EV_WORD(port);
    xen_ulong_t m = EV_MASK(port);

    if (EV_OWN_LOAD(&ec->owned[w]) & m) {
        /* Xen handed out a port we think is ours: someone closed it behind
         * our back (a raw EVTCHNOP_close or reset). Xen is right; the old
         * binding is gone, so its record goes too. */
        xf_log(XF_LOG_WARN, "evtchn: port %u re-issued by Xen while still recorded",
               (unsigned)port);
        EV_OWN_AND(&ec->active[w], ~m);
        ec->nr_owned--;
    }
    /* Masked until the handler is in place (Xen leaves the mask bit as it
     * was; ours are masked at create and on close, but be sure). */
    ev_mask_bit(ec, port);
    ec->slots[port].fn = fn;
    ec->slots[port].arg = arg;
    EV_OWN_OR(&ec->owned[w], m);
    ec->nr_owned++;
    if (fn != NULL) {
        /* Publish the slot before dispatch may look at it. */
        EV_OWN_OR(&ec->active[w], m);
        (void)xf_evtchn__unmask(ec, port);
    }
}

/* Direct a port Xen notifies on vCPU 0 to this context's vCPU. */
static int to_vcpu(struct xf_evtchn *ec, evtchn_port_t port)
{
    struct evtchn_bind_vcpu bv;
    struct evtchn_close cl;
    long rc;

    if (ec->vcpu == 0)
        return 0;
    memset(&bv, 0, sizeof(bv));
    bv.port = port;
    bv.vcpu = ec->vcpu;
    rc = xf_plat_event_channel_op(EVTCHNOP_bind_vcpu, &bv);
    if (rc == 0)
        return 0;
    /* The port would fire on a vCPU nobody scans: give it back. */
    memset(&cl, 0, sizeof(cl));
    cl.port = port;
    (void)xf_plat_event_channel_op(EVTCHNOP_close, &cl);
    return (int)rc;
}

static int finish_bind(struct xf_evtchn *ec, long rc, evtchn_port_t got, bool move,
                       xf_evtchn_handler_fn *fn, void *arg, evtchn_port_t *port)
{
    if (rc != 0)
        return (int)rc;
    if (!ev_port_ok(got)) {
        /* Xen never gives port 0 or one beyond the 2-level range. */
        xf_log(XF_LOG_ERROR, "evtchn: Xen returned port %u", (unsigned)got);
        return -XF_EPROTO;
    }
    if (move) {
        int r = to_vcpu(ec, got);
        if (r != 0)
            return r;
    }
    xf_evtchn__record(ec, got, fn, arg);
    *port = got;
    return 0;
}

int xf_evtchn_alloc_unbound(struct xf_evtchn *ec, domid_t remote_dom,
                            xf_evtchn_handler_fn *handler, void *arg, evtchn_port_t *port)
{
    struct evtchn_alloc_unbound op;
    long rc;

    if (ec == NULL || port == NULL)
        return -XF_EINVAL;
    memset(&op, 0, sizeof(op));
    op.dom = DOMID_SELF;
    op.remote_dom = remote_dom;
    op.port = 0;
    rc = xf_plat_event_channel_op(EVTCHNOP_alloc_unbound, &op);
    return finish_bind(ec, rc, op.port, true, handler, arg, port);
}

int xf_evtchn_bind_interdomain(struct xf_evtchn *ec, domid_t remote_dom,
                               evtchn_port_t remote_port, xf_evtchn_handler_fn *handler,
                               void *arg, evtchn_port_t *port)
{
    struct evtchn_bind_interdomain op;
    long rc;

    if (ec == NULL || port == NULL)
        return -XF_EINVAL;
    memset(&op, 0, sizeof(op));
    op.remote_dom = remote_dom;
    op.remote_port = remote_port;
    op.local_port = 0;
    rc = xf_plat_event_channel_op(EVTCHNOP_bind_interdomain, &op);
    return finish_bind(ec, rc, op.local_port, true, handler, arg, port);
}

int xf_evtchn_bind_virq(struct xf_evtchn *ec, uint32_t virq, xf_evtchn_handler_fn *handler,
                        void *arg, evtchn_port_t *port)
{
    struct evtchn_bind_virq op;
    bool move = false;
    long rc;

    if (ec == NULL || port == NULL)
        return -XF_EINVAL;
    memset(&op, 0, sizeof(op));
    op.virq = virq;
    op.vcpu = ec->vcpu;
    op.port = 0;
    rc = xf_plat_event_channel_op(EVTCHNOP_bind_virq, &op);
    if (rc == -XF_EINVAL && ec->vcpu != 0 && virq < NR_VIRQS) {
        /* A global VIRQ: Xen binds it on vCPU 0 only; move it after. */
        memset(&op, 0, sizeof(op));
        op.virq = virq;
        op.vcpu = 0;
        op.port = 0;
        rc = xf_plat_event_channel_op(EVTCHNOP_bind_virq, &op);
        move = true;
    }
    return finish_bind(ec, rc, op.port, move, handler, arg, port);
}

int xf_evtchn_bind_ipi(struct xf_evtchn *ec, xf_evtchn_handler_fn *handler, void *arg,
                       evtchn_port_t *port)
{
    struct evtchn_bind_ipi op;
    long rc;

    if (ec == NULL || port == NULL)
        return -XF_EINVAL;
    memset(&op, 0, sizeof(op));
    op.vcpu = ec->vcpu;
    op.port = 0;
    rc = xf_plat_event_channel_op(EVTCHNOP_bind_ipi, &op);
    return finish_bind(ec, rc, op.port, false, handler, arg, port);
}

int xf_evtchn_adopt(struct xf_evtchn *ec, evtchn_port_t port, xf_evtchn_handler_fn *handler,
                    void *arg)
{
    struct evtchn_status st;
    long rc;

    if (ec == NULL || !ev_port_ok(port))
        return -XF_EINVAL;
    if (ev_owned(ec, port))
        return -XF_EBUSY;
    rc = xf_evtchn_status(ec, port, &st);
    if (rc != 0)
        return (int)rc;
    switch (st.status) {
    case EVTCHNSTAT_closed:
        return -XF_ENOTCONN;
    case EVTCHNSTAT_unbound:
    case EVTCHNSTAT_interdomain:
        if (st.vcpu != ec->vcpu) {
            struct evtchn_bind_vcpu bv;

            memset(&bv, 0, sizeof(bv));
            bv.port = port;
            bv.vcpu = ec->vcpu;
            rc = xf_plat_event_channel_op(EVTCHNOP_bind_vcpu, &bv);
            if (rc != 0)
                return (int)rc;
        }
        break;
    default:
        /* VIRQ, IPI, PIRQ: their vCPU is fixed at bind time. */
        if (st.vcpu != ec->vcpu)
            return -XF_EINVAL;
        break;
    }
    xf_evtchn__record(ec, port, handler, arg);
    return 0;
}

int xf_evtchn_take(struct xf_evtchn *ec, evtchn_port_t port, xf_evtchn_handler_fn *handler,
                   void *arg)
{
    int rc = xf_evtchn_adopt(ec, port, handler, arg);

    if (rc != -XF_EBUSY)
        return rc;
    /* ec owns it already: a previous user released it (masked, no
     * handler). Install ours first, then unmask, so an event that waited
     * meanwhile is delivered to us and to nobody else. */
    rc = xf_evtchn_set_handler(ec, port, handler, arg);
    if (rc == 0)
        rc = xf_evtchn_unmask(ec, port);
    return rc;
}

int xf_evtchn_release(struct xf_evtchn *ec, evtchn_port_t port)
{
    int rc = xf_evtchn_mask(ec, port);

    /* Masked first: from here no upcall can reach the old handler, and
     * events keep their pending bit for whoever takes the port next. */
    if (rc == 0)
        rc = xf_evtchn_set_handler(ec, port, NULL, NULL);
    return rc;
}

int xf_evtchn_close(struct xf_evtchn *ec, evtchn_port_t port)
{
    struct evtchn_close op;
    unsigned w = EV_WORD(port);
    xen_ulong_t m = EV_MASK(port);
    long rc;
    int err = ev_check(ec, port);

    if (err != 0)
        return err;
    /*
     * Order matters against a dispatch interrupting us: masked, the port
     * raises no more upcalls; inactive, a scan in progress skips it (it
     * re-checks before each port), so its handler is never called for
     * this binding again. Only then is it closed and the slot reused.
     */
    ev_mask_bit(ec, port);
    EV_OWN_AND(&ec->active[w], ~m);
    memset(&op, 0, sizeof(op));
    op.port = port;
    rc = xf_plat_event_channel_op(EVTCHNOP_close, &op);
    if (rc != 0)
        xf_log(XF_LOG_WARN, "evtchn: EVTCHNOP_close(%u): %ld; forgotten anyway",
               (unsigned)port, rc);
    /* Xen cleared the pending bit when it freed the port. */
    ec->slots[port].fn = NULL;
    ec->slots[port].arg = NULL;
    EV_OWN_AND(&ec->owned[w], ~m);
    ec->nr_owned--;
    return (int)rc;
}

int xf_evtchn_status(struct xf_evtchn *ec, evtchn_port_t port, struct evtchn_status *st)
{
    if (ec == NULL || st == NULL || !ev_port_ok(port))
        return -XF_EINVAL;
    memset(st, 0, sizeof(*st));
    st->dom = DOMID_SELF;
    st->port = port;
    return (int)xf_plat_event_channel_op(EVTCHNOP_status, st);
}
