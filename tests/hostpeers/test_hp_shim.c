/*
 * The shim's interfaces, called directly (this test links libxfshim.so), as
 * the dom0 programs call them, against a simulator whose guest is this
 * process: Xen's grant checks and GNTST_* statuses, contiguous multi-grant
 * maps, grant copy (zero-length included), foreign memory maps, event
 * channel handles as pollable fds (pending() is 0 when nothing is pending),
 * libxenctrl's domain list, and xenstored's /proc/xen files.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <check.h>
#include <xf_check.h>

#include <xenfront/errno.h>
#include <xenfront/sim.h>

#include <xenevtchn.h>
#include <xengnttab.h>
#include <xenforeignmemory.h>

#include "shim_test_xc.h"

static struct xf_sim *sim;
static domid_t G;
static grant_entry_v1_t *gt;
static char *pg[4];

static uint16_t flags_of(grant_ref_t ref)
{
    return __atomic_load_n(&gt[ref].flags, __ATOMIC_ACQUIRE);
}

static void grant(grant_ref_t ref, void *page, domid_t to, bool ro)
{
    gt[ref].frame = (uint32_t)xf_plat_virt_to_gfn(page);
    gt[ref].domid = to;
    __atomic_store_n(&gt[ref].flags, (uint16_t)(GTF_permit_access | (ro ? GTF_readonly : 0)),
                     __ATOMIC_RELEASE);
}

static void setup(void)
{
    sim = xf_sim_create(NULL);
    ck_assert_ptr_nonnull(sim);
    G = xf_sim_guest_domid(sim);
    gt = xf_sim_grant_table(sim, G);
    setenv("XF_SIM_DIR", xf_sim_dir(sim), 1);
    for (int i = 0; i < 4; i++) {
        pg[i] = xf_plat_page_alloc(1);
        ck_assert_ptr_nonnull(pg[i]);
        snprintf(pg[i], 64, "guest page %d", i);
    }
    grant(10, pg[0], 0, false);
    grant(11, pg[1], 0, false);
    grant(12, pg[2], 0, true);   /* read-only */
    grant(13, pg[3], 5, false);  /* for another domain */
}

static void teardown(void)
{
    xf_sim_destroy(sim);
    sim = NULL;
}

START_TEST(gnttab_single_maps_and_checks)
{
    xengnttab_handle *h = xengnttab_open(NULL, 0);
    ck_assert_ptr_nonnull(h);
    ck_assert_int_eq(xengnttab_set_max_grants(h, 16), 0);

    char *m = xengnttab_map_grant_ref(h, G, 10, PROT_READ | PROT_WRITE);
    ck_assert_ptr_nonnull(m);
    ck_assert_str_eq(m, "guest page 0");
    strcpy(m, "dom0 wrote");
    ck_assert_str_eq(pg[0], "dom0 wrote");
    ck_assert_uint_eq(flags_of(10), GTF_permit_access | GTF_reading | GTF_writing);
    /* The guest cannot take the page back while it is mapped (pinned). */
    ck_assert_int_eq(xengnttab_unmap(h, m, 1), 0);
    ck_assert_uint_eq(flags_of(10), GTF_permit_access);
    ck_assert_int_eq(xengnttab_unmap(h, m, 1), -1);
    ck_assert_int_eq(errno, EINVAL);

    /* Read-only grant: refused for writing, fine for reading. */
    errno = 0;
    ck_assert_ptr_null(xengnttab_map_grant_ref(h, G, 12, PROT_READ | PROT_WRITE));
    ck_assert_int_ne(errno, 0);
    ck_assert_uint_eq(flags_of(12), GTF_permit_access | GTF_readonly);
    m = xengnttab_map_grant_ref(h, G, 12, PROT_READ);
    ck_assert_ptr_nonnull(m);
    ck_assert_str_eq(m, "guest page 2");
    ck_assert_uint_eq(flags_of(12), GTF_permit_access | GTF_readonly | GTF_reading);
    ck_assert_int_eq(xengnttab_unmap(h, m, 1), 0);
    /* Granted to another domain; not granted; no such domain. */
    ck_assert_ptr_null(xengnttab_map_grant_ref(h, G, 13, PROT_READ));
    ck_assert_ptr_null(xengnttab_map_grant_ref(h, G, 20, PROT_READ));
    ck_assert_ptr_null(xengnttab_map_grant_ref(h, 77, 10, PROT_READ));
    ck_assert_int_eq(errno, ESRCH);
    /* The builder's reserved refs: 0 console, 1 xenstore. */
    m = xengnttab_map_grant_ref(h, G, GNTTAB_RESERVED_XENSTORE, PROT_READ | PROT_WRITE);
    ck_assert_ptr_nonnull(m);
    char *store = xf_sim_gfn_to_va(sim, G, xf_sim_store_gfn(sim));
    store[5] = 'S';
    ck_assert_int_eq(m[5], 'S');
    ck_assert_int_eq(xengnttab_close(h), 0); /* unmaps what is left */
    ck_assert_uint_eq(flags_of(GNTTAB_RESERVED_XENSTORE), GTF_permit_access);
}
END_TEST

