/*
 * netfront against QEMU 10's real network back end (xen-net-device, from
 * Debian bookworm-backports, scripts/fetch-qemu10.sh), unmodified, run on
 * the host through the dom0 shim. QEMU's NIC is joined to this test by
 * `-netdev dgram` over two unix datagram sockets: the test is both the
 * guest (netfront) and the far end of the wire (the "peer", a socket it
 * reads and writes directly). Shown:
 *  - ARP and ICMP echo both ways: the guest asks and the peer answers, and
 *    the peer asks and the guest answers (frames built and sent with
 *    netfront's tx API, replies checked as netfront's rx delivers them);
 *  - every frame size from 60 to 1514 bytes each way, every byte checked,
 *    in order, none lost;
 *  - QEMU stopped (SIGTERM) with traffic in flight: every packet completes
 *    exactly once, those QEMU never took with -XF_ENOTCONN, the back end's
 *    state is reported, nothing leaks; a new QEMU is started and netfront
 *    reconnects and carries traffic again.
 *  - UDP checksum offload (XF_NETFRONT_TX_CSUM_BLANK), filled in by QEMU.
 * QEMU's back end offers only feature-rx-copy: no scatter-gather, GSO,
 * multi-queue, split event channels or multicast control (checked, and
 * printed as negotiated); those paths are the simulator's and the real-Xen
 * tier's to test. It puts rx data at offset 2 of the page (shown).
 * On exit QEMU removes the backend and frontend directories without going
 * through Closing: this found two bugs, fixed with tier-1 tests
 * (test_device_directories_removed_then_new_backend in
 * netfront/tests/test_netfront_lifecycle.c): the vanished state node
 * reads as EACCES, which frontdev did not take as gone, and reconnecting
 * trusted the Connected that could no longer be written.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <xenstore.h>
#include <xenfront/gnttab.h>
#include <xenfront/netfront.h>
#include <xenfront/platform.h>

#include "hp_guest.h"
#include "hp_net.h"

#ifndef XF_QEMU10_DIR_DEFAULT
#error "XF_QEMU10_DIR_DEFAULT: where scripts/fetch-qemu10.sh puts QEMU 10"
#endif

#define ET_TEST 0x88B5           /* IEEE local experimental */
#define MAX_FRAME 1514

static const uint8_t guest_mac[6] = { 0x00, 0x16, 0x3e, 0x00, 0x00, 0x05 };
static const uint8_t peer_mac[6] = { 0x02, 0x00, 0x00, 0x00, 0x00, 0x01 };
static const uint8_t guest_ip[4] = { 192, 168, 77, 2 };
static const uint8_t peer_ip[4] = { 192, 168, 77, 1 };

static struct xf_xenbus *xb;
static struct xf_gnttab *gt;
static struct xf_netfront *nf;
static int peer_fd = -1;                 /* our end of the wire */
static struct sockaddr_un qemu_sa;       /* QEMU's end */
static char peer_path[4200], qemu_path[4200];

/* ------------------------------------------------------------------------
 * Frames seen, on either side: a FIFO of copies.
 */
#define FIFO_N 512
struct frame {
    uint32_t len;
    unsigned int page_off;               /* guest rx: offset of the data in its page */
    unsigned int nfrags;
    unsigned char data[MAX_FRAME + 64];
};
struct fifo {
    struct frame f[FIFO_N];
    unsigned int head, tail;             /* head - tail frames queued */
    unsigned long long total, overflow;
    unsigned long long too_long;
};
static struct fifo guest_rx, peer_rx;

static void fifo_push(struct fifo *q, const struct xf_netfront_rx_frag *frags, unsigned int nfrags,
                      const void *flat, uint32_t len)
{
    struct frame *f;
    uint32_t pos = 0;

    q->total++;
    if (len > sizeof(f->data)) {
        q->too_long++;
        return;
    }
    if (q->head - q->tail >= FIFO_N) {
        q->overflow++;
        return;
    }
    f = &q->f[q->head % FIFO_N];
    f->len = len;
    f->nfrags = nfrags;
    f->page_off = 0;
    if (flat != NULL) {
        memcpy(f->data, flat, len);
    } else {
        f->page_off = (unsigned int)((uintptr_t)frags[0].data & 4095u);
        for (unsigned int i = 0; i < nfrags && pos + frags[i].len <= len; i++) {
            memcpy(f->data + pos, frags[i].data, frags[i].len);
            pos += frags[i].len;
        }
        f->len = pos;
    }
    q->head++;
}

static struct frame *fifo_peek(struct fifo *q)
{
    return q->head == q->tail ? NULL : &q->f[q->tail % FIFO_N];
}

static void fifo_pop(struct fifo *q)
{
    q->tail++;
}

