/*
 * blkfront's data path: carving I/Os into ring requests, the pools,
 * response checking and completion, holding and reissuing across a
 * reconnect. Everything here runs inside xf_plat_irq_save() (the callers
 * take it) except xf_blkfront__run_done(), which calls the embedder.
 */
#include "private.h"

#define BF_Q_FIFO 1u
#define BF_Q_DONE 2u

static struct xf_gnttab *gt_of(struct xf_blkfront *bf)
{
    return bf->fd.gt;
}

static domid_t be_id(struct xf_blkfront *bf)
{
    return bf->fd.dev.backend_id;
}

/* ------------------------------------------------------------------------
 * Scatter lists.
 */
static void iov_copy(const struct xf_blkfront_io *io, uint64_t off, void *page, size_t n,
                     bool to_page)
{
    unsigned char *p = page;

    for (uint32_t i = 0; i < io->nr_iov && n > 0; i++) {
        size_t len = io->iov[i].len;
        size_t take;

        if (off >= len) {
            off -= len;
            continue;
        }
        take = len - (size_t)off;
        if (take > n)
            take = n;
        if (to_page)
            memcpy(p, (unsigned char *)io->iov[i].base + off, take);
        else
            memcpy((unsigned char *)io->iov[i].base + off, p, take);
        p += take;
        n -= take;
        off = 0;
    }
}

/* The caller's address at byte off of the I/O and the bytes left in that
 * iov element. */
static unsigned char *iov_at(const struct xf_blkfront_io *io, uint64_t off, size_t *avail)
{
    for (uint32_t i = 0; i < io->nr_iov; i++) {
        if (off < io->iov[i].len) {
            *avail = io->iov[i].len - (size_t)off;
            return (unsigned char *)io->iov[i].base + off;
        }
        off -= io->iov[i].len;
    }
    *avail = 0;
    return NULL;
}

/* ------------------------------------------------------------------------
 * Completion lists.
 */
static void done_push(struct xf_blkfront *bf, struct xf_blkfront_io **done,
                      struct xf_blkfront_io *io)
{
    if (io->priv.queued & BF_Q_DONE)
        return;
    io->priv.queued |= BF_Q_DONE;
    io->priv.dnext = *done;
    *done = io;
    bf->pending--;
}

void xf_blkfront__run_done(struct xf_blkfront *bf, struct xf_blkfront_io *done)
{
    /* The list is LIFO; reverse it so callbacks follow completion order. */
    struct xf_blkfront_io *rev = NULL;

    while (done != NULL) {
        struct xf_blkfront_io *next = done->priv.dnext;

        done->priv.dnext = rev;
        rev = done;
        done = next;
    }
    while (rev != NULL) {
        struct xf_blkfront_io *io = rev;

        rev = io->priv.dnext;
        io->priv.dnext = NULL;
        if (io->done != NULL)
            io->done(bf, io, io->priv.status, io->arg);
    }
}

/* Put io first on q (a FUA write's flush goes before later I/O). */
static void fifo_push_head(struct bf_queue *q, struct xf_blkfront_io *io)
{
    io->priv.queued |= BF_Q_FIFO;
    io->priv.q = (uint16_t)q->index;
    io->priv.next = q->head;
    q->head = io;
    if (q->tail == NULL)
        q->tail = io;
}

static void fifo_pop(struct bf_queue *q)
{
    struct xf_blkfront_io *io = q->head;

    q->head = io->priv.next;
    if (q->head == NULL)
        q->tail = NULL;
    io->priv.next = NULL;
    io->priv.queued &= (uint8_t)~BF_Q_FIFO;
}

