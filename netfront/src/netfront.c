/*
 * netfront: context, negotiation through the device layer, event
 * handlers, broken state, disconnect and reconnect.
 */
#include "private.h"

#define NF_DEFAULT_MTU 1500u

/* ------------------------------------------------------------------------
 * Small checked parsers (no libc).
 */
static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* "xx:xx:xx:xx:xx:xx", exactly. */
static bool parse_mac(const char *s, uint8_t mac[6])
{
    for (unsigned int i = 0; i < 6; i++) {
        int h = hexval(s[3 * i]), l = h < 0 ? -1 : hexval(s[3 * i + 1]);

        if (h < 0 || l < 0)
            return false;
        if (s[3 * i + 2] != (i == 5 ? '\0' : ':'))
            return false;
        mac[i] = (uint8_t)(h << 4 | l);
    }
    return true;
}

/* A plain decimal of at most 9 digits. */
static bool parse_small(const char *s, uint32_t *out)
{
    uint32_t v = 0;
    unsigned int n = 0;

    for (; s[n] != '\0'; n++) {
        if (s[n] < '0' || s[n] > '9' || n >= 9)
            return false;
        v = v * 10 + (uint32_t)(s[n] - '0');
    }
    if (n == 0)
        return false;
    *out = v;
    return true;
}

/* ------------------------------------------------------------------------
 * Broken state, notifications, handlers.
 */
void xf_netfront__broke(struct xf_netfront *nf, struct nf_queue *q, const char *why,
                        unsigned long long v)
{
    xf_irqflags_t fl = xf_plat_irq_save();
    bool first = nf->broken == 0;

    if (first)
        nf->broken = -XF_EPROTO;
    if (q != NULL)
        q->st.proto_errors++;
    xf_plat_irq_restore(fl);
    if (!first)
        return;
    xf_log(XF_LOG_ERROR, "netfront: %s: %s (%llu): device broken", nf->fd.dev.nodename, why, v);
    /* Stop listening: the channels stay masked until disconnect. */
    for (unsigned int i = 0; i < nf->nq; i++) {
        struct nf_queue *qq = nf->q[i];

        if (qq->port_tx != 0)
            (void)xf_evtchn_mask(nf->fd.ec, qq->port_tx);
        if (qq->port_rx != 0 && qq->port_rx != qq->port_tx)
            (void)xf_evtchn_mask(nf->fd.ec, qq->port_rx);
    }
    /* Fail every queue's pending packets (a queue busy right now does it
     * when its run loops). */
    for (unsigned int i = 0; i < nf->nq; i++)
        xf_netfront__tx_gc(nf->q[i]);
}

void xf_netfront__notify(struct nf_queue *q, bool rx)
{
    evtchn_port_t p = rx ? q->port_rx : q->port_tx;

    if (p == 0)
        return;
    (void)xf_evtchn_notify(q->nf->fd.ec, p);
    if (rx)
        q->st.notify_rx++;
    else
        q->st.notify_tx++;
}

static bool unconsumed(const struct xf_front_ring *r)
{
    return XF_READ_ONCE(r->sring->rsp_prod) != r->rsp_cons;
}

/* An event that brings nothing: count it; a long run masks the channel
 * until the next poll (bounded work per event, N24). */
static void spurious(struct nf_queue *q, evtchn_port_t port, bool rx)
{
    struct xf_netfront *nf = q->nf;

    q->st.spurious++;
    if (++q->spurious_run < nf->storm)
        return;
    q->spurious_run = 0;
    q->st.throttled++;
    (void)xf_evtchn_mask(nf->fd.ec, port);
    if (rx)
        q->throttled_rx = true;
    else
        q->throttled_tx = true;
}

static void on_tx(struct xf_evtchn *ec, evtchn_port_t port, void *arg)
{
    struct nf_queue *q = arg;
    bool work;

    (void)ec;
    q->st.events_tx++;
    if (!q->up || q->nf->broken)
        return;
    work = unconsumed(&q->tx);
    xf_netfront__tx_gc(q);
    if (work)
        q->spurious_run = 0;
    else
        spurious(q, port, false);
}

