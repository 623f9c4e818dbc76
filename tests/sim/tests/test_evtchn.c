/* The simulator's event channels: every op, every error, 2-level delivery. */
#include <xenfront/sim.h>
#include <xenfront/errno.h>

#include <check.h>
#include "xf_check.h"
#include <pthread.h>
#include <stdlib.h>

static struct xf_sim *sim;
static domid_t G; /* the guest */

static void setup(void)
{
    struct xf_sim_config cfg = { .guest = { .vcpus = 2 } };
    sim = xf_sim_create(&cfg);
    ck_assert_ptr_nonnull(sim);
    G = xf_sim_guest_domid(sim);
}

static void teardown(void)
{
    xf_sim_destroy(sim);
}

static long ev(domid_t caller, int cmd, void *arg)
{
    return xf_sim_event_channel_op(sim, caller, cmd, arg);
}

static uint64_t deadline_in_ms(unsigned ms)
{
    return xf_plat_now_ns() + (uint64_t)ms * 1000000u;
}

static struct evtchn_status status_of(domid_t caller, domid_t dom, evtchn_port_t port)
{
    struct evtchn_status st = { .dom = dom, .port = port };
    ck_assert_int_eq(ev(caller, EVTCHNOP_status, &st), 0);
    return st;
}

static bool pending(domid_t d, evtchn_port_t p)
{
    shared_info_t *s = xf_sim_shared_info(sim, d);
    return (__atomic_load_n(&s->evtchn_pending[p / 64], __ATOMIC_SEQ_CST) >> (p % 64)) & 1;
}

static bool sel(domid_t d, unsigned vcpu, evtchn_port_t p)
{
    shared_info_t *s = xf_sim_shared_info(sim, d);
    return (s->vcpu_info[vcpu].evtchn_pending_sel >> (p / 64)) & 1;
}

static void clear_all(domid_t d)
{
    shared_info_t *s = xf_sim_shared_info(sim, d);
    memset(s->evtchn_pending, 0, sizeof(s->evtchn_pending));
    for (unsigned i = 0; i < XEN_LEGACY_MAX_VCPUS; i++) {
        s->vcpu_info[i].evtchn_pending_sel = 0;
        s->vcpu_info[i].evtchn_upcall_pending = 0;
    }
}

START_TEST(alloc_unbound_and_errors)
{
    struct evtchn_alloc_unbound a = { .dom = DOMID_SELF, .remote_dom = DOMID_SELF };
    ck_assert_int_eq(ev(G, EVTCHNOP_alloc_unbound, &a), 0);
    ck_assert_uint_gt(a.port, 0);
    struct evtchn_status st = status_of(G, DOMID_SELF, a.port);
    ck_assert_uint_eq(st.status, EVTCHNSTAT_unbound);
    ck_assert_uint_eq(st.u.unbound.dom, G); /* DOMID_SELF resolved to the caller */

    a = (struct evtchn_alloc_unbound){ .dom = 77, .remote_dom = 0 };
    ck_assert_int_eq(ev(G, EVTCHNOP_alloc_unbound, &a), -XF_ESRCH);
    a = (struct evtchn_alloc_unbound){ .dom = 0, .remote_dom = G };
    ck_assert_int_eq(ev(G, EVTCHNOP_alloc_unbound, &a), -XF_EPERM);
    /* The privileged toolstack may allocate in the guest for itself. */
    a = (struct evtchn_alloc_unbound){ .dom = G, .remote_dom = 0 };
    ck_assert_int_eq(ev(0, EVTCHNOP_alloc_unbound, &a), 0);
    st = status_of(G, G, a.port);
    ck_assert_uint_eq(st.status, EVTCHNSTAT_unbound);
    ck_assert_uint_eq(st.u.unbound.dom, 0);
    /* The remote domain need not exist yet. */
    a = (struct evtchn_alloc_unbound){ .dom = DOMID_SELF, .remote_dom = 99 };
    ck_assert_int_eq(ev(G, EVTCHNOP_alloc_unbound, &a), 0);
}
END_TEST

