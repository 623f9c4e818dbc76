/*
 * Internals of the simulated xenstored. The structure follows xenstored
 * 4.17's: a key-value store of node records (db.c, tdb's place), the node
 * and request layer (core.c, xenstored_core.c's place), transactions
 * (transaction.c), watches (watch.c), the domain operations (domain.c), and
 * the ring transport, server thread and public API (server.c). Everything
 * runs under x->lock.
 */
#ifndef XSD_PRIVATE_H
#define XSD_PRIVATE_H

#include <errno.h>   /* before xs_wire.h: it defines xsd_errors[] only with EINVAL */
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include <xenfront/xsd.h>
#include <xen/io/xs_wire.h>

/* xenstore_lib.h's permission bits. */
#define XS_PERM_NONE   0x00u
#define XS_PERM_READ   0x01u
#define XS_PERM_WRITE  0x02u
#define XS_PERM_OWNER  0x08u
#define XS_PERM_IGNORE 0x10u

#define NO_GENERATION (~(uint64_t)0)

struct xs_perm {            /* xenstored's struct xs_permissions */
    uint32_t perms;
    uint32_t id;
};

enum access_type { ACCESS_READ, ACCESS_WRITE, ACCESS_DELETE };

/* ---------------------------------------------------------------- arena */

/* A request's temporary memory (talloc's ctx): freed all at once. */
struct ctx {
    void **ptrs;
    size_t n, cap;
};
void *ctx_alloc(struct ctx *c, size_t size);          /* zeroed; NULL + errno ENOMEM */
char *ctx_strdup(struct ctx *c, const char *s);
char *ctx_printf(struct ctx *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void *ctx_memdup(struct ctx *c, const void *p, size_t n);
void ctx_free_all(struct ctx *c);

/* A request's payload (xenstored's struct buffered_data, input side). */
struct buffered {
    char *buffer;   /* used bytes, plus a NUL beyond them */
    unsigned used;
};

/* ------------------------------------------------------------------- db */

/* A record as xenstored keeps it in tdb: header, perms, data, children. */
struct rec_hdr {
    uint64_t generation;
    uint32_t num_perms;
    uint32_t datalen;
    uint32_t childlen;
    struct xs_perm perms[];
};
_Static_assert(sizeof(struct rec_hdr) == 24, "xs_tdb_record_hdr is 24 bytes");

struct db_ent {
    struct db_ent *next;
    char *key;
    size_t size;
    unsigned char *data;
};

struct db {
    struct db_ent **buckets;
    size_t nbuckets, count;
};
int db_init(struct db *db);
void db_destroy(struct db *db);
const struct db_ent *db_fetch(const struct db *db, const char *key);
int db_store(struct db *db, const char *key, const void *data, size_t size); /* 0 / -ENOMEM */
int db_delete(struct db *db, const char *key);                              /* 0 / -ENOENT */

/* ----------------------------------------------------------------- nodes */

struct node {
    const char *name;
    const char *key;          /* where write_node() put it (transaction or global) */
    struct node *parent;
    uint64_t generation;
    unsigned num_perms;
    struct xs_perm *perms;
    unsigned datalen;
    char *data;
    unsigned childlen, childoff;
    char *children;
};

struct accessed_node {
    struct accessed_node *next;
    char *trans_name;          /* "<trans generation>/<name>" */
    const char *node;          /* the name, inside trans_name */
    uint64_t generation;
    unsigned num_perms;
    struct xs_perm *perms;     /* original permissions (for watch checks) */
    bool check_gen, modified, ta_node, fire_watch, watch_exact;
};

struct transaction {
    struct transaction *next;
    uint32_t id;
    unsigned nodes;
    uint64_t generation;
    struct accessed_node *accessed, **accessed_tail;
    bool fail;
};

struct watch {
    struct watch *next;
    char *node;                /* canonical path or @special */
    char *token;
    const char *relative_path; /* the implicit path, if set relative */
};

/* A request with replies or events still queued (xenstored's pend.ref). */
struct pend {
    unsigned refs;
};

struct out_msg {
    struct out_msg *next;
    unsigned char *bytes;      /* header + payload */
    size_t size, used;
    bool watch_event;
    bool split;                /* XF_XSD_SPLIT_WRITES */
    bool jump;                 /* XF_XSD_RSP_PROD_JUMP: write nothing, corrupt rsp_prod */
    struct pend *pend;
};

/* The guest's connection (xenstored's struct connection + struct domain). */
struct conn {
    domid_t id;
    char *path;                        /* /local/domain/<id> */
    struct transaction *transaction;   /* during a request only */
    struct transaction *transactions;
    uint32_t next_transaction_id;
    unsigned transaction_started;
    struct watch *watches;
    unsigned nbwatch;
    struct out_msg *out, **out_tail;
    unsigned nboutstanding;
    unsigned nevents;                  /* watch events queued */
    /* Input being read. */
    union {
        struct xsd_sockmsg msg;
        unsigned char raw[sizeof(struct xsd_sockmsg)];
    } hdr;
    bool inhdr;
    unsigned used;
    char *buffer;
    /* The request being processed. */
    struct xsd_sockmsg *in;
    struct pend *pend;
    bool ignored;
};

/* ---------------------------------------------------------------- server */

struct xf_xsd {
    pthread_mutex_t lock;
    pthread_t thread;
    bool thread_started;
    volatile bool stop;

    struct xf_sim *sim;
    domid_t domid;
    struct xenstore_domain_interface *intf;
    grant_handle_t handle;
    bool grant_mapped;
    evtchn_port_t guest_port;
    int port;                          /* dom0's end, or -1 */

    struct xf_xsd_config cfg;          /* quotas resolved */
    struct db db;
    uint64_t generation;
    struct conn conn;
    struct xs_perm *special_introduce, *special_release;
    unsigned n_special_introduce, n_special_release;

    enum xf_xsd_misbehaviour mis;
    unsigned mis_count;

    unsigned long requests, events_sent, events_dropped, reconnects;
    unsigned long server_resets;       /* XF_XSD_SPONTANEOUS_RESET, xf_xsd_server_reset() */
    unsigned long flood_events;        /* XF_XSD_EVENT_FLOOD */
    char *rewrite_path, *rewrite_value;  /* xf_xsd_rewrite() */
    size_t rewrite_len;
    unsigned broken;                   /* XENSTORE_ERROR_* once ignored */

    char *tool_data;                   /* the toolstack's captured reply */
    unsigned tool_len;
};

/* A request handler: 0 once it has replied, or a positive errno to reply. */
typedef int handler_fn(struct xf_xsd *x, struct conn *conn, struct ctx *ctx,
                       struct buffered *in);

/* core.c: strings, paths, permissions, nodes, replies and the dispatch. */
int xsd_store_init(struct xf_xsd *x);
void xsd_store_destroy(struct xf_xsd *x);
void xsd_process_message(struct xf_xsd *x, struct conn *conn, struct xsd_sockmsg *hdr, char *buf);
bool xsd_unpriv(const struct conn *conn);
bool xsd_over(uint32_t quota, uint64_t value);
unsigned xsd_get_strings(const struct buffered *in, char *vec[], unsigned num);
const char *xsd_onearg(const struct buffered *in);
bool xsd_is_valid_nodename(const char *node);
const char *xsd_canonicalize(struct conn *conn, struct ctx *ctx, const char *node);
char *xsd_get_parent(struct ctx *ctx, const char *node);
unsigned xsd_perm_for_conn(const struct conn *conn, const struct xs_perm *p, unsigned num);
int xsd_write_node_raw(struct xf_xsd *x, struct conn *conn, const char *key,
                       const struct node *node, bool no_quota_check);
struct node *xsd_read_node(struct xf_xsd *x, struct conn *conn, struct ctx *ctx,
                           const char *name);
void xsd_send_reply(struct xf_xsd *x, struct conn *conn, enum xsd_sockmsg_type type,
                    const void *data, unsigned len);
void xsd_send_ack(struct xf_xsd *x, struct conn *conn, enum xsd_sockmsg_type type);

/* transaction.c */
const char *xsd_transaction_prepend(struct conn *conn, const char *name);
int xsd_access_node(struct xf_xsd *x, struct conn *conn, struct node *node,
                    enum access_type type, const char **key);
void xsd_queue_watches(struct conn *conn, const char *name, bool exact);
struct transaction *xsd_transaction_lookup(struct conn *conn, uint32_t id, int *err);
void xsd_conn_delete_all_transactions(struct xf_xsd *x, struct conn *conn);
int xsd_do_transaction_start(struct xf_xsd *x, struct conn *conn, struct ctx *ctx,
                             struct buffered *in);
int xsd_do_transaction_end(struct xf_xsd *x, struct conn *conn, struct ctx *ctx,
                           struct buffered *in);

/* watch.c */
void xsd_fire_watches(struct xf_xsd *x, struct conn *conn, struct ctx *ctx,
                      const char *name, struct node *node, bool exact,
                      const struct xs_perm *perms, unsigned nperms);
void xsd_conn_delete_all_watches(struct xf_xsd *x, struct conn *conn);
int xsd_do_watch(struct xf_xsd *x, struct conn *conn, struct ctx *ctx,
                 struct buffered *in);
int xsd_do_unwatch(struct xf_xsd *x, struct conn *conn, struct ctx *ctx,
                   struct buffered *in);

/* domain.c */
const struct xs_perm *xsd_get_perms_special(struct xf_xsd *x, const char *name,
                                            unsigned *num);
int xsd_do_get_domain_path(struct xf_xsd *x, struct conn *conn, struct ctx *ctx,
                           struct buffered *in);
int xsd_do_privileged(struct xf_xsd *x, struct conn *conn, struct ctx *ctx,
                      struct buffered *in);

/* core.c: the toolstack's operations (conn NULL); 0 or a positive errno. */
int xsd_tool_write(struct xf_xsd *x, const char *path, const void *v, size_t len);
int xsd_tool_read(struct xf_xsd *x, const char *path, char *buf, size_t cap, int *len);
int xsd_tool_rm(struct xf_xsd *x, const char *path);
int xsd_tool_mkdir(struct xf_xsd *x, const char *path);
int xsd_tool_set_perms(struct xf_xsd *x, const char *path, const char *strings, size_t len);
int xsd_tool_get_perms(struct xf_xsd *x, const char *path, char *buf, size_t cap, int *len);

/* server.c: queueing output on the guest's connection. */
bool xsd_mis_take(struct xf_xsd *x, enum xf_xsd_misbehaviour m);
void xsd_queue(struct xf_xsd *x, struct conn *conn, struct out_msg *m);
void xsd_free_out(struct xf_xsd *x, struct conn *conn, struct out_msg *m);
void xsd_pend_put(struct conn *conn, struct pend *p);

#endif /* XSD_PRIVATE_H */
