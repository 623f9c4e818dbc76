/*
 * Transmit: slot building (copy pages or zero-copy grants), completion by
 * response id, failing everything when the device breaks or closes.
 */
#include "private.h"

struct nf_done {
    void *cookie;
    int status;
};

static struct xf_gnttab *gt_of(const struct nf_queue *q)
{
    return q->nf->fd.gt;
}

/* ------------------------------------------------------------------------
 * Set up and tear down (main flow, at connect and disconnect).
 */
int xf_netfront__tx_setup(struct nf_queue *q)
{
    struct xf_netfront *nf = q->nf;
    unsigned int n = nf->tx_slots;
    int rc;

    rc = xf_idtable_init(&q->ids, q->id_slots, n);
    if (rc < 0)
        return rc;
    memset(q->slot, 0, sizeof(q->slot));
    memset(q->pkts, 0, sizeof(q->pkts));
    memset(q->pool, 0, sizeof(q->pool));
    for (unsigned int i = 0; i < n; i++)
        q->pkts[i].next = (uint16_t)(i + 1 < n ? i + 1 : NF_NONE);
    q->pkt_free = 0;
    q->pkts_free = n;
    q->extras_out = 0;
    q->want_space = false;
    q->unpushed = false;
    rc = xf_gnttab_alloc_refs(gt_of(q), q->pool_ref, n);
    if (rc < 0)
        return rc;
    rc = xf_gnttab_alloc_refs(gt_of(q), q->zc_ref, n);
    if (rc < 0) {
        (void)xf_gnttab_free_refs(gt_of(q), q->pool_ref, n);
        return rc;
    }
    for (unsigned int i = 0; i < n; i++)
        q->zc_ref_ours[i] = true;
    /* The copy pages: zeroed by the allocator, granted read-only once. */
    for (unsigned int i = 0; i < n; i++) {
        xen_pfn_t gfn;

        q->pool[i] = xf_plat_page_alloc(1);
        if (q->pool[i] == NULL) {
            rc = -XF_ENOMEM;
            goto fail;
        }
        gfn = xf_plat_virt_to_gfn(q->pool[i]);
        rc = gfn == ~(xen_pfn_t)0 ? -XF_EFAULT
                                  : xf_gnttab_grant_ref(gt_of(q), q->pool_ref[i],
                                                        nf->fd.dev.backend_id, gfn, true);
        if (rc < 0) {
            xf_plat_page_free(q->pool[i], 1);
            q->pool[i] = NULL;
            goto fail;
        }
    }
    return 0;
fail:
    /* Nothing was published: the back end cannot hold any of these. */
    for (unsigned int i = 0; i < n; i++) {
        if (q->pool[i] == NULL)
            continue;
        (void)xf_gnttab_end_ref(gt_of(q), q->pool_ref[i]);
        xf_plat_page_free(q->pool[i], 1);
        q->pool[i] = NULL;
    }
    (void)xf_gnttab_free_refs(gt_of(q), q->pool_ref, n);
    (void)xf_gnttab_free_refs(gt_of(q), q->zc_ref, n);
    /* Freed: a later teardown must not free them again (another
     * driver's by then). */
    for (unsigned int i = 0; i < n; i++)
        q->zc_ref_ours[i] = false;
    return rc;
}

static void free_page_cb(struct xf_gnttab *gt, void *page, void *arg)
{
    (void)gt;
    (void)arg;
    xf_plat_page_free(page, 1);
}

void xf_netfront__tx_teardown(struct nf_queue *q, int status)
{
    unsigned int n = q->nf->tx_slots;

    xf_netfront__tx_fail_all(q, status);
    for (unsigned int i = 0; i < n; i++) {
        if (q->pool[i] == NULL)
            continue;
        if (xf_gnttab_end_ref(gt_of(q), q->pool_ref[i]) == 0) {
            (void)xf_gnttab_free_refs(gt_of(q), &q->pool_ref[i], 1);
            xf_plat_page_free(q->pool[i], 1);
        } else if (xf_gnttab_end_access_deferred(gt_of(q), q->pool_ref[i], q->pool[i],
                                                 free_page_cb, NULL) < 0) {
            xf_log(XF_LOG_ERROR, "netfront: tx page still mapped and deferred list full: leaked");
        }
        q->pool[i] = NULL;
    }
    for (unsigned int i = 0; i < n; i++)
        if (q->zc_ref_ours[i]) {
            (void)xf_gnttab_free_refs(gt_of(q), &q->zc_ref[i], 1);
            q->zc_ref_ours[i] = false;
        }
}

