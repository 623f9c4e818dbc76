/*
 * The shared-ring transport: struct xenstore_domain_interface (xs_wire.h,
 * docs/misc/xenstore-ring.txt), two 1 KiB byte rings with free-running
 * 32-bit indices, and the store event channel.
 *
 * The guest writes only req[], req_prod, rsp_cons and connection. It keeps
 * private copies of the two indices it owns (the server could scribble on
 * the shared ones) and reads the server's indices once per call, checking
 * that they lie within one ring's size of ours: a producer that jumps ahead
 * (or a consumer that claims to have read bytes never written) breaks the
 * transport with -XF_EPROTO instead of exposing stale ring contents.
 *
 * Messages are streamed: the core hands over any amount and takes back what
 * fits, so a 4 KiB payload passes the 1 KiB ring in pieces, each side
 * notifying the other after it produced and after it consumed (the core
 * kicks once per processing pass that moved bytes).
 *
 * Resets. Only the guest may start a reconnection (xenstore-ring.txt); a
 * server that does it on its own - connection set to XENSTORE_RECONNECT
 * and back, or, too quickly for us to see that, the indices we own
 * rewritten - is counted in `resets` for the core, which fails what was in
 * flight and registers the watches again. Our own indices are compared
 * with the page before each use, so such a reset is never mistaken for a
 * jump of the server's indices.
 */
#include "private.h"

#include <xenfront/evtchn.h>

struct ring_t {
    volatile struct xenstore_domain_interface *intf;
    struct xf_evtchn *ec;
    evtchn_port_t port;
    bool adopted;
    bool resetting;          /* connection != CONNECTED seen or requested */
    bool requested;          /* that reset is ours (ring_reset)           */
    unsigned long resets;    /* resets the server made on its own         */
    int error;               /* sticky: a ring rule was broken             */
    XENSTORE_RING_IDX req_prod;   /* ours; published to intf->req_prod    */
    XENSTORE_RING_IDX rsp_cons;   /* ours; published to intf->rsp_cons    */
    struct xf_xenbus *xb;
};

_Static_assert(sizeof(struct ring_t) <= XF_PAGE_SIZE, "ring transport state fits a page");
_Static_assert(sizeof(struct xenstore_domain_interface) <= XF_PAGE_SIZE, "store page layout");

static bool has_reconnect(const struct ring_t *t)
{
    return (XF_READ_ONCE(t->intf->server_features) & XENSTORE_SERVER_FEATURE_RECONNECTION) != 0;
}

/*
 * A reset under way or done behind our back: no bytes move until
 * ring_status() has seen it (the core calls it before each pass). Only with
 * the reconnection feature; without it nobody may touch the indices, and
 * the range checks below report a violation.
 */
static bool reset_pending(const struct ring_t *t)
{
    volatile struct xenstore_domain_interface *i = t->intf;

    if (t->resetting)
        return true;
    if (!has_reconnect(t))
        return false;
    return XF_READ_ONCE(i->connection) != XENSTORE_CONNECTED ||
           XF_READ_ONCE(i->req_prod) != t->req_prod || XF_READ_ONCE(i->rsp_cons) != t->rsp_cons;
}

static long ring_send(void *tp, const void *buf, size_t len)
{
    struct ring_t *t = tp;
    volatile struct xenstore_domain_interface *i = t->intf;
    XENSTORE_RING_IDX cons, prod = t->req_prod;
    uint32_t used, n, off;
    xf_irqflags_t irq;

    if (t->error != 0)
        return t->error;
    if (reset_pending(t))
        return 0;
    cons = XF_READ_ONCE(i->req_cons);
    used = prod - cons;
    if (used > XENSTORE_RING_SIZE) {
        /* The server claims to have consumed bytes we never produced. */
        xf_log(XF_LOG_WARN, "xenbus: req_cons %u out of range (req_prod %u)", cons, prod);
        t->error = -XF_EPROTO;
        return t->error;
    }
    /* The space is free only once the server has finished reading it: the
     * read of req_cons above must complete before our stores below. */
    XF_MB();
    off = MASK_XENSTORE_IDX(prod);
    n = XENSTORE_RING_SIZE - used;
    if (n > XENSTORE_RING_SIZE - off)
        n = XENSTORE_RING_SIZE - off;    /* up to the wrap; the core calls again */
    if (n > len)
        n = (uint32_t)len;
    if (n == 0)
        return 0;
    xf_copy_to_shared(&i->req[off], buf, n);
    /* The bytes must be visible before the index that publishes them. */
    XF_WMB();
    /* Our copy and the page's change together: ring_status() (which an
     * event handler may run through xf_xenbus_status()) takes any
     * difference between them for the server's doing. */
    irq = xf_plat_irq_save();
    t->req_prod = prod + n;
    XF_WRITE_ONCE(i->req_prod, t->req_prod);
    xf_plat_irq_restore(irq);
    return (long)n;
}

