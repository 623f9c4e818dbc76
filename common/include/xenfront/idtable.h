/*
 * xenfront/idtable.h: the response-id table that sits beside a ring.
 *
 * Every request a front end puts on a ring carries an id, and the back end
 * echoes it in the response. Mini-OS and Unikraft use that echoed id as a
 * pointer or an unchecked index: a hostile back end then completes a
 * request twice, completes one never sent, or points the driver at memory
 * of its choosing. Here an id is a small integer the table hands out with
 * its request, and a response's id is only believed after the table says
 * it names a request that is really outstanding:
 *
 *   free --alloc--> reserved --publish--> published --complete--> free
 *                      |                      |
 *                      +----cancel--> free    +--unpublish--> reserved
 *
 *  - alloc with the request (the driver's cookie or its own shadow entry,
 *    indexed by the id, says what the request was);
 *  - publish when the request becomes visible to the back end (just before
 *    pushing the ring);
 *  - complete on its response: an id out of range, free or only reserved
 *    (unknown, duplicate, or not yet published) is -XF_EPROTO and changes
 *    nothing, so the driver can mark the device broken with its state
 *    intact;
 *  - unpublish takes a request back without completing it (reconnection:
 *    it will be reissued on the new ring, under the same id), cancel drops
 *    a reserved one that was never sent.
 *
 * Ids are reused oldest-first (FIFO), so an id a back end replays long
 * after its completion most likely finds its slot free (caught), not a new
 * request of the same number.
 *
 * Memory: the slots are the caller's (an array of n), nothing allocates.
 * Concurrency: no locking of its own. The driver allocates in its main flow
 * and completes in its event handler, so it takes xf_plat_irq_save() around
 * both, together with its own shadow state (the one rule of
 * <xenfront/platform.h>). Every function is O(1) except xf_idtable_next()
 * and may run in an event handler.
 */
#ifndef XENFRONT_IDTABLE_H
#define XENFRONT_IDTABLE_H

#include <xenfront/base.h>
#include <xenfront/errno.h>

