/*
 * XenBus device helpers: typed values, device enumeration, and the front
 * end's side of the XenbusState handshake (xen/io/xenbus.h).
 *
 * Everything a backend or toolstack wrote is parsed strictly: integers are
 * plain decimal within range, paths bounded, states 0..8; anything else is
 * -XF_EINVAL, never a guess.
 *
 * A call that fails leaves the device as it was: values are read into
 * locals, all of them checked, and only then stored.
 */
#include "private.h"

int xf_xenbus_read_uint(struct xf_xenbus *xb, xf_xenbus_tx_t tx, const char *dir,
                        const char *node, uint64_t max, uint64_t *out, uint64_t deadline_ns)
{
    char buf[24];
    size_t len;
    int rc;

    if (out == NULL)
        return -XF_EINVAL;
    rc = xf_xenbus__read_node(xb, tx, dir, node, buf, sizeof(buf), &len, deadline_ns);
    if (rc == -XF_ENOBUFS)
        return -XF_EINVAL;      /* longer than any 64-bit number */
    if (rc < 0)
        return rc;
    return xf_xenbus__parse_uint(buf, len, max, out);
}

int xf_xenbus_write_uint(struct xf_xenbus *xb, xf_xenbus_tx_t tx, const char *dir,
                         const char *node, uint64_t value, uint64_t deadline_ns)
{
    char buf[20];
    unsigned n = xf_xenbus__fmt_uint(buf, value);

    return xf_xenbus__write_node(xb, tx, dir, node, buf, n, deadline_ns);
}

int xf_xenbus_read_str(struct xf_xenbus *xb, xf_xenbus_tx_t tx, const char *dir,
                       const char *node, char *buf, size_t cap, uint64_t deadline_ns)
{
    size_t len;
    int rc = xf_xenbus__read_node(xb, tx, dir, node, buf, cap, &len, deadline_ns);

    if (rc < 0)
        return rc;
    if (xf_xenbus__strnlen(buf, len) != len)
        return -XF_EINVAL;      /* a NUL inside: not a string */
    return 0;
}

int xf_xenbus_write_str(struct xf_xenbus *xb, xf_xenbus_tx_t tx, const char *dir,
                        const char *node, const char *value, uint64_t deadline_ns)
{
    if (value == NULL)
        return -XF_EINVAL;
    return xf_xenbus__write_node(xb, tx, dir, node, value, strlen(value), deadline_ns);
}

int xf_xenbus_read_feature(struct xf_xenbus *xb, xf_xenbus_tx_t tx, const char *dir,
                           const char *node, bool dflt, bool *out, uint64_t deadline_ns)
{
    char v[4];
    int rc;

    if (out == NULL)
        return -XF_EINVAL;
    /* Exactly "0" or "1", as the header says: "01" or "0001" are not
     * flags a back end writes, and a lenient parse would let one through
     * (found by fuzz_xenbus_stream). */
    rc = xf_xenbus_read_str(xb, tx, dir, node, v, sizeof(v), deadline_ns);
    if (rc == -XF_ENOENT) {
        *out = dflt;
        return 0;
    }
    if (rc == -XF_ENOBUFS)
        return -XF_EINVAL;          /* longer than any flag */
    if (rc < 0)
        return rc;
    if ((v[0] != '0' && v[0] != '1') || v[1] != '\0')
        return -XF_EINVAL;
    *out = v[0] == '1';
    return 0;
}

/* ------------------------------------------------------------------------
 * Devices.
 */

/* Join a, "/", b into buf (NUL-terminated) or -XF_EINVAL if it won't fit. */
static int join(char *buf, size_t cap, const char *a, const char *b)
{
    size_t al = xf_xenbus__strnlen(a, cap), bl = xf_xenbus__strnlen(b, cap);

    if (al == 0 || bl == 0 || al + 1 + bl + 1 > cap)
        return -XF_EINVAL;
    memcpy(buf, a, al);
    buf[al] = '/';
    memcpy(buf + al + 1, b, bl);
    buf[al + 1 + bl] = '\0';
    return 0;
}

