/*
 * netfront in the guest against Linux 6.1 netback in dom0 (the xl config's
 * vif, brought up by dom0/xf-vif with no bridge). The dom0 peer echoes on
 * an AF_PACKET socket on the vif (net-echo-start/-stop): frames of
 * EtherType 0x88B5, and TCP/IPv4 frames to 10.99.0.1 (the GSO ones), with
 * the MACs swapped and, through PACKET_VNET_HDR, the GSO type and size
 * kept. The guest checks every byte of every echo. Then dom0 pings the
 * guest, answered by the ARP/ICMP responder in the rx callback.
 */
#include "guest.h"
#include "frame.h"
#include "pattern.h"

#include <xenfront/errno.h>
#include <xenfront/netfront.h>
#include <xenfront/platform.h>

#define ETH_HLEN 14
#define ETHERTYPE_XF 0x88b5
#define NR_SMALL (1514 - 60 + 1)     /* every frame size from 60 to 1514 */
#define NR_JUMBO 8
#define NR_GSO 6
#define NR_RE 512                    /* the reattach case's frames, at most */
#define NR_FRAMES (NR_SMALL + NR_JUMBO + NR_GSO + NR_RE)
#define WINDOW 64                    /* frames sent and not yet echoed */

static const uint8_t dom0_mac[6] = { 0xfe, 0xff, 0xff, 0xff, 0xff, 0xff };
/* Our address for dom0's ping, 10.11.<domid>.2 (the peer puts
 * 10.11.<domid>.1/24 on the vif). */
static uint8_t my_ip[4] = { 10, 11, 0, 2 };

static struct xf_netfront *nf;
static bool corrupt;                 /* command line xf-corrupt */
static struct xf_netfront_info ninfo;

/* What was sent and what came back. */
static uint16_t frame_len[NR_FRAMES];
static uint8_t frame_gso[NR_FRAMES];
static uint16_t frame_mss[NR_FRAMES];
static uint8_t echoed[NR_FRAMES];
static volatile unsigned nr_sent, nr_echoed, nr_bad, nr_tx_done, nr_tx_err, nr_other;
static volatile unsigned nr_arp, nr_icmp;
static volatile int first_tx_err;
static char bad_why[96];
static uint8_t *gso_frame[NR_GSO];   /* the GSO frames as sent (compared whole) */

static uint64_t frame_seed(unsigned seq)
{
    return 0x88b500000000ull + ((uint64_t)self_id << 20) + seq;
}

static void bad(const char *why, unsigned seq, unsigned at)
{
    if (nr_bad++ == 0)
        ksnprintf(bad_why, sizeof(bad_why), "%s (frame %u, byte %u)", why, seq, at);
}

/* A received packet as one flat copy (at most 64 KiB). */
static uint8_t rx_flat[65536];

/* The responder's replies carry this cookie: they are not counted as sent
 * frames (nr_sent, nr_tx_done). */
static char reply_cookie;
/* The reattach case's frames sent once the echo has stopped (never echoed,
 * counted apart). */
static char drain_cookie;
static volatile unsigned nr_drain_done, nr_drain_err;
static volatile int first_drain_err;

static void tx_done(struct xf_netfront *n, unsigned int q, void *cookie, int status, void *arg)
{
    (void)n;
    (void)q;
    (void)arg;
    if (cookie == &reply_cookie)
        return;
    if (cookie == &drain_cookie) {
        if (status != 0 && nr_drain_err++ == 0)
            first_drain_err = status;
        nr_drain_done++;
        return;
    }
    if (status != 0) {
        if (nr_tx_err++ == 0)
            first_tx_err = status;
    }
    nr_tx_done++;
}

static void reply(const uint8_t *frame, uint32_t len)
{
    struct xf_netfront_frag f = { frame, len };
    struct xf_netfront_tx t = { .frags = &f, .nfrags = 1, .cookie = &reply_cookie };
    (void)xf_netfront_send(nf, 0, &t);
}

