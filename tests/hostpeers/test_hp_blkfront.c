/*
 * blkfront against QEMU 7.2's real block back end (xen-block, "qdisk"),
 * unmodified, run on the host through the dom0 shim: connect, random
 * reads and writes of many sizes and alignments (split into requests of
 * at most 11 segments), flush, the negotiated multi-page ring, the image
 * file compared byte for byte with a model of every acknowledged write;
 * then QEMU killed with I/O in flight and a new QEMU started (the
 * toolstack's part played by the test): blkfront reconnects, reissues what
 * was not acknowledged, and loses nothing that was. Also: QEMU's two data
 * paths, grant copy and (with the shim refusing grant copy) grant map,
 * each proven by the shim's call counts to be the one that ran; a read
 * into a grant the guest made read-only fails cleanly in both; discard,
 * with the toolstack's discard-enable.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <xenstore.h>
#include <xenfront/blkfront.h>
#include <xenfront/gnttab.h>

#include "hp_guest.h"

#define DISK_BYTES (8u << 20)
#define DEVID 51712                     /* xvda */

static struct xf_xenbus *xb;
static struct xf_gnttab *gt;
static struct xf_blkfront *bf;
static char img[4200];
static unsigned char *model;            /* what the disk must hold */
static bool qdisk_discard;              /* the toolstack's discard-enable */

/* The shim's counts of QEMU's libxengnttab calls (XF_SHIM_GNTTAB_STATS,
 * tests/shim/xengnttab.c: the file holds these four uint64_t in order). */
struct gnttab_calls {
    uint64_t copy_calls, copy_segs;     /* xengnttab_grant_copy with segments */
    uint64_t map_calls, map_refs;       /* xengnttab_map_*grant_refs */
};
static char calls_path[4200];
static char env_calls[4300];
static const char *qemu_env[3];

static void gnttab_calls(struct gnttab_calls *c)
{
    int fd = open(calls_path, O_RDONLY);

    ck_assert_int_ge(fd, 0);
    ck_assert_int_eq(pread(fd, c, sizeof(*c), 0), (ssize_t)sizeof(*c));
    close(fd);
}

/* dom0's grant handles in use before the first QEMU started (xenstored's
 * map of the guest's xenstore page). */
static bool dom0_before_qemu[XF_SIM_MAX_MAPTRACK];

static bool dom0_handle_live(uint32_t h)
{
    off_t off;

    return xf_sim_grant_backing(hp.sim, 0, (grant_handle_t)h, &off) >= 0;
}

/*
 * QEMU has exited: release what it still had mapped, as Linux's gntdev
 * does for a process that dies with grants mapped. QEMU can: its I/O
 * thread may be mid-copy when the main thread exits (under Xen a grant
 * copy is one hypercall; the shim's maps, copies and unmaps), and it has
 * been seen to crash on its way out, its ring still mapped. The simulator
 * knows no processes, so the test does the kernel's part: every dom0
 * mapping made since the first QEMU started. Returns how many.
 */
static unsigned int release_dead_qemu_maps(void)
{
    unsigned int n = 0;

    ck_assert(!hp_alive(&hp.qemu));
    for (uint32_t h = 0; h < XF_SIM_MAX_MAPTRACK; h++) {
        if (!dom0_before_qemu[h] && dom0_handle_live(h)) {
            ck_assert_int_eq(xf_sim_unmap_grant(hp.sim, 0, (grant_handle_t)h), GNTST_okay);
            n++;
        }
    }
    return n;
}

/* The toolstack's part, as libxl writes a qdisk (hp_add_qdisk). */
static void add_qdisk(void)
{
    ck_assert_int_eq(hp_add_qdisk(&hp, DEVID, img, qdisk_discard), 0);
}

/* no_grant_copy: the shim refuses grant copy, so QEMU maps grants;
 * discard: the toolstack enables discard. */
