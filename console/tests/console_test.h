/*
 * Shared fixture of libconsole's tests: a simulated Xen whose guest (the
 * seam's default current domain) runs the console front end, and dom0 as
 * the console back end, in a thread, the way xenconsoled serves the
 * primary console: it maps the console frame by number and binds the
 * console port, then consumes output a few bytes at a time and writes
 * input, notifying after each step.
 */
#ifndef CONSOLE_TEST_H
#define CONSOLE_TEST_H

#include <check.h>
#include <pthread.h>
#include <sched.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <xenfront/console.h>
#include <xenfront/errno.h>
#include <xenfront/evtchn.h>
#include <xenfront/sim.h>
#include <xf_check.h>

#define MS_NS 1000000ull
#define SEC_NS 1000000000ull
#define DEADLINE_MS(ms) (xf_plat_now_ns() + (uint64_t)(ms) * MS_NS)

static struct xf_sim *sim;
static domid_t guest;
static struct xf_evtchn *ec;

/* ------------------------------------------------------------------------
 * Log capture: a violation must be reported.
 */
static char log_text[8192];
static size_t log_len;

XF_PRINTF(3, 0)
static void log_hook(void *arg, enum xf_log_level level, const char *fmt, va_list ap)
{
    (void)arg;
    (void)level;
    if (log_len < sizeof(log_text) - 1) {
        int n = vsnprintf(log_text + log_len, sizeof(log_text) - log_len, fmt, ap);
        if (n > 0)
            log_len += (size_t)n < sizeof(log_text) - log_len ? (size_t)n
                                                               : sizeof(log_text) - 1 - log_len;
        if (log_len < sizeof(log_text) - 1)
            log_text[log_len++] = '\n';
        log_text[log_len] = '\0';
    }
}

static XF_UNUSED bool logged(const char *needle)
{
    return strstr(log_text, needle) != NULL;
}

/* ------------------------------------------------------------------------
 * Guest side.
 */
static void upcall(void *arg, unsigned vcpu)
{
    (void)vcpu;
    xf_evtchn_dispatch(arg, 0);
}

static void sim_start(const struct xf_sim_config *cfg)
{
    log_len = 0;
    log_text[0] = '\0';
    xf_log_set_hook(log_hook, NULL, XF_LOG_DEBUG);
    sim = xf_sim_create(cfg);
    ck_assert_ptr_nonnull(sim);
    guest = xf_sim_guest_domid(sim);
    ck_assert_int_eq(xf_evtchn_create(&ec, NULL), 0);
}

/* Events raise upcalls, whose handler dispatches (a kernel taking
 * interrupts); without this the guest polls. */
static XF_UNUSED void enable_upcalls(void)
{
    xf_sim_set_upcall_handler(sim, guest, upcall, ec);
    ck_assert_int_eq(xf_evtchn_upcall_setup(ec, XF_EVTCHN_UPCALL_VCPU_VECTOR, 0xf3), 0);
}

static void sim_stop(void)
{
    xf_evtchn_destroy(ec);
    ec = NULL;
    xf_sim_destroy(sim);
    sim = NULL;
    xf_log_set_hook(NULL, NULL, XF_LOG_ERROR);
}

/* The primary console's page as the guest maps it. */
static XF_UNUSED struct xencons_interface *guest_page(void)
{
    uint64_t pfn;
    evtchn_port_t port;

    ck_assert_int_eq(xf_console_hvm_params(&pfn, &port), 0);
    ck_assert_uint_eq(pfn, xf_sim_console_gfn(sim));
    ck_assert_uint_eq(port, xf_sim_console_port(sim));
    return xf_sim_gfn_to_va(sim, guest, (xen_pfn_t)pfn);
}

/* ------------------------------------------------------------------------
 * The back end (dom0).
 */
struct backend {
    struct xencons_interface *intf;   /* dom0's mapping of the ring page */
    evtchn_port_t port;               /* dom0's end of the channel        */
    domid_t self;                     /* the back end's domain            */
    unsigned chunk;                   /* bytes per step: 1..chunk         */
    int stalled;                      /* consume no output while set      */
    int stop;
    /* Output received. */
    unsigned char *out;
    size_t out_cap;
    size_t out_len;
    /* Input to send. */
    const unsigned char *in;
    size_t in_len;
    size_t in_done;
    unsigned long steps;
    pthread_t thread;
};

