/*
 * blkfront's device side: negotiation, the reconnect state machine,
 * resize, and the public entry points. See <xenfront/blkfront.h>.
 */
#include "private.h"

#define MS_NS 1000000ull
/* Of an open's time, kept for the close handshake after a failure (at most
 * an eighth of it). */
#define BF_OPEN_CLOSE_NS (250 * MS_NS)

/* ------------------------------------------------------------------------
 * Rings.
 */
static void rings_down(struct xf_blkfront *bf)
{
    for (uint32_t i = 0; i < XF_BLKFRONT_MAX_QUEUES; i++) {
        struct bf_queue *q = &bf->q[i];

        if (q->port != 0) {
            xf_frontdev_evtchn_free(&bf->fd, q->port);
            q->port = 0;
        }
        if (q->fring.granted)
            (void)xf_frontdev_ring_teardown(&bf->fd, &q->fring);
        memset(&q->ring, 0, sizeof(q->ring));
        q->nr_ents = 0;
    }
}

/* Under the critical section: keep what is unacknowledged, drop tables. */
static void tables_down(struct xf_blkfront *bf, bool keep, struct xf_blkfront_io **done)
{
    xf_irqflags_t fl = xf_plat_irq_save();

    if (keep)
        xf_blkfront__save_inflight(bf, done);
    for (uint32_t i = 0; i < XF_BLKFRONT_MAX_QUEUES; i++) {
        xf_blkfront__queue_release(bf, &bf->q[i]);
        bf->q[i].up = false;
    }
    if (bf->nq)
        bf->nq_last = bf->nq;
    bf->nq = 0;
    bf->info.connected = false;
    xf_plat_irq_restore(fl);
}

static uint32_t log2_floor(uint32_t v)
{
    uint32_t r = 0;

    while (v > 1) {
        v >>= 1;
        r++;
    }
    return r;
}

struct pub_arg {
    struct xf_blkfront *bf;
};

static int rm_key(struct xf_frontdev *fd, xf_xenbus_tx_t tx, const char *key, int index,
                  uint64_t deadline_ns)
{
    char path[XF_XENBUS_PATH_MAX + 1];
    int rc = xf_frontdev_path(path, sizeof(path), fd->dev.nodename, key, index);

    if (rc < 0)
        return rc;
    rc = xf_xenbus_rm(fd->xb, tx, path, deadline_ns);
    return rc == -XF_ENOENT ? 0 : rc;
}

static int publish_body(struct xf_frontdev *fd, xf_xenbus_tx_t tx, void *argp, uint64_t deadline_ns)
{
    struct xf_blkfront *bf = ((struct pub_arg *)argp)->bf;
    int rc;

    /* Keys of an earlier connection with another shape must not linger:
     * blkback would read a stale queue count or order. */
    rc = rm_key(fd, tx, "multi-queue-num-queues", -1, deadline_ns);
    for (int i = 0; rc == 0 && i < (int)XF_BLKFRONT_MAX_QUEUES; i++)
        rc = rm_key(fd, tx, "queue-", i, deadline_ns);
    if (rc == 0)
        rc = rm_key(fd, tx, "ring-ref", -1, deadline_ns);
    for (int i = 0; rc == 0 && i < (int)XF_FRONTDEV_MAX_RING_PAGES; i++)
        rc = rm_key(fd, tx, "ring-ref", i, deadline_ns);
    if (rc == 0)
        rc = rm_key(fd, tx, "ring-page-order", -1, deadline_ns);
    if (rc == 0)
        rc = rm_key(fd, tx, "event-channel", -1, deadline_ns);
    if (rc < 0)
        return rc;
    for (uint32_t i = 0; i < bf->nq; i++) {
        char sub[16];
        const char *dir = NULL;

        if (bf->nq > 1) {
            rc = xf_frontdev_path(sub, sizeof(sub), NULL, "queue-", (int)i);
            if (rc < 0)
                return rc;
            dir = sub;
        }
        rc = xf_frontdev_write_ring(fd, tx, dir, "ring-ref", &bf->q[i].fring, deadline_ns);
        if (rc == 0)
            rc = xf_frontdev_write_uint(fd, tx, dir, "event-channel", bf->q[i].port, deadline_ns);
        if (rc < 0)
            return rc;
    }
    if (bf->nq > 1) {
        rc = xf_frontdev_write_uint(fd, tx, NULL, "multi-queue-num-queues", bf->nq, deadline_ns);
        /* blkback reads the order from the top directory. */
        if (rc == 0 && bf->order > 0)
            rc = xf_frontdev_write_uint(fd, tx, NULL, "ring-page-order", bf->order, deadline_ns);
        if (rc < 0)
            return rc;
    }
    rc = xf_frontdev_write_str(fd, tx, NULL, "protocol", XEN_IO_PROTO_ABI_NATIVE, deadline_ns);
    if (rc == 0)
        rc = xf_frontdev_write_uint(fd, tx, NULL, "feature-persistent",
                                    bf->cfg.no_persistent ? 0 : 1, deadline_ns);
    return rc;
}