START_TEST(builder_ports)
{
    evtchn_port_t sp = xf_sim_store_port(sim), cp = xf_sim_console_port(sim);
    ck_assert_uint_gt(sp, 0);
    ck_assert_uint_gt(cp, 0);
    ck_assert_uint_ne(sp, cp);
    ck_assert_uint_eq(status_of(G, G, sp).status, EVTCHNSTAT_unbound);
    ck_assert_uint_eq(status_of(G, G, sp).u.unbound.dom, 0);
    ck_assert_uint_eq(status_of(0, G, cp).u.unbound.dom, 0);
    /* dom0 binds the xenstore port as xenstored does. */
    int p0 = xf_sim_evtchn_bind_interdomain(sim, 0, G, sp);
    ck_assert_int_gt(p0, 0);
    struct evtchn_status st = status_of(G, G, sp);
    ck_assert_uint_eq(st.status, EVTCHNSTAT_interdomain);
    ck_assert_uint_eq(st.u.interdomain.dom, 0);
    ck_assert_uint_eq(st.u.interdomain.port, (unsigned)p0);
}
END_TEST

START_TEST(bind_interdomain_errors)
{
    int up = xf_sim_evtchn_alloc_unbound(sim, G, 0);
    ck_assert_int_gt(up, 0);
    struct evtchn_bind_interdomain b = { .remote_dom = 77, .remote_port = (evtchn_port_t)up };
    ck_assert_int_eq(ev(0, EVTCHNOP_bind_interdomain, &b), -XF_ESRCH);
    /* Not unbound for the caller: dom 5 may not take dom0's port. */
    struct xf_sim_domain_config c5 = { .domid = 5 };
    ck_assert_int_eq(xf_sim_domain_create(sim, &c5), 5);
    b = (struct evtchn_bind_interdomain){ .remote_dom = G, .remote_port = (evtchn_port_t)up };
    ck_assert_int_eq(ev(5, EVTCHNOP_bind_interdomain, &b), -XF_EINVAL);
    /* Out of range, free, reserved (0), and already-bound ports. */
    b.remote_port = 4000;
    ck_assert_int_eq(ev(0, EVTCHNOP_bind_interdomain, &b), -XF_EINVAL);
    b.remote_port = 60;
    ck_assert_int_eq(ev(0, EVTCHNOP_bind_interdomain, &b), -XF_EINVAL);
    b.remote_port = 0;
    ck_assert_int_eq(ev(0, EVTCHNOP_bind_interdomain, &b), -XF_EINVAL);
    b.remote_port = (evtchn_port_t)up;
    ck_assert_int_eq(ev(0, EVTCHNOP_bind_interdomain, &b), 0);
    ck_assert_int_eq(ev(0, EVTCHNOP_bind_interdomain, &b), -XF_EINVAL);
    /* Xen raises the new local port once, for sends it may have dropped. */
    ck_assert(pending(0, b.local_port));
    ck_assert(!pending(G, (evtchn_port_t)up));
    /* Loopback through DOMID_SELF. */
    int lp = xf_sim_evtchn_alloc_unbound(sim, G, G);
    int lb = xf_sim_evtchn_bind_interdomain(sim, G, DOMID_SELF, (evtchn_port_t)lp);
    ck_assert_int_gt(lb, 0);
    clear_all(G);
    ck_assert_int_eq(xf_sim_evtchn_send(sim, G, (evtchn_port_t)lb), 0);
    ck_assert(pending(G, (evtchn_port_t)lp));
}
END_TEST

