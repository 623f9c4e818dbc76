/*
 * xenfront/frontdev.h: the front-end device layer, what every PV front end
 * does around its data path (libxffrontdev.a, prefix xf_frontdev_).
 *
 * A PV driver (netfront, blkfront, a secondary console) is two things: a
 * data path over shared rings, and a XenBus negotiation that sets the rings
 * up. The negotiation is the same everywhere, and this layer does it once:
 *
 *   - open device/<type>/<id>: read backend and backend-id, and watch
 *     <backend>/state with a "changed" flag the event handler sets and the
 *     main flow services (xf_frontdev_open, xf_frontdev_service);
 *   - set up a ring of 2^order pages: allocated, zeroed, each granted to the
 *     back end (xf_frontdev_ring_setup); the driver initialises the ring
 *     itself over ring->sring (xf_front_ring_init);
 *   - allocate event channels unbound for the back end (xf_frontdev_evtchn_alloc);
 *   - publish everything in one transaction (xf_frontdev_publish with a body
 *     that calls xf_frontdev_write_ring / _write_uint / _write_str), with
 *     paths under the device directory or a queue-N/ subdirectory;
 *   - follow the back end's state, report a fatal error (the `error` node,
 *     then Closing: xf_frontdev_fatal), close and reconnect;
 *   - tear down with deferred end of access: a ring page the back end still
 *     maps is freed only once it lets go (xf_frontdev_ring_teardown).
 *
 * Memory: struct xf_frontdev and struct xf_frontdev_ring are the caller's
 * (embed them in the driver's context); nothing here allocates except the
 * ring pages (xf_plat_page_alloc) and, when a teardown must defer, one
 * page of bookkeeping per ring until the back end lets go.
 *
 * Trust: every value read from the back end's directory is checked before
 * use (xf_frontdev_read_uint's bounds; states outside XenbusState are
 * Unknown); the state watch drains its whole queue on every callback, so no
 * event a back end can create (a long child name, a flood) stops the
 * callbacks for good; a failing call leaves the context as it was, except
 * where said.
 *
 * Concurrency: the one rule of <xenfront/platform.h>. The watch callback
 * runs from the xenstore event handler and only sets the changed flag and
 * calls the driver's callback; everything else runs in the main flow and
 * may wait (through libxenbus) until its deadline. Not from an event
 * handler unless said.
 *
 * Errors are negative values from <xenfront/errno.h>, or those of
 * libxenbus, libgnttab and libevtchn, passed through.
 */
#ifndef XENFRONT_FRONTDEV_H
#define XENFRONT_FRONTDEV_H

#include <xenfront/base.h>
#include <xenfront/xen.h>
#include <xenfront/evtchn.h>
#include <xenfront/gnttab.h>
#include <xenfront/xenbus.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Largest ring this layer sets up: 2^4 pages (blkif's largest
 * ring-page-order in Linux and QEMU; netif rings are one page). */
#define XF_FRONTDEV_MAX_ORDER 4
#define XF_FRONTDEV_MAX_RING_PAGES (1u << XF_FRONTDEV_MAX_ORDER)

struct xf_frontdev;

/* Called from the event handler when <backend>/state changed: schedule
 * xf_frontdev_service() in the main flow. Must not wait. */
typedef void xf_frontdev_changed_fn(struct xf_frontdev *fd, void *arg);

struct xf_frontdev {
    /* Read-only for the driver. */
    struct xf_xenbus *xb;
    struct xf_evtchn *ec;
    struct xf_gnttab *gt;
    struct xf_xenbus_dev dev;        /* nodename, backend, backend_id, our state */
    XenbusState backend_state;       /* as last read by xf_frontdev_service()   */
    /* Private. */
    struct xf_xenbus_watch *watch;
    uint8_t changed;                 /* set by the watch, cleared by service    */
    bool open;
    xf_frontdev_changed_fn *changed_cb;
    void *changed_arg;
    char token[XF_XENBUS_TOKEN_MAX + 1];  /* "xf-fd:<type>/<id>[#n]", cut to fit */
    /* Big enough for any watch event a server can send (its payload is at
     * most XENSTORE_PAYLOAD_MAX bytes), so the drain never stops on one. */
    char evbuf[XENSTORE_PAYLOAD_MAX + 1];
};

