/*
 * xfshim: a test-only LD_PRELOAD library that gives unmodified dom0 programs
 * (xenstored, xenconsoled, QEMU's Xen PV backends) the dom0 interfaces they
 * call, on a host with no hypervisor, backed by the project's Xen simulator
 * ($XF_SIM_DIR, attached as dom0):
 *
 *  - libxenctrl: xc_interface_open/close, xc_domain_getinfo, xc_evtchn_status,
 *    xc_get_hvm_param; the rest of what QEMU links fails with ENOSYS;
 *  - libxenevtchn: every handle is a real pollable fd (one end of a socket
 *    pair), fed by a per-handle thread that waits in the simulator for the
 *    handle's ports and writes each pending port number, as the Linux evtchn
 *    device does. pending() returns 0, never -1, when nothing is there
 *    (xenstored aborts on -1);
 *  - libxengnttab: maps through the simulator's GNTTABOP_map_grant_ref (Xen's
 *    checks: permission, domid, read-only; GNTST_* statuses; pins); several
 *    refs are mapped one by one, then their frames aliased side by side from
 *    the granter's memory file; grant copy maps, copies and unmaps with the
 *    same checks (a zero-length copy succeeds);
 *  - libxenforeignmemory: a guest's frames mapped from its memory file;
 *  - libxendevicemodel, libxentoolcore: handles and harmless answers;
 *  - /proc/xen/xsd_port and /proc/xen/xsd_kva for xenstored: a fresh dom0
 *    port unbound for dom0 itself, and a zeroed page (dom0 talks to
 *    xenstored over its socket here, never over this ring).
 *
 * Every other open() is the C library's (dlsym(RTLD_NEXT)). The shim is
 * built without sanitizers: the programs it is preloaded into are not.
 */
/* open and open64 (fopen, openat) are both defined here: no redirection of
 * one to the other (off_t is 64 bits on LP64 either way). */
#undef _FILE_OFFSET_BITS
#define _GNU_SOURCE
#include "shim.h"

#include <xenctrl.h>
#include <xenevtchn.h>
#include <xengnttab.h>
#include <xenforeignmemory.h>
#include <xendevicemodel.h>
#include <xentoolcore.h>

#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#define EXPORT __attribute__((visibility("default")))
#define PAGE_SZ 4096u

static int fail(int err)
{
    errno = err;
    return -1;
}

/* -errno from the sim half to the libraries' -1 + errno. */
static int ret_errno(int rc)
{
    return rc < 0 ? fail(-rc) : rc;
}

/* ------------------------------------------------------------------------
 * libxenctrl
 */
/* A library handle: attach to the simulator first (the programs open a
 * handle before anything else), then a zeroed handle of the given size.
 * NULL with errno ENOENT when there is no simulator, as the real libraries
 * answer without /dev/xen. */
static void *handle_new(size_t size)
{
    if (shim_attach() < 0) {
        errno = ENOENT;
        return NULL;
    }
    return calloc(1, size);
}

struct xc_interface_core { int unused; };

EXPORT xc_interface *xc_interface_open(xentoollog_logger *logger,
                                       xentoollog_logger *dombuild_logger, unsigned open_flags)
{
    (void)logger; (void)dombuild_logger; (void)open_flags;
    return handle_new(sizeof(struct xc_interface_core));
}

EXPORT int xc_interface_close(xc_interface *xch)
{
    free(xch);
    return 0;
}

