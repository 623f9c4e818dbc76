/*
 * xf_blkback.h: a simulated Linux-6.1-like blkback for tests (test-only,
 * libxfblkback.a). It runs as dom0 in a thread of the test process, over
 * the simulator (<xenfront/sim.h>) and the simulated xenstored
 * (<xenfront/xsd.h>), and serves one vbd from a memory disk the way
 * drivers/block/xen-blkback does (Linux 6.1, as read for this project):
 *
 *  - InitWait at start with the probe keys (feature-max-indirect-segments,
 *    multi-queue-max-queues, max-ring-page-order); the other features only
 *    when it goes Connected (sectors, info, sector-size,
 *    physical-sector-size, feature-flush-cache, feature-barrier,
 *    feature-discard + discard-*, feature-persistent), unless qemu_style;
 *  - connects on frontend Initialised or Connected, reading ring-ref /
 *    ring-refN + ring-page-order (top level), event-channel,
 *    multi-queue-num-queues + queue-N/, protocol, feature-persistent; the
 *    fatal cases of connect_ring() (unknown protocol, queues 0 or above the
 *    offer, order above the offer, a key missing, a map failing) write
 *    <backend>/error and go Closing;
 *  - parses direct and indirect requests as dispatch_rw_block_io() and
 *    xen_blkbk_parse_indirect() do (segment bounds, counts, range, logical
 *    block alignment, read-only), answers indirect requests with the inner
 *    operation, unknown ops with EOPNOTSUPP; halts a ring whose req_prod
 *    overflows;
 *  - keeps persistent grants mapped (writable, at most max_persistent per
 *    ring, looked up by reference) when both ends offer them, otherwise
 *    maps per request (read-only for writes) and unmaps before answering;
 *  - completes requests out of order (each batch shuffled), applying a
 *    write to the disk when it answers it;
 *  - on frontend Closing/Closed disconnects; on Initialising after Closed
 *    goes back to InitWait (with a new configuration if one was given).
 *
 * Hostile modes (xf_blkback_evil) script the K1-K19 cases of section 7.2.
 * All functions may be called from the test thread while the back end
 * runs; they take the back end's lock.
 */
#ifndef XF_BLKBACK_H
#define XF_BLKBACK_H

#include <stdbool.h>
#include <stdint.h>

#include <xenfront/sim.h>
#include <xenfront/xsd.h>

struct xf_blkback;

struct xf_blkback_config {
    uint64_t sectors;              /* disk size, 512-byte units (0 -> 8192 = 4 MiB) */
    uint64_t capacity_sectors;     /* memory kept for resizes (0 -> sectors) */
    uint32_t sector_size;          /* logical block (0 -> 512) */
    uint32_t physical_sector_size; /* 0 -> sector_size; UINT32_MAX: not written */
    uint32_t info;                 /* VDISK_* */
    bool flush;                    /* feature-flush-cache */
    bool barrier;                  /* feature-barrier */
    bool discard;
    bool discard_secure;
    uint32_t discard_granularity;  /* 0 -> sector_size */
    uint32_t discard_alignment;
    bool persistent;               /* offer feature-persistent */
    uint32_t max_indirect;         /* feature-max-indirect-segments (0: not written) */
    uint32_t max_ring_order;       /* max-ring-page-order (0: not written) */
    uint32_t max_queues;           /* multi-queue-max-queues (0: not written = 1) */
    uint32_t max_persistent;       /* per ring (0 -> 1056) */
    bool qemu_style;               /* write every feature at InitWait already */
    bool unmap_at_closed;          /* as Linux 6.1: the front end's Closing is only
                                      echoed; rings and grants stay mapped until its
                                      Closed */
    bool never_connected;          /* hostile: map the rings at the front end's
                                      Initialised, then stay at InitWait (follows
                                      Closing and Closed as usual) */
    uint32_t seed;                 /* shuffling (0 -> 1) */
    /* Keys written instead of the real ones from the start (as
     * xf_blkback_set_key, without a race with the first InitWait):
     * {key, value} pairs, value NULL removes; a NULL key ends the list. */
    const char *keys[8][2];
};

/* Start serving fe_dir (the frontend's device directory) from be_dir. */
struct xf_blkback *xf_blkback_start(struct xf_sim *sim, struct xf_xsd *xsd, domid_t guest,
                                    const char *fe_dir, const char *be_dir,
                                    const struct xf_blkback_config *cfg);