static void on_rx(struct xf_evtchn *ec, evtchn_port_t port, void *arg)
{
    struct nf_queue *q = arg;
    bool work;

    (void)ec;
    q->st.events_rx++;
    if (!q->up || q->nf->broken)
        return;
    work = unconsumed(&q->rx);
    xf_netfront__rx_work(q);
    if (work)
        q->spurious_run = 0;
    else
        spurious(q, port, true);
}

static void on_both(struct xf_evtchn *ec, evtchn_port_t port, void *arg)
{
    struct nf_queue *q = arg;
    bool work;

    (void)ec;
    q->st.events_tx++;
    if (!q->up || q->nf->broken)
        return;
    work = unconsumed(&q->tx) || unconsumed(&q->rx);
    xf_netfront__tx_gc(q);
    xf_netfront__rx_work(q);
    if (work)
        q->spurious_run = 0;
    else
        spurious(q, port, false);
}

static void on_state(struct xf_frontdev *fd, void *arg)
{
    struct xf_netfront *nf = arg;

    (void)fd;
    if (nf->cfg.state != NULL)
        nf->cfg.state(nf, nf->cfg.arg);
}

/* ------------------------------------------------------------------------
 * Create and destroy.
 */
static size_t queue_bytes(unsigned int npages)
{
    return sizeof(struct nf_queue) + (size_t)npages * sizeof(struct nf_rxpage) +
           (size_t)npages * sizeof(uint16_t) + 16;
}

int xf_netfront_create(struct xf_netfront **out, struct xf_xenbus *xb, struct xf_evtchn *ec,
                       struct xf_gnttab *gt, const struct xf_netfront_config *cfg,
                       uint64_t deadline_ns)
{
    struct xf_netfront_config c;
    struct xf_netfront *nf;
    size_t nfpages = (sizeof(*nf) + XF_PAGE_SIZE - 1) / XF_PAGE_SIZE;
    unsigned int maxq, npages;
    size_t idlen;
    int rc;

    if (out == NULL || xb == NULL || ec == NULL || gt == NULL)
        return -XF_EINVAL;
    memset(&c, 0, sizeof(c));
    if (cfg != NULL)
        c = *cfg;
    if (c.id == NULL)
        c.id = "0";
    idlen = strlen(c.id);
    maxq = c.max_queues ? c.max_queues : 1;
    if (idlen == 0 || idlen >= 16 || maxq > XF_NETFRONT_MAX_QUEUES ||
        (c.tx_slots != 0 && (c.tx_slots < 32 || c.tx_slots > NF_RING)) ||
        (c.rx_slots != 0 && (c.rx_slots < 32 || c.rx_slots > NF_RING)) ||
        c.rx_spare > 4096)
        return -XF_EINVAL;
    nf = xf_plat_page_alloc(nfpages);
    if (nf == NULL)
        return -XF_ENOMEM;
    memset(nf, 0, sizeof(*nf));
    nf->cfg = c;
    memcpy(nf->id, c.id, idlen + 1);
    nf->cfg.id = nf->id;
    nf->cfg.max_queues = maxq;
    nf->tx_slots = c.tx_slots ? c.tx_slots : NF_RING;
    nf->rx_slots = c.rx_slots ? c.rx_slots : NF_RING;
    nf->rx_spare = c.rx_spare ? c.rx_spare : 64;
    nf->budget = c.budget ? c.budget : 64;
    nf->storm = c.storm_threshold ? c.storm_threshold : 64;
    npages = nf->rx_slots + nf->rx_spare;
    nf->q_pages = (queue_bytes(npages) + XF_PAGE_SIZE - 1) / XF_PAGE_SIZE;
    for (unsigned int i = 0; i < maxq; i++) {
        struct nf_queue *q = xf_plat_page_alloc(nf->q_pages);

        if (q == NULL) {
            rc = -XF_ENOMEM;
            goto fail;
        }
        memset(q, 0, sizeof(*q));
        q->nf = nf;
        q->index = i;
        q->npages = npages;
        q->pages = (struct nf_rxpage *)(void *)(q + 1);
        q->page_free = (uint16_t *)(void *)(q->pages + npages);
        memset(q->pages, 0, npages * sizeof(*q->pages));
        nf->q[i] = q;
    }
    rc = xf_frontdev_open(&nf->fd, xb, ec, gt, "vif", nf->id, on_state, nf, deadline_ns);
    if (rc < 0)
        goto fail;
    *out = nf;
    return 0;
fail:
    for (unsigned int i = 0; i < maxq; i++)
        if (nf->q[i] != NULL)
            xf_plat_page_free(nf->q[i], nf->q_pages);
    xf_plat_page_free(nf, nfpages);
    return rc;
}

