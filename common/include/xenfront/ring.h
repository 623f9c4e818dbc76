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
#include <xenfront/errno.h>
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

/* Largest ring xenfront accepts: 2^XF_RING_MAX_ORDER pages (blkif back ends
 * offer up to order 4 through max-ring-page-order; netif rings are one
 * page: Xen 4.17's netif.h defines no ring-page-order key). */
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
 * caller should send an event. Inline: it runs once per batch on every
 * ring's hot path, and a call costs as much as the decision.
 */
static inline bool xf_front_ring_push(struct xf_front_ring *r)
{
    RING_IDX old = r->req_pushed;
    RING_IDX new = r->req_prod_pvt;
    RING_IDX event;

    /* The back end must see the requests before the index that covers them. */
    XF_WMB();
    XF_WRITE_ONCE(r->sring->req_prod, new);
    r->req_pushed = new;
    /* The back end must see the new index before we read its req_event:
     * otherwise it may go idle after we read a stale req_event, and neither
     * side would notify (a lost wake-up). */
    XF_MB();
    event = XF_READ_ONCE(r->sring->req_event);
    /* Notify iff the event index lies in (old, new]: the back end asked to
     * be woken at a request we just published. A hostile req_event only
     * changes whether we notify, never what we read. Xen's macro reads the
     * old req_prod back from the page; our own record of it cannot have
     * been rewritten by the peer, and costs no shared-line load. */
    return (RING_IDX)(new - event) < (RING_IDX)(new - old);
}

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

/*
 * The same with the event `ahead` responses on (rsp_event = rsp_cons +
 * ahead; 0 counts as 1, which is final_check): fewer interrupts, for a
 * caller that polls anyway, or that knows ahead responses are coming (a
 * half-way tx completion event). Responses below that raise no event.
 */
int xf_front_ring_final_check_ahead(struct xf_front_ring *r, uint32_t ahead);

/*
 * Put a record that may be shorter than a request slot: len bytes (at most
 * shape.req_size) and the rest of the slot zeroed, so a short record (a
 * netif_extra_info of 8 bytes in a 12-byte tx slot, a 64-byte indirect
 * blkif request in a 112-byte slot) neither over-reads the caller's object
 * nor leaks what the slot held before.
 * Returns 0, -XF_ENOSPC if full, -XF_EINVAL if len is 0 or too long,
 * -XF_EPROTO if broken.
 */
int xf_front_ring_put_record(struct xf_front_ring *r, const void *rec, size_t len);

/* ------------------------------------------------------------------------
 * Front end fast path: batches, record sizes known at compile time, inline.
 *
 * Same rules as above, cheaper shape. The producer writes typed requests
 * straight into free slots (XF_FRONT_RING_REQ(), having checked
 * xf_front_ring_free() once for the batch) and then produces them; the
 * consumer reads the back end's rsp_prod once per batch, checks it, and
 * copies every response of the batch out with a fixed-size copy, followed
 * by one compiler barrier. The barrier is what makes the copy "once": the
 * compiler may not satisfy a later use of the private copy by reading the
 * shared slot again, because the barrier may have changed shared memory.
 * (The generic functions copy with volatile loads instead, which costs
 * about 10 % of the ring's throughput for the same guarantee; the fast
 * path keeps single fetch and gives up only the width of each load, which
 * nothing relies on: the copy is validated after it is taken.)
 *
 * Example, a netif tx ring:
 *
 *     if (xf_front_ring_free(&tx) < n) wait for space;
 *     for (i = 0; i < n; i++)
 *         *XF_FRONT_RING_REQ(&tx, netif_tx, i) = req[i];
 *     xf_front_ring_produce(&tx, n);
 *     if (xf_front_ring_push(&tx)) notify;
 *     n = XF_FRONT_RING_GET_RESPONSES(&tx, netif_tx, rsp, 64);
 */

/* Report a bad rsp_prod and break the ring (the cold path). */
int xf_front_ring__broken(struct xf_front_ring *r, RING_IDX prod);

/* The address of slot idx of a ring with entries of ent_size bytes. */
static inline unsigned char *xf_ring__slot(unsigned char *ents, uint32_t nr_ents,
                                           size_t ent_size, RING_IDX idx)
{
    return ents + (size_t)(idx & (nr_ents - 1)) * ent_size;
}

/*
 * Read the back end's rsp_prod once and check it (it may not run ahead of
 * the requests pushed nor go back). Returns the responses now available,
 * or -XF_EPROTO (the ring is then broken).
 */
