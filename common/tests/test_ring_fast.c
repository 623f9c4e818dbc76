/*
 * The ring layer's fast path (typed slots, batch consumers) against Xen's
 * own io/ring.h macros on the other side of the same page, and against
 * hostile producers: the same answers as the generic functions, the same
 * hardening.
 */
#include "ring_test_util.h"
#include "xf_check.h"

#include <xen/grant_table.h>
#include <xen/io/blkif.h>
#include <xen/io/netif.h>

/* A fast-path front end against Xen's back end, random batch sizes,
 * through many wraps; every field of every record checked both ways. */
START_TEST(fast_front_vs_xen_back_netif_tx)
{
    void *page = rt_pages(0, 0xa5);
    struct xf_front_ring f;
    netif_tx_back_ring_t b;
    uint64_t seed = 7, sent = 0, got = 0, served = 0;
    uint64_t n = rt_iters(200000);

    ck_assert_int_eq(xf_front_ring_init(&f, page, XF_PAGE_SIZE, XF_RING_SHAPE(netif_tx)), 0);
    BACK_RING_INIT(&b, (netif_tx_sring_t *)page, XF_PAGE_SIZE);
    while (got < n) {
        uint32_t k = rt_below(&seed, xf_front_ring_free(&f) + 1);
        struct netif_tx_response rsp[64];
        RING_IDX rp;
        bool notify;
        int m;

        if (k > n - sent)
            k = (uint32_t)(n - sent);
        for (uint32_t i = 0; i < k; i++) {
            struct netif_tx_request *q = XF_FRONT_RING_REQ(&f, netif_tx, i);

            q->gref = (grant_ref_t)(sent + i);
            q->offset = (uint16_t)((sent + i) & 0xfff);
            q->flags = (uint16_t)((sent + i) >> 12);
            q->id = (uint16_t)(sent + i);
            q->size = (uint16_t)((sent + i) * 7);
        }
        xf_front_ring_produce(&f, k);
        sent += k;
        (void)xf_front_ring_push(&f);
        /* Xen's back end answers a random part of what it sees. */
        rp = b.sring->req_prod;
        xen_rmb();
        for (uint32_t j = rt_below(&seed, 40); b.req_cons != rp && j > 0; j--) {
            struct netif_tx_request q;

            RING_COPY_REQUEST(&b, b.req_cons, &q);
            b.req_cons++;
            ck_assert_uint_eq(q.gref, (grant_ref_t)served);
            ck_assert_uint_eq(q.offset, (uint16_t)(served & 0xfff));
            ck_assert_uint_eq(q.flags, (uint16_t)(served >> 12));
            ck_assert_uint_eq(q.id, (uint16_t)served);
            ck_assert_uint_eq(q.size, (uint16_t)(served * 7));
            *RING_GET_RESPONSE(&b, b.rsp_prod_pvt) = (struct netif_tx_response){
                .id = q.id, .status = (int16_t)(served % 3) - 1 };
            b.rsp_prod_pvt++;
            served++;
        }
        RING_PUSH_RESPONSES_AND_CHECK_NOTIFY(&b, notify);
        (void)notify;
        while ((m = XF_FRONT_RING_GET_RESPONSES(&f, netif_tx, rsp,
                                                1 + rt_below(&seed, 64))) > 0) {
            for (int i = 0; i < m; i++, got++) {
                ck_assert_uint_eq(rsp[i].id, (uint16_t)got);
                ck_assert_int_eq(rsp[i].status, (int16_t)(got % 3) - 1);
            }
        }
        ck_assert_int_eq(m, 0);
    }
    ck_assert_uint_eq(xf_front_ring_outstanding(&f), 0);
    free(page);
}
END_TEST

/* Xen's front end for the blkif tests: a random run of requests, every
 * field derived from its sequence number, pushed; returns the new count. */
