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
 *
 * Liveness: one xf_xenbus_process() call takes at most cfg.process_budget
 * messages (and as many maximal messages' worth of bytes), however fast the
 * server produces them, and flags the rest (xb->more) for the next call; an
 * abandoned request gives its slot back at once and leaves only a small
 * tombstone by which its late reply is recognised; a reset the server made
 * on its own fails what was in flight with -XF_ECONNRESET and registers the
 * watches again.
 */
#include "private.h"

#define ALIGN16(x) (((x) + 15u) & ~(size_t)15u)

static uint32_t cfg_or(uint32_t v, uint32_t dflt)
{
    return v != 0 ? v : dflt;
}

uint64_t xf_xenbus__deadline(const struct xf_xenbus *xb, uint64_t deadline_ns)
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
    c.process_budget = cfg_or(c.process_budget, XB_DEF_BUDGET);
    if (c.max_outstanding > XB_MAX_SLOTS || c.max_watches > XB_MAX_WATCHES ||
        c.watch_queue_bytes > XB_MAX_QBYTES || c.watch_queue_bytes < 16 ||
        c.process_budget > XB_MAX_BUDGET)
        goto inval;

    /* One allocation, carved up: context, slots, send queue, watches, the
     * slots' buffers, the event buffer, the watches' paths and queues. */
    off = ALIGN16(sizeof(*xb));
    size_t o_slots = off;
    off += ALIGN16(c.max_outstanding * sizeof(struct xb_slot));
    size_t o_sendq = off;
    off += ALIGN16(c.max_outstanding);
    size_t o_tombs = off;
    off += ALIGN16(c.max_outstanding * XB_TOMBS_PER_SLOT * sizeof(struct xb_tomb));
    size_t o_watches = off;
    off += ALIGN16(c.max_watches * sizeof(struct xf_xenbus_watch));
    size_t o_bufs = off;
    off += (size_t)c.max_outstanding * ALIGN16(XB_BUF);
    size_t o_ev = off;
    off += ALIGN16(XB_BUF);
    size_t o_wmem = off;
    wmem = xf_xenbus__watch_mem(&c);
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
    xb->tombs = (struct xb_tomb *)(void *)(mem + o_tombs);
    xb->ntombs_max = c.max_outstanding * XB_TOMBS_PER_SLOT;
    xb->watches = (struct xf_xenbus_watch *)(void *)(mem + o_watches);
    xb->nwatches = c.max_watches;
    for (uint32_t i = 0; i < xb->nslots; i++)
        xb->slots[i].buf = (char *)(mem + o_bufs + i * ALIGN16(XB_BUF));
    xb->evbuf = (char *)(mem + o_ev);
    xb->rx_slot = XB_RX_EVENT;
    xb->id_gen = 1;
    xf_xenbus__watch_init(xb, mem + o_wmem);
    /* A transport that starts mid-reconnection (someone else asked for it,
     * as xenstore-ring.txt allows before the guest starts) is waited for
     * like our own reset: requests queue meanwhile. */
    xb->reconnecting = ops->status(t) == XF_XENBUS_LINK_RECONNECTING;
    xb->seen_resets = ops->resets != NULL ? ops->resets(t) : 0;
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
    xf_xenbus__fail_all(xb, -XF_ENOTCONN);
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
    if (st == XF_XENBUS_LINK_RECONNECTING || xb->reconnecting || xb->nreg_pending != 0)
        return -XF_ENOTCONN;
    /* A reset the transport saw and processing has not handled yet. */
    if (xb->ops->resets != NULL && xb->ops->resets(xb->t) != xb->seen_resets)
        return -XF_ENOTCONN;
    if (xb->silent_timeouts >= XB_DEAD_TIMEOUTS)
        return -XF_ETIMEDOUT;
    return 0;
}