/* ------------------------------------------------------------------------
 * Completion.
 */

/* Drop a reference to orphan oi; true when that was the last (then *d
 * holds the packet's completion). Under the critical section. */
static bool orphan_put(struct nf_queue *q, uint16_t oi, struct nf_done *d)
{
    struct nf_orphan *o = &q->orphans[oi];

    if (--o->refs != 0)
        return false;
    d->cookie = o->cookie;
    d->status = o->status;
    return true;
}

/* A wait record for one of packet pi's zero-copy grants, the packet made
 * an orphan at its first. NULL when the pools are full (a back end that
 * kept maps across many reconnects). Under the critical section; the
 * linear scans run only at a teardown that found grants still mapped. */
static struct nf_zcwait *zc_wait_new(struct nf_queue *q, uint16_t pi)
{
    struct nf_txpkt *p = &q->pkts[pi];
    unsigned int wi, oi;

    for (wi = 0; wi < NF_RING && q->zcw[wi].used; wi++)
        ;
    if (wi == NF_RING)
        return NULL;
    if (!p->orphaned) {
        for (oi = 0; oi < NF_RING && q->orphans[oi].refs != 0; oi++)
            ;
        if (oi == NF_RING)
            return NULL;
        q->orphans[oi] = (struct nf_orphan){ .cookie = p->cookie, .status = p->status,
                                             .refs = 1 };
        p->orphaned = true;
        p->orphan = (uint16_t)oi;
    }
    q->orphans[p->orphan].refs++;
    q->zcw[wi] = (struct nf_zcwait){ .orphan = p->orphan, .used = true };
    return &q->zcw[wi];
}

/* One slot of packet p is done; returns true when the whole packet is
 * (then *d holds its completion). Under the critical section. */
static bool slot_done(struct nf_queue *q, uint16_t pi, struct nf_done *d)
{
    struct nf_txpkt *p = &q->pkts[pi];

    if (!p->used || p->left == 0)
        return false;
    if (--p->left != 0)
        return false;
    d->cookie = p->cookie;
    d->status = p->status;
    if (p->mcast != NF_MCAST_NONE) {
        /* A control request: counted apart from packets. */
        q->st.mcast_requests++;
        if (d->status != 0)
            q->st.mcast_refused++;
    } else if (p->status == 0) {
        q->st.tx_packets++;
        q->st.tx_bytes += p->len;
    } else if (p->status == -XF_EIO) {
        q->st.tx_errors++;
    } else {
        q->st.tx_failed++;
    }
    p->used = false;
    p->next = q->pkt_free;
    q->pkt_free = pi;
    q->pkts_free++;
    if (p->orphaned) {
        /* Its caller's page may still be mapped: the last release
         * completes it. */
        q->orphans[p->orphan].status = p->status;
        return orphan_put(q, p->orphan, d);
    }
    return true;
}

static void deliver(struct nf_queue *q, const struct nf_done *d, unsigned int n)
{
    struct xf_netfront *nf = q->nf;

    if (nf->cfg.tx_done == NULL)
        return;
    for (unsigned int i = 0; i < n; i++)
        nf->cfg.tx_done(nf, q->index, d[i].cookie, d[i].status, nf->cfg.arg);
}

/* The back end let go of a zero-copy grant we had to defer (from
 * xf_gnttab_reclaim(), wherever the embedder calls it, or at once from
 * the deferral itself): its packet completes when nothing else holds it. */
