/*
 * The ring layer against Xen's own io/ring.h macros.
 *
 * (a) Lockstep: one page driven by the layer, one by Xen's macros, the same
 *     seeded random sequence of puts, pushes, gets and final checks on both
 *     sides; after every step the notify decisions, final-check results,
 *     indices, event fields and bytes must be identical. This is what shows
 *     that the layer's notification decisions are Xen's.
 * (b) Two threads over a million requests each way, one side the layer and
 *     the other Xen's macros, with notifications modelled as an event
 *     channel: a lost wake-up deadlocks, and the deadline reports it.
 */
#include "ring_test_util.h"

#include <check.h>
#include "xf_check.h"
#include <inttypes.h>
#include <stdarg.h>

#include <xen/grant_table.h>
#include <xen/io/blkif.h>
#include <xen/io/netif.h>

/*
 * Assertions for the hot loops. Every passing ck_assert records a
 * checkpoint (a write to the runner's pipe in fork mode), which made the
 * lockstep runs slow under ASan; these call into check only on failure.
 */
#define FAST_MSG(cond, ...) do { if (!(cond)) ck_abort_msg(__VA_ARGS__); } while (0)
#define FAST(cond) FAST_MSG(cond, "line %d: assertion '%s' failed", __LINE__, #cond)
#define FAST_EQ(a, b) do { \
    long long a_ = (long long)(a), b_ = (long long)(b); \
    FAST_MSG(a_ == b_, "line %d: %s == %s failed: %lld vs %lld", __LINE__, #a, #b, a_, b_); \
} while (0)

/* ========================================================= (a) lockstep */

/*
 * Xen's macros, wrapped per ring type behind one table so that a single
 * engine can drive any type. The macros are used the way drivers use them:
 * RING_GET_* for the slot, RING_COPY_* to copy a record out, the PUSH and
 * FINAL_CHECK macros for the notification protocol.
 */
struct xops {
    const char *name;
    struct xf_ring_shape shape;
    size_t ctx_size;
    void (*init)(void *c, void *page, size_t bytes, RING_IDX start);
    unsigned (*size)(void *c);
    bool (*full)(void *c);
    void (*put_req)(void *c, const void *req);
    bool (*push_req)(void *c);
    unsigned (*has_rsp)(void *c);
    void (*get_rsp)(void *c, void *rsp);
    unsigned (*final_rsp)(void *c);
    unsigned (*has_req)(void *c);
    void (*get_req)(void *c, void *req);
    void (*put_rsp)(void *c, const void *rsp);
    bool (*push_rsp)(void *c);
    unsigned (*final_req)(void *c);
    /* req_prod_pvt, rsp_cons, rsp_prod_pvt, req_cons */
    void (*idx)(void *c, RING_IDX out[4]);
    bool (*eq_req)(const void *a, const void *b);
    bool (*eq_rsp)(const void *a, const void *b);
};

/* A shared page set up as if both ends had just (re)connected at `start`. */
#define SET_START(s, start) do { \
    (s)->req_prod = (s)->rsp_prod = (start); \
    (s)->req_event = (s)->rsp_event = (start) + 1; \
} while (0)