/* A piece of io (len bytes) is answered with status. */
static void piece_done(struct xf_blkfront *bf, struct xf_blkfront_io *io, uint64_t len,
                       int status, struct xf_blkfront_io **done)
{
    if (status != 0 && io->priv.status == 0)
        io->priv.status = status;
    io->priv.left -= len;
    if (io->priv.left != 0)
        return;
    if (io->priv.phase == 0 && io->op == XF_BLKFRONT_WRITE && (io->flags & XF_BLKFRONT_F_FUA) &&
        io->priv.status == 0 && (bf->info.flush || bf->info.barrier)) {
        /* FUA-equivalent: the data is written; now the flush after it. */
        io->priv.phase = 1;
        io->priv.total = io->priv.left = 1;
        io->priv.issued = 0;
        /* Its queue may be gone since a reconnect with fewer queues. */
        fifo_push_head(&bf->q[bf->nq ? io->priv.q % bf->nq
                                     : (io->priv.q < XF_BLKFRONT_MAX_QUEUES ? io->priv.q : 0)],
                       io);
        return;
    }
    done_push(bf, done, io);
}

static void fail_io(struct xf_blkfront *bf, struct xf_blkfront_io *io, int status,
                    struct xf_blkfront_io **done)
{
    io->priv.status = status;
    io->priv.left = 0;
    done_push(bf, done, io);
}

/* ------------------------------------------------------------------------
 * Pools.
 */
static void page_release(struct xf_gnttab *gt, void *page, void *arg)
{
    (void)gt;
    (void)arg;
    if (page != NULL)
        xf_plat_page_free(page, 1);
}

/* A page the back end still holds: its grant goes to the deferred list,
 * the page leaves the pool for good (freed when the back end lets go). */
static void page_lose(struct xf_blkfront *bf, struct bf_queue *q, uint32_t p)
{
    struct bf_page *pg = &q->pages[p];

    if (xf_gnttab_end_access_deferred(gt_of(bf), pg->ref, pg->va, page_release, NULL) < 0)
        xf_log(XF_LOG_ERROR, "blkfront: a page still granted could not be deferred; leaked");
    pg->va = NULL;
    pg->granted = false;
}

static void page_put(struct bf_queue *q, uint32_t p)
{
    q->pages[p].next = q->free_head;
    q->free_head = p;
    q->nfree++;
}

static uint32_t page_get(struct bf_queue *q)
{
    uint32_t p = q->free_head;

    q->free_head = q->pages[p].next;
    q->nfree--;
    return p;
}

/*
 * End the grants of a request's pages and give them back. Persistent
 * pages stay granted. Returns true if the back end still held one (it is
 * then kept out of use).
 */
static bool shadow_release(struct xf_blkfront *bf, struct bf_queue *q, struct bf_shadow *s)
{
    bool busy = false;
    bool persistent = bf->info.persistent;

    for (uint32_t i = 0; i < s->nseg; i++) {
        uint32_t p = s->pg[i];

        if (s->zc) {
            if (xf_gnttab_end_ref(gt_of(bf), q->zrefs[p]) == -XF_EBUSY) {
                busy = true;
                (void)xf_gnttab_end_access_deferred(gt_of(bf), q->zrefs[p], NULL, NULL, NULL);
                q->zrefs[p] = 0;
                continue;
            }
            q->zfree[q->nzfree++] = p;
            continue;
        }
        if (!persistent && q->pages[p].granted) {
            if (xf_gnttab_end_ref(gt_of(bf), q->pages[p].ref) == -XF_EBUSY) {
                busy = true;
                page_lose(bf, q, p);
                continue;
            }
            q->pages[p].granted = false;
        }
        page_put(q, p);
    }
    if (s->ind != BF_NONE) {
        uint32_t p = s->ind;

        if (!persistent && q->pages[p].granted) {
            if (xf_gnttab_end_ref(gt_of(bf), q->pages[p].ref) == -XF_EBUSY) {
                busy = true;
                page_lose(bf, q, p);
                p = BF_NONE;
            } else {
                q->pages[p].granted = false;
            }
        }
        if (p != BF_NONE)
            page_put(q, p);
    }
    s->nseg = 0;
    s->ind = BF_NONE;
    s->io = NULL;
    return busy;
}

/* ------------------------------------------------------------------------
 * Carving requests.
 */
struct bf_seg {
    unsigned char *va;      /* zero-copy: the caller's address */
    uint32_t bytes;
};

