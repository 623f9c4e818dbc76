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
 *
 * Then the network phases through libxfnetfront (one queue, as the 1-vCPU
 * Linux domU gets; rx interrupt moderation: an event per 64 responses, the
 * rest taken by a poll each ms, where Linux's NAPI batches by polling
 * while busy): sending frames of 60 and 1514 bytes and 65,226-byte
 * GSO frames to dom0 as fast as the ring takes them, then receiving what
 * dom0's sender (started by the monitor) sends, as the Linux domU does with
 * dom0/xf-netbench.c. dom0's monitor times them by netback's interface
 * counters.
 */
#include "frame.h"
#include "guest.h"

#include <xenfront/blkfront.h>
#include <xenfront/errno.h>
#include <xenfront/netfront.h>
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
static void marker_raw(const char *what, const char *disk, const char *name, uint32_t bs)
{
    static unsigned seq;
    char v[96], path[32];
    int n = ksnprintf(v, sizeof(v), "%s %s %s %u", what, disk, name, bs);
    ksnprintf(path, sizeof(path), "data/bench/%u", seq++);
    int rc = xf_xenbus_write(xb, XF_XENBUS_TX_NONE, path, v, (size_t)n, deadline_ms(5000));
    if (rc < 0)
        kprintf("# bench: marker '%s' not written: %d\n", v, rc);
}

