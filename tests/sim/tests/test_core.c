/* The simulator's core: life cycle, HVM params, sched_op, console_io,
 * xen_version, the seam's current domain, attach in the same process. */
#include <xenfront/sim.h>
#include <xenfront/errno.h>

#include <check.h>
#include "xf_check.h"
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>

static struct xf_sim *sim;
static domid_t G;

static void setup(void)
{
    sim = xf_sim_create(NULL);
    ck_assert_ptr_nonnull(sim);
    G = xf_sim_guest_domid(sim);
}

static void teardown(void)
{
    xf_sim_destroy(sim);
}

static uint64_t deadline_in_ms(unsigned ms)
{
    return xf_plat_now_ns() + (uint64_t)ms * 1000000u;
}

static long param(domid_t caller, domid_t dom, unsigned cmd, uint32_t index, uint64_t *value)
{
    struct xen_hvm_param p = { .domid = dom, .index = index, .value = *value };
    long rc = xf_sim_hvm_op(sim, caller, cmd, &p);
    *value = p.value;
    return rc;
}

START_TEST(hvm_params)
{
    uint64_t v = 0;
    ck_assert_int_eq(param(G, DOMID_SELF, HVMOP_get_param, HVM_PARAM_STORE_PFN, &v), 0);
    ck_assert_uint_eq(v, XF_SIM_STORE_GFN);
    ck_assert_uint_eq(v, xf_sim_store_gfn(sim));
    ck_assert_int_eq(param(G, DOMID_SELF, HVMOP_get_param, HVM_PARAM_STORE_EVTCHN, &v), 0);
    ck_assert_uint_eq(v, xf_sim_store_port(sim));
    ck_assert_int_eq(param(G, G, HVMOP_get_param, HVM_PARAM_CONSOLE_PFN, &v), 0);
    ck_assert_uint_eq(v, XF_SIM_CONSOLE_GFN);
    ck_assert_uint_eq(v, xf_sim_console_gfn(sim));
    ck_assert_int_eq(param(G, G, HVMOP_get_param, HVM_PARAM_CONSOLE_EVTCHN, &v), 0);
    ck_assert_uint_eq(v, xf_sim_console_port(sim));
    ck_assert_uint_eq(v, xf_sim_hvm_param(sim, G, HVM_PARAM_CONSOLE_EVTCHN));

    ck_assert_int_eq(param(G, G, HVMOP_get_param, HVM_NR_PARAMS, &v), -XF_EINVAL);
    ck_assert_int_eq(param(G, 77, HVMOP_get_param, HVM_PARAM_STORE_PFN, &v), -XF_ESRCH);
    ck_assert_int_eq(param(G, 0, HVMOP_get_param, HVM_PARAM_STORE_PFN, &v), -XF_EPERM);
    ck_assert_int_eq(param(G, G, HVMOP_get_param, HVM_PARAM_IDENT_PT, &v), -XF_EPERM);
    ck_assert_int_eq(param(0, G, HVMOP_get_param, HVM_PARAM_IDENT_PT, &v), 0);
    v = 1234;
    ck_assert_int_eq(param(G, G, HVMOP_set_param, HVM_PARAM_STORE_PFN, &v), -XF_EPERM);
    ck_assert_int_eq(param(0, G, HVMOP_set_param, HVM_PARAM_STORE_PFN, &v), 0);
    ck_assert_uint_eq(xf_sim_store_gfn(sim), 1234);
    v = (2ull << 56) | 0xf3;
    ck_assert_int_eq(param(G, G, HVMOP_set_param, HVM_PARAM_CALLBACK_IRQ, &v), 0);
    v = 0;
    ck_assert_int_eq(param(G, G, HVMOP_get_param, HVM_PARAM_CALLBACK_IRQ, &v), 0);
    ck_assert_uint_eq(v, (2ull << 56) | 0xf3);
    ck_assert_int_eq(xf_sim_hvm_op(sim, G, 9999, &v), -XF_ENOSYS);
    ck_assert_int_eq(xf_sim_hvm_op(sim, G, HVMOP_get_param, NULL), -XF_EFAULT);
    ck_assert_int_eq(xf_sim_hvm_op(sim, 77, HVMOP_get_param, &v), -XF_ESRCH);
}
END_TEST

