/*
 * The simulator's internals: the layout of the hypervisor-state file and the
 * per-process views of it.
 *
 * The state file ("hv") is mapped by every attached process at a different
 * address, so it holds no pointers: domains are slots, everything else is
 * indices. Its first XF_SIM_MAX_DOMAINS pages are the shared_info pages (page
 * aligned so that add_to_physmap can mmap them into a guest's frames), then
 * struct sim_hv. Every field is protected by hv->lock except the shared_info
 * words and grant entries, which guests also write without it (atomics).
 */
#ifndef XF_SIM_PRIVATE_H
#define XF_SIM_PRIVATE_H

#include <xenfront/sim.h>
#include <xenfront/errno.h>

#include <limits.h>
#include <pthread.h>
#include <sys/types.h>

#define SIM_MAGIC    0x78667369u /* "xfsi" */
#define SIM_VERSION  2u
#define PAGE         ((size_t)XF_PAGE_SIZE)
#define GNT_PER_FRAME (XF_PAGE_SIZE / sizeof(grant_entry_v1_t))
#define MAX_GNT_REFS (XF_SIM_MAX_GRANT_FRAMES * GNT_PER_FRAME)
#define PORT_BUCKET  64u  /* ports become valid a bucket at a time, like Xen */
#define NO_GFN       (~(uint64_t)0)

/* Event-channel states (Xen's ECS_*). */
enum { ECS_FREE = 0, ECS_RESERVED, ECS_UNBOUND, ECS_INTERDOMAIN, ECS_PIRQ,
       ECS_VIRQ, ECS_IPI };

struct sim_chan {
    uint8_t state;
    uint8_t virq;
    uint16_t vcpu;          /* notify vCPU */
    uint16_t remote_dom;    /* unbound: allowed peer; interdomain: peer */
    uint16_t pad;
    uint32_t remote_port;   /* interdomain */
};

/* Xen's active grant entry: who holds the ref pinned and how often. */
struct sim_act {
    uint16_t pin_r, pin_w;
    uint16_t domid;
    uint16_t pad;
    uint32_t frame;
};

/* A mapper's maptrack entry (the grant handle is its index). */
struct sim_map {
    uint8_t in_use;
    uint8_t readonly;
    uint16_t granter;
    uint32_t ref;
    uint32_t frame;         /* granter's gfn that was mapped */
    uint32_t serial;        /* identifies this mapping to other processes */
    uint64_t gfn;           /* mapper's foreign-range gfn */
};

struct sim_dom {
    uint32_t in_use;
    uint32_t gen;           /* bumped at each creation in this slot */
    uint16_t domid;
    uint8_t privileged;
    uint8_t shutdown;
    uint32_t shutdown_reason;
    uint32_t nr_vcpus;
    uint32_t ram_frames;
    uint32_t foreign_frames;
    uint32_t max_grant_frames;
    uint32_t nr_grant_frames;
    uint32_t max_evtchn_port;
    uint32_t valid_ports;   /* ports below this are "valid" (allocated buckets) */
    uint32_t upcall_vector[XEN_LEGACY_MAX_VCPUS];
    uint32_t p2m_gen;       /* bumped when an overlay or foreign frame changes */
    uint64_t shinfo_gfn;    /* where add_to_physmap put shared_info, or NO_GFN */
    uint64_t gnttab_gfn[XF_SIM_MAX_GRANT_FRAMES];
    uint64_t hvm_params[HVM_NR_PARAMS];
    uint16_t virq_port[XEN_LEGACY_MAX_VCPUS][NR_VIRQS];
    uint32_t foreign_p2m[XF_SIM_MAX_FOREIGN];  /* handle + 1, or 0 */
    uint8_t ram_used[XF_SIM_MAX_RAM_FRAMES / 8];
    /* RAM gfns whose page Xen freed when add_to_physmap put another page
     * there: once that page leaves, the gfn is a hole until
     * XENMEM_populate_physmap puts fresh RAM back. */
    uint8_t ram_hole[XF_SIM_MAX_RAM_FRAMES / 8];
    uint32_t hole_gen;      /* bumped when ram_hole changes */
    struct sim_chan chans[XF_SIM_NR_PORTS];
    struct sim_act act[MAX_GNT_REFS];
    struct sim_map maptrack[XF_SIM_MAX_MAPTRACK];
};

