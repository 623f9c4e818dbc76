/*
 * blkfront against the simulated blkback: negotiation, every feature, the
 * data modes, resize, statistics and the leak cycle.
 */
#include "blkfront_test.h"

static struct xf_blkback_config linux_like(void)
{
    struct xf_blkback_config c = {
        .sectors = 16384, .flush = true, .barrier = true, .discard = true,
        .discard_secure = true, .persistent = true, .max_indirect = 256,
        .max_ring_order = 4, .max_queues = 1,
    };
    return c;
}

/* Write len bytes at sector through the front end in a scatter list of
 * awkward pieces, read them back (another scatter list), and check the
 * back end's disk. */
static void rw_check(struct xf_blkfront *bf, uint64_t sector, size_t len, uint32_t seed,
                     uint32_t flags)
{
    uint8_t *w = malloc(len), *r = malloc(len);
    struct xf_blkfront_iov wv[8], rv[8];
    struct xf_blkfront_io io = { 0 };
    struct sync_io s = { 0, 0 };
    uint32_t n = 0;
    size_t off = 0;

    ck_assert_ptr_nonnull(w);
    ck_assert_ptr_nonnull(r);
    fill(w, len, seed);
    memset(r, 0xee, len);
    /* Pieces of 1, 700, 3000 ... bytes: unaligned on purpose. */
    while (off < len && n < 7) {
        size_t piece = (size_t)(1 + n * 1500) < len - off ? (size_t)(1 + n * 1500) : len - off;

        wv[n] = (struct xf_blkfront_iov){ w + off, piece };
        rv[n] = (struct xf_blkfront_iov){ r + off, piece };
        off += piece;
        n++;
    }
    if (off < len) {
        wv[n] = (struct xf_blkfront_iov){ w + off, len - off };
        rv[n] = (struct xf_blkfront_iov){ r + off, len - off };
        n++;
    }
    io.op = XF_BLKFRONT_WRITE;
    io.flags = flags;
    io.sector = sector;
    io.iov = wv;
    io.nr_iov = n;
    io.done = sync_done;
    io.arg = &s;
    ck_assert_int_eq(xf_blkfront_submit(bf, &io), 0);
    ck_assert_int_eq(wait_io(bf, &s, DEADLINE_MS(10000)), 0);
    ck_assert_mem_eq(xf_blkback_disk(bb) + sector * 512, w, len);
    memset(&s, 0, sizeof(s));
    io.op = XF_BLKFRONT_READ;
    io.flags = 0;
    io.iov = rv;
    ck_assert_int_eq(xf_blkfront_submit(bf, &io), 0);
    ck_assert_int_eq(wait_io(bf, &s, DEADLINE_MS(10000)), 0);
    ck_assert_mem_eq(r, w, len);
    free(w);
    free(r);
}

START_TEST(test_connect_linux_like)
{
    struct xf_blkback_config bc = linux_like();
    struct xf_blkfront_info in;
    struct xf_blkback_stats bs;
    struct xf_blkfront *bf;
    char buf[64];

    world_up(&bc);
    bf = open_dev(NULL);
    xf_blkfront_get_info(bf, &in);
    ck_assert(in.connected);
    ck_assert_uint_eq(in.sectors, 16384);
    ck_assert_uint_eq(in.sector_size, 512);
    ck_assert_uint_eq(in.physical_sector_size, 512);
    ck_assert(in.flush && in.barrier && in.discard && in.discard_secure && in.persistent);
    ck_assert_uint_eq(in.max_segments, 256);
    ck_assert_uint_eq(in.ring_order, 4);
    ck_assert_uint_eq(in.ring_entries, 512);
    ck_assert_uint_eq(in.nr_queues, 1);
    ck_assert(!in.read_only);
    /* The keys blkback reads. */
    ck_assert_int_eq(node_int(fe, "ring-page-order"), 4);
    ck_assert_int_ge(node_int(fe, "ring-ref15"), 8);
    ck_assert_int_gt(node_int(fe, "event-channel"), 0);
    ck_assert_int_eq(node_read(fe, "protocol", buf, sizeof(buf)), 10);
    ck_assert_str_eq(buf, "x86_64-abi");
    ck_assert_int_eq(node_int(fe, "feature-persistent"), 1);
    ck_assert_int_eq(node_int(fe, "state"), XenbusStateConnected);
    ck_assert(!xf_xsd_exists(xsd, "/local/domain/1/device/vbd/51712/multi-queue-num-queues"));
    xf_blkback_get_stats(bb, &bs);
    ck_assert_uint_eq(bs.ring_order, 4);
    ck_assert(bs.persistent);
    ck_assert_int_eq(xf_blkfront_status(bf), 0);
    ck_assert_int_eq(xf_blkfront_close(bf, DEADLINE_MS(5000)), 0);
    ck_assert_int_eq(node_int(fe, "state"), XenbusStateClosed);
    assert_released();
    world_down();
}
END_TEST