START_TEST(sched_ops)
{
    struct sched_shutdown sd = { .reason = SHUTDOWN_reboot };
    ck_assert_int_eq(xf_sim_sched_op(sim, G, SCHEDOP_yield, NULL), 0);
    ck_assert_int_eq(xf_sim_domain_shutdown_reason(sim, G), -XF_ENODATA);
    ck_assert_int_eq(xf_sim_domain_shutdown_reason(sim, 77), -XF_ESRCH);
    ck_assert_int_eq(xf_sim_sched_op(sim, G, SCHEDOP_shutdown, &sd), 0);
    ck_assert_int_eq(xf_sim_domain_shutdown_reason(sim, G), SHUTDOWN_reboot);
    ck_assert_int_eq(xf_sim_sched_op(sim, G, SCHEDOP_shutdown, NULL), -XF_EFAULT);
    ck_assert_int_eq(xf_sim_sched_op(sim, G, 99, NULL), -XF_ENOSYS);

    /* poll: errors, a pending port, then a timeout. */
    evtchn_port_t ports[129] = { 0 };
    struct sched_poll p = { .nr_ports = 129 };
    set_xen_guest_handle(p.ports, ports);
    ck_assert_int_eq(xf_sim_sched_op(sim, G, SCHEDOP_poll, &p), -XF_EINVAL);
    p.nr_ports = 1;
    ports[0] = XF_SIM_NR_PORTS;
    ck_assert_int_eq(xf_sim_sched_op(sim, G, SCHEDOP_poll, &p), -XF_EINVAL);
    int up = xf_sim_evtchn_alloc_unbound(sim, G, 0);
    int bp = xf_sim_evtchn_bind_interdomain(sim, 0, G, (evtchn_port_t)up);
    ports[0] = (evtchn_port_t)up;
    ck_assert_int_eq(xf_sim_evtchn_send(sim, 0, (evtchn_port_t)bp), 0);
    ck_assert_int_eq(xf_sim_sched_op(sim, G, SCHEDOP_poll, &p), 0);
    ck_assert(xf_sim_evtchn_test_and_clear(sim, G, (evtchn_port_t)up));
    p.timeout = deadline_in_ms(30);
    ck_assert_int_eq(xf_sim_sched_op(sim, G, SCHEDOP_poll, &p), 0);
    ck_assert_uint_ge(xf_plat_now_ns(), p.timeout);
}
END_TEST

struct sender { evtchn_port_t port; uint64_t when; };

static void *send_later(void *arg)
{
    struct sender *s = arg;
    /* Wait for the blocker to be waiting, by condition: poll the shared
     * clock only as a bound, the send itself is what wakes it. */
    while (xf_plat_now_ns() < s->when)
        xf_sim_sched_op(sim, 0, SCHEDOP_yield, NULL);
    xf_sim_evtchn_send(sim, 0, s->port);
    return NULL;
}