/* The responder: ARP requests for my_ip, ICMP echo requests to it. */
static bool respond(uint8_t *f, uint32_t len)
{
    static uint8_t out[1514];
    unsigned type = xff_get16(f + 12);
    if (type == 0x0806 && len >= 42 && xff_get16(f + 20) == 1 && !memcmp(f + 38, my_ip, 4)) {
        memcpy(out, f + 6, 6);
        memcpy(out + 6, ninfo.mac, 6);
        xff_put16(out + 12, 0x0806);
        xff_put16(out + 14, 1);
        xff_put16(out + 16, 0x0800);
        out[18] = 6;
        out[19] = 4;
        xff_put16(out + 20, 2);                 /* reply */
        memcpy(out + 22, ninfo.mac, 6);
        memcpy(out + 28, my_ip, 4);
        memcpy(out + 32, f + 22, 10);       /* the asker's MAC and IP */
        memset(out + 42, 0, 18);
        reply(out, 60);
        nr_arp++;
        return true;
    }
    if (type == 0x0800 && len >= 14 + 20 + 8 && len <= sizeof(out) && (f[14] & 0xf0) == 0x40) {
        uint32_t ihl = (f[14] & 15u) * 4, tot = xff_get16(f + 16);
        if (f[23] != 1 || memcmp(f + 30, my_ip, 4) || ihl < 20 || tot < ihl + 8 ||
            14 + tot > len || f[14 + ihl] != 8)
            return false;
        memcpy(out, f, 14 + tot);
        memcpy(out, f + 6, 6);
        memcpy(out + 6, ninfo.mac, 6);
        memcpy(out + 26, f + 30, 4);        /* addresses swapped */
        memcpy(out + 30, f + 26, 4);
        out[22] = 64;
        xff_put16(out + 24, 0);
        xff_put16(out + 24, xff_ip_csum(out + 14, ihl));
        uint8_t *icmp = out + 14 + ihl;
        icmp[0] = 0;                        /* echo reply */
        xff_put16(icmp + 2, 0);
        xff_put16(icmp + 2, xff_ip_csum(icmp, tot - ihl));
        reply(out, 14 + tot < 60 ? 60 : 14 + tot);
        nr_icmp++;
        return true;
    }
    return false;
}

static bool rx(struct xf_netfront *n, const struct xf_netfront_rx_pkt *pkt, void *arg)
{
    (void)n;
    (void)arg;
    uint32_t len = 0;
    for (unsigned i = 0; i < pkt->nfrags && len + pkt->frags[i].len <= sizeof(rx_flat); i++) {
        memcpy(rx_flat + len, pkt->frags[i].data, pkt->frags[i].len);
        len += pkt->frags[i].len;
    }
    if (len != pkt->len || len < ETH_HLEN + 4) {
        nr_other++;
        return false;
    }
    uint8_t *f = rx_flat;
    unsigned type = xff_get16(f + 12);
    unsigned seq;
    if (type == ETHERTYPE_XF) {
        seq = xff_get32(f + 14);
    } else if (type == 0x0800 && len >= 54 && f[23] == 6 && f[30] == 10 && f[31] == 99) {
        seq = xff_get16(f + 34) - 40000u;       /* the TCP source port */
    } else {
        if (!respond(f, len))
            nr_other++;
        return false;
    }
    if (seq >= nr_sent) {
        bad("echo of a frame never sent", seq, 0);
        return false;
    }
    if (echoed[seq]) {
        bad("echoed twice", seq, 0);
        return false;
    }
    echoed[seq] = 1;
    nr_echoed++;
    if (len != frame_len[seq]) {
        bad("echo length differs", seq, len);
        return false;
    }
    if (memcmp(f, ninfo.mac, 6) || memcmp(f + 6, dom0_mac, 6)) {
        bad("echo addresses", seq, 0);
        return false;
    }
    if (pkt->gso_type != frame_gso[seq] || (frame_gso[seq] && pkt->gso_size != frame_mss[seq])) {
        bad("echo GSO type or size differs", seq, pkt->gso_size);
        return false;
    }
    if (type == ETHERTYPE_XF) {
        if (seq == 100 && corrupt)
            f[len - 1] ^= 1;             /* xf-corrupt: shows the check works */
        size_t at = xfp_check(f + 18, 0, len - 18, frame_seed(seq));
        if (at != len - 18)
            bad("echo bytes differ", seq, (unsigned)at + 18);
    } else {
        const uint8_t *sent = gso_frame[seq - NR_SMALL - NR_JUMBO];
        for (uint32_t i = 12; i < len; i++)
            if (f[i] != sent[i]) {
                bad("GSO echo bytes differ", seq, i);
                break;
            }
    }
    return false;
}