static void world_up_with(bool no_grant_copy, bool discard)
{
    uint64_t pfn;
    evtchn_port_t sp;
    int fd;

    guest_up();
    qdisk_discard = discard;
    snprintf(calls_path, sizeof(calls_path), "%s/gnttab-calls", hp.dir);
    snprintf(env_calls, sizeof(env_calls), "XF_SHIM_GNTTAB_STATS=%s", calls_path);
    fd = open(calls_path, O_RDWR | O_CREAT | O_TRUNC, 0600);
    ck_assert_int_ge(fd, 0);
    ck_assert_int_eq(ftruncate(fd, sizeof(struct gnttab_calls)), 0);
    close(fd);
    qemu_env[0] = env_calls;
    qemu_env[1] = no_grant_copy ? "XF_SHIM_NO_GRANT_COPY=1" : NULL;
    qemu_env[2] = NULL;
    hp.qemu_env = qemu_env;
    HP_OK(hp_start_xenstored(&hp, &hp_why));
    HP_OK(hp_introduce(&hp, NULL, &hp_why));
    snprintf(img, sizeof(img), "%s/disk.img", hp.dir);
    fd = open(img, O_RDWR | O_CREAT | O_TRUNC, 0600);
    ck_assert_int_ge(fd, 0);
    ck_assert_int_eq(ftruncate(fd, DISK_BYTES), 0);
    close(fd);
    model = calloc(1, DISK_BYTES);
    ck_assert_ptr_nonnull(model);
    add_qdisk();
    for (uint32_t h = 0; h < XF_SIM_MAX_MAPTRACK; h++)
        dom0_before_qemu[h] = dom0_handle_live(h);
    HP_OK(hp_start_qemu(&hp, NULL, &hp_why));
    ck_assert_int_eq(xf_xenbus_hvm_store(&pfn, &sp), 0);
    ck_assert_int_eq(
        xf_xenbus_create_ring(&xb, NULL, ec, xf_sim_gfn_to_va(hp.sim, hp.domid, pfn), sp), 0);
    ck_assert_int_eq(xf_gnttab_create(&gt, NULL), 0);
}

static void world_up(void)
{
    world_up_with(false, false);
}

static void world_down(void)
{
    if (bf != NULL)
        (void)xf_blkfront_close(bf, SOON(10000));
    bf = NULL;
    /* QEMU lets go of the pages it still maps a little after it says
     * Closed: reclaim until it has, bounded. */
    for (uint64_t end = SOON(10000); xf_gnttab_reclaim(gt) != 0;) {
        ck_assert_msg(xf_plat_now_ns() < end, "QEMU kept grants mapped after close");
        (void)xf_plat_wait(SOON(5));
    }
    ck_assert_int_eq(xf_gnttab_destroy(gt), 0);
    gt = NULL;
    xf_xenbus_destroy(xb);
    xb = NULL;
    free(model);
    model = NULL;
    guest_down();
}

struct done {
    int status;
    bool fired;
};

static void on_done(struct xf_blkfront *b, struct xf_blkfront_io *io, int status, void *arg)
{
    struct done *d = arg;

    (void)b;
    (void)io;
    d->status = status;
    d->fired = true;
}

/* Run the device (poll and service) until every flag in d[0..n) fired. */
static void run_until(struct done *d, unsigned int n, unsigned int ms)
{
    uint64_t end = SOON(ms);

    for (;;) {
        unsigned int fired = 0;

        for (unsigned int i = 0; i < n; i++)
            fired += d[i].fired;
        if (fired == n)
            return;
        ck_assert_msg(xf_plat_now_ns() < end, "%u of %u I/Os completed by the deadline",
                      fired, n);
        (void)xf_blkfront_poll(bf);
        if (xf_blkfront_needs_service(bf))
            (void)xf_blkfront_service(bf, SOON(2000));
        (void)xf_plat_wait(SOON(2));
    }
}

static void image_matches_model(void)
{
    unsigned char *disk = malloc(DISK_BYTES);
    int fd = open(img, O_RDONLY);

    ck_assert_ptr_nonnull(disk);
    ck_assert_msg(fd >= 0, "open %s: %s", img, strerror(errno));
    ck_assert_int_eq(pread(fd, disk, DISK_BYTES, 0), (ssize_t)DISK_BYTES);
    close(fd);
    for (size_t off = 0; off < DISK_BYTES; off += 512)
        ck_assert_msg(memcmp(disk + off, model + off, 512) == 0,
                      "image differs from the model at sector %zu", off / 512);
    free(disk);
}

/* Write n bytes at sector from a buffer at an odd offset (so the library
 * must bounce), split into iovecs of odd sizes. */
#define MAXV 8
struct wio {
    struct xf_blkfront_io io;
    struct xf_blkfront_iov iov[MAXV];
    unsigned char *buf;
    struct done d;
};

