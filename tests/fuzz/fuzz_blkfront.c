/*
 * fuzz_blkfront: blkfront's response consumer and data path
 * (blkfront/src/data.c) against a back end the fuzz input plays.
 *
 * The target builds a connected context by hand (no xenstore: the
 * negotiation is tested against the simulated blkback), with features,
 * ring order and segment limits from the input, then interleaves:
 *  - submissions of reads, writes (scatter lists, FUA, zero-copy),
 *    flushes and discards;
 *  - responses written into the shared ring: mostly for requests really
 *    on it (their id and operation, read from the slots), mutated at will
 *    (id, operation, status), then a response producer that may be bogus;
 *  - polls and events;
 *  - disconnect and reconnect (what is unacknowledged kept, re-split with
 *    other limits, reissued);
 *  - the back end pinning and unpinning grant entries (a page it still
 *    maps when its request completes or the queue goes away);
 *  - hypercall and allocation failures (fz_fault_plan: pages, grant-table
 *    growth, event channels) from any point on, once or for good, which
 *    the pools' set-up on reconnect and the notifications meet.
 * Checked: no crash or sanitizer report; every I/O's callback runs exactly
 * once (never for one still owned by the library); pending counts match;
 * a broken device has completed everything and accepts nothing; a failed
 * set-up of the pools returns a negative errno and leaves no page, grant
 * or reference behind, and the same set-up works once Xen does; at the
 * end every page and grant is given back (a pinned page once unpinned).
 */
#include "fz.h"

#include <xenfront/errno.h>
#include <xenfront/evtchn.h>
#include <xenfront/gnttab.h>

#include "../../blkfront/src/private.h"

#define NIO 48
#define BUFSZ (256 * 1024)

static struct xf_blkfront *bf;
static struct xf_gnttab *gt;
static struct xf_evtchn *ec;
static void *ring_mem;
static uint32_t ring_pages;
static RING_IDX be_req_cons, be_rsp_prod;

static struct xf_blkfront_io ios[NIO];
static struct xf_blkfront_iov iovs[NIO][3];
static uint8_t state[NIO];        /* 0 free, 1 submitted, 2 done */
static unsigned submitted_live;
static uint8_t *bufs;
#define GFRAMES 16u
static grant_entry_v1_t *gframes[GFRAMES];

static void physmap_hook(void *va, unsigned int space, xen_ulong_t idx)
{
    if (space == XENMAPSPACE_grant_table && idx < GFRAMES)
        gframes[idx] = va;
}

/* The back end pins (maps) or lets go of a live grant of ours. */
static void pin_grant(void)
{
    uint32_t start = fz_u16(), n = GFRAMES * XF_GNTTAB_REFS_PER_FRAME;
    uint16_t bit = fz_bool() ? GTF_reading : GTF_writing;

    for (uint32_t k = 0; k < n; k++) {
        uint32_t ref = (start + k) % n;
        grant_entry_v1_t *f = gframes[ref / XF_GNTTAB_REFS_PER_FRAME];

        if (ref < GNTTAB_NR_RESERVED_ENTRIES || f == NULL)
            continue;
        if (f[ref % XF_GNTTAB_REFS_PER_FRAME].flags & GTF_permit_access) {
            __atomic_fetch_xor(&f[ref % XF_GNTTAB_REFS_PER_FRAME].flags, bit, __ATOMIC_SEQ_CST);
            return;
        }
    }
}

static void unpin_all(void)
{
    for (unsigned f = 0; f < GFRAMES; f++)
        if (gframes[f] != NULL)
            for (unsigned i = 0; i < XF_GNTTAB_REFS_PER_FRAME; i++)
                __atomic_and_fetch(&gframes[f][i].flags, (uint16_t)~(GTF_reading | GTF_writing),
                                   __ATOMIC_SEQ_CST);
}

