/*
 * fuzz_xenbus_{stream,ring,dev}: the xenstore client (libxenbus) against a
 * xenstored the fuzz input plays.
 *
 * One source, three targets:
 *   FZ_TRANSPORT_RING=0  the client over a byte-stream transport of ours
 *                        (xf_xenbus_create_transport): the input decides
 *                        how many bytes each send takes and each recv gives;
 *   FZ_TRANSPORT_RING=1  the client over the real guest ring transport
 *                        (xf_xenbus_create_ring) on a
 *                        xenstore_domain_interface page, its event channel
 *                        driven through libevtchn; the peer also writes the
 *                        page's indices, features and connection field;
 *   FZ_DEV_ONLY=1        the stream, with only the XenBus device helpers
 *                        and typed-value readers as guest steps, so their
 *                        parsing is fuzzed deeply.
 *
 * The peer parses every request the client sends (and checks it is
 * well-framed), and answers from the input: correct replies, XS_ERROR
 * strings, wrong types, unknown ids, raw bytes, watch events for live and
 * dead tokens, a reset of the connection, a dead link, and a "flood" mode
 * in which it answers at once, forever (even after the input ends), and
 * sends watch events for a token nobody registered whenever it has nothing
 * else to say. The guest steps run, meanwhile, with requests in flight,
 * watches registered and a transaction open.
 *
 * Invariants checked:
 *  - a reply delivered to a request (callback or synchronous helper) has
 *    the request's type and exactly the bytes the peer sent for that
 *    req_id, or is an error; an XS_ERROR string maps to its errno;
 *  - a completion callback runs at most once per request, and no callback
 *    (completion or watch) runs after the connection was seen broken;
 *  - typed values: read_uint / read_feature / read_state return only what
 *    the bytes the peer sent say (checked against a reference parse);
 *  - watch events come out in the order sent, with losses only behind an
 *    overflow marker, and a queue never exceeds its bound;
 *  - bounded work per call: no library call may take more than
 *    FZ_WORK_MAX transport reads, however fast the peer answers, and every
 *    helper returns by its deadline;
 *  - ring transport: the client writes only its own fields of the page
 *    (req[], req_prod, rsp_cons, connection) and its consumer index never
 *    passes the producer index.
 */
#include "fz.h"

#include <xenfront/errno.h>
#include <xenfront/evtchn.h>
#include <xenfront/xenbus.h>
#include <xenfront/xenbus_transport.h>

#ifndef FZ_TRANSPORT_RING
#define FZ_TRANSPORT_RING 0
#endif
#ifndef FZ_DEV_ONLY
#define FZ_DEV_ONLY 0
#endif

#define HDR ((uint32_t)sizeof(struct xsd_sockmsg))

/* FUZZ_TRACE=1: narrate a run (for reading a crash). */
static int trace = -1;
/* FUZZ_STRICT=1: also hold the library to the letter of its header where
 * it is knowingly lenient (tests/fuzz/crashes/README.md). */
static int strict;
#define TRACE(...) do { if (trace > 0) { fprintf(stderr, __VA_ARGS__); fputc('\n', stderr); } } while (0)
#define STORE_PORT 5u
/* Work (transport reads plus bytes taken) the client may do between two
 * looks at the clock. Honest work is bounded by the processing budget (at
 * most 4096 messages of at most 4 KiB); a client without a budget, fed by
 * a peer that never runs dry, passes it in a second or two. */
#define FZ_WORK_MAX 8000000ul

/* ------------------------------------------------------------------------
 * Values a hostile store answers with (also the dictionary's).
 */
static const char *const values[] = {
    "0", "1", "2", "3", "4", "5", "6", "7", "8", "9", "10", "",
    "18446744073709551615", "18446744073709551616", "99999999999999999999",
    "4294967295", "65535", "32752", "32751", "-1", "+1", " 1", "1 ", "01", "00",
    "abc", "1x", "/local/domain/0/backend/vif/1/0", "backend/vif/1/0", "/",
    "/local/domain/0/backend/console/1/0", "/local/domain/7",
};

static const char *const paths[] = {
    "device/vif/0", "device/vif/0/state", "device/console/1", "/local/domain/0/backend/vif/1/0",
    "/local/domain/0/backend/vif/1/0/state", "data/x", "control/shutdown", "/tool/x",
    "feature-x", "device",
};

static const char *const errnames[] = {
    "EINVAL", "EACCES", "EEXIST", "EISDIR", "ENOENT", "ENOMEM", "ENOSPC", "EIO",
    "ENOTEMPTY", "ENOSYS", "EROFS", "EBUSY", "EAGAIN", "EISCONN", "E2BIG", "EPERM",
    "EQUOTA", "",
};

/* ------------------------------------------------------------------------
 * The peer.
 */
#define MAXREQ 64
#define QCAP (1u << 17)

struct preq {
    uint32_t type, req_id, tx_id, len;
    char payload[XENSTORE_PAYLOAD_MAX + 1];
};

/* What the peer sent for a req_id (checked against deliveries): the last
 * NSENT answers, newest found first. */
struct sent {
    uint32_t req_id, type, len;
    bool valid;
    unsigned long seq;
    uint32_t end;           /* queue position after it (P.qtail then) */
    char payload[XENSTORE_PAYLOAD_MAX + 1];
};
#define NSENT 64

static struct peer {
    /* Requests parsed from the client's stream, not yet answered. */
    struct preq reqs[MAXREQ];
    unsigned nreqs;
    /* The client's stream being framed. */
    unsigned char in_hdr[16];
    uint32_t in_have;
    struct preq cur;
    uint32_t cur_off;
    bool cur_hdr;
    /* Bytes to the client. */
    unsigned char q[QCAP];
    uint32_t qhead, qtail;
    /* Transport knobs. */
    uint32_t send_room;     /* bytes each send takes (0: none now) */
    uint32_t recv_chunk;    /* bytes each recv gives at most       */
    int link;               /* LINK_UP, RECONNECTING, or an error   */
    bool can_reset;
    bool flood;             /* answer at once, forever              */
    bool dead;              /* silent: never answers again          */
    uint32_t tx_next;
    uint32_t flood_n;
    /* Raw bytes or a lying length went into the stream: what the client
     * frames from now on is not what the peer meant, so contents are no
     * longer checked (until a reset empties the streams). */
    bool tainted;
    bool desync;            /* we rewrote req_cons: the client's stream unframed */
    unsigned long server_resets;    /* resets we started, for ops->resets */
    unsigned long read_reqs;    /* XS_READ requests received, and the last */
    uint32_t last_read_req;
    bool reset_pending;     /* a reset of ours the client must report   */
    bool reset_observed;    /* the client has seen the link reconnecting */
    struct sent sent[NSENT];
    unsigned long sent_seq;
} P;

#if FZ_TRANSPORT_RING
static struct xenstore_domain_interface *intf;
static unsigned char intf_shadow[XF_PAGE_SIZE];
static XENSTORE_RING_IDX lib_rsp_cons;   /* what the client last wrote there */
#endif

/* Transport reads and bytes since the client last looked at the clock or
 * waited: what one round of its work may cost. */
static unsigned long work;
static unsigned long work_mark;

static void work_tick(unsigned long n)
{
    if (fz_waits + fz_clock_reads != work_mark) {
        work_mark = fz_waits + fz_clock_reads;
        work = 0;
    }
    work += n;
}

static uint32_t qlen(void)
{
    return P.qtail - P.qhead;
}

static void q_push(const void *src, uint32_t n)
{
    if (qlen() + n > QCAP)
        return;   /* the peer's own bound: drop */
    for (uint32_t i = 0; i < n; i++)
        P.q[(P.qtail + i) % QCAP] = ((const unsigned char *)src)[i];
    P.qtail += n;
}