static void prep(struct wio *w, uint32_t op, uint64_t sector, size_t bytes, uint64_t *seed)
{
    size_t off = 0;
    uint32_t k = 0;

    memset(w, 0, sizeof(*w));
    w->buf = malloc(bytes + 3);
    ck_assert_ptr_nonnull(w->buf);
    if (op == XF_BLKFRONT_WRITE)
        for (size_t i = 0; i < bytes; i++)
            w->buf[3 + i] = (unsigned char)((*seed = *seed * 6364136223846793005ull + 1) >> 33);
    while (off < bytes) {
        size_t piece = bytes - off;

        if (k < MAXV - 1 && piece > 1024)
            piece = 512 + (size_t)(*seed % (piece - 512));
        w->iov[k].base = w->buf + 3 + off;
        w->iov[k].len = piece;
        off += piece;
        k++;
    }
    w->io.op = op;
    w->io.sector = sector;
    w->io.iov = w->iov;
    w->io.nr_iov = k;
    w->io.done = on_done;
    w->io.arg = &w->d;
}

static void random_io(unsigned int rounds, uint64_t seed)
{
    static struct wio w[8];

    for (unsigned int r = 0; r < rounds; r++) {
        unsigned int n = 1 + (unsigned int)(seed % 8);
        uint64_t sect[8];
        size_t len[8];

        for (unsigned int i = 0; i < n; i++) {
            seed = seed * 6364136223846793005ull + 1442695040888963407ull;
            /* 512 B .. 192 KiB: up to 48 segments, several requests each */
            len[i] = 512u * (1 + (unsigned int)((seed >> 20) % 384));
            sect[i] = (seed >> 40) % ((DISK_BYTES - len[i]) / 512);
            /* No two I/Os of a batch overlap: their order is not defined. */
            for (unsigned int j = 0; j < i; j++)
                if (sect[i] * 512 < sect[j] * 512 + len[j] && sect[j] * 512 < sect[i] * 512 + len[i])
                    len[i] = 0;
            if (len[i] == 0) {
                n = i;
                break;
            }
            prep(&w[i], (seed & 1) ? XF_BLKFRONT_WRITE : XF_BLKFRONT_READ, sect[i], len[i], &seed);
            ck_assert_int_eq(xf_blkfront_submit(bf, &w[i].io), 0);
        }
        if (n == 0)
            continue;
        for (unsigned int i = 0; i < n; i++)
            run_until(&w[i].d, 1, 20000);
        for (unsigned int i = 0; i < n; i++) {
            unsigned char *m = model + sect[i] * 512;

            ck_assert_int_eq(w[i].d.status, 0);
            if (w[i].io.op == XF_BLKFRONT_WRITE)
                memcpy(m, w[i].buf + 3, len[i]);
            else
                ck_assert_msg(memcmp(w[i].buf + 3, m, len[i]) == 0,
                              "read at sector %llu differs", (unsigned long long)sect[i]);
            free(w[i].buf);
        }
    }
}

START_TEST(qemu_qdisk_read_write_flush)
{
    struct xf_blkfront_info info;
    struct xf_blkfront_stats st;
    struct xf_blkfront_io fl = { .op = XF_BLKFRONT_FLUSH };
    struct done d = { 0 };

    world_up();
    ck_assert_int_eq(xf_blkfront_open(&bf, xb, ec, gt, "51712", NULL, SOON(20000)), 0);
    xf_blkfront_get_info(bf, &info);
    ck_assert_uint_eq(info.sectors, DISK_BYTES / 512);
    ck_assert_uint_eq(info.sector_size, 512);
    ck_assert(!info.read_only);
    /* QEMU offers a multi-page ring (max-ring-page-order): it is used. */
    ck_assert_uint_gt(info.ring_order, 0);
    ck_assert_uint_eq(info.max_segments, 11);   /* QEMU has no indirect descriptors */
    random_io(60, 12345);
    fl.done = on_done;
    fl.arg = &d;
    ck_assert_int_eq(xf_blkfront_submit(bf, &fl), info.flush || info.barrier ? 0 : -XF_EOPNOTSUPP);
    if (info.flush || info.barrier) {
        run_until(&d, 1, 10000);
        ck_assert_int_eq(d.status, 0);
    }
    ck_assert_int_eq(xf_blkfront_get_stats(bf, 0, &st), 0);
    ck_assert_uint_gt(st.wr_req, 0);
    ck_assert_uint_gt(st.rd_req, 0);
    ck_assert_uint_eq(st.errors, 0);
    ck_assert_int_eq(xf_blkfront_close(bf, SOON(10000)), 0);
    bf = NULL;
    image_matches_model();
    ck_assert_msg(hp_alive(&hp.qemu), "QEMU died");
    world_down();
}
END_TEST

/* QEMU is stopped with writes in flight (it removes the device's
 * directories as it goes); the toolstack puts the device back and starts a
 * new QEMU. blkfront follows the new back end from InitWait, reissues what
 * was not acknowledged, and every write completes exactly once: each one
 * acknowledged as done, before or after, is on disk. */
