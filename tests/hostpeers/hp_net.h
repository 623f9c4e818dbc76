/*
 * Ethernet, ARP and ICMP echo frames for the hostpeers net tests and the
 * data-plane demonstration: built and answered by the same code on both
 * ends of the wire (netfront's side and the far end). Plain byte
 * functions, no test framework: a caller checks what it must.
 */
#ifndef XF_HP_NET_H
#define XF_HP_NET_H

#include <stddef.h>
#include <stdint.h>

#define HP_ETH_HLEN 14
#define HP_ET_IP 0x0800
#define HP_ET_ARP 0x0806
#define HP_MIN_FRAME 60          /* without the FCS, as on the wire */

void hp_put16(unsigned char *p, unsigned int v);
unsigned int hp_get16(const unsigned char *p);
/* The Internet checksum (RFC 1071) of n bytes. */
unsigned int hp_csum(const unsigned char *p, size_t n);
/* An Ethernet header at f: its length. */
size_t hp_eth(unsigned char *f, const uint8_t *dst, const uint8_t *src, unsigned int type);
/* A broadcast ARP request from smac/sip for tip, padded: its length. */
size_t hp_arp_request(unsigned char *f, const uint8_t *smac, const uint8_t *sip,
                      const uint8_t *tip);
/* An ICMP echo request with plen bytes of patterned payload: its length. */
size_t hp_icmp_echo(unsigned char *f, const uint8_t *dmac, const uint8_t *smac,
                    const uint8_t *sip, const uint8_t *dip, unsigned int id, unsigned int seq,
                    size_t plen);
/*
 * A host's answer to the frame d[0..len) (an ARP request for my_ip, or an
 * ICMP echo request to my_ip, its lengths and IP header checksum checked)
 * written to out (room for len + 60 bytes): its length, or 0 if the frame
 * asks nothing of this host.
 */
size_t hp_respond(const unsigned char *d, size_t len, const uint8_t *my_mac,
                  const uint8_t *my_ip, unsigned char *out);

#endif
