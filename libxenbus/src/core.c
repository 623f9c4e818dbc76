/*
 * The transport-agnostic core: the context, request slots and req_id
 * matching, the send queue, and the receive state machine that frames the
 * server's byte stream into messages and validates each before it touches
 * any buffer.
 *
 * Trust: every byte from the server is hostile until checked. A header's
 * length is checked against XENSTORE_PAYLOAD_MAX before a single payload
 * byte is read (the payload is streamed straight into its destination, so
 * an unchecked length would overrun it); its req_id must name a request
 * that was fully sent and not yet answered, and its type must be that
 * request's or XS_ERROR. Anything else is a framing violation: after it the
 * stream cannot be re-synchronised, so the connection is marked broken and
 * every outstanding request fails with -XF_EPROTO. A reply is written only
 * into its own request's buffer, so nothing of one request is ever visible
 * through another.
 */
#include "private.h"

#define ALIGN16(x) (((x) + 15u) & ~(size_t)15u)

static uint32_t cfg_or(uint32_t v, uint32_t dflt)
{
    return v != 0 ? v : dflt;
}

uint64_t XB(deadline)(const struct xf_xenbus *xb, uint64_t deadline_ns)
{
    if (deadline_ns != 0)
        return deadline_ns;
    return xf_plat_now_ns() + (uint64_t)xb->cfg.timeout_ms * 1000000u;
}

/* ------------------------------------------------------------------------
 * Context.
 */
int xf_xenbus_create_transport(struct xf_xenbus **out, const struct xf_xenbus_config *cfg,
                               const struct xf_xenbus_transport_ops *ops, void *t)
{
    struct xf_xenbus_config c = { 0 };
    struct xf_xenbus *xb;
    size_t off, total, wmem;
    unsigned char *mem;

    if (out == NULL || ops == NULL || ops->send == NULL || ops->recv == NULL ||
        ops->status == NULL || ops->wait == NULL)
        goto inval;
    *out = NULL;
    if (cfg != NULL)
        c = *cfg;
    c.max_outstanding = cfg_or(c.max_outstanding, XB_DEF_SLOTS);
    c.max_watches = cfg_or(c.max_watches, XB_DEF_WATCHES);
    c.watch_queue_events = cfg_or(c.watch_queue_events, XB_DEF_QEVENTS);
    c.watch_queue_bytes = cfg_or(c.watch_queue_bytes, XB_DEF_QBYTES);
    c.timeout_ms = cfg_or(c.timeout_ms, XB_DEF_TIMEOUT_MS);
    if (c.max_outstanding > XB_MAX_SLOTS || c.max_watches > XB_MAX_WATCHES ||
        c.watch_queue_bytes > XB_MAX_QBYTES || c.watch_queue_bytes < 16)
        goto inval;

    /* One allocation, carved up: context, slots, send queue, watches, the
     * slots' buffers, the event buffer, the watches' paths and queues. */
    off = ALIGN16(sizeof(*xb));
    size_t o_slots = off;
    off += ALIGN16(c.max_outstanding * sizeof(struct xb_slot));
    size_t o_sendq = off;
    off += ALIGN16(c.max_outstanding);
    size_t o_watches = off;
    off += ALIGN16(c.max_watches * sizeof(struct xf_xenbus_watch));
    size_t o_bufs = off;
    off += (size_t)c.max_outstanding * ALIGN16(XB_BUF);
    size_t o_ev = off;
    off += ALIGN16(XB_BUF);
    size_t o_wmem = off;
    wmem = XB(watch_mem)(&c);
    total = off + wmem;

    size_t pages = (total + XF_PAGE_SIZE - 1) / XF_PAGE_SIZE;
    mem = xf_plat_page_alloc(pages);
    if (mem == NULL) {
        if (ops->close != NULL)
            ops->close(t);
        return -XF_ENOMEM;
    }
    memset(mem, 0, total);
    xb = (struct xf_xenbus *)(void *)mem;
    xb->ops = ops;
    xb->t = t;
    xb->cfg = c;
    xb->mem = mem;
    xb->mem_pages = pages;
    xb->slots = (struct xb_slot *)(void *)(mem + o_slots);
    xb->nslots = c.max_outstanding;
    xb->sendq = mem + o_sendq;
    xb->watches = (struct xf_xenbus_watch *)(void *)(mem + o_watches);
    xb->nwatches = c.max_watches;
    for (uint32_t i = 0; i < xb->nslots; i++)
        xb->slots[i].buf = (char *)(mem + o_bufs + i * ALIGN16(XB_BUF));
    xb->evbuf = (char *)(mem + o_ev);
    xb->rx_slot = -1;
    xb->id_gen = 1;
    XB(watch_init)(xb, mem + o_wmem);
    /* A transport that starts mid-reconnection (someone else asked for it)
     * is waited for like our own reset: requests queue meanwhile. */
    xb->reconnecting = ops->status(t) == XF_XENBUS_LINK_RECONNECTING;
    *out = xb;
    return 0;

inval:
    if (ops != NULL && ops->close != NULL)
        ops->close(t);
    return -XF_EINVAL;
}

