/*
 * xf_netback.h: a simulated Linux-6.1-like netback (libxfnetback.a, test-only).
 *
 * It serves one vif of the simulator's guest as dom0, over the simulated
 * xenstored and the back side of xenfront's ring layer, doing what Linux
 * 6.1's xen-netback does (drivers/net/xen-netback, as read for this project):
 *
 *  - xenstore: writes its features before InitWait (feature-sg, -gso-tcpv4,
 *    -gso-tcpv6, -ipv6-csum-offload, -rx-copy, -split-event-channels,
 *    multi-queue-max-queues, -multicast-control, -dynamic-multicast-control,
 *    optionally -rx-notify), connects when the front end is Connected
 *    (reads request-rx-copy, feature-sg, -gso-*, -no-csum-offload,
 *    -rx-notify, multi-queue-num-queues, [queue-N/]tx-ring-ref, rx-ring-ref,
 *    event-channel or event-channel-tx/-rx; missing ring keys or a bad
 *    queue count are fatal), follows the front end out (Closing, Closed)
 *    and back (Initialising -> InitWait);
 *  - transmit (guest -> dom0): Linux's checks and limits (fatal: impossible
 *    request count, a packet published only in part, bad extras, GSO size
 *    0, a slot crossing its page, 22+ data slots; dropped with ERROR
 *    responses: 20-21 data slots, first slot < 14 bytes, sizes that do not
 *    add up), the first copy_len (128) bytes grant-copied, the rest
 *    grant-mapped; mapped slots can be answered late and out of order
 *    (hold_mapped), as netback answers them when dom0 frees the skb;
 *    extras answered with NETIF_RSP_NULL; multicast extras update a filter
 *    (64 entries, then ERROR) that drops unlisted multicast frames towards
 *    the guest when it asked for request-multicast-control;
 *  - receive (dom0 -> guest): packets injected by the test are grant-copied
 *    into the guest's posted pages, one page per data slot (offset rx_offset
 *    for a one-slot packet, 2 like QEMU if asked), GSO extra after the first
 *    slot, checksum flags, a failed copy reported as the GNTST code;
 *  - notifications as netback gives them (push-and-check against the
 *    guest's event indices; final check re-arming req_event), counted.
 *
 * Two ways to drive it. A control thread always follows xenstore. Data is
 * served by that thread too when cfg.auto_data is set (it waits on the
 * queues' ports), else only when the test calls xf_netback_tx_process() /
 * xf_netback_rx_process(), which makes hostile tests deterministic.
 *
 * Hostile mode: hooks that rewrite each response before it is produced
 * (bad ids, statuses, offsets, flags), knobs (stall tx, never notify), and
 * raw access to the shared rings under the lock for index games (rsp_prod
 * jumps, rewriting a response after the guest read it, chains that never
 * end), event storms, state flapping and garbage keys (write them with
 * xf_xsd_write into xf_netback_backend_dir()).
 *
 * Threads: every function may be called from any thread; one mutex
 * serialises them with the control thread. Hooks run under it.
 */
#ifndef XF_NETBACK_H
#define XF_NETBACK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <xenfront/ring.h>
#include <xenfront/sim.h>
#include <xenfront/xsd.h>
#include <xen/io/netif.h>
#include <xen/io/xenbus.h>

