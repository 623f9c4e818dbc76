/*
 * libevtchn: contexts, binding of every kind, closing, ownership, every
 * error case, remote ends going away, other vCPUs, upcall setup.
 */
#include "evtchn_test.h"

/* ---------------------------------------------------------------- context */

START_TEST(test_create_maps_shared_info)
{
    shared_info_t *mine = xf_evtchn_shared_info(ec);
    shared_info_t *xens = xf_sim_shared_info(sim, guest);

    ck_assert_ptr_nonnull(mine);
    ck_assert_ptr_nonnull(xens);
    /* Our page is Xen's shared_info: a write through one shows in the other. */
    __atomic_store_n(&xens->wc_sec, 0x5eedu, __ATOMIC_SEQ_CST);
    ck_assert_uint_eq(__atomic_load_n(&mine->wc_sec, __ATOMIC_SEQ_CST), 0x5eedu);
    /* Every port starts masked. */
    for (unsigned w = 0; w < XF_ARRAY_SIZE(mine->evtchn_mask); w++)
        ck_assert(mine->evtchn_mask[w] == ~(xen_ulong_t)0);
    ck_assert_uint_eq(xf_evtchn_vcpu(ec), 0);
    ck_assert_uint_eq(xf_evtchn_nr_bound(ec), 0);
}
END_TEST

START_TEST(test_create_errors)
{
    static void *pages[XF_SIM_MAX_RAM_FRAMES];
    struct xf_evtchn *e = (struct xf_evtchn *)0x1;
    struct xf_evtchn_config cfg = { .vcpu = XEN_LEGACY_MAX_VCPUS };
    unsigned n = 0;
    int rc = -1;

    /* One shared_info per domain: let the fixture's context go first. */
    xf_evtchn_destroy(ec);
    ec = NULL;
    ck_assert_int_eq(xf_evtchn_create(NULL, NULL), -XF_EINVAL);
    ck_assert_int_eq(xf_evtchn_create(&e, &cfg), -XF_EINVAL);
    ck_assert_ptr_null(e);

    /* Out of guest memory, then a page more at a time: every failure is
     * -ENOMEM and gives back what it took (including the case where the
     * context fits but shared_info's page does not). */
    while (n < XF_ARRAY_SIZE(pages) && (pages[n] = xf_plat_page_alloc(1)) != NULL)
        n++;
    ck_assert_uint_gt(n, 20);
    while (n > 0) {
        long before = xf_sim_free_frames(sim, guest);

        e = (struct xf_evtchn *)0x1;
        rc = xf_evtchn_create(&e, NULL);
        if (rc == 0)
            break;
        ck_assert_int_eq(rc, -XF_ENOMEM);
        ck_assert_ptr_null(e);
        ck_assert_int_eq(xf_sim_free_frames(sim, guest), before);
        xf_plat_page_free(pages[--n], 1);
    }
    ck_assert_int_eq(rc, 0);
    xf_evtchn_destroy(e);
    while (n > 0)
        xf_plat_page_free(pages[--n], 1);
}
END_TEST

