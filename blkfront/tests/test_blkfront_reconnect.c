/*
 * No lost writes across reconnects (K12, K13), as a model test: many
 * random writes (and reads) with up to 32 in flight, the back end going
 * away at random points with I/O in flight (applying some of it without
 * answering: responses lost) and coming back, often with other features
 * (persistent or not, indirect or not, another ring order, another queue
 * count). At the end the disk must equal a model that applies each write
 * when it is acknowledged: no acknowledged write missing, none applied
 * after a later acknowledged one over it; every write not caught by a
 * reconnect applied exactly once; every read returned the model's data.
 */
#include "blkfront_test.h"

#ifndef BLKFRONT_MODEL_WRITES
#define BLKFRONT_MODEL_WRITES 200000
#endif
#define DISK_SECTORS 2048u
#define QD 32u
#define MAX_SECT 128u

#if defined(__SANITIZE_ADDRESS__)
#define SANITIZED 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(undefined_behavior_sanitizer)
#define SANITIZED 1
#endif
#endif
#ifndef SANITIZED
#define SANITIZED 0
#endif

struct slot {
    struct xf_blkfront_io io;
    struct xf_blkfront_iov iov[3];
    uint8_t *buf;
    bool busy;
    bool write, discard, flush;
    uint64_t tag;
    uint64_t gen;                 /* connects at submission */
    uint64_t sector, nsect;
};

static struct slot slots[QD];
static uint64_t model[DISK_SECTORS];       /* tag of the last acknowledged write */
static uint8_t busy_sect[DISK_SECTORS];    /* an I/O in flight covers it */
static uint32_t *applied;                  /* sectors applied per tag (back end's hook) */
static uint8_t *caught;                    /* tag's write saw a reconnect */
static uint8_t *tag_n;                     /* sectors of tag's write */
static uint64_t ntags;
static struct xf_blkfront *dev;
static unsigned inflight;
static uint64_t acked_writes, reads_checked, discards, flushes;
static uint32_t rnd = 12345;

static uint32_t rand32(void)
{
    rnd ^= rnd << 13;
    rnd ^= rnd >> 17;
    rnd ^= rnd << 5;
    return rnd;
}

static void stamp(uint8_t *p, uint64_t tag, uint64_t sector)
{
    memcpy(p, &tag, 8);
    memcpy(p + 8, &sector, 8);
    for (unsigned i = 16; i < 512; i++)
        p[i] = (uint8_t)(tag * 31 + sector * 7 + i);
}

static uint64_t tag_of(const uint8_t *p)
{
    uint64_t t;

    memcpy(&t, p, 8);
    return t;
}

/* Runs in the back end's thread, under its lock. */
static void on_apply(void *arg, uint64_t sector, uint64_t nsect, const uint8_t *data)
{
    (void)arg;
    for (uint64_t i = 0; i < nsect; i++) {
        uint64_t t = tag_of(data + i * 512);

        if (t != 0 && t < ntags)
            __atomic_fetch_add(&applied[t], 1, __ATOMIC_RELAXED);
        (void)sector;
    }
}

static void on_done(struct xf_blkfront *bf, struct xf_blkfront_io *io, int status, void *arg)
{
    struct slot *s = arg;
    struct xf_blkfront_info in;

    (void)io;
    ck_assert_int_eq(status, 0);
    xf_blkfront_get_info(bf, &in);
    if (in.connects != s->gen)
        caught[s->tag] = 1;
    for (uint64_t i = 0; i < s->nsect; i++)
        busy_sect[s->sector + i] = 0;
    if (s->discard) {
        for (uint64_t i = 0; i < s->nsect; i++)
            model[s->sector + i] = 0;    /* the back end zeroes what it discards */
        discards++;
    } else if (s->flush) {
        flushes++;
    } else if (s->write) {
        for (uint64_t i = 0; i < s->nsect; i++)
            model[s->sector + i] = s->tag;
        acked_writes++;
    } else {
        for (uint64_t i = 0; i < s->nsect; i++) {
            const uint8_t *p = s->buf + i * 512;
            uint64_t t = tag_of(p);

            /* No write was in flight over this range: the model holds. */
            ck_assert_uint_eq(t, model[s->sector + i]);
            if (t != 0) {
                uint8_t want[512];

                stamp(want, t, s->sector + i);
                ck_assert_mem_eq(p, want, 512);
            }
        }
        reads_checked++;
    }
    s->busy = false;
    inflight--;
}

static bool range_free(uint64_t sector, uint64_t n)
{
    for (uint64_t i = 0; i < n; i++)
        if (busy_sect[sector + i])
            return false;
    return true;
}

