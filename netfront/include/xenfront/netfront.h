/*
 * xenfront/netfront.h: the PV network front end (libxfnetfront.a, prefix
 * xf_netfront_), netif.h as Linux 6.1 netback and QEMU implement it.
 *
 * A context drives one vif (device/vif/<id>), with 1 to
 * XF_NETFRONT_MAX_QUEUES queues, each its own tx and rx ring and one or two
 * event channels (feature-split-event-channels). It negotiates through the
 * device layer (<xenfront/frontdev.h>), then moves packets:
 *
 *  - transmit: a packet is a list of the caller's fragments. By default
 *    (copy mode) the library copies it into pages of its own, granted
 *    read-only to the back end once per connection, so the back end sees
 *    nothing of the caller's memory but the packet (XSA-403). With
 *    XF_NETFRONT_TX_ZEROCOPY the caller's pages are granted read-only
 *    directly (split at page boundaries), and the packet completes only
 *    after every such grant is revoked; a chain needing more than
 *    XF_NETFRONT_TX_MAX_SLOTS slots, or a first slot shorter than an
 *    Ethernet header, is linearised into the copy pages instead. Checksum
 *    flags and a GSO extra are passed through. Each packet completes once,
 *    by the tx_done callback, with a status. When the ring cannot take a
 *    packet, send returns -XF_EAGAIN and tx_space fires once it can.
 *  - receive: the rx ring is kept full of zeroed, granted pages (zeroed
 *    before their first grant; see rx_return for what reuse means).
 *    Responses are assembled into packets (more_data chains, GSO extra,
 *    offset honoured) and delivered by the rx callback as fragments. The
 *    callback either copies and returns false (the buffers are reused at
 *    once), or keeps them (returns true) and gives each back later with
 *    xf_netfront_rx_return().
 *
 * Not implemented: the control ring (hash, mapping) and the receive
 * headroom of Linux's xdp-headroom / feature-xdp-headroom keys. The latter
 * is absent from the Xen 4.17 netif.h this project takes every ABI value
 * from (no XEN_NETIF_EXTRA_TYPE_XDP, no u.xdp, no
 * XEN_NETIF_MAX_XDP_HEADROOM), and defining them here would break that
 * rule. Without our xdp-headroom key Linux netback uses no headroom; an rx
 * extra of that type from a back end is dropped as a bad extra.
 *
 * MTU policy. Linux's netfront ignores the `mtu` key; this library reads
 * the frontend's `mtu` (what libxl and the hotplug script write) and
 * reports it in xf_netfront_info() when it is a number within 68..65535
 * (68..1500 without feature-sg); otherwise, or absent, it reports 1500.
 * It never limits what send accepts: that is the wire's limit, a frame of
 * at most 65535 bytes (XEN_NETIF_MAX_TX_SIZE) with feature-sg, one page
 * without. The embedder applies its MTU above.
 *
 * Trust (docs/ARCHITECTURE.md). Everything the back end writes is copied once and
 * checked: ring indices (the ring layer), every tx response id against the
 * slots outstanding (an id table; NULL responses only for extra slots we
 * sent), every rx response's id, status, offset and flags, the chain
 * lengths and extras. Per the hostile-backend cases (N1-N29, tested in
 * netfront/tests/test_netfront_hostile.c): protocol violations that leave the rings' meaning unknown
 * (bad or duplicate tx ids, index overflow or going backwards, a grant
 * still mapped at its response) make the device broken: every pending
 * packet fails with -XF_EPROTO, the rings are no longer touched, the event
 * channels stay masked, and only xf_netfront_disconnect() (then connect, to
 * reconnect) or destroy remain. Bad rx packets (errors, bad lengths, too
 * many slots, bad extras, bad ids) are dropped and counted, their buffers
 * reposted, so a back end answering with garbage cannot drain the ring.
 * Rx buffers are found by ring slot (netif.h answers each request in its
 * own slot) and a response whose id is not that slot's is dropped. The
 * copy pages stay granted for the whole connection, so a back end still
 * mapping one at its response only sees later packets meant for it: the
 * still-mapped check is made for zero-copy and rx grants, which are
 * revoked at every response. Unknown flags are ignored. An event that brings nothing new is counted
 * as spurious; after storm_threshold in a row the channel is masked until
 * the next xf_netfront_poll() (call it from a timer, e.g. every 10-100 ms;
 * it also reaps completions a back end forgot to signal). Each handler
 * call handles at most 4 x budget rx and 8 x budget tx responses; with
 * more left it raises its own port (xf_evtchn_raise()), so it runs again
 * at the next dispatch rather than wait for a push the back end may never
 * make (with every rx buffer answered it waits for our refill), and counts
 * budget_spent. Such an event can find its work done by then and count as
 * spurious; a run of storm_threshold of them cannot come from it alone.
 *
 * Concurrency: the one rule of <xenfront/platform.h>. The event handlers
 * (installed on the library's ports) run tx completion, rx and refill;
 * xf_netfront_poll() runs the same from the main flow. Each queue's tx
 * completion and rx processing are guarded so that a handler interrupting
 * them on the same queue defers its work to the interrupted call (nothing
 * is lost, nothing runs twice at once). Callbacks run outside the critical
 * section and may call xf_netfront_send(), xf_netfront_rx_return() and the
 * read-only functions; never connect, disconnect, service or destroy.
 *
 * Memory: the context and per-queue state come from xf_plat_page_alloc()
 * at create; pages for rings and buffers at connect. Nothing else
 * allocates.
 *
 * Errors are negative values from <xenfront/errno.h>, or those of
 * libxenbus, libgnttab, libevtchn and the device layer passed through.
 */
