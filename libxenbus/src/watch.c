/*
 * Watches: the table of registered watches, routing of XS_WATCH_EVENT by
 * token, and each watch's bounded event queue.
 *
 * A watch is entered in the table before XS_WATCH is sent, because xenstored
 * fires an initial event at once and may deliver it (or any event) before
 * its reply to the WATCH: the event must find its watch.
 *
 * The queue is a ring of bytes holding records [len: 2 bytes][path bytes],
 * bounded both in records and in bytes, so that a server firing events
 * faster than they are read cannot grow memory. When a record does not fit,
 * it is dropped and the queue's tail becomes an overflow marker; every event
 * that arrives while the marker is still queued is dropped into it too (it
 * stands for all of them). Events before the marker keep their order; the
 * marker says where the loss happened; the reader re-reads its subtree.
 *
 * A registration's identity. Events are routed by token, and a removed
 * watch's events may still be in the stream when a new watch takes its
 * token, so: a removed watch stays DRAINING, owning its token, until its
 * UNWATCH reply arrives (the server answers in order, so every event of the
 * old registration comes before that reply) and events for a DRAINING token
 * are dropped; an event whose path is not the watched path or below it
 * (which is all xenstored and oxenstored fire) is not this registration's
 * and is dropped too. While XS_WATCH is in flight the watch queues events
 * but its callback waits: should the server refuse the watch, it is freed
 * without a callback ever having seen it.
 */
#include "private.h"

#define ALIGN16(x) (((x) + 15u) & ~(size_t)15u)
#define PATH_BUF (XENSTORE_ABS_PATH_MAX + 1u)

size_t xf_xenbus__watch_mem(const struct xf_xenbus_config *cfg)
{
    return (size_t)cfg->max_watches * (ALIGN16(PATH_BUF) + ALIGN16(cfg->watch_queue_bytes));
}

void xf_xenbus__watch_init(struct xf_xenbus *xb, unsigned char *mem)
{
    size_t per = ALIGN16(PATH_BUF) + ALIGN16(xb->cfg.watch_queue_bytes);

    for (uint32_t i = 0; i < xb->nwatches; i++) {
        struct xf_xenbus_watch *w = &xb->watches[i];
        w->xb = xb;
        w->path = (char *)(mem + i * per);
        w->q = mem + i * per + ALIGN16(PATH_BUF);
    }
}

static void q_reset(struct xf_xenbus_watch *w)
{
    w->qhead = 0;
    w->qused = 0;
    w->qcount = 0;
    w->overflow = false;
}

/* Copy in/out of the byte ring, wrapping at the end. */
static void q_put(struct xf_xenbus_watch *w, uint32_t at, const void *src, uint32_t n)
{
    uint32_t cap = w->xb->cfg.watch_queue_bytes;
    uint32_t first = cap - at < n ? cap - at : n;

    memcpy(w->q + at, src, first);
    memcpy(w->q, (const unsigned char *)src + first, n - first);
}

static void q_get(const struct xf_xenbus_watch *w, uint32_t at, void *dst, uint32_t n)
{
    uint32_t cap = w->xb->cfg.watch_queue_bytes;
    uint32_t first = cap - at < n ? cap - at : n;

    memcpy(dst, w->q + at, first);
    memcpy((unsigned char *)dst + first, w->q, n - first);
}

static void enqueue(struct xf_xenbus *xb, struct xf_xenbus_watch *w, const char *path,
                    uint32_t len)
{
    uint32_t cap = xb->cfg.watch_queue_bytes;
    bool was_empty = w->qcount == 0 && !w->overflow;

    if (w->overflow || w->qcount >= xb->cfg.watch_queue_events || 2u + len > cap - w->qused) {
        if (!w->overflow)
            xf_log(XF_LOG_WARN, "xenbus: watch %s: queue full, events dropped", w->token);
        w->overflow = true;
    } else {
        uint8_t hdr[2] = { (uint8_t)(len & 0xff), (uint8_t)(len >> 8) };
        uint32_t tail = (w->qhead + w->qused) % cap;
        q_put(w, tail, hdr, 2);
        q_put(w, (tail + 2) % cap, path, len);
        w->qused += 2u + len;
        w->qcount++;
    }
    if (was_empty && w->cb != NULL && !w->registering)
        w->cb(xb, w, w->arg);
}

