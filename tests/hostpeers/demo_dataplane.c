/*
 * The data plane against real back ends, narrated: this process is the
 * guest. Its disk is a raw image served by QEMU 7.2's xen-block (Debian's
 * qemu-system-xen, unmodified) and its network interface is served by
 * QEMU 10's xen-net-device (bookworm-backports), both run on this host as
 * dom0 of the simulator through the preloaded shim, with Debian's
 * xenstored. The guest reads and writes the disk with blkfront and dom0
 * reads the image file to show the bytes landed; then the far end of the
 * NIC's wire (a unix datagram socket of this process) pings the guest,
 * which answers ARP and ICMP echo through netfront.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <xenstore.h>
#include <xenfront/blkfront.h>
#include <xenfront/errno.h>
#include <xenfront/evtchn.h>
#include <xenfront/gnttab.h>
#include <xenfront/netfront.h>
#include <xenfront/xenbus.h>

#include "hp.h"
#include "hp_net.h"

#ifndef XF_QEMU10_DIR_DEFAULT
#error "XF_QEMU10_DIR_DEFAULT: where scripts/fetch-qemu10.sh puts QEMU 10"
#endif

#define SOON(ms) (xf_plat_now_ns() + (uint64_t)(ms) * 1000000u)
#define DISK_BYTES (8u << 20)
#define DEVID 51712                     /* xvda */

static struct hp hp;
static const char *why = "";

static void upcall(void *arg, unsigned int vcpu)
{
    (void)vcpu;
    xf_evtchn_dispatch(arg, 0);
}

static int fail(const char *what, int rc)
{
    fprintf(stderr, "demo: %s failed: %d (%s)\n", what, rc, why);
    hp_cleanup_failed();
    return 1;
}

/* ------------------------------------------------------------------ disk */

struct done {
    int status;
    bool fired;
};

static void on_done(struct xf_blkfront *b, struct xf_blkfront_io *io, int status, void *arg)
{
    struct done *d = arg;

    (void)b;
    (void)io;
    d->status = status;
    d->fired = true;
}

/* One I/O, waited for (polled, and serviced when the back end moves). */
static int io_sync(struct xf_blkfront *bf, uint32_t op, uint64_t sector, void *buf, size_t len)
{
    struct xf_blkfront_iov iov = { buf, len };
    struct done d = { 0, false };
    struct xf_blkfront_io io = { .op = op, .sector = sector, .iov = &iov,
                                 .nr_iov = buf != NULL ? 1 : 0, .done = on_done, .arg = &d };
    uint64_t end = SOON(10000);
    int rc = xf_blkfront_submit(bf, &io);

    if (rc < 0)
        return rc;
    while (!d.fired) {
        if (xf_plat_now_ns() >= end)
            return -XF_ETIMEDOUT;   /* io stays the library's: we exit */
        (void)xf_blkfront_poll(bf);
        if (xf_blkfront_needs_service(bf))
            (void)xf_blkfront_service(bf, SOON(2000));
        (void)xf_plat_wait(SOON(2));
    }
    return d.status;
}