static bool send_msg(uint32_t type, uint32_t req_id, uint32_t tx_id, const void *payload,
                     uint32_t len, uint32_t hdr_len)
{
    struct xsd_sockmsg h = { .type = type, .req_id = req_id, .tx_id = tx_id, .len = hdr_len };

    if (qlen() + HDR + len > QCAP)
        return false;
    q_push(&h, HDR);
    q_push(payload, len);
    return true;
}

/* A request of the client is complete: check its framing, keep it. */
static void note_sent(uint32_t id);

static void got_request(const struct preq *r)
{
    note_sent(r->req_id);
    if (r->type == XS_READ) {
        P.read_reqs++;
        P.last_read_req = r->req_id;
    }
    if (P.desync) {
        /* Our own framing is lost (we moved req_cons under the client):
         * keep what parses, check nothing. */
        if (P.nreqs < MAXREQ && r->len <= XENSTORE_PAYLOAD_MAX)
            P.reqs[P.nreqs++] = *r;
        return;
    }
    FZ_CHECK(r->type < XS_TYPE_COUNT && r->type != XS_WATCH_EVENT && r->type != XS_ERROR,
             "client sent message type %u", r->type);
    FZ_CHECK(r->len <= XENSTORE_PAYLOAD_MAX, "client sent a %u-byte payload", r->len);
    for (unsigned i = 0; i < P.nreqs; i++)
        FZ_CHECK(P.reqs[i].req_id != r->req_id, "client reused req_id %u in flight",
                 r->req_id);
    TRACE("peer: got request %u type %u len %u", r->req_id, r->type, r->len);
    if (P.nreqs < MAXREQ)
        P.reqs[P.nreqs++] = *r;
}

/* Bytes the client produced. */
static void peer_take(const unsigned char *b, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (!P.cur_hdr) {
            P.in_hdr[P.in_have++] = b[i];
            if (P.in_have == HDR) {
                struct xsd_sockmsg h;

                memcpy(&h, P.in_hdr, HDR);
                P.cur.type = h.type;
                P.cur.req_id = h.req_id;
                P.cur.tx_id = h.tx_id;
                P.cur.len = h.len;
                FZ_CHECK(h.len <= XENSTORE_PAYLOAD_MAX || P.desync, "client header length %u",
                         h.len);
                if (h.len > XENSTORE_PAYLOAD_MAX)
                    P.cur.len = h.len = XENSTORE_PAYLOAD_MAX;
                P.cur_off = 0;
                P.cur_hdr = true;
                P.in_have = 0;
                if (h.len == 0) {
                    got_request(&P.cur);
                    P.cur_hdr = false;
                }
            }
        } else {
            P.cur.payload[P.cur_off++] = (char)b[i];
            if (P.cur_off == P.cur.len) {
                P.cur.payload[P.cur_off] = '\0';
                got_request(&P.cur);
                P.cur_hdr = false;
            }
        }
    }
}

/*
 * Every req_id the peer put a reply under since the stream was last
 * emptied, with where that reply ends in the queue. The client takes the
 * FIRST reply with a req_id whose request it has wholly sent (it cannot
 * know whether the server has read it yet: a reply written before the
 * request was taken off the ring is indistinguishable from a fast one),
 * and must refuse a second one as a protocol violation. So the first reply
 * per id is what a delivery is checked against, whatever the peer meant
 * by it (an "unsolicited" id, a wrong id, an early answer); later ones
 * are not recorded. A reset drops the replies still queued, and with them
 * their claim on the id. (tests/fuzz/crashes/README.md: the finding that
 * showed the model counted only replies sent after the read.)
 */
#define NREPLIED 8192
static struct replied {
    uint32_t id;
    uint32_t end;           /* queue position after it; 0: taken before a reset */
} replied[NREPLIED];
static unsigned nreplied;

static bool replied_before(uint32_t id)
{
    for (unsigned i = nreplied; i-- > 0;)
        if (replied[i].id == id)
            return true;
    return false;
}

static void record_sent(uint32_t req_id, uint32_t type, const void *payload, uint32_t len)
{
    struct sent *s = &P.sent[P.sent_seq % NSENT];

    if (replied_before(req_id))
        return;   /* a second reply: the client must refuse it, never deliver it */
    if (nreplied == NREPLIED) {
        P.tainted = true;   /* the model's own bound: stop checking contents */
        return;
    }
    replied[nreplied].id = req_id;
    replied[nreplied].end = P.qtail;
    nreplied++;
    s->end = P.qtail;
    s->seq = ++P.sent_seq;
    s->req_id = req_id;
    s->type = type;
    s->len = len;
    s->valid = true;
    memcpy(s->payload, payload, len);
    s->payload[len] = '\0';
}

/* Build a well-formed answer for a request of this type. */
static uint32_t good_reply(const struct preq *r, char *out, bool from_input)
{
    uint32_t n = 0;

#define PUT(s) do { const char *s_ = (s); size_t l_ = strlen(s_) + 1; memcpy(out + n, s_, l_); n += (uint32_t)l_; } while (0)
    switch (r->type) {
    case XS_READ: {
        uint8_t v = from_input ? fz_u8() : 4;

        if (v >= 0xf0) {
            n = fz_u8();
            fz_bytes(out, n);
        } else {
            const char *s = values[v % XF_ARRAY_SIZE(values)];

            n = (uint32_t)strlen(s);
            memcpy(out, s, n);
        }
        break;
    }
    case XS_DIRECTORY: {
        unsigned k = from_input ? fz_u8() % 5 : 1;

        for (unsigned i = 0; i < k; i++)
            PUT(values[(from_input ? fz_u8() : i) % 12]);
        break;
    }
    case XS_DIRECTORY_PART: {
        unsigned k = from_input ? fz_u8() % 4 : 0;

        PUT(from_input && fz_bool() ? "8" : "7");
        for (unsigned i = 0; i < k; i++)
            PUT(paths[(from_input ? fz_u8() : i) % XF_ARRAY_SIZE(paths)]);
        out[n++] = '\0';
        break;
    }
    case XS_GET_PERMS:
        PUT("n0");
        PUT("r1");
        break;
    case XS_TRANSACTION_START: {
        char num[16];

        snprintf(num, sizeof(num), "%u", from_input ? fz_u8() : ++P.tx_next);
        PUT(num);
        break;
    }
    case XS_GET_DOMAIN_PATH:
        PUT("/local/domain/1");
        break;
    default:
        PUT("OK");
        break;
    }
#undef PUT
    return n;
}

static void drop_req(unsigned i)
{
    P.reqs[i] = P.reqs[--P.nreqs];
}

/* Answer request i as the input says. Every reply is recorded under the
 * id it carries, a "fake" one (for a request the peer has not read, or
 * one never made) too: if the client has a wholly sent request with that
 * id, taking the reply is right (see record_sent); if not, it must refuse
 * it, and if it delivered it anyway the check finds a record of another
 * type or bytes, or none for the id it delivered to. */