START_TEST(test_null_context)
{
    evtchn_port_t p = 0;
    struct evtchn_status st;

    xf_evtchn_destroy(NULL);
    ck_assert_ptr_null(xf_evtchn_shared_info(NULL));
    ck_assert_uint_eq(xf_evtchn_nr_bound(NULL), 0);
    ck_assert_uint_eq(xf_evtchn_vcpu(NULL), 0);
    ck_assert_int_eq(xf_evtchn_alloc_unbound(NULL, 0, record, NULL, &p), -XF_EINVAL);
    ck_assert_int_eq(xf_evtchn_bind_interdomain(NULL, 0, 1, record, NULL, &p), -XF_EINVAL);
    ck_assert_int_eq(xf_evtchn_bind_virq(NULL, VIRQ_TIMER, record, NULL, &p), -XF_EINVAL);
    ck_assert_int_eq(xf_evtchn_bind_ipi(NULL, record, NULL, &p), -XF_EINVAL);
    ck_assert_int_eq(xf_evtchn_adopt(NULL, 1, record, NULL), -XF_EINVAL);
    ck_assert_int_eq(xf_evtchn_close(NULL, 1), -XF_EINVAL);
    ck_assert_int_eq(xf_evtchn_notify(NULL, 1), -XF_EINVAL);
    ck_assert_int_eq(xf_evtchn_mask(NULL, 1), -XF_EINVAL);
    ck_assert_int_eq(xf_evtchn_unmask(NULL, 1), -XF_EINVAL);
    ck_assert_int_eq(xf_evtchn_is_masked(NULL, 1), -XF_EINVAL);
    ck_assert_int_eq(xf_evtchn_set_handler(NULL, 1, record, NULL), -XF_EINVAL);
    ck_assert_int_eq(xf_evtchn_is_pending(NULL, 1), -XF_EINVAL);
    ck_assert_int_eq(xf_evtchn_clear(NULL, 1), -XF_EINVAL);
    ck_assert_int_eq(xf_evtchn_status(NULL, 1, &st), -XF_EINVAL);
    ck_assert_int_eq(xf_evtchn_dispatch(NULL, 0), -XF_EINVAL);
    ck_assert_int_eq(xf_evtchn_upcall_setup(NULL, XF_EVTCHN_UPCALL_AUTO, 0xf3), -XF_EINVAL);
    /* NULL out-parameters. */
    ck_assert_int_eq(xf_evtchn_alloc_unbound(ec, 0, record, NULL, NULL), -XF_EINVAL);
    ck_assert_int_eq(xf_evtchn_bind_interdomain(ec, 0, 1, record, NULL, NULL), -XF_EINVAL);
    ck_assert_int_eq(xf_evtchn_bind_virq(ec, VIRQ_TIMER, record, NULL, NULL), -XF_EINVAL);
    ck_assert_int_eq(xf_evtchn_bind_ipi(ec, record, NULL, NULL), -XF_EINVAL);
    ck_assert_int_eq(xf_evtchn_status(ec, 1, NULL), -XF_EINVAL);
    ck_assert_uint_eq(xf_evtchn_nr_bound(ec), 0);
}
END_TEST

/* Every port function on ports that are not ours, or not ports at all. */
START_TEST(test_port_errors)
{
    const evtchn_port_t bad[] = { 0, XF_EVTCHN_NR_PORTS, XF_EVTCHN_NR_PORTS + 7, ~0u };
    evtchn_port_t p;
    struct evtchn_status st;

    for (unsigned i = 0; i < XF_ARRAY_SIZE(bad); i++) {
        ck_assert_int_eq(xf_evtchn_close(ec, bad[i]), -XF_EINVAL);
        ck_assert_int_eq(xf_evtchn_notify(ec, bad[i]), -XF_EINVAL);
        ck_assert_int_eq(xf_evtchn_mask(ec, bad[i]), -XF_EINVAL);
        ck_assert_int_eq(xf_evtchn_unmask(ec, bad[i]), -XF_EINVAL);
        ck_assert_int_eq(xf_evtchn_is_masked(ec, bad[i]), -XF_EINVAL);
        ck_assert_int_eq(xf_evtchn_set_handler(ec, bad[i], record, NULL), -XF_EINVAL);
        ck_assert_int_eq(xf_evtchn_is_pending(ec, bad[i]), -XF_EINVAL);
        ck_assert_int_eq(xf_evtchn_clear(ec, bad[i]), -XF_EINVAL);
        ck_assert_int_eq(xf_evtchn_adopt(ec, bad[i], record, NULL), -XF_EINVAL);
        ck_assert_int_eq(xf_evtchn_status(ec, bad[i], &st), -XF_EINVAL);
    }
    /* A port never bound (4000), and the builder's xenstore port, which is
     * bound in Xen but not through this context. */
    const evtchn_port_t notours[] = { 4000, xf_sim_store_port(sim) };
    for (unsigned i = 0; i < XF_ARRAY_SIZE(notours); i++) {
        evtchn_port_t q = notours[i];
        ck_assert_int_eq(xf_evtchn_close(ec, q), -XF_ENOTCONN);
        ck_assert_int_eq(xf_evtchn_notify(ec, q), -XF_ENOTCONN);
        ck_assert_int_eq(xf_evtchn_mask(ec, q), -XF_ENOTCONN);
        ck_assert_int_eq(xf_evtchn_unmask(ec, q), -XF_ENOTCONN);
        ck_assert_int_eq(xf_evtchn_is_masked(ec, q), -XF_ENOTCONN);
        ck_assert_int_eq(xf_evtchn_set_handler(ec, q, record, NULL), -XF_ENOTCONN);
        ck_assert_int_eq(xf_evtchn_is_pending(ec, q), -XF_ENOTCONN);
        ck_assert_int_eq(xf_evtchn_clear(ec, q), -XF_ENOTCONN);
    }
    /* The xenstore port is still intact in Xen. */
    ck_assert_int_eq(xen_status(guest, xf_sim_store_port(sim)).status, EVTCHNSTAT_unbound);

    /* Closed once is closed: the second close is an error, not a double
     * close in Xen, and the other calls refuse it too. */
    ck_assert_int_eq(xf_evtchn_alloc_unbound(ec, 0, record, NULL, &p), 0);
    ck_assert_uint_eq(xf_evtchn_nr_bound(ec), 1);
    ck_assert_int_eq(xf_evtchn_close(ec, p), 0);
    ck_assert_uint_eq(xf_evtchn_nr_bound(ec), 0);
    ck_assert_int_eq(xen_status(guest, p).status, EVTCHNSTAT_closed);
    ck_assert_int_eq(xf_evtchn_close(ec, p), -XF_ENOTCONN);
    ck_assert_int_eq(xf_evtchn_notify(ec, p), -XF_ENOTCONN);
    ck_assert_int_eq(xf_evtchn_unmask(ec, p), -XF_ENOTCONN);
    ck_assert_uint_eq(xf_evtchn_nr_bound(ec), 0);
}
END_TEST

