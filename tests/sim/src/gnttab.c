/*
 * Grant tables, v1 only: Xen's common/grant_table.c semantics for map,
 * unmap, copy, setup_table, query_size and get/set_version.
 *
 * The granter's table is the file the granter's guest writes through its
 * add_to_physmap mapping, read here exactly as Xen reads it: flags and
 * domid together in one 32-bit load, checked, then GTF_reading/GTF_writing
 * set with compare-and-swap against that same word, so a guest revoking
 * the entry at the same moment either wins or sees the pin. Pin counts
 * (Xen's active entries) are in the state file.
 */
#include "private.h"

_Static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__,
               "the grant word layout below assumes little endian");
_Static_assert(offsetof(grant_entry_v1_t, flags) == 0 &&
               offsetof(grant_entry_v1_t, domid) == 2,
               "v1 grant entry: flags then domid in the first 32-bit word");

#define PIN_MAX 0x7f  /* Xen refuses a pin that would overflow its 8-bit counter */

static uint32_t nr_entries(const struct sim_dom *d)
{
    return d->nr_grant_frames * (uint32_t)GNT_PER_FRAME;
}

static grant_entry_v1_t *entry(struct xf_sim *sim, struct sim_dom *d, uint32_t ref)
{
    struct sim_view *v = view_get(sim, d);
    return v ? &v->gt[ref] : NULL;
}

/* Xen's _set_status_v1. */
static int16_t set_status(grant_entry_v1_t *e, bool pinned, bool readonly, domid_t ldom,
                          bool mapflag)
{
    uint32_t *word = (uint32_t *)(void *)e;
    uint16_t mask = GTF_type_mask | (mapflag ? GTF_sub_page : 0);
    uint32_t cur = AT_LOAD(word);

    for (int tries = 0;; tries++) {
        uint16_t flags = (uint16_t)cur, domid = (uint16_t)(cur >> 16);
        uint16_t nflags = flags | GTF_reading;

        if (!pinned && ((flags & mask) != GTF_permit_access || domid != ldom))
            return GNTST_general_error;
        if (!readonly) {
            nflags |= GTF_writing;
            if (flags & GTF_readonly)
                return GNTST_general_error;
        }
        if (__atomic_compare_exchange_n(word, &cur, (cur & 0xffff0000u) | nflags, false,
                                        __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST))
            return GNTST_okay;
        if (tries == 4)
            return GNTST_general_error; /* the guest keeps changing it */
    }
}

static void clear_flags(grant_entry_v1_t *e, uint16_t bits)
{
    AT_AND(&e->flags, (uint16_t)~bits);
}

/* Drop one pin; clear GTF_writing/GTF_reading when the last goes. */
static void unpin(grant_entry_v1_t *e, struct sim_act *a, bool readonly)
{
    if (readonly)
        a->pin_r--;
    else
        a->pin_w--;
    if (!readonly && a->pin_w == 0)
        clear_flags(e, GTF_writing);
    if (a->pin_r == 0 && a->pin_w == 0)
        clear_flags(e, GTF_reading);
}

/* Undo set_status when a later check fails (Xen's unlock_out_clear). */
static void unwind_status(grant_entry_v1_t *e, const struct sim_act *a, bool readonly)
{
    if (!readonly && a->pin_w == 0)
        clear_flags(e, GTF_writing);
    if (a->pin_r == 0 && a->pin_w == 0)
        clear_flags(e, GTF_reading);
}

/* Xen's get_paged_frame: is the granter's frame a page we can reach? */
static bool frame_ok(const struct sim_dom *d, uint64_t frame)
{
    if (gfn_is_ram(d, frame))
        return true;
    if (d->shinfo_gfn == frame)
        return true;
    for (unsigned i = 0; i < d->nr_grant_frames; i++)
        if (d->gnttab_gfn[i] == frame)
            return true;
    return false;
}

/* Pin ref of rd for ldom: the common part of map and copy. */
static int16_t acquire(struct xf_sim *sim, struct sim_dom *rd, uint32_t ref, domid_t ldom,
                       bool readonly, bool mapflag, uint32_t *frame)
{
    struct sim_act *a;
    grant_entry_v1_t *e;
    bool pinned;
    int16_t st;

    if (ref >= nr_entries(rd))
        return GNTST_bad_gntref;
    e = entry(sim, rd, ref);
    if (e == NULL)
        return GNTST_general_error;
    a = &rd->act[ref];
    pinned = a->pin_r || a->pin_w;
    if (pinned && (a->domid != ldom || a->pin_r >= PIN_MAX || a->pin_w >= PIN_MAX))
        return GNTST_general_error;
    if (!pinned || (!readonly && a->pin_w == 0)) {
        st = set_status(e, pinned, readonly, ldom, mapflag);
        if (st != GNTST_okay)
            return st;
    }
    if (!pinned) {
        a->domid = ldom;
        a->frame = (uint32_t)AT_LOAD(&e->frame);
    }
    if (!frame_ok(rd, a->frame)) {
        unwind_status(e, a, readonly);
        return GNTST_bad_page;
    }
    if (readonly)
        a->pin_r++;
    else
        a->pin_w++;
    *frame = a->frame;
    return GNTST_okay;
}