int xf_netfront_destroy(struct xf_netfront *nf, uint64_t deadline_ns)
{
    size_t nfpages = (sizeof(*nf) + XF_PAGE_SIZE - 1) / XF_PAGE_SIZE;

    if (nf == NULL)
        return 0;
    if (nf->nq > 0)
        (void)xf_netfront_disconnect(nf, deadline_ns);
    if (nf->deferred > 0)
        return -XF_EBUSY;
    for (unsigned int i = 0; i < nf->cfg.max_queues; i++)
        if (nf->q[i]->lent > 0)
            return -XF_EBUSY;
    xf_frontdev_close(&nf->fd, deadline_ns);
    for (unsigned int i = 0; i < nf->cfg.max_queues; i++) {
        struct nf_queue *q = nf->q[i];

        for (unsigned int p = 0; p < q->npages; p++)
            if (q->pages[p].va != NULL)
                xf_plat_page_free(q->pages[p].va, 1);
        xf_plat_page_free(q, nf->q_pages);
    }
    xf_plat_page_free(nf, nfpages);
    return 0;
}

/* ------------------------------------------------------------------------
 * Connect.
 */
static void queue_down(struct xf_netfront *nf, struct nf_queue *q, int status)
{
    xf_irqflags_t fl = xf_plat_irq_save();
    bool was_up = q->up;

    q->up = false;
    xf_plat_irq_restore(fl);
    /* No handler after this: the channels are closed first. */
    xf_frontdev_evtchn_free(&nf->fd, q->port_tx);
    if (q->port_rx != q->port_tx)
        xf_frontdev_evtchn_free(&nf->fd, q->port_rx);
    q->port_tx = q->port_rx = 0;
    q->throttled_tx = q->throttled_rx = false;
    q->spurious_run = 0;
    if (was_up) {
        xf_netfront__tx_teardown(q, status);
        xf_netfront__rx_teardown(q);
    }
    (void)xf_frontdev_ring_teardown(&nf->fd, &q->txr_mem);
    (void)xf_frontdev_ring_teardown(&nf->fd, &q->rxr_mem);
    q->tx_busy = q->tx_again = q->rx_busy = q->rx_again = q->send_busy = false;
}