static int grant_page(struct xf_blkfront *bf, struct bf_queue *q, uint32_t p, bool ro)
{
    int rc;

    if (bf->info.persistent)
        return 0;
    rc = xf_gnttab_grant_ref(gt_of(bf), q->pages[p].ref, be_id(bf),
                             xf_plat_virt_to_gfn(q->pages[p].va), ro);
    if (rc == 0)
        q->pages[p].granted = true;
    return rc;
}

/*
 * Put one request for bytes [off, off + len) of io (or its control
 * operation) on q's ring. Returns the bytes it covers, 0 when the ring,
 * ids or pool are short (try again after completions).
 */
static uint64_t carve(struct xf_blkfront *bf, struct bf_queue *q, struct xf_blkfront_io *io,
                      uint64_t off, uint64_t len, struct xf_blkfront_io **done)
{
    struct bf_seg segs[XF_BLKFRONT_MAX_SEGMENTS];
    struct bf_shadow *s;
    uint32_t nseg = 0, need_pages;
    uint64_t bytes = 0;
    uint8_t op;
    bool zc = false, data = false, ro;
    int32_t id;
    void *slot;

    if (xf_front_ring_free(&q->ring) == 0 || xf_idtable_free(&q->ids) == 0)
        return 0;
    if (io->op == XF_BLKFRONT_DISCARD) {
        if (!bf->info.discard || ((io->flags & XF_BLKFRONT_F_SECURE) && !bf->info.discard_secure)) {
            piece_done(bf, io, len, -XF_EOPNOTSUPP, done);
            return len;
        }
        op = BLKIF_OP_DISCARD;
    } else if (io->op == XF_BLKFRONT_FLUSH || io->priv.phase == 1) {
        if (bf->info.flush)
            op = BLKIF_OP_FLUSH_DISKCACHE;
        else if (bf->info.barrier)
            op = BLKIF_OP_WRITE_BARRIER;
        else {
            /* No cache to flush any more (the feature went away): an
             * explicit flush is refused, a FUA write is done. */
            piece_done(bf, io, len, io->priv.phase == 1 ? 0 : -XF_EOPNOTSUPP, done);
            return len;
        }
    } else {
        data = true;
        op = io->op == XF_BLKFRONT_READ ? BLKIF_OP_READ : BLKIF_OP_WRITE;
        zc = (io->flags & XF_BLKFRONT_F_ZEROCOPY) && !bf->info.persistent;
        while (nseg < bf->max_segs && bytes < len) {
            uint64_t b;

            if (zc) {
                size_t avail;
                unsigned char *va = iov_at(io, off + bytes, &avail);
                uint32_t in_page;

                if (va == NULL)
                    break;
                in_page = XF_PAGE_SIZE - (uint32_t)((uintptr_t)va & (XF_PAGE_SIZE - 1));
                b = avail < in_page ? avail : in_page;
                segs[nseg].va = va;
            } else {
                b = XF_PAGE_SIZE;
                segs[nseg].va = NULL;
            }
            if (b > len - bytes)
                b = len - bytes;
            segs[nseg].bytes = (uint32_t)b;
            bytes += b;
            nseg++;
        }
    }
    need_pages = (data && !zc ? nseg : 0) + (nseg > BLKIF_MAX_SEGMENTS_PER_REQUEST ? 1 : 0);
    if (q->nfree < need_pages || (zc && q->nzfree < nseg))
        return 0;

    id = xf_idtable_alloc(&q->ids, io);
    if (id < 0)
        return 0;
    s = &q->shadow[id];
    s->io = io;
    s->seq = ++bf->seq;
    s->off = off;
    s->len = data ? bytes : len;
    s->rsp_op = op;
    s->zc = zc;
    s->nseg = 0;
    s->ind = BF_NONE;
    ro = op == BLKIF_OP_WRITE;   /* the back end only reads what we write */

    for (uint32_t i = 0; i < nseg; i++) {
        int rc;

        if (zc) {
            uint32_t z = q->zfree[--q->nzfree];

            rc = xf_gnttab_grant_ref(gt_of(bf), q->zrefs[z], be_id(bf),
                                     xf_plat_virt_to_gfn(segs[i].va), ro);
            if (rc < 0) {
                q->zfree[q->nzfree++] = z;
                goto undo;
            }
            s->pg[s->nseg++] = z;
        } else {
            uint32_t p = page_get(q);

            if (op == BLKIF_OP_WRITE)
                iov_copy(io, off + (uint64_t)i * XF_PAGE_SIZE, q->pages[p].va, segs[i].bytes, true);
            rc = grant_page(bf, q, p, ro);
            if (rc < 0) {
                page_put(q, p);
                goto undo;
            }
            s->pg[s->nseg++] = p;
        }
    }

    slot = xf_front_ring_req_slot(&q->ring, 0);
    memset(slot, 0, sizeof(struct blkif_request));
    if (op == BLKIF_OP_DISCARD) {
        struct blkif_request_discard *d = slot;

        d->operation = BLKIF_OP_DISCARD;
        d->flag = (io->flags & XF_BLKFRONT_F_SECURE) ? BLKIF_DISCARD_SECURE : 0;
        d->handle = 0;
        d->id = (uint64_t)id;
        d->sector_number = io->sector;
        d->nr_sectors = io->nr_sectors;
        q->st.discard_req++;
        q->st.discard_sect += io->nr_sectors;
    } else if (nseg > BLKIF_MAX_SEGMENTS_PER_REQUEST) {
        struct blkif_request_indirect *r = slot;
        struct blkif_request_segment *ind;
        uint32_t p = page_get(q);

        ind = q->pages[p].va;
        for (uint32_t i = 0; i < nseg; i++) {
            uint32_t first = zc ? (uint32_t)((uintptr_t)segs[i].va & (XF_PAGE_SIZE - 1)) / 512 : 0;

            ind[i].gref = zc ? q->zrefs[s->pg[i]] : q->pages[s->pg[i]].ref;
            ind[i].first_sect = (uint8_t)first;
            ind[i].last_sect = (uint8_t)(first + segs[i].bytes / 512 - 1);
        }
        if (grant_page(bf, q, p, true) < 0) {
            page_put(q, p);
            goto undo;
        }
        s->ind = p;
        r->operation = BLKIF_OP_INDIRECT;
        r->indirect_op = op;
        r->nr_segments = (uint16_t)nseg;
        r->id = (uint64_t)id;
        r->sector_number = io->sector + off / 512;
        r->handle = 0;
        r->indirect_grefs[0] = q->pages[p].ref;
        q->st.indirect_req++;
    } else {
        struct blkif_request *r = slot;

        r->operation = op;
        r->nr_segments = (uint8_t)nseg;
        r->handle = 0;
        r->id = (uint64_t)id;
        r->sector_number = data ? io->sector + off / 512 : 0;
        for (uint32_t i = 0; i < nseg; i++) {
            uint32_t first = zc ? (uint32_t)((uintptr_t)segs[i].va & (XF_PAGE_SIZE - 1)) / 512 : 0;

            r->seg[i].gref = zc ? q->zrefs[s->pg[i]] : q->pages[s->pg[i]].ref;
            r->seg[i].first_sect = (uint8_t)first;
            r->seg[i].last_sect = (uint8_t)(first + segs[i].bytes / 512 - 1);
        }
        if (op == BLKIF_OP_FLUSH_DISKCACHE)
            q->st.flush_req++;
        else if (op == BLKIF_OP_WRITE_BARRIER)
            q->st.barrier_req++;
    }
    if (op == BLKIF_OP_READ) {
        q->st.rd_req++;
        q->st.rd_sect += bytes / 512;
    } else if (op == BLKIF_OP_WRITE) {
        q->st.wr_req++;
        q->st.wr_sect += bytes / 512;
    }
    q->st.segments += nseg;
    (void)xf_idtable_publish(&q->ids, (uint32_t)id);
    xf_front_ring_produce(&q->ring, 1);
    return s->len;

undo:
    /* A grant failed (a zero-copy buffer the platform cannot translate, or
     * no references): nothing was sent; fail this piece. */
    (void)shadow_release(bf, q, s);
    (void)xf_idtable_cancel(&q->ids, (uint32_t)id);
    q->st.errors++;
    piece_done(bf, io, data ? bytes : len, -XF_EIO, done);
    return data ? bytes : len;
}

