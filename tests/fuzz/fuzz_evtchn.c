/*
 * fuzz_evtchn: libevtchn's port ownership against a Xen that refuses and
 * misbehaves. The input plays Xen: which event-channel hypercalls fail
 * and with what error (fz_fault_plan), the port a bind returns (a new one,
 * 0, one past the 2-level range, or one this context already owns: a port
 * closed behind its back and handed out again), what EVTCHNOP_status says
 * of a port (its kind and vCPU), and events raised on any port; the guest
 * binds, adopts, takes, releases, closes, masks, notifies and dispatches,
 * on a context of vCPU 0 or 1, with shared_info given or mapped by the
 * library (whose mapping may fail too).
 *
 * A model of the ports the context owns predicts, and the target checks:
 *  - a call that fails returns a negative errno (-XF_EINVAL, -XF_EPROTO,
 *    -XF_EBUSY, -XF_ENOTCONN, or Xen's own) and leaves the context as it
 *    was: the same ports owned (xf_evtchn_nr_bound), the same handlers;
 *  - a bind that succeeds returns a port in 1..XF_EVTCHN_NR_PORTS-1 and
 *    owns it; one Xen returns outside that range is refused (-XF_EPROTO);
 *  - close forgets the port even when Xen refuses EVTCHNOP_close, and a
 *    closed or released port's handler is never called again;
 *  - a dispatch calls only handlers of owned, unmasked, pending ports,
 *    each at most once per raise, and masked ports stay pending;
 *  - creation that fails (the shared_info mapping refused) holds nothing,
 *    and destroy gives every page back (or keeps shared_info's, if Xen
 *    will not unmap it: then it is no longer RAM).
 */
#include "fz.h"

#include <xenfront/errno.h>
#include <xenfront/evtchn.h>

#define NP XF_EVTCHN_NR_PORTS

static struct xf_evtchn *ec;
static bool owned[NP];
static bool has_handler[NP];
static unsigned nowned;
static unsigned calls[NP];
static void *mapped_si;        /* shared_info page the library mapped, if any */

static void physmap_hook(void *va, unsigned int space, xen_ulong_t idx)
{
    (void)idx;
    if (space == XENMAPSPACE_shared_info)
        mapped_si = va;
}

static void handler(struct xf_evtchn *e, evtchn_port_t port, void *arg)
{
    FZ_CHECK(e == ec, "handler for another context");
    FZ_CHECK(port < NP && owned[port] && has_handler[port], "handler for port %u, not ours",
             port);
    FZ_CHECK((uintptr_t)arg == port, "handler arg %p for port %u", arg, port);
    calls[port]++;
}

/* The port's mask bit, read from the page the library uses. */
static bool shinfo_masked(evtchn_port_t p)
{
    const shared_info_t *si = mapped_si != NULL ? mapped_si : fz_shinfo;
    unsigned bits = (unsigned)(sizeof(xen_ulong_t) * 8);

    return (__atomic_load_n(&si->evtchn_mask[p / bits], __ATOMIC_SEQ_CST) >> (p % bits)) & 1;
}

static bool err_ok(int rc)
{
    return rc == -XF_EINVAL || rc == -XF_EPROTO || rc == -XF_EBUSY || rc == -XF_ENOTCONN ||
           fz_is_xen_error(rc);
}

static evtchn_port_t pick_port(void)
{
    uint8_t b = fz_u8();

    if (b < 0xc0 && nowned > 0) {
        unsigned k = b % nowned;

        for (evtchn_port_t p = 1; p < NP; p++)
            if (owned[p] && k-- == 0)
                return p;
    }
    if (b >= 0xf8)
        return b == 0xf8 ? 0 : NP + (b & 3);
    return fz_u16() % NP;
}

static void check_count(const char *what)
{
    FZ_CHECK(xf_evtchn_nr_bound(ec) == nowned, "%s: %u bound, model %u", what,
             xf_evtchn_nr_bound(ec), nowned);
    FZ_CHECK(fz_irq_depth == 0, "%s: critical section unbalanced", what);
}

/* A bind's outcome against the model. */
static void bound(int rc, evtchn_port_t port, bool with_handler, uint32_t xen_port,
                  const char *what)
{
    if (rc == 0) {
        FZ_CHECK(port >= 1 && port < NP, "%s gave port %u", what, port);
        FZ_CHECK(xen_port == 0 || xen_port == port, "%s: Xen said %u, got %u", what, xen_port,
                 port);
        if (!owned[port])
            nowned++;      /* else: re-issued by Xen, the old record replaced */
        owned[port] = true;
        has_handler[port] = with_handler;
    } else {
        FZ_CHECK(err_ok(rc), "%s: %d", what, rc);
        if (xen_port == 0 || xen_port >= NP)
            FZ_CHECK(rc != 0, "%s took port %u", what, xen_port);
    }
    check_count(what);
}

