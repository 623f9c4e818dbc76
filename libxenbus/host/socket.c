/*
 * The unix-socket transport (host flavour): xenstored's socket carries the
 * same xsd_sockmsg stream as a domain's ring, so the core runs unchanged
 * over a non-blocking stream socket, and waits with poll(2).
 *
 * System calls are most of a request's cost on the client side, so a
 * context made by xf_xenbus_create_socket() reads into a buffer of its own:
 * one recv(2) takes a reply's header and payload (the core asks for them
 * separately), and a read that came back short (the socket was empty at
 * that instant) lets the next request for bytes in the same processing
 * pass answer "none now" without a recv(2) that would only fail with
 * EAGAIN. The core calls status() at the start of every pass, which
 * forgets that, so a later pass always asks the socket again. Bytes left
 * in the buffer (a call that ran out of budget) are invisible to poll(2):
 * wait() does not block while there are any, and a descriptor the embedder
 * gave (xf_xenbus_create_fd(), which it may poll itself) is read exactly as
 * asked, with no buffer, so the socket keeps what the core has not taken.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <xenfront/errno.h>
#include <xenfront/platform.h>
#include <xenfront/xenbus_host.h>
#include <xenfront/xenbus_transport.h>

#define SOCK_RBUF 4096u

struct sock_t {
    int fd;
    int error;      /* sticky once the link failed */
    bool buffered;  /* read through rbuf (a descriptor of our own) */
    bool drained;   /* this pass's last recv(2) emptied the socket */
    uint32_t roff, rlen;            /* unread bytes: rbuf[roff, rlen) */
    unsigned char rbuf[SOCK_RBUF];
};

/* errno to a negative xenfront error (Linux numbering on Linux hosts). */
static int neg_errno(int e)
{
    return e > 0 ? -e : -XF_EIO;
}

static long sock_send(void *tp, const void *buf, size_t len)
{
    struct sock_t *t = tp;
    ssize_t n;

    if (t->error != 0)
        return t->error;
    do
        n = send(t->fd, buf, len, MSG_NOSIGNAL);
    while (n < 0 && errno == EINTR);
    if (n >= 0)
        return (long)n;
    if (errno == EAGAIN || errno == EWOULDBLOCK)
        return 0;
    t->error = neg_errno(errno);
    return t->error;
}

static long sock_recv(void *tp, void *buf, size_t len)
{
    struct sock_t *t = tp;
    ssize_t n;

    if (t->error != 0)
        return t->error;
    if (t->roff == t->rlen) {
        void *dst = t->buffered ? t->rbuf : buf;
        size_t cap = t->buffered ? sizeof(t->rbuf) : len;

        if (t->drained)
            return 0;
        do
            n = recv(t->fd, dst, cap, 0);
        while (n < 0 && errno == EINTR);
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            t->drained = t->buffered;
            return 0;
        }
        if (n <= 0) {
            /* End of stream: xenstored went away. */
            t->error = n == 0 ? -XF_ENOTCONN : neg_errno(errno);
            return t->error;
        }
        if (!t->buffered)
            return (long)n;
        t->roff = 0;
        t->rlen = (uint32_t)n;
        t->drained = (size_t)n < cap;
    }
    size_t k = t->rlen - t->roff < len ? t->rlen - t->roff : len;
    memcpy(buf, t->rbuf + t->roff, k);
    t->roff += (uint32_t)k;
    return (long)k;
}

static int sock_status(void *tp)
{
    struct sock_t *t = tp;

    /* A new processing pass: ask the socket again (see the top). */
    t->drained = false;
    return t->error != 0 ? t->error : XF_XENBUS_LINK_UP;
}

static int sock_wait(void *tp, uint64_t deadline_ns, bool want_send)
{
    struct sock_t *t = tp;
    struct pollfd p = { .fd = t->fd, .events = POLLIN | (want_send ? POLLOUT : 0) };
    uint64_t now = xf_plat_now_ns();
    int ms;

    if (now >= deadline_ns)
        return -XF_ETIMEDOUT;
    /* Bytes already read wait in rbuf, not in the socket: poll(2) would
     * not see them. (The core waits only once it took all it could; this
     * keeps any caller of wait() from sleeping on data it has.) */
    if (t->roff != t->rlen)
        return 0;
    t->drained = false;
    /* Round up so that a wait never ends just before the deadline. */
    uint64_t left = (deadline_ns - now + 999999u) / 1000000u;
    ms = left > 60000 ? 60000 : (int)left;
    if (poll(&p, 1, ms) == 0 && xf_plat_now_ns() >= deadline_ns)
        return -XF_ETIMEDOUT;
    return 0;
}

static void sock_close(void *tp)
{
    struct sock_t *t = tp;

    close(t->fd);
    free(t);
}

static const struct xf_xenbus_transport_ops sock_ops = {
    .send = sock_send,
    .recv = sock_recv,
    .kick = NULL,
    .status = sock_status,
    .reset = NULL,
    .wait = sock_wait,
    .close = sock_close,
};

static int create_fd(struct xf_xenbus **out, const struct xf_xenbus_config *cfg, int fd,
                     bool buffered)
{
    struct sock_t *t;
    int fl;

    if (out == NULL || fd < 0) {
        if (fd >= 0)
            close(fd);
        return -XF_EINVAL;
    }
    fl = fcntl(fd, F_GETFL);
    if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0) {
        int e = neg_errno(errno);
        close(fd);
        return e;
    }
    t = calloc(1, sizeof(*t));
    if (t == NULL) {
        close(fd);
        return -XF_ENOMEM;
    }
    t->fd = fd;
    t->buffered = buffered;
    return xf_xenbus_create_transport(out, cfg, &sock_ops, t);
}

int xf_xenbus_create_fd(struct xf_xenbus **out, const struct xf_xenbus_config *cfg, int fd)
{
    return create_fd(out, cfg, fd, false);
}

int xf_xenbus_create_socket(struct xf_xenbus **out, const struct xf_xenbus_config *cfg,
                            const char *path)
{
    struct sockaddr_un sa;
    int fd;

    if (out == NULL)
        return -XF_EINVAL;
    if (path == NULL)
        path = getenv("XENSTORED_PATH");
    if (path == NULL)
        path = "/var/run/xenstored/socket";
    if (strlen(path) >= sizeof(sa.sun_path))
        return -XF_EINVAL;
    memset(&sa, 0, sizeof(sa));
    sa.sun_family = AF_UNIX;
    memcpy(sa.sun_path, path, strlen(path) + 1);
    fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return neg_errno(errno);
    if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
        int e = neg_errno(errno);
        close(fd);
        return e;
    }
    return create_fd(out, cfg, fd, true);
}
