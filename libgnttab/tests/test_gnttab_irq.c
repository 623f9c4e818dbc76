/*
 * libgnttab under the one concurrency rule: the kernel's main flow and this
 * vCPU's event handler use one grant context at once, and the embedder
 * masks nothing. The simulator's emulated interrupts (a signal that runs
 * the "handler" wherever the main thread is, unless it is inside
 * xf_plat_irq_save) hit the main flow in the middle of its grant calls,
 * thousands of times; no reference may ever be handed out twice and every
 * count must come back to where it started.
 */
#include "gnttab_test.h"

#include <signal.h>
#include <stdatomic.h>
#include <time.h>

#define MAXREF 4096
#define MAIN_BATCH 8
#define BIG 256

/* Who holds each ref right now: 0 nobody, 1 main flow, 2 handler. */
static volatile sig_atomic_t holder[MAXREF];
static volatile sig_atomic_t handler_errors, double_grants;
static atomic_bool stop_raising;
static xen_pfn_t some_gfn;

static bool take(grant_ref_t ref, int who)
{
    if (ref >= MAXREF || holder[ref] != 0) {
        double_grants++;
        return false;
    }
    holder[ref] = who;
    return true;
}

/* The "event handler": what a driver's completion path does. It keeps up
 * to STASH grants of its own across interrupts and alternates between
 * granting and ending them, so each run changes the free list (a handler
 * whose every run undoes itself would hide a corrupted list). */
#define STASH 64
static grant_ref_t stash[STASH];
static volatile sig_atomic_t nstash, hcalls;

static void handler(void *arg)
{
    grant_ref_t ref, pair[2];

    (void)arg;
    hcalls++;
    if ((hcalls / STASH) % 2 == 0 && nstash < STASH) {
        if (xf_gnttab_grant_access(gt, 0, some_gfn, true, &ref) != 0) {
            handler_errors++;
            return;
        }
        if (take(ref, 2))
            stash[nstash++] = ref;
    } else if (nstash > 0) {
        ref = stash[--nstash];
        holder[ref] = 0;
        if (xf_gnttab_end_access(gt, ref) != 0)
            handler_errors++;
    }
    if (xf_gnttab_alloc_refs(gt, pair, 2) != 0) {
        handler_errors++;
        return;
    }
    if (take(pair[0], 2) && take(pair[1], 2)) {
        holder[pair[0]] = holder[pair[1]] = 0;
        if (xf_gnttab_free_refs(gt, pair, 2) != 0)
            handler_errors++;
    }
}

static void *raiser(void *arg)
{
    pthread_t target = *(pthread_t *)arg;

    while (!atomic_load(&stop_raising)) {
        (void)xf_sim_irq_raise(target);
        /* Space interrupts out (about 20 us), as a device's are: a storm
         * would only starve the main flow. Pacing, not synchronisation:
         * the test's outcome never depends on it. */
        nanosleep(&(struct timespec){ .tv_nsec = 20000 }, NULL);
    }
    return NULL;
}

