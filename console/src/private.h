/*
 * console/src/private.h: the console context, shared by the ring code
 * (ring.c), which every console uses, and the XenBus code (secondary.c),
 * which only secondary consoles pull in. Nothing here is public.
 */
#ifndef XF_CONSOLE_PRIVATE_H
#define XF_CONSOLE_PRIVATE_H

#include <xenfront/console.h>
#include <xenfront/evtchn.h>
#include <xenfront/errno.h>
#include <xenfront/platform.h>

/*
 * Hooks a kind of console adds to the ring code. The ring code never
 * refers to XenBus or grant tables itself: a secondary console reaches
 * them through these pointers, so the primary console's object file has no
 * undefined symbol of libxenbus or libgnttab.
 */
struct xf_console_ops {
    /* Run by the waiting helpers (never from an event handler) after each
     * wait: may talk to xenstore. Returns 0 to keep waiting, or a negative
     * error that ends the wait. */
    int (*service)(struct xf_console *con, uint64_t deadline_ns);
};

struct xf_console {
    struct xencons_interface *intf;  /* the shared page: accessed with
                                        XF_READ_ONCE/XF_WRITE_ONCE and the
                                        xf_copy_*_shared helpers only   */
    struct xf_evtchn *ec;
    evtchn_port_t port;
    xf_console_input_fn *input;
    void *input_arg;
    const struct xf_console_ops *ops;   /* NULL for the primary console */

    /* Indices we own: kept here, only ever written to the page. */
    XENCONS_RING_IDX out_prod;
    XENCONS_RING_IDX in_cons;
    /* The back end's indices as last validated. */
    XENCONS_RING_IDX out_cons_seen;
    XENCONS_RING_IDX in_prod_seen;

    /* 0, or the sticky reason the console is unusable (-XF_EPROTO,
     * -XF_ENOTCONN); may be set from the event handler. */
    int state;

    /* Reentrancy guards (the event handler may interrupt a call on the
     * same CPU): set while a call works on that direction. */
    uint8_t out_busy;
    uint8_t in_busy;
    uint8_t in_again;   /* an interrupted input call must look again */

    /* Private copy of delivered input, valid during the callback. */
    char inbuf[XF_CONSOLE_IN_SIZE];
};

_Static_assert(sizeof(struct xf_console) <= XF_PAGE_SIZE, "the context is one page");
_Static_assert((XF_CONSOLE_OUT_SIZE & (XF_CONSOLE_OUT_SIZE - 1)) == 0,
               "the output ring size is a power of two");
_Static_assert((XF_CONSOLE_IN_SIZE & (XF_CONSOLE_IN_SIZE - 1)) == 0,
               "the input ring size is a power of two");
_Static_assert(sizeof(XENCONS_RING_IDX) == 4, "console indices are 32 bits");
_Static_assert(sizeof(struct xencons_interface) <= XF_PAGE_SIZE, "the ring fits a page");

/*
 * Take the ring at page: read the indices once, check them, start from
 * them. Sets every field except ec, port and ops; con must be zeroed.
 * 0 or -XF_EPROTO (the indices are inconsistent).
 */
int xf_console__init(struct xf_console *con, void *page,
                         const struct xf_console_config *cfg);

/* The event handler of a console port (arg: the console). */
void xf_console__handler(struct xf_evtchn *ec, evtchn_port_t port, void *arg);

/* Make the console unusable with reason err (first reason wins). */
void xf_console__fail(struct xf_console *con, int err);

#endif /* XF_CONSOLE_PRIVATE_H */
