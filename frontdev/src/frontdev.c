/*
 * The front-end device layer: opening a XenBus device, following its back
 * end's state, and the paths, reads and writes of negotiation. Rings and
 * event channels are in ring.c. See xenfront/frontdev.h for the contract.
 */
#include "private.h"

static bool name_ok(const char *s)
{
    size_t n = 0;

    if (s == NULL)
        return false;
    for (; s[n] != '\0'; n++)
        if (s[n] == '/' || n >= XF_FRONTDEV__NAME_MAX)
            return false;
    return n > 0;
}

int xf_frontdev_path(char *buf, size_t cap, const char *dir, const char *node, int index)
{
    char num[12];
    size_t len = 0, nd = dir != NULL ? strlen(dir) : 0, nn = node != NULL ? strlen(node) : 0;
    size_t nk = 0;

    if (buf == NULL || cap == 0)
        return -XF_EINVAL;
    if (index >= 0) {
        unsigned int v = (unsigned int)index;
        char rev[12];

        do {
            rev[nk++] = (char)('0' + v % 10);
            v /= 10;
        } while (v != 0);
        for (size_t i = 0; i < nk; i++)
            num[i] = rev[nk - 1 - i];
    }
    /* dir, '/' between dir and a node or number, node, number, NUL */
    if (nd + ((nd != 0 && (nn != 0 || nk != 0)) ? 1 : 0) + nn + nk + 1 > cap) {
        buf[0] = '\0';
        return -XF_ENAMETOOLONG;
    }
    memcpy(buf, dir != NULL ? dir : "", nd);
    len = nd;
    if (nd != 0 && (nn != 0 || nk != 0))
        buf[len++] = '/';
    memcpy(buf + len, node != NULL ? node : "", nn);
    len += nn;
    memcpy(buf + len, num, nk);
    len += nk;
    buf[len] = '\0';
    return (int)len;
}

/*
 * The watch on <backend>/state, from the xenstore event handler. It drains
 * the whole queue: callbacks fire when the queue goes from empty to
 * non-empty, so an event left queued (one that does not fit a buffer, say
 * a child of the state node with a long name) would silence the watch for
 * good. evbuf holds any event a server can send; should one still not fit,
 * the overflow marker path of the watched node follows anyway.
 */
static void on_backend_state(struct xf_xenbus *xb, struct xf_xenbus_watch *w, void *arg)
{
    struct xf_frontdev *fd = arg;

    /* Bounded: the queue holds at most the context's watch_queue_events. */
    while (xf_xenbus_watch_next(xb, w, fd->evbuf, sizeof(fd->evbuf), NULL, NULL) == 1)
        ;
    XF_WRITE_ONCE(fd->changed, 1);
    if (fd->changed_cb != NULL)
        fd->changed_cb(fd, fd->changed_arg);
}

/* Read the back end's state node; absent, unreadable (a removed back-end
 * directory: see xf_xenbus_read_state) or garbage is Unknown. */
static int read_backend_state(struct xf_frontdev *fd, XenbusState *st, uint64_t deadline_ns)
{
    int rc = xf_xenbus_read_state(fd->xb, XF_XENBUS_TX_NONE, fd->dev.backend, st, deadline_ns);

    if (rc == -XF_EINVAL) {
        *st = XenbusStateUnknown;
        return 0;
    }
    return rc;
}

int xf_frontdev_open(struct xf_frontdev *fd, struct xf_xenbus *xb, struct xf_evtchn *ec,
                     struct xf_gnttab *gt, const char *type, const char *id,
                     xf_frontdev_changed_fn *cb, void *arg, uint64_t deadline_ns)
{
    char path[XF_XENBUS_PATH_MAX + 8];
    XenbusState st = XenbusStateUnknown;
    int rc;

    if (fd == NULL || xb == NULL || ec == NULL || gt == NULL || !name_ok(type) || !name_ok(id))
        return -XF_EINVAL;
    memset(fd, 0, sizeof(*fd));
    fd->xb = xb;
    fd->ec = ec;
    fd->gt = gt;
    fd->changed_cb = cb;
    fd->changed_arg = arg;
    rc = xf_xenbus_dev_init(xb, &fd->dev, type, id, deadline_ns);
    if (rc < 0)
        goto fail;
    rc = xf_frontdev_path(path, sizeof(path), fd->dev.backend, "state", -1);
    if (rc < 0)
        goto fail;
    /* One token per device: "xf-fd:<type>/<id>", cut to leave room for a
     * "#<n>" retry suffix within libxenbus's token limit. A cut token that
     * meets another device's is made unique by the retry below. */
    {
        size_t n = 0, cap = XF_XENBUS_TOKEN_MAX - 3;
        const char *parts[3] = { "xf-fd:", type, id };

        for (int k = 0; k < 3; k++) {
            if (k == 2 && n < cap)
                fd->token[n++] = '/';
            for (const char *c = parts[k]; *c != '\0' && n < cap; c++)
                fd->token[n++] = *c;
        }
        fd->token[n] = '\0';
    }
    /* Watch before the first read, so no change between the two is lost.
     * The token is ours by convention only: if the caller (or another
     * device) already uses it, try the next numbered one. */
    {
        size_t base = strlen(fd->token);

        for (int n = 0;; n++) {
            rc = xf_xenbus_watch_add(xb, path, fd->token, on_backend_state, fd, &fd->watch,
                                     deadline_ns);
            if (rc != -XF_EEXIST || n == 16)
                break;
            (void)xf_frontdev_path(fd->token + base, sizeof(fd->token) - base, NULL, "#", n + 1);
        }
    }
    if (rc < 0) {
        fd->watch = NULL;
        goto fail;
    }
    rc = read_backend_state(fd, &st, deadline_ns);
    if (rc < 0)
        goto fail;
    fd->backend_state = st;
    XF_WRITE_ONCE(fd->changed, 0);
    fd->open = true;
    return 0;

fail:
    if (fd->watch != NULL)
        (void)xf_xenbus_watch_remove(xb, fd->watch, deadline_ns);
    memset(fd, 0, sizeof(*fd));
    return rc;
}