/* A name used as one path element: no '/', not empty, bounded. */
static bool element_ok(const char *s)
{
    size_t n;

    if (s == NULL)
        return false;
    n = xf_xenbus__strnlen(s, 65);
    if (n == 0 || n > 64)
        return false;
    for (size_t i = 0; i < n; i++)
        if (s[i] == '/')
            return false;
    return true;
}

int xf_xenbus_dev_list(struct xf_xenbus *xb, const char *type, char *buf, size_t cap,
                       unsigned int *count, uint64_t deadline_ns)
{
    char path[80];
    int rc;

    if (count == NULL || !element_ok(type) || join(path, sizeof(path), "device", type) < 0)
        return -XF_EINVAL;
    rc = xf_xenbus_directory(xb, XF_XENBUS_TX_NONE, path, buf, cap, count, deadline_ns);
    if (rc == -XF_ENOENT) {
        *count = 0;
        return 0;
    }
    return rc;
}

int xf_xenbus_read_state(struct xf_xenbus *xb, xf_xenbus_tx_t tx, const char *dir,
                         XenbusState *out, uint64_t deadline_ns)
{
    uint64_t v;
    int rc;

    if (out == NULL)
        return -XF_EINVAL;
    rc = xf_xenbus_read_uint(xb, tx, dir, "state", XenbusStateReconfigured, &v, deadline_ns);
    if (rc == -XF_ENOENT || rc == -XF_EACCES) {
        *out = XenbusStateUnknown;
        return 0;
    }
    if (rc < 0)
        return rc;
    *out = (XenbusState)v;
    return 0;
}

/* backend and backend-id of nodename, both checked, into backend (cap
 * XF_XENBUS_PATH_MAX) and *backend_id; nothing else is touched. */
static int read_backend(struct xf_xenbus *xb, const char *nodename, char *backend,
                        domid_t *backend_id, uint64_t deadline_ns)
{
    uint64_t id;
    int rc;

    rc = xf_xenbus_read_str(xb, XF_XENBUS_TX_NONE, nodename, "backend", backend,
                            XF_XENBUS_PATH_MAX, deadline_ns);
    if (rc == -XF_ENOBUFS)
        rc = -XF_EINVAL;
    if (rc == 0 && (backend[0] != '/' || backend[1] == '\0'))
        rc = -XF_EINVAL;     /* must be absolute: it is another domain's */
    if (rc < 0)
        return rc;
    rc = xf_xenbus_read_uint(xb, XF_XENBUS_TX_NONE, nodename, "backend-id",
                             DOMID_FIRST_RESERVED - 1, &id, deadline_ns);
    if (rc < 0)
        return rc;
    *backend_id = (domid_t)id;
    return 0;
}

int xf_xenbus_dev_init(struct xf_xenbus *xb, struct xf_xenbus_dev *dev, const char *type,
                       const char *id, uint64_t deadline_ns)
{
    struct xf_xenbus_dev d;
    char dir[80];
    int rc;

    if (xb == NULL || dev == NULL || !element_ok(type) || !element_ok(id))
        return -XF_EINVAL;
    /* Built aside, stored whole: a failure leaves *dev as it was. */
    memset(&d, 0, sizeof(d));
    if (join(dir, sizeof(dir), "device", type) < 0 ||
        join(d.nodename, sizeof(d.nodename), dir, id) < 0)
        return -XF_EINVAL;
    deadline_ns = xf_xenbus__deadline(xb, deadline_ns);
    rc = read_backend(xb, d.nodename, d.backend, &d.backend_id, deadline_ns);
    if (rc < 0)
        return rc;
    rc = xf_xenbus_read_state(xb, XF_XENBUS_TX_NONE, d.nodename, &d.state, deadline_ns);
    if (rc < 0)
        return rc;
    *dev = d;
    return 0;
}

struct switch_arg {
    struct xf_xenbus_dev *dev;
    XenbusState state;
    uint64_t deadline_ns;
};