/* Events were lost (a reset): the overflow marker says so. */
static void mark_lost(struct xf_xenbus *xb, struct xf_xenbus_watch *w)
{
    bool was_empty = w->qcount == 0 && !w->overflow;

    w->overflow = true;
    if (was_empty && w->cb != NULL && !w->registering)
        w->cb(xb, w, w->arg);
}

/* Is path the watched path or below it? (w's path is as registered, so a
 * relative watch is compared with the relative paths its events carry.) */
static bool path_under(const struct xf_xenbus_watch *w, const char *path, uint32_t len)
{
    uint32_t wl = w->path_len;

    if (len < wl || memcmp(path, w->path, wl) != 0)
        return false;
    return len == wl || path[wl] == '/' || (wl != 0 && w->path[wl - 1] == '/');
}

void xf_xenbus__watch_event(struct xf_xenbus *xb, const char *payload, uint32_t len)
{
    /* "<path>\0<token>\0": both strings must be terminated inside the
     * payload (its length was checked against the buffer already). */
    uint32_t plen = (uint32_t)xf_xenbus__strnlen(payload, len);
    if (plen == len || plen == 0) {
        xf_log(XF_LOG_WARN, "xenbus: malformed watch event");
        xf_xenbus__broken(xb, -XF_EPROTO);
        return;
    }
    const char *token = payload + plen + 1;
    uint32_t rest = len - plen - 1;
    uint32_t tlen = (uint32_t)xf_xenbus__strnlen(token, rest);
    if (tlen == rest) {
        xf_log(XF_LOG_WARN, "xenbus: malformed watch event");
        xf_xenbus__broken(xb, -XF_EPROTO);
        return;
    }
    struct xf_xenbus_watch *to = NULL;
    for (uint32_t i = 0; i < xb->nwatches; i++) {
        struct xf_xenbus_watch *w = &xb->watches[i];
        if (w->state == XB_WATCH_FREE || w->token_len != tlen ||
            memcmp(w->token, token, tlen) != 0)
            continue;
        if (w->state == XB_WATCH_DRAINING) {
            /* The removed registration's, whoever has the token now. */
            xf_log(XF_LOG_DEBUG, "xenbus: event for a removed watch dropped");
            return;
        }
        to = w;
    }
    if (to == NULL) {
        /* Not ours (any more): an event already on its way when we unwatched. */
        xf_log(XF_LOG_DEBUG, "xenbus: event for an unknown token dropped");
        return;
    }
    if (!path_under(to, payload, plen)) {
        xf_log(XF_LOG_DEBUG, "xenbus: event outside watch %s dropped", to->token);
        return;
    }
    enqueue(xb, to, payload, plen);
}

static bool watch_valid(const struct xf_xenbus *xb, const struct xf_xenbus_watch *w)
{
    if (xb == NULL || w == NULL || w < xb->watches || w >= xb->watches + xb->nwatches)
        return false;
    if ((size_t)((const char *)w - (const char *)xb->watches) % sizeof(*w) != 0)
        return false;
    return w->state == XB_WATCH_ACTIVE;
}

static void watch_free(struct xf_xenbus *xb, struct xf_xenbus_watch *w)
{
    if (w->reg_id != 0)
        xf_xenbus_req_cancel(xb, w->reg_id);
    if (w->needs_reg && xb->nreg_pending > 0)
        xb->nreg_pending--;
    w->needs_reg = false;
    w->registering = false;
    w->reg_id = 0;
    w->unwatch_id = 0;
    w->state = XB_WATCH_FREE;
    w->cb = NULL;
    w->arg = NULL;
    w->token_len = 0;
    w->path_len = 0;
    q_reset(w);
}