/* Every data mode moves the data right, at every size up to 1 MiB. */
static void data_modes(struct xf_blkback_config bc, const struct xf_blkfront_config *fc,
                       uint32_t flags, bool expect_indirect)
{
    static const size_t sizes[] = { 512, 1024, 4096, 4608, 45056, 49152, 65536, 131072,
                                    1048576 };
    struct xf_blkfront_stats st;
    struct xf_blkback_stats bs;
    struct xf_blkfront *bf;

    world_up(&bc);
    bf = open_dev(fc);
    for (size_t i = 0; i < XF_ARRAY_SIZE(sizes); i++)
        rw_check(bf, 8 * i + 1, sizes[i], (uint32_t)i + 7, flags);
    ck_assert_int_eq(xf_blkfront_get_stats(bf, 0, &st), 0);
    xf_blkback_get_stats(bb, &bs);
    if (expect_indirect) {
        ck_assert_uint_gt(st.indirect_req, 0);
        ck_assert_uint_gt(bs.max_segments_seen, 11);
    } else {
        ck_assert_uint_eq(st.indirect_req, 0);
        ck_assert_uint_le(bs.max_segments_seen, 11);
    }
    ck_assert_uint_eq(bs.errors, 0);
    ck_assert_uint_eq(st.errors, 0);
    ck_assert_int_eq(xf_blkfront_close(bf, DEADLINE_MS(5000)), 0);
    assert_released();
    world_down();
}

START_TEST(test_data_persistent_indirect)
{
    struct xf_blkback_stats bs;

    data_modes(linux_like(), NULL, 0, true);
    (void)bs;
}
END_TEST

START_TEST(test_data_bounce_indirect)
{
    struct xf_blkfront_config fc = { .no_persistent = true };

    data_modes(linux_like(), &fc, 0, true);
}
END_TEST

START_TEST(test_data_direct_only)
{
    struct xf_blkback_config bc = linux_like();

    bc.max_indirect = 0;
    bc.persistent = false;
    data_modes(bc, NULL, 0, false);
}
END_TEST

START_TEST(test_data_our_limit_11)
{
    struct xf_blkfront_config fc = { .max_segments = 11 };

    data_modes(linux_like(), &fc, 0, false);
}
END_TEST

/* Zero-copy: the back end gets the caller's own pages. */
START_TEST(test_data_zero_copy)
{
    struct xf_blkback_config bc = linux_like();
    struct xf_blkfront_config fc = { .no_persistent = true };
    struct xf_blkfront *bf;
    struct xf_blkfront_stats st;
    uint8_t *buf, *chk = malloc(65536);
    struct xf_blkfront_iov iov[2];
    struct xf_blkfront_io io = { 0 };
    struct sync_io s = { 0, 0 };

    world_up(&bc);
    bf = open_dev(&fc);
    buf = xf_plat_page_alloc(16);
    ck_assert_ptr_nonnull(buf);
    fill(buf, 65536, 99);
    memcpy(chk, buf, 65536);
    /* Two pieces: 12 KiB + 1.5 KiB at a page, then the rest. */
    iov[0] = (struct xf_blkfront_iov){ buf, 12288 + 1536 };
    iov[1] = (struct xf_blkfront_iov){ buf + 16384, 65536 - 16384 };
    io.op = XF_BLKFRONT_WRITE;
    io.flags = XF_BLKFRONT_F_ZEROCOPY;
    io.sector = 64;
    io.iov = iov;
    io.nr_iov = 2;
    io.done = sync_done;
    io.arg = &s;
    ck_assert_int_eq(xf_blkfront_submit(bf, &io), 0);
    ck_assert_int_eq(wait_io(bf, &s, DEADLINE_MS(5000)), 0);
    ck_assert_mem_eq(xf_blkback_disk(bb) + 64 * 512, buf, 13824);
    ck_assert_mem_eq(xf_blkback_disk(bb) + 64 * 512 + 13824, buf + 16384, 65536 - 16384);
    memset(buf, 0, 65536);
    memset(&s, 0, sizeof(s));
    io.op = XF_BLKFRONT_READ;
    ck_assert_int_eq(xf_blkfront_submit(bf, &io), 0);
    ck_assert_int_eq(wait_io(bf, &s, DEADLINE_MS(5000)), 0);
    ck_assert_mem_eq(buf, chk, 13824);
    ck_assert_mem_eq(buf + 16384, chk + 16384, 65536 - 16384);
    /* Misaligned zero-copy buffers are refused. */
    iov[0].base = buf + 100;
    ck_assert_int_eq(xf_blkfront_submit(bf, &io), -XF_EINVAL);
    ck_assert_int_eq(xf_blkfront_get_stats(bf, 0, &st), 0);
    ck_assert_uint_eq(st.errors, 0);
    ck_assert_int_eq(xf_blkfront_close(bf, DEADLINE_MS(5000)), 0);
    xf_plat_page_free(buf, 16);
    free(chk);
    assert_released();
    world_down();
}
END_TEST

