/*
 * A minimal embedder of xenfront: it supplies the platform seam (here a
 * static page pool and hypercalls that are not available), uses the ring
 * layer, and links every driver library it names (their entry points are
 * referenced, so the link must resolve them through the installed archives
 * alone). Built by scripts/test.sh twice, through pkg-config after
 * `meson install` and as a meson subproject, to prove "pick and link".
 */
#include <stdio.h>
#include <string.h>
#include <xenfront/platform.h>
#include <xenfront/ring.h>
#include <xenfront/errno.h>
#include <xenfront/console.h>
#include <xenfront/evtchn.h>
#include <xenfront/gnttab.h>
#include <xenfront/xenbus.h>

struct req { uint32_t id, val; };
struct rsp { uint32_t id, val; };
DEFINE_RING_TYPES(demo, struct req, struct rsp);

static _Alignas(4096) unsigned char pool[4][4096];
static unsigned pool_used;

long xf_plat_event_channel_op(int cmd, void *arg) { (void)cmd; (void)arg; return -XF_ENOSYS; }
long xf_plat_grant_table_op(unsigned int cmd, void *uop, unsigned int count) { (void)cmd; (void)uop; (void)count; return -XF_ENOSYS; }
long xf_plat_memory_op(unsigned int cmd, void *arg) { (void)cmd; (void)arg; return -XF_ENOSYS; }
long xf_plat_hvm_op(unsigned int cmd, void *arg) { (void)cmd; (void)arg; return -XF_ENOSYS; }
long xf_plat_sched_op(int cmd, void *arg) { (void)cmd; (void)arg; return -XF_ENOSYS; }
long xf_plat_console_io(int cmd, unsigned int count, char *buf) { (void)cmd; (void)count; (void)buf; return -XF_EPERM; }
long xf_plat_xen_version(int cmd, void *arg) { (void)cmd; (void)arg; return -XF_ENOSYS; }
void *xf_plat_page_alloc(size_t n)
{
    if (n == 0 || pool_used + n > 4) return NULL;
    pool_used += (unsigned)n;
    return pool[pool_used - n];
}
void xf_plat_page_free(void *va, size_t n) { (void)va; (void)n; }
xen_pfn_t xf_plat_virt_to_gfn(const void *va) { return (xen_pfn_t)((uintptr_t)va >> 12); }
int xf_plat_foreign_range(void **va, xen_pfn_t *gfn, size_t *n) { (void)va; (void)gfn; (void)n; return -XF_ENOSYS; }
uint64_t xf_plat_now_ns(void) { return 0; }
int xf_plat_wait(uint64_t deadline) { (void)deadline; return -XF_ETIMEDOUT; }
/* A polling seam: no handler ever interrupts, so the critical section is empty. */
xf_irqflags_t xf_plat_irq_save(void) { return 0; }
void xf_plat_irq_restore(xf_irqflags_t flags) { (void)flags; }

/* Referenced, so that the linker must find each library's objects. */
typedef void (*entry_fn)(void);
static entry_fn const entry_points[] = {
    (entry_fn)xf_evtchn_create, (entry_fn)xf_gnttab_create, (entry_fn)xf_xenbus_create_ring,
    (entry_fn)xf_console_create,
};

int main(void)
{
    struct xf_front_ring f;
    struct xf_back_ring b;
    void *page = xf_plat_page_alloc(1);
    struct req q = { 7, 42 }, got;
    struct rsp s, out;

    if (xf_front_ring_init(&f, page, XF_PAGE_SIZE, XF_RING_SHAPE(demo)) != 0 ||
        xf_back_ring_init(&b, page, XF_PAGE_SIZE, XF_RING_SHAPE(demo)) != 0)
        return 1;
    if (xf_front_ring_put_request(&f, &q) != 0 || !xf_front_ring_push(&f))
        return 2;
    if (xf_back_ring_get_request(&b, &got) != 1 || got.val != 42)
        return 3;
    s.id = got.id;
    s.val = got.val + 1;
    if (xf_back_ring_put_response(&b, &s) != 0 || !xf_back_ring_push(&b))
        return 4;
    if (xf_front_ring_get_response(&f, &out) != 1 || out.id != 7 || out.val != 43)
        return 5;
    for (size_t i = 0; i < sizeof(entry_points) / sizeof(entry_points[0]); i++)
        if (entry_points[i] == NULL)
            return 6;
    printf("consumer: ring of %u entries, request answered, %zu libraries linked: ok\n",
           xf_front_ring_size(&f), sizeof(entry_points) / sizeof(entry_points[0]));
    return 0;
}
