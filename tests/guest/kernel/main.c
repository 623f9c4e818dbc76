/*
 * The xenfront in-guest test kernel: a PVH guest that links the freestanding
 * archives (libxfcommon, libevtchn, libgnttab, libxenbus, libconsole) and
 * the PVH seam (libxfpvh), runs its cases against the real Xen, xenstored,
 * xenconsoled and a dom0 peer (tests/guest/dom0/xf-peer.c), prints TAP on
 * port 0xE9 and the PV console, and powers the domain off.
 *
 * The peer is driven through xenstore: the guest writes data/xf/req-<n> =
 * "<command> <args>", the peer answers data/xf/resp-<n> = "ok ..." (or an
 * error word); the guest waits for the answer with a watch.
 */
#include "kernel.h"
#include "guest.h"

#include <xenfront/console.h>
#include <xenfront/errno.h>
#include <xenfront/evtchn.h>
#include <xenfront/gnttab.h>
#include <xenfront/platform.h>
#include <xenfront/pvh.h>
#include <xenfront/xenbus.h>

#define UPCALL_VECTOR 0xf3
#define SPURIOUS_VECTOR 0xff
#define IDENTITY_LIMIT (4ull << 30)

extern char _end[];
extern char isr_stubs[];

void kernel_main(uint32_t start_info_pa);
struct trap_frame;
void kernel_trap(struct trap_frame *f);

/* ------------------------------------------------------------------------
 * Interrupts.
 */
struct trap_frame {
    uint64_t r15, r14, r13, r12, r11, r10, r9, r8;
    uint64_t rdi, rsi, rbp, rbx, rdx, rcx, rax;
    uint64_t vector, error;
    uint64_t rip, cs, rflags, rsp, ss;
};

struct idt_gate {
    uint16_t off_lo, sel;
    uint8_t ist, attr;
    uint16_t off_mid;
    uint32_t off_hi, zero;
} __attribute__((packed));

static struct idt_gate idt[256] __attribute__((aligned(16)));

struct xf_evtchn *ec;
static volatile uint64_t nr_upcalls;
/* Diagnostics from the command line (XF_GUEST_CMDLINE): xf-no-eoi skips
 * the LAPIC EOI, xf-callback-via uses the domain-wide callback vector. */
static bool no_eoi;

static void idt_init(void)
{
    for (unsigned v = 0; v < 256; v++) {
        uint64_t a = (uintptr_t)isr_stubs + 16u * v;
        idt[v] = (struct idt_gate){
            .off_lo = (uint16_t)a, .sel = 0x08, .ist = 0, .attr = 0x8e,
            .off_mid = (uint16_t)(a >> 16), .off_hi = (uint32_t)(a >> 32), .zero = 0,
        };
    }
    struct {
        uint16_t limit;
        uint64_t base;
    } __attribute__((packed)) d = { sizeof(idt) - 1, (uintptr_t)idt };
    __asm__ volatile("lidt %0" : : "m"(d));
}

void kernel_trap(struct trap_frame *f)
{
    if (f->vector == UPCALL_VECTOR) {
        nr_upcalls++;
        xf_pvh_upcall_seen();
        if (!no_eoi)
            xf_pvh_lapic_eoi();
        if (ec)
            (void)xf_evtchn_dispatch(ec, 0);
        return;
    }
    if (f->vector == SPURIOUS_VECTOR)
        return;
    uint64_t cr2;
    __asm__ volatile("mov %%cr2, %0" : "=r"(cr2));
    char buf[160];
    int n = ksnprintf(buf, sizeof(buf),
                      "PANIC: vector %lu error %lx rip %lx rsp %lx cr2 %lx\n",
                      (unsigned long)f->vector, (unsigned long)f->error,
                      (unsigned long)f->rip, (unsigned long)f->rsp, (unsigned long)cr2);
    xf_pvh_debug_write(buf, (size_t)n);
    xf_pvh_shutdown(SHUTDOWN_crash);
}

/* Library log messages, as TAP comments, on port 0xE9 only (the hook may
 * run in the event handler, where the console may not wait). */
static void log_hook(void *arg, enum xf_log_level level, const char *fmt, va_list ap)
{
    (void)arg;
    char buf[200];
    int n = ksnprintf(buf, sizeof(buf), "# xf log %d: ", (int)level);
    if (n > 0 && (size_t)n < sizeof(buf))
        n += kvsnprintf(buf + n, sizeof(buf) - (size_t)n, fmt, ap);
    if (n > (int)sizeof(buf) - 2)
        n = (int)sizeof(buf) - 2;
    buf[n++] = '\n';
    xf_pvh_debug_write(buf, (size_t)n);
}

/* ------------------------------------------------------------------------
 * TAP.
 */
#define NR_CASES 39
static unsigned case_no;
static unsigned nr_failed;

static void tap(bool ok, const char *name, const char *why)
{
    case_no++;
    if (!ok && why == SKIPPED) {
        kprintf("ok %u - %s # SKIP\n", case_no, name);
        return;
    }
    if (!ok)
        nr_failed++;
    if (ok)
        kprintf("ok %u - %s\n", case_no, name);
    else
        kprintf("not ok %u - %s # %s\n", case_no, name, why ? why : "failed");
}

/* Each case body returns NULL on success or a reason (FAIL, CHECK: guest.h). */
char why_buf[128];
const char SKIPPED[] = "skipped";

uint64_t deadline_ms(uint64_t ms)
{
    return xf_plat_now_ns() + ms * NS_PER_MS;
}

/* ------------------------------------------------------------------------
 * Shared state of the cases.
 */
