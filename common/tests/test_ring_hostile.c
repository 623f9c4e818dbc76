/*
 * The ring layer against a hostile peer: every hardening rule of ring.h,
 * with the peer's side played by plain stores into the shared page.
 *
 *  - a producer index that runs ahead of what can be outstanding, or goes
 *    backwards, is -XF_EPROTO, logged once, sticky, and copies nothing;
 *  - full rings and responses without requests are -XF_ENOSPC;
 *  - hostile event indices only change the notify decision;
 *  - records are copied out once (a later write to the slot does not reach
 *    the caller's copy, and aligned words are never torn);
 *  - multi-page rings and the 2^32 index wrap work, the latter checked
 *    against Xen's macros.
 *
 * Pages are allocated at exactly their size, so under ASan or valgrind any
 * access outside the ring that a hostile index provoked would be reported.
 */
#include "ring_test_util.h"

#include <check.h>
#include "xf_check.h"
#include <inttypes.h>
#include <sched.h>

#include <xen/grant_table.h>
#include <xen/io/blkif.h>
#include <xen/io/netif.h>

/* ----------------------------------------------------------- logging */

static int warn_count;
static char last_log[256];

static void count_log(void *arg, enum xf_log_level level, const char *fmt, va_list ap)
    XF_PRINTF(3, 0);

static void count_log(void *arg, enum xf_log_level level, const char *fmt, va_list ap)
{
    (void)arg;
    if (level == XF_LOG_WARN)
        warn_count++;
    vsnprintf(last_log, sizeof(last_log), fmt, ap);
}

static void log_setup(void)
{
    warn_count = 0;
    last_log[0] = '\0';
    xf_log_set_hook(count_log, NULL, XF_LOG_DEBUG);
}

static void log_teardown(void)
{
    xf_log_set_hook(NULL, NULL, XF_LOG_WARN);
}

/* ------------------------------------------------------------ helpers */

#define TX XF_RING_SHAPE(netif_tx)

static struct xf_generic_sring *shared(void *page)
{
    return page;
}

static struct netif_tx_request tx_req(uint16_t id)
{
    struct netif_tx_request q = { .gref = 1000u + id, .offset = 0, .flags = 0,
                                  .id = id, .size = (uint16_t)(60 + id % 1400) };
    return q;
}

/* Put and push n requests through the layer. */
static void put_push(struct xf_front_ring *f, unsigned n, uint16_t first_id)
{
    for (unsigned i = 0; i < n; i++) {
        struct netif_tx_request q = tx_req((uint16_t)(first_id + i));

        ck_assert_int_eq(xf_front_ring_put_request(f, &q), 0);
    }
    xf_front_ring_push(f);
}

/* The back end answers every pushed request through the layer. */
static unsigned answer_all(struct xf_back_ring *b)
{
    struct netif_tx_request q;
    unsigned n = 0;

    while (xf_back_ring_get_request(b, &q) == 1) {
        struct netif_tx_response p = { .id = q.id, .status = NETIF_RSP_OKAY };

        ck_assert_int_eq(xf_back_ring_put_response(b, &p), 0);
        n++;
    }
    xf_back_ring_push(b);
    return n;
}

/* A broken front ring stays broken, whatever the back end does next. */
static void assert_front_broken(struct xf_front_ring *f, void *page)
{
    unsigned char buf[32];
    struct netif_tx_request q = tx_req(7);

    ck_assert_int_eq(xf_front_ring_error(f), -XF_EPROTO);
    memset(buf, 0xa5, sizeof(buf));
    ck_assert_int_eq(xf_front_ring_get_response(f, buf), -XF_EPROTO);
    ck_assert_int_eq(xf_front_ring_final_check(f), -XF_EPROTO);
    ck_assert_int_eq(xf_front_ring_put_request(f, &q), -XF_EPROTO);
    /* Even once the index looks sane again. */
    shared(page)->rsp_prod = f->rsp_cons;
    ck_assert_int_eq(xf_front_ring_get_response(f, buf), -XF_EPROTO);
    ck_assert_int_eq(xf_front_ring_final_check(f), -XF_EPROTO);
    for (size_t i = 0; i < sizeof(buf); i++)
        ck_assert_uint_eq(buf[i], 0xa5);
    ck_assert_int_eq(warn_count, 1);  /* logged once, not per call */
}

static void assert_back_broken(struct xf_back_ring *b)
{
    unsigned char buf[32];
    struct netif_tx_response p = { 0, 0 };

    ck_assert_int_eq(xf_back_ring_error(b), -XF_EPROTO);
    memset(buf, 0xa5, sizeof(buf));
    ck_assert_int_eq(xf_back_ring_get_request(b, buf), -XF_EPROTO);
    ck_assert_int_eq(xf_back_ring_final_check(b), -XF_EPROTO);
    ck_assert_int_eq(xf_back_ring_put_response(b, &p), -XF_EPROTO);
    for (size_t i = 0; i < sizeof(buf); i++)
        ck_assert_uint_eq(buf[i], 0xa5);
    ck_assert_int_eq(warn_count, 1);
}

/* ------------------------------------------ front: rsp_prod too far */

/*
 * rsp_prod beyond the requests pushed by 1, by the ring size, by 2^31 and by
 * 2^32 - 16 (i.e. far behind rsp_cons), detected by get_response (i even) or by the
 * final check (i odd), with and without responses already consumed.
 */
