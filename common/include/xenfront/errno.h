/*
 * xenfront/errno.h: the error numbers xenfront returns, negated.
 *
 * Libraries are freestanding and cannot include <errno.h>. They return the
 * numbers of Xen's public errno.h, which are Linux's x86 numbers (a host test
 * checks each against <errno.h>), so an embedder whose kernel uses Linux
 * numbering can pass them through. EPROTO, which marks a peer that broke the
 * protocol, is missing from Xen's list and gets Linux's value.
 */
#ifndef XENFRONT_ERRNO_H
#define XENFRONT_ERRNO_H

#include <xenfront/xen.h>

#define XF_EPERM      XEN_EPERM
#define XF_ENOENT     XEN_ENOENT
#define XF_ESRCH      XEN_ESRCH
#define XF_EINTR      4  /* Xen lists it only for its own build (__XEN__) */
#define XF_EIO        XEN_EIO
#define XF_ENXIO      XEN_ENXIO
#define XF_E2BIG      XEN_E2BIG
#define XF_EBADF      XEN_EBADF
#define XF_EAGAIN     XEN_EAGAIN
#define XF_ENOMEM     XEN_ENOMEM
#define XF_EACCES     XEN_EACCES
#define XF_EFAULT     XEN_EFAULT
#define XF_EBUSY      XEN_EBUSY
#define XF_EEXIST     XEN_EEXIST
#define XF_ENODEV     XEN_ENODEV
#define XF_EINVAL     XEN_EINVAL
#define XF_ENOSPC     XEN_ENOSPC
#define XF_EROFS      XEN_EROFS
#define XF_ERANGE     XEN_ERANGE
#define XF_ENAMETOOLONG XEN_ENAMETOOLONG
#define XF_ENOSYS     XEN_ENOSYS
#define XF_ENOTEMPTY  XEN_ENOTEMPTY
#define XF_ENODATA    XEN_ENODATA
#define XF_EBADMSG    XEN_EBADMSG
#define XF_EOVERFLOW  XEN_EOVERFLOW
#define XF_EMSGSIZE   XEN_EMSGSIZE
#define XF_EOPNOTSUPP XEN_EOPNOTSUPP
#define XF_ENOBUFS    XEN_ENOBUFS
#define XF_EISCONN    XEN_EISCONN
#define XF_ENOTCONN   XEN_ENOTCONN
#define XF_ETIMEDOUT  XEN_ETIMEDOUT
#define XF_EPROTO     71 /* not in Xen's list; Linux's value */
#define XF_ECONNRESET 104 /* not in Xen's list; Linux's value (libxenbus: lost in a reset) */

#endif /* XENFRONT_ERRNO_H */