static uint64_t xen_blkif_produce(blkif_front_ring_t *f, uint64_t *seed, uint64_t sent,
                                  uint64_t n)
{
    bool notify;

    while (sent < n && !RING_FULL(f) && rt_below(seed, 8) != 0) {
        struct blkif_request *r = RING_GET_REQUEST(f, f->req_prod_pvt);

        memset(r, 0, sizeof(*r));
        r->operation = (uint8_t)(sent % 4);
        r->nr_segments = (uint8_t)(sent % 12);
        r->id = sent;
        r->sector_number = sent * 8;
        for (int s = 0; s < r->nr_segments; s++)
            r->seg[s].gref = (grant_ref_t)(sent + (uint64_t)s);
        f->req_prod_pvt++;
        sent++;
    }
    RING_PUSH_REQUESTS_AND_CHECK_NOTIFY(f, notify);
    (void)notify;
    return sent;
}

/* ... and its response side: every response in order, OKAY; returns got. */
static uint64_t xen_blkif_drain(blkif_front_ring_t *f, uint64_t got)
{
    RING_IDX rp = f->sring->rsp_prod;

    xen_rmb();
    while (f->rsp_cons != rp) {
        struct blkif_response p;

        RING_COPY_RESPONSE(f, f->rsp_cons, &p);
        f->rsp_cons++;
        ck_assert_uint_eq(p.id, got);
        ck_assert_int_eq(p.status, BLKIF_RSP_OKAY);
        got++;
    }
    return got;
}

/* A back end's side of the same: request `served` is what
 * xen_blkif_produce made of that number, field by field; answer it OKAY. */
static void blkif_check_and_answer(const struct blkif_request *q, uint64_t served,
                                   struct blkif_response *p)
{
    ck_assert_uint_eq(q->operation, (uint8_t)(served % 4));
    ck_assert_uint_eq(q->nr_segments, (uint8_t)(served % 12));
    ck_assert_uint_eq(q->id, served);
    ck_assert_uint_eq(q->sector_number, served * 8);
    for (int s = 0; s < q->nr_segments; s++)
        ck_assert_uint_eq(q->seg[s].gref, (grant_ref_t)(served + (uint64_t)s));
    p->id = q->id;
    p->operation = q->operation;
    p->status = BLKIF_RSP_OKAY;
}

/* Xen's front end against a fast-path back end on a multi-page blkif ring
 * (112-byte slots, responses shorter than requests). */
START_TEST(xen_front_vs_fast_back_blkif)
{
    void *page = rt_pages(2, 0x5a);
    blkif_front_ring_t f;
    struct xf_back_ring b;
    uint64_t seed = 11, sent = 0, got = 0, served = 0;
    uint64_t n = rt_iters(100000);

    SHARED_RING_INIT((blkif_sring_t *)page);
    XEN_FRONT_RING_INIT(&f, (blkif_sring_t *)page, 4 * XF_PAGE_SIZE);
    ck_assert_int_eq(xf_back_ring_init(&b, page, 4 * XF_PAGE_SIZE, XF_RING_SHAPE(blkif)), 0);
    while (got < n) {
        struct blkif_request q[32];
        int m;

        sent = xen_blkif_produce(&f, &seed, sent, n);
        m = XF_BACK_RING_GET_REQUESTS(&b, blkif, q, 1 + rt_below(&seed, 32));
        ck_assert_int_ge(m, 0);
        for (int i = 0; i < m; i++, served++) {
            struct blkif_response *p = XF_BACK_RING_RSP(&b, blkif, (uint32_t)i);

            ck_assert_uint_le((uint32_t)i, xf_back_ring_owed(&b));
            blkif_check_and_answer(&q[i], served, p);
        }
        ck_assert_uint_eq(xf_back_ring_owed(&b), (uint32_t)m);
        xf_back_ring_produce(&b, (uint32_t)m);
        (void)xf_back_ring_push(&b);
        got = xen_blkif_drain(&f, got);
    }
    free(page);
}
END_TEST

/* A back end's rsp_prod beyond the requests pushed breaks the ring in the
 * batch consumer too: nothing is copied, and every later call fails. */