/* The back end is at InitWait: rings to its offer, published. */
static int setup_and_publish(struct xf_blkfront *bf, uint64_t deadline_ns)
{
    uint64_t v;
    uint32_t order, nq;
    struct pub_arg pa = { bf };
    int rc;

    /* K16: garbage or absurd offers clamp to what we support. */
    (void)xf_frontdev_read_uint(&bf->fd, "max-ring-page-order", UINT32_MAX, 0, &v, deadline_ns);
    order = log2_floor(bf->cfg.max_ring_pages);
    if (v < order)
        order = (uint32_t)v;
    (void)xf_frontdev_read_uint(&bf->fd, "multi-queue-max-queues", UINT32_MAX, 1, &v, deadline_ns);
    nq = bf->cfg.max_queues;
    if (v < nq)
        nq = (uint32_t)v;
    if (nq == 0)
        nq = 1;
    bf->order = order;
    for (uint32_t i = 0; i < nq; i++) {
        struct bf_queue *q = &bf->q[i];

        rc = xf_frontdev_ring_setup(&bf->fd, &q->fring, order);
        if (rc == 0)
            rc = xf_front_ring_init(&q->ring, q->fring.sring, q->fring.bytes,
                                    XF_RING_SHAPE(blkif));
        if (rc == 0)
            rc = xf_frontdev_evtchn_alloc(&bf->fd, xf_blkfront__event, q, &q->port);
        if (rc < 0)
            goto fail;
        q->nr_ents = xf_front_ring_size(&q->ring);
        bf->nq = i + 1;
    }
    rc = xf_frontdev_publish(&bf->fd, publish_body, &pa, deadline_ns);
    if (rc == 0)
        rc = xf_frontdev_switch(&bf->fd, XenbusStateInitialised, deadline_ns);
    if (rc < 0)
        goto fail;
    bf->phase = BF_PUBLISHED;
    return 1;
fail:
    rings_down(bf);
    bf->nq = 0;
    return rc;
}

static bool pow2(uint64_t v)
{
    return v != 0 && (v & (v - 1)) == 0;
}

