/*
 * Guest memory: each process's view of a domain (its RAM file, grant-table
 * file and foreign range mapped at gfn-indexed addresses), the page
 * allocator over RAM frames, and XENMEM_add_to_physmap.
 *
 * The p2m lives in the state file (overlays and foreign-range entries); each
 * process applies it to its own mappings lazily, whenever it next touches
 * the domain (dom->p2m_gen tells it something changed). So the aliasing is
 * real: a page mapped at a gfn is the very page the other side writes.
 */
#include "private.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

static const uint8_t zero_page[4096];

bool gfn_is_ram(const struct sim_dom *d, uint64_t gfn)
{
    return gfn < d->ram_frames;
}

static bool gfn_is_hole(const struct sim_dom *d, uint64_t gfn)
{
    return gfn_is_ram(d, gfn) && ((d->ram_hole[gfn / 8] >> (gfn % 8)) & 1u);
}

static void set_hole(struct sim_dom *d, uint64_t gfn, bool hole)
{
    if (gfn_is_hole(d, gfn) != hole)
        d->hole_gen++;
    if (hole)
        d->ram_hole[gfn / 8] |= (uint8_t)(1u << (gfn % 8));
    else
        d->ram_hole[gfn / 8] &= (uint8_t)~(1u << (gfn % 8));
}

uint64_t foreign_first(const struct sim_dom *d)
{
    return (uint64_t)d->ram_frames + XF_SIM_FOREIGN_GAP;
}

static int open_file(struct xf_sim *sim, const char *what, unsigned domid)
{
    char path[PATH_MAX + 32];

    if (file_path(sim, path, sizeof(path), what, domid) < 0)
        return -1;
    return open(path, O_RDWR | O_CLOEXEC);
}

void view_drop(struct xf_sim *sim, int slot)
{
    struct sim_view *v = &sim->views[slot];

    if (v->base != NULL)
        munmap(v->base, v->span_frames * PAGE);
    if (v->gt != NULL)
        munmap(v->gt, XF_SIM_MAX_GRANT_FRAMES * PAGE);
    if (v->mem_fd >= 0)
        close(v->mem_fd);
    if (v->gt_fd >= 0)
        close(v->gt_fd);
    memset(v, 0, sizeof(*v));
    v->mem_fd = v->gt_fd = -1;
}

/* Map the domain's files in this process (no p2m sync). */
static struct sim_view *view_open(struct xf_sim *sim, struct sim_dom *d)
{
    int slot = sim_slot(sim, d);
    struct sim_view *v = &sim->views[slot];
    void *p;

