/*
 * fuzz_netfront: netfront's tx and rx response consumers, the paths that
 * read what a back end writes. The input plays the back end: between the
 * guest's sends, receives and polls it writes any bytes it likes as tx and
 * rx responses, moves rsp_prod anywhere (backwards, past the requests),
 * pins grant entries (a back end still mapping a page), and the target
 * checks after every step:
 *  - the critical section is balanced;
 *  - unless the device is broken: every tx slot in flight is a published
 *    id or an extra awaiting its NULL response (nothing leaked), the rx
 *    ring holds exactly the buffers the page states say are posted, and
 *    no page is in two places;
 *  - every packet sent completes at most once, and by the end (after the
 *    failing of what is left) exactly once, unless its grant is still
 *    pinned, and nothing completes that was not sent;
 *  - a received packet's fragments lie inside their buffer pages and add
 *    up to its length, at least 14 bytes;
 *  - with hypercall and allocation failures injected (fz_fault_plan: page
 *    allocation, grant-table growth, every event-channel op; once or for
 *    good) from any step on: a queue's set-up again (tx, then rx, as
 *    netfront's queue_up does) either works or returns a negative errno
 *    and holds no more references or pages than before it, and works once
 *    Xen does; frontdev's rings and channels (set up, torn down with pages
 *    the back end still maps, deferred or not) fail the same way, never
 *    half-granted, and a ring whose teardown could not even defer is
 *    leaked as its contract says, not freed while mapped.
 * Negotiation is not fuzzed here (libxenbus and the device layer have
 * their own targets): the context is put together by hand, connected.
 */
#include "fz.h"

#include "../../netfront/src/private.h"

/* FUZZ_TRACE=1: narrate a run (for reading a crash). */
static int trace = -1;
#define TRACE(...) do { if (trace > 0) { fprintf(stderr, __VA_ARGS__); fputc('\n', stderr); } } while (0)

#define NPKT 64
#define TXS 32u

static struct xf_gnttab *gt;
static struct xf_evtchn *ec;
static struct xf_netfront *nf;
static struct nf_queue *q;
static grant_entry_v1_t *gframes[4];
static unsigned done_count[NPKT + 1];
static bool sent[NPKT + 1];
static unsigned next_cookie;
static uint32_t kept[256];
static unsigned nkept;
static unsigned char zcbuf[3 * 4096] __attribute__((aligned(4096)));
static long pages_at_start;

/* frontdev's ring and channels driven directly (frontdev_step). */
static struct xf_frontdev_ring xring;
static bool xring_up;
struct leak {
    void *va;
    unsigned pages;
    grant_ref_t refs[XF_FRONTDEV_MAX_RING_PAGES];
    bool busy[XF_FRONTDEV_MAX_RING_PAGES];   /* still granted: ours to end */
};
#define NLEAKS 64
static struct leak leaks[NLEAKS];
static unsigned nleaks;
static evtchn_port_t xports[8];
static unsigned nxports;

static void physmap_hook(void *va, unsigned int space, xen_ulong_t idx)
{
    if (space == XENMAPSPACE_grant_table && idx < 4)
        gframes[idx] = va;
}

static grant_entry_v1_t *gentry(grant_ref_t ref)
{
    unsigned f = ref / XF_GNTTAB_REFS_PER_FRAME;

    return f < 4 && gframes[f] != NULL ? &gframes[f][ref % XF_GNTTAB_REFS_PER_FRAME] : NULL;
}

static void on_done(struct xf_netfront *n, unsigned int qi, void *cookie, int status, void *arg)
{
    uintptr_t c = (uintptr_t)cookie;

    (void)n, (void)qi, (void)arg;
    FZ_CHECK(c >= 1 && c <= NPKT && sent[c], "completion of a packet never sent: %zu", (size_t)c);
    FZ_CHECK(done_count[c] == 0, "packet %zu completed twice", (size_t)c);
    TRACE("packet %zu completed: %d", (size_t)c, status);
    FZ_CHECK(status == 0 || status == -XF_EIO || status == -XF_EPROTO || status == -XF_ENOTCONN,
             "status %d", status);
    done_count[c]++;
}