/* The back end is Connected: read and check its features (K15-K18). */
static int read_features(struct xf_blkfront *bf, struct xf_blkfront_info *in, uint64_t deadline_ns)
{
    uint64_t sectors, ssize, pss, info, v;
    bool f;
    int rc;

    rc = xf_frontdev_read_uint(&bf->fd, "sectors", UINT64_MAX >> 9, UINT64_MAX, &sectors,
                               deadline_ns);
    if (rc < 0 && rc != -XF_EINVAL)
        return rc;
    if (rc < 0 || sectors == UINT64_MAX) {
        xf_log(XF_LOG_WARN, "blkfront: %s: sectors missing or invalid", bf->fd.dev.nodename);
        return -XF_ENODEV;
    }
    rc = xf_frontdev_read_uint(&bf->fd, "sector-size", UINT32_MAX, 0, &ssize, deadline_ns);
    if (rc < 0 && rc != -XF_EINVAL)
        return rc;
    if (rc < 0 || !pow2(ssize) || ssize < 512 || ssize > XF_PAGE_SIZE) {
        xf_log(XF_LOG_WARN, "blkfront: %s: sector-size missing or invalid", bf->fd.dev.nodename);
        return -XF_ENODEV;
    }
    rc = xf_frontdev_read_uint(&bf->fd, "info", UINT32_MAX, UINT64_MAX, &info, deadline_ns);
    if (rc < 0 && rc != -XF_EINVAL)
        return rc;
    if (rc < 0 || info == UINT64_MAX) {
        xf_log(XF_LOG_WARN, "blkfront: %s: info missing or invalid", bf->fd.dev.nodename);
        return -XF_ENODEV;
    }
    /* Optional: a bad physical size is only a hint lost. */
    rc = xf_frontdev_read_uint(&bf->fd, "physical-sector-size", UINT32_MAX, ssize, &pss,
                               deadline_ns);
    if ((rc < 0 && rc != -XF_EINVAL) )
        return rc;
    if (!pow2(pss) || pss < ssize || pss > (1u << 20))
        pss = ssize;
    memset(in, 0, sizeof(*in));
    in->sectors = sectors;
    in->sector_size = (uint32_t)ssize;
    in->physical_sector_size = (uint32_t)pss;
    in->vdisk_info = (uint32_t)info;
    in->read_only = (info & VDISK_READONLY) != 0;
    if ((rc = xf_frontdev_read_feature(&bf->fd, "feature-flush-cache", &f, deadline_ns)) < 0 &&
        rc != -XF_EINVAL)
        return rc;
    in->flush = f;
    if ((rc = xf_frontdev_read_feature(&bf->fd, "feature-barrier", &f, deadline_ns)) < 0 &&
        rc != -XF_EINVAL)
        return rc;
    in->barrier = f;
    if ((rc = xf_frontdev_read_feature(&bf->fd, "feature-discard", &f, deadline_ns)) < 0 &&
        rc != -XF_EINVAL)
        return rc;
    in->discard = f;
    if (in->discard) {
        if ((rc = xf_frontdev_read_feature(&bf->fd, "discard-secure", &f, deadline_ns)) < 0 &&
            rc != -XF_EINVAL)
            return rc;
        in->discard_secure = f;
        rc = xf_frontdev_read_uint(&bf->fd, "discard-granularity", UINT32_MAX, 0, &v, deadline_ns);
        if (rc < 0 && rc != -XF_EINVAL)
            return rc;
        in->discard_granularity = pow2(v) && v >= ssize ? (uint32_t)v : (uint32_t)ssize;
        rc = xf_frontdev_read_uint(&bf->fd, "discard-alignment", UINT32_MAX, 0, &v, deadline_ns);
        if (rc < 0 && rc != -XF_EINVAL)
            return rc;
        in->discard_alignment = v < in->discard_granularity && v % 512 == 0 ? (uint32_t)v : 0;
    }
    if ((rc = xf_frontdev_read_feature(&bf->fd, "feature-persistent", &f, deadline_ns)) < 0 &&
        rc != -XF_EINVAL)
        return rc;
    in->persistent = f && !bf->cfg.no_persistent;
    rc = xf_frontdev_read_uint(&bf->fd, "feature-max-indirect-segments", UINT32_MAX, 0, &v,
                               deadline_ns);
    if (rc < 0 && rc != -XF_EINVAL)
        return rc;
    if (v > bf->cfg.max_segments)
        v = bf->cfg.max_segments;
    in->max_segments = v > BLKIF_MAX_SEGMENTS_PER_REQUEST ? (uint32_t)v
                                                          : BLKIF_MAX_SEGMENTS_PER_REQUEST;
    return 0;
}

static void fifo_merge(struct bf_queue *dst, struct bf_queue *src)
{
    if (src->head == NULL)
        return;
    for (struct xf_blkfront_io *io = src->head; io != NULL; io = io->priv.next)
        io->priv.q = (uint16_t)dst->index;
    if (dst->tail != NULL)
        dst->tail->priv.next = src->head;
    else
        dst->head = src->head;
    dst->tail = src->tail;
    src->head = src->tail = NULL;
}

static int go_connected(struct xf_blkfront *bf, uint64_t deadline_ns)
{
    struct xf_blkfront_info in;
    struct xf_blkfront_io *done = NULL;
    xf_irqflags_t fl;
    uint32_t pool = bf->cfg.pool_pages;
    int rc;

    rc = read_features(bf, &in, deadline_ns);
    if (rc < 0)
        return rc;
    /* A request never needs more pages than the pool holds. */
    if (pool != 0 && in.max_segments + 1 > pool)
        in.max_segments = pool - 1 > BLKIF_MAX_SEGMENTS_PER_REQUEST ? pool - 1
                                                                     : BLKIF_MAX_SEGMENTS_PER_REQUEST;
    in.ring_order = bf->order;
    in.nr_queues = bf->nq;
    in.ring_entries = bf->q[0].nr_ents;
    in.connects = bf->info.connects + 1;
    in.connected = true;
    fl = xf_plat_irq_save();
    bf->info = in;
    bf->max_segs = in.max_segments;
    xf_plat_irq_restore(fl);
    for (uint32_t i = 0; i < bf->nq; i++) {
        rc = xf_blkfront__queue_tables(bf, &bf->q[i]);
        if (rc < 0) {
            tables_down(bf, false, &done);
            return rc;
        }
    }
    rc = xf_frontdev_switch(&bf->fd, XenbusStateConnected, deadline_ns);
    if (rc < 0) {
        tables_down(bf, false, &done);
        return rc;
    }
    fl = xf_plat_irq_save();
    for (uint32_t i = bf->nq; i < XF_BLKFRONT_MAX_QUEUES; i++)
        fifo_merge(&bf->q[i % bf->nq], &bf->q[i]);
    for (uint32_t i = 0; i < bf->nq; i++)
        bf->q[i].up = true;
    bf->phase = BF_CONNECTED;
    bf->expired = false;
    bf->away_since = 0;
    bf->nq_last = bf->nq;
    xf_blkfront__kick(bf, &done);
    xf_plat_irq_restore(fl);
    xf_blkfront__run_done(bf, done);
    xf_log(XF_LOG_INFO, "blkfront: %s connected: %llu sectors, %u queue(s), order %u, %u segments%s",
           bf->fd.dev.nodename, (unsigned long long)in.sectors, bf->nq, bf->order,
           bf->max_segs, in.persistent ? ", persistent" : "");
    return 1;
}