START_TEST(virq_and_ipi)
{
    struct evtchn_bind_virq v = { .virq = NR_VIRQS, .vcpu = 0 };
    ck_assert_int_eq(ev(G, EVTCHNOP_bind_virq, &v), -XF_EINVAL);
    v = (struct evtchn_bind_virq){ .virq = VIRQ_CONSOLE, .vcpu = 1 }; /* global */
    ck_assert_int_eq(ev(G, EVTCHNOP_bind_virq, &v), -XF_EINVAL);
    v = (struct evtchn_bind_virq){ .virq = VIRQ_TIMER, .vcpu = 2 };
    ck_assert_int_eq(ev(G, EVTCHNOP_bind_virq, &v), -XF_ENOENT);
    v = (struct evtchn_bind_virq){ .virq = VIRQ_TIMER, .vcpu = 1 };
    ck_assert_int_eq(ev(G, EVTCHNOP_bind_virq, &v), 0);
    evtchn_port_t tport = v.port;
    ck_assert_int_eq(ev(G, EVTCHNOP_bind_virq, &v), -XF_EEXIST);
    struct evtchn_status st = status_of(G, G, tport);
    ck_assert_uint_eq(st.status, EVTCHNSTAT_virq);
    ck_assert_uint_eq(st.u.virq, VIRQ_TIMER);
    ck_assert_uint_eq(st.vcpu, 1);
    /* A VIRQ port cannot be sent on. */
    ck_assert_int_eq(xf_sim_evtchn_send(sim, G, tport), -XF_EINVAL);
    ck_assert_int_eq(xf_sim_raise_virq(sim, G, VIRQ_TIMER, 0), -XF_ENOENT);
    ck_assert_int_eq(xf_sim_raise_virq(sim, G, VIRQ_TIMER, 1), 0);
    ck_assert(pending(G, tport));
    ck_assert(sel(G, 1, tport));
    ck_assert(!sel(G, 0, tport));
    ck_assert_uint_eq(xf_sim_shared_info(sim, G)->vcpu_info[1].evtchn_upcall_pending, 1);
    /* Close frees the VIRQ for binding again, and clears pending. */
    ck_assert_int_eq(xf_sim_evtchn_close(sim, G, tport), 0);
    ck_assert(!pending(G, tport));
    ck_assert_int_eq(ev(G, EVTCHNOP_bind_virq, &v), 0);

    struct evtchn_bind_ipi ipi = { .vcpu = 2 };
    ck_assert_int_eq(ev(G, EVTCHNOP_bind_ipi, &ipi), -XF_ENOENT);
    ipi.vcpu = 0;
    ck_assert_int_eq(ev(G, EVTCHNOP_bind_ipi, &ipi), 0);
    ck_assert_uint_eq(status_of(G, G, ipi.port).status, EVTCHNSTAT_ipi);
    clear_all(G);
    ck_assert_int_eq(xf_sim_evtchn_send(sim, G, ipi.port), 0);
    ck_assert(pending(G, ipi.port));
    ck_assert(sel(G, 0, ipi.port));
}
END_TEST