static bool on_rx(struct xf_netfront *n, const struct xf_netfront_rx_pkt *p, void *arg)
{
    uint32_t sum = 0;

    (void)n, (void)arg;
    FZ_CHECK(p->len >= 14 && p->nfrags >= 1 && p->nfrags <= XF_NETFRONT_RX_MAX_FRAGS,
             "packet len %u frags %u", p->len, p->nfrags);
    for (unsigned i = 0; i < p->nfrags; i++) {
        const struct xf_netfront_rx_frag *f = &p->frags[i];
        unsigned pi = f->buf & 0xffff;
        const unsigned char *base;

        FZ_CHECK((f->buf >> 16) == 0 && pi < q->npages, "bad token %x", f->buf);
        base = q->pages[pi].va;
        FZ_CHECK((const unsigned char *)f->data >= base &&
                 (const unsigned char *)f->data + f->len <= base + 4096, "frag outside its page");
        sum += f->len;
    }
    FZ_CHECK(sum == p->len, "frags %u != len %u", sum, p->len);
    /* Keep some buffers (returned later), copy the rest. */
    if (nkept + p->nfrags <= 256 && fz_bool()) {
        for (unsigned i = 0; i < p->nfrags; i++)
            kept[nkept++] = p->frags[i].buf;
        return true;
    }
    return false;
}

static void check_state(void)
{
    unsigned posted = 0, held = 0, absent = 0;

    FZ_CHECK(fz_irq_depth == 0, "irq depth %ld", fz_irq_depth);
    if (nf->broken)
        return;
    FZ_CHECK(xf_idtable_published(&q->ids) + q->extras_out == xf_front_ring_outstanding(&q->tx),
             "tx slots leaked: published %u extras %u outstanding %u",
             xf_idtable_published(&q->ids), q->extras_out, xf_front_ring_outstanding(&q->tx));
    for (unsigned i = 0; i < q->npages; i++) {
        if (q->pages[i].state == NF_PG_POSTED)
            posted++;
        if (q->pages[i].state == NF_PG_HELD)
            held++;
        /* Not allocated (a failed allocation), or handed to the deferred
         * list: allocated again at the next set-up. */
        if (q->pages[i].state == NF_PG_FREE && q->pages[i].va == NULL)
            absent++;
    }
    FZ_CHECK(posted == xf_front_ring_outstanding(&q->rx), "rx posted %u, ring %u", posted,
             xf_front_ring_outstanding(&q->rx));
    FZ_CHECK(held == q->as.npages, "held %u, assembling %u", held, q->as.npages);
    FZ_CHECK(q->nfree_pages + posted + held + q->lent + absent == q->npages, "rx pages lost");
}

static void do_send(void)
{
    struct xf_netfront_frag fr[4];
    struct xf_netfront_tx t;
    static unsigned char buf[65536];
    unsigned nfr = 1 + fz_u8() % 4;
    uint32_t len = 0;
    int rc;

    if (next_cookie >= NPKT)
        return;
    memset(&t, 0, sizeof(t));
    t.flags = fz_u8() & 7u;
    for (unsigned i = 0; i < nfr; i++) {
        uint32_t l = fz_u16() % 9000;

        if (t.flags & XF_NETFRONT_TX_ZEROCOPY) {
            uint32_t off = fz_u16() % 4096;

            if (l > sizeof(zcbuf) - off)
                l = (uint32_t)sizeof(zcbuf) - off;
            fr[i].data = zcbuf + off;
        } else {
            fr[i].data = buf;
        }
        fr[i].len = l;
        len += l;
    }
    t.frags = fr;
    t.nfrags = nfr;
    if (fz_bool()) {
        t.gso_type = fz_u8() % 4;
        t.gso_size = fz_u16();
    }
    t.cookie = (void *)(uintptr_t)(next_cookie + 1);
    rc = xf_netfront_send(nf, 0, &t);
    TRACE("send packet %u (%u frags, flags %#x): %d", next_cookie + 1, nfr, t.flags, rc);
    if (rc == 0) {
        sent[++next_cookie] = true;
    } else {
        FZ_CHECK(rc == -XF_EAGAIN || rc == -XF_EINVAL || rc == -XF_EMSGSIZE ||
                 rc == -XF_EOPNOTSUPP || rc == -XF_EPROTO, "send: %d", rc);
        (void)len;
    }
}