static void zc_released(struct xf_gnttab *gt, void *page, void *arg)
{
    struct nf_queue *q = arg;
    struct nf_zcwait *w = page;
    struct nf_done d;
    bool fin;
    xf_irqflags_t fl;

    (void)gt;
    fl = xf_plat_irq_save();
    q->nf->deferred--;
    w->used = false;
    fin = orphan_put(q, w->orphan, &d);
    xf_plat_irq_restore(fl);
    if (fin)
        deliver(q, &d, 1);
}

/* Fail every slot still outstanding (broken, or disconnecting): revoke
 * zero-copy grants (deferred while the back end maps them) and complete
 * their packets with status. */
void xf_netfront__tx_fail_all(struct nf_queue *q, int status)
{
    unsigned int n = q->nf->tx_slots;

    for (unsigned int i = 0; i < n; i++) {
        struct nf_txslot *s = &q->slot[i];
        struct nf_done d;
        bool pub, live, fin = false;
        xf_irqflags_t fl = xf_plat_irq_save();

        pub = xf_idtable_state(&q->ids, i) == XF_ID_PUBLISHED;
        if (pub) {
            (void)xf_idtable_unpublish(&q->ids, i);
            (void)xf_idtable_cancel(&q->ids, i);
        }
        live = s->zc && s->zc_live;
        if ((pub || live) && q->pkts[s->pkt].used && q->pkts[s->pkt].status == 0)
            q->pkts[s->pkt].status = status;
        xf_plat_irq_restore(fl);
        if (!pub && !live)
            continue;
        if (live) {
            if (xf_gnttab_end_ref(gt_of(q), q->zc_ref[i]) != 0) {
                struct nf_zcwait *w;
                int rc;

                /* Still mapped: the grant waits on the deferred list, and
                 * its packet, as an orphan, for it. */
                fl = xf_plat_irq_save();
                w = zc_wait_new(q, s->pkt);
                if (w != NULL)
                    q->nf->deferred++;
                xf_plat_irq_restore(fl);
                /* The reference is the deferred list's now, or leaked. */
                q->zc_ref_ours[i] = false;
                rc = w == NULL ? -XF_ENOSPC
                               : xf_gnttab_end_access_deferred(gt_of(q), q->zc_ref[i], w,
                                                               zc_released, q);
                if (rc < 0) {
                    /* The caller's page stays granted: its packet can never
                     * complete safely. Leak it (the wait record keeps the
                     * orphan from completing) rather than expose memory. */
                    if (w != NULL) {
                        fl = xf_plat_irq_save();
                        q->nf->deferred--;
                        xf_plat_irq_restore(fl);
                    }
                    xf_log(XF_LOG_ERROR, "netfront: zero-copy grant still mapped, "
                           "deferred list full: packet never completes");
                    if (w == NULL)
                        continue;
                }
            }
            s->zc_live = false;
        }
        fl = xf_plat_irq_save();
        fin = slot_done(q, s->pkt, &d);
        xf_plat_irq_restore(fl);
        if (fin)
            deliver(q, &d, 1);
    }
    {
        xf_irqflags_t fl = xf_plat_irq_save();

        q->extras_out = 0;
        xf_plat_irq_restore(fl);
    }
}

static int status_of(struct nf_queue *q, int16_t st)
{
    switch (st) {
    case NETIF_RSP_OKAY:
        return 0;
    case NETIF_RSP_ERROR:
    case NETIF_RSP_DROPPED:
        return -XF_EIO;
    default:
        q->st.tx_bad_status++;       /* N4: an error, and the slot is freed */
        return -XF_EIO;
    }
}

/*
 * Responses [from, to) were just consumed: their slots are where the next
 * requests go, and the back end touches them again only after we produce
 * there. It wrote them last, so writing a request into one costs a
 * cross-CPU transfer that stalls the send; asking for the lines now, for
 * writing, does that transfer in the background. The line holding slot
 * `to` may still get responses, so it is left alone. A hint only: a wrong
 * guess costs a transfer, never correctness.
 */