START_TEST(qemu_restarted_mid_io_loses_nothing)
{
    static struct wio w[16];
    struct xf_blkfront_config cfg = { .reconnect_timeout_ns = 60ull * 1000000000ull };
    struct xf_blkfront_info info;
    unsigned int failed_writes = 0, released;
    uint64_t seed = 777;

    world_up();
    ck_assert_int_eq(xf_blkfront_open(&bf, xb, ec, gt, "51712", &cfg, SOON(20000)), 0);
    for (unsigned int i = 0; i < 16; i++) {
        prep(&w[i], XF_BLKFRONT_WRITE, (uint64_t)i * 256, 64 * 1024, &seed);
        ck_assert_int_eq(xf_blkfront_submit(bf, &w[i].io), 0);
    }
    /* QEMU is stopped at once, with the writes in flight or queued. */
    (void)xf_blkfront_poll(bf);
    /* SIGTERM (QEMU exits its main loop); a SIGKILL can leave the
     * simulator's process-shared condition variable waiting for a dead
     * waiter, a limit of the test rig, not of the protocol. */
    hp_stop_daemon(&hp.qemu, 5000);
    released = release_dead_qemu_maps();
    /* QEMU removed the device's directories on its way out, as it does;
     * the toolstack puts the device back (libxl would on a re-attach). */
    add_qdisk();
    HP_OK(hp_start_qemu(&hp, NULL, &hp_why));
    for (unsigned int i = 0; i < 16; i++)
        run_until(&w[i].d, 1, 30000);
    for (unsigned int i = 0; i < 16; i++) {
        unsigned char *m = model + (size_t)i * 256 * 512;

        /* QEMU may answer what it had in flight with an error as it stops
         * (its aio cancelled): such a write completed, with -EIO, and its
         * sectors hold old or new data; every write that succeeded must
         * be there. */
        ck_assert_msg(w[i].d.status == 0 || w[i].d.status == -XF_EIO, "write %u: %d", i,
                      w[i].d.status);
        if (w[i].d.status == 0) {
            memcpy(m, w[i].buf + 3, 64 * 1024);
        } else {
            int fd = open(img, O_RDONLY);

            ck_assert_int_ge(fd, 0);
            ck_assert_int_eq(pread(fd, m, 64 * 1024, (off_t)i * 256 * 512), 64 * 1024);
            close(fd);
            failed_writes++;
        }
        free(w[i].buf);
    }
    fprintf(stderr, "# %u of 16 writes answered with an error by the stopping QEMU\n",
            failed_writes);
    fprintf(stderr, "# %u grant maps the stopped QEMU left behind released\n", released);
    /* And it is connected to the new QEMU. */
    {
        uint64_t end = SOON(20000);

        for (;;) {
            xf_blkfront_get_info(bf, &info);
            if (info.connects >= 2 && info.connected)
                break;
            ck_assert_msg(xf_plat_now_ns() < end, "not reconnected (connects %llu)",
                          (unsigned long long)info.connects);
            (void)xf_blkfront_poll(bf);
            if (xf_blkfront_needs_service(bf))
                (void)xf_blkfront_service(bf, SOON(2000));
            (void)xf_plat_wait(SOON(5));
        }
    }
    {
        struct xf_blkfront_stats st;

        ck_assert_int_eq(xf_blkfront_get_stats(bf, 0, &st), 0);
        fprintf(stderr, "# %llu requests reissued after QEMU was restarted\n",
                (unsigned long long)st.reissued);
    }
    ck_assert_int_eq(xf_blkfront_close(bf, SOON(10000)), 0);
    bf = NULL;
    image_matches_model();
    world_down();
}
END_TEST

/* One I/O, waited for: its status. */
static int io_sync(uint32_t op, uint32_t flags, uint64_t sector, void *buf, size_t len)
{
    struct xf_blkfront_iov iov = { buf, len };
    struct xf_blkfront_io io = { .op = op, .flags = flags, .sector = sector, .iov = &iov,
                                 .nr_iov = 1, .done = on_done };
    struct done d = { 0 };
    int rc;

    io.arg = &d;
    rc = xf_blkfront_submit(bf, &io);
    if (rc < 0)
        return rc;
    run_until(&d, 1, 20000);
    return d.status;
}

/* Statistics over every queue. */
static void all_stats(struct xf_blkfront_stats *sum)
{
    memset(sum, 0, sizeof(*sum));
    for (uint32_t q = 0; q < XF_BLKFRONT_MAX_QUEUES; q++) {
        struct xf_blkfront_stats st;

        ck_assert_int_eq(xf_blkfront_get_stats(bf, q, &st), 0);
        sum->rd_req += st.rd_req;
        sum->wr_req += st.wr_req;
        sum->segments += st.segments;
        sum->errors += st.errors;
        sum->bad_status += st.bad_status;
        sum->notsupp += st.notsupp;
        sum->discard_req += st.discard_req;
        sum->discard_sect += st.discard_sect;
    }
}