#define DEFINE_XOPS(T, REQ, RSP, EQ_REQ, EQ_RSP) \
    struct T##_xctx { T##_front_ring_t f; T##_back_ring_t b; }; \
    static void T##_init(void *c_, void *page, size_t bytes, RING_IDX start) \
    { \
        struct T##_xctx *c = c_; \
        T##_sring_t *s = page; \
        if (start == 0) { \
            XEN_FRONT_RING_INIT(&c->f, s, bytes); \
        } else { \
            SHARED_RING_INIT(s); \
            SET_START(s, start); \
            FRONT_RING_ATTACH(&c->f, s, start, bytes); \
        } \
        BACK_RING_ATTACH(&c->b, s, start, bytes); \
    } \
    static unsigned T##_size(void *c_) \
    { struct T##_xctx *c = c_; return RING_SIZE(&c->f); } \
    static bool T##_full(void *c_) \
    { struct T##_xctx *c = c_; return RING_FULL(&c->f); } \
    static void T##_put_req(void *c_, const void *req) \
    { \
        struct T##_xctx *c = c_; \
        memcpy(RING_GET_REQUEST(&c->f, c->f.req_prod_pvt), req, sizeof(REQ)); \
        c->f.req_prod_pvt++; \
    } \
    static bool T##_push_req(void *c_) \
    { \
        struct T##_xctx *c = c_; bool notify; \
        RING_PUSH_REQUESTS_AND_CHECK_NOTIFY(&c->f, notify); \
        return notify; \
    } \
    static unsigned T##_has_rsp(void *c_) \
    { struct T##_xctx *c = c_; return RING_HAS_UNCONSUMED_RESPONSES(&c->f); } \
    static void T##_get_rsp(void *c_, void *rsp) \
    { \
        struct T##_xctx *c = c_; \
        RING_COPY_RESPONSE(&c->f, c->f.rsp_cons, (RSP *)rsp); \
        c->f.rsp_cons++; \
    } \
    static unsigned T##_final_rsp(void *c_) \
    { \
        struct T##_xctx *c = c_; unsigned work; \
        RING_FINAL_CHECK_FOR_RESPONSES(&c->f, work); \
        return work; \
    } \
    static unsigned T##_has_req(void *c_) \
    { struct T##_xctx *c = c_; return RING_HAS_UNCONSUMED_REQUESTS(&c->b); } \
    static void T##_get_req(void *c_, void *req) \
    { \
        struct T##_xctx *c = c_; \
        RING_COPY_REQUEST(&c->b, c->b.req_cons, (REQ *)req); \
        c->b.req_cons++; \
    } \
    static void T##_put_rsp(void *c_, const void *rsp) \
    { \
        struct T##_xctx *c = c_; \
        memcpy(RING_GET_RESPONSE(&c->b, c->b.rsp_prod_pvt), rsp, sizeof(RSP)); \
        c->b.rsp_prod_pvt++; \
    } \
    static bool T##_push_rsp(void *c_) \
    { \
        struct T##_xctx *c = c_; bool notify; \
        RING_PUSH_RESPONSES_AND_CHECK_NOTIFY(&c->b, notify); \
        return notify; \
    } \
    static unsigned T##_final_req(void *c_) \
    { \
        struct T##_xctx *c = c_; unsigned work; \
        RING_FINAL_CHECK_FOR_REQUESTS(&c->b, work); \
        return work; \
    } \
    static void T##_idx(void *c_, RING_IDX out[4]) \
    { \
        struct T##_xctx *c = c_; \
        out[0] = c->f.req_prod_pvt; out[1] = c->f.rsp_cons; \
        out[2] = c->b.rsp_prod_pvt; out[3] = c->b.req_cons; \
    } \
    static struct xops T##_xops(void) \
    { \
        return (struct xops){ #T, XF_RING_SHAPE(T), sizeof(struct T##_xctx), \
            T##_init, T##_size, T##_full, T##_put_req, T##_push_req, \
            T##_has_rsp, T##_get_rsp, T##_final_rsp, T##_has_req, \
            T##_get_req, T##_put_rsp, T##_push_rsp, T##_final_req, \
            T##_idx, EQ_REQ, EQ_RSP }; \
    }

static bool eq_bytes_rt_req(const void *a, const void *b)
{
    return memcmp(a, b, sizeof(struct rt_req)) == 0;
}

static bool eq_bytes_rt_rsp(const void *a, const void *b)
{
    return memcmp(a, b, sizeof(struct rt_rsp)) == 0;
}

static bool eq_bytes_tx_req(const void *a, const void *b)
{
    return memcmp(a, b, sizeof(struct netif_tx_request)) == 0;
}

static bool eq_bytes_tx_rsp(const void *a, const void *b)
{
    return memcmp(a, b, sizeof(struct netif_tx_response)) == 0;
}

/* blkif records have padding, which a volatile struct copy need not carry:
 * compare the fields. */
static bool eq_blk_req(const void *a_, const void *b_)
{
    const struct blkif_request *a = a_, *b = b_;

    if (a->operation != b->operation || a->nr_segments != b->nr_segments ||
        a->handle != b->handle || a->id != b->id ||
        a->sector_number != b->sector_number)
        return false;
    for (int i = 0; i < BLKIF_MAX_SEGMENTS_PER_REQUEST; i++)
        if (a->seg[i].gref != b->seg[i].gref ||
            a->seg[i].first_sect != b->seg[i].first_sect ||
            a->seg[i].last_sect != b->seg[i].last_sect)
            return false;
    return true;
}

static bool eq_blk_rsp(const void *a_, const void *b_)
{
    const struct blkif_response *a = a_, *b = b_;

    return a->id == b->id && a->operation == b->operation && a->status == b->status;
}

DEFINE_XOPS(rt, struct rt_req, struct rt_rsp, eq_bytes_rt_req, eq_bytes_rt_rsp)
DEFINE_XOPS(netif_tx, struct netif_tx_request, struct netif_tx_response,
            eq_bytes_tx_req, eq_bytes_tx_rsp)
DEFINE_XOPS(blkif, struct blkif_request, struct blkif_response, eq_blk_req, eq_blk_rsp)

enum ls_op {
    OP_PUT_REQ, OP_PUSH_REQ, OP_GET_REQ, OP_PUT_RSP, OP_PUSH_RSP, OP_GET_RSP,
    OP_FINAL_RSP, OP_FINAL_REQ, OP_COUNT
};

/* Op weights per phase: balanced, filling the ring, draining it, and
 * draining with frequent final checks (so both ends go idle and re-arm
 * their events). Phases last up to two ring sizes, so rings of every order
 * fill and empty. */
#define LS_PHASES 4
static const unsigned ls_weights[LS_PHASES][OP_COUNT] = {
    { 20, 10, 18, 18, 10, 18, 3, 3 },
    { 50, 10, 8, 8, 5, 8, 5, 6 },
    { 4, 4, 25, 25, 10, 25, 4, 3 },
    { 2, 10, 20, 15, 15, 20, 9, 9 },
};

struct ls_stats {
    uint64_t notify[2][2];  /* [0 requests, 1 responses][notified?] */
    uint64_t work[2][2];    /* final check [0 front, 1 back][found work?] */
    uint64_t ring_full;     /* put_request refused with -ENOSPC */
    uint64_t no_request;    /* put_response refused with -ENOSPC */
    uint64_t reqs, rsps;
};

#define BUF_MAX 256
#define CANARY 0xe7

static void ls_compare(const struct xops *x, void *c, const struct xf_front_ring *F,
                       const struct xf_back_ring *B, const unsigned char *po,
                       const unsigned char *px, unsigned step)
{
    const struct xf_generic_sring *so = (const void *)po, *sx = (const void *)px;
    RING_IDX xi[4];

    x->idx(c, xi);
    FAST_MSG(so->req_prod == sx->req_prod && so->req_event == sx->req_event &&
                  so->rsp_prod == sx->rsp_prod && so->rsp_event == sx->rsp_event,
                  "%s step %u: shared indices differ: ours %u/%u/%u/%u xen %u/%u/%u/%u",
                  x->name, step, so->req_prod, so->req_event, so->rsp_prod,
                  so->rsp_event, sx->req_prod, sx->req_event, sx->rsp_prod,
                  sx->rsp_event);
    FAST_MSG(F->req_prod_pvt == xi[0] && F->rsp_cons == xi[1] &&
                  B->rsp_prod_pvt == xi[2] && B->req_cons == xi[3],
                  "%s step %u: private indices differ", x->name, step);
    FAST_EQ(xf_front_ring_free(F), xf_front_ring_size(F) - (xi[0] - xi[1]));
}

static void lockstep(const struct xops *x, unsigned order, RING_IDX start,
                     uint64_t seed, unsigned steps, struct ls_stats *st)
{
    size_t bytes = (size_t)XF_PAGE_SIZE << order;
    unsigned char *po = rt_pages(order, 0x3c);
    unsigned char *px = rt_pages(order, 0x3c);
    void *c = calloc(1, x->ctx_size);
    const size_t qs = x->shape.req_size, ps = x->shape.rsp_size, es = x->shape.ent_size;
    struct xf_front_ring F;
    struct xf_back_ring B;
    unsigned char *sent_req, *sent_rsp;
    uint64_t rng = seed;
    unsigned phase = 0, phase_left = 1, nr;

    ck_assert_ptr_nonnull(po);
    ck_assert_ptr_nonnull(px);
    ck_assert_ptr_nonnull(c);
    ck_assert_uint_le(qs, BUF_MAX);
    ck_assert_uint_le(ps, BUF_MAX);
    FAST_EQ(xf_front_ring_init(&F, po, bytes, x->shape), 0);
    if (start != 0) {
        SET_START((struct xf_generic_sring *)po, start);
        FAST_EQ(xf_front_ring_attach(&F, po, bytes, x->shape, start), 0);
    }
    FAST_EQ(xf_back_ring_attach(&B, po, bytes, x->shape, start), 0);
    x->init(c, px, bytes, start);
    nr = x->size(c);
    FAST_EQ(xf_front_ring_size(&F), nr);
    FAST_EQ(xf_back_ring_size(&B), nr);
    FAST_MSG(memcmp(po, px, bytes) == 0, "%s: pages differ after init", x->name);
    sent_req = calloc(nr, qs);
    sent_rsp = calloc(nr, ps);
    ck_assert_ptr_nonnull(sent_req);
    ck_assert_ptr_nonnull(sent_rsp);

    for (unsigned step = 0; step < steps; step++) {
        unsigned char a[BUF_MAX + 16], b[BUF_MAX];
        unsigned w = 0, pick, op;
        RING_IDX slot_idx = 0;
        bool touched = false;
        int rc;

        if (--phase_left == 0) {
            phase = rt_below(&rng, LS_PHASES);
            phase_left = 1 + rt_below(&rng, 2 * nr + 8);
            if (phase == 1)  /* long enough to fill even the largest ring */
                phase_left += 2 * nr;
        }
        for (op = 0; op < OP_COUNT; op++)
            w += ls_weights[phase][op];
        pick = rt_below(&rng, w);
        for (op = 0; pick >= ls_weights[phase][op]; op++)
            pick -= ls_weights[phase][op];

        memset(a, CANARY, sizeof(a));
        switch ((enum ls_op)op) {
        case OP_PUT_REQ: {
            bool full = x->full(c);

            FAST_EQ(full, xf_front_ring_free(&F) == 0);
            rt_fill(&rng, b, qs);
            slot_idx = F.req_prod_pvt;
            rc = xf_front_ring_put_request(&F, b);
            if (full) {
                FAST_EQ(rc, -XF_ENOSPC);
                st->ring_full++;
                break;
            }
            FAST_EQ(rc, 0);
            x->put_req(c, b);
            memcpy(sent_req + (slot_idx & (nr - 1)) * qs, b, qs);
            touched = true;
            break;
        }
        case OP_PUSH_REQ: {
            bool n1 = xf_front_ring_push(&F), n2 = x->push_req(c);

            FAST_MSG(n1 == n2, "%s step %u: request notify %d vs Xen %d",
                          x->name, step, n1, n2);
            st->notify[0][n1]++;
            break;
        }
        case OP_GET_REQ: {
            unsigned have = x->has_req(c);

            slot_idx = B.req_cons;
            rc = xf_back_ring_get_request(&B, a);
            FAST_MSG(rc == (have ? 1 : 0), "%s step %u: get_request %d, Xen has %u",
                          x->name, step, rc, have);
            if (rc == 1) {
                x->get_req(c, b);
                FAST(memcmp(a, sent_req + (slot_idx & (nr - 1)) * qs, qs) == 0);
                FAST(x->eq_req(a, b));
                st->reqs++;
            }
            for (size_t i = qs; i < qs + 16; i++)
                FAST_MSG(a[i] == CANARY, "get_request wrote past the request");
            break;
        }
        case OP_PUT_RSP:
            rt_fill(&rng, b, ps);
            slot_idx = B.rsp_prod_pvt;
            rc = xf_back_ring_put_response(&B, b);
            if (B.req_cons == slot_idx) {
                FAST_EQ(rc, -XF_ENOSPC);
                st->no_request++;
                break;
            }
            FAST_EQ(rc, 0);
            x->put_rsp(c, b);
            memcpy(sent_rsp + (slot_idx & (nr - 1)) * ps, b, ps);
            touched = true;
            break;
        case OP_PUSH_RSP: {
            bool n1 = xf_back_ring_push(&B), n2 = x->push_rsp(c);

            FAST_MSG(n1 == n2, "%s step %u: response notify %d vs Xen %d",
                          x->name, step, n1, n2);
            st->notify[1][n1]++;
            break;
        }
        case OP_GET_RSP: {
            unsigned have = x->has_rsp(c);

            slot_idx = F.rsp_cons;
            rc = xf_front_ring_get_response(&F, a);
            FAST_MSG(rc == (have ? 1 : 0), "%s step %u: get_response %d, Xen has %u",
                          x->name, step, rc, have);
            if (rc == 1) {
                x->get_rsp(c, b);
                FAST(memcmp(a, sent_rsp + (slot_idx & (nr - 1)) * ps, ps) == 0);
                FAST(x->eq_rsp(a, b));
                st->rsps++;
            }
            for (size_t i = ps; i < ps + 16; i++)
                FAST_MSG(a[i] == CANARY, "get_response wrote past the response");
            break;
        }
        case OP_FINAL_RSP: {
            int ours = xf_front_ring_final_check(&F);
            unsigned xen = x->final_rsp(c);

            FAST_MSG(ours == (int)xen, "%s step %u: front final check %d vs Xen %u",
                          x->name, step, ours, xen);
            st->work[0][ours > 0]++;
            break;
        }
        case OP_FINAL_REQ: {
            int ours = xf_back_ring_final_check(&B);
            unsigned xen = x->final_req(c);

            FAST_MSG(ours == (int)xen, "%s step %u: back final check %d vs Xen %u",
                          x->name, step, ours, xen);
            st->work[1][ours > 0]++;
            break;
        }
        case OP_COUNT:
            break;
        }

        ls_compare(x, c, &F, &B, po, px, step);
        if (touched) {
            size_t off = XF_RING_HDR_SIZE + (size_t)(slot_idx & (nr - 1)) * es;

            FAST_MSG(memcmp(po + off, px + off, es) == 0,
                          "%s step %u: slot %u differs", x->name, step, slot_idx);
        }
        if (step % 512 == 0)
            FAST_MSG(memcmp(po, px, bytes) == 0, "%s step %u: pages differ",
                          x->name, step);
    }
    FAST_MSG(memcmp(po, px, bytes) == 0, "%s: pages differ at the end", x->name);
    FAST_EQ(xf_front_ring_error(&F), 0);
    FAST_EQ(xf_back_ring_error(&B), 0);
    free(sent_req);
    free(sent_rsp);
    free(c);
    free(po);
    free(px);
}

static void lockstep_type(const struct xops *x, RING_IDX start, uint64_t seed)
{
    for (unsigned order = 0; order <= 4; order++) {
        /* Enough steps for the random walk to fill the largest rings. */
        unsigned steps = 20000 + 16 * xf_ring_entries((size_t)XF_PAGE_SIZE << order,
                                                      x->shape.ent_size);
        struct ls_stats st = { 0 };

        lockstep(x, order, start, seed + order, steps, &st);
        fprintf(stderr, "# lockstep %s order %u start %#x: %" PRIu64 " req %" PRIu64
                " rsp; req notify %" PRIu64 "/%" PRIu64 ", rsp notify %" PRIu64 "/%" PRIu64
                ", final work front %" PRIu64 "/%" PRIu64 " back %" PRIu64 "/%" PRIu64
                ", full %" PRIu64 ", no-request %" PRIu64 "\n",
                x->name, order, start, st.reqs, st.rsps, st.notify[0][1],
                st.notify[0][0] + st.notify[0][1], st.notify[1][1],
                st.notify[1][0] + st.notify[1][1], st.work[0][1],
                st.work[0][0] + st.work[0][1], st.work[1][1],
                st.work[1][0] + st.work[1][1], st.ring_full, st.no_request);
        /* The run must have exercised both outcomes of every decision. */
        ck_assert_uint_gt(st.notify[0][0], 0);
        ck_assert_uint_gt(st.notify[0][1], 0);
        ck_assert_uint_gt(st.notify[1][0], 0);
        ck_assert_uint_gt(st.notify[1][1], 0);
        ck_assert_uint_gt(st.work[0][0], 0);
        ck_assert_uint_gt(st.work[0][1], 0);
        ck_assert_uint_gt(st.work[1][0], 0);
        ck_assert_uint_gt(st.work[1][1], 0);
        ck_assert_uint_gt(st.reqs, xf_ring_entries((size_t)XF_PAGE_SIZE << order,
                                                   x->shape.ent_size));
        ck_assert_uint_gt(st.ring_full, 0);
    }
}

START_TEST(test_lockstep_rt)
{
    struct xops x = rt_xops();

    lockstep_type(&x, 0, 0x5eed0001);
}
END_TEST

START_TEST(test_lockstep_netif_tx)
{
    struct xops x = netif_tx_xops();

    lockstep_type(&x, 0, 0x5eed0101);
}
END_TEST

START_TEST(test_lockstep_blkif)
{
    struct xops x = blkif_xops();

    lockstep_type(&x, 0, 0x5eed0201);
}
END_TEST

/* The same across the 2^32 wrap of the free-running indices. */
START_TEST(test_lockstep_wrap)
{
    struct xops rt = rt_xops(), tx = netif_tx_xops(), blk = blkif_xops();

    lockstep_type(&rt, UINT32_MAX - 1000, 0x5eed0301);
    lockstep_type(&tx, UINT32_MAX - 5, 0x5eed0401);
    lockstep_type(&blk, 0x80000000u - 17, 0x5eed0501);
}
END_TEST

/* ====================================================== (b) two threads */

enum impl { IMPL_XF, IMPL_XEN };

#define WAIT_TIMEOUT_NS (30ull * 1000000000ull)

struct pair {
    void *page;
    size_t bytes;
    uint64_t n;                   /* requests (and responses) to exchange */
    uint64_t timeout_ns;          /* how long a blocked side waits */
    bool drop_rsp_notify;         /* negative control: back never signals */
    struct rt_evt to_back, to_front;
    struct xf_front_ring xf_front;
    struct xf_back_ring xf_back;
    rt_front_ring_t xen_front;
    rt_back_ring_t xen_back;
    atomic_int failed;
    char why[512];
    uint64_t front_done, back_done;
};

static void pair_fail(struct pair *p, const char *fmt, ...) XF_PRINTF(2, 3);

/* Record the first failure and wake both sides so that they leave. */
static void pair_fail(struct pair *p, const char *fmt, ...)
{
    int expected = 0;

    if (atomic_compare_exchange_strong(&p->failed, &expected, 1)) {
        va_list ap;

        va_start(ap, fmt);
        vsnprintf(p->why, sizeof(p->why), fmt, ap);
        va_end(ap);
    }
    rt_evt_stop(&p->to_back);
    rt_evt_stop(&p->to_front);
}

static void pair_idle(struct pair *p, struct rt_evt *e, const char *side, uint64_t done)
{
    const struct xf_generic_sring *s = p->page;

    if (rt_evt_wait(e, p->timeout_ns) != 0)
        pair_fail(p, "lost wake-up: %s blocked %.1f s after %" PRIu64 " (req_prod %u "
                  "req_event %u rsp_prod %u rsp_event %u)", side,
                  (double)p->timeout_ns / 1e9, done, s->req_prod, s->req_event,
                  s->rsp_prod, s->rsp_event);
}

static void *front_xf(void *arg)
{
    struct pair *p = arg;
    struct xf_front_ring *r = &p->xf_front;
    uint64_t sent = 0, recvd = 0;

    while (recvd < p->n && !atomic_load(&p->failed)) {
        bool progress = false;
        struct rt_rsp rsp;
        int rc;

        if (sent < p->n && xf_front_ring_free(r) > 0) {
            while (sent < p->n && xf_front_ring_free(r) > 0) {
                struct rt_req q = rt_make_req(sent++);

                if (xf_front_ring_put_request(r, &q) != 0)
                    pair_fail(p, "put_request failed with room left");
            }
            if (xf_front_ring_push(r))
                rt_evt_signal(&p->to_back);
            progress = true;
        }
        while ((rc = xf_front_ring_get_response(r, &rsp)) > 0) {
            if (!rt_rsp_ok(&rsp, recvd)) {
                pair_fail(p, "response %" PRIu64 " wrong (seq %" PRIu64 ")", recvd, rsp.seq);
                return NULL;
            }
            recvd++;
            progress = true;
        }
        if (rc < 0) {
            pair_fail(p, "get_response: %d", rc);
            break;
        }
        if (progress)
            continue;
        rc = xf_front_ring_final_check(r);
        if (rc < 0)
            pair_fail(p, "front final check: %d", rc);
        else if (rc == 0)
            pair_idle(p, &p->to_front, "front (xenfront)", recvd);
    }
    p->front_done = recvd;
    return NULL;
}

static void *front_xen(void *arg)
{
    struct pair *p = arg;
    rt_front_ring_t *r = &p->xen_front;
    uint64_t sent = 0, recvd = 0;

    while (recvd < p->n && !atomic_load(&p->failed)) {
        bool progress = false, notify;
        unsigned more;
        RING_IDX rp;

        if (sent < p->n && !RING_FULL(r)) {
            while (sent < p->n && !RING_FULL(r)) {
                *RING_GET_REQUEST(r, r->req_prod_pvt) = rt_make_req(sent++);
                r->req_prod_pvt++;
            }
            RING_PUSH_REQUESTS_AND_CHECK_NOTIFY(r, notify);
            if (notify)
                rt_evt_signal(&p->to_back);
            progress = true;
        }
        rp = r->sring->rsp_prod;
        xen_rmb(); /* read responses only after the index covering them */
        if (RING_RESPONSE_PROD_OVERFLOW(r, rp)) {
            pair_fail(p, "layer back end overflowed rsp_prod %u", rp);
            break;
        }
        while (r->rsp_cons != rp) {
            struct rt_rsp rsp;

            RING_COPY_RESPONSE(r, r->rsp_cons, &rsp);
            r->rsp_cons++;
            if (!rt_rsp_ok(&rsp, recvd)) {
                pair_fail(p, "response %" PRIu64 " wrong (seq %" PRIu64 ")", recvd, rsp.seq);
                return NULL;
            }
            recvd++;
            progress = true;
        }
        if (progress)
            continue;
        RING_FINAL_CHECK_FOR_RESPONSES(r, more);
        if (!more)
            pair_idle(p, &p->to_front, "front (Xen macros)", recvd);
    }
    p->front_done = recvd;
    return NULL;
}

static void *back_xf(void *arg)
{
    struct pair *p = arg;
    struct xf_back_ring *r = &p->xf_back;
    uint64_t done = 0;

    while (done < p->n && !atomic_load(&p->failed)) {
        bool progress = false;
        struct rt_req q;
        int rc;

        while ((rc = xf_back_ring_get_request(r, &q)) > 0) {
            struct rt_rsp rsp;

            if (!rt_req_ok(&q, done)) {
                pair_fail(p, "request %" PRIu64 " wrong (seq %" PRIu64 ")", done, q.seq);
                return NULL;
            }
            rsp = rt_make_rsp(&q);
            if (xf_back_ring_put_response(r, &rsp) != 0) {
                pair_fail(p, "put_response refused");
                return NULL;
            }
            done++;
            progress = true;
        }
        if (rc < 0) {
            pair_fail(p, "get_request: %d", rc);
            break;
        }
        if (progress) {
            if (xf_back_ring_push(r) && !p->drop_rsp_notify)
                rt_evt_signal(&p->to_front);
            continue;
        }
        rc = xf_back_ring_final_check(r);
        if (rc < 0)
            pair_fail(p, "back final check: %d", rc);
        else if (rc == 0)
            pair_idle(p, &p->to_back, "back (xenfront)", done);
    }
    p->back_done = done;
    return NULL;
}

static void *back_xen(void *arg)
{
    struct pair *p = arg;
    rt_back_ring_t *r = &p->xen_back;
    uint64_t done = 0;

    while (done < p->n && !atomic_load(&p->failed)) {
        bool progress = false, notify;
        unsigned more;
        RING_IDX rp = r->sring->req_prod;

        xen_rmb(); /* read requests only after the index covering them */
        if (RING_REQUEST_PROD_OVERFLOW(r, rp)) {
            pair_fail(p, "layer front end overflowed req_prod %u", rp);
            break;
        }
        while (r->req_cons != rp) {
            struct rt_req q;

            RING_COPY_REQUEST(r, r->req_cons, &q);
            r->req_cons++;
            if (!rt_req_ok(&q, done)) {
                pair_fail(p, "request %" PRIu64 " wrong (seq %" PRIu64 ")", done, q.seq);
                return NULL;
            }
            *RING_GET_RESPONSE(r, r->rsp_prod_pvt) = rt_make_rsp(&q);
            r->rsp_prod_pvt++;
            done++;
            progress = true;
        }
        if (progress) {
            RING_PUSH_RESPONSES_AND_CHECK_NOTIFY(r, notify);
            if (notify && !p->drop_rsp_notify)
                rt_evt_signal(&p->to_front);
            continue;
        }
        RING_FINAL_CHECK_FOR_REQUESTS(r, more);
        if (!more)
            pair_idle(p, &p->to_back, "back (Xen macros)", done);
    }
    p->back_done = done;
    return NULL;
}

/* Run one pairing; returns 0, or -1 with p->why set. */
static int run_pair(struct pair *p, enum impl front, enum impl back, uint64_t n,
                    uint64_t timeout_ns, bool drop_rsp_notify, const char *label)
{
    pthread_t tf, tb;
    uint64_t t0, t1;

    memset(p, 0, sizeof(*p));
    p->bytes = XF_PAGE_SIZE;
    p->page = rt_pages(0, 0xee);
    ck_assert_ptr_nonnull(p->page);
    p->n = n;
    p->timeout_ns = timeout_ns;
    p->drop_rsp_notify = drop_rsp_notify;
    atomic_init(&p->failed, 0);
    rt_evt_init(&p->to_back);
    rt_evt_init(&p->to_front);
    /* The front end initialises the page, then the back end attaches. */
    if (front == IMPL_XF)
        ck_assert_int_eq(xf_front_ring_init(&p->xf_front, p->page, p->bytes,
                                            XF_RING_SHAPE(rt)), 0);
    else
        XEN_FRONT_RING_INIT(&p->xen_front, (rt_sring_t *)p->page, p->bytes);
    if (back == IMPL_XF)
        ck_assert_int_eq(xf_back_ring_init(&p->xf_back, p->page, p->bytes,
                                           XF_RING_SHAPE(rt)), 0);
    else
        BACK_RING_INIT(&p->xen_back, (rt_sring_t *)p->page, p->bytes);

    t0 = rt_now_ns();
    ck_assert_int_eq(pthread_create(&tb, NULL, back == IMPL_XF ? back_xf : back_xen, p), 0);
    ck_assert_int_eq(pthread_create(&tf, NULL, front == IMPL_XF ? front_xf : front_xen, p), 0);
    pthread_join(tf, NULL);
    pthread_join(tb, NULL);
    t1 = rt_now_ns();

    fprintf(stderr, "# %s: %" PRIu64 " requests in %.2f s; request notifications %" PRIu64
            " (%.5f/req), response notifications %" PRIu64 " (%.5f/req); front blocked %"
            PRIu64 "x, back blocked %" PRIu64 "x%s%s\n", label, p->front_done,
            (double)(t1 - t0) / 1e9, p->to_back.sent, (double)p->to_back.sent / (double)n,
            p->to_front.sent, (double)p->to_front.sent / (double)n, p->to_front.waits,
            p->to_back.waits, atomic_load(&p->failed) ? "; FAILED: " : "",
            atomic_load(&p->failed) ? p->why : "");
    rt_evt_destroy(&p->to_back);
    rt_evt_destroy(&p->to_front);
    free(p->page);
    if (atomic_load(&p->failed))
        return -1;
    ck_assert_uint_eq(p->front_done, n);
    ck_assert_uint_eq(p->back_done, n);
    return 0;
}

static void check_pair(enum impl front, enum impl back, const char *label)
{
    static struct pair p;  /* large; keep it off the thread's stack */
    uint64_t n = rt_iters(1000000);
    int rc = run_pair(&p, front, back, n, WAIT_TIMEOUT_NS, false, label);

    ck_assert_msg(rc == 0, "%s: %s", label, p.why);
    /* Both directions must actually have gone idle and been woken: a run
     * that never blocked would prove nothing about lost wake-ups. */
    ck_assert_uint_gt(p.to_back.sent, 0);
    ck_assert_uint_gt(p.to_front.sent, 0);
}

START_TEST(test_threads_xf_front_xen_back)
{
    check_pair(IMPL_XF, IMPL_XEN, "xenfront front -> Xen-macro back");
}
END_TEST

START_TEST(test_threads_xen_front_xf_back)
{
    check_pair(IMPL_XEN, IMPL_XF, "Xen-macro front -> xenfront back");
}
END_TEST

START_TEST(test_threads_xf_both)
{
    check_pair(IMPL_XF, IMPL_XF, "xenfront front -> xenfront back");
}
END_TEST

/*
 * Negative control: a back end that drops the notifications its push asks
 * for must end in the deadlock detector, not in a pass or a hang. Without
 * this, a harness that never blocks would pass the tests above vacuously.
 */
START_TEST(test_threads_lost_wakeup_detected)
{
    static struct pair p;
    int rc = run_pair(&p, IMPL_XF, IMPL_XF, 1000000, 200ull * 1000000ull, true,
                      "negative control (back end drops notifications)");

    ck_assert_int_eq(rc, -1);
    ck_assert_msg(strstr(p.why, "lost wake-up") != NULL, "%s", p.why);
}
END_TEST

static Suite *xen_suite(void)
{
    Suite *s = suite_create("ring_xen");
    TCase *ls = tcase_create("lockstep");
    TCase *th = tcase_create("threads");

    tcase_set_timeout(ls, 600);
    tcase_add_test(ls, test_lockstep_rt);
    tcase_add_test(ls, test_lockstep_netif_tx);
    tcase_add_test(ls, test_lockstep_blkif);
    tcase_add_test(ls, test_lockstep_wrap);
    suite_add_tcase(s, ls);

    tcase_set_timeout(th, 600);
    tcase_add_test(th, test_threads_xf_front_xen_back);
    tcase_add_test(th, test_threads_xen_front_xf_back);
    tcase_add_test(th, test_threads_xf_both);
    tcase_add_test(th, test_threads_lost_wakeup_detected);
    suite_add_tcase(s, th);
    return s;
}

int main(void)
{
    return xf_check_run(xen_suite());
}
