/*
 * The ring transport (xenstored_domain.c's readchn/writechn and
 * xenstored_core.c's handle_input/write_messages), ring reconnection as
 * oxenstored does it, the server thread and the public API.
 */
#define _GNU_SOURCE
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>

#include "private.h"

#define WAIT_SLICE_NS (20u * 1000u * 1000u)  /* how long a stop may go unnoticed */
#define SPLIT_PIECE   3u                     /* XF_XSD_SPLIT_WRITES */

static void notify(struct xf_xsd *x)
{
    xf_sim_evtchn_send(x->sim, 0, (evtchn_port_t)x->port);
}

/* ------------------------------------------------------------- queueing */

bool xsd_mis_take(struct xf_xsd *x, enum xf_xsd_misbehaviour m)
{
    if (x->mis != m || m == XF_XSD_HONEST)
        return false;
    if (x->mis_count > 0 && --x->mis_count == 0)
        x->mis = XF_XSD_HONEST;
    return true;
}

void xsd_queue(struct xf_xsd *x, struct conn *conn, struct out_msg *m)
{
    (void)x;
    m->next = NULL;
    *conn->out_tail = m;
    conn->out_tail = &m->next;
}

void xsd_pend_put(struct conn *conn, struct pend *p)
{
    if (p != NULL && --p->refs == 0) {
        conn->nboutstanding--;
        free(p);
    }
}

void xsd_free_out(struct xf_xsd *x, struct conn *conn, struct out_msg *m)
{
    (void)x;
    if (m->watch_event)
        conn->nevents--;
    xsd_pend_put(conn, m->pend);
    free(m->bytes);
    free(m);
}

static void pop_out(struct xf_xsd *x, struct conn *conn)
{
    struct out_msg *m = conn->out;

    conn->out = m->next;
    if (conn->out == NULL)
        conn->out_tail = &conn->out;
    xsd_free_out(x, conn, m);
}

static void conn_free_buffered_data(struct xf_xsd *x, struct conn *conn)
{
    while (conn->out != NULL)
        pop_out(x, conn);
    free(conn->buffer);
    conn->buffer = NULL;
    conn->inhdr = true;
    conn->used = 0;
}

/* xenstored's ignore_connection(): keep the ring, stop serving it. */
static void ignore_connection(struct xf_xsd *x, unsigned err)
{
    struct conn *conn = &x->conn;

    XF_WRITE_ONCE(x->intf->error, err);
    conn->ignored = true;
    x->broken = err;
    xsd_conn_delete_all_watches(x, conn);
    xsd_conn_delete_all_transactions(x, conn);
    conn_free_buffered_data(x, conn);
}

/* ----------------------------------------------------------------- ring */

static bool check_indexes(XENSTORE_RING_IDX cons, XENSTORE_RING_IDX prod)
{
    return prod - cons <= XENSTORE_RING_SIZE;
}

/* Read what is there, up to len and the end of the ring: bytes, or -1. */
static int readchn(struct xf_xsd *x, void *data, unsigned len)
{
    struct xenstore_domain_interface *intf = x->intf;
    XENSTORE_RING_IDX cons = XF_READ_ONCE(intf->req_cons);
    XENSTORE_RING_IDX prod = XF_READ_ONCE(intf->req_prod);
    unsigned avail;

    XF_MB();   /* indices before data */
    if (!check_indexes(cons, prod))
        return -1;
    avail = XENSTORE_RING_SIZE - MASK_XENSTORE_IDX(cons);
    if (prod - cons < avail)
        avail = prod - cons;
    if (avail < len)
        len = avail;
    memcpy(data, intf->req + MASK_XENSTORE_IDX(cons), len);
    XF_MB();   /* data read before the space is given back */
    XF_WRITE_ONCE(intf->req_cons, cons + len);
    notify(x);
    return (int)len;
}

static int writechn(struct xf_xsd *x, const void *data, unsigned len)
{
    struct xenstore_domain_interface *intf = x->intf;
    XENSTORE_RING_IDX cons = XF_READ_ONCE(intf->rsp_cons);
    XENSTORE_RING_IDX prod = XF_READ_ONCE(intf->rsp_prod);
    unsigned avail;

    XF_MB();
    if (!check_indexes(cons, prod))
        return -1;
    avail = XENSTORE_RING_SIZE - MASK_XENSTORE_IDX(prod);
    if (XENSTORE_RING_SIZE - (prod - cons) < avail)
        avail = XENSTORE_RING_SIZE - (prod - cons);
    if (avail < len)
        len = avail;
    memcpy(intf->rsp + MASK_XENSTORE_IDX(prod), data, len);
    XF_WMB();  /* data before the producer index */
    XF_WRITE_ONCE(intf->rsp_prod, prod + len);
    notify(x);
    return (int)len;
}