START_TEST(send_close_status_errors)
{
    ck_assert_int_eq(xf_sim_evtchn_send(sim, G, 5000), -XF_EINVAL);
    ck_assert_int_eq(xf_sim_evtchn_send(sim, G, 63), -XF_EINVAL);   /* free */
    ck_assert_int_eq(xf_sim_evtchn_send(sim, G, 0), -XF_EINVAL);    /* reserved */
    int up = xf_sim_evtchn_alloc_unbound(sim, G, 0);
    clear_all(G);
    ck_assert_int_eq(xf_sim_evtchn_send(sim, G, (evtchn_port_t)up), 0); /* dropped */
    ck_assert(!pending(G, (evtchn_port_t)up));

    ck_assert_int_eq(xf_sim_evtchn_close(sim, G, 5000), -XF_EINVAL);
    ck_assert_int_eq(xf_sim_evtchn_close(sim, G, 63), -XF_EINVAL);
    ck_assert_int_eq(xf_sim_evtchn_close(sim, G, 0), -XF_EINVAL);
    ck_assert_int_eq(xf_sim_evtchn_close(sim, G, (evtchn_port_t)up), 0);
    ck_assert_int_eq(xf_sim_evtchn_close(sim, G, (evtchn_port_t)up), -XF_EINVAL);

    struct evtchn_status st = { .dom = 77, .port = 1 };
    ck_assert_int_eq(ev(G, EVTCHNOP_status, &st), -XF_ESRCH);
    st = (struct evtchn_status){ .dom = DOMID_SELF, .port = 5000 };
    ck_assert_int_eq(ev(G, EVTCHNOP_status, &st), -XF_EINVAL);
    st = (struct evtchn_status){ .dom = 0, .port = 1 };
    ck_assert_int_eq(ev(G, EVTCHNOP_status, &st), -XF_EPERM);
    ck_assert_uint_eq(status_of(G, G, 0).status, EVTCHNSTAT_closed);
    ck_assert_uint_eq(status_of(G, G, (evtchn_port_t)up).status, EVTCHNSTAT_closed);

    struct evtchn_unmask um = { .port = 5000 };
    ck_assert_int_eq(ev(G, EVTCHNOP_unmask, &um), -XF_EINVAL);
    ck_assert_int_eq(ev(G, 99, &um), -XF_ENOSYS);
    struct evtchn_init_control ic = { 0 };
    ck_assert_int_eq(ev(G, EVTCHNOP_init_control, &ic), -XF_EOPNOTSUPP);
    ck_assert_int_eq(ev(G, EVTCHNOP_send, NULL), -XF_EFAULT);
}
END_TEST

START_TEST(close_interdomain_leaves_peer_unbound)
{
    int up = xf_sim_evtchn_alloc_unbound(sim, G, 0);
    int bp = xf_sim_evtchn_bind_interdomain(sim, 0, G, (evtchn_port_t)up);
    ck_assert_int_gt(bp, 0);
    ck_assert_int_eq(xf_sim_evtchn_send(sim, 0, (evtchn_port_t)bp), 0);
    ck_assert(pending(G, (evtchn_port_t)up));
    ck_assert_int_eq(xf_sim_evtchn_close(sim, G, (evtchn_port_t)up), 0);
    struct evtchn_status st = status_of(0, 0, (evtchn_port_t)bp);
    ck_assert_uint_eq(st.status, EVTCHNSTAT_unbound);
    ck_assert_uint_eq(st.u.unbound.dom, G);
    /* ... so the guest can bind it again. */
    int again = xf_sim_evtchn_bind_interdomain(sim, G, 0, (evtchn_port_t)bp);
    ck_assert_int_gt(again, 0);
    ck_assert_uint_eq(status_of(0, 0, (evtchn_port_t)bp).u.interdomain.port, (unsigned)again);
}
END_TEST

START_TEST(mask_unmask_semantics)
{
    int up = xf_sim_evtchn_alloc_unbound(sim, G, 0);
    int bp = xf_sim_evtchn_bind_interdomain(sim, 0, G, (evtchn_port_t)up);
    evtchn_port_t p = (evtchn_port_t)up;
    shared_info_t *s = xf_sim_shared_info(sim, G);

    clear_all(G);
    s->evtchn_mask[p / 64] |= 1ull << (p % 64);
    ck_assert_int_eq(xf_sim_evtchn_send(sim, 0, (evtchn_port_t)bp), 0);
    ck_assert(pending(G, p));         /* the bit is set ...             */
    ck_assert(!sel(G, 0, p));         /* ... but no selector ...         */
    ck_assert_uint_eq(s->vcpu_info[0].evtchn_upcall_pending, 0); /* ... nor upcall */
    struct evtchn_unmask um = { .port = p };
    ck_assert_int_eq(ev(G, EVTCHNOP_unmask, &um), 0);
    ck_assert(!((s->evtchn_mask[p / 64] >> (p % 64)) & 1));
    ck_assert(sel(G, 0, p));
    ck_assert_uint_eq(s->vcpu_info[0].evtchn_upcall_pending, 1);

    /* Already pending: a second send changes nothing. */
    s->vcpu_info[0].evtchn_pending_sel = 0;
    s->vcpu_info[0].evtchn_upcall_pending = 0;
    ck_assert_int_eq(xf_sim_evtchn_send(sim, 0, (evtchn_port_t)bp), 0);
    ck_assert(!sel(G, 0, p));
    /* Unmasking an unmasked, non-pending port raises nothing. */
    clear_all(G);
    ck_assert_int_eq(ev(G, EVTCHNOP_unmask, &um), 0);
    ck_assert(!sel(G, 0, p));
}
END_TEST