EXPORT int xc_domain_getinfo(xc_interface *xch, uint32_t first_domid, unsigned int max_doms,
                             xc_dominfo_t *info)
{
    unsigned int n = 0;

    (void)xch;
    for (uint32_t d = first_domid; d < DOMID_FIRST_RESERVED && n < max_doms; d++) {
        if (!shim_domain_exists(d))
            continue;
        xc_dominfo_t *i = &info[n++];
        int reason = shim_domain_shutdown_reason(d);
        memset(i, 0, sizeof(*i));
        i->domid = d;
        i->hvm = 1;
        i->hap = 1;
        i->running = reason < 0;
        i->shutdown = reason >= 0 && reason != SHUTDOWN_crash;
        i->crashed = reason == SHUTDOWN_crash;
        i->shutdown_reason = reason >= 0 ? (unsigned int)reason : 0;
        i->nr_online_vcpus = 1;
        i->max_vcpu_id = 0;
        i->nr_pages = 4096;
        i->max_memkb = 16384;
        i->cpupool = 0;
    }
    return (int)n;
}

EXPORT int xc_evtchn_status(xc_interface *xch, xc_evtchn_status_t *status)
{
    (void)xch;
    return ret_errno(shim_evtchn_status(status));
}

EXPORT int xc_get_hvm_param(xc_interface *handle, uint32_t dom, int param, unsigned long *value)
{
    (void)handle;
    if (!shim_domain_exists(dom))
        return fail(ESRCH);
    *value = (unsigned long)shim_hvm_param(dom, (unsigned int)param);
    return 0;
}

EXPORT int xc_set_hvm_param(xc_interface *handle, uint32_t dom, int param, unsigned long value)
{
    (void)handle; (void)dom; (void)param; (void)value;
    return fail(EPERM);
}

EXPORT int xc_readconsolering(xc_interface *xch, char *buffer, unsigned int *pnr_chars,
                              int clear, int incremental, uint32_t *pindex)
{
    (void)xch; (void)buffer; (void)clear; (void)incremental; (void)pindex;
    *pnr_chars = 0; /* the simulated hypervisor has nothing to say */
    return 0;
}

EXPORT int xc_domain_shutdown(xc_interface *xch, uint32_t domid, int reason)
{
    (void)xch; (void)domid; (void)reason;
    return 0;
}

/* What QEMU links for HVM guests and passthrough: never used by a PV
 * backend, and the real ones would read this shim's handle as theirs. */
#define ENOSYS_STUB(name, ...) EXPORT int name(__VA_ARGS__) { return fail(ENOSYS); }
#define U __attribute__((unused))
ENOSYS_STUB(xc_domain_bind_pt_pci_irq, xc_interface *x U, uint32_t d U, uint8_t i U,
            uint8_t b U, uint8_t dv U, uint8_t in U)
ENOSYS_STUB(xc_domain_iomem_permission, xc_interface *x U, uint32_t d U, unsigned long f U,
            unsigned long n U, uint8_t a U)
ENOSYS_STUB(xc_domain_ioport_mapping, xc_interface *x U, uint32_t d U, uint32_t g U,
            uint32_t m U, uint32_t n U, uint32_t a U)
ENOSYS_STUB(xc_domain_memory_mapping, xc_interface *x U, uint32_t d U, unsigned long g U,
            unsigned long m U, unsigned long n U, uint32_t a U)
ENOSYS_STUB(xc_domain_populate_physmap_exact, xc_interface *x U, uint32_t d U,
            unsigned long n U, unsigned int o U, unsigned int f U, xen_pfn_t *e U)
ENOSYS_STUB(xc_domain_unbind_msi_irq, xc_interface *x U, uint32_t d U, uint32_t g U,
            uint32_t p U, uint32_t f U)
ENOSYS_STUB(xc_domain_unbind_pt_irq, xc_interface *x U, uint32_t d U, uint8_t m U,
            uint8_t t U, uint8_t b U, uint8_t dv U, uint8_t in U, uint8_t is U)
ENOSYS_STUB(xc_domain_update_msi_irq, xc_interface *x U, uint32_t d U, uint32_t g U,
            uint32_t p U, uint32_t f U, uint64_t t U)
ENOSYS_STUB(xc_physdev_map_pirq, xc_interface *x U, uint32_t d U, int i U, int *p U)
ENOSYS_STUB(xc_physdev_map_pirq_msi, xc_interface *x U, uint32_t d U, int i U, int *p U,
            int dv U, int b U, int e U, uint64_t t U)