/* ---------------------------------------------------------------- binding */

START_TEST(test_alloc_unbound_and_remote_binds)
{
    evtchn_port_t p;
    int rport;
    int tag;
    struct evtchn_status st;

    ck_assert_int_eq(xf_evtchn_alloc_unbound(ec, 0, record, &tag, &p), 0);
    ck_assert_uint_ne(p, 0);
    st = xen_status(guest, p);
    ck_assert_int_eq(st.status, EVTCHNSTAT_unbound);
    ck_assert_uint_eq(st.u.unbound.dom, 0);
    ck_assert_int_eq(xf_evtchn_is_masked(ec, p), 0);   /* has a handler */

    /* The back end connects and signals; the handler sees port and arg. */
    rport = xf_sim_evtchn_bind_interdomain(sim, 0, guest, p);
    ck_assert_int_gt(rport, 0);
    ck_assert_int_eq(xf_evtchn_status(ec, p, &st), 0);
    ck_assert_int_eq(st.status, EVTCHNSTAT_interdomain);
    ck_assert_uint_eq(st.u.interdomain.port, (uint32_t)rport);
    ck_assert_int_eq(xf_sim_evtchn_send(sim, 0, (evtchn_port_t)rport), 0);
    ck_assert_int_eq(dispatch_all(), 1);
    ck_assert_uint_eq(hits[0].port, p);
    ck_assert_ptr_eq(hits[0].arg, &tag);
    ck_assert_int_eq(xf_evtchn_is_pending(ec, p), 0);

    /* And the other way. */
    ck_assert_int_eq(xf_evtchn_notify(ec, p), 0);
    ck_assert_int_eq(xf_sim_evtchn_wait(sim, 0, (evtchn_port_t)rport, DEADLINE(5)), 0);

    ck_assert_int_eq(xf_evtchn_close(ec, p), 0);
    ck_assert_int_eq(xen_status(guest, p).status, EVTCHNSTAT_closed);
    /* Xen leaves the back end's port unbound, waiting for us again. */
    ck_assert_int_eq(xen_status(0, (evtchn_port_t)rport).status, EVTCHNSTAT_unbound);
}
END_TEST