static int switch_body(struct xf_xenbus *xb, xf_xenbus_tx_t tx, void *argp)
{
    struct switch_arg *a = argp;
    char v[1];
    int rc;

    /* Only if the device's directory still exists: writing state would
     * otherwise re-create a device the toolstack removed. (Its value is
     * normally empty; a longer one still proves it exists.) */
    rc = xf_xenbus__read_node(xb, tx, a->dev->nodename, NULL, v, sizeof(v), NULL, a->deadline_ns);
    if (rc < 0 && rc != -XF_ENOBUFS)
        return rc;
    return xf_xenbus_write_uint(xb, tx, a->dev->nodename, "state", (uint64_t)a->state,
                                a->deadline_ns);
}

int xf_xenbus_dev_switch(struct xf_xenbus *xb, struct xf_xenbus_dev *dev, XenbusState state,
                         uint64_t deadline_ns)
{
    struct switch_arg a;
    int rc;

    if (xb == NULL || dev == NULL || dev->nodename[0] == '\0' ||
        (unsigned)state > XenbusStateReconfigured)
        return -XF_EINVAL;
    if (state == dev->state)
        return 0;
    a = (struct switch_arg){ dev, state, xf_xenbus__deadline(xb, deadline_ns) };
    rc = xf_xenbus_transaction_run(xb, switch_body, &a, 0, a.deadline_ns);
    if (rc == 0)
        dev->state = state;
    return rc;
}

/* Wait for a state in mask of the backend at `backend`; a state in abort
 * ends the wait with -XF_ENOTCONN. */
static int wait_backend(struct xf_xenbus *xb, const char *backend, uint32_t mask,
                        uint32_t abort, XenbusState *out, uint64_t deadline_ns)
{
    struct xf_xenbus_watch *w;
    char path[XF_XENBUS_PATH_MAX + 8];
    char token[32];
    XenbusState s = XenbusStateUnknown;
    unsigned n;
    int rc;

    if (xb == NULL || backend[0] != '/' || join(path, sizeof(path), backend, "state") < 0)
        return -XF_EINVAL;
    deadline_ns = xf_xenbus__deadline(xb, deadline_ns);
    /* A token of our own. The caller's tokens are theirs to choose, so one
     * may equal ours: take the next number then (bounded: at most
     * max_watches tokens can be in use). */
    for (uint32_t tries = 0;; tries++) {
        memcpy(token, "xf-xenbus-wait-", 15);
        n = 15 + xf_xenbus__fmt_uint(token + 15, xb->token_seq++);
        token[n] = '\0';
        rc = xf_xenbus_watch_add(xb, path, token, NULL, NULL, &w, deadline_ns);
        if (rc != -XF_EEXIST || tries > xb->nwatches)
            break;
    }
    if (rc < 0)
        return rc;
    for (;;) {
        /* Every round reads the clock (inside the read): a backend that
         * keeps rewriting its state, served at once, cannot hold us past
         * the deadline. */
        if (xf_plat_now_ns() >= deadline_ns) {
            rc = -XF_ETIMEDOUT;
            break;
        }
        /* Read first, then wait: the watch exists already, so a change
         * after this read queues an event and is never missed. */
        xf_xenbus__watch_drain(w);
        rc = xf_xenbus_read_state(xb, XF_XENBUS_TX_NONE, backend, &s, deadline_ns);
        if (rc < 0)
            break;
        if (mask & XF_XENBUS_STATE_BIT(s)) {
            rc = 0;
            break;
        }
        if (abort & XF_XENBUS_STATE_BIT(s)) {
            rc = -XF_ENOTCONN;      /* the backend is going away: follow it */
            break;
        }
        rc = xf_xenbus__watch_wait_any(xb, w, deadline_ns);
        if (rc < 0)
            break;
    }
    if (out != NULL)
        *out = s;
    xf_xenbus__watch_remove_async(xb, w);
    return rc;
}

int xf_xenbus_dev_wait_backend(struct xf_xenbus *xb, struct xf_xenbus_dev *dev,
                               uint32_t mask, XenbusState *out, uint64_t deadline_ns)
{
    const uint32_t going = XF_XENBUS_STATE_BIT(XenbusStateClosing) |
                           XF_XENBUS_STATE_BIT(XenbusStateClosed) |
                           XF_XENBUS_STATE_BIT(XenbusStateUnknown);

    if (dev == NULL)
        return -XF_EINVAL;
    return wait_backend(xb, dev->backend, mask, going & ~mask, out, deadline_ns);
}

