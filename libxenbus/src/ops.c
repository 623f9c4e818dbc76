/*
 * The xenstore operations a guest uses, as synchronous helpers over the
 * core (xf_xenbus_submit + wait), and the parsing of their replies.
 *
 * Every reply's contents are checked before use: lists must end with a NUL
 * inside the reply's length (the core adds a terminator after it, but that
 * only protects against running off the buffer, not against a list whose
 * last element the server left open), numbers must be decimal and in range.
 * A reply that fails those checks fails its request with -XF_EPROTO; the
 * connection itself stays up (the framing was fine).
 *
 * Paths are passed to the core in pieces (dir, "/", node, NUL), so no path
 * is ever assembled on the stack: kernel stacks are small and paths reach
 * 3 KiB.
 */
#include "private.h"

#define MAX_PERMS 32

size_t xf_xenbus__strnlen(const char *s, size_t max)
{
    size_t n = 0;

    while (n < max && s[n] != '\0')
        n++;
    return n;
}

int xf_xenbus__path_ok(const char *path)
{
    if (path == NULL)
        return -XF_EINVAL;
    size_t n = xf_xenbus__strnlen(path, XENSTORE_ABS_PATH_MAX + 1);
    if (n == 0 || n > XENSTORE_ABS_PATH_MAX)
        return -XF_EINVAL;
    return 0;
}

unsigned xf_xenbus__fmt_uint(char *buf, uint64_t v)
{
    char tmp[20];
    unsigned n = 0, i;

    do {
        tmp[n++] = (char)('0' + v % 10);
        v /= 10;
    } while (v != 0);
    for (i = 0; i < n; i++)
        buf[i] = tmp[n - 1 - i];
    return n;
}

int xf_xenbus__parse_uint(const char *s, size_t len, uint64_t max, uint64_t *out)
{
    uint64_t v = 0;

    if (len == 0 || len > 20)
        return -XF_EINVAL;
    for (size_t i = 0; i < len; i++) {
        if (s[i] < '0' || s[i] > '9')
            return -XF_EINVAL;
        unsigned d = (unsigned)(s[i] - '0');
        if (v > (UINT64_MAX - d) / 10)
            return -XF_EINVAL;
        v = v * 10 + d;
    }
    if (v > max)
        return -XF_EINVAL;
    *out = v;
    return 0;
}

/* dir [ "/" node ] NUL as iov pieces; the whole path bounded. */
static int path_iov(const char *dir, const char *node, struct xf_xenbus_iov iov[4],
                    unsigned *n)
{
    static const char slash_nul[2] = { '/', '\0' };
    size_t dl, nl = 0;

    if (xf_xenbus__path_ok(dir) < 0)
        return -XF_EINVAL;
    dl = strlen(dir);
    if (node != NULL) {
        if (xf_xenbus__path_ok(node) < 0)
            return -XF_EINVAL;
        nl = strlen(node);
        if (dl + 1 + nl > XENSTORE_ABS_PATH_MAX)
            return -XF_EINVAL;
    }
    iov[0] = (struct xf_xenbus_iov){ dir, dl };
    *n = 1;
    if (node != NULL) {
        iov[1] = (struct xf_xenbus_iov){ &slash_nul[0], 1 };
        iov[2] = (struct xf_xenbus_iov){ node, nl };
        *n = 3;
    }
    iov[(*n)++] = (struct xf_xenbus_iov){ &slash_nul[1], 1 };
    return 0;
}

int xf_xenbus__read_node(struct xf_xenbus *xb, xf_xenbus_tx_t tx, const char *dir,
                         const char *node, char *buf, size_t cap, size_t *len,
                         uint64_t deadline_ns)
{
    struct xf_xenbus_iov iov[4];
    const char *data;
    unsigned n;
    uint32_t id;
    int rc;

    if (xb == NULL || (buf == NULL && cap != 0) || path_iov(dir, node, iov, &n) < 0)
        return -XF_EINVAL;
    rc = xf_xenbus__call(xb, XS_READ, tx, iov, n, deadline_ns, &data, &id);
    if (rc < 0)
        return rc;
    if (len != NULL)
        *len = (size_t)rc;
    if (cap < (size_t)rc + 1) {
        rc = -XF_ENOBUFS;
    } else {
        memcpy(buf, data, (size_t)rc);
        buf[rc] = '\0';
        rc = 0;
    }
    xf_xenbus_req_release(xb, id);
    return rc;
}