static int queue_up(struct xf_netfront *nf, struct nf_queue *q)
{
    int rc;

    memset(&q->st, 0, sizeof(q->st));
    rc = xf_frontdev_ring_setup(&nf->fd, &q->txr_mem, 0);
    if (rc < 0)
        return rc;
    rc = xf_frontdev_ring_setup(&nf->fd, &q->rxr_mem, 0);
    if (rc < 0)
        goto fail_rings;
    if (xf_front_ring_init(&q->tx, q->txr_mem.sring, q->txr_mem.bytes, XF_RING_SHAPE(netif_tx)) < 0 ||
        xf_front_ring_init(&q->rx, q->rxr_mem.sring, q->rxr_mem.bytes, XF_RING_SHAPE(netif_rx)) < 0) {
        rc = -XF_EINVAL;
        goto fail_rings;
    }
    rc = xf_netfront__tx_setup(q);
    if (rc < 0)
        goto fail_rings;
    rc = xf_netfront__rx_setup(q);
    if (rc < 0) {
        xf_netfront__tx_teardown(q, -XF_ENOTCONN);
        goto fail_rings;
    }
    if (nf->info.split) {
        rc = xf_frontdev_evtchn_alloc(&nf->fd, on_tx, q, &q->port_tx);
        if (rc == 0) {
            rc = xf_frontdev_evtchn_alloc(&nf->fd, on_rx, q, &q->port_rx);
            if (rc < 0) {
                xf_frontdev_evtchn_free(&nf->fd, q->port_tx);
                q->port_tx = 0;
            }
        }
    } else {
        rc = xf_frontdev_evtchn_alloc(&nf->fd, on_both, q, &q->port_tx);
        q->port_rx = q->port_tx;
    }
    if (rc < 0) {
        q->port_tx = q->port_rx = 0;
        xf_netfront__tx_teardown(q, -XF_ENOTCONN);
        xf_netfront__rx_teardown(q);
        goto fail_rings;
    }
    q->up = true;
    xf_netfront__rx_refill(q);             /* the ring full before the back end looks */
    return 0;
fail_rings:
    (void)xf_frontdev_ring_teardown(&nf->fd, &q->txr_mem);
    (void)xf_frontdev_ring_teardown(&nf->fd, &q->rxr_mem);
    return rc;
}

static int rm_key(struct xf_frontdev *fd, xf_xenbus_tx_t tx, const char *subdir, const char *key,
                  uint64_t deadline_ns)
{
    char dir[XF_XENBUS_PATH_MAX + 24], path[XF_XENBUS_PATH_MAX + 64];
    int rc = xf_frontdev_path(dir, sizeof(dir), fd->dev.nodename, subdir, -1);

    if (rc < 0)
        return rc;
    rc = xf_frontdev_path(path, sizeof(path), dir, key, -1);
    if (rc < 0)
        return rc;
    rc = xf_xenbus_rm(fd->xb, tx, path, deadline_ns);
    return rc == -XF_ENOENT ? 0 : rc;
}

struct publish_arg {
    struct xf_netfront *nf;
    bool mq_key;
};

static int publish_body(struct xf_frontdev *fd, xf_xenbus_tx_t tx, void *argp, uint64_t dl)
{
    struct publish_arg *a = argp;
    struct xf_netfront *nf = a->nf;
    const struct xf_netfront_info *in = &nf->info;
    int rc;

#define W(sub, key, val) do { rc = xf_frontdev_write_uint(fd, tx, sub, key, val, dl); \
                              if (rc < 0) return rc; } while (0)
    W(NULL, "request-rx-copy", 1);
    if (in->rx_notify)
        W(NULL, "feature-rx-notify", 1);
    W(NULL, "feature-sg", in->sg ? 1 : 0);
    W(NULL, "feature-gso-tcpv4", in->gso_tcpv4 ? 1 : 0);
    W(NULL, "feature-gso-tcpv6", in->gso_tcpv6 ? 1 : 0);
    W(NULL, "feature-no-csum-offload", in->csum_offload ? 0 : 1);
    W(NULL, "feature-ipv6-csum-offload", in->ipv6_csum ? 1 : 0);
    if (a->mq_key)
        W(NULL, "multi-queue-num-queues", nf->nq);
    /* Written 0 as well, so a filter asked for by an earlier connection
     * does not linger; a back end without the feature never reads it. */
    if (in->mcast_control)
        W(NULL, "request-multicast-control", in->mcast_filter ? 1 : 0);
    for (unsigned int i = 0; i < nf->nq; i++) {
        struct nf_queue *q = nf->q[i];
        const char *sub = nf->nq > 1 ? q->subdir : NULL;

        rc = xf_frontdev_write_ring(fd, tx, sub, "tx-ring-ref", &q->txr_mem, dl);
        if (rc < 0)
            return rc;
        rc = xf_frontdev_write_ring(fd, tx, sub, "rx-ring-ref", &q->rxr_mem, dl);
        if (rc < 0)
            return rc;
        /* Remove what an earlier connection of the other kind left: the
         * back end prefers the split keys when both exist. */
        if (in->split) {
            W(sub, "event-channel-tx", q->port_tx);
            W(sub, "event-channel-rx", q->port_rx);
            rc = rm_key(fd, tx, sub, "event-channel", dl);
        } else {
            W(sub, "event-channel", q->port_tx);
            rc = rm_key(fd, tx, sub, "event-channel-tx", dl);
            if (rc == 0)
                rc = rm_key(fd, tx, sub, "event-channel-rx", dl);
        }
        if (rc < 0)
            return rc;
    }
