/*
 * console/src/secondary.c: secondary consoles, device/console/<n>, through
 * XenBus: a granted ring page, an unbound event channel, the front end's
 * side of the state machine, and following the back end when it leaves.
 * The only object of libconsole.a that refers to libxenbus and libgnttab.
 */
#include <xenfront/console_secondary.h>

#include "private.h"

#define ID_MAX 32

struct sec {
    struct xf_console con;          /* first: the ring code sees only this */
    struct xf_xenbus *xb;
    struct xf_gnttab *gt;
    struct xf_xenbus_dev dev;
    struct xf_xenbus_watch *watch;
    void *ring;                     /* the page; NULL once handed back      */
    grant_ref_t ref;
    bool granted;
    bool bound;
    bool published;
    bool closed;                    /* the handshake to Closed was done     */
    uint8_t changed;                /* the back end's state node changed    */
    xf_console_backend_fn *backend_changed;
    void *backend_changed_arg;
};

_Static_assert(sizeof(struct sec) <= XF_PAGE_SIZE, "a secondary context is one page");

static int sec_service_op(struct xf_console *con, uint64_t deadline_ns);

static const struct xf_console_ops sec_ops = {
    .service = sec_service_op,
};

static struct sec *to_sec(struct xf_console *con)
{
    return con != NULL && con->ops == &sec_ops ? (struct sec *)(void *)con : NULL;
}

/* libgnttab calls this once the back end no longer holds the ring page. */
static void free_ring(struct xf_gnttab *gt, void *page, void *arg)
{
    (void)gt;
    (void)arg;
    xf_plat_page_free(page, 1);
}

/* Give back the port, the grant and the page, and stop watching. */
static void release(struct sec *s, uint64_t deadline_ns)
{
    int rc;

    if (s->watch != NULL) {
        (void)xf_xenbus_watch_remove(s->xb, s->watch, deadline_ns);
        s->watch = NULL;
    }
    if (s->bound) {
        (void)xf_evtchn_close(s->con.ec, s->con.port);
        s->bound = false;
    }
    if (s->granted) {
        /* Never free a page the back end may still map: libgnttab ends the
         * grant now or once the back end lets go, then frees the page. */
        rc = xf_gnttab_end_access_deferred(s->gt, s->ref, s->ring, free_ring, NULL);
        if (rc < 0)
            xf_log(XF_LOG_ERROR,
                   "console: %s: cannot end access to ring page (ref %u, %d): page leaked",
                   s->dev.nodename, (unsigned)s->ref, rc);
        s->granted = false;
        s->ring = NULL;
        s->ref = 0;
    } else if (s->ring != NULL) {
        xf_plat_page_free(s->ring, 1);
        s->ring = NULL;
    }
}

/* The watch on <backend>/state: from the event handler. */
static void on_backend_state(struct xf_xenbus *xb, struct xf_xenbus_watch *w, void *arg)
{
    struct sec *s = arg;
    char path[XF_XENBUS_PATH_MAX + 8];

    /* Empty the queue so that the next change calls us again. */
    while (xf_xenbus_watch_next(xb, w, path, sizeof(path), NULL, NULL) == 1)
        ;
    XF_WRITE_ONCE(s->changed, 1);
    if (s->backend_changed != NULL)
        s->backend_changed(&s->con, s->backend_changed_arg);
}

struct publish_arg {
    struct sec *s;
    uint64_t deadline_ns;
};

static int publish_body(struct xf_xenbus *xb, xf_xenbus_tx_t tx, void *argp)
{
    struct publish_arg *a = argp;
    int rc;

    rc = xf_xenbus_write_uint(xb, tx, a->s->dev.nodename, "ring-ref", a->s->ref,
                              a->deadline_ns);
    if (rc == 0)
        rc = xf_xenbus_write_uint(xb, tx, a->s->dev.nodename, "port", a->s->con.port,
                                  a->deadline_ns);
    return rc;
}

static bool id_ok(const char *id)
{
    size_t n = 0;

    if (id == NULL)
        return false;
    for (; id[n] != '\0'; n++)
        if (id[n] == '/' || n >= ID_MAX)
            return false;
    return n > 0;
}