/*
 * Linux's blkback unmaps our rings and persistent grants only once we are
 * Closed (its frontend_changed() calls xen_blkif_disconnect() on our
 * Closed; our Closing is only echoed). So before a teardown: Closing, then
 * Closed, each waited for until the deadline (xf_xenbus_dev_close(), or its
 * second half when the back end is Closing already). Otherwise every pool
 * page is still mapped when we end access to it, and more pages are
 * deferred than libgnttab's deferred list holds (they leak).
 */
static int close_handshake(struct xf_blkfront *bf, uint64_t deadline_ns)
{
    return xf_xenbus_dev_close(bf->fd.xb, &bf->fd.dev, deadline_ns);
}

/* The back end left (or broke): keep what is unacknowledged, go Closed. */
static int go_away(struct xf_blkfront *bf, bool keep, uint64_t deadline_ns)
{
    struct xf_blkfront_io *done = NULL;

    if (bf->fd.backend_state == XenbusStateClosing) {
        uint64_t soon = xf_plat_now_ns() + 2000 * MS_NS;

        (void)xf_xenbus_dev_closed(bf->fd.xb, &bf->fd.dev,
                                   soon < deadline_ns ? soon : deadline_ns);
    }
    tables_down(bf, keep, &done);
    rings_down(bf);
    if (bf->away_since == 0)
        bf->away_since = xf_plat_now_ns() | 1;   /* 0 means "not away" */
    bf->phase = BF_AWAY;
    xf_blkfront__run_done(bf, done);
    return xf_frontdev_switch(&bf->fd, XenbusStateClosed, deadline_ns);
}

static int reread_sectors(struct xf_blkfront *bf, uint64_t deadline_ns)
{
    uint64_t sectors;
    int rc = xf_frontdev_read_uint(&bf->fd, "sectors", UINT64_MAX >> 9, UINT64_MAX, &sectors,
                                   deadline_ns);

    if (rc == -XF_EINVAL || (rc == 0 && sectors == UINT64_MAX)) {
        xf_log(XF_LOG_WARN, "blkfront: %s: new sectors invalid; size kept", bf->fd.dev.nodename);
        return 0;
    }
    if (rc < 0)
        return rc;
    if (sectors != bf->info.sectors) {
        xf_log(XF_LOG_INFO, "blkfront: %s resized to %llu sectors", bf->fd.dev.nodename,
               (unsigned long long)sectors);
        XF_WRITE_ONCE(bf->info.sectors, sectors);
        return 1;
    }
    return 0;
}

static int service_once(struct xf_blkfront *bf, uint64_t deadline_ns);

int xf_blkfront_service(struct xf_blkfront *bf, uint64_t deadline_ns)
{
    int rc;

    if (bf == NULL)
        return -XF_EINVAL;
    rc = service_once(bf, deadline_ns);
    /* Progress may enable the next step without the back end changing
     * anything (it was already where we now wait for it): ask for another
     * call. */
    bf->again = rc > 0;
    return rc;
}

