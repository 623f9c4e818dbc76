/*
 * xfshim, libxenforeignmemory: a guest's frames mapped from its memory file.
 */
#include "shim_tools.h"

struct xenforeignmemory_handle { int unused; };

EXPORT xenforeignmemory_handle *xenforeignmemory_open(struct xentoollog_logger *logger,
                                                      unsigned int open_flags)
{
    (void)logger; (void)open_flags;
    return shim_handle_new(sizeof(struct xenforeignmemory_handle));
}

EXPORT int xenforeignmemory_close(xenforeignmemory_handle *fmem)
{
    free(fmem);
    return 0;
}

EXPORT void *xenforeignmemory_map2(xenforeignmemory_handle *fmem, uint32_t dom, void *addr,
                                   int prot, int flags, size_t num, const xen_pfn_t arr[],
                                   int err[])
{
    (void)fmem;
    if (num == 0) {
        errno = EINVAL;
        return NULL;
    }
    if (!shim_domain_exists(dom)) {
        errno = ESRCH;
        return NULL;
    }
    uint8_t *base = mmap(addr, num * PAGE_SZ, PROT_NONE,
                         MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE |
                             (flags & MAP_FIXED), -1, 0);
    if (base == MAP_FAILED)
        return NULL;
    int bad = 0;
    for (size_t i = 0; i < num; i++) {
        off_t off;
        int fd = shim_gfn_backing(dom, arr[i], &off);
        int e = 0;
        if (fd < 0)
            e = EINVAL;
        else if (mmap(base + i * PAGE_SZ, PAGE_SZ, prot, MAP_SHARED | MAP_FIXED, fd, off) ==
                 MAP_FAILED)
            e = errno;
        if (err != NULL)
            err[i] = -e;
        else if (e != 0)
            bad = e;
    }
    if (bad != 0) {
        munmap(base, num * PAGE_SZ);
        errno = bad;
        return NULL;
    }
    return base;
}

EXPORT void *xenforeignmemory_map(xenforeignmemory_handle *fmem, uint32_t dom, int prot,
                                  size_t num, const xen_pfn_t arr[], int err[])
{
    return xenforeignmemory_map2(fmem, dom, NULL, prot, 0, num, arr, err);
}

EXPORT int xenforeignmemory_unmap(xenforeignmemory_handle *fmem, void *addr, size_t num)
{
    (void)fmem;
    return munmap(addr, num * PAGE_SZ);
}

EXPORT int xenforeignmemory_restrict(xenforeignmemory_handle *fmem, domid_t domid)
{
    (void)fmem; (void)domid;
    return 0;
}

EXPORT xenforeignmemory_resource_handle *xenforeignmemory_map_resource(
    xenforeignmemory_handle *fmem, domid_t domid, unsigned int type, unsigned int id,
    unsigned long frame, unsigned long nr_frames, void **paddr, int prot, int flags)
{
    (void)fmem; (void)domid; (void)type; (void)id; (void)frame; (void)nr_frames;
    (void)paddr; (void)prot; (void)flags;
    errno = EOPNOTSUPP; /* QEMU then falls back, as on an old Xen */
    return NULL;
}

EXPORT int xenforeignmemory_unmap_resource(xenforeignmemory_handle *fmem,
                                           xenforeignmemory_resource_handle *fres)
{
    (void)fmem; (void)fres;
    return 0;
}
