/*
 * libevtchn: masking and the unmask race, polling, dispatch order and
 * fairness, handlers that bind and close during dispatch, budgets.
 */
#include <pthread.h>

#include "evtchn_test.h"

static vcpu_info_t *vcpu0(void)
{
    return &xf_evtchn_shared_info(ec)->vcpu_info[0];
}

/* ------------------------------------------------------------ masking */

START_TEST(test_masked_event_delivered_after_unmask)
{
    evtchn_port_t p;
    int rport;

    ck_assert_int_eq(xf_evtchn_alloc_unbound(ec, 0, record, NULL, &p), 0);
    rport = xf_sim_evtchn_bind_interdomain(sim, 0, guest, p);
    ck_assert_int_gt(rport, 0);

    ck_assert_int_eq(xf_evtchn_mask(ec, p), 0);
    ck_assert_int_eq(xf_evtchn_is_masked(ec, p), 1);
    ck_assert_int_eq(xf_sim_evtchn_send(sim, 0, (evtchn_port_t)rport), 0);
    /* Pending, but masked: no selector, no upcall, no handler. */
    ck_assert_int_eq(xf_evtchn_is_pending(ec, p), 1);
    ck_assert(!__atomic_load_n(&vcpu0()->evtchn_upcall_pending, __ATOMIC_SEQ_CST));
    ck_assert_int_eq(dispatch_all(), 0);
    ck_assert_int_eq(xf_evtchn_is_pending(ec, p), 1);

    /* Unmask: Xen re-raises it (selector and upcall), the handler runs. */
    ck_assert_int_eq(xf_evtchn_unmask(ec, p), 0);
    ck_assert_int_eq(xf_evtchn_is_masked(ec, p), 0);
    ck_assert(__atomic_load_n(&vcpu0()->evtchn_upcall_pending, __ATOMIC_SEQ_CST));
    ck_assert_int_eq(dispatch_all(), 1);
    ck_assert_uint_eq(hits[0].port, p);
    ck_assert_int_eq(xf_evtchn_is_pending(ec, p), 0);

    /* Unmask with nothing pending: no upcall, nothing to dispatch. */
    ck_assert_int_eq(xf_evtchn_mask(ec, p), 0);
    ck_assert_int_eq(xf_evtchn_unmask(ec, p), 0);
    ck_assert(!__atomic_load_n(&vcpu0()->evtchn_upcall_pending, __ATOMIC_SEQ_CST));
    ck_assert_int_eq(dispatch_all(), 0);
    /* Unmasking an unmasked port is harmless. */
    ck_assert_int_eq(xf_evtchn_unmask(ec, p), 0);
    ck_assert_int_eq(xf_sim_evtchn_send(sim, 0, (evtchn_port_t)rport), 0);
    ck_assert_int_eq(dispatch_all(), 1);
}
END_TEST

/* A handler that stopped with work left raises its own port again: the
 * event comes back (selector and upcall as Xen sets them) exactly once,
 * and a masked port keeps it for its unmask. Take and release hand a port
 * from one user to the next without closing it. */
START_TEST(test_raise_take_release)
{
    evtchn_port_t p;
    int rport;

    ck_assert_int_eq(xf_evtchn_alloc_unbound(ec, 0, record, NULL, &p), 0);
    rport = xf_sim_evtchn_bind_interdomain(sim, 0, guest, p);
    ck_assert_int_gt(rport, 0);
    ck_assert_int_eq(xf_evtchn_raise(ec, p), 0);
    ck_assert(__atomic_load_n(&vcpu0()->evtchn_upcall_pending, __ATOMIC_SEQ_CST));
    ck_assert_int_eq(dispatch_all(), 1);
    ck_assert_uint_eq(hits[0].port, p);
    ck_assert_int_eq(dispatch_all(), 0);
    ck_assert_int_eq(xf_evtchn_mask(ec, p), 0);
    ck_assert_int_eq(xf_evtchn_raise(ec, p), 0);
    ck_assert_int_eq(dispatch_all(), 0);
    ck_assert_int_eq(xf_evtchn_unmask(ec, p), 0);
    ck_assert_int_eq(dispatch_all(), 1);
    ck_assert_int_eq(xf_evtchn_raise(ec, 4095), -XF_ENOTCONN);

    /* Released: bound, masked, no handler; an event waits for the taker. */
    ck_assert_int_eq(xf_evtchn_release(ec, p), 0);
    ck_assert_int_eq(xf_evtchn_is_masked(ec, p), 1);
    ck_assert_int_eq(xf_sim_evtchn_send(sim, 0, (evtchn_port_t)rport), 0);
    ck_assert_int_eq(dispatch_all(), 0);
    reset_hits();
    ck_assert_int_eq(xf_evtchn_take(ec, p, record, NULL), 0);
    ck_assert_int_eq(dispatch_all(), 1);
    ck_assert_uint_eq(hits[0].port, p);
    ck_assert_int_eq(xen_status(guest, p).status, EVTCHNSTAT_interdomain);
}
END_TEST

