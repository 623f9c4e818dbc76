/*
 * A simulated Linux-6.1-like netback (see xf_netback.h). Test-only code:
 * it may allocate with malloc and use pthreads; it acts as dom0 through the
 * simulator's explicit-domain calls, never through the seam's current
 * domain (which is the guest's on the test thread).
 */
#define _GNU_SOURCE
#include "xf_netback.h"

#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define RING_ENTS 256u
#define RXQ_MAX 1024u
#define RX_BOUNCE_PAGES 17u
#define NB_PAGE 4096u

struct held {
    uint16_t id;
    uint16_t nextra;
    grant_handle_t handle;
    bool mapped;
};

struct rxp {
    unsigned char *data;
    uint32_t len;
    uint16_t flags;
    uint8_t gso_type;
    uint16_t gso_size;
};

struct nbq {
    void *tx_va, *rx_va;
    grant_handle_t tx_h, rx_h;
    bool tx_mapped, rx_mapped;
    struct xf_back_ring tx, rx;
    evtchn_port_t port_tx, port_rx;     /* equal when not split */
    netif_tx_request_t reqs[RING_ENTS];
    struct held held[RING_ENTS];
    unsigned nheld;
    struct rxp rxq[RXQ_MAX];
    unsigned rx_head, rx_count;
    uint64_t src_left;                  /* benchmark source */
    struct rxp src;
    struct xf_netback_stats st;
};

struct fekey {
    const char *name;
    long value;
};

static const char *const fe_key_names[] = {
    "request-rx-copy", "feature-sg", "feature-gso-tcpv4", "feature-gso-tcpv6",
    "feature-no-csum-offload", "feature-ipv6-csum-offload", "feature-rx-notify",
    "multi-queue-num-queues", "request-multicast-control",
};
#define NR_FE_KEYS (sizeof(fe_key_names) / sizeof(fe_key_names[0]))

struct xf_netback {
    struct xf_sim *sim;
    struct xf_xsd *xsd;
    domid_t guest;
    struct xf_netback_config cfg;
    char fe[128], be[128];
    pthread_mutex_t lock;
    pthread_t thread;
    volatile int stop;
    bool connected;
    char fatal[160];
    int fe_state;
    unsigned nq;
    bool split;
    long fe_keys[NR_FE_KEYS];
    struct nbq q[XF_NETBACK_MAX_QUEUES];
    /* dom0 pages for grant copies */
    unsigned char *bounce;
    xen_pfn_t bounce_gfn;
    /* tx packets kept for the test */
    struct xf_netback_pkt *keep;
    unsigned keep_head, keep_count, keep_max;
    /* hostile */
    xf_netback_tx_hook *tx_hook;
    xf_netback_rx_hook *rx_hook;
    void *hook_arg;
    bool stall, silent;
    grant_handle_t stray[64];          /* answered while still mapped (N6) */
    unsigned nstray;
    /* The multicast filter (xenvif's fe_mcast_addr): per vif, duplicates
     * allowed as in Linux (each add is an entry, a del removes one), freed
     * at disconnect. mcast_ctrl is request-multicast-control as sampled at
     * connect, and again on every change when dynamic. */
    uint8_t mcast[XF_NETBACK_MCAST_MAX][6];
    unsigned nmcast;
    bool mcast_ctrl;
    uint64_t mcast_sampled;            /* when request-multicast-control was read */
};

/* ------------------------------------------------------------------------
 * xenstore helpers (toolstack access to the simulated xenstored).
 */
static int xs_read(struct xf_netback *be, const char *dir, const char *node, char *buf,
                   size_t cap)
{
    char path[256];
    int n;

    snprintf(path, sizeof(path), "%s/%s", dir, node);
    n = xf_xsd_read(be->xsd, path, buf, cap);
    if (n < 0)
        return n;
    if ((size_t)n >= cap)
        n = (int)cap - 1;
    buf[n] = '\0';
    return n;
}

static void xs_write(struct xf_netback *be, const char *dir, const char *node, const char *v)
{
    char path[256];

    snprintf(path, sizeof(path), "%s/%s", dir, node);
    (void)xf_xsd_write(be->xsd, path, v, strlen(v));
}

/* A strict decimal: -1 when absent or not a plain unsigned number. */
static long xs_uint(struct xf_netback *be, const char *dir, const char *node)
{
    char buf[32];
    char *end;
    unsigned long v;

    if (xs_read(be, dir, node, buf, sizeof(buf)) <= 0)
        return -1;
    if (buf[0] < '0' || buf[0] > '9')
        return -1;
    errno = 0;
    v = strtoul(buf, &end, 10);
    if (errno != 0 || *end != '\0' || v > 0xffffffffUL)
        return -1;
    return (long)v;
}

static void set_state_locked(struct xf_netback *be, int st)
{
    char v[8];

    snprintf(v, sizeof(v), "%d", st);
    xs_write(be, be->be, "state", v);
}

static int own_state(struct xf_netback *be)
{
    long v = xs_uint(be, be->be, "state");

    return v < 0 ? 0 : (int)v;
}

XF_PRINTF(2, 3)
static void go_fatal(struct xf_netback *be, const char *fmt, ...)
{
    va_list ap;

    if (be->fatal[0] != '\0')
        return;
    va_start(ap, fmt);
    vsnprintf(be->fatal, sizeof(be->fatal), fmt, ap);
    va_end(ap);
    xf_log(XF_LOG_WARN, "netback: fatal: %s", be->fatal);
}

/* ------------------------------------------------------------------------
 * Connect and disconnect.
 */
static void unmap_queue(struct xf_netback *be, struct nbq *q)
{
    for (unsigned i = 0; i < q->nheld; i++)
        if (q->held[i].mapped)
            (void)xf_sim_unmap_grant(be->sim, 0, q->held[i].handle);
    q->nheld = 0;
    if (q->tx_mapped)
        (void)xf_sim_unmap_grant(be->sim, 0, q->tx_h);
    if (q->rx_mapped)
        (void)xf_sim_unmap_grant(be->sim, 0, q->rx_h);
    q->tx_mapped = q->rx_mapped = false;
    q->tx_va = q->rx_va = NULL;
    if (q->port_tx != 0)
        (void)xf_sim_evtchn_close(be->sim, 0, q->port_tx);
    if (q->port_rx != 0 && q->port_rx != q->port_tx)
        (void)xf_sim_evtchn_close(be->sim, 0, q->port_rx);
    q->port_tx = q->port_rx = 0;
    for (unsigned i = 0; i < q->rx_count; i++)
        free(q->rxq[(q->rx_head + i) % RXQ_MAX].data);
    q->rx_head = q->rx_count = 0;
}

