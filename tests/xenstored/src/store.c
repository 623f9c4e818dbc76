/*
 * Nodes, permissions, transactions, watches and the request handlers, as
 * xenstored 4.17 has them (tools/xenstore/xenstored_{core,transaction,
 * watch,domain}.c), rewritten from their documented behaviour.
 *
 * A connection of NULL is the toolstack (dom0 acting directly on the
 * store): privileged, no quota, no implicit path, no reply (except what
 * send_reply() captures for xf_xsd_read and xf_xsd_get_perms).
 */
#define _GNU_SOURCE
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

#include "private.h"

enum access_type { ACCESS_READ, ACCESS_WRITE, ACCESS_DELETE };

/* A request's payload (xenstored's struct buffered_data, input side). */
struct buffered {
    char *buffer;   /* used bytes, plus a NUL beyond them */
    unsigned used;
};

static bool unpriv(const struct conn *conn)
{
    return conn != NULL && conn->id != 0;
}

static bool over(uint32_t quota, uint64_t value)
{
    return quota != XF_XSD_UNLIMITED && value > quota;
}

/* ------------------------------------------------------------- strings */

static unsigned get_string(const struct buffered *in, unsigned off)
{
    const char *nul;

    if (off >= in->used)
        return 0;
    nul = memchr(in->buffer + off, 0, in->used - off);
    return nul ? (unsigned)(nul - (in->buffer + off)) + 1 : 0;
}

static unsigned get_strings(const struct buffered *in, char *vec[], unsigned num)
{
    unsigned off = 0, i = 0, len;

    while ((len = get_string(in, off)) != 0) {
        if (i < num)
            vec[i] = in->buffer + off;
        i++;
        off += len;
    }
    return i;
}

/* The one argument: exactly one NUL, at the end. */
static const char *onearg(const struct buffered *in)
{
    if (!in->used || get_string(in, 0) != in->used)
        return NULL;
    return in->buffer;
}

static unsigned count_strings(const char *s, unsigned len)
{
    unsigned n = 0;

    for (unsigned i = 0; i < len; i++)
        n += s[i] == '\0';
    return n;
}

/* --------------------------------------------------------------- paths */

static bool valid_chars(const char *node)
{
    return strspn(node, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
                        "0123456789-/_@") == strlen(node);
}

/* xenstored's is_valid_nodename(): the length limit is the relative one
 * (quota_max_path_len = XENSTORE_REL_PATH_MAX) beyond "/local/domain/N/". */
static bool is_valid_nodename(const char *node)
{
    int local_off = 0;
    unsigned domid;
    size_t len = strlen(node);

    if (node[0] != '/')
        return false;
    if (node[len - 1] == '/' && len != 1)
        return false;
    if (strstr(node, "//"))
        return false;
    if (sscanf(node, "/local/domain/%5u/%n", &domid, &local_off) != 1)
        local_off = 0;
    if (len > (size_t)local_off + XENSTORE_REL_PATH_MAX)
        return false;
    return valid_chars(node);
}

static const char *canonicalize(struct conn *conn, struct ctx *ctx, const char *node)
{
    if (node == NULL || node[0] == '/' || node[0] == '@')
        return node;
    return ctx_printf(ctx, "%s/%s", conn ? conn->path : "/local/domain/0", node);
}

static char *get_parent(struct ctx *ctx, const char *node)
{
    const char *slash = strrchr(node + 1, '/');

    return slash ? ctx_printf(ctx, "%.*s", (int)(slash - node), node) : ctx_strdup(ctx, "/");
}

static const char *basename_of(const char *name)
{
    return strrchr(name, '/') + 1;
}

/* ---------------------------------------------------------- permissions */

static unsigned perm_for_conn(const struct conn *conn, const struct xs_perm *p, unsigned num)
{
    const unsigned mask = XS_PERM_READ | XS_PERM_WRITE | XS_PERM_OWNER;

    if (!unpriv(conn) || p[0].id == conn->id)
        return mask;
    for (unsigned i = 1; i < num; i++)
        if (!(p[i].perms & XS_PERM_IGNORE) && p[i].id == conn->id)
            return p[i].perms & mask;
    return p[0].perms & mask;
}

static bool strings_to_perms(struct xs_perm *perms, unsigned num, const char *strings)
{
    const char *p = strings;

    for (unsigned i = 0; i < num; i++) {
        char *end;

        switch (*p) {
        case 'r': perms[i].perms = XS_PERM_READ; break;
        case 'w': perms[i].perms = XS_PERM_WRITE; break;
        case 'b': perms[i].perms = XS_PERM_READ | XS_PERM_WRITE; break;
        case 'n': perms[i].perms = XS_PERM_NONE; break;
        default:
            errno = EINVAL;
            return false;
        }
        p++;
        perms[i].id = (uint32_t)strtol(p, &end, 0);
        if (*end || !*p) {
            errno = EINVAL;
            return false;
        }
        p = end + 1;
    }
    return true;
}

static char *perms_to_strings(struct ctx *ctx, const struct xs_perm *p, unsigned num,
                              unsigned *len)
{
    char *s = ctx_alloc(ctx, num * 16 + 1);

    *len = 0;
    if (s == NULL)
        return NULL;
    for (unsigned i = 0; i < num; i++) {
        char c;

        switch (p[i].perms & ~XS_PERM_IGNORE) {
        case XS_PERM_WRITE: c = 'w'; break;
        case XS_PERM_READ: c = 'r'; break;
        case XS_PERM_READ | XS_PERM_WRITE: c = 'b'; break;
        case XS_PERM_NONE: c = 'n'; break;
        default:
            errno = EINVAL;
            return NULL;
        }
        *len += (unsigned)sprintf(s + *len, "%c%i", c, (int)p[i].id) + 1;
    }
    return s;
}

/* --------------------------------------------------------- transactions */

static struct accessed_node *find_accessed(struct transaction *t, const char *name)
{
    for (struct accessed_node *i = t->accessed; i != NULL; i = i->next)
        if (strcmp(i->node, name) == 0)
            return i;
    return NULL;
}

