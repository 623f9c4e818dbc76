/*
 * xenfront/xsd.h: a simulated xenstored (libxfxsd.a, test-only).
 *
 * An in-process xenstore server that serves one guest domain's xenstore
 * ring (struct xenstore_domain_interface, <xen/io/xs_wire.h>) through the
 * simulator (<xenfront/sim.h>), the way the C xenstored of Xen 4.17
 * (tools/xenstore/xenstored_*.c) does, plus hostile modes to test clients.
 *
 * What it models, as xenstored 4.17 does it:
 *  - the ring transport: a full header, then the payload; a header with
 *    len > XENSTORE_PAYLOAD_MAX, or ring indices more than
 *    XENSTORE_RING_SIZE apart, make the server ignore the connection for
 *    good (watches, transactions and queued output dropped, the ring's
 *    error field set to XENSTORE_ERROR_PROTO / _RINGIDX); one notification
 *    after every read from and every write to the ring;
 *  - the tree as a key-value store of records (generation, permissions,
 *    value, NUL-separated children in creation order), with xenstored's
 *    permission rules, errno hiding (EACCES rather than ENOENT when the
 *    parent is unreadable), path validation and quotas (node record size,
 *    watches, transactions, permissions per node, outstanding requests,
 *    nodes per transaction);
 *  - transactions with xenstored's conflict rule: EAGAIN at commit when a
 *    node read in the transaction changed globally since;
 *  - watches, their initial event (after the WATCH reply), their events
 *    queued before the reply of the request that caused them, the
 *    suppression of an event identical to one still queued.
 * Beyond 4.17's C xenstored (which sets no server_features bit and does
 * not act on the connection field), it advertises and performs ring
 * reconnection as oxenstored does, unless cfg->no_reconnect.
 *
 * Threads: every function may be called from any thread; one lock
 * serialises them with the server thread. Functions never block for long.
 */
#ifndef XENFRONT_XSD_H
#define XENFRONT_XSD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <xenfront/sim.h>

