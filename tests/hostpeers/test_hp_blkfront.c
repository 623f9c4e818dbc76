/*
 * blkfront against QEMU 7.2's real block back end (xen-block, "qdisk"),
 * unmodified, run on the host through the dom0 shim: connect, random
 * reads and writes of many sizes and alignments (split into requests of
 * at most 11 segments), flush, the negotiated multi-page ring, the image
 * file compared byte for byte with a model of every acknowledged write;
 * then QEMU killed with I/O in flight and a new QEMU started (the
 * toolstack's part played by the test): blkfront reconnects, reissues what
 * was not acknowledged, and loses nothing that was.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
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

/* The toolstack's part, as libxl writes a qdisk: device/vbd/<id> for the
 * guest and backend/qdisk/<domid>/<id> for QEMU, in one transaction, with
 * libxl's permissions. */
static void add_qdisk(void)
{
    char fe[256], be[256], p[512], v[4300], dom[16];
    unsigned int D = hp.domid;
    struct xs_permissions fe_perm[2] = { { D, XS_PERM_NONE }, { 0, XS_PERM_READ } };
    struct xs_permissions be_perm[2] = { { 0, XS_PERM_NONE }, { D, XS_PERM_READ } };
    const char *bkv[] = { "frontend", fe, "online", "1", "state", "1", "dev", "xvda",
                          "device-type", "disk", "params", v, "mode", "w", "removable", "0",
                          "type", "qdisk", NULL };
    bool ok = false;

    snprintf(fe, sizeof(fe), "/local/domain/%u/device/vbd/%u", D, DEVID);
    snprintf(be, sizeof(be), "/local/domain/0/backend/qdisk/%u/%u", D, DEVID);
    snprintf(v, sizeof(v), "aio:%s", img);
    for (int attempt = 0; attempt < 10 && !ok; attempt++) {
        xs_transaction_t t = xs_transaction_start(hp.xs);

        ck_assert(t != XBT_NULL);
        ok = xs_mkdir(hp.xs, t, fe) && xs_set_permissions(hp.xs, t, fe, fe_perm, 2) &&
             xs_mkdir(hp.xs, t, be) && xs_set_permissions(hp.xs, t, be, be_perm, 2);
        snprintf(p, sizeof(p), "%s/backend", fe);
        ok = ok && xs_write(hp.xs, t, p, be, (unsigned int)strlen(be));
        snprintf(p, sizeof(p), "%s/backend-id", fe);
        ok = ok && xs_write(hp.xs, t, p, "0", 1);
        snprintf(p, sizeof(p), "%s/state", fe);
        ok = ok && xs_write(hp.xs, t, p, "1", 1);
        snprintf(p, sizeof(p), "%s/virtual-device", fe);
        ok = ok && xs_write(hp.xs, t, p, "51712", 5);
        snprintf(dom, sizeof(dom), "%u", D);
        snprintf(p, sizeof(p), "%s/frontend-id", be);
        ok = ok && xs_write(hp.xs, t, p, dom, (unsigned int)strlen(dom));
        for (const char **kv = bkv; ok && kv[0] != NULL; kv += 2) {
            snprintf(p, sizeof(p), "%s/%s", be, kv[0]);
            ok = xs_write(hp.xs, t, p, kv[1], (unsigned int)strlen(kv[1]));
        }
        if (!ok) {
            xs_transaction_end(hp.xs, t, true);
            ck_abort_msg("toolstack write failed");
        }
        ok = xs_transaction_end(hp.xs, t, false);
    }
    ck_assert(ok);
}

static void world_up(void)
{
    uint64_t pfn;
    evtchn_port_t sp;
    int fd;

    guest_up();
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
    HP_OK(hp_start_qemu(&hp, NULL, &hp_why));
    ck_assert_int_eq(xf_xenbus_hvm_store(&pfn, &sp), 0);
    ck_assert_int_eq(
        xf_xenbus_create_ring(&xb, NULL, ec, xf_sim_gfn_to_va(hp.sim, hp.domid, pfn), sp), 0);
    ck_assert_int_eq(xf_gnttab_create(&gt, NULL), 0);
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
    ck_assert_int_ge(fd, 0);
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
            w->buf[3 + i] = (unsigned char)(*seed = *seed * 6364136223846793005ull + 1) >> 7;
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
    unsigned int failed_writes = 0;
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

int main(void)
{
    Suite *s = suite_create("hostpeers-blkfront");
    TCase *tc = tcase_create("qdisk");

    tcase_set_timeout(tc, 120);
    tcase_add_checked_fixture(tc, NULL, guest_after_test);
    tcase_add_test(tc, qemu_qdisk_read_write_flush);
    tcase_add_test(tc, qemu_restarted_mid_io_loses_nothing);
    suite_add_tcase(s, tc);
    return xf_check_run(s);
}