START_TEST(test_front_rsp_prod_ahead)
{
    static const RING_IDX deltas[] = { 1, 2, 256, 257, 0x80000000u, 0xfffffff0u };

    for (size_t d = 0; d < XF_ARRAY_SIZE(deltas); d++) {
        for (int how = 0; how < 4; how++) {
            void *page = rt_pages(0, 0);
            struct xf_front_ring f;
            struct xf_back_ring b;
            unsigned char buf[32];
            RING_IDX pushed;
            int rc;

            ck_assert_ptr_nonnull(page);
            log_setup();
            ck_assert_int_eq(xf_front_ring_init(&f, page, XF_PAGE_SIZE, TX), 0);
            ck_assert_int_eq(xf_back_ring_init(&b, page, XF_PAGE_SIZE, TX), 0);
            if (how >= 2) {
                /* Some honest traffic first, so rsp_cons is not 0. */
                put_push(&f, 10, 0);
                ck_assert_uint_eq(answer_all(&b), 10);
                while (xf_front_ring_get_response(&f, buf) == 1)
                    ;
                ck_assert_uint_eq(f.rsp_cons, 10);
            }
            put_push(&f, 4, 100);
            pushed = f.req_pushed;
            shared(page)->rsp_prod = pushed + deltas[d];
            memset(buf, 0xa5, sizeof(buf));
            rc = (how & 1) ? xf_front_ring_final_check(&f)
                           : xf_front_ring_get_response(&f, buf);
            ck_assert_msg(rc == -XF_EPROTO, "delta %#x how %d: %d", deltas[d], how, rc);
            for (size_t i = 0; i < sizeof(buf); i++)
                ck_assert_uint_eq(buf[i], 0xa5);
            ck_assert_ptr_nonnull(strstr(last_log, "rsp_prod"));
            assert_front_broken(&f, page);
            log_teardown();
            free(page);
        }
    }
}
END_TEST

/* rsp_prod going backwards: below rsp_cons, or below what was already seen. */
START_TEST(test_front_rsp_prod_backwards)
{
    for (int how = 0; how < 3; how++) {
        void *page = rt_pages(0, 0);
        struct xf_front_ring f;
        struct xf_back_ring b;
        struct netif_tx_response p;
        int rc;

        ck_assert_ptr_nonnull(page);
        log_setup();
        ck_assert_int_eq(xf_front_ring_init(&f, page, XF_PAGE_SIZE, TX), 0);
        ck_assert_int_eq(xf_back_ring_init(&b, page, XF_PAGE_SIZE, TX), 0);
        put_push(&f, 8, 0);
        ck_assert_uint_eq(answer_all(&b), 8);
        ck_assert_int_eq(xf_front_ring_get_response(&f, &p), 1);  /* snapshot: 8 */
        ck_assert_int_eq(xf_front_ring_get_response(&f, &p), 1);
        ck_assert_uint_eq(p.id, 1);
        if (how == 0) {
            /* Back below what we already saw (but not below rsp_cons). */
            shared(page)->rsp_prod = 5;
            rc = xf_front_ring_final_check(&f);
        } else if (how == 1) {
            /* Consume all, then the back end steps back below rsp_cons. */
            while (xf_front_ring_get_response(&f, &p) == 1)
                ;
            ck_assert_int_eq(warn_count, 0);
            shared(page)->rsp_prod = 6;
            rc = xf_front_ring_get_response(&f, &p);
        } else {
            /* Behind index 0: a huge unsigned distance. */
            while (xf_front_ring_get_response(&f, &p) == 1)
                ;
            shared(page)->rsp_prod = 0xfffffff0u;
            rc = xf_front_ring_final_check(&f);
        }
        ck_assert_msg(rc == -XF_EPROTO, "how %d: %d", how, rc);
        assert_front_broken(&f, page);
        log_teardown();
        free(page);
    }
}
END_TEST

/* A response published for a request that was put but not yet pushed. */
START_TEST(test_front_rsp_for_unpushed)
{
    void *page = rt_pages(0, 0);
    struct xf_front_ring f;
    struct netif_tx_request q = tx_req(3);
    struct netif_tx_response p;

    ck_assert_ptr_nonnull(page);
    log_setup();
    ck_assert_int_eq(xf_front_ring_init(&f, page, XF_PAGE_SIZE, TX), 0);
    put_push(&f, 3, 0);
    ck_assert_int_eq(xf_front_ring_put_request(&f, &q), 0);  /* not pushed */
    ck_assert_uint_eq(xf_front_ring_outstanding(&f), 4);
    /* Three responses are legitimate... */
    shared(page)->rsp_prod = 3;
    ck_assert_int_eq(xf_front_ring_final_check(&f), 3);
    for (int i = 0; i < 3; i++)
        ck_assert_int_eq(xf_front_ring_get_response(&f, &p), 1);
    ck_assert_int_eq(warn_count, 0);
    /* ...a fourth answers a request the back end cannot have seen. */
    shared(page)->rsp_prod = 4;
    memset(&p, 0xa5, sizeof(p));
    ck_assert_int_eq(xf_front_ring_get_response(&f, &p), -XF_EPROTO);
    ck_assert_uint_eq(p.id, 0xa5a5);
    assert_front_broken(&f, page);
    log_teardown();
    free(page);
}
END_TEST

/* ------------------------------------------- back: req_prod too far */

