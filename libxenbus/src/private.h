/*
 * libxenbus internals: the context, request slots, watches, and the
 * functions its source files share. Those are global symbols of the
 * archive, so they too carry the library's prefix, spelled out in full as
 * xf_xenbus__<name> (two underscores: internal), so that every name can be
 * found with grep: a kernel linking libxfxenbus.a gets no symbol outside the
 * xf_xenbus_ namespace.
 */
#ifndef XENBUS_PRIVATE_H
#define XENBUS_PRIVATE_H

#include <xenfront/base.h>
#include <xenfront/errno.h>
#include <xenfront/platform.h>
#include <xenfront/xenbus.h>
#include <xenfront/xenbus_transport.h>

#define XB_HDR  ((uint32_t)sizeof(struct xsd_sockmsg))
/* A slot's buffer: the request (header + payload) on the way out, then the
 * reply payload, plus the NUL the library appends after a reply. */
#define XB_BUF  (XB_HDR + XENSTORE_PAYLOAD_MAX + 1u)

_Static_assert(sizeof(struct xsd_sockmsg) == 16, "xsd_sockmsg is 16 bytes on the wire");
_Static_assert(XENSTORE_RING_SIZE == 1024, "the xenstore ring is 1 KiB each way");
_Static_assert((XENSTORE_RING_SIZE & (XENSTORE_RING_SIZE - 1)) == 0, "ring size is a power of two");

#define XB_DEF_SLOTS        16u
#define XB_MAX_SLOTS        128u   /* slot index lives in the low 8 bits of req_id */
#define XB_DEF_WATCHES      16u
#define XB_MAX_WATCHES      256u
#define XB_DEF_QEVENTS      64u
#define XB_DEF_QBYTES       4096u
#define XB_MAX_QBYTES       (1u << 20)
#define XB_DEF_TIMEOUT_MS   10000u
#define XB_DEF_BUDGET       64u    /* messages per xf_xenbus_process() call    */
#define XB_MAX_BUDGET       4096u
/* Consecutive request deadlines passed with not one byte from the server
 * in between: the link is reported dead (xf_xenbus_status() -XF_ETIMEDOUT). */
#define XB_DEAD_TIMEOUTS    3u
/* Abandoned requests remembered per slot, so that their late replies are
 * recognised (and dropped) without holding a slot each. */
#define XB_TOMBS_PER_SLOT   2u
/* rx_slot values that are not slot indices. */
#define XB_RX_EVENT         (-1)   /* a watch event, into evbuf            */
#define XB_RX_DISCARD       (-2)   /* the late reply to an abandoned one   */

enum xb_slot_state {
    XB_SLOT_FREE = 0,
    XB_SLOT_QUEUED,      /* in the send queue (maybe partly sent)        */
    XB_SLOT_SENT,        /* fully sent, awaiting its reply               */
    XB_SLOT_DONE,        /* reply or error recorded, not yet released    */
};

struct xb_slot {
    uint32_t id;            /* req_id on the wire: generation << 8 | index */
    uint8_t state;
    bool cancelled;         /* abandoned: discard the reply, no callback   */
    uint32_t type;
    int result;             /* >= 0 reply length, or negative error        */
    uint32_t msg_len;       /* request bytes (header + payload)            */
    xf_xenbus_done_fn *done;
    void *arg;
    char *buf;              /* XB_BUF bytes, this slot's alone             */
};

enum xb_watch_state {
    XB_WATCH_FREE = 0,
    XB_WATCH_ACTIVE,        /* registered (or being registered)            */
    XB_WATCH_DRAINING,      /* removed; its UNWATCH reply not yet in: events
                             * for its token are the old registration's    */
};

/* A request abandoned after it was sent: its reply may still come. */
struct xb_tomb {
    uint32_t id;
    uint32_t type;
};

struct xf_xenbus_watch {
    struct xf_xenbus *xb;
    uint8_t state;
    bool overflow;          /* the marker at the queue's tail              */
    uint32_t qhead;         /* byte offset of the oldest record            */
    uint32_t qused;         /* bytes of records                            */
    uint32_t qcount;        /* records                                     */
    unsigned char *q;       /* cfg.watch_queue_bytes                       */
    xf_xenbus_watch_fn *cb;
    void *arg;
    bool needs_reg;         /* to be registered again after a reconnection */
    bool registering;       /* inside xf_xenbus_watch_add(): events queue,
                             * the callback waits for the WATCH reply      */
    uint32_t reg_id;        /* that registration's request, in flight      */
    uint32_t unwatch_id;    /* DRAINING: the UNWATCH request               */
    int unwatch_rc;         /* its result, for xf_xenbus_watch_remove()    */
    uint32_t path_len;
    uint32_t token_len;
    char token[XF_XENBUS_TOKEN_MAX + 1];
    char *path;             /* XENSTORE_ABS_PATH_MAX + 1 bytes             */
};

struct xf_xenbus {
    const struct xf_xenbus_transport_ops *ops;
    void *t;
    struct xf_xenbus_config cfg;
    void *mem;              /* the one page allocation, and its size       */
    size_t mem_pages;
    int error;              /* 0, or why the connection is broken          */
    bool reconnecting;      /* waiting for the link after a reset          */
    bool more;              /* the last process call ran out of budget     */
    uint32_t silent_timeouts;    /* deadlines passed since the last byte in */
    unsigned long resets;   /* resets the server started on its own        */
    unsigned long seen_resets;   /* the transport's count, as last handled */