START_TEST(test_single_page_ring)
{
    struct xf_blkback_config bc = linux_like();
    struct xf_blkfront_info in;
    struct xf_blkfront *bf;

    bc.max_ring_order = 0;
    world_up(&bc);
    bf = open_dev(NULL);
    xf_blkfront_get_info(bf, &in);
    ck_assert_uint_eq(in.ring_order, 0);
    ck_assert_uint_eq(in.ring_entries, 32);
    ck_assert_int_gt(node_int(fe, "ring-ref"), 0);
    ck_assert_int_eq(node_int(fe, "ring-page-order"), -1);
    rw_check(bf, 0, 1048576, 5, 0);
    ck_assert_int_eq(xf_blkfront_close(bf, DEADLINE_MS(5000)), 0);
    assert_released();
    world_down();
}
END_TEST

START_TEST(test_our_ring_limit)
{
    struct xf_blkback_config bc = linux_like();
    struct xf_blkfront_config fc = { .max_ring_pages = 2 };
    struct xf_blkfront_info in;
    struct xf_blkfront *bf;

    world_up(&bc);
    bf = open_dev(&fc);
    xf_blkfront_get_info(bf, &in);
    ck_assert_uint_eq(in.ring_order, 1);
    ck_assert_int_eq(node_int(fe, "ring-page-order"), 1);
    rw_check(bf, 0, 65536, 5, 0);
    ck_assert_int_eq(xf_blkfront_close(bf, DEADLINE_MS(5000)), 0);
    assert_released();
    world_down();
}
END_TEST

static void count_done(struct xf_blkfront *bf, struct xf_blkfront_io *io, int status, void *arg)
{
    int *n = arg;

    (void)bf;
    (void)io;
    ck_assert_int_eq(status, 0);
    (*n)++;
}

START_TEST(test_multi_queue)
{
    struct xf_blkback_config bc = linux_like();
    struct xf_blkfront_config fc = { .pool_pages = 128 };
    struct xf_blkfront_info in;
    struct xf_blkback_stats bs;
    struct xf_blkfront *bf;
    static struct xf_blkfront_io ios[64];
    static struct xf_blkfront_iov iovs[64];
    static uint8_t data[64][8192];
    int ndone = 0;

    bc.max_queues = 4;
    bc.max_persistent = 256;
    world_up(&bc);
    bf = open_dev(&fc);
    xf_blkfront_get_info(bf, &in);
    ck_assert_uint_eq(in.nr_queues, 4);
    ck_assert_int_eq(node_int(fe, "multi-queue-num-queues"), 4);
    ck_assert_int_eq(node_int(fe, "ring-page-order"), 4);
    {
        char dir[160];

        snprintf(dir, sizeof(dir), "%s/queue-3", fe);
        ck_assert_int_gt(node_int(dir, "event-channel"), 0);
        ck_assert_int_gt(node_int(dir, "ring-ref15"), 0);
    }
    xf_blkback_get_stats(bb, &bs);
    ck_assert_uint_eq(bs.queues, 4);
    for (int i = 0; i < 64; i++) {
        fill(data[i], sizeof(data[i]), (uint32_t)i);
        iovs[i] = (struct xf_blkfront_iov){ data[i], sizeof(data[i]) };
        ios[i] = (struct xf_blkfront_io){
            .op = XF_BLKFRONT_WRITE, .sector = (uint64_t)i * 16, .iov = &iovs[i], .nr_iov = 1,
            .done = count_done, .arg = &ndone,
            .flags = i < 32 ? XF_BLKFRONT_F_QUEUE : 0, .queue = (uint32_t)i,
        };
        ck_assert_int_eq(xf_blkfront_submit(bf, &ios[i]), 0);
    }
    while (ndone < 64)
        step(bf, 2 * MS_NS);
    for (uint32_t q = 0; q < 4; q++) {
        struct xf_blkfront_stats st;

        ck_assert_int_eq(xf_blkfront_get_stats(bf, q, &st), 0);
        ck_assert_uint_eq(st.wr_req, 16);
        ck_assert_uint_eq(st.wr_sect, 16 * 16);
    }
    for (int i = 0; i < 64; i++)
        ck_assert_mem_eq(xf_blkback_disk(bb) + (size_t)i * 16 * 512, data[i], sizeof(data[i]));
    ck_assert_int_eq(xf_blkfront_close(bf, DEADLINE_MS(5000)), 0);
    assert_released();
    world_down();
}
END_TEST

