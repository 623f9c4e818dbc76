/*
 * Shared fixture of blkfront's tests: a simulated Xen whose guest (the
 * seam's default domain) runs blkfront over libxenbus, libgnttab and
 * libevtchn with upcalls, the simulated xenstored, and the simulated
 * blkback (tests/blkback) as dom0 in its own thread, set up the way libxl
 * adds a vbd (both directories, libxl's permissions).
 */
#ifndef BLKFRONT_TEST_H
#define BLKFRONT_TEST_H

#include <check.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <xenfront/blkfront.h>
#include <xenfront/errno.h>
#include <xenfront/evtchn.h>
#include <xenfront/gnttab.h>
#include <xenfront/sim.h>
#include <xenfront/xenbus.h>
#include <xenfront/xsd.h>
#include <xen/io/blkif.h>
#include <xen/io/xenbus.h>
#include <xf_check.h>

#include "xf_blkback.h"

#define MS_NS 1000000ull
#define SEC_NS 1000000000ull
#define DEADLINE_MS(ms) (xf_plat_now_ns() + (uint64_t)(ms) * MS_NS)

static struct xf_sim *sim;
static domid_t guest;
static struct xf_evtchn *ec;
static struct xf_xsd *xsd;
static struct xf_xenbus *xb;
static struct xf_gnttab *gt;
static struct xf_blkback *bb;
static char fe[128], be_dir[128];

static XF_UNUSED bool valgrind(void)
{
    return getenv("XF_VALGRIND") != NULL;
}

/* Log capture. */
static char log_text[16384];
static size_t log_len;

XF_PRINTF(3, 0)
static void log_hook(void *arg, enum xf_log_level level, const char *fmt, va_list ap)
{
    (void)arg;
    (void)level;
    if (log_len < sizeof(log_text) - 1) {
        int n = vsnprintf(log_text + log_len, sizeof(log_text) - log_len, fmt, ap);

        if (n > 0)
            log_len += (size_t)n < sizeof(log_text) - log_len ? (size_t)n
                                                               : sizeof(log_text) - 1 - log_len;
        if (log_len < sizeof(log_text) - 1)
            log_text[log_len++] = '\n';
        log_text[log_len] = '\0';
    }
}

static XF_UNUSED bool logged(const char *needle)
{
    return strstr(log_text, needle) != NULL;
}

static void upcall(void *arg, unsigned vcpu)
{
    (void)vcpu;
    xf_evtchn_dispatch(arg, 0);
}

static XF_UNUSED int node_read(const char *dir, const char *node, char *buf, size_t cap)
{
    char path[256];

    snprintf(path, sizeof(path), "%s/%s", dir, node);
    return xf_xsd_read(xsd, path, buf, cap);
}

static XF_UNUSED long long node_int(const char *dir, const char *node)
{
    char buf[64];

    if (node_read(dir, node, buf, sizeof(buf)) < 0)
        return -1;
    return atoll(buf);
}

static XF_UNUSED void node_write(const char *dir, const char *node, const char *val)
{
    char path[256];

    snprintf(path, sizeof(path), "%s/%s", dir, node);
    ck_assert_int_eq(xf_xsd_write(xsd, path, val, strlen(val)), 0);
}

/* libxl's part: both directories with its permissions. */
static void toolstack_add_vbd(const char *id)
{
    char path[256], val[64], owner[16], reader[16];
    const char *fe_perms[2], *be_perms[2];
    const char *fe_nodes[] = { "", "/backend", "/backend-id", "/state" };
    const char *be_nodes[] = { "", "/frontend", "/frontend-id", "/state" };

    snprintf(fe, sizeof(fe), "/local/domain/%u/device/vbd/%s", (unsigned)guest, id);
    snprintf(be_dir, sizeof(be_dir), "/local/domain/0/backend/vbd/%u/%s", (unsigned)guest, id);
    node_write(fe, "backend", be_dir);
    node_write(fe, "backend-id", "0");
    node_write(fe, "state", "1");
    node_write(be_dir, "frontend", fe);
    snprintf(val, sizeof(val), "%u", (unsigned)guest);
    node_write(be_dir, "frontend-id", val);
    node_write(be_dir, "state", "1");
    snprintf(owner, sizeof(owner), "n%u", (unsigned)guest);
    snprintf(reader, sizeof(reader), "r%u", (unsigned)guest);
    fe_perms[0] = owner;
    fe_perms[1] = "r0";
    be_perms[0] = "n0";
    be_perms[1] = reader;
    for (unsigned i = 0; i < 4; i++) {
        snprintf(path, sizeof(path), "%s%s", fe, fe_nodes[i]);
        ck_assert_int_eq(xf_xsd_set_perms(xsd, path, fe_perms, 2), 0);
        snprintf(path, sizeof(path), "%s%s", be_dir, be_nodes[i]);
        ck_assert_int_eq(xf_xsd_set_perms(xsd, path, be_perms, 2), 0);
    }
}

static long baseline_frames;
static uint32_t baseline_gt_frames;