int xf_xenbus_dev_connect(struct xf_xenbus *xb, struct xf_xenbus_dev *dev,
                          uint64_t deadline_ns)
{
    int rc;

    if (xb == NULL)
        return -XF_EINVAL;
    deadline_ns = xf_xenbus__deadline(xb, deadline_ns);
    rc = xf_xenbus_dev_switch(xb, dev, XenbusStateInitialised, deadline_ns);
    if (rc == 0)
        rc = xf_xenbus_dev_wait_backend(xb, dev, XF_XENBUS_STATE_BIT(XenbusStateConnected),
                                        NULL, deadline_ns);
    if (rc == 0)
        rc = xf_xenbus_dev_switch(xb, dev, XenbusStateConnected, deadline_ns);
    return rc;
}

/* Where a closing backend ends up: closed, gone, or ready to start over. */
#define DEV_GONE (XF_XENBUS_STATE_BIT(XenbusStateClosed) | \
                  XF_XENBUS_STATE_BIT(XenbusStateUnknown) | \
                  XF_XENBUS_STATE_BIT(XenbusStateInitialising) | \
                  XF_XENBUS_STATE_BIT(XenbusStateInitWait))

int xf_xenbus_dev_closed(struct xf_xenbus *xb, struct xf_xenbus_dev *dev, uint64_t deadline_ns)
{
    int rc;

    if (xb == NULL || dev == NULL)
        return -XF_EINVAL;
    deadline_ns = xf_xenbus__deadline(xb, deadline_ns);
    rc = xf_xenbus_dev_switch(xb, dev, XenbusStateClosed, deadline_ns);
    /* The backend may still be Closing for a while: not an abort here. */
    if (rc == 0)
        rc = wait_backend(xb, dev->backend, DEV_GONE, 0, NULL, deadline_ns);
    return rc;
}

int xf_xenbus_dev_close(struct xf_xenbus *xb, struct xf_xenbus_dev *dev, uint64_t deadline_ns)
{
    int rc;

    if (xb == NULL)
        return -XF_EINVAL;
    deadline_ns = xf_xenbus__deadline(xb, deadline_ns);
    rc = xf_xenbus_dev_switch(xb, dev, XenbusStateClosing, deadline_ns);
    if (rc == 0)
        rc = xf_xenbus_dev_wait_backend(xb, dev,
                                        XF_XENBUS_STATE_BIT(XenbusStateClosing) | DEV_GONE,
                                        NULL, deadline_ns);
    if (rc == 0)
        rc = xf_xenbus_dev_closed(xb, dev, deadline_ns);
    return rc;
}

int xf_xenbus_dev_reconnect(struct xf_xenbus *xb, struct xf_xenbus_dev *dev,
                            uint64_t deadline_ns)
{
    char backend[XF_XENBUS_PATH_MAX];
    domid_t backend_id = 0;
    int rc;

    if (xb == NULL || dev == NULL || dev->nodename[0] == '\0')
        return -XF_EINVAL;
    deadline_ns = xf_xenbus__deadline(xb, deadline_ns);
    /* Both values read and checked before either is stored: a device never
     * names one backend's directory and another domain. */
    rc = read_backend(xb, dev->nodename, backend, &backend_id, deadline_ns);
    if (rc < 0)
        return rc;
    rc = xf_xenbus_dev_switch(xb, dev, XenbusStateInitialising, deadline_ns);
    if (rc < 0)
        return rc;
    /* Our state now says Initialising in the store: from here the device
     * follows the new backend, whatever the wait gives. */
    memcpy(dev->backend, backend, sizeof(dev->backend));
    dev->backend_id = backend_id;
    /* Coming from Closed, the backend passes through Closed/Initialising:
     * those are the way there, not a reason to stop. */
    return wait_backend(xb, dev->backend, XF_XENBUS_STATE_BIT(XenbusStateInitWait), 0, NULL,
                        deadline_ns);
}
