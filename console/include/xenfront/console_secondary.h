/*
 * xenfront/console_secondary.h: secondary PV consoles through XenBus
 * (device/console/<n>), part of libxfconsole.a, on the front-end device
 * layer (libxffrontdev). XF_CONSOLE_HAVE_SECONDARY marks this header.
 *
 * A secondary console is the same ring as the primary one (struct
 * xencons_interface, all of <xenfront/console.h> applies to it: write,
 * write_all, read, poll, status), negotiated the way Linux's hvc_xen and
 * the back ends (QEMU's xen-console, xenconsoled) expect:
 *
 *   1. the front end reads device/console/<n>/backend and backend-id;
 *   2. allocates a zeroed ring page and grants it, writable, to the back
 *      end's domain; allocates an event channel unbound for that domain;
 *   3. writes ring-ref (the grant reference) and port (the event channel)
 *      under device/console/<n> in one transaction;
 *   4. switches to Initialised (QEMU 9 and later wait for it), waits for
 *      the back end to be Connected, switches to Connected.
 *
 * The back end may leave at any time. A watch on its state node notices
 * (the optional backend_changed callback runs from the event handler);
 * xf_console_secondary_service(), from thread context, then follows it:
 * Closing, wait, Closed, close the port, end access to the ring page.
 * Access is ended safely: while the back end still maps the page, it is
 * left to libgnttab's deferred list and freed only once released. After
 * that every call on the console returns -XF_ENOTCONN; the context stays
 * until xf_console_secondary_close().
 *
 * Linking: these functions live in their own object of libxfconsole.a. Only a
 * kernel that calls them links libxenbus and libgnttab.
 */
#ifndef XENFRONT_CONSOLE_SECONDARY_H
#define XENFRONT_CONSOLE_SECONDARY_H

#include <xenfront/console.h>
#include <xenfront/gnttab.h>
#include <xenfront/xenbus.h>

#ifdef __cplusplus
extern "C" {
#endif

#define XF_CONSOLE_HAVE_SECONDARY 1

/* Called from the event handler (a xenstore watch callback) when the back
 * end's state node changes: schedule xf_console_secondary_service(). */
typedef void xf_console_backend_fn(struct xf_console *con, void *arg);

struct xf_console_secondary_config {
    xf_console_input_fn *input;          /* as struct xf_console_config */
    void *input_arg;
    xf_console_backend_fn *backend_changed;   /* may be NULL */
    void *backend_changed_arg;
};

/*
 * Open device/console/<id> and connect it (steps 1-4 above), waiting until
 * the back end is Connected or deadline_ns passes. xb, ec and gt must
 * outlive the console. cfg may be NULL.
 * On success *out is the caller's until xf_console_secondary_close().
 * On failure everything taken is given back (the port closed, the grant
 * ended or deferred, our state set to Closed best-effort before the
 * deadline).
 * Context: not from an event handler (it waits).
 * Returns: 0, or
 *   -XF_EINVAL (NULL argument, id empty or over 32 bytes or with a '/'),
 *   -XF_ENOENT (no such device), -XF_ENOTCONN (the back end is closing),
 *   -XF_ETIMEDOUT, -XF_ENOMEM, or the error of libxenbus, libgnttab or
 *   libevtchn.
 */
int xf_console_secondary_open(struct xf_console **out, struct xf_xenbus *xb,
                              struct xf_evtchn *ec, struct xf_gnttab *gt, const char *id,
                              const struct xf_console_secondary_config *cfg,
                              uint64_t deadline_ns) XF_MUST_CHECK;

/*
 * Look at the back end (only if its state changed since the last look, or
 * always when force): if it is closing or gone, follow it and release the
 * ring (see above). Also run by xf_console_write_all() and
 * xf_console_flush() while they wait, so a writer whose back end leaves
 * gets -XF_ENOTCONN instead of waiting for its deadline.
 * Context: not from an event handler (from the backend_changed callback,
 *   schedule it instead).
 * Returns: 0 while connected, -XF_ENOTCONN once closed (now or before),
 *   -XF_EINVAL (con NULL or not a secondary console), or a xenstore error
 *   (-XF_ETIMEDOUT ...; the console is then left as it was, try again).
 */
int xf_console_secondary_service(struct xf_console *con, bool force, uint64_t deadline_ns);

/*
 * Close a secondary console from our side (unless the back end already
 * did): Closing, wait for the back end, Closed; close the port, end
 * access to the ring (deferred while the back end still maps it), remove
 * the watch, free the context. The context is freed whatever happens
 * (a console that is not a secondary one is refused and left alone).
 * Context: not from an event handler (it waits).
 * Returns: whether the handshake completed: 0, or -XF_ETIMEDOUT / the
 *   xenstore error; -XF_EINVAL for a primary console; NULL: 0.
 */
int xf_console_secondary_close(struct xf_console *con, uint64_t deadline_ns);

/* The grant reference of the ring page (for tests and diagnostics).
 * Context: any (it only reads).
 * Returns: the reference, or 0 once released (or for NULL or a primary
 *   console). */
grant_ref_t xf_console_secondary_ring_ref(const struct xf_console *con);

#ifdef __cplusplus
}
#endif

#endif /* XENFRONT_CONSOLE_SECONDARY_H */
