/*
 * Shared fixture of libxenbus's tests: a simulated Xen whose guest (the
 * seam's default current domain) runs libevtchn with upcalls on a vector,
 * as a PVH kernel would, and a scripted xenstore server ("fake") that plays
 * dom0 on the guest's store ring byte by byte, in the test's own thread, so
 * that every hostile case is exact and nothing depends on timing.
 */
#ifndef XB_TEST_H
#define XB_TEST_H

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <xenfront/errno.h>
#include <xenfront/evtchn.h>
#include <xenfront/sim.h>
#include <xenfront/xenbus.h>
#include <xf_check.h>

#define SEC_NS 1000000000ull
#define MS_NS  1000000ull
#define SOON(ms) (xf_plat_now_ns() + (uint64_t)(ms) * MS_NS)
#define XBT static __attribute__((unused))

static struct xf_sim *sim;
static domid_t guest;
static struct xf_evtchn *ec;
static struct xf_xenbus *xb;
static void *store_va;
static evtchn_port_t store_port;

static void upcall(void *arg, unsigned int vcpu)
{
    (void)vcpu;
    xf_evtchn_dispatch(arg, 0);
}

/* The simulator, the guest's event channels with upcalls, the store page. */
XBT void sim_up(void)
{
    uint64_t pfn;

    sim = xf_sim_create(NULL);
    ck_assert_ptr_nonnull(sim);
    guest = xf_sim_guest_domid(sim);
    ck_assert_int_eq(xf_evtchn_create(&ec, NULL), 0);
    xf_sim_set_upcall_handler(sim, guest, upcall, ec);
    ck_assert_int_eq(xf_evtchn_upcall_setup(ec, XF_EVTCHN_UPCALL_AUTO, 0xf3), 0);
    /* As a kernel finds them: HVM params. */
    ck_assert_int_eq(xf_xenbus_hvm_store(&pfn, &store_port), 0);
    ck_assert_uint_eq(pfn, xf_sim_store_gfn(sim));
    ck_assert_uint_eq(store_port, xf_sim_store_port(sim));
    store_va = xf_sim_gfn_to_va(sim, guest, (xen_pfn_t)pfn);
    ck_assert_ptr_nonnull(store_va);
}

XBT void sim_down(void)
{
    xf_xenbus_destroy(xb);
    xb = NULL;
    xf_evtchn_destroy(ec);
    ec = NULL;
    xf_sim_destroy(sim);
    sim = NULL;
}

XBT void xb_up(const struct xf_xenbus_config *cfg)
{
    ck_assert_int_eq(xf_xenbus_create_ring(&xb, cfg, ec, store_va, store_port), 0);
    ck_assert_ptr_nonnull(xb);
}

/* ------------------------------------------------------------------------
 * The scripted server.
 */
struct fake {
    volatile struct xenstore_domain_interface *intf;
    evtchn_port_t port;             /* dom0's end of the store channel */
    unsigned char in[8192];         /* request bytes taken from the ring */
    size_t in_len;
    unsigned char out[1 << 17];     /* reply bytes waiting for ring space */
    size_t out_len;
};

static struct fake *fk;

XBT void fake_up(void)
{
    int p;

    fk = calloc(1, sizeof(*fk));
    ck_assert_ptr_nonnull(fk);
    fk->intf = store_va;
    p = xf_sim_evtchn_bind_interdomain(sim, 0, guest, xf_sim_store_port(sim));
    ck_assert_int_gt(p, 0);
    fk->port = (evtchn_port_t)p;
}

XBT void fake_down(void)
{
    free(fk);
    fk = NULL;
}

/* Move bytes: requests out of the ring, queued replies into it. */
XBT void fake_pump(void)
{
    volatile struct xenstore_domain_interface *i = fk->intf;
    bool moved = false;

    for (;;) {
        uint32_t cons = i->req_cons, prod = __atomic_load_n(&i->req_prod, __ATOMIC_ACQUIRE);
        if (cons == prod || fk->in_len == sizeof(fk->in))
            break;
        fk->in[fk->in_len++] = (unsigned char)i->req[MASK_XENSTORE_IDX(cons)];
        __atomic_store_n(&i->req_cons, cons + 1, __ATOMIC_RELEASE);
        moved = true;
    }
    size_t sent = 0;
    while (sent < fk->out_len) {
        uint32_t cons = __atomic_load_n(&i->rsp_cons, __ATOMIC_ACQUIRE), prod = i->rsp_prod;
        if (prod - cons >= XENSTORE_RING_SIZE)
            break;
        i->rsp[MASK_XENSTORE_IDX(prod)] = (char)fk->out[sent++];
        __atomic_store_n(&i->rsp_prod, prod + 1, __ATOMIC_RELEASE);
        moved = true;
    }
    memmove(fk->out, fk->out + sent, fk->out_len - sent);
    fk->out_len -= sent;
    if (moved)
        xf_sim_evtchn_send(sim, 0, fk->port);
}

