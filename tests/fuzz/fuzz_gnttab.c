/*
 * fuzz_gnttab: libgnttab's reading of the grant flags the other side (Xen,
 * on the back end's behalf) writes: ending access, deferring it, and the
 * deferred list's reclaim, with pins (GTF_reading, GTF_writing) and any
 * other flag bits set and cleared at any moment between calls, and table
 * frames that already hold live entries when they are mapped.
 *
 * A model of every reference the target owns predicts each call, and the
 * target checks:
 *  - end_access / end_ref succeed exactly when no pin bit is set, leave
 *    the entry dead (flags 0) then, and otherwise change nothing (-XF_EBUSY);
 *  - end_access_deferred ends at once (release called, returns 0) or defers
 *    (returns 1), or refuses when the bounded list is full (-XF_ENOSPC);
 *    the deferred count never exceeds its bound;
 *  - each deferred page's release function runs exactly once, only once its
 *    entry is dead, and reclaim returns what is left;
 *  - a reference is never handed out twice, never one found live at
 *    mapping time, and a grant entry is written with the frame, domid and
 *    flags asked for;
 *  - nothing in the table changes but the entries of the call's reference
 *    (or, for reclaim, the deferred ones), and the critical section
 *    (xf_plat_irq_save/restore) is balanced after every call;
 *  - the statistics agree with the model;
 *  - with hypercall failures injected at any point (fz_fault_plan: page
 *    allocation, physmap, grant-table queries, in creation and in growth,
 *    once or from then on), a failing call returns a negative errno (the
 *    one Xen gave, or -XF_ENOSPC/-XF_ENOMEM), leaves the statistics and
 *    the table as they were, and the context keeps working once Xen does.
 */
#include "fz.h"

#include <xenfront/errno.h>
#include <xenfront/gnttab.h>

#define FRAMES 4u
#define PER XF_GNTTAB_REFS_PER_FRAME
#define NREFS (FRAMES * PER)
#define DMAX 4u

enum { M_NONE = 0, M_RESERVED, M_GRANTED, M_DEFERRED, M_LIVE_AT_MAP };

static grant_entry_v1_t *frames[FRAMES];
static grant_entry_v1_t shadow[FRAMES][PER];
static uint8_t mstate[NREFS];
static unsigned released[NREFS];     /* release calls per ref's page */
static unsigned char pages[NREFS];   /* stand-ins for the deferred pages */
static uint32_t m_deferred;
static struct xf_gnttab *gt;

static grant_entry_v1_t *entry(uint32_t ref)
{
    return &frames[ref / PER][ref % PER];
}

static void physmap_hook(void *va, unsigned int space, xen_ulong_t idx)
{
    grant_entry_v1_t *e = va;

    if (space != XENMAPSPACE_grant_table || idx >= FRAMES)
        return;
    frames[idx] = e;
    /* Entries made before this context (another kernel, the toolstack):
     * live ones must be left alone. */
    unsigned n = fz_u8() % 4;
    for (unsigned i = 0; i < n; i++) {
        uint32_t at = fz_u16() % PER;

        e[at].flags = (uint16_t)(fz_u16() | GTF_permit_access);
        e[at].domid = 0;
        e[at].frame = 0;
        if (idx * PER + at >= GNTTAB_NR_RESERVED_ENTRIES)
            mstate[idx * PER + at] = M_LIVE_AT_MAP;
    }
    memcpy(shadow[idx], e, sizeof(shadow[idx]));
}

/* After a call: the table changed only at the refs allowed, which the
 * shadow then takes. */
static void check_table(const uint32_t *allowed, unsigned n, const char *what)
{
    /* Take the allowed entries first, then the rest must be as it was. */
    for (unsigned k = 0; k < n; k++)
        if (allowed[k] < NREFS && frames[allowed[k] / PER] != NULL)
            shadow[allowed[k] / PER][allowed[k] % PER] = *entry(allowed[k]);
    for (uint32_t f = 0; f < FRAMES; f++) {
        if (frames[f] == NULL || memcmp(shadow[f], frames[f], sizeof(shadow[f])) == 0)
            continue;
        for (uint32_t i = 0; i < PER; i++)
            FZ_CHECK(memcmp(&shadow[f][i], &frames[f][i], sizeof(shadow[f][i])) == 0,
                     "%s changed entry %u (flags %#x -> %#x)", what, (unsigned)(f * PER + i),
                     shadow[f][i].flags, frames[f][i].flags);
    }
    FZ_CHECK(fz_irq_depth == 0, "%s left the critical section unbalanced (%ld)", what,
             fz_irq_depth);
}