static void answer(unsigned i, bool from_input, bool fake)
{
    static char buf[XENSTORE_PAYLOAD_MAX + 64];
    struct preq *r = &P.reqs[i];
    uint8_t how = from_input ? fz_u8() : 0xff;
    uint32_t n, type = r->type, id = r->req_id;
    bool ok;

    if (how < 0x20) {
        /* An XS_ERROR, well-formed or not. */
        const char *e = errnames[how % XF_ARRAY_SIZE(errnames)];

        n = (uint32_t)strlen(e) + ((how & 0x10) ? 0 : 1);
        memcpy(buf, e, n);
        type = XS_ERROR;
        ok = send_msg(type, id, r->tx_id, buf, n, n);
    } else if (how < 0x28) {
        /* Raw payload of the right type. */
        n = fz_u8();
        if (how & 1)
            n = fz_u16() % (XENSTORE_PAYLOAD_MAX + 1);
        fz_bytes(buf, n);
        ok = send_msg(type, id, r->tx_id, buf, n, n);
    } else if (how < 0x2c) {
        /* The wrong type, or a wrong id: the connection must break. */
        type = fz_u8() % 40;
        if (how & 1)
            id = fz_u32();
        n = good_reply(r, buf, true);
        ok = send_msg(type, id, r->tx_id, buf, n, n);
    } else if (how < 0x2e) {
        /* A header whose length is not what follows. */
        uint32_t hl = fz_u16();

        n = good_reply(r, buf, true);
        ok = send_msg(type, id, r->tx_id, buf, n, hl);
        if (ok && hl != n)
            P.tainted = true;
    } else {
        n = good_reply(r, buf, from_input);
        ok = send_msg(type, id, r->tx_id, buf, n, n);
    }
    TRACE("peer: answer req %u (type %u) with type %u id %u len %u how %#x%s%s", r->req_id,
          r->type, type, id, n, how, ok ? "" : " (queue full)", fake ? " (fake)" : "");
    if (ok)
        record_sent(id, type, buf, n);
    drop_req(i);
}

/* Tokens the guest registered, for events. */
#define MAXW 8
struct gwatch {
    struct xf_xenbus_watch *w;
    char token[24];
    char path[64];
    /* Events sent for this token since it was added, in order. */
    char ev[64][64];
    unsigned nev, pos;
    bool resync;            /* an overflow marker was taken */
    bool cb_armed;
};
static struct gwatch gw[MAXW];
/* gw[].w while xf_xenbus_watch_add() runs (events sent meanwhile count). */
#define ADDING ((struct xf_xenbus_watch *)(uintptr_t)1)

/* The server forgets its state and empties both streams (a reset): events
 * still queued are lost without a marker, which is not the client's doing,
 * so the event order checks start over. */
static void drop_queue(void)
{
    /* Replies still queued are lost: their ids are free for a later first
     * reply. What the client took stays (positions restart at 0). On the
     * ring, bytes already copied to rsp[] count as taken; a ring reset
     * taints the run anyway. */
    unsigned k = 0;

    for (unsigned i = 0; i < nreplied; i++) {
        if (replied[i].end > P.qhead)
            continue;
        replied[k] = replied[i];
        replied[k++].end = 0;
    }
    nreplied = k;
    for (unsigned i = 0; i < NSENT; i++) {
        if (P.sent[i].valid && P.sent[i].end > P.qhead)
            P.sent[i].valid = false;
        P.sent[i].end = 0;
    }
    P.qhead = P.qtail = 0;
    P.nreqs = 0;
    P.in_have = 0;
    P.cur_hdr = false;
    for (unsigned i = 0; i < MAXW; i++)
        gw[i].resync = true;
}
static unsigned token_seq;

static void send_event(const char *path, const char *token)
{
    char buf[256];
    size_t pl = strlen(path), tl = strlen(token);

    memcpy(buf, path, pl + 1);
    memcpy(buf + pl + 1, token, tl + 1);
    if (!send_msg(XS_WATCH_EVENT, 0, 0, buf, (uint32_t)(pl + tl + 2), (uint32_t)(pl + tl + 2)))
        return;
    for (unsigned i = 0; i < MAXW; i++) {
        size_t wl = strlen(gw[i].path);
        /* Only events inside the watched subtree reach the watch. */
        bool under = strncmp(path, gw[i].path, wl) == 0 &&
                     (path[wl] == '\0' || path[wl] == '/' || (wl != 0 && gw[i].path[wl - 1] == '/'));

        if (gw[i].w != NULL && strcmp(gw[i].token, token) == 0 && under && gw[i].nev < 64) {
            snprintf(gw[i].ev[gw[i].nev], sizeof(gw[i].ev[0]), "%s", path);
            gw[i].nev++;
            TRACE("peer: event %s for %s (#%u)", path, token, gw[i].nev);
        }
    }
}

/* The flood: a server that always has something to say. */
static void flood_more(void)
{
    if (P.nreqs != 0) {
        while (P.nreqs != 0)
            answer(0, false, false);
        return;
    }
    if (qlen() < 4096) {
        P.flood_n++;
        send_event("/flood", "not-a-token");
    }
}

#if FZ_TRANSPORT_RING
/* The ring: move the client's request bytes into the parser and our queue
 * into the response ring, as an honest server would. */
static void ring_serve(void)
{
    XENSTORE_RING_IDX prod = intf->req_prod, cons = intf->req_cons;
    uint32_t budget = 4 * XENSTORE_RING_SIZE;

    if (intf->connection != XENSTORE_CONNECTED)
        return;
    while (cons != prod && budget-- != 0 && (uint32_t)(prod - cons) <= XENSTORE_RING_SIZE) {
        unsigned char c = (unsigned char)intf->req[MASK_XENSTORE_IDX(cons)];

        peer_take(&c, 1);
        cons++;
    }
    intf->req_cons = cons;
    XENSTORE_RING_IDX rp = intf->rsp_prod, rc = intf->rsp_cons;

    while (qlen() != 0 && (uint32_t)(rp - rc) < XENSTORE_RING_SIZE) {
        intf->rsp[MASK_XENSTORE_IDX(rp)] = (char)P.q[P.qhead % QCAP];
        P.qhead++;
        rp++;
    }
    intf->rsp_prod = rp;
    memcpy(intf_shadow, intf, sizeof(*intf));
    fz_raise(STORE_PORT);
}
#endif

static void peer_turn(void);

#if FZ_TRANSPORT_RING
/* The client notified the server: a flooding server answers at once. */
static void notify_hook(unsigned int port)
{
    if (port != STORE_PORT || !P.flood)
        return;
    work_tick(1024);
    FZ_CHECK(work <= FZ_WORK_MAX, "unbounded work: %lu notifications without a wait",
             work / 1024);
    ring_serve();
    flood_more();
    ring_serve();
}
#endif

/* ------------------------------------------------------------------------
 * The byte-stream transport (FZ_TRANSPORT_RING=0).
 */
#if !FZ_TRANSPORT_RING
static long t_send(void *t, const void *buf, size_t len)
{
    size_t n = len < P.send_room ? len : P.send_room;

    (void)t;
    if (P.link < 0)
        return P.link;
    peer_take(buf, n);
    if (P.flood)
        flood_more();
    return (long)n;
}

static long t_recv(void *t, void *buf, size_t len)
{
    uint32_t n;

    (void)t;
    work_tick(1);
    FZ_CHECK(work <= FZ_WORK_MAX, "unbounded work: %lu reads and bytes without a wait", work);
    if (P.link < 0)
        return P.link;
    if (qlen() == 0 && P.flood)
        flood_more();
    n = qlen();
    if (n > len)
        n = (uint32_t)len;
    if (n > P.recv_chunk)
        n = P.recv_chunk;
    for (uint32_t i = 0; i < n; i++)
        ((unsigned char *)buf)[i] = P.q[(P.qhead + i) % QCAP];
    P.qhead += n;
    work_tick(n);
    return (long)n;
}

static int t_status(void *t)
{
    (void)t;
    if (P.link == XF_XENBUS_LINK_RECONNECTING && P.reset_pending)
        P.reset_observed = true;
    return P.link;
}