/*
 * Open device/<type>/<id>: fill fd->dev from its backend and backend-id
 * (both checked: an absolute path that fits, a domid below
 * DOMID_FIRST_RESERVED), watch <backend>/state and read it once into
 * fd->backend_state. cb (may be NULL) runs from the event handler on each
 * change. xb, ec and gt must outlive fd. On failure fd is not open and
 * nothing is held.
 * Context: not from an event handler.
 * Returns 0; -XF_EINVAL (NULL, a type or id empty, longer than 32 bytes or
 * with a '/'), -XF_ENOENT (no such device), or libxenbus's error.
 */
int xf_frontdev_open(struct xf_frontdev *fd, struct xf_xenbus *xb, struct xf_evtchn *ec,
                     struct xf_gnttab *gt, const char *type, const char *id,
                     xf_frontdev_changed_fn *cb, void *arg, uint64_t deadline_ns) XF_MUST_CHECK;

/*
 * Stop watching and forget the device (rings and ports are the driver's to
 * tear down first). Safe on a device that is not open.
 * Context: not from an event handler.
 */
void xf_frontdev_close(struct xf_frontdev *fd, uint64_t deadline_ns);

/*
 * If the back end's state changed since the last look (or always, when
 * force), read it into fd->backend_state (a value outside XenbusState, or
 * an absent node, reads as XenbusStateUnknown).
 * Context: not from an event handler.
 * Returns 1 if a new state was read, 0 if nothing changed, or libxenbus's
 * error (the flag is then kept, so the next call looks again).
 */
int xf_frontdev_service(struct xf_frontdev *fd, bool force, uint64_t deadline_ns);

/* Whether the watch saw a change not yet serviced. Context: any. */
static inline bool xf_frontdev_changed(const struct xf_frontdev *fd)
{
    return XF_READ_ONCE(fd->changed) != 0;
}

/* Switch our state node (xf_xenbus_dev_switch). Context: not from a handler. */
int xf_frontdev_switch(struct xf_frontdev *fd, XenbusState state, uint64_t deadline_ns);

/*
 * Wait until the back end is in one of the states of mask
 * (XF_XENBUS_STATE_BIT(s) | ...), as xf_xenbus_dev_wait_backend(); the
 * state reached is also stored in fd->backend_state.
 * Context: not from an event handler. Returns 0, -XF_ENOTCONN (it is
 * closing or gone), -XF_ETIMEDOUT, or libxenbus's error.
 */
int xf_frontdev_wait_backend(struct xf_frontdev *fd, uint32_t mask, XenbusState *out,
                             uint64_t deadline_ns);

/*
 * A fatal error of ours (Linux's xenbus_dev_fatal): write "<-err> <what>"
 * to <nodename>/error, then switch to Closing, both best effort before the
 * deadline. Returns the first xenstore error, else 0.
 * Context: not from an event handler.
 */
int xf_frontdev_fatal(struct xf_frontdev *fd, int err, const char *what, uint64_t deadline_ns);

/* ------------------------------------------------------------------------
 * Paths.
 */

/*
 * Build "<dir>/<node><index>" into buf (index < 0: no number; node NULL:
 * "<dir>"; dir NULL: "<node><index>"). Examples: (nodename, "queue-", 1)
 * gives ".../queue-1"; (NULL, "ring-ref", 3) gives "ring-ref3".
 * Context: any. Returns the length, or -XF_ENAMETOOLONG if it does not fit
 * (buf then holds an empty string), -XF_EINVAL for a NULL buf.
 */
int xf_frontdev_path(char *buf, size_t cap, const char *dir, const char *node, int index);

/* ------------------------------------------------------------------------
 * Rings.
 */
struct xf_frontdev_ring {
    void *sring;                     /* the 2^order pages, virtually contiguous */
    size_t bytes;                    /* 4096 << order                            */
    unsigned int order;
    grant_ref_t refs[XF_FRONTDEV_MAX_RING_PAGES];
    bool granted;
};

/*
 * Allocate 2^order zeroed pages and grant each, writable, to the back end.
 * The driver then initialises its ring over ring->sring (xf_front_ring_init
 * with ring->bytes). On failure nothing is held and *ring is zeroed.
 * Context: not from an event handler.
 * Returns 0, -XF_EINVAL (order above XF_FRONTDEV_MAX_ORDER), -XF_ENOMEM,
 * or libgnttab's error (-XF_ENOSPC: no references left).
 */
