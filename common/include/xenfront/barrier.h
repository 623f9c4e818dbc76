/*
 * xenfront/barrier.h: memory barriers and once-only accesses for memory
 * shared with another domain.
 *
 * The other side of a shared page runs on another CPU (or, in the host
 * simulator, another thread or process), so the compiler must neither cache,
 * re-read, tear nor reorder accesses to shared fields, and the CPU must not
 * reorder them where the protocol depends on order.
 *
 * XF_READ_ONCE/XF_WRITE_ONCE are for single scalar fields (indices, flags)
 * of 1, 2, 4 or 8 bytes. A value read with XF_READ_ONCE is read exactly once:
 * validate the copy, never the shared field again (the double-fetch class of
 * bugs, XSA-155). Larger records are copied out with xf_copy_from_shared().
 */
#ifndef XENFRONT_BARRIER_H
#define XENFRONT_BARRIER_H

#include <stddef.h>
#include <stdint.h>

#define XF_BARRIER() __asm__ __volatile__("" ::: "memory")

/*
 * XF_FETCHED(obj): obj (in shared memory) has just been copied; from here on
 * the compiler must treat it as changed. It must therefore have loaded the
 * copy before this point, and may not satisfy a later use of the copy by
 * reading obj again (a double fetch, the XSA-155 class). Unlike XF_BARRIER it
 * says nothing about any other memory, so a loop of single fetches keeps
 * its ring pointer, mask and index in registers. No instruction is emitted.
 */
#define XF_FETCHED(obj) __asm__ __volatile__("" : "+m"(obj))

#if defined(__x86_64__) || defined(__i386__)
/*
 * x86 is TSO: loads are not reordered with loads, nor stores with stores, so
 * rmb and wmb need only stop the compiler. Store->load reordering is real
 * and needs a full fence: a locked add to the stack is as strong as mfence
 * and cheaper (Linux does the same). Adding 0 to the word below the stack
 * pointer changes nothing, whatever lives there (red zone or interrupt frame).
 */
#if defined(__x86_64__)
#define XF_MB()  __asm__ __volatile__("lock; addl $0,-4(%%rsp)" ::: "memory", "cc")
#else
#define XF_MB()  __asm__ __volatile__("lock; addl $0,-4(%%esp)" ::: "memory", "cc")
#endif
#define XF_RMB() XF_BARRIER()
#define XF_WMB() XF_BARRIER()
#elif defined(__aarch64__)
/*
 * Arm is weakly ordered. Xen's shared pages are normal cacheable memory
 * shared in the inner shareable domain, so "ish" barriers suffice (Xen and
 * Linux use the same for their rings).
 */
#define XF_MB()  __asm__ __volatile__("dmb ish" ::: "memory")
#define XF_RMB() __asm__ __volatile__("dmb ishld" ::: "memory")
#define XF_WMB() __asm__ __volatile__("dmb ishst" ::: "memory")
#else
#error "xenfront supports x86_64 and aarch64 (and i386 for host tests)"
#endif

/* The names Xen's io/ring.h expects; xenfront/xen.h defines them before it. */
#ifndef xen_mb
#define xen_mb()  XF_MB()
#define xen_rmb() XF_RMB()
#define xen_wmb() XF_WMB()
#endif

/*
 * Once-only accesses. The volatile cast forces one access of the full width;
 * the static assertion rejects types that would tear.
 */
#define XF_ONCE_OK_(x) \
    _Static_assert(sizeof(x) == 1 || sizeof(x) == 2 || sizeof(x) == 4 || \
                   sizeof(x) == 8, "XF_*_ONCE needs a 1, 2, 4 or 8 byte scalar")

#define XF_READ_ONCE(x) __extension__({ \
    XF_ONCE_OK_(x); \
    (__typeof__(x))(*(const volatile __typeof__(x) *)&(x)); })

#define XF_WRITE_ONCE(x, v) do { \
    XF_ONCE_OK_(x); \
    *(volatile __typeof__(x) *)&(x) = (v); } while (0)

/*
 * A hint that this CPU will write the cache line at p soon: a producer asks
 * for ring lines the peer wrote last (its responses) before it writes its
 * next requests there, so the cross-CPU transfer overlaps other work. A
 * hint only: never a fault, never an ordering.
 */
static inline void xf_prefetch_w(const void *p)
{
#if defined(__x86_64__) || defined(__i386__)
    __asm__ volatile("prefetchw %0" : : "m"(*(const char *)p));
#else
    __builtin_prefetch(p, 1, 3);
#endif
}

/*
 * Copy a record out of shared memory exactly once. Volatile reads, so that
 * the compiler cannot turn later uses of the private copy back into reads of
 * the shared page (it may with plain memcpy when it proves the two equal).
 * Reads are as wide as the source's alignment allows (8, then 4, 2, 1 bytes):
 * aligned fields up to 8 bytes are therefore never torn, and ring slots of
 * 12 or 28 bytes are still copied in a few loads. The destination is private
 * and may have any alignment.
 */
static inline void xf_copy_from_shared(void *dst, const volatile void *src, size_t len)
{
    unsigned char *d = (unsigned char *)dst;
    const volatile unsigned char *s = (const volatile unsigned char *)src;
    size_t i = 0;

    if (((uintptr_t)s & 7) == 0) {
        for (; i + 8 <= len; i += 8) {
            uint64_t w = *(const volatile uint64_t *)(const volatile void *)(s + i);
            __builtin_memcpy(d + i, &w, 8);
        }
    }
    if ((((uintptr_t)s + i) & 3) == 0) {
        for (; i + 4 <= len; i += 4) {
            uint32_t w = *(const volatile uint32_t *)(const volatile void *)(s + i);
            __builtin_memcpy(d + i, &w, 4);
        }
    }
    if ((((uintptr_t)s + i) & 1) == 0) {
        for (; i + 2 <= len; i += 2) {
            uint16_t w = *(const volatile uint16_t *)(const volatile void *)(s + i);
            __builtin_memcpy(d + i, &w, 2);
        }
    }
    for (; i < len; i++)
        d[i] = s[i];
}

/* Write a record into shared memory, as wide as the destination allows (the
 * peer must not see torn aligned fields either). */
static inline void xf_copy_to_shared(volatile void *dst, const void *src, size_t len)
{
    volatile unsigned char *d = (volatile unsigned char *)dst;
    const unsigned char *s = (const unsigned char *)src;
    size_t i = 0;

    if (((uintptr_t)d & 7) == 0) {
        for (; i + 8 <= len; i += 8) {
            uint64_t w;
            __builtin_memcpy(&w, s + i, 8);
            *(volatile uint64_t *)(volatile void *)(d + i) = w;
        }
    }
    if ((((uintptr_t)d + i) & 3) == 0) {
        for (; i + 4 <= len; i += 4) {
            uint32_t w;
            __builtin_memcpy(&w, s + i, 4);
            *(volatile uint32_t *)(volatile void *)(d + i) = w;
        }
    }
    if ((((uintptr_t)d + i) & 1) == 0) {
        for (; i + 2 <= len; i += 2) {
            uint16_t w;
            __builtin_memcpy(&w, s + i, 2);
            *(volatile uint16_t *)(volatile void *)(d + i) = w;
        }
    }
    for (; i < len; i++)
        d[i] = s[i];
}

#endif /* XENFRONT_BARRIER_H */