START_TEST(test_bind_interdomain)
{
    int tag;
    evtchn_port_t p;
    int rport = xf_sim_evtchn_alloc_unbound(sim, 0, guest);

    ck_assert_int_gt(rport, 0);
    ck_assert_int_eq(xf_evtchn_bind_interdomain(ec, 0, (evtchn_port_t)rport, record, &tag, &p),
                     0);
    /* Xen raises a newly bound local port once (sends to the unbound remote
     * port may have been dropped); the handler runs. */
    ck_assert_int_eq(dispatch_all(), 1);
    ck_assert_uint_eq(hits[0].port, p);
    ck_assert_int_eq(xen_status(guest, p).status, EVTCHNSTAT_interdomain);

    ck_assert_int_eq(xf_sim_evtchn_send(sim, 0, (evtchn_port_t)rport), 0);
    ck_assert_int_eq(dispatch_all(), 1);
    ck_assert_int_eq(xf_evtchn_notify(ec, p), 0);
    ck_assert_int_eq(xf_sim_evtchn_wait(sim, 0, (evtchn_port_t)rport, DEADLINE(5)), 0);

    /* Errors are Xen's: the port is now bound, not unbound for us. */
    ck_assert_int_eq(xf_evtchn_bind_interdomain(ec, 0, (evtchn_port_t)rport, record, NULL, &p),
                     -XF_EINVAL);
    /* A port dom0 reserved for another domain. */
    {
        int other = xf_sim_evtchn_alloc_unbound(sim, 0, 7);
        ck_assert_int_gt(other, 0);
        ck_assert_int_eq(xf_evtchn_bind_interdomain(ec, 0, (evtchn_port_t)other, record, NULL,
                                                    &p), -XF_EINVAL);
    }
    /* A domain that does not exist. */
    ck_assert_int_eq(xf_evtchn_bind_interdomain(ec, 6, 1, record, NULL, &p), -XF_ESRCH);
    ck_assert_uint_eq(xf_evtchn_nr_bound(ec), 1);
}
END_TEST

START_TEST(test_bind_virq)
{
    evtchn_port_t p, q;

    ck_assert_int_eq(xf_evtchn_bind_virq(ec, VIRQ_TIMER, record, NULL, &p), 0);
    ck_assert_int_eq(xen_status(guest, p).status, EVTCHNSTAT_virq);
    ck_assert_uint_eq(xen_status(guest, p).u.virq, VIRQ_TIMER);
    ck_assert_int_eq(xf_sim_raise_virq(sim, guest, VIRQ_TIMER, 0), 0);
    ck_assert_int_eq(dispatch_all(), 1);
    ck_assert_uint_eq(hits[0].port, p);

    /* Bound once per vCPU; bad numbers refused by Xen. */
    ck_assert_int_eq(xf_evtchn_bind_virq(ec, VIRQ_TIMER, record, NULL, &q), -XF_EEXIST);
    ck_assert_int_eq(xf_evtchn_bind_virq(ec, NR_VIRQS, record, NULL, &q), -XF_EINVAL);
    ck_assert_uint_eq(xf_evtchn_nr_bound(ec), 1);

    /* After close, the VIRQ is free to bind again and no longer fires. */
    ck_assert_int_eq(xf_evtchn_close(ec, p), 0);
    ck_assert_int_eq(xf_sim_raise_virq(sim, guest, VIRQ_TIMER, 0), -XF_ENOENT);
    ck_assert_int_eq(xf_evtchn_bind_virq(ec, VIRQ_TIMER, record, NULL, &q), 0);
    ck_assert_int_eq(xf_evtchn_bind_virq(ec, VIRQ_DOM_EXC, record, NULL, &p), 0);
    ck_assert_int_eq(xf_sim_raise_virq(sim, guest, VIRQ_DOM_EXC, 0), 0);
    ck_assert_int_eq(dispatch_all(), 1);
    ck_assert_uint_eq(hits[1].port, p);
}
END_TEST

START_TEST(test_bind_ipi)
{
    evtchn_port_t p;

    ck_assert_int_eq(xf_evtchn_bind_ipi(ec, record, NULL, &p), 0);
    ck_assert_int_eq(xen_status(guest, p).status, EVTCHNSTAT_ipi);
    ck_assert_int_eq(dispatch_all(), 0);
    ck_assert_int_eq(xf_evtchn_notify(ec, p), 0);
    ck_assert_int_eq(xf_evtchn_notify(ec, p), 0); /* coalesces: one pending bit */
    ck_assert_int_eq(dispatch_all(), 1);
    ck_assert_uint_eq(hits[0].port, p);
}
END_TEST

