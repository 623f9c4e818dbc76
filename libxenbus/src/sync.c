/*
 * Synchronous helpers' waiting: process what the transport has, test the
 * condition, and block through the transport (xf_plat_wait() for the ring,
 * poll(2) for a socket) until the deadline. Works whether the kernel takes
 * upcalls (the event handler processes, this loop finds the work done) or
 * polls (this loop processes): processing is reentrancy-guarded, so the
 * two never interleave on one CPU. A wait ends at the deadline with
 * -XF_ETIMEDOUT, whatever the server does: the clock is read on every
 * round, also when the condition holds at once, so that a helper looping
 * over steps that each succeed at once (a store that answers instantly, a
 * backend that keeps rewriting its state) still stops at its deadline.
 */
#include "private.h"

/* ------------------------------------------------------------------------
 * Waiting.
 */
int xf_xenbus__wait_until(struct xf_xenbus *xb, int (*cond)(struct xf_xenbus *, void *), void *arg,
                          uint64_t deadline_ns)
{
    for (;;) {
        xf_xenbus_process(xb);
        int r = cond(xb, arg);
        if (r < 0)
            return r;
        if (xf_plat_now_ns() >= deadline_ns)
            return -XF_ETIMEDOUT;
        if (r > 0)
            return 0;
        /* Processing stopped at its budget: go on at once, do not wait for
         * an event that already came. */
        if (!xb->more)
            xb->ops->wait(xb->t, deadline_ns, xb->sq_count != 0);
    }
}

static int req_done_cond(struct xf_xenbus *xb, void *arg)
{
    return xf_xenbus_req_done(xb, *(const uint32_t *)arg);
}

int xf_xenbus_req_wait(struct xf_xenbus *xb, uint32_t id, uint64_t deadline_ns)
{
    int rc;

    if (xb == NULL)
        return -XF_EINVAL;
    rc = xf_xenbus_req_done(xb, id);
    if (rc < 0)
        return rc;
    rc = xf_xenbus__wait_until(xb, req_done_cond, &id, xf_xenbus__deadline(xb, deadline_ns));
    if (rc == -XF_ETIMEDOUT && xf_xenbus_req_done(xb, id) == 0)
        xf_xenbus__note_timeout(xb);
    return rc;
}

int xf_xenbus__call(struct xf_xenbus *xb, uint32_t type, xf_xenbus_tx_t tx,
                    const struct xf_xenbus_iov *iov, unsigned int niov, uint64_t deadline_ns,
                    const char **data, uint32_t *id)
{
    uint32_t len;
    int rc;

    deadline_ns = xf_xenbus__deadline(xb, deadline_ns);
    /* Nothing is started past the deadline: a helper of many steps stops
     * here however quickly each step went. */
    if (xf_plat_now_ns() >= deadline_ns)
        return -XF_ETIMEDOUT;
    rc = xf_xenbus__submit(xb, type, tx, iov, niov, NULL, NULL, id);
    if (rc < 0)
        return rc;
    rc = xf_xenbus__wait_until(xb, req_done_cond, id, deadline_ns);
    if (rc < 0) {
        if (rc == -XF_ETIMEDOUT && xf_xenbus_req_done(xb, *id) == 0)
            xf_xenbus__note_timeout(xb);
        xf_xenbus_req_cancel(xb, *id);
        return rc;
    }
    rc = xf_xenbus_req_reply(xb, *id, data, &len);
    if (rc < 0)
        xf_xenbus_req_release(xb, *id);
    return rc;
}

int xf_xenbus__call0(struct xf_xenbus *xb, uint32_t type, xf_xenbus_tx_t tx,
                     const struct xf_xenbus_iov *iov, unsigned int niov, uint64_t deadline_ns)
{
    const char *data;
    uint32_t id;
    int rc = xf_xenbus__call(xb, type, tx, iov, niov, deadline_ns, &data, &id);

    if (rc < 0)
        return rc;
    xf_xenbus_req_release(xb, id);
    return 0;
}

/* ------------------------------------------------------------------------
 * Reconnection.
 */
/* Nothing queued, nothing awaiting a reply, not inside a message. */
static int quiet_cond(struct xf_xenbus *xb, void *arg)
{
    (void)arg;
    if (xb->error != 0)
        return xb->error;
    /* rx_have is the header bytes taken: non-zero from a message's first
     * byte until its payload is complete. */
    if (xb->sq_count != 0 || xb->rx_have != 0 || xb->ntombs != 0)
        return 0;
    for (uint32_t i = 0; i < xb->nslots; i++)
        if (xb->slots[i].state == XB_SLOT_QUEUED || xb->slots[i].state == XB_SLOT_SENT)
            return 0;
    return 1;
}

int xf_xenbus_quiesce(struct xf_xenbus *xb, uint64_t deadline_ns)
{
    if (xb == NULL)
        return -XF_EINVAL;
    return xf_xenbus__wait_until(xb, quiet_cond, NULL, xf_xenbus__deadline(xb, deadline_ns));
}

static int link_up_cond(struct xf_xenbus *xb, void *arg)
{
    (void)arg;
    if (xb->error != 0)
        return xb->error;
    /* Up, and every watch registered again (replies received). */
    return !xb->reconnecting && xb->nreg_pending == 0;
}

int xf_xenbus_reconnect(struct xf_xenbus *xb, uint64_t deadline_ns)
{
    int rc;

    if (xb == NULL)
        return -XF_EINVAL;
    deadline_ns = xf_xenbus__deadline(xb, deadline_ns);
    if (xb->ops->reset == NULL)
        return -XF_EOPNOTSUPP;
    /* Set first: an event handler running in between must not take our
     * own reset for one the server started. */
    bool was = xb->reconnecting;
    xb->reconnecting = true;
    rc = xb->ops->reset(xb->t);
    if (rc < 0) {
        xb->reconnecting = was;
        return rc;
    }
    /* What was in flight is lost with the server's state: its effect is
     * unknown to us, so it fails with -XF_ECONNRESET rather than being
     * resent. */
    xb->error = 0;
    xf_xenbus__fail_inflight(xb, -XF_ECONNRESET);
    xf_xenbus__watch_mark_all(xb);
    if (xb->ops->resets != NULL)
        xb->seen_resets = xb->ops->resets(xb->t);
    rc = xf_xenbus__wait_until(xb, link_up_cond, NULL, deadline_ns);
    if (rc == 0)
        xb->silent_timeouts = 0;    /* the server answered: alive again */
    return rc;
}