static void push(struct xf_blkfront *bf, struct bf_queue *q)
{
    if (q->up && xf_front_ring_push(&q->ring)) {
        (void)xf_evtchn_notify(bf->fd.ec, q->port);
        q->st.notify++;
    }
}

void xf_blkfront__kick(struct xf_blkfront *bf, struct xf_blkfront_io **done)
{
    if (bf->phase != BF_CONNECTED || bf->broken || bf->nq == 0)
        return;
    /* What a reconnect kept goes first, in its original order; while any
     * is left, new I/O waits (bounded: the redo list only shrinks). */
    while (bf->redo_pos < bf->nredo) {
        struct bf_redo *r = &bf->redo[bf->redo_pos];
        struct bf_queue *q = &bf->q[r->q % bf->nq];
        uint64_t n = carve(bf, q, r->io, r->off, r->len, done);

        if (n == 0)
            goto out;
        q->st.reissued++;
        r->off += n;
        r->len -= n;
        if (r->len == 0)
            bf->redo_pos++;
    }
    bf->nredo = bf->redo_pos = 0;
    for (uint32_t i = 0; i < bf->nq; i++) {
        struct bf_queue *q = &bf->q[i];

        while (q->head != NULL) {
            struct xf_blkfront_io *io = q->head;
            uint64_t n = carve(bf, q, io, io->priv.issued, io->priv.total - io->priv.issued, done);

            if (n == 0)
                break;
            io->priv.issued += n;
            if (io->priv.issued == io->priv.total && q->head == io)
                fifo_pop(q);
        }
    }
out:
    for (uint32_t i = 0; i < bf->nq; i++)
        push(bf, &bf->q[i]);
}