static void claim_lines(struct nf_queue *q, RING_IDX from, RING_IDX to)
{
    const size_t es = sizeof(union netif_tx_sring_entry);
    uintptr_t stop = (uintptr_t)xf_ring__slot(q->tx.ents, q->tx.nr_ents, es, to) & ~(uintptr_t)63;
    uintptr_t last = stop;

    for (RING_IDX k = from; k != to; k++) {
        uintptr_t l = (uintptr_t)xf_ring__slot(q->tx.ents, q->tx.nr_ents, es, k) & ~(uintptr_t)63;

        if (l != last && l != stop) {
            xf_prefetch_w((const void *)l);
            last = l;
        }
    }
}

/* Consume what responses there are, in bounded batches. */
static void tx_reap(struct nf_queue *q)
{
    struct xf_netfront *nf = q->nf;
    unsigned int budget = nf->budget < 64 ? nf->budget : 64;

    for (unsigned int round = 0;; round++) {
        struct nf_done done[64];
        unsigned int nd = 0;
        int n;

        if (round == 8) {
            /* Budget spent: raise our own port so the handler comes back
             * at the next dispatch for what is left (a back end that has
             * answered everything has no push left to wake us). */
            q->st.budget_spent++;
            XF_WRITE_ONCE(q->tx.sring->rsp_event, XF_READ_ONCE(q->tx.sring->rsp_prod) + 1);
            XF_MB();
            if (q->port_tx != 0)
                (void)xf_evtchn_raise(nf->fd.ec, q->port_tx);
            return;
        }
        n = XF_FRONT_RING_GET_RESPONSES(&q->tx, netif_tx, q->txbuf, budget);

        if (n < 0) {
            xf_netfront__broke(nf, q, "tx rsp_prod beyond the requests", 0);
            return;
        }
        if (n > 0)
            claim_lines(q, q->tx.rsp_cons - (RING_IDX)n, q->tx.rsp_cons);
        for (int k = 0; k < n; k++) {
            netif_tx_response_t rsp = q->txbuf[k];
            struct nf_txslot *s;
            xf_irqflags_t fl;
            bool live;
            int st;

            if (rsp.status == NETIF_RSP_NULL) {
                /* Only the slots of extras we sent are answered NULL (and
                 * without an id); a NULL beyond them hides a data slot. */
                bool ok;

                fl = xf_plat_irq_save();
                ok = q->extras_out > 0;
                if (ok)
                    q->extras_out--;
                xf_plat_irq_restore(fl);
                if (!ok) {
                    deliver(q, done, nd);
                    xf_netfront__broke(nf, q, "tx NULL response for a data slot", rsp.id);
                    return;
                }
                continue;
            }
            fl = xf_plat_irq_save();
            if (xf_idtable_complete(&q->ids, rsp.id, NULL) < 0) {
                xf_plat_irq_restore(fl);
                deliver(q, done, nd);
                xf_netfront__broke(nf, q, "tx response for an id not in flight", rsp.id);
                return;
            }
            s = &q->slot[rsp.id];
            st = status_of(q, rsp.status);
            /* netback answers an add ERROR only when its filter is full
             * (or it is out of memory): say which. */
            if (rsp.status == NETIF_RSP_ERROR && q->pkts[s->pkt].mcast == NF_MCAST_ADD)
                st = -XF_ENOSPC;
            if (st != 0 && q->pkts[s->pkt].status == 0)
                q->pkts[s->pkt].status = st;
            /* A copy-page slot is done at once (one section per response);
             * a zero-copy one only once its grant is revoked, outside. */
            live = s->zc && s->zc_live;
            if (!live && slot_done(q, s->pkt, &done[nd]))
                nd++;
            xf_plat_irq_restore(fl);
            if (live) {
                if (xf_gnttab_end_ref(nf->fd.gt, q->zc_ref[rsp.id]) != 0) {
                    /* N6: answered but still mapped. The slot stays live;
                     * failing everything defers its grant. */
                    deliver(q, done, nd);
                    xf_netfront__broke(nf, q, "tx grant still in use at its response",
                                       rsp.id);
                    return;
                }
                fl = xf_plat_irq_save();
                s->zc_live = false;
                if (slot_done(q, s->pkt, &done[nd]))
                    nd++;
                xf_plat_irq_restore(fl);
            }
        }
        deliver(q, done, nd);
        if ((unsigned int)n == budget)
            continue;
        /* Re-arm the completion event and look again. */
        if (nf->cfg.tx_event_final) {
            n = xf_front_ring_final_check(&q->tx);
        } else {
            uint32_t out = (uint32_t)(q->tx.req_pushed - q->tx.rsp_cons);

            /* Half-way through what is outstanding: one event per half
             * of the window rather than per response (fewer interrupts
             * under load; completions may wait for the next poll/send). */
            n = xf_front_ring_final_check_ahead(&q->tx, (out >> 1) + 1);
        }
        if (n < 0) {
            xf_netfront__broke(nf, q, "tx rsp_prod beyond the requests", 0);
            return;
        }
        if (n == 0)
            break;
    }
}