static struct xf_console *con;
struct xf_xenbus *xb;
struct xf_gnttab *gt;
domid_t self_id;
static volatile uint64_t timer_events;

static void timer_handler(struct xf_evtchn *e, evtchn_port_t port, void *arg)
{
    (void)e;
    (void)port;
    (void)arg;
    timer_events++;
}

/* ------------------------------------------------------------------------
 * The dom0 peer, through xenstore.
 */
static unsigned rpc_seq;

int rpc(const char *req, char *resp, size_t cap)
{
    char req_path[64], resp_path[64], token[32];
    struct xf_xenbus_watch *w;
    uint64_t dl = deadline_ms(15000);
    int rc;

    rpc_seq++;
    ksnprintf(req_path, sizeof(req_path), "data/xf/req-%u", rpc_seq);
    ksnprintf(resp_path, sizeof(resp_path), "data/xf/resp-%u", rpc_seq);
    ksnprintf(token, sizeof(token), "rpc-%u", rpc_seq);
    rc = xf_xenbus_watch_add(xb, resp_path, token, NULL, NULL, &w, dl);
    if (rc < 0)
        return rc;
    rc = xf_xenbus_write(xb, XF_XENBUS_TX_NONE, req_path, req, strlen(req), dl);
    while (rc >= 0) {
        rc = xf_xenbus_read(xb, XF_XENBUS_TX_NONE, resp_path, resp, cap, NULL, dl);
        if (rc != -XF_ENOENT)
            break;
        char ev[64];
        rc = xf_xenbus_watch_wait(xb, w, ev, sizeof(ev), NULL, NULL, dl);
    }
    (void)xf_xenbus_watch_remove(xb, w, deadline_ms(5000));
    return rc < 0 ? rc : 0;
}

/* rpc() that expects "ok..."; the rest of the answer after "ok " in rest. */
const char *rpc_ok(const char *req, char *resp, size_t cap, const char **rest)
{
    int rc = rpc(req, resp, cap);
    if (rc < 0)
        FAIL("rpc '%s': %d", req, rc);
    if (kstrncmp(resp, "ok", 2) != 0)
        FAIL("peer answered '%s' to '%s'", resp, req);
    if (rest)
        *rest = resp[2] == ' ' ? resp + 3 : resp + 2;
    return NULL;
}

/* ------------------------------------------------------------------------
 * The cases.
 */

/* The runner's own check (run.sh with XF_GUEST_CMDLINE=xf-fail-one): the
 * guest reports the first case failed, and the runner must fail. */
bool cmdline_has(const char *word)
{
    const struct hvm_start_info *si = xf_pvh_start_info();
    if (!si->cmdline_paddr)
        return false;
    return kstrstr((const char *)(uintptr_t)si->cmdline_paddr, word) != NULL;
}

static const char *case_pvh(void)
{
    struct xf_pvh_info in;
    CHECK(!cmdline_has("xf-fail-one"), "failed on request (xf-fail-one)");
    xf_pvh_get_info(&in);
    kprintf("# xen %u.%u, cpuid base %x, hypercall msr %x, start_info v%u\n",
            in.xen_version >> 16, in.xen_version & 0xffff, in.cpuid_base,
            in.hypercall_msr, in.start_info_version);
    kprintf("# ram %lu KiB in %u map entries, heap %lx +%lu pages (%lu free)\n",
            (unsigned long)(in.ram_bytes >> 10), in.memmap_entries,
            (unsigned long)in.heap_start, (unsigned long)in.heap_pages,
            (unsigned long)in.heap_free);
    kprintf("# foreign range gfn %lx +%lu pages\n", (unsigned long)in.foreign_gfn,
            (unsigned long)in.foreign_pages);
    CHECK(in.xen_version >> 16 == 4, "xen version %x", in.xen_version);
    CHECK(in.ram_bytes > 0 && in.heap_free > 0, "no RAM");
    CHECK(in.foreign_pages > 0, "no foreign range");
    xen_domain_handle_t h;
    CHECK(xf_plat_xen_version(XENVER_guest_handle, &h) == 0, "XENVER_guest_handle");
    void *p = xf_plat_page_alloc(3);
    CHECK(p && ((uintptr_t)p & 4095) == 0, "page_alloc");
    CHECK(xf_plat_virt_to_gfn(p) == (uintptr_t)p >> 12, "virt_to_gfn");
    xf_plat_page_free(p, 3);
    return NULL;
}

/* Polling kernel (command line xf-poll): no upcall vector, interrupts
 * off; the kernel dispatches events from its own loops (kwait) and the seam
 * waits with SCHEDOP_poll. */
bool poll_mode;
static volatile uint64_t ipi_events;

static void ipi_handler(struct xf_evtchn *e, evtchn_port_t port, void *arg)
{
    (void)e;
    (void)port;
    (void)arg;
    ipi_events++;
}

/* A polling kernel's dispatcher, run by the seam's wait (the poll hook):
 * the libraries' own waits then see their events too. */
static int poll_dispatch(void *arg)
{
    return xf_evtchn_dispatch(arg, 64);
}

/* The kernel's own wait: the seam's, which dispatches when polling. */
int kwait(uint64_t deadline)
{
    return xf_plat_wait(deadline);
}

