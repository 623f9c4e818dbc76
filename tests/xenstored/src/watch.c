/*
 * Watches, as xenstored 4.17 has them (tools/xenstore/xenstored_watch.c),
 * rewritten from their documented behaviour.
 */
#define _GNU_SOURCE
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

#include "private.h"

/* ------------------------------------------------------------- watches */

static bool is_child(const char *child, const char *parent)
{
    size_t len = strlen(parent);

    if (strcmp(parent, "/") == 0)
        return true;
    if (strncmp(child, parent, len) != 0)
        return false;
    return child[len] == '/' || child[len] == '\0';
}

static const char *get_watch_path(const struct watch *w, const char *name)
{
    const char *path = name;

    if (w->relative_path) {
        path += strlen(w->relative_path);
        if (*path == '/')
            path++;
    }
    return path;
}

static bool watch_permitted(struct xf_xsd *x, struct conn *conn, struct ctx *ctx,
                            const char *name, struct node *node,
                            const struct xs_perm *perms, unsigned nperms)
{
    struct node *parent;

    if (perms != NULL && (xsd_perm_for_conn(conn, perms, nperms) & XS_PERM_READ))
        return true;
    if (node == NULL) {
        node = xsd_read_node(x, conn, ctx, name);
        if (node == NULL)
            return false;
    }
    if (xsd_perm_for_conn(conn, node->perms, node->num_perms) & XS_PERM_READ)
        return true;
    parent = node->parent;
    if (parent == NULL) {
        const char *pname = xsd_get_parent(ctx, node->name);

        if (pname == NULL)
            return false;
        parent = xsd_read_node(x, conn, ctx, pname);
        if (parent == NULL)
            return false;
    }
    return xsd_perm_for_conn(conn, parent->perms, parent->num_perms) & XS_PERM_READ;
}

static void send_event(struct xf_xsd *x, struct pend *req, struct conn *conn,
                       const char *path, const char *token)
{
    size_t plen = strlen(path), tlen = strlen(token);
    size_t len = plen + 1 + tlen + 1;
    struct out_msg *m;
    struct xsd_sockmsg hdr;

    if (len > XENSTORE_PAYLOAD_MAX)
        return;
    m = calloc(1, sizeof(*m));
    if (m == NULL || (m->bytes = malloc(sizeof(hdr) + len)) == NULL) {
        free(m);
        return;
    }
    memcpy(m->bytes + sizeof(hdr), path, plen + 1);
    memcpy(m->bytes + sizeof(hdr) + plen + 1, token, tlen + 1);
    /* An identical event still queued makes this one redundant. */
    if (path[0] != '@') {
        for (struct out_msg *o = conn->out; o != NULL; o = o->next)
            if (o->watch_event && o->size == sizeof(hdr) + len &&
                memcmp(o->bytes + sizeof(hdr), m->bytes + sizeof(hdr), len) == 0) {
                free(m->bytes);
                free(m);
                return;
            }
    }
    if (x->cfg.max_watch_events && conn->nevents >= x->cfg.max_watch_events) {
        x->events_dropped++;
        free(m->bytes);
        free(m);
        return;
    }
    if (x->mis == XF_XSD_UNTERMINATED && xsd_mis_take(x, XF_XSD_UNTERMINATED))
        len--;
    hdr.type = XS_WATCH_EVENT;
    hdr.req_id = 0;
    hdr.tx_id = 0;
    hdr.len = (uint32_t)len;
    memcpy(m->bytes, &hdr, sizeof(hdr));
    m->size = sizeof(hdr) + len;
    m->watch_event = true;
    m->pend = req;
    if (req)
        req->refs++;
    conn->nevents++;
    x->events_sent++;
    xsd_queue(x, conn, m);
}