static void state_cb(struct xf_netfront *n, void *arg)
{
    (void)n;
    (void)arg;
}

static const struct xf_netfront_config net_cfg = {
    .id = "0", .max_queues = 2, .tx_done = tx_done, .rx = rx, .state = state_cb,
};
static uint32_t granted_before;      /* grants live before the vif was set up */

const char *case_net_connect(void)
{
    struct xf_gnttab_stats gs;
    corrupt = cmdline_has("xf-corrupt");
    xf_gnttab_get_stats(gt, &gs);
    granted_before = gs.granted_refs;
    int rc = xf_netfront_create(&nf, xb, ec, gt, &net_cfg, deadline_ms(10000));
    CHECK(rc == 0, "create: %d", rc);
    rc = xf_netfront_connect(nf, deadline_ms(20000));
    CHECK(rc == 0, "connect: %d", rc);
    rc = xf_netfront_info(nf, &ninfo);
    CHECK(rc == 0, "info: %d", rc);
    kprintf("# net vif0: mac %02x:%02x:%02x:%02x:%02x:%02x mtu %u, %u queues, split %d, sg %d, gso tcpv4 %d "
            "tcpv6 %d, ipv6 csum %d, csum offload %d, rx notify %d, backend rx notify %d, "
            "multicast control %d\n",
            ninfo.mac[0], ninfo.mac[1], ninfo.mac[2], ninfo.mac[3], ninfo.mac[4], ninfo.mac[5],
            ninfo.mtu, ninfo.nr_queues, (int)ninfo.split, (int)ninfo.sg, (int)ninfo.gso_tcpv4,
            (int)ninfo.gso_tcpv6, (int)ninfo.ipv6_csum, (int)ninfo.csum_offload,
            (int)ninfo.rx_notify, (int)ninfo.backend_rx_notify, (int)ninfo.mcast_control);
    /* What netback offers, to check what was negotiated. */
    char be[128];
    uint64_t queues = 1, split = 0;
    rc = xf_xenbus_read_str(xb, XF_XENBUS_TX_NONE, "device/vif/0", "backend", be, sizeof(be),
                            deadline_ms(5000));
    CHECK(rc == 0, "backend path: %d", rc);
    (void)xf_xenbus_read_uint(xb, XF_XENBUS_TX_NONE, be, "multi-queue-max-queues", 64, &queues,
                              deadline_ms(5000));
    (void)xf_xenbus_read_uint(xb, XF_XENBUS_TX_NONE, be, "feature-split-event-channels", 1,
                              &split, deadline_ms(5000));
    kprintf("# netback offers: multi-queue-max-queues %lu, feature-split-event-channels %lu\n",
            (unsigned long)queues, (unsigned long)split);
    /* The MAC is the one libxl wrote from the xl config. */
    char mac[32], want[32];
    rc = xf_xenbus_read_str(xb, XF_XENBUS_TX_NONE, "device/vif/0", "mac", mac, sizeof(mac),
                            deadline_ms(5000));
    CHECK(rc == 0, "read mac: %d", rc);
    static const char hex[] = "0123456789abcdef";
    for (unsigned i = 0; i < 6; i++) {
        want[3 * i] = hex[ninfo.mac[i] >> 4];
        want[3 * i + 1] = hex[ninfo.mac[i] & 15];
        want[3 * i + 2] = i == 5 ? 0 : ':';
    }
    CHECK(!kstrcmp(mac, want), "mac %s, xenstore says %s", want, mac);
    my_ip[2] = (uint8_t)self_id;
    CHECK(ninfo.nr_queues == (queues < 2 ? queues : 2), "%u queues, offered %lu",
          ninfo.nr_queues, (unsigned long)queues);
    CHECK(ninfo.split == (split == 1), "split %d, offered %lu", (int)ninfo.split,
          (unsigned long)split);
    CHECK(ninfo.sg && ninfo.gso_tcpv4, "netback offers sg and gso-tcpv4, not negotiated");
    return NULL;
}