    if (v->gen == d->gen)
        return v;
    view_drop(sim, slot);
    v->mem_fd = open_file(sim, "mem", d->domid);
    v->gt_fd = open_file(sim, "gnttab", d->domid);
    if (v->mem_fd < 0 || v->gt_fd < 0)
        goto fail;
    v->span_frames = (size_t)foreign_first(d) + d->foreign_frames;
    /* Reserve the whole gfn span; only RAM is backed at first, the gap and
     * the foreign range fault until something is mapped there. */
    p = mmap(NULL, v->span_frames * PAGE, PROT_NONE,
             MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (p == MAP_FAILED)
        goto fail;
    v->base = p;
    p = mmap(v->base, (size_t)d->ram_frames * PAGE, PROT_READ | PROT_WRITE,
             MAP_SHARED | MAP_FIXED, v->mem_fd, 0);
    if (p == MAP_FAILED)
        goto fail;
    p = mmap(NULL, XF_SIM_MAX_GRANT_FRAMES * PAGE, PROT_READ | PROT_WRITE, MAP_SHARED,
             v->gt_fd, 0);
    if (p == MAP_FAILED)
        goto fail;
    v->gt = p;
    for (unsigned i = 0; i < XF_ARRAY_SIZE(v->overlay); i++)
        v->overlay[i] = NO_GFN;
    v->p2m_gen = d->p2m_gen - 1;  /* force the first sync */
    v->hole_gen = d->hole_gen - 1;
    v->gen = d->gen;
    return v;
fail:
    xf_log(XF_LOG_ERROR, "xf_sim: cannot map domain %u", d->domid);
    view_drop(sim, slot);
    return NULL;
}

/* What backs a domain's gfn: the file and offset. */
static int gfn_backing(struct xf_sim *sim, struct sim_dom *d, uint64_t gfn, off_t *off)
{
    struct sim_view *v = view_open(sim, d);

    if (v == NULL)
        return -1;
    if (d->shinfo_gfn == gfn) {
        *off = (off_t)((size_t)sim_slot(sim, d) * PAGE);
        return sim->hv_fd;
    }
    for (unsigned i = 0; i < d->nr_grant_frames; i++) {
        if (d->gnttab_gfn[i] == gfn) {
            *off = (off_t)(i * PAGE);
            return v->gt_fd;
        }
    }
    if (gfn_is_ram(d, gfn) && !gfn_is_hole(d, gfn)) {
        *off = (off_t)(gfn * PAGE);
        return v->mem_fd;
    }
    return -1;
}

static void map_at(void *va, int fd, off_t off, int prot)
{
    void *p;

    if (fd < 0)
        p = mmap(va, PAGE, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED | MAP_NORESERVE,
                 -1, 0);
    else
        p = mmap(va, PAGE, prot, MAP_SHARED | MAP_FIXED, fd, off);
    if (p == MAP_FAILED)
        xf_log(XF_LOG_ERROR, "xf_sim: mmap at %p failed", va);
}

static void view_sync(struct xf_sim *sim, struct sim_dom *d, struct sim_view *v)
{
    uint64_t want[1 + XF_SIM_MAX_GRANT_FRAMES];
    const unsigned n = 1 + XF_SIM_MAX_GRANT_FRAMES;

    if (v->p2m_gen == d->p2m_gen)
        return;
    v->p2m_gen = d->p2m_gen;

    want[0] = d->shinfo_gfn;
    for (unsigned i = 0; i < XF_SIM_MAX_GRANT_FRAMES; i++)
        want[1 + i] = d->gnttab_gfn[i];
    /* Where an overlay left: a hole (faults, as an unpopulated gfn does in
     * a guest) or RAM that populate_physmap put back. Then the overlays. */
    for (unsigned k = 0; k < n; k++) {
        if (v->overlay[k] != want[k] && v->overlay[k] != NO_GFN) {
            uint64_t g = v->overlay[k];
            bool hole = gfn_is_hole(d, g);

            map_at(v->base + g * PAGE, hole ? -1 : v->mem_fd, (off_t)(g * PAGE),
                   PROT_READ | PROT_WRITE);
            if (hole)
                v->hole[g / 8] |= (uint8_t)(1u << (g % 8));
            else
                v->hole[g / 8] &= (uint8_t)~(1u << (g % 8));
        }
    }
    /* Holes made or filled since this view last looked (only then: a scan
     * of every RAM gfn is too dear for each grant map). */
    for (uint64_t g = 0; v->hole_gen != d->hole_gen && g < d->ram_frames; g++) {
        bool hole = gfn_is_hole(d, g);
        bool mapped_hole = (v->hole[g / 8] >> (g % 8)) & 1u;
        bool overlaid = false;

        if (hole == mapped_hole)
            continue;
        /* Only a gfn that changed can be an overlay's: the scan stays one
         * pass over RAM, not RAM times the overlays. */
        for (unsigned k = 0; k < n; k++)
            overlaid |= want[k] == g;
        if (overlaid)
            continue;
        map_at(v->base + g * PAGE, hole ? -1 : v->mem_fd, (off_t)(g * PAGE),
               PROT_READ | PROT_WRITE);
        if (hole)
            v->hole[g / 8] |= (uint8_t)(1u << (g % 8));
        else
            v->hole[g / 8] &= (uint8_t)~(1u << (g % 8));
    }
    v->hole_gen = d->hole_gen;
    for (unsigned k = 0; k < n; k++) {
        if (want[k] != NO_GFN && v->overlay[k] != want[k]) {
            if (k == 0)
                map_at(v->base + want[k] * PAGE, sim->hv_fd,
                       (off_t)((size_t)sim_slot(sim, d) * PAGE), PROT_READ | PROT_WRITE);
            else
                map_at(v->base + want[k] * PAGE, v->gt_fd, (off_t)((k - 1) * PAGE),
                       PROT_READ | PROT_WRITE);
        }
        v->overlay[k] = want[k];
    }

    for (unsigned i = 0; i < d->foreign_frames; i++) {
        uint32_t h = d->foreign_p2m[i];
        const struct sim_map *m = h ? &d->maptrack[h - 1] : NULL;
        uint32_t serial = m ? m->serial : 0;
        uint8_t *va = v->base + (foreign_first(d) + i) * PAGE;

        if (v->foreign_serial[i] == serial)
            continue;
        v->foreign_serial[i] = 0;
        if (m == NULL) {
            map_at(va, -1, 0, PROT_NONE);
            continue;
        }
        struct sim_dom *g = sim_find(sim, m->granter);
        off_t off = 0;
        int fd = g ? gfn_backing(sim, g, m->frame, &off) : -1;
        map_at(va, fd, off, m->readonly ? PROT_READ : PROT_READ | PROT_WRITE);
        if (fd >= 0)
            v->foreign_serial[i] = serial;
    }
}

struct sim_view *view_get(struct xf_sim *sim, struct sim_dom *d)
{
    struct sim_view *v = view_open(sim, d);