#undef W
    return 0;
}

/* A feature flag of the back end; garbage reads as off (and is logged). */
static bool feature(struct xf_netfront *nf, const char *key, uint64_t dl, int *err)
{
    bool v = false;
    int rc = xf_frontdev_read_feature(&nf->fd, key, &v, dl);

    if (rc == -XF_EINVAL)
        xf_log(XF_LOG_WARN, "netfront: %s: backend %s is not 0/1: off", nf->fd.dev.nodename, key);
    else if (rc < 0 && *err == 0)
        *err = rc;
    return rc == 0 && v;
}

static int negotiate(struct xf_netfront *nf, bool *mq_key, uint64_t dl)
{
    struct xf_netfront_info *in = &nf->info;
    char buf[32];
    uint64_t maxq = 1;
    int err = 0, rc;
    bool sg;

    memset(in, 0, sizeof(*in));
    if (!feature(nf, "feature-rx-copy", dl, &err)) {
        if (err != 0)
            return err;
        xf_log(XF_LOG_ERROR, "netfront: %s: backend has no feature-rx-copy", nf->fd.dev.nodename);
        return -XF_ENODEV;
    }
    sg = feature(nf, "feature-sg", dl, &err);
    in->sg = sg && !nf->cfg.no_sg;
    in->gso_tcpv4 = in->sg && !nf->cfg.no_gso && feature(nf, "feature-gso-tcpv4", dl, &err);
    in->gso_tcpv6 = in->sg && !nf->cfg.no_gso && feature(nf, "feature-gso-tcpv6", dl, &err);
    in->csum_offload = !nf->cfg.no_csum_offload;
    in->ipv6_csum = in->csum_offload && feature(nf, "feature-ipv6-csum-offload", dl, &err);
    in->backend_rx_notify = feature(nf, "feature-rx-notify", dl, &err);
    in->rx_notify = !nf->cfg.no_rx_notify;
    in->split = !nf->cfg.no_split && feature(nf, "feature-split-event-channels", dl, &err);
    in->mcast_control = feature(nf, "feature-multicast-control", dl, &err);
    in->dynamic_mcast = feature(nf, "feature-dynamic-multicast-control", dl, &err);
    /* Dynamic control is an extension of the static one (netif.h). */
    in->dynamic_mcast = in->dynamic_mcast && in->mcast_control;
    in->mcast_filter = in->mcast_control && nf->cfg.mcast_filter;
    if (err != 0)
        return err;
    /* multi-queue-max-queues: absent = no multi-queue (and no key of ours);
     * 0 or garbage = 1 (logged); above ours = ours (N27). */
    rc = xf_frontdev_read_str(&nf->fd, "multi-queue-max-queues", buf, sizeof(buf), dl);
    *mq_key = rc >= 0;
    if (rc >= 0) {
        rc = xf_frontdev_read_uint(&nf->fd, "multi-queue-max-queues", UINT32_MAX, 1, &maxq, dl);
        if (rc == -XF_EINVAL)
            xf_log(XF_LOG_WARN, "netfront: %s: multi-queue-max-queues garbage: 1",
                   nf->fd.dev.nodename);
        else if (rc < 0)
            return rc;
        if (maxq == 0)
            maxq = 1;
    } else if (rc != -XF_ENOENT) {
        return rc;
    }
    nf->nq = maxq < nf->cfg.max_queues ? (unsigned int)maxq : nf->cfg.max_queues;
    in->nr_queues = nf->nq;
    /* Our mac and mtu, from our own directory (libxl writes them). */
    rc = xf_xenbus_read_str(nf->fd.xb, XF_XENBUS_TX_NONE, nf->fd.dev.nodename, "mac", buf,
                            sizeof(buf), dl);
    if (rc < 0 || !parse_mac(buf, in->mac)) {
        xf_log(XF_LOG_ERROR, "netfront: %s: no valid mac", nf->fd.dev.nodename);
        return rc == -XF_ENOENT || rc >= 0 ? -XF_EINVAL : rc;
    }
    in->mtu = NF_DEFAULT_MTU;
    rc = xf_xenbus_read_str(nf->fd.xb, XF_XENBUS_TX_NONE, nf->fd.dev.nodename, "mtu", buf,
                            sizeof(buf), dl);
    if (rc >= 0) {
        uint32_t mtu;

        if (parse_small(buf, &mtu) && mtu >= 68 && mtu <= (in->sg ? 65535u : 1500u))
            in->mtu = mtu;
        else
            xf_log(XF_LOG_WARN, "netfront: %s: mtu \"%s\" refused: 1500", nf->fd.dev.nodename,
                   buf);
    } else if (rc != -XF_ENOENT) {
        return rc;
    }
    return 0;
}