static int disk_part(struct xf_xenbus *xb, struct xf_evtchn *ec, struct xf_gnttab *gt)
{
    static const char dom0_text[] = "written by dom0 into the image file before the guest ran";
    static const char guest_text[] = "and this sentence was written by the guest, via blkfront";
    char img[4200];
    unsigned char *buf = xf_plat_page_alloc(16), *check = malloc(65536);
    struct xf_blkfront *bf = NULL;
    struct xf_blkfront_info in;
    struct xf_blkfront_stats st;
    int fd, rc;

    if (buf == NULL || check == NULL)
        return fail("allocating buffers", -XF_ENOMEM);
    snprintf(img, sizeof(img), "%s/disk.img", hp.dir);
    fd = open(img, O_RDWR | O_CREAT | O_TRUNC, 0600);
    if (fd < 0 || ftruncate(fd, DISK_BYTES) != 0 ||
        pwrite(fd, dom0_text, sizeof(dom0_text), 0) != (ssize_t)sizeof(dom0_text))
        return fail("creating the disk image", -errno);
    close(fd);
    printf("dom0 made an 8 MiB raw image %s and wrote at its start:\n    \"%s\"\n", img,
           dom0_text);
    if ((rc = hp_add_qdisk(&hp, DEVID, img, true)) < 0)
        return fail("toolstack: adding the qdisk", rc);
    if ((rc = hp_start_qemu(&hp, NULL, &why)) < 0)
        return fail("starting QEMU 7.2", rc);
    printf("The toolstack wrote device/vbd/%u and backend/qdisk/%u/%u (as libxl does);\n"
           "QEMU 7.2 (pid %d) is its block back end, unmodified.\n",
           DEVID, hp.domid, DEVID, (int)hp.qemu.pid);

    if ((rc = xf_blkfront_open(&bf, xb, ec, gt, "51712", NULL, SOON(20000))) < 0)
        return fail("xf_blkfront_open", rc);
    xf_blkfront_get_info(bf, &in);
    printf("guest: blkfront connected: %llu sectors of %u bytes, %u ring page(s) (%u slots), "
           "%u segments per request,\n       flush %s, discard %s, persistent grants %s\n",
           (unsigned long long)in.sectors, in.sector_size, 1u << in.ring_order,
           in.ring_entries, in.max_segments, in.flush ? "yes" : "no",
           in.discard ? "yes" : "no", in.persistent ? "yes" : "no");

    if ((rc = io_sync(bf, XF_BLKFRONT_READ, 0, buf, 512)) < 0)
        return fail("reading sector 0", rc);
    printf("guest: read sector 0: \"%.*s\"\n", (int)strnlen((char *)buf, 80), (char *)buf);
    if (memcmp(buf, dom0_text, sizeof(dom0_text)) != 0)
        return fail("sector 0 holds what dom0 wrote", -XF_EIO);

    memset(buf, 0, 512);
    memcpy(buf, guest_text, sizeof(guest_text));
    if ((rc = io_sync(bf, XF_BLKFRONT_WRITE, 1, buf, 512)) < 0)
        return fail("writing sector 1", rc);
    for (size_t i = 0; i < 65536; i++)
        buf[i] = (unsigned char)(i * 7 + (i >> 9));
    if ((rc = io_sync(bf, XF_BLKFRONT_WRITE, 2048, buf, 65536)) < 0 ||
        (rc = io_sync(bf, XF_BLKFRONT_FLUSH, 0, NULL, 0)) < 0)
        return fail("writing 64 KiB at 1 MiB and flushing", rc);
    printf("guest: wrote its sentence to sector 1 and 64 KiB of pattern at 1 MiB, then "
           "flushed\n");

    fd = open(img, O_RDONLY);
    if (fd < 0 || pread(fd, check, 512, 512) != 512)
        return fail("dom0 reading the image", -errno);
    printf("dom0: the image file at byte 512 now reads \"%s\"\n", (char *)check);
    if (memcmp(check, guest_text, sizeof(guest_text)) != 0 ||
        pread(fd, check, 65536, 1u << 20) != 65536 || memcmp(check, buf, 65536) != 0)
        return fail("the image holds what the guest wrote", -XF_EIO);
    close(fd);
    printf("dom0: and the 64 KiB at 1 MiB match the guest's pattern byte for byte\n");

    if (in.discard) {
        struct done d = { 0, false };
        struct xf_blkfront_io io = { .op = XF_BLKFRONT_DISCARD, .sector = 2048,
                                     .nr_sectors = 128, .done = on_done, .arg = &d };

        if ((rc = xf_blkfront_submit(bf, &io)) < 0)
            return fail("discard", rc);
        for (uint64_t end = SOON(10000); !d.fired && xf_plat_now_ns() < end;)
            if (xf_blkfront_poll(bf) == 0)
                (void)xf_plat_wait(SOON(2));
        if (!d.fired || d.status < 0)
            return fail("discard completing", d.fired ? d.status : -XF_ETIMEDOUT);
        printf("guest: discarded those 64 KiB (QEMU punches a hole in the file)\n");
    }
    (void)xf_blkfront_get_stats(bf, 0, &st);
    printf("guest: %llu reads, %llu writes, %llu flushes, %llu discards; %llu notifications "
           "sent, %llu events taken\n",
           (unsigned long long)st.rd_req, (unsigned long long)st.wr_req,
           (unsigned long long)st.flush_req, (unsigned long long)st.discard_req,
           (unsigned long long)st.notify, (unsigned long long)st.events);
    if ((rc = xf_blkfront_close(bf, SOON(10000))) < 0)
        return fail("xf_blkfront_close", rc);
    hp_stop_daemon(&hp.qemu, 5000);
    /* QEMU let go of the ring when it saw Closed; grants it still maps
     * are ended when it unmaps (deferred), reclaimed here. */
    for (uint64_t end = SOON(5000); xf_gnttab_reclaim(gt) != 0 && xf_plat_now_ns() < end;)
        (void)xf_plat_wait(SOON(5));
    printf("guest: closed the disk; QEMU 7.2 stopped.\n\n");
    xf_plat_page_free(buf, 16);
    free(check);
    return 0;
}

