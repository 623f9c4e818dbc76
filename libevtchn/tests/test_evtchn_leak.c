/*
 * libevtchn: no leaks. A hundred thousand channels of every kind bound and
 * closed (in batches up to the whole port space, closed in scrambled
 * order, some signalled on the way) end with exactly the free ports Xen
 * had at the start, in the guest and in dom0; so does destroying a context
 * that still owns ports.
 */
#include "evtchn_test.h"

#define TOTAL_BINDS 100000u

/* Xen's free ports of a domain: closed, or beyond the valid range. */
static void free_ports(domid_t domid, uint8_t *free_map)
{
    for (evtchn_port_t p = 0; p < XF_EVTCHN_NR_PORTS; p++) {
        struct evtchn_status st;
        long rc;

        memset(&st, 0, sizeof(st));
        st.dom = domid;
        st.port = p;
        rc = xf_sim_event_channel_op(sim, 0, EVTCHNOP_status, &st);
        ck_assert(rc == 0 || rc == -XF_EINVAL);
        free_map[p] = p != 0 && (rc == -XF_EINVAL || st.status == EVTCHNSTAT_closed);
    }
}

static unsigned count(const uint8_t *map)
{
    unsigned n = 0;

    for (unsigned i = 0; i < XF_EVTCHN_NR_PORTS; i++)
        n += map[i];
    return n;
}

struct bound {
    evtchn_port_t port;
    int rport;          /* dom0's end of an interdomain channel, or 0 */
};

static struct bound live[XF_EVTCHN_NR_PORTS];
static unsigned nlive;
static unsigned long binds;

/* Bind one channel of kind k; false when Xen has no port left. */
static bool bind_one(unsigned k)
{
    struct bound b = { 0, 0 };
    int rc;

    switch (k % 8) {
    case 0:
    case 1:
    case 2:
        rc = xf_evtchn_alloc_unbound(ec, 0, record, NULL, &b.port);
        break;
    case 3:
    case 4:
        rc = xf_evtchn_bind_ipi(ec, record, NULL, &b.port);
        break;
    case 5:
        rc = xf_evtchn_alloc_unbound(ec, 0, NULL, NULL, &b.port); /* polled */
        break;
    case 6:
        b.rport = xf_sim_evtchn_alloc_unbound(sim, 0, guest);
        ck_assert_int_gt(b.rport, 0);
        rc = xf_evtchn_bind_interdomain(ec, 0, (evtchn_port_t)b.rport, record, NULL, &b.port);
        if (rc != 0)
            ck_assert_int_eq(xf_sim_evtchn_close(sim, 0, (evtchn_port_t)b.rport), 0);
        break;
    default:
        rc = xf_evtchn_bind_virq(ec, VIRQ_TIMER, record, NULL, &b.port);
        if (rc == -XF_EEXIST)   /* one at a time: another kind instead */
            rc = xf_evtchn_bind_ipi(ec, record, NULL, &b.port);
        break;
    }
    if (rc == -XF_ENOSPC)
        return false;
    ck_assert_int_eq(rc, 0);
    live[nlive++] = b;
    binds++;
    return true;
}

static unsigned gcd(unsigned a, unsigned b)
{
    while (b != 0) {
        unsigned t = a % b;
        a = b;
        b = t;
    }
    return a;
}

static void close_all_scrambled(unsigned seed)
{
    /* A walk by a stride coprime with nlive visits each once. */
    unsigned n = nlive, stride = 1;

    if (n > 1) {
        stride = (seed * 2654435761u) % n;
        while (stride == 0 || gcd(stride, n) != 1)
            stride = (stride + 1) % n;
    }
    for (unsigned i = 0, j = seed % (n ? n : 1); i < n; i++, j = (j + stride) % n) {
        struct bound *b = &live[j];

        ck_assert_int_eq(xf_evtchn_close(ec, b->port), 0);
        ck_assert_int_eq(xf_evtchn_close(ec, b->port), -XF_ENOTCONN);
        if (b->rport > 0)
            ck_assert_int_eq(xf_sim_evtchn_close(sim, 0, (evtchn_port_t)b->rport), 0);
    }
    nlive = 0;
}