/* The same through the upcall path, as a kernel sees it: the event sent
 * while masked must raise an upcall after unmask. */
static void upcall(void *arg, unsigned vcpu)
{
    (void)vcpu;
    ck_assert_int_ge(xf_evtchn_dispatch(arg, 0), 0);
}

START_TEST(test_masked_event_raises_upcall_after_unmask)
{
    evtchn_port_t p;
    uint64_t deadline;

    xf_sim_set_upcall_handler(sim, guest, upcall, ec);
    ck_assert_int_eq(xf_evtchn_upcall_setup(ec, XF_EVTCHN_UPCALL_VCPU_VECTOR, 0xf3), 0);
    ck_assert_int_eq(xf_evtchn_bind_ipi(ec, record, NULL, &p), 0);
    ck_assert_int_eq(xf_evtchn_mask(ec, p), 0);
    ck_assert_int_eq(xf_evtchn_notify(ec, p), 0);
    ck_assert_int_eq(xf_plat_wait(xf_plat_now_ns() + 20000000ull), -XF_ETIMEDOUT);
    ck_assert_uint_eq(nhits, 0);
    ck_assert_int_eq(xf_evtchn_unmask(ec, p), 0);
    deadline = DEADLINE(5);
    while (nhits == 0)
        ck_assert_int_eq(xf_plat_wait(deadline), 0);
    ck_assert_uint_eq(nhits, 1);
}
END_TEST

/*
 * The unmask race under fire: dom0 signals at arbitrary moments while the
 * guest masks and unmasks the port in a tight loop, then sleeps until its
 * upcall. An event lost in the race (pending, but never selected) would
 * leave the guest asleep: the round fails at its deadline.
 */
#define RACE_ROUNDS 1000
static evtchn_port_t race_rport;
static volatile unsigned race_round;

static void *race_dom0(void *unused)
{
    (void)unused;
    for (unsigned r = 1; r <= RACE_ROUNDS; r++) {
        /* Let the guest get into its mask/unmask loop, a varying while. */
        for (volatile unsigned spin = 0; spin < (r * 7919u) % 3000u; spin++)
            ;
        __atomic_store_n(&race_round, r, __ATOMIC_SEQ_CST);
        if (xf_sim_evtchn_send(sim, 0, race_rport) != 0)
            return (void *)1;
        /* Wait for the guest's acknowledgement. */
        if (xf_sim_evtchn_wait(sim, 0, race_rport, DEADLINE(10)) != 0)
            return (void *)2;
    }
    return NULL;
}