static bool submit_one(uint64_t *next_tag)
{
    struct slot *s = NULL;
    struct xf_blkfront_info in;
    uint64_t n, sector;
    uint32_t kind;
    size_t len, cut1, cut2;

    for (unsigned i = 0; i < QD; i++)
        if (!slots[i].busy) {
            s = &slots[i];
            break;
        }
    if (s == NULL)
        return false;
    n = 1 + rand32() % (rand32() % 8 == 0 ? MAX_SECT : 16);
    sector = rand32() % (DISK_SECTORS - n + 1);
    if (!range_free(sector, n))
        return false;
    kind = rand32() % 100;
    s->write = kind >= 10;
    s->discard = kind < 3;
    s->flush = kind >= 3 && kind < 5;
    s->sector = sector;
    s->nsect = s->flush ? 0 : n;
    len = (size_t)n * 512;
    if (s->discard) {
        s->tag = 0;
        for (uint64_t i = 0; i < n; i++)
            busy_sect[sector + i] = 1;
        s->io = (struct xf_blkfront_io){
            .op = XF_BLKFRONT_DISCARD, .sector = sector, .nr_sectors = n, .done = on_done,
            .arg = s,
        };
        goto go;
    }
    if (s->flush) {
        s->tag = 0;
        s->io = (struct xf_blkfront_io){ .op = XF_BLKFRONT_FLUSH, .done = on_done, .arg = s };
        goto go;
    }
    if (s->write) {
        s->tag = (*next_tag)++;
        tag_n[s->tag] = (uint8_t)n;
        for (uint64_t i = 0; i < n; i++)
            stamp(s->buf + i * 512, s->tag, sector + i);
    } else {
        s->tag = 0;
        memset(s->buf, 0xa5, len);
    }
    /* Nothing else in flight over this range (reads included: a read
     * overlapping a write may see either). */
    for (uint64_t i = 0; i < n; i++)
        busy_sect[sector + i] = 1;
    /* Three pieces at odd places. */
    cut1 = len > 1 ? 1 + rand32() % (len - 1) : len;
    cut2 = cut1 + (len - cut1) / 2;
    s->iov[0] = (struct xf_blkfront_iov){ s->buf, cut1 };
    s->iov[1] = (struct xf_blkfront_iov){ s->buf + cut1, cut2 - cut1 };
    s->iov[2] = (struct xf_blkfront_iov){ s->buf + cut2, len - cut2 };
    s->io = (struct xf_blkfront_io){
        .op = s->write ? XF_BLKFRONT_WRITE : XF_BLKFRONT_READ,
        .flags = s->write && rand32() % 10 == 0 ? XF_BLKFRONT_F_FUA : 0,
        .sector = sector, .iov = s->iov, .nr_iov = 3, .done = on_done, .arg = s,
    };
go:
    xf_blkfront_get_info(dev, &in);
    s->gen = in.connects;
    s->busy = true;
    inflight++;
    ck_assert_int_eq(xf_blkfront_submit(dev, &s->io), 0);
    return true;
}

static struct xf_blkback_config random_config(void)
{
    struct xf_blkback_config c = {
        .sectors = DISK_SECTORS, .flush = true, .discard = true, .max_persistent = 256,
    };
    static const uint32_t indirect[] = { 0, 16, 32, 256 };

    c.persistent = getenv("XF_BLKFRONT_MODEL_NP") ? rand32() % 2 : 1;
    c.max_indirect = indirect[rand32() % 4];
    c.max_ring_order = rand32() % 5;
    c.max_queues = 1 + rand32() % 3;
    c.seed = rand32() | 1;
    return c;
}

