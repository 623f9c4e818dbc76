/*
 * Receive: buffers kept posted, responses assembled into packets, every
 * response checked (slot-indexed buffers, as netif.h puts each response in
 * its request's slot; the id must name that slot), bad packets dropped with
 * their buffers reposted so the ring can never be drained by garbage.
 */
#include "private.h"

static struct xf_gnttab *gt_of(const struct nf_queue *q)
{
    return q->nf->fd.gt;
}

static void free_page_cb(struct xf_gnttab *gt, void *page, void *arg)
{
    (void)gt;
    (void)arg;
    xf_plat_page_free(page, 1);
}

int xf_netfront__rx_setup(struct nf_queue *q)
{
    int rc = xf_gnttab_alloc_refs(gt_of(q), q->rx_ref, NF_RING);

    if (rc < 0)
        return rc;
    for (unsigned int j = 0; j < NF_RING; j++)
        q->rx_slot_page[j] = NF_NONE;
    memset(&q->as, 0, sizeof(q->as));
    q->nfree_pages = 0;
    for (unsigned int i = 0; i < q->npages; i++) {
        struct nf_rxpage *pg = &q->pages[i];

        if (pg->state != NF_PG_FREE)
            continue;                       /* still lent from before */
        if (pg->va == NULL) {
            pg->va = xf_plat_page_alloc(1); /* zeroed before its first grant */
            if (pg->va == NULL)
                continue;                   /* fewer buffers; counted at refill */
            pg->gfn = xf_plat_virt_to_gfn(pg->va);
        }
        q->page_free[q->nfree_pages++] = (uint16_t)i;
    }
    if (q->nfree_pages == 0) {
        (void)xf_gnttab_free_refs(gt_of(q), q->rx_ref, NF_RING);
        return -XF_ENOMEM;
    }
    return 0;
}

void xf_netfront__rx_teardown(struct nf_queue *q)
{
    grant_ref_t spare[NF_RING];
    unsigned int nspare = 0;
    xf_irqflags_t fl;

    for (unsigned int j = 0; j < NF_RING; j++) {
        uint16_t pi = q->rx_slot_page[j];

        if (pi == NF_NONE) {
            spare[nspare++] = q->rx_ref[j];
            continue;
        }
        q->rx_slot_page[j] = NF_NONE;
        if (xf_gnttab_end_ref(gt_of(q), q->rx_ref[j]) == 0) {
            spare[nspare++] = q->rx_ref[j];
            q->pages[pi].state = NF_PG_FREE;
        } else {
            /* Still mapped by the back end: it frees the page later. */
            if (xf_gnttab_end_access_deferred(gt_of(q), q->rx_ref[j], q->pages[pi].va,
                                              free_page_cb, NULL) < 0)
                xf_log(XF_LOG_ERROR, "netfront: rx page still mapped, deferred list full: leaked");
            q->pages[pi].va = NULL;
            q->pages[pi].state = NF_PG_FREE;
        }
    }
    (void)xf_gnttab_free_refs(gt_of(q), spare, nspare);
    fl = xf_plat_irq_save();
    for (unsigned int i = 0; i < q->npages; i++) {
        struct nf_rxpage *pg = &q->pages[i];

        if (pg->state == NF_PG_LENT) {
            pg->state = NF_PG_ORPHAN;
        } else if (pg->state != NF_PG_ORPHAN) {
            pg->state = NF_PG_FREE;
            if (pg->va != NULL) {
                void *va = pg->va;

                pg->va = NULL;
                xf_plat_irq_restore(fl);
                xf_plat_page_free(va, 1);
                fl = xf_plat_irq_save();
            }
        }
    }
    q->nfree_pages = 0;
    memset(&q->as, 0, sizeof(q->as));
    xf_plat_irq_restore(fl);
}

static void recycle(struct nf_queue *q, uint16_t pi)
{
    xf_irqflags_t fl = xf_plat_irq_save();

    q->pages[pi].state = NF_PG_FREE;
    q->page_free[q->nfree_pages++] = pi;
    xf_plat_irq_restore(fl);
}

