/*
 * Shared fixture of libevtchn's tests: a simulated Xen whose guest domain
 * (the seam's default current domain) uses libevtchn, and dom0 acting as
 * the remote end through the simulator's API.
 */
#ifndef EVTCHN_TEST_H
#define EVTCHN_TEST_H

#include <check.h>
#include <stdlib.h>
#include <string.h>

#include <xenfront/errno.h>
#include <xenfront/evtchn.h>
#include <xenfront/sim.h>
#include <xf_check.h>

#define SEC_NS 1000000000ull
#define DEADLINE(s) (xf_plat_now_ns() + (uint64_t)(s) * SEC_NS)

static struct xf_sim *sim;
static domid_t guest;
static struct xf_evtchn *ec;

/* What handlers record. */
#define MAX_LOG 16384
struct hit {
    evtchn_port_t port;
    void *arg;
};
static struct hit hits[MAX_LOG];
static unsigned nhits;
static unsigned calls[XF_EVTCHN_NR_PORTS];

static void record(struct xf_evtchn *e, evtchn_port_t port, void *arg)
{
    ck_assert_ptr_eq(e, ec);
    if (nhits < MAX_LOG)
        hits[nhits] = (struct hit){ port, arg };
    nhits++;
    calls[port]++;
}

static void reset_hits(void)
{
    nhits = 0;
    memset(calls, 0, sizeof(calls));
}

static void sim_setup_cfg(const struct xf_sim_config *cfg)
{
    sim = xf_sim_create(cfg);
    ck_assert_ptr_nonnull(sim);
    guest = xf_sim_guest_domid(sim);
    ck_assert_int_eq(xf_evtchn_create(&ec, NULL), 0);
    ck_assert_ptr_nonnull(ec);
    reset_hits();
}

static void setup(void)
{
    sim_setup_cfg(NULL);
}

static void teardown(void)
{
    xf_evtchn_destroy(ec);
    ec = NULL;
    xf_sim_destroy(sim);
    sim = NULL;
}

/* What Xen says about a port of domid (asked as privileged dom0). */
static XF_UNUSED struct evtchn_status xen_status(domid_t domid, evtchn_port_t port)
{
    struct evtchn_status st;

    memset(&st, 0, sizeof(st));
    st.dom = domid;
    st.port = port;
    ck_assert_int_eq(xf_sim_event_channel_op(sim, 0, EVTCHNOP_status, &st), 0);
    return st;
}

/* A dispatch loop that stops when nothing is left (bounded, in case the
 * library failed to converge). */
static XF_UNUSED int dispatch_all(void)
{
    int total = 0;

    for (int i = 0; i < 1000; i++) {
        int n = xf_evtchn_dispatch(ec, 0);
        ck_assert_int_ge(n, 0);
        total += n;
        if (n == 0 && !__atomic_load_n(&xf_evtchn_shared_info(ec)->vcpu_info[0]
                                        .evtchn_upcall_pending, __ATOMIC_SEQ_CST))
            return total;
    }
    ck_abort_msg("dispatch did not converge");
    return total;
}

#endif /* EVTCHN_TEST_H */
