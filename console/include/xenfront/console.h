/*
 * xenfront/console.h: the Xen PV console front end (libxfconsole.a).
 *
 * One context (struct xf_console) drives one console ring, a
 * struct xencons_interface of <xen/io/console.h>: 2048 bytes of output
 * (out[], which the guest produces: out_prod; the back end consumes:
 * out_cons) and 1024 bytes of input (in[], which the back end produces:
 * in_prod; the guest consumes: in_cons), signalled through one event
 * channel driven by libevtchn.
 *
 *  - The primary console: the page and port the domain builder made,
 *    found with xf_console_hvm_params() (HVM_PARAM_CONSOLE_PFN and
 *    HVM_PARAM_CONSOLE_EVTCHN), opened with xf_console_create(). Its back
 *    end (xenconsoled, or QEMU) maps the page by frame number.
 *  - Secondary consoles: device/console/<n> through XenBus, opened with
 *    xf_console_secondary_open() (a granted ring page, an unbound event
 *    channel, the XenBus state machine). Only in builds made with
 *    libxenbus and libgnttab: XF_CONSOLE_HAVE_SECONDARY is then defined in
 *    <xenfront/console_secondary.h>.
 *
 * Linking: the primary console, the early output and the secondary
 * (XenBus) code are separate objects of the archive. A kernel that calls
 * only the primary and early functions links no object that refers to
 * libxenbus or libgnttab, and needs only libevtchn and libxfcommon.
 *
 * Output never silently drops or spins:
 *  - xf_console_write() places what fits and says how much (0..len);
 *  - xf_console_write_all() places everything, waiting for space through
 *    xf_plat_wait(), and gives up only at the caller's deadline
 *    (-XF_ETIMEDOUT, with the count written so far). It watches the ring
 *    indices themselves after every wait, so it works whether the kernel
 *    takes upcalls or polls. Messages larger than the ring simply take
 *    several rounds.
 *
 * Input is delivered either to a callback, from the event handler (or
 * from xf_console_poll() for a kernel that takes no upcalls), or, with no
 * callback configured, pulled with xf_console_read().
 *
 * The back end is not trusted. Every index it writes (out_cons, in_prod)
 * is read exactly once per operation and checked before use:
 *  - out_cons may only move forward, and never past what the guest
 *    produced (out_prod - out_cons <= sizeof(out));
 *  - in_prod may only move forward, and never more than the ring holds
 *    ahead of in_cons (in_prod - in_cons <= sizeof(in));
 * the indices the guest owns (out_prod, in_cons) are kept privately and
 * only written to the page, never read back. Bytes are copied at index &
 * (size - 1) only, so nothing outside in[] and out[] is ever touched. A
 * violation is logged (xf_log, XF_LOG_WARN), makes the console broken for
 * good, and every later call returns -XF_EPROTO.
 *
 * Errors are negative values from <xenfront/errno.h>:
 *   -XF_EINVAL    bad argument (NULL where not allowed);
 *   -XF_EPROTO    the back end broke the protocol; the console is broken;
 *   -XF_EBUSY     a call on the same direction (output, or input) was
 *                 interrupted by this one (a nested call from the event
 *                 handler): nothing was done, try again later;
 *   -XF_ENOTCONN  a secondary console whose back end went away;
 *   -XF_ETIMEDOUT the deadline passed.
 *
 * Concurrency. A context is used by one CPU at a time; the caller
 * serialises its calls, except that the event handler (the console port's
 * handler, run by xf_evtchn_dispatch()) may interrupt any of them on the
 * same CPU. Output and input each have a reentrancy guard: a nested call
 * in the same direction returns -XF_EBUSY rather than corrupting the
 * indices (input that arrives while xf_console_read() or xf_console_poll()
 * runs is picked up by the interrupted call before it returns).
 *
 * From an event handler (including the input callback) one may call:
 * xf_console_write(), xf_console_read(), xf_console_poll(),
 * xf_console_status(), xf_console_out_pending() and xf_console_early_write()
 * (and xf_console_port(), which only reads). Never xf_console_write_all() or
 * xf_console_flush() (they wait), nor create/destroy. Each declaration
 * below says so in its "Context:" line.
 *
 * Memory: the context is one page from xf_plat_page_alloc(), allocated at
 * creation; nothing else is allocated afterwards. The library keeps no
 * global state.
 */
#ifndef XENFRONT_CONSOLE_H
#define XENFRONT_CONSOLE_H

#include <xenfront/base.h>
#include <xenfront/xen.h>
#include <xen/io/console.h>

