/*
 * The simulator's core: the state directory, the shared lock and condition
 * variable, and domain creation and destruction (the domain builder).
 */
#include "private.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

uint64_t sim_now_ns(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

void sim_lock(struct xf_sim *sim)
{
    int rc = pthread_mutex_lock(&sim->hv->lock);

    /* A process died holding it (a crashed backend): the state is still
     * consistent enough for tests to carry on and report. */
    if (rc == EOWNERDEAD)
        pthread_mutex_consistent(&sim->hv->lock);
}

void sim_unlock(struct xf_sim *sim)
{
    pthread_mutex_unlock(&sim->hv->lock);
}

void sim_kick(struct xf_sim *sim)
{
    pthread_cond_broadcast(&sim->hv->cond);
}

int sim_cond_wait(struct xf_sim *sim, uint64_t deadline_ns)
{
    int rc;

    if (deadline_ns == ~(uint64_t)0) {
        rc = pthread_cond_wait(&sim->hv->cond, &sim->hv->lock);
    } else {
        struct timespec ts = {
            .tv_sec = (time_t)(deadline_ns / 1000000000u),
            .tv_nsec = (long)(deadline_ns % 1000000000u),
        };
        if (sim_now_ns() >= deadline_ns)
            return -XF_ETIMEDOUT;
        rc = pthread_cond_timedwait(&sim->hv->cond, &sim->hv->lock, &ts);
    }
    if (rc == EOWNERDEAD)
        pthread_mutex_consistent(&sim->hv->lock);
    return rc == ETIMEDOUT ? -XF_ETIMEDOUT : 0;
}

struct sim_dom *sim_find(struct xf_sim *sim, domid_t domid)
{
    for (unsigned i = 0; i < XF_SIM_MAX_DOMAINS; i++) {
        struct sim_dom *d = &sim->hv->doms[i];
        if (d->in_use && d->domid == domid)
            return d;
    }
    return NULL;
}

int sim_slot(struct xf_sim *sim, const struct sim_dom *d)
{
    return (int)(d - sim->hv->doms);
}

shared_info_t *sim_shinfo(struct xf_sim *sim, const struct sim_dom *d)
{
    return (shared_info_t *)(void *)(sim->hv_map + (size_t)sim_slot(sim, d) * PAGE);
}

int file_path(const struct xf_sim *sim, char *buf, size_t len, const char *what,
              unsigned int domid)
{
    int n = snprintf(buf, len, "%s/%s-%u", sim->dir, what, domid);
    return (n < 0 || (size_t)n >= len) ? -XF_ENAMETOOLONG : 0;
}

static int make_file(const struct xf_sim *sim, const char *what, unsigned domid,
                     size_t size)
{
    char path[PATH_MAX + 32];
    int fd;

    if (file_path(sim, path, sizeof(path), what, domid) < 0)
        return -XF_ENAMETOOLONG;
    fd = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0)
        return -XF_EIO;
    if (ftruncate(fd, (off_t)size) != 0) {
        close(fd);
        unlink(path);
        return -XF_EIO;
    }
    close(fd);
    return 0;
}

static void remove_file(const struct xf_sim *sim, const char *what, unsigned domid)
{
    char path[PATH_MAX + 32];

    if (file_path(sim, path, sizeof(path), what, domid) == 0)
        unlink(path);
}

static int dom_config_fill(struct xf_sim_domain_config *c, uint32_t def_ram)
{
    if (c->ram_frames == 0)
        c->ram_frames = def_ram;
    if (c->foreign_frames == 0)
        c->foreign_frames = 1024;
    if (c->max_grant_frames == 0)
        c->max_grant_frames = XF_SIM_MAX_GRANT_FRAMES;
    if (c->initial_grant_frames == 0)
        c->initial_grant_frames = 1;
    if (c->vcpus == 0)
        c->vcpus = 1;
    if (c->max_evtchn_port == 0)
        c->max_evtchn_port = XF_SIM_NR_PORTS - 1;
    if (c->ram_frames <= XF_SIM_RESERVED_FRAMES || c->ram_frames > XF_SIM_MAX_RAM_FRAMES ||
        c->foreign_frames > XF_SIM_MAX_FOREIGN ||
        c->max_grant_frames > XF_SIM_MAX_GRANT_FRAMES ||
        c->initial_grant_frames > c->max_grant_frames ||
        c->vcpus > XEN_LEGACY_MAX_VCPUS || c->max_evtchn_port >= XF_SIM_NR_PORTS ||
        c->domid >= DOMID_FIRST_RESERVED)
        return -XF_EINVAL;
    return 0;
}

