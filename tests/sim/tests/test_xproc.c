/* Another process attaches to the simulator and acts as the backend (dom0):
 * it binds the guest's port, maps the guest's grant, writes through it and
 * notifies; the guest, in this process, sees it all. */
#include <xenfront/sim.h>
#include <xenfront/errno.h>

#include <check.h>
#include "xf_check.h"
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

static uint64_t deadline_in_ms(unsigned ms)
{
    return xf_plat_now_ns() + (uint64_t)ms * 1000000u;
}

/* The child: exit status says which step failed (0 = all good). */
static int backend(const char *dir, domid_t guest, grant_ref_t ref, evtchn_port_t gport)
{
    struct xf_sim *s = xf_sim_attach(dir);
    grant_handle_t h;
    int16_t st;

    if (s == NULL)
        return 10;
    int port = xf_sim_evtchn_bind_interdomain(s, 0, guest, gport);
    if (port <= 0)
        return 11;
    xf_sim_evtchn_test_and_clear(s, 0, (evtchn_port_t)port); /* the bind's own event */
    char *page = xf_sim_map_grant(s, 0, guest, ref, false, &h, &st);
    if (page == NULL || st != GNTST_okay)
        return 12;
    if (strcmp(page, "request") != 0)
        return 13;
    strcpy(page, "child was here");
    if (xf_sim_evtchn_send(s, 0, (evtchn_port_t)port) != 0)
        return 14;
    /* Hold the mapping until the guest has looked, then let go. */
    if (xf_sim_evtchn_wait(s, 0, (evtchn_port_t)port, deadline_in_ms(10000)) != 0)
        return 15;
    if (xf_sim_unmap_grant(s, 0, h) != GNTST_okay)
        return 16;
    if (xf_sim_evtchn_send(s, 0, (evtchn_port_t)port) != 0)
        return 17;
    xf_sim_detach(s);
    return 0;
}

START_TEST(fork_attach_map_write)
{
    struct xf_sim *sim = xf_sim_create(NULL);
    ck_assert_ptr_nonnull(sim);
    domid_t G = xf_sim_guest_domid(sim);
    grant_entry_v1_t *gt = xf_sim_grant_table(sim, G);

    xf_sim_set_current(sim, G);
    char *page = xf_plat_page_alloc(1);
    ck_assert_ptr_nonnull(page);
    strcpy(page, "request");
    gt[8].frame = (uint32_t)xf_plat_virt_to_gfn(page);
    gt[8].domid = 0;
    __atomic_store_n(&gt[8].flags, (uint16_t)GTF_permit_access, __ATOMIC_RELEASE);
    struct evtchn_alloc_unbound a = { .dom = DOMID_SELF, .remote_dom = 0 };
    ck_assert_int_eq(xf_plat_event_channel_op(EVTCHNOP_alloc_unbound, &a), 0);

    pid_t pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0)
        _exit(backend(xf_sim_dir(sim), G, 8, a.port));

    /* The child's event, then its write through the mapping. */
    ck_assert_int_eq(xf_sim_evtchn_wait(sim, G, a.port, deadline_in_ms(10000)), 0);
    ck_assert_str_eq(page, "child was here");
    ck_assert_uint_eq(__atomic_load_n(&gt[8].flags, __ATOMIC_ACQUIRE),
                      GTF_permit_access | GTF_reading | GTF_writing);
    struct evtchn_send snd = { .port = a.port };
    ck_assert_int_eq(xf_plat_event_channel_op(EVTCHNOP_send, &snd), 0);
    ck_assert_int_eq(xf_sim_evtchn_wait(sim, G, a.port, deadline_in_ms(10000)), 0);
    ck_assert_uint_eq(__atomic_load_n(&gt[8].flags, __ATOMIC_ACQUIRE), GTF_permit_access);

    int status;
    ck_assert_int_eq(waitpid(pid, &status, 0), pid);
    ck_assert(WIFEXITED(status));
    ck_assert_int_eq(WEXITSTATUS(status), 0);
    /* The child's port is still bound to ours after it left. */
    struct evtchn_status es = { .dom = DOMID_SELF, .port = a.port };
    ck_assert_int_eq(xf_plat_event_channel_op(EVTCHNOP_status, &es), 0);
    ck_assert_uint_eq(es.status, EVTCHNSTAT_interdomain);
    ck_assert_uint_eq(es.u.interdomain.dom, 0);
    xf_sim_destroy(sim);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("sim-xproc");
    TCase *tc = tcase_create("xproc");
    tcase_set_timeout(tc, 30);
    tcase_add_test(tc, fork_attach_map_write);
    suite_add_tcase(s, tc);
    return xf_check_run(s);
}