static const char *case_evtchn_upcall(void)
{
    struct xf_evtchn_config cfg = { .shared_info = xf_pvh_shared_info(), .vcpu = 0 };
    evtchn_port_t port;
    int rc = xf_evtchn_create(&ec, &cfg);
    CHECK(rc == 0, "xf_evtchn_create %d", rc);
    if (poll_mode)
        xf_pvh_set_poll_hook(poll_dispatch, ec);
    if (!poll_mode) {
        xf_pvh_lapic_enable(SPURIOUS_VECTOR);
        no_eoi = cmdline_has("xf-no-eoi");
        rc = xf_evtchn_upcall_setup(ec, cmdline_has("xf-callback-via") ?
                                    XF_EVTCHN_UPCALL_CALLBACK_VECTOR : XF_EVTCHN_UPCALL_AUTO,
                                    UPCALL_VECTOR);
        CHECK(rc == 0, "upcall_setup %d", rc);
        __asm__ volatile("sti");
        rc = xf_evtchn_bind_virq(ec, VIRQ_TIMER, timer_handler, NULL, &port);
        CHECK(rc == 0, "bind VIRQ_TIMER %d", rc);
        xf_pvh_wait_use_timer(true);
    }
    /* A wait with nothing else to wake it ends at its deadline: by the
     * timer's upcall, or SCHEDOP_poll's timeout. */
    uint64_t t0 = xf_plat_now_ns(), dl = t0 + 30 * NS_PER_MS;
    uint64_t before = timer_events;
    while ((rc = xf_plat_wait(dl)) == 0)
        ;
    uint64_t t1 = xf_plat_now_ns();
    CHECK(rc == -XF_ETIMEDOUT, "wait %d", rc);
    CHECK(t1 >= dl && t1 - t0 < 2000 * NS_PER_MS, "waited %lu ns", (unsigned long)(t1 - t0));
    CHECK(poll_mode || timer_events > before, "no VIRQ_TIMER event (upcalls %lu)",
          (unsigned long)nr_upcalls);
    /* An IPI to ourselves: through the upcall vector, or the dispatcher
     * the polling loop runs. */
    evtchn_port_t ipi;
    rc = xf_evtchn_bind_ipi(ec, ipi_handler, NULL, &ipi);
    CHECK(rc == 0, "bind_ipi %d", rc);
    uint64_t u0 = nr_upcalls, i0 = ipi_events;
    rc = xf_evtchn_notify(ec, ipi);
    CHECK(rc == 0, "notify ipi %d", rc);
    dl = deadline_ms(1000);
    while (ipi_events == i0 && kwait(dl) == 0)
        ;
    CHECK(ipi_events == i0 + 1, "IPI handler ran %lu times", (unsigned long)(ipi_events - i0));
    CHECK(poll_mode ? nr_upcalls == 0 : nr_upcalls > u0, "upcalls %lu (polling: %d)",
          (unsigned long)nr_upcalls, (int)poll_mode);
    CHECK(xf_evtchn_close(ec, ipi) == 0, "close ipi");
    kprintf("# %s: upcalls %lu, timer events %lu\n", poll_mode ? "polling" : "upcalls",
            (unsigned long)nr_upcalls, (unsigned long)timer_events);
    return NULL;
}

static const char *case_clock(void)
{
    uint64_t a = xf_plat_now_ns(), prev = a;
    for (int i = 0; i < 1000; i++) {
        uint64_t t = xf_plat_now_ns();
        CHECK(t >= prev, "clock went back");
        prev = t;
    }
    /* 50 ms of Xen's timer, measured by the PV clock. */
    uint64_t dl = a + 50 * NS_PER_MS;
    while (xf_plat_wait(dl) == 0)
        ;
    uint64_t b = xf_plat_now_ns();
    CHECK(b - a >= 50 * NS_PER_MS && b - a < 5000 * NS_PER_MS, "50 ms took %lu ns",
          (unsigned long)(b - a));
    return NULL;
}

static const char *case_console(void)
{
    uint64_t pfn;
    evtchn_port_t port;
    int rc = xf_console_hvm_params(&pfn, &port);
    CHECK(rc == 0, "console hvm params %d", rc);
    rc = xf_console_create(&con, ec, (void *)(uintptr_t)(pfn << 12), port, NULL);
    CHECK(rc == 0, "xf_console_create %d", rc);
    static const char hello[] = "# xenfront test kernel on the PV console\n";
    rc = xf_console_write_all(con, hello, sizeof(hello) - 1, deadline_ms(5000), NULL);
    CHECK(rc == 0, "write_all %d", rc);
    rc = xf_console_flush(con, deadline_ms(5000));
    CHECK(rc == 0, "flush (xenconsoled consumed nothing?) %d", rc);
    kout_set_console(con);
    return NULL;
}

static const char *case_xs_connect(void)
{
    uint64_t pfn;
    evtchn_port_t port;
    char buf[128];
    int rc = xf_xenbus_hvm_store(&pfn, &port);
    CHECK(rc == 0, "store params %d", rc);
    rc = xf_xenbus_create_ring(&xb, NULL, ec, (void *)(uintptr_t)(pfn << 12), port);
    CHECK(rc == 0, "create_ring %d", rc);
    uint64_t id;
    rc = xf_xenbus_read_uint(xb, XF_XENBUS_TX_NONE, "domid", NULL, 0x7fef, &id, 0);
    CHECK(rc == 0, "read domid %d", rc);
    self_id = (domid_t)id;
    rc = xf_xenbus_read_str(xb, XF_XENBUS_TX_NONE, "name", NULL, buf, sizeof(buf), 0);
    CHECK(rc >= 0, "read name %d", rc);
    CHECK(!kstrcmp(buf, cmdline_has("xf-bench") ? "xf-bench" :
                   poll_mode ? "xf-guest-poll" : "xf-guest"), "name '%s'", buf);
    char path[64], want[64];
    rc = xf_xenbus_get_domain_path(xb, self_id, path, sizeof(path), 0);
    ksnprintf(want, sizeof(want), "/local/domain/%u", (unsigned)self_id);
    CHECK(rc > 0 && !kstrcmp(path, want), "domain path '%s' (%d)", path, rc);
    kprintf("# domid %u\n", (unsigned)self_id);
    return NULL;
}