/* --------------------------------------------------------------- network */

static const uint8_t guest_mac[6] = { 0x00, 0x16, 0x3e, 0x00, 0x00, 0x05 };
static const uint8_t wire_mac[6] = { 0x02, 0x00, 0x00, 0x00, 0x00, 0x01 };
static const uint8_t guest_ip[4] = { 192, 168, 77, 2 };
static const uint8_t wire_ip[4] = { 192, 168, 77, 1 };

/* The last frame netfront delivered (the guest answers from the main
 * flow, not from the rx callback). */
static unsigned char rx_frame[2048];
static size_t rx_len;
static unsigned int tx_done, tx_failed;

static bool on_rx(struct xf_netfront *n, const struct xf_netfront_rx_pkt *p, void *arg)
{
    size_t pos = 0;

    (void)n;
    (void)arg;
    for (unsigned int i = 0; i < p->nfrags && pos + p->frags[i].len <= sizeof(rx_frame); i++) {
        memcpy(rx_frame + pos, p->frags[i].data, p->frags[i].len);
        pos += p->frags[i].len;
    }
    rx_len = pos;
    return false;
}

static void on_tx_done(struct xf_netfront *n, unsigned int q, void *cookie, int status,
                       void *arg)
{
    (void)n;
    (void)q;
    (void)cookie;
    (void)arg;
    tx_done++;
    tx_failed += status != 0;
}

/* The guest's whole IP stack: answer what was delivered, if it asks. */
static int guest_answer(struct xf_netfront *nf)
{
    unsigned char out[2048 + 64];
    size_t n = hp_respond(rx_frame, rx_len, guest_mac, guest_ip, out);
    struct xf_netfront_frag fr = { .data = out, .len = (uint32_t)n };
    struct xf_netfront_tx tx = { .frags = &fr, .nfrags = 1 };

    rx_len = 0;
    return n == 0 ? 0 : xf_netfront_send(nf, 0, &tx);
}

/* Wait for the wire to receive a frame (the guest answering on the way). */
static ssize_t wire_recv(int fd, struct xf_netfront *nf, unsigned char *buf, size_t cap)
{
    for (uint64_t end = SOON(5000); xf_plat_now_ns() < end;) {
        ssize_t n = recv(fd, buf, cap, MSG_DONTWAIT);
        int rc;

        if (n > 0)
            return n;
        (void)xf_netfront_poll(nf);
        if (rx_len > 0 && (rc = guest_answer(nf)) < 0)
            return rc;
        (void)xf_plat_wait(SOON(1));
    }
    return -XF_ETIMEDOUT;
}