START_TEST(test_back_req_prod_overflow)
{
    static const RING_IDX deltas[] = { 257, 258, 512, 0x80000000u, 0xffffffffu };

    for (size_t d = 0; d < XF_ARRAY_SIZE(deltas); d++) {
        for (int how = 0; how < 2; how++) {
            void *page = rt_pages(0, 0);
            struct xf_front_ring f;
            struct xf_back_ring b;
            unsigned char buf[32];
            RING_IDX base = 0;
            int rc;

            ck_assert_ptr_nonnull(page);
            log_setup();
            ck_assert_int_eq(xf_front_ring_init(&f, page, XF_PAGE_SIZE, TX), 0);
            ck_assert_int_eq(xf_back_ring_init(&b, page, XF_PAGE_SIZE, TX), 0);
            ck_assert_uint_eq(xf_back_ring_size(&b), 256);
            if (how == 1) {
                put_push(&f, 20, 0);
                ck_assert_uint_eq(answer_all(&b), 20);
                base = 20;
            }
            /* More than a ring's worth beyond the responses produced. */
            shared(page)->req_prod = base + deltas[d];
            memset(buf, 0xa5, sizeof(buf));
            rc = xf_back_ring_get_request(&b, buf);
            ck_assert_msg(rc == -XF_EPROTO, "delta %#x: %d", deltas[d], rc);
            for (size_t i = 0; i < sizeof(buf); i++)
                ck_assert_uint_eq(buf[i], 0xa5);
            ck_assert_ptr_nonnull(strstr(last_log, "req_prod"));
            assert_back_broken(&b);
            log_teardown();
            free(page);
        }
    }
}
END_TEST

/* Exactly a full ring beyond the responses is legal, one more is not. */
START_TEST(test_back_req_prod_full_is_legal)
{
    void *page = rt_pages(0, 0);
    struct xf_back_ring b;
    struct netif_tx_request q;
    unsigned n = 0;

    ck_assert_ptr_nonnull(page);
    log_setup();
    ck_assert_int_eq(xf_front_ring_init(&(struct xf_front_ring){ 0 }, page,
                                        XF_PAGE_SIZE, TX), 0);
    ck_assert_int_eq(xf_back_ring_init(&b, page, XF_PAGE_SIZE, TX), 0);
    shared(page)->req_prod = 256;
    ck_assert_int_eq(xf_back_ring_final_check(&b), 256);
    while (xf_back_ring_get_request(&b, &q) == 1)
        n++;
    ck_assert_uint_eq(n, 256);
    /* The front end now claims a 257th while none has been answered. */
    shared(page)->req_prod = 257;
    ck_assert_int_eq(xf_back_ring_get_request(&b, &q), -XF_EPROTO);
    assert_back_broken(&b);
    log_teardown();
    free(page);
}
END_TEST

START_TEST(test_back_req_prod_backwards)
{
    for (int how = 0; how < 2; how++) {
        void *page = rt_pages(0, 0);
        struct xf_front_ring f;
        struct xf_back_ring b;
        struct netif_tx_request q;
        int rc;

        ck_assert_ptr_nonnull(page);
        log_setup();
        ck_assert_int_eq(xf_front_ring_init(&f, page, XF_PAGE_SIZE, TX), 0);
        ck_assert_int_eq(xf_back_ring_init(&b, page, XF_PAGE_SIZE, TX), 0);
        put_push(&f, 6, 0);
        ck_assert_int_eq(xf_back_ring_get_request(&b, &q), 1);  /* snapshot: 6 */
        ck_assert_int_eq(xf_back_ring_get_request(&b, &q), 1);
        if (how == 0) {
            shared(page)->req_prod = 4;  /* below what was seen */
            rc = xf_back_ring_final_check(&b);
        } else {
            while (xf_back_ring_get_request(&b, &q) == 1)
                ;
            shared(page)->req_prod = 3;  /* below req_cons */
            rc = xf_back_ring_get_request(&b, &q);
        }
        ck_assert_msg(rc == -XF_EPROTO, "how %d: %d", how, rc);
        assert_back_broken(&b);
        log_teardown();
        free(page);
    }
}
END_TEST

/* ------------------------------------------------------------ ENOSPC */

START_TEST(test_full_ring_enospc)
{
    void *page = rt_pages(0, 0);
    struct xf_front_ring f;
    struct xf_back_ring b;
    struct netif_tx_request q = tx_req(9), got;
    struct netif_tx_response p = { .id = 9, .status = 0 };

    ck_assert_ptr_nonnull(page);
    ck_assert_int_eq(xf_front_ring_init(&f, page, XF_PAGE_SIZE, TX), 0);
    ck_assert_int_eq(xf_back_ring_init(&b, page, XF_PAGE_SIZE, TX), 0);
    for (unsigned i = 0; i < 256; i++)
        ck_assert_int_eq(xf_front_ring_put_request(&f, &q), 0);
    ck_assert_uint_eq(xf_front_ring_free(&f), 0);
    ck_assert_int_eq(xf_front_ring_put_request(&f, &q), -XF_ENOSPC);
    ck_assert(xf_front_ring_push(&f));
    ck_assert_int_eq(xf_front_ring_put_request(&f, &q), -XF_ENOSPC);
    /* Consumed by the back end is not enough: the slot frees only once the
     * front end has taken the response. */
    ck_assert_int_eq(xf_back_ring_get_request(&b, &got), 1);
    ck_assert_int_eq(xf_front_ring_put_request(&f, &q), -XF_ENOSPC);
    ck_assert_int_eq(xf_back_ring_put_response(&b, &p), 0);
    xf_back_ring_push(&b);
    ck_assert_int_eq(xf_front_ring_put_request(&f, &q), -XF_ENOSPC);
    ck_assert_int_eq(xf_front_ring_get_response(&f, &p), 1);
    ck_assert_uint_eq(xf_front_ring_free(&f), 1);
    ck_assert_int_eq(xf_front_ring_put_request(&f, &q), 0);
    ck_assert_int_eq(xf_front_ring_put_request(&f, &q), -XF_ENOSPC);
    ck_assert_int_eq(xf_front_ring_error(&f), 0);  /* ENOSPC is not sticky */
    free(page);
}
END_TEST