static int service_once(struct xf_blkfront *bf, uint64_t deadline_ns)
{
    struct xf_blkfront_io *done = NULL;
    xf_irqflags_t fl;
    XenbusState st;
    bool resized;
    int rc, progress = 0;

    if (bf == NULL)
        return -XF_EINVAL;
    if (bf->phase == BF_CLOSED)
        return -XF_ENOTCONN;
    if (bf->broken) {
        if (!bf->broken_reported) {
            bf->broken_reported = true;
            tables_down(bf, false, &done);
            rings_down(bf);
            xf_blkfront__run_done(bf, done);
            (void)xf_frontdev_fatal(&bf->fd, bf->broken, "blkfront: back end broke the protocol",
                                    deadline_ns);
        }
        return -XF_EIO;
    }
    fl = xf_plat_irq_save();
    xf_blkfront__check_expiry(bf, &done);
    xf_plat_irq_restore(fl);
    xf_blkfront__run_done(bf, done);

    resized = XF_READ_ONCE(bf->sectors_changed);
    XF_WRITE_ONCE(bf->sectors_changed, false);
    rc = xf_frontdev_service(&bf->fd, bf->first_service, deadline_ns);
    if (rc < 0) {
        if (resized)
            XF_WRITE_ONCE(bf->sectors_changed, true);
        return rc;
    }
    bf->first_service = false;
    st = bf->fd.backend_state;
    switch (bf->phase) {
    case BF_CONNECTED:
        if (st == XenbusStateConnected) {
            if (rc == 1 || resized)
                progress = reread_sectors(bf, deadline_ns);
            return progress;
        }
        if (st == XenbusStateClosing || st == XenbusStateClosed ||
            st == XenbusStateInitWait || st == XenbusStateInitialising) {
            xf_log(XF_LOG_INFO, "blkfront: %s: back end left (state %d); holding I/O",
                   bf->fd.dev.nodename, (int)st);
            rc = go_away(bf, true, deadline_ns);
            return rc < 0 ? rc : 1;
        }
        return 0;                        /* Unknown or garbage: ignored */
    case BF_PUBLISHED:
        if (st == XenbusStateConnected) {
            rc = go_connected(bf, deadline_ns);
            if (rc == -XF_ENODEV) {
                /* Refused (K15, K18): say so, and wait for it to retry.
                 * The rings stay until it has let go of them. */
                bf->phase = BF_REFUSED;
                bf->refusals++;
                if (bf->away_since == 0)
                    bf->away_since = xf_plat_now_ns() | 1;
                (void)xf_frontdev_fatal(&bf->fd, rc, "blkfront: back end features refused",
                                        deadline_ns);
            }
            return rc;
        }
        if (st == XenbusStateClosing || st == XenbusStateClosed) {
            rc = go_away(bf, true, deadline_ns);
            return rc < 0 ? rc : 1;
        }
        return 0;
    case BF_REFUSED:
        if (st == XenbusStateClosing || st == XenbusStateClosed || st == XenbusStateInitWait) {
            rc = go_away(bf, true, deadline_ns);
            return rc < 0 ? rc : 1;
        }
        return 0;
    case BF_AWAY:
        if (st == XenbusStateClosed || st == XenbusStateInitWait ||
            st == XenbusStateInitialising) {
            /* Tell it we are coming back (blkback: "prepare for reconnect"). */
            rc = xf_frontdev_switch(&bf->fd, XenbusStateInitialising, deadline_ns);
            if (rc < 0)
                return rc;
            bf->phase = BF_INIT;
            progress = 1;
        } else {
            return 0;
        }
        __attribute__((fallthrough));
    case BF_INIT:
        if (st == XenbusStateInitWait) {
            rc = setup_and_publish(bf, deadline_ns);
            return rc < 0 ? rc : 1;
        }
        return progress;
    case BF_CLOSED:
        break;
    }
    return 0;
}

bool xf_blkfront_needs_service(const struct xf_blkfront *bf)
{
    if (bf == NULL || bf->phase == BF_CLOSED)
        return false;
    if (bf->broken)                      /* once reported, nothing is left to do */
        return !bf->broken_reported;
    return bf->again || xf_frontdev_changed(&bf->fd) || XF_READ_ONCE(bf->sectors_changed) ||
           (bf->phase != BF_CONNECTED && bf->away_since != 0 && !bf->expired &&
            bf->pending != 0);
}

/* ------------------------------------------------------------------------
 * Open and close.
 */
static void on_sectors(struct xf_xenbus *xb, struct xf_xenbus_watch *w, void *arg)
{
    struct xf_blkfront *bf = arg;

    while (xf_xenbus_watch_next(xb, w, bf->evbuf, sizeof(bf->evbuf), NULL, NULL) != 0)
        ;                                /* -XF_ENOBUFS cannot be: the path is ours */
    XF_WRITE_ONCE(bf->sectors_changed, true);
}

