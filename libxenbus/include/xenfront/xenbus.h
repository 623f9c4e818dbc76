/*
 * xenfront/xenbus.h: xenstore client and XenBus device helpers (libxfxenbus.a).
 *
 * One context (struct xf_xenbus) is one connection to xenstored: over the
 * guest's shared xenstore ring (struct xenstore_domain_interface, its event
 * channel driven through libevtchn), or over any other byte stream through
 * <xenfront/xenbus_transport.h> (libxfxenbus_host.a adds xenstored's unix
 * socket, as dom0 tools use it).
 *
 * Layers, bottom up:
 *
 *  - the asynchronous core: xf_xenbus_submit() queues a request (any
 *    XS_* type of xen/io/xs_wire.h) in one of max_outstanding preallocated
 *    slots and returns its id; requests are pipelined (many in flight), each
 *    reply is matched to its request by req_id. Progress happens in
 *    xf_xenbus_process(), which the ring transport's event handler calls (or
 *    a polling kernel calls); a completion callback may run there;
 *  - watches with per-watch bounded event queues (xf_xenbus_watch_*);
 *  - synchronous helpers (read, write, directory, transactions ...) that
 *    submit, then wait through the transport (xf_plat_wait() for the ring)
 *    until the reply or a deadline: -XF_ETIMEDOUT, never a hang;
 *  - XenBus device helpers: device/<type>/<id>, the backend's path and id,
 *    typed values, and the front end's side of the state machine.
 *
 * Deadlines are absolute times of xf_plat_now_ns(); 0 means "now plus the
 * context's default timeout" (config.timeout_ms). A helper that times out
 * cancels its request: the reply, if it ever comes, is discarded. Every
 * helper reads the clock on every round of its work, however fast the
 * server answers (a store that answers at once, a backend rewriting its
 * state without pause): past its deadline it returns -XF_ETIMEDOUT, and
 * starts no request.
 *
 * Liveness against a hostile server:
 *  - bounded work: one xf_xenbus_process() call takes at most
 *    config.process_budget messages from the server; the rest waits for the
 *    next call (the ring transport raises its event again for it, helpers
 *    go on without blocking), so a server that never lets the stream run
 *    dry cannot keep the event handler or a helper from returning;
 *  - a dead link is reported: after 3 request deadlines in a row passed
 *    with not one byte from the server, xf_xenbus_status() says
 *    -XF_ETIMEDOUT, until a byte arrives or xf_xenbus_reconnect() succeeds;
 *    the ways out are xf_xenbus_reconnect() and xf_xenbus_destroy(). An
 *    abandoned request gives its slot back at once (a small table
 *    remembers its id, 2 per slot, oldest forgotten first), so timeouts do
 *    not use up the slots;
 *  - a reset the server starts on its own (connection set to
 *    XENSTORE_RECONNECT and back, or the guest's ring indices rewritten,
 *    which xenstore-ring.txt allows only the guest to ask for) is handled:
 *    requests in flight (any byte of them sent) fail with -XF_ECONNRESET,
 *    those not begun are sent after it, partial messages are dropped,
 *    every watch gets an overflow marker (events were lost) and is
 *    registered again (with its initial event), xf_xenbus_status() says
 *    -XF_ENOTCONN until that is done, and xf_xenbus_resets() counts it.
 *
 * Errors are negative <xenfront/errno.h> values. xenstored's error strings
 * (xs_wire.h's xsd_errors[]) come back as the matching -XF_E*: -XF_ENOENT,
 * -XF_EACCES, -XF_EEXIST, -XEN_EISDIR, -XF_EINVAL, -XF_ENOMEM, -XF_ENOSPC,
 * -XF_EIO, -XF_ENOTEMPTY, -XF_ENOSYS, -XF_EROFS, -XF_EBUSY, -XF_EAGAIN,
 * -XF_EISCONN, -XF_E2BIG, -XF_EPERM; oxenstored's "EQUOTA" (a quota
 * exceeded) gives -XF_ENOSPC, as C xenstored answers most quotas; an
 * unknown string gives -XF_EIO.
 * The library's own (the request functions' local states use codes no
 * server string maps to, so a server's answer is never taken for one):
 *   -XF_ESRCH     no such request (unknown id, released or cancelled);
 *   -XF_ENODATA   the request has not completed yet;
 *   -XF_ECONNRESET the request was lost in a reset of the connection (the
 *                 server's own, or xf_xenbus_reconnect()): its effect on the
 *                 store is unknown;
 *   -XF_EINVAL    bad argument (NULL, empty path, bad permission string...);
 *   -XF_E2BIG     a request payload over XENSTORE_PAYLOAD_MAX (4096) bytes,
 *                 refused before anything is sent;
 *   -XF_ENOBUFS   the caller's buffer is too small (nothing consumed where
 *                 said);
 *   -XF_EBUSY     all request slots (or watch slots) are in use;
 *   -XF_EPROTO    the server broke the protocol: framing (a length beyond
 *                 the limit, an unknown req_id, a reply of the wrong type, a
 *                 ring index that jumps) breaks the connection and fails
 *                 every outstanding request with -XF_EPROTO; malformed
 *                 contents of one well-framed reply (an unterminated string
 *                 where one is required) fail only that request;
 *   -XF_ENOTCONN  the connection is broken, or being reconnected; a
 *                 request outstanding at destroy;
 *   -XF_ETIMEDOUT the deadline passed (and, from xf_xenbus_status(), the
 *                 link is dead: see above).
 *
 * Server limits: what a guest meets long before the protocol's. Measured
 * on Debian 12's C xenstored 4.17 at its defaults through the guest ring
 * (tests/hostpeers, ring_server_limits_measured and
 * ring_values_near_the_size_limit, which assert these figures):
 *   - a node's size for a domU is at most 2048 bytes (quota-max-entry-size),
 *     and that size counts the node's permission records and its child
 *     list too: a fresh node under the guest's home takes a value of at
 *     most 2007 bytes, and each child costs its name plus one byte (ten
 *     children of 35-byte names leave 1647). Above it: -XF_ENOSPC. The
 *     protocol's own limit (a 4096-byte payload, path included) gives
 *     -XF_E2BIG before anything is sent;
 *   - at most 11 transactions open at once per connection (quota-max-
 *     transaction 10; the check lets one more through); the next start
 *     gives -XF_ENOSPC;
 *   - directory listings longer than one reply need XS_DIRECTORY_PART
 *     (xf_xenbus_directory_part), which C xenstored 4.17 has;
 *   - ring reconnection: C xenstored 4.17 offers none (server_features 0),
 *     so only a quiescent hand-over (xf_xenbus_quiesce) is safe.
 * oxenstored could not be run here (it needs setrlimit(RLIMIT_NOFILE),
 * refused in this sandbox), so its figures are not given: by its own
 * documentation it lacks XS_DIRECTORY_PART and answers quotas with
 * "EQUOTA", which this library maps to -XF_ENOSPC. Servers may be
 * configured otherwise: treat -XF_ENOSPC as "over a quota".
 *
 * Concurrency. A context is used by one CPU at a time; the caller
 * serialises calls, except that the event handler (xf_xenbus_process(),
 * called from libevtchn's dispatch) may interrupt any call on the same CPU.
 * A nested xf_xenbus_process() returns at once after asking the outer one
 * to run again, so no data is processed twice or out of order.
 *
 * From an event handler (a completion or watch callback, or any code
 * running inside xf_evtchn_dispatch()) one may call: xf_xenbus_submit(),
 * xf_xenbus_req_*() but xf_xenbus_req_wait(), xf_xenbus_process(),
 * xf_xenbus_watch_next(), xf_xenbus_status(), and the functions that only
 * read (xf_xenbus_resets(), xf_xenbus_outstanding(),
 * xf_xenbus_watch_pending(), xf_xenbus_watch_count(),
 * xf_xenbus_error_from_string()). Never the synchronous helpers (they
 * wait), nor create/destroy. Each declaration below says so in its
 * "Context:" line.
 *
 * Memory: everything is allocated at creation with xf_plat_page_alloc():
 * the context, max_outstanding request slots each with its own buffer of
 * XENSTORE_PAYLOAD_MAX + header bytes (a reply is only ever written into its
 * own request's buffer), and max_watches watches each with its event queue.
 * Nothing is allocated afterwards.
 */
