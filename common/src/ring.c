/*
 * The hardened shared-ring layer. See xenfront/ring.h for the contract.
 *
 * Every shared index is read with XF_READ_ONCE into a local, checked, and
 * only the local is used afterwards. Barriers sit exactly where Xen's
 * io/ring.h macros put them; the comments say which reordering each stops.
 */
#include <xenfront/ring.h>
#include <xenfront/errno.h>
#include <xenfront/platform.h>

uint32_t xf_ring_entries(size_t bytes, uint32_t ent_size)
{
    size_t pages = bytes / XF_PAGE_SIZE;
    size_t n;
    uint32_t p2;

    if (ent_size == 0 || bytes % XF_PAGE_SIZE != 0 || pages == 0 ||
        (pages & (pages - 1)) != 0 || pages > ((size_t)1 << XF_RING_MAX_ORDER))
        return 0;
    n = (bytes - XF_RING_HDR_SIZE) / ent_size;
    if (n == 0)
        return 0;
    /* Round down to a power of two, as __RD32 does. */
    p2 = 1;
    while ((size_t)p2 * 2 <= n && p2 < 0x80000000u)
        p2 *= 2;
    return p2;
}

static int ring_setup(struct xf_generic_sring **sring, unsigned char **ents,
                      uint32_t *nr_ents, struct xf_ring_shape *dst,
                      void *shared, size_t bytes, struct xf_ring_shape shape)
{
    uint32_t n;

    if (shared == NULL || ((uintptr_t)shared & (XF_PAGE_SIZE - 1)) != 0)
        return -XF_EINVAL;
    if (shape.req_size == 0 || shape.rsp_size == 0 ||
        shape.req_size > shape.ent_size || shape.rsp_size > shape.ent_size)
        return -XF_EINVAL;
    n = xf_ring_entries(bytes, shape.ent_size);
    if (n == 0)
        return -XF_EINVAL;
    *sring = (struct xf_generic_sring *)shared;
    *ents = (unsigned char *)shared + XF_RING_HDR_SIZE;
    *nr_ents = n;
    *dst = shape;
    return 0;
}

static inline volatile void *slot(unsigned char *ents, uint32_t nr_ents,
                                  uint32_t ent_size, RING_IDX idx)
{
    return ents + (size_t)(idx & (nr_ents - 1)) * ent_size;
}

/* ---------------------------------------------------------------- front */

int xf_front_ring_attach(struct xf_front_ring *r, void *shared, size_t bytes,
                         struct xf_ring_shape shape, RING_IDX start)
{
    int rc;

    if (r == NULL)
        return -XF_EINVAL;
    memset(r, 0, sizeof(*r));
    rc = ring_setup(&r->sring, &r->ents, &r->nr_ents, &r->shape, shared,
                    bytes, shape);
    if (rc != 0)
        return rc;
    r->req_prod_pvt = start;
    r->req_pushed = start;
    r->rsp_cons = start;
    r->rsp_avail = start;
    return 0;
}

int xf_front_ring_init(struct xf_front_ring *r, void *shared, size_t bytes,
                       struct xf_ring_shape shape)
{
    int rc = xf_front_ring_attach(r, shared, bytes, shape, 0);
    struct xf_generic_sring *s;

    if (rc != 0)
        return rc;
    /* SHARED_RING_INIT. The back end is not attached yet: plain stores. */
    s = r->sring;
    s->req_prod = 0;
    s->rsp_prod = 0;
    s->req_event = 1;
    s->rsp_event = 1;
    memset(&s->pvt, 0, sizeof(s->pvt));
    memset(s->__pad, 0, sizeof(s->__pad));
    return 0;
}

int xf_front_ring_put_request(struct xf_front_ring *r, const void *req)
{
    if (XF_UNLIKELY(r->error))
        return r->error;
    if (xf_front_ring_free(r) == 0)
        return -XF_ENOSPC;
    xf_copy_to_shared(slot(r->ents, r->nr_ents, r->shape.ent_size, r->req_prod_pvt),
                      req, r->shape.req_size);
    r->req_prod_pvt++;
    return 0;
}

/* Copy len bytes of a record into a slot of ent_size and zero the rest. */
static void put_short(volatile void *slotp, uint32_t ent_size, const void *rec, size_t len)
{
    static const unsigned char zeros[64];
    volatile unsigned char *d = (volatile unsigned char *)slotp;

    xf_copy_to_shared(d, rec, len);
    for (size_t off = len; off < ent_size;) {
        size_t k = ent_size - off < sizeof(zeros) ? ent_size - off : sizeof(zeros);

        xf_copy_to_shared(d + off, zeros, k);
        off += k;
    }
}

int xf_front_ring_put_record(struct xf_front_ring *r, const void *rec, size_t len)
{
    if (XF_UNLIKELY(r->error))
        return r->error;
    if (rec == NULL || len == 0 || len > r->shape.req_size)
        return -XF_EINVAL;
    if (xf_front_ring_free(r) == 0)
        return -XF_ENOSPC;
    put_short(slot(r->ents, r->nr_ents, r->shape.ent_size, r->req_prod_pvt),
              r->shape.ent_size, rec, len);
    r->req_prod_pvt++;
    return 0;
}