START_TEST(test_adopt_builder_ports)
{
    evtchn_port_t store = xf_sim_store_port(sim);
    evtchn_port_t cons = xf_sim_console_port(sim);
    int rport;

    ck_assert_uint_ne(store, 0);
    ck_assert_int_eq(xf_evtchn_adopt(ec, store, record, NULL), 0);
    ck_assert_int_eq(xf_evtchn_adopt(ec, store, record, NULL), -XF_EBUSY);
    ck_assert_int_eq(xf_evtchn_adopt(ec, 3, record, NULL), -XF_ENOTCONN); /* closed */
    ck_assert_int_eq(xf_evtchn_adopt(ec, 4000, record, NULL), -XF_EINVAL); /* Xen: not valid */
    ck_assert_int_eq(xf_evtchn_adopt(ec, cons, NULL, NULL), 0);              /* polled */
    ck_assert_uint_eq(xf_evtchn_nr_bound(ec), 2);
    ck_assert_int_eq(xf_evtchn_is_masked(ec, cons), 1);

    /* xenstored connects to the store port and signals it. */
    rport = xf_sim_evtchn_bind_interdomain(sim, 0, guest, store);
    ck_assert_int_gt(rport, 0);
    ck_assert_int_eq(xf_sim_evtchn_send(sim, 0, (evtchn_port_t)rport), 0);
    ck_assert_int_eq(dispatch_all(), 1);
    ck_assert_uint_eq(hits[0].port, store);

    /* Adopted ports are ours: closing closes them in Xen. */
    ck_assert_int_eq(xf_evtchn_close(ec, store), 0);
    ck_assert_int_eq(xen_status(guest, store).status, EVTCHNSTAT_closed);
    ck_assert_int_eq(xf_evtchn_close(ec, cons), 0);
    ck_assert_int_eq(xen_status(guest, cons).status, EVTCHNSTAT_closed);
}
END_TEST

/* ------------------------------------------------------- the remote end */

START_TEST(test_remote_closes_its_end)
{
    evtchn_port_t p;
    int rport;

    ck_assert_int_eq(xf_evtchn_alloc_unbound(ec, 0, record, NULL, &p), 0);
    rport = xf_sim_evtchn_bind_interdomain(sim, 0, guest, p);
    ck_assert_int_gt(rport, 0);
    ck_assert_int_eq(xf_sim_evtchn_close(sim, 0, (evtchn_port_t)rport), 0);

    /* Our port is unbound again, still ours; sending is dropped by Xen. */
    struct evtchn_status st;
    ck_assert_int_eq(xf_evtchn_status(ec, p, &st), 0);
    ck_assert_int_eq(st.status, EVTCHNSTAT_unbound);
    ck_assert_uint_eq(st.u.unbound.dom, 0);
    ck_assert_int_eq(xf_evtchn_notify(ec, p), 0);
    ck_assert_int_eq(dispatch_all(), 0);

    /* The back end may come back to the same port (a reconnect). */
    rport = xf_sim_evtchn_bind_interdomain(sim, 0, guest, p);
    ck_assert_int_gt(rport, 0);
    ck_assert_int_eq(xf_sim_evtchn_send(sim, 0, (evtchn_port_t)rport), 0);
    ck_assert_int_eq(dispatch_all(), 1);
    ck_assert_int_eq(xf_sim_evtchn_close(sim, 0, (evtchn_port_t)rport), 0);

    /* Closing our end afterwards is still right, once. */
    ck_assert_int_eq(xf_evtchn_close(ec, p), 0);
    ck_assert_int_eq(xen_status(guest, p).status, EVTCHNSTAT_closed);
    ck_assert_int_eq(xf_evtchn_close(ec, p), -XF_ENOTCONN);
}
END_TEST