static bool enter(bool *busy, bool *again)
{
    xf_irqflags_t fl = xf_plat_irq_save();
    bool ok = !*busy;

    if (ok)
        *busy = true;
    else
        *again = true;
    xf_plat_irq_restore(fl);
    return ok;
}

/* Leave, unless a handler asked for another run meanwhile. */
static bool leave(bool *busy, bool *again)
{
    xf_irqflags_t fl = xf_plat_irq_save();
    bool more = *again;

    *again = false;
    if (!more)
        *busy = false;
    xf_plat_irq_restore(fl);
    return more;
}

static bool space_ok(struct nf_queue *q)
{
    return xf_front_ring_free(&q->tx) >= NF_SPACE_SLOTS &&
           xf_idtable_free(&q->ids) >= XF_NETFRONT_TX_MAX_SLOTS && q->pkts_free > 0;
}

/* Push requests a send with XF_NETFRONT_TX_MORE left produced only: from
 * every reap (handlers, poll, a refused send), so a batch never waits for
 * good. A send in progress pushes its own. */
static void push_pending(struct nf_queue *q)
{
    bool kick = false;
    xf_irqflags_t fl = xf_plat_irq_save();

    if (q->unpushed && !q->send_busy) {
        q->unpushed = false;
        kick = xf_front_ring_push(&q->tx);
    }
    xf_plat_irq_restore(fl);
    if (kick)
        xf_netfront__notify(q, false);
}

void xf_netfront__tx_gc(struct nf_queue *q)
{
    struct xf_netfront *nf = q->nf;

    if (!enter(&q->tx_busy, &q->tx_again))
        return;
    do {
        bool wake = false;
        xf_irqflags_t fl;

        if (!q->up)
            continue;
        if (nf->broken) {
            xf_netfront__tx_fail_all(q, nf->broken);
            continue;
        }
        push_pending(q);
        tx_reap(q);
        if (nf->broken) {
            xf_netfront__tx_fail_all(q, nf->broken);
            continue;
        }
        fl = xf_plat_irq_save();
        if (q->want_space && space_ok(q)) {
            q->want_space = false;
            wake = true;
        }
        xf_plat_irq_restore(fl);
        if (wake && nf->cfg.tx_space != NULL)
            nf->cfg.tx_space(nf, q->index, nf->cfg.arg);
    } while (leave(&q->tx_busy, &q->tx_again));
}

/* ------------------------------------------------------------------------
 * Send.
 */
struct piece {
    const unsigned char *p;
    uint32_t len;
};

/* Zero-copy slots of a packet: each fragment split at page ends. Returns
 * the count (up to max + 1, meaning "too many"), or 0 if the first slot
 * would be shorter than an Ethernet header. */
static unsigned int zc_pieces(const struct xf_netfront_tx *pkt, struct piece *pc, unsigned int max)
{
    unsigned int n = 0;

    for (unsigned int f = 0; f < pkt->nfrags; f++) {
        const unsigned char *p = pkt->frags[f].data;
        uint32_t len = pkt->frags[f].len;

        while (len > 0) {
            uint32_t off = (uint32_t)((uintptr_t)p & (XF_PAGE_SIZE - 1));
            uint32_t c = XF_PAGE_SIZE - off;

            if (c > len)
                c = len;
            if (n == max)
                return max + 1;
            pc[n].p = p;
            pc[n].len = c;
            n++;
            p += c;
            len -= c;
        }
    }
    if (n > 0 && pc[0].len < NF_ETH_HLEN)
        return 0;
    return n;
}