START_TEST(fast_consumer_refuses_overflow)
{
    void *page = rt_pages(0, 0);
    struct xf_front_ring f;
    struct netif_tx_response rsp[8];
    struct netif_tx_response canary;

    ck_assert_int_eq(xf_front_ring_init(&f, page, XF_PAGE_SIZE, XF_RING_SHAPE(netif_tx)), 0);
    for (uint32_t i = 0; i < 3; i++)
        XF_FRONT_RING_REQ(&f, netif_tx, i)->id = (uint16_t)i;
    xf_front_ring_produce(&f, 3);
    (void)xf_front_ring_push(&f);
    memset(rsp, 0x77, sizeof(rsp));
    memset(&canary, 0x77, sizeof(canary));
    ((netif_tx_sring_t *)page)->rsp_prod = 4;      /* one more than asked */
    ck_assert_int_eq(XF_FRONT_RING_GET_RESPONSES(&f, netif_tx, rsp, 8), -XF_EPROTO);
    ck_assert_mem_eq(&rsp[0], &canary, sizeof(canary));
    ck_assert_int_eq(xf_front_ring_error(&f), -XF_EPROTO);
    ((netif_tx_sring_t *)page)->rsp_prod = 1;      /* now plausible: too late */
    ck_assert_int_eq(XF_FRONT_RING_GET_RESPONSES(&f, netif_tx, rsp, 8), -XF_EPROTO);
    ck_assert_int_eq(xf_front_ring_get_response(&f, rsp), -XF_EPROTO);
    free(page);
}
END_TEST

/* rsp_prod going backwards after a snapshot is caught by poll. */
START_TEST(fast_consumer_refuses_backwards)
{
    void *page = rt_pages(0, 0);
    struct xf_front_ring f;
    struct netif_tx_response rsp[8];

    ck_assert_int_eq(xf_front_ring_init(&f, page, XF_PAGE_SIZE, XF_RING_SHAPE(netif_tx)), 0);
    xf_front_ring_produce(&f, 4);
    (void)xf_front_ring_push(&f);
    ((netif_tx_sring_t *)page)->rsp_prod = 3;
    ck_assert_int_eq(XF_FRONT_RING_GET_RESPONSES(&f, netif_tx, rsp, 1), 1);
    ((netif_tx_sring_t *)page)->rsp_prod = 2;      /* behind our snapshot */
    ck_assert_int_eq(xf_front_ring_poll(&f), -XF_EPROTO);
    free(page);
}
END_TEST

/* final_check_ahead(k): Xen's back end (its own macro) notifies only at
 * the k-th response on; 0 and 1 are final_check; with responses already
 * there it reports them and leaves rsp_event alone. */
START_TEST(final_check_ahead_notifies_at_the_kth_response)
{
    void *page = rt_pages(0, 0);
    netif_tx_sring_t *sr = page;
    netif_tx_back_ring_t xb;
    struct xf_front_ring f;
    int notify;

    ck_assert_int_eq(xf_front_ring_init(&f, page, XF_PAGE_SIZE, XF_RING_SHAPE(netif_tx)), 0);
    BACK_RING_INIT(&xb, sr, XF_PAGE_SIZE);
    xf_front_ring_produce(&f, 12);
    (void)xf_front_ring_push(&f);
    xb.req_cons = sr->req_prod;
    ck_assert_int_eq(xf_front_ring_final_check_ahead(&f, 4), 0);
    ck_assert_uint_eq(sr->rsp_event, 4);
    for (int i = 0; i < 3; i++) {                 /* responses 1-3: silent */
        xb.rsp_prod_pvt++;
        RING_PUSH_RESPONSES_AND_CHECK_NOTIFY(&xb, notify);
        ck_assert_int_eq(notify, 0);
    }
    /* Responses are there: reported, the event index untouched. */
    ck_assert_int_eq(xf_front_ring_final_check_ahead(&f, 4), 3);
    ck_assert_uint_eq(sr->rsp_event, 4);
    xb.rsp_prod_pvt++;                            /* the 4th */
    RING_PUSH_RESPONSES_AND_CHECK_NOTIFY(&xb, notify);
    ck_assert_int_eq(notify, 1);
    ck_assert_int_eq(xf_front_ring_poll(&f), 4);
    xf_front_ring_consume(&f, 4);
    ck_assert_int_eq(xf_front_ring_final_check_ahead(&f, 0), 0);   /* 0 = 1 */
    ck_assert_uint_eq(sr->rsp_event, 5);
    xb.rsp_prod_pvt++;
    RING_PUSH_RESPONSES_AND_CHECK_NOTIFY(&xb, notify);
    ck_assert_int_eq(notify, 1);
    free(page);
}
END_TEST

