/*
 * fuzz_ring: the shared-ring consumers of common/ (xenfront/ring.h), front
 * and back, against a peer the fuzz input plays.
 *
 * The input picks a ring geometry and a side, then a sequence of steps,
 * each either a library call or a peer write (its producer index, any slot,
 * its event index, even the indices it does not own), so every
 * interleaving of the peer's writes with the consumer's reads is reachable.
 * A model of the ring (what was pushed, consumed, last validated) predicts
 * each call's result, and after each call the target checks:
 *  - the result is the model's (a valid producer index is taken, an
 *    invalid one breaks the ring, once broken always -XF_EPROTO);
 *  - the consumer index never passes the validated producer index, which
 *    never passes what can be outstanding;
 *  - a record handed out is exactly the slot's bytes at that moment, into
 *    a buffer of exactly the record size (ASan catches one byte more);
 *  - nothing in the shared pages changed but what the call may write
 *    (one request slot, the own producer index, the own event index);
 *  - push's notify decision is Xen's rule over the peer's event index;
 *  - the batch fast path (xf_front_ring_get_responses_sized, _poll,
 *    _req_slot/_produce, put_record, and the back end's mirrors) obeys the
 *    same model as the generic calls, copying each record once and exactly;
 *  - the response-id table beside the front ring (xenfront/idtable.h):
 *    every response's id is completed only if it names a published
 *    request, with that request's cookie; an unknown, duplicate or
 *    unpublished id is -XF_EPROTO and leaves the table as it was.
 */
#include "fz.h"
#include <xen/grant_table.h>
#include <xen/io/blkif.h>
#include <xen/io/netif.h>

#include <xenfront/errno.h>
#include <xenfront/ring.h>

#if __has_include(<xenfront/idtable.h>)
#include <xenfront/idtable.h>
#define FZ_HAVE_IDTABLE 1
#else
#define FZ_HAVE_IDTABLE 0
#endif

struct geom {
    uint32_t ent, req, rsp;
};

/* Entry geometries: tiny, asymmetric, blkif-like and netif-like. */
static const struct geom geoms[] = {
    { 8, 8, 8 }, { 12, 12, 8 }, { 16, 16, 4 }, { 112, 112, 16 },
    { 12, 12, 12 }, { 24, 24, 8 }, { 64, 40, 64 }, { 4000, 4000, 1 },
    { 12, 12, 4 },   /* netif tx exactly: the typed per-record consumer runs */
};

static unsigned char *page;      /* the shared ring */
static unsigned char *shadow;    /* what the page should hold */
static size_t bytes;

#define OFF(field) offsetof(struct xf_generic_sring, field)

static RING_IDX rd_idx(const unsigned char *p, size_t off)
{
    RING_IDX v;

    memcpy(&v, p + off, sizeof(v));
    return v;
}

static void peer_write(size_t off, const void *src, size_t n)
{
    memcpy(page + off, src, n);
    memcpy(shadow + off, src, n);
}

static void peer_write_idx(size_t off, RING_IDX v)
{
    peer_write(off, &v, sizeof(v));
}

/* The call may have changed [lo, hi) only: check, then accept it. */
static void expect_changed(size_t lo, size_t hi, const char *what)
{
    if (hi < lo)
        hi = lo;
    if (memcmp(page, shadow, lo) == 0 && memcmp(page + hi, shadow + hi, bytes - hi) == 0) {
        if (hi > lo)
            memcpy(shadow + lo, page + lo, hi - lo);
        return;
    }
    for (size_t i = 0; i < bytes; i++) {
        if (i >= lo && i < hi)
            continue;
        FZ_CHECK(page[i] == shadow[i], "%s wrote shared byte %zu outside [%zu,%zu)", what, i,
                 lo, hi);
    }
    if (hi > lo)
        memcpy(shadow + lo, page + lo, hi - lo);
}

static size_t slot_off(uint32_t nr, uint32_t ent, RING_IDX idx)
{
    return XF_RING_HDR_SIZE + (size_t)(idx & (nr - 1)) * ent;
}

/* A producer index as a hostile peer picks it: near the consumer, or any. */
static RING_IDX pick_idx(RING_IDX base)
{
    uint8_t how = fz_u8();

    if (how & 0x80)
        return fz_u32();
    return base + (RING_IDX)(int8_t)fz_u8();
}


/* ------------------------------------------------------------------------
 * The response-id table, as a front end keeps it beside its ring: each
 * request carries its id in its first bytes, the back end echoes it.
 */
#if FZ_HAVE_IDTABLE
#define NIDS 32u
static struct xf_idtable ids;
static struct xf_idtable_slot id_slots[NIDS];
static uint8_t id_model[NIDS];    /* enum xf_id_state, as the model sees it */
static void *id_cookie[NIDS];     /* the cookie each was allocated with */
static unsigned char cookies[NIDS * 4];
static unsigned cookie_seq;