static int t_reset(void *t)
{
    (void)t;
    if (!P.can_reset)
        return -XF_EOPNOTSUPP;
    /* Both streams emptied, the server's state gone. */
    drop_queue();
    P.tainted = false;
    P.link = XF_XENBUS_LINK_RECONNECTING;
    return 0;
}

static int t_wait(void *t, uint64_t deadline_ns, bool want_send)
{
    (void)t;
    (void)want_send;
    return xf_plat_wait(deadline_ns);
}

/* Resets the server started on its own (the core fails what was in flight
 * and registers the watches again when the count moves). */
static unsigned long t_resets(void *t)
{
    (void)t;
    return P.server_resets;
}

static const struct xf_xenbus_transport_ops t_ops = {
    .send = t_send, .recv = t_recv, .kick = NULL, .status = t_status,
    .reset = t_reset, .wait = t_wait, .close = NULL, .resets = t_resets,
};
#endif

/* ------------------------------------------------------------------------
 * The guest's side: what it submitted, and the checks on what it got.
 */
static struct xf_xenbus *xb;
static struct xf_evtchn *ec;
static bool seen_broken;

#define MAXA 64
struct areq {
    uint32_t id, type;
    bool done_called;
    bool live;
    bool sent;          /* the peer has read it */
    bool must_fail;     /* in flight when the server reset the connection */
};
static struct areq ar[MAXA];

static void note_sent(uint32_t id)
{
    for (unsigned i = 0; i < MAXA; i++)
        if (ar[i].live && ar[i].id == id)
            ar[i].sent = true;
}

/* The server reset the connection on its own: what it had read of ours
 * is lost, and the client must say so (fail those requests) once it sees
 * the reset, not leave them waiting for ever. */
static void server_reset(void)
{
    for (unsigned i = 0; i < MAXA; i++)
        ar[i].must_fail = ar[i].live && !ar[i].done_called && ar[i].sent;
    P.reset_pending = true;
    /* The transport's resets() counter tells the client (the ring
     * transport sees the rewritten indices). */
    P.reset_observed = true;
    P.server_resets++;
}

static void check_reset_reported(void)
{
#if FZ_TRANSPORT_RING
    bool up = intf->connection == XENSTORE_CONNECTED;
#else
    bool up = P.link == XF_XENBUS_LINK_UP;
#endif
    if (!P.reset_pending || !P.reset_observed || !up || seen_broken || P.desync)
        return;
    for (unsigned i = 0; i < MAXA; i++) {
        if (ar[i].must_fail && ar[i].live)
            FZ_CHECK(ar[i].done_called, "request %u was in flight when the server reset the "
                     "connection, and is still waiting", ar[i].id);
        ar[i].must_fail = false;
    }
    P.reset_pending = false;
}

static struct areq *areq_find(uint32_t id)
{
    for (unsigned i = 0; i < MAXA; i++)
        if (ar[i].live && ar[i].id == id)
            return &ar[i];
    return NULL;
}

static const struct sent *sent_for(uint32_t id)
{
    const struct sent *best = NULL;

    for (unsigned i = 0; i < NSENT; i++)
        if (P.sent[i].valid && P.sent[i].req_id == id &&
            (best == NULL || P.sent[i].seq > best->seq))
            best = &P.sent[i];
    return best;
}

/* A completed request's result against what the peer sent for it. */
static void check_result(uint32_t id, uint32_t type, int rc, const char *data, uint32_t len)
{
    static const struct sent none;
    const struct sent *s = sent_for(id);

    if (s == NULL && P.sent_seq > NSENT)
        return;   /* answered long ago: checked when it was delivered */
    if (s == NULL)
        s = &none;
    if (P.tainted)
        return;
    if (rc >= 0) {
        FZ_CHECK(s->valid && s->req_id == id, "reply to %u that the peer never sent", id);
        FZ_CHECK(s->type == type, "reply of type %u delivered to a request of type %u",
                 s->type, type);
        FZ_CHECK((uint32_t)rc == len && len == s->len, "reply length %u, peer sent %u", len,
                 s->len);
        FZ_CHECK(data != NULL && memcmp(data, s->payload, len) == 0 && data[len] == '\0',
                 "reply bytes differ from the peer's");
    } else if (s->valid && s->req_id == id && s->type == XS_ERROR && s->len > 0 &&
               s->payload[s->len - 1] == '\0' && strlen(s->payload) == s->len - 1 &&
               !seen_broken) {
        int want = xf_xenbus_error_from_string(s->payload, s->len - 1);

        FZ_CHECK(rc == want || rc == -XF_EPROTO || rc == -XF_EIO || rc == -XF_ENOTCONN ||
                 rc == -XF_ECONNRESET,
                 "XS_ERROR %s gave %d, expected %d", s->payload, rc, want);
    }
}

static void done_cb(struct xf_xenbus *x, uint32_t id, void *arg)
{
    struct areq *a = arg;
    const char *data;
    uint32_t len;
    int rc;

    FZ_CHECK(x == xb, "callback for another context");
    FZ_CHECK(!seen_broken, "completion callback after the connection was broken");
    FZ_CHECK(a->live && a->id == id, "callback for a request not ours (%u)", id);
    FZ_CHECK(!a->done_called, "completion callback twice for %u", id);
    a->done_called = true;
    rc = xf_xenbus_req_reply(x, id, &data, &len);
    check_result(id, a->type, rc, data, len);
}

static void watch_cb(struct xf_xenbus *x, struct xf_xenbus_watch *w, void *arg)
{
    struct gwatch *g = arg;

    (void)x;
    FZ_CHECK(!seen_broken, "watch callback after the connection was broken");
    FZ_CHECK(g->w == NULL || g->w == w || g->w == ADDING, "watch callback with the wrong watch");
}

/* Broken for good (not merely reconnecting)? Processing first, so that a
 * link error the transport reports is the context's too. */
static void note_status(void)
{
    int st;

    xf_xenbus_process(xb);
    st = xf_xenbus_status(xb);

    /* Reconnecting (-XF_ENOTCONN) and a silent link (-XF_ETIMEDOUT) may
     * still deliver; a broken one (-XF_EPROTO, -XF_EIO, ...) never. */
    if (st != 0 && st != -XF_ENOTCONN && st != -XF_ETIMEDOUT)
        seen_broken = true;
}

/* One dequeued event against what the peer sent for the token: in order,
 * with losses only behind an overflow marker. */
static void check_event(struct gwatch *g, const char *buf, size_t len, unsigned flags)
{
    TRACE("guest: event %s flags %u on %s (pos %u of %u%s)", buf, flags, g->token, g->pos,
          g->nev, g->resync ? ", resync" : "");
    FZ_CHECK(strlen(buf) == len, "event length %zu for \"%s\"", len, buf);
    if (flags & XF_XENBUS_EV_OVERFLOW) {
        FZ_CHECK(strcmp(buf, g->path) == 0, "overflow marker path %s", buf);
        g->resync = true;
        return;
    }
    if (P.tainted || g->nev >= 64) {
        g->resync = true;
        return;
    }
    if (g->resync) {
        /* Events were lost (or may have been): what comes out must still
         * be a subsequence of what was sent, in order (the earliest match
         * is the right one to test that), but need not be contiguous. */
        while (g->pos < g->nev && strcmp(g->ev[g->pos], buf) != 0)
            g->pos++;
        FZ_CHECK(g->pos < g->nev, "event %s never sent (or out of order) after a loss", buf);
    } else {
        FZ_CHECK(g->pos < g->nev && strcmp(g->ev[g->pos], buf) == 0,
                 "event %s out of order or never sent (expected %s)", buf,
                 g->pos < g->nev ? g->ev[g->pos] : "none");
    }
    g->pos++;
}