START_TEST(bind_vcpu_moves_delivery)
{
    int up = xf_sim_evtchn_alloc_unbound(sim, G, 0);
    int bp = xf_sim_evtchn_bind_interdomain(sim, 0, G, (evtchn_port_t)up);
    struct evtchn_bind_vcpu bv = { .port = (evtchn_port_t)up, .vcpu = 2 };
    ck_assert_int_eq(ev(G, EVTCHNOP_bind_vcpu, &bv), -XF_ENOENT);
    bv.port = 5000;
    bv.vcpu = 1;
    ck_assert_int_eq(ev(G, EVTCHNOP_bind_vcpu, &bv), -XF_EINVAL);
    struct evtchn_bind_ipi ipi = { .vcpu = 0 };
    ck_assert_int_eq(ev(G, EVTCHNOP_bind_ipi, &ipi), 0);
    bv.port = ipi.port;
    ck_assert_int_eq(ev(G, EVTCHNOP_bind_vcpu, &bv), -XF_EINVAL);
    struct evtchn_bind_virq vt = { .virq = VIRQ_TIMER, .vcpu = 0 };
    ck_assert_int_eq(ev(G, EVTCHNOP_bind_virq, &vt), 0);
    bv.port = vt.port;
    ck_assert_int_eq(ev(G, EVTCHNOP_bind_vcpu, &bv), -XF_EINVAL); /* per-vCPU VIRQ */
    struct evtchn_bind_virq vg = { .virq = VIRQ_DOM_EXC, .vcpu = 0 };
    ck_assert_int_eq(ev(G, EVTCHNOP_bind_virq, &vg), 0);
    bv.port = vg.port;
    ck_assert_int_eq(ev(G, EVTCHNOP_bind_vcpu, &bv), 0); /* global VIRQ moves */

    bv.port = (evtchn_port_t)up;
    ck_assert_int_eq(ev(G, EVTCHNOP_bind_vcpu, &bv), 0);
    ck_assert_uint_eq(status_of(G, G, (evtchn_port_t)up).vcpu, 1);
    clear_all(G);
    ck_assert_int_eq(xf_sim_evtchn_send(sim, 0, (evtchn_port_t)bp), 0);
    ck_assert(sel(G, 1, (evtchn_port_t)up));
    ck_assert(!sel(G, 0, (evtchn_port_t)up));
    ck_assert_uint_eq(xf_sim_shared_info(sim, G)->vcpu_info[1].evtchn_upcall_pending, 1);
    ck_assert_uint_eq(xf_sim_shared_info(sim, G)->vcpu_info[0].evtchn_upcall_pending, 0);
}
END_TEST

START_TEST(ports_exhausted)
{
    int last = 0, rc;
    unsigned n = 0;
    while ((rc = xf_sim_evtchn_alloc_unbound(sim, G, 0)) > 0) {
        last = rc;
        n++;
    }
    ck_assert_int_eq(rc, -XF_ENOSPC);
    ck_assert_int_eq(last, XF_SIM_NR_PORTS - 1);
    ck_assert_uint_eq(n + 2, XF_SIM_NR_PORTS - 1); /* 2 taken by the builder */
    struct evtchn_bind_ipi ipi = { .vcpu = 0 };
    ck_assert_int_eq(ev(G, EVTCHNOP_bind_ipi, &ipi), -XF_ENOSPC);
    /* A freed port is handed out again, lowest first. */
    ck_assert_int_eq(xf_sim_evtchn_close(sim, G, 100), 0);
    ck_assert_int_eq(xf_sim_evtchn_alloc_unbound(sim, G, 0), 100);

    struct xf_sim_domain_config c = { .domid = 6, .max_evtchn_port = 7 };
    ck_assert_int_eq(xf_sim_domain_create(sim, &c), 6);
    for (int i = 1; i <= 7; i++)
        ck_assert_int_eq(xf_sim_evtchn_alloc_unbound(sim, 6, 0), i);
    ck_assert_int_eq(xf_sim_evtchn_alloc_unbound(sim, 6, 0), -XF_ENOSPC);
}
END_TEST

