/*
 * xfshim, libxengnttab: grant maps through the simulator's GNTTABOP_map_grant_ref
 * (Xen's checks and GNTST_* statuses), several refs aliased side by side from
 * the granter's memory file, and grant copy; test knobs (below) refuse grant
 * copy and count the calls.
 */
#include "shim_tools.h"

struct gnt_map {
    struct gnt_map *next;
    void *addr;
    uint32_t count;
    bool alias;                  /* addr is this shim's own mapping */
    uint32_t handles[];
};

struct xengntdev_handle {
    pthread_mutex_t lock;
    struct gnt_map *maps;
};

/*
 * Test knobs, from the environment (read once, at the first open):
 *  - XF_SHIM_NO_GRANT_COPY=1: xengnttab_grant_copy fails with ENOSYS, as
 *    where the kernel's gntdev cannot copy; QEMU's probe (a copy of no
 *    segments) then fails and it maps grants instead;
 *  - XF_SHIM_GNTTAB_STATS=<file>: counts of the calls, for a test to see
 *    which data path ran: the file (created) holds GS_NR uint64_t, updated
 *    in place through a shared mapping, in the order of the enum below.
 */
enum { GS_COPY_CALLS, GS_COPY_SEGS, GS_MAP_CALLS, GS_MAP_REFS, GS_NR };
static pthread_once_t knobs_once = PTHREAD_ONCE_INIT;
static bool no_grant_copy;
static uint64_t *gs;

static void knobs_read(void)
{
    const char *v = getenv("XF_SHIM_NO_GRANT_COPY");
    const char *path = getenv("XF_SHIM_GNTTAB_STATS");

    no_grant_copy = v != NULL && strcmp(v, "1") == 0;
    if (path == NULL || *path == '\0')
        return;
    int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0)
        return;
    if (ftruncate(fd, GS_NR * sizeof(uint64_t)) == 0) {
        void *p = mmap(NULL, GS_NR * sizeof(uint64_t), PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
        if (p != MAP_FAILED)
            gs = p;
    }
    close(fd);
}

static void gs_add(unsigned int i, uint64_t n)
{
    if (gs != NULL)
        __atomic_fetch_add(&gs[i], n, __ATOMIC_RELAXED);
}

EXPORT xengnttab_handle *xengnttab_open(struct xentoollog_logger *logger, unsigned int flags)
{
    (void)logger; (void)flags;
    pthread_once(&knobs_once, knobs_read);
    if (shim_attach() < 0) {
        errno = ENOENT;
        return NULL;
    }
    struct xengntdev_handle *h = calloc(1, sizeof(*h));
    if (h != NULL)
        pthread_mutex_init(&h->lock, NULL);
    return h;
}

static void gnt_release(struct gnt_map *m, uint32_t mapped)
{
    if (m->alias)
        munmap(m->addr, (size_t)m->count * PAGE_SZ);
    for (uint32_t i = 0; i < mapped; i++)
        shim_unmap_grant(m->handles[i]);
    free(m);
}

EXPORT int xengnttab_close(xengnttab_handle *h)
{
    if (h == NULL)
        return 0;
    /* As gntdev does when its file is closed. */
    while (h->maps != NULL) {
        struct gnt_map *m = h->maps;
        h->maps = m->next;
        gnt_release(m, m->count);
    }
    pthread_mutex_destroy(&h->lock);
    free(h);
    return 0;
}

EXPORT int xengnttab_set_max_grants(xengnttab_handle *h, uint32_t nr_grants)
{
    (void)h; (void)nr_grants;
    return 0;
}

static int gnttab_errno(int16_t st)
{
    switch (st) {
    case GNTST_no_device_space:
    case GNTST_no_space:
        return ENOMEM;
    case GNTST_bad_domain:
        return ESRCH;
    case GNTST_permission_denied:
        return EPERM;
    default:
        return EINVAL;
    }
}

