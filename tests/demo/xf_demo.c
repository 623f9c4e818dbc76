/*
 * xenfront demonstration: a guest and a back end sharing a ring through the
 * simulated Xen, as a real split driver does, narrated step by step.
 *
 * The guest (the main thread, domain 1) does by hand what libgnttab and
 * libevtchn will do for a driver: map shared_info and its grant table, grant
 * a ring page to dom0, open an event channel. The back end (a second
 * thread, dom0) maps the grant and binds the channel exactly as a real back
 * end asks Xen to. They then exchange requests over the ring with
 * xenfront's ring layer, notifying each other only when Xen's rules say so.
 * Last, the back end turns hostile and the guest's ring layer refuses it.
 */
#define _GNU_SOURCE
#include <inttypes.h>
#include <stdarg.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <xenfront/errno.h>
#include <xenfront/ring.h>
#include <xenfront/sim.h>

/* A toy protocol: the back end adds two numbers. */
struct add_req { uint32_t id; uint32_t a, b; };
struct add_rsp { uint32_t id; int32_t status; uint64_t sum; };
DEFINE_RING_TYPES(add, struct add_req, struct add_rsp);

#define NR_REQUESTS 100000u
#define RING_REF    8u               /* refs 0-7 are reserved */
#define DEADLINE_NS (30ull * 1000000000ull)

static struct xf_sim *sim;
static domid_t guest;

/* What xenstore would carry from front end to back end. */
static struct {
    grant_ref_t ref;
    evtchn_port_t guest_port;
} handoff;

static unsigned long backend_notifies, backend_requests;

/* Orders the demo's acts: dom0 turns hostile only once the guest has
 * consumed every honest response (a real front end would announce this
 * through its xenstore state). */
static pthread_barrier_t act_barrier;

