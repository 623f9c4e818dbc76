/*
 * console/src/early.c: output before any ring is up. The hypervisor's
 * console first, then the embedder's hook (see the header for the order
 * and why).
 */
#include <xenfront/console.h>
#include <xenfront/errno.h>
#include <xenfront/platform.h>

/* Bytes per hypercall: the buffer is copied so that the caller's may be
 * const (console_io takes a char *), and kept small for early stacks. */
#define EARLY_CHUNK 128u

static long to_hook(struct xf_console_early *e, const char *buf, size_t len, long refusal)
{
    if (e->hook == NULL)
        return refusal;
    return e->hook(e->hook_arg, buf, len);
}

long xf_console_early_write(struct xf_console_early *e, const char *buf, size_t len)
{
    char chunk[EARLY_CHUNK];
    size_t done = 0;
    long rc = 0, h;

    if (e == NULL || (buf == NULL && len > 0))
        return -XF_EINVAL;
    if (len == 0)
        return 0;
    if (e->hypercall_state < 0)
        return to_hook(e, buf, len, e->hypercall_state);
    while (done < len) {
        size_t n = len - done < EARLY_CHUNK ? len - done : EARLY_CHUNK;

        memcpy(chunk, buf + done, n);
        rc = xf_plat_console_io(CONSOLEIO_write, (unsigned int)n, chunk);
        if (rc < 0)
            break;
        done += n;
    }
    if (rc >= 0) {
        e->hypercall_state = 1;
        return (long)len;
    }
    /* Refused: a release build of Xen to a domU (-EPERM), or a platform
     * without the hypercall (-ENOSYS). Remember it; anything else may be
     * transient and is tried again next time. */
    if (rc == -XF_EPERM || rc == -XF_ENOSYS)
        e->hypercall_state = (int)rc;
    h = to_hook(e, buf + done, len - done, rc);
    if (h < 0)
        return done > 0 ? (long)done : h;
    return (long)done + h;
}