static void all_down(struct xf_netfront *nf, int status)
{
    for (unsigned int i = 0; i < nf->nq; i++)
        queue_down(nf, nf->q[i], status);
    nf->nq = 0;
}

/*
 * Wait until the back end's state is in mask. Unlike the device layer's
 * wait, a back end Closed or Closing now is not an error: after our own
 * Closed it comes back through InitWait once it sees us Initialising, and
 * a state it should not be in (N29) just waits until the deadline.
 */
static int wait_state(struct xf_netfront *nf, uint32_t mask, uint64_t deadline_ns)
{
    for (;;) {
        uint64_t now, until;
        int rc = xf_frontdev_service(&nf->fd, true, deadline_ns);

        if (rc < 0)
            return rc;
        if (XF_XENBUS_STATE_BIT(nf->fd.backend_state) & mask)
            return 0;
        now = xf_plat_now_ns();
        if (now >= deadline_ns)
            return -XF_ETIMEDOUT;
        /* The state watch wakes us; the short bound covers a lost wake-up. */
        until = now + 10000000ull < deadline_ns ? now + 10000000ull : deadline_ns;
        while (!xf_frontdev_changed(&nf->fd) && xf_plat_now_ns() < until)
            (void)xf_plat_wait(until);
    }
}

int xf_netfront_connect(struct xf_netfront *nf, uint64_t deadline_ns)
{
    struct publish_arg pa;
    XenbusState st;
    int rc;

    if (nf == NULL)
        return -XF_EINVAL;
    if (nf->connected || nf->nq > 0)
        return -XF_EISCONN;
    nf->broken = 0;
    /* Start from Initialising whatever state we last wrote: after a
     * disconnect it is Closed, or still Connected/Closing when the device
     * directory vanished under us (QEMU and libxl remove it) and those
     * writes failed; a stale cache would skip the switches below. */
    if (nf->fd.dev.state != XenbusStateInitialising && nf->fd.dev.state != XenbusStateUnknown) {
        rc = xf_frontdev_switch(&nf->fd, XenbusStateInitialising, deadline_ns);
        if (rc < 0)
            return rc;
    }
    rc = wait_state(nf, XF_XENBUS_STATE_BIT(XenbusStateInitWait), deadline_ns);
    if (rc < 0)
        return rc;
    pa.nf = nf;
    rc = negotiate(nf, &pa.mq_key, deadline_ns);
    if (rc < 0) {
        nf->nq = 0;
        return rc;
    }
    for (unsigned int i = 0; i < nf->nq; i++) {
        struct nf_queue *q = nf->q[i];

        (void)xf_frontdev_path(q->subdir, sizeof(q->subdir), NULL, "queue-", (int)i);
        rc = queue_up(nf, q);
        if (rc < 0) {
            nf->nq = i;
            goto fail;
        }
    }
    rc = xf_frontdev_publish(&nf->fd, publish_body, &pa, deadline_ns);
    if (rc < 0)
        goto fail;
    rc = xf_frontdev_switch(&nf->fd, XenbusStateConnected, deadline_ns);
    if (rc < 0)
        goto fail;
    rc = xf_frontdev_wait_backend(&nf->fd, XF_XENBUS_STATE_BIT(XenbusStateConnected), &st,
                                  deadline_ns);
    if (rc < 0)
        goto fail;
    {
        xf_irqflags_t fl = xf_plat_irq_save();

        nf->connected = true;
        xf_plat_irq_restore(fl);
    }
    /* A first kick on every channel, as the back end may have missed the
     * rx requests posted before it attached. */
    for (unsigned int i = 0; i < nf->nq; i++) {
        xf_netfront__notify(nf->q[i], false);
        if (nf->info.split)
            xf_netfront__notify(nf->q[i], true);
    }
    xf_log(XF_LOG_INFO, "netfront: %s: connected, %u queue(s)%s", nf->fd.dev.nodename, nf->nq,
           nf->info.split ? ", split channels" : "");
    return 0;
fail:
    all_down(nf, -XF_ENOTCONN);
    (void)xf_frontdev_switch(&nf->fd, XenbusStateClosed, deadline_ns);
    return rc;
}