static inline int xf_front_ring_poll(struct xf_front_ring *r)
{
    RING_IDX prod;

    if (XF_UNLIKELY(r->error))
        return r->error;
    prod = XF_READ_ONCE(r->sring->rsp_prod);
    /* Unmoved since the last (checked) snapshot: nothing to check or
     * record. This is the whole of a polling loop's idle pass, as short as
     * Xen's own compare of rsp_prod with rsp_cons. */
    if (prod == r->rsp_avail)
        return (int)(RING_IDX)(prod - r->rsp_cons);
    if (XF_UNLIKELY((RING_IDX)(prod - r->rsp_cons) >
                    (RING_IDX)(r->req_pushed - r->rsp_cons) ||
                    (RING_IDX)(prod - r->rsp_cons) <
                    (RING_IDX)(r->rsp_avail - r->rsp_cons)))
        return xf_front_ring__broken(r, prod);
    /* Read the responses only after the index that covers them. */
    XF_RMB();
    r->rsp_avail = prod;
    return (int)(RING_IDX)(prod - r->rsp_cons);
}

/*
 * Take up to max responses of len bytes each (at most shape.rsp_size) from
 * slots of ent_size bytes (the ring's shape) into dst[0..max), consumed.
 * rsp_prod is read (once) only when the last snapshot is used up. Inline:
 * with constant len and ent_size the copies are fixed-size moves.
 * Returns the number taken (0: none), -XF_EPROTO (broken), or -XF_EINVAL
 * (len or ent_size do not fit the ring's shape).
 */
static inline int xf_front_ring_get_responses_sized(struct xf_front_ring *r, void *dst,
                                                    uint32_t max, size_t len,
                                                    size_t ent_size)
{
    unsigned char *d = (unsigned char *)dst;
    uint32_t n;

    if (r->rsp_cons == r->rsp_avail) {
        int rc = xf_front_ring_poll(r);

        if (rc <= 0)
            return rc;
    } else if (XF_UNLIKELY(r->error)) {
        return r->error;
    }
    if (XF_UNLIKELY(ent_size != r->shape.ent_size || len > r->shape.rsp_size || len == 0))
        return -XF_EINVAL;
    n = (uint32_t)(r->rsp_avail - r->rsp_cons);
    if (n > max)
        n = max;
    {
        /* Locals: the copies' stores (through a char pointer) could alias
         * the context, and must not make the compiler reload it. */
        unsigned char *ents = r->ents;
        uint32_t nr = r->nr_ents;
        RING_IDX cons = r->rsp_cons;

        for (uint32_t i = 0; i < n; i++)
            __builtin_memcpy(d + (size_t)i * len, xf_ring__slot(ents, nr, ent_size, cons + i),
                             len);
        XF_BARRIER(); /* the copies are taken: no re-reading the slots for them */
        r->rsp_cons = cons + n;
    }
    return (int)n;
}

/* The typed form: dst is an array of the ring's response type (or of a
 * shorter record), name the Xen ring type (netif_tx, blkif, ...). */