static void free_ctx(struct xf_blkfront *bf)
{
    if (bf->redo != NULL)
        xf_plat_page_free(bf->redo, (BF_MAX_REDO * sizeof(struct bf_redo) + XF_PAGE_SIZE - 1) /
                                    XF_PAGE_SIZE);
    xf_plat_page_free(bf, bf->ctx_pages);
}

static void unwatch(struct xf_blkfront *bf, uint64_t deadline_ns)
{
    if (bf->sectors_watch != NULL) {
        (void)xf_xenbus_watch_remove(bf->fd.xb, bf->sectors_watch, deadline_ns);
        bf->sectors_watch = NULL;
    }
}

int xf_blkfront_open(struct xf_blkfront **out, struct xf_xenbus *xb, struct xf_evtchn *ec,
                     struct xf_gnttab *gt, const char *id, const struct xf_blkfront_config *cfg,
                     uint64_t deadline_ns)
{
    struct xf_blkfront_config c = { 0 };
    struct xf_blkfront *bf;
    size_t pages = (sizeof(*bf) + XF_PAGE_SIZE - 1) / XF_PAGE_SIZE;
    char path[XF_XENBUS_PATH_MAX + 1];
    uint64_t connect_by;
    int rc;

    if (out == NULL || xb == NULL || ec == NULL || gt == NULL || id == NULL)
        return -XF_EINVAL;
    if (cfg != NULL)
        c = *cfg;
    if (c.max_queues == 0)
        c.max_queues = XF_BLKFRONT_MAX_QUEUES;
    if (c.max_ring_pages == 0)
        c.max_ring_pages = 1u << XF_BLKFRONT_MAX_RING_ORDER;
    if (c.max_segments == 0)
        c.max_segments = XF_BLKFRONT_MAX_SEGMENTS;
    if (c.reconnect_timeout_ns == 0)
        c.reconnect_timeout_ns = BF_DEFAULT_RECONNECT_NS;
    if (c.max_queues > XF_BLKFRONT_MAX_QUEUES || !pow2(c.max_ring_pages) ||
        c.max_ring_pages > (1u << XF_BLKFRONT_MAX_RING_ORDER) ||
        c.max_segments > XF_BLKFRONT_MAX_SEGMENTS || c.pool_pages > BF_POOL_MAX ||
        (c.pool_pages != 0 && c.pool_pages < BLKIF_MAX_SEGMENTS_PER_REQUEST + 1))
        return -XF_EINVAL;
    bf = xf_plat_page_alloc(pages);
    if (bf == NULL)
        return -XF_ENOMEM;
    memset(bf, 0, sizeof(*bf));
    bf->ctx_pages = pages;
    bf->cfg = c;
    bf->redo = xf_plat_page_alloc((BF_MAX_REDO * sizeof(struct bf_redo) + XF_PAGE_SIZE - 1) /
                                  XF_PAGE_SIZE);
    if (bf->redo == NULL) {
        free_ctx(bf);
        return -XF_ENOMEM;
    }
    for (uint32_t i = 0; i < XF_BLKFRONT_MAX_QUEUES; i++) {
        bf->q[i].bf = bf;
        bf->q[i].index = i;
        bf->q[i].free_head = BF_NONE;
    }
    rc = xf_frontdev_open(&bf->fd, xb, ec, gt, "vbd", id, NULL, NULL, deadline_ns);
    if (rc < 0) {
        free_ctx(bf);
        return rc;
    }
    rc = xf_frontdev_path(path, sizeof(path), bf->fd.dev.backend, "sectors", -1);
    if (rc >= 0)
        rc = xf_frontdev_path(bf->sectors_token, sizeof(bf->sectors_token), NULL,
                              "blkfront-sectors-", (int)(((uintptr_t)bf >> 12) & 0x7fffffff));
    if (rc >= 0)
        rc = xf_xenbus_watch_add(xb, path, bf->sectors_token, on_sectors, bf, &bf->sectors_watch,
                                 deadline_ns);
    if (rc < 0)
        goto fail;
    bf->phase = BF_INIT;
    bf->first_service = true;
    {
        /* Keep the end of the time for telling a back end that mapped our
         * rings but never connected that we are going (see fail). */
        uint64_t now = xf_plat_now_ns();
        uint64_t span = deadline_ns > now ? deadline_ns - now : 0;
        uint64_t keep = span / 8 < BF_OPEN_CLOSE_NS ? span / 8 : BF_OPEN_CLOSE_NS;

        connect_by = deadline_ns - keep;
    }
    while (bf->phase != BF_CONNECTED) {
        rc = xf_blkfront_service(bf, connect_by);
        if (rc < 0 && rc != -XF_EAGAIN && rc != -XF_ETIMEDOUT && rc != -XF_ENODEV)
            goto fail;
        if (bf->phase == BF_CONNECTED)
            break;
        if (bf->refusals > 0 && bf->phase == BF_AWAY) {
            /* Refused, and the back end has let go of our rings. */
            rc = -XF_ENODEV;
            goto fail;
        }
        if (xf_plat_now_ns() >= connect_by) {
            rc = -XF_ETIMEDOUT;
            goto fail;
        }
        if (rc <= 0 && !xf_blkfront_needs_service(bf))
            (void)xf_plat_wait(connect_by);
    }
    *out = bf;
    return 0;
fail:
    {
        struct xf_blkfront_io *done = NULL;

        /* Rings published (the back end may map them): left Initialised
         * (or Closing, refused), the device would look alive to the
         * toolstack and the ring pages stay mapped for ever. */
        if (bf->phase == BF_PUBLISHED || bf->phase == BF_CONNECTED || bf->phase == BF_REFUSED)
            (void)close_handshake(bf, deadline_ns);

        tables_down(bf, false, &done);
        rings_down(bf);
        (void)xf_gnttab_reclaim(gt);
        unwatch(bf, deadline_ns);
        xf_frontdev_close(&bf->fd, deadline_ns);
        free_ctx(bf);
    }
    return rc;
}