static int net_part(struct xf_xenbus *xb, struct xf_evtchn *ec, struct xf_gnttab *gt)
{
    const char *q10 = getenv("XF_QEMU10_DIR");
    char wire_path[4200], qemu_path[4200], netdev[9000], device[128], dm[64];
    const char *extra[] = { "-netdev", netdev, "-device", device, NULL };
    struct sockaddr_un sa = { .sun_family = AF_UNIX }, qsa = { .sun_family = AF_UNIX };
    const struct xf_netfront_config cfg = { .tx_done = on_tx_done, .rx = on_rx };
    static unsigned char req[2048], got[65536];
    struct xf_netfront *nf = NULL;
    struct xf_netfront_info in;
    int fd, rc;
    ssize_t n;

    snprintf(wire_path, sizeof(wire_path), "%s/wire.sock", hp.dir);
    snprintf(qemu_path, sizeof(qemu_path), "%s/qemu-net.sock", hp.dir);
    if (strlen(wire_path) >= sizeof(sa.sun_path) || strlen(qemu_path) >= sizeof(qsa.sun_path))
        return fail("socket paths", -XF_ENAMETOOLONG);
    strcpy(sa.sun_path, wire_path);
    strcpy(qsa.sun_path, qemu_path);
    fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0)
        return fail("the wire's socket", -errno);
    snprintf(netdev, sizeof(netdev),
             "dgram,id=n0,local.type=unix,local.path=%s,remote.type=unix,remote.path=%s",
             qemu_path, wire_path);
    snprintf(device, sizeof(device),
             "xen-net-device,netdev=n0,mac=%02x:%02x:%02x:%02x:%02x:%02x,idx=0", guest_mac[0],
             guest_mac[1], guest_mac[2], guest_mac[3], guest_mac[4], guest_mac[5]);
    /* The first QEMU's "running" must not be taken for the new one's. */
    snprintf(dm, sizeof(dm), "/local/domain/0/device-model/%u", hp.domid);
    (void)xs_rm(hp.xs, XBT_NULL, dm);
    rc = hp_start_qemu_from(&hp, q10 != NULL && *q10 ? q10 : XF_QEMU10_DIR_DEFAULT, extra,
                            &why);
    if (rc < 0)
        return fail("starting QEMU 10", rc);
    printf("QEMU 10 (pid %d) is the guest's network back end (xen-net-device); its wire is a\n"
           "unix datagram socket whose far end is this program.\n", (int)hp.qemu.pid);

    if ((rc = xf_netfront_create(&nf, xb, ec, gt, &cfg, SOON(10000))) < 0 ||
        (rc = xf_netfront_connect(nf, SOON(20000))) < 0 || (rc = xf_netfront_info(nf, &in)) < 0)
        return fail("netfront connecting", rc);
    printf("guest: netfront connected: MAC %02x:%02x:%02x:%02x:%02x:%02x, %u queue(s), "
           "mtu %u, sg %s, gso %s\n",
           in.mac[0], in.mac[1], in.mac[2], in.mac[3], in.mac[4], in.mac[5], in.nr_queues,
           in.mtu, in.sg ? "yes" : "no", in.gso_tcpv4 ? "yes" : "no");

    n = (ssize_t)hp_arp_request(req, wire_mac, wire_ip, guest_ip);
    if (sendto(fd, req, (size_t)n, 0, (struct sockaddr *)&qsa, sizeof(qsa)) != n)
        return fail("the wire sending ARP", -errno);
    if ((n = wire_recv(fd, nf, got, sizeof(got))) < HP_MIN_FRAME ||
        hp_get16(got + 12) != HP_ET_ARP || memcmp(got + 22, guest_mac, 6) != 0)
        return fail("the guest answering ARP", n < 0 ? (int)n : -XF_EPROTO);
    printf("wire: who-has 192.168.77.2? -> the guest answered: is-at "
           "%02x:%02x:%02x:%02x:%02x:%02x\n",
           got[22], got[23], got[24], got[25], got[26], got[27]);

    for (unsigned int seq = 1; seq <= 4; seq++) {
        size_t len = hp_icmp_echo(req, guest_mac, wire_mac, wire_ip, guest_ip, 0x7866, seq,
                                  56 * seq);
        uint64_t t0 = xf_plat_now_ns();

        if (sendto(fd, req, len, 0, (struct sockaddr *)&qsa, sizeof(qsa)) != (ssize_t)len)
            return fail("the wire sending an echo request", -errno);
        if ((n = wire_recv(fd, nf, got, sizeof(got))) < (ssize_t)len ||
            hp_get16(got + 12) != HP_ET_IP || got[HP_ETH_HLEN + 20] != 0 ||
            hp_csum(got + HP_ETH_HLEN + 20, 8 + 56 * seq) != 0 ||
            memcmp(got + HP_ETH_HLEN + 28, req + HP_ETH_HLEN + 28, 56 * seq) != 0)
            return fail("the guest answering ping", n < 0 ? (int)n : -XF_EPROTO);
        printf("wire: %zu bytes from 192.168.77.2: icmp_seq=%u time=%.2f ms (payload checked)\n",
               (size_t)(8 + 56 * seq), seq, (double)(xf_plat_now_ns() - t0) / 1e6);
    }
    for (uint64_t end = SOON(2000); tx_done < 5 && xf_plat_now_ns() < end;)
        if (xf_netfront_poll(nf) <= 0)
            (void)xf_plat_wait(SOON(1));
    printf("guest: %u frames sent through netfront, %u failed\n", tx_done, tx_failed);
    if ((rc = xf_netfront_destroy(nf, SOON(10000))) < 0)
        return fail("xf_netfront_destroy", rc);
    hp_stop_daemon(&hp.qemu, 5000);
    for (uint64_t end = SOON(5000); xf_gnttab_reclaim(gt) != 0 && xf_plat_now_ns() < end;)
        (void)xf_plat_wait(SOON(5));
    close(fd);
    printf("guest: the interface closed; QEMU 10 stopped.\n");
    return 0;
}

