/*
 * console/src/secondary.c: secondary consoles, device/console/<n>, through
 * XenBus, on the front-end device layer (libxffrontdev): a granted ring
 * page, an unbound event channel, the front end's side of the state
 * machine, and following the back end when it leaves. The only object of
 * the console library that refers to libxffrontdev, libxenbus and libgnttab.
 */
#include <xenfront/console_secondary.h>

#include <xenfront/frontdev.h>

#include "private.h"

struct sec {
    struct xf_console con;          /* first: the ring code sees only this */
    struct xf_frontdev fd;          /* the device, its back end, the watch  */
    struct xf_frontdev_ring ring;   /* one granted page: xencons_interface  */
    bool bound;
    bool published;
    bool closed;                    /* the handshake to Closed was done     */
    xf_console_backend_fn *backend_changed;
    void *backend_changed_arg;
};

/* The context and its device layer, in whole pages of their own. */
#define SEC_PAGES ((sizeof(struct sec) + XF_PAGE_SIZE - 1) / XF_PAGE_SIZE)
_Static_assert(SEC_PAGES <= 2, "a secondary context is at most two pages");

static int sec_service_op(struct xf_console *con, uint64_t deadline_ns);

static const struct xf_console_ops sec_ops = {
    .service = sec_service_op,
};

static struct sec *to_sec(struct xf_console *con)
{
    return con != NULL && con->ops == &sec_ops ? (struct sec *)(void *)con : NULL;
}

/* Give back the port, the grant and the page, and stop watching. */
static void release(struct sec *s, uint64_t deadline_ns)
{
    xf_frontdev_close(&s->fd, deadline_ns);
    if (s->bound) {
        xf_frontdev_evtchn_free(&s->fd, s->con.port);
        s->bound = false;
    }
    /* Never frees a page the back end may still map: the device layer
     * ends the grant now or once the back end lets go. */
    (void)xf_frontdev_ring_teardown(&s->fd, &s->ring);
}

/* The back end's state changed: from the event handler. */
static void on_backend_state(struct xf_frontdev *fd, void *arg)
{
    struct sec *s = arg;

    (void)fd;
    if (s->backend_changed != NULL)
        s->backend_changed(&s->con, s->backend_changed_arg);
}

static int publish_body(struct xf_frontdev *fd, xf_xenbus_tx_t tx, void *arg,
                        uint64_t deadline_ns)
{
    struct sec *s = arg;
    int rc;

    rc = xf_frontdev_write_ring(fd, tx, NULL, "ring-ref", &s->ring, deadline_ns);
    if (rc == 0)
        rc = xf_frontdev_write_uint(fd, tx, NULL, "port", s->con.port, deadline_ns);
    return rc;
}