static long ring_recv(void *tp, void *buf, size_t len)
{
    struct ring_t *t = tp;
    volatile struct xenstore_domain_interface *i = t->intf;
    XENSTORE_RING_IDX prod, cons = t->rsp_cons;
    uint32_t avail, n, off;
    xf_irqflags_t irq;

    if (t->error != 0)
        return t->error;
    if (reset_pending(t))
        return 0;
    prod = XF_READ_ONCE(i->rsp_prod);
    avail = prod - cons;
    if (avail > XENSTORE_RING_SIZE) {
        /* A producer index beyond one ring of ours: the bytes it claims
         * would include ones the server overwrote or never wrote. */
        xf_log(XF_LOG_WARN, "xenbus: rsp_prod %u out of range (rsp_cons %u)", prod, cons);
        t->error = -XF_EPROTO;
        return t->error;
    }
    if (avail == 0)
        return 0;
    /* Read the bytes only after the index that covers them. */
    XF_RMB();
    off = MASK_XENSTORE_IDX(cons);
    n = avail;
    if (n > XENSTORE_RING_SIZE - off)
        n = XENSTORE_RING_SIZE - off;
    if (n > len)
        n = (uint32_t)len;
    /* Copied once into private memory; only the copy is parsed. */
    xf_copy_from_shared(buf, &i->rsp[off], n);
    /* Finish reading before handing the space back to the server. */
    XF_MB();
    irq = xf_plat_irq_save();
    t->rsp_cons = cons + n;
    XF_WRITE_ONCE(i->rsp_cons, t->rsp_cons);
    xf_plat_irq_restore(irq);
    return (long)n;
}

static void ring_kick(void *tp)
{
    struct ring_t *t = tp;

    /* Our index updates must be visible before the event is. */
    XF_MB();
    (void)xf_evtchn_notify(t->ec, t->port);
}

static void take_indices(struct ring_t *t)
{
    volatile struct xenstore_domain_interface *i = t->intf;

    /* The server emptied both rings, at indices of its choosing: take
     * ours from the page again. */
    XF_MB();
    t->req_prod = XF_READ_ONCE(i->req_prod);
    t->rsp_cons = XF_READ_ONCE(i->rsp_cons);
}

static int ring_status(void *tp)
{
    struct ring_t *t = tp;
    volatile struct xenstore_domain_interface *i = t->intf;
    uint32_t feat;

    if (t->error != 0)
        return t->error;
    feat = XF_READ_ONCE(i->server_features);
    if (feat & XENSTORE_SERVER_FEATURE_RECONNECTION) {
        if (XF_READ_ONCE(i->connection) != XENSTORE_CONNECTED) {
            /* During a reset only the connection field is meaningful. */
            if (!t->resetting) {
                /* Flag first: a handler interrupting here stops moving
                 * bytes, and does not count it again. */
                t->resetting = true;
                XF_BARRIER();
                if (!t->requested) {
                    xf_log(XF_LOG_WARN, "xenbus: the server started a ring reset");
                    t->resets++;
                }
            }
            return XF_XENBUS_LINK_RECONNECTING;
        }
        if (t->resetting) {
            take_indices(t);
            t->resetting = false;
            t->requested = false;
        } else if (XF_READ_ONCE(i->req_prod) != t->req_prod ||
                   XF_READ_ONCE(i->rsp_cons) != t->rsp_cons) {
            /* Indices only we write were rewritten: a reset came and went
             * between two of our looks. */
            xf_log(XF_LOG_WARN, "xenbus: the server reset the ring (indices rewritten)");
            /* Counted before the indices are taken: a handler interrupting
             * in between then sees the reset too (at worst counted twice,
             * handled once), never new indices without it. */
            t->resets++;
            XF_BARRIER();
            take_indices(t);
        }
    } else if (t->resetting) {
        return XF_XENBUS_LINK_RECONNECTING;
    } else if (XF_READ_ONCE(i->req_prod) != t->req_prod ||
               XF_READ_ONCE(i->rsp_cons) != t->rsp_cons) {
        /* Indices only we write were rewritten by a server that offers no
         * reconnection: nothing tells us where the stream stands, so
         * framing cannot go on (found by fuzz_xenbus_ring). */
        xf_log(XF_LOG_WARN, "xenbus: the server rewrote req_prod/rsp_cons without "
               "offering reconnection: connection broken");
        t->error = -XF_EPROTO;
        return t->error;
    }
    if ((feat & XENSTORE_SERVER_FEATURE_ERROR) && XF_READ_ONCE(i->error) != XENSTORE_ERROR_NONE)
        return -XF_EIO;    /* the server stopped talking to us */
    return XF_XENBUS_LINK_UP;
}

static int ring_reset(void *tp)
{
    struct ring_t *t = tp;
    volatile struct xenstore_domain_interface *i = t->intf;

    if (!has_reconnect(t))
        return -XF_EOPNOTSUPP;
    t->error = 0;
    t->resetting = true;
    t->requested = true;
    XF_WRITE_ONCE(i->connection, (uint32_t)XENSTORE_RECONNECT);
    ring_kick(t);
    return 0;
}