START_TEST(test_unmask_race)
{
    evtchn_port_t p;
    pthread_t t;
    void *res;
    int rport;

    xf_sim_set_upcall_handler(sim, guest, upcall, ec);
    ck_assert_int_eq(xf_evtchn_upcall_setup(ec, XF_EVTCHN_UPCALL_VCPU_VECTOR, 0xf3), 0);
    ck_assert_int_eq(xf_evtchn_alloc_unbound(ec, 0, record, NULL, &p), 0);
    rport = xf_sim_evtchn_bind_interdomain(sim, 0, guest, p);
    ck_assert_int_gt(rport, 0);
    race_rport = (evtchn_port_t)rport;
    /* Xen raised dom0's new port on bind; start from quiet. */
    xf_sim_evtchn_test_and_clear(sim, 0, race_rport);
    ck_assert_int_eq(pthread_create(&t, NULL, race_dom0, NULL), 0);

    for (unsigned r = 1; r <= RACE_ROUNDS; r++) {
        uint64_t deadline = DEADLINE(10);

        /* Toggle while dom0's send may land anywhere in between. */
        for (unsigned k = 0; k < 1 + r % 50; k++) {
            ck_assert_int_eq(xf_evtchn_mask(ec, p), 0);
            ck_assert_int_eq(xf_evtchn_unmask(ec, p), 0);
        }
        /* Now only an upcall can tell us. */
        while (calls[p] == 0)
            ck_assert_msg(xf_plat_wait(deadline) == 0, "round %u: event lost", r);
        ck_assert_uint_eq(__atomic_load_n(&race_round, __ATOMIC_SEQ_CST), r);
        calls[p] = 0;
        ck_assert_int_eq(xf_evtchn_notify(ec, p), 0);
    }
    ck_assert_int_eq(pthread_join(t, &res), 0);
    ck_assert_ptr_null(res);
}
END_TEST

/* ----------------------------------------------------------- polling */

START_TEST(test_polled_port)
{
    evtchn_port_t p;
    int rport;

    ck_assert_int_eq(xf_evtchn_alloc_unbound(ec, 0, NULL, NULL, &p), 0);
    ck_assert_int_eq(xf_evtchn_is_masked(ec, p), 1);
    rport = xf_sim_evtchn_bind_interdomain(sim, 0, guest, p);
    ck_assert_int_gt(rport, 0);
    ck_assert_int_eq(xf_evtchn_is_pending(ec, p), 0);
    ck_assert_int_eq(xf_sim_evtchn_send(sim, 0, (evtchn_port_t)rport), 0);
    ck_assert_int_eq(xf_evtchn_is_pending(ec, p), 1);
    /* No upcall for a polled port, and dispatch leaves it to the poller. */
    ck_assert(!__atomic_load_n(&vcpu0()->evtchn_upcall_pending, __ATOMIC_SEQ_CST));
    ck_assert_int_eq(dispatch_all(), 0);
    ck_assert_int_eq(xf_evtchn_clear(ec, p), 1);
    ck_assert_int_eq(xf_evtchn_clear(ec, p), 0);
    ck_assert_int_eq(xf_evtchn_is_pending(ec, p), 0);

    /* Unmasked without a handler: dispatch still leaves it pending. */
    ck_assert_int_eq(xf_evtchn_unmask(ec, p), 0);
    ck_assert_int_eq(xf_sim_evtchn_send(sim, 0, (evtchn_port_t)rport), 0);
    ck_assert_int_eq(dispatch_all(), 0);
    ck_assert_int_eq(xf_evtchn_is_pending(ec, p), 1);
    /* Given a handler, the event that waited is delivered. */
    ck_assert_int_eq(xf_evtchn_set_handler(ec, p, record, &rport), 0);
    ck_assert_int_eq(dispatch_all(), 1);
    ck_assert_ptr_eq(hits[0].arg, &rport);
    ck_assert_int_eq(xf_evtchn_is_pending(ec, p), 0);
}
END_TEST

static void self_check(struct xf_evtchn *e, evtchn_port_t port, void *arg)
{
    /* The pending bit is already clear when the handler runs. */
    ck_assert_int_eq(xf_evtchn_is_pending(e, port), 0);
    record(e, port, arg);
    /* An event raised now is not lost: it sets the bit again. */
    if (calls[port] == 1) {
        ck_assert_int_eq(xf_evtchn_notify(e, port), 0);
        ck_assert_int_eq(xf_evtchn_is_pending(e, port), 1);
    }
}

START_TEST(test_pending_cleared_before_handler)
{
    evtchn_port_t p;

    ck_assert_int_eq(xf_evtchn_bind_ipi(ec, self_check, NULL, &p), 0);
    ck_assert_int_eq(xf_evtchn_notify(ec, p), 0);
    ck_assert_int_eq(dispatch_all(), 2);
    ck_assert_uint_eq(calls[p], 2);
}
END_TEST

