/*
 * xfshim, The C library functions the shim interposes: open(), openat(), fopen()
 * and their variants, to serve /proc/xen/xsd_* (proc_xen.c); setrlimit(),
 * which a sandbox may refuse. Everything else goes to the C library's own
 * (dlsym(RTLD_NEXT)).
 */
#include "shim_tools.h"

typedef int open_fn(const char *, int, ...);
typedef int openat_fn(int, const char *, int, ...);
typedef FILE *fopen_fn(const char *, const char *);

typedef void anyfn(void);

/* The C library's function (POSIX lets dlsym's object pointer be a
 * function's: copied, not cast, to keep ISO C quiet). */
static anyfn *next_fn(const char *name)
{
    void *p = dlsym(RTLD_NEXT, name);
    anyfn *f;

    if (p == NULL) {
        fprintf(stderr, "xfshim: no next %s\n", name);
        abort();
    }
    memcpy(&f, &p, sizeof(f));
    return f;
}
#define next(name) next_fn(name)

static mode_t mode_arg(int flags, va_list ap)
{
    return (flags & (O_CREAT | O_TMPFILE)) ? (mode_t)va_arg(ap, int) : 0;
}

#define OPEN_WRAPPER(name)                                             \
    EXPORT int name(const char *path, int flags, ...)                  \
    {                                                                  \
        va_list ap;                                                    \
        va_start(ap, flags);                                           \
        mode_t mode = mode_arg(flags, ap);                             \
        va_end(ap);                                                    \
        if (shim_is_xsd(path))                                              \
            return shim_xsd_file(path);                                     \
        return ((open_fn *)next(#name))(path, flags, mode);           \
    }
OPEN_WRAPPER(open)
OPEN_WRAPPER(open64)

#define OPENAT_WRAPPER(name)                                           \
    EXPORT int name(int dirfd, const char *path, int flags, ...)       \
    {                                                                  \
        va_list ap;                                                    \
        va_start(ap, flags);                                           \
        mode_t mode = mode_arg(flags, ap);                             \
        va_end(ap);                                                    \
        if (shim_is_xsd(path))                                              \
            return shim_xsd_file(path);                                     \
        return ((openat_fn *)next(#name))(dirfd, path, flags, mode);  \
    }
OPENAT_WRAPPER(openat)
OPENAT_WRAPPER(openat64)

/* _FORTIFY_SOURCE's checked variants. */
EXPORT int __open_2(const char *path, int flags)
{
    if (shim_is_xsd(path))
        return shim_xsd_file(path);
    return ((int (*)(const char *, int))next("__open_2"))(path, flags);
}

EXPORT int __open64_2(const char *path, int flags)
{
    if (shim_is_xsd(path))
        return shim_xsd_file(path);
    return ((int (*)(const char *, int))next("__open64_2"))(path, flags);
}

#define FOPEN_WRAPPER(name)                                            \
    EXPORT FILE *name(const char *path, const char *mode)              \
    {                                                                  \
        if (shim_is_xsd(path)) {                                            \
            int fd = shim_xsd_file(path);                                   \
            return fd < 0 ? NULL : fdopen(fd, mode);                   \
        }                                                              \
        return ((fopen_fn *)next(#name))(path, mode);                 \
    }
FOPEN_WRAPPER(fopen)
FOPEN_WRAPPER(fopen64)

/* Raising RLIMIT_NOFILE may be refused in a sandbox; the programs only
 * want more descriptors than the tests use. */
EXPORT int setrlimit(__rlimit_resource_t resource, const struct rlimit *rlim)
{
    int rc = ((int (*)(__rlimit_resource_t, const struct rlimit *))next("setrlimit"))(resource,
                                                                                      rlim);
    if (rc < 0 && errno == EPERM && resource == RLIMIT_NOFILE)
        return 0;
    return rc;
}