/* A front end that publishes more requests than the ring holds is caught
 * by the back end's batch consumer. */
START_TEST(fast_back_refuses_overflow)
{
    void *page = rt_pages(0, 0);
    struct xf_back_ring b;
    struct netif_tx_request q[4];
    uint32_t n;

    SHARED_RING_INIT((netif_tx_sring_t *)page);
    ck_assert_int_eq(xf_back_ring_init(&b, page, XF_PAGE_SIZE, XF_RING_SHAPE(netif_tx)), 0);
    n = xf_back_ring_size(&b);
    ((netif_tx_sring_t *)page)->req_prod = n + 1;
    ck_assert_int_eq(XF_BACK_RING_GET_REQUESTS(&b, netif_tx, q, 4), -XF_EPROTO);
    ck_assert_int_eq(xf_back_ring_error(&b), -XF_EPROTO);
    free(page);
}
END_TEST

/* A record shorter than its slot: only len bytes are read from the
 * caller, the rest of the slot is zeroed; lengths out of range refused. */
START_TEST(put_record_short_zeroes_the_rest)
{
    void *page = rt_pages(0, 0xee);
    struct xf_front_ring f;
    struct netif_extra_info *ex = malloc(sizeof(*ex));   /* exactly 8 bytes: ASan
                                                             catches an over-read */
    const unsigned char *slot;
    size_t ent = sizeof(union netif_tx_sring_entry);

    ck_assert_ptr_nonnull(ex);
    memset(ex, 0x11, sizeof(*ex));
    ck_assert_int_eq(xf_front_ring_init(&f, page, XF_PAGE_SIZE, XF_RING_SHAPE(netif_tx)), 0);
    ck_assert_uint_lt(sizeof(*ex), sizeof(struct netif_tx_request));
    ck_assert_int_eq(xf_front_ring_put_record(&f, ex, sizeof(*ex)), 0);
    slot = (const unsigned char *)page + XF_RING_HDR_SIZE;
    for (size_t i = 0; i < sizeof(*ex); i++)
        ck_assert_uint_eq(slot[i], 0x11);
    for (size_t i = sizeof(*ex); i < ent; i++)
        ck_assert_uint_eq(slot[i], 0);
    ck_assert_uint_eq(slot[ent], 0xee);            /* the next slot untouched */
    ck_assert_int_eq(xf_front_ring_put_record(&f, ex, 0), -XF_EINVAL);
    ck_assert_int_eq(xf_front_ring_put_record(&f, ex, sizeof(struct netif_tx_request) + 1),
                     -XF_EINVAL);
    ck_assert_uint_eq(xf_front_ring_outstanding(&f), 1);
    free(ex);
    free(page);
}
END_TEST

/* A batch call typed for another ring's slots is refused, not misread. */
START_TEST(fast_consumer_checks_the_shape)
{
    void *page = rt_pages(0, 0);
    struct xf_front_ring f;
    struct netif_rx_response rsp[2];

    ck_assert_int_eq(xf_front_ring_init(&f, page, XF_PAGE_SIZE, XF_RING_SHAPE(netif_tx)), 0);
    xf_front_ring_produce(&f, 1);
    (void)xf_front_ring_push(&f);
    ((netif_tx_sring_t *)page)->rsp_prod = 1;
    ck_assert_int_eq(XF_FRONT_RING_GET_RESPONSES(&f, netif_rx, rsp, 2), -XF_EINVAL);
    ck_assert_int_eq(xf_front_ring_error(&f), 0);
    free(page);
}
END_TEST


/* The per-record consumers (POLL, COPY, consume) on both sides of one
 * page, each against Xen's macros on the other side: random batch sizes,
 * every field of every record checked, through many wraps, and a part of
 * each snapshot left for the next call. */
