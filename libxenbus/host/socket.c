/*
 * The unix-socket transport (host flavour): xenstored's socket carries the
 * same xsd_sockmsg stream as a domain's ring, so the core runs unchanged
 * over a non-blocking stream socket, and waits with poll(2).
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

struct sock_t {
    int fd;
    int error;      /* sticky once the link failed */
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
    do
        n = recv(t->fd, buf, len, 0);
    while (n < 0 && errno == EINTR);
    if (n > 0)
        return (long)n;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
        return 0;
    /* End of stream: xenstored went away. */
    t->error = n == 0 ? -XF_ENOTCONN : neg_errno(errno);
    return t->error;
}

static int sock_status(void *tp)
{
    struct sock_t *t = tp;

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

int xf_xenbus_create_fd(struct xf_xenbus **out, const struct xf_xenbus_config *cfg, int fd)
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
    return xf_xenbus_create_transport(out, cfg, &sock_ops, t);
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
    return xf_xenbus_create_fd(out, cfg, fd);
}