static const char *case_xs_rw(void)
{
    char buf[64];
    size_t len;
    int rc = xf_xenbus_write(xb, XF_XENBUS_TX_NONE, "data/xft/a", "value-1", 7, 0);
    CHECK(rc == 0, "write %d", rc);
    rc = xf_xenbus_read(xb, XF_XENBUS_TX_NONE, "data/xft/a", buf, sizeof(buf), &len, 0);
    CHECK(rc >= 0 && len == 7 && !kstrcmp(buf, "value-1"), "read back %d '%s'", rc, buf);
    char abs[64];
    ksnprintf(abs, sizeof(abs), "/local/domain/%u/data/xft/a", (unsigned)self_id);
    rc = xf_xenbus_read(xb, XF_XENBUS_TX_NONE, abs, buf, sizeof(buf), &len, 0);
    CHECK(rc >= 0 && !kstrcmp(buf, "value-1"), "absolute read %d", rc);
    rc = xf_xenbus_write(xb, XF_XENBUS_TX_NONE, "data/xft/b", "", 0, 0);
    CHECK(rc == 0, "write empty %d", rc);
    unsigned count = 0;
    rc = xf_xenbus_directory(xb, XF_XENBUS_TX_NONE, "data/xft", buf, sizeof(buf), &count, 0);
    CHECK(rc > 0 && count == 2, "directory %d count %u", rc, count);
    rc = xf_xenbus_rm(xb, XF_XENBUS_TX_NONE, "data/xft/b", 0);
    CHECK(rc == 0, "rm %d", rc);
    rc = xf_xenbus_read(xb, XF_XENBUS_TX_NONE, "data/xft/b", buf, sizeof(buf), &len, 0);
    CHECK(rc == -XF_ENOENT, "read removed %d", rc);
    return NULL;
}

static const char *case_xs_watch(void)
{
    struct xf_xenbus_watch *w;
    char ev[96];
    unsigned flags;
    int rc = xf_xenbus_watch_add(xb, "data/xft/w", "wtok", NULL, NULL, &w, 0);
    CHECK(rc == 0, "watch_add %d", rc);
    /* xenstored fires once at registration. */
    rc = xf_xenbus_watch_wait(xb, w, ev, sizeof(ev), NULL, &flags, deadline_ms(5000));
    CHECK(rc == 1, "initial event %d", rc);
    rc = xf_xenbus_write(xb, XF_XENBUS_TX_NONE, "data/xft/w/x", "1", 1, 0);
    CHECK(rc == 0, "write %d", rc);
    rc = xf_xenbus_watch_wait(xb, w, ev, sizeof(ev), NULL, &flags, deadline_ms(5000));
    CHECK(rc == 1, "event after write %d", rc);
    CHECK(kstrstr(ev, "data/xft/w"), "event path '%s'", ev);
    rc = xf_xenbus_watch_remove(xb, w, 0);
    CHECK(rc == 0, "watch_remove %d", rc);
    return NULL;
}

static const char *case_xs_transaction(void)
{
    xf_xenbus_tx_t tx;
    char buf[32];
    int rc = xf_xenbus_transaction_start(xb, &tx, 0);
    CHECK(rc == 0 && tx != 0, "start %d", rc);
    rc = xf_xenbus_write(xb, tx, "data/xft/tx", "in-tx", 5, 0);
    CHECK(rc == 0, "write in tx %d", rc);
    rc = xf_xenbus_read(xb, XF_XENBUS_TX_NONE, "data/xft/tx", buf, sizeof(buf), NULL, 0);
    CHECK(rc == -XF_ENOENT, "visible outside the transaction before commit: %d", rc);
    rc = xf_xenbus_transaction_end(xb, tx, true, 0);
    CHECK(rc == 0, "commit %d", rc);
    rc = xf_xenbus_read(xb, XF_XENBUS_TX_NONE, "data/xft/tx", buf, sizeof(buf), NULL, 0);
    CHECK(rc >= 0 && !kstrcmp(buf, "in-tx"), "after commit %d", rc);
    /* Abort: nothing happens. */
    rc = xf_xenbus_transaction_start(xb, &tx, 0);
    CHECK(rc == 0, "start 2 %d", rc);
    rc = xf_xenbus_write(xb, tx, "data/xft/tx-aborted", "x", 1, 0);
    CHECK(rc == 0, "write in tx 2 %d", rc);
    rc = xf_xenbus_transaction_end(xb, tx, false, 0);
    CHECK(rc == 0, "abort %d", rc);
    rc = xf_xenbus_read(xb, XF_XENBUS_TX_NONE, "data/xft/tx-aborted", buf, sizeof(buf), NULL, 0);
    CHECK(rc == -XF_ENOENT, "aborted write visible %d", rc);
    return NULL;
}