/* ------------------------------------------------------------------------
 * Responses.
 */
static int complete_rsp(struct bf_queue *q, const struct blkif_response *rsp,
                        struct xf_blkfront_io **done)
{
    struct xf_blkfront *bf = q->bf;
    struct bf_shadow *s;
    struct xf_blkfront_io *io;
    int status;
    uint64_t off, len;
    uint8_t op;
    bool bounce;

    /* The id must name a request on the ring (K1, K2), the operation must
     * be the one sent (the inner one for indirect, as blkback does: K3). */
    if (xf_idtable_lookup(&q->ids, rsp->id, NULL) < 0) {
        xf_blkfront__break(bf, -XF_EPROTO, "response for no outstanding request", done);
        return -1;
    }
    s = &q->shadow[rsp->id];
    if (rsp->operation != s->rsp_op) {
        xf_blkfront__break(bf, -XF_EPROTO, "response operation differs from the request's", done);
        return -1;
    }
    io = s->io;
    off = s->off;
    len = s->len;
    op = s->rsp_op;
    bounce = !s->zc;
    switch (rsp->status) {
    case BLKIF_RSP_OKAY:
        status = 0;
        if (op == BLKIF_OP_READ && bounce) {
            for (uint32_t i = 0; i < s->nseg; i++) {
                uint64_t o = (uint64_t)i * XF_PAGE_SIZE;
                uint64_t n = len - o < XF_PAGE_SIZE ? len - o : XF_PAGE_SIZE;

                iov_copy(io, off + o, q->pages[s->pg[i]].va, (size_t)n, false);
            }
        }
        break;
    case BLKIF_RSP_EOPNOTSUPP:
        q->st.notsupp++;
        if (op == BLKIF_OP_FLUSH_DISKCACHE || op == BLKIF_OP_WRITE_BARRIER) {
            /* As Linux: both go, and a FUA write is then just a write. */
            bf->info.flush = bf->info.barrier = false;
            status = io->priv.phase == 1 ? 0 : -XF_EOPNOTSUPP;
        } else if (op == BLKIF_OP_DISCARD) {
            bf->info.discard = bf->info.discard_secure = false;
            status = -XF_EOPNOTSUPP;
        } else {
            status = -XF_EIO;    /* K5: not a thing a read or write may say */
        }
        break;
    case BLKIF_RSP_ERROR:
        q->st.errors++;
        status = -XF_EIO;
        break;
    default:
        q->st.errors++;
        q->st.bad_status++;
        status = -XF_EIO;        /* K4 */
        break;
    }
    /* A grant the back end still maps without negotiated persistence (K8):
     * it keeps access to our page; stop trusting it. The request stays
     * published so the failure path completes its I/O. */
    if (shadow_release(bf, q, s)) {
        s->io = io;
        xf_blkfront__break(bf, -XF_EPROTO, "grant still mapped after the response", done);
        return -1;
    }
    (void)xf_idtable_complete(&q->ids, rsp->id, NULL);
    piece_done(bf, io, len, status, done);
    return 0;
}