/* Called with the lock held. */
static int domain_create_locked(struct xf_sim *sim, const struct xf_sim_domain_config *cfg,
                                bool privileged)
{
    struct sim_dom *d = NULL;
    int rc;

    if (sim_find(sim, cfg->domid) != NULL)
        return -XF_EEXIST;
    for (unsigned i = 0; i < XF_SIM_MAX_DOMAINS && d == NULL; i++)
        if (!sim->hv->doms[i].in_use)
            d = &sim->hv->doms[i];
    if (d == NULL)
        return -XF_ENOSPC;

    rc = make_file(sim, "mem", cfg->domid, (size_t)cfg->ram_frames * PAGE);
    if (rc == 0)
        rc = make_file(sim, "gnttab", cfg->domid, (size_t)cfg->max_grant_frames * PAGE);
    if (rc < 0) {
        remove_file(sim, "mem", cfg->domid);
        return rc;
    }

    uint32_t gen = d->gen + 1;
    memset(d, 0, sizeof(*d));
    d->gen = gen ? gen : 1;
    d->domid = cfg->domid;
    d->privileged = privileged;
    d->nr_vcpus = cfg->vcpus;
    d->ram_frames = cfg->ram_frames;
    d->foreign_frames = cfg->foreign_frames;
    d->max_grant_frames = cfg->max_grant_frames;
    d->nr_grant_frames = cfg->initial_grant_frames;
    d->max_evtchn_port = cfg->max_evtchn_port;
    d->valid_ports = PORT_BUCKET;
    d->chans[0].state = ECS_RESERVED; /* port 0 is never handed out */
    d->shinfo_gfn = NO_GFN;
    for (unsigned i = 0; i < XF_SIM_MAX_GRANT_FRAMES; i++)
        d->gnttab_gfn[i] = NO_GFN;
    /* The builder's special pages are never handed out by the allocator. */
    for (unsigned f = 0; f < XF_SIM_RESERVED_FRAMES; f++)
        d->ram_used[f / 8] |= (uint8_t)(1u << (f % 8));
    memset(sim_shinfo(sim, d), 0, PAGE);
    d->in_use = 1;
    return cfg->domid;
}

int xf_sim_domain_create(struct xf_sim *sim, const struct xf_sim_domain_config *cfg)
{
    struct xf_sim_domain_config c;
    int rc;

    if (sim == NULL || cfg == NULL)
        return -XF_EINVAL;
    c = *cfg;
    rc = dom_config_fill(&c, 4096);
    if (rc < 0)
        return rc;
    sim_lock(sim);
    rc = domain_create_locked(sim, &c, c.privileged);
    sim_unlock(sim);
    return rc;
}

int xf_sim_domain_destroy(struct xf_sim *sim, domid_t domid)
{
    struct sim_dom *d;

    if (domid == 0)
        return -XF_EINVAL;
    sim_lock(sim);
    d = sim_find(sim, domid);
    if (d == NULL) {
        sim_unlock(sim);
        return -XF_ESRCH;
    }
    evtchn_destroy_all(sim, d);
    gnttab_release_all(sim, d);
    view_drop(sim, sim_slot(sim, d));
    remove_file(sim, "mem", domid);
    remove_file(sim, "gnttab", domid);
    d->in_use = 0;
    sim_kick(sim);
    sim_unlock(sim);
    return 0;
}

bool xf_sim_domain_exists(struct xf_sim *sim, domid_t domid)
{
    bool r;

    sim_lock(sim);
    r = sim_find(sim, domid) != NULL;
    sim_unlock(sim);
    return r;
}

/* Xen's domain builder for the guest: console and xenstore pages, their
 * ports unbound for dom0 (the toolstack's alloc_unbound), HVM params, and
 * the reserved grant refs 0 and 1 pre-filled for dom0. */
static int build_store_console(struct xf_sim *sim, struct sim_dom *g)
{
    struct sim_view *v = view_get(sim, g);
    long con, store;

    if (v == NULL)
        return -XF_EIO;
    con = evtchn_alloc_unbound_for(sim, g, 0);
    store = evtchn_alloc_unbound_for(sim, g, 0);
    if (con < 0 || store < 0)
        return -XF_ENOSPC;
    g->hvm_params[HVM_PARAM_CONSOLE_PFN] = XF_SIM_CONSOLE_GFN;
    g->hvm_params[HVM_PARAM_CONSOLE_EVTCHN] = (uint64_t)con;
    g->hvm_params[HVM_PARAM_STORE_PFN] = XF_SIM_STORE_GFN;
    g->hvm_params[HVM_PARAM_STORE_EVTCHN] = (uint64_t)store;

    v->gt[0].frame = XF_SIM_CONSOLE_GFN;
    v->gt[0].domid = 0;
    v->gt[1].frame = XF_SIM_STORE_GFN;
    v->gt[1].domid = 0;
    __atomic_store_n(&v->gt[0].flags, (uint16_t)GTF_permit_access, __ATOMIC_RELEASE);
    __atomic_store_n(&v->gt[1].flags, (uint16_t)GTF_permit_access, __ATOMIC_RELEASE);
    return 0;
}