static void step(void)
{
    uint8_t op = fz_u8();
    evtchn_port_t port = 0xdead, p;
    uint32_t xen_port;
    int rc;
    bool h = fz_bool();
    void *arg;

    /* Xen's next answer: a port of the input's choosing, sometimes. */
    xen_port = 0;
    if ((op & 0xc0) == 0xc0) {
        xen_port = pick_port();
        fz_next_port = xen_port;
    }
    switch (op % 12) {
    case 0:
        rc = xf_evtchn_alloc_unbound(ec, (domid_t)fz_u8(), h ? handler : NULL, NULL, &port);
        if (rc == 0 && h) {
            /* The arg is the port: set it now that it is known (the
             * handler is in place even if Xen refuses the re-raise). */
            int r = xf_evtchn_set_handler(ec, port, handler, (void *)(uintptr_t)port);

            FZ_CHECK(r == 0 || (fz_faults != 0 && fz_is_xen_error(r)), "set_handler: %d", r);
        }
        bound(rc, port, h, xen_port, "alloc_unbound");
        break;
    case 1:
        rc = xf_evtchn_bind_ipi(ec, NULL, NULL, &port);
        bound(rc, port, false, xen_port, "bind_ipi");
        break;
    case 2:
        rc = xf_evtchn_bind_virq(ec, fz_u8() % 32, NULL, NULL, &port);
        bound(rc, port, false, xen_port, "bind_virq");
        break;
    case 3:
        rc = xf_evtchn_bind_interdomain(ec, (domid_t)fz_u8(), fz_u16() % NP, NULL, NULL, &port);
        bound(rc, port, false, xen_port, "bind_interdomain");
        break;
    case 4: { /* close */
        unsigned long faults = fz_faults;

        p = pick_port();
        rc = xf_evtchn_close(ec, p);
        if (p < NP && owned[p]) {
            /* Forgotten even if Xen refused. */
            FZ_CHECK(rc == 0 || (fz_faults != faults && fz_is_xen_error(rc)), "close: %d", rc);
            owned[p] = has_handler[p] = false;
            nowned--;
        } else {
            FZ_CHECK(rc == -XF_EINVAL || rc == -XF_ENOTCONN, "close of a port not ours: %d", rc);
        }
        check_count("close");
        break;
    }
    case 5: { /* adopt or take, with what Xen says of the port */
        bool take = fz_bool();

        fz_status_kind = fz_u8() % 6;
        fz_status_vcpu = fz_u8() % 3;
        p = pick_port();
        arg = (void *)(uintptr_t)p;
        rc = take ? xf_evtchn_take(ec, p, h ? handler : NULL, arg)
                  : xf_evtchn_adopt(ec, p, h ? handler : NULL, arg);
        if (rc == 0) {
            FZ_CHECK(p >= 1 && p < NP, "adopted port %u", p);
            if (!owned[p])
                nowned++;
            owned[p] = true;
            has_handler[p] = h;
        } else {
            FZ_CHECK(err_ok(rc), "adopt/take: %d", rc);
            FZ_CHECK(rc != -XF_EBUSY || (p < NP && owned[p] && !take) || fz_faults != 0,
                     "adopt: EBUSY for %u", p);
            /* take of an owned port: the handler is in place even if Xen
             * refused the unmask after it. */
            if (take && p < NP && owned[p] && fz_is_xen_error(rc))
                has_handler[p] = h;
        }
        check_count("adopt");
        break;
    }
    case 6: /* release */
        p = pick_port();
        rc = xf_evtchn_release(ec, p);
        if (p < NP && owned[p]) {
            FZ_CHECK(rc == 0, "release: %d", rc);
            has_handler[p] = false;
        } else {
            FZ_CHECK(rc == -XF_EINVAL || rc == -XF_ENOTCONN, "release: %d", rc);
        }
        check_count("release");
        break;
    case 7: { /* mask, unmask, notify, raise, pending, clear, status */
        bool was_masked;

        p = pick_port();
        was_masked = p < NP && shinfo_masked(p);
        switch (fz_u8() % 7) {
        case 0:
            rc = xf_evtchn_mask(ec, p);
            break;
        case 1:
            rc = xf_evtchn_unmask(ec, p);
            break;
        case 2:
            rc = xf_evtchn_notify(ec, p);
            break;
        case 3:
            rc = xf_evtchn_raise(ec, p);
            break;
        case 4:
            rc = xf_evtchn_is_pending(ec, p);
            break;
        case 5:
            rc = xf_evtchn_clear(ec, p);
            break;
        default: {
            struct evtchn_status st;

            rc = xf_evtchn_status(ec, p, &st);
            break;
        }
        }
        if (p >= NP || p == 0)
            FZ_CHECK(rc == -XF_EINVAL, "op on port %u: %d", p, rc);
        else
            FZ_CHECK(rc >= 0 || err_ok(rc), "op on port %u: %d", p, rc);
        /* A refused call leaves the port as it was (a refused unmask of a
         * raise must not mask an unmasked port for good). */
        if (p < NP && fz_is_xen_error(rc))
            FZ_CHECK(shinfo_masked(p) == was_masked, "port %u: mask %d -> %d on error %d", p,
                     was_masked, shinfo_masked(p), rc);
        check_count("port op");
        break;
    }
    case 8: /* Xen raises an event */
        p = pick_port();
        if (p < NP)
            fz_raise(p);
        break;
    case 9: { /* an upcall */
        unsigned before[NP];

        memcpy(before, calls, sizeof(before));
        rc = xf_evtchn_dispatch(ec, fz_u8() % 4);
        FZ_CHECK(rc >= 0, "dispatch: %d", rc);
        for (evtchn_port_t q = 1; q < NP; q++)
            FZ_CHECK(calls[q] - before[q] <= 1, "port %u handled %u times in one dispatch", q,
                     calls[q] - before[q]);
        break;
    }
    case 10: { /* a handler on an owned port (or refused on another) */
        bool was_masked;

        p = pick_port();
        was_masked = p < NP && shinfo_masked(p);
        rc = xf_evtchn_set_handler(ec, p, h ? handler : NULL, (void *)(uintptr_t)p);
        if (p < NP && fz_is_xen_error(rc))
            FZ_CHECK(shinfo_masked(p) == was_masked, "set_handler %u: mask changed on error %d",
                     p, rc);
        if (p < NP && owned[p]) {
            /* Xen refusing the re-raise (EVTCHNOP_unmask) leaves the new
             * handler in place: the header says so. */
            FZ_CHECK(rc == 0 || (fz_faults != 0 && fz_is_xen_error(rc)), "set_handler: %d", rc);
            has_handler[p] = h;
        } else {
            FZ_CHECK(rc == -XF_EINVAL || rc == -XF_ENOTCONN, "set_handler on %u: %d", p, rc);
        }
        check_count("set_handler");
        break;
    }
    default: /* Xen starts refusing */
        fz_fault_plan(FZ_FAULT_EVT | FZ_FAULT_MEM);
        break;
    }
    fz_next_port = 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct xf_evtchn_config cfg;
    long pages0;
    int rc;

    fz_log_init();
    fz_start(data, size);
    fz_plat_reset();
    memset(owned, 0, sizeof(owned));
    memset(has_handler, 0, sizeof(has_handler));
    memset(calls, 0, sizeof(calls));
    nowned = 0;
    mapped_si = NULL;
    fz_physmap_hook = physmap_hook;
    pages0 = fz_pages_live;
    memset(&cfg, 0, sizeof(cfg));
    {
        uint8_t b = fz_u8();

        cfg.vcpu = b & 1;
        /* Given shared_info (events reach the context), or mapped by the
         * library (which Xen may refuse: a fault plan first). */
        if (b & 2) {
            cfg.shared_info = NULL;
            fz_fault_plan(FZ_FAULT_MEM);
        } else {
            cfg.shared_info = fz_shinfo;
        }
    }
    rc = xf_evtchn_create(&ec, &cfg);
    if (rc != 0) {
        FZ_CHECK(fz_faults != 0 && (rc == -XF_ENOMEM || fz_is_xen_error(rc)), "create: %d", rc);
        FZ_CHECK(fz_pages_live == pages0, "failed create left %ld pages", fz_pages_live - pages0);
        ec = NULL;
        fz_physmap_hook = NULL;
        return 0;
    }
    fz_fault_countdown = -1;
    for (unsigned i = 0; i < 2000 && !fz_eof(); i++)
        step();
    /* Destroy closes everything; Xen may refuse to unmap shared_info. */
    {
        unsigned long faults = fz_faults_of[0];

        xf_evtchn_destroy(ec);
        ec = NULL;
        if (mapped_si != NULL && fz_faults_of[0] != faults) {
            /* Not RAM any more as far as the library knows: kept. */
            FZ_CHECK(fz_pages_live == pages0 + 1, "destroy: %ld pages", fz_pages_live - pages0);
            xf_plat_page_free(mapped_si, 1);
        }
    }
    fz_fault_countdown = -1;
    fz_physmap_hook = NULL;
    FZ_CHECK(fz_pages_live == pages0, "%ld pages leaked", fz_pages_live - pages0);
    return 0;
}