START_TEST(reset_closes_all)
{
    int up = xf_sim_evtchn_alloc_unbound(sim, G, 0);
    int bp = xf_sim_evtchn_bind_interdomain(sim, 0, G, (evtchn_port_t)up);
    struct evtchn_reset r = { .dom = 0 };
    ck_assert_int_eq(ev(G, EVTCHNOP_reset, &r), -XF_EPERM);
    r.dom = 77;
    ck_assert_int_eq(ev(G, EVTCHNOP_reset, &r), -XF_ESRCH);
    r.dom = DOMID_SELF;
    ck_assert_int_eq(ev(G, EVTCHNOP_reset, &r), 0);
    ck_assert_uint_eq(status_of(G, G, (evtchn_port_t)up).status, EVTCHNSTAT_closed);
    ck_assert_uint_eq(status_of(0, 0, (evtchn_port_t)bp).status, EVTCHNSTAT_unbound);
}
END_TEST

/* The backend thread: dom0 echoes each event back until told to stop. */
struct echo { evtchn_port_t port; int rounds; int rc; };

static void *echo_thread(void *p)
{
    struct echo *e = p;
    for (int i = 0; i < e->rounds; i++) {
        int rc = xf_sim_evtchn_wait(sim, 0, e->port, deadline_in_ms(5000));
        if (rc == 0)
            rc = xf_sim_evtchn_send(sim, 0, e->port);
        if (rc != 0) {
            e->rc = rc;
            return NULL;
        }
    }
    return NULL;
}

START_TEST(send_both_ways_across_threads)
{
    int up = xf_sim_evtchn_alloc_unbound(sim, G, 0);
    int bp = xf_sim_evtchn_bind_interdomain(sim, 0, G, (evtchn_port_t)up);
    struct echo e = { .port = (evtchn_port_t)bp, .rounds = 200 };
    pthread_t t;

    xf_sim_evtchn_test_and_clear(sim, 0, (evtchn_port_t)bp); /* the bind's own event */
    ck_assert_int_eq(pthread_create(&t, NULL, echo_thread, &e), 0);
    for (int i = 0; i < e.rounds; i++) {
        ck_assert_int_eq(xf_sim_evtchn_send(sim, G, (evtchn_port_t)up), 0);
        ck_assert_int_eq(xf_sim_evtchn_wait(sim, G, (evtchn_port_t)up, deadline_in_ms(5000)), 0);
    }
    pthread_join(t, NULL);
    ck_assert_int_eq(e.rc, 0);
    /* Nothing more comes. */
    ck_assert_int_eq(xf_sim_evtchn_wait(sim, G, (evtchn_port_t)up, deadline_in_ms(20)),
                     -XF_ETIMEDOUT);
}
END_TEST

static int upcalls;
static unsigned upcall_vcpu;

static void handler(void *arg, unsigned vcpu)
{
    shared_info_t *s = arg;
    upcalls++;
    upcall_vcpu = vcpu;
    s->vcpu_info[vcpu].evtchn_upcall_pending = 0;
}

/* A guest thread: configure an upcall, wait in xf_plat_wait for dom0's event. */
struct guest_ctx { evtchn_port_t port; int rc; int calls; };

static void *guest_waiter(void *p)
{
    struct guest_ctx *g = p;
    xf_sim_set_current(sim, G);
    g->rc = xf_plat_wait(deadline_in_ms(5000));
    g->calls = upcalls;
    return NULL;
}