START_TEST(test_put_response_needs_request)
{
    void *page = rt_pages(0, 0);
    struct xf_front_ring f;
    struct xf_back_ring b;
    struct netif_tx_request q;
    struct netif_tx_response p = { .id = 1, .status = 0 };

    ck_assert_ptr_nonnull(page);
    ck_assert_int_eq(xf_front_ring_init(&f, page, XF_PAGE_SIZE, TX), 0);
    ck_assert_int_eq(xf_back_ring_init(&b, page, XF_PAGE_SIZE, TX), 0);
    ck_assert_int_eq(xf_back_ring_put_response(&b, &p), -XF_ENOSPC);
    /* Pushed but not yet consumed is not enough either. */
    put_push(&f, 2, 0);
    ck_assert_int_eq(xf_back_ring_put_response(&b, &p), -XF_ENOSPC);
    ck_assert_int_eq(xf_back_ring_get_request(&b, &q), 1);
    ck_assert_int_eq(xf_back_ring_put_response(&b, &p), 0);
    ck_assert_int_eq(xf_back_ring_put_response(&b, &p), -XF_ENOSPC);
    ck_assert_int_eq(xf_back_ring_error(&b), 0);
    ck_assert_uint_eq(shared(page)->rsp_prod, 0);  /* nothing published */
    free(page);
}
END_TEST

/* ------------------------------------------------------ event indices */

/*
 * Whatever the peer writes into req_event/rsp_event (in the past, far in the
 * future, garbage), push publishes the same index and slots and decides
 * notify exactly as Xen's macro does on an identical page; the ring keeps
 * working afterwards.
 */
