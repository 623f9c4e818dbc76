/*
 * fuzz_console: the PV console's ring (console/src/ring.c) against a back
 * end the fuzz input plays: its input ring (in[], in_prod) and its
 * consumption of our output (out_cons), written at any moment between the
 * front end's calls and inside its waits, with any value.
 *
 * A model of the four indices predicts every call, and the target checks:
 *  - input: read() and the callback hand over exactly the bytes at in[]
 *    from in_cons on, as many as in_prod validly covers (at most the
 *    caller's cap), in order, and nothing once broken; in_prod moving back
 *    or more than the ring ahead breaks the console, and only that;
 *  - output: write() places min(len, free space) bytes, each in its slot
 *    of out[], publishes out_prod and notifies; out_cons moving back or
 *    past out_prod breaks the console; everything the back end consumed is
 *    exactly the bytes written, in order (the output log);
 *  - the front end writes only out[] (where it placed bytes), out_prod and
 *    in_cons; in_cons never passes in_prod, out_prod never runs more than
 *    the ring ahead of out_cons;
 *  - write_all / flush return by their deadline however the back end moves;
 *  - no input callback after the console was seen broken.
 */
#include "fz.h"

#include <xenfront/console.h>
#include <xenfront/errno.h>
#include <xenfront/evtchn.h>

#define PORT 3u
#define OUT XF_CONSOLE_OUT_SIZE
#define IN XF_CONSOLE_IN_SIZE

static struct xencons_interface *intf;
static unsigned char shadow[sizeof(struct xencons_interface)];
static struct xf_console *con;
static struct xf_evtchn *ec;

/* The model. */
static XENCONS_RING_IDX m_out_prod, m_out_seen, m_in_cons, m_in_seen;
static bool m_broken, seen_broken, use_cb;
/* The back end wrote our indices this round (the front end must ignore
 * them); its consumption log is meaningful only while it consumed
 * validly. */
static bool scribbled, log_ok;

/* What was written (placed) and what the back end consumed, as streams. */
#define LOG (1u << 16)
static unsigned char wlog[LOG], clog_[LOG];
static uint32_t wlen, clen;

/* Input the callback received, to compare with the model's expectation. */
static unsigned char cbbuf[4 * IN];
static size_t cblen;

#define OFF(f) offsetof(struct xencons_interface, f)

static void peer_sync(void)
{
    memcpy(shadow, intf, sizeof(shadow));
}

/* The front end may have changed only out[], out_prod and in_cons. */
static void check_page(void)
{
    const unsigned char *p = (const unsigned char *)intf;

    for (size_t i = 0; i < sizeof(shadow); i++) {
        if (i >= OFF(out) && i < OFF(out) + OUT)
            continue;
        if ((i >= OFF(out_prod) && i < OFF(out_prod) + 4) ||
            (i >= OFF(in_cons) && i < OFF(in_cons) + 4))
            continue;
        FZ_CHECK(p[i] == shadow[i], "front end wrote byte %zu of the back end's", i);
    }
    if (!m_broken && !scribbled) {
        FZ_CHECK(intf->out_prod == m_out_prod, "out_prod %u, model %u", intf->out_prod,
                 m_out_prod);
        FZ_CHECK(intf->in_cons == m_in_cons, "in_cons %u, model %u", intf->in_cons, m_in_cons);
        FZ_CHECK((uint32_t)(m_out_prod - m_out_seen) <= OUT, "out_prod ran past the ring");
        FZ_CHECK((uint32_t)(m_in_seen - m_in_cons) <= IN, "in_cons passed in_prod");
    }
    peer_sync();
}

static void input_cb(struct xf_console *c, const char *buf, size_t len, void *arg)
{
    (void)arg;
    FZ_CHECK(c == con, "callback for another console");
    FZ_CHECK(!seen_broken, "input callback after the console was broken");
    FZ_CHECK(len >= 1 && len <= IN, "callback with %zu bytes", len);
    FZ_CHECK(cblen + len <= sizeof(cbbuf), "more input than the back end wrote");
    memcpy(cbbuf + cblen, buf, len);
    cblen += len;
}

/*
 * What an input call should take now (model): -XF_EPROTO, or the count
 * (up to cap), with the bytes in exp.
 */
static int model_in(size_t cap, unsigned char *exp)
{
    XENCONS_RING_IDX prod = intf->in_prod;
    uint32_t avail = prod - m_in_cons, before = m_in_seen - m_in_cons, n;

    if (m_broken)
        return -XF_EPROTO;
    if (avail > IN || avail < before)
        return -XF_EPROTO;
    m_in_seen = prod;
    n = cap < avail ? (uint32_t)cap : avail;
    for (uint32_t i = 0; i < n; i++)
        exp[i] = (unsigned char)intf->in[(m_in_cons + i) & (IN - 1)];
    return (int)n;
}