/* Wait until cond(), the deadline, or 3 s without an echo or a tx
 * completion (a lost frame is not waited for until the deadline). */
static void wait_until(bool (*cond)(void), uint64_t dl)
{
    unsigned seen = nr_echoed + nr_tx_done;
    uint64_t stall = deadline_ms(3000);
    while (!cond()) {
        uint64_t now = xf_plat_now_ns();
        if (nr_echoed + nr_tx_done != seen) {
            seen = nr_echoed + nr_tx_done;
            stall = deadline_ms(3000);
        }
        if (now >= dl || now >= stall)
            return;
        (void)kwait(now + 20 * NS_PER_MS < dl ? now + 20 * NS_PER_MS : dl);
    }
}

static unsigned want_echoed;
static bool enough_echoed(void)
{
    return nr_echoed >= want_echoed || nr_bad > 0;
}

static bool all_tx_done(void)
{
    return nr_tx_done >= nr_sent;
}

/* Send one frame (retrying while the ring is full). */
static const char *send_frame(unsigned q, const struct xf_netfront_tx *t, uint64_t dl)
{
    for (;;) {
        int rc = xf_netfront_send(nf, q, t);
        if (rc == 0)
            return NULL;
        CHECK(rc == -XF_EAGAIN || rc == -XF_EBUSY, "send: %d", rc);
        CHECK(xf_plat_now_ns() < dl, "send: ring full until the deadline");
        (void)kwait(xf_plat_now_ns() + 5 * NS_PER_MS);
    }
}

/* Frames [first, first + n): sizes from size_of(), with at most WINDOW
 * unechoed, spread over the queues; every echo checked by rx(). */
static const char *echo_run(unsigned n, uint32_t (*size_of)(unsigned), unsigned nfrags_max)
{
    static uint8_t buf[9018];
    uint64_t dl = deadline_ms(30000);
    unsigned first = nr_sent, e0 = nr_echoed;
    const char *e;
    for (unsigned k = 0; k < n; k++) {
        unsigned seq = nr_sent;
        uint32_t len = size_of(k);
        memcpy(buf, dom0_mac, 6);
        memcpy(buf + 6, ninfo.mac, 6);
        xff_put16(buf + 12, ETHERTYPE_XF);
        xff_put32(buf + 14, seq);
        xfp_fill(buf + 18, 0, len - 18, frame_seed(seq));
        frame_len[seq] = (uint16_t)len;
        /* Fragments: 1 .. nfrags_max pieces of uneven sizes. */
        struct xf_netfront_frag fr[4];
        unsigned nfr = 1 + k % nfrags_max;
        uint32_t off = 0;
        for (unsigned i = 0; i < nfr; i++) {
            uint32_t piece = i + 1 == nfr ? len - off : (len - off) / (nfr - i) + 7 * i;
            if (i == 0 && piece < ETH_HLEN)
                piece = ETH_HLEN;
            fr[i] = (struct xf_netfront_frag){ buf + off, piece };
            off += piece;
        }
        struct xf_netfront_tx t = { .frags = fr, .nfrags = nfr };
        want_echoed = e0 + (k + 1 > WINDOW ? k + 1 - WINDOW : 0);
        wait_until(enough_echoed, dl);
        CHECK(nr_bad == 0, "%s", bad_why);
        CHECK(nr_echoed >= want_echoed, "echoes stopped at %u of %u sent", nr_echoed - e0,
              nr_sent - first);
        nr_sent++;
        if ((e = send_frame(seq % ninfo.nr_queues, &t, dl))) {
            nr_sent--;
            return e;
        }
    }
    want_echoed = e0 + n;
    wait_until(enough_echoed, dl);
    wait_until(all_tx_done, dl);
    CHECK(nr_bad == 0, "%s", bad_why);
    CHECK(nr_echoed - e0 == n, "%u of %u frames echoed", nr_echoed - e0, n);
    CHECK(nr_tx_done == nr_sent && nr_tx_err == 0, "tx: %u done, %u failed (first %d)",
          nr_tx_done, nr_tx_err, first_tx_err);
    return NULL;
}