/* The back end writes n responses (raw bytes) and moves rsp_prod. */
static void backend_responses(bool rx)
{
    struct xf_front_ring *r = rx ? &q->rx : &q->tx;
    unsigned n = fz_u8() % 24;
    RING_IDX prod = r->sring->rsp_prod;

    for (unsigned i = 0; i < n; i++) {
        unsigned char *slot = xf_ring__slot(r->ents, r->nr_ents, r->shape.ent_size, prod + i);
        unsigned char rec[8];

        fz_bytes(rec, r->shape.rsp_size);
        /* Mostly plausible: echo the request's id when asked. */
        if (fz_u8() & 1) {
            if (rx) {
                uint16_t id = (uint16_t)((prod + i) & (NF_RING - 1));

                memcpy(rec, &id, 2);
            } else {
                uint16_t id = ((netif_tx_request_t *)(void *)slot)->id;

                memcpy(rec, &id, 2);
            }
        }
        memcpy(slot, rec, r->shape.rsp_size);
    }
    switch (fz_u8() % 8) {
    case 0:
        prod += (RING_IDX)(int8_t)fz_u8();        /* anywhere near */
        break;
    case 1:
        prod += fz_u32();                         /* anywhere at all */
        break;
    default:
        prod += n;
        break;
    }
    XF_WMB();
    r->sring->rsp_prod = prod;
}

static void pin_grant(void)
{
    grant_ref_t ref;
    grant_entry_v1_t *e;

    switch (fz_u8() % 3) {
    case 0:
        ref = q->zc_ref[fz_u8() % TXS];
        break;
    case 1:
        ref = q->rx_ref[fz_u8() % NF_RING];
        break;
    default:
        ref = q->pool_ref[fz_u8() % TXS];
        break;
    }
    e = gentry(ref);
    if (e != NULL && (e->flags & GTF_permit_access))
        __atomic_fetch_xor(&e->flags, (uint16_t)(fz_bool() ? GTF_reading : GTF_writing),
                           __ATOMIC_SEQ_CST);
}

static void grant_counts(uint32_t *held)
{
    struct xf_gnttab_stats st;

    xf_gnttab_get_stats(gt, &st);
    *held = st.granted_refs + st.reserved_refs;
}

static bool refusal(int rc, unsigned long faults_before)
{
    return fz_faults != faults_before &&
           (rc == -XF_ENOMEM || rc == -XF_ENOSPC || fz_is_xen_error(rc));
}

/* The back end lets go of every page it maps. */
static void unpin_all(void)
{
    for (unsigned f = 0; f < 4; f++)
        if (gframes[f] != NULL)
            for (unsigned i = 0; i < XF_GNTTAB_REFS_PER_FRAME; i++)
                __atomic_and_fetch(&gframes[f][i].flags, (uint16_t)~(GTF_reading | GTF_writing),
                                   __ATOMIC_SEQ_CST);
}

/* The queue goes down and comes up again, as netfront's queue_down and
 * queue_up do it (without the store), maybe while Xen refuses. */
static void requeue(void)
{
    uint32_t held_before, held_after;
    long pages_before;
    unsigned long faults;
    int rc;

    nf->connected = false;
    q->up = false;
    xf_netfront__tx_teardown(q, -XF_ENOTCONN);
    xf_netfront__rx_teardown(q);
    /* A zero-copy grant the back end still maps stays deferred across the
     * set-up: its packet completes when the grant is released, later
     * (tests/fuzz/crashes/README.md, the reconnect finding). */
    memset(q->txr_mem.sring, 0, XF_PAGE_SIZE);
    memset(q->rxr_mem.sring, 0, XF_PAGE_SIZE);
    FZ_CHECK(xf_front_ring_init(&q->tx, q->txr_mem.sring, 4096, XF_RING_SHAPE(netif_tx)) == 0 &&
             xf_front_ring_init(&q->rx, q->rxr_mem.sring, 4096, XF_RING_SHAPE(netif_rx)) == 0,
             "rings");
    for (int attempt = 0;; attempt++) {
        grant_counts(&held_before);
        pages_before = fz_pages_live;
        faults = fz_faults;
        rc = xf_netfront__tx_setup(q);
        if (rc == 0) {
            rc = xf_netfront__rx_setup(q);
            if (rc < 0)
                xf_netfront__tx_teardown(q, -XF_ENOTCONN);
        }
        if (rc == 0)
            break;
        grant_counts(&held_after);
        FZ_CHECK(attempt == 0 && refusal(rc, faults), "queue set-up failed: %d", rc);
        FZ_CHECK(held_after == held_before, "failed set-up holds %d more references",
                 (int)(held_after - held_before));
        /* rx pages allocated before the failure stay with the queue (for
         * the next set-up); none of tx's. */
        FZ_CHECK(fz_pages_live >= pages_before &&
                 fz_pages_live - pages_before <= (long)q->npages,
                 "failed set-up: %ld pages", fz_pages_live - pages_before);
        fz_fault_countdown = -1;   /* Xen recovers */
    }
    q->up = true;
    nf->connected = true;
    xf_netfront__rx_refill(q);
}