#ifdef __cplusplus
extern "C" {
#endif

struct xf_xsd;

/* Quota defaults: those of xenstored 4.17 (xenstored_core.c). */
#define XF_XSD_DEFAULT_ENTRY_SIZE   2048u  /* -S: record bytes per node (ENOSPC at >=) */
#define XF_XSD_DEFAULT_WATCHES      128u   /* -W: E2BIG once more are registered      */
#define XF_XSD_DEFAULT_TRANSACTIONS 10u    /* -t: ENOSPC once more are open           */
#define XF_XSD_DEFAULT_PERMS        5u     /* -A: ENOSPC for longer permission lists  */
#define XF_XSD_DEFAULT_OUTSTANDING  20u    /* requests whose replies the guest has not
                                              taken before input stops being read    */
#define XF_XSD_DEFAULT_TRANS_NODES  1024u  /* nodes touched by one transaction        */
#define XF_XSD_UNLIMITED            UINT32_MAX

struct xf_xsd_config {
    bool no_reset_watches;        /* do not advertise/accept XS_RESET_WATCHES */
    bool no_reconnect;            /* do not advertise XENSTORE_SERVER_FEATURE_RECONNECTION */
    uint32_t max_watch_events;    /* 0 -> unbounded; else events queued per connection
                                     beyond it are dropped (oxenstored's quota) */
    /* Additions. */
    bool no_error_feature;        /* do not advertise XENSTORE_SERVER_FEATURE_ERROR
                                     (the error field is written all the same) */
    bool libxl_layout;            /* the domain's home as libxl makes it: "n0" "r<domid>",
                                     with data/, drivers/, feature/, attr/, error/,
                                     control/shutdown... owned by the domain, device/
                                     and control/ "n0" "r<domid>". Default: the home
                                     owned by the domain ("n<domid>"). */
    /* Quotas for the guest (dom0 has none): 0 -> the XF_XSD_DEFAULT_* value,
     * XF_XSD_UNLIMITED -> no limit. */
    uint32_t quota_entry_size;
    uint32_t quota_watches;
    uint32_t quota_transactions;
    uint32_t quota_perms;
    uint32_t quota_outstanding;
    uint32_t quota_trans_nodes;
};

/*
 * Start serving domid's xenstore ring: as dom0, map the guest's store page
 * (grant ref GNTTAB_RESERVED_XENSTORE, else its frame HVM_PARAM_STORE_PFN),
 * bind the store event channel (HVM_PARAM_STORE_EVTCHN), set
 * server_features and answer requests in a server thread. Creates
 * xenstored's initial nodes (/, /tool, /tool/xenstored), those of
 * xen-init-dom0 (/local/domain/0 with name and domid, "n0") and the
 * domain's home /local/domain/<domid> (see libxl_layout), with
 * control/platform-feature-xs_reset_watches = "1" unless
 * cfg->no_reset_watches (that node is how guests learn of
 * XS_RESET_WATCHES). cfg may be NULL. Returns NULL on failure.
 */
struct xf_xsd *xf_xsd_start(struct xf_sim *sim, domid_t domid, const struct xf_xsd_config *cfg);

/* Stops the thread, unmaps, unbinds, frees. NULL is allowed. */
void xf_xsd_stop(struct xf_xsd *x);

/*
 * Toolstack (dom0) access to the tree, immediate, under the server's lock;
 * fires watches as a dom0 write would (events are written to the ring
 * before return, as far as it has room). Paths are absolute. Errors are
 * negative errno values (-EINVAL, -ENOENT, -ENOMEM...).
 */
int xf_xsd_write(struct xf_xsd *x, const char *path, const void *value, size_t len); /* creates parents */
/* The value's length (may exceed cap: truncated copy, NUL-terminated when
 * cap > 0, like snprintf) or -ENOENT / -EINVAL. */
int xf_xsd_read(struct xf_xsd *x, const char *path, char *buf, size_t cap);
int xf_xsd_rm(struct xf_xsd *x, const char *path);          /* 0 if already absent */
/* e.g. {"n0","r5"}: owner 0, others none, domain 5 read. */
int xf_xsd_set_perms(struct xf_xsd *x, const char *path, const char *const *perms, unsigned n);
int xf_xsd_mkdir(struct xf_xsd *x, const char *path);
/* Additions. The permissions as GET_PERMS gives them: strings each
 * NUL-terminated; returns the total length (snprintf-like) or -errno. */
int xf_xsd_get_perms(struct xf_xsd *x, const char *path, char *buf, size_t cap);
/* Does the node exist? */
bool xf_xsd_exists(struct xf_xsd *x, const char *path);

/* Counters for tests. */
unsigned long xf_xsd_requests(struct xf_xsd *x);   /* requests answered so far (incl. errors) */
unsigned xf_xsd_watch_count(struct xf_xsd *x);      /* watches registered by the guest */
/* Additions. */
unsigned xf_xsd_transaction_count(struct xf_xsd *x); /* open transactions of the guest */
unsigned long xf_xsd_events_sent(struct xf_xsd *x);    /* watch events queued for the guest */
unsigned long xf_xsd_events_dropped(struct xf_xsd *x); /* dropped by max_watch_events */
unsigned long xf_xsd_reconnects(struct xf_xsd *x);     /* reconnections performed */
/* 0 while the connection is served, else the XENSTORE_ERROR_* reason for
 * which the server ignores it (as xenstored's ignore_connection()). */
unsigned xf_xsd_broken(struct xf_xsd *x);
/* The server's (dom0's) end of the store event channel. */
evtchn_port_t xf_xsd_port(struct xf_xsd *x);

/*
 * Misbehaviour: apply to the next `count` replies (0 = until set back to
 * XF_XSD_HONEST). Exactly what each produces:
 *  SILENT            the request is consumed from the ring and discarded:
 *                    not executed, no reply, no event.
 *  LEN_TOO_BIG       the reply is a header {type and ids as honest,
 *                    len = XENSTORE_PAYLOAD_MAX + 1} followed by
 *                    XENSTORE_PAYLOAD_MAX + 1 bytes 'Z' (written as the ring
 *                    has room).
 *  WRONG_TYPE        the honest reply with type XS_READ, or XS_DIRECTORY
 *                    when the request was XS_READ (never XS_ERROR).
 *  UNKNOWN_REQ_ID    the honest reply with req_id ^ 0x80000000.
 *  UNTERMINATED      the honest reply (or watch event) without its final
 *                    NUL byte (len - 1). XS_READ replies carry no NUL by
 *                    protocol: they pass unchanged and do not count.
 *  RSP_PROD_JUMP     instead of the reply, rsp_prod := rsp_cons +
 *                    XENSTORE_RING_SIZE + 16, then a notification; the
 *                    server then finds the indices inconsistent and ignores
 *                    the connection (error XENSTORE_ERROR_RINGIDX) until a
 *                    reconnection.
 *  DUPLICATE_REPLY   the honest reply queued twice.
 *  EVENT_BEFORE_REPLY on XS_WATCH the initial event is queued before the
 *                    reply (writes already queue their events first, as
 *                    xenstored does); requests without events do not count.
 *  SPLIT_WRITES      the reply is written 3 bytes at a time, rsp_prod
 *                    updated and the guest notified after each piece.
 *  EVENT_FLOOD       whenever nothing else is queued for the guest, a
 *                    well-formed watch event {"/flood", "xf-xsd-flood"} (a
 *                    token nobody registered) is: the output ring is kept
 *                    full as fast as the guest empties it, replies still
 *                    going out in their turn. count counts events.
 *  SPONTANEOUS_RESET instead of executing the request, the server resets
 *                    the connection on its own (what xenstore-ring.txt lets
 *                    only the guest start): connection := XENSTORE_RECONNECT,
 *                    watches, transactions, queued output and the request
 *                    dropped, all four indices := 0x100 (not zero), rings
 *                    filled with 0xff, connection := XENSTORE_CONNECTED, one
 *                    notification. Counted by xf_xsd_server_resets().
 */
enum xf_xsd_misbehaviour {
    XF_XSD_HONEST = 0,
    XF_XSD_SILENT,
    XF_XSD_LEN_TOO_BIG,
    XF_XSD_WRONG_TYPE,
    XF_XSD_UNKNOWN_REQ_ID,
    XF_XSD_UNTERMINATED,
    XF_XSD_RSP_PROD_JUMP,
    XF_XSD_DUPLICATE_REPLY,
    XF_XSD_EVENT_BEFORE_REPLY,
    XF_XSD_SPLIT_WRITES,
    XF_XSD_EVENT_FLOOD,
    XF_XSD_SPONTANEOUS_RESET,
};
void xf_xsd_misbehave(struct xf_xsd *x, enum xf_xsd_misbehaviour m, unsigned count);

/* The SPONTANEOUS_RESET reset, now, between requests. */
void xf_xsd_server_reset(struct xf_xsd *x);
/* Resets the server made on its own so far; flood events written so far. */
unsigned long xf_xsd_server_resets(struct xf_xsd *x);
unsigned long xf_xsd_flood_events(struct xf_xsd *x);

/*
 * A backend rewriting a node without pause, served at once: before each
 * request of the guest is executed, path := value (len bytes) is written as
 * the toolstack would (firing watches, so their events precede the reply).
 * path NULL stops it. Returns 0 or -ENOMEM / -EINVAL.
 */
int xf_xsd_rewrite(struct xf_xsd *x, const char *path, const void *value, size_t len);

#ifdef __cplusplus
}
#endif

#endif /* XENFRONT_XSD_H */