/* QEMU 7.2's xen-block moves data with xengnttab_grant_copy, one call per
 * request, when a copy of no segments succeeds at realize (its probe);
 * otherwise (map) it maps each request's grants in one
 * xengnttab_map_domain_grant_refs call, copies, and unmaps. The shim counts
 * the calls: every read and write request went the intended way, and none
 * the other. */
static void data_path(bool map)
{
    struct gnttab_calls c0, c1;
    struct xf_blkfront_info info;
    struct xf_blkfront_stats st;
    struct xf_blkfront_io dis = { .op = XF_BLKFRONT_DISCARD, .sector = 8, .nr_sectors = 8 };

    world_up_with(map, false);
    ck_assert_int_eq(xf_blkfront_open(&bf, xb, ec, gt, "51712", NULL, SOON(20000)), 0);
    xf_blkfront_get_info(bf, &info);
    /* No discard-enable from the toolstack: QEMU offers no discard, and
     * blkfront refuses one before anything goes out. */
    ck_assert(!info.discard);
    ck_assert_int_eq(xf_blkfront_submit(bf, &dis), -XF_EOPNOTSUPP);
    gnttab_calls(&c0);
    /* So far only the ring is mapped: one call, all its pages. */
    ck_assert_uint_eq(c0.map_calls, 1);
    ck_assert_uint_eq(c0.map_refs, 1u << info.ring_order);
    ck_assert_uint_eq(c0.copy_calls, 0);
    random_io(30, map ? 99 : 4242);
    gnttab_calls(&c1);
    all_stats(&st);
    ck_assert_uint_gt(st.rd_req, 0);
    ck_assert_uint_gt(st.wr_req, 0);
    ck_assert_uint_eq(st.errors, 0);
    fprintf(stderr, "# grant %s path: %llu requests, %llu segments; copies %llu (%llu segs), maps %llu (%llu refs)\n",
            map ? "map" : "copy", (unsigned long long)(st.rd_req + st.wr_req),
            (unsigned long long)st.segments, (unsigned long long)c1.copy_calls,
            (unsigned long long)c1.copy_segs, (unsigned long long)c1.map_calls,
            (unsigned long long)c1.map_refs);
    if (map) {
        ck_assert_uint_eq(c1.copy_calls, 0);
        ck_assert_uint_eq(c1.map_calls - c0.map_calls, st.rd_req + st.wr_req);
        ck_assert_uint_eq(c1.map_refs - c0.map_refs, st.segments);
    } else {
        ck_assert_uint_eq(c1.map_calls, c0.map_calls);
        ck_assert_uint_eq(c1.copy_calls, st.rd_req + st.wr_req);
        ck_assert_uint_eq(c1.copy_segs, st.segments);
    }
    ck_assert_int_eq(xf_blkfront_close(bf, SOON(10000)), 0);
    bf = NULL;
    image_matches_model();
    ck_assert_msg(hp_alive(&hp.qemu), "QEMU died");
    world_down();
}

START_TEST(qemu_qdisk_grant_copy_path)
{
    data_path(false);
}
END_TEST

START_TEST(qemu_qdisk_grant_map_path)
{
    data_path(true);
}
END_TEST

/*
 * A read into a read-only grant. blkfront never makes one, so the test,
 * being the guest, makes its own grant read-only under blkfront: a
 * zero-copy read of one page, with QEMU stopped (SIGSTOP) from before the
 * request is published until a helper thread has found the page's grant
 * entry in the guest's grant table and set GTF_readonly in it (a guest may
 * change its own entries at any time; Xen checks the flags at each map or
 * copy). Then QEMU runs on: its copy (or map) for writing is refused, it
 * answers BLKIF_RSP_ERROR, blkfront completes the read with -XF_EIO and
 * ends the grant, the page is untouched, and the device goes on working.
 * QEMU may be stopped inside a simulator call holding its lock: the main
 * thread may then block in submit's notify, so the helper touches only
 * the grant table's memory and always resumes QEMU, at a deadline too.
 */
struct ro_flip {
    grant_entry_v1_t *table;
    uint32_t nr;
    uint32_t frame;
    pid_t qemu;
    int ref;            /* the entry made read-only, or -1 */
};