START_TEST(gnttab_contiguous_multi_grant_map)
{
    xengnttab_handle *h = xengnttab_open(NULL, 0);
    uint32_t refs[2] = { 10, 11 };

    ck_assert_ptr_nonnull(h);
    char *m = xengnttab_map_domain_grant_refs(h, 2, G, refs, PROT_READ | PROT_WRITE);
    ck_assert_ptr_nonnull(m);
    ck_assert_str_eq(m, "guest page 0");
    ck_assert_str_eq(m + 4096, "guest page 1");
    strcpy(m + 4096, "second page, via dom0's contiguous map");
    ck_assert_str_eq(pg[1], "second page, via dom0's contiguous map");
    ck_assert_uint_eq(flags_of(11), GTF_permit_access | GTF_reading | GTF_writing);
    ck_assert_int_eq(xengnttab_unmap(h, m, 2), 0);
    ck_assert_uint_eq(flags_of(10), GTF_permit_access);
    ck_assert_uint_eq(flags_of(11), GTF_permit_access);
    /* One bad ref fails the whole map and leaves no pin behind. */
    uint32_t bad[3] = { 10, 11, 13 };
    ck_assert_ptr_null(xengnttab_map_domain_grant_refs(h, 3, G, bad, PROT_READ));
    ck_assert_uint_eq(flags_of(10), GTF_permit_access);
    ck_assert_uint_eq(flags_of(11), GTF_permit_access);
    /* Different granters per ref (map_grant_refs). */
    uint32_t doms[2] = { G, G };
    m = xengnttab_map_grant_refs(h, 2, doms, refs, PROT_READ);
    ck_assert_ptr_nonnull(m);
    ck_assert_str_eq(m, "guest page 0");
    ck_assert_int_eq(xengnttab_unmap(h, m, 2), 0);
    ck_assert_int_eq(xengnttab_close(h), 0);
}
END_TEST

START_TEST(gnttab_copy_statuses)
{
    xengnttab_handle *h = xengnttab_open(NULL, 0);
    char local[64] = "from dom0's own memory";
    char back[64] = { 0 };

    ck_assert_ptr_nonnull(h);
    /* The feature probe QEMU makes: no segments. */
    ck_assert_int_eq(xengnttab_grant_copy(h, 0, NULL), 0);
    xengnttab_grant_copy_segment_t s[6];
    memset(s, 0, sizeof(s));
    /* virt -> gref */
    s[0].source.virt = local;
    s[0].dest.foreign.ref = 10;
    s[0].dest.foreign.domid = G;
    s[0].dest.foreign.offset = 100;
    s[0].len = (uint16_t)(strlen(local) + 1);
    s[0].flags = GNTCOPY_dest_gref;
    /* gref -> virt */
    s[1].source.foreign.ref = 11;
    s[1].source.foreign.domid = G;
    s[1].dest.virt = back;
    s[1].len = 13;
    s[1].flags = GNTCOPY_source_gref;
    /* zero length */
    s[2].source.foreign.ref = 11;
    s[2].source.foreign.domid = G;
    s[2].dest.virt = back + 32;
    s[2].len = 0;
    s[2].flags = GNTCOPY_source_gref;
    /* into a read-only grant */
    s[3].source.virt = local;
    s[3].dest.foreign.ref = 12;
    s[3].dest.foreign.domid = G;
    s[3].len = 4;
    s[3].flags = GNTCOPY_dest_gref;
    /* past the end of the page */
    s[4].source.foreign.ref = 10;
    s[4].source.foreign.domid = G;
    s[4].source.foreign.offset = 4090;
    s[4].dest.virt = back;
    s[4].len = 10;
    s[4].flags = GNTCOPY_source_gref;
    /* a ref beyond the table */
    s[5].source.foreign.ref = 1u << 20;
    s[5].source.foreign.domid = G;
    s[5].dest.virt = back;
    s[5].len = 1;
    s[5].flags = GNTCOPY_source_gref;
    ck_assert_int_eq(xengnttab_grant_copy(h, 6, s), 0);
    ck_assert_int_eq(s[0].status, GNTST_okay);
    ck_assert_str_eq(pg[0] + 100, "from dom0's own memory");
    ck_assert_int_eq(s[1].status, GNTST_okay);
    ck_assert_str_eq(back, "guest page 1");
    ck_assert_int_eq(s[2].status, GNTST_okay);
    ck_assert_int_eq(s[3].status, GNTST_general_error);
    ck_assert_int_eq(s[4].status, GNTST_bad_copy_arg);
    ck_assert_int_eq(s[5].status, GNTST_bad_gntref);
    /* Copies hold no pin afterwards. */
    ck_assert_uint_eq(flags_of(10), GTF_permit_access);
    ck_assert_uint_eq(flags_of(11), GTF_permit_access);
    ck_assert_int_eq(xengnttab_close(h), 0);
}
END_TEST

