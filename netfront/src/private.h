/* netfront internals: the context, its queues, and what the files share. */
#ifndef XF_NETFRONT_PRIVATE_H
#define XF_NETFRONT_PRIVATE_H

#include <xenfront/netfront.h>
#include <xenfront/errno.h>
#include <xenfront/frontdev.h>
#include <xenfront/idtable.h>
#include <xenfront/platform.h>
#include <xenfront/ring.h>

#include <xen/io/netif.h>
#include <xen/io/xenbus.h>

#define NF_RING XF_NETFRONT_RING_SIZE
#define NF_NONE 0xffffu
#define NF_ETH_HLEN 14u
#define NF_MAX_EXTRAS 4u              /* rx extras of one packet before it is dropped */
#define NF_SPACE_SLOTS (XF_NETFRONT_TX_MAX_SLOTS + 2u)

/* State of an rx page. */
enum nf_page_state {
    NF_PG_FREE = 0,    /* on the free stack                */
    NF_PG_POSTED,      /* granted, in a ring slot          */
    NF_PG_HELD,        /* the packet being assembled       */
    NF_PG_LENT,        /* the caller's (rx callback kept it) */
    NF_PG_ORPHAN,      /* lent across a disconnect: freed when returned */
    NF_PG_GONE,        /* handed to the deferred-grant list */
};

struct nf_rxpage {
    void *va;
    xen_pfn_t gfn;
    uint8_t state;
};

/* A tx slot (indexed by the request id). */
struct nf_txslot {
    uint16_t pkt;      /* packet it belongs to                */
    bool zc;           /* granted the caller's page on zc_ref */
    bool zc_live;      /* that grant not yet revoked          */
};

struct nf_txpkt {
    void *cookie;
    uint32_t len;
    uint16_t left;     /* slots not yet answered (or still granted) */
    uint16_t next;     /* free stack link                          */
    uint16_t orphan;   /* its nf_orphan, if orphaned               */
    int status;
    bool used;
    bool orphaned;     /* a grant of it was deferred at a teardown */
    uint8_t mcast;     /* 0 a packet, else a control request: NF_MCAST_* */
};

/*
 * A packet whose zero-copy grant the back end still mapped when its
 * connection failed: it completes only when the last such grant is
 * released, which may be after a reconnect has reset the slot and packet
 * tables. So it and its waiting grants live apart from them. refs: one
 * for the packet until its slots are all done, one per waiting grant.
 */
struct nf_orphan {
    void *cookie;
    int status;
    uint16_t refs;     /* 0: free */
};

/* A zero-copy grant on libgnttab's deferred list (the release's page). */
struct nf_zcwait {
    uint16_t orphan;
    bool used;
};

enum { NF_MCAST_NONE = 0, NF_MCAST_ADD, NF_MCAST_DEL };

/* The rx packet being assembled from a chain of responses. */
struct nf_rxasm {
    bool active;
    bool want_extra;        /* extras follow                     */
    bool more;              /* data slots follow (after extras)  */
    unsigned int drop;      /* 0, or which rx_drop_* counter      */
    unsigned int nextra;
    unsigned int nslots;
    uint16_t pages[XF_NETFRONT_RX_MAX_FRAGS + 1];
    unsigned int npages;
    struct xf_netfront_rx_pkt pkt;
};

enum { NF_DROP_NONE = 0, NF_DROP_ERROR, NF_DROP_LEN, NF_DROP_SHORT, NF_DROP_SLOTS,
       NF_DROP_EXTRA, NF_DROP_ID };

struct nf_queue {
    struct xf_netfront *nf;
    unsigned int index;
    char subdir[16];               /* "queue-N", or "" for one queue */
    bool up;                       /* rings set up (connected)       */
    /* Rings and channels. */
    struct xf_frontdev_ring txr_mem, rxr_mem;
    struct xf_front_ring tx, rx;
    evtchn_port_t port_tx, port_rx;
    /* Guards against a handler re-entering work in progress. */
    bool tx_busy, tx_again, rx_busy, rx_again, send_busy;
    bool unpushed;                 /* requests produced under TX_MORE, not pushed */
    bool want_space;
    unsigned int spurious_run;
    bool throttled_tx, throttled_rx;
    /* Transmit. */
    struct xf_idtable ids;
    struct xf_idtable_slot id_slots[NF_RING];
    struct nf_txslot slot[NF_RING];
    grant_ref_t pool_ref[NF_RING];     /* copy page i, read-only, per connection */
    grant_ref_t zc_ref[NF_RING];       /* reserved for zero-copy grants         */
    bool zc_ref_ours[NF_RING];         /* false once handed to the deferred list */
    /* Outlive a connection (not reset by tx_setup). */
    struct nf_orphan orphans[NF_RING];
    struct nf_zcwait zcw[NF_RING];
    void *pool[NF_RING];
    struct nf_txpkt pkts[NF_RING];
    uint16_t pkt_free;
    unsigned int pkts_free;
    unsigned int extras_out;           /* extra slots awaiting their NULL response */
    /* Receive. */
    grant_ref_t rx_ref[NF_RING];       /* ring slot j's reference               */
    uint16_t rx_slot_page[NF_RING];    /* page posted in ring slot j            */
    struct nf_rxpage *pages;           /* rx_slots + rx_spare                   */
    uint16_t *page_free;               /* stack of free page indices            */
    unsigned int npages, nfree_pages;
    unsigned int lent;                 /* pages the caller holds (incl. orphans) */
    struct nf_rxasm as;
    netif_rx_response_t rxbuf[64];
    netif_tx_response_t txbuf[64];
    struct xf_netfront_stats st;
};

struct xf_netfront {
    struct xf_frontdev fd;
    struct xf_netfront_config cfg;
    char id[16];
    unsigned int tx_slots, rx_slots, rx_spare, budget, storm;
    bool connected;
    int broken;                        /* 0 or -XF_EPROTO */
    bool backend_rx_copy;
    struct xf_netfront_info info;
    unsigned int nq;
    unsigned int deferred;             /* zero-copy grants awaiting the back end */
    struct nf_queue *q[XF_NETFRONT_MAX_QUEUES];
    size_t q_pages;
};

/* tx.c */
int xf_netfront__tx_setup(struct nf_queue *q);
void xf_netfront__tx_teardown(struct nf_queue *q, int status);
void xf_netfront__tx_gc(struct nf_queue *q);
void xf_netfront__tx_fail_all(struct nf_queue *q, int status);
/* rx.c */
int xf_netfront__rx_setup(struct nf_queue *q);
void xf_netfront__rx_teardown(struct nf_queue *q);
void xf_netfront__rx_work(struct nf_queue *q);
void xf_netfront__rx_refill(struct nf_queue *q);
/* netfront.c */
void xf_netfront__broke(struct xf_netfront *nf, struct nf_queue *q, const char *why,
                        unsigned long long v);
void xf_netfront__notify(struct nf_queue *q, bool rx);

#endif