START_TEST(test_flush_barrier_fua)
{
    struct xf_blkback_config bc = linux_like();
    struct xf_blkback_stats bs;
    struct xf_blkfront *bf;
    uint8_t buf[4096];

    fill(buf, sizeof(buf), 3);
    /* Flush offered: FLUSH_DISKCACHE; a FUA write is the write then a flush. */
    bc.barrier = false;
    world_up(&bc);
    bf = open_dev(NULL);
    ck_assert_int_eq(do_io(bf, XF_BLKFRONT_FLUSH, 0, 0, NULL, 0), 0);
    ck_assert_int_eq(do_io(bf, XF_BLKFRONT_WRITE, XF_BLKFRONT_F_FUA, 8, buf, sizeof(buf)), 0);
    xf_blkback_get_stats(bb, &bs);
    ck_assert_uint_eq(bs.f_req, 2);
    ck_assert_uint_eq(bs.b_req, 0);
    ck_assert_uint_eq(bs.wr_req, 1);
    ck_assert_mem_eq(xf_blkback_disk(bb) + 8 * 512, buf, sizeof(buf));
    ck_assert_int_eq(xf_blkfront_close(bf, DEADLINE_MS(5000)), 0);
    assert_released();
    world_down();

    /* Only barrier: flushes go out as WRITE_BARRIER. */
    bc = linux_like();
    bc.flush = false;
    world_up(&bc);
    bf = open_dev(NULL);
    ck_assert_int_eq(do_io(bf, XF_BLKFRONT_FLUSH, 0, 0, NULL, 0), 0);
    ck_assert_int_eq(do_io(bf, XF_BLKFRONT_WRITE, XF_BLKFRONT_F_FUA, 8, buf, sizeof(buf)), 0);
    xf_blkback_get_stats(bb, &bs);
    ck_assert_uint_eq(bs.f_req, 0);
    ck_assert_uint_eq(bs.b_req, 2);
    ck_assert_int_eq(xf_blkfront_close(bf, DEADLINE_MS(5000)), 0);
    assert_released();
    world_down();

    /* Neither: a flush is refused, a FUA write is a write (no cache). */
    bc = linux_like();
    bc.flush = bc.barrier = false;
    world_up(&bc);
    bf = open_dev(NULL);
    ck_assert_int_eq(do_io(bf, XF_BLKFRONT_FLUSH, 0, 0, NULL, 0), -XF_EOPNOTSUPP);
    ck_assert_int_eq(do_io(bf, XF_BLKFRONT_WRITE, XF_BLKFRONT_F_FUA, 8, buf, sizeof(buf)), 0);
    xf_blkback_get_stats(bb, &bs);
    ck_assert_uint_eq(bs.f_req + bs.b_req, 0);
    ck_assert_uint_eq(bs.wr_req, 1);
    ck_assert_int_eq(xf_blkfront_close(bf, DEADLINE_MS(5000)), 0);
    assert_released();
    world_down();
}
END_TEST