static void on_done(struct xf_blkfront *b, struct xf_blkfront_io *io, int status, void *arg)
{
    size_t i = (size_t)(uintptr_t)arg;

    (void)b;
    FZ_CHECK(&ios[i] == io, "callback for another I/O");
    FZ_CHECK(state[i] == 1, "callback for I/O %zu in state %u", i, state[i]);
    FZ_CHECK(status <= 0, "status %d", status);
    state[i] = 2;
    submitted_live--;
}

static void ring_up(void)
{
    struct bf_queue *q = &bf->q[0];
    struct xf_gnttab_stats before, after;
    long pages_before = fz_pages_live;
    unsigned long faults = fz_faults;
    int rc;

    rc = xf_front_ring_init(&q->ring, ring_mem, (size_t)ring_pages * XF_PAGE_SIZE,
                            XF_RING_SHAPE(blkif));
    FZ_CHECK(rc == 0, "ring init %d", rc);
    q->nr_ents = xf_front_ring_size(&q->ring);
    be_req_cons = be_rsp_prod = 0;
    bf->max_segs = 11 + fz_u8() % 246;
    bf->info.persistent = fz_bool();
    bf->info.flush = fz_bool();
    bf->info.barrier = fz_bool();
    bf->info.discard = fz_bool();
    bf->info.discard_secure = fz_bool();
    xf_gnttab_get_stats(gt, &before);
    rc = xf_blkfront__queue_tables(bf, q);
    if (rc < 0) {
        /* Only a refusal makes it fail, and it leaves nothing behind. */
        xf_gnttab_get_stats(gt, &after);
        FZ_CHECK(fz_faults != faults && (rc == -XF_ENOMEM || rc == -XF_ENOSPC ||
                                         fz_is_xen_error(rc)),
                 "tables failed: %d (faults %lu)", rc, fz_faults - faults);
        FZ_CHECK(fz_pages_live == pages_before, "failed tables left %ld pages",
                 fz_pages_live - pages_before);
        FZ_CHECK(after.granted_refs == before.granted_refs &&
                 after.reserved_refs == before.reserved_refs,
                 "failed tables left grants: granted %u -> %u, reserved %u -> %u",
                 before.granted_refs, after.granted_refs, before.reserved_refs,
                 after.reserved_refs);
        FZ_CHECK(q->tbl == NULL && q->npages == 0 && q->nzfree == 0, "failed tables kept state");
        /* Xen recovers: the same set-up works. */
        fz_fault_countdown = -1;
        rc = xf_blkfront__queue_tables(bf, q);
    }
    FZ_CHECK(rc == 0, "tables %d", rc);
    q->up = true;
    bf->nq = 1;
    bf->phase = BF_CONNECTED;
}

static void submit(void)
{
    size_t i = fz_u8() % NIO;
    struct xf_blkfront_io *io = &ios[i];
    uint8_t *b = bufs + (i % 4) * (BUFSZ / 4);
    uint32_t kind = fz_u8();
    size_t len = (size_t)(1 + fz_u8() % 128) * 512;
    int rc;

    if (state[i] == 1)
        return;
    memset(io, 0, sizeof(*io));
    io->op = kind % 4;
    io->flags = (kind >> 2) & (XF_BLKFRONT_F_FUA | XF_BLKFRONT_F_SECURE | XF_BLKFRONT_F_ZEROCOPY);
    io->sector = fz_u16() % 4096;
    io->nr_sectors = len / 512;
    if (io->flags & XF_BLKFRONT_F_ZEROCOPY) {
        iovs[i][0] = (struct xf_blkfront_iov){ b, len };
        io->nr_iov = 1;
    } else {
        size_t c = fz_u16() % len;

        iovs[i][0] = (struct xf_blkfront_iov){ b, c };
        iovs[i][1] = (struct xf_blkfront_iov){ b + c, len - c };
        io->nr_iov = 2;
    }
    io->iov = iovs[i];
    io->done = on_done;
    io->arg = (void *)(uintptr_t)i;
    state[i] = 1;
    submitted_live++;
    rc = xf_blkfront_submit(bf, io);
    if (rc < 0) {
        FZ_CHECK(state[i] == 1, "refused I/O had its callback");
        state[i] = 0;
        submitted_live--;
    }
}

