/*
 * xenfront/physmap.h: putting Xen's own pages (shared_info, grant-table
 * frames) into the guest's physical address space, and taking them out.
 *
 * A PVH guest sees such a page by naming one of its frames for it:
 * XENMEM_add_to_physmap puts the Xen page at the gfn of a page the guest
 * owns, and Xen frees the RAM that was there. Taking it out again
 * (XENMEM_remove_from_physmap) leaves a hole at that gfn, so the page may go
 * back to the kernel's allocator only after XENMEM_populate_physmap has put
 * RAM back; otherwise the allocator would hand out a frame the kernel faults
 * on. These two functions do each half completely, so every library does it
 * the same, safe way.
 *
 * Both are for setup and teardown context (not event handlers).
 */
#ifndef XENFRONT_PHYSMAP_H
#define XENFRONT_PHYSMAP_H

#include <xenfront/base.h>
#include <xenfront/xen.h>

#ifdef __cplusplus
extern "C" {
#endif

/*
 * Put Xen's page (space XENMAPSPACE_shared_info or XENMAPSPACE_grant_table,
 * index idx) at the gfn of `page`, a page from xf_plat_page_alloc() that the
 * caller owns. On success the page is Xen's from now on; on failure Xen has
 * not touched the p2m and the page is still ordinary RAM.
 * Returns 0, -XF_EINVAL (page NULL), -XF_EFAULT (the platform cannot
 * translate it), or Xen's error.
 */
int xf_physmap_add(void *page, unsigned int space, xen_ulong_t idx);

/*
 * Undo xf_physmap_add(): remove Xen's page from the gfn and populate it with
 * RAM again. Returns 0 when `page` is RAM again (the caller may free it), or
 * a negative error, in which case the caller must keep the page out of its
 * allocator for good (logged): a lost frame is better than a hole handed out.
 */
int xf_physmap_remove(void *page);

#ifdef __cplusplus
}
#endif

#endif /* XENFRONT_PHYSMAP_H */