    if (v != NULL)
        view_sync(sim, d, v);
    return v;
}

static bool gnttab_at(const struct sim_dom *d, uint64_t gfn)
{
    for (unsigned i = 0; i < XF_SIM_MAX_GRANT_FRAMES; i++)
        if (d->gnttab_gfn[i] == gfn)
            return true;
    return false;
}

void *view_gfn_va(struct xf_sim *sim, struct sim_dom *d, uint64_t gfn)
{
    struct sim_view *v = view_get(sim, d);

    if (v == NULL)
        return NULL;
    if (gfn_is_ram(d, gfn))
        return gfn_is_hole(d, gfn) && d->shinfo_gfn != gfn && !gnttab_at(d, gfn) ? NULL
                                                                            : v->base + gfn * PAGE;
    if (gfn >= foreign_first(d) && gfn < foreign_first(d) + d->foreign_frames &&
        v->foreign_serial[gfn - foreign_first(d)] != 0)
        return v->base + gfn * PAGE;
    return NULL;
}

static bool frame_used(const struct sim_dom *d, uint64_t f)
{
    return (d->ram_used[f / 8] >> (f % 8)) & 1u;
}

long sim_alloc_frames(struct sim_dom *d, size_t n)
{
    uint64_t run = 0;

    if (n == 0 || n > d->ram_frames)
        return -XF_EINVAL;
    for (uint64_t f = XF_SIM_RESERVED_FRAMES; f < d->ram_frames; f++) {
        run = frame_used(d, f) ? 0 : run + 1;
        if (run == n) {
            uint64_t first = f + 1 - n;
            for (uint64_t g = first; g <= f; g++)
                d->ram_used[g / 8] |= (uint8_t)(1u << (g % 8));
            return (long)first;
        }
    }
    return -XF_ENOMEM;
}

void sim_free_frames(struct sim_dom *d, uint64_t first, size_t n)
{
    for (uint64_t g = first; g < first + n && g < d->ram_frames; g++)
        if (g >= XF_SIM_RESERVED_FRAMES)
            d->ram_used[g / 8] &= (uint8_t)~(1u << (g % 8));
}

long xf_sim_free_frames(struct xf_sim *sim, domid_t domid)
{
    struct sim_dom *d;
    long n = -XF_ESRCH;

    sim_lock(sim);
    d = sim_find(sim, domid);
    if (d != NULL) {
        n = 0;
        for (uint64_t f = 0; f < d->ram_frames; f++)
            n += !frame_used(d, f);
    }
    sim_unlock(sim);
    return n;
}

/* Remove whatever overlay sits at gfn (Xen removes the old page at a gfn
 * that add_to_physmap reuses). */
static void overlay_clear_gfn(struct sim_dom *d, uint64_t gfn)
{
    if (d->shinfo_gfn == gfn)
        d->shinfo_gfn = NO_GFN;
    for (unsigned i = 0; i < XF_SIM_MAX_GRANT_FRAMES; i++)
        if (d->gnttab_gfn[i] == gfn)
            d->gnttab_gfn[i] = NO_GFN;
}

static long add_to_physmap(struct xf_sim *sim, struct sim_dom *caller,
                           struct xen_add_to_physmap *x)
{
    struct sim_dom *d = sim_find(sim, sim_resolve(x->domid, caller->domid));

    if (d == NULL)
        return -XF_ESRCH;
    if (d != caller && !caller->privileged)
        return -XF_EPERM;
    switch (x->space) {
    case XENMAPSPACE_shared_info:
        if (x->idx != 0)
            return -XF_EINVAL;
        break;
    case XENMAPSPACE_grant_table:
        /* v1 has no status frames; Xen grows the table up to its maximum. */
        if ((x->idx & XENMAPIDX_grant_table_status) || x->idx >= d->max_grant_frames)
            return -XF_EINVAL;
        break;
    case XENMAPSPACE_gmfn_foreign:
        return -XF_EINVAL; /* only through add_to_physmap_batch in Xen */
    default:
        return -XF_EOPNOTSUPP; /* gmfn moves, mmio: not modelled */
    }
    /* Xen accepts any gfn; the simulator overlays only RAM frames. */
    if (!gfn_is_ram(d, x->gpfn))
        return -XF_EINVAL;