START_TEST(test_remote_domain_destroyed)
{
    struct xf_sim_domain_config dc = { .domid = 5 };
    evtchn_port_t p;
    int rport;

    ck_assert_int_eq(xf_sim_domain_create(sim, &dc), 5);
    ck_assert_int_eq(xf_evtchn_alloc_unbound(ec, 5, record, NULL, &p), 0);
    rport = xf_sim_evtchn_bind_interdomain(sim, 5, guest, p);
    ck_assert_int_gt(rport, 0);
    ck_assert_int_eq(xf_sim_evtchn_send(sim, 5, (evtchn_port_t)rport), 0);
    ck_assert_int_eq(dispatch_all(), 1);

    ck_assert_int_eq(xf_sim_domain_destroy(sim, 5), 0);
    ck_assert_int_eq(xen_status(guest, p).status, EVTCHNSTAT_unbound);
    ck_assert_int_eq(xf_evtchn_notify(ec, p), 0);
    ck_assert_int_eq(dispatch_all(), 0);
    ck_assert_int_eq(xf_evtchn_close(ec, p), 0);
    ck_assert_uint_eq(xf_evtchn_nr_bound(ec), 0);
}
END_TEST

/* ---------------------------------------------------------- destroy */

START_TEST(test_destroy_closes_everything)
{
    evtchn_port_t ports[5];
    int rport = xf_sim_evtchn_alloc_unbound(sim, 0, guest);

    ck_assert_int_gt(rport, 0);
    ck_assert_int_eq(xf_evtchn_alloc_unbound(ec, 0, record, NULL, &ports[0]), 0);
    ck_assert_int_eq(xf_evtchn_bind_interdomain(ec, 0, (evtchn_port_t)rport, record, NULL,
                                                &ports[1]), 0);
    ck_assert_int_eq(xf_evtchn_bind_virq(ec, VIRQ_TIMER, record, NULL, &ports[2]), 0);
    ck_assert_int_eq(xf_evtchn_bind_ipi(ec, NULL, NULL, &ports[3]), 0);
    ck_assert_int_eq(xf_evtchn_adopt(ec, xf_sim_store_port(sim), record, NULL), 0);
    ports[4] = xf_sim_store_port(sim);
    ck_assert_uint_eq(xf_evtchn_nr_bound(ec), 5);

    xf_evtchn_destroy(ec);
    ec = NULL;
    for (unsigned i = 0; i < 5; i++)
        ck_assert_int_eq(xen_status(guest, ports[i]).status, EVTCHNSTAT_closed);
    ck_assert_int_eq(xen_status(0, (evtchn_port_t)rport).status, EVTCHNSTAT_unbound);
    ck_assert_int_eq(xf_sim_raise_virq(sim, guest, VIRQ_TIMER, 0), -XF_ENOENT);

    /* A new context works (shared_info mapped afresh). */
    ck_assert_int_eq(xf_evtchn_create(&ec, NULL), 0);
    ck_assert_int_eq(xf_evtchn_bind_ipi(ec, record, NULL, &ports[0]), 0);
    ck_assert_int_eq(xf_evtchn_notify(ec, ports[0]), 0);
    ck_assert_int_eq(dispatch_all(), 1);
}
END_TEST

/* --------------------------------------------------------- other vCPUs */

static struct xf_sim_config two_vcpus = { .guest = { .vcpus = 2 } };

static void setup_two_vcpus(void)
{
    sim_setup_cfg(&two_vcpus);
}

static struct xf_evtchn *ec1;
static unsigned ec1_calls;

static void on_vcpu1(struct xf_evtchn *e, evtchn_port_t port, void *arg)
{
    (void)port;
    (void)arg;
    ck_assert_ptr_eq(e, ec1);
    ec1_calls++;
}