static void *ro_flipper(void *arg)
{
    struct ro_flip *f = arg;
    uint64_t end = hp_now_ms() + 10000;
    struct timespec pause = { 0, 100 * 1000 };

    f->ref = -1;
    while (f->ref < 0 && hp_now_ms() < end) {
        if (nanosleep(&pause, NULL) != 0 && errno != EINTR)
            break;
        for (uint32_t r = 0; r < f->nr; r++) {
            grant_entry_v1_t *e = &f->table[r];
            uint16_t fl = __atomic_load_n(&e->flags, __ATOMIC_ACQUIRE);

            if ((fl & GTF_type_mask) == GTF_permit_access && !(fl & GTF_readonly) &&
                e->domid == 0 && e->frame == f->frame) {
                __atomic_fetch_or(&e->flags, (uint16_t)GTF_readonly, __ATOMIC_ACQ_REL);
                f->ref = (int)r;
                break;
            }
        }
    }
    kill(f->qemu, SIGCONT);
    return NULL;
}

static void qemu_sigstop(void)
{
    uint64_t end = hp_now_ms() + 5000;
    int st;

    ck_assert_int_eq(kill(hp.qemu.pid, SIGSTOP), 0);
    for (;;) {
        pid_t r = waitpid(hp.qemu.pid, &st, WNOHANG | WUNTRACED);

        if (r == hp.qemu.pid && WIFSTOPPED(st))
            return;
        if (r != 0 || hp_now_ms() >= end) {
            kill(hp.qemu.pid, SIGCONT);
            ck_abort_msg("QEMU did not stop (waitpid %d)", (int)r);
        }
        /* Not xf_plat_wait: QEMU may be stopping inside the simulator. */
        usleep(1000);
    }
}

static void readonly_read(bool map)
{
    enum { SECT = 4096 };
    struct xf_blkfront_info info;
    struct xf_blkfront_stats st;
    static struct ro_flip f;            /* the helper's, whatever happens here */
    struct xf_blkfront_iov iov;
    struct xf_blkfront_io io = { .op = XF_BLKFRONT_READ, .flags = XF_BLKFRONT_F_ZEROCOPY,
                                 .sector = SECT, .iov = &iov, .nr_iov = 1, .done = on_done };
    struct done d = { 0 };
    struct gnttab_calls c0, c1;
    unsigned char *page, *pat = malloc(4096);
    pthread_t th;
    uint64_t seed = 5;
    int rc;

    world_up_with(map, false);
    ck_assert_int_eq(xf_blkfront_open(&bf, xb, ec, gt, "51712", NULL, SOON(20000)), 0);
    xf_blkfront_get_info(bf, &info);
    ck_assert(!info.persistent);        /* zero-copy grants the caller's page */
    ck_assert_ptr_nonnull(pat);
    for (size_t i = 0; i < 4096; i++)
        pat[i] = (unsigned char)((seed = seed * 6364136223846793005ull + 1) >> 33);
    ck_assert_int_eq(io_sync(XF_BLKFRONT_WRITE, 0, SECT, pat, 4096), 0);
    memcpy(model + (size_t)SECT * 512, pat, 4096);
    page = xf_plat_page_alloc(1);
    ck_assert_ptr_nonnull(page);
    memset(page, 0xa5, 4096);
    /* The same zero-copy read with the grant as blkfront makes it works. */
    ck_assert_int_eq(io_sync(XF_BLKFRONT_READ, XF_BLKFRONT_F_ZEROCOPY, SECT, page, 4096), 0);
    ck_assert(memcmp(page, pat, 4096) == 0);
    memset(page, 0xa5, 4096);

    f.ref = -1;
    f.table = xf_sim_grant_table(hp.sim, hp.domid);
    ck_assert_ptr_nonnull(f.table);
    f.nr = XF_SIM_MAX_GRANT_FRAMES * (uint32_t)(4096 / sizeof(grant_entry_v1_t));
    f.frame = (uint32_t)xf_plat_virt_to_gfn(page);
    f.qemu = hp.qemu.pid;
    iov.base = page;
    iov.len = 4096;
    io.arg = &d;
    gnttab_calls(&c0);
    qemu_sigstop();
    if (pthread_create(&th, NULL, ro_flipper, &f) != 0) {
        kill(hp.qemu.pid, SIGCONT);
        ck_abort_msg("pthread_create failed");
    }
    rc = xf_blkfront_submit(bf, &io);
    ck_assert_int_eq(pthread_join(th, NULL), 0); /* QEMU runs again */
    ck_assert_int_eq(rc, 0);
    ck_assert_msg(f.ref >= 0, "the read's grant was not found in the grant table");
    run_until(&d, 1, 10000);
    ck_assert_int_eq(d.status, -XF_EIO);
    /* It failed in the data path under test: one copy, or one map, tried. */
    gnttab_calls(&c1);
    ck_assert_uint_eq(c1.copy_calls - c0.copy_calls, (map ? 0u : 1u));
    ck_assert_uint_eq(c1.map_calls - c0.map_calls, (map ? 1u : 0u));
    for (size_t i = 0; i < 4096; i++)
        ck_assert_msg(page[i] == 0xa5, "QEMU wrote through a read-only grant at byte %zu", i);
    /* blkfront ended that grant: the entry is no longer live. */
    ck_assert_uint_eq(__atomic_load_n(&f.table[f.ref].flags, __ATOMIC_ACQUIRE) & GTF_type_mask,
                      GTF_invalid);
    /* One response with an error, and it was BLKIF_RSP_ERROR. */
    all_stats(&st);
    ck_assert_uint_eq(st.errors, 1);
    ck_assert_uint_eq(st.bad_status, 0);
    ck_assert_uint_eq(st.notsupp, 0);
    xf_blkfront_get_info(bf, &info);
    ck_assert(info.connected);
    ck_assert(!info.broken);
    ck_assert_msg(hp_alive(&hp.qemu), "QEMU died");
    /* Still usable, the same page and sector included. */
    ck_assert_int_eq(io_sync(XF_BLKFRONT_READ, XF_BLKFRONT_F_ZEROCOPY, SECT, page, 4096), 0);
    ck_assert(memcmp(page, pat, 4096) == 0);
    random_io(5, 31337);
    ck_assert_int_eq(xf_blkfront_close(bf, SOON(10000)), 0);
    bf = NULL;
    image_matches_model();
    xf_plat_page_free(page, 1);
    free(pat);
    world_down();
}