void xf_blkback_stop(struct xf_blkback *be);

/* The disk (capacity_sectors * 512 bytes); read it with the back end paused
 * or idle. */
uint8_t *xf_blkback_disk(struct xf_blkback *be);

/* Stop consuming and answering requests (true) or go on (false). */
void xf_blkback_pause(struct xf_blkback *be, bool paused);

/*
 * Go away with I/O in flight: consume what the ring holds, apply each
 * write with probability apply_pct % without answering it (a response
 * lost), answer nothing, unmap everything, Closing; then follow the
 * frontend (Closed, then InitWait again when it comes back). A
 * configuration given with xf_blkback_reconfigure() applies from that
 * InitWait on.
 */
void xf_blkback_disconnect(struct xf_blkback *be, unsigned apply_pct);
void xf_blkback_reconfigure(struct xf_blkback *be, const struct xf_blkback_config *cfg);

/* Online resize: rewrite sectors, then state (Connected), as xen_vbd_resize(). */
void xf_blkback_resize(struct xf_blkback *be, uint64_t sectors);

/* Never notify the front end (K11's silence): it must poll. */
void xf_blkback_silent(struct xf_blkback *be, bool silent);

/* Send n events on every queue's channel at once (an event storm). */
void xf_blkback_storm(struct xf_blkback *be, unsigned n);

/* Override a key written at Connected (or at InitWait for the probe keys):
 * value NULL removes it. Up to 16 overrides; applied at every connect. */
void xf_blkback_set_key(struct xf_blkback *be, const char *key, const char *value);
void xf_blkback_clear_keys(struct xf_blkback *be);

enum xf_blkback_evil {
    XF_BB_EVIL_NONE = 0,
    XF_BB_EVIL_ID_RANGE,        /* K1: response id = 4 * ring size + 3 */
    XF_BB_EVIL_ID_DUP,          /* K2: answer, then answer the same id again */
    XF_BB_EVIL_ID_UNKNOWN,      /* K2: an id no request outstanding here has */
    XF_BB_EVIL_WRONG_OP,        /* K3: operation 6 for indirect, else op ^ 1 */
    XF_BB_EVIL_STATUS,          /* K4/K5/K6: status = arg (for op_filter, or any) */
    XF_BB_EVIL_RSP_OVERFLOW,    /* K7: rsp_prod pushed a ring size too far */
    XF_BB_EVIL_KEEP_MAPPED,     /* K8: non-persistent grants left mapped */
    XF_BB_EVIL_NEVER_ANSWER,    /* K10: never answer (the request is dropped) */
};

/* Misbehave on the next count responses (matching op_filter, -1 any). */
void xf_blkback_evil(struct xf_blkback *be, enum xf_blkback_evil mode, int arg, int op_filter,
                     unsigned count);

/* Called in the back end's thread for every write applied to the disk
 * (sector, sectors, the data just written). */
typedef void xf_blkback_apply_fn(void *arg, uint64_t sector, uint64_t nsect, const uint8_t *data);
void xf_blkback_set_apply_hook(struct xf_blkback *be, xf_blkback_apply_fn *fn, void *arg);

struct xf_blkback_stats {
    uint64_t connects;            /* times it went Connected */
    uint64_t fatal;               /* connect_ring fatal errors */
    uint64_t rd_req, wr_req, f_req, b_req, ds_req, other_req, indirect_req;
    uint64_t errors;              /* requests answered ERROR */
    uint64_t notsupp;             /* answered EOPNOTSUPP */
    uint64_t maps, unmaps;        /* non-persistent data/indirect maps */
    uint64_t persistent_mapped;   /* persistent grants currently mapped */
    uint64_t persistent_max_seen;
    uint64_t max_segments_seen;
    uint64_t halted;              /* rings halted for a bad req_prod */
    uint64_t responses;
    uint32_t req_cons, req_prod;  /* queue 0's ring: consumed, and the front's index */
    uint32_t ring_order;          /* as last connected */
    uint32_t queues;
    bool persistent;              /* negotiated at the last connect */
    int state;                    /* the back end's XenbusState */
    char last_error[128];
};
void xf_blkback_get_stats(struct xf_blkback *be, struct xf_blkback_stats *st);

/* The back end's state as it last wrote it. */
int xf_blkback_state(struct xf_blkback *be);

#endif /* XF_BLKBACK_H */