static struct xf_sim *sim_alloc(void)
{
    struct xf_sim *sim = calloc(1, sizeof(*sim));

    if (sim != NULL)
        sim->hv_fd = -1;
    for (unsigned i = 0; sim != NULL && i < XF_SIM_MAX_DOMAINS; i++)
        sim->views[i].mem_fd = sim->views[i].gt_fd = -1;
    return sim;
}

static int map_hv(struct xf_sim *sim)
{
    char path[PATH_MAX + 32];
    void *p;

    if (file_path(sim, path, sizeof(path), "hv", 0) < 0)
        return -XF_ENAMETOOLONG;
    sim->hv_fd = open(path, O_RDWR | O_CLOEXEC);
    if (sim->hv_fd < 0)
        return -XF_EIO;
    p = mmap(NULL, HV_FILE_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, sim->hv_fd, 0);
    if (p == MAP_FAILED)
        return -XF_EIO;
    sim->hv_map = p;
    sim->hv = (struct sim_hv *)(void *)(sim->hv_map + HV_OFFSET);
    return 0;
}

static void sim_unmap_all(struct xf_sim *sim)
{
    for (int i = 0; i < XF_SIM_MAX_DOMAINS; i++)
        view_drop(sim, i);
    if (sim->hv_map != NULL)
        munmap(sim->hv_map, HV_FILE_SIZE);
    if (sim->hv_fd >= 0)
        close(sim->hv_fd);
}

static int sync_init(struct sim_hv *hv)
{
    pthread_mutexattr_t ma;
    pthread_condattr_t ca;
    int rc = 0;

    pthread_mutexattr_init(&ma);
    pthread_mutexattr_setpshared(&ma, PTHREAD_PROCESS_SHARED);
    pthread_mutexattr_setrobust(&ma, PTHREAD_MUTEX_ROBUST);
    if (pthread_mutex_init(&hv->lock, &ma) != 0)
        rc = -XF_EIO;
    pthread_mutexattr_destroy(&ma);
    pthread_condattr_init(&ca);
    pthread_condattr_setpshared(&ca, PTHREAD_PROCESS_SHARED);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    if (rc == 0 && pthread_cond_init(&hv->cond, &ca) != 0)
        rc = -XF_EIO;
    pthread_condattr_destroy(&ca);
    return rc;
}

struct xf_sim *xf_sim_create(const struct xf_sim_config *cfg_in)
{
    struct xf_sim_config cfg = { 0 };
    struct xf_sim *sim;
    const char *tmp = getenv("TMPDIR");
    int n, rc;

    if (cfg_in != NULL)
        cfg = *cfg_in;
    if (cfg.guest.domid == 0)
        cfg.guest.domid = 1;
    cfg.dom0.domid = 0;
    if (dom_config_fill(&cfg.guest, 4096) < 0 || dom_config_fill(&cfg.dom0, 1024) < 0) {
        xf_log(XF_LOG_ERROR, "xf_sim: bad configuration");
        return NULL;
    }
    sim = sim_alloc();
    if (sim == NULL)
        return NULL;
    if (tmp == NULL || tmp[0] == '\0')
        tmp = "/tmp";
    n = snprintf(sim->dir, sizeof(sim->dir), "%s/xfsim-XXXXXX", tmp);
    if (n < 0 || (size_t)n >= sizeof(sim->dir) - 64 || mkdtemp(sim->dir) == NULL) {
        xf_log(XF_LOG_ERROR, "xf_sim: cannot make a state directory under %s", tmp);
        free(sim);
        return NULL;
    }
    sim->owner = true;
    sim->owner_pid = getpid();
    if (make_file(sim, "hv", 0, HV_FILE_SIZE) < 0 || map_hv(sim) < 0)
        goto fail;
    sim->hv->magic = SIM_MAGIC;
    sim->hv->version = SIM_VERSION;
    sim->hv->guest_domid = cfg.guest.domid;
    sim->hv->guest_console_io = cfg.guest_console_io;
    if (sync_init(sim->hv) < 0)
        goto fail;