START_TEST(test_discard)
{
    struct xf_blkback_config bc = linux_like();
    struct xf_blkfront_info in;
    struct xf_blkback_stats bs;
    struct xf_blkfront *bf;
    static uint8_t buf[65536], zero[65536];

    bc.discard_granularity = 4096;
    bc.discard_alignment = 512;
    world_up(&bc);
    bf = open_dev(NULL);
    xf_blkfront_get_info(bf, &in);
    ck_assert_uint_eq(in.discard_granularity, 4096);
    ck_assert_uint_eq(in.discard_alignment, 512);
    fill(buf, sizeof(buf), 11);
    ck_assert_int_eq(do_io(bf, XF_BLKFRONT_WRITE, 0, 100, buf, sizeof(buf)), 0);
    ck_assert_int_eq(do_io(bf, XF_BLKFRONT_DISCARD, 0, 100, NULL, 32768), 0);
    ck_assert_mem_eq(xf_blkback_disk(bb) + 100 * 512, zero, 32768);
    ck_assert_mem_eq(xf_blkback_disk(bb) + 164 * 512, buf + 32768, 32768);
    ck_assert_int_eq(do_io(bf, XF_BLKFRONT_DISCARD, XF_BLKFRONT_F_SECURE, 164, NULL, 32768), 0);
    ck_assert_mem_eq(xf_blkback_disk(bb) + 164 * 512, zero, 32768);
    xf_blkback_get_stats(bb, &bs);
    ck_assert_uint_eq(bs.ds_req, 2);
    /* Beyond the end, misaligned count: refused here. */
    ck_assert_int_eq(do_io(bf, XF_BLKFRONT_DISCARD, 0, 16380, NULL, 8 * 512), -XF_ERANGE);
    ck_assert_int_eq(xf_blkfront_close(bf, DEADLINE_MS(5000)), 0);
    assert_released();
    world_down();

    /* Not offered, or not secure: -EOPNOTSUPP without a request. */
    bc = linux_like();
    bc.discard_secure = false;
    world_up(&bc);
    bf = open_dev(NULL);
    ck_assert_int_eq(do_io(bf, XF_BLKFRONT_DISCARD, XF_BLKFRONT_F_SECURE, 0, NULL, 4096),
                     -XF_EOPNOTSUPP);
    ck_assert_int_eq(do_io(bf, XF_BLKFRONT_DISCARD, 0, 0, NULL, 4096), 0);
    ck_assert_int_eq(xf_blkfront_close(bf, DEADLINE_MS(5000)), 0);
    world_down();
    bc = linux_like();
    bc.discard = false;
    world_up(&bc);
    bf = open_dev(NULL);
    ck_assert_int_eq(do_io(bf, XF_BLKFRONT_DISCARD, 0, 0, NULL, 4096), -XF_EOPNOTSUPP);
    xf_blkback_get_stats(bb, &bs);
    ck_assert_uint_eq(bs.ds_req, 0);
    ck_assert_int_eq(xf_blkfront_close(bf, DEADLINE_MS(5000)), 0);
    world_down();
}
END_TEST

START_TEST(test_read_only)
{
    struct xf_blkback_config bc = linux_like();
    struct xf_blkfront_info in;
    struct xf_blkfront *bf;
    uint8_t buf[4096];

    bc.info = VDISK_READONLY | VDISK_CDROM;
    world_up(&bc);
    bf = open_dev(NULL);
    xf_blkfront_get_info(bf, &in);
    ck_assert(in.read_only);
    ck_assert_uint_eq(in.vdisk_info, VDISK_READONLY | VDISK_CDROM);
    ck_assert_int_eq(do_io(bf, XF_BLKFRONT_WRITE, 0, 0, buf, sizeof(buf)), -XF_EROFS);
    ck_assert_int_eq(do_io(bf, XF_BLKFRONT_FLUSH, 0, 0, NULL, 0), -XF_EROFS);
    ck_assert_int_eq(do_io(bf, XF_BLKFRONT_DISCARD, 0, 0, NULL, 4096), -XF_EROFS);
    ck_assert_int_eq(do_io(bf, XF_BLKFRONT_READ, 0, 0, buf, sizeof(buf)), 0);
    ck_assert_int_eq(xf_blkfront_close(bf, DEADLINE_MS(5000)), 0);
    assert_released();
    world_down();
}
END_TEST