static void disconnect_locked(struct xf_netback *be)
{
    if (!be->cfg.keep_stray) {
        for (unsigned i = 0; i < be->nstray; i++)
            (void)xf_sim_unmap_grant(be->sim, 0, be->stray[i]);
        be->nstray = 0;
    }
    for (unsigned i = 0; i < XF_NETBACK_MAX_QUEUES; i++)
        unmap_queue(be, &be->q[i]);
    be->connected = false;
    /* xenvif_disconnect_data() -> xenvif_mcast_addr_list_free(). */
    be->nmcast = 0;
    be->mcast_ctrl = false;
}

static int connect_queue(struct xf_netback *be, unsigned i, const char *dir)
{
    struct nbq *q = &be->q[i];
    long txref = xs_uint(be, dir, "tx-ring-ref"), rxref = xs_uint(be, dir, "rx-ring-ref");
    long etx = xs_uint(be, dir, "event-channel-tx"), erx = xs_uint(be, dir, "event-channel-rx");
    long ech = xs_uint(be, dir, "event-channel");
    int16_t st;
    int p;

    memset(&q->st, 0, sizeof(q->st));
    if (txref < 0 || rxref < 0) {
        go_fatal(be, "reading %s/ring-ref", dir);
        return -1;
    }
    q->tx_va = xf_sim_map_grant(be->sim, 0, be->guest, (grant_ref_t)txref, false, &q->tx_h, &st);
    if (q->tx_va == NULL) {
        go_fatal(be, "mapping tx ring %ld: %d", txref, st);
        return -1;
    }
    q->tx_mapped = true;
    q->rx_va = xf_sim_map_grant(be->sim, 0, be->guest, (grant_ref_t)rxref, false, &q->rx_h, &st);
    if (q->rx_va == NULL) {
        go_fatal(be, "mapping rx ring %ld: %d", rxref, st);
        return -1;
    }
    q->rx_mapped = true;
    if (xf_back_ring_attach(&q->tx, q->tx_va, NB_PAGE, XF_RING_SHAPE(netif_tx),
                            ((struct netif_tx_sring *)q->tx_va)->rsp_prod) < 0 ||
        xf_back_ring_attach(&q->rx, q->rx_va, NB_PAGE, XF_RING_SHAPE(netif_rx),
                            ((struct netif_rx_sring *)q->rx_va)->rsp_prod) < 0) {
        go_fatal(be, "attaching rings");
        return -1;
    }
    if (!be->cfg.no_split && etx >= 0 && erx >= 0) {
        p = xf_sim_evtchn_bind_interdomain(be->sim, 0, be->guest, (evtchn_port_t)etx);
        if (p <= 0) {
            go_fatal(be, "binding event-channel-tx %ld", etx);
            return -1;
        }
        q->port_tx = (evtchn_port_t)p;
        p = xf_sim_evtchn_bind_interdomain(be->sim, 0, be->guest, (evtchn_port_t)erx);
        if (p <= 0) {
            go_fatal(be, "binding event-channel-rx %ld", erx);
            return -1;
        }
        q->port_rx = (evtchn_port_t)p;
        be->split = true;
    } else {
        if (ech < 0) {
            go_fatal(be, "reading %s/event-channel", dir);
            return -1;
        }
        p = xf_sim_evtchn_bind_interdomain(be->sim, 0, be->guest, (evtchn_port_t)ech);
        if (p <= 0) {
            go_fatal(be, "binding event-channel %ld", ech);
            return -1;
        }
        q->port_tx = q->port_rx = (evtchn_port_t)p;
    }
    /* Xen raises a newly bound interdomain port once: not a real event. */
    (void)xf_sim_evtchn_test_and_clear(be->sim, 0, q->port_tx);
    (void)xf_sim_evtchn_test_and_clear(be->sim, 0, q->port_rx);
    return 0;
}

static void connect_locked(struct xf_netback *be)
{
    long nq;
    unsigned max = be->cfg.max_queues ? be->cfg.max_queues : 1;

    for (unsigned k = 0; k < NR_FE_KEYS; k++)
        be->fe_keys[k] = xs_uint(be, be->fe, fe_key_names[k]);
    be->split = false;
    /* read_xenbus_vif_flags(): !!xenbus_read_unsigned(..., 0), so absent or
     * garbage is off and any other number on. */
    be->mcast_ctrl = !be->cfg.no_mcast && be->fe_keys[8] > 0;
    nq = be->fe_keys[7];
    if (nq < 0) {
        nq = 1;
    } else if (nq == 0 || nq > (long)max || nq > XF_NETBACK_MAX_QUEUES) {
        go_fatal(be, "guest requested %ld queues, exceeding the maximum of %u.", nq, max);
        goto fail;
    }
    be->nq = (unsigned)nq;
    if (be->nq == 1) {
        /* One queue: the keys sit in the front end's directory. */
        if (connect_queue(be, 0, be->fe) < 0)
            goto fail;
    } else {
        for (unsigned i = 0; i < be->nq; i++) {
            char dir[160];

            snprintf(dir, sizeof(dir), "%s/queue-%u", be->fe, i);
            if (connect_queue(be, i, dir) < 0)
                goto fail;
        }
    }
    be->connected = true;
    set_state_locked(be, XenbusStateConnected);
    return;
fail:
    disconnect_locked(be);
    xs_write(be, be->be, "error", be->fatal);
    set_state_locked(be, XenbusStateClosing);
}

/* ------------------------------------------------------------------------
 * Transmit.
 */
static void notify(struct xf_netback *be, struct nbq *q, bool rx)
{
    if (be->silent)
        return;
    (void)xf_sim_evtchn_send(be->sim, 0, rx ? q->port_rx : q->port_tx);
    if (rx)
        q->st.notify_rx++;
    else
        q->st.notify_tx++;
}

static void tx_respond(struct xf_netback *be, struct nbq *q, unsigned qi, uint16_t id,
                       int16_t status, unsigned nextra, unsigned slot)
{
    netif_tx_response_t rsp = { .id = id, .status = status };

    if (be->tx_hook == NULL || be->tx_hook(be->hook_arg, qi, slot, &rsp)) {
        if (xf_back_ring_owed(&q->tx) == 0)
            return;
        *XF_BACK_RING_RSP(&q->tx, netif_tx, 0) = rsp;
        xf_back_ring_produce(&q->tx, 1);
        q->st.tx_responses++;
    }
    for (unsigned e = 0; e < nextra; e++) {
        /* As netback: status NULL, the id left as the slot holds it. */
        if (xf_back_ring_owed(&q->tx) == 0)
            return;
        XF_BACK_RING_RSP(&q->tx, netif_tx, 0)->status = NETIF_RSP_NULL;
        xf_back_ring_produce(&q->tx, 1);
        q->st.tx_responses++;
    }
}