/* Copy the fragments into the slots' pages, filling each page before the
 * next: slots was computed from the total length, so k stays below it. */
static void copy_packet(struct nf_queue *q, const struct xf_netfront_tx *pkt, const int32_t *ids,
                        unsigned int slots)
{
    unsigned int k = 0;
    unsigned char *dst = q->pool[ids[0]];
    uint32_t pos = 0;

    for (unsigned int f = 0; f < pkt->nfrags; f++) {
        const unsigned char *p = pkt->frags[f].data;
        uint32_t len = pkt->frags[f].len;

        while (len > 0) {
            uint32_t c = XF_PAGE_SIZE - pos;

            if (c > len)
                c = len;
            memcpy(dst + pos, p, c);
            p += c;
            len -= c;
            pos += c;
            if (pos == XF_PAGE_SIZE && k + 1 < slots) {
                dst = q->pool[ids[++k]];
                pos = 0;
            }
        }
    }
}

static int check_queue(struct xf_netfront *nf, unsigned int qi, struct nf_queue **out)
{
    if (nf == NULL)
        return -XF_EINVAL;
    if (nf->broken)
        return nf->broken;
    if (!nf->connected)
        return -XF_ENOTCONN;
    if (qi >= nf->nq)
        return -XF_EINVAL;
    *out = nf->q[qi];
    return 0;
}

/* Reserve ids and a packet, or say why not. Under the critical section. */
static int reserve(struct nf_queue *q, unsigned int slots, unsigned int extras, int32_t *ids,
                   uint16_t *pi)
{
    if (xf_front_ring_free(&q->tx) < slots + extras || xf_idtable_free(&q->ids) < slots ||
        q->pkts_free == 0) {
        q->want_space = true;
        q->st.tx_eagain++;
        return -XF_EAGAIN;
    }
    *pi = q->pkt_free;
    q->pkt_free = q->pkts[*pi].next;
    q->pkts_free--;
    for (unsigned int k = 0; k < slots; k++)
        ids[k] = xf_idtable_alloc(&q->ids, NULL);
    return 0;
}

/* Write the requests, publish and push (unless more follow: then only
 * produce them); the send is over (send_busy cleared in the same critical
 * section, one section fewer per packet). */
static void post(struct nf_queue *q, const netif_tx_request_t *reqs, unsigned int slots,
                 const netif_extra_info_t *ex, unsigned int extras, const int32_t *ids,
                 bool more)
{
    xf_irqflags_t fl;
    bool kick;
    unsigned int i = 0;

    /* The requests are built privately and stored, never read back (N23). */
    *XF_FRONT_RING_REQ(&q->tx, netif_tx, i++) = reqs[0];
    for (unsigned int e = 0; e < extras; e++) {
        unsigned char *slot = xf_front_ring_req_slot(&q->tx, i++);

        memset(slot, 0, sizeof(netif_tx_request_t));
        memcpy(slot, &ex[e], sizeof(ex[e]));
    }
    for (unsigned int k = 1; k < slots; k++)
        *XF_FRONT_RING_REQ(&q->tx, netif_tx, i++) = reqs[k];
    fl = xf_plat_irq_save();
    for (unsigned int k = 0; k < slots; k++)
        (void)xf_idtable_publish(&q->ids, (uint32_t)ids[k]);
    q->extras_out += extras;
    xf_front_ring_produce(&q->tx, i);
    /* The push's full barrier drains the store buffer, which still holds
     * the copy's stores: once per batch rather than per packet. */
    q->unpushed = more;
    kick = !more && xf_front_ring_push(&q->tx);
    q->send_busy = false;
    xf_plat_irq_restore(fl);
    if (kick)
        xf_netfront__notify(q, false);
}

