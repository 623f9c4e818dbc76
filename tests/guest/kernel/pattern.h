/*
 * The data pattern of the disk and network cases, shared by the test kernel
 * and the dom0 peer (dom0/xf-peer.c) so each side can check the other's
 * bytes: byte `off` of a stream (a disk's byte offset, a frame's) under a
 * seed. Every 8-byte word differs, so a misplaced sector or fragment shows.
 * Seed 0 is all zeros (a discarded range).
 */
#ifndef XF_GUEST_PATTERN_H
#define XF_GUEST_PATTERN_H

#include <stddef.h>
#include <stdint.h>

static inline uint64_t xfp_word(uint64_t seed, uint64_t word)
{
    if (seed == 0)
        return 0;
    uint64_t z = seed * 0x9e3779b97f4a7c15ull + word * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

static inline void xfp_fill(void *buf, uint64_t off, size_t len, uint64_t seed)
{
    uint8_t *p = buf;
    uint64_t w = xfp_word(seed, off >> 3);
    for (size_t i = 0; i < len; i++) {
        uint64_t o = off + i;
        if ((o & 7) == 0)
            w = xfp_word(seed, o >> 3);
        p[i] = (uint8_t)(w >> ((o & 7) * 8));
    }
}

/* Index of the first byte that differs from the pattern, or len. */
static inline size_t xfp_check(const void *buf, uint64_t off, size_t len, uint64_t seed)
{
    const uint8_t *p = buf;
    uint64_t w = xfp_word(seed, off >> 3);
    for (size_t i = 0; i < len; i++) {
        uint64_t o = off + i;
        if ((o & 7) == 0)
            w = xfp_word(seed, o >> 3);
        if (p[i] != (uint8_t)(w >> ((o & 7) * 8)))
            return i;
    }
    return len;
}

#endif