EXPORT void *xengnttab_map_grant_refs(xengnttab_handle *h, uint32_t count,
                                      uint32_t *domids, uint32_t *refs, int prot)
{
    bool ro = (prot & PROT_WRITE) == 0;
    struct gnt_map *m;
    uint32_t i;
    int16_t st = GNTST_okay;
    void *first = NULL;

    if (count == 0 || count > 4096u) {
        errno = EINVAL;
        return NULL;
    }
    gs_add(GS_MAP_CALLS, 1);
    gs_add(GS_MAP_REFS, count);
    m = calloc(1, sizeof(*m) + count * sizeof(m->handles[0]));
    if (m == NULL)
        return NULL;
    m->count = count;
    for (i = 0; i < count; i++) {
        void *va = shim_map_grant(domids[i], refs[i], ro, &m->handles[i], &st);
        if (va == NULL)
            break;
        if (i == 0)
            first = va;
    }
    if (i < count) {
        gnt_release(m, i);
        errno = gnttab_errno(st);
        return NULL;
    }
    if (count == 1) {
        m->addr = first;
    } else {
        /* gntdev gives one contiguous mapping: alias each granted frame. */
        uint8_t *base = mmap(NULL, (size_t)count * PAGE_SZ, PROT_NONE,
                             MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
        if (base == MAP_FAILED) {
            gnt_release(m, count);
            errno = ENOMEM;
            return NULL;
        }
        m->addr = base;
        m->alias = true;
        for (i = 0; i < count; i++) {
            off_t off;
            int fd = shim_grant_backing(m->handles[i], &off);
            if (fd < 0 || mmap(base + (size_t)i * PAGE_SZ, PAGE_SZ,
                               ro ? PROT_READ : PROT_READ | PROT_WRITE,
                               MAP_SHARED | MAP_FIXED, fd, off) == MAP_FAILED) {
                gnt_release(m, count);
                errno = EFAULT;
                return NULL;
            }
        }
    }
    pthread_mutex_lock(&h->lock);
    m->next = h->maps;
    h->maps = m;
    pthread_mutex_unlock(&h->lock);
    return m->addr;
}

EXPORT void *xengnttab_map_domain_grant_refs(xengnttab_handle *h, uint32_t count,
                                             uint32_t domid, uint32_t *refs, int prot)
{
    uint32_t *domids = malloc((count ? count : 1) * sizeof(*domids));

    if (domids == NULL)
        return NULL;
    for (uint32_t i = 0; i < count; i++)
        domids[i] = domid;
    void *va = xengnttab_map_grant_refs(h, count, domids, refs, prot);
    int e = errno;
    free(domids);
    errno = e;
    return va;
}

EXPORT void *xengnttab_map_grant_ref(xengnttab_handle *h, uint32_t domid, uint32_t ref,
                                     int prot)
{
    return xengnttab_map_grant_refs(h, 1, &domid, &ref, prot);
}

EXPORT int xengnttab_unmap(xengnttab_handle *h, void *start_address, uint32_t count)
{
    struct gnt_map **pp, *m = NULL;

    pthread_mutex_lock(&h->lock);
    for (pp = &h->maps; *pp != NULL; pp = &(*pp)->next) {
        if ((*pp)->addr == start_address && (*pp)->count == count) {
            m = *pp;
            *pp = m->next;
            break;
        }
    }
    pthread_mutex_unlock(&h->lock);
    if (m == NULL)
        return fail(EINVAL);
    gnt_release(m, m->count);
    return 0;
}

/* One side of a copy: a granted page mapped for the copy's duration. */
static int16_t copy_side(const union xengnttab_copy_ptr *p, bool gref, bool ro, uint16_t len,
                         uint8_t **va, uint32_t *handle)
{
    int16_t st = GNTST_okay;

    if (!gref) {
        *va = p->virt;
        return GNTST_okay;
    }
    if ((uint32_t)p->foreign.offset + len > PAGE_SZ)
        return GNTST_bad_copy_arg;
    uint8_t *page = shim_map_grant(p->foreign.domid, p->foreign.ref, ro, handle, &st);
    if (page == NULL)
        return st;
    *va = page + p->foreign.offset;
    return GNTST_okay;
}

EXPORT int xengnttab_grant_copy(xengnttab_handle *h, uint32_t count,
                                xengnttab_grant_copy_segment_t *segs)
{
    (void)h;
    if (no_grant_copy)
        return fail(ENOSYS);
    if (count > 0) {
        gs_add(GS_COPY_CALLS, 1);
        gs_add(GS_COPY_SEGS, count);
    }
    for (uint32_t i = 0; i < count; i++) {
        xengnttab_grant_copy_segment_t *s = &segs[i];
        bool sg = s->flags & GNTCOPY_source_gref, dg = s->flags & GNTCOPY_dest_gref;
        uint8_t *src = NULL, *dst = NULL;
        uint32_t hs = 0, hd = 0;
        int16_t st;

        st = copy_side(&s->source, sg, true, s->len, &src, &hs);
        if (st == GNTST_okay) {
            st = copy_side(&s->dest, dg, false, s->len, &dst, &hd);
            if (st == GNTST_okay) {
                memmove(dst, src, s->len);
                if (dg)
                    shim_unmap_grant(hd);
            }
            if (sg)
                shim_unmap_grant(hs);
        }
        s->status = st;
    }
    return 0;
}