    overlay_clear_gfn(d, x->gpfn);
    /* Xen frees the RAM page that was at gpfn: when the overlay leaves
     * again, a hole is left, not the old page. */
    set_hole(d, x->gpfn, true);
    if (x->space == XENMAPSPACE_shared_info) {
        d->shinfo_gfn = x->gpfn;
    } else {
        if (x->idx >= d->nr_grant_frames)
            d->nr_grant_frames = (uint32_t)x->idx + 1;
        d->gnttab_gfn[x->idx] = x->gpfn;
    }
    d->p2m_gen++;
    view_get(sim, d); /* the caller uses the page as soon as we return */
    return 0;
}

static long remove_from_physmap(struct xf_sim *sim, struct sim_dom *caller,
                                struct xen_remove_from_physmap *x)
{
    struct sim_dom *d = sim_find(sim, sim_resolve(x->domid, caller->domid));
    bool found = false;

    if (d == NULL)
        return -XF_ESRCH;
    if (d != caller && !caller->privileged)
        return -XF_EPERM;
    found = d->shinfo_gfn == x->gpfn;
    for (unsigned i = 0; i < XF_SIM_MAX_GRANT_FRAMES; i++)
        found |= d->gnttab_gfn[i] == x->gpfn;
    if (!found)
        return -XF_EOPNOTSUPP; /* removing RAM is not modelled */
    overlay_clear_gfn(d, x->gpfn);
    d->p2m_gen++;
    view_get(sim, d);
    return 0;
}

/*
 * XENMEM_populate_physmap, order-0 extents at the given gfns: fresh zeroed
 * RAM into holes (what a guest does to get RAM back after remove_from_physmap).
 * Like Xen, returns how many extents were done; it stops at the first gfn it
 * cannot fill (not RAM, or already backed).
 */
static long populate_physmap(struct xf_sim *sim, struct sim_dom *caller,
                             struct xen_memory_reservation *r)
{
    struct sim_dom *d = sim_find(sim, sim_resolve(r->domid, caller->domid));
    struct sim_view *v;
    xen_pfn_t *gfns = r->extent_start.p;
    xen_ulong_t i;

    if (d == NULL)
        return -XF_ESRCH;
    if (d != caller && !caller->privileged)
        return -XF_EPERM;
    if (r->extent_order != 0)
        return -XF_EINVAL;  /* superpages: not modelled */
    if (r->nr_extents > 0 && gfns == NULL)
        return -XF_EFAULT;
    v = view_open(sim, d);
    if (v == NULL)
        return -XF_ENOMEM;
    for (i = 0; i < r->nr_extents; i++) {
        uint64_t g = gfns[i];
        bool overlaid = d->shinfo_gfn == g || gnttab_at(d, g);

        if (!gfn_is_hole(d, g) || overlaid)
            break;
        /* A new page: scrubbed, as Xen hands out. */
        if (pwrite(v->mem_fd, zero_page, PAGE, (off_t)(g * PAGE)) != PAGE)
            break;
        set_hole(d, g, false);
    }
    if (i > 0) {
        d->p2m_gen++;
        view_get(sim, d);
    }
    return (long)i;
}

long sim_memory_op(struct xf_sim *sim, struct sim_dom *d, unsigned int cmd, void *arg)
{
    switch (cmd) {
    case XENMEM_populate_physmap:
        return populate_physmap(sim, d, arg);
    case XENMEM_add_to_physmap:
        return add_to_physmap(sim, d, arg);
    case XENMEM_remove_from_physmap:
        return remove_from_physmap(sim, d, arg);
    default:
        return -XF_ENOSYS;
    }
}

int xf_sim_gfn_backing(struct xf_sim *sim, domid_t domid, xen_pfn_t gfn, off_t *off)
{
    struct sim_dom *d;
    int fd = -XF_ESRCH;

    sim_lock(sim);
    d = sim_find(sim, domid);
    if (d != NULL) {
        fd = gfn_backing(sim, d, gfn, off);
        if (fd < 0)
            fd = -XF_EINVAL;
    }
    sim_unlock(sim);
    return fd;
}

int xf_sim_grant_backing(struct xf_sim *sim, domid_t mapper, grant_handle_t handle, off_t *off)
{
    struct sim_dom *ld, *rd;
    int fd = -XF_ESRCH;

    sim_lock(sim);
    ld = sim_find(sim, mapper);
    if (ld != NULL) {
        fd = -XF_EINVAL;
        if (handle < XF_SIM_MAX_MAPTRACK && ld->maptrack[handle].in_use) {
            /* A dead granter's frame is gone from the files' point of view
             * here (its file may be removed): refuse rather than guess. */
            rd = sim_find(sim, ld->maptrack[handle].granter);
            if (rd != NULL && ld->maptrack[handle].frame < rd->ram_frames) {
                fd = gfn_backing(sim, rd, ld->maptrack[handle].frame, off);
                if (fd < 0)
                    fd = -XF_EINVAL;
            }
        }
    }
    sim_unlock(sim);
    return fd;
}