START_TEST(block_and_poll_woken_by_other_thread)
{
    int up = xf_sim_evtchn_alloc_unbound(sim, G, 0);
    int bp = xf_sim_evtchn_bind_interdomain(sim, 0, G, (evtchn_port_t)up);
    shared_info_t *s = xf_sim_shared_info(sim, G);
    pthread_t t;

    /* An event already pending: block returns at once. */
    ck_assert_int_eq(xf_sim_evtchn_send(sim, 0, (evtchn_port_t)bp), 0);
    s->vcpu_info[0].evtchn_upcall_mask = 1;
    ck_assert_int_eq(xf_sim_sched_op(sim, G, SCHEDOP_block, NULL), 0);
    ck_assert_uint_eq(s->vcpu_info[0].evtchn_upcall_mask, 0); /* re-enabled */

    /* Nothing pending: block until dom0's thread sends. */
    s->vcpu_info[0].evtchn_upcall_pending = 0;
    s->vcpu_info[0].evtchn_pending_sel = 0;
    xf_sim_evtchn_test_and_clear(sim, G, (evtchn_port_t)up);
    struct sender snd = { .port = (evtchn_port_t)bp, .when = deadline_in_ms(20) };
    ck_assert_int_eq(pthread_create(&t, NULL, send_later, &snd), 0);
    ck_assert_int_eq(xf_sim_sched_op(sim, G, SCHEDOP_block, NULL), 0);
    pthread_join(t, NULL);
    ck_assert_uint_eq(s->vcpu_info[0].evtchn_upcall_pending, 1);
    ck_assert(xf_sim_evtchn_test_and_clear(sim, G, (evtchn_port_t)up));

    /* poll with a masked port is woken by the send too. */
    s->evtchn_mask[0] |= 1ull << up;
    evtchn_port_t port = (evtchn_port_t)up;
    struct sched_poll p = { .nr_ports = 1, .timeout = deadline_in_ms(5000) };
    set_xen_guest_handle(p.ports, &port);
    snd.when = deadline_in_ms(20);
    ck_assert_int_eq(pthread_create(&t, NULL, send_later, &snd), 0);
    ck_assert_int_eq(xf_sim_sched_op(sim, G, SCHEDOP_poll, &p), 0);
    pthread_join(t, NULL);
    ck_assert(xf_sim_evtchn_test_and_clear(sim, G, (evtchn_port_t)up));
    ck_assert_uint_lt(xf_plat_now_ns(), p.timeout);
}
END_TEST

static char logged[256];

XF_PRINTF(3, 0)
static void log_hook(void *arg, enum xf_log_level level, const char *fmt, va_list ap)
{
    (void)arg;
    (void)level;
    vsnprintf(logged, sizeof(logged), fmt, ap);
}

START_TEST(console_io)
{
    char buf[8] = "hello";
    ck_assert_int_eq(xf_sim_console_io(sim, G, CONSOLEIO_write, 5, buf), -XF_EPERM);
    xf_log_set_hook(log_hook, NULL, XF_LOG_DEBUG);
    ck_assert_int_eq(xf_sim_console_io(sim, 0, CONSOLEIO_write, 5, buf), 0);
    ck_assert_str_eq(logged, "(d0) hello");
    ck_assert_int_eq(xf_sim_console_io(sim, 0, CONSOLEIO_read, 8, buf), 0);
    ck_assert_int_eq(xf_sim_console_io(sim, 0, 7, 8, buf), -XF_ENOSYS);
    xf_log_set_hook(NULL, NULL, XF_LOG_WARN);

    struct xf_sim_config cfg = { .guest_console_io = true, .guest = { .domid = 3 } };
    struct xf_sim *s2 = xf_sim_create(&cfg);
    ck_assert_ptr_nonnull(s2);
    ck_assert_int_eq(xf_sim_console_io(s2, 3, CONSOLEIO_write, 5, buf), 0);
    xf_sim_destroy(s2);
}
END_TEST

