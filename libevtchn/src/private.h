/*
 * libevtchn internals: the context and the bit operations on the 2-level
 * words of shared_info.
 */
#ifndef XF_EVTCHN_PRIVATE_H
#define XF_EVTCHN_PRIVATE_H

#include <xenfront/base.h>
#include <xenfront/xen.h>
#include <xenfront/errno.h>
#include <xenfront/platform.h>
#include <xenfront/barrier.h>
#include <xenfront/evtchn.h>

/* Bits per 2-level word; the selector has one bit per word, so there are as
 * many words as bits in a word (64 x 64 ports on 64-bit). */
#define EV_BITS   ((unsigned)(sizeof(xen_ulong_t) * 8))
#define EV_WORDS  ((unsigned)(XF_EVTCHN_NR_PORTS / EV_BITS))
#define EV_WORD(p) ((unsigned)(p) / EV_BITS)
#define EV_MASK(p) ((xen_ulong_t)1 << ((unsigned)(p) % EV_BITS))

_Static_assert(EV_WORDS == EV_BITS, "2-level: one selector bit per word");
_Static_assert(sizeof(((shared_info_t *)0)->evtchn_pending) ==
               XF_EVTCHN_NR_PORTS / 8, "evtchn_pending covers every port");
_Static_assert(sizeof(((shared_info_t *)0)->evtchn_mask) ==
               XF_EVTCHN_NR_PORTS / 8, "evtchn_mask covers every port");
_Static_assert(sizeof(((vcpu_info_t *)0)->evtchn_pending_sel) == sizeof(xen_ulong_t),
               "the selector is one word");
_Static_assert(sizeof(xen_ulong_t) <= sizeof(unsigned long long), "ctz width");

struct xf_evtchn_slot {
    xf_evtchn_handler_fn *fn;
    void *arg;
};

struct xf_evtchn {
    shared_info_t *shinfo;
    vcpu_info_t *vi;              /* &shinfo->vcpu_info[vcpu] */
    uint32_t vcpu;
    bool own_shinfo;              /* we mapped it (and unmap it) */
    bool in_dispatch;             /* nesting guard */
    size_t npages;                /* of this allocation (context + slots) */
    /*
     * Ports bound through this context, and the subset with a handler (what
     * dispatch serves). Only this context writes them; dispatch reads them
     * with acquire loads, and writers publish a slot before its active bit.
     */
    xen_ulong_t owned[EV_WORDS];
    xen_ulong_t active[EV_WORDS];
    unsigned int nr_owned;
    /* Where the next scan starts: the port after the last one served. */
    uint32_t resume;
    struct xf_evtchn_slot *slots; /* XF_EVTCHN_NR_PORTS entries */
};

/* Atomics on words Xen (or the simulator's other threads) write too. */
#define EV_LOAD(p)        __atomic_load_n((p), __ATOMIC_SEQ_CST)
#define EV_OR(p, v)       __atomic_fetch_or((p), (v), __ATOMIC_SEQ_CST)
#define EV_AND(p, v)      __atomic_fetch_and((p), (v), __ATOMIC_SEQ_CST)
#define EV_STORE(p, v)    __atomic_store_n((p), (v), __ATOMIC_SEQ_CST)
#define EV_XCHG(p, v)     __atomic_exchange_n((p), (v), __ATOMIC_SEQ_CST)
/* Our own bitmaps: only this CPU writes; ordering against dispatch. */
#define EV_OWN_LOAD(p)    __atomic_load_n((p), __ATOMIC_ACQUIRE)
#define EV_OWN_OR(p, v)   __atomic_fetch_or((p), (v), __ATOMIC_RELEASE)
#define EV_OWN_AND(p, v)  __atomic_fetch_and((p), (v), __ATOMIC_RELEASE)

static inline bool ev_port_ok(evtchn_port_t port)
{
    return port != 0 && port < XF_EVTCHN_NR_PORTS;
}

static inline bool ev_owned(const struct xf_evtchn *ec, evtchn_port_t port)
{
    return (EV_OWN_LOAD(&ec->owned[EV_WORD(port)]) & EV_MASK(port)) != 0;
}

/* The checks every port function starts with. */
static inline int ev_check(const struct xf_evtchn *ec, evtchn_port_t port)
{
    if (ec == NULL || !ev_port_ok(port))
        return -XF_EINVAL;
    if (!ev_owned(ec, port))
        return -XF_ENOTCONN;
    return 0;
}

static inline void ev_mask_bit(struct xf_evtchn *ec, evtchn_port_t port)
{
    EV_OR(&ec->shinfo->evtchn_mask[EV_WORD(port)], EV_MASK(port));
}

static inline bool ev_test_masked(const struct xf_evtchn *ec, evtchn_port_t port)
{
    return (EV_LOAD(&ec->shinfo->evtchn_mask[EV_WORD(port)]) & EV_MASK(port)) != 0;
}

static inline bool ev_test_pending(const struct xf_evtchn *ec, evtchn_port_t port)
{
    return (EV_LOAD(&ec->shinfo->evtchn_pending[EV_WORD(port)]) & EV_MASK(port)) != 0;
}

/* Internal functions are global in the archive: they carry the prefix. */

/* bind.c: make a port Xen just gave us ours (masked, handler installed,
 * unmasked if there is a handler). */
void xf_evtchn__record(struct xf_evtchn *ec, evtchn_port_t port, xf_evtchn_handler_fn *fn, void *arg);

/* port.c: the unmask with its race handled (no ownership check). */
int xf_evtchn__unmask(struct xf_evtchn *ec, evtchn_port_t port);

#endif /* XF_EVTCHN_PRIVATE_H */