ENOSYS_STUB(xc_physdev_unmap_pirq, xc_interface *x U, uint32_t d U, int p U)

/* ------------------------------------------------------------------------
 * libxentoolcore, libxendevicemodel
 */
EXPORT int xentoolcore_restrict_all(domid_t domid)
{
    (void)domid;
    return 0;
}

struct xendevicemodel_handle { int unused; };

EXPORT xendevicemodel_handle *xendevicemodel_open(struct xentoollog_logger *logger,
                                                  unsigned int open_flags)
{
    (void)logger; (void)open_flags;
    return handle_new(sizeof(struct xendevicemodel_handle));
}

EXPORT int xendevicemodel_close(xendevicemodel_handle *dmod)
{
    free(dmod);
    return 0;
}

EXPORT int xendevicemodel_restrict(xendevicemodel_handle *dmod, domid_t domid)
{
    (void)dmod; (void)domid;
    return 0;
}

EXPORT int xendevicemodel_shutdown(xendevicemodel_handle *dmod, domid_t domid,
                                   unsigned int reason)
{
    (void)dmod; (void)domid; (void)reason;
    return 0;
}

typedef xendevicemodel_handle dmh;
ENOSYS_STUB(xendevicemodel_create_ioreq_server, dmh *h U, domid_t d U, int b U, ioservid_t *i U)
ENOSYS_STUB(xendevicemodel_destroy_ioreq_server, dmh *h U, domid_t d U, ioservid_t i U)
ENOSYS_STUB(xendevicemodel_get_ioreq_server_info, dmh *h U, domid_t d U, ioservid_t i U,
            xen_pfn_t *a U, xen_pfn_t *b U, evtchn_port_t *p U)
ENOSYS_STUB(xendevicemodel_inject_msi, dmh *h U, domid_t d U, uint64_t a U, uint32_t v U)
ENOSYS_STUB(xendevicemodel_map_io_range_to_ioreq_server, dmh *h U, domid_t d U, ioservid_t i U,
            int m U, uint64_t s U, uint64_t e U)
ENOSYS_STUB(xendevicemodel_unmap_io_range_from_ioreq_server, dmh *h U, domid_t d U,
            ioservid_t i U, int m U, uint64_t s U, uint64_t e U)
ENOSYS_STUB(xendevicemodel_map_pcidev_to_ioreq_server, dmh *h U, domid_t d U, ioservid_t i U,
            uint16_t s U, uint8_t b U, uint8_t dv U, uint8_t f U)
ENOSYS_STUB(xendevicemodel_unmap_pcidev_from_ioreq_server, dmh *h U, domid_t d U,
            ioservid_t i U, uint16_t s U, uint8_t b U, uint8_t dv U, uint8_t f U)
ENOSYS_STUB(xendevicemodel_modified_memory, dmh *h U, domid_t d U, uint64_t f U, uint32_t n U)
ENOSYS_STUB(xendevicemodel_pin_memory_cacheattr, dmh *h U, domid_t d U, uint64_t s U,
            uint64_t e U, uint32_t t U)
ENOSYS_STUB(xendevicemodel_relocate_memory, dmh *h U, domid_t d U, uint32_t s U, uint64_t a U,
            uint64_t b U)
ENOSYS_STUB(xendevicemodel_set_ioreq_server_state, dmh *h U, domid_t d U, ioservid_t i U,
            int e U)
ENOSYS_STUB(xendevicemodel_set_isa_irq_level, dmh *h U, domid_t d U, uint8_t i U,
            unsigned int l U)
ENOSYS_STUB(xendevicemodel_set_mem_type, dmh *h U, domid_t d U, hvmmem_type_t t U,
            uint64_t f U, uint32_t n U)
ENOSYS_STUB(xendevicemodel_set_pci_intx_level, dmh *h U, domid_t d U, uint16_t s U,
            uint8_t b U, uint8_t dv U, uint8_t in U, unsigned int l U)