void xf_frontdev_close(struct xf_frontdev *fd, uint64_t deadline_ns)
{
    if (fd == NULL || !fd->open)
        return;
    if (fd->watch != NULL)
        (void)xf_xenbus_watch_remove(fd->xb, fd->watch, deadline_ns);
    fd->watch = NULL;
    fd->open = false;
}

int xf_frontdev_service(struct xf_frontdev *fd, bool force, uint64_t deadline_ns)
{
    XenbusState st;
    int rc;

    if (fd == NULL || !fd->open)
        return -XF_EINVAL;
    if (!force && !XF_READ_ONCE(fd->changed))
        return 0;
    /* Clear before reading: a change landing during the read sets it
     * again and is looked at next time. */
    XF_WRITE_ONCE(fd->changed, 0);
    rc = read_backend_state(fd, &st, deadline_ns);
    if (rc < 0) {
        XF_WRITE_ONCE(fd->changed, 1);
        return rc;
    }
    if (st == fd->backend_state && !force)
        return 0;
    fd->backend_state = st;
    return 1;
}

int xf_frontdev_switch(struct xf_frontdev *fd, XenbusState state, uint64_t deadline_ns)
{
    if (fd == NULL || !fd->open)
        return -XF_EINVAL;
    return xf_xenbus_dev_switch(fd->xb, &fd->dev, state, deadline_ns);
}

int xf_frontdev_wait_backend(struct xf_frontdev *fd, uint32_t mask, XenbusState *out,
                             uint64_t deadline_ns)
{
    XenbusState st = XenbusStateUnknown;
    int rc;

    if (fd == NULL || !fd->open)
        return -XF_EINVAL;
    rc = xf_xenbus_dev_wait_backend(fd->xb, &fd->dev, mask, &st, deadline_ns);
    if (rc == 0 || rc == -XF_ENOTCONN)
        fd->backend_state = st;
    if (out != NULL)
        *out = st;
    return rc;
}

int xf_frontdev_fatal(struct xf_frontdev *fd, int err, const char *what, uint64_t deadline_ns)
{
    char msg[160];
    unsigned int e = err < 0 ? (unsigned int)-err : (unsigned int)err;
    int n, rc, rc2;

    if (fd == NULL || !fd->open)
        return -XF_EINVAL;
    n = xf_frontdev_path(msg, sizeof(msg), NULL, "", (int)e);
    if (n < 0)
        n = 0;
    if (what != NULL) {
        size_t w = strlen(what);

        if (w > sizeof(msg) - (size_t)n - 2)
            w = sizeof(msg) - (size_t)n - 2;
        msg[n++] = ' ';
        memcpy(msg + n, what, w);
        n += (int)w;
        msg[n] = '\0';
    }
    xf_log(XF_LOG_ERROR, "frontdev: %s: fatal: %s", fd->dev.nodename, msg);
    rc = xf_xenbus_write_str(fd->xb, XF_XENBUS_TX_NONE, fd->dev.nodename, "error", msg,
                             deadline_ns);
    rc2 = xf_xenbus_dev_switch(fd->xb, &fd->dev, XenbusStateClosing, deadline_ns);
    return rc < 0 ? rc : rc2;
}

/* ------------------------------------------------------------------ keys */

struct publish_ctx {
    struct xf_frontdev *fd;
    xf_frontdev_publish_fn *body;
    void *arg;
    uint64_t deadline_ns;
};

static int publish_body(struct xf_xenbus *xb, xf_xenbus_tx_t tx, void *argp)
{
    struct publish_ctx *c = argp;

    (void)xb;
    return c->body(c->fd, tx, c->arg, c->deadline_ns);
}

int xf_frontdev_publish(struct xf_frontdev *fd, xf_frontdev_publish_fn *body, void *arg,
                        uint64_t deadline_ns)
{
    struct publish_ctx c = { fd, body, arg, deadline_ns };

    if (fd == NULL || !fd->open || body == NULL)
        return -XF_EINVAL;
    return xf_xenbus_transaction_run(fd->xb, publish_body, &c, 0, deadline_ns);
}