int xf_netfront_send(struct xf_netfront *nf, unsigned int qi, const struct xf_netfront_tx *pkt)
{
    struct nf_queue *q = NULL;
    struct piece pc[XF_NETFRONT_TX_MAX_SLOTS + 1];
    netif_tx_request_t reqs[XF_NETFRONT_TX_MAX_SLOTS];
    netif_extra_info_t ex;
    int32_t ids[XF_NETFRONT_TX_MAX_SLOTS];
    uint16_t pi;
    uint32_t len = 0;
    unsigned int slots, extras, zslots = 0;
    bool zc;
    int rc;
    xf_irqflags_t fl;

    rc = check_queue(nf, qi, &q);
    if (rc < 0)
        return rc;
    if (pkt == NULL || pkt->frags == NULL || pkt->nfrags == 0 ||
        pkt->nfrags > XF_NETFRONT_MAX_FRAGS)
        return -XF_EINVAL;
    for (unsigned int f = 0; f < pkt->nfrags; f++) {
        if (pkt->frags[f].data == NULL && pkt->frags[f].len != 0)
            return -XF_EINVAL;
        len += pkt->frags[f].len;
        if (len > XF_NETFRONT_MAX_FRAME)
            return -XF_EINVAL;
    }
    if (len < NF_ETH_HLEN)
        return -XF_EINVAL;
    if (pkt->gso_type != XF_NETFRONT_GSO_NONE) {
        if (pkt->gso_size == 0 || pkt->gso_type > XF_NETFRONT_GSO_TCPV6)
            return -XF_EINVAL;
        if ((pkt->gso_type == XF_NETFRONT_GSO_TCPV4 && !nf->info.gso_tcpv4) ||
            (pkt->gso_type == XF_NETFRONT_GSO_TCPV6 && !nf->info.gso_tcpv6))
            return -XF_EOPNOTSUPP;
    }
    zc = (pkt->flags & XF_NETFRONT_TX_ZEROCOPY) != 0;
    if (zc) {
        zslots = zc_pieces(pkt, pc, XF_NETFRONT_TX_MAX_SLOTS);
        if (zslots == 0 || zslots > XF_NETFRONT_TX_MAX_SLOTS ||
            (zslots > 1 && !nf->info.sg)) {
            zc = false;                      /* linearise into copy pages */
        } else {
            for (unsigned int k = 0; k < zslots; k++)
                if (xf_plat_virt_to_gfn(pc[k].p) == ~(xen_pfn_t)0)
                    return -XF_EFAULT;
        }
    }
    slots = zc ? zslots : (len + XF_PAGE_SIZE - 1) / XF_PAGE_SIZE;
    if (slots > 1 && !nf->info.sg)
        return -XF_EMSGSIZE;
    if (slots > nf->tx_slots)
        return -XF_EMSGSIZE;
    extras = pkt->gso_type != XF_NETFRONT_GSO_NONE ? 1 : 0;

    fl = xf_plat_irq_save();
    if (q->send_busy) {
        xf_plat_irq_restore(fl);
        return -XF_EBUSY;
    }
    if (!q->up || nf->broken || !nf->connected) {
        xf_plat_irq_restore(fl);
        return nf->broken ? nf->broken : -XF_ENOTCONN;
    }
    rc = reserve(q, slots, extras, ids, &pi);
    if (rc == 0)
        q->send_busy = true;
    xf_plat_irq_restore(fl);
    if (rc < 0) {
        /* Make sure an event (or what is already there) wakes us. */
        xf_netfront__tx_gc(q);
        return rc;
    }
    if ((pkt->flags & XF_NETFRONT_TX_ZEROCOPY) && !zc)
        q->st.tx_linearised++;

    q->pkts[pi].cookie = pkt->cookie;
    q->pkts[pi].len = len;
    q->pkts[pi].left = (uint16_t)slots;
    q->pkts[pi].status = 0;
    q->pkts[pi].mcast = NF_MCAST_NONE;
    q->pkts[pi].used = true;
    if (!zc)
        copy_packet(q, pkt, ids, slots);
    for (unsigned int k = 0; k < slots; k++) {
        struct nf_txslot *s = &q->slot[ids[k]];
        netif_tx_request_t *r = &reqs[k];

        s->pkt = pi;
        s->zc = zc;
        s->zc_live = false;
        r->id = (uint16_t)ids[k];
        r->flags = k + 1 < slots ? NETTXF_more_data : 0;
        if (zc) {
            /* Cannot fail: a reserved ref, a real domain, a checked gfn. */
            (void)xf_gnttab_grant_ref(nf->fd.gt, q->zc_ref[ids[k]], nf->fd.dev.backend_id,
                                      xf_plat_virt_to_gfn(pc[k].p), true);
            s->zc_live = true;
            r->gref = q->zc_ref[ids[k]];
            r->offset = (uint16_t)((uintptr_t)pc[k].p & (XF_PAGE_SIZE - 1));
            r->size = (uint16_t)pc[k].len;
        } else {
            uint32_t c = len - k * XF_PAGE_SIZE;

            r->gref = q->pool_ref[ids[k]];
            r->offset = 0;
            r->size = (uint16_t)(c > XF_PAGE_SIZE ? XF_PAGE_SIZE : c);
        }
    }
    reqs[0].size = (uint16_t)len;
    if (pkt->flags & XF_NETFRONT_TX_CSUM_BLANK)
        reqs[0].flags |= NETTXF_csum_blank;
    if (pkt->flags & XF_NETFRONT_TX_DATA_VALIDATED)
        reqs[0].flags |= NETTXF_data_validated;
    if (extras) {
        memset(&ex, 0, sizeof(ex));
        ex.type = XEN_NETIF_EXTRA_TYPE_GSO;
        ex.u.gso.type = pkt->gso_type;
        ex.u.gso.size = pkt->gso_size;
        reqs[0].flags |= NETTXF_extra_info;
    }
    post(q, reqs, slots, &ex, extras, ids, (pkt->flags & XF_NETFRONT_TX_MORE) != 0);
    return 0;
}