static bool can_read(struct xf_xsd *x)
{
    struct conn *conn = &x->conn;

    if (conn->ignored)
        return false;
    if (x->cfg.quota_outstanding != XF_XSD_UNLIMITED &&
        conn->nboutstanding >= x->cfg.quota_outstanding)
        return false;
    return XF_READ_ONCE(x->intf->req_cons) != XF_READ_ONCE(x->intf->req_prod);
}

static bool can_write(struct xf_xsd *x)
{
    return !x->conn.ignored && x->conn.out != NULL &&
           XF_READ_ONCE(x->intf->rsp_prod) - XF_READ_ONCE(x->intf->rsp_cons) !=
               XENSTORE_RING_SIZE;
}

static void server_reset_locked(struct xf_xsd *x);

static void consider_message(struct xf_xsd *x)
{
    struct conn *conn = &x->conn;
    struct pend *p;

    if (x->mis == XF_XSD_SILENT && xsd_mis_take(x, XF_XSD_SILENT))
        return;
    if (x->mis == XF_XSD_SPONTANEOUS_RESET && xsd_mis_take(x, XF_XSD_SPONTANEOUS_RESET)) {
        server_reset_locked(x);
        return;
    }
    /* The rewriting backend: its write (and the events it fires) comes
     * before whatever the guest asked. */
    if (x->rewrite_path != NULL)
        (void)xsd_tool_write(x, x->rewrite_path, x->rewrite_value, x->rewrite_len);
    p = calloc(1, sizeof(*p));
    if (p == NULL)
        return;
    p->refs = 1;
    conn->nboutstanding++;
    conn->pend = p;
    xsd_process_message(x, conn, &conn->hdr.msg, conn->buffer);
    conn->pend = NULL;
    xsd_pend_put(conn, p);
    x->requests++;
}

/* One step of reading: true if anything happened. */
static bool handle_input(struct xf_xsd *x)
{
    struct conn *conn = &x->conn;
    int bytes = 0;

    if (conn->inhdr) {
        if (conn->used != sizeof(conn->hdr)) {
            bytes = readchn(x, conn->hdr.raw + conn->used,
                            (unsigned)sizeof(conn->hdr) - conn->used);
            if (bytes < 0) {
                ignore_connection(x, XENSTORE_ERROR_RINGIDX);
                return true;
            }
            conn->used += (unsigned)bytes;
            if (conn->used != sizeof(conn->hdr))
                return bytes > 0;
            if (conn->hdr.msg.len > XENSTORE_PAYLOAD_MAX) {
                ignore_connection(x, XENSTORE_ERROR_PROTO);
                return true;
            }
        }
        conn->buffer = malloc(conn->hdr.msg.len + 1);
        if (conn->buffer == NULL)
            return bytes > 0;   /* try again later */
        conn->used = 0;
        conn->inhdr = false;
    }
    if (conn->used < conn->hdr.msg.len) {
        int more = readchn(x, conn->buffer + conn->used, conn->hdr.msg.len - conn->used);

        if (more < 0) {
            ignore_connection(x, XENSTORE_ERROR_RINGIDX);
            return true;
        }
        conn->used += (unsigned)more;
        bytes += more;
        if (conn->used != conn->hdr.msg.len)
            return bytes > 0;
    }
    conn->buffer[conn->hdr.msg.len] = 0;
    consider_message(x);
    free(conn->buffer);
    conn->buffer = NULL;
    conn->inhdr = true;
    conn->used = 0;
    return true;
}