#ifndef XENFRONT_XENBUS_H
#define XENFRONT_XENBUS_H

#include <xenfront/base.h>
#include <xenfront/xen.h>
#include <xen/io/xs_wire.h>
#include <xen/io/xenbus.h>

#ifdef __cplusplus
extern "C" {
#endif

struct xf_xenbus;
struct xf_evtchn;

/* ------------------------------------------------------------------------
 * Context.
 */
struct xf_xenbus_config {
    uint32_t max_outstanding;   /* request slots: 0 -> 16, at most 128        */
    uint32_t max_watches;       /* 0 -> 16, at most 256                       */
    uint32_t watch_queue_events;/* events queued per watch: 0 -> 64            */
    uint32_t watch_queue_bytes; /* bytes of paths queued per watch: 0 -> 4096  */
    uint32_t timeout_ms;        /* deadline 0 in the helpers: 0 -> 10000 ms    */
    uint32_t process_budget;    /* messages per xf_xenbus_process(): 0 -> 64,
                                   at most 4096                                */
};

/*
 * Connect over the guest's xenstore ring. `iface` is the store page mapped
 * in this kernel (on PVH an ordinary guest frame: HVM_PARAM_STORE_PFN, see
 * xf_xenbus_hvm_store()), `port` its event channel, which the context adopts
 * in ec with xf_evtchn_take() (adopted; its handler runs
 * xf_xenbus_process()); if ec owns it already (an earlier context), its
 * handler is replaced. The port is never closed: it lives as long as the
 * domain (see destroy). The ring is not reset: guests must not assume
 * indices start at zero. If the server advertises
 * XENSTORE_SERVER_FEATURE_RECONNECTION and the connection field says a
 * reconnection is in progress, the context waits (without blocking:
 * requests queue) until the server says connected. cfg may be NULL.
 * Context: not from an event handler.
 * Returns: 0 and the context in *out, or -XF_EINVAL (out, ec or iface
 *   NULL, iface not page-aligned, port 0, cfg out of range), -XF_ENOMEM,
 *   xf_evtchn_take()'s errors.
 */
int xf_xenbus_create_ring(struct xf_xenbus **out, const struct xf_xenbus_config *cfg,
                          struct xf_evtchn *ec, void *iface, evtchn_port_t port) XF_MUST_CHECK;

/*
 * The guest's store frame and port from HVMOP_get_param (HVM_PARAM_STORE_PFN,
 * HVM_PARAM_STORE_EVTCHN).
 * Context: any: two hypercalls through xf_plat_hvm_op(), no context, no
 *   waiting (as far as the platform's hypercall allows).
 * Returns: 0, or -XF_EINVAL (pfn or port NULL), -XF_ENOENT if Xen reports
 *   none (0) or a port beyond the event channel ABI, Xen's errors.
 */
int xf_xenbus_hvm_store(uint64_t *pfn, evtchn_port_t *port);

/*
 * Bring the connection to a point where another context can take the ring
 * over: wait until no request is queued or awaiting its reply (cancelled
 * ones included) and no message is partly received. xenstored may write a
 * reply's header and payload in separate steps; a context destroyed between
 * them would leave the next one to start reading mid-message (and a reply
 * to a request of ours would reach it with an unknown id). Call it before
 * xf_xenbus_destroy() when the ring will be used again, and submit nothing
 * in between. Watch events may still come later, as whole messages; a later
 * context drops those of tokens it does not know.
 * Context: not from an event handler (it waits).
 * Returns: 0, -XF_ETIMEDOUT at the deadline (the server is silent: handing
 *   over is then unsafe), -XF_EINVAL, or the broken connection's error.
 */
int xf_xenbus_quiesce(struct xf_xenbus *xb, uint64_t deadline_ns);

/*
 * Destroy: every outstanding request completes with -XF_ENOTCONN (callbacks
 * run), the transport is closed (the ring's port stays bound in ec, masked
 * and without a handler, for a later context: closing it would cut the
 * domain off from xenstored), memory freed. Server-side watches are not
 * removed (use xf_xenbus_watch_remove() first, or RESET_WATCHES next time).
 * If another context will use the ring, call xf_xenbus_quiesce() first.
 * NULL is ignored.
 * Context: not from an event handler.
 * Returns: nothing.
 */
void xf_xenbus_destroy(struct xf_xenbus *xb);

/*
 * Connection status.
 * Context: any (callable from an event handler).
 * Returns: 0 connected; -XF_ENOTCONN reconnecting (ours, or a reset the
 *   server started, until every watch is registered again); -XF_ETIMEDOUT
 *   the link is dead (3 deadlines in a row with no byte from the server;
 *   xf_xenbus_reconnect() or xf_xenbus_destroy() are the ways out, a byte
 *   from the server ends it); -XF_EPROTO / -XF_EIO broken (why);
 *   -XF_EINVAL for NULL.
 */
int xf_xenbus_status(const struct xf_xenbus *xb);

/* Resets the server made on its own (without xf_xenbus_reconnect()) seen so
 * far.
 * Context: any (callable from an event handler).
 * Returns: the count; 0 for NULL. */
unsigned long xf_xenbus_resets(const struct xf_xenbus *xb);

/*
 * The event handler's body: move bytes in both directions as far as the
 * transport allows, complete requests (running their callbacks), queue watch
 * events (running watch callbacks), at most config.process_budget messages
 * from the server per call (nested calls included); more is left for the
 * next call, and the ring's event handler then raises its event again so it
 * is not forgotten. Called by the ring's event handler; a polling kernel
 * calls it from its loop. Reentrancy-guarded: a nested call returns at once
 * after asking the outer one to run again.
 * Context: any (it is the event handler's body).
 * Returns: 0, or the connection's error once broken.
 */
int xf_xenbus_process(struct xf_xenbus *xb);

/*
 * Ask the server to reset the connection (XENSTORE_RECONNECT on the ring,
 * if the server advertises it; a transport without the feature:
 * -XF_EOPNOTSUPP) and wait for it. Every request the server has seen any
 * byte of fails with -XF_ECONNRESET (its effect on the store is unknown;
 * those not begun are sent after the reset), open transactions are gone,
 * and the context re-registers every watch it holds (each gets an initial
 * event, as on WATCH). This also recovers a connection broken by a protocol
 * violation.
 * Context: not from an event handler (it waits).
 * Returns: 0 once reconnected; -XF_EINVAL (xb NULL); -XF_EOPNOTSUPP (see
 *   above); the transport's error if the reset cannot be asked for;
 *   -XF_ETIMEDOUT
 *   if the server never answers (what was in flight has failed all the
 *   same; the context stays reconnecting, -XF_ENOTCONN, until the server
 *   completes the reset: call again, or destroy).
 */
int xf_xenbus_reconnect(struct xf_xenbus *xb, uint64_t deadline_ns);

/* ------------------------------------------------------------------------
 * Asynchronous core.
 */
typedef uint32_t xf_xenbus_tx_t;       /* transaction id; 0 = none */
#define XF_XENBUS_TX_NONE 0u

/* A piece of a request payload (the payload is the concatenation). */
struct xf_xenbus_iov {
    const void *base;
    size_t len;
};

/* Completion callback: runs once, in xf_xenbus_process() (event handler
 * context) or in the call that failed the request (destroy, reconnect,
 * cancel never calls it). The reply stays readable until released. */
typedef void xf_xenbus_done_fn(struct xf_xenbus *xb, uint32_t id, void *arg);

/*
 * Queue a request: type (XS_READ ...), tx_id for the header, payload in
 * pieces (copied now; the caller's memory is free on return). Returns 0 and
 * the request id in *id (nonzero, unique among outstanding requests).
 * XS_WATCH, XS_UNWATCH and XS_RESET_WATCHES are refused (-XF_EINVAL): use
 * the watch functions, which keep the context's watch table consistent.
 * Context: any (may be called from an event handler).
 * Returns: 0, or -XF_EINVAL, -XF_E2BIG, -XF_EBUSY (no free slot),
 *   -XF_ENOTCONN / -XF_EPROTO (broken).
 */
int xf_xenbus_submit(struct xf_xenbus *xb, uint32_t type, xf_xenbus_tx_t tx,
                     const struct xf_xenbus_iov *iov, unsigned int niov,
                     xf_xenbus_done_fn *done, void *arg, uint32_t *id) XF_MUST_CHECK;

/*
 * The request functions tell their own states from the server's answers:
 * -XF_ESRCH "no such request" (an id not outstanding: unknown, released,
 * cancelled) and -XF_ENODATA "not completed yet" are never the result of a
 * request (no xenstored error string maps to them); -XF_EINVAL only for
 * xb NULL. Callable from an event handler, except xf_xenbus_req_wait().
 */

/* Whether a request has completed (reply or error).
 * Context: any.
 * Returns: 1 if completed, 0 if not; -XF_ESRCH for an id that is not
 *   outstanding, -XF_EINVAL for xb NULL. */
int xf_xenbus_req_done(const struct xf_xenbus *xb, uint32_t id);

/*
 * The result of a completed request: its reply payload (borrowed, valid until
 * xf_xenbus_req_release(); data[len] is always a NUL added by the library,
 * not part of the reply), and the return value: the payload length (>= 0),
 * or a negative error (xenstored's XS_ERROR mapped, -XF_EPROTO,
 * -XF_ECONNRESET ...), in which case *data is NULL and *len 0. data and
 * len may be NULL.
 * Context: any.
 * Returns: the payload length or the request's error, as above;
 *   -XF_ENODATA if not completed (nothing written), -XF_ESRCH for an
 *   unknown id, -XF_EINVAL for xb NULL.
 */
int xf_xenbus_req_reply(const struct xf_xenbus *xb, uint32_t id, const char **data,
                        uint32_t *len);

/* Free a completed request's slot (its reply is gone).
 * Context: any.
 * Returns: 0, or -XF_ENODATA if not completed, -XF_ESRCH for an unknown
 *   id, -XF_EINVAL for xb NULL. */
int xf_xenbus_req_release(struct xf_xenbus *xb, uint32_t id);

/*
 * Abandon a request, completed or not; its callback will not run. A request
 * not yet sent is dropped; one sent gives its slot back at once, and its
 * reply, if it ever comes, is recognised by its id and discarded (not a
 * protocol error); one partly sent is finished first (the server would
 * read what follows as its tail), then treated so.
 * Context: any.
 * Returns: 0, or -XF_ESRCH for an unknown id, -XF_EINVAL for xb NULL.
 */
int xf_xenbus_req_cancel(struct xf_xenbus *xb, uint32_t id);

/* Wait until the request completes.
 * Context: not from an event handler (it waits).
 * Returns: 0, or -XF_ETIMEDOUT (the deadline passed, checked even if it
 *   completed meanwhile; the request is left outstanding, done or not),
 *   -XF_ESRCH, -XF_EINVAL for xb NULL. A broken connection completes the
 *   request with its error (read it with xf_xenbus_req_reply()). */
int xf_xenbus_req_wait(struct xf_xenbus *xb, uint32_t id, uint64_t deadline_ns);

/* Requests outstanding (queued, in flight, completed but not released,
 * cancelled awaiting their reply: those no longer hold a slot).
 * Context: any.
 * Returns: the count; 0 for NULL. */
unsigned int xf_xenbus_outstanding(const struct xf_xenbus *xb);

/* ------------------------------------------------------------------------
 * Synchronous operations. Not from an event handler. path is absolute
 * ("/local/domain/1/x") or relative to the domain's home
 * (/local/domain/<domid>) on the ring; at most XENSTORE_ABS_PATH_MAX bytes.
 * tx is a transaction id or XF_XENBUS_TX_NONE. Each one submits a request
 * and waits for its reply, so every one of them (and every function of the
 * sections below that takes a deadline) can also return -XF_ETIMEDOUT,
 * -XF_EBUSY (no free request slot), xenstored's mapped errors, and the
 * connection's error once broken: "the errors above".
 */

/*
 * XS_READ: the value (binary-safe, xenstore adds no terminator) into buf,
 * followed by a NUL the library adds; *len (may be NULL) = value length.
 * Context: not from an event handler.
 * Returns: 0, or -XF_ENOBUFS if cap < length + 1 (*len still set),
 *   -XF_EINVAL, the errors above.
 */
int xf_xenbus_read(struct xf_xenbus *xb, xf_xenbus_tx_t tx, const char *path,
                   char *buf, size_t cap, size_t *len, uint64_t deadline_ns);

/* XS_WRITE of len bytes (0..4096 minus the path).
 * Context: not from an event handler.
 * Returns: 0, or -XF_EINVAL, -XF_E2BIG, the errors above. */
int xf_xenbus_write(struct xf_xenbus *xb, xf_xenbus_tx_t tx, const char *path,
                    const void *value, size_t len, uint64_t deadline_ns);

/* XS_MKDIR, XS_RM.
 * Context: not from an event handler.
 * Returns: 0, or -XF_EINVAL, the errors above. */
int xf_xenbus_mkdir(struct xf_xenbus *xb, xf_xenbus_tx_t tx, const char *path,
                    uint64_t deadline_ns);
int xf_xenbus_rm(struct xf_xenbus *xb, xf_xenbus_tx_t tx, const char *path,
                 uint64_t deadline_ns);

/*
 * The children of path: names one after another in buf, each NUL-terminated;
 * *count = how many; returns the bytes used. Uses XS_DIRECTORY and, when the
 * list does not fit one message (xenstored answers E2BIG), XS_DIRECTORY_PART
 * pieces, checking that the node's generation did not change between them
 * (if it did, the listing restarts, at most 8 times, then -XF_EAGAIN).
 * Context: not from an event handler.
 * Returns: the bytes used, or -XF_ENOBUFS if cap is too small,
 *   -XF_EAGAIN (above), -XF_EINVAL, the errors above.
 */
int xf_xenbus_directory(struct xf_xenbus *xb, xf_xenbus_tx_t tx, const char *path,
                        char *buf, size_t cap, unsigned int *count, uint64_t deadline_ns);

/* XS_DIRECTORY_PART only (what xf_xenbus_directory() falls back to).
 * Context: not from an event handler.
 * Returns: as xf_xenbus_directory(). */
int xf_xenbus_directory_part(struct xf_xenbus *xb, xf_xenbus_tx_t tx, const char *path,
                             char *buf, size_t cap, unsigned int *count,
                             uint64_t deadline_ns);

/*
 * XS_GET_PERMS: the permission strings ("n0", "r5" ...) one after another in
 * buf, NUL-terminated; *count of them; returns bytes used.
 * XS_SET_PERMS: n >= 1 strings, each [wrbn]<domid> (checked locally:
 * -XF_EINVAL). The first is the owner and the default for other domains.
 * Context: not from an event handler.
 * Returns: get: the bytes used; set: 0; or -XF_ENOBUFS (get), -XF_EINVAL,
 *   the errors above.
 */
int xf_xenbus_get_perms(struct xf_xenbus *xb, xf_xenbus_tx_t tx, const char *path,
                        char *buf, size_t cap, unsigned int *count, uint64_t deadline_ns);
int xf_xenbus_set_perms(struct xf_xenbus *xb, xf_xenbus_tx_t tx, const char *path,
                        const char *const *perms, unsigned int n, uint64_t deadline_ns);

/* XS_GET_DOMAIN_PATH of domid into buf (NUL-terminated).
 * Context: not from an event handler.
 * Returns: its length, or -XF_ENOBUFS, -XF_EINVAL, -XF_EPROTO (not one
 *   non-empty terminated string), the errors above. */
int xf_xenbus_get_domain_path(struct xf_xenbus *xb, domid_t domid, char *buf, size_t cap,
                              uint64_t deadline_ns);

/*
 * XS_RESET_WATCHES, only when the server offers it: the toolstack writes
 * "control/platform-feature-xs_reset_watches" = 1 in the domain's home (as
 * Linux checks). Not offered: -XF_EOPNOTSUPP, nothing sent. Meant for
 * start-up (a kexec'd kernel clearing its predecessor's watches): with
 * watches registered in this context it refuses with -XF_EBUSY.
 * Context: not from an event handler.
 * Returns: 0, or -XF_EOPNOTSUPP, -XF_EBUSY (above), -XF_EINVAL, the errors
 *   above.
 */
int xf_xenbus_reset_watches(struct xf_xenbus *xb, uint64_t deadline_ns);

/* ------------------------------------------------------------------------
 * Transactions.
 */

/* XS_TRANSACTION_START: a new transaction's id into *tx (XF_XENBUS_TX_NONE
 * on failure).
 * Context: not from an event handler.
 * Returns: 0, or -XF_EINVAL, -XF_EPROTO (the id is not a nonzero 32-bit
 *   decimal), -XF_ENOSPC (too many open: see "Server limits"), the errors
 *   above. */
int xf_xenbus_transaction_start(struct xf_xenbus *xb, xf_xenbus_tx_t *tx,
                                uint64_t deadline_ns);
/* XS_TRANSACTION_END: commit true: T (commit), false: F (abort).
 * Context: not from an event handler.
 * Returns: 0, or -XF_EAGAIN if another writer intervened (commit),
 *   -XF_EINVAL (tx XF_XENBUS_TX_NONE), the errors above. */
int xf_xenbus_transaction_end(struct xf_xenbus *xb, xf_xenbus_tx_t tx, bool commit,
                              uint64_t deadline_ns);

/*
 * The body of a transaction: does its reads and writes with tx and returns
 * 0 to commit, -XF_EAGAIN to start again (e.g. a read inside it got EAGAIN),
 * or another negative error to abort (returned to the caller).
 */
typedef int xf_xenbus_tx_body_fn(struct xf_xenbus *xb, xf_xenbus_tx_t tx, void *arg);

/*
 * Run body in a transaction, the whole body again whenever the commit (or the
 * body) says -XF_EAGAIN, at most max_attempts times (0 -> 16); then
 * -XF_EAGAIN.
 * Context: not from an event handler (body runs in the caller's context).
 * Returns: 0 once committed, or -XF_EAGAIN (attempts used up), -XF_EINVAL,
 *   the body's / the server's error.
 */
int xf_xenbus_transaction_run(struct xf_xenbus *xb, xf_xenbus_tx_body_fn *body, void *arg,
                              unsigned int max_attempts, uint64_t deadline_ns);

/* ------------------------------------------------------------------------
 * Watches.
 */
struct xf_xenbus_watch;

#define XF_XENBUS_TOKEN_MAX 64     /* bytes of a token, without its NUL */

/* Flags of a dequeued event. */
#define XF_XENBUS_EV_OVERFLOW 1u   /* events were lost here: re-read the subtree */

/* Called (from the event handler) when a watch's queue goes from empty to
 * not empty. Dequeue with xf_xenbus_watch_next() there or later. */
typedef void xf_xenbus_watch_fn(struct xf_xenbus *xb, struct xf_xenbus_watch *w, void *arg);

/*
 * Register a watch on path with token (unique in this context: -XF_EEXIST;
 * 1..XF_XENBUS_TOKEN_MAX bytes). The watch is recorded before XS_WATCH is
 * sent, so the initial event xenstored fires (and any event arriving before
 * the reply) is queued. Waits for the reply; on an error the watch is gone,
 * and its callback never ran (events queue meanwhile, the callback waits
 * for the reply: it runs once, from this call, before it returns 0, if
 * events are queued by then). cb may be NULL (poll with
 * xf_xenbus_watch_next()). *out valid until xf_xenbus_watch_remove().
 * Events whose path is not the watched path or below it are dropped (they
 * are a removed registration's, still in the stream, or a hostile
 * server's); so are events for a token whose earlier watch is still being
 * removed (its UNWATCH not yet answered), so a new watch never receives an
 * old one's events.
 * Context: not from an event handler (it waits).
 * Returns: 0 and the watch in *out, or -XF_EEXIST (token in use),
 *   -XF_EINVAL (bad path or token), -XF_EBUSY (no free watch or request
 *   slot), the server's answer, the errors above.
 *
 * Queue: events are kept in arrival order with their paths, at most
 * watch_queue_events of them and watch_queue_bytes of path. On overflow the
 * event is dropped and the queue ends in one overflow marker (flag
 * XF_XENBUS_EV_OVERFLOW, path = the watched path) which stands for every
 * event dropped until it is dequeued: the reader learns exactly where
 * events were lost and re-reads what it watches. Memory stays bounded
 * whatever the server sends.
 */
int xf_xenbus_watch_add(struct xf_xenbus *xb, const char *path, const char *token,
                        xf_xenbus_watch_fn *cb, void *arg, struct xf_xenbus_watch **out,
                        uint64_t deadline_ns);

/* XS_UNWATCH and forget the watch (queued events discarded; late events for
 * its token are dropped). The watch is forgotten even if the server answers
 * with an error (returned) or the deadline passes (-XF_ETIMEDOUT; the token
 * then stays reserved, its events dropped, until the server answers or the
 * connection resets).
 * Context: not from an event handler (it waits).
 * Returns: 0, or -XF_EINVAL (not a watch of xb), -XF_ETIMEDOUT, the
 *   server's error. */
int xf_xenbus_watch_remove(struct xf_xenbus *xb, struct xf_xenbus_watch *w,
                           uint64_t deadline_ns);

/*
 * Dequeue the oldest event: its path (NUL-terminated) into buf, flags into
 * *flags (may be NULL). len may be NULL.
 * Context: any (callable from an event handler).
 * Returns: 1, 0 if the queue is empty, -XF_ENOBUFS if cap is too small (the
 *   event stays queued; *len = its length), -XF_EINVAL.
 */
int xf_xenbus_watch_next(struct xf_xenbus *xb, struct xf_xenbus_watch *w, char *buf,
                         size_t cap, size_t *len, unsigned int *flags);

/* Wait for and dequeue an event, as xf_xenbus_watch_next().
 * Context: not from an event handler (it waits).
 * Returns: 1, or -XF_ETIMEDOUT, -XF_ENOBUFS, -XF_EINVAL, -XF_ENOTCONN /
 *   -XF_EPROTO if the connection broke. */
int xf_xenbus_watch_wait(struct xf_xenbus *xb, struct xf_xenbus_watch *w, char *buf,
                         size_t cap, size_t *len, unsigned int *flags,
                         uint64_t deadline_ns);

/* Events queued (the overflow marker counts as one).
 * Context: any.
 * Returns: the count; 0 for NULL or a watch no longer registered. */
unsigned int xf_xenbus_watch_pending(const struct xf_xenbus_watch *w);

/* Watches registered in the context.
 * Context: any.
 * Returns: the count; 0 for NULL. */
unsigned int xf_xenbus_watch_count(const struct xf_xenbus *xb);

/* ------------------------------------------------------------------------
 * Typed values (dir/node: node may be NULL for dir itself). Not from an
 * event handler.
 */

/* A decimal unsigned integer (as xenstore stores them: "123"; no sign, no
 * spaces, at most max).
 * Context: not from an event handler.
 * Returns: 0; absent: -XF_ENOENT; malformed or > max: -XF_EINVAL; the
 *   errors above. */
int xf_xenbus_read_uint(struct xf_xenbus *xb, xf_xenbus_tx_t tx, const char *dir,
                        const char *node, uint64_t max, uint64_t *out, uint64_t deadline_ns);
int xf_xenbus_write_uint(struct xf_xenbus *xb, xf_xenbus_tx_t tx, const char *dir,
                         const char *node, uint64_t value, uint64_t deadline_ns);

/* A string value (NUL-terminated into buf).
 * Context: not from an event handler.
 * Returns: 0, or -XF_EINVAL (a value containing NUL), -XF_ENOBUFS (read:
 *   cap too small), the errors above. */
int xf_xenbus_read_str(struct xf_xenbus *xb, xf_xenbus_tx_t tx, const char *dir,
                       const char *node, char *buf, size_t cap, uint64_t deadline_ns);
int xf_xenbus_write_str(struct xf_xenbus *xb, xf_xenbus_tx_t tx, const char *dir,
                        const char *node, const char *value, uint64_t deadline_ns);

/* A feature flag: "1" true, "0" false, absent -> dflt.
 * Context: not from an event handler.
 * Returns: 0, or -XF_EINVAL (anything else), the errors above. */
int xf_xenbus_read_feature(struct xf_xenbus *xb, xf_xenbus_tx_t tx, const char *dir,
                           const char *node, bool dflt, bool *out, uint64_t deadline_ns);

/* ------------------------------------------------------------------------
 * XenBus devices, front end side.
 */
#define XF_XENBUS_PATH_MAX 256     /* device and backend paths kept here */

struct xf_xenbus_dev {
    char nodename[XF_XENBUS_PATH_MAX];  /* "device/<type>/<id>"          */
    char backend[XF_XENBUS_PATH_MAX];   /* the backend's absolute path    */
    domid_t backend_id;
    XenbusState state;                  /* what we last wrote              */
    uint32_t token_seq;                 /* private                         */
};

/*
 * List device/<type>: the ids, as xf_xenbus_directory().
 * Context: not from an event handler.
 * Returns: as xf_xenbus_directory(); a missing device/<type> is no
 *   devices: 0 and *count 0.
 */
int xf_xenbus_dev_list(struct xf_xenbus *xb, const char *type, char *buf, size_t cap,
                       unsigned int *count, uint64_t deadline_ns);

/*
 * Fill dev for device/<type>/<id>: its "backend" (must be an absolute path
 * shorter than XF_XENBUS_PATH_MAX, else -XF_EINVAL) and "backend-id" (a
 * domid below DOMID_FIRST_RESERVED). dev->state is set from our state node
 * (Unknown if absent). On any error *dev is left as it was.
 * Context: not from an event handler.
 * Returns: 0, or -XF_EINVAL, -XF_ENOENT (no such device), the errors above.
 */
int xf_xenbus_dev_init(struct xf_xenbus *xb, struct xf_xenbus_dev *dev, const char *type,
                       const char *id, uint64_t deadline_ns);

/*
 * Read a state node (<dir>/state) into *out: XenbusStateUnknown if absent
 * or unreadable (-XF_EACCES: a removed back-end directory whose parent is
 * dom0's alone reads so, as QEMU and libxl remove it; Linux also reads any
 * error as Unknown).
 * Context: not from an event handler.
 * Returns: 0, or -XF_EINVAL if it is not a state (0..8), the errors above.
 */
int xf_xenbus_read_state(struct xf_xenbus *xb, xf_xenbus_tx_t tx, const char *dir,
                         XenbusState *out, uint64_t deadline_ns);

/*
 * Switch our state: write <nodename>/state inside a transaction that first
 * checks the node still exists (so a device the toolstack removed is not
 * re-created: -XF_ENOENT), retried on EAGAIN. Writing the state we are in
 * is a no-op.
 * Context: not from an event handler.
 * Returns: 0, or -XF_ENOENT (above), -XF_EINVAL, the errors above.
 */
int xf_xenbus_dev_switch(struct xf_xenbus *xb, struct xf_xenbus_dev *dev, XenbusState state,
                         uint64_t deadline_ns);

#define XF_XENBUS_STATE_BIT(s) (1u << (s))

/*
 * Wait until the backend's state is in mask (XF_XENBUS_STATE_BIT()s): a
 * watch on <backend>/state for the duration (token "xf-xenbus-wait-<n>",
 * a number not in use by the caller's watches).
 * Context: not from an event handler (it waits).
 * Returns: 0 and the state in *out (may be NULL). If the backend goes to
 *   Closing or Closed (or its state node vanishes) and mask does not
 *   include that state: -XF_ENOTCONN with *out set, so the driver can
 *   follow it (xf_xenbus_dev_close()). -XF_ETIMEDOUT at the deadline,
 *   however fast the store answers and the backend changes; the errors
 *   above.
 */
int xf_xenbus_dev_wait_backend(struct xf_xenbus *xb, struct xf_xenbus_dev *dev,
                               uint32_t mask, XenbusState *out, uint64_t deadline_ns);

/*
 * The front end's part of the handshake after it published its rings:
 * Initialised, wait for the backend to be Connected, then Connected.
 * Context: not from an event handler (it waits).
 * Returns: 0, or as xf_xenbus_dev_switch() and
 *   xf_xenbus_dev_wait_backend() (-XF_ENOTCONN: the backend is closing).
 */
int xf_xenbus_dev_connect(struct xf_xenbus *xb, struct xf_xenbus_dev *dev,
                          uint64_t deadline_ns);

/*
 * Close, following the backend: Closing, wait for the backend to be Closing
 * or Closed, then Closed, and wait for the backend to be Closed (or gone, or
 * back at InitWait for a new connection). Also the answer to
 * xf_xenbus_dev_wait_backend()'s -XF_ENOTCONN.
 * Context: not from an event handler (it waits).
 * Returns: 0, or as xf_xenbus_dev_switch() and
 *   xf_xenbus_dev_wait_backend().
 */
int xf_xenbus_dev_close(struct xf_xenbus *xb, struct xf_xenbus_dev *dev,
                        uint64_t deadline_ns);

/*
 * The second half of xf_xenbus_dev_close(): Closed, then wait for the
 * backend to be Closed (or gone, or back at Initialising/InitWait). For a
 * front end following a backend that is already Closing: Linux's blkback
 * lets go of the rings and grants only on the front end's Closed, so a
 * driver says Closed and waits before it ends access to them.
 * Context: not from an event handler (it waits).
 * Returns: 0, or as xf_xenbus_dev_switch() and
 *   xf_xenbus_dev_wait_backend().
 */
int xf_xenbus_dev_closed(struct xf_xenbus *xb, struct xf_xenbus_dev *dev,
                         uint64_t deadline_ns);

/*
 * Reconnect after a close: re-read backend and backend-id (the toolstack may
 * have moved it), switch to Initialising, wait for the backend's InitWait.
 * The driver then publishes its rings and calls xf_xenbus_dev_connect().
 * Both values are read and checked before anything is stored: if either is
 * bad, or the switch fails, dev is unchanged; once the switch succeeded dev
 * names the new backend (and its id), whatever the wait returns.
 * Context: not from an event handler (it waits).
 * Returns: 0, or -XF_EINVAL (a bad backend or backend-id), as
 *   xf_xenbus_dev_switch() and xf_xenbus_dev_wait_backend().
 */
int xf_xenbus_dev_reconnect(struct xf_xenbus *xb, struct xf_xenbus_dev *dev,
                            uint64_t deadline_ns);

/* ------------------------------------------------------------------------
 * Errors.
 */

/* xenstored's error string (len bytes, NUL optional) as a negative errno:
 * the table of xs_wire.h's xsd_errors[], and oxenstored's "EQUOTA" as
 * -XF_ENOSPC.
 * Context: any.
 * Returns: the matching -XF_E*; unknown (or s NULL): -XF_EIO. */
int xf_xenbus_error_from_string(const char *s, size_t len);

#ifdef __cplusplus
}
#endif

#endif /* XENFRONT_XENBUS_H */