START_TEST(test_bounds_and_alignment)
{
    struct xf_blkback_config bc = linux_like();
    struct xf_blkfront *bf;
    static uint8_t buf[8192];
    struct xf_blkfront_io io = { .op = 9 };

    world_up(&bc);
    bf = open_dev(NULL);
    ck_assert_int_eq(do_io(bf, XF_BLKFRONT_READ, 0, 16383, buf, 512), 0);
    ck_assert_int_eq(do_io(bf, XF_BLKFRONT_READ, 0, 16383, buf, 1024), -XF_ERANGE);
    ck_assert_int_eq(do_io(bf, XF_BLKFRONT_READ, 0, UINT64_MAX - 1, buf, 1024), -XF_ERANGE);
    ck_assert_int_eq(do_io(bf, XF_BLKFRONT_READ, 0, 0, buf, 100), -XF_EINVAL);
    ck_assert_int_eq(do_io(bf, XF_BLKFRONT_READ, XF_BLKFRONT_F_FUA, 0, buf, 512), -XF_EINVAL);
    ck_assert_int_eq(do_io(bf, XF_BLKFRONT_READ, 0x100, 0, buf, 512), -XF_EINVAL);
    ck_assert_int_eq(xf_blkfront_submit(bf, &io), -XF_EINVAL);
    ck_assert_int_eq(xf_blkfront_submit(bf, NULL), -XF_EINVAL);
    ck_assert_int_eq(xf_blkfront_close(bf, DEADLINE_MS(5000)), 0);
    assert_released();
    world_down();

    /* A 4 KiB-sector disk: 512-byte units still, 8-sector alignment. */
    bc.sector_size = 4096;
    world_up(&bc);
    bf = open_dev(NULL);
    ck_assert_int_eq(do_io(bf, XF_BLKFRONT_WRITE, 0, 8, buf, 512), -XF_EINVAL);
    ck_assert_int_eq(do_io(bf, XF_BLKFRONT_WRITE, 0, 4, buf, 4096), -XF_EINVAL);
    fill(buf, sizeof(buf), 77);
    ck_assert_int_eq(do_io(bf, XF_BLKFRONT_WRITE, 0, 8, buf, 8192), 0);
    ck_assert_mem_eq(xf_blkback_disk(bb) + 8 * 512, buf, 8192);
    ck_assert_int_eq(xf_blkfront_close(bf, DEADLINE_MS(5000)), 0);
    assert_released();
    world_down();
}
END_TEST

/* K14: sectors rewritten with state Connected, grow and shrink. */
START_TEST(test_resize)
{
    struct xf_blkback_config bc = linux_like();
    struct xf_blkfront_info in;
    struct xf_blkfront *bf;
    uint8_t buf[4096];
    uint64_t deadline;

    bc.capacity_sectors = 32768;
    world_up(&bc);
    bf = open_dev(NULL);
    ck_assert_int_eq(do_io(bf, XF_BLKFRONT_WRITE, 0, 20000, buf, sizeof(buf)), -XF_ERANGE);
    xf_blkback_resize(bb, 32768);
    deadline = DEADLINE_MS(5000);
    do {
        step(bf, 2 * MS_NS);
        xf_blkfront_get_info(bf, &in);
    } while (in.sectors != 32768 && xf_plat_now_ns() < deadline);
    ck_assert_uint_eq(in.sectors, 32768);
    ck_assert_int_eq(do_io(bf, XF_BLKFRONT_WRITE, 0, 20000, buf, sizeof(buf)), 0);
    xf_blkback_resize(bb, 1000);
    deadline = DEADLINE_MS(5000);
    do {
        step(bf, 2 * MS_NS);
        xf_blkfront_get_info(bf, &in);
    } while (in.sectors != 1000 && xf_plat_now_ns() < deadline);
    ck_assert_uint_eq(in.sectors, 1000);
    ck_assert_int_eq(do_io(bf, XF_BLKFRONT_WRITE, 0, 996, buf, sizeof(buf)), -XF_ERANGE);
    ck_assert_int_eq(do_io(bf, XF_BLKFRONT_WRITE, 0, 992, buf, sizeof(buf)), 0);
    /* Garbage sectors later: the size is kept. */
    node_write(be_dir, "sectors", "lots");
    for (int i = 0; i < 20; i++)
        step(bf, MS_NS);
    xf_blkfront_get_info(bf, &in);
    ck_assert_uint_eq(in.sectors, 1000);
    ck_assert_int_eq(xf_blkfront_status(bf), 0);
    ck_assert_int_eq(xf_blkfront_close(bf, DEADLINE_MS(5000)), 0);
    assert_released();
    world_down();
}
END_TEST