int xf_blkfront__process(struct bf_queue *q, struct xf_blkfront_io **done)
{
    struct xf_blkfront *bf = q->bf;
    uint32_t taken = 0;

    if (!q->up || bf->broken)
        return 0;
    while (taken < BF_BUDGET(q)) {
        struct blkif_response rsp[32];
        int n = XF_FRONT_RING_GET_RESPONSES(&q->ring, blkif, rsp, 32);

        if (n < 0) {
            xf_blkfront__break(bf, -XF_EPROTO, "response producer index out of range", done);
            return -XF_EIO;
        }
        if (n == 0) {
            n = xf_front_ring_final_check(&q->ring);
            if (n < 0) {
                xf_blkfront__break(bf, -XF_EPROTO, "response producer index out of range", done);
                return -XF_EIO;
            }
            if (n == 0)
                break;
            continue;
        }
        for (int i = 0; i < n; i++) {
            if (complete_rsp(q, &rsp[i], done) < 0)
                return -XF_EIO;
        }
        taken += (uint32_t)n;
    }
    q->st.responses += taken;
    return (int)taken;
}

void xf_blkfront__event(struct xf_evtchn *ec, evtchn_port_t port, void *arg)
{
    struct bf_queue *q = arg;
    struct xf_blkfront *bf = q->bf;
    struct xf_blkfront_io *done = NULL;
    xf_irqflags_t flags;
    int n;

    (void)ec;
    (void)port;
    flags = xf_plat_irq_save();
    q->st.events++;
    n = xf_blkfront__process(q, &done);
    if (n == 0)
        q->st.spurious++;
    xf_blkfront__kick(bf, &done);
    xf_plat_irq_restore(flags);
    xf_blkfront__run_done(bf, done);
}

/* ------------------------------------------------------------------------
 * Failure, holding, expiry.
 */
void xf_blkfront__fail_all(struct xf_blkfront *bf, int status, struct xf_blkfront_io **done)
{
    for (uint32_t qi = 0; qi < XF_BLKFRONT_MAX_QUEUES; qi++) {
        struct bf_queue *q = &bf->q[qi];

        if (q->up && q->shadow != NULL) {
            int32_t id = 0;

            while ((id = xf_idtable_next(&q->ids, (uint32_t)id,
                                         XF_ID_STATE_BIT(XF_ID_PUBLISHED) |
                                         XF_ID_STATE_BIT(XF_ID_RESERVED))) >= 0) {
                struct bf_shadow *s = &q->shadow[id];

                if (s->io != NULL)
                    fail_io(bf, s->io, status, done);
                (void)shadow_release(bf, q, s);
                id++;
            }
            (void)xf_idtable_init(&q->ids, q->id_slots, q->nr_ents);
        }
        while (q->head != NULL) {
            struct xf_blkfront_io *io = q->head;

            fifo_pop(q);
            fail_io(bf, io, status, done);
        }
    }
    for (uint32_t i = bf->redo_pos; i < bf->nredo; i++)
        fail_io(bf, bf->redo[i].io, status, done);
    bf->nredo = bf->redo_pos = 0;
}