START_TEST(copy_front_vs_xen_back_netif_tx)
{
    void *page = rt_pages(0, 0x3c);
    struct xf_front_ring f;
    netif_tx_back_ring_t b;
    uint64_t seed = 23, sent = 0, got = 0, served = 0;
    uint64_t n = rt_iters(200000);

    /* xenfront front end, Xen back end. */
    ck_assert_int_eq(xf_front_ring_init(&f, page, XF_PAGE_SIZE, XF_RING_SHAPE(netif_tx)), 0);
    BACK_RING_INIT(&b, (netif_tx_sring_t *)page, XF_PAGE_SIZE);
    while (got < n) {
        uint32_t k = rt_below(&seed, xf_front_ring_free(&f) + 1);
        RING_IDX rp;
        bool notify;
        int m;

        if (k > n - sent)
            k = (uint32_t)(n - sent);
        for (uint32_t i = 0; i < k; i++)
            *XF_FRONT_RING_REQ(&f, netif_tx, i) = (struct netif_tx_request){
                .gref = (grant_ref_t)(sent + i), .id = (uint16_t)(sent + i) };
        xf_front_ring_produce(&f, k);
        sent += k;
        (void)xf_front_ring_push(&f);
        rp = b.sring->req_prod;
        xen_rmb();
        for (uint32_t j = rt_below(&seed, 40); b.req_cons != rp && j > 0; j--) {
            struct netif_tx_request q;

            RING_COPY_REQUEST(&b, b.req_cons, &q);
            b.req_cons++;
            ck_assert_uint_eq(q.id, (uint16_t)served);
            *RING_GET_RESPONSE(&b, b.rsp_prod_pvt) = (struct netif_tx_response){
                .id = q.id, .status = (int16_t)(served % 3) - 1 };
            b.rsp_prod_pvt++;
            served++;
        }
        RING_PUSH_RESPONSES_AND_CHECK_NOTIFY(&b, notify);
        (void)notify;
        m = XF_FRONT_RING_POLL(&f, netif_tx);
        ck_assert_int_ge(m, 0);
        ck_assert_uint_eq((uint64_t)m, served - got);
        m = (int)rt_below(&seed, (uint32_t)m + 1);       /* take part of it */
        for (int i = 0; i < m; i++) {
            struct netif_tx_response rsp;

            XF_FRONT_RING_COPY_RESPONSE(&f, netif_tx, i, &rsp);
            ck_assert_uint_eq(rsp.id, (uint16_t)(got + (uint64_t)i));
            ck_assert_int_eq(rsp.status, (int16_t)((got + (uint64_t)i) % 3) - 1);
        }
        xf_front_ring_consume(&f, (uint32_t)m);
        got += (uint64_t)m;
        if (sent == n && served == n && got < n) {
            m = XF_FRONT_RING_POLL(&f, netif_tx);        /* the rest, at the end */
            for (int i = 0; i < m; i++, got++) {
                struct netif_tx_response rsp;

                XF_FRONT_RING_COPY_RESPONSE(&f, netif_tx, i, &rsp);
                ck_assert_uint_eq(rsp.id, (uint16_t)got);
            }
            xf_front_ring_consume(&f, (uint32_t)m);
        }
    }
    ck_assert_uint_eq(xf_front_ring_outstanding(&f), 0);
    free(page);
}
END_TEST

/* Xen's front end against the per-record back end on a 4-page blkif ring:
 * 112-byte requests copied one at a time, answered in their slots. */