/* K17: QEMU writes every feature at InitWait; the same result. */
START_TEST(test_qemu_style)
{
    struct xf_blkback_config bc = linux_like();
    struct xf_blkfront_info in;
    struct xf_blkfront *bf;

    bc.qemu_style = true;
    bc.persistent = false;
    bc.max_indirect = 0;
    bc.barrier = false;
    bc.physical_sector_size = UINT32_MAX;
    world_up(&bc);
    bf = open_dev(NULL);
    xf_blkfront_get_info(bf, &in);
    ck_assert(in.flush && !in.barrier && !in.persistent);
    ck_assert_uint_eq(in.physical_sector_size, 512);
    ck_assert_uint_eq(in.max_segments, 11);
    rw_check(bf, 0, 131072, 9, 0);
    ck_assert_int_eq(xf_blkfront_close(bf, DEADLINE_MS(5000)), 0);
    assert_released();
    world_down();
}
END_TEST

/* Open, do I/O in every mode, close: nothing is left, many times. */
START_TEST(test_leak_cycle)
{
    struct xf_blkback_config bc = linux_like();
    int rounds = valgrind() ? 3 : 12;

    bc.max_queues = 2;
    world_up(&bc);
    for (int i = 0; i < rounds; i++) {
        struct xf_blkfront_config fc = { .no_persistent = (i & 1) != 0, .pool_pages = 64,
                                         .max_ring_pages = 1u << (i % 5) };
        struct xf_blkfront *bf = open_dev(&fc);

        rw_check(bf, (uint64_t)i * 8, 65536, (uint32_t)i, 0);
        ck_assert_int_eq(do_io(bf, XF_BLKFRONT_FLUSH, 0, 0, NULL, 0), 0);
        ck_assert_int_eq(xf_blkfront_close(bf, DEADLINE_MS(5000)), 0);
        assert_released();
        /* The back end follows us to Closed; the toolstack would now
         * reset the front end to Initialising for the next attach. */
        {
            uint64_t deadline = DEADLINE_MS(5000);

            while (xf_blkback_state(bb) != XenbusStateClosed && xf_plat_now_ns() < deadline)
                usleep(200);
            ck_assert_int_eq(xf_blkback_state(bb), XenbusStateClosed);
        }
        node_write(fe, "state", "1");
    }
    world_down();
}
END_TEST

/*
 * Found in the real Xen (tests/guest): Linux 6.1's blkback keeps our rings
 * and persistent grants mapped until we are Closed (our Closing is only
 * echoed). Close must say Closed and wait for it before ending access:
 * else every pool page it maps is deferred, more than libgnttab's deferred
 * list holds, and the rest leak. 2 MiB in flight maps 512 pool pages.
 */
START_TEST(test_close_unmap_at_closed)
{
    struct xf_blkback_config bc = linux_like();
    struct xf_blkback_stats bs;
    struct xf_blkfront *bf;

    bc.unmap_at_closed = true;
    world_up(&bc);
    bf = open_dev(NULL);
    rw_check(bf, 0, 2u << 20, 5, 0);
    xf_blkback_get_stats(bb, &bs);
    ck_assert_uint_gt(bs.persistent_mapped, 256);
    ck_assert_int_eq(xf_blkfront_close(bf, DEADLINE_MS(5000)), 0);
    ck_assert_int_eq(xf_blkback_state(bb), XenbusStateClosed);
    assert_released();
    world_down();
}
END_TEST

/*
 * The one concurrency rule: the event handler (an emulated interrupt that
 * runs wherever the main flow is, unless it is inside xf_plat_irq_save)
 * completes I/O in the middle of the main flow's submissions, thousands
 * of times. Every I/O completes once with its data on the disk.
 */
#define IRQ_SLOTS 32
static struct xf_blkfront_io irq_io[IRQ_SLOTS];
static struct xf_blkfront_iov irq_iov[IRQ_SLOTS];
static uint8_t irq_buf[IRQ_SLOTS][8192];
static volatile int irq_busy[IRQ_SLOTS];
static volatile long irq_done, irq_bad;
static volatile int irq_stop;

static void irq_fn(void *arg)
{
    xf_evtchn_dispatch(arg, 0);
}

static void irq_done_fn(struct xf_blkfront *bf, struct xf_blkfront_io *io, int status, void *arg)
{
    int i = (int)(intptr_t)arg;

    (void)bf;
    (void)io;
    if (status != 0 || !irq_busy[i])
        irq_bad++;
    irq_busy[i] = 0;
    irq_done++;
}