void xf_blkfront__break(struct xf_blkfront *bf, int err, const char *why,
                        struct xf_blkfront_io **done)
{
    if (bf->broken)
        return;
    bf->broken = err;
    xf_log(XF_LOG_ERROR, "blkfront: %s: %s; device disabled", bf->fd.dev.nodename, why);
    for (uint32_t i = 0; i < XF_BLKFRONT_MAX_QUEUES; i++) {
        if (bf->q[i].up)
            (void)xf_evtchn_mask(bf->fd.ec, bf->q[i].port);
    }
    xf_blkfront__fail_all(bf, -XF_EIO, done);
}

static void redo_sort(struct xf_blkfront *bf)
{
    /* Compact, then insertion sort by seq (at most a few thousand, once
     * per reconnect). */
    uint32_t n = bf->nredo - bf->redo_pos;

    if (bf->redo_pos)
        memmove(bf->redo, bf->redo + bf->redo_pos, n * sizeof(bf->redo[0]));
    bf->redo_pos = 0;
    bf->nredo = n;
    for (uint32_t i = 1; i < n; i++) {
        struct bf_redo r = bf->redo[i];
        uint32_t j = i;

        while (j > 0 && bf->redo[j - 1].seq > r.seq) {
            bf->redo[j] = bf->redo[j - 1];
            j--;
        }
        bf->redo[j] = r;
    }
}

void xf_blkfront__save_inflight(struct xf_blkfront *bf, struct xf_blkfront_io **done)
{
    for (uint32_t qi = 0; qi < XF_BLKFRONT_MAX_QUEUES; qi++) {
        struct bf_queue *q = &bf->q[qi];
        int32_t id = 0;

        if (!q->up || q->shadow == NULL)
            continue;
        /* Responses it pushed before leaving are acknowledgements: take
         * them first, so nothing acknowledged is reissued. */
        while (xf_blkfront__process(q, done) > 0)
            ;
        if (bf->broken)
            return;
        while ((id = xf_idtable_next(&q->ids, (uint32_t)id,
                                     XF_ID_STATE_BIT(XF_ID_PUBLISHED))) >= 0) {
            struct bf_shadow *s = &q->shadow[id];
            struct xf_blkfront_io *io = s->io;

            if (bf->nredo < BF_MAX_REDO) {
                bf->redo[bf->nredo++] = (struct bf_redo){
                    .io = io, .seq = s->seq, .off = s->off, .len = s->len, .q = qi,
                };
            } else {
                piece_done(bf, io, s->len, -XF_EIO, done);
            }
            /* It is going away: a page it still maps is deferred, not a
             * violation. */
            (void)shadow_release(bf, q, s);
            id++;
        }
        (void)xf_idtable_init(&q->ids, q->id_slots, q->nr_ents);
    }
    redo_sort(bf);
}

void xf_blkfront__check_expiry(struct xf_blkfront *bf, struct xf_blkfront_io **done)
{
    if (bf->phase == BF_CONNECTED || bf->phase == BF_CLOSED || bf->expired || bf->broken ||
        bf->away_since == 0)
        return;
    if (xf_plat_now_ns() - bf->away_since < bf->cfg.reconnect_timeout_ns)
        return;
    bf->expired = true;
    xf_log(XF_LOG_WARN, "blkfront: %s: back end away past the deadline; failing held I/O",
           bf->fd.dev.nodename);
    xf_blkfront__fail_all(bf, -XF_EIO, done);
}

/* ------------------------------------------------------------------------
 * Per-queue tables and pools.
 */
static size_t align8(size_t n)
{
    return (n + 7) & ~(size_t)7;
}