static uint32_t small_size(unsigned k)
{
    return 60 + k;
}

static const uint32_t jumbo_sizes[NR_JUMBO] = { 1515, 2048, 4095, 4096, 4097, 6000, 8191, 9000 };

static uint32_t jumbo_size(unsigned k)
{
    return jumbo_sizes[k];
}

static const char *echo_stats(unsigned frames)
{
    char resp[128];
    const char *e, *rest;
    if ((e = rpc_ok("net-echo-stop", resp, sizeof(resp), &rest)))
        return e;
    uint64_t n = kstrtou64(rest, NULL);
    kprintf("# dom0 peer: %s\n", rest);
    CHECK(n == frames, "dom0 echoed %lu frames, the guest sent %u", (unsigned long)n, frames);
    return NULL;
}

const char *case_net_small(void)
{
    char resp[64], req[64];
    const char *e;
    CHECK(nf, "not connected (previous case failed)");
    ksnprintf(req, sizeof(req), "net-echo-start vif%u.0", (unsigned)self_id);
    if ((e = rpc_ok(req, resp, sizeof(resp), NULL)))
        return e;
    unsigned e0 = nr_echoed;
    uint64_t t0 = xf_plat_now_ns();
    e = echo_run(NR_SMALL, small_size, 3);
    uint64_t t1 = xf_plat_now_ns();
    kprintf("# net: %u frames of 60..1514 bytes echoed in %lu ms\n", nr_echoed - e0,
            (unsigned long)((t1 - t0) / NS_PER_MS));
    const char *e2 = echo_stats(NR_SMALL);
    return e ? e : e2;
}

const char *case_net_jumbo(void)
{
    char resp[64], req[64];
    const char *e;
    CHECK(nf, "not connected (previous case failed)");
    unsigned first = nr_sent;
    ksnprintf(req, sizeof(req), "net-echo-start vif%u.0 9000", (unsigned)self_id);
    if ((e = rpc_ok(req, resp, sizeof(resp), NULL)))
        return e;
    e = echo_run(NR_JUMBO, jumbo_size, 4);
    const char *e2 = echo_stats(nr_sent - first);
    return e ? e : e2;
}

/* TCP/IPv4 frames to 10.99.0.1 (no address of dom0's: its stack drops
 * them) with a GSO extra: netback hands dom0 one large skb, the peer sends
 * it back as one (PACKET_VNET_HDR), netback gives it to us as a GSO
 * packet. Each has its own source port, so nothing merges them. */