static const char *transaction_prepend(struct conn *conn, const char *name)
{
    if (conn != NULL && conn->transaction != NULL) {
        struct accessed_node *i = find_accessed(conn->transaction, name);

        if (i != NULL)
            return i->trans_name;
    }
    return name;
}

static int write_node_raw(struct xf_xsd *x, struct conn *conn, const char *key,
                          const struct node *node, bool no_quota_check)
{
    size_t size = sizeof(struct rec_hdr) + node->num_perms * sizeof(struct xs_perm) +
                  node->datalen + node->childlen;
    struct rec_hdr *hdr;
    char *p;
    int rc;

    if (!no_quota_check && unpriv(conn) && x->cfg.quota_entry_size != XF_XSD_UNLIMITED &&
        size >= x->cfg.quota_entry_size) {
        errno = ENOSPC;
        return errno;
    }
    hdr = malloc(size);
    if (hdr == NULL) {
        errno = ENOMEM;
        return errno;
    }
    hdr->generation = node->generation;
    hdr->num_perms = node->num_perms;
    hdr->datalen = node->datalen;
    hdr->childlen = node->childlen;
    memcpy(hdr->perms, node->perms, node->num_perms * sizeof(struct xs_perm));
    p = (char *)(hdr->perms + node->num_perms);
    if (node->datalen)
        memcpy(p, node->data, node->datalen);
    if (node->childlen)
        memcpy(p + node->datalen, node->children, node->childlen);
    rc = db_store(&x->db, key, hdr, size);
    free(hdr);
    if (rc != 0) {
        errno = ENOMEM;
        return errno;
    }
    return 0;
}

static void free_accessed(struct accessed_node *i)
{
    free(i->trans_name);
    free(i->perms);
    free(i);
}

/*
 * A node is being accessed (xenstored's access_node()): writes and deletes
 * take a new generation; in a transaction the node joins its accessed list,
 * a read one copied to the transaction's own key. Returns 0, a positive
 * errno, or -1 for "delete of a node the transaction never saw".
 */
static int access_node(struct xf_xsd *x, struct conn *conn, struct node *node,
                       enum access_type type, const char **key)
{
    struct transaction *t;
    struct accessed_node *i;
    bool introduce = false;
    int ret;

    if (type != ACCESS_READ)
        node->generation = ++x->generation;
    if (conn == NULL || conn->transaction == NULL) {
        if (key)
            *key = node->name;
        return 0;
    }
    t = conn->transaction;
    i = find_accessed(t, node->name);
    if (i == NULL) {
        if (unpriv(conn) && over(x->cfg.quota_trans_nodes, (uint64_t)t->nodes + 1)) {
            ret = ENOSPC;
            goto err;
        }
        i = calloc(1, sizeof(*i));
        if (i == NULL || asprintf(&i->trans_name, "%" PRIu64 "/%s", t->generation,
                                  node->name) < 0) {
            if (i != NULL)
                i->trans_name = NULL;
            ret = ENOMEM;
            goto err_free;
        }
        i->node = strchr(i->trans_name, '/') + 1;
        if (node->generation != NO_GENERATION && node->num_perms) {
            i->perms = malloc(node->num_perms * sizeof(struct xs_perm));
            if (i->perms == NULL) {
                ret = ENOMEM;
                goto err_free;
            }
            memcpy(i->perms, node->perms, node->num_perms * sizeof(struct xs_perm));
            i->num_perms = node->num_perms;
        }
        introduce = true;
        if (type == ACCESS_READ) {
            i->generation = node->generation;
            i->check_gen = true;
            if (node->generation != NO_GENERATION) {
                ret = write_node_raw(x, conn, i->trans_name, node, true);
                if (ret)
                    goto err_free;
                i->ta_node = true;
            }
        }
        t->nodes++;
        *t->accessed_tail = i;
        t->accessed_tail = &i->next;
    }
    if (type != ACCESS_READ)
        i->modified = true;
    if (introduce && type == ACCESS_DELETE)
        return -1;
    if (key) {
        *key = i->trans_name;
        if (type == ACCESS_WRITE)
            i->ta_node = true;
        if (type == ACCESS_DELETE)
            i->ta_node = false;
    }
    return 0;

err_free:
    if (i != NULL)
        free_accessed(i);
err:
    t->fail = true;
    errno = ret;
    return ret;
}

static void queue_watches(struct conn *conn, const char *name, bool exact)
{
    struct accessed_node *i = find_accessed(conn->transaction, name);

    if (i == NULL) {
        conn->transaction->fail = true;
        return;
    }
    if (!i->fire_watch) {
        i->fire_watch = true;
        i->watch_exact = exact;
    } else if (!exact) {
        i->watch_exact = false;
    }
}

static void destroy_transaction(struct xf_xsd *x, struct transaction *t)
{
    while (t->accessed != NULL) {
        struct accessed_node *i = t->accessed;

        t->accessed = i->next;
        if (i->ta_node)
            db_delete(&x->db, i->trans_name);
        free_accessed(i);
    }
    free(t);
}

static struct transaction *transaction_lookup(struct conn *conn, uint32_t id, int *err)
{
    *err = 0;
    if (id == 0)
        return NULL;
    for (struct transaction *t = conn->transactions; t != NULL; t = t->next)
        if (t->id == id)
            return t;
    *err = ENOENT;
    return NULL;
}

static void unlink_transaction(struct conn *conn, struct transaction *t)
{
    for (struct transaction **pp = &conn->transactions; *pp != NULL; pp = &(*pp)->next)
        if (*pp == t) {
            *pp = t->next;
            break;
        }
    conn->transaction_started--;
}

void xsd_conn_delete_all_transactions(struct xf_xsd *x, struct conn *conn)
{
    while (conn->transactions != NULL) {
        struct transaction *t = conn->transactions;

        unlink_transaction(conn, t);
        destroy_transaction(x, t);
    }
}

/* ---------------------------------------------------------------- nodes */

static bool read_node_can_propagate_errno(void)
{
    return errno == ENOMEM || errno == ENOSPC;
}