START_TEST(foreignmemory_maps_guest_frames)
{
    xenforeignmemory_handle *f = xenforeignmemory_open(NULL, 0);
    ck_assert_ptr_nonnull(f);
    xen_pfn_t pfns[3] = { xf_sim_console_gfn(sim), xf_plat_virt_to_gfn(pg[1]), 1u << 30 };
    int err[3] = { 1, 1, 1 };
    char *m = xenforeignmemory_map(f, G, PROT_READ | PROT_WRITE, 3, pfns, err);
    ck_assert_ptr_nonnull(m);
    ck_assert_int_eq(err[0], 0);
    ck_assert_int_eq(err[1], 0);
    ck_assert_int_lt(err[2], 0);
    ck_assert_str_eq(m + 4096, "guest page 1");
    char *con = xf_sim_gfn_to_va(sim, G, xf_sim_console_gfn(sim));
    m[7] = 'Q';
    ck_assert_int_eq(con[7], 'Q');
    ck_assert_int_eq(xenforeignmemory_unmap(f, m, 3), 0);
    /* Without err[], one bad frame fails the map. */
    ck_assert_ptr_null(xenforeignmemory_map(f, G, PROT_READ, 3, pfns, NULL));
    ck_assert_ptr_null(xenforeignmemory_map(f, 77, PROT_READ, 1, pfns, err));
    ck_assert_int_eq(errno, ESRCH);
    ck_assert_int_eq(xenforeignmemory_close(f), 0);
}
END_TEST

static bool readable(int fd, int ms)
{
    struct pollfd p = { .fd = fd, .events = POLLIN };
    return poll(&p, 1, ms) == 1 && (p.revents & POLLIN);
}

START_TEST(evtchn_handles_are_pollable_fds)
{
    xenevtchn_handle *a = xenevtchn_open(NULL, 0), *b = xenevtchn_open(NULL, 0);
    ck_assert_ptr_nonnull(a);
    ck_assert_ptr_nonnull(b);
    ck_assert_int_ne(xenevtchn_fd(a), xenevtchn_fd(b));
    ck_assert_int_eq(xenevtchn_pending(a), 0); /* nothing: 0, never -1 */

    int gp = xf_sim_evtchn_alloc_unbound(sim, G, 0);
    ck_assert_int_gt(gp, 0);
    int lp = xenevtchn_bind_interdomain(a, G, (evtchn_port_t)gp);
    ck_assert_int_gt(lp, 0);
    /* The bind raises the new port once (Xen's rule), as the evtchn device
     * then reports it. */
    ck_assert(readable(xenevtchn_fd(a), 5000));
    ck_assert_int_eq(xenevtchn_pending(a), lp);
    ck_assert_int_eq(xenevtchn_unmask(a, (evtchn_port_t)lp), 0);
    ck_assert(!readable(xenevtchn_fd(a), 50));
    ck_assert_int_eq(xenevtchn_pending(a), 0);

    /* The guest notifies: only a's fd becomes readable. */
    ck_assert_int_eq(xf_sim_evtchn_send(sim, G, (evtchn_port_t)gp), 0);
    ck_assert(readable(xenevtchn_fd(a), 5000));
    ck_assert(!readable(xenevtchn_fd(b), 20));
    ck_assert_int_eq(xenevtchn_pending(a), lp);
    /* dom0 notifies the guest. */
    xf_sim_evtchn_test_and_clear(sim, G, (evtchn_port_t)gp);
    ck_assert_int_eq(xenevtchn_notify(a, (evtchn_port_t)lp), 0);
    ck_assert(xf_sim_evtchn_test_and_clear(sim, G, (evtchn_port_t)gp));

    /* An unbound port for the guest to bind to, on handle b. */
    int up = xenevtchn_bind_unbound_port(b, G);
    ck_assert_int_gt(up, 0);
    struct evtchn_bind_interdomain bi = { .remote_dom = 0, .remote_port = (evtchn_port_t)up };
    ck_assert_int_eq(xf_sim_event_channel_op(sim, G, EVTCHNOP_bind_interdomain, &bi), 0);
    struct evtchn_send snd = { .port = bi.local_port };
    ck_assert_int_eq(xf_sim_event_channel_op(sim, G, EVTCHNOP_send, &snd), 0);
    ck_assert(readable(xenevtchn_fd(b), 5000));
    ck_assert_int_eq(xenevtchn_pending(b), up);

    /* Unbinding through the wrong handle is refused; close unbinds all. */
    ck_assert_int_eq(xenevtchn_unbind(b, (evtchn_port_t)lp), -1);
    ck_assert_int_eq(xenevtchn_unbind(a, (evtchn_port_t)lp), 0);
    ck_assert_int_eq(xenevtchn_close(a), 0);
    ck_assert_int_eq(xenevtchn_close(b), 0);
    struct evtchn_status st = { .dom = DOMID_SELF, .port = bi.local_port };
    ck_assert_int_eq(xf_sim_event_channel_op(sim, G, EVTCHNOP_status, &st), 0);
    ck_assert_uint_eq(st.status, EVTCHNSTAT_unbound);
}
END_TEST