#define LOAD(p)      __atomic_load_n((p), __ATOMIC_ACQUIRE)
#define STORE(p, v)  __atomic_store_n((p), (v), __ATOMIC_RELEASE)

static void *backend_main(void *arg)
{
    struct backend *be = arg;
    unsigned step = 0;

    while (!LOAD(&be->stop)) {
        bool progress = false;

        if (!LOAD(&be->stalled)) {
            uint32_t prod = LOAD(&be->intf->out_prod);
            uint32_t cons = be->intf->out_cons;
            uint32_t n = 1 + step++ % be->chunk;
            size_t have = LOAD(&be->out_len);

            if (prod - cons < n)
                n = prod - cons;
            if (have + n > be->out_cap)
                n = (uint32_t)(be->out_cap - have);
            if (n > 0) {
                for (uint32_t i = 0; i < n; i++)
                    be->out[have + i] = (unsigned char)be->intf->out[(cons + i) & 2047];
                STORE(&be->out_len, have + n);
                STORE(&be->intf->out_cons, cons + n);
                xf_sim_evtchn_send(sim, be->self, be->port);
                be->steps++;
                /* Drain output before producing input: an echoing guest
                 * then never finds its output ring full. */
                continue;
            }
        }
        if (LOAD(&be->in_done) < be->in_len) {
            uint32_t prod = be->intf->in_prod;
            uint32_t cons = LOAD(&be->intf->in_cons);
            size_t done = LOAD(&be->in_done);
            uint32_t n = 1 + step++ % be->chunk;

            if (1024 - (prod - cons) < n)
                n = 1024 - (prod - cons);
            if (be->in_len - done < n)
                n = (uint32_t)(be->in_len - done);
            if (n > 0) {
                for (uint32_t i = 0; i < n; i++)
                    be->intf->in[(prod + i) & 1023] = (char)be->in[done + i];
                STORE(&be->intf->in_prod, prod + n);
                STORE(&be->in_done, done + n);
                xf_sim_evtchn_send(sim, be->self, be->port);
                progress = true;
            }
        }
        /* Nothing to do: wait for the guest's event (the timeout only
         * bounds how late a stop request is seen). */
        if (!progress)
            (void)xf_sim_evtchn_wait(sim, be->self, be->port, DEADLINE_MS(20));
    }
    return NULL;
}

/* Map the console frame and bind its port as dom0 (xenconsoled's way). */
static XF_UNUSED void backend_attach(struct backend *be, size_t out_cap, unsigned chunk)
{
    int port;

    memset(be, 0, sizeof(*be));
    be->self = 0;
    be->intf = xf_sim_gfn_to_va(sim, guest, xf_sim_console_gfn(sim));
    ck_assert_ptr_nonnull(be->intf);
    port = xf_sim_evtchn_bind_interdomain(sim, 0, guest, xf_sim_console_port(sim));
    ck_assert_int_gt(port, 0);
    be->port = (evtchn_port_t)port;
    be->chunk = chunk;
    be->out_cap = out_cap;
    be->out = calloc(1, out_cap ? out_cap : 1);
    ck_assert_ptr_nonnull(be->out);
}

static XF_UNUSED void backend_start(struct backend *be)
{
    ck_assert_int_eq(pthread_create(&be->thread, NULL, backend_main, be), 0);
}

static XF_UNUSED void backend_stop(struct backend *be)
{
    STORE(&be->stop, 1);
    ck_assert_int_eq(pthread_join(be->thread, NULL), 0);
}

static XF_UNUSED void backend_free(struct backend *be)
{
    free(be->out);
    be->out = NULL;
}

/* Wait (bounded) until the back end has received n bytes. */
static XF_UNUSED bool backend_wait_out(struct backend *be, size_t n, uint64_t deadline)
{
    while (LOAD(&be->out_len) < n) {
        if (xf_plat_now_ns() >= deadline)
            return false;
        sched_yield();
    }
    return true;
}

/* A recognisable byte stream. */
static XF_UNUSED unsigned char pattern(size_t i)
{
    return (unsigned char)(i * 7u + i / 251u + 1u);
}

#endif /* CONSOLE_TEST_H */
