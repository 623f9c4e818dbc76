/*
 * xenfront/xenbus_transport.h: plugging another byte stream under the
 * xenstore client.
 *
 * The client core sees its connection as two byte streams carrying
 * xsd_sockmsg messages, whatever carries them: the shared ring
 * (xf_xenbus_create_ring()), xenstored's unix socket (libxfxenbus_host.a), or
 * an embedder's own. A transport is a table of functions over an opaque
 * pointer. The core calls them only from xf_xenbus_* calls on the context,
 * serialised as the context is (send/recv/kick/status may therefore run in
 * an event handler and must not block).
 */
#ifndef XENFRONT_XENBUS_TRANSPORT_H
#define XENFRONT_XENBUS_TRANSPORT_H

#include <xenfront/xenbus.h>

#ifdef __cplusplus
extern "C" {
#endif

/* status() values. */
#define XF_XENBUS_LINK_UP           0   /* bytes may flow                     */
#define XF_XENBUS_LINK_RECONNECTING 1   /* a reset is in progress: no I/O     */

struct xf_xenbus_transport_ops {
    /* Copy up to len bytes into the stream to the server. Returns the bytes
     * taken (0: no room now), or a negative error: the link is broken. */
    long (*send)(void *t, const void *buf, size_t len);
    /* Copy up to len bytes from the server's stream. Returns the bytes
     * copied (0: none now), or a negative error (-XF_EPROTO for a peer that
     * broke the transport's rules, -XF_ENOTCONN for a closed link). */
    long (*recv)(void *t, void *buf, size_t len);
    /* Tell the server bytes were produced or consumed. May be NULL. */
    void (*kick)(void *t);
    /* XF_XENBUS_LINK_UP, XF_XENBUS_LINK_RECONNECTING, or a negative error. */
    int (*status)(void *t);
    /* Start a reset of the link (both streams emptied, server state gone);
     * status() reports RECONNECTING until it is done. NULL or -XF_EOPNOTSUPP
     * if the transport cannot. */
    int (*reset)(void *t);
    /* Block until something may have happened on the link or the deadline
     * (xf_plat_now_ns() time) passes: 0 or -XF_ETIMEDOUT. want_send: the
     * core has bytes waiting for room. Never called from a handler. */
    int (*wait)(void *t, uint64_t deadline_ns, bool want_send);
    /* Release the transport (destroy). May be NULL. */
    void (*close)(void *t);
    /* How many times the server reset the link without being asked (it
     * set the ring's connection field itself, or rewrote what only we
     * write): a counter the core compares with the value it last handled;
     * it then fails what was in flight with -XF_ECONNRESET and registers
     * the watches again. Resets started by reset() are not counted. The
     * streams must restart on a message boundary. May be NULL (a
     * transport whose server cannot do that). */
    unsigned long (*resets)(void *t);
};

/*
 * Create a context over a transport. The context owns t from now on (it
 * calls ops->close(t) at destroy, and on failure here). ops must stay valid
 * for the context's life. Errors: -XF_EINVAL, -XF_ENOMEM.
 */
int xf_xenbus_create_transport(struct xf_xenbus **out, const struct xf_xenbus_config *cfg,
                               const struct xf_xenbus_transport_ops *ops,
                               void *t) XF_MUST_CHECK;

#ifdef __cplusplus
}
#endif

#endif /* XENFRONT_XENBUS_TRANSPORT_H */