static void keep_packet(struct xf_netback *be, struct xf_netback_pkt *p)
{
    if (be->cfg.no_keep || be->keep_count >= be->keep_max) {
        free(p->data);
        return;
    }
    be->keep[(be->keep_head + be->keep_count) % be->keep_max] = *p;
    be->keep_count++;
}

static int16_t copy_from_guest(struct xf_netback *be, struct nbq *q, grant_ref_t ref,
                               uint16_t off, uint16_t len, unsigned char *dst)
{
    gnttab_copy_t op;

    memset(&op, 0, sizeof(op));
    op.source.u.ref = ref;
    op.source.domid = be->guest;
    op.source.offset = off;
    op.dest.u.gmfn = be->bounce_gfn;
    op.dest.domid = DOMID_SELF;
    op.dest.offset = 0;
    op.len = len;
    op.flags = GNTCOPY_source_gref;
    (void)xf_sim_grant_table_op(be->sim, 0, GNTTABOP_copy, &op, 1);
    q->st.tx_copy_ops++;
    if (op.status == GNTST_okay)
        memcpy(dst, be->bounce, len);
    return op.status;
}

/* Map a slot, copy its bytes [skip, size) out; the mapping is held. */
static bool map_slot(struct xf_netback *be, struct nbq *q, const netif_tx_request_t *r,
                     unsigned skip, unsigned len, unsigned char *dst, struct held *h)
{
    int16_t st;
    unsigned char *va = xf_sim_map_grant(be->sim, 0, be->guest, r->gref, true, &h->handle, &st);

    q->st.tx_map_ops++;
    if (va == NULL)
        return false;
    h->mapped = true;
    memcpy(dst, va + r->offset + skip, len - skip);
    return true;
}

/* One packet from reqs[i..n): returns the index after it, or -1 (fatal). */
static int tx_packet(struct xf_netback *be, struct nbq *q, unsigned qi, unsigned i, unsigned n)
{
    netif_tx_request_t first = q->reqs[i];
    netif_extra_info_t extras[XEN_NETIF_EXTRA_TYPE_MAX];
    unsigned j = i + 1, k, slots = 0, nextra = 0;
    bool drop = false, more;
    uint32_t remaining = first.size, first_len;
    struct xf_netback_pkt pkt;
    struct held hs[XF_NETBACK_FATAL_SLOTS + 2];
    unsigned nh = 0;
    bool ok = true;

    memset(extras, 0, sizeof(extras));
    if (first.flags & NETTXF_extra_info) {
        for (;;) {
            netif_extra_info_t ex;

            if (j >= n) {
                go_fatal(be, "Missing extra info");
                return -1;
            }
            memcpy(&ex, &q->reqs[j], sizeof(ex));
            j++;
            nextra++;
            if (ex.type == XEN_NETIF_EXTRA_TYPE_NONE || ex.type >= XEN_NETIF_EXTRA_TYPE_MAX) {
                go_fatal(be, "Invalid extra type: %d", ex.type);
                return -1;
            }
            extras[ex.type - 1] = ex;
            if (!(ex.flags & XEN_NETIF_EXTRA_FLAG_MORE))
                break;
        }
    }
    /* xenvif_tx_build_gops(): a request carrying an MCAST extra is a
     * control request: answered at once (OKAY, or ERROR when the filter
     * holds XEN_NETBK_MCAST_MAX entries: -ENOSPC in xenvif_mcast_add),
     * its data fields never looked at, no further slots consumed. */
    if (extras[XEN_NETIF_EXTRA_TYPE_MCAST_ADD - 1].type) {
        int16_t stt = NETIF_RSP_OKAY;

        if (be->nmcast >= XF_NETBACK_MCAST_MAX) {
            stt = NETIF_RSP_ERROR;
            q->st.mcast_refused++;
        } else {
            memcpy(be->mcast[be->nmcast++], extras[XEN_NETIF_EXTRA_TYPE_MCAST_ADD - 1].u.mcast.addr, 6);
        }
        q->st.mcast_add++;
        tx_respond(be, q, qi, first.id, stt, nextra, 0);
        return (int)j;
    }
    if (extras[XEN_NETIF_EXTRA_TYPE_MCAST_DEL - 1].type) {
        const uint8_t *a = extras[XEN_NETIF_EXTRA_TYPE_MCAST_DEL - 1].u.mcast.addr;

        for (unsigned m = 0; m < be->nmcast; m++)
            if (memcmp(be->mcast[m], a, 6) == 0) {
                memmove(be->mcast[m], be->mcast[m + 1], (be->nmcast - m - 1) * 6u);
                be->nmcast--;
                break;
            }
        q->st.mcast_del++;
        tx_respond(be, q, qi, first.id, NETIF_RSP_OKAY, nextra, 0);
        return (int)j;
    }
    /* xenvif_count_requests() */
    k = j;
    more = first.flags & NETTXF_more_data;
    while (more) {
        netif_tx_request_t t;

        if (k >= n) {
            go_fatal(be, "Asked for %u slots but exceeds this limit", slots + 1);
            return -1;
        }
        if (slots >= XF_NETBACK_FATAL_SLOTS) {
            go_fatal(be, "Malicious frontend using %u slots, threshold %u", slots + 1,
                     XF_NETBACK_FATAL_SLOTS);
            return -1;
        }
        if (slots >= XF_NETBACK_DROP_SLOTS)
            drop = true;
        t = q->reqs[k];
        if (!drop && t.size > remaining)
            drop = true;
        if (!drop)
            remaining -= t.size;
        if ((unsigned)t.offset + t.size > NB_PAGE) {
            go_fatal(be, "Cross page boundary, txp->offset: %u, size: %u", t.offset, t.size);
            return -1;
        }
        more = t.flags & NETTXF_more_data;
        k++;
        slots++;
    }
    first_len = remaining;
    if (!drop && (unsigned)first.offset + first_len > NB_PAGE) {
        go_fatal(be, "First slot crosses page boundary");
        return -1;
    }
    if (!drop && first_len < 14)
        drop = true;
    if (extras[XEN_NETIF_EXTRA_TYPE_GSO - 1].type) {
        const netif_extra_info_t *g = &extras[XEN_NETIF_EXTRA_TYPE_GSO - 1];

        if (g->u.gso.size == 0) {
            go_fatal(be, "GSO size must not be zero.");
            return -1;
        }
        if (g->u.gso.type != XEN_NETIF_GSO_TYPE_TCPV4 && g->u.gso.type != XEN_NETIF_GSO_TYPE_TCPV6) {
            go_fatal(be, "Bad GSO type %d.", g->u.gso.type);
            return -1;
        }
    }
    if (drop) {
        tx_respond(be, q, qi, first.id, NETIF_RSP_ERROR, nextra, 0);
        for (unsigned s = j; s < k; s++)
            tx_respond(be, q, qi, q->reqs[s].id, NETIF_RSP_ERROR, 0, 1 + s - j);
        q->st.tx_dropped++;
        return (int)k;
    }
    if (be->cfg.tx_discard) {
        tx_respond(be, q, qi, first.id, NETIF_RSP_OKAY, nextra, 0);
        for (unsigned s = j; s < k; s++)
            tx_respond(be, q, qi, q->reqs[s].id, NETIF_RSP_OKAY, 0, 1 + s - j);
        q->st.tx_packets++;
        q->st.tx_bytes += first.size;
        return (int)k;
    }
    /* Data: the head copied, the rest mapped. */
    memset(&pkt, 0, sizeof(pkt));
    pkt.queue = qi;
    pkt.len = first.size;
    pkt.flags = first.flags & (NETTXF_csum_blank | NETTXF_data_validated);
    pkt.gso_type = extras[XEN_NETIF_EXTRA_TYPE_GSO - 1].type ? extras[XEN_NETIF_EXTRA_TYPE_GSO - 1].u.gso.type : 0;
    pkt.gso_size = extras[XEN_NETIF_EXTRA_TYPE_GSO - 1].type ? extras[XEN_NETIF_EXTRA_TYPE_GSO - 1].u.gso.size : 0;
    pkt.slots = 1 + slots;
    pkt.data = malloc(first.size ? first.size : 1);
    if (pkt.data == NULL)
        return -1;
    {
        unsigned c = be->cfg.copy_only ? first_len
                     : first_len < XF_NETBACK_COPY_LEN ? first_len : XF_NETBACK_COPY_LEN;
        struct held *h = &hs[nh++];

        memset(h, 0, sizeof(*h));
        h->id = first.id;
        h->nextra = (uint16_t)nextra;
        if (copy_from_guest(be, q, first.gref, first.offset, (uint16_t)c, pkt.data) != GNTST_okay)
            ok = false;
        if (ok && first_len > c && !map_slot(be, q, &first, c, first_len, pkt.data + c, h))
            ok = false;
    }
    {
        uint32_t pos = first_len;

        for (unsigned s = j; s < k; s++) {
            struct held *h = &hs[nh++];

            memset(h, 0, sizeof(*h));
            h->id = q->reqs[s].id;
            if (ok && q->reqs[s].size > 0 && be->cfg.copy_only) {
                if (copy_from_guest(be, q, q->reqs[s].gref, q->reqs[s].offset, q->reqs[s].size,
                                    pkt.data + pos) != GNTST_okay)
                    ok = false;
            } else if (ok && q->reqs[s].size > 0 &&
                       !map_slot(be, q, &q->reqs[s], 0, q->reqs[s].size, pkt.data + pos, h)) {
                ok = false;
            }
            pos += q->reqs[s].size;
        }
    }
    for (unsigned s = 0; s < nh; s++) {
        struct held *h = &hs[s];

        if (!ok) {
            if (h->mapped)
                (void)xf_sim_unmap_grant(be->sim, 0, h->handle);
            tx_respond(be, q, qi, h->id, NETIF_RSP_ERROR, h->nextra, s);
        } else if (h->mapped && be->cfg.hold_mapped && q->nheld < RING_ENTS) {
            q->held[q->nheld++] = *h;      /* answered when "dom0 frees the skb" */
            q->st.tx_held++;
        } else {
            if (h->mapped)
                (void)xf_sim_unmap_grant(be->sim, 0, h->handle);
            tx_respond(be, q, qi, h->id, NETIF_RSP_OKAY, h->nextra, s);
        }
    }
    if (!ok) {
        free(pkt.data);
        q->st.tx_dropped++;
        return (int)k;
    }
    q->st.tx_packets++;
    q->st.tx_bytes += pkt.len;
    keep_packet(be, &pkt);
    return (int)k;
}