    struct xb_slot *slots;
    uint32_t nslots;
    uint32_t id_gen;        /* generation counter for req_ids              */

    /* Abandoned requests awaiting their replies: a ring, oldest first. */
    struct xb_tomb *tombs;
    uint32_t ntombs_max;
    uint32_t tomb_head;
    uint32_t ntombs;

    /* Send queue: slot indices in submission order (FIFO); the head may be
     * partly written to the transport (tx_off bytes). */
    uint8_t *sendq;
    uint32_t sq_head;
    uint32_t sq_count;
    uint32_t tx_off;

    /* Receive state: the header being assembled, then the payload streamed
     * into its target (a slot's buffer, or evbuf for a watch event). */
    unsigned char rx_hdr[sizeof(struct xsd_sockmsg)];
    uint32_t rx_have;       /* header bytes so far                         */
    struct xsd_sockmsg rx_msg;   /* the validated header                   */
    char *rx_dst;           /* where the payload goes                      */
    int rx_slot;            /* slot index, or XB_RX_EVENT / XB_RX_DISCARD  */
    uint32_t rx_off;        /* payload bytes so far                        */
    char *evbuf;            /* XB_BUF bytes                                */

    struct xf_xenbus_watch *watches;
    uint32_t nwatches;
    uint32_t nreg_pending;  /* watches marked needs_reg                    */
    uint32_t token_seq;     /* for the library's own tokens                */

    /* Reentrancy: set while xf_xenbus_process() runs; a nested call sets
     * `again` and returns, the outer one loops. */
    int in_process;
    int again;
};

/* core.c */
uint64_t xf_xenbus__deadline(const struct xf_xenbus *xb, uint64_t deadline_ns);
int xf_xenbus__submit(struct xf_xenbus *xb, uint32_t type, xf_xenbus_tx_t tx,
                      const struct xf_xenbus_iov *iov, unsigned int niov,
                      xf_xenbus_done_fn *done, void *arg, uint32_t *id);
void xf_xenbus__fail_all(struct xf_xenbus *xb, int err);
/* The same, but requests not begun stay queued (a reset: the link lives). */
void xf_xenbus__fail_inflight(struct xf_xenbus *xb, int err);
void xf_xenbus__broken(struct xf_xenbus *xb, int err);
/* A synchronous wait for a request passed its deadline (dead-link count). */
void xf_xenbus__note_timeout(struct xf_xenbus *xb);
/* Wait, processing, until cond(xb, arg) != 0 (returned: > 0 means done ->
 * 0; < 0 an error) or the deadline. */
int xf_xenbus__wait_until(struct xf_xenbus *xb, int (*cond)(struct xf_xenbus *, void *), void *arg,
                          uint64_t deadline_ns);
/* Submit, wait, and on success leave the reply for the caller: returns the
 * reply length (data borrowed until release of *id) or an error (the slot
 * then already released/cancelled). */
int xf_xenbus__call(struct xf_xenbus *xb, uint32_t type, xf_xenbus_tx_t tx,
                    const struct xf_xenbus_iov *iov, unsigned int niov, uint64_t deadline_ns,
                    const char **data, uint32_t *id);
/* The same, reply discarded: 0 or error. */
int xf_xenbus__call0(struct xf_xenbus *xb, uint32_t type, xf_xenbus_tx_t tx,
                     const struct xf_xenbus_iov *iov, unsigned int niov, uint64_t deadline_ns);

/* watch.c */
void xf_xenbus__watch_event(struct xf_xenbus *xb, const char *payload, uint32_t len);
void xf_xenbus__watch_init(struct xf_xenbus *xb, unsigned char *mem);
size_t xf_xenbus__watch_mem(const struct xf_xenbus_config *cfg);
void xf_xenbus__watch_mark_all(struct xf_xenbus *xb);
/* The server reset the connection on its own: every watch may have missed
 * events (overflow marker) and is registered again. */
void xf_xenbus__watch_lost_all(struct xf_xenbus *xb);
void xf_xenbus__watch_drain(struct xf_xenbus_watch *w);
int xf_xenbus__watch_wait_any(struct xf_xenbus *xb, struct xf_xenbus_watch *w,
                              uint64_t deadline_ns);
void xf_xenbus__watch_remove_async(struct xf_xenbus *xb, struct xf_xenbus_watch *w);
void xf_xenbus__watch_resubmit(struct xf_xenbus *xb);

/* ops.c helpers shared with device.c */
size_t xf_xenbus__strnlen(const char *s, size_t max);
int xf_xenbus__path_ok(const char *path);
unsigned xf_xenbus__fmt_uint(char *buf, uint64_t v);    /* no NUL; returns length */
int xf_xenbus__parse_uint(const char *s, size_t len, uint64_t max, uint64_t *out);
int xf_xenbus__read_node(struct xf_xenbus *xb, xf_xenbus_tx_t tx, const char *dir,
                         const char *node, char *buf, size_t cap, size_t *len,
                         uint64_t deadline_ns);
int xf_xenbus__write_node(struct xf_xenbus *xb, xf_xenbus_tx_t tx, const char *dir,
                          const char *node, const void *val, size_t len, uint64_t deadline_ns);

#endif /* XENBUS_PRIVATE_H */
