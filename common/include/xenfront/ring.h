/*
 * xenfront/ring.h: Xen's shared request/response rings, hardened.
 *
 * The shared page is exactly Xen's io/ring.h layout (the header below is an
 * instance of Xen's own DEFINE_RING_TYPES, and ring_layout tests check it
 * byte for byte against netif, blkif and friends). What differs from Xen's
 * macros is the consumer side, which trusts nothing the peer wrote:
 *
 *  - the peer's producer index is read once per batch and checked: it may
 *    not run ahead of what can be outstanding (a front end never sees more
 *    responses than requests it pushed; a back end never more requests than
 *    free slots). A violation is reported (-XF_EPROTO, logged once) and the
 *    ring is then broken for good: every later call returns -XF_EPROTO, so a
 *    driver cannot accidentally go on using a ring the peer has corrupted;
 *  - each request or response is copied out of the shared page exactly once
 *    into the caller's buffer; the caller validates the copy, not the page;
 *  - notifications follow Xen's rules exactly: push-and-check-notify against
 *    the peer's event index, and the final check that re-arms the event
 *    index and looks again, so no wake-up is lost and none is wasted.
 *
 * The ring context is private memory of the caller; none of these functions
 * allocate. They are safe to call from an event handler. A ring is used by
 * one thread of control at a time (the caller serialises).
 *
 * Example, a network transmit ring of one page:
 *
 *     struct xf_front_ring tx;
 *     xf_front_ring_init(&tx, page, XF_PAGE_SIZE, XF_RING_SHAPE(netif_tx));
 *     xf_front_ring_put_request(&tx, &req);
 *     if (xf_front_ring_push(&tx)) notify the backend;
 *     while ((n = xf_front_ring_get_response(&tx, &rsp)) > 0) handle rsp;
 *     if (n < 0) the backend is broken;
 */
#ifndef XENFRONT_RING_H
#define XENFRONT_RING_H

#include <xenfront/base.h>
#include <xenfront/xen.h>