const char *case_net_gso(void)
{
    static const uint32_t sizes[NR_GSO] = { 3000, 9000, 16384, 30000, 48000, 65000 };
    char resp[64], req[64];
    const char *e;
    CHECK(nf, "not connected (previous case failed)");
    CHECK(ninfo.gso_tcpv4, "no GSO negotiated");
    unsigned first = nr_sent, e0 = nr_echoed;
    ksnprintf(req, sizeof(req), "net-echo-start vif%u.0", (unsigned)self_id);
    if ((e = rpc_ok(req, resp, sizeof(resp), NULL)))
        return e;
    uint64_t dl = deadline_ms(30000);
    for (unsigned k = 0; k < NR_GSO; k++) {
        unsigned seq = nr_sent;
        uint32_t len = sizes[k];
        if (!gso_frame[k])
            gso_frame[k] = xf_plat_page_alloc(16);
        uint8_t *f = gso_frame[k];
        CHECK(f, "alloc");
        xff_tcp4_headers(f, len, dom0_mac, ninfo.mac, (uint16_t)seq, (uint16_t)(40000 + seq),
                         0x10000000u * k);
        xfp_fill(f + 54, 0, len - 54, frame_seed(seq));
        frame_len[seq] = (uint16_t)len;
        frame_gso[seq] = XF_NETFRONT_GSO_TCPV4;
        frame_mss[seq] = 1448;
        /* Three fragments: the headers, then the payload in two. */
        struct xf_netfront_frag fr[3] = {
            { f, 54 }, { f + 54, (len - 54) / 2 }, { f + 54 + (len - 54) / 2, len - 54 - (len - 54) / 2 },
        };
        struct xf_netfront_tx t = { .frags = fr, .nfrags = 3, .flags = XF_NETFRONT_TX_CSUM_BLANK,
                                    .gso_type = XF_NETFRONT_GSO_TCPV4, .gso_size = 1448 };
        nr_sent++;
        if ((e = send_frame(seq % ninfo.nr_queues, &t, dl)))
            return e;
    }
    want_echoed = e0 + NR_GSO;
    wait_until(enough_echoed, dl);
    wait_until(all_tx_done, dl);
    const char *e2 = echo_stats(nr_sent - first);
    CHECK(nr_bad == 0, "%s", bad_why);
    CHECK(nr_echoed - e0 == NR_GSO, "%u of %u GSO frames echoed", nr_echoed - e0, NR_GSO);
    CHECK(nr_tx_err == 0, "tx: %u failed (first %d)", nr_tx_err, first_tx_err);
    return e2;
}

/* One frame of the reattach stream (60..1514 bytes, single fragment):
 * echoed (sequence nr_sent, checked by rx()), or a drain frame. */
static int re_send(unsigned k, bool drain)
{
    static uint8_t buf[1514];
    unsigned seq = drain ? 0xffffffffu : nr_sent;
    uint32_t len = 60 + (k * 37u) % 1455u;
    memcpy(buf, dom0_mac, 6);
    memcpy(buf + 6, ninfo.mac, 6);
    xff_put16(buf + 12, ETHERTYPE_XF);
    xff_put32(buf + 14, seq);
    xfp_fill(buf + 18, 0, len - 18, frame_seed(seq));
    struct xf_netfront_frag f = { buf, len };
    struct xf_netfront_tx t = { .frags = &f, .nfrags = 1, .cookie = drain ? &drain_cookie : NULL };
    if (!drain) {
        frame_len[seq] = (uint16_t)len;
        nr_sent++;
    }
    int rc = xf_netfront_send(nf, k % ninfo.nr_queues, &t);
    if (rc != 0 && !drain)
        nr_sent--;
    return rc;
}

/*
 * Frames streamed (echoed and checked) when dom0 runs `xl network-detach`:
 * netback goes Closing, the library disconnects (every frame in flight
 * completes, with -ENOTCONN if netback never answered it), libxl removes
 * the device; the context is destroyed and must hold no grant. Then `xl
 * network-attach` with the same MAC: a new context connects (new rings,
 * new vif in dom0) and 128 frames are echoed and checked again.
 */
