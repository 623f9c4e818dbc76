/*
 * A simulated Linux-6.1-like blkback (see xf_blkback.h). Test code: it
 * aborts on its own bugs (never on the frontend's input, which it treats
 * as blkback does).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdarg.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <xenfront/errno.h>
#include <xenfront/ring.h>
#include <xen/io/blkif.h>
#include <xen/io/protocols.h>
#include <xen/io/xenbus.h>

#include "xf_blkback.h"

#define BB_MAX_QUEUES 8
#define BB_MAX_SEGS 256                  /* MAX_INDIRECT_SEGMENTS */
#define BB_SEGS_PER_IND (XF_PAGE_SIZE / sizeof(struct blkif_request_segment))
#define BB_PCACHE 4096                   /* hash slots (> 2 * max_persistent) */
#define BB_MAX_KEYS 16
#define BB_MAX_LEAKED 4096

enum bb_phase { BB_INITWAIT, BB_CONNECTED, BB_GONE, BB_CLOSED };

struct bb_seg {
    uint8_t *va;
    grant_handle_t h;
    bool np;                             /* mapped for this request only */
    uint8_t first, last;
};

struct bb_pend {
    uint64_t id;
    uint8_t rsp_op;
    uint8_t op;                          /* effective: READ, WRITE, FLUSH, BARRIER, DISCARD */
    int16_t status;
    uint64_t sector, nsect;
    uint32_t nseg;
    bool never;
    struct bb_seg seg[BB_MAX_SEGS];
};

struct bb_pgnt {
    grant_ref_t ref;
    bool used;
    uint8_t *va;
    grant_handle_t h;
};

struct bb_queue {
    struct xf_back_ring ring;
    void *ring_va;                       /* contiguous view of the pages */
    size_t ring_bytes;
    bool ring_mmapped;
    grant_handle_t ring_h[16];
    unsigned npages;
    evtchn_port_t port;
    bool halted;
    bool overflow;
    struct bb_pend *pend;                /* nr_ents entries */
    uint32_t *pend_idx;                  /* in use, in arrival order */
    uint32_t npend;
    uint32_t *free_idx;
    uint32_t nfree;
    struct bb_pgnt *pc;                  /* persistent cache */
    uint32_t pc_count;
    uint64_t last_id;
};

struct bb_key {
    char key[48];
    char value[64];
    bool remove;
};

struct xf_blkback {
    struct xf_sim *sim;
    struct xf_xsd *xsd;
    domid_t guest;
    char fe[128], be[128];
    struct xf_blkback_config cfg, next_cfg;
    bool have_next;
    uint8_t *disk;
    uint64_t sectors;
    pthread_mutex_t lock;
    pthread_t thread;
    int stop;
    bool paused;
    bool silent;
    int disconnect_req;
    unsigned apply_pct;
    uint64_t resize_req;
    unsigned storm_req;
    enum bb_phase phase;
    int state;
    unsigned nq;
    bool persistent;
    unsigned order;
    struct bb_queue q[BB_MAX_QUEUES];
    struct bb_key keys[BB_MAX_KEYS];
    unsigned nkeys;
    enum xf_blkback_evil evil;
    int evil_arg, evil_op;
    unsigned evil_count;
    xf_blkback_apply_fn *apply_fn;
    void *apply_arg;
    grant_handle_t leaked[BB_MAX_LEAKED];
    unsigned nleaked;
    struct xf_blkback_stats st;
    uint32_t rnd;
};

#define LOAD(p)     __atomic_load_n((p), __ATOMIC_ACQUIRE)
#define STORE(p, v) __atomic_store_n((p), (v), __ATOMIC_RELEASE)

static void bb_die(const char *what)
{
    fprintf(stderr, "blkback: %s\n", what);
    abort();
}

static uint32_t bb_rand(struct xf_blkback *be)
{
    be->rnd ^= be->rnd << 13;
    be->rnd ^= be->rnd >> 17;
    be->rnd ^= be->rnd << 5;
    return be->rnd;
}

/* ------------------------------------------------------------------------
 * xenstore as dom0.
 */
static int xs_read(struct xf_blkback *be, const char *dir, const char *key, char *buf,
                   size_t cap)
{
    char path[256];
    int n;

    snprintf(path, sizeof(path), "%s/%s", dir, key);
    n = xf_xsd_read(be->xsd, path, buf, cap);
    if (n < 0)
        return n;
    if ((size_t)n >= cap)
        buf[cap - 1] = '\0';
    return 0;
}

/* xenbus_scanf("%u"): leading digits, else absent. */
static bool xs_uint(struct xf_blkback *be, const char *dir, const char *key, unsigned long *out)
{
    char buf[64];

    if (xs_read(be, dir, key, buf, sizeof(buf)) < 0 || buf[0] < '0' || buf[0] > '9')
        return false;
    *out = strtoul(buf, NULL, 10);
    return true;
}