void xf_netfront__rx_refill(struct nf_queue *q)
{
    struct xf_netfront *nf = q->nf;
    uint32_t posted = xf_front_ring_outstanding(&q->rx);
    unsigned int n = 0;

    if (!q->up || nf->broken)
        return;
    while (posted + n < nf->rx_slots) {
        uint16_t pi;
        unsigned int j = (q->rx.req_prod_pvt + n) & (NF_RING - 1);
        netif_rx_request_t *req;
        xf_irqflags_t fl = xf_plat_irq_save();

        if (q->nfree_pages == 0) {
            xf_plat_irq_restore(fl);
            q->st.rx_no_buffer++;
            break;
        }
        pi = q->page_free[--q->nfree_pages];
        q->pages[pi].state = NF_PG_POSTED;
        xf_plat_irq_restore(fl);
        (void)xf_gnttab_grant_ref(gt_of(q), q->rx_ref[j], nf->fd.dev.backend_id,
                                  q->pages[pi].gfn, false);
        q->rx_slot_page[j] = pi;
        req = XF_FRONT_RING_REQ(&q->rx, netif_rx, n);
        req->id = (uint16_t)j;
        req->pad = 0;
        req->gref = q->rx_ref[j];
        n++;
    }
    if (n == 0)
        return;
    xf_front_ring_produce(&q->rx, n);
    if (xf_front_ring_push(&q->rx))
        xf_netfront__notify(q, true);
}

static void drop_count(struct nf_queue *q, unsigned int why)
{
    switch (why) {
    case NF_DROP_ERROR: q->st.rx_drop_error++; break;
    case NF_DROP_LEN: q->st.rx_drop_len++; break;
    case NF_DROP_SHORT: q->st.rx_drop_short++; break;
    case NF_DROP_SLOTS: q->st.rx_drop_slots++; break;
    case NF_DROP_EXTRA: q->st.rx_drop_extra++; break;
    case NF_DROP_ID: q->st.rx_drop_id++; break;
    default: break;
    }
}

static void set_drop(struct nf_rxasm *as, unsigned int why)
{
    if (as->drop == NF_DROP_NONE)
        as->drop = why;
}

/* The chain ended: deliver or drop. */
static void finish(struct nf_queue *q)
{
    struct xf_netfront *nf = q->nf;
    struct nf_rxasm *as = &q->as;
    bool keep = false;

    if (as->drop == NF_DROP_NONE && (as->pkt.nfrags == 0 || as->pkt.frags[0].len < NF_ETH_HLEN))
        as->drop = NF_DROP_SHORT;
    if (as->drop == NF_DROP_NONE && as->pkt.len > XF_NETFRONT_MAX_FRAME)
        as->drop = NF_DROP_LEN;
    if (as->drop != NF_DROP_NONE) {
        drop_count(q, as->drop);
    } else {
        q->st.rx_packets++;
        q->st.rx_bytes += as->pkt.len;
        as->pkt.queue = q->index;
        if (nf->cfg.rx != NULL)
            keep = nf->cfg.rx(nf, &as->pkt, nf->cfg.arg);
    }
    for (unsigned int i = 0; i < as->npages; i++) {
        if (keep) {
            xf_irqflags_t fl = xf_plat_irq_save();

            q->pages[as->pages[i]].state = NF_PG_LENT;
            q->lent++;
            xf_plat_irq_restore(fl);
        } else {
            recycle(q, as->pages[i]);
        }
    }
    memset(as, 0, sizeof(*as));
}