static void *next_cookie(void)
{
    return &cookies[cookie_seq++ % sizeof(cookies)];
}

static uint32_t rec_id(const unsigned char *rec, uint32_t size)
{
    uint32_t v = 0;

    memcpy(&v, rec, size < 4 ? size : 4);
    return v;
}

static void ids_check(void)
{
    uint32_t nf = 0, np = 0;

    for (uint32_t i = 0; i < NIDS; i++) {
        FZ_CHECK(xf_idtable_state(&ids, i) == id_model[i], "id %u state %d, model %u", i,
                 (int)xf_idtable_state(&ids, i), id_model[i]);
        nf += id_model[i] == XF_ID_FREE;
        np += id_model[i] == XF_ID_PUBLISHED;
    }
    FZ_CHECK(xf_idtable_free(&ids) == nf && xf_idtable_published(&ids) == np,
             "id counts %u/%u, model %u/%u", xf_idtable_free(&ids), xf_idtable_published(&ids),
             nf, np);
}

/* A response came out of the ring: complete its id, as a driver would. */
static void ids_response(const unsigned char *rsp, uint32_t size)
{
    uint32_t id = rec_id(rsp, size);
    void *cookie = (void *)1;
    int rc = xf_idtable_complete(&ids, id, &cookie);

    if (id < NIDS && id_model[id] == XF_ID_PUBLISHED) {
        FZ_CHECK(rc == 0 && cookie == id_cookie[id], "complete of published id %u: %d", id, rc);
        id_model[id] = XF_ID_FREE;
    } else {
        FZ_CHECK(rc == -XF_EPROTO && cookie == (void *)1,
                 "complete of id %u (state %u) accepted: %d", id,
                 id < NIDS ? id_model[id] : 0, rc);
    }
    ids_check();
}

/* Other table steps: reserve, cancel, unpublish, publish, walk. */
static void ids_step(void)
{
    uint32_t id = fz_u8() % (NIDS + 2);
    int rc;

    switch (fz_u8() % 5) {
    case 0: { /* reserve one (a request being prepared) */
        void *c = next_cookie();
        int32_t got = xf_idtable_alloc(&ids, c);
        uint32_t nf = 0;

        for (uint32_t i = 0; i < NIDS; i++)
            nf += id_model[i] == XF_ID_FREE;
        if (nf == 0) {
            FZ_CHECK(got == -XF_ENOSPC, "alloc with none free: %d", got);
        } else {
            FZ_CHECK(got >= 0 && (uint32_t)got < NIDS && id_model[got] == XF_ID_FREE,
                     "alloc gave id %d", got);
            id_model[got] = XF_ID_RESERVED;
            id_cookie[got] = c;
        }
        break;
    }
    case 1:
        rc = xf_idtable_cancel(&ids, id);
        FZ_CHECK(rc == ((id < NIDS && id_model[id] == XF_ID_RESERVED) ? 0 : -XF_EINVAL),
                 "cancel %u: %d", id, rc);
        if (rc == 0)
            id_model[id] = XF_ID_FREE;
        break;
    case 2:
        rc = xf_idtable_unpublish(&ids, id);
        FZ_CHECK(rc == ((id < NIDS && id_model[id] == XF_ID_PUBLISHED) ? 0 : -XF_EINVAL),
                 "unpublish %u: %d", id, rc);
        if (rc == 0)
            id_model[id] = XF_ID_RESERVED;
        break;
    case 3:
        rc = xf_idtable_publish(&ids, id);
        FZ_CHECK(rc == ((id < NIDS && id_model[id] == XF_ID_RESERVED) ? 0 : -XF_EINVAL),
                 "publish %u: %d", id, rc);
        if (rc == 0)
            id_model[id] = XF_ID_PUBLISHED;
        break;
    default: {
        uint32_t mask = fz_u8() & 7, from = fz_u8() % (NIDS + 2);
        int32_t want = -XF_ENOENT;

        for (uint32_t i = from; i < NIDS; i++)
            if (mask & (1u << id_model[i])) {
                want = (int32_t)i;
                break;
            }
        FZ_CHECK(xf_idtable_next(&ids, from, mask) == want, "next(%u, %#x)", from, mask);
        break;
    }
    }
    ids_check();
}

/* A request to put: take an id for it and write the id in. false when
 * no id is free (the request is not made). */
static bool ids_request(unsigned char *req, uint32_t size)
{
    void *c = next_cookie();
    int32_t id = xf_idtable_alloc(&ids, c);

    if (id < 0)
        return false;
    FZ_CHECK(id_model[id] == XF_ID_FREE, "alloc gave id %d in state %u", id, id_model[id]);
    id_model[id] = XF_ID_RESERVED;
    id_cookie[id] = c;
    memcpy(req, &id, size < 4 ? size : 4);
    return true;
}