static void xs_write(struct xf_blkback *be, const char *key, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void xs_write(struct xf_blkback *be, const char *key, const char *fmt, ...)
{
    char path[256], val[128];
    va_list ap;

    for (unsigned i = 0; i < be->nkeys; i++) {
        if (strcmp(be->keys[i].key, key) == 0)
            return;                      /* overridden: written by apply_keys */
    }
    va_start(ap, fmt);
    vsnprintf(val, sizeof(val), fmt, ap);
    va_end(ap);
    snprintf(path, sizeof(path), "%s/%s", be->be, key);
    if (xf_xsd_write(be->xsd, path, val, strlen(val)) != 0)
        bb_die("xenstore write");
}

static void xs_rm(struct xf_blkback *be, const char *key)
{
    char path[256];

    snprintf(path, sizeof(path), "%s/%s", be->be, key);
    (void)xf_xsd_rm(be->xsd, path);
}

static void apply_keys(struct xf_blkback *be)
{
    char path[256];

    for (unsigned i = 0; i < be->nkeys; i++) {
        snprintf(path, sizeof(path), "%s/%s", be->be, be->keys[i].key);
        if (be->keys[i].remove)
            (void)xf_xsd_rm(be->xsd, path);
        else if (xf_xsd_write(be->xsd, path, be->keys[i].value, strlen(be->keys[i].value)) != 0)
            bb_die("xenstore write");
    }
}

static void set_state(struct xf_blkback *be, int st)
{
    char path[256], val[8];

    snprintf(path, sizeof(path), "%s/state", be->be);
    snprintf(val, sizeof(val), "%d", st);
    if (xf_xsd_write(be->xsd, path, val, strlen(val)) != 0)
        bb_die("state write");
    be->state = st;
    be->st.state = st;
}

static int fe_state(struct xf_blkback *be)
{
    unsigned long v;

    return xs_uint(be, be->fe, "state", &v) ? (int)v : 0;
}

static const char *const feature_keys[] = {
    "feature-max-indirect-segments", "multi-queue-max-queues", "max-ring-page-order",
    "feature-flush-cache", "feature-barrier", "feature-discard", "discard-granularity",
    "discard-alignment", "discard-secure", "feature-persistent", "sectors", "info",
    "sector-size", "physical-sector-size",
};

static void write_features(struct xf_blkback *be)
{
    const struct xf_blkback_config *c = &be->cfg;

    xs_write(be, "feature-flush-cache", "%d", c->flush ? 1 : 0);
    xs_write(be, "feature-barrier", "%d", c->barrier ? 1 : 0);
    if (c->discard) {
        xs_write(be, "feature-discard", "1");
        xs_write(be, "discard-granularity", "%u", c->discard_granularity);
        xs_write(be, "discard-alignment", "%u", c->discard_alignment);
        xs_write(be, "discard-secure", "%d", c->discard_secure ? 1 : 0);
    }
    xs_write(be, "feature-persistent", "%d", c->persistent ? 1 : 0);
    xs_write(be, "sectors", "%llu", (unsigned long long)be->sectors);
    xs_write(be, "info", "%u", c->info);
    xs_write(be, "sector-size", "%u", c->sector_size);
    if (c->physical_sector_size != UINT32_MAX)
        xs_write(be, "physical-sector-size", "%u", c->physical_sector_size);
}

static void go_initwait(struct xf_blkback *be)
{
    const struct xf_blkback_config *c;

    if (be->have_next) {
        be->cfg = be->next_cfg;
        be->have_next = false;
        if (be->cfg.sectors > be->cfg.capacity_sectors)
            bb_die("reconfigure beyond capacity");
        be->sectors = be->cfg.sectors;
    }
    c = &be->cfg;
    for (size_t i = 0; i < XF_ARRAY_SIZE(feature_keys); i++)
        xs_rm(be, feature_keys[i]);
    if (c->max_indirect)
        xs_write(be, "feature-max-indirect-segments", "%u", c->max_indirect);
    if (c->max_queues)
        xs_write(be, "multi-queue-max-queues", "%u", c->max_queues);
    if (c->max_ring_order)
        xs_write(be, "max-ring-page-order", "%u", c->max_ring_order);
    if (c->qemu_style)
        write_features(be);
    apply_keys(be);
    be->phase = BB_INITWAIT;
    set_state(be, XenbusStateInitWait);
}

/* ------------------------------------------------------------------------
 * Grants.
 */
static uint8_t *map_np(struct xf_blkback *be, grant_ref_t ref, bool ro, grant_handle_t *h)
{
    int16_t status;
    void *va = xf_sim_map_grant(be->sim, 0, be->guest, ref, ro, h, &status);

    if (va != NULL)
        be->st.maps++;
    return va;
}

static void unmap_np(struct xf_blkback *be, grant_handle_t h)
{
    if (xf_sim_unmap_grant(be->sim, 0, h) != GNTST_okay)
        bb_die("unmap");
    be->st.unmaps++;
}

/* A data or indirect page: from the persistent cache when negotiated
 * (mapped writable whatever the direction, as xen_blkbk_map()), else
 * mapped for this request. */
static bool map_seg(struct xf_blkback *be, struct bb_queue *q, grant_ref_t ref, bool ro,
                    struct bb_seg *s)
{
    if (be->persistent) {
        uint32_t i = (ref * 2654435761u) & (BB_PCACHE - 1);

        for (uint32_t n = 0; n < BB_PCACHE; n++, i = (i + 1) & (BB_PCACHE - 1)) {
            if (!q->pc[i].used)
                break;
            if (q->pc[i].ref == ref) {
                s->va = q->pc[i].va;
                s->np = false;
                return true;
            }
        }
        if (!q->pc[i].used && q->pc_count < be->cfg.max_persistent) {
            int16_t status;
            grant_handle_t h;
            void *va = xf_sim_map_grant(be->sim, 0, be->guest, ref, false, &h, &status);

            if (va == NULL)
                return false;
            q->pc[i] = (struct bb_pgnt){ .ref = ref, .used = true, .va = va, .h = h };
            q->pc_count++;
            be->st.persistent_mapped++;
            if (be->st.persistent_mapped > be->st.persistent_max_seen)
                be->st.persistent_max_seen = be->st.persistent_mapped;
            s->va = va;
            s->np = false;
            return true;
        }
    }
    s->va = map_np(be, ref, ro, &s->h);
    s->np = s->va != NULL;
    return s->va != NULL;
}

static void release_segs(struct xf_blkback *be, struct bb_pend *p, bool keep)
{
    for (uint32_t i = 0; i < p->nseg; i++) {
        if (!p->seg[i].np)
            continue;
        if (keep && be->nleaked < BB_MAX_LEAKED)
            be->leaked[be->nleaked++] = p->seg[i].h;
        else
            unmap_np(be, p->seg[i].h);
        p->seg[i].np = false;
    }
    p->nseg = 0;
}

/* ------------------------------------------------------------------------
 * Requests.
 */
static bool parse_segs(struct xf_blkback *be, struct bb_queue *q, struct bb_pend *p,
                       const struct blkif_request_segment *segs, uint32_t n, bool ro)
{
    uint32_t lb = be->cfg.sector_size / 512;

    for (uint32_t i = 0; i < n; i++) {
        struct blkif_request_segment s = segs[i];

        if (s.last_sect >= 8 || s.last_sect < s.first_sect)
            return false;
        if ((uint32_t)(s.last_sect - s.first_sect + 1) % lb)
            return false;
        if (!map_seg(be, q, s.gref, ro, &p->seg[p->nseg]))
            return false;
        p->seg[p->nseg].first = s.first_sect;
        p->seg[p->nseg].last = s.last_sect;
        p->nseg++;
        p->nsect += (uint64_t)(s.last_sect - s.first_sect + 1);
    }
    return true;
}

static void parse(struct xf_blkback *be, struct bb_queue *q, const struct blkif_request *req,
                  struct bb_pend *p)
{
    bool ro = (be->cfg.info & VDISK_READONLY) != 0;
    uint32_t lb = be->cfg.sector_size / 512;

    memset(p, 0, offsetof(struct bb_pend, seg));
    p->id = req->id;
    p->rsp_op = req->operation;
    p->op = req->operation;
    p->status = BLKIF_RSP_OKAY;
    switch (req->operation) {
    case BLKIF_OP_READ:
    case BLKIF_OP_WRITE:
    case BLKIF_OP_FLUSH_DISKCACHE:
    case BLKIF_OP_WRITE_BARRIER: {
        uint32_t n = req->nr_segments;

        if (req->operation == BLKIF_OP_READ) be->st.rd_req++;
        else if (req->operation == BLKIF_OP_WRITE) be->st.wr_req++;
        else if (req->operation == BLKIF_OP_FLUSH_DISKCACHE) be->st.f_req++;
        else be->st.b_req++;
        p->sector = req->sector_number;
        if (req->operation == BLKIF_OP_FLUSH_DISKCACHE && !be->cfg.flush) {
            p->status = BLKIF_RSP_EOPNOTSUPP;
            return;
        }
        if (req->operation == BLKIF_OP_WRITE_BARRIER && !be->cfg.barrier) {
            p->status = BLKIF_RSP_EOPNOTSUPP;
            return;
        }
        if (ro && req->operation != BLKIF_OP_READ)
            goto fail;
        if (n > BLKIF_MAX_SEGMENTS_PER_REQUEST ||
            (n == 0 && (req->operation == BLKIF_OP_READ || req->operation == BLKIF_OP_WRITE)))
            goto fail;
        if (!parse_segs(be, q, p, req->seg, n, req->operation != BLKIF_OP_READ))
            goto fail;
        break;
    }
    case BLKIF_OP_INDIRECT: {
        const struct blkif_request_indirect *ind = (const void *)req;
        uint32_t n = ind->nr_segments, npages;

        be->st.indirect_req++;
        p->rsp_op = ind->indirect_op;
        p->op = ind->indirect_op;
        p->sector = ind->sector_number;
        if (ind->indirect_op == BLKIF_OP_READ) be->st.rd_req++;
        else if (ind->indirect_op == BLKIF_OP_WRITE) be->st.wr_req++;
        if ((ind->indirect_op != BLKIF_OP_READ && ind->indirect_op != BLKIF_OP_WRITE) ||
            be->cfg.max_indirect == 0)
            goto fail;
        if (n == 0 || n > BB_MAX_SEGS || n > be->cfg.max_indirect)
            goto fail;
        if (ro && ind->indirect_op == BLKIF_OP_WRITE)
            goto fail;
        npages = (n + (uint32_t)BB_SEGS_PER_IND - 1) / (uint32_t)BB_SEGS_PER_IND;
        for (uint32_t i = 0; i < npages; i++) {
            struct bb_seg ip;
            struct blkif_request_segment segs[BB_SEGS_PER_IND];
            uint32_t cnt = n - i * (uint32_t)BB_SEGS_PER_IND;
            bool ok;

            if (cnt > BB_SEGS_PER_IND)
                cnt = (uint32_t)BB_SEGS_PER_IND;
            /* Indirect pages are mapped read-only. */
            if (!map_seg(be, q, ind->indirect_grefs[i], true, &ip))
                goto fail;
            memcpy(segs, ip.va, cnt * sizeof(segs[0]));
            if (ip.np)
                unmap_np(be, ip.h);
            ok = parse_segs(be, q, p, segs, cnt, ind->indirect_op == BLKIF_OP_WRITE);
            if (!ok)
                goto fail;
        }
        break;
    }
    case BLKIF_OP_DISCARD: {
        const struct blkif_request_discard *d = (const void *)req;

        be->st.ds_req++;
        p->sector = d->sector_number;
        p->nsect = d->nr_sectors;
        if (!be->cfg.discard || ((d->flag & BLKIF_DISCARD_SECURE) && !be->cfg.discard_secure)) {
            p->status = BLKIF_RSP_EOPNOTSUPP;
            return;
        }
        if (ro)
            goto fail;
        break;
    }
    default:
        be->st.other_req++;
        p->status = BLKIF_RSP_EOPNOTSUPP;
        return;
    }
    if (p->nseg > be->st.max_segments_seen)
        be->st.max_segments_seen = p->nseg;
    /* xen_vbd_translate(): range in 512-byte units; the logical block
     * alignment of the start. */
    if (p->sector + p->nsect < p->sector || p->sector + p->nsect > be->sectors ||
        p->sector % lb)
        goto fail;
    return;
fail:
    release_segs(be, p, false);
    p->status = BLKIF_RSP_ERROR;
}

/* Do the I/O of a parsed request (at completion). */
static void execute(struct xf_blkback *be, struct bb_pend *p)
{
    uint64_t sec = p->sector;

    if (p->status != BLKIF_RSP_OKAY)
        return;
    if (p->op == BLKIF_OP_DISCARD) {
        memset(be->disk + sec * 512, 0, p->nsect * 512);
        return;
    }
    for (uint32_t i = 0; i < p->nseg; i++) {
        struct bb_seg *s = &p->seg[i];
        size_t off = (size_t)s->first * 512, len = (size_t)(s->last - s->first + 1) * 512;

        if (p->op == BLKIF_OP_READ)
            memcpy(s->va + off, be->disk + sec * 512, len);
        else
            memcpy(be->disk + sec * 512, s->va + off, len);
        sec += len / 512;
    }
    if (p->op != BLKIF_OP_READ && p->nseg > 0 && be->apply_fn != NULL)
        be->apply_fn(be->apply_arg, p->sector, p->nsect, be->disk + p->sector * 512);
}

static bool evil_hit(struct xf_blkback *be, struct bb_pend *p, enum xf_blkback_evil mode)
{
    if (be->evil != mode || be->evil_count == 0)
        return false;
    if (be->evil_op >= 0 && be->evil_op != p->op)
        return false;
    if (--be->evil_count == 0)
        be->evil = XF_BB_EVIL_NONE;
    return true;
}

static bool pend_has_id(struct bb_queue *q, uint64_t id)
{
    for (uint32_t i = 0; i < q->npend; i++) {
        if (q->pend[q->pend_idx[i]].id == id)
            return true;
    }
    return false;
}

static void respond(struct xf_blkback *be, struct bb_queue *q, struct bb_pend *p)
{
    struct blkif_response *r;
    uint64_t id = p->id;
    uint8_t op = p->rsp_op;
    int16_t status = p->status;
    bool keep = false;
    enum xf_blkback_evil mode = be->evil;

    if (mode != XF_BB_EVIL_NONE && evil_hit(be, p, mode)) {
        switch (mode) {
        case XF_BB_EVIL_ID_RANGE:
            id = (uint64_t)xf_back_ring_size(&q->ring) * 4 + 3;
            break;
        case XF_BB_EVIL_ID_DUP:
            id = q->last_id;
            break;
        case XF_BB_EVIL_ID_UNKNOWN:
            for (id = (p->id + 1) % xf_back_ring_size(&q->ring);
                 id == p->id || pend_has_id(q, id);
                 id = (id + 1) % xf_back_ring_size(&q->ring))
                ;
            break;
        case XF_BB_EVIL_WRONG_OP:
            op = (uint8_t)(p->rsp_op == BLKIF_OP_READ && p->nseg > BLKIF_MAX_SEGMENTS_PER_REQUEST
                           ? BLKIF_OP_INDIRECT : p->rsp_op ^ 1);
            break;
        case XF_BB_EVIL_STATUS:
            status = (int16_t)be->evil_arg;
            break;
        case XF_BB_EVIL_KEEP_MAPPED:
            keep = true;
            break;
        case XF_BB_EVIL_NEVER_ANSWER:
            release_segs(be, p, false);
            return;
        default:
            break;
        }
    }
    execute(be, p);
    release_segs(be, p, keep);
    if (status != BLKIF_RSP_OKAY) {
        if (status == BLKIF_RSP_EOPNOTSUPP)
            be->st.notsupp++;
        else
            be->st.errors++;
    }
    if (xf_back_ring_owed(&q->ring) == 0)
        bb_die("respond with nothing owed");
    r = XF_BACK_RING_RSP(&q->ring, blkif, 0);
    r->id = id;
    r->operation = op;
    r->status = status;
    xf_back_ring_produce(&q->ring, 1);
    q->last_id = p->id;
    be->st.responses++;
    if (mode == XF_BB_EVIL_RSP_OVERFLOW && be->evil == XF_BB_EVIL_NONE)
        q->overflow = true;              /* after the push (serve) */
}

/* ------------------------------------------------------------------------
 * Queues.
 */
static void queue_teardown(struct xf_blkback *be, struct bb_queue *q)
{
    for (uint32_t i = 0; i < q->npend; i++)
        release_segs(be, &q->pend[q->pend_idx[i]], false);
    q->npend = 0;
    if (q->pc != NULL) {
        for (uint32_t i = 0; i < BB_PCACHE; i++) {
            if (q->pc[i].used) {
                if (xf_sim_unmap_grant(be->sim, 0, q->pc[i].h) != GNTST_okay)
                    bb_die("unmap persistent");
                be->st.persistent_mapped--;
            }
        }
    }
    free(q->pc);
    if (q->ring_mmapped)
        munmap(q->ring_va, q->ring_bytes);
    for (unsigned i = 0; i < q->npages; i++)
        if (xf_sim_unmap_grant(be->sim, 0, q->ring_h[i]) != GNTST_okay)
            bb_die("unmap ring");
    if (q->port)
        (void)xf_sim_evtchn_close(be->sim, 0, q->port);
    free(q->pend);
    free(q->pend_idx);
    free(q->free_idx);
    memset(q, 0, sizeof(*q));
}

static void teardown_all(struct xf_blkback *be)
{
    for (unsigned i = 0; i < be->nq; i++)
        queue_teardown(be, &be->q[i]);
    for (unsigned i = 0; i < be->nleaked; i++)
        unmap_np(be, be->leaked[i]);
    be->nleaked = 0;
    be->nq = 0;
}

static void fatal(struct xf_blkback *be, const char *msg)
{
    char path[256];

    teardown_all(be);
    snprintf(be->st.last_error, sizeof(be->st.last_error), "%s", msg);
    snprintf(path, sizeof(path), "%s/error", be->be);
    (void)xf_xsd_write(be->xsd, path, msg, strlen(msg));
    be->st.fatal++;
    be->phase = BB_GONE;
    set_state(be, XenbusStateClosing);
}

static bool queue_connect(struct xf_blkback *be, struct bb_queue *q, const char *dir)
{
    unsigned long port, ref;
    char key[32];
    unsigned npages = 1u << be->order;
    int p;

    if (!xs_uint(be, dir, "event-channel", &port)) {
        fatal(be, "reading event-channel");
        return false;
    }
    for (unsigned i = 0; i < npages; i++) {
        int16_t status;
        void *va;

        if (be->order == 0)
            snprintf(key, sizeof(key), "ring-ref");
        else
            snprintf(key, sizeof(key), "ring-ref%u", i);
        if (!xs_uint(be, dir, key, &ref)) {
            fatal(be, "reading ring-ref");
            return false;
        }
        va = xf_sim_map_grant(be->sim, 0, be->guest, (grant_ref_t)ref, false, &q->ring_h[i],
                              &status);
        if (va == NULL) {
            fatal(be, "mapping ring-ref");
            return false;
        }
        q->npages++;
        if (npages == 1) {
            q->ring_va = va;
        } else {
            off_t off;
            int fd;

            if (i == 0) {
                q->ring_bytes = (size_t)npages * XF_PAGE_SIZE;
                q->ring_va = mmap(NULL, q->ring_bytes, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS,
                                  -1, 0);
                if (q->ring_va == MAP_FAILED)
                    bb_die("mmap");
                q->ring_mmapped = true;
            }
            fd = xf_sim_grant_backing(be->sim, 0, q->ring_h[i], &off);
            if (fd < 0 || mmap((uint8_t *)q->ring_va + (size_t)i * XF_PAGE_SIZE, XF_PAGE_SIZE,
                               PROT_READ | PROT_WRITE, MAP_SHARED | MAP_FIXED, fd, off) ==
                              MAP_FAILED)
                bb_die("mmap ring page");
        }
    }
    /* BACK_RING_ATTACH: blkback keeps the indices it finds. */
    if (xf_back_ring_attach(&q->ring, q->ring_va, (size_t)npages * XF_PAGE_SIZE,
                            XF_RING_SHAPE(blkif),
                            XF_READ_ONCE(((struct xf_generic_sring *)q->ring_va)->rsp_prod)) != 0)
        bb_die("ring attach");
    p = xf_sim_evtchn_bind_interdomain(be->sim, 0, be->guest, (evtchn_port_t)port);
    if (p <= 0) {
        fatal(be, "binding event-channel");
        return false;
    }
    q->port = (evtchn_port_t)p;
    {
        uint32_t n = xf_back_ring_size(&q->ring);

        q->pend = calloc(n, sizeof(*q->pend));
        q->pend_idx = calloc(n, sizeof(uint32_t));
        q->free_idx = calloc(n, sizeof(uint32_t));
        q->pc = calloc(BB_PCACHE, sizeof(*q->pc));
        if (!q->pend || !q->pend_idx || !q->free_idx || !q->pc)
            bb_die("calloc");
        for (uint32_t i = 0; i < n; i++)
            q->free_idx[i] = n - 1 - i;
        q->nfree = n;
    }
    return true;
}

/* connect_ring() and connect(). */
static void do_connect(struct xf_blkback *be)
{
    unsigned long nq = 1, order = 0, v;
    char proto[64];

    if (xs_read(be, be->fe, "protocol", proto, sizeof(proto)) == 0 &&
        strcmp(proto, XEN_IO_PROTO_ABI_NATIVE) != 0) {
        fatal(be, "unknown fe protocol");
        return;
    }
    if (xs_uint(be, be->fe, "multi-queue-num-queues", &v)) {
        unsigned long max = be->cfg.max_queues ? be->cfg.max_queues : 1;

        if (v == 0 || v > max || v > BB_MAX_QUEUES) {
            fatal(be, "invalid number of queues");
            return;
        }
        nq = v;
    }
    if (xs_uint(be, be->fe, "ring-page-order", &v)) {
        if (v > be->cfg.max_ring_order) {
            fatal(be, "requested ring page order exceeds max");
            return;
        }
        order = v;
    }
    be->order = (unsigned)order;
    be->persistent = be->cfg.persistent && xs_uint(be, be->fe, "feature-persistent", &v) &&
                     v != 0;
    be->nq = 0;
    for (unsigned i = 0; i < nq; i++) {
        char dir[200];

        if (nq == 1)
            snprintf(dir, sizeof(dir), "%s", be->fe);
        else
            snprintf(dir, sizeof(dir), "%s/queue-%u", be->fe, i);
        be->nq = i + 1;
        if (!queue_connect(be, &be->q[i], dir))
            return;
    }
    write_features(be);
    apply_keys(be);
    be->st.connects++;
    be->st.ring_order = be->order;
    be->st.queues = be->nq;
    be->st.persistent = be->persistent;
    be->phase = BB_CONNECTED;
    if (!be->cfg.never_connected)
        set_state(be, XenbusStateConnected);
}

/* Serve one queue: take requests, answer the batch in shuffled order. */
static bool serve(struct xf_blkback *be, struct bb_queue *q)
{
    struct blkif_request reqs[32];
    bool progress = false;
    int n;

    if (q->halted)
        return false;
    while (q->nfree > 0) {
        uint32_t max = q->nfree < 32 ? q->nfree : 32;

        n = XF_BACK_RING_GET_REQUESTS(&q->ring, blkif, reqs, max);
        if (n < 0) {
            /* RING_REQUEST_PROD_OVERFLOW: halt the ring until disconnect. */
            q->halted = true;
            be->st.halted++;
            return progress;
        }
        if (n == 0) {
            if (xf_back_ring_final_check(&q->ring) > 0)
                continue;
            break;
        }
        for (int i = 0; i < n; i++) {
            uint32_t idx = q->free_idx[--q->nfree];

            parse(be, q, &reqs[i], &q->pend[idx]);
            q->pend_idx[q->npend++] = idx;
        }
        progress = true;
    }
    /* Out of order: answer everything taken, shuffled. */
    for (uint32_t i = q->npend; i > 1; i--) {
        uint32_t j = bb_rand(be) % i, t = q->pend_idx[i - 1];

        q->pend_idx[i - 1] = q->pend_idx[j];
        q->pend_idx[j] = t;
    }
    for (uint32_t i = 0; i < q->npend; i++) {
        uint32_t idx = q->pend_idx[i];

        respond(be, q, &q->pend[idx]);
        q->free_idx[q->nfree++] = idx;
        progress = true;
    }
    q->npend = 0;
    if (q->overflow) {
        /* K7: rsp_prod a ring's worth beyond the requests, in place of the
         * honest push: one store, so the front end never sees the honest
         * index first (it would complete the request, then break). */
        q->overflow = false;
        STORE(&q->ring.sring->rsp_prod, q->ring.rsp_prod_pvt + xf_back_ring_size(&q->ring) + 1);
        (void)xf_sim_evtchn_send(be->sim, 0, q->port);
    } else if (progress && xf_back_ring_push(&q->ring) && !be->silent) {
        (void)xf_sim_evtchn_send(be->sim, 0, q->port);
    }
    return progress;
}

/* Leave with I/O in flight (xf_blkback_disconnect). */
static void go_away(struct xf_blkback *be)
{
    for (unsigned qi = 0; qi < be->nq; qi++) {
        struct bb_queue *q = &be->q[qi];
        struct blkif_request reqs[32];
        int n;

        while (!q->halted && q->nfree > 0 &&
               (n = XF_BACK_RING_GET_REQUESTS(&q->ring, blkif, reqs,
                                              q->nfree < 32 ? q->nfree : 32)) > 0) {
            for (int i = 0; i < n; i++) {
                uint32_t idx = q->free_idx[--q->nfree];

                parse(be, q, &reqs[i], &q->pend[idx]);
                q->pend_idx[q->npend++] = idx;
            }
        }
        for (uint32_t i = 0; i < q->npend; i++) {
            struct bb_pend *p = &q->pend[q->pend_idx[i]];

            if (bb_rand(be) % 100 < be->apply_pct)
                execute(be, p);           /* done, but the response is lost */
        }
    }
    teardown_all(be);
    be->phase = BB_GONE;
    set_state(be, XenbusStateClosing);
}

static void xs_step(struct xf_blkback *be)
{
    int fst = fe_state(be);

    switch (be->phase) {
    case BB_INITWAIT:
        if (fst == XenbusStateInitialised || fst == XenbusStateConnected)
            do_connect(be);
        else if (fst == XenbusStateClosed || fst == XenbusStateClosing) {
            be->phase = BB_CLOSED;
            set_state(be, XenbusStateClosed);
        }
        break;
    case BB_CONNECTED:
        if (fst == XenbusStateClosing && be->cfg.unmap_at_closed) {
            if (be->state != XenbusStateClosing)
                set_state(be, XenbusStateClosing);
        } else if (fst == XenbusStateClosing || fst == XenbusStateClosed) {
            teardown_all(be);
            be->phase = fst == XenbusStateClosed ? BB_CLOSED : BB_GONE;
            set_state(be, fst);
        }
        break;
    case BB_GONE:
        if (fst == XenbusStateClosed || fst == XenbusStateInitialising) {
            be->phase = BB_CLOSED;
            set_state(be, XenbusStateClosed);
        }
        break;
    case BB_CLOSED:
        /* frontend_changed(): Initialising after Closed, "prepare for
         * reconnect". */
        if (fst == XenbusStateInitialising)
            go_initwait(be);
        break;
    }
}

static void *bb_main(void *arg)
{
    struct xf_blkback *be = arg;
    uint64_t next_xs = 0;

    pthread_mutex_lock(&be->lock);
    go_initwait(be);
    while (!LOAD(&be->stop)) {
        bool progress = false;
        evtchn_port_t ports[BB_MAX_QUEUES];
        unsigned np = 0;
        uint64_t now = xf_plat_now_ns();

        if (be->disconnect_req && be->phase == BB_CONNECTED) {
            be->disconnect_req = 0;
            go_away(be);
        }
        if (be->resize_req && be->phase == BB_CONNECTED) {
            be->sectors = be->resize_req;
            be->resize_req = 0;
            xs_write(be, "sectors", "%llu", (unsigned long long)be->sectors);
            set_state(be, XenbusStateConnected);
        }
        if (be->storm_req && be->phase == BB_CONNECTED) {
            for (unsigned i = 0; i < be->storm_req; i++)
                for (unsigned qi = 0; qi < be->nq; qi++)
                    (void)xf_sim_evtchn_send(be->sim, 0, be->q[qi].port);
            be->storm_req = 0;
        }
        if (be->phase != BB_CONNECTED || now >= next_xs) {
            xs_step(be);
            next_xs = now + 1000000;
        }
        if (be->phase == BB_CONNECTED && !be->paused) {
            for (unsigned qi = 0; qi < be->nq; qi++) {
                progress |= serve(be, &be->q[qi]);
                ports[np++] = be->q[qi].port;
            }
        }
        if (progress)
            continue;
        pthread_mutex_unlock(&be->lock);
        if (np > 0)
            (void)xf_sim_evtchn_wait_any(be->sim, 0, ports, np, &be->stop,
                                         xf_plat_now_ns() + 1000000);
        else
            usleep(200);
        pthread_mutex_lock(&be->lock);
    }
    teardown_all(be);
    pthread_mutex_unlock(&be->lock);
    return NULL;
}

/* ------------------------------------------------------------------------
 * Control.
 */
static void fill_defaults(struct xf_blkback_config *c)
{
    if (c->sectors == 0)
        c->sectors = 8192;
    if (c->capacity_sectors < c->sectors)
        c->capacity_sectors = c->sectors;
    if (c->sector_size == 0)
        c->sector_size = 512;
    if (c->physical_sector_size == 0)
        c->physical_sector_size = c->sector_size;
    if (c->discard_granularity == 0)
        c->discard_granularity = c->sector_size;
    if (c->max_persistent == 0)
        c->max_persistent = 1056;
    if (c->seed == 0)
        c->seed = 1;
}

struct xf_blkback *xf_blkback_start(struct xf_sim *sim, struct xf_xsd *xsd, domid_t guest,
                                    const char *fe_dir, const char *be_dir,
                                    const struct xf_blkback_config *cfg)
{
    struct xf_blkback *be = calloc(1, sizeof(*be));

    if (be == NULL)
        return NULL;
    be->sim = sim;
    be->xsd = xsd;
    be->guest = guest;
    snprintf(be->fe, sizeof(be->fe), "%s", fe_dir);
    snprintf(be->be, sizeof(be->be), "%s", be_dir);
    if (cfg != NULL)
        be->cfg = *cfg;
    fill_defaults(&be->cfg);
    be->sectors = be->cfg.sectors;
    be->rnd = be->cfg.seed;
    for (unsigned i = 0; i < 8 && be->cfg.keys[i][0] != NULL; i++) {
        struct bb_key *k = &be->keys[be->nkeys++];

        snprintf(k->key, sizeof(k->key), "%s", be->cfg.keys[i][0]);
        snprintf(k->value, sizeof(k->value), "%s", be->cfg.keys[i][1] ? be->cfg.keys[i][1] : "");
        k->remove = be->cfg.keys[i][1] == NULL;
    }
    be->disk = calloc(be->cfg.capacity_sectors, 512);
    if (be->disk == NULL) {
        free(be);
        return NULL;
    }
    pthread_mutex_init(&be->lock, NULL);
    if (pthread_create(&be->thread, NULL, bb_main, be) != 0)
        bb_die("pthread_create");
    return be;
}

void xf_blkback_stop(struct xf_blkback *be)
{
    if (be == NULL)
        return;
    STORE(&be->stop, 1);
    xf_sim_kick(be->sim);
    pthread_join(be->thread, NULL);
    pthread_mutex_destroy(&be->lock);
    free(be->disk);
    free(be);
}

uint8_t *xf_blkback_disk(struct xf_blkback *be)
{
    return be->disk;
}

#define WITH_LOCK(be, stmt) do { pthread_mutex_lock(&(be)->lock); stmt; \
                                 pthread_mutex_unlock(&(be)->lock); xf_sim_kick((be)->sim); } while (0)