int xf_xenbus__write_node(struct xf_xenbus *xb, xf_xenbus_tx_t tx, const char *dir,
                          const char *node, const void *val, size_t len, uint64_t deadline_ns)
{
    struct xf_xenbus_iov iov[5];
    unsigned n;

    if (xb == NULL || (val == NULL && len != 0) || path_iov(dir, node, iov, &n) < 0)
        return -XF_EINVAL;
    iov[n++] = (struct xf_xenbus_iov){ val, len };
    return xf_xenbus__call0(xb, XS_WRITE, tx, iov, n, deadline_ns);
}

int xf_xenbus_read(struct xf_xenbus *xb, xf_xenbus_tx_t tx, const char *path,
                   char *buf, size_t cap, size_t *len, uint64_t deadline_ns)
{
    return xf_xenbus__read_node(xb, tx, path, NULL, buf, cap, len, deadline_ns);
}

int xf_xenbus_write(struct xf_xenbus *xb, xf_xenbus_tx_t tx, const char *path,
                    const void *value, size_t len, uint64_t deadline_ns)
{
    return xf_xenbus__write_node(xb, tx, path, NULL, value, len, deadline_ns);
}

static int path_op(struct xf_xenbus *xb, uint32_t type, xf_xenbus_tx_t tx, const char *path,
                   uint64_t deadline_ns)
{
    struct xf_xenbus_iov iov[4];
    unsigned n;

    if (xb == NULL || path_iov(path, NULL, iov, &n) < 0)
        return -XF_EINVAL;
    return xf_xenbus__call0(xb, type, tx, iov, n, deadline_ns);
}

int xf_xenbus_mkdir(struct xf_xenbus *xb, xf_xenbus_tx_t tx, const char *path,
                    uint64_t deadline_ns)
{
    return path_op(xb, XS_MKDIR, tx, path, deadline_ns);
}

int xf_xenbus_rm(struct xf_xenbus *xb, xf_xenbus_tx_t tx, const char *path,
                 uint64_t deadline_ns)
{
    return path_op(xb, XS_RM, tx, path, deadline_ns);
}

/*
 * A list of NUL-terminated, non-empty strings filling exactly len bytes.
 * Returns how many, or -XF_EPROTO.
 */
static int count_list(const char *p, uint32_t len)
{
    int count = 0;
    uint32_t i = 0;

    while (i < len) {
        size_t n = xf_xenbus__strnlen(p + i, len - i);
        if (n == 0 || i + n == len)
            return -XF_EPROTO;    /* empty element, or the last one open */
        i += (uint32_t)n + 1;
        count++;
    }
    return count;
}

/* Submit a one-path request whose reply is a string list, copy it out. */
static int list_op(struct xf_xenbus *xb, uint32_t type, xf_xenbus_tx_t tx, const char *path,
                   char *buf, size_t cap, unsigned int *count, uint64_t deadline_ns)
{
    struct xf_xenbus_iov iov[4];
    const char *data;
    unsigned n;
    uint32_t id;
    int rc, c;

    if (xb == NULL || count == NULL || (buf == NULL && cap != 0) ||
        path_iov(path, NULL, iov, &n) < 0)
        return -XF_EINVAL;
    *count = 0;
    rc = xf_xenbus__call(xb, type, tx, iov, n, deadline_ns, &data, &id);
    if (rc < 0)
        return rc;
    c = count_list(data, (uint32_t)rc);
    if (c < 0) {
        rc = c;
    } else if ((size_t)rc > cap) {
        rc = -XF_ENOBUFS;
    } else {
        memcpy(buf, data, (size_t)rc);
        *count = (unsigned)c;
    }
    xf_xenbus_req_release(xb, id);
    return rc;
}

static int directory_part(struct xf_xenbus *xb, xf_xenbus_tx_t tx, const char *path,
                          char *buf, size_t cap, unsigned int *count, uint64_t deadline_ns);

