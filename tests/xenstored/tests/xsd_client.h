/*
 * A tiny raw xenstore client for the simulated xenstored's tests: the guest
 * side of the ring, byte by byte, with the barriers xenstore-ring.txt asks
 * for, and a wait on the guest's store port (its shared_info pending bit)
 * bounded by a deadline. Every helper fails the test on a timeout.
 */
#ifndef XSD_CLIENT_H
#define XSD_CLIENT_H

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <check.h>
#include "xf_check.h"

#include <xenfront/xsd.h>
#include <xen/io/xs_wire.h>

#define CLI_TIMEOUT_NS (5ull * 1000000000ull)
#define MAX_EVENTS 256
#define CLI static __attribute__((unused))

struct reply {
    struct xsd_sockmsg hdr;
    char data[XENSTORE_PAYLOAD_MAX + 2];   /* NUL-terminated for convenience */
};

struct event {
    char path[XENSTORE_PAYLOAD_MAX + 1];
    char token[XENSTORE_PAYLOAD_MAX + 1];
};

static struct xf_sim *sim;
static struct xf_xsd *xsd;
static domid_t G;
static struct xenstore_domain_interface *intf;
static evtchn_port_t gport;
static uint32_t next_req = 100;
static struct event *events;      /* events received while waiting for replies */
static unsigned nevents, evhead;

CLI void cli_start(const struct xf_xsd_config *cfg)
{
    sim = xf_sim_create(NULL);
    ck_assert_ptr_nonnull(sim);
    G = xf_sim_guest_domid(sim);
    intf = xf_sim_gfn_to_va(sim, G, xf_sim_store_gfn(sim));
    ck_assert_ptr_nonnull(intf);
    gport = xf_sim_store_port(sim);
    events = calloc(MAX_EVENTS, sizeof(*events));
    ck_assert_ptr_nonnull(events);
    nevents = evhead = 0;
    xsd = xf_xsd_start(sim, G, cfg);
    ck_assert_ptr_nonnull(xsd);
}

CLI void setup(void)
{
    cli_start(NULL);
}

CLI void teardown(void)
{
    xf_xsd_stop(xsd);
    xsd = NULL;
    xf_sim_destroy(sim);
    free(events);
}

CLI uint64_t deadline(void)
{
    return xf_plat_now_ns() + CLI_TIMEOUT_NS;
}

CLI void cli_notify(void)
{
    struct evtchn_send s = { .port = gport };

    ck_assert_int_eq(xf_plat_event_channel_op(EVTCHNOP_send, &s), 0);
}

/* Sleep until xenstored notifies (the pending bit is cleared on return). */
CLI void cli_wait(uint64_t dl)
{
    int rc = xf_sim_evtchn_wait(sim, G, gport, dl);

    ck_assert_msg(rc == 0, "timed out waiting for xenstored (%d)", rc);
}

/* Put raw bytes on the request ring (waiting for space), then notify. */
CLI void cli_put_raw(const void *data, size_t len, bool notify)
{
    const char *p = data;
    uint64_t dl = deadline();

    while (len > 0) {
        XENSTORE_RING_IDX cons = XF_READ_ONCE(intf->req_cons);
        XENSTORE_RING_IDX prod = XF_READ_ONCE(intf->req_prod);
        size_t space, chunk;

        XF_MB();
        ck_assert_uint_le(prod - cons, XENSTORE_RING_SIZE);
        space = XENSTORE_RING_SIZE - (prod - cons);
        if (space == 0) {
            cli_notify();
            cli_wait(dl);
            continue;
        }
        chunk = XENSTORE_RING_SIZE - MASK_XENSTORE_IDX(prod);
        if (chunk > space)
            chunk = space;
        if (chunk > len)
            chunk = len;
        memcpy(intf->req + MASK_XENSTORE_IDX(prod), p, chunk);
        XF_WMB();   /* data before the producer index */
        XF_WRITE_ONCE(intf->req_prod, prod + (XENSTORE_RING_IDX)chunk);
        p += chunk;
        len -= chunk;
    }
    if (notify)
        cli_notify();
}

CLI uint32_t cli_send(uint32_t type, uint32_t tx_id, const void *payload, size_t len)
{
    struct xsd_sockmsg h = { type, next_req++, tx_id, (uint32_t)len };
    char *buf = malloc(sizeof(h) + len);

    ck_assert_ptr_nonnull(buf);
    memcpy(buf, &h, sizeof(h));
    if (len)
        memcpy(buf + sizeof(h), payload, len);
    cli_put_raw(buf, sizeof(h) + len, true);
    free(buf);
    return h.req_id;
}