START_TEST(test_reconnect_model)
{
    struct xf_blkback_config bc = random_config();
    struct xf_blkfront_config fc = { .pool_pages = 160 };
    uint64_t writes, next_tag = 1, submitted = 0, reconnects = 0, next_reconnect;
    uint64_t t0 = xf_plat_now_ns(), deadline;
    struct xf_blkfront_info in;
    const char *env = getenv("XF_BLKFRONT_MODEL_WRITES");

    writes = valgrind() ? 3000 : SANITIZED ? 40000 : BLKFRONT_MODEL_WRITES;
    if (env != NULL)
        writes = strtoull(env, NULL, 10);
    ntags = writes + writes / 5 + 2;
    applied = calloc(ntags, sizeof(*applied));
    caught = calloc(ntags, 1);
    tag_n = calloc(ntags, 1);
    ck_assert_ptr_nonnull(tag_n);
    ck_assert_ptr_nonnull(applied);
    ck_assert_ptr_nonnull(caught);
    for (unsigned i = 0; i < QD; i++) {
        slots[i].buf = malloc(MAX_SECT * 512);
        ck_assert_ptr_nonnull(slots[i].buf);
    }
    bc.max_queues = 2;
    world_up(&bc);
    xf_blkback_set_apply_hook(bb, on_apply, NULL);
    dev = open_dev(&fc);
    next_reconnect = 1 + rand32() % (writes / 40 + 1);
    deadline = DEADLINE_MS(valgrind() ? 600000 : 120000);
    while ((next_tag - 1 < writes || inflight > 0) && xf_plat_now_ns() < deadline) {
        unsigned tries = 0;

        while (next_tag - 1 < writes && inflight < QD && tries++ < 4)
            if (submit_one(&next_tag))
                submitted++;
        if (next_tag - 1 >= next_reconnect && xf_blkfront_status(dev) == 0 &&
            getenv("XF_BLKFRONT_MODEL_NORECONNECT") == NULL) {
            /* Go away with whatever is in flight; half of it done but
             * unanswered. Often come back as another back end. */
            if (rand32() % 3 != 0) {
                struct xf_blkback_config nc = random_config();

                xf_blkback_reconfigure(bb, &nc);
            }
            xf_blkback_disconnect(bb, 50);
            reconnects++;
            next_reconnect = next_tag - 1 + 1 + rand32() % (writes / 40 + 1);
        }
        if (inflight >= QD || next_tag - 1 >= writes || tries > 4)
            (void)xf_plat_wait(xf_plat_now_ns() + MS_NS);
        (void)xf_blkfront_poll(dev);
        if (xf_blkfront_needs_service(dev))
            ck_assert_int_ge(xf_blkfront_service(dev, DEADLINE_MS(5000)), 0);
    }
    ck_assert_uint_eq(inflight, 0);
    ck_assert_uint_eq(xf_blkfront_pending(dev), 0);
    xf_blkfront_get_info(dev, &in);
    /* Requests that land before the back end acted on the last one merge,
     * and a connection it drops before we saw it Connected is not ours. */
    {
        struct xf_blkback_stats bs;
        uint64_t until = DEADLINE_MS(10000);

        for (;;) {
            xf_blkback_get_stats(bb, &bs);
            xf_blkfront_get_info(dev, &in);
            if ((in.connected && bs.state == XenbusStateConnected) || xf_plat_now_ns() >= until)
                break;
            step(dev, MS_NS);
        }
        ck_assert(in.connected);
        ck_assert_uint_le(in.connects, bs.connects);
        ck_assert_uint_ge(in.connects, 2);
    }
    /* Idle now: compare the disk with the model. */
    {
        const uint8_t *disk = xf_blkback_disk(bb);
        uint64_t caught_n = 0;

        for (uint64_t s = 0; s < DISK_SECTORS; s++) {
            uint64_t t = tag_of(disk + s * 512);

            ck_assert_msg(t == model[s], "sector %llu holds write %llu, model %llu",
                          (unsigned long long)s, (unsigned long long)t,
                          (unsigned long long)model[s]);
            if (t != 0) {
                uint8_t want[512];

                stamp(want, t, s);
                ck_assert_mem_eq(disk + s * 512, want, 512);
            }
        }
        /* Writes not caught by a reconnect were applied exactly once
         * (every sector of them once); caught ones at least once. */
        for (uint64_t t = 1; t < next_tag; t++) {
            if (caught[t]) {
                caught_n++;
                ck_assert_uint_ge(applied[t], tag_n[t]);
            } else {
                ck_assert_msg(applied[t] == tag_n[t], "write %llu: %u of %u sectors applied",
                              (unsigned long long)t, applied[t], tag_n[t]);
            }
        }
        fprintf(stderr, "model: %llu writes, %llu reads checked, %llu discards, %llu flushes, "
                "%llu reconnects, "
                "%llu writes caught by one, %llu connections, %.1f s\n",
                (unsigned long long)acked_writes, (unsigned long long)reads_checked,
                (unsigned long long)discards, (unsigned long long)flushes,
                (unsigned long long)reconnects, (unsigned long long)caught_n,
                (unsigned long long)in.connects, (double)(xf_plat_now_ns() - t0) / 1e9);
    }
    ck_assert_uint_eq(acked_writes, next_tag - 1);
    ck_assert_uint_gt(reconnects, 0);
    ck_assert_int_eq(xf_blkfront_close(dev, DEADLINE_MS(5000)), 0);
    assert_released();
    world_down();
    for (unsigned i = 0; i < QD; i++)
        free(slots[i].buf);
    free(applied);
    free(caught);
    free(tag_n);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("blkfront-reconnect");
    TCase *tc = tcase_create("reconnect");

    tcase_set_timeout(tc, valgrind() ? 900 : 300);
    tcase_add_test(tc, test_reconnect_model);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return xf_check_run(suite());
}