START_TEST(qemu_qdisk_read_into_readonly_grant_copy)
{
    readonly_read(false);
}
END_TEST

START_TEST(qemu_qdisk_read_into_readonly_grant_map)
{
    readonly_read(true);
}
END_TEST

/* Does the file system under dir punch holes (what QEMU's file-posix
 * does for a discard on a regular file: fallocate(PUNCH_HOLE|KEEP_SIZE))? */
static bool punches_holes(const char *dir)
{
    char p[4300];
    unsigned char b[8192];
    bool ok = false;
    int fd;

    snprintf(p, sizeof(p), "%s/punch-probe", dir);
    fd = open(p, O_RDWR | O_CREAT | O_TRUNC, 0600);
    ck_assert_int_ge(fd, 0);
    memset(b, 0xff, sizeof(b));
    ck_assert_int_eq(pwrite(fd, b, sizeof(b), 0), (ssize_t)sizeof(b));
    if (fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, 512, 1024) == 0 &&
        pread(fd, b, sizeof(b), 0) == (ssize_t)sizeof(b)) {
        ok = b[511] == 0xff && b[1536] == 0xff;
        for (size_t i = 512; i < 1536; i++)
            ok = ok && b[i] == 0;
    }
    close(fd);
    unlink(p);
    return ok;
}

/*
 * Discard. QEMU offers feature-discard (with discard-granularity, its
 * physical block size by default, and discard-alignment 0) only when the
 * toolstack wrote discard-enable=1: it then opens the drive with
 * discard=unmap. Without it (the other tests' devices) there is no
 * discard and blkfront refuses one.
 * On a raw image file QEMU's file-posix turns a discard into
 * fallocate(PUNCH_HOLE|KEEP_SIZE), after which the range reads as zeros;
 * QEMU itself promises only that the discard completes (it treats a file
 * system that cannot punch as success, the data then unchanged). So the
 * test asks the file system: where it punches holes, the discarded ranges
 * (one 4 KiB aligned, one of odd sectors) read back as zeros through
 * blkfront and in the image file, and nothing around them changed; where
 * it does not, each discarded sector holds its old data or zeros.
 */