static void release_fn(struct xf_gnttab *g, void *page, void *arg)
{
    uint32_t ref = (uint32_t)(uintptr_t)arg;

    FZ_CHECK(g == gt, "release for another context");
    FZ_CHECK(page == &pages[ref], "release of the wrong page");
    FZ_CHECK(mstate[ref] == M_DEFERRED || mstate[ref] == M_GRANTED, "release of ref %u in state %u",
             ref, mstate[ref]);
    FZ_CHECK(entry(ref)->flags == 0, "page of ref %u released while its entry is live (%#x)",
             ref, entry(ref)->flags);
    released[ref]++;
    FZ_CHECK(released[ref] == 1, "release twice for ref %u", ref);
}

/* A reference of ours in the given state, chosen by the input (or none). */
static int pick(uint8_t st)
{
    uint32_t start = fz_u16() % NREFS;

    for (uint32_t k = 0; k < NREFS; k++) {
        uint32_t ref = (start + k) % NREFS;

        if (mstate[ref] == st)
            return (int)ref;
    }
    return -1;
}

static bool pinned(uint32_t ref)
{
    return (entry(ref)->flags & (GTF_reading | GTF_writing)) != 0;
}

static void take(grant_ref_t ref, uint8_t st)
{
    FZ_CHECK(ref < NREFS && ref >= GNTTAB_NR_RESERVED_ENTRIES, "ref %u handed out", ref);
    FZ_CHECK(mstate[ref] == M_NONE, "ref %u handed out while %s", ref,
             mstate[ref] == M_LIVE_AT_MAP ? "live at mapping time" : "ours already");
    mstate[ref] = st;
}

static void check_stats(void)
{
    struct xf_gnttab_stats st;
    uint32_t res = 0, gr = 0, de = 0;

    for (uint32_t r = 0; r < NREFS; r++) {
        res += mstate[r] == M_RESERVED;
        gr += mstate[r] == M_GRANTED;
        de += mstate[r] == M_DEFERRED;
    }
    xf_gnttab_get_stats(gt, &st);
    FZ_CHECK(st.reserved_refs == res, "reserved %u, model %u", st.reserved_refs, res);
    FZ_CHECK(st.granted_refs == gr + de, "granted %u, model %u+%u", st.granted_refs, gr, de);
    FZ_CHECK(st.deferred == de && de == m_deferred && de <= DMAX, "deferred %u, model %u",
             st.deferred, de);
    FZ_CHECK(xf_gnttab_deferred_count(gt) == de, "deferred_count");
}

static bool failure_ok(int rc)
{
    return rc == -XF_ENOSPC || rc == -XF_ENOMEM || (fz_faults != 0 && fz_is_xen_error(rc));
}

