/* The helpers for a dom0 shim: waiting on many ports with cancellation, and
 * the file behind a frame (a domain's gfn, or the frame behind a grant
 * handle), mapped here side by side as gntdev and privcmd would. */
#include <xenfront/sim.h>
#include <xenfront/errno.h>

#include <check.h>
#include "xf_check.h"
#include <pthread.h>
#include <string.h>
#include <sys/mman.h>

static uint64_t in_ms(unsigned ms)
{
    return xf_plat_now_ns() + (uint64_t)ms * 1000000u;
}

static void grant(grant_entry_v1_t *gt, grant_ref_t ref, void *page, bool ro)
{
    gt[ref].frame = (uint32_t)xf_plat_virt_to_gfn(page);
    gt[ref].domid = 0;
    __atomic_store_n(&gt[ref].flags, (uint16_t)(GTF_permit_access | (ro ? GTF_readonly : 0)),
                     __ATOMIC_RELEASE);
}

START_TEST(wait_any_ports_and_cancel)
{
    struct xf_sim *sim = xf_sim_create(NULL);
    ck_assert_ptr_nonnull(sim);
    domid_t G = xf_sim_guest_domid(sim);
    evtchn_port_t p[3];
    for (int i = 0; i < 3; i++) {
        int gp = xf_sim_evtchn_alloc_unbound(sim, G, 0);
        ck_assert_int_gt(gp, 0);
        int lp = xf_sim_evtchn_bind_interdomain(sim, 0, G, (evtchn_port_t)gp);
        ck_assert_int_gt(lp, 0);
        p[i] = (evtchn_port_t)lp;
        xf_sim_evtchn_test_and_clear(sim, 0, p[i]); /* the bind's own event */
        if (i == 1)
            ck_assert_int_eq(xf_sim_evtchn_send(sim, G, (evtchn_port_t)gp), 0);
    }
    ck_assert_int_eq(xf_sim_evtchn_wait_any(sim, 0, p, 3, NULL, in_ms(1000)), (int)p[1]);
    ck_assert_int_eq(xf_sim_evtchn_wait_any(sim, 0, p, 3, NULL, in_ms(20)), -XF_ETIMEDOUT);
    volatile int cancel = 1;
    ck_assert_int_eq(xf_sim_evtchn_wait_any(sim, 0, p, 0, &cancel, ~(uint64_t)0), -XF_EINTR);
    evtchn_port_t bad = XF_SIM_NR_PORTS;
    ck_assert_int_eq(xf_sim_evtchn_wait_any(sim, 0, &bad, 1, NULL, in_ms(10)), -XF_EINVAL);
    ck_assert_int_eq(xf_sim_evtchn_wait_any(sim, 77, p, 1, NULL, in_ms(10)), -XF_ESRCH);
    xf_sim_destroy(sim);
}
END_TEST

struct canceller { struct xf_sim *sim; volatile int *flag; };

static void *cancel_later(void *arg)
{
    struct canceller *c = arg;
    struct timespec ts = { 0, 20 * 1000 * 1000 };
    nanosleep(&ts, NULL);
    __atomic_store_n(c->flag, 1, __ATOMIC_SEQ_CST);
    xf_sim_kick(c->sim);
    return NULL;
}

START_TEST(wait_any_cancel_from_another_thread)
{
    struct xf_sim *sim = xf_sim_create(NULL);
    ck_assert_ptr_nonnull(sim);
    volatile int flag = 0;
    struct canceller c = { sim, &flag };
    pthread_t t;
    ck_assert_int_eq(pthread_create(&t, NULL, cancel_later, &c), 0);
    ck_assert_int_eq(xf_sim_evtchn_wait_any(sim, 0, NULL, 0, &flag, in_ms(10000)), -XF_EINTR);
    pthread_join(t, NULL);
    xf_sim_destroy(sim);
}
END_TEST

START_TEST(backing_maps_side_by_side)
{
    struct xf_sim *sim = xf_sim_create(NULL);
    ck_assert_ptr_nonnull(sim);
    domid_t G = xf_sim_guest_domid(sim);
    grant_entry_v1_t *gt = xf_sim_grant_table(sim, G);
    xf_sim_set_current(sim, G);
    char *a = xf_plat_page_alloc(1), *b = xf_plat_page_alloc(1);
    ck_assert_ptr_nonnull(a);
    ck_assert_ptr_nonnull(b);
    strcpy(a, "page a");
    strcpy(b, "page b");
    grant(gt, 10, a, false);
    grant(gt, 11, b, true);

    grant_handle_t ha, hb;
    int16_t st;
    ck_assert_ptr_nonnull(xf_sim_map_grant(sim, 0, G, 10, false, &ha, &st));
    ck_assert_ptr_nonnull(xf_sim_map_grant(sim, 0, G, 11, true, &hb, &st));

    char *two = mmap(NULL, 2 * 4096, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    ck_assert_ptr_ne(two, MAP_FAILED);
    off_t off;
    int fd = xf_sim_grant_backing(sim, 0, ha, &off);
    ck_assert_int_ge(fd, 0);
    ck_assert_ptr_ne(mmap(two, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_FIXED, fd, off),
                     MAP_FAILED);
    fd = xf_sim_grant_backing(sim, 0, hb, &off);
    ck_assert_int_ge(fd, 0);
    ck_assert_ptr_ne(mmap(two + 4096, 4096, PROT_READ, MAP_SHARED | MAP_FIXED, fd, off),
                     MAP_FAILED);
    ck_assert_str_eq(two, "page a");
    ck_assert_str_eq(two + 4096, "page b");
    strcpy(two, "written by dom0");
    ck_assert_str_eq(a, "written by dom0");
    munmap(two, 2 * 4096);

    ck_assert_int_eq(xf_sim_grant_backing(sim, 0, 999, &off), -XF_EINVAL);
    ck_assert_int_eq(xf_sim_grant_backing(sim, 77, ha, &off), -XF_ESRCH);
    ck_assert_int_eq(xf_sim_unmap_grant(sim, 0, ha), GNTST_okay);
    ck_assert_int_eq(xf_sim_grant_backing(sim, 0, ha, &off), -XF_EINVAL);
    ck_assert_int_eq(xf_sim_unmap_grant(sim, 0, hb), GNTST_okay);

    /* A domain's own gfn: the guest's console page, as privcmd maps it. */
    fd = xf_sim_gfn_backing(sim, G, xf_sim_console_gfn(sim), &off);
    ck_assert_int_ge(fd, 0);
    char *con = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd, off);
    ck_assert_ptr_ne(con, MAP_FAILED);
    char *gcon = xf_sim_gfn_to_va(sim, G, xf_sim_console_gfn(sim));
    gcon[100] = 'x';
    ck_assert_int_eq(con[100], 'x');
    munmap(con, 4096);
    ck_assert_int_eq(xf_sim_gfn_backing(sim, G, 1u << 30, &off), -XF_EINVAL);
    ck_assert_int_eq(xf_sim_gfn_backing(sim, 77, 1, &off), -XF_ESRCH);
    xf_plat_page_free(a, 1);
    xf_plat_page_free(b, 1);
    xf_sim_destroy(sim);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("sim-backing");
    TCase *tc = tcase_create("backing");
    tcase_set_timeout(tc, 30);
    tcase_add_test(tc, wait_any_ports_and_cancel);
    tcase_add_test(tc, wait_any_cancel_from_another_thread);
    tcase_add_test(tc, backing_maps_side_by_side);
    suite_add_tcase(s, tc);
    return xf_check_run(s);
}