/* ------------------------------------------------------------------------
 * netfront's callbacks: completions by cookie (an index into done[]).
 */
#define NDONE 4096
static int done_status[NDONE];
static unsigned int done_count[NDONE];
static unsigned int ndone_total;
static bool state_flag;
static unsigned int state_calls;

static void cb_tx_done(struct xf_netfront *n, unsigned int q, void *cookie, int status, void *arg)
{
    uintptr_t i = (uintptr_t)cookie;

    (void)n;
    (void)q;
    (void)arg;
    if (i < NDONE) {
        done_status[i] = status;
        done_count[i]++;
    }
    ndone_total++;
}

static uint32_t rx_flags_seen;           /* XF_NETFRONT_RX_* of every packet */

static bool cb_rx(struct xf_netfront *n, const struct xf_netfront_rx_pkt *p, void *arg)
{
    (void)n;
    (void)arg;
    rx_flags_seen |= p->flags;
    fifo_push(&guest_rx, p->frags, p->nfrags, NULL, p->len);
    return false;
}

static void cb_state(struct xf_netfront *n, void *arg)
{
    (void)n;
    (void)arg;
    state_flag = true;
    state_calls++;
}

static void reset_done(void)
{
    memset(done_status, 0, sizeof(done_status));
    memset(done_count, 0, sizeof(done_count));
    ndone_total = 0;
}

/* ------------------------------------------------------------------------
 * The wire's far end.
 */