int xf_blkfront__queue_tables(struct xf_blkfront *bf, struct bf_queue *q)
{
    uint32_t e = q->nr_ents, s = bf->max_segs, p = bf->cfg.pool_pages;
    size_t sz, o = 0;
    unsigned char *m;
    int rc;

    if (p == 0) {
        p = e * (BLKIF_MAX_SEGMENTS_PER_REQUEST + 1);
        if (p > BF_DEFAULT_POOL_MAX)
            p = BF_DEFAULT_POOL_MAX;
    }
    if (p < s + 1)
        p = s + 1;
    sz = align8(e * sizeof(struct xf_idtable_slot)) + align8(e * sizeof(struct bf_shadow)) +
         align8((size_t)e * s * sizeof(uint32_t)) + align8(p * sizeof(struct bf_page)) +
         align8(p * sizeof(grant_ref_t)) + align8(p * sizeof(uint32_t));
    q->tbl_pages = (sz + XF_PAGE_SIZE - 1) / XF_PAGE_SIZE;
    m = xf_plat_page_alloc(q->tbl_pages);
    if (m == NULL)
        return -XF_ENOMEM;
    q->tbl = m;
    q->id_slots = (void *)(m + o);
    o += align8(e * sizeof(struct xf_idtable_slot));
    q->shadow = (void *)(m + o);
    o += align8(e * sizeof(struct bf_shadow));
    q->pgstore = (void *)(m + o);
    o += align8((size_t)e * s * sizeof(uint32_t));
    q->pages = (void *)(m + o);
    o += align8(p * sizeof(struct bf_page));
    q->zrefs = (void *)(m + o);
    o += align8(p * sizeof(grant_ref_t));
    q->zfree = (void *)(m + o);
    (void)xf_idtable_init(&q->ids, q->id_slots, e);
    for (uint32_t i = 0; i < e; i++) {
        q->shadow[i].pg = q->pgstore + (size_t)i * s;
        q->shadow[i].ind = BF_NONE;
    }
    q->npages = 0;
    q->nfree = 0;
    q->free_head = BF_NONE;
    for (uint32_t i = 0; i < p; i++) {
        struct bf_page *pg = &q->pages[i];

        pg->va = xf_plat_page_alloc(1);
        if (pg->va == NULL) {
            rc = -XF_ENOMEM;
            goto fail;
        }
        q->npages++;
        if (bf->info.persistent) {
            /* Granted once, writable (blkback maps persistent grants
             * writable whatever the direction), kept for the connection. */
            rc = xf_gnttab_grant_page(bf->fd.gt, be_id(bf), pg->va, false, &pg->ref);
            if (rc < 0) {
                xf_plat_page_free(pg->va, 1);
                q->npages--;
                goto fail;
            }
            pg->granted = true;
        } else {
            rc = xf_gnttab_alloc_refs(bf->fd.gt, &pg->ref, 1);
            if (rc < 0) {
                xf_plat_page_free(pg->va, 1);
                q->npages--;
                goto fail;
            }
            pg->granted = false;
        }
        page_put(q, i);
    }
    q->nzrefs = 0;
    q->nzfree = 0;
    if (!bf->info.persistent) {
        rc = xf_gnttab_alloc_refs(bf->fd.gt, q->zrefs, p);
        if (rc < 0)
            goto fail;
        q->nzrefs = p;
        for (uint32_t i = 0; i < p; i++)
            q->zfree[q->nzfree++] = p - 1 - i;
    }
    return 0;
fail:
    xf_blkfront__queue_release(bf, q);
    return rc;
}

void xf_blkfront__queue_release(struct xf_blkfront *bf, struct bf_queue *q)
{
    if (q->tbl == NULL)
        return;
    for (uint32_t i = 0; i < q->npages; i++) {
        struct bf_page *pg = &q->pages[i];

        if (pg->va == NULL)
            continue;                    /* lost: the deferred list has it */
        if (pg->granted) {
            /* A persistent grant the departing back end may still hold. */
            if (xf_gnttab_end_access_deferred(bf->fd.gt, pg->ref, pg->va, page_release, NULL) < 0)
                xf_log(XF_LOG_ERROR, "blkfront: a pool page could not be reclaimed; leaked");
        } else {
            (void)xf_gnttab_free_refs(bf->fd.gt, &pg->ref, 1);
            xf_plat_page_free(pg->va, 1);
        }
        pg->va = NULL;
    }
    for (uint32_t i = 0; i < q->nzfree; i++)
        (void)xf_gnttab_free_refs(bf->fd.gt, &q->zrefs[q->zfree[i]], 1);
    xf_plat_page_free(q->tbl, q->tbl_pages);
    q->tbl = NULL;
    q->shadow = NULL;
    q->pages = NULL;
    q->npages = q->nfree = q->nzfree = q->nzrefs = 0;
    q->free_head = BF_NONE;
}
