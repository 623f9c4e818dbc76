/*
 * xenfront/xenbus_host.h: the xenstore client over xenstored's unix socket
 * (libxfxenbus_host.a, host flavour only: it uses POSIX sockets).
 *
 * xenstored speaks the same xsd_sockmsg stream on its socket as on a
 * domain's ring; a connection made there is privileged (dom0 tools use
 * it): relative paths resolve to /local/domain/0. Everything of
 * <xenfront/xenbus.h> works on such a context except
 * xf_xenbus_reconnect() (-XF_EOPNOTSUPP: reopen instead). The synchronous
 * helpers wait with poll(2). The seam's xf_plat_page_alloc() and
 * xf_plat_now_ns() are still used (a host program provides them, as the
 * simulator does in tests).
 */
#ifndef XENFRONT_XENBUS_HOST_H
#define XENFRONT_XENBUS_HOST_H

#include <xenfront/xenbus.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Connect to xenstored's socket at path (NULL: $XENSTORED_PATH, else
 * /var/run/xenstored/socket). The context reads ahead into a buffer of
 * its own (one recv per reply), so the socket need not look readable
 * while replies are waiting: wait through the library, not by polling the
 * descriptor.
 * Context: not from an event handler (as every create).
 * Returns: 0 and the context in *out, or -XF_EINVAL (out NULL, a path too
 *   long for a unix socket, cfg out of range), -XF_ENOMEM, the negated
 *   errno of socket(2)/connect(2)/fcntl(2). */
int xf_xenbus_create_socket(struct xf_xenbus **out, const struct xf_xenbus_config *cfg,
                            const char *path) XF_MUST_CHECK;

/* Use an already connected stream socket (the context owns fd and closes it
 * at destroy, or on failure here). It is made non-blocking, and read
 * exactly as far as processing goes, so an embedder may poll fd itself.
 * Context: not from an event handler (as every create).
 * Returns: 0 and the context in *out, or -XF_EINVAL (out NULL, fd < 0,
 *   cfg out of range), -XF_ENOMEM, the negated errno of fcntl(2). */
int xf_xenbus_create_fd(struct xf_xenbus **out, const struct xf_xenbus_config *cfg,
                        int fd) XF_MUST_CHECK;

#ifdef __cplusplus
}
#endif

#endif /* XENFRONT_XENBUS_HOST_H */