int xf_xenbus_directory_part(struct xf_xenbus *xb, xf_xenbus_tx_t tx, const char *path,
                             char *buf, size_t cap, unsigned int *count,
                             uint64_t deadline_ns)
{
    int rc = directory_part(xb, tx, path, buf, cap, count, deadline_ns);

    /* A listing that failed half way is no listing: no partial count. */
    if (rc < 0 && count != NULL)
        *count = 0;
    return rc;
}

static int directory_part(struct xf_xenbus *xb, xf_xenbus_tx_t tx, const char *path,
                          char *buf, size_t cap, unsigned int *count, uint64_t deadline_ns)
{
    struct xf_xenbus_iov iov[6];
    char gen[21], offstr[21];
    size_t genlen = 0, used = 0;
    uint64_t offset = 0;
    unsigned n, restarts = 0;
    int rc;

    if (xb == NULL || count == NULL || (buf == NULL && cap != 0) ||
        path_iov(path, NULL, iov, &n) < 0)
        return -XF_EINVAL;
    *count = 0;
    deadline_ns = xf_xenbus__deadline(xb, deadline_ns);
    for (;;) {
        const char *data;
        uint32_t id, len, i;
        bool end = false, any = false;

        unsigned ol = xf_xenbus__fmt_uint(offstr, offset);
        offstr[ol] = '\0';
        iov[n] = (struct xf_xenbus_iov){ offstr, ol + 1u };
        rc = xf_xenbus__call(xb, XS_DIRECTORY_PART, tx, iov, n + 1, deadline_ns, &data, &id);
        if (rc < 0)
            return rc;
        len = (uint32_t)rc;
        /* "<generation>\0" then children, each "\0"-terminated; an empty
         * string ends the whole list. */
        size_t gl = xf_xenbus__strnlen(data, len);
        if (gl == len || gl == 0 || gl >= sizeof(gen)) {
            xf_xenbus_req_release(xb, id);
            return -XF_EPROTO;
        }
        if (offset == 0) {
            memcpy(gen, data, gl);
            genlen = gl;
        } else if (gl != genlen || memcmp(gen, data, gl) != 0) {
            /* The directory changed between pieces: the offsets no longer
             * line up. Start again, a bounded number of times. */
            xf_xenbus_req_release(xb, id);
            if (++restarts > 8)
                return -XF_EAGAIN;
            offset = 0;
            used = 0;
            *count = 0;
            continue;
        }
        rc = 0;
        for (i = (uint32_t)gl + 1; i < len;) {
            size_t cl = xf_xenbus__strnlen(data + i, len - i);
            if (i + cl == len) {
                rc = -XF_EPROTO;           /* an open last element */
                break;
            }
            if (cl == 0) {
                end = true;
                break;
            }
            if (used + cl + 1 > cap) {
                rc = -XF_ENOBUFS;
                break;
            }
            memcpy(buf + used, data + i, cl + 1);
            used += cl + 1;
            offset += cl + 1;
            (*count)++;
            any = true;
            i += (uint32_t)cl + 1;
        }
        xf_xenbus_req_release(xb, id);
        if (rc < 0)
            return rc;
        /* A piece with no child is the end, whether or not the server
         * marked it: it guarantees progress against a server that keeps
         * answering with nothing. */
        if (end || !any)
            break;
    }
    return (int)used;
}

int xf_xenbus_directory(struct xf_xenbus *xb, xf_xenbus_tx_t tx, const char *path,
                        char *buf, size_t cap, unsigned int *count, uint64_t deadline_ns)
{
    int rc;

    if (xb == NULL)
        return -XF_EINVAL;
    deadline_ns = xf_xenbus__deadline(xb, deadline_ns);
    rc = list_op(xb, XS_DIRECTORY, tx, path, buf, cap, count, deadline_ns);
    /* xenstored answers E2BIG when the list would not fit one message. */
    if (rc == -XF_E2BIG)
        rc = xf_xenbus_directory_part(xb, tx, path, buf, cap, count, deadline_ns);
    return rc;
}