START_TEST(test_hundred_thousand_channels)
{
    static uint8_t guest0[XF_EVTCHN_NR_PORTS], dom00[XF_EVTCHN_NR_PORTS];
    static uint8_t guest1[XF_EVTCHN_NR_PORTS], dom01[XF_EVTCHN_NR_PORTS];
    shared_info_t *s = xf_evtchn_shared_info(ec);
    unsigned round = 0, fills = 0;

    free_ports(guest, guest0);
    free_ports(0, dom00);
    ck_assert_uint_eq(count(guest0), XF_EVTCHN_NR_PORTS - 3);

    while (binds < TOTAL_BINDS) {
        /* Every eighth round fills the whole port space; the others bind a
         * batch of varying size. */
        unsigned batch = round % 8 == 0 ? XF_EVTCHN_NR_PORTS : 1 + (round * 389u) % 1500u;
        unsigned k = round;

        while (nlive < batch && binds < TOTAL_BINDS && bind_one(k++))
            ;
        if (batch == XF_EVTCHN_NR_PORTS && binds < TOTAL_BINDS) {
            ck_assert_uint_eq(nlive, count(guest0));
            fills++;
        }
        ck_assert_uint_eq(xf_evtchn_nr_bound(ec), nlive);
        /* Signal some, dispatch part of it, and close with events still
         * pending: closing must not leave them behind. */
        for (unsigned i = 0; i < nlive; i += 3) {
            if (live[i].rport > 0)
                ck_assert_int_eq(xf_sim_evtchn_send(sim, 0, (evtchn_port_t)live[i].rport), 0);
            else
                (void)xf_evtchn_notify(ec, live[i].port);
        }
        ck_assert_int_ge(xf_evtchn_dispatch(ec, nlive / 4), 0);
        close_all_scrambled(round);
        ck_assert_uint_eq(xf_evtchn_nr_bound(ec), 0);
        round++;
    }
    ck_assert_uint_ge(binds, TOTAL_BINDS);
    ck_assert_uint_ge(fills, 3);

    /* The same free ports as at the start, in the guest and in dom0. */
    free_ports(guest, guest1);
    free_ports(0, dom01);
    ck_assert_mem_eq(guest0, guest1, sizeof(guest0));
    ck_assert_mem_eq(dom00, dom01, sizeof(dom00));
    /* And the free ports are clean: masked, nothing pending. */
    for (evtchn_port_t p = 1; p < XF_EVTCHN_NR_PORTS; p++) {
        xen_ulong_t m = (xen_ulong_t)1 << (p % (sizeof(xen_ulong_t) * 8));
        unsigned w = p / (unsigned)(sizeof(xen_ulong_t) * 8);

        if (!guest1[p])
            continue;
        ck_assert(__atomic_load_n(&s->evtchn_mask[w], __ATOMIC_SEQ_CST) & m);
        ck_assert(!(__atomic_load_n(&s->evtchn_pending[w], __ATOMIC_SEQ_CST) & m));
    }
}
END_TEST

START_TEST(test_destroy_releases_all)
{
    static uint8_t before[XF_EVTCHN_NR_PORTS], after[XF_EVTCHN_NR_PORTS];
    static uint8_t dom0_before[XF_EVTCHN_NR_PORTS], dom0_after[XF_EVTCHN_NR_PORTS];

    free_ports(guest, before);
    free_ports(0, dom0_before);
    for (unsigned k = 0; k < 2000; k++)
        ck_assert(bind_one(k));
    /* Destroyed with every kind of port still bound, some pending. */
    for (unsigned i = 0; i < nlive; i += 5)
        (void)xf_evtchn_notify(ec, live[i].port);
    xf_evtchn_destroy(ec);
    ec = NULL;
    /* dom0 closes its ends of the interdomain channels, as a back end
     * seeing the front end go would. */
    for (unsigned i = 0; i < nlive; i++)
        if (live[i].rport > 0)
            ck_assert_int_eq(xf_sim_evtchn_close(sim, 0, (evtchn_port_t)live[i].rport), 0);
    nlive = 0;
    free_ports(guest, after);
    free_ports(0, dom0_after);
    ck_assert_mem_eq(before, after, sizeof(before));
    ck_assert_mem_eq(dom0_before, dom0_after, sizeof(dom0_before));
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("evtchn-leak");
    TCase *tc = tcase_create("leak");

    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_hundred_thousand_channels);
    tcase_add_test(tc, test_destroy_releases_all);
    tcase_set_timeout(tc, 120);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return xf_check_run(suite());
}
