/*
 * The store's database (tdb's place in xenstored): string keys to record
 * blobs in a chained hash table, and the per-request arena (talloc's ctx).
 */
#define _GNU_SOURCE
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "private.h"

/* ---------------------------------------------------------------- arena */

static void *ctx_keep(struct ctx *c, void *p)
{
    if (p == NULL) {
        errno = ENOMEM;
        return NULL;
    }
    if (c->n == c->cap) {
        size_t ncap = c->cap ? c->cap * 2 : 32;
        void **np = realloc(c->ptrs, ncap * sizeof(*np));

        if (np == NULL) {
            free(p);
            errno = ENOMEM;
            return NULL;
        }
        c->ptrs = np;
        c->cap = ncap;
    }
    c->ptrs[c->n++] = p;
    return p;
}

void *ctx_alloc(struct ctx *c, size_t size)
{
    return ctx_keep(c, calloc(1, size ? size : 1));
}

void *ctx_memdup(struct ctx *c, const void *p, size_t n)
{
    void *q = ctx_alloc(c, n + 1);

    if (q != NULL && n > 0)
        memcpy(q, p, n);
    return q;
}

char *ctx_strdup(struct ctx *c, const char *s)
{
    return ctx_memdup(c, s, strlen(s));
}

char *ctx_printf(struct ctx *c, const char *fmt, ...)
{
    va_list ap;
    char *s = NULL;
    int n;

    va_start(ap, fmt);
    n = vasprintf(&s, fmt, ap);
    va_end(ap);
    if (n < 0)
        s = NULL;
    return ctx_keep(c, s);
}

void ctx_free_all(struct ctx *c)
{
    for (size_t i = 0; i < c->n; i++)
        free(c->ptrs[i]);
    free(c->ptrs);
    c->ptrs = NULL;
    c->n = c->cap = 0;
}

/* ------------------------------------------------------------------- db */

static size_t hash(const char *s)
{
    size_t h = 1469598103934665603ull;   /* FNV-1a */

    while (*s)
        h = (h ^ (unsigned char)*s++) * 1099511628211ull;
    return h;
}

int db_init(struct db *db)
{
    db->nbuckets = 1024;
    db->count = 0;
    db->buckets = calloc(db->nbuckets, sizeof(*db->buckets));
    return db->buckets ? 0 : -ENOMEM;
}

void db_destroy(struct db *db)
{
    for (size_t i = 0; i < db->nbuckets; i++) {
        struct db_ent *e = db->buckets ? db->buckets[i] : NULL;

        while (e != NULL) {
            struct db_ent *n = e->next;

            free(e->key);
            free(e->data);
            free(e);
            e = n;
        }
    }
    free(db->buckets);
    db->buckets = NULL;
}

static struct db_ent *lookup(const struct db *db, const char *key)
{
    struct db_ent *e = db->buckets[hash(key) % db->nbuckets];

    while (e != NULL && strcmp(e->key, key) != 0)
        e = e->next;
    return e;
}

const struct db_ent *db_fetch(const struct db *db, const char *key)
{
    return lookup(db, key);
}

static void db_grow(struct db *db)
{
    size_t n = db->nbuckets * 4;
    struct db_ent **b = calloc(n, sizeof(*b));

    if (b == NULL)
        return;    /* stay slower */
    for (size_t i = 0; i < db->nbuckets; i++) {
        struct db_ent *e = db->buckets[i];

        while (e != NULL) {
            struct db_ent *next = e->next;
            size_t h = hash(e->key) % n;

            e->next = b[h];
            b[h] = e;
            e = next;
        }
    }
    free(db->buckets);
    db->buckets = b;
    db->nbuckets = n;
}

int db_store(struct db *db, const char *key, const void *data, size_t size)
{
    struct db_ent *e = lookup(db, key);
    unsigned char *copy = malloc(size ? size : 1);

    if (copy == NULL)
        return -ENOMEM;
    memcpy(copy, data, size);
    if (e != NULL) {
        free(e->data);
        e->data = copy;
        e->size = size;
        return 0;
    }
    e = calloc(1, sizeof(*e));
    if (e == NULL || (e->key = strdup(key)) == NULL) {
        free(e);
        free(copy);
        return -ENOMEM;
    }
    e->data = copy;
    e->size = size;
    if (db->count >= db->nbuckets * 2)
        db_grow(db);
    {
        size_t h = hash(key) % db->nbuckets;

        e->next = db->buckets[h];
        db->buckets[h] = e;
    }
    db->count++;
    return 0;
}

int db_delete(struct db *db, const char *key)
{
    struct db_ent **pp = &db->buckets[hash(key) % db->nbuckets];

    while (*pp != NULL) {
        struct db_ent *e = *pp;

        if (strcmp(e->key, key) == 0) {
            *pp = e->next;
            free(e->key);
            free(e->data);
            free(e);
            db->count--;
            return 0;
        }
        pp = &e->next;
    }
    return -ENOENT;
}
