/* The guest side of a hostpeers test: this process, as the simulator's
 * guest, with libevtchn taking upcalls on a vector as a PVH kernel would. */
#ifndef XF_HP_GUEST_H
#define XF_HP_GUEST_H

#include <check.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <xf_check.h>

#include <xenfront/errno.h>
#include <xenfront/evtchn.h>
#include <xenfront/xenbus.h>

#include "hp.h"

#define MS_NS 1000000ull
#define SOON(ms) (xf_plat_now_ns() + (uint64_t)(ms) * MS_NS)
#define HPT static __attribute__((unused))

static struct hp hp;
static struct xf_evtchn *ec;

static void hp_upcall(void *arg, unsigned int vcpu)
{
    (void)vcpu;
    xf_evtchn_dispatch(arg, 0);
}

static const char *hp_why = "";

/* Assert a fixture step, with its reason (call takes &hp_why). */
#define HP_OK(call)                                                              \
    do {                                                                         \
        int rc_ = (call);                                                        \
        ck_assert_msg(rc_ == 0, "%s: %d (%s)", #call, rc_, hp_why);              \
    } while (0)

/* XF_HP_LOG=1: the libraries' log on stderr (silent by default). */
XF_PRINTF(3, 0)
static void hp_log_hook(void *arg, enum xf_log_level level, const char *fmt, va_list ap)
{
    (void)arg;
    fprintf(stderr, "[xf log %d] ", (int)level);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
}

HPT void guest_up(void)
{
    if (getenv("XF_HP_LOG") != NULL)
        xf_log_set_hook(hp_log_hook, NULL, XF_LOG_DEBUG);
    ck_assert_msg(hp_up(&hp, &hp_why) == 0, "hp_up: %s", hp_why);
    ck_assert_int_eq(xf_evtchn_create(&ec, NULL), 0);
    xf_sim_set_upcall_handler(hp.sim, hp.domid, hp_upcall, ec);
    ck_assert_int_eq(xf_evtchn_upcall_setup(ec, XF_EVTCHN_UPCALL_AUTO, 0xf3), 0);
}

HPT void guest_down(void)
{
    xf_evtchn_destroy(ec);
    ec = NULL;
    hp_down(&hp);
}

/* libcheck's checked teardown (the suite runs in no-fork mode, so it runs
 * after a failed assertion too): whatever the test left up goes down, the
 * logs stay. */
HPT void guest_after_test(void)
{
    if (hp.sim != NULL && ec != NULL)
        xf_evtchn_destroy(ec); /* its pages are the simulator's: first */
    ec = NULL;
    hp_cleanup_failed();
}

/* The guest's xenstore connection over its ring, as a kernel makes it. */
HPT struct xf_xenbus *guest_xenbus_cfg(const struct xf_xenbus_config *cfg)
{
    uint64_t pfn;
    evtchn_port_t port;
    struct xf_xenbus *xb = NULL;

    ck_assert_int_eq(xf_xenbus_hvm_store(&pfn, &port), 0);
    void *va = xf_sim_gfn_to_va(hp.sim, hp.domid, (xen_pfn_t)pfn);
    ck_assert_ptr_nonnull(va);
    ck_assert_int_eq(xf_xenbus_create_ring(&xb, cfg, ec, va, port), 0);
    return xb;
}

HPT struct xf_xenbus *guest_xenbus(void)
{
    return guest_xenbus_cfg(NULL);
}

#endif