static void marker(const char *what, const char *disk, const struct phase *ph)
{
    marker_raw(what, disk, ph ? ph->name : "-", ph ? ph->bs : 0);
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

/* The network phases, in the same order as the Linux domU's init. */
struct nphase {
    const char *name;
    uint32_t size;        /* frame bytes */
    bool rx, gso;
};

static const struct nphase nphases[] = {
    { "tx-60", 60, false, false },       { "tx-1514", 1514, false, false },
    { "tx-gso", 65226, false, true },    { "rx-60", 60, true, false },
    { "rx-1514", 1514, true, false },    { "rx-gso", 65226, true, true },
};

static volatile uint64_t nb_tx_done, nb_tx_err, nb_rx_frames, nb_rx_bytes;
static volatile int nb_first_err;

static void nb_tx_cb(struct xf_netfront *n, unsigned int q, void *cookie, int status, void *arg)
{
    (void)n;
    (void)q;
    (void)cookie;
    (void)arg;
    if (status != 0 && nb_tx_err++ == 0)
        nb_first_err = status;
    nb_tx_done++;
}

static bool nb_rx_cb(struct xf_netfront *n, const struct xf_netfront_rx_pkt *pkt, void *arg)
{
    (void)n;
    (void)arg;
    nb_rx_frames++;
    nb_rx_bytes += pkt->len;
    return false;          /* counted only: the buffers go straight back */
}

/* The frame xf-netbench sends: to dom0's vif (fe:ff:ff:ff:ff:ff), EtherType
 * 0x88B5; gso: the TCP/IPv4 frame of frame.h, checksum to be filled in. */
static void build_frame(uint8_t *f, const uint8_t *mac, const struct nphase *ph)
{
    static const uint8_t dom0_mac[6] = { 0xfe, 0xff, 0xff, 0xff, 0xff, 0xff };
    for (uint32_t i = 14; i < ph->size; i++)
        f[i] = (uint8_t)(i * 7);
    if (ph->gso) {
        xff_tcp4_headers(f, ph->size, dom0_mac, mac, 0, 40000, 0);
        return;
    }
    memcpy(f, dom0_mac, 6);
    memcpy(f + 6, mac, 6);
    xff_put16(f + 12, 0x88b5);
}

static const char *net_phase(struct xf_netfront *n, const struct xf_netfront_info *in,
                             const struct nphase *ph, uint64_t secs, uint8_t *frame)
{
    uint64_t sent = 0, full = 0, d0 = nb_tx_done, r0 = nb_rx_frames, rb0 = nb_rx_bytes;
    struct xf_netfront_stats s0, s1;
    xf_netfront_stats(n, 0, &s0);
    build_frame(frame, in->mac, ph);
    /* The GSO frame as a stack hands it over: the headers, then the
     * payload in two fragments. */
    uint32_t half = (ph->size - XFF_TCP4_HLEN) / 2;
    struct xf_netfront_frag fr[3] = {
        { frame, XFF_TCP4_HLEN }, { frame + XFF_TCP4_HLEN, half },
        { frame + XFF_TCP4_HLEN + half, ph->size - XFF_TCP4_HLEN - half },
    };
    struct xf_netfront_tx t = { .frags = fr, .nfrags = 3, .flags = XF_NETFRONT_TX_CSUM_BLANK,
                                .gso_type = XF_NETFRONT_GSO_TCPV4, .gso_size = 1448 };
    if (!ph->gso) {
        fr[0].len = ph->size;
        t = (struct xf_netfront_tx){ .frags = fr, .nfrags = 1 };
    }
    marker_raw("start", "net", ph->name, ph->size);
    uint64_t t0 = xf_plat_now_ns(), end = t0 + secs * 1000000000ull;
    for (;;) {
        uint64_t now = xf_plat_now_ns();
        if (now >= end)
            break;
        if (ph->rx) {
            /* The event handler receives; with rx moderation the frames
             * below the event batch are taken by this poll, each ms. */
            (void)kwait(now + NS_PER_MS < end ? now + NS_PER_MS : end);
            (void)xf_netfront_poll(n);
            continue;
        }
        /* One call per frame, as the Linux domU makes one send() per
         * frame; a full ring waits for a completion (tx_done runs in the
         * event handler). */
        int rc = xf_netfront_send(n, 0, &t);
        if (rc == 0) {
            sent++;
            continue;
        }
        CHECK(rc == -XF_EAGAIN, "%s: send %d", ph->name, rc);
        full++;
        (void)kwait(now + NS_PER_MS);
    }
    /* Drain: every frame completed before "end". */
    uint64_t dl = deadline_ms(10000);
    while (xf_netfront_tx_inflight(n, 0) != 0 && xf_plat_now_ns() < dl)
        (void)kwait(xf_plat_now_ns() + NS_PER_MS);
    uint64_t ns = xf_plat_now_ns() - t0;
    marker_raw("end", "net", ph->name, ph->size);
    CHECK(xf_netfront_tx_inflight(n, 0) == 0, "%s: %u slots never completed", ph->name,
          xf_netfront_tx_inflight(n, 0));
    CHECK(nb_tx_err == 0, "%s: %lu sends failed (first %d)", ph->name, (unsigned long)nb_tx_err,
          nb_first_err);
    CHECK(nb_tx_done - d0 == sent, "%s: %lu sent, %lu completed", ph->name, (unsigned long)sent,
          (unsigned long)(nb_tx_done - d0));
    uint64_t frames = ph->rx ? nb_rx_frames - r0 : sent;
    uint64_t bytes = ph->rx ? nb_rx_bytes - rb0 : sent * ph->size;
    xf_netfront_stats(n, 0, &s1);
    kprintf("# bench xf net %s: %lu frames in %lu ms: %lu frames/s, %lu Mbit/s, %lu ring-full "
            "waits; events from netback tx %lu rx %lu (guest clock)\n", ph->name,
            (unsigned long)frames, (unsigned long)(ns / NS_PER_MS),
            (unsigned long)(frames * 1000000000ull / ns), (unsigned long)(bytes * 8000ull / ns),
            (unsigned long)full, (unsigned long)(s1.events_tx - s0.events_tx),
            (unsigned long)(s1.events_rx - s0.events_rx));
    return NULL;
}

static const char *bench_net(uint64_t secs)
{
    struct xf_netfront *n;
    struct xf_netfront_info in;
    struct xf_netfront_config cfg = { .id = "0", .max_queues = 1, .tx_done = nb_tx_cb,
                                      .rx = nb_rx_cb, .rx_event_batch = 64 };
    int rc = xf_netfront_create(&n, xb, ec, gt, &cfg, deadline_ms(10000));
    CHECK(rc == 0, "netfront create: %d", rc);
    const char *e = NULL;
    rc = xf_netfront_connect(n, deadline_ms(20000));
    if (rc != 0) {
        ksnprintf(why_buf, sizeof(why_buf), "netfront connect: %d", rc);
        e = why_buf;
    }
    uint8_t *frame = e ? NULL : xf_plat_page_alloc(16);
    if (!e && !frame)
        e = "alloc";
    if (!e) {
        (void)xf_netfront_info(n, &in);
        kprintf("# bench xf net: %u queues, split %d, sg %d, gso tcpv4 %d\n", in.nr_queues,
                (int)in.split, (int)in.sg, (int)in.gso_tcpv4);
        for (unsigned i = 0; i < sizeof(nphases) / sizeof(nphases[0]) && !e; i++)
            e = net_phase(n, &in, &nphases[i], secs, frame);
        struct xf_netfront_stats st;
        xf_netfront_stats(n, 0, &st);
        kprintf("# bench xf net: events tx %lu rx %lu, notify tx %lu rx %lu, spurious %lu\n",
                (unsigned long)st.events_tx, (unsigned long)st.events_rx,
                (unsigned long)st.notify_tx, (unsigned long)st.notify_rx,
                (unsigned long)st.spurious);
    }
    if (frame)
        xf_plat_page_free(frame, 16);
    rc = xf_netfront_disconnect(n, deadline_ms(10000));
    if (!e && rc != 0 && rc != -XF_ENOTCONN)
        FAIL("netfront disconnect: %d", rc);
    (void)xf_gnttab_reclaim(gt);
    rc = xf_netfront_destroy(n, deadline_ms(5000));
    if (!e && rc != 0)
        FAIL("netfront destroy: %d", rc);
    return e;
}

/* xvda then xvdb, every phase, then the network; "done" tells dom0's
 * monitor it is over. */
const char *bench_main(void)
{
    uint64_t secs = 3;
    const char *e = bench_disk("51712", "xvda", secs);
    if (!e)
        e = bench_disk("51728", "xvdb", secs);
    if (!e)
        e = bench_net(secs);
    marker("done", "-", NULL);
    return e;
}