static const char *case_xs_perms(void)
{
    char buf[64], want[16];
    unsigned count;
    int rc = xf_xenbus_write(xb, XF_XENBUS_TX_NONE, "data/xft/p", "secret", 6, 0);
    CHECK(rc == 0, "write %d", rc);
    char owner[16], reader[16];
    ksnprintf(owner, sizeof(owner), "n%u", (unsigned)self_id);
    ksnprintf(reader, sizeof(reader), "r0");
    const char *perms[] = { owner, reader };
    rc = xf_xenbus_set_perms(xb, XF_XENBUS_TX_NONE, "data/xft/p", perms, 2, 0);
    CHECK(rc == 0, "set_perms %d", rc);
    rc = xf_xenbus_get_perms(xb, XF_XENBUS_TX_NONE, "data/xft/p", buf, sizeof(buf), &count, 0);
    CHECK(rc > 0 && count == 2, "get_perms %d count %u", rc, count);
    ksnprintf(want, sizeof(want), "n%u", (unsigned)self_id);
    CHECK(!kstrcmp(buf, want) && !kstrcmp(buf + strlen(buf) + 1, "r0"),
          "perms '%s' '%s'", buf, buf + strlen(buf) + 1);
    /* Another domain's home is not ours to read. */
    rc = xf_xenbus_read(xb, XF_XENBUS_TX_NONE, "/local/domain/0/name", buf, sizeof(buf), NULL, 0);
    CHECK(rc == -XF_EACCES, "reading dom0's name gave %d", rc);
    /* Nor to write outside our own area. */
    rc = xf_xenbus_write(xb, XF_XENBUS_TX_NONE, "/local/domain/0/xf-intruder", "x", 1, 0);
    CHECK(rc == -XF_EACCES, "writing in dom0's home gave %d", rc);
    return NULL;
}

static const char *case_peer_hello(void)
{
    char resp[64];
    return rpc_ok("hello", resp, sizeof(resp), NULL);
}

static const char *case_console_log(void)
{
    char resp[64], marker[64], req[96];
    ksnprintf(marker, sizeof(marker), "xf-console-marker-%lx",
              (unsigned long)(xf_plat_now_ns() & 0xffffffff));
    kprintf("# %s\n", marker);
    int rc = xf_console_flush(con, deadline_ms(5000));
    CHECK(rc == 0, "flush %d", rc);
    ksnprintf(req, sizeof(req), "console-log %s", marker);
    return rpc_ok(req, resp, sizeof(resp), NULL);
}

static const char *case_xs_watch_dom0(void)
{
    struct xf_xenbus_watch *w;
    char ev[96], buf[64], resp[64];
    const char *e;
    int rc = xf_xenbus_watch_add(xb, "data/xf/from-dom0", "dom0tok", NULL, NULL, &w, 0);
    CHECK(rc == 0, "watch_add %d", rc);
    rc = xf_xenbus_watch_wait(xb, w, ev, sizeof(ev), NULL, NULL, deadline_ms(5000));
    CHECK(rc == 1, "initial event %d", rc);
    if ((e = rpc_ok("xs-write data/xf/from-dom0 written-by-dom0", resp, sizeof(resp), NULL)))
        return e;
    rc = xf_xenbus_watch_wait(xb, w, ev, sizeof(ev), NULL, NULL, deadline_ms(5000));
    CHECK(rc == 1, "event after dom0's write %d", rc);
    rc = xf_xenbus_read(xb, XF_XENBUS_TX_NONE, "data/xf/from-dom0", buf, sizeof(buf), NULL, 0);
    CHECK(rc >= 0 && !kstrcmp(buf, "written-by-dom0"), "value %d '%s'", rc, buf);
    (void)xf_xenbus_watch_remove(xb, w, 0);
    return NULL;
}

static volatile uint64_t peer_events;
static evtchn_port_t peer_port;

static void peer_handler(struct xf_evtchn *e, evtchn_port_t port, void *arg)
{
    (void)e;
    (void)port;
    (void)arg;
    peer_events++;
}

static const char *case_evtchn_to_dom0(void)
{
    char req[64], resp[64];
    const char *e, *rest;
    int rc = xf_evtchn_alloc_unbound(ec, 0, peer_handler, NULL, &peer_port);
    CHECK(rc == 0, "alloc_unbound %d", rc);
    ksnprintf(req, sizeof(req), "evtchn-bind %u", (unsigned)peer_port);
    if ((e = rpc_ok(req, resp, sizeof(resp), &rest)))
        return e;
    kprintf("# guest port %u bound by dom0 port %s\n", (unsigned)peer_port, rest);
    rc = xf_evtchn_notify(ec, peer_port);
    CHECK(rc == 0, "notify %d", rc);
    return rpc_ok("evtchn-wait", resp, sizeof(resp), NULL);
}

static const char *case_evtchn_from_dom0(void)
{
    char resp[64];
    const char *e;
    CHECK(peer_port != 0, "no port (previous case failed)");
    uint64_t before = peer_events;
    if ((e = rpc_ok("evtchn-notify", resp, sizeof(resp), NULL)))
        return e;
    uint64_t dl = deadline_ms(5000);
    while (peer_events == before && kwait(dl) == 0)
        ;
    CHECK(peer_events > before, "no event from dom0");
    return NULL;
}

static const char *case_evtchn_masked(void)
{
    char resp[64];
    const char *e;
    CHECK(peer_port != 0, "no port (previous case failed)");
    int rc = xf_evtchn_mask(ec, peer_port);
    CHECK(rc == 0, "mask %d", rc);
    uint64_t before = peer_events;
    if ((e = rpc_ok("evtchn-notify", resp, sizeof(resp), NULL)))
        return e;
    /* Pending, masked: no handler, however long we wait. */
    uint64_t dl = deadline_ms(200);
    while (kwait(dl) == 0)
        ;
    CHECK(peer_events == before, "handler ran while masked");
    CHECK(xf_evtchn_is_pending(ec, peer_port) == 1, "not pending while masked");
    rc = xf_evtchn_unmask(ec, peer_port);
    CHECK(rc == 0, "unmask %d", rc);
    dl = deadline_ms(5000);
    while (peer_events == before && kwait(dl) == 0)
        ;
    CHECK(peer_events == before + 1, "events after unmask: %lu",
          (unsigned long)(peer_events - before));
    rc = xf_evtchn_close(ec, peer_port);
    CHECK(rc == 0, "close %d", rc);
    return rpc_ok("evtchn-close", resp, sizeof(resp), NULL);
}