START_TEST(test_hostile_event_indices)
{
    uint64_t rng = 0xe7e7;
    void *po = rt_pages(0, 0), *px = rt_pages(0, 0);
    struct xf_front_ring f;
    struct xf_back_ring b;
    netif_tx_front_ring_t xf;
    netif_tx_back_ring_t xb;
    unsigned notified[2] = { 0, 0 };

    ck_assert_ptr_nonnull(po);
    ck_assert_ptr_nonnull(px);
    ck_assert_int_eq(xf_front_ring_init(&f, po, XF_PAGE_SIZE, TX), 0);
    ck_assert_int_eq(xf_back_ring_init(&b, po, XF_PAGE_SIZE, TX), 0);
    XEN_FRONT_RING_INIT(&xf, (netif_tx_sring_t *)px, XF_PAGE_SIZE);
    BACK_RING_INIT(&xb, (netif_tx_sring_t *)px, XF_PAGE_SIZE);

    for (unsigned round = 0; round < 4000; round++) {
        unsigned k = 1 + rt_below(&rng, 40);
        RING_IDX old = f.req_pushed, now = old + k, ev;
        bool n1, n2;

        switch (rt_below(&rng, 8)) {
        case 0: ev = old; break;                       /* already passed */
        case 1: ev = old + 1; break;                   /* the first new one */
        case 2: ev = now; break;                       /* the last new one */
        case 3: ev = now + 1; break;                   /* the next one */
        case 4: ev = old - rt_below(&rng, 1000); break;/* in the past */
        case 5: ev = now + 0x80000000u; break;         /* far future */
        case 6: ev = old + rt_below(&rng, k + 1); break;
        default: ev = (RING_IDX)rt_rand(&rng); break;  /* garbage */
        }
        for (unsigned i = 0; i < k; i++) {
            struct netif_tx_request q = tx_req((uint16_t)i);

            ck_assert_int_eq(xf_front_ring_put_request(&f, &q), 0);
            *RING_GET_REQUEST(&xf, xf.req_prod_pvt) = q;
            xf.req_prod_pvt++;
        }
        shared(po)->req_event = ev;
        shared(px)->req_event = ev;
        n1 = xf_front_ring_push(&f);
        RING_PUSH_REQUESTS_AND_CHECK_NOTIFY(&xf, n2);
        ck_assert_msg(n1 == n2, "req_event %#x old %#x new %#x: %d vs Xen %d",
                      ev, old, now, n1, n2);
        ck_assert_int_eq(n1, (RING_IDX)(now - ev) < (RING_IDX)(now - old));
        notified[0] += n1;

        /* The back end answers them all, facing a hostile rsp_event. */
        ev = (RING_IDX)rt_rand(&rng);
        if (rt_below(&rng, 2))
            ev = b.rsp_prod_pvt + rt_below(&rng, k + 2);  /* near the window */
        for (unsigned i = 0; i < k; i++) {
            struct netif_tx_request q1, q2;
            struct netif_tx_response p;

            ck_assert_int_eq(xf_back_ring_get_request(&b, &q1), 1);
            RING_COPY_REQUEST(&xb, xb.req_cons, &q2);
            xb.req_cons++;
            ck_assert(memcmp(&q1, &q2, sizeof(q1)) == 0);
            p.id = q1.id;
            p.status = NETIF_RSP_OKAY;
            ck_assert_int_eq(xf_back_ring_put_response(&b, &p), 0);
            *RING_GET_RESPONSE(&xb, xb.rsp_prod_pvt) = p;
            xb.rsp_prod_pvt++;
        }
        ck_assert_int_eq(xf_back_ring_get_request(&b, &(struct netif_tx_request){ 0 }), 0);
        old = shared(po)->rsp_prod;
        shared(po)->rsp_event = ev;
        shared(px)->rsp_event = ev;
        n1 = xf_back_ring_push(&b);
        RING_PUSH_RESPONSES_AND_CHECK_NOTIFY(&xb, n2);
        ck_assert_msg(n1 == n2, "rsp_event %#x: %d vs Xen %d", ev, n1, n2);
        ck_assert_int_eq(n1, (RING_IDX)(old + k - ev) < (RING_IDX)k);
        notified[1] += n1;
        /* A second push with nothing new never notifies, whatever rsp_event. */
        shared(po)->rsp_event = (RING_IDX)rt_rand(&rng);
        shared(px)->rsp_event = shared(po)->rsp_event;
        n1 = xf_back_ring_push(&b);
        RING_PUSH_RESPONSES_AND_CHECK_NOTIFY(&xb, n2);
        ck_assert_int_eq(n1, false);
        ck_assert_int_eq(n2, false);

        /* The front end takes them all back; final checks re-arm. */
        {
            struct netif_tx_response p;
            unsigned got = 0;

            while (xf_front_ring_get_response(&f, &p) == 1)
                got++;
            ck_assert_uint_eq(got, k);
            xf.rsp_cons = xf.sring->rsp_prod;
        }
        ck_assert_int_eq(xf_front_ring_final_check(&f), 0);
        ck_assert_int_eq(xf_back_ring_final_check(&b), 0);
        ck_assert_uint_eq(shared(po)->req_prod, f.req_prod_pvt);
        ck_assert_uint_eq(shared(po)->rsp_prod, f.req_prod_pvt);
        ck_assert_int_eq(xf_front_ring_error(&f), 0);
        ck_assert_int_eq(xf_back_ring_error(&b), 0);
        /* The slots the two pages hold are the same. */
        ck_assert(memcmp((char *)po + XF_RING_HDR_SIZE, (char *)px + XF_RING_HDR_SIZE,
                         XF_PAGE_SIZE - XF_RING_HDR_SIZE) == 0);
    }
    /* Both outcomes happened, in both directions. */
    ck_assert_uint_gt(notified[0], 0);
    ck_assert_uint_lt(notified[0], 4000);
    ck_assert_uint_gt(notified[1], 0);
    ck_assert_uint_lt(notified[1], 4000);
    free(po);
    free(px);
}
END_TEST

/* ----------------------------------------------------------- copy-once */

/* What get_response returned is the caller's: rewriting the slot afterwards
 * (a back end trying to change a response after validation) changes nothing. */
START_TEST(test_copy_is_private)
{
    void *page = rt_pages(0, 0);
    struct xf_front_ring f;
    struct xf_back_ring b;
    struct netif_tx_response p, *slot;
    struct netif_tx_request q;

    ck_assert_ptr_nonnull(page);
    ck_assert_int_eq(xf_front_ring_init(&f, page, XF_PAGE_SIZE, TX), 0);
    ck_assert_int_eq(xf_back_ring_init(&b, page, XF_PAGE_SIZE, TX), 0);
    put_push(&f, 1, 42);
    ck_assert_int_eq(xf_back_ring_get_request(&b, &q), 1);
    /* Same for requests on the back end. */
    ((union netif_tx_sring_entry *)((char *)page + XF_RING_HDR_SIZE))[0].req.id = 666;
    ck_assert_uint_eq(q.id, 42);
    p.id = 42;
    p.status = NETIF_RSP_OKAY;
    ck_assert_int_eq(xf_back_ring_put_response(&b, &p), 0);
    xf_back_ring_push(&b);
    memset(&p, 0, sizeof(p));
    ck_assert_int_eq(xf_front_ring_get_response(&f, &p), 1);
    slot = &((union netif_tx_sring_entry *)((char *)page + XF_RING_HDR_SIZE))[0].rsp;
    slot->id = 0xdead;
    slot->status = NETIF_RSP_ERROR;
    ck_assert_uint_eq(p.id, 42);
    ck_assert_int_eq(p.status, NETIF_RSP_OKAY);
    free(page);
}
END_TEST

/*
 * A back end flips a response slot between two records while the front end
 * copies it. The copy may mix fields of the two (which is why the caller
 * validates the copy, not the slot), but each naturally aligned 8-byte word
 * is read with one load (xf_copy_from_shared), so blkif's 64-bit id is one
 * of the values written, never a torn hybrid.
 */
struct flipper {
    volatile uint64_t *words;   /* the first two words of every slot */
    unsigned nslots;
    atomic_bool stop;
    uint64_t flips;
};

#define ID_A 0x1111111111111111ull
#define ID_B 0x2222222222222222ull
#define W1_A 0x0001000000000001ull  /* operation 1, status 1 */
#define W1_B 0x0002000000000002ull