static int tx_process_locked(struct xf_netback *be, unsigned qi)
{
    struct nbq *q;
    int packets = 0;

    if (!be->connected || be->fatal[0] != '\0' || qi >= be->nq)
        return -1;
    q = &be->q[qi];
    if (xf_sim_evtchn_test_and_clear(be->sim, 0, q->port_tx))
        q->st.events_tx++;
    if (be->stall)
        return 0;
    for (unsigned round = 0; round < 8; round++) {
        int n = XF_BACK_RING_GET_REQUESTS(&q->tx, netif_tx, q->reqs,
                                          be->cfg.tx_batch ? be->cfg.tx_batch : RING_ENTS);
        unsigned i = 0;

        if (n < 0) {
            go_fatal(be, "Impossible number of requests");
            return -1;
        }
        while (i < (unsigned)n) {
            int next = tx_packet(be, q, qi, i, (unsigned)n);

            if (next < 0)
                return -1;
            i = (unsigned)next;
            packets++;
        }
        if (xf_back_ring_push(&q->tx))
            notify(be, q, false);
        n = xf_back_ring_final_check(&q->tx);
        if (n < 0) {
            go_fatal(be, "Impossible number of requests");
            return -1;
        }
        if (n == 0 || be->cfg.tx_batch)
            break;
    }
    return packets;
}

/* ------------------------------------------------------------------------
 * Receive.
 */
static int16_t copy_to_guest(struct xf_netback *be, struct nbq *q, grant_ref_t ref, uint16_t off,
                             const unsigned char *src, uint16_t len)
{
    gnttab_copy_t op;

    memcpy(be->bounce, src, len);
    memset(&op, 0, sizeof(op));
    op.source.u.gmfn = be->bounce_gfn;
    op.source.domid = DOMID_SELF;
    op.dest.u.ref = ref;
    op.dest.domid = be->guest;
    op.dest.offset = off;
    op.len = len;
    op.flags = GNTCOPY_dest_gref;
    (void)xf_sim_grant_table_op(be->sim, 0, GNTTABOP_copy, &op, 1);
    if (op.status != GNTST_okay)
        q->st.rx_copy_errors++;
    return op.status;
}

/*
 * Enough rx requests for a packet of need slots? If not, ask to be kicked
 * at the guest's next push (req_event = req_prod + 1, as netback's
 * xenvif_rx_ring_slots_available()) and look once more. 1, 0, or -1 (the
 * ring is broken).
 */