static void step(void)
{
    grant_ref_t ref;
    int r, rc;
    uint8_t op = fz_u8();

    if (op >= 0xf4) {
        /* Xen (or the allocator) starts refusing: the table's growth
         * (alloc of refs, grow) meets it. */
        fz_fault_plan(FZ_FAULT_MEM | FZ_FAULT_GNT);
        return;
    }
    switch (op % 12) {
    case 0: case 1: { /* grant */
        domid_t dom = (domid_t)(fz_u8() % 4);
        xen_pfn_t gfn = fz_u32() & 0xfffffff;
        bool ro = fz_bool();

        rc = xf_gnttab_grant_access(gt, dom, gfn, ro, &ref);
        if (rc == 0) {
            take(ref, M_GRANTED);
            FZ_CHECK(entry(ref)->frame == gfn && entry(ref)->domid == dom &&
                     entry(ref)->flags == (GTF_permit_access | (ro ? GTF_readonly : 0)),
                     "grant wrote the entry wrong");
            check_table(&ref, 1, "grant_access");
        } else {
            FZ_CHECK(rc == -XF_ENOSPC || (fz_faults != 0 && failure_ok(rc)), "grant_access: %d",
                     rc);
            check_table(NULL, 0, "grant_access (failed)");
        }
        break;
    }
    case 2: /* end access */
        if ((r = pick(M_GRANTED)) < 0)
            break;
        ref = (grant_ref_t)r;
        {
            bool pin = pinned(ref);

            bool keep = fz_bool();

            rc = keep ? xf_gnttab_end_ref(gt, ref) : xf_gnttab_end_access(gt, ref);
            if (pin) {
                FZ_CHECK(rc == -XF_EBUSY, "end of a pinned grant: %d", rc);
                check_table(NULL, 0, "end_access (pinned)");
            } else {
                FZ_CHECK(rc == 0, "end of an unpinned grant: %d", rc);
                FZ_CHECK(entry(ref)->flags == 0, "ended entry still live");
                check_table(&ref, 1, "end_access");
                /* end_ref keeps it reserved, end_access frees it. */
                mstate[ref] = keep ? M_RESERVED : M_NONE;
            }
        }
        break;
    case 3: case 4: /* end, deferred */
        if ((r = pick(M_GRANTED)) < 0)
            break;
        ref = (grant_ref_t)r;
        {
            bool pin = pinned(ref);
            uint32_t allowed[DMAX + 1];
            unsigned na = 0;

            allowed[na++] = ref;
            for (uint32_t k = 0; k < NREFS && na <= DMAX; k++)
                if (mstate[k] == M_DEFERRED)
                    allowed[na++] = k;
            rc = xf_gnttab_end_access_deferred(gt, ref, &pages[ref], release_fn,
                                               (void *)(uintptr_t)ref);
            if (!pin) {
                FZ_CHECK(rc == 0 && released[ref] == 1, "unpinned deferred end: %d", rc);
                released[ref] = 0;
                mstate[ref] = M_NONE;
            } else if (rc == 1) {
                mstate[ref] = M_DEFERRED;
                m_deferred++;
            } else {
                FZ_CHECK(rc == -XF_ENOSPC && m_deferred == DMAX, "deferred end: %d (%u deferred)",
                         rc, m_deferred);
            }
            /* A full list is reclaimed once first: deferred ones may go. */
            for (uint32_t k = 0; k < NREFS; k++) {
                if (mstate[k] == M_DEFERRED && released[k] != 0) {
                    released[k] = 0;
                    mstate[k] = M_NONE;
                    m_deferred--;
                }
            }
            check_table(allowed, na, "end_access_deferred");
        }
        break;
    case 5: { /* reclaim */
        uint32_t allowed[DMAX], left = 0;
        bool pin[DMAX];
        unsigned na = 0;

        for (uint32_t k = 0; k < NREFS; k++)
            if (mstate[k] == M_DEFERRED) {
                pin[na] = pinned(k);
                left += pin[na];
                allowed[na++] = k;
            }
        uint32_t n = xf_gnttab_reclaim(gt);
        FZ_CHECK(n == left, "reclaim left %u, model %u", n, left);
        for (unsigned i = 0; i < na; i++) {
            uint32_t k = allowed[i];

            FZ_CHECK((released[k] == 1) == !pin[i], "reclaim: ref %u released %u, pinned %d", k,
                     released[k], pin[i]);
            if (released[k]) {
                released[k] = 0;
                mstate[k] = M_NONE;
                m_deferred--;
            }
        }
        check_table(allowed, na, "reclaim");
        break;
    }
    case 6: case 7: { /* the other side pins, unpins, or writes any flags */
        int k = pick(fz_bool() ? M_GRANTED : M_DEFERRED);
        uint16_t f;

        if (k < 0)
            break;
        switch (fz_u8() % 4) {
        case 0:
            f = (uint16_t)(entry((uint32_t)k)->flags | (fz_bool() ? GTF_reading : GTF_writing));
            break;
        case 1:
            f = (uint16_t)(entry((uint32_t)k)->flags & ~(GTF_reading | GTF_writing));
            break;
        default:
            f = fz_u16();
            break;
        }
        entry((uint32_t)k)->flags = f;
        shadow[k / PER][k % PER].flags = f;
        break;
    }
    case 8: { /* reserve refs, grant one of them by number */
        grant_ref_t refs[8];
        uint32_t n = 1 + fz_u8() % 8;

        rc = xf_gnttab_alloc_refs(gt, refs, n);
        if (rc == 0) {
            for (uint32_t i = 0; i < n; i++)
                take(refs[i], M_RESERVED);
            rc = xf_gnttab_grant_ref(gt, refs[0], 1, 42, false);
            FZ_CHECK(rc == 0, "grant_ref: %d", rc);
            mstate[refs[0]] = M_GRANTED;
            check_table(refs, 1, "grant_ref");
        } else {
            FZ_CHECK(rc == -XF_ENOSPC || (fz_faults != 0 && failure_ok(rc)), "alloc_refs: %d",
                     rc);
            check_table(NULL, 0, "alloc_refs (failed)");
        }
        break;
    }
    case 9: /* give reserved ones back */
        if ((r = pick(M_RESERVED)) < 0)
            break;
        ref = (grant_ref_t)r;
        rc = xf_gnttab_free_refs(gt, &ref, 1);
        FZ_CHECK(rc == 0, "free_refs: %d", rc);
        mstate[ref] = M_NONE;
        check_table(NULL, 0, "free_refs");
        break;
    case 10: /* refuse to free what is granted */
        if ((r = pick(M_GRANTED)) < 0)
            break;
        ref = (grant_ref_t)r;
        rc = xf_gnttab_free_refs(gt, &ref, 1);
        FZ_CHECK(rc == -XF_EBUSY, "free_refs of a granted ref: %d", rc);
        check_table(NULL, 0, "free_refs (granted)");
        break;
    default: {
        struct xf_gnttab_stats before, after;
        unsigned long faults = fz_faults;

        xf_gnttab_get_stats(gt, &before);
        rc = xf_gnttab_grow(gt, fz_u16() % (NREFS + 8));
        xf_gnttab_get_stats(gt, &after);
        if (rc < 0) {
            /* Growth frame by frame may keep the frames it got before Xen
             * refused; it never loses any, and says why it stopped. */
            FZ_CHECK(failure_ok(rc) || rc == -XF_EINVAL, "grow: %d", rc);
            FZ_CHECK(rc == -XF_ENOSPC || rc == -XF_EINVAL || fz_faults != faults,
                     "grow failed (%d) with no refusal", rc);
            FZ_CHECK(after.nr_frames >= before.nr_frames &&
                     after.free_refs >= before.free_refs &&
                     after.reserved_refs == before.reserved_refs &&
                     after.granted_refs == before.granted_refs,
                     "failed grow changed the context: frames %u -> %u, free %u -> %u",
                     before.nr_frames, after.nr_frames, before.free_refs, after.free_refs);
        }
        check_table(NULL, 0, "grow");
        break;
    }
    }
    check_stats();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct xf_gnttab_config cfg;
    int rc;

    fz_log_init();
    fz_start(data, size);
    fz_plat_reset();
    memset(frames, 0, sizeof(frames));
    memset(shadow, 0, sizeof(shadow));
    memset(mstate, 0, sizeof(mstate));
    memset(released, 0, sizeof(released));
    m_deferred = 0;
    fz_gnt_nr_frames = 1;
    fz_gnt_max_frames = FRAMES;
    fz_physmap_hook = physmap_hook;

    memset(&cfg, 0, sizeof(cfg));
    {
        uint8_t b = fz_u8();

        cfg.initial_frames = 1 + b % 2;
        /* Bit 7: make one fallible operation fail (page allocation, a
         * physmap change, query_size, set_version), creation included. */
        if (b & 0x80)
            fz_fault_countdown = (b >> 1) & 0x0f;
    }
    cfg.deferred_max = DMAX;
    cfg.no_foreign_range = true;
    rc = xf_gnttab_create(&gt, &cfg);
    if (rc != 0) {
        /* Only an injected fault may make it fail, and it leaves nothing. */
        FZ_CHECK(fz_faults != 0, "create: %d", rc);
        FZ_CHECK(fz_pages_live == 0, "failed create left %ld pages", fz_pages_live);
        gt = NULL;
        return 0;
    }

    for (unsigned i = 0; i < 1500 && !fz_eof(); i++)
        step();

    /* Let go of everything, as a driver shutting down would (no faults
     * now: a frame whose RAM cannot be put back is kept on purpose, which
     * would read as a leak). */
    fz_fault_countdown = -1;
    for (uint32_t k = 0; k < NREFS; k++) {
        if (mstate[k] == M_GRANTED || mstate[k] == M_DEFERRED)
            entry(k)->flags &= (uint16_t)~(GTF_reading | GTF_writing);
        if (mstate[k] == M_GRANTED) {
            rc = xf_gnttab_end_access(gt, k);
            FZ_CHECK(rc == 0, "final end_access: %d", rc);
            mstate[k] = M_NONE;
        } else if (mstate[k] == M_RESERVED) {
            grant_ref_t g = k;

            FZ_CHECK(xf_gnttab_free_refs(gt, &g, 1) == 0, "final free");
            mstate[k] = M_NONE;
        }
    }
    FZ_CHECK(xf_gnttab_reclaim(gt) == 0, "final reclaim left some");
    rc = xf_gnttab_destroy(gt);
    FZ_CHECK(rc == 0, "destroy: %d", rc);
    gt = NULL;
    FZ_CHECK(fz_pages_live == 0, "%ld pages leaked", fz_pages_live);
    return 0;
}
