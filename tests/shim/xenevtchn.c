/*
 * xfshim, libxenevtchn: every handle is a real pollable fd (one end of a socket
 * pair), fed by a per-handle thread that waits in the simulator for the
 * handle's ports and writes each pending port number, as the Linux evtchn
 * device does.
 */
#include "shim_tools.h"

struct xenevtchn_handle {
    int rfd, wfd;                /* the program polls rfd; the thread writes wfd */
    pthread_t thread;
    pthread_mutex_t lock;
    uint32_t *ports;             /* bound through this handle */
    unsigned int nports, cap;
    unsigned int rotate;         /* fairness among the handle's ports */
    volatile int changed;        /* the port set changed, or closing */
    bool stop;
};

static void *evtchn_thread(void *arg)
{
    struct xenevtchn_handle *h = arg;
    uint32_t *snap = NULL;
    unsigned int cap = 0;

    for (;;) {
        pthread_mutex_lock(&h->lock);
        if (h->stop) {
            pthread_mutex_unlock(&h->lock);
            break;
        }
        if (cap < h->nports) {
            uint32_t *p = realloc(snap, h->nports * sizeof(*p));
            if (p != NULL) {
                snap = p;
                cap = h->nports;
            }
        }
        unsigned int n = cap < h->nports ? cap : h->nports;
        for (unsigned int i = 0; i < n; i++)
            snap[i] = h->ports[(i + h->rotate) % h->nports];
        h->rotate++;
        __atomic_store_n(&h->changed, 0, __ATOMIC_SEQ_CST);
        pthread_mutex_unlock(&h->lock);

        int rc = shim_evtchn_wait_any(snap, n, &h->changed);
        if (rc >= 0) {
            uint32_t port = (uint32_t)rc;
            if (send(h->wfd, &port, sizeof(port), MSG_NOSIGNAL) != (ssize_t)sizeof(port))
                break; /* the reading end is gone: closing */
        } else if (rc != -EINTR) {
            struct timespec ts = { 0, 10 * 1000 * 1000 };
            nanosleep(&ts, NULL);
        }
    }
    free(snap);
    return NULL;
}

static void evtchn_changed(struct xenevtchn_handle *h)
{
    __atomic_store_n(&h->changed, 1, __ATOMIC_SEQ_CST);
    shim_kick();
}

static int evtchn_add(struct xenevtchn_handle *h, uint32_t port)
{
    pthread_mutex_lock(&h->lock);
    if (h->nports == h->cap) {
        unsigned int cap = h->cap ? h->cap * 2 : 8;
        uint32_t *p = realloc(h->ports, cap * sizeof(*p));
        if (p == NULL) {
            pthread_mutex_unlock(&h->lock);
            return -ENOMEM;
        }
        h->ports = p;
        h->cap = cap;
    }
    h->ports[h->nports++] = port;
    pthread_mutex_unlock(&h->lock);
    evtchn_changed(h);
    return 0;
}

static bool evtchn_remove(struct xenevtchn_handle *h, uint32_t port)
{
    bool found = false;

    pthread_mutex_lock(&h->lock);
    for (unsigned int i = 0; i < h->nports; i++) {
        if (h->ports[i] == port) {
            h->ports[i] = h->ports[--h->nports];
            found = true;
            break;
        }
    }
    pthread_mutex_unlock(&h->lock);
    if (found)
        evtchn_changed(h);
    return found;
}

EXPORT xenevtchn_handle *xenevtchn_open(struct xentoollog_logger *logger, unsigned int flags)
{
    struct xenevtchn_handle *h;
    int sv[2];

    (void)logger; (void)flags;
    if (shim_attach() < 0) {
        errno = ENOENT;
        return NULL;
    }
    h = calloc(1, sizeof(*h));
    if (h == NULL)
        return NULL;
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0) {
        free(h);
        return NULL;
    }
    h->rfd = sv[0];
    h->wfd = sv[1];
    fcntl(h->rfd, F_SETFL, fcntl(h->rfd, F_GETFL) | O_NONBLOCK);
    pthread_mutex_init(&h->lock, NULL);
    if (pthread_create(&h->thread, NULL, evtchn_thread, h) != 0) {
        close(sv[0]);
        close(sv[1]);
        free(h);
        errno = EAGAIN;
        return NULL;
    }
    return h;
}

EXPORT xenevtchn_handle *xenevtchn_fdopen(struct xentoollog_logger *logger, int fd,
                                          unsigned int open_flags)
{
    (void)logger; (void)fd; (void)open_flags;
    errno = EOPNOTSUPP; /* xenstored's live update only */
    return NULL;
}

EXPORT int xenevtchn_close(xenevtchn_handle *h)
{
    if (h == NULL)
        return 0;
    pthread_mutex_lock(&h->lock);
    h->stop = true;
    pthread_mutex_unlock(&h->lock);
    shutdown(h->wfd, SHUT_RDWR);
    evtchn_changed(h);
    pthread_join(h->thread, NULL);
    /* As the evtchn device does when its file is closed. */
    for (unsigned int i = 0; i < h->nports; i++)
        shim_evtchn_close(h->ports[i]);
    close(h->rfd);
    close(h->wfd);
    pthread_mutex_destroy(&h->lock);
    free(h->ports);
    free(h);
    return 0;
}

EXPORT int xenevtchn_fd(xenevtchn_handle *h)
{
    return h->rfd;
}

EXPORT int xenevtchn_notify(xenevtchn_handle *h, evtchn_port_t port)
{
    (void)h;
    return ret_errno(shim_evtchn_send(port));
}

static xenevtchn_port_or_error_t bound(xenevtchn_handle *h, int rc)
{
    if (rc < 0)
        return fail(-rc);
    int e = evtchn_add(h, (uint32_t)rc);
    if (e < 0) {
        shim_evtchn_close((uint32_t)rc);
        return fail(-e);
    }
    return rc;
}

EXPORT xenevtchn_port_or_error_t xenevtchn_bind_unbound_port(xenevtchn_handle *h,
                                                             uint32_t domid)
{
    return bound(h, shim_evtchn_alloc_unbound(domid));
}

EXPORT xenevtchn_port_or_error_t xenevtchn_bind_interdomain(xenevtchn_handle *h,
                                                            uint32_t domid,
                                                            evtchn_port_t remote_port)
{
    return bound(h, shim_evtchn_bind_interdomain(domid, remote_port));
}

EXPORT xenevtchn_port_or_error_t xenevtchn_bind_virq(xenevtchn_handle *h, unsigned int virq)
{
    return bound(h, shim_evtchn_bind_virq(virq));
}

EXPORT int xenevtchn_unbind(xenevtchn_handle *h, evtchn_port_t port)
{
    if (!evtchn_remove(h, port))
        return fail(EINVAL); /* not bound through this handle */
    return ret_errno(shim_evtchn_close(port));
}

EXPORT xenevtchn_port_or_error_t xenevtchn_pending(xenevtchn_handle *h)
{
    uint32_t port;

    /* Nothing there is 0, not -1: xenstored treats -1 as fatal. */
    if (recv(h->rfd, &port, sizeof(port), MSG_DONTWAIT) != (ssize_t)sizeof(port))
        return 0;
    return (xenevtchn_port_or_error_t)port;
}

EXPORT int xenevtchn_unmask(xenevtchn_handle *h, evtchn_port_t port)
{
    /* Each pending event is delivered once, at once: nothing is held masked. */
    (void)h; (void)port;
    return 0;
}

EXPORT int xenevtchn_restrict(xenevtchn_handle *h, domid_t domid)
{
    (void)h; (void)domid;
    return 0;
}