int xf_console_secondary_open(struct xf_console **out, struct xf_xenbus *xb,
                              struct xf_evtchn *ec, struct xf_gnttab *gt, const char *id,
                              const struct xf_console_secondary_config *cfg,
                              uint64_t deadline_ns)
{
    struct xf_console_config ccfg = { 0 };
    struct sec *s;
    int rc;

    if (out == NULL || xb == NULL || ec == NULL || gt == NULL || id == NULL)
        return -XF_EINVAL;
    s = xf_plat_page_alloc(SEC_PAGES);
    if (s == NULL)
        return -XF_ENOMEM;
    memset(s, 0, sizeof(*s));
    s->con.ec = ec;
    s->con.ops = &sec_ops;
    if (cfg != NULL) {
        ccfg.input = cfg->input;
        ccfg.input_arg = cfg->input_arg;
        s->backend_changed = cfg->backend_changed;
        s->backend_changed_arg = cfg->backend_changed_arg;
    }

    /* Opening watches the back end before anything is published, so no
     * change is missed. */
    rc = xf_frontdev_open(&s->fd, xb, ec, gt, "console", id, on_backend_state, s, deadline_ns);
    if (rc < 0) {
        xf_plat_page_free(s, SEC_PAGES);
        return rc;
    }
    rc = xf_frontdev_ring_setup(&s->fd, &s->ring, 0);
    if (rc < 0)
        goto fail;
    /* A fresh zeroed page: indices at zero. */
    rc = xf_console__init(&s->con, s->ring.sring, &ccfg);
    if (rc < 0)
        goto fail;
    rc = xf_frontdev_evtchn_alloc(&s->fd, xf_console__handler, &s->con, &s->con.port);
    if (rc < 0)
        goto fail;
    s->bound = true;
    rc = xf_frontdev_publish(&s->fd, publish_body, s, deadline_ns);
    if (rc < 0)
        goto fail;
    s->published = true;
    rc = xf_xenbus_dev_connect(xb, &s->fd.dev, deadline_ns);
    if (rc < 0)
        goto fail;
    /* Take in what the back end did during the handshake; a change that
     * lands after this stays flagged for the next service call. */
    (void)xf_frontdev_service(&s->fd, false, deadline_ns);
    xf_log(XF_LOG_INFO, "console: %s connected (ring-ref %u, port %u, backend %s)",
           s->fd.dev.nodename, (unsigned)s->ring.refs[0], (unsigned)s->con.port,
           s->fd.dev.backend);
    *out = &s->con;
    return 0;

fail:
    xf_log(XF_LOG_WARN, "console: device/console/%s: open failed (%d)", id, rc);
    if (s->published)
        (void)xf_frontdev_switch(&s->fd, XenbusStateClosed, deadline_ns);
    release(s, deadline_ns);
    xf_plat_page_free(s, SEC_PAGES);
    return rc;
}

/* Follow a back end that is leaving; the console becomes -XF_ENOTCONN. */
static int follow_close(struct sec *s, uint64_t deadline_ns)
{
    int rc;

    xf_console__fail(&s->con, -XF_ENOTCONN);
    s->closed = true;
    rc = xf_xenbus_dev_close(s->fd.xb, &s->fd.dev, deadline_ns);
    if (rc < 0)
        xf_log(XF_LOG_WARN, "console: %s: close handshake incomplete (%d)",
               s->fd.dev.nodename, rc);
    xf_log(XF_LOG_INFO, "console: %s closed by the back end", s->fd.dev.nodename);
    release(s, deadline_ns);
    return -XF_ENOTCONN;
}

int xf_console_secondary_service(struct xf_console *con, bool force, uint64_t deadline_ns)
{
    struct sec *s = to_sec(con);
    int rc;

    if (s == NULL)
        return -XF_EINVAL;
    if (s->closed)
        return -XF_ENOTCONN;
    rc = xf_frontdev_service(&s->fd, force, deadline_ns);
    if (rc <= 0)
        return rc;
    switch (s->fd.backend_state) {
    case XenbusStateClosing:
    case XenbusStateClosed:
    case XenbusStateUnknown:    /* its state node vanished */
        return follow_close(s, deadline_ns);
    default:
        return 0;
    }
}

static int sec_service_op(struct xf_console *con, uint64_t deadline_ns)
{
    int rc = xf_console_secondary_service(con, false, deadline_ns);

    /* Only a closed back end ends a wait; a slow xenstore does not. */
    return rc == -XF_ENOTCONN ? rc : 0;
}

int xf_console_secondary_close(struct xf_console *con, uint64_t deadline_ns)
{
    struct sec *s = to_sec(con);
    int rc = 0;

    if (con == NULL)
        return 0;
    if (s == NULL)
        return -XF_EINVAL;
    if (!s->closed) {
        xf_console__fail(con, -XF_ENOTCONN);
        s->closed = true;
        rc = xf_xenbus_dev_close(s->fd.xb, &s->fd.dev, deadline_ns);
    }
    release(s, deadline_ns);
    xf_plat_page_free(s, SEC_PAGES);
    return rc;
}

grant_ref_t xf_console_secondary_ring_ref(const struct xf_console *con)
{
    if (con == NULL || con->ops != &sec_ops)
        return 0;
    return ((const struct sec *)(const void *)con)->ring.refs[0];
}
