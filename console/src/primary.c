/*
 * console/src/primary.c: the primary console, the one the domain builder
 * sets up (HVM params: a guest frame and an event channel).
 */
#include "private.h"

int xf_console_hvm_params(uint64_t *pfn, evtchn_port_t *port)
{
    struct xen_hvm_param p;
    long rc;
    uint64_t frame, evtchn;

    memset(&p, 0, sizeof(p));
    p.domid = DOMID_SELF;
    p.index = HVM_PARAM_CONSOLE_PFN;
    rc = xf_plat_hvm_op(HVMOP_get_param, &p);
    if (rc < 0)
        return (int)rc;
    frame = p.value;

    memset(&p, 0, sizeof(p));
    p.domid = DOMID_SELF;
    p.index = HVM_PARAM_CONSOLE_EVTCHN;
    rc = xf_plat_hvm_op(HVMOP_get_param, &p);
    if (rc < 0)
        return (int)rc;
    evtchn = p.value;

    if (frame == 0 || evtchn == 0)
        return -XF_ENOENT;
    if (evtchn >= XF_EVTCHN_NR_PORTS)
        return -XF_ERANGE;
    if (pfn != NULL)
        *pfn = frame;
    if (port != NULL)
        *port = (evtchn_port_t)evtchn;
    return 0;
}

int xf_console_create(struct xf_console **out, struct xf_evtchn *ec, void *page,
                      evtchn_port_t port, const struct xf_console_config *cfg)
{
    struct xf_console *con;
    int rc;

    if (out == NULL || ec == NULL || page == NULL || port == 0)
        return -XF_EINVAL;
    con = xf_plat_page_alloc(1);
    if (con == NULL)
        return -XF_ENOMEM;
    memset(con, 0, sizeof(*con));
    con->ec = ec;
    con->port = port;
    rc = xf_console__init(con, page, cfg);
    if (rc < 0)
        goto fail;
    /* Adopt the port, or take it back from an earlier console on this ec
     * that released it; input that arrived before us is delivered once
     * the handler is in. */
    rc = xf_evtchn_take(ec, port, xf_console__handler, con);
    if (rc < 0)
        goto fail;
    xf_log(XF_LOG_INFO, "console: primary console on port %u", (unsigned)port);
    *out = con;
    return 0;
fail:
    xf_plat_page_free(con, 1);
    return rc;
}

void xf_console_destroy(struct xf_console *con)
{
    if (con == NULL)
        return;
    if (con->ops != NULL) {
        /* A secondary console has a grant, a port and xenstore state to
         * give back: only xf_console_secondary_close() knows how. */
        xf_log(XF_LOG_ERROR, "console: xf_console_destroy on a secondary console: ignored");
        return;
    }
    /* Keep the domain builder's port open (see the header): released,
     * so nothing runs on a freed context and a later create takes it. */
    (void)xf_evtchn_release(con->ec, con->port);
    xf_plat_page_free(con, 1);
}