static int rx_slots(struct nbq *q, unsigned need)
{
    for (;;) {
        RING_IDX prod;

        if (xf_back_ring_poll(&q->rx) < 0)
            return -1;
        if ((unsigned)(q->rx.req_avail - q->rx.req_cons) >= need)
            return 1;
        prod = q->rx.req_avail;
        XF_WRITE_ONCE(q->rx.sring->req_event, prod + 1);
        XF_MB();
        if (XF_READ_ONCE(q->rx.sring->req_prod) == prod)
            return 0;
    }
}

static void rx_put(struct xf_netback *be, struct nbq *q, unsigned qi, unsigned slot,
                   netif_rx_response_t *rsp)
{
    if (be->rx_hook != NULL && !be->rx_hook(be->hook_arg, qi, slot, rsp))
        return;
    *XF_BACK_RING_RSP(&q->rx, netif_rx, 0) = *rsp;
    xf_back_ring_produce(&q->rx, 1);
}

static int rx_process_locked(struct xf_netback *be, unsigned qi)
{
    struct nbq *q;
    int packets = 0;

    if (!be->connected || be->fatal[0] != '\0' || qi >= be->nq)
        return -1;
    q = &be->q[qi];
    if (q->port_rx != q->port_tx && xf_sim_evtchn_test_and_clear(be->sim, 0, q->port_rx))
        q->st.events_rx++;
    while ((q->rx_count > 0 || q->src_left > 0) && packets < 64) {
        bool from_src = q->rx_count == 0;
        struct rxp *p = from_src ? &q->src : &q->rxq[q->rx_head];
        unsigned ndata = p->len == 0 ? 1 : (p->len + NB_PAGE - 1) / NB_PAGE;
        unsigned need = ndata + (p->gso_type ? 1u : 0u);
        unsigned off = ndata == 1 ? be->cfg.rx_offset : 0;
        int avail = rx_slots(q, need);
        uint32_t pos = 0;

        if (off + p->len > NB_PAGE && ndata == 1)
            off = 0;
        if (avail < 0) {
            go_fatal(be, "rx ring: impossible number of requests");
            return -1;
        }
        if (avail == 0) {
            q->st.rx_stalls++;
            break;
        }
        for (unsigned s = 0; s < need; s++) {
            netif_rx_request_t req;
            netif_rx_response_t rsp;

            if (XF_BACK_RING_GET_REQUESTS(&q->rx, netif_rx, &req, 1) != 1)
                return -1;
            memset(&rsp, 0, sizeof(rsp));
            if (s == 1 && p->gso_type) {
                netif_extra_info_t ex;

                memset(&ex, 0, sizeof(ex));
                ex.type = XEN_NETIF_EXTRA_TYPE_GSO;
                ex.u.gso.size = p->gso_size;
                ex.u.gso.type = p->gso_type;
                memcpy(&rsp, &ex, sizeof(rsp));
                rx_put(be, q, qi, s, &rsp);
                continue;
            }
            {
                uint32_t chunk = p->len - pos;
                int16_t stt;

                if (chunk > NB_PAGE - off)
                    chunk = NB_PAGE - off;
                stt = chunk ? copy_to_guest(be, q, req.gref, (uint16_t)off, p->data + pos,
                                            (uint16_t)chunk) : 0;
                rsp.id = req.id;
                rsp.offset = (uint16_t)off;
                rsp.status = stt != GNTST_okay ? stt : (int16_t)chunk;
                if (s == 0)
                    rsp.flags = p->flags & (NETRXF_csum_blank | NETRXF_data_validated);
                if (s == 0 && p->gso_type)
                    rsp.flags |= NETRXF_extra_info;
                if (pos + chunk < p->len)
                    rsp.flags |= NETRXF_more_data;
                pos += chunk;
                off = 0;
                rx_put(be, q, qi, s, &rsp);
            }
        }
        q->st.rx_packets++;
        q->st.rx_bytes += p->len;
        packets++;
        if (from_src) {
            q->src_left--;
            continue;
        }
        free(p->data);
        q->rx_head = (q->rx_head + 1) % RXQ_MAX;
        q->rx_count--;
    }
    if (xf_back_ring_push(&q->rx))
        notify(be, q, true);
    return packets;
}

/* ------------------------------------------------------------------------
 * The control thread.
 */
static void control_step(struct xf_netback *be)
{
    int fst = (int)xs_uint(be, be->fe, "state");
    int mine = own_state(be);

    be->fe_state = fst;
    /* feature-dynamic-multicast-control: Linux watches the front end's
     * request-multicast-control and re-samples it (xen_mcast_ctrl_changed);
     * the simulation polls it here. A static back end keeps its sample. */
    if (be->connected && !be->cfg.no_mcast && !be->cfg.static_mcast &&
        xf_plat_now_ns() - be->mcast_sampled > 1000000ull) {
        /* (at most once a millisecond: the data loop comes here per batch) */
        be->mcast_sampled = xf_plat_now_ns();
        be->mcast_ctrl = xs_uint(be, be->fe, "request-multicast-control") > 0;
    }
    if (fst == XenbusStateConnected && !be->connected && be->fatal[0] == '\0' &&
        (mine == XenbusStateInitWait || mine == XenbusStateConnected))
        connect_locked(be);
    else if (fst == XenbusStateClosing && mine != XenbusStateClosing && mine != XenbusStateClosed) {
        disconnect_locked(be);
        set_state_locked(be, XenbusStateClosing);
    } else if (fst == XenbusStateClosed && mine != XenbusStateClosed) {
        disconnect_locked(be);
        set_state_locked(be, XenbusStateClosed);
    } else if (fst == XenbusStateInitialising && mine == XenbusStateClosed) {
        /* Prepare for reconnect. (Linux keeps a fatal vif disabled until
         * the toolstack recreates it; the sim clears it for reuse.) */
        be->fatal[0] = '\0';
        set_state_locked(be, XenbusStateInitWait);
    }
}

static void *control_main(void *arg)
{
    struct xf_netback *be = arg;

    while (!be->stop) {
        evtchn_port_t ports[2 * XF_NETBACK_MAX_QUEUES];
        unsigned np = 0;
        bool busy = false;

        pthread_mutex_lock(&be->lock);
        control_step(be);

        if (be->cfg.auto_data && be->connected) {
            for (unsigned i = 0; i < be->nq; i++) {
                (void)tx_process_locked(be, i);
                /* A full batch: more may be waiting, serve again at once. */
                if (rx_process_locked(be, i) >= 64)
                    busy = true;
                ports[np++] = be->q[i].port_tx;
                if (be->q[i].port_rx != be->q[i].port_tx)
                    ports[np++] = be->q[i].port_rx;
            }
        }
        pthread_mutex_unlock(&be->lock);
        if (busy)
            continue;
        if (np > 0) {
            int p = xf_sim_evtchn_wait_any(be->sim, 0, ports, np, &be->stop,
                                           xf_plat_now_ns() + 2000000ull);

            if (p > 0) {
                /* Waking cleared the bit: count it, and serve. */
                pthread_mutex_lock(&be->lock);
                for (unsigned i = 0; i < be->nq && be->connected; i++) {
                    if ((evtchn_port_t)p == be->q[i].port_tx)
                        be->q[i].st.events_tx++;
                    else if ((evtchn_port_t)p == be->q[i].port_rx)
                        be->q[i].st.events_rx++;
                }
                pthread_mutex_unlock(&be->lock);
            }
        } else {
            usleep(300);
        }
    }
    return NULL;
}