START_TEST(test_set_handler)
{
    evtchn_port_t p;
    int a, b;

    ck_assert_int_eq(xf_evtchn_bind_ipi(ec, record, &a, &p), 0);
    ck_assert_int_eq(xf_evtchn_set_handler(ec, p, record, &b), 0);
    ck_assert_int_eq(xf_evtchn_notify(ec, p), 0);
    ck_assert_int_eq(dispatch_all(), 1);
    ck_assert_ptr_eq(hits[0].arg, &b);
    /* Back to polled. */
    ck_assert_int_eq(xf_evtchn_set_handler(ec, p, NULL, NULL), 0);
    ck_assert_int_eq(xf_evtchn_notify(ec, p), 0);
    ck_assert_int_eq(dispatch_all(), 0);
    ck_assert_int_eq(xf_evtchn_clear(ec, p), 1);
}
END_TEST

/* ---------------------------------------------------------- fairness */

/* Hot ports: pending again every time they are served. */
static void hot(struct xf_evtchn *e, evtchn_port_t port, void *arg)
{
    record(e, port, arg);
    ck_assert_int_eq(xf_evtchn_notify(e, port), 0);
}

START_TEST(test_no_starvation_of_port_4000)
{
    evtchn_port_t hotp[3], p, target = 4000;
    unsigned filler = 0;

    for (unsigned i = 0; i < 3; i++)
        ck_assert_int_eq(xf_evtchn_bind_ipi(ec, hot, NULL, &hotp[i]), 0);
    /* Polled filler ports up to 3999, so that the next port is 4000. */
    do {
        ck_assert_int_eq(xf_evtchn_alloc_unbound(ec, 0, NULL, NULL, &p), 0);
        filler++;
    } while (p < target - 1);
    ck_assert_uint_eq(p, target - 1);
    ck_assert_int_eq(xf_evtchn_bind_ipi(ec, record, NULL, &p), 0);
    ck_assert_uint_eq(p, target);

    for (unsigned i = 0; i < 3; i++)
        ck_assert_int_eq(xf_evtchn_notify(ec, hotp[i]), 0);
    /* Run hot for a while, one handler per dispatch call (the strictest
     * budget), then raise 4000 at different points of the rotation. */
    for (unsigned round = 0; round < 50; round++) {
        for (unsigned k = 0; k < round % 7; k++)
            ck_assert_int_eq(xf_evtchn_dispatch(ec, 1), 1);
        reset_hits();
        ck_assert_int_eq(xf_evtchn_notify(ec, target), 0);
        /* Served within one full scan: at most one call per hot port first. */
        unsigned n = 0;
        while (calls[target] == 0) {
            ck_assert_int_eq(xf_evtchn_dispatch(ec, 1), 1);
            ck_assert_uint_le(++n, 4);
        }
        ck_assert_uint_eq(calls[target], 1);
        for (unsigned i = 0; i < 3; i++)
            ck_assert_uint_le(calls[hotp[i]], 1);
    }
    /* With a larger budget, each pass serves every hot port once and 4000
     * once: the hot ports do not crowd it out. */
    reset_hits();
    ck_assert_int_eq(xf_evtchn_notify(ec, target), 0);
    ck_assert_int_eq(xf_evtchn_dispatch(ec, 100), 100);
    ck_assert_uint_eq(calls[target], 1);
    for (unsigned i = 0; i < 3; i++)
        ck_assert_uint_ge(calls[hotp[i]], 32);
    /* The budget left the upcall raised: the work is not forgotten. */
    ck_assert(__atomic_load_n(&vcpu0()->evtchn_upcall_pending, __ATOMIC_SEQ_CST));
    (void)filler;
}
END_TEST

