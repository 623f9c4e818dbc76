/* Frame building and answering for the hostpeers net tests and demo
 * (hp_net.h). */
#include "hp_net.h"

#include <string.h>

static const uint8_t bcast[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };

void hp_put16(unsigned char *p, unsigned int v)
{
    p[0] = (unsigned char)(v >> 8);
    p[1] = (unsigned char)v;
}

unsigned int hp_get16(const unsigned char *p)
{
    return (unsigned int)p[0] << 8 | p[1];
}

unsigned int hp_csum(const unsigned char *p, size_t n)
{
    uint32_t s = 0;

    for (size_t i = 0; i + 1 < n; i += 2)
        s += hp_get16(p + i);
    if (n & 1)
        s += (uint32_t)p[n - 1] << 8;
    while (s >> 16)
        s = (s & 0xffff) + (s >> 16);
    return ~s & 0xffff;
}

size_t hp_eth(unsigned char *f, const uint8_t *dst, const uint8_t *src, unsigned int type)
{
    memcpy(f, dst, 6);
    memcpy(f + 6, src, 6);
    hp_put16(f + 12, type);
    return HP_ETH_HLEN;
}

/* An ARP request, padded to the minimum frame. */
size_t hp_arp_request(unsigned char *f, const uint8_t *smac, const uint8_t *sip,
                      const uint8_t *tip)
{
    unsigned char *a = f + hp_eth(f, bcast, smac, HP_ET_ARP);

    memset(a, 0, HP_MIN_FRAME - HP_ETH_HLEN);
    hp_put16(a, 1);                         /* Ethernet */
    hp_put16(a + 2, HP_ET_IP);
    a[4] = 6;
    a[5] = 4;
    hp_put16(a + 6, 1);                     /* request */
    memcpy(a + 8, smac, 6);
    memcpy(a + 14, sip, 4);
    memcpy(a + 24, tip, 4);
    return HP_MIN_FRAME;
}

/* An ICMP echo request with len bytes of patterned payload. */
size_t hp_icmp_echo(unsigned char *f, const uint8_t *dmac, const uint8_t *smac,
                    const uint8_t *sip, const uint8_t *dip, unsigned int id, unsigned int seq,
                    size_t plen)
{
    unsigned char *ip = f + hp_eth(f, dmac, smac, HP_ET_IP), *ic = ip + 20;
    size_t tot = 20 + 8 + plen;

    memset(ip, 0, 20);
    ip[0] = 0x45;
    hp_put16(ip + 2, (unsigned int)tot);
    hp_put16(ip + 4, seq);
    ip[8] = 64;
    ip[9] = 1;                           /* ICMP */
    memcpy(ip + 12, sip, 4);
    memcpy(ip + 16, dip, 4);
    hp_put16(ip + 10, hp_csum(ip, 20));
    ic[0] = 8;
    ic[1] = 0;
    hp_put16(ic + 2, 0);
    hp_put16(ic + 4, id);
    hp_put16(ic + 6, seq);
    for (size_t i = 0; i < plen; i++)
        ic[8 + i] = (unsigned char)(seq + i * 3);
    hp_put16(ic + 2, hp_csum(ic, 8 + plen));
    tot += HP_ETH_HLEN;
    if (tot < HP_MIN_FRAME) {
        memset(f + tot, 0, HP_MIN_FRAME - tot);
        tot = HP_MIN_FRAME;
    }
    return tot;
}

/*
 * A host's answer to f (ARP request for my_ip, or ICMP echo request to
 * my_ip) into out: its length, or 0 if f asks nothing of us. Checks what
 * it answers as a host would (lengths, the IP header checksum).
 */
size_t hp_respond(const unsigned char *d, size_t len, const uint8_t *my_mac,
                  const uint8_t *my_ip, unsigned char *out)
{

    if (len < HP_ETH_HLEN)
        return 0;
    if (hp_get16(d + 12) == HP_ET_ARP && len >= HP_ETH_HLEN + 28) {
        const unsigned char *a = d + HP_ETH_HLEN;
        unsigned char *r;

        if (hp_get16(a + 6) != 1 || memcmp(a + 24, my_ip, 4) != 0)
            return 0;
        r = out + hp_eth(out, a + 8, my_mac, HP_ET_ARP);
        memset(r, 0, HP_MIN_FRAME - HP_ETH_HLEN);
        memcpy(r, a, 6);                 /* htype, ptype, hlen, plen */
        hp_put16(r + 6, 2);                 /* reply */
        memcpy(r + 8, my_mac, 6);
        memcpy(r + 14, my_ip, 4);
        memcpy(r + 18, a + 8, 6);
        memcpy(r + 24, a + 14, 4);
        return HP_MIN_FRAME;
    }
    if (hp_get16(d + 12) == HP_ET_IP && len >= HP_ETH_HLEN + 28) {
        const unsigned char *ip = d + HP_ETH_HLEN;
        size_t tot = hp_get16(ip + 2);
        unsigned char *rip, *ric;

        if (ip[0] != 0x45 || ip[9] != 1 || memcmp(ip + 16, my_ip, 4) != 0 ||
            tot < 28 || tot > len - HP_ETH_HLEN || hp_csum(ip, 20) != 0 || ip[20] != 8)
            return 0;
        memcpy(out, d, HP_ETH_HLEN + tot);
        hp_eth(out, d + 6, my_mac, HP_ET_IP);
        rip = out + HP_ETH_HLEN;
        ric = rip + 20;
        memcpy(rip + 12, my_ip, 4);
        memcpy(rip + 16, ip + 12, 4);
        hp_put16(rip + 10, 0);
        hp_put16(rip + 10, hp_csum(rip, 20));
        ric[0] = 0;                      /* echo reply, same id, seq, data */
        hp_put16(ric + 2, 0);
        hp_put16(ric + 2, hp_csum(ric, tot - 20));
        tot += HP_ETH_HLEN;
        if (tot < HP_MIN_FRAME) {
            memset(out + tot, 0, HP_MIN_FRAME - tot);
            tot = HP_MIN_FRAME;
        }
        return tot;
    }
    return 0;
}