/* Pump both sides until quiet (bounded). */
XBT void pump(void)
{
    for (int k = 0; k < 200; k++) {
        fake_pump();
        xf_xenbus_process(xb);
    }
}

/* Take one whole request if there is one. */
XBT bool fake_take(struct xsd_sockmsg *h, char *payload)
{
    if (fk->in_len < sizeof(*h))
        return false;
    memcpy(h, fk->in, sizeof(*h));
    ck_assert_uint_le(h->len, XENSTORE_PAYLOAD_MAX);
    if (fk->in_len < sizeof(*h) + h->len)
        return false;
    memcpy(payload, fk->in + sizeof(*h), h->len);
    payload[h->len] = '\0';
    memmove(fk->in, fk->in + sizeof(*h) + h->len, fk->in_len - sizeof(*h) - h->len);
    fk->in_len -= sizeof(*h) + h->len;
    return true;
}

/* Wait (pumping) for the next request. */
XBT void fake_expect(struct xsd_sockmsg *h, char *payload)
{
    for (int k = 0; k < 1000; k++) {
        if (fake_take(h, payload))
            return;
        fake_pump();
        xf_xenbus_process(xb);
    }
    ck_abort_msg("no request arrived");
}

XBT void fake_raw(const void *p, size_t n)
{
    ck_assert_uint_le(fk->out_len + n, sizeof(fk->out));
    memcpy(fk->out + fk->out_len, p, n);
    fk->out_len += n;
}

XBT void fake_send(uint32_t type, uint32_t req_id, const void *payload, uint32_t len)
{
    struct xsd_sockmsg h = { .type = type, .req_id = req_id, .tx_id = 0, .len = len };
    fake_raw(&h, sizeof(h));
    fake_raw(payload, len);
}

XBT void fake_reply(const struct xsd_sockmsg *req, const void *payload, uint32_t len)
{
    fake_send(req->type, req->req_id, payload, len);
}

XBT void fake_error(const struct xsd_sockmsg *req, const char *err)
{
    fake_send(XS_ERROR, req->req_id, err, (uint32_t)strlen(err) + 1);
}

XBT void fake_event(const char *path, const char *token)
{
    char buf[XENSTORE_PAYLOAD_MAX];
    size_t a = strlen(path) + 1, b = strlen(token) + 1;
    memcpy(buf, path, a);
    memcpy(buf + a, token, b);
    fake_send(XS_WATCH_EVENT, 0, buf, (uint32_t)(a + b));
}

#endif /* XB_TEST_H */

/* ------------------------------------------------------------------------
 * The scripted server in a thread of its own, for the synchronous helpers
 * (the guest's thread then blocks in them, as a kernel would).
 */
#include <pthread.h>

static pthread_t fk_thread;
static bool fk_threaded;

/* Threaded variant of fake_expect: wait on dom0's end of the channel. */
XBT void fake_expect_t(struct xsd_sockmsg *h, char *payload)
{
    uint64_t end = SOON(5000);

    while (xf_plat_now_ns() < end) {
        fake_pump();
        if (fake_take(h, payload))
            return;
        xf_sim_evtchn_wait(sim, 0, fk->port, SOON(20));
    }
    ck_abort_msg("no request arrived");
}

/* Push out everything queued (threaded). */
XBT void fake_flush_t(void)
{
    uint64_t end = SOON(5000);

    while (fk->out_len != 0 && xf_plat_now_ns() < end) {
        fake_pump();
        if (fk->out_len != 0)
            xf_sim_evtchn_wait(sim, 0, fk->port, SOON(20));
    }
    ck_assert_uint_eq(fk->out_len, 0);
}

static void (*fk_script)(void);

static void *fk_main(void *arg)
{
    (void)arg;
    fk_script();
    fake_flush_t();
    return NULL;
}

XBT void fake_run(void (*script)(void))
{
    fk_threaded = true;
    fk_script = script;
    ck_assert_int_eq(pthread_create(&fk_thread, NULL, fk_main, NULL), 0);
}

XBT void fake_join(void)
{
    if (fk_threaded)
        pthread_join(fk_thread, NULL);
    fk_threaded = false;
}