START_TEST(test_all_ports)
{
    static evtchn_port_t ports[XF_EVTCHN_NR_PORTS];
    unsigned n = 0;
    int rc;

    /* Every free port (all but 0 and the builder's two) as an IPI. */
    while ((rc = xf_evtchn_bind_ipi(ec, record, NULL, &ports[n])) == 0)
        n++;
    ck_assert_int_eq(rc, -XF_ENOSPC);
    ck_assert_uint_eq(n, XF_EVTCHN_NR_PORTS - 3);
    ck_assert_uint_eq(ports[n - 1], XF_EVTCHN_NR_PORTS - 1);
    ck_assert_uint_eq(xf_evtchn_nr_bound(ec), n);
    for (unsigned i = n; i-- > 0;)
        ck_assert_int_eq(xf_evtchn_notify(ec, ports[i]), 0);
    ck_assert_int_eq(dispatch_all(), (int)n);
    for (unsigned i = 0; i < n; i++)
        ck_assert_uint_eq(calls[ports[i]], 1);
    /* One scan serves them in port order. */
    for (unsigned i = 1; i < n; i++)
        ck_assert_uint_gt(hits[i].port, hits[i - 1].port);
    for (unsigned i = 0; i < n; i++)
        ck_assert_int_eq(xf_evtchn_close(ec, ports[i]), 0);
    ck_assert_uint_eq(xf_evtchn_nr_bound(ec), 0);
}
END_TEST

START_TEST(test_budget)
{
    evtchn_port_t p[10];

    for (unsigned i = 0; i < 10; i++)
        ck_assert_int_eq(xf_evtchn_bind_ipi(ec, record, NULL, &p[i]), 0);
    for (unsigned i = 0; i < 10; i++)
        ck_assert_int_eq(xf_evtchn_notify(ec, p[i]), 0);
    ck_assert_int_eq(xf_evtchn_dispatch(ec, 3), 3);
    ck_assert(__atomic_load_n(&vcpu0()->evtchn_upcall_pending, __ATOMIC_SEQ_CST));
    ck_assert_int_eq(xf_evtchn_dispatch(ec, 3), 3);
    ck_assert_int_eq(xf_evtchn_dispatch(ec, 0), 4);
    ck_assert(!__atomic_load_n(&vcpu0()->evtchn_upcall_pending, __ATOMIC_SEQ_CST));
    for (unsigned i = 0; i < 10; i++) {
        ck_assert_uint_eq(calls[p[i]], 1);
        ck_assert_uint_eq(hits[i].port, p[i]);
    }
    ck_assert_int_eq(xf_evtchn_dispatch(ec, 0), 0);
}
END_TEST

/* ------------------------------------------- handlers that bind and close */

static evtchn_port_t victims[3];
static evtchn_port_t rebound;
static unsigned old_victim_calls;

static void old_victim(struct xf_evtchn *e, evtchn_port_t port, void *arg)
{
    (void)e;
    (void)port;
    (void)arg;
    old_victim_calls++;
}

/* Closes itself, closes the others, rebinds one of their numbers. */
static void closer(struct xf_evtchn *e, evtchn_port_t port, void *arg)
{
    record(e, port, arg);
    ck_assert_int_eq(xf_evtchn_close(e, port), 0);
    ck_assert_int_eq(xf_evtchn_close(e, victims[1]), 0);
    ck_assert_int_eq(xf_evtchn_close(e, victims[2]), 0);
    ck_assert_int_eq(xf_evtchn_close(e, victims[2]), -XF_ENOTCONN);
    /* Xen hands out the lowest free port: the closer's own. */
    ck_assert_int_eq(xf_evtchn_bind_ipi(e, record, &rebound, &rebound), 0);
    ck_assert_int_eq(xf_evtchn_notify(e, rebound), 0);
}