START_TEST(xen_version)
{
    char extra[16];
    struct xen_feature_info fi = { .submap_idx = 0 };
    char cmdline[1024];
    unsigned char handle[16];

    ck_assert_int_eq(xf_sim_xen_version(sim, G, XENVER_version, NULL), (4 << 16) | 17);
    ck_assert_int_eq(xf_sim_xen_version(sim, G, XENVER_pagesize, NULL), 4096);
    ck_assert_int_eq(xf_sim_xen_version(sim, G, XENVER_extraversion, extra), 0);
    ck_assert_str_eq(extra, ".0-xfsim");
    ck_assert_int_eq(xf_sim_xen_version(sim, G, XENVER_get_features, &fi), 0);
    ck_assert(fi.submap & (1u << 2)); /* auto_translated_physmap */
    ck_assert(fi.submap & (1u << 8)); /* hvm_callback_vector */
    ck_assert(!(fi.submap & (1u << 11))); /* not dom0 */
    fi.submap_idx = 1;
    ck_assert_int_eq(xf_sim_xen_version(sim, G, XENVER_get_features, &fi), -XF_EINVAL);
    ck_assert_int_eq(xf_sim_xen_version(sim, G, XENVER_commandline, cmdline), -XF_EPERM);
    ck_assert_int_eq(xf_sim_xen_version(sim, 0, XENVER_commandline, cmdline), 0);
    ck_assert_int_eq(xf_sim_xen_version(sim, G, XENVER_guest_handle, handle), 0);
    ck_assert_int_eq(xf_sim_xen_version(sim, G, XENVER_extraversion, NULL), -XF_EFAULT);
    ck_assert_int_eq(xf_sim_xen_version(sim, G, 99, extra), -XF_ENOSYS);
    /* Through the seam, as the guest. */
    ck_assert_int_eq(xf_plat_xen_version(XENVER_version, NULL), (4 << 16) | 17);
}
END_TEST

START_TEST(domain_lifecycle)
{
    struct xf_sim_domain_config c = { .domid = 2 };
    ck_assert_int_eq(xf_sim_domain_create(sim, &c), 2);
    ck_assert(xf_sim_domain_exists(sim, 2));
    ck_assert_int_eq(xf_sim_domain_create(sim, &c), -XF_EEXIST);
    c.domid = DOMID_FIRST_RESERVED;
    ck_assert_int_eq(xf_sim_domain_create(sim, &c), -XF_EINVAL);
    c = (struct xf_sim_domain_config){ .domid = 3, .vcpus = XEN_LEGACY_MAX_VCPUS + 1 };
    ck_assert_int_eq(xf_sim_domain_create(sim, &c), -XF_EINVAL);
    c = (struct xf_sim_domain_config){ .domid = 3, .ram_frames = XF_SIM_MAX_RAM_FRAMES + 1 };
    ck_assert_int_eq(xf_sim_domain_create(sim, &c), -XF_EINVAL);
    int made = 3;
    for (domid_t d = 10; made < XF_SIM_MAX_DOMAINS; d++, made++) {
        c = (struct xf_sim_domain_config){ .domid = d, .ram_frames = 64 };
        ck_assert_int_eq(xf_sim_domain_create(sim, &c), d);
    }
    c.domid = 40;
    ck_assert_int_eq(xf_sim_domain_create(sim, &c), -XF_ENOSPC);
    ck_assert_int_eq(xf_sim_domain_destroy(sim, 2), 0);
    ck_assert(!xf_sim_domain_exists(sim, 2));
    ck_assert_int_eq(xf_sim_domain_create(sim, &c), 40); /* the slot is free again */
    ck_assert_ptr_null(xf_sim_create(&(struct xf_sim_config){ .guest = { .vcpus = 99 } }));
}
END_TEST

START_TEST(no_store_console)
{
    struct xf_sim_config cfg = { .no_store_console = true };
    struct xf_sim *s2 = xf_sim_create(&cfg);
    ck_assert_ptr_nonnull(s2);
    ck_assert_uint_eq(xf_sim_store_gfn(s2), 0);
    ck_assert_uint_eq(xf_sim_console_port(s2), 0);
    ck_assert_uint_eq(xf_sim_grant_table(s2, 1)[0].flags, 0);
    ck_assert_int_eq(xf_sim_evtchn_alloc_unbound(s2, 1, 0), 1); /* first free port */
    xf_sim_destroy(s2);
}
END_TEST

struct seam_probe { domid_t seen; long rc; };

