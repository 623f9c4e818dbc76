/*
 * Helpers shared by the ring tests and the ring benchmark (host only): a
 * seeded PRNG, exactly-sized page allocations (so ASan and valgrind catch
 * any access past the ring), a test ring type, and a simulated event
 * channel.
 *
 * Everything here is static inline so that a file may use any subset of it
 * without unused-function warnings.
 */
#ifndef XF_RING_TEST_UTIL_H
#define XF_RING_TEST_UTIL_H

#include <xenfront/ring.h>
#include <xenfront/errno.h>
#include <xenfront/platform.h>

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/*
 * Xen's RING_HAS_UNCONSUMED_REQUESTS is a GNU statement expression; clang's
 * -Wpedantic flags it where the tests expand it (gcc does not, the macro
 * coming from a system header). The tests use Xen's macros as Xen wrote them.
 */
#ifdef __clang__
#pragma clang diagnostic ignored "-Wgnu-statement-expression"
#endif

/* ---------------------------------------------------------------- PRNG */

/* splitmix64: tiny, fast, and fully determined by its seed. */
static inline uint64_t rt_rand(uint64_t *state)
{
    uint64_t z = (*state += 0x9e3779b97f4a7c15ull);

    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

/* Uniform in [0, n), n > 0 (the bias is irrelevant here). */
static inline uint32_t rt_below(uint64_t *state, uint32_t n)
{
    return (uint32_t)(rt_rand(state) % n);
}

static inline void rt_fill(uint64_t *state, void *buf, size_t len)
{
    unsigned char *p = buf;

    for (size_t i = 0; i < len; i++)
        p[i] = (unsigned char)rt_rand(state);
}

/* ---------------------------------------------------------------- pages */

/*
 * A ring of 2^order pages, 4 KiB aligned and exactly that long: the
 * sanitizers then flag any access beyond the last page. Filled with a
 * pattern so that tests notice fields an init forgot.
 */
static inline void *rt_pages(unsigned order, int fill)
{
    size_t bytes = (size_t)XF_PAGE_SIZE << order;
    void *p = aligned_alloc(XF_PAGE_SIZE, bytes);

    if (p != NULL)
        memset(p, fill, bytes);
    return p;
}

static inline uint64_t rt_now_ns(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* Iteration count: the default, or XF_RING_TEST_ITERS (valgrind runs). */
static inline uint64_t rt_iters(uint64_t dflt)
{
    const char *s = getenv("XF_RING_TEST_ITERS");
    char *end;
    unsigned long long v;

    if (s == NULL || *s == '\0')
        return dflt;
    v = strtoull(s, &end, 0);
    return (*end == '\0' && v > 0) ? (uint64_t)v : dflt;
}

/* ------------------------------------------------------- test ring type */

/*
 * A 24-byte request and a 16-byte response carrying sequence numbers and
 * checksums, so a consumer can tell a lost, duplicated, reordered or torn
 * record from a good one.
 */
struct rt_req {
    uint64_t seq;
    uint64_t data;
    uint32_t sum;
    uint32_t tag;
};

struct rt_rsp {
    uint64_t seq;
    uint32_t sum;
    int32_t status;
};

_Static_assert(sizeof(struct rt_req) == 24, "test request is 24 bytes");
_Static_assert(sizeof(struct rt_rsp) == 16, "test response is 16 bytes");

DEFINE_RING_TYPES(rt, struct rt_req, struct rt_rsp);

static inline uint32_t rt_sum(uint64_t a, uint64_t b)
{
    uint64_t h = a * 0x9e3779b97f4a7c15ull ^ (b + 0x632be59bd9b4e019ull);

    h ^= h >> 29;
    return (uint32_t)(h ^ (h >> 32));
}

static inline struct rt_req rt_make_req(uint64_t seq)
{
    struct rt_req q;
    uint64_t s = seq;

    q.seq = seq;
    q.data = rt_rand(&s);
    q.sum = rt_sum(q.seq, q.data);
    q.tag = 0x52455121u; /* "REQ!" */
    return q;
}

static inline bool rt_req_ok(const struct rt_req *q, uint64_t seq)
{
    struct rt_req want = rt_make_req(seq);

    return q->seq == want.seq && q->data == want.data &&
           q->sum == want.sum && q->tag == want.tag;
}

/* The response to request q: its sequence number and a sum over its data. */
static inline struct rt_rsp rt_make_rsp(const struct rt_req *q)
{
    struct rt_rsp p;

    p.seq = q->seq;
    p.sum = rt_sum(q->data, q->seq);
    p.status = (int32_t)(q->seq & 0x7fff);
    return p;
}

static inline bool rt_rsp_ok(const struct rt_rsp *p, uint64_t seq)
{
    struct rt_req q = rt_make_req(seq);
    struct rt_rsp want = rt_make_rsp(&q);

    return p->seq == want.seq && p->sum == want.sum && p->status == want.status;
}

/* -------------------------------------------------- simulated evtchn */

/*
 * One direction of an event channel. A side that found no work after its
 * final check blocks in rt_evt_wait(); the other side calls rt_evt_signal()
 * only when its push said notify. A lost wake-up is therefore a deadlock,
 * which the deadline turns into a reported failure instead of a hang.
 * `pending` latches a notification sent before the receiver blocked, as a
 * real event channel's pending bit does.
 */
struct rt_evt {
    pthread_mutex_t lock;
    pthread_cond_t cond;
    bool pending;
    bool stop;             /* the run failed: wake and leave */
    uint64_t sent;         /* notifications sent */
    uint64_t waits;        /* times the receiver blocked */
};

static inline void rt_evt_init(struct rt_evt *e)
{
    pthread_condattr_t ca;

    memset(e, 0, sizeof(*e));
    pthread_mutex_init(&e->lock, NULL);
    pthread_condattr_init(&ca);
    /* Deadlines on the monotonic clock: immune to wall-clock steps. */
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&e->cond, &ca);
    pthread_condattr_destroy(&ca);
}

static inline void rt_evt_destroy(struct rt_evt *e)
{
    pthread_cond_destroy(&e->cond);
    pthread_mutex_destroy(&e->lock);
}

static inline void rt_evt_signal(struct rt_evt *e)
{
    pthread_mutex_lock(&e->lock);
    e->pending = true;
    e->sent++;
    pthread_cond_signal(&e->cond);
    pthread_mutex_unlock(&e->lock);
}

static inline void rt_evt_stop(struct rt_evt *e)
{
    pthread_mutex_lock(&e->lock);
    e->stop = true;
    pthread_cond_broadcast(&e->cond);
    pthread_mutex_unlock(&e->lock);
}

/* 0 when notified (or stopped), -ETIMEDOUT if nothing came by the deadline. */
static inline int rt_evt_wait(struct rt_evt *e, uint64_t timeout_ns)
{
    uint64_t deadline = rt_now_ns() + timeout_ns;
    struct timespec ts = {
        .tv_sec = (time_t)(deadline / 1000000000ull),
        .tv_nsec = (long)(deadline % 1000000000ull),
    };
    int rc = 0;

    pthread_mutex_lock(&e->lock);
    e->waits++;
    while (!e->pending && !e->stop && rc == 0)
        rc = pthread_cond_timedwait(&e->cond, &e->lock, &ts);
    if (e->pending || e->stop)
        rc = 0;
    e->pending = false;
    pthread_mutex_unlock(&e->lock);
    return rc == 0 ? 0 : -ETIMEDOUT;
}

static inline void rt_cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#elif defined(__aarch64__)
    __asm__ __volatile__("yield" ::: "memory");
#endif
}

#endif /* XF_RING_TEST_UTIL_H */