START_TEST(test_handlers_close_during_dispatch)
{
    evtchn_port_t after;

    ck_assert_int_eq(xf_evtchn_bind_ipi(ec, closer, NULL, &victims[0]), 0);
    ck_assert_int_eq(xf_evtchn_bind_ipi(ec, old_victim, NULL, &victims[1]), 0);
    ck_assert_int_eq(xf_evtchn_bind_ipi(ec, old_victim, NULL, &victims[2]), 0);
    ck_assert_int_eq(xf_evtchn_bind_ipi(ec, record, NULL, &after), 0);
    for (unsigned i = 0; i < 3; i++)
        ck_assert_int_eq(xf_evtchn_notify(ec, victims[i]), 0);
    ck_assert_int_eq(xf_evtchn_notify(ec, after), 0);

    dispatch_all();
    /* The closed ports were pending, yet never called after their close. */
    ck_assert_uint_eq(old_victim_calls, 0);
    ck_assert_uint_eq(calls[after], 1);
    ck_assert_uint_eq(rebound, victims[0]);
    ck_assert_uint_eq(calls[rebound], 2); /* the closer once, the new binding once */
    ck_assert_ptr_eq(hits[nhits - 1].arg, &rebound);
    ck_assert_int_eq(xen_status(guest, victims[1]).status, EVTCHNSTAT_closed);
    ck_assert_int_eq(xen_status(guest, victims[2]).status, EVTCHNSTAT_closed);
    ck_assert_uint_eq(xf_evtchn_nr_bound(ec), 2);
}
END_TEST

static unsigned binder_depth;

/* Binds a new port that binds another, ten deep, each raised at once. */
static void binder(struct xf_evtchn *e, evtchn_port_t port, void *arg)
{
    evtchn_port_t p;

    record(e, port, arg);
    if (binder_depth++ < 10) {
        ck_assert_int_eq(xf_evtchn_bind_ipi(e, binder, NULL, &p), 0);
        ck_assert_int_eq(xf_evtchn_notify(e, p), 0);
    }
    /* A nested dispatch does nothing and says so. */
    ck_assert_int_eq(xf_evtchn_dispatch(e, 0), 0);
}

static int id_rport;
static evtchn_port_t id_port;

static void id_binder(struct xf_evtchn *e, evtchn_port_t port, void *arg)
{
    record(e, port, arg);
    ck_assert_int_eq(xf_evtchn_bind_interdomain(e, 0, (evtchn_port_t)id_rport, record, &id_port,
                                                &id_port), 0);
}

START_TEST(test_handlers_bind_during_dispatch)
{
    evtchn_port_t p;

    ck_assert_int_eq(xf_evtchn_bind_ipi(ec, binder, NULL, &p), 0);
    ck_assert_int_eq(xf_evtchn_notify(ec, p), 0);
    ck_assert_int_eq(dispatch_all(), 11);
    ck_assert_uint_eq(xf_evtchn_nr_bound(ec), 11);

    /* Interdomain from a handler: the new port's first event (Xen raises
     * a newly bound port once) reaches the new handler in the same call. */
    id_rport = xf_sim_evtchn_alloc_unbound(sim, 0, guest);
    ck_assert_int_gt(id_rport, 0);
    ck_assert_int_eq(xf_evtchn_bind_ipi(ec, id_binder, NULL, &p), 0);
    reset_hits();
    ck_assert_int_eq(xf_evtchn_notify(ec, p), 0);
    ck_assert_int_eq(xf_evtchn_dispatch(ec, 0), 2);
    ck_assert_uint_eq(hits[0].port, p);
    ck_assert_uint_eq(hits[1].port, id_port);
    ck_assert_ptr_eq(hits[1].arg, &id_port);
    ck_assert_int_eq(xen_status(guest, id_port).status, EVTCHNSTAT_interdomain);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("evtchn-dispatch");
    TCase *tc = tcase_create("mask");

    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_masked_event_delivered_after_unmask);
    tcase_add_test(tc, test_raise_take_release);
    tcase_add_test(tc, test_masked_event_raises_upcall_after_unmask);
    tcase_add_test(tc, test_unmask_race);
    tcase_add_test(tc, test_polled_port);
    tcase_add_test(tc, test_set_handler);
    tcase_set_timeout(tc, 60);
    suite_add_tcase(s, tc);

    tc = tcase_create("dispatch");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_pending_cleared_before_handler);
    tcase_add_test(tc, test_no_starvation_of_port_4000);
    tcase_add_test(tc, test_all_ports);
    tcase_add_test(tc, test_budget);
    tcase_add_test(tc, test_handlers_close_during_dispatch);
    tcase_add_test(tc, test_handlers_bind_during_dispatch);
    tcase_set_timeout(tc, 60);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return xf_check_run(suite());
}