static void *probe_thread(void *arg)
{
    struct seam_probe *p = arg;
    struct evtchn_alloc_unbound a = { .dom = DOMID_SELF, .remote_dom = DOMID_SELF };
    p->rc = xf_plat_event_channel_op(EVTCHNOP_alloc_unbound, &a);
    struct evtchn_status st = { .dom = DOMID_SELF, .port = a.port };
    if (p->rc == 0)
        p->rc = xf_plat_event_channel_op(EVTCHNOP_status, &st);
    p->seen = st.u.unbound.dom;
    return NULL;
}

static void *probe_as_dom0(void *arg)
{
    xf_sim_set_current(sim, 0);
    return probe_thread(arg);
}

START_TEST(seam_current_domain)
{
    struct seam_probe p = { 0 };
    pthread_t t;

    /* A fresh thread acts as the guest (the process default) ... */
    ck_assert_int_eq(pthread_create(&t, NULL, probe_thread, &p), 0);
    pthread_join(t, NULL);
    ck_assert_int_eq(p.rc, 0);
    ck_assert_uint_eq(p.seen, G);
    /* ... unless it says otherwise. */
    ck_assert_int_eq(pthread_create(&t, NULL, probe_as_dom0, &p), 0);
    pthread_join(t, NULL);
    ck_assert_int_eq(p.rc, 0);
    ck_assert_uint_eq(p.seen, 0);
    ck_assert_int_eq(xf_plat_wait(deadline_in_ms(5)), -XF_ETIMEDOUT);
}
END_TEST

START_TEST(attach_same_process)
{
    struct xf_sim *other = xf_sim_attach(xf_sim_dir(sim));
    grant_handle_t h;
    int16_t st;

    ck_assert_ptr_nonnull(other);
    ck_assert_uint_eq(xf_sim_guest_domid(other), G);
    ck_assert_ptr_null(xf_sim_attach("/nonexistent-xfsim"));
    /* The other handle, as dom0, maps the xenstore grant and writes. */
    uint8_t *store = xf_sim_map_grant(other, 0, G, 1, false, &h, &st);
    ck_assert_int_eq(st, GNTST_okay);
    strcpy((char *)store, "via attach");
    ck_assert_str_eq((char *)xf_sim_gfn_to_va(sim, G, xf_sim_store_gfn(sim)), "via attach");
    /* The mapping, made elsewhere, is visible through this handle's view. */
    xen_pfn_t first;
    size_t n;
    ck_assert_int_eq(xf_sim_foreign_range(sim, 0, &first, &n), 0);
    ck_assert_str_eq((char *)xf_sim_gfn_to_va(sim, 0, first), "via attach");
    ck_assert_int_eq(xf_sim_unmap_grant(other, 0, h), GNTST_okay);
    ck_assert_ptr_null(xf_sim_gfn_to_va(sim, 0, first));
    xf_sim_detach(other);
}
END_TEST