static struct node *read_node(struct xf_xsd *x, struct conn *conn, struct ctx *ctx,
                              const char *name)
{
    struct node *node = ctx_alloc(ctx, sizeof(*node));
    const struct db_ent *e;
    struct rec_hdr *hdr;
    int err;

    if (node == NULL || (node->name = ctx_strdup(ctx, name)) == NULL) {
        errno = ENOMEM;
        return NULL;
    }
    e = db_fetch(&x->db, transaction_prepend(conn, name));
    if (e == NULL) {
        node->generation = NO_GENERATION;
        err = access_node(x, conn, node, ACCESS_READ, NULL);
        errno = err ? err : ENOENT;
        return NULL;
    }
    hdr = ctx_memdup(ctx, e->data, e->size);
    if (hdr == NULL)
        return NULL;
    node->generation = hdr->generation;
    node->num_perms = hdr->num_perms;
    node->datalen = hdr->datalen;
    node->childlen = hdr->childlen;
    node->perms = hdr->perms;
    node->data = (char *)(hdr->perms + hdr->num_perms);
    node->children = node->data + node->datalen;
    if (access_node(x, conn, node, ACCESS_READ, NULL))
        return NULL;
    return node;
}

static int write_node(struct xf_xsd *x, struct conn *conn, struct node *node,
                      bool no_quota_check)
{
    int ret;

    if (access_node(x, conn, node, ACCESS_WRITE, &node->key))
        return errno;
    ret = write_node_raw(x, conn, node->key, node, no_quota_check);
    if (ret && conn && conn->transaction)
        conn->transaction->fail = true;
    return ret;
}

static int ask_parents(struct xf_xsd *x, struct conn *conn, struct ctx *ctx,
                       const char *name, unsigned *perm)
{
    struct node *node;

    do {
        name = get_parent(ctx, name);
        if (name == NULL)
            return errno;
        node = read_node(x, conn, ctx, name);
        if (node)
            break;
        if (read_node_can_propagate_errno())
            return errno;
    } while (strcmp(name, "/") != 0);

    *perm = node ? perm_for_conn(conn, node->perms, node->num_perms) : XS_PERM_NONE;
    return 0;
}

/* Hide whether a node exists from those who may not see its parent. */
static int errno_from_parents(struct xf_xsd *x, struct conn *conn, struct ctx *ctx,
                              const char *node, int errnum, unsigned perm)
{
    unsigned parent_perm = XS_PERM_NONE;

    if (errnum == ENOMEM)
        return errnum;
    if (ask_parents(x, conn, ctx, node, &parent_perm))
        return errno;
    return (parent_perm & perm) ? errnum : EACCES;
}

static struct node *get_node(struct xf_xsd *x, struct conn *conn, struct ctx *ctx,
                             const char *name, unsigned perm)
{
    struct node *node;

    if (name == NULL || !is_valid_nodename(name)) {
        errno = EINVAL;
        return NULL;
    }
    node = read_node(x, conn, ctx, name);
    if (node != NULL &&
        (perm_for_conn(conn, node->perms, node->num_perms) & perm) != perm) {
        errno = EACCES;
        node = NULL;
    }
    if (node == NULL && !read_node_can_propagate_errno())
        errno = errno_from_parents(x, conn, ctx, name, errno, perm);
    return node;
}

/* A missing argument: 4.17 returns a stale errno here; later ones EINVAL. */
static struct node *get_node_canonicalized(struct xf_xsd *x, struct conn *conn,
                                           struct ctx *ctx, const char *name,
                                           const char **canonical, unsigned perm)
{
    const char *tmp;

    if (canonical == NULL)
        canonical = &tmp;
    *canonical = canonicalize(conn, ctx, name);
    if (*canonical == NULL) {
        errno = EINVAL;
        return NULL;
    }
    return get_node(x, conn, ctx, *canonical, perm);
}

static int add_child(struct ctx *ctx, struct node *parent, const char *name)
{
    const char *base = basename_of(name);
    unsigned baselen = (unsigned)strlen(base) + 1;
    char *children = ctx_alloc(ctx, parent->childlen + baselen);

    if (children == NULL)
        return ENOMEM;
    if (parent->childlen)
        memcpy(children, parent->children, parent->childlen);
    memcpy(children + parent->childlen, base, baselen);
    parent->children = children;
    parent->childlen += baselen;
    return 0;
}

static struct node *construct_node(struct xf_xsd *x, struct conn *conn, struct ctx *ctx,
                                   const char *name)
{
    const char **names = NULL;
    unsigned levels = 0;
    struct node *node = NULL, *parent = NULL;
    const char *parentname = ctx_strdup(ctx, name);

    if (parentname == NULL)
        return NULL;
    while (parent == NULL) {
        const char **nn = ctx_alloc(ctx, (levels + 1) * sizeof(*nn));

        if (nn == NULL)
            return NULL;
        if (levels)
            memcpy(nn, names, levels * sizeof(*nn));
        names = nn;
        names[levels] = parentname;
        parentname = get_parent(ctx, parentname);
        if (parentname == NULL)
            return NULL;
        parent = read_node(x, conn, ctx, parentname);
        if (parent == NULL && (errno != ENOENT || strcmp(parentname, "/") == 0))
            return NULL;
        levels++;
    }
    for (; levels > 0; levels--) {
        if (add_child(ctx, parent, names[levels - 1]))
            goto nomem;
        node = ctx_alloc(ctx, sizeof(*node));
        if (node == NULL)
            goto nomem;
        node->name = names[levels - 1];
        /* Inherit permissions; unprivileged domains own what they create. */
        node->num_perms = parent->num_perms;
        node->perms = ctx_memdup(ctx, parent->perms, parent->num_perms * sizeof(struct xs_perm));
        if (node->perms == NULL)
            goto nomem;
        if (unpriv(conn))
            node->perms[0].id = conn->id;
        node->parent = parent;
        parent = node;
    }
    return node;

nomem:
    errno = ENOMEM;
    return NULL;
}

static void destroy_node(struct xf_xsd *x, struct conn *conn, struct node *node)
{
    if (node->key != NULL)
        db_delete(&x->db, node->key);
    if (conn && conn->transaction)
        conn->transaction->fail = true;
}