START_TEST(handler_and_main_flow_share_one_context)
{
    bool vg = getenv("XF_VALGRIND") != NULL;
    unsigned iters = vg ? 200 : 2000;
    uint64_t min_direct = vg ? 20 : 2000, min_deferred = vg ? 5 : 100;
    struct xf_gnttab_stats before, after;
    uint64_t direct = 0, deferred = 0;
    pthread_t self = pthread_self(), t;
    uint8_t *page = gt_page(1);

    some_gfn = xf_plat_virt_to_gfn(page);
    /* No growth from the handler: the table is big enough from the start. */
    ck_assert_int_eq(xf_gnttab_grow(gt, 1024), 0);
    before = gt_stats();
    ck_assert_int_eq(xf_sim_irq_install(handler, NULL), 0);
    xf_sim_irq_self_every(16);
    atomic_store(&stop_raising, false);
    ck_assert_int_eq(pthread_create(&t, NULL, raiser, &self), 0);
    /* Run until interrupts have landed both inside the library's critical
     * sections (held off, then delivered) and outside them (taken at once),
     * enough of each to matter; a deadline keeps a starved raiser from
     * hanging the test. */
    uint64_t deadline = xf_plat_now_ns() + (vg ? 120ull : 30ull) * 1000000000ull;
    for (unsigned i = 0; i < iters || direct < min_direct || deferred < min_deferred; i++) {
        grant_ref_t refs[MAIN_BATCH];
        static grant_ref_t batch[BIG];

        ck_assert_msg(xf_plat_now_ns() < deadline, "direct %lu deferred %lu", (unsigned long)direct, (unsigned long)deferred);
        if (i % 256 == 0)
            xf_sim_irq_counts(&direct, &deferred);
        unsigned n = 1 + i % MAIN_BATCH;

        for (unsigned k = 0; k < n; k++) {
            ck_assert_int_eq(xf_gnttab_grant_access(gt, 0, some_gfn, false, &refs[k]), 0);
            ck_assert(take(refs[k], 1));
        }
        for (unsigned k = 0; k < n; k++) {
            holder[refs[k]] = 0;
            ck_assert_int_eq(xf_gnttab_end_access(gt, refs[k]), 0);
        }
        /* A batch reservation: a longer critical section, so interrupts
         * land inside one often enough. */
        ck_assert_int_eq(xf_gnttab_alloc_refs(gt, batch, BIG), 0);
        for (unsigned k = 0; k < BIG; k++)
            ck_assert(take(batch[k], 1));
        for (unsigned k = 0; k < BIG; k++)
            holder[batch[k]] = 0;
        ck_assert_int_eq(xf_gnttab_free_refs(gt, batch, BIG), 0);
    }
    atomic_store(&stop_raising, true);
    pthread_join(t, NULL);
    xf_sim_irq_counts(&direct, &deferred);
    xf_sim_irq_self_every(0);
    xf_sim_irq_uninstall();
    while (nstash > 0) {
        grant_ref_t ref = stash[--nstash];

        holder[ref] = 0;
        ck_assert_int_eq(xf_gnttab_end_access(gt, ref), 0);
    }
    after = gt_stats();
    /* The free list itself is intact: every free ref can be reserved at
     * once, each exactly once. */
    {
        static grant_ref_t all[MAXREF];

        ck_assert_uint_le(after.free_refs, MAXREF);
        ck_assert_int_eq(xf_gnttab_alloc_refs(gt, all, after.free_refs), 0);
        for (uint32_t k = 0; k < after.free_refs; k++)
            ck_assert(take(all[k], 1));
        for (uint32_t k = 0; k < after.free_refs; k++)
            holder[all[k]] = 0;
        ck_assert_int_eq(xf_gnttab_free_refs(gt, all, after.free_refs), 0);
    }
    ck_assert_int_eq(double_grants, 0);
    ck_assert_int_eq(handler_errors, 0);
    ck_assert_uint_eq(after.free_refs, before.free_refs);
    ck_assert_uint_eq(after.granted_refs, 0);
    ck_assert_uint_eq(after.reserved_refs, 0);
    /* The test is only worth something if interrupts really landed inside
     * the library's critical sections (held off) and outside (taken). */
    ck_assert_msg(direct >= min_direct && getenv("XF_IRQ_SHOW") == NULL, "direct %lu deferred %lu", (unsigned long)direct, (unsigned long)deferred);
    ck_assert_uint_ge(deferred, min_deferred);
    xf_plat_page_free(page, 1);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("gnttab-irq");
    TCase *tc = tcase_create("irq");

    tcase_add_checked_fixture(tc, gt_setup, gt_teardown);
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, handler_and_main_flow_share_one_context);
    suite_add_tcase(s, tc);
    return xf_check_run(s);
}