/* What a look at out_cons should find: -XF_EPROTO or the bytes in flight. */
static int model_out(void)
{
    XENCONS_RING_IDX cons = intf->out_cons;

    if (m_broken)
        return -XF_EPROTO;
    if ((uint32_t)(cons - m_out_seen) > (uint32_t)(m_out_prod - m_out_seen))
        return -XF_EPROTO;
    m_out_seen = cons;
    return (int)(m_out_prod - cons);
}

/* The back end consumes k bytes of output: log them, then move out_cons. */
static void consume(uint32_t k)
{
    XENCONS_RING_IDX c = intf->out_cons;

    for (uint32_t i = 0; i < k; i++)
        if (clen < LOG)
            clog_[clen++] = (unsigned char)intf->out[(c + i) & (OUT - 1)];
    intf->out_cons = c + k;
}

static void check_logs(void)
{
    uint32_t n = clen < wlen ? clen : wlen;

    if (!log_ok)
        return;
    FZ_CHECK(clen <= wlen || wlen >= LOG, "back end consumed %u bytes of %u written", clen,
             wlen);
    FZ_CHECK(memcmp(wlog, clog_, n) == 0, "output consumed is not the output written");
}

static void peer_action(void)
{
    uint8_t op = fz_u8();

    /* 0xf8..: Xen starts refusing event-channel ops (the console's
     * notifications, an unmask): output and input still follow the
     * model; only the back end's wake-ups are lost. */
    if (op >= 0xf8) {
        fz_fault_plan(FZ_FAULT_EVT);
        return;
    }
    switch (op % 8) {
    case 0: case 1: { /* input: bytes, then in_prod */
        uint32_t n = fz_u8() % 64;
        XENCONS_RING_IDX p = intf->in_prod;

        for (uint32_t i = 0; i < n; i++)
            intf->in[(p + i) & (IN - 1)] = (char)fz_u8();
        intf->in_prod = p + n;
        break;
    }
    case 2: /* a hostile in_prod */
        intf->in_prod = fz_bool() ? fz_u32() : m_in_cons + (XENCONS_RING_IDX)(int16_t)fz_u16();
        break;
    case 3: case 4: { /* consume output, validly */
        uint32_t pend = m_out_prod - intf->out_cons;

        if (pend <= OUT && pend != 0)
            consume(1 + fz_u16() % pend);
        break;
    }
    case 5: /* a hostile out_cons */
        intf->out_cons = fz_bool() ? fz_u32() : intf->out_cons + (XENCONS_RING_IDX)(int16_t)fz_u16();
        log_ok = false;
        break;
    case 6: /* scribble on ours: must be ignored */
        if (fz_bool())
            intf->out_prod = fz_u32();
        else
            intf->in_cons = fz_u32();
        scribbled = true;
        break;
    default: /* an event */
        fz_raise(PORT);
        break;
    }
}

/* The front end ignores what the back end writes into its own indices,
 * but the model reads the page: put ours back for the model's view. */
static void restore_ours(void)
{
    if (!m_broken) {
        intf->out_prod = m_out_prod;
        intf->in_cons = m_in_cons;
    }
}

static void wait_hook(void *arg)
{
    (void)arg;
    /* In a wait the model cannot follow each look at the page, so the
     * back end only behaves here: consume output, or send an event. */
    if (fz_bool() && !scribbled) {
        uint32_t pend = intf->out_prod - intf->out_cons;

        if (pend <= OUT && pend != 0)
            consume(1 + fz_u16() % pend);
    }
    peer_sync();
}