START_TEST(upcall_runs_on_wait)
{
    int up = xf_sim_evtchn_alloc_unbound(sim, G, 0);
    int bp = xf_sim_evtchn_bind_interdomain(sim, 0, G, (evtchn_port_t)up);
    shared_info_t *s = xf_sim_shared_info(sim, G);
    struct xen_hvm_evtchn_upcall_vector uv = { .vcpu = 0, .vector = 0x0f };

    clear_all(G);
    xf_sim_set_current(sim, G);
    ck_assert_int_eq(xf_plat_wait(deadline_in_ms(10)), -XF_ETIMEDOUT);
    ck_assert_int_eq(xf_plat_hvm_op(HVMOP_set_evtchn_upcall_vector, &uv), -XF_EINVAL);
    uv.vector = 0xf3;
    uv.vcpu = 2;
    ck_assert_int_eq(xf_plat_hvm_op(HVMOP_set_evtchn_upcall_vector, &uv), -XF_ENOENT);
    uv.vcpu = 0;
    ck_assert_int_eq(xf_plat_hvm_op(HVMOP_set_evtchn_upcall_vector, &uv), 0);
    xf_sim_set_upcall_handler(sim, G, handler, s);

    /* Not due yet: nothing pending. */
    ck_assert_int_eq(xf_sim_deliver_upcalls(sim, G), 0);
    /* Masked upcalls wait. */
    s->vcpu_info[0].evtchn_upcall_mask = 1;
    ck_assert_int_eq(xf_sim_evtchn_send(sim, 0, (evtchn_port_t)bp), 0);
    ck_assert_int_eq(xf_sim_deliver_upcalls(sim, G), 0);
    ck_assert_int_eq(upcalls, 0);
    s->vcpu_info[0].evtchn_upcall_mask = 0;
    ck_assert_int_eq(xf_sim_deliver_upcalls(sim, G), 1);
    ck_assert_int_eq(upcalls, 1);
    ck_assert_uint_eq(upcall_vcpu, 0);

    /* A waiting guest thread is woken by dom0's send and runs the handler. */
    clear_all(G);
    struct guest_ctx g = { .port = (evtchn_port_t)up };
    pthread_t t;
    ck_assert_int_eq(pthread_create(&t, NULL, guest_waiter, &g), 0);
    ck_assert_int_eq(xf_sim_evtchn_send(sim, 0, (evtchn_port_t)bp), 0);
    pthread_join(t, NULL);
    ck_assert_int_eq(g.rc, 0);
    ck_assert_int_eq(g.calls, 2);
    ck_assert(pending(G, (evtchn_port_t)up));
}
END_TEST

/* A handler that makes hypercalls, as a real one does (unmask, send). */
static evtchn_port_t reply_port;

static void hypercalling_handler(void *arg, unsigned vcpu)
{
    shared_info_t *s = arg;
    struct evtchn_unmask um = { .port = reply_port };
    struct evtchn_send snd = { .port = reply_port };
    upcalls++;
    s->vcpu_info[vcpu].evtchn_upcall_pending = 0;
    xf_plat_event_channel_op(EVTCHNOP_unmask, &um);
    xf_plat_event_channel_op(EVTCHNOP_send, &snd);
}

START_TEST(handler_may_make_hypercalls)
{
    int up = xf_sim_evtchn_alloc_unbound(sim, G, 0);
    int bp = xf_sim_evtchn_bind_interdomain(sim, 0, G, (evtchn_port_t)up);
    struct xen_hvm_evtchn_upcall_vector uv = { .vcpu = 0, .vector = 0xf3 };

    reply_port = (evtchn_port_t)up;
    xf_sim_set_current(sim, G);
    ck_assert_int_eq(xf_plat_hvm_op(HVMOP_set_evtchn_upcall_vector, &uv), 0);
    xf_sim_set_upcall_handler(sim, G, hypercalling_handler, xf_sim_shared_info(sim, G));
    xf_sim_evtchn_test_and_clear(sim, 0, (evtchn_port_t)bp);
    ck_assert_int_eq(xf_sim_evtchn_send(sim, 0, (evtchn_port_t)bp), 0);
    ck_assert_int_eq(xf_plat_wait(deadline_in_ms(5000)), 0);
    ck_assert_int_eq(upcalls, 1);
    /* The handler's send reached dom0. */
    ck_assert_int_eq(xf_sim_evtchn_wait(sim, 0, (evtchn_port_t)bp, deadline_in_ms(5000)), 0);
}
END_TEST