START_TEST(test_second_vcpu_context)
{
    struct xf_evtchn_config cfg = { .shared_info = xf_evtchn_shared_info(ec), .vcpu = 1 };
    shared_info_t *s = xf_evtchn_shared_info(ec);
    evtchn_port_t p0, p1, v1, i1;
    int r0, r1;

    /* vCPU 0's context has a live port before vCPU 1's context appears. */
    ck_assert_int_eq(xf_evtchn_alloc_unbound(ec, 0, record, NULL, &p0), 0);
    ck_assert_int_eq(xf_evtchn_create(&ec1, &cfg), 0);
    ck_assert_ptr_eq(xf_evtchn_shared_info(ec1), s);
    ck_assert_uint_eq(xf_evtchn_vcpu(ec1), 1);
    ck_assert_int_eq(xf_evtchn_is_masked(ec, p0), 0); /* a given page's masks are kept */

    ck_assert_int_eq(xf_evtchn_alloc_unbound(ec1, 0, on_vcpu1, NULL, &p1), 0);
    ck_assert_uint_eq(xen_status(guest, p1).vcpu, 1);
    ck_assert_int_eq(xf_evtchn_bind_ipi(ec1, on_vcpu1, NULL, &i1), 0);
    ck_assert_uint_eq(xen_status(guest, i1).vcpu, 1);
    /* A global VIRQ: bound on vCPU 0 by Xen's rule, then moved. */
    ck_assert_int_eq(xf_evtchn_bind_virq(ec1, VIRQ_DOM_EXC, on_vcpu1, NULL, &v1), 0);
    ck_assert_uint_eq(xen_status(guest, v1).vcpu, 1);

    /* Ownership is per context. */
    ck_assert_int_eq(xf_evtchn_close(ec, p1), -XF_ENOTCONN);
    ck_assert_int_eq(xf_evtchn_close(ec1, p0), -XF_ENOTCONN);

    r0 = xf_sim_evtchn_bind_interdomain(sim, 0, guest, p0);
    r1 = xf_sim_evtchn_bind_interdomain(sim, 0, guest, p1);
    ck_assert_int_gt(r0, 0);
    ck_assert_int_gt(r1, 0);
    ck_assert_int_eq(xf_sim_evtchn_send(sim, 0, (evtchn_port_t)r0), 0);
    ck_assert_int_eq(xf_sim_evtchn_send(sim, 0, (evtchn_port_t)r1), 0);
    ck_assert_int_eq(xf_sim_raise_virq(sim, guest, VIRQ_DOM_EXC, 0), 0);
    ck_assert_int_eq(xf_evtchn_notify(ec1, i1), 0);
    ck_assert(__atomic_load_n(&s->vcpu_info[1].evtchn_upcall_pending, __ATOMIC_SEQ_CST));

    /* Each context serves its own vCPU's ports only. */
    ck_assert_int_eq(xf_evtchn_dispatch(ec, 0), 1);
    ck_assert_uint_eq(hits[0].port, p0);
    ck_assert_int_eq(xf_evtchn_dispatch(ec1, 0), 3);
    ck_assert_uint_eq(ec1_calls, 3);
    ck_assert_int_eq(xf_evtchn_dispatch(ec1, 0), 0);

    xf_evtchn_destroy(ec1);
    ck_assert_int_eq(xen_status(guest, p1).status, EVTCHNSTAT_closed);
    ck_assert_int_eq(xen_status(guest, v1).status, EVTCHNSTAT_closed);
    ck_assert_int_eq(xen_status(guest, p0).status, EVTCHNSTAT_interdomain);
    /* The vCPU 0 context did not lose its shared_info. */
    ck_assert_int_eq(xf_sim_evtchn_send(sim, 0, (evtchn_port_t)r0), 0);
    ck_assert_int_eq(dispatch_all(), 1);
}
END_TEST

/* ------------------------------------------------------------- upcalls */

static void upcall(void *arg, unsigned vcpu)
{
    ck_assert_uint_eq(vcpu, 0);
    ck_assert_int_ge(xf_evtchn_dispatch(arg, 0), 0);
}

static void wait_for_hits(unsigned n)
{
    uint64_t deadline = DEADLINE(5);

    while (nhits < n)
        ck_assert_msg(xf_plat_wait(deadline) == 0, "no upcall: %u of %u events", nhits, n);
}