static void watch_iov(const struct xf_xenbus_watch *w, struct xf_xenbus_iov iov[2])
{
    iov[0] = (struct xf_xenbus_iov){ w->path, w->path_len + 1u };
    iov[1] = (struct xf_xenbus_iov){ w->token, w->token_len + 1u };
}

int xf_xenbus_watch_add(struct xf_xenbus *xb, const char *path, const char *token,
                        xf_xenbus_watch_fn *cb, void *arg, struct xf_xenbus_watch **out,
                        uint64_t deadline_ns)
{
    struct xf_xenbus_watch *w = NULL;
    struct xf_xenbus_iov iov[2];
    size_t plen, tlen;
    int rc;

    if (xb == NULL || out == NULL || token == NULL || xf_xenbus__path_ok(path) < 0)
        return -XF_EINVAL;
    *out = NULL;
    plen = strlen(path);
    tlen = xf_xenbus__strnlen(token, XF_XENBUS_TOKEN_MAX + 1);
    if (tlen == 0 || tlen > XF_XENBUS_TOKEN_MAX)
        return -XF_EINVAL;
    for (uint32_t i = 0; i < xb->nwatches; i++) {
        struct xf_xenbus_watch *v = &xb->watches[i];
        if (v->state == XB_WATCH_FREE) {
            if (w == NULL)
                w = v;
        } else if (v->state == XB_WATCH_ACTIVE && v->token_len == tlen &&
                   memcmp(v->token, token, tlen) == 0) {
            return -XF_EEXIST;   /* events are routed by token alone */
        }
    }
    if (w == NULL)
        return -XF_EBUSY;
    q_reset(w);
    memcpy(w->path, path, plen + 1);
    w->path_len = (uint32_t)plen;
    memcpy(w->token, token, tlen);
    w->token[tlen] = '\0';
    w->token_len = (uint32_t)tlen;
    w->cb = cb;
    w->arg = arg;
    w->needs_reg = false;
    w->registering = true;
    w->reg_id = 0;
    w->unwatch_id = 0;
    w->state = XB_WATCH_ACTIVE;    /* before the request: see the top */
    watch_iov(w, iov);
    rc = xf_xenbus__call0(xb, XS_WATCH, XF_XENBUS_TX_NONE, iov, 2, deadline_ns);
    if (rc < 0) {
        watch_free(xb, w);
        return rc;
    }
    w->registering = false;
    *out = w;
    /* Events that came with the registration (the initial one at least):
     * the callback learns of them now that the watch is sure to exist. */
    if (cb != NULL && (w->qcount != 0 || w->overflow))
        cb(xb, w, arg);
    return 0;
}

/* The UNWATCH reply of a DRAINING watch: every event of the old
 * registration has been read; the token is free. */
static void unwatch_done(struct xf_xenbus *xb, uint32_t id, void *arg)
{
    struct xf_xenbus_watch *w = arg;
    int rc = xf_xenbus_req_reply(xb, id, NULL, NULL);

    xf_xenbus_req_release(xb, id);
    if (w->state != XB_WATCH_DRAINING || w->unwatch_id != id)
        return;
    watch_free(xb, w);
    w->unwatch_rc = rc < 0 ? rc : 0;
}

/* Forget the watch for the caller and send UNWATCH; the slot drains until
 * the reply (or is freed now if nothing could be sent). Returns the submit
 * error, 0 if sent. */
