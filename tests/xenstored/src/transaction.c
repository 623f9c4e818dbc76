/*
 * Transactions, as xenstored 4.17 has them
 * (tools/xenstore/xenstored_transaction.c), rewritten from their
 * documented behaviour.
 */
#define _GNU_SOURCE
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

#include "private.h"

/* --------------------------------------------------------- transactions */

static struct accessed_node *find_accessed(struct transaction *t, const char *name)
{
    for (struct accessed_node *i = t->accessed; i != NULL; i = i->next)
        if (strcmp(i->node, name) == 0)
            return i;
    return NULL;
}

const char *xsd_transaction_prepend(struct conn *conn, const char *name)
{
    if (conn != NULL && conn->transaction != NULL) {
        struct accessed_node *i = find_accessed(conn->transaction, name);

        if (i != NULL)
            return i->trans_name;
    }
    return name;
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
int xsd_access_node(struct xf_xsd *x, struct conn *conn, struct node *node,
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
        if (xsd_unpriv(conn) &&
            xsd_over(x->cfg.quota_trans_nodes, (uint64_t)t->nodes + 1)) {
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
                ret = xsd_write_node_raw(x, conn, i->trans_name, node, true);
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

void xsd_queue_watches(struct conn *conn, const char *name, bool exact)
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

struct transaction *xsd_transaction_lookup(struct conn *conn, uint32_t id, int *err)
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

int xsd_do_transaction_start(struct xf_xsd *x, struct conn *conn, struct ctx *ctx,
                             struct buffered *in)
{
    struct transaction *t, **pp;
    char id[20];
    int err;

    (void)ctx;
    (void)in;
    if (conn->transaction)
        return EBUSY;   /* no nesting */
    if (xsd_unpriv(conn) &&
        xsd_over(x->cfg.quota_transactions, conn->transaction_started))
        return ENOSPC;
    t = calloc(1, sizeof(*t));
    if (t == NULL)
        return ENOMEM;
    t->accessed_tail = &t->accessed;
    t->generation = ++x->generation;
    /* An unused identifier; never 0. */
    do {
        t->id = conn->next_transaction_id;
    } while (xsd_transaction_lookup(conn, conn->next_transaction_id++, &err) != NULL ||
             !err);
    for (pp = &conn->transactions; *pp != NULL; pp = &(*pp)->next)
        ;
    *pp = t;
    conn->transaction_started++;
    snprintf(id, sizeof(id), "%u", t->id);
    xsd_send_reply(x, conn, XS_TRANSACTION_START, id, (unsigned)strlen(id) + 1);
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
            xsd_fire_watches(x, conn, ctx, i->node, NULL, i->watch_exact,
                             i->perms, i->perms ? i->num_perms : 0);
        t->accessed = i->next;
        free_accessed(i);
    }
    t->accessed_tail = &t->accessed;
    return 0;
}

int xsd_do_transaction_end(struct xf_xsd *x, struct conn *conn, struct ctx *ctx,
                           struct buffered *in)
{
    const char *arg = xsd_onearg(in);
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
    xsd_send_ack(x, conn, XS_TRANSACTION_END);
    return 0;
}