static struct node *create_node(struct xf_xsd *x, struct conn *conn, struct ctx *ctx,
                                const char *name, char *data, unsigned datalen)
{
    struct node *node = construct_node(x, conn, ctx, name), *i, *j;
    int ret = 0;

    if (node == NULL)
        return NULL;
    node->data = data;
    node->datalen = datalen;
    /* Bottom up: the new nodes, then the existing ancestor with its new child. */
    for (i = node; i != NULL; i = i->parent) {
        ret = write_node(x, conn, i, false);
        if (ret)
            goto err;
    }
    return node;

err:
    for (j = node; j != i; j = j->parent)
        destroy_node(x, conn, j);
    errno = ret;
    return NULL;
}

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

    if (perms != NULL && (perm_for_conn(conn, perms, nperms) & XS_PERM_READ))
        return true;
    if (node == NULL) {
        node = read_node(x, conn, ctx, name);
        if (node == NULL)
            return false;
    }
    if (perm_for_conn(conn, node->perms, node->num_perms) & XS_PERM_READ)
        return true;
    parent = node->parent;
    if (parent == NULL) {
        const char *pname = get_parent(ctx, node->name);

        if (pname == NULL)
            return false;
        parent = read_node(x, conn, ctx, pname);
        if (parent == NULL)
            return false;
    }
    return perm_for_conn(conn, parent->perms, parent->num_perms) & XS_PERM_READ;
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

static const struct xs_perm *get_perms_special(struct xf_xsd *x, const char *name,
                                               unsigned *num)
{
    if (strcmp(name, "@releaseDomain") == 0) {
        *num = x->n_special_release;
        return x->special_release;
    }
    if (strcmp(name, "@introduceDomain") == 0) {
        *num = x->n_special_introduce;
        return x->special_introduce;
    }
    return NULL;
}

