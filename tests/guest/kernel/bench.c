/*
 * Benchmark mode (command line xf-bench; scripts/bench-guest.sh): the block
 * patterns a Linux domU runs with fio in the same boot, on the same disks
 * (xvda: a file on dom0's tmpfs through loop0; xvdb: null_blk), through
 * libxfblkfront at its defaults. Each phase keeps its queue depth of I/Os
 * in flight for a fixed time, resubmitting from the completion callback
 * (which runs in the event handler), as fio keeps its iodepth.
 *
 * The figures that count are dom0's: before and after each phase the
 * kernel writes "start|end DISK PHASE BS" to data/bench/N, and dom0's
 * monitor (dom0/xf-bench-mon.c) times the phase by blkback's own request
 * and sector counters, for this kernel and for Linux alike. The kernel
 * also prints what it measured itself, with Xen's clock.
 */
#include "guest.h"

#include <xenfront/blkfront.h>
#include <xenfront/errno.h>
#include <xenfront/platform.h>

#define SECT 512u
#define MAX_QD 32u

struct phase {
    const char *name;
    uint32_t bs;          /* bytes per I/O */
    unsigned qd;
    bool write, seq;
};

/* The same list, in the same order, as the Linux domU's init (run.sh). */
static const struct phase phases[] = {
    { "randread-4k-qd1", 4096, 1, false, false },
    { "randread-4k-qd32", 4096, 32, false, false },
    { "randwrite-4k-qd32", 4096, 32, true, false },
    { "seqread-1m-qd8", 1u << 20, 8, false, true },
    { "seqwrite-1m-qd8", 1u << 20, 8, true, true },
};

struct run;

struct slot {
    struct xf_blkfront_io io;
    struct xf_blkfront_iov iov;
    struct run *r;
};

struct run {
    struct xf_blkfront *bf;
    const struct phase *ph;
    uint64_t blocks;              /* disk size in bs units */
    uint64_t next;                /* sequential: next block */
    uint64_t rnd;                 /* xorshift state */
    volatile uint64_t ops;
    volatile unsigned inflight;
    volatile int err;
    volatile bool stop;
    struct slot slots[MAX_QD];
};

static uint64_t pick_block(struct run *r)
{
    if (r->ph->seq) {
        uint64_t b = r->next++;
        if (r->next == r->blocks)
            r->next = 0;
        return b;
    }
    r->rnd ^= r->rnd << 13;
    r->rnd ^= r->rnd >> 7;
    r->rnd ^= r->rnd << 17;
    return r->rnd % r->blocks;
}

static int submit_slot(struct run *r, struct slot *s)
{
    s->io.sector = pick_block(r) * (r->ph->bs / SECT);
    r->inflight++;
    int rc = xf_blkfront_submit(r->bf, &s->io);
    if (rc < 0) {
        r->inflight--;
        if (r->err == 0)
            r->err = rc;
    }
    return rc;
}

/* Completion (event handler): count it and put the slot back in flight. */
static void bench_done(struct xf_blkfront *bf, struct xf_blkfront_io *io, int status, void *arg)
{
    struct slot *s = arg;
    struct run *r = s->r;
    (void)bf;
    (void)io;
    r->inflight--;
    if (status != 0) {
        if (r->err == 0)
            r->err = status;
        return;
    }
    r->ops++;
    if (!r->stop)
        (void)submit_slot(r, s);
}

/* Each marker its own node (data/bench/N): a watch event reports a path,
 * and a node rewritten before dom0 reads it would lose a marker. */
static void marker(const char *what, const char *disk, const struct phase *ph)
{
    static unsigned seq;
    char v[96], path[32];
    int n = ksnprintf(v, sizeof(v), "%s %s %s %u", what, disk, ph ? ph->name : "-",
                      ph ? ph->bs : 0);
    ksnprintf(path, sizeof(path), "data/bench/%u", seq++);
    int rc = xf_xenbus_write(xb, XF_XENBUS_TX_NONE, path, v, (size_t)n, deadline_ms(5000));
    if (rc < 0)
        kprintf("# bench: marker '%s' not written: %d\n", v, rc);
}

/* Wait until cond() or the deadline, servicing the device meanwhile. */
static void run_until(struct run *r, uint64_t until, bool drain)
{
    for (;;) {
        uint64_t now = xf_plat_now_ns();
        if (now >= until || (drain && r->inflight == 0))
            return;
        if (xf_blkfront_needs_service(r->bf))
            (void)xf_blkfront_service(r->bf, deadline_ms(5000));
        (void)kwait(now + 20 * NS_PER_MS < until ? now + 20 * NS_PER_MS : until);
    }
}

