/*
 * xenstored's error strings to negative errno values.
 *
 * xs_wire.h carries the table (xsd_errors[]) but only defines it when EINVAL
 * is defined, that is, with a C library's <errno.h>, which a freestanding
 * library does not have. Defining EINVAL and friends here to make the header
 * emit it would leak libc-looking macros into this file and give the table
 * values of whatever numbering those macros had. Instead the table below
 * lists the same strings with xenfront's numbers (Linux's, as Xen's public
 * errno.h); a host test walks xs_wire.h's own xsd_errors[] (built with
 * libc's errno.h) and checks that every entry maps to -errnum, so a string
 * added there and missed here is caught.
 */
#include "private.h"

static const struct {
    const char *name;
    int err;
} xb_errors[] = {
    { "EINVAL", XF_EINVAL },
    { "EACCES", XF_EACCES },
    { "EEXIST", XF_EEXIST },
    { "EISDIR", XEN_EISDIR },    /* not in <xenfront/errno.h>; Xen's number */
    { "ENOENT", XF_ENOENT },
    { "ENOMEM", XF_ENOMEM },
    { "ENOSPC", XF_ENOSPC },
    { "EIO", XF_EIO },
    { "ENOTEMPTY", XF_ENOTEMPTY },
    { "ENOSYS", XF_ENOSYS },
    { "EROFS", XF_EROFS },
    { "EBUSY", XF_EBUSY },
    { "EAGAIN", XF_EAGAIN },
    { "EISCONN", XF_EISCONN },
    { "E2BIG", XF_E2BIG },
    { "EPERM", XF_EPERM },
    /* oxenstored's own: a quota (nodes, entry size, watches, transactions)
     * exceeded, which C xenstored answers with ENOSPC (or E2BIG for
     * watches). Given the same meaning here, not -EIO's "unknown". */
    { "EQUOTA", XF_ENOSPC },
};

int xf_xenbus_error_from_string(const char *s, size_t len)
{
    if (s == NULL)
        return -XF_EIO;
    /* A terminator inside len ends the string. */
    len = xf_xenbus__strnlen(s, len);
    for (size_t i = 0; i < XF_ARRAY_SIZE(xb_errors); i++) {
        size_t n = strlen(xb_errors[i].name);
        if (n == len && memcmp(s, xb_errors[i].name, n) == 0)
            return -xb_errors[i].err;
    }
    /* Not a string we know: the server failed the request, we cannot say
     * why. -EIO rather than -EINVAL, which would blame the caller. */
    return -XF_EIO;
}