void xf_xenbus_destroy(struct xf_xenbus *xb)
{
    if (xb == NULL)
        return;
    if (xb->error == 0)
        xb->error = -XF_ENOTCONN;
    XB(fail_all)(xb, -XF_ENOTCONN);
    if (xb->ops->close != NULL)
        xb->ops->close(xb->t);
    xf_plat_page_free(xb->mem, xb->mem_pages);
}

int xf_xenbus_status(const struct xf_xenbus *xb)
{
    int st;

    if (xb == NULL)
        return -XF_EINVAL;
    if (xb->error != 0)
        return xb->error;
    st = xb->ops->status(xb->t);
    if (st < 0)
        return st;
    if (st == XF_XENBUS_LINK_RECONNECTING || xb->reconnecting)
        return -XF_ENOTCONN;
    return 0;
}

/* ------------------------------------------------------------------------
 * Slots.
 */
static struct xb_slot *slot_by_id(const struct xf_xenbus *xb, uint32_t id)
{
    uint32_t idx = id & 0xffu;

    if (id == 0 || idx >= xb->nslots)
        return NULL;
    struct xb_slot *s = &xb->slots[idx];
    if (s->state == XB_SLOT_FREE || s->id != id)
        return NULL;
    return s;
}

static void slot_free(struct xb_slot *s)
{
    s->state = XB_SLOT_FREE;
    s->cancelled = false;
    s->done = NULL;
    s->arg = NULL;
    s->result = 0;
}

/* Record a result and run the callback (unless cancelled). */
static void slot_complete(struct xf_xenbus *xb, struct xb_slot *s, int result)
{
    if (s->cancelled) {
        slot_free(s);
        return;
    }
    s->result = result;
    s->state = XB_SLOT_DONE;
    if (s->done != NULL)
        s->done(xb, s->id, s->arg);
}

int XB(submit)(struct xf_xenbus *xb, uint32_t type, xf_xenbus_tx_t tx,
               const struct xf_xenbus_iov *iov, unsigned int niov,
               xf_xenbus_done_fn *done, void *arg, uint32_t *id)
{
    size_t plen = 0;
    struct xb_slot *s = NULL;
    uint32_t idx;

    if (xb == NULL || id == NULL || (niov != 0 && iov == NULL))
        return -XF_EINVAL;
    *id = 0;
    if (xb->error != 0)
        return xb->error;
    for (unsigned int i = 0; i < niov; i++) {
        if (iov[i].len != 0 && iov[i].base == NULL)
            return -XF_EINVAL;
        /* Refused locally: the server would drop the connection over it. */
        if (iov[i].len > XENSTORE_PAYLOAD_MAX || plen + iov[i].len > XENSTORE_PAYLOAD_MAX)
            return -XF_E2BIG;
        plen += iov[i].len;
    }
    for (idx = 0; idx < xb->nslots; idx++) {
        if (xb->slots[idx].state == XB_SLOT_FREE) {
            s = &xb->slots[idx];
            break;
        }
    }
    if (s == NULL)
        return -XF_EBUSY;

    /* The id's low byte is the slot index; the rest a generation, so a late
     * reply to an earlier user of the slot never matches the new request. */
    s->id = (xb->id_gen << 8) | idx;
    xb->id_gen = (xb->id_gen + 1) & 0xffffffu;
    if (xb->id_gen == 0)
        xb->id_gen = 1;
    s->type = type;
    s->cancelled = false;
    s->done = done;
    s->arg = arg;
    s->result = 0;
    struct xsd_sockmsg h = { .type = type, .req_id = s->id, .tx_id = tx, .len = (uint32_t)plen };
    memcpy(s->buf, &h, XB_HDR);
    size_t o = XB_HDR;
    for (unsigned int i = 0; i < niov; i++) {
        if (iov[i].len != 0)
            memcpy(s->buf + o, iov[i].base, iov[i].len);
        o += iov[i].len;
    }
    s->msg_len = (uint32_t)o;
    s->state = XB_SLOT_QUEUED;
    xb->sendq[(xb->sq_head + xb->sq_count) % xb->nslots] = (uint8_t)idx;
    xb->sq_count++;
    *id = s->id;
    xf_xenbus_process(xb);
    return 0;
}