void xsd_fire_watches(struct xf_xsd *x, struct conn *conn, struct ctx *ctx,
                      const char *name, struct node *node, bool exact,
                      const struct xs_perm *perms, unsigned nperms)
{
    struct conn *g = &x->conn;
    struct pend *req;

    /* In a transaction: only note them, they fire at commit. */
    if (conn && conn->transaction) {
        xsd_queue_watches(conn, name, exact);
        return;
    }
    req = xsd_unpriv(conn) ? conn->pend : NULL;
    if (g->ignored || g->watches == NULL)
        return;
    if (name[0] == '@') {
        unsigned n;
        const struct xs_perm *p = xsd_get_perms_special(x, name, &n);

        if (p == NULL || !(xsd_perm_for_conn(g, p, n) & XS_PERM_READ))
            return;
    } else if (!watch_permitted(x, g, ctx, name, node, perms, nperms)) {
        return;
    }
    for (struct watch *w = g->watches; w != NULL; w = w->next) {
        if (exact ? strcmp(name, w->node) == 0 : is_child(name, w->node))
            send_event(x, req, g, get_watch_path(w, name), w->token);
    }
}

void xsd_conn_delete_all_watches(struct xf_xsd *x, struct conn *conn)
{
    (void)x;
    while (conn->watches != NULL) {
        struct watch *w = conn->watches;

        conn->watches = w->next;
        free(w->node);
        free(w->token);
        free(w);
        conn->nbwatch--;
    }
}

int xsd_do_watch(struct xf_xsd *x, struct conn *conn, struct ctx *ctx,
                 struct buffered *in)
{
    char *vec[2];
    const char *path;
    bool relative;
    struct watch *w;

    if (xsd_get_strings(in, vec, 2) != 2)
        return EINVAL;
    path = vec[0];
    if (path[0] == '@') {
        relative = false;
        if (strlen(path) > XENSTORE_REL_PATH_MAX)
            return EINVAL;
    } else {
        relative = path[0] != '/';
        path = xsd_canonicalize(conn, ctx, path);
        if (path == NULL)
            return errno;
        if (!xsd_is_valid_nodename(path))
            return EINVAL;
    }
    for (w = conn->watches; w != NULL; w = w->next)
        if (strcmp(w->node, path) == 0 && strcmp(w->token, vec[1]) == 0)
            return EEXIST;
    if (xsd_unpriv(conn) && xsd_over(x->cfg.quota_watches, conn->nbwatch))
        return E2BIG;
    w = calloc(1, sizeof(*w));
    if (w == NULL || (w->node = strdup(path)) == NULL || (w->token = strdup(vec[1])) == NULL) {
        if (w != NULL)
            free(w->node);
        free(w);
        return ENOMEM;
    }
    w->relative_path = relative ? conn->path : NULL;
    {
        struct watch **pp = &conn->watches;

        while (*pp != NULL)
            pp = &(*pp)->next;
        *pp = w;
    }
    conn->nbwatch++;
    /* The initial event, not linked to the request, after the reply. */
    if (x->mis == XF_XSD_EVENT_BEFORE_REPLY && xsd_mis_take(x, x->mis)) {
        send_event(x, NULL, conn, get_watch_path(w, w->node), w->token);
        xsd_send_ack(x, conn, XS_WATCH);
    } else {
        xsd_send_ack(x, conn, XS_WATCH);
        send_event(x, NULL, conn, get_watch_path(w, w->node), w->token);
    }
    return 0;
}

int xsd_do_unwatch(struct xf_xsd *x, struct conn *conn, struct ctx *ctx,
                   struct buffered *in)
{
    char *vec[2];
    const char *node;

    if (xsd_get_strings(in, vec, 2) != 2)
        return EINVAL;
    node = xsd_canonicalize(conn, ctx, vec[0]);
    if (node == NULL)
        return ENOMEM;
    for (struct watch **pp = &conn->watches; *pp != NULL; pp = &(*pp)->next) {
        struct watch *w = *pp;

        if (strcmp(w->node, node) == 0 && strcmp(w->token, vec[1]) == 0) {
            *pp = w->next;
            free(w->node);
            free(w->token);
            free(w);
            conn->nbwatch--;
            xsd_send_ack(x, conn, XS_UNWATCH);
            return 0;
        }
    }
    return ENOENT;
}
