/*
 * Transactions: start, end, and the helper that runs a body again while
 * xenstored answers EAGAIN (another writer committed in between), a
 * bounded number of times.
 */
#include "private.h"

#define DEF_ATTEMPTS 16u

int xf_xenbus_transaction_start(struct xf_xenbus *xb, xf_xenbus_tx_t *tx,
                                uint64_t deadline_ns)
{
    static const char nul[1] = { '\0' };
    struct xf_xenbus_iov iov[1] = { { nul, 1 } };
    const char *data;
    uint32_t id;
    uint64_t v;
    int rc;

    if (xb == NULL || tx == NULL)
        return -XF_EINVAL;
    *tx = XF_XENBUS_TX_NONE;
    rc = xf_xenbus__call(xb, XS_TRANSACTION_START, XF_XENBUS_TX_NONE, iov, 1, deadline_ns, &data,
                         &id);
    if (rc < 0)
        return rc;
    /* "<id>\0": a terminated decimal, nonzero, 32 bits (it goes back in
     * the tx_id field of every request of the transaction). */
    size_t sl = xf_xenbus__strnlen(data, (uint32_t)rc);
    if (sl + 1 != (size_t)rc || xf_xenbus__parse_uint(data, sl, UINT32_MAX, &v) < 0 || v == 0) {
        rc = -XF_EPROTO;
    }
    else {
        *tx = (xf_xenbus_tx_t)v;
        rc = 0;
    }
    xf_xenbus_req_release(xb, id);
    return rc;
}

int xf_xenbus_transaction_end(struct xf_xenbus *xb, xf_xenbus_tx_t tx, bool commit,
                              uint64_t deadline_ns)
{
    static const char t[2] = "T", f[2] = "F";
    struct xf_xenbus_iov iov[1] = { { commit ? t : f, 2 } };

    if (xb == NULL || tx == XF_XENBUS_TX_NONE)
        return -XF_EINVAL;
    return xf_xenbus__call0(xb, XS_TRANSACTION_END, tx, iov, 1, deadline_ns);
}

int xf_xenbus_transaction_run(struct xf_xenbus *xb, xf_xenbus_tx_body_fn *body, void *arg,
                              unsigned int max_attempts, uint64_t deadline_ns)
{
    if (xb == NULL || body == NULL)
        return -XF_EINVAL;
    if (max_attempts == 0)
        max_attempts = DEF_ATTEMPTS;
    deadline_ns = xf_xenbus__deadline(xb, deadline_ns);
    for (unsigned int i = 0; i < max_attempts; i++) {
        xf_xenbus_tx_t tx;
        int rc = xf_xenbus_transaction_start(xb, &tx, deadline_ns);
        if (rc < 0)
            return rc;
        rc = body(xb, tx, arg);
        if (rc == 0) {
            /* After a commit answered EAGAIN the transaction is already
             * gone in xenstored: just start a new one. */
            rc = xf_xenbus_transaction_end(xb, tx, true, deadline_ns);
            if (rc != -XF_EAGAIN)
                return rc;
            continue;
        }
        /* Abort; its answer does not matter (the body's error does). */
        (void)xf_xenbus_transaction_end(xb, tx, false, deadline_ns);
        if (rc != -XF_EAGAIN)
            return rc;
    }
    return -XF_EAGAIN;
}