/* Dequeue from a watch and check order and bounds. */
static void drain_watch(struct gwatch *g, unsigned max)
{
    char buf[XENSTORE_ABS_PATH_MAX + 1];
    unsigned flags;
    size_t len;

    FZ_CHECK(xf_xenbus_watch_pending(g->w) <= 8 + 1, "queue over its bound: %u",
             xf_xenbus_watch_pending(g->w));
    for (unsigned k = 0; k < max; k++) {
        int rc = xf_xenbus_watch_next(xb, g->w, buf, sizeof(buf), &len, &flags);

        if (rc <= 0) {
            FZ_CHECK(rc == 0, "watch_next: %d", rc);
            return;
        }
        check_event(g, buf, len, flags);
    }
}

/* Reference parse of a decimal value as xenstore stores it. */
static bool ref_uint(const char *s, size_t n, uint64_t *v)
{
    uint64_t x = 0;

    if (n == 0 || n > 20)
        return false;
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return false;
        if (x > (UINT64_MAX - (uint64_t)(s[i] - '0')) / 10)
            return false;
        x = x * 10 + (uint64_t)(s[i] - '0');
    }
    *v = x;
    return true;
}

static uint64_t deadline(void)
{
    uint8_t d = fz_u8();

    /* 0: the context's default; else a short explicit one. */
    return d < 0x80 ? 0 : fz_now + (uint64_t)(d & 0x1f) * 1000000ull;
}

static const char *pick_path(void)
{
    return paths[fz_u8() % XF_ARRAY_SIZE(paths)];
}

static xf_xenbus_tx_t open_tx;

/* A synchronous helper is about to run: remember which answers were
 * already sent, to find the one it read. */
static unsigned long read_mark, read_req_mark;

static void mark_reads(void)
{
    read_mark = P.sent_seq;
    read_req_mark = P.read_reqs;
}

/* The XS_READ answer to the one XS_READ request the peer received since
 * mark_reads() (the helper's own), or NULL if it received none or several,
 * or answered it otherwise: then the check is skipped. */
static const struct sent *read_since_mark(void)
{
    const struct sent *found = NULL;

    if (P.tainted || P.sent_seq - read_mark > NSENT || P.read_reqs - read_req_mark != 1)
        return NULL;
    for (unsigned i = 0; i < NSENT; i++) {
        const struct sent *s = &P.sent[i];

        if (!s->valid || s->type != XS_READ || s->seq <= read_mark ||
            s->req_id != P.last_read_req)
            continue;
        if (areq_find(s->req_id) != NULL)
            continue;
        if (found != NULL)
            return NULL;
        found = s;
    }
    return found;
}

static void typed_read(uint8_t which)
{
    const char *dir = pick_path();
    const char *node = fz_bool() ? NULL : "state";
    uint64_t max = fz_bool() ? UINT64_MAX : fz_u16();
    const struct sent *s;
    int rc;

    mark_reads();
    switch (which % 4) {
    case 0: {
        uint64_t v = 0xdeadbeef, want;

        rc = xf_xenbus_read_uint(xb, open_tx, dir, node, max, &v, deadline());
        s = read_since_mark();
        if (rc == 0 && s != NULL) {
            FZ_CHECK(ref_uint(s->payload, s->len, &want) && want == v && v <= max,
                     "read_uint gave %llu for \"%s\" (max %llu)", (unsigned long long)v,
                     s->payload, (unsigned long long)max);
        } else if (rc == -XF_EINVAL && s != NULL) {
            FZ_CHECK(!ref_uint(s->payload, s->len, &want) || want > max ||
                     (s->len > 1 && s->payload[0] == '0'),
                     "read_uint refused the canonical value \"%s\"", s->payload);
        }
        break;
    }
    case 1: {
        bool dflt = fz_bool(), v = !dflt;
        uint64_t fv;

        rc = xf_xenbus_read_feature(xb, open_tx, dir, node, dflt, &v, deadline());
        s = read_since_mark();
        TRACE("guest: read_feature: %d value %d (store said \"%s\")", rc, v,
              s != NULL ? s->payload : "?");
        /* The header says "1" or "0" only; the library also takes leading
         * zeros ("01"), as Linux's strtoul-based reader does (reported; see
         * tests/fuzz/crashes/README.md). The value must still be the one
         * the digits say. */
        if (rc == 0 && s != NULL && strict)
            FZ_CHECK(s->len == 1 && s->payload[0] == (v ? '1' : '0'),
                     "read_feature gave %d for \"%s\" (FUZZ_STRICT=1: the header's contract)",
                     v, s->payload);
        if (rc == 0 && s != NULL)
            FZ_CHECK(ref_uint(s->payload, s->len, &fv) && fv == (uint64_t)v,
                     "read_feature gave %d for \"%s\"", v, s->payload);
        if (rc == 0 && s == NULL && !seen_broken)
            (void)0;   /* absent (ENOENT) gives dflt, or several reads: not checked */
        break;
    }
    case 2: {
        XenbusState st = (XenbusState)99;
        uint64_t want;

        rc = xf_xenbus_read_state(xb, open_tx, dir, &st, deadline());
        s = read_since_mark();
        if (rc == 0 && s != NULL)
            FZ_CHECK(ref_uint(s->payload, s->len, &want) && want == (uint64_t)st && want <= 8,
                     "read_state gave %d for \"%s\"", (int)st, s->payload);
        if (rc == 0)
            FZ_CHECK((unsigned)st <= 8, "read_state gave %d", (int)st);
        break;
    }
    default: {
        char buf[64];

        rc = xf_xenbus_read_str(xb, open_tx, dir, node, buf, 1 + fz_u8() % 64, deadline());
        s = read_since_mark();
        if (rc >= 0 && s != NULL)
            FZ_CHECK(strlen(buf) == s->len && memcmp(buf, s->payload, s->len) == 0,
                     "read_str gave \"%s\" for \"%s\"", buf, s->payload);
        break;
    }
    }
}