/* ------------------------------------------------------------------------
 * Public functions.
 */
struct xf_netback *xf_netback_create(struct xf_sim *sim, struct xf_xsd *xsd, domid_t guest,
                                     const struct xf_netback_config *cfg)
{
    struct xf_netback *be = calloc(1, sizeof(*be));
    char v[64], owner[16], reader[16];
    const char *fe_perms[2], *be_perms[2];
    const char *fe_nodes[] = { "", "/backend", "/backend-id", "/state", "/mac", "/handle" };
    const char *be_nodes[] = { "", "/frontend", "/frontend-id", "/state", "/mac", "/handle" };
    const char *id;

    if (be == NULL)
        return NULL;
    be->sim = sim;
    be->xsd = xsd;
    be->guest = guest;
    if (cfg != NULL)
        be->cfg = *cfg;
    id = be->cfg.id ? be->cfg.id : "0";
    be->keep_max = be->cfg.keep_max ? be->cfg.keep_max : 4096;
    be->keep = calloc(be->keep_max, sizeof(*be->keep));
    pthread_mutex_init(&be->lock, NULL);
    snprintf(be->fe, sizeof(be->fe), "/local/domain/%u/device/vif/%s", (unsigned)guest, id);
    snprintf(be->be, sizeof(be->be), "/local/domain/0/backend/vif/%u/%s", (unsigned)guest, id);

    /* dom0's bounce pages for grant copies. */
    xf_sim_set_current(sim, 0);
    be->bounce = xf_plat_page_alloc(RX_BOUNCE_PAGES);
    be->bounce_gfn = be->bounce ? xf_plat_virt_to_gfn(be->bounce) : 0;
    xf_sim_set_current(NULL, 0);
    if (be->bounce == NULL || be->keep == NULL) {
        free(be->keep);
        free(be);
        return NULL;
    }

    /* The toolstack's part (libxl_nic.c): both directories. */
    xs_write(be, be->fe, "backend", be->be);
    xs_write(be, be->fe, "backend-id", "0");
    xs_write(be, be->fe, "handle", id);
    xs_write(be, be->fe, "state", "1");
    if (be->cfg.mac == NULL || be->cfg.mac[0] != '\0') {
        xs_write(be, be->fe, "mac", be->cfg.mac ? be->cfg.mac : "00:16:3e:00:00:01");
        xs_write(be, be->be, "mac", be->cfg.mac ? be->cfg.mac : "00:16:3e:00:00:01");
    }
    xs_write(be, be->be, "frontend", be->fe);
    snprintf(v, sizeof(v), "%u", (unsigned)guest);
    xs_write(be, be->be, "frontend-id", v);
    xs_write(be, be->be, "handle", id);
    snprintf(owner, sizeof(owner), "n%u", (unsigned)guest);
    snprintf(reader, sizeof(reader), "r%u", (unsigned)guest);
    fe_perms[0] = owner;
    fe_perms[1] = "r0";
    be_perms[0] = "n0";
    be_perms[1] = reader;
    /* netback_probe(): features before InitWait. */
    xs_write(be, be->be, "feature-sg", be->cfg.no_sg ? "0" : "1");
    xs_write(be, be->be, "feature-gso-tcpv4", be->cfg.no_gso_tcpv4 ? "0" : "1");
    xs_write(be, be->be, "feature-gso-tcpv6", be->cfg.no_gso_tcpv6 ? "0" : "1");
    xs_write(be, be->be, "feature-ipv6-csum-offload", be->cfg.no_ipv6_csum ? "0" : "1");
    if (!be->cfg.no_rx_copy)
        xs_write(be, be->be, "feature-rx-copy", "1");
    xs_write(be, be->be, "feature-rx-flip", "0");
    if (!be->cfg.no_mcast) {
        xs_write(be, be->be, "feature-multicast-control", "1");
        if (!be->cfg.static_mcast)
            xs_write(be, be->be, "feature-dynamic-multicast-control", "1");
    }
    if (be->cfg.rx_notify_key)
        xs_write(be, be->be, "feature-rx-notify", "1");
    xs_write(be, be->be, "feature-split-event-channels", be->cfg.no_split ? "0" : "1");
    if (!be->cfg.no_max_queues_key) {
        snprintf(v, sizeof(v), "%u", be->cfg.max_queues ? be->cfg.max_queues : 1);
        xs_write(be, be->be, "multi-queue-max-queues", v);
    }
    set_state_locked(be, XenbusStateInitWait);
    for (unsigned i = 0; i < sizeof(fe_nodes) / sizeof(fe_nodes[0]); i++) {
        char path[256];

        snprintf(path, sizeof(path), "%s%s", be->fe, fe_nodes[i]);
        (void)xf_xsd_set_perms(xsd, path, fe_perms, 2);
        snprintf(path, sizeof(path), "%s%s", be->be, be_nodes[i]);
        (void)xf_xsd_set_perms(xsd, path, be_perms, 2);
    }
    /* The whole backend directory readable by the guest. */
    {
        char path[256];
        const char *keys[] = { "feature-sg", "feature-gso-tcpv4", "feature-gso-tcpv6",
                               "feature-ipv6-csum-offload", "feature-rx-copy", "feature-rx-flip",
                               "feature-multicast-control", "feature-dynamic-multicast-control",
                               "feature-rx-notify", "feature-split-event-channels",
                               "multi-queue-max-queues" };

        for (unsigned i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
            snprintf(path, sizeof(path), "%s/%s", be->be, keys[i]);
            if (xf_xsd_exists(xsd, path))
                (void)xf_xsd_set_perms(xsd, path, be_perms, 2);
        }
    }
    if (pthread_create(&be->thread, NULL, control_main, be) != 0) {
        free(be->keep);
        free(be);
        return NULL;
    }
    return be;
}