START_TEST(xenctrl_domains_and_xsd_files)
{
    uint32_t ids[8];
    int running[8];

    ck_assert_int_eq(shim_test_domains(0, 8, ids, running), 2);
    ck_assert_uint_eq(ids[0], 0);
    ck_assert_uint_eq(ids[1], G);
    ck_assert(running[1]);
    ck_assert_int_eq(shim_test_domains(G, 1, ids, running), 1);
    ck_assert_uint_eq(ids[0], G);
    ck_assert_int_eq(shim_test_domains(G + 1, 8, ids, running), 0);

    /* xenstored's dom0 files: a port unbound for dom0 itself, and a page. */
    char buf[32] = { 0 };
    int fd = open("/proc/xen/xsd_port", O_RDONLY);
    ck_assert_int_ge(fd, 0);
    ck_assert_int_gt(read(fd, buf, sizeof(buf) - 1), 0);
    close(fd);
    int port = atoi(buf);
    ck_assert_int_gt(port, 0);
    struct evtchn_status st = { .dom = DOMID_SELF, .port = (evtchn_port_t)port };
    ck_assert_int_eq(xf_sim_event_channel_op(sim, 0, EVTCHNOP_status, &st), 0);
    ck_assert_uint_eq(st.status, EVTCHNSTAT_unbound);
    ck_assert_uint_eq(st.u.unbound.dom, 0);
    FILE *f = fopen("/proc/xen/xsd_port", "r");
    ck_assert_ptr_nonnull(f);
    int again = -1;
    ck_assert_int_eq(fscanf(f, "%d", &again), 1);
    fclose(f);
    ck_assert_int_eq(again, port); /* one port per process */
    fd = open("/proc/xen/xsd_kva", O_RDWR);
    ck_assert_int_ge(fd, 0);
    void *kva = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    ck_assert_ptr_ne(kva, MAP_FAILED);
    ck_assert_int_eq(((char *)kva)[0], 0);
    munmap(kva, 4096);
    close(fd);
    /* Everything else is the C library's. */
    ck_assert_int_lt(open("/proc/xen/other", O_RDONLY), 0);
    fd = open("/dev/null", O_RDONLY);
    ck_assert_int_ge(fd, 0);
    close(fd);
}
END_TEST

int main(void)
{
    Suite *su = suite_create("hostpeers-shim");
    TCase *tc = tcase_create("shim");
    tcase_set_timeout(tc, 30);
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, gnttab_single_maps_and_checks);
    tcase_add_test(tc, gnttab_contiguous_multi_grant_map);
    tcase_add_test(tc, gnttab_copy_statuses);
    tcase_add_test(tc, foreignmemory_maps_guest_frames);
    tcase_add_test(tc, evtchn_handles_are_pollable_fds);
    tcase_add_test(tc, xenctrl_domains_and_xsd_files);
    suite_add_tcase(su, tc);
    return xf_check_run(su);
}