int xf_xenbus_submit(struct xf_xenbus *xb, uint32_t type, xf_xenbus_tx_t tx,
                     const struct xf_xenbus_iov *iov, unsigned int niov,
                     xf_xenbus_done_fn *done, void *arg, uint32_t *id)
{
    /* Watch requests go through the watch functions (the watch table must
     * know about them); message types that are not requests are refused. */
    switch (type) {
    case XS_WATCH: case XS_UNWATCH: case XS_RESET_WATCHES:
    case XS_WATCH_EVENT: case XS_ERROR:
        return -XF_EINVAL;
    default:
        if (type >= XS_TYPE_COUNT)
            return -XF_EINVAL;
    }
    return XB(submit)(xb, type, tx, iov, niov, done, arg, id);
}

int xf_xenbus_req_done(const struct xf_xenbus *xb, uint32_t id)
{
    const struct xb_slot *s = xb != NULL ? slot_by_id(xb, id) : NULL;

    if (s == NULL || s->cancelled)
        return -XF_EINVAL;
    return s->state == XB_SLOT_DONE;
}

int xf_xenbus_req_reply(const struct xf_xenbus *xb, uint32_t id, const char **data,
                        uint32_t *len)
{
    const struct xb_slot *s = xb != NULL ? slot_by_id(xb, id) : NULL;

    if (s == NULL || s->cancelled)
        return -XF_EINVAL;
    if (s->state != XB_SLOT_DONE)
        return -XF_EBUSY;
    if (data != NULL)
        *data = s->result >= 0 ? s->buf : NULL;
    if (len != NULL)
        *len = s->result >= 0 ? (uint32_t)s->result : 0;
    return s->result;
}

int xf_xenbus_req_release(struct xf_xenbus *xb, uint32_t id)
{
    struct xb_slot *s = xb != NULL ? slot_by_id(xb, id) : NULL;

    if (s == NULL || s->cancelled)
        return -XF_EINVAL;
    if (s->state != XB_SLOT_DONE)
        return -XF_EBUSY;
    slot_free(s);
    return 0;
}

int xf_xenbus_req_cancel(struct xf_xenbus *xb, uint32_t id)
{
    struct xb_slot *s = xb != NULL ? slot_by_id(xb, id) : NULL;

    if (s == NULL || s->cancelled)
        return -XF_EINVAL;
    switch (s->state) {
    case XB_SLOT_DONE:
        slot_free(s);
        break;
    case XB_SLOT_SENT:
        /* Keep the slot until the reply comes, so that it is recognised
         * (and discarded) rather than taken for an unknown id. */
        s->cancelled = true;
        break;
    case XB_SLOT_QUEUED: {
        uint32_t idx = id & 0xffu;
        bool partly = xb->sq_count != 0 && xb->sendq[xb->sq_head] == idx && xb->tx_off != 0;
        if (partly) {
            /* Part of it is in the stream already: the rest must follow,
             * or the server would read the next request as its tail. */
            s->cancelled = true;
            break;
        }
        /* Not started: take it out of the queue. */
        uint32_t n = xb->sq_count, w = 0;
        for (uint32_t i = 0; i < n; i++) {
            uint8_t v = xb->sendq[(xb->sq_head + i) % xb->nslots];
            if (v != idx)
                xb->sendq[(xb->sq_head + w++) % xb->nslots] = v;
        }
        xb->sq_count = w;
        slot_free(s);
        break;
    }
    default:
        break;
    }
    return 0;
}