/* The world without a back end. */
static void world_up_nobe(void)
{
    struct xf_sim_config sc = { 0 };
    uint64_t pfn;
    evtchn_port_t sp;

    log_len = 0;
    log_text[0] = '\0';
    xf_log_set_hook(log_hook, NULL, XF_LOG_DEBUG);
    sc.guest.ram_frames = 32768;             /* 128 MiB: pools of four queues */
    sc.dom0.foreign_frames = 4096;
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
    ck_assert_int_eq(xf_gnttab_create(&gt, NULL), 0);
    toolstack_add_vbd("51712");
    /* Grow the grant table now: its growth (frames and bookkeeping) is
     * kept for good and would blur the page count below. */
    ck_assert_int_eq(xf_gnttab_grow(gt, 4096), 0);
    baseline_frames = xf_sim_free_frames(sim, guest);
    {
        struct xf_gnttab_stats st;

        xf_gnttab_get_stats(gt, &st);
        baseline_gt_frames = st.nr_frames;
    }
}

static XF_UNUSED void world_up(const struct xf_blkback_config *bc)
{
    world_up_nobe();
    bb = xf_blkback_start(sim, xsd, guest, fe, be_dir, bc);
    ck_assert_ptr_nonnull(bb);
}

/* Nothing of blkfront's is left behind. */
static XF_UNUSED void assert_released(void)
{
    struct xf_gnttab_stats st;

    (void)xf_gnttab_reclaim(gt);
    xf_gnttab_get_stats(gt, &st);
    ck_assert_uint_eq(st.granted_refs, 0);
    ck_assert_uint_eq(st.deferred, 0);
    ck_assert_uint_eq(st.reserved_refs, 0);
    ck_assert_uint_eq(xf_evtchn_nr_bound(ec), 1);   /* xenstore's */
    /* Every page is back, except those the grant table grew by (kept). */
    ck_assert_int_eq(xf_sim_free_frames(sim, guest) + (long)(st.nr_frames - baseline_gt_frames),
                     baseline_frames);
}

static XF_UNUSED void world_down(void)
{
    xf_blkback_stop(bb);
    bb = NULL;
    ck_assert_int_eq(xf_gnttab_destroy(gt), 0);
    gt = NULL;
    xf_xenbus_destroy(xb);
    xb = NULL;
    xf_xsd_stop(xsd);
    xsd = NULL;
    xf_evtchn_destroy(ec);
    ec = NULL;
    xf_sim_destroy(sim);
    sim = NULL;
    xf_log_set_hook(NULL, NULL, XF_LOG_ERROR);
}

static XF_UNUSED struct xf_blkfront *open_dev(const struct xf_blkfront_config *cfg)
{
    struct xf_blkfront *bf = NULL;

    ck_assert_int_eq(xf_blkfront_open(&bf, xb, ec, gt, "51712", cfg, DEADLINE_MS(10000)), 0);
    ck_assert_ptr_nonnull(bf);
    return bf;
}

/* One step of a kernel's loop: wait for an event (upcalls run there),
 * poll, service. */
static XF_UNUSED void step(struct xf_blkfront *bf, uint64_t wait_ns)
{
    (void)xf_plat_wait(xf_plat_now_ns() + wait_ns);
    (void)xf_blkfront_poll(bf);
    if (xf_blkfront_needs_service(bf))
        (void)xf_blkfront_service(bf, DEADLINE_MS(5000));
}

/* A synchronous I/O through the asynchronous API. */
struct sync_io {
    int status;
    int done;
};

static void sync_done(struct xf_blkfront *bf, struct xf_blkfront_io *io, int status, void *arg)
{
    struct sync_io *s = arg;

    (void)bf;
    (void)io;
    s->status = status;
    s->done++;
}

static XF_UNUSED int wait_io(struct xf_blkfront *bf, struct sync_io *s, uint64_t deadline)
{
    while (!s->done && xf_plat_now_ns() < deadline)
        step(bf, 2 * MS_NS);
    if (!s->done && getenv("BLKFRONT_DEBUG"))
        fprintf(stderr, "%s\n", log_text + (log_len > 3000 ? log_len - 3000 : 0));
    ck_assert_int_eq(s->done, 1);
    return s->status;
}

static XF_UNUSED int do_io(struct xf_blkfront *bf, uint32_t op, uint32_t flags, uint64_t sector,
                           void *buf, size_t len)
{
    struct xf_blkfront_iov iov = { buf, len };
    struct xf_blkfront_io io = { 0 };
    struct sync_io s = { 0, 0 };
    int rc;

    io.op = op;
    io.flags = flags;
    io.sector = sector;
    io.iov = &iov;
    io.nr_iov = 1;
    io.nr_sectors = op == XF_BLKFRONT_DISCARD ? len / 512 : 0;
    io.done = sync_done;
    io.arg = &s;
    rc = xf_blkfront_submit(bf, &io);
    if (rc < 0)
        return rc;
    return wait_io(bf, &s, DEADLINE_MS(10000));
}

static XF_UNUSED void fill(void *buf, size_t len, uint32_t seed)
{
    uint8_t *p = buf;

    for (size_t i = 0; i < len; i++) {
        seed = seed * 1103515245u + 12345u;
        p[i] = (uint8_t)(seed >> 16);
    }
}

#endif /* BLKFRONT_TEST_H */