START_TEST(test_upcall_vcpu_vector)
{
    evtchn_port_t p;
    int rport;

    xf_sim_set_upcall_handler(sim, guest, upcall, ec);
    ck_assert_int_eq(xf_evtchn_upcall_setup(ec, XF_EVTCHN_UPCALL_VCPU_VECTOR, 0xf3), 0);
    ck_assert_int_eq(xf_evtchn_alloc_unbound(ec, 0, record, NULL, &p), 0);
    rport = xf_sim_evtchn_bind_interdomain(sim, 0, guest, p);
    ck_assert_int_gt(rport, 0);
    ck_assert_int_eq(xf_sim_evtchn_send(sim, 0, (evtchn_port_t)rport), 0);
    wait_for_hits(1);
    ck_assert_uint_eq(hits[0].port, p);
}
END_TEST

START_TEST(test_upcall_callback_vector)
{
    evtchn_port_t p;

    ck_assert_int_eq(xf_evtchn_upcall_setup(ec, XF_EVTCHN_UPCALL_CALLBACK_VECTOR, 0xf3), 0);
    ck_assert_uint_eq(xf_sim_hvm_param(sim, guest, HVM_PARAM_CALLBACK_IRQ),
                      ((uint64_t)HVM_PARAM_CALLBACK_TYPE_VECTOR << 56) | 0xf3);
    xf_sim_set_upcall_handler(sim, guest, upcall, ec);
    ck_assert_int_eq(xf_evtchn_bind_ipi(ec, record, NULL, &p), 0);
    ck_assert_int_eq(xf_evtchn_notify(ec, p), 0);
    wait_for_hits(1);
    ck_assert_int_eq(xf_evtchn_upcall_setup(ec, XF_EVTCHN_UPCALL_AUTO, 0xf2), 0);
}
END_TEST

START_TEST(test_upcall_errors)
{
    ck_assert_int_eq(xf_evtchn_upcall_setup(ec, XF_EVTCHN_UPCALL_AUTO, 0x0f), -XF_EINVAL);
    ck_assert_int_eq(xf_evtchn_upcall_setup(ec, (enum xf_evtchn_upcall_method)7, 0xf3),
                     -XF_EINVAL);
    ck_assert_uint_eq(xf_sim_hvm_param(sim, guest, HVM_PARAM_CALLBACK_IRQ), 0);
}
END_TEST

START_TEST(test_upcall_callback_needs_vcpu0)
{
    struct xf_evtchn_config cfg = { .shared_info = xf_evtchn_shared_info(ec), .vcpu = 1 };

    ck_assert_int_eq(xf_evtchn_create(&ec1, &cfg), 0);
    ck_assert_int_eq(xf_evtchn_upcall_setup(ec1, XF_EVTCHN_UPCALL_CALLBACK_VECTOR, 0xf3),
                     -XF_EINVAL);
    ck_assert_int_eq(xf_evtchn_upcall_setup(ec1, XF_EVTCHN_UPCALL_VCPU_VECTOR, 0xf3), 0);
    xf_evtchn_destroy(ec1);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("evtchn-bind");
    TCase *tc = tcase_create("context");

    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_create_maps_shared_info);
    tcase_add_test(tc, test_create_errors);
    tcase_add_test(tc, test_null_context);
    tcase_add_test(tc, test_port_errors);
    tcase_add_test(tc, test_destroy_closes_everything);
    suite_add_tcase(s, tc);

    tc = tcase_create("bind");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_alloc_unbound_and_remote_binds);
    tcase_add_test(tc, test_bind_interdomain);
    tcase_add_test(tc, test_bind_virq);
    tcase_add_test(tc, test_bind_ipi);
    tcase_add_test(tc, test_adopt_builder_ports);
    tcase_add_test(tc, test_remote_closes_its_end);
    tcase_add_test(tc, test_remote_domain_destroyed);
    suite_add_tcase(s, tc);

    tc = tcase_create("vcpu");
    tcase_add_checked_fixture(tc, setup_two_vcpus, teardown);
    tcase_add_test(tc, test_second_vcpu_context);
    tcase_add_test(tc, test_upcall_callback_needs_vcpu0);
    suite_add_tcase(s, tc);

    tc = tcase_create("upcall");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_upcall_vcpu_vector);
    tcase_add_test(tc, test_upcall_callback_vector);
    tcase_add_test(tc, test_upcall_errors);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return xf_check_run(suite());
}