/* One step of writing the first queued message: true if anything happened. */
static bool handle_output(struct xf_xsd *x)
{
    struct conn *conn = &x->conn;
    struct out_msg *m = conn->out;
    unsigned len;
    int ret;

    if (m->jump) {
        XENSTORE_RING_IDX cons = XF_READ_ONCE(x->intf->rsp_cons);

        XF_MB();
        XF_WRITE_ONCE(x->intf->rsp_prod, cons + XENSTORE_RING_SIZE + 16);
        notify(x);
        pop_out(x, conn);
        return true;
    }
    len = (unsigned)(m->size - m->used);
    if (m->split && len > SPLIT_PIECE)
        len = SPLIT_PIECE;
    ret = writechn(x, m->bytes + m->used, len);
    if (ret < 0) {
        ignore_connection(x, XENSTORE_ERROR_RINGIDX);
        return true;
    }
    m->used += (unsigned)ret;
    if (m->used == m->size)
        pop_out(x, conn);
    else if (m->split && ret > 0)
        sched_yield();   /* give the reader a chance to see the piece alone */
    return ret > 0;
}

/* The guest asked for a reconnection (oxenstored's Xb.reconnect). */
static void check_reconnect(struct xf_xsd *x)
{
    struct xenstore_domain_interface *intf = x->intf;
    struct conn *conn = &x->conn;

    if (x->cfg.no_reconnect || XF_READ_ONCE(intf->connection) != XENSTORE_RECONNECT)
        return;
    XF_MB();
    xsd_conn_delete_all_watches(x, conn);
    xsd_conn_delete_all_transactions(x, conn);
    conn_free_buffered_data(x, conn);
    XF_WRITE_ONCE(intf->req_cons, 0);
    XF_WRITE_ONCE(intf->req_prod, 0);
    XF_WRITE_ONCE(intf->rsp_cons, 0);
    XF_WRITE_ONCE(intf->rsp_prod, 0);
    /* Unused space full of invalid packets (XS_INVALID), as oxenstored. */
    memset(intf->req, 0xff, sizeof(intf->req));
    memset(intf->rsp, 0xff, sizeof(intf->rsp));
    XF_WRITE_ONCE(intf->error, XENSTORE_ERROR_NONE);
    conn->ignored = false;
    x->broken = 0;
    XF_MB();
    XF_WRITE_ONCE(intf->connection, XENSTORE_CONNECTED);
    notify(x);
    x->reconnects++;
}

/* A reset the guest did not ask for (XF_XSD_SPONTANEOUS_RESET). */
static void server_reset_locked(struct xf_xsd *x)
{
    struct xenstore_domain_interface *intf = x->intf;
    struct conn *conn = &x->conn;

    XF_WRITE_ONCE(intf->connection, XENSTORE_RECONNECT);
    XF_MB();
    xsd_conn_delete_all_watches(x, conn);
    xsd_conn_delete_all_transactions(x, conn);
    conn_free_buffered_data(x, conn);
    XF_WRITE_ONCE(intf->req_cons, 0x100);
    XF_WRITE_ONCE(intf->req_prod, 0x100);
    XF_WRITE_ONCE(intf->rsp_cons, 0x100);
    XF_WRITE_ONCE(intf->rsp_prod, 0x100);
    memset(intf->req, 0xff, sizeof(intf->req));
    memset(intf->rsp, 0xff, sizeof(intf->rsp));
    XF_WRITE_ONCE(intf->error, XENSTORE_ERROR_NONE);
    conn->ignored = false;
    x->broken = 0;
    XF_MB();
    XF_WRITE_ONCE(intf->connection, XENSTORE_CONNECTED);
    notify(x);
    x->server_resets++;
}

/* XF_XSD_EVENT_FLOOD: one more event whenever nothing else waits. */
static void flood(struct xf_xsd *x)
{
    static const char body[] = "/flood\0xf-xsd-flood";   /* both NULs sent */
    struct xsd_sockmsg h = { .type = XS_WATCH_EVENT, .len = sizeof(body) };
    struct out_msg *m;

    if (x->mis != XF_XSD_EVENT_FLOOD || x->conn.out != NULL || x->conn.ignored)
        return;
    m = calloc(1, sizeof(*m));
    if (m == NULL)
        return;
    m->bytes = malloc(sizeof(h) + sizeof(body));
    if (m->bytes == NULL) {
        free(m);
        return;
    }
    if (!xsd_mis_take(x, XF_XSD_EVENT_FLOOD)) {
        free(m->bytes);
        free(m);
        return;
    }
    memcpy(m->bytes, &h, sizeof(h));
    memcpy(m->bytes + sizeof(h), body, sizeof(body));
    m->size = sizeof(h) + sizeof(body);
    xsd_queue(x, &x->conn, m);
    x->flood_events++;
}