/* The request was put: publish its id. Undo if the put failed. */
static void ids_put(const unsigned char *req, uint32_t size, bool ok)
{
    uint32_t id = rec_id(req, size);

    if (size < 4 && id >= NIDS)
        return;
    if (ok) {
        FZ_CHECK(xf_idtable_publish(&ids, id) == 0, "publish %u", id);
        id_model[id] = XF_ID_PUBLISHED;
    } else {
        FZ_CHECK(xf_idtable_cancel(&ids, id) == 0, "cancel %u", id);
        id_model[id] = XF_ID_FREE;
    }
}

/* The peer answers a published request: its id in the slot. */
static void ids_answer(unsigned char *slotp, uint32_t size)
{
    uint32_t start = fz_u8() % NIDS;

    for (uint32_t k = 0; k < NIDS; k++) {
        uint32_t id = (start + k) % NIDS;

        if (id_model[id] == XF_ID_PUBLISHED) {
            memcpy(slotp, &id, size < 4 ? size : 4);
            return;
        }
    }
}
#else
static void ids_response(const unsigned char *rsp, uint32_t size) { (void)rsp; (void)size; }
static void ids_step(void) {}
static bool ids_request(unsigned char *req, uint32_t size) { (void)req; (void)size; return true; }
static void ids_put(const unsigned char *req, uint32_t size, bool ok) { (void)req; (void)size; (void)ok; }
static void ids_answer(unsigned char *slotp, uint32_t size) { (void)slotp; (void)size; }
#endif

/* ------------------------------------------------------------------------
 * Front end: we produce requests and consume responses.
 */
/* What a poll must answer, from the model: the peer's producer index as
 * the page holds it now, refused if it runs ahead of what can be
 * outstanding or behind the last validated snapshot (then *snap stays). */
static int front_poll_model(bool broken, RING_IDX pushed, RING_IDX cons, RING_IDX *snap)
{
    RING_IDX p = rd_idx(page, OFF(rsp_prod));

    if (broken || (RING_IDX)(p - cons) > (RING_IDX)(pushed - cons) ||
        (RING_IDX)(p - cons) < (RING_IDX)(*snap - cons))
        return -XF_EPROTO;
    *snap = p;
    return (int)(RING_IDX)(p - cons);
}

static int back_poll_model(bool broken, uint32_t nr, RING_IDX rprod, RING_IDX cons,
                           RING_IDX *snap)
{
    RING_IDX p = rd_idx(page, OFF(req_prod));

    if (broken || (RING_IDX)(p - rprod) > nr || (RING_IDX)(p - cons) > (RING_IDX)(p - rprod) ||
        (RING_IDX)(p - cons) < (RING_IDX)(*snap - cons))
        return -XF_EPROTO;
    *snap = p;
    return (int)(RING_IDX)(p - cons);
}