static void guest_step(void)
{
    uint8_t op = fz_u8();
    int rc;

#if FZ_DEV_ONLY
    op = (uint8_t)(20 + op % 8);
#else
    op %= 28;
#endif
    TRACE("guest step %u", op);
    switch (op) {
    case 0: case 1: { /* submit an asynchronous request */
        static const uint32_t types[] = {
            XS_READ, XS_WRITE, XS_MKDIR, XS_RM, XS_DIRECTORY, XS_GET_PERMS,
            XS_TRANSACTION_START, XS_TRANSACTION_END, XS_GET_DOMAIN_PATH, XS_DIRECTORY_PART,
            XS_SET_PERMS, XS_CONTROL, XS_INTRODUCE, XS_IS_DOMAIN_INTRODUCED,
        };
        uint32_t type = types[fz_u8() % XF_ARRAY_SIZE(types)];
        const char *p = pick_path();
        struct xf_xenbus_iov iov = { p, strlen(p) + 1 };
        struct areq *a = NULL;

        for (unsigned i = 0; i < MAXA; i++)
            if (!ar[i].live) {
                a = &ar[i];
                break;
            }
        if (a == NULL)
            break;
        a->live = true;
        a->done_called = false;
        a->sent = false;
        a->must_fail = false;
        a->type = type;
        a->id = 0;
        rc = xf_xenbus_submit(xb, type, open_tx, &iov, 1, done_cb, a, &a->id);
        TRACE("guest: submit type %u: %d id %u", type, rc, a->id);
        if (rc != 0) {
            FZ_CHECK(a->id == 0 && !a->done_called, "failed submit left an id");
            a->live = false;
        }
        break;
    }
    case 2: { /* cancel, or release, one */
        struct areq *a = &ar[fz_u8() % MAXA];

        if (!a->live)
            break;
        if (fz_bool()) {
            rc = xf_xenbus_req_cancel(xb, a->id);
            a->live = false;
        } else {
            const char *data;
            uint32_t len;

            /* Only the done test: the codes of "not yet" and "no such
             * request" are the library's to choose. */
            if (xf_xenbus_req_done(xb, a->id) == 1) {
                rc = xf_xenbus_req_reply(xb, a->id, &data, &len);
                FZ_CHECK(a->done_called, "completed without its callback");
                check_result(a->id, a->type, rc, data, len);
                FZ_CHECK(xf_xenbus_req_release(xb, a->id) == 0, "release");
                a->live = false;
            }
        }
        break;
    }
    case 3:
        xf_xenbus_process(xb);
        break;
    case 4: { /* read */
        char buf[128];
        size_t len = 0;
        size_t cap = fz_u8() % sizeof(buf);

        mark_reads();
        rc = xf_xenbus_read(xb, open_tx, pick_path(), buf, cap, &len, deadline());
        const struct sent *s = read_since_mark();
        if (rc == 0) {
            FZ_CHECK(len < cap && buf[len] == '\0', "read result not terminated");
            if (s != NULL)
                FZ_CHECK(len == s->len && memcmp(buf, s->payload, len) == 0,
                         "read gave bytes the peer did not send");
        }
        break;
    }
    case 5: {
        char v[32];
        size_t n = fz_u8() % sizeof(v);

        fz_bytes(v, n);
        (void)xf_xenbus_write(xb, open_tx, pick_path(), v, n, deadline());
        break;
    }
    case 6: {
        char buf[256];
        unsigned count = 0;
        size_t cap = fz_u8();

        rc = fz_bool() ? xf_xenbus_directory(xb, open_tx, pick_path(), buf, cap, &count,
                                             deadline())
                       : xf_xenbus_directory_part(xb, open_tx, pick_path(), buf, cap, &count,
                                                  deadline());
        if (rc >= 0) {
            unsigned c = 0;

            FZ_CHECK((size_t)rc <= cap, "directory used %d of %zu", rc, cap);
            for (int i = 0; i < rc; i++)
                c += buf[i] == '\0';
            FZ_CHECK(c == count && (rc == 0 || buf[rc - 1] == '\0'),
                     "directory: %u names, %u terminators", count, c);
        }
        break;
    }
    case 7: /* transaction */
        if (open_tx == XF_XENBUS_TX_NONE) {
            xf_xenbus_tx_t tx = 0;

            rc = xf_xenbus_transaction_start(xb, &tx, deadline());
            if (rc == 0)
                open_tx = tx;
        } else {
            (void)xf_xenbus_transaction_end(xb, open_tx, fz_bool(), deadline());
            open_tx = XF_XENBUS_TX_NONE;
        }
        break;
    case 8: case 9: { /* add a watch */
        struct gwatch *g = &gw[fz_u8() % MAXW];

        if (g->w != NULL)
            break;
        memset(g, 0, sizeof(*g));
        snprintf(g->token, sizeof(g->token), "tok%u", ++token_seq);
        snprintf(g->path, sizeof(g->path), "%s", pick_path());
        g->cb_armed = true;
        /* Events the peer sends from now on are this watch's. */
        g->w = ADDING;
        struct xf_xenbus_watch *w = NULL;
        rc = xf_xenbus_watch_add(xb, g->path, g->token, fz_bool() ? watch_cb : NULL, g, &w,
                                 deadline());
        g->w = rc == 0 ? w : NULL;
        FZ_CHECK(rc != 0 || w != NULL, "watch_add gave no watch");
        break;
    }
    case 10: { /* remove a watch */
        struct gwatch *g = &gw[fz_u8() % MAXW];

        if (g->w == NULL)
            break;
        (void)xf_xenbus_watch_remove(xb, g->w, deadline());
        g->w = NULL;
        break;
    }
    case 11: case 12: { /* take events */
        struct gwatch *g = &gw[fz_u8() % MAXW];

        if (g->w != NULL)
            drain_watch(g, fz_u8() % 16);
        break;
    }
    case 13: { /* wait for an event */
        struct gwatch *g = &gw[fz_u8() % MAXW];
        char buf[XENSTORE_ABS_PATH_MAX + 1];
        unsigned flags = 0;
        size_t len = 0;

        if (g->w != NULL) {
            rc = xf_xenbus_watch_wait(xb, g->w, buf, sizeof(buf), &len, &flags, deadline());
            if (rc == 1)
                check_event(g, buf, len, flags);
        }
        break;
    }
    case 14: { /* perms, domain path, mkdir, rm */
        char buf[128];
        unsigned count;

        switch (fz_u8() % 4) {
        case 0:
            rc = xf_xenbus_get_perms(xb, open_tx, pick_path(), buf, fz_u8() % sizeof(buf),
                                     &count, deadline());
            break;
        case 1:
            rc = xf_xenbus_get_domain_path(xb, (domid_t)fz_u16(), buf, fz_u8() % sizeof(buf),
                                           deadline());
            if (rc >= 0)
                FZ_CHECK(strlen(buf) == (size_t)rc, "domain path length");
            break;
        case 2:
            rc = xf_xenbus_mkdir(xb, open_tx, pick_path(), deadline());
            break;
        default:
            rc = xf_xenbus_rm(xb, open_tx, pick_path(), deadline());
            break;
        }
        (void)rc;
        break;
    }
    case 15: /* reconnect: also the way out of a broken connection */
        seen_broken = false;
        rc = xf_xenbus_reconnect(xb, deadline());
        if (rc != -XF_EOPNOTSUPP)
            open_tx = XF_XENBUS_TX_NONE;
        break;
    case 16:
        (void)xf_xenbus_quiesce(xb, deadline());
        break;
    case 17: { /* the status and counters */
        /* Slots, plus the abandoned ids remembered (at most 2 per slot). */
        FZ_CHECK(xf_xenbus_outstanding(xb) <= 3 * 16, "outstanding %u over the bound",
                 xf_xenbus_outstanding(xb));
        FZ_CHECK(xf_xenbus_watch_count(xb) <= MAXW, "watch count");
        break;
    }
    case 18: case 19: { /* wait for an asynchronous one */
        struct areq *a = &ar[fz_u8() % MAXA];

        if (a->live)
            (void)xf_xenbus_req_wait(xb, a->id, deadline());
        break;
    }
    /* The device helpers and typed values (all FZ_DEV_ONLY steps). */
    case 20: case 21: case 22:
        typed_read(fz_u8());
        break;
    case 23: {
        struct xf_xenbus_dev dev;

        memset(&dev, 0, sizeof(dev));
        rc = xf_xenbus_dev_init(xb, &dev, fz_bool() ? "vif" : "console", fz_bool() ? "0" : "1",
                                deadline());
        if (rc == 0) {
            FZ_CHECK(dev.backend[0] == '/' && strlen(dev.backend) < XF_XENBUS_PATH_MAX,
                     "dev_init accepted backend \"%s\"", dev.backend);
            FZ_CHECK(dev.backend_id < DOMID_FIRST_RESERVED, "backend-id %u", dev.backend_id);
            FZ_CHECK((unsigned)dev.state <= 8, "state %d", (int)dev.state);
        }
        break;
    }
    case 24: case 25: {
        struct xf_xenbus_dev dev;
        XenbusState st = (XenbusState)99;
        uint32_t mask = fz_u16() & 0x1ff;

        memset(&dev, 0, sizeof(dev));
        snprintf(dev.nodename, sizeof(dev.nodename), "device/vif/0");
        snprintf(dev.backend, sizeof(dev.backend), "/local/domain/0/backend/vif/1/0");
        dev.state = (XenbusState)(fz_u8() % 9);
        switch (fz_u8() % 4) {
        case 0:
            rc = xf_xenbus_dev_wait_backend(xb, &dev, mask, &st, deadline());
            if (rc == 0)
                FZ_CHECK((mask >> st) & 1, "wait_backend returned state %d outside mask %x",
                         (int)st, mask);
            break;
        case 1:
            rc = xf_xenbus_dev_switch(xb, &dev, (XenbusState)(fz_u8() % 9), deadline());
            break;
        case 2:
            rc = xf_xenbus_dev_connect(xb, &dev, deadline());
            break;
        default:
            /* Case 25: only the second half (Closed, wait). */
            rc = op == 25 ? xf_xenbus_dev_closed(xb, &dev, deadline())
                          : xf_xenbus_dev_close(xb, &dev, deadline());
            break;
        }
        (void)rc;
        break;
    }
    case 26: {
        char buf[128];
        unsigned count = 0;

        rc = xf_xenbus_dev_list(xb, fz_bool() ? "vif" : "console", buf, fz_u8() % sizeof(buf),
                                &count, deadline());
        (void)rc;
        break;
    }
    default: { /* reconnect a device: a failing call leaves it as it was */
        struct xf_xenbus_dev dev, before;

        memset(&dev, 0, sizeof(dev));
        snprintf(dev.nodename, sizeof(dev.nodename), "device/vif/0");
        snprintf(dev.backend, sizeof(dev.backend), "/local/domain/0/backend/vif/1/0");
        dev.backend_id = 0;
        dev.state = XenbusStateClosed;
        before = dev;
        rc = xf_xenbus_dev_reconnect(xb, &dev, deadline());
        if (rc != 0 && dev.state == before.state)
            FZ_CHECK(strcmp(dev.backend, before.backend) == 0 &&
                     dev.backend_id == before.backend_id,
                     "dev_reconnect failed (%d) but changed the device: backend %s id %u",
                     rc, dev.backend, dev.backend_id);
        break;
    }
    }
    note_status();
    check_reset_reported();
}