static int start_unwatch(struct xf_xenbus *xb, struct xf_xenbus_watch *w)
{
    struct xf_xenbus_iov iov[2];
    int rc;

    if (w->reg_id != 0)
        xf_xenbus_req_cancel(xb, w->reg_id);
    w->reg_id = 0;
    if (w->needs_reg && xb->nreg_pending > 0)
        xb->nreg_pending--;
    w->needs_reg = false;
    w->cb = NULL;
    w->arg = NULL;
    q_reset(w);
    w->unwatch_rc = 0;
    watch_iov(w, iov);
    /* Draining, with its request's id, before submitting: submit
     * processes, and the reply may come (and free the slot) at once. The
     * payload is copied at submit, so the slot may change after. */
    w->state = XB_WATCH_DRAINING;
    rc = xf_xenbus__submit(xb, XS_UNWATCH, XF_XENBUS_TX_NONE, iov, 2, unwatch_done, w,
                           &w->unwatch_id);
    if (rc < 0) {
        watch_free(xb, w);
        return rc;
    }
    return 0;
}

static int drained_cond(struct xf_xenbus *xb, void *arg)
{
    const struct xf_xenbus_watch *w = arg;

    (void)xb;
    return w->state != XB_WATCH_DRAINING;
}

int xf_xenbus_watch_remove(struct xf_xenbus *xb, struct xf_xenbus_watch *w,
                           uint64_t deadline_ns)
{
    int rc;

    if (!watch_valid(xb, w))
        return -XF_EINVAL;
    deadline_ns = xf_xenbus__deadline(xb, deadline_ns);
    rc = start_unwatch(xb, w);
    if (rc < 0)
        return rc;
    /* Without waiting past the deadline: a silent server leaves the slot
     * draining (its token reserved) until the reply or a reset. */
    rc = xf_xenbus__wait_until(xb, drained_cond, w, deadline_ns);
    if (rc < 0)
        return rc;
    return w->unwatch_rc;
}

int xf_xenbus_watch_next(struct xf_xenbus *xb, struct xf_xenbus_watch *w, char *buf,
                         size_t cap, size_t *len, unsigned int *flags)
{
    if (!watch_valid(xb, w) || (buf == NULL && cap != 0))
        return -XF_EINVAL;
    if (w->qcount != 0) {
        uint8_t hdr[2];
        q_get(w, w->qhead, hdr, 2);
        uint32_t n = (uint32_t)hdr[0] | ((uint32_t)hdr[1] << 8);
        if (len != NULL)
            *len = n;
        if (cap < (size_t)n + 1)
            return -XF_ENOBUFS;
        uint32_t qcap = xb->cfg.watch_queue_bytes;
        q_get(w, (w->qhead + 2) % qcap, buf, n);
        buf[n] = '\0';
        w->qhead = (w->qhead + 2 + n) % qcap;
        w->qused -= 2 + n;
        w->qcount--;
        if (flags != NULL)
            *flags = 0;
        return 1;
    }
    if (w->overflow) {
        if (len != NULL)
            *len = w->path_len;
        if (cap < (size_t)w->path_len + 1)
            return -XF_ENOBUFS;
        memcpy(buf, w->path, w->path_len + 1);
        w->overflow = false;
        w->qhead = 0;
        if (flags != NULL)
            *flags = XF_XENBUS_EV_OVERFLOW;
        return 1;
    }
    return 0;
}

struct wait_arg {
    struct xf_xenbus_watch *w;
};

static int watch_cond(struct xf_xenbus *xb, void *arg)
{
    const struct xf_xenbus_watch *w = ((struct wait_arg *)arg)->w;

    if (!watch_valid(xb, w))
        return -XF_EINVAL;
    if (w->qcount != 0 || w->overflow)
        return 1;
    return xb->error;
}

int xf_xenbus_watch_wait(struct xf_xenbus *xb, struct xf_xenbus_watch *w, char *buf,
                         size_t cap, size_t *len, unsigned int *flags,
                         uint64_t deadline_ns)
{
    struct wait_arg a = { w };
    int rc;

    if (!watch_valid(xb, w))
        return -XF_EINVAL;
    rc = xf_xenbus__wait_until(xb, watch_cond, &a, xf_xenbus__deadline(xb, deadline_ns));
    if (rc < 0)
        return rc;
    return xf_xenbus_watch_next(xb, w, buf, cap, len, flags);
}

