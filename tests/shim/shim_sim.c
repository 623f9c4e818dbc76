/* The shim's simulator half: dom0's hypercalls through libxfsim. */
#include "shim.h"

#include <xenfront/sim.h>
#include <xenfront/errno.h>

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

static struct xf_sim *sim;
static int attach_rc = -ENXIO;
static pthread_once_t once = PTHREAD_ONCE_INIT;

static void do_attach(void)
{
    const char *dir = getenv("XF_SIM_DIR");

    if (dir == NULL || *dir == '\0') {
        fprintf(stderr, "xfshim: XF_SIM_DIR is not set: no simulator to act as dom0 in\n");
        attach_rc = -ENXIO;
        return;
    }
    sim = xf_sim_attach(dir);
    if (sim == NULL) {
        fprintf(stderr, "xfshim: cannot attach to the simulator in %s\n", dir);
        attach_rc = -ENXIO;
        return;
    }
    /* Every xf_plat_* call of this process is dom0's. */
    xf_sim_set_current(sim, 0);
    attach_rc = 0;
}

int shim_attach(void)
{
    pthread_once(&once, do_attach);
    return attach_rc;
}

#define NEED_SIM(fail) do { if (shim_attach() < 0) return (fail); } while (0)

bool shim_domain_exists(uint32_t domid)
{
    NEED_SIM(false);
    return domid < DOMID_FIRST_RESERVED && xf_sim_domain_exists(sim, (domid_t)domid);
}

int shim_domain_shutdown_reason(uint32_t domid)
{
    NEED_SIM(-1);
    int r = xf_sim_domain_shutdown_reason(sim, (domid_t)domid);
    return r < 0 ? -1 : r;
}

uint64_t shim_hvm_param(uint32_t domid, unsigned int index)
{
    NEED_SIM(0);
    return xf_sim_hvm_param(sim, (domid_t)domid, index);
}

int shim_evtchn_bind_interdomain(uint32_t remote_dom, uint32_t remote_port)
{
    NEED_SIM(-ENXIO);
    return xf_sim_evtchn_bind_interdomain(sim, 0, (domid_t)remote_dom, remote_port);
}

int shim_evtchn_alloc_unbound(uint32_t remote_dom)
{
    NEED_SIM(-ENXIO);
    return xf_sim_evtchn_alloc_unbound(sim, 0, (domid_t)remote_dom);
}

int shim_evtchn_bind_virq(unsigned int virq)
{
    NEED_SIM(-ENXIO);
    struct evtchn_bind_virq b = { .virq = virq, .vcpu = 0 };
    long rc = xf_sim_event_channel_op(sim, 0, EVTCHNOP_bind_virq, &b);
    return rc < 0 ? (int)rc : (int)b.port;
}

int shim_evtchn_close(uint32_t port)
{
    NEED_SIM(-ENXIO);
    return xf_sim_evtchn_close(sim, 0, port);
}

int shim_evtchn_send(uint32_t port)
{
    NEED_SIM(-ENXIO);
    return xf_sim_evtchn_send(sim, 0, port);
}

int shim_evtchn_status(void *status)
{
    NEED_SIM(-ENXIO);
    return (int)xf_sim_event_channel_op(sim, 0, EVTCHNOP_status, status);
}

int shim_evtchn_wait_any(const uint32_t *ports, unsigned int n, const volatile int *cancel)
{
    NEED_SIM(-ENXIO);
    int rc = xf_sim_evtchn_wait_any(sim, 0, ports, n, cancel, ~(uint64_t)0);
    return rc == -XF_EINTR ? -EINTR : rc;
}

void shim_kick(void)
{
    if (shim_attach() == 0)
        xf_sim_kick(sim);
}

void *shim_map_grant(uint32_t granter, uint32_t ref, bool readonly, uint32_t *handle,
                     int16_t *status)
{
    grant_handle_t h = 0;

    if (shim_attach() < 0) {
        *status = GNTST_general_error;
        return NULL;
    }
    void *va = xf_sim_map_grant(sim, 0, (domid_t)granter, ref, readonly, &h, status);
    *handle = h;
    return va;
}

int16_t shim_unmap_grant(uint32_t handle)
{
    NEED_SIM(GNTST_general_error);
    return (int16_t)xf_sim_unmap_grant(sim, 0, (grant_handle_t)handle);
}

int shim_grant_backing(uint32_t handle, off_t *off)
{
    NEED_SIM(-ENXIO);
    return xf_sim_grant_backing(sim, 0, (grant_handle_t)handle, off);
}

int shim_gfn_backing(uint32_t domid, uint64_t gfn, off_t *off)
{
    NEED_SIM(-ENXIO);
    return xf_sim_gfn_backing(sim, (domid_t)domid, (xen_pfn_t)gfn, off);
}