const char *case_net_reattach(void)
{
    char resp[96], req[64];
    const char *e;
    CHECK(nf, "not connected (previous case failed)");
    /* As the blk case: the polling guest only, and opt-in (README,
     * "Known problems": detach/attach cycles have crashed dom0's programs). */
    if (!poll_mode) {
        kprintf("# SKIP: the detach/attach cycle runs in the polling guest only\n");
        return SKIPPED;
    }
    if (!cmdline_has("xf-reattach") && !cmdline_has("xf-net-reattach")) {
        kprintf("# SKIP: opt-in, XF_GUEST_CMDLINE=xf-reattach or xf-net-reattach (dom0 crash, "
                "README)\n");
        return SKIPPED;
    }
    ksnprintf(req, sizeof(req), "net-echo-start vif%u.0", (unsigned)self_id);
    if ((e = rpc_ok(req, resp, sizeof(resp), NULL)))
        return e;
    CHECK(nr_tx_err == 0 && nr_tx_done == nr_sent, "earlier frames not all completed");
    unsigned first = nr_sent, e0 = nr_echoed, k = 0, drained = 0, at_down = 0, refused = 0;
    uint64_t dl = deadline_ms(60000), t_detach = 0, t_down = 0;
    nr_drain_done = nr_drain_err = 0;
    /* 0: echoed frames; 1: detach started (echo stopped), drain frames
     * until the link goes; 2: disconnected. */
    int phase = 0;
    while (phase < 2) {
        CHECK(xf_plat_now_ns() < dl, "phase %d at the deadline (%u sent, %u echoed)", phase,
              nr_sent - first, nr_echoed - e0);
        CHECK(nr_bad == 0, "%s", bad_why);
        bool room = phase == 0 ? nr_sent - nr_echoed < WINDOW && nr_sent - first < NR_RE - 128
                               : drained - nr_drain_done < WINDOW;
        int rc = room ? re_send(k, phase == 1) : -XF_EAGAIN;
        if (rc == 0) {
            k++;
            drained += phase == 1;
        } else if (room) {
            CHECK(rc == -XF_EAGAIN || rc == -XF_ENOTCONN, "send: %d", rc);
            refused++;
        }
        if (phase == 0 && nr_echoed - e0 >= 64) {
            if ((e = rpc_ok("net-detach 0", resp, sizeof(resp), NULL)))
                return e;
            t_detach = xf_plat_now_ns();
            phase = 1;
        }
        /* Follows netback's state (Closing: disconnect); cheap otherwise. */
        unsigned pending = drained - nr_drain_done;
        (void)xf_netfront_service(nf, deadline_ms(5000));
        if (phase == 1 && !xf_netfront_connected(nf)) {
            t_down = xf_plat_now_ns();
            at_down = pending;
            phase = 2;
        }
        if (rc != 0)
            (void)kwait(xf_plat_now_ns() + 2 * NS_PER_MS);
    }
    unsigned n_sent = nr_sent - first, n_echoed = nr_echoed - e0;
    CHECK(nr_tx_done == nr_sent && nr_tx_err == 0, "echoed frames: %u of %u completed, %u failed",
          nr_tx_done - first, n_sent, nr_tx_err);
    CHECK(nr_drain_done == drained, "%u of %u frames completed at the disconnect", nr_drain_done,
          drained);
    CHECK(nr_drain_err == 0 || first_drain_err == -XF_ENOTCONN, "a frame failed with %d",
          first_drain_err);
    if ((e = rpc_ok("bg-wait", resp, sizeof(resp), NULL)))
        return e;
    int rc = xf_netfront_destroy(nf, deadline_ms(5000));
    nf = NULL;
    CHECK(rc == 0, "destroy: %d", rc);
    /* netback has unmapped everything by now (it went Closed first);
     * what it still held is on the deferred list until reclaimed. */
    struct xf_gnttab_stats gs;
    uint64_t gdl = deadline_ms(5000);
    for (;;) {
        (void)xf_gnttab_reclaim(gt);
        xf_gnttab_get_stats(gt, &gs);
        if (gs.granted_refs == granted_before || xf_plat_now_ns() >= gdl)
            break;
        (void)kwait(xf_plat_now_ns() + 10 * NS_PER_MS);
    }
    CHECK(gs.granted_refs == granted_before, "%u grants left after destroy (%u before the vif)",
          gs.granted_refs, granted_before);
    /* The same MAC again; libxl reuses device id 0. */
    char mac[24];
    ksnprintf(mac, sizeof(mac), "%02x:%02x:%02x:%02x:%02x:%02x", ninfo.mac[0], ninfo.mac[1],
              ninfo.mac[2], ninfo.mac[3], ninfo.mac[4], ninfo.mac[5]);
    ksnprintf(req, sizeof(req), "net-attach %s", mac);
    if ((e = rpc_ok(req, resp, sizeof(resp), NULL)))
        return e;
    uint64_t t_attach = xf_plat_now_ns();
    /* The device appears when libxl has written it: until then create
     * finds no device/vif/0. */
    for (;;) {
        rc = xf_netfront_create(&nf, xb, ec, gt, &net_cfg, deadline_ms(5000));
        if (rc == 0)
            break;
        CHECK(xf_plat_now_ns() < dl, "create after the attach: %d", rc);
        (void)kwait(xf_plat_now_ns() + 50 * NS_PER_MS);
    }
    rc = xf_netfront_connect(nf, deadline_ms(30000));
    CHECK(rc == 0, "connect after the attach: %d", rc);
    uint64_t t_up = xf_plat_now_ns();
    if ((e = rpc_ok("bg-wait", resp, sizeof(resp), NULL)))
        return e;
    uint8_t old_mac[6];
    memcpy(old_mac, ninfo.mac, 6);
    rc = xf_netfront_info(nf, &ninfo);
    CHECK(rc == 0, "info: %d", rc);
    CHECK(!memcmp(old_mac, ninfo.mac, 6), "another MAC after the attach");
    kprintf("# net reattach: %u frames echoed of %u before the detach; %u sent after it (%u in "
            "flight at the disconnect, %u failed with -ENOTCONN), %u refused; down %lu ms after "
            "the detach, connected %lu ms after the attach, %u queues\n", n_echoed, n_sent,
            drained, at_down, nr_drain_err, refused,
            (unsigned long)((t_down - t_detach) / NS_PER_MS),
            (unsigned long)((t_up - t_attach) / NS_PER_MS), ninfo.nr_queues);
    CHECK(n_echoed >= 64, "only %u frames echoed before the detach", n_echoed);
    nr_tx_err = 0;
    ksnprintf(req, sizeof(req), "net-echo-start vif%u.0", (unsigned)self_id);
    if ((e = rpc_ok(req, resp, sizeof(resp), NULL)))
        return e;
    e = echo_run(128, small_size, 3);
    const char *e2 = echo_stats(128);
    return e ? e : e2;
}