/* ------------------------------------------------------------------------
 * The peer's turn: a few actions from the input.
 */
static void peer_action(void)
{
    uint8_t op = fz_u8() % 16;

    TRACE("peer action %u", op);
    switch (op) {
    case 0: case 1: case 2: case 3: /* answer one */
        if (P.nreqs != 0 && !P.dead)
            answer(fz_u8() % P.nreqs, true, false);
        break;
    case 4: { /* a watch event, for a live token or not, inside its path or not */
        uint8_t w = fz_u8();
        struct gwatch *g = &gw[w % MAXW];
        const char *tok = g->w != NULL ? g->token : "tok0";
        char path[96];

        if (w & 0x80)
            tok = "nobody";
        if (w & 0x40)
            snprintf(path, sizeof(path), "%s", pick_path());
        else
            snprintf(path, sizeof(path), "%s%s", g->path[0] ? g->path : "data",
                     (w & 0x20) ? "/state" : "");
        send_event(path, tok);
        break;
    }
    case 5: { /* raw bytes */
        unsigned char b[64];
        size_t n = fz_u8() % sizeof(b);

        fz_bytes(b, n);
        q_push(b, (uint32_t)n);
        P.tainted = P.tainted || n != 0;
        break;
    }
    case 6:
        P.recv_chunk = 1 + fz_u8();
        if (P.recv_chunk > 200)
            P.recv_chunk = 4096;
        break;
    case 7:
        P.send_room = fz_u8();
        if (P.send_room > 200)
            P.send_room = 1u << 20;
        break;
    case 8: /* the link's state */
#if !FZ_TRANSPORT_RING
        switch (fz_u8() % 8) {
        case 0:
            /* A reset the server started on its own: it forgets every
             * request and empties the streams; the client may be
             * mid-message, so contents are unchecked from here. */
            P.link = XF_XENBUS_LINK_RECONNECTING;
            drop_queue();
            P.tainted = true;
            server_reset();
            break;
        case 1:
            P.link = -XF_EIO;
            break;
        default:
            if (P.link == XF_XENBUS_LINK_RECONNECTING)
                P.link = XF_XENBUS_LINK_UP;
            break;
        }
#else
        op = fz_u8() % 8;
        TRACE("peer: ring action %u (features %u connection %u req %u/%u rsp %u/%u)", op,
              intf->server_features, intf->connection, intf->req_cons, intf->req_prod,
              intf->rsp_cons, intf->rsp_prod);
        switch (op) {
        case 0:
            intf->server_features = fz_u8() & 3;
            break;
        case 1:
            intf->connection = fz_bool() ? XENSTORE_RECONNECT : XENSTORE_CONNECTED;
            break;
        case 2:
            intf->error = fz_u8() % 4;
            break;
        case 3: /* finish a reset the guest asked for, as xenstored does */
            if (intf->connection != XENSTORE_CONNECTED) {
                intf->req_cons = intf->req_prod = intf->rsp_cons = intf->rsp_prod = 0;
                drop_queue();
                P.tainted = true;
                intf->connection = XENSTORE_CONNECTED;
                server_reset();
            }
            break;
        case 4: /* a hostile index */
            switch (fz_u8() % 2) {
            case 0:
                intf->rsp_prod = intf->rsp_cons + (fz_bool() ? fz_u16() : fz_u32());
                P.tainted = true;
                break;
            default:
                intf->req_cons = intf->req_prod - (fz_bool() ? fz_u16() : fz_u32());
                P.desync = true;
                break;
            }
            break;
        default:
            break;
        }
        memcpy(intf_shadow, intf, sizeof(*intf));
#endif
        break;
    case 9:
        P.can_reset = fz_bool();
        break;
    case 10: {
        uint8_t b = fz_u8();

        P.flood = b < 0x10;
        /* 0x10..0x17: Xen starts refusing event-channel ops (the ring's
         * notifications, the upcall's unmask) and allocations: the client
         * keeps its invariants, as against a silent server. */
        if (b >= 0x10 && b < 0x18)
            fz_fault_plan(FZ_FAULT_EVT | FZ_FAULT_MEM);
        break;
    }
    case 11:
        P.dead = fz_u8() < 0x10;
        break;
    case 12: { /* an answer under an id of the input's choosing: one never
                * used, or that of a request in flight (maybe not read yet) */
        struct preq r = { .type = XS_READ, .req_id = fz_u32(), .tx_id = 0, .len = 0 };

        /* Ids 0xff...... stand for an in-flight request's (no new input
         * bytes, so older inputs keep their meaning). */
        if ((r.req_id >> 24) == 0xffu && ar[r.req_id % MAXA].live)
            r.req_id = ar[r.req_id % MAXA].id;

        if (P.nreqs < MAXREQ) {
            P.reqs[P.nreqs++] = r;
            answer(P.nreqs - 1, true, true);
        }
        break;
    }
    default: /* answer everything the honest way */
        while (P.nreqs != 0 && !P.dead)
            answer(0, fz_bool(), false);
        break;
    }
}