static void *flip_slots(void *arg)
{
    struct flipper *fl = arg;

    while (!atomic_load_explicit(&fl->stop, memory_order_relaxed)) {
        bool a = fl->flips++ & 1;

        for (unsigned i = 0; i < fl->nslots; i++) {
            volatile uint64_t *w = fl->words + i * (sizeof(union blkif_sring_entry) / 8);

            w[0] = a ? ID_A : ID_B;
            w[1] = a ? W1_A : W1_B;
        }
        /* Let the copier run where threads are serialised (valgrind). */
        if ((fl->flips & 63) == 0)
            sched_yield();
    }
    return NULL;
}

START_TEST(test_copy_no_torn_words)
{
    uint64_t iters = rt_iters(1000000) / 5;
    void *page = rt_pages(0, 0);
    struct xf_front_ring f;
    struct flipper fl;
    pthread_t t;
    uint64_t mixed = 0;

    ck_assert_ptr_nonnull(page);
    ck_assert_int_eq(xf_front_ring_init(&f, page, XF_PAGE_SIZE, XF_RING_SHAPE(blkif)), 0);
    _Static_assert(sizeof(union blkif_sring_entry) % 8 == 0, "blkif slots stay 8-aligned");
    fl.words = (volatile uint64_t *)(void *)((char *)page + XF_RING_HDR_SIZE);
    fl.nslots = xf_front_ring_size(&f);
    atomic_init(&fl.stop, false);
    fl.flips = 0;
    ck_assert_int_eq(pthread_create(&t, NULL, flip_slots, &fl), 0);

    for (uint64_t i = 0; i < iters; i++) {
        /* Aligned destination, as a caller's struct blkif_response is. */
        struct blkif_response p;
        struct blkif_request q;
        uint64_t q0, q1, w1;

        /* Requests are put into slots the flipper is scribbling over; the
         * back end (this thread) publishes one response per request. */
        memset(&q, 0, sizeof(q));
        q.id = i;
        memcpy(&q0, &q, sizeof(q0));
        memcpy(&q1, (char *)&q + 8, sizeof(q1));
        ck_assert_int_eq(xf_front_ring_put_request(&f, &q), 0);
        xf_front_ring_push(&f);
        XF_WRITE_ONCE(shared(page)->rsp_prod, f.req_pushed);
        ck_assert_int_eq(xf_front_ring_get_response(&f, &p), 1);
        /* Legal: either record, or our own request if the flipper had not
         * reached the slot again since put_request overwrote it. */
        ck_assert_msg(p.id == ID_A || p.id == ID_B || p.id == q0, "torn id %#" PRIx64, p.id);
        memcpy(&w1, (char *)&p + 8, sizeof(w1));
        ck_assert_msg(w1 == W1_A || w1 == W1_B || w1 == q1, "torn word %#" PRIx64, w1);
        mixed += (p.id == ID_A) != (w1 == W1_A);
    }
    atomic_store(&fl.stop, true);
    pthread_join(t, NULL);
    fprintf(stderr, "# %" PRIu64 " copies under a flipping back end, %" PRIu64
            " flips, %" PRIu64 " mixed records (legal: the caller validates the copy)\n",
            iters, fl.flips, mixed);
    free(page);
}
END_TEST

/* ------------------------------------------------ multi-page, end to end */

static void multipage(unsigned order, struct xf_ring_shape shape, uint32_t xen_size)
{
    size_t bytes = (size_t)XF_PAGE_SIZE << order;
    void *page = rt_pages(order, 0x77);
    struct xf_front_ring f;
    struct xf_back_ring b;
    unsigned char q[128], p[128];
    uint64_t seq = 0, rseq = 0;
    uint32_t nr;

    ck_assert_ptr_nonnull(page);
    ck_assert_int_eq(xf_front_ring_init(&f, page, bytes, shape), 0);
    ck_assert_int_eq(xf_back_ring_init(&b, page, bytes, shape), 0);
    nr = xf_front_ring_size(&f);
    ck_assert_uint_eq(nr, xen_size);
    ck_assert_uint_le(shape.req_size, sizeof(q));

    /* Three full cycles: fill, drain; the slot index wraps each cycle. */
    for (int cycle = 0; cycle < 3; cycle++) {
        unsigned got = 0;

        for (uint32_t i = 0; i < nr; i++) {
            memset(q, 0, sizeof(q));
            memcpy(q, &seq, sizeof(seq));
            seq++;
            ck_assert_int_eq(xf_front_ring_put_request(&f, q), 0);
        }
        ck_assert_int_eq(xf_front_ring_put_request(&f, q), -XF_ENOSPC);
        ck_assert(xf_front_ring_push(&f));  /* the back end armed req_event */
        for (;;) {
            uint64_t s;
            int rc = xf_back_ring_get_request(&b, q);

            if (rc == 0)
                break;
            ck_assert_int_eq(rc, 1);
            memcpy(&s, q, sizeof(s));
            ck_assert_uint_eq(s, rseq + got);
            memset(p, 0, sizeof(p));
            memcpy(p, &s, sizeof(s) < shape.rsp_size ? sizeof(s) : shape.rsp_size);
            ck_assert_int_eq(xf_back_ring_put_response(&b, p), 0);
            got++;
        }
        ck_assert_uint_eq(got, nr);
        ck_assert_int_eq(xf_back_ring_final_check(&b), 0);
        ck_assert(xf_back_ring_push(&b));   /* the front end armed rsp_event */
        for (got = 0; xf_front_ring_get_response(&f, p) == 1; got++) {
            uint64_t s = 0;

            memcpy(&s, p, sizeof(s) < shape.rsp_size ? sizeof(s) : shape.rsp_size);
            if (shape.rsp_size >= sizeof(s))
                ck_assert_uint_eq(s, rseq + got);
        }
        ck_assert_uint_eq(got, nr);
        rseq += nr;
        ck_assert_int_eq(xf_front_ring_final_check(&f), 0);
        ck_assert_uint_eq(xf_front_ring_free(&f), nr);
    }
    ck_assert_int_eq(xf_front_ring_error(&f), 0);
    ck_assert_int_eq(xf_back_ring_error(&b), 0);
    free(page);
}