static void release(struct xf_sim *sim, struct sim_dom *rd, uint32_t ref, bool readonly)
{
    grant_entry_v1_t *e = entry(sim, rd, ref);

    if (e != NULL)
        unpin(e, &rd->act[ref], readonly);
}

static void map_one(struct xf_sim *sim, struct sim_dom *ld, struct gnttab_map_grant_ref *op)
{
    struct sim_dom *rd;
    uint64_t gfn = op->host_addr >> XF_PAGE_SHIFT;
    uint64_t first = foreign_first(ld);
    bool ro = (op->flags & GNTMAP_readonly) != 0;
    uint32_t h, frame;
    int16_t st;

    op->status = GNTST_okay;
    if ((op->flags & (GNTMAP_device_map | GNTMAP_host_map)) == 0) {
        op->status = GNTST_bad_gntref;
        return;
    }
    /* A translated (PVH) mapper gets neither device nor PTE mappings. */
    if (op->flags & (GNTMAP_device_map | GNTMAP_application_map | GNTMAP_contains_pte)) {
        op->status = GNTST_general_error;
        return;
    }
    rd = sim_find(sim, op->dom); /* by id: DOMID_SELF is not accepted here */
    if (rd == NULL) {
        op->status = GNTST_bad_domain;
        return;
    }
    for (h = 0; h < XF_SIM_MAX_MAPTRACK && ld->maptrack[h].in_use; h++)
        ;
    if (h == XF_SIM_MAX_MAPTRACK) {
        op->status = GNTST_no_space; /* out of maptrack handles */
        return;
    }
    st = acquire(sim, rd, op->ref, ld->domid, ro, true, &frame);
    if (st != GNTST_okay) {
        op->status = st;
        return;
    }
    /* The page goes at the mapper's gfn; the simulator backs only its
     * foreign range, and never stacks two mappings on one gfn. */
    if (gfn < first || gfn >= first + ld->foreign_frames || ld->foreign_p2m[gfn - first]) {
        release(sim, rd, op->ref, ro);
        op->status = GNTST_general_error;
        return;
    }
    struct sim_map *m = &ld->maptrack[h];
    m->in_use = 1;
    m->readonly = ro;
    m->granter = rd->domid;
    m->ref = op->ref;
    m->frame = frame;
    m->serial = ++sim->hv->map_serial ? sim->hv->map_serial : ++sim->hv->map_serial;
    m->gfn = gfn;
    ld->foreign_p2m[gfn - first] = h + 1;
    ld->p2m_gen++;
    op->handle = (grant_handle_t)h;
    op->dev_bus_addr = 0;
}

/* Drop mapping h of ld: p2m entry, maptrack entry, and the granter's pin. */
static void drop_mapping(struct xf_sim *sim, struct sim_dom *ld, uint32_t h)
{
    struct sim_map *m = &ld->maptrack[h];
    struct sim_dom *rd = sim_find(sim, m->granter);

    /* A dead granter's pages stay while mapped (Xen's zombie domain). */
    if (rd != NULL)
        release(sim, rd, m->ref, m->readonly);
    ld->foreign_p2m[m->gfn - foreign_first(ld)] = 0;
    memset(m, 0, sizeof(*m));
    ld->p2m_gen++;
}

static void unmap_one(struct xf_sim *sim, struct sim_dom *ld, struct gnttab_unmap_grant_ref *op)
{
    uint64_t gfn = op->host_addr >> XF_PAGE_SHIFT;
    uint64_t first = foreign_first(ld);

    op->status = GNTST_okay;
    if (op->handle >= XF_SIM_MAX_MAPTRACK || !ld->maptrack[op->handle].in_use) {
        op->status = GNTST_bad_handle;
        return;
    }
    /* Xen only removes the host mapping when told where it is. */
    if (op->host_addr == 0)
        return;
    if (gfn < first || gfn >= first + ld->foreign_frames ||
        ld->foreign_p2m[gfn - first] != (uint32_t)op->handle + 1) {
        op->status = GNTST_general_error;
        return;
    }
    drop_mapping(sim, ld, op->handle);
}

