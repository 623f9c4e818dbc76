/*
 * blkfront's internals: the context, its queues, their shadows and pools.
 */
#ifndef XF_BLKFRONT_PRIVATE_H
#define XF_BLKFRONT_PRIVATE_H

#include <xenfront/blkfront.h>
#include <xenfront/errno.h>
#include <xenfront/frontdev.h>
#include <xenfront/idtable.h>
#include <xenfront/platform.h>
#include <xenfront/ring.h>
#include <xen/io/blkif.h>
#include <xen/io/protocols.h>

#define BF_SEGS_PER_IND (XF_PAGE_SIZE / sizeof(struct blkif_request_segment))
#define BF_MAX_RING_ENTRIES (32u << XF_BLKFRONT_MAX_RING_ORDER)
#define BF_MAX_REDO (XF_BLKFRONT_MAX_QUEUES * BF_MAX_RING_ENTRIES)
#define BF_DEFAULT_POOL_MAX 512u
#define BF_POOL_MAX 4096u
#define BF_NONE 0xffffffffu
#define BF_DEFAULT_RECONNECT_NS (30ull * 1000000000ull)
/* Responses taken per queue per call: two rings' worth (bounded work). */
#define BF_BUDGET(q) (2u * (q)->nr_ents)

_Static_assert(XF_BLKFRONT_MAX_SEGMENTS <= BF_SEGS_PER_IND,
               "one indirect page holds every segment we send");
_Static_assert(sizeof(struct blkif_request_segment) == 8, "blkif segments are 8 bytes");

/* A pool page: bounce or persistent data page, or an indirect page. */
struct bf_page {
    void *va;
    grant_ref_t ref;
    uint32_t next;                   /* free list (LIFO) */
    bool granted;                    /* its ref is live (persistent: always) */
};

/* One request on the ring, indexed by its id. */
struct bf_shadow {
    struct xf_blkfront_io *io;
    uint64_t seq;                    /* carve order, for reissue */
    uint64_t off, len;               /* bytes of the I/O (len 1: no data) */
    uint8_t rsp_op;                  /* the operation the response must carry */
    bool zc;                         /* segments are caller pages (zrefs) */
    uint16_t nseg;
    uint32_t ind;                    /* indirect page, or BF_NONE */
    uint32_t *pg;                    /* nseg pool pages, or zref indexes */
};

/* An unacknowledged piece kept across a reconnect. */
struct bf_redo {
    struct xf_blkfront_io *io;
    uint64_t seq;
    uint64_t off, len;
    uint32_t q;
};

struct xf_blkfront;

struct bf_queue {
    struct xf_blkfront *bf;
    uint32_t index;
    bool up;                         /* ring, channel and tables live */
    struct xf_frontdev_ring fring;
    struct xf_front_ring ring;
    evtchn_port_t port;
    uint32_t nr_ents;
    /* Tables (one allocation of tbl_pages pages). */
    void *tbl;
    size_t tbl_pages;
    struct xf_idtable ids;
    struct xf_idtable_slot *id_slots;
    struct bf_shadow *shadow;
    uint32_t *pgstore;
    struct bf_page *pages;
    uint32_t npages, free_head, nfree;
    grant_ref_t *zrefs;
    uint32_t *zfree;
    uint32_t nzfree, nzrefs;
    bool zrefs_held;
    /* I/O waiting to be carved (persist across reconnects). */
    struct xf_blkfront_io *head, *tail;
    struct xf_blkfront_stats st;
};

enum bf_phase {
    BF_INIT,          /* we are Initialising, waiting for the back end's InitWait */
    BF_PUBLISHED,     /* rings published, we are Initialised                      */
    BF_CONNECTED,
    BF_AWAY,          /* the back end left; we are Closed, waiting for it         */
    BF_REFUSED,       /* its features were refused; we are Closing                */
    BF_CLOSED,        /* xf_blkfront_close()                                      */
};

struct xf_blkfront {
    struct xf_frontdev fd;
    struct xf_blkfront_config cfg;
    enum bf_phase phase;
    int broken;                      /* 0, or the error that broke it */
    bool broken_reported;
    bool expired;                    /* away past the deadline */
    bool sectors_changed;
    bool first_service;
    bool again;                      /* the last service made progress */
    uint32_t refusals;               /* back ends' features refused */
    uint64_t away_since;
    struct xf_xenbus_watch *sectors_watch;
    char sectors_token[48];
    char evbuf[256];
    /* Negotiated. */
    struct xf_blkfront_info info;
    uint32_t nq;                     /* queues set up now */
    uint32_t nq_last;                /* at the last connect (for queue choice while away) */
    uint32_t order;
    uint32_t max_segs;
    uint32_t rr;                     /* round-robin cursor */
    uint64_t seq;
    uint64_t pending;                /* I/Os submitted, not completed */
    struct bf_queue q[XF_BLKFRONT_MAX_QUEUES];
    /* Redo list (BF_MAX_REDO entries), sorted by seq. */
    struct bf_redo *redo;
    uint32_t nredo, redo_pos;
    size_t ctx_pages;
};

/* data.c */
void xf_blkfront__kick(struct xf_blkfront *bf, struct xf_blkfront_io **done);
int xf_blkfront__process(struct bf_queue *q, struct xf_blkfront_io **done);
void xf_blkfront__run_done(struct xf_blkfront *bf, struct xf_blkfront_io *done);
void xf_blkfront__break(struct xf_blkfront *bf, int err, const char *why,
                        struct xf_blkfront_io **done);
void xf_blkfront__fail_all(struct xf_blkfront *bf, int status, struct xf_blkfront_io **done);
void xf_blkfront__save_inflight(struct xf_blkfront *bf, struct xf_blkfront_io **done);
int xf_blkfront__queue_tables(struct xf_blkfront *bf, struct bf_queue *q);
void xf_blkfront__queue_release(struct xf_blkfront *bf, struct bf_queue *q);
void xf_blkfront__event(struct xf_evtchn *ec, evtchn_port_t port, void *arg);
void xf_blkfront__check_expiry(struct xf_blkfront *bf, struct xf_blkfront_io **done);

#endif /* XF_BLKFRONT_PRIVATE_H */
