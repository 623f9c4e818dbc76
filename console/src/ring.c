/*
 * console/src/ring.c: the data path of every console ring - output,
 * input, the event handler and the waiting helpers - with the back end's
 * indices checked before every use.
 *
 * Ownership of the four indices of struct xencons_interface:
 *   out_prod, in_cons  ours: kept in the context, written to the page,
 *                      never read back (the back end could change them);
 *   out_cons, in_prod  the back end's: read once per call with
 *                      XF_READ_ONCE, validated against what we know, and
 *                      only then used.
 * Every byte offset is index & (size - 1) and every copy is split at the
 * end of its array, so no value the back end writes can move an access
 * outside in[] or out[].
 */
#include "private.h"

void xf_console__fail(struct xf_console *con, int err)
{
    if (XF_READ_ONCE(con->state) == 0)
        XF_WRITE_ONCE(con->state, err);
}

static int violation(struct xf_console *con, const char *what, uint32_t got,
                     uint32_t ours, uint32_t seen)
{
    xf_log(XF_LOG_WARN,
           "console: port %u: back end broke the ring: %s (read %u, ours %u, last seen %u); "
           "console disabled",
           (unsigned)con->port, what, (unsigned)got, (unsigned)ours, (unsigned)seen);
    xf_console__fail(con, -XF_EPROTO);
    return -XF_EPROTO;
}

static void kick(struct xf_console *con)
{
    int rc = xf_evtchn_notify(con->ec, con->port);

    if (rc < 0)
        xf_log(XF_LOG_DEBUG, "console: port %u: notify failed (%d)", (unsigned)con->port, rc);
}

int xf_console__init(struct xf_console *con, void *page,
                         const struct xf_console_config *cfg)
{
    struct xencons_interface *intf = page;
    XENCONS_RING_IDX out_cons, out_prod, in_cons, in_prod;

    con->intf = intf;
    if (cfg != NULL) {
        con->input = cfg->input;
        con->input_arg = cfg->input_arg;
    }
    /* Earlier boot stages (a boot loader, a kexec'd kernel) may have used
     * the ring: continue from where they left it, as every front end does. */
    out_cons = XF_READ_ONCE(intf->out_cons);
    out_prod = XF_READ_ONCE(intf->out_prod);
    in_cons = XF_READ_ONCE(intf->in_cons);
    in_prod = XF_READ_ONCE(intf->in_prod);
    XF_MB();
    if ((uint32_t)(out_prod - out_cons) > XF_CONSOLE_OUT_SIZE ||
        (uint32_t)(in_prod - in_cons) > XF_CONSOLE_IN_SIZE) {
        xf_log(XF_LOG_WARN,
               "console: inconsistent ring at start (out %u..%u, in %u..%u)",
               (unsigned)out_cons, (unsigned)out_prod, (unsigned)in_cons, (unsigned)in_prod);
        return -XF_EPROTO;
    }
    con->out_prod = out_prod;
    con->out_cons_seen = out_cons;
    con->in_cons = in_cons;
    con->in_prod_seen = in_prod;
    return 0;
}

/* ------------------------------------------------------------------------
 * Output.
 */

/*
 * Read out_cons once and check it: it may only have advanced, by at most
 * what was outstanding at the last look (so it neither goes backwards nor
 * passes out_prod). Returns the bytes still in flight (0..OUT_SIZE), or
 * -XF_EPROTO.
 */
static int out_inflight(struct xf_console *con)
{
    XENCONS_RING_IDX cons = XF_READ_ONCE(con->intf->out_cons);
    uint32_t consumed = cons - con->out_cons_seen;
    uint32_t outstanding = con->out_prod - con->out_cons_seen;

    if (consumed > outstanding)
        return violation(con, (uint32_t)(con->out_cons_seen - cons) < XF_CONSOLE_OUT_SIZE
                                  ? "out_cons went backwards" : "out_cons beyond out_prod",
                         cons, con->out_prod, con->out_cons_seen);
    con->out_cons_seen = cons;
    return (int)(con->out_prod - cons);
}

static int out_check(const struct xf_console *con)
{
    int st;

    if (con == NULL)
        return -XF_EINVAL;
    st = XF_READ_ONCE(con->state);
    return st;
}

