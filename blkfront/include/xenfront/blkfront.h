/*
 * xenfront/blkfront.h: the PV block front end (libxfblkfront.a, prefix
 * xf_blkfront_), xen/io/blkif.h as Linux 6.1 blkback and QEMU 7.2 serve it.
 *
 * What it does:
 *  - negotiation through the device layer (<xenfront/frontdev.h>): ring
 *    order up to the back end's max-ring-page-order and ours (at most 4),
 *    one or several queues (multi-queue-max-queues, queue-N/), protocol,
 *    feature-persistent; the back end's features are read when it is
 *    Connected (blkback writes them only then): sectors, sector-size,
 *    physical-sector-size, info, feature-flush-cache, feature-barrier,
 *    feature-discard (+ granularity, alignment, secure),
 *    feature-persistent, feature-max-indirect-segments. Every number is
 *    checked before use; a device whose required keys are missing or
 *    absurd is refused (see xf_blkfront_service);
 *  - sector units: 512 bytes everywhere (sector numbers, `sectors`,
 *    discard lengths), whatever sector-size says, as Linux does;
 *    feature-large-sector-size is never written. I/O must be aligned to
 *    the logical sector size;
 *  - asynchronous I/O that never blocks: reads and writes from a scatter
 *    list are split into requests of at most 11 segments, or indirect ones
 *    up to the negotiated count; flush (cache flush, or a barrier when only
 *    that is offered), FUA-equivalent writes (the data, then a flush),
 *    discard and secure discard; a completion callback per I/O;
 *  - data modes: a pool of persistently granted pages when the back end
 *    offers persistence; otherwise bounce pages of the driver's own,
 *    granted per request (XSA-403: the back end never sees memory the
 *    caller did not give it); zero-copy grants of the caller's pages for
 *    an I/O that asks for it (XF_BLKFRONT_F_ZEROCOPY);
 *  - trust: every response id is checked against the requests outstanding
 *    (an id table), its operation against the request's, statuses other
 *    than OKAY/ERROR/EOPNOTSUPP are errors, EOPNOTSUPP on a flush, barrier
 *    or discard turns that feature off; a grant still mapped when a
 *    non-persistent request completes, a bad id, operation or producer
 *    index mark the device broken: its channel is masked, the ring is not
 *    touched again, every I/O fails with -XF_EIO, and xf_blkfront_service
 *    reports the error in xenstore and closes;
 *  - no lost writes across a reconnect: when the back end goes away
 *    (Closing, Closed, back to InitWait) the responses it already pushed
 *    are taken, everything unacknowledged is kept, and when it comes back
 *    (perhaps with other features) the requests are re-split to the new
 *    limits and reissued. An acknowledged request is never reissued. If it
 *    does not come back within reconnect_timeout_ns, everything pending
 *    fails with -XF_EIO;
 *  - online resize: the back end's sectors are re-read whenever it writes
 *    its state while connected (blkback rewrites state with sectors) and
 *    when the sectors node changes; I/O beyond the end is refused;
 *  - per-queue statistics.
 *
 * Limits, by choice: a request the back end never answers (K10) stays
 * outstanding, holding its ring slot and pages, until the device closes or
 * the back end reconnects (xf_blkfront_pending() shows it; there is no
 * per-request timeout). Persistent grants are a bounded pool granted at
 * connect and kept for the connection (Linux also revokes unused ones
 * every 10 s; the pool bound makes that unnecessary here). A broken device
 * stays broken until closed, whatever the back end does next.
 *
 * Memory: the context and all its tables come from xf_plat_page_alloc.
 * An I/O (struct xf_blkfront_io) and its buffers are the caller's, and
 * must stay untouched from xf_blkfront_submit() until its callback runs.
 *
 * Concurrency: the one rule of <xenfront/platform.h>. The event handler
 * (installed on each queue's channel) consumes responses, completes I/Os
 * and calls their callbacks; the main flow submits. Both take
 * xf_plat_irq_save() around the shared state; callbacks run outside it.
 * A polling kernel calls xf_blkfront_poll() instead of taking upcalls.
 * xenstore work (connecting, reconnecting, resize, closing) happens only
 * in xf_blkfront_open(), xf_blkfront_service() and xf_blkfront_close(),
 * from the main flow.
 *
 * Errors are negative values from <xenfront/errno.h>.
 */