static char *granted_page;
static grant_ref_t granted_ref;
static bool granted_mapped;

static const char *case_grant_to_dom0(void)
{
    char req[64], resp[64];
    const char *e;
    int rc = xf_gnttab_create(&gt, NULL);
    CHECK(rc == 0, "xf_gnttab_create %d", rc);
    granted_page = xf_plat_page_alloc(1);
    CHECK(granted_page, "page_alloc");
    kstrlcpy(granted_page, "xenfront-guest-page", 64);
    rc = xf_gnttab_grant_page(gt, 0, granted_page, false, &granted_ref);
    CHECK(rc == 0, "grant_page %d", rc);
    ksnprintf(req, sizeof(req), "gnt-map %u", (unsigned)granted_ref);
    if ((e = rpc_ok(req, resp, sizeof(resp), NULL)))
        return e;
    granted_mapped = true;
    CHECK(!kstrcmp(granted_page + 2048, "dom0-was-here"), "dom0's write not seen: '%s'",
          granted_page + 2048);
    return NULL;
}

static const char *case_grant_end_access(void)
{
    char resp[64];
    const char *e;
    CHECK(granted_mapped, "not mapped (previous case failed)");
    int rc = xf_gnttab_end_access(gt, granted_ref);
    CHECK(rc == -XF_EBUSY, "end_access while mapped gave %d", rc);
    if ((e = rpc_ok("gnt-unmap", resp, sizeof(resp), NULL)))
        return e;
    rc = xf_gnttab_end_access(gt, granted_ref);
    CHECK(rc == 0, "end_access after unmap gave %d", rc);
    xf_plat_page_free(granted_page, 1);
    return NULL;
}

static unsigned released;

static void release_page(struct xf_gnttab *g, void *page, void *arg)
{
    (void)g;
    (void)arg;
    released++;
    xf_plat_page_free(page, 1);
}

static const char *case_grant_deferred(void)
{
    char req[64], resp[64];
    const char *e;
    grant_ref_t ref;
    CHECK(gt, "no grant table (previous case failed)");
    char *page = xf_plat_page_alloc(1);
    CHECK(page, "page_alloc");
    kstrlcpy(page, "xenfront-guest-page", 64);
    int rc = xf_gnttab_grant_page(gt, 0, page, false, &ref);
    CHECK(rc == 0, "grant_page %d", rc);
    ksnprintf(req, sizeof(req), "gnt-map %u", (unsigned)ref);
    if ((e = rpc_ok(req, resp, sizeof(resp), NULL)))
        return e;
    rc = xf_gnttab_end_access_deferred(gt, ref, page, release_page, NULL);
    CHECK(rc == 1, "end_access_deferred while mapped gave %d", rc);
    CHECK(xf_gnttab_deferred_count(gt) == 1 && released == 0, "deferred %u released %u",
          xf_gnttab_deferred_count(gt), released);
    CHECK(xf_gnttab_reclaim(gt) == 1 && released == 0, "reclaimed while still mapped");
    if ((e = rpc_ok("gnt-unmap", resp, sizeof(resp), NULL)))
        return e;
    CHECK(xf_gnttab_reclaim(gt) == 0, "still deferred after dom0 unmapped");
    CHECK(released == 1, "release ran %u times", released);
    return NULL;
}

static grant_ref_t shared_ref;
static void *first_addr;

static const char *map_shared(struct xf_gnttab_map *m)
{
    *m = (struct xf_gnttab_map){ .domid = 0, .ref = shared_ref, .readonly = false };
    int rc = xf_gnttab_map_grants(gt, m, 1);
    CHECK(rc == 0 && m->status == 0, "map_grants %d status %d", rc, m->status);
    void *va;
    xen_pfn_t gfn;
    size_t n;
    CHECK(xf_plat_foreign_range(&va, &gfn, &n) == 0, "no range");
    CHECK((char *)m->addr >= (char *)va && (char *)m->addr < (char *)va + n * 4096,
          "mapped at %p outside the range", m->addr);
    CHECK(!kstrcmp(m->addr, "dom0-shared-page"), "content '%s'", (char *)m->addr);
    return NULL;
}

static const char *case_map_dom0_share(void)
{
    char resp[64];
    const char *e, *rest;
    struct xf_gnttab_map m;
    struct xf_gnttab_stats st;
    CHECK(gt, "no grant table (previous case failed)");
    if ((e = rpc_ok("gntshr-share", resp, sizeof(resp), &rest)))
        return e;
    shared_ref = (grant_ref_t)kstrtou64(rest, NULL);
    if ((e = map_shared(&m)))
        return e;
    first_addr = m.addr;
    kprintf("# dom0's grant %u mapped at %p\n", (unsigned)shared_ref, m.addr);
    kstrlcpy((char *)m.addr + 1024, "guest-wrote-this", 32);
    xf_gnttab_get_stats(gt, &st);
    CHECK(st.foreign_used == 1, "foreign_used %lu", (unsigned long)st.foreign_used);
    int rc = xf_gnttab_unmap_grants(gt, &m, 1);
    CHECK(rc == 0 && m.addr == NULL, "unmap %d status %d", rc, m.status);
    xf_gnttab_get_stats(gt, &st);
    CHECK(st.foreign_used == 0, "foreign_used after unmap %lu", (unsigned long)st.foreign_used);
    return NULL;
}