int xf_console_write(struct xf_console *con, const void *buf, size_t len)
{
    const unsigned char *p = buf;
    int rc, inflight;
    uint32_t space, n, idx, first;

    rc = out_check(con);
    if (rc < 0)
        return rc;
    if (buf == NULL && len > 0)
        return -XF_EINVAL;
    if (XF_READ_ONCE(con->out_busy))
        return -XF_EBUSY;
    XF_WRITE_ONCE(con->out_busy, 1);
    XF_BARRIER();

    inflight = out_inflight(con);
    if (inflight < 0) {
        rc = inflight;
        goto out;
    }
    /* The back end has finished with the bytes before out_cons: order that
     * read before our stores into the space it freed. */
    XF_MB();
    space = XF_CONSOLE_OUT_SIZE - (uint32_t)inflight;
    n = len < space ? (uint32_t)len : space;
    if (n == 0) {
        rc = 0;
        goto out;
    }
    idx = con->out_prod & (XF_CONSOLE_OUT_SIZE - 1);
    first = XF_CONSOLE_OUT_SIZE - idx;
    if (first > n)
        first = n;
    xf_copy_to_shared(&con->intf->out[idx], p, first);
    if (n > first)
        xf_copy_to_shared(&con->intf->out[0], p + first, n - first);
    /* The bytes before the index that publishes them. */
    XF_WMB();
    con->out_prod += n;
    XF_WRITE_ONCE(con->intf->out_prod, con->out_prod);
    kick(con);
    rc = (int)n;
out:
    XF_BARRIER();
    XF_WRITE_ONCE(con->out_busy, 0);
    return rc;
}

int xf_console_out_pending(struct xf_console *con)
{
    int rc = out_check(con);

    if (rc < 0)
        return rc;
    if (XF_READ_ONCE(con->out_busy))
        return -XF_EBUSY;
    XF_WRITE_ONCE(con->out_busy, 1);
    XF_BARRIER();
    rc = out_inflight(con);
    XF_BARRIER();
    XF_WRITE_ONCE(con->out_busy, 0);
    return rc;
}

/* One round of waiting: 0 to look again, -XF_ETIMEDOUT once the deadline
 * has passed, or the secondary console's service error. */
static int wait_round(struct xf_console *con, uint64_t deadline_ns)
{
    int rc;

    if (xf_plat_now_ns() >= deadline_ns)
        return -XF_ETIMEDOUT;
    /* Woken by any event (the back end notifies after consuming); spurious
     * or early returns are fine: the caller re-reads the indices, which is
     * also what makes polling kernels (whose wait returns at once) work. */
    (void)xf_plat_wait(deadline_ns);
    if (con->ops != NULL && con->ops->service != NULL) {
        rc = con->ops->service(con, deadline_ns);
        if (rc < 0)
            return rc;
    }
    return 0;
}

int xf_console_write_all(struct xf_console *con, const void *buf, size_t len,
                         uint64_t deadline_ns, size_t *written)
{
    const unsigned char *p = buf;
    size_t done = 0;
    int rc;

    if (con == NULL || (buf == NULL && len > 0)) {
        rc = -XF_EINVAL;
        goto out;
    }
    for (;;) {
        rc = xf_console_write(con, p + done, len - done);
        if (rc < 0)
            break;
        done += (size_t)rc;
        if (done == len) {
            rc = 0;
            break;
        }
        if (rc > 0) {
            /* The ring had room: look again before waiting, but never past
             * the deadline, however fast the back end keeps making room. */
            if (xf_plat_now_ns() >= deadline_ns) {
                rc = -XF_ETIMEDOUT;
                break;
            }
            continue;
        }
        rc = wait_round(con, deadline_ns);
        if (rc < 0)
            break;
    }
out:
    if (written != NULL)
        *written = done;
    return rc;
}

int xf_console_flush(struct xf_console *con, uint64_t deadline_ns)
{
    int rc;

    if (con == NULL)
        return -XF_EINVAL;
    for (;;) {
        rc = xf_console_out_pending(con);
        if (rc <= 0)
            return rc;
        rc = wait_round(con, deadline_ns);
        if (rc < 0)
            return rc;
    }
}

/* ------------------------------------------------------------------------
 * Input.
 */

/*
 * Consume up to cap bytes of input into dst (private memory). The caller
 * holds the input guard. Returns the bytes taken, or -XF_EPROTO.
 */
