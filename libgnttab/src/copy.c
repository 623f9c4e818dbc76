/*
 * Grant copy (GNTTABOP_copy): Xen copies between our frame and another
 * domain's granted page, pinning the grant only for the copy. The local
 * side is named by its gfn (a PVH guest's own frames), the other by
 * (domid, ref). Each segment stays within one page on both sides, as Xen
 * requires.
 */
#include "private.h"

#define CHUNK 16u

/* Build op from s; 0, or the segment's error (then op is unused). */
static int build(struct gnttab_copy *op, const struct xf_gnttab_copy *s)
{
    uintptr_t loff = (uintptr_t)s->local & (XF_PAGE_SIZE - 1);
    xen_pfn_t gfn;
    struct gnttab_copy_ptr *local, *remote;

    if (s->domid >= DOMID_FIRST_RESERVED || s->len == 0 ||
        (s->dir != XF_GNTTAB_COPY_FROM_GRANT && s->dir != XF_GNTTAB_COPY_TO_GRANT) ||
        (uint32_t)s->offset + s->len > XF_PAGE_SIZE || loff + s->len > XF_PAGE_SIZE ||
        s->local == NULL)
        return -XF_EINVAL;
    gfn = xf_plat_virt_to_gfn(s->local);
    if (gfn == ~(xen_pfn_t)0)
        return -XF_EFAULT;
    memset(op, 0, sizeof(*op));
    if (s->dir == XF_GNTTAB_COPY_FROM_GRANT) {
        remote = &op->source;
        local = &op->dest;
        op->flags = GNTCOPY_source_gref;
    } else {
        local = &op->source;
        remote = &op->dest;
        op->flags = GNTCOPY_dest_gref;
    }
    remote->u.ref = s->ref;
    remote->domid = s->domid;
    remote->offset = s->offset;
    local->u.gmfn = gfn;
    local->domid = DOMID_SELF;
    local->offset = (uint16_t)loff;
    op->len = s->len;
    op->status = GNTST_general_error;
    return 0;
}

static int copy_chunk(struct xf_gnttab_copy *segs, uint32_t n)
{
    struct gnttab_copy ops[CHUNK];
    uint32_t idx[CHUNK];
    uint32_t k = 0;
    int failed = 0;
    long rc;

    for (uint32_t i = 0; i < n; i++) {
        int err = build(&ops[k], &segs[i]);

        if (err != 0) {
            segs[i].status = err;
            failed++;
            continue;
        }
        idx[k++] = i;
    }
    if (k == 0)
        return failed;
    rc = xf_plat_grant_table_op(GNTTABOP_copy, ops, k);
    for (uint32_t j = 0; j < k; j++) {
        int st = rc != 0 ? (rc < 0 ? (int)rc : -XF_EIO)
                         : xf_gnttab_status_errno(ops[j].status);

        segs[idx[j]].status = st;
        failed += st != 0;
    }
    return failed;
}

int xf_gnttab_copy(struct xf_gnttab *gt, struct xf_gnttab_copy *segs, uint32_t n)
{
    int failed = 0;

    if (gt == NULL || segs == NULL || n == 0)
        return -XF_EINVAL;
    for (uint32_t i = 0; i < n; i += CHUNK)
        failed += copy_chunk(segs + i, n - i < CHUNK ? n - i : CHUNK);
    return failed;
}

int xf_gnttab_status_errno(int16_t gntst)
{
    switch (gntst) {
    case GNTST_okay:              return 0;
    case GNTST_general_error:     return -XF_EIO;
    case GNTST_bad_domain:        return -XF_ESRCH;
    case GNTST_bad_gntref:        return -XF_EINVAL;
    case GNTST_bad_handle:        return -XF_EBADF;
    case GNTST_bad_virt_addr:     return -XF_EFAULT;
    case GNTST_bad_dev_addr:      return -XF_EFAULT;
    case GNTST_no_device_space:   return -XF_ENOMEM;
    case GNTST_permission_denied: return -XF_EPERM;
    case GNTST_bad_page:          return -XF_EFAULT;
    case GNTST_bad_copy_arg:      return -XF_EINVAL;
    case GNTST_address_too_big:   return -XF_ERANGE;
    case GNTST_eagain:            return -XF_EAGAIN;
    case GNTST_no_space:          return -XF_ENOSPC;
    default:                      return -XF_EIO;
    }
}