static void on_port(struct xf_evtchn *e, evtchn_port_t port, void *arg)
{
    (void)e, (void)port, (void)arg;
}

/* frontdev's rings and event channels, as the drivers use them. */
static void frontdev_step(void)
{
    uint32_t held_before, held_after;
    long pages_before = fz_pages_live;
    unsigned long faults = fz_faults;
    int rc;

    grant_counts(&held_before);
    switch (fz_u8() % 5) {
    case 0: { /* set up a ring */
        unsigned order = fz_u8() % 6;

        if (xring_up)
            break;
        memset(&xring, 0xa5, sizeof(xring));
        rc = xf_frontdev_ring_setup(&nf->fd, &xring, order);
        grant_counts(&held_after);
        if (rc == 0) {
            FZ_CHECK(order <= XF_FRONTDEV_MAX_ORDER && xring.granted &&
                     xring.bytes == (size_t)XF_PAGE_SIZE << order &&
                     held_after == held_before + (1u << order),
                     "ring set-up: order %u, %u refs", order, held_after - held_before);
            for (size_t i = 0; i < xring.bytes; i++)
                FZ_CHECK(((unsigned char *)xring.sring)[i] == 0, "ring page not zeroed");
            for (unsigned i = 0; i < (1u << order); i++) {
                grant_entry_v1_t *e = gentry(xring.refs[i]);

                FZ_CHECK(e == NULL || (e->flags & (GTF_permit_access | GTF_readonly)) ==
                                          GTF_permit_access,
                         "ring page %u not granted writable", i);
            }
            xring_up = true;
        } else {
            static const struct xf_frontdev_ring zero;

            FZ_CHECK(order > XF_FRONTDEV_MAX_ORDER ? rc == -XF_EINVAL : refusal(rc, faults),
                     "ring set-up (order %u): %d", order, rc);
            FZ_CHECK(memcmp(&xring, &zero, sizeof(zero)) == 0, "failed set-up left the ring");
            FZ_CHECK(held_after == held_before && fz_pages_live == pages_before,
                     "failed ring set-up holds %d refs, %ld pages",
                     (int)(held_after - held_before), fz_pages_live - pages_before);
        }
        break;
    }
    case 1: { /* the back end maps a ring page */
        grant_entry_v1_t *e;

        if (!xring_up)
            break;
        e = gentry(xring.refs[fz_u8() % (1u << xring.order)]);
        if (e != NULL)
            __atomic_fetch_or(&e->flags, (uint16_t)(fz_bool() ? GTF_reading : GTF_writing),
                              __ATOMIC_SEQ_CST);
        break;
    }
    case 2: { /* tear it down */
        struct leak l;
        unsigned busy = 0;

        /* The target's own bound on rings it keeps to free at the end. */
        if (!xring_up || nleaks == NLEAKS)
            break;
        l.va = xring.sring;
        l.pages = 1u << xring.order;
        memcpy(l.refs, xring.refs, sizeof(l.refs));
        for (unsigned i = 0; i < l.pages; i++) {
            grant_entry_v1_t *e = gentry(xring.refs[i]);

            l.busy[i] = e != NULL && (e->flags & (GTF_reading | GTF_writing)) != 0;
            busy += l.busy[i];
        }
        rc = xf_frontdev_ring_teardown(&nf->fd, &xring);
        xring_up = false;
        FZ_CHECK(!xring.granted && xring.sring == NULL, "teardown left the ring");
        if (busy == 0) {
            FZ_CHECK(rc == 0 && fz_pages_live == pages_before - (long)l.pages,
                     "teardown of an unmapped ring: %d", rc);
        } else if (rc == 1) {
            /* Deferred: the pages stay until the back end lets go. */
            FZ_CHECK(fz_pages_live == pages_before + 1, "deferred teardown: %ld pages",
                     fz_pages_live - pages_before);
        } else {
            /* Not even deferred: leaked on purpose, never freed while
             * mapped; we give it back after the back end lets go. */
            FZ_CHECK((rc == -XF_ENOMEM || rc == -XF_ENOSPC) && fz_faults != faults,
                     "teardown: %d", rc);
            FZ_CHECK(fz_pages_live >= pages_before, "leaked ring freed");
            leaks[nleaks++] = l;
        }
        break;
    }
    case 3: { /* an event channel for the back end */
        evtchn_port_t port = 0xdead;

        if (nxports == 8)
            break;
        rc = xf_frontdev_evtchn_alloc(&nf->fd, on_port, NULL, &port);
        if (rc == 0) {
            FZ_CHECK(port != 0 && port != 0xdead, "port %u", port);
            xports[nxports++] = port;
        } else {
            FZ_CHECK(refusal(rc, faults), "evtchn_alloc: %d", rc);
            FZ_CHECK(port == 0xdead, "failed alloc wrote a port");
        }
        break;
    }
    default: /* close one: never fails for the caller, even if Xen does */
        if (nxports != 0) {
            unsigned k = fz_u8() % nxports;

            xf_frontdev_evtchn_free(&nf->fd, xports[k]);
            xports[k] = xports[--nxports];
        }
        break;
    }
}

