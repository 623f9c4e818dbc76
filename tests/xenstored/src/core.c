/*
 * The core of the simulated xenstored, as xenstored 4.17 has it
 * (tools/xenstore/xenstored_core.c), rewritten from its documented
 * behaviour: strings, paths, permissions, nodes, replies, the node
 * handlers, the dispatch and the toolstack. Transactions are in
 * transaction.c, watches in watch.c, the domain operations in domain.c.
 *
 * A connection of NULL is the toolstack (dom0 acting directly on the
 * store): privileged, no quota, no implicit path, no reply (except what
 * xsd_send_reply() captures for xf_xsd_read and xf_xsd_get_perms).
 */
#define _GNU_SOURCE
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

#include "private.h"

bool xsd_unpriv(const struct conn *conn)
{
    return conn != NULL && conn->id != 0;
}

bool xsd_over(uint32_t quota, uint64_t value)
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

unsigned xsd_get_strings(const struct buffered *in, char *vec[], unsigned num)
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
const char *xsd_onearg(const struct buffered *in)
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
bool xsd_is_valid_nodename(const char *node)
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

const char *xsd_canonicalize(struct conn *conn, struct ctx *ctx, const char *node)
{
    if (node == NULL || node[0] == '/' || node[0] == '@')
        return node;
    return ctx_printf(ctx, "%s/%s", conn ? conn->path : "/local/domain/0", node);
}

char *xsd_get_parent(struct ctx *ctx, const char *node)
{
    const char *slash = strrchr(node + 1, '/');

    return slash ? ctx_printf(ctx, "%.*s", (int)(slash - node), node) : ctx_strdup(ctx, "/");
}

static const char *basename_of(const char *name)
{
    return strrchr(name, '/') + 1;
}

/* ---------------------------------------------------------- permissions */