static int in_take(struct xf_console *con, void *dst, size_t cap)
{
    unsigned char *d = dst;
    XENCONS_RING_IDX prod;
    uint32_t avail, before, n, idx, first;
    int st = XF_READ_ONCE(con->state);

    if (st < 0)
        return st;
    prod = XF_READ_ONCE(con->intf->in_prod);
    avail = prod - con->in_cons;
    before = con->in_prod_seen - con->in_cons;
    if (avail > XF_CONSOLE_IN_SIZE)
        return violation(con, (uint32_t)(con->in_cons - prod) <= XF_CONSOLE_IN_SIZE
                                  ? "in_prod behind in_cons" : "in_prod ran more than the ring ahead",
                         prod, con->in_cons, con->in_prod_seen);
    if (avail < before)
        return violation(con, "in_prod went backwards", prod, con->in_cons, con->in_prod_seen);
    con->in_prod_seen = prod;
    if (avail == 0 || cap == 0)
        return 0;
    /* The index before the bytes it publishes. */
    XF_RMB();
    n = cap < avail ? (uint32_t)cap : avail;
    idx = con->in_cons & (XF_CONSOLE_IN_SIZE - 1);
    first = XF_CONSOLE_IN_SIZE - idx;
    if (first > n)
        first = n;
    xf_copy_from_shared(d, &con->intf->in[idx], first);
    if (n > first)
        xf_copy_from_shared(d + first, &con->intf->in[0], n - first);
    /* Done reading the bytes before handing their space back. */
    XF_MB();
    con->in_cons += n;
    XF_WRITE_ONCE(con->intf->in_cons, con->in_cons);
    kick(con);
    return (int)n;
}

int xf_console_read(struct xf_console *con, void *buf, size_t cap)
{
    int rc;

    if (con == NULL || (buf == NULL && cap > 0) || con->input != NULL)
        return -XF_EINVAL;
    if (XF_READ_ONCE(con->in_busy))
        return -XF_EBUSY;
    XF_WRITE_ONCE(con->in_busy, 1);
    XF_BARRIER();
    rc = in_take(con, buf, cap);
    XF_BARRIER();
    XF_WRITE_ONCE(con->in_busy, 0);
    return rc;
}

/*
 * Deliver waiting input to the callback. A call that finds another in
 * progress (it interrupted it) leaves a note and returns -XF_EBUSY; the
 * interrupted call then looks again before it returns, so input whose
 * event arrived meanwhile is not left behind.
 */
static int deliver(struct xf_console *con)
{
    int total = 0, n;

    if (con->input == NULL)
        return XF_READ_ONCE(con->state);
    if (XF_READ_ONCE(con->in_busy)) {
        XF_WRITE_ONCE(con->in_again, 1);
        return -XF_EBUSY;
    }
    do {
        XF_WRITE_ONCE(con->in_busy, 1);
        XF_BARRIER();
        XF_WRITE_ONCE(con->in_again, 0);
        n = in_take(con, con->inbuf, sizeof(con->inbuf));
        if (n > 0) {
            con->input(con, con->inbuf, (size_t)n, con->input_arg);
            total += n;
        }
        XF_BARRIER();
        XF_WRITE_ONCE(con->in_busy, 0);
        XF_BARRIER();
        if (n < 0)
            return n;
        /* Anything written after our look at in_prod came with its own
         * event, which runs the handler again; only a note left by an
         * interrupting call needs another round here. */
    } while (XF_READ_ONCE(con->in_again));
    return total;
}

void xf_console__handler(struct xf_evtchn *ec, evtchn_port_t port, void *arg)
{
    struct xf_console *con = arg;

    (void)ec;
    (void)port;
    /* Input to the callback. Output needs nothing here: a writer waiting
     * for space was woken by this very event and re-reads out_cons. */
    (void)deliver(con);
}

int xf_console_poll(struct xf_console *con)
{
    int rc;

    if (con == NULL)
        return -XF_EINVAL;
    rc = XF_READ_ONCE(con->state);
    if (rc < 0)
        return rc;
    /* Clear before looking, so that an event arriving meanwhile stays. */
    (void)xf_evtchn_clear(con->ec, con->port);
    return deliver(con);
}

int xf_console_status(const struct xf_console *con)
{
    if (con == NULL)
        return -XF_EINVAL;
    return XF_READ_ONCE(con->state);
}

evtchn_port_t xf_console_port(const struct xf_console *con)
{
    return con == NULL ? 0 : con->port;
}