static void flush_output(struct xf_xsd *x)
{
    while (can_write(x) && handle_output(x))
        ;
}

static void service(struct xf_xsd *x)
{
    bool progress;

    check_reconnect(x);
    do {
        progress = false;
        if (can_read(x))
            progress |= handle_input(x);
        flood(x);
        if (can_write(x))
            progress |= handle_output(x);
    } while (progress && !x->stop);
}

static void *server_main(void *arg)
{
    struct xf_xsd *x = arg;

    pthread_mutex_lock(&x->lock);
    while (!x->stop) {
        service(x);
        pthread_mutex_unlock(&x->lock);
        /* Woken by the guest's notification; the deadline only bounds how
         * long a stop request waits. */
        xf_sim_evtchn_wait(x->sim, 0, (evtchn_port_t)x->port, xf_plat_now_ns() + WAIT_SLICE_NS);
        pthread_mutex_lock(&x->lock);
    }
    pthread_mutex_unlock(&x->lock);
    return NULL;
}

/* ------------------------------------------------------------ life cycle */

static uint32_t quota(uint32_t v, uint32_t def)
{
    return v == 0 ? def : v;
}

static int tool_perms(struct xf_xsd *x, const char *path, const char *p0, const char *p1)
{
    const char *const perms[2] = { p0, p1 };

    return xf_xsd_set_perms(x, path, perms, p1 ? 2 : 1);
}

/* What xen-init-dom0 and libxl (xl create) put in the store. */
static int toolstack_nodes(struct xf_xsd *x)
{
    char home[64], p[160], own[16], ro[16];
    domid_t d = x->domid;
    int rc = 0;

    snprintf(home, sizeof(home), "/local/domain/%u", d);
    snprintf(own, sizeof(own), "n%u", d);
    snprintf(ro, sizeof(ro), "r%u", d);
    rc |= xf_xsd_write(x, "/local/domain/0/domid", "0", 1);
    rc |= xf_xsd_write(x, "/local/domain/0/name", "Domain-0", 8);
    rc |= xf_xsd_mkdir(x, home);
    if (!x->cfg.libxl_layout) {
        rc |= tool_perms(x, home, own, NULL);
    } else {
        static const char *const ro_dirs[] = { "cpu", "memory", "device", "control" };
        static const char *const rw_dirs[] = {
            "device/suspend/event-channel", "control/shutdown", "control/feature-poweroff",
            "control/feature-reboot", "control/feature-suspend", "control/sysrq",
            "data", "drivers", "feature", "attr", "error",
        };

        rc |= tool_perms(x, home, "n0", ro);
        for (size_t i = 0; i < sizeof(ro_dirs) / sizeof(ro_dirs[0]); i++) {
            snprintf(p, sizeof(p), "%s/%s", home, ro_dirs[i]);
            rc |= xf_xsd_mkdir(x, p);
            rc |= tool_perms(x, p, "n0", ro);
        }
        for (size_t i = 0; i < sizeof(rw_dirs) / sizeof(rw_dirs[0]); i++) {
            snprintf(p, sizeof(p), "%s/%s", home, rw_dirs[i]);
            rc |= xf_xsd_mkdir(x, p);
            rc |= tool_perms(x, p, own, NULL);
        }
    }
    snprintf(p, sizeof(p), "%s/control/platform-feature-multiprocessor-suspend", home);
    rc |= xf_xsd_write(x, p, "1", 1);
    if (!x->cfg.no_reset_watches) {
        snprintf(p, sizeof(p), "%s/control/platform-feature-xs_reset_watches", home);
        rc |= xf_xsd_write(x, p, "1", 1);
    }
    return rc;
}

static void free_all(struct xf_xsd *x)
{
    if (x->intf != NULL) {
        xsd_conn_delete_all_watches(x, &x->conn);
        xsd_conn_delete_all_transactions(x, &x->conn);
        conn_free_buffered_data(x, &x->conn);
    }
    if (x->port >= 0)
        xf_sim_evtchn_close(x->sim, 0, (evtchn_port_t)x->port);
    if (x->grant_mapped)
        xf_sim_unmap_grant(x->sim, 0, x->handle);
    xsd_store_destroy(x);
    free(x->rewrite_path);
    free(x->rewrite_value);
    free(x->conn.path);
    pthread_mutex_destroy(&x->lock);
    free(x);
}