int xf_front_ring__broken(struct xf_front_ring *r, RING_IDX prod)
{
    /* A response answers a pushed request: there can never be more unread
     * responses than requests pushed and not yet answered. Anything else is
     * a back end writing garbage (or replaying), and consuming it would hand
     * the driver stale or foreign slots. A producer index is also monotonic:
     * one below the snapshot already taken means the back end went back. */
    r->error = -XF_EPROTO;
    xf_log(XF_LOG_WARN, "ring %p: back end rsp_prod %u out of range "
           "(requests pushed %u, responses seen %u, consumed %u)",
           (void *)r->sring, prod, r->req_pushed, r->rsp_avail, r->rsp_cons);
    return r->error;
}

static int front_refresh(struct xf_front_ring *r)
{
    return xf_front_ring_poll(r);
}

int xf_front_ring_get_response(struct xf_front_ring *r, void *rsp)
{
    if (XF_UNLIKELY(r->error))
        return r->error;
    if (r->rsp_cons == r->rsp_avail) {
        int rc = front_refresh(r);
        if (rc <= 0)
            return rc;
    }
    xf_copy_from_shared(rsp, slot(r->ents, r->nr_ents, r->shape.ent_size, r->rsp_cons),
                        r->shape.rsp_size);
    r->rsp_cons++;
    return 1;
}

int xf_front_ring_final_check(struct xf_front_ring *r)
{
    return xf_front_ring_final_check_ahead(r, 1);
}

int xf_front_ring_final_check_ahead(struct xf_front_ring *r, uint32_t ahead)
{
    int rc;

    if (XF_UNLIKELY(r->error))
        return r->error;
    /* Like Xen's macro, count from a fresh rsp_prod even when responses are
     * still pending from the last snapshot: the result is what is available
     * now, not what was available at the last refresh. */
    rc = front_refresh(r);
    if (rc != 0)
        return rc;
    XF_WRITE_ONCE(r->sring->rsp_event, r->rsp_cons + (ahead > 0 ? ahead : 1));
    /* The back end must see rsp_event before we look at rsp_prod again:
     * a response produced in between is then either seen here or notified. */
    XF_MB();
    return front_refresh(r);
}

/* ----------------------------------------------------------------- back */

int xf_back_ring_attach(struct xf_back_ring *r, void *shared, size_t bytes,
                        struct xf_ring_shape shape, RING_IDX start)
{
    int rc;

    if (r == NULL)
        return -XF_EINVAL;
    memset(r, 0, sizeof(*r));
    rc = ring_setup(&r->sring, &r->ents, &r->nr_ents, &r->shape, shared,
                    bytes, shape);
    if (rc != 0)
        return rc;
    r->rsp_prod_pvt = start;
    r->rsp_pushed = start;
    r->req_cons = start;
    r->req_avail = start;
    return 0;
}

int xf_back_ring_init(struct xf_back_ring *r, void *shared, size_t bytes,
                      struct xf_ring_shape shape)
{
    return xf_back_ring_attach(r, shared, bytes, shape, 0);
}

int xf_back_ring__broken(struct xf_back_ring *r, RING_IDX prod)
{
    /* At most nr_ents requests can be unanswered (RING_REQUEST_PROD_OVERFLOW);
     * a larger count means the front end overwrote slots we have yet to
     * answer, or the index is garbage. */
    r->error = -XF_EPROTO;
    xf_log(XF_LOG_WARN, "ring %p: front end req_prod %u out of range "
           "(responses produced %u, requests seen %u, consumed %u)",
           (void *)r->sring, prod, r->rsp_prod_pvt, r->req_avail, r->req_cons);
    return r->error;
}

static int back_refresh(struct xf_back_ring *r)
{
    return xf_back_ring_poll(r);
}

int xf_back_ring_get_request(struct xf_back_ring *r, void *req)
{
    if (XF_UNLIKELY(r->error))
        return r->error;
    if (r->req_cons == r->req_avail) {
        int rc = back_refresh(r);
        if (rc <= 0)
            return rc;
    }
    xf_copy_from_shared(req, slot(r->ents, r->nr_ents, r->shape.ent_size, r->req_cons),
                        r->shape.req_size);
    r->req_cons++;
    return 1;
}

int xf_back_ring_put_response(struct xf_back_ring *r, const void *rsp)
{
    if (XF_UNLIKELY(r->error))
        return r->error;
    if (r->rsp_prod_pvt == r->req_cons)
        return -XF_ENOSPC;
    xf_copy_to_shared(slot(r->ents, r->nr_ents, r->shape.ent_size, r->rsp_prod_pvt),
                      rsp, r->shape.rsp_size);
    r->rsp_prod_pvt++;
    return 0;
}

int xf_back_ring_put_record(struct xf_back_ring *r, const void *rec, size_t len)
{
    if (XF_UNLIKELY(r->error))
        return r->error;
    if (rec == NULL || len == 0 || len > r->shape.rsp_size)
        return -XF_EINVAL;
    if (r->rsp_prod_pvt == r->req_cons)
        return -XF_ENOSPC;
    put_short(slot(r->ents, r->nr_ents, r->shape.ent_size, r->rsp_prod_pvt),
              r->shape.ent_size, rec, len);
    r->rsp_prod_pvt++;
    return 0;
}

int xf_back_ring_final_check(struct xf_back_ring *r)
{
    int rc;

    if (XF_UNLIKELY(r->error))
        return r->error;
    rc = back_refresh(r);
    if (rc != 0)
        return rc;
    XF_WRITE_ONCE(r->sring->req_event, r->req_cons + 1);
    XF_MB();
    return back_refresh(r);
}