int xf_netfront_mcast(struct xf_netfront *nf, const uint8_t mac[6], bool add, void *cookie)
{
    struct nf_queue *q = NULL;
    netif_tx_request_t req;
    netif_extra_info_t ex;
    int32_t id;
    uint16_t pi;
    int rc;
    xf_irqflags_t fl;

    rc = check_queue(nf, 0, &q);
    if (rc < 0)
        return rc;
    /* Only group addresses belong in the filter (netback would take any). */
    if (mac == NULL || !(mac[0] & 1u))
        return -XF_EINVAL;
    /* The list can be amended with feature-multicast-control alone: the
     * dynamic feature is about changing request-multicast-control. */
    if (!nf->info.mcast_control)
        return -XF_EOPNOTSUPP;
    fl = xf_plat_irq_save();
    if (q->send_busy) {
        xf_plat_irq_restore(fl);
        return -XF_EBUSY;
    }
    rc = reserve(q, 1, 1, &id, &pi);
    if (rc == 0)
        q->send_busy = true;
    xf_plat_irq_restore(fl);
    if (rc < 0) {
        xf_netfront__tx_gc(q);
        return rc;
    }
    q->pkts[pi].cookie = cookie;
    q->pkts[pi].len = 0;
    q->pkts[pi].left = 1;
    q->pkts[pi].status = 0;
    q->pkts[pi].mcast = add ? NF_MCAST_ADD : NF_MCAST_DEL;
    q->pkts[pi].used = true;
    q->slot[id].pkt = pi;
    q->slot[id].zc = false;
    q->slot[id].zc_live = false;
    /* A control request: no data and no more_data (netback answers it at
     * once and takes no further slot; it reads only the id and extras). */
    memset(&req, 0, sizeof(req));
    req.gref = q->pool_ref[id];
    req.id = (uint16_t)id;
    req.flags = NETTXF_extra_info;
    memset(&ex, 0, sizeof(ex));
    ex.type = add ? XEN_NETIF_EXTRA_TYPE_MCAST_ADD : XEN_NETIF_EXTRA_TYPE_MCAST_DEL;
    memcpy(ex.u.mcast.addr, mac, 6);
    post(q, &req, 1, &ex, 1, &id, false);
    return 0;
}