static void fire_watches(struct xf_xsd *x, struct conn *conn, struct ctx *ctx,
                         const char *name, struct node *node, bool exact,
                         const struct xs_perm *perms, unsigned nperms)
{
    struct conn *g = &x->conn;
    struct pend *req;

    /* In a transaction: only note them, they fire at commit. */
    if (conn && conn->transaction) {
        queue_watches(conn, name, exact);
        return;
    }
    req = unpriv(conn) ? conn->pend : NULL;
    if (g->ignored || g->watches == NULL)
        return;
    if (name[0] == '@') {
        unsigned n;
        const struct xs_perm *p = get_perms_special(x, name, &n);

        if (p == NULL || !(perm_for_conn(g, p, n) & XS_PERM_READ))
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

/* --------------------------------------------------------------- replies */

static void send_error(struct xf_xsd *x, struct conn *conn, int error);

static void send_reply(struct xf_xsd *x, struct conn *conn, enum xsd_sockmsg_type type,
                       const void *data, unsigned len)
{
    struct xsd_sockmsg hdr;
    struct out_msg *m;
    bool dup = false;
    const unsigned char *payload = data;

    if (len > XENSTORE_PAYLOAD_MAX && conn != NULL) {
        send_error(x, conn, E2BIG);
        return;
    }
    if (conn == NULL) {
        free(x->tool_data);
        x->tool_data = malloc(len + 1);
        x->tool_len = x->tool_data ? len : 0;
        if (x->tool_data) {
            if (len)
                memcpy(x->tool_data, data, len);
            x->tool_data[len] = 0;
        }
        return;
    }
    hdr.type = type;
    hdr.req_id = conn->in->req_id;
    hdr.tx_id = conn->in->tx_id;
    hdr.len = len;

    m = calloc(1, sizeof(*m));
    if (m == NULL)
        return;
    switch (x->mis) {
    case XF_XSD_LEN_TOO_BIG:
        if (xsd_mis_take(x, x->mis)) {
            static unsigned char garbage[XENSTORE_PAYLOAD_MAX + 1];

            memset(garbage, 'Z', sizeof(garbage));
            hdr.len = len = XENSTORE_PAYLOAD_MAX + 1;
            payload = garbage;
        }
        break;
    case XF_XSD_WRONG_TYPE:
        if (xsd_mis_take(x, x->mis))
            hdr.type = conn->in->type == XS_READ ? XS_DIRECTORY : XS_READ;
        break;
    case XF_XSD_UNKNOWN_REQ_ID:
        if (xsd_mis_take(x, x->mis))
            hdr.req_id ^= 0x80000000u;
        break;
    case XF_XSD_UNTERMINATED:
        if (type != XS_READ && len > 0 && payload[len - 1] == 0 && xsd_mis_take(x, x->mis))
            hdr.len = --len;
        break;
    case XF_XSD_RSP_PROD_JUMP:
        if (xsd_mis_take(x, x->mis))
            m->jump = true;
        break;
    case XF_XSD_DUPLICATE_REPLY:
        dup = xsd_mis_take(x, x->mis);
        break;
    case XF_XSD_SPLIT_WRITES:
        if (xsd_mis_take(x, x->mis))
            m->split = true;
        break;
    default:
        break;
    }
    m->bytes = malloc(sizeof(hdr) + len);
    if (m->bytes == NULL) {
        free(m);
        return;
    }
    memcpy(m->bytes, &hdr, sizeof(hdr));
    if (len)
        memcpy(m->bytes + sizeof(hdr), payload, len);
    m->size = sizeof(hdr) + len;
    m->pend = conn->pend;
    if (m->pend)
        m->pend->refs++;
    if (dup) {
        struct out_msg *d = calloc(1, sizeof(*d));

        if (d != NULL && (d->bytes = malloc(m->size)) != NULL) {
            memcpy(d->bytes, m->bytes, m->size);
            d->size = m->size;
            d->pend = m->pend;
            if (d->pend)
                d->pend->refs++;
            xsd_queue(x, conn, m);
            m = d;
        } else {
            free(d);
        }
    }
    xsd_queue(x, conn, m);
}

static void send_error(struct xf_xsd *x, struct conn *conn, int error)
{
    unsigned i;
    const unsigned n = sizeof(xsd_errors) / sizeof(xsd_errors[0]);

    for (i = 0; i < n && xsd_errors[i].errnum != error; i++)
        ;
    if (i == n)
        i = 0;   /* EINVAL */
    send_reply(x, conn, XS_ERROR, xsd_errors[i].errstring,
               (unsigned)strlen(xsd_errors[i].errstring) + 1);
}

static void send_ack(struct xf_xsd *x, struct conn *conn, enum xsd_sockmsg_type type)
{
    send_reply(x, conn, type, "OK", sizeof("OK"));
}

/* ------------------------------------------------------------- handlers */

typedef int handler_fn(struct xf_xsd *x, struct conn *conn, struct ctx *ctx,
                       struct buffered *in);

static int send_directory(struct xf_xsd *x, struct conn *conn, struct ctx *ctx,
                          struct buffered *in)
{
    struct node *node = get_node_canonicalized(x, conn, ctx, onearg(in), NULL, XS_PERM_READ);

    if (node == NULL)
        return errno;
    send_reply(x, conn, XS_DIRECTORY, node->children, node->childlen);
    return 0;
}

static int send_directory_part(struct xf_xsd *x, struct conn *conn, struct ctx *ctx,
                               struct buffered *in)
{
    unsigned off, len, maxlen, genlen;
    const char *child;
    char *data;
    struct node *node;
    char gen[24];

    if (count_strings(in->buffer, in->used) != 2)
        return EINVAL;
    node = get_node_canonicalized(x, conn, ctx, in->buffer, NULL, XS_PERM_READ);
    if (node == NULL)
        return errno;
    off = (unsigned)strtol(in->buffer + strlen(in->buffer) + 1, NULL, 10);
    genlen = (unsigned)snprintf(gen, sizeof(gen), "%" PRIu64, node->generation) + 1;

    /* Offset behind the list: just the generation and an empty string. */
    if (off >= node->childlen) {
        gen[genlen] = 0;
        send_reply(x, conn, XS_DIRECTORY_PART, gen, genlen + 1);
        return 0;
    }
    len = 0;
    maxlen = XENSTORE_PAYLOAD_MAX - genlen - 1;
    child = node->children + off;
    while (len + strlen(child) < maxlen) {
        len += (unsigned)strlen(child) + 1;
        child += strlen(child) + 1;
        if (off + len == node->childlen)
            break;
    }
    data = ctx_alloc(ctx, genlen + len + 1);
    if (data == NULL)
        return ENOMEM;
    memcpy(data, gen, genlen);
    memcpy(data + genlen, node->children + off, len);
    if (off + len == node->childlen) {
        data[genlen + len] = 0;
        len++;
    }
    send_reply(x, conn, XS_DIRECTORY_PART, data, genlen + len);
    return 0;
}

static int do_read(struct xf_xsd *x, struct conn *conn, struct ctx *ctx, struct buffered *in)
{
    struct node *node = get_node_canonicalized(x, conn, ctx, onearg(in), NULL, XS_PERM_READ);

    if (node == NULL)
        return errno;
    send_reply(x, conn, XS_READ, node->data, node->datalen);
    return 0;
}

static int do_write(struct xf_xsd *x, struct conn *conn, struct ctx *ctx, struct buffered *in)
{
    char *vec[1] = { NULL };
    unsigned offset, datalen;
    struct node *node;
    const char *name;

    if (get_strings(in, vec, 1) < 1)
        return EINVAL;
    offset = (unsigned)strlen(vec[0]) + 1;
    datalen = in->used - offset;
    node = get_node_canonicalized(x, conn, ctx, vec[0], &name, XS_PERM_WRITE);
    if (node == NULL) {
        if (errno != ENOENT)
            return errno;
        node = create_node(x, conn, ctx, name, in->buffer + offset, datalen);
        if (node == NULL)
            return errno;
    } else {
        node->data = in->buffer + offset;
        node->datalen = datalen;
        if (write_node(x, conn, node, false))
            return errno;
    }
    /* The events go out before the reply, as xenstored queues them. */
    fire_watches(x, conn, ctx, name, node, false, NULL, 0);
    send_ack(x, conn, XS_WRITE);
    return 0;
}

static int do_mkdir(struct xf_xsd *x, struct conn *conn, struct ctx *ctx, struct buffered *in)
{
    const char *name;
    struct node *node = get_node_canonicalized(x, conn, ctx, onearg(in), &name, XS_PERM_WRITE);

    if (node == NULL) {
        if (errno != ENOENT)
            return errno;
        node = create_node(x, conn, ctx, name, NULL, 0);
        if (node == NULL)
            return errno;
        fire_watches(x, conn, ctx, name, node, false, NULL, 0);
    }
    send_ack(x, conn, XS_MKDIR);
    return 0;
}

static int remove_child_entry(struct xf_xsd *x, struct conn *conn, struct node *node,
                              unsigned offset)
{
    unsigned clen = (unsigned)strlen(node->children + offset) + 1;

    memmove(node->children + offset, node->children + offset + clen,
            node->childlen - offset - clen);
    node->childlen -= clen;
    return write_node(x, conn, node, true);
}

static int delete_child(struct xf_xsd *x, struct conn *conn, struct node *node,
                        const char *childname)
{
    for (unsigned i = 0; i < node->childlen; i += (unsigned)strlen(node->children + i) + 1)
        if (strcmp(node->children + i, childname) == 0)
            return remove_child_entry(x, conn, node, i) ? EIO : 0;
    return EIO;   /* corrupt */
}

/* Post-order removal, children in list order, each child entry removed from
 * its parent (rewriting it) once the child is gone (xenstored's walk). */
static int delnode_tree(struct xf_xsd *x, struct conn *conn, struct ctx *ctx,
                        struct node *node, const char *root)
{
    const char *key;
    int ret;

    while (node->childlen > 0) {
        const char *cname = strcmp(node->name, "/") == 0
                                ? ctx_printf(ctx, "/%s", node->children)
                                : ctx_printf(ctx, "%s/%s", node->name, node->children);
        struct node *child;

        if (cname == NULL)
            return ENOMEM;
        child = read_node(x, conn, ctx, cname);
        if (child == NULL)
            return errno == ENOENT ? EIO : errno;
        child->parent = node;
        ret = delnode_tree(x, conn, ctx, child, root);
        if (ret)
            return ret;
        if (remove_child_entry(x, conn, node, 0))
            return EIO;
    }
    ret = access_node(x, conn, node, ACCESS_DELETE, &key);
    if (ret > 0)
        return ret;   /* the walk stops; rm reports errno */
    if (ret == 0)
        db_delete(&x->db, key);
    /* Fire now, while the permissions are still known. */
    fire_watches(x, conn, ctx, node->name, node, strcmp(root, node->name) != 0, NULL, 0);
    return 0;
}

static int rm_node(struct xf_xsd *x, struct conn *conn, struct ctx *ctx, const char *name,
                   struct node *node)
{
    const char *parentname = get_parent(ctx, name);
    struct node *parent;
    int ret;

    if (parentname == NULL)
        return errno;
    parent = read_node(x, conn, ctx, parentname);
    if (parent == NULL)
        return read_node_can_propagate_errno() ? errno : EINVAL;
    node->parent = NULL;
    ret = delnode_tree(x, conn, ctx, node, name);
    if (ret)
        return ret;
    return delete_child(x, conn, parent, basename_of(name));
}

static int do_rm(struct xf_xsd *x, struct conn *conn, struct ctx *ctx, struct buffered *in)
{
    const char *name;
    struct node *node = get_node_canonicalized(x, conn, ctx, onearg(in), &name, XS_PERM_WRITE);
    int ret;

    if (node == NULL) {
        /* Did not exist? Fine, if the parent does. */
        if (errno == ENOENT) {
            const char *parentname = get_parent(ctx, name);

            if (parentname == NULL)
                return errno;
            if (read_node(x, conn, ctx, parentname) != NULL) {
                send_ack(x, conn, XS_RM);
                return 0;
            }
            if (!read_node_can_propagate_errno())
                errno = ENOENT;
        }
        return errno;
    }
    if (strcmp(name, "/") == 0)
        return EINVAL;
    ret = rm_node(x, conn, ctx, name, node);
    if (ret)
        return ret;
    send_ack(x, conn, XS_RM);
    return 0;
}

static int do_get_perms(struct xf_xsd *x, struct conn *conn, struct ctx *ctx,
                        struct buffered *in)
{
    struct node *node = get_node_canonicalized(x, conn, ctx, onearg(in), NULL, XS_PERM_READ);
    unsigned len;
    char *s;

    if (node == NULL)
        return errno;
    s = perms_to_strings(ctx, node->perms, node->num_perms, &len);
    if (s == NULL)
        return errno;
    send_reply(x, conn, XS_GET_PERMS, s, len);
    return 0;
}

static int do_set_perms(struct xf_xsd *x, struct conn *conn, struct ctx *ctx,
                        struct buffered *in)
{
    unsigned num = count_strings(in->buffer, in->used), old_num;
    struct xs_perm *perms, *old_perms;
    const char *name;
    struct node *node;

    if (num < 2)
        return EINVAL;
    num--;
    if (unpriv(conn) && over(x->cfg.quota_perms, num))
        return ENOSPC;
    perms = ctx_alloc(ctx, num * sizeof(*perms));
    if (perms == NULL)
        return ENOMEM;
    if (!strings_to_perms(perms, num, in->buffer + strlen(in->buffer) + 1))
        return errno;
    /* Permissions for domains that do not exist are ignored. */
    for (unsigned i = 0; i < num; i++)
        if (perms[i].id >= DOMID_FIRST_RESERVED ||
            !xf_sim_domain_exists(x->sim, (domid_t)perms[i].id))
            perms[i].perms |= XS_PERM_IGNORE;
    if (perms[0].perms & XS_PERM_IGNORE)
        return ENOENT;

    if (in->buffer[0] == '@') {
        unsigned n;
        const struct xs_perm *p = get_perms_special(x, in->buffer, &n);
        struct xs_perm *copy;

        if (p == NULL)
            return EINVAL;
        if ((perm_for_conn(conn, p, n) & (XS_PERM_WRITE | XS_PERM_OWNER)) !=
            (XS_PERM_WRITE | XS_PERM_OWNER))
            return EACCES;
        copy = malloc(num * sizeof(*copy));
        if (copy == NULL)
            return ENOMEM;
        memcpy(copy, perms, num * sizeof(*copy));
        if (p == x->special_release) {
            free(x->special_release);
            x->special_release = copy;
            x->n_special_release = num;
        } else {
            free(x->special_introduce);
            x->special_introduce = copy;
            x->n_special_introduce = num;
        }
        send_ack(x, conn, XS_SET_PERMS);
        return 0;
    }

    /* We must own the node (tools may too). */
    node = get_node_canonicalized(x, conn, ctx, in->buffer, &name,
                                  XS_PERM_WRITE | XS_PERM_OWNER);
    if (node == NULL)
        return errno;
    if (unpriv(conn) && perms[0].id != node->perms[0].id)
        return EPERM;
    old_perms = node->perms;
    old_num = node->num_perms;
    node->perms = perms;
    node->num_perms = num;
    if (write_node(x, conn, node, false)) {
        int e = errno;

        node->perms = old_perms;
        node->num_perms = old_num;
        return e;
    }
    fire_watches(x, conn, ctx, name, node, false, old_perms, old_num);
    send_ack(x, conn, XS_SET_PERMS);
    return 0;
}

static int do_watch(struct xf_xsd *x, struct conn *conn, struct ctx *ctx, struct buffered *in)
{
    char *vec[2];
    const char *path;
    bool relative;
    struct watch *w;

    if (get_strings(in, vec, 2) != 2)
        return EINVAL;
    path = vec[0];
    if (path[0] == '@') {
        relative = false;
        if (strlen(path) > XENSTORE_REL_PATH_MAX)
            return EINVAL;
    } else {
        relative = path[0] != '/';
        path = canonicalize(conn, ctx, path);
        if (path == NULL)
            return errno;
        if (!is_valid_nodename(path))
            return EINVAL;
    }
    for (w = conn->watches; w != NULL; w = w->next)
        if (strcmp(w->node, path) == 0 && strcmp(w->token, vec[1]) == 0)
            return EEXIST;
    if (unpriv(conn) && over(x->cfg.quota_watches, conn->nbwatch))
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
        send_ack(x, conn, XS_WATCH);
    } else {
        send_ack(x, conn, XS_WATCH);
        send_event(x, NULL, conn, get_watch_path(w, w->node), w->token);
    }
    return 0;
}

static int do_unwatch(struct xf_xsd *x, struct conn *conn, struct ctx *ctx, struct buffered *in)
{
    char *vec[2];
    const char *node;

    if (get_strings(in, vec, 2) != 2)
        return EINVAL;
    node = canonicalize(conn, ctx, vec[0]);
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
            send_ack(x, conn, XS_UNWATCH);
            return 0;
        }
    }
    return ENOENT;
}