/* <nodename>[/<subdir>] into buf. */
static int subdir_path(const struct xf_frontdev *fd, const char *subdir, char *buf, size_t cap)
{
    if (subdir != NULL && !name_ok(subdir))
        return -XF_EINVAL;
    return xf_frontdev_path(buf, cap, fd->dev.nodename, subdir, -1);
}

int xf_frontdev_write_uint(struct xf_frontdev *fd, xf_xenbus_tx_t tx, const char *subdir,
                           const char *key, uint64_t value, uint64_t deadline_ns)
{
    char dir[XF_XENBUS_PATH_MAX + XF_FRONTDEV__NAME_MAX + 2];
    int rc;

    if (fd == NULL || !fd->open || key == NULL)
        return -XF_EINVAL;
    rc = subdir_path(fd, subdir, dir, sizeof(dir));
    if (rc < 0)
        return rc;
    return xf_xenbus_write_uint(fd->xb, tx, dir, key, value, deadline_ns);
}

int xf_frontdev_write_str(struct xf_frontdev *fd, xf_xenbus_tx_t tx, const char *subdir,
                          const char *key, const char *value, uint64_t deadline_ns)
{
    char dir[XF_XENBUS_PATH_MAX + XF_FRONTDEV__NAME_MAX + 2];
    int rc;

    if (fd == NULL || !fd->open || key == NULL || value == NULL)
        return -XF_EINVAL;
    rc = subdir_path(fd, subdir, dir, sizeof(dir));
    if (rc < 0)
        return rc;
    return xf_xenbus_write_str(fd->xb, tx, dir, key, value, deadline_ns);
}

int xf_frontdev_write_ring(struct xf_frontdev *fd, xf_xenbus_tx_t tx, const char *subdir,
                           const char *name, const struct xf_frontdev_ring *ring,
                           uint64_t deadline_ns)
{
    char key[XF_FRONTDEV__NAME_MAX + 12];
    unsigned int pages;
    int rc;

    if (fd == NULL || ring == NULL || name == NULL || !ring->granted || !name_ok(name))
        return -XF_EINVAL;
    if (ring->order == 0)
        return xf_frontdev_write_uint(fd, tx, subdir, name, ring->refs[0], deadline_ns);
    pages = 1u << ring->order;
    for (unsigned int i = 0; i < pages; i++) {
        rc = xf_frontdev_path(key, sizeof(key), NULL, name, (int)i);
        if (rc < 0)
            return rc;
        rc = xf_frontdev_write_uint(fd, tx, subdir, key, ring->refs[i], deadline_ns);
        if (rc < 0)
            return rc;
    }
    return xf_frontdev_write_uint(fd, tx, subdir, "ring-page-order", ring->order, deadline_ns);
}

int xf_frontdev_read_uint(struct xf_frontdev *fd, const char *key, uint64_t max,
                          uint64_t dflt, uint64_t *out, uint64_t deadline_ns)
{
    uint64_t v;
    int rc;

    if (fd == NULL || !fd->open || key == NULL || out == NULL)
        return -XF_EINVAL;
    rc = xf_xenbus_read_uint(fd->xb, XF_XENBUS_TX_NONE, fd->dev.backend, key, max, &v,
                             deadline_ns);
    if (rc == -XF_ENOENT) {
        *out = dflt;
        return 0;
    }
    if (rc == -XF_EINVAL) {
        *out = dflt;
        xf_log(XF_LOG_WARN, "frontdev: %s/%s: malformed or above %llu",
               fd->dev.backend, key, (unsigned long long)max);
        return -XF_EINVAL;
    }
    if (rc < 0)
        return rc;
    *out = v;
    return 0;
}

int xf_frontdev_read_feature(struct xf_frontdev *fd, const char *key, bool *out,
                             uint64_t deadline_ns)
{
    bool v = false;
    int rc;

    if (fd == NULL || !fd->open || key == NULL || out == NULL)
        return -XF_EINVAL;
    rc = xf_xenbus_read_feature(fd->xb, XF_XENBUS_TX_NONE, fd->dev.backend, key, false, &v,
                                deadline_ns);
    if (rc == -XF_EINVAL) {
        *out = false;
        xf_log(XF_LOG_WARN, "frontdev: %s/%s: not a feature flag: off", fd->dev.backend, key);
        return rc;
    }
    if (rc < 0)
        return rc;
    *out = v;
    return 0;
}

int xf_frontdev_read_str(struct xf_frontdev *fd, const char *key, char *buf, size_t cap,
                         uint64_t deadline_ns)
{
    if (fd == NULL || !fd->open || key == NULL || buf == NULL)
        return -XF_EINVAL;
    return xf_xenbus_read_str(fd->xb, XF_XENBUS_TX_NONE, fd->dev.backend, key, buf, cap,
                              deadline_ns);
}