#ifndef XENFRONT_BLKFRONT_H
#define XENFRONT_BLKFRONT_H

#include <xenfront/base.h>
#include <xenfront/xen.h>
#include <xenfront/evtchn.h>
#include <xenfront/gnttab.h>
#include <xenfront/xenbus.h>

#ifdef __cplusplus
extern "C" {
#endif

struct xf_blkfront;
struct xf_blkfront_io;

/* Our maxima. */
#define XF_BLKFRONT_MAX_QUEUES     4u
#define XF_BLKFRONT_MAX_RING_ORDER 4u     /* 16 pages, 512 requests */
#define XF_BLKFRONT_MAX_SEGMENTS   256u   /* per indirect request (blkback's) */

/* Operations of an I/O. */
enum xf_blkfront_op {
    XF_BLKFRONT_READ = 0,
    XF_BLKFRONT_WRITE = 1,
    XF_BLKFRONT_FLUSH = 2,     /* cache flush (or barrier); no data */
    XF_BLKFRONT_DISCARD = 3,   /* sector .. sector + nr_sectors      */
};

/* I/O flags. */
#define XF_BLKFRONT_F_FUA      0x1u  /* write: durable when it completes     */
#define XF_BLKFRONT_F_SECURE   0x2u  /* discard: secure erase                */
#define XF_BLKFRONT_F_ZEROCOPY 0x4u  /* grant the caller's pages (see below) */
#define XF_BLKFRONT_F_QUEUE    0x8u  /* use io->queue, not round-robin       */

struct xf_blkfront_iov {
    void *base;
    size_t len;
};

/*
 * Called once per I/O with its status: 0, -XF_EIO (the back end failed
 * it, or the device broke, or the reconnect deadline passed),
 * -XF_EOPNOTSUPP (a flush or discard the back end refused, which also
 * turned the feature off), -XF_ENOTCONN (the device was closed).
 * Context: the event handler, xf_blkfront_poll(), xf_blkfront_service(),
 * xf_blkfront_close(), or xf_blkfront_submit() itself (a piece whose pages
 * cannot be granted fails at once). It runs outside the library's
 * critical section, may submit new I/O, and must not call
 * xf_blkfront_close().
 */
typedef void xf_blkfront_done_fn(struct xf_blkfront *bf, struct xf_blkfront_io *io,
                                 int status, void *arg);

/*
 * One I/O, owned by the caller. Fill the public part, submit, and leave it
 * alone until the callback.
 *  - READ/WRITE: sector (512-byte units) and the scatter list iov[nr_iov];
 *    the total length must be a multiple of the logical sector size (and
 *    sector a multiple of it / 512), at most 2^31 bytes. Buffers may have
 *    any alignment and length unless XF_BLKFRONT_F_ZEROCOPY: then every
 *    base is aligned to the sector size, in memory from xf_plat_page_alloc
 *    (the pages must be grantable), every length a multiple of the sector
 *    size, and the back end is given those pages (and can see all of each
 *    page). Zero-copy is ignored (data is copied through the pool) while
 *    persistent grants are in use. A FUA write is the data, then a flush
 *    (FLUSH_DISKCACHE or WRITE_BARRIER); on a device that offers neither
 *    (no volatile cache) it is a plain write, and a flush the back end
 *    refuses with EOPNOTSUPP after the data leaves the write successful.
 *  - FLUSH: nothing else.
 *  - DISCARD: sector and nr_sectors (512-byte units), F_SECURE optional.
 */
struct xf_blkfront_io {
    uint32_t op;                       /* enum xf_blkfront_op */
    uint32_t flags;                    /* XF_BLKFRONT_F_* */
    uint64_t sector;
    uint64_t nr_sectors;               /* DISCARD only */
    const struct xf_blkfront_iov *iov;
    uint32_t nr_iov;
    uint32_t queue;                    /* with XF_BLKFRONT_F_QUEUE */
    xf_blkfront_done_fn *done;
    void *arg;
    /* Private to the library. */
    struct {
        struct xf_blkfront_io *next;   /* queue link */
        struct xf_blkfront_io *dnext;  /* completion list link */
        uint64_t total;                /* bytes (1 for requests without data) */
        uint64_t issued;               /* bytes carved into requests */
        uint64_t left;                 /* bytes not yet answered */
        uint64_t seq;
        int status;
        uint8_t phase;                 /* 0 data, 1 the flush after a FUA write */
        uint8_t queued;
        uint16_t q;
    } priv;
};

struct xf_blkfront_config {
    uint32_t max_queues;            /* 0 -> XF_BLKFRONT_MAX_QUEUES                 */
    uint32_t max_ring_pages;        /* 1, 2, 4, 8 or 16; 0 -> 16                   */
    uint32_t max_segments;          /* indirect segments we use; 0 -> 256, <= 11: none */
    uint32_t pool_pages;            /* data pages per queue; 0 -> enough for a full ring of
                                       direct requests, at most 1024                */
    bool no_persistent;             /* do not offer feature-persistent              */
    uint64_t reconnect_timeout_ns;  /* 0 -> 30 s; held I/O fails with -XF_EIO after */
};

/* What was negotiated (xf_blkfront_get_info). */
struct xf_blkfront_info {
    uint64_t sectors;               /* 512-byte units */
    uint32_t sector_size;           /* logical */
    uint32_t physical_sector_size;
    uint32_t vdisk_info;            /* VDISK_CDROM | VDISK_REMOVABLE | VDISK_READONLY */
    bool read_only;
    bool flush;                     /* a flush goes out as FLUSH_DISKCACHE      */
    bool barrier;                   /* ... or as WRITE_BARRIER                  */
    bool discard;
    bool discard_secure;
    uint32_t discard_granularity;   /* bytes */
    uint32_t discard_alignment;     /* bytes */
    bool persistent;
    uint32_t max_segments;          /* per request: 11, or the indirect count   */
    uint32_t ring_order;
    uint32_t nr_queues;
    uint32_t ring_entries;          /* per queue */
    bool connected;
    bool broken;
    uint64_t connects;              /* times it reached Connected */
};

struct xf_blkfront_stats {
    uint64_t rd_req, wr_req, flush_req, barrier_req, discard_req;
    uint64_t indirect_req;
    uint64_t rd_sect, wr_sect, discard_sect;
    uint64_t segments;              /* over all read/write requests */
    uint64_t errors;                /* requests answered with an error */
    uint64_t bad_status;            /* of which with a status outside the known set */
    uint64_t notsupp;
    uint64_t reissued;              /* requests reissued after a reconnect */
    uint64_t notify;                /* notifications sent */
    uint64_t events;                /* events handled */
    uint64_t spurious;              /* events with no response */
    uint64_t responses;
    uint64_t inflight;              /* requests on the ring now */
    uint64_t pool_free;             /* pool pages free now */
};

/*
 * Open device/vbd/<id> and connect: set up rings, publish, wait until the
 * back end is Connected with sane features, or the deadline. The context
 * then keeps the device across reconnects until xf_blkfront_close().
 * xb, ec and gt must outlive it. cfg may be NULL.
 * Context: not from an event handler (waits).
 * Returns 0 and *out; -XF_EINVAL (bad arguments or configuration),
 * -XF_ENOENT (no such device), -XF_ENOMEM, -XF_ETIMEDOUT (not connected
 * by the deadline; nothing is held), -XF_ENODEV (the back end's keys were
 * refused: missing or invalid sectors, sector-size or info), or the
 * error of libxenbus, libgnttab or libevtchn. On failure nothing is held:
 * a back end that got our rings but did not connect is told we are going
 * (Closing, then Closed, as xf_xenbus_dev_close()) in time kept for that
 * at the end of the deadline (an eighth of it, at most 250 ms), and what
 * it still maps after that is left to xf_gnttab_reclaim() (deferred).
 */
int xf_blkfront_open(struct xf_blkfront **out, struct xf_xenbus *xb, struct xf_evtchn *ec,
                     struct xf_gnttab *gt, const char *id, const struct xf_blkfront_config *cfg,
                     uint64_t deadline_ns) XF_MUST_CHECK;

/*
 * Close: fail everything pending with -XF_ENOTCONN (callbacks run here),
 * tell the back end (Closing, then Closed once it follows or at the
 * deadline), tear the rings down (deferring what it still maps) and free
 * the context. NULL is allowed.
 * Context: not from an event handler. Returns 0, or -XF_ETIMEDOUT if the
 * back end did not follow by the deadline (the context is freed anyway).
 */
int xf_blkfront_close(struct xf_blkfront *bf, uint64_t deadline_ns);

/*
 * Submit an I/O. Never blocks: the I/O is queued, requests go on the ring
 * as far as it and the page pool have room, the rest follows as responses
 * free space. While the back end is away I/O is held (up to the reconnect
 * deadline).
 * Context: any, including the event handler and a completion callback.
 * Returns 0 (the callback will run exactly once), or, with nothing queued
 * and no callback: -XF_EINVAL (bad op, flags, alignment, length, iov, or a
 * zero-copy buffer that is not page aligned), -XF_ERANGE (beyond the end
 * of the disk), -XF_EROFS (a write, flush or discard to a read-only
 * device), -XF_EOPNOTSUPP (a flush, discard or secure discard the back
 * end does not offer), -XF_EIO (the device is broken, or the back end
 * stayed away past the deadline), -XF_ENOTCONN (closing).
 */
int xf_blkfront_submit(struct xf_blkfront *bf, struct xf_blkfront_io *io) XF_MUST_CHECK;

/*
 * Consume responses on every queue, complete I/Os (their callbacks run
 * here), issue queued requests, and fail held I/O whose reconnect
 * deadline passed. Bounded work: at most two rings' worth of responses
 * per queue per call. For polling kernels, and safe alongside upcalls.
 * Context: any. Returns the number of I/Os completed, or -XF_EIO if the
 * device is broken.
 */
int xf_blkfront_poll(struct xf_blkfront *bf);

/*
 * Follow the back end: if its state (or sectors) changed, act on it:
 * re-read sectors while connected (resize); when it leaves, keep the
 * unacknowledged requests and take down the rings; when it is back at
 * InitWait, set up and publish new rings; at Connected read and check its
 * features and reissue what was kept. Also reports a broken device
 * (error node, Closing). Call it when xf_blkfront_needs_service() says so
 * (or periodically). Each call does one round of work and returns; it
 * waits only for xenstore replies, up to the deadline.
 * Context: not from an event handler.
 * Returns 1 if it made progress, 0 if there was nothing to do, -XF_EIO if
 * the device is broken, -XF_ENODEV if the back end's features were
 * refused (the device is then Closing, waiting for the back end to try
 * again), or libxenbus's error (retried on the next call).
 */
int xf_blkfront_service(struct xf_blkfront *bf, uint64_t deadline_ns);

/* Whether xf_blkfront_service() has work (a watch fired, a deadline is
 * pending, the device broke). Context: any. */
bool xf_blkfront_needs_service(const struct xf_blkfront *bf);

/* What is negotiated now. Context: any. */
void xf_blkfront_get_info(const struct xf_blkfront *bf, struct xf_blkfront_info *info);

/* Statistics of queue q (counted since open, across reconnects), or
 * -XF_EINVAL for q >= XF_BLKFRONT_MAX_QUEUES. Context: any. */
int xf_blkfront_get_stats(const struct xf_blkfront *bf, uint32_t q, struct xf_blkfront_stats *st);

/* I/Os submitted and not yet completed. Context: any. */
uint64_t xf_blkfront_pending(const struct xf_blkfront *bf);

/* Status: 0 connected, -XF_ENOTCONN away (I/O held), -XF_EIO broken or
 * past the reconnect deadline. Context: any. */
int xf_blkfront_status(const struct xf_blkfront *bf);

#ifdef __cplusplus
}
#endif

#endif /* XENFRONT_BLKFRONT_H */