/* The back end answers: ids and operations of real requests, mutated. */
static void respond(void)
{
    struct bf_queue *q = &bf->q[0];
    struct blkif_sring *s = ring_mem;
    unsigned n = 1 + fz_u8() % 8;

    if (!q->up)
        return;
    for (unsigned k = 0; k < n; k++) {
        RING_IDX prod = XF_READ_ONCE(s->req_prod);
        struct blkif_response r;
        uint32_t m = fz_u8();

        memset(&r, 0, sizeof(r));
        if (be_req_cons != prod && (uint32_t)(prod - be_req_cons) <= q->nr_ents) {
            const struct blkif_request *req = &s->ring[be_req_cons & (q->nr_ents - 1)].req;

            r.id = req->id;
            r.operation = req->operation == BLKIF_OP_INDIRECT
                              ? ((const struct blkif_request_indirect *)req)->indirect_op
                              : req->operation;
            be_req_cons++;
        } else {
            r.id = fz_u16();
            r.operation = fz_u8();
        }
        if (m & 1)
            r.id ^= (uint64_t)fz_u16() << (fz_u8() % 48);
        if (m & 2)
            r.operation = fz_u8();
        r.status = (m & 4) ? (int16_t)fz_u16() : (m & 8) ? (int16_t)-(int)(m >> 4) % 3 : 0;
        s->ring[be_rsp_prod & (q->nr_ents - 1)].rsp = r;
        be_rsp_prod++;
    }
    if (fz_u8() % 16 == 0)
        XF_WRITE_ONCE(s->rsp_prod, be_rsp_prod + fz_u16());   /* bogus */
    else
        XF_WRITE_ONCE(s->rsp_prod, be_rsp_prod);
}

static void reconnect(void)
{
    struct xf_blkfront_io *done = NULL;
    xf_irqflags_t fl = xf_plat_irq_save();

    xf_blkfront__save_inflight(bf, &done);
    xf_blkfront__queue_release(bf, &bf->q[0]);
    bf->q[0].up = false;
    bf->nq = 0;
    bf->phase = BF_AWAY;
    xf_plat_irq_restore(fl);
    xf_blkfront__run_done(bf, done);
    if (bf->broken)
        return;
    memset(ring_mem, 0, (size_t)ring_pages * XF_PAGE_SIZE);
    ring_up();
    done = NULL;
    fl = xf_plat_irq_save();
    xf_blkfront__kick(bf, &done);
    xf_plat_irq_restore(fl);
    xf_blkfront__run_done(bf, done);
}