    sim_lock(sim);
    rc = domain_create_locked(sim, &cfg.dom0, true);
    if (rc >= 0)
        rc = domain_create_locked(sim, &cfg.guest, false);
    if (rc >= 0 && !cfg.no_store_console)
        rc = build_store_console(sim, sim_find(sim, cfg.guest.domid));
    sim_unlock(sim);
    if (rc < 0)
        goto fail;

    if (xf_sim_default_ == NULL) {
        xf_sim_default_ = sim;
        xf_sim_default_domid_ = cfg.guest.domid;
    }
    return sim;

fail:
    xf_log(XF_LOG_ERROR, "xf_sim: cannot create the simulator in %s", sim->dir);
    xf_sim_destroy(sim);
    return NULL;
}

void xf_sim_destroy(struct xf_sim *sim)
{
    if (sim == NULL)
        return;
    if (!sim->owner || sim->owner_pid != getpid()) {
        xf_sim_detach(sim);
        return;
    }
    if (xf_sim_default_ == sim)
        xf_sim_default_ = NULL;
    if (sim->hv != NULL) {
        for (unsigned i = 0; i < XF_SIM_MAX_DOMAINS; i++) {
            if (sim->hv->doms[i].in_use) {
                remove_file(sim, "mem", sim->hv->doms[i].domid);
                remove_file(sim, "gnttab", sim->hv->doms[i].domid);
            }
        }
    }
    sim_unmap_all(sim);
    remove_file(sim, "hv", 0);
    rmdir(sim->dir);
    free(sim);
}

struct xf_sim *xf_sim_attach(const char *dir)
{
    struct xf_sim *sim;
    int n;

    if (dir == NULL)
        return NULL;
    sim = sim_alloc();
    if (sim == NULL)
        return NULL;
    n = snprintf(sim->dir, sizeof(sim->dir), "%s", dir);
    if (n < 0 || (size_t)n >= sizeof(sim->dir) - 64 || map_hv(sim) < 0 ||
        sim->hv->magic != SIM_MAGIC || sim->hv->version != SIM_VERSION) {
        xf_log(XF_LOG_ERROR, "xf_sim: cannot attach to %s", dir);
        sim_unmap_all(sim);
        free(sim);
        return NULL;
    }
    if (xf_sim_default_ == NULL) {
        xf_sim_default_ = sim;
        xf_sim_default_domid_ = sim->hv->guest_domid;
    }
    return sim;
}

void xf_sim_detach(struct xf_sim *sim)
{
    if (sim == NULL)
        return;
    if (xf_sim_default_ == sim)
        xf_sim_default_ = NULL;
    sim_unmap_all(sim);
    free(sim);
}

const char *xf_sim_dir(const struct xf_sim *sim)
{
    return sim->dir;
}

domid_t xf_sim_guest_domid(const struct xf_sim *sim)
{
    return sim->hv->guest_domid;
}

int xf_sim_domain_shutdown_reason(struct xf_sim *sim, domid_t domid)
{
    struct sim_dom *d;
    int r;

    sim_lock(sim);
    d = sim_find(sim, domid);
    r = d == NULL ? -XF_ESRCH : d->shutdown ? (int)d->shutdown_reason : -XF_ENODATA;
    sim_unlock(sim);
    return r;
}

uint64_t xf_sim_hvm_param(struct xf_sim *sim, domid_t domid, unsigned int index)
{
    struct sim_dom *d;
    uint64_t v = 0;

    sim_lock(sim);
    d = sim_find(sim, domid);
    if (d != NULL && index < HVM_NR_PARAMS)
        v = d->hvm_params[index];
    sim_unlock(sim);
    return v;
}

xen_pfn_t xf_sim_store_gfn(struct xf_sim *sim)
{
    return (xen_pfn_t)xf_sim_hvm_param(sim, sim->hv->guest_domid, HVM_PARAM_STORE_PFN);
}

evtchn_port_t xf_sim_store_port(struct xf_sim *sim)
{
    return (evtchn_port_t)xf_sim_hvm_param(sim, sim->hv->guest_domid, HVM_PARAM_STORE_EVTCHN);
}

xen_pfn_t xf_sim_console_gfn(struct xf_sim *sim)
{
    return (xen_pfn_t)xf_sim_hvm_param(sim, sim->hv->guest_domid, HVM_PARAM_CONSOLE_PFN);
}

evtchn_port_t xf_sim_console_port(struct xf_sim *sim)
{
    return (evtchn_port_t)xf_sim_hvm_param(sim, sim->hv->guest_domid, HVM_PARAM_CONSOLE_EVTCHN);
}