int xf_xenbus_get_perms(struct xf_xenbus *xb, xf_xenbus_tx_t tx, const char *path,
                        char *buf, size_t cap, unsigned int *count, uint64_t deadline_ns)
{
    return list_op(xb, XS_GET_PERMS, tx, path, buf, cap, count, deadline_ns);
}

/* [wrbn]<domid>, the domid decimal and below 65536. */
static bool perm_ok(const char *p)
{
    uint64_t v;
    size_t n;

    if (p == NULL)
        return false;
    if (p[0] != 'w' && p[0] != 'r' && p[0] != 'b' && p[0] != 'n')
        return false;
    n = xf_xenbus__strnlen(p + 1, 6);
    return n >= 1 && n <= 5 && xf_xenbus__parse_uint(p + 1, n, 0xffff, &v) == 0;
}

int xf_xenbus_set_perms(struct xf_xenbus *xb, xf_xenbus_tx_t tx, const char *path,
                        const char *const *perms, unsigned int nperms, uint64_t deadline_ns)
{
    struct xf_xenbus_iov iov[4 + MAX_PERMS];
    unsigned n;

    if (xb == NULL || perms == NULL || nperms == 0 || nperms > MAX_PERMS ||
        path_iov(path, NULL, iov, &n) < 0)
        return -XF_EINVAL;
    for (unsigned i = 0; i < nperms; i++) {
        if (!perm_ok(perms[i]))
            return -XF_EINVAL;
        iov[n++] = (struct xf_xenbus_iov){ perms[i], strlen(perms[i]) + 1 };
    }
    return xf_xenbus__call0(xb, XS_SET_PERMS, tx, iov, n, deadline_ns);
}

int xf_xenbus_get_domain_path(struct xf_xenbus *xb, domid_t domid, char *buf, size_t cap,
                              uint64_t deadline_ns)
{
    char num[8];
    struct xf_xenbus_iov iov[1];
    const char *data;
    uint32_t id;
    int rc;

    if (xb == NULL || buf == NULL)
        return -XF_EINVAL;
    unsigned l = xf_xenbus__fmt_uint(num, domid);
    num[l] = '\0';
    iov[0] = (struct xf_xenbus_iov){ num, l + 1u };
    rc = xf_xenbus__call(xb, XS_GET_DOMAIN_PATH, XF_XENBUS_TX_NONE, iov, 1, deadline_ns, &data,
                         &id);
    if (rc < 0)
        return rc;
    /* One NUL-terminated, non-empty string. */
    size_t sl = xf_xenbus__strnlen(data, (uint32_t)rc);
    if (rc == 0 || sl == 0 || sl + 1 != (size_t)rc) {
        rc = -XF_EPROTO;
    } else if (cap < sl + 1) {
        rc = -XF_ENOBUFS;
    } else {
        memcpy(buf, data, sl + 1);
        rc = (int)sl;
    }
    xf_xenbus_req_release(xb, id);
    return rc;
}

int xf_xenbus_reset_watches(struct xf_xenbus *xb, uint64_t deadline_ns)
{
    static const char nul[1] = { '\0' };
    struct xf_xenbus_iov iov[1] = { { nul, 1 } };
    char v[4];
    int rc;

    if (xb == NULL)
        return -XF_EINVAL;
    deadline_ns = xf_xenbus__deadline(xb, deadline_ns);
    if (xf_xenbus_watch_count(xb) != 0)
        return -XF_EBUSY;
    /* The toolstack says whether xenstored knows RESET_WATCHES (an old one
     * would drop the connection over an unknown type, as Linux fears). */
    rc = xf_xenbus__read_node(xb, XF_XENBUS_TX_NONE, "control/platform-feature-xs_reset_watches",
                              NULL, v, sizeof(v), NULL, deadline_ns);
    if (rc == -XF_ENOENT || rc == -XF_ENOBUFS || (rc == 0 && (v[0] != '1' || v[1] != '\0')))
        return -XF_EOPNOTSUPP;
    if (rc < 0)
        return rc;
    return xf_xenbus__call0(xb, XS_RESET_WATCHES, XF_XENBUS_TX_NONE, iov, 1, deadline_ns);
}