static void check(void)
{
    unsigned live = 0;

    for (size_t i = 0; i < NIO; i++)
        live += state[i] == 1;
    FZ_CHECK(live == submitted_live, "live %u vs %u", live, submitted_live);
    FZ_CHECK(xf_blkfront_pending(bf) == live, "pending %llu, live %u",
             (unsigned long long)xf_blkfront_pending(bf), live);
    if (bf->broken)
        FZ_CHECK(live == 0, "broken with %u I/Os outstanding", live);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct xf_evtchn_config ecfg;
    struct xf_gnttab_config gcfg;
    long pages_start;
    int rc;

    fz_log_init();
    fz_start(data, size);
    fz_plat_reset();
    memset(state, 0, sizeof(state));
    submitted_live = 0;
    pages_start = fz_pages_live;
    bufs = xf_plat_page_alloc(BUFSZ / XF_PAGE_SIZE);
    FZ_CHECK(bufs != NULL, "alloc");
    memset(&ecfg, 0, sizeof(ecfg));
    ecfg.shared_info = fz_shinfo;
    rc = xf_evtchn_create(&ec, &ecfg);
    FZ_CHECK(rc == 0, "evtchn: %d", rc);
    memset(&gcfg, 0, sizeof(gcfg));
    gcfg.no_foreign_range = true;
    fz_gnt_nr_frames = 1;
    fz_gnt_max_frames = GFRAMES;
    memset(gframes, 0, sizeof(gframes));
    fz_physmap_hook = physmap_hook;
    rc = xf_gnttab_create(&gt, &gcfg);
    FZ_CHECK(rc == 0, "gnttab: %d", rc);

    bf = calloc(1, sizeof(*bf));
    FZ_CHECK(bf != NULL, "alloc");
    bf->redo = calloc(BF_MAX_REDO, sizeof(struct bf_redo));
    FZ_CHECK(bf->redo != NULL, "alloc");
    bf->fd.gt = gt;
    bf->fd.ec = ec;
    bf->fd.dev.backend_id = 0;
    memcpy(bf->fd.dev.nodename, "device/vbd/1", 13);
    bf->cfg.pool_pages = fz_bool() ? 0 : 12 + fz_u8();
    for (uint32_t i = 0; i < XF_BLKFRONT_MAX_QUEUES; i++) {
        bf->q[i].bf = bf;
        bf->q[i].index = i;
        bf->q[i].free_head = BF_NONE;
    }
    bf->info.sectors = 8192;
    bf->info.sector_size = fz_bool() ? 4096 : 512;
    bf->info.physical_sector_size = bf->info.sector_size;
    ring_pages = 1u << (fz_u8() % 5);
    ring_mem = xf_plat_page_alloc(ring_pages);
    FZ_CHECK(ring_mem != NULL, "alloc");
    ring_up();

    for (unsigned steps = 0; steps < 2000 && !fz_eof(); steps++) {
        uint8_t op = fz_u8();

        /* Ops 0xf0.. (others as before, so older inputs keep their
         * meaning): the back end pins a page, or Xen starts refusing. */
        if (op >= 0xf8) {
            fz_fault_plan(FZ_FAULT_ALL);
            check();
            continue;
        }
        if (op >= 0xf0) {
            pin_grant();
            check();
            continue;
        }
        switch (op % 8) {
        case 0: case 1: case 2:
            submit();
            break;
        case 3: case 4:
            respond();
            break;
        case 5:
            (void)xf_blkfront_poll(bf);
            break;
        case 6:
            if (bf->q[0].up)
                xf_blkfront__event(ec, 0, &bf->q[0]);
            break;
        case 7:
            if (fz_u8() % 4 == 0)
                reconnect();
            break;
        }
        check();
    }

    /* Close: everything left fails once, everything is given back. */
    fz_fault_countdown = -1;
    {
        struct xf_blkfront_io *done = NULL;

        xf_blkfront__fail_all(bf, -XF_ENOTCONN, &done);
        xf_blkfront__run_done(bf, done);
        for (size_t i = 0; i < NIO; i++)
            FZ_CHECK(state[i] != 1, "I/O %zu never completed", i);
        FZ_CHECK(xf_blkfront_pending(bf) == 0, "pending at close");
        xf_blkfront__queue_release(bf, &bf->q[0]);
    }
    /* The back end lets go of everything: the deferred pages come back. */
    unpin_all();
    (void)xf_gnttab_reclaim(gt);
    {
        struct xf_gnttab_stats st;

        xf_gnttab_get_stats(gt, &st);
        FZ_CHECK(st.granted_refs == 0 && st.reserved_refs == 0, "grants left: %u granted, %u reserved",
                 st.granted_refs, st.reserved_refs);
    }
    xf_plat_page_free(ring_mem, ring_pages);
    xf_plat_page_free(bufs, BUFSZ / XF_PAGE_SIZE);
    free(bf->redo);
    free(bf);
    bf = NULL;
    rc = xf_gnttab_destroy(gt);
    FZ_CHECK(rc == 0, "gnttab destroy %d", rc);
    xf_evtchn_destroy(ec);
    fz_physmap_hook = NULL;
    FZ_CHECK(fz_pages_live == pages_start, "pages: %ld live, %ld at the start", fz_pages_live,
             pages_start);
    return 0;
}