START_TEST(callback_param_configures_upcall)
{
    shared_info_t *s = xf_sim_shared_info(sim, G);
    struct xen_hvm_param p = { .domid = DOMID_SELF, .index = HVM_PARAM_CALLBACK_IRQ,
                               .value = (2ull << 56) | 0xf3 };
    struct evtchn_bind_ipi ipi = { .vcpu = 0 };

    xf_sim_set_current(sim, G);
    xf_sim_set_upcall_handler(sim, G, handler, s);
    ck_assert_int_eq(xf_plat_event_channel_op(EVTCHNOP_bind_ipi, &ipi), 0);
    clear_all(G);
    ck_assert_int_eq(xf_plat_event_channel_op(EVTCHNOP_send, &(struct evtchn_send){ ipi.port }), 0);
    /* No upcall configured: wait returns, the handler does not run. */
    ck_assert_int_eq(xf_plat_wait(deadline_in_ms(1000)), 0);
    ck_assert_int_eq(upcalls, 0);
    ck_assert_int_eq(xf_plat_hvm_op(HVMOP_set_param, &p), 0);
    ck_assert_int_eq(xf_plat_wait(deadline_in_ms(1000)), 0);
    ck_assert_int_eq(upcalls, 1);
}
END_TEST

START_TEST(destroy_unbinds_peer)
{
    struct xf_sim_domain_config c = { .domid = 7 };
    ck_assert_int_eq(xf_sim_domain_create(sim, &c), 7);
    int up = xf_sim_evtchn_alloc_unbound(sim, 7, 0);
    int bp = xf_sim_evtchn_bind_interdomain(sim, 0, 7, (evtchn_port_t)up);
    ck_assert_int_eq(xf_sim_domain_destroy(sim, 7), 0);
    struct evtchn_status st = status_of(0, 0, (evtchn_port_t)bp);
    ck_assert_uint_eq(st.status, EVTCHNSTAT_unbound);
    ck_assert_uint_eq(st.u.unbound.dom, 7);
    ck_assert_int_eq(xf_sim_evtchn_send(sim, 0, (evtchn_port_t)bp), 0);
    ck_assert_int_eq(xf_sim_domain_destroy(sim, 7), -XF_ESRCH);
    ck_assert_int_eq(xf_sim_domain_destroy(sim, 0), -XF_EINVAL);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("sim-evtchn");
    TCase *tc = tcase_create("evtchn");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 20);
    tcase_add_test(tc, alloc_unbound_and_errors);
    tcase_add_test(tc, builder_ports);
    tcase_add_test(tc, bind_interdomain_errors);
    tcase_add_test(tc, virq_and_ipi);
    tcase_add_test(tc, send_close_status_errors);
    tcase_add_test(tc, close_interdomain_leaves_peer_unbound);
    tcase_add_test(tc, mask_unmask_semantics);
    tcase_add_test(tc, bind_vcpu_moves_delivery);
    tcase_add_test(tc, ports_exhausted);
    tcase_add_test(tc, reset_closes_all);
    tcase_add_test(tc, send_both_ways_across_threads);
    tcase_add_test(tc, upcall_runs_on_wait);
    tcase_add_test(tc, callback_param_configures_upcall);
    tcase_add_test(tc, handler_may_make_hypercalls);
    tcase_add_test(tc, destroy_unbinds_peer);
    suite_add_tcase(s, tc);
    return xf_check_run(s);
}