unsigned int xf_xenbus_outstanding(const struct xf_xenbus *xb)
{
    unsigned int n = 0;

    if (xb == NULL)
        return 0;
    for (uint32_t i = 0; i < xb->nslots; i++)
        n += xb->slots[i].state != XB_SLOT_FREE;
    return n;
}

/*
 * Fail every request in flight with err (broken link, reconnection,
 * destroy) and forget any partial message in either direction. Two passes:
 * state first, callbacks after, so that a callback submitting a new
 * request does not see it failed in the same sweep.
 */
void XB(fail_all)(struct xf_xenbus *xb, int err)
{
    bool notify[XB_MAX_SLOTS];

    xb->sq_count = 0;
    xb->sq_head = 0;
    xb->tx_off = 0;
    xb->rx_have = 0;
    xb->rx_off = 0;
    xb->rx_slot = -1;
    xb->rx_dst = NULL;
    for (uint32_t i = 0; i < xb->nslots; i++) {
        struct xb_slot *s = &xb->slots[i];
        notify[i] = false;
        if (s->state != XB_SLOT_QUEUED && s->state != XB_SLOT_SENT)
            continue;
        if (s->cancelled) {
            slot_free(s);
            continue;
        }
        s->result = err;
        s->state = XB_SLOT_DONE;
        notify[i] = s->done != NULL;
    }
    for (uint32_t i = 0; i < xb->nslots; i++) {
        struct xb_slot *s = &xb->slots[i];
        if (notify[i] && s->state == XB_SLOT_DONE && s->done != NULL)
            s->done(xb, s->id, s->arg);
    }
}

void XB(broken)(struct xf_xenbus *xb, int err)
{
    if (xb->error == 0) {
        xf_log(XF_LOG_WARN, "xenbus: connection broken (%d)", err);
        xb->error = err;
    }
    XB(fail_all)(xb, xb->error);
}

/* ------------------------------------------------------------------------
 * Moving bytes.
 */

/* Write queued requests, in order, as far as the transport takes them. */
static int pump_send(struct xf_xenbus *xb, bool *moved)
{
    while (xb->sq_count != 0 && xb->error == 0) {
        struct xb_slot *s = &xb->slots[xb->sendq[xb->sq_head]];
        long n = xb->ops->send(xb->t, s->buf + xb->tx_off, s->msg_len - xb->tx_off);
        if (n < 0)
            return (int)n;
        if (n == 0)
            break;
        if ((unsigned long)n > s->msg_len - xb->tx_off)
            return -XF_EIO;        /* a transport bug; never trust a count */
        *moved = true;
        xb->tx_off += (uint32_t)n;
        if (xb->tx_off == s->msg_len) {
            s->state = XB_SLOT_SENT;   /* from now on its buffer awaits the reply */
            xb->tx_off = 0;
            xb->sq_head = (xb->sq_head + 1) % xb->nslots;
            xb->sq_count--;
        }
    }
    return 0;
}

/*
 * A header is complete: decide where its payload goes, or refuse it.
 * Returns 0 or -XF_EPROTO.
 */
static int rx_header(struct xf_xenbus *xb)
{
    struct xsd_sockmsg *m = &xb->rx_msg;

    memcpy(m, xb->rx_hdr, sizeof(*m));
    xb->rx_off = 0;
    /* The length first: nothing of the payload is read before it is known
     * to fit every destination (XB_BUF holds the maximum plus a NUL). */
    if (m->len > XENSTORE_PAYLOAD_MAX) {
        xf_log(XF_LOG_WARN, "xenbus: message length %u over the limit", m->len);
        return -XF_EPROTO;
    }
    if (m->type == XS_WATCH_EVENT) {
        xb->rx_slot = -1;
        xb->rx_dst = xb->evbuf;
        return 0;
    }
    struct xb_slot *s = slot_by_id(xb, m->req_id);
    if (s == NULL || s->state != XB_SLOT_SENT) {
        xf_log(XF_LOG_WARN, "xenbus: reply to unknown req_id %u", m->req_id);
        return -XF_EPROTO;
    }
    if (m->type != s->type && m->type != XS_ERROR) {
        xf_log(XF_LOG_WARN, "xenbus: reply type %u to a request of type %u", m->type, s->type);
        return -XF_EPROTO;
    }
    xb->rx_slot = (int)(m->req_id & 0xffu);
    xb->rx_dst = s->buf;
    return 0;
}

