/*
 * The simulated netback keeps Linux 6.1's transmit rules (the reference's
 * section 1.4): a white-box test that writes raw requests on netfront's tx
 * ring (bypassing the library, which never sends these) and checks what the
 * back end does: accept 19 data slots, drop 20-21 with ERROR responses,
 * fatal at 22, fatal for a packet published in part, a slot crossing its
 * page, a bad extra, GSO size 0, an impossible request count; drop a first
 * slot below 14 bytes; answer a zero-size follow-on OKAY.
 */
#include "netfront_test.h"

#include "../src/private.h"

static int16_t statuses[64];
static unsigned nstatus;

static bool rec_hook(void *arg, unsigned q, unsigned slot, netif_tx_response_t *rsp)
{
    (void)arg;
    (void)q;
    (void)slot;
    if (nstatus < 64)
        statuses[nstatus++] = rsp->status;
    return true;
}

static struct nf_queue *q0(void)
{
    return nf->q[0];
}

/* Put raw requests on the ring (slot i of the batch) and push. */
static void raw_tx(const netif_tx_request_t *reqs, unsigned n)
{
    struct nf_queue *q = q0();

    for (unsigned i = 0; i < n; i++)
        memcpy(xf_front_ring_req_slot(&q->tx, i), &reqs[i], sizeof(reqs[i]));
    xf_front_ring_produce(&q->tx, n);
    (void)xf_front_ring_push(&q->tx);
}

static netif_tx_request_t req(unsigned i, uint16_t size, uint16_t flags)
{
    netif_tx_request_t r;

    memset(&r, 0, sizeof(r));
    r.gref = q0()->pool_ref[i % 32];
    r.id = (uint16_t)i;
    r.size = size;
    r.flags = flags;
    return r;
}

static void up(void)
{
    struct xf_netfront_config c;

    world_up_cfg(NULL);
    fcfg_default(&c);
    nf_up(&c);
    nstatus = 0;
    xf_netback_set_hooks(be, rec_hook, NULL, NULL);
}

/* A packet of ndata slots of 100 bytes each. */
static void chain(unsigned ndata)
{
    netif_tx_request_t r[32];

    for (unsigned i = 0; i < ndata; i++)
        r[i] = req(i, (uint16_t)(i == 0 ? 100 * ndata : 100),
                   i + 1 < ndata ? NETTXF_more_data : 0);
    raw_tx(r, ndata);
}

START_TEST(test_slot_limits)
{
    struct xf_netback_pkt p;

    up();
    chain(19);                                  /* 18 follow-on: accepted */
    ck_assert_int_eq(xf_netback_tx_process(be, 0), 1);
    ck_assert(xf_netback_tx_take(be, &p));
    ck_assert_uint_eq(p.len, 1900);
    ck_assert_uint_eq(p.slots, 19);
    xf_netback_pkt_free(&p);
    for (unsigned i = 0; i < nstatus; i++)
        ck_assert_int_eq(statuses[i], NETIF_RSP_OKAY);
    ck_assert_uint_eq(nstatus, 19);
    nstatus = 0;
    chain(20);                                  /* dropped, all ERROR */
    ck_assert_int_eq(xf_netback_tx_process(be, 0), 1);
    ck_assert_uint_eq(xf_netback_tx_queued(be), 0);
    ck_assert_uint_eq(nstatus, 20);
    for (unsigned i = 0; i < nstatus; i++)
        ck_assert_int_eq(statuses[i], NETIF_RSP_ERROR);
    nstatus = 0;
    chain(21);
    ck_assert_int_eq(xf_netback_tx_process(be, 0), 1);
    ck_assert_uint_eq(nstatus, 21);
    ck_assert_str_eq(xf_netback_fatal(be), "");
    chain(22);                                  /* fatal */
    ck_assert_int_eq(xf_netback_tx_process(be, 0), -1);
    ck_assert(strstr(xf_netback_fatal(be), "Malicious frontend") != NULL);
    world_down();
}
END_TEST