static int do_transaction_start(struct xf_xsd *x, struct conn *conn, struct ctx *ctx,
                                struct buffered *in)
{
    struct transaction *t, **pp;
    char id[20];
    int err;

    (void)ctx;
    (void)in;
    if (conn->transaction)
        return EBUSY;   /* no nesting */
    if (unpriv(conn) && over(x->cfg.quota_transactions, conn->transaction_started))
        return ENOSPC;
    t = calloc(1, sizeof(*t));
    if (t == NULL)
        return ENOMEM;
    t->accessed_tail = &t->accessed;
    t->generation = ++x->generation;
    /* An unused identifier; never 0. */
    do {
        t->id = conn->next_transaction_id;
    } while (transaction_lookup(conn, conn->next_transaction_id++, &err) != NULL || !err);
    for (pp = &conn->transactions; *pp != NULL; pp = &(*pp)->next)
        ;
    *pp = t;
    conn->transaction_started++;
    snprintf(id, sizeof(id), "%u", t->id);
    send_reply(x, conn, XS_TRANSACTION_START, id, (unsigned)strlen(id) + 1);
    return 0;
}

/* Check what the transaction read, then make its changes global. */
static int finalize_transaction(struct xf_xsd *x, struct conn *conn, struct ctx *ctx,
                                struct transaction *t)
{
    struct accessed_node **pp = &t->accessed, *i;