void xf_netback_destroy(struct xf_netback *be)
{
    if (be == NULL)
        return;
    be->stop = 1;
    xf_sim_kick(be->sim);
    pthread_join(be->thread, NULL);
    pthread_mutex_lock(&be->lock);
    disconnect_locked(be);
    pthread_mutex_unlock(&be->lock);
    for (unsigned i = 0; i < be->keep_count; i++)
        free(be->keep[(be->keep_head + i) % be->keep_max].data);
    for (unsigned i = 0; i < XF_NETBACK_MAX_QUEUES; i++)
        free(be->q[i].src.data);
    free(be->keep);
    xf_sim_set_current(be->sim, 0);
    xf_plat_page_free(be->bounce, RX_BOUNCE_PAGES);
    xf_sim_set_current(NULL, 0);
    pthread_mutex_destroy(&be->lock);
    free(be);
}

const char *xf_netback_backend_dir(const struct xf_netback *be)
{
    return be->be;
}

const char *xf_netback_frontend_dir(const struct xf_netback *be)
{
    return be->fe;
}

int xf_netback_state(struct xf_netback *be)
{
    int st;

    pthread_mutex_lock(&be->lock);
    st = own_state(be);
    pthread_mutex_unlock(&be->lock);
    return st;
}

int xf_netback_frontend_state(struct xf_netback *be)
{
    int st;

    pthread_mutex_lock(&be->lock);
    st = (int)xs_uint(be, be->fe, "state");
    pthread_mutex_unlock(&be->lock);
    return st;
}

void xf_netback_set_state(struct xf_netback *be, int state)
{
    pthread_mutex_lock(&be->lock);
    set_state_locked(be, state);
    pthread_mutex_unlock(&be->lock);
}

void xf_netback_disconnect(struct xf_netback *be, int state)
{
    pthread_mutex_lock(&be->lock);
    disconnect_locked(be);
    set_state_locked(be, state);
    pthread_mutex_unlock(&be->lock);
}

bool xf_netback_connected(struct xf_netback *be)
{
    bool c;

    pthread_mutex_lock(&be->lock);
    c = be->connected;
    pthread_mutex_unlock(&be->lock);
    return c;
}

bool xf_netback_wait_connected(struct xf_netback *be, bool connected, uint64_t deadline_ns)
{
    while (xf_netback_connected(be) != connected) {
        if (xf_plat_now_ns() >= deadline_ns)
            return false;
        usleep(200);
    }
    return true;
}

unsigned xf_netback_nr_queues(struct xf_netback *be)
{
    return be->nq;
}

bool xf_netback_split(struct xf_netback *be)
{
    return be->split;
}

long xf_netback_fe_key(struct xf_netback *be, const char *key)
{
    for (unsigned k = 0; k < NR_FE_KEYS; k++)
        if (strcmp(fe_key_names[k], key) == 0)
            return be->fe_keys[k];
    return -1;
}

const char *xf_netback_fatal(struct xf_netback *be)
{
    return be->fatal;
}

int xf_netback_tx_process(struct xf_netback *be, unsigned queue)
{
    int n;

    pthread_mutex_lock(&be->lock);
    n = tx_process_locked(be, queue);
    pthread_mutex_unlock(&be->lock);
    return n;
}

int xf_netback_rx_process(struct xf_netback *be, unsigned queue)
{
    int n;

    pthread_mutex_lock(&be->lock);
    n = rx_process_locked(be, queue);
    pthread_mutex_unlock(&be->lock);
    return n;
}

static int release_locked(struct xf_netback *be, unsigned queue, unsigned n, bool reverse)
{
    struct nbq *q;
    unsigned done = 0;

    if (!be->connected || queue >= be->nq)
        return 0;
    q = &be->q[queue];
    while (done < n && q->nheld > 0) {
        struct held h;

        if (reverse) {
            h = q->held[--q->nheld];
        } else {
            h = q->held[0];
            memmove(&q->held[0], &q->held[1], (q->nheld - 1) * sizeof(h));
            q->nheld--;
        }
        if (h.mapped)
            (void)xf_sim_unmap_grant(be->sim, 0, h.handle);
        tx_respond(be, q, queue, h.id, NETIF_RSP_OKAY, h.nextra, 0);
        done++;
    }
    if (xf_back_ring_push(&q->tx))
        notify(be, q, false);
    return (int)done;
}

int xf_netback_tx_release(struct xf_netback *be, unsigned queue, unsigned n, bool reverse)
{
    int r;

    pthread_mutex_lock(&be->lock);
    r = release_locked(be, queue, n, reverse);
    pthread_mutex_unlock(&be->lock);
    return r;
}

int xf_netback_tx_answer_mapped(struct xf_netback *be, unsigned queue, unsigned n)
{
    struct nbq *q;
    unsigned done = 0;

    pthread_mutex_lock(&be->lock);
    if (be->connected && queue < be->nq) {
        q = &be->q[queue];
        while (done < n && q->nheld > 0) {
            struct held h = q->held[0];

            memmove(&q->held[0], &q->held[1], (q->nheld - 1) * sizeof(h));
            q->nheld--;
            tx_respond(be, q, queue, h.id, NETIF_RSP_OKAY, h.nextra, 0);
            if (h.mapped && be->nstray < 64)
                be->stray[be->nstray++] = h.handle;   /* xf_netback_tx_unmap_answered() */
            done++;
        }
        if (xf_back_ring_push(&q->tx))
            notify(be, q, false);
    }
    pthread_mutex_unlock(&be->lock);
    return (int)done;
}

unsigned xf_netback_tx_held(struct xf_netback *be, unsigned queue)
{
    unsigned n;

    pthread_mutex_lock(&be->lock);
    n = queue < XF_NETBACK_MAX_QUEUES ? be->q[queue].nheld : 0;
    pthread_mutex_unlock(&be->lock);
    return n;
}

void xf_netback_tx_unmap_answered(struct xf_netback *be)
{
    pthread_mutex_lock(&be->lock);
    for (unsigned i = 0; i < be->nstray; i++)
        (void)xf_sim_unmap_grant(be->sim, 0, be->stray[i]);
    be->nstray = 0;
    pthread_mutex_unlock(&be->lock);
}

bool xf_netback_tx_take(struct xf_netback *be, struct xf_netback_pkt *pkt)
{
    bool got = false;

    pthread_mutex_lock(&be->lock);
    if (be->keep_count > 0) {
        *pkt = be->keep[be->keep_head];
        be->keep_head = (be->keep_head + 1) % be->keep_max;
        be->keep_count--;
        got = true;
    }
    pthread_mutex_unlock(&be->lock);
    return got;
}

void xf_netback_pkt_free(struct xf_netback_pkt *pkt)
{
    free(pkt->data);
    pkt->data = NULL;
}

unsigned xf_netback_tx_queued(struct xf_netback *be)
{
    unsigned n;

    pthread_mutex_lock(&be->lock);
    n = be->keep_count;
    pthread_mutex_unlock(&be->lock);
    return n;
}