int xf_blkfront_close(struct xf_blkfront *bf, uint64_t deadline_ns)
{
    struct xf_blkfront_io *done = NULL;
    struct xf_gnttab *gt;
    xf_irqflags_t fl;
    int rc = 0;

    if (bf == NULL)
        return 0;
    gt = bf->fd.gt;
    if (bf->phase == BF_CONNECTED || bf->phase == BF_PUBLISHED) {
        /* So the back end lets go of our pages before we end access. */
        rc = close_handshake(bf, deadline_ns);
        if (rc < 0 && rc != -XF_ETIMEDOUT)
            rc = 0;   /* the store failed: tear down all the same */
    }
    bf->phase = BF_CLOSED;
    fl = xf_plat_irq_save();
    xf_blkfront__fail_all(bf, -XF_ENOTCONN, &done);
    xf_plat_irq_restore(fl);
    xf_blkfront__run_done(bf, done);
    done = NULL;
    tables_down(bf, false, &done);
    rings_down(bf);
    (void)xf_frontdev_switch(&bf->fd, XenbusStateClosed, deadline_ns);
    unwatch(bf, deadline_ns);
    xf_frontdev_close(&bf->fd, deadline_ns);
    (void)xf_gnttab_reclaim(gt);
    free_ctx(bf);
    return rc;
}

/* ------------------------------------------------------------------------
 * I/O.
 */