#ifdef __cplusplus
extern "C" {
#endif

struct xf_console;
struct xf_evtchn;

/* Sizes of the two rings of struct xencons_interface. */
#define XF_CONSOLE_OUT_SIZE ((uint32_t)sizeof(((struct xencons_interface *)0)->out))
#define XF_CONSOLE_IN_SIZE  ((uint32_t)sizeof(((struct xencons_interface *)0)->in))

/*
 * Input callback: len (1..XF_CONSOLE_IN_SIZE) bytes the back end wrote,
 * already consumed from the ring (in_cons advanced, the back end told)
 * and copied into private memory that stays valid only during the call.
 * Runs from the event handler (xf_evtchn_dispatch()), from xf_console_poll()
 * or at the end of an xf_console_read() the handler interrupted; may call
 * what the event handler may (echoing with xf_console_write() is fine).
 */
typedef void xf_console_input_fn(struct xf_console *con, const char *buf, size_t len,
                                 void *arg);

struct xf_console_config {
    /* Input callback; NULL: input is pulled with xf_console_read(). */
    xf_console_input_fn *input;
    void *input_arg;
};

/* ------------------------------------------------------------------------
 * The primary console.
 */

/*
 * The primary console's frame and event channel, from HVMOP_get_param of
 * HVM_PARAM_CONSOLE_PFN and HVM_PARAM_CONSOLE_EVTCHN. The embedder maps
 * the frame (on PVH it is ordinary guest RAM: identity-mapped kernels use
 * pfn << 12) and passes its address to xf_console_create(). pfn or port
 * may be NULL.
 * Context: any: two hypercalls through xf_plat_hvm_op(), no context, no
 *   waiting (as far as the platform's hypercall allows).
 * Returns: 0, or -XF_ENOENT (Xen reports none: 0), -XF_ERANGE (a port
 *   beyond the event channel ABI), Xen's error for HVMOP_get_param.
 */
int xf_console_hvm_params(uint64_t *pfn, evtchn_port_t *port);

/*
 * Open the primary console: page is the struct xencons_interface mapped in
 * this kernel, port its event channel, which is taken into ec with
 * xf_evtchn_take() (adopted, or taken back from an earlier console that
 * was destroyed on the same ec; its handler delivers input and wakes
 * writers). The
 * ring is not reset: earlier boot stages may have used it, so its current
 * indices are taken as they are (if they are inconsistent already,
 * -XF_EPROTO and nothing is kept). cfg may be NULL (no callback). On
 * success *out is the caller's until xf_console_destroy(); page and ec
 * must outlive it.
 * Context: not from an event handler.
 * Returns: 0, or -XF_EINVAL (out, ec or page NULL; port 0), -XF_ENOMEM,
 *   -XF_EPROTO, xf_evtchn_take()'s errors.
 */
int xf_console_create(struct xf_console **out, struct xf_evtchn *ec, void *page,
                      evtchn_port_t port, const struct xf_console_config *cfg) XF_MUST_CHECK;

/*
 * Destroy a console opened with xf_console_create() (a secondary console
 * is refused, logged: use xf_console_secondary_close()): the port is
 * released (xf_evtchn_release(): masked, no handler) but left bound and
 * owned by ec, because the domain builder bound it and closing it would cut
 * the domain off its console for good. A later xf_console_create() on the
 * same ec and port takes it back. Output not yet consumed stays in the ring
 * for the back end. NULL is ignored.
 * Context: not from an event handler.
 * Returns: nothing (a refusal is only logged).
 */
void xf_console_destroy(struct xf_console *con);

/* ------------------------------------------------------------------------
 * Output.
 */

/*
 * Place up to len bytes in the output ring without waiting, then notify
 * the back end if anything was placed.
 * Context: any (event-handler safe).
 * Returns: the number placed (0..len; 0 when the ring is full or len is
 *   0), or -XF_EINVAL (con NULL, or buf NULL with len > 0), -XF_EPROTO
 *   (broken, now or before), -XF_ENOTCONN (secondary console closed),
 *   -XF_EBUSY (interrupted another write).
 */
int xf_console_write(struct xf_console *con, const void *buf, size_t len);

/*
 * Write all len bytes, in order: place what fits, notify, and while the
 * ring is full wait with xf_plat_wait(deadline_ns) and look at the ring
 * again. *written (may be NULL) is set to the bytes placed in every case.
 * The deadline is honoured even if the back end never moves.
 * Context: not from an event handler (it waits).
 * Returns: 0 when all were placed (the back end may not have consumed them
 *   yet: see xf_console_flush()), -XF_ETIMEDOUT when deadline_ns
 *   (xf_plat_now_ns() clock) passes first, or xf_console_write()'s errors.
 */
int xf_console_write_all(struct xf_console *con, const void *buf, size_t len,
                         uint64_t deadline_ns, size_t *written);

/*
 * Wait until the back end has consumed every byte written (out_cons ==
 * out_prod): for a kernel about to shut down.
 * Context: not from an event handler (it waits).
 * Returns: 0, -XF_ETIMEDOUT, -XF_EPROTO, -XF_ENOTCONN, -XF_EINVAL.
 */
int xf_console_flush(struct xf_console *con, uint64_t deadline_ns);

/* Bytes written but not yet consumed by the back end (checked as every
 * index is).
 * Context: any (event-handler safe).
 * Returns: the count (>= 0), or -XF_EPROTO if broken, -XF_ENOTCONN
 *   (secondary console closed), -XF_EBUSY (interrupted an output call),
 *   -XF_EINVAL. */
int xf_console_out_pending(struct xf_console *con);

/* ------------------------------------------------------------------------
 * Input.
 */

/*
 * Copy up to cap bytes of input into buf and consume them (notifying the
 * back end that there is room). Never blocks.
 * Context: any (event-handler safe).
 * Returns: the bytes copied (0: none waiting), or -XF_EINVAL (con NULL,
 *   buf NULL with cap > 0, or a console configured with an input
 *   callback: input goes there), -XF_EPROTO, -XF_ENOTCONN (secondary
 *   console closed), -XF_EBUSY (interrupted another input call).
 */
int xf_console_read(struct xf_console *con, void *buf, size_t cap);

/*
 * The event handler's body, for kernels that take no upcalls (call it from
 * the polling loop; it is harmless when upcalls are taken too): clear the
 * console port's pending bit and deliver waiting input to the callback
 * (none configured: input stays for xf_console_read()).
 * Context: any (event-handler safe).
 * Returns: the bytes delivered (>= 0), or -XF_EINVAL, -XF_EPROTO,
 *   -XF_EBUSY (nested in another input call: the outer call delivers),
 *   -XF_ENOTCONN.
 */
int xf_console_poll(struct xf_console *con);

/* ------------------------------------------------------------------------
 * State.
 */

/* The console's state.
 * Context: any (event-handler safe).
 * Returns: 0 while usable; -XF_EPROTO once broken; -XF_ENOTCONN for a
 *   secondary console whose back end closed; -XF_EINVAL for NULL. */
int xf_console_status(const struct xf_console *con);

/* The console's event channel port.
 * Context: any (it only reads).
 * Returns: the port; 0 for NULL. */
evtchn_port_t xf_console_port(const struct xf_console *con);

/* ------------------------------------------------------------------------
 * Early output, before any ring is up (no context, no memory, no event
 * channel). The fallback order:
 *
 *   1. HYPERVISOR_console_io(CONSOLEIO_write) through xf_plat_console_io():
 *      the hypervisor's own console. Debug builds of Xen accept it from any
 *      domain; release builds refuse it to domUs with -EPERM (and a
 *      platform without the hypercall says -ENOSYS).
 *   2. The embedder's hook, e.g. a write to I/O port 0xE9 (Xen's debug port
 *      for HVM/PVH guests, printed by Xen as "(dN) text" with
 *      guest_loglvl=all; xf_console_early_port_e9() on x86), a UART, or a
 *      firmware console.
 *
 * Once the hypercall has been refused, later calls go straight to the
 * hook (the answer is remembered in struct xf_console_early, which the
 * embedder owns: no global state). Everything is attempted exactly once:
 * no retries, no waiting.
 */

/* The embedder's output hook: write len bytes somewhere; return what was
 * written (len for a sink that never refuses) or a negative error. */
typedef long xf_console_early_fn(void *arg, const char *buf, size_t len);

struct xf_console_early {
    xf_console_early_fn *hook;   /* NULL: no fallback */
    void *hook_arg;
    /* Private: 0 not yet tried, 1 the hypercall works, or the refusal
     * (-XF_EPERM, -XF_ENOSYS) once it was refused. */
    int hypercall_state;
};

#define XF_CONSOLE_EARLY_INIT(hook_, arg_) \
    { .hook = (hook_), .hook_arg = (arg_), .hypercall_state = 0 }

/*
 * Write len bytes by the fallback order above.
 * Context: any, including event handlers and exception handlers, as far as
 *   the platform's console_io and the hook allow.
 * Returns: the bytes written (len when a sink took everything), or
 *   -XF_EINVAL (e NULL, buf NULL with len > 0), or, when neither sink is
 *   available, the hypercall's refusal (-XF_EPERM / -XF_ENOSYS); a hook's
 *   own error is returned as it is.
 */
long xf_console_early_write(struct xf_console_early *e, const char *buf, size_t len);

#if defined(__x86_64__) || defined(__i386__)
/*
 * A ready hook for x86: each byte to I/O port 0xE9 with outb. Only in a
 * kernel (ring 0, or with I/O permission): in a host process it faults.
 * arg is unused.
 * Context: any (as xf_console_early_write(), whose hook it is).
 * Returns: len.
 */
long xf_console_early_port_e9(void *arg, const char *buf, size_t len);
#endif

#ifdef __cplusplus
}
#endif

#endif /* XENFRONT_CONSOLE_H */