START_TEST(helper_errors)
{
    ck_assert_int_eq(xf_sim_evtchn_wait(sim, G, XF_SIM_NR_PORTS, 0), -XF_EINVAL);
    ck_assert_int_eq(xf_sim_evtchn_wait(sim, 77, 1, 0), -XF_ESRCH);
    ck_assert_int_eq(xf_sim_evtchn_wait(sim, G, 1, 0), -XF_ETIMEDOUT);
    ck_assert(!xf_sim_evtchn_test_and_clear(sim, G, XF_SIM_NR_PORTS));
    ck_assert(!xf_sim_evtchn_test_and_clear(sim, 77, 1));
    ck_assert_int_eq(xf_sim_raise_virq(sim, G, NR_VIRQS, 0), -XF_EINVAL);
    ck_assert_int_eq(xf_sim_raise_virq(sim, G, VIRQ_TIMER, 5), -XF_EINVAL);
    ck_assert_int_eq(xf_sim_raise_virq(sim, 77, VIRQ_TIMER, 0), -XF_ESRCH);
    ck_assert_int_eq(xf_sim_evtchn_alloc_unbound(sim, 77, 0), -XF_ESRCH);
    ck_assert_int_eq(xf_sim_evtchn_bind_interdomain(sim, 0, 77, 1), -XF_ESRCH);
    ck_assert_int_eq(xf_sim_evtchn_send(sim, 77, 1), -XF_ESRCH);
    ck_assert_int_eq(xf_sim_unmap_grant(sim, 77, 0), GNTST_bad_domain);
    int16_t st;
    ck_assert_ptr_null(xf_sim_map_grant(sim, 77, G, 0, true, NULL, &st));
    ck_assert_int_eq(st, GNTST_bad_domain);
    ck_assert_ptr_null(xf_sim_shared_info(sim, 77));
    ck_assert_ptr_null(xf_sim_grant_table(sim, 77));
    ck_assert_int_eq(xf_sim_free_frames(sim, 77), -XF_ESRCH);
    ck_assert_uint_eq(xf_sim_hvm_param(sim, 77, HVM_PARAM_STORE_PFN), 0);
    ck_assert_uint_eq(xf_sim_hvm_param(sim, G, HVM_NR_PARAMS), 0);
    struct xen_remove_from_physmap r = { .domid = 77, .gpfn = 9 };
    ck_assert_int_eq(xf_sim_memory_op(sim, G, XENMEM_remove_from_physmap, &r), -XF_ESRCH);
    r.domid = 0;
    ck_assert_int_eq(xf_sim_memory_op(sim, G, XENMEM_remove_from_physmap, &r), -XF_EPERM);
    struct sched_poll p = { .nr_ports = 1 };
    ck_assert_int_eq(xf_sim_sched_op(sim, G, SCHEDOP_poll, &p), -XF_EFAULT);
    ck_assert_int_eq(xf_sim_sched_op(sim, 77, SCHEDOP_yield, NULL), -XF_ESRCH);
    ck_assert_int_eq(xf_sim_console_io(sim, 0, CONSOLEIO_write, 3, NULL), -XF_EFAULT);
    ck_assert_int_eq(xf_sim_event_channel_op(NULL, 0, EVTCHNOP_send, &p), -XF_ENOSYS);
}
END_TEST

START_TEST(no_simulator)
{
    struct xf_sim *s = xf_sim_create(NULL);
    char dir[4200];
    struct stat sb;

    ck_assert_ptr_nonnull(s);
    snprintf(dir, sizeof(dir), "%s", xf_sim_dir(s));
    ck_assert_int_eq(stat(dir, &sb), 0);
    xf_sim_destroy(s);
    ck_assert_int_ne(stat(dir, &sb), 0); /* removed with its files */
    /* With no simulator the seam answers like a machine without Xen. */
    struct evtchn_send snd = { .port = 1 };
    ck_assert_int_eq(xf_plat_event_channel_op(EVTCHNOP_send, &snd), -XF_ENOSYS);
    ck_assert_ptr_null(xf_plat_page_alloc(1));
    ck_assert_int_eq(xf_plat_wait(0), -XF_ETIMEDOUT);
    void *va;
    xen_pfn_t g;
    size_t n;
    ck_assert_int_eq(xf_plat_foreign_range(&va, &g, &n), -XF_ENOSYS);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("sim-core");
    TCase *tc = tcase_create("core");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 20);
    tcase_add_test(tc, hvm_params);
    tcase_add_test(tc, sched_ops);
    tcase_add_test(tc, block_and_poll_woken_by_other_thread);
    tcase_add_test(tc, console_io);
    tcase_add_test(tc, xen_version);
    tcase_add_test(tc, domain_lifecycle);
    tcase_add_test(tc, no_store_console);
    tcase_add_test(tc, seam_current_domain);
    tcase_add_test(tc, attach_same_process);
    tcase_add_test(tc, helper_errors);
    suite_add_tcase(s, tc);
    TCase *bare = tcase_create("bare");
    tcase_add_test(bare, no_simulator);
    suite_add_tcase(s, bare);
    return xf_check_run(s);
}