/* dom0 pings us: ARP, then ICMP echo, answered from the rx callback. */
const char *case_net_ping(void)
{
    char resp[96], req[64];
    const char *e;
    CHECK(nf, "not connected (previous case failed)");
    unsigned a0 = nr_arp, i0 = nr_icmp, o0 = nr_other;
    ksnprintf(req, sizeof(req), "net-ping vif%u.0 10.11.%u.2 10.11.%u.1/24", (unsigned)self_id,
              (unsigned)my_ip[2], (unsigned)my_ip[2]);
    e = rpc_ok(req, resp, sizeof(resp), NULL);
    kprintf("# ping from dom0: %u ARP and %u ICMP echo requests answered (%u other frames)\n",
            nr_arp - a0, nr_icmp - i0, nr_other - o0);
    if (e)
        return e;
    CHECK(nr_arp > a0 && nr_icmp >= i0 + 3, "ARP %u ICMP %u", nr_arp - a0, nr_icmp - i0);
    return NULL;
}

const char *case_net_close(void)
{
    CHECK(nf, "not connected (previous case failed)");
    for (unsigned q = 0; q < ninfo.nr_queues; q++) {
        struct xf_netfront_stats st;
        xf_netfront_stats(nf, q, &st);
        kprintf("# net queue %u: tx %lu pkts %lu bytes, rx %lu pkts %lu bytes, drops %lu, "
                "events tx %lu rx %lu, notify tx %lu rx %lu, spurious %lu\n", q,
                (unsigned long)st.tx_packets, (unsigned long)st.tx_bytes,
                (unsigned long)st.rx_packets, (unsigned long)st.rx_bytes,
                (unsigned long)(st.rx_drop_error + st.rx_drop_len + st.rx_drop_short +
                                st.rx_drop_slots + st.rx_drop_extra + st.rx_drop_id),
                (unsigned long)st.events_tx, (unsigned long)st.events_rx,
                (unsigned long)st.notify_tx, (unsigned long)st.notify_rx,
                (unsigned long)st.spurious);
    }
    kprintf("# net: %u other frames received (not echoes, not for the responder)\n", nr_other);
    int rc = xf_netfront_disconnect(nf, deadline_ms(10000));
    CHECK(rc == 0, "disconnect: %d", rc);
    (void)xf_gnttab_reclaim(gt);
    rc = xf_netfront_destroy(nf, deadline_ms(5000));
    nf = NULL;
    CHECK(rc == 0, "destroy: %d", rc);
    return NULL;
}