/* A whole message is in: hand it over. */
static void rx_complete(struct xf_xenbus *xb)
{
    uint32_t len = xb->rx_msg.len;

    xb->rx_dst[len] = '\0';   /* a convenience terminator, never part of the data */
    if (xb->rx_slot < 0) {
        XB(watch_event)(xb, xb->evbuf, len);
        return;
    }
    struct xb_slot *s = &xb->slots[xb->rx_slot];
    xb->rx_slot = -1;
    int result = (int)len;
    if (xb->rx_msg.type == XS_ERROR) {
        /* An error string must be one NUL-terminated string. */
        if (len == 0 || s->buf[len - 1] != '\0' || XB(strnlen)(s->buf, len) != len - 1)
            result = -XF_EPROTO;
        else
            result = xf_xenbus_error_from_string(s->buf, len - 1);
    }
    slot_complete(xb, s, result);
}

static int pump_recv(struct xf_xenbus *xb, bool *moved)
{
    while (xb->error == 0) {
        if (xb->rx_have < XB_HDR) {
            long n = xb->ops->recv(xb->t, xb->rx_hdr + xb->rx_have, XB_HDR - xb->rx_have);
            if (n < 0)
                return (int)n;
            if ((unsigned long)n > XB_HDR - xb->rx_have)
                return -XF_EIO;
            if (n == 0)
                return 0;
            *moved = true;
            xb->rx_have += (uint32_t)n;
            if (xb->rx_have < XB_HDR)
                continue;
            int rc = rx_header(xb);
            if (rc < 0)
                return rc;
        }
        if (xb->rx_off < xb->rx_msg.len) {
            uint32_t want = xb->rx_msg.len - xb->rx_off;
            long n = xb->ops->recv(xb->t, xb->rx_dst + xb->rx_off, want);
            if (n < 0)
                return (int)n;
            if ((unsigned long)n > want)
                return -XF_EIO;
            if (n == 0)
                return 0;
            *moved = true;
            xb->rx_off += (uint32_t)n;
            if (xb->rx_off < xb->rx_msg.len)
                continue;
        }
        /* Ready for the next header before handing this one over: a
         * callback may re-enter (nested process just flags `again`). */
        xb->rx_have = 0;
        rx_complete(xb);
    }
    return 0;
}

static void process_once(struct xf_xenbus *xb)
{
    bool moved = false;
    int st, rc;

    if (xb->error != 0)
        return;
    st = xb->ops->status(xb->t);
    if (st < 0) {
        XB(broken)(xb, st);
        return;
    }
    if (st == XF_XENBUS_LINK_RECONNECTING)
        return;
    /* The server finished a reset: both streams are empty and it forgot
     * our watches; xf_xenbus_reconnect() marked them for registration. */
    xb->reconnecting = false;
    XB(watch_resubmit)(xb);
    rc = pump_send(xb, &moved);
    if (rc == 0)
        rc = pump_recv(xb, &moved);
    /* Callbacks run while receiving may have queued more requests. */
    if (rc == 0 && xb->sq_count != 0 && xb->error == 0)
        rc = pump_send(xb, &moved);
    if (moved && xb->ops->kick != NULL)
        xb->ops->kick(xb->t);
    if (rc < 0)
        XB(broken)(xb, rc);
}

int xf_xenbus_process(struct xf_xenbus *xb)
{
    if (xb == NULL)
        return -XF_EINVAL;
    /*
     * Reentrancy on one CPU: the event handler may interrupt a call that is
     * itself processing. The nested call only flags the work; the outer one
     * loops. The flag is re-checked after in_process is cleared, because an
     * interrupt between the last loop test and the clearing would otherwise
     * leave its work for the next event.
     */
    if (XF_READ_ONCE(xb->in_process)) {
        XF_WRITE_ONCE(xb->again, 1);
        return xb->error;
    }
    for (;;) {
        XF_WRITE_ONCE(xb->in_process, 1);
        XF_BARRIER();
        do {
            XF_WRITE_ONCE(xb->again, 0);
            XF_BARRIER();
            process_once(xb);
            XF_BARRIER();
        } while (XF_READ_ONCE(xb->again));
        XF_WRITE_ONCE(xb->in_process, 0);
        XF_BARRIER();
        if (!XF_READ_ONCE(xb->again))
            break;
    }
    return xb->error;
}

