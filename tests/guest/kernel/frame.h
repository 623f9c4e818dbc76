/*
 * Frame building shared by the test kernel (net.c, bench.c) and the
 * benchmark's traffic program (dom0/xf-netbench.c), so that both guests'
 * senders put the same bytes on the wire: big-endian fields, the IPv4
 * header checksum, and the headers of the TCP/IPv4 frames the GSO cases
 * send. Header-only, freestanding (no libc).
 */
#ifndef XF_GUEST_FRAME_H
#define XF_GUEST_FRAME_H

#include <stdint.h>

static inline void xff_put16(uint8_t *p, unsigned v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}

static inline unsigned xff_get16(const uint8_t *p)
{
    return (unsigned)p[0] << 8 | p[1];
}

static inline void xff_put32(uint8_t *p, uint32_t v)
{
    xff_put16(p, v >> 16);
    xff_put16(p + 2, v & 0xffff);
}

static inline uint32_t xff_get32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* The Internet checksum of len bytes. */
static inline uint16_t xff_ip_csum(const uint8_t *p, uint32_t len)
{
    uint32_t s = 0;
    for (uint32_t i = 0; i + 1 < len; i += 2)
        s += xff_get16(p + i);
    if (len & 1)
        s += (uint32_t)p[len - 1] << 8;
    while (s >> 16)
        s = (s & 0xffff) + (s >> 16);
    return (uint16_t)~s;
}

#define XFF_TCP4_HLEN 54u   /* Ethernet 14 + IPv4 20 + TCP 20 */

/*
 * The 54 bytes of headers of a len-byte TCP/IPv4 frame from src to dst,
 * 10.99.0.2 -> 10.99.0.1 (no address of dom0's: its stack drops them),
 * destination port 0x88B5, PSH+ACK, with the TCP checksum left to be
 * filled in: the pseudo-header sum, as a stack leaves it for offload
 * (NETTXF_csum_blank, VIRTIO_NET_HDR_F_NEEDS_CSUM at 34 + 16).
 */
static inline void xff_tcp4_headers(uint8_t *f, uint32_t len, const uint8_t dst[6],
                                    const uint8_t src[6], uint16_t ip_id, uint16_t sport,
                                    uint32_t tcp_seq)
{
    uint8_t *ip = f + 14, *tcp = f + 34;
    for (unsigned i = 0; i < 6; i++) {
        f[i] = dst[i];
        f[6 + i] = src[i];
    }
    xff_put16(f + 12, 0x0800);
    for (unsigned i = 0; i < 40; i++)
        ip[i] = 0;
    ip[0] = 0x45;
    xff_put16(ip + 2, len - 14);
    xff_put16(ip + 4, ip_id);
    ip[8] = 64;
    ip[9] = 6;
    ip[12] = 10, ip[13] = 99, ip[14] = 0, ip[15] = 2;
    ip[16] = 10, ip[17] = 99, ip[18] = 0, ip[19] = 1;
    xff_put16(ip + 10, xff_ip_csum(ip, 20));
    xff_put16(tcp, sport);
    xff_put16(tcp + 2, 0x88b5);
    xff_put32(tcp + 4, tcp_seq);
    tcp[12] = 5 << 4;
    tcp[13] = 0x18;
    xff_put16(tcp + 14, 65535);
    uint32_t ps = (10u << 8 | 99) * 2 + 2 + 1 + 6 + (len - 34);
    while (ps >> 16)
        ps = (ps & 0xffff) + (ps >> 16);
    xff_put16(tcp + 16, ps);
}

#endif