static void extra_slot(struct nf_queue *q, const netif_rx_response_t *rsp, uint16_t pi)
{
    struct xf_netfront *nf = q->nf;
    struct nf_rxasm *as = &q->as;
    netif_extra_info_t ex;

    recycle(q, pi);                         /* an extra carries no data */
    memcpy(&ex, rsp, sizeof(ex));
    if (++as->nextra > NF_MAX_EXTRAS) {
        set_drop(as, NF_DROP_EXTRA);        /* N17: MORE on every extra */
    } else if (ex.type == XEN_NETIF_EXTRA_TYPE_NONE || ex.type >= XEN_NETIF_EXTRA_TYPE_MAX) {
        set_drop(as, NF_DROP_EXTRA);        /* N18 */
    } else if (ex.type == XEN_NETIF_EXTRA_TYPE_GSO) {
        bool ok = (ex.u.gso.type == XEN_NETIF_GSO_TYPE_TCPV4 && nf->info.gso_tcpv4) ||
                  (ex.u.gso.type == XEN_NETIF_GSO_TYPE_TCPV6 && nf->info.gso_tcpv6);

        if (!ok || ex.u.gso.size == 0) {
            set_drop(as, NF_DROP_EXTRA);    /* N19 */
        } else {
            as->pkt.gso_type = ex.u.gso.type;
            as->pkt.gso_size = ex.u.gso.size;
        }
    }
    /* MCAST and HASH extras on rx: not asked for, ignored (N18). */
    if (!(ex.flags & XEN_NETIF_EXTRA_FLAG_MORE)) {
        as->want_extra = false;
        if (!as->more)
            finish(q);
    }
}

static void data_slot(struct nf_queue *q, const netif_rx_response_t *rsp, unsigned int j,
                      uint16_t pi)
{
    struct nf_rxasm *as = &q->as;
    bool first = !as->active;
    bool kept = false;

    if (first) {
        as->active = true;
        as->want_extra = (rsp->flags & NETRXF_extra_info) != 0;
        if (rsp->flags & NETRXF_data_validated)
            as->pkt.flags |= XF_NETFRONT_RX_DATA_VALIDATED;
        if (rsp->flags & NETRXF_csum_blank)
            as->pkt.flags |= XF_NETFRONT_RX_CSUM_BLANK;
    }
    as->more = (rsp->flags & NETRXF_more_data) != 0;
    if (rsp->id != j)
        set_drop(as, NF_DROP_ID);           /* N11: the id must name its slot */
    if (rsp->status < 0)
        set_drop(as, NF_DROP_ERROR);        /* N12 */
    else if (rsp->offset >= XF_PAGE_SIZE || rsp->status > (int)XF_PAGE_SIZE ||
             (uint32_t)rsp->offset + (uint32_t)rsp->status > XF_PAGE_SIZE)
        set_drop(as, NF_DROP_LEN);          /* N13 */
    if (++as->nslots > XF_NETFRONT_RX_MAX_FRAGS)
        set_drop(as, NF_DROP_SLOTS);        /* N15 */
    if (as->drop == NF_DROP_NONE && (rsp->status > 0 || first)) {
        struct xf_netfront_rx_frag *f = &as->pkt.frags[as->pkt.nfrags++];

        f->data = (const unsigned char *)q->pages[pi].va + rsp->offset;
        f->len = (uint32_t)rsp->status;
        f->buf = ((uint32_t)q->index << 16) | pi;
        as->pkt.len += f->len;
        kept = true;
    }
    if (kept) {
        q->pages[pi].state = NF_PG_HELD;
        as->pages[as->npages++] = pi;
    } else {
        recycle(q, pi);
    }
    if (as->drop != NF_DROP_NONE) {
        /* Give the packet's pages back now; keep following the chain. */
        for (unsigned int i = 0; i < as->npages; i++)
            recycle(q, as->pages[i]);
        as->npages = 0;
        as->pkt.nfrags = 0;
    }
    if (!as->more && !as->want_extra)
        finish(q);
}

/*
 * Re-arm the rx event and look again (> 0: responses came meanwhile).
 * By default the next response wakes us (rsp_cons + 1, as Linux). With
 * rx_event_batch = k the back end notifies only once k more responses are
 * there, at most half of what is posted so a filling ring always wakes us;
 * what arrives below that waits for the embedder's next xf_netfront_poll().
 */
static int rx_rearm(struct nf_queue *q)
{
    uint32_t k = q->nf->cfg.rx_event_batch;
    uint32_t half = (uint32_t)(q->rx.req_pushed - q->rx.rsp_cons) / 2;

    return xf_front_ring_final_check_ahead(&q->rx, k < half ? k : half);
}