ENOSYS_STUB(xendevicemodel_set_pci_link_route, dmh *h U, domid_t d U, uint8_t l U, uint8_t i U)
ENOSYS_STUB(xendevicemodel_track_dirty_vram, dmh *h U, domid_t d U, uint64_t f U,
            uint32_t n U, unsigned long *b U)

/* ------------------------------------------------------------------------
 * libxenevtchn
 */
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

/* ------------------------------------------------------------------------
 * libxengnttab
 */
struct gnt_map {
    struct gnt_map *next;
    void *addr;
    uint32_t count;
    bool alias;                  /* addr is this shim's own mapping */
    uint32_t handles[];
};

struct xengntdev_handle {
    pthread_mutex_t lock;
    struct gnt_map *maps;
};

EXPORT xengnttab_handle *xengnttab_open(struct xentoollog_logger *logger, unsigned int flags)
{
    (void)logger; (void)flags;
    if (shim_attach() < 0) {
        errno = ENOENT;
        return NULL;
    }
    struct xengntdev_handle *h = calloc(1, sizeof(*h));
    if (h != NULL)
        pthread_mutex_init(&h->lock, NULL);
    return h;
}

static void gnt_release(struct gnt_map *m, uint32_t mapped)
{
    if (m->alias)
        munmap(m->addr, (size_t)m->count * PAGE_SZ);
    for (uint32_t i = 0; i < mapped; i++)
        shim_unmap_grant(m->handles[i]);
    free(m);
}

EXPORT int xengnttab_close(xengnttab_handle *h)
{
    if (h == NULL)
        return 0;
    /* As gntdev does when its file is closed. */
    while (h->maps != NULL) {
        struct gnt_map *m = h->maps;
        h->maps = m->next;
        gnt_release(m, m->count);
    }
    pthread_mutex_destroy(&h->lock);
    free(h);
    return 0;
}

EXPORT int xengnttab_set_max_grants(xengnttab_handle *h, uint32_t nr_grants)
{
    (void)h; (void)nr_grants;
    return 0;
}

static int gnttab_errno(int16_t st)
{
    switch (st) {
    case GNTST_no_device_space:
    case GNTST_no_space:
        return ENOMEM;
    case GNTST_bad_domain:
        return ESRCH;
    case GNTST_permission_denied:
        return EPERM;
    default:
        return EINVAL;
    }
}