/* xenvif_start_xmit(): with multicast control on, a multicast frame
 * (PACKET_MULTICAST: the group bit set, not broadcast) passes only if its
 * destination is in the filter. Under the lock. */
static bool mcast_pass(const struct xf_netback *be, const void *data, uint32_t len)
{
    static const uint8_t bcast[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
    const uint8_t *dst = data;

    if (len < 6 || !(dst[0] & 1u) || memcmp(dst, bcast, 6) == 0)
        return true;
    for (unsigned m = 0; m < be->nmcast; m++)
        if (memcmp(be->mcast[m], dst, 6) == 0)
            return true;
    return false;
}

int xf_netback_rx_inject(struct xf_netback *be, unsigned queue, const void *data, uint32_t len,
                         uint16_t flags, uint8_t gso_type, uint16_t gso_size)
{
    struct nbq *q;
    struct rxp *p;

    if (len > 65535 || queue >= XF_NETBACK_MAX_QUEUES)
        return -1;
    pthread_mutex_lock(&be->lock);
    q = &be->q[queue];
    if (be->mcast_ctrl && !mcast_pass(be, data, len)) {
        q->st.rx_mcast_dropped++;
        pthread_mutex_unlock(&be->lock);
        return -2;
    }
    if (q->rx_count >= RXQ_MAX) {
        q->st.rx_dropped++;
        pthread_mutex_unlock(&be->lock);
        return -1;
    }
    p = &q->rxq[(q->rx_head + q->rx_count) % RXQ_MAX];
    p->data = malloc(len ? len : 1);
    if (p->data == NULL) {
        pthread_mutex_unlock(&be->lock);
        return -1;
    }
    memcpy(p->data, data, len);
    p->len = len;
    p->flags = flags;
    p->gso_type = gso_type;
    p->gso_size = gso_size;
    q->rx_count++;
    pthread_mutex_unlock(&be->lock);
    return 0;
}

void xf_netback_rx_source(struct xf_netback *be, unsigned queue, uint32_t len, uint64_t count,
                          uint8_t gso_type, uint16_t gso_size)
{
    struct nbq *q;

    if (queue >= XF_NETBACK_MAX_QUEUES || len > 65535)
        return;
    pthread_mutex_lock(&be->lock);
    q = &be->q[queue];
    free(q->src.data);
    q->src.data = malloc(len ? len : 1);
    if (q->src.data != NULL) {
        for (uint32_t i = 0; i < len; i++)
            q->src.data[i] = (unsigned char)(i * 7u + 1u);
        q->src.len = len;
        q->src.flags = 0;
        q->src.gso_type = gso_type;
        q->src.gso_size = gso_size;
        q->src_left = count;
    }
    pthread_mutex_unlock(&be->lock);
    /* the thread may be waiting on the channels: wake it */
    xf_sim_kick(be->sim);
}

unsigned xf_netback_rx_queued(struct xf_netback *be, unsigned queue)
{
    unsigned n;

    pthread_mutex_lock(&be->lock);
    n = queue < XF_NETBACK_MAX_QUEUES ? be->q[queue].rx_count : 0;
    pthread_mutex_unlock(&be->lock);
    return n;
}

void xf_netback_stats(struct xf_netback *be, unsigned queue, struct xf_netback_stats *st)
{
    pthread_mutex_lock(&be->lock);
    *st = be->q[queue < XF_NETBACK_MAX_QUEUES ? queue : 0].st;
    pthread_mutex_unlock(&be->lock);
}

bool xf_netback_mcast_filtering(struct xf_netback *be)
{
    bool on;

    pthread_mutex_lock(&be->lock);
    on = be->mcast_ctrl;
    pthread_mutex_unlock(&be->lock);
    return on;
}

unsigned xf_netback_mcast_has(struct xf_netback *be, const uint8_t mac[6])
{
    unsigned n = 0;

    pthread_mutex_lock(&be->lock);
    for (unsigned m = 0; m < be->nmcast; m++)
        n += memcmp(be->mcast[m], mac, 6) == 0;
    pthread_mutex_unlock(&be->lock);
    return n;
}

unsigned xf_netback_mcast_count(struct xf_netback *be)
{
    return be->nmcast;
}

void xf_netback_set_hooks(struct xf_netback *be, xf_netback_tx_hook *tx, xf_netback_rx_hook *rx,
                          void *arg)
{
    pthread_mutex_lock(&be->lock);
    be->tx_hook = tx;
    be->rx_hook = rx;
    be->hook_arg = arg;
    pthread_mutex_unlock(&be->lock);
}

void xf_netback_tx_stall(struct xf_netback *be, bool stall)
{
    pthread_mutex_lock(&be->lock);
    be->stall = stall;
    pthread_mutex_unlock(&be->lock);
}

void xf_netback_silent(struct xf_netback *be, bool silent)
{
    pthread_mutex_lock(&be->lock);
    be->silent = silent;
    pthread_mutex_unlock(&be->lock);
}

void xf_netback_storm(struct xf_netback *be, unsigned queue, bool rx, unsigned n)
{
    pthread_mutex_lock(&be->lock);
    if (be->connected && queue < be->nq)
        for (unsigned i = 0; i < n; i++)
            (void)xf_sim_evtchn_send(be->sim, 0, rx ? be->q[queue].port_rx : be->q[queue].port_tx);
    pthread_mutex_unlock(&be->lock);
}

void xf_netback_lock(struct xf_netback *be)
{
    pthread_mutex_lock(&be->lock);
}

void xf_netback_unlock(struct xf_netback *be)
{
    pthread_mutex_unlock(&be->lock);
}

struct netif_tx_sring *xf_netback_tx_sring(struct xf_netback *be, unsigned queue)
{
    return be->connected && queue < be->nq ? be->q[queue].tx_va : NULL;
}

struct netif_rx_sring *xf_netback_rx_sring(struct xf_netback *be, unsigned queue)
{
    return be->connected && queue < be->nq ? be->q[queue].rx_va : NULL;
}

struct xf_back_ring *xf_netback_tx_ring(struct xf_netback *be, unsigned queue)
{
    return be->connected && queue < be->nq ? &be->q[queue].tx : NULL;
}

struct xf_back_ring *xf_netback_rx_ring(struct xf_netback *be, unsigned queue)
{
    return be->connected && queue < be->nq ? &be->q[queue].rx : NULL;
}

void xf_netback_kick(struct xf_netback *be, unsigned queue, bool rx)
{
    if (be->connected && queue < be->nq)
        (void)xf_sim_evtchn_send(be->sim, 0, rx ? be->q[queue].port_rx : be->q[queue].port_tx);
}