unsigned int xf_xenbus_watch_pending(const struct xf_xenbus_watch *w)
{
    if (w == NULL || w->state != XB_WATCH_ACTIVE)
        return 0;
    return w->qcount + (w->overflow ? 1u : 0u);
}

unsigned int xf_xenbus_watch_count(const struct xf_xenbus *xb)
{
    unsigned int n = 0;

    if (xb == NULL)
        return 0;
    for (uint32_t i = 0; i < xb->nwatches; i++)
        n += xb->watches[i].state == XB_WATCH_ACTIVE;
    return n;
}

/* ------------------------------------------------------------------------
 * Registering again after a reconnection (the server forgot every watch).
 */
void xf_xenbus__watch_mark_all(struct xf_xenbus *xb)
{
    xb->nreg_pending = 0;
    for (uint32_t i = 0; i < xb->nwatches; i++) {
        struct xf_xenbus_watch *w = &xb->watches[i];
        w->reg_id = 0;
        /* One being added fails with its own WATCH request instead. */
        w->needs_reg = w->state == XB_WATCH_ACTIVE && !w->registering;
        xb->nreg_pending += w->needs_reg;
    }
}

void xf_xenbus__watch_lost_all(struct xf_xenbus *xb)
{
    for (uint32_t i = 0; i < xb->nwatches; i++) {
        struct xf_xenbus_watch *w = &xb->watches[i];
        if (w->state == XB_WATCH_ACTIVE && !w->registering)
            mark_lost(xb, w);
    }
    xf_xenbus__watch_mark_all(xb);
}

static void reg_done(struct xf_xenbus *xb, uint32_t id, void *arg)
{
    struct xf_xenbus_watch *w = arg;
    int rc = xf_xenbus_req_reply(xb, id, NULL, NULL);

    xf_xenbus_req_release(xb, id);
    if (w->reg_id != id)
        return;
    w->reg_id = 0;
    if (rc < 0) {
        /* Not watched by the server any more: events will be missing. */
        xf_log(XF_LOG_WARN, "xenbus: watch %s not registered again (%d)", w->token, rc);
        if (w->state == XB_WATCH_ACTIVE)
            mark_lost(xb, w);
    }
    if (w->needs_reg) {
        w->needs_reg = false;
        xb->nreg_pending--;
    }
}

/* Called from processing: submit what can be submitted (slots permitting;
 * the rest in a later pass). */
void xf_xenbus__watch_resubmit(struct xf_xenbus *xb)
{
    if (xb->nreg_pending == 0)
        return;
    for (uint32_t i = 0; i < xb->nwatches; i++) {
        struct xf_xenbus_watch *w = &xb->watches[i];
        struct xf_xenbus_iov iov[2];
        if (w->state != XB_WATCH_ACTIVE || !w->needs_reg || w->reg_id != 0)
            continue;
        watch_iov(w, iov);
        if (xf_xenbus__submit(xb, XS_WATCH, XF_XENBUS_TX_NONE, iov, 2, reg_done, w,
                              &w->reg_id) < 0) {
            w->reg_id = 0;
            break;
        }
    }
}

/* ------------------------------------------------------------------------
 * For the library's own short-lived watches (device.c).
 */
void xf_xenbus__watch_drain(struct xf_xenbus_watch *w)
{
    q_reset(w);
}

int xf_xenbus__watch_wait_any(struct xf_xenbus *xb, struct xf_xenbus_watch *w, uint64_t deadline_ns)
{
    struct wait_arg a = { w };

    return xf_xenbus__wait_until(xb, watch_cond, &a, deadline_ns);
}

/* Forget the watch now and send UNWATCH without waiting for its answer
 * (the slot drains until the reply comes, or fails). Used on paths that
 * must not wait again, e.g. after a deadline passed. */
void xf_xenbus__watch_remove_async(struct xf_xenbus *xb, struct xf_xenbus_watch *w)
{
    if (!watch_valid(xb, w))
        return;
    (void)start_unwatch(xb, w);
}