static const char *case_copy_dom0_share(void)
{
    CHECK(first_addr, "no shared grant (previous case failed)");
    char *local = xf_plat_page_alloc(1);
    CHECK(local, "page_alloc");
    kstrlcpy(local + 512, "copied-by-xen", 32);
    struct xf_gnttab_copy segs[2] = {
        { .dir = XF_GNTTAB_COPY_FROM_GRANT, .domid = 0, .ref = shared_ref, .offset = 0,
          .len = 17, .local = local },
        { .dir = XF_GNTTAB_COPY_TO_GRANT, .domid = 0, .ref = shared_ref, .offset = 2048,
          .len = 14, .local = local + 512 },
    };
    int rc = xf_gnttab_copy(gt, segs, 2);
    const char *why = NULL;
    if (rc != 0)
        why = "copy failed";
    else if (kstrcmp(local, "dom0-shared-page"))
        why = "copied-in content wrong";
    if (why) {
        ksnprintf(why_buf, sizeof(why_buf), "%s: rc %d status %d %d", why, rc, segs[0].status,
                  segs[1].status);
        xf_plat_page_free(local, 1);
        return why_buf;
    }
    xf_plat_page_free(local, 1);
    return NULL;
}

static const char *case_remap_dom0_share(void)
{
    char resp[64];
    const char *e;
    struct xf_gnttab_map m;
    CHECK(first_addr, "not mapped before (previous case failed)");
    if ((e = map_shared(&m)))
        return e;
    CHECK(m.addr == first_addr, "range not reused: %p then %p", first_addr, m.addr);
    CHECK(!kstrcmp((char *)m.addr + 1024, "guest-wrote-this"), "own write lost");
    CHECK(!kstrcmp((char *)m.addr + 2048, "copied-by-xen"), "grant copy's write not seen");
    int rc = xf_gnttab_unmap_grants(gt, &m, 1);
    CHECK(rc == 0, "unmap %d status %d", rc, m.status);
    return rpc_ok("gntshr-check", resp, sizeof(resp), NULL);
}

static grant_ref_t many_refs[2048];

static const char *case_grant_grow(void)
{
    struct xf_gnttab_stats st0, st1;
    CHECK(gt, "no grant table (previous case failed)");
    xf_gnttab_get_stats(gt, &st0);
    uint32_t n = st0.free_refs + (uint32_t)XF_GNTTAB_REFS_PER_FRAME / 2;
    CHECK(n <= XF_ARRAY_SIZE(many_refs), "too many free refs %u", st0.free_refs);
    int rc = xf_gnttab_alloc_refs(gt, many_refs, n);
    CHECK(rc == 0, "alloc_refs(%u) %d", n, rc);
    xf_gnttab_get_stats(gt, &st1);
    kprintf("# grant table: %u -> %u frames (Xen's max %u)\n", st0.nr_frames, st1.nr_frames,
            st1.max_frames);
    CHECK(st1.nr_frames > st0.nr_frames, "table did not grow");
    /* A reference in the new frame works: grant a page on it to dom0. */
    char *page = xf_plat_page_alloc(1);
    CHECK(page, "page_alloc");
    grant_ref_t last = many_refs[n - 1];
    rc = xf_gnttab_grant_ref(gt, last, 0, xf_plat_virt_to_gfn(page), true);
    CHECK(rc == 0, "grant_ref %u: %d", (unsigned)last, rc);
    rc = xf_gnttab_end_ref(gt, last);
    CHECK(rc == 0, "end_ref %d", rc);
    xf_plat_page_free(page, 1);
    rc = xf_gnttab_free_refs(gt, many_refs, n);
    CHECK(rc == 0, "free_refs %d", rc);
    return NULL;
}

static const char *case_console_input(void)
{
    char resp[64], got[128];
    const char *e;
    size_t have = 0;
    static const char text[] = "xf-input-from-dom0";
    if ((e = rpc_ok("console-input xf-input-from-dom0", resp, sizeof(resp), NULL)))
        return e;
    uint64_t dl = deadline_ms(5000);
    for (;;) {
        int n = xf_console_read(con, got + have, sizeof(got) - 1 - have);
        CHECK(n >= 0, "console_read %d", n);
        have += (size_t)n;
        got[have] = 0;
        if (kstrstr(got, text))
            return NULL;
        if (have == sizeof(got) - 1)
            FAIL("input '%s' lacks the text", got);
        if (kwait(dl) < 0 && xf_plat_now_ns() >= dl)
            FAIL("no input (got %u bytes)", (unsigned)have);
    }
}

/* ------------------------------------------------------------------------
 * Main.
 */
struct test_case {
    const char *name;
    const char *(*fn)(void);
    bool needs_xs;
};