    while ((i = *pp) != NULL) {
        if (i->check_gen) {
            const struct db_ent *e = db_fetch(&x->db, i->node);
            uint64_t gen = e ? ((const struct rec_hdr *)e->data)->generation : NO_GENERATION;

            if (i->generation != gen)
                return EAGAIN;
        }
        if (!i->modified) {
            if (i->ta_node)
                db_delete(&x->db, i->trans_name);
            *pp = i->next;
            free_accessed(i);
        } else {
            pp = &i->next;
        }
    }
    while ((i = t->accessed) != NULL) {
        if (i->ta_node) {
            const struct db_ent *e = db_fetch(&x->db, i->trans_name);

            if (e != NULL) {
                struct rec_hdr *hdr = malloc(e->size);

                if (hdr != NULL) {
                    memcpy(hdr, e->data, e->size);
                    hdr->generation = ++x->generation;
                    db_store(&x->db, i->node, hdr, e->size);
                    free(hdr);
                }
                db_delete(&x->db, i->trans_name);
            }
        } else if (i->generation != NO_GENERATION) {
            db_delete(&x->db, i->node);
        }
        if (i->fire_watch)
            fire_watches(x, conn, ctx, i->node, NULL, i->watch_exact,
                         i->perms, i->perms ? i->num_perms : 0);
        t->accessed = i->next;
        free_accessed(i);
    }
    t->accessed_tail = &t->accessed;
    return 0;
}

static int do_transaction_end(struct xf_xsd *x, struct conn *conn, struct ctx *ctx,
                              struct buffered *in)
{
    const char *arg = onearg(in);
    struct transaction *t;
    int ret = 0;

    if (arg == NULL || (strcmp(arg, "T") != 0 && strcmp(arg, "F") != 0))
        return EINVAL;
    if ((t = conn->transaction) == NULL)
        return ENOENT;
    conn->transaction = NULL;
    unlink_transaction(conn, t);
    if (strcmp(arg, "T") == 0)
        ret = t->fail ? ENOMEM : finalize_transaction(x, conn, ctx, t);
    destroy_transaction(x, t);
    if (ret)
        return ret;
    send_ack(x, conn, XS_TRANSACTION_END);
    return 0;
}

static int do_reset_watches(struct xf_xsd *x, struct conn *conn, struct ctx *ctx,
                            struct buffered *in)
{
    (void)ctx;
    (void)in;
    xsd_conn_delete_all_watches(x, conn);
    xsd_conn_delete_all_transactions(x, conn);
    send_ack(x, conn, XS_RESET_WATCHES);
    return 0;
}

static int do_get_domain_path(struct xf_xsd *x, struct conn *conn, struct ctx *ctx,
                              struct buffered *in)
{
    const char *domid = onearg(in);
    char *path;

    if (domid == NULL)
        return EINVAL;
    path = ctx_printf(ctx, "/local/domain/%u", (unsigned)(int)strtol(domid, NULL, 10));
    if (path == NULL)
        return ENOMEM;
    send_reply(x, conn, XS_GET_DOMAIN_PATH, path, (unsigned)strlen(path) + 1);
    return 0;
}

/* Dom0-only operations: the guest never gets past the privilege check. */
static int do_privileged(struct xf_xsd *x, struct conn *conn, struct ctx *ctx,
                         struct buffered *in)
{
    (void)x;
    (void)conn;
    (void)ctx;
    (void)in;
    return ENOSYS;
}

#define FLAG_NOTID 1u  /* ignore the transaction id */
#define FLAG_PRIV  2u  /* privileged domain only */

static const struct {
    handler_fn *func;
    unsigned flags;
} wire_funcs[XS_TYPE_COUNT] = {
    [XS_CONTROL]              = { do_privileged, FLAG_PRIV },
    [XS_DIRECTORY]            = { send_directory, 0 },
    [XS_READ]                 = { do_read, 0 },
    [XS_GET_PERMS]            = { do_get_perms, 0 },
    [XS_WATCH]                = { do_watch, FLAG_NOTID },
    [XS_UNWATCH]              = { do_unwatch, FLAG_NOTID },
    [XS_TRANSACTION_START]    = { do_transaction_start, 0 },
    [XS_TRANSACTION_END]      = { do_transaction_end, 0 },
    [XS_INTRODUCE]            = { do_privileged, FLAG_PRIV },
    [XS_RELEASE]              = { do_privileged, FLAG_PRIV },
    [XS_GET_DOMAIN_PATH]      = { do_get_domain_path, 0 },
    [XS_WRITE]                = { do_write, 0 },
    [XS_MKDIR]                = { do_mkdir, 0 },
    [XS_RM]                   = { do_rm, 0 },
    [XS_SET_PERMS]            = { do_set_perms, 0 },
    [XS_IS_DOMAIN_INTRODUCED] = { do_privileged, FLAG_PRIV },
    [XS_RESUME]               = { do_privileged, FLAG_PRIV },
    [XS_SET_TARGET]           = { do_privileged, FLAG_PRIV },
    [XS_RESET_WATCHES]        = { do_reset_watches, 0 },
    [XS_DIRECTORY_PART]       = { send_directory_part, 0 },
};