/* Consume responses in bounded batches. */
static void rx_receive(struct nf_queue *q)
{
    struct xf_netfront *nf = q->nf;
    unsigned int budget = nf->budget < 64 ? nf->budget : 64;

    for (unsigned int round = 0;; round++) {
        int n;

        if (round == 4) {
            /* Budget spent with responses left: raise our own port, so
             * the handler comes back at the next dispatch. Waiting for the
             * back end's next push is not enough: with every posted buffer
             * answered it has nothing to push until we refill, which we do
             * only as we consume (both sides would wait, until a poll). */
            q->st.budget_spent++;
            XF_WRITE_ONCE(q->rx.sring->rsp_event, XF_READ_ONCE(q->rx.sring->rsp_prod) + 1);
            XF_MB();
            if (q->port_rx != 0)
                (void)xf_evtchn_raise(nf->fd.ec, q->port_rx);
            return;
        }
        n = XF_FRONT_RING_GET_RESPONSES(&q->rx, netif_rx, q->rxbuf, budget);
        RING_IDX first;

        if (n < 0) {
            xf_netfront__broke(nf, q, "rx rsp_prod beyond the requests or backwards", 0);
            return;
        }
        first = q->rx.rsp_cons - (RING_IDX)n;
        for (int k = 0; k < n; k++) {
            unsigned int j = (first + (RING_IDX)k) & (NF_RING - 1);
            uint16_t pi = q->rx_slot_page[j];

            /* A response exists only for a posted request (the ring layer
             * checks rsp_prod), so slot j has a page (N10). */
            q->rx_slot_page[j] = NF_NONE;
            if (xf_gnttab_end_ref(gt_of(q), q->rx_ref[j]) != 0) {
                q->rx_slot_page[j] = pi;    /* teardown defers it */
                xf_netfront__broke(nf, q, "rx grant still in use at its response", j);
                return;
            }
            q->pages[pi].state = NF_PG_HELD;
            if (q->as.want_extra)
                extra_slot(q, &q->rxbuf[k], pi);
            else
                data_slot(q, &q->rxbuf[k], j, pi);
        }
        xf_netfront__rx_refill(q);
        if ((unsigned int)n == budget)
            continue;
        n = rx_rearm(q);
        if (n < 0) {
            xf_netfront__broke(nf, q, "rx rsp_prod beyond the requests or backwards", 0);
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

void xf_netfront__rx_work(struct nf_queue *q)
{
    if (!enter(&q->rx_busy, &q->rx_again))
        return;
    do {
        if (!q->up || q->nf->broken)
            continue;
        rx_receive(q);
        xf_netfront__rx_refill(q);
    } while (leave(&q->rx_busy, &q->rx_again));
}

int xf_netfront_rx_return(struct xf_netfront *nf, uint32_t buf)
{
    unsigned int qi = buf >> 16, pi = buf & 0xffffu;
    struct nf_queue *q;
    xf_irqflags_t fl;
    bool orphan, refill;

    if (nf == NULL || qi >= XF_NETFRONT_MAX_QUEUES || nf->q[qi] == NULL)
        return -XF_EINVAL;
    q = nf->q[qi];
    if (pi >= q->npages)
        return -XF_EINVAL;
    fl = xf_plat_irq_save();
    if (q->pages[pi].state != NF_PG_LENT && q->pages[pi].state != NF_PG_ORPHAN) {
        xf_plat_irq_restore(fl);
        return -XF_EINVAL;
    }
    orphan = q->pages[pi].state == NF_PG_ORPHAN;
    q->lent--;
    if (orphan && q->up) {
        /* From an earlier connection, perhaps another back end: zero it
         * before granting it again. */
        xf_plat_irq_restore(fl);
        memset(q->pages[pi].va, 0, XF_PAGE_SIZE);
        fl = xf_plat_irq_save();
    }
    q->pages[pi].state = NF_PG_FREE;
    if (q->up)
        q->page_free[q->nfree_pages++] = (uint16_t)pi;
    else if (q->pages[pi].va != NULL)
        memset(q->pages[pi].va, 0, XF_PAGE_SIZE);    /* kept for the next connection */
    refill = q->up;
    xf_plat_irq_restore(fl);
    if (refill)
        xf_netfront__rx_work(q);
    return 0;
}
