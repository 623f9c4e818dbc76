/*
 * Shared fixture of netfront's tests: the simulator, the simulated
 * xenstored, libxenbus/libgnttab/libevtchn as the guest on the test
 * thread (upcalls delivered when it waits or pumps), and the simulated
 * netback as dom0 (tests/netback). Data is served by the back end only when
 * a test calls xf_netback_tx_process()/rx_process() (deterministic), unless
 * a test asks for auto_data.
 */
#ifndef NETFRONT_TEST_H
#define NETFRONT_TEST_H

#include <check.h>
#include <pthread.h>
#include <sched.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <xenfront/errno.h>
#include <xenfront/evtchn.h>
#include <xenfront/gnttab.h>
#include <xenfront/netfront.h>
#include <xenfront/sim.h>
#include <xenfront/xenbus.h>
#include <xenfront/xsd.h>
#include <xf_check.h>
#include <xf_netback.h>

#define MS_NS 1000000ull
#define DL(ms) (xf_plat_now_ns() + (uint64_t)(ms) * MS_NS)

static struct xf_sim *sim;
static domid_t guest;
static struct xf_evtchn *ec;
static struct xf_xsd *xsd;
static struct xf_xenbus *xb;
static struct xf_gnttab *gt;
static struct xf_netback *be;
static struct xf_netfront *nf;

static char log_text[16384];
static size_t log_len;

XF_PRINTF(3, 0)
static void log_hook(void *arg, enum xf_log_level level, const char *fmt, va_list ap)
{
    (void)arg;
    (void)level;
    if (log_len < sizeof(log_text) - 2) {
        int n = vsnprintf(log_text + log_len, sizeof(log_text) - log_len - 1, fmt, ap);

        if (n > 0)
            log_len += (size_t)n < sizeof(log_text) - log_len - 2 ? (size_t)n
                                                                  : sizeof(log_text) - log_len - 2;
        log_text[log_len++] = '\n';
        log_text[log_len] = '\0';
    }
}

static XF_UNUSED bool logged(const char *needle)
{
    return strstr(log_text, needle) != NULL;
}

/* ------------------------------------------------------------------------
 * What the callbacks saw.
 */
#define MAX_DONE 4096
struct done {
    void *cookie;
    int status;
    unsigned queue;
};
static struct done dones[MAX_DONE];
static unsigned ndone;
static unsigned nspace;

#define MAX_RX 512
struct rxrec {
    unsigned queue;
    uint32_t len;
    uint32_t flags;
    uint8_t gso_type;
    uint16_t gso_size;
    unsigned nfrags;
    unsigned char *data;
};
static struct rxrec rxs[MAX_RX];
static unsigned nrx;
static bool rx_keep;                     /* keep buffers (return later) */
static uint32_t kept[4096];
static unsigned nkept;

static void cb_tx_done(struct xf_netfront *n, unsigned q, void *cookie, int status, void *arg)
{
    (void)n;
    (void)arg;
    if (ndone < MAX_DONE)
        dones[ndone++] = (struct done){ cookie, status, q };
}

static bool cb_rx(struct xf_netfront *n, const struct xf_netfront_rx_pkt *p, void *arg)
{
    struct rxrec *r;
    uint32_t pos = 0;

    (void)n;
    (void)arg;
    if (nrx >= MAX_RX)
        return false;
    r = &rxs[nrx++];
    r->queue = p->queue;
    r->len = p->len;
    r->flags = p->flags;
    r->gso_type = p->gso_type;
    r->gso_size = p->gso_size;
    r->nfrags = p->nfrags;
    r->data = malloc(p->len ? p->len : 1);
    for (unsigned i = 0; i < p->nfrags; i++) {
        memcpy(r->data + pos, p->frags[i].data, p->frags[i].len);
        pos += p->frags[i].len;
    }
    ck_assert_uint_eq(pos, p->len);
    if (rx_keep) {
        for (unsigned i = 0; i < p->nfrags && nkept < 4096; i++)
            kept[nkept++] = p->frags[i].buf;
        return true;
    }
    return false;
}

static void cb_space(struct xf_netfront *n, unsigned q, void *arg)
{
    (void)n;
    (void)q;
    (void)arg;
    nspace++;
}

static void reset_records(void)
{
    for (unsigned i = 0; i < nrx; i++)
        free(rxs[i].data);
    nrx = ndone = nspace = nkept = 0;
    rx_keep = false;
}

/* ------------------------------------------------------------------------
 * The world.
 */
static void upcall(void *arg, unsigned vcpu)
{
    (void)vcpu;
    xf_evtchn_dispatch(arg, 0);
}

static void world_up_cfg(const struct xf_netback_config *bcfg)
{
    struct xf_sim_config sc;
    struct xf_gnttab_config gc;
    uint64_t pfn;
    evtchn_port_t sp;

    log_len = 0;
    log_text[0] = '\0';
    xf_log_set_hook(log_hook, NULL, XF_LOG_DEBUG);
    memset(&sc, 0, sizeof(sc));
    sc.guest.ram_frames = 32768;
    sc.dom0.ram_frames = 1024;
    sc.dom0.foreign_frames = 2048;
    sim = xf_sim_create(&sc);
    ck_assert_ptr_nonnull(sim);
    guest = xf_sim_guest_domid(sim);
    ck_assert_int_eq(xf_evtchn_create(&ec, NULL), 0);
    xf_sim_set_upcall_handler(sim, guest, upcall, ec);
    ck_assert_int_eq(xf_evtchn_upcall_setup(ec, XF_EVTCHN_UPCALL_VCPU_VECTOR, 0xf3), 0);
    xsd = xf_xsd_start(sim, guest, NULL);
    ck_assert_ptr_nonnull(xsd);
    ck_assert_int_eq(xf_xenbus_hvm_store(&pfn, &sp), 0);
    ck_assert_int_eq(xf_xenbus_create_ring(&xb, NULL, ec, xf_sim_gfn_to_va(sim, guest, pfn), sp),
                     0);
    memset(&gc, 0, sizeof(gc));
    gc.deferred_max = 4096;
    ck_assert_int_eq(xf_gnttab_create(&gt, &gc), 0);
    /* Room for 8 queues now, so the table does not grow mid-test (its
     * frames would look like leaked pages). */
    ck_assert_int_eq(xf_gnttab_grow(gt, 8 * 800), 0);
    be = xf_netback_create(sim, xsd, guest, bcfg);
    ck_assert_ptr_nonnull(be);
    reset_records();
}