void xsd_process_message(struct xf_xsd *x, struct conn *conn, struct xsd_sockmsg *hdr, char *buf)
{
    struct buffered in = { buf, hdr->len };
    uint32_t type = hdr->type;
    struct transaction *t;
    struct ctx ctx = { 0 };
    int ret = 0;

    conn->in = hdr;
    if (type >= XS_TYPE_COUNT || wire_funcs[type].func == NULL ||
        (type == XS_RESET_WATCHES && x->cfg.no_reset_watches)) {
        send_error(x, conn, ENOSYS);
        goto out;
    }
    if ((wire_funcs[type].flags & FLAG_PRIV) && unpriv(conn)) {
        send_error(x, conn, EACCES);
        goto out;
    }
    t = (wire_funcs[type].flags & FLAG_NOTID) ? NULL : transaction_lookup(conn, hdr->tx_id, &ret);
    if (t == NULL && !(wire_funcs[type].flags & FLAG_NOTID) && ret) {
        send_error(x, conn, ret);
        goto out;
    }
    conn->transaction = t;
    ret = wire_funcs[type].func(x, conn, &ctx, &in);
    ctx_free_all(&ctx);
    if (ret)
        send_error(x, conn, ret);
    conn->transaction = NULL;
out:
    conn->in = NULL;
}

/* ------------------------------------------------------------ toolstack */

/* Run a handler as the toolstack: payload = a NUL b NUL ... */
static int tool_call(struct xf_xsd *x, handler_fn *fn, const char *path,
                     const void *extra, size_t extra_len)
{
    size_t plen = strlen(path);
    struct buffered in;
    struct ctx ctx = { 0 };
    int ret;

    if (path[0] != '/')
        return EINVAL;
    in.used = (unsigned)(plen + 1 + extra_len);
    in.buffer = malloc(in.used + 1);
    if (in.buffer == NULL)
        return ENOMEM;
    memcpy(in.buffer, path, plen + 1);
    if (extra_len)
        memcpy(in.buffer + plen + 1, extra, extra_len);
    in.buffer[in.used] = 0;
    ret = fn(x, NULL, &ctx, &in);
    ctx_free_all(&ctx);
    free(in.buffer);
    return ret;
}

static int tool_fetch(struct xf_xsd *x, char *buf, size_t cap, int *len)
{
    *len = (int)x->tool_len;
    if (cap > 0 && buf != NULL) {
        size_t n = x->tool_len < cap - 1 ? x->tool_len : cap - 1;

        if (n)
            memcpy(buf, x->tool_data, n);
        buf[n] = 0;
    }
    free(x->tool_data);
    x->tool_data = NULL;
    x->tool_len = 0;
    return 0;
}

int xsd_tool_write(struct xf_xsd *x, const char *path, const void *v, size_t len)
{
    return tool_call(x, do_write, path, v, len);
}

int xsd_tool_read(struct xf_xsd *x, const char *path, char *buf, size_t cap, int *len)
{
    int ret = tool_call(x, do_read, path, NULL, 0);

    return ret ? ret : tool_fetch(x, buf, cap, len);
}

int xsd_tool_rm(struct xf_xsd *x, const char *path)
{
    return tool_call(x, do_rm, path, NULL, 0);
}

int xsd_tool_mkdir(struct xf_xsd *x, const char *path)
{
    return tool_call(x, do_mkdir, path, NULL, 0);
}

int xsd_tool_set_perms(struct xf_xsd *x, const char *path, const char *strings, size_t len)
{
    return tool_call(x, do_set_perms, path, strings, len);
}

int xsd_tool_get_perms(struct xf_xsd *x, const char *path, char *buf, size_t cap, int *len)
{
    int ret = tool_call(x, do_get_perms, path, NULL, 0);

    return ret ? ret : tool_fetch(x, buf, cap, len);
}

/* ---------------------------------------------------------------- setup */

/* xenstored's manual_node(): the root and /tool/xenstored, owned by dom0. */
static int manual_node(struct xf_xsd *x, const char *name, const char *child)
{
    struct xs_perm perm = { XS_PERM_NONE, 0 };
    char children[32] = "";
    struct node node;

    memset(&node, 0, sizeof(node));
    node.name = name;
    node.perms = &perm;
    node.num_perms = 1;
    if (child != NULL)
        snprintf(children, sizeof(children), "%s", child);
    node.children = children;
    node.childlen = child ? (unsigned)strlen(children) + 1 : 0;
    return write_node(x, NULL, &node, false);
}

int xsd_store_init(struct xf_xsd *x)
{
    static const struct xs_perm n0 = { XS_PERM_NONE, 0 };

    if (db_init(&x->db) != 0)
        return ENOMEM;
    x->special_introduce = malloc(sizeof(n0));
    x->special_release = malloc(sizeof(n0));
    if (x->special_introduce == NULL || x->special_release == NULL)
        return ENOMEM;
    *x->special_introduce = n0;
    *x->special_release = n0;
    x->n_special_introduce = x->n_special_release = 1;
    if (manual_node(x, "/", "tool") || manual_node(x, "/tool", "xenstored") ||
        manual_node(x, "/tool/xenstored", NULL))
        return ENOMEM;
    return 0;
}

void xsd_store_destroy(struct xf_xsd *x)
{
    db_destroy(&x->db);
    free(x->special_introduce);
    free(x->special_release);
    free(x->tool_data);
    x->tool_data = NULL;
}
