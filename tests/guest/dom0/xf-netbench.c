/*
 * The network benchmark's traffic program (scripts/bench-guest.sh), the same
 * binary in dom0 and in the Linux domU:
 *
 *   xf-netbench send IFACE DSTMAC SIZE SECS [batch=N] [gso]
 *   xf-netbench recv IFACE SECS
 *
 * send: frames of SIZE bytes (EtherType 0x88B5, or with "gso" one TCP/IPv4
 * frame of SIZE bytes handed to the kernel as a GSO packet of 1448-byte
 * segments through PACKET_VNET_HDR, checksum to be filled in, as the test
 * kernel sends them) on an AF_PACKET socket, as fast as the socket takes
 * them, for SECS seconds: one send() per frame (the guests' senders, as the
 * test kernel makes one call per frame), or N frames per sendmmsg() (dom0's
 * sender toward a receiving guest: see dom0/xf-bench-mon.c). recv: count the frames of ours that arrive for
 * SECS seconds. Each prints one line ("# netbench send|recv ..."). The
 * figures that count are taken elsewhere (dom0's monitor reads netback's
 * interface counters); these are for the log. Exits 0, or 1 when the
 * socket cannot be set up.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <linux/if_packet.h>
#include <linux/virtio_net.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <poll.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "../kernel/frame.h"

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static int open_socket(const char *ifname, bool vnet)
{
    unsigned idx = if_nametoindex(ifname);
    if (idx == 0) {
        fprintf(stderr, "xf-netbench: no interface %s\n", ifname);
        return -1;
    }
    int fd = socket(AF_PACKET, SOCK_RAW, htons(ETH_P_ALL));
    int one = 1;
    if (fd < 0 || (vnet && setsockopt(fd, SOL_PACKET, PACKET_VNET_HDR, &one, sizeof(one)) != 0)) {
        fprintf(stderr, "xf-netbench: packet socket: %s\n", strerror(errno));
        return -1;
    }
    int big = 4 << 20;
    (void)setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &big, sizeof(big));
    /* A sender blocked on a full queue wakes up to look at the clock. */
    struct timeval tv = { .tv_sec = 0, .tv_usec = 100000 };
    (void)setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
    struct sockaddr_ll sll = { .sll_family = AF_PACKET, .sll_protocol = htons(ETH_P_ALL),
                               .sll_ifindex = (int)idx };
    if (bind(fd, (struct sockaddr *)&sll, sizeof(sll)) != 0) {
        fprintf(stderr, "xf-netbench: bind %s: %s\n", ifname, strerror(errno));
        close(fd);
        return -1;
    }
    return fd;
}