void xf_blkback_pause(struct xf_blkback *be, bool paused)
{
    WITH_LOCK(be, be->paused = paused);
}

void xf_blkback_silent(struct xf_blkback *be, bool silent)
{
    WITH_LOCK(be, be->silent = silent);
}

void xf_blkback_disconnect(struct xf_blkback *be, unsigned apply_pct)
{
    WITH_LOCK(be, (be->disconnect_req = 1, be->apply_pct = apply_pct));
}

void xf_blkback_reconfigure(struct xf_blkback *be, const struct xf_blkback_config *cfg)
{
    pthread_mutex_lock(&be->lock);
    be->next_cfg = *cfg;
    fill_defaults(&be->next_cfg);
    be->next_cfg.capacity_sectors = be->cfg.capacity_sectors;
    be->have_next = true;
    pthread_mutex_unlock(&be->lock);
}

void xf_blkback_resize(struct xf_blkback *be, uint64_t sectors)
{
    if (sectors > be->cfg.capacity_sectors)
        bb_die("resize beyond capacity");
    WITH_LOCK(be, be->resize_req = sectors);
}

void xf_blkback_storm(struct xf_blkback *be, unsigned n)
{
    WITH_LOCK(be, be->storm_req = n);
}

void xf_blkback_set_key(struct xf_blkback *be, const char *key, const char *value)
{
    pthread_mutex_lock(&be->lock);
    if (be->nkeys < BB_MAX_KEYS) {
        struct bb_key *k = &be->keys[be->nkeys++];

        snprintf(k->key, sizeof(k->key), "%s", key);
        snprintf(k->value, sizeof(k->value), "%s", value ? value : "");
        k->remove = value == NULL;
    }
    pthread_mutex_unlock(&be->lock);
}