static const struct test_case cases[NR_CASES] = {
    { "pvh: hypercall page, start_info, memory map, page allocator", case_pvh, false },
    { "evtchn: shared_info, upcall vector, timer VIRQ, IPI", case_evtchn_upcall, false },
    { "clock: PV clock monotonic, measures Xen's timer", case_clock, false },
    { "console: primary ring written, consumed by xenconsoled", case_console, false },
    { "xenstore: ring connects, reads domid, name, home", case_xs_connect, false },
    { "xenstore: write, read, directory, rm in data/", case_xs_rw, true },
    { "xenstore: watch fires on own write", case_xs_watch, true },
    { "xenstore: transaction commit and abort", case_xs_transaction, true },
    { "xenstore: set/get perms; EACCES outside own area", case_xs_perms, true },
    { "peer: dom0 helper answers over xenstore", case_peer_hello, true },
    { "console: output reached xenconsoled's log", case_console_log, true },
    { "xenstore: watch fires on dom0's write", case_xs_watch_dom0, true },
    { "evtchn: guest notifies dom0 peer", case_evtchn_to_dom0, true },
    { "evtchn: dom0 peer notifies guest", case_evtchn_from_dom0, true },
    { "evtchn: masked event held, delivered on unmask", case_evtchn_masked, true },
    { "gnttab: page granted to dom0, mapped and written", case_grant_to_dom0, true },
    { "gnttab: end access EBUSY while mapped, 0 after", case_grant_end_access, true },
    { "gnttab: deferred end, reclaimed once dom0 unmaps", case_grant_deferred, true },
    { "gnttab: dom0's shared page mapped in foreign range", case_map_dom0_share, true },
    { "gnttab: grant copy from and to dom0's page", case_copy_dom0_share, true },
    { "gnttab: remap reuses the range, peer sees write", case_remap_dom0_share, true },
    { "gnttab: table grows past its first frame", case_grant_grow, true },
    { "console: input from dom0 reaches the guest", case_console_input, true },
    { "blk: xvda connects to blkback; negotiated as offered", case_blk_connect, true },
    { "blk: patterns written, read back; dom0 checks the disk", case_blk_patterns, true },
    { "blk: dom0's pattern read by the guest", case_blk_dom0_pattern, true },
    { "blk: flush and FUA write", case_blk_flush, true },
    { "blk: discard reads back zeros, in guest and dom0", case_blk_discard, true },
    { "blk: xvdb (brd), 1 queue, 1 page, no persistent; closed", case_blk_second_disk, true },
    { "blk: xvda detached, re-attached mid-I/O, nothing lost", case_blk_reattach, true },
    { "blk: xvda closed, blkback follows", case_blk_close, true },
    { "net: vif connects to netback; negotiated as offered", case_net_connect, true },
    { "net: frames of 60..1514 bytes echoed by dom0, checked", case_net_small, true },
    { "net: multi-slot frames up to 9000 bytes both ways", case_net_jumbo, true },
    { "net: GSO TCPv4 frames up to 64 KiB both ways", case_net_gso, true },
    { "net: dom0 pings the guest's ARP/ICMP responder", case_net_ping, true },
    { "net: vif detached and re-attached mid-traffic, nothing leaked", case_net_reattach, true },
    { "net: vif disconnected", case_net_close, true },
    { "peer: done", NULL, true },
};

/* Benchmark mode (xf-bench, bench.c): the set-up cases, then the block
 * and network phases; no peer, the dom0 monitor times them. */
static void bench_mode(void)
{
    static const struct test_case setup[] = {
        { "pvh", case_pvh, false },
        { "evtchn", case_evtchn_upcall, false },
        { "clock", case_clock, false },
        { "console", case_console, false },
        { "xenstore", case_xs_connect, false },
    };
    const char *why = NULL;

    kprintf("# xenfront PVH test kernel (benchmark, %s)\n", poll_mode ? "polling" : "upcalls");
    kprintf("1..1\n");
    for (unsigned i = 0; i < sizeof(setup) / sizeof(setup[0]) && !why; i++)
        why = setup[i].fn();
    if (!why && xf_gnttab_create(&gt, NULL) != 0)
        why = "xf_gnttab_create";
    if (!why)
        why = bench_main();
    tap(!why, "bench: block phases on xvda and xvdb, network phases on vif 0", why);
    if (con)
        (void)xf_console_flush(con, deadline_ms(3000));
    xf_pvh_shutdown(SHUTDOWN_poweroff);
}

void kernel_main(uint32_t start_info_pa)
{
    idt_init();
    int rc = xf_pvh_init(start_info_pa, (uintptr_t)_end, IDENTITY_LIMIT);
    if (rc < 0) {
        char buf[64];
        int n = ksnprintf(buf, sizeof(buf), "Bail out! xf_pvh_init: %d\n", rc);
        xf_pvh_debug_write(buf, (size_t)n);
        xf_pvh_shutdown(SHUTDOWN_crash);
    }
    xf_log_set_hook(log_hook, NULL, XF_LOG_INFO);
    poll_mode = cmdline_has("xf-poll");
    if (cmdline_has("xf-bench")) {
        bench_mode();
        return;
    }
    kprintf("# xenfront PVH test kernel (%s)\n", poll_mode ? "polling" : "upcalls");
    kprintf("1..%u\n", (unsigned)NR_CASES);

    for (unsigned i = 0; i < NR_CASES; i++) {
        const struct test_case *c = &cases[i];
        if (c->needs_xs && !xb) {
            tap(false, c->name, "no xenstore connection");
            continue;
        }
        if (!c->fn) {
            char resp[64];
            const char *why = rpc_ok("done", resp, sizeof(resp), NULL);
            tap(!why, c->name, why);
            continue;
        }
        uint64_t t0 = xf_plat_now_ns();
        const char *why = c->fn();
        kprintf("# case %u: %lu ms\n", i + 1, (unsigned long)((xf_plat_now_ns() - t0) / NS_PER_MS));
        tap(!why, c->name, why);
    }
    kprintf("# %u of %u failed\n", nr_failed, (unsigned)NR_CASES);
    kprintf("# xf-guest: end\n");
    if (con)
        (void)xf_console_flush(con, deadline_ms(3000));
    xf_pvh_shutdown(SHUTDOWN_poweroff);
}