#ifdef __cplusplus
extern "C" {
#endif

enum xf_id_state {
    XF_ID_FREE = 0,
    XF_ID_RESERVED = 1,
    XF_ID_PUBLISHED = 2,
};

#define XF_ID_STATE_BIT(s) (1u << (s))

struct xf_idtable_slot {
    void *cookie;
    uint32_t next;                   /* free list link                */
    uint32_t state;                  /* enum xf_id_state              */
};

/* Ids are below 2^24 (netif's are 16 bits: a netfront table of at most
 * 65536 slots; blkif's are 64 bits). */
#define XF_IDTABLE_MAX (1u << 24)
#define XF_ID_NONE 0xffffffffu

struct xf_idtable {
    struct xf_idtable_slot *slots;
    uint32_t size;
    uint32_t free_head, free_tail;
    uint32_t nfree;
    uint32_t published;
};

/*
 * Make every id in [0, n) free over slots[n]. Returns 0, or -XF_EINVAL (a
 * NULL pointer, n of 0 or above XF_IDTABLE_MAX).
 */
int xf_idtable_init(struct xf_idtable *t, struct xf_idtable_slot *slots, uint32_t n);

/* Ids free, and published (requests the back end may answer). */
static inline uint32_t xf_idtable_free(const struct xf_idtable *t)
{
    return t->nfree;
}

static inline uint32_t xf_idtable_published(const struct xf_idtable *t)
{
    return t->published;
}

/* Take the oldest free id for a new request, with its cookie.
 * Returns the id, or -XF_ENOSPC when none is free. */
static inline int32_t xf_idtable_alloc(struct xf_idtable *t, void *cookie)
{
    uint32_t id = t->free_head;
    struct xf_idtable_slot *s;

    if (XF_UNLIKELY(id == XF_ID_NONE))
        return -XF_ENOSPC;
    s = &t->slots[id];
    t->free_head = s->next;
    if (t->free_head == XF_ID_NONE)
        t->free_tail = XF_ID_NONE;
    t->nfree--;
    s->state = XF_ID_RESERVED;
    s->cookie = cookie;
    return (int32_t)id;
}

/* Put a slot back at the tail of the free list. */
static inline void xf_idtable__release(struct xf_idtable *t, uint32_t id)
{
    struct xf_idtable_slot *s = &t->slots[id];

    s->state = XF_ID_FREE;
    s->cookie = NULL;
    s->next = XF_ID_NONE;
    if (t->free_tail == XF_ID_NONE)
        t->free_head = id;
    else
        t->slots[t->free_tail].next = id;
    t->free_tail = id;
    t->nfree++;
}

/* The state of id (XF_ID_FREE for one out of range). */
static inline enum xf_id_state xf_idtable_state(const struct xf_idtable *t, uint64_t id)
{
    return id < t->size ? (enum xf_id_state)t->slots[id].state : XF_ID_FREE;
}

/* reserved -> published. Returns 0, or -XF_EINVAL if id is not reserved. */
static inline int xf_idtable_publish(struct xf_idtable *t, uint32_t id)
{
    if (XF_UNLIKELY(id >= t->size || t->slots[id].state != XF_ID_RESERVED))
        return -XF_EINVAL;
    t->slots[id].state = XF_ID_PUBLISHED;
    t->published++;
    return 0;
}

/* published -> reserved (to reissue it later). 0, or -XF_EINVAL. */
static inline int xf_idtable_unpublish(struct xf_idtable *t, uint32_t id)
{
    if (XF_UNLIKELY(id >= t->size || t->slots[id].state != XF_ID_PUBLISHED))
        return -XF_EINVAL;
    t->slots[id].state = XF_ID_RESERVED;
    t->published--;
    return 0;
}

/* reserved -> free (never sent). 0, or -XF_EINVAL. */
static inline int xf_idtable_cancel(struct xf_idtable *t, uint32_t id)
{
    if (XF_UNLIKELY(id >= t->size || t->slots[id].state != XF_ID_RESERVED))
        return -XF_EINVAL;
    xf_idtable__release(t, id);
    return 0;
}

/*
 * The cookie of the published request id, without completing it (for a
 * back end that answers one request in several responses). *cookie may be
 * NULL. Returns 0, or -XF_EPROTO (id not published: nothing changes).
 */
static inline int xf_idtable_lookup(const struct xf_idtable *t, uint64_t id, void **cookie)
{
    if (XF_UNLIKELY(id >= t->size || t->slots[id].state != XF_ID_PUBLISHED))
        return -XF_EPROTO;
    if (cookie != NULL)
        *cookie = t->slots[id].cookie;
    return 0;
}

/*
 * A response arrived for id (the back end's value, any width): if it names
 * a published request, retire it (the id is free again) and give its
 * cookie (cookie may be NULL). Returns 0, or -XF_EPROTO for an id out of
 * range, free (unknown, or answered already) or reserved (not yet
 * published); the table is then unchanged.
 */
static inline int xf_idtable_complete(struct xf_idtable *t, uint64_t id, void **cookie)
{
    if (XF_UNLIKELY(id >= t->size || t->slots[id].state != XF_ID_PUBLISHED))
        return -XF_EPROTO;
    if (cookie != NULL)
        *cookie = t->slots[id].cookie;
    t->published--;
    xf_idtable__release(t, (uint32_t)id);
    return 0;
}

/*
 * The first id >= from whose state is in mask (XF_ID_STATE_BIT()s), for
 * walking what is outstanding (fail everything on a broken ring, reissue
 * after a reconnect). Returns the id, or -XF_ENOENT when there is none.
 * O(size - from).
 */
int32_t xf_idtable_next(const struct xf_idtable *t, uint32_t from, uint32_t mask);

#ifdef __cplusplus
}
#endif

#endif /* XENFRONT_IDTABLE_H */