static void run_front(const struct geom *g)
{
    struct xf_front_ring r;
    struct xf_ring_shape shape = { g->ent, g->req, g->rsp };
    RING_IDX pushed, prod, cons, snap;   /* the model */
    bool broken = false;
    uint32_t nr;
    int rc;

    if (fz_bool()) {
        RING_IDX start = pick_idx(0);

        /* Attach: the shared indices are whatever the page holds. */
        peer_write_idx(OFF(req_prod), start);
        peer_write_idx(OFF(rsp_prod), start);
        rc = xf_front_ring_attach(&r, page, bytes, shape, start);
        FZ_CHECK(rc == 0, "attach: %d", rc);
        pushed = prod = cons = snap = start;
        expect_changed(0, 0, "attach");
    } else {
        rc = xf_front_ring_init(&r, page, bytes, shape);
        FZ_CHECK(rc == 0, "init: %d", rc);
        pushed = prod = cons = snap = 0;
        expect_changed(0, XF_RING_HDR_SIZE, "init");
        FZ_CHECK(rd_idx(page, OFF(req_prod)) == 0 && rd_idx(page, OFF(rsp_prod)) == 0 &&
                 rd_idx(page, OFF(rsp_event)) == 1 && rd_idx(page, OFF(req_event)) == 1,
                 "init left a non-empty ring");
    }
#if FZ_HAVE_IDTABLE
    FZ_CHECK(xf_idtable_init(&ids, id_slots, NIDS) == 0, "idtable_init");
    memset(id_model, 0, sizeof(id_model));
    memset(id_cookie, 0, sizeof(id_cookie));
#endif
    nr = xf_front_ring_size(&r);
    FZ_CHECK(nr == xf_ring_entries(bytes, g->ent) && nr != 0 && (nr & (nr - 1)) == 0,
             "ring size %u", nr);

    unsigned char *req = malloc(g->req);
    unsigned char *rsp = malloc(g->rsp);
    if (req == NULL || rsp == NULL)
        abort();

    for (unsigned step = 0; step < 4096 && !fz_eof(); step++) {
        uint8_t op = fz_u8() % 16;

        switch (op) {
        case 0: { /* put a request */
            fz_bytes(req, g->req);
            if (!ids_request(req, g->req))
                break;
            rc = xf_front_ring_put_request(&r, req);
            ids_put(req, g->req, rc == 0);
            if (broken) {
                FZ_CHECK(rc == -XF_EPROTO, "put on a broken ring: %d", rc);
                expect_changed(0, 0, "put (broken)");
            } else if (prod - cons == nr) {
                FZ_CHECK(rc == -XF_ENOSPC, "put on a full ring: %d", rc);
                expect_changed(0, 0, "put (full)");
            } else {
                size_t o = slot_off(nr, g->ent, prod);

                FZ_CHECK(rc == 0, "put: %d", rc);
                expect_changed(o, o + g->req, "put");
                FZ_CHECK(memcmp(page + o, req, g->req) == 0, "put: slot differs");
                prod++;
            }
            break;
        }
        case 1: { /* push */
            RING_IDX ev = rd_idx(page, OFF(req_event));
            bool want = (RING_IDX)(prod - ev) < (RING_IDX)(prod - pushed);
            bool got = xf_front_ring_push(&r);

            if (!broken) {
                FZ_CHECK(got == want, "push notify %d, Xen's rule says %d", got, want);
                FZ_CHECK(rd_idx(page, OFF(req_prod)) == prod, "req_prod not published");
                pushed = prod;
            }
            expect_changed(OFF(req_prod), OFF(req_prod) + sizeof(RING_IDX), "push");
            break;
        }
        case 2: case 3: { /* take a response */
            RING_IDX p = rd_idx(page, OFF(rsp_prod));
            int want;
            size_t o = slot_off(nr, g->ent, cons);
            unsigned char before[4096];

            memcpy(before, page + o, g->rsp);
            memset(rsp, 0xa5, g->rsp);
            rc = xf_front_ring_get_response(&r, rsp);
            if (broken) {
                want = -XF_EPROTO;
            } else if (cons != snap) {
                want = 1;
            } else if ((RING_IDX)(p - cons) > (RING_IDX)(pushed - cons)) {
                want = -XF_EPROTO;
            } else {
                snap = p;
                want = p != cons;
            }
            FZ_CHECK(rc == want, "get_response %d, model %d (rsp_prod %u cons %u pushed %u)",
                     rc, want, p, cons, pushed);
            if (rc == 1) {
                FZ_CHECK(memcmp(rsp, before, g->rsp) == 0, "response differs from its slot");
                cons++;
                ids_response(rsp, g->rsp);
            } else {
                for (uint32_t i = 0; i < g->rsp; i++)
                    FZ_CHECK(rsp[i] == 0xa5, "buffer written without a response");
            }
            if (rc == -XF_EPROTO)
                broken = true;
            expect_changed(0, 0, "get_response");
            break;
        }
        case 4: { /* final check */
            RING_IDX p = rd_idx(page, OFF(rsp_prod));
            int want;
            bool writes = false;

            rc = xf_front_ring_final_check(&r);
            if (broken) {
                want = -XF_EPROTO;
            } else if ((RING_IDX)(p - cons) > (RING_IDX)(pushed - cons) ||
                       (RING_IDX)(p - cons) < (RING_IDX)(snap - cons)) {
                want = -XF_EPROTO;
            } else {
                snap = p;
                want = (int)(RING_IDX)(p - cons);
                writes = want == 0;
            }
            FZ_CHECK(rc == want, "final_check %d, model %d", rc, want);
            if (rc == -XF_EPROTO)
                broken = true;
            if (writes) {
                expect_changed(OFF(rsp_event), OFF(rsp_event) + sizeof(RING_IDX),
                               "final_check");
                FZ_CHECK(rd_idx(page, OFF(rsp_event)) == cons + 1, "rsp_event not re-armed");
            } else {
                expect_changed(0, 0, "final_check");
            }
            break;
        }
        case 5: /* peer: its producer index */
            peer_write_idx(OFF(rsp_prod), pick_idx(cons));
            break;
        case 6: { /* peer: a response slot (or any slot), often with a live id */
            unsigned char buf[4096];
            RING_IDX at = cons + fz_u8() % 4;

            fz_bytes(buf, g->ent);
            if (buf[0] & 1)
                ids_answer(buf, g->rsp);
            peer_write(slot_off(nr, g->ent, at), buf, g->ent);
            break;
        }
        case 7: /* peer: its event index */
            peer_write_idx(OFF(req_event), pick_idx(prod));
            break;
        case 8: /* peer: scribbles on the indices it does not own */
            peer_write_idx(fz_bool() ? OFF(req_prod) : OFF(rsp_event), fz_u32());
            break;
        case 10: { /* poll */
            int want = front_poll_model(broken, pushed, cons, &snap);

            rc = xf_front_ring_poll(&r);
            FZ_CHECK(rc == want, "poll %d, model %d", rc, want);
            if (rc < 0)
                broken = true;
            expect_changed(0, 0, "poll");
            break;
        }
        case 11: { /* take a batch */
            uint32_t max = fz_u8() % 40;
            uint8_t how = fz_u8();
            size_t len = how & 0x80 ? 1 + how % g->rsp : g->rsp;
            size_t ent = how == 0x7f ? g->ent + 4 : g->ent;
            unsigned char *dst = malloc(len * (max ? max : 1));
            unsigned char before[64][4096 / 64];
            int want;
            uint32_t n = 0;

            if (dst == NULL)
                abort();
            if (len > sizeof(before[0]))
                len = sizeof(before[0]);
            if (cons == snap && !broken) {
                RING_IDX p = rd_idx(page, OFF(rsp_prod));

                if ((RING_IDX)(p - cons) > (RING_IDX)(pushed - cons))
                    want = -XF_EPROTO;
                else
                    snap = p, want = 1;
            } else {
                want = broken ? -XF_EPROTO : 1;
            }
            if (want == 1) {
                n = (uint32_t)(snap - cons);
                if (n == 0)
                    want = 0;
                else if (ent != g->ent || len > g->rsp)
                    want = -XF_EINVAL;
                else
                    want = (int)(n = n < max ? n : max);
            }
            for (uint32_t i = 0; i < n && i < 64 && want > 0; i++)
                memcpy(before[i], page + slot_off(nr, g->ent, cons + i), len);
            rc = xf_front_ring_get_responses_sized(&r, dst, max, len, ent);
            FZ_CHECK(rc == want, "get_responses(max %u, len %zu) %d, model %d", max, len, rc,
                     want);
            if (rc == -XF_EPROTO)
                broken = true;
            for (int i = 0; i < rc; i++) {
                if (i < 64)
                    FZ_CHECK(memcmp(dst + (size_t)i * len, before[i], len) == 0,
                             "batch response %d differs from its slot", i);
                if (len == g->rsp)
                    ids_response(dst + (size_t)i * len, g->rsp);
            }
            if (rc > 0)
                cons += (uint32_t)rc;
            expect_changed(0, 0, "get_responses");
            free(dst);
            break;
        }
        case 12: { /* build a batch in place, then produce it */
            uint32_t want = fz_u8() % 8, k = 0;

            if (broken)
                break;
            for (; k < want && k < xf_front_ring_free(&r); k++) {
                unsigned char *s = xf_front_ring_req_slot(&r, k);
                size_t o = slot_off(nr, g->ent, prod + k);

                FZ_CHECK(s == page + o, "req_slot %u at the wrong place", k);
                fz_bytes(req, g->req);
                if (!ids_request(req, g->req))
                    break;
                /* Our own writes into the slot we were given. */
                memcpy(s, req, g->req);
                memcpy(shadow + o, req, g->req);
                ids_put(req, g->req, true);
            }
            xf_front_ring_produce(&r, k);
            expect_changed(0, 0, "produce");
            prod += k;
            break;
        }
        case 13: { /* a short record */
            size_t len = fz_u8() % (g->req + 2);
            int want;

            fz_bytes(req, g->req);
            if (len >= 4 && !ids_request(req, g->req))
                break;
            rc = xf_front_ring_put_record(&r, req, len);
            if (broken)
                want = -XF_EPROTO;
            else if (len == 0 || len > g->req)
                want = -XF_EINVAL;
            else if (prod - cons == nr)
                want = -XF_ENOSPC;
            else
                want = 0;
            FZ_CHECK(rc == want || (want != 0 && rc < 0), "put_record(%zu) %d, model %d", len,
                     rc, want);
            if (len >= 4)
                ids_put(req, g->req, rc == 0);
            if (rc == 0) {
                size_t o = slot_off(nr, g->ent, prod);

                FZ_CHECK(memcmp(page + o, req, len) == 0, "record bytes");
                for (size_t i = len; i < g->req; i++)
                    FZ_CHECK(page[o + i] == 0, "record slot not zeroed after %zu bytes", len);
                expect_changed(o, o + g->ent, "put_record");
                prod++;
            } else {
                expect_changed(0, 0, "put_record (refused)");
            }
            break;
        }
        case 15: { /* the typed per-record consumer: POLL, COPY, consume */
            int want = g->ent != sizeof(union netif_tx_sring_entry)
                       ? -XF_EINVAL               /* typed for another ring */
                       : front_poll_model(broken, pushed, cons, &snap);

            rc = XF_FRONT_RING_POLL(&r, netif_tx);
            FZ_CHECK(rc == want, "typed poll %d, model %d", rc, want);
            if (rc == -XF_EPROTO)
                broken = true;
            if (rc > 0) {
                uint32_t k = fz_u8() % ((uint32_t)rc + 1);

                for (uint32_t i = 0; i < k; i++) {
                    struct netif_tx_response one;

                    XF_FRONT_RING_COPY_RESPONSE(&r, netif_tx, i, &one);
                    FZ_CHECK(memcmp(&one, page + slot_off(nr, g->ent, cons + i),
                                    sizeof(one)) == 0, "copied response %u differs", i);
                    if (g->rsp == sizeof(one))
                        ids_response((const unsigned char *)&one, sizeof(one));
                }
                xf_front_ring_consume(&r, k);
                cons += k;
            }
            expect_changed(0, 0, "typed consumer");
            break;
        }
        case 14:
            ids_step();
            break;
        case 9: { /* counters agree with the model */
            FZ_CHECK(xf_front_ring_outstanding(&r) == (uint32_t)(prod - cons) || broken,
                     "outstanding %u, model %u", xf_front_ring_outstanding(&r), prod - cons);
            FZ_CHECK(xf_front_ring_free(&r) == nr - (uint32_t)(prod - cons) || broken,
                     "free");
            FZ_CHECK(xf_front_ring_error(&r) == (broken ? -XF_EPROTO : 0), "error %d",
                     xf_front_ring_error(&r));
            break;
        }
        }
        /* Whatever happened: consumer <= validated producer <= pushed. */
        FZ_CHECK((RING_IDX)(r.rsp_avail - r.rsp_cons) <= (RING_IDX)(r.req_pushed - r.rsp_cons),
                 "validated rsp_prod %u beyond pushed %u (cons %u)", r.rsp_avail,
                 r.req_pushed, r.rsp_cons);
        FZ_CHECK((RING_IDX)(r.req_prod_pvt - r.rsp_cons) <= nr, "more outstanding than slots");
        FZ_CHECK(broken || (r.rsp_cons == cons && r.rsp_avail == snap && r.req_pushed == pushed),
                 "context diverged from the model");
    }
    free(req);
    free(rsp);
}