/* One side of a copy: Xen's gnttab_copy_lock_domain + claim_buf. */
struct copy_buf {
    struct sim_dom *d;
    bool have_grant;
    uint32_t frame;
};

static int16_t claim(struct xf_sim *sim, struct sim_dom *caller, const struct gnttab_copy_ptr *p,
                     bool is_gref, struct copy_buf *b)
{
    b->have_grant = false;
    if (p->domid != DOMID_SELF && !is_gref)
        return GNTST_permission_denied; /* frames only of one's own */
    b->d = sim_find(sim, sim_resolve(p->domid, caller->domid));
    if (b->d == NULL)
        return GNTST_bad_domain;
    return GNTST_okay;
}

static int16_t claim_page(struct xf_sim *sim, struct sim_dom *caller,
                          const struct gnttab_copy_ptr *p, bool is_gref, bool readonly,
                          struct copy_buf *b)
{
    if (is_gref) {
        int16_t st = acquire(sim, b->d, p->u.ref, caller->domid, readonly, false, &b->frame);
        b->have_grant = st == GNTST_okay;
        return st;
    }
    if (!frame_ok(b->d, p->u.gmfn))
        return GNTST_bad_page;
    b->frame = (uint32_t)p->u.gmfn;
    return GNTST_okay;
}

static void copy_one(struct xf_sim *sim, struct sim_dom *caller, struct gnttab_copy *op)
{
    bool sg = op->flags & GNTCOPY_source_gref, dg = op->flags & GNTCOPY_dest_gref;
    struct copy_buf src = { 0 }, dst = { 0 };
    int16_t st;

    st = claim(sim, caller, &op->source, sg, &src);
    if (st == GNTST_okay)
        st = claim(sim, caller, &op->dest, dg, &dst);
    if (st == GNTST_okay)
        st = claim_page(sim, caller, &op->source, sg, true, &src);
    if (st == GNTST_okay)
        st = claim_page(sim, caller, &op->dest, dg, false, &dst);
    if (st == GNTST_okay && ((unsigned)op->source.offset + op->len > PAGE ||
                             (unsigned)op->dest.offset + op->len > PAGE))
        st = GNTST_bad_copy_arg;
    if (st == GNTST_okay) {
        uint8_t *s = view_gfn_va(sim, src.d, src.frame);
        uint8_t *d = view_gfn_va(sim, dst.d, dst.frame);
        if (s != NULL && d != NULL)
            memmove(d + op->dest.offset, s + op->source.offset, op->len);
        else
            st = GNTST_general_error;
    }
    /* Copies pin only for their own duration. */
    if (src.have_grant)
        release(sim, src.d, op->source.u.ref, true);
    if (dst.have_grant)
        release(sim, dst.d, op->dest.u.ref, false);
    op->status = st;
}

static long setup_table(struct xf_sim *sim, struct sim_dom *caller, struct gnttab_setup_table *op)
{
    struct sim_dom *d = sim_find(sim, sim_resolve(op->dom, caller->domid));
    xen_pfn_t *list = op->frame_list.p;

    if (d == NULL) {
        op->status = GNTST_bad_domain;
        return 0;
    }
    if (d != caller && !caller->privileged) {
        op->status = GNTST_permission_denied;
        return 0;
    }
    if (op->nr_frames > d->max_grant_frames) {
        op->status = GNTST_general_error;
        return 0;
    }
    if (op->nr_frames > d->nr_grant_frames)
        d->nr_grant_frames = op->nr_frames;
    op->status = GNTST_okay;
    for (uint32_t i = 0; i < op->nr_frames; i++) {
        if (list == NULL) {
            op->status = GNTST_bad_virt_addr;
            break;
        }
        /* A translated guest's frames are the gfns it mapped them at. */
        list[i] = d->gnttab_gfn[i] == NO_GFN ? ~(xen_pfn_t)0 : (xen_pfn_t)d->gnttab_gfn[i];
    }
    return 0;
}