struct sim_hv {
    uint32_t magic, version;
    pthread_mutex_t lock;   /* process-shared, robust */
    pthread_cond_t cond;    /* process-shared, CLOCK_MONOTONIC; "something changed" */
    uint16_t guest_domid;
    uint8_t guest_console_io;
    uint32_t map_serial;
    struct sim_dom doms[XF_SIM_MAX_DOMAINS];
};

#define HV_OFFSET (XF_SIM_MAX_DOMAINS * PAGE)
#define HV_FILE_SIZE (HV_OFFSET + ((sizeof(struct sim_hv) + PAGE - 1) & ~(PAGE - 1)))

/* This process's mappings of one domain. */
struct sim_view {
    uint32_t gen;           /* == dom->gen when valid, 0 = none */
    int mem_fd, gt_fd;
    uint8_t *base;          /* gfn 0; reservation of span_frames */
    size_t span_frames;     /* ram + gap + foreign */
    grant_entry_v1_t *gt;
    uint32_t p2m_gen;       /* dom->p2m_gen last applied here */
    uint64_t overlay[1 + XF_SIM_MAX_GRANT_FRAMES]; /* gfns overlaid here */
    uint32_t foreign_serial[XF_SIM_MAX_FOREIGN];   /* what is mapped here */
    uint32_t hole_gen;      /* dom->hole_gen last applied here */
    uint8_t hole[XF_SIM_MAX_RAM_FRAMES / 8];       /* RAM gfns mapped as holes */
    xf_sim_upcall_fn upcall;
    void *upcall_arg;
};

struct xf_sim {
    char dir[PATH_MAX];
    bool owner;
    pid_t owner_pid;        /* a forked child's copy must not remove the files */
    int hv_fd;
    uint8_t *hv_map;
    struct sim_hv *hv;
    struct sim_view views[XF_SIM_MAX_DOMAINS];
};

/*
 * Internal functions are global in the archive, so they carry the library's
 * prefix too (a test linking libxfsim.a may well define an evtchn_set_pending).
 */
#define evtchn_alloc_unbound_for xf_sim__evtchn_alloc_unbound_for
#define evtchn_destroy_all xf_sim__evtchn_destroy_all
#define evtchn_is_pending xf_sim__evtchn_is_pending
#define evtchn_raise_virq xf_sim__evtchn_raise_virq
#define evtchn_set_pending xf_sim__evtchn_set_pending
#define file_path xf_sim__file_path
#define foreign_first xf_sim__foreign_first
#define gfn_is_ram xf_sim__gfn_is_ram
#define gnttab_release_all xf_sim__gnttab_release_all
#define sim_alloc_frames xf_sim__sim_alloc_frames
#define sim_cond_wait xf_sim__sim_cond_wait
#define sim_console_io xf_sim__sim_console_io
#define sim_deliver_upcalls_locked xf_sim__sim_deliver_upcalls_locked
#define sim_find xf_sim__sim_find
#define sim_evtchn_op xf_sim__sim_evtchn_op
#define sim_free_frames xf_sim__sim_free_frames
#define sim_gnttab_op xf_sim__sim_gnttab_op
#define sim_hvm_op xf_sim__sim_hvm_op
#define sim_kick xf_sim__sim_kick
#define sim_lock xf_sim__sim_lock
#define sim_memory_op xf_sim__sim_memory_op
#define sim_now_ns xf_sim__sim_now_ns
#define sim_sched_op xf_sim__sim_sched_op
#define sim_shinfo xf_sim__sim_shinfo
#define sim_slot xf_sim__sim_slot
#define sim_unlock xf_sim__sim_unlock
#define sim_xen_version xf_sim__sim_xen_version
#define upcall_configured xf_sim__upcall_configured
#define view_drop xf_sim__view_drop
#define view_get xf_sim__view_get
#define view_gfn_va xf_sim__view_gfn_va

/* seam.c: the process default for threads without xf_sim_set_current(). */
extern struct xf_sim *xf_sim_default_;
extern domid_t xf_sim_default_domid_;