void xf_blkback_clear_keys(struct xf_blkback *be)
{
    WITH_LOCK(be, be->nkeys = 0);
}

void xf_blkback_evil(struct xf_blkback *be, enum xf_blkback_evil mode, int arg, int op_filter,
                     unsigned count)
{
    WITH_LOCK(be, (be->evil = mode, be->evil_arg = arg, be->evil_op = op_filter,
                   be->evil_count = count));
}

void xf_blkback_set_apply_hook(struct xf_blkback *be, xf_blkback_apply_fn *fn, void *arg)
{
    WITH_LOCK(be, (be->apply_fn = fn, be->apply_arg = arg));
}

void xf_blkback_get_stats(struct xf_blkback *be, struct xf_blkback_stats *st)
{
    pthread_mutex_lock(&be->lock);
    *st = be->st;
    if (be->nq > 0 && be->q[0].ring.sring != NULL) {
        st->req_cons = be->q[0].ring.req_cons;
        st->req_prod = XF_READ_ONCE(be->q[0].ring.sring->req_prod);
    }
    pthread_mutex_unlock(&be->lock);
}

int xf_blkback_state(struct xf_blkback *be)
{
    int s;

    pthread_mutex_lock(&be->lock);
    s = be->state;
    pthread_mutex_unlock(&be->lock);
    return s;
}
