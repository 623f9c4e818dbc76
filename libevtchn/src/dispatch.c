/*
 * Dispatch of pending ports, 2-level ABI.
 *
 * Xen raises an event in this order: set the port's pending bit; if the
 * port is unmasked, set its word's bit in the vCPU's selector
 * (evtchn_pending_sel); if that bit was clear, set evtchn_upcall_pending
 * and interrupt the vCPU. We undo it in the reverse order: clear
 * upcall_pending, take the selector (exchange with 0), then for each
 * selected word clear and serve the pending, unmasked ports. Whatever Xen
 * raises after we cleared a level sets that level again, so the next pass
 * sees it; nothing raised is lost. Clearing the selector is essential: Xen
 * raises an upcall only when it sets a selector bit that was clear.
 *
 * Fairness. A lowest-port-first scan starves high ports behind a low one
 * that is pending again whenever it is served. Here each scan starts at
 * `resume`, the port after the last one served, and goes once round the
 * 4096 ports in order: the start word from `resume` on, the other selected
 * words in cyclic order, then the start word below `resume`. A port pending
 * again while being served sets the selector again, so it is served in the
 * next pass, after every port between it and itself cyclically - which
 * makes any pending port wait at most one full scan.
 */
#include "private.h"

/* Rotate right: bit j of the result is bit (j + n) % EV_BITS of x. */
static inline xen_ulong_t ror(xen_ulong_t x, unsigned n)
{
    return n == 0 ? x : (xen_ulong_t)((x >> n) | (x << (EV_BITS - n)));
}

static inline unsigned ctz(xen_ulong_t x)
{
    return (unsigned)__builtin_ctzll((unsigned long long)x);
}

/* Bits strictly above bit b. */
static inline xen_ulong_t above(unsigned b)
{
    return b + 1 >= EV_BITS ? 0 : (~(xen_ulong_t)0 << (b + 1));
}

/* The ports of word w this context should serve now. */
static inline xen_ulong_t ready(const struct xf_evtchn *ec, unsigned w)
{
    return EV_LOAD(&ec->shinfo->evtchn_pending[w]) &
           ~EV_LOAD(&ec->shinfo->evtchn_mask[w]) &
           EV_OWN_LOAD(&ec->active[w]);
}

/*
 * Serve the ready ports of word w within `range`, lowest first. Returns
 * false if the budget ran out with ports of the range still to serve.
 */
static bool scan_word(struct xf_evtchn *ec, unsigned w, xen_ulong_t range,
                      unsigned budget, unsigned *done)
{
    xen_ulong_t bits = ready(ec, w) & range;

    while (bits != 0) {
        unsigned b = ctz(bits);
        xen_ulong_t m = (xen_ulong_t)1 << b;
        evtchn_port_t port = (evtchn_port_t)(w * EV_BITS + b);
        struct xf_evtchn_slot slot;

        if (budget != 0 && *done >= budget)
            return false;
        ec->resume = (port + 1) % XF_EVTCHN_NR_PORTS;
        /*
         * Clear pending before the handler runs: an event that arrives
         * while it runs then sets the bit (and the selector) again and is
         * served by a later pass. Clearing after the handler would erase
         * that event: a lost wake-up. The fetch-and also arbitrates with a
         * poller clearing the same bit: whoever clears a set bit owns it.
         */
        if (EV_AND(&ec->shinfo->evtchn_pending[w], ~m) & m) {
            slot = ec->slots[port];
            if (slot.fn != NULL) {
                slot.fn(ec, port, slot.arg);
                (*done)++;
            }
        }
        /* The handler may have closed, masked or re-bound ports of this
         * word: look again, forward only. */
        bits = ready(ec, w) & range & above(b);
    }
    return true;
}

/*
 * One pass over the words selected in sel. Returns the words not finished
 * (0 unless the budget ran out).
 */
static xen_ulong_t scan(struct xf_evtchn *ec, xen_ulong_t sel, unsigned budget, unsigned *done)
{
    unsigned w0 = EV_WORD(ec->resume);
    xen_ulong_t w0bit = (xen_ulong_t)1 << w0;
    xen_ulong_t low = EV_MASK(ec->resume) - 1;   /* bits of w0 below resume */
    xen_ulong_t rest;

    /* The start word, from the resume point on. */
    if (sel & w0bit) {
        if (!scan_word(ec, w0, ~low, budget, done))
            return sel;
        if (low == 0)
            sel &= ~w0bit;
    }
    /* The other selected words, cyclically after the start word. */
    rest = ror(sel & ~w0bit, (w0 + 1) % EV_BITS);
    while (rest != 0) {
        unsigned w = (w0 + 1 + ctz(rest)) % EV_BITS;

        if (!scan_word(ec, w, ~(xen_ulong_t)0, budget, done))
            return sel;
        sel &= ~((xen_ulong_t)1 << w);
        rest &= rest - 1;
    }
    /* The start word's ports below the resume point, last. */
    if (sel & w0bit) {
        if (!scan_word(ec, w0, low, budget, done))
            return sel;
        sel &= ~w0bit;
    }
    return sel;
}

int xf_evtchn_dispatch(struct xf_evtchn *ec, unsigned int budget)
{
    vcpu_info_t *vi;
    unsigned done = 0;
    bool more = false;

    if (ec == NULL)
        return -XF_EINVAL;
    /* Nested (an upcall during a handler): the outer pass loops on
     * upcall_pending, which Xen has set, so it will see the new work. */
    if (ec->in_dispatch)
        return 0;
    ec->in_dispatch = true;
    vi = ec->vi;
    for (;;) {
        xen_ulong_t sel;

        EV_STORE(&vi->evtchn_upcall_pending, 0);
        sel = EV_XCHG(&vi->evtchn_pending_sel, 0);
        if (sel != 0) {
            sel = scan(ec, sel, budget, &done);
            if (sel != 0) {
                /* Budget spent: hand the unfinished words back, so the
                 * next call (or upcall) goes on from `resume`. */
                EV_OR(&vi->evtchn_pending_sel, sel);
                more = true;
                break;
            }
        }
        if (!EV_LOAD(&vi->evtchn_upcall_pending))
            break;
        if (budget != 0 && done >= budget) {
            more = true;
            break;
        }
    }
    /* Leave the upcall raised while work remains: Xen re-injects it when
     * the kernel re-enables interrupts, and a polling kernel sees it. */
    if (more)
        EV_STORE(&vi->evtchn_upcall_pending, 1);
    ec->in_dispatch = false;
    return done > (unsigned)INT32_MAX ? INT32_MAX : (int)done;
}