int xf_console_secondary_open(struct xf_console **out, struct xf_xenbus *xb,
                              struct xf_evtchn *ec, struct xf_gnttab *gt, const char *id,
                              const struct xf_console_secondary_config *cfg,
                              uint64_t deadline_ns)
{
    struct xf_console_config ccfg = { 0 };
    struct publish_arg pa;
    struct sec *s;
    char path[XF_XENBUS_PATH_MAX + 8];
    char token[ID_MAX + 16];
    size_t n;
    int rc;

    if (out == NULL || xb == NULL || ec == NULL || gt == NULL || !id_ok(id))
        return -XF_EINVAL;
    s = xf_plat_page_alloc(1);
    if (s == NULL)
        return -XF_ENOMEM;
    memset(s, 0, sizeof(*s));
    s->xb = xb;
    s->gt = gt;
    s->con.ec = ec;
    s->con.ops = &sec_ops;
    if (cfg != NULL) {
        ccfg.input = cfg->input;
        ccfg.input_arg = cfg->input_arg;
        s->backend_changed = cfg->backend_changed;
        s->backend_changed_arg = cfg->backend_changed_arg;
    }

    rc = xf_xenbus_dev_init(xb, &s->dev, "console", id, deadline_ns);
    if (rc < 0)
        goto fail;
    s->ring = xf_plat_page_alloc(1);
    if (s->ring == NULL) {
        rc = -XF_ENOMEM;
        goto fail;
    }
    /* A fresh zeroed page: indices at zero. */
    rc = xf_console_priv_init(&s->con, s->ring, &ccfg);
    if (rc < 0)
        goto fail;
    rc = xf_gnttab_grant_page(gt, s->dev.backend_id, s->ring, false, &s->ref);
    if (rc < 0)
        goto fail;
    s->granted = true;
    rc = xf_evtchn_alloc_unbound(ec, s->dev.backend_id, xf_console_priv_handler, &s->con,
                                 &s->con.port);
    if (rc < 0)
        goto fail;
    s->bound = true;

    /* Watch the back end before connecting, so no change is missed. */
    n = strlen(s->dev.backend);
    memcpy(path, s->dev.backend, n);
    memcpy(path + n, "/state", 7);
    memcpy(token, "xf-console-", 11);
    memcpy(token + 11, id, strlen(id) + 1);
    rc = xf_xenbus_watch_add(xb, path, token, on_backend_state, s, &s->watch, deadline_ns);
    if (rc < 0) {
        s->watch = NULL;
        goto fail;
    }

    pa = (struct publish_arg){ s, deadline_ns };
    rc = xf_xenbus_transaction_run(xb, publish_body, &pa, 0, deadline_ns);
    if (rc < 0)
        goto fail;
    s->published = true;
    rc = xf_xenbus_dev_connect(xb, &s->dev, deadline_ns);
    if (rc < 0)
        goto fail;
    XF_WRITE_ONCE(s->changed, 0);
    xf_log(XF_LOG_INFO, "console: %s connected (ring-ref %u, port %u, backend %s)",
           s->dev.nodename, (unsigned)s->ref, (unsigned)s->con.port, s->dev.backend);
    *out = &s->con;
    return 0;

fail:
    xf_log(XF_LOG_WARN, "console: device/console/%s: open failed (%d)", id, rc);
    if (s->published)
        (void)xf_xenbus_dev_switch(xb, &s->dev, XenbusStateClosed, deadline_ns);
    release(s, deadline_ns);
    xf_plat_page_free(s, 1);
    return rc;
}

/* Follow a back end that is leaving; the console becomes -XF_ENOTCONN. */
static int follow_close(struct sec *s, uint64_t deadline_ns)
{
    int rc;

    xf_console_priv_fail(&s->con, -XF_ENOTCONN);
    s->closed = true;
    rc = xf_xenbus_dev_close(s->xb, &s->dev, deadline_ns);
    if (rc < 0)
        xf_log(XF_LOG_WARN, "console: %s: close handshake incomplete (%d)",
               s->dev.nodename, rc);
    release(s, deadline_ns);
    xf_log(XF_LOG_INFO, "console: %s closed by the back end", s->dev.nodename);
    return -XF_ENOTCONN;
}

int xf_console_secondary_service(struct xf_console *con, bool force, uint64_t deadline_ns)
{
    struct sec *s = to_sec(con);
    XenbusState st;
    int rc;

    if (s == NULL)
        return -XF_EINVAL;
    if (s->closed)
        return -XF_ENOTCONN;
    if (!force && !XF_READ_ONCE(s->changed))
        return 0;
    XF_WRITE_ONCE(s->changed, 0);
    rc = xf_xenbus_read_state(s->xb, XF_XENBUS_TX_NONE, s->dev.backend, &st, deadline_ns);
    if (rc < 0) {
        XF_WRITE_ONCE(s->changed, 1);   /* look again next time */
        return rc;
    }
    switch (st) {
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
        xf_console_priv_fail(con, -XF_ENOTCONN);
        s->closed = true;
        rc = xf_xenbus_dev_close(s->xb, &s->dev, deadline_ns);
    }
    release(s, deadline_ns);
    xf_plat_page_free(s, 1);
    return rc;
}

grant_ref_t xf_console_secondary_ring_ref(const struct xf_console *con)
{
    if (con == NULL || con->ops != &sec_ops)
        return 0;
    return ((const struct sec *)(const void *)con)->ref;
}