int xf_blkfront_submit(struct xf_blkfront *bf, struct xf_blkfront_io *io)
{
    struct xf_blkfront_io *done = NULL;
    const struct xf_blkfront_info *in;
    uint64_t total = 0, lb;
    uint32_t nqa, qi;
    xf_irqflags_t fl;

    if (bf == NULL || io == NULL)
        return -XF_EINVAL;
    in = &bf->info;
    if (bf->phase == BF_CLOSED)
        return -XF_ENOTCONN;
    if (bf->broken || bf->expired)
        return -XF_EIO;
    lb = in->sector_size / 512;
    switch (io->op) {
    case XF_BLKFRONT_READ:
    case XF_BLKFRONT_WRITE:
        if (io->flags & ~(XF_BLKFRONT_F_FUA | XF_BLKFRONT_F_ZEROCOPY | XF_BLKFRONT_F_QUEUE))
            return -XF_EINVAL;
        if (io->op == XF_BLKFRONT_READ && (io->flags & XF_BLKFRONT_F_FUA))
            return -XF_EINVAL;
        if (io->iov == NULL || io->nr_iov == 0)
            return -XF_EINVAL;
        for (uint32_t i = 0; i < io->nr_iov; i++) {
            if (io->iov[i].base == NULL && io->iov[i].len != 0)
                return -XF_EINVAL;
            if ((io->flags & XF_BLKFRONT_F_ZEROCOPY) &&
                (((uintptr_t)io->iov[i].base % in->sector_size) != 0 ||
                 io->iov[i].len % in->sector_size != 0))
                return -XF_EINVAL;
            total += io->iov[i].len;
            if (total > (1ull << 31))
                return -XF_EINVAL;
        }
        if (total == 0 || total % in->sector_size != 0 || io->sector % lb != 0)
            return -XF_EINVAL;
        if (io->sector > in->sectors || total / 512 > in->sectors - io->sector)
            return -XF_ERANGE;
        if (io->op == XF_BLKFRONT_WRITE && in->read_only)
            return -XF_EROFS;
        break;
    case XF_BLKFRONT_FLUSH:
        if (io->flags & ~XF_BLKFRONT_F_QUEUE)
            return -XF_EINVAL;
        if (in->read_only)
            return -XF_EROFS;
        if (!in->flush && !in->barrier)
            return -XF_EOPNOTSUPP;
        total = 1;
        break;
    case XF_BLKFRONT_DISCARD:
        if (io->flags & ~(XF_BLKFRONT_F_SECURE | XF_BLKFRONT_F_QUEUE))
            return -XF_EINVAL;
        if (in->read_only)
            return -XF_EROFS;
        if (!in->discard || ((io->flags & XF_BLKFRONT_F_SECURE) && !in->discard_secure))
            return -XF_EOPNOTSUPP;
        if (io->nr_sectors == 0 || io->sector % lb != 0 || io->nr_sectors % lb != 0)
            return -XF_EINVAL;
        if (io->sector > in->sectors || io->nr_sectors > in->sectors - io->sector)
            return -XF_ERANGE;
        total = 1;
        break;
    default:
        return -XF_EINVAL;
    }
    io->priv.next = NULL;
    io->priv.dnext = NULL;
    io->priv.total = total;
    io->priv.issued = 0;
    io->priv.left = total;
    io->priv.status = 0;
    io->priv.phase = 0;
    io->priv.queued = 0;
    fl = xf_plat_irq_save();
    nqa = bf->nq ? bf->nq : (bf->nq_last ? bf->nq_last : 1);
    qi = (io->flags & XF_BLKFRONT_F_QUEUE) ? io->queue % nqa : bf->rr++ % nqa;
    io->priv.seq = ++bf->seq;
    bf->pending++;
    {
        struct bf_queue *q = &bf->q[qi];

        io->priv.queued = 1;             /* BF_Q_FIFO */
        io->priv.q = (uint16_t)qi;
        if (q->tail != NULL)
            q->tail->priv.next = io;
        else
            q->head = io;
        q->tail = io;
    }
    xf_blkfront__kick(bf, &done);
    xf_plat_irq_restore(fl);
    xf_blkfront__run_done(bf, done);
    return 0;
}

int xf_blkfront_poll(struct xf_blkfront *bf)
{
    struct xf_blkfront_io *done = NULL;
    xf_irqflags_t fl;
    int n = 0;

    if (bf == NULL)
        return -XF_EINVAL;
    fl = xf_plat_irq_save();
    for (uint32_t i = 0; i < bf->nq; i++)
        (void)xf_blkfront__process(&bf->q[i], &done);
    xf_blkfront__kick(bf, &done);
    xf_blkfront__check_expiry(bf, &done);
    xf_plat_irq_restore(fl);
    for (struct xf_blkfront_io *io = done; io != NULL; io = io->priv.dnext)
        n++;
    xf_blkfront__run_done(bf, done);
    return bf->broken ? -XF_EIO : n;
}

void xf_blkfront_get_info(const struct xf_blkfront *bf, struct xf_blkfront_info *info)
{
    if (bf == NULL || info == NULL)
        return;
    *info = bf->info;
    info->broken = bf->broken != 0;
    info->connected = bf->phase == BF_CONNECTED && !bf->broken;
}

int xf_blkfront_get_stats(const struct xf_blkfront *bf, uint32_t q, struct xf_blkfront_stats *st)
{
    if (bf == NULL || st == NULL || q >= XF_BLKFRONT_MAX_QUEUES)
        return -XF_EINVAL;
    *st = bf->q[q].st;
    st->inflight = bf->q[q].up ? xf_front_ring_outstanding(&bf->q[q].ring) : 0;
    st->pool_free = bf->q[q].nfree;
    return 0;
}

uint64_t xf_blkfront_pending(const struct xf_blkfront *bf)
{
    return bf == NULL ? 0 : XF_READ_ONCE(bf->pending);
}

int xf_blkfront_status(const struct xf_blkfront *bf)
{
    if (bf == NULL)
        return -XF_EINVAL;
    if (bf->broken || bf->expired)
        return -XF_EIO;
    return bf->phase == BF_CONNECTED ? 0 : -XF_ENOTCONN;
}