EXPORT void *xengnttab_map_grant_refs(xengnttab_handle *h, uint32_t count,
                                      uint32_t *domids, uint32_t *refs, int prot)
{
    bool ro = (prot & PROT_WRITE) == 0;
    struct gnt_map *m;
    uint32_t i;
    int16_t st = GNTST_okay;
    void *first = NULL;

    if (count == 0 || count > 4096u) {
        errno = EINVAL;
        return NULL;
    }
    m = calloc(1, sizeof(*m) + count * sizeof(m->handles[0]));
    if (m == NULL)
        return NULL;
    m->count = count;
    for (i = 0; i < count; i++) {
        void *va = shim_map_grant(domids[i], refs[i], ro, &m->handles[i], &st);
        if (va == NULL)
            break;
        if (i == 0)
            first = va;
    }
    if (i < count) {
        gnt_release(m, i);
        errno = gnttab_errno(st);
        return NULL;
    }
    if (count == 1) {
        m->addr = first;
    } else {
        /* gntdev gives one contiguous mapping: alias each granted frame. */
        uint8_t *base = mmap(NULL, (size_t)count * PAGE_SZ, PROT_NONE,
                             MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
        if (base == MAP_FAILED) {
            gnt_release(m, count);
            errno = ENOMEM;
            return NULL;
        }
        m->addr = base;
        m->alias = true;
        for (i = 0; i < count; i++) {
            off_t off;
            int fd = shim_grant_backing(m->handles[i], &off);
            if (fd < 0 || mmap(base + (size_t)i * PAGE_SZ, PAGE_SZ,
                               ro ? PROT_READ : PROT_READ | PROT_WRITE,
                               MAP_SHARED | MAP_FIXED, fd, off) == MAP_FAILED) {
                gnt_release(m, count);
                errno = EFAULT;
                return NULL;
            }
        }
    }
    pthread_mutex_lock(&h->lock);
    m->next = h->maps;
    h->maps = m;
    pthread_mutex_unlock(&h->lock);
    return m->addr;
}

EXPORT void *xengnttab_map_domain_grant_refs(xengnttab_handle *h, uint32_t count,
                                             uint32_t domid, uint32_t *refs, int prot)
{
    uint32_t *domids = malloc((count ? count : 1) * sizeof(*domids));

    if (domids == NULL)
        return NULL;
    for (uint32_t i = 0; i < count; i++)
        domids[i] = domid;
    void *va = xengnttab_map_grant_refs(h, count, domids, refs, prot);
    int e = errno;
    free(domids);
    errno = e;
    return va;
}

EXPORT void *xengnttab_map_grant_ref(xengnttab_handle *h, uint32_t domid, uint32_t ref,
                                     int prot)
{
    return xengnttab_map_grant_refs(h, 1, &domid, &ref, prot);
}

EXPORT int xengnttab_unmap(xengnttab_handle *h, void *start_address, uint32_t count)
{
    struct gnt_map **pp, *m = NULL;

    pthread_mutex_lock(&h->lock);
    for (pp = &h->maps; *pp != NULL; pp = &(*pp)->next) {
        if ((*pp)->addr == start_address && (*pp)->count == count) {
            m = *pp;
            *pp = m->next;
            break;
        }
    }
    pthread_mutex_unlock(&h->lock);
    if (m == NULL)
        return fail(EINVAL);
    gnt_release(m, m->count);
    return 0;
}

/* One side of a copy: a granted page mapped for the copy's duration. */
static int16_t copy_side(const union xengnttab_copy_ptr *p, bool gref, bool ro, uint16_t len,
                         uint8_t **va, uint32_t *handle)
{
    int16_t st = GNTST_okay;

    if (!gref) {
        *va = p->virt;
        return GNTST_okay;
    }
    if ((uint32_t)p->foreign.offset + len > PAGE_SZ)
        return GNTST_bad_copy_arg;
    uint8_t *page = shim_map_grant(p->foreign.domid, p->foreign.ref, ro, handle, &st);
    if (page == NULL)
        return st;
    *va = page + p->foreign.offset;
    return GNTST_okay;
}

EXPORT int xengnttab_grant_copy(xengnttab_handle *h, uint32_t count,
                                xengnttab_grant_copy_segment_t *segs)
{
    (void)h;
    for (uint32_t i = 0; i < count; i++) {
        xengnttab_grant_copy_segment_t *s = &segs[i];
        bool sg = s->flags & GNTCOPY_source_gref, dg = s->flags & GNTCOPY_dest_gref;
        uint8_t *src = NULL, *dst = NULL;
        uint32_t hs = 0, hd = 0;
        int16_t st;

        st = copy_side(&s->source, sg, true, s->len, &src, &hs);
        if (st == GNTST_okay) {
            st = copy_side(&s->dest, dg, false, s->len, &dst, &hd);
            if (st == GNTST_okay) {
                memmove(dst, src, s->len);
                if (dg)
                    shim_unmap_grant(hd);
            }
            if (sg)
                shim_unmap_grant(hs);
        }
        s->status = st;
    }
    return 0;
}

/* ------------------------------------------------------------------------
 * libxenforeignmemory
 */
struct xenforeignmemory_handle { int unused; };

EXPORT xenforeignmemory_handle *xenforeignmemory_open(struct xentoollog_logger *logger,
                                                      unsigned int open_flags)
{
    (void)logger; (void)open_flags;
    return handle_new(sizeof(struct xenforeignmemory_handle));
}

EXPORT int xenforeignmemory_close(xenforeignmemory_handle *fmem)
{
    free(fmem);
    return 0;
}

EXPORT void *xenforeignmemory_map2(xenforeignmemory_handle *fmem, uint32_t dom, void *addr,
                                   int prot, int flags, size_t num, const xen_pfn_t arr[],
                                   int err[])
{
    (void)fmem;
    if (num == 0) {
        errno = EINVAL;
        return NULL;
    }
    if (!shim_domain_exists(dom)) {
        errno = ESRCH;
        return NULL;
    }
    uint8_t *base = mmap(addr, num * PAGE_SZ, PROT_NONE,
                         MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE |
                             (flags & MAP_FIXED), -1, 0);
    if (base == MAP_FAILED)
        return NULL;
    int bad = 0;
    for (size_t i = 0; i < num; i++) {
        off_t off;
        int fd = shim_gfn_backing(dom, arr[i], &off);
        int e = 0;
        if (fd < 0)
            e = EINVAL;
        else if (mmap(base + i * PAGE_SZ, PAGE_SZ, prot, MAP_SHARED | MAP_FIXED, fd, off) ==
                 MAP_FAILED)
            e = errno;
        if (err != NULL)
            err[i] = -e;
        else if (e != 0)
            bad = e;
    }
    if (bad != 0) {
        munmap(base, num * PAGE_SZ);
        errno = bad;
        return NULL;
    }
    return base;
}

EXPORT void *xenforeignmemory_map(xenforeignmemory_handle *fmem, uint32_t dom, int prot,
                                  size_t num, const xen_pfn_t arr[], int err[])
{
    return xenforeignmemory_map2(fmem, dom, NULL, prot, 0, num, arr, err);
}

EXPORT int xenforeignmemory_unmap(xenforeignmemory_handle *fmem, void *addr, size_t num)
{
    (void)fmem;
    return munmap(addr, num * PAGE_SZ);
}

EXPORT int xenforeignmemory_restrict(xenforeignmemory_handle *fmem, domid_t domid)
{
    (void)fmem; (void)domid;
    return 0;
}

EXPORT xenforeignmemory_resource_handle *xenforeignmemory_map_resource(
    xenforeignmemory_handle *fmem, domid_t domid, unsigned int type, unsigned int id,
    unsigned long frame, unsigned long nr_frames, void **paddr, int prot, int flags)
{
    (void)fmem; (void)domid; (void)type; (void)id; (void)frame; (void)nr_frames;
    (void)paddr; (void)prot; (void)flags;
    errno = EOPNOTSUPP; /* QEMU then falls back, as on an old Xen */
    return NULL;
}

EXPORT int xenforeignmemory_unmap_resource(xenforeignmemory_handle *fmem,
                                           xenforeignmemory_resource_handle *fres)
{
    (void)fmem; (void)fres;
    return 0;
}

/* ------------------------------------------------------------------------
 * /proc/xen/xsd_port and /proc/xen/xsd_kva, for xenstored.
 */
#define XSD_PORT "/proc/xen/xsd_port"
#define XSD_KVA "/proc/xen/xsd_kva"

static int xsd_file(const char *path)
{
    static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
    static int port = -1;
    int fd;

    if (strcmp(path, XSD_PORT) == 0) {
        char buf[16];
        pthread_mutex_lock(&lock);
        if (port < 0)
            port = shim_evtchn_alloc_unbound(0); /* dom0's own xenstore channel */
        int p = port;
        pthread_mutex_unlock(&lock);
        if (p < 0)
            return fail(-p);
        fd = memfd_create("xsd_port", MFD_CLOEXEC);
        if (fd < 0)
            return -1;
        int n = snprintf(buf, sizeof(buf), "%d", p);
        if (write(fd, buf, (size_t)n) != n) {
            close(fd);
            return fail(EIO);
        }
        lseek(fd, 0, SEEK_SET);
        return fd;
    }
    fd = memfd_create("xsd_kva", MFD_CLOEXEC);
    if (fd >= 0 && ftruncate(fd, PAGE_SZ) < 0) {
        close(fd);
        return -1;
    }
    return fd;
}

static bool is_xsd(const char *path)
{
    return path != NULL && (strcmp(path, XSD_PORT) == 0 || strcmp(path, XSD_KVA) == 0);
}

typedef int open_fn(const char *, int, ...);
typedef int openat_fn(int, const char *, int, ...);
typedef FILE *fopen_fn(const char *, const char *);

typedef void anyfn(void);

/* The C library's function (POSIX lets dlsym's object pointer be a
 * function's: copied, not cast, to keep ISO C quiet). */
static anyfn *next_fn(const char *name)
{
    void *p = dlsym(RTLD_NEXT, name);
    anyfn *f;

    if (p == NULL) {
        fprintf(stderr, "xfshim: no next %s\n", name);
        abort();
    }
    memcpy(&f, &p, sizeof(f));
    return f;
}
#define next(name) next_fn(name)

static mode_t mode_arg(int flags, va_list ap)
{
    return (flags & (O_CREAT | O_TMPFILE)) ? (mode_t)va_arg(ap, int) : 0;
}

#define OPEN_WRAPPER(name)                                             \
    EXPORT int name(const char *path, int flags, ...)                  \
    {                                                                  \
        va_list ap;                                                    \
        va_start(ap, flags);                                           \
        mode_t mode = mode_arg(flags, ap);                             \
        va_end(ap);                                                    \
        if (is_xsd(path))                                              \
            return xsd_file(path);                                     \
        return ((open_fn *)next(#name))(path, flags, mode);           \
    }
OPEN_WRAPPER(open)
OPEN_WRAPPER(open64)

#define OPENAT_WRAPPER(name)                                           \
    EXPORT int name(int dirfd, const char *path, int flags, ...)       \
    {                                                                  \
        va_list ap;                                                    \
        va_start(ap, flags);                                           \
        mode_t mode = mode_arg(flags, ap);                             \
        va_end(ap);                                                    \
        if (is_xsd(path))                                              \
            return xsd_file(path);                                     \
        return ((openat_fn *)next(#name))(dirfd, path, flags, mode);  \
    }
OPENAT_WRAPPER(openat)
OPENAT_WRAPPER(openat64)

/* _FORTIFY_SOURCE's checked variants. */
EXPORT int __open_2(const char *path, int flags)
{
    if (is_xsd(path))
        return xsd_file(path);
    return ((int (*)(const char *, int))next("__open_2"))(path, flags);
}

EXPORT int __open64_2(const char *path, int flags)
{
    if (is_xsd(path))
        return xsd_file(path);
    return ((int (*)(const char *, int))next("__open64_2"))(path, flags);
}

#define FOPEN_WRAPPER(name)                                            \
    EXPORT FILE *name(const char *path, const char *mode)              \
    {                                                                  \
        if (is_xsd(path)) {                                            \
            int fd = xsd_file(path);                                   \
            return fd < 0 ? NULL : fdopen(fd, mode);                   \
        }                                                              \
        return ((fopen_fn *)next(#name))(path, mode);                 \
    }
FOPEN_WRAPPER(fopen)
FOPEN_WRAPPER(fopen64)

/* Raising RLIMIT_NOFILE may be refused in a sandbox; the programs only
 * want more descriptors than the tests use. */
EXPORT int setrlimit(__rlimit_resource_t resource, const struct rlimit *rlim)
{
    int rc = ((int (*)(__rlimit_resource_t, const struct rlimit *))next("setrlimit"))(resource,
                                                                                      rlim);
    if (rc < 0 && errno == EPERM && resource == RLIMIT_NOFILE)
        return 0;
    return rc;
}