static int do_send(const char *ifname, const char *dst, unsigned size, double secs, bool gso,
                   unsigned batch)
{
    static uint8_t buf[sizeof(struct virtio_net_hdr) + 65536];
    uint8_t mac[6];
    if (sscanf(dst, "%hhx:%hhx:%hhx:%hhx:%hhx:%hhx", &mac[0], &mac[1], &mac[2], &mac[3],
               &mac[4], &mac[5]) != 6 || size < 60 || size > 65535 || (gso && size < 1502)) {
        fprintf(stderr, "xf-netbench: bad mac %s or size %u\n", dst, size);
        return 2;
    }
    int fd = open_socket(ifname, gso);
    if (fd < 0)
        return 1;
    struct virtio_net_hdr *vh = (struct virtio_net_hdr *)buf;
    uint8_t *f = gso ? buf + sizeof(*vh) : buf;
    /* A locally administered source; nobody checks it. */
    static const uint8_t src[6] = { 0x02, 0x02, 0x02, 0x02, 0x02, 0x02 };
    for (unsigned i = 14; i < size; i++)
        f[i] = (uint8_t)(i * 7);
    if (!gso) {
        memcpy(f, mac, 6);
        memcpy(f + 6, src, 6);
        xff_put16(f + 12, 0x88b5);
    } else {
        xff_tcp4_headers(f, size, mac, src, 0, 40000, 0);
        memset(vh, 0, sizeof(*vh));
        vh->flags = VIRTIO_NET_HDR_F_NEEDS_CSUM;
        vh->gso_type = VIRTIO_NET_HDR_GSO_TCPV4;
        vh->hdr_len = XFF_TCP4_HLEN;
        vh->gso_size = 1448;
        vh->csum_start = 34;
        vh->csum_offset = 16;
    }
    size_t n = gso ? sizeof(*vh) + size : size;
    unsigned long frames = 0, refused = 0;
    double t0 = now_s(), end = t0 + secs;
    static struct mmsghdr mm[64];
    static struct iovec iov;
    iov.iov_base = buf;
    iov.iov_len = n;
    if (batch > 64)
        batch = 64;
    for (unsigned i = 0; i < batch; i++)
        mm[i].msg_hdr = (struct msghdr){ .msg_iov = &iov, .msg_iovlen = 1 };
    /* The clock is read every 16 frames: a system call per frame is the
     * cost being measured, a second one would be noise. */
    for (unsigned i = 0;; i++) {
        if ((batch > 1 || (i & 15) == 0) && now_s() >= end)
            break;
        if (batch > 1) {
            int r = sendmmsg(fd, mm, batch, 0);
            if (r > 0)
                frames += (unsigned long)r;
            if (r < (int)batch)
                refused++;
        } else if (send(fd, buf, n, 0) == (ssize_t)n) {
            frames++;
        } else {
            refused++;     /* ENOBUFS (a full queue dropped it) or the timeout */
        }
    }
    double t = now_s() - t0;
    printf("# netbench send %s %u%s: %lu frames in %.2f s (%.0f/s), %lu refused\n", ifname, size,
           gso ? " gso" : "", frames, t, frames / t, refused);
    close(fd);
    return 0;
}

static int do_recv(const char *ifname, double secs)
{
    static uint8_t buf[65536 + 256];
    int fd = open_socket(ifname, false);
    if (fd < 0)
        return 1;
    unsigned long frames = 0, bytes = 0;
    double t0 = now_s(), end = t0 + secs;
    for (;;) {
        double left = end - now_s();
        if (left <= 0)
            break;
        struct pollfd p = { .fd = fd, .events = POLLIN };
        if (poll(&p, 1, (int)(left * 1000) + 1) <= 0)
            continue;
        /* Drain what is there before looking at the clock again. */
        for (;;) {
            struct sockaddr_ll from;
            socklen_t fl = sizeof(from);
            ssize_t r = recvfrom(fd, buf, sizeof(buf), MSG_DONTWAIT | MSG_TRUNC,
                                 (struct sockaddr *)&from, &fl);
            if (r < 0)
                break;
            if (from.sll_pkttype == PACKET_OUTGOING || r < 14)
                continue;
            unsigned type = (unsigned)buf[12] << 8 | buf[13];
            if (type == 0x88b5 || type == 0x0800) {
                frames++;
                bytes += (unsigned long)r;
            }
        }
    }
    printf("# netbench recv %s: %lu frames %lu bytes in %.2f s\n", ifname, frames, bytes,
           now_s() - t0);
    close(fd);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc >= 6 && !strcmp(argv[1], "send")) {
        bool gso = false;
        unsigned batch = 1;
        for (int i = 6; i < argc; i++) {
            if (!strcmp(argv[i], "gso"))
                gso = true;
            else if (!strncmp(argv[i], "batch=", 6))
                batch = (unsigned)strtoul(argv[i] + 6, NULL, 10);
        }
        return do_send(argv[2], argv[3], (unsigned)strtoul(argv[4], NULL, 10), atof(argv[5]),
                       gso, batch ? batch : 1);
    }
    if (argc == 4 && !strcmp(argv[1], "recv"))
        return do_recv(argv[2], atof(argv[3]));
    fprintf(stderr, "usage: xf-netbench send IFACE DSTMAC SIZE SECS [batch=N] [gso]\n"
                    "       xf-netbench recv IFACE SECS\n");
    return 2;
}