int main(void)
{
    struct xf_evtchn *ec = NULL;
    struct xf_xenbus *xb = NULL;
    struct xf_gnttab *gt = NULL;
    uint64_t pfn;
    evtchn_port_t port;
    int rc;

    printf("== The data plane against QEMU's real back ends ==\n");
    if ((rc = hp_up(&hp, &why)) < 0 || (rc = hp_start_xenstored(&hp, &why)) < 0 ||
        (rc = hp_introduce(&hp, NULL, &why)) < 0)
        return fail("starting xenstored", rc);
    if ((rc = xf_evtchn_create(&ec, NULL)) < 0)
        return fail("xf_evtchn_create", rc);
    xf_sim_set_upcall_handler(hp.sim, hp.domid, upcall, ec);
    if ((rc = xf_evtchn_upcall_setup(ec, XF_EVTCHN_UPCALL_AUTO, 0xf3)) < 0 ||
        (rc = xf_xenbus_hvm_store(&pfn, &port)) < 0 ||
        (rc = xf_xenbus_create_ring(&xb, NULL, ec, xf_sim_gfn_to_va(hp.sim, hp.domid, pfn),
                                    port)) < 0 ||
        (rc = xf_gnttab_create(&gt, NULL)) < 0)
        return fail("guest set-up", rc);
    printf("xenstored (pid %d) runs as dom0 of the simulator; the guest (domain %u) has its\n"
           "xenstore ring, event channels and grant table.\n\n",
           (int)hp.xenstored.pid, hp.domid);
    if ((rc = disk_part(xb, ec, gt)) != 0 || (rc = net_part(xb, ec, gt)) != 0)
        return rc;
    if ((rc = xf_gnttab_destroy(gt)) < 0)
        return fail("xf_gnttab_destroy (grants still in use)", rc);
    xf_xenbus_destroy(xb);
    xf_evtchn_destroy(ec);
    hp_down(&hp);
    printf("\nEverything stopped; the private directory removed.\n");
    return 0;
}
