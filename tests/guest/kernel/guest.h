/* What the cases in main.c, blk.c and net.c share: the connections made by
 * the first cases, the peer RPC, waits and the failure macros. */
#ifndef XF_GUEST_H
#define XF_GUEST_H

#include "kernel.h"

#include <xenfront/evtchn.h>
#include <xenfront/gnttab.h>
#include <xenfront/xenbus.h>

#define NS_PER_MS 1000000ull

extern struct xf_evtchn *ec;
extern struct xf_xenbus *xb;
extern struct xf_gnttab *gt;
extern domid_t self_id;
extern bool poll_mode;           /* command line xf-poll: no upcalls */

/* A case returns NULL on success or a reason, formatted into why_buf; or
 * SKIPPED (TAP "ok N - name # SKIP"). */
extern const char SKIPPED[];
extern char why_buf[128];
#define FAIL(...) do { ksnprintf(why_buf, sizeof(why_buf), __VA_ARGS__); return why_buf; } while (0)
#define CHECK(cond, ...) do { if (!(cond)) FAIL(__VA_ARGS__); } while (0)

uint64_t deadline_ms(uint64_t ms);
/* Command line word (xf-poll, xf-corrupt, ...) present. */
bool cmdline_has(const char *word);
/* The seam's wait (which dispatches events when polling). */
int kwait(uint64_t deadline);
/* A request to the dom0 peer and its answer (see dom0/xf-peer.c). */
int rpc(const char *req, char *resp, size_t cap);
/* rpc() expecting "ok..."; *rest (may be NULL) is what follows "ok ". */
const char *rpc_ok(const char *req, char *resp, size_t cap, const char **rest);

/* blk.c */
const char *case_blk_connect(void);
const char *case_blk_patterns(void);
const char *case_blk_dom0_pattern(void);
const char *case_blk_flush(void);
const char *case_blk_discard(void);
const char *case_blk_second_disk(void);
const char *case_blk_reattach(void);
const char *case_blk_close(void);

/* bench.c (command line xf-bench) */
const char *bench_main(void);

/* net.c */
const char *case_net_connect(void);
const char *case_net_small(void);
const char *case_net_jumbo(void);
const char *case_net_gso(void);
const char *case_net_ping(void);
const char *case_net_reattach(void);
const char *case_net_close(void);

#endif