static void step(const char *who, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void step(const char *who, const char *fmt, ...)
{
    va_list ap;

    printf("  %-7s ", who);
    va_start(ap, fmt);
    vprintf(fmt, ap);
    va_end(ap);
    putchar('\n');
    fflush(stdout);
}

static void die(const char *what, long rc)
{
    fprintf(stderr, "demo failed: %s: %ld\n", what, rc);
    exit(1);
}

/* ------------------------------------------------------------- back end */

static void *backend(void *unused)
{
    grant_handle_t handle;
    int16_t st;
    struct xf_back_ring ring;
    void *page;
    int port;

    (void)unused;
    xf_sim_set_current(sim, 0);
    page = xf_sim_map_grant(sim, 0, guest, handoff.ref, false, &handle, &st);
    if (page == NULL)
        die("dom0 map_grant_ref", st);
    step("dom0", "GNTTABOP_map_grant_ref(dom %u, ref %u) -> mapped at %p, handle %u",
         guest, handoff.ref, page, handle);
    port = xf_sim_evtchn_bind_interdomain(sim, 0, guest, handoff.guest_port);
    if (port < 0)
        die("dom0 bind_interdomain", port);
    step("dom0", "EVTCHNOP_bind_interdomain(dom %u, port %u) -> local port %d",
         guest, handoff.guest_port, port);
    if (xf_back_ring_init(&ring, page, XF_PAGE_SIZE, XF_RING_SHAPE(add)) != 0)
        die("back ring", 0);

    while (backend_requests < NR_REQUESTS) {
        struct add_req q;
        int n;

        /* Sleep until the guest notifies; Xen's rules guarantee it will
         * whenever it publishes a request we have asked to hear about. */
        if (xf_sim_evtchn_wait(sim, 0, (evtchn_port_t)port,
                               xf_plat_now_ns() + DEADLINE_NS) != 0)
            die("dom0 waiting for requests (a lost wake-up?)", 0);
        do {
            while ((n = xf_back_ring_get_request(&ring, &q)) == 1) {
                struct add_rsp s = { q.id, 0, (uint64_t)q.a + q.b };

                if (xf_back_ring_put_response(&ring, &s) != 0)
                    die("put_response", 0);
                backend_requests++;
            }
            if (n < 0)
                die("dom0 ring", n);
            if (xf_back_ring_push(&ring)) {
                backend_notifies++;
                xf_sim_evtchn_send(sim, 0, (evtchn_port_t)port);
            }
        } while (xf_back_ring_final_check(&ring) > 0);
    }
    step("dom0", "answered %lu requests, sent %lu notifications", backend_requests,
         backend_notifies);

    /* Turn hostile: claim a thousand responses to requests never made. */
    pthread_barrier_wait(&act_barrier);
    {
        struct xf_generic_sring *s = page;
        RING_IDX p = XF_READ_ONCE(s->rsp_prod);

        XF_WRITE_ONCE(s->rsp_prod, p + 1000);
        xf_sim_evtchn_send(sim, 0, (evtchn_port_t)port);
        step("dom0", "HOSTILE: rsp_prod %u -> %u (1000 responses nobody asked for)",
             p, p + 1000);
    }
    /* Let go of the page so the guest may end its grant. */
    st = (int16_t)xf_sim_unmap_grant(sim, 0, handle);
    step("dom0", "GNTTABOP_unmap_grant_ref(handle %u) -> %d", handle, st);
    xf_sim_evtchn_close(sim, 0, (evtchn_port_t)port);
    return NULL;
}

/* ---------------------------------------------------------------- guest */

static shared_info_t *shinfo;
static grant_entry_v1_t *gnttab;

static bool take_event(evtchn_port_t port)
{
    const unsigned bits = sizeof(xen_ulong_t) * 8;
    xen_ulong_t bit = (xen_ulong_t)1 << (port % bits);
    xen_ulong_t old;

    /* What libevtchn's dispatcher does, in Xen's order: acknowledge the
     * upcall, then take the selector word, then the port's pending bit.
     * Leaving the selector bit set would make Xen skip every later upcall:
     * it only raises one when it sets a selector bit that was clear. */
    XF_WRITE_ONCE(shinfo->vcpu_info[0].evtchn_upcall_pending, 0);
    __atomic_exchange_n(&shinfo->vcpu_info[0].evtchn_pending_sel, 0, __ATOMIC_SEQ_CST);
    old = __atomic_fetch_and(&shinfo->evtchn_pending[port / bits], ~bit, __ATOMIC_SEQ_CST);
    return (old & bit) != 0;
}

/* Give up one of the guest's pages and have Xen put one of its own there
 * (shared_info, or a grant-table frame), as libevtchn and libgnttab do. */
static void *map_xen_page(unsigned int space, xen_ulong_t idx, const char *what)
{
    void *page = xf_plat_page_alloc(1);
    struct xen_add_to_physmap xatp;
    long rc;

    memset(&xatp, 0, sizeof(xatp));
    xatp.domid = DOMID_SELF;
    xatp.space = space;
    xatp.idx = idx;
    xatp.gpfn = xf_plat_virt_to_gfn(page);
    rc = xf_plat_memory_op(XENMEM_add_to_physmap, &xatp);
    if (rc != 0)
        die(what, rc);
    step("guest", "XENMEM_add_to_physmap(%s) at gfn %#" PRIx64, what, (uint64_t)xatp.gpfn);
    return page;
}

static void map_xen_pages(void)
{
    shinfo = map_xen_page(XENMAPSPACE_shared_info, 0, "shared_info");
    gnttab = map_xen_page(XENMAPSPACE_grant_table, 0, "grant table frame 0");
    step("guest", "the domain builder's grants: ref 0 -> console gfn %#x, "
         "ref 1 -> xenstore gfn %#x", gnttab[0].frame, gnttab[1].frame);
}

int main(void)
{
    struct xf_front_ring ring;
    struct evtchn_alloc_unbound au;
    void *page;
    pthread_t be;
    unsigned long sent = 0, done = 0, guest_notifies = 0, wakeups = 0;
    long rc;
    int n;

    setvbuf(stdout, NULL, _IOLBF, 0);
    printf("xenfront demonstration: a split driver over a simulated Xen\n\n");
    sim = xf_sim_create(NULL);
    if (sim == NULL)
        die("xf_sim_create", 0);
    guest = xf_sim_guest_domid(sim);
    printf("1. A simulated Xen with dom0 and guest domain %u (state files in %s,\n"
           "   guest memory a file any process can map)\n", guest, xf_sim_dir(sim));
    map_xen_pages();

    printf("\n2. The guest shares a ring page and opens an event channel\n");
    page = xf_plat_page_alloc(1);
    if (xf_front_ring_init(&ring, page, XF_PAGE_SIZE, XF_RING_SHAPE(add)) != 0)
        die("front ring", 0);
    /* Grant it to dom0: frame and domid first, then the flags that make the
     * entry live, so dom0 can never see a live entry with a stale frame. */
    gnttab[RING_REF].frame = (uint32_t)xf_plat_virt_to_gfn(page);
    gnttab[RING_REF].domid = 0;
    XF_WMB();
    XF_WRITE_ONCE(gnttab[RING_REF].flags, GTF_permit_access);
    handoff.ref = RING_REF;
    step("guest", "ring of %u entries in gfn %#x, granted to dom0 as ref %u",
         xf_front_ring_size(&ring), gnttab[RING_REF].frame, RING_REF);
    memset(&au, 0, sizeof(au));
    au.dom = DOMID_SELF;
    au.remote_dom = 0;
    rc = xf_plat_event_channel_op(EVTCHNOP_alloc_unbound, &au);
    if (rc != 0)
        die("alloc_unbound", rc);
    handoff.guest_port = au.port;
    step("guest", "EVTCHNOP_alloc_unbound(remote dom0) -> port %u", au.port);
    step("guest", "(xenstore would carry ring-ref=%u event-channel=%u to the back end)",
         handoff.ref, handoff.guest_port);

    printf("\n3. dom0 connects as a real back end would\n");
    pthread_barrier_init(&act_barrier, NULL, 2);
    if (pthread_create(&be, NULL, backend, NULL) != 0)
        die("pthread_create", 0);

    /* Keep the ring full; sleep only when Xen's rules promise a wake-up. */
    while (done < NR_REQUESTS) {
        while (sent < NR_REQUESTS && xf_front_ring_free(&ring) > 0) {
            struct add_req q = { (uint32_t)sent, (uint32_t)sent, 2u * (uint32_t)sent };

            xf_front_ring_put_request(&ring, &q);
            sent++;
        }
        if (xf_front_ring_push(&ring)) {
            guest_notifies++;
            xf_plat_event_channel_op(EVTCHNOP_send, &(struct evtchn_send){ handoff.guest_port });
        }
        for (;;) {
            struct add_rsp s;

            while ((n = xf_front_ring_get_response(&ring, &s)) == 1) {
                if (s.status != 0 || s.sum != 3ull * s.id || s.id != done)
                    die("wrong response", (long)s.id);
                done++;
            }
            if (n < 0)
                die("guest ring", n);
            if (xf_front_ring_final_check(&ring) > 0)
                continue;
            if (done == NR_REQUESTS || (sent < NR_REQUESTS && xf_front_ring_free(&ring) > 0))
                break;
            /* Nothing to answer and nothing more to send: wait for dom0. */
            {
                uint64_t deadline = xf_plat_now_ns() + DEADLINE_NS;

                while (!take_event(handoff.guest_port)) {
                    if (xf_plat_wait(deadline) != 0 && !take_event(handoff.guest_port))
                        die("guest waiting for responses (a lost wake-up?)", 0);
                }
            }
            wakeups++;
        }
    }
    pthread_barrier_wait(&act_barrier);
    pthread_join(be, NULL);

    printf("\n4. Results\n");
    step("guest", "%lu requests answered correctly and in order", done);
    step("guest", "notifications guest->dom0: %lu (%.4f per request)", guest_notifies,
         (double)guest_notifies / (double)done);
    step("guest", "notifications dom0->guest: %lu (%.4f per request), %lu waits",
         backend_notifies, (double)backend_notifies / (double)done, wakeups);
    printf("   (a driver that notified on every request would send %u each way)\n",
           NR_REQUESTS);

    printf("\n5. The back end turned hostile\n");
    {
        struct add_rsp s;

        memset(&s, 0xAA, sizeof(s));
        n = xf_front_ring_get_response(&ring, &s);
        step("guest", "xf_front_ring_get_response -> %d (%s); response buffer untouched: %s",
             n, n == -XF_EPROTO ? "-EPROTO: rsp_prod ran ahead of the requests pushed" : "??",
             ((unsigned char *)&s)[0] == 0xAA ? "yes" : "NO");
        if (n != -XF_EPROTO)
            die("hostile rsp_prod not detected", n);
        n = xf_front_ring_put_request(&ring, &(struct add_req){ 0, 0, 0 });
        step("guest", "the ring stays broken: put_request -> %d; the driver fails its "
             "requests cleanly", n);
    }

    printf("\n6. Ending the grant\n");
    {
        uint16_t f = XF_READ_ONCE(gnttab[RING_REF].flags);

        step("guest", "ref %u flags %#x: %s", RING_REF, f,
             (f & (GTF_reading | GTF_writing)) ? "still mapped (GTF_reading/writing): must wait"
                                               : "no longer mapped by dom0");
        if (f & (GTF_reading | GTF_writing))
            die("grant still pinned after unmap", f);
        XF_WRITE_ONCE(gnttab[RING_REF].flags, 0);
        xf_plat_page_free(page, 1);
        step("guest", "access ended and the page returned to the allocator");
    }
    pthread_barrier_destroy(&act_barrier);
    xf_sim_destroy(sim);
    printf("\nDone: simulator destroyed, its files removed.\n");
    return 0;
}