static void world_down(void)
{
    if (nf != NULL) {
        int rc = xf_netfront_destroy(nf, DL(2000));

        if (rc == -XF_EBUSY) {
            for (unsigned i = 0; i < nkept; i++)
                (void)xf_netfront_rx_return(nf, kept[i]);
            nkept = 0;
            xf_netback_destroy(be);
            be = NULL;
            (void)xf_gnttab_reclaim(gt);
            rc = xf_netfront_destroy(nf, DL(200));
        }
        ck_assert_int_eq(rc, 0);
        nf = NULL;
    }
    xf_netback_destroy(be);
    be = NULL;
    (void)xf_gnttab_reclaim(gt);
    ck_assert_int_eq(xf_gnttab_destroy(gt), 0);
    xf_xenbus_destroy(xb);
    xf_xsd_stop(xsd);
    xf_evtchn_destroy(ec);
    xf_sim_destroy(sim);
    reset_records();
    xf_log_set_hook(NULL, NULL, XF_LOG_ERROR);
}

static void fcfg_default(struct xf_netfront_config *c)
{
    memset(c, 0, sizeof(*c));
    c->tx_done = cb_tx_done;
    c->rx = cb_rx;
    c->tx_space = cb_space;
}

static void nf_up(const struct xf_netfront_config *c)
{
    ck_assert_int_eq(xf_netfront_create(&nf, xb, ec, gt, c, DL(2000)), 0);
    ck_assert_int_eq(xf_netfront_connect(nf, DL(5000)), 0);
    ck_assert(xf_netback_wait_connected(be, true, DL(2000)));
}

/* Run the guest's pending upcalls (its event handlers). */
static XF_UNUSED int pump(void)
{
    int n = 0, k;

    while ((k = xf_sim_deliver_upcalls(sim, guest)) > 0 && n < 1000)
        n += k;
    return n;
}

/* Back end serves queue q both ways, then the guest handles the events. */
static XF_UNUSED void serve(unsigned q)
{
    (void)xf_netback_tx_process(be, q);
    (void)xf_netback_rx_process(be, q);
    pump();
}

static XF_UNUSED unsigned char pattern(size_t i, unsigned seed)
{
    return (unsigned char)(i * 7u + i / 251u + seed * 13u + 1u);
}

static XF_UNUSED void fill(unsigned char *p, size_t n, unsigned seed)
{
    for (size_t i = 0; i < n; i++)
        p[i] = pattern(i, seed);
}

static XF_UNUSED bool check_pattern(const unsigned char *p, size_t n, unsigned seed)
{
    for (size_t i = 0; i < n; i++)
        if (p[i] != pattern(i, seed))
            return false;
    return true;
}

/* Send one packet of n bytes (pattern seed) in nfrag pieces, copy mode. */
static XF_UNUSED int send_pattern(unsigned q, size_t n, unsigned nfrag, unsigned seed,
                                  uint32_t flags, void *cookie)
{
    static unsigned char buf[65536];
    struct xf_netfront_frag fr[XF_NETFRONT_MAX_FRAGS];
    struct xf_netfront_tx t;
    size_t per = (n + nfrag - 1) / nfrag, off = 0;
    unsigned k = 0;

    fill(buf, n, seed);
    while (off < n) {
        size_t c = n - off < per ? n - off : per;

        fr[k].data = buf + off;
        fr[k].len = (uint32_t)c;
        k++;
        off += c;
    }
    memset(&t, 0, sizeof(t));
    t.frags = fr;
    t.nfrags = k;
    t.flags = flags;
    t.cookie = cookie;
    return xf_netfront_send(nf, q, &t);
}

static XF_UNUSED void take_check(size_t n, unsigned seed)
{
    struct xf_netback_pkt p;

    ck_assert(xf_netback_tx_take(be, &p));
    ck_assert_uint_eq(p.len, n);
    ck_assert(check_pattern(p.data, n, seed));
    xf_netback_pkt_free(&p);
}

static XF_UNUSED void xs_set(const char *dir, const char *node, const char *v)
{
    char path[256];

    snprintf(path, sizeof(path), "%s/%s", dir, node);
    if (v == NULL)
        ck_assert_int_eq(xf_xsd_rm(xsd, path), 0);
    else
        ck_assert_int_eq(xf_xsd_write(xsd, path, v, strlen(v)), 0);
}

static XF_UNUSED bool xs_get(const char *dir, const char *node, char *buf, size_t cap)
{
    char path[256];
    int n;

    snprintf(path, sizeof(path), "%s/%s", dir, node);
    n = xf_xsd_read(xsd, path, buf, cap - 1);
    if (n < 0)
        return false;
    buf[n] = '\0';
    return true;
}

#endif /* NETFRONT_TEST_H */