static void setup(void)
{
    struct xf_gnttab_config gc;
    struct xf_evtchn_config ecfg;
    unsigned npages = 32 + 8;
    int rc;

    fz_plat_reset();
    fz_log_init();
    pages_at_start = fz_pages_live;
    memset(gframes, 0, sizeof(gframes));
    fz_physmap_hook = physmap_hook;
    memset(&gc, 0, sizeof(gc));
    gc.deferred_max = 1024;   /* every pinned grant can be deferred */
    gc.no_foreign_range = true;
    rc = xf_gnttab_create(&gt, &gc);
    FZ_CHECK(rc == 0, "gnttab %d", rc);
    memset(&ecfg, 0, sizeof(ecfg));
    ecfg.shared_info = fz_shinfo;
    rc = xf_evtchn_create(&ec, &ecfg);
    FZ_CHECK(rc == 0, "evtchn %d", rc);
    nf = calloc(1, sizeof(*nf));
    q = calloc(1, sizeof(*q) + npages * (sizeof(struct nf_rxpage) + sizeof(uint16_t)) + 16);
    FZ_CHECK(nf != NULL && q != NULL, "oom");
    nf->fd.gt = gt;
    nf->fd.ec = ec;
    nf->fd.dev.backend_id = 0;
    nf->fd.open = true;         /* by hand: frontdev_step uses its rings */
    memcpy(nf->fd.dev.nodename, "device/vif/0", 13);
    nf->cfg.tx_done = on_done;
    nf->cfg.rx = on_rx;
    nf->cfg.max_queues = 1;
    nf->tx_slots = TXS;
    nf->rx_slots = 32;
    nf->rx_spare = 8;
    nf->budget = 1 + fz_u8() % 64;
    nf->storm = 64;
    {
        /* One byte: bit 0 the tx event mode (as before, so the corpus
         * keeps its meaning), the rest an rx event batch (0: the default). */
        uint8_t m = fz_u8();

        nf->cfg.tx_event_final = m & 1;
        nf->cfg.rx_event_batch = m >> 1;
    }
    nf->info.sg = fz_bool();
    nf->info.gso_tcpv4 = nf->info.sg && fz_bool();
    nf->info.gso_tcpv6 = nf->info.sg && fz_bool();
    nf->nq = 1;
    nf->q[0] = q;
    q->nf = nf;
    q->npages = npages;
    q->pages = (struct nf_rxpage *)(void *)(q + 1);
    q->page_free = (uint16_t *)(void *)(q->pages + npages);
    q->txr_mem.sring = xf_plat_page_alloc(1);
    q->rxr_mem.sring = xf_plat_page_alloc(1);
    FZ_CHECK(xf_front_ring_init(&q->tx, q->txr_mem.sring, 4096, XF_RING_SHAPE(netif_tx)) == 0 &&
             xf_front_ring_init(&q->rx, q->rxr_mem.sring, 4096, XF_RING_SHAPE(netif_rx)) == 0,
             "rings");
    FZ_CHECK(xf_netfront__tx_setup(q) == 0, "tx setup");
    FZ_CHECK(xf_netfront__rx_setup(q) == 0, "rx setup");
    q->up = true;
    nf->connected = true;
    xf_netfront__rx_refill(q);
    memset(done_count, 0, sizeof(done_count));
    memset(sent, 0, sizeof(sent));
    next_cookie = 0;
    nkept = 0;
    xring_up = false;
    nleaks = 0;
    nxports = 0;
}