static const char *bench_phase(struct xf_blkfront *bf, const struct xf_blkfront_info *in,
                               const char *disk, const struct phase *ph, uint64_t secs,
                               uint8_t *bufs)
{
    static struct run r;
    memset(&r, 0, sizeof(r));
    r.bf = bf;
    r.ph = ph;
    r.blocks = in->sectors * in->sector_size / ph->bs;
    r.rnd = 0x9e3779b97f4a7c15ull ^ ((uint64_t)self_id << 32);
    CHECK(r.blocks > ph->qd, "%s: disk too small", disk);
    for (unsigned i = 0; i < ph->qd; i++) {
        struct slot *s = &r.slots[i];
        s->r = &r;
        s->iov.base = bufs + (size_t)i * ph->bs;
        s->iov.len = ph->bs;
        s->io.op = ph->write ? XF_BLKFRONT_WRITE : XF_BLKFRONT_READ;
        s->io.iov = &s->iov;
        s->io.nr_iov = 1;
        s->io.done = bench_done;
        s->io.arg = s;
    }
    marker("start", disk, ph);
    uint64_t t0 = xf_plat_now_ns();
    for (unsigned i = 0; i < ph->qd; i++) {
        xf_irqflags_t fl = xf_plat_irq_save();   /* the handler resubmits too */
        int rc = submit_slot(&r, &r.slots[i]);
        xf_plat_irq_restore(fl);
        CHECK(rc == 0, "%s %s: submit %d", disk, ph->name, rc);
    }
    run_until(&r, t0 + secs * 1000000000ull, false);
    r.stop = true;
    run_until(&r, xf_plat_now_ns() + 15000 * NS_PER_MS, true);
    uint64_t ns = xf_plat_now_ns() - t0;
    marker("end", disk, ph);
    CHECK(r.inflight == 0, "%s %s: %u I/Os never completed", disk, ph->name, r.inflight);
    CHECK(r.err == 0, "%s %s: I/O failed: %d", disk, ph->name, r.err);
    uint64_t kib_s = r.ops * (ph->bs / 1024) * 1000000000ull / ns;
    kprintf("# bench xf %s %s: %lu I/Os in %lu ms: %lu IOPS, %lu KiB/s (guest clock)\n", disk,
            ph->name, (unsigned long)r.ops, (unsigned long)(ns / NS_PER_MS),
            (unsigned long)(r.ops * 1000000000ull / ns), (unsigned long)kib_s);
    return NULL;
}

static const char *bench_disk(const char *vdev, const char *disk, uint64_t secs)
{
    struct xf_blkfront *bf;
    struct xf_blkfront_info in;
    const char *e = NULL;
    int rc = xf_blkfront_open(&bf, xb, ec, gt, vdev, NULL, deadline_ms(20000));
    CHECK(rc == 0, "open %s: %d", disk, rc);
    xf_blkfront_get_info(bf, &in);
    kprintf("# bench xf %s: %lu sectors, ring order %u x %u queues, persistent %d, "
            "segments %u\n", disk, (unsigned long)in.sectors, in.ring_order, in.nr_queues,
            (int)in.persistent, in.max_segments);
    /* The largest phase's buffers: 8 x 1 MiB (32 x 4 KiB is less). */
    const size_t pages = 8u << 8;
    uint8_t *bufs = xf_plat_page_alloc(pages);
    CHECK(bufs, "alloc %lu pages", (unsigned long)pages);
    memset(bufs, 0xa5, pages * XF_PAGE_SIZE);
    for (unsigned i = 0; i < sizeof(phases) / sizeof(phases[0]) && !e; i++)
        e = bench_phase(bf, &in, disk, &phases[i], secs, bufs);
    xf_plat_page_free(bufs, pages);
    rc = xf_blkfront_close(bf, deadline_ms(10000));
    if (!e && rc != 0)
        FAIL("close %s: %d", disk, rc);
    return e;
}

/* xvda then xvdb, every phase; "done" tells dom0's monitor it is over. */
const char *bench_main(void)
{
    uint64_t secs = 3;
    const char *e = bench_disk("51712", "xvda", secs);
    if (!e)
        e = bench_disk("51728", "xvdb", secs);
    marker("done", "-", NULL);
    return e;
}