/* ------------------------------------------------------------------------
 * Back end: we consume requests and produce responses.
 */
static void run_back(const struct geom *g)
{
    struct xf_back_ring r;
    struct xf_ring_shape shape = { g->ent, g->req, g->rsp };
    RING_IDX rprod, rpushed, cons, snap;   /* the model */
    bool broken = false;
    uint32_t nr;
    int rc;
    RING_IDX start = fz_bool() ? pick_idx(0) : 0;

    peer_write_idx(OFF(req_prod), start);
    peer_write_idx(OFF(rsp_prod), start);
    rc = xf_back_ring_attach(&r, page, bytes, shape, start);
    FZ_CHECK(rc == 0, "attach: %d", rc);
    expect_changed(0, 0, "attach");
    rprod = rpushed = cons = snap = start;
    nr = xf_back_ring_size(&r);

    unsigned char *req = malloc(g->req);
    unsigned char *rsp = malloc(g->rsp);
    if (req == NULL || rsp == NULL)
        abort();

    for (unsigned step = 0; step < 4096 && !fz_eof(); step++) {
        uint8_t op = fz_u8() % 14;

        switch (op) {
        case 0: case 1: { /* take a request */
            RING_IDX p = rd_idx(page, OFF(req_prod));
            int want;
            size_t o = slot_off(nr, g->ent, cons);
            unsigned char before[4096];

            memcpy(before, page + o, g->req);
            memset(req, 0x5a, g->req);
            rc = xf_back_ring_get_request(&r, req);
            if (broken) {
                want = -XF_EPROTO;
            } else if (cons != snap) {
                want = 1;
            } else if ((RING_IDX)(p - rprod) > nr ||
                       (RING_IDX)(p - cons) > (RING_IDX)(p - rprod)) {
                want = -XF_EPROTO;
            } else {
                snap = p;
                want = p != cons;
            }
            FZ_CHECK(rc == want, "get_request %d, model %d (req_prod %u cons %u rsp %u)", rc,
                     want, p, cons, rprod);
            if (rc == 1) {
                FZ_CHECK(memcmp(req, before, g->req) == 0, "request differs from its slot");
                cons++;
            } else {
                for (uint32_t i = 0; i < g->req; i++)
                    FZ_CHECK(req[i] == 0x5a, "buffer written without a request");
            }
            if (rc == -XF_EPROTO)
                broken = true;
            expect_changed(0, 0, "get_request");
            break;
        }
        case 2: { /* put a response */
            fz_bytes(rsp, g->rsp);
            rc = xf_back_ring_put_response(&r, rsp);
            if (broken) {
                FZ_CHECK(rc == -XF_EPROTO, "put on a broken ring: %d", rc);
                expect_changed(0, 0, "put (broken)");
            } else if (rprod == cons) {
                FZ_CHECK(rc == -XF_ENOSPC, "response without a request: %d", rc);
                expect_changed(0, 0, "put (none)");
            } else {
                size_t o = slot_off(nr, g->ent, rprod);

                FZ_CHECK(rc == 0, "put_response: %d", rc);
                expect_changed(o, o + g->rsp, "put_response");
                rprod++;
            }
            break;
        }
        case 3: { /* push */
            RING_IDX ev = rd_idx(page, OFF(rsp_event));
            bool want = (RING_IDX)(rprod - ev) < (RING_IDX)(rprod - rpushed);
            bool got = xf_back_ring_push(&r);

            if (!broken) {
                FZ_CHECK(got == want, "push notify %d, rule %d", got, want);
                rpushed = rprod;
            }
            expect_changed(OFF(rsp_prod), OFF(rsp_prod) + sizeof(RING_IDX), "push");
            break;
        }
        case 4: { /* final check */
            RING_IDX p = rd_idx(page, OFF(req_prod));
            int want;
            bool writes = false;

            rc = xf_back_ring_final_check(&r);
            if (broken) {
                want = -XF_EPROTO;
            } else if ((RING_IDX)(p - rprod) > nr ||
                       (RING_IDX)(p - cons) > (RING_IDX)(p - rprod) ||
                       (RING_IDX)(p - cons) < (RING_IDX)(snap - cons)) {
                want = -XF_EPROTO;
            } else {
                snap = p;
                want = (int)(RING_IDX)(p - cons);
                writes = want == 0;
            }
            FZ_CHECK(rc == want, "final_check %d, model %d", rc, want);
            if (rc == -XF_EPROTO)
                broken = true;
            if (writes)
                expect_changed(OFF(req_event), OFF(req_event) + sizeof(RING_IDX),
                               "final_check");
            else
                expect_changed(0, 0, "final_check");
            break;
        }
        case 5: /* peer: its producer index */
            peer_write_idx(OFF(req_prod), pick_idx(cons));
            break;
        case 6: { /* peer: a slot */
            unsigned char buf[4096];
            RING_IDX at = cons + fz_u8();

            fz_bytes(buf, g->ent);
            peer_write(slot_off(nr, g->ent, at), buf, g->ent);
            break;
        }
        case 7: /* peer: its event index */
            peer_write_idx(OFF(rsp_event), pick_idx(rprod));
            break;
        case 8: /* peer: scribbles on ours */
            peer_write_idx(fz_bool() ? OFF(rsp_prod) : OFF(req_event), fz_u32());
            break;
        case 9: { /* poll */
            int want = back_poll_model(broken, nr, rprod, cons, &snap);

            rc = xf_back_ring_poll(&r);
            FZ_CHECK(rc == want, "back poll %d, model %d", rc, want);
            if (rc < 0)
                broken = true;
            expect_changed(0, 0, "back poll");
            break;
        }
        case 10: { /* take a batch of requests */
            uint32_t max = fz_u8() % 40, n = 0;
            uint8_t how = fz_u8();
            size_t len = how & 0x80 ? 1 + how % g->req : g->req;
            size_t ent = how == 0x7f ? g->ent + 4 : g->ent;
            unsigned char *dst;
            static unsigned char before[64][128];
            int want;

            if (len > sizeof(before[0]))
                len = sizeof(before[0]);
            dst = malloc(len * (max ? max : 1));
            if (dst == NULL)
                abort();
            if (cons == snap && !broken) {
                RING_IDX p = rd_idx(page, OFF(req_prod));

                if ((RING_IDX)(p - rprod) > nr || (RING_IDX)(p - cons) > (RING_IDX)(p - rprod))
                    want = -XF_EPROTO;
                else
                    snap = p, want = 1;
            } else {
                want = broken ? -XF_EPROTO : 1;
            }
            if (want == 1) {
                n = (uint32_t)(snap - cons);
                if (n == 0)
                    want = 0;
                else if (ent != g->ent || len > g->req)
                    want = -XF_EINVAL;
                else
                    want = (int)(n = n < max ? n : max);
            }
            for (uint32_t i = 0; i < n && i < 64 && want > 0; i++)
                memcpy(before[i], page + slot_off(nr, g->ent, cons + i), len);
            rc = xf_back_ring_get_requests_sized(&r, dst, max, len, ent);
            FZ_CHECK(rc == want, "get_requests(max %u, len %zu) %d, model %d", max, len, rc,
                     want);
            if (rc == -XF_EPROTO)
                broken = true;
            for (int i = 0; i < rc && i < 64; i++)
                FZ_CHECK(memcmp(dst + (size_t)i * len, before[i], len) == 0,
                         "batch request %d differs from its slot", i);
            if (rc > 0)
                cons += (uint32_t)rc;
            expect_changed(0, 0, "get_requests");
            free(dst);
            break;
        }
        case 13: { /* the typed per-record consumer (blkif slots), answered in place */
            int want = g->ent != sizeof(union blkif_sring_entry)
                       ? -XF_EINVAL
                       : back_poll_model(broken, nr, rprod, cons, &snap);

            rc = XF_BACK_RING_POLL(&r, blkif);
            FZ_CHECK(rc == want, "typed back poll %d, model %d", rc, want);
            if (rc == -XF_EPROTO)
                broken = true;
            if (rc > 0) {
                uint32_t k = fz_u8() % ((uint32_t)rc + 1);

                for (uint32_t i = 0; i < k; i++) {
                    struct blkif_request q;

                    XF_BACK_RING_COPY_REQUEST(&r, blkif, i, &q);
                    FZ_CHECK(memcmp(&q, page + slot_off(nr, g->ent, cons + i), sizeof(q)) == 0,
                             "copied request %u differs", i);
                }
                xf_back_ring_consume(&r, k);
                cons += k;
            }
            expect_changed(0, 0, "typed back consumer");
            break;
        }
        case 11: { /* responses in place, then produce */
            uint32_t k = 0, want = fz_u8() % 8;

            if (broken)
                break;
            FZ_CHECK(xf_back_ring_owed(&r) == (uint32_t)(cons - rprod), "owed %u, model %u",
                     xf_back_ring_owed(&r), cons - rprod);
            for (; k < want && k < xf_back_ring_owed(&r); k++) {
                unsigned char *s = xf_back_ring_rsp_slot(&r, k);
                size_t o = slot_off(nr, g->ent, rprod + k);

                FZ_CHECK(s == page + o, "rsp_slot %u at the wrong place", k);
                fz_bytes(rsp, g->rsp);
                memcpy(s, rsp, g->rsp);
                memcpy(shadow + o, rsp, g->rsp);
            }
            xf_back_ring_produce(&r, k);
            rprod += k;
            expect_changed(0, 0, "back produce");
            break;
        }
        case 12: { /* a short response */
            size_t len = fz_u8() % (g->rsp + 2);
            int want;

            fz_bytes(rsp, g->rsp);
            rc = xf_back_ring_put_record(&r, rsp, len);
            if (broken)
                want = -XF_EPROTO;
            else if (len == 0 || len > g->rsp)
                want = -XF_EINVAL;
            else if (rprod == cons)
                want = -XF_ENOSPC;
            else
                want = 0;
            FZ_CHECK(rc == want || (want != 0 && rc < 0), "back put_record(%zu) %d, model %d",
                     len, rc, want);
            if (rc == 0) {
                size_t o = slot_off(nr, g->ent, rprod);

                FZ_CHECK(memcmp(page + o, rsp, len) == 0, "record bytes");
                for (size_t i = len; i < g->rsp; i++)
                    FZ_CHECK(page[o + i] == 0, "response slot not zeroed after %zu bytes", len);
                expect_changed(o, o + g->ent, "back put_record");
                rprod++;
            } else {
                expect_changed(0, 0, "back put_record (refused)");
            }
            break;
        }
        }
        FZ_CHECK((RING_IDX)(r.req_cons - r.rsp_prod_pvt) <= nr, "answered more than taken");
        FZ_CHECK((RING_IDX)(r.req_avail - r.req_cons) <= nr, "validated req_prod too far");
        FZ_CHECK(broken || (r.req_cons == cons && r.req_avail == snap &&
                            r.rsp_prod_pvt == rprod),
                 "context diverged from the model");
    }
    free(req);
    free(rsp);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    uint8_t sel;
    const struct geom *g;

    fz_log_init();
    fz_start(data, size);
    fz_plat_reset();
    sel = fz_u8();
    g = &geoms[sel % XF_ARRAY_SIZE(geoms)];
    bytes = (size_t)XF_PAGE_SIZE << ((sel >> 3) & 1);
    page = aligned_alloc(XF_PAGE_SIZE, bytes);
    shadow = malloc(bytes);
    if (page == NULL || shadow == NULL)
        abort();
    /* Whatever the peer left there before. */
    for (size_t i = 0; i < bytes; i++)
        page[i] = (unsigned char)(i * 131u + sel);
    memcpy(shadow, page, bytes);
    if (sel & 0x10)
        run_back(g);
    else
        run_front(g);
    free(page);
    free(shadow);
    return 0;
}
