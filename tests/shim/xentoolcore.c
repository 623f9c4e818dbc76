/*
 * xfshim, libxentoolcore: restricting a process to one domain (nothing to
 * restrict here).
 */
#include "shim_tools.h"

EXPORT int xentoolcore_restrict_all(domid_t domid)
{
    (void)domid;
    return 0;
}