struct xf_xsd *xf_xsd_start(struct xf_sim *sim, domid_t domid, const struct xf_xsd_config *cfg)
{
    struct xf_xsd *x;
    uint32_t features = 0;
    int16_t st;

    if (sim == NULL || domid == 0 || !xf_sim_domain_exists(sim, domid))
        return NULL;
    x = calloc(1, sizeof(*x));
    if (x == NULL)
        return NULL;
    pthread_mutex_init(&x->lock, NULL);
    x->sim = sim;
    x->domid = domid;
    x->port = -1;
    if (cfg != NULL)
        x->cfg = *cfg;
    x->cfg.quota_entry_size = quota(x->cfg.quota_entry_size, XF_XSD_DEFAULT_ENTRY_SIZE);
    x->cfg.quota_watches = quota(x->cfg.quota_watches, XF_XSD_DEFAULT_WATCHES);
    x->cfg.quota_transactions = quota(x->cfg.quota_transactions, XF_XSD_DEFAULT_TRANSACTIONS);
    x->cfg.quota_perms = quota(x->cfg.quota_perms, XF_XSD_DEFAULT_PERMS);
    x->cfg.quota_outstanding = quota(x->cfg.quota_outstanding, XF_XSD_DEFAULT_OUTSTANDING);
    x->cfg.quota_trans_nodes = quota(x->cfg.quota_trans_nodes, XF_XSD_DEFAULT_TRANS_NODES);

    x->conn.id = domid;
    x->conn.out_tail = &x->conn.out;
    x->conn.inhdr = true;
    if (asprintf(&x->conn.path, "/local/domain/%u", domid) < 0) {
        x->conn.path = NULL;
        goto fail;
    }
    if (xsd_store_init(x) != 0)
        goto fail;

    x->guest_port = (evtchn_port_t)xf_sim_hvm_param(sim, domid, HVM_PARAM_STORE_EVTCHN);
    if (x->guest_port == 0)
        goto fail;
    /* As xenstored's map_interface(): the domain builder's grant. */
    x->intf = xf_sim_map_grant(sim, 0, domid, GNTTAB_RESERVED_XENSTORE, false, &x->handle, &st);
    if (x->intf != NULL) {
        x->grant_mapped = true;
    } else {
        xen_pfn_t gfn = (xen_pfn_t)xf_sim_hvm_param(sim, domid, HVM_PARAM_STORE_PFN);

        x->intf = gfn ? xf_sim_gfn_to_va(sim, domid, gfn) : NULL;
        if (x->intf == NULL)
            goto fail;
    }
    x->port = xf_sim_evtchn_bind_interdomain(sim, 0, domid, x->guest_port);
    if (x->port < 0)
        goto fail;
    /* Advertised before anything is produced or consumed. */
    if (!x->cfg.no_reconnect)
        features |= XENSTORE_SERVER_FEATURE_RECONNECTION;
    if (!x->cfg.no_error_feature)
        features |= XENSTORE_SERVER_FEATURE_ERROR;
    XF_WRITE_ONCE(x->intf->server_features, features);
    XF_MB();

    if (toolstack_nodes(x) != 0)
        goto fail;
    if (pthread_create(&x->thread, NULL, server_main, x) != 0)
        goto fail;
    x->thread_started = true;
    /* Anything the guest sent before we started. */
    notify(x);
    return x;

fail:
    free_all(x);
    return NULL;
}

void xf_xsd_stop(struct xf_xsd *x)
{
    if (x == NULL)
        return;
    if (x->thread_started) {
        pthread_mutex_lock(&x->lock);
        x->stop = true;
        pthread_mutex_unlock(&x->lock);
        pthread_join(x->thread, NULL);
    }
    free_all(x);
}

/* ------------------------------------------------------------ toolstack */

#define LOCKED(x, expr) __extension__({ \
    __typeof__(expr) r_; \
    pthread_mutex_lock(&(x)->lock); \
    r_ = (expr); \
    flush_output(x); \
    pthread_mutex_unlock(&(x)->lock); \
    r_; })

int xf_xsd_write(struct xf_xsd *x, const char *path, const void *value, size_t len)
{
    if (x == NULL || path == NULL || (value == NULL && len))
        return -EINVAL;
    return -LOCKED(x, xsd_tool_write(x, path, value, len));
}

