/*
 * What libgnttab's tests share: a simulator with the guest as the current
 * domain (the library under test runs as the guest, through the seam) and
 * dom0 as the back end, acting through the simulator's API.
 */
#ifndef GNTTAB_TEST_H
#define GNTTAB_TEST_H

#include <xenfront/errno.h>
#include <xenfront/gnttab.h>
#include <xenfront/sim.h>

#include <check.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "xf_check.h"

static struct xf_sim *sim;
static domid_t G;               /* the guest: the library's domain */
static struct xf_gnttab *gt;

/* A simulator with the given guest config (NULL: defaults), and a
 * library context over the guest's grant table. */
static inline void gt_setup_cfg(const struct xf_sim_domain_config *guest,
                                const struct xf_gnttab_config *cfg)
{
    struct xf_sim_config sc;

    memset(&sc, 0, sizeof(sc));
    if (guest != NULL)
        sc.guest = *guest;
    sim = xf_sim_create(&sc);
    ck_assert_ptr_nonnull(sim);
    G = xf_sim_guest_domid(sim);
    xf_sim_set_current(sim, G);
    ck_assert_int_eq(xf_gnttab_create(&gt, cfg), 0);
    ck_assert_ptr_nonnull(gt);
}

static inline void gt_setup(void)
{
    gt_setup_cfg(NULL, NULL);
}

static inline void gt_teardown(void)
{
    /* Tests leave nothing live; destroy must then succeed. */
    if (gt != NULL)
        ck_assert_int_eq(xf_gnttab_destroy(gt), 0);
    gt = NULL;
    xf_sim_destroy(sim);
    sim = NULL;
}

/* A fresh guest page with a recognisable pattern. */
static inline uint8_t *gt_page(uint8_t fill)
{
    uint8_t *p = xf_plat_page_alloc(1);

    ck_assert_ptr_nonnull(p);
    memset(p, fill, XF_PAGE_SIZE);
    return p;
}

/* The guest's view of its own table entry, as Xen reads it. */
static inline uint16_t gt_flags(grant_ref_t ref)
{
    grant_entry_v1_t *t = xf_sim_grant_table(sim, G);

    return __atomic_load_n(&t[ref].flags, __ATOMIC_ACQUIRE);
}

static inline struct xf_gnttab_stats gt_stats(void)
{
    struct xf_gnttab_stats st;

    xf_gnttab_get_stats(gt, &st);
    return st;
}

#endif /* GNTTAB_TEST_H */
