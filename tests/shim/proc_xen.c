/*
 * xfshim, /proc/xen/xsd_port and /proc/xen/xsd_kva, for xenstored: a fresh dom0
 * port unbound for dom0 itself, and a zeroed page.
 */
#include "shim_tools.h"

#define XSD_PORT "/proc/xen/xsd_port"
#define XSD_KVA "/proc/xen/xsd_kva"

int shim_xsd_file(const char *path)
{
    static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
    static int port = -1;
    int fd;

    if (strcmp(path, XSD_PORT) == 0) {
        char buf[16];
        pthread_mutex_lock(&lock);
        if (port < 0)
            port = shim_evtchn_alloc_unbound(0); /* dom0's own xenstore channel */
        int p = port;
        pthread_mutex_unlock(&lock);
        if (p < 0)
            return fail(-p);
        fd = memfd_create("xsd_port", MFD_CLOEXEC);
        if (fd < 0)
            return -1;
        int n = snprintf(buf, sizeof(buf), "%d", p);
        if (write(fd, buf, (size_t)n) != n) {
            close(fd);
            return fail(EIO);
        }
        lseek(fd, 0, SEEK_SET);
        return fd;
    }
    fd = memfd_create("xsd_kva", MFD_CLOEXEC);
    if (fd >= 0 && ftruncate(fd, PAGE_SZ) < 0) {
        close(fd);
        return -1;
    }
    return fd;
}

bool shim_is_xsd(const char *path)
{
    return path != NULL && (strcmp(path, XSD_PORT) == 0 || strcmp(path, XSD_KVA) == 0);
}