START_TEST(test_fatal_cases)
{
    netif_tx_request_t r[4];
    netif_extra_info_t ex;

    /* published in part */
    up();
    r[0] = req(0, 200, NETTXF_more_data);
    raw_tx(r, 1);
    ck_assert_int_eq(xf_netback_tx_process(be, 0), -1);
    ck_assert(strstr(xf_netback_fatal(be), "exceeds this limit") != NULL);
    world_down();
    /* a follow-on slot crossing its page */
    up();
    r[0] = req(0, 200, NETTXF_more_data);
    r[1] = req(1, 100, 0);
    r[1].offset = 4000;
    raw_tx(r, 2);
    ck_assert_int_eq(xf_netback_tx_process(be, 0), -1);
    ck_assert(strstr(xf_netback_fatal(be), "Cross page boundary") != NULL);
    world_down();
    /* extra type 0; GSO size 0; extras missing */
    for (int k = 0; k < 3; k++) {
        up();
        r[0] = req(0, 100, NETTXF_extra_info);
        memset(&ex, 0, sizeof(ex));
        ex.type = k == 0 ? 0 : XEN_NETIF_EXTRA_TYPE_GSO;
        ex.u.gso.type = XEN_NETIF_GSO_TYPE_TCPV4;
        ex.u.gso.size = 0;
        memset(&r[1], 0, sizeof(r[1]));
        memcpy(&r[1], &ex, sizeof(ex));
        raw_tx(r, k == 2 ? 1 : 2);
        ck_assert_int_eq(xf_netback_tx_process(be, 0), -1);
        ck_assert(strstr(xf_netback_fatal(be), k == 0 ? "Invalid extra type"
                                                 : k == 1 ? "GSO size" : "Missing extra") != NULL);
        world_down();
    }
    /* more requests than the ring holds */
    up();
    xf_netback_lock(be);
    xf_netback_tx_sring(be, 0)->req_prod += 300;
    xf_netback_unlock(be);
    ck_assert_int_eq(xf_netback_tx_process(be, 0), -1);
    ck_assert(strstr(xf_netback_fatal(be), "Impossible number") != NULL);
    world_down();
}
END_TEST

START_TEST(test_drops_and_zero_size)
{
    netif_tx_request_t r[3];
    struct xf_netback_pkt p;

    up();
    r[0] = req(0, 10, 0);                       /* below ETH_HLEN */
    raw_tx(r, 1);
    ck_assert_int_eq(xf_netback_tx_process(be, 0), 1);
    ck_assert_uint_eq(nstatus, 1);
    ck_assert_int_eq(statuses[0], NETIF_RSP_ERROR);
    nstatus = 0;
    r[0] = req(1, 100, NETTXF_more_data);       /* sizes that do not add up */
    r[1] = req(2, 200, 0);
    raw_tx(r, 2);
    ck_assert_int_eq(xf_netback_tx_process(be, 0), 1);
    ck_assert_int_eq(statuses[0], NETIF_RSP_ERROR);
    ck_assert_int_eq(statuses[1], NETIF_RSP_ERROR);
    nstatus = 0;
    r[0] = req(3, 100, NETTXF_more_data);       /* zero-size follow-on: OKAY */
    r[1] = req(4, 0, NETTXF_more_data);
    r[2] = req(5, 40, 0);
    raw_tx(r, 3);
    ck_assert_int_eq(xf_netback_tx_process(be, 0), 1);
    ck_assert_uint_eq(nstatus, 3);
    for (unsigned i = 0; i < 3; i++)
        ck_assert_int_eq(statuses[i], NETIF_RSP_OKAY);
    ck_assert(xf_netback_tx_take(be, &p));
    ck_assert_uint_eq(p.len, 100);
    xf_netback_pkt_free(&p);
    ck_assert_str_eq(xf_netback_fatal(be), "");
    world_down();
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("netback_rules");
    TCase *tc = tcase_create("rules");

    tcase_set_timeout(tc, 180);
    tcase_add_test(tc, test_slot_limits);
    tcase_add_test(tc, test_fatal_cases);
    tcase_add_test(tc, test_drops_and_zero_size);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return xf_check_run(suite());
}