#ifdef __cplusplus
extern "C" {
#endif

#define XF_NETBACK_MAX_QUEUES 8
#define XF_NETBACK_FATAL_SLOTS 20      /* netback's fatal_skb_slots      */
#define XF_NETBACK_DROP_SLOTS 18       /* XEN_NETBK_LEGACY_SLOTS_MAX     */
#define XF_NETBACK_COPY_LEN 128        /* XEN_NETBACK_TX_COPY_LEN        */
#define XF_NETBACK_MCAST_MAX 64

struct xf_netback;

struct xf_netback_config {
    const char *id;               /* vif id, default "0" */
    const char *mac;              /* frontend mac key, default "00:16:3e:00:00:01"; "" none */
    unsigned max_queues;          /* multi-queue-max-queues; 0 -> 1 */
    bool no_max_queues_key;       /* do not write multi-queue-max-queues */
    bool no_sg, no_gso_tcpv4, no_gso_tcpv6, no_ipv6_csum, no_rx_copy, no_split;
    bool no_mcast;                /* no feature-(dynamic-)multicast-control */
    bool static_mcast;            /* feature-multicast-control only (no -dynamic-): the
                                     front end's request-multicast-control is sampled at
                                     connect and later changes are ignored */
    bool rx_notify_key;           /* also write feature-rx-notify = 1 */
    bool auto_data;               /* serve data from the control thread */
    bool hold_mapped;             /* answer mapped tx slots only on xf_netback_tx_release() */
    bool keep_stray;              /* hostile: slots answered while mapped stay mapped across
                                     a disconnect, until xf_netback_tx_unmap_answered() */
    bool copy_only;               /* grant-copy whole tx slots, never map (benchmarks: the
                                     simulator's maps cost mmap calls and TLB shootdowns) */
    unsigned tx_batch;            /* tx requests taken per round; 0 -> all (a batch that
                                     splits a packet is fatal, as netback: one-slot only) */
    unsigned rx_offset;           /* data offset of one-slot rx packets (QEMU: 2) */
    unsigned keep_max;            /* received tx packets kept; 0 -> 4096 */
    bool no_keep;                 /* count received packets, keep none (benchmarks) */
    bool tx_discard;              /* benchmarks only, unlike netback: check and answer tx
                                     packets OKAY without reading their data (isolates the
                                     front end's cost: its pages stay in its own cache) */
};

/* A packet the guest sent, as netback assembled it. */
struct xf_netback_pkt {
    unsigned queue;
    uint32_t len;
    uint16_t flags;               /* NETTXF_csum_blank / data_validated of the first slot */
    uint8_t gso_type;             /* XEN_NETIF_GSO_TYPE_*, 0 none */
    uint16_t gso_size;
    unsigned slots;               /* data slots it used */
    unsigned char *data;          /* len bytes, malloc'ed: free() it (or xf_netback_pkt_free) */
};

/* Per-queue counters. */
struct xf_netback_stats {
    uint64_t tx_packets, tx_bytes, tx_dropped, tx_copy_ops, tx_map_ops;
    uint64_t tx_responses, tx_held;          /* held: mapped slots not yet answered */
    uint64_t rx_packets, rx_bytes, rx_dropped, rx_copy_errors;
    uint64_t rx_stalls;                      /* rx_process found too few slots */
    uint64_t events_tx, events_rx;           /* notifications received (per channel) */
    uint64_t notify_tx, notify_rx;           /* notifications sent */
    uint64_t mcast_add, mcast_del;           /* MCAST_ADD / _DEL requests answered */
    uint64_t mcast_refused;                  /* adds answered ERROR: filter full */
    uint64_t rx_mcast_dropped;               /* injected frames the filter dropped */
};

/*
 * Hooks: called under the lock with a response about to be produced; they
 * may rewrite it. slot is the index of the response within its packet
 * (0: first). Return false to produce nothing for it (the slot is then owed
 * for good: hostile).
 */
typedef bool xf_netback_tx_hook(void *arg, unsigned queue, unsigned slot,
                                netif_tx_response_t *rsp);
typedef bool xf_netback_rx_hook(void *arg, unsigned queue, unsigned slot,
                                netif_rx_response_t *rsp);

/* Create: write the toolstack's nodes (frontend and backend directories,
 * libxl's permissions), the features, state InitWait, and start the control
 * thread. NULL on failure. cfg may be NULL. */
struct xf_netback *xf_netback_create(struct xf_sim *sim, struct xf_xsd *xsd, domid_t guest,
                                     const struct xf_netback_config *cfg);
/* Disconnect (unmapping everything), stop the thread, free. NULL is fine. */
void xf_netback_destroy(struct xf_netback *be);

const char *xf_netback_backend_dir(const struct xf_netback *be);
const char *xf_netback_frontend_dir(const struct xf_netback *be);

/* Our state node, and the front end's as read last (or now). */
int xf_netback_state(struct xf_netback *be);
int xf_netback_frontend_state(struct xf_netback *be);
/* Write our state node (for flapping tests); the thread then follows the
 * front end as usual from there. */
void xf_netback_set_state(struct xf_netback *be, int state);
/* Backend going away mid-traffic: unmap and unbind everything, then state
 * (Closing or Closed). */
void xf_netback_disconnect(struct xf_netback *be, int state);

/* Connected (rings mapped), and how: queues, split, features read. */
bool xf_netback_connected(struct xf_netback *be);
bool xf_netback_wait_connected(struct xf_netback *be, bool connected, uint64_t deadline_ns);
unsigned xf_netback_nr_queues(struct xf_netback *be);
bool xf_netback_split(struct xf_netback *be);
/* The front end's value of a key read at connect (-1: absent). */
long xf_netback_fe_key(struct xf_netback *be, const char *key);
/* The last fatal error ("" none): what netback would log before disabling the vif. */
const char *xf_netback_fatal(struct xf_netback *be);

/* Serve a queue now: consume tx requests / fill rx requests with injected
 * packets. Return the packets handled, or -1 if the vif is fatal/not connected. */
int xf_netback_tx_process(struct xf_netback *be, unsigned queue);
int xf_netback_rx_process(struct xf_netback *be, unsigned queue);

/* Answer up to n held mapped tx slots (unmapping them first), newest first
 * when reverse. Returns the number answered. */
int xf_netback_tx_release(struct xf_netback *be, unsigned queue, unsigned n, bool reverse);
/* Mapped tx slots not yet answered. */
unsigned xf_netback_tx_held(struct xf_netback *be, unsigned queue);
/* Answer held slots without unmapping their grants (hostile, N6); the
 * grants stay mapped until xf_netback_tx_unmap_answered() or disconnect. */
int xf_netback_tx_answer_mapped(struct xf_netback *be, unsigned queue, unsigned n);
void xf_netback_tx_unmap_answered(struct xf_netback *be);

/* Take the oldest packet received (returns false if none). */
bool xf_netback_tx_take(struct xf_netback *be, struct xf_netback_pkt *pkt);
void xf_netback_pkt_free(struct xf_netback_pkt *pkt);
unsigned xf_netback_tx_queued(struct xf_netback *be);

/* Queue a packet for the guest on queue (copied). flags NETRXF_csum_blank /
 * data_validated; gso_type 0 for none. 0, -1 if too big (> 65535) or the
 * queue is full, -2 if the multicast filter dropped it (as
 * xenvif_start_xmit: multicast control on, a multicast destination that is
 * neither broadcast nor in the filter). */
int xf_netback_rx_inject(struct xf_netback *be, unsigned queue, const void *data, uint32_t len,
                         uint16_t flags, uint8_t gso_type, uint16_t gso_size);
unsigned xf_netback_rx_queued(struct xf_netback *be, unsigned queue);
/* A packet source for benchmarks: from now on rx_process sends count more
 * packets of len bytes (a fixed pattern; GSO extra when gso_type) without
 * injection, as fast as the guest posts buffers. */
void xf_netback_rx_source(struct xf_netback *be, unsigned queue, uint32_t len, uint64_t count,
                          uint8_t gso_type, uint16_t gso_size);

void xf_netback_stats(struct xf_netback *be, unsigned queue, struct xf_netback_stats *st);

/* Multicast control (netback.c xenvif_mcast_*): entries in the filter
 * (duplicates count, as in Linux: at most XF_NETBACK_MCAST_MAX; the list is
 * freed at disconnect), how many equal mac, and whether the filter is
 * applied (request-multicast-control as sampled: at connect, and on every
 * change unless static_mcast). */
unsigned xf_netback_mcast_count(struct xf_netback *be);
unsigned xf_netback_mcast_has(struct xf_netback *be, const uint8_t mac[6]);
bool xf_netback_mcast_filtering(struct xf_netback *be);

/* ------------------------------------------------------------------------
 * Hostile controls.
 */
void xf_netback_set_hooks(struct xf_netback *be, xf_netback_tx_hook *tx, xf_netback_rx_hook *rx,
                          void *arg);
/* Stop consuming tx requests (N26). */
void xf_netback_tx_stall(struct xf_netback *be, bool stall);
/* Never notify the guest (N25). */
void xf_netback_silent(struct xf_netback *be, bool silent);
/* Send n events on a queue's tx (rx = false) or rx channel without any
 * response (N24). */
void xf_netback_storm(struct xf_netback *be, unsigned queue, bool rx, unsigned n);

/* Raw access (hold the lock from lock() to unlock()): dom0's mappings of
 * the queue's shared rings and its back-ring contexts. NULL if not connected. */
void xf_netback_lock(struct xf_netback *be);
void xf_netback_unlock(struct xf_netback *be);
struct netif_tx_sring *xf_netback_tx_sring(struct xf_netback *be, unsigned queue);
struct netif_rx_sring *xf_netback_rx_sring(struct xf_netback *be, unsigned queue);
struct xf_back_ring *xf_netback_tx_ring(struct xf_netback *be, unsigned queue);
struct xf_back_ring *xf_netback_rx_ring(struct xf_netback *be, unsigned queue);
/* Notify the guest on a queue's tx or rx channel. */
void xf_netback_kick(struct xf_netback *be, unsigned queue, bool rx);

#ifdef __cplusplus
}
#endif

#endif /* XF_NETBACK_H */