START_TEST(test_multipage_end_to_end)
{
    void *big = rt_pages(4, 0);

    ck_assert_ptr_nonnull(big);
    for (unsigned order = 1; order <= 4; order++) {
        size_t bytes = (size_t)XF_PAGE_SIZE << order;

        multipage(order, XF_RING_SHAPE(netif_tx), __RING_SIZE((netif_tx_sring_t *)big, bytes));
        multipage(order, XF_RING_SHAPE(blkif), __RING_SIZE((blkif_sring_t *)big, bytes));
        multipage(order, XF_RING_SHAPE(rt), __RING_SIZE((rt_sring_t *)big, bytes));
    }
    free(big);
}
END_TEST

/* ------------------------------------------------------ 2^32 wrap-around */

/*
 * Attached just below 2^32, the layer and Xen's macros on a second page
 * agree on every notify decision, final check, index and byte while the
 * free-running indices wrap through 0; and the hardening checks still work
 * across the wrap.
 */
START_TEST(test_wrap_matches_xen)
{
    static const RING_IDX starts[] = { 0xffffffffu, 0xfffffffdu, 0xffffff00u, 0x7ffffff0u };

    for (size_t si = 0; si < XF_ARRAY_SIZE(starts); si++) {
        RING_IDX start = starts[si];
        void *po = rt_pages(0, 0), *px = rt_pages(0, 0);
        struct xf_front_ring f;
        struct xf_back_ring b;
        netif_tx_front_ring_t xf;
        netif_tx_back_ring_t xb;
        uint64_t rng = start;

        ck_assert_ptr_nonnull(po);
        ck_assert_ptr_nonnull(px);
        /* Both pages as a reconnected ring at `start`. */
        ck_assert_int_eq(xf_front_ring_init(&f, po, XF_PAGE_SIZE, TX), 0);
        SHARED_RING_INIT((netif_tx_sring_t *)px);
        for (int i = 0; i < 2; i++) {
            struct xf_generic_sring *s = shared(i ? px : po);

            s->req_prod = s->rsp_prod = start;
            s->req_event = s->rsp_event = start + 1;
        }
        ck_assert_int_eq(xf_front_ring_attach(&f, po, XF_PAGE_SIZE, TX, start), 0);
        ck_assert_int_eq(xf_back_ring_attach(&b, po, XF_PAGE_SIZE, TX, start), 0);
        FRONT_RING_ATTACH(&xf, (netif_tx_sring_t *)px, start, XF_PAGE_SIZE);
        BACK_RING_ATTACH(&xb, (netif_tx_sring_t *)px, start, XF_PAGE_SIZE);

        for (int round = 0; round < 12; round++) {
            unsigned k = 1 + rt_below(&rng, 256);
            bool n1, n2;
            unsigned w2;
            int w1;

            for (unsigned i = 0; i < k; i++) {
                struct netif_tx_request q = tx_req((uint16_t)(round * 300 + i));

                ck_assert_int_eq(xf_front_ring_put_request(&f, &q), 0);
                *RING_GET_REQUEST(&xf, xf.req_prod_pvt) = q;
                xf.req_prod_pvt++;
            }
            ck_assert_uint_eq(xf_front_ring_free(&f), RING_FREE_REQUESTS(&xf));
            n1 = xf_front_ring_push(&f);
            RING_PUSH_REQUESTS_AND_CHECK_NOTIFY(&xf, n2);
            ck_assert_int_eq(n1, n2);
            /* The back end takes only some, answers them, and re-checks. */
            for (unsigned i = 0; i < k / 2 + 1; i++) {
                struct netif_tx_request q1, q2;
                struct netif_tx_response p;

                ck_assert_int_eq(xf_back_ring_get_request(&b, &q1), 1);
                RING_COPY_REQUEST(&xb, xb.req_cons, &q2);
                xb.req_cons++;
                ck_assert(memcmp(&q1, &q2, sizeof(q1)) == 0);
                p.id = q1.id;
                p.status = NETIF_RSP_OKAY;
                ck_assert_int_eq(xf_back_ring_put_response(&b, &p), 0);
                *RING_GET_RESPONSE(&xb, xb.rsp_prod_pvt) = p;
                xb.rsp_prod_pvt++;
            }
            n1 = xf_back_ring_push(&b);
            RING_PUSH_RESPONSES_AND_CHECK_NOTIFY(&xb, n2);
            ck_assert_int_eq(n1, n2);
            w1 = xf_back_ring_final_check(&b);
            RING_FINAL_CHECK_FOR_REQUESTS(&xb, w2);
            ck_assert_int_eq(w1, (int)w2);
            /* Drain the rest. */
            while (RING_HAS_UNCONSUMED_REQUESTS(&xb)) {
                struct netif_tx_request q1, q2;
                struct netif_tx_response p = { 0, 0 };

                ck_assert_int_eq(xf_back_ring_get_request(&b, &q1), 1);
                RING_COPY_REQUEST(&xb, xb.req_cons, &q2);
                xb.req_cons++;
                p.id = q1.id;
                ck_assert_int_eq(xf_back_ring_put_response(&b, &p), 0);
                *RING_GET_RESPONSE(&xb, xb.rsp_prod_pvt) = p;
                xb.rsp_prod_pvt++;
            }
            n1 = xf_back_ring_push(&b);
            RING_PUSH_RESPONSES_AND_CHECK_NOTIFY(&xb, n2);
            ck_assert_int_eq(n1, n2);
            w1 = xf_back_ring_final_check(&b);
            RING_FINAL_CHECK_FOR_REQUESTS(&xb, w2);
            ck_assert_int_eq(w1, (int)w2);
            /* The front end consumes everything and goes idle. */
            for (;;) {
                struct netif_tx_response p1, p2;
                int rc = xf_front_ring_get_response(&f, &p1);

                ck_assert_int_eq(rc, RING_HAS_UNCONSUMED_RESPONSES(&xf) ? 1 : 0);
                if (rc == 0)
                    break;
                RING_COPY_RESPONSE(&xf, xf.rsp_cons, &p2);
                xf.rsp_cons++;
                ck_assert(memcmp(&p1, &p2, sizeof(p1)) == 0);
            }
            w1 = xf_front_ring_final_check(&f);
            RING_FINAL_CHECK_FOR_RESPONSES(&xf, w2);
            ck_assert_int_eq(w1, (int)w2);
            ck_assert(memcmp(po, px, XF_PAGE_SIZE) == 0);
            ck_assert_uint_eq(f.rsp_cons, xf.rsp_cons);
        }
        /* The indices really did cross 2^32 (for the starts near it). */
        if (start > 0xfffff000u)
            ck_assert_uint_lt(f.req_prod_pvt, start);

        /* Hardening across the wrap: one response too many is caught. */
        log_setup();
        put_push(&f, 2, 0);
        shared(po)->rsp_prod = f.req_pushed + 1;
        ck_assert_int_eq(xf_front_ring_final_check(&f), -XF_EPROTO);
        ck_assert_int_eq(warn_count, 1);
        log_teardown();
        free(po);
        free(px);
    }
}
END_TEST