static void guest_step(void)
{
    unsigned char buf[4 * IN], exp[4 * IN];
    int rc, want;

    switch (fz_u8() % 8) {
    case 0: case 1: { /* write */
        size_t len = fz_u16() % (OUT + 64);
        XENCONS_RING_IDX before = m_out_prod;
        unsigned long notes = fz_notify_total;

        for (size_t i = 0; i < len; i++)
            buf[i] = (unsigned char)(wlen + i);
        want = model_out();
        rc = xf_console_write(con, buf, len);
        if (want < 0) {
            FZ_CHECK(rc == -XF_EPROTO, "write %d, model: broken", rc);
            m_broken = true;
            break;
        }
        want = (int)(len < (size_t)(OUT - (uint32_t)want) ? len : (size_t)(OUT - (uint32_t)want));
        FZ_CHECK(rc == want, "write placed %d, model %d", rc, want);
        for (int i = 0; i < rc; i++) {
            FZ_CHECK((unsigned char)intf->out[(before + (uint32_t)i) & (OUT - 1)] == buf[i],
                     "byte %d not in its slot", i);
            if (wlen < LOG)
                wlog[wlen++] = buf[i];
        }
        m_out_prod += (uint32_t)rc;
        FZ_CHECK(rc == 0 || fz_notify_total > notes, "placed output without a notify");
        break;
    }
    case 2: { /* write_all: bounded by its deadline whatever the back end does */
        size_t len = fz_u16() % (3 * OUT), written = 0;
        uint64_t dl = fz_now + (uint64_t)(1 + fz_u8()) * 1000000ull;

        for (size_t i = 0; i < len; i++)
            buf[i % sizeof(buf)] = (unsigned char)(wlen + i);
        if (len > sizeof(buf))
            len = sizeof(buf);
        (void)model_out();
        XENCONS_RING_IDX before = m_out_prod;
        rc = xf_console_write_all(con, buf, len, dl, &written);
        FZ_CHECK(rc == 0 || rc == -XF_ETIMEDOUT || rc == -XF_EPROTO, "write_all %d", rc);
        FZ_CHECK(written <= len && (rc != 0 || written == len), "write_all wrote %zu of %zu",
                 written, len);
        FZ_CHECK(rc != -XF_ETIMEDOUT || fz_now >= dl, "timed out before the deadline");
        for (size_t i = 0; i < written; i++)
            if (wlen < LOG)
                wlog[wlen++] = buf[i];
        /* The back end consumed during the waits: bring the model along. */
        m_out_prod = before + (uint32_t)written;
        if (rc == -XF_EPROTO)
            m_broken = true;
        else
            (void)model_out();
        break;
    }
    case 3: { /* flush */
        uint64_t dl = fz_now + (uint64_t)(1 + fz_u8()) * 1000000ull;

        rc = xf_console_flush(con, dl);
        FZ_CHECK(rc == 0 || rc == -XF_ETIMEDOUT || rc == -XF_EPROTO, "flush %d", rc);
        if (rc == -XF_EPROTO)
            m_broken = true;
        else
            want = model_out();
        if (rc == 0)
            FZ_CHECK(intf->out_cons == m_out_prod, "flushed with output pending");
        break;
    }
    case 4: /* out_pending */
        want = model_out();
        rc = xf_console_out_pending(con);
        FZ_CHECK(rc == want, "out_pending %d, model %d", rc, want);
        if (rc < 0)
            m_broken = true;
        break;
    case 5: { /* read (no callback) or poll (callback) */
        size_t cap = fz_u16() % (IN + 32);

        if (use_cb) {
            size_t old = cblen;

            want = model_in(IN, exp);
            rc = xf_console_poll(con);
            if (want < 0) {
                FZ_CHECK(rc == -XF_EPROTO, "poll %d, model: broken", rc);
                m_broken = true;
                break;
            }
            FZ_CHECK(rc == want && cblen - old == (size_t)want &&
                     memcmp(cbbuf + old, exp, (size_t)want) == 0,
                     "poll delivered %d (%zu bytes), model %d", rc, cblen - old, want);
            m_in_cons += (uint32_t)want;
            cblen = 0;
        } else {
            want = model_in(cap, exp);
            rc = xf_console_read(con, buf, cap);
            if (want < 0) {
                FZ_CHECK(rc == -XF_EPROTO, "read %d, model: broken", rc);
                m_broken = true;
                break;
            }
            FZ_CHECK(rc == want && memcmp(buf, exp, (size_t)want) == 0, "read %d, model %d",
                     rc, want);
            m_in_cons += (uint32_t)want;
        }
        break;
    }
    case 6: { /* the event handler, as an upcall runs it */
        size_t old = cblen;
        xen_ulong_t bit = (xen_ulong_t)1 << PORT;
        bool runs = use_cb && (fz_shinfo->evtchn_pending[0] & bit) &&
                    !(fz_shinfo->evtchn_mask[0] & bit) &&
                    fz_shinfo->vcpu_info[0].evtchn_upcall_pending;

        want = runs ? model_in(IN, exp) : 0;
        (void)xf_evtchn_dispatch(ec, 0);
        if (runs && want < 0) {
            FZ_CHECK(xf_console_status(con) == -XF_EPROTO, "handler took a bad in_prod");
            m_broken = true;
        } else if (runs) {
            FZ_CHECK(cblen - old == (size_t)want && memcmp(cbbuf + old, exp, (size_t)want) == 0,
                     "handler delivered %zu, model %d", cblen - old, want);
            m_in_cons += (uint32_t)want;
        } else {
            FZ_CHECK(cblen == old, "input delivered without an event");
        }
        cblen = 0;
        break;
    }
    default:
        rc = xf_console_status(con);
        FZ_CHECK(rc == (m_broken ? -XF_EPROTO : 0), "status %d, model broken %d", rc,
                 m_broken);
        break;
    }
    if (xf_console_status(con) == -XF_EPROTO) {
        m_broken = true;
        seen_broken = true;
    }
    check_logs();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct xf_console_config cfg = { 0 };
    struct xf_evtchn_config ecfg;
    int rc;

    fz_log_init();
    fz_start(data, size);
    fz_plat_reset();
    fz_wait_step = 1000000ull * (1 + fz_u8() % 16);
    m_broken = seen_broken = scribbled = false;
    log_ok = true;
    wlen = clen = 0;
    cblen = 0;
    use_cb = fz_bool();

    intf = aligned_alloc(XF_PAGE_SIZE, XF_PAGE_SIZE);
    if (intf == NULL)
        abort();
    memset(intf, 0, XF_PAGE_SIZE);
    /* Earlier boot stages may have left any indices. */
    {
        XENCONS_RING_IDX o = fz_bool() ? fz_u32() : 0, i = fz_bool() ? fz_u32() : 0;

        intf->out_cons = o;
        intf->out_prod = o + (fz_bool() ? fz_u16() % (OUT + 2) : 0);
        intf->in_cons = i;
        intf->in_prod = i + (fz_bool() ? fz_u16() % (IN + 2) : 0);
    }
    memset(&ecfg, 0, sizeof(ecfg));
    ecfg.shared_info = fz_shinfo;
    rc = xf_evtchn_create(&ec, &ecfg);
    FZ_CHECK(rc == 0, "evtchn: %d", rc);
    if (use_cb)
        cfg.input = input_cb;
    bool bad = (uint32_t)(intf->out_prod - intf->out_cons) > OUT ||
               (uint32_t)(intf->in_prod - intf->in_cons) > IN;
    rc = xf_console_create(&con, ec, intf, PORT, &cfg);
    if (bad) {
        FZ_CHECK(rc == -XF_EPROTO, "create on an inconsistent ring: %d", rc);
        goto out;
    }
    FZ_CHECK(rc == 0, "create: %d", rc);
    m_out_prod = intf->out_prod;
    m_out_seen = intf->out_cons;
    m_in_cons = intf->in_cons;
    m_in_seen = intf->in_prod;
    /* Output an earlier stage left is part of the stream the back end reads. */
    for (XENCONS_RING_IDX i = m_out_seen; i != m_out_prod; i++)
        wlog[wlen++] = (unsigned char)intf->out[i & (OUT - 1)];
    /* Input that was waiting may have been delivered at create. */
    cblen = 0;
    peer_sync();
    fz_set_wait_hook(wait_hook, NULL);

    for (unsigned step = 0; step < 4000 && !fz_eof(); step++) {
        if (fz_bool()) {
            peer_action();
            peer_sync();
        }
        guest_step();
        check_page();
        restore_ours();
        scribbled = false;
        peer_sync();
    }
    fz_set_wait_hook(NULL, NULL);
    fz_fault_countdown = -1;
    xf_console_destroy(con);
    con = NULL;
    /* Created again with Xen refusing one of its event-channel ops (which
     * from the input's size, so no byte changes meaning): a negative errno
     * and the port not owned, or a working console. */
    {
        unsigned bound = xf_evtchn_nr_bound(ec);

        memset(intf, 0, XF_PAGE_SIZE);
        fz_fault_classes = FZ_FAULT_EVT;
        fz_fault_countdown = (long)(size % 3);
        fz_fault_repeat = -1;
        fz_fault_errno = size % 2 ? -XF_EINVAL : 0;
        rc = xf_console_create(&con, ec, intf, PORT, NULL);
        fz_fault_countdown = -1;
        if (rc == 0) {
            xf_console_destroy(con);
        } else {
            FZ_CHECK(con == NULL && fz_is_xen_error(rc), "create with Xen refusing: %d", rc);
            FZ_CHECK(xf_evtchn_nr_bound(ec) == bound, "failed create kept the port");
        }
        con = NULL;
    }
out:
    xf_evtchn_destroy(ec);
    ec = NULL;
    free(intf);
    intf = NULL;
    return 0;
}