int xf_netfront_disconnect(struct xf_netfront *nf, uint64_t deadline_ns)
{
    int rc, rc2;
    int status;
    xf_irqflags_t fl;

    if (nf == NULL)
        return -XF_EINVAL;
    if (nf->nq == 0 && !nf->connected)
        return 0;
    fl = xf_plat_irq_save();
    nf->connected = false;
    xf_plat_irq_restore(fl);
    status = nf->broken ? nf->broken : -XF_ENOTCONN;
    /* Close first, so the back end lets go of our pages before we revoke
     * them (then nothing has to be deferred). */
    rc = xf_frontdev_switch(&nf->fd, XenbusStateClosing, deadline_ns);
    if (rc == 0)
        (void)wait_state(nf, XF_XENBUS_STATE_BIT(XenbusStateClosing) |
                             XF_XENBUS_STATE_BIT(XenbusStateClosed) |
                             XF_XENBUS_STATE_BIT(XenbusStateUnknown), deadline_ns);
    all_down(nf, status);
    nf->broken = 0;
    rc2 = xf_frontdev_switch(&nf->fd, XenbusStateClosed, deadline_ns);
    /* A back end that has not seen our Closed would miss a quick
     * Initialising after it (it reads the state, not the history). */
    if (rc2 == 0)
        (void)wait_state(nf, XF_XENBUS_STATE_BIT(XenbusStateClosed) |
                             XF_XENBUS_STATE_BIT(XenbusStateUnknown) |
                             XF_XENBUS_STATE_BIT(XenbusStateInitWait), deadline_ns);
    xf_log(XF_LOG_INFO, "netfront: %s: disconnected", nf->fd.dev.nodename);
    return rc < 0 ? rc : rc2;
}

int xf_netfront_service(struct xf_netfront *nf, uint64_t deadline_ns)
{
    int rc;
    XenbusState st;

    if (nf == NULL)
        return -XF_EINVAL;
    rc = xf_frontdev_service(&nf->fd, false, deadline_ns);
    if (rc < 0)
        return rc;
    st = nf->fd.backend_state;
    if (nf->nq > 0 && (st == XenbusStateClosing || st == XenbusStateClosed ||
                       st == XenbusStateUnknown)) {
        xf_log(XF_LOG_WARN, "netfront: %s: backend state %d while connected",
               nf->fd.dev.nodename, (int)st);
        (void)xf_netfront_disconnect(nf, deadline_ns);
    }
    return (int)st;
}

/* ------------------------------------------------------------------------
 * Polling and reading.
 */
static uint64_t done_count(const struct nf_queue *q)
{
    return q->st.tx_packets + q->st.tx_errors + q->st.tx_failed + q->st.rx_packets;
}