/* Attach right at the edge: a full ring whose indices straddle 2^32. */
START_TEST(test_wrap_full_ring)
{
    void *page = rt_pages(0, 0);
    struct xf_front_ring f;
    struct xf_back_ring b;
    struct netif_tx_request q = tx_req(1);
    RING_IDX start = 0xffffff80u;  /* half the ring below 2^32 */

    ck_assert_ptr_nonnull(page);
    ck_assert_int_eq(xf_front_ring_init(&f, page, XF_PAGE_SIZE, TX), 0);
    shared(page)->req_prod = shared(page)->rsp_prod = start;
    shared(page)->req_event = shared(page)->rsp_event = start + 1;
    ck_assert_int_eq(xf_front_ring_attach(&f, page, XF_PAGE_SIZE, TX, start), 0);
    ck_assert_int_eq(xf_back_ring_attach(&b, page, XF_PAGE_SIZE, TX, start), 0);
    for (unsigned i = 0; i < 256; i++)
        ck_assert_int_eq(xf_front_ring_put_request(&f, &q), 0);
    ck_assert_int_eq(xf_front_ring_put_request(&f, &q), -XF_ENOSPC);
    ck_assert_uint_eq(xf_front_ring_outstanding(&f), 256);
    ck_assert(xf_front_ring_push(&f));
    ck_assert_uint_eq(shared(page)->req_prod, 0x80u);
    ck_assert_int_eq(xf_back_ring_final_check(&b), 256);
    ck_assert_uint_eq(answer_all(&b), 256);
    ck_assert_int_eq(xf_front_ring_final_check(&f), 256);
    free(page);
}
END_TEST

static Suite *hostile_suite(void)
{
    Suite *s = suite_create("ring_hostile");
    TCase *tc = tcase_create("hostile");

    tcase_set_timeout(tc, 600);
    tcase_add_test(tc, test_front_rsp_prod_ahead);
    tcase_add_test(tc, test_front_rsp_prod_backwards);
    tcase_add_test(tc, test_front_rsp_for_unpushed);
    tcase_add_test(tc, test_back_req_prod_overflow);
    tcase_add_test(tc, test_back_req_prod_full_is_legal);
    tcase_add_test(tc, test_back_req_prod_backwards);
    tcase_add_test(tc, test_full_ring_enospc);
    tcase_add_test(tc, test_put_response_needs_request);
    tcase_add_test(tc, test_hostile_event_indices);
    tcase_add_test(tc, test_copy_is_private);
    tcase_add_test(tc, test_copy_no_torn_words);
    tcase_add_test(tc, test_multipage_end_to_end);
    tcase_add_test(tc, test_wrap_matches_xen);
    tcase_add_test(tc, test_wrap_full_ring);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return xf_check_run(hostile_suite());
}