unsigned long xf_xenbus_resets(const struct xf_xenbus *xb)
{
    return xb != NULL ? xb->resets : 0;
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

/* Remember an abandoned request that was sent (its reply may come). When
 * the table is full the oldest is forgotten: should its reply still come,
 * it is an unknown id, a protocol error, reported as such. */
static void tomb_add(struct xf_xenbus *xb, uint32_t id, uint32_t type)
{
    if (xb->ntombs == xb->ntombs_max) {
        xf_log(XF_LOG_WARN, "xenbus: too many unanswered requests; forgetting req_id %u",
               xb->tombs[xb->tomb_head].id);
        xb->tomb_head = (xb->tomb_head + 1) % xb->ntombs_max;
        xb->ntombs--;
    }
    struct xb_tomb *t = &xb->tombs[(xb->tomb_head + xb->ntombs) % xb->ntombs_max];
    t->id = id;
    t->type = type;
    xb->ntombs++;
}

/* Find and forget the tombstone of id: true (and its type) if there was one. */
static bool tomb_take(struct xf_xenbus *xb, uint32_t id, uint32_t *type)
{
    for (uint32_t i = 0; i < xb->ntombs; i++) {
        uint32_t at = (xb->tomb_head + i) % xb->ntombs_max;
        if (xb->tombs[at].id != id)
            continue;
        *type = xb->tombs[at].type;
        /* Close the gap: the younger ones move up by one. */
        for (uint32_t j = i + 1; j < xb->ntombs; j++) {
            uint32_t to = (xb->tomb_head + j - 1) % xb->ntombs_max;
            xb->tombs[to] = xb->tombs[(xb->tomb_head + j) % xb->ntombs_max];
        }
        xb->ntombs--;
        return true;
    }
    return false;
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

int xf_xenbus__submit(struct xf_xenbus *xb, uint32_t type, xf_xenbus_tx_t tx,
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
    return xf_xenbus__submit(xb, type, tx, iov, niov, done, arg, id);
}

/*
 * The request functions' own states have codes that no xenstored error
 * string maps to (see xenbus.h): -XF_ESRCH "no such request" and
 * -XF_ENODATA "no reply yet", so that a server answering EINVAL or EBUSY is
 * never taken for either.
 */
int xf_xenbus_req_done(const struct xf_xenbus *xb, uint32_t id)
{
    const struct xb_slot *s;

    if (xb == NULL)
        return -XF_EINVAL;
    s = slot_by_id(xb, id);
    if (s == NULL || s->cancelled)
        return -XF_ESRCH;
    return s->state == XB_SLOT_DONE;
}

int xf_xenbus_req_reply(const struct xf_xenbus *xb, uint32_t id, const char **data,
                        uint32_t *len)
{
    const struct xb_slot *s;

    if (xb == NULL)
        return -XF_EINVAL;
    s = slot_by_id(xb, id);
    if (s == NULL || s->cancelled)
        return -XF_ESRCH;
    if (s->state != XB_SLOT_DONE)
        return -XF_ENODATA;
    if (data != NULL)
        *data = s->result >= 0 ? s->buf : NULL;
    if (len != NULL)
        *len = s->result >= 0 ? (uint32_t)s->result : 0;
    return s->result;
}

int xf_xenbus_req_release(struct xf_xenbus *xb, uint32_t id)
{
    struct xb_slot *s;

    if (xb == NULL)
        return -XF_EINVAL;
    s = slot_by_id(xb, id);
    if (s == NULL || s->cancelled)
        return -XF_ESRCH;
    if (s->state != XB_SLOT_DONE)
        return -XF_ENODATA;
    slot_free(s);
    return 0;
}

int xf_xenbus_req_cancel(struct xf_xenbus *xb, uint32_t id)
{
    struct xb_slot *s;

    if (xb == NULL)
        return -XF_EINVAL;
    s = slot_by_id(xb, id);
    if (s == NULL || s->cancelled)
        return -XF_ESRCH;
    switch (s->state) {
    case XB_SLOT_DONE:
        slot_free(s);
        break;
    case XB_SLOT_SENT:
        /* The slot is free at once; a tombstone recognises (and drops) the
         * reply if it ever comes, rather than taking it for an unknown id.
         * A silent server thus never eats the slots one timeout at a time. */
        tomb_add(xb, s->id, s->type);
        slot_free(s);
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
    return n + xb->ntombs;
}

/*
 * Fail requests with err and forget any partial message in either
 * direction. keep_unsent: a reset, after which the link works again; a
 * request no byte of which went out never reached the server, so it stays
 * queued, in order, to go out after the reset. Otherwise (broken link,
 * destroy) every request fails. Two passes: state first, callbacks after,
 * so that a callback submitting a new request does not see it failed in
 * the same sweep.
 */
static void fail_requests(struct xf_xenbus *xb, int err, bool keep_unsent)
{
    bool notify[XB_MAX_SLOTS], kept[XB_MAX_SLOTS];
    uint8_t q[XB_MAX_SLOTS];
    uint32_t n = 0;

    for (uint32_t i = 0; i < xb->nslots; i++)
        kept[i] = false;
    for (uint32_t i = 0; keep_unsent && i < xb->sq_count; i++) {
        uint8_t idx = xb->sendq[(xb->sq_head + i) % xb->nslots];
        if (i == 0 && xb->tx_off != 0)
            continue;      /* partly sent: the server has seen some of it */
        kept[idx] = true;
        q[n++] = idx;
    }
    /* The kept ones from the front, in their order. */
    for (uint32_t i = 0; i < n; i++)
        xb->sendq[i] = q[i];
    xb->sq_count = n;
    xb->sq_head = 0;
    xb->tx_off = 0;
    xb->rx_have = 0;
    xb->rx_off = 0;
    xb->rx_slot = XB_RX_EVENT;
    xb->rx_dst = NULL;
    /* No late reply can come any more: the stream is reset or dead. */
    xb->ntombs = 0;
    xb->tomb_head = 0;
    for (uint32_t i = 0; i < xb->nslots; i++) {
        struct xb_slot *s = &xb->slots[i];
        notify[i] = false;
        if ((s->state != XB_SLOT_QUEUED && s->state != XB_SLOT_SENT) || kept[i])
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

void xf_xenbus__fail_all(struct xf_xenbus *xb, int err)
{
    fail_requests(xb, err, false);
}

void xf_xenbus__fail_inflight(struct xf_xenbus *xb, int err)
{
    fail_requests(xb, err, true);
}

void xf_xenbus__broken(struct xf_xenbus *xb, int err)
{
    if (xb->error == 0) {
        xf_log(XF_LOG_WARN, "xenbus: connection broken (%d)", err);
        xb->error = err;
    }
    xf_xenbus__fail_all(xb, xb->error);
}

void xf_xenbus__note_timeout(struct xf_xenbus *xb)
{
    if (xb->silent_timeouts < UINT32_MAX)
        xb->silent_timeouts++;
    if (xb->silent_timeouts == XB_DEAD_TIMEOUTS)
        xf_log(XF_LOG_WARN, "xenbus: no answer from the server for %u deadlines: link dead",
               XB_DEAD_TIMEOUTS);
}

/*
 * The server reset the connection without being asked (xenstore-ring.txt
 * lets only the guest start one): whatever was in flight is gone, with an
 * effect on the store we cannot know, partial messages are void, and the
 * server forgot our watches. Report it all rather than let requests wait
 * for replies that will never come.
 */
static void server_reset(struct xf_xenbus *xb)
{
    xf_log(XF_LOG_WARN, "xenbus: the server reset the connection on its own");
    xb->resets++;
    xf_xenbus__fail_inflight(xb, -XF_ECONNRESET);
    xf_xenbus__watch_lost_all(xb);
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
            if (s->cancelled) {
                /* Abandoned while partly sent: now whole, it needs no slot. */
                tomb_add(xb, s->id, s->type);
                slot_free(s);
            }
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
        xb->rx_slot = XB_RX_EVENT;
        xb->rx_dst = xb->evbuf;
        return 0;
    }
    struct xb_slot *s = slot_by_id(xb, m->req_id);
    if (s == NULL || s->state != XB_SLOT_SENT) {
        uint32_t type;
        if (tomb_take(xb, m->req_id, &type)) {
            /* The late reply to an abandoned request: read and dropped. */
            if (m->type != type && m->type != XS_ERROR) {
                xf_log(XF_LOG_WARN, "xenbus: reply type %u to a request of type %u",
                       m->type, type);
                return -XF_EPROTO;
            }
            xb->rx_slot = XB_RX_DISCARD;
            xb->rx_dst = xb->evbuf;
            return 0;
        }
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
    if (xb->rx_slot == XB_RX_DISCARD) {
        xb->rx_slot = XB_RX_EVENT;
        return;
    }
    if (xb->rx_slot < 0) {
        xf_xenbus__watch_event(xb, xb->evbuf, len);
        return;
    }
    struct xb_slot *s = &xb->slots[xb->rx_slot];
    xb->rx_slot = XB_RX_EVENT;
    int result = (int)len;
    if (xb->rx_msg.type == XS_ERROR) {
        /* An error string must be one NUL-terminated string. */
        if (len == 0 || s->buf[len - 1] != '\0' || xf_xenbus__strnlen(s->buf, len) != len - 1)
            result = -XF_EPROTO;
        else
            result = xf_xenbus_error_from_string(s->buf, len - 1);
    }
    slot_complete(xb, s, result);
}

/* What one xf_xenbus_process() call may still take from the server. */
struct budget {
    uint32_t msgs;
    uint32_t bytes;
    uint32_t passes;    /* a server that only signals costs passes */
};

static bool budget_left(const struct budget *b)
{
    return b->msgs != 0 && b->bytes != 0 && b->passes != 0;
}

static void budget_take(struct budget *b, uint32_t n)
{
    b->bytes = n < b->bytes ? b->bytes - n : 0;
}

static int pump_recv(struct xf_xenbus *xb, bool *moved, struct budget *b)
{
    /* Bounded however fast the server refills the stream: a server that
     * never lets it run dry must not keep this loop (and the handler or
     * helper around it) from returning. */
    while (xb->error == 0 && budget_left(b)) {
        if (xb->rx_have < XB_HDR) {
            long n = xb->ops->recv(xb->t, xb->rx_hdr + xb->rx_have, XB_HDR - xb->rx_have);
            if (n < 0)
                return (int)n;
            if ((unsigned long)n > XB_HDR - xb->rx_have)
                return -XF_EIO;
            if (n == 0)
                return 0;
            *moved = true;
            xb->silent_timeouts = 0;     /* the server is alive */
            budget_take(b, (uint32_t)n);
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
            xb->silent_timeouts = 0;
            budget_take(b, (uint32_t)n);
            xb->rx_off += (uint32_t)n;
            if (xb->rx_off < xb->rx_msg.len)
                continue;
        }
        /* Ready for the next header before handing this one over: a
         * callback may re-enter (nested process just flags `again`). */
        xb->rx_have = 0;
        b->msgs--;
        rx_complete(xb);
    }
    return 0;
}

/* Has the transport seen a reset we have not handled? Handle it. */
static void check_resets(struct xf_xenbus *xb)
{
    unsigned long n;

    if (xb->ops->resets == NULL)
        return;
    n = xb->ops->resets(xb->t);
    if (n == xb->seen_resets)
        return;
    xb->seen_resets = n;
    /* During our own reconnection everything is failed already. */
    if (!xb->reconnecting)
        server_reset(xb);
}

/* One pass; true if the transport has news (a reset) worth another pass. */
static bool process_once(struct xf_xenbus *xb, struct budget *b)
{
    bool moved = false;
    int st, rc;

    if (xb->error != 0)
        return false;
    st = xb->ops->status(xb->t);
    if (st < 0) {
        xf_xenbus__broken(xb, st);
        return false;
    }
    check_resets(xb);
    if (st == XF_XENBUS_LINK_RECONNECTING)
        return false;
    /* The server finished a reset: both streams are empty and it forgot
     * our watches; they are marked for registration. */
    xb->reconnecting = false;
    xf_xenbus__watch_resubmit(xb);
    rc = pump_send(xb, &moved);
    if (rc == 0)
        rc = pump_recv(xb, &moved, b);
    /* Callbacks run while receiving may have queued more requests. */
    if (rc == 0 && xb->sq_count != 0 && xb->error == 0)
        rc = pump_send(xb, &moved);
    if (moved && xb->ops->kick != NULL)
        xb->ops->kick(xb->t);
    if (rc < 0) {
        xf_xenbus__broken(xb, rc);
        return false;
    }
    /* A reset under way stops the streams (0 bytes), so it is seen only
     * now: handle it in this call rather than wait for another event. */
    return xb->ops->resets != NULL && xb->ops->resets(xb->t) != xb->seen_resets;
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
    /*
     * One budget for the whole call, nested requests included: a server
     * that signals again as fast as it is served would otherwise keep the
     * `again` loop going. What is left is flagged in xb->more; the ring's
     * handler raises its event again for it, helpers do not block on it.
     */
    struct budget b = {
        xb->cfg.process_budget,
        xb->cfg.process_budget * (XB_HDR + XENSTORE_PAYLOAD_MAX),
        xb->cfg.process_budget + 2,
    };
    xb->more = false;
    for (;;) {
        XF_WRITE_ONCE(xb->in_process, 1);
        XF_BARRIER();
        bool rerun;
        do {
            XF_WRITE_ONCE(xb->again, 0);
            XF_BARRIER();
            rerun = process_once(xb, &b);
            b.passes--;
            XF_BARRIER();
        } while ((XF_READ_ONCE(xb->again) || rerun) && budget_left(&b));
        XF_WRITE_ONCE(xb->in_process, 0);
        XF_BARRIER();
        if ((!XF_READ_ONCE(xb->again) && !rerun) || !budget_left(&b))
            break;
    }
    if (!budget_left(&b) && xb->error == 0)
        xb->more = true;
    return xb->error;
}