int xf_netfront_poll(struct xf_netfront *nf)
{
    uint64_t before = 0, after = 0;

    if (nf == NULL)
        return -XF_EINVAL;
    if (nf->nq == 0)
        return -XF_ENOTCONN;
    for (unsigned int i = 0; i < nf->nq; i++) {
        struct nf_queue *q = nf->q[i];

        before += done_count(q);
        if (!nf->broken) {
            /* Taken with the handler (which sets them) held off. */
            xf_irqflags_t fl = xf_plat_irq_save();
            bool tx = q->throttled_tx, rx = q->throttled_rx;

            q->spurious_run = 0;
            q->throttled_tx = q->throttled_rx = false;
            xf_plat_irq_restore(fl);
            if (tx)
                (void)xf_evtchn_unmask(nf->fd.ec, q->port_tx);
            if (rx)
                (void)xf_evtchn_unmask(nf->fd.ec, q->port_rx);
        }
        xf_netfront__tx_gc(q);
        xf_netfront__rx_work(q);
        after += done_count(q);
    }
    if (nf->broken)
        return nf->broken;
    return (int)(after - before);
}

bool xf_netfront_connected(const struct xf_netfront *nf)
{
    return nf != NULL && nf->connected && nf->broken == 0;
}

int xf_netfront_broken(const struct xf_netfront *nf)
{
    return nf != NULL ? nf->broken : -XF_EINVAL;
}

int xf_netfront_info(const struct xf_netfront *nf, struct xf_netfront_info *info)
{
    if (nf == NULL || info == NULL)
        return -XF_EINVAL;
    if (!nf->connected)
        return -XF_ENOTCONN;
    *info = nf->info;
    return 0;
}

void xf_netfront_stats(const struct xf_netfront *nf, unsigned int q, struct xf_netfront_stats *st)
{
    if (st == NULL)
        return;
    if (nf == NULL || q >= nf->cfg.max_queues) {
        memset(st, 0, sizeof(*st));
        return;
    }
    *st = nf->q[q]->st;
}

unsigned int xf_netfront_tx_inflight(const struct xf_netfront *nf, unsigned int q)
{
    if (nf == NULL || q >= nf->nq)
        return 0;
    return xf_front_ring_outstanding(&nf->q[q]->tx);
}

unsigned int xf_netfront_rx_posted(const struct xf_netfront *nf, unsigned int q)
{
    if (nf == NULL || q >= nf->nq)
        return 0;
    return xf_front_ring_outstanding(&nf->q[q]->rx);
}

int xf_netfront_ports(const struct xf_netfront *nf, unsigned int q, evtchn_port_t *tx,
                      evtchn_port_t *rx)
{
    if (nf == NULL || q >= nf->nq)
        return -XF_EINVAL;
    if (tx != NULL)
        *tx = nf->q[q]->port_tx;
    if (rx != NULL)
        *rx = nf->q[q]->port_rx;
    return 0;
}

int xf_netfront_mcast_filter(struct xf_netfront *nf, bool on, uint64_t deadline_ns)
{
    xf_irqflags_t fl;
    int rc;

    if (nf == NULL)
        return -XF_EINVAL;
    if (nf->broken)
        return nf->broken;
    if (!nf->connected)
        return -XF_ENOTCONN;
    if (!nf->info.mcast_control)
        return -XF_EOPNOTSUPP;
    if (on != nf->info.mcast_filter) {
        /* A static back end sampled the key at connect: a change now
         * would be ignored, so say so rather than pretend. */
        if (!nf->info.dynamic_mcast)
            return -XF_EOPNOTSUPP;
        rc = xf_frontdev_write_uint(&nf->fd, XF_XENBUS_TX_NONE, NULL,
                                    "request-multicast-control", on ? 1 : 0, deadline_ns);
        if (rc < 0)
            return rc;
        fl = xf_plat_irq_save();
        nf->info.mcast_filter = on;
        xf_plat_irq_restore(fl);
    }
    nf->cfg.mcast_filter = on;            /* and for the next connection */
    return 0;
}
