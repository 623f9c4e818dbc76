/*
 * Per-port operations: notify, mask, unmask, handlers, polling.
 */
#include "private.h"

int xf_evtchn_notify(struct xf_evtchn *ec, evtchn_port_t port)
{
    struct evtchn_send op;
    int err = ev_check(ec, port);

    if (err != 0)
        return err;
    memset(&op, 0, sizeof(op));
    op.port = port;
    return (int)xf_plat_event_channel_op(EVTCHNOP_send, &op);
}

int xf_evtchn_mask(struct xf_evtchn *ec, evtchn_port_t port)
{
    int err = ev_check(ec, port);

    if (err != 0)
        return err;
    ev_mask_bit(ec, port);
    return 0;
}

/*
 * Unmask without losing an event that arrived while the port was masked.
 *
 * Xen, on an event, sets the pending bit, then sets the selector bit (and
 * raises the upcall) only if the port is unmasked. An event that came while
 * masked therefore left pending set and the selector alone: clearing the
 * mask bit alone would leave it unseen until some other port of the word
 * happened to be raised. Two ways out: re-raise it locally (set the
 * selector and evtchn_upcall_pending ourselves), or have Xen do it with
 * EVTCHNOP_unmask. Locally is wrong on PVH/HVM: writing upcall_pending
 * interrupts nobody (Xen injects the vector only when it raises the upcall
 * itself), so the event would wait for an unrelated upcall. So:
 *
 *  - fast path, nothing pending: clear the mask bit, then look at pending
 *    again (the fetch-and is a full barrier). Still clear: any event from
 *    now on sees the port unmasked and raises the upcall itself. Done, no
 *    hypercall.
 *  - an event is pending (before, or raced in after the clear, when Xen
 *    may have seen the mask still set): set the mask bit (again) and let
 *    EVTCHNOP_unmask clear it. Xen acts only when it finds the bit set
 *    (test-and-clear), then finds pending, sets the selector, raises the
 *    upcall and kicks the vCPU. The hypercall is paid only when there is
 *    an event to deliver anyway.
 */
int xf_evtchn__unmask(struct xf_evtchn *ec, evtchn_port_t port)
{
    unsigned w = EV_WORD(port);
    xen_ulong_t m = EV_MASK(port);
    struct evtchn_unmask op;
    bool was_masked = ev_test_masked(ec, port);
    int rc;

    if (!ev_test_pending(ec, port)) {
        EV_AND(&ec->shinfo->evtchn_mask[w], ~m);
        if (!ev_test_pending(ec, port))
            return 0;
    }
    /* Masked again (or still, or, when called on an unmasked port, anew):
     * Xen's unmask does nothing for a port it finds unmasked. */
    EV_OR(&ec->shinfo->evtchn_mask[w], m);
    memset(&op, 0, sizeof(op));
    op.port = port;
    rc = (int)xf_plat_event_channel_op(EVTCHNOP_unmask, &op);
    /* Refused: leave the port masked or unmasked as the caller had it (a
     * raise or set_handler on an unmasked port must not mask it for good).
     * The pending event then waits for the next upcall of its word. */
    if (rc != 0 && !was_masked)
        EV_AND(&ec->shinfo->evtchn_mask[w], ~m);
    return rc;
}

int xf_evtchn_unmask(struct xf_evtchn *ec, evtchn_port_t port)
{
    int err = ev_check(ec, port);

    if (err != 0)
        return err;
    return xf_evtchn__unmask(ec, port);
}

int xf_evtchn_raise(struct xf_evtchn *ec, evtchn_port_t port)
{
    int err = ev_check(ec, port);

    if (err != 0)
        return err;
    EV_OR(&ec->shinfo->evtchn_pending[EV_WORD(port)], EV_MASK(port));
    /* A masked port keeps the bit for its unmask; an unmasked one needs
     * the selector and the upcall Xen would have set: xf_evtchn__unmask finds the
     * port pending and has Xen do exactly that. */
    if (ev_test_masked(ec, port))
        return 0;
    return xf_evtchn__unmask(ec, port);
}

int xf_evtchn_is_masked(const struct xf_evtchn *ec, evtchn_port_t port)
{
    int err = ev_check(ec, port);

    if (err != 0)
        return err;
    return ev_test_masked(ec, port) ? 1 : 0;
}

int xf_evtchn_set_handler(struct xf_evtchn *ec, evtchn_port_t port,
                          xf_evtchn_handler_fn *handler, void *arg)
{
    unsigned w = EV_WORD(port);
    xen_ulong_t m = EV_MASK(port);
    int err = ev_check(ec, port);

    if (err != 0)
        return err;
    /* Out of dispatch's sight while the pair changes, so it never calls
     * the new handler with the old argument (or the reverse). A dispatch
     * meanwhile leaves the port pending rather than clearing it. */
    EV_OWN_AND(&ec->active[w], ~m);
    ec->slots[port].fn = handler;
    ec->slots[port].arg = arg;
    if (handler == NULL)
        return 0;
    EV_OWN_OR(&ec->active[w], m);
    /* An event that came while the port had no handler was skipped by
     * dispatch (its selector bit consumed): unmasking again re-raises it. */
    if (!ev_test_masked(ec, port))
        return xf_evtchn__unmask(ec, port);
    return 0;
}

int xf_evtchn_is_pending(const struct xf_evtchn *ec, evtchn_port_t port)
{
    int err = ev_check(ec, port);

    if (err != 0)
        return err;
    return ev_test_pending(ec, port) ? 1 : 0;
}

int xf_evtchn_clear(struct xf_evtchn *ec, evtchn_port_t port)
{
    xen_ulong_t m = EV_MASK(port);
    int err = ev_check(ec, port);

    if (err != 0)
        return err;
    return (EV_AND(&ec->shinfo->evtchn_pending[EV_WORD(port)], ~m) & m) ? 1 : 0;
}