#define XF_FRONT_RING_GET_RESPONSES(r, name, dst, max) \
    xf_front_ring_get_responses_sized((r), (dst), (max), sizeof(*(dst)), \
                                      sizeof(union name##_sring_entry) + \
                                      0 * sizeof(char[sizeof(*(dst)) <= \
                                          sizeof(((union name##_sring_entry *)0)->rsp) ? 1 : -1]))

/*
 * The per-record batch consumer, Xen's own loop with the hardening kept,
 * and the fastest shape (no intermediate array: a record goes from the slot
 * into the caller's variable, usually registers):
 *
 *     n = XF_FRONT_RING_POLL(&tx, netif_tx);   rsp_prod read once, checked
 *     if (n < 0) the back end is broken;
 *     for (i = 0; i < n; i++) {
 *         struct netif_tx_response rsp;
 *         XF_FRONT_RING_COPY_RESPONSE(&tx, netif_tx, i, &rsp);
 *         handle rsp (validate its id, status...);
 *     }
 *     xf_front_ring_consume(&tx, n);
 *
 * XF_FRONT_RING_POLL is xf_front_ring_poll() that first checks the named
 * ring type has the ring's slot size (-XF_EINVAL if not: the copies below
 * would index the wrong slots), once per batch.
 * XF_FRONT_RING_COPY_RESPONSE copies response i of the snapshot (i < the
 * count poll returned): a typed assignment followed by XF_FETCHED on the
 * slot, which is what makes it a single fetch: the compiler must have read
 * the slot before it and may not satisfy a later use of *dst by reading the
 * slot again, since the slot may have changed there. It constrains that
 * slot only: a full compiler barrier per record made gcc reload the ring's
 * pointer, mask and index for every record of a loop without calls. (Xen's
 * RING_COPY_RESPONSE means to do this with a volatile cast, but the cast
 * qualifies the pointer, not the record, so the compiler may still re-read
 * or skip fields. A truly volatile record load makes gcc copy the record in
 * wide words that straddle cache lines in 12-byte slots, measurably slower;
 * the assignment lets it load each field once at its own width.)
 * *dst must be of the ring's response type (the assignment checks it).
 */
static inline int xf_front_ring_poll_sized(struct xf_front_ring *r, size_t ent_size)
{
    if (XF_UNLIKELY(ent_size != r->shape.ent_size))
        return -XF_EINVAL;
    return xf_front_ring_poll(r);
}

#define XF_FRONT_RING_POLL(r, name) \
    xf_front_ring_poll_sized((r), sizeof(union name##_sring_entry))

#define XF_FRONT_RING_COPY_RESPONSE(r, name, i, dst) do { \
        __typeof__(((union name##_sring_entry *)0)->rsp) *xf_slot_ = (void *) \
            xf_ring__slot((r)->ents, (r)->nr_ents, sizeof(union name##_sring_entry), \
                          (r)->rsp_cons + (i)); \
        *(dst) = *xf_slot_; \
        XF_FETCHED(*xf_slot_); /* the copy is taken: no re-reading the slot for it */ \
    } while (0)

/* The first n responses of the snapshot are handled: consume them
 * (n <= the count xf_front_ring_poll() returned; their slots become free). */
static inline void xf_front_ring_consume(struct xf_front_ring *r, uint32_t n)
{
    r->rsp_cons += n;
}

/* Request slot i of the batch being built (i < xf_front_ring_free()), typed
 * as the ring's request: fill it in place, then xf_front_ring_produce(). */
#define XF_FRONT_RING_REQ(r, name, i) \
    ((__typeof__(((union name##_sring_entry *)0)->req) *)(void *) \
     xf_ring__slot((r)->ents, (r)->nr_ents, sizeof(union name##_sring_entry), \
                   (r)->req_prod_pvt + (i)))

/* The untyped form: slot i of the batch, shape.ent_size bytes. */
static inline void *xf_front_ring_req_slot(struct xf_front_ring *r, uint32_t i)
{
    return xf_ring__slot(r->ents, r->nr_ents, r->shape.ent_size, r->req_prod_pvt + i);
}

/* The n slots after req_prod_pvt are filled: they become requests (still
 * private until xf_front_ring_push()). The caller checked n against
 * xf_front_ring_free() for the batch and that the ring is not broken. */
static inline void xf_front_ring_produce(struct xf_front_ring *r, uint32_t n)
{
    r->req_prod_pvt += n;
}

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
 * (RING_PUSH_RESPONSES_AND_CHECK_NOTIFY). Inline, as the front end's. */
static inline bool xf_back_ring_push(struct xf_back_ring *r)
{
    RING_IDX old = r->rsp_pushed;     /* ours, not the page's: see above */
    RING_IDX new = r->rsp_prod_pvt;
    RING_IDX event;

    XF_WMB();                         /* responses before their index */
    XF_WRITE_ONCE(r->sring->rsp_prod, new);
    r->rsp_pushed = new;
    XF_MB();                          /* index before reading rsp_event */
    event = XF_READ_ONCE(r->sring->rsp_event);
    return (RING_IDX)(new - event) < (RING_IDX)(new - old);
}

/* RING_FINAL_CHECK_FOR_REQUESTS: > 0 requests available, 0 idle, or -XF_EPROTO. */
int xf_back_ring_final_check(struct xf_back_ring *r);

/* Put a response shorter than a slot (rest zeroed), as put_record above. */
int xf_back_ring_put_record(struct xf_back_ring *r, const void *rec, size_t len);

/* ------------------------------------------------------------------------
 * Back end fast path, the mirror of the front end's.
 */
int xf_back_ring__broken(struct xf_back_ring *r, RING_IDX prod);

/* Read the front end's req_prod once and check it (no more requests than
 * the ring holds beyond the responses produced; never backwards).
 * Returns the requests now available, or -XF_EPROTO. */
static inline int xf_back_ring_poll(struct xf_back_ring *r)
{
    RING_IDX prod;

    if (XF_UNLIKELY(r->error))
        return r->error;
    prod = XF_READ_ONCE(r->sring->req_prod);
    if (prod == r->req_avail)        /* unmoved: see xf_front_ring_poll */
        return (int)(RING_IDX)(prod - r->req_cons);
    if (XF_UNLIKELY((RING_IDX)(prod - r->rsp_prod_pvt) > r->nr_ents ||
                    (RING_IDX)(prod - r->req_cons) >
                    (RING_IDX)(prod - r->rsp_prod_pvt) ||
                    (RING_IDX)(prod - r->req_cons) <
                    (RING_IDX)(r->req_avail - r->req_cons)))
        return xf_back_ring__broken(r, prod);
    XF_RMB();
    r->req_avail = prod;
    return (int)(RING_IDX)(prod - r->req_cons);
}

static inline int xf_back_ring_get_requests_sized(struct xf_back_ring *r, void *dst,
                                                  uint32_t max, size_t len,
                                                  size_t ent_size)
{
    unsigned char *d = (unsigned char *)dst;
    uint32_t n;

    if (r->req_cons == r->req_avail) {
        int rc = xf_back_ring_poll(r);

        if (rc <= 0)
            return rc;
    } else if (XF_UNLIKELY(r->error)) {
        return r->error;
    }
    if (XF_UNLIKELY(ent_size != r->shape.ent_size || len > r->shape.req_size || len == 0))
        return -XF_EINVAL;
    n = (uint32_t)(r->req_avail - r->req_cons);
    if (n > max)
        n = max;
    {
        unsigned char *ents = r->ents;
        uint32_t nr = r->nr_ents;
        RING_IDX cons = r->req_cons;

        for (uint32_t i = 0; i < n; i++)
            __builtin_memcpy(d + (size_t)i * len, xf_ring__slot(ents, nr, ent_size, cons + i),
                             len);
        XF_BARRIER();
        r->req_cons = cons + n;
    }
    return (int)n;
}

#define XF_BACK_RING_GET_REQUESTS(r, name, dst, max) \
    xf_back_ring_get_requests_sized((r), (dst), (max), sizeof(*(dst)), \
                                    sizeof(union name##_sring_entry) + \
                                    0 * sizeof(char[sizeof(*(dst)) <= \
                                        sizeof(((union name##_sring_entry *)0)->req) ? 1 : -1]))

/*
 * The back end's per-record batch consumer, the mirror of the front end's:
 *
 *     n = XF_BACK_RING_POLL(&b, netif_tx);  req_prod read once, checked
 *     if (n < 0) the front end is broken (or the type is not the ring's);
 *     for (i = 0; i < n; i++) {
 *         struct netif_tx_request q;
 *         XF_BACK_RING_COPY_REQUEST(&b, netif_tx, i, &q);
 *         validate q; *XF_BACK_RING_RSP(&b, netif_tx, i) = its response;
 *     }
 *     xf_back_ring_consume(&b, n); xf_back_ring_produce(&b, n);
 *
 * Response i may be written as soon as request i of the batch is copied:
 * its slot (rsp_prod_pvt + i) never lies beyond a request already taken.
 */
static inline int xf_back_ring_poll_sized(struct xf_back_ring *r, size_t ent_size)
{
    if (XF_UNLIKELY(ent_size != r->shape.ent_size))
        return -XF_EINVAL;
    return xf_back_ring_poll(r);
}

#define XF_BACK_RING_POLL(r, name) \
    xf_back_ring_poll_sized((r), sizeof(union name##_sring_entry))

#define XF_BACK_RING_COPY_REQUEST(r, name, i, dst) do { \
        __typeof__(((union name##_sring_entry *)0)->req) *xf_slot_ = (void *) \
            xf_ring__slot((r)->ents, (r)->nr_ents, sizeof(union name##_sring_entry), \
                          (r)->req_cons + (i)); \
        *(dst) = *xf_slot_; \
        XF_FETCHED(*xf_slot_); \
    } while (0)

/* The first n requests of the snapshot are taken (n <= xf_back_ring_poll()'s
 * count): they are now owed a response each. */
static inline void xf_back_ring_consume(struct xf_back_ring *r, uint32_t n)
{
    r->req_cons += n;
}

/* Responses owed: requests consumed and not yet answered. */
static inline uint32_t xf_back_ring_owed(const struct xf_back_ring *r)
{
    return (uint32_t)(r->req_cons - r->rsp_prod_pvt);
}

#define XF_BACK_RING_RSP(r, name, i) \
    ((__typeof__(((union name##_sring_entry *)0)->rsp) *)(void *) \
     xf_ring__slot((r)->ents, (r)->nr_ents, sizeof(union name##_sring_entry), \
                   (r)->rsp_prod_pvt + (i)))

static inline void *xf_back_ring_rsp_slot(struct xf_back_ring *r, uint32_t i)
{
    return xf_ring__slot(r->ents, r->nr_ents, r->shape.ent_size, r->rsp_prod_pvt + i);
}

/* The n slots after rsp_prod_pvt hold responses (n <= xf_back_ring_owed()). */
static inline void xf_back_ring_produce(struct xf_back_ring *r, uint32_t n)
{
    r->rsp_prod_pvt += n;
}

#ifdef __cplusplus
}
#endif

#endif /* XENFRONT_RING_H */