int xf_frontdev_ring_setup(struct xf_frontdev *fd, struct xf_frontdev_ring *ring,
                           unsigned int order) XF_MUST_CHECK;

/*
 * End access to every page and free them, deferring (through libgnttab's
 * deferred list) while the back end still maps any: the pages go back to
 * the allocator only once no grant on them is in use (XSA-396). *ring is
 * zeroed. Safe on a zeroed ring. Returns 0 when everything was freed now,
 * 1 when freeing was deferred, or -XF_ENOSPC / -XF_ENOMEM when it could not
 * even be deferred (the pages are then leaked, never reused; logged).
 * Context: not from an event handler.
 */
int xf_frontdev_ring_teardown(struct xf_frontdev *fd, struct xf_frontdev_ring *ring);

/* ------------------------------------------------------------------------
 * Event channels.
 */

/* An event channel unbound for the back end's domain, with its handler
 * (xf_evtchn_alloc_unbound). Context: not from an event handler. */
int xf_frontdev_evtchn_alloc(struct xf_frontdev *fd, xf_evtchn_handler_fn *handler,
                             void *arg, evtchn_port_t *port) XF_MUST_CHECK;

/* Close it (a port of 0 is ignored). Context: not from an event handler. */
void xf_frontdev_evtchn_free(struct xf_frontdev *fd, evtchn_port_t port);

/* ------------------------------------------------------------------------
 * Publishing, in one transaction.
 */

/* The body of a publishing transaction: call the write helpers with tx.
 * Runs again from the start when the transaction must be retried. */
typedef int xf_frontdev_publish_fn(struct xf_frontdev *fd, xf_xenbus_tx_t tx, void *arg,
                                   uint64_t deadline_ns);

/*
 * Run body in a transaction (retried on EAGAIN until the deadline) so the
 * back end sees all of the keys or none. Context: not from a handler.
 * Returns 0, body's error, or libxenbus's.
 */
int xf_frontdev_publish(struct xf_frontdev *fd, xf_frontdev_publish_fn *body, void *arg,
                        uint64_t deadline_ns);

/*
 * Write a ring's references under <nodename>[/<subdir>]: for order 0,
 * <name> = ref; for order > 0, <name>0 .. <name>N-1 and ring-page-order
 * (blkif.h's multi-page keys). subdir is NULL or e.g. "queue-0".
 */
int xf_frontdev_write_ring(struct xf_frontdev *fd, xf_xenbus_tx_t tx, const char *subdir,
                           const char *name, const struct xf_frontdev_ring *ring,
                           uint64_t deadline_ns);

/* Write <nodename>[/<subdir>]/<key> as a decimal or a string. */
int xf_frontdev_write_uint(struct xf_frontdev *fd, xf_xenbus_tx_t tx, const char *subdir,
                           const char *key, uint64_t value, uint64_t deadline_ns);
int xf_frontdev_write_str(struct xf_frontdev *fd, xf_xenbus_tx_t tx, const char *subdir,
                          const char *key, const char *value, uint64_t deadline_ns);

/* ------------------------------------------------------------------------
 * Reading the back end's keys (<backend>/<key>), checked.
 */

/*
 * A decimal unsigned integer. Absent: *out = dflt, returns 0. Garbage
 * (not decimal, a sign, spaces) or above max: *out = dflt and returns
 * -XF_EINVAL, so the caller can refuse, or keep the default and log
 * (the driver decides per key and documents it). Other errors: libxenbus's,
 * *out untouched.
 */
int xf_frontdev_read_uint(struct xf_frontdev *fd, const char *key, uint64_t max,
                          uint64_t dflt, uint64_t *out, uint64_t deadline_ns);

/* A feature flag: "1" true, "0" false, absent false; anything else reads
 * as false and returns -XF_EINVAL (a hostile value never turns a feature
 * on). */
int xf_frontdev_read_feature(struct xf_frontdev *fd, const char *key, bool *out,
                             uint64_t deadline_ns);

/* A string into buf (NUL-terminated). Absent: -XF_ENOENT. */
int xf_frontdev_read_str(struct xf_frontdev *fd, const char *key, char *buf, size_t cap,
                         uint64_t deadline_ns);

#ifdef __cplusplus
}
#endif

#endif /* XENFRONT_FRONTDEV_H */