static int ring_wait(void *tp, uint64_t deadline_ns, bool want_send)
{
    (void)tp;
    (void)want_send;
    /* Events on the store port run our handler (upcall) or at least end
     * the wait (polling kernels): the caller processes after either. */
    return xf_plat_wait(deadline_ns);
}

static void ring_close(void *tp)
{
    struct ring_t *t = tp;

    if (t->adopted) {
        /* The store port lives as long as the domain (the domain builder
         * bound it; closing it would cut us off from xenstored for good):
         * keep it in ec, masked and without a handler, for a later context. */
        (void)xf_evtchn_release(t->ec, t->port);
    }
    xf_plat_page_free(t, 1);
}

static unsigned long ring_resets(void *tp)
{
    return ((struct ring_t *)tp)->resets;
}

static const struct xf_xenbus_transport_ops ring_ops = {
    .send = ring_send,
    .recv = ring_recv,
    .kick = ring_kick,
    .status = ring_status,
    .reset = ring_reset,
    .wait = ring_wait,
    .close = ring_close,
    .resets = ring_resets,
};

/*
 * Raise our own port again, as Xen would for a new event: set its pending
 * bit, then unmask it, which (the port being pending) makes libevtchn mask
 * it and ask Xen to unmask it, and Xen then sets the selector and the
 * upcall. The dispatcher serves it in its next pass, after every other
 * pending port, so a flooding server delays other devices by one handler
 * call each time round, never starves them.
 */
static void ring_rearm(struct ring_t *t)
{
    (void)xf_evtchn_raise(t->ec, t->port);
}

static void ring_event(struct xf_evtchn *ec, evtchn_port_t port, void *arg)
{
    struct ring_t *t = arg;

    (void)ec;
    (void)port;
    /* Nested in a processing call (an upcall interrupted it): that call
     * loops for us; re-arming here would only interrupt it again. */
    if (XF_READ_ONCE(t->xb->in_process)) {
        xf_xenbus_process(t->xb);
        return;
    }
    xf_xenbus_process(t->xb);
    /* Out of budget with messages left: they would wait for an event the
     * server has already sent. Ask for another handler call instead. */
    if (t->xb->more)
        ring_rearm(t);
}

int xf_xenbus_create_ring(struct xf_xenbus **out, const struct xf_xenbus_config *cfg,
                          struct xf_evtchn *ec, void *iface, evtchn_port_t port)
{
    struct ring_t *t;
    int rc;

    if (out == NULL || ec == NULL || iface == NULL || port == 0 ||
        ((uintptr_t)iface & (XF_PAGE_SIZE - 1)) != 0)
        return -XF_EINVAL;
    *out = NULL;
    t = xf_plat_page_alloc(1);
    if (t == NULL)
        return -XF_ENOMEM;
    memset(t, 0, sizeof(*t));
    t->intf = iface;
    t->ec = ec;
    t->port = port;
    /* Indices need not start at zero: continue from where they are. */
    t->req_prod = XF_READ_ONCE(t->intf->req_prod);
    t->rsp_cons = XF_READ_ONCE(t->intf->rsp_cons);
    /* Someone else's reconnection in progress (allowed before we start):
     * waited for, not counted as the server's doing. */
    t->resetting = has_reconnect(t) && XF_READ_ONCE(t->intf->connection) != XENSTORE_CONNECTED;
    rc = xf_xenbus_create_transport(out, cfg, &ring_ops, t);
    if (rc < 0)
        return rc;     /* t freed by ring_close */
    t->xb = *out;
    /* Adopt the domain builder's port, or take it back from an earlier
     * context that released it into ec. */
    rc = xf_evtchn_take(ec, port, ring_event, t);
    if (rc < 0) {
        xf_xenbus_destroy(*out);
        *out = NULL;
        return rc;
    }
    t->adopted = true;
    /* Anything the server wrote before we listened. */
    xf_xenbus_process(*out);
    return 0;
}

int xf_xenbus_hvm_store(uint64_t *pfn, evtchn_port_t *port)
{
    struct xen_hvm_param p;
    long rc;

    if (pfn == NULL || port == NULL)
        return -XF_EINVAL;
    memset(&p, 0, sizeof(p));
    p.domid = DOMID_SELF;
    p.index = HVM_PARAM_STORE_PFN;
    rc = xf_plat_hvm_op(HVMOP_get_param, &p);
    if (rc < 0)
        return (int)rc;
    uint64_t frame = p.value;
    memset(&p, 0, sizeof(p));
    p.domid = DOMID_SELF;
    p.index = HVM_PARAM_STORE_EVTCHN;
    rc = xf_plat_hvm_op(HVMOP_get_param, &p);
    if (rc < 0)
        return (int)rc;
    if (frame == 0 || p.value == 0 || p.value >= XF_EVTCHN_NR_PORTS)
        return -XF_ENOENT;
    /* Both known good before either is stored. */
    *pfn = frame;
    *port = (evtchn_port_t)p.value;
    return 0;
}