/* Take exactly len bytes from the response ring. */
CLI void cli_get_raw(void *data, size_t len)
{
    char *p = data;
    uint64_t dl = deadline();

    while (len > 0) {
        XENSTORE_RING_IDX cons = XF_READ_ONCE(intf->rsp_cons);
        XENSTORE_RING_IDX prod = XF_READ_ONCE(intf->rsp_prod);
        size_t avail, chunk;

        XF_RMB();   /* the producer index before the data */
        ck_assert_uint_le(prod - cons, XENSTORE_RING_SIZE);
        avail = prod - cons;
        if (avail == 0) {
            cli_wait(dl);
            continue;
        }
        chunk = XENSTORE_RING_SIZE - MASK_XENSTORE_IDX(cons);
        if (chunk > avail)
            chunk = avail;
        if (chunk > len)
            chunk = len;
        memcpy(p, intf->rsp + MASK_XENSTORE_IDX(cons), chunk);
        XF_MB();    /* data copied before the space is given back */
        XF_WRITE_ONCE(intf->rsp_cons, cons + (XENSTORE_RING_IDX)chunk);
        cli_notify();   /* xenstored may be waiting for room */
        p += chunk;
        len -= chunk;
    }
}

/* The next message, whatever it is. */
CLI void cli_recv(struct reply *r)
{
    cli_get_raw(&r->hdr, sizeof(r->hdr));
    ck_assert_uint_le(r->hdr.len, XENSTORE_PAYLOAD_MAX);
    cli_get_raw(r->data, r->hdr.len);
    r->data[r->hdr.len] = 0;
    r->data[r->hdr.len + 1] = 0;
}

CLI void stash_event(const struct reply *r)
{
    struct event *e;
    size_t pl;

    ck_assert_uint_eq(r->hdr.req_id, 0);
    ck_assert_uint_eq(r->hdr.tx_id, 0);
    ck_assert_uint_lt(nevents, MAX_EVENTS);
    e = &events[nevents++];
    pl = strlen(r->data);
    ck_assert_uint_lt(pl + 1, r->hdr.len);
    ck_assert_int_eq(r->data[r->hdr.len - 1], 0);   /* token terminated */
    memcpy(e->path, r->data, pl + 1);
    memcpy(e->token, r->data + pl + 1, r->hdr.len - pl - 1);
}

/* Wait for the reply to req_id, keeping the events that come first. */
CLI void cli_reply(uint32_t req_id, struct reply *r)
{
    for (;;) {
        cli_recv(r);
        if (r->hdr.type == XS_WATCH_EVENT) {
            stash_event(r);
            continue;
        }
        ck_assert_uint_eq(r->hdr.req_id, req_id);
        return;
    }
}

CLI unsigned events_pending(void)
{
    return nevents - evhead;
}

/* The next watch event (stashed, or from the ring). */
CLI struct event *cli_event(void)
{
    while (evhead == nevents) {
        struct reply r;

        cli_recv(&r);
        ck_assert_uint_eq(r.hdr.type, XS_WATCH_EVENT);
        stash_event(&r);
    }
    return &events[evhead++];
}

/* A request of NUL-terminated strings; the reply in *r, its type returned. */
CLI uint32_t cli_op(struct reply *r, uint32_t type, uint32_t tx, unsigned n, ...)
{
    char buf[XENSTORE_PAYLOAD_MAX + 64];
    size_t len = 0;
    va_list ap;
    uint32_t id;

    va_start(ap, n);
    for (unsigned i = 0; i < n; i++) {
        const char *s = va_arg(ap, const char *);
        size_t l = strlen(s) + 1;

        ck_assert_uint_le(len + l, sizeof(buf));
        memcpy(buf + len, s, l);
        len += l;
    }
    va_end(ap);
    id = cli_send(type, tx, buf, len);
    cli_reply(id, r);
    ck_assert_uint_eq(r->hdr.tx_id, tx);
    return r->hdr.type;
}

/* Expect an XS_ERROR reply naming err. */
#define ck_error(r, err) do { \
    ck_assert_uint_eq((r)->hdr.type, XS_ERROR); \
    ck_assert_str_eq((r)->data, err); \
    ck_assert_uint_eq((r)->hdr.len, strlen(err) + 1); \
} while (0)

#define ck_ok(r, want) do { \
    ck_assert_msg((r)->hdr.type == (want), "type %u (%s), wanted %u", (r)->hdr.type, \
                  (r)->hdr.type == XS_ERROR ? (r)->data : "", (unsigned)(want)); \
    ck_assert_uint_eq((r)->hdr.len, 3); \
    ck_assert_str_eq((r)->data, "OK"); \
} while (0)

/* Write a value by the guest (path NUL value, no NUL after the value). */
CLI uint32_t cli_write(struct reply *r, uint32_t tx, const char *path, const char *value)
{
    char buf[XENSTORE_PAYLOAD_MAX];
    size_t pl = strlen(path) + 1, vl = strlen(value);
    uint32_t id;

    ck_assert_uint_le(pl + vl, sizeof(buf));
    memcpy(buf, path, pl);
    memcpy(buf + pl, value, vl);
    id = cli_send(XS_WRITE, tx, buf, pl + vl);
    cli_reply(id, r);
    return r->hdr.type;
}

#endif /* XSD_CLIENT_H */