static void teardown(void)
{
    /* Disconnect: the back end lets go of everything it pinned... mostly. */
    bool unpin = fz_u8() % 4 != 0;

    if (unpin)
        unpin_all();
    fz_fault_countdown = -1;
    nf->connected = false;
    q->up = false;
    while (nxports != 0)
        xf_frontdev_evtchn_free(&nf->fd, xports[--nxports]);
    if (xring_up && unpin)
        FZ_CHECK(xf_frontdev_ring_teardown(&nf->fd, &xring) == 0, "ring teardown");
    else if (xring_up)
        FZ_CHECK(xf_frontdev_ring_teardown(&nf->fd, &xring) >= 0, "ring teardown");
    xf_netfront__tx_teardown(q, nf->broken ? nf->broken : -XF_ENOTCONN);
    xf_netfront__rx_teardown(q);
    for (unsigned i = 0; i < nkept; i++)
        FZ_CHECK(xf_netfront_rx_return(nf, kept[i]) == 0, "return of a kept buffer");
    if (!unpin)
        unpin_all();
    (void)xf_gnttab_reclaim(gt);
    /* Rings whose teardown could not defer: unmapped now, so ours to end
     * and free (the library must not have). */
    for (unsigned i = 0; i < nleaks; i++) {
        for (unsigned k = 0; k < leaks[i].pages; k++)
            if (leaks[i].busy[k])
                FZ_CHECK(xf_gnttab_end_access(gt, leaks[i].refs[k]) == 0,
                         "a leaked ring's grant was ended");
        xf_plat_page_free(leaks[i].va, leaks[i].pages);
    }
    for (unsigned c = 1; c <= next_cookie; c++)
        FZ_CHECK(done_count[c] == 1, "packet %u completed %u times", c, done_count[c]);
    FZ_CHECK(nf->deferred == 0, "deferred %u", nf->deferred);
    for (unsigned i = 0; i < q->npages; i++)
        if (q->pages[i].va != NULL)
            xf_plat_page_free(q->pages[i].va, 1);
    xf_plat_page_free(q->txr_mem.sring, 1);
    xf_plat_page_free(q->rxr_mem.sring, 1);
    FZ_CHECK(xf_gnttab_destroy(gt) == 0, "grants left behind");
    xf_evtchn_destroy(ec);
    free(q);
    free(nf);
    fz_physmap_hook = NULL;
    FZ_CHECK(fz_pages_live == pages_at_start, "pages leaked: %ld", fz_pages_live - pages_at_start);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fz_start(data, size);
    if (trace < 0) {
        const char *e = getenv("FUZZ_TRACE");

        trace = e != NULL && *e == '1';
    }
    setup();
    for (unsigned step = 0; step < 200 && !fz_eof(); step++) {
        uint8_t op = fz_u8();

        TRACE("step %u: op %#x (deferred %u, faults %lu)", step, op, nf->deferred, fz_faults);
        /* Ops 0xf0.. (others as before, so older inputs keep their
         * meaning): Xen starts refusing, the queue comes up again,
         * frontdev's rings and channels. */
        if (op >= 0xf0) {
            if (op >= 0xfa)
                fz_fault_plan(FZ_FAULT_ALL);
            else if (op >= 0xf6)
                requeue();
            else
                frontdev_step();
            check_state();
            continue;
        }
        switch (op % 8) {
        case 0:
        case 1:
            do_send();
            break;
        case 2:
            backend_responses(false);
            xf_netfront__tx_gc(q);
            break;
        case 3:
        case 4:
            backend_responses(true);
            xf_netfront__rx_work(q);
            break;
        case 5:
            (void)xf_netfront_poll(nf);
            break;
        case 6:
            pin_grant();
            break;
        default:
            if (nkept > 0) {
                unsigned k = fz_u8() % nkept;

                FZ_CHECK(xf_netfront_rx_return(nf, kept[k]) == 0, "return");
                kept[k] = kept[--nkept];
            }
            break;
        }
        check_state();
    }
    teardown();
    return 0;
}