/* sim.c */
void sim_lock(struct xf_sim *sim);
void sim_unlock(struct xf_sim *sim);
void sim_kick(struct xf_sim *sim);
/* Wait on the condvar until deadline_ns (~0: forever). -XEN_ETIMEDOUT or 0. */
int sim_cond_wait(struct xf_sim *sim, uint64_t deadline_ns);
struct sim_dom *sim_find(struct xf_sim *sim, domid_t domid);
int sim_slot(struct xf_sim *sim, const struct sim_dom *d);
shared_info_t *sim_shinfo(struct xf_sim *sim, const struct sim_dom *d);
uint64_t sim_now_ns(void);
/* Resolve DOMID_SELF. */
static inline domid_t sim_resolve(domid_t id, domid_t caller)
{
    return id == DOMID_SELF ? caller : id;
}

/* memory.c */
struct sim_view *view_get(struct xf_sim *sim, struct sim_dom *d); /* maps + syncs */
void view_drop(struct xf_sim *sim, int slot);
void *view_gfn_va(struct xf_sim *sim, struct sim_dom *d, uint64_t gfn);
bool gfn_is_ram(const struct sim_dom *d, uint64_t gfn);
uint64_t foreign_first(const struct sim_dom *d);
int file_path(const struct xf_sim *sim, char *buf, size_t len, const char *what,
              unsigned int domid);
long sim_alloc_frames(struct sim_dom *d, size_t n);
void sim_free_frames(struct sim_dom *d, uint64_t first, size_t n);
long sim_memory_op(struct xf_sim *sim, struct sim_dom *d, unsigned int cmd, void *arg);

/* evtchn.c */
long sim_evtchn_op(struct xf_sim *sim, struct sim_dom *d, int cmd, void *arg);
void evtchn_set_pending(struct xf_sim *sim, struct sim_dom *d, uint32_t port);
bool evtchn_is_pending(struct xf_sim *sim, struct sim_dom *d, uint32_t port);
long evtchn_alloc_unbound_for(struct xf_sim *sim, struct sim_dom *d, domid_t remote);
void evtchn_destroy_all(struct xf_sim *sim, struct sim_dom *d);
int evtchn_raise_virq(struct xf_sim *sim, struct sim_dom *d, unsigned virq, unsigned vcpu);

/* gnttab.c */
long sim_gnttab_op(struct xf_sim *sim, struct sim_dom *d, unsigned int cmd,
                   void *uop, unsigned int count);
void gnttab_release_all(struct xf_sim *sim, struct sim_dom *d);

/* hvm.c */
long sim_hvm_op(struct xf_sim *sim, struct sim_dom *d, unsigned int cmd, void *arg);
long sim_sched_op(struct xf_sim *sim, struct sim_dom *d, int cmd, void *arg);
long sim_console_io(struct xf_sim *sim, struct sim_dom *d, int cmd, unsigned count, char *buf);
long sim_xen_version(struct xf_sim *sim, struct sim_dom *d, int cmd, void *arg);
/* Deliver due upcalls (called with the lock held; drops it around handlers).
 * Returns the number of handler calls. */
int sim_deliver_upcalls_locked(struct xf_sim *sim, domid_t domid);
bool upcall_configured(const struct sim_dom *d, unsigned vcpu);

/* Atomics on words the guest shares (shared_info, grant entries). */
#define AT_LOAD(p)          __atomic_load_n((p), __ATOMIC_SEQ_CST)
#define AT_OR(p, v)         __atomic_fetch_or((p), (v), __ATOMIC_SEQ_CST)
#define AT_AND(p, v)        __atomic_fetch_and((p), (v), __ATOMIC_SEQ_CST)
#define AT_STORE(p, v)      __atomic_store_n((p), (v), __ATOMIC_SEQ_CST)

#define BITS_PER_WORD (sizeof(xen_ulong_t) * 8)
static inline bool bit_test_and_set(xen_ulong_t *w, unsigned bit)
{
    xen_ulong_t m = (xen_ulong_t)1 << (bit % BITS_PER_WORD);
    return (AT_OR(&w[bit / BITS_PER_WORD], m) & m) != 0;
}
static inline bool bit_test_and_clear(xen_ulong_t *w, unsigned bit)
{
    xen_ulong_t m = (xen_ulong_t)1 << (bit % BITS_PER_WORD);
    return (AT_AND(&w[bit / BITS_PER_WORD], ~m) & m) != 0;
}
static inline bool bit_test(xen_ulong_t *w, unsigned bit)
{
    xen_ulong_t m = (xen_ulong_t)1 << (bit % BITS_PER_WORD);
    return (AT_LOAD(&w[bit / BITS_PER_WORD]) & m) != 0;
}

#endif
