/*
 * tests/fuzz/fz.h: what every fuzz target shares.
 *
 * The fuzz input plays the peer (a back end, xenstored, Xen pinning grant
 * entries): fz_* readers take bytes from it in order, and return zeros once
 * it is used up, so every input is a complete, terminating scenario.
 *
 * The targets link fz_plat.c instead of the Xen simulator: a platform seam
 * whose clock only moves when a library waits, whose waits hand the turn to
 * the peer (fz_set_wait_hook), and whose hypercalls do just what the
 * libraries need of them. It is deterministic and costs nothing per run,
 * which is what a fuzzer needs (the simulator's files and locks would cost
 * more than the code under test).
 *
 * FZ_CHECK(cond, ...) is a library invariant: on failure it prints the
 * message and aborts, which libFuzzer reports as a crash with the input.
 */
#ifndef XF_FUZZ_FZ_H
#define XF_FUZZ_FZ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <xenfront/platform.h>

#define FZ_CHECK(cond, ...)                                                       \
    do {                                                                          \
        if (!(cond)) {                                                            \
            fprintf(stderr, "fuzz invariant broken at %s:%d: %s: ", __FILE__,     \
                    __LINE__, #cond);                                             \
            fprintf(stderr, __VA_ARGS__);                                         \
            fputc('\n', stderr);                                                  \
            abort();                                                              \
        }                                                                         \
    } while (0)

/* ------------------------------------------------------------------------
 * The input.
 */
struct fz_in {
    const uint8_t *d;
    size_t n;
    size_t off;
};

extern struct fz_in fz_in;

static inline void fz_start(const uint8_t *d, size_t n)
{
    fz_in.d = d;
    fz_in.n = n;
    fz_in.off = 0;
}

static inline bool fz_eof(void)
{
    return fz_in.off >= fz_in.n;
}

static inline size_t fz_left(void)
{
    return fz_in.n - fz_in.off;
}

static inline uint8_t fz_u8(void)
{
    return fz_in.off < fz_in.n ? fz_in.d[fz_in.off++] : 0;
}

static inline uint16_t fz_u16(void)
{
    uint16_t v = fz_u8();

    return (uint16_t)(v | (uint16_t)fz_u8() << 8);
}

static inline uint32_t fz_u32(void)
{
    uint32_t v = fz_u16();

    return v | (uint32_t)fz_u16() << 16;
}

static inline bool fz_bool(void)
{
    return fz_u8() & 1;
}

/* Up to n bytes of input copied into dst; returns how many (the rest of dst
 * is zeroed so a short input still gives defined bytes). */
static inline size_t fz_bytes(void *dst, size_t n)
{
    size_t k = fz_left() < n ? fz_left() : n;

    memcpy(dst, fz_in.d + fz_in.off, k);
    memset((uint8_t *)dst + k, 0, n - k);
    fz_in.off += k;
    return k;
}

/* ------------------------------------------------------------------------
 * The platform seam (fz_plat.c).
 */

/* Called inside xf_plat_wait(): the peer's turn. */
typedef void fz_wait_hook_fn(void *arg);
void fz_set_wait_hook(fz_wait_hook_fn *fn, void *arg);

/* Reset the seam between runs: clock to a fixed origin, counters to 0. */
void fz_plat_reset(void);

/* The fake clock, how much each wait moves it (ns; 0: to the deadline),
 * and how much each reading does (work takes time); readings so far. */
extern uint64_t fz_now;
extern uint64_t fz_wait_step;
extern uint64_t fz_now_tick;
extern unsigned long fz_clock_reads;
/* Calls of xf_plat_wait() in this run, and a cap after which every wait
 * jumps to its deadline (a run must end whatever the library does). */
extern unsigned long fz_waits;
extern unsigned long fz_wait_cap;

/* EVTCHNOP_send calls per port (ports below 64), and all. */
extern unsigned long fz_notifies[64];
extern unsigned long fz_notify_total;

/* The shared_info page the targets give libevtchn (zeroed per run). */
extern shared_info_t *fz_shinfo;

/* Raise an event on port as Xen does (pending, then selector and upcall if
 * unmasked). */
void fz_raise(unsigned int port);

/* HVM params the seam reports (index < 64). */
extern uint64_t fz_hvm_params[64];

/* Grant table size the seam reports (query_size). */
extern uint32_t fz_gnt_nr_frames, fz_gnt_max_frames;

/* Called when a library maps a Xen page (shared_info, a grant-table frame)
 * over one of its pages with add_to_physmap: va is that page, as Xen would
 * then show it (the hook may fill it, as the frame's old contents). */
typedef void fz_physmap_hook_fn(void *va, unsigned int space, xen_ulong_t idx);
extern fz_physmap_hook_fn *fz_physmap_hook;

/* Called at every EVTCHNOP_send (the library notified its peer): a peer
 * that answers at once acts here. */
typedef void fz_notify_hook_fn(unsigned int port);
extern fz_notify_hook_fn *fz_notify_hook;

/* Fault injection (fz_plat.c): the fz_fault_countdown-th fallible
 * operation from now, of the classes in fz_fault_classes, fails; -1 (the
 * default at each reset) for none. After a failure the countdown starts
 * again from fz_fault_repeat (-1, the default: no more failures; 0: every
 * later one fails too, a Xen that keeps refusing). A failing hypercall
 * returns fz_fault_errno (a negative errno, as Xen's are), or, if 0, the
 * error that operation usually gives. fz_faults counts the failures,
 * fz_faults_of[] per class (bit index).
 *   FZ_FAULT_MEM: page allocation, add/remove_from_physmap, populate_physmap
 *   FZ_FAULT_GNT: grant-table query_size, set_version, get_version,
 *                 map/unmap/copy (the whole call, or per-operation status)
 *   FZ_FAULT_EVT: every event-channel op (alloc_unbound, bind_*, send,
 *                 unmask, close, status, bind_vcpu)
 * The default classes are MEM|GNT, so inputs written before the EVT class
 * existed keep their meaning. */
#define FZ_FAULT_MEM 1u
#define FZ_FAULT_GNT 2u
#define FZ_FAULT_EVT 4u
#define FZ_FAULT_ALL 7u
extern long fz_fault_countdown;
extern long fz_fault_repeat;
extern unsigned fz_fault_classes;
extern int fz_fault_errno;
extern unsigned long fz_faults;
extern unsigned long fz_faults_of[3];

/* Arm a fault plan from the input (4 bytes): whether, which classes of
 * `allowed`, the countdown, whether it repeats, the error. A plan with no
 * class of `allowed` left disarms. */
void fz_fault_plan(unsigned allowed);

/* Nonzero while fault injection is armed (a countdown is running). */
static inline bool fz_fault_armed(void)
{
    return fz_fault_countdown >= 0;
}

/* Is rc one of the errors a failing hypercall of the seam can give? */
bool fz_is_xen_error(long rc);

/* Xen misbehaving on event channels (reset: 0 each): the port the next
 * bind or alloc_unbound returns (0: a fresh one; one-shot), and what
 * EVTCHNOP_status says of any port: fz_status_kind 0 interdomain, 1
 * unbound, 2 closed, 3 virq, 4 ipi, 5 pirq; on vCPU fz_status_vcpu. */
extern uint32_t fz_next_port;
extern unsigned fz_status_kind, fz_status_vcpu;

/* Pages allocated by xf_plat_page_alloc and not freed. */
extern long fz_pages_live;

/* Depth of xf_plat_irq_save() nesting: 0 between library calls. */
extern long fz_irq_depth;

/* Silence or show library logs (FUZZ_LOG=1 in the environment shows). */
void fz_log_init(void);

#endif /* XF_FUZZ_FZ_H */