START_TEST(xen_front_vs_copy_back_blkif)
{
    void *page = rt_pages(2, 0x5a);
    blkif_front_ring_t f;
    struct xf_back_ring b;
    uint64_t seed = 29, sent = 0, got = 0, served = 0;
    uint64_t n = rt_iters(100000);

    SHARED_RING_INIT((blkif_sring_t *)page);
    XEN_FRONT_RING_INIT(&f, (blkif_sring_t *)page, 4 * XF_PAGE_SIZE);
    ck_assert_int_eq(xf_back_ring_init(&b, page, 4 * XF_PAGE_SIZE, XF_RING_SHAPE(blkif)), 0);
    while (got < n) {
        int m;

        sent = xen_blkif_produce(&f, &seed, sent, n);
        m = XF_BACK_RING_POLL(&b, blkif);
        ck_assert_int_ge(m, 0);
        ck_assert_uint_eq((uint64_t)m, sent - served);
        m = (int)rt_below(&seed, (uint32_t)m + 1);
        for (int i = 0; i < m; i++, served++) {
            struct blkif_request q;
            struct blkif_response *p;

            XF_BACK_RING_COPY_REQUEST(&b, blkif, i, &q);
            p = XF_BACK_RING_RSP(&b, blkif, (uint32_t)i);
            blkif_check_and_answer(&q, served, p);
        }
        xf_back_ring_consume(&b, (uint32_t)m);
        ck_assert_uint_eq(xf_back_ring_owed(&b), (uint32_t)m);
        xf_back_ring_produce(&b, (uint32_t)m);
        (void)xf_back_ring_push(&b);
        got = xen_blkif_drain(&f, got);
    }
    free(page);
}
END_TEST

/* The per-record consumers are as hardened as the batch ones: a hostile
 * producer index breaks the ring before any slot is read, and a poll typed
 * for another ring's slots is refused without breaking it. */
START_TEST(copy_consumers_refuse_hostile_indices_and_wrong_types)
{
    void *page = rt_pages(0, 0);
    struct xf_front_ring f;
    struct xf_back_ring b;

    ck_assert_int_eq(xf_front_ring_init(&f, page, XF_PAGE_SIZE, XF_RING_SHAPE(netif_tx)), 0);
    xf_front_ring_produce(&f, 3);
    (void)xf_front_ring_push(&f);
    ((netif_tx_sring_t *)page)->rsp_prod = 2;
    ck_assert_int_eq(XF_FRONT_RING_POLL(&f, netif_rx), -XF_EINVAL);
    ck_assert_int_eq(xf_front_ring_error(&f), 0);
    ck_assert_int_eq(XF_FRONT_RING_POLL(&f, netif_tx), 2);
    xf_front_ring_consume(&f, 1);
    ((netif_tx_sring_t *)page)->rsp_prod = 1;      /* behind what we consumed */
    ck_assert_int_eq(XF_FRONT_RING_POLL(&f, netif_tx), -XF_EPROTO);
    ((netif_tx_sring_t *)page)->rsp_prod = 3;      /* plausible again: too late */
    ck_assert_int_eq(XF_FRONT_RING_POLL(&f, netif_tx), -XF_EPROTO);

    memset(page, 0, XF_PAGE_SIZE);
    SHARED_RING_INIT((netif_tx_sring_t *)page);
    ck_assert_int_eq(xf_back_ring_init(&b, page, XF_PAGE_SIZE, XF_RING_SHAPE(netif_tx)), 0);
    ((netif_tx_sring_t *)page)->req_prod = xf_back_ring_size(&b) + 1;   /* overflow */
    ck_assert_int_eq(XF_BACK_RING_POLL(&b, blkif), -XF_EINVAL);
    ck_assert_int_eq(XF_BACK_RING_POLL(&b, netif_tx), -XF_EPROTO);
    ck_assert_int_eq(xf_back_ring_error(&b), -XF_EPROTO);
    free(page);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("ring-fast");
    TCase *tc = tcase_create("fast");

    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, fast_front_vs_xen_back_netif_tx);
    tcase_add_test(tc, xen_front_vs_fast_back_blkif);
    tcase_add_test(tc, fast_consumer_refuses_overflow);
    tcase_add_test(tc, fast_consumer_refuses_backwards);
    tcase_add_test(tc, fast_back_refuses_overflow);
    tcase_add_test(tc, put_record_short_zeroes_the_rest);
    tcase_add_test(tc, fast_consumer_checks_the_shape);
    tcase_add_test(tc, copy_front_vs_xen_back_netif_tx);
    tcase_add_test(tc, xen_front_vs_copy_back_blkif);
    tcase_add_test(tc, copy_consumers_refuse_hostile_indices_and_wrong_types);
    tcase_add_test(tc, final_check_ahead_notifies_at_the_kth_response);
    suite_add_tcase(s, tc);
    return xf_check_run(s);
}