static void peer_turn(void)
{
    unsigned n = 1 + fz_u8() % 4;

    for (unsigned i = 0; i < n && !fz_eof(); i++)
        peer_action();
#if FZ_TRANSPORT_RING
    ring_serve();
    /* An upcall, with a budget as a kernel gives it (budget 0 would run
     * for as long as a flooding server keeps the event raised). */
    (void)xf_evtchn_dispatch(ec, 1 + fz_u8() % 8);
#endif
}

static void wait_hook(void *arg)
{
    (void)arg;
    work = 0;
    peer_turn();
}

#if FZ_TRANSPORT_RING
/* The client may write only req[], req_prod, rsp_cons, connection. */
static void check_page(void)
{
    const unsigned char *now = (const unsigned char *)intf;
    const struct xenstore_domain_interface *old = (const void *)intf_shadow;
    size_t req_lo = offsetof(struct xenstore_domain_interface, req);
    size_t req_hi = req_lo + XENSTORE_RING_SIZE;

    for (size_t i = 0; i < sizeof(*intf); i++) {
        if (i >= req_lo && i < req_hi)
            continue;
        if (i >= offsetof(struct xenstore_domain_interface, req_prod) &&
            i < offsetof(struct xenstore_domain_interface, req_prod) + 4)
            continue;
        if (i >= offsetof(struct xenstore_domain_interface, rsp_cons) &&
            i < offsetof(struct xenstore_domain_interface, rsp_cons) + 4)
            continue;
        if (i >= offsetof(struct xenstore_domain_interface, connection) &&
            i < offsetof(struct xenstore_domain_interface, connection) + 4)
            continue;
        FZ_CHECK(now[i] == intf_shadow[i], "client wrote byte %zu of the server's", i);
    }
    /* The consumer never passes the producer it was shown: its new rsp_cons
     * lies between where it was (its own last value, or the page's if it
     * took the indices again after a reset) and rsp_prod. */
    if ((uint32_t)(old->rsp_prod - lib_rsp_cons) <= XENSTORE_RING_SIZE ||
        (uint32_t)(old->rsp_prod - old->rsp_cons) <= XENSTORE_RING_SIZE)
        FZ_CHECK((uint32_t)(intf->rsp_cons - lib_rsp_cons) <=
                     (uint32_t)(old->rsp_prod - lib_rsp_cons) ||
                 (uint32_t)(intf->rsp_cons - old->rsp_cons) <=
                     (uint32_t)(old->rsp_prod - old->rsp_cons),
                 "rsp_cons %u passed rsp_prod %u (was %u, page %u)", intf->rsp_cons,
                 old->rsp_prod, lib_rsp_cons, old->rsp_cons);
    else
        FZ_CHECK(intf->rsp_cons == lib_rsp_cons || intf->rsp_cons == old->rsp_cons,
                 "consumed past a bad rsp_prod");
    lib_rsp_cons = intf->rsp_cons;
    memcpy(intf_shadow, intf, sizeof(*intf));
}
#endif

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct xf_xenbus_config cfg;
    int rc;

    fz_log_init();
    if (trace < 0) {
        const char *e = getenv("FUZZ_TRACE");

        trace = e != NULL && *e == '1';
        e = getenv("FUZZ_STRICT");
        strict = e != NULL && *e == '1';
    }
    fz_start(data, size);
    fz_plat_reset();
    memset(&P, 0, sizeof(P));
    nreplied = 0;
    memset(ar, 0, sizeof(ar));
    memset(gw, 0, sizeof(gw));
    seen_broken = false;
    open_tx = XF_XENBUS_TX_NONE;
    token_seq = 0;
    P.send_room = 1u << 20;
    P.recv_chunk = 4096;
    P.link = XF_XENBUS_LINK_UP;
    P.can_reset = true;
    fz_wait_step = 1000000ull * (1 + fz_u8());

    memset(&cfg, 0, sizeof(cfg));
    cfg.max_outstanding = 16;
    cfg.max_watches = MAXW;
    cfg.watch_queue_events = 8;
    cfg.watch_queue_bytes = 64 + fz_u8();
    cfg.timeout_ms = 30;

    struct xf_evtchn_config ecfg = { .shared_info = fz_shinfo, .vcpu = 0 };
    rc = xf_evtchn_create(&ec, &ecfg);
    FZ_CHECK(rc == 0, "evtchn_create: %d", rc);
#if FZ_TRANSPORT_RING
    intf = aligned_alloc(XF_PAGE_SIZE, XF_PAGE_SIZE);
    if (intf == NULL)
        abort();
    memset(intf, 0, XF_PAGE_SIZE);
    {
        /* Indices need not start at zero. */
        XENSTORE_RING_IDX s = fz_bool() ? fz_u32() : 0;

        intf->req_prod = intf->req_cons = s;
        intf->rsp_prod = intf->rsp_cons = s + 7;
        intf->server_features = fz_u8() & 3;
    }
    memcpy(intf_shadow, intf, sizeof(*intf));
    lib_rsp_cons = intf->rsp_cons;
    rc = xf_xenbus_create_ring(&xb, &cfg, ec, intf, STORE_PORT);
#else
    rc = xf_xenbus_create_transport(&xb, &cfg, &t_ops, NULL);
#endif
    FZ_CHECK(rc == 0, "create: %d", rc);
    fz_set_wait_hook(wait_hook, NULL);
#if FZ_TRANSPORT_RING
    fz_notify_hook = notify_hook;
#endif

    for (unsigned step = 0; step < 2000 && !fz_eof(); step++) {
        if (fz_bool())
            peer_turn();
        work = 0;
        guest_step();
#if FZ_TRANSPORT_RING
        check_page();
#endif
    }
    /* Flood after the input ended: every call still returns. */
    work = 0;
    xf_xenbus_process(xb);
    note_status();
    for (unsigned i = 0; i < MAXW; i++)
        if (gw[i].w != NULL)
            drain_watch(&gw[i], 64);
    fz_set_wait_hook(NULL, NULL);
    fz_fault_countdown = -1;
    /* destroy fails what is left with -XF_ENOTCONN, callbacks included
     * (none if the connection broke: those already ran). */
    xf_xenbus_destroy(xb);
    xb = NULL;
#if FZ_TRANSPORT_RING
    /* Creation again on the same page and port, with Xen refusing one of
     * its event-channel ops or allocations (which one from the input's
     * size, so no input byte changes meaning): it fails with a negative
     * errno holding nothing (the port not owned, no page), or works. */
    {
        unsigned bound = xf_evtchn_nr_bound(ec);
        long pages = fz_pages_live;

        fz_fault_classes = FZ_FAULT_EVT | FZ_FAULT_MEM;
        fz_fault_countdown = (long)(size % 5);
        fz_fault_repeat = -1;
        fz_fault_errno = size % 3 == 0 ? -XF_EINVAL : 0;
        intf->connection = XENSTORE_CONNECTED;
        rc = xf_xenbus_create_ring(&xb, &cfg, ec, intf, STORE_PORT);
        fz_fault_countdown = -1;
        if (rc == 0) {
            xf_xenbus_destroy(xb);
        } else {
            FZ_CHECK(xb == NULL, "failed create_ring left a context");
            FZ_CHECK(rc == -XF_ENOMEM || rc == -XF_EPROTO || fz_is_xen_error(rc),
                     "create_ring: %d", rc);
        }
        xb = NULL;
        FZ_CHECK(xf_evtchn_nr_bound(ec) == bound && fz_pages_live == pages,
                 "create_ring again: %u ports (was %u), %ld pages", xf_evtchn_nr_bound(ec), bound,
                 fz_pages_live - pages);
    }
#endif
    xf_evtchn_destroy(ec);
    ec = NULL;
#if FZ_TRANSPORT_RING
    free(intf);
    intf = NULL;
#endif
    return 0;
}