unsigned xsd_perm_for_conn(const struct conn *conn, const struct xs_perm *p, unsigned num)
{
    const unsigned mask = XS_PERM_READ | XS_PERM_WRITE | XS_PERM_OWNER;

    if (!xsd_unpriv(conn) || p[0].id == conn->id)
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

/* ---------------------------------------------------------------- nodes */

int xsd_write_node_raw(struct xf_xsd *x, struct conn *conn, const char *key,
                       const struct node *node, bool no_quota_check)
{
    size_t size = sizeof(struct rec_hdr) + node->num_perms * sizeof(struct xs_perm) +
                  node->datalen + node->childlen;
    struct rec_hdr *hdr;
    char *p;
    int rc;

    if (!no_quota_check && xsd_unpriv(conn) &&
        x->cfg.quota_entry_size != XF_XSD_UNLIMITED && size >= x->cfg.quota_entry_size) {
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

static bool read_node_can_propagate_errno(void)
{
    return errno == ENOMEM || errno == ENOSPC;
}

struct node *xsd_read_node(struct xf_xsd *x, struct conn *conn, struct ctx *ctx,
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
    e = db_fetch(&x->db, xsd_transaction_prepend(conn, name));
    if (e == NULL) {
        node->generation = NO_GENERATION;
        err = xsd_access_node(x, conn, node, ACCESS_READ, NULL);
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
    if (xsd_access_node(x, conn, node, ACCESS_READ, NULL))
        return NULL;
    return node;
}

static int write_node(struct xf_xsd *x, struct conn *conn, struct node *node,
                      bool no_quota_check)
{
    int ret;

    if (xsd_access_node(x, conn, node, ACCESS_WRITE, &node->key))
        return errno;
    ret = xsd_write_node_raw(x, conn, node->key, node, no_quota_check);
    if (ret && conn && conn->transaction)
        conn->transaction->fail = true;
    return ret;
}

static int ask_parents(struct xf_xsd *x, struct conn *conn, struct ctx *ctx,
                       const char *name, unsigned *perm)
{
    struct node *node;

    do {
        name = xsd_get_parent(ctx, name);
        if (name == NULL)
            return errno;
        node = xsd_read_node(x, conn, ctx, name);
        if (node)
            break;
        if (read_node_can_propagate_errno())
            return errno;
    } while (strcmp(name, "/") != 0);

    *perm = node ? xsd_perm_for_conn(conn, node->perms, node->num_perms) : XS_PERM_NONE;
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

    if (name == NULL || !xsd_is_valid_nodename(name)) {
        errno = EINVAL;
        return NULL;
    }
    node = xsd_read_node(x, conn, ctx, name);
    if (node != NULL &&
        (xsd_perm_for_conn(conn, node->perms, node->num_perms) & perm) != perm) {
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
    *canonical = xsd_canonicalize(conn, ctx, name);
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
        parentname = xsd_get_parent(ctx, parentname);
        if (parentname == NULL)
            return NULL;
        parent = xsd_read_node(x, conn, ctx, parentname);
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
        if (xsd_unpriv(conn))
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

/* --------------------------------------------------------------- replies */

static void send_error(struct xf_xsd *x, struct conn *conn, int error);

void xsd_send_reply(struct xf_xsd *x, struct conn *conn, enum xsd_sockmsg_type type,
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
    xsd_send_reply(x, conn, XS_ERROR, xsd_errors[i].errstring,
                   (unsigned)strlen(xsd_errors[i].errstring) + 1);
}

void xsd_send_ack(struct xf_xsd *x, struct conn *conn, enum xsd_sockmsg_type type)
{
    xsd_send_reply(x, conn, type, "OK", sizeof("OK"));
}

/* ------------------------------------------------------------- handlers */

static int send_directory(struct xf_xsd *x, struct conn *conn, struct ctx *ctx,
                          struct buffered *in)
{
    struct node *node =
        get_node_canonicalized(x, conn, ctx, xsd_onearg(in), NULL, XS_PERM_READ);

    if (node == NULL)
        return errno;
    xsd_send_reply(x, conn, XS_DIRECTORY, node->children, node->childlen);
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
        xsd_send_reply(x, conn, XS_DIRECTORY_PART, gen, genlen + 1);
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
    xsd_send_reply(x, conn, XS_DIRECTORY_PART, data, genlen + len);
    return 0;
}

static int do_read(struct xf_xsd *x, struct conn *conn, struct ctx *ctx, struct buffered *in)
{
    struct node *node =
        get_node_canonicalized(x, conn, ctx, xsd_onearg(in), NULL, XS_PERM_READ);

    if (node == NULL)
        return errno;
    xsd_send_reply(x, conn, XS_READ, node->data, node->datalen);
    return 0;
}

static int do_write(struct xf_xsd *x, struct conn *conn, struct ctx *ctx, struct buffered *in)
{
    char *vec[1] = { NULL };
    unsigned offset, datalen;
    struct node *node;
    const char *name;

    if (xsd_get_strings(in, vec, 1) < 1)
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
    xsd_fire_watches(x, conn, ctx, name, node, false, NULL, 0);
    xsd_send_ack(x, conn, XS_WRITE);
    return 0;
}

static int do_mkdir(struct xf_xsd *x, struct conn *conn, struct ctx *ctx, struct buffered *in)
{
    const char *name;
    struct node *node =
        get_node_canonicalized(x, conn, ctx, xsd_onearg(in), &name, XS_PERM_WRITE);

    if (node == NULL) {
        if (errno != ENOENT)
            return errno;
        node = create_node(x, conn, ctx, name, NULL, 0);
        if (node == NULL)
            return errno;
        xsd_fire_watches(x, conn, ctx, name, node, false, NULL, 0);
    }
    xsd_send_ack(x, conn, XS_MKDIR);
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
        child = xsd_read_node(x, conn, ctx, cname);
        if (child == NULL)
            return errno == ENOENT ? EIO : errno;
        child->parent = node;
        ret = delnode_tree(x, conn, ctx, child, root);
        if (ret)
            return ret;
        if (remove_child_entry(x, conn, node, 0))
            return EIO;
    }
    ret = xsd_access_node(x, conn, node, ACCESS_DELETE, &key);
    if (ret > 0)
        return ret;   /* the walk stops; rm reports errno */
    if (ret == 0)
        db_delete(&x->db, key);
    /* Fire now, while the permissions are still known. */
    xsd_fire_watches(x, conn, ctx, node->name, node, strcmp(root, node->name) != 0,
                     NULL, 0);
    return 0;
}

static int rm_node(struct xf_xsd *x, struct conn *conn, struct ctx *ctx, const char *name,
                   struct node *node)
{
    const char *parentname = xsd_get_parent(ctx, name);
    struct node *parent;
    int ret;

    if (parentname == NULL)
        return errno;
    parent = xsd_read_node(x, conn, ctx, parentname);
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
    struct node *node =
        get_node_canonicalized(x, conn, ctx, xsd_onearg(in), &name, XS_PERM_WRITE);
    int ret;

    if (node == NULL) {
        /* Did not exist? Fine, if the parent does. */
        if (errno == ENOENT) {
            const char *parentname = xsd_get_parent(ctx, name);

            if (parentname == NULL)
                return errno;
            if (xsd_read_node(x, conn, ctx, parentname) != NULL) {
                xsd_send_ack(x, conn, XS_RM);
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
    xsd_send_ack(x, conn, XS_RM);
    return 0;
}

static int do_get_perms(struct xf_xsd *x, struct conn *conn, struct ctx *ctx,
                        struct buffered *in)
{
    struct node *node =
        get_node_canonicalized(x, conn, ctx, xsd_onearg(in), NULL, XS_PERM_READ);
    unsigned len;
    char *s;

    if (node == NULL)
        return errno;
    s = perms_to_strings(ctx, node->perms, node->num_perms, &len);
    if (s == NULL)
        return errno;
    xsd_send_reply(x, conn, XS_GET_PERMS, s, len);
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
    if (xsd_unpriv(conn) && xsd_over(x->cfg.quota_perms, num))
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
        const struct xs_perm *p = xsd_get_perms_special(x, in->buffer, &n);
        struct xs_perm *copy;

        if (p == NULL)
            return EINVAL;
        if ((xsd_perm_for_conn(conn, p, n) & (XS_PERM_WRITE | XS_PERM_OWNER)) !=
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
        xsd_send_ack(x, conn, XS_SET_PERMS);
        return 0;
    }

    /* We must own the node (tools may too). */
    node = get_node_canonicalized(x, conn, ctx, in->buffer, &name,
                                  XS_PERM_WRITE | XS_PERM_OWNER);
    if (node == NULL)
        return errno;
    if (xsd_unpriv(conn) && perms[0].id != node->perms[0].id)
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
    xsd_fire_watches(x, conn, ctx, name, node, false, old_perms, old_num);
    xsd_send_ack(x, conn, XS_SET_PERMS);
    return 0;
}

static int do_reset_watches(struct xf_xsd *x, struct conn *conn, struct ctx *ctx,
                            struct buffered *in)
{
    (void)ctx;
    (void)in;
    xsd_conn_delete_all_watches(x, conn);
    xsd_conn_delete_all_transactions(x, conn);
    xsd_send_ack(x, conn, XS_RESET_WATCHES);
    return 0;
}

#define FLAG_NOTID 1u  /* ignore the transaction id */
#define FLAG_PRIV  2u  /* privileged domain only */

static const struct {
    handler_fn *func;
    unsigned flags;
} wire_funcs[XS_TYPE_COUNT] = {
    [XS_CONTROL]              = { xsd_do_privileged, FLAG_PRIV },
    [XS_DIRECTORY]            = { send_directory, 0 },
    [XS_READ]                 = { do_read, 0 },
    [XS_GET_PERMS]            = { do_get_perms, 0 },
    [XS_WATCH]                = { xsd_do_watch, FLAG_NOTID },
    [XS_UNWATCH]              = { xsd_do_unwatch, FLAG_NOTID },
    [XS_TRANSACTION_START]    = { xsd_do_transaction_start, 0 },
    [XS_TRANSACTION_END]      = { xsd_do_transaction_end, 0 },
    [XS_INTRODUCE]            = { xsd_do_privileged, FLAG_PRIV },
    [XS_RELEASE]              = { xsd_do_privileged, FLAG_PRIV },
    [XS_GET_DOMAIN_PATH]      = { xsd_do_get_domain_path, 0 },
    [XS_WRITE]                = { do_write, 0 },
    [XS_MKDIR]                = { do_mkdir, 0 },
    [XS_RM]                   = { do_rm, 0 },
    [XS_SET_PERMS]            = { do_set_perms, 0 },
    [XS_IS_DOMAIN_INTRODUCED] = { xsd_do_privileged, FLAG_PRIV },
    [XS_RESUME]               = { xsd_do_privileged, FLAG_PRIV },
    [XS_SET_TARGET]           = { xsd_do_privileged, FLAG_PRIV },
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
    if ((wire_funcs[type].flags & FLAG_PRIV) && xsd_unpriv(conn)) {
        send_error(x, conn, EACCES);
        goto out;
    }
    t = (wire_funcs[type].flags & FLAG_NOTID)
            ? NULL
            : xsd_transaction_lookup(conn, hdr->tx_id, &ret);
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