static void *irq_raiser(void *arg)
{
    pthread_t main_thread = *(pthread_t *)arg;

    while (!__atomic_load_n(&irq_stop, __ATOMIC_ACQUIRE)) {
        (void)xf_sim_irq_raise(main_thread);
        usleep(20);
    }
    return NULL;
}

START_TEST(test_irq_interleaving)
{
    struct xf_blkback_config bc = linux_like();
    struct xf_blkfront_config fc = { .no_persistent = true };
    struct xf_blkfront *bf;
    pthread_t self = pthread_self(), raiser;
    uint64_t direct, deferred, deadline;
    long target = valgrind() ? 2000 : 30000, submitted = 0;
    uint32_t gen[IRQ_SLOTS] = { 0 };

    world_up(&bc);
    bf = open_dev(&fc);
    ck_assert_int_eq(xf_sim_irq_install(irq_fn, ec), 0);
    xf_sim_irq_self_every(7);
    irq_stop = 0;
    ck_assert_int_eq(pthread_create(&raiser, NULL, irq_raiser, &self), 0);
    deadline = DEADLINE_MS(60000);
    while ((submitted < target || irq_done < submitted) && xf_plat_now_ns() < deadline) {
        for (int i = 0; i < IRQ_SLOTS && submitted < target; i++) {
            if (irq_busy[i])
                continue;
            gen[i]++;
            fill(irq_buf[i], sizeof(irq_buf[i]), (uint32_t)i * 100000u + gen[i]);
            irq_iov[i] = (struct xf_blkfront_iov){ irq_buf[i], sizeof(irq_buf[i]) };
            irq_io[i] = (struct xf_blkfront_io){
                .op = XF_BLKFRONT_WRITE, .sector = (uint64_t)i * 16, .iov = &irq_iov[i],
                .nr_iov = 1, .done = irq_done_fn, .arg = (void *)(intptr_t)i,
            };
            irq_busy[i] = 1;
            ck_assert_int_eq(xf_blkfront_submit(bf, &irq_io[i]), 0);
            submitted++;
        }
        if (submitted % 64 == 0)
            (void)xf_blkfront_poll(bf);
    }
    __atomic_store_n(&irq_stop, 1, __ATOMIC_RELEASE);
    pthread_join(raiser, NULL);
    xf_sim_irq_self_every(0);
    xf_sim_irq_uninstall();
    xf_sim_irq_counts(&direct, &deferred);
    ck_assert_int_eq(irq_bad, 0);
    ck_assert_int_eq(irq_done, submitted);
    ck_assert_int_eq(submitted, target);
    ck_assert_uint_gt(direct, 0);
    ck_assert_uint_gt(deferred, 0);
    for (int i = 0; i < IRQ_SLOTS; i++) {
        uint8_t want[8192];

        fill(want, sizeof(want), (uint32_t)i * 100000u + gen[i]);
        ck_assert_mem_eq(xf_blkback_disk(bb) + (size_t)i * 16 * 512, want, sizeof(want));
    }
    ck_assert_uint_eq(xf_blkfront_pending(bf), 0);
    ck_assert_int_eq(xf_blkfront_close(bf, DEADLINE_MS(5000)), 0);
    assert_released();
    world_down();
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("blkfront");
    TCase *tc = tcase_create("features");

    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, test_connect_linux_like);
    tcase_add_test(tc, test_data_persistent_indirect);
    tcase_add_test(tc, test_data_bounce_indirect);
    tcase_add_test(tc, test_data_direct_only);
    tcase_add_test(tc, test_data_our_limit_11);
    tcase_add_test(tc, test_data_zero_copy);
    tcase_add_test(tc, test_single_page_ring);
    tcase_add_test(tc, test_our_ring_limit);
    tcase_add_test(tc, test_multi_queue);
    tcase_add_test(tc, test_flush_barrier_fua);
    tcase_add_test(tc, test_discard);
    tcase_add_test(tc, test_read_only);
    tcase_add_test(tc, test_bounds_and_alignment);
    tcase_add_test(tc, test_resize);
    tcase_add_test(tc, test_qemu_style);
    tcase_add_test(tc, test_leak_cycle);
    tcase_add_test(tc, test_close_unmap_at_closed);
    tcase_add_test(tc, test_irq_interleaving);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return xf_check_run(suite());
}