static void peer_open(void)
{
    struct sockaddr_un sa = { .sun_family = AF_UNIX };

    snprintf(peer_path, sizeof(peer_path), "%s/peer.sock", hp.dir);
    snprintf(qemu_path, sizeof(qemu_path), "%s/qemu-net.sock", hp.dir);
    ck_assert(strlen(peer_path) < sizeof(sa.sun_path) && strlen(qemu_path) < sizeof(sa.sun_path));
    strcpy(sa.sun_path, peer_path);
    peer_fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    ck_assert_int_ge(peer_fd, 0);
    ck_assert_int_eq(bind(peer_fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
    memset(&qemu_sa, 0, sizeof(qemu_sa));
    qemu_sa.sun_family = AF_UNIX;
    strcpy(qemu_sa.sun_path, qemu_path);
}

static void peer_close(void)
{
    if (peer_fd >= 0)
        close(peer_fd);
    peer_fd = -1;
}

/* Everything QEMU has sent us, into peer_rx. */
static void peer_drain(void)
{
    static unsigned char buf[65536];

    for (;;) {
        ssize_t n = recv(peer_fd, buf, sizeof(buf), MSG_DONTWAIT);

        if (n < 0) {
            ck_assert_msg(errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR,
                          "peer recv: %s", strerror(errno));
            if (errno != EINTR)
                return;
            continue;
        }
        fifo_push(&peer_rx, NULL, 0, buf, (uint32_t)n);
    }
}

/* Send a frame to QEMU: true if sent, false if its socket is full now. */
static bool peer_send(const void *frame, size_t len)
{
    ssize_t n = sendto(peer_fd, frame, len, MSG_DONTWAIT, (struct sockaddr *)&qemu_sa,
                       sizeof(qemu_sa));

    if (n < 0) {
        ck_assert_msg(errno == EAGAIN || errno == EWOULDBLOCK || errno == ENOBUFS ||
                          errno == EINTR,
                      "peer sendto: %s", strerror(errno));
        return false;
    }
    ck_assert_int_eq((size_t)n, len);
    return true;
}

/* ------------------------------------------------------------------------
 * Running both sides: netfront polled and serviced, the peer drained.
 */
static void pump(void)
{
    unsigned long long seen = peer_rx.total;
    int n;

    if (state_flag) {
        state_flag = false;
        (void)xf_netfront_service(nf, SOON(5000));
    }
    n = xf_netfront_poll(nf);
    peer_drain();
    /* Nothing moved: wait for an event (or a short while: the peer's
     * socket is not one). */
    if (n <= 0 && peer_rx.total == seen)
        (void)xf_plat_wait(SOON(1));
}

/* Send from the guest, pumping while the ring is full. */
static void guest_send(const void *frame, uint32_t len, unsigned int cookie)
{
    struct xf_netfront_frag fr = { .data = frame, .len = len };
    struct xf_netfront_tx tx = { .frags = &fr, .nfrags = 1, .cookie = (void *)(uintptr_t)cookie };
    uint64_t end = SOON(10000);

    for (;;) {
        int rc = xf_netfront_send(nf, 0, &tx);

        if (rc == 0)
            return;
        ck_assert_msg(rc == -XF_EAGAIN, "xf_netfront_send: %d", rc);
        ck_assert_msg(xf_plat_now_ns() < end, "the tx ring stayed full");
        pump();
    }
}

/* Wait for a frame on a side, pumping. */
static struct frame *wait_frame(struct fifo *q, unsigned int ms)
{
    uint64_t end = SOON(ms);
    struct frame *f;

    while ((f = fifo_peek(q)) == NULL) {
        ck_assert_msg(xf_plat_now_ns() < end, "no frame within %u ms", ms);
        pump();
    }
    return f;
}

/* ------------------------------------------------------------------------
 * ARP and ICMP echo: built and answered by the same code on both sides
 * (hp_net.c); the checks of an answer are here.
 */
static void check_arp_reply(const struct frame *f, const uint8_t *asker_mac,
                            const uint8_t *asker_ip, const uint8_t *mac, const uint8_t *ip)
{
    const unsigned char *a = f->data + HP_ETH_HLEN;

    ck_assert_uint_ge(f->len, HP_MIN_FRAME);
    ck_assert_int_eq(memcmp(f->data, asker_mac, 6), 0);
    ck_assert_int_eq(memcmp(f->data + 6, mac, 6), 0);
    ck_assert_uint_eq(hp_get16(f->data + 12), HP_ET_ARP);
    ck_assert_uint_eq(hp_get16(a + 6), 2);
    ck_assert_int_eq(memcmp(a + 8, mac, 6), 0);
    ck_assert_int_eq(memcmp(a + 14, ip, 4), 0);
    ck_assert_int_eq(memcmp(a + 18, asker_mac, 6), 0);
    ck_assert_int_eq(memcmp(a + 24, asker_ip, 4), 0);
}

static void check_echo_reply(const struct frame *f, const unsigned char *req, size_t plen,
                             const uint8_t *asker_mac, const uint8_t *mac)
{
    const unsigned char *ip = f->data + HP_ETH_HLEN, *ic = ip + 20;
    const unsigned char *qip = req + HP_ETH_HLEN;

    ck_assert_uint_ge(f->len, HP_ETH_HLEN + 28 + plen);
    ck_assert_int_eq(memcmp(f->data, asker_mac, 6), 0);
    ck_assert_int_eq(memcmp(f->data + 6, mac, 6), 0);
    ck_assert_uint_eq(hp_get16(f->data + 12), HP_ET_IP);
    ck_assert_uint_eq(hp_get16(ip + 2), 28 + plen);
    ck_assert_uint_eq(hp_csum(ip, 20), 0);
    ck_assert_int_eq(memcmp(ip + 12, qip + 16, 4), 0);
    ck_assert_int_eq(memcmp(ip + 16, qip + 12, 4), 0);
    ck_assert_uint_eq(ic[0], 0);
    ck_assert_uint_eq(hp_csum(ic, 8 + plen), 0);
    ck_assert_int_eq(memcmp(ic + 4, qip + 24, 4), 0);            /* id, seq */
    ck_assert_msg(memcmp(ic + 8, qip + 28, plen) == 0, "echo payload of %zu bytes differs", plen);
}

/* ------------------------------------------------------------------------
 * Fixture.
 */
static const char *qemu10_dir(void)
{
    const char *d = getenv("XF_QEMU10_DIR");

    return d != NULL && *d ? d : XF_QEMU10_DIR_DEFAULT;
}

static void start_qemu(void)
{
    char netdev[9000], device[128], dm[64];
    const char *extra[] = { "-netdev", netdev, "-device", device, NULL };
    uint64_t t0 = xf_plat_now_ns();

    snprintf(netdev, sizeof(netdev),
             "dgram,id=n0,local.type=unix,local.path=%s,remote.type=unix,remote.path=%s",
             qemu_path, peer_path);
    snprintf(device, sizeof(device),
             "xen-net-device,netdev=n0,mac=%02x:%02x:%02x:%02x:%02x:%02x,idx=0", guest_mac[0],
             guest_mac[1], guest_mac[2], guest_mac[3], guest_mac[4], guest_mac[5]);
    /* An earlier QEMU's socket and device-model state (the toolstack's to
     * clear): the start waits for the new one's "running". */
    unlink(qemu_path);
    snprintf(dm, sizeof(dm), "/local/domain/0/device-model/%u", hp.domid);
    ck_assert(xs_rm(hp.xs, XBT_NULL, dm) || errno == ENOENT);
    HP_OK(hp_start_qemu_from(&hp, qemu10_dir(), extra, &hp_why));
    fprintf(stderr, "# QEMU 10 running in %.0f ms\n", (double)(xf_plat_now_ns() - t0) / 1e6);
}

static const struct xf_netfront_config nf_cfg = {
    .tx_done = cb_tx_done,
    .rx = cb_rx,
    .state = cb_state,
};

static void world_up(void)
{
    uint64_t pfn;
    evtchn_port_t sp;

    memset(&guest_rx, 0, sizeof(guest_rx));
    memset(&peer_rx, 0, sizeof(peer_rx));
    rx_flags_seen = 0;
    reset_done();
    state_flag = false;
    state_calls = 0;
    guest_up();
    HP_OK(hp_start_xenstored(&hp, &hp_why));
    HP_OK(hp_introduce(&hp, NULL, &hp_why));
    peer_open();
    start_qemu();
    ck_assert_int_eq(xf_xenbus_hvm_store(&pfn, &sp), 0);
    ck_assert_int_eq(
        xf_xenbus_create_ring(&xb, NULL, ec, xf_sim_gfn_to_va(hp.sim, hp.domid, pfn), sp), 0);
    ck_assert_int_eq(xf_gnttab_create(&gt, NULL), 0);
    ck_assert_int_eq(xf_netfront_create(&nf, xb, ec, gt, &nf_cfg, SOON(10000)), 0);
}

static void world_down(void)
{
    if (nf != NULL)
        ck_assert_int_eq(xf_netfront_destroy(nf, SOON(10000)), 0);
    nf = NULL;
    /* QEMU lets go of what it maps a little after it says Closed: reclaim
     * until it has, bounded. */
    for (uint64_t end = SOON(10000); xf_gnttab_reclaim(gt) != 0;) {
        ck_assert_msg(xf_plat_now_ns() < end, "QEMU kept grants mapped after close");
        (void)xf_plat_wait(SOON(5));
    }
    ck_assert_int_eq(xf_gnttab_destroy(gt), 0);
    gt = NULL;
    xf_xenbus_destroy(xb);
    xb = NULL;
    peer_close();
    guest_down();
}

/* After a failed assertion (no-fork mode): the daemons go down with the
 * fixture; the library objects are dropped (their memory is the
 * simulator's). */
static void after_test(void)
{
    nf = NULL;
    gt = NULL;
    xb = NULL;
    peer_close();
    guest_after_test();
}

static void print_info(const struct xf_netfront_info *in)
{
    fprintf(stderr,
            "# negotiated with QEMU 10 xen-net-device: queues %u, split %d, sg %d, gso-tcpv4 %d, "
            "gso-tcpv6 %d, csum-offload %d, ipv6-csum %d, rx-notify %d (backend %d), "
            "mcast-control %d, dynamic-mcast %d, mtu %u\n",
            in->nr_queues, in->split, in->sg, in->gso_tcpv4, in->gso_tcpv6, in->csum_offload,
            in->ipv6_csum, in->rx_notify, in->backend_rx_notify, in->mcast_control,
            in->dynamic_mcast, in->mtu);
}

static void connect_and_check(void)
{
    struct xf_netfront_info in;

    ck_assert_int_eq(xf_netfront_connect(nf, SOON(20000)), 0);
    ck_assert_int_eq(xf_netfront_info(nf, &in), 0);
    ck_assert_int_eq(memcmp(in.mac, guest_mac, 6), 0);
    /* What QEMU's back end offers: one queue, one channel, one slot per
     * packet, no GSO. */
    ck_assert_uint_eq(in.nr_queues, 1);
    ck_assert(!in.split);
    ck_assert(!in.sg);
    ck_assert(!in.gso_tcpv4 && !in.gso_tcpv6);
    print_info(&in);
}

/* ------------------------------------------------------------------------
 * ARP and ping, both ways.
 */
static const size_t ping_sizes[] = { 0, 1, 18, 56, 57, 1000, 1471, 1472 };
#define NPING (sizeof(ping_sizes) / sizeof(ping_sizes[0]))

/* The guest asks, the peer answers (from the pump loop). */
static void guest_asks_peer(unsigned int id)
{
    static unsigned char req[MAX_FRAME], rep[MAX_FRAME];
    struct frame *f;
    size_t n;
    unsigned int cookie = 1;

    reset_done();
    n = hp_arp_request(req, guest_mac, guest_ip, peer_ip);
    guest_send(req, (uint32_t)n, cookie++);
    /* The peer: the request as sent, answered. */
    f = wait_frame(&peer_rx, 10000);
    ck_assert_uint_eq(f->len, n);
    ck_assert_int_eq(memcmp(f->data, req, n), 0);
    n = hp_respond(f->data, f->len, peer_mac, peer_ip, rep);
    ck_assert_uint_eq(n, HP_MIN_FRAME);
    fifo_pop(&peer_rx);
    ck_assert(peer_send(rep, n));
    f = wait_frame(&guest_rx, 10000);
    check_arp_reply(f, guest_mac, guest_ip, peer_mac, peer_ip);
    fifo_pop(&guest_rx);

    for (unsigned int i = 0; i < NPING; i++) {
        unsigned int seq = i + 1;

        n = hp_icmp_echo(req, peer_mac, guest_mac, guest_ip, peer_ip, id, seq, ping_sizes[i]);
        guest_send(req, (uint32_t)n, cookie++);
        f = wait_frame(&peer_rx, 10000);
        ck_assert_uint_eq(f->len, n);
        ck_assert_int_eq(memcmp(f->data, req, n), 0);
        n = hp_respond(f->data, f->len, peer_mac, peer_ip, rep);
        ck_assert_uint_gt(n, 0);
        fifo_pop(&peer_rx);
        while (!peer_send(rep, n))
            pump();
        f = wait_frame(&guest_rx, 10000);
        check_echo_reply(f, req, ping_sizes[i], guest_mac, peer_mac);
        fifo_pop(&guest_rx);
    }
    for (uint64_t end = SOON(5000); ndone_total < cookie - 1;) {
        ck_assert_msg(xf_plat_now_ns() < end, "tx completions missing");
        pump();
    }
    for (unsigned int c = 1; c < cookie; c++) {
        ck_assert_uint_eq(done_count[c], 1);
        ck_assert_int_eq(done_status[c], 0);
    }
}

/* The peer asks, the guest answers (with netfront's tx, from what its rx
 * delivered). */
static void peer_asks_guest(unsigned int id)
{
    static unsigned char req[MAX_FRAME], rep[MAX_FRAME];
    struct frame *f;
    size_t n;
    unsigned int cookie = 100;

    reset_done();
    n = hp_arp_request(req, peer_mac, peer_ip, guest_ip);
    ck_assert(peer_send(req, n));
    f = wait_frame(&guest_rx, 10000);
    ck_assert_uint_eq(f->len, n);
    ck_assert_int_eq(memcmp(f->data, req, n), 0);
    n = hp_respond(f->data, f->len, guest_mac, guest_ip, rep);
    ck_assert_uint_eq(n, HP_MIN_FRAME);
    fifo_pop(&guest_rx);
    guest_send(rep, (uint32_t)n, cookie++);
    f = wait_frame(&peer_rx, 10000);
    ck_assert_uint_eq(f->len, n);
    check_arp_reply(f, peer_mac, peer_ip, guest_mac, guest_ip);
    fifo_pop(&peer_rx);

    for (unsigned int i = 0; i < NPING; i++) {
        n = hp_icmp_echo(req, guest_mac, peer_mac, peer_ip, guest_ip, id, i + 1, ping_sizes[i]);
        while (!peer_send(req, n))
            pump();
        f = wait_frame(&guest_rx, 10000);
        ck_assert_uint_eq(f->len, n);
        ck_assert_int_eq(memcmp(f->data, req, n), 0);
        n = hp_respond(f->data, f->len, guest_mac, guest_ip, rep);
        ck_assert_uint_gt(n, 0);
        fifo_pop(&guest_rx);
        guest_send(rep, (uint32_t)n, cookie++);
        f = wait_frame(&peer_rx, 10000);
        check_echo_reply(f, req, ping_sizes[i], peer_mac, guest_mac);
        fifo_pop(&peer_rx);
    }
    for (uint64_t end = SOON(5000); ndone_total < cookie - 100;) {
        ck_assert_msg(xf_plat_now_ns() < end, "tx completions missing");
        pump();
    }
    for (unsigned int c = 100; c < cookie; c++) {
        ck_assert_uint_eq(done_count[c], 1);
        ck_assert_int_eq(done_status[c], 0);
    }
}

/* UDP checksum offload, the one offload QEMU's back end has: a frame sent
 * with XF_NETFRONT_TX_CSUM_BLANK (the field holding the pseudo-header sum,
 * as Linux leaves it) reaches the wire with its checksum filled in; the
 * same frame without the flag and a wrong checksum arrives as sent. */
static size_t udp_frame(unsigned char *f, size_t plen, bool partial)
{
    unsigned char *ip = f + hp_eth(f, peer_mac, guest_mac, HP_ET_IP), *u = ip + 20;
    unsigned char ph[12];

    memset(ip, 0, 20);
    ip[0] = 0x45;
    hp_put16(ip + 2, (unsigned int)(28 + plen));
    ip[8] = 64;
    ip[9] = 17;
    memcpy(ip + 12, guest_ip, 4);
    memcpy(ip + 16, peer_ip, 4);
    hp_put16(ip + 10, hp_csum(ip, 20));
    hp_put16(u, 40000);
    hp_put16(u + 2, 9);                     /* discard */
    hp_put16(u + 4, (unsigned int)(8 + plen));
    for (size_t i = 0; i < plen; i++)
        u[8 + i] = (unsigned char)(i * 5 + 1);
    memcpy(ph, guest_ip, 4);
    memcpy(ph + 4, peer_ip, 4);
    ph[8] = 0;
    ph[9] = 17;
    hp_put16(ph + 10, (unsigned int)(8 + plen));
    hp_put16(u + 6, partial ? ~hp_csum(ph, 12) & 0xffff : 0x1234);
    return HP_ETH_HLEN + 28 + plen;
}

static bool udp_csum_ok(const struct frame *f)
{
    static unsigned char buf[12 + MAX_FRAME];
    const unsigned char *ip = f->data + HP_ETH_HLEN;
    size_t ulen = hp_get16(ip + 24);

    ck_assert_uint_ge(f->len, HP_ETH_HLEN + 20 + ulen);
    memcpy(buf, ip + 12, 8);
    buf[8] = 0;
    buf[9] = 17;
    hp_put16(buf + 10, (unsigned int)ulen);
    memcpy(buf + 12, ip + 20, ulen);
    return hp_csum(buf, 12 + ulen) == 0;
}

static void guest_udp_csum_offload(void)
{
    static unsigned char pkt[MAX_FRAME];
    struct xf_netfront_frag fr = { .data = pkt };
    struct xf_netfront_tx tx = { .frags = &fr, .nfrags = 1, .flags = XF_NETFRONT_TX_CSUM_BLANK };
    struct frame *f;

    fr.len = (uint32_t)udp_frame(pkt, 333, true);
    ck_assert_int_eq(xf_netfront_send(nf, 0, &tx), 0);
    f = wait_frame(&peer_rx, 10000);
    ck_assert_uint_eq(f->len, fr.len);
    ck_assert_msg(udp_csum_ok(f), "csum_blank: UDP checksum %#x not filled in",
                  hp_get16(f->data + HP_ETH_HLEN + 26));
    ck_assert_int_eq(memcmp(f->data, pkt, HP_ETH_HLEN + 26), 0);           /* all but the sum */
    ck_assert_int_eq(memcmp(f->data + HP_ETH_HLEN + 28, pkt + HP_ETH_HLEN + 28, 333), 0);
    fifo_pop(&peer_rx);
    fr.len = (uint32_t)udp_frame(pkt, 333, false);
    tx.flags = 0;
    ck_assert_int_eq(xf_netfront_send(nf, 0, &tx), 0);
    f = wait_frame(&peer_rx, 10000);
    ck_assert_uint_eq(f->len, fr.len);
    ck_assert_int_eq(memcmp(f->data, pkt, fr.len), 0);
    ck_assert(!udp_csum_ok(f));
    fifo_pop(&peer_rx);
}

static void no_drops(void)
{
    struct xf_netfront_stats st;

    xf_netfront_stats(nf, 0, &st);
    ck_assert_uint_eq(st.rx_drop_error + st.rx_drop_len + st.rx_drop_short + st.rx_drop_slots +
                          st.rx_drop_extra + st.rx_drop_id, 0);
    ck_assert_uint_eq(st.tx_errors + st.tx_failed + st.tx_bad_status + st.proto_errors, 0);
    ck_assert_uint_eq(guest_rx.overflow + peer_rx.overflow + guest_rx.too_long + peer_rx.too_long,
                      0);
}

START_TEST(qemu_net_arp_and_ping_both_ways)
{
    world_up();
    connect_and_check();
    guest_asks_peer(0x4242);
    peer_asks_guest(0x5151);
    guest_udp_csum_offload();
    no_drops();
    ck_assert_msg(hp_alive(&hp.qemu), "QEMU died");
    world_down();
}
END_TEST

/* ------------------------------------------------------------------------
 * Every size, each way, every byte.
 */
static size_t test_frame(unsigned char *f, const uint8_t *dst, const uint8_t *src,
                         unsigned int seq, size_t len)
{
    hp_eth(f, dst, src, ET_TEST);
    hp_put16(f + 14, (unsigned int)len);
    hp_put16(f + 16, seq);
    for (size_t i = 18; i < len; i++)
        f[i] = (unsigned char)(seq * 131u + i * 7u + (i >> 8));
    return len;
}

static void check_test_frame(const struct frame *f, const uint8_t *dst, const uint8_t *src,
                             unsigned int seq, size_t len)
{
    static unsigned char want[MAX_FRAME];

    test_frame(want, dst, src, seq, len);
    ck_assert_msg(f->len == len, "frame %u: %u bytes, sent %zu", seq, f->len, len);
    /* Every byte; one assertion per frame (libcheck records each call). */
    if (memcmp(f->data, want, len) != 0)
        for (size_t i = 0; i < len; i++)
            if (f->data[i] != want[i])
                ck_abort_msg("frame %u (%zu bytes): byte %zu is %#x, sent %#x", seq, len, i,
                             f->data[i], want[i]);
}

#define NSIZES (MAX_FRAME - HP_MIN_FRAME + 1)
#define WINDOW 64u                       /* frames on the wire at once */

static unsigned int rx_offsets_seen;     /* bit per distinct data offset class */
static unsigned int rx_offset_first = ~0u;

static void every_size_peer_to_guest(void)
{
    static unsigned char f[MAX_FRAME];
    unsigned int sent = 0, got = 0;
    uint64_t end = SOON(30000);

    while (got < NSIZES) {
        struct frame *r;

        ck_assert_msg(xf_plat_now_ns() < end, "peer to guest: %u of %u frames by the deadline",
                      got, NSIZES);
        while (sent < NSIZES && sent - got < WINDOW) {
            size_t len = test_frame(f, guest_mac, peer_mac, sent, HP_MIN_FRAME + sent);

            if (!peer_send(f, len))
                break;
            sent++;
        }
        while ((r = fifo_peek(&guest_rx)) != NULL) {
            check_test_frame(r, guest_mac, peer_mac, got, HP_MIN_FRAME + got);
            if (rx_offset_first == ~0u)
                rx_offset_first = r->page_off;
            rx_offsets_seen |= r->page_off == rx_offset_first ? 1u : 2u;
            ck_assert_uint_eq(r->nfrags, 1);
            fifo_pop(&guest_rx);
            got++;
        }
        pump();
    }
}

static void every_size_guest_to_peer(void)
{
    static unsigned char f[MAX_FRAME];
    unsigned int sent = 0, got = 0;
    uint64_t end = SOON(30000);

    reset_done();
    while (got < NSIZES) {
        struct frame *r;

        ck_assert_msg(xf_plat_now_ns() < end, "guest to peer: %u of %u frames by the deadline",
                      got, NSIZES);
        while (sent < NSIZES && sent - got < WINDOW) {
            struct xf_netfront_frag fr = { .data = f };
            struct xf_netfront_tx tx = { .frags = &fr, .nfrags = 1,
                                         .cookie = (void *)(uintptr_t)sent };
            int rc;

            fr.len = (uint32_t)test_frame(f, peer_mac, guest_mac, sent, HP_MIN_FRAME + sent);
            rc = xf_netfront_send(nf, 0, &tx);
            if (rc == -XF_EAGAIN)
                break;
            ck_assert_int_eq(rc, 0);
            sent++;
        }
        pump();
        while ((r = fifo_peek(&peer_rx)) != NULL) {
            check_test_frame(r, peer_mac, guest_mac, got, HP_MIN_FRAME + got);
            fifo_pop(&peer_rx);
            got++;
        }
    }
    for (uint64_t e2 = SOON(5000); ndone_total < NSIZES;) {
        ck_assert_msg(xf_plat_now_ns() < e2, "%u of %u tx completions", ndone_total, NSIZES);
        pump();
    }
    for (unsigned int i = 0; i < NSIZES; i++) {
        ck_assert_uint_eq(done_count[i], 1);
        ck_assert_int_eq(done_status[i], 0);
    }
}

START_TEST(qemu_net_every_size_both_ways)
{
    struct xf_netfront_stats st;
    uint64_t t0, t1, t2;

    world_up();
    connect_and_check();
    t0 = xf_plat_now_ns();
    every_size_peer_to_guest();
    t1 = xf_plat_now_ns();
    every_size_guest_to_peer();
    t2 = xf_plat_now_ns();
    no_drops();
    xf_netfront_stats(nf, 0, &st);
    ck_assert_uint_eq(st.rx_packets, NSIZES);
    ck_assert_uint_eq(st.tx_packets, NSIZES);
    fprintf(stderr, "# %u frames (%u..%u bytes) each way, every byte checked: peer->guest %.0f ms, "
                    "guest->peer %.0f ms; QEMU's rx data at page offset %u%s, rx flags seen %#x\n",
            NSIZES, HP_MIN_FRAME, MAX_FRAME, (double)(t1 - t0) / 1e6, (double)(t2 - t1) / 1e6,
            rx_offset_first, rx_offsets_seen & 2u ? " (and others)" : "", rx_flags_seen);
    ck_assert_msg(hp_alive(&hp.qemu), "QEMU died");
    world_down();
}
END_TEST

/* ------------------------------------------------------------------------
 * QEMU stopped mid-traffic, then a new one.
 */
START_TEST(qemu_net_stopped_mid_traffic_then_restarted)
{
    static unsigned char f[MAX_FRAME];
    const unsigned int burst = 200, late = 16;
    unsigned int ok = 0, notconn = 0;
    int rc;

    world_up();
    connect_and_check();
    reset_done();
    /* Frames both ways, the first half with both sides running, the
     * second in a burst, and QEMU told to stop while it moves. */
    for (unsigned int i = 0; i < burst; i++) {
        size_t len = test_frame(f, peer_mac, guest_mac, i, HP_MIN_FRAME + (i * 37) % NSIZES);

        guest_send(f, (uint32_t)len, i);
        if (i % 4 == 0)
            (void)peer_send(f, test_frame(f, guest_mac, peer_mac, i, 1000));
        if (i < burst / 2)
            pump();
    }
    hp_stop_daemon(&hp.qemu, 5000);
    /* QEMU is gone, netfront not yet told: these are accepted and can
     * only complete with an error. */
    for (unsigned int i = burst; i < burst + late; i++)
        guest_send(f, (uint32_t)test_frame(f, peer_mac, guest_mac, i, 200), i);
    /* The back end's state change arrives, service disconnects. */
    for (uint64_t end = SOON(10000); xf_netfront_connected(nf);) {
        ck_assert_msg(xf_plat_now_ns() < end, "netfront still connected after QEMU stopped");
        pump();
    }
    ck_assert_uint_gt(state_calls, 0);
    rc = xf_netfront_service(nf, SOON(2000));
    fprintf(stderr, "# after QEMU stopped: back-end state %d\n", rc);
    ck_assert_msg(rc == XenbusStateClosing || rc == XenbusStateClosed || rc == XenbusStateUnknown,
                  "back-end state %d", rc);
    ck_assert_uint_eq(ndone_total, burst + late);
    for (unsigned int i = 0; i < burst + late; i++) {
        ck_assert_msg(done_count[i] == 1, "packet %u completed %u times", i, done_count[i]);
        ck_assert_msg(done_status[i] == 0 || done_status[i] == -XF_ENOTCONN, "packet %u: %d", i,
                      done_status[i]);
        ok += done_status[i] == 0;
        notconn += done_status[i] == -XF_ENOTCONN;
    }
    for (unsigned int i = burst; i < burst + late; i++)
        ck_assert_int_eq(done_status[i], -XF_ENOTCONN);
    fprintf(stderr, "# QEMU stopped: %u frames sent, %u failed with -XF_ENOTCONN\n", ok, notconn);
    {
        struct xf_netfront_frag fr = { .data = f, .len = 60 };
        struct xf_netfront_tx tx = { .frags = &fr, .nfrags = 1 };

        ck_assert_int_eq(xf_netfront_send(nf, 0, &tx), -XF_ENOTCONN);
    }
    ck_assert_int_eq(xf_netfront_poll(nf), -XF_ENOTCONN);
    /* Every grant is back (QEMU unmapped all as it stopped). */
    ck_assert_int_eq(xf_gnttab_reclaim(gt), 0);

    /* What crossed before QEMU stopped arrived whole and in order, each
     * way (a frame QEMU took but had not passed on is lost with it). */
    peer_drain();
    {
        unsigned int next = 0, n = 0;
        struct frame *r;

        while ((r = fifo_peek(&peer_rx)) != NULL) {
            unsigned int seq = hp_get16(r->data + 16);

            ck_assert_msg(seq >= next && seq < burst && done_status[seq] == 0,
                          "peer got frame %u (after %u)", seq, next);
            check_test_frame(r, peer_mac, guest_mac, seq, HP_MIN_FRAME + (seq * 37) % NSIZES);
            next = seq + 1;
            n++;
            fifo_pop(&peer_rx);
        }
        fprintf(stderr, "# of which the peer received %u\n", n);
        next = 0;
        while ((r = fifo_peek(&guest_rx)) != NULL) {
            unsigned int seq = hp_get16(r->data + 16);

            ck_assert_msg(seq >= next && seq % 4 == 0 && seq < burst, "guest got frame %u", seq);
            check_test_frame(r, guest_mac, peer_mac, seq, 1000);
            next = seq + 1;
            fifo_pop(&guest_rx);
        }
    }

    /* A new QEMU: it writes the device's directories again; netfront
     * reconnects (from the Connected it could not overwrite: the
     * directory had gone) and carries traffic. */
    start_qemu();
    connect_and_check();
    guest_asks_peer(0x6161);
    every_size_peer_to_guest();
    no_drops();
    world_down();
}
END_TEST

int main(void)
{
    Suite *s = suite_create("hostpeers-netfront");
    TCase *tc = tcase_create("qemu10-xen-net-device");

    tcase_set_timeout(tc, 120);
    tcase_add_checked_fixture(tc, NULL, after_test);
    tcase_add_test(tc, qemu_net_arp_and_ping_both_ways);
    tcase_add_test(tc, qemu_net_every_size_both_ways);
    tcase_add_test(tc, qemu_net_stopped_mid_traffic_then_restarted);
    suite_add_tcase(s, tc);
    return xf_check_run(s);
}