#ifndef XENFRONT_NETFRONT_H
#define XENFRONT_NETFRONT_H

#include <xenfront/base.h>
#include <xenfront/xen.h>
#include <xenfront/evtchn.h>
#include <xenfront/gnttab.h>
#include <xenfront/xenbus.h>

#ifdef __cplusplus
extern "C" {
#endif

#define XF_NETFRONT_MAX_QUEUES 8
#define XF_NETFRONT_MAX_FRAGS 64         /* fragments of one packet to send */
#define XF_NETFRONT_MAX_FRAME 0xffffu    /* XEN_NETIF_MAX_TX_SIZE            */
/* Data slots of one tx packet: netback drops 20-21 and is fatal at 22;
 * Linux's netfront stays at 18 (MAX_XEN_SKB_FRAGS + 1). */
#define XF_NETFRONT_TX_MAX_SLOTS 18u
/* Data slots of one rx packet accepted (netback never needs more than 17
 * for 65535 bytes; Linux allows 18 + 1). */
#define XF_NETFRONT_RX_MAX_FRAGS 19u
#define XF_NETFRONT_RING_SIZE 256u       /* tx and rx entries of a 4 KiB ring */

struct xf_netfront;

/* ------------------------------------------------------------------------
 * Packets.
 */

/* Transmit flags (xf_netfront_tx.flags). */
#define XF_NETFRONT_TX_CSUM_BLANK     0x1u  /* checksum to be filled in (NETTXF_csum_blank) */
#define XF_NETFRONT_TX_DATA_VALIDATED 0x2u  /* checksum known good (NETTXF_data_validated) */
#define XF_NETFRONT_TX_ZEROCOPY       0x4u  /* grant the caller's pages, do not copy */
/* More packets follow at once on this queue: the requests are written but
 * not yet made visible to the back end (no barrier, no notification) until
 * a send on the queue without this flag, the next xf_netfront_poll() or
 * event handler run, or a send refused with -XF_EAGAIN. Batching saves a
 * full memory barrier per packet; a batch left open waits for the next
 * poll, so end each with a send without the flag. */
#define XF_NETFRONT_TX_MORE           0x8u

/* GSO types (XEN_NETIF_GSO_TYPE_*). */
#define XF_NETFRONT_GSO_NONE  0u
#define XF_NETFRONT_GSO_TCPV4 1u
#define XF_NETFRONT_GSO_TCPV6 2u

struct xf_netfront_frag {
    const void *data;
    uint32_t len;
};

/*
 * A packet to send. In copy mode the fragments are read during
 * xf_netfront_send() only. With XF_NETFRONT_TX_ZEROCOPY they stay the
 * back end's (read-only) until tx_done: each must lie in memory from
 * xf_plat_page_alloc() (or other memory the platform translates), and the
 * whole 4 KiB pages they touch are exposed to the back end: never mix
 * unrelated data into them.
 */
struct xf_netfront_tx {
    const struct xf_netfront_frag *frags;
    unsigned int nfrags;              /* 1 .. XF_NETFRONT_MAX_FRAGS           */
    uint32_t flags;                   /* XF_NETFRONT_TX_*                     */
    uint8_t gso_type;                 /* XF_NETFRONT_GSO_*, needs feature-gso */
    uint16_t gso_size;                /* MSS, > 0 with a GSO type             */
    void *cookie;                     /* given back to tx_done                */
};

/* Receive flags (xf_netfront_rx_pkt.flags). */
#define XF_NETFRONT_RX_DATA_VALIDATED 0x1u  /* checksum verified (NETRXF_data_validated) */
#define XF_NETFRONT_RX_CSUM_BLANK     0x2u  /* checksum not filled in: CHECKSUM_PARTIAL
                                               (NETRXF_csum_blank; only if offload on) */

struct xf_netfront_rx_frag {
    const void *data;                 /* in a buffer page of the library */
    uint32_t len;
    uint32_t buf;                     /* token for xf_netfront_rx_return() */
};

/* A received packet, valid during the rx callback (its frags' data until
 * returned, if the callback keeps them). */
struct xf_netfront_rx_pkt {
    unsigned int queue;
    uint32_t len;                     /* total bytes, >= 14                */
    unsigned int nfrags;
    uint32_t flags;                   /* XF_NETFRONT_RX_*                  */
    uint8_t gso_type;                 /* XF_NETFRONT_GSO_*                 */
    uint16_t gso_size;
    struct xf_netfront_rx_frag frags[XF_NETFRONT_RX_MAX_FRAGS];
};

/*
 * Callbacks. All may run from an event handler (or from xf_netfront_poll()
 * and xf_netfront_send() in the main flow); see the concurrency rule above.
 *  tx_done: the packet is finished with; its memory (zero-copy) is the
 *    caller's again. status 0 (sent: netback's OKAY means consumed, not
 *    delivered), -XF_EIO (the back end answered ERROR/DROPPED, or a status
 *    it should not have), -XF_EPROTO (the device broke), -XF_ENOTCONN (the
 *    back end went away or the caller disconnected).
 *  rx: return true to keep the buffers (return each frag's buf later).
 *  tx_space: a send refused with -XF_EAGAIN on this queue may now succeed
 *    (fires once per refusal episode).
 *  state: the back end's state node changed: call xf_netfront_service()
 *    from the main flow soon.
 */
typedef void xf_netfront_tx_done_fn(struct xf_netfront *nf, unsigned int queue, void *cookie,
                                    int status, void *arg);
typedef bool xf_netfront_rx_fn(struct xf_netfront *nf, const struct xf_netfront_rx_pkt *pkt,
                               void *arg);
typedef void xf_netfront_tx_space_fn(struct xf_netfront *nf, unsigned int queue, void *arg);
typedef void xf_netfront_state_fn(struct xf_netfront *nf, void *arg);

struct xf_netfront_config {
    const char *id;                   /* device/vif/<id>; NULL: "0"                     */
    unsigned int max_queues;          /* wanted; 0: 1; at most XF_NETFRONT_MAX_QUEUES   */
    bool no_split;                    /* one event channel per queue even if offered    */
    bool no_sg;                       /* do not write feature-sg (no multi-slot frames) */
    bool no_gso;                      /* do not write feature-gso-tcpv4/-tcpv6          */
    bool no_csum_offload;             /* write feature-no-csum-offload = 1: dom0 fills
                                         rx checksums (for stacks that cannot)          */
    bool no_rx_notify;                /* do not write feature-rx-notify                 */
    bool mcast_filter;                /* write request-multicast-control = 1 when the back
                                         end offers feature-multicast-control: it then
                                         drops multicast frames (not broadcast) whose
                                         destination the caller did not add with
                                         xf_netfront_mcast(). Off: it floods them all */
    bool tx_event_final;              /* tx completion event after every response
                                         (rsp_event = cons + 1, Linux 6.1) instead of
                                         half-way through what is outstanding           */
    unsigned int tx_slots;            /* tx ids (and copy pages) per queue; 0: 256;
                                         32 .. 256                                       */
    unsigned int rx_slots;            /* rx buffers kept posted per queue; 0: 256;
                                         32 .. 256                                       */
    unsigned int rx_spare;            /* more rx pages, for buffers the caller keeps;
                                         0: 64                                           */
    unsigned int budget;              /* responses handled per call and queue; 0: 64    */
    unsigned int rx_event_batch;      /* rx interrupt moderation: 0, 1: an event at the
                                         next response (Linux). k > 1: only once k more
                                         responses are there (at most half of the posted
                                         buffers); fewer wait for xf_netfront_poll(),
                                         which the caller must then call on a timer     */
    unsigned int storm_threshold;     /* spurious events in a row before masking; 0: 64 */
    xf_netfront_tx_done_fn *tx_done;
    xf_netfront_rx_fn *rx;
    xf_netfront_tx_space_fn *tx_space;
    xf_netfront_state_fn *state;
    void *arg;                        /* given to every callback                         */
};

/* What was negotiated (valid while connected). */
struct xf_netfront_info {
    uint8_t mac[6];
    unsigned int mtu;                 /* see the MTU policy above */
    unsigned int nr_queues;
    bool split;                       /* two event channels per queue */
    bool sg, gso_tcpv4, gso_tcpv6, ipv6_csum, csum_offload, rx_notify;
    bool backend_rx_notify;
    bool mcast_control;               /* feature-multicast-control offered            */
    bool dynamic_mcast;               /* and feature-dynamic-multicast-control        */
    bool mcast_filter;                /* request-multicast-control is 1 (see
                                         xf_netfront_mcast_filter())                    */
};

/* Per-queue counters. Read with xf_netfront_stats(); any context. */
struct xf_netfront_stats {
    uint64_t tx_packets, tx_bytes;    /* completed with status 0                  */
    uint64_t tx_errors;               /* completed with -XF_EIO                    */
    uint64_t tx_failed;               /* completed with -XF_EPROTO / -XF_ENOTCONN */
    uint64_t tx_eagain;               /* sends refused for lack of space          */
    uint64_t tx_linearised;           /* zero-copy packets sent through copy pages */
    uint64_t tx_bad_status;           /* responses with a status outside netif.h  */
    uint64_t rx_packets, rx_bytes;
    uint64_t rx_drop_error;           /* a slot with status < 0                    */
    uint64_t rx_drop_len;             /* offset/status outside the page, or total */
    uint64_t rx_drop_short;           /* first slot < 14 bytes                     */
    uint64_t rx_drop_slots;           /* chain longer than XF_NETFRONT_RX_MAX_FRAGS */
    uint64_t rx_drop_extra;           /* bad or missing extra, bad GSO             */
    uint64_t rx_drop_id;              /* response id not the slot's                */
    uint64_t rx_no_buffer;            /* refill found no free page                 */
    uint64_t proto_errors;            /* violations that broke the device          */
    uint64_t notify_tx, notify_rx;    /* notifications sent                        */
    uint64_t events_tx, events_rx;    /* events received (one channel: events_tx)  */
    uint64_t spurious;                /* events that brought nothing               */
    uint64_t throttled;               /* times a channel was masked for a storm    */
    uint64_t budget_spent;            /* calls that left responses for later       */
    uint64_t mcast_requests;          /* multicast add/del requests completed      */
    uint64_t mcast_refused;           /* of them, with a status other than 0       */
};

/* ------------------------------------------------------------------------
 * Life cycle.
 */

/*
 * Create a context for device/vif/<cfg->id> (opened through the device
 * layer: backend and backend-id read and checked, the backend's state
 * watched). xb, ec and gt must outlive it. cfg is copied; NULL means all
 * defaults (and no callbacks: then packets complete silently and rx
 * packets are dropped after counting).
 * Context: not from an event handler. Returns 0 and *out; -XF_EINVAL (out,
 * xb, ec or gt NULL, a limit out of range), -XF_ENOMEM, or the device
 * layer's error (-XF_ENOENT: no such device). On failure nothing is held.
 */
int xf_netfront_create(struct xf_netfront **out, struct xf_xenbus *xb, struct xf_evtchn *ec,
                       struct xf_gnttab *gt, const struct xf_netfront_config *cfg,
                       uint64_t deadline_ns) XF_MUST_CHECK;

/*
 * Connect: wait for the back end's InitWait (going through Initialising
 * first after an earlier disconnect), read and check its features, the
 * `mac` and `mtu` keys, set up every queue (rings, event channels, copy
 * pages granted read-only, rx buffers posted), publish all keys in one
 * transaction, switch to Connected and wait for the back end's Connected.
 * Context: not from an event handler. Returns 0; -XF_EISCONN (connected
 * already, or broken and not yet disconnected), -XF_ENODEV (no feature-rx-copy), -XF_EINVAL (a garbage mac),
 * -XF_ENOTCONN (the back end closed instead), -XF_ETIMEDOUT, -XF_ENOMEM,
 * -XF_ENOSPC (grant references), or a lower layer's error. On failure
 * everything set up is torn down and our state is Closed (connect again
 * to retry).
 */
int xf_netfront_connect(struct xf_netfront *nf, uint64_t deadline_ns) XF_MUST_CHECK;

/*
 * Disconnect (also after the device broke): switch to Closing, fail every
 * pending packet (-XF_ENOTCONN, or -XF_EPROTO if broken) once its grants
 * are revoked, revoke the rx buffers and free the rings and pages, with
 * deferred end of access for anything the back end still maps (reclaimed
 * by xf_gnttab_reclaim()), close the event channels, wait (until the
 * deadline, best effort) for the back end to leave, switch to Closed.
 * Buffers the rx callback kept stay valid until returned. Safe when not
 * connected. Context: not from an event handler nor a callback.
 * Returns 0, or the first xenstore error (the teardown is done anyway).
 */
int xf_netfront_disconnect(struct xf_netfront *nf, uint64_t deadline_ns);

/*
 * Destroy: disconnect if needed, stop watching, free the context.
 * Refused with -XF_EBUSY (nothing done besides the disconnect) while rx
 * buffers are still kept by the caller, or zero-copy packets wait for the
 * back end to let go of their grants (call xf_gnttab_reclaim() and retry).
 * NULL: 0. Context: not from an event handler nor a callback.
 */
int xf_netfront_destroy(struct xf_netfront *nf, uint64_t deadline_ns);

/*
 * React to a back-end state change (the state callback asks for it; cheap
 * when nothing changed): Closing, Closed or gone while connected ->
 * disconnect as above (pending packets fail with -XF_ENOTCONN). Returns
 * the back end's state as read (>= 0), or a xenstore error.
 * Context: not from an event handler nor a callback.
 */
int xf_netfront_service(struct xf_netfront *nf, uint64_t deadline_ns);

/* Connected and not broken. Context: any. */
bool xf_netfront_connected(const struct xf_netfront *nf);
/* 0, or -XF_EPROTO once the device broke (until disconnect). Context: any. */
int xf_netfront_broken(const struct xf_netfront *nf);
/* What was negotiated. Context: any. Returns 0 or -XF_ENOTCONN. */
int xf_netfront_info(const struct xf_netfront *nf, struct xf_netfront_info *info);
/* Counters of queue q (zeros for a bad q). Context: any. */
void xf_netfront_stats(const struct xf_netfront *nf, unsigned int q, struct xf_netfront_stats *st);
/* tx slots in flight on queue q (data and extra); 0 for a bad q. Context: any. */
unsigned int xf_netfront_tx_inflight(const struct xf_netfront *nf, unsigned int q);
/* rx buffers posted on queue q; 0 for a bad q. Context: any. */
unsigned int xf_netfront_rx_posted(const struct xf_netfront *nf, unsigned int q);
/* Our event-channel ports of queue q (rx == tx when not split; either
 * pointer may be NULL). Context: any. Returns 0, or -XF_EINVAL (nf NULL or
 * q not a connected queue). */
int xf_netfront_ports(const struct xf_netfront *nf, unsigned int q, evtchn_port_t *tx,
                      evtchn_port_t *rx);

/* ------------------------------------------------------------------------
 * Data path.
 */

/*
 * Send one packet on queue q (the caller picks the queue, e.g. by flow
 * hash). Copy mode copies it now; zero-copy grants its pages. The packet
 * then completes exactly once through tx_done (from a handler, poll, or a
 * later send). With XF_NETFRONT_TX_MORE the back end sees it only with the
 * batch's last send (or the next poll or handler run; a refused send also
 * pushes what is pending). Context: any, including callbacks.
 * Returns 0; -XF_EAGAIN (no room on the ring now: tx_space will fire);
 * -XF_EINVAL (no fragments, a NULL fragment, too many, a frame shorter
 * than 14 or longer than 65535 bytes, gso_size 0 with a GSO type, bad q);
 * -XF_EMSGSIZE (more than one page without feature-sg, or more slots than
 * the queue's tx_slots); -XF_EOPNOTSUPP
 * (a GSO type the back end does not offer); -XF_EFAULT (zero-copy memory
 * the platform cannot translate); -XF_EBUSY (it interrupted another send
 * on the same queue: retry from the main flow); -XF_ENOTCONN; -XF_EPROTO
 * (broken). On error nothing was sent and tx_done will not be called.
 */
int xf_netfront_send(struct xf_netfront *nf, unsigned int q, const struct xf_netfront_tx *pkt);

/*
 * Give back a buffer the rx callback kept (a frag's buf). Reposts it. The
 * page's contents go back to the back end's view: do not leave data in it
 * that the back end must not see. A buffer kept across a disconnect is
 * zeroed before any later connection grants it again.
 * Context: any, including callbacks. Returns 0, or -XF_EINVAL (not a
 * buffer the caller holds).
 */
int xf_netfront_rx_return(struct xf_netfront *nf, uint32_t buf);

/*
 * Do what the event handlers do, for every queue: reap tx completions,
 * receive, refill, and re-enable a channel masked after an event storm.
 * For polling kernels, and as the periodic safety net of every kernel;
 * with rx_event_batch > 1 it is what receives the frames below the batch,
 * so call it from a timer of the latency you accept (1 ms, say).
 * Context: any (from a handler it defers to a run in progress). Returns
 * the number of packets completed or received, or -XF_ENOTCONN /
 * -XF_EPROTO.
 */
int xf_netfront_poll(struct xf_netfront *nf);

/* ------------------------------------------------------------------------
 * Multicast control (netif.h feature-multicast-control and
 * feature-dynamic-multicast-control, as Linux 6.1 netback does them). The
 * filter is the back end's, one per vif: a list the front end amends with
 * dummy tx requests carrying an XEN_NETIF_EXTRA_TYPE_MCAST_ADD/_DEL extra.
 * It is applied to frames towards the guest only while
 * request-multicast-control is 1: then a multicast destination that is
 * not broadcast and not in the list is dropped in the back end. Linux
 * holds at most 64 entries (XEN_NETBK_MCAST_MAX), keeps duplicates (each
 * add is an entry, each delete removes one), and frees the list when the
 * vif disconnects: after a reconnect the caller adds its groups again.
 * With the static feature alone the back end samples
 * request-multicast-control once, at connect (config.mcast_filter); with
 * the dynamic one it follows every change (xf_netfront_mcast_filter()).
 */

/*
 * Add (add true) or delete a multicast MAC in the back end's filter: one
 * control request on queue 0's tx ring (a request slot and an extra slot,
 * no data), completed through tx_done with cookie. Its status: 0 (the back
 * end took it; a delete of an address not in the list is also 0), or for
 * an add -XF_ENOSPC (the back end answered ERROR: Linux does only when its
 * filter is full or out of memory), -XF_EIO (any other error answer),
 * -XF_EPROTO / -XF_ENOTCONN as for packets. The request is counted in
 * mcast_requests, not as a packet. mac is copied.
 * Context: any, including callbacks. Returns 0, or as xf_netfront_send
 * (-XF_EAGAIN with tx_space, -XF_EBUSY, -XF_ENOTCONN, -XF_EPROTO), and
 * -XF_EINVAL (mac NULL, or not a group address: bit 0 of mac[0] clear),
 * -XF_EOPNOTSUPP (the back end offers no feature-multicast-control).
 */
int xf_netfront_mcast(struct xf_netfront *nf, const uint8_t mac[6], bool add, void *cookie);

/*
 * Turn the back end's filtering on or off now (request-multicast-control),
 * and for later connections. Returns 0 at once if it is already so.
 * Context: not from an event handler nor a callback (a xenstore write).
 * Returns 0; -XF_EOPNOTSUPP (no feature-multicast-control, or a change
 * with only the static feature: that back end ignores it until the next
 * connection; set config.mcast_filter before connecting instead);
 * -XF_ENOTCONN; -XF_EPROTO (broken); -XF_EINVAL (nf NULL); or a xenstore
 * error (nothing changed).
 */
int xf_netfront_mcast_filter(struct xf_netfront *nf, bool on, uint64_t deadline_ns);

#ifdef __cplusplus
}
#endif

#endif /* XENFRONT_NETFRONT_H */