long sim_gnttab_op(struct xf_sim *sim, struct sim_dom *d, unsigned int cmd, void *uop,
                   unsigned int count)
{
    if (uop == NULL && count != 0)
        return -XF_EFAULT;
    switch (cmd) {
    case GNTTABOP_map_grant_ref:
        for (unsigned i = 0; i < count; i++)
            map_one(sim, d, (struct gnttab_map_grant_ref *)uop + i);
        view_get(sim, d); /* the mappings are usable on return */
        return 0;
    case GNTTABOP_unmap_grant_ref:
        for (unsigned i = 0; i < count; i++)
            unmap_one(sim, d, (struct gnttab_unmap_grant_ref *)uop + i);
        view_get(sim, d);
        return 0;
    case GNTTABOP_copy:
        for (unsigned i = 0; i < count; i++)
            copy_one(sim, d, (struct gnttab_copy *)uop + i);
        return 0;
    case GNTTABOP_setup_table:
        if (count != 1)
            return -XF_EINVAL;
        return setup_table(sim, d, uop);
    case GNTTABOP_query_size: {
        struct gnttab_query_size *q = uop;
        struct sim_dom *t;
        if (count != 1)
            return -XF_EINVAL;
        t = sim_find(sim, sim_resolve(q->dom, d->domid));
        if (t == NULL)
            q->status = GNTST_bad_domain;
        else if (t != d && !d->privileged)
            q->status = GNTST_permission_denied;
        else {
            q->nr_frames = t->nr_grant_frames;
            q->max_nr_frames = t->max_grant_frames;
            q->status = GNTST_okay;
        }
        return 0;
    }
    case GNTTABOP_get_version: {
        struct gnttab_get_version *g = uop;
        struct sim_dom *t;
        if (count != 1)
            return -XF_EINVAL;
        t = sim_find(sim, sim_resolve(g->dom, d->domid));
        if (t == NULL)
            return -XF_ESRCH;
        if (t != d && !d->privileged)
            return -XF_EPERM;
        g->version = 1;
        return 0;
    }
    case GNTTABOP_set_version: {
        struct gnttab_set_version *s = uop;
        uint32_t want;
        if (count != 1)
            return -XF_EINVAL;
        want = s->version;
        s->version = 1; /* Xen reports the version in force */
        if (want != 1 && want != 2)
            return -XF_EINVAL;
        /* Domains here are created v1-only (max_grant_version=1), where Xen
         * answers a request for v2 with -ENOSYS. */
        return want == 2 ? -XF_ENOSYS : 0;
    }
    default:
        return -XF_ENOSYS;
    }
}

void gnttab_release_all(struct xf_sim *sim, struct sim_dom *d)
{
    for (uint32_t h = 0; h < XF_SIM_MAX_MAPTRACK; h++)
        if (d->maptrack[h].in_use)
            drop_mapping(sim, d, h);
}

void *xf_sim_map_grant(struct xf_sim *sim, domid_t mapper, domid_t granter, grant_ref_t ref,
                       bool readonly, grant_handle_t *handle, int16_t *status)
{
    struct gnttab_map_grant_ref op = { 0 };
    struct sim_dom *ld;
    void *va = NULL;
    uint32_t i = 0;

    op.status = GNTST_bad_domain;
    sim_lock(sim);
    ld = sim_find(sim, mapper);
    if (ld != NULL) {
        while (i < ld->foreign_frames && ld->foreign_p2m[i])
            i++;
        if (i == ld->foreign_frames) {
            op.status = GNTST_no_device_space;
        } else {
            op.host_addr = (foreign_first(ld) + i) << XF_PAGE_SHIFT;
            op.flags = GNTMAP_host_map | (readonly ? GNTMAP_readonly : 0);
            op.ref = ref;
            op.dom = granter;
            sim_gnttab_op(sim, ld, GNTTABOP_map_grant_ref, &op, 1);
            if (op.status == GNTST_okay)
                va = view_gfn_va(sim, ld, foreign_first(ld) + i);
        }
    }
    sim_unlock(sim);
    if (handle != NULL)
        *handle = op.handle;
    if (status != NULL)
        *status = op.status;
    return va;
}

int xf_sim_unmap_grant(struct xf_sim *sim, domid_t mapper, grant_handle_t handle)
{
    struct gnttab_unmap_grant_ref op = { 0 };
    struct sim_dom *ld;

    op.handle = handle;
    op.status = GNTST_bad_domain;
    sim_lock(sim);
    ld = sim_find(sim, mapper);
    if (ld != NULL) {
        op.status = GNTST_bad_handle;
        if (handle < XF_SIM_MAX_MAPTRACK && ld->maptrack[handle].in_use)
            op.host_addr = ld->maptrack[handle].gfn << XF_PAGE_SHIFT;
        sim_gnttab_op(sim, ld, GNTTABOP_unmap_grant_ref, &op, 1);
    }
    sim_unlock(sim);
    return op.status;
}