START_TEST(qemu_qdisk_discard)
{
    enum { BASE = 2048, LEN = 512 };    /* sectors written first */
    static const struct { uint64_t sector, nr; } r[] = { { BASE + 64, 128 }, { BASE + 301, 19 } };
    struct xf_blkfront_info info;
    struct xf_blkfront_stats st;
    struct xf_blkfront_io dio[2];
    struct done d[2] = { { 0 } };
    unsigned char *buf = malloc((size_t)LEN * 512), *old = malloc((size_t)LEN * 512);
    uint64_t seed = 2026;
    bool punch;

    ck_assert_ptr_nonnull(buf);
    ck_assert_ptr_nonnull(old);
    world_up_with(false, true);
    punch = punches_holes(hp.dir);
    fprintf(stderr, "# the image's file system %s holes\n", punch ? "punches" : "does not punch");
    ck_assert_int_eq(xf_blkfront_open(&bf, xb, ec, gt, "51712", NULL, SOON(20000)), 0);
    xf_blkfront_get_info(bf, &info);
    ck_assert(info.discard);
    ck_assert(!info.discard_secure);
    ck_assert_uint_ge(info.discard_granularity, 512);
    fprintf(stderr, "# discard offered: granularity %u, alignment %u\n", info.discard_granularity,
            info.discard_alignment);
    for (size_t i = 0; i < (size_t)LEN * 512; i++)
        buf[i] = (unsigned char)((seed = seed * 6364136223846793005ull + 1) >> 33);
    ck_assert_int_eq(io_sync(XF_BLKFRONT_WRITE, 0, BASE, buf, (size_t)LEN * 512), 0);
    memcpy(model + (size_t)BASE * 512, buf, (size_t)LEN * 512);
    memcpy(old, buf, (size_t)LEN * 512);
    /* Secure discard is not offered: refused before anything goes out. */
    memset(dio, 0, sizeof(dio));
    dio[0].op = XF_BLKFRONT_DISCARD;
    dio[0].flags = XF_BLKFRONT_F_SECURE;
    dio[0].sector = r[0].sector;
    dio[0].nr_sectors = r[0].nr;
    ck_assert_int_eq(xf_blkfront_submit(bf, &dio[0]), -XF_EOPNOTSUPP);
    for (unsigned int i = 0; i < 2; i++) {
        memset(&dio[i], 0, sizeof(dio[i]));
        dio[i].op = XF_BLKFRONT_DISCARD;
        dio[i].sector = r[i].sector;
        dio[i].nr_sectors = r[i].nr;
        dio[i].done = on_done;
        dio[i].arg = &d[i];
        ck_assert_int_eq(xf_blkfront_submit(bf, &dio[i]), 0);
    }
    run_until(d, 2, 20000);
    ck_assert_int_eq(d[0].status, 0);
    ck_assert_int_eq(d[1].status, 0);
    all_stats(&st);
    ck_assert_uint_eq(st.discard_req, 2);
    ck_assert_uint_eq(st.discard_sect, r[0].nr + r[1].nr);
    ck_assert_uint_eq(st.errors, 0);
    memset(buf, 0x5a, (size_t)LEN * 512);
    ck_assert_int_eq(io_sync(XF_BLKFRONT_READ, 0, BASE, buf, (size_t)LEN * 512), 0);
    for (unsigned int i = 0; i < 2; i++) {
        for (uint64_t s = r[i].sector; s < r[i].sector + r[i].nr; s++) {
            size_t o = (size_t)(s - BASE) * 512;
            static const unsigned char zero[512];
            bool z = memcmp(buf + o, zero, 512) == 0;

            ck_assert_msg(z || (!punch && memcmp(buf + o, old + o, 512) == 0),
                          "discarded sector %llu reads neither as zeros%s",
                          (unsigned long long)s, punch ? "" : " nor as its old data");
            /* The model follows what the discard left. */
            memcpy(model + (size_t)s * 512, buf + o, 512);
        }
    }
    /* Everything else in the region is as written (the model holds the
     * old data outside the discarded ranges). */
    ck_assert(memcmp(buf, model + (size_t)BASE * 512, (size_t)LEN * 512) == 0);
    ck_assert_int_eq(xf_blkfront_close(bf, SOON(10000)), 0);
    bf = NULL;
    image_matches_model();
    ck_assert_msg(hp_alive(&hp.qemu), "QEMU died");
    free(buf);
    free(old);
    world_down();
}
END_TEST

int main(void)
{
    Suite *s = suite_create("hostpeers-blkfront");
    TCase *tc = tcase_create("qdisk");

    tcase_set_timeout(tc, 120);
    tcase_add_checked_fixture(tc, NULL, guest_after_test);
    tcase_add_test(tc, qemu_qdisk_read_write_flush);
    tcase_add_test(tc, qemu_restarted_mid_io_loses_nothing);
    tcase_add_test(tc, qemu_qdisk_grant_copy_path);
    tcase_add_test(tc, qemu_qdisk_grant_map_path);
    tcase_add_test(tc, qemu_qdisk_read_into_readonly_grant_copy);
    tcase_add_test(tc, qemu_qdisk_read_into_readonly_grant_map);
    tcase_add_test(tc, qemu_qdisk_discard);
    suite_add_tcase(s, tc);
    return xf_check_run(s);
}