#ifdef __cplusplus
extern "C" {
#endif

/*
 * The shared page header, as Xen defines it: an instance of Xen's own macro
 * with a one-byte entry, so its header fields are Xen's (req_prod, req_event,
 * rsp_prod, rsp_event, pvt, __pad) and its ring[] starts where every
 * ring type's does.
 */
DEFINE_RING_TYPES(xf_generic, uint8_t, uint8_t);

/* Where the entries start in every Xen ring page (64 bytes). */
#define XF_RING_HDR_SIZE offsetof(struct xf_generic_sring, ring)
_Static_assert(XF_RING_HDR_SIZE == 64, "Xen's shared ring header is 64 bytes");

/*
 * The entry geometry of a Xen ring type declared with DEFINE_RING_TYPES:
 * slot stride (the union of request and response) and the two record sizes.
 */
struct xf_ring_shape {
    uint32_t ent_size;
    uint32_t req_size;
    uint32_t rsp_size;
};

#define XF_RING_SHAPE(name) ((struct xf_ring_shape){ \
    (uint32_t)sizeof(union name##_sring_entry), \
    (uint32_t)sizeof(((union name##_sring_entry *)0)->req), \
    (uint32_t)sizeof(((union name##_sring_entry *)0)->rsp) })

/* Largest ring xenfront accepts: 2^XF_RING_MAX_ORDER pages (Xen's block and
 * net back ends allow at most order 4 and 0..4 respectively). */
#define XF_RING_MAX_ORDER 8

/*
 * Number of entries a ring of `bytes` (4096 << order) holds for entries of
 * ent_size: Xen's __RING_SIZE, the largest power of two that fits.
 * Returns 0 if bytes is not 4 KiB times a power of two up to
 * XF_RING_MAX_ORDER or no entry fits.
 */
uint32_t xf_ring_entries(size_t bytes, uint32_t ent_size);

/* ------------------------------------------------------------------------
 * Front end: produces requests, consumes responses.
 */
struct xf_front_ring {
    struct xf_generic_sring *sring;  /* the shared page(s)                */
    unsigned char *ents;             /* &sring->ring[0]                   */
    uint32_t nr_ents;                /* power of two                      */
    struct xf_ring_shape shape;
    RING_IDX req_prod_pvt;           /* next request slot to fill         */
    RING_IDX req_pushed;             /* last req_prod made visible        */
    RING_IDX rsp_cons;               /* next response to consume          */
    RING_IDX rsp_avail;              /* checked snapshot of rsp_prod      */
    int error;                       /* 0, or -XF_EPROTO once broken      */
};

/*
 * Initialise the shared page(s) as an empty ring (Xen's SHARED_RING_INIT)
 * and the front context over it (FRONT_RING_INIT). `shared` is 4 KiB aligned
 * and `bytes` is 4096 << order. The caller keeps ownership of the memory and
 * must keep it alive while the ring is in use.
 * Returns 0, or -XF_EINVAL (bad size, alignment or shape, or an entry too
 * small for the records).
 */
int xf_front_ring_init(struct xf_front_ring *r, void *shared, size_t bytes,
                       struct xf_ring_shape shape);

/*
 * Attach to an existing shared ring without resetting it, continuing from
 * index `start` (Xen's FRONT_RING_ATTACH; used when re-connecting).
 */
int xf_front_ring_attach(struct xf_front_ring *r, void *shared, size_t bytes,
                         struct xf_ring_shape shape, RING_IDX start);

static inline uint32_t xf_front_ring_size(const struct xf_front_ring *r)
{
    return r->nr_ents;
}

/* Free request slots: ring size minus requests not yet answered and consumed. */
static inline uint32_t xf_front_ring_free(const struct xf_front_ring *r)
{
    return r->nr_ents - (r->req_prod_pvt - r->rsp_cons);
}

/* Requests produced (pushed or not) whose responses are not yet consumed. */
static inline uint32_t xf_front_ring_outstanding(const struct xf_front_ring *r)
{
    return r->req_prod_pvt - r->rsp_cons;
}

/* Why the ring is broken: 0 if it is not, else -XF_EPROTO. */
static inline int xf_front_ring_error(const struct xf_front_ring *r)
{
    return r->error;
}


/*
 * Copy one request (shape.req_size bytes) into the next free slot. Not
 * visible to the back end until xf_front_ring_push().
 * Returns 0, -XF_ENOSPC if the ring is full, -XF_EPROTO if broken.
 */
int xf_front_ring_put_request(struct xf_front_ring *r, const void *req);

/*
 * Publish the requests put so far and decide whether the back end must be
 * notified (Xen's RING_PUSH_REQUESTS_AND_CHECK_NOTIFY). Returns true when the
 * caller should send an event.
 */
bool xf_front_ring_push(struct xf_front_ring *r);

/*
 * Take the next response: copy it (shape.rsp_size bytes) into *rsp once.
 * Returns 1 if one was copied, 0 if none is available, -XF_EPROTO if the
 * back end's rsp_prod ran ahead of the requests pushed or went backwards
 * (the ring is then broken and *rsp untouched). The response's contents are
 * the caller's to validate (its id against requests outstanding, its
 * status, lengths).
 */
int xf_front_ring_get_response(struct xf_front_ring *r, void *rsp);

/*
 * After consuming all responses: re-arm the response event and look again
 * (Xen's RING_FINAL_CHECK_FOR_RESPONSES), closing the race where a response
 * lands between the last get and going idle. Returns the number of responses
 * now available (> 0: consume them and call again), 0 when idle (the next
 * response will raise an event), or -XF_EPROTO.
 */
int xf_front_ring_final_check(struct xf_front_ring *r);

/* ------------------------------------------------------------------------
 * Back end: consumes requests, produces responses. Used by the simulated
 * back ends in tests and by anyone writing a driver domain. Hardened the
 * same way against a hostile front end.
 */
struct xf_back_ring {
    struct xf_generic_sring *sring;
    unsigned char *ents;
    uint32_t nr_ents;
    struct xf_ring_shape shape;
    RING_IDX rsp_prod_pvt;           /* next response slot to fill        */
    RING_IDX rsp_pushed;             /* last rsp_prod made visible        */
    RING_IDX req_cons;               /* next request to consume           */
    RING_IDX req_avail;              /* checked snapshot of req_prod      */
    int error;
};

/* Attach to a ring the front end initialised (Xen's BACK_RING_INIT). */
int xf_back_ring_init(struct xf_back_ring *r, void *shared, size_t bytes,
                      struct xf_ring_shape shape);

int xf_back_ring_attach(struct xf_back_ring *r, void *shared, size_t bytes,
                        struct xf_ring_shape shape, RING_IDX start);

static inline uint32_t xf_back_ring_size(const struct xf_back_ring *r)
{
    return r->nr_ents;
}

static inline int xf_back_ring_error(const struct xf_back_ring *r)
{
    return r->error;
}

/*
 * Take the next request, copied once into *req. Returns 1, 0 if none, or
 * -XF_EPROTO if req_prod claims more requests than the ring can hold
 * beyond the responses produced, or went backwards (broken from then on).
 */
int xf_back_ring_get_request(struct xf_back_ring *r, void *req);

/*
 * Copy one response into the next slot. Returns 0, -XF_ENOSPC when every
 * consumed request already has its response (a response needs a request),
 * or -XF_EPROTO if broken.
 */
int xf_back_ring_put_response(struct xf_back_ring *r, const void *rsp);

/* Publish responses; true when the front end should be notified
 * (RING_PUSH_RESPONSES_AND_CHECK_NOTIFY). */
bool xf_back_ring_push(struct xf_back_ring *r);

/* RING_FINAL_CHECK_FOR_REQUESTS: > 0 requests available, 0 idle, or -XF_EPROTO. */
int xf_back_ring_final_check(struct xf_back_ring *r);

#ifdef __cplusplus
}
#endif

#endif /* XENFRONT_RING_H */
