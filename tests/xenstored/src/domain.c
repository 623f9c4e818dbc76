/*
 * The domain operations, as xenstored 4.17 has them
 * (tools/xenstore/xenstored_domain.c), rewritten from their documented
 * behaviour: the special nodes' permissions, the domain path, and the
 * dom0-only operations the guest is refused.
 */
#define _GNU_SOURCE
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

#include "private.h"

const struct xs_perm *xsd_get_perms_special(struct xf_xsd *x, const char *name,
                                            unsigned *num)
{
    if (strcmp(name, "@releaseDomain") == 0) {
        *num = x->n_special_release;
        return x->special_release;
    }
    if (strcmp(name, "@introduceDomain") == 0) {
        *num = x->n_special_introduce;
        return x->special_introduce;
    }
    return NULL;
}

int xsd_do_get_domain_path(struct xf_xsd *x, struct conn *conn, struct ctx *ctx,
                           struct buffered *in)
{
    const char *domid = xsd_onearg(in);
    char *path;

    if (domid == NULL)
        return EINVAL;
    path = ctx_printf(ctx, "/local/domain/%u", (unsigned)(int)strtol(domid, NULL, 10));
    if (path == NULL)
        return ENOMEM;
    xsd_send_reply(x, conn, XS_GET_DOMAIN_PATH, path, (unsigned)strlen(path) + 1);
    return 0;
}

/* Dom0-only operations: the guest never gets past the privilege check. */
int xsd_do_privileged(struct xf_xsd *x, struct conn *conn, struct ctx *ctx,
                      struct buffered *in)
{
    (void)x;
    (void)conn;
    (void)ctx;
    (void)in;
    return ENOSYS;
}