int xf_xsd_read(struct xf_xsd *x, const char *path, char *buf, size_t cap)
{
    int len = 0, ret;

    if (x == NULL || path == NULL)
        return -EINVAL;
    ret = LOCKED(x, xsd_tool_read(x, path, buf, cap, &len));
    return ret ? -ret : len;
}

int xf_xsd_rm(struct xf_xsd *x, const char *path)
{
    if (x == NULL || path == NULL)
        return -EINVAL;
    return -LOCKED(x, xsd_tool_rm(x, path));
}

int xf_xsd_mkdir(struct xf_xsd *x, const char *path)
{
    if (x == NULL || path == NULL)
        return -EINVAL;
    return -LOCKED(x, xsd_tool_mkdir(x, path));
}

int xf_xsd_set_perms(struct xf_xsd *x, const char *path, const char *const *perms, unsigned n)
{
    size_t len = 0;
    char *s, *p;
    int ret;

    if (x == NULL || path == NULL || perms == NULL || n == 0)
        return -EINVAL;
    for (unsigned i = 0; i < n; i++)
        len += strlen(perms[i]) + 1;
    s = p = malloc(len);
    if (s == NULL)
        return -ENOMEM;
    for (unsigned i = 0; i < n; i++) {
        memcpy(p, perms[i], strlen(perms[i]) + 1);
        p += strlen(perms[i]) + 1;
    }
    ret = LOCKED(x, xsd_tool_set_perms(x, path, s, len));
    free(s);
    return -ret;
}

int xf_xsd_get_perms(struct xf_xsd *x, const char *path, char *buf, size_t cap)
{
    int len = 0, ret;

    if (x == NULL || path == NULL)
        return -EINVAL;
    ret = LOCKED(x, xsd_tool_get_perms(x, path, buf, cap, &len));
    return ret ? -ret : len;
}

bool xf_xsd_exists(struct xf_xsd *x, const char *path)
{
    return xf_xsd_read(x, path, NULL, 0) >= 0;
}

#define COUNTER(type, name, expr) \
    type name(struct xf_xsd *x) \
    { \
        type v; \
        pthread_mutex_lock(&x->lock); \
        v = (expr); \
        pthread_mutex_unlock(&x->lock); \
        return v; \
    }

COUNTER(unsigned long, xf_xsd_requests, x->requests)
COUNTER(unsigned, xf_xsd_watch_count, x->conn.nbwatch)
COUNTER(unsigned, xf_xsd_transaction_count, x->conn.transaction_started)
COUNTER(unsigned long, xf_xsd_events_sent, x->events_sent)
COUNTER(unsigned long, xf_xsd_events_dropped, x->events_dropped)
COUNTER(unsigned long, xf_xsd_reconnects, x->reconnects)
COUNTER(unsigned, xf_xsd_broken, x->broken)
COUNTER(unsigned long, xf_xsd_server_resets, x->server_resets)
COUNTER(unsigned long, xf_xsd_flood_events, x->flood_events)

void xf_xsd_server_reset(struct xf_xsd *x)
{
    pthread_mutex_lock(&x->lock);
    server_reset_locked(x);
    pthread_mutex_unlock(&x->lock);
}

int xf_xsd_rewrite(struct xf_xsd *x, const char *path, const void *value, size_t len)
{
    char *p = NULL, *v = NULL;

    if (x == NULL || (path != NULL && value == NULL && len != 0))
        return -EINVAL;
    if (path != NULL) {
        p = strdup(path);
        v = malloc(len + 1);
        if (p == NULL || v == NULL) {
            free(p);
            free(v);
            return -ENOMEM;
        }
        if (len != 0)
            memcpy(v, value, len);
        v[len] = '\0';
    }
    pthread_mutex_lock(&x->lock);
    free(x->rewrite_path);
    free(x->rewrite_value);
    x->rewrite_path = p;
    x->rewrite_value = v;
    x->rewrite_len = len;
    pthread_mutex_unlock(&x->lock);
    return 0;
}

evtchn_port_t xf_xsd_port(struct xf_xsd *x)
{
    return (evtchn_port_t)x->port;
}

void xf_xsd_misbehave(struct xf_xsd *x, enum xf_xsd_misbehaviour m, unsigned count)
{
    pthread_mutex_lock(&x->lock);
    x->mis = m;
    x->mis_count = m == XF_XSD_HONEST ? 0 : count;
    pthread_mutex_unlock(&x->lock);
}
